/* job: the Job controller (see job.h). cn_job_plan decides, the worker
 * acts; the two are kept apart so the accounting is testable without a
 * server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/job.h"
#include "ctrl/wl.h"
#include "lib/log.h"
#include "lib/util.h"

#define INDEX_KEY "batch.kubernetes.io/job-completion-index"
#define MAX_BACKOFF_S 360
#define MAX_CREATE_PER_SYNC 500

/* ---------------------------------------------------------------- pure -- */

int64_t cn_job_backoff_s(int64_t failures)
{
    if (failures <= 0) return 0;
    int64_t d = 10;
    for (int64_t i = 1; i < failures && d < MAX_BACKOFF_S; i++) d *= 2;
    return d > MAX_BACKOFF_S ? MAX_BACKOFF_S : d;
}

char *cn_job_format_indexes(const int64_t *idx, size_t n)
{
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1) j++;
        if (b.len) cn_buf_addc(&b, ',');
        if (j == i) cn_buf_addf(&b, "%lld", (long long)idx[i]);
        else cn_buf_addf(&b, "%lld-%lld", (long long)idx[i], (long long)idx[j]);
        i = j + 1;
    }
    return cn_buf_detach(&b, NULL);
}

/* The completion index of an Indexed Job's pod, or -1. */
static int64_t pod_index(const json_t *pod)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *s = json_string_value(json_object_get(json_object_get(meta, "annotations"), INDEX_KEY));
    if (!s) s = json_string_value(json_object_get(json_object_get(meta, "labels"), INDEX_KEY));
    int64_t v;
    if (!s || cn_parse_int64(s, &v) < 0 || v < 0) return -1;
    return v;
}

/* When a failed pod ended: its latest container finish, else its last
 * condition change, else its creation. */
static int64_t pod_finish_time(const json_t *pod)
{
    int64_t best = 0;
    json_t *cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c) {
        int64_t t = cn_wl_time(c, "state.terminated.finishedAt");
        if (t > best) best = t;
    }
    if (best) return best;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
        int64_t t = cn_wl_time(c, "lastTransitionTime");
        if (t > best) best = t;
    }
    return best ? best : cn_wl_time(pod, "metadata.creationTimestamp");
}

