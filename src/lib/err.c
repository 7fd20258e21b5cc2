/* err: cn_err, the request-path error object, and its Status rendering. */
#include "lib/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

int cn_err_set(cn_err *err, int code, const char *reason, const char *fmt, ...)
{
    if (!err) return -EINVAL;
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    free(err->message);
    err->message = msg;
    err->code = code;
    snprintf(err->reason, sizeof err->reason, "%s", reason ? reason : "");
    return -EINVAL;
}

static json_t *details(cn_err *err)
{
    if (!err->details) err->details = json_object();
    return err->details;
}

void cn_err_add_cause(cn_err *err, const char *reason, const char *field, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    json_t *d = details(err);
    json_t *causes = json_object_get(d, "causes");
    if (!causes) {
        causes = json_array();
        json_object_set_new(d, "causes", causes);
    }
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string(reason));
    json_object_set_new(c, "message", json_string(msg));
    if (field) json_object_set_new(c, "field", json_string(field));
    json_array_append_new(causes, c);
    free(msg);
}

void cn_err_set_details(cn_err *err, const char *name, const char *group, const char *kind)
{
    if (!err) return;
    json_t *d = details(err);
    if (name) json_object_set_new(d, "name", json_string(name));
    if (group && *group) json_object_set_new(d, "group", json_string(group));
    if (kind) json_object_set_new(d, "kind", json_string(kind));
}

void cn_err_wrap(cn_err *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = cn_vasprintf(fmt, ap);
    va_end(ap);
    char *msg = cn_asprintf("%s: %s", ctx, err->message ? err->message : "");
    free(ctx);
    free(err->message);
    err->message = msg;
}

void cn_err_clear(cn_err *err)
{
    if (!err) return;
    free(err->message);
    json_decref(err->details);
    err->message = NULL;
    err->details = NULL;
    err->code = 0;
    err->reason[0] = '\0';
}

void cn_err_move(cn_err *dst, cn_err *src)
{
    cn_err_clear(dst);
    *dst = *src;
    src->message = NULL;
    src->details = NULL;
    src->code = 0;
    src->reason[0] = '\0';
}

json_t *cn_err_status(const cn_err *err)
{
    json_t *st = json_object();
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status", json_string("Failure"));
    json_object_set_new(st, "message", json_string(err->message ? err->message : ""));
    if (err->reason[0]) json_object_set_new(st, "reason", json_string(err->reason));
    if (err->details) json_object_set(st, "details", err->details);
    json_object_set_new(st, "code", json_integer(err->code ? err->code : 500));
    return st;
}
