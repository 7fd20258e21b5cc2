/* sched: the scheduler's moving parts around the pure algorithm (algo.c).
 *
 *   informers (pods, nodes, priorityclasses) --handlers--> cache + queue
 *   scheduling thread: pop the best pending pod, run one cycle under the
 *       lock, assume the pod on the chosen node, hand a bind job over
 *   binder threads: POST pods/binding, the Scheduled event; status patches,
 *       FailedScheduling events, preemption deletes
 *
 * Queue states of a pending pod:
 *
 *   ACTIVE (heap: priority, then age) --cycle fails--> UNSCHED
 *   UNSCHED --cluster change (node added/changed, pod deleted or done)--> BACKOFF
 *   UNSCHED --60 s without one--> ACTIVE
 *   BACKOFF --1 s doubling to 10 s after its last attempt--> ACTIVE
 *
 * so an unschedulable pod is tried again when something may have made room,
 * never in a hot loop. One mutex guards cache and queue; a cycle runs under
 * it (it is short and never does I/O), so handlers never see a half-done
 * cycle. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "api/leader.h"
#include "client/events.h"
#include "client/informer.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sched/sched-internal.h"
#include "sched/sched.h"

enum qstate { Q_ACTIVE, Q_UNSCHED, Q_BACKOFF };

typedef struct qent {
    cn_sched_pod *p;            /* owned */
    enum qstate st;
    size_t idx;                 /* in the heap or in the waiting array */
    int attempts;
    int64_t ready_ms, last_ms;
    uint64_t seq;               /* FIFO among equals */
    char *last_msg;             /* last FailedScheduling message patched */
} qent;

enum job_kind { JOB_BIND, JOB_UNSCHED, JOB_PREEMPT };

typedef struct job {
    struct job *next;
    enum job_kind kind;
    json_t *pod;                /* the pod object (reference) */
    char *ns, *name, *uid, *node, *msg;
    bool patch;                 /* JOB_UNSCHED: status changed, patch it */
    size_t nvictims;
    json_t **victims;           /* JOB_PREEMPT: victim objects */
} job;

struct cn_sched {
    cn_client *client;
    cn_leader *el;
    char *name;
    int pct, retry_s, nbinders;
    bool scheduled_events;
    cn_informers *inf;
    cn_recorder *rec;

    pthread_mutex_t mu;
    pthread_cond_t cv;          /* scheduling thread: work or stop */
    cn_sched_cache cache;
    sc_map queued;              /* "ns/name" -> qent */
    size_t nheap, heapcap;
    qent **heap;
    size_t nwait, waitcap;
    qent **wait;
    uint64_t seq;
    bool stopping, moved;

    pthread_mutex_t jmu;
    pthread_cond_t jcv;
    job *jhead, *jtail;
    bool jstop;

    pthread_t thread;
    pthread_t *binders;
    bool started;
};

/* ---- queue ---- */

static bool q_less(const qent *a, const qent *b)
{
    if (a->p->priority != b->p->priority) return a->p->priority > b->p->priority;
    if (a->p->created != b->p->created) return a->p->created < b->p->created;
    return a->seq < b->seq;
}

static void heap_swap(cn_sched *s, size_t i, size_t j)
{
    qent *t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;
    s->heap[i]->idx = i;
    s->heap[j]->idx = j;
}

