/* test_cronjob: the CronJob controller's pure parts — which schedule time
 * is due, Job names, history limits. */
#include <stdlib.h>
#include <string.h>
#include "ctrl/cronjob.h"
#include "lib/util.h"
#include "test.h"

static int64_t ts(const char *s)
{
    int64_t t = -1;
    (void)cn_time_parse(s, &t);
    return t;
}

static cn_cron *sched(const char *spec)
{
    cn_cron *c = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_cron_parse(spec, &c, &e) == 0);
    cn_err_clear(&e);
    return c;
}

static void test_most_recent(void)
{
    cn_cron *c = sched("*/5 * * * *");
    int64_t missed = -1;
    /* nothing due yet */
    CHECK_INT(cn_cj_most_recent(c, ts("2024-05-01T10:00:00Z"), ts("2024-05-01T10:04:59Z"), 0, &missed), -1);
    CHECK_INT(missed, 0);
    /* exactly at the time counts */
    CHECK_INT(cn_cj_most_recent(c, ts("2024-05-01T10:00:00Z"), ts("2024-05-01T10:05:00Z"), 0, &missed),
              ts("2024-05-01T10:05:00Z"));
    CHECK_INT(missed, 1);
    /* several missed: the latest is returned */
    CHECK_INT(cn_cj_most_recent(c, ts("2024-05-01T10:00:00Z"), ts("2024-05-01T10:23:00Z"), 0, &missed),
              ts("2024-05-01T10:20:00Z"));
    CHECK_INT(missed, 4);
    cn_cron_free(c);
    /* a year of minutes: bounded work, still the right answer */
    c = sched("* * * * *");
    CHECK_INT(cn_cj_most_recent(c, ts("2023-01-01T00:00:00Z"), ts("2024-05-01T10:23:30Z"), 0, &missed),
              ts("2024-05-01T10:23:00Z"));
    CHECK(missed > 100);
    cn_cron_free(c);
    /* in a zone two hours ahead, @daily is 22:00 UTC */
    c = sched("@daily");
    CHECK_INT(cn_cj_most_recent(c, ts("2024-05-01T00:00:00Z"), ts("2024-05-01T23:00:00Z"), 7200, &missed),
              ts("2024-05-01T22:00:00Z"));
    cn_cron_free(c);
}

static void test_job_name(void)
{
    char *n = cn_cj_job_name("hello", ts("2026-11-27T00:16:00Z"));
    CHECK_STR(n, "hello-29928976");
    free(n);
}

static json_t *job(const char *name, const char *cond, const char *start)
{
    json_t *j = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", name, "status", "startTime", start);
    if (cond)
        json_object_set_new(json_object_get(j, "status"), "conditions",
                            json_pack("[{s:s,s:s}]", "type", cond, "status", "True"));
    return j;
}

static void test_history(void)
{
    json_t *jobs = json_array();
    json_array_append_new(jobs, job("s3", "Complete", "2024-05-01T10:03:00Z"));
    json_array_append_new(jobs, job("s1", "Complete", "2024-05-01T10:01:00Z"));
    json_array_append_new(jobs, job("f1", "Failed", "2024-05-01T10:01:30Z"));
    json_array_append_new(jobs, job("run", NULL, "2024-05-01T09:00:00Z"));
    json_array_append_new(jobs, job("s2", "Complete", "2024-05-01T10:02:00Z"));
    json_array_append_new(jobs, job("f2", "Failed", "2024-05-01T10:02:30Z"));
    json_t *ex = cn_cj_history_excess(jobs, 1, 1);
    CHECK_INT(json_array_size(ex), 3);
    CHECK_STR(cn_meta_str(json_array_get(ex, 0), "name"), "s1");
    CHECK_STR(cn_meta_str(json_array_get(ex, 1), "name"), "s2");
    CHECK_STR(cn_meta_str(json_array_get(ex, 2), "name"), "f1");
    json_decref(ex);
    ex = cn_cj_history_excess(jobs, 0, 0);
    CHECK_INT(json_array_size(ex), 5);   /* never the running one */
    json_decref(ex);
    ex = cn_cj_history_excess(jobs, 3, 5);
    CHECK_INT(json_array_size(ex), 0);
    json_decref(ex);
    json_decref(jobs);
}

int main(void)
{
    TEST_RUN(test_most_recent);
    TEST_RUN(test_job_name);
    TEST_RUN(test_history);
    return TEST_DONE();
}
