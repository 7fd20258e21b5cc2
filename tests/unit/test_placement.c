/* Unit and property tests for the bridge's placement engine
 * (src/bridge/placement.c): request validation with precise messages, the
 * fleet limits, capacity with the 15 % reserve and the loss of a host,
 * availability-set spreading, GPU sizes, and a property test over random
 * fleets and requests that no accepted placement ever breaks a rule. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/placement.h"
#include "lib/util.h"
#include "test.h"

static cn_pl_host host(const char *name, int vcpu, int64_t mem_gib, int gpus)
{
    return (cn_pl_host){ .name = name, .vcpu = vcpu, .mem_mib = mem_gib * 1024, .gpus = gpus, .schedulable = true };
}

static const char *names[] = { "h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7",
                               "h8", "h9", "h10", "h11", "h12", "h13", "h14", "h15", "h16" };

static int place(const cn_pl_fleet *f, const cn_pl_request *r, int *out, cn_err *err)
{
    cn_err_clear(err);
    return cn_pl_place(f, r, out, 512, err);
}

static void test_validation(void)
{
    cn_pl_host hs[3] = { host("a", 64, 256, 0), host("b", 64, 256, 0), host("c", 64, 256, 0) };
    cn_pl_fleet f = { .hosts = hs, .nhosts = 3 };
    cn_pl_pool pool = { .name = "nodepool1", .count = 2 };
    cn_pl_request r = { .cluster = "c1", .cp_count = 2, .pools = &pool, .npools = 1 };
    cn_err err = CN_ERR_INIT;
    int out[512];
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "controlPlane.count: 2: must be 1, 3 or 5");
    CHECK_INT(err.code, 422);
    r.cp_count = 3;
    r.cp_size = "Standard_D16s_v3";
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK(strstr(err.message, "is not allowed for control-plane nodes") != NULL);
    r.cp_size = "Standard_Nope";
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "controlPlane.vmSize: \"Standard_Nope\" is not a known VM size");
    r.cp_size = NULL;
    pool.name = "Pool1";
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "nodePools[0]: name \"Pool1\" must match ^[a-z][a-z0-9]{2,11}$");
    pool.name = "nodepool1";
    pool.count = 0;
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "nodePools[0]: count must be 1 to 64 (empty pools are not supported), got 0");
    pool.count = 65;
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    pool.count = 2;
    pool.os = "Windows";
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK(strstr(err.message, "Windows node pools are not supported here") != NULL);
    pool.os = "Linux";
    cn_pl_pool two[2] = { pool, pool };
    r.pools = two;
    r.npools = 2;
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "nodePools[1]: name \"nodepool1\" is used twice");
    cn_pl_pool many[4];
    for (int i = 0; i < 4; i++) many[i] = (cn_pl_pool){ .name = i == 0 ? "aaa" : i == 1 ? "bbb" : i == 2 ? "ccc" : "ddd",
                                                        .count = 64, .size = "Standard_A2_v2" };
    r.pools = many;
    r.npools = 4;
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    CHECK_STR(err.message, "nodePools: at most 200 nodes per cluster over all pools, got 256");
    r.npools = 0;
    CHECK(place(&f, &r, out, &err) == -EINVAL);
    cn_err_clear(&err);
}

static void test_limits(void)
{
    cn_pl_host hs[17];
    for (int i = 0; i < 17; i++) hs[i] = host(names[i], 512, 2048, 0);
    cn_pl_pool pool = { .name = "pool", .count = 1 };
    cn_pl_request r = { .cluster = "c", .cp_count = 1, .pools = &pool, .npools = 1 };
    cn_err err = CN_ERR_INIT;
    int out[512];
    cn_pl_fleet f = { .hosts = hs, .nhosts = 17 };
    CHECK(place(&f, &r, out, &err) == -ENOSPC);
    CHECK_INT(err.code, 409);
    CHECK(strstr(err.message, "at most 16 are supported") != NULL);
    f.nhosts = 16;
    f.nclusters = 32;
    CHECK(place(&f, &r, out, &err) < 0);
    CHECK_STR(err.message, "the fleet already has 32 clusters; at most 32 are supported");
    f.nclusters = 31;
    CHECK(place(&f, &r, out, &err) == 0);
    /* 200 VMs in all. */
    cn_pl_vm vms[199];
    for (int i = 0; i < 199; i++) vms[i] = (cn_pl_vm){ .cluster = "old", .pool = "p", .size = "Standard_A2_v2", .host = i % 16 };
    f.vms = vms;
    f.nvms = 199;
    CHECK(place(&f, &r, out, &err) < 0);
    CHECK_STR(err.message, "the cluster needs 2 VMs and the fleet has 199: at most 200 VMs are supported (1 over)");
    f.nvms = 198;
    CHECK(place(&f, &r, out, &err) == 0);
    cn_err_clear(&err);
}

