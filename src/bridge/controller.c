/* controller: the bridge controller (controller.h). One thread works
 * through a queue of cluster names; informers on the fleet kinds feed it,
 * and a periodic resync queues every cluster (inventory) and refreshes the
 * hosts' allocations.
 *
 * A cluster's life, as its status.provisioningState:
 *
 *   (new generation) -> Accepted -> Provisioning | Updating | Upgrading
 *        -> Succeeded | Failed          (deletionTimestamp) -> Deleting -> gone
 *
 * Each change of metadata.generation gets one Operation named
 * <cluster>-<type>-<generation> (Create, Scale, Update, Upgrade; Delete),
 * created before any work and the source of truth for the change in
 * progress: a pass reads it (not a possibly stale cache), works one step
 * further, and mirrors the state and progress message into the Cluster.
 * Everything else is derived from the stored objects (the plan of
 * fleet.h over the informers' snapshot, the VMs, the Secrets, what the
 * probe last saw of the cluster's API), so a restarted bridge continues
 * where it stopped and never makes a VM or a Secret twice (fixed names;
 * AlreadyExists is success). VMs are created and deleted here, never
 * moved: spec.host of an existing VM belongs to failover. */
#include "bridge/controller.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/crds.h"
#include "bridge/ctrl-internal.h"
#include "bridge/drain.h"
#include "bridge/fleet.h"
#include "lib/log.h"
#include "lib/util.h"

/* The drain of fleet-failover (drain.h); until it is linked in, VMs are
 * deleted without one (logged). */
#pragma weak cn_bridge_drain

#define FIN_CLUSTER "fleet.cairn.io/cluster"
#define FIN_VM "fleet.cairn.io/vm"
#define LABEL_CLUSTER "fleet.cairn.io/cluster"
#define ANN_UID "fleet.cairn.io/cluster-uid"
#define ANN_GEN "fleet.cairn.io/generation"
#define WAIT_MS 2000

struct cn_bridge_ctrl {
    cn_bridge_ctrl_config cfg;
    cn_client *c;
    cn_informers *f;
    cn_informer *clusters, *vms, *hosts, *ops, *lnets;
    cn_workqueue *q;
    cn_bridge_probe *probe;
    pthread_t thread;
    bool thread_started;
};

/* ---- small helpers ---- */

static char *fleet_path(const char *plural, const char *name, const char *sub)
{
    return cn_client_path(CN_FLEET_GROUP, CN_FLEET_VERSION, NULL, plural, name, sub);
}

static void now_str(char out[32]) { cn_time_rfc3339(cn_wall_s(), out); }

static bool has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return true;
    return false;
}

static bool deleting(const json_t *obj) { return *cn_meta_str(obj, "deletionTimestamp") != '\0'; }

static bool collect_all(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

json_t *cn_bridge_items(cn_informer *inf)
{
    json_t *a = json_array();
    cn_informer_foreach(inf, collect_all, a);
    return a;
}

struct by_cluster {
    const char *cluster;
    json_t *out;
};

static bool collect_vm(void *ud, const json_t *obj)
{
    struct by_cluster *b = ud;
    if (!strcmp(cn_json_str_at(obj, "spec.cluster"), b->cluster)) json_array_append(b->out, (json_t *)obj);
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(cn_meta_str(*(json_t *const *)a, "name"), cn_meta_str(*(json_t *const *)b, "name"));
}

json_t *cn_bridge_cluster_vms(cn_informer *vms, const char *cluster)
{
    struct by_cluster b = { cluster, json_array() };
    cn_informer_foreach(vms, collect_vm, &b);
    size_t n = json_array_size(b.out);
    json_t **v = cn_calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(b.out, i));
    qsort(v, n, sizeof *v, by_name);
    json_array_clear(b.out);
    for (size_t i = 0; i < n; i++) json_array_append_new(b.out, v[i]);
    free(v);
    return b.out;
}

static cn_fleet *snapshot(cn_bridge_ctrl *k)
{
    json_t *h = cn_bridge_items(k->hosts), *l = cn_bridge_items(k->lnets), *c = cn_bridge_items(k->clusters), *v = cn_bridge_items(k->vms);
    cn_fleet *f = cn_fleet_new(h, l, c, v);
    json_decref(h);
    json_decref(l);
    json_decref(c);
    json_decref(v);
    return f;
}

int cn_bridge_patch_status(cn_client *c, const char *plural, const char *name, json_t *status, cn_err *err)
{
    char *path = fleet_path(plural, name, "status");
    json_t *body = json_pack("{s:o}", "status", status);
    int r = cn_client_patch(c, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    free(path);
    return r;
}

static int patch_status(cn_bridge_ctrl *k, const char *plural, const char *name, json_t *status, cn_err *err)
{
    return cn_bridge_patch_status(k->c, plural, name, status, err);
}

static int64_t op_timeout_ms(const cn_bridge_ctrl *k)
{
    return k->cfg.operation_timeout_ms > 0 ? k->cfg.operation_timeout_ms : 600000;
}

static const char *state_for(const char *type)
{
    if (!strcmp(type, "Create")) return "Provisioning";
    if (!strcmp(type, "Upgrade")) return "Upgrading";
    if (!strcmp(type, "Delete")) return "Deleting";
    return "Updating";
}

static bool terminal(const char *state) { return !strcmp(state, "Succeeded") || !strcmp(state, "Failed"); }

/* ---- operations ---- */

static char *op_name(const char *cluster, const char *type, json_int_t gen)
{
    char lower[16];
    size_t i = 0;
    for (; type[i] && i < sizeof lower - 1; i++) lower[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] + 32 : type[i]);
    lower[i] = 0;
    return cn_asprintf("%s-%s-%lld", cluster, lower, (long long)gen);
}

