/* err: the error contract (docs/errors.md).
 * Functions return int: >= 0 success, negative errno on failure. Request
 * paths also fill a cn_err: the HTTP code, the Kubernetes reason and a
 * message, later rendered as a Status object by the API layer. A cn_err is
 * caller-owned storage; cn_err_clear releases what it holds. */
#ifndef CN_ERR_H
#define CN_ERR_H

#include <jansson.h>

typedef struct cn_err {
    int code;          /* HTTP status; 0 while no error is set */
    char reason[40];   /* Kubernetes StatusReason, e.g. "NotFound" */
    char *message;     /* owned */
    json_t *details;   /* owned; StatusDetails object or NULL */
} cn_err;

#define CN_ERR_INIT { 0, "", NULL, NULL }

/* Set (or replace) the error. Returns -code-ish errno (-EINVAL) so callers
 * can write `return cn_err_set(...)`. err may be NULL. */
int cn_err_set(cn_err *err, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record a details.causes[] entry (for 422 Invalid). */
void cn_err_add_cause(cn_err *err, const char *reason, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Set details.name/group/kind (kind = resource plural or Kind, see §11). */
void cn_err_set_details(cn_err *err, const char *name, const char *group, const char *kind);
/* Prefix the message with context: "ctx: old message". */
void cn_err_wrap(cn_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cn_err_clear(cn_err *err);
/* Move src into dst (dst cleared first, src left empty). */
void cn_err_move(cn_err *dst, cn_err *src);
/* New reference: a complete metav1 Status object for the error. */
json_t *cn_err_status(const cn_err *err);

/* Common shorthands. */
#define cn_err_bad_request(e, ...) cn_err_set((e), 400, "BadRequest", __VA_ARGS__)
#define cn_err_invalid(e, ...)     cn_err_set((e), 422, "Invalid", __VA_ARGS__)
#define cn_err_internal(e, ...)    cn_err_set((e), 500, "InternalError", __VA_ARGS__)

#endif
