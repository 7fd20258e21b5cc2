/* test_runtime: the runc runtime (agent/runtime.h) against real runc, as
 * root: sandboxes, container start/exit/logs, users and capabilities,
 * shared pod network, OOM and cgroup limits, stop, exec, adoption by a
 * second handle, and that removal leaves no mounts, cgroups or runc state.
 * The image is one layer made here from busybox-static. Skips (passing)
 * when not root or runc/busybox are missing.
 *
 * This binary is also the shim: the runtime starts /proc/self/exe shim. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime.h"
#include "agent/runtime-internal.h"
#include "lib/pki.h"
#include "lib/util.h"
#include "test.h"

static char tmp[64], dir[128], layer[128], logs[128], cgparent[64];
static cn_runtime *rt;

/* ---- on_exit bookkeeping ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static char exited[64][128];
static int nexited, nexited2;

static void on_exit_cb(void *ud, const char *id)
{
    pthread_mutex_lock(&mu);
    if (ud) nexited2++;
    else if (nexited < 64) snprintf(exited[nexited++], sizeof exited[0], "%s", id);
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

/* Wait (up to 30 s: a generous bound, not a timing assertion) for the
 * on_exit callback for id. */
static bool wait_exit_cb(const char *id)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    bool seen = false;
    pthread_mutex_lock(&mu);
    for (;;) {
        for (int i = 0; i < nexited; i++)
            if (!strcmp(exited[i], id)) seen = true;
        if (seen || pthread_cond_timedwait(&cond, &mu, &ts) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&mu);
    return seen;
}

/* ---- helpers ---- */

typedef struct opts {
    const char *const *env; size_t nenv;
    const char *cwd;
    uint32_t uid, gid;
    const uint32_t *groups; size_t ngroups;
    bool ro;
    const char *const *drop; size_t ndrop;
    int64_t mem;
    uint64_t shares;
    int64_t quota;
    const char *meta;
} opts;

static char *log_path(const char *id) { return cn_asprintf("%s/%s.log", logs, id); }

static int start(const char *pod, const char *id, const char *const *args, const opts *o,
                 cn_err *err)
{
    static const opts none;
    if (!o) o = &none;
    const char *layers[] = { layer };
    size_t nargs = 0;
    while (args[nargs]) nargs++;
    char *lp = log_path(id);
    cn_ctr_spec s = {
        .id = id, .pod = pod, .layers = layers, .nlayers = 1, .args = args, .nargs = nargs,
        .env = o->env, .nenv = o->nenv, .cwd = o->cwd, .uid = o->uid, .gid = o->gid,
        .groups = o->groups, .ngroups = o->ngroups, .readonly_rootfs = o->ro,
        .cap_drop = o->drop, .ncap_drop = o->ndrop, .memory_limit = o->mem,
        .cpu_shares = o->shares, .cpu_quota_us = o->quota, .cpu_period_us = o->quota ? 100000 : 0,
        .log_path = lp, .meta = o->meta,
    };
    int r = cn_ctr_start(rt, &s, err);
    free(lp);
    return r;
}

static char *read_log(const char *id)
{
    char *lp = log_path(id), *text = NULL;
    if (cn_read_file(lp, &text, NULL, NULL) < 0) text = cn_strdup("");
    free(lp);
    return text;
}

/* Run args to completion; returns the exit code (-1 on failure). */
static int run(const char *pod, const char *id, const char *const *args, const opts *o)
{
    cn_err err = CN_ERR_INIT;
    int r = start(pod, id, args, o, &err);
    if (r < 0) {
        fprintf(stderr, "start %s: %s\n", id, err.message);
        cn_err_clear(&err);
        return -1;
    }
    if (!wait_exit_cb(id)) return -1;
    cn_ctr_status st;
    if (cn_ctr_get(rt, id, &st, &err) < 0) return -1;
    int code = st.state == CN_CTR_EXITED ? st.exit_code : -1;
    cn_ctr_status_release(&st);
    return code;
}

static void sh(const char *cmd)
{
    int r = system(cmd);
    (void)r;
}

static bool log_waits_for(const char *id, const char *needle)
{
    for (int i = 0; i < 1500; i++) {   /* 30 s: a bound, not a timing check */
        char *l = read_log(id);
        bool ok = strstr(l, needle) != NULL;
        free(l);
        if (ok) return true;
        usleep(20000);
    }
    return false;
}

static void remove_ctr(const char *id)
{
    cn_err err = CN_ERR_INIT;
    cn_ctr_stop(rt, id, 0, &err);
    cn_err_clear(&err);
    int r = cn_ctr_remove(rt, id, &err);
    if (r < 0) fprintf(stderr, "remove %s: %s\n", id, err.message);
    cn_err_clear(&err);
}