/* The Operation `name` as stored, if it belongs to this incarnation of the
 * cluster (an operation left by an earlier cluster of the same name is
 * removed). 0 and *out, -ENOENT, or < 0 with err. */
static int op_get(cn_bridge_ctrl *k, const json_t *cluster, const char *name, json_t **out, cn_err *err)
{
    char *path = fleet_path("operations", name, NULL);
    json_t *op = NULL;
    *out = NULL;
    int r = cn_client_get(k->c, path, &op, err);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        r = -ENOENT;
    } else if (r == 0) {
        json_t *ann = json_object_get(json_object_get(op, "metadata"), "annotations");
        const char *ouid = json_string_value(json_object_get(ann, ANN_UID));
        if (ouid && strcmp(ouid, cn_meta_str(cluster, "uid"))) {
            r = cn_client_delete(k->c, path, NULL, NULL, err);
            if (r == 0 || err->code == 404) {
                cn_err_clear(err);
                r = -ENOENT;
            }
        } else {
            *out = json_incref(op);
        }
    }
    json_decref(op);
    free(path);
    return r;
}

static int op_report(cn_bridge_ctrl *k, const json_t *cluster, json_t *op, const char *state,
                     const char *msg, cn_err *err);

static int op_create(cn_bridge_ctrl *k, const json_t *cluster, const char *name, const char *type,
                     json_t **out, cn_err *err)
{
    const char *cname = cn_meta_str(cluster, "name");
    char gen[24], ts[32];
    snprintf(gen, sizeof gen, "%lld", (long long)json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation")));
    now_str(ts);
    json_t *op = json_pack("{s:s,s:s,s:{s:s,s:{s:s},s:{s:s,s:s}},s:{s:s,s:{s:s,s:s}}}",
                           "apiVersion", CN_FLEET_GROUP "/" CN_FLEET_VERSION, "kind", "Operation",
                           "metadata", "name", name, "labels", LABEL_CLUSTER, cname,
                           "annotations", ANN_UID, cn_meta_str(cluster, "uid"), ANN_GEN, gen,
                           "spec", "type", type, "target", "kind", "Cluster", "name", cname);
    char *path = fleet_path("operations", NULL, NULL);
    int r = cn_client_create(k->c, path, op, NULL, err);
    free(path);
    json_decref(op);
    if (r < 0 && err->code != 409) return r;
    cn_err_clear(err);
    r = patch_status(k, "operations", name,
                     json_pack("{s:s,s:s,s:s}", "provisioningState", "Accepted", "message", "accepted",
                               "startTime", ts), err);
    if (r < 0) return r;
    cn_info("cluster \"%s\": operation \"%s\" (%s) accepted", cname, name, type);
    r = op_get(k, cluster, name, out, err);
    /* The cluster says Accepted before any work starts. */
    if (r == 0) r = op_report(k, cluster, *out, "Accepted", "accepted", err);
    return r;
}

/* Record the state and message of an operation and mirror them into the
 * cluster (with its observedGeneration once terminal). Writes only what
 * changed. */
static int op_report(cn_bridge_ctrl *k, const json_t *cluster, json_t *op, const char *state,
                     const char *msg, cn_err *err)
{
    const char *oname = cn_meta_str(op, "name");
    const char *cname = cn_meta_str(cluster, "name");
    int r = 0;
    bool fin = terminal(state);
    if (strcmp(cn_json_str_at(op, "status.provisioningState"), state) ||
        strcmp(cn_json_str_at(op, "status.message"), msg)) {
        json_t *st = json_pack("{s:s,s:s}", "provisioningState", state, "message", msg);
        if (fin) {
            char ts[32];
            now_str(ts);
            json_object_set_new(st, "endTime", json_string(ts));
        }
        r = patch_status(k, "operations", oname, st, err);
        if (r < 0) return r;
        if (fin) cn_info("cluster \"%s\": operation \"%s\" %s: %s", cname, oname, state, msg);
    }
    json_t *cst = json_object_get(cluster, "status");
    json_int_t gen = json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation"));
    json_t *want = json_pack("{s:s,s:s,s:s}", "provisioningState", state, "message", msg, "operation", oname);
    if (fin) json_object_set_new(want, "observedGeneration", json_integer(gen));
    bool same = true;
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) if (!json_equal(v, json_object_get(cst, key))) same = false;
    if (same) {
        json_decref(want);
        return 0;
    }
    return patch_status(k, "clusters", cname, want, err);
}

/* ---- work on VMs ---- */

