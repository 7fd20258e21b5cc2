/* fleet-internal: what the fleet model's files share (fleet.c: the
 * snapshot, parsing, defaults and admission; fleet_plan.c: VM plans,
 * failover, rebalancing and the IP plan report). Parsed views borrow their
 * strings from the JSON copies the snapshot owns. */
#ifndef CN_FLEET_INTERNAL_H
#define CN_FLEET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "bridge/fleet.h"
#include "bridge/ipplan.h"
#include "bridge/placement.h"

#define FLEET_MAX_LB 16            /* load-balancer ranges per cluster */
#define FLEET_DEFAULT_SIZE "Standard_A4_v2"

typedef struct fhost {
    const char *name;
    int vcpu;
    int64_t mem_mib;
    int gpus;
    bool schedulable;              /* phase Ready or unset, not in maintenance */
    const char *phase;             /* status.phase, "" when unset */
    bool maintenance;              /* spec.maintenance */
} fhost;

typedef struct flnet {
    const char *name;
    cn_lnet net;                   /* net.pools points at ranges */
    cn_ip_range *ranges;           /* owned */
    const char **pool_names;       /* owned array; names borrowed ("" unnamed) */
    size_t npools;
    int vlan;
    const json_t *dns;             /* spec.dnsServers */
    const char *vmswitch;
    const char *method;            /* ipAllocationMethod */
} flnet;

typedef struct fpool {
    const char *name;
    int count;
    const char *size;
    const char *os;
    const json_t *labels, *taints; /* NULL when unset */
} fpool;

typedef struct fcluster {
    const char *name;
    const json_t *obj;
    const char *version;
    const char *lnet;
    int cp_count;
    const char *cp_size;
    const char *endpoint;          /* spec.controlPlane.endpoint or NULL */
    uint32_t cp_ip;                /* the given endpoint, 0 if none */
    uint32_t recorded_ep;          /* status.controlPlaneEndpoint, 0 if none */
    fpool pools[CN_PL_MAX_POOLS];
    size_t npools;
    const char *pod_cidr, *svc_cidr;
    uint32_t pod_net, svc_net;
    int pod_prefix, svc_prefix;
    cn_ip_range lb[FLEET_MAX_LB];
    size_t nlb;
    const char *state;             /* status.provisioningState or NULL */
    bool deleting;                 /* metadata.deletionTimestamp set */
} fcluster;

typedef struct fvm {
    const char *name;
    const json_t *obj;
    const char *cluster;
    const char *pool;              /* NULL: control plane */
    const char *size;
    const char *host;              /* spec.host, "" if unset */
    uint32_t ip;                   /* 0 if unset */
    long index;                    /* the trailing -<i> of its name, -1 if none */
    bool deleting;
} fvm;

struct cn_fleet {
    json_t *objs;                  /* owns every copied object */
    fhost *hosts; size_t nhosts;
    flnet *lnets; size_t nlnets;
    fcluster *clusters; size_t nclusters;   /* by name */
    fvm *vms; size_t nvms;                  /* by name */
};

/* A placement view of the fleet (placement.h) that grows as VMs are
 * placed virtually. */
typedef struct plview {
    cn_pl_fleet f;
    cn_pl_host *hosts;
    cn_pl_vm *vms;
    size_t nvms, cap;
} plview;

int cn_fl_find_host(const cn_fleet *f, const char *name);
const flnet *cn_fl_find_lnet(const cn_fleet *f, const char *name);
const fcluster *cn_fl_find_cluster(const cn_fleet *f, const char *name);
const fvm *cn_fl_find_vm(const cn_fleet *f, const char *name);

/* Parse a (defaulted or not: missing fields read as their defaults)
 * Cluster; 0 or -EINVAL with a 422 naming the field. */
int cn_fl_parse_cluster(const json_t *obj, fcluster *c, cn_err *err);

/* Wanted VMs of a set (pool -1: the control plane), none when deleting. */
int cn_fl_wanted(const fcluster *c, int pool, const char *surge_pool, int surge);
/* VMs of cluster's set pool (NULL: control plane); deleting ones only with
 * all set. */
size_t cn_fl_count_set(const cn_fleet *f, const char *cluster, const char *pool, bool all);
/* Node VMs the cluster wants in all. */
size_t cn_fl_cluster_nodes(const fcluster *c);
bool cn_fl_in_pools(const flnet *n, uint32_t ip);
/* Whether VM v's address is on n (its cluster uses n, or is gone). */
bool cn_fl_vm_on_lnet(const cn_fleet *f, const fvm *v, const flnet *n);
/* Pool IPs of n that cluster c holds or reserves: its node VMs + 1
 * upgrade surge (or the VMs it holds, if more: a scale-down or an upgrade
 * in flight; only those while it is deleted) + 1 for an endpoint from the
 * pools. *held: its VMs' IPs in the pools now. */
size_t cn_fl_reserve(const cn_fleet *f, const fcluster *c, const flnet *n, size_t *held);
/* The cluster's endpoint as known: given, else recorded, else 0. */
uint32_t cn_fl_endpoint(const fcluster *c);

void cn_plview_init(plview *p, const cn_fleet *f);
void cn_plview_add(plview *p, const char *cluster, const char *pool, const char *size, int host);
/* Every real VM except those of skip_cluster (but for its VMs being
 * deleted, which keep their room) and skip_vm (NULL: none) and, with
 * skip_failing, those whose host is not schedulable. */
void cn_plview_add_real(plview *p, const cn_fleet *f, const char *skip_cluster, const char *skip_vm, bool skip_failing);
/* The VMs that existing clusters (all but skip) still want, placed
 * virtually cluster by cluster in name order (-1 when none fits). */
void cn_plview_add_missing(plview *p, const cn_fleet *f, const char *skip);
const cn_pl_fleet *cn_plview_get(plview *p);
void cn_plview_release(plview *p);

#endif
