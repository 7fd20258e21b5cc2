/* replicaset: the ReplicaSet controller (upstream's
 * pkg/controller/replicaset). Keeps spec.replicas active pods that match a
 * ReplicaSet's selector: creates missing ones from the template in
 * slow-start batches (1, 2, 4, ...), deletes extra ones in the order of
 * cn_pods_sort_for_deletion, adopts matching orphans and releases pods
 * that stopped matching, and reports status (replicas, fullyLabeledReplicas,
 * readyReplicas, availableReplicas, observedGeneration, a ReplicaFailure
 * condition while creates or deletes fail).
 *
 * Expectations (podctl.h) keep a ReplicaSet from being managed again
 * before the pod informer has seen its last creates and deletes; its status
 * is still kept current meanwhile. Everything it knows comes from the
 * informers, so after a restart it resumes from what the API holds. */
#include "ctrl/apps.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/podctl.h"
#include "lib/log.h"
#include "lib/util.h"

#define BURST_REPLICAS 500    /* upstream's BurstReplicas: at most this many creates/deletes per sync */

typedef struct rs_ctl {
    cn_client *c;
    cn_informer *rs_inf, *pod_inf;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_expectations *exp;
    cn_recorder *rec;
} rs_ctl;

static const json_t *jat(const json_t *obj, const char *a, const char *b)
{
    const json_t *j = json_object_get(obj, a);
    return b ? json_object_get(j, b) : j;
}

static bool is_deleting(const json_t *obj)
{
    const json_t *d = jat(obj, "metadata", "deletionTimestamp");
    return d && !json_is_null(d);
}

