/* fleet_plan: what the bridge controller builds and moves (fleet.h): the
 * VirtualMachine objects a cluster still needs, those it no longer wants,
 * where a VM goes when its host is lost or comes back, and the IP plan
 * report of `cairn fleet ip-plan`. Every answer is a function of the
 * snapshot alone, so a restarted bridge computes the same names, hosts and
 * addresses from the objects it finds, and nothing is handed out twice:
 * an address is free only when no VM (not even one being deleted) and no
 * cluster endpoint holds it. */
#include "bridge/fleet-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/util.h"

/* A growable list of addresses in use on one logical network. */
typedef struct iplist { uint32_t *v; size_t n, cap; } iplist;

static void ip_add(iplist *l, uint32_t ip)
{
    if (!ip) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = cn_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = ip;
}

/* Every address held on n: the IPs of VMs on it, and the endpoints (given
 * or recorded) of its clusters; skip leaves one cluster out. */
static void ips_in_use(const cn_fleet *f, const flnet *n, const char *skip, iplist *l)
{
    for (size_t i = 0; i < f->nvms; i++)
        if ((!skip || strcmp(f->vms[i].cluster, skip)) && cn_fl_vm_on_lnet(f, &f->vms[i], n)) ip_add(l, f->vms[i].ip);
    for (size_t i = 0; i < f->nclusters; i++)
        if ((!skip || strcmp(f->clusters[i].name, skip)) && !strcmp(f->clusters[i].lnet, n->name))
            ip_add(l, cn_fl_endpoint(&f->clusters[i]));
}

/* count more addresses, lowest free first; they join l. */
static int ip_take(const flnet *n, iplist *l, size_t count, uint32_t *out, cn_err *err)
{
    int rc = cn_ipplan_allocate(&n->net, l->v, l->n, count, out, err);
    if (rc < 0) return rc;
    for (size_t i = 0; i < count; i++) ip_add(l, out[i]);
    return 0;
}

/* ---- cn_fleet_plan_cluster ---- */

static int cmp_index_desc(const void *a, const void *b)
{
    const fvm *x = *(const fvm *const *)a, *y = *(const fvm *const *)b;
    return x->index != y->index ? (x->index < y->index ? 1 : -1) : strcmp(y->name, x->name);
}

/* The cluster's VMs of one set (pool NULL: the control plane), not being
 * deleted, highest index first; *next: the index after every VM of the
 * set that exists (deleted or not), so no name is ever reused. */
static size_t set_vms(const cn_fleet *f, const fcluster *c, const char *pool, const fvm **out, long *next)
{
    size_t n = 0;
    *next = 0;
    for (size_t i = 0; i < f->nvms; i++) {
        const fvm *v = &f->vms[i];
        if (strcmp(v->cluster, c->name) || !(v->pool == pool || (v->pool && pool && !strcmp(v->pool, pool)))) continue;
        if (v->index >= *next) *next = v->index + 1;
        if (!v->deleting) out[n++] = v;
    }
    qsort(out, n, sizeof *out, cmp_index_desc);
    return n;
}

static bool pool_in_spec(const fcluster *c, const char *pool)
{
    for (size_t i = 0; i < c->npools; i++)
        if (!strcmp(c->pools[i].name, pool)) return true;
    return false;
}

typedef struct newvm {
    char *name;
    int set;                       /* -1: control plane, else the pool */
    int host;
    uint32_t ip;
} newvm;