static void heap_up(cn_sched *s, size_t i)
{
    while (i && q_less(s->heap[i], s->heap[(i - 1) / 2])) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(cn_sched *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && q_less(s->heap[l], s->heap[m])) m = l;
        if (r < s->nheap && q_less(s->heap[r], s->heap[m])) m = r;
        if (m == i) return;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_push(cn_sched *s, qent *q)
{
    if (s->nheap == s->heapcap) {
        s->heapcap = s->heapcap ? s->heapcap * 2 : 256;
        s->heap = cn_realloc(s->heap, s->heapcap * sizeof *s->heap);
    }
    q->st = Q_ACTIVE;
    q->idx = s->nheap;
    s->heap[s->nheap++] = q;
    heap_up(s, q->idx);
}

static void heap_remove(cn_sched *s, qent *q)
{
    size_t i = q->idx;
    s->nheap--;
    if (i != s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        s->heap[i]->idx = i;
        heap_down(s, i);
        heap_up(s, i);
    }
}

static void wait_push(cn_sched *s, qent *q, enum qstate st, int64_t ready)
{
    if (s->nwait == s->waitcap) {
        s->waitcap = s->waitcap ? s->waitcap * 2 : 64;
        s->wait = cn_realloc(s->wait, s->waitcap * sizeof *s->wait);
    }
    q->st = st;
    q->ready_ms = ready;
    q->idx = s->nwait;
    s->wait[s->nwait++] = q;
}

static void wait_remove(cn_sched *s, qent *q)
{
    size_t i = q->idx;
    s->wait[i] = s->wait[--s->nwait];
    s->wait[i]->idx = i;
}

static void q_unlink(cn_sched *s, qent *q)
{
    if (q->st == Q_ACTIVE) heap_remove(s, q);
    else wait_remove(s, q);
}

static void qent_free(qent *q)
{
    if (!q) return;
    cn_sched_pod_free(q->p);
    free(q->last_msg);
    free(q);
}

static int64_t backoff_ms(int attempts)
{
    int64_t b = 1000;
    for (int i = 1; i < attempts && b < 10000; i++) b *= 2;
    return b < 10000 ? b : 10000;
}

/* Something changed that may make room: unschedulable pods back off into
 * the active queue. */
static void move_all(cn_sched *s)
{
    for (size_t i = 0; i < s->nwait; i++) {
        qent *q = s->wait[i];
        if (q->st != Q_UNSCHED) continue;
        q->st = Q_BACKOFF;
        int64_t r = q->last_ms + backoff_ms(q->attempts);
        if (r < q->ready_ms) q->ready_ms = r;
    }
    s->moved = true;
    pthread_cond_signal(&s->cv);
}

static void pod_key(const cn_sched_pod *p, char buf[512])
{
    snprintf(buf, 512, "%s/%s", p->ns, p->name);
}

/* ---- jobs ---- */

static void job_free(job *j)
{
    json_decref(j->pod);
    free(j->ns); free(j->name); free(j->uid); free(j->node); free(j->msg);
    for (size_t i = 0; i < j->nvictims; i++) json_decref(j->victims[i]);
    free(j->victims);
    free(j);
}

static job *job_new(enum job_kind k, const cn_sched_pod *p, const char *node, const char *msg)
{
    job *j = cn_calloc(1, sizeof *j);
    j->kind = k;
    j->pod = json_incref(p->obj);
    j->ns = cn_strdup(p->ns);
    j->name = cn_strdup(p->name);
    j->uid = cn_strdup(p->uid);
    j->node = cn_strdup(node);
    j->msg = cn_strdup(msg);
    return j;
}

static void job_put(cn_sched *s, job *j)
{
    pthread_mutex_lock(&s->jmu);
    if (s->jtail) s->jtail->next = j; else s->jhead = j;
    s->jtail = j;
    pthread_cond_signal(&s->jcv);
    pthread_mutex_unlock(&s->jmu);
}

/* ---- informer handlers ---- */

static bool ours_pending(cn_sched *s, const cn_sched_pod *p)
{
    return !*p->node_name && !p->deleting && !p->terminal && !strcmp(p->scheduler, s->name);
}

static void pod_upsert(void *ud, const json_t *old, const json_t *obj)
{
    cn_sched *s = ud;
    cn_sched_pod *p = cn_sched_pod_parse((json_t *)obj);
    if (!p) return;
    char key[512];
    pod_key(p, key);
    pthread_mutex_lock(&s->mu);
    cn_sched_cache_resolve_priority(&s->cache, p);
    qent *q = cn_sc_map_get(&s->queued, key);
    cn_sched_pod *cached = cn_sched_cache_pod(&s->cache, p->ns, p->name);
    if (*p->node_name) {
        /* bound (by us or anyone): it counts on its node from now on */
        if (q) {
            q_unlink(s, q);
            qent_free(cn_sc_map_del(&s->queued, key));
        }
        if (cached && cached->assumed && !strcmp(cached->uid, p->uid) && !strcmp(cached->node_name, p->node_name) &&
            !p->deleting && !p->terminal) {
            /* our binding confirmed: what the cache counts is unchanged
             * (a binding changes neither labels nor requests) */
            json_decref(cached->obj);
            cached->obj = json_incref(p->obj);
            cached->assumed = false;
            cn_sched_pod_free(p);
        } else if (p->terminal) {
            /* a finished pod holds nothing */
            if (cached) { cn_sched_cache_del_pod(&s->cache, p->ns, p->name); move_all(s); }
            cn_sched_pod_free(p);
        } else {
            bool freed = cached && !cached->deleting && p->deleting;
            cn_sched_cache_add_pod(&s->cache, p);
            (void)freed;
        }
    } else if (cached && cached->assumed && !strcmp(cached->uid, p->uid)) {
        /* our binding is in flight; this is an older state */
        cn_sched_pod_free(p);
    } else if (!ours_pending(s, p)) {
        if (q) {
            q_unlink(s, q);
            qent_free(cn_sc_map_del(&s->queued, key));
        }
        cn_sched_pod_free(p);
    } else if (q) {
        /* only a change of what the pod asks for can change the outcome;
         * our own status patches must not wake it */
        const json_t *os = old ? json_object_get(old, "spec") : NULL;
        const json_t *ol = old ? json_object_get(json_object_get(old, "metadata"), "labels") : NULL;
        bool relevant = !old || !json_equal(os, json_object_get(obj, "spec")) ||
                        !json_equal(ol, json_object_get(json_object_get(obj, "metadata"), "labels"));
        p->queued_ms = q->p->queued_ms;
        cn_sched_pod_free(q->p);
        q->p = p;
        if (q->st == Q_ACTIVE) {
            heap_down(s, q->idx);
            heap_up(s, q->idx);
        } else if (relevant && q->st == Q_UNSCHED) {
            q->st = Q_BACKOFF;
            q->ready_ms = q->last_ms + backoff_ms(q->attempts);
            pthread_cond_signal(&s->cv);
        }
    } else {
        q = cn_calloc(1, sizeof *q);
        q->p = p;
        p->queued_ms = cn_now_ms();
        q->seq = s->seq++;
        *cn_sc_map_slot(&s->queued, key) = q;
        heap_push(s, q);
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

static void pod_add(void *ud, const json_t *obj) { pod_upsert(ud, NULL, obj); }

static void pod_del(void *ud, const json_t *obj)
{
    cn_sched *s = ud;
    const char *ns = cn_meta_str(obj, "namespace"), *name = cn_meta_str(obj, "name");
    char key[512];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    pthread_mutex_lock(&s->mu);
    qent *q = cn_sc_map_get(&s->queued, key);
    if (q) {
        q_unlink(s, q);
        qent_free(cn_sc_map_del(&s->queued, key));
    }
    if (cn_sched_cache_pod(&s->cache, ns, name)) {
        cn_sched_cache_del_pod(&s->cache, ns, name);
        move_all(s);
    }
    pthread_mutex_unlock(&s->mu);
}

static void node_upsert(void *ud, const json_t *old, const json_t *obj)
{
    cn_sched *s = ud;
    (void)old;
    cn_sched_node *n = cn_sched_node_parse(obj);
    if (!n) return;
    pthread_mutex_lock(&s->mu);
    cn_sched_node *cur = cn_sched_cache_node(&s->cache, n->name);
    if (cur && !cn_sched_node_differs(cur, n)) {
        /* heartbeats and status noise: nothing the scheduler reads */
        cn_sched_node_free(n);
    } else {
        cn_sched_cache_set_node(&s->cache, n);
        move_all(s);
    }
    pthread_mutex_unlock(&s->mu);
}

static void node_add(void *ud, const json_t *obj) { node_upsert(ud, NULL, obj); }

static void node_del(void *ud, const json_t *obj)
{
    cn_sched *s = ud;
    pthread_mutex_lock(&s->mu);
    cn_sched_cache_del_node(&s->cache, cn_meta_str(obj, "name"));
    pthread_mutex_unlock(&s->mu);
}

static void pc_upsert(void *ud, const json_t *old, const json_t *obj)
{
    cn_sched *s = ud;
    (void)old;
    pthread_mutex_lock(&s->mu);
    cn_sched_cache_set_pclass(&s->cache, cn_meta_str(obj, "name"),
                              (int32_t)json_integer_value(json_object_get(obj, "value")),
                              json_is_true(json_object_get(obj, "globalDefault")));
    pthread_mutex_unlock(&s->mu);
}

static void pc_add(void *ud, const json_t *obj) { pc_upsert(ud, NULL, obj); }

static void pc_del(void *ud, const json_t *obj)
{
    cn_sched *s = ud;
    pthread_mutex_lock(&s->mu);
    cn_sched_cache_del_pclass(&s->cache, cn_meta_str(obj, "name"));
    pthread_mutex_unlock(&s->mu);
}

/* ---- the scheduling thread ---- */

/* Waiting pods whose time has come go back to the active heap; returns the
 * earliest future ready time (or now + 1 s). */
static int64_t flush_waiting(cn_sched *s, int64_t now)
{
    int64_t next = now + 1000;
    for (size_t i = 0; i < s->nwait;) {
        qent *q = s->wait[i];
        if (q->ready_ms <= now) {
            wait_remove(s, q);
            heap_push(s, q);
            continue;   /* slot i now holds another entry */
        }
        if (q->ready_ms < next) next = q->ready_ms;
        i++;
    }
    return next;
}

static void schedule_one(cn_sched *s, qent *q)
{
    cn_sched_pod *p = q->p;
    char key[512];
    pod_key(p, key);
    cn_sched_result res;
    cn_sched_schedule(&s->cache, p, s->pct, true, &res);
    q->attempts++;
    q->last_ms = cn_now_ms();
    if (res.node) {
        cn_sc_map_del(&s->queued, key);
        q->p = NULL;
        free(p->node_name);
        p->node_name = cn_strdup(res.node->name);
        p->assumed = true;
        job_put(s, job_new(JOB_BIND, p, res.node->name, NULL));
        cn_sched_cache_add_pod(&s->cache, p);
        qent_free(q);
    } else {
        bool changed = !q->last_msg || strcmp(q->last_msg, res.message);
        job *j = job_new(JOB_UNSCHED, p, NULL, res.message);
        j->patch = changed;
        job_put(s, j);
        free(q->last_msg);
        q->last_msg = cn_strdup(res.message);
        if (res.nominated) {
            job *pj = job_new(JOB_PREEMPT, p, res.nominated->name, NULL);
            pj->victims = cn_calloc(res.nvictims, sizeof *pj->victims);
            for (size_t i = 0; i < res.nvictims; i++)
                pj->victims[pj->nvictims++] = json_incref(res.victims[i]->obj);
            job_put(s, pj);
            /* the victims' deletion wakes it; the backoff bounds the wait */
            wait_push(s, q, Q_BACKOFF, q->last_ms + backoff_ms(q->attempts));
        } else {
            wait_push(s, q, Q_UNSCHED, q->last_ms + (int64_t)s->retry_s * 1000);
        }
    }
    cn_sched_result_release(&res);
}

static void *sched_thread(void *arg)
{
    cn_sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (s->el && !cn_leader_is_leader(s->el)) {
            pthread_mutex_unlock(&s->mu);
            cn_leader_wait(s->el, false, 1000);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        int64_t now = cn_now_ms();
        int64_t next = flush_waiting(s, now);
        if (!s->nheap) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = next - now;
            if (wait < 1) wait = 1;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            continue;
        }
        /* a batch between checks of the waiting list and the lease */
        for (int i = 0; i < 16 && s->nheap && !s->stopping; i++) {
            qent *q = s->heap[0];
            heap_remove(s, q);
            cn_sched_cache_resolve_priority(&s->cache, q->p);
            schedule_one(s, q);
        }
        /* let the informer handlers and binders in between batches: a
         * mutex is not fair, so give up the CPU while it is free */
        pthread_mutex_unlock(&s->mu);
        sched_yield();
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- binder threads ---- */

static void requeue_after_failed_bind(cn_sched *s, job *j, bool retry)
{
    pthread_mutex_lock(&s->mu);
    cn_sched_pod *c = cn_sched_cache_pod(&s->cache, j->ns, j->name);
    if (c && c->assumed && !strcmp(c->uid, j->uid)) {
        cn_sched_cache_del_pod(&s->cache, j->ns, j->name);
        move_all(s);
    }
    char key[512];
    snprintf(key, sizeof key, "%s/%s", j->ns, j->name);
    if (retry && !cn_sc_map_get(&s->queued, key)) {
        cn_sched_pod *p = cn_sched_pod_parse(j->pod);
        if (p) {
            cn_sched_cache_resolve_priority(&s->cache, p);
            qent *q = cn_calloc(1, sizeof *q);
            q->p = p;
            p->queued_ms = cn_now_ms();
            q->seq = s->seq++;
            q->attempts = 1;
            q->last_ms = cn_now_ms();
            *cn_sc_map_slot(&s->queued, key) = q;
            wait_push(s, q, Q_BACKOFF, q->last_ms + backoff_ms(1));
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void do_bind(cn_sched *s, job *j)
{
    char *path = cn_client_path("", "v1", j->ns, "pods", j->name, "binding");
    json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
                          "apiVersion", "v1", "kind", "Binding",
                          "metadata", "name", j->name, "namespace", j->ns, "uid", j->uid,
                          "target", "apiVersion", "v1", "kind", "Node", "name", j->node);
    cn_err err = CN_ERR_INIT;
    int r = cn_client_create(s->client, path, b, NULL, &err);
    if (r < 0) {
        /* 404: gone; 409: bound meanwhile (the informer brings that);
         * anything else: try again later */
        cn_info("scheduler: binding %s/%s to %s failed: %s", j->ns, j->name, j->node,
                err.message ? err.message : "?");
        requeue_after_failed_bind(s, j, err.code != 404 && err.code != 409);
    } else if (s->scheduled_events) {
        cn_recorder_event(s->rec, j->pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s",
                 j->ns, j->name, j->node);
    }
    cn_err_clear(&err);
    json_decref(b);
    free(path);
}

static void do_unsched(cn_sched *s, job *j)
{
    cn_recorder_event(s->rec, j->pod, "Warning", "FailedScheduling", "%s", j->msg);
    if (!j->patch) return;
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    char *path = cn_client_path("", "v1", j->ns, "pods", j->name, "status");
    json_t *patch = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:s, s:n}]}}", "status", "conditions",
                              "type", "PodScheduled", "status", "False", "reason", "Unschedulable",
                              "message", j->msg, "lastTransitionTime", ts, "lastProbeTime");
    cn_err err = CN_ERR_INIT;
    if (cn_client_patch(s->client, path, CN_PATCH_STRATEGIC, patch, NULL, &err) < 0 && err.code != 404)
        cn_info("scheduler: status of %s/%s: %s", j->ns, j->name, err.message ? err.message : "?");
    cn_err_clear(&err);
    json_decref(patch);
    free(path);
}

static void do_preempt(cn_sched *s, job *j)
{
    for (size_t i = 0; i < j->nvictims; i++) {
        const json_t *v = j->victims[i];
        const char *ns = cn_meta_str(v, "namespace"), *name = cn_meta_str(v, "name");
        cn_recorder_event(s->rec, v, "Normal", "Preempted", "Preempted by pod %s on node %s", j->uid, j->node);
        char *path = cn_client_path("", "v1", ns, "pods", name, NULL);
        const json_t *g = json_object_get(json_object_get(v, "spec"), "terminationGracePeriodSeconds");
        json_t *opts = json_pack("{s:s, s:s, s:I, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                                 "gracePeriodSeconds", (json_int_t)(json_is_integer(g) ? json_integer_value(g) : 30),
                                 "preconditions", "uid", cn_meta_str(v, "uid"));
        cn_err err = CN_ERR_INIT;
        if (cn_client_delete(s->client, path, opts, NULL, &err) < 0 && err.code != 404)
            cn_info("scheduler: preempting %s/%s: %s", ns, name, err.message ? err.message : "?");
        cn_err_clear(&err);
        json_decref(opts);
        free(path);
    }
    char *path = cn_client_path("", "v1", j->ns, "pods", j->name, "status");
    json_t *patch = json_pack("{s:{s:s}}", "status", "nominatedNodeName", j->node);
    cn_err err = CN_ERR_INIT;
    if (cn_client_patch(s->client, path, CN_PATCH_MERGE, patch, NULL, &err) < 0 && err.code != 404)
        cn_info("scheduler: nominating %s/%s: %s", j->ns, j->name, err.message ? err.message : "?");
    cn_err_clear(&err);
    json_decref(patch);
    free(path);
}

static void *binder_thread(void *arg)
{
    cn_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->jmu);
        while (!s->jhead && !s->jstop) pthread_cond_wait(&s->jcv, &s->jmu);
        job *j = s->jhead;
        if (!j) { pthread_mutex_unlock(&s->jmu); break; }
        s->jhead = j->next;
        if (!s->jhead) s->jtail = NULL;
        pthread_mutex_unlock(&s->jmu);
        switch (j->kind) {
        case JOB_BIND: do_bind(s, j); break;
        case JOB_UNSCHED: do_unsched(s, j); break;
        case JOB_PREEMPT: do_preempt(s, j); break;
        }
        job_free(j);
    }
    return NULL;
}