static const json_t *ctl_ref(const json_t *obj)
{
    size_t i;
    const json_t *r;
    json_array_foreach(jat(obj, "metadata", "ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

/* ---------------------------------------------------------------------
 * event handlers: map pod and ReplicaSet changes to ReplicaSet keys
 * ------------------------------------------------------------------- */

static void enqueue_obj(rs_ctl *s, const json_t *rs)
{
    char *k = cn_ctrl_key(rs);
    cn_workqueue_add(s->q, k);
    free(k);
}

/* The ReplicaSet a controllerRef names, if it is one we know (new ref). */
static json_t *rs_of_ref(rs_ctl *s, const char *ns, const json_t *ref)
{
    if (!ref) return NULL;
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    if (!kind || strcmp(kind, "ReplicaSet")) return NULL;
    json_t *rs = cn_informer_get(s->rs_inf, ns, json_string_value(json_object_get(ref, "name")) ?: "");
    if (rs && strcmp(cn_meta_str(rs, "uid"), json_string_value(json_object_get(ref, "uid")) ?: "")) {
        json_decref(rs);
        return NULL;
    }
    return rs;
}

typedef struct orphan_visit { rs_ctl *s; const json_t *pod; } orphan_visit;

static bool visit_orphan(void *ud, const json_t *rs)
{
    orphan_visit *v = ud;
    cn_selector *sel = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_selector_from_json(jat(rs, "spec", "selector"), &sel, &e) == 0 && !cn_selector_empty(sel) &&
        cn_selector_matches(sel, jat(v->pod, "metadata", "labels")))
        enqueue_obj(v->s, rs);
    cn_selector_free(sel);
    cn_err_clear(&e);
    return true;
}

/* An orphan: every ReplicaSet that may adopt it gets a look. */
static void enqueue_for_orphan(rs_ctl *s, const json_t *pod)
{
    orphan_visit v = { s, pod };
    cn_informer_foreach_ns(s->rs_inf, cn_meta_str(pod, "namespace"), visit_orphan, &v);
}

static void pod_gone(rs_ctl *s, const json_t *pod)
{
    json_t *rs = rs_of_ref(s, cn_meta_str(pod, "namespace"), ctl_ref(pod));
    if (!rs) return;
    char *rk = cn_ctrl_key(rs), *pk = cn_ctrl_key(pod);
    cn_expect_deletion_observed(s->exp, rk, pk);
    cn_workqueue_add(s->q, rk);
    free(rk);
    free(pk);
    json_decref(rs);
}

static void on_pod_add(void *ud, const json_t *pod)
{
    rs_ctl *s = ud;
    if (is_deleting(pod)) {
        pod_gone(s, pod);   /* e.g. after a restart, a pod already on its way out */
        return;
    }
    const json_t *ref = ctl_ref(pod);
    if (ref) {
        json_t *rs = rs_of_ref(s, cn_meta_str(pod, "namespace"), ref);
        if (!rs) return;
        char *rk = cn_ctrl_key(rs);
        cn_expect_creation_observed(s->exp, rk);
        cn_workqueue_add(s->q, rk);
        free(rk);
        json_decref(rs);
        return;
    }
    enqueue_for_orphan(s, pod);
}

static void on_pod_update(void *ud, const json_t *old, const json_t *cur)
{
    rs_ctl *s = ud;
    if (!strcmp(cn_meta_str(old, "resourceVersion"), cn_meta_str(cur, "resourceVersion"))) return;
    bool labels_changed = !json_equal(jat(old, "metadata", "labels"), jat(cur, "metadata", "labels"));
    if (is_deleting(cur)) {
        /* A pod being deleted counts as gone at once (upstream: the
         * deletion timestamp is the signal; the final delete may be far). */
        pod_gone(s, cur);
        if (labels_changed) pod_gone(s, old);
        return;
    }
    const json_t *oref = ctl_ref(old), *cref = ctl_ref(cur);
    const char *ouid = oref ? json_string_value(json_object_get(oref, "uid")) : NULL;
    const char *cuid = cref ? json_string_value(json_object_get(cref, "uid")) : NULL;
    bool ref_changed = (ouid == NULL) != (cuid == NULL) || (ouid && cuid && strcmp(ouid, cuid));
    const char *ns = cn_meta_str(cur, "namespace");
    if (ref_changed && oref) {
        json_t *rs = rs_of_ref(s, ns, oref);
        if (rs) enqueue_obj(s, rs);
        json_decref(rs);
    }
    if (cref) {
        json_t *rs = rs_of_ref(s, ns, cref);
        if (!rs) return;
        enqueue_obj(s, rs);
        /* Ready now: available only after minReadySeconds, with no event
         * to say so; look again then. */
        int64_t mrs = cn_json_int_at(rs, "spec.minReadySeconds", 0);
        if (mrs > 0 && !cn_pod_ready(old) && cn_pod_ready(cur)) {
            char *rk = cn_ctrl_key(rs);
            cn_workqueue_add_after(s->q, rk, mrs * 1000 + 100);
            free(rk);
        }
        json_decref(rs);
        return;
    }
    if (labels_changed || ref_changed) enqueue_for_orphan(s, cur);
}

static void on_pod_delete(void *ud, const json_t *pod) { pod_gone(ud, pod); }

static void on_rs_add(void *ud, const json_t *rs) { enqueue_obj(ud, rs); }
static void on_rs_update(void *ud, const json_t *old, const json_t *cur) { (void)old; enqueue_obj(ud, cur); }
static void on_rs_delete(void *ud, const json_t *rs)
{
    rs_ctl *s = ud;
    char *k = cn_ctrl_key(rs);
    cn_expect_forget(s->exp, k);
    cn_workqueue_add(s->q, k);
    free(k);
}

/* ---------------------------------------------------------------------
 * sync
 * ------------------------------------------------------------------- */

typedef struct podvec { const json_t **v; size_t n, cap; } podvec;

static void podvec_push(podvec *pv, const json_t *p)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? 2 * pv->cap : 16;
        pv->v = cn_realloc(pv->v, pv->cap * sizeof *pv->v);
    }
    pv->v[pv->n++] = json_incref((json_t *)p);
}

static void podvec_release(podvec *pv)
{
    for (size_t i = 0; i < pv->n; i++) json_decref((json_t *)pv->v[i]);
    free(pv->v);
    *pv = (podvec){ 0 };
}

static bool collect_active(void *ud, const json_t *pod)
{
    if (cn_pod_active(pod)) podvec_push(ud, pod);
    return true;
}

#define PARALLEL_WRITES 16   /* creates or deletes in flight per sync (upstream: a goroutine each) */
/* Per-pod events per sync; the rest become one "(combined from similar
 * events)" event, as client-go's aggregator and spam filter would leave
 * it: a 5,000-pod scale-up must not write 5,000 Events. */