static void test_capacity_reserve_and_host_loss(void)
{
    /* Three hosts of 10 vCPU: 8 usable each (85 %, rounded down). Losing
     * one leaves 16 vCPU for everything. */
    cn_pl_host hs[3] = { host("a", 10, 64, 0), host("b", 10, 64, 0), host("c", 10, 64, 0) };
    cn_pl_fleet f = { .hosts = hs, .nhosts = 3 };
    cn_pl_pool pool = { .name = "pool", .count = 3, .size = "Standard_A2_v2" };   /* 2 vCPU each */
    cn_pl_request r = { .cluster = "c", .cp_count = 1, .pools = &pool, .npools = 1 };   /* cp 4 vCPU */
    cn_err err = CN_ERR_INIT;
    int out[512];
    CHECK(place(&f, &r, out, &err) == 0);            /* 4 + 6 = 10 <= 16 */
    pool.count = 6;                                  /* 4 + 12 = 16 <= 16 */
    CHECK(place(&f, &r, out, &err) == 0);
    pool.count = 7;                                  /* 18 > 16 */
    CHECK(place(&f, &r, out, &err) < 0);
    CHECK_INT(err.code, 409);
    CHECK_STR(err.message, "not enough capacity: the fleet's VMs need 18 vCPU, and only 16 remain with 15 % held back "
                           "and host \"a\" lost (2 short)");
    /* A host in maintenance does not count. */
    pool.count = 1;
    hs[2].schedulable = false;
    CHECK(place(&f, &r, out, &err) == 0);            /* 6 <= 8 (b lost) */
    CHECK(out[0] != 2 && out[1] != 2);
    pool.count = 3;                                  /* 10 > 8 */
    CHECK(place(&f, &r, out, &err) < 0);
    hs[2].schedulable = true;
    /* One host: no loss to survive, only the reserve. */
    cn_pl_fleet one = { .hosts = hs, .nhosts = 1 };
    pool.count = 2;
    CHECK(place(&one, &r, out, &err) == 0);          /* 8 <= 8 */
    pool.count = 3;
    CHECK(place(&one, &r, out, &err) < 0);
    CHECK_STR(err.message, "not enough capacity: the fleet's VMs need 10 vCPU, and only 8 remain with 15 % held back (2 short)");
    /* Memory is checked too. */
    cn_pl_host small[2] = { host("x", 64, 8, 0), host("y", 64, 8, 0) };
    cn_pl_fleet fm = { .hosts = small, .nhosts = 2 };
    pool.count = 1;
    pool.size = NULL;   /* A4_v2: 8 GiB, more than 85 % of 8 GiB */
    CHECK(place(&fm, &r, out, &err) < 0);
    CHECK(strstr(err.message, "MiB of memory") != NULL);
    cn_err_clear(&err);
}

