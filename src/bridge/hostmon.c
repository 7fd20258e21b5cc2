/* hostmon: host heartbeats, phases, failover, maintenance and
 * rebalancing in the bridge (hostmon.h). */
#include "bridge/hostmon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/drain.h"
#include "bridge/fleet.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define GROUP "fleet.cairn.io"
#define VERSION "v1"
#define SECRETS_NS "fleet-system"
#define DRAIN_SLICE_S 5

/* ---- heartbeat tracker (pure) ---- */

typedef struct hb_seen {
    char *hb;           /* the lastHeartbeatTime last seen ("" for none) */
    int64_t at;         /* when it was first seen with that value */
} hb_seen;

struct cn_hb_tracker {
    cn_strmap *m;       /* host name -> hb_seen */
};

cn_hb_tracker *cn_hb_tracker_new(void)
{
    cn_hb_tracker *t = cn_calloc(1, sizeof *t);
    t->m = cn_strmap_new();
    return t;
}

static void hb_seen_free(void *p)
{
    hb_seen *s = p;
    if (s) free(s->hb);
    free(s);
}

void cn_hb_tracker_free(cn_hb_tracker *t)
{
    if (!t) return;
    cn_strmap_free(t->m, hb_seen_free);
    free(t);
}

const char *cn_hb_observe(cn_hb_tracker *t, const json_t *host, int64_t now_ms, int64_t grace_ms, char *msg,
                          size_t msglen)
{
    const char *name = cn_meta_str(host, "name");
    const char *hb = cn_json_str_at(host, "status.lastHeartbeatTime");
    hb_seen *s = cn_strmap_get(t->m, name);
    if (!s || strcmp(s->hb, hb)) {
        /* A change, or a host new to this bridge: its grace starts now. */
        if (!s) {
            s = cn_calloc(1, sizeof *s);
            cn_strmap_put(t->m, name, s);
        }
        free(s->hb);
        s->hb = cn_strdup(hb);
        s->at = now_ms;
    }
    msg[0] = '\0';
    if (json_is_true(json_object_get(json_object_get(host, "spec"), "maintenance"))) {
        snprintf(msg, msglen, "in maintenance: its VMs are moved away and nothing new is placed on it");
        return "Maintenance";
    }
    int64_t quiet = now_ms - s->at;
    if (quiet >= grace_ms) {
        snprintf(msg, msglen, "no heartbeat for %lld s (last %s)", (long long)(quiet / 1000), *hb ? hb : "never");
        return "NotReady";
    }
    return "Ready";
}

cn_move cn_hostmon_decide(const json_t *vm, const char *host_phase, bool drained)
{
    if (json_object_get(json_object_get(vm, "metadata"), "deletionTimestamp")) return CN_MOVE_NONE;
    if (!strcmp(host_phase, "NotReady")) return CN_MOVE_FAILOVER;
    if (strcmp(host_phase, "Maintenance")) return CN_MOVE_NONE;
    if (!strcmp(cn_json_str_at(vm, "spec.role"), "worker") && !drained) return CN_MOVE_DRAIN;
    return CN_MOVE_MAINTENANCE;
}

/* ---- the monitor ---- */

typedef enum { JOB_DRAIN, JOB_UNCORDON } job_kind;

typedef struct job {
    job_kind kind;
    char *vm, *cluster;
} job;

struct cn_hostmon {
    cn_client *c;
    int64_t grace_ms, period_ms;
    int drain_timeout_s;
    cn_hb_tracker *hb;
    pthread_t loop, worker;
    bool loop_started, worker_started;

    pthread_mutex_t lock;       /* guards the fields below */
    pthread_cond_t cond;
    bool stopping;
    job *jobs;                  /* FIFO for the worker */
    size_t njobs;
    cn_strmap *queued;          /* vm -> "" : a drain queued or running */
    cn_strmap *drained;         /* vm -> "" : drain finished (done or given up) */

