/* podnet: the node's part of the pod network — bridge and forwarding,
 * host-local IPAM, a veth per pod, routes to the other nodes' blocks (see
 * podnet.h). The netlink requests themselves are in lib/netaddr.c and lib/netlink.c.
 *
 * IPAM state is one file per allocated address, DIR/<ip>, holding the
 * owner (the pod UID). A file is written under a temporary name and then
 * link()ed to its final name, which fails when the name exists: two
 * allocators (threads, or an agent and its restarted self) can never get
 * the same address, and a file is never seen half written. DIR/.last holds
 * the last address handed out, so the search goes round the block instead
 * of reusing an address just released (host-local does the same). */
#define _GNU_SOURCE   /* mkostemp */
#include "agent/podnet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podnet-internal.h"
#include "lib/cidr.h"
#include "lib/util.h"

#define OWNER_MAX 253

struct cn_podnet {
    char *dir;
    char *bridge;
    uint32_t net, gw, bcast;   /* host byte order */
    int prefix, mtu;
    cn_nl *nl;                 /* the node's namespace */
    unsigned bridge_idx;
    pthread_mutex_t lock;      /* IPAM files and netlink socket */
};

static int fail(cn_err *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(cn_err *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        char *m = cn_vasprintf(fmt, ap);
        va_end(ap);
        cn_err_internal(err, "%s: %s", m, strerror(-rc));
        free(m);
    }
    return rc;
}

/* An address, with or without a "/len" suffix (which is ignored). */
static int parse_ip(const char *s, uint32_t *out)
{
    char tmp[CN_IP4_STRLEN];
    size_t n = s ? strcspn(s, "/") : sizeof tmp;
    if (n >= sizeof tmp) return -EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return cn_ip4_parse(tmp, out);
}

/* A node block: prefix 8..30 (a pod address, a gateway and a broadcast). */
static int parse_block(const char *s, uint32_t *net, int *prefix)
{
    if (cn_cidr4_parse(s, net, prefix) < 0 || *prefix < 8 || *prefix > 30) return -EINVAL;
    return 0;
}

/* The host end's name: "cn" + 10 hex digits of the owner's FNV-1a hash
 * (interface names are at most 15 bytes). */
static void host_ifname(const char *owner, char out[16])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)owner; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    snprintf(out, 16, "cn%010llx", (unsigned long long)(h >> 24));
}

static bool owner_ok(const char *owner)
{
    size_t n = owner ? strlen(owner) : 0;
    return n > 0 && n <= OWNER_MAX && !strpbrk(owner, "\n/");
}

/* ---- bridge ---- */

/* Sets a sysctl file to "1" unless it is already (a read-only /proc/sys,
 * as in a container, is then no obstacle). */
static int sysctl_on(const char *path)
{
    char cur[4] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, cur, sizeof cur - 1) < 0) cur[0] = '\0';
        close(fd);
        if (cur[0] == '1') return 0;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, "1\n", 2);
    int rc = n == 2 ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

/* The bridge exists, is up, and holds exactly the gateway address of the
 * block among its IPv4 addresses (an old block's gateway is removed). */
static int setup_bridge(cn_podnet *n, cn_err *err)
{
    char gw[CN_IP4_STRLEN];
    cn_ip4_str(n->gw, gw);
    /* A fixed MAC: a bridge without one takes the lowest of its ports',
     * so it would change as pods come and go and leave the other pods'
     * ARP entries for the gateway stale. Locally administered, from the
     * gateway address (unique per block). */
    unsigned char mac[6] = { 0x02, 0x63, (unsigned char)(n->gw >> 24), (unsigned char)(n->gw >> 16),
                             (unsigned char)(n->gw >> 8), (unsigned char)n->gw };
    int rc = cn_nl_bridge_add(n->nl, n->bridge, mac);
    if (rc < 0) return fail(err, rc, "podnet: creating bridge \"%s\"", n->bridge);
    rc = cn_nl_link_index(n->nl, n->bridge, &n->bridge_idx);
    if (rc == 0 && !n->bridge_idx) rc = -ENODEV;
    if (rc < 0) return fail(err, rc, "podnet: bridge \"%s\"", n->bridge);
    cn_nl_addr have[32];
    size_t nhave = 0;
    rc = cn_nl_addr_list(n->nl, n->bridge_idx, have, 32, &nhave);
    if (rc < 0) return fail(err, rc, "podnet: addresses of \"%s\"", n->bridge);
    for (size_t i = 0; i < nhave; i++) {
        if (have[i].ip == htonl(n->gw) && have[i].prefix == n->prefix) continue;
        rc = cn_nl_addr_del(n->nl, n->bridge_idx, have[i].ip, have[i].prefix);
        if (rc < 0) return fail(err, rc, "podnet: removing an old address from \"%s\"", n->bridge);
    }
    rc = cn_nl_addr_add(n->nl, n->bridge_idx, htonl(n->gw), n->prefix);
    if (rc < 0) return fail(err, rc, "podnet: adding %s/%d to \"%s\"", gw, n->prefix, n->bridge);
    rc = cn_nl_link_up(n->nl, n->bridge_idx, 0);
    if (rc < 0) return fail(err, rc, "podnet: setting \"%s\" up", n->bridge);
    /* /proc/sys/net is the namespace of whoever opens it: the node's. */
    rc = sysctl_on("/proc/sys/net/ipv4/ip_forward");
    if (rc < 0) return fail(err, rc, "podnet: turning on IP forwarding");
    return 0;
}

