/* vminit: the VM init, `cairn host vm-init CONFIG` (hidden), PID 1 of a
 * node VM's PID namespace (see vm.h). It finishes the sandbox from inside
 * (network namespace, cgroups, private mounts, /proc, /run, resolv.conf,
 * hostname), removes the volatile state a real reboot would have lost,
 * then starts the node software and restarts whatever dies, with a
 * back-off. It reports nothing: the host agent reports the VM's phase.
 * SIGTERM stops the children (SIGTERM, then SIGKILL after a grace) and
 * ends the VM: when PID 1 exits the kernel kills the rest of the
 * namespace, the agent's containers included. */
#define _GNU_SOURCE
#include "host/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/pki.h"
#include "lib/util.h"

#define MAX_PROCS 4
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
#define STEADY_MS 30000      /* ran this long: the next crash starts the back-off over */
#define CHILD_GRACE_MS 5000

typedef struct proc {
    const char *name;
    char **argv;
    pid_t pid;
    int64_t started, next_start, backoff;
} proc;

static volatile sig_atomic_t term;
static void on_term(int sig) { (void)sig; term = 1; }

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "cairn vm-init: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
    return -errno;
}

/* The mount namespace was copied from the host's, with the bind mounts
 * that keep the other VMs' network namespaces alive: drop them here, or a
 * stopped VM's namespace would live on as long as this VM. */
static void drop_netns_mounts(void)
{
    char **dirs = NULL;
    size_t n = 0;
    FILE *f = setmntent("/proc/self/mounts", "r");
    struct mntent *m;
    while (f && (m = getmntent(f)))
        if (cn_str_has_prefix(m->mnt_dir, "/run/netns/")) {
            dirs = cn_realloc(dirs, (n + 1) * sizeof *dirs);
            dirs[n++] = cn_strdup(m->mnt_dir);
        }
    if (f) endmntent(f);
    for (size_t i = 0; i < n; i++) {
        umount2(dirs[i], MNT_DETACH);
        free(dirs[i]);
    }
    free(dirs);
}

/* Everything before the node software starts; cfg from the host agent. */
static int boot(const json_t *cfg)
{
    const char *name = json_string_value(json_object_get(cfg, "name"));
    const char *netns = json_string_value(json_object_get(cfg, "netns"));
    json_t *cgs = json_object_get(cfg, "cgroups"), *cg;
    size_t i;

    setsid();
    /* Into the VM's cgroups first: everything started later inherits them. */
    json_array_foreach(cgs, i, cg) {
        char *p = cn_asprintf("%s/cgroup.procs", json_string_value(json_object_get(cg, "dir")));
        int rc = cn_vm_write_str(p, "0");
        free(p);
        if (rc < 0) return fail("joining cgroup", json_string_value(json_object_get(cg, "dir")));
    }
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) return fail("entering network namespace", netns);
    close(fd);
    if (sethostname(name, strlen(name)) < 0) return fail("sethostname", name);
    /* Nothing mounted here may leak back into the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail("making mounts private", "/");
    drop_netns_mounts();
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return fail("mounting", "/proc");
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") < 0) return fail("mounting", "/run");
    /* A sysfs of the VM's network namespace (its /sys/class/net), with
     * only the VM's own cgroups under /sys/fs/cgroup: the agent inside
     * reads its limits there and nests its containers below them. The
     * cgroup directories are bound to /run/cairn-vm/cg first, then the
     * host's sysfs and cgroup mounts go (not just covered: runc looks
     * cgroup mounts up in mountinfo and must find only the VM's), then
     * the binds move into the new /sys/fs/cgroup. */
    int rc = 0;
    json_array_foreach(cgs, i, cg) {
        const char *d = json_string_value(json_object_get(cg, "dir"));
        char *stage = cn_asprintf("/run/cairn-vm/cg/%zu", i);
        if (cn_mkdir_p(stage, 0755) < 0 || mount(d, stage, NULL, MS_BIND, NULL) < 0) rc = fail("binding cgroup", d);
        free(stage);
        if (rc < 0) return rc;
    }
    if (umount2("/sys", MNT_DETACH) < 0) return fail("unmounting", "/sys");
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
        mount("cgroup", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
        return fail("mounting", "/sys");
    json_array_foreach(cgs, i, cg) {
        const char *m = json_string_value(json_object_get(cg, "mount"));
        char *stage = cn_asprintf("/run/cairn-vm/cg/%zu", i);
        if (mkdir(m, 0755) < 0 && errno != EEXIST) rc = fail("mkdir", m);
        else if (mount(stage, m, NULL, MS_MOVE, NULL) < 0) rc = fail("moving cgroup to", m);
        rmdir(stage);
        free(stage);
        if (rc < 0) return rc;
    }
    const char *resolv = json_string_value(json_object_get(cfg, "resolv"));
    if (resolv && *resolv) {
        cn_mkdir_p("/run/cairn-vm", 0755);
        if (cn_write_file_atomic("/run/cairn-vm/resolv.conf", resolv, strlen(resolv), 0644, NULL) < 0 ||
            mount("/run/cairn-vm/resolv.conf", "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
            return fail("binding", "/etc/resolv.conf");
    }
    json_t *c;
    json_array_foreach(json_object_get(cfg, "clean"), i, c) cn_rm_rf(json_string_value(c));
    return 0;
}

static void start(proc *p, const char *logdir)
{
    char *log = cn_asprintf("%s/%s.log", logdir, p->name);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0640);
        if (in >= 0) dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execvp(p->argv[0], p->argv);
        fprintf(stderr, "cairn vm-init: exec %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        p->next_start = cn_now_ms() + p->backoff;
    } else {
        p->pid = pid;
        p->started = cn_now_ms();
    }
    free(log);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool any_running(proc *ps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i].pid > 0) return true;
    return false;
}

