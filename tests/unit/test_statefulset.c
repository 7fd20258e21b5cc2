/* test_statefulset: ordinals and the ordered/parallel plan: creation in
 * order, scale-down from the top, rolling update down to the partition. */
#include <stdlib.h>
#include <string.h>
#include "ctrl/statefulset.h"
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

static json_t *set(int replicas, const char *policy, const char *strategy, int partition)
{
    char *s = cn_asprintf("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":%d,\"podManagementPolicy\":\"%s\","
                          "\"updateStrategy\":{\"type\":\"%s\",\"rollingUpdate\":{\"partition\":%d}},"
                          "\"template\":{}}}", replicas, policy, strategy, partition);
    json_t *j = J(s);
    free(s);
    return j;
}

static json_t *pod(const char *name, const char *rev, const char *phase, bool ready)
{
    return json_pack("{s:{s:s,s:{s:s}},s:{s:s,s:[{s:s,s:s}]}}", "metadata", "name", name, "labels",
                     "controller-revision-hash", rev, "status", "phase", phase, "conditions", "type", "Ready",
                     "status", ready ? "True" : "False");
}

static int64_t create_ord(const cn_sts_plan *p, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(p->create, i), "ordinal"));
}

static const char *del_name(const cn_sts_plan *p, size_t i)
{
    return json_string_value(json_array_get(p->del, i));
}

static void test_ordinal(void)
{
    CHECK_INT(cn_sts_ordinal("web", "web-0"), 0);
    CHECK_INT(cn_sts_ordinal("web", "web-12"), 12);
    CHECK_INT(cn_sts_ordinal("web", "web-"), -1);
    CHECK_INT(cn_sts_ordinal("web", "web-01"), -1);
    CHECK_INT(cn_sts_ordinal("web", "web-1a"), -1);
    CHECK_INT(cn_sts_ordinal("web", "webx-1"), -1);
    CHECK_INT(cn_sts_ordinal("web", "web-db-1"), -1);
    CHECK_INT(cn_sts_ordinal("web-db", "web-db-1"), 1);
    CHECK_INT(cn_sts_ordinal("web", "web-99999999999"), -1);
}

static void test_ordered_create(void)
{
    json_t *s = set(3, "OrderedReady", "RollingUpdate", 0), *pods = json_array();
    cn_sts_plan p;
    cn_sts_plan_compute(s, pods, "", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.create), 1);
    CHECK_INT(create_ord(&p, 0), 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(p.create, 0), "revision")), "r1");
    cn_sts_plan_release(&p);
    /* web-0 exists but is not ready: wait */
    json_array_append_new(pods, pod("web-0", "r1", "Pending", false));
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.create), 0);
    CHECK_INT(p.replicas, 1);
    CHECK_INT(p.ready, 0);
    cn_sts_plan_release(&p);
    /* ready: web-1 next */
    json_array_set_new(pods, 0, pod("web-0", "r1", "Running", true));
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.create), 1);
    CHECK_INT(create_ord(&p, 0), 1);
    cn_sts_plan_release(&p);
    /* Parallel: all missing at once */
    json_object_set_new(json_object_get(s, "spec"), "podManagementPolicy", json_string("Parallel"));
    json_array_set_new(pods, 0, pod("web-0", "r1", "Pending", false));
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.create), 2);
    CHECK_INT(create_ord(&p, 0), 1);
    CHECK_INT(create_ord(&p, 1), 2);
    cn_sts_plan_release(&p);
    json_decref(pods);
    json_decref(s);
}

static void test_scale_down(void)
{
    json_t *s = set(1, "OrderedReady", "RollingUpdate", 0), *pods = json_array();
    json_array_append_new(pods, pod("web-0", "r1", "Running", true));
    json_array_append_new(pods, pod("web-2", "r1", "Running", true));
    json_array_append_new(pods, pod("web-1", "r1", "Running", true));
    cn_sts_plan p;
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.del), 1);
    CHECK_STR(del_name(&p, 0), "web-2");   /* highest first, one at a time */
    CHECK_INT(p.replicas, 3);
    CHECK_INT(json_array_size(p.release), 0);   /* claims kept by default */
    cn_sts_plan_release(&p);
    /* web-2 terminating: wait for it before web-1 */
    json_object_set_new(json_object_get(json_array_get(pods, 1), "metadata"), "deletionTimestamp",
                        json_string("2023-01-01T00:00:00Z"));
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.del), 0);
    cn_sts_plan_release(&p);
    /* Parallel and whenScaled Delete: both at once, claims released */
    json_object_set_new(json_object_get(s, "spec"), "podManagementPolicy", json_string("Parallel"));
    json_object_set_new(json_object_get(s, "spec"), "persistentVolumeClaimRetentionPolicy",
                        J("{\"whenScaled\":\"Delete\",\"whenDeleted\":\"Retain\"}"));
    json_object_del(json_object_get(json_array_get(pods, 1), "metadata"), "deletionTimestamp");
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.del), 2);
    CHECK_STR(del_name(&p, 0), "web-2");
    CHECK_STR(del_name(&p, 1), "web-1");
    CHECK_INT(json_array_size(p.release), 2);
    cn_sts_plan_release(&p);
    json_decref(pods);
    json_decref(s);
}

