/* cronjob: the CronJob controller (batch/v1) — Jobs on a schedule.
 *
 * A sync keeps status.active in step with the CronJob's Jobs (a finished Job
 * leaves it, one started by hand — `kubectl create job --from=cronjob/x` —
 * joins it), records lastSuccessfulTime, deletes finished Jobs beyond
 * successfulJobsHistoryLimit (3) / failedJobsHistoryLimit (1), and then, if
 * a schedule time has come since lastScheduleTime (or creation) and within
 * startingDeadlineSeconds, starts the Job "<cronjob>-<minutes since the
 * epoch>" for it — unless suspended, or concurrencyPolicy Forbid and a Job
 * is active; Replace deletes the active Jobs first. It then sleeps until the
 * next schedule time (the work queue's delayed add), so nothing polls.
 * Schedules: cron.h; timeZone: UTC and the fixed Etc/GMT±N zones. */
#ifndef CN_CTRL_CRONJOB_H
#define CN_CTRL_CRONJOB_H

#include <stdint.h>
#include <jansson.h>
#include "ctrl/cron.h"
#include "ctrl/ctrl.h"

extern const cn_controller cn_cronjob_controller;

/* The latest activation t with earliest < t <= now, or -1; *missed gets
 * how many activations fell in that window (capped at a large number). */
int64_t cn_cj_most_recent(const cn_cron *c, int64_t earliest, int64_t now, int64_t offset_s, int64_t *missed);
/* "<cronjob>-<scheduled/60>". Owned. */
char *cn_cj_job_name(const char *cronjob, int64_t scheduled);
/* The finished Jobs (of jobs, an array) to delete so that at most succ_limit
 * successful and fail_limit failed ones remain, oldest first. New array of
 * borrowed Jobs. A negative limit keeps everything. */
json_t *cn_cj_history_excess(const json_t *jobs, int64_t succ_limit, int64_t fail_limit);

#endif