static int64_t restarts(const json_t *pod)
{
    int64_t n = 0;
    static const char *const lists[] = { "containerStatuses", "initContainerStatuses" };
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "status"), lists[l]), i, c)
            n += cn_wl_int(c, "restartCount", 0);
    }
    return n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* When the Job finished (its terminal condition's transition), or 0. */
static int64_t finish_time(const json_t *job)
{
    int64_t t = cn_wl_time(job, "status.completionTime");
    if (t) return t;
    static const char *const types[] = { "Complete", "Failed" };
    for (size_t i = 0; i < 2; i++) {
        json_t *c = cn_wl_condition(job, types[i]);
        const char *st = json_string_value(json_object_get(c, "status"));
        if (st && !strcmp(st, "True")) return cn_wl_time(c, "lastTransitionTime");
    }
    return 0;
}

static bool job_finished(const json_t *job)
{
    return cn_wl_condition_true(job, "Complete") || cn_wl_condition_true(job, "Failed");
}

/* Pods are deleted newest-first and not-ready before ready, as upstream's
 * ActivePods ordering would pick them. */
static int cmp_delete_order(const void *a, const void *b)
{
    const json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
    bool ra = cn_wl_pod_ready(pa), rb = cn_wl_pod_ready(pb);
    if (ra != rb) return ra ? 1 : -1;
    int64_t ta = cn_wl_time(pa, "metadata.creationTimestamp"), tb = cn_wl_time(pb, "metadata.creationTimestamp");
    return ta > tb ? -1 : ta < tb;
}

void cn_job_plan_compute(const json_t *job, const json_t *pods, int64_t now, cn_job_plan *p)
{
    memset(p, 0, sizeof *p);
    p->to_delete = json_array();
    p->indexes = json_array();
    const json_t *spec = json_object_get(job, "spec");
    bool indexed = !strcmp(cn_json_str_at(job, "spec.completionMode"), "Indexed");
    int64_t parallelism = cn_wl_int(job, "spec.parallelism", 1);
    json_t *jc = json_object_get(spec, "completions");
    int64_t completions = json_is_integer(jc) ? json_integer_value(jc) : -1;
    int64_t backoff_limit = cn_wl_int(job, "spec.backoffLimit", 6);
    bool on_failure = !strcmp(cn_json_str_at(job, "spec.template.spec.restartPolicy"), "OnFailure");
    p->suspended = json_is_true(json_object_get(spec, "suspend"));
    if (parallelism < 0) parallelism = 0;

    size_t npods = json_array_size(pods), nact = 0;
    json_t **act = cn_calloc(npods + 1, sizeof *act);
    int64_t *done_idx = cn_calloc(npods + 1, sizeof *done_idx);
    size_t ndone = 0;
    int64_t succeeded = 0, failed = 0, last_fail = 0, restart_sum = 0;
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
        const char *ph = cn_json_str_at(pod, "status.phase");
        if (!strcmp(ph, "Succeeded")) {
            succeeded++;
            int64_t ix = pod_index(pod);
            if (indexed && ix >= 0 && ix < completions) done_idx[ndone++] = ix;
        } else if (!strcmp(ph, "Failed")) {
            failed++;
            int64_t t = pod_finish_time(pod);
            if (t > last_fail) last_fail = t;
        } else if (cn_wl_pod_terminating(pod)) {
            p->terminating++;
        } else {
            act[nact++] = pod;
            if (cn_wl_pod_ready(pod)) p->ready++;
            restart_sum += restarts(pod);
        }
    }
    qsort(done_idx, ndone, sizeof *done_idx, cmp_i64);
    size_t k = 0;
    for (size_t j = 0; j < ndone; j++)
        if (k == 0 || done_idx[k - 1] != done_idx[j]) done_idx[k++] = done_idx[j];
    ndone = k;
    if (indexed) {
        p->completed_indexes = cn_job_format_indexes(done_idx, ndone);
        succeeded = (int64_t)ndone > succeeded ? (int64_t)ndone : succeeded;
    }
    /* cumulative: a deleted finished pod keeps its count */
    int64_t prev_s = cn_wl_int(job, "status.succeeded", 0), prev_f = cn_wl_int(job, "status.failed", 0);
    bool new_failure = failed > prev_f;
    p->succeeded = succeeded > prev_s ? succeeded : prev_s;
    p->failed = failed > prev_f ? failed : prev_f;
    p->active = (int64_t)nact;

    if (job_finished(job)) {
        /* finished: no pods left running; then the TTL */
        for (size_t j = 0; j < nact; j++) json_array_append(p->to_delete, act[j]);
        json_t *ttl = json_object_get(spec, "ttlSecondsAfterFinished");
        if (json_is_integer(ttl)) {
            int64_t due = finish_time(job) + json_integer_value(ttl);
            if (due <= now) p->delete_job = true;
            else p->requeue_ms = (due - now) * 1000;
        }
        goto out;
    }

    /* terminal failure? */
    int64_t start = cn_wl_time(job, "status.startTime");
    json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    bool past_restarts = on_failure && (backoff_limit == 0 ? restart_sum > 0 : restart_sum >= backoff_limit);
    if ((new_failure || p->failed > 0) && p->failed > backoff_limit) {
        p->finish = "Failed";
        p->reason = "BackoffLimitExceeded";
        p->message = "Job has reached the specified backoff limit";
    } else if (past_restarts) {
        p->finish = "Failed";
        p->reason = "BackoffLimitExceeded";
        p->message = "Job has reached the specified backoff limit";
    } else if (!p->suspended && json_is_integer(ads) && start && start + json_integer_value(ads) <= now) {
        p->finish = "Failed";
        p->reason = "DeadlineExceeded";
        p->message = "Job was active longer than specified deadline";
    }
    if (p->finish) {
        for (size_t j = 0; j < nact; j++) json_array_append(p->to_delete, act[j]);
        p->active = 0;
        goto out;
    }
    if (!p->suspended && json_is_integer(ads)) {
        int64_t due = (start ? start : now) + json_integer_value(ads);
        p->requeue_ms = (due - now) * 1000 + 100;
    }

    /* success? */
    bool complete;
    if (indexed) complete = completions >= 0 && (int64_t)ndone >= completions;
    else if (completions >= 0) complete = p->succeeded >= completions;
    else complete = p->succeeded > 0 && nact == 0;
    if (complete) {
        /* leftover pods of a finished Job are removed */
        for (size_t j = 0; j < nact; j++) json_array_append(p->to_delete, act[j]);
        p->active = 0;
        p->finish = "Complete";
        p->reason = "CompletionsReached";
        p->message = "Reached expected number of succeeded pods";
        goto out;
    }

    /* how many should run */
    int64_t want;
    if (p->suspended) want = 0;
    else if (indexed) want = parallelism < completions - (int64_t)ndone ? parallelism : completions - (int64_t)ndone;
    else if (completions >= 0) {
        int64_t left = completions - p->succeeded;
        want = parallelism < left ? parallelism : left;
    } else {
        want = p->succeeded > 0 ? 0 : parallelism;   /* work queue: one success ends it */
    }
    if (want < 0) want = 0;

    if ((int64_t)nact > want) {
        qsort(act, nact, sizeof *act, cmp_delete_order);
        for (size_t j = 0; j < nact - (size_t)want; j++) json_array_append(p->to_delete, act[j]);
    } else if ((int64_t)nact < want) {
        /* a pod failed recently: wait out its backoff before replacing it */
        int64_t wait = failed > 0 ? last_fail + cn_job_backoff_s(p->failed) - now : 0;
        if (wait > 0) {
            int64_t ms = wait * 1000;
            if (!p->requeue_ms || ms < p->requeue_ms) p->requeue_ms = ms;
        } else if (indexed) {
            /* the lowest indexes that neither succeeded nor run */
            int64_t need = want - (int64_t)nact;
            for (int64_t ix = 0; ix < completions && need > 0 && ix < (int64_t)1 << 20; ix++) {
                if (bsearch(&ix, done_idx, ndone, sizeof *done_idx, cmp_i64)) continue;
                bool running = false;
                for (size_t j = 0; j < nact && !running; j++) running = pod_index(act[j]) == ix;
                if (running) continue;
                json_array_append_new(p->indexes, json_integer(ix));
                need--;
            }
        } else {
            int64_t n = want - (int64_t)nact;
            p->create = (int)(n > MAX_CREATE_PER_SYNC ? MAX_CREATE_PER_SYNC : n);
        }
    }
out:
    free(act);
    free(done_idx);
}

