/* Unit tests of the scheduler's algorithm (src/sched/algo.c, model.c,
 * cache.c): pods and nodes as JSON, a cache built from them, one
 * scheduling cycle, and the chosen node or upstream's failure message. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sched/sched-internal.h"
#include "test.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fprintf(stderr, "bad json: %s: %s\n", e.text, s);
    return j;
}

static void add_node(cn_sched_cache *c, const char *name, const char *zone, const char *cpu,
                     const char *extra_labels, const char *spec)
{
    char *s = cn_asprintf("{\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\","
                          "\"topology.kubernetes.io/zone\":\"%s\"%s}},\"spec\":%s,"
                          "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"4Gi\",\"pods\":\"10\","
                          "\"example.com/dev\":\"2\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                          name, name, zone, extra_labels ? extra_labels : "", spec ? spec : "{}", cpu);
    json_t *j = J(s);
    cn_sched_cache_set_node(c, cn_sched_node_parse(j));
    json_decref(j);
    free(s);
}

/* A pod: name, labels JSON, cpu request, extra spec JSON fragment. */
static cn_sched_pod *mkpod(const char *name, const char *labels, const char *cpu, const char *extra)
{
    char *s = cn_asprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\","
                          "\"labels\":%s},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":"
                          "{\"requests\":{\"cpu\":\"%s\"}}}]%s}}",
                          name, name, labels ? labels : "{}", cpu ? cpu : "0", extra ? extra : "");
    json_t *j = J(s);
    cn_sched_pod *p = cn_sched_pod_parse(j);
    json_decref(j);
    free(s);
    return p;
}

/* Schedule p; on success assume it on the node (owned by the cache) and
 * return the node name; on failure copy the message to msg and free p. */
static const char *run(cn_sched_cache *c, cn_sched_pod *p, char *msg, size_t msglen)
{
    cn_sched_result r;
    cn_sched_schedule(c, p, 0, true, &r);
    const char *node = NULL;
    if (msg) snprintf(msg, msglen, "%s", r.message ? r.message : "");
    if (r.node) {
        node = r.node->name;
        free(p->node_name);
        p->node_name = cn_strdup(node);
        cn_sched_cache_add_pod(c, p);
    } else {
        cn_sched_pod_free(p);
    }
    cn_sched_result_release(&r);
    return node;
}

static void test_quantity(void)
{
    int64_t v;
    CHECK(cn_sc_quantity("100m", true, &v) == 0); CHECK_INT(v, 100);
    CHECK(cn_sc_quantity("1.5", true, &v) == 0); CHECK_INT(v, 1500);
    CHECK(cn_sc_quantity("2", true, &v) == 0); CHECK_INT(v, 2000);
    CHECK(cn_sc_quantity("1Gi", false, &v) == 0); CHECK_INT(v, 1073741824);
    CHECK(cn_sc_quantity("500M", false, &v) == 0); CHECK_INT(v, 500000000);
    CHECK(cn_sc_quantity("1e3", false, &v) == 0); CHECK_INT(v, 1000);
    CHECK(cn_sc_quantity("0.1m", true, &v) == 0); CHECK_INT(v, 1);   /* rounds up */
    CHECK(cn_sc_quantity("12x", false, &v) < 0);
    CHECK(cn_sc_quantity("", false, &v) < 0);
}

static void test_requests(void)
{
    /* max(sum of containers, max of init containers) + overhead */
    json_t *j = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{"
                  "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"1Mi\"}}},"
                  "{\"resources\":{\"requests\":{\"cpu\":\"200m\",\"nvidia.com/gpu\":\"1\"}}}],"
                  "\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}],"
                  "\"overhead\":{\"cpu\":\"10m\"}}}");
    cn_sched_pod *p = cn_sched_pod_parse(j);
    CHECK_INT(p->req.cpu, 1010);
    CHECK_INT(p->req.mem, 1048576);
    CHECK_INT(cn_sc_res_x(&p->req, "nvidia.com/gpu"), 1);
    CHECK_INT(p->req.pods, 1);
    cn_sched_pod_free(p);
    json_decref(j);
}

