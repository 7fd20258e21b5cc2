/* rest: the write verbs (create, update, patch, delete, deletecollection)
 * and the write path they share. Reads, lists and watches are in
 * rest_read.c; subresources and reviews in rest_sub.c.
 *
 * Every write: decode -> type/name/namespace checks -> unknown-field check
 * (fieldValidation) -> defaulting -> mutating admission -> validation ->
 * validating admission -> revisioned store write (optimistic concurrency on
 * the stored mod revision; retried when the client gave no
 * resourceVersion) -> response. A write that changes nothing is not written,
 * so resourceVersion stays as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/schema.h"
#include "api/ssa.h"
#include "api/validate.h"
#include "api/nscache.h"
#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/yaml.h"

#define MAX_WRITE_RETRIES 8

void cn_rest_reply(cn_reqctx *c, int code, json_t *json)
{
    size_t i;
    json_t *w;
    json_array_foreach(c->warnings, i, w) {
        char *h = cn_asprintf("299 - \"%s\"", json_string_value(w));
        for (char *p = h + 7; *p && p[1]; p++)
            if (*p == '"' || *p == '\n') *p = '\'';
        cn_http_add_header(c->http, "Warning", h);
        free(h);
    }
    char *body = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    size_t len = strlen(body);
    cn_http_respond(c->http, code, "application/json", body, len);
    free(body);
}

void cn_rest_reply_err(cn_reqctx *c, cn_err *err)
{
    if (!err->code) cn_err_internal(err, "%s", err->message ? err->message : "internal error");
    if (err->code >= 500)
        cn_warn("%s %s: %d %s", c->method, cn_http_path(c->http), err->code, err->message);
    cn_rest_reply(c, err->code, cn_err_status(err));
    cn_err_clear(err);
}

static bool is_crd(const cn_resource *res)
{
    return !strcmp(res->group, "apiextensions.k8s.io") && !strcmp(res->kind, "CustomResourceDefinition");
}

static bool is_service(const cn_resource *res)
{
    return !res->group[0] && !strcmp(res->kind, "Service");
}

static void warn(cn_reqctx *c, const char *msg)
{
    if (!c->warnings) c->warnings = json_array();
    json_array_append_new(c->warnings, json_string(msg));
}

/* How a write treats metadata.managedFields: track the fields it sets (an
 * Update entry for its manager), or keep what server-side apply computed. */
enum mf_mode { MF_TRACK, MF_KEEP };

/* The field-ownership view of this request. *mgr_free is what the caller
 * frees (the manager derived from the User-Agent, else NULL). */
static void ssa_opts(const cn_reqctx *c, const cn_resource *res, cn_ssa_opts *o, char **mgr_free)
{
    memset(o, 0, sizeof *o);
    *mgr_free = NULL;
    if (c->q.field_manager && *c->q.field_manager) {
        o->manager = c->q.field_manager;
    } else {
        *mgr_free = cn_ssa_manager_from_user_agent(c->http ? cn_http_header(c->http, "User-Agent") : NULL);
        o->manager = *mgr_free;
    }
    o->api_version = cn_resource_api_version(res);
    bool st = c->sub && !strcmp(c->sub, "status");
    if (st || (c->sub && !strcmp(c->sub, "scale"))) o->subresource = c->sub;
    o->schema = cn_schema_for_kind(res->group, res->version, res->kind);
    if (!o->schema && res->crd_version)
        o->cr_schema = json_object_get(json_object_get(res->crd_version, "schema"), "openAPIV3Schema");
    o->scope = st ? CN_SSA_STATUS : (res->flags & CN_RES_STATUS) ? CN_SSA_MAIN : CN_SSA_ALL;
    o->force = c->q.force;
}

/* managedFields a client sent, if any (new reference, NULL if absent or
 * null); junk is 400. */
static int given_managed_fields(const json_t *obj, json_t **out, cn_err *err)
{
    json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    *out = NULL;
    if (!mf || json_is_null(mf)) return 0;
    if (cn_ssa_check_managed_fields(mf, err) < 0) return -EINVAL;
    *out = json_incref(mf);
    return 0;
}

/* apiVersion/kind of a body must name this resource; missing ones are filled. */
static int check_type(cn_reqctx *c, const cn_resource *res, json_t *obj, cn_err *err)
{
    const char *want_av = cn_resource_api_version(res);
    json_t *av = json_object_get(obj, "apiVersion"), *kind = json_object_get(obj, "kind");
    if (av && !json_is_string(av)) return cn_err_bad_request(err, "apiVersion must be a string");
    if (kind && !json_is_string(kind)) return cn_err_bad_request(err, "kind must be a string");
    const char *a = json_string_value(av), *k = json_string_value(kind);
    if (a && *a && strcmp(a, want_av))
        return cn_err_bad_request(err, "the API version in the data (%s) does not match the expected API version (%s)", a, want_av);
    if (k && *k && strcmp(k, res->kind))
        return cn_err_bad_request(err, "the kind in the data (%s) does not match the expected kind (%s)", k, res->kind);
    json_object_set_new(obj, "apiVersion", json_string(want_av));
    json_object_set_new(obj, "kind", json_string(res->kind));
    json_t *meta = json_object_get(obj, "metadata");
    if (meta && !json_is_object(meta) && !json_is_null(meta))
        return cn_err_bad_request(err, "metadata must be an object");
    meta = cn_obj_meta(obj);
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if (res->namespaced) {
        if (ns && *ns && c->ns && strcmp(ns, c->ns))
            return cn_err_bad_request(err, "the namespace of the provided object does not match the namespace sent on the request");
        if (c->ns) json_object_set_new(meta, "namespace", json_string(c->ns));
    } else {
        json_object_del(meta, "namespace");
    }
    return 0;
}

