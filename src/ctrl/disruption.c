/* disruption: PodDisruptionBudget status — kube-controller-manager's
 * disruption controller. For each PDB it counts the pods its selector picks
 * (expectedPods), the healthy ones (Ready, not being deleted, not recently
 * evicted), the number that must stay healthy (desiredHealthy, from
 * minAvailable or maxUnavailable; percentages scale with the replicas of
 * the pods' controllers: Deployment, ReplicaSet, StatefulSet), and from
 * those disruptionsAllowed, which the eviction subresource (api/eviction.c)
 * spends one at a time.
 *
 * status.disruptedPods holds the pods an eviction has been granted for but
 * which the pod cache may still show as healthy; an entry is dropped once
 * the pod is gone or being deleted, or after two minutes (upstream's
 * DeletionTimeout), and the PDB is looked at again then.
 *
 * Keys are "ns/name" of PDBs; any pod change queues the PDBs of its
 * namespace whose selector matches the old or new labels. */
#include "ctrl/housekeeping.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector.h"
#include "lib/log.h"
#include "lib/util.h"

#define DELETION_TIMEOUT_S 120

/* ---- pure ---- */

static bool pod_ready(const json_t *pod)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", "Ready"))
            return !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
    return false;
}

bool cn_pdb_pod_healthy(const json_t *pod)
{
    return !*cn_meta_str(pod, "deletionTimestamp") && pod_ready(pod);
}

int64_t cn_pdb_scaled(const json_t *v, int64_t total)
{
    if (json_is_integer(v)) return json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s) return -1;
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != '%') {
        int64_t x;
        return s && cn_parse_int64(s, &x) == 0 ? x : -1;
    }
    char *num = cn_strndup(s, n - 1);
    int64_t p;
    int r = cn_parse_int64(num, &p);
    free(num);
    if (r < 0 || p < 0) return -1;
    return (p * total + 99) / 100;
}

static void put_condition(json_t *st, const json_t *old_st, bool allowed, const char *reason, int64_t now)
{
    const char *status = allowed ? "True" : "False";
    char ts[32];
    cn_time_rfc3339(now, ts);
    const char *ltt = ts;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(old_st, "conditions"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", "DisruptionAllowed") &&
            !strcmp(json_string_value(json_object_get(c, "status")) ?: "", status) &&
            json_string_value(json_object_get(c, "lastTransitionTime")))
            ltt = json_string_value(json_object_get(c, "lastTransitionTime"));
    json_object_set_new(st, "conditions",
                        json_pack("[{s:s,s:s,s:s,s:s,s:s,s:O}]", "type", "DisruptionAllowed", "status", status,
                                  "reason", reason, "message", "", "lastTransitionTime", ltt,
                                  "observedGeneration", json_object_get(st, "observedGeneration")));
}

static const json_t *find_pod(const json_t *pods, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) if (!strcmp(cn_meta_str(p, "name"), name)) return p;
    return NULL;
}

