/* bundle: a container's OCI bundle on disk — config.json generated from a
 * cn_ctr_spec and the rootfs, an overlayfs of the image layers — plus the
 * small file helpers the runtime shares (atomic writes, rm -rf, mkdir -p).
 *
 * The config follows what containerd gives a Kubernetes container: the
 * default capability set, runc's masked and read-only /proc and /sys paths,
 * the pod's network/IPC/UTS namespaces joined by path, new mount and PID
 * namespaces, and no hostname (the UTS namespace is the sandbox's). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime-internal.h"
#include "lib/pki.h"

/* Capability names by number (linux/capability.h), up to
 * CAP_CHECKPOINT_RESTORE; "privileged" gets those the kernel knows. */
static const char *const cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS (sizeof cap_names / sizeof cap_names[0])

/* containerd's default set for a non-privileged container. */
static const char *const default_caps[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Kubernetes writes "NET_ADMIN"; the OCI config wants "CAP_NET_ADMIN".
 * Returns the table index, NCAPS for "ALL", -1 if unknown. */
static int cap_index(const char *name)
{
    const char *n = name;
    if (!strncasecmp(n, "CAP_", 4)) n += 4;
    if (!strcasecmp(n, "ALL")) return (int)NCAPS;
    for (size_t i = 0; i < NCAPS; i++)
        if (!strcasecmp(cap_names[i] + 4, n)) return (int)i;
    return -1;
}

/* The capabilities "privileged" and "add ALL" mean: every one the agent
 * itself holds in its bounding set (as containerd does; a sandboxed host
 * may lack some, and runc cannot grant those), within our table. */
static uint64_t current_caps(void)
{
    char *st = NULL;
    uint64_t mask = NCAPS >= 64 ? ~0ULL : (1ULL << NCAPS) - 1, bnd = mask;
    if (cn_read_file("/proc/self/status", &st, NULL, NULL) == 0) {
        char *p = strstr(st, "\nCapBnd:\t");
        if (p) bnd = strtoull(p + 9, NULL, 16);
    }
    free(st);
    return bnd & mask;
}

/* Kubernetes' order: "add ALL" gives all; "drop ALL" empties; then the
 * named adds, then the named drops. */
static int build_caps(const cn_ctr_spec *spec, json_t **out, cn_err *err)
{
    bool set[NCAPS] = { false };
    uint64_t cur = current_caps();
    if (spec->privileged) {
        for (size_t i = 0; i < NCAPS; i++) set[i] = (cur >> i) & 1;
    } else {
        for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
            set[cap_index(default_caps[i])] = true;
        for (size_t i = 0; i < spec->ncap_add; i++) {
            int k = cap_index(spec->cap_add[i]);
            if (k < 0) return cn_err_invalid(err, "unknown capability \"%s\"", spec->cap_add[i]);
            if (k == (int)NCAPS)
                for (size_t j = 0; j < NCAPS; j++) set[j] = set[j] || ((cur >> j) & 1);
        }
        for (size_t i = 0; i < spec->ncap_drop; i++) {
            int k = cap_index(spec->cap_drop[i]);
            if (k < 0) return cn_err_invalid(err, "unknown capability \"%s\"", spec->cap_drop[i]);
            if (k == (int)NCAPS) memset(set, 0, sizeof set);
        }
        for (size_t i = 0; i < spec->ncap_add; i++) {
            int k = cap_index(spec->cap_add[i]);
            if (k < (int)NCAPS) set[k] = true;
        }
        for (size_t i = 0; i < spec->ncap_drop; i++) {
            int k = cap_index(spec->cap_drop[i]);
            if (k < (int)NCAPS) set[k] = false;
        }
    }
    json_t *list = json_array();
    for (size_t i = 0; i < NCAPS; i++)
        if (set[i]) json_array_append_new(list, json_string(cap_names[i]));
    json_t *caps = json_object();
    json_object_set(caps, "bounding", list);
    json_object_set(caps, "effective", list);
    json_object_set(caps, "permitted", list);
    json_decref(list);
    *out = caps;
    return 0;
}

static json_t *mount_obj(const char *dest, const char *type, const char *source,
                         const char *opts)
{
    json_t *o = json_object(), *a = json_array();
    char *copy = cn_strdup(opts), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(t));
    free(copy);
    json_object_set_new(o, "destination", json_string(dest));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "source", json_string(source));
    json_object_set_new(o, "options", a);
    return o;
}