/* ---- start / stop ---- */

int cn_sched_start(const cn_sched_config *cfg, cn_sched **out, cn_err *err)
{
    if (!cfg || !cfg->client) return cn_err_internal(err, "scheduler: no client");
    cn_sched *s = cn_calloc(1, sizeof *s);
    s->client = cfg->client;
    s->el = cfg->elector;
    s->name = cn_strdup(cfg->name ? cfg->name : "default-scheduler");
    s->pct = cfg->percentage_of_nodes_to_score;
    s->retry_s = cfg->unschedulable_retry_s > 0 ? cfg->unschedulable_retry_s : 60;
    s->nbinders = cfg->binders > 0 ? cfg->binders : 32;
    s->scheduled_events = !cfg->no_scheduled_events;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->jmu, NULL);
    pthread_cond_init(&s->jcv, NULL);
    cn_sched_cache_init(&s->cache);
    s->rec = cn_recorder_new(s->client, s->name);
    s->inf = cn_informers_new(s->client);
    cn_informer *pc = cn_informers_get(s->inf, "scheduling.k8s.io", "v1", "priorityclasses");
    cn_informer *nodes = cn_informers_get(s->inf, "", "v1", "nodes");
    cn_informer *pods = cn_informers_get(s->inf, "", "v1", "pods");
    cn_informer_add_handler(pc, &(cn_informer_handler){ pc_add, pc_upsert, pc_del, s });
    cn_informer_add_handler(nodes, &(cn_informer_handler){ node_add, node_upsert, node_del, s });
    cn_informer_add_handler(pods, &(cn_informer_handler){ pod_add, pod_upsert, pod_del, s });
    s->binders = cn_calloc((size_t)s->nbinders, sizeof *s->binders);
    for (int i = 0; i < s->nbinders; i++) pthread_create(&s->binders[i], NULL, binder_thread, s);
    pthread_create(&s->thread, NULL, sched_thread, s);
    s->started = true;
    int r = cn_informers_start(s->inf, err);
    if (r < 0) {
        cn_sched_stop(s);
        return r;
    }
    *out = s;
    return 0;
}

static void qent_free_v(void *v) { qent_free(v); }

void cn_sched_stop(cn_sched *s)
{
    if (!s) return;
    /* informers first: their handlers use the scheduler */
    cn_informers_free(s->inf);
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        pthread_mutex_lock(&s->jmu);
        s->jstop = true;
        /* pending jobs are dropped: a new leader will redo them */
        while (s->jhead) {
            job *j = s->jhead;
            s->jhead = j->next;
            job_free(j);
        }
        s->jtail = NULL;
        pthread_cond_broadcast(&s->jcv);
        pthread_mutex_unlock(&s->jmu);
        for (int i = 0; i < s->nbinders; i++) pthread_join(s->binders[i], NULL);
    }
    cn_recorder_free(s->rec);
    cn_sc_map_clear(&s->queued, qent_free_v);
    cn_sched_cache_release(&s->cache);
    free(s->heap);
    free(s->wait);
    free(s->binders);
    free(s->name);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->jmu);
    pthread_cond_destroy(&s->jcv);
    free(s);
}
