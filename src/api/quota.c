/* quota: the ResourceQuota and LimitRanger admission plugins, registered
 * on the server's admission chain (admission.h) at start.
 *
 *  - LimitRanger (mutating, pod create): containers get the default limits
 *    and requests of the namespace's LimitRanges (annotation
 *    kubernetes.io/limit-ranger says what was set).
 *  - LimitRanger (validating, pod and PVC create/update): min, max and
 *    maxLimitRequestRatio; 403 Forbidden with upstream's wording.
 *  - ResourceQuota (validating, every namespaced create): what the object
 *    charges (lib/resquota.h) is checked against each quota of the
 *    namespace (status.hard, status.used as the resource quota controller
 *    last computed them) and, when it fits every quota, charged to their
 *    status.used at once (compare-and-swap on the quota, retried on a
 *    conflict), so two creates racing for the last unit cannot both pass.
 *    The controller (ctrl/resourcequota.c) recounts from the objects, which
 *    also returns what a create that failed later had charged.
 *
 * Both read the namespace's LimitRanges / ResourceQuotas from the store:
 * namespaces without any cost one empty range read per create. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "lib/resquota.h"
#include "lib/util.h"

#define QUOTA_ATTEMPTS 8

struct collect {
    json_t *items;    /* objects */
    json_t *revs;     /* their mod revisions */
};

static int collect_one(void *ud, const cn_kv *kv)
{
    struct collect *c = ud;
    json_t *o = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
    if (o) {
        json_array_append_new(c->items, o);
        json_array_append_new(c->revs, json_integer(kv->mod_rev));
    }
    return 0;
}

/* The namespace's objects of core/v1 plural; 0 or negative errno. */
static int list_ns(cn_apiserver *s, const char *plural, const char *ns, struct collect *out, cn_err *err)
{
    out->items = json_array();
    out->revs = json_array();
    const cn_resource *res = cn_registry_lookup(s->reg, "", "v1", plural);
    if (!res || !ns) return 0;
    char *prefix = cn_obj_key(res, ns, "");
    int r = cn_obj_foreach(s, prefix, collect_one, out, err);
    free(prefix);
    return r;
}

static void collect_release(struct collect *c)
{
    json_decref(c->items);
    json_decref(c->revs);
}

static bool is_core(const cn_admit_attrs *a, const char *plural)
{
    return !a->res->group[0] && !strcmp(a->res->plural, plural);
}

static int forbidden(cn_err *err, const cn_admit_attrs *a, const char *name, const char *msg)
{
    const char *g = a->res->group;
    if (*g) cn_err_set(err, 403, "Forbidden", "%s.%s \"%s\" is forbidden: %s", a->res->plural, g, name, msg);
    else cn_err_set(err, 403, "Forbidden", "%s \"%s\" is forbidden: %s", a->res->plural, name, msg);
    cn_err_set_details(err, name, g, a->res->plural);
    return -EPERM;
}

static const char *obj_name(const cn_admit_attrs *a, const json_t *obj)
{
    const char *n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    return n ? n : a->name ? a->name : "";
}

static int limitranger_mutate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    if (a->op != CN_ADMIT_CREATE || a->sub || !is_core(a, "pods")) return 0;
    struct collect lrs;
    int r = list_ns(ud, "limitranges", a->ns, &lrs, err);
    size_t i;
    json_t *lr;
    json_array_foreach(lrs.items, i, lr) {
        if (r < 0) break;
        char *note = cn_limitrange_apply(lr, obj);
        if (!note) continue;
        json_t *meta = json_object_get(obj, "metadata");
        json_t *ann = json_object_get(meta, "annotations");
        if (!json_is_object(ann)) {
            ann = json_object();
            json_object_set_new(meta, "annotations", ann);
        }
        json_object_set_new(ann, "kubernetes.io/limit-ranger", json_string(note));
        free(note);
    }
    collect_release(&lrs);
    return r < 0 ? r : 0;
}

static int limitranger_validate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    if (a->op == CN_ADMIT_DELETE || a->sub) return 0;
    const char *kind = is_core(a, "pods") ? "Pod" : is_core(a, "persistentvolumeclaims") ? "PersistentVolumeClaim" : NULL;
    if (!kind || (a->op == CN_ADMIT_UPDATE && !strcmp(kind, "Pod"))) return 0;
    struct collect lrs;
    int r = list_ns(ud, "limitranges", a->ns, &lrs, err);
    json_t *errs = json_array();
    size_t i;
    json_t *lr;
    json_array_foreach(lrs.items, i, lr) cn_limitrange_check(lr, kind, obj, errs);
    collect_release(&lrs);
    if (r >= 0 && json_array_size(errs)) {
        cn_buf b;
        cn_buf_init(&b);
        size_t n = json_array_size(errs);
        json_t *m;
        if (n > 1) cn_buf_addc(&b, '[');
        json_array_foreach(errs, i, m) cn_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(m));
        if (n > 1) cn_buf_addc(&b, ']');
        r = forbidden(err, a, obj_name(a, obj), b.data);
        cn_buf_release(&b);
    }
    json_decref(errs);
    return r < 0 ? r : 0;
}