static int create_vm(cn_bridge_ctrl *k, const json_t *cluster, const json_t *planned, cn_err *err)
{
    json_t *vm = json_deep_copy(planned);
    json_object_set_new(vm, "apiVersion", json_string(CN_FLEET_GROUP "/" CN_FLEET_VERSION));
    json_object_set_new(vm, "kind", json_string("VirtualMachine"));
    json_t *meta = json_object_get(vm, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(vm, "metadata", meta);
    }
    json_object_set_new(meta, "ownerReferences",
                        json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", CN_FLEET_GROUP "/" CN_FLEET_VERSION,
                                  "kind", "Cluster", "name", cn_meta_str(cluster, "name"),
                                  "uid", cn_meta_str(cluster, "uid"), "controller", 1, "blockOwnerDeletion", 1));
    json_t *fins = json_object_get(meta, "finalizers");
    if (!json_is_array(fins)) {
        fins = json_array();
        json_object_set_new(meta, "finalizers", fins);
    }
    if (!has_string(fins, FIN_VM)) json_array_append_new(fins, json_string(FIN_VM));
    char *path = fleet_path("virtualmachines", NULL, NULL);
    int r = cn_client_create(k->c, path, vm, NULL, err);
    if (r < 0 && err->code == 409) {
        cn_err_clear(err);
        r = 0;
    } else if (r == 0) {
        cn_info("cluster \"%s\": virtual machine \"%s\" on host \"%s\", IP %s", cn_meta_str(cluster, "name"),
                cn_meta_str(vm, "name"), cn_json_str_at(vm, "spec.host"), cn_json_str_at(vm, "spec.ip"));
    }
    free(path);
    json_decref(vm);
    return r;
}

/* Drain VM `vm`'s node (when it runs: a VM that never started has no
 * pods) and delete the VM; its host stops it and removes its finalizer. */
static int remove_vm(cn_bridge_ctrl *k, const json_t *cluster, const json_t *vm, cn_err *err)
{
    const char *name = cn_meta_str(vm, "name");
    if (deleting(vm)) return 0;
    if (!strcmp(cn_json_str_at(vm, "status.phase"), "Running")) {
        if (!cn_bridge_drain) {
            cn_warn("virtual machine \"%s\": no drain in this build; deleting it undrained", name);
        } else {
            cn_client *cc = NULL;
            int r = cn_bridge_cluster_client(k->c, cn_meta_str(cluster, "name"), &cc, err);
            int dt = k->cfg.drain_timeout_s > 0 ? k->cfg.drain_timeout_s : 120;
            if (r == 0) r = cn_bridge_drain(cc, name, dt, err);
            cn_client_free(cc);
            if (r < 0) {
                cn_err_wrap(err, "draining node \"%s\"", name);
                return r;
            }
        }
    }
    char *path = fleet_path("virtualmachines", name, NULL);
    int r = cn_client_delete(k->c, path, NULL, NULL, err);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        r = 0;
    }
    if (r == 0) cn_info("cluster \"%s\": virtual machine \"%s\" deleted", cn_meta_str(cluster, "name"), name);
    return r;
}

static int patch_vm_spec(cn_bridge_ctrl *k, const char *name, json_t *spec, cn_err *err)
{
    char *path = fleet_path("virtualmachines", name, NULL);
    json_t *body = json_pack("{s:o}", "spec", spec);
    int r = cn_client_patch(k->c, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    free(path);
    return r;
}

/* A pool's node labels and taints changed (an Update): the VMs of the
 * pool carry the new ones, which their hosts give the node when it next
 * starts (VMs made from now on start with them). */
static int sync_pool_labels(cn_bridge_ctrl *k, const json_t *cluster, const json_t *vms, cn_err *err)
{
    size_t i, j;
    json_t *p, *vm;
    json_array_foreach(json_object_get(json_object_get(cluster, "spec"), "nodePools"), i, p) {
        json_t *labels = json_object_get(p, "labels"), *taints = json_object_get(p, "taints");
        json_t *wl = json_is_object(labels) ? labels : NULL, *wt = json_is_array(taints) ? taints : NULL;
        json_array_foreach(vms, j, vm) {
            const json_t *spec = json_object_get(vm, "spec");
            if (deleting(vm) || strcmp(cn_json_str_at(vm, "spec.pool"), cn_json_str_at(p, "name"))) continue;
            json_t *hl = json_object_get(spec, "labels"), *ht = json_object_get(spec, "taints");
            bool same_l = wl ? json_equal(wl, hl) : json_object_size(hl) == 0;
            bool same_t = wt ? json_equal(wt, ht) : json_array_size(ht) == 0;
            if (same_l && same_t) continue;
            json_t *nl = wl ? json_incref(wl) : json_object(), *nt = wt ? json_incref(wt) : json_array();
            json_t *ops = json_pack("[{s:s,s:s,s:o},{s:s,s:s,s:o}]", "op", "add", "path", "/spec/labels",
                                    "value", nl, "op", "add", "path", "/spec/taints", "value", nt);
            char *path = fleet_path("virtualmachines", cn_meta_str(vm, "name"), NULL);
            int r = cn_client_patch(k->c, path, CN_PATCH_JSON, ops, NULL, err);
            free(path);
            json_decref(ops);
            if (r < 0) return r;
        }
    }
    return 0;
}

/* ---- readiness ---- */

struct counts {
    int cp, cp_ready, workers, workers_ready;
};

static bool vm_ready(const json_t *ready, const json_t *vm)
{
    return json_is_true(json_object_get(ready, cn_meta_str(vm, "name")));
}

static bool is_cp(const json_t *vm) { return !strcmp(cn_json_str_at(vm, "spec.role"), "controlPlane"); }

static struct counts count_ready(const json_t *vms, const json_t *ready)
{
    struct counts c = { 0 };
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm) {
        if (deleting(vm)) continue;
        bool r = vm_ready(ready, vm);
        if (is_cp(vm)) {
            c.cp++;
            c.cp_ready += r;
        } else {
            c.workers++;
            c.workers_ready += r;
        }
    }
    return c;
}