static json_t *vm_object(const cn_fleet *f, const fcluster *c, const flnet *n, const newvm *nv, const char *endpoint)
{
    const fpool *p = nv->set < 0 ? NULL : &c->pools[nv->set];
    const cn_vm_size *z = cn_vm_size_find(p ? p->size : c->cp_size);
    char ip[CN_IP4_STRLEN], gw[CN_IP4_STRLEN];
    cn_ip4_str(nv->ip, ip);
    cn_ip4_str(n->net.gateway, gw);
    json_t *labels = json_pack("{s:s, s:s}", "fleet.cairn.io/cluster", c->name, "fleet.cairn.io/role",
                               p ? "worker" : "control-plane");
    if (p) json_object_set_new(labels, "fleet.cairn.io/pool", json_string(p->name));
    char *pki = cn_asprintf("%s-pki", c->name);
    json_t *spec = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:i, s:s, s:s, s:i, s:s, s:o, s:s, s:s, s:s, s:s, s:s, "
                             "s:s, s:b}",
                             "cluster", c->name, "role", p ? "worker" : "controlPlane", "pool", p ? p->name : "",
                             "vmSize", z ? z->name : (p ? p->size : c->cp_size), "cpu", z ? z->vcpu : 0,
                             "memoryMiB", (json_int_t)(z ? z->mem_mib : 0), "gpus", z ? z->gpus : 0,
                             "host", f->hosts[nv->host].name, "ip", ip, "prefixLength", n->net.prefix, "gateway", gw,
                             "dnsServers", n->dns ? json_deep_copy(n->dns) : json_array(), "vmSwitchName",
                             n->vmswitch ? n->vmswitch : "", "kubernetesVersion", c->version,
                             "controlPlaneEndpoint", endpoint, "pkiSecret", pki, "podCidr", c->pod_cidr,
                             "serviceCidr", c->svc_cidr, "running", 1);
    free(pki);
    json_object_set_new(spec, "labels", p && p->labels ? json_deep_copy(p->labels) : json_object());
    json_object_set_new(spec, "taints", p && p->taints ? json_deep_copy(p->taints) : json_array());
    json_object_set_new(spec, "etcdMembers", json_array());
    return json_pack("{s:s, s:s, s:{s:s, s:o, s:[s]}, s:o}", "apiVersion", "fleet.cairn.io/v1", "kind",
                     "VirtualMachine", "metadata", "name", nv->name, "labels", labels, "finalizers",
                     "fleet.cairn.io/vm", "spec", spec);
}

/* Control planes of 3 or 5 run etcd: every new VM gets the initial
 * cluster, the members that exist and the new ones, by index. */
static void set_etcd_members(const cn_fleet *f, const fcluster *c, json_t *create, const newvm *nv, size_t nnew)
{
    if (c->cp_count < 3) return;
    const fvm **cp = cn_calloc(f->nvms + 1, sizeof *cp);
    long next;
    size_t ncp = set_vms(f, c, NULL, cp, &next);
    json_t *members = json_array();
    char ip[CN_IP4_STRLEN];
    for (size_t i = ncp; i-- > 0;) {
        cn_ip4_str(cp[i]->ip, ip);
        json_array_append_new(members, json_pack("{s:s, s:s}", "name", cp[i]->name, "ip", ip));
    }
    for (size_t i = 0; i < nnew; i++) {
        if (nv[i].set >= 0) continue;
        cn_ip4_str(nv[i].ip, ip);
        json_array_append_new(members, json_pack("{s:s, s:s}", "name", nv[i].name, "ip", ip));
    }
    size_t i;
    json_t *vm;
    json_array_foreach(create, i, vm)
        json_object_set_new(json_object_get(vm, "spec"), "etcdMembers", json_deep_copy(members));
    json_decref(members);
    free(cp);
}

