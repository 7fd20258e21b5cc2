/* objects: helpers on API objects shared by the REST verbs and the
 * controllers: storage keys, (de)serialisation with resourceVersion
 * stamping, body decoding by content type, and Kubernetes-shaped errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pb.h"
#include "api/schema.h"
#include "api/rest-internal.h"
#include "lib/util.h"
#include "lib/yaml.h"

char *cn_obj_key(const cn_resource *res, const char *ns, const char *name)
{
    char *prefix = cn_resource_key_prefix(res);
    char *key;
    if (res->namespaced)
        key = cn_asprintf("%s%s/%s", prefix, ns ? ns : "", name ? name : "");
    else
        key = cn_asprintf("%s%s", prefix, name ? name : "");
    free(prefix);
    return key;
}

json_t *cn_obj_meta(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    return m;
}

json_t *cn_obj_from_store(const char *value, size_t len, int64_t rev, cn_err *err)
{
    json_error_t je;
    json_t *o = json_loadb(value, len, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        cn_err_internal(err, "stored object is corrupt: %s", je.text);
        return NULL;
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(cn_obj_meta(o), "resourceVersion", json_string(rv));
    return o;
}

char *cn_obj_to_store(const json_t *obj, size_t *len)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *rv = json_object_get(meta, "resourceVersion");
    char *s;
    if (rv) {
        json_incref(rv);
        json_object_del(meta, "resourceVersion");
        s = json_dumps(obj, JSON_COMPACT);
        json_object_set_new(meta, "resourceVersion", rv);
    } else {
        s = json_dumps(obj, JSON_COMPACT);
    }
    if (len) *len = strlen(s);
    return s;
}

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

const char *cn_obj_name(const json_t *obj) { return meta_str(obj, "name"); }
const char *cn_obj_namespace(const json_t *obj) { return meta_str(obj, "namespace"); }

bool cn_obj_deleting(const json_t *obj)
{
    json_t *d = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");
    return d && !json_is_null(d);
}

static bool ctype_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int cn_obj_decode_body(cn_reqctx *c, json_t **out, cn_err *err)
{
    size_t len;
    const char *body = cn_http_body(c->http, &len);
    const char *ct = cn_http_header(c->http, "Content-Type");
    json_t *o = NULL;
    *out = NULL;
    if (len == 0)
        return cn_err_bad_request(err, "the request body is empty: an object is required");
    if (ctype_is(ct, "application/vnd.kubernetes.protobuf")) {
        int r = cn_pb_decode((const uint8_t *)body, len, &o, err);
        if (r < 0) return r;
    } else if (ctype_is(ct, "application/yaml") || ctype_is(ct, "application/apply-patch+yaml")) {
        int r = cn_yaml_parse(body, len, &o, err);
        if (r < 0) return r;
    } else if (!ct || ctype_is(ct, "application/json") || ctype_is(ct, "*/*")) {
        json_error_t je;
        o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (!o && strstr(je.text, "duplicate")) {
            if (c->q.field_validation == CN_FV_STRICT)
                return cn_err_bad_request(err, "strict decoding error: json: %s", je.text);
            o = json_loadb(body, len, 0, &je);
            if (o && c->q.field_validation != CN_FV_IGNORE) {
                if (!c->warnings) c->warnings = json_array();
                json_array_append_new(c->warnings, json_string(je.text[0] ? je.text : "duplicate field"));
            }
        }
        if (!o)
            return cn_err_bad_request(err, "the request body is not valid JSON: %s (line %d, column %d)",
                                      je.text, je.line, je.column);
    } else {
        return cn_err_set(err, 415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return cn_err_bad_request(err, "the request body must be a JSON object");
    }
    *out = o;
    return 0;
}

bool cn_obj_spec_equal(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status")) continue;
        json_t *w = json_object_get(b, k);
        if (!w || !json_equal(v, w)) return false;
    }
    json_object_foreach((json_t *)b, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status")) continue;
        if (!json_object_get(a, k)) return false;
    }
    return true;
}

char *cn_obj_generate_name(const char *prefix)
{
    /* The alphabet upstream uses: no vowels, no look-alikes. */
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    uint8_t rnd[5];
    cn_random(rnd, sizeof rnd);
    size_t pl = strlen(prefix);
    if (pl > 58) pl = 58;   /* keep the result within 63 characters */
    char *s = cn_malloc(pl + 6);
    memcpy(s, prefix, pl);
    for (int i = 0; i < 5; i++) s[pl + (size_t)i] = alpha[rnd[i] % (sizeof alpha - 1)];
    s[pl + 5] = '\0';
    return s;
}

