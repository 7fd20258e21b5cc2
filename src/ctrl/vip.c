/* vip: the control-plane endpoint holder (vip.h). */
#include "ctrl/vip.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "lib/cidr.h"
#include "lib/garp.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/util.h"

struct cn_vip {
    uint32_t ip;                /* network byte order, as netlink wants it */
    int prefix;
    char *ifname;
    char text[CN_IP4_STRLEN + 4];   /* "IP/PREFIX" for messages */
    bool (*is_leader)(void *ud);
    void *ud;
    int garp_count, garp_interval_ms;
    cn_nl *nl, *mon;
    int wake;                   /* eventfd: stop */
    pthread_t thread;
    bool started;

    pthread_mutex_t lock;       /* guards what tests read */
    bool stopping, held;
    unsigned announcements;
};

int cn_vip_parse(const char *s, uint32_t *ip, int *prefix)
{
    char addr[CN_IP4_STRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    size_t len = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
    int64_t p = 32;
    if (!s || len == 0 || len >= sizeof addr) return -EINVAL;
    memcpy(addr, s, len);
    addr[len] = '\0';
    if (cn_ip4_parse(addr, ip) < 0) return -EINVAL;
    if (slash && (cn_parse_int64(slash + 1, &p) < 0 || p < 1 || p > 32)) return -EINVAL;
    *prefix = (int)p;
    return 0;
}

static void set_held(cn_vip *v, bool held, bool announced)
{
    pthread_mutex_lock(&v->lock);
    v->held = held;
    if (announced) v->announcements++;
    pthread_mutex_unlock(&v->lock);
}

/* Tell the LAN where the address lives now. Failures are logged, not
 * fatal: the next link change or acquisition tries again. */
static void announce(cn_vip *v, unsigned idx)
{
    unsigned flags = 0;
    unsigned char mac[6];
    int r = cn_nl_link_info(v->nl, idx, &flags, mac);
    if (r < 0 || !(flags & IFF_UP)) {
        cn_debug("vip: %s is not up, announcing %s later", v->ifname, v->text);
        return;
    }
    cn_err err = CN_ERR_INIT;
    if (cn_garp_announce(idx, mac, v->ip, v->garp_count, v->garp_interval_ms, &err) < 0)
        cn_warn("vip: %s", err.message);
    else
        set_held(v, true, true);
    cn_err_clear(&err);
}

/* One look: make the interface agree with the lease. */
static void reconcile(cn_vip *v, bool link_changed)
{
    unsigned idx = 0;
    bool has = false;
    if (cn_nl_link_index(v->nl, v->ifname, &idx) < 0 || idx == 0) {
        if (v->held) cn_warn("vip: interface %s is gone; %s goes with it", v->ifname, v->text);
        set_held(v, false, false);
        return;
    }
    if (cn_nl_addr_has(v->nl, idx, v->ip, &has) < 0) return;
    bool leader = v->is_leader(v->ud);
    if (leader && !has) {
        int r = cn_nl_addr_add(v->nl, idx, v->ip, v->prefix);
        if (r < 0) {
            cn_warn("vip: cannot add %s to %s: %s", v->text, v->ifname, strerror(-r));
            return;
        }
        cn_info("vip: holding %s on %s", v->text, v->ifname);
        set_held(v, true, false);
        announce(v, idx);
    } else if (leader && (link_changed || !v->held)) {
        /* Up again, carrier back, or an address we find already there
         * (left by a predecessor in this namespace): the LAN may have
         * learnt another MAC meanwhile. */
        set_held(v, true, false);
        announce(v, idx);
    } else if (!leader && has) {
        /* Lost the lease, or a stale address of a holder that died here
         * without cleaning up: someone else may hold it now. */
        int r = cn_nl_addr_del(v->nl, idx, v->ip, v->prefix);
        if (r < 0) cn_warn("vip: cannot remove %s from %s: %s", v->text, v->ifname, strerror(-r));
        else cn_info("vip: released %s from %s", v->text, v->ifname);
        set_held(v, false, false);
    } else if (!leader) {
        set_held(v, false, false);
    }
}

static void *vip_main(void *arg)
{
    cn_vip *v = arg;
    bool link_changed = false;
    for (;;) {
        pthread_mutex_lock(&v->lock);
        bool stopping = v->stopping;
        pthread_mutex_unlock(&v->lock);
        if (stopping) break;
        reconcile(v, link_changed);
        link_changed = false;
        struct pollfd p[2] = { { v->wake, POLLIN, 0 }, { v->mon ? cn_nl_fd(v->mon) : -1, POLLIN, 0 } };
        if (poll(p, 2, CN_VIP_POLL_MS) > 0 && (p[1].revents & POLLIN)) {
            unsigned idx = 0;
            bool changed = false;
            cn_nl_link_index(v->nl, v->ifname, &idx);
            if (cn_nl_link_events(v->mon, idx, &changed) == 0 && changed) link_changed = true;
        }
    }
    /* Off the interface before the server releases the lease. */
    if (v->held) {
        unsigned idx = 0;
        if (cn_nl_link_index(v->nl, v->ifname, &idx) == 0 && idx) {
            int r = cn_nl_addr_del(v->nl, idx, v->ip, v->prefix);
            if (r < 0) cn_warn("vip: cannot remove %s from %s: %s", v->text, v->ifname, strerror(-r));
            else cn_info("vip: released %s from %s (stopping)", v->text, v->ifname);
        }
        set_held(v, false, false);
    }
    return NULL;
}

static void vip_free(cn_vip *v)
{
    cn_nl_close(v->nl);
    cn_nl_close(v->mon);
    if (v->wake >= 0) close(v->wake);
    pthread_mutex_destroy(&v->lock);
    free(v->ifname);
    free(v);
}

int cn_vip_start(const cn_vip_config *cfg, cn_vip **out, cn_err *err)
{
    uint32_t ip;
    int prefix, r;
    if (cn_vip_parse(cfg->address, &ip, &prefix) < 0)
        return cn_err_bad_request(err, "--vip: want an IPv4 address like 10.1.2.100 or 10.1.2.100/24, got \"%s\"",
                                  cfg->address ? cfg->address : "");
    if (!cfg->is_leader) return cn_err_internal(err, "vip: no lease to follow");
    cn_vip *v = cn_calloc(1, sizeof *v);
    pthread_mutex_init(&v->lock, NULL);
    v->ip = htonl(ip);
    v->prefix = prefix;
    v->ifname = cn_strdup(cfg->ifname && *cfg->ifname ? cfg->ifname : "eth0");
    char a[CN_IP4_STRLEN];
    cn_ip4_str(ip, a);
    snprintf(v->text, sizeof v->text, "%s/%d", a, prefix);
    v->is_leader = cfg->is_leader;
    v->ud = cfg->ud;
    v->garp_count = cfg->garp_count > 0 ? cfg->garp_count : CN_VIP_GARP_COUNT;
    v->garp_interval_ms = cfg->garp_interval_ms > 0 ? cfg->garp_interval_ms : CN_VIP_GARP_INTERVAL_MS;
    v->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->wake < 0) {
        r = -errno;
        cn_err_internal(err, "vip: eventfd: %s", strerror(errno));
        goto fail;
    }
    if ((r = cn_nl_open(-1, &v->nl)) < 0 || (r = cn_nl_open_link_monitor(&v->mon)) < 0) {
        cn_err_internal(err, "vip: cannot open a netlink socket: %s", strerror(-r));
        goto fail;
    }
    if ((r = pthread_create(&v->thread, NULL, vip_main, v)) != 0) {
        cn_err_internal(err, "vip: cannot start its thread: %s", strerror(r));
        r = -r;
        goto fail;
    }
    v->started = true;
    *out = v;
    return 0;
fail:
    vip_free(v);
    return r;
}

void cn_vip_stop(cn_vip *v)
{
    if (!v) return;
    if (v->started) {
        pthread_mutex_lock(&v->lock);
        v->stopping = true;
        pthread_mutex_unlock(&v->lock);
        uint64_t one = 1;
        if (write(v->wake, &one, sizeof one) < 0) { /* the poll times out anyway */ }
        pthread_join(v->thread, NULL);
    }
    vip_free(v);
}

bool cn_vip_held(cn_vip *v)
{
    pthread_mutex_lock(&v->lock);
    bool h = v->held;
    pthread_mutex_unlock(&v->lock);
    return h;
}

unsigned cn_vip_announcements(cn_vip *v)
{
    pthread_mutex_lock(&v->lock);
    unsigned n = v->announcements;
    pthread_mutex_unlock(&v->lock);
    return n;
}
