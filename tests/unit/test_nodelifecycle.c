/* test_nodelifecycle: the node lifecycle controller's decisions —
 * toleration matching, taint-based eviction times, the taints a node's
 * Ready condition calls for, and the Unknown conditions. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "ctrl/nodelifecycle.h"
#include "lib/util.h"
#include "test.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fprintf(stderr, "bad test json: %s: %s\n", text, e.text);
    return j;
}

static void test_tolerates(void)
{
    json_t *taint = J("{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}");
    json_t *vt = J("{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}");
    struct { const char *tol; bool unreach, dedicated; } cases[] = {
        { "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}", true, false },
        { "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\"}", true, false },
        { "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}", false, false },
        { "{\"operator\":\"Exists\"}", true, true },
        { "{\"key\":\"\",\"operator\":\"Equal\"}", false, false },
        { "{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"gpu\"}", false, true },
        { "{\"key\":\"dedicated\",\"value\":\"gpu\"}", false, true },             /* Equal by default */
        { "{\"key\":\"dedicated\",\"value\":\"cpu\"}", false, false },
        { "{\"key\":\"dedicated\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}", false, true },
        { "{\"key\":\"dedicated\",\"operator\":\"Bogus\",\"value\":\"gpu\"}", false, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *t = J(cases[i].tol);
        if (cn_nlc_tolerates(t, taint) != cases[i].unreach || cn_nlc_tolerates(t, vt) != cases[i].dedicated) {
            fprintf(stderr, "case %zu: %s\n", i, cases[i].tol);
            CHECK(0);
        }
        json_decref(t);
    }
    json_decref(taint);
    json_decref(vt);
}

static void test_eviction(void)
{
    int64_t now, at = -1;
    cn_time_parse("2026-01-01T00:01:00Z", &now);
    json_t *taints = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"},"
                       "{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\",\"timeAdded\":\"2026-01-01T00:00:50Z\"}]");
    json_t *noexec_free = J("[{\"key\":\"x\",\"effect\":\"NoSchedule\"}]");
    json_t *none = J("[]");
    json_t *t300 = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
                     "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]");
    json_t *t3 = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":3}]");
    json_t *forever = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\"}]");
    json_t *mixed = J("[{\"operator\":\"Exists\"},"
                      "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"tolerationSeconds\":20}]");
    json_t *neg = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"tolerationSeconds\":-5}]");

    CHECK_INT(cn_nlc_eviction(none, taints, now, &at), 1);       /* not tolerated: now */
    CHECK_INT(at, now);
    CHECK_INT(cn_nlc_eviction(NULL, taints, now, &at), 1);
    CHECK_INT(at, now);
    CHECK_INT(cn_nlc_eviction(none, noexec_free, now, &at), 0);  /* no NoExecute taint */
    CHECK_INT(cn_nlc_eviction(none, NULL, now, &at), 0);
    CHECK_INT(cn_nlc_eviction(t300, taints, now, &at), 1);
    CHECK_INT(at, now - 10 + 300);                                /* from timeAdded */
    CHECK_INT(cn_nlc_eviction(t3, taints, now, &at), 1);
    CHECK_INT(at, now - 10 + 3);                                  /* overdue: evict now */
    CHECK_INT(cn_nlc_eviction(forever, taints, now, &at), 0);
    CHECK_INT(cn_nlc_eviction(mixed, taints, now, &at), 1);       /* the smallest limit wins */
    CHECK_INT(at, now - 10 + 20);
    CHECK_INT(cn_nlc_eviction(neg, taints, now, &at), 1);
    CHECK_INT(at, now - 10);
    /* A taint without timeAdded counts from now. */
    json_t *fresh = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]");
    CHECK_INT(cn_nlc_eviction(t3, fresh, now, &at), 1);
    CHECK_INT(at, now + 3);
    /* Two NoExecute taints, only one tolerated: now. */
    json_t *two = J("[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"},"
                    "{\"key\":\"evict-me\",\"effect\":\"NoExecute\"}]");
    CHECK_INT(cn_nlc_eviction(t3, two, now, &at), 1);
    CHECK_INT(at, now);
    json_decref(fresh);
    json_decref(two);
    json_decref(taints);
    json_decref(noexec_free);
    json_decref(none);
    json_decref(t300);
    json_decref(t3);
    json_decref(forever);
    json_decref(mixed);
    json_decref(neg);
}

static const char *taint_keys(const json_t *taints, char *buf, size_t n)
{
    size_t i;
    json_t *t;
    buf[0] = '\0';
    json_array_foreach(taints, i, t) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s:%s%s", i ? "," : "", cn_json_str_at(t, "key"), cn_json_str_at(t, "effect"),
                 *cn_json_str_at(t, "timeAdded") ? "@" : "");
    }
    return buf;
}

