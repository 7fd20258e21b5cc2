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

static const char *name_of(json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
}

static json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
        if (!strcmp(name_of(o), name)) return o;
    return NULL;
}

static const char *vm_str(json_t *vm, const char *key)
{
    return json_string_value(json_object_get(json_object_get(vm, "spec"), key));
}

/* Release what a plan returned. */
static void plan_clear(json_t **cr, json_t **rm, char **ep)
{
    json_decref(*cr);
    json_decref(*rm);
    free(*ep);
    *cr = *rm = NULL;
    *ep = NULL;
}

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
    plan_clear(&cr, &rm, &ep);
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
    plan_clear(&cr, &rm, &ep);
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


/* Admission must refuse with exactly this code and message. */
#define CHECK_REFUSED(expr, err, want_code, msg) do { int _rc = (expr); CHECK(_rc < 0); \
    CHECK_INT((err)->code, want_code); \
    CHECK_STR((err)->message, msg); cn_err_clear(err); } while (0)

static void set_path(json_t *o, const char *a, const char *b, json_t *v)
{
    json_t *x = json_object_get(o, a);
    if (!x) json_object_set_new(o, a, x = json_object());
    if (b) json_object_set_new(x, b, v);
    else json_object_set_new(o, a, v);
}

static void set_host_phase(fx *x, const char *h, const char *phase);

static json_t *pool0(json_t *c) { return json_array_get(json_object_get(json_object_get(c, "spec"), "nodePools"), 0); }

static void test_admit_host(void)
{
    fx x;
    fx_init(&x, 15);
    cn_err err = CN_ERR_INIT;
    json_t *h = host("h16", 8, "32Gi", NULL);
    CHECK_OK(cn_fleet_admit_host(fx_fleet(&x), h, NULL, &err), &err);
    json_array_append(x.hosts, h);
    json_t *h17 = host("h17", 8, "32Gi", NULL);
    CHECK_REFUSED(cn_fleet_admit_host(fx_fleet(&x), h17, NULL, &err), &err, 409,
                  "the fleet has 16 hosts, the most it may have: host \"h17\" cannot join (remove a host first)");
    /* An update of one of the 16 is fine. */
    CHECK_OK(cn_fleet_admit_host(x.f, h, h, &err), &err);
    json_decref(h);
    json_decref(h17);
    h = host("Bad_Name", 8, "32Gi", NULL);
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422,
                  "metadata.name: \"Bad_Name\": a host name must be a lowercase DNS label of 1 to 63 characters "
                  "(a-z, 0-9, '-'; starting and ending with a letter or digit)");
    json_decref(h);
    h = host("hx", 0, "32Gi", NULL);
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422,
                  "spec.capacity.cpu: must be a whole number of vCPUs, at least 1");
    json_decref(h);
    h = host("hx", 8, "lots", NULL);
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422,
                  "spec.capacity.memory: must be a quantity like 128Gi");
    json_decref(h);
    h = parse("{\"metadata\":{\"name\":\"hx\"},\"spec\":{}}");
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422, "spec.capacity: is required (cpu, memory)");
    json_decref(h);
    h = parse("{\"metadata\":{\"name\":\"hx\"},\"spec\":{\"capacity\":{\"cpu\":\"8\",\"memory\":\"1Gi\"}}}");
    CHECK_OK(cn_fleet_admit_host(x.f, h, h, &err), &err);   /* a quantity string is fine */
    json_decref(h);
    h = parse("{\"metadata\":{\"name\":\"hx\"},\"spec\":{\"capacity\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}");
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422,
                  "spec.capacity.cpu: must be a whole number of vCPUs, at least 1");
    json_decref(h);
    h = parse("[1]");
    CHECK_REFUSED(cn_fleet_admit_host(x.f, h, NULL, &err), &err, 422, "object: must be a JSON object");
    json_decref(h);
    fx_release(&x);
}

static json_t *lnet_spec(json_t *l) { return json_object_get(l, "spec"); }

static void test_admit_lnet(void)
{
    fx x;
    fx_init(&x, 1);
    cn_err err = CN_ERR_INIT;
    json_t *l = lnet("lnet2", "10.221.0.0/24", "10.221.0.1", "10.221.0.10", "10.221.0.20");
    cn_fleet_default_lnet(l);
    CHECK_OK(cn_fleet_admit_lnet(fx_fleet(&x), l, NULL, &err), &err);
    json_object_set_new(lnet_spec(l), "ipAllocationMethod", json_string("Dynamic"));
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "spec.ipAllocationMethod: \"Dynamic\": AKS Arc supports Static only");
    json_object_set_new(lnet_spec(l), "ipAllocationMethod", json_string("Static"));
    json_object_del(lnet_spec(l), "dnsServers");
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "spec.dnsServers: at least one DNS server is required (AKS Arc needs them)");
    json_object_set_new(lnet_spec(l), "dnsServers", json_pack("[s]", "10.221.0.1"));
    json_object_del(lnet_spec(l), "vmSwitchName");
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "spec.vmSwitchName: is required (the switch VM NICs join on every host)");
    json_object_set_new(lnet_spec(l), "vmSwitchName", json_string("vmswitch"));
    json_t *pools = json_deep_copy(json_object_get(lnet_spec(l), "ipPools"));
    json_object_set_new(lnet_spec(l), "ipPools", json_array());
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "spec.ipPools: at least one static IP pool is required");
    json_object_set_new(lnet_spec(l), "ipPools", pools);
    json_object_set_new(lnet_spec(l), "gateway", json_string("10.221.0.15"));
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "logical network \"lnet2\": the gateway 10.221.0.15 is inside IP pool 10.221.0.10-10.221.0.20");
    json_object_set_new(lnet_spec(l), "gateway", json_string("10.221.0.1"));
    json_object_set_new(lnet_spec(l), "vlan", json_string("ten"));
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 422,
                  "spec.vlan: must be a VLAN id from 0 (none) to 4094");
    json_decref(l);
    /* Pools may not overlap another network's on the same VLAN. */
    l = lnet("lnet2", "10.220.0.0/16", "10.220.9.1", "10.220.0.150", "10.220.0.160");
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err, 409,
                  "logical network \"lnet2\": IP pool vms (10.220.0.150-10.220.0.160) overlaps pool vms "
                  "(10.220.0.100-10.220.0.199) of logical network \"lnet1\" on VLAN 0");
    json_object_set_new(lnet_spec(l), "vlan", json_integer(20));
    CHECK_OK(cn_fleet_admit_lnet(x.f, l, NULL, &err), &err);
    json_decref(l);
    /* In use: only appended pools. */
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 1));
    json_t *old = json_deep_copy(json_array_get(x.lnets, 0));
    cn_fleet_default_lnet(old);
    l = json_deep_copy(old);
    json_array_append_new(json_object_get(lnet_spec(l), "ipPools"),
                          json_pack("{s:s, s:s, s:s}", "name", "more", "start", "10.220.0.200", "end", "10.220.0.210"));
    CHECK_OK(cn_fleet_admit_lnet(fx_fleet(&x), l, old, &err), &err);
    json_object_set_new(lnet_spec(l), "gateway", json_string("10.220.0.2"));
    CHECK_REFUSED(cn_fleet_admit_lnet(x.f, l, old, &err), &err, 409,
                  "logical network \"lnet1\" is used by cluster \"c1\": while clusters use it, only new IP pools may "
                  "be appended to it");
    /* Metadata only: fine. */
    json_decref(l);
    l = json_deep_copy(old);
    set_path(l, "metadata", "labels", json_pack("{s:s}", "a", "b"));
    CHECK_OK(cn_fleet_admit_lnet(x.f, l, old, &err), &err);
    json_decref(l);
    json_decref(old);
    CHECK_REFUSED(cn_fleet_admit_delete(x.f, "LogicalNetwork", "lnet1", &err), &err, 409,
                  "logical network \"lnet1\" is used by cluster \"c1\": delete the cluster first");
    CHECK_OK(cn_fleet_admit_delete(x.f, "LogicalNetwork", "lnet9", &err), &err);
    fx_release(&x);
}