static void test_resources_message(void)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    add_node(&c, "a", "z1", "1", NULL, NULL);
    add_node(&c, "b", "z1", "1", NULL, NULL);
    add_node(&c, "t", "z2", "8", NULL, "{\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]}");
    char msg[1024];
    CHECK(run(&c, mkpod("p1", NULL, "2", NULL), msg, sizeof msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
                   "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                   "scheduling, 2 No preemption victims found for incoming pod.");
    const char *n = run(&c, mkpod("p2", NULL, "600m", NULL), NULL, 0);
    CHECK(n && strcmp(n, "t"));
    /* the other 1-cpu node is now the only one with room for 600m */
    const char *n2 = run(&c, mkpod("p3", NULL, "600m", NULL), NULL, 0);
    CHECK(n2 && n && strcmp(n, n2) && strcmp(n2, "t"));
    CHECK(run(&c, mkpod("p4", NULL, "600m", NULL), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "2 Insufficient cpu") != NULL);
    /* extended resources */
    CHECK(run(&c, mkpod("g", NULL, "0", ",\"overhead\":{\"example.com/dev\":\"3\"}"), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "2 Insufficient example.com/dev") != NULL);
    cn_sched_cache_release(&c);
}

static void test_affinity_taints(void)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    add_node(&c, "a", "z1", "4", ",\"disk\":\"ssd\",\"gen\":\"3\"", NULL);
    add_node(&c, "b", "z2", "4", ",\"gen\":\"5\"", "{\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}]}");
    add_node(&c, "u", "z2", "4", NULL, "{\"unschedulable\":true}");
    char msg[1024];
    CHECK_STR(run(&c, mkpod("sel", NULL, "0", ",\"nodeSelector\":{\"disk\":\"ssd\"}"), NULL, 0), "a");
    const char *gt = ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                     "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}]}}}";
    CHECK(run(&c, mkpod("gt", NULL, "0", gt), msg, sizeof msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had "
                   "untolerated taint {k: v}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: "
                   "3 Preemption is not helpful for scheduling.");
    char *tol = cn_asprintf("%s,\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}]", gt);
    CHECK_STR(run(&c, mkpod("gt2", NULL, "0", tol), NULL, 0), "b");
    free(tol);
    const char *dne = ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                      "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"DoesNotExist\"}]},"
                      "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"u\"]}]}]}}},"
                      "\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]";
    CHECK_STR(run(&c, mkpod("dne", NULL, "0", dne), NULL, 0), "u");
    /* host ports */
    const char *port = ",\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}]}],"
                       "\"nodeSelector\":{\"disk\":\"ssd\"}";
    CHECK_STR(run(&c, mkpod("hp1", NULL, "0", port), NULL, 0), "a");
    CHECK(run(&c, mkpod("hp2", NULL, "0", port), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "1 node(s) didn't have free ports for the requested pod ports") != NULL);
    cn_sched_cache_release(&c);
}

static void test_interpod(void)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    add_node(&c, "a1", "za", "4", NULL, NULL);
    add_node(&c, "a2", "za", "4", NULL, NULL);
    add_node(&c, "b1", "zb", "4", NULL, NULL);
    const char *anti = ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                       "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"topologyKey\":\"topology.kubernetes.io/zone\"}]}}";
    const char *z1 = run(&c, mkpod("db1", "{\"app\":\"db\"}", "0", anti), NULL, 0);
    const char *z2 = run(&c, mkpod("db2", "{\"app\":\"db\"}", "0", anti), NULL, 0);
    CHECK(z1 && z2);
    if (z1 && z2) CHECK((z1[0] == 'b') != (z2[0] == 'b'));   /* one per zone */
    char msg[1024];
    CHECK(run(&c, mkpod("db3", "{\"app\":\"db\"}", "0", anti), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.") == msg);
    /* a plain pod the existing rules select */
    CHECK(run(&c, mkpod("db4", "{\"app\":\"db\"}", "0", NULL), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "3 node(s) didn't satisfy existing pods anti-affinity rules") != NULL);
    /* required affinity: with the pod labelled web on b1 */
    const char *nb = ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"b1\"}";
    CHECK_STR(run(&c, mkpod("web", "{\"app\":\"web\"}", "0", nb), NULL, 0), "b1");
    const char *aff = ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                      "[{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\"]}]},"
                      "\"topologyKey\":\"kubernetes.io/hostname\"}]}}";
    CHECK_STR(run(&c, mkpod("near", NULL, "0", aff), NULL, 0), "b1");
    const char *aff2 = ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                       "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"none\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}}";
    CHECK(run(&c, mkpod("far", NULL, "0", aff2), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "3 node(s) didn't match pod affinity rules") != NULL);
    /* ... unless it matches its own term (the first of a group) */
    CHECK(run(&c, mkpod("self", "{\"app\":\"none\"}", "0", aff2), NULL, 0) != NULL);
    cn_sched_cache_release(&c);
}

