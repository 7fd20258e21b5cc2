/* kubelet: `cairn agent` for a real worker node — cairn's kubelet,
 * container runtime glue and CNI in one process.
 *
 * It registers its Node (capacity from the machine or its cgroup minus the
 * reserves, labels, addresses, conditions, the kubelet endpoint), renews
 * its Lease in kube-node-lease, waits for the node IPAM controller to give
 * it spec.podCIDR, routes the other nodes' blocks, and runs the pods bound
 * to it (a watch with fieldSelector spec.nodeName): sandbox and pod IP,
 * volumes, image pulls, init containers in order, containers with
 * restartPolicy and exponential back-off, probes, graceful termination,
 * and the pod status kubectl shows. It serves logs, exec and port-forward
 * on its HTTPS endpoint (kubeletsrv.h). Containers outlive the agent; a
 * restarted agent adopts them and cleans up pods deleted meanwhile.
 *
 * Modules: runtime.h (runc), image.h (registry + store), podnet.h
 * (bridge, veth, IPAM, routes), podspec.h (env, volumes, probes). */
#ifndef CN_KUBELET_H
#define CN_KUBELET_H

#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"

#define CN_KUBELET_VERSION "v1.32.0-cairn"

typedef struct cn_kubelet_kv { const char *key, *value; } cn_kubelet_kv;
/* A taint the Node is registered with (upstream --register-with-taints). */
typedef struct cn_kubelet_taint { const char *key, *value, *effect; } cn_kubelet_taint;

typedef struct cn_kubelet_config {
    const char *kubeconfig;          /* required */
    const char *node_name;           /* default: the host name */
    const char *data_dir;            /* default /var/lib/cairn/agent */
    const char *node_ip;             /* InternalIP; default: the address of the default route's interface */
    int port;                        /* kubelet endpoint; default 10250 */
    const char *runc;                /* NULL = "runc" in PATH */
    const char *const *insecure; size_t ninsecure;          /* registries over plain HTTP */
    const char *registry_ca;         /* PEM file of a private CA for HTTPS registries, or NULL */
    const char *const *host_path_allow; size_t nhost_path_allow;
    const cn_kubelet_kv *labels; size_t nlabels;            /* extra node labels */
    const cn_kubelet_taint *taints; size_t ntaints;         /* set when the Node is created */
    const char *reserved_cpu;        /* default "100m" */
    const char *reserved_memory;     /* default "256Mi" */
    int max_pods;                    /* default 110 */
    int64_t heartbeat_ms;            /* Lease renew period; default 10 s */
    int64_t lease_duration_s;        /* default 40 */
    int64_t backoff_initial_ms;      /* crash/pull back-off start; default 10 s */
    int64_t backoff_max_ms;          /* default 300 s */
    int image_gc_high;               /* disk use % that starts image GC; default 85 */
    int image_gc_low;                /* ... down to this; default 80 */
    int workers;                     /* pod sync threads; default 8 */
} cn_kubelet_config;

/* Runs until *stop becomes true. Containers keep running when it returns. */
int cn_kubelet_run(const cn_kubelet_config *cfg, volatile int *stop, cn_err *err);

#endif
