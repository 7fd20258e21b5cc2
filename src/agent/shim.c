/* shim: `cairn shim`, the supervisor of one container (runtime.h).
 *
 * cn_ctr_start spawns it in a new session; it forks once more so the agent
 * only waits for the short-lived first process, and the real shim is
 * re-parented to init and outlives the agent. It then:
 *
 *   1. takes an exclusive flock on BUNDLE/shim.lock for its whole life
 *      (a lock nobody holds means the shim is gone: cn_ctr_get says so);
 *   2. becomes a child subreaper and runs `runc create` with the write ends
 *      of two pipes as the container's stdout and stderr. runc create
 *      returns once the container's init is set up and waiting (and fails
 *      right there when the command cannot be found); init, orphaned by
 *      runc create, is re-parented to the shim;
 *   3. runs `runc start`, writes BUNDLE/started and reports "ok <pid>" (or
 *      "err <message>") on the report pipe cn_ctr_start waits on;
 *   4. copies the pipes into the CRI log until init exits and the pipes
 *      are drained, rotating the log at --log-max;
 *   5. reads the OOM-kill count of the container's memory cgroup, writes
 *      BUNDLE/exit atomically (the runtime's inotify watch sees it) and
 *      runs `runc delete`, which removes the cgroup.
 *
 * We chose `runc create` + `runc start` over `runc run`: both cost about
 * the same (two short runc invocations vs one long-lived one), but with
 * create+start the shim reaps init itself, learns the exact wait status,
 * and can read the cgroup before anything deletes it (runc run destroys the
 * cgroup as it exits, taking the OOM counter with it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime-internal.h"
#include "lib/pki.h"

#define LINE_MAX_BYTES 16384    /* longer lines are split into "P" records */

typedef struct shim_args {
    const char *id, *bundle, *runc, *root, *log, *cgroup;
    int64_t log_max;
    int report_fd;
} shim_args;

typedef struct log_file {
    const char *path;
    int fd;
    int64_t size, max;
} log_file;

typedef struct stream {
    const char *name;             /* "stdout" / "stderr" */
    int fd;                       /* read end; -1 at EOF */
    char buf[LINE_MAX_BYTES];
    size_t len;
} stream;

static void log_open(log_file *lf)
{
    lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    lf->size = lf->fd >= 0 && fstat(lf->fd, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* One CRI record: "<RFC3339Nano> <stream> <F|P> <text>\n", one write. */
static void log_record(log_file *lf, const char *name, bool partial, const char *text, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char head[80];
    int h = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec, name, partial ? 'P' : 'F');
    size_t total = (size_t)h + n + 1;
    if (lf->fd >= 0 && lf->size > 0 && lf->size + (int64_t)total > lf->max) {
        /* Rotate: one old generation is kept as path.1. */
        char *old = cn_asprintf("%s.1", lf->path);
        rename(lf->path, old);
        free(old);
        close(lf->fd);
        log_open(lf);
    }
    if (lf->fd < 0) return;
    char *rec = cn_malloc(total);
    memcpy(rec, head, (size_t)h);
    memcpy(rec + h, text, n);
    rec[total - 1] = '\n';
    size_t off = 0;
    while (off < total) {
        ssize_t w = write(lf->fd, rec + off, total - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    lf->size += (int64_t)off;
    free(rec);
}

/* Emit the complete lines in s->buf; a full buffer without a newline goes
 * out as a partial record. At eof the rest is a full record. */
static void stream_flush(stream *s, log_file *lf, bool eof)
{
    size_t start = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] != '\n') continue;
        log_record(lf, s->name, false, s->buf + start, i - start);
        start = i + 1;
    }
    if (start == 0 && s->len == sizeof s->buf) {
        log_record(lf, s->name, true, s->buf, s->len);
        start = s->len;
    } else if (eof && start < s->len) {
        log_record(lf, s->name, false, s->buf + start, s->len - start);
        start = s->len;
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
}

static void stream_read(stream *s, log_file *lf)
{
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        stream_flush(s, lf, true);
        return;
    }
    s->len += (size_t)n;
    stream_flush(s, lf, false);
}

static pid_t spawn(const char *const *argv, int out_fd, int err_fd)
{
    pid_t pid = -1;
    return cn_rt_spawn(argv, -1, out_fd, err_fd, false, &pid) < 0 ? -1 : pid;
}

/* runc's own error, from the last "error" record of its JSON log, without
 * runc's prefixes: `exec: "nope": executable file not found in $PATH`. */