    /* The loop's own. */
    cn_strmap *uncordon;        /* vm -> "": drained, uncordon once it runs on its new host */
    char *rebal_vm, *rebal_to;  /* a rebalancing move in progress */
    bool rebal_moved;           /* spec.host already changed */
};

static bool stopping(cn_hostmon *m)
{
    pthread_mutex_lock(&m->lock);
    bool s = m->stopping;
    pthread_mutex_unlock(&m->lock);
    return s;
}

static char *fleet_path(const char *plural, const char *name, const char *sub)
{
    return cn_client_path(GROUP, VERSION, NULL, plural, name, sub);
}

static json_t *list_items(cn_client *c, const char *plural, cn_err *err)
{
    char *path = fleet_path(plural, NULL, NULL);
    json_t *list = NULL, *items = NULL;
    if (cn_client_get(c, path, &list, err) == 0) items = json_incref(json_object_get(list, "items"));
    if (list && !items) items = json_array();
    json_decref(list);
    free(path);
    return items;
}

static void now_str(char out[32])
{
    cn_time_rfc3339((int64_t)time(NULL), out);
}

/* ---- the cluster's API ---- */

/* A client for cluster `name` from its admin kubeconfig Secret. */
static int cluster_client(cn_hostmon *m, const char *name, cn_client **out, cn_err *err)
{
    char *sname = cn_asprintf("%s-kubeconfig", name);
    char *path = cn_client_path("", "v1", SECRETS_NS, "secrets", sname, NULL);
    json_t *sec = NULL;
    char *kc = NULL, file[] = "/tmp/cairn-hostmon-kc.XXXXXX";
    size_t len = 0;
    int fd = -1;
    int r = cn_client_get(m->c, path, &sec, err);
    if (r < 0) goto out;
    const char *b64 = cn_json_str_at(sec, "data.value");
    if (cn_base64_decode(b64, strlen(b64), 1 << 20, &kc, &len) < 0) {
        r = cn_err_internal(err, "secret %s/%s: value is not base64", SECRETS_NS, sname);
        goto out;
    }
    /* The client reads a kubeconfig from a file: a private one, removed at
     * once. */
    fd = mkstemp(file);
    if (fd < 0 || write(fd, kc, len) != (ssize_t)len) {
        r = cn_err_internal(err, "cannot write a temporary kubeconfig: %s", strerror(errno));
        goto out;
    }
    r = cn_client_new_kubeconfig(file, out, err);
out:
    if (fd >= 0) {
        close(fd);
        unlink(file);
    }
    free(kc);
    json_decref(sec);
    free(path);
    free(sname);
    return r;
}

static void run_job(cn_hostmon *m, const job *j)
{
    cn_client *cc = NULL;
    cn_err err = CN_ERR_INIT;
    int r = cluster_client(m, j->cluster, &cc, &err);
    if (r == 0 && j->kind == JOB_DRAIN) {
        /* In slices, so that stopping the bridge never waits out a whole
         * drain: a drain is idempotent (cordon again, evict what is left). */
        int64_t end = cn_now_ms() + (int64_t)m->drain_timeout_s * 1000;
        do {
            int64_t left_s = (end - cn_now_ms() + 999) / 1000;
            cn_err_clear(&err);
            r = cn_bridge_drain(cc, j->vm, (int)(left_s < DRAIN_SLICE_S ? left_s : DRAIN_SLICE_S), &err);
        } while (r == -ETIMEDOUT && cn_now_ms() < end && !stopping(m));
    } else if (r == 0) {
        r = cn_bridge_uncordon(cc, j->vm, &err);
    }
    /* A node that cannot be drained (cluster unreachable, a budget that
     * never allows it) is moved anyway once the drain gives up: the host
     * is going down for maintenance either way. */
    if (r < 0)
        cn_warn("hostmon: %s node %s of cluster %s: %s", j->kind == JOB_DRAIN ? "drain" : "uncordon", j->vm,
                j->cluster, err.message ? err.message : strerror(-r));
    cn_err_clear(&err);
    cn_client_free(cc);
}

