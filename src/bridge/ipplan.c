/* ipplan: validation and allocation of a logical network's addresses
 * (ipplan.h). Addresses are host-order integers; ranges are inclusive. */
#include "bridge/ipplan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/util.h"

static int fail(cn_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(cn_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    cn_err_set(err, code, code == 422 ? "Invalid" : "Conflict", "%s", msg);
    free(msg);
    return code == 422 ? -EINVAL : code == 409 ? -EEXIST : -EIO;
}

static uint32_t last_of(uint32_t net, int prefix) { return net | ~cn_ip4_mask(prefix); }
static bool inside(uint32_t ip, uint32_t net, int prefix) { return (ip & cn_ip4_mask(prefix)) == net; }
static bool in_range(uint32_t ip, const cn_ip_range *r) { return ip >= r->start && ip <= r->end; }
static bool ranges_overlap(const cn_ip_range *a, const cn_ip_range *b) { return a->start <= b->end && b->start <= a->end; }
static bool cidrs_overlap(uint32_t a, int ap, uint32_t b, int bp)
{
    int p = ap < bp ? ap : bp;
    return (a & cn_ip4_mask(p)) == (b & cn_ip4_mask(p));
}

static void fmt_range(const cn_ip_range *r, char out[40])
{
    char a[CN_IP4_STRLEN], b[CN_IP4_STRLEN];
    cn_ip4_str(r->start, a);
    cn_ip4_str(r->end, b);
    snprintf(out, 40, "%s-%s", a, b);
}

static bool in_pools(const cn_lnet *n, uint32_t ip)
{
    for (size_t i = 0; i < n->npools; i++)
        if (in_range(ip, &n->pools[i])) return true;
    return false;
}

int cn_lnet_check(const cn_lnet *n, cn_err *err)
{
    char pfx[CN_IP4_STRLEN], gw[CN_IP4_STRLEN], r1[40], r2[40];
    cn_ip4_str(n->net, pfx);
    cn_ip4_str(n->gateway, gw);
    if (n->prefix < 8 || n->prefix > 30 || (n->net & ~cn_ip4_mask(n->prefix)))
        return fail(err, 422, "logical network \"%s\": address prefix %s/%d: want a /8 to /30 network address",
                    n->name, pfx, n->prefix);
    uint32_t last = last_of(n->net, n->prefix);
    if (!inside(n->gateway, n->net, n->prefix) || n->gateway == n->net || n->gateway == last)
        return fail(err, 422, "logical network \"%s\": gateway %s is not a host address of %s/%d", n->name, gw, pfx,
                    n->prefix);
    if (!n->npools) return fail(err, 422, "logical network \"%s\": at least one static IP pool is needed", n->name);
    for (size_t i = 0; i < n->npools; i++) {
        const cn_ip_range *p = &n->pools[i];
        fmt_range(p, r1);
        if (p->start > p->end)
            return fail(err, 422, "logical network \"%s\": IP pool %s: the start is after the end", n->name, r1);
        if (!inside(p->start, n->net, n->prefix) || !inside(p->end, n->net, n->prefix))
            return fail(err, 422, "logical network \"%s\": IP pool %s lies outside the address prefix %s/%d", n->name,
                        r1, pfx, n->prefix);
        if (p->start == n->net || p->end == last)
            return fail(err, 422, "logical network \"%s\": IP pool %s holds the network or broadcast address",
                        n->name, r1);
        if (in_range(n->gateway, p))
            return fail(err, 422, "logical network \"%s\": the gateway %s is inside IP pool %s", n->name, gw, r1);
        for (size_t j = 0; j < i; j++)
            if (ranges_overlap(p, &n->pools[j])) {
                fmt_range(&n->pools[j], r2);
                return fail(err, 422, "logical network \"%s\": IP pools %s and %s overlap", n->name, r2, r1);
            }
    }
    return 0;
}

size_t cn_ipplan_pool_need(size_t node_vms, const cn_cluster_net *c)
{
    return node_vms + 1 + (c->cp_ip ? 0 : 1);
}

int cn_ipplan_check_cluster(const cn_lnet *n, const cn_cluster_net *c, const cn_cluster_net *others,
                            size_t nothers, cn_err *err)
{
    char a[CN_IP4_STRLEN], b[CN_IP4_STRLEN], r1[40], r2[40];
    if (c->cp_ip) {
        cn_ip4_str(c->cp_ip, a);
        if (!inside(c->cp_ip, n->net, n->prefix) || c->cp_ip == n->gateway)
            return fail(err, 422, "cluster \"%s\": control-plane IP %s must be a free host address of logical "
                        "network \"%s\"", c->name, a, n->name);
        if (in_pools(n, c->cp_ip))
            return fail(err, 422, "cluster \"%s\": control-plane IP %s is inside an IP pool of logical network "
                        "\"%s\"; it must be outside every pool", c->name, a, n->name);
    }
    cn_ip4_str(c->pod_net, a);
    cn_ip4_str(c->svc_net, b);
    if (cidrs_overlap(c->pod_net, c->pod_prefix, c->svc_net, c->svc_prefix))
        return fail(err, 422, "cluster \"%s\": pod CIDR %s/%d overlaps service CIDR %s/%d", c->name, a, c->pod_prefix,
                    b, c->svc_prefix);
    /* Both CIDRs and what they belong to, so the user sees which to move. */
    char pfx[CN_IP4_STRLEN];
    cn_ip4_str(n->net, pfx);
    if (cidrs_overlap(c->pod_net, c->pod_prefix, n->net, n->prefix))
        return fail(err, 422, "cluster \"%s\": pod CIDR %s/%d overlaps the address prefix %s/%d of logical network "
                    "\"%s\"", c->name, a, c->pod_prefix, pfx, n->prefix, n->name);
    if (cidrs_overlap(c->svc_net, c->svc_prefix, n->net, n->prefix))
        return fail(err, 422, "cluster \"%s\": service CIDR %s/%d overlaps the address prefix %s/%d of logical "
                    "network \"%s\"", c->name, b, c->svc_prefix, pfx, n->prefix, n->name);
    for (size_t i = 0; i < c->nlb; i++) {
        const cn_ip_range *l = &c->lb[i];
        fmt_range(l, r1);
        if (l->start > l->end || !inside(l->start, n->net, n->prefix) || !inside(l->end, n->net, n->prefix))
            return fail(err, 422, "cluster \"%s\": load-balancer range %s must lie inside logical network \"%s\"",
                        c->name, r1, n->name);
        for (size_t p = 0; p < n->npools; p++)
            if (ranges_overlap(l, &n->pools[p])) {
                fmt_range(&n->pools[p], r2);
                return fail(err, 422, "cluster \"%s\": load-balancer range %s overlaps IP pool %s; it must be "
                            "outside every pool", c->name, r1, r2);
            }
        if (in_range(n->gateway, l) || (c->cp_ip && in_range(c->cp_ip, l)))
            return fail(err, 422, "cluster \"%s\": load-balancer range %s holds the gateway or the control-plane IP",
                        c->name, r1);
    }
    for (size_t o = 0; o < nothers; o++) {
        const cn_cluster_net *x = &others[o];
        if (c->cp_ip && x->cp_ip == c->cp_ip) {
            cn_ip4_str(c->cp_ip, a);
            return fail(err, 409, "cluster \"%s\": control-plane IP %s is cluster \"%s\"'s", c->name, a, x->name);
        }
        for (size_t i = 0; i < c->nlb; i++) {
            if (x->cp_ip && in_range(x->cp_ip, &c->lb[i])) {
                fmt_range(&c->lb[i], r1);
                return fail(err, 409, "cluster \"%s\": load-balancer range %s holds cluster \"%s\"'s control-plane IP",
                            c->name, r1, x->name);
            }
            for (size_t j = 0; j < x->nlb; j++)
                if (ranges_overlap(&c->lb[i], &x->lb[j])) {
                    fmt_range(&c->lb[i], r1);
                    fmt_range(&x->lb[j], r2);
                    return fail(err, 409, "cluster \"%s\": load-balancer range %s overlaps %s of cluster \"%s\"",
                                c->name, r1, r2, x->name);
                }
        }
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_range(const void *a, const void *b)
{
    return cmp_u32(&((const cn_ip_range *)a)->start, &((const cn_ip_range *)b)->start);
}

int cn_ipplan_allocate(const cn_lnet *n, const uint32_t *used, size_t nused, size_t count, uint32_t *out,
                       cn_err *err)
{
    uint32_t *u = cn_calloc(nused + 1, sizeof *u);
    if (nused) memcpy(u, used, nused * sizeof *u);
    qsort(u, nused, sizeof *u, cmp_u32);
    /* Pools in address order, so "lowest first" holds across pools. */
    cn_ip_range *pools = cn_calloc(n->npools + 1, sizeof *pools);
    if (n->npools) memcpy(pools, n->pools, n->npools * sizeof *pools);
    qsort(pools, n->npools, sizeof *pools, cmp_range);
    size_t got = 0, nfree = 0;
    for (size_t p = 0; p < n->npools; p++) {
        for (uint64_t ip = pools[p].start; ip <= pools[p].end; ip++) {
            if (bsearch(&(uint32_t){ (uint32_t)ip }, u, nused, sizeof *u, cmp_u32)) continue;
            if ((uint32_t)ip == n->gateway) continue;
            nfree++;
            if (got < count) out[got++] = (uint32_t)ip;
        }
    }
    free(u);
    free(pools);
    if (got < count) {
        fail(err, 409, "logical network \"%s\": %zu IPs needed, only %zu free in its pools (%zu short)", n->name,
             count, nfree, count - nfree);
        return -ENOSPC;
    }
    return 0;
}
