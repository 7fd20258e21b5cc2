/* test_housekeeping: the pure decisions of the garbage collector, the
 * disruption controller and the endpoints controller. */
#include <stdlib.h>

#include "ctrl/gc.h"
#include "ctrl/housekeeping.h"
#include "test.h"

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    if (!j) fprintf(stderr, "bad json in test: %s\n", s);
    return j;
}

static void test_gc_decide(void)
{
    json_t *o = J("{\"metadata\":{\"name\":\"x\"}}");
    cn_gc_owner s1[] = { CN_GC_SOLID };
    cn_gc_owner d1[] = { CN_GC_DANGLING };
    cn_gc_owner w1[] = { CN_GC_WAITING };
    cn_gc_owner u1[] = { CN_GC_UNKNOWN };
    cn_gc_owner sd[] = { CN_GC_DANGLING, CN_GC_SOLID };
    cn_gc_owner dw[] = { CN_GC_DANGLING, CN_GC_WAITING };
    CHECK_INT(cn_gc_decide(o, NULL, 0, false), CN_GC_KEEP);
    CHECK_INT(cn_gc_decide(o, s1, 1, false), CN_GC_KEEP);
    CHECK_INT(cn_gc_decide(o, u1, 1, false), CN_GC_KEEP);              /* unknown kinds are never guessed */
    CHECK_INT(cn_gc_decide(o, d1, 1, false), CN_GC_DELETE_BACKGROUND);
    CHECK_INT(cn_gc_decide(o, sd, 2, false), CN_GC_DROP_REFS);          /* a live owner keeps it */
    CHECK_INT(cn_gc_decide(o, w1, 1, false), CN_GC_DELETE_BACKGROUND);
    CHECK_INT(cn_gc_decide(o, w1, 1, true), CN_GC_DELETE_FOREGROUND);   /* blocks its owner on its own dependents */
    CHECK_INT(cn_gc_decide(o, dw, 2, true), CN_GC_DELETE_FOREGROUND);
    json_t *orphan = J("{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"orphan\"]}}");
    CHECK_INT(cn_gc_decide(orphan, d1, 1, true), CN_GC_DELETE_ORPHAN);
    json_t *going = J("{\"metadata\":{\"name\":\"x\",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"}}");
    CHECK_INT(cn_gc_decide(going, d1, 1, false), CN_GC_KEEP);
    json_decref(o);
    json_decref(orphan);
    json_decref(going);
}

static json_t *pods_ready(int ready, int not_ready)
{
    json_t *a = json_array();
    for (int i = 0; i < ready + not_ready; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        json_array_append_new(a, json_pack("{s:{s:s},s:{s:s,s:[{s:s,s:s}]}}", "metadata", "name", name, "status",
                                           "phase", "Running", "conditions", "type", "Ready", "status",
                                           i < ready ? "True" : "False"));
    }
    return a;
}

