/* test_daemonset: node eligibility (selectors, affinity, taints and the
 * automatic tolerations) and the per-node plan with rolling updates. */
#include <stdlib.h>
#include <string.h>
#include "ctrl/daemonset.h"
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

static json_t *node(const char *name, const char *labels, const char *taints)
{
    char *s = cn_asprintf("{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"taints\":%s}}", name,
                          labels ? labels : "{}", taints ? taints : "[]");
    json_t *n = J(s);
    free(s);
    return n;
}

static void check(const char *spec_text, const json_t *n, bool want_run, bool want_cont)
{
    json_t *spec = J(spec_text);
    json_t *tols = cn_ds_tolerations(spec);
    json_object_set_new(spec, "tolerations", tols);
    bool run, cont;
    cn_ds_node_check(spec, n, &run, &cont);
    if (run != want_run || cont != want_cont)
        fprintf(stderr, "node %s, spec %s: run %d cont %d\n", cn_meta_str(n, "name"), spec_text, run, cont);
    CHECK(run == want_run);
    CHECK(cont == want_cont);
    json_decref(spec);
}

static void test_tolerations(void)
{
    json_t *empty = J("{}");
    json_t *t = cn_ds_tolerations(empty);
    CHECK_INT(json_array_size(t), 6);
    json_decref(t);
    json_decref(empty);
    json_t *spec = J("{\"hostNetwork\":true,\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
                     "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":5}]}");
    t = cn_ds_tolerations(spec);
    CHECK_INT(json_array_size(t), 7);   /* not-ready kept as given, network-unavailable added */
    CHECK_INT(json_integer_value(json_object_get(json_array_get(t, 0), "tolerationSeconds")), 5);
    json_decref(t);
    json_decref(spec);

    json_t *taint = J("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}");
    json_t *tol;
    tol = J("{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\"}");
    CHECK(cn_ds_tolerates(tol, taint));
    json_decref(tol);
    tol = J("{\"key\":\"k\",\"value\":\"w\"}");
    CHECK(!cn_ds_tolerates(tol, taint));
    json_decref(tol);
    tol = J("{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}");
    CHECK(!cn_ds_tolerates(tol, taint));
    json_decref(tol);
    tol = J("{\"operator\":\"Exists\"}");
    CHECK(cn_ds_tolerates(tol, taint));
    json_decref(tol);
    json_decref(taint);
}

static void test_eligibility(void)
{
    json_t *plain = node("n1", "{\"zone\":\"a\",\"gpu\":\"4\"}", NULL);
    json_t *ns = node("n2", "{\"zone\":\"b\"}", "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]");
    json_t *nx = node("n3", "{}", "[{\"key\":\"evict\",\"effect\":\"NoExecute\"}]");
    json_t *pref = node("n4", "{}", "[{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]");
    json_t *auto_t = node("n5", "{}", "[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"},"
                                      "{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"},"
                                      "{\"key\":\"node.kubernetes.io/memory-pressure\",\"effect\":\"NoSchedule\"}]");
    check("{}", plain, true, true);
    check("{}", ns, false, true);          /* NoSchedule: no new pod, an old one stays */
    check("{}", nx, false, false);         /* NoExecute: neither */
    check("{}", pref, true, true);         /* PreferNoSchedule is ignored */
    check("{}", auto_t, true, true);       /* the automatic tolerations */
    check("{\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]}",
          ns, true, true);
    check("{\"nodeSelector\":{\"zone\":\"a\"}}", plain, true, true);
    check("{\"nodeSelector\":{\"zone\":\"a\"}}", pref, false, false);
    const char *aff = "{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                      "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Gt\","
                      "\"values\":[\"2\"]}]},{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\","
                      "\"values\":[\"n4\"]}]}]}}}}";
    check(aff, plain, true, true);   /* gpu 4 > 2 */
    check(aff, pref, true, true);    /* the second term, by name */
    check(aff, auto_t, false, false);
    const char *notin = "{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                        "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\","
                        "\"values\":[\"a\"]},{\"key\":\"zone\",\"operator\":\"Exists\"}]}]}}}}";
    check(notin, plain, false, false);
    check("{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
          "{\"nodeSelectorTerms\":[{}]}}}}", plain, false, false);   /* an empty term matches nothing */
    json_t *ntol = J("{\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]}");
    json_t *ns_tols = cn_ds_tolerations(ntol);
    CHECK_INT(json_array_size(ns_tols), 7);
    json_decref(ns_tols);
    json_decref(ntol);
    json_decref(plain);
    json_decref(ns);
    json_decref(nx);
    json_decref(pref);
    json_decref(auto_t);
}

static json_t *dspod(const char *name, const char *nodename, bool by_affinity, const char *hash, const char *phase,
                     bool ready, int64_t age)
{
    char ts[32];
    cn_time_rfc3339(NOW - age, ts);
    json_t *p = json_pack("{s:{s:s,s:s,s:{s:s}},s:{},s:{s:s,s:[{s:s,s:s,s:s}]}}", "metadata", "name", name,
                          "creationTimestamp", ts, "labels", "controller-revision-hash", hash, "spec", "status",
                          "phase", phase, "conditions", "type", "Ready", "status", ready ? "True" : "False",
                          "lastTransitionTime", ts);
    json_t *spec = json_object_get(p, "spec");
    if (by_affinity)
        json_object_set_new(spec, "affinity", json_pack("{s:{s:{s:[{s:[{s:s,s:s,s:[s]}]}]}}}", "nodeAffinity",
                            "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms", "matchFields",
                            "key", "metadata.name", "operator", "In", "values", nodename));
    else
        json_object_set_new(spec, "nodeName", json_string(nodename));
    return p;
}

