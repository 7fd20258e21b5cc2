/* test_job: the Job controller's accounting (cn_job_plan) and status. */
#include <stdlib.h>
#include <string.h>
#include "ctrl/job.h"
#include "lib/util.h"
#include "test.h"

#define NOW 1700000000

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fprintf(stderr, "bad json: %s: %s\n", e.text, text);
    return j;
}

/* A Job: completions (-1 = unset), parallelism, backoffLimit, extra spec JSON fields. */
static json_t *job(int64_t completions, int64_t par, int64_t backoff, const char *extra)
{
    char *s = cn_asprintf("{\"metadata\":{\"name\":\"j\",\"namespace\":\"d\",\"uid\":\"u1\"},"
                          "\"spec\":{\"parallelism\":%lld,\"backoffLimit\":%lld%s%s,"
                          "\"template\":{\"spec\":{\"restartPolicy\":\"Never\"}}},\"status\":{}}",
                          (long long)par, (long long)backoff, extra ? "," : "", extra ? extra : "");
    json_t *j = J(s);
    free(s);
    if (completions >= 0) json_object_set_new(json_object_get(j, "spec"), "completions", json_integer(completions));
    return j;
}

/* A pod in phase; ready; finished at NOW-age for terminal pods. */
static json_t *pod(const char *name, const char *phase, bool ready, int64_t age, int64_t index)
{
    char ts[32];
    cn_time_rfc3339(NOW - age, ts);
    json_t *p = json_pack("{s:{s:s,s:s,s:{},s:{}},s:{s:s,s:[{s:s,s:s,s:s}]}}", "metadata", "name", name,
                          "creationTimestamp", ts, "annotations", "labels", "status", "phase", phase,
                          "conditions", "type", "Ready", "status", ready ? "True" : "False",
                          "lastTransitionTime", ts);
    if (index >= 0) {
        char ix[24];
        snprintf(ix, sizeof ix, "%lld", (long long)index);
        json_object_set_new(json_object_get(json_object_get(p, "metadata"), "annotations"),
                            "batch.kubernetes.io/job-completion-index", json_string(ix));
    }
    return p;
}

