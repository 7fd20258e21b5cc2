/* Unit tests for the bridge's IP planning (src/bridge/ipplan.c): logical
 * network validation, cluster network rules, the pool arithmetic of the
 * AKS Arc worked example (shared/reference/aks-arc-facts.md §2.1), and that
 * allocation never hands out an address twice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/ipplan.h"
#include "lib/cidr.h"
#include "test.h"

static uint32_t ip(const char *s)
{
    uint32_t v = 0;
    cn_ip4_parse(s, &v);
    return v;
}

static cn_ip_range range(const char *a, const char *b) { return (cn_ip_range){ ip(a), ip(b) }; }

static cn_cluster_net cluster(const char *name)
{
    return (cn_cluster_net){ .name = name, .pod_net = ip("10.244.0.0"), .pod_prefix = 16,
                             .svc_net = ip("10.96.0.0"), .svc_prefix = 12 };
}

static void test_lnet(void)
{
    cn_ip_range pools[2] = { range("10.220.32.18", "10.220.32.37"), range("10.220.32.100", "10.220.32.120") };
    cn_lnet n = { .name = "lnet1", .net = ip("10.220.32.0"), .prefix = 24, .gateway = ip("10.220.32.1"),
                  .pools = pools, .npools = 2 };
    cn_err err = CN_ERR_INIT;
    CHECK(cn_lnet_check(&n, &err) == 0);
    pools[1] = range("10.220.33.1", "10.220.33.9");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK_STR(err.message, "logical network \"lnet1\": IP pool 10.220.33.1-10.220.33.9 lies outside the address prefix 10.220.32.0/24");
    CHECK_INT(err.code, 422);
    cn_err_clear(&err);
    pools[1] = range("10.220.32.30", "10.220.32.40");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK_STR(err.message, "logical network \"lnet1\": IP pools 10.220.32.18-10.220.32.37 and 10.220.32.30-10.220.32.40 overlap");
    cn_err_clear(&err);
    pools[1] = range("10.220.32.40", "10.220.32.30");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK(strstr(err.message, "the start is after the end") != NULL);
    cn_err_clear(&err);
    n.npools = 1;
    n.gateway = ip("10.220.32.20");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK_STR(err.message, "logical network \"lnet1\": the gateway 10.220.32.20 is inside IP pool 10.220.32.18-10.220.32.37");
    cn_err_clear(&err);
    n.gateway = ip("10.220.33.1");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK(strstr(err.message, "is not a host address of 10.220.32.0/24") != NULL);
    cn_err_clear(&err);
    n.gateway = ip("10.220.32.1");
    pools[0] = range("10.220.32.0", "10.220.32.5");
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    CHECK(strstr(err.message, "network or broadcast") != NULL);
    cn_err_clear(&err);
    n.npools = 0;
    CHECK(cn_lnet_check(&n, &err) == -EINVAL);
    cn_err_clear(&err);
}

static void test_cluster_rules(void)
{
    cn_ip_range pool = range("10.220.32.18", "10.220.32.37");
    cn_lnet n = { .name = "lnet1", .net = ip("10.220.32.0"), .prefix = 24, .gateway = ip("10.220.32.1"),
                  .pools = &pool, .npools = 1 };
    cn_err err = CN_ERR_INIT;
    cn_cluster_net a = cluster("a");
    cn_ip_range lb = range("10.220.32.47", "10.220.32.49");
    a.lb = &lb;
    a.nlb = 1;
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == 0);
    a.cp_ip = ip("10.220.32.20");
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == -EINVAL);
    CHECK_STR(err.message, "cluster \"a\": control-plane IP 10.220.32.20 is inside an IP pool of logical network \"lnet1\"; it must be outside every pool");
    cn_err_clear(&err);
    a.cp_ip = ip("10.220.32.10");
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == 0);
    cn_ip_range bad_lb = range("10.220.32.30", "10.220.32.50");
    a.lb = &bad_lb;
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == -EINVAL);
    CHECK(strstr(err.message, "overlaps IP pool 10.220.32.18-10.220.32.37") != NULL);
    cn_err_clear(&err);
    a.lb = &lb;
    a.pod_net = ip("10.96.0.0");
    a.pod_prefix = 16;
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == -EINVAL);
    CHECK_STR(err.message, "cluster \"a\": pod CIDR 10.96.0.0/16 overlaps service CIDR 10.96.0.0/12");
    cn_err_clear(&err);
    a.pod_net = ip("10.220.0.0");
    CHECK(cn_ipplan_check_cluster(&n, &a, NULL, 0, &err) == -EINVAL);
    CHECK_STR(err.message, "cluster \"a\": pod CIDR 10.220.0.0/16 overlaps the address prefix 10.220.32.0/24 of logical network \"lnet1\"");
    cn_err_clear(&err);
    a.pod_net = ip("10.244.0.0");
    /* Across clusters: control-plane IPs and LB ranges are exclusive. */
    cn_cluster_net b = cluster("b");
    b.cp_ip = ip("10.220.32.10");
    CHECK(cn_ipplan_check_cluster(&n, &b, &a, 1, &err) == -EEXIST);
    CHECK_STR(err.message, "cluster \"b\": control-plane IP 10.220.32.10 is cluster \"a\"'s");
    CHECK_INT(err.code, 409);
    cn_err_clear(&err);
    b.cp_ip = ip("10.220.32.11");
    cn_ip_range lb2 = range("10.220.32.49", "10.220.32.52");
    b.lb = &lb2;
    b.nlb = 1;
    CHECK(cn_ipplan_check_cluster(&n, &b, &a, 1, &err) == -EEXIST);
    CHECK_STR(err.message, "cluster \"b\": load-balancer range 10.220.32.49-10.220.32.52 overlaps 10.220.32.47-10.220.32.49 of cluster \"a\"");
    cn_err_clear(&err);
    lb2 = range("10.220.32.50", "10.220.32.52");
    CHECK(cn_ipplan_check_cluster(&n, &b, &a, 1, &err) == 0);
    /* Pod CIDRs may repeat across clusters (each has its own network). */
    cn_err_clear(&err);
}

