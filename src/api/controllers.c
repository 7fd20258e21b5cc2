/* controllers: the control loops that live inside the API server because
 * the API's own semantics need them: namespace finalization (a deleted
 * namespace is Terminating until its contents are gone) and the CRD
 * lifecycle (names accepted, Established, instances removed with the CRD).
 * Also the bootstrap of a fresh store (the four system namespaces).
 *
 * With several servers over one store (HA), namespace finalization runs only
 * in the process holding the kube-system/cairn-controller-manager Lease
 * (leader.h), and every server follows the store through two watches on the
 * watch cache: namespace changes (a delete served by another server kicks
 * the leader's loop) and CRD changes (every server serves a CRD's resources
 * whichever server created it, and stops when it is deleted). */
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
    if (cn_priority_bootstrap(s, err) < 0) return -EIO;
    /* Serve every stored CRD again; the CRD watch resumes from here. */
    s->sync_rev = cn_store_current_rev(s->store);
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
    if (!sw->force && !cn_leader_is_leader(sw->s->elect_cm)) {
        sw->remaining++;
        return -ECANCELED;        /* lost the lease: stop acting at once */
    }
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
        if (sweep_namespace(s, cn_obj_name(o)) == 0 && cn_leader_is_leader(s->elect_cm)) {
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

#define ALLOC_REPAIR_PERIOD_MS 30000

/* Service allocation repair (alloc.c) when due; at start first, which
 * claims what a store from before claims holds. Returns the next due time. */
static int64_t repair_allocations(cn_apiserver *s, int64_t due_ms)
{
    if (cn_now_ms() < due_ms) return due_ms;
    cn_err e = CN_ERR_INIT;
    if (cn_alloc_repair(s, &e) < 0) cn_warn("service allocation repair: %s", e.message);
    cn_err_clear(&e);
    return cn_now_ms() + ALLOC_REPAIR_PERIOD_MS;
}

static void *ctl_main(void *arg)
{
    cn_apiserver *s = arg;
    bool pending = false;   /* acquiring the lease kicks a first full pass */
    bool was_leader = false;
    int64_t repair_due = 0;
    pthread_mutex_lock(&s->ctl_lock);
    while (!s->stopping) {
        if (!pending && !s->ctl_kick && cn_now_ms() < repair_due) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (repair_due - cn_now_ms()) / 1000 + 1;
            pthread_cond_timedwait(&s->ctl_cond, &s->ctl_lock, &ts);
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
        /* A follower ignores kicks; becoming leader kicks again. */
        bool leader = cn_leader_is_leader(s->elect_cm);
        pending = leader && finalize_namespaces(s);
        if (leader && !was_leader) repair_due = 0;   /* a new leader repairs at once */
        repair_due = leader ? repair_allocations(s, repair_due) : cn_now_ms() + ALLOC_REPAIR_PERIOD_MS;
        was_leader = leader;
        pthread_mutex_lock(&s->ctl_lock);
    }
    pthread_mutex_unlock(&s->ctl_lock);
    return NULL;
}

/* --- following the store: namespace and CRD watches --- */

struct cn_ctl_watch {
    cn_apiserver *s;
    char *prefix;
    void (*on_event)(cn_apiserver *s, cn_wevent *ev);
    void (*resync)(cn_apiserver *s);
    pthread_t thread;
    bool started;
};

enum { WATCH_NS, WATCH_CRD, NWATCHES };

static void ns_event(cn_apiserver *s, cn_wevent *ev)
{
    const json_t *o = cn_wevent_object(ev);
    if (ev->type == CN_EV_PUT && o && cn_obj_deleting(o)) cn_ctl_kick(s);
}

static void ns_resync(cn_apiserver *s)
{
    cn_ctl_kick(s);
}

static const cn_resource *crd_res(cn_apiserver *s)
{
    return cn_registry_lookup(s->reg, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
}

/* Serve what the store holds now for one CRD key, not what the event
 * carried: events may trail the serving server's synchronous update, and
 * the current value never moves the registry backwards. */
static void crd_follow(cn_apiserver *s, const char *key)
{
    cn_kv kv = { 0 };
    int r = cn_store_get(s->store, key, &kv, NULL);
    if (r == -ENOENT) {
        const char *slash = strrchr(key, '/');
        if (slash) cn_registry_remove_crd(s->reg, slash + 1);
    } else if (r >= 0) {
        serve_crd(s, &kv);
    }
    cn_kv_release(&kv);
}

static void crd_event(cn_apiserver *s, cn_wevent *ev)
{
    crd_follow(s, ev->key);
}

struct names {
    char **items;
    size_t n;
};

static void collect_crd_names(const cn_resource *res, void *ud)
{
    struct names *nm = ud;
    if (!(res->flags & CN_RES_CUSTOM) || !res->crd_name) return;
    for (size_t i = 0; i < nm->n; i++)
        if (!strcmp(nm->items[i], res->crd_name)) return;
    nm->items = cn_realloc(nm->items, (nm->n + 1) * sizeof *nm->items);
    nm->items[nm->n++] = cn_strdup(res->crd_name);
}

/* After missed events: serve every stored CRD, drop those no longer stored. */
static void crd_resync(cn_apiserver *s)
{
    char *prefix = cn_resource_key_prefix(crd_res(s));
    cn_obj_foreach(s, prefix, serve_crd, s, NULL);
    struct names nm = { 0 };
    cn_registry_foreach(s->reg, collect_crd_names, &nm);
    for (size_t i = 0; i < nm.n; i++) {
        char *key = cn_asprintf("%s%s", prefix, nm.items[i]);
        crd_follow(s, key);
        free(key);
        free(nm.items[i]);
    }
    free(nm.items);
    free(prefix);
}

static void *watch_main(void *arg)
{
    struct cn_ctl_watch *w = arg;
    cn_apiserver *s = w->s;
    int64_t from = s->sync_rev;
    for (;;) {
        cn_watcher *wt = NULL;
        int r = cn_watchcache_watch(s->wc, w->prefix, from, &wt, NULL);
        while (r >= 0) {
            cn_wevent *ev = NULL;
            r = cn_watcher_next(wt, 60000, &ev);
            if (r > 0) {
                from = ev->rev;
                w->on_event(s, ev);
                cn_wevent_unref(ev);
            }
        }
        cn_watcher_free(wt);
        if (r == -ESHUTDOWN) break;
        /* Fell behind or history gone: start over from now, then look at
         * everything once so nothing in between is missed. */
        cn_warn("controllers: watch on \"%s\" restarted (%s)", w->prefix, strerror(-r));
        from = cn_store_current_rev(s->store);
        w->resync(s);
        if (r != -ERANGE) {
            /* A store error: do not spin. Stop ends the wait. */
            pthread_mutex_lock(&s->ctl_lock);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (!s->stopping) pthread_cond_timedwait(&s->ctl_cond, &s->ctl_lock, &ts);
            bool stop = s->stopping;
            pthread_mutex_unlock(&s->ctl_lock);
            if (stop) break;
        }
    }
    return NULL;
}

static void stop_watches(cn_apiserver *s)
{
    struct cn_ctl_watch *ws = s->ctl_watches;
    if (!ws) return;
    if (s->wc) cn_watchcache_close(s->wc);   /* ends every watch */
    for (int i = 0; i < NWATCHES; i++) {
        if (ws[i].started) pthread_join(ws[i].thread, NULL);
        free(ws[i].prefix);
    }
    free(ws);
    s->ctl_watches = NULL;
}

static int start_watches(cn_apiserver *s, cn_err *err)
{
    struct cn_ctl_watch *ws = cn_calloc(NWATCHES, sizeof *ws);
    s->ctl_watches = ws;
    ws[WATCH_NS] = (struct cn_ctl_watch){ .s = s, .prefix = cn_resource_key_prefix(ns_res(s)),
                                            .on_event = ns_event, .resync = ns_resync };
    ws[WATCH_CRD] = (struct cn_ctl_watch){ .s = s, .prefix = cn_resource_key_prefix(crd_res(s)),
                                             .on_event = crd_event, .resync = crd_resync };
    for (int i = 0; i < NWATCHES; i++) {
        int r = pthread_create(&ws[i].thread, NULL, watch_main, &ws[i]);
        if (r != 0) return cn_err_internal(err, "cannot start controller watch: %s", strerror(r)), -r;
        ws[i].started = true;
    }
    return 0;
}

/* --- leader election --- */

static void cm_leader_changed(void *ud, bool leader)
{
    cn_apiserver *s = ud;
    if (leader) cn_info("controllers: leading as \"%s\"", s->identity);
    cn_ctl_kick(s);   /* a new leader resyncs; a lost one just looks */
}

static int elect(cn_apiserver *s, const cn_apiserver_config *cfg, const char *name,
                 void (*on_change)(void *, bool), cn_leader **out, cn_err *err)
{
    const cn_resource *lease = cn_registry_lookup(s->reg, "coordination.k8s.io", "v1", "leases");
    char *key = cn_obj_key(lease, "kube-system", name);
    cn_leader_config lc = {
        .key = key, .ns = "kube-system", .name = name, .identity = s->identity,
        .lease_ms = cfg->leader_lease_ms, .renew_deadline_ms = cfg->leader_renew_deadline_ms,
        .retry_ms = cfg->leader_retry_ms, .on_change = on_change, .ud = s,
    };
    int r = cn_leader_start(s->store, &lc, out, err);
    free(key);
    return r;
}

int cn_ctl_start(cn_apiserver *s, const cn_apiserver_config *cfg, cn_err *err)
{
    int r = pthread_create(&s->ctl_thread, NULL, ctl_main, s);
    if (r != 0) return cn_err_internal(err, "cannot start controller thread: %s", strerror(r)), -r;
    s->ctl_started = true;
    r = start_watches(s, err);
    if (r < 0) return r;
    s->identity = cn_leader_new_identity();
    r = elect(s, cfg, "cairn-controller-manager", cm_leader_changed, &s->elect_cm, err);
    if (r < 0) return r;
    /* No scheduler yet (issue 5): the lease is held so it can gate on it. */
    r = elect(s, cfg, "cairn-scheduler", NULL, &s->elect_sched, err);
    /* The endpoint IP has a lease of its own: which server holds it must
     * not depend on which one runs the controllers. */
    if (r == 0 && cfg->elect_vip) r = elect(s, cfg, "cairn-vip", NULL, &s->elect_vip, err);
    return r;
}

void cn_ctl_stop(cn_apiserver *s)
{
    stop_watches(s);
    if (s->ctl_started) {
        pthread_mutex_lock(&s->ctl_lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->ctl_cond);
        pthread_mutex_unlock(&s->ctl_lock);
        pthread_join(s->ctl_thread, NULL);
        s->ctl_started = false;
    }
    /* Loops have stopped acting: hand the leases over at once. */
    cn_leader_stop(s->elect_cm, true);
    cn_leader_stop(s->elect_sched, true);
    cn_leader_stop(s->elect_vip, true);
    s->elect_cm = s->elect_sched = s->elect_vip = NULL;
    free(s->identity);
    s->identity = NULL;
}

void cn_ctl_kick(cn_apiserver *s)
{
    pthread_mutex_lock(&s->ctl_lock);
    s->ctl_kick = true;
    pthread_cond_broadcast(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
}