static void test_delete_host(void)
{
    fx x;
    fx_init(&x, 2);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 1));
    realise(&x, "c1");
    CHECK_REFUSED(cn_fleet_admit_delete(x.f, "Host", "h1", &err), &err, 409,
                  "host \"h1\" still has 1 VM placed on it (c1-cp-0): move them away first (set spec.maintenance: "
                  "true to drain it)");
    json_array_append_new(x.hosts, host("h3", 8, "32Gi", NULL));
    CHECK_OK(cn_fleet_admit_delete(fx_fleet(&x), "Host", "h3", &err), &err);
    CHECK_OK(cn_fleet_admit_delete(x.f, "Cluster", "c1", &err), &err);
    CHECK(cn_fleet_admit_delete(x.f, "hosts", "h2", &err) == -ENOSPC);   /* the plural works too */
    CHECK(strstr(err.message, "host \"h2\" still has 1 VM placed on it (c1-np1-0)") != NULL);
    cn_err_clear(&err);
    fx_release(&x);
}

static void test_admit_cluster_fields(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    cn_fleet *f = fx_fleet(&x);
    json_t *c = cluster("c1", "lnet1", 1, 1);
    json_array_append_new(json_object_get(json_object_get(c, "spec"), "nodePools"),
                          json_pack("{s:s, s:s}", "name", "np2", "count", "three"));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec.nodePools[1].count: must be an integer between 1 and 64");
    json_object_set_new(json_array_get(json_object_get(json_object_get(c, "spec"), "nodePools"), 1), "count",
                        json_integer(65));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec.nodePools[1].count: must be an integer between 1 and 64");
    json_decref(c);
    c = cluster("C1", "lnet1", 1, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "metadata.name: \"C1\": a cluster name must be a lowercase DNS label of 1 to 40 characters (a-z, "
                  "0-9, '-'; starting and ending with a letter or digit) (its VM names append -cp-N and -<pool>-N)");
    json_decref(c);
    c = cluster("a-very-long-cluster-name-of-41-characters", "lnet1", 1, 1);
    CHECK(cn_fleet_admit_cluster(f, c, NULL, &err) == -EINVAL);
    CHECK(strstr(err.message, "1 to 40 characters") != NULL);
    cn_err_clear(&err);
    json_decref(c);
    c = cluster("c1", "lnet9", 1, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec.logicalNetwork: logical network \"lnet9\" does not exist");
    json_decref(c);
    c = cluster("c1", "lnet1", 2, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422, "spec.controlPlane.count: must be 1, 3 or 5");
    json_decref(c);
    c = cluster("c1", "lnet1", 1, 1);
    set_path(c, "spec", "kubernetesVersion", json_string("1.29.0"));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec.kubernetesVersion: \"1.29.0\" is not supported (supported: 1.30.8, 1.30.9, 1.31.4, "
                  "1.31.5, 1.32.0)");
    set_path(c, "spec", "kubernetesVersion", json_string("1.30.9"));
    json_object_set_new(pool0(c), "osType", json_string("Windows"));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec: nodePools[0]: pool \"np1\": Windows node pools are not supported here (cairn runs Linux "
                  "nodes only)");
    json_object_set_new(pool0(c), "osType", json_string("Linux"));
    set_path(c, "spec", "logicalNetwork", json_integer(3));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422, "spec.logicalNetwork: must be a string");
    set_path(c, "spec", "logicalNetwork", json_string("lnet1"));
    set_path(c, "spec", "networking", json_string("none"));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422, "spec.networking: must be an object");
    json_object_del(json_object_get(c, "spec"), "networking");
    set_path(c, "spec", "nodePools", json_object());
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422,
                  "spec.nodePools: must be a list of 1 to 16 node pools");
    json_object_set_new(c, "spec", json_string("x"));
    CHECK_REFUSED(cn_fleet_admit_cluster(f, c, NULL, &err), &err, 422, "spec: must be an object");
    json_decref(c);
    fx_release(&x);
}

