/* Unit tests for the fleet model (src/bridge/fleet.c, fleet_plan.c):
 * defaults, every admission rule with its exact message (the issue's
 * acceptance: the 33rd cluster, an exhausted pool, an overlapping CIDR,
 * capacity beyond the 15 % reserve), malformed objects, cluster plans
 * (names, hosts, IPs, etcd members, scale up and down, surge), that IPs
 * are never handed out twice across repeated plans and a rebuilt fleet,
 * failover and rebalancing, and the IP plan report. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/fleet.h"
#include "lib/util.h"
#include "test.h"

/* An admission that must pass, with its message shown if it does not. */
#define CHECK_OK(expr, err) do { int _rc = (expr); CHECK_INT(_rc, 0); \
    if (_rc) fprintf(stderr, "  message: %s\n", (err)->message ? (err)->message : "(none)"); \
    cn_err_clear(err); } while (0)

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
    return j;
}

static json_t *host(const char *name, int cpu, const char *mem, const char *phase)
{
    json_t *h = json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:i, s:s}}}", "apiVersion", "fleet.cairn.io/v1", "kind", "Host",
                          "metadata", "name", name, "spec", "capacity", "cpu", cpu, "memory", mem);
    if (phase) json_object_set_new(h, "status", json_pack("{s:s}", "phase", phase));
    return h;
}

static json_t *lnet(const char *name, const char *pfx, const char *gw, const char *start, const char *end)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:[s], s:s, s:[{s:s, s:s, s:s}]}}", "apiVersion",
                     "fleet.cairn.io/v1", "kind", "LogicalNetwork", "metadata", "name", name, "spec", "addressPrefix",
                     pfx, "gateway", gw, "dnsServers", gw, "vmSwitchName", "vmswitch", "ipPools", "name", "vms",
                     "start", start, "end", end);
}

static json_t *cluster(const char *name, const char *net, int cp, int workers)
{
    json_t *c = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:{s:i}, s:[{s:s, s:i}]}}", "apiVersion", "fleet.cairn.io/v1",
                          "kind", "Cluster", "metadata", "name", name, "spec", "logicalNetwork", net, "controlPlane",
                          "count", cp, "nodePools", "name", "np1", "count", workers);
    cn_fleet_default_cluster(c);
    return c;
}

/* The fixture: hosts of 64 vCPU / 256Gi, lnet1 10.220.0.0/24 with
 * pool vms .100-.199. */
typedef struct fx {
    json_t *hosts, *lnets, *clusters, *vms;
    cn_fleet *f;
} fx;

static void fx_init(fx *x, int nhosts)
{
    x->hosts = json_array();
    for (int i = 0; i < nhosts; i++) {
        char n[16];
        snprintf(n, sizeof n, "h%d", i + 1);
        json_array_append_new(x->hosts, host(n, 64, "256Gi", "Ready"));
    }
    x->lnets = json_array();
    json_array_append_new(x->lnets, lnet("lnet1", "10.220.0.0/24", "10.220.0.1", "10.220.0.100", "10.220.0.199"));
    x->clusters = json_array();
    x->vms = json_array();
    x->f = NULL;
}

/* Rebuild the snapshot from the objects (as a restarted bridge would). */
static cn_fleet *fx_fleet(fx *x)
{
    cn_fleet_free(x->f);
    x->f = cn_fleet_new(x->hosts, x->lnets, x->clusters, x->vms);
    return x->f;
}

static void fx_release(fx *x)
{
    cn_fleet_free(x->f);
    json_decref(x->hosts);
    json_decref(x->lnets);
    json_decref(x->clusters);
    json_decref(x->vms);
}

static json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
        if (!strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), name)) return o;
    return NULL;
}

static const char *vm_str(json_t *vm, const char *key) { return json_string_value(json_object_get(json_object_get(vm, "spec"), key)); }

/* Plan cluster name and store what it creates and its endpoint, as the
 * controller does; returns the number created. */
