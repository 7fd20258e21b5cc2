/* cronjob: the CronJob controller (see cronjob.h). Schedule arithmetic and
 * history selection are pure; the sync reads the Jobs from the shared Job
 * informer (owner index) and writes through the API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/cronjob.h"
#include "ctrl/wl.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_WALK 200000
#define TOO_MANY_MISSED 100

/* ---------------------------------------------------------------- pure -- */

int64_t cn_cj_most_recent(const cn_cron *c, int64_t earliest, int64_t now, int64_t offset_s, int64_t *missed)
{
    int64_t last = -1, n = 0, t = earliest;
    for (;;) {
        int64_t nx = cn_cron_next(c, t, offset_s);
        if (nx < 0 || nx > now) break;
        last = nx;
        t = nx;
        if (++n == MAX_WALK) {
            /* years of minutes missed: count them as many and look only at
             * the recent past for the latest one */
            int64_t from = now - 2 * 86400;
            if (from > t) t = from;
        }
    }
    if (missed) *missed = n;
    return last;
}

char *cn_cj_job_name(const char *cronjob, int64_t scheduled)
{
    int64_t m = scheduled >= 0 ? scheduled / 60 : (scheduled - 59) / 60;
    return cn_asprintf("%s-%lld", cronjob, (long long)m);
}

static bool finished(const json_t *job, bool *ok)
{
    if (cn_wl_condition_true(job, "Complete")) { *ok = true; return true; }
    if (cn_wl_condition_true(job, "Failed")) { *ok = false; return true; }
    return false;
}

static int64_t job_start(const json_t *job)
{
    int64_t t = cn_wl_time(job, "status.startTime");
    return t ? t : cn_wl_time(job, "metadata.creationTimestamp");
}

static int cmp_start(const void *a, const void *b)
{
    int64_t x = job_start(*(json_t *const *)a), y = job_start(*(json_t *const *)b);
    if (x != y) return x < y ? -1 : 1;
    return strcmp(cn_meta_str(*(json_t *const *)a, "name"), cn_meta_str(*(json_t *const *)b, "name"));
}

json_t *cn_cj_history_excess(const json_t *jobs, int64_t succ_limit, int64_t fail_limit)
{
    size_t n = json_array_size(jobs), ns = 0, nf = 0;
    json_t **succ = cn_calloc(n + 1, sizeof *succ), **fail = cn_calloc(n + 1, sizeof *fail);
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j) {
        bool ok;
        if (!finished(j, &ok) || cn_wl_pod_terminating(j)) continue;
        if (ok) succ[ns++] = j;
        else fail[nf++] = j;
    }
    qsort(succ, ns, sizeof *succ, cmp_start);
    qsort(fail, nf, sizeof *fail, cmp_start);
    json_t *out = json_array();
    for (size_t k = 0; succ_limit >= 0 && (int64_t)(ns - k) > succ_limit; k++) json_array_append(out, succ[k]);
    for (size_t k = 0; fail_limit >= 0 && (int64_t)(nf - k) > fail_limit; k++) json_array_append(out, fail[k]);
    free(succ);
    free(fail);
    return out;
}

/* ----------------------------------------------------------- controller -- */

typedef struct cj_ctrl {
    cn_client *c;
    cn_informer *cjs, *jobs;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_recorder *rec;
} cj_ctrl;

static void enqueue(cj_ctrl *cc, const json_t *obj)
{
    char *key = cn_ctrl_key(obj);
    cn_workqueue_add(cc->q, key);
    free(key);
}

static void cj_add(void *ud, const json_t *obj) { enqueue(ud, obj); }
static void cj_update(void *ud, const json_t *old, const json_t *obj) { (void)old; enqueue(ud, obj); }

static void job_event(void *ud, const json_t *obj)
{
    cj_ctrl *cc = ud;
    const char *owner = cn_wl_controller_name(obj, "CronJob");
    if (!owner) return;
    char *key = cn_asprintf("%s/%s", cn_meta_str(obj, "namespace"), owner);
    cn_workqueue_add(cc->q, key);
    free(key);
}

