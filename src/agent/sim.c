/* sim: the running node simulator (see sim.h). Threads:
 *  - the caller's thread waits for the stop flag and logs rates;
 *  - two streams (stream.h: list+watch without a cache) of pods bound to
 *    any node and of nodes call the handlers below, which only update the
 *    in-memory records and queue timers;
 *  - `workers` threads pop due timers from the one heap and make the API
 *    calls (registration, lease renewals, pod status, final deletes).
 * One mutex guards the records and the heap; no API call is made under it.
 *
 * Pod life in the simulator:
 *
 *   bound ──ready-delay──> RUNNING ──duration──> DONE (Succeeded/Failed)
 *     │                      │  └──duration, restart policy says so──┐
 *     │                      │<──────────── restartCount+1 ──────────┘
 *     └──────── deletionTimestamp (any state) ──> DELETING ──> gone
 *
 * A record's generation changes on every transition; a timer carries the
 * generation it was made for and is ignored if the record moved on. */
#include "agent/sim.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/stream.h"
#include "agent/timerheap.h"
#include "client/client.h"
#include "lib/log.h"
#include "lib/util.h"

enum { T_REGISTER, T_LEASE, T_NODE_STATUS, T_POD_START, T_POD_END, T_POD_DELETE };
enum pod_state { P_PENDING, P_RUNNING, P_DONE, P_DELETING };

#define RETRY_MS 1000
#define POD_BUCKETS 65536

struct simnode {
    char *name;
    char *uid;
    bool registered;
    bool status_queued;          /* a T_NODE_STATUS is pending */
    unsigned mark;               /* relist mark of the last sighting */
    int64_t lease_due;           /* next renewal (monotonic) */
    uint8_t slots[32];           /* pod IP host parts in use (bit per slot) */
};

struct simpod {
    struct simpod *next;         /* hash chain */
    char *uid, *ns, *name;
    json_t *lite;                /* uid, containers' names and images, restartPolicy */
    unsigned mark;               /* relist mark of the last sighting */
    int node;
    int slot;
    uint64_t gen;
    enum pod_state state;
    cn_sim_pod_state st;
    int64_t duration_ms;         /* <0: runs until deleted */
    int exit_code;
    char host_ip[16], pod_ip[16];
};

typedef struct sim {
    const cn_sim_config *cfg;
    cn_client *client;
    cn_stream *pods, *nodes_inf;
    unsigned pod_mark, node_mark;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    cn_timerheap heap;           /* pods and registrations */
    cn_timerheap beat;           /* lease renewals and node status: served first */
    bool stopping;
    struct simnode *nodes;
    struct simpod **buckets;
    size_t npods;
    uint64_t next_gen;
    int registered;
    int64_t start_ms, all_ready_ms;
    /* counters (under mu) */
    uint64_t w_lease, w_node, w_pod_status, w_pod_delete, errors;
} sim;

/* ---- pod records ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct simpod *pod_find(sim *s, const char *uid)
{
    for (struct simpod *p = s->buckets[hash_str(uid) % POD_BUCKETS]; p; p = p->next)
        if (!strcmp(p->uid, uid)) return p;
    return NULL;
}

static int slot_take(struct simnode *n, int want)
{
    if (want >= 2 && want <= 254 && !(n->slots[want / 8] & (1u << (want % 8)))) {
        n->slots[want / 8] |= (uint8_t)(1u << (want % 8));
        return want;
    }
    for (int i = 2; i <= 254; i++)
        if (!(n->slots[i / 8] & (1u << (i % 8)))) {
            n->slots[i / 8] |= (uint8_t)(1u << (i % 8));
            return i;
        }
    return 0;   /* more than 253 pods on one node: they share .0 (still "an IP") */
}

static void slot_release(struct simnode *n, int slot)
{
    if (slot >= 2 && slot <= 254) n->slots[slot / 8] &= (uint8_t)~(1u << (slot % 8));
}

