/* validate-internal: what validate.c, validate_core.c, validate_apps.c,
 * validate_crd.c and defaults.c share. A cn_vctx collects field errors the
 * way upstream's field.ErrorList does; the current field path is kept in a
 * buffer that callers push onto and pop back to, so nested validators never
 * allocate path strings. */
#ifndef CN_VALIDATE_INTERNAL_H
#define CN_VALIDATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/quantity.h"
#include "lib/util.h"
#include "api/resource.h"
#include "api/validate.h"

/* Bounds on hostile input. */
#define CN_V_MAX_DEPTH 64            /* schema / object nesting we walk */
#define CN_V_MAX_CAUSES 256          /* further errors are dropped */

typedef struct cn_vctx {
    json_t *causes;      /* array of {reason, field, message}; owned */
    cn_buf path;         /* current field path, "" at the root */
    bool update;         /* validating an update (old object present) */
} cn_vctx;

void cn_v_init(cn_vctx *v, bool update);
void cn_v_release(cn_vctx *v);
static inline size_t cn_v_ncauses(const cn_vctx *v) { return json_array_size(v->causes); }

/* Path: push returns a mark to pop back to. */
size_t cn_v_push(cn_vctx *v, const char *child);      /* ".child" */
size_t cn_v_pushi(cn_vctx *v, size_t index);          /* "[3]" */
size_t cn_v_pushk(cn_vctx *v, const char *key);       /* "[key]" */
void cn_v_pop(cn_vctx *v, size_t mark);

/* Errors at path + ".child" (child NULL: the current path). Messages are
 * upstream's ErrorBody() texts. */
void cn_v_cause(cn_vctx *v, const char *reason, const char *child, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cn_v_required(cn_vctx *v, const char *child, const char *detail);
void cn_v_invalid(cn_vctx *v, const char *child, const json_t *val, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cn_v_invalid_str(cn_vctx *v, const char *child, const char *val, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cn_v_invalid_int(cn_vctx *v, const char *child, long long val, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* supported: NULL-terminated list. */
void cn_v_unsupported(cn_vctx *v, const char *child, const json_t *val, const char *const *supported);
void cn_v_duplicate(cn_vctx *v, const char *child, const json_t *val);
void cn_v_not_found(cn_vctx *v, const char *child, const json_t *val);
void cn_v_forbidden(cn_vctx *v, const char *child, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cn_v_immutable(cn_vctx *v, const char *child, const json_t *val);
/* Render a value the way field errors quote it: strings in double quotes,
 * numbers bare, objects/arrays as compact JSON. */
void cn_v_render(cn_buf *out, const json_t *val);

/* Typed accessors: the member or NULL when absent or null; a present
 * member of the wrong type records an Invalid cause and yields NULL. */
const json_t *cn_v_obj(cn_vctx *v, const json_t *parent, const char *key);
const json_t *cn_v_arr(cn_vctx *v, const json_t *parent, const char *key);
const char *cn_v_str(cn_vctx *v, const json_t *parent, const char *key);
bool cn_v_int(cn_vctx *v, const json_t *parent, const char *key, int64_t *out);
bool cn_v_bool(cn_vctx *v, const json_t *parent, const char *key, bool *out);
/* Quiet versions: no cause. */
const char *cn_v_sget(const json_t *parent, const char *key);

/* Checks recording causes at path + child. */
bool cn_v_in(const char *s, const char *const *set);
void cn_v_enum(cn_vctx *v, const json_t *parent, const char *key, bool required,
               const char *const *supported);
void cn_v_nonneg(cn_vctx *v, const json_t *parent, const char *key);
void cn_v_labels(cn_vctx *v, const json_t *labels);          /* at current path */
void cn_v_label_selector(cn_vctx *v, const json_t *sel);     /* at current path */
bool cn_v_selector_matches(const json_t *sel, const json_t *labels);
void cn_v_dns_label_field(cn_vctx *v, const char *child, const char *s);
void cn_v_dns_subdomain_field(cn_vctx *v, const char *child, const char *s);
void cn_v_qualified_name_field(cn_vctx *v, const char *child, const char *s);
/* Port number 1..65535 (present members only). */
void cn_v_port(cn_vctx *v, const json_t *parent, const char *key, bool required);
const char *cn_check_iana_svc_name(const char *s);
const char *cn_check_qualified_name(const char *s);
const char *cn_check_dns1035_label(const char *s);
/* Immutable member: old and new must be json_equal (absent == null). */
void cn_v_same(cn_vctx *v, const json_t *obj, const json_t *old, const char *key);

/* A resource map (requests/limits/capacity/hard): every value a quantity.
 * nonneg: negative values are invalid. */
void cn_v_resource_list(cn_vctx *v, const json_t *list, bool nonneg);
extern const char cn_quantity_regex_msg[];

/* Per-kind validators: path starts at the object root. */
typedef void (*cn_kind_validator)(cn_vctx *v, const json_t *obj, const json_t *old);

/* Pod specs, shared with workload templates. restart: the restartPolicy
 * values the owner allows (NULL: all). */
void cn_v_pod_spec(cn_vctx *v, const json_t *spec, const json_t *old_spec,
                   const char *const *restart);
void cn_v_pod_template(cn_vctx *v, const json_t *tmpl, const char *const *restart);

cn_kind_validator cn_v_core_validator(const char *kind);
cn_kind_validator cn_v_apps_validator(const char *group, const char *kind);
void cn_v_crd(cn_vctx *v, const json_t *obj, const json_t *old);
void cn_v_custom(cn_vctx *v, const cn_resource *res, const json_t *obj);
/* Job spec (Job and CronJob jobTemplate) at the current path. */
void cn_v_job_spec(cn_vctx *v, const json_t *spec, bool in_cronjob);

/* The CRD version's openAPIV3Schema, or NULL. */
const json_t *cn_v_crd_schema(const cn_resource *res);
/* Custom resource unknown fields / pruning (validate_crd.c). */
void cn_v_custom_unknown(const cn_resource *res, const json_t *obj, json_t *unknown);

/* Apply the CRD schema's `default` values to a custom resource. */
void cn_v_custom_defaults(const cn_resource *res, json_t *obj);

/* Pod-spec defaults, shared with every pod template (defaults.c). */
void cn_defaults_pod_spec(json_t *spec);

#endif
