/* netaddr: rtnetlink sockets, links and IPv4 addresses through libmnl
 * (netaddr.h). Moved here from the pod network so the control-plane
 * endpoint holder speaks the same requests. */
#define _GNU_SOURCE   /* setns */
#include "lib/netaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* Big enough for a dump batch of the kernel (it fills up to a page or two). */
#define NL_RCVBUF 32768

struct cn_nl {
    struct mnl_socket *s;
    unsigned portid;
    unsigned seq;
    char *buf;        /* NL_RCVBUF */
};

static int open_here(cn_nl *c)
{
    c->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!c->s) return -errno;
    if (mnl_socket_bind(c->s, 0, MNL_SOCKET_AUTOPID) < 0) return -errno;
    c->portid = mnl_socket_get_portid(c->s);
    return 0;
}

int cn_nl_open(int nsfd, cn_nl **out)
{
    cn_nl *c = cn_calloc(1, sizeof *c);
    int rc, saved = -1;
    if (nsfd >= 0) {
        /* setns moves only this thread; the socket stays bound to the
         * namespace it was created in after the thread goes back. */
        saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (saved < 0) { rc = -errno; goto out; }
        if (setns(nsfd, CLONE_NEWNET) < 0) { rc = -errno; goto out; }
    }
    rc = open_here(c);
    if (saved >= 0 && setns(saved, CLONE_NEWNET) < 0) {
        /* This thread would go on working in a pod's namespace. */
        cn_error("netlink: cannot return to this thread's network namespace: %s", strerror(errno));
        abort();
    }
out:
    if (saved >= 0) close(saved);
    if (rc < 0) {
        cn_nl_close(c);
        return rc;
    }
    c->buf = cn_malloc(NL_RCVBUF);
    *out = c;
    return 0;
}

void cn_nl_close(cn_nl *c)
{
    if (!c) return;
    if (c->s) mnl_socket_close(c->s);
    free(c->buf);
    free(c);
}

/* Send h and read replies until the ack (or the end of a dump), passing
 * data messages to cb. */
int cn_nl_talk(cn_nl *c, struct nlmsghdr *h, cn_nl_cb cb, void *data)
{
    h->nlmsg_seq = ++c->seq;
    /* NLM_F_DUMP shares bits with NLM_F_EXCL/REPLACE: only a GET dumps. */
    bool get = h->nlmsg_type == RTM_GETLINK || h->nlmsg_type == RTM_GETADDR || h->nlmsg_type == RTM_GETROUTE;
    if (!get || (h->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP) h->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(c->s, h, h->nlmsg_len) < 0) return -errno;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(c->s, c->buf, NL_RCVBUF);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        errno = 0;
        int r = mnl_cb_run(c->buf, (size_t)n, h->nlmsg_seq, c->portid, cb, data);
        if (r == MNL_CB_ERROR) return errno ? -errno : -EIO;
        if (r == MNL_CB_STOP) return 0;
    }
}

struct nlmsghdr *cn_nl_msg(char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    return h;
}

/* ---- links ---- */

static int link_cb(const struct nlmsghdr *h, void *data)
{
    if (h->nlmsg_type == RTM_NEWLINK) {
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(h);
        *(unsigned *)data = (unsigned)ifm->ifi_index;
    }
    return MNL_CB_OK;
}

int cn_nl_link_index(cn_nl *c, const char *name, unsigned *idx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_GETLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    *idx = 0;
    int rc = cn_nl_talk(c, h, link_cb, idx);
    return rc == -ENODEV ? 0 : rc;
}

/* ---- addresses ---- */

typedef struct addr_dump {
    unsigned idx;
    cn_nl_addr *out;
    size_t max, n;
} addr_dump;

static int addr_cb(const struct nlmsghdr *h, void *data)
{
    addr_dump *d = data;
    if (h->nlmsg_type != RTM_NEWADDR) return MNL_CB_OK;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
    if (ifa->ifa_family != AF_INET || ifa->ifa_index != d->idx) return MNL_CB_OK;
    const struct nlattr *a;
    mnl_attr_for_each(a, h, sizeof *ifa) {
        if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4 && d->n < d->max) {
            d->out[d->n].ip = mnl_attr_get_u32(a);
            d->out[d->n].prefix = ifa->ifa_prefixlen;
            d->n++;
        }
    }
    return MNL_CB_OK;
}

