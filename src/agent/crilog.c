/* crilog: CRI log files for `kubectl logs` (see crilog.h).
 *
 * The reader keeps the raw bytes of an unfinished line and the output not
 * yet handed out; it turns complete lines into output one read at a time,
 * so a large file is never held whole. Follow mode waits on inotify (on the
 * log's directory, so that a rotation's new file is seen too) rather than
 * polling the file. */
#define _GNU_SOURCE
#include "agent/crilog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define READ_BLOCK 65536
#define MAX_LINE (16u << 20)   /* a longer "line" is cut: runtimes split at 16 KiB */

struct cn_crilog_reader {
    char *path;
    int fd;
    ino_t ino;
    int ifd;                   /* inotify, follow mode only */
    cn_crilog_opts o;
    cn_buf in;                 /* bytes of an unfinished line */
    cn_buf out;                /* output not yet handed out */
    size_t out_off;
    int64_t skip_full;         /* --tail: whole entries still to skip */
    int64_t emitted;           /* bytes handed out (limitBytes) */
    int64_t stop_at;           /* without follow: the file's size at open, -1 none */
    int64_t pos;               /* bytes read from fd */
    bool done;
    bool mid_line;             /* the last entry was partial: no timestamp now */
};

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cn_crilog_parse_time(const char *s, size_t len, int64_t *ns)
{
    int Y, M, D, h, m, sec;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return -EINVAL;
    if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &m) || digits(s + 17, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return -EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        int nd = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
            if (nd < 9) frac = frac * 10 + (s[i] - '0');
        if (nd == 0) return -EINVAL;
        for (; nd < 9; nd++) frac *= 10;
    }
    int64_t off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != len) return -EINVAL;
    struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                     .tm_hour = h, .tm_min = m, .tm_sec = sec };
    time_t t = timegm(&tm);
    *ns = ((int64_t)t - off) * 1000000000 + frac;
    return 0;
}

int cn_crilog_parse(const char *line, size_t len, cn_crilog_entry *out)
{
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1) return -EINVAL;
    size_t tl = (size_t)(sp1 - line);
    const char *stream = sp1 + 1;
    size_t left = len - tl - 1;
    const char *sp2 = memchr(stream, ' ', left);
    if (!sp2) return -EINVAL;
    size_t sl = (size_t)(sp2 - stream);
    bool is_err;
    if (sl == 6 && !memcmp(stream, "stdout", 6)) is_err = false;
    else if (sl == 6 && !memcmp(stream, "stderr", 6)) is_err = true;
    else return -EINVAL;
    const char *tag = sp2 + 1;
    left = len - (size_t)(tag - line);
    /* The tag may carry more fields after ':' (P:xyz); only P/F matter. */
    const char *sp3 = memchr(tag, ' ', left);
    size_t tagl = sp3 ? (size_t)(sp3 - tag) : left;
    if (tagl == 0 || (tag[0] != 'P' && tag[0] != 'F') || (tagl > 1 && tag[1] != ':'))
        return -EINVAL;
    int64_t ns;
    if (cn_crilog_parse_time(line, tl, &ns) < 0) return -EINVAL;
    out->ts = line;
    out->ts_len = tl;
    out->ts_ns = ns;
    out->is_stderr = is_err;
    out->partial = tag[0] == 'P';
    out->msg = sp3 ? sp3 + 1 : tag + tagl;
    out->len = len - (size_t)(out->msg - line);
    return 0;
}

/* Whole (F) entries in the first limit bytes of the file (-1: all of it),
 * for --tail. The limit keeps lines written while counting out of the
 * count, or a growing log would show one line too many. */
static int64_t count_full(int fd, int64_t limit)
{
    char *buf = cn_malloc(READ_BLOCK);
    cn_buf line;
    cn_buf_init(&line);
    int64_t n = 0, seen = 0;
    ssize_t got;
    for (;;) {
        size_t want = READ_BLOCK;
        if (limit >= 0 && (int64_t)want > limit - seen) want = (size_t)(limit - seen);
        if (want == 0 || (got = read(fd, buf, want)) <= 0) break;
        seen += got;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (line.len < MAX_LINE) cn_buf_addc(&line, buf[i]);
                continue;
            }
            cn_crilog_entry e;
            if (cn_crilog_parse(line.data ? line.data : "", line.len, &e) == 0 && !e.partial) n++;
            cn_buf_reset(&line);
        }
    }
    cn_buf_release(&line);
    free(buf);
    lseek(fd, 0, SEEK_SET);
    return n;
}

static void emit_line(cn_crilog_reader *r, const char *line, size_t len)
{
    cn_crilog_entry e;
    if (cn_crilog_parse(line, len, &e) < 0) return;   /* not ours: skipped */
    if (r->skip_full > 0) {
        if (!e.partial) r->skip_full--;
        return;
    }
    if (r->o.since_ns && e.ts_ns < r->o.since_ns) return;
    /* One timestamp a line: the parts of a split line go on unmarked. */
    if (r->o.timestamps && !r->mid_line) {
        cn_buf_add(&r->out, e.ts, e.ts_len);
        cn_buf_addc(&r->out, ' ');
    }
    r->mid_line = e.partial;
    cn_buf_add(&r->out, e.msg, e.len);
    if (!e.partial) cn_buf_addc(&r->out, '\n');
}

/* Reads what the file has now; > 0 bytes read, 0 at its end, < 0 error.
 * Without follow the end is where the file ended at open: a snapshot. */