/* The acceptance's four refusals, with their exact messages. */
static void test_acceptance_refusals(void)
{
    fx x;
    fx_init(&x, 16);
    cn_err err = CN_ERR_INIT;
    /* 33rd cluster: 32 admitted (not yet realised) on a /16. */
    json_array_clear(x.lnets);
    json_array_append_new(x.lnets, lnet("lnet1", "10.220.0.0/16", "10.220.0.1", "10.220.1.0", "10.220.3.255"));
    for (int i = 0; i < 32; i++) {
        char n[16];
        snprintf(n, sizeof n, "c%d", i + 1);
        json_t *c = cluster(n, "lnet1", 1, 1);
        if (i % 8 == 0) CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err);
        json_array_append_new(x.clusters, c);
    }
    json_t *c = cluster("c33", "lnet1", 1, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 409,
                  "the fleet already has 32 clusters; at most 32 are supported");
    json_decref(c);
    fx_release(&x);

    /* Exhausted pool: 10 IPs; c1 (1+3) takes 6 with surge and endpoint. */
    fx_init(&x, 3);
    json_array_clear(x.lnets);
    json_array_append_new(x.lnets, lnet("lnet1", "10.220.0.0/24", "10.220.0.1", "10.220.0.100", "10.220.0.109"));
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 3));
    c = cluster("c2", "lnet1", 1, 2);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 409,
                  "logical network \"lnet1\": cluster \"c2\" needs 5 IPs (3 node VMs, 1 upgrade surge, 1 control-plane "
                  "endpoint) and only 4 are free in its pool vms (10.220.0.100-10.220.0.109) (1 short)");
    /* With its endpoint given outside the pools it needs one fewer. */
    set_path(c, "spec", "controlPlane", json_pack("{s:i, s:s}", "count", 1, "endpoint", "10.220.0.50"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err);
    /* The same counted once realised: c1's VMs hold their IPs. */
    realise(&x, "c1");
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err);
    json_object_set_new(pool0(c), "count", json_integer(3));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err, 409,
                  "logical network \"lnet1\": cluster \"c2\" needs 5 IPs (4 node VMs, 1 upgrade surge) and only 4 "
                  "are free in its pool vms (10.220.0.100-10.220.0.109) (1 short)");
    json_decref(c);

    /* Overlapping CIDRs: both named, and what they belong to. */
    c = cluster("c3", "lnet1", 1, 1);
    set_path(c, "spec", "networking", json_pack("{s:s, s:s}", "podCidr", "10.220.0.0/16", "serviceCidr",
                                                "10.96.0.0/12"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err, 422,
                  "cluster \"c3\": pod CIDR 10.220.0.0/16 overlaps the address prefix 10.220.0.0/24 of logical "
                  "network \"lnet1\"");
    set_path(c, "spec", "networking", json_pack("{s:s, s:s}", "podCidr", "10.100.0.0/16", "serviceCidr",
                                                "10.96.0.0/12"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err, 422,
                  "cluster \"c3\": pod CIDR 10.100.0.0/16 overlaps service CIDR 10.96.0.0/12");
    json_decref(c);
    /* The default service CIDR 10.96.0.0/12 spans 10.96-10.111: a node
     * network in it is refused until the service CIDR moves. */
    json_array_append_new(x.lnets, lnet("lnet2", "10.99.0.0/24", "10.99.0.1", "10.99.0.100", "10.99.0.199"));
    c = cluster("c4", "lnet2", 1, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 422,
                  "cluster \"c4\": service CIDR 10.96.0.0/12 overlaps the address prefix 10.99.0.0/24 of logical "
                  "network \"lnet2\"");
    set_path(c, "spec", "networking", json_pack("{s:s}", "serviceCidr", "10.112.0.0/12"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err);
    json_decref(c);
    fx_release(&x);

    /* Capacity beyond the 15 % reserve: 3 x 64 vCPU keep 54 each, 108
     * with one lost; 1 + 27 A4 VMs need 112. */
    fx_init(&x, 3);
    c = cluster("c1", "lnet1", 1, 27);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 409,
                  "not enough capacity: the fleet's VMs need 112 vCPU, and only 108 remain with 15 % held back and "
                  "host \"h1\" lost (4 short)");
    json_object_set_new(pool0(c), "count", json_integer(26));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, NULL, &err), &err);
    json_array_append(x.clusters, c);
    json_decref(c);
    /* A second cluster sees the first's demand before it has any VM. */
    c = cluster("c2", "lnet1", 1, 1);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 409,
                  "not enough capacity: the fleet's VMs need 116 vCPU, and only 108 remain with 15 % held back and "
                  "host \"h1\" lost (8 short)");
    json_decref(c);
    /* c1 built; h3 lost: c1 may still scale down or change labels, not up. */
    realise(&x, "c1");
    set_host_phase(&x, "h3", "NotReady");
    json_t *old = json_deep_copy(find_named(x.clusters, "c1"));
    c = json_deep_copy(old);
    json_object_set_new(pool0(c), "labels", json_pack("{s:s}", "team", "web"));
    json_object_set_new(pool0(c), "count", json_integer(20));
    CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c, old, &err), &err);
    json_object_set_new(pool0(c), "count", json_integer(27));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 409,
                  "not enough capacity: the fleet's VMs need 112 vCPU, and only 54 remain with 15 % held back and "
                  "host \"h1\" lost (58 short)");
    json_decref(c);
    json_decref(old);
    fx_release(&x);
}