/* fieldValidation: Strict refuses unknown fields, Warn (the default) and
 * Ignore accept them (Warn says so in a Warning header). */
static int check_fields(cn_reqctx *c, const cn_resource *res, json_t *obj, cn_err *err)
{
    bool custom = res->flags & CN_RES_CUSTOM;
    json_t *unknown = NULL;
    int r = 0;
    size_t i;
    json_t *p;
    /* Custom resources are only checked under Strict; otherwise pruned. */
    bool check = custom ? c->q.field_validation == CN_FV_STRICT
                        : c->q.field_validation != CN_FV_IGNORE;
    if (check && cn_unknown_fields(res, obj, &unknown) == 0 && json_array_size(unknown)) {
        if (c->q.field_validation == CN_FV_STRICT) {
            cn_buf m;
            cn_buf_init(&m);
            json_array_foreach(unknown, i, p)
                cn_buf_addf(&m, "%sunknown field \"%s\"", i ? ", " : "", json_string_value(p));
            r = cn_err_bad_request(err, "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
                                   res->kind, cn_resource_api_version(res), res->kind, m.data);
            cn_buf_release(&m);
        } else {
            /* Warn: accepted as sent (built-in kinds keep the fields). */
            json_array_foreach(unknown, i, p) {
                char *w = cn_asprintf("unknown field \"%s\"", json_string_value(p));
                warn(c, w);
                free(w);
            }
        }
    }
    json_decref(unknown);
    if (r == 0 && custom) cn_prune_custom(res, obj);
    return r;
}

/* Status a new object starts with (upstream's PrepareForCreate). */
static void initial_status(const cn_resource *res, json_t *obj)
{
    if (!(res->flags & CN_RES_STATUS)) return;
    const char *k = res->kind;
    if (!res->group[0] && !strcmp(k, "Node")) return;
    if (!strcmp(k, "CustomResourceDefinition")) return;
    json_t *st = json_object();
    if (!res->group[0]) {
        if (!strcmp(k, "Pod")) {
            json_object_set_new(st, "phase", json_string("Pending"));
            json_object_set_new(st, "qosClass", json_string("BestEffort"));
        } else if (!strcmp(k, "Namespace")) {
            json_object_set_new(st, "phase", json_string("Active"));
            /* Upstream labels every namespace with its own name. */
            json_t *meta = cn_obj_meta(obj), *labels = json_object_get(meta, "labels");
            if (!json_is_object(labels)) {
                labels = json_object();
                json_object_set_new(meta, "labels", labels);
            }
            json_object_set(labels, "kubernetes.io/metadata.name", json_object_get(meta, "name"));
        } else if (!strcmp(k, "PersistentVolumeClaim") || !strcmp(k, "PersistentVolume")) {
            json_object_set_new(st, "phase", json_string("Pending"));
        } else if (!strcmp(k, "Service")) {
            json_object_set_new(st, "loadBalancer", json_object());
        }
    }
    json_object_set_new(obj, "status", st);
}

static int check_namespace(cn_reqctx *c, const cn_resource *res, const char *name, cn_err *err)
{
    if (!res->namespaced) return 0;
    /* Known active: skip the store read (an etcd round trip per create). */
    if (c->srv->nscache && cn_nscache_active(c->srv->nscache, c->ns)) return 0;
    const cn_resource *nsr = cn_registry_lookup(c->srv->reg, "", "v1", "namespaces");
    json_t *ns = NULL;
    int64_t rev = 0;
    int r = cn_obj_get(c->srv, nsr, NULL, c->ns, &ns, &rev, err);
    if (r < 0) return r;
    if (c->srv->nscache) cn_nscache_note(c->srv->nscache, c->ns, rev, cn_obj_deleting(ns));
    if (cn_obj_deleting(ns)) {
        json_decref(ns);
        cn_err_set(err, 403, "Forbidden",
                   "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is being terminated",
                   res->plural, name ? name : "", c->ns);
        cn_err_add_cause(err, "NamespaceTerminating", NULL, "namespace %s is being terminated", c->ns);
        return -EPERM;
    }
    json_decref(ns);
    return 0;
}

static void stamp_new_meta(const cn_resource *res, json_t *obj)
{
    json_t *meta = cn_obj_meta(obj);
    char uid[37], ts[32];
    cn_uuid(uid);
    cn_time_rfc3339(cn_wall_s(), ts);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "creationTimestamp", json_string(ts));
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "selfLink");
    json_object_del(meta, "managedFields");
    if (!(res->flags & CN_RES_NO_SPEC_GENERATION)) json_object_set_new(meta, "generation", json_integer(1));
    else json_object_del(meta, "generation");
}

/* Fill metadata.name from generateName; true when it did. */
static bool ensure_name(json_t *obj)
{
    json_t *meta = cn_obj_meta(obj);
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    if ((!name || !*name) && gen && *gen) {
        char *n = cn_obj_generate_name(gen);
        json_object_set_new(meta, "name", json_string(n));
        free(n);
        return true;
    }
    return false;
}