json_t *cn_pdb_status(const json_t *pdb, const json_t *pods, int64_t expected_scale, int64_t now,
                      int64_t *requeue_s)
{
    json_t *spec = json_object_get(pdb, "spec");
    json_t *old = json_object_get(pdb, "status");
    json_t *minav = json_object_get(spec, "minAvailable"), *maxun = json_object_get(spec, "maxUnavailable");
    int64_t expected = 0, desired = 0;
    bool failed = false;
    if (maxun && !json_is_null(maxun)) {
        expected = expected_scale;
        int64_t mu = cn_pdb_scaled(maxun, expected);
        failed = mu < 0;
        desired = expected - mu;
        if (desired < 0) desired = 0;
    } else if (minav && !json_is_null(minav)) {
        if (json_is_integer(minav)) {
            desired = json_integer_value(minav);
            expected = (int64_t)json_array_size(pods);
        } else {
            expected = expected_scale;
            desired = cn_pdb_scaled(minav, expected);
            failed = desired < 0;
        }
    }
    *requeue_s = 0;
    json_t *disrupted = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(old, "disruptedPods"), k, v) {
        const json_t *p = find_pod(pods, k);
        int64_t t;
        if (!p || *cn_meta_str(p, "deletionTimestamp")) continue;
        if (!json_string_value(v) || cn_time_parse(json_string_value(v), &t) < 0) continue;
        if (t + DELETION_TIMEOUT_S <= now) continue;
        json_object_set(disrupted, k, v);
        int64_t left = t + DELETION_TIMEOUT_S - now;
        if (!*requeue_s || left < *requeue_s) *requeue_s = left;
    }
    int64_t healthy = 0;
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p)
        if (cn_pdb_pod_healthy(p) && !json_object_get(disrupted, cn_meta_str(p, "name"))) healthy++;
    int64_t allowed = healthy - desired;
    if (failed || expected <= 0 || allowed <= 0) allowed = 0;
    json_t *st = json_object();
    json_object_set_new(st, "observedGeneration",
                        json_integer(json_integer_value(json_object_get(json_object_get(pdb, "metadata"), "generation"))));
    if (json_object_size(disrupted)) json_object_set(st, "disruptedPods", disrupted);
    json_object_set_new(st, "disruptionsAllowed", json_integer(allowed));
    json_object_set_new(st, "currentHealthy", json_integer(healthy));
    json_object_set_new(st, "desiredHealthy", json_integer(failed ? 0 : desired));
    json_object_set_new(st, "expectedPods", json_integer(expected));
    put_condition(st, old, allowed > 0, failed ? "SyncFailed" : allowed > 0 ? "SufficientPods" : "InsufficientPods", now);
    json_decref(disrupted);
    return st;
}

/* ---- controller ---- */

typedef struct pdb_ctrl {
    cn_ctrl_ctx *ctx;
    cn_informer *pdbs, *pods, *rs, *deploy, *sts;
    cn_workqueue *q;
    cn_ctrl_workers *w;
} pdb_ctrl;

struct pod_match {
    pdb_ctrl *c;
    const json_t *labels[2];
};

static bool queue_matching(void *ud, const json_t *pdb)
{
    struct pod_match *m = ud;
    json_t *js = json_object_get(json_object_get(pdb, "spec"), "selector");
    cn_selector *sel = NULL;
    if (!json_is_object(js) || cn_selector_from_json(js, &sel, NULL) < 0) return true;
    for (int i = 0; i < 2; i++) {
        if (m->labels[i] && cn_selector_matches(sel, m->labels[i])) {
            char *key = cn_ctrl_key(pdb);
            cn_workqueue_add(m->c->q, key);
            free(key);
            break;
        }
    }
    cn_selector_free(sel);
    return true;
}

static void pod_event(pdb_ctrl *c, const json_t *old, const json_t *obj)
{
    static const json_t *const none = NULL;
    struct pod_match m = { c, { old ? json_object_get(json_object_get(old, "metadata"), "labels") : none,
                                json_object_get(json_object_get(obj, "metadata"), "labels") } };
    /* A pod without labels matches an empty selector. */
    json_t *empty = json_object();
    if (!m.labels[1]) m.labels[1] = empty;
    cn_informer_foreach_ns(c->pdbs, cn_meta_str(obj, "namespace"), queue_matching, &m);
    json_decref(empty);
}

static void pod_add(void *ud, const json_t *obj) { pod_event(ud, NULL, obj); }
static void pod_upd(void *ud, const json_t *old, const json_t *obj) { pod_event(ud, old, obj); }
static void pod_del(void *ud, const json_t *obj) { pod_event(ud, NULL, obj); }

static void pdb_add(void *ud, const json_t *obj)
{
    pdb_ctrl *c = ud;
    char *key = cn_ctrl_key(obj);
    cn_workqueue_add(c->q, key);
    free(key);
}

static void pdb_upd(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    pdb_add(ud, obj);
}

struct pods_sel {
    cn_selector *sel;
    json_t *out;
};

static bool collect_pod(void *ud, const json_t *pod)
{
    struct pods_sel *s = ud;
    json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
    json_t *empty = NULL;
    if (!labels) labels = empty = json_object();
    if (cn_selector_matches(s->sel, labels)) json_array_append(s->out, (json_t *)pod);
    json_decref(empty);
    return true;
}

static int64_t replicas_of(const json_t *obj)
{
    json_t *r = json_object_get(json_object_get(obj, "spec"), "replicas");
    return json_is_integer(r) ? json_integer_value(r) : 1;
}

static const json_t *controller_ref(const json_t *obj)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