static void test_admit_update(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    json_t *c = cluster("c1", "lnet1", 1, 1);
    set_path(c, "spec", "kubernetesVersion", json_string("1.30.8"));
    json_array_append(x.clusters, c);
    realise(&x, "c1");
    json_t *old = json_deep_copy(find_named(x.clusters, "c1"));
    json_decref(c);
    c = json_deep_copy(old);
    /* Metadata or status only: no checks at all. */
    set_path(c, "metadata", "labels", json_pack("{s:s}", "x", "y"));
    set_path(c, "status", "provisioningState", json_string("Upgrading"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, old, &err), &err);
    /* Upgrades: one minor up, never down, only known versions. */
    set_path(c, "spec", "kubernetesVersion", json_string("1.31.5"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, old, &err), &err);
    set_path(c, "spec", "kubernetesVersion", json_string("1.30.9"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, old, &err), &err);
    set_path(c, "spec", "kubernetesVersion", json_string("1.32.0"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.kubernetesVersion: 1.30.8 -> 1.32.0: upgrades go one minor version at a time (upgrade to "
                  "1.31.x first)");
    json_t *old2 = json_deep_copy(old);
    set_path(old2, "spec", "kubernetesVersion", json_string("1.31.4"));
    set_path(c, "spec", "kubernetesVersion", json_string("1.30.9"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old2, &err), &err, 422,
                  "spec.kubernetesVersion: 1.31.4 -> 1.30.9: Kubernetes versions are never downgraded");
    set_path(c, "spec", "kubernetesVersion", json_string("1.31.9"));
    CHECK(cn_fleet_admit_cluster(x.f, c, old2, &err) == -EINVAL);
    CHECK(strstr(err.message, "\"1.31.9\" is not supported (supported: 1.30.8,") != NULL);
    cn_err_clear(&err);
    json_decref(old2);
    set_path(c, "spec", "kubernetesVersion", json_string("1.30.8"));
    /* One operation at a time. */
    old2 = json_deep_copy(old);
    set_path(old2, "status", "provisioningState", json_string("Upgrading"));
    json_object_set_new(pool0(c), "count", json_integer(2));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old2, &err), &err, 409,
                  "cluster \"c1\" has an operation in progress (Upgrading): one at a time");
    set_path(old2, "status", "provisioningState", json_string("Failed"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, old2, &err), &err);
    json_decref(old2);
    /* Immutable fields, each named. */
    set_path(c, "spec", "logicalNetwork", json_string("lnet2"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.logicalNetwork: cannot be changed after the cluster is created (was \"lnet1\", now \"lnet2\")");
    set_path(c, "spec", "logicalNetwork", json_string("lnet1"));
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "controlPlane"), "count", json_integer(3));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.controlPlane.count: the control plane's size cannot change after the cluster is created "
                  "(was 1, now 3)");
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "controlPlane"), "count", json_integer(1));
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "controlPlane"), "vmSize",
                        json_string("Standard_D4s_v3"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.controlPlane.vmSize: cannot be changed after the cluster is created (was \"Standard_A4_v2\", "
                  "now \"Standard_D4s_v3\")");
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "controlPlane"), "vmSize",
                        json_string("Standard_A4_v2"));
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "controlPlane"), "endpoint",
                        json_string("10.220.0.50"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.controlPlane.endpoint: cannot be changed after the cluster is created (was unset, now "
                  "\"10.220.0.50\")");
    json_object_del(json_object_get(json_object_get(c, "spec"), "controlPlane"), "endpoint");
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "networking"), "podCidr",
                        json_string("10.200.0.0/16"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.networking.podCidr: cannot be changed after the cluster is created (was \"10.244.0.0/16\", "
                  "now \"10.200.0.0/16\")");
    json_object_set_new(json_object_get(json_object_get(c, "spec"), "networking"), "podCidr",
                        json_string("10.244.0.0/16"));
    json_object_set_new(pool0(c), "vmSize", json_string("Standard_D8s_v3"));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec.nodePools[0].vmSize: cannot be changed after the cluster is created (was \"Standard_A4_v2\", "
                  "now \"Standard_D8s_v3\")");
    json_object_set_new(pool0(c), "vmSize", json_string("Standard_A4_v2"));
    /* A new pool and a count change are updates like any. */
    json_array_append_new(json_object_get(json_object_get(c, "spec"), "nodePools"),
                          json_pack("{s:s, s:i, s:s}", "name", "gpu", "count", 1, "vmSize", "Standard_D8s_v3"));
    CHECK_OK(cn_fleet_admit_cluster(x.f, c, old, &err), &err);
    /* Asking for no more VMs does not skip the request's own rules. */
    json_array_set_new(json_object_get(json_object_get(c, "spec"), "nodePools"), 1,
                       json_pack("{s:s, s:i}", "name", "np1", "count", 1));
    json_object_set_new(pool0(c), "count", json_integer(1));
    CHECK_REFUSED(cn_fleet_admit_cluster(x.f, c, old, &err), &err, 422,
                  "spec: nodePools[1]: name \"np1\" is used twice");
    json_decref(c);
    json_decref(old);
    fx_release(&x);
}


static void set_vm_host(fx *x, const char *vm, const char *h)
{
    json_object_set_new(json_object_get(find_named(x->vms, vm), "spec"), "host", json_string(h));
}

static void set_host_phase(fx *x, const char *h, const char *phase)
{
    set_path(find_named(x->hosts, h), "status", "phase", json_string(phase));
}

/* How many VMs of cluster c's set (pool "" = control plane) each host has. */
static int on_host(fx *x, const char *pool, const char *h)
{
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(x->vms, i, v)
        if (!strcmp(vm_str(v, "pool"), pool) && !strcmp(vm_str(v, "host"), h)) n++;
    return n;
}

static void test_plan_3_3(void)
{
    fx x;
    fx_init(&x, 3);
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 3, 3));
    CHECK_INT(realise(&x, "c1"), 6);
    /* Control plane on three hosts, the pool spread one per host. */
    for (int i = 1; i <= 3; i++) {
        char h[8];
        snprintf(h, sizeof h, "h%d", i);
        CHECK_INT(on_host(&x, "", h), 1);
        CHECK_INT(on_host(&x, "np1", h), 1);
    }
    json_t *cp1 = find_named(x.vms, "c1-cp-1");
    CHECK(cp1 != NULL);
    json_t *m = json_object_get(json_object_get(cp1, "spec"), "etcdMembers");
    CHECK_INT(json_array_size(m), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "name")), "c1-cp-0");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "ip")), "10.220.0.101");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 2), "name")), "c1-cp-2");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 2), "ip")), "10.220.0.103");
    CHECK_STR(vm_str(find_named(x.vms, "c1-np1-2"), "ip"), "10.220.0.106");
    /* A control-plane VM gone (deleted while its host was lost): the
     * replacement gets a new index and every member in its list. */
    json_array_remove(x.vms, 1);   /* c1-cp-1 */
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 1);
    json_t *n = json_array_get(cr, 0);
    CHECK_STR(name_of(n), "c1-cp-3");
    CHECK_STR(vm_str(n, "ip"), "10.220.0.102");   /* the freed address, lowest first */
    m = json_object_get(json_object_get(n, "spec"), "etcdMembers");
    CHECK_INT(json_array_size(m), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 2), "name")), "c1-cp-3");
    plan_clear(&cr, &rm, &ep);
    fx_release(&x);
}

