/* placement: admission and availability-set placement of a cluster's node
 * VMs (placement.h). Admission first checks the request against the
 * documented limits, then the fleet's capacity in aggregate — every VM,
 * old and new, must fit in what the schedulable hosts keep after the 15 %
 * reserve even when the host whose loss hurts most is gone — and then
 * places VM by VM, greedily: the candidate with the fewest VMs of the same
 * availability set (the cluster's control plane, or one node pool), then
 * the fewest of the cluster, then the most free memory, then the lowest
 * index, so the answer is deterministic. */
#include "bridge/placement.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const cn_vm_size sizes[] = {
    { "Standard_A2_v2", 2, 4 * 1024, 0, false },
    { "Standard_K8S3_v1", 4, 6 * 1024, 0, true },
    { "Standard_A4_v2", 4, 8 * 1024, 0, true },
    { "Standard_D4s_v3", 4, 16 * 1024, 0, true },
    { "Standard_D8s_v3", 8, 32 * 1024, 0, true },
    { "Standard_D16s_v3", 16, 64 * 1024, 0, false },
    { "Standard_D32s_v3", 32, 128 * 1024, 0, false },
    { "Standard_NK6", 6, 12 * 1024, 1, false },
    { "Standard_NK12", 12, 24 * 1024, 2, false },
    { "Standard_NC4_A2", 4, 8 * 1024, 1, false },
    { "Standard_NC8_A2", 8, 16 * 1024, 1, false },
    { "Standard_NC16_A2", 16, 64 * 1024, 2, false },
    { "Standard_NC32_A2", 32, 128 * 1024, 2, false },
    { "Standard_NC4_A16", 4, 8 * 1024, 1, false },
    { "Standard_NC8_A16", 8, 16 * 1024, 1, false },
    { "Standard_NC16_A16", 16, 64 * 1024, 2, false },
    { "Standard_NC32_A16", 32, 128 * 1024, 2, false },
};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define DEFAULT_SIZE "Standard_A4_v2"

const cn_vm_size *cn_vm_sizes(size_t *n)
{
    *n = NSIZES;
    return sizes;
}

const cn_vm_size *cn_vm_size_find(const char *name)
{
    for (size_t i = 0; name && i < NSIZES; i++)
        if (!strcmp(sizes[i].name, name)) return &sizes[i];
    return NULL;
}

size_t cn_pl_request_vms(const cn_pl_request *r)
{
    size_t n = r->cp_count > 0 ? (size_t)r->cp_count : 0;
    for (size_t i = 0; i < r->npools; i++) n += r->pools[i].count > 0 ? (size_t)r->pools[i].count : 0;
    return n;
}

/* What a host keeps for planning: 85 %, rounded down. */
static int64_t usable(int64_t v) { return v * (100 - CN_PL_RESERVE_PCT) / 100; }

static bool pool_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 12 || s[0] < 'a' || s[0] > 'z') return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

static int invalid(cn_err *err, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int invalid(cn_err *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    cn_err_invalid(err, "%s: %s", field, msg);
    free(msg);
    return -EINVAL;
}

static int conflict(cn_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conflict(cn_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    cn_err_set(err, 409, "Conflict", "%s", msg);
    free(msg);
    return -ENOSPC;
}

int cn_pl_check_request(const cn_pl_request *r, cn_err *err)
{
    if (r->cp_count != 1 && r->cp_count != 3 && r->cp_count != 5)
        return invalid(err, "controlPlane.count", "%d: must be 1, 3 or 5", r->cp_count);
    const cn_vm_size *cp = cn_vm_size_find(r->cp_size ? r->cp_size : DEFAULT_SIZE);
    if (!cp) return invalid(err, "controlPlane.vmSize", "\"%s\" is not a known VM size", r->cp_size);
    if (!cp->control_plane)
        return invalid(err, "controlPlane.vmSize", "\"%s\" is not allowed for control-plane nodes (allowed: "
                       "Standard_K8S3_v1, Standard_A4_v2, Standard_D4s_v3, Standard_D8s_v3)", cp->name);
    if (r->npools < 1 || r->npools > CN_PL_MAX_POOLS)
        return invalid(err, "nodePools", "a cluster has 1 to 16 node pools, got %zu", r->npools);
    long long total = 0;
    bool linux_pool = false;
    for (size_t i = 0; i < r->npools; i++) {
        const cn_pl_pool *p = &r->pools[i];
        char field[64];
        snprintf(field, sizeof field, "nodePools[%zu]", i);
        if (!pool_name_ok(p->name))
            return invalid(err, field, "name \"%s\" must match ^[a-z][a-z0-9]{2,11}$", p->name ? p->name : "");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r->pools[j].name, p->name)) return invalid(err, field, "name \"%s\" is used twice", p->name);
        if (p->count < 1 || p->count > CN_PL_MAX_POOL_NODES)
            return invalid(err, field, "count must be 1 to 64 (empty pools are not supported), got %d", p->count);
        if (p->os && !strcmp(p->os, "Windows"))
            return invalid(err, field, "pool \"%s\": Windows node pools are not supported here "
                           "(cairn runs Linux nodes only)", p->name);
        if (p->os && strcmp(p->os, "Linux")) return invalid(err, field, "osType \"%s\": want Linux", p->os);
        linux_pool = true;
        if (!cn_vm_size_find(p->size ? p->size : DEFAULT_SIZE))
            return invalid(err, field, "vmSize \"%s\" is not a known VM size", p->size);
        total += p->count;
    }
    if (!linux_pool) return invalid(err, "nodePools", "at least one Linux node pool is needed");
    if (total > CN_PL_MAX_CLUSTER_NODES)
        return invalid(err, "nodePools", "at most 200 nodes per cluster over all pools, got %lld", total);
    return 0;
}