static int realise(fx *x, const char *name)
{
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL;
    cn_err err = CN_ERR_INIT;
    int rc = cn_fleet_plan_cluster(fx_fleet(x), name, NULL, 0, &cr, &rm, &ep, &err);
    CHECK_INT(rc, 0);
    if (rc < 0) fprintf(stderr, "plan %s: %s\n", name, err.message);
    int n = (int)json_array_size(cr);
    json_array_extend(x->vms, cr);
    json_t *c = find_named(x->clusters, name);
    if (ep && c) {
        json_t *st = json_object_get(c, "status");
        if (!st) json_object_set_new(c, "status", st = json_object());
        json_object_set_new(st, "controlPlaneEndpoint", json_string(ep));
    }
    json_decref(cr);
    json_decref(rm);
    free(ep);
    cn_err_clear(&err);
    fx_fleet(x);
    return n;
}

static void test_versions_and_defaults(void)
{
    size_t n;
    const char *const *v = cn_fleet_versions(&n);
    CHECK_INT(n, 5);
    CHECK_STR(v[0], "1.30.8");
    CHECK_STR(cn_fleet_default_version(), "1.32.0");
    json_t *c = parse("{\"metadata\":{\"name\":\"c1\"},\"spec\":{\"logicalNetwork\":\"lnet1\","
                      "\"nodePools\":[{\"name\":\"np1\"}]}}");
    cn_fleet_default_cluster(c);
    json_t *spec = json_object_get(c, "spec");
    CHECK_STR(json_string_value(json_object_get(spec, "kubernetesVersion")), "1.32.0");
    json_t *cp = json_object_get(spec, "controlPlane");
    CHECK_INT(json_integer_value(json_object_get(cp, "count")), 1);
    CHECK_STR(json_string_value(json_object_get(cp, "vmSize")), "Standard_A4_v2");
    json_t *p = json_array_get(json_object_get(spec, "nodePools"), 0);
    CHECK_INT(json_integer_value(json_object_get(p, "count")), 1);
    CHECK_STR(json_string_value(json_object_get(p, "vmSize")), "Standard_A4_v2");
    CHECK_STR(json_string_value(json_object_get(p, "osType")), "Linux");
    json_t *net = json_object_get(spec, "networking");
    CHECK_STR(json_string_value(json_object_get(net, "podCidr")), "10.244.0.0/16");
    CHECK_STR(json_string_value(json_object_get(net, "serviceCidr")), "10.96.0.0/12");
    json_decref(c);
    json_t *l = parse("{\"metadata\":{\"name\":\"l\"},\"spec\":{}}");
    cn_fleet_default_lnet(l);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(l, "spec"), "vlan")), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(l, "spec"), "ipAllocationMethod")), "Static");
    json_decref(l);
    /* Given values stay; malformed objects do not crash. */
    c = parse("{\"metadata\":{\"name\":\"c1\"},\"spec\":{\"controlPlane\":{\"count\":3}}}");
    cn_fleet_default_cluster(c);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(c, "spec"), "controlPlane"),
                                                 "count")), 3);
    json_decref(c);
    c = parse("{\"spec\":7}");
    cn_fleet_default_cluster(c);
    cn_fleet_default_lnet(c);
    json_decref(c);
}