static json_t *string_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *build_mounts(const cn_ctr_spec *spec, const char *sandbox_dir)
{
    json_t *m = json_array();
    const char *sys_opts = spec->privileged ? "nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro";
    json_array_append_new(m, mount_obj("/proc", "proc", "proc", "nosuid,noexec,nodev"));
    json_array_append_new(m, mount_obj("/dev", "tmpfs", "tmpfs",
                                       "nosuid,strictatime,mode=755,size=65536k"));
    json_array_append_new(m, mount_obj("/dev/pts", "devpts", "devpts",
                                       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
    char *shm = cn_asprintf("%s/shm", sandbox_dir);
    json_array_append_new(m, mount_obj("/dev/shm", "bind", shm, "rbind,nosuid,nodev,noexec,rw"));
    free(shm);
    json_array_append_new(m, mount_obj("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    json_array_append_new(m, mount_obj("/sys", "sysfs", "sysfs", sys_opts));
    json_array_append_new(m, mount_obj("/sys/fs/cgroup", "cgroup", "cgroup",
                                       spec->privileged ? "nosuid,noexec,nodev,relatime,rw"
                                                        : "nosuid,noexec,nodev,relatime,ro"));
    for (size_t i = 0; i < spec->nmounts; i++) {
        const cn_mount *u = &spec->mounts[i];
        if (u->kind == CN_MOUNT_TMPFS) {
            char *o = u->size > 0 ? cn_asprintf("nosuid,nodev,size=%lld,%s", (long long)u->size,
                                                u->readonly ? "ro" : "rw")
                                  : cn_asprintf("nosuid,nodev,%s", u->readonly ? "ro" : "rw");
            json_array_append_new(m, mount_obj(u->destination, "tmpfs", "tmpfs", o));
            free(o);
        } else {
            json_array_append_new(m, mount_obj(u->destination, "bind", u->source,
                                               u->readonly ? "rbind,rprivate,ro" : "rbind,rprivate,rw"));
        }
    }
    return m;
}

static json_t *ns_obj(const char *type, const char *path)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    if (path) json_object_set_new(o, "path", json_string(path));
    return o;
}

static json_t *build_linux(const cn_ctr_spec *spec, const char *sandbox_dir,
                           const char *cgroups_path, bool memsw)
{
    json_t *lx = json_object();
    json_t *ns = json_array();
    static const char *const joined[] = { "network", "ipc", "uts" };
    static const char *const files[] = { "net", "ipc", "uts" };
    for (size_t i = 0; i < 3; i++) {
        char *p = cn_asprintf("%s/%s", sandbox_dir, files[i]);
        json_array_append_new(ns, ns_obj(joined[i], p));
        free(p);
    }
    json_array_append_new(ns, ns_obj("mount", NULL));
    json_array_append_new(ns, ns_obj("pid", NULL));
    json_object_set_new(lx, "namespaces", ns);
    json_object_set_new(lx, "cgroupsPath", json_string(cgroups_path));

    json_t *res = json_object();
    json_t *dev = json_object();
    json_object_set_new(dev, "allow", json_boolean(spec->privileged));
    json_object_set_new(dev, "access", json_string("rwm"));
    json_t *devs = json_array();
    json_array_append_new(devs, dev);
    json_object_set_new(res, "devices", devs);
    json_t *cpu = json_object();
    if (spec->cpu_shares) json_object_set_new(cpu, "shares", json_integer((json_int_t)spec->cpu_shares));
    if (spec->cpu_quota_us > 0) {
        json_object_set_new(cpu, "quota", json_integer(spec->cpu_quota_us));
        json_object_set_new(cpu, "period", json_integer(spec->cpu_period_us > 0 ? spec->cpu_period_us : 100000));
    }
    json_object_set_new(res, "cpu", cpu);
    if (spec->memory_limit > 0) {
        json_t *mem = json_object();
        json_object_set_new(mem, "limit", json_integer(spec->memory_limit));
        /* swap = limit: no swap on top, so going over the limit OOM-kills
         * instead of swapping (the kubelet's behaviour). */
        if (memsw) json_object_set_new(mem, "swap", json_integer(spec->memory_limit));
        json_object_set_new(res, "memory", mem);
    }
    json_object_set_new(lx, "resources", res);
    if (!spec->privileged) {
        json_object_set_new(lx, "maskedPaths",
                            string_array(masked_paths, sizeof masked_paths / sizeof masked_paths[0]));
        json_object_set_new(lx, "readonlyPaths",
                            string_array(readonly_paths, sizeof readonly_paths / sizeof readonly_paths[0]));
    }
    return lx;
}

/* RLIMIT_NOFILE for containers: 1048576 as containerd gives, unless the
 * agent's own hard limit is lower and it lacks CAP_SYS_RESOURCE to raise
 * it (some sandboxed hosts): then runc could not set it, so use ours. */
static int64_t nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max >= 1048576) return 1048576;
    char *st = NULL;
    bool cap = false;
    if (cn_read_file("/proc/self/status", &st, NULL, NULL) == 0) {
        char *p = strstr(st, "\nCapEff:\t");
        if (p) cap = (strtoull(p + 9, NULL, 16) >> 24) & 1;   /* CAP_SYS_RESOURCE */
    }
    free(st);
    return cap ? 1048576 : (int64_t)rl.rlim_max;
}

json_t *cn_bundle_config(const cn_ctr_spec *spec, const char *sandbox_dir,
                         const char *cgroups_path, bool memsw, cn_err *err)
{
    if (!spec->nargs || !spec->args[0] || !*spec->args[0]) {
        cn_err_invalid(err, "container %s: no command", spec->id);
        return NULL;
    }
    json_t *caps = NULL;
    if (build_caps(spec, &caps, err) < 0) return NULL;

    json_t *proc = json_object();
    json_object_set_new(proc, "terminal", json_false());
    json_t *user = json_object();
    json_object_set_new(user, "uid", json_integer(spec->uid));
    json_object_set_new(user, "gid", json_integer(spec->gid));
    if (spec->ngroups) {
        json_t *g = json_array();
        for (size_t i = 0; i < spec->ngroups; i++) json_array_append_new(g, json_integer(spec->groups[i]));
        json_object_set_new(user, "additionalGids", g);
    }
    json_object_set_new(proc, "user", user);
    json_object_set_new(proc, "args", string_array(spec->args, spec->nargs));
    json_t *env = string_array(spec->env, spec->nenv);
    bool has_path = false;
    for (size_t i = 0; i < spec->nenv; i++)
        if (cn_str_has_prefix(spec->env[i], "PATH=")) has_path = true;
    /* runc resolves args[0] in the container's PATH; images without one
     * get the usual default (as containerd gives them). */
    if (!has_path)
        json_array_append_new(env, json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    json_object_set_new(proc, "env", env);
    json_object_set_new(proc, "cwd", json_string(spec->cwd && *spec->cwd ? spec->cwd : "/"));
    json_object_set_new(proc, "capabilities", caps);
    json_t *rl = json_object();
    json_object_set_new(rl, "type", json_string("RLIMIT_NOFILE"));
    json_object_set_new(rl, "hard", json_integer(nofile_limit()));
    json_object_set_new(rl, "soft", json_integer(nofile_limit()));
    json_t *rls = json_array();
    json_array_append_new(rls, rl);
    json_object_set_new(proc, "rlimits", rls);
    json_object_set_new(proc, "noNewPrivileges", json_boolean(spec->no_new_privs));

    json_t *root = json_object();
    json_object_set_new(root, "path", json_string("rootfs"));
    json_object_set_new(root, "readonly", json_boolean(spec->readonly_rootfs));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "ociVersion", json_string("1.0.2"));
    json_object_set_new(cfg, "process", proc);
    json_object_set_new(cfg, "root", root);
    json_object_set_new(cfg, "mounts", build_mounts(spec, sandbox_dir));
    json_object_set_new(cfg, "linux", build_linux(spec, sandbox_dir, cgroups_path, memsw));
    return cfg;
}

/* ---- rootfs ---- */

/* overlayfs takes its options in one page (4096 bytes), so absolute layer
 * paths allow only a few dozen layers. The bundle gets short links
 * l/0, l/1, ... to the layers and a child process mounts with relative
 * paths from inside the bundle ("lowerdir=l/9:l/8:...:l/0"), which fits
 * about 800 layers; more is refused (images have at most 127 in practice). */
int cn_bundle_mount_rootfs(const char *bundle, const char *const *layers, size_t nlayers,
                           cn_err *err)
{
    int ret = 0;
    char *rootfs = cn_asprintf("%s/rootfs", bundle);
    cn_buf opts;
    cn_buf_init(&opts);
    if (mkdir(rootfs, 0755) < 0 && errno != EEXIST) {
        ret = -errno;
        cn_err_internal(err, "mkdir %s: %s", rootfs, strerror(errno));
        goto out;
    }
    if (nlayers == 0) goto out;
    char *l = cn_asprintf("%s/l", bundle), *up = cn_asprintf("%s/upper", bundle),
         *wk = cn_asprintf("%s/work", bundle);
    int e = (mkdir(l, 0700) < 0 && errno != EEXIST) || (mkdir(up, 0755) < 0 && errno != EEXIST) ||
            (mkdir(wk, 0700) < 0 && errno != EEXIST) ? errno : 0;
    free(up);
    free(wk);
    for (size_t i = 0; !e && i < nlayers; i++) {
        char *link = cn_asprintf("%s/%zu", l, i);
        if (symlink(layers[i], link) < 0 && errno != EEXIST) e = errno;
        free(link);
    }
    free(l);
    if (e) {
        ret = -e;
        cn_err_internal(err, "preparing rootfs of %s: %s", bundle, strerror(e));
        goto out;
    }
    cn_buf_adds(&opts, "lowerdir=");
    for (size_t i = nlayers; i-- > 0;) cn_buf_addf(&opts, "l/%zu%s", i, i ? ":" : "");
    cn_buf_adds(&opts, ",upperdir=upper,workdir=work,index=off");
    if (opts.len >= 4000) {
        ret = cn_err_invalid(err, "image has too many layers (%zu) for overlayfs", nlayers);
        goto out;
    }
    /* chdir is process-wide, so the relative-path mount happens in a child. */
    pid_t pid = fork();
    if (pid < 0) {
        ret = -errno;
        cn_err_internal(err, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        if (chdir(bundle) < 0) _exit(errno);
        if (mount("overlay", "rootfs", "overlay", 0, opts.data) < 0) _exit(errno);
        _exit(0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        int c = WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
        ret = -c;
        cn_err_internal(err, "mounting overlay rootfs of %s: %s", bundle, strerror(c));
    }
out:
    cn_buf_release(&opts);
    free(rootfs);
    return ret;
}

int cn_bundle_unmount_rootfs(const char *bundle, cn_err *err)
{
    char *rootfs = cn_asprintf("%s/rootfs", bundle);
    int ret = 0;
    if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
        ret = -errno;
        cn_err_internal(err, "unmounting %s: %s", rootfs, strerror(errno));
    }
    free(rootfs);
    return ret;
}

/* ---- file helpers ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    return r < 0 && errno != ENOENT ? -errno : 0;
}

int cn_rt_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) return errno == ENOENT ? 0 : -errno;
    /* FTW_MOUNT: a mount left inside (a rootfs that failed to unmount)
     * is never descended into, so its files survive and rmdir fails. */
    int r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    return r < 0 ? -errno : r;
}

int cn_rt_write_file(const char *path, const char *data, size_t len)
{
    char *tmp = cn_asprintf("%s.tmp", path);
    int ret = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ret = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0 && !ret) ret = -errno;
    if (!ret && rename(tmp, path) < 0) ret = -errno;
    if (ret) unlink(tmp);
out:
    free(tmp);
    return ret;
}