static ssize_t fill(cn_crilog_reader *r)
{
    size_t want = READ_BLOCK;
    if (r->stop_at >= 0 && (int64_t)want > r->stop_at - r->pos) want = (size_t)(r->stop_at - r->pos);
    if (want == 0) return 0;
    char *buf = cn_malloc(READ_BLOCK);
    ssize_t got = read(r->fd, buf, want);
    if (got > 0) r->pos += got;
    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] != '\n') {
            if (r->in.len < MAX_LINE) cn_buf_addc(&r->in, buf[i]);
            continue;
        }
        emit_line(r, r->in.data ? r->in.data : "", r->in.len);
        cn_buf_reset(&r->in);
    }
    free(buf);
    return got < 0 ? -errno : got;
}

static int open_log(const char *path, int *fd, ino_t *ino)
{
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return -errno;
    struct stat st;
    if (fstat(f, &st) < 0) {
        int r = -errno;
        close(f);
        return r;
    }
    *fd = f;
    *ino = st.st_ino;
    return 0;
}

int cn_crilog_open(const char *path, const cn_crilog_opts *opts, cn_crilog_reader **out,
                   cn_err *err)
{
    cn_crilog_reader *r = cn_calloc(1, sizeof *r);
    r->fd = r->ifd = -1;
    r->o = *opts;
    r->path = cn_strdup(path);
    cn_buf_init(&r->in);
    cn_buf_init(&r->out);
    int rc = open_log(path, &r->fd, &r->ino);
    if (rc < 0) {
        cn_err_set(err, rc == -ENOENT ? 404 : 500, rc == -ENOENT ? "NotFound" : "InternalError",
                   "cannot open log file \"%s\": %s", path, strerror(-rc));
        cn_crilog_close(r);
        return rc;
    }
    r->stop_at = -1;
    if (!r->o.follow) {
        struct stat st;
        if (fstat(r->fd, &st) == 0) r->stop_at = st.st_size;
    }
    if (r->o.tail_lines >= 0) {
        int64_t total = count_full(r->fd, r->stop_at);
        r->skip_full = total > r->o.tail_lines ? total - r->o.tail_lines : 0;
    }
    if (r->o.follow) {
        r->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        char *dir = cn_strdup(path), *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (r->ifd >= 0)
            inotify_add_watch(r->ifd, slash ? (dir[0] ? dir : "/") : ".",
                              IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE);
        free(dir);
    }
    *out = r;
    return 0;
}

/* The log was renamed away (rotation) or truncated: go on from the start
 * of the file now at path. */
static void check_rotated(cn_crilog_reader *r)
{
    struct stat st, cur;
    if (stat(r->path, &st) < 0) return;            /* not created again yet */
    if (st.st_ino != r->ino) {
        int fd;
        ino_t ino;
        if (open_log(r->path, &fd, &ino) < 0) return;
        while (fill(r) > 0) {   /* what the old file got before the rename */
        }
        close(r->fd);
        r->fd = fd;
        r->ino = ino;
        r->pos = 0;
        cn_buf_reset(&r->in);
    } else if (fstat(r->fd, &cur) == 0 && lseek(r->fd, 0, SEEK_CUR) > cur.st_size) {
        lseek(r->fd, 0, SEEK_SET);
        r->pos = 0;
        cn_buf_reset(&r->in);
    }
}

static void wait_change(cn_crilog_reader *r, int timeout_ms)
{
    if (r->ifd < 0) {
        poll(NULL, 0, timeout_ms < 200 ? timeout_ms : 200);
        return;
    }
    struct pollfd p = { .fd = r->ifd, .events = POLLIN };
    if (poll(&p, 1, timeout_ms) > 0) {
        char ev[4096];
        while (read(r->ifd, ev, sizeof ev) > 0) {
        }
    }
}

ssize_t cn_crilog_read(cn_crilog_reader *r, char *buf, size_t max, int timeout_ms)
{
    int64_t end = cn_now_ms() + timeout_ms;
    for (;;) {
        if (r->out_off < r->out.len) {
            size_t n = r->out.len - r->out_off;
            if (n > max) n = max;
            if (r->o.limit_bytes > 0 && (int64_t)n > r->o.limit_bytes - r->emitted)
                n = (size_t)(r->o.limit_bytes - r->emitted);
            if (n == 0) return -1;
            memcpy(buf, r->out.data + r->out_off, n);
            r->out_off += n;
            r->emitted += (int64_t)n;
            if (r->out_off == r->out.len) {
                cn_buf_reset(&r->out);
                r->out_off = 0;
            }
            return (ssize_t)n;
        }
        if (r->done || (r->o.limit_bytes > 0 && r->emitted >= r->o.limit_bytes)) return -1;
        ssize_t got = fill(r);
        if (got > 0) continue;
        if (got < 0 || !r->o.follow) {
            r->done = true;
            continue;
        }
        /* At the end of the file in follow mode. Whether the container runs
         * is asked before the last look, so that lines written just before
         * it stopped are not lost. */
        bool running = r->o.running && r->o.running(r->o.ud);
        check_rotated(r);
        if (fill(r) > 0) continue;
        if (!running) {
            r->done = true;
            continue;
        }
        int64_t left = end - cn_now_ms();
        if (left <= 0) return 0;
        wait_change(r, (int)left);
    }
}

void cn_crilog_close(cn_crilog_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    if (r->ifd >= 0) close(r->ifd);
    cn_buf_release(&r->in);
    cn_buf_release(&r->out);
    free(r->path);
    free(r);
}