static void test_pod_node(void)
{
    json_t *p = dspod("p", "n7", true, "h", "Pending", false, 1);
    CHECK_STR(cn_ds_pod_node(p), "n7");
    json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string("n8"));
    CHECK_STR(cn_ds_pod_node(p), "n8");
    json_decref(p);
    p = J("{\"spec\":{}}");
    CHECK_STR(cn_ds_pod_node(p), "");
    json_decref(p);
}

static bool has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), s)) return true;
    return false;
}

static void test_plan(void)
{
    json_t *ds = J("{\"metadata\":{\"name\":\"d\",\"generation\":2},\"spec\":{\"template\":{\"spec\":{}},"
                   "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1}}}}");
    json_t *nodes = json_array();
    for (int i = 0; i < 5; i++) {
        char n[8];
        snprintf(n, sizeof n, "n%d", i);
        json_array_append_new(nodes, node(n, NULL, i == 4 ? "[{\"key\":\"x\",\"effect\":\"NoSchedule\"}]" : NULL));
    }
    json_t *pods = json_array();
    /* n0: new and ready; n1: two old ready pods; n2: old ready; n3: none;
     * n4: tainted, has an old pod (misscheduled); gone: a pod for a deleted node */
    json_array_append_new(pods, dspod("a", "n0", false, "new", "Running", true, 100));
    json_array_append_new(pods, dspod("b1", "n1", false, "old", "Running", true, 100));
    json_array_append_new(pods, dspod("b2", "n1", false, "old", "Running", true, 50));
    json_array_append_new(pods, dspod("c", "n2", false, "old", "Running", true, 100));
    json_array_append_new(pods, dspod("e", "n4", false, "old", "Running", true, 100));
    json_array_append_new(pods, dspod("g", "gone", false, "old", "Running", true, 100));
    cn_ds_plan p;
    cn_ds_plan_compute(ds, nodes, pods, "new", NOW, &p);
    CHECK_INT(p.desired, 4);
    CHECK_INT(p.current, 3);
    CHECK_INT(p.misscheduled, 1);
    CHECK_INT(p.updated, 1);
    CHECK_INT(p.ready, 3);
    CHECK_INT(p.available, 3);
    CHECK_INT(json_array_size(p.create), 1);
    CHECK(has(p.create, "n3"));
    CHECK(has(p.del, "b2"));    /* the younger duplicate */
    CHECK(has(p.del, "g"));     /* node gone */
    CHECK(!has(p.del, "e"));    /* NoSchedule: may keep running */
    /* n3 has no pod: one unavailable already, maxUnavailable 1: no old pod
     * is replaced yet */
    CHECK(!has(p.del, "b1"));
    CHECK(!has(p.del, "c"));
    json_decref(p.create);
    json_decref(p.del);

    /* n3 gets its pod and it is ready: now one old pod may go */
    json_array_append_new(pods, dspod("d", "n3", true, "new", "Running", true, 10));
    json_array_remove(pods, 2);   /* b2 gone */
    json_array_remove(pods, 4);   /* g gone */
    cn_ds_plan_compute(ds, nodes, pods, "new", NOW, &p);
    CHECK_INT(json_array_size(p.create), 0);
    CHECK_INT(json_array_size(p.del), 1);
    CHECK(has(p.del, "b1") || has(p.del, "c"));
    json_decref(p.create);
    json_decref(p.del);

    /* an unavailable old pod is replaced at once, on top of the budget */
    json_array_append_new(pods, dspod("f", "n2", false, "old", "Running", false, 1));
    json_array_remove(pods, 2);   /* c replaced by f (old, not ready) */
    cn_ds_plan_compute(ds, nodes, pods, "new", NOW, &p);
    CHECK(has(p.del, "f"));
    json_decref(p.create);
    json_decref(p.del);

    /* OnDelete: old pods stay */
    json_object_set_new(json_object_get(json_object_get(ds, "spec"), "updateStrategy"), "type", json_string("OnDelete"));
    cn_ds_plan_compute(ds, nodes, pods, "new", NOW, &p);
    CHECK_INT(json_array_size(p.del), 0);
    json_decref(p.create);
    json_decref(p.del);

    /* a failed pod is deleted and its node gets a new one (next round) */
    json_array_append_new(pods, dspod("h", "n3", false, "new", "Failed", false, 1));
    json_array_remove(pods, json_array_size(pods) - 3);   /* d */
    cn_ds_plan_compute(ds, nodes, pods, "new", NOW, &p);
    CHECK(has(p.del, "h"));
    CHECK(has(p.create, "n3"));
    json_decref(p.create);
    json_decref(p.del);
    json_decref(pods);
    json_decref(nodes);
    json_decref(ds);
}

int main(void)
{
    TEST_RUN(test_tolerations);
    TEST_RUN(test_eligibility);
    TEST_RUN(test_pod_node);
    TEST_RUN(test_plan);
    return TEST_DONE();
}