/* Summed replicas of the pods' controllers (a pod without one counts 1,
 * as does a pod of a controller kind without replicas here). */
static int64_t expected_scale(pdb_ctrl *c, const char *ns, const json_t *pods)
{
    json_t *seen = json_object();
    int64_t total = 0;
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) {
        const json_t *ref = controller_ref(p);
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        if (!ref || !kind || !name || !uid) {
            total++;
            continue;
        }
        if (json_object_get(seen, uid)) continue;
        json_object_set_new(seen, uid, json_true());
        json_t *owner = NULL;
        if (!strcmp(kind, "ReplicaSet")) owner = cn_informer_get(c->rs, ns, name);
        else if (!strcmp(kind, "StatefulSet")) owner = cn_informer_get(c->sts, ns, name);
        if (!owner || strcmp(cn_meta_str(owner, "uid"), uid)) {
            json_decref(owner);
            /* Unknown controller: count its pods. */
            size_t j;
            json_t *q;
            json_array_foreach(pods, j, q)
                if (cn_controller_uid(q) && !strcmp(cn_controller_uid(q), uid)) total++;
            continue;
        }
        const json_t *dref = !strcmp(kind, "ReplicaSet") ? controller_ref(owner) : NULL;
        const char *dkind = json_string_value(json_object_get(dref, "kind"));
        json_t *dep = dkind && !strcmp(dkind, "Deployment")
                          ? cn_informer_get(c->deploy, ns, json_string_value(json_object_get(dref, "name")))
                          : NULL;
        if (dep) {
            const char *duid = cn_meta_str(dep, "uid");
            if (!json_object_get(seen, duid)) total += replicas_of(dep);
            json_object_set_new(seen, duid, json_true());
        } else {
            total += replicas_of(owner);
        }
        json_decref(dep);
        json_decref(owner);
    }
    json_decref(seen);
    return total;
}

static int sync(void *ud, const char *key)
{
    pdb_ctrl *c = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *pdb = cn_informer_get(c->pdbs, ns, name);
    if (!pdb) return 0;
    struct pods_sel s = { NULL, json_array() };
    json_t *js = json_object_get(json_object_get(pdb, "spec"), "selector");
    /* policy/v1: a null selector selects no pods, {} every pod. */
    if (json_is_object(js) && cn_selector_from_json(js, &s.sel, NULL) == 0)
        cn_informer_foreach_ns(c->pods, ns, collect_pod, &s);
    cn_selector_free(s.sel);
    int64_t requeue = 0;
    json_t *st = cn_pdb_status(pdb, s.out, expected_scale(c, ns, s.out), cn_wall_s(), &requeue);
    json_decref(s.out);
    /* lastTransitionTime is kept while the condition holds, so an
     * unchanged status compares equal. */
    int rc = cn_ctrl_put_status(c->ctx->client, "policy", "v1", "poddisruptionbudgets", pdb, st);
    json_decref(st);
    json_decref(pdb);
    if (rc == 0 && requeue > 0) cn_workqueue_add_after(c->q, key, requeue * 1000);
    return rc;
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    pdb_ctrl *c = cn_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->q = cn_workqueue_new(60000);
    c->pdbs = cn_informers_get(ctx->inf, "policy", "v1", "poddisruptionbudgets");
    c->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    c->rs = cn_informers_get(ctx->inf, "apps", "v1", "replicasets");
    c->deploy = cn_informers_get(ctx->inf, "apps", "v1", "deployments");
    c->sts = cn_informers_get(ctx->inf, "apps", "v1", "statefulsets");
    cn_informer_handler hp = { pdb_add, pdb_upd, NULL, c };
    cn_informer_add_handler(c->pdbs, &hp);
    cn_informer_handler hpod = { pod_add, pod_upd, pod_del, c };
    cn_informer_add_handler(c->pods, &hpod);
    c->w = cn_ctrl_workers_start(ctx, "disruption", c->q, ctx->cfg->workers, sync, c);
    *state = c;
    return 0;
}

static void stop(void *state)
{
    pdb_ctrl *c = state;
    cn_ctrl_workers_stop(c->w);
    cn_workqueue_free(c->q);
    free(c);
}

const cn_controller cn_ctrl_disruption = { "disruption", start, stop };
