/* rest_sub: subresources other than /status (scale, binding, eviction,
 * token; log, exec, attach and portforward go on to podproxy.c) and the
 * create-only review kinds (SelfSubjectAccessReview, SelfSubjectRulesReview,
 * SelfSubjectReview, SubjectAccessReview, TokenReview). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/rest-internal.h"
#include "api/selector.h"
#include "lib/jwt.h"
#include "lib/util.h"

static void reply_err(cn_reqctx *c, cn_err *e)
{
    cn_rest_reply_err(c, e);
    cn_err_clear(e);
}

/* ".spec.replicas" -> walk/create objects along the path. */
static json_t *path_get(const json_t *obj, const char *path)
{
    const json_t *cur = obj;
    char *dup = cn_strdup(path[0] == '.' ? path + 1 : path), *p = dup;
    while (cur && p && *p) {
        char *dot = strchr(p, '.');
        if (dot) *dot = '\0';
        cur = json_object_get(cur, p);
        p = dot ? dot + 1 : NULL;
    }
    free(dup);
    return (json_t *)cur;
}

static void path_set(json_t *obj, const char *path, json_t *val)
{
    json_t *cur = obj;
    char *dup = cn_strdup(path[0] == '.' ? path + 1 : path), *p = dup;
    for (;;) {
        char *dot = strchr(p, '.');
        if (!dot) {
            json_object_set_new(cur, p, val);
            break;
        }
        *dot = '\0';
        json_t *next = json_object_get(cur, p);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(cur, p, next);
        }
        cur = next;
        p = dot + 1;
    }
    free(dup);
}

static const char *spec_path(const cn_resource *r) { return r->scale_spec_path ? r->scale_spec_path : ".spec.replicas"; }
static const char *status_path(const cn_resource *r) { return r->scale_status_path ? r->scale_status_path : ".status.replicas"; }

static json_t *to_scale(const cn_resource *res, const json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    json_t *sm = json_object();
    static const char *const keep[] = { "name", "namespace", "uid", "resourceVersion", "creationTimestamp", NULL };
    for (int i = 0; keep[i]; i++) {
        json_t *v = json_object_get(m, keep[i]);
        if (v) json_object_set(sm, keep[i], v);
    }
    json_int_t spec = json_integer_value(path_get(obj, spec_path(res)));
    json_int_t st = json_integer_value(path_get(obj, status_path(res)));
    json_t *status = json_pack("{s:I}", "replicas", st);
    char *selstr = NULL;
    if (res->scale_selector_path) {
        const char *s = json_string_value(path_get(obj, res->scale_selector_path));
        if (s) selstr = cn_strdup(s);
    } else {
        cn_selector *sel = NULL;
        if (cn_selector_from_json(path_get(obj, ".spec.selector"), &sel, NULL) == 0) {
            selstr = cn_selector_string(sel);
            cn_selector_free(sel);
        }
    }
    if (selstr && *selstr) json_object_set_new(status, "selector", json_string(selstr));
    free(selstr);
    return json_pack("{s:s,s:s,s:o,s:{s:I},s:o}", "kind", "Scale", "apiVersion", "autoscaling/v1",
                     "metadata", sm, "spec", "replicas", spec, "status", status);
}