/* Charge one quota; 0 done, 1 conflict (re-read everything), < 0 error. */
static int charge(cn_apiserver *s, json_t *quota, int64_t rev, const json_t *delta)
{
    if (!cn_quota_charge(quota, delta)) return 0;
    const cn_resource *res = cn_registry_lookup(s->reg, "", "v1", "resourcequotas");
    char *key = cn_obj_key(res, cn_obj_namespace(quota), cn_obj_name(quota));
    size_t len;
    char *val = cn_obj_to_store(quota, &len);
    int64_t nrev;
    cn_err serr = CN_ERR_INIT;
    int r = cn_store_update(s->store, key, val, len, rev, &nrev, &serr);
    free(key);
    free(val);
    cn_err_clear(&serr);
    if (r == -ESTALE) return 1;
    if (r == -ENOENT) return 0;
    return r < 0 ? r : 0;
}

/* Charge q (at rev) with delta; on a conflict read it again and check the
 * fresh state before charging it. 0 or a refusal. */
static int charge_fresh(cn_apiserver *s, const cn_admit_attrs *a, const json_t *obj, json_t *q, int64_t rev,
                        const json_t *delta, cn_err *err)
{
    const cn_resource *res = cn_registry_lookup(s->reg, "", "v1", "resourcequotas");
    json_t *cur = json_incref(q);
    int r = 0;
    for (int attempt = 0; attempt < QUOTA_ATTEMPTS; attempt++) {
        int c = charge(s, cur, rev, delta);
        if (c != 1) {
            r = c;
            break;
        }
        char *name = cn_strdup(cn_obj_name(cur));
        json_decref(cur);
        cur = NULL;
        cn_err gerr = CN_ERR_INIT;
        c = cn_obj_get(s, res, a->ns, name, &cur, &rev, &gerr);
        free(name);
        cn_err_clear(&gerr);
        if (c < 0) break;    /* deleted meanwhile: nothing to charge */
        char *msg = NULL;
        if (cn_quota_check(cur, delta, &msg) != 0) r = forbidden(err, a, obj_name(a, obj), msg);
        free(msg);
        if (r < 0) break;
        if (attempt == QUOTA_ATTEMPTS - 1)
            r = cn_err_set(err, 409, "Conflict", "Operation cannot be fulfilled on resourcequotas \"%s\": the object has been modified; please apply your changes to the latest version and try again",
                           cn_obj_name(cur));
    }
    json_decref(cur);
    return r;
}

static int quota_validate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    cn_apiserver *s = ud;
    if (a->op != CN_ADMIT_CREATE || a->sub || !a->res->namespaced || !a->ns) return 0;
    struct collect qs;
    int r = list_ns(s, "resourcequotas", a->ns, &qs, err);
    if (r < 0 || !json_array_size(qs.items)) {
        collect_release(&qs);
        return r < 0 ? r : 0;
    }
    json_t *delta = cn_quota_usage(a->res->group, a->res->plural, obj);
    size_t i;
    json_t *q;
    json_array_foreach(qs.items, i, q) {
        char *msg = NULL;
        if (is_core(a, "pods") && (msg = cn_quota_pod_constraints(q, obj))) {
            char *m2 = cn_asprintf("failed quota: %s: %s", cn_obj_name(q), msg);
            r = forbidden(err, a, obj_name(a, obj), m2);
            free(m2);
        } else if (cn_quota_check(q, delta, &msg) != 0) {
            r = forbidden(err, a, obj_name(a, obj), msg);
        }
        free(msg);
        if (r < 0) break;
    }
    /* Quotas charged before a later one refuses keep their charge; the
     * controller's recount returns it, as with upstream's admission. */
    if (r >= 0 && !a->dry_run) {
        json_array_foreach(qs.items, i, q) {
            r = charge_fresh(s, a, obj, q, json_integer_value(json_array_get(qs.revs, i)), delta, err);
            if (r < 0) break;
        }
    }
    collect_release(&qs);
    json_decref(delta);
    return r < 0 ? r : 0;
}

void cn_quota_admission_register(cn_apiserver *s)
{
    cn_admission_add(s->admission, true, "LimitRanger", limitranger_mutate, s);
    cn_admission_add(s->admission, false, "LimitRanger", limitranger_validate, s);
    cn_admission_add(s->admission, false, "ResourceQuota", quota_validate, s);
}
