/* admission: the chain every write passes after decoding and defaulting,
 * before validation (mutating plugins) and after it (validating plugins),
 * as upstream's admission controllers. Empty for now: policy, Pod Security
 * Admission and quotas plug in here in later issues. */
#ifndef CN_ADMISSION_H
#define CN_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "api/auth.h"
#include "api/resource.h"
#include "lib/err.h"

typedef enum cn_admit_op { CN_ADMIT_CREATE, CN_ADMIT_UPDATE, CN_ADMIT_DELETE } cn_admit_op;

typedef struct cn_admit_attrs {
    cn_admit_op op;
    const cn_resource *res;
    const char *sub;          /* subresource or NULL */
    const char *ns, *name;
    const cn_user *user;
    bool dry_run;
    const json_t *old;        /* NULL on create */
} cn_admit_attrs;

/* Mutating plugins may change obj; validating ones must not. Return < 0 and
 * fill err (usually 403 Forbidden or 422 Invalid) to refuse. */
typedef int (*cn_admit_fn)(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err);

typedef struct cn_admission cn_admission;

cn_admission *cn_admission_new(void);
void cn_admission_free(cn_admission *ch);
void cn_admission_add(cn_admission *ch, bool mutating, const char *name, cn_admit_fn fn, void *ud);
int cn_admission_mutate(cn_admission *ch, const cn_admit_attrs *a, json_t *obj, cn_err *err);
int cn_admission_validate(cn_admission *ch, const cn_admit_attrs *a, json_t *obj, cn_err *err);

/* DefaultTolerationSeconds (admit_tolerations.c): pods get NoExecute
 * tolerations of the not-ready / unreachable node taints for this many
 * seconds unless they tolerate them already. */
void cn_admit_default_tolerations(cn_admission *ch, int64_t not_ready_s, int64_t unreachable_s);

#endif