static void do_scale(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *old = NULL, *scale = NULL, *patch = NULL, *out = NULL;
    int64_t old_rev;
    if (!(c->res->flags & CN_RES_SCALE)) {
        cn_err_set(&e, 404, "NotFound", "the server could not find the requested resource");
        return reply_err(c, &e);
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        if (cn_obj_get(c->srv, c->res, c->ns, c->name, &old, &old_rev, &e) < 0) goto fail;
        json_t *cur = to_scale(c->res, old);
        if (!strcmp(c->method, "GET")) {
            json_decref(old);
            cn_rest_reply(c, 200, cur);
            return;
        }
        json_t *wanted = NULL;
        size_t len;
        const char *body = cn_http_body(c->http, &len);
        if (!strcmp(c->method, "PUT")) {
            if (cn_obj_decode_body(c, &wanted, &e) < 0) {
                json_decref(cur);
                goto fail;
            }
        } else if (!strcmp(c->method, "PATCH")) {
            json_error_t je;
            const char *ct = cn_http_header(c->http, "Content-Type");
            patch = json_loadb(body, len, 0, &je);
            if (!patch) {
                json_decref(cur);
                cn_err_bad_request(&e, "the patch is not valid JSON: %s", je.text);
                goto fail;
            }
            int r = ct && cn_str_has_prefix(ct, "application/json-patch+json")
                        ? cn_patch_json(cur, patch, &wanted, &e)
                        : cn_patch_merge(cur, patch, &wanted, &e);
            json_decref(patch);
            patch = NULL;
            if (r < 0) {
                json_decref(cur);
                goto fail;
            }
        } else {
            json_decref(cur);
            cn_err_set(&e, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
            goto fail;
        }
        json_decref(cur);
        json_t *rep = json_object_get(json_object_get(wanted, "spec"), "replicas");
        if (!json_is_integer(rep) || json_integer_value(rep) < 0) {
            json_decref(wanted);
            cn_err_invalid(&e, "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0", c->name);
            cn_err_set_details(&e, c->name, "autoscaling", "Scale");
            cn_err_add_cause(&e, "FieldValueInvalid", "spec.replicas", "Invalid value: must be greater than or equal to 0");
            goto fail;
        }
        const char *wrv = json_string_value(json_object_get(json_object_get(wanted, "metadata"), "resourceVersion"));
        int64_t want_rv = 0;
        if (wrv && *wrv && (cn_parse_int64(wrv, &want_rv) < 0 || want_rv != old_rev)) {
            json_decref(wanted);
            cn_err_conflict(&e, c->res, c->name);
            goto fail;
        }
        json_t *nobj = json_deep_copy(old);
        path_set(nobj, spec_path(c->res), json_integer(json_integer_value(rep)));
        json_decref(wanted);
        int r = cn_rest_write_update(c, c->res, nobj, old, old_rev, false, &out, &e);
        json_decref(old);
        old = NULL;
        if (r == 0) {
            json_t *sc = to_scale(c->res, out);
            json_decref(out);
            cn_rest_reply(c, 200, sc);
            return;
        }
        if (!(e.code == 409 && !want_rv)) goto fail;
        cn_err_clear(&e);
    }
fail:
    json_decref(old);
    json_decref(scale);
    reply_err(c, &e);
}

static const char *cond_type(const json_t *cond)
{
    const char *t = json_string_value(json_object_get(cond, "type"));
    return t ? t : "";
}

static void do_binding(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *b = NULL, *old = NULL, *out = NULL;
    int64_t old_rev;
    if (strcmp(c->method, "POST")) {
        cn_err_set(&e, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return reply_err(c, &e);
    }
    if (cn_obj_decode_body(c, &b, &e) < 0) return reply_err(c, &e);
    const char *node = json_string_value(json_object_get(json_object_get(b, "target"), "name"));
    if (!node || !*node) {
        json_decref(b);
        cn_err_invalid(&e, "Binding \"%s\" is invalid: target.name: Required value", c->name);
        cn_err_set_details(&e, c->name, "", "Binding");
        cn_err_add_cause(&e, "FieldValueRequired", "target.name", "Required value");
        return reply_err(c, &e);
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        if (cn_obj_get(c->srv, c->res, c->ns, c->name, &old, &old_rev, &e) < 0) break;
        const char *cur = json_string_value(json_object_get(json_object_get(old, "spec"), "nodeName"));
        if (cur && *cur) {
            cn_err_set(&e, 409, "Conflict", "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already assigned to node \"%s\"",
                       c->name, c->name, cur);
            break;
        }
        if (cn_obj_deleting(old)) {
            cn_err_set(&e, 409, "Conflict", "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being deleted, cannot be assigned to a host",
                       c->name, c->name);
            break;
        }
        json_t *nobj = json_deep_copy(old);
        json_t *spec = json_object_get(nobj, "spec");
        json_object_set_new(spec, "nodeName", json_string(node));
        json_t *st = json_object_get(nobj, "status");
        if (!json_is_object(st)) {
            st = json_object();
            json_object_set_new(nobj, "status", st);
        }
        json_t *conds = json_object_get(st, "conditions");
        if (!json_is_array(conds)) {
            conds = json_array();
            json_object_set_new(st, "conditions", conds);
        }
        /* One PodScheduled condition: True replaces an earlier Unschedulable. */
        for (size_t i = json_array_size(conds); i-- > 0;)
            if (!strcmp(cond_type(json_array_get(conds, i)), "PodScheduled")) json_array_remove(conds, i);
        char ts[32];
        cn_time_rfc3339(cn_wall_s(), ts);
        json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status", "True",
                                               "lastProbeTime", "lastTransitionTime", ts));
        /* Binding writes spec and status together, as upstream's binding REST does. */
        cn_reqctx sc = *c;
        sc.sub = NULL;
        json_t *tmp_old = json_deep_copy(old);
        json_object_set(tmp_old, "status", st);
        int r = cn_rest_write_update(&sc, c->res, nobj, tmp_old, old_rev, false, &out, &e);
        json_decref(tmp_old);
        json_decref(old);
        old = NULL;
        if (r == 0) {
            json_decref(out);
            json_decref(b);
            json_t *ok = json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                                   "metadata", "status", "Success", "code", 201);
            cn_rest_reply(c, 201, ok);
            return;
        }
        if (e.code != 409) break;
        cn_err_clear(&e);
    }
    json_decref(old);
    json_decref(b);
    reply_err(c, &e);
}