static void job_update(void *ud, const json_t *old, const json_t *obj) { (void)old; job_event(ud, obj); }

static bool collect(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

static json_t *job_ref(const json_t *job)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "Job", "namespace", cn_meta_str(job, "namespace"),
                     "name", cn_meta_str(job, "name"), "uid", cn_meta_str(job, "uid"), "apiVersion", "batch/v1",
                     "resourceVersion", cn_meta_str(job, "resourceVersion"));
}

static const json_t *find_uid(const json_t *jobs, const char *uid)
{
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j) if (!strcmp(cn_meta_str(j, "uid"), uid)) return j;
    return NULL;
}

static int delete_job(cj_ctrl *cc, const json_t *cj, const char *name, cn_err *err)
{
    char *path = cn_client_path("batch", "v1", cn_meta_str(cj, "namespace"), "jobs", name, NULL);
    json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
    int r = cn_client_delete(cc->c, path, opts, NULL, err);
    json_decref(opts);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        return 0;
    }
    if (r == 0) cn_recorder_event(cc->rec, cj, "Normal", "SuccessfulDelete", "Deleted job %s", name);
    else cn_recorder_event(cc->rec, cj, "Warning", "FailedDelete", "Deleted job: %s", err->message ? err->message : "");
    return r;
}

/* Creates the Job for scheduled; 0 also when it already exists. */
static int create_job(cj_ctrl *cc, const json_t *cj, int64_t scheduled, int64_t off, json_t **out, cn_err *err)
{
    json_t *tmpl = json_object_get(json_object_get(cj, "spec"), "jobTemplate");
    json_t *job = cn_wl_from_template(tmpl, cj, "batch/v1", "CronJob");
    char *name = cn_cj_job_name(cn_meta_str(cj, "name"), scheduled);
    json_object_set_new(job, "apiVersion", json_string("batch/v1"));
    json_object_set_new(job, "kind", json_string("Job"));
    json_t *meta = json_object_get(job, "metadata");
    json_object_set_new(meta, "name", json_string(name));
    json_t *ann = json_object_get(meta, "annotations");
    if (!ann) json_object_set_new(meta, "annotations", ann = json_object());
    /* upstream writes the scheduled time in the CronJob's zone */
    char ts[64];
    if (off == 0) {
        cn_time_rfc3339(scheduled, ts);
    } else {
        char local[32];
        cn_time_rfc3339(scheduled + off, local);
        local[19] = '\0';
        int a = (int)((off < 0 ? -off : off) % 86400);
        snprintf(ts, sizeof ts, "%.19s%c%02d:%02d", local, off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
    }
    json_object_set_new(ann, "batch.kubernetes.io/cronjob-scheduled-timestamp", json_string(ts));
    char *coll = cn_client_path("batch", "v1", cn_meta_str(cj, "namespace"), "jobs", NULL, NULL);
    int r = cn_client_create(cc->c, coll, job, out, err);
    if (r == 0) {
        cn_recorder_event(cc->rec, cj, "Normal", "SuccessfulCreate", "Created job %s", name);
    } else if (err->code == 409) {
        cn_err_clear(err);
        r = 0;
    } else {
        cn_recorder_event(cc->rec, cj, "Warning", "FailedCreate", "Error creating job: %s",
                          err->message ? err->message : "");
    }
    free(coll);
    free(name);
    json_decref(job);
    return r;
}

static int cj_sync(void *ud, const char *key)
{
    cj_ctrl *cc = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *cj = cn_informer_get(cc->cjs, ns, name);
    if (!cj) return 0;
    int ret = 0;
    cn_err err = CN_ERR_INIT;
    json_t *jobs = json_array(), *active = json_array(), *excess = NULL, *st = NULL;
    cn_cron *sched = NULL;
    const json_t *spec = json_object_get(cj, "spec");
    int64_t now = cn_wall_s(), requeue_at = 0;
    cn_informer_foreach_owned(cc->jobs, cn_meta_str(cj, "uid"), collect, jobs);
    json_t *old = json_object_get(cj, "status");
    st = json_is_object(old) ? json_deep_copy(old) : json_object();

    /* 1. status.active follows the Jobs */
    int64_t last_ok = cn_wl_time(cj, "status.lastSuccessfulTime");
    size_t i;
    json_t *ref, *j;
    json_array_foreach(json_object_get(old, "active"), i, ref) {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        const json_t *job = uid ? find_uid(jobs, uid) : NULL;
        if (job) continue;   /* handled below */
        /* not in the informer: gone, or just created and not seen yet */
        char *path = cn_client_path("batch", "v1", ns, "jobs", json_string_value(json_object_get(ref, "name")), NULL);
        json_t *got = NULL;
        int r = cn_client_get(cc->c, path, &got, &err);
        free(path);
        if (r == 0 && !strcmp(cn_meta_str(got, "uid"), uid ? uid : "")) json_array_append(active, ref);
        else if (r < 0 && err.code != 404) json_array_append(active, ref);
        cn_err_clear(&err);
        json_decref(got);
    }
    json_array_foreach(jobs, i, j) {
        bool ok;
        if (finished(j, &ok)) {
            bool was_active = false;
            size_t k;
            json_array_foreach(json_object_get(old, "active"), k, ref)
                if (json_equal(json_object_get(ref, "uid"), json_object_get(json_object_get(j, "metadata"), "uid")))
                    was_active = true;
            if (was_active)
                cn_recorder_event(cc->rec, cj, "Normal", "SawCompletedJob", "Saw completed job: %s, condition: %s",
                                  cn_meta_str(j, "name"), ok ? "Complete" : "Failed");
            int64_t t = cn_wl_time(j, "status.completionTime");
            if (ok && t > last_ok) last_ok = t;
        } else if (!cn_wl_pod_terminating(j)) {
            json_array_append_new(active, job_ref(j));
        }
    }
    if (cn_wl_pod_terminating(cj)) goto status;

    /* 2. history limits */
    excess = cn_cj_history_excess(jobs, cn_wl_int(cj, "spec.successfulJobsHistoryLimit", 3),
                                  cn_wl_int(cj, "spec.failedJobsHistoryLimit", 1));
    json_array_foreach(excess, i, j) {
        if (delete_job(cc, cj, cn_meta_str(j, "name"), &err) < 0) {
            cn_err_clear(&err);
            ret = -EIO;
        }
    }

    /* 3. the schedule */
    int64_t off = 0;
    const char *tz = json_string_value(json_object_get(spec, "timeZone"));
    if (cn_cron_zone_offset(tz, &off) < 0) {
        cn_recorder_event(cc->rec, cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": unknown time zone %s",
                          tz, tz);
        goto status;
    }
    if (cn_cron_parse(cn_json_str_at(cj, "spec.schedule"), &sched, &err) < 0) {
        cn_recorder_event(cc->rec, cj, "Warning", "UnparseableSchedule", "unparseable schedule: \"%s\" : %s",
                          cn_json_str_at(cj, "spec.schedule"), err.message ? err.message : "");
        cn_err_clear(&err);
        goto status;
    }
    requeue_at = cn_cron_next(sched, now, off);
    if (json_is_true(json_object_get(spec, "suspend"))) goto status;
    int64_t earliest = cn_wl_time(cj, "status.lastScheduleTime");
    if (!earliest) earliest = cn_wl_time(cj, "metadata.creationTimestamp");
    json_t *sds = json_object_get(spec, "startingDeadlineSeconds");
    if (json_is_integer(sds) && now - json_integer_value(sds) > earliest) earliest = now - json_integer_value(sds);
    int64_t missed = 0;
    int64_t t = cn_cj_most_recent(sched, earliest, now, off, &missed);
    if (missed > TOO_MANY_MISSED)
        cn_recorder_event(cc->rec, cj, "Warning", "TooManyMissedTimes",
                          "too many missed start times: %lld. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                          (long long)missed);
    if (t < 0) goto status;
    if (json_is_integer(sds) && t + json_integer_value(sds) < now) {
        char mts[32];
        cn_time_rfc3339(t, mts);
        cn_recorder_event(cc->rec, cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: %s", mts);
        goto status;
    }
    /* already started for t? */
    char *jname = cn_cj_job_name(name, t);
    bool exists = false;
    json_array_foreach(jobs, i, j) if (!strcmp(cn_meta_str(j, "name"), jname)) exists = true;
    if (exists || cn_wl_time(cj, "status.lastScheduleTime") >= t) {
        free(jname);
        goto status;
    }
    free(jname);
    const char *policy = json_string_value(json_object_get(spec, "concurrencyPolicy"));
    if (policy && !strcmp(policy, "Forbid") && json_array_size(active) > 0) {
        /* upstream: not started now; a later sync may still start it
         * within the deadline once the active Job is done */
        cn_recorder_event(cc->rec, cj, "Normal", "JobAlreadyActive",
                          "Not starting job because prior execution is running and concurrency policy is Forbid");
        goto status;
    }
    if (policy && !strcmp(policy, "Replace")) {
        json_array_foreach(active, i, ref) {
            if (delete_job(cc, cj, json_string_value(json_object_get(ref, "name")), &err) < 0) {
                cn_err_clear(&err);
                ret = -EIO;
                goto status;
            }
        }
        json_array_clear(active);
    }
    json_t *created = NULL;
    if (create_job(cc, cj, t, off, &created, &err) < 0) {
        cn_err_clear(&err);
        ret = -EIO;
        goto status;
    }
    if (created) json_array_append_new(active, job_ref(created));
    json_decref(created);
    char ts[32];
    cn_time_rfc3339(t, ts);
    json_object_set_new(st, "lastScheduleTime", json_string(ts));
status:
    if (json_array_size(active)) json_object_set(st, "active", active);
    else json_object_del(st, "active");
    if (last_ok) {
        char ts2[32];
        cn_time_rfc3339(last_ok, ts2);
        json_object_set_new(st, "lastSuccessfulTime", json_string(ts2));
    }
    if (cn_ctrl_put_status(cc->c, "batch", "v1", "cronjobs", cj, st) < 0) ret = -EAGAIN;
    if (ret == 0 && requeue_at > now) cn_workqueue_add_after(cc->q, key, (requeue_at - now) * 1000 + 100);
    cn_cron_free(sched);
    json_decref(excess);
    json_decref(st);
    json_decref(active);
    json_decref(jobs);
    json_decref(cj);
    cn_err_clear(&err);
    return ret;
}

static int cj_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    cj_ctrl *cc = cn_calloc(1, sizeof *cc);
    cc->c = ctx->client;
    cc->rec = cn_recorder_new(ctx->client, "cronjob-controller");
    cc->q = cn_workqueue_new(0);
    cc->cjs = cn_informers_get(ctx->inf, "batch", "v1", "cronjobs");
    cc->jobs = cn_informers_get(ctx->inf, "batch", "v1", "jobs");
    cn_informer_handler ch = { cj_add, cj_update, NULL, cc };
    cn_informer_handler jh = { job_event, job_update, job_event, cc };
    cn_informer_add_handler(cc->cjs, &ch);
    cn_informer_add_handler(cc->jobs, &jh);
    cc->w = cn_ctrl_workers_start(ctx, "cronjob", cc->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                  cj_sync, cc);
    *state = cc;
    return 0;
}

static void cj_stop(void *state)
{
    cj_ctrl *cc = state;
    if (!cc) return;
    cn_ctrl_workers_stop(cc->w);
    cn_workqueue_free(cc->q);
    cn_recorder_free(cc->rec);
    free(cc);
}

const cn_controller cn_cronjob_controller = { "cronjob", cj_start, cj_stop };
