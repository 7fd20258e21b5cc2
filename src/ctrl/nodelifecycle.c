/* nodelifecycle: see nodelifecycle.h. Two work queues:
 *  - nodes: a sync checks the node's last sign of life (the controller's
 *    own clock when it last saw the Lease's renewTime or the Ready
 *    heartbeat change — never the remote timestamps, as upstream, so clock
 *    skew does not matter), marks it Unknown when stale, fixes its taints,
 *    marks its pods not ready, and asks to be run again when the grace
 *    period would run out;
 *  - pods: the taint manager — deletes a pod now or queues it again for
 *    the moment its tolerationSeconds end.
 * After a (re)start every node gets a full grace period from the moment
 * the controller first sees it. */
#include "ctrl/nodelifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define NODE_LEASE_NS "kube-node-lease"
#define NODE_INDEX "spec.nodeName"
#define UNKNOWN_MSG "Kubelet stopped posting node status."

/* ---- pure decisions ---- */

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

bool cn_nlc_tolerates(const json_t *tol, const json_t *taint)
{
    const char *te = str(tol, "effect");
    if (*te && strcmp(te, str(taint, "effect"))) return false;
    const char *tk = str(tol, "key");
    const char *op = str(tol, "operator");
    if (!*tk) return !strcmp(op, "Exists");     /* empty key + Exists: every taint */
    if (strcmp(tk, str(taint, "key"))) return false;
    if (!strcmp(op, "Exists")) return true;
    if (*op && strcmp(op, "Equal")) return false;
    return !strcmp(str(tol, "value"), str(taint, "value"));
}

int cn_nlc_eviction(const json_t *tolerations, const json_t *taints, int64_t now_s, int64_t *at_s)
{
    size_t i, j;
    json_t *t, *tol;
    bool any = false, limited = false;
    int64_t base = INT64_MAX, min_secs = INT64_MAX;
    json_array_foreach(taints, i, t) {
        if (strcmp(str(t, "effect"), "NoExecute")) continue;
        any = true;
        int64_t added;
        const char *ta = str(t, "timeAdded");
        if (!*ta || cn_time_parse(ta, &added) < 0) added = now_s;
        if (added < base) base = added;
        bool tolerated = false;
        json_array_foreach(tolerations, j, tol) {
            if (!cn_nlc_tolerates(tol, t)) continue;
            tolerated = true;
            json_t *ts = json_object_get(tol, "tolerationSeconds");
            if (json_is_integer(ts)) {
                limited = true;
                int64_t v = json_integer_value(ts);
                if (v < 0) v = 0;
                if (v < min_secs) min_secs = v;
            }
        }
        if (!tolerated) {
            *at_s = now_s;
            return 1;
        }
    }
    if (!any || !limited) return 0;
    *at_s = base + min_secs;
    return 1;
}

static json_t *condition(const json_t *node, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
        if (!strcmp(str(c, "type"), type)) return c;
    return NULL;
}

const char *cn_nlc_ready(const json_t *node)
{
    const char *s = str(condition(node, "Ready"), "status");
    return !strcmp(s, "True") ? "True" : !strcmp(s, "False") ? "False" : "Unknown";
}

static bool is_ours(const json_t *taint)
{
    const char *k = str(taint, "key");
    return !strcmp(k, CN_TAINT_NOT_READY) || !strcmp(k, CN_TAINT_UNREACHABLE) ||
           !strcmp(k, CN_TAINT_UNSCHEDULABLE);
}

static bool same_taint(const json_t *a, const char *key, const char *effect)
{
    return !strcmp(str(a, "key"), key) && !strcmp(str(a, "effect"), effect);
}