/* ---- serviceaccounts/token (TokenRequest) ---- */

#define SA_ISSUER "https://kubernetes.default.svc.cluster.local"
#define SA_MIN_EXPIRY 600
#define SA_MAX_EXPIRY (1LL << 32)

static int token_invalid(cn_err *e, const char *name, const char *field, const char *detail)
{
    cn_err_invalid(e, "TokenRequest.authentication.k8s.io \"%s\" is invalid: %s: %s", name, field, detail);
    cn_err_set_details(e, name, "authentication.k8s.io", "TokenRequest");
    cn_err_add_cause(e, "FieldValueInvalid", field, "%s", detail);
    return -EINVAL;
}

/* The bound object's claims ({"name","uid"}) after checking it exists
 * (with that uid when given), as upstream's TokenRequest REST storage. */
static int token_bound(cn_reqctx *c, const json_t *ref, json_t *k8s, cn_err *e)
{
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    const char *plural = NULL;
    if (!ref) return 0;
    if (kind && !strcmp(kind, "Pod")) plural = "pods";
    else if (kind && !strcmp(kind, "Secret")) plural = "secrets";
    else if (kind && !strcmp(kind, "Node")) plural = "nodes";
    if (!plural || !name || !*name)
        return token_invalid(e, c->name, "spec.boundObjectRef.kind",
                             "Unsupported value: supported values: \"Pod\", \"Secret\", \"Node\" with a name");
    const cn_resource *res = cn_registry_lookup(c->srv->reg, "", "v1", plural);
    json_t *obj = NULL;
    if (!res || cn_obj_get(c->srv, res, strcmp(plural, "nodes") ? c->ns : NULL, name, &obj, NULL, e) < 0) {
        if (!res) cn_err_internal(e, "resource %s is not registered", plural);
        return -ENOENT;
    }
    const char *have = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
    if (uid && *uid && (!have || strcmp(uid, have))) {
        cn_err_set(e, 409, "Conflict", "the UID in the bound object reference (%s) does not match the UID in record. "
                   "The object might have been deleted and then recreated", uid);
        json_decref(obj);
        return -EEXIST;
    }
    json_object_set_new(k8s, strcmp(plural, "pods") ? (strcmp(plural, "secrets") ? "node" : "secret") : "pod",
                        json_pack("{s:s,s:s}", "name", name, "uid", have ? have : ""));
    json_decref(obj);
    return 0;
}