static void test_spreading(void)
{
    cn_pl_host hs[3] = { host("a", 64, 256, 0), host("b", 64, 256, 0), host("c", 64, 256, 0) };
    cn_pl_fleet f = { .hosts = hs, .nhosts = 3 };
    cn_pl_pool pools[2] = { { .name = "web", .count = 6 }, { .name = "dbs", .count = 2 } };
    cn_pl_request r = { .cluster = "c", .cp_count = 3, .pools = pools, .npools = 2 };
    cn_err err = CN_ERR_INIT;
    int out[512];
    CHECK(place(&f, &r, out, &err) == 0);
    if (err.message) fprintf(stderr, "spreading: %s\n", err.message);
    /* Control plane on three distinct hosts. */
    CHECK(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
    /* web: two per host. */
    int web[3] = { 0 }, db[3] = { 0 };
    for (int i = 3; i < 9; i++) web[out[i]]++;
    for (int i = 9; i < 11; i++) db[out[i]]++;
    CHECK(web[0] == 2 && web[1] == 2 && web[2] == 2);
    CHECK(db[0] <= 1 && db[1] <= 1 && db[2] <= 1);
    /* Five control-plane nodes on three hosts: as even as it gets. */
    r.cp_count = 5;
    CHECK(place(&f, &r, out, &err) == 0);
    int cp[3] = { 0 };
    for (int i = 0; i < 5; i++) cp[out[i]]++;
    for (int h = 0; h < 3; h++) CHECK(cp[h] >= 1 && cp[h] <= 2);
    /* Existing VMs count against capacity, not against a new set's spread:
     * a full host gets nothing. */
    cn_pl_vm vms[13];
    for (int i = 0; i < 13; i++) vms[i] = (cn_pl_vm){ .cluster = "old", .pool = "p", .size = "Standard_A4_v2", .host = 0 };
    f.vms = vms;
    f.nvms = 13;   /* 52 vCPU on a (54 usable) */
    r.cp_count = 1;
    pools[0].count = 4;
    r.npools = 1;
    CHECK(place(&f, &r, out, &err) == 0);
    for (int i = 0; i < 5; i++) CHECK(out[i] != 0);
    cn_err_clear(&err);
}

static void test_gpu(void)
{
    cn_pl_host hs[3] = { host("plain1", 64, 256, 0), host("gpu", 64, 256, 2), host("plain2", 64, 256, 0) };
    cn_pl_fleet f = { .hosts = hs, .nhosts = 3 };
    cn_pl_pool pools[2] = { { .name = "sys", .count = 1 }, { .name = "gpus", .count = 2, .size = "Standard_NC4_A2" } };
    cn_pl_request r = { .cluster = "c", .cp_count = 1, .pools = pools, .npools = 2 };
    cn_err err = CN_ERR_INIT;
    int out[512];
    /* Two 1-GPU VMs need 2 GPUs even after losing the GPU host: refused. */
    CHECK(place(&f, &r, out, &err) < 0);
    CHECK(strstr(err.message, "GPUs") != NULL && strstr(err.message, "\"gpu\" lost") != NULL);
    hs[2].gpus = 2;
    CHECK(place(&f, &r, out, &err) == 0);
    CHECK(out[2] == 1 || out[2] == 2);
    CHECK(out[3] == 1 || out[3] == 2);
    CHECK(out[2] != out[3]);
    cn_err_clear(&err);
}

/* ---- property test ---- */

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void test_property(void)
{
    unsigned seed = 42;
    size_t nsz;
    const cn_vm_size *sz = cn_vm_sizes(&nsz);
    int accepted = 0, refused = 0;
    for (int round = 0; round < 3000; round++) {
        size_t nh = 1 + rnd(&seed) % 16;
        cn_pl_host hs[16];
        for (size_t h = 0; h < nh; h++) {
            hs[h] = host(names[h], 8 + (int)(rnd(&seed) % 120), 16 + rnd(&seed) % 500, (int)(rnd(&seed) % 3) * (rnd(&seed) % 2));
            hs[h].schedulable = rnd(&seed) % 8 != 0;
        }
        /* Some VMs already placed, within each host's usable capacity. */
        cn_pl_vm vms[200];
        int64_t used_cpu[16] = { 0 }, used_mem[16] = { 0 };
        int used_gpu[16] = { 0 };
        size_t nv = 0, want = rnd(&seed) % 60;
        for (size_t i = 0; i < want; i++) {
            const cn_vm_size *z = &sz[rnd(&seed) % 3];
            size_t h = rnd(&seed) % nh;
            if (used_cpu[h] + z->vcpu > hs[h].vcpu * 85 / 100 || used_mem[h] + z->mem_mib > hs[h].mem_mib * 85 / 100) continue;
            used_cpu[h] += z->vcpu;
            used_mem[h] += z->mem_mib;
            vms[nv++] = (cn_pl_vm){ .cluster = "old", .pool = "p", .size = z->name, .host = (int)h };
        }
        cn_pl_fleet f = { .hosts = hs, .nhosts = nh, .vms = vms, .nvms = nv, .nclusters = rnd(&seed) % 33 };
        static const char *const pn[] = { "aaa", "bbb", "ccc", "ddd" };
        cn_pl_pool pools[4];
        size_t np = 1 + rnd(&seed) % 4;
        for (size_t p = 0; p < np; p++)
            pools[p] = (cn_pl_pool){ .name = pn[p], .count = 1 + (int)(rnd(&seed) % 10), .size = sz[rnd(&seed) % nsz].name };
        static const int cps[] = { 1, 3, 5 };
        cn_pl_request r = { .cluster = "new", .cp_count = cps[rnd(&seed) % 3], .pools = pools, .npools = np };
        int out[512];
        cn_err err = CN_ERR_INIT;
        int rc = cn_pl_place(&f, &r, out, 512, &err);
        if (rc < 0) {
            refused++;
            CHECK(err.message && *err.message);
            cn_err_clear(&err);
            continue;
        }
        accepted++;
        size_t n = cn_pl_request_vms(&r);
        CHECK(f.nvms + n <= CN_PL_MAX_VMS);
        CHECK(f.nclusters + 1 <= CN_PL_MAX_CLUSTERS);
        /* Per-host usage within 85 %, only schedulable hosts, GPUs where they
         * are; every availability set spread (which for the control plane
         * means distinct hosts while hosts have room). */
        size_t k = 0;
        size_t nsched = 0;
        for (size_t h = 0; h < nh; h++) nsched += hs[h].schedulable;
        for (size_t set = 0; set <= np; set++) {
            const cn_vm_size *z = cn_vm_size_find(set == 0 ? "Standard_A4_v2" : pools[set - 1].size);
            int cnt = set == 0 ? r.cp_count : pools[set - 1].count;
            int per[16] = { 0 };
            for (int i = 0; i < cnt; i++, k++) {
                int h = out[k];
                CHECK(h >= 0 && (size_t)h < nh && hs[h].schedulable);
                used_cpu[h] += z->vcpu;
                used_mem[h] += z->mem_mib;
                used_gpu[h] += z->gpus;
                per[h]++;
            }
            /* Spread: no host has two more of a set than any host that still had room for one more. */
            int maxc = 0, minc = 1 << 30;
            for (size_t h = 0; h < nh; h++) {
                if (per[h] > maxc) maxc = per[h];
                bool room = hs[h].schedulable && used_cpu[h] + z->vcpu <= hs[h].vcpu * 85 / 100 &&
                            used_mem[h] + z->mem_mib <= hs[h].mem_mib * 85 / 100 && used_gpu[h] + z->gpus <= hs[h].gpus;
                if (room && per[h] < minc) minc = per[h];
            }
            if (minc != 1 << 30) CHECK(maxc - minc <= 1);
        }
        for (size_t h = 0; h < nh; h++) {
            CHECK(used_cpu[h] <= hs[h].vcpu * 85 / 100);
            CHECK(used_mem[h] <= hs[h].mem_mib * 85 / 100);
            CHECK(used_gpu[h] <= hs[h].gpus);
        }
        /* Survives losing any one schedulable host (aggregate). */
        int64_t tot_cpu = 0, tot_mem = 0, cap_cpu = 0, cap_mem = 0;
        for (size_t h = 0; h < nh; h++) {
            tot_cpu += used_cpu[h];
            tot_mem += used_mem[h];
            if (hs[h].schedulable) {
                cap_cpu += hs[h].vcpu * 85 / 100;
                cap_mem += hs[h].mem_mib * 85 / 100;
            }
        }
        for (size_t h = 0; h < nh && nsched > 1; h++) {
            if (!hs[h].schedulable) continue;
            CHECK(tot_cpu <= cap_cpu - hs[h].vcpu * 85 / 100);
            CHECK(tot_mem <= cap_mem - hs[h].mem_mib * 85 / 100);
        }
    }
    printf("     property: %d accepted, %d refused\n", accepted, refused);
    CHECK(accepted > 100 && refused > 100);
}

int main(void)
{
    TEST_RUN(test_validation);
    TEST_RUN(test_limits);
    TEST_RUN(test_capacity_reserve_and_host_loss);
    TEST_RUN(test_spreading);
    TEST_RUN(test_gpu);
    TEST_RUN(test_property);
    return TEST_DONE();
}
