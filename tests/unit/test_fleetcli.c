/* Unit tests for fleetcli: `cairn cluster create` / `cairn fleet lnet
 * create` flags to objects (what is set, what is left to the bridge's
 * defaults, every refusal with its message), the list flags, the aligned
 * tables and the ip-plan rendering, and kubectl's ages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/fleetcli.h"
#include "test.h"

static json_t *strs(const char *a, const char *b)
{
    json_t *v = json_array();
    if (a) json_array_append_new(v, json_string(a));
    if (b) json_array_append_new(v, json_string(b));
    return v;
}

static void test_cluster_minimal(void)
{
    cn_fleetcli_cluster_opts o = { .name = "c1", .lnet = "lnet1" };
    cn_err err = CN_ERR_INIT;
    json_t *c = cn_fleetcli_cluster(&o, &err);
    json_t *want = json_loads("{\"apiVersion\":\"fleet.cairn.io/v1\",\"kind\":\"Cluster\",\"metadata\":{\"name\":\"c1\"},"
                              "\"spec\":{\"logicalNetwork\":\"lnet1\",\"nodePools\":[{\"name\":\"nodepool1\"}]}}", 0, NULL);
    CHECK(c && json_equal(c, want));
    json_decref(c);
    json_decref(want);
}

static void test_cluster_full(void)
{
    json_t *lb = strs("10.99.0.60-10.99.0.69", "10.99.0.80-10.99.0.80");
    json_t *labels = strs("team=web,tier=front", "example.com/zone=a");
    json_t *taints = strs("dedicated=web:NoSchedule", "gpu:NoExecute");
    cn_fleetcli_cluster_opts o = {
        .name = "c1", .lnet = "lnet1", .version = "1.31.5", .cp_count = 3, .cp_size = "Standard_D4s_v3",
        .cp_ip = "10.99.0.50", .pool = "web", .node_count = 4, .node_size = "Standard_A2_v2",
        .pod_cidr = "10.200.0.0/16", .service_cidr = "10.112.0.0/12", .lb_pools = lb, .labels = labels, .taints = taints,
    };
    cn_err err = CN_ERR_INIT;
    json_t *c = cn_fleetcli_cluster(&o, &err);
    json_t *want = json_loads(
        "{\"apiVersion\":\"fleet.cairn.io/v1\",\"kind\":\"Cluster\",\"metadata\":{\"name\":\"c1\"},"
        "\"spec\":{\"logicalNetwork\":\"lnet1\",\"kubernetesVersion\":\"1.31.5\","
        "\"controlPlane\":{\"count\":3,\"vmSize\":\"Standard_D4s_v3\",\"endpoint\":\"10.99.0.50\"},"
        "\"nodePools\":[{\"name\":\"web\",\"count\":4,\"vmSize\":\"Standard_A2_v2\","
        "\"labels\":{\"team\":\"web\",\"tier\":\"front\",\"example.com/zone\":\"a\"},"
        "\"taints\":[\"dedicated=web:NoSchedule\",\"gpu:NoExecute\"]}],"
        "\"networking\":{\"podCidr\":\"10.200.0.0/16\",\"serviceCidr\":\"10.112.0.0/12\",\"loadBalancerPools\":"
        "[{\"start\":\"10.99.0.60\",\"end\":\"10.99.0.69\"},{\"start\":\"10.99.0.80\",\"end\":\"10.99.0.80\"}]}}}",
        0, NULL);
    CHECK(c && json_equal(c, want));
    if (c && !json_equal(c, want)) {
        char *s = json_dumps(c, JSON_SORT_KEYS);
        fprintf(stderr, "got %s\n", s);
        free(s);
    }
    json_decref(c);
    json_decref(want);
    json_decref(lb);
    json_decref(labels);
    json_decref(taints);
}

static void expect_refusal(cn_fleetcli_cluster_opts *o, const char *msg)
{
    cn_err err = CN_ERR_INIT;
    json_t *c = cn_fleetcli_cluster(o, &err);
    CHECK(c == NULL);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.message, msg);
    json_decref(c);
    cn_err_clear(&err);
}

static void test_cluster_refusals(void)
{
    cn_fleetcli_cluster_opts o = { .name = "c1" };
    expect_refusal(&o, "--lnet: a logical network is required");
    o = (cn_fleetcli_cluster_opts){ .lnet = "l" };
    expect_refusal(&o, "a cluster name is required");
    json_t *bad = strs("team", NULL);
    o = (cn_fleetcli_cluster_opts){ .name = "c1", .lnet = "l", .labels = bad };
    expect_refusal(&o, "--labels: \"team\" is not a label key=value");
    json_decref(bad);
    bad = strs("a=b,-x=y", NULL);
    o.labels = bad;
    expect_refusal(&o, "--labels: \"-x=y\" is not a label key=value");
    json_decref(bad);
    bad = strs("dedicated=web:Sometimes", NULL);
    o = (cn_fleetcli_cluster_opts){ .name = "c1", .lnet = "l", .taints = bad };
    expect_refusal(&o, "--node-taints: \"dedicated=web:Sometimes\" is not a taint key[=value]:NoSchedule|PreferNoSchedule|NoExecute");
    json_decref(bad);
    bad = strs("noeffect", NULL);
    o.taints = bad;
    expect_refusal(&o, "--node-taints: \"noeffect\" is not a taint key[=value]:NoSchedule|PreferNoSchedule|NoExecute");
    json_decref(bad);
    bad = strs("10.99.0.69-10.99.0.60", NULL);
    o = (cn_fleetcli_cluster_opts){ .name = "c1", .lnet = "l", .lb_pools = bad };
    expect_refusal(&o, "--lb-pool: \"10.99.0.69-10.99.0.60\" is not an IPv4 range START-END with START <= END");
    json_decref(bad);
    bad = strs("10.99.0.60", NULL);
    o.lb_pools = bad;
    expect_refusal(&o, "--lb-pool: \"10.99.0.60\" is not an IPv4 range START-END with START <= END");
    json_decref(bad);
}

static void test_split_and_empty(void)
{
    json_t *raw = strs(" a , b,,", "c"), *v = cn_fleetcli_split(raw);
    json_t *want = json_pack("[s,s,s]", "a", "b", "c");
    CHECK(json_equal(v, want));
    json_decref(raw);
    json_decref(v);
    json_decref(want);
    /* --labels "" clears: an empty object, not an error. */
    raw = strs("", NULL);
    json_t *labels = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_fleetcli_labels(raw, "--labels", &labels, &err), 0);
    CHECK(json_is_object(labels) && json_object_size(labels) == 0);
    json_decref(labels);
    json_decref(raw);
}