static void test_plan_scale_and_surge(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 4));
    CHECK_INT(realise(&x, "c1"), 5);
    /* Scale down to 2: the two highest indexes go, highest first. */
    json_object_set_new(pool0(find_named(x.clusters, "c1")), "count", json_integer(2));
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL;
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 0);
    CHECK_INT(json_array_size(rm), 2);
    CHECK_STR(json_string_value(json_array_get(rm, 0)), "c1-np1-3");
    CHECK_STR(json_string_value(json_array_get(rm, 1)), "c1-np1-2");
    CHECK_STR(ep, "10.220.0.100");
    plan_clear(&cr, &rm, &ep);
    /* They are being deleted: no longer counted, but their names and
     * addresses stay taken until they are gone. */
    set_path(find_named(x.vms, "c1-np1-3"), "metadata", "deletionTimestamp", json_string("2026-11-27T06:00:00Z"));
    set_path(find_named(x.vms, "c1-np1-2"), "metadata", "deletionTimestamp", json_string("2026-11-27T06:00:00Z"));
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 0);
    CHECK_INT(json_array_size(rm), 0);
    plan_clear(&cr, &rm, &ep);
    /* Up to 3 while they still exist: a new index and a new address. */
    json_object_set_new(pool0(find_named(x.clusters, "c1")), "count", json_integer(3));
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 1);
    json_t *n = json_array_get(cr, 0);
    CHECK_STR(name_of(n), "c1-np1-4");
    CHECK_STR(vm_str(n, "ip"), "10.220.0.106");
    plan_clear(&cr, &rm, &ep);
    /* A rolling upgrade's surge: one more worker of np1. */
    CHECK_INT(cn_fleet_plan_cluster(x.f, "c1", "np1", 1, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 2);
    CHECK_STR(name_of(json_array_get(cr, 1)),
              "c1-np1-5");
    plan_clear(&cr, &rm, &ep);
    /* A dropped pool's workers all go. */
    json_t *spec = json_object_get(find_named(x.clusters, "c1"), "spec");
    json_object_set_new(spec, "nodePools", json_pack("[{s:s, s:i}]", "name", "np2", "count", 1));
    CHECK_INT(cn_fleet_plan_cluster(fx_fleet(&x), "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    CHECK_INT(json_array_size(cr), 1);
    CHECK_INT(json_array_size(rm), 2);
    CHECK_STR(json_string_value(json_array_get(rm, 0)), "c1-np1-1");
    CHECK_STR(json_string_value(json_array_get(rm, 1)), "c1-np1-0");
    plan_clear(&cr, &rm, &ep);
    CHECK(cn_fleet_plan_cluster(x.f, "nope", NULL, 0, &cr, &rm, &ep, &err) == -ENOENT);
    CHECK_INT(err.code, 404);
    CHECK(!cr && !rm && !ep);
    cn_err_clear(&err);
    fx_release(&x);
}

static void test_plan_restart(void)
{
    /* Two clusters planned, VMs and endpoints stored, the bridge restarts
     * (the snapshot rebuilt from JSON text), a third and a scale-up: no
     * address or name is handed out twice. */
    fx x;
    fx_init(&x, 3);
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 3, 3));
    json_array_append_new(x.clusters, cluster("c2", "lnet1", 1, 2));
    realise(&x, "c2");
    realise(&x, "c1");
    char *text = json_dumps(x.vms, 0);
    json_decref(x.vms);
    x.vms = parse(text);
    free(text);
    json_array_append_new(x.clusters, cluster("c3", "lnet1", 1, 1));
    CHECK_INT(realise(&x, "c3"), 2);
    json_object_set_new(pool0(find_named(x.clusters, "c2")), "count", json_integer(4));
    CHECK_INT(realise(&x, "c2"), 2);
    CHECK_INT(json_array_size(x.vms), 13);
    check_unique_ips(&x);
    CHECK_STR(json_string_value(json_object_get(json_object_get(find_named(x.clusters, "c2"), "status"),
                                                "controlPlaneEndpoint")), "10.220.0.100");
    fx_release(&x);
}

static void test_failover_and_rebalance(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 3, 3));
    realise(&x, "c1");
    char *h = NULL;
    /* Where they are, while their hosts are Ready. */
    CHECK_INT(cn_fleet_place_vm(x.f, "c1-cp-0", false, &h, &err), 0);
    CHECK_STR(h, vm_str(find_named(x.vms, "c1-cp-0"), "host"));
    free(h);
    CHECK_INT(cn_fleet_place_vm(x.f, "c1-cp-0", true, &h, &err), 0);   /* already spread */
    CHECK_STR(h, vm_str(find_named(x.vms, "c1-cp-0"), "host"));
    free(h);
    /* h1 lost: its control-plane VM and its worker go to the two others,
     * one each (the answers of one snapshot agree). */
    const char *cp_h1 = NULL, *w_h1 = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(x.vms, i, v) {
        if (strcmp(vm_str(v, "host"), "h1")) continue;
        if (!strcmp(vm_str(v, "pool"), "")) cp_h1 = name_of(v);
        else w_h1 = name_of(v);
    }
    CHECK(cp_h1 && w_h1);
    if (!cp_h1 || !w_h1) goto out;
    set_host_phase(&x, "h1", "NotReady");
    char *to_cp = NULL, *to_w = NULL;
    CHECK_INT(cn_fleet_place_vm(fx_fleet(&x), cp_h1, false, &to_cp, &err), 0);
    CHECK_INT(cn_fleet_place_vm(x.f, w_h1, false, &to_w, &err), 0);
    CHECK_STR(to_cp, "h2");
    CHECK_STR(to_w, "h3");
    set_vm_host(&x, cp_h1, to_cp);
    set_vm_host(&x, w_h1, to_w);
    free(to_cp);
    free(to_w);
    CHECK_INT(on_host(&x, "", "h2"), 2);
    CHECK_INT(on_host(&x, "np1", "h3"), 2);
    /* h1 back: one VM of each set moves back per snapshot, the rest stay. */
    set_host_phase(&x, "h1", "Ready");
    fx_fleet(&x);
    int moved = 0;
    json_array_foreach(x.vms, i, v) {
        const char *name = name_of(v);
        CHECK_INT(cn_fleet_place_vm(x.f, name, true, &h, &err), 0);
        if (strcmp(h, vm_str(v, "host"))) {
            moved++;
            CHECK_STR(h, "h1");
            CHECK(!strcmp(name, cp_h1) || !strcmp(name, w_h1) || !strcmp(vm_str(v, "host"), "h2") ||
                  !strcmp(vm_str(v, "host"), "h3"));
        }
        free(h);
    }
    CHECK_INT(moved, 2);
    /* Maintenance moves VMs away like a lost host. */
    set_path(find_named(x.hosts, "h2"), "spec", "maintenance", json_true());
    json_array_foreach(x.vms, i, v) {
        if (strcmp(vm_str(v, "host"), "h2")) continue;
        const char *name = name_of(v);
        CHECK_INT(cn_fleet_place_vm(fx_fleet(&x), name, false, &h, &err), 0);
        CHECK(strcmp(h, "h2") != 0);
        free(h);
    }
    CHECK(cn_fleet_place_vm(x.f, "nope", false, &h, &err) == -ENOENT);
    CHECK(h == NULL);
    cn_err_clear(&err);
out:
    fx_release(&x);
}

