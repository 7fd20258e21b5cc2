/* test_resquota: quantities, quota accounting and LimitRange defaults /
 * limits, with upstream's messages. */
#include <stdlib.h>

#include "lib/quantity.h"
#include "lib/resquota.h"
#include "test.h"

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    if (!j) fprintf(stderr, "bad json in test: %s\n", s);
    return j;
}

static int64_t q(const char *s)
{
    int64_t m = -1;
    if (cn_quantity_milli(s, &m) < 0) return -999;
    return m;
}

static void check_fmt(int64_t m, bool bin, const char *want)
{
    char *f = cn_qty_format(m, bin);
    CHECK_STR(f, want);
    free(f);
}

static void test_quantities(void)
{
    CHECK_INT(q("500m"), 500);
    CHECK_INT(q("1"), 1000);
    CHECK_INT(q("1.5"), 1500);
    CHECK_INT(q("0.1"), 100);
    CHECK_INT(q("128Mi"), 128LL * 1024 * 1024 * 1000);
    CHECK_INT(q("1Gi"), 1073741824LL * 1000);
    CHECK_INT(q("2k"), 2000000);
    CHECK_INT(q("1e3"), 1000000);
    CHECK_INT(q("1n"), 1);            /* rounds up to a milli */
    CHECK_INT(q("abc"), -999);
    CHECK_INT(q("1Zi"), -999);
    CHECK_INT(q(""), -999);
    CHECK_INT(q("99999999999999999999E"), -999);
    check_fmt(500, false, "500m");
    check_fmt(2000, false, "2");
    check_fmt(1000000, false, "1k");
    check_fmt(0, false, "0");
    check_fmt(1073741824LL * 1000, true, "1Gi");
    check_fmt(500000000LL * 1000, true, "500M");
    check_fmt(1500LL * 1000, true, "1500");
}

static void test_pod_usage(void)
{
    json_t *pod = J("{\"spec\":{\"containers\":["
                    "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"1\"}}},"
                    "{\"name\":\"b\",\"resources\":{\"limits\":{\"memory\":\"128Mi\"}}}],"
                    "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}}");
    json_t *u = cn_quota_usage("", "pods", pod);
    CHECK_INT(json_integer_value(json_object_get(u, "pods")), 1000);
    CHECK_INT(json_integer_value(json_object_get(u, "count/pods")), 1000);
    CHECK_INT(json_integer_value(json_object_get(u, "requests.cpu")), 2000);   /* init container wins */
    CHECK_INT(json_integer_value(json_object_get(u, "cpu")), 2000);
    CHECK_INT(json_integer_value(json_object_get(u, "limits.cpu")), 1000);
    CHECK_INT(json_integer_value(json_object_get(u, "requests.memory")), 192LL * 1024 * 1024 * 1000);
    CHECK_INT(json_integer_value(json_object_get(u, "limits.memory")), 128LL * 1024 * 1024 * 1000);
    json_decref(u);
    json_object_set_new(pod, "status", J("{\"phase\":\"Succeeded\"}"));
    u = cn_quota_usage("", "pods", pod);
    CHECK(!json_object_get(u, "pods"));
    CHECK_INT(json_object_size(u), 1);
    json_decref(u);
    json_decref(pod);

    json_t *d = J("{}");
    u = cn_quota_usage("apps", "deployments", d);
    CHECK_INT(json_integer_value(json_object_get(u, "count/deployments.apps")), 1000);
    json_decref(u);
    json_t *svc = J("{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80},{\"port\":443}]}}");
    u = cn_quota_usage("", "services", svc);
    CHECK_INT(json_integer_value(json_object_get(u, "services.nodeports")), 2000);
    CHECK(!json_object_get(u, "services.loadbalancers"));
    json_decref(u);
    json_decref(svc);
    json_t *pvc = J("{\"spec\":{\"storageClassName\":\"fast\",\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}");
    u = cn_quota_usage("", "persistentvolumeclaims", pvc);
    CHECK_INT(json_integer_value(json_object_get(u, "requests.storage")), 1073741824LL * 1000);
    CHECK_INT(json_integer_value(json_object_get(u, "fast.storageclass.storage.k8s.io/persistentvolumeclaims")), 1000);
    json_decref(u);
    json_decref(pvc);
    json_decref(d);
}

static void test_quota_check(void)
{
    json_t *quota = J("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"2\",\"requests.memory\":\"1Gi\"}}}");
    json_t *delta = J("{\"pods\":1000,\"count/pods\":1000,\"requests.memory\":536870912000}");
    char *msg = NULL;
    /* No status yet: unknown. */
    CHECK_INT(cn_quota_check(quota, delta, &msg), 1);
    CHECK_STR(msg, "status unknown for quota: q, resources: pods,requests.memory");
    free(msg);
    json_t *total = J("{\"pods\":1000,\"requests.memory\":0}");
    CHECK(cn_quota_set_status(quota, total));
    CHECK(!cn_quota_set_status(quota, total));
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(quota, "status"), "used"), "pods")), "1");
    CHECK_INT(cn_quota_check(quota, delta, &msg), 0);
    CHECK(!msg);
    CHECK(cn_quota_charge(quota, delta));
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(quota, "status"), "used"), "requests.memory")), "512Mi");
    CHECK_INT(cn_quota_check(quota, delta, &msg), -1);
    CHECK_STR(msg, "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2");
    free(msg);
    json_decref(total);
    json_decref(delta);

    /* Containers must state what the quota tracks. */
    json_t *cq = J("{\"metadata\":{\"name\":\"compute\"},\"spec\":{\"hard\":{\"limits.cpu\":\"2\",\"requests.memory\":\"1Gi\"}}}");
    json_t *pod = J("{\"spec\":{\"containers\":[{\"name\":\"web\"},{\"name\":\"side\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}");
    msg = cn_quota_pod_constraints(cq, pod);
    CHECK_STR(msg, "must specify limits.cpu for: web; requests.memory for: side,web");
    free(msg);
    json_decref(pod);
    pod = J("{\"spec\":{\"containers\":[{\"name\":\"web\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
    CHECK(cn_quota_pod_constraints(cq, pod) == NULL);
    json_decref(pod);
    json_decref(cq);
    json_decref(quota);
}

