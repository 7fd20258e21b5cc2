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
 * Both read the namespace's LimitRanges / ResourceQuotas from the store,
 * but only for namespaces that hold any: a presence cache (which store
 * keys of either kind exist, per namespace) is fed by the watch cache's
 * tap, in revision order, before a writer is answered, so a create right
 * after a quota's is checked against it. The cache is primed by one scan
 * on first use and again after the change feed lost changes (RESET). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "lib/resquota.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define QUOTA_ATTEMPTS 8

static const char *const cached_prefixes[] = { "/registry/resourcequotas/", "/registry/limitranges/" };

struct cn_quota_cache {
    pthread_mutex_t lock;
    cn_strmap *keys;       /* store key -> (void *)1 */
    cn_strmap *per_ns;     /* "<prefix index><ns>" -> count (intptr_t) */
    bool primed;
    uint64_t resets;       /* bumped by every RESET; a scan that saw one does not prime */
};

/* "<i><ns>" for a key under cached_prefixes[i], or NULL. */
static char *ns_slot(const char *key)
{
    for (size_t i = 0; i < 2; i++) {
        size_t pl = strlen(cached_prefixes[i]);
        if (strncmp(key, cached_prefixes[i], pl)) continue;
        const char *ns = key + pl, *slash = strchr(ns, '/');
        if (!slash || slash == ns) return NULL;
        return cn_asprintf("%zu%.*s", i, (int)(slash - ns), ns);
    }
    return NULL;
}

/* Under q->lock. */
static void cache_put(cn_quota_cache *q, const char *key, bool present)
{
    char *slot = ns_slot(key);
    if (!slot) return;
    bool had = cn_strmap_has(q->keys, key);
    if (had != present) {
        intptr_t n = (intptr_t)cn_strmap_get(q->per_ns, slot) + (present ? 1 : -1);
        if (present) cn_strmap_put(q->keys, key, (void *)1);
        else cn_strmap_del(q->keys, key);
        if (n > 0) cn_strmap_put(q->per_ns, slot, (void *)n);
        else cn_strmap_del(q->per_ns, slot);
    }
    free(slot);
}

void cn_quota_on_event(cn_apiserver *s, const cn_event *e)
{
    cn_quota_cache *q = s->quota;
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    if (e->type == CN_EV_RESET) {
        q->primed = false;
        q->resets++;
    } else {
        cache_put(q, e->key, e->type != CN_EV_DELETE);
    }
    pthread_mutex_unlock(&q->lock);
}

static int prime_one(void *ud, const cn_kv *kv)
{
    cn_quota_cache *q = ud;
    pthread_mutex_lock(&q->lock);
    cache_put(q, kv->key, true);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Whether ns may hold objects under cached_prefixes[which]; false only
 * when the cache knows it does not. */
static bool may_have(cn_apiserver *s, size_t which, const char *ns)
{
    cn_quota_cache *q = s->quota;
    pthread_mutex_lock(&q->lock);
    bool primed = q->primed;
    uint64_t resets = q->resets;
    pthread_mutex_unlock(&q->lock);
    if (!primed) {
        /* The tap already records changes; the scan adds what was there
         * before (adding twice is harmless). */
        int r = 0;
        for (size_t i = 0; i < 2 && r >= 0; i++) r = cn_obj_foreach(s, cached_prefixes[i], prime_one, q, NULL);
        pthread_mutex_lock(&q->lock);
        if (r >= 0 && q->resets == resets) q->primed = true;
        pthread_mutex_unlock(&q->lock);
        if (r < 0) return true;
    }
    char *slot = cn_asprintf("%zu%s", which, ns);
    pthread_mutex_lock(&q->lock);
    bool has = !q->primed || cn_strmap_get(q->per_ns, slot) != NULL;
    pthread_mutex_unlock(&q->lock);
    free(slot);
    return has;
}

void cn_quota_cache_free(cn_quota_cache *q)
{
    if (!q) return;
    cn_strmap_free(q->keys, NULL);
    cn_strmap_free(q->per_ns, NULL);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

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
    if (!may_have(s, strcmp(plural, "resourcequotas") ? 1 : 0, ns)) return 0;
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
    /* Quotas whose scopes leave the object out play no part. */
    for (i = json_array_size(qs.items); i-- > 0;)
        if (!cn_quota_scope_matches(json_array_get(qs.items, i), a->res->group, a->res->plural, obj)) {
            json_array_remove(qs.items, i);
            json_array_remove(qs.revs, i);
        }
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
    s->quota = cn_calloc(1, sizeof *s->quota);
    pthread_mutex_init(&s->quota->lock, NULL);
    s->quota->keys = cn_strmap_new();
    s->quota->per_ns = cn_strmap_new();
    cn_admission_add(s->admission, true, "LimitRanger", limitranger_mutate, s);
    cn_admission_add(s->admission, false, "LimitRanger", limitranger_validate, s);
    cn_admission_add(s->admission, false, "ResourceQuota", quota_validate, s);
}
