/* netlink: the rtnetlink requests beyond lib/netaddr's (bridges, veths,
 * bridge ports, routes), spoken with libmnl so that wiring a pod's or a
 * VM's network starts no `ip` process. See netlink.h. */
#include "lib/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/util.h"

/* ---- links ---- */

int cn_nl_bridge_add(cn_nl *c, const char *name, const unsigned char mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    if (mac) mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
    struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(h, li);
    int rc = cn_nl_talk(c, h, NULL, NULL);
    return rc == -EEXIST ? 0 : rc;
}

int cn_nl_veth_add(cn_nl *c, const char *host, const char *peer, int peer_nsfd, int mtu)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
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
    return cn_nl_talk(c, h, NULL, NULL);
}

int cn_nl_link_del(cn_nl *c, unsigned idx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_DELLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    int rc = cn_nl_talk(c, h, NULL, NULL);
    return rc == -ENODEV ? 0 : rc;
}

int cn_nl_link_set_mac(cn_nl *c, unsigned idx, const unsigned char mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
    return cn_nl_talk(c, h, NULL, NULL);
}

int cn_nl_link_up(cn_nl *c, unsigned idx, unsigned master)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)idx;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    if (master) mnl_attr_put_u32(h, IFLA_MASTER, master);
    return cn_nl_talk(c, h, NULL, NULL);
}

int cn_nl_brport_hairpin(cn_nl *c, unsigned idx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_SETLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof *ifm);
    ifm->ifi_family = AF_BRIDGE;
    ifm->ifi_index = (int)idx;
    struct nlattr *pi = mnl_attr_nest_start(h, IFLA_PROTINFO);
    mnl_attr_put_u8(h, IFLA_BRPORT_MODE, 1);
    mnl_attr_nest_end(h, pi);
    return cn_nl_talk(c, h, NULL, NULL);
}

/* ---- routes ---- */

static int route_req(cn_nl *c, uint16_t type, uint16_t flags, uint32_t dst, int prefix, uint32_t via,
                     int proto)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *h = cn_nl_msg(buf, type, flags);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = (unsigned char)prefix;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = (unsigned char)proto;
    rt->rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
    rt->rtm_type = RTN_UNICAST;
    if (prefix > 0) mnl_attr_put_u32(h, RTA_DST, dst);
    if (via) mnl_attr_put_u32(h, RTA_GATEWAY, via);
    return cn_nl_talk(c, h, NULL, NULL);
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
    struct nlmsghdr *h = cn_nl_msg(buf, RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof *rt);
    rt->rtm_family = AF_INET;
    route_dump d = { proto, NULL, 0, 0 };
    int rc = cn_nl_talk(c, h, route_cb, &d);
    if (rc < 0) {
        free(d.out);
        return rc;
    }
    *out = d.out;
    *n = d.n;
    return 0;
}