static char *runc_error(const char *bundle)
{
    char *path = cn_asprintf("%s/runc.log", bundle), *text = NULL, *msg = NULL;
    if (cn_read_file(path, &text, NULL, NULL) == 0) {
        for (char *line = text, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next) *next++ = '\0';
            json_t *j = json_loads(line, 0, NULL);
            const char *lvl = json_string_value(json_object_get(j, "level"));
            const char *m = json_string_value(json_object_get(j, "msg"));
            if (lvl && m && !strcmp(lvl, "error")) {
                free(msg);
                const char *cut = strstr(m, "container process: ");
                msg = cn_strdup(cut ? cut + strlen("container process: ") : m);
            }
            json_decref(j);
        }
    }
    free(text);
    free(path);
    return msg ? msg : cn_strdup("runc failed (no error recorded)");
}

static void write_json(const char *bundle, const char *name, json_t *j)
{
    char *path = cn_asprintf("%s/%s", bundle, name);
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) cn_rt_write_file(path, s, strlen(s));
    free(s);
    free(path);
    json_decref(j);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(shim_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(shim_args *a, const char *fmt, ...)
{
    if (a->report_fd < 0) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = cn_vasprintf(fmt, ap);
    va_end(ap);
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t w = write(a->report_fd, s + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(s);
    close(a->report_fd);
    a->report_fd = -1;
}

static bool oom_killed(const char *cgroup)
{
    char *path = cn_asprintf("/sys/fs/cgroup/memory%s/memory.oom_control", cgroup), *text = NULL;
    bool oom = false;
    if (cn_read_file(path, &text, NULL, NULL) == 0) {
        char *p = strstr(text, "oom_kill ");
        if (p) {
            p += strlen("oom_kill ");
            p[strcspn(p, "\n")] = '\0';
            int64_t n = 0;
            oom = cn_parse_int64(p, &n) == 0 && n > 0;
        }
    }
    free(text);
    free(path);
    return oom;
}

static void write_exit(const shim_args *a, int code, int sig, bool oom, const char *message)
{
    json_t *j = json_object();
    json_object_set_new(j, "exit_code", json_integer(code));
    json_object_set_new(j, "signal", json_integer(sig));
    json_object_set_new(j, "oom_killed", json_boolean(oom));
    json_object_set_new(j, "finished_ms", json_integer(wall_ms()));
    if (message) json_object_set_new(j, "message", json_string(message));
    write_json(a->bundle, "exit", j);
}

static int parse_args(int argc, char **argv, shim_args *a)
{
    memset(a, 0, sizeof *a);
    a->report_fd = -1;
    a->log_max = 10 << 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        int64_t n = 0;
        if (!strcmp(k, "--id")) a->id = v;
        else if (!strcmp(k, "--bundle")) a->bundle = v;
        else if (!strcmp(k, "--runc")) a->runc = v;
        else if (!strcmp(k, "--root")) a->root = v;
        else if (!strcmp(k, "--log")) a->log = v;
        else if (!strcmp(k, "--cgroup")) a->cgroup = v;
        else if (!strcmp(k, "--log-max") && cn_parse_int64(v, &n) == 0 && n > 0) a->log_max = n;
        else if (!strcmp(k, "--report-fd") && cn_parse_int64(v, &n) == 0 && n >= 0 && n < 1024)
            a->report_fd = (int)n;
        else return -EINVAL;
    }
    return a->id && a->bundle && a->runc && a->root && a->log && a->cgroup ? 0 : -EINVAL;
}

/* Steps 2-5 of the header; returns the shim's exit status. */
static int supervise(shim_args *a)
{
    char *runc_log = cn_asprintf("%s/runc.log", a->bundle);
    char *pid_file = cn_asprintf("%s/pid", a->bundle);
    int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    log_file lf = { .path = a->log, .max = a->log_max };
    stream s[2] = { { .name = "stdout", .fd = -1 }, { .name = "stderr", .fd = -1 } };
    int rc = 1, sfd = -1;

    char *dir = cn_strdup(a->log);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        cn_mkdir_p(dir, 0755);
    }
    free(dir);
    log_open(&lf);
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        report(a, "err shim: pipe: %s\n", strerror(errno));
        write_exit(a, 128, 0, false, "shim: cannot make pipes");
        goto out;
    }
    s[0].fd = out[0];
    s[1].fd = errp[0];

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

    const char *create[] = { a->runc, "--root", a->root, "--log", runc_log, "--log-format", "json",
                             "create", "--bundle", a->bundle, "--pid-file", pid_file, a->id, NULL };
    pid_t cpid = spawn(create, out[1], errp[1]);
    int st = 0;
    if (cpid > 0)
        while (waitpid(cpid, &st, 0) < 0 && errno == EINTR) {}
    close(out[1]);
    close(errp[1]);
    out[1] = errp[1] = -1;
    if (cpid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *msg = cpid < 0 ? cn_asprintf("cannot run %s", a->runc)
                             : runc_error(a->bundle);
        write_exit(a, 128, 0, false, msg);
        report(a, "err %s\n", msg);
        free(msg);
        for (int i = 0; i < 2; i++)
            while (s[i].fd >= 0) stream_read(&s[i], &lf);
        rc = 0;
        goto out;
    }
    char *pidtext = NULL;
    int64_t init_pid = 0;
    if (cn_read_file(pid_file, &pidtext, NULL, NULL) == 0) {
        pidtext[strcspn(pidtext, "\n")] = '\0';
        cn_parse_int64(pidtext, &init_pid);
    }
    free(pidtext);
    int64_t started = wall_ms();
    const char *start[] = { a->runc, "--root", a->root, "--log", runc_log, "--log-format", "json",
                            "start", a->id, NULL };
    pid_t spid = spawn(start, -1, -1);

    bool init_done = init_pid <= 0, start_done = spid < 0, start_failed = spid < 0;
    int init_status = 0;
    int64_t drain_deadline = 0;
    char *start_msg = NULL;
    for (;;) {
        if (init_done && start_done) {
            if (s[0].fd < 0 && s[1].fd < 0) break;
            if (!drain_deadline) drain_deadline = cn_now_ms() + 2000;
            if (cn_now_ms() >= drain_deadline) break;
        }
        struct pollfd p[3] = { { s[0].fd, POLLIN, 0 }, { s[1].fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        int timeout = drain_deadline ? (int)(drain_deadline - cn_now_ms()) : -1;
        if (drain_deadline && timeout < 0) timeout = 0;
        if (poll(p, 3, timeout) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) stream_read(&s[i], &lf);
        if (p[2].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {}
        }
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w == spid) {
                start_done = true;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    start_failed = true;
                    start_msg = runc_error(a->bundle);
                    if (!init_done) kill((pid_t)init_pid, SIGKILL);
                    report(a, "err %s\n", start_msg);
                } else {
                    json_t *j = json_object();
                    json_object_set_new(j, "pid", json_integer(init_pid));
                    json_object_set_new(j, "started_ms", json_integer(started));
                    write_json(a->bundle, "started", j);
                    report(a, "ok %lld\n", (long long)init_pid);
                }
            } else if (w == (pid_t)init_pid) {
                init_done = true;
                init_status = st;
            }
        }
    }
    for (int i = 0; i < 2; i++) stream_flush(&s[i], &lf, true);
    if (start_failed) {
        if (!start_msg) start_msg = cn_strdup("runc start failed");
        report(a, "err %s\n", start_msg);
        write_exit(a, 128, 0, false, start_msg);
    } else if (WIFSIGNALED(init_status)) {
        write_exit(a, 128 + WTERMSIG(init_status), WTERMSIG(init_status), oom_killed(a->cgroup), NULL);
    } else {
        write_exit(a, WEXITSTATUS(init_status), 0, oom_killed(a->cgroup), NULL);
    }
    free(start_msg);
    const char *del[] = { a->runc, "--root", a->root, "--log", runc_log, "--log-format", "json",
                          "delete", "--force", a->id, NULL };
    pid_t dpid = spawn(del, -1, -1);
    if (dpid > 0)
        while (waitpid(dpid, &st, 0) < 0 && errno == EINTR) {}
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0) close(s[i].fd);
    if (out[1] >= 0) close(out[1]);
    if (errp[1] >= 0) close(errp[1]);
    if (sfd >= 0) close(sfd);
    if (lf.fd >= 0) close(lf.fd);
    free(runc_log);
    free(pid_file);
    return rc;
}

int cn_shim_main(int argc, char **argv)
{
    shim_args a;
    if (parse_args(argc, argv, &a) < 0) {
        fprintf(stderr, "cairn shim: internal command of the agent; bad arguments\n");
        return 2;
    }
    /* Neither runc nor the container may hold the report pipe open. */
    if (a.report_fd >= 0) fcntl(a.report_fd, F_SETFD, FD_CLOEXEC);
    /* The agent waits for this first process only; the shim proper is
     * re-parented to init (or a subreaper) and outlives the agent. */
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid > 0) _exit(0);
    char *lock = cn_asprintf("%s/shim.lock", a.bundle);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lock);
    if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
        report(&a, "err shim: cannot lock the bundle: %s\n", strerror(errno));
        return 1;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    int rc = supervise(&a);
    if (a.report_fd >= 0) report(&a, "err shim ended without a result\n");
    close(lfd);
    return rc;
}
