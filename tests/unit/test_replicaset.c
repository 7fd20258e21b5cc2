/* test_replicaset: the pure parts the ReplicaSet controller stands on
 * (ctrl/podctl): expectations, pod facts, pods from templates, the
 * deletion ranking and slow-start batches. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/podctl.h"
#include "lib/util.h"
#include "test.h"

static void test_expectations(void)
{
    cn_expectations *e = cn_expect_new();
    CHECK(cn_expect_satisfied(e, "default/web"));   /* never recorded */
    cn_expect_creations(e, "default/web", 2);
    CHECK(!cn_expect_satisfied(e, "default/web"));
    cn_expect_creation_observed(e, "default/web");
    CHECK(!cn_expect_satisfied(e, "default/web"));
    cn_expect_creation_observed(e, "default/web");
    CHECK(cn_expect_satisfied(e, "default/web"));
    cn_expect_creation_observed(e, "default/web");   /* extra: harmless */
    CHECK(cn_expect_satisfied(e, "default/web"));

    const char *keys[] = { "default/a", "default/b" };
    cn_expect_deletions(e, "default/web", keys, 2);
    CHECK(!cn_expect_satisfied(e, "default/web"));
    cn_expect_deletion_observed(e, "default/web", "default/a");
    cn_expect_deletion_observed(e, "default/web", "default/a");   /* seen twice, counted once */
    CHECK(!cn_expect_satisfied(e, "default/web"));
    cn_expect_deletion_observed(e, "default/web", "default/b");
    CHECK(cn_expect_satisfied(e, "default/web"));

    /* A lost event does not wedge the controller: records expire. */
    cn_expect_creations(e, "default/other", 5);
    CHECK(!cn_expect_satisfied(e, "default/other"));
    cn_expect_age(e, 6 * 60 * 1000);
    CHECK(cn_expect_satisfied(e, "default/other"));
    cn_expect_forget(e, "default/other");
    CHECK(cn_expect_satisfied(e, "default/other"));
    cn_expect_free(e);
}

static json_t *pod(const char *name, const char *node, const char *phase, int ready_since, int64_t created)
{
    char ts[32], rt[32];
    cn_time_rfc3339(created, ts);
    json_t *p = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s, s:[]}}", "metadata", "name", name, "namespace",
                          "default", "creationTimestamp", ts, "spec", "nodeName", node, "status", "phase", phase,
                          "conditions");
    if (ready_since >= 0) {
        cn_time_rfc3339(ready_since, rt);
        json_array_append_new(json_object_get(json_object_get(p, "status"), "conditions"),
                              json_pack("{s:s, s:s, s:s}", "type", "Ready", "status", "True", "lastTransitionTime", rt));
    }
    return p;
}

static void test_pod_facts(void)
{
    json_t *p = pod("a", "n1", "Running", 1000, 900);
    CHECK(cn_pod_active(p));
    CHECK(cn_pod_ready(p));
    CHECK(cn_pod_available(p, 0, 1000));
    CHECK(!cn_pod_available(p, 10, 1005));
    CHECK(cn_pod_available(p, 10, 1010));
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
    CHECK(!cn_pod_active(p));
    json_decref(p);
    p = pod("b", "", "Succeeded", -1, 900);
    CHECK(!cn_pod_active(p));
    CHECK(!cn_pod_ready(p));
    json_decref(p);
}

static void test_from_template(void)
{
    json_t *owner = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "web-abc", "namespace", "prod", "uid", "u-1");
    json_t *tmpl = json_pack("{s:{s:{s:s}, s:{s:s}}, s:{s:[{s:s, s:s}]}}", "metadata", "labels", "app", "web",
                             "annotations", "a", "b", "spec", "containers", "name", "c", "image", "nginx");
    json_t *p = cn_pod_from_template(owner, "apps/v1", "ReplicaSet", tmpl);
    CHECK_STR(cn_json_str_at(p, "metadata.generateName"), "web-abc-");
    CHECK_STR(cn_json_str_at(p, "metadata.namespace"), "prod");
    CHECK_STR(cn_json_str_at(p, "metadata.labels.app"), "web");
    CHECK_STR(cn_json_str_at(p, "metadata.annotations.a"), "b");
    const json_t *ref = json_array_get(json_object_get(json_object_get(p, "metadata"), "ownerReferences"), 0);
    CHECK_STR(json_string_value(json_object_get(ref, "kind")), "ReplicaSet");
    CHECK_STR(json_string_value(json_object_get(ref, "uid")), "u-1");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    CHECK_STR(cn_controller_uid(p), "u-1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0), "image")), "nginx");
    json_decref(p);
    json_decref(tmpl);
    json_decref(owner);
}