static void test_scale_up(void)
{
    json_t *j = job(5, 2, 6, NULL), *pods = json_array();
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_INT(p.create, 2);
    CHECK(p.finish == NULL);
    json_t *st = cn_job_status(j, &p, NOW);
    CHECK_INT(json_integer_value(json_object_get(st, "active")), 2);
    CHECK(json_object_get(st, "startTime") != NULL);
    CHECK_INT(json_integer_value(json_object_get(st, "ready")), 0);
    json_decref(st);
    cn_job_plan_release(&p);

    /* 3 succeeded, 1 running: parallelism 2, but only 2 completions left */
    json_array_append_new(pods, pod("a", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("b", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("c", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("d", "Running", true, 5, -1));
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_INT(p.create, 1);
    CHECK_INT(p.succeeded, 3);
    CHECK_INT(p.active, 1);
    CHECK_INT(p.ready, 1);
    cn_job_plan_release(&p);

    /* 4 succeeded, 2 running (one too many): one is deleted, the not-ready one */
    json_array_append_new(pods, pod("e", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("f", "Pending", false, 1, -1));
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_INT(p.create, 0);
    CHECK_INT(json_array_size(p.to_delete), 1);
    CHECK_STR(cn_meta_str(json_array_get(p.to_delete, 0), "name"), "f");
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_complete(void)
{
    json_t *j = job(2, 2, 6, NULL), *pods = json_array();
    json_array_append_new(pods, pod("a", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("b", "Succeeded", false, 5, -1));
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Complete");
    CHECK_STR(p.reason, "CompletionsReached");
    json_t *st = cn_job_status(j, &p, NOW);
    json_t *c = json_object_get(st, "conditions");
    CHECK_INT(json_array_size(c), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "type")), "SuccessCriteriaMet");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "type")), "Complete");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "status")), "True");
    CHECK(json_object_get(st, "completionTime") != NULL);
    CHECK_INT(json_integer_value(json_object_get(st, "succeeded")), 2);
    CHECK(json_object_get(st, "active") == NULL);
    cn_job_plan_release(&p);

    /* once finished, a finished Job is left alone: nothing created */
    json_object_set_new(j, "status", st);
    json_array_clear(pods);
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_INT(p.create, 0);
    CHECK(p.finish == NULL);
    CHECK_INT(p.succeeded, 2);   /* cumulative: the pods are gone, the count is not */
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);

    /* no completions: the first success ends it once nothing runs */
    j = job(-1, 3, 6, NULL);
    pods = json_array();
    json_array_append_new(pods, pod("a", "Succeeded", false, 5, -1));
    json_array_append_new(pods, pod("b", "Running", true, 5, -1));
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK(p.finish == NULL);
    CHECK_INT(p.create, 0);   /* no new pods after a success */
    cn_job_plan_release(&p);
    json_array_remove(pods, 1);
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Complete");
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_backoff(void)
{
    CHECK_INT(cn_job_backoff_s(0), 0);
    CHECK_INT(cn_job_backoff_s(1), 10);
    CHECK_INT(cn_job_backoff_s(2), 20);
    CHECK_INT(cn_job_backoff_s(3), 40);
    CHECK_INT(cn_job_backoff_s(10), 360);
    CHECK_INT(cn_job_backoff_s(1000), 360);

    json_t *j = job(1, 1, 2, NULL), *pods = json_array();
    json_array_append_new(pods, pod("a", "Failed", false, 3, -1));
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    /* failed 3 s ago, backoff 10 s: wait 7 s */
    CHECK_INT(p.create, 0);
    CHECK_INT(p.requeue_ms, 7000);
    CHECK_INT(p.failed, 1);
    CHECK(p.finish == NULL);
    cn_job_plan_release(&p);
    cn_job_plan_compute(j, pods, NOW + 7, &p);
    CHECK_INT(p.create, 1);
    cn_job_plan_release(&p);

    /* third failure > backoffLimit 2: Failed */
    json_array_append_new(pods, pod("b", "Failed", false, 2, -1));
    json_array_append_new(pods, pod("c", "Failed", false, 1, -1));
    json_array_append_new(pods, pod("d", "Running", true, 1, -1));
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Failed");
    CHECK_STR(p.reason, "BackoffLimitExceeded");
    CHECK_INT(json_array_size(p.to_delete), 1);   /* the running one goes */
    json_t *st = cn_job_status(j, &p, NOW);
    json_t *c = json_object_get(st, "conditions");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "type")), "FailureTarget");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "type")), "Failed");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "message")),
              "Job has reached the specified backoff limit");
    CHECK_INT(json_integer_value(json_object_get(st, "failed")), 3);
    CHECK(json_object_get(st, "completionTime") == NULL);
    json_decref(st);
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);

    /* OnFailure: restarts count against the limit */
    j = job(1, 1, 2, NULL);
    json_object_set_new(json_object_get(json_object_get(json_object_get(j, "spec"), "template"), "spec"),
                        "restartPolicy", json_string("OnFailure"));
    pods = json_array();
    json_t *pd = pod("a", "Running", true, 1, -1);
    json_object_set_new(json_object_get(pd, "status"), "containerStatuses", J("[{\"restartCount\":2}]"));
    json_array_append_new(pods, pd);
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Failed");
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_deadline_suspend(void)
{
    char ts[32];
    cn_time_rfc3339(NOW - 30, ts);
    json_t *j = job(1, 1, 6, "\"activeDeadlineSeconds\":20"), *pods = json_array();
    json_object_set_new(json_object_get(j, "status"), "startTime", json_string(ts));
    json_array_append_new(pods, pod("a", "Running", true, 25, -1));
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Failed");
    CHECK_STR(p.reason, "DeadlineExceeded");
    CHECK_INT(json_array_size(p.to_delete), 1);
    cn_job_plan_release(&p);
    /* before the deadline: a wake-up at it */
    cn_job_plan_compute(j, pods, NOW - 15, &p);
    CHECK(p.finish == NULL);
    CHECK(p.requeue_ms >= 5000 && p.requeue_ms <= 5200);
    cn_job_plan_release(&p);
    json_decref(j);

    j = job(3, 2, 6, "\"suspend\":true");
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK(p.suspended);
    CHECK_INT(p.create, 0);
    CHECK_INT(json_array_size(p.to_delete), 1);
    json_t *st = cn_job_status(j, &p, NOW);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(st, "conditions"), 0), "reason")),
              "JobSuspended");
    CHECK(json_object_get(st, "startTime") == NULL);
    /* resumed */
    json_object_set_new(j, "status", st);
    json_object_set_new(json_object_get(j, "spec"), "suspend", json_false());
    cn_job_plan_release(&p);
    cn_job_plan_compute(j, pods, NOW, &p);
    st = cn_job_status(j, &p, NOW);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(st, "conditions"), 0), "status")),
              "False");
    CHECK(json_object_get(st, "startTime") != NULL);
    json_decref(st);
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_indexed(void)
{
    int64_t a[] = { 0, 1, 2, 5, 7, 8 };
    char *s = cn_job_format_indexes(a, 6);
    CHECK_STR(s, "0-2,5,7-8");
    free(s);
    s = cn_job_format_indexes(a, 0);
    CHECK_STR(s, "");
    free(s);

    json_t *j = job(5, 3, 6, "\"completionMode\":\"Indexed\""), *pods = json_array();
    json_array_append_new(pods, pod("a", "Succeeded", false, 5, 0));
    json_array_append_new(pods, pod("b", "Running", false, 5, 1));
    json_array_append_new(pods, pod("c", "Succeeded", false, 5, 3));
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    /* parallelism 3, one running: two more, the lowest free indexes 2 and 4 */
    CHECK_INT(json_array_size(p.indexes), 2);
    CHECK_INT(json_integer_value(json_array_get(p.indexes, 0)), 2);
    CHECK_INT(json_integer_value(json_array_get(p.indexes, 1)), 4);
    CHECK_STR(p.completed_indexes, "0,3");
    json_t *st = cn_job_status(j, &p, NOW);
    CHECK_STR(json_string_value(json_object_get(st, "completedIndexes")), "0,3");
    CHECK_INT(json_integer_value(json_object_get(st, "active")), 3);
    json_decref(st);
    cn_job_plan_release(&p);

    /* a second success of the same index does not count twice */
    json_array_append_new(pods, pod("d", "Succeeded", false, 5, 3));
    json_array_append_new(pods, pod("e", "Succeeded", false, 5, 1));
    json_array_append_new(pods, pod("f", "Succeeded", false, 5, 2));
    json_array_append_new(pods, pod("g", "Succeeded", false, 5, 4));
    json_array_remove(pods, 1);
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK_STR(p.finish, "Complete");
    CHECK_STR(p.completed_indexes, "0-4");
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_ttl(void)
{
    char ts[32];
    cn_time_rfc3339(NOW - 10, ts);
    json_t *j = job(1, 1, 6, "\"ttlSecondsAfterFinished\":30"), *pods = json_array();
    json_t *st = json_object_get(j, "status");
    json_object_set_new(st, "completionTime", json_string(ts));
    json_object_set_new(st, "conditions", json_pack("[{s:s,s:s,s:s}]", "type", "Complete", "status", "True",
                                                    "lastTransitionTime", ts));
    cn_job_plan p;
    cn_job_plan_compute(j, pods, NOW, &p);
    CHECK(!p.delete_job);
    CHECK_INT(p.requeue_ms, 20000);
    cn_job_plan_release(&p);
    cn_job_plan_compute(j, pods, NOW + 20, &p);
    CHECK(p.delete_job);
    cn_job_plan_release(&p);
    json_decref(pods);
    json_decref(j);
}

int main(void)
{
    TEST_RUN(test_scale_up);
    TEST_RUN(test_complete);
    TEST_RUN(test_backoff);
    TEST_RUN(test_deadline_suspend);
    TEST_RUN(test_indexed);
    TEST_RUN(test_ttl);
    return TEST_DONE();
}
