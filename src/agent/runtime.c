/* runtime: containers on runc (runtime.h). This file holds the runtime
 * handle, the exit watcher, and the container calls; sandbox.c makes the
 * pods' namespaces, bundle.c the OCI bundles, shim.c the per-container
 * supervisor. Layout on disk: runtime-internal.h.
 *
 * A container's state is read from its bundle, never kept in memory, so a
 * second handle on the same DIR (a restarted agent) sees exactly what the
 * first saw:
 *
 *   no exit file, shim.lock held     RUNNING  (the shim is alive)
 *   exit file                        EXITED   (code, signal, OOM, message)
 *   no exit file, shim.lock free     UNKNOWN  (the shim died; status lost)
 *
 * The exit watcher is one thread with an inotify descriptor: a watch on
 * DIR/containers for new bundles, and one per bundle for the exit file's
 * rename. It calls on_exit once per exit it sees and wakes cn_ctr_stop. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime-internal.h"
#include "lib/pki.h"
#include "lib/log.h"

#define START_TIMEOUT_MS 60000
#define EXEC_OUTPUT_MAX 10240

struct cn_rt_watch {
    int wd;
    char *id;
    bool notified;               /* on_exit called (or exit predates us) */
};

extern char **environ;

/* ---- processes ---- */

/* Attributes for every child we spawn: default dispositions (the agent
 * may ignore SIGPIPE or block signals for its threads), an empty mask, and
 * optionally a new session. */
static void spawn_attr_init(posix_spawnattr_t *at, bool new_session)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(at);
    posix_spawnattr_setsigmask(at, &none);
    posix_spawnattr_setsigdefault(at, &all);
    posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                 (new_session ? POSIX_SPAWN_SETSID : 0));
}

/* posix_spawn with the given stdio (-1 = /dev/null), default signal
 * dispositions and an empty mask; safe from a threaded process. */
int cn_rt_spawn(const char *const *argv, int in, int out, int errfd, bool setsid_, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    spawn_attr_init(&at, setsid_);
    const int fds[3] = { in, out, errfd };
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0) posix_spawn_file_actions_adddup2(&fa, fds[i], i);
        else posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
    }
    int r = posix_spawnp(pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return -r;
}

static int wait_pid(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -errno;
    return st;
}

int cn_rt_spawn_wait(const char *const *argv, char **out, size_t cap)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -errno;
    pid_t pid;
    int r = cn_rt_spawn(argv, -1, p[1], p[1], false, &pid);
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        return r;
    }
    cn_buf b;
    cn_buf_init(&b);
    char chunk[4096];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (b.len < cap) cn_buf_add(&b, chunk, (size_t)n < cap - b.len ? (size_t)n : cap - b.len);
    }
    close(p[0]);
    r = wait_pid(pid);
    if (out) *out = cn_buf_detach(&b, NULL);
    else cn_buf_release(&b);
    return r;
}