#define EVENTS_PER_SYNC 10

/* Counts one success; true if it still gets its own event, else its name
 * is kept for the combined one. Under the job's mutex. */
static bool own_event(pthread_mutex_t *mu, int *count, char **last, const char *name)
{
    pthread_mutex_lock(mu);
    bool own = ++*count <= EVENTS_PER_SYNC;
    if (!own) {
        free(*last);
        *last = cn_strdup(name);
    }
    pthread_mutex_unlock(mu);
    return own;
}

static void combined_event(rs_ctl *s, const json_t *rs, int count, char *last, const char *reason, const char *verb)
{
    if (count > EVENTS_PER_SYNC && last)
        cn_recorder_event(s->rec, rs, "Normal", reason, "(combined from similar events): %s pod: %s", verb, last);
    free(last);
}

typedef struct create_job {
    rs_ctl *s;
    const json_t *rs;
    pthread_mutex_t mu;   /* guards err, events, last */
    cn_err err;           /* the first failure */
    int events;
    char *last;
} create_job;

static int create_one(void *ud, int i)
{
    (void)i;
    create_job *j = ud;
    json_t *pod = cn_pod_from_template(j->rs, "apps/v1", "ReplicaSet", jat(j->rs, "spec", "template"));
    char *path = cn_client_path("", "v1", cn_meta_str(j->rs, "namespace"), "pods", NULL, NULL);
    json_t *out = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_client_create(j->s->c, path, pod, &out, &e);
    if (r == 0) {
        if (own_event(&j->mu, &j->events, &j->last, cn_meta_str(out, "name")))
            cn_recorder_event(j->s->rec, j->rs, "Normal", "SuccessfulCreate", "Created pod: %s", cn_meta_str(out, "name"));
    } else {
        cn_recorder_event(j->s->rec, j->rs, "Warning", "FailedCreate", "Error creating: %s", e.message ? e.message : "unknown error");
        pthread_mutex_lock(&j->mu);
        if (!j->err.code) cn_err_move(&j->err, &e);
        pthread_mutex_unlock(&j->mu);
    }
    cn_err_clear(&e);
    json_decref(out);
    json_decref(pod);
    free(path);
    return r;
}

static bool collect_uid(void *ud, const json_t *rs)
{
    json_array_append_new(ud, json_string(cn_meta_str(rs, "uid")));
    return true;
}

/* Deletion ranks: how many active pods of this ReplicaSet and its
 * siblings (same controlling owner) share the pod's node — upstream's
 * getPodsRankedByRelatedPodsOnSameNode, so scale-down spreads. */
static int *rank_by_node(rs_ctl *s, const json_t *rs, const podvec *pods)
{
    podvec related = { 0 };
    const json_t *owner = ctl_ref(rs);
    if (owner) {
        /* Sibling uids first: no informer is entered under another's lock. */
        json_t *uids = json_array();
        cn_informer_foreach_owned(s->rs_inf, json_string_value(json_object_get(owner, "uid")) ?: "",
                                  collect_uid, uids);
        size_t i;
        json_t *u;
        json_array_foreach(uids, i, u)
            cn_informer_foreach_owned(s->pod_inf, json_string_value(u), collect_active, &related);
        json_decref(uids);
    } else {
        for (size_t i = 0; i < pods->n; i++) podvec_push(&related, pods->v[i]);
    }
    int *ranks = cn_calloc(pods->n ? pods->n : 1, sizeof *ranks);
    for (size_t i = 0; i < pods->n; i++) {
        const char *node = cn_json_str_at(pods->v[i], "spec.nodeName");
        if (!*node) continue;
        for (size_t k = 0; k < related.n; k++)
            if (!strcmp(cn_json_str_at(related.v[k], "spec.nodeName"), node)) ranks[i]++;
    }
    podvec_release(&related);
    return ranks;
}

typedef struct delete_job {
    rs_ctl *s;
    const json_t *rs;
    const char *key;
    const json_t **pods;
    char **keys;
    pthread_mutex_t mu;   /* guards err, events, last */
    cn_err err;
    int events;
    char *last;
} delete_job;