typedef struct use { int64_t vcpu, mem; int gpus; } use;

static void add_size(use *u, const cn_vm_size *s, int sign)
{
    u->vcpu += sign * s->vcpu;
    u->mem += sign * s->mem_mib;
    u->gpus += sign * s->gpus;
}

static const cn_vm_size *vm_size(const char *name) { return cn_vm_size_find(name ? name : DEFAULT_SIZE); }

/* Every VM (old and new) must fit in the schedulable hosts' usable
 * capacity with any one of them lost (with one host: as it is). */
static int check_capacity(const cn_pl_fleet *f, const use *demand, cn_err *err)
{
    size_t nsched = 0;
    use all = { 0 };
    for (size_t h = 0; h < f->nhosts; h++) {
        if (!f->hosts[h].schedulable) continue;
        nsched++;
        all.vcpu += usable(f->hosts[h].vcpu);
        all.mem += usable(f->hosts[h].mem_mib);
        all.gpus += f->hosts[h].gpus;
    }
    if (!nsched) return conflict(err, "no host is Ready (and out of maintenance) to place VMs on");
    for (size_t h = 0; h < f->nhosts; h++) {
        if (!f->hosts[h].schedulable) continue;
        use left = all;
        const char *lost = NULL;
        if (nsched > 1) {
            left.vcpu -= usable(f->hosts[h].vcpu);
            left.mem -= usable(f->hosts[h].mem_mib);
            left.gpus -= f->hosts[h].gpus;
            lost = f->hosts[h].name;
        }
        const char *what = NULL;
        long long need = 0, have = 0;
        if (demand->vcpu > left.vcpu) what = "vCPU", need = demand->vcpu, have = left.vcpu;
        else if (demand->mem > left.mem) what = "MiB of memory", need = demand->mem, have = left.mem;
        else if (demand->gpus > left.gpus) what = "GPUs", need = demand->gpus, have = left.gpus;
        if (!what) continue;
        if (lost)
            return conflict(err,
                              "not enough capacity: the fleet's VMs need %lld %s, and only %lld remain with %d %% held "
                              "back and host \"%s\" lost (%lld short)", need, what, have, CN_PL_RESERVE_PCT, lost,
                              need - have);
        return conflict(err,
                          "not enough capacity: the fleet's VMs need %lld %s, and only %lld remain with %d %% held back "
                          "(%lld short)", need, what, have, CN_PL_RESERVE_PCT, need - have);
    }
    return 0;
}

typedef struct state {
    const cn_pl_fleet *f;
    use *used;                 /* per host */
    int *in_cluster;           /* VMs of the new cluster per host */
    int *in_set;               /* VMs of the current availability set per host */
    bool use_reserve;          /* room is 100 % of a host, not 85 % */
} state;

static bool fits(const state *s, size_t h, const cn_vm_size *z)
{
    const cn_pl_host *host = &s->f->hosts[h];
    int64_t vcpu = s->use_reserve ? host->vcpu : usable(host->vcpu);
    int64_t mem = s->use_reserve ? host->mem_mib : usable(host->mem_mib);
    return host->schedulable && s->used[h].vcpu + z->vcpu <= vcpu && s->used[h].mem + z->mem_mib <= mem &&
           s->used[h].gpus + z->gpus <= host->gpus;
}

/* The best host for one VM of the current set, or -1. */
static int pick(const state *s, const cn_vm_size *z)
{
    int best = -1;
    for (size_t h = 0; h < s->f->nhosts; h++) {
        if (!fits(s, h, z)) continue;
        if (best < 0) { best = (int)h; continue; }
        size_t b = (size_t)best;
        int64_t free_h = usable(s->f->hosts[h].mem_mib) - s->used[h].mem;
        int64_t free_b = usable(s->f->hosts[b].mem_mib) - s->used[b].mem;
        if (s->in_set[h] != s->in_set[b] ? s->in_set[h] < s->in_set[b]
            : s->in_cluster[h] != s->in_cluster[b] ? s->in_cluster[h] < s->in_cluster[b]
            : free_h > free_b)
            best = (int)h;
    }
    return best;
}