static void *worker_main(void *arg)
{
    cn_hostmon *m = arg;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        while (!m->stopping && m->njobs == 0) pthread_cond_wait(&m->cond, &m->lock);
        if (m->stopping) break;
        job j = m->jobs[0];
        memmove(m->jobs, m->jobs + 1, (m->njobs - 1) * sizeof *m->jobs);
        m->njobs--;
        pthread_mutex_unlock(&m->lock);
        run_job(m, &j);
        pthread_mutex_lock(&m->lock);
        if (j.kind == JOB_DRAIN) {
            cn_strmap_del(m->queued, j.vm);
            cn_strmap_put(m->drained, j.vm, (void *)"");
        }
        free(j.vm);
        free(j.cluster);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void enqueue(cn_hostmon *m, job_kind kind, const json_t *vm)
{
    const char *name = cn_meta_str(vm, "name");
    pthread_mutex_lock(&m->lock);
    if (kind == JOB_UNCORDON || !cn_strmap_has(m->queued, name)) {
        if (kind == JOB_DRAIN) cn_strmap_put(m->queued, name, (void *)"");
        m->jobs = cn_realloc(m->jobs, (m->njobs + 1) * sizeof *m->jobs);
        m->jobs[m->njobs++] = (job){ kind, cn_strdup(name), cn_strdup(cn_json_str_at(vm, "spec.cluster")) };
        pthread_cond_signal(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
}

static bool is_drained(cn_hostmon *m, const char *vm)
{
    pthread_mutex_lock(&m->lock);
    bool d = cn_strmap_has(m->drained, vm);
    pthread_mutex_unlock(&m->lock);
    return d;
}

static void forget_drained(cn_hostmon *m, const char *vm)
{
    pthread_mutex_lock(&m->lock);
    cn_strmap_del(m->drained, vm);
    pthread_mutex_unlock(&m->lock);
}

static bool worker_idle(cn_hostmon *m)
{
    pthread_mutex_lock(&m->lock);
    bool idle = m->njobs == 0 && cn_strmap_len(m->queued) == 0;
    pthread_mutex_unlock(&m->lock);
    return idle;
}

/* ---- writes to the bridge ---- */

static int set_vm_host(cn_hostmon *m, const char *vm, const char *host, cn_err *err)
{
    char *path = fleet_path("virtualmachines", vm, NULL);
    json_t *patch = json_pack("{s:{s:s}}", "spec", "host", host);
    int r = cn_client_patch(m->c, path, CN_PATCH_MERGE, patch, NULL, err);
    json_decref(patch);
    free(path);
    return r;
}

static int patch_status(cn_hostmon *m, const char *plural, const char *name, json_t *status)
{
    char *path = fleet_path(plural, name, "status");
    json_t *patch = json_pack("{s:o}", "status", status);
    cn_err err = CN_ERR_INIT;
    int r = cn_client_patch(m->c, path, CN_PATCH_MERGE, patch, NULL, &err);
    if (r < 0) cn_warn("hostmon: status of %s %s: %s", plural, name, err.message ? err.message : strerror(-r));
    cn_err_clear(&err);
    json_decref(patch);
    free(path);
    return r;
}

static bool op_active(const json_t *op)
{
    const char *st = cn_json_str_at(op, "status.provisioningState");
    return strcmp(st, "Succeeded") && strcmp(st, "Failed");
}

static bool op_is(const json_t *op, const char *host, const char *type)
{
    return !strcmp(cn_json_str_at(op, "spec.type"), type) && !strcmp(cn_json_str_at(op, "spec.target.kind"), "Host") &&
           !strcmp(cn_json_str_at(op, "spec.target.name"), host);
}

/* The active Operation of type on host, or NULL. */
static json_t *find_op(json_t *ops, const char *host, const char *type)
{
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) if (op_is(op, host, type) && op_active(op)) return op;
    return NULL;
}

/* The active Operation of type on host, made (Provisioning) if there is
 * none; added to ops. NULL if it could not be made. */
static json_t *ensure_op(cn_hostmon *m, json_t *ops, const char *host, const char *type, const char *msg)
{
    json_t *op = find_op(ops, host, type);
    if (op) return op;
    int n = 1;
    size_t i;
    json_t *o;
    json_array_foreach(ops, i, o) if (op_is(o, host, type)) n++;
    char lower[32];
    size_t k = 0;
    for (; type[k] && k < sizeof lower - 1; k++) lower[k] = (char)(type[k] >= 'A' && type[k] <= 'Z' ? type[k] + 32 : type[k]);
    lower[k] = '\0';
    char *name = cn_asprintf("%s-%s-%d", host, lower, n);
    json_t *obj = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:{s:s,s:s}}}", "apiVersion", GROUP "/" VERSION, "kind",
                            "Operation", "metadata", "name", name, "spec", "type", type, "target", "kind", "Host",
                            "name", host);
    char *path = fleet_path("operations", NULL, NULL);
    cn_err err = CN_ERR_INIT;
    json_t *made = NULL;
    if (cn_client_create(m->c, path, obj, &made, &err) < 0) {
        cn_warn("hostmon: cannot record operation %s: %s", name, err.message ? err.message : "");
    } else {
        char now[32];
        now_str(now);
        json_t *st = json_pack("{s:s,s:s,s:s}", "provisioningState", "Provisioning", "message", msg, "startTime", now);
        json_object_set(made, "status", st);
        patch_status(m, "operations", name, st);
        json_array_append(ops, made);
        cn_info("hostmon: operation %s: %s", name, msg);
    }
    cn_err_clear(&err);
    json_t *r = made;
    json_decref(made);    /* ops holds it */
    json_decref(obj);
    free(path);
    free(name);
    return r;
}

