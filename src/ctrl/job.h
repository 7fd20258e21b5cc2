/* job: the Job controller (batch/v1) — runs a Job's pods to completion.
 *
 * Each sync looks at the Job and the pods it controls (the pod informer's
 * owner index) and decides, in cn_job_plan (pure, unit-tested), what the
 * Job needs: more pods up to parallelism (and completions), fewer pods,
 * nothing while a failed pod's backoff runs (10 s doubling to 6 min, as
 * upstream), or a terminal condition — Complete once completions pods
 * succeeded (SuccessCriteriaMet first, as 1.32), Failed with
 * BackoffLimitExceeded or DeadlineExceeded (FailureTarget first). The
 * worker then deletes/creates pods and writes status. Indexed Jobs give
 * each pod a completion index (annotation and label
 * batch.kubernetes.io/job-completion-index, JOB_COMPLETION_INDEX, hostname
 * <job>-<index>). Suspended Jobs have no pods. A finished Job with
 * ttlSecondsAfterFinished is deleted once the time is up (upstream's
 * ttl-after-finished controller, folded in here).
 *
 * Succeeded/failed counts are cumulative in status: a pod is counted while
 * it exists and the count never goes down (no job-tracking finalizers). */
#ifndef CN_CTRL_JOB_H
#define CN_CTRL_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_job_controller;

typedef struct cn_job_plan {
    int64_t active, ready, succeeded, failed, terminating;
    int create;               /* NonIndexed: pods to create now */
    json_t *indexes;          /* Indexed: completion indexes to create (ints) */
    json_t *to_delete;        /* pods to delete (borrowed from the input) */
    int64_t requeue_ms;       /* > 0: sync again after this long */
    const char *finish;       /* "Complete", "Failed" or NULL */
    const char *reason, *message;
    bool suspended;
    bool delete_job;          /* ttlSecondsAfterFinished is up */
    char *completed_indexes;  /* Indexed: "0-2,5", owned */
} cn_job_plan;

/* pods: the Job's pods (array, borrowed); now: epoch seconds. */
void cn_job_plan_compute(const json_t *job, const json_t *pods, int64_t now, cn_job_plan *p);
void cn_job_plan_release(cn_job_plan *p);
/* The Job's new status after the plan has been carried out (new ref). */
json_t *cn_job_status(const json_t *job, const cn_job_plan *p, int64_t now);
/* Upstream's pod failure backoff: 10 s doubling per failure, capped at 360 s. */
int64_t cn_job_backoff_s(int64_t failures);
/* "0-2,5" from a sorted, deduplicated list of indexes. Owned. */
char *cn_job_format_indexes(const int64_t *idx, size_t n);

/* Set (or replace) a condition in status.conditions (object `status`);
 * lastTransitionTime changes only when the status does. Shared with the
 * other batch controllers. */
void cn_job_set_condition(json_t *status, const char *type, const char *st, const char *reason,
                          const char *message, int64_t now);

#endif
