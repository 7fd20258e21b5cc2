/* housekeeping: the cluster-housekeeping controllers of kube-controller-
 * manager that are not about workloads — ServiceAccounts (serviceaccount.c),
 * Endpoints and EndpointSlices (endpoints.c), PodDisruptionBudget status
 * (disruption.c) and ResourceQuota usage (resourcequota.c) — and the pure
 * decision functions they are built on, exposed for unit tests. The garbage
 * collector has its own header (gc.h). */
#ifndef CN_CTRL_HOUSEKEEPING_H
#define CN_CTRL_HOUSEKEEPING_H

#include <stdint.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_ctrl_serviceaccount;
extern const cn_controller cn_ctrl_endpoints;
extern const cn_controller cn_ctrl_disruption;
extern const cn_controller cn_ctrl_resourcequota;


/* ---- disruption ---- */

/* Whether a pod counts as healthy for a PDB: Ready and not being deleted. */
bool cn_pdb_pod_healthy(const json_t *pod);
/* A "50%" or 3 (int-or-string) against total: upstream's
 * GetScaledValueFromIntOrPercent with rounding up. -1 if malformed. */
int64_t cn_pdb_scaled(const json_t *v, int64_t total);
/* The new status of pdb given the pods it selects (array) and the summed
 * scale of their controllers (expected_scale; only used for percentages and
 * maxUnavailable). now: epoch seconds (disruptedPods entries older than two
 * minutes are dropped). *requeue_s: when a disruptedPods entry expires (0:
 * none). New reference. */
json_t *cn_pdb_status(const json_t *pdb, const json_t *pods, int64_t expected_scale, int64_t now,
                      int64_t *requeue_s);

/* ---- endpoints ---- */

/* The Endpoints object for a Service given the pods of its namespace that
 * its selector matches (array), as upstream's endpoints controller: ready
 * pods in addresses, others (not terminal, with an IP) in notReadyAddresses
 * (or addresses when publishNotReadyAddresses); ports resolved by number or
 * by container port name. New reference (metadata: name, namespace,
 * labels). */
json_t *cn_endpoints_build(const json_t *svc, const json_t *pods);
/* The EndpointSlices (discovery.k8s.io/v1) for the same: one per distinct
 * set of resolved ports (usually one) and 100 endpoints, terminating pods included with
 * conditions.terminating; labels kubernetes.io/service-name and
 * endpointslice.kubernetes.io/managed-by, an ownerReference to the
 * Service. metadata.name is left to the caller. New reference (array). */
json_t *cn_endpointslices_build(const json_t *svc, const json_t *pods);
/* Whether a Service's spec.selector (a plain map; empty or absent selects
 * nothing) matches labels. */
bool cn_service_selects(const json_t *svc, const json_t *labels);

#endif