static void op_update(cn_hostmon *m, json_t *op, const char *state, const char *msg)
{
    if (!op) return;
    if (!strcmp(cn_json_str_at(op, "status.provisioningState"), state) &&
        !strcmp(cn_json_str_at(op, "status.message"), msg))
        return;
    json_t *st = json_pack("{s:s,s:s}", "provisioningState", state, "message", msg);
    if (strcmp(state, "Provisioning")) {
        char now[32];
        now_str(now);
        json_object_set_new(st, "endTime", json_string(now));
        cn_info("hostmon: operation %s %s: %s", cn_meta_str(op, "name"), state, msg);
    }
    json_t *cur = json_object_get(op, "status");
    if (!json_is_object(cur)) json_object_set_new(op, "status", cur = json_object());
    json_object_update(cur, st);
    patch_status(m, "operations", cn_meta_str(op, "name"), st);
}

/* ---- one pass ---- */

static const char *phase_of(json_t *hosts, const char *name)
{
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) if (!strcmp(cn_meta_str(h, "name"), name)) return cn_json_str_at(h, "status.phase");
    return *name ? "NotReady" : "";   /* a host that is gone is as good as down */
}

static bool vm_settled(const json_t *vm)
{
    return !strcmp(cn_json_str_at(vm, "status.phase"), "Running") &&
           !strcmp(cn_json_str_at(vm, "status.host"), cn_json_str_at(vm, "spec.host"));
}

static bool is_deleting(const json_t *o)
{
    return json_object_get(json_object_get(o, "metadata"), "deletionTimestamp") != NULL;
}

/* Judge every host; write phase and message where they changed. */
static void judge_hosts(cn_hostmon *m, json_t *hosts)
{
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        char msg[200];
        const char *phase = cn_hb_observe(m->hb, h, cn_now_ms(), m->grace_ms, msg, sizeof msg);
        const char *name = cn_meta_str(h, "name");
        if (strcmp(cn_json_str_at(h, "status.phase"), phase) || strcmp(cn_json_str_at(h, "status.message"), msg)) {
            if (strcmp(cn_json_str_at(h, "status.phase"), phase))
                cn_info("hostmon: host %s is %s%s%s", name, phase, *msg ? ": " : "", msg);
            patch_status(m, "hosts", name, json_pack("{s:s,s:s}", "phase", phase, "message", msg));
        }
        /* The snapshot below sees the phase just judged. */
        json_t *st = json_object_get(h, "status");
        if (!json_is_object(st)) json_object_set_new(h, "status", st = json_object());
        json_object_set_new(st, "phase", json_string(phase));
    }
}

