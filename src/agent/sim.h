/* sim: simulated worker nodes (`cairn agent --simulate`), cairn's KWOK.
 *
 * One process registers N Node objects through the API, keeps a
 * coordination.k8s.io Lease per node in kube-node-lease renewed every
 * heartbeat, and plays the kubelet's part for pods bound to its nodes:
 * Running and Ready after a delay, optional scripted termination
 * (annotations sim.cairn.io/duration and sim.cairn.io/exit-code), and the
 * final delete of pods being deleted. Nothing runs: no containers, no
 * images, no network. It exists so the scheduler and controllers can be
 * tested and measured on thousands of nodes from one small process.
 *
 * Cheap at scale by design: no thread per node. Every piece of future work
 * (a lease renewal, a pod becoming Ready, a pod ending) is an entry in a
 * timer heap (timerheap.h; heartbeats have their own, served first), taken
 * by a few worker threads that also make
 * the API calls; pods are followed with one list+watch that keeps no cache
 * (stream.h).
 *
 * The pure parts (flag parsing, the Node/Lease/pod-status documents) are
 * exposed here for unit tests. */
#ifndef CN_SIM_H
#define CN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"

#define CN_SIM_MAX_NODES 60000
#define CN_SIM_KUBELET_VERSION "v1.32.0-cairn-sim"
#define CN_SIM_ANN_DURATION "sim.cairn.io/duration"
#define CN_SIM_ANN_EXIT_CODE "sim.cairn.io/exit-code"

typedef struct cn_sim_kv {
    const char *key, *value;       /* borrowed (argv) */
} cn_sim_kv;

typedef struct cn_sim_taint {
    const char *key, *value;       /* value may be "" */
    const char *effect;            /* NoSchedule, PreferNoSchedule, NoExecute */
    char *buf;                     /* owns the split strings */
} cn_sim_taint;

typedef struct cn_sim_config {
    const char *kubeconfig;
    int nodes;
    const char *prefix;            /* default "sim-" -> sim-0000, sim-0001, ... */
    int first_index;               /* 0: names start at prefix0000 */
    const char *cpu, *memory, *pods, *ephemeral;   /* capacity quantities */
    cn_sim_kv *extended; size_t nextended;         /* nvidia.com/gpu=4 */
    int zones;                     /* 0: no zone label */
    int hosts;                     /* 0: no cairn.io/host label */
    cn_sim_kv *labels; size_t nlabels;
    cn_sim_taint *taints; size_t ntaints;
    int64_t ready_delay_ms;        /* bound pod -> Running+Ready */
    int64_t heartbeat_ms;          /* Lease renew period */
    int64_t lease_duration_s;
    int workers;                   /* API-calling threads; 0 = 4 + nodes/1000, at most 16 */
    int64_t stats_interval_ms;     /* 0 = 30 s; a log line with write rates */
} cn_sim_config;

/* Runs until *stop becomes true (a signal handler sets it). Returns 0, or
 * negative with err set when the nodes could not be registered at all. */
int cn_sim_run(const cn_sim_config *cfg, volatile int *stop, cn_err *err);

/* ---- pure helpers (unit-tested) ---- */

/* "1.5s", "300ms", "2m", "1h", "10" (seconds) -> milliseconds; -EINVAL on
 * junk, negatives or more than 30 days. 0 is allowed ("0s"). */
int cn_sim_parse_duration(const char *s, int64_t *ms);
/* Syntax of a Kubernetes quantity ("32", "250m", "256Gi", "1e3", "1.5Ti"). */
bool cn_sim_quantity_ok(const char *s);
/* "k=v" into kv (pointers into s, which is modified); false when no '='
 * or the key is empty. */
bool cn_sim_parse_kv(char *s, cn_sim_kv *kv);
/* "k=v:Effect" or "k:Effect" into t (t->buf owns the copy). */
int cn_sim_parse_taint(const char *s, cn_sim_taint *t);
void cn_sim_taint_release(cn_sim_taint *t);

/* Node name of index i ("sim-0042"); owned. Index of a name that has our
 * prefix followed by digits within [first, first+n), else -1. */
char *cn_sim_node_name(const cn_sim_config *cfg, int i);
int cn_sim_node_index(const cn_sim_config *cfg, const char *name);
/* Fake addresses: node InternalIP 10.1.(i/254).(i%254+1); pod CIDR of node
 * i is 10.(42+i/256).(i%256).0/24 and a pod's IP takes host part slot
 * (2..254). */
void cn_sim_node_ip(int i, char out[16]);
void cn_sim_pod_cidr(int i, char out[20]);
void cn_sim_pod_ip(int i, int slot, char out[16]);

/* The Node object to create (metadata, spec, status) for index i. */
json_t *cn_sim_node_object(const cn_sim_config *cfg, int i, int64_t now_s);
/* The status part alone (for PATCH nodes/NAME/status). */
json_t *cn_sim_node_status(const cn_sim_config *cfg, int i, int64_t now_s);
/* The Lease object of node `name` (node_uid may be NULL: no ownerReference). */
json_t *cn_sim_lease_object(const char *name, const char *node_uid, int64_t duration_s,
                            int64_t now_ms);
/* MicroTime "2006-01-02T15:04:05.000000Z" from wall-clock milliseconds. */
void cn_sim_microtime(int64_t wall_ms, char out[40]);

/* What the simulated kubelet reports for a pod. */
typedef enum cn_sim_pod_phase {
    CN_SIM_RUNNING,          /* every container running and ready */
    CN_SIM_SUCCEEDED,        /* every container terminated with exit 0 */
    CN_SIM_FAILED,           /* terminated with a non-zero exit code */
} cn_sim_pod_phase;

typedef struct cn_sim_pod_state {
    cn_sim_pod_phase phase;
    int exit_code;           /* for SUCCEEDED/FAILED and lastState after a restart */
    int restarts;
    int64_t start_s;         /* status.startTime (first start) */
    int64_t running_s;       /* state.running.startedAt (this run) */
    int64_t finished_s;      /* terminated.finishedAt, or the last termination */
    const char *host_ip, *pod_ip;
} cn_sim_pod_state;

/* The full pod status document for pod (its spec gives containers). */
json_t *cn_sim_pod_status(const json_t *pod, const cn_sim_pod_state *st);

/* What happens when a pod's scripted duration ends, by restartPolicy
 * (upstream kubelet rules): true when the container is restarted. */
bool cn_sim_restarts(const char *restart_policy, int exit_code);

#endif