/* A generated name that is taken is generated again, as upstream's
 * RetryGenerateName (on by default since 1.31) does: 5 random characters
 * collide now and then among thousands of objects. */
#define GENERATE_NAME_ATTEMPTS 8

/* *atx: the Service allocation to finish once the write is done (or not). */
static int validate_and_admit(cn_reqctx *c, const cn_resource *res, json_t *obj, const json_t *old,
                              cn_alloc_txn **atx, cn_err *err)
{
    cn_admit_attrs aa = {
        .op = old ? CN_ADMIT_UPDATE : CN_ADMIT_CREATE, .res = res, .sub = c->sub,
        .ns = c->ns, .name = cn_obj_name(obj), .user = &c->user, .dry_run = c->q.dry_run, .old = old,
    };
    cn_obj_normalize(res, obj);
    cn_defaults_apply(res, obj);
    int r = cn_admission_mutate(c->srv->admission, &aa, obj, err);
    if (r < 0) return r;
    if (is_service(res) && !(c->sub && !strcmp(c->sub, "status"))) {
        r = cn_alloc_service(c->srv, obj, old, c->q.dry_run, atx, err);
        if (r < 0) return r;
    }
    r = cn_validate(res, obj, old, err);
    if (r < 0) return r;
    return cn_admission_validate(c->srv->admission, &aa, obj, err);
}

