/* netlink: the few rtnetlink requests cairn needs (links, addresses,
 * routes), spoken with libmnl. See netlink.h. */
#define _GNU_SOURCE   /* setns */
#include "lib/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
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
        cn_error("netlink: cannot return to the node's network namespace: %s", strerror(errno));
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
static int talk(cn_nl *c, struct nlmsghdr *h, mnl_cb_t cb, void *data)
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

static struct nlmsghdr *msg(char *buf, uint16_t type, uint16_t flags)
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
    struct nlmsghdr *h = msg(buf, RTM_GETLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    *idx = 0;
    int rc = talk(c, h, link_cb, idx);
    return rc == -ENODEV ? 0 : rc;
}

int cn_nl_bridge_add(cn_nl *c, const char *name, const unsigned char mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    if (mac) mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
    struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(h, li);
    int rc = talk(c, h, NULL, NULL);
    return rc == -EEXIST ? 0 : rc;
}

int cn_nl_veth_add(cn_nl *c, const char *host, const char *peer, int peer_nsfd, int mtu)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, host);
    mnl_attr_put_u32(h, IFLA_MTU, (uint32_t)mtu);
    struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
    struct nlattr *pe = mnl_attr_nest_start(h, VETH_INFO_PEER);
    /* The peer's own ifinfomsg, then its attributes. */
    struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(h, sizeof *pifm);
    pifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, peer);
    mnl_attr_put_u32(h, IFLA_MTU, (uint32_t)mtu);
    if (peer_nsfd >= 0) mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
    mnl_attr_nest_end(h, pe);
    mnl_attr_nest_end(h, data);
    mnl_attr_nest_end(h, li);
    return talk(c, h, NULL, NULL);
}

int cn_nl_link_del(cn_nl *c, unsigned idx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_DELLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    int rc = talk(c, h, NULL, NULL);
    return rc == -ENODEV ? 0 : rc;
}

int cn_nl_link_up(cn_nl *c, unsigned idx, unsigned master)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    if (master) mnl_attr_put_u32(h, IFLA_MASTER, master);
    return talk(c, h, NULL, NULL);
}

int cn_nl_brport_hairpin(cn_nl *c, unsigned idx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_SETLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_BRIDGE;
    ifm->ifi_index = (int)idx;
    struct nlattr *pi = mnl_attr_nest_start(h, IFLA_PROTINFO);
    mnl_attr_put_u8(h, IFLA_BRPORT_MODE, 1);
    mnl_attr_nest_end(h, pi);
    return talk(c, h, NULL, NULL);
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
    struct nlmsghdr *h = msg(buf, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    addr_dump d = { idx, out, max, 0 };
    int rc = talk(c, h, addr_cb, &d);
    *n = d.n;
    return rc;
}

static int addr_req(cn_nl *c, uint16_t type, uint16_t flags, unsigned idx, uint32_t ip, int prefix)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, type, flags);
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
    return talk(c, h, NULL, NULL);
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

/* ---- routes ---- */

static int route_req(cn_nl *c, uint16_t type, uint16_t flags, uint32_t dst, int prefix, uint32_t via,
                     int proto)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, type, flags);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = (unsigned char)prefix;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = (unsigned char)proto;
    rt->rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
    rt->rtm_type = RTN_UNICAST;
    if (prefix > 0) mnl_attr_put_u32(h, RTA_DST, dst);
    if (via) mnl_attr_put_u32(h, RTA_GATEWAY, via);
    return talk(c, h, NULL, NULL);
}

int cn_nl_route_replace(cn_nl *c, uint32_t dst, int prefix, uint32_t via, int proto)
{
    return route_req(c, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst, prefix, via, proto);
}

int cn_nl_route_del(cn_nl *c, uint32_t dst, int prefix, int proto)
{
    int rc = route_req(c, RTM_DELROUTE, 0, dst, prefix, 0, proto);
    return rc == -ESRCH ? 0 : rc;
}

typedef struct route_dump {
    int proto;
    cn_nl_route *out;
    size_t n, cap;
} route_dump;

static int route_cb(const struct nlmsghdr *h, void *data)
{
    route_dump *d = data;
    if (h->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
    const struct rtmsg *rt = mnl_nlmsg_get_payload(h);
    if (rt->rtm_family != AF_INET || rt->rtm_protocol != d->proto) return MNL_CB_OK;
    cn_nl_route r = { 0, rt->rtm_dst_len, 0 };
    unsigned table = rt->rtm_table;
    const struct nlattr *a;
    mnl_attr_for_each(a, h, sizeof *rt) {
        switch (mnl_attr_get_type(a)) {
        case RTA_DST: if (mnl_attr_get_payload_len(a) == 4) r.dst = mnl_attr_get_u32(a); break;
        case RTA_GATEWAY: if (mnl_attr_get_payload_len(a) == 4) r.via = mnl_attr_get_u32(a); break;
        case RTA_TABLE: table = mnl_attr_get_u32(a); break;
        default: break;
        }
    }
    if (table != RT_TABLE_MAIN) return MNL_CB_OK;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->out = cn_realloc(d->out, d->cap * sizeof *d->out);
    }
    d->out[d->n++] = r;
    return MNL_CB_OK;
}

int cn_nl_route_list(cn_nl *c, int proto, cn_nl_route **out, size_t *n)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = msg(buf, RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof *rt);
    rt->rtm_family = AF_INET;
    route_dump d = { proto, NULL, 0, 0 };
    int rc = talk(c, h, route_cb, &d);
    if (rc < 0) {
        free(d.out);
        return rc;
    }
    *out = d.out;
    *n = d.n;
    return 0;
}