static int wanted_nodes(const json_t *cluster, int *cp, int *workers)
{
    *cp = (int)json_integer_value(json_object_get(json_object_get(json_object_get(cluster, "spec"), "controlPlane"), "count"));
    if (*cp <= 0) *cp = 1;
    *workers = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(cluster, "spec"), "nodePools"), i, p) {
        json_int_t n = json_integer_value(json_object_get(p, "count"));
        *workers += n > 0 ? (int)n : 1;
    }
    return *cp + *workers;
}

/* ---- the rolling upgrade (one step per pass) ----
 * Control plane first (the API must never be older than a kubelet), in
 * place, one VM at a time: its spec gets the new version and running=false;
 * once its host reports it Stopped, running=true again, and the host starts
 * it from its disk on the new version; the next one waits until its node is
 * Ready. Then the workers, one at a time: a surge VM of the pool on the new
 * version, wait until Ready, drain the oldest old-version worker and delete
 * it. Returns 1 while steps remain, 0 when every VM runs the new version. */
static int upgrade_step(cn_bridge_ctrl *k, const json_t *cluster, const json_t *vms, const json_t *ready,
                        char **msg, cn_err *err)
{
    const char *version = cn_json_str_at(cluster, "spec.kubernetesVersion");
    const char *name = cn_meta_str(cluster, "name");
    size_t i;
    json_t *vm;
    /* Control plane. */
    json_array_foreach(vms, i, vm) {
        if (deleting(vm) || !is_cp(vm)) continue;
        const char *vname = cn_meta_str(vm, "name");
        bool running = !json_is_false(json_object_get(json_object_get(vm, "spec"), "running"));
        if (strcmp(cn_json_str_at(vm, "spec.kubernetesVersion"), version)) {
            *msg = cn_asprintf("upgrading control-plane node %s to %s", vname, version);
            cn_info("cluster \"%s\": restarting \"%s\" on %s", name, vname, version);
            return patch_vm_spec(k, vname, json_pack("{s:s,s:b}", "kubernetesVersion", version, "running", 0), err) < 0 ? -1 : 1;
        }
        if (!running) {
            *msg = cn_asprintf("upgrading control-plane node %s: waiting for it to stop", vname);
            if (strcmp(cn_json_str_at(vm, "status.phase"), "Running") && strcmp(cn_json_str_at(vm, "status.phase"), "Starting")) {
                free(*msg);
                *msg = cn_asprintf("upgrading control-plane node %s: starting it", vname);
                return patch_vm_spec(k, vname, json_pack("{s:b}", "running", 1), err) < 0 ? -1 : 1;
            }
            return 1;
        }
        if (strcmp(cn_json_str_at(vm, "status.phase"), "Running") || !vm_ready(ready, vm)) {
            *msg = cn_asprintf("upgrading control-plane node %s: waiting until Ready", vname);
            return 1;
        }
    }
    /* Workers: the oldest old-version one, and its pool. */
    const json_t *old = NULL;
    json_array_foreach(vms, i, vm) {
        if (deleting(vm) || is_cp(vm) || !strcmp(cn_json_str_at(vm, "spec.kubernetesVersion"), version)) continue;
        if (!old || strcmp(cn_meta_str(vm, "creationTimestamp"), cn_meta_str(old, "creationTimestamp")) < 0 ||
            (!strcmp(cn_meta_str(vm, "creationTimestamp"), cn_meta_str(old, "creationTimestamp")) &&
             strcmp(cn_meta_str(vm, "name"), cn_meta_str(old, "name")) < 0))
            old = vm;
    }
    if (!old) return 0;
    const char *pool = cn_json_str_at(old, "spec.pool");
    int have = 0, want = 0, fresh = 0, fresh_ready = 0;
    json_array_foreach(vms, i, vm) {
        if (deleting(vm) || is_cp(vm) || strcmp(cn_json_str_at(vm, "spec.pool"), pool)) continue;
        have++;
        if (!strcmp(cn_json_str_at(vm, "spec.kubernetesVersion"), version)) {
            fresh++;
            fresh_ready += vm_ready(ready, vm);
        }
    }
    json_array_foreach(json_object_get(json_object_get(cluster, "spec"), "nodePools"), i, vm) {
        if (!strcmp(cn_json_str_at(vm, "name"), pool)) want = (int)json_integer_value(json_object_get(vm, "count"));
    }
    if (have <= want) {
        json_t *create = NULL, *remove = NULL;
        char *endpoint = NULL;
        cn_fleet *f = snapshot(k);
        int r = cn_fleet_plan_cluster(f, name, pool, 1, &create, &remove, &endpoint, err);
        cn_fleet_free(f);
        json_array_foreach(create, i, vm) {
            if (r < 0) break;
            r = create_vm(k, cluster, vm, err);
        }
        json_decref(create);
        json_decref(remove);
        free(endpoint);
        if (r < 0) return r;
        *msg = cn_asprintf("upgrading pool %s: surge node on %s", pool, version);
        return 1;
    }
    if (fresh_ready < fresh) {
        *msg = cn_asprintf("upgrading pool %s: %d/%d new nodes Ready", pool, fresh_ready, fresh);
        return 1;
    }
    *msg = cn_asprintf("upgrading pool %s: replacing %s", pool, cn_meta_str(old, "name"));
    return remove_vm(k, cluster, old, err) < 0 ? -1 : 1;
}

