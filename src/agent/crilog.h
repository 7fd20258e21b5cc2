/* crilog: reading the CRI log files containers write (one entry a line:
 * "<RFC3339Nano time> <stdout|stderr> <P|F> <message>", P marking a part of
 * a longer line) the way `kubectl logs` wants them: the last N lines,
 * entries since a time, timestamps kept or dropped, a byte limit, and
 * follow mode, which waits for appended lines, moves on to the new file
 * when the log is rotated (renamed to <path>.1 and created again) and ends
 * when the container stops. */
#ifndef CN_AGENT_CRILOG_H
#define CN_AGENT_CRILOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/err.h"

typedef struct cn_crilog_entry {
    const char *ts;           /* the timestamp as written, not NUL-terminated */
    size_t ts_len;
    int64_t ts_ns;            /* nanoseconds since the epoch */
    bool is_stderr;
    bool partial;             /* P: the line goes on in the next entry */
    const char *msg;          /* the message, without the line's newline */
    size_t len;
} cn_crilog_entry;

/* Parse one line (without its '\n'). -EINVAL when it is not a CRI entry. */
int cn_crilog_parse(const char *line, size_t len, cn_crilog_entry *out);
/* RFC 3339 time with optional fraction and Z or ±hh:mm -> ns since epoch. */
int cn_crilog_parse_time(const char *s, size_t len, int64_t *ns);

typedef struct cn_crilog_opts {
    int64_t tail_lines;       /* < 0: all */
    int64_t since_ns;         /* 0: from the start */
    int64_t limit_bytes;      /* <= 0: no limit */
    bool timestamps;          /* prefix each entry with its timestamp and a space */
    bool follow;
    /* Follow mode: is the container still running? NULL: no. */
    bool (*running)(void *ud);
    void *ud;
} cn_crilog_opts;

typedef struct cn_crilog_reader cn_crilog_reader;

/* -ENOENT when path does not exist. */
int cn_crilog_open(const char *path, const cn_crilog_opts *opts, cn_crilog_reader **out,
                   cn_err *err);
/* Next output bytes: > 0, 0 when nothing came within timeout_ms (follow),
 * -1 at the end. */
ssize_t cn_crilog_read(cn_crilog_reader *r, char *buf, size_t max, int timeout_ms);
void cn_crilog_close(cn_crilog_reader *r);

#endif