/* runc <args...> with our --root; argv must end with NULL. */
static int runc(cn_runtime *rt, char **out, const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = rt->runc;
    argv[n++] = "--root";
    argv[n++] = rt->runc_root;
    for (size_t i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
    argv[n] = NULL;
    return cn_rt_spawn_wait(argv, out, 4096);
}

/* ---- paths and files ---- */

static char *bundle_path(cn_runtime *rt, const char *id)
{
    return cn_asprintf("%s/%s", rt->containers, id);
}

static bool bundle_has(cn_runtime *rt, const char *id, const char *file)
{
    char *p = cn_asprintf("%s/%s/%s", rt->containers, id, file);
    bool r = access(p, F_OK) == 0;
    free(p);
    return r;
}

static json_t *bundle_json(cn_runtime *rt, const char *id, const char *file)
{
    char *p = cn_asprintf("%s/%s/%s", rt->containers, id, file), *text = NULL;
    json_t *j = cn_read_file(p, &text, NULL, NULL) == 0 ? json_loads(text, 0, NULL) : NULL;
    free(text);
    free(p);
    return j;
}

/* Is the shim alive? It holds shim.lock exclusively for its whole life. */
static bool shim_alive(cn_runtime *rt, const char *id)
{
    char *p = cn_asprintf("%s/%s/shim.lock", rt->containers, id);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    if (fd < 0) return false;
    bool alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return alive;
}

/* ---- exit watcher ---- */

/* Watch bundle id (once). Returns true when its exit file is there and
 * nobody was told yet and notify is set: the caller then calls on_exit. */
static bool watch_bundle(cn_runtime *rt, const char *id, bool notify)
{
    char *p = bundle_path(rt, id);
    int wd = inotify_add_watch(rt->ino_fd, p, IN_MOVED_TO | IN_ONLYDIR);
    free(p);
    if (wd < 0) return false;
    bool fire = false;
    pthread_mutex_lock(&rt->mu);
    struct cn_rt_watch *w = NULL;
    for (size_t i = 0; i < rt->nwatches; i++)
        if (rt->watches[i].wd == wd) w = &rt->watches[i];
    if (!w) {
        if (rt->nwatches == rt->capwatches) {
            rt->capwatches = rt->capwatches ? rt->capwatches * 2 : 16;
            rt->watches = cn_realloc(rt->watches, rt->capwatches * sizeof *rt->watches);
        }
        w = &rt->watches[rt->nwatches++];
        w->wd = wd;
        w->id = cn_strdup(id);
        w->notified = false;
    }
    if (!w->notified && bundle_has(rt, id, "exit")) {
        w->notified = true;
        fire = notify;
        rt->exit_gen++;
        pthread_cond_broadcast(&rt->cond);
    }
    pthread_mutex_unlock(&rt->mu);
    return fire;
}

static void fire_exit(cn_runtime *rt, const char *id)
{
    if (rt->on_exit) rt->on_exit(rt->ud, id);
}

/* The event queue overflowed: events are lost, so look at every bundle. */
static void rescan(cn_runtime *rt)
{
    DIR *d = opendir(rt->containers);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && cn_rt_valid_name(e->d_name) && watch_bundle(rt, e->d_name, true))
            fire_exit(rt, e->d_name);
    closedir(d);
}

static void handle_event(cn_runtime *rt, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        rescan(rt);
        return;
    }
    if (ev->wd == rt->containers_wd) {
        if ((ev->mask & IN_ISDIR) && ev->len && cn_rt_valid_name(ev->name) &&
            watch_bundle(rt, ev->name, true))
            fire_exit(rt, ev->name);
        return;
    }
    char *fire = NULL;
    pthread_mutex_lock(&rt->mu);
    for (size_t i = 0; i < rt->nwatches; i++) {
        struct cn_rt_watch *w = &rt->watches[i];
        if (w->wd != ev->wd) continue;
        if (ev->mask & IN_IGNORED) {     /* bundle removed */
            free(w->id);
            rt->watches[i] = rt->watches[--rt->nwatches];
        } else if (ev->len && !strcmp(ev->name, "exit") && !w->notified) {
            w->notified = true;
            fire = cn_strdup(w->id);
            rt->exit_gen++;
            pthread_cond_broadcast(&rt->cond);
        }
        break;
    }
    pthread_mutex_unlock(&rt->mu);
    if (fire) fire_exit(rt, fire);
    free(fire);
}

static void *watcher(void *arg)
{
    cn_runtime *rt = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        struct pollfd p[2] = { { rt->ino_fd, POLLIN, 0 }, { rt->wake_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN)) continue;
        ssize_t n = read(rt->ino_fd, buf, sizeof buf);
        if (n <= 0) continue;
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            handle_event(rt, ev);
            q += sizeof *ev + ev->len;
        }
    }
    return NULL;
}

/* Wait until the container's exit file exists or deadline (monotonic ms).
 * Woken by the watcher; the 200 ms re-check only covers a missed event. */
static int wait_exit(cn_runtime *rt, const char *id, int64_t deadline)
{
    pthread_mutex_lock(&rt->mu);
    int ret = 0;
    while (!bundle_has(rt, id, "exit")) {
        int64_t now = cn_now_ms();
        if (now >= deadline) {
            ret = -ETIMEDOUT;
            break;
        }
        int64_t until = now + 200 < deadline ? now + 200 : deadline;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (until - now) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&rt->cond, &rt->mu, &ts);
    }
    pthread_mutex_unlock(&rt->mu);
    return ret;
}