static void test_failover_reserve(void)
{
    /* h2 (12 vCPU keeps 10 for planning) runs 8; a 4-vCPU VM from the lost
     * h1 fits only in the reserve, which is what the reserve is for; a
     * second does not fit at all. */
    fx x;
    fx_init(&x, 0);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.hosts, host("h1", 12, "64Gi", "NotReady"));
    json_array_append_new(x.hosts, host("h2", 12, "64Gi", "Ready"));
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 3));
    const char *names[] = { "c1-cp-0", "c1-np1-0", "c1-np1-1", "c1-np1-2" };
    const char *hosts[] = { "h1", "h2", "h2", "h1" };
    for (int i = 0; i < 4; i++) {
        char ip[20];
        snprintf(ip, sizeof ip, "10.220.0.%d", 101 + i);
        json_array_append_new(x.vms, json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "metadata", "name",
                                               names[i], "spec", "cluster", "c1", "role", i ? "worker" : "controlPlane",
                                               "pool", i ? "np1" : "", "vmSize", "Standard_A4_v2", "host", hosts[i],
                                               "ip", ip));
    }
    char *h = NULL;
    CHECK_INT(cn_fleet_place_vm(fx_fleet(&x), "c1-cp-0", false, &h, &err), 0);
    CHECK_STR(h, "h2");
    free(h);
    CHECK_REFUSED(cn_fleet_place_vm(x.f, "c1-np1-2", false, &h, &err), &err, 409,
                  "no host can take VM \"c1-np1-2\" (Standard_A4_v2: 4 vCPU, 8192 MiB) now that host \"h1\" is "
                  "NotReady: every other host is full or not Ready");
    CHECK(h == NULL);
    fx_release(&x);
}

static void test_ip_plan(void)
{
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 1));
    realise(&x, "c1");
    json_t *c = cluster("c2", "lnet1", 3, 3);
    set_path(c, "spec", "networking", json_pack("{s:[{s:s, s:s}]}", "loadBalancerPools", "start", "10.220.0.60",
                                                "end", "10.220.0.69"));
    json_t *r = cn_fleet_ip_plan(x.f, c, &err);
    CHECK(r != NULL);
    char *text = r ? json_dumps(r, JSON_SORT_KEYS) : NULL;
    CHECK_STR(text, "{\"cluster\": \"c2\", \"controlPlaneEndpoint\": \"10.220.0.104 (from pool vms)\", "
              "\"ipsNeeded\": 8, \"loadBalancerPools\": [{\"end\": \"10.220.0.69\", \"start\": \"10.220.0.60\"}], "
              "\"logicalNetwork\": \"lnet1\", \"podCidr\": \"10.244.0.0/16\", \"pools\": [{\"end\": "
              "\"10.220.0.199\", \"endpoint\": 1, \"freeAfter\": 88, \"name\": \"vms\", \"nodes\": 6, \"size\": 100, "
              "\"start\": \"10.220.0.100\", \"surge\": 1, \"usedByOthers\": 4}], \"serviceCidr\": \"10.96.0.0/12\"}");
    free(text);
    json_decref(r);
    /* Refused like admission, with its message. */
    json_array_clear(x.lnets);
    json_array_append_new(x.lnets, lnet("lnet1", "10.220.0.0/24", "10.220.0.1", "10.220.0.100", "10.220.0.109"));
    CHECK(cn_fleet_ip_plan(fx_fleet(&x), c, &err) == NULL);
    CHECK_INT(err.code, 409);
    CHECK_STR(err.message, "logical network \"lnet1\": cluster \"c2\" needs 8 IPs (6 node VMs, 1 upgrade surge, 1 "
              "control-plane endpoint) and only 6 are free in its pool vms (10.220.0.100-10.220.0.109) (2 short)");
    cn_err_clear(&err);
    json_decref(c);
    fx_release(&x);
}

static void test_malformed_snapshot(void)
{
    /* Garbage among the stored objects is skipped, never fatal. */
    json_t *junk = parse("[42, \"x\", null, {}, {\"metadata\": 3}, {\"metadata\": {\"name\": \"a\"}, \"spec\": 7}, "
                         "{\"metadata\": {\"name\": \"b\"}, \"spec\": {\"capacity\": {\"cpu\": -1}}}, "
                         "{\"metadata\": {\"name\": \"c\"}, \"spec\": {\"cluster\": 5, \"ipPools\": [1], "
                         "\"nodePools\": [{\"count\": \"x\"}]}}]");
    cn_fleet *f = cn_fleet_new(junk, junk, junk, junk);
    cn_err err = CN_ERR_INIT;
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL, *h = NULL;
    CHECK(cn_fleet_plan_cluster(f, "a", NULL, 0, &cr, &rm, &ep, &err) == -ENOENT);
    cn_err_clear(&err);
    CHECK(cn_fleet_place_vm(f, "c", false, &h, &err) == -ENOENT);
    cn_err_clear(&err);
    size_t i;
    json_t *o;
    json_array_foreach(junk, i, o) {
        cn_fleet_admit_host(f, o, o, &err);
        cn_err_clear(&err);
        cn_fleet_admit_lnet(f, o, NULL, &err);
        cn_err_clear(&err);
        cn_fleet_admit_cluster(f, o, o, &err);
        cn_err_clear(&err);
        json_decref(cn_fleet_ip_plan(f, o, &err));
        cn_err_clear(&err);
    }
    CHECK_INT(cn_fleet_admit_delete(f, "Host", "a", &err), 0);
    cn_fleet_free(f);
    cn_fleet_free(NULL);
    json_decref(junk);
}

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* No host holds more than pct % of its vCPUs or memory. */
static void check_hosts_within(fx *x, int pct)
{
    size_t i, j;
    json_t *h, *v;
    json_array_foreach(x->hosts, i, h) {
        json_t *cap = json_object_get(json_object_get(h, "spec"), "capacity");
        long long cpu = json_integer_value(json_object_get(cap, "cpu")), mem = 0, used_cpu = 0, used_mem = 0;
        const char *m = json_string_value(json_object_get(cap, "memory"));
        if (m) mem = strtoll(m, NULL, 10) * 1024;   /* "<n>Gi" in MiB */
        json_array_foreach(x->vms, j, v) {
            if (strcmp(vm_str(v, "host"), name_of(h))) continue;
            used_cpu += json_integer_value(json_object_get(json_object_get(v, "spec"), "cpu"));
            used_mem += json_integer_value(json_object_get(json_object_get(v, "spec"), "memoryMiB"));
        }
        CHECK(used_cpu <= cpu * pct / 100);
        CHECK(used_mem <= mem * pct / 100);
    }
}

/* Random fleets and clusters: whatever admission accepts is then planned
 * without error, within 85 % of every host, never an IP twice; a host lost
 * afterwards moves its VMs within 100 % of the others. */
