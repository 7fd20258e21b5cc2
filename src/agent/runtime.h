/* runtime: pods' sandboxes and containers on runc (Debian's runc).
 *
 * A sandbox is a pod's shared namespaces: network, IPC and UTS, created once
 * and kept alive by bind mounts under DIR/sandboxes/<pod>/{net,ipc,uts}
 * (no pause process); the hostname is set when the UTS namespace is made.
 * Every container joins its pod's three namespaces and gets its own mount
 * and PID namespaces.
 *
 * A container is an OCI bundle DIR/containers/<id>/ (config.json generated
 * from a cn_ctr_spec, rootfs = overlayfs of the image layers + a private
 * upper dir) run by a small supervisor, `cairn shim` (this module, started
 * by fork+exec of /proc/self/exe and detached with setsid), which runs
 * `runc create` + `runc start` and reaps the container's init itself (as a
 * child subreaper; see shim.c for why not `runc run`), writes the
 * container's stdout/stderr to
 * log_path in the CRI format ("<RFC3339Nano> stdout|stderr F|P <text>"),
 * rotating it at log_max_bytes, and at exit records exit code, signal, the
 * OOM kill (from the cgroup's memory.oom_control) and the time in
 * DIR/containers/<id>/exit. Shims outlive the agent: a restarted agent finds
 * every container with cn_ctr_list and adopts it.
 *
 * cgroups (v1 here): every container under <cgroup_parent>/<pod>/<id>; cpu
 * shares/quota and the memory limit come from the spec. */
#ifndef CN_RUNTIME_H
#define CN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/err.h"

typedef struct cn_runtime cn_runtime;

typedef struct cn_runtime_config {
    const char *dir;             /* DATA (sandboxes/ and containers/ below it) */
    const char *runc;            /* path of runc; NULL = "runc" from PATH */
    const char *cgroup_parent;   /* NULL = "cairn" */
    const char *self_exe;        /* the cairn binary for `cairn shim`; NULL = /proc/self/exe */
    /* Called from a runtime thread when a container's process ends (its
     * exit file appears); the kubelet then reads cn_ctr_get. */
    void (*on_exit)(void *ud, const char *id);
    void *ud;
} cn_runtime_config;

int cn_runtime_open(const cn_runtime_config *cfg, cn_runtime **out, cn_err *err);
void cn_runtime_close(cn_runtime *rt);   /* containers keep running */

/* ---- sandboxes ---- */

/* Create (or find) the pod's namespaces; idempotent. *netns_path (malloc'd)
 * is the bind-mounted network namespace, for the pod network. */
int cn_sandbox_create(cn_runtime *rt, const char *pod, const char *hostname,
                      char **netns_path, cn_err *err);
/* Unmount and delete the namespaces; -ENOENT is not an error. */
int cn_sandbox_remove(cn_runtime *rt, const char *pod, cn_err *err);
/* malloc'd array of malloc'd pod ids that have a sandbox. */
int cn_sandbox_list(cn_runtime *rt, char ***pods, size_t *n, cn_err *err);

/* ---- containers ---- */

typedef enum cn_mount_kind { CN_MOUNT_BIND, CN_MOUNT_TMPFS } cn_mount_kind;

typedef struct cn_mount {
    cn_mount_kind kind;
    const char *source;          /* host path (bind); ignored for tmpfs */
    const char *destination;     /* in the container */
    bool readonly;
    int64_t size;                /* tmpfs size bytes; 0 = default */
} cn_mount;