/* ---- open / close ---- */

/* DIR/sandboxes as a private mount point: see sandbox.c. */
static int make_private_mount(const char *path, cn_err *err)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) < 0)
        return cn_err_internal(err, "statx %s: %s", path, strerror(errno));
    bool is_mount = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
    if (!is_mount && mount(path, path, NULL, MS_BIND, NULL) < 0)
        return cn_err_internal(err, "bind-mounting %s on itself: %s", path, strerror(errno));
    if (mount(NULL, path, NULL, MS_PRIVATE, NULL) < 0)
        return cn_err_internal(err, "making %s a private mount: %s", path, strerror(errno));
    return 0;
}

static char *trim_slashes(const char *s)
{
    while (*s == '/') s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == '/') n--;
    return cn_strndup(s, n);
}

int cn_runtime_open(const cn_runtime_config *cfg, cn_runtime **out, cn_err *err)
{
    if (!cfg->dir || !*cfg->dir) return cn_err_invalid(err, "runtime: no data directory");
    cn_runtime *rt = cn_calloc(1, sizeof *rt);
    int ret = 0;
    rt->ino_fd = rt->wake_fd = rt->containers_wd = -1;
    rt->dir = cn_strdup(cfg->dir);
    rt->runc = cn_strdup(cfg->runc ? cfg->runc : "runc");
    rt->cgroup_parent = trim_slashes(cfg->cgroup_parent ? cfg->cgroup_parent : "cairn");
    rt->self_exe = cn_strdup(cfg->self_exe ? cfg->self_exe : "/proc/self/exe");
    rt->sandboxes = cn_asprintf("%s/sandboxes", cfg->dir);
    rt->containers = cn_asprintf("%s/containers", cfg->dir);
    rt->runc_root = cn_asprintf("%s/runc", cfg->dir);
    rt->on_exit = cfg->on_exit;
    rt->ud = cfg->ud;
    rt->memsw = access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->cond, &ca);
    pthread_condattr_destroy(&ca);

    const char *dirs[] = { rt->sandboxes, rt->containers, rt->runc_root };
    for (size_t i = 0; i < 3; i++)
        if ((ret = cn_mkdir_p(dirs[i], 0755)) < 0) {
            cn_err_internal(err, "runtime: mkdir %s: %s", dirs[i], strerror(-ret));
            goto fail;
        }
    if ((ret = make_private_mount(rt->sandboxes, err)) < 0) goto fail;
    rt->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    rt->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (rt->ino_fd < 0 || rt->wake_fd < 0) {
        ret = cn_err_internal(err, "runtime: inotify/eventfd: %s", strerror(errno));
        goto fail;
    }
    rt->containers_wd = inotify_add_watch(rt->ino_fd, rt->containers,
                                          IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (rt->containers_wd < 0) {
        ret = cn_err_internal(err, "runtime: watching %s: %s", rt->containers, strerror(errno));
        goto fail;
    }
    /* Adoption: every bundle already there gets its watch; exits that
     * happened before this handle existed are not announced (the kubelet
     * reads them from cn_ctr_list). */
    DIR *d = opendir(rt->containers);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && cn_rt_valid_name(e->d_name)) watch_bundle(rt, e->d_name, false);
        closedir(d);
    }
    if (pthread_create(&rt->thread, NULL, watcher, rt) != 0) {
        ret = cn_err_internal(err, "runtime: cannot start the exit watcher");
        goto fail;
    }
    rt->thread_started = true;
    *out = rt;
    return 0;
fail:
    cn_runtime_close(rt);
    return ret < 0 ? ret : -EIO;
}

void cn_runtime_close(cn_runtime *rt)
{
    if (!rt) return;
    if (rt->thread_started) {
        uint64_t one = 1;
        if (write(rt->wake_fd, &one, sizeof one) < 0) {}
        pthread_join(rt->thread, NULL);
    }
    if (rt->ino_fd >= 0) close(rt->ino_fd);
    if (rt->wake_fd >= 0) close(rt->wake_fd);
    for (size_t i = 0; i < rt->nwatches; i++) free(rt->watches[i].id);
    free(rt->watches);
    pthread_mutex_destroy(&rt->mu);
    pthread_cond_destroy(&rt->cond);
    free(rt->dir);
    free(rt->runc);
    free(rt->cgroup_parent);
    free(rt->self_exe);
    free(rt->sandboxes);
    free(rt->containers);
    free(rt->runc_root);
    free(rt);
}