/* Move VMs off NotReady and Maintenance hosts; true if anything is moving.
 * why: host -> the message of a VM that could not be placed (owned). */
static bool move_off(cn_hostmon *m, cn_fleet *f, json_t *hosts, json_t *vms, json_t *ops, cn_strmap *why)
{
    bool busy = false;
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm) {
        const char *name = cn_meta_str(vm, "name"), *from = cn_json_str_at(vm, "spec.host");
        const char *phase = phase_of(hosts, from);
        cn_move d = cn_hostmon_decide(vm, phase, is_drained(m, name));
        if (d == CN_MOVE_NONE) continue;
        busy = true;
        const char *type = d == CN_MOVE_FAILOVER ? "Failover" : "HostMaintenance";
        ensure_op(m, ops, from, type,
                  d == CN_MOVE_FAILOVER ? "moving the VMs of a host that stopped heartbeating"
                                        : "draining and moving the VMs of a host in maintenance");
        if (d == CN_MOVE_DRAIN) {
            enqueue(m, JOB_DRAIN, vm);
            continue;
        }
        char *to = NULL;
        cn_err err = CN_ERR_INIT;
        if (cn_fleet_place_vm(f, name, false, &to, &err) < 0) {
            free(cn_strmap_put(why, from, cn_strdup(err.message ? err.message : "no host can take it")));
        } else if (strcmp(to, from)) {
            if (set_vm_host(m, name, to, &err) < 0) {
                cn_warn("hostmon: move VM %s to %s: %s", name, to, err.message ? err.message : "");
            } else {
                cn_info("hostmon: VM %s: host %s is %s, moved to %s", name, from, phase, to);
                json_object_set_new(json_object_get(vm, "spec"), "host", json_string(to));
                if (is_drained(m, name)) cn_strmap_put(m->uncordon, name, (void *)"");
                forget_drained(m, name);
            }
        }
        cn_err_clear(&err);
        free(to);
    }
    return busy;
}

/* Progress and end of the host operations. */
static void track_ops(cn_hostmon *m, json_t *hosts, json_t *vms, json_t *ops, cn_strmap *why)
{
    size_t i, j;
    json_t *op, *vm;
    json_array_foreach(ops, i, op) {
        if (!op_active(op) || strcmp(cn_json_str_at(op, "spec.target.kind"), "Host")) continue;
        const char *type = cn_json_str_at(op, "spec.type"), *host = cn_json_str_at(op, "spec.target.name");
        bool failover = !strcmp(type, "Failover");
        if (!failover && strcmp(type, "HostMaintenance")) continue;
        const char *phase = phase_of(hosts, host);
        /* Left: VMs still assigned to the host, and VMs moved off it not
         * yet running on their new host. */
        int left = 0;
        json_array_foreach(vms, j, vm) {
            if (is_deleting(vm)) continue;
            if (!strcmp(cn_json_str_at(vm, "spec.host"), host) ||
                (!strcmp(cn_json_str_at(vm, "status.host"), host) && !vm_settled(vm)))
                left++;
        }
        char msg[200];
        if (failover && !strcmp(phase, "Ready")) {
            snprintf(msg, sizeof msg, "host %s is Ready again", host);
            op_update(m, op, "Succeeded", msg);
        } else if (!failover && strcmp(phase, "Maintenance")) {
            snprintf(msg, sizeof msg, "host %s left maintenance%s", host, left ? " before every VM moved" : "");
            op_update(m, op, left ? "Failed" : "Succeeded", msg);
        } else if (left == 0) {
            snprintf(msg, sizeof msg, "every VM of host %s runs on another host", host);
            op_update(m, op, "Succeeded", msg);
        } else {
            const char *stuck = cn_strmap_get(why, host);
            snprintf(msg, sizeof msg, "moving the VMs of host %s: %d not yet running elsewhere%s%s", host, left,
                     stuck ? "; " : "", stuck ? stuck : "");
            op_update(m, op, "Provisioning", msg);
        }
    }
}

