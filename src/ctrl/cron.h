/* cron: CronJob schedules — the standard five fields (minute hour
 * day-of-month month day-of-week, with lists, ranges, steps, "*", "?" and
 * JAN-DEC / SUN-SAT names) and the descriptors @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight, @hourly and "@every <duration>", as
 * upstream's cron library parses them for the CronJob controller. Times are
 * seconds since the epoch; schedules are evaluated in UTC, or in a fixed
 * offset from UTC given in seconds.
 *
 * Day matching follows classic cron: when both day-of-month and
 * day-of-week are restricted (neither starts with "*" or "?"), a day
 * matches if either does; otherwise both must. */
#ifndef CN_CRON_H
#define CN_CRON_H

#include <stdint.h>
#include "lib/err.h"

typedef struct cn_cron cn_cron;

/* err: 400 BadRequest with upstream's wording on a bad schedule. */
int cn_cron_parse(const char *spec, cn_cron **out, cn_err *err);
void cn_cron_free(cn_cron *c);

/* The first activation strictly after t, or -1 when there is none within
 * five years (e.g. "0 0 30 2 *"). offset_s shifts the wall clock the fields
 * are read in (0 = UTC). */
int64_t cn_cron_next(const cn_cron *c, int64_t t, int64_t offset_s);

/* Fixed offset of a CronJob's spec.timeZone: NULL, "", "UTC", "Etc/UTC",
 * "GMT", "Etc/GMT", "Etc/GMT+N" (N hours west, as the tz database names
 * them) or "Etc/GMT-N". -ENOENT for any other zone. */
int cn_cron_zone_offset(const char *tz, int64_t *offset_s);

#endif