/* ---- start ---- */

/* Spawn `cairn shim` and wait for its report line. Returns 0 (running),
 * 1 (start failed: *msg says why) or -errno (the shim itself failed). */
static int run_shim(cn_runtime *rt, const cn_ctr_spec *spec, const char *bundle,
                    const char *cgpath, char **msg)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0) return -errno;
    char *max = cn_asprintf("%lld", (long long)(spec->log_max_bytes > 0 ? spec->log_max_bytes
                                                                          : 10 << 20));
    const char *argv[] = { rt->self_exe, "shim", "--id", spec->id, "--bundle", bundle,
                           "--runc", rt->runc, "--root", rt->runc_root, "--log", spec->log_path,
                           "--log-max", max, "--cgroup", cgpath, "--report-fd", "3", NULL };
    char *shim_log = cn_asprintf("%s/shim.log", bundle);
    int logfd = open(shim_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    free(shim_log);
    /* The report pipe becomes fd 3 in the shim; keep it off 0..3 here so
     * the dup2 below never is a no-op that leaves FD_CLOEXEC set. */
    int wfd = fcntl(rp[1], F_DUPFD_CLOEXEC, 10);
    close(rp[1]);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    spawn_attr_init(&at, true);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (logfd >= 0) posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    else posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wfd, 3);
    pid_t pid;
    int r = -posix_spawn(&pid, rt->self_exe, &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(wfd);
    if (logfd >= 0) close(logfd);
    free(max);
    if (r < 0) {
        close(rp[0]);
        return r;
    }
    wait_pid(pid);               /* the shim's first process exits at once */

    cn_buf b;
    cn_buf_init(&b);
    int64_t deadline = cn_now_ms() + START_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - cn_now_ms();
        if (left <= 0) {
            r = -ETIMEDOUT;
            break;
        }
        struct pollfd p = { rp[0], POLLIN, 0 };
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
            r = -errno;
            break;
        }
        char chunk[1024];
        ssize_t n = read(rp[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (b.len < 65536) cn_buf_add(&b, chunk, (size_t)n);
        if (memchr(chunk, '\n', (size_t)n)) break;   /* the report is one line */
    }
    close(rp[0]);
    if (r == 0) {
        char *line = b.data ? b.data : "";
        line[strcspn(line, "\n")] = '\0';
        if (cn_str_has_prefix(line, "ok ")) r = 0;
        else if (cn_str_has_prefix(line, "err ")) {
            *msg = cn_strdup(line + 4);
            r = 1;
        } else r = -EPIPE;
    }
    cn_buf_release(&b);
    return r;
}

