/* log: one line per message to stderr with a UTC timestamp and level. */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cn_log_threshold = CN_LOG_INFO;

void cn_log_set_level(enum cn_log_level lvl) { cn_log_threshold = (int)lvl; }

int cn_log_set_level_name(const char *name)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) {
            cn_log_set_level((enum cn_log_level)i);
            return 0;
        }
    return -EINVAL;
}

void cn_log_write(enum cn_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps concurrent threads' lines whole. */
    fprintf(stderr, "%s.%03ldZ %s %s\n", ts, now.tv_nsec / 1000000, names[lvl & 3], line);
}