/* Uncordon drained nodes once their VM runs on its new host. */
static void uncordon_moved(cn_hostmon *m, json_t *vms)
{
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm) {
        const char *name = cn_meta_str(vm, "name");
        if (cn_strmap_has(m->uncordon, name) && vm_settled(vm)) {
            enqueue(m, JOB_UNCORDON, vm);
            cn_strmap_del(m->uncordon, name);
        }
    }
}

static json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) if (!strcmp(cn_meta_str(o, "name"), name)) return o;
    return NULL;
}

static void rebal_clear(cn_hostmon *m)
{
    free(m->rebal_vm);
    free(m->rebal_to);
    m->rebal_vm = m->rebal_to = NULL;
    m->rebal_moved = false;
}

/* One VM at a time, only while nothing else moves. */
static void rebalance(cn_hostmon *m, cn_fleet *f, json_t *clusters, json_t *vms)
{
    if (m->rebal_vm) {
        json_t *vm = find_named(vms, m->rebal_vm);
        if (!vm || is_deleting(vm)) {
            rebal_clear(m);
        } else if (!m->rebal_moved && is_drained(m, m->rebal_vm)) {
            cn_err err = CN_ERR_INIT;
            if (set_vm_host(m, m->rebal_vm, m->rebal_to, &err) == 0) {
                cn_info("hostmon: rebalancing: VM %s moved to %s", m->rebal_vm, m->rebal_to);
                cn_strmap_put(m->uncordon, m->rebal_vm, (void *)"");
                forget_drained(m, m->rebal_vm);
                m->rebal_moved = true;
            } else {
                cn_warn("hostmon: rebalancing VM %s: %s", m->rebal_vm, err.message ? err.message : "");
                forget_drained(m, m->rebal_vm);
                enqueue(m, JOB_UNCORDON, vm);
                rebal_clear(m);
            }
            cn_err_clear(&err);
        } else if (m->rebal_moved && vm_settled(vm)) {
            rebal_clear(m);
        }
        return;
    }
    size_t i, j;
    json_t *c, *vm;
    json_array_foreach(clusters, i, c) {
        if (strcmp(cn_json_str_at(c, "status.provisioningState"), "Succeeded") ||
            strcmp(cn_json_str_at(c, "status.health"), "Healthy") || is_deleting(c))
            continue;
        const char *cname = cn_meta_str(c, "name");
        json_array_foreach(vms, j, vm) {
            if (strcmp(cn_json_str_at(vm, "spec.cluster"), cname) || is_deleting(vm) || !vm_settled(vm)) continue;
            const char *name = cn_meta_str(vm, "name"), *from = cn_json_str_at(vm, "spec.host");
            char *to = NULL;
            if (cn_fleet_place_vm(f, name, true, &to, NULL) == 0 && strcmp(to, from)) {
                cn_info("hostmon: rebalancing cluster %s: VM %s from %s to %s", cname, name, from, to);
                m->rebal_vm = cn_strdup(name);
                m->rebal_to = to;
                if (!strcmp(cn_json_str_at(vm, "spec.role"), "worker")) {
                    enqueue(m, JOB_DRAIN, vm);
                } else {
                    cn_err err = CN_ERR_INIT;
                    if (set_vm_host(m, name, to, &err) == 0) m->rebal_moved = true;
                    else rebal_clear(m);
                    cn_err_clear(&err);
                }
                return;
            }
            free(to);
        }
    }
}