int cn_fleet_plan_cluster(const cn_fleet *f, const char *name, const char *surge_pool, int surge,
                          json_t **create, json_t **remove, char **endpoint, cn_err *err)
{
    *create = NULL;
    *remove = NULL;
    *endpoint = NULL;
    const fcluster *c = cn_fl_find_cluster(f, name);
    if (!c) {
        cn_err_set(err, 404, "NotFound", "cluster \"%s\" not found", name ? name : "");
        return -ENOENT;
    }
    const flnet *n = cn_fl_find_lnet(f, c->lnet);
    if (!n) {
        cn_err_set(err, 404, "NotFound", "cluster \"%s\": logical network \"%s\" not found", c->name, c->lnet);
        return -ENOENT;
    }
    const fvm **vms = cn_calloc(f->nvms + 1, sizeof *vms);
    newvm *nv = cn_calloc(cn_fl_cluster_nodes(c) + (surge > 0 ? (size_t)surge : 0) + 1, sizeof *nv);
    size_t nnew = 0;
    json_t *rm = json_array();
    iplist used = { 0 };
    plview p;
    cn_plview_init(&p, f);
    int rc = 0;

    /* What each set has and wants: the excess goes (highest index first),
     * the missing get the next indexes. */
    for (int s = -1; s < (int)c->npools; s++) {
        const char *pool = s < 0 ? NULL : c->pools[s].name;
        long next;
        size_t have = set_vms(f, c, pool, vms, &next);
        size_t want = (size_t)cn_fl_wanted(c, s, surge_pool, surge);
        for (size_t i = 0; have > want && i < have - want; i++) json_array_append_new(rm, json_string(vms[i]->name));
        for (size_t k = have; k < want; k++, next++) {
            nv[nnew].name = s < 0 ? cn_asprintf("%s-cp-%ld", c->name, next)
                                  : cn_asprintf("%s-%s-%ld", c->name, pool, next);
            nv[nnew++].set = s;
        }
    }
    /* Workers of pools dropped from the spec go too. */
    for (size_t i = f->nvms; i-- > 0;) {
        const fvm *v = &f->vms[i];
        if (!strcmp(v->cluster, c->name) && v->pool && !v->deleting && !pool_in_spec(c, v->pool))
            json_array_append_new(rm, json_string(v->name));
    }

    ips_in_use(f, n, NULL, &used);
    uint32_t ep = cn_fl_endpoint(c);
    if (!ep && !c->deleting && (rc = ip_take(n, &used, 1, &ep, err)) < 0) goto fail;
    uint32_t *ips = cn_calloc(nnew + 1, sizeof *ips);
    rc = nnew ? ip_take(n, &used, nnew, ips, err) : 0;
    for (size_t i = 0; i < nnew; i++) nv[i].ip = ips[i];
    free(ips);
    if (rc < 0) goto fail;

    /* Hosts: the VMs that exist, then what other admitted clusters still
     * want (admission counted them), then ours, set by set. */
    cn_plview_add_real(&p, f, NULL, NULL, false);
    cn_plview_add_missing(&p, f, c->name);
    for (size_t i = 0; i < nnew; i++) {
        const char *pool = nv[i].set < 0 ? NULL : c->pools[nv[i].set].name;
        const char *size = nv[i].set < 0 ? c->cp_size : c->pools[nv[i].set].size;
        nv[i].host = cn_pl_place_one(cn_plview_get(&p), c->name, pool, size, false);
        if (nv[i].host < 0) {
            const cn_vm_size *z = cn_vm_size_find(size);
            cn_err_set(err, 409, "Conflict", "cluster \"%s\": no host has room for VM \"%s\" (%s: %d vCPU, %lld MiB) "
                       "with %d %% of each host held back", c->name, nv[i].name, size, z ? z->vcpu : 0,
                       (long long)(z ? z->mem_mib : 0), CN_PL_RESERVE_PCT);
            rc = -ENOSPC;
            goto fail;
        }
        cn_plview_add(&p, c->name, pool, size, nv[i].host);
    }

    char eps[CN_IP4_STRLEN] = "";
    if (ep) cn_ip4_str(ep, eps);
    json_t *cr = json_array();
    for (size_t i = 0; i < nnew; i++) json_array_append_new(cr, vm_object(f, c, n, &nv[i], eps));
    set_etcd_members(f, c, cr, nv, nnew);
    *create = cr;
    *remove = CN_TAKE_PTR(rm);
    *endpoint = ep ? cn_strdup(eps) : NULL;
    rc = 0;
    goto out;
fail:
    if (err && err->code == 409 && !strstr(err->message, "cluster \"")) cn_err_wrap(err, "cluster \"%s\"", c->name);
    if (rc != -ENOENT) rc = -ENOSPC;
out:
    for (size_t i = 0; i < nnew; i++) free(nv[i].name);
    free(nv);
    free(vms);
    free(used.v);
    json_decref(rm);
    cn_plview_release(&p);
    return rc;
}