static void test_limitrange(void)
{
    json_t *lr = J("{\"spec\":{\"limits\":[{\"type\":\"Container\",\"default\":{\"cpu\":\"500m\"},"
                   "\"defaultRequest\":{\"cpu\":\"100m\"},\"max\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
                   "\"min\":{\"cpu\":\"50m\"}}]}}");
    json_t *pod = J("{\"spec\":{\"containers\":[{\"name\":\"web\"},"
                    "{\"name\":\"big\",\"resources\":{\"limits\":{\"cpu\":\"2\"}}}]}}");
    char *note = cn_limitrange_apply(lr, pod);
    /* memory: default from max (1Gi), defaultRequest from default. */
    CHECK_STR(note, "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web; "
                    "cpu, memory request for container big; memory limit for container big");
    free(note);
    json_t *web = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    json_t *res = json_object_get(web, "resources");
    CHECK_STR(json_string_value(json_object_get(json_object_get(res, "limits"), "cpu")), "500m");
    CHECK_STR(json_string_value(json_object_get(json_object_get(res, "requests"), "cpu")), "100m");
    CHECK_STR(json_string_value(json_object_get(json_object_get(res, "requests"), "memory")), "1Gi");
    json_t *errs = json_array();
    cn_limitrange_check(lr, "Pod", pod, errs);
    CHECK_INT(json_array_size(errs), 1);
    CHECK_STR(json_string_value(json_array_get(errs, 0)), "maximum cpu usage per Container is 1, but limit is 2");
    json_decref(errs);
    /* Applying again sets nothing. */
    CHECK(cn_limitrange_apply(lr, pod) == NULL);
    json_decref(pod);

    json_t *tiny = J("{\"spec\":{\"containers\":[{\"name\":\"t\",\"resources\":{\"requests\":{\"cpu\":\"10m\"},\"limits\":{\"cpu\":\"10m\",\"memory\":\"1Mi\"}}}]}}");
    errs = json_array();
    cn_limitrange_check(lr, "Pod", tiny, errs);
    CHECK_INT(json_array_size(errs), 1);
    CHECK_STR(json_string_value(json_array_get(errs, 0)), "minimum cpu usage per Container is 50m, but request is 10m");
    json_decref(errs);
    json_decref(tiny);
    json_decref(lr);

    json_t *plr = J("{\"spec\":{\"limits\":[{\"type\":\"PersistentVolumeClaim\",\"max\":{\"storage\":\"2Gi\"},\"min\":{\"storage\":\"1Gi\"}}]}}");
    json_t *pvc = J("{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}}");
    errs = json_array();
    cn_limitrange_check(plr, "PersistentVolumeClaim", pvc, errs);
    CHECK_INT(json_array_size(errs), 1);
    CHECK_STR(json_string_value(json_array_get(errs, 0)), "maximum storage usage per PersistentVolumeClaim is 2Gi, but limit is 5Gi");
    json_decref(errs);
    json_decref(pvc);
    json_decref(plr);
}

static void test_scopes(void)
{
    json_t *be = J("{\"spec\":{\"scopes\":[\"BestEffort\"]}}");
    json_t *nbe = J("{\"spec\":{\"scopes\":[\"NotBestEffort\",\"NotTerminating\"]}}");
    json_t *pc = J("{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"PriorityClass\",\"operator\":\"In\",\"values\":[\"high\"]}]}}}");
    json_t *none = J("{\"spec\":{\"hard\":{\"pods\":\"1\"}}}");
    json_t *bare = J("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    json_t *sized = J("{\"spec\":{\"priorityClassName\":\"high\",\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}");
    json_t *deadline = J("{\"spec\":{\"activeDeadlineSeconds\":30,\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}");
    json_t *cm = J("{}");
    CHECK(cn_quota_scope_matches(be, "", "pods", bare));
    CHECK(!cn_quota_scope_matches(be, "", "pods", sized));
    CHECK(!cn_quota_scope_matches(be, "", "configmaps", cm));   /* scoped quotas track pods only */
    CHECK(cn_quota_scope_matches(none, "", "configmaps", cm));
    CHECK(cn_quota_scope_matches(nbe, "", "pods", sized));
    CHECK(!cn_quota_scope_matches(nbe, "", "pods", deadline));  /* Terminating */
    CHECK(!cn_quota_scope_matches(nbe, "", "pods", bare));
    CHECK(cn_quota_scope_matches(pc, "", "pods", sized));
    CHECK(!cn_quota_scope_matches(pc, "", "pods", bare));
    json_decref(be);
    json_decref(nbe);
    json_decref(pc);
    json_decref(none);
    json_decref(bare);
    json_decref(sized);
    json_decref(deadline);
    json_decref(cm);
}

int main(void)
{
    TEST_RUN(test_scopes);
    TEST_RUN(test_quantities);
    TEST_RUN(test_pod_usage);
    TEST_RUN(test_quota_check);
    TEST_RUN(test_limitrange);
    return TEST_DONE();
}