static void pod_remove(sim *s, const char *uid)
{
    struct simpod **pp = &s->buckets[hash_str(uid) % POD_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        struct simpod *p = *pp;
        if (strcmp(p->uid, uid)) continue;
        *pp = p->next;
        slot_release(&s->nodes[p->node], p->slot);
        free(p->uid);
        free(p->ns);
        free(p->name);
        json_decref(p->lite);
        free(p);
        s->npods--;
        return;
    }
}

static void push(sim *s, int64_t due, int kind, int idx, uint64_t gen, const char *key)
{
    /* Heartbeats never wait behind a burst of pod work: a node whose Lease
     * is late is declared dead, a pod that is late is only late. */
    cn_timerheap_push(kind == T_LEASE || kind == T_NODE_STATUS ? &s->beat : &s->heap, due, kind, idx, gen, key);
    pthread_cond_signal(&s->cond);
}

static int64_t pod_duration_ms(const json_t *pod, int *exit_code)
{
    const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
    const char *d = json_string_value(json_object_get(ann, CN_SIM_ANN_DURATION));
    const char *e = json_string_value(json_object_get(ann, CN_SIM_ANN_EXIT_CODE));
    int64_t ms, code = 0;
    *exit_code = 0;
    if (e && cn_parse_int64(e, &code) == 0 && code >= 0 && code <= 255) *exit_code = (int)code;
    if (!d || cn_sim_parse_duration(d, &ms) < 0) return -1;
    return ms;
}

static bool pod_ready_true(const json_t *pod)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
        if (!strcmp(cn_json_str_at(c, "type"), "Ready")) return !strcmp(cn_json_str_at(c, "status"), "True");
    return false;
}

/* What the status writes need from a pod, kept instead of the pod. */
static json_t *pod_lite(const json_t *pod)
{
    const json_t *spec = json_object_get(pod, "spec");
    json_t *lite = json_pack("{s:{s:s},s:{s:s}}", "metadata", "uid", cn_meta_str(pod, "uid"), "spec",
                             "restartPolicy", cn_json_str_at(pod, "spec.restartPolicy"));
    static const char *const lists[] = { "containers", "initContainers" };
    for (int k = 0; k < 2; k++) {
        json_t *src = json_object_get(spec, lists[k]);
        if (!json_array_size(src)) continue;
        json_t *dst = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(src, i, c)
            json_array_append_new(dst, json_pack("{s:s,s:s}", "name", cn_json_str_at(c, "name"),
                                                 "image", cn_json_str_at(c, "image")));
        json_object_set_new(json_object_get(lite, "spec"), lists[k], dst);
    }
    return lite;
}

static int pod_restarts(const json_t *pod)
{
    const json_t *cs = json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"), 0);
    json_t *rc = json_object_get(cs, "restartCount");
    return json_is_integer(rc) ? (int)json_integer_value(rc) : 0;
}