json_t *cn_nlc_desired_taints(const json_t *node, int64_t now_s)
{
    const json_t *cur = json_object_get(json_object_get(node, "spec"), "taints");
    const char *ready = cn_nlc_ready(node);
    bool unsched = json_is_true(json_object_get(json_object_get(node, "spec"), "unschedulable"));
    struct { const char *key, *effect; } want[3];
    size_t nwant = 0;
    if (!strcmp(ready, "False")) {
        want[nwant++] = (typeof(want[0])){ CN_TAINT_NOT_READY, "NoSchedule" };
        want[nwant++] = (typeof(want[0])){ CN_TAINT_NOT_READY, "NoExecute" };
    } else if (!strcmp(ready, "Unknown")) {
        want[nwant++] = (typeof(want[0])){ CN_TAINT_UNREACHABLE, "NoSchedule" };
        want[nwant++] = (typeof(want[0])){ CN_TAINT_UNREACHABLE, "NoExecute" };
    }
    if (unsched) want[nwant++] = (typeof(want[0])){ CN_TAINT_UNSCHEDULABLE, "NoSchedule" };

    json_t *out = json_array();
    bool changed = false;
    size_t i;
    json_t *t;
    json_array_foreach(cur, i, t) {
        bool keep = !is_ours(t);
        for (size_t k = 0; !keep && k < nwant; k++) keep = same_taint(t, want[k].key, want[k].effect);
        if (keep) json_array_append(out, t);
        else changed = true;
    }
    char ts[32];
    cn_time_rfc3339(now_s, ts);
    for (size_t k = 0; k < nwant; k++) {
        bool have = false;
        json_array_foreach(cur, i, t) have = have || same_taint(t, want[k].key, want[k].effect);
        if (have) continue;
        json_t *nt = json_pack("{s:s,s:s}", "key", want[k].key, "effect", want[k].effect);
        if (!strcmp(want[k].effect, "NoExecute")) json_object_set_new(nt, "timeAdded", json_string(ts));
        json_array_append_new(out, nt);
        changed = true;
    }
    if (!changed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *cn_nlc_unknown_conditions(const json_t *node, int64_t now_s)
{
    char ts[32];
    cn_time_rfc3339(now_s, ts);
    json_t *out = json_array();
    bool has_ready = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c) {
        json_t *n = json_deep_copy(c);
        if (!strcmp(str(c, "type"), "Ready")) has_ready = true;
        if (strcmp(str(c, "status"), "Unknown")) json_object_set_new(n, "lastTransitionTime", json_string(ts));
        json_object_set_new(n, "status", json_string("Unknown"));
        json_object_set_new(n, "reason", json_string("NodeStatusUnknown"));
        json_object_set_new(n, "message", json_string(UNKNOWN_MSG));
        json_array_append_new(out, n);
    }
    if (!has_ready)
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "Ready", "status", "Unknown",
                                             "reason", "NodeStatusUnknown", "message", UNKNOWN_MSG,
                                             "lastHeartbeatTime", ts, "lastTransitionTime", ts));
    return out;
}

/* ---- the controller ---- */

typedef struct probe {
    char *renew;                 /* last renewTime / heartbeat seen */
    int64_t at_ms;               /* local time it was seen to change */
    bool has_lease;              /* a Lease of this node was seen */
} probe;

typedef struct nlc {
    cn_client *c;
    cn_recorder *rec;
    cn_informer *nodes, *leases, *pods;
    cn_workqueue *nq, *pq;
    cn_ctrl_workers *nw, *pw;
    int64_t grace_ms;
    pthread_mutex_t mu;
    cn_strmap *probes;           /* node name -> probe */
} nlc;

static void probe_free(void *p)
{
    probe *pr = p;
    if (!pr) return;
    free(pr->renew);
    free(pr);
}

/* A sign of life: `mark` is the Lease's renewTime or the Ready heartbeat.
 * NULL mark: just make sure the node has a probe (first sight = now).
 * True when the node needs a look: it had been silent for longer than the
 * grace period and came back, or this is its first Lease. */
static bool probe_see(nlc *n, const char *node, const char *mark, bool lease)
{
    bool back = false;
    pthread_mutex_lock(&n->mu);
    probe *p = cn_strmap_get(n->probes, node);
    if (!p) {
        p = cn_calloc(1, sizeof *p);
        p->renew = cn_strdup(mark ? mark : "");
        p->at_ms = cn_now_ms();
        cn_strmap_put(n->probes, node, p);
    } else if (mark && *mark && strcmp(p->renew, mark)) {
        free(p->renew);
        p->renew = cn_strdup(mark);
        int64_t now = cn_now_ms();
        back = now - p->at_ms > n->grace_ms;
        p->at_ms = now;
    }
    if (lease && !p->has_lease) {
        p->has_lease = true;
        back = true;   /* monitored from now on: its first look is due */
    }
    pthread_mutex_unlock(&n->mu);
    return back;
}