int cn_ctr_start(cn_runtime *rt, const cn_ctr_spec *spec, cn_err *err)
{
    if (!cn_rt_valid_name(spec->id))
        return cn_err_invalid(err, "invalid container id \"%s\"", spec->id ? spec->id : "");
    if (!cn_rt_valid_name(spec->pod))
        return cn_err_invalid(err, "invalid pod id \"%s\"", spec->pod ? spec->pod : "");
    if (!spec->log_path || spec->log_path[0] != '/')
        return cn_err_invalid(err, "container %s: log path must be absolute", spec->id);
    char *sdir = cn_asprintf("%s/%s", rt->sandboxes, spec->pod);
    char *ready = cn_asprintf("%s/ready", sdir);
    char *bundle = bundle_path(rt, spec->id);
    char *cgpath = cn_asprintf("/%s/%s/%s", rt->cgroup_parent, spec->pod, spec->id);
    char *msg = NULL, *cfgtext = NULL;
    json_t *cfg = NULL;
    int ret = 0;
    bool made = false;

    if (access(ready, F_OK) < 0) {
        ret = CN_RT_ERR(ENOENT, cn_err_set(err, 404, "NotFound", "pod %s has no sandbox", spec->pod));
        goto out;
    }
    /* The config first: a bad spec leaves nothing behind. */
    if (!(cfg = cn_bundle_config(spec, sdir, cgpath, rt->memsw, err))) {
        ret = -EINVAL;
        goto out;
    }
    if (mkdir(bundle, 0711) < 0) {
        ret = -errno;
        if (errno == EEXIST) cn_err_set(err, 409, "AlreadyExists", "container %s already exists", spec->id);
        else cn_err_internal(err, "mkdir %s: %s", bundle, strerror(errno));
        goto out;
    }
    made = true;
    json_t *info = json_object();
    json_object_set_new(info, "pod", json_string(spec->pod));
    if (spec->meta) json_object_set_new(info, "meta", json_string(spec->meta));
    json_object_set_new(info, "log_path", json_string(spec->log_path));
    json_object_set_new(info, "cgroup", json_string(cgpath));
    char *infotext = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    char *infopath = cn_asprintf("%s/info.json", bundle);
    ret = cn_rt_write_file(infopath, infotext, strlen(infotext));
    free(infopath);
    free(infotext);
    if (ret < 0) {
        cn_err_internal(err, "writing %s/info.json: %s", bundle, strerror(-ret));
        goto out;
    }
    if ((ret = cn_bundle_mount_rootfs(bundle, spec->layers, spec->nlayers, err)) < 0) goto out;
    cfgtext = json_dumps(cfg, JSON_INDENT(1));
    char *cfgpath = cn_asprintf("%s/config.json", bundle);
    ret = cn_rt_write_file(cfgpath, cfgtext, strlen(cfgtext));
    free(cfgpath);
    if (ret < 0) {
        cn_err_internal(err, "writing %s/config.json: %s", bundle, strerror(-ret));
        goto out;
    }
    ret = run_shim(rt, spec, bundle, cgpath, &msg);
    if (ret == 1) {
        /* The shim wrote the exit file (128, msg): the container exists,
         * failed, and stays until cn_ctr_remove. */
        made = false;
        cn_err_set(err, 500, "StartError", "%s", msg);
        ret = strstr(msg, "not found") || strstr(msg, "no such file") ? -ENOENT : -ENOEXEC;
    } else if (ret < 0) {
        cn_err_internal(err, "container %s: the shim failed: %s", spec->id, strerror(-ret));
        if (shim_alive(rt, spec->id)) made = false;   /* still running: leave it be */
    }
out:
    if (ret < 0 && made) {
        const char *del[] = { "delete", "--force", spec->id, NULL };
        runc(rt, NULL, del);
        cn_bundle_unmount_rootfs(bundle, NULL);
        cn_rt_rmtree(bundle);
    }
    json_decref(cfg);
    free(cfgtext);
    free(msg);
    free(cgpath);
    free(bundle);
    free(ready);
    free(sdir);
    return ret;
}

/* ---- status ---- */

static int read_status(cn_runtime *rt, const char *id, cn_ctr_status *st)
{
    memset(st, 0, sizeof *st);
    char *bundle = bundle_path(rt, id);
    struct stat sb;
    int r = stat(bundle, &sb);
    free(bundle);
    if (r < 0) return -ENOENT;
    st->id = cn_strdup(id);
    json_t *info = bundle_json(rt, id, "info.json");
    st->pod = cn_strdup(json_string_value(json_object_get(info, "pod")));
    st->meta = cn_strdup(json_string_value(json_object_get(info, "meta")));
    json_decref(info);
    json_t *started = bundle_json(rt, id, "started");
    st->pid = (pid_t)json_integer_value(json_object_get(started, "pid"));
    st->started_ms = json_integer_value(json_object_get(started, "started_ms"));
    json_decref(started);
    json_t *ex = bundle_json(rt, id, "exit");
    if (ex) {
        st->state = CN_CTR_EXITED;
        st->pid = 0;
        st->exit_code = (int)json_integer_value(json_object_get(ex, "exit_code"));
        st->oom_killed = json_is_true(json_object_get(ex, "oom_killed"));
        st->finished_ms = json_integer_value(json_object_get(ex, "finished_ms"));
        st->message = cn_strdup(json_string_value(json_object_get(ex, "message")));
        json_decref(ex);
    } else if (shim_alive(rt, id)) {
        st->state = CN_CTR_RUNNING;
    } else {
        st->state = CN_CTR_UNKNOWN;
        st->message = cn_strdup("the container's shim is gone (killed or crashed); its exit status is lost");
    }
    return 0;
}