static void test_deletion_order(void)
{
    json_t *ready_old = pod("ready-old", "n1", "Running", 100, 50);
    json_t *ready_new = pod("ready-new", "n1", "Running", 500, 60);
    json_t *not_ready = pod("not-ready", "n1", "Running", -1, 40);
    json_t *pending = pod("pending", "n1", "Pending", -1, 30);
    json_t *unsched = pod("unscheduled", "", "Pending", -1, 20);
    const json_t *v[] = { ready_old, ready_new, not_ready, pending, unsched };
    cn_pods_sort_for_deletion(v, NULL, 5);
    CHECK_STR(cn_meta_str(v[0], "name"), "unscheduled");
    CHECK_STR(cn_meta_str(v[1], "name"), "pending");
    CHECK_STR(cn_meta_str(v[2], "name"), "not-ready");
    CHECK_STR(cn_meta_str(v[3], "name"), "ready-new");   /* ready for less time */
    CHECK_STR(cn_meta_str(v[4], "name"), "ready-old");
    /* Ranks (same-node siblings) outweigh ready time among ready pods. */
    const json_t *w[] = { ready_new, ready_old };
    int ranks[] = { 1, 3 };
    cn_pods_sort_for_deletion(w, ranks, 2);
    CHECK_STR(cn_meta_str(w[0], "name"), "ready-old");
    CHECK_INT(ranks[0], 3);
    /* pod-deletion-cost: lower goes first. */
    json_object_set_new(json_object_get(ready_new, "metadata"), "annotations",
                        json_pack("{s:s}", "controller.kubernetes.io/pod-deletion-cost", "100"));
    const json_t *x[] = { ready_new, ready_old };
    cn_pods_sort_for_deletion(x, NULL, 2);
    CHECK_STR(cn_meta_str(x[0], "name"), "ready-old");
    for (int i = 0; i < 5; i++) json_decref((json_t *)v[i]);
}

typedef struct counter { int calls; int fail_at; } counter;

static int count_call(void *ud, int i)
{
    counter *c = ud;
    c->calls++;
    return i == c->fail_at ? -5 : 0;
}

static void test_slow_start(void)
{
    counter c = { 0, -1 };
    int err = 0;
    CHECK_INT(cn_slow_start_batch(10, 1, 1, count_call, &c, &err), 10);
    CHECK_INT(c.calls, 10);
    CHECK_INT(err, 0);
    /* Batches 1, 2, 4: a failure at index 4 (third batch) stops after it. */
    c = (counter){ 0, 4 };
    CHECK_INT(cn_slow_start_batch(20, 1, 1, count_call, &c, &err), 6);
    CHECK_INT(c.calls, 7);
    CHECK_INT(err, -5);
    c = (counter){ 0, 0 };
    CHECK_INT(cn_slow_start_batch(20, 1, 1, count_call, &c, &err), 0);
    CHECK_INT(c.calls, 1);
    CHECK_INT(cn_slow_start_batch(0, 1, 1, count_call, &c, &err), 0);
    /* In parallel: the same counts (count_call is not thread-safe, so
     * one worker per batch item is checked through the total only). */
    c = (counter){ 0, -1 };
    CHECK_INT(cn_slow_start_batch(1, 1, 8, count_call, &c, &err), 1);
}

static int atomic_call(void *ud, int i)
{
    (void)i;
    __atomic_add_fetch((int *)ud, 1, __ATOMIC_SEQ_CST);
    return i % 10 == 9 ? -7 : 0;
}

static void test_parallel(void)
{
    int calls = 0, err = 0;
    CHECK_INT(cn_parallel_run(100, 16, atomic_call, &calls, &err), 90);
    CHECK_INT(calls, 100);
    CHECK_INT(err, -7);
    calls = 0;
    /* Slow start in parallel: 1 + 2 + 4 = 7 fine, the batch of 8 holds index 9. */
    CHECK_INT(cn_slow_start_batch(100, 1, 16, atomic_call, &calls, &err), 14);
    CHECK_INT(calls, 15);
    CHECK_INT(err, -7);
}

int main(void)
{
    TEST_RUN(test_expectations);
    TEST_RUN(test_pod_facts);
    TEST_RUN(test_from_template);
    TEST_RUN(test_deletion_order);
    TEST_RUN(test_slow_start);
    TEST_RUN(test_parallel);
    return TEST_DONE();
}