/* Milliseconds since the node's last sign of life; -1 if never seen. A
 * node that never had a Lease (an object made by hand, as tests do: no
 * kubelet will ever renew anything) is not aged: *monitored is false. */
static int64_t probe_age(nlc *n, const char *node, bool *monitored)
{
    pthread_mutex_lock(&n->mu);
    probe *p = cn_strmap_get(n->probes, node);
    int64_t age = p ? cn_now_ms() - p->at_ms : -1;
    *monitored = p && p->has_lease;
    pthread_mutex_unlock(&n->mu);
    return age;
}

static const char *heartbeat(const json_t *node)
{
    const json_t *r = condition(node, "Ready");
    /* Our own Unknown write keeps the heartbeat: only a kubelet moves it. */
    return r && strcmp(str(r, "status"), "Unknown") ? str(r, "lastHeartbeatTime") : NULL;
}

static bool noexec_changed(const json_t *a, const json_t *b)
{
    json_t *ta = json_object_get(json_object_get(a, "spec"), "taints");
    json_t *tb = json_object_get(json_object_get(b, "spec"), "taints");
    return !json_equal(ta ? ta : json_null(), tb ? tb : json_null());
}

static size_t node_index(const json_t *obj, const char **keys, size_t max)
{
    const char *n = cn_json_str_at(obj, "spec.nodeName");
    if (!*n || !max) return 0;
    keys[0] = n;
    return 1;
}

typedef struct podvisit {
    nlc *n;
    json_t *list;
} podvisit;

static bool collect_pod(void *ud, const json_t *pod)
{
    json_array_append(((podvisit *)ud)->list, (json_t *)pod);
    return true;
}

static json_t *pods_on(nlc *n, const char *node)
{
    podvisit v = { n, json_array() };
    cn_informer_foreach_index(n->pods, NODE_INDEX, node, collect_pod, &v);
    return v.list;
}

static void queue_pods(nlc *n, const char *node)
{
    json_t *pods = pods_on(n, node);
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) {
        char *k = cn_ctrl_key(p);
        cn_workqueue_add(n->pq, k);
        free(k);
    }
    json_decref(pods);
}

static void node_add(void *ud, const json_t *obj)
{
    nlc *n = ud;
    const char *name = cn_meta_str(obj, "name");
    probe_see(n, name, NULL, false);
    probe_see(n, name, heartbeat(obj), false);
    cn_workqueue_add(n->nq, name);
}

static void node_update(void *ud, const json_t *old, const json_t *obj)
{
    nlc *n = ud;
    const char *name = cn_meta_str(obj, "name");
    probe_see(n, name, heartbeat(obj), false);
    cn_workqueue_add(n->nq, name);
    if (noexec_changed(old, obj)) queue_pods(n, name);
}

static void node_delete(void *ud, const json_t *obj)
{
    nlc *n = ud;
    pthread_mutex_lock(&n->mu);
    probe_free(cn_strmap_del(n->probes, cn_meta_str(obj, "name")));
    pthread_mutex_unlock(&n->mu);
}

static void lease_seen(nlc *n, const json_t *lease)
{
    if (strcmp(cn_meta_str(lease, "namespace"), NODE_LEASE_NS)) return;
    const char *name = cn_meta_str(lease, "name");
    if (probe_see(n, name, cn_json_str_at(lease, "spec.renewTime"), true)) cn_workqueue_add(n->nq, name);
}

static void lease_add(void *ud, const json_t *obj) { lease_seen(ud, obj); }
static void lease_update(void *ud, const json_t *old, const json_t *obj) { lease_seen(ud, obj); }