void cn_ctr_status_release(cn_ctr_status *st)
{
    if (!st) return;
    free(st->id);
    free(st->pod);
    free(st->meta);
    free(st->message);
    memset(st, 0, sizeof *st);
}

int cn_ctr_get(cn_runtime *rt, const char *id, cn_ctr_status *out, cn_err *err)
{
    if (!cn_rt_valid_name(id) || read_status(rt, id, out) < 0)
        return CN_RT_ERR(ENOENT, cn_err_set(err, 404, "NotFound", "container %s not found", id ? id : ""));
    return 0;
}

int cn_ctr_list(cn_runtime *rt, cn_ctr_status **out, size_t *n, cn_err *err)
{
    DIR *d = opendir(rt->containers);
    if (!d) return cn_err_internal(err, "opendir %s: %s", rt->containers, strerror(errno));
    cn_ctr_status *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !cn_rt_valid_name(e->d_name)) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            v = cn_realloc(v, cap * sizeof *v);
        }
        if (read_status(rt, e->d_name, &v[cnt]) == 0) cnt++;
    }
    closedir(d);
    *out = v;
    *n = cnt;
    return 0;
}

void cn_ctr_list_free(cn_ctr_status *sts, size_t n)
{
    for (size_t i = 0; i < n; i++) cn_ctr_status_release(&sts[i]);
    free(sts);
}

/* ---- signal / stop / remove ---- */

int cn_ctr_signal(cn_runtime *rt, const char *id, int sig, cn_err *err)
{
    if (!cn_rt_valid_name(id) || !bundle_has(rt, id, "."))
        return CN_RT_ERR(ENOENT, cn_err_set(err, 404, "NotFound", "container %s not found", id ? id : ""));
    if (bundle_has(rt, id, "exit")) return 0;
    char signame[16];
    snprintf(signame, sizeof signame, "%d", sig);
    const char *args[] = { "kill", id, signame, NULL };
    char *out = NULL;
    int st = runc(rt, &out, args);
    int ret = 0;
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        /* Gone in the meantime (or never started): nothing to signal. */
        if (!bundle_has(rt, id, "exit") && !(out && (strstr(out, "not running") ||
                                                     strstr(out, "does not exist"))))
            ret = cn_err_internal(err, "signalling container %s: %s", id, out && *out ? out : "runc kill failed");
    }
    free(out);
    return ret;
}

/* The shim died: no one will write the exit file, so kill what is left of
 * the container and write it here. */
