/* controllers: the control loops that live inside the API server because
 * the API's own semantics need them: namespace finalization (a deleted
 * namespace is Terminating until its contents are gone) and the CRD
 * lifecycle (names accepted, Established, instances removed with the CRD).
 * Also the bootstrap of a fresh store (the four system namespaces). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/util.h"

static const char *const system_namespaces[] = { "default", "kube-system", "kube-public",
                                                 "kube-node-lease", NULL };

static const cn_resource *ns_res(cn_apiserver *s)
{
    return cn_registry_lookup(s->reg, "", "v1", "namespaces");
}

static int ensure_namespace(cn_apiserver *s, const char *name, cn_err *err)
{
    char *key = cn_obj_key(ns_res(s), NULL, name);
    char uid[37], ts[32];
    cn_uuid(uid);
    cn_time_rfc3339(cn_wall_s(), ts);
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:{s:s}},s:{s:[s]},s:{s:s}}",
                          "apiVersion", "v1", "kind", "Namespace",
                          "metadata", "name", name, "uid", uid, "creationTimestamp", ts,
                          "labels", "kubernetes.io/metadata.name", name,
                          "spec", "finalizers", "kubernetes", "status", "phase", "Active");
    size_t len;
    char *val = cn_obj_to_store(o, &len);
    cn_err serr = CN_ERR_INIT;
    int r = cn_store_create(s->store, key, val, len, NULL, &serr);
    if (r == -EEXIST) r = 0;
    else if (r < 0) cn_err_move(err, &serr);
    cn_err_clear(&serr);
    json_decref(o);
    free(val);
    free(key);
    return r;
}

static int serve_crd(void *ud, const cn_kv *kv)
{
    cn_apiserver *s = ud;
    json_t *o = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
    cn_err perr = CN_ERR_INIT;
    if (o && !cn_obj_deleting(o) && cn_registry_put_crd(s->reg, o, &perr) < 0)
        cn_warn("ignoring stored CRD \"%s\": %s", kv->key, perr.message);
    cn_err_clear(&perr);
    json_decref(o);
    return 0;
}

int cn_ctl_bootstrap(cn_apiserver *s, cn_err *err)
{
    for (int i = 0; system_namespaces[i]; i++) {
        int r = ensure_namespace(s, system_namespaces[i], err);
        if (r < 0) return r;
    }
    /* Serve every stored CRD again. */
    const cn_resource *crd = cn_registry_lookup(s->reg, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
    char *prefix = cn_resource_key_prefix(crd);
    int r = cn_obj_foreach(s, prefix, serve_crd, s, err);
    free(prefix);
    return r;
}

static json_t *condition(const char *type, const char *reason, const char *msg, const char *ts)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", "True", "reason", reason,
                     "message", msg, "lastTransitionTime", ts);
}

void cn_ctl_crd_written(cn_apiserver *s, json_t *crd)
{
    (void)s;
    json_t *spec = json_object_get(crd, "spec");
    json_t *st = json_object_get(crd, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(crd, "status", st);
    }
    json_t *names = json_object_get(spec, "names");
    if (names) json_object_set_new(st, "acceptedNames", json_deep_copy(names));
    json_t *conds = json_object_get(st, "conditions");
    if (!json_is_array(conds) || json_array_size(conds) == 0) {
        char ts[32];
        cn_time_rfc3339(cn_wall_s(), ts);
        conds = json_array();
        json_array_append_new(conds, condition("NamesAccepted", "NoConflicts", "no conflicts found", ts));
        json_array_append_new(conds, condition("Established", "InitialNamesAccepted",
                                               "the initial names have been accepted", ts));
        json_object_set_new(st, "conditions", conds);
    }
    json_t *stored = json_object_get(st, "storedVersions");
    if (!json_is_array(stored)) {
        stored = json_array();
        json_object_set_new(st, "storedVersions", stored);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "versions"), i, v) {
        if (!json_is_true(json_object_get(v, "storage"))) continue;
        const char *name = json_string_value(json_object_get(v, "name"));
        bool have = false;
        size_t j;
        json_t *sv;
        json_array_foreach(stored, j, sv) if (name && !strcmp(json_string_value(sv) ?: "", name)) have = true;
        if (name && !have) json_array_append_new(stored, json_string(name));
    }
}

struct sweep {
    cn_apiserver *s;
    const cn_resource *res;
    bool force;
    size_t remaining;
};

static int sweep_one(void *ud, const cn_kv *kv)
{
    struct sweep *sw = ud;
    if (sw->force) {
        cn_store_delete(sw->s->store, kv->key, 0, NULL, NULL, NULL);
        return 0;
    }
    json_t *o = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
    if (!o) return 0;
    json_t *opts = json_object(), *out = NULL;
    bool gone = false;
    cn_err e = CN_ERR_INIT;
    if (cn_rest_delete_object(sw->s, sw->res, cn_obj_namespace(o), cn_obj_name(o), opts, false,
                              &out, &gone, &e) < 0 || !gone)
        sw->remaining++;
    cn_err_clear(&e);
    json_decref(out);
    json_decref(opts);
    json_decref(o);
    return 0;
}