static void test_lnet(void)
{
    json_t *dns = strs("10.99.0.1,10.99.0.2", NULL);
    cn_fleetcli_lnet_opts o = { .name = "lnet1", .prefix = "10.99.0.0/24", .gateway = "10.99.0.1", .dns = dns,
                                .pool_start = "10.99.0.100", .pool_end = "10.99.0.199", .vlan = 7,
                                .vm_switch = "vmswitch" };
    cn_err err = CN_ERR_INIT;
    json_t *l = cn_fleetcli_lnet(&o, &err);
    json_t *want = json_loads(
        "{\"apiVersion\":\"fleet.cairn.io/v1\",\"kind\":\"LogicalNetwork\",\"metadata\":{\"name\":\"lnet1\"},"
        "\"spec\":{\"addressPrefix\":\"10.99.0.0/24\",\"gateway\":\"10.99.0.1\",\"dnsServers\":[\"10.99.0.1\",\"10.99.0.2\"],"
        "\"ipAllocationMethod\":\"Static\",\"ipPools\":[{\"name\":\"vms\",\"start\":\"10.99.0.100\",\"end\":\"10.99.0.199\"}],"
        "\"vlan\":7,\"vmSwitchName\":\"vmswitch\"}}", 0, NULL);
    CHECK(l && json_equal(l, want));
    json_decref(l);
    json_decref(want);
    o.vlan = -1;
    o.vm_switch = NULL;
    l = cn_fleetcli_lnet(&o, &err);
    CHECK(l && !json_object_get(json_object_get(l, "spec"), "vlan"));
    json_decref(l);
    o.gateway = NULL;
    CHECK(cn_fleetcli_lnet(&o, &err) == NULL);
    CHECK_STR(err.message, "--gateway is required");
    cn_err_clear(&err);
    json_decref(dns);
    dns = json_array();
    o.gateway = "10.99.0.1";
    o.dns = dns;
    CHECK(cn_fleetcli_lnet(&o, &err) == NULL);
    CHECK(err.message && strstr(err.message, "--dns-servers is required"));
    cn_err_clear(&err);
    json_decref(dns);
}

