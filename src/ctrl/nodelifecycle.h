/* nodelifecycle: the node lifecycle controller — kube-controller-manager's
 * node-lifecycle-controller and its NoExecute taint manager.
 *
 * A node is alive while its kubelet (or `cairn agent --simulate`) renews
 * its Lease in kube-node-lease. When the controller has not seen the Lease
 * (or the node's Ready heartbeat) change for node_monitor_grace_ms, it sets
 * the node's conditions to Unknown ("Kubelet stopped posting node
 * status."). Only nodes that have a Lease are watched this way: a Node
 * object made by hand (tests do that) has no kubelet that could ever renew
 * one, and upstream would declare it dead after the grace period; cairn
 * leaves it as it is. From the Ready condition it keeps the node's taints:
 *
 *   Ready True     -> no not-ready / unreachable taints
 *   Ready False    -> node.kubernetes.io/not-ready   NoSchedule + NoExecute
 *   Ready Unknown  -> node.kubernetes.io/unreachable NoSchedule + NoExecute
 *   unschedulable  -> node.kubernetes.io/unschedulable NoSchedule
 *
 * Pods on a node that is not Ready get Ready=False. The taint manager
 * deletes pods on a node with NoExecute taints they do not tolerate at
 * once, and those that tolerate them for tolerationSeconds that long after
 * the first such taint was added (timeAdded).
 *
 * The decisions are pure functions over jansson objects, below. */
#ifndef CN_CTRL_NODELIFECYCLE_H
#define CN_CTRL_NODELIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_nodelifecycle_controller;

#define CN_TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define CN_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define CN_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

/* upstream's Toleration.ToleratesTaint. */
bool cn_nlc_tolerates(const json_t *toleration, const json_t *taint);

/* Taint-based eviction of a pod (its spec.tolerations) from a node with
 * these taints. 0: stays (no NoExecute taint, or every one tolerated
 * without a time limit). 1: evict at *at_s (epoch seconds; <= now_s means
 * now) — at once if a NoExecute taint is not tolerated, else at the
 * earliest NoExecute timeAdded (now_s if absent) plus the smallest
 * tolerationSeconds of the tolerations used. */
int cn_nlc_eviction(const json_t *tolerations, const json_t *taints, int64_t now_s, int64_t *at_s);

/* "True", "False" or "Unknown" (also when the condition is missing). */
const char *cn_nlc_ready(const json_t *node);

/* The taints node should have given its Ready condition and
 * spec.unschedulable: other taints kept in order, ours added (NoExecute ones
 * with timeAdded = now_s) or removed. NULL when nothing changes. */
json_t *cn_nlc_desired_taints(const json_t *node, int64_t now_s);

/* status.conditions with every condition Unknown (reason
 * NodeStatusUnknown, message "Kubelet stopped posting node status.",
 * lastTransitionTime now_s when it changed, lastHeartbeatTime kept), and a
 * Ready condition added if there was none. */
json_t *cn_nlc_unknown_conditions(const json_t *node, int64_t now_s);

#endif