static void test_pdb_math(void)
{
    json_t *v = json_string("50%");
    CHECK_INT(cn_pdb_scaled(v, 5), 3);    /* rounds up */
    json_decref(v);
    v = json_integer(2);
    CHECK_INT(cn_pdb_scaled(v, 5), 2);
    json_decref(v);
    v = json_string("x%");
    CHECK_INT(cn_pdb_scaled(v, 5), -1);
    json_decref(v);

    int64_t rq;
    json_t *pdb = J("{\"metadata\":{\"name\":\"web\",\"generation\":3},\"spec\":{\"minAvailable\":2}}");
    json_t *pods = pods_ready(3, 1);
    json_t *st = cn_pdb_status(pdb, pods, 4, 1000, &rq);
    CHECK_INT(json_integer_value(json_object_get(st, "expectedPods")), 4);
    CHECK_INT(json_integer_value(json_object_get(st, "currentHealthy")), 3);
    CHECK_INT(json_integer_value(json_object_get(st, "desiredHealthy")), 2);
    CHECK_INT(json_integer_value(json_object_get(st, "disruptionsAllowed")), 1);
    CHECK_INT(json_integer_value(json_object_get(st, "observedGeneration")), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(st, "conditions"), 0), "reason")), "SufficientPods");
    CHECK_INT(rq, 0);
    json_decref(st);

    /* A recent eviction in disruptedPods: that pod is not counted healthy. */
    json_object_set_new(pdb, "status", J("{\"disruptedPods\":{\"p0\":\"1970-01-01T00:16:00Z\",\"gone\":\"1970-01-01T00:16:00Z\"}}"));
    st = cn_pdb_status(pdb, pods, 4, 1000, &rq);
    CHECK_INT(json_integer_value(json_object_get(st, "currentHealthy")), 2);
    CHECK_INT(json_integer_value(json_object_get(st, "disruptionsAllowed")), 0);
    CHECK(json_object_get(json_object_get(st, "disruptedPods"), "p0") != NULL);
    CHECK(json_object_get(json_object_get(st, "disruptedPods"), "gone") == NULL);   /* pod gone: dropped */
    CHECK_INT(rq, 960 + 120 - 1000);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(st, "conditions"), 0), "status")), "False");
    json_decref(st);
    /* ...and expires after two minutes. */
    st = cn_pdb_status(pdb, pods, 4, 2000, &rq);
    CHECK_INT(json_integer_value(json_object_get(st, "currentHealthy")), 3);
    CHECK(json_object_get(st, "disruptedPods") == NULL);
    json_decref(st);
    json_decref(pdb);

    /* maxUnavailable 25% of a scale of 8 (pods may lag behind the scale). */
    pdb = J("{\"metadata\":{\"generation\":1},\"spec\":{\"maxUnavailable\":\"25%\"}}");
    st = cn_pdb_status(pdb, pods, 8, 1000, &rq);
    CHECK_INT(json_integer_value(json_object_get(st, "expectedPods")), 8);
    CHECK_INT(json_integer_value(json_object_get(st, "desiredHealthy")), 6);
    CHECK_INT(json_integer_value(json_object_get(st, "disruptionsAllowed")), 0);
    json_decref(st);
    json_decref(pdb);
    /* minAvailable 100%: never a disruption. */
    pdb = J("{\"metadata\":{\"generation\":1},\"spec\":{\"minAvailable\":\"100%\"}}");
    st = cn_pdb_status(pdb, pods, 3, 1000, &rq);
    CHECK_INT(json_integer_value(json_object_get(st, "desiredHealthy")), 3);
    CHECK_INT(json_integer_value(json_object_get(st, "disruptionsAllowed")), 0);
    json_decref(st);
    json_decref(pdb);
    json_decref(pods);
    /* A pod being deleted is not healthy. */
    json_t *p = J("{\"metadata\":{\"name\":\"a\",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},"
                  "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    CHECK(!cn_pdb_pod_healthy(p));
    json_decref(p);
}

