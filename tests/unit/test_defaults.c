/* test_defaults: upstream defaulting of built-in kinds and CRD schema
 * defaults for custom resources. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "api/validate.h"

static cn_resource res_of(const char *group, const char *kind)
{
    cn_resource r;
    memset(&r, 0, sizeof r);
    r.group = group;
    r.version = "v1";
    r.kind = kind;
    r.namespaced = true;
    return r;
}

static json_t *defaulted(const char *group, const char *kind, const char *s)
{
    cn_resource r = res_of(group, kind);
    json_t *o = json_loads(s, 0, NULL);
    cn_defaults_apply(&r, o);
    return o;
}

/* Value at a dotted path ("spec.template.spec"); "[n]" indexes arrays. */
static const json_t *at(const json_t *o, const char *path)
{
    const json_t *cur = o;
    const char *p = path;
    while (*p && cur) {
        char key[64];
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (n) cur = json_object_get(cur, key);
        while (*p == '[' && cur) {
            char *end;
            cur = json_array_get(cur, (size_t)strtoul(p + 1, &end, 10));
            p = *end == ']' ? end + 1 : end;
        }
        if (*p == '.') p++;
    }
    return cur;
}

static const char *S(const json_t *o, const char *path) { return json_string_value(at(o, path)); }
static long long I(const json_t *o, const char *path) { return json_integer_value(at(o, path)); }

static void test_pod(void)
{
    json_t *o = defaulted("", "Pod", "{\"spec\":{\"containers\":["
        "{\"name\":\"a\",\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],\"livenessProbe\":{\"httpGet\":{\"port\":80}}},"
        "{\"name\":\"b\",\"image\":\"nginx:latest\"},{\"name\":\"c\",\"image\":\"nginx:1.25\"},"
        "{\"name\":\"d\",\"image\":\"reg:5000/app\"},{\"name\":\"e\",\"image\":\"app@sha256:abcd\"},"
        "{\"name\":\"f\",\"image\":\"x\",\"imagePullPolicy\":\"Never\"}],"
        "\"volumes\":[{\"name\":\"s\",\"secret\":{\"secretName\":\"x\"}}]}}");
    CHECK_STR(S(o, "spec.restartPolicy"), "Always");
    CHECK_STR(S(o, "spec.dnsPolicy"), "ClusterFirst");
    CHECK_STR(S(o, "spec.schedulerName"), "default-scheduler");
    CHECK_INT(I(o, "spec.terminationGracePeriodSeconds"), 30);
    CHECK(json_is_object(at(o, "spec.securityContext")) && json_object_size(at(o, "spec.securityContext")) == 0);
    CHECK_STR(S(o, "spec.containers[0].imagePullPolicy"), "Always");
    CHECK_STR(S(o, "spec.containers[1].imagePullPolicy"), "Always");
    CHECK_STR(S(o, "spec.containers[2].imagePullPolicy"), "IfNotPresent");
    CHECK_STR(S(o, "spec.containers[3].imagePullPolicy"), "Always");
    CHECK_STR(S(o, "spec.containers[4].imagePullPolicy"), "IfNotPresent");
    CHECK_STR(S(o, "spec.containers[5].imagePullPolicy"), "Never");
    CHECK_STR(S(o, "spec.containers[0].terminationMessagePath"), "/dev/termination-log");
    CHECK_STR(S(o, "spec.containers[0].terminationMessagePolicy"), "File");
    CHECK_STR(S(o, "spec.containers[0].ports[0].protocol"), "TCP");
    CHECK_INT(I(o, "spec.containers[0].livenessProbe.periodSeconds"), 10);
    CHECK_STR(S(o, "spec.containers[0].livenessProbe.httpGet.scheme"), "HTTP");
    CHECK_INT(I(o, "spec.volumes[0].secret.defaultMode"), 420);
    json_decref(o);

    /* present values are kept */
    o = defaulted("", "Pod", "{\"spec\":{\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":0,\"containers\":[]}}");
    CHECK_STR(S(o, "spec.restartPolicy"), "Never");
    CHECK_INT(I(o, "spec.terminationGracePeriodSeconds"), 0);
    json_decref(o);
}