static void test_desired_taints(void)
{
    char buf[512];
    int64_t now = 1767225600;   /* 2026-01-01T00:00:00Z */
    json_t *ready = J("{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}]},"
                      "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    CHECK(cn_nlc_desired_taints(ready, now) == NULL);
    CHECK_STR(cn_nlc_ready(ready), "True");

    json_t *unknown = J("{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}]},"
                        "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}");
    json_t *t = cn_nlc_desired_taints(unknown, now);
    CHECK_STR(taint_keys(t, buf, sizeof buf),
              "dedicated:NoSchedule,node.kubernetes.io/unreachable:NoSchedule,node.kubernetes.io/unreachable:NoExecute@");
    CHECK_STR(cn_json_str_at(json_array_get(t, 2), "timeAdded"), "2026-01-01T00:00:00Z");
    /* Applied: nothing more to do. */
    json_object_set(json_object_get(unknown, "spec"), "taints", t);
    CHECK(cn_nlc_desired_taints(unknown, now + 5) == NULL);
    json_decref(t);

    /* Unknown -> False: unreachable replaced by not-ready. */
    json_object_set_new(json_array_get(json_object_get(json_object_get(unknown, "status"), "conditions"), 0),
                        "status", json_string("False"));
    CHECK_STR(cn_nlc_ready(unknown), "False");
    t = cn_nlc_desired_taints(unknown, now);
    CHECK_STR(taint_keys(t, buf, sizeof buf),
              "dedicated:NoSchedule,node.kubernetes.io/not-ready:NoSchedule,node.kubernetes.io/not-ready:NoExecute@");
    json_decref(t);

    /* Back to True: ours removed, others kept. */
    json_object_set_new(json_array_get(json_object_get(json_object_get(unknown, "status"), "conditions"), 0),
                        "status", json_string("True"));
    t = cn_nlc_desired_taints(unknown, now);
    CHECK_STR(taint_keys(t, buf, sizeof buf), "dedicated:NoSchedule");
    json_decref(t);

    /* No conditions at all counts as Unknown; cordoned adds unschedulable. */
    json_t *bare = J("{\"spec\":{\"unschedulable\":true}}");
    CHECK_STR(cn_nlc_ready(bare), "Unknown");
    t = cn_nlc_desired_taints(bare, now);
    CHECK_STR(taint_keys(t, buf, sizeof buf),
              "node.kubernetes.io/unreachable:NoSchedule,node.kubernetes.io/unreachable:NoExecute@,"
              "node.kubernetes.io/unschedulable:NoSchedule");
    json_decref(t);
    json_decref(bare);
    json_decref(ready);
    json_decref(unknown);
}

static void test_unknown_conditions(void)
{
    json_t *node = J("{\"status\":{\"conditions\":["
                     "{\"type\":\"MemoryPressure\",\"status\":\"False\",\"lastHeartbeatTime\":\"2026-01-01T00:00:00Z\","
                     "\"lastTransitionTime\":\"2025-01-01T00:00:00Z\"},"
                     "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
                     "\"lastHeartbeatTime\":\"2026-01-01T00:00:00Z\",\"lastTransitionTime\":\"2025-01-01T00:00:00Z\"}]}}");
    json_t *c = cn_nlc_unknown_conditions(node, 1767225700);
    CHECK_INT(json_array_size(c), 2);
    json_t *r = json_array_get(c, 1);
    CHECK_STR(cn_json_str_at(r, "type"), "Ready");
    CHECK_STR(cn_json_str_at(r, "status"), "Unknown");
    CHECK_STR(cn_json_str_at(r, "reason"), "NodeStatusUnknown");
    CHECK_STR(cn_json_str_at(r, "message"), "Kubelet stopped posting node status.");
    CHECK_STR(cn_json_str_at(r, "lastHeartbeatTime"), "2026-01-01T00:00:00Z");
    CHECK_STR(cn_json_str_at(r, "lastTransitionTime"), "2026-01-01T00:01:40Z");
    CHECK_STR(cn_json_str_at(json_array_get(c, 0), "status"), "Unknown");
    json_decref(c);
    json_decref(node);

    json_t *empty = J("{}");
    c = cn_nlc_unknown_conditions(empty, 1767225700);
    CHECK_INT(json_array_size(c), 1);
    CHECK_STR(cn_json_str_at(json_array_get(c, 0), "type"), "Ready");
    json_decref(c);
    json_decref(empty);
}

int main(void)
{
    TEST_RUN(test_tolerates);
    TEST_RUN(test_eviction);
    TEST_RUN(test_desired_taints);
    TEST_RUN(test_unknown_conditions);
    return TEST_DONE();
}
