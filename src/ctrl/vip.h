/* vip: the holder of a cluster's control-plane endpoint IP (`cairn server
 * --vip IP[/PREFIX] --vip-interface IF`), as kube-vip or keepalived do for
 * an AKS Arc control plane. While the server holds its own leader lease
 * (kube-system/cairn-vip) the address is on IF and announced by gratuitous
 * ARP (lib/garp.h) — at once, and again whenever the link changes (comes
 * up, gets its carrier back, is re-created); when the server loses the
 * lease, stops, or starts without it, the address is taken off IF. So
 * exactly one healthy server carries it, and it moves to a survivor within
 * the lease duration plus a retry period after its holder dies.
 *
 * A thread watches the lease through a callback (the server passes
 * cn_leader_is_leader of its CN_ROLE_VIP elector), polls it every
 * CN_VIP_POLL_MS, and watches the link through an rtnetlink socket. */
#ifndef CN_VIP_H
#define CN_VIP_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/err.h"

#define CN_VIP_POLL_MS 200
#define CN_VIP_GARP_COUNT 3
#define CN_VIP_GARP_INTERVAL_MS 200

typedef struct cn_vip cn_vip;

typedef struct cn_vip_config {
    const char *address;        /* "IP" or "IP/PREFIX" (prefix default 32) */
    const char *ifname;         /* NULL: "eth0" */
    bool (*is_leader)(void *ud);
    void *ud;
    int garp_count, garp_interval_ms;   /* 0: the defaults above */
} cn_vip_config;

/* "10.1.2.100" or "10.1.2.100/24" -> IP (host byte order) and prefix;
 * host bits may be set (it is an address, not a network). -EINVAL. */
int cn_vip_parse(const char *s, uint32_t *ip, int *prefix);

/* Start the thread (the first look at the lease happens at once). The
 * interface need not exist yet. Strings are copied. */
int cn_vip_start(const cn_vip_config *cfg, cn_vip **out, cn_err *err);
/* Stop; the address comes off the interface if this holder put it there
 * (call before the lease is released). NULL-safe. */
void cn_vip_stop(cn_vip *v);
/* Whether the address is on the interface by this holder's doing, and how
 * many announcements (bursts of garp_count) it has sent: for tests. */
bool cn_vip_held(cn_vip *v);
unsigned cn_vip_announcements(cn_vip *v);

#endif
