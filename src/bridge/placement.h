/* placement: the bridge's planning core — whether a cluster may be created
 * on the fleet (AKS-on-Azure-Local limits, 15 % of every resource held
 * back, and room left after losing the largest host) and on which hosts its
 * node VMs go (availability sets: a cluster's control-plane nodes on
 * distinct hosts while hosts allow, each node pool spread evenly, GPU sizes
 * only where GPUs are). Pure: no I/O, no clock; the bridge feeds it the
 * fleet as recorded and stores what it answers. Facts and numbers:
 * shared/reference/aks-arc-facts.md §1. */
#ifndef CN_PLACEMENT_H
#define CN_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"

#define CN_PL_MAX_HOSTS 16
#define CN_PL_MAX_CLUSTERS 32
#define CN_PL_MAX_VMS 200           /* every node VM of every cluster */
#define CN_PL_RESERVE_PCT 15        /* of every host resource, never planned */
#define CN_PL_MAX_POOLS 16          /* per cluster */
#define CN_PL_MAX_POOL_NODES 64
#define CN_PL_MAX_CLUSTER_NODES 200 /* all pools of one cluster */

typedef struct cn_vm_size {
    const char *name;
    int vcpu;
    int64_t mem_mib;
    int gpus;
    bool control_plane;           /* allowed for control-plane nodes */
} cn_vm_size;

/* The catalogue (Standard_A2_v2 ... Standard_NC32_A16); NULL if unknown. */
const cn_vm_size *cn_vm_size_find(const char *name);
const cn_vm_size *cn_vm_sizes(size_t *n);

typedef struct cn_pl_host {
    const char *name;
    int vcpu;
    int64_t mem_mib;
    int gpus;
    bool schedulable;             /* Ready and not in Maintenance */
} cn_pl_host;

/* A VM already placed. */
typedef struct cn_pl_vm {
    const char *cluster;
    const char *pool;             /* NULL: control plane */
    const char *size;
    int host;                     /* index into the fleet's hosts */
} cn_pl_vm;

typedef struct cn_pl_fleet {
    const cn_pl_host *hosts; size_t nhosts;
    const cn_pl_vm *vms; size_t nvms;
    size_t nclusters;             /* clusters that exist */
} cn_pl_fleet;

typedef struct cn_pl_pool {
    const char *name;             /* ^[a-z][a-z0-9]{2,11}$ */
    int count;                    /* 1..64 */
    const char *size;             /* NULL: Standard_A4_v2 */
    const char *os;               /* NULL or "Linux"; "Windows" is refused */
} cn_pl_pool;

typedef struct cn_pl_request {
    const char *cluster;
    int cp_count;                 /* 1, 3 or 5 */
    const char *cp_size;          /* NULL: Standard_A4_v2 */
    const cn_pl_pool *pools; size_t npools;
} cn_pl_request;

/* How many VMs the request makes (control plane + every pool). */
size_t cn_pl_request_vms(const cn_pl_request *r);

/* The request alone against the documented rules (the 422s of
 * cn_pl_place): 0 or -EINVAL. */
int cn_pl_check_request(const cn_pl_request *r, cn_err *err);

/* Admit r on f and place its VMs: hosts[i] gets the host index of the i-th
 * new VM — the control plane first, then each pool's nodes in order — for
 * nhosts_out >= cn_pl_request_vms(r). 0, or -EINVAL (422: a bad request,
 * the message names the field and the rule) / -ENOSPC (409: a limit or the
 * capacity, the message names which, how much is missing and the host). */
int cn_pl_place(const cn_pl_fleet *f, const cn_pl_request *r, int *hosts, size_t nhosts_out, cn_err *err);

/* The host for one more VM of cluster's set `pool` (NULL: its control
 * plane) with VM size `size` (NULL: Standard_A4_v2) on f, by the rules of
 * cn_pl_place: room left, then the fewest VMs of the set (f's VMs of that
 * cluster and pool; a VM with cluster NULL counts for capacity only), then
 * of the cluster, then the most free memory, then the lowest index. Room
 * is 85 % of each host; with use_reserve (failover: what the reserve is
 * for) 100 %. No limits are checked. The host's index, or -1 when none
 * has room (or the size is unknown). */
int cn_pl_place_one(const cn_pl_fleet *f, const char *cluster, const char *pool, const char *size, bool use_reserve);

#endif