static int delete_one(void *ud, int i)
{
    delete_job *j = ud;
    const json_t *pod = j->pods[i];
    char *path = cn_client_path("", "v1", cn_meta_str(pod, "namespace"), "pods", cn_meta_str(pod, "name"), NULL);
    cn_err e = CN_ERR_INIT;
    int r = cn_client_delete(j->s->c, path, NULL, NULL, &e);
    free(path);
    if (r == 0) {
        if (own_event(&j->mu, &j->events, &j->last, cn_meta_str(pod, "name")))
            cn_recorder_event(j->s->rec, j->rs, "Normal", "SuccessfulDelete", "Deleted pod: %s", cn_meta_str(pod, "name"));
    } else {
        /* Not deleted by us: its deletion will not be seen as ours. */
        cn_expect_deletion_observed(j->s->exp, j->key, j->keys[i]);
        if (e.code == 404) {
            r = 0;
        } else {
            cn_recorder_event(j->s->rec, j->rs, "Warning", "FailedDelete", "Error deleting: %s",
                              e.message ? e.message : "unknown error");
            pthread_mutex_lock(&j->mu);
            if (!j->err.code) cn_err_move(&j->err, &e);
            pthread_mutex_unlock(&j->mu);
        }
    }
    cn_err_clear(&e);
    return r;
}

/* Creates or deletes pods toward spec.replicas. *creating tells which kind
 * of failure a negative return is. */
static int manage(rs_ctl *s, const char *key, const json_t *rs, podvec *pods, bool *creating, cn_err *err)
{
    int64_t want = cn_json_int_at(rs, "spec.replicas", 1);
    int64_t diff = (int64_t)pods->n - want;
    *creating = diff < 0;
    if (diff < 0) {
        int n = (int)(-diff > BURST_REPLICAS ? BURST_REPLICAS : -diff);
        cn_expect_creations(s->exp, key, n);
        create_job j = { .s = s, .rs = rs, .err = CN_ERR_INIT };
        pthread_mutex_init(&j.mu, NULL);
        int first = 0;
        int ok = cn_slow_start_batch(n, 1, PARALLEL_WRITES, create_one, &j, &first);
        pthread_mutex_destroy(&j.mu);
        combined_event(s, rs, j.events, j.last, "SuccessfulCreate", "Created");
        /* The ones never tried (or refused) will never be seen: stop
         * waiting for them. */
        for (int i = ok; i < n; i++) cn_expect_creation_observed(s->exp, key);
        if (first < 0) {
            cn_err_move(err, &j.err);
            return first;
        }
        cn_err_clear(&j.err);
        return 0;
    }
    if (diff == 0) return 0;
    size_t n = (size_t)(diff > BURST_REPLICAS ? BURST_REPLICAS : diff);
    int *ranks = rank_by_node(s, rs, pods);
    cn_pods_sort_for_deletion(pods->v, ranks, pods->n);
    free(ranks);
    char **keys = cn_calloc(n, sizeof *keys);
    for (size_t i = 0; i < n; i++) keys[i] = cn_ctrl_key(pods->v[i]);
    cn_expect_deletions(s->exp, key, (const char *const *)keys, n);
    delete_job j = { .s = s, .rs = rs, .key = key, .pods = pods->v, .keys = keys, .err = CN_ERR_INIT };
    pthread_mutex_init(&j.mu, NULL);
    int ret = 0;
    cn_parallel_run((int)n, PARALLEL_WRITES, delete_one, &j, &ret);
    pthread_mutex_destroy(&j.mu);
    combined_event(s, rs, j.events, j.last, "SuccessfulDelete", "Deleted");
    if (ret < 0) cn_err_move(err, &j.err);
    cn_err_clear(&j.err);
    for (size_t i = 0; i < n; i++) free(keys[i]);
    free(keys);
    return ret;
}

static bool labels_subset(const json_t *want, const json_t *have)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)want, k, v)
        if (!json_equal(v, json_object_get(have, k))) return false;
    return true;
}