int cn_nl_addr_list(cn_nl *c, unsigned idx, cn_nl_addr *out, size_t max, size_t *n)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    addr_dump d = { idx, out, max, 0 };
    int rc = cn_nl_talk(c, h, addr_cb, &d);
    *n = d.n;
    return rc;
}

static int addr_req(cn_nl *c, uint16_t type, uint16_t flags, unsigned idx, uint32_t ip, int prefix)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, type, flags);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = idx;
    mnl_attr_put_u32(h, IFA_LOCAL, ip);
    mnl_attr_put_u32(h, IFA_ADDRESS, ip);
    if (type == RTM_NEWADDR && prefix < 31) {
        uint32_t hostmask = prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)) - 1;
        mnl_attr_put_u32(h, IFA_BROADCAST, ip | htonl(hostmask));
    }
    return cn_nl_talk(c, h, NULL, NULL);
}

int cn_nl_addr_add(cn_nl *c, unsigned idx, uint32_t ip, int prefix)
{
    return addr_req(c, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, idx, ip, prefix);
}

int cn_nl_addr_del(cn_nl *c, unsigned idx, uint32_t ip, int prefix)
{
    int rc = addr_req(c, RTM_DELADDR, 0, idx, ip, prefix);
    return rc == -EADDRNOTAVAIL ? 0 : rc;
}


int cn_nl_addr_has(cn_nl *c, unsigned idx, uint32_t ip, bool *has)
{
    cn_nl_addr addrs[64];
    size_t n = 0;
    *has = false;
    int rc = cn_nl_addr_list(c, idx, addrs, 64, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (addrs[i].ip == ip) *has = true;
    return rc;
}

/* ---- link state ---- */

typedef struct link_info {
    unsigned idx, flags;
    unsigned char mac[6];
    bool found;
} link_info;

static int link_info_cb(const struct nlmsghdr *h, void *data)
{
    link_info *li = data;
    if (h->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(h);
    if ((unsigned)ifm->ifi_index != li->idx) return MNL_CB_OK;
    li->found = true;
    li->flags = ifm->ifi_flags;
    const struct nlattr *a;
    mnl_attr_for_each(a, h, sizeof *ifm) {
        if (mnl_attr_get_type(a) == IFLA_ADDRESS && mnl_attr_get_payload_len(a) == 6)
            memcpy(li->mac, mnl_attr_get_payload(a), 6);
    }
    return MNL_CB_OK;
}

int cn_nl_link_info(cn_nl *c, unsigned idx, unsigned *flags, unsigned char mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_GETLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    link_info li = { .idx = idx };
    int rc = cn_nl_talk(c, h, link_info_cb, &li);
    if (rc == 0 && !li.found) rc = -ENODEV;
    if (rc == 0) {
        *flags = li.flags;
        memcpy(mac, li.mac, 6);
    }
    return rc;
}

int cn_nl_open_link_monitor(cn_nl **out)
{
    cn_nl *c = cn_calloc(1, sizeof *c);
    int rc = 0;
    c->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!c->s || mnl_socket_bind(c->s, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) rc = -errno;
    if (rc < 0) {
        cn_nl_close(c);
        return rc;
    }
    c->portid = mnl_socket_get_portid(c->s);
    c->buf = cn_malloc(NL_RCVBUF);
    *out = c;
    return 0;
}

int cn_nl_fd(const cn_nl *c)
{
    return mnl_socket_get_fd(c->s);
}

static int link_event_cb(const struct nlmsghdr *h, void *data)
{
    link_info *li = data;
    if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(h);
        if ((unsigned)ifm->ifi_index == li->idx) li->found = true;
    }
    return MNL_CB_OK;
}

int cn_nl_link_events(cn_nl *c, unsigned idx, bool *changed)
{
    link_info li = { .idx = idx };
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(c->s, c->buf, NL_RCVBUF);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            /* ENOBUFS: events were lost; report a change so the caller
             * looks at the link itself. */
            if (errno == ENOBUFS) {
                li.found = true;
                continue;
            }
            return -errno;
        }
        /* Multicast messages carry seq 0 and the kernel's port id 0. */
        if (mnl_cb_run(c->buf, (size_t)n, 0, 0, link_event_cb, &li) == MNL_CB_ERROR) li.found = true;
    }
    *changed = li.found;
    return 0;
}