static void pass(cn_hostmon *m)
{
    cn_err err = CN_ERR_INIT;
    json_t *hosts = list_items(m->c, "hosts", &err), *vms = NULL, *clusters = NULL, *lnets = NULL, *ops = NULL;
    if (hosts) vms = list_items(m->c, "virtualmachines", &err);
    if (vms) clusters = list_items(m->c, "clusters", &err);
    if (clusters) lnets = list_items(m->c, "logicalnetworks", &err);
    if (lnets) ops = list_items(m->c, "operations", &err);
    if (!ops) {
        cn_debug("hostmon: cannot list the fleet: %s", err.message ? err.message : "");
        goto out;
    }
    judge_hosts(m, hosts);
    cn_fleet *f = cn_fleet_new(hosts, lnets, clusters, vms);
    cn_strmap *why = cn_strmap_new();
    bool busy = move_off(m, f, hosts, vms, ops, why);
    track_ops(m, hosts, vms, ops, why);
    cn_strmap_free(why, free);
    uncordon_moved(m, vms);
    if (!busy && worker_idle(m)) {
        cn_fleet_free(f);
        f = cn_fleet_new(hosts, lnets, clusters, vms);   /* with this pass's moves */
        rebalance(m, f, clusters, vms);
    } else if (m->rebal_vm && m->rebal_moved) {
        json_t *vm = find_named(vms, m->rebal_vm);
        if (!vm || vm_settled(vm)) rebal_clear(m);
    }
    cn_fleet_free(f);
out:
    cn_err_clear(&err);
    json_decref(hosts);
    json_decref(vms);
    json_decref(clusters);
    json_decref(lnets);
    json_decref(ops);
}

static void *loop_main(void *arg)
{
    cn_hostmon *m = arg;
    while (!stopping(m)) {
        pass(m);
        pthread_mutex_lock(&m->lock);
        if (!m->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += m->period_ms / 1000;
            ts.tv_nsec += (m->period_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&m->cond, &m->lock, &ts);
        }
        pthread_mutex_unlock(&m->lock);
    }
    return NULL;
}

int cn_hostmon_start(cn_client *bridge, const cn_hostmon_config *cfg, cn_hostmon **out, cn_err *err)
{
    cn_hostmon *m = cn_calloc(1, sizeof *m);
    m->c = bridge;
    m->grace_ms = cfg && cfg->grace_ms > 0 ? cfg->grace_ms : CN_HOSTMON_GRACE_MS;
    m->period_ms = cfg && cfg->period_ms > 0 ? cfg->period_ms : CN_HOSTMON_PERIOD_MS;
    m->drain_timeout_s = cfg && cfg->drain_timeout_s > 0 ? cfg->drain_timeout_s : CN_HOSTMON_DRAIN_TIMEOUT_S;
    m->hb = cn_hb_tracker_new();
    m->queued = cn_strmap_new();
    m->drained = cn_strmap_new();
    m->uncordon = cn_strmap_new();
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    int r = pthread_create(&m->worker, NULL, worker_main, m);
    if (r == 0) {
        m->worker_started = true;
        r = pthread_create(&m->loop, NULL, loop_main, m);
        if (r == 0) m->loop_started = true;
    }
    if (r != 0) {
        cn_hostmon_stop(m);
        return cn_err_internal(err, "host monitor: cannot start a thread: %s", strerror(r)), -r;
    }
    cn_info("hostmon: watching hosts (grace %lld ms)", (long long)m->grace_ms);
    *out = m;
    return 0;
}

void cn_hostmon_stop(cn_hostmon *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (m->loop_started) pthread_join(m->loop, NULL);
    if (m->worker_started) pthread_join(m->worker, NULL);
    for (size_t i = 0; i < m->njobs; i++) {
        free(m->jobs[i].vm);
        free(m->jobs[i].cluster);
    }
    free(m->jobs);
    cn_strmap_free(m->queued, NULL);
    cn_strmap_free(m->drained, NULL);
    cn_strmap_free(m->uncordon, NULL);
    cn_hb_tracker_free(m->hb);
    rebal_clear(m);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