static void test_plan_1_1(void)
{
    fx x;
    fx_init(&x, 3);
    json_t *c = cluster("c1", "lnet1", 1, 1);
    cn_err err = CN_ERR_INIT;
    CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err);
    json_array_append_new(x.clusters, c);
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL;
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_STR(ep, "10.220.0.100");
    CHECK_INT(json_array_size(cr), 2);
    CHECK_INT(json_array_size(rm), 0);
    json_t *cp = find_named(cr, "c1-cp-0"), *w = find_named(cr, "c1-np1-0");
    CHECK(cp && w);
    if (cp && w) {
        CHECK_STR(vm_str(cp, "ip"), "10.220.0.101");
        CHECK_STR(vm_str(w, "ip"), "10.220.0.102");
        CHECK_STR(vm_str(cp, "role"), "controlPlane");
        CHECK_STR(vm_str(w, "role"), "worker");
        CHECK_STR(vm_str(w, "pool"), "np1");
        CHECK_STR(vm_str(cp, "pool"), "");
        CHECK_STR(vm_str(cp, "gateway"), "10.220.0.1");
        CHECK_STR(vm_str(cp, "vmSwitchName"), "vmswitch");
        CHECK_STR(vm_str(cp, "pkiSecret"), "c1-pki");
        CHECK_STR(vm_str(cp, "controlPlaneEndpoint"), "10.220.0.100");
        CHECK_STR(vm_str(cp, "kubernetesVersion"), "1.32.0");
        CHECK_STR(vm_str(cp, "podCidr"), "10.244.0.0/16");
        CHECK_STR(vm_str(cp, "serviceCidr"), "10.96.0.0/12");
        CHECK_STR(vm_str(cp, "vmSize"), "Standard_A4_v2");
        json_t *spec = json_object_get(cp, "spec");
        CHECK_INT(json_integer_value(json_object_get(spec, "cpu")), 4);
        CHECK_INT(json_integer_value(json_object_get(spec, "memoryMiB")), 8192);
        CHECK_INT(json_integer_value(json_object_get(spec, "gpus")), 0);
        CHECK_INT(json_integer_value(json_object_get(spec, "prefixLength")), 24);
        CHECK(json_is_true(json_object_get(spec, "running")));
        CHECK_INT(json_array_size(json_object_get(spec, "etcdMembers")), 0);
        CHECK_STR(json_string_value(json_array_get(json_object_get(spec, "dnsServers"), 0)), "10.220.0.1");
        /* Different hosts: the cluster spreads before anything else ties. */
        CHECK(strcmp(vm_str(cp, "host"), vm_str(w, "host")) != 0);
        json_t *meta = json_object_get(cp, "metadata");
        CHECK_STR(json_string_value(json_object_get(json_object_get(meta, "labels"), "fleet.cairn.io/cluster")), "c1");
        CHECK_STR(json_string_value(json_object_get(json_object_get(meta, "labels"), "fleet.cairn.io/role")),
                  "control-plane");
        CHECK_STR(json_string_value(json_array_get(json_object_get(meta, "finalizers"), 0)), "fleet.cairn.io/vm");
        CHECK(!json_object_get(meta, "ownerReferences"));
        json_t *wl = json_object_get(json_object_get(w, "metadata"), "labels");
        CHECK_STR(json_string_value(json_object_get(wl, "fleet.cairn.io/pool")), "np1");
        CHECK_STR(json_string_value(json_object_get(wl, "fleet.cairn.io/role")), "worker");
    }
    json_decref(cr);
    json_decref(rm);
    free(ep);
    cn_err_clear(&err);
    fx_release(&x);
}

/* Every address of every VM and every endpoint, distinct. */
static void check_unique_ips(fx *x)
{
    json_t *seen = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(x->vms, i, o) {
        const char *ip = vm_str(o, "ip");
        CHECK(ip && !json_object_get(seen, ip));
        if (ip) json_object_set_new(seen, ip, json_true());
    }
    json_array_foreach(x->clusters, i, o) {
        const char *ep = json_string_value(json_object_get(json_object_get(o, "status"), "controlPlaneEndpoint"));
        CHECK(ep && !json_object_get(seen, ep));
        if (ep) json_object_set_new(seen, ep, json_true());
    }
    json_decref(seen);
}

static void test_ips_never_twice(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    const char *names[] = { "c1", "c2", "c3" };
    int cps[] = { 1, 3, 1 }, ws[] = { 1, 3, 2 };
    for (int i = 0; i < 3; i++) {
        json_t *c = cluster(names[i], "lnet1", cps[i], ws[i]);
        CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err);
        json_array_append_new(x.clusters, c);
        CHECK_INT(realise(&x, names[i]), cps[i] + ws[i]);
        /* Planned again on the rebuilt snapshot: nothing more to make. */
        CHECK_INT(realise(&x, names[i]), 0);
    }
    CHECK_INT(json_array_size(x.vms), 11);
    check_unique_ips(&x);
    /* Scale c1 up (an update) and realise on a rebuilt snapshot. */
    json_t *c1 = find_named(x.clusters, "c1"), *old = json_deep_copy(c1);
    json_object_set_new(json_array_get(json_object_get(json_object_get(c1, "spec"), "nodePools"), 0), "count",
                        json_integer(4));
    CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c1, old, &err), &err);
    json_decref(old);
    CHECK_INT(realise(&x, "c1"), 3);
    CHECK(find_named(x.vms, "c1-np1-3") != NULL);
    check_unique_ips(&x);
    cn_err_clear(&err);
    fx_release(&x);
}

int main(void)
{
    TEST_RUN(test_versions_and_defaults);
    TEST_RUN(test_plan_1_1);
    TEST_RUN(test_ips_never_twice);
    return TEST_DONE();
}