/* A pod matters to the taint manager only on a node with NoExecute taints. */
static void pod_seen(nlc *n, const json_t *pod)
{
    const char *node = cn_json_str_at(pod, "spec.nodeName");
    if (!*node || *cn_meta_str(pod, "deletionTimestamp")) return;
    json_t *nd = cn_informer_get(n->nodes, NULL, node);
    bool noexec = false;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(nd, "spec"), "taints"), i, t)
        noexec = noexec || !strcmp(str(t, "effect"), "NoExecute");
    json_decref(nd);
    if (!noexec) return;
    char *k = cn_ctrl_key(pod);
    cn_workqueue_add(n->pq, k);
    free(k);
}

static void pod_add(void *ud, const json_t *obj) { pod_seen(ud, obj); }
static void pod_update(void *ud, const json_t *old, const json_t *obj) { pod_seen(ud, obj); }

/* Ready=False on the pods of a node that is not Ready (upstream's
 * MarkPodsNotReady), so Services stop routing to them. */
static int mark_pods_not_ready(nlc *n, const char *node, cn_err *err)
{
    json_t *pods = pods_on(n, node);
    int ret = 0;
    size_t i;
    json_t *p;
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    json_array_foreach(pods, i, p) {
        const char *phase = cn_json_str_at(p, "status.phase");
        if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) continue;
        json_t *upd = json_deep_copy(p);
        size_t j;
        json_t *c;
        bool changed = false;
        json_array_foreach(json_object_get(json_object_get(upd, "status"), "conditions"), j, c) {
            if (strcmp(str(c, "type"), "Ready") || strcmp(str(c, "status"), "True")) continue;
            json_object_set_new(c, "status", json_string("False"));
            json_object_set_new(c, "lastTransitionTime", json_string(ts));
            changed = true;
        }
        if (changed) {
            char *path = cn_client_path("", "v1", cn_meta_str(p, "namespace"), "pods", cn_meta_str(p, "name"), "status");
            if (cn_client_update(n->c, path, upd, NULL, err) < 0 && err->code != 404) ret = -EAGAIN;
            cn_err_clear(err);
            free(path);
        }
        json_decref(upd);
    }
    json_decref(pods);
    return ret;
}