int cn_podnet_open(const cn_podnet_config *cfg, cn_podnet **out, cn_err *err)
{
    uint32_t net;
    int prefix;
    if (!cfg || !cfg->dir || !*cfg->dir)
        return fail(err, -EINVAL, "podnet: no state directory");
    if (parse_block(cfg->block, &net, &prefix) < 0)
        return fail(err, -EINVAL, "podnet: block \"%s\" is not a CIDR like 10.244.3.0/24 (prefix 8..30)",
                    cfg->block ? cfg->block : "");
    const char *br = cfg->bridge && *cfg->bridge ? cfg->bridge : "cairn0";
    if (strlen(br) > 15) return fail(err, -EINVAL, "podnet: bridge name \"%s\" is longer than 15", br);
    if (mkdir(cfg->dir, 0700) < 0 && errno != EEXIST)
        return fail(err, -errno, "podnet: creating \"%s\"", cfg->dir);
    cn_podnet *n = cn_calloc(1, sizeof *n);
    n->dir = cn_strdup(cfg->dir);
    n->bridge = cn_strdup(br);
    n->net = net;
    n->prefix = prefix;
    n->gw = net + 1;
    n->bcast = net | ~cn_ip4_mask(prefix);
    n->mtu = cfg->mtu > 0 ? cfg->mtu : 1500;
    pthread_mutex_init(&n->lock, NULL);
    int rc = cn_nl_open(-1, &n->nl);
    if (rc < 0) rc = fail(err, rc, "podnet: netlink");
    else rc = setup_bridge(n, err);
    if (rc < 0) {
        cn_podnet_close(n);
        return rc;
    }
    *out = n;
    return 0;
}

void cn_podnet_close(cn_podnet *n)
{
    if (!n) return;
    cn_nl_close(n->nl);
    pthread_mutex_destroy(&n->lock);
    free(n->dir);
    free(n->bridge);
    free(n);
}

/* ---- IPAM ---- */