/* Delete every key under prefix (objects of a removed CRD, or one
 * namespace's objects of one resource). Without force, objects with
 * finalizers are only marked, through the normal delete path. Returns how
 * many remain. */
static size_t delete_under(cn_apiserver *s, const cn_resource *res, const char *prefix, bool force)
{
    struct sweep sw = { s, res, force, 0 };
    if (cn_obj_foreach(s, prefix, sweep_one, &sw, NULL) < 0) sw.remaining++;
    return sw.remaining;
}

void cn_ctl_crd_deleting(cn_apiserver *s, const json_t *crd)
{
    const char *name = cn_obj_name(crd);
    json_t *spec = json_object_get(crd, "spec");
    const char *group = json_string_value(json_object_get(spec, "group"));
    const char *plural = json_string_value(json_object_get(json_object_get(spec, "names"), "plural"));
    if (group && plural) {
        char *prefix = cn_asprintf("/registry/%s/%s/", group, plural);
        delete_under(s, NULL, prefix, true);
        free(prefix);
    }
    if (name) cn_registry_remove_crd(s->reg, name);
}

struct res_set {
    const cn_resource **items;
    size_t n;
};

/* Collected first, swept after: deleting must not run under the registry lock. */
static void collect_namespaced(const cn_resource *res, void *ud)
{
    struct res_set *rs = ud;
    if (!res->namespaced || (res->flags & CN_RES_CREATE_ONLY)) return;
    rs->items = cn_realloc(rs->items, (rs->n + 1) * sizeof *rs->items);
    rs->items[rs->n++] = res;
}

static size_t sweep_namespace(cn_apiserver *s, const char *ns)
{
    struct res_set rs = { 0 };
    size_t remaining = 0;
    cn_registry_foreach(s->reg, collect_namespaced, &rs);
    for (size_t i = 0; i < rs.n; i++) {
        char *base = cn_resource_key_prefix(rs.items[i]);
        char *prefix = cn_asprintf("%s%s/", base, ns);
        remaining += delete_under(s, rs.items[i], prefix, false);
        free(prefix);
        free(base);
    }
    free(rs.items);
    return remaining;
}

/* One pass: finalize every Terminating namespace. Returns true if some
 * namespace still has contents (so the loop should come back soon). */
static bool finalize_namespaces(cn_apiserver *s)
{
    char *prefix = cn_resource_key_prefix(ns_res(s));
    cn_kv_list page = { 0 };
    bool more = false, pending = false;
    int64_t rev;
    if (cn_store_list(s->store, prefix, NULL, 0, &page, &rev, &more, NULL) < 0) {
        free(prefix);
        return true;
    }
    for (size_t i = 0; i < page.n; i++) {
        json_t *o = cn_obj_from_store(page.items[i].value, page.items[i].value_len, page.items[i].mod_rev, NULL);
        if (!o || !cn_obj_deleting(o)) {
            json_decref(o);
            continue;
        }
        if (sweep_namespace(s, cn_obj_name(o)) == 0) {
            /* Contents gone: the "kubernetes" finalizer is satisfied. */
            cn_store_delete(s->store, page.items[i].key, page.items[i].mod_rev, NULL, NULL, NULL);
            cn_info("namespace \"%s\" finalized", cn_obj_name(o));
        } else {
            pending = true;
        }
        json_decref(o);
    }
    cn_kv_list_release(&page);
    free(prefix);
    return pending;
}

static void *ctl_main(void *arg)
{
    cn_apiserver *s = arg;
    bool pending = true;   /* check once at start: a restart may leave work */
    pthread_mutex_lock(&s->ctl_lock);
    while (!s->stopping) {
        if (!pending && !s->ctl_kick) {
            pthread_cond_wait(&s->ctl_cond, &s->ctl_lock);
            continue;
        }
        if (pending && !s->ctl_kick) {
            /* Objects with finalizers hold a namespace: look again shortly. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&s->ctl_cond, &s->ctl_lock, &ts);
            if (s->stopping) break;
        }
        s->ctl_kick = false;
        pthread_mutex_unlock(&s->ctl_lock);
        pending = finalize_namespaces(s);
        pthread_mutex_lock(&s->ctl_lock);
    }
    pthread_mutex_unlock(&s->ctl_lock);
    return NULL;
}

int cn_ctl_start(cn_apiserver *s, cn_err *err)
{
    int r = pthread_create(&s->ctl_thread, NULL, ctl_main, s);
    if (r != 0) return cn_err_internal(err, "cannot start controller thread: %s", strerror(r)), -r;
    s->ctl_started = true;
    return 0;
}

void cn_ctl_stop(cn_apiserver *s)
{
    if (!s->ctl_started) return;
    pthread_mutex_lock(&s->ctl_lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
    pthread_join(s->ctl_thread, NULL);
    s->ctl_started = false;
}

void cn_ctl_kick(cn_apiserver *s)
{
    pthread_mutex_lock(&s->ctl_lock);
    s->ctl_kick = true;
    pthread_cond_broadcast(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
}