static void test_service_secret(void)
{
    json_t *o = defaulted("", "Service", "{\"spec\":{\"ports\":[{\"port\":80},{\"port\":443,\"targetPort\":\"https\",\"protocol\":\"UDP\"}]}}");
    CHECK_STR(S(o, "spec.type"), "ClusterIP");
    CHECK_STR(S(o, "spec.sessionAffinity"), "None");
    CHECK_STR(S(o, "spec.ports[0].protocol"), "TCP");
    CHECK_INT(I(o, "spec.ports[0].targetPort"), 80);
    CHECK_STR(S(o, "spec.ports[1].targetPort"), "https");
    CHECK_STR(S(o, "spec.ports[1].protocol"), "UDP");
    json_decref(o);

    o = defaulted("", "Secret", "{\"data\":{\"a\":\"eA==\"},\"stringData\":{\"b\":\"hello\",\"a\":\"yz\"}}");
    CHECK_STR(S(o, "type"), "Opaque");
    CHECK_STR(S(o, "data.b"), "aGVsbG8=");
    CHECK_STR(S(o, "data.a"), "eXo=");      /* stringData wins */
    CHECK(json_object_get(o, "stringData") == NULL);
    json_decref(o);
    o = defaulted("", "Secret", "{\"type\":\"kubernetes.io/tls\"}");
    CHECK_STR(S(o, "type"), "kubernetes.io/tls");
    json_decref(o);
}