/* The owner recorded in DIR/name ("" if unreadable). */
static void read_owner(const cn_podnet *n, const char *name, char out[OWNER_MAX + 2])
{
    char *path = cn_asprintf("%s/%s", n->dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    out[0] = '\0';
    if (fd < 0) return;
    ssize_t r = read(fd, out, OWNER_MAX + 1);
    close(fd);
    out[r > 0 ? r : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

/* Calls fn(ud, name, owner, in_block) for every allocation file; stops
 * when it returns false. in_block: the address is in the current block
 * (files of an old block are only there to be reconciled away). */
typedef bool (*alloc_visit)(void *ud, const char *name, const char *owner, bool in_block);
static int foreach_alloc(cn_podnet *n, alloc_visit fn, void *ud)
{
    DIR *d = opendir(n->dir);
    if (!d) return -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint32_t ip;
        if (e->d_name[0] == '.' || parse_ip(e->d_name, &ip) < 0) continue;
        char owner[OWNER_MAX + 2];
        read_owner(n, e->d_name, owner);
        if (!fn(ud, e->d_name, owner, (ip & cn_ip4_mask(n->prefix)) == n->net)) break;
    }
    closedir(d);
    return 0;
}

struct find { const char *owner; char *ip; };

static bool find_owner(void *ud, const char *name, const char *owner, bool in_block)
{
    struct find *f = ud;
    if (!in_block || strcmp(owner, f->owner)) return true;
    snprintf(f->ip, 64, "%s", name);
    return false;
}

/* Claims ip for owner: 0, -EEXIST when it is taken. */
static int claim(cn_podnet *n, uint32_t ip, const char *owner)
{
    char s[CN_IP4_STRLEN];
    cn_ip4_str(ip, s);
    char *tmp = cn_asprintf("%s/.tmp-XXXXXX", n->dir);
    char *path = cn_asprintf("%s/%s", n->dir, s);
    int rc = 0;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    size_t len = strlen(owner);
    if (write(fd, owner, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc == 0 && link(tmp, path) < 0) rc = -errno;
    unlink(tmp);
out:
    free(tmp);
    free(path);
    return rc;
}

static uint32_t last_handed(cn_podnet *n)
{
    char *path = cn_asprintf("%s/.last", n->dir);
    char buf[CN_IP4_STRLEN + 2] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    uint32_t ip = 0;
    if (fd >= 0) {
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[r > 0 ? r : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (parse_ip(buf, &ip) < 0) ip = 0;
    }
    return ip;
}

static void remember_last(cn_podnet *n, uint32_t ip)
{
    char s[CN_IP4_STRLEN];
    cn_ip4_str(ip, s);
    char *path = cn_asprintf("%s/.last", n->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0) return;   /* only a hint */
    size_t len = strlen(s);
    if (write(fd, s, len) != (ssize_t)len) { /* only a hint */ }
    close(fd);
}

int cn_podnet_ip_alloc(cn_podnet *n, const char *owner, char ip[64], cn_err *err)
{
    if (!owner_ok(owner)) return fail(err, -EINVAL, "podnet: bad owner \"%s\"", owner ? owner : "");
    pthread_mutex_lock(&n->lock);
    struct find f = { owner, ip };
    ip[0] = '\0';
    int rc = foreach_alloc(n, find_owner, &f);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: reading \"%s\"", n->dir);
        goto out;
    }
    if (ip[0]) goto out;   /* already has one */
    /* Pods get net+2 .. broadcast-1: not the network, gateway or broadcast. */
    uint32_t first = n->gw + 1, last = n->bcast - 1;
    uint32_t size = last - first + 1;
    uint32_t start = last_handed(n);
    start = start >= first && start <= last ? start + 1 : first;
    rc = -ENOSPC;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t cand = first + (start - first + i) % size;
        int c = claim(n, cand, owner);
        if (c == -EEXIST) continue;
        if (c < 0) {
            rc = fail(err, c, "podnet: recording an address under \"%s\"", n->dir);
            goto out;
        }
        cn_ip4_str(cand, ip);
        remember_last(n, cand);
        rc = 0;
        goto out;
    }
    char blk[CN_IP4_STRLEN];
    cn_ip4_str(n->net, blk);
    fail(err, rc, "podnet: no free address in %s/%d", blk, n->prefix);
out:
    pthread_mutex_unlock(&n->lock);
    return rc;
}

struct release { cn_podnet *n; const char *owner; const char *const *live; size_t nlive; int count; };

static bool release_one(void *ud, const char *name, const char *owner, bool in_block)
{
    struct release *r = ud;
    bool drop;
    if (r->owner) {
        drop = !strcmp(owner, r->owner);
    } else {
        /* An old block's address is never usable again: always dropped. */
        drop = true;
        for (size_t i = 0; in_block && i < r->nlive && drop; i++)
            if (r->live[i] && !strcmp(r->live[i], owner)) drop = false;
    }
    if (drop) {
        char *path = cn_asprintf("%s/%s", r->n->dir, name);
        if (unlink(path) == 0) r->count++;
        free(path);
    }
    return true;
}

int cn_podnet_ip_release(cn_podnet *n, const char *owner)
{
    if (!owner_ok(owner)) return -EINVAL;
    pthread_mutex_lock(&n->lock);
    struct release r = { n, owner, NULL, 0, 0 };
    int rc = foreach_alloc(n, release_one, &r);
    pthread_mutex_unlock(&n->lock);
    return rc < 0 ? rc : r.count;
}

int cn_podnet_ip_reconcile(cn_podnet *n, const char *const *live, size_t nlive)
{
    pthread_mutex_lock(&n->lock);
    struct release r = { n, NULL, live, nlive, 0 };
    int rc = foreach_alloc(n, release_one, &r);
    pthread_mutex_unlock(&n->lock);
    return rc < 0 ? rc : r.count;
}

/* ---- pods ---- */

/* Inside the pod's namespace (pod: a socket there): lo and eth0 up, eth0
 * holding exactly ip/prefix, the default route via the gateway. */
static int wire_pod_side(cn_podnet *n, cn_nl *pod, uint32_t ip, cn_err *err)
{
    unsigned lo = 0, eth = 0;
    int rc = cn_nl_link_index(pod, "lo", &lo);
    if (rc == 0 && lo) rc = cn_nl_link_up(pod, lo, 0);
    if (rc < 0) return fail(err, rc, "podnet: lo up in the pod");
    rc = cn_nl_link_index(pod, "eth0", &eth);
    if (rc == 0 && !eth) rc = -ENODEV;
    if (rc < 0) return fail(err, rc, "podnet: eth0 in the pod");
    cn_nl_addr have[8];
    size_t nhave = 0;
    rc = cn_nl_addr_list(pod, eth, have, 8, &nhave);
    for (size_t i = 0; rc == 0 && i < nhave; i++)
        if (have[i].ip != htonl(ip) || have[i].prefix != n->prefix)
            rc = cn_nl_addr_del(pod, eth, have[i].ip, have[i].prefix);
    if (rc < 0) return fail(err, rc, "podnet: old addresses of eth0 in the pod");
    rc = cn_nl_link_up(pod, eth, 0);
    if (rc < 0) return fail(err, rc, "podnet: eth0 up in the pod");
    rc = cn_nl_addr_add(pod, eth, htonl(ip), n->prefix);
    if (rc < 0) return fail(err, rc, "podnet: address on eth0 in the pod");
    rc = cn_nl_route_replace(pod, 0, 0, htonl(n->gw), RTPROT_BOOT);
    if (rc < 0) return fail(err, rc, "podnet: default route in the pod");
    return 0;
}

int cn_podnet_attach(cn_podnet *n, const char *netns_path, const char *owner, const char *ip,
                     cn_err *err)
{
    uint32_t addr;
    if (!owner_ok(owner)) return fail(err, -EINVAL, "podnet: bad owner \"%s\"", owner ? owner : "");
    if (!ip || parse_ip(ip, &addr) < 0 || (addr & cn_ip4_mask(n->prefix)) != n->net || addr == n->gw ||
        addr == n->net || addr == n->bcast)
        return fail(err, -EINVAL, "podnet: \"%s\" is not a pod address of this node's block", ip ? ip : "");
    char host[16];
    host_ifname(owner, host);
    int nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail(err, -errno, "podnet: opening network namespace \"%s\"", netns_path);
    cn_nl *pod = NULL;
    unsigned hidx = 0, peer = 0;
    pthread_mutex_lock(&n->lock);
    int rc = cn_nl_open(nsfd, &pod);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: entering network namespace \"%s\"", netns_path);
        goto out;
    }
    rc = cn_nl_link_index(n->nl, host, &hidx);
    if (rc == 0) rc = cn_nl_link_index(pod, "eth0", &peer);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: looking up \"%s\"", host);
        goto out;
    }
    /* Half of an earlier pair (the namespace was replaced, or the other
     * end was removed): start over. Both present: only re-check the rest. */
    if (hidx && !peer) rc = cn_nl_link_del(n->nl, hidx), hidx = 0;
    else if (!hidx && peer) rc = cn_nl_link_del(pod, peer), peer = 0;
    if (rc == 0 && !hidx) {
        rc = cn_nl_veth_add(n->nl, host, "eth0", nsfd, n->mtu);
        if (rc == 0) rc = cn_nl_link_index(n->nl, host, &hidx);
        if (rc == 0 && !hidx) rc = -ENODEV;
    }
    if (rc < 0) {
        rc = fail(err, rc, "podnet: creating veth \"%s\"", host);
        goto out;
    }
    /* The bridge may have been removed (or made again) since open. */
    unsigned br = 0;
    rc = cn_nl_link_index(n->nl, n->bridge, &br);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: bridge \"%s\"", n->bridge);
        goto out;
    }
    if (br != n->bridge_idx && (rc = setup_bridge(n, err)) < 0) goto out;
    rc = cn_nl_link_up(n->nl, hidx, n->bridge_idx);
    if (rc == 0) rc = cn_nl_brport_hairpin(n->nl, hidx);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: putting \"%s\" on \"%s\"", host, n->bridge);
        goto out;
    }
    rc = wire_pod_side(n, pod, addr, err);
