/* sandbox: a pod's shared network, IPC and UTS namespaces without a pause
 * process. A short-lived child unshares the three namespaces, sets the
 * hostname, brings loopback up and bind-mounts its /proc/self/ns/{net,ipc,
 * uts} onto files in DIR/sandboxes/<pod>/; the bind mounts keep the
 * namespaces alive after it exits, and every container of the pod joins
 * them by path. DIR/sandboxes/<pod>/shm is a tmpfs the containers share as
 * /dev/shm (they share the IPC namespace too).
 *
 * DIR/sandboxes is made a private mount point (a bind mount of itself) so
 * these mounts never propagate into other mount namespaces — a propagated
 * copy would keep a namespace alive after cn_sandbox_remove unmounted it.
 * The mounts are made in the agent's own mount namespace, which must be the
 * host's (enter a network namespace with `nsenter --net`, not `ip netns
 * exec`, which also makes a new mount namespace). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime-internal.h"

static const char *const ns_files[] = { "net", "ipc", "uts" };

bool cn_rt_valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 200 || !strcmp(s, ".") || !strcmp(s, "..")) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* In the forked child: only system calls from here to _exit. */
static int child_make_ns(const char *hostname, char *const paths[3])
{
    if (unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0) return errno;
    if (hostname && *hostname && sethostname(hostname, strlen(hostname)) < 0) return errno;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return errno;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return errno;
    close(s);
    static const char *const self[] = { "/proc/self/ns/net", "/proc/self/ns/ipc", "/proc/self/ns/uts" };
    for (int i = 0; i < 3; i++)
        if (mount(self[i], paths[i], NULL, MS_BIND, NULL) < 0) return errno;
    return 0;
}

static void unmount_sandbox(const char *sdir)
{
    for (size_t i = 0; i < 3; i++) {
        char *p = cn_asprintf("%s/%s", sdir, ns_files[i]);
        umount2(p, MNT_DETACH);
        free(p);
    }
    char *shm = cn_asprintf("%s/shm", sdir);
    umount2(shm, MNT_DETACH);
    free(shm);
}

int cn_sandbox_create(cn_runtime *rt, const char *pod, const char *hostname,
                      char **netns_path, cn_err *err)
{
    if (!cn_rt_valid_name(pod)) return cn_err_invalid(err, "invalid pod id \"%s\"", pod ? pod : "");
    if (hostname && strlen(hostname) > 64)
        return cn_err_invalid(err, "hostname \"%s\" is longer than 64 characters", hostname);
    int ret = 0;
    char *sdir = cn_asprintf("%s/%s", rt->sandboxes, pod);
    char *ready = cn_asprintf("%s/ready", sdir);
    char *paths[3] = { NULL, NULL, NULL };
    for (size_t i = 0; i < 3; i++) paths[i] = cn_asprintf("%s/%s", sdir, ns_files[i]);
    char *shm = cn_asprintf("%s/shm", sdir);

    /* Made before: idempotent. After a reboot "ready" is still there but
     * the bind mounts are gone (net is a plain file again): make anew. */
    struct statfs sf;
    if (access(ready, F_OK) == 0 && statfs(paths[0], &sf) == 0 && sf.f_type == NSFS_MAGIC) goto done;
    /* A half-made sandbox (crash during create) is torn down and redone. */
    unmount_sandbox(sdir);
    if (mkdir(sdir, 0755) < 0 && errno != EEXIST) {
        ret = -errno;
        cn_err_internal(err, "mkdir %s: %s", sdir, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < 3; i++) {
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0) {
            ret = -errno;
            cn_err_internal(err, "creating %s: %s", paths[i], strerror(errno));
            goto fail;
        }
        close(fd);
    }
    if (mkdir(shm, 01777) < 0 && errno != EEXIST) {
        ret = -errno;
        cn_err_internal(err, "mkdir %s: %s", shm, strerror(errno));
        goto fail;
    }
    if (mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0) {
        ret = -errno;
        cn_err_internal(err, "mounting %s: %s", shm, strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        ret = -errno;
        cn_err_internal(err, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) _exit(child_make_ns(hostname, paths));
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        int e = WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
        ret = -e;
        cn_err_internal(err, "creating namespaces of pod %s: %s", pod, strerror(e));
        goto fail;
    }
    ret = cn_rt_write_file(ready, hostname ? hostname : "", hostname ? strlen(hostname) : 0);
    if (ret < 0) {
        cn_err_internal(err, "writing %s: %s", ready, strerror(-ret));
        goto fail;
    }
done:
    if (netns_path) *netns_path = cn_strdup(paths[0]);
    goto out;
fail:
    unmount_sandbox(sdir);
    cn_rt_rmtree(sdir);
out:
    for (size_t i = 0; i < 3; i++) free(paths[i]);
    free(shm);
    free(ready);
    free(sdir);
    return ret;
}

/* The pod's cgroup directories (<ctrl>/<parent>/<pod>) in every hierarchy;
 * runc removes the containers' own, the pod level is ours. */
static void remove_pod_cgroups(cn_runtime *rt, const char *pod)
{
    DIR *d = opendir("/sys/fs/cgroup");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = cn_asprintf("/sys/fs/cgroup/%s/%s/%s", e->d_name, rt->cgroup_parent, pod);
        rmdir(p);
        free(p);
    }
    closedir(d);
}

int cn_sandbox_remove(cn_runtime *rt, const char *pod, cn_err *err)
{
    if (!cn_rt_valid_name(pod)) return cn_err_invalid(err, "invalid pod id \"%s\"", pod ? pod : "");
    char *sdir = cn_asprintf("%s/%s", rt->sandboxes, pod);
    int ret = 0;
    struct stat st;
    if (stat(sdir, &st) < 0) {
        ret = errno == ENOENT ? 0 : -errno;
        if (ret) cn_err_internal(err, "stat %s: %s", sdir, strerror(errno));
        goto out;
    }
    unmount_sandbox(sdir);
    ret = cn_rt_rmtree(sdir);
    if (ret < 0) cn_err_internal(err, "removing %s: %s", sdir, strerror(-ret));
out:
    remove_pod_cgroups(rt, pod);
    free(sdir);
    return ret;
}

int cn_sandbox_list(cn_runtime *rt, char ***pods, size_t *n, cn_err *err)
{
    DIR *d = opendir(rt->sandboxes);
    if (!d) return cn_err_internal(err, "opendir %s: %s", rt->sandboxes, strerror(errno));
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            v = cn_realloc(v, cap * sizeof *v);
        }
        v[cnt++] = cn_strdup(e->d_name);
    }
    closedir(d);
    *pods = v;
    *n = cnt;
    return 0;
}
