/* auth: who is calling (authentication) and may they (authorization).
 *
 * Authentication: a client certificate verified against the cluster CA
 * (CN = user, O = groups), or a bearer token from the static token file
 * (--token-auth-file, CSV "token,user,uid,\"group1,group2\"" as upstream).
 * Authorization goes through one function pointer so RBAC can replace the
 * bootstrap rule later: members of system:masters may do everything, every
 * other identity is denied (403). */
#ifndef CN_AUTH_H
#define CN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/err.h"

typedef struct cn_user {
    char *name;
    char *uid;
    char **groups;      /* includes "system:authenticated" */
    size_t ngroups;
} cn_user;

void cn_user_release(cn_user *u);
bool cn_user_in_group(const cn_user *u, const char *group);

typedef struct cn_tokens cn_tokens;

/* Load a static token file; NULL path gives an empty table. */
int cn_tokens_load(const char *path, cn_tokens **out, cn_err *err);
void cn_tokens_free(cn_tokens *t);
/* Fill *u for a known token (constant-time compare); -ENOENT if unknown. */
int cn_tokens_lookup(const cn_tokens *t, const char *token, cn_user *u);

/* What a request wants to do, for the authorizer. */
typedef struct cn_authz_attrs {
    const char *verb;          /* get list watch create update patch delete deletecollection */
    const char *group, *version, *resource, *subresource, *ns, *name;
    const char *path;          /* for non-resource requests */
    bool resource_request;
} cn_authz_attrs;

/* Returns true if allowed; *reason (static) explains a denial. */
typedef bool (*cn_authorizer_fn)(void *ud, const cn_user *u, const cn_authz_attrs *a,
                                 const char **reason);

/* The bootstrap authorizer: system:masters allowed, others denied, except
 * discovery/health paths every authenticated user may read (as upstream's
 * system:discovery role). */
bool cn_authorize_bootstrap(void *ud, const cn_user *u, const cn_authz_attrs *a,
                            const char **reason);

#endif