out:
    pthread_mutex_unlock(&n->lock);
    cn_nl_close(pod);
    close(nsfd);
    return rc;
}

int cn_podnet_detach(cn_podnet *n, const char *owner, cn_err *err)
{
    if (!owner_ok(owner)) return fail(err, -EINVAL, "podnet: bad owner \"%s\"", owner ? owner : "");
    char host[16];
    host_ifname(owner, host);
    unsigned idx = 0;
    pthread_mutex_lock(&n->lock);
    int rc = cn_nl_link_index(n->nl, host, &idx);
    if (rc == 0 && idx) rc = cn_nl_link_del(n->nl, idx);
    pthread_mutex_unlock(&n->lock);
    return rc < 0 ? fail(err, rc, "podnet: removing veth \"%s\"", host) : 0;
}

/* ---- routes to other nodes ---- */

int cn_podnet_set_routes(cn_podnet *n, const cn_podnet_route *routes, size_t nroutes, cn_err *err)
{
    cn_nl_route *want = cn_calloc(nroutes ? nroutes : 1, sizeof *want);
    size_t nwant = 0;
    int rc = 0;
    for (size_t i = 0; i < nroutes; i++) {
        uint32_t dst, via;
        int prefix;
        if (!routes[i].cidr || parse_block(routes[i].cidr, &dst, &prefix) < 0 || !routes[i].via ||
            parse_ip(routes[i].via, &via) < 0) {
            rc = fail(err, -EINVAL, "podnet: bad route \"%s\" via \"%s\"", routes[i].cidr ? routes[i].cidr : "",
                      routes[i].via ? routes[i].via : "");
            goto out;
        }
        if (dst == n->net && prefix == n->prefix) continue;   /* ours: on the bridge */
        want[nwant++] = (cn_nl_route){ htonl(dst), prefix, htonl(via) };
    }
    pthread_mutex_lock(&n->lock);
    cn_nl_route *have = NULL;
    size_t nhave = 0;
    rc = cn_nl_route_list(n->nl, CN_PODNET_RTPROT, &have, &nhave);
    if (rc < 0) {
        rc = fail(err, rc, "podnet: listing routes");
        goto unlock;
    }
    /* Add/replace every wanted route (a failure, e.g. a node IP that is not
     * on a connected network, is reported but the others still go in). */
    for (size_t i = 0; i < nwant; i++) {
        bool same = false;
        for (size_t j = 0; j < nhave && !same; j++)
            same = have[j].dst == want[i].dst && have[j].prefix == want[i].prefix && have[j].via == want[i].via;
        if (same) continue;
        int r = cn_nl_route_replace(n->nl, want[i].dst, want[i].prefix, want[i].via, CN_PODNET_RTPROT);
        if (r < 0 && rc == 0) {
            char d[CN_IP4_STRLEN], v[CN_IP4_STRLEN];
            cn_ip4_str(ntohl(want[i].dst), d);
            cn_ip4_str(ntohl(want[i].via), v);
            rc = fail(err, r, "podnet: route %s/%d via %s", d, want[i].prefix, v);
        }
    }
    /* Then drop ours that are no longer wanted. */
    for (size_t j = 0; j < nhave; j++) {
        bool keep = false;
        for (size_t i = 0; i < nwant && !keep; i++)
            keep = have[j].dst == want[i].dst && have[j].prefix == want[i].prefix;
        if (keep) continue;
        int r = cn_nl_route_del(n->nl, have[j].dst, have[j].prefix, CN_PODNET_RTPROT);
        if (r < 0 && rc == 0) rc = fail(err, r, "podnet: removing an old route");
    }
unlock:
    pthread_mutex_unlock(&n->lock);
    free(have);
out:
    free(want);
    return rc;
}