static int write_create(cn_reqctx *c, const cn_resource *res, json_t *obj, enum mf_mode mode,
                        json_t **out, cn_err *err)
{
    int r;
    char *key = NULL, *val = NULL, *mgr = NULL;
    json_t *given = NULL;
    cn_alloc_txn *atx = NULL;
    *out = NULL;
    bool generated = ensure_name(obj);
    const char *name = cn_obj_name(obj);
    r = given_managed_fields(obj, &given, err);
    if (r < 0) goto done;
    r = check_fields(c, res, obj, err);
    if (r < 0) goto done;
    r = check_namespace(c, res, name, err);
    if (r < 0) goto done;
    stamp_new_meta(res, obj);
    initial_status(res, obj);
    r = validate_and_admit(c, res, obj, NULL, &atx, err);
    if (r < 0) goto done;
    name = cn_obj_name(obj);
    if (mode == MF_KEEP || given) {
        /* Server-side apply's entries, or the client's own (resetting ownership). */
        if (json_array_size(given)) json_object_set(cn_obj_meta(obj), "managedFields", given);
    } else {
        cn_ssa_opts o;
        ssa_opts(c, res, &o, &mgr);
        r = cn_ssa_track_update(NULL, obj, &o, err);
        if (r < 0) goto done;
    }
    if (is_crd(res)) cn_ctl_crd_written(c->srv, obj);
    if (c->q.dry_run) {
        *out = json_incref(obj);
        goto done;
    }
    int64_t rev;
    cn_err serr = CN_ERR_INIT;
    /* Not for Services: their IP/port claims already name this one. */
    for (int attempt = 1;; attempt++) {
        key = cn_obj_key(res, c->ns, name);
        size_t len;
        val = cn_obj_to_store(obj, &len);
        r = cn_store_create(c->srv->store, key, val, len, &rev, &serr);
        if (r != -EEXIST || !generated || is_service(res) || attempt == GENERATE_NAME_ATTEMPTS) break;
        cn_err_clear(&serr);
        free(key);
        free(val);
        json_t *meta = cn_obj_meta(obj);
        json_object_del(meta, "name");
        ensure_name(obj);
        name = cn_obj_name(obj);
    }
    if (r == -EEXIST) {
        cn_err_clear(&serr);
        cn_err_already_exists(err, res, name);
        goto done;
    }
    if (r < 0) {
        cn_err_move(err, &serr);
        goto done;
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(cn_obj_meta(obj), "resourceVersion", json_string(rv));
    if (is_crd(res)) cn_registry_put_crd(c->srv->reg, obj, NULL);
    *out = json_incref(obj);
done:
    cn_alloc_finish(c->srv, atx, r >= 0);
    free(key);
    free(val);
    free(mgr);
    json_decref(given);
    json_decref(obj);
    return r;
}

int cn_rest_write_create(cn_reqctx *c, const cn_resource *res, json_t *obj, json_t **out, cn_err *err)
{
    return write_create(c, res, obj, MF_TRACK, out, err);
}

void cn_rest_create(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *obj = NULL, *out = NULL;
    if (cn_obj_decode_body(c, &obj, &e) < 0 || check_type(c, c->res, obj, &e) < 0) {
        json_decref(obj);
        cn_rest_reply_err(c, &e);
        goto done;
    }
    if (cn_rest_write_create(c, c->res, obj, &out, &e) < 0) {
        cn_rest_reply_err(c, &e);
        goto done;
    }
    cn_rest_reply(c, 201, out);
done:
    cn_err_clear(&e);
}

static void copy_member(json_t *dst, const json_t *src, const char *k)
{
    json_t *v = json_object_get(src, k);
    if (v) json_object_set_new(dst, k, json_deep_copy(v));
    else json_object_del(dst, k);
}


/* Fields the server allocated stay when an update leaves them out (as
 * upstream: `kubectl replace` of a Service without clusterIP keeps it). */
static void keep_allocated(const cn_resource *res, json_t *nobj, const json_t *old)
{
    if (res->group[0] || strcmp(res->kind, "Service")) return;
    json_t *ns = json_object_get(nobj, "spec"), *os = json_object_get(old, "spec");
    if (!json_is_object(ns) || !json_is_object(os)) return;
    static const char *const keys[] = { "clusterIP", "clusterIPs", NULL };
    for (int i = 0; keys[i]; i++) {
        json_t *nv = json_object_get(ns, keys[i]), *ov = json_object_get(os, keys[i]);
        bool empty = !nv || json_is_null(nv) || (json_is_string(nv) && !*json_string_value(nv)) ||
                     (json_is_array(nv) && json_array_size(nv) == 0);
        if (empty && ov) json_object_set(ns, keys[i], ov);
    }
}

static int write_update(cn_reqctx *c, const cn_resource *res, json_t *obj, json_t *old,
                        int64_t old_rev, bool status_only, enum mf_mode mode, json_t **out, cn_err *err)
{
    int r = 0;
    char *key = NULL, *val = NULL, *mgr = NULL;
    json_t *nobj = NULL, *given = NULL;
    cn_alloc_txn *atx = NULL;
    *out = NULL;
    r = given_managed_fields(obj, &given, err);
    if (r < 0) {
        json_decref(obj);
        return r;
    }
    if (status_only) {
        nobj = json_deep_copy(old);
        copy_member(nobj, obj, "status");
        json_decref(obj);
    } else {
        nobj = obj;
        r = check_fields(c, res, nobj, err);
        if (r < 0) goto done;
        if (res->flags & CN_RES_STATUS) copy_member(nobj, old, "status");
    }
    json_t *meta = cn_obj_meta(nobj), *ometa = json_object_get(old, "metadata");
    static const char *const keep[] = { "name", "namespace", "uid", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "generation", NULL };
    for (int i = 0; keep[i]; i++) copy_member(meta, ometa, keep[i]);
    json_object_del(meta, "managedFields");
    json_object_del(meta, "selfLink");
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%lld", (long long)old_rev);
    json_object_set_new(meta, "resourceVersion", json_string(rvs));

    keep_allocated(res, nobj, old);
    r = validate_and_admit(c, res, nobj, old, &atx, err);
    if (r < 0) goto done;
    if (is_crd(res) && !status_only) cn_ctl_crd_written(c->srv, nobj);
    if (!(res->flags & CN_RES_NO_SPEC_GENERATION) && !cn_obj_spec_equal(nobj, old)) {
        json_int_t g = json_integer_value(json_object_get(ometa, "generation"));
        json_object_set_new(meta, "generation", json_integer(g + 1));
    }
    json_t *omf = json_object_get(ometa, "managedFields");
    if (mode == MF_KEEP && cn_ssa_same_ignoring_managed(nobj, old) && cn_ssa_same_entries(given, omf)) {
        /* An apply that, once defaulted, changes nothing: stay a no-op. */
        if (omf) json_object_set_new(meta, "managedFields", json_deep_copy(omf));
    } else if (mode == MF_KEEP || (given && !cn_json_equal(given, omf))) {
        /* Server-side apply's entries, or the client resetting ownership. */
        if (json_array_size(given)) json_object_set(meta, "managedFields", given);
    } else if (cn_ssa_same_ignoring_managed(nobj, old)) {
        if (omf) json_object_set_new(meta, "managedFields", json_deep_copy(omf));
    } else {
        cn_ssa_opts o;
        ssa_opts(c, res, &o, &mgr);
        r = cn_ssa_track_update(old, nobj, &o, err);
        if (r < 0) goto done;
    }
    key = cn_obj_key(res, cn_obj_namespace(old), cn_obj_name(old));
    /* Finalizers all gone on an object being deleted: the delete completes. */
    json_t *fin = json_object_get(meta, "finalizers");
    if (cn_obj_deleting(nobj) && json_array_size(fin) == 0) {
        if (c->q.dry_run) {
            *out = json_incref(nobj);
            goto done;
        }
        cn_err serr = CN_ERR_INIT;
        r = cn_store_delete(c->srv->store, key, old_rev, NULL, NULL, &serr);
        if (r == -ESTALE) cn_err_conflict(err, res, cn_obj_name(old));
        else if (r == -ENOENT) cn_err_not_found(err, res, cn_obj_name(old));
        if (r < 0) {
            if (!err->code) cn_err_move(err, &serr);
            cn_err_clear(&serr);
            goto done;
        }
        if (is_service(res)) cn_alloc_release_service(c->srv, old);
        *out = json_incref(nobj);
        goto done;
    }
    /* No-op detection. nobj carries old's resourceVersion (set above), so
     * plain equality is equality ignoring it; managedFields count: a write
     * that only moves ownership is still written. */
    bool unchanged = cn_json_equal(nobj, old);
    if (unchanged || c->q.dry_run) {
        *out = json_incref(unchanged ? old : nobj);
        goto done;
    }
    size_t len;
    val = cn_obj_to_store(nobj, &len);
    int64_t rev;
    cn_err serr = CN_ERR_INIT;
    r = cn_store_update(c->srv->store, key, val, len, old_rev, &rev, &serr);
    if (r == -ESTALE) {
        cn_err_clear(&serr);
        cn_err_conflict(err, res, cn_obj_name(old));
        goto done;
    }
    if (r == -ENOENT) {
        cn_err_clear(&serr);
        cn_err_not_found(err, res, cn_obj_name(old));
        goto done;
    }
    if (r < 0) {
        cn_err_move(err, &serr);
        goto done;
    }
    snprintf(rvs, sizeof rvs, "%lld", (long long)rev);
    json_object_set_new(meta, "resourceVersion", json_string(rvs));
    if (is_crd(res)) cn_registry_put_crd(c->srv->reg, nobj, NULL);
    *out = json_incref(nobj);
done:
    cn_alloc_finish(c->srv, atx, r >= 0);
    json_decref(nobj);
    json_decref(given);
    free(key);
    free(val);
    free(mgr);
    return r;
}

int cn_rest_write_update(cn_reqctx *c, const cn_resource *res, json_t *obj, json_t *old,
                         int64_t old_rev, bool status_only, json_t **out, cn_err *err)
{
    return write_update(c, res, obj, old, old_rev, status_only, MF_TRACK, out, err);
}

/* The client's resourceVersion precondition, 0 if none. -EINVAL if junk. */
static int body_rv(const json_t *obj, int64_t *rv)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    *rv = 0;
    if (!s || !*s) return 0;
    return cn_parse_int64(s, rv) < 0 || *rv <= 0 ? -EINVAL : 0;
}