static void test_property(void)
{
    unsigned seed = 7;
    int admitted = 0, refused = 0, moved = 0, late_refused = 0;
    static const char *mems[] = { "16Gi", "32Gi", "64Gi", "128Gi" };
    static const char *sizes[] = { "Standard_A2_v2", "Standard_A4_v2", "Standard_D4s_v3" };
    static const int cps[] = { 1, 3, 5 };
    for (int it = 0; it < 200; it++) {
        fx x;
        fx_init(&x, 0);
        int nh = 1 + (int)(rnd(&seed) % 5);
        for (int h = 0; h < nh; h++) {
            char n[16];
            snprintf(n, sizeof n, "h%d", h + 1);
            json_array_append_new(x.hosts, host(n, 8 + (int)(rnd(&seed) % 56), mems[rnd(&seed) % 4], "Ready"));
        }
        char end[20];
        snprintf(end, sizeof end, "10.220.0.%u", 100 + 9 + rnd(&seed) % 40);
        json_array_clear(x.lnets);
        json_array_append_new(x.lnets, lnet("lnet1", "10.220.0.0/24", "10.220.0.1", "10.220.0.100", end));
        int nc = 1 + (int)(rnd(&seed) % 6);
        for (int k = 0; k < nc; k++) {
            char n[16];
            snprintf(n, sizeof n, "c%d", k + 1);
            json_t *c = cluster(n, "lnet1", cps[rnd(&seed) % 3], 1 + (int)(rnd(&seed) % 6));
            json_object_set_new(pool0(c), "vmSize", json_string(sizes[rnd(&seed) % 3]));
            if (rnd(&seed) % 2)
                json_array_append_new(json_object_get(json_object_get(c, "spec"), "nodePools"),
                                      json_pack("{s:s, s:i, s:s}", "name", "np2", "count", 1 + rnd(&seed) % 4,
                                                "vmSize", sizes[rnd(&seed) % 3]));
            cn_err err = CN_ERR_INIT;
            if (cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err) == 0) {
                admitted++;
                json_array_append(x.clusters, c);
                if (it % 2) realise(&x, n);   /* else all at the end, last first */
            } else {
                refused++;
                CHECK(err.code == 409 && err.message && *err.message);
            }
            cn_err_clear(&err);
            json_decref(c);
        }
        /* Built later, last admitted first: greedy packing in another order
         * than admission's may, rarely, find no host for a VM; then the plan
         * fails cleanly (409) and nothing is half made. */
        for (size_t k = json_array_size(x.clusters); it % 2 == 0 && k-- > 0;) {
            json_t *cr = NULL, *rm = NULL;
            char *ep = NULL;
            cn_err err = CN_ERR_INIT;
            const char *n = name_of(json_array_get(x.clusters, k));
            if (cn_fleet_plan_cluster(fx_fleet(&x), n, NULL, 0, &cr, &rm, &ep, &err) == 0) {
                json_array_extend(x.vms, cr);
                set_path(json_array_get(x.clusters, k), "status", "controlPlaneEndpoint", json_string(ep));
            } else {
                CHECK(err.code == 409 && strstr(err.message, "no host has room for VM"));
                CHECK(!cr && !rm && !ep);
                json_array_remove(x.clusters, k);
                late_refused++;
            }
            plan_clear(&cr, &rm, &ep);
            cn_err_clear(&err);
        }
        check_unique_ips(&x);
        check_hosts_within(&x, 85);
        /* Lose h1: every VM it ran goes elsewhere, the reserve at most. */
        if (nh > 1) {
            set_host_phase(&x, "h1", "NotReady");
            size_t i;
            json_t *v;
            json_array_foreach(x.vms, i, v) {
                if (strcmp(vm_str(v, "host"), "h1")) continue;
                char *h = NULL;
                cn_err err = CN_ERR_INIT;
                if (cn_fleet_place_vm(fx_fleet(&x), name_of(v), false, &h, &err) == 0) {
                    CHECK(strcmp(h, "h1") != 0);
                    json_object_set_new(json_object_get(v, "spec"), "host", json_string(h));
                    moved++;
                } else {
                    CHECK_INT(err.code, 409);
                }
                free(h);
                cn_err_clear(&err);
            }
            set_host_phase(&x, "h1", "Gone");   /* out of the check below */
            json_t *h1 = json_object_get(json_object_get(json_array_get(x.hosts, 0), "spec"), "capacity");
            json_object_set_new(h1, "cpu", json_integer(1 << 20));
            json_object_set_new(h1, "memory", json_string("1048576Gi"));
            check_hosts_within(&x, 100);
        }
        fx_release(&x);
    }
    printf("     property: %d admitted, %d refused, %d VMs moved, %d plans refused when built out of order\n",
           admitted, refused, moved, late_refused);
    CHECK(admitted > 100 && refused > 50);
}

static void test_status_helpers(void)
{
    fx x;
    fx_init(&x, 3);
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 1));
    realise(&x, "c1");
    const char *h = vm_str(find_named(x.vms, "c1-cp-0"), "host");
    json_t *a = cn_fleet_host_allocated(x.f, h);
    char *text = a ? json_dumps(a, JSON_SORT_KEYS) : NULL;
    CHECK_STR(text, "{\"cpu\": 4, \"memory\": \"8192Mi\", \"vms\": 1}");
    free(text);
    json_decref(a);
    CHECK(cn_fleet_host_allocated(x.f, "nope") == NULL);
    a = cn_fleet_lnet_pools(x.f, "lnet1");
    text = a ? json_dumps(a, JSON_SORT_KEYS) : NULL;
    CHECK_STR(text, "[{\"available\": 97, \"end\": \"10.220.0.199\", \"name\": \"vms\", \"start\": \"10.220.0.100\", "
              "\"used\": 3}]");
    free(text);
    json_decref(a);
    CHECK(cn_fleet_lnet_pools(x.f, "nope") == NULL);
    fx_release(&x);
}

/* Every function on a fleet where one field of one object is replaced. */
static void exercise(fx *x, json_t *subject)
{
    cn_err err = CN_ERR_INIT;
    cn_fleet *f = fx_fleet(x);
    cn_fleet_admit_host(f, subject, subject, &err);
    cn_err_clear(&err);
    cn_fleet_admit_lnet(f, subject, subject, &err);
    cn_err_clear(&err);
    cn_fleet_admit_lnet(f, subject, NULL, &err);
    cn_err_clear(&err);
    cn_fleet_admit_cluster(f, subject, NULL, &err);
    cn_err_clear(&err);
    cn_fleet_admit_cluster(f, subject, json_array_get(x->clusters, 0), &err);
    cn_err_clear(&err);
    json_decref(cn_fleet_ip_plan(f, subject, &err));
    cn_err_clear(&err);
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL, *h = NULL;
    cn_fleet_plan_cluster(f, "c1", "np1", 1, &cr, &rm, &ep, &err);
    plan_clear(&cr, &rm, &ep);
    cn_err_clear(&err);
    cn_fleet_place_vm(f, "c1-cp-0", true, &h, &err);
    free(h);
    cn_err_clear(&err);
    json_decref(cn_fleet_lnet_pools(f, "lnet1"));
    json_decref(cn_fleet_host_allocated(f, "h1"));
    cn_fleet_admit_delete(f, "Host", "h1", &err);
    cn_err_clear(&err);
}

