/* sched: the scheduler inside `cairn server` (docs/scheduler.md).
 *
 * It follows pods, nodes and PriorityClasses through shared informers into
 * an in-memory cache, takes pods that name this scheduler (spec.schedulerName)
 * and have no spec.nodeName from a priority queue, picks a node (filters,
 * then scores, as kube-scheduler's default profile), assumes the pod there at
 * once and binds it through pods/binding on binder threads. Pods that fit
 * nowhere get PodScheduled=False/Unschedulable, a FailedScheduling event,
 * and, when their priority allows, preemption of lower-priority pods. It
 * talks to the API only through client/client.h. */
#ifndef CN_SCHED_H
#define CN_SCHED_H

#include <stdbool.h>
#include "client/client.h"
#include "lib/err.h"

struct cn_leader;

typedef struct cn_sched cn_sched;

typedef struct cn_sched_config {
    cn_client *client;          /* borrowed; outlives the scheduler */
    struct cn_leader *elector;  /* act only while leader; NULL = always */
    const char *name;           /* schedulerName served; NULL = "default-scheduler" */
    int binders;                /* binder threads; 0 = 32 */
    /* Seconds an unschedulable pod waits at most before it is tried again
     * without a cluster change; 0 = 60. */
    int unschedulable_retry_s;
    /* Percentage of nodes to score in large clusters; 0 = adaptive as
     * upstream (50 % - nodes/125, at least 5 %, at least 100 nodes). */
    int percentage_of_nodes_to_score;
    /* Emit the Normal "Scheduled" event for each binding (upstream does). */
    bool no_scheduled_events;
} cn_sched_config;

int cn_sched_start(const cn_sched_config *cfg, cn_sched **out, cn_err *err);
/* Stops every thread and frees the scheduler. NULL-safe. */
void cn_sched_stop(cn_sched *s);

#endif