static int stop_orphan(cn_runtime *rt, const char *id)
{
    const char *kill9[] = { "kill", id, "9", NULL };
    const char *del[] = { "delete", "--force", id, NULL };
    runc(rt, NULL, kill9);
    runc(rt, NULL, del);
    json_t *j = json_object();
    json_object_set_new(j, "exit_code", json_integer(137));
    json_object_set_new(j, "signal", json_integer(SIGKILL));
    json_object_set_new(j, "oom_killed", json_false());
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_object_set_new(j, "finished_ms", json_integer((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
    json_object_set_new(j, "message", json_string("stopped after its shim had died; real exit status unknown"));
    char *s = json_dumps(j, JSON_COMPACT), *path = cn_asprintf("%s/%s/exit", rt->containers, id);
    int r = cn_rt_write_file(path, s, strlen(s));
    free(path);
    free(s);
    json_decref(j);
    return r;
}

int cn_ctr_stop(cn_runtime *rt, const char *id, int64_t grace_ms, cn_err *err)
{
    cn_ctr_status st;
    int ret = cn_ctr_get(rt, id, &st, err);
    if (ret < 0) return ret;
    cn_ctr_state state = st.state;
    cn_ctr_status_release(&st);
    if (state == CN_CTR_EXITED) return 0;
    if (state == CN_CTR_UNKNOWN) {
        ret = stop_orphan(rt, id);
        return ret < 0 ? cn_err_internal(err, "stopping container %s: %s", id, strerror(-ret)) : 0;
    }
    if (grace_ms > 0) {
        if ((ret = cn_ctr_signal(rt, id, SIGTERM, err)) < 0) return ret;
        if (wait_exit(rt, id, cn_now_ms() + grace_ms) == 0) return 0;
    }
    if ((ret = cn_ctr_signal(rt, id, SIGKILL, err)) < 0) return ret;
    if (wait_exit(rt, id, cn_now_ms() + 10000) < 0)
        return cn_err_internal(err, "container %s did not exit after SIGKILL", id);
    return 0;
}

int cn_ctr_remove(cn_runtime *rt, const char *id, cn_err *err)
{
    cn_ctr_status st;
    int ret = cn_ctr_get(rt, id, &st, err);
    if (ret < 0) return ret;
    cn_ctr_state state = st.state;
    cn_ctr_status_release(&st);
    if (state == CN_CTR_RUNNING)
        return CN_RT_ERR(EBUSY, cn_err_set(err, 409, "Conflict", "container %s is running", id));
    /* The shim runs `runc delete` right after writing the exit file and
     * then ends; give it that moment rather than racing it. */
    for (int i = 0; i < 500 && shim_alive(rt, id); i++) {
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    const char *del[] = { "delete", "--force", id, NULL };
    runc(rt, NULL, del);
    char *bundle = bundle_path(rt, id);
    if ((ret = cn_bundle_unmount_rootfs(bundle, err)) == 0) {
        ret = cn_rt_rmtree(bundle);
        if (ret < 0) cn_err_internal(err, "removing %s: %s", bundle, strerror(-ret));
    }
    free(bundle);
    return ret;
}

/* ---- exec ---- */

static const char **exec_argv(cn_runtime *rt, const char *id, const char *const *argv,
                              const char *const *opts)
{
    size_t n = 0, no = 0;
    while (argv[n]) n++;
    while (opts[no]) no++;
    const char **v = cn_calloc(n + no + 7, sizeof *v);
    size_t k = 0;
    v[k++] = rt->runc;
    v[k++] = "--root";
    v[k++] = rt->runc_root;
    v[k++] = "exec";
    for (size_t i = 0; i < no; i++) v[k++] = opts[i];
    v[k++] = id;
    for (size_t i = 0; i < n; i++) v[k++] = argv[i];
    v[k] = NULL;
    return v;
}

/* A terminal exec: runc's console socket works only with a detached
 * exec (whose exit status nobody could then wait for), so instead runc
 * runs `exec --tty` in the foreground on a pseudo-terminal we allocate.
 * runc makes its own pty for the process and copies between the two,
 * putting ours in raw mode. Spawned in a new session, the first open of
 * our slave makes it runc's controlling terminal, so a TIOCSWINSZ on the
 * master sends runc SIGWINCH and runc resizes the inner terminal. */
static int exec_tty(cn_runtime *rt, const char *id, const char *const *argv, pid_t *pid,
                    int *pty_master, cn_err *err)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char slave[64];
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof slave) != 0) {
        int e = errno;
        if (m >= 0) close(m);
        return cn_err_internal(err, "exec: allocating a terminal: %s", strerror(e));
    }
    const char *opts[] = { "--tty", NULL };
    const char **v = exec_argv(rt, id, argv, opts);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    spawn_attr_init(&at, true);
    posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
    int r = posix_spawnp(pid, v[0], &fa, &at, (char *const *)v, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(v);
    if (r != 0) {
        close(m);
        return cn_err_internal(err, "exec: cannot run %s: %s", rt->runc, strerror(r));
    }
    *pty_master = m;
    return 0;
}

int cn_ctr_exec(cn_runtime *rt, const char *id, const char *const *argv, bool tty,
                int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid, int *pty_master,
                cn_err *err)
{
    if (!cn_rt_valid_name(id) || !bundle_has(rt, id, "."))
        return CN_RT_ERR(ENOENT, cn_err_set(err, 404, "NotFound", "container %s not found", id ? id : ""));
    if (!argv || !argv[0]) return cn_err_invalid(err, "exec: no command");
    if (tty) return exec_tty(rt, id, argv, pid, pty_master, err);
    const char *opts[] = { NULL };
    const char **v = exec_argv(rt, id, argv, opts);
    int ret = cn_rt_spawn(v, stdin_fd, stdout_fd, stderr_fd, false, pid);
    free(v);
    if (ret < 0) return cn_err_internal(err, "exec: cannot run %s: %s", rt->runc, strerror(-ret));
    return 0;
}

int cn_ctr_exec_sync(cn_runtime *rt, const char *id, const char *const *argv, int64_t timeout_ms,
                     int *exit_code, char **output, cn_err *err)
{
    if (!cn_rt_valid_name(id) || !bundle_has(rt, id, "."))
        return CN_RT_ERR(ENOENT, cn_err_set(err, 404, "NotFound", "container %s not found", id ? id : ""));
    if (!argv || !argv[0]) return cn_err_invalid(err, "exec: no command");
    char rnd[8];
    cn_random(rnd, sizeof rnd);
    char *pidfile = cn_asprintf("%s/%s/exec-%02x%02x%02x%02x.pid", rt->containers, id,
                                (unsigned char)rnd[0], (unsigned char)rnd[1],
                                (unsigned char)rnd[2], (unsigned char)rnd[3]);
    const char *opts[] = { "--pid-file", pidfile, NULL };
    const char **v = exec_argv(rt, id, argv, opts);
    int p[2] = { -1, -1 }, ret = 0;
    pid_t child = -1;
    cn_buf b;
    cn_buf_init(&b);
    if (pipe2(p, O_CLOEXEC) < 0) {
        ret = cn_err_internal(err, "exec: pipe: %s", strerror(errno));
        goto out;
    }
    ret = cn_rt_spawn(v, -1, p[1], p[1], false, &child);
    close(p[1]);
    if (ret < 0) {
        cn_err_internal(err, "exec: cannot run %s: %s", rt->runc, strerror(-ret));
        goto out;
    }
    int64_t deadline = cn_now_ms() + (timeout_ms > 0 ? timeout_ms : 1000000000);
    bool timed_out = false;
    for (;;) {
        int64_t left = deadline - cn_now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pf = { p[0], POLLIN, 0 };
        int n = poll(&pf, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) continue;
        char chunk[4096];
        ssize_t r = read(p[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (b.len < EXEC_OUTPUT_MAX)
            cn_buf_add(&b, chunk, (size_t)r < EXEC_OUTPUT_MAX - b.len ? (size_t)r : EXEC_OUTPUT_MAX - b.len);
    }
    if (timed_out) {
        /* SIGKILL cannot be forwarded by runc: kill the process itself,
         * from the pid file runc writes once it started it. If runc is
         * still setting up (a loaded machine), give it up to 5 s to get
         * there, rather than leave a process starting behind our back. */
        int64_t until = cn_now_ms() + 5000, xp = 0;
        int st = 0;
        bool reaped = false;
        for (;;) {
            char *text = NULL;
            if (cn_read_file(pidfile, &text, NULL, NULL) == 0) {
                text[strcspn(text, "\n")] = '\0';
                if (cn_parse_int64(text, &xp) < 0) xp = 0;
            }
            free(text);
            if (xp > 0) {
                kill((pid_t)xp, SIGKILL);
                break;
            }
            if (waitpid(child, &st, WNOHANG) == child) {
                reaped = true;
                break;
            }
            if (cn_now_ms() >= until) break;
            struct timespec ts = { 0, 10 * 1000000 };
            nanosleep(&ts, NULL);
        }
        if (!reaped) {
            kill(child, SIGKILL);
            wait_pid(child);
        }
        ret = cn_err_set(err, 504, "Timeout", "exec in container %s timed out after %lld ms", id,
                         (long long)timeout_ms);
        ret = -ETIMEDOUT;
        goto out;
    }
    int st = wait_pid(child);
    *exit_code = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st)
               : st >= 0 && WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    if (output) *output = b.len ? cn_buf_detach(&b, NULL) : NULL;
out:
    if (p[0] >= 0) close(p[0]);
    unlink(pidfile);
    cn_buf_release(&b);
    free(pidfile);
    free(v);
    return ret;
}