/* ---- inventory ---- */

static int inventory(cn_bridge_ctrl *k, const json_t *cluster, const json_t *vms, const cn_probe_view *v,
                     bool done, cn_err *err)
{
    json_t *ready = v->ready ? v->ready : json_object();
    struct counts c = count_ready(vms, ready);
    int total = c.cp + c.workers, nready = c.cp_ready + c.workers_ready;
    json_t *st = json_object_get(cluster, "status");
    json_t *want = json_object();
    json_object_set_new(want, "nodes", json_pack("{s:i,s:i}", "total", total, "ready", nready));
    const char *health = !v->reached ? "Unreachable" : (total > 0 && nready == total) ? "Healthy" : "Degraded";
    json_object_set_new(want, "health", json_string(health));
    if (v->last_ok_s > 0) {
        char ts[32];
        cn_time_rfc3339(v->last_ok_s, ts);
        json_object_set_new(want, "lastHeartbeatTime", json_string(ts));
    }
    if (done) json_object_set_new(want, "kubernetesVersion", json_string(cn_json_str_at(cluster, "spec.kubernetesVersion")));
    json_t *cps = json_array(), *pools = json_array();
    size_t i;
    json_t *vm, *p;
    json_array_foreach(vms, i, vm) {
        if (deleting(vm) || !is_cp(vm)) continue;
        json_array_append_new(cps, json_pack("{s:s,s:s,s:s,s:b}", "name", cn_meta_str(vm, "name"),
                                             "host", cn_json_str_at(vm, "spec.host"),
                                             "phase", *cn_json_str_at(vm, "status.phase") ? cn_json_str_at(vm, "status.phase") : "Pending",
                                             "ready", vm_ready(ready, vm)));
    }
    json_array_foreach(json_object_get(json_object_get(cluster, "spec"), "nodePools"), i, p) {
        const char *pname = cn_json_str_at(p, "name");
        int n = 0, r = 0;
        const char *ver = NULL;
        size_t j;
        json_array_foreach(vms, j, vm) {
            if (deleting(vm) || is_cp(vm) || strcmp(cn_json_str_at(vm, "spec.pool"), pname)) continue;
            n++;
            r += vm_ready(ready, vm);
            if (!ver || strcmp(cn_json_str_at(vm, "spec.kubernetesVersion"), ver) < 0) ver = cn_json_str_at(vm, "spec.kubernetesVersion");
        }
        json_array_append_new(pools, json_pack("{s:s,s:i,s:i,s:s,s:s}", "name", pname, "count", n, "ready", r,
                                               "vmSize", cn_json_str_at(p, "vmSize"),
                                               "kubernetesVersion", ver ? ver : cn_json_str_at(cluster, "spec.kubernetesVersion")));
    }
    json_object_set_new(want, "controlPlaneStatus", cps);
    json_object_set_new(want, "nodePools", pools);
    if (!v->ready) json_decref(ready);
    bool same = true;
    const char *key;
    json_t *val;
    json_object_foreach(want, key, val) if (!json_equal(val, json_object_get(st, key))) same = false;
    if (same) {
        json_decref(want);
        return 0;
    }
    return patch_status(k, "clusters", cn_meta_str(cluster, "name"), want, err);
}

/* ---- one pass over a cluster ---- */