/* ---- cn_fleet_place_vm ---- */

static int answer(const char *name, char **host)
{
    *host = cn_strdup(name);
    return 0;
}

static bool host_ok(const cn_fleet *f, int h) { return h >= 0 && f->hosts[h].schedulable; }

static bool same_set(const fvm *a, const fvm *b)
{
    return !strcmp(a->cluster, b->cluster) && (a->pool == b->pool || (a->pool && b->pool && !strcmp(a->pool, b->pool)));
}

/* Rebalancing moves one VM of a set per snapshot: the highest-index VM on
 * the host holding most of the set, and only to a host that holds at least
 * two fewer (so the move strictly improves the spread and never flips
 * back). */
static int rebalance(const cn_fleet *f, const fvm *v, int cur, char **host)
{
    int *count = cn_calloc(f->nhosts + 1, sizeof *count);
    const fvm *mover = NULL;
    int from = -1;
    for (size_t i = 0; i < f->nvms; i++) {
        const fvm *w = &f->vms[i];
        int h = cn_fl_find_host(f, w->host);
        if (!w->deleting && same_set(w, v) && h >= 0) count[h]++;
    }
    for (size_t i = 0; i < f->nvms; i++) {
        const fvm *w = &f->vms[i];
        int h = cn_fl_find_host(f, w->host);
        if (w->deleting || !same_set(w, v) || !host_ok(f, h)) continue;
        if (!mover || count[h] > count[from] || (count[h] == count[from] && h < from) ||
            (h == from && (w->index > mover->index || (w->index == mover->index && strcmp(w->name, mover->name) > 0))))
            mover = w, from = h;
    }
    int to = -1;
    if (mover == v) {
        plview p;
        cn_plview_init(&p, f);
        cn_plview_add_real(&p, f, NULL, v->name, false);
        to = cn_pl_place_one(cn_plview_get(&p), v->cluster, v->pool, v->size, false);
        cn_plview_release(&p);
        if (to >= 0 && count[to] >= count[cur] - 1) to = -1;
    }
    free(count);
    return answer(f->hosts[to >= 0 ? to : cur].name, host);
}

int cn_fleet_place_vm(const cn_fleet *f, const char *vm, bool rebalance_on, char **host, cn_err *err)
{
    *host = NULL;
    const fvm *v = cn_fl_find_vm(f, vm);
    if (!v) {
        cn_err_set(err, 404, "NotFound", "virtual machine \"%s\" not found", vm ? vm : "");
        return -ENOENT;
    }
    int cur = cn_fl_find_host(f, v->host);
    if (v->deleting) return answer(v->host, host);    /* going away where it is */
    if (host_ok(f, cur)) return rebalance_on ? rebalance(f, v, cur, host) : answer(v->host, host);

    /* Failover: every VM that has lost its host is placed in name order on
     * the same view, so the answers of one snapshot agree with each other
     * (two VMs of a set do not both pick the same emptiest host). The
     * reserve is what failover may use, when nothing fits without it. */
    plview p;
    cn_plview_init(&p, f);
    cn_plview_add_real(&p, f, NULL, NULL, true);
    int to = -1;
    for (size_t i = 0; i < f->nvms; i++) {
        const fvm *w = &f->vms[i];
        if (w->deleting || host_ok(f, cn_fl_find_host(f, w->host))) continue;
        int h = cn_pl_place_one(cn_plview_get(&p), w->cluster, w->pool, w->size, false);
        if (h < 0) h = cn_pl_place_one(cn_plview_get(&p), w->cluster, w->pool, w->size, true);
        if (w == v) {
            to = h;
            break;
        }
        cn_plview_add(&p, w->cluster, w->pool, w->size, h);
    }
    cn_plview_release(&p);
    if (to >= 0) return answer(f->hosts[to].name, host);
    const cn_vm_size *z = cn_vm_size_find(v->size ? v->size : FLEET_DEFAULT_SIZE);
    char why[160];
    if (cur >= 0 && (f->hosts[cur].maintenance || !strcmp(f->hosts[cur].phase, "Maintenance")))
        snprintf(why, sizeof why, "host \"%s\" is in maintenance", v->host);
    else if (cur >= 0)
        snprintf(why, sizeof why, "host \"%s\" is %s", v->host, f->hosts[cur].phase);
    else if (*v->host)
        snprintf(why, sizeof why, "host \"%s\" is gone", v->host);
    else
        snprintf(why, sizeof why, "it has no host");
    cn_err_set(err, 409, "Conflict", "no host can take VM \"%s\" (%s: %d vCPU, %lld MiB) now that %s: every other "
               "host is full or not Ready", v->name, z ? z->name : (v->size ? v->size : "?"), z ? z->vcpu : 0,
               (long long)(z ? z->mem_mib : 0), why);
    return -ENOSPC;
}