/* The status the ReplicaSet should have (new reference). */
static json_t *calc_status(const json_t *rs, const podvec *pods, int manage_ret, bool creating,
                           const cn_err *merr)
{
    int64_t mrs = cn_json_int_at(rs, "spec.minReadySeconds", 0), now = cn_wall_s();
    const json_t *tlabels = jat(jat(rs, "spec", "template"), "metadata", "labels");
    int64_t full = 0, ready = 0, avail = 0;
    for (size_t i = 0; i < pods->n; i++) {
        const json_t *p = pods->v[i];
        if (labels_subset(tlabels, jat(p, "metadata", "labels"))) full++;
        if (cn_pod_ready(p)) ready++;
        if (cn_pod_available(p, mrs, now)) avail++;
    }
    const json_t *old = json_object_get(rs, "status");
    json_t *st = json_pack("{s:I, s:I, s:I, s:I, s:I}", "replicas", (json_int_t)pods->n,
                           "fullyLabeledReplicas", (json_int_t)full, "readyReplicas", (json_int_t)ready,
                           "availableReplicas", (json_int_t)avail,
                           "observedGeneration", (json_int_t)cn_json_int_at(rs, "metadata.generation", 0));
    json_t *conds = json_array();
    const json_t *failure = NULL;
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(old, "conditions"), i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, "ReplicaFailure")) failure = c;
        else json_array_append_new(conds, json_deep_copy(c));
    }
    if (manage_ret < 0 && failure) {
        json_array_append_new(conds, json_deep_copy(failure));
    } else if (manage_ret < 0) {
        char ts[32];
        cn_time_rfc3339(now, ts);
        json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "ReplicaFailure",
                                               "status", "True", "lastTransitionTime", ts, "reason",
                                               creating ? "FailedCreate" : "FailedDelete", "message",
                                               merr->message ? merr->message : "failed"));
    }
    if (json_array_size(conds)) json_object_set_new(st, "conditions", conds);
    else json_decref(conds);
    return st;
}

static bool status_same(const json_t *old, const json_t *st)
{
    static const char *const f[] = { "replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                                     "observedGeneration", NULL };
    for (int i = 0; f[i]; i++)
        if (cn_json_int_at(old, f[i], 0) != cn_json_int_at(st, f[i], 0)) return false;
    const json_t *oc = json_object_get(old, "conditions"), *nc = json_object_get(st, "conditions");
    if (!json_array_size(oc) && !json_array_size(nc)) return true;
    return oc && nc && json_equal(oc, nc);
}

/* PUT status; on a conflict read the ReplicaSet again and retry once, as
 * upstream's updateReplicaSetStatus (the status is ours alone). */
static int put_status(rs_ctl *s, const json_t *rs, const json_t *st, cn_err *err)
{
    char *path = cn_client_path("apps", "v1", cn_meta_str(rs, "namespace"), "replicasets",
                                cn_meta_str(rs, "name"), "status");
    json_t *obj = json_deep_copy(rs);
    int r = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_object_set(obj, "status", (json_t *)st);
        r = cn_client_update(s->c, path, obj, NULL, err);
        if (r == 0 || err->code != 409 || attempt) break;
        cn_err_clear(err);
        json_decref(obj);
        obj = NULL;
        char *get = cn_client_path("apps", "v1", cn_meta_str(rs, "namespace"), "replicasets",
                                   cn_meta_str(rs, "name"), NULL);
        r = cn_client_get(s->c, get, &obj, err);
        free(get);
        if (r < 0) break;
        if (strcmp(cn_meta_str(obj, "uid"), cn_meta_str(rs, "uid"))) break;   /* replaced */
        /* observedGeneration must not claim a generation we did not manage. */
        if (cn_json_int_at(obj, "metadata.generation", 0) != cn_json_int_at(rs, "metadata.generation", 0))
            break;
    }
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        r = 0;
    }
    json_decref(obj);
    free(path);
    return r;
}