static void do_token(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *req = NULL, *sa = NULL, *claims = NULL;
    char *token = NULL, *kid = NULL;
    if (strcmp(c->method, "POST")) {
        cn_err_set(&e, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return reply_err(c, &e);
    }
    if (cn_obj_decode_body(c, &req, &e) < 0) return reply_err(c, &e);
    if (!json_is_object(req)) {
        json_decref(req);
        req = json_object();
    }
    json_t *spec = json_object_get(req, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(req, "spec", spec);
    }
    json_t *exp_j = json_object_get(spec, "expirationSeconds");
    json_int_t ttl = json_is_integer(exp_j) ? json_integer_value(exp_j) : 3600;
    if (ttl < SA_MIN_EXPIRY) {
        token_invalid(&e, c->name, "spec.expirationSeconds", "may not specify a duration less than 10 minutes");
        goto fail;
    }
    if (ttl > SA_MAX_EXPIRY) {
        token_invalid(&e, c->name, "spec.expirationSeconds", "may not specify a duration larger than 2^32 seconds");
        goto fail;
    }
    json_object_set_new(spec, "expirationSeconds", json_integer(ttl));
    if (cn_obj_get(c->srv, c->res, c->ns, c->name, &sa, NULL, &e) < 0) goto fail;
    json_t *aud = json_object_get(spec, "audiences");
    if (!json_array_size(aud)) {
        aud = json_pack("[s]", SA_ISSUER);
        json_object_set_new(spec, "audiences", aud);
    }
    json_t *k8s = json_pack("{s:s,s:{s:s,s:s}}", "namespace", c->ns, "serviceaccount", "name", c->name,
                            "uid", json_string_value(json_object_get(json_object_get(sa, "metadata"), "uid")) ?: "");
    if (token_bound(c, json_object_get(spec, "boundObjectRef"), k8s, &e) < 0) {
        json_decref(k8s);
        goto fail;
    }
    int64_t now = cn_wall_s();
    char jti[37];
    cn_uuid(jti);
    char *sub = cn_asprintf("system:serviceaccount:%s:%s", c->ns, c->name);
    claims = json_pack("{s:O,s:I,s:I,s:s,s:s,s:o,s:I,s:s}", "aud", aud, "exp", (json_int_t)(now + ttl),
                       "iat", (json_int_t)now, "iss", SA_ISSUER, "jti", jti, "kubernetes.io", k8s,
                       "nbf", (json_int_t)now, "sub", sub);
    free(sub);
    if (cn_jwt_key_id(c->srv->pki.sa_key_pem, &kid, &e) < 0 ||
        cn_jwt_sign_rs256(c->srv->pki.sa_key_pem, kid, claims, &token, &e) < 0)
        goto fail;
    char ts[32];
    cn_time_rfc3339(now + ttl, ts);
    json_object_set_new(req, "apiVersion", json_string("authentication.k8s.io/v1"));
    json_object_set_new(req, "kind", json_string("TokenRequest"));
    json_t *meta = cn_obj_meta(req);
    json_object_set_new(meta, "name", json_string(c->name));
    json_object_set_new(meta, "namespace", json_string(c->ns));
    json_object_set_new(req, "status", json_pack("{s:s,s:s}", "token", token, "expirationTimestamp", ts));
    json_decref(sa);
    json_decref(claims);
    free(token);
    free(kid);
    return cn_rest_reply(c, 201, req);
fail:
    json_decref(req);
    json_decref(sa);
    json_decref(claims);
    free(token);
    free(kid);
    reply_err(c, &e);
}

void cn_rest_subresource(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    const char *s = c->sub;
    bool core_pods = !c->res->group[0] && !strcmp(c->res->plural, "pods");
    if (!strcmp(s, "scale")) return do_scale(c);
    if (core_pods && !strcmp(s, "binding") && (c->res->flags & CN_RES_BINDING)) return do_binding(c);
    if (core_pods && !strcmp(s, "eviction")) return cn_rest_eviction(c);
    if (core_pods && (!strcmp(s, "log") || !strcmp(s, "exec") || !strcmp(s, "attach") ||
                      !strcmp(s, "portforward")))
        return cn_rest_pod_proxy(c, s);
    if (!c->res->group[0] && !strcmp(c->res->plural, "serviceaccounts") && !strcmp(s, "token")) return do_token(c);
    cn_err_set(&e, 404, "NotFound", "the server could not find the requested resource");
    reply_err(c, &e);
}

/* ---- reviews ---- */

static json_t *user_info(const cn_user *u)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < u->ngroups; i++) json_array_append_new(groups, json_string(u->groups[i]));
    json_t *ui = json_pack("{s:s,s:o}", "username", u->name, "groups", groups);
    if (u->uid && *u->uid) json_object_set_new(ui, "uid", json_string(u->uid));
    return ui;
}