int cn_pl_place(const cn_pl_fleet *f, const cn_pl_request *r, int *hosts, size_t nhosts_out, cn_err *err)
{
    int rc;
    if ((rc = cn_pl_check_request(r, err)) < 0) return rc;
    size_t nnew = cn_pl_request_vms(r);
    if (nhosts_out < nnew) return cn_err_internal(err, "placement: room for %zu VMs given, %zu needed", nhosts_out, nnew);
    if (f->nhosts > CN_PL_MAX_HOSTS)
        return conflict(err, "the fleet has %zu hosts; at most %d are supported", f->nhosts, CN_PL_MAX_HOSTS);
    if (f->nclusters + 1 > CN_PL_MAX_CLUSTERS)
        return conflict(err, "the fleet already has %zu clusters; at most %d are supported",
                          f->nclusters, CN_PL_MAX_CLUSTERS);
    if (f->nvms + nnew > CN_PL_MAX_VMS)
        return conflict(err, "the cluster needs %zu VMs and the fleet has %zu: at most %d VMs are "
                          "supported (%zu over)", nnew, f->nvms, CN_PL_MAX_VMS, f->nvms + nnew - CN_PL_MAX_VMS);

    state s = { .f = f };
    s.used = cn_calloc(f->nhosts + 1, sizeof *s.used);
    s.in_cluster = cn_calloc(f->nhosts + 1, sizeof *s.in_cluster);
    s.in_set = cn_calloc(f->nhosts + 1, sizeof *s.in_set);
    use demand = { 0 };
    for (size_t i = 0; i < f->nvms; i++) {
        const cn_vm_size *z = vm_size(f->vms[i].size);
        if (!z) continue;
        add_size(&demand, z, 1);
        if (f->vms[i].host >= 0 && (size_t)f->vms[i].host < f->nhosts) add_size(&s.used[f->vms[i].host], z, 1);
    }
    const cn_vm_size *cp = vm_size(r->cp_size);
    for (int i = 0; i < r->cp_count; i++) add_size(&demand, cp, 1);
    for (size_t p = 0; p < r->npools; p++)
        for (int i = 0; i < r->pools[p].count; i++) add_size(&demand, vm_size(r->pools[p].size), 1);
    if ((rc = check_capacity(f, &demand, err)) < 0) goto out;

    size_t k = 0;
    for (size_t set = 0; set <= r->npools; set++) {
        memset(s.in_set, 0, (f->nhosts + 1) * sizeof *s.in_set);
        const cn_vm_size *z = set == 0 ? cp : vm_size(r->pools[set - 1].size);
        int n = set == 0 ? r->cp_count : r->pools[set - 1].count;
        for (int i = 0; i < n; i++) {
            int h = pick(&s, z);
            if (h < 0) {
                rc = conflict(err,
                                "no host has room for %s %d of %d (%s: %d vCPU, %lld MiB%s) with %d %% of each host "
                                "held back", set == 0 ? "control-plane node" : "node", i + 1, n, z->name, z->vcpu,
                                (long long)z->mem_mib, z->gpus ? ", GPUs" : "", CN_PL_RESERVE_PCT);
                if (set > 0) cn_err_wrap(err, "node pool \"%s\"", r->pools[set - 1].name);
                goto out;
            }
            hosts[k++] = h;
            add_size(&s.used[h], z, 1);
            s.in_cluster[h]++;
            s.in_set[h]++;
        }
    }
    rc = 0;
out:
    free(s.used);
    free(s.in_cluster);
    free(s.in_set);
    return rc;
}

static bool same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

int cn_pl_place_one(const cn_pl_fleet *f, const char *cluster, const char *pool, const char *size, bool use_reserve)
{
    const cn_vm_size *z = vm_size(size);
    if (!z) return -1;
    state s = { .f = f, .use_reserve = use_reserve };
    s.used = cn_calloc(f->nhosts + 1, sizeof *s.used);
    s.in_cluster = cn_calloc(f->nhosts + 1, sizeof *s.in_cluster);
    s.in_set = cn_calloc(f->nhosts + 1, sizeof *s.in_set);
    for (size_t i = 0; i < f->nvms; i++) {
        const cn_pl_vm *v = &f->vms[i];
        const cn_vm_size *vz = vm_size(v->size);
        if (!vz || v->host < 0 || (size_t)v->host >= f->nhosts) continue;
        add_size(&s.used[v->host], vz, 1);
        if (!v->cluster || !cluster || strcmp(v->cluster, cluster)) continue;
        s.in_cluster[v->host]++;
        if (same(v->pool, pool)) s.in_set[v->host]++;
    }
    int h = pick(&s, z);
    free(s.used);
    free(s.in_cluster);
    free(s.in_set);
    return h;
}