/* The pod handler: a pod bound to one of our nodes was added or changed. */
static void pod_seen(sim *s, const json_t *pod)
{
    int idx = cn_sim_node_index(s->cfg, cn_json_str_at(pod, "spec.nodeName"));
    const char *uid = cn_meta_str(pod, "uid");
    if (idx < 0 || !*uid) return;
    const char *phase = cn_json_str_at(pod, "status.phase");
    bool deleting = *cn_meta_str(pod, "deletionTimestamp") != '\0';
    int64_t now = cn_now_ms();
    pthread_mutex_lock(&s->mu);
    struct simpod *p = pod_find(s, uid);
    if (!p) {
        p = cn_calloc(1, sizeof *p);
        p->uid = cn_strdup(uid);
        p->ns = cn_strdup(cn_meta_str(pod, "namespace"));
        p->name = cn_strdup(cn_meta_str(pod, "name"));
        p->node = idx;
        p->lite = pod_lite(pod);
        p->gen = ++s->next_gen;
        p->duration_ms = pod_duration_ms(pod, &p->exit_code);
        /* A pod we ran before a restart keeps its IP. */
        const char *ip = cn_json_str_at(pod, "status.podIP");
        const char *dot = strrchr(ip, '.');
        int64_t want = 0;
        if (dot) cn_parse_int64(dot + 1, &want);
        p->slot = slot_take(&s->nodes[idx], (int)want);
        cn_sim_node_ip(idx, p->host_ip);
        cn_sim_pod_ip(idx, p->slot, p->pod_ip);
        size_t b = hash_str(uid) % POD_BUCKETS;
        p->next = s->buckets[b];
        s->buckets[b] = p;
        s->npods++;
        p->st.start_s = p->st.running_s = cn_wall_s();
        if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) {
            p->state = P_DONE;
        } else if (!strcmp(phase, "Running")) {
            /* Adopted after a restart of the simulator. */
            p->state = P_RUNNING;
            p->st.restarts = pod_restarts(pod);
            int64_t st;
            if (cn_time_parse(cn_json_str_at(pod, "status.startTime"), &st) == 0) p->st.start_s = st;
            if (!pod_ready_true(pod)) push(s, now, T_POD_START, 0, p->gen, uid);
            else if (p->duration_ms >= 0) push(s, now + p->duration_ms, T_POD_END, 0, p->gen, uid);
        } else {
            p->state = P_PENDING;
            push(s, now + s->cfg->ready_delay_ms, T_POD_START, 0, p->gen, uid);
        }
    } else if (p->state == P_RUNNING && !deleting && !pod_ready_true(pod)) {
        /* Someone (the node lifecycle controller while we were away) marked
         * it not ready: the kubelet reports what it sees again. */
        p->gen = ++s->next_gen;
        push(s, now, T_POD_START, 0, p->gen, uid);
    }
    p->mark = s->pod_mark;
    if (deleting && p->state != P_DELETING) {
        p->state = P_DELETING;
        p->gen = ++s->next_gen;
        push(s, now, T_POD_DELETE, 0, p->gen, uid);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_pod(void *ud, const char *type, const json_t *obj)
{
    sim *s = ud;
    if (strcmp(type, "DELETED")) return pod_seen(s, obj);
    pthread_mutex_lock(&s->mu);
    pod_remove(s, cn_meta_str(obj, "uid"));
    pthread_mutex_unlock(&s->mu);
}

/* A relist of pods: those not listed again were deleted meanwhile. */
static void on_pod_relist(void *ud, bool done)
{
    sim *s = ud;
    pthread_mutex_lock(&s->mu);
    if (!done) {
        s->pod_mark++;
    } else {
        for (size_t b = 0; b < POD_BUCKETS; b++)
            for (struct simpod *p = s->buckets[b], *next; p; p = next) {
                next = p->next;
                if (p->mark != s->pod_mark) pod_remove(s, p->uid);
            }
    }
    pthread_mutex_unlock(&s->mu);
}

/* The node handler: someone else changed one of our nodes. */
static bool node_ready_true(const json_t *node)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
        if (!strcmp(cn_json_str_at(c, "type"), "Ready")) return !strcmp(cn_json_str_at(c, "status"), "True");
    return false;
}