static int set_finalizers(cn_bridge_ctrl *k, const json_t *cluster, json_t *fins, cn_err *err)
{
    char *path = fleet_path("clusters", cn_meta_str(cluster, "name"), NULL);
    json_t *body = json_pack("{s:{s:o,s:s}}", "metadata", "finalizers", fins, "resourceVersion",
                             cn_meta_str(cluster, "resourceVersion"));
    int r = cn_client_patch(k->c, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    free(path);
    return r;
}

/* The change in progress when the cluster is deleted ends Failed: its
 * VMs go with the cluster. */
static int cancel_op(cn_bridge_ctrl *k, const json_t *cluster, const char *name, cn_err *err)
{
    json_t *op = NULL;
    if (!*name) return 0;
    int r = op_get(k, cluster, name, &op, err);
    if (r == -ENOENT) return 0;
    if (r == 0 && !terminal(cn_json_str_at(op, "status.provisioningState"))) {
        char ts[32];
        now_str(ts);
        r = patch_status(k, "operations", name,
                         json_pack("{s:s,s:s,s:s}", "provisioningState", "Failed", "message",
                                   "canceled: the cluster is being deleted", "endTime", ts), err);
    }
    json_decref(op);
    return r;
}

/* The cluster's VMs as stored now, not as cached: a delete must not take
 * a VM made a moment ago for absent (it would be left behind). */
static int stored_vms(cn_bridge_ctrl *k, const char *cluster, json_t **out, cn_err *err)
{
    char *sel = cn_asprintf(LABEL_CLUSTER "=%s", cluster);
    char *esc = cn_client_escape(sel);
    char *base = fleet_path("virtualmachines", NULL, NULL);
    char *path = cn_asprintf("%s?labelSelector=%s", base, esc);
    json_t *list = NULL;
    *out = json_array();
    int r = cn_client_get(k->c, path, &list, err);
    size_t i;
    json_t *vm;
    json_array_foreach(json_object_get(list, "items"), i, vm)
        if (!strcmp(cn_json_str_at(vm, "spec.cluster"), cluster)) json_array_append(*out, vm);
    json_decref(list);
    free(path);
    free(base);
    free(esc);
    free(sel);
    return r;
}

static int reconcile_delete(cn_bridge_ctrl *k, const json_t *cluster, int64_t *requeue, cn_err *err)
{
    const char *name = cn_meta_str(cluster, "name");
    json_t *fins = json_object_get(json_object_get(cluster, "metadata"), "finalizers");
    if (!has_string(fins, FIN_CLUSTER)) return 0;
    json_int_t gen = json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation"));
    char *oname = op_name(name, "Delete", gen);
    json_t *op = NULL, *vms = NULL;
    int r = stored_vms(k, name, &vms, err);
    if (r == 0) r = op_get(k, cluster, oname, &op, err);
    if (r == -ENOENT) {
        r = cancel_op(k, cluster, cn_json_str_at(cluster, "status.operation"), err);
        if (r == 0) r = op_create(k, cluster, oname, "Delete", &op, err);
    }
    if (r < 0) goto done;
    int left = 0;
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm) {
        left++;
        if (!deleting(vm)) {
            char *path = fleet_path("virtualmachines", cn_meta_str(vm, "name"), NULL);
            r = cn_client_delete(k->c, path, NULL, NULL, err);
            free(path);
            if (r < 0 && err->code == 404) {
                cn_err_clear(err);
                r = 0;
            }
            if (r < 0) goto done;
        }
    }
    if (left) {
        char *msg = cn_asprintf("deleting: %d virtual machine%s left", left, left == 1 ? "" : "s");
        r = op_report(k, cluster, op, "Deleting", msg, err);
        free(msg);
        *requeue = WAIT_MS;
        goto done;
    }
    r = cn_bridge_delete_secrets(k->c, name, err);
    if (r == 0) r = op_report(k, cluster, op, "Succeeded", "deleted", err);
    if (r < 0) goto done;
    json_t *nf = json_array();
    json_array_foreach(fins, i, vm) if (strcmp(json_string_value(vm) ? json_string_value(vm) : "", FIN_CLUSTER)) json_array_append(nf, vm);
    r = set_finalizers(k, cluster, nf, err);
    if (r == 0) {
        cn_bridge_probe_forget(k->probe, name);
        cn_info("cluster \"%s\": deleted, everything released", name);
    }
done:
    json_decref(op);
    json_decref(vms);
    free(oname);
    return r;
}

/* The kind of change a new generation asks for. */
static const char *change_type(const json_t *cluster, const json_t *vms)
{
    const char *done_ver = cn_json_str_at(cluster, "status.kubernetesVersion");
    if (!*done_ver) return "Create";
    if (strcmp(done_ver, cn_json_str_at(cluster, "spec.kubernetesVersion"))) return "Upgrade";
    int cp, workers;
    wanted_nodes(cluster, &cp, &workers);
    struct counts c = count_ready(vms, NULL);
    return (c.cp != cp || c.workers != workers) ? "Scale" : "Update";
}

/* The operation of this generation: stored, or created now. */
static int current_op(cn_bridge_ctrl *k, const json_t *cluster, const json_t *vms, json_t **op, cn_err *err)
{
    static const char *const types[] = { "Create", "Scale", "Update", "Upgrade" };
    const char *name = cn_meta_str(cluster, "name");
    json_int_t gen = json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation"));
    for (size_t i = 0; i < 4; i++) {
        char *oname = op_name(name, types[i], gen);
        int r = op_get(k, cluster, oname, op, err);
        free(oname);
        if (r != -ENOENT) return r;
    }
    const char *type = change_type(cluster, vms);
    char *oname = op_name(name, type, gen);
    int r = op_create(k, cluster, oname, type, op, err);
    free(oname);
    return r;
}