/* The node's IPv4 pod CIDR: spec.podCIDR, else the first IPv4 podCIDRs
 * entry; NULL if none. */
static const char *node_block(const json_t *node)
{
    const json_t *spec = json_object_get(node, "spec");
    uint32_t net;
    int prefix;
    const char *one = json_string_value(json_object_get(spec, "podCIDR"));
    if (one && cn_cidr4_parse(one, &net, &prefix) == 0) return one;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "podCIDRs"), i, v) {
        const char *s = json_string_value(v);
        if (s && cn_cidr4_parse(s, &net, &prefix) == 0) return s;
    }
    return NULL;
}

static const char *node_internal_ip(const json_t *node)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a) {
        const char *type = json_string_value(json_object_get(a, "type"));
        const char *addr = json_string_value(json_object_get(a, "address"));
        uint32_t ip;
        if (type && addr && !strcmp(type, "InternalIP") && cn_ip4_parse(addr, &ip) == 0) return addr;
    }
    return NULL;
}

int cn_podnet_set_routes_from_nodes(cn_podnet *n, const json_t *nodes, const char *self, cn_err *err)
{
    size_t cnt = json_array_size(nodes), k = 0, i;
    cn_podnet_route *r = cn_calloc(cnt ? cnt : 1, sizeof *r);
    json_t *node;
    json_array_foreach(nodes, i, node) {
        const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
        if (name && self && !strcmp(name, self)) continue;
        const char *block = node_block(node), *via = node_internal_ip(node);
        if (!block || !via) continue;
        r[k++] = (cn_podnet_route){ block, via };
    }
    int rc = cn_podnet_set_routes(n, r, k, err);
    free(r);
    return rc;
}
