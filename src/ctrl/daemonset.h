/* daemonset: the DaemonSet controller (apps/v1) — one pod per eligible
 * node.
 *
 * A node is eligible when the daemon pod would fit it by the rules the
 * controller checks itself, as upstream: the template's nodeSelector, its
 * required node affinity, and the node's NoSchedule/NoExecute taints
 * against the pod's tolerations, which always include upstream's automatic
 * ones (not-ready and unreachable NoExecute; disk-, memory-, pid-pressure
 * and unschedulable NoSchedule; network-unavailable for host-network
 * pods). A pod already running stays unless a NoExecute taint is not
 * tolerated. The pod is then pinned to its node with a required node
 * affinity on metadata.name and bound by the default scheduler.
 *
 * Updates: RollingUpdate replaces old pods node by node, never leaving more
 * than maxUnavailable nodes without an available pod (maxSurge is not
 * supported: 0); OnDelete only creates pods of the new template when the
 * old ones are deleted. Every template gets a ControllerRevision, so
 * `kubectl rollout status|history|undo ds` work. */
#ifndef CN_CTRL_DAEMONSET_H
#define CN_CTRL_DAEMONSET_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_daemonset_controller;

/* The tolerations a daemon pod gets: the template's plus the automatic
 * ones it does not already have. New reference. */
json_t *cn_ds_tolerations(const json_t *pod_spec);
/* Does toleration tol tolerate taint (upstream's ToleratesTaint)? */
bool cn_ds_tolerates(const json_t *tol, const json_t *taint);
/* Does node satisfy a v1.NodeSelector (terms ORed, requirements ANDed;
 * matchExpressions on labels, matchFields on metadata.name)? */
bool cn_ds_node_selector_matches(const json_t *selector, const json_t *node);
/* For a pod spec (with its final tolerations) and a node: should a daemon
 * pod run there, and may an existing one keep running? */
void cn_ds_node_check(const json_t *pod_spec, const json_t *node, bool *should_run, bool *should_continue);
/* The node a daemon pod is for: spec.nodeName, else the value of its
 * metadata.name node affinity; "" if neither. Borrowed. */
const char *cn_ds_pod_node(const json_t *pod);


/* What a sync does: pods to create (node names) and delete (pod names), and
 * the status counts. nodes, pods: arrays; hash: the current template's
 * controller-revision-hash; now: epoch seconds. */
typedef struct cn_ds_plan {
    json_t *create;
    json_t *del;
    int64_t desired, current, ready, available, updated, misscheduled;
    int64_t requeue_ms;
} cn_ds_plan;
void cn_ds_plan_compute(const json_t *ds, const json_t *nodes, const json_t *pods, const char *hash,
                        int64_t now, cn_ds_plan *p);

#endif