/* ---- cn_fleet_ip_plan ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int pool_of(const flnet *n, uint32_t ip)
{
    for (size_t i = 0; i < n->npools; i++)
        if (ip >= n->ranges[i].start && ip <= n->ranges[i].end) return (int)i;
    return -1;
}

/* Take count addresses and count them per pool in tally. */
static uint32_t take_tally(const flnet *n, iplist *l, size_t count, size_t *tally)
{
    uint32_t *out = cn_calloc(count + 1, sizeof *out), first = 0;
    if (count && ip_take(n, l, count, out, NULL) == 0) {
        first = out[0];
        for (size_t i = 0; i < count; i++)
            if (pool_of(n, out[i]) >= 0) tally[pool_of(n, out[i])]++;
    }
    free(out);
    return first;
}

static json_t *range_json(const cn_ip_range *r)
{
    char a[CN_IP4_STRLEN], b[CN_IP4_STRLEN];
    cn_ip4_str(r->start, a);
    cn_ip4_str(r->end, b);
    return json_pack("{s:s, s:s}", "start", a, "end", b);
}

json_t *cn_fleet_ip_plan(const cn_fleet *f, const json_t *obj, cn_err *err)
{
    if (cn_fleet_admit_cluster(f, obj, NULL, err) < 0) return NULL;
    json_t *co = json_deep_copy(obj);
    cn_fleet_default_cluster(co);
    fcluster c;
    const flnet *n = NULL;
    if (cn_fl_parse_cluster(co, &c, err) < 0 || !(n = cn_fl_find_lnet(f, c.lnet))) {
        json_decref(co);
        return NULL;
    }
    size_t np = n->npools;
    size_t *others = cn_calloc(np + 1, sizeof *others), *nodes = cn_calloc(np + 1, sizeof *nodes);
    size_t *surge = cn_calloc(np + 1, sizeof *surge), *epn = cn_calloc(np + 1, sizeof *epn);
    iplist used = { 0 };
    /* What others hold now, then what they still reserve, lowest first as
     * their plans will take it; then this cluster: endpoint, nodes, surge. */
    ips_in_use(f, n, c.name, &used);
    for (size_t i = 0; i < used.n; i++)
        if (pool_of(n, used.v[i]) >= 0) others[pool_of(n, used.v[i])]++;
    for (size_t i = 0; i < f->nclusters; i++) {
        const fcluster *o = &f->clusters[i];
        if (!strcmp(o->name, c.name) || strcmp(o->lnet, n->name)) continue;
        size_t held, res = cn_fl_reserve(f, o, n, &held);
        size_t have = held + (o->recorded_ep && !o->cp_ip && cn_fl_in_pools(n, o->recorded_ep));
        if (res > have) take_tally(n, &used, res - have, others);
    }
    uint32_t ep = c.cp_ip ? c.cp_ip : take_tally(n, &used, 1, epn);
    take_tally(n, &used, cn_fl_cluster_nodes(&c), nodes);
    take_tally(n, &used, 1, surge);

    json_t *pools = json_array();
    for (size_t i = 0; i < np; i++) {
        char a[CN_IP4_STRLEN], b[CN_IP4_STRLEN];
        cn_ip4_str(n->ranges[i].start, a);
        cn_ip4_str(n->ranges[i].end, b);
        size_t size = (size_t)(n->ranges[i].end - n->ranges[i].start) + 1;
        size_t taken = others[i] + nodes[i] + surge[i] + epn[i];
        json_array_append_new(pools, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
                                               n->pool_names[i], "start", a, "end", b, "size", (json_int_t)size,
                                               "usedByOthers", (json_int_t)others[i], "nodes", (json_int_t)nodes[i],
                                               "surge", (json_int_t)surge[i], "endpoint", (json_int_t)epn[i],
                                               "freeAfter", (json_int_t)(size > taken ? size - taken : 0)));
    }
    char eps[CN_IP4_STRLEN];
    cn_ip4_str(ep, eps);
    int epool = pool_of(n, ep);
    const char *epname = epool >= 0 && *n->pool_names[epool] ? n->pool_names[epool] : "";
    char *epdesc = c.cp_ip ? cn_asprintf("%s (given)", eps) : cn_asprintf("%s (from pool %s)", eps, epname);
    json_t *lb = json_array();
    for (size_t i = 0; i < c.nlb; i++) json_array_append_new(lb, range_json(&c.lb[i]));
    cn_cluster_net me = { .cp_ip = c.cp_ip };
    json_t *report = json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:s, s:I}", "cluster", c.name, "logicalNetwork",
                               n->name, "pools", pools, "controlPlaneEndpoint", epdesc, "loadBalancerPools", lb,
                               "podCidr", c.pod_cidr, "serviceCidr", c.svc_cidr, "ipsNeeded",
                               (json_int_t)cn_ipplan_pool_need(cn_fl_cluster_nodes(&c), &me));
    free(epdesc);
    free(others);
    free(nodes);
    free(surge);
    free(epn);
    free(used.v);
    json_decref(co);
    return report;
}

