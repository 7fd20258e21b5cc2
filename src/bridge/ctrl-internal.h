/* ctrl-internal: shared by the bridge controller's files (controller.c,
 * upgrade.c, probe.c). Not a public interface. */
#ifndef CN_BRIDGE_CTRL_INTERNAL_H
#define CN_BRIDGE_CTRL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "bridge/fleet.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "lib/err.h"

/* ---- contact with the clusters' own APIs (probe.c) ---- */

/* A client of cluster `name` from its admin kubeconfig Secret
 * (fleet-system/<name>-kubeconfig). */
int cn_bridge_cluster_client(cn_client *bridge, const char *name, cn_client **out, cn_err *err);

/* A thread that asks every cluster with a recorded endpoint for its Nodes
 * every interval_ms (off the reconcile thread: an unreachable cluster
 * costs a connect timeout), remembers what it saw, and queues the
 * cluster's key on q when that changed. */
typedef struct cn_bridge_probe cn_bridge_probe;
cn_bridge_probe *cn_bridge_probe_start(cn_client *bridge, cn_informer *clusters, cn_workqueue *q,
                                       int64_t interval_ms);
void cn_bridge_probe_stop(cn_bridge_probe *p);

typedef struct cn_probe_view {
    bool reached;          /* the last attempt answered */
    int64_t last_ok_s;     /* wall time of the last answer, 0: never */
    json_t *ready;         /* node name -> true/false (Ready condition); new reference or NULL */
    char *error;           /* the last failure, or NULL */
} cn_probe_view;
/* What the last probe of cluster saw (false: never probed). Release with
 * cn_probe_view_release. */
bool cn_bridge_probe_get(cn_bridge_probe *p, const char *cluster, cn_probe_view *v);
void cn_probe_view_release(cn_probe_view *v);
/* Forget a deleted cluster. */
void cn_bridge_probe_forget(cn_bridge_probe *p, const char *cluster);

/* ---- shared helpers (controller.c) ---- */

/* Every cached object of inf, new array. */
json_t *cn_bridge_items(cn_informer *inf);
/* The VMs of a cluster (deleting ones too) in name order, new array. */
json_t *cn_bridge_cluster_vms(cn_informer *vms, const char *cluster);
/* Merge-patch the status subresource of a fleet.cairn.io object; status stolen. */
int cn_bridge_patch_status(cn_client *c, const char *plural, const char *name, json_t *status, cn_err *err);

/* ---- hosts' allocations and pools' usage (fleetstatus.c) ---- */

void cn_bridge_refresh_status(cn_client *c, const cn_fleet *f, cn_informer *hosts, cn_informer *lnets);

/* ---- the per-cluster Secrets (secrets.c) ---- */

/* fleet-system/<c>-pki (a fresh CA, service-account key pair and join
 * token) and fleet-system/<c>-kubeconfig (an admin client certificate of
 * that CA, for https://<endpoint>:6443), each made once if missing. */
int cn_bridge_ensure_secrets(cn_client *c, const json_t *cluster, const char *endpoint, cn_err *err);
/* Both Secrets gone (absent is fine). */
int cn_bridge_delete_secrets(cn_client *c, const char *cluster, cn_err *err);

#endif