static void test_spread(void)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    add_node(&c, "a1", "za", "8", NULL, NULL);
    add_node(&c, "a2", "za", "8", NULL, NULL);
    add_node(&c, "b1", "zb", "8", NULL, NULL);
    add_node(&c, "c1", "zc", "8", NULL, NULL);
    const char *sp = ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"topology.kubernetes.io/zone\","
                     "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"s\"}}}]";
    int za = 0, zb = 0, zc = 0;
    for (int i = 0; i < 9; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        const char *n = run(&c, mkpod(name, "{\"app\":\"s\"}", "0", sp), NULL, 0);
        CHECK(n != NULL);
        if (!n) continue;
        if (n[0] == 'a') za++; else if (n[0] == 'b') zb++; else zc++;
    }
    CHECK_INT(za, 3); CHECK_INT(zb, 3); CHECK_INT(zc, 3);
    /* with only zone a eligible, the skew would be 2 */
    const char *spa = ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"topology.kubernetes.io/zone\","
                      "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"s\"}}}],"
                      "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":"
                      "[{\"matchExpressions\":[{\"key\":\"topology.kubernetes.io/zone\",\"operator\":\"In\",\"values\":[\"za\",\"zb\"]}]}]}}}";
    CHECK(run(&c, mkpod("x1", "{\"app\":\"s\"}", "0", spa), NULL, 0) != NULL);
    char msg[1024];
    CHECK(run(&c, mkpod("x2", "{\"app\":\"s\"}", "0", spa), msg, sizeof msg) != NULL);   /* the other zone */
    const char *spnolabel = ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"rack\","
                            "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{}}]";
    CHECK(run(&c, mkpod("x3", NULL, "0", spnolabel), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "4 node(s) didn't match pod topology spread constraints (missing required label)") != NULL);
    /* ScheduleAnyway never blocks */
    const char *soft = ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"rack\","
                       "\"whenUnsatisfiable\":\"ScheduleAnyway\",\"labelSelector\":{}}]";
    CHECK(run(&c, mkpod("x4", NULL, "0", soft), NULL, 0) != NULL);
    cn_sched_cache_release(&c);
}

static void test_preemption(void)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    add_node(&c, "a", "z", "1", NULL, NULL);
    add_node(&c, "b", "z", "1", NULL, NULL);
    CHECK(run(&c, mkpod("low", NULL, "800m", ",\"priority\":10"), NULL, 0) != NULL);
    CHECK(run(&c, mkpod("mid", NULL, "800m", ",\"priority\":100"), NULL, 0) != NULL);
    cn_sched_pod *hi = mkpod("hi", NULL, "800m", ",\"priority\":1000");
    cn_sched_result r;
    cn_sched_schedule(&c, hi, 0, true, &r);
    CHECK(r.node == NULL);
    CHECK(r.nominated != NULL);
    CHECK_INT(r.nvictims, 1);
    if (r.nvictims) CHECK_STR(r.victims[0]->name, "low");   /* the lowest priority */
    CHECK(r.message && strstr(r.message, "0/2 nodes are available: 2 Insufficient cpu.") == r.message);
    cn_sched_result_release(&r);
    /* the cache is unchanged by the what-if */
    CHECK_INT(cn_sched_cache_node(&c, "a")->used.cpu + cn_sched_cache_node(&c, "b")->used.cpu, 1600);
    cn_sched_pod_free(hi);
    /* a pod of the lowest priority finds no victims */
    char msg[1024];
    CHECK(run(&c, mkpod("zero", NULL, "800m", ",\"priority\":0"), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.") != NULL);
    CHECK(run(&c, mkpod("never", NULL, "800m", ",\"priority\":5000,\"preemptionPolicy\":\"Never\""), msg, sizeof msg) == NULL);
    CHECK(strstr(msg, "2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.") != NULL);
    cn_sched_cache_release(&c);
}

static void test_sampling(void)
{
    CHECK_INT(cn_sched_num_to_find(50, 0), 50);
    CHECK_INT(cn_sched_num_to_find(100, 0), 50 > 100 ? 50 : 100);
    CHECK_INT(cn_sched_num_to_find(5000, 0), 500);
    CHECK_INT(cn_sched_num_to_find(1000, 0), 420);
    CHECK_INT(cn_sched_num_to_find(100000, 0), 5000);
    CHECK_INT(cn_sched_num_to_find(5000, 100), 5000);
    /* with many nodes the pods still spread: least-allocated, round-robin */
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    for (int i = 0; i < 300; i++) {
        char n[16];
        snprintf(n, sizeof n, "n%d", i);
        add_node(&c, n, "z", "4", NULL, NULL);
    }
    for (int i = 0; i < 300; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        CHECK(run(&c, mkpod(n, NULL, "100m", NULL), NULL, 0) != NULL);
    }
    size_t maxpods = 0;
    for (size_t i = 0; i < c.nnodes; i++)
        if (c.node_arr[i]->npods > maxpods) maxpods = c.node_arr[i]->npods;
    CHECK(maxpods <= 2);
    cn_sched_cache_release(&c);
}

int main(void)
{
    TEST_RUN(test_quantity);
    TEST_RUN(test_requests);
    TEST_RUN(test_resources_message);
    TEST_RUN(test_affinity_taints);
    TEST_RUN(test_interpod);
    TEST_RUN(test_spread);
    TEST_RUN(test_preemption);
    TEST_RUN(test_sampling);
    return TEST_DONE();
}