/* ---- status helpers ---- */

json_t *cn_fleet_host_allocated(const cn_fleet *f, const char *name)
{
    if (cn_fl_find_host(f, name) < 0) return NULL;
    long long cpu = 0, mem = 0, n = 0;
    for (size_t i = 0; i < f->nvms; i++) {
        const cn_vm_size *z = cn_vm_size_find(f->vms[i].size ? f->vms[i].size : FLEET_DEFAULT_SIZE);
        if (strcmp(f->vms[i].host, name)) continue;
        n++;
        cpu += z ? z->vcpu : 0;
        mem += z ? z->mem_mib : 0;
    }
    char m[32];
    snprintf(m, sizeof m, "%lldMi", mem);
    return json_pack("{s:I, s:s, s:I}", "cpu", (json_int_t)cpu, "memory", m, "vms", (json_int_t)n);
}

json_t *cn_fleet_lnet_pools(const cn_fleet *f, const char *name)
{
    const flnet *n = cn_fl_find_lnet(f, name);
    if (!n) return NULL;
    iplist used = { 0 };
    ips_in_use(f, n, NULL, &used);
    size_t *count = cn_calloc(n->npools + 1, sizeof *count);
    /* An address counts once, however many objects name it. */
    if (used.n) qsort(used.v, used.n, sizeof *used.v, cmp_u32);
    for (size_t i = 0; i < used.n; i++)
        if ((i == 0 || used.v[i] != used.v[i - 1]) && pool_of(n, used.v[i]) >= 0) count[pool_of(n, used.v[i])]++;
    json_t *out = json_array();
    for (size_t i = 0; i < n->npools; i++) {
        json_t *r = range_json(&n->ranges[i]);
        size_t size = (size_t)(n->ranges[i].end - n->ranges[i].start) + 1;
        json_object_set_new(r, "name", json_string(n->pool_names[i]));
        json_object_set_new(r, "used", json_integer((json_int_t)count[i]));
        json_object_set_new(r, "available", json_integer((json_int_t)(size - count[i])));
        json_array_append_new(out, r);
    }
    free(count);
    free(used.v);
    return out;
}