static void node_seen(sim *s, const json_t *node, bool deleted)
{
    int idx = cn_sim_node_index(s->cfg, cn_meta_str(node, "name"));
    if (idx < 0) return;
    pthread_mutex_lock(&s->mu);
    struct simnode *n = &s->nodes[idx];
    n->mark = s->node_mark;
    if (n->registered && deleted) {
        /* Like the kubelet: a deleted node registers itself again. */
        n->registered = false;
        s->registered--;
        push(s, cn_now_ms(), T_REGISTER, idx, 0, NULL);
    } else if (n->registered && !deleted && !n->status_queued && !node_ready_true(node) &&
               !strcmp(cn_meta_str(node, "uid"), n->uid ? n->uid : "")) {
        n->status_queued = true;
        push(s, cn_now_ms(), T_NODE_STATUS, idx, 0, NULL);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_node(void *ud, const char *type, const json_t *obj) { node_seen(ud, obj, !strcmp(type, "DELETED")); }

/* A relist of nodes: ours that were not listed were deleted meanwhile. */
static void on_node_relist(void *ud, bool done)
{
    sim *s = ud;
    pthread_mutex_lock(&s->mu);
    if (!done) {
        s->node_mark++;
    } else {
        for (int i = 0; i < s->cfg->nodes; i++) {
            struct simnode *n = &s->nodes[i];
            if (!n->registered || n->mark == s->node_mark) continue;
            n->registered = false;
            s->registered--;
            push(s, cn_now_ms(), T_REGISTER, i, 0, NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- the work behind each timer (no lock held while calling the API) ---- */

static void count(sim *s, uint64_t *ctr, int r)
{
    pthread_mutex_lock(&s->mu);
    if (r < 0) s->errors++;
    else (*ctr)++;
    pthread_mutex_unlock(&s->mu);
}

static int patch_status(sim *s, const char *path, json_t *status, cn_err *err)
{
    json_t *body = json_pack("{s:o}", "status", status);
    int r = cn_client_patch(s->client, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    return r;
}

static int lease_write(sim *s, int idx, const char *name, const char *uid, bool create)
{
    cn_err err = CN_ERR_INIT;
    int r;
    int64_t wall_ms = (int64_t)cn_wall_s() * 1000;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0) wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!create) {
        char mt[40];
        cn_sim_microtime(wall_ms, mt);
        char *path = cn_client_path("coordination.k8s.io", "v1", "kube-node-lease", "leases", name, NULL);
        json_t *patch = json_pack("{s:{s:s,s:s}}", "spec", "renewTime", mt, "holderIdentity", name);
        r = cn_client_patch(s->client, path, CN_PATCH_MERGE, patch, NULL, &err);
        json_decref(patch);
        free(path);
        if (r < 0 && err.code == 404) create = true;
    }
    if (create) {
        cn_err_clear(&err);
        char *coll = cn_client_path("coordination.k8s.io", "v1", "kube-node-lease", "leases", NULL, NULL);
        json_t *lease = cn_sim_lease_object(name, uid, s->cfg->lease_duration_s, wall_ms);
        r = cn_client_create(s->client, coll, lease, NULL, &err);
        json_decref(lease);
        free(coll);
        if (r < 0 && err.code == 409) {
            cn_err_clear(&err);
            return lease_write(s, idx, name, uid, false);
        }
    }
    if (r < 0) cn_warn("sim: lease of node \"%s\": %s", name, err.message ? err.message : "failed");
    cn_err_clear(&err);
    count(s, &s->w_lease, r);
    return r;
}

static int node_register(sim *s, int idx)
{
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *name = cn_sim_node_name(s->cfg, idx);
    _cleanup_free_ char *coll = cn_client_path("", "v1", NULL, "nodes", NULL, NULL);
    _cleanup_free_ char *path = cn_client_path("", "v1", NULL, "nodes", name, NULL);
    _cleanup_free_ char *spath = cn_client_path("", "v1", NULL, "nodes", name, "status");
    json_t *node = cn_sim_node_object(s->cfg, idx, cn_wall_s()), *out = NULL;
    int r = cn_client_create(s->client, coll, node, &out, &err);
    json_decref(node);
    count(s, &s->w_node, r < 0 && err.code == 409 ? 0 : r);
    bool fresh = r >= 0;
    if (r < 0 && err.code == 409) {
        cn_err_clear(&err);
        r = cn_client_get(s->client, path, &out, &err);
    }
    if (r < 0) goto done;
    char *uid = cn_strdup(cn_meta_str(out, "uid"));
    /* A server may drop status on create, and a node that existed may say
     * Unknown or carry other capacity (after our restart): post the status
     * unless we just created it and it kept what we sent. */
    if (!fresh || !node_ready_true(out)) {
        r = patch_status(s, spath, cn_sim_node_status(s->cfg, idx, cn_wall_s()), &err);
        count(s, &s->w_node, r);
        if (r < 0) {
            free(uid);
            goto done;
        }
    }
    r = lease_write(s, idx, name, uid, true);
    pthread_mutex_lock(&s->mu);
    free(s->nodes[idx].uid);
    s->nodes[idx].uid = uid;
    if (r >= 0 && !s->nodes[idx].registered) {
        s->nodes[idx].registered = true;
        /* Seen now: a node list under way may have been taken before the
         * create, and must not count it as deleted. */
        s->nodes[idx].mark = s->node_mark;
        if (++s->registered == s->cfg->nodes && !s->all_ready_ms) {
            s->all_ready_ms = cn_now_ms();
            cn_info("sim: %d nodes registered and Ready in %.2f s", s->cfg->nodes,
                    (s->all_ready_ms - s->start_ms) / 1000.0);
        }
        /* Spread renewals over the period: node i renews at offset
         * i/N of it, so N nodes make a steady N/period writes per second. */
        int64_t hb = s->cfg->heartbeat_ms;
        int64_t now = cn_now_ms();
        int64_t due = s->start_ms + hb * idx / s->cfg->nodes;
        while (due <= now) due += hb;
        s->nodes[idx].lease_due = due;
        push(s, due, T_LEASE, idx, 0, NULL);
    }
    pthread_mutex_unlock(&s->mu);
done:
    if (r < 0) cn_warn("sim: registering node \"%s\": %s (retrying)", name, err.message ? err.message : "failed");
    cn_err_clear(&err);
    json_decref(out);
    return r;
}

static void node_status(sim *s, int idx)
{
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *name = cn_sim_node_name(s->cfg, idx);
    _cleanup_free_ char *spath = cn_client_path("", "v1", NULL, "nodes", name, "status");
    int r = patch_status(s, spath, cn_sim_node_status(s->cfg, idx, cn_wall_s()), &err);
    count(s, &s->w_node, r);
    if (r < 0) cn_warn("sim: status of node \"%s\": %s", name, err.message ? err.message : "failed");
    cn_err_clear(&err);
    pthread_mutex_lock(&s->mu);
    s->nodes[idx].status_queued = false;
    pthread_mutex_unlock(&s->mu);
}

/* Snapshot of a record for a status write, taken under the lock. */
struct podjob {
    char ns[254], name[254];
    json_t *lite;                /* a reference */
    cn_sim_pod_state st;
    char host_ip[16], pod_ip[16];
};

static bool pod_job(sim *s, const cn_timer *t, enum pod_state want, struct podjob *j)
{
    struct simpod *p = pod_find(s, t->key);
    if (!p || p->gen != t->gen || p->state != want) return false;
    snprintf(j->ns, sizeof j->ns, "%s", p->ns);
    snprintf(j->name, sizeof j->name, "%s", p->name);
    memcpy(j->host_ip, p->host_ip, sizeof j->host_ip);
    memcpy(j->pod_ip, p->pod_ip, sizeof j->pod_ip);
    j->lite = json_incref(p->lite);
    j->st = p->st;
    j->st.host_ip = j->host_ip;
    j->st.pod_ip = j->pod_ip;
    return true;
}

/* Writes the status for j; 0, or negative (404 means the pod is gone). */
static int pod_write(sim *s, const char *uid, struct podjob *j, cn_err *err)
{
    json_t *status = cn_sim_pod_status(j->lite, &j->st);
    json_decref(j->lite);
    j->lite = NULL;
    char *path = cn_client_path("", "v1", j->ns, "pods", j->name, "status");
    json_t *body = json_pack("{s:{s:s},s:o}", "metadata", "uid", uid, "status", status);
    int r = cn_client_patch(s->client, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    free(path);
    count(s, &s->w_pod_status, r < 0 && (err->code == 404 || err->code == 409) ? 0 : r);   /* gone: fine */
    return r;
}

static void pod_start(sim *s, const cn_timer *t)
{
    struct podjob j;
    cn_err err = CN_ERR_INIT;
    pthread_mutex_lock(&s->mu);
    struct simpod *p = pod_find(s, t->key);
    bool ok = p && p->gen == t->gen && (p->state == P_PENDING || p->state == P_RUNNING);
    if (ok) {
        if (p->state == P_PENDING) p->st.start_s = p->st.running_s = cn_wall_s();
        p->state = P_RUNNING;
        p->st.phase = CN_SIM_RUNNING;
        ok = pod_job(s, t, P_RUNNING, &j);
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok) return;
    int r = pod_write(s, t->key, &j, &err);
    pthread_mutex_lock(&s->mu);
    p = pod_find(s, t->key);
    if (p && p->gen == t->gen) {
        if (r < 0 && err.code != 404) push(s, cn_now_ms() + RETRY_MS, T_POD_START, 0, t->gen, t->key);
        else if (r >= 0 && p->duration_ms >= 0)
            push(s, cn_now_ms() + p->duration_ms, T_POD_END, 0, t->gen, t->key);
    }
    pthread_mutex_unlock(&s->mu);
    if (r < 0 && err.code != 404)
        cn_warn("sim: status of pod \"%s/%s\": %s (retrying)", j.ns, j.name, err.message ? err.message : "failed");
    cn_err_clear(&err);
}

static void pod_end(sim *s, const cn_timer *t)
{
    struct podjob j;
    cn_err err = CN_ERR_INIT;
    bool restart = false;
    pthread_mutex_lock(&s->mu);
    struct simpod *p = pod_find(s, t->key);
    bool ok = p && p->gen == t->gen && p->state == P_RUNNING;
    if (ok) {
        restart = cn_sim_restarts(cn_json_str_at(p->lite, "spec.restartPolicy"), p->exit_code);
        p->st.exit_code = p->exit_code;
        p->st.finished_s = cn_wall_s();
        if (restart) {
            p->st.restarts++;
            p->st.running_s = p->st.finished_s;
        } else {
            p->state = P_DONE;
            p->st.phase = p->exit_code ? CN_SIM_FAILED : CN_SIM_SUCCEEDED;
        }
        ok = pod_job(s, t, restart ? P_RUNNING : P_DONE, &j);
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok) return;
    int r = pod_write(s, t->key, &j, &err);
    pthread_mutex_lock(&s->mu);
    p = pod_find(s, t->key);
    if (p && p->gen == t->gen && restart && p->duration_ms >= 0)
        push(s, cn_now_ms() + p->duration_ms, T_POD_END, 0, t->gen, t->key);
    pthread_mutex_unlock(&s->mu);
    if (r < 0 && err.code != 404)
        cn_warn("sim: status of pod \"%s/%s\": %s", j.ns, j.name, err.message ? err.message : "failed");
    cn_err_clear(&err);
}

static void pod_delete(sim *s, const cn_timer *t)
{
    char ns[254], name[254];
    cn_err err = CN_ERR_INIT;
    pthread_mutex_lock(&s->mu);
    struct simpod *p = pod_find(s, t->key);
    bool ok = p && p->gen == t->gen && p->state == P_DELETING;
    if (ok) {
        snprintf(ns, sizeof ns, "%s", p->ns);
        snprintf(name, sizeof name, "%s", p->name);
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok) return;
    /* The kubelet's last word: containers are gone, remove the object now,
     * and only the instance we saw (a new pod of the same name is not ours). */
    char *path = cn_client_path("", "v1", ns, "pods", name, NULL);
    json_t *opts = json_pack("{s:s,s:s,s:i,s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "gracePeriodSeconds", 0, "preconditions", "uid", t->key);
    int r = cn_client_delete(s->client, path, opts, NULL, &err);
    json_decref(opts);
    free(path);
    count(s, &s->w_pod_delete, r < 0 && (err.code == 404 || err.code == 409) ? 0 : r);
    if (r < 0 && err.code != 404 && err.code != 409) {
        cn_warn("sim: deleting pod \"%s/%s\": %s (retrying)", ns, name, err.message ? err.message : "failed");
        pthread_mutex_lock(&s->mu);
        push(s, cn_now_ms() + RETRY_MS, T_POD_DELETE, 0, t->gen, t->key);
        pthread_mutex_unlock(&s->mu);
    }
    cn_err_clear(&err);
}

static void run_timer(sim *s, const cn_timer *t)
{
    switch (t->kind) {
    case T_REGISTER:
        if (node_register(s, t->idx) < 0) {
            pthread_mutex_lock(&s->mu);
            push(s, cn_now_ms() + RETRY_MS, T_REGISTER, t->idx, 0, NULL);
            pthread_mutex_unlock(&s->mu);
        }
        break;
    case T_LEASE: {
        pthread_mutex_lock(&s->mu);
        struct simnode *n = &s->nodes[t->idx];
        bool live = n->registered;
        char *name = live ? cn_strdup(n->name) : NULL, *uid = live ? cn_strdup(n->uid) : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!live) break;
        lease_write(s, t->idx, name, uid, false);
        free(name);
        free(uid);
        pthread_mutex_lock(&s->mu);
        /* Next renewal one period after the planned one, not after now, so
         * the spread set at registration holds; a late process catches up
         * once rather than piling renewals. */
        n->lease_due += s->cfg->heartbeat_ms;
        int64_t now = cn_now_ms();
        if (n->lease_due <= now) n->lease_due = now + s->cfg->heartbeat_ms;
        if (n->registered) push(s, n->lease_due, T_LEASE, t->idx, 0, NULL);
        pthread_mutex_unlock(&s->mu);
        break;
    }
    case T_NODE_STATUS: node_status(s, t->idx); break;
    case T_POD_START: pod_start(s, t); break;
    case T_POD_END: pod_end(s, t); break;
    case T_POD_DELETE: pod_delete(s, t); break;
    default: break;
    }
}

static void *worker(void *arg)
{
    sim *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        cn_timer t;
        int64_t now = cn_now_ms();
        if (cn_timerheap_pop_due(&s->beat, now, &t) || cn_timerheap_pop_due(&s->heap, now, &t)) {
            pthread_mutex_unlock(&s->mu);
            run_timer(s, &t);
            free(t.key);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        int64_t next = cn_timerheap_next(&s->heap), nb = cn_timerheap_next(&s->beat);
        if (nb < next) next = nb;
        int64_t wait = next == INT64_MAX ? 500 : next - now;
        if (wait > 500) wait = 500;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            char *end;
            kb = strtol(line + 6, &end, 10);
            break;
        }
    fclose(f);
    return kb;
}

int cn_sim_run(const cn_sim_config *cfg, volatile int *stop, cn_err *err)
{
    sim s = { .cfg = cfg };
    int r = 0;
    pthread_t *threads = NULL;
    int nthreads = 0;
    /* Requests are synchronous, so throughput is workers / latency: 5,000
     * nodes need 500 renewals/s, more than 4 threads make once the server
     * answers in over 8 ms. */
    int workers = cfg->workers > 0 ? cfg->workers : 4 + cfg->nodes / 1000;
    if (workers > 16 && cfg->workers <= 0) workers = 16;
    if (cfg->nodes < 1 || cfg->nodes > CN_SIM_MAX_NODES)
        return cn_err_bad_request(err, "--nodes: want 1 to %d", CN_SIM_MAX_NODES);
    r = cn_client_new_kubeconfig(cfg->kubeconfig, &s.client, err);
    if (r < 0) return r;
    cn_client_set_agent(s.client, "cairn-agent-sim");
    pthread_mutex_init(&s.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s.cond, &ca);
    pthread_condattr_destroy(&ca);
    cn_timerheap_init(&s.heap);
    cn_timerheap_init(&s.beat);
    s.nodes = cn_calloc((size_t)cfg->nodes, sizeof *s.nodes);
    s.buckets = cn_calloc(POD_BUCKETS, sizeof *s.buckets);
    s.start_ms = cn_now_ms();
    for (int i = 0; i < cfg->nodes; i++) {
        s.nodes[i].name = cn_sim_node_name(cfg, i);
        cn_timerheap_push(&s.heap, s.start_ms, T_REGISTER, i, 0, NULL);
    }

    /* Pods bound to some node: the server filters out the unscheduled ones
     * (there may be many while the scheduler works); ours are picked by
     * name locally, so one watch serves thousands of nodes. */
    cn_stream_handler ph = { on_pod, on_pod_relist, &s }, nh = { on_node, on_node_relist, &s };
    if ((r = cn_stream_start(s.client, "/api/v1/pods?fieldSelector=spec.nodeName%21%3D", &ph, &s.pods, err)) < 0 ||
        (r = cn_stream_start(s.client, "/api/v1/nodes", &nh, &s.nodes_inf, err)) < 0)
        goto done;

    threads = cn_calloc((size_t)workers, sizeof *threads);
    for (; nthreads < workers; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, worker, &s) != 0) break;
    cn_info("sim: simulating %d nodes (%s%04d..%s%04d) with %d workers", cfg->nodes, cfg->prefix,
            cfg->first_index, cfg->prefix, cfg->first_index + cfg->nodes - 1, nthreads);

    int64_t interval = cfg->stats_interval_ms > 0 ? cfg->stats_interval_ms : 30000;
    int64_t last = cn_now_ms();
    uint64_t lw[4] = { 0 };
    while (!*stop) {
        usleep(100000);
        int64_t now = cn_now_ms();
        if (now - last < interval) continue;
        pthread_mutex_lock(&s.mu);
        uint64_t w[4] = { s.w_lease, s.w_node, s.w_pod_status, s.w_pod_delete };
        size_t npods = s.npods;
        int reg = s.registered;
        uint64_t errors = s.errors;
        pthread_mutex_unlock(&s.mu);
        double sec = (now - last) / 1000.0;
        cn_info("sim: %d/%d nodes ready, %zu pods; writes/s: leases %.1f, nodes %.1f, pod status %.1f, "
                "pod deletes %.1f; %llu errors; rss %ld KiB", reg, cfg->nodes, npods,
                (w[0] - lw[0]) / sec, (w[1] - lw[1]) / sec, (w[2] - lw[2]) / sec, (w[3] - lw[3]) / sec,
                (unsigned long long)errors, rss_kb());
        memcpy(lw, w, sizeof lw);
        last = now;
    }
    cn_info("sim: stopping");

done:
    pthread_mutex_lock(&s.mu);
    s.stopping = true;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.mu);
    for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
    free(threads);
    cn_stream_free(s.pods);
    cn_stream_free(s.nodes_inf);
    for (size_t b = 0; b < POD_BUCKETS; b++)
        while (s.buckets[b]) pod_remove(&s, s.buckets[b]->uid);
    free(s.buckets);
    for (int i = 0; i < cfg->nodes; i++) {
        free(s.nodes[i].name);
        free(s.nodes[i].uid);
    }
    free(s.nodes);
    cn_timerheap_release(&s.heap);
    cn_timerheap_release(&s.beat);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.mu);
    cn_client_free(s.client);
    return r;
}