static void test_worked_example(void)
{
    /* Pool .18-.37 (20 addresses); A = 3 CP + 5 workers, B = 1 + 3. */
    cn_ip_range pool = range("10.220.32.18", "10.220.32.37");
    cn_lnet n = { .name = "lnet1", .net = ip("10.220.32.0"), .prefix = 24, .gateway = ip("10.220.32.1"),
                  .pools = &pool, .npools = 1 };
    cn_cluster_net a = cluster("a"), b = cluster("b"), c = cluster("c"), d = cluster("d");
    CHECK_INT(cn_ipplan_pool_need(8, &a), 10);
    CHECK_INT(cn_ipplan_pool_need(4, &b), 6);
    uint32_t used[64], out[64];
    size_t nused = 0;
    cn_err err = CN_ERR_INIT;
    CHECK(cn_ipplan_allocate(&n, used, nused, cn_ipplan_pool_need(8, &a), out, &err) == 0);
    CHECK_INT(out[0], ip("10.220.32.18"));
    for (size_t i = 0; i < 10; i++) used[nused++] = out[i];
    CHECK(cn_ipplan_allocate(&n, used, nused, cn_ipplan_pool_need(4, &b), out, &err) == 0);
    CHECK_INT(out[0], ip("10.220.32.28"));
    for (size_t i = 0; i < 6; i++) used[nused++] = out[i];
    /* A third 1+1 cluster needs 4: 20 of 20. */
    CHECK(cn_ipplan_allocate(&n, used, nused, cn_ipplan_pool_need(2, &c), out, &err) == 0);
    for (size_t i = 0; i < 4; i++) used[nused++] = out[i];
    /* A fourth is refused, with the shortfall. */
    CHECK(cn_ipplan_allocate(&n, used, nused, cn_ipplan_pool_need(2, &d), out, &err) == -ENOSPC);
    CHECK_STR(err.message, "logical network \"lnet1\": 4 IPs needed, only 0 free in its pools (4 short)");
    cn_err_clear(&err);
    /* With its own control-plane IP (outside the pool) a cluster needs one fewer. */
    d.cp_ip = ip("10.220.32.10");
    CHECK_INT(cn_ipplan_pool_need(2, &d), 3);
    /* Releasing B's IPs makes room again. */
    nused -= 10;
    memmove(used + 10, used + 16, 4 * sizeof *used);
    CHECK(cn_ipplan_allocate(&n, used, nused, 6, out, &err) == 0);
    CHECK_INT(out[0], ip("10.220.32.28"));
    cn_err_clear(&err);
}

static void test_never_twice(void)
{
    cn_ip_range pools[2] = { range("10.0.0.200", "10.0.0.209"), range("10.0.0.10", "10.0.0.19") };
    cn_lnet n = { .name = "l", .net = ip("10.0.0.0"), .prefix = 24, .gateway = ip("10.0.0.1"), .pools = pools, .npools = 2 };
    uint32_t used[20], out[20];
    size_t nused = 0;
    cn_err err = CN_ERR_INIT;
    unsigned seed = 7;
    while (nused < 20) {
        seed = seed * 1103515245u + 12345u;
        size_t want = 1 + (seed >> 16) % 3;
        if (want > 20 - nused) want = 20 - nused;
        CHECK(cn_ipplan_allocate(&n, used, nused, want, out, &err) == 0);
        for (size_t i = 0; i < want; i++) {
            for (size_t j = 0; j < nused; j++) CHECK(used[j] != out[i]);
            CHECK((out[i] >= pools[0].start && out[i] <= pools[0].end) || (out[i] >= pools[1].start && out[i] <= pools[1].end));
            used[nused++] = out[i];
        }
    }
    /* Lowest first across pools given out of order. */
    CHECK_INT(used[0], ip("10.0.0.10"));
    CHECK(cn_ipplan_allocate(&n, used, nused, 1, out, &err) == -ENOSPC);
    cn_err_clear(&err);
}

int main(void)
{
    TEST_RUN(test_lnet);
    TEST_RUN(test_cluster_rules);
    TEST_RUN(test_worked_example);
    TEST_RUN(test_never_twice);
    return TEST_DONE();
}