void cn_rest_update(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *obj = NULL, *out = NULL;
    bool status_only = c->sub && !strcmp(c->sub, "status");
    int64_t want_rv;
    if (cn_obj_decode_body(c, &obj, &e) < 0 || check_type(c, c->res, obj, &e) < 0)
        goto fail;
    const char *bname = cn_obj_name(obj);
    if (bname && *bname && strcmp(bname, c->name)) {
        cn_err_bad_request(&e, "the name of the object (%s) does not match the name on the URL (%s)", bname, c->name);
        goto fail;
    }
    json_object_set_new(cn_obj_meta(obj), "name", json_string(c->name));
    if (body_rv(obj, &want_rv) < 0) {
        cn_err_bad_request(&e, "metadata.resourceVersion: Invalid value: must be an integer");
        goto fail;
    }
    for (int attempt = 0; attempt < MAX_WRITE_RETRIES; attempt++) {
        json_t *old = NULL;
        int64_t old_rev;
        if (cn_obj_get(c->srv, c->res, c->ns, c->name, &old, &old_rev, &e) < 0) goto fail;
        if (want_rv && want_rv != old_rev) {
            json_decref(old);
            cn_err_conflict(&e, c->res, c->name);
            goto fail;
        }
        int r = cn_rest_write_update(c, c->res, json_deep_copy(obj), old, old_rev, status_only, &out, &e);
        json_decref(old);
        if (r == 0) {
            json_decref(obj);
            cn_rest_reply(c, 200, out);
            return;
        }
        /* Only a lost race with another write is retried; a 409 from
         * admission (a limit, a claim) is the answer. */
        if (!(r == -ESTALE && e.code == 409 && !strcmp(e.reason, "Conflict") && !want_rv)) goto fail;
        cn_err_clear(&e);
    }
    cn_err_conflict(&e, c->res, c->name);
fail:
    json_decref(obj);
    cn_rest_reply_err(c, &e);
    cn_err_clear(&e);
}

