/* runtime-internal: what runtime.c, sandbox.c, bundle.c and shim.c share.
 * Not for other modules; they use runtime.h.
 *
 * On disk (DIR = cn_runtime_config.dir):
 *   DIR/sandboxes/            a private bind mount of itself (see sandbox.c)
 *   DIR/sandboxes/<pod>/      net ipc uts (nsfs bind mounts), shm (tmpfs),
 *                             ready (written last)
 *   DIR/containers/<id>/      the OCI bundle: config.json, rootfs/ (overlay),
 *                             upper/ work/ l/ (short layer links), info.json,
 *                             shim.lock (held by the live shim), shim.log,
 *                             runc.log, pid, started, exit
 *   DIR/runc/                 runc's --root (its state per container) */
#ifndef CN_RUNTIME_INTERNAL_H
#define CN_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <jansson.h>
#include "agent/runtime.h"
#include "lib/util.h"

struct cn_rt_watch;

struct cn_runtime {
    char *dir, *runc, *cgroup_parent, *self_exe;
    char *sandboxes, *containers, *runc_root;   /* DIR/sandboxes ... */
    bool memsw;                  /* memory.memsw.* exists: swap limit allowed */
    void (*on_exit)(void *ud, const char *id);
    void *ud;

    /* exit watcher (runtime.c) */
    pthread_t thread;
    bool thread_started;
    int ino_fd, wake_fd, containers_wd;
    pthread_mutex_t mu;          /* guards watches and exit_gen */
    pthread_cond_t cond;         /* broadcast on every exit seen */
    uint64_t exit_gen;
    struct cn_rt_watch *watches; size_t nwatches, capwatches;
};

/* cn_err_set & co. return -EINVAL; where runtime.h promises another errno:
 * `return CN_RT_ERR(ENOENT, cn_err_set(err, 404, ...));` */
#define CN_RT_ERR(errnum, set) ((void)(set), -(errnum))

/* ---- bundle.c ---- */

/* config.json for spec, as a new reference. sandbox_dir holds the net/ipc/
 * uts files and shm; cgroups_path is "/<parent>/<pod>/<id>". */
json_t *cn_bundle_config(const cn_ctr_spec *spec, const char *sandbox_dir,
                         const char *cgroups_path, bool memsw, cn_err *err);
/* Mount bundle/rootfs: overlay of layers (bottom first) with bundle/upper
 * and bundle/work, or a plain empty directory without layers. */
int cn_bundle_mount_rootfs(const char *bundle, const char *const *layers, size_t nlayers,
                           cn_err *err);
/* Unmount bundle/rootfs if mounted; 0 when it was not. */
int cn_bundle_unmount_rootfs(const char *bundle, cn_err *err);
/* rm -rf path without crossing into other file systems; 0 if absent. */
int cn_rt_rmtree(const char *path);
/* Write data to path atomically (path.tmp + rename), without the fsync of
 * lib/pki.h's cn_write_file_atomic: these files sit on the start and exit
 * paths, and after a host crash their containers are gone anyway. */
int cn_rt_write_file(const char *path, const char *data, size_t len);

/* ---- sandbox.c ---- */

/* A pod or container id: [A-Za-z0-9_.-], at most 200, not "." or "..". */
bool cn_rt_valid_name(const char *s);

/* ---- runtime.c ---- */

/* posix_spawn argv with the given stdio (-1 = /dev/null), default signal
 * dispositions, an empty mask and optionally a new session; -errno. */
int cn_rt_spawn(const char *const *argv, int in, int out, int errfd, bool new_session, pid_t *pid);
/* Run argv (argv[0] a path or a name in PATH) to completion with stdin
 * /dev/null; stdout+stderr captured into *out (malloc'd, at most cap bytes
 * kept; out may be NULL). Returns the wait status (>= 0) or -errno. */
int cn_rt_spawn_wait(const char *const *argv, char **out, size_t cap);

#endif