typedef struct cn_ctr_spec {
    const char *id;              /* unique, [A-Za-z0-9_.-]; e.g. "<poduid>_<name>_<attempt>" */
    const char *pod;             /* sandbox to join (must exist) */
    const char *const *layers; size_t nlayers;   /* image layer dirs, bottom first */
    const char *const *args; size_t nargs;       /* argv; args[0] resolved in PATH of env */
    const char *const *env; size_t nenv;         /* "K=V" */
    const char *cwd;             /* NULL/"" = "/" */
    uint32_t uid, gid;
    const uint32_t *groups; size_t ngroups;      /* supplementary */
    bool readonly_rootfs, privileged, no_new_privs;
    const char *const *cap_add; size_t ncap_add; /* "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" */
    const char *const *cap_drop; size_t ncap_drop;
    const cn_mount *mounts; size_t nmounts;      /* /proc, /dev, /sys, /dev/shm (from the sandbox IPC) come built in */
    uint64_t cpu_shares;         /* 0 = default (1024 in runc terms: 2 for BestEffort is the caller's choice) */
    int64_t cpu_quota_us, cpu_period_us;         /* quota 0 = unlimited */
    int64_t memory_limit;        /* bytes; 0 = unlimited */
    const char *log_path;        /* CRI log file, created with parents */
    int64_t log_max_bytes;       /* rotate above this (0 = 10 MiB); keeps log_path.1 */
    const char *meta;            /* opaque text kept with the container (JSON of pod uid/ns/name/container); returned by cn_ctr_get/list */
} cn_ctr_spec;

typedef enum cn_ctr_state { CN_CTR_RUNNING, CN_CTR_EXITED, CN_CTR_UNKNOWN } cn_ctr_state;

typedef struct cn_ctr_status {
    char *id, *pod, *meta;       /* owned */
    cn_ctr_state state;
    pid_t pid;                   /* while running */
    int exit_code;               /* 128+signal when killed by a signal, as the kubelet reports */
    bool oom_killed;
    int64_t started_ms, finished_ms;   /* unix ms; 0 = unknown */
    char *message;               /* owned; why it failed to start/ended ("exec: \"x\": executable file not found in $PATH"), or NULL */
} cn_ctr_status;

void cn_ctr_status_release(cn_ctr_status *st);

/* Build the bundle, mount the rootfs, start the shim and return once the
 * process runs (0) or failed to start (-ENOEXEC/-ENOENT... with err->message
 * a user-readable reason like runc's; the exit file is then written too,
 * exit code 128, so the kubelet shows StartError/ContainerCannotRun). */
int cn_ctr_start(cn_runtime *rt, const cn_ctr_spec *spec, cn_err *err);
/* Current state; -ENOENT when unknown. */
int cn_ctr_get(cn_runtime *rt, const char *id, cn_ctr_status *out, cn_err *err);
/* Every container the runtime knows (running or exited, not yet removed). */
int cn_ctr_list(cn_runtime *rt, cn_ctr_status **out, size_t *n, cn_err *err);
void cn_ctr_list_free(cn_ctr_status *sts, size_t n);
/* Send sig to the container's init (runc kill); ESRCH-like cases are 0. */
int cn_ctr_signal(cn_runtime *rt, const char *id, int sig, cn_err *err);
/* Stop: SIGTERM, wait up to grace_ms for the exit, then SIGKILL and wait. */
int cn_ctr_stop(cn_runtime *rt, const char *id, int64_t grace_ms, cn_err *err);
/* Forget an exited container: runc delete, unmount the rootfs, delete the
 * bundle. The log file stays (the kubelet owns it). Running: -EBUSY. */
int cn_ctr_remove(cn_runtime *rt, const char *id, cn_err *err);

/* `runc exec` a process in a running container. With tty, *pty_master
 * receives the master side of a new pseudo-terminal (stdin/out/err all on
 * it, fds ignored; TIOCSWINSZ on it resizes the container's terminal);
 * otherwise the child gets stdin_fd/stdout_fd/stderr_fd
 * (-1 = /dev/null). *pid receives the runc exec process to waitpid. */
int cn_ctr_exec(cn_runtime *rt, const char *id, const char *const *argv, bool tty,
                int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid, int *pty_master,
                cn_err *err);
/* Run argv to completion, for exec probes: *exit_code, combined output
 * (malloc'd, at most 10 KiB, may be NULL). timeout_ms exceeded: the
 * process is killed and -ETIMEDOUT returned. */
int cn_ctr_exec_sync(cn_runtime *rt, const char *id, const char *const *argv, int64_t timeout_ms,
                     int *exit_code, char **output, cn_err *err);

/* Entry point of `cairn shim` (src/cli/main.c calls it for argv[1] == "shim"). */
int cn_shim_main(int argc, char **argv);

#endif
