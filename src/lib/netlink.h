/* netlink: the rtnetlink requests beyond lib/netaddr.h (sockets, link
 * indexes, addresses): bridges, veths, bridge ports and routes, spoken
 * with libmnl so that wiring a pod's or a VM's network
 * starts no `ip` process. Used by the agent's pod network (podnet.c) and
 * the host agent's VM sandboxes (host/vm.c).
 * Each call works on one netlink socket, which is bound to the network
 * namespace it was opened in: a socket opened inside another namespace
 * keeps talking to that namespace after the thread has left it. Addresses
 * are IPv4 in network byte order. All return 0 or a negative errno. */
#ifndef CN_NETLINK_H
#define CN_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include "lib/netaddr.h"   /* sockets, links, addresses */

/* A bridge with MAC address mac (NULL: the kernel's choice); 0 when it
 * exists already (then left as it is). */
int cn_nl_bridge_add(cn_nl *c, const char *name, const unsigned char mac[6]);
/* A veth pair: host end `host` here, peer `peer` created directly in the
 * namespace peer_nsfd. */
int cn_nl_veth_add(cn_nl *c, const char *host, const char *peer, int peer_nsfd, int mtu);
int cn_nl_link_del(cn_nl *c, unsigned idx);
/* Set the MAC address of idx. */
int cn_nl_link_set_mac(cn_nl *c, unsigned idx, const unsigned char mac[6]);
/* Up, and (master > 0) enslaved to master. */
int cn_nl_link_up(cn_nl *c, unsigned idx, unsigned master);
/* Hairpin mode on bridge port idx: a frame may leave by the port it came
 * in on, so a pod reaches itself through an address translated on the
 * node (a Service's), as the kubelet's hairpin-veth mode. */
int cn_nl_brport_hairpin(cn_nl *c, unsigned idx);

typedef struct cn_nl_route {
    uint32_t dst;
    int prefix;
    uint32_t via;
} cn_nl_route;
/* Add or replace dst/prefix via gw in the main table with protocol proto. */
int cn_nl_route_replace(cn_nl *c, uint32_t dst, int prefix, uint32_t via, int proto);
int cn_nl_route_del(cn_nl *c, uint32_t dst, int prefix, int proto);
/* The main table's IPv4 routes of protocol proto; *out is owned. */
int cn_nl_route_list(cn_nl *c, int proto, cn_nl_route **out, size_t *n);

#endif
