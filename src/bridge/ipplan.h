/* ipplan: IP planning on a static logical network, the way AKS on Azure
 * Local plans it (shared/reference/aks-arc-facts.md §2): every node VM, one
 * rolling-upgrade surge VM per cluster and (when not given) the cluster's
 * control-plane endpoint come from the network's IP pools; the control-plane
 * endpoint given by the user and load-balancer ranges lie inside the prefix
 * but outside every pool; pod and service CIDRs must not overlap the node
 * network or each other. Pure: the bridge passes what is allocated and
 * records what this returns, so nothing is handed out twice, also across
 * restarts. */
#ifndef CN_IPPLAN_H
#define CN_IPPLAN_H

#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"

typedef struct cn_ip_range { uint32_t start, end; } cn_ip_range;   /* inclusive, host order */

typedef struct cn_lnet {
    const char *name;
    uint32_t net; int prefix;                 /* address prefix */
    uint32_t gateway;
    const cn_ip_range *pools; size_t npools;  /* static IP pools */
} cn_lnet;

/* Prefix, gateway and pools consistent: pools inside the prefix, start <=
 * end, not overlapping, not holding the network, broadcast or gateway
 * address; gateway inside the prefix. 0 or -EINVAL (422, the message names
 * the pool). */
int cn_lnet_check(const cn_lnet *n, cn_err *err);

/* A cluster's networks, as asked. cp_ip 0: picked from the pools. */
typedef struct cn_cluster_net {
    const char *name;
    uint32_t cp_ip;
    uint32_t pod_net; int pod_prefix;         /* default 10.244.0.0/16 */
    uint32_t svc_net; int svc_prefix;         /* default 10.96.0.0/12 */
    const cn_ip_range *lb; size_t nlb;        /* load-balancer ranges */
} cn_cluster_net;

/* Pool IPs a cluster consumes: its node VMs + 1 upgrade surge + 1 when its
 * control-plane endpoint comes from the pools. */
size_t cn_ipplan_pool_need(size_t node_vms, const cn_cluster_net *c);

/* The cluster's networks against the logical network and the clusters that
 * exist on it (others): control-plane IP and load-balancer ranges inside
 * the prefix and outside every pool, not used by another cluster; pod and
 * service CIDRs not overlapping each other nor the node prefix. 0 or
 * -EINVAL (422) / -EEXIST (409, taken by another cluster). */
int cn_ipplan_check_cluster(const cn_lnet *n, const cn_cluster_net *c, const cn_cluster_net *others,
                            size_t nothers, cn_err *err);

/* Take count IPs from the pools, lowest first, skipping every address in
 * used (any order). out gets them. -ENOSPC (409) with "logical network
 * \"N\": N IPs needed, only M free in its pools (F short)". */
int cn_ipplan_allocate(const cn_lnet *n, const uint32_t *used, size_t nused, size_t count, uint32_t *out,
                       cn_err *err);

#endif