static int rs_sync(void *ud, const char *key)
{
    rs_ctl *s = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *rs = cn_informer_get(s->rs_inf, ns, name);
    if (!rs) {
        cn_expect_forget(s->exp, key);
        return 0;
    }
    int ret = 0;
    cn_err err = CN_ERR_INIT, merr = CN_ERR_INIT;
    podvec all = { 0 }, mine = { 0 };
    cn_selector *sel = NULL;
    bool need_sync = cn_expect_satisfied(s->exp, key);
    if (cn_selector_from_json(jat(rs, "spec", "selector"), &sel, &err) < 0 || cn_selector_empty(sel)) {
        /* Validation forbids it; nothing sensible to do but wait for a fix. */
        cn_warn("replicaset \"%s\": invalid selector, ignoring", key);
        goto done;
    }
    /* Its own pods and the namespace's orphans: no other pod can be ours. */
    cn_informer_foreach_owned(s->pod_inf, cn_meta_str(rs, "uid"), collect_active, &all);
    cn_informer_foreach_index(s->pod_inf, CN_PODCTL_ORPHANS, ns, collect_active, &all);
    cn_claim cl = { s->c, rs, "apps/v1", "ReplicaSet", sel, "", "v1", "pods", 0 };
    for (size_t i = 0; i < all.n; i++) {
        int r = cn_claim_child(&cl, all.v[i], &err);
        if (r < 0) {
            ret = r;
            cn_warn("replicaset \"%s\": claiming pods: %s", key, err.message ? err.message : "");
            goto done;
        }
        if (r > 0) podvec_push(&mine, all.v[i]);
    }
    int mret = 0;
    bool creating = false;
    if (need_sync && !is_deleting(rs)) mret = manage(s, key, rs, &mine, &creating, &merr);
    json_t *st = calc_status(rs, &mine, mret, creating, &merr);
    if (!status_same(json_object_get(rs, "status"), st)) {
        int r = put_status(s, rs, st, &err);
        if (r < 0) {
            cn_warn("replicaset \"%s\": updating status: %s", key, err.message ? err.message : "");
            ret = r;
        }
    }
    int64_t mrs = cn_json_int_at(rs, "spec.minReadySeconds", 0);
    if (mret == 0 && mrs > 0 && cn_json_int_at(st, "readyReplicas", 0) == cn_json_int_at(rs, "spec.replicas", 1) &&
        cn_json_int_at(st, "availableReplicas", 0) != cn_json_int_at(rs, "spec.replicas", 1))
        cn_workqueue_add_after(s->q, key, mrs * 1000);
    json_decref(st);
    if (mret < 0) {
        cn_warn("replicaset \"%s\": %s", key, merr.message ? merr.message : "managing pods failed");
        ret = mret;
    }
done:
    cn_selector_free(sel);
    podvec_release(&all);
    podvec_release(&mine);
    cn_err_clear(&err);
    cn_err_clear(&merr);
    json_decref(rs);
    return ret;
}

/* ---------------------------------------------------------------------
 * lifecycle
 * ------------------------------------------------------------------- */

static int rs_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    rs_ctl *s = cn_calloc(1, sizeof *s);
    s->c = ctx->client;
    s->exp = cn_expect_new();
    s->q = cn_workqueue_new(0);
    s->rec = cn_recorder_new(ctx->client, "replicaset-controller");
    s->rs_inf = cn_informers_get(ctx->inf, "apps", "v1", "replicasets");
    s->pod_inf = cn_informers_get(ctx->inf, "", "v1", "pods");
    cn_informer_handler rh = { on_rs_add, on_rs_update, on_rs_delete, s };
    cn_informer_handler ph = { on_pod_add, on_pod_update, on_pod_delete, s };
    cn_informer_add_handler(s->rs_inf, &rh);
    cn_informer_add_handler(s->pod_inf, &ph);
    cn_podctl_add_orphan_index(s->pod_inf);
    s->w = cn_ctrl_workers_start(ctx, "replicaset", s->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                 rs_sync, s);
    *state = s;
    return 0;
}

static void rs_stop(void *state)
{
    rs_ctl *s = state;
    if (!s) return;
    cn_ctrl_workers_stop(s->w);
    /* Handlers may still fire until the factory stops; the queue is shut
     * down, so adds are dropped. The queue is freed with the state. */
    cn_workqueue_free(s->q);
    cn_recorder_free(s->rec);
    cn_expect_free(s->exp);
    free(s);
}

const cn_controller cn_ctrl_replicaset = { "replicaset", rs_start, rs_stop };