static char *render_table(const char *rows_json)
{
    json_t *rows = json_loads(rows_json, 0, NULL);
    cn_buf b;
    cn_buf_init(&b);
    cn_fleetcli_table(&b, rows);
    json_decref(rows);
    return cn_buf_detach(&b, NULL);
}

static void test_table(void)
{
    char *s = render_table("[[\"NAME\",\"STATE\",\"NODES\"],[\"c1\",\"Provisioning\",\"2/6\"],[\"cluster2\",\"\",3]]");
    CHECK_STR(s, "NAME       STATE          NODES\n"
                 "c1         Provisioning   2/6\n"
                 "cluster2                  3\n");
    free(s);
    s = render_table("[]");
    CHECK_STR(s, "");
    free(s);
    /* A short row leaves its last cells empty, with no trailing blanks. */
    s = render_table("[[\"A\",\"B\"],[\"x\"]]");
    CHECK_STR(s, "A   B\nx\n");
    free(s);
}

static void test_ip_plan_render(void)
{
    json_t *rep = json_loads(
        "{\"cluster\":\"c2\",\"logicalNetwork\":\"lnet1\",\"endpoint\":\"10.99.0.100\","
        "\"pools\":[{\"name\":\"vms\",\"size\":100,\"usedByOthers\":7,\"nodes\":6,\"surge\":1,\"endpoint\":1,\"freeAfter\":85}],"
        "\"loadBalancerPools\":[{\"start\":\"10.99.0.60\",\"end\":\"10.99.0.69\"}],"
        "\"cidrs\":{\"podCidr\":\"10.244.0.0/16\",\"service\":\"10.96.0.0/12\"},\"dns\":[\"10.99.0.1\"],"
        "\"ipsNeeded\":9}", 0, NULL);
    cn_buf b;
    cn_buf_init(&b);
    cn_fleetcli_ip_plan_render(&b, rep);
    CHECK_STR(b.data, "Cluster: c2\n"
                      "Logical network: lnet1\n"
                      "Endpoint: 10.99.0.100\n"
                      "DNS: 10.99.0.1\n"
                      "IPs needed: 9\n"
                      "CIDRs:\n"
                      "  Pod CIDR: 10.244.0.0/16\n"
                      "  Service: 10.96.0.0/12\n"
                      "\n"
                      "Pools:\n"
                      "NAME   SIZE   USED BY OTHERS   NODES   SURGE   ENDPOINT   FREE AFTER\n"
                      "vms    100    7                6       1       1          85\n"
                      "\n"
                      "Load balancer pools:\n"
                      "START        END\n"
                      "10.99.0.60   10.99.0.69\n");
    cn_buf_release(&b);
    json_decref(rep);
}

static void test_age(void)
{
    char s[24];
    cn_fleetcli_age(-5, s);
    CHECK_STR(s, "0s");
    cn_fleetcli_age(119, s);
    CHECK_STR(s, "119s");
    cn_fleetcli_age(120, s);
    CHECK_STR(s, "2m");
    cn_fleetcli_age(3 * 3600, s);
    CHECK_STR(s, "3h");
    cn_fleetcli_age(5 * 86400 + 7, s);
    CHECK_STR(s, "5d");
}

int main(void)
{
    TEST_RUN(test_cluster_minimal);
    TEST_RUN(test_cluster_full);
    TEST_RUN(test_cluster_refusals);
    TEST_RUN(test_split_and_empty);
    TEST_RUN(test_lnet);
    TEST_RUN(test_table);
    TEST_RUN(test_ip_plan_render);
    TEST_RUN(test_age);
    return TEST_DONE();
}