static void test_endpoints(void)
{
    json_t *svc = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\",\"labels\":{\"tier\":\"f\"}},"
                    "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":["
                    "{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\",\"protocol\":\"TCP\"},"
                    "{\"name\":\"raw\",\"port\":81,\"targetPort\":9090,\"protocol\":\"TCP\"}]}}");
    json_t *lbl = J("{\"app\":\"web\",\"x\":\"y\"}");
    json_t *other = J("{\"app\":\"db\"}");
    CHECK(cn_service_selects(svc, lbl));
    CHECK(!cn_service_selects(svc, other));
    CHECK(!cn_service_selects(svc, NULL));
    json_decref(lbl);
    json_decref(other);

    json_t *pods = J("["
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"default\",\"uid\":\"ub\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
        " \"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.2\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"uid\":\"ua\"},\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
        " \"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}},"
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"default\",\"uid\":\"uc\"},\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"web\",\"containerPort\":7070}]}]},"
        " \"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.3\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
        "{\"metadata\":{\"name\":\"d\",\"namespace\":\"default\",\"uid\":\"ud\"},\"spec\":{},\"status\":{\"phase\":\"Pending\"}},"
        "{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\",\"uid\":\"ue\"},\"spec\":{},\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.0.0.9\"}}"
        "]");
    json_t *ep = cn_endpoints_build(svc, pods);
    json_t *subsets = json_object_get(ep, "subsets");
    /* a and b share ports {8080, 9090}; c has no "http" port: {9090} alone. */
    CHECK_INT(json_array_size(subsets), 2);
    json_t *s0 = json_array_get(subsets, 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s0, "addresses"), 0), "ip")), "10.0.0.2");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s0, "notReadyAddresses"), 0), "ip")), "10.0.0.1");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(s0, "ports"), 0), "port")), 8080);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(s0, "addresses"), 0), "targetRef"), "name")), "b");
    json_t *s1 = json_array_get(subsets, 1);
    CHECK_INT(json_array_size(json_object_get(s1, "ports")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(s1, "ports"), 0), "port")), 9090);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(ep, "metadata"), "labels"), "tier")), "f");
    json_decref(ep);

    json_t *slices = cn_endpointslices_build(svc, pods);
    CHECK_INT(json_array_size(slices), 2);
    json_t *sl = json_array_get(slices, 0);
    CHECK_STR(json_string_value(json_object_get(sl, "addressType")), "IPv4");
    json_t *eps = json_object_get(sl, "endpoints");
    CHECK_INT(json_array_size(eps), 2);
    /* In IP order: a (not ready) first. */
    CHECK(json_is_false(json_object_get(json_object_get(json_array_get(eps, 0), "conditions"), "ready")));
    CHECK(json_is_true(json_object_get(json_object_get(json_array_get(eps, 1), "conditions"), "ready")));
    json_t *labels = json_object_get(json_object_get(sl, "metadata"), "labels");
    CHECK_STR(json_string_value(json_object_get(labels, "kubernetes.io/service-name")), "web");
    CHECK_STR(json_string_value(json_object_get(labels, "endpointslice.kubernetes.io/managed-by")), "endpointslice-controller.k8s.io");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(sl, "metadata"), "ownerReferences"), 0), "uid")), "u1");
    json_decref(slices);

    /* 250 pods: slices of 100, 100 and 50. */
    json_t *many = json_array();
    for (int i = 0; i < 250; i++) {
        char ip[32], name[16];
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 200, i % 200);
        snprintf(name, sizeof name, "m%d", i);
        json_array_append_new(many, json_pack("{s:{s:s,s:s,s:s},s:{s:[{s:[{s:s,s:i}]}]},s:{s:s,s:s}}", "metadata",
                                              "name", name, "namespace", "default", "uid", name, "spec",
                                              "containers", "ports", "name", "http", "containerPort", 8080,
                                              "status", "phase", "Running", "podIP", ip));
    }
    slices = cn_endpointslices_build(svc, many);
    CHECK_INT(json_array_size(slices), 3);
    CHECK_INT(json_array_size(json_object_get(json_array_get(slices, 0), "endpoints")), 100);
    CHECK_INT(json_array_size(json_object_get(json_array_get(slices, 2), "endpoints")), 50);
    json_decref(slices);
    json_decref(many);

    /* Without pods: no subsets, one empty slice. */
    json_t *none = json_array();
    ep = cn_endpoints_build(svc, none);
    CHECK(json_object_get(ep, "subsets") == NULL);
    json_decref(ep);
    slices = cn_endpointslices_build(svc, none);
    CHECK_INT(json_array_size(slices), 1);
    CHECK_INT(json_array_size(json_object_get(json_array_get(slices, 0), "endpoints")), 0);
    json_decref(slices);
    json_decref(none);
    json_decref(pods);
    json_decref(svc);
}

int main(void)
{
    TEST_RUN(test_gc_decide);
    TEST_RUN(test_pdb_math);
    TEST_RUN(test_endpoints);
    return TEST_DONE();
}