static void test_workloads(void)
{
    json_t *o = defaulted("apps", "Deployment", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x:1\"}]}}}}");
    CHECK_INT(I(o, "spec.replicas"), 1);
    CHECK_STR(S(o, "spec.strategy.type"), "RollingUpdate");
    CHECK_STR(S(o, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
    CHECK_STR(S(o, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    CHECK_INT(I(o, "spec.revisionHistoryLimit"), 10);
    CHECK_INT(I(o, "spec.progressDeadlineSeconds"), 600);
    CHECK_STR(S(o, "spec.template.spec.restartPolicy"), "Always");
    CHECK_STR(S(o, "spec.template.spec.containers[0].imagePullPolicy"), "IfNotPresent");
    json_decref(o);
    o = defaulted("apps", "Deployment", "{\"spec\":{\"replicas\":0,\"strategy\":{\"type\":\"Recreate\"}}}");
    CHECK_INT(I(o, "spec.replicas"), 0);
    CHECK(at(o, "spec.strategy.rollingUpdate") == NULL);
    json_decref(o);

    o = defaulted("apps", "StatefulSet", "{\"spec\":{}}");
    CHECK_INT(I(o, "spec.replicas"), 1);
    CHECK_STR(S(o, "spec.podManagementPolicy"), "OrderedReady");
    CHECK_STR(S(o, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_INT(I(o, "spec.updateStrategy.rollingUpdate.partition"), 0);
    CHECK(at(o, "spec.updateStrategy.rollingUpdate.partition") != NULL);
    CHECK_INT(I(o, "spec.revisionHistoryLimit"), 10);
    json_decref(o);

    o = defaulted("apps", "DaemonSet", "{\"spec\":{}}");
    CHECK_STR(S(o, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_INT(I(o, "spec.updateStrategy.rollingUpdate.maxUnavailable"), 1);
    CHECK(json_is_integer(at(o, "spec.updateStrategy.rollingUpdate.maxSurge")));
    CHECK_INT(I(o, "spec.revisionHistoryLimit"), 10);
    json_decref(o);

    o = defaulted("apps", "ReplicaSet", "{\"spec\":{}}");
    CHECK_INT(I(o, "spec.replicas"), 1);
    json_decref(o);
}

static void test_batch(void)
{
    json_t *o = defaulted("batch", "Job", "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u-1\"},\"spec\":{\"template\":"
                          "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"perl\"}]}}}}");
    CHECK_INT(I(o, "spec.parallelism"), 1);
    CHECK_INT(I(o, "spec.completions"), 1);
    CHECK_INT(I(o, "spec.backoffLimit"), 6);
    CHECK_STR(S(o, "spec.completionMode"), "NonIndexed");
    CHECK(json_is_false(at(o, "spec.suspend")));
    CHECK_STR(S(o, "spec.template.spec.restartPolicy"), "Never");
    const json_t *ml = at(o, "spec.selector.matchLabels");
    CHECK_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")), "u-1");
    const json_t *tl = at(o, "spec.template.metadata.labels");
    CHECK_STR(json_string_value(json_object_get(tl, "batch.kubernetes.io/controller-uid")), "u-1");
    CHECK_STR(json_string_value(json_object_get(tl, "job-name")), "pi");
    json_decref(o);

    /* parallelism alone leaves completions unset */
    o = defaulted("batch", "Job", "{\"spec\":{\"parallelism\":3,\"manualSelector\":true}}");
    CHECK(at(o, "spec.completions") == NULL);
    CHECK(at(o, "spec.selector") == NULL);
    json_decref(o);

    o = defaulted("batch", "CronJob", "{\"spec\":{\"schedule\":\"@daily\",\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{}}}}}}");
    CHECK_STR(S(o, "spec.concurrencyPolicy"), "Allow");
    CHECK(json_is_false(at(o, "spec.suspend")));
    CHECK_INT(I(o, "spec.successfulJobsHistoryLimit"), 3);
    CHECK_INT(I(o, "spec.failedJobsHistoryLimit"), 1);
    CHECK_STR(S(o, "spec.jobTemplate.spec.template.spec.dnsPolicy"), "ClusterFirst");
    json_decref(o);
}

static void test_storage_ns_crd(void)
{
    json_t *o = defaulted("", "PersistentVolumeClaim", "{\"spec\":{}}");
    CHECK_STR(S(o, "spec.volumeMode"), "Filesystem");
    json_decref(o);
    o = defaulted("", "PersistentVolume", "{\"spec\":{}}");
    CHECK_STR(S(o, "spec.persistentVolumeReclaimPolicy"), "Retain");
    CHECK_STR(S(o, "spec.volumeMode"), "Filesystem");
    json_decref(o);
    o = defaulted("storage.k8s.io", "StorageClass", "{\"provisioner\":\"x\"}");
    CHECK_STR(S(o, "reclaimPolicy"), "Delete");
    CHECK_STR(S(o, "volumeBindingMode"), "Immediate");
    json_decref(o);
    o = defaulted("", "Namespace", "{\"metadata\":{\"name\":\"n\"}}");
    CHECK_STR(S(o, "spec.finalizers[0]"), "kubernetes");
    json_decref(o);
    o = defaulted("apiextensions.k8s.io", "CustomResourceDefinition", "{\"spec\":{\"names\":{\"kind\":\"FooBar\",\"plural\":\"foobars\"}}}");
    CHECK_STR(S(o, "spec.conversion.strategy"), "None");
    CHECK_STR(S(o, "spec.names.singular"), "foobar");
    CHECK_STR(S(o, "spec.names.listKind"), "FooBarList");
    json_decref(o);
    /* kinds without defaults are untouched */
    o = defaulted("", "ConfigMap", "{\"data\":{}}");
    CHECK_INT(json_object_size(o), 1);
    json_decref(o);
}

static void test_custom(void)
{
    json_t *ver = json_loads("{\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
        "\"default\":{},\"properties\":{\"replicas\":{\"type\":\"integer\",\"default\":2},"
        "\"mode\":{\"type\":\"string\",\"default\":\"auto\"},"
        "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"w\":{\"type\":\"integer\",\"default\":5}}}}}}}}}}", 0, NULL);
    cn_resource r = res_of("example.com", "Widget");
    r.flags = CN_RES_CUSTOM;
    r.crd_version = ver;
    json_t *o = json_loads("{\"metadata\":{\"name\":\"w\"}}", 0, NULL);
    cn_defaults_apply(&r, o);
    CHECK_INT(I(o, "spec.replicas"), 2);
    CHECK_STR(S(o, "spec.mode"), "auto");
    json_decref(o);
    o = json_loads("{\"spec\":{\"mode\":\"manual\",\"items\":[{},{\"w\":1}]}}", 0, NULL);
    cn_defaults_apply(&r, o);
    CHECK_STR(S(o, "spec.mode"), "manual");
    CHECK_INT(I(o, "spec.items[0].w"), 5);
    CHECK_INT(I(o, "spec.items[1].w"), 1);
    json_decref(o);
    json_decref(ver);
}

int main(void)
{
    TEST_RUN(test_pod);
    TEST_RUN(test_service_secret);
    TEST_RUN(test_workloads);
    TEST_RUN(test_batch);
    TEST_RUN(test_storage_ns_crd);
    TEST_RUN(test_custom);
    return TEST_DONE();
}