static int reconcile_cluster(cn_bridge_ctrl *k, const json_t *cluster, int64_t *requeue, cn_err *err)
{
    const char *name = cn_meta_str(cluster, "name");
    json_t *fins = json_object_get(json_object_get(cluster, "metadata"), "finalizers");
    if (!has_string(fins, FIN_CLUSTER)) {
        json_t *nf = json_is_array(fins) ? json_copy(fins) : json_array();
        json_array_append_new(nf, json_string(FIN_CLUSTER));
        return set_finalizers(k, cluster, nf, err);   /* the update queues it again */
    }
    json_t *vms = cn_bridge_cluster_vms(k->vms, name), *op = NULL, *create = NULL, *remove = NULL;
    char *endpoint = NULL, *msg = NULL;
    cn_probe_view view;
    cn_bridge_probe_get(k->probe, name, &view);
    json_t *ready = view.ready ? json_incref(view.ready) : json_object();
    json_int_t gen = json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation"));
    const char *state = cn_json_str_at(cluster, "status.provisioningState");
    int r = 0;
    bool steady = json_integer_value(json_object_get(json_object_get(cluster, "status"), "observedGeneration")) == gen &&
                  terminal(state);
    if (steady) {
        r = inventory(k, cluster, vms, &view, false, err);
        goto done;
    }
    r = current_op(k, cluster, vms, &op, err);
    if (r < 0) goto done;
    const char *ostate = cn_json_str_at(op, "status.provisioningState");
    const char *type = cn_json_str_at(op, "spec.type");
    if (terminal(ostate)) {
        /* Finished earlier (the cache was behind): mirror it. */
        r = op_report(k, cluster, op, ostate, cn_json_str_at(op, "status.message"), err);
        goto done;
    }
    const char *progress = state_for(type);
    int64_t start = 0;
    if (cn_time_parse(cn_json_str_at(op, "status.startTime"), &start) < 0) start = cn_wall_s();
    if (cn_wall_s() - start > op_timeout_ms(k) / 1000 + WAIT_MS / 1000) {
        /* Also when every pass failed before counting nodes (below). */
        char *fmsg = cn_asprintf("timed out after %llds: %s", (long long)(op_timeout_ms(k) / 1000),
                                 cn_json_str_at(op, "status.message"));
        r = op_report(k, cluster, op, "Failed", fmsg, err);
        free(fmsg);
        goto done;
    }

    /* The plan: endpoint, VMs to make, VMs beyond the counts. */
    cn_fleet *f = snapshot(k);
    r = cn_fleet_plan_cluster(f, name, NULL, 0, &create, &remove, &endpoint, err);
    cn_fleet_free(f);
    if (r < 0) {
        cn_err e2 = CN_ERR_INIT;
        r = op_report(k, cluster, op, "Failed", err->message ? err->message : "cannot be placed", &e2);
        cn_err_clear(err);
        cn_err_move(err, &e2);
        goto done;
    }
    if (strcmp(cn_json_str_at(cluster, "status.controlPlaneEndpoint"), endpoint)) {
        /* Recorded before anything uses it: the next plan keeps it. */
        r = patch_status(k, "clusters", name, json_pack("{s:s}", "controlPlaneEndpoint", endpoint), err);
        if (r < 0) goto done;
    }
    r = cn_bridge_ensure_secrets(k->c, cluster, endpoint, err);
    if (r < 0) goto done;
    size_t i;
    json_t *vm;
    json_array_foreach(create, i, vm) {
        r = create_vm(k, cluster, vm, err);
        if (r < 0) goto done;
    }
    r = sync_pool_labels(k, cluster, vms, err);
    if (r < 0) goto done;
    bool upgrading = false;
    if (!strcmp(type, "Upgrade")) {
        int u = upgrade_step(k, cluster, vms, ready, &msg, err);
        if (u < 0) {
            r = -1;
            goto done;
        }
        upgrading = u > 0;
    }
    if (!upgrading) {
        json_array_foreach(remove, i, vm) {
            json_t *obj = cn_informer_get(k->vms, NULL, json_string_value(vm));
            if (obj) r = remove_vm(k, cluster, obj, err);
            json_decref(obj);
            if (r < 0) goto done;
        }
    }
    int want_cp, want_workers;
    int want = wanted_nodes(cluster, &want_cp, &want_workers);
    struct counts c = count_ready(vms, ready);
    /* A VM removed is released once its host let it go. */
    int going = 0;
    json_array_foreach(vms, i, vm) going += deleting(vm);
    if (going && !msg) msg = cn_asprintf("%d virtual machine%s being removed", going, going == 1 ? "" : "s");
    bool done = !upgrading && !going && json_array_size(create) == 0 && json_array_size(remove) == 0 &&
                c.cp == want_cp && c.workers == want_workers && c.cp_ready == want_cp && c.workers_ready == want_workers;
    if (done) {
        free(msg);
        msg = cn_asprintf("%d/%d control-plane and %d/%d worker nodes Ready", c.cp_ready, want_cp,
                          c.workers_ready, want_workers);
        r = inventory(k, cluster, vms, &view, true, err);
        if (r == 0) r = op_report(k, cluster, op, "Succeeded", msg, err);
        goto done;
    }
    char *progress_msg = cn_asprintf("%s%s%d/%d nodes Ready", msg ? msg : "", msg ? ": " : "",
                                     c.cp_ready + c.workers_ready, want);
    free(msg);
    msg = progress_msg;
    if (cn_wall_s() - start > op_timeout_ms(k) / 1000) {
        char *fmsg = cn_asprintf("timed out after %llds: %s", (long long)(op_timeout_ms(k) / 1000), msg);
        r = op_report(k, cluster, op, "Failed", fmsg, err);
        free(fmsg);
        goto done;
    }
    r = op_report(k, cluster, op, progress, msg, err);
    if (r == 0) r = inventory(k, cluster, vms, &view, false, err);
    *requeue = WAIT_MS;
done:
    cn_probe_view_release(&view);
    json_decref(ready);
    json_decref(vms);
    json_decref(op);
    json_decref(create);
    json_decref(remove);
    free(endpoint);
    free(msg);
    return r;
}

