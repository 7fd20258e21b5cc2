/* fleet: the bridge's model of the fleet, read from its API objects
 * (docs/fleet-api.md): hosts, logical networks, clusters and the node VMs
 * already made. Everything the bridge decides is computed here, purely
 * (no I/O, no clock), on top of placement.h and ipplan.h: defaults,
 * admission of a new or changed object with the exact message of the rule
 * it breaks, which VMs a cluster still needs (names, hosts, IPs), which to
 * remove when it shrinks, where a VM goes when its host is lost, and the
 * IP plan report of `cairn fleet ip-plan`. The admission plugin and the
 * controller both call it on a snapshot listed from the store, so what is
 * admitted is exactly what gets built, and a restarted bridge recomputes
 * the same answers from the same objects (nothing allocated twice). */
#ifndef CN_FLEET_H
#define CN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "lib/err.h"

typedef struct cn_fleet cn_fleet;

/* A snapshot from arrays of objects (the `items` of list responses; NULL
 * counts as empty). Objects are copied: the caller keeps its references.
 * Malformed stored objects are skipped, never fatal. */
cn_fleet *cn_fleet_new(const json_t *hosts, const json_t *lnets, const json_t *clusters,
                       const json_t *vms);
void cn_fleet_free(cn_fleet *f);

/* Fill the defaults of docs/fleet-api.md into obj's spec in place
 * (Cluster: version, control-plane count/size, pool count/size/osType,
 * pod/service CIDRs; LogicalNetwork: vlan, ipAllocationMethod). */
void cn_fleet_default_cluster(json_t *cluster);
void cn_fleet_default_lnet(json_t *lnet);

/* Admission of a create (old NULL) or an update of each kind, against the
 * rest of the fleet (the object itself, when already in f, is left out of
 * the comparison). 0, or < 0 with err: 422 Invalid (field and rule named),
 * 409 Conflict (a limit, the capacity, the pool, an overlap with another
 * cluster, an operation in progress) — the message says which limit, which
 * pool, how many IPs short, which host. Deleting a LogicalNetwork that a
 * cluster uses, or a Host that runs VMs, is refused the same way. */
int cn_fleet_admit_host(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err);
int cn_fleet_admit_lnet(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err);
int cn_fleet_admit_cluster(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err);
int cn_fleet_admit_delete(const cn_fleet *f, const char *kind, const char *name, cn_err *err);

/* What cluster `name` still needs to match its spec (pools and control
 * plane counts), with `surge` extra workers of pool surge_pool (rolling
 * upgrade; 0 normally):
 *  - *create: new reference, array of complete VirtualMachine objects
 *    (docs/fleet-api.md: metadata.name/labels, every spec field including
 *    host, ip, etcdMembers) for the VMs that do not exist yet, placed by
 *    availability set and addressed from the pools, lowest free IP first;
 *  - *remove: new reference, array of names of VMs beyond the wanted
 *    counts (highest index first: scale-down drains and deletes these);
 *  - *endpoint: the control-plane endpoint IP to record in
 *    status.controlPlaneEndpoint (the given one, the recorded one, or a
 *    fresh pool IP), caller frees.
 * -ENOENT if the cluster is unknown; -ENOSPC (409) if the fleet cannot
 * hold it any more (hosts lost), message as admission. */
int cn_fleet_plan_cluster(const cn_fleet *f, const char *name, const char *surge_pool, int surge,
                          json_t **create, json_t **remove, char **endpoint, cn_err *err);

/* Where VM `vm` should run now. Its current host when that host is Ready
 * and not in maintenance; else (failover, maintenance) a schedulable host
 * chosen by the placement rules among the others. With rebalance set, a
 * host that spreads its availability set better when one exists (a host
 * came back): at most one VM of a set per call is moved. *host is the
 * answer (caller frees); -ENOSPC (409) when no host can take it. */
int cn_fleet_place_vm(const cn_fleet *f, const char *vm, bool rebalance, char **host, cn_err *err);

/* `cairn fleet ip-plan`: how cluster obj (as it would be created) uses
 * its logical network — per pool: size, used by others, this cluster's
 * node VMs, surge, endpoint, free after; plus the endpoint, the load
 * balancer ranges and the CIDRs. New reference; NULL with err when
 * admission would refuse (the same message). */
json_t *cn_fleet_ip_plan(const cn_fleet *f, const json_t *obj, cn_err *err);

/* The Kubernetes versions clusters may be created with or upgraded to,
 * oldest first (static). Upgrades go one minor at a time, never down. */
const char *const *cn_fleet_versions(size_t *n);
const char *cn_fleet_default_version(void);

/* Status helpers for the controller (added after the first contract):
 * what the VMs placed on host `name` take, {"cpu": N, "memory": "NMi",
 * "vms": N} (Host status.allocated; VMs being deleted count until gone),
 * and the use of lnet `name`'s pools, [{"name", "start", "end", "used",
 * "available"}] (LogicalNetwork status.ipPools: used = addresses held by
 * VMs and cluster endpoints). New references; NULL if the name is
 * unknown. */
json_t *cn_fleet_host_allocated(const cn_fleet *f, const char *name);
json_t *cn_fleet_lnet_pools(const cn_fleet *f, const char *name);

#endif