/* ---- cases ---- */

static void test_echo_and_log(void)
{
    cn_err err = CN_ERR_INIT;
    char *ns = NULL;
    CHECK(cn_sandbox_create(rt, "p1", "pod-one", &ns, &err) == 0);
    CHECK(ns && strstr(ns, "/sandboxes/p1/net"));
    free(ns);
    CHECK(cn_sandbox_create(rt, "p1", "pod-one", NULL, &err) == 0);   /* idempotent */
    const char *args[] = { "sh", "-c", "echo hello; echo oops >&2", NULL };
    int64_t t0 = cn_now_ms();
    opts o = { .meta = "{\"pod\":\"p1\"}" };
    CHECK(start("p1", "echo", args, &o, &err) == 0);
    int64_t t1 = cn_now_ms();
    CHECK(wait_exit_cb("echo"));
    int64_t t2 = cn_now_ms();
    printf("     cn_ctr_start->running %lld ms, ->exit seen %lld ms\n", (long long)(t1 - t0),
           (long long)(t2 - t0));
    cn_ctr_status st;
    CHECK(cn_ctr_get(rt, "echo", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_EXITED);
    CHECK_INT(st.exit_code, 0);
    CHECK(!st.oom_killed);
    CHECK_STR(st.pod, "p1");
    CHECK_STR(st.meta, "{\"pod\":\"p1\"}");
    CHECK(st.started_ms > 0 && st.finished_ms >= st.started_ms);
    cn_ctr_status_release(&st);
    char *l = read_log("echo");
    CHECK(strstr(l, " stdout F hello\n") != NULL);
    CHECK(strstr(l, " stderr F oops\n") != NULL);
    /* "2026-11-27T03:00:00.123456789Z stdout F hello" */
    CHECK(strlen(l) > 31 && l[4] == '-' && l[10] == 'T' && l[19] == '.' && l[29] == 'Z' && l[30] == ' ');
    free(l);

    /* Partial records for a line over 16 KiB, and rotation. */
    const char *big[] = { "sh", "-c", "i=0; while [ $i -lt 1200 ]; do printf 0123456789abcdef; i=$((i+1)); done; echo; "
                          "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done", NULL };
    char *lp = log_path("big");
    const char *layers[] = { layer };
    cn_ctr_spec s = { .id = "big", .pod = "p1", .layers = layers, .nlayers = 1, .args = big,
                      .nargs = 3, .log_path = lp, .log_max_bytes = 4096 };
    CHECK(cn_ctr_start(rt, &s, &err) == 0);
    CHECK(wait_exit_cb("big"));
    char *old = cn_asprintf("%s.1", lp), *t1s = NULL, *t2s = NULL;
    CHECK(cn_read_file(lp, &t2s, NULL, NULL) == 0);
    CHECK(cn_read_file(old, &t1s, NULL, NULL) == 0);
    CHECK(t2s && strstr(t2s, "stdout F line-299\n"));
    CHECK(t2s && strlen(t2s) <= 4096);
    struct stat sb;
    CHECK(stat(old, &sb) == 0 && sb.st_size <= 4096 + 16384 + 64);
    free(t1s);
    free(t2s);
    free(old);
    free(lp);
    remove_ctr("big");
    /* The partial record: an earlier run without rotation. */
    s.id = "big2";
    s.log_max_bytes = 0;
    lp = log_path("big2");
    s.log_path = lp;
    CHECK(cn_ctr_start(rt, &s, &err) == 0);
    CHECK(wait_exit_cb("big2"));
    char *b2 = read_log("big2");
    CHECK(strstr(b2, " stdout P 0123456789abcdef") != NULL);
    CHECK(strstr(b2, " stdout F line-0\n") != NULL);
    free(b2);
    free(lp);
    remove_ctr("big2");
    /* The shim ended quietly: nothing in its stderr (no sanitizer report). */
    char *lock = cn_asprintf("%s/containers/echo/shim.lock", dir);
    int lfd = open(lock, O_RDONLY | O_CLOEXEC);
    CHECK(lfd >= 0 && flock(lfd, LOCK_SH) == 0);   /* blocks until the shim is gone */
    if (lfd >= 0) close(lfd);
    free(lock);
    char *slog = cn_asprintf("%s/containers/echo/shim.log", dir), *stext = NULL;
    CHECK(cn_read_file(slog, &stext, NULL, NULL) == 0);
    CHECK_STR(stext, "");
    free(stext);
    free(slog);
    remove_ctr("echo");
    cn_err_clear(&err);
}

static void test_exit_codes(void)
{
    const char *a7[] = { "sh", "-c", "exit 7", NULL };
    CHECK_INT(run("p1", "exit7", a7, NULL), 7);
    const char *a0[] = { "true", NULL };
    CHECK_INT(run("p1", "true", a0, NULL), 0);
    remove_ctr("exit7");
    remove_ctr("true");

    /* No layers: an empty rootfs, here with busybox bind-mounted as /bin
     * (and a tmpfs, read-only, to see both mount kinds). */
    char *bin = cn_asprintf("%s/bin", layer), *lp = log_path("nolayers");
    cn_mount m[] = { { .kind = CN_MOUNT_BIND, .source = bin, .destination = "/bin", .readonly = true },
                     { .kind = CN_MOUNT_TMPFS, .destination = "/scratch", .size = 1 << 20 } };
    const char *args[] = { "/bin/sh", "-c", "ls / | tr '\\n' ' '; touch /bin/x || echo bin-ro; "
                           "touch /scratch/y && echo scratch-rw", NULL };
    cn_ctr_spec s = { .id = "nolayers", .pod = "p1", .args = args, .nargs = 3, .mounts = m,
                      .nmounts = 2, .log_path = lp };
    cn_err err = CN_ERR_INIT;
    CHECK(cn_ctr_start(rt, &s, &err) == 0);
    CHECK(wait_exit_cb("nolayers"));
    char *l = read_log("nolayers");
    CHECK(strstr(l, " bin-ro\n") != NULL);   /* after the ls line, which has no newline */
    CHECK(strstr(l, "stdout F scratch-rw\n") != NULL);
    CHECK(strstr(l, " scratch ") != NULL);
    free(l);
    free(lp);
    free(bin);
    cn_err_clear(&err);
    remove_ctr("nolayers");
}

static void test_missing_command(void)
{
    cn_err err = CN_ERR_INIT;
    const char *args[] = { "nope", NULL };
    int r = start("p1", "nope", args, NULL, &err);
    CHECK(r == -ENOENT);
    CHECK_STR(err.message, "exec: \"nope\": executable file not found in $PATH");
    cn_ctr_status st;
    CHECK(cn_ctr_get(rt, "nope", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_EXITED);
    CHECK_INT(st.exit_code, 128);
    CHECK_STR(st.message, "exec: \"nope\": executable file not found in $PATH");
    cn_ctr_status_release(&st);
    char *state = cn_asprintf("%s/runc/nope", dir);
    CHECK(access(state, F_OK) < 0);    /* no runc state left */
    free(state);
    /* Same id again: one shim per id. */
    cn_err_clear(&err);
    CHECK(start("p1", "nope", args, NULL, &err) == -EEXIST);
    /* A bad spec leaves nothing behind. */
    cn_err_clear(&err);
    const char *badcap[] = { "NO_SUCH_CAP" };
    opts bo = { .drop = badcap, .ndrop = 1 };
    CHECK(start("p1", "badcap", args, &bo, &err) == -EINVAL);
    CHECK(err.message && strstr(err.message, "NO_SUCH_CAP"));
    CHECK(cn_ctr_get(rt, "badcap", &st, NULL) == -ENOENT);
    /* No sandbox. */
    cn_err_clear(&err);
    CHECK(start("nosuchpod", "x", args, NULL, &err) == -ENOENT);
    cn_err_clear(&err);
    remove_ctr("nope");
}

static void test_env_cwd_user(void)
{
    const char *env[] = { "FOO=bar baz" };
    const uint32_t groups[] = { 42, 43 };
    opts o = { .env = env, .nenv = 1, .cwd = "/tmp", .uid = 1234, .gid = 5678,
               .groups = groups, .ngroups = 2 };
    const char *args[] = { "sh", "-c", "echo \"foo=$FOO\"; echo cwd=$(pwd); echo uid=$(id -u) gid=$(id -g); echo groups=$(id -G)", NULL };
    CHECK_INT(run("p1", "user", args, &o), 0);
    char *l = read_log("user");
    CHECK(strstr(l, "stdout F foo=bar baz\n") != NULL);
    CHECK(strstr(l, "stdout F cwd=/tmp\n") != NULL);
    CHECK(strstr(l, "stdout F uid=1234 gid=5678\n") != NULL);
    CHECK(strstr(l, "stdout F groups=5678 42 43\n") != NULL);
    free(l);
    remove_ctr("user");
}

static void test_readonly_and_caps(void)
{
    const char *touch[] = { "touch", "/x", NULL };
    CHECK_INT(run("p1", "rw", touch, NULL), 0);
    opts ro = { .ro = true };
    CHECK(run("p1", "ro", touch, &ro) > 0);
    const char *chown_[] = { "sh", "-c", "touch /f && chown 5 /f", NULL };
    CHECK_INT(run("p1", "chown", chown_, NULL), 0);
    const char *drop[] = { "CHOWN" };
    opts o = { .drop = drop, .ndrop = 1 };
    CHECK(run("p1", "nochown", chown_, &o) > 0);
    const char *dropall[] = { "ALL" };
    opts oa = { .drop = dropall, .ndrop = 1 };
    CHECK(run("p1", "nochown2", chown_, &oa) > 0);
    remove_ctr("rw");
    remove_ctr("ro");
    remove_ctr("chown");
    remove_ctr("nochown");
    remove_ctr("nochown2");
}

static void test_privileged(void)
{
    const char *caps[] = { "sh", "-c", "grep CapBnd /proc/self/status; touch /sys/fs/cgroup/x 2>&1; true", NULL };
    CHECK_INT(run("p1", "plain", caps, NULL), 0);
    char *l = read_log("plain");
    CHECK(strstr(l, "CapBnd:\t00000000a80425fb\n") != NULL);   /* containerd's default set */
    free(l);
    char *lp = log_path("priv");
    const char *layers[] = { layer };
    cn_ctr_spec s = { .id = "priv", .pod = "p1", .layers = layers, .nlayers = 1, .args = caps,
                      .nargs = 3, .log_path = lp, .privileged = true };
    cn_err err = CN_ERR_INIT;
    CHECK(cn_ctr_start(rt, &s, &err) == 0);
    if (err.message) fprintf(stderr, "privileged: %s\n", err.message);
    CHECK(wait_exit_cb("priv"));
    l = read_log("priv");
    /* Every capability the agent itself has (a sandboxed host may lack some). */
    char *st = NULL, want[64] = "";
    if (cn_read_file("/proc/self/status", &st, NULL, NULL) == 0) {
        char *b = strstr(st, "CapBnd:");
        if (b) snprintf(want, sizeof want, "%.*s", (int)strcspn(b, "\n"), b);
    }
    free(st);
    CHECK(want[0] && strstr(l, want) != NULL);
    CHECK(strstr(l, "touch: /sys/fs/cgroup/x") == NULL || strstr(l, "Read-only") == NULL);
    free(l);
    free(lp);
    cn_err_clear(&err);
    remove_ctr("plain");
    remove_ctr("priv");
}

static void test_shared_network(void)
{
    cn_err err = CN_ERR_INIT;
    CHECK(cn_sandbox_create(rt, "p2", "pod-two", NULL, &err) == 0);
    /* The listener's stdin stays open (a sleep): busybox nc shuts the
     * connection down on stdin EOF, which could end the exchange early. */
    const char *srv[] = { "sh", "-c", "echo listening; sleep 60 | nc -l -p 7777", NULL };
    CHECK(start("p2", "srv", srv, NULL, &err) == 0);
    CHECK(log_waits_for("srv", "listening"));
    const char *cli[] = { "sh", "-c", "hostname; i=0; while [ $i -lt 100 ]; do echo ping | nc 127.0.0.1 7777 && exit 0; "
                          "sleep 0.1; i=$((i+1)); done; exit 1", NULL };
    CHECK_INT(run("p2", "cli", cli, NULL), 0);
    CHECK(log_waits_for("srv", "stdout F ping\n"));
    char *l = read_log("cli");
    CHECK(strstr(l, "stdout F pod-two\n") != NULL);
    free(l);
    /* The pod's network is not the host's. */
    const char *ifs[] = { "sh", "-c", "ls /sys/class/net | tr '\\n' ' '", NULL };
    CHECK_INT(run("p2", "ifs", ifs, NULL), 0);
    l = read_log("ifs");
    CHECK(strstr(l, "stdout F lo \n") != NULL);
    free(l);
    remove_ctr("srv");
    remove_ctr("cli");
    remove_ctr("ifs");
    cn_err_clear(&err);
}

/* Contents of a container's cgroup file in pod p1 (malloc'd) or NULL. */
static char *cgroup_file(const char *ctrl, const char *id, const char *file)
{
    char *p = cn_asprintf("/sys/fs/cgroup/%s/%s/p1/%s/%s", ctrl, cgparent, id, file), *t = NULL;
    if (cn_read_file(p, &t, NULL, NULL) < 0) t = NULL;
    free(p);
    return t;
}

#define CHECK_STR_FREE(expr, want) do { char *_s = (expr); CHECK_STR(_s, want); free(_s); } while (0)

static void test_limits(void)
{
    opts o = { .mem = 16 << 20 };
    const char *dd[] = { "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1", NULL };
    CHECK_INT(run("p1", "oom", dd, &o), 137);
    cn_err err = CN_ERR_INIT;
    cn_ctr_status st;
    CHECK(cn_ctr_get(rt, "oom", &st, &err) == 0);
    CHECK(st.oom_killed);
    cn_ctr_status_release(&st);
    remove_ctr("oom");

    opts q = { .quota = 50000, .shares = 512, .mem = 64 << 20 };
    const char *sl[] = { "sleep", "1000", NULL };
    CHECK(start("p1", "quota", sl, &q, &err) == 0);
    CHECK_STR_FREE(cgroup_file("cpu", "quota", "cpu.cfs_quota_us"), "50000\n");
    CHECK_STR_FREE(cgroup_file("cpu", "quota", "cpu.shares"), "512\n");
    CHECK_STR_FREE(cgroup_file("memory", "quota", "memory.limit_in_bytes"), "67108864\n");
    remove_ctr("quota");
    char *p = cn_asprintf("/sys/fs/cgroup/cpu/%s/p1/quota", cgparent);
    CHECK(access(p, F_OK) < 0);           /* runc delete removed it */
    free(p);
    cn_err_clear(&err);
}

static void test_stop(void)
{
    cn_err err = CN_ERR_INIT;
    const char *trap[] = { "sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 1 & wait; done", NULL };
    CHECK(start("p1", "trap", trap, NULL, &err) == 0);
    CHECK(log_waits_for("trap", "ready"));
    CHECK(cn_ctr_stop(rt, "trap", 20000, &err) == 0);
    cn_ctr_status st;
    CHECK(cn_ctr_get(rt, "trap", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_EXITED);
    CHECK_INT(st.exit_code, 3);            /* SIGTERM handled, not killed */
    cn_ctr_status_release(&st);

    const char *sl[] = { "sleep", "1000", NULL };   /* pid 1 without handler: ignores TERM */
    CHECK(start("p1", "ignore", sl, NULL, &err) == 0);
    CHECK(cn_ctr_stop(rt, "ignore", 300, &err) == 0);
    CHECK(cn_ctr_get(rt, "ignore", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_EXITED);
    CHECK_INT(st.exit_code, 137);
    cn_ctr_status_release(&st);
    CHECK(cn_ctr_stop(rt, "ignore", 300, &err) == 0);   /* again: no-op */
    remove_ctr("trap");
    remove_ctr("ignore");
    cn_err_clear(&err);
}

/* Read fd into b until it holds needle (30 s bound). */
static bool read_until(int fd, cn_buf *b, const char *needle)
{
    for (int i = 0; i < 300 && !strstr(b->data ? b->data : "", needle); i++) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0) continue;
        char c[256];
        ssize_t n = read(fd, c, sizeof c);
        if (n <= 0) break;
        cn_buf_add(b, c, (size_t)n);
    }
    return b->data && strstr(b->data, needle);
}

static void test_exec(void)
{
    cn_err err = CN_ERR_INIT;
    const char *sl[] = { "sleep", "1000", NULL };
    const char *env[] = { "GREETING=hi" };
    opts o = { .env = env, .nenv = 1 };
    CHECK(start("p1", "execd", sl, &o, &err) == 0);
    cn_ctr_status st;
    CHECK(cn_ctr_get(rt, "execd", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_RUNNING);
    CHECK(st.pid > 0 && kill(st.pid, 0) == 0);
    cn_ctr_status_release(&st);
    CHECK(cn_ctr_remove(rt, "execd", &err) == -EBUSY);
    cn_err_clear(&err);

    const char *a[] = { "sh", "-c", "echo out $GREETING; echo err >&2; exit 5", NULL };
    int code = -1;
    char *out = NULL;
    CHECK(cn_ctr_exec_sync(rt, "execd", a, 10000, &code, &out, &err) == 0);
    CHECK_INT(code, 5);
    CHECK(out && strstr(out, "out hi\n") && strstr(out, "err\n"));
    free(out);
    out = NULL;
    const char *slow[] = { "sleep", "30", NULL };
    CHECK(cn_ctr_exec_sync(rt, "execd", slow, 300, &code, &out, &err) == -ETIMEDOUT);
    cn_err_clear(&err);
    free(out);
    out = NULL;
    /* The timed-out process was killed: only init's sleep is left. */
    const char *ps[] = { "sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done | grep -c '^sleep 30 $'", NULL };
    CHECK(cn_ctr_exec_sync(rt, "execd", ps, 10000, &code, &out, &err) == 0);
    CHECK(out && !strncmp(out, "0\n", 2));
    if (out && strncmp(out, "0\n", 2)) fprintf(stderr, "ps: %s\n", out);
    free(out);

    /* Interactive exec on a terminal. */
    /* runc passes a resize on when its SIGWINCH handler runs, which a
     * loaded machine may delay: the shell waits (bounded) to see it. */
    const char *t[] = { "sh", "-c", "tty; read x; echo got-$x; for i in $(seq 100); do s=$(stty size); "
                        "[ \"$s\" = \"33 77\" ] && break; sleep 0.1; done; echo $s", NULL };
    pid_t pid = -1;
    int m = -1;
    CHECK(cn_ctr_exec(rt, "execd", t, true, -1, -1, -1, &pid, &m, &err) == 0);
    if (err.message) fprintf(stderr, "exec tty: %s\n", err.message);
    if (m >= 0) {
        cn_buf b;
        cn_buf_init(&b);
        /* Once the process printed its tty, resize ours: runc passes it on. */
        CHECK(read_until(m, &b, "/dev/pts/"));
        struct winsize wsz = { .ws_row = 33, .ws_col = 77 };
        CHECK(ioctl(m, TIOCSWINSZ, &wsz) == 0);
        CHECK(write(m, "abc\n", 4) == 4);
        CHECK(read_until(m, &b, "33 77"));
        CHECK(b.data && strstr(b.data, "got-abc"));
        cn_buf_release(&b);
        int ws = 0;
        CHECK(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
        close(m);
    }
    /* Plain exec with pipes. */
    int p[2];
    CHECK(pipe(p) == 0);
    const char *e[] = { "echo", "piped", NULL };
    CHECK(cn_ctr_exec(rt, "execd", e, false, -1, p[1], p[1], &pid, NULL, &err) == 0);
    close(p[1]);
    char buf[64] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    CHECK(n == 6 && !strncmp(buf, "piped\n", 6));
    close(p[0]);
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    remove_ctr("execd");
    cn_err_clear(&err);
}

static pid_t find_shim(const char *id)
{
    DIR *d = opendir("/proc");
    pid_t found = -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int64_t pid;
        if (cn_parse_int64(e->d_name, &pid) < 0) continue;
        char *p = cn_asprintf("/proc/%s/cmdline", e->d_name), c[4096];
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t len = fd >= 0 ? read(fd, c, sizeof c - 1) : -1;
        if (fd >= 0) close(fd);
        if (len > 0) {
            /* argv: exe shim --id <id> ... (NUL-separated) */
            c[len] = '\0';
            const char *a[4] = { "", "", "", "" };
            int k = 0;
            for (ssize_t off = 0; off < len && k < 4; off += (ssize_t)strlen(c + off) + 1) a[k++] = c + off;
            if (!strcmp(a[1], "shim") && !strcmp(a[2], "--id") && !strcmp(a[3], id)) found = (pid_t)pid;
        }
        free(p);
    }
    if (d) closedir(d);
    return found;
}

static void test_adoption(void)
{
    cn_err err = CN_ERR_INIT;
    const char *sl[] = { "sleep", "1000", NULL };
    opts o = { .meta = "adopt-meta" };
    CHECK(start("p1", "adopt", sl, &o, &err) == 0);
    CHECK(start("p1", "orphan", sl, NULL, &err) == 0);
    const char *t[] = { "true", NULL };
    CHECK_INT(run("p1", "done", t, NULL), 0);

    /* A restarted agent: a second handle on the same directory. */
    cn_runtime_config cfg = { .dir = dir, .cgroup_parent = cgparent, .on_exit = on_exit_cb,
                              .ud = (void *)1 };
    cn_runtime *rt2 = NULL;
    CHECK(cn_runtime_open(&cfg, &rt2, &err) == 0);
    if (!rt2) return;
    cn_ctr_status *v = NULL;
    size_t n = 0;
    CHECK(cn_ctr_list(rt2, &v, &n, &err) == 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].id, "adopt")) {
            seen++;
            CHECK_INT(v[i].state, CN_CTR_RUNNING);
            CHECK_STR(v[i].meta, "adopt-meta");
            CHECK(v[i].pid > 0);
        } else if (!strcmp(v[i].id, "done")) {
            seen++;
            CHECK_INT(v[i].state, CN_CTR_EXITED);
        }
    }
    CHECK_INT(seen, 2);
    cn_ctr_list_free(v, n);
    /* Stopping through the new handle; its watcher reports the exit. */
    CHECK(cn_ctr_stop(rt2, "adopt", 0, &err) == 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    pthread_mutex_lock(&mu);
    while (nexited2 < 1 && pthread_cond_timedwait(&cond, &mu, &ts) != ETIMEDOUT) {}
    int got = nexited2;
    pthread_mutex_unlock(&mu);
    CHECK(got >= 1);
    /* A shim that died: UNKNOWN, then stop cleans up. */
    pid_t shim = find_shim("orphan");
    CHECK(shim > 0);
    if (shim > 0) kill(shim, SIGKILL);
    cn_ctr_status st;
    for (int i = 0; i < 3000; i++) {
        CHECK(cn_ctr_get(rt2, "orphan", &st, &err) == 0);
        cn_ctr_state s = st.state;
        cn_ctr_status_release(&st);
        if (s != CN_CTR_RUNNING) break;
        usleep(10000);
    }
    CHECK(cn_ctr_get(rt2, "orphan", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_UNKNOWN);
    CHECK(st.message != NULL);
    cn_ctr_status_release(&st);
    CHECK(cn_ctr_stop(rt2, "orphan", 0, &err) == 0);
    CHECK(cn_ctr_get(rt2, "orphan", &st, &err) == 0);
    CHECK_INT(st.state, CN_CTR_EXITED);
    CHECK_INT(st.exit_code, 137);
    cn_ctr_status_release(&st);
    cn_runtime_close(rt2);
    remove_ctr("adopt");
    remove_ctr("orphan");
    remove_ctr("done");
    cn_err_clear(&err);
}

static bool mounts_under(const char *prefix, const char *except)
{
    char *mi = NULL;
    bool found = false;
    if (cn_read_file("/proc/self/mountinfo", &mi, NULL, NULL) < 0) return false;
    for (char *line = mi, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *f = line;
        for (int i = 0; i < 4 && f; i++) f = strchr(f + 1, ' ');   /* 5th field: mount point */
        if (!f) continue;
        f++;
        size_t len = strcspn(f, " ");
        if (!strncmp(f, prefix, strlen(prefix)) && !(except && strlen(except) == len &&
                                                     !strncmp(f, except, len)))
            found = true;
    }
    free(mi);
    return found;
}

static void test_cleanup(void)
{
    cn_err err = CN_ERR_INIT;
    cn_ctr_status *v = NULL;
    size_t n = 0;
    CHECK(cn_ctr_list(rt, &v, &n, &err) == 0);
    CHECK_INT(n, 0);
    cn_ctr_list_free(v, n);
    char **pods = NULL;
    CHECK(cn_sandbox_list(rt, &pods, &n, &err) == 0);
    CHECK_INT(n, 2);
    for (size_t i = 0; i < n; i++) {
        CHECK(cn_sandbox_remove(rt, pods[i], &err) == 0);
        free(pods[i]);
    }
    free(pods);
    CHECK(cn_sandbox_remove(rt, "p1", &err) == 0);   /* gone: not an error */
    char *sb = cn_asprintf("%s/sandboxes", dir);
    CHECK(!mounts_under(dir, sb));
    free(sb);
    char *cg = cn_asprintf("/sys/fs/cgroup/memory/%s/p1", cgparent);
    CHECK(access(cg, F_OK) < 0);
    free(cg);
    char *rr = cn_asprintf("%s/runc", dir);
    DIR *d = opendir(rr);
    int entries = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') entries++;
    if (d) closedir(d);
    CHECK_INT(entries, 0);
    free(rr);
    cn_err_clear(&err);
}

/* CAIRN_RT_BENCH=N: time N rounds of a bare `runc run` of echo against
 * sandbox create + cn_ctr_start of the same echo (->running, ->exit seen
 * by on_exit) + remove. Figures only; nothing asserted. */
static void bench(int rounds)
{
    cn_err err = CN_ERR_INIT;
    char *b = cn_asprintf("%s/bare", tmp), *cmd = cn_asprintf("mkdir -p %s && cd %s && runc spec", b, b);
    sh(cmd);
    free(cmd);
    char *cfgp = cn_asprintf("%s/config.json", b), *text = NULL;
    cn_read_file(cfgp, &text, NULL, NULL);
    json_t *cfg = json_loads(text ? text : "{}", 0, NULL);
    free(text);
    json_t *proc = json_object_get(cfg, "process");
    json_object_set_new(proc, "terminal", json_false());
    json_object_set_new(proc, "args", json_pack("[ss]", "echo", "hi"));
    json_object_set_new(json_object_get(cfg, "root"), "path", json_string(layer));
    text = json_dumps(cfg, 0);
    cn_rt_write_file(cfgp, text, strlen(text));
    free(text);
    json_decref(cfg);
    int64_t bare = 0, sbx = 0, run_ = 0, ex = 0;
    for (int i = 0; i < rounds; i++) {
        char id[32];
        snprintf(id, sizeof id, "bare%d", i);
        const char *argv[] = { "runc", "--root", "/run/runc", "run", "--bundle", b, id, NULL };
        int64_t t0 = cn_now_ms();
        cn_rt_spawn_wait(argv, NULL, 0);
        bare += cn_now_ms() - t0;

        snprintf(id, sizeof id, "bench%d", i);
        const char *args[] = { "echo", "hi", NULL };
        t0 = cn_now_ms();
        cn_sandbox_create(rt, "pb", "bench", NULL, &err);
        int64_t t1 = cn_now_ms();
        start("pb", id, args, NULL, &err);
        int64_t t2 = cn_now_ms();
        wait_exit_cb(id);
        int64_t t3 = cn_now_ms();
        sbx += t1 - t0;
        run_ += t2 - t0;
        ex += t3 - t0;
        remove_ctr(id);
        cn_sandbox_remove(rt, "pb", &err);
    }
    printf("bench (%d rounds, mean): bare runc run echo %.1f ms; pod: sandbox %.1f ms, "
           "sandbox+cn_ctr_start->running %.1f ms, ->exit seen %.1f ms\n", rounds,
           (double)bare / rounds, (double)sbx / rounds, (double)run_ / rounds, (double)ex / rounds);
    free(cfgp);
    free(b);
    cn_err_clear(&err);
}

/* ---- setup / teardown ---- */

/* Runs in the parent after the test process ended, however it ended
 * (a failed check, a sanitizer abort, a crash): kill what runc still runs
 * (the shims then end by themselves), unmount everything below the temp
 * dir, delete it and the test's cgroups. */
static void teardown(void)
{
    char *cmd = cn_asprintf(
        "t=%s; for id in $(runc --root $t/data/runc list -q 2>/dev/null); do "
        "runc --root $t/data/runc delete -f $id; done; "
        "grep \" $t/\" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l; "
        "rm -rf $t; "
        "for c in /sys/fs/cgroup/*/%s; do [ -d \"$c\" ] && find \"$c\" -depth -type d -exec rmdir {} + 2>/dev/null; done; "
        "true", tmp, cgparent);
    sh(cmd);
    free(cmd);
}

static int setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/cairn-rt-XXXXXX");
    if (!mkdtemp(tmp)) return -1;
    snprintf(dir, sizeof dir, "%s/data", tmp);
    snprintf(layer, sizeof layer, "%s/layer", tmp);
    snprintf(logs, sizeof logs, "%s/logs", tmp);
    snprintf(cgparent, sizeof cgparent, "cairn-test-%d", (int)getpid());
    char *cmd = cn_asprintf("set -e; mkdir -p %s/bin %s/tmp %s/etc; cp /bin/busybox %s/bin/; cd %s/bin; "
                            "for a in sh echo cat id pwd sleep nc dd hostname chown touch true seq tty "
                            "ls tr ps grep printf stty; do ln -s busybox $a; done",
                            layer, layer, layer, layer, layer);
    int r = system(cmd);
    free(cmd);
    return r == 0 ? 0 : -1;
}

static int run_tests(void)
{
    cn_runtime_config cfg = { .dir = dir, .cgroup_parent = cgparent, .on_exit = on_exit_cb };
    cn_err err = CN_ERR_INIT;
    if (cn_runtime_open(&cfg, &rt, &err) < 0) {
        fprintf(stderr, "cn_runtime_open: %s\n", err.message);
        cn_err_clear(&err);
        return 1;
    }
    const char *nb = getenv("CAIRN_RT_BENCH");
    int64_t rounds = 0;
    if (nb && cn_parse_int64(nb, &rounds) == 0 && rounds > 0) {
        bench((int)rounds);
        cn_runtime_close(rt);
        return 0;
    }
    TEST_RUN(test_echo_and_log);
    TEST_RUN(test_exit_codes);
    TEST_RUN(test_missing_command);
    TEST_RUN(test_env_cwd_user);
    TEST_RUN(test_readonly_and_caps);
    TEST_RUN(test_privileged);
    TEST_RUN(test_shared_network);
    TEST_RUN(test_limits);
    TEST_RUN(test_stop);
    TEST_RUN(test_exec);
    TEST_RUN(test_adoption);
    TEST_RUN(test_cleanup);
    cn_runtime_close(rt);
    return TEST_DONE();
}

static pid_t child;
static void forward(int sig)
{
    if (child > 0) kill(child, sig);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "shim")) return cn_shim_main(argc - 1, argv + 1);
    if (geteuid() != 0) {
        printf("skipped: test_runtime needs root\n");
        return 0;
    }
    if (system("command -v runc >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) < 0) {
        printf("skipped: test_runtime needs runc and busybox-static\n");
        return 0;
    }
    if (setup() < 0) {
        fprintf(stderr, "setup failed\n");
        teardown();
        return 1;
    }
    /* The cases run in a child so that cleanup happens whatever it does. */
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    child = fork();
    if (child == 0) exit(run_tests());
    int st = 0;
    while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    teardown();
    return child > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