static int reconcile(cn_bridge_ctrl *k, const char *name, int64_t *requeue, cn_err *err)
{
    json_t *cluster = cn_informer_get(k->clusters, NULL, name);
    if (!cluster) return 0;
    int r = deleting(cluster) ? reconcile_delete(k, cluster, requeue, err)
                              : reconcile_cluster(k, cluster, requeue, err);
    json_decref(cluster);
    return r;
}

/* ---- the loop ---- */

static bool queue_cluster(void *ud, const json_t *obj)
{
    cn_workqueue_add(ud, cn_meta_str(obj, "name"));
    return true;
}

static void *loop(void *arg)
{
    cn_bridge_ctrl *k = arg;
    int64_t resync = k->cfg.resync_ms > 0 ? k->cfg.resync_ms : 5000;
    int64_t next = 0;
    for (;;) {
        if (k->cfg.elector && !cn_leader_is_leader(k->cfg.elector)) {
            /* Another bridge acts; take over with a full resync. */
            cn_leader_wait(k->cfg.elector, false, 1000);
            next = 0;
            if (cn_workqueue_shutting_down(k->q)) break;
            continue;
        }
        int64_t now = cn_now_ms();
        if (now >= next) {
            cn_informer_foreach(k->clusters, queue_cluster, k->q);
            cn_fleet *f = snapshot(k);
            cn_bridge_refresh_status(k->c, f, k->hosts, k->lnets);
            cn_fleet_free(f);
            next = now + resync;
        }
        char *key = cn_workqueue_get_timeout(k->q, (int)(next - now > 0 ? next - now : 1));
        if (!key) {
            if (cn_workqueue_shutting_down(k->q)) break;
            continue;
        }
        int64_t requeue = 0;
        cn_err err = CN_ERR_INIT;
        if (reconcile(k, key, &requeue, &err) < 0) {
            cn_warn("cluster \"%s\": %s (retrying)", key, err.message ? err.message : "failed");
            cn_workqueue_add_rate_limited(k->q, key);
        } else {
            cn_workqueue_forget(k->q, key);
            if (requeue > 0) cn_workqueue_add_after(k->q, key, requeue);
        }
        cn_err_clear(&err);
        cn_workqueue_done(k->q, key);
        free(key);
    }
    return NULL;
}

static void on_cluster_add(void *ud, const json_t *obj) { cn_workqueue_add(ud, cn_meta_str(obj, "name")); }
static void on_cluster_update(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    cn_workqueue_add(ud, cn_meta_str(obj, "name"));
}

static void on_vm_add(void *ud, const json_t *obj)
{
    const char *c = cn_json_str_at(obj, "spec.cluster");
    if (*c) cn_workqueue_add(ud, c);
}
static void on_vm_update(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    on_vm_add(ud, obj);
}

int cn_bridge_ctrl_start(const cn_bridge_ctrl_config *cfg, cn_bridge_ctrl **out, cn_err *err)
{
    cn_bridge_ctrl *k = cn_calloc(1, sizeof *k);
    k->cfg = *cfg;
    k->c = cfg->client;
    k->q = cn_workqueue_new(30000);
    k->f = cn_informers_new(k->c);
    k->clusters = cn_informers_get(k->f, CN_FLEET_GROUP, CN_FLEET_VERSION, "clusters");
    k->vms = cn_informers_get(k->f, CN_FLEET_GROUP, CN_FLEET_VERSION, "virtualmachines");
    k->hosts = cn_informers_get(k->f, CN_FLEET_GROUP, CN_FLEET_VERSION, "hosts");
    k->lnets = cn_informers_get(k->f, CN_FLEET_GROUP, CN_FLEET_VERSION, "logicalnetworks");
    k->ops = cn_informers_get(k->f, CN_FLEET_GROUP, CN_FLEET_VERSION, "operations");
    cn_informer_handler ch = { .on_add = on_cluster_add, .on_update = on_cluster_update,
                               .on_delete = on_cluster_add, .ud = k->q };
    cn_informer_handler vh = { .on_add = on_vm_add, .on_update = on_vm_update, .on_delete = on_vm_add, .ud = k->q };
    cn_informer_add_handler(k->clusters, &ch);
    cn_informer_add_handler(k->vms, &vh);
    int r = cn_informers_start(k->f, err);
    if (r < 0) goto fail;
    if (!cn_informers_wait_synced(k->f, 30000)) {
        r = cn_err_set(err, 504, "Timeout", "bridge controller: informers did not sync");
        goto fail;
    }
    k->probe = cn_bridge_probe_start(k->c, k->clusters, k->q, cfg->resync_ms > 0 ? cfg->resync_ms / 2 + 1 : 2500);
    if (!k->probe || pthread_create(&k->thread, NULL, loop, k) != 0) {
        r = cn_err_internal(err, "bridge controller: cannot start its threads");
        goto fail;
    }
    k->thread_started = true;
    *out = k;
    return 0;
fail:
    cn_bridge_ctrl_stop(k);
    return r;
}

void cn_bridge_ctrl_stop(cn_bridge_ctrl *k)
{
    if (!k) return;
    cn_workqueue_shutdown(k->q);
    if (k->thread_started) pthread_join(k->thread, NULL);
    cn_bridge_probe_stop(k->probe);
    cn_informers_free(k->f);
    cn_workqueue_free(k->q);
    free(k);
}
