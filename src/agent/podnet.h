/* podnet: the node's part of the Calico-style pod network.
 *
 * The cluster pod CIDR (server flag --cluster-cidr, default 10.244.0.0/16) is
 * cut into per-node blocks (--node-cidr-mask-size, default 24) by the node
 * IPAM controller in the server (src/ctrl/nodeipam.c), which writes Node
 * spec.podCIDR/podCIDRs once and never hands a block out twice. On the node
 * this module:
 *   - keeps a bridge (default "cairn0") holding the block's first address as
 *     the pods' gateway, with IP forwarding on in the node's namespace;
 *   - hands out pod IPs from the block (host-local style, persisted under
 *     DIR so an agent restart never reuses a live IP; the same owner asking
 *     again gets the same IP);
 *   - gives each pod a veth pair: the host end on the bridge, the other end
 *     "eth0" in the pod's network namespace with its IP, lo up and a default
 *     route via the gateway;
 *   - routes every other node's block via that node's IP.
 * Talks rtnetlink directly (libmnl), no `ip` processes on the pod path. */
#ifndef CN_PODNET_H
#define CN_PODNET_H

#include <stddef.h>
#include <jansson.h>
#include "lib/err.h"

typedef struct cn_podnet cn_podnet;

typedef struct cn_podnet_config {
    const char *dir;          /* DATA/net: IPAM state */
    const char *bridge;       /* NULL = "cairn0" */
    const char *block;        /* this node's spec.podCIDR, e.g. "10.244.3.0/24" */
    int mtu;                  /* 0 = 1500 */
} cn_podnet_config;

/* Set up the bridge and forwarding (idempotent; a bridge with another
 * address from an old block is fixed). */
int cn_podnet_open(const cn_podnet_config *cfg, cn_podnet **out, cn_err *err);
void cn_podnet_close(cn_podnet *n);   /* leaves the bridge and pods alone */

/* IP for owner (the pod UID), idempotent; ip gets "10.244.3.7". -ENOSPC when
 * the block is full. */
int cn_podnet_ip_alloc(cn_podnet *n, const char *owner, char ip[64], cn_err *err);
int cn_podnet_ip_release(cn_podnet *n, const char *owner);
/* Release every allocation whose owner is not in live (after a restart). */
int cn_podnet_ip_reconcile(cn_podnet *n, const char *const *live, size_t nlive);

/* Wire the pod's namespace (idempotent): veth, eth0 with ip/prefix, lo up,
 * default route. */
int cn_podnet_attach(cn_podnet *n, const char *netns_path, const char *owner, const char *ip,
                     cn_err *err);
/* Remove the pod's veth (the namespace itself is the runtime's). */
int cn_podnet_detach(cn_podnet *n, const char *owner, cn_err *err);

typedef struct cn_podnet_route {
    const char *cidr;         /* another node's block */
    const char *via;          /* that node's IP */
} cn_podnet_route;

/* Make the routes to other nodes' blocks exactly these (adds, replaces,
 * deletes routes this module added before). */
int cn_podnet_set_routes(cn_podnet *n, const cn_podnet_route *routes, size_t nroutes, cn_err *err);

/* The same from Nodes (a JSON array of v1 Nodes, borrowed, e.g. a list's
 * items): every Node other than the one named self that has an IPv4
 * spec.podCIDR (or podCIDRs entry) and an IPv4 InternalIP in
 * status.addresses gets a route to its block via that IP; Nodes lacking
 * either are skipped. */
int cn_podnet_set_routes_from_nodes(cn_podnet *n, const json_t *nodes, const char *self, cn_err *err);

#endif