/* Walk o; at each member, try every JSON type in its place, and none. */
static int mutate_walk(fx *x, json_t *root, json_t *o)
{
    int n = 0;
    const char *k;
    json_t *v;
    json_t *keys = json_array();   /* a snapshot: o changes while we walk */
    json_object_foreach(o, k, v) json_array_append_new(keys, json_string(k));
    for (size_t j = 0; j < json_array_size(keys); j++) {
        const char *key = json_string_value(json_array_get(keys, j));
        json_t *keep = json_incref(json_object_get(o, key));
        json_t *kinds[] = { json_null(), json_integer(-1), json_integer(1LL << 40), json_string(""),
                            json_string("x"), json_array(), json_object(), json_true(), json_real(1.5) };
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            json_object_set_new(o, key, kinds[i]);
            exercise(x, root);
            n++;
        }
        json_object_del(o, key);
        exercise(x, root);
        json_object_set_new(o, key, keep);
        if (json_is_object(keep)) n += mutate_walk(x, root, keep);
        if (json_is_array(keep) && json_is_object(json_array_get(keep, 0)))
            n += mutate_walk(x, root, json_array_get(keep, 0));
    }
    json_decref(keys);
    return n;
}

static void test_mutations(void)
{
    fx x;
    fx_init(&x, 3);
    json_t *c = cluster("c1", "lnet1", 3, 2);
    set_path(c, "spec", "networking", json_pack("{s:[{s:s, s:s}], s:s}", "loadBalancerPools", "start", "10.220.0.60",
                                                "end", "10.220.0.69", "podCidr", "10.244.0.0/16"));
    json_object_set_new(pool0(c), "labels", json_pack("{s:s}", "a", "b"));
    json_object_set_new(pool0(c), "taints", json_pack("[s]", "a=b:NoSchedule"));
    json_array_append_new(x.clusters, c);
    realise(&x, "c1");
    set_path(find_named(x.hosts, "h1"), "status", "phase", json_string("NotReady"));
    int n = 0;
    json_t *roots[] = { json_array_get(x.clusters, 0), json_array_get(x.lnets, 0), json_array_get(x.hosts, 0),
                        find_named(x.vms, "c1-cp-0") };
    for (size_t i = 0; i < 4; i++) n += mutate_walk(&x, roots[i], roots[i]);
    CHECK(n > 300);
    fx_release(&x);
}

static void test_ips_held_until_gone(void)
{
    /* Pool of 10: c1 (1+3) holds 4 VM IPs and its endpoint and reserves a
     * surge. Scaled down to 1 worker, its two VMs being deleted keep their
     * IPs until they are gone. */
    fx x;
    fx_init(&x, 3);
    cn_err err = CN_ERR_INIT;
    json_array_clear(x.lnets);
    json_array_append_new(x.lnets, lnet("lnet1", "10.220.0.0/24", "10.220.0.1", "10.220.0.100", "10.220.0.109"));
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 1, 3));
    realise(&x, "c1");
    json_t *c1 = find_named(x.clusters, "c1"), *old = json_deep_copy(c1);
    json_object_set_new(pool0(c1), "count", json_integer(1));
    CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c1, old, &err), &err);
    json_decref(old);
    set_path(find_named(x.vms, "c1-np1-2"), "metadata", "deletionTimestamp", json_string("2026-11-27T06:00:00Z"));
    set_path(find_named(x.vms, "c1-np1-1"), "metadata", "deletionTimestamp", json_string("2026-11-27T06:00:00Z"));
    json_t *c = cluster("c2", "lnet1", 1, 3);
    CHECK_REFUSED(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err, 409,
                  "logical network \"lnet1\": cluster \"c2\" needs 6 IPs (4 node VMs, 1 upgrade surge, 1 control-plane "
                  "endpoint) and only 5 are free in its pool vms (10.220.0.100-10.220.0.109) (1 short)");
    json_array_remove(x.vms, 3);   /* c1-np1-2 gone */
    json_array_remove(x.vms, 2);   /* c1-np1-1 gone */
    CHECK_OK(cn_fleet_admit_cluster(fx_fleet(&x), c, NULL, &err), &err);
    json_decref(c);
    fx_release(&x);
}

static void test_failover_keeps_spread(void)
{
    /* Four hosts, a 3+3 cluster: the control-plane VM of a lost host goes
     * to the one host that has none, whatever else it runs. */
    fx x;
    fx_init(&x, 4);
    cn_err err = CN_ERR_INIT;
    json_array_append_new(x.clusters, cluster("c1", "lnet1", 3, 3));
    realise(&x, "c1");
    const char *free_host = NULL, *lost = vm_str(find_named(x.vms, "c1-cp-0"), "host");
    size_t i;
    json_t *h;
    json_array_foreach(x.hosts, i, h)
        if (!on_host(&x, "", name_of(h))) free_host = name_of(h);
    CHECK(free_host != NULL);
    set_host_phase(&x, lost, "NotReady");
    char *to = NULL;
    CHECK_INT(cn_fleet_place_vm(fx_fleet(&x), "c1-cp-0", false, &to, &err), 0);
    CHECK_STR(to, free_host);
    free(to);
    fx_release(&x);
}

int main(void)
{
    TEST_RUN(test_versions_and_defaults);
    TEST_RUN(test_plan_1_1);
    TEST_RUN(test_ips_never_twice);
    TEST_RUN(test_admit_host);
    TEST_RUN(test_admit_lnet);
    TEST_RUN(test_delete_host);
    TEST_RUN(test_admit_cluster_fields);
    TEST_RUN(test_acceptance_refusals);
    TEST_RUN(test_admit_update);
    TEST_RUN(test_plan_3_3);
    TEST_RUN(test_plan_scale_and_surge);
    TEST_RUN(test_plan_restart);
    TEST_RUN(test_failover_and_rebalance);
    TEST_RUN(test_failover_keeps_spread);
    TEST_RUN(test_failover_reserve);
    TEST_RUN(test_ip_plan);
    TEST_RUN(test_malformed_snapshot);
    TEST_RUN(test_ips_held_until_gone);
    TEST_RUN(test_status_helpers);
    TEST_RUN(test_mutations);
    TEST_RUN(test_property);
    return TEST_DONE();
}