static void test_rolling_update(void)
{
    json_t *s = set(3, "OrderedReady", "RollingUpdate", 0), *pods = json_array();
    json_array_append_new(pods, pod("web-0", "r1", "Running", true));
    json_array_append_new(pods, pod("web-1", "r1", "Running", true));
    json_array_append_new(pods, pod("web-2", "r1", "Running", true));
    cn_sts_plan p;
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 1);
    CHECK_STR(del_name(&p, 0), "web-2");
    CHECK_STR(p.current_revision, "r1");
    CHECK_INT(p.current, 3);
    CHECK_INT(p.updated, 0);
    cn_sts_plan_release(&p);
    /* web-2 recreated at r2 but not ready: wait */
    json_array_set_new(pods, 2, pod("web-2", "r2", "Running", false));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 0);
    cn_sts_plan_release(&p);
    /* ready: web-1 next */
    json_array_set_new(pods, 2, pod("web-2", "r2", "Running", true));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 1);
    CHECK_STR(del_name(&p, 0), "web-1");
    cn_sts_plan_release(&p);
    /* partition 1: web-0 is not touched */
    json_object_set_new(json_object_get(json_object_get(json_object_get(s, "spec"), "updateStrategy"), "rollingUpdate"),
                        "partition", json_integer(1));
    json_array_set_new(pods, 1, pod("web-1", "r2", "Running", true));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 0);
    CHECK_INT(p.updated, 2);
    CHECK_STR(p.current_revision, "r1");
    cn_sts_plan_release(&p);
    /* a missing pod below the partition comes back at the current revision */
    json_array_remove(pods, 0);
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.create), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(p.create, 0), "revision")), "r1");
    cn_sts_plan_release(&p);
    /* all at r2 and ready: r2 becomes current */
    json_array_insert_new(pods, 0, pod("web-0", "r2", "Running", true));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_STR(p.current_revision, "r2");
    CHECK_INT(p.current, 3);
    cn_sts_plan_release(&p);
    /* OnDelete: nothing replaced */
    json_object_set_new(json_object_get(json_object_get(s, "spec"), "updateStrategy"), "type", json_string("OnDelete"));
    json_array_set_new(pods, 0, pod("web-0", "r1", "Running", true));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 0);
    cn_sts_plan_release(&p);
    /* a failed pod is deleted (and recreated next round) */
    json_array_set_new(pods, 1, pod("web-1", "r2", "Failed", false));
    cn_sts_plan_compute(s, pods, "r1", "r2", NOW, &p);
    CHECK_INT(json_array_size(p.del), 1);
    CHECK_STR(del_name(&p, 0), "web-1");
    cn_sts_plan_release(&p);
    json_decref(pods);
    json_decref(s);
}

static void test_ordinals_start(void)
{
    json_t *s = set(2, "Parallel", "RollingUpdate", 0), *pods = json_array();
    json_object_set_new(json_object_get(s, "spec"), "ordinals", J("{\"start\":5}"));
    json_array_append_new(pods, pod("web-0", "r1", "Running", true));
    cn_sts_plan p;
    cn_sts_plan_compute(s, pods, "r1", "r1", NOW, &p);
    CHECK_INT(json_array_size(p.create), 2);
    CHECK_INT(create_ord(&p, 0), 5);
    CHECK_INT(create_ord(&p, 1), 6);
    CHECK_INT(json_array_size(p.del), 1);   /* web-0 is outside [5, 7) */
    cn_sts_plan_release(&p);
    json_decref(pods);
    json_decref(s);
}

int main(void)
{
    TEST_RUN(test_ordinal);
    TEST_RUN(test_ordered_create);
    TEST_RUN(test_scale_down);
    TEST_RUN(test_rolling_update);
    TEST_RUN(test_ordinals_start);
    return TEST_DONE();
}