/* Reap every child (as PID 1 we also inherit orphans) and note ours. */
static void reap(proc *ps, size_t n, const char *vm)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ps[i].pid != pid) continue;
            ps[i].pid = 0;
            int64_t now = cn_now_ms(), ran = now - ps[i].started;
            if (ran >= STEADY_MS) ps[i].backoff = BACKOFF_MIN_MS;
            if (!term)
                cn_warn("vm %s: %s exited (%s %d) after %lld ms, restarting in %lld ms", vm, ps[i].name,
                        WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                        (long long)ran, (long long)ps[i].backoff);
            ps[i].next_start = now + ps[i].backoff;
            ps[i].backoff = ps[i].backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ps[i].backoff * 2;
        }
    }
}

int cn_vm_init_main(int argc, char **argv)
{
    json_error_t je;
    json_t *cfg = argc == 2 ? json_load_file(argv[1], 0, &je) : NULL;
    proc ps[MAX_PROCS];
    size_t n = 0, i;
    json_t *pj;
    int rc = 1;
    if (!cfg) {
        fprintf(stderr, "usage: cairn host vm-init CONFIG (started by cairn host)\n");
        return 2;
    }
    const char *vm = json_string_value(json_object_get(cfg, "name"));
    const char *logdir = json_string_value(json_object_get(cfg, "logdir"));
    struct sigaction sa = { 0 };
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (boot(cfg) < 0) goto out;
    cn_mkdir_p(logdir, 0755);
    json_array_foreach(json_object_get(cfg, "procs"), i, pj) {
        if (n == MAX_PROCS) break;
        json_t *av = json_object_get(pj, "argv");
        proc *p = &ps[n++];
        memset(p, 0, sizeof *p);
        p->name = json_string_value(json_object_get(pj, "name"));
        p->argv = cn_calloc(json_array_size(av) + 1, sizeof *p->argv);
        for (size_t j = 0; j < json_array_size(av); j++)
            p->argv[j] = (char *)json_string_value(json_array_get(av, j));
        p->backoff = BACKOFF_MIN_MS;
    }
    cn_info("vm %s: booted, starting %zu process(es)", vm, n);
    while (!term) {
        reap(ps, n, vm);
        int64_t now = cn_now_ms();
        for (i = 0; i < n && !term; i++)
            if (ps[i].pid == 0 && now >= ps[i].next_start) start(&ps[i], logdir);
        sleep_ms(100);
    }
    /* Shut down: SIGTERM to the node software, SIGKILL after a grace. */
    for (i = 0; i < n; i++)
        if (ps[i].pid > 0) kill(ps[i].pid, SIGTERM);
    int64_t deadline = cn_now_ms() + CHILD_GRACE_MS;
    while (any_running(ps, n) && cn_now_ms() < deadline) {
        reap(ps, n, vm);
        sleep_ms(50);
    }
    rc = 0;
out:
    for (i = 0; i < n; i++) free(ps[i].argv);
    json_decref(cfg);
    /* Returning from PID 1 ends the namespace: the kernel kills the rest. */
    return rc;
}
