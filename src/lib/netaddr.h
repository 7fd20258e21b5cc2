/* netaddr: rtnetlink through libmnl, the core other modules build on:
 * a socket bound to a network namespace, one request/ack exchange, link
 * lookup, IPv4 addresses, and a socket that hears link changes. Used by
 * the pod network (agent/podnet_nl.c adds links and routes on top) and by
 * the control-plane endpoint holder (ctrl/vip.c), so that neither starts
 * an `ip` process.
 *
 * A socket is bound to the network namespace it was opened in: one opened
 * inside a pod's namespace keeps talking to that namespace after the
 * thread has left it. Addresses are IPv4 in network byte order. All
 * functions return 0 or a negative errno. */
#ifndef CN_NETADDR_H
#define CN_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

typedef struct cn_nl cn_nl;

/* A socket in the calling thread's namespace (nsfd < 0) or in the
 * namespace nsfd refers to (entered and left by this thread). */
int cn_nl_open(int nsfd, cn_nl **out);
void cn_nl_close(cn_nl *c);

/* For modules adding their own requests: a request header of type with
 * NLM_F_REQUEST|flags at the start of buf (MNL_SOCKET_BUFFER_SIZE bytes),
 * and the exchange: send h, read replies until the ack or the end of a
 * dump, passing data messages to cb (an mnl_cb_t, may be NULL). */
struct nlmsghdr *cn_nl_msg(char *buf, uint16_t type, uint16_t flags);
typedef int (*cn_nl_cb)(const struct nlmsghdr *h, void *data);
int cn_nl_talk(cn_nl *c, struct nlmsghdr *h, cn_nl_cb cb, void *data);

/* Interface index of name; 0 when there is none. */
int cn_nl_link_index(cn_nl *c, const char *name, unsigned *idx);
/* Flags (IFF_UP, IFF_LOWER_UP, ...) and hardware address of link idx;
 * -ENODEV when there is none. */
int cn_nl_link_info(cn_nl *c, unsigned idx, unsigned *flags, unsigned char mac[6]);

typedef struct cn_nl_addr {
    uint32_t ip;
    int prefix;
} cn_nl_addr;
/* The IPv4 addresses of idx (at most max are stored; *n is how many). */
int cn_nl_addr_list(cn_nl *c, unsigned idx, cn_nl_addr *out, size_t max, size_t *n);
/* Add (or replace) ip/prefix on idx; delete it (0 if it is not there). */
int cn_nl_addr_add(cn_nl *c, unsigned idx, uint32_t ip, int prefix);
int cn_nl_addr_del(cn_nl *c, unsigned idx, uint32_t ip, int prefix);
/* Whether idx carries ip (any prefix). */
int cn_nl_addr_has(cn_nl *c, unsigned idx, uint32_t ip, bool *has);

/* A socket in this thread's namespace subscribed to link changes
 * (RTNLGRP_LINK); cn_nl_fd is pollable, and cn_nl_link_events reads what
 * is pending without blocking and tells whether link idx changed state or
 * address (appeared, went up or down, carrier came or went). */
int cn_nl_open_link_monitor(cn_nl **out);
int cn_nl_fd(const cn_nl *c);
int cn_nl_link_events(cn_nl *c, unsigned idx, bool *changed);

#endif