static int node_sync(void *ud, const char *name)
{
    nlc *n = ud;
    cn_err err = CN_ERR_INIT;
    int ret = 0;
    json_t *node = cn_informer_get(n->nodes, NULL, name);
    if (!node) return 0;
    int64_t now_s = cn_wall_s();
    bool monitored;
    int64_t age = probe_age(n, name, &monitored);
    if (age < 0) {
        probe_see(n, name, NULL, false);
        age = 0;
    }
    bool stale = monitored && age > n->grace_ms;
    if (stale && strcmp(cn_nlc_ready(node), "Unknown")) {
        json_t *upd = json_deep_copy(node);
        json_t *st = json_object_get(upd, "status");
        if (!json_is_object(st)) {
            st = json_object();
            json_object_set_new(upd, "status", st);
        }
        json_object_set_new(st, "conditions", cn_nlc_unknown_conditions(node, now_s));
        char *path = cn_client_path("", "v1", NULL, "nodes", name, "status");
        json_t *out = NULL;
        int r = cn_client_update(n->c, path, upd, &out, &err);
        free(path);
        json_decref(upd);
        if (r < 0) {
            if (err.code != 404 && err.code != 409) cn_warn("node %s: status update: %s", name, err.message ? err.message : "");
            ret = err.code == 404 ? 0 : -EAGAIN;
            goto out;
        }
        cn_info("node %s: no heartbeat for %lld ms: Ready Unknown", name, (long long)age);
        cn_recorder_event(n->rec, node, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady", name);
        json_decref(node);
        node = out;
    }
    json_t *taints = cn_nlc_desired_taints(node, now_s);
    if (taints) {
        json_t *upd = json_deep_copy(node);
        json_t *spec = json_object_get(upd, "spec");
        if (!json_is_object(spec)) {
            spec = json_object();
            json_object_set_new(upd, "spec", spec);
        }
        if (json_array_size(taints)) json_object_set_new(spec, "taints", taints);
        else {
            json_decref(taints);
            json_object_del(spec, "taints");
        }
        char *path = cn_client_path("", "v1", NULL, "nodes", name, NULL);
        int r = cn_client_update(n->c, path, upd, NULL, &err);
        free(path);
        json_decref(upd);
        if (r < 0) {
            if (err.code != 404 && err.code != 409) cn_warn("node %s: taints: %s", name, err.message ? err.message : "");
            ret = err.code == 404 ? 0 : -EAGAIN;
            goto out;
        }
    }
    if (strcmp(cn_nlc_ready(node), "True") && mark_pods_not_ready(n, name, &err) < 0) ret = -EAGAIN;
    /* Look again when the grace period would run out. */
    if (monitored && !stale) cn_workqueue_add_after(n->nq, name, n->grace_ms - age + 50);
out:
    cn_err_clear(&err);
    json_decref(node);
    return ret;
}

static int pod_sync(void *ud, const char *key)
{
    nlc *n = ud;
    char ns[254], name[254];
    cn_err err = CN_ERR_INIT;
    int ret = 0;
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *pod = cn_informer_get(n->pods, ns, name);
    if (!pod || *cn_meta_str(pod, "deletionTimestamp")) goto out;
    const char *nodename = cn_json_str_at(pod, "spec.nodeName");
    json_t *node = *nodename ? cn_informer_get(n->nodes, NULL, nodename) : NULL;
    int64_t now = cn_wall_s(), at;
    int ev = node ? cn_nlc_eviction(json_object_get(json_object_get(pod, "spec"), "tolerations"),
                                    json_object_get(json_object_get(node, "spec"), "taints"), now, &at)
                  : 0;
    json_decref(node);
    if (!ev) goto out;
    if (at > now) {
        cn_workqueue_add_after(n->pq, key, (at - now) * 1000);
        goto out;
    }
    char *path = cn_client_path("", "v1", ns, "pods", name, NULL);
    json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid", cn_meta_str(pod, "uid"));
    int r = cn_client_delete(n->c, path, opts, NULL, &err);
    json_decref(opts);
    free(path);
    if (r < 0 && err.code != 404 && err.code != 409) {
        cn_warn("pod %s: taint eviction: %s", key, err.message ? err.message : "");
        ret = -EAGAIN;
    } else if (r >= 0) {
        cn_info("pod %s: evicted from node %s (NoExecute taint)", key, nodename);
        cn_recorder_event(n->rec, pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod %s", key);
    }
out:
    cn_err_clear(&err);
    json_decref(pod);
    return ret;
}

static int nlc_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    nlc *n = cn_calloc(1, sizeof *n);
    n->c = ctx->client;
    n->grace_ms = ctx->cfg && ctx->cfg->node_monitor_grace_ms > 0 ? ctx->cfg->node_monitor_grace_ms : 40000;
    n->rec = cn_recorder_new(ctx->client, "node-controller");
    pthread_mutex_init(&n->mu, NULL);
    n->probes = cn_strmap_new();
    n->nq = cn_workqueue_new(30000);
    n->pq = cn_workqueue_new(30000);
    n->nodes = cn_informers_get(ctx->inf, "", "v1", "nodes");
    n->leases = cn_informers_get(ctx->inf, "coordination.k8s.io", "v1", "leases");
    n->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    cn_informer_add_index(n->pods, NODE_INDEX, node_index);
    cn_informer_add_handler(n->nodes, &(cn_informer_handler){ node_add, node_update, node_delete, n });
    cn_informer_add_handler(n->leases, &(cn_informer_handler){ lease_add, lease_update, NULL, n });
    cn_informer_add_handler(n->pods, &(cn_informer_handler){ pod_add, pod_update, NULL, n });
    int workers = ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2;
    n->nw = cn_ctrl_workers_start(ctx, "nodelifecycle", n->nq, workers, node_sync, n);
    n->pw = cn_ctrl_workers_start(ctx, "taint-eviction", n->pq, workers, pod_sync, n);
    *state = n;
    return 0;
}

static void nlc_stop(void *state)
{
    nlc *n = state;
    if (!n) return;
    cn_ctrl_workers_stop(n->nw);
    cn_ctrl_workers_stop(n->pw);
    cn_workqueue_free(n->nq);
    cn_workqueue_free(n->pq);
    cn_recorder_free(n->rec);
    cn_strmap_free(n->probes, probe_free);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

const cn_controller cn_nodelifecycle_controller = { "nodelifecycle", nlc_start, nlc_stop };