void cn_job_plan_release(cn_job_plan *p)
{
    json_decref(p->to_delete);
    json_decref(p->indexes);
    free(p->completed_indexes);
    memset(p, 0, sizeof *p);
}

void cn_job_set_condition(json_t *status, const char *type, const char *st, const char *reason,
                          const char *message, int64_t now)
{
    char ts[32];
    cn_time_rfc3339(now, ts);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (!t || strcmp(t, type) != 0) continue;
        const char *old = json_string_value(json_object_get(c, "status"));
        if (!old || strcmp(old, st) != 0) json_object_set_new(c, "lastTransitionTime", json_string(ts));
        json_object_set_new(c, "status", json_string(st));
        json_object_set_new(c, "lastProbeTime", json_string(ts));
        json_object_set_new(c, "reason", json_string(reason));
        json_object_set_new(c, "message", json_string(message));
        return;
    }
    json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", st,
                                           "lastProbeTime", ts, "lastTransitionTime", ts,
                                           "reason", reason, "message", message));
}

json_t *cn_job_status(const json_t *job, const cn_job_plan *p, int64_t now)
{
    json_t *old = json_object_get(job, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    char ts[32];
    cn_time_rfc3339(now, ts);
    bool finished = job_finished(job);
    /* upstream leaves zero counts out (omitempty) but always writes ready
     * and terminating */
    int64_t active = finished ? 0 : p->active - (int64_t)json_array_size(p->to_delete);
    if (active < 0) active = 0;
    if (p->create > 0) active += p->create;
    active += (int64_t)json_array_size(p->indexes);
    static const char *const names[] = { "active", "succeeded", "failed" };
    int64_t vals[3] = { active, p->succeeded, p->failed };
    for (size_t i = 0; i < 3; i++) {
        if (vals[i] > 0) json_object_set_new(st, names[i], json_integer(vals[i]));
        else json_object_del(st, names[i]);
    }
    json_object_set_new(st, "ready", json_integer(finished || p->finish ? 0 : p->ready));
    json_object_set_new(st, "terminating", json_integer(p->terminating));
    if (!json_object_get(st, "uncountedTerminatedPods"))
        json_object_set_new(st, "uncountedTerminatedPods", json_object());
    if (p->completed_indexes && !strcmp(cn_json_str_at(job, "spec.completionMode"), "Indexed"))
        json_object_set_new(st, "completedIndexes", json_string(p->completed_indexes));
    if (finished) return st;

    bool had_suspend = cn_wl_condition_true(job, "Suspended");
    if (p->suspended) {
        if (!had_suspend) cn_job_set_condition(st, "Suspended", "True", "JobSuspended", "Job suspended", now);
        json_object_del(st, "startTime");
    } else {
        if (had_suspend) cn_job_set_condition(st, "Suspended", "False", "JobResumed", "Job resumed", now);
        if (!json_object_get(st, "startTime")) json_object_set_new(st, "startTime", json_string(ts));
    }
    if (p->finish && !strcmp(p->finish, "Complete")) {
        cn_job_set_condition(st, "SuccessCriteriaMet", "True", p->reason, p->message, now);
        cn_job_set_condition(st, "Complete", "True", p->reason, p->message, now);
        json_object_set_new(st, "completionTime", json_string(ts));
    } else if (p->finish) {
        cn_job_set_condition(st, "FailureTarget", "True", p->reason, p->message, now);
        cn_job_set_condition(st, "Failed", "True", p->reason, p->message, now);
    }
    return st;
}

/* ----------------------------------------------------------- controller -- */

typedef struct job_ctrl {
    cn_client *c;
    cn_informer *jobs, *pods;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_wl_expect *exp;
    cn_recorder *rec;
} job_ctrl;

static void enqueue_obj(job_ctrl *jc, const json_t *job)
{
    char *key = cn_ctrl_key(job);
    cn_workqueue_add(jc->q, key);
    free(key);
}

static void job_add(void *ud, const json_t *obj) { enqueue_obj(ud, obj); }
static void job_update(void *ud, const json_t *old, const json_t *obj) { (void)old; enqueue_obj(ud, obj); }
static void job_delete(void *ud, const json_t *obj)
{
    job_ctrl *jc = ud;
    char *key = cn_ctrl_key(obj);
    cn_wl_expect_forget(jc->exp, key);
    free(key);
}

static void pod_event(job_ctrl *jc, const json_t *pod, int adds, int dels)
{
    const char *owner = cn_wl_controller_name(pod, "Job");
    if (!owner) return;
    char *key = cn_asprintf("%s/%s", cn_meta_str(pod, "namespace"), owner);
    if (adds || dels) cn_wl_expect_observed(jc->exp, key, adds, dels);
    cn_workqueue_add(jc->q, key);
    free(key);
}

static void pod_add(void *ud, const json_t *obj) { pod_event(ud, obj, 1, 0); }
static void pod_update(void *ud, const json_t *old, const json_t *obj)
{
    /* a pod that starts terminating counts as the deletion we expected */
    int dels = !cn_wl_pod_terminating(old) && cn_wl_pod_terminating(obj);
    pod_event(ud, obj, 0, dels);
}
static void pod_delete(void *ud, const json_t *obj)
{
    pod_event(ud, obj, 0, cn_wl_pod_terminating(obj) ? 0 : 1);
}

static bool collect_pod(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

/* Creates one pod for job; index < 0 for NonIndexed Jobs. */
static int create_pod(job_ctrl *jc, const json_t *job, int64_t index, cn_err *err)
{
    const char *name = cn_meta_str(job, "name");
    json_t *pod = cn_wl_from_template(json_object_get(json_object_get(job, "spec"), "template"), job,
                                      "batch/v1", "Job");
    json_t *meta = json_object_get(pod, "metadata");
    json_t *labels = json_object_get(meta, "labels");
    /* a manual selector's template may lack them; upstream sets both */
    if (!json_object_get(labels, "batch.kubernetes.io/job-name"))
        json_object_set_new(labels, "batch.kubernetes.io/job-name", json_string(name));
    if (!json_object_get(labels, "job-name")) json_object_set_new(labels, "job-name", json_string(name));
    if (index >= 0) {
        char ix[24];
        snprintf(ix, sizeof ix, "%lld", (long long)index);
        json_object_set_new(meta, "generateName", json_sprintf("%s-%s-", name, ix));
        json_t *ann = json_object_get(meta, "annotations");
        if (!ann) json_object_set_new(meta, "annotations", ann = json_object());
        json_object_set_new(ann, INDEX_KEY, json_string(ix));
        json_object_set_new(labels, INDEX_KEY, json_string(ix));
        json_t *spec = json_object_get(pod, "spec");
        if (!json_object_get(spec, "hostname"))
            json_object_set_new(spec, "hostname", json_sprintf("%s-%s", name, ix));
        static const char *const lists[] = { "containers", "initContainers" };
        for (size_t l = 0; l < 2; l++) {
            size_t i;
            json_t *ctr;
            json_array_foreach(json_object_get(spec, lists[l]), i, ctr) {
                json_t *env = json_object_get(ctr, "env");
                if (!env) json_object_set_new(ctr, "env", env = json_array());
                json_array_append_new(env, json_pack("{s:s,s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX",
                    "valueFrom", "fieldRef", "fieldPath",
                    "metadata.labels['batch.kubernetes.io/job-completion-index']"));
            }
        }
    } else {
        json_object_set_new(meta, "generateName", json_sprintf("%s-", name));
    }
    char *coll = cn_client_path("", "v1", cn_meta_str(job, "namespace"), "pods", NULL, NULL);
    json_t *created = NULL;
    int r = cn_client_create(jc->c, coll, pod, &created, err);
    if (r == 0) cn_recorder_event(jc->rec, job, "Normal", "SuccessfulCreate", "Created pod: %s", cn_meta_str(created, "name"));
    else cn_recorder_event(jc->rec, job, "Warning", "FailedCreate", "Error creating: %s", err->message ? err->message : "");
    json_decref(created);
    json_decref(pod);
    free(coll);
    return r;
}

static int delete_pod(job_ctrl *jc, const json_t *job, const json_t *pod, cn_err *err)
{
    char *path = cn_client_path("", "v1", cn_meta_str(pod, "namespace"), "pods", cn_meta_str(pod, "name"), NULL);
    int r = cn_client_delete(jc->c, path, NULL, NULL, err);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        return 0;
    }
    if (r == 0) cn_recorder_event(jc->rec, job, "Normal", "SuccessfulDelete", "Deleted pod: %s", cn_meta_str(pod, "name"));
    return r;
}

static int job_sync(void *ud, const char *key)
{
    job_ctrl *jc = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *job = cn_informer_get(jc->jobs, ns, name);
    if (!job) {
        cn_wl_expect_forget(jc->exp, key);
        return 0;
    }
    int ret = 0;
    cn_err err = CN_ERR_INIT;
    json_t *pods = json_array(), *st = NULL;
    cn_job_plan p;
    memset(&p, 0, sizeof p);
    if (cn_wl_pod_terminating(job)) goto out;
    if (!cn_wl_expect_satisfied(jc->exp, key)) {
        /* the informer will bring us back; if an event was lost, the
         * expectation expires and this look finds it */
        cn_workqueue_add_after(jc->q, key, 1000);
        goto out;
    }
    cn_informer_foreach_owned(jc->pods, cn_meta_str(job, "uid"), collect_pod, pods);
    int64_t now = cn_wall_s();
    cn_job_plan_compute(job, pods, now, &p);

    if (p.delete_job) {
        /* ttlSecondsAfterFinished: the Job and its pods go */
        char *path = cn_client_path("batch", "v1", ns, "jobs", name, NULL);
        json_t *opts = json_pack("{s:s,s:{s:s}}", "propagationPolicy", "Background",
                                 "preconditions", "uid", cn_meta_str(job, "uid"));
        ret = cn_client_delete(jc->c, path, opts, NULL, &err);
        json_decref(opts);
        free(path);
        if (ret < 0 && (err.code == 404 || err.code == 409)) ret = 0;
        size_t i;
        json_t *pod;
        json_array_foreach(pods, i, pod) {
            cn_err e2 = CN_ERR_INIT;
            (void)delete_pod(jc, job, pod, &e2);
            cn_err_clear(&e2);
        }
        goto out;
    }
    size_t ndel = json_array_size(p.to_delete), nidx = json_array_size(p.indexes);
    if (ndel || p.create || nidx) cn_wl_expect_set(jc->exp, key, p.create + (int)nidx, (int)ndel);
    size_t i;
    json_t *pod;
    json_array_foreach(p.to_delete, i, pod) {
        if (delete_pod(jc, job, pod, &err) < 0) {
            cn_wl_expect_observed(jc->exp, key, 0, 1);
            ret = -EIO;
            cn_err_clear(&err);
        }
    }
    for (int n = 0; n < p.create; n++) {
        if (create_pod(jc, job, -1, &err) < 0) {
            /* the rest will not come either: stop and retry later */
            cn_wl_expect_observed(jc->exp, key, p.create - n, 0);
            ret = -EIO;
            cn_err_clear(&err);
            break;
        }
    }
    json_t *ix;
    json_array_foreach(p.indexes, i, ix) {
        if (create_pod(jc, job, json_integer_value(ix), &err) < 0) {
            cn_wl_expect_observed(jc->exp, key, (int)(nidx - i), 0);
            ret = -EIO;
            cn_err_clear(&err);
            break;
        }
    }
    if (p.finish && !job_finished(job)) {
        if (!strcmp(p.finish, "Complete")) cn_recorder_event(jc->rec, job, "Normal", "Completed", "Job completed");
        else cn_recorder_event(jc->rec, job, "Warning", p.reason, "%s", p.message);
    }
    if (p.suspended && !cn_wl_condition_true(job, "Suspended"))
        cn_recorder_event(jc->rec, job, "Normal", "Suspended", "Job suspended");
    else if (!p.suspended && cn_wl_condition_true(job, "Suspended"))
        cn_recorder_event(jc->rec, job, "Normal", "Resumed", "Job resumed");

    st = cn_job_status(job, &p, now);
    if (cn_ctrl_put_status(jc->c, "batch", "v1", "jobs", job, st) < 0) ret = -EAGAIN;
    if (ret == 0 && p.requeue_ms > 0) cn_workqueue_add_after(jc->q, key, p.requeue_ms);
out:
    cn_job_plan_release(&p);
    json_decref(st);
    json_decref(pods);
    json_decref(job);
    cn_err_clear(&err);
    return ret;
}

static int job_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    job_ctrl *jc = cn_calloc(1, sizeof *jc);
    jc->c = ctx->client;
    jc->exp = cn_wl_expect_new();
    jc->rec = cn_recorder_new(ctx->client, "job-controller");
    jc->q = cn_workqueue_new(0);
    jc->jobs = cn_informers_get(ctx->inf, "batch", "v1", "jobs");
    jc->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    cn_informer_handler jh = { job_add, job_update, job_delete, jc };
    cn_informer_handler ph = { pod_add, pod_update, pod_delete, jc };
    cn_informer_add_handler(jc->jobs, &jh);
    cn_informer_add_handler(jc->pods, &ph);
    jc->w = cn_ctrl_workers_start(ctx, "job", jc->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                  job_sync, jc);
    *state = jc;
    return 0;
}

static void job_stop(void *state)
{
    job_ctrl *jc = state;
    if (!jc) return;
    cn_ctrl_workers_stop(jc->w);
    cn_workqueue_free(jc->q);
    cn_recorder_free(jc->rec);
    cn_wl_expect_free(jc->exp);
    free(jc);
}

const cn_controller cn_job_controller = { "job", job_start, job_stop };
