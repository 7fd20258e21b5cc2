/* drain: what `kubectl drain --ignore-daemonsets --delete-emptydir-data
 * --force` and `kubectl uncordon` do, against a workload cluster's API
 * through src/client. The bridge drains a worker node before it scales a
 * pool down, replaces a node in a rolling upgrade, or moves the VMs off a
 * host put in maintenance.
 *
 * Drain: cordon the Node (spec.unschedulable true), then evict every pod
 * bound to it through pods/eviction (policy/v1 Eviction) except pods
 * owned by a DaemonSet and mirror (static) pods; an eviction answered 429
 * (a PodDisruptionBudget forbids it now) is retried until the timeout, as
 * kubectl does; then wait until the evicted pods are gone (deleted, or
 * replaced by a pod of another uid). Pods already terminal (Succeeded,
 * Failed) are deleted as well. emptyDir data goes with its pod. */
#ifndef CN_BRIDGE_DRAIN_H
#define CN_BRIDGE_DRAIN_H

#include "client/client.h"
#include "lib/err.h"

/* 0 when the node is cordoned and no pod to evict is left on it.
 * -ENOENT (404) when the node does not exist; -ETIMEDOUT (504 Timeout)
 * when pods remain after timeout_s seconds, the message naming one of them
 * and why (a PDB refused, or still terminating); other errors from the
 * API as they come. The node stays cordoned on failure. */
int cn_bridge_drain(cn_client *cluster, const char *node, int timeout_s, cn_err *err);

/* spec.unschedulable false again. -ENOENT when the node does not exist. */
int cn_bridge_uncordon(cn_client *cluster, const char *node, cn_err *err);

#endif