static int parse_patch_body(cn_reqctx *c, const char *ct, json_t **patch, cn_err *err)
{
    size_t len;
    const char *body = cn_http_body(c->http, &len);
    if (cn_str_has_prefix(ct, "application/apply-patch+yaml"))
        return cn_yaml_parse(body, len, patch, err);
    json_error_t je;
    *patch = json_loadb(body, len, 0, &je);
    if (!*patch)
        return cn_err_bad_request(err, "the patch is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    return 0;
}

void cn_rest_patch(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *patch = NULL, *out = NULL;
    char *mgr = NULL;
    const char *ct = cn_http_header(c->http, "Content-Type");
    bool status_only = c->sub && !strcmp(c->sub, "status");
    enum { JSONP, MERGE, SMP, APPLY } type;
    if (!ct) ct = "";
    if (cn_str_has_prefix(ct, "application/json-patch+json")) type = JSONP;
    else if (cn_str_has_prefix(ct, "application/merge-patch+json")) type = MERGE;
    else if (cn_str_has_prefix(ct, "application/strategic-merge-patch+json")) type = SMP;
    else if (cn_str_has_prefix(ct, "application/apply-patch+yaml")) type = APPLY;
    else {
        cn_err_set(&e, 415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");
        goto fail;
    }
    if (type == SMP && (c->res->flags & CN_RES_CUSTOM)) {
        cn_err_set(&e, 415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        goto fail;
    }
    if (parse_patch_body(c, ct, &patch, &e) < 0) goto fail;
    if (type == JSONP ? !json_is_array(patch) : !json_is_object(patch)) {
        cn_err_bad_request(&e, type == JSONP ? "a JSON patch must be an array of operations"
                                             : "the patch must be a JSON object");
        goto fail;
    }
    const cn_message *schema = cn_schema_for_kind(c->res->group, c->res->version, c->res->kind);
    cn_ssa_opts so;
    ssa_opts(c, c->res, &so, &mgr);
    if (type != APPLY && c->q.force) {
        cn_err_invalid(&e, "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch");
        cn_err_set_details(&e, "", "meta.k8s.io", "PatchOptions");
        cn_err_add_cause(&e, "FieldValueForbidden", "force", "Forbidden: may not be specified for non-apply patch");
        goto fail;
    }
    if (type == APPLY && (!c->q.field_manager || !*c->q.field_manager)) {
        cn_err_invalid(&e, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        cn_err_set_details(&e, "", "meta.k8s.io", "PatchOptions");
        cn_err_add_cause(&e, "FieldValueRequired", "fieldManager", "Required value: is required for apply patch");
        goto fail;
    }
    for (int attempt = 0; attempt < MAX_WRITE_RETRIES; attempt++) {
        json_t *old = NULL, *patched = NULL;
        int64_t old_rev;
        bool changed = true;
        int r = cn_obj_get(c->srv, c->res, c->ns, c->name, &old, &old_rev, &e);
        if (r == -ENOENT && type == APPLY && !status_only) {
            /* Server-side apply creates what does not exist. */
            cn_err_clear(&e);
            json_t *obj = json_deep_copy(patch), *applied = NULL;
            if (check_type(c, c->res, obj, &e) < 0) {
                json_decref(obj);
                goto fail;
            }
            json_object_set_new(cn_obj_meta(obj), "name", json_string(c->name));
            r = cn_ssa_apply(NULL, obj, &so, &applied, &changed, &e);
            json_decref(obj);
            if (r < 0 || write_create(c, c->res, applied, MF_KEEP, &out, &e) < 0) goto fail;
            json_decref(patch);
            free(mgr);
            cn_rest_reply(c, 201, out);
            return;
        }
        if (r < 0) goto fail;
        switch (type) {
        case JSONP: r = cn_patch_json(old, patch, &patched, &e); break;
        case MERGE: r = cn_patch_merge(old, patch, &patched, &e); break;
        case SMP: r = cn_patch_strategic(old, patch, schema, &patched, &e); break;
        case APPLY:
            /* Field ownership decides what is removed and what conflicts;
             * the config merges by schema (custom resources: merge patch). */
            r = cn_ssa_apply(old, patch, &so, &patched, &changed, &e);
            break;
        }
        if (r >= 0 && !changed) {
            /* Nothing to write: the stored object stays as it is. */
            json_decref(patched);
            json_decref(patch);
            free(mgr);
            cn_rest_reply(c, 200, old);
            return;
        }
        if (r < 0 || !json_is_object(patched)) {
            if (r >= 0) cn_err_bad_request(&e, "the patch did not produce an object");
            json_decref(old);
            json_decref(patched);
            goto fail;
        }
        if (check_type(c, c->res, patched, &e) < 0) {
            json_decref(old);
            json_decref(patched);
            goto fail;
        }
        const char *pname = cn_obj_name(patched);
        if (pname && strcmp(pname, c->name)) {
            json_decref(old);
            json_decref(patched);
            cn_err_invalid(&e, "%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": field is immutable", c->res->kind, c->name, pname);
            cn_err_set_details(&e, c->name, c->res->group, c->res->kind);
            cn_err_add_cause(&e, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": field is immutable", pname);
            goto fail;
        }
        int64_t prv;
        if (body_rv(patched, &prv) < 0 || (prv && prv != old_rev)) {
            json_decref(old);
            json_decref(patched);
            cn_err_conflict(&e, c->res, c->name);
            goto fail;
        }
        r = write_update(c, c->res, patched, old, old_rev, status_only,
                         type == APPLY ? MF_KEEP : MF_TRACK, &out, &e);
        json_decref(old);
        if (r == 0) {
            json_decref(patch);
            free(mgr);
            cn_rest_reply(c, 200, out);
            return;
        }
        if (!(r == -ESTALE && e.code == 409 && !strcmp(e.reason, "Conflict"))) goto fail;
        cn_err_clear(&e);
    }
    cn_err_conflict(&e, c->res, c->name);
fail:
    free(mgr);
    json_decref(patch);
    cn_rest_reply_err(c, &e);
    cn_err_clear(&e);
}

/* DeleteOptions from the body (JSON or protobuf), else from the query. */
static int delete_options(cn_reqctx *c, json_t **opts, bool *dry_run, cn_err *err)
{
    size_t len;
    cn_http_body(c->http, &len);
    *opts = NULL;
    *dry_run = c->q.dry_run;
    if (len > 0) {
        if (cn_obj_decode_body(c, opts, err) < 0) return -EINVAL;
    } else {
        *opts = json_object();
    }
    json_t *o = *opts;
    if (!json_object_get(o, "gracePeriodSeconds") && c->q.grace_period_seconds >= 0)
        json_object_set_new(o, "gracePeriodSeconds", json_integer(c->q.grace_period_seconds));
    if (!json_object_get(o, "propagationPolicy") && c->q.propagation_policy)
        json_object_set_new(o, "propagationPolicy", json_string(c->q.propagation_policy));
    json_t *dr = json_object_get(o, "dryRun");
    size_t i;
    json_t *v;
    json_array_foreach(dr, i, v) {
        if (!json_is_string(v) || strcmp(json_string_value(v), "All"))
            return cn_err_bad_request(err, "dryRun: Unsupported value: \"%s\": supported values: \"All\"",
                                      json_string_value(v) ? json_string_value(v) : "");
        *dry_run = true;
    }
    json_t *pp = json_object_get(o, "propagationPolicy");
    if (pp && !json_is_null(pp)) {
        const char *p = json_string_value(pp);
        if (!p || (strcmp(p, "Orphan") && strcmp(p, "Background") && strcmp(p, "Foreground")))
            return cn_err_bad_request(err, "propagationPolicy: Unsupported value: \"%s\": supported values: \"Orphan\", \"Background\", \"Foreground\"",
                                      p ? p : "");
    }
    json_t *g = json_object_get(o, "gracePeriodSeconds");
    if (g && !json_is_null(g) && (!json_is_integer(g) || json_integer_value(g) < 0))
        return cn_err_bad_request(err, "gracePeriodSeconds: Invalid value: must be a non-negative integer");
    return 0;
}

/* The garbage collector's finalizers for this delete, as upstream's
 * deletionFinalizersForGarbageCollection: Orphan (or the legacy
 * orphanDependents=true) adds "orphan", Foreground adds
 * "foregroundDeletion", Background (the default of every built-in
 * resource here, as for apps/v1 upstream) drops both when given
 * explicitly. Returns whether meta.finalizers changed. */
static bool gc_finalizers(json_t *meta, const json_t *opts)
{
    const char *pp = json_string_value(json_object_get(opts, "propagationPolicy"));
    json_t *od = json_object_get(opts, "orphanDependents");
    if (!pp && json_is_boolean(od)) pp = json_is_true(od) ? "Orphan" : "Background";
    if (!pp) return false;
    const char *add = !strcmp(pp, "Orphan") ? "orphan" : !strcmp(pp, "Foreground") ? "foregroundDeletion" : NULL;
    json_t *fins = json_object_get(meta, "finalizers");
    json_t *nf = json_array();
    bool changed = false, have = false;
    size_t i;
    json_t *v;
    json_array_foreach(fins, i, v) {
        const char *f = json_string_value(v);
        bool gcf = f && (!strcmp(f, "orphan") || !strcmp(f, "foregroundDeletion"));
        if (gcf && (!add || strcmp(f, add))) {
            changed = true;
            continue;
        }
        if (f && add && !strcmp(f, add)) have = true;
        json_array_append(nf, v);
    }
    if (add && !have) {
        json_array_append_new(nf, json_string(add));
        changed = true;
    }
    if (changed) {
        if (json_array_size(nf)) json_object_set(meta, "finalizers", nf);
        else json_object_del(meta, "finalizers");
    }
    json_decref(nf);
    return changed;
}

static bool node_exists(cn_apiserver *s, const char *name)
{
    const cn_resource *nr = cn_registry_lookup(s->reg, "", "v1", "nodes");
    char *key = cn_obj_key(nr, NULL, name);
    cn_kv kv = { 0 };
    bool ok = cn_store_get(s->store, key, &kv, NULL) == 0;
    cn_kv_release(&kv);
    free(key);
    return ok;
}

int cn_rest_delete_object(cn_apiserver *s, const cn_resource *res, const char *ns,
                          const char *name, const json_t *opts, bool dry_run,
                          json_t **out, bool *gone, cn_err *err)
{
    *out = NULL;
    *gone = false;
    for (int attempt = 0; attempt < MAX_WRITE_RETRIES; attempt++) {
        json_t *old = NULL;
        int64_t old_rev;
        int r = cn_obj_get(s, res, ns, name, &old, &old_rev, err);
        if (r < 0) return r;
        json_t *pre = json_object_get(opts, "preconditions");
        const char *puid = json_string_value(json_object_get(pre, "uid"));
        const char *prv = json_string_value(json_object_get(pre, "resourceVersion"));
        const char *uid = json_string_value(json_object_get(json_object_get(old, "metadata"), "uid"));
        if (puid && *puid && strcmp(puid, uid ? uid : "")) {
            cn_err_set(err, 409, "Conflict", "Precondition failed: UID in precondition: %s, UID in object meta: %s", puid, uid ? uid : "");
            json_decref(old);
            return -ESTALE;
        }
        if (prv && *prv) {
            int64_t want;
            if (cn_parse_int64(prv, &want) < 0 || want != old_rev) {
                cn_err_set(err, 409, "Conflict", "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in meta: %lld", prv, (long long)old_rev);
                json_decref(old);
                return -ESTALE;
            }
        }
        json_t *meta = cn_obj_meta(old);
        bool fin_changed = gc_finalizers(meta, opts);
        bool has_fin = json_array_size(json_object_get(meta, "finalizers")) > 0;
        bool is_ns = !res->group[0] && !strcmp(res->kind, "Namespace");
        if (is_ns && (!strcmp(name, "default") || !strcmp(name, "kube-system") || !strcmp(name, "kube-public"))) {
            json_decref(old);
            cn_err_set(err, 403, "Forbidden", "namespaces \"%s\" is forbidden: this namespace may not be deleted", name);
            cn_err_set_details(err, name, "", "namespaces");
            return -EPERM;
        }
        json_t *gp = json_object_get(opts, "gracePeriodSeconds");
        int64_t grace = json_is_integer(gp) ? json_integer_value(gp) : -1;
        const char *node = json_string_value(json_object_get(json_object_get(old, "spec"), "nodeName"));
        bool graceful_pod = !res->group[0] && !strcmp(res->kind, "Pod") && node && *node &&
                            grace != 0 && node_exists(s, node);
        bool deleting = cn_obj_deleting(old);
        if (deleting && (has_fin || is_ns || graceful_pod) && !fin_changed) {
            /* Already on its way out: nothing more to do until it is gone. */
            *out = old;
            return 0;
        }
        if (has_fin || is_ns || graceful_pod) {
            char ts[32];
            if (graceful_pod && grace < 0) {
                json_t *tg = json_object_get(json_object_get(old, "spec"), "terminationGracePeriodSeconds");
                grace = json_is_integer(tg) ? json_integer_value(tg) : 30;
            }
            /* A second delete that only changes the propagation keeps the
             * first one's deletionTimestamp. */
            if (!deleting) {
                cn_time_rfc3339(cn_wall_s() + (graceful_pod ? grace : 0), ts);
                json_object_set_new(meta, "deletionTimestamp", json_string(ts));
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(graceful_pod ? grace : 0));
            }
            if (is_ns) {
                json_t *st = json_object_get(old, "status");
                if (!json_is_object(st)) {
                    st = json_object();
                    json_object_set_new(old, "status", st);
                }
                json_object_set_new(st, "phase", json_string("Terminating"));
            }
            if (dry_run) {
                *out = old;
                return 0;
            }
            char *key = cn_obj_key(res, ns, name);
            size_t len;
            char *val = cn_obj_to_store(old, &len);
            int64_t rev;
            cn_err serr = CN_ERR_INIT;
            r = cn_store_update(s->store, key, val, len, old_rev, &rev, &serr);
            free(key);
            free(val);
            cn_err_clear(&serr);
            if (r == -ESTALE || r == -ENOENT) {
                json_decref(old);
                continue;
            }
            if (r < 0) {
                json_decref(old);
                return cn_err_internal(err, "storage error while deleting");
            }
            char rvs[24];
            snprintf(rvs, sizeof rvs, "%lld", (long long)rev);
            json_object_set_new(meta, "resourceVersion", json_string(rvs));
            if (is_ns) cn_ctl_kick(s);
            *out = old;
            return 0;
        }
        if (dry_run) {
            *out = old;
            *gone = true;
            return 0;
        }
        if (!strcmp(res->group, "apiextensions.k8s.io") && !strcmp(res->kind, "CustomResourceDefinition"))
            cn_ctl_crd_deleting(s, old);
        char *key = cn_obj_key(res, ns, name);
        cn_err serr = CN_ERR_INIT;
        r = cn_store_delete(s->store, key, old_rev, NULL, NULL, &serr);
        free(key);
        cn_err_clear(&serr);
        if (r == -ESTALE) {
            json_decref(old);
            continue;
        }
        if (r == -ENOENT) {
            json_decref(old);
            cn_err_not_found(err, res, name);
            return r;
        }
        if (r < 0) {
            json_decref(old);
            return cn_err_internal(err, "storage error while deleting");
        }
        if (is_service(res)) cn_alloc_release_service(s, old);
        *out = old;
        *gone = true;
        return 0;
    }
    cn_err_conflict(err, res, name);
    return -ESTALE;
}

/* Validating admission of a delete by a client (CN_ADMIT_DELETE, obj =
 * the stored object): a plugin may refuse it. Internal deletes (garbage
 * collection, namespace cleanup) do not pass here. */
static int admit_delete(cn_reqctx *c, const char *ns, const char *name, bool dry_run, cn_err *err)
{
    json_t *old = NULL;
    int64_t rev;
    int r = cn_obj_get(c->srv, c->res, ns, name, &old, &rev, err);
    if (r < 0) return r;
    cn_admit_attrs aa = {
        .op = CN_ADMIT_DELETE, .res = c->res, .ns = ns, .name = name, .user = &c->user,
        .dry_run = dry_run, .old = old,
    };
    r = cn_admission_validate(c->srv->admission, &aa, old, err);
    json_decref(old);
    return r;
}

void cn_rest_delete(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *opts = NULL, *out = NULL;
    bool dry, gone;
    if (delete_options(c, &opts, &dry, &e) < 0 || admit_delete(c, c->ns, c->name, dry, &e) < 0 ||
        cn_rest_delete_object(c->srv, c->res, c->ns, c->name, opts, dry, &out, &gone, &e) < 0) {
        json_decref(opts);
        cn_rest_reply_err(c, &e);
        cn_err_clear(&e);
        return;
    }
    json_decref(opts);
    cn_rest_reply(c, 200, out);
}

void cn_rest_delete_collection(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *opts = NULL, *items = json_array();
    bool dry;
    json_t *list = NULL;
    if (delete_options(c, &opts, &dry, &e) < 0 || cn_rest_list_objects(c, &list, &e) < 0) goto fail;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(list, "items"), i, o) {
        json_t *out = NULL;
        bool gone;
        cn_err de = CN_ERR_INIT;
        if (admit_delete(c, cn_obj_namespace(o), cn_obj_name(o), dry, &de) == 0 &&
            cn_rest_delete_object(c->srv, c->res, cn_obj_namespace(o), cn_obj_name(o), opts, dry,
                                  &out, &gone, &de) == 0)
            json_array_append_new(items, out);
        cn_err_clear(&de);
    }
    json_object_set(list, "items", items);
    json_decref(items);
    json_decref(opts);
    cn_rest_reply(c, 200, list);
    return;
fail:
    json_decref(items);
    json_decref(opts);
    json_decref(list);
    cn_rest_reply_err(c, &e);
    cn_err_clear(&e);
}