static json_t *access_status(cn_reqctx *c, const cn_user *u, const json_t *spec)
{
    json_t *ra = json_object_get(spec, "resourceAttributes");
    json_t *na = json_object_get(spec, "nonResourceAttributes");
#define S(o, k) json_string_value(json_object_get((o), (k)))
    cn_authz_attrs a = { 0 };
    if (ra) {
        a = (cn_authz_attrs){ .verb = S(ra, "verb"), .group = S(ra, "group") ?: "",
            .version = S(ra, "version"), .resource = S(ra, "resource") ?: "",
            .subresource = S(ra, "subresource"), .ns = S(ra, "namespace"), .name = S(ra, "name"),
            .resource_request = true };
    } else {
        a = (cn_authz_attrs){ .verb = na ? S(na, "verb") : "get", .path = na ? S(na, "path") : "/" };
    }
#undef S
    if (!a.verb) a.verb = "get";
    const char *reason = "";
    bool ok = c->srv->authorize(c->srv->authorize_ud, u, &a, &reason);
    json_t *st = json_pack("{s:b}", "allowed", ok);
    if (!ok && reason && *reason) json_object_set_new(st, "reason", json_string(reason));
    return st;
}

void cn_rest_review(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *obj = NULL;
    if (cn_obj_decode_body(c, &obj, &e) < 0) return reply_err(c, &e);
    const char *av = cn_resource_api_version(c->res);
    json_object_set_new(obj, "apiVersion", json_string(av));
    json_object_set_new(obj, "kind", json_string(c->res->kind));
    json_t *spec = json_object_get(obj, "spec");
    const char *p = c->res->plural;
    if (!strcmp(p, "selfsubjectaccessreviews")) {
        json_object_set_new(obj, "status", access_status(c, &c->user, spec));
    } else if (!strcmp(p, "subjectaccessreviews")) {
        cn_user u = { .name = (char *)json_string_value(json_object_get(spec, "user")) };
        json_t *g = json_object_get(spec, "groups");
        char *gs[64];
        size_t i;
        json_t *v;
        json_array_foreach(g, i, v) if (i < 64) gs[u.ngroups++] = (char *)json_string_value(v);
        u.groups = gs;
        if (!u.name) u.name = (char *)"";
        json_object_set_new(obj, "status", access_status(c, &u, spec));
    } else if (!strcmp(p, "selfsubjectrulesreviews")) {
        bool master = cn_user_in_group(&c->user, "system:masters");
        json_t *rr = json_array(), *nr = json_array();
        if (master) {
            json_array_append_new(rr, json_pack("{s:[s],s:[s],s:[s]}", "verbs", "*", "apiGroups", "*", "resources", "*"));
            json_array_append_new(nr, json_pack("{s:[s],s:[s]}", "verbs", "*", "nonResourceURLs", "*"));
        } else {
            json_array_append_new(rr, json_pack("{s:[s],s:[s],s:[s,s]}", "verbs", "create",
                "apiGroups", "authorization.k8s.io", "resources", "selfsubjectaccessreviews", "selfsubjectrulesreviews"));
            json_array_append_new(rr, json_pack("{s:[s],s:[s],s:[s]}", "verbs", "create",
                "apiGroups", "authentication.k8s.io", "resources", "selfsubjectreviews"));
            json_array_append_new(nr, json_pack("{s:[s],s:[s,s,s,s]}", "verbs", "get",
                "nonResourceURLs", "/api", "/api/*", "/apis", "/apis/*"));
        }
        json_object_set_new(obj, "status", json_pack("{s:o,s:o,s:b}", "resourceRules", rr,
                                                     "nonResourceRules", nr, "incomplete", false));
    } else if (!strcmp(p, "selfsubjectreviews")) {
        json_object_set_new(obj, "status", json_pack("{s:o}", "userInfo", user_info(&c->user)));
    } else if (!strcmp(p, "tokenreviews")) {
        const char *tok = json_string_value(json_object_get(spec, "token"));
        cn_user u = { 0 };
        if (tok && cn_tokens_lookup(c->srv->tokens, tok, &u) == 0) {
            json_object_set_new(obj, "status", json_pack("{s:b,s:o}", "authenticated", true, "user", user_info(&u)));
            cn_user_release(&u);
        } else {
            json_object_set_new(obj, "status", json_pack("{s:b,s:s}", "authenticated", false, "error", "invalid bearer token"));
        }
    } else {
        json_decref(obj);
        cn_err_set(&e, 404, "NotFound", "the server could not find the requested resource");
        return reply_err(c, &e);
    }
    cn_rest_reply(c, 201, obj);
}