static const char *res_qualified(const cn_resource *res, char *buf, size_t n)
{
    if (res->group[0]) snprintf(buf, n, "%s.%s", res->plural, res->group);
    else snprintf(buf, n, "%s", res->plural);
    return buf;
}

void cn_err_not_found(cn_err *err, const cn_resource *res, const char *name)
{
    char q[256];
    cn_err_set(err, 404, "NotFound", "%s \"%s\" not found", res_qualified(res, q, sizeof q), name);
    cn_err_set_details(err, name, res->group, res->plural);
}

void cn_err_already_exists(cn_err *err, const cn_resource *res, const char *name)
{
    char q[256];
    cn_err_set(err, 409, "AlreadyExists", "%s \"%s\" already exists", res_qualified(res, q, sizeof q), name);
    cn_err_set_details(err, name, res->group, res->plural);
}

void cn_err_conflict(cn_err *err, const cn_resource *res, const char *name)
{
    char q[256];
    cn_err_set(err, 409, "Conflict",
               "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply your changes to the latest version and try again",
               res_qualified(res, q, sizeof q), name);
    cn_err_set_details(err, name, res->group, res->plural);
}

int cn_obj_get(cn_apiserver *s, const cn_resource *res, const char *ns, const char *name,
               json_t **out, int64_t *rev, cn_err *err)
{
    char *key = cn_obj_key(res, ns, name);
    cn_kv kv = { 0 };
    cn_err serr = CN_ERR_INIT;
    int r = cn_store_get(s->store, key, &kv, &serr);
    free(key);
    if (r == -ENOENT) {
        cn_err_clear(&serr);
        cn_err_not_found(err, res, name);
        return r;
    }
    if (r < 0) {
        cn_err_move(err, &serr);
        return r;
    }
    *out = cn_obj_from_store(kv.value, kv.value_len, kv.mod_rev, err);
    if (rev) *rev = kv.mod_rev;
    cn_kv_release(&kv);
    return *out ? 0 : -EIO;
}

int cn_obj_foreach(cn_apiserver *s, const char *prefix, int (*fn)(void *ud, const cn_kv *kv),
                   void *ud, cn_err *err)
{
    char *after = NULL;
    int r = 0;
    for (;;) {
        cn_kv_list page = { 0 };
        bool more = false;
        int64_t rev;
        r = cn_store_list(s->store, prefix, after, 500, &page, &rev, &more, err);
        if (r < 0) break;
        for (size_t i = 0; i < page.n && r >= 0; i++) r = fn(ud, &page.items[i]);
        free(after);
        after = page.n ? cn_strdup(page.items[page.n - 1].key) : NULL;
        cn_kv_list_release(&page);
        if (r < 0 || !more || !after) break;
    }
    free(after);
    return r < 0 ? r : 0;
}

/* Go's encoding/json drops nil pointers and empty maps and slices
 * (omitempty) when the typed server writes an object back; a JSON model
 * must do the same or a patch that empties a map ("labels": {"a": null})
 * would leave "labels": {} behind and turn a no-op into a change. */
static void normalize_message(const cn_message *m, json_t *obj, int depth)
{
    const char *k;
    json_t *v;
    void *tmp;
    if (depth > 64 || !json_is_object(obj)) return;
    json_object_foreach_safe(obj, tmp, k, v) {
        if (json_is_null(v)) {
            json_object_del(obj, k);
            continue;
        }
        const cn_field *f = cn_schema_field(m, k);
        if (!f) continue;
        if ((f->repeated && json_is_array(v) && json_array_size(v) == 0) ||
            (f->type == CN_T_MAP && json_is_object(v) && json_object_size(v) == 0)) {
            json_object_del(obj, k);
            continue;
        }
        if (!f->msg || f->type == CN_T_RAW) continue;
        if (f->type == CN_T_MAP && f->elem == CN_T_MESSAGE) {
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) normalize_message(f->msg, mv, depth + 1);
        } else if (f->type == CN_T_MESSAGE && f->repeated) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) normalize_message(f->msg, item, depth + 1);
        } else if (f->type == CN_T_MESSAGE) {
            normalize_message(f->msg, v, depth + 1);
        }
    }
}

void cn_obj_normalize(const cn_resource *res, json_t *obj)
{
    const cn_message *m = cn_schema_for_kind(res->group, res->version, res->kind);
    if (m) {
        normalize_message(m, obj, 0);
        return;
    }
    /* Custom resources: only metadata has a known shape. */
    json_t *meta = json_object_get(obj, "metadata");
    if (json_is_object(meta)) normalize_message(cn_schema_object_meta(), meta, 0);
}
