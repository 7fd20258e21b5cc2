/* podspec: turns a Pod (the API's JSON) into what the runtime runs, the way
 * the kubelet does: volumes materialised on the node, each container's
 * environment, mounts, user, capabilities and cgroup limits, and probes.
 * Nothing here talks to the API or runc directly: ConfigMaps, Secrets,
 * PVs and tokens come through the fetch callbacks, so the module is unit-
 * testable with plain JSON.
 *
 * Pod directory (the kubelet's DATA/pods/<uid>):
 *   volumes/<name>/          emptyDir (a dir, or tmpfs for medium Memory),
 *                            configMap/secret/downwardAPI/projected (files
 *                            written atomically through a "..data" symlink
 *                            swap, as the kubelet does, so updates are seen
 *                            whole; secrets and memory emptyDirs on tmpfs)
 *   etc-hosts                /etc/hosts of every container
 *   etc-hostname, resolv.conf /etc/hostname and /etc/resolv.conf
 *   containers/<name>/termination-log  the container's terminationMessagePath
 * hostPath volumes must lie under one of the agent's allowed prefixes;
 * persistentVolumeClaim resolves PVC -> bound PV with hostPath or local. */
#ifndef CN_PODSPEC_H
#define CN_PODSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "agent/image.h"
#include "agent/runtime.h"
#include "lib/err.h"

typedef struct cn_podspec_env {
    /* Fetch a namespaced object: resource "configmaps", "secrets",
     * "persistentvolumeclaims" (ns set) or "persistentvolumes" (ns NULL).
     * New reference in *out; -ENOENT when missing (err set). */
    int (*fetch)(void *ud, const char *resource, const char *ns, const char *name,
                 json_t **out, cn_err *err);
    /* A service account token for a projected volume (TokenRequest):
     * malloc'd JWT in *token, expiry (unix s) in *exp. */
    int (*token)(void *ud, const char *ns, const char *sa, const char *audience,
                 int64_t expiration_s, const char *pod_name, const char *pod_uid,
                 char **token, int64_t *exp, cn_err *err);
    void *ud;
    const json_t *node;            /* this Node (allocatable for resourceFieldRef defaults) */
    /* The service environment ("K=V": KUBERNETES_SERVICE_HOST, FOO_SERVICE_PORT...,
     * none when enableServiceLinks is false except the kubernetes ones): a
     * source for $(VAR) after the container's own names, appended after
     * them unless the container defines the name. */
    const char *const *service_env; size_t nservice_env;
    /* Cluster DNS for dnsPolicy ClusterFirst (NULL: the node's resolv.conf,
     * as the kubelet without --cluster-dns) and the cluster domain (NULL:
     * "cluster.local"). */
    const char *cluster_dns, *cluster_domain;
    const char *const *host_path_allow; size_t nhost_path_allow;   /* prefixes (--allow-host-path); empty = no hostPath allowed */
} cn_podspec_env;

/* The two callbacks over an API client (ud = the cn_client *): GET of
 * /api/v1/... and POST serviceaccounts/NAME/token bound to the pod. */
int cn_podspec_client_fetch(void *ud, const char *resource, const char *ns, const char *name,
                            json_t **out, cn_err *err);
int cn_podspec_client_token(void *ud, const char *ns, const char *sa, const char *audience,
                            int64_t expiration_s, const char *pod_name, const char *pod_uid,
                            char **token, int64_t *exp, cn_err *err);

/* Materialise every volume of pod under pod_dir/volumes (idempotent; call
 * again to refresh configMap/secret/downwardAPI/projected content).
 * Errors name the volume like the kubelet's FailedMount events:
 *   'MountVolume.SetUp failed for volume "cfg" : configmap "x" not found'. */
int cn_volumes_setup(const cn_podspec_env *env, const json_t *pod, const char *pod_dir, cn_err *err);
/* Unmount tmpfs volumes and delete pod_dir/volumes. */
int cn_volumes_teardown(const char *pod_dir, cn_err *err);

/* Everything cn_ctr_spec needs for one container, owned by this struct. */
typedef struct cn_podspec_ctr {
    cn_ctr_spec spec;              /* pointers into the owned arrays below (layers: into img, which must outlive it); id/pod/log_path/meta left for the caller */
    char **args; size_t nargs;
    char **env; size_t nenv;
    char *cwd;
    uint32_t *groups;
    char **cap_add, **cap_drop;
    cn_mount *mounts; size_t nmounts;
    char **strs; size_t nstrs;     /* other owned strings */
} cn_podspec_ctr;

/* Resolve container ctr of pod against image img: command/args over the
 * image's entrypoint/cmd ($(VAR) expansion), env (image env, then env/envFrom
 * with valueFrom configMapKeyRef/secretKeyRef/fieldRef/resourceFieldRef,
 * then env->service_env), workingDir, securityContext (pod and
 * container: runAsUser/Group, supplementalGroups, readOnlyRootFilesystem,
 * capabilities, privileged, allowPrivilegeEscalation), resources -> cpu
 * shares/quota + memory limit, volumeMounts (subPath, readOnly) plus
 * /etc/hosts, /etc/hostname, /etc/resolv.conf and
 * terminationMessagePath. Errors are what the kubelet shows as
 * CreateContainerConfigError: 'configmap "x" not found',
 * "couldn't find key k in ConfigMap ns/x". */
int cn_podspec_container(const cn_podspec_env *env, const json_t *pod, const json_t *ctr,
                         const cn_image *img, const char *pod_dir, const char *pod_ip,
                         cn_podspec_ctr *out, cn_err *err);
void cn_podspec_ctr_release(cn_podspec_ctr *c);
/* The kubelet's /etc/hosts for pod (localhost lines, pod IP with hostname
 * and subdomain FQDN, hostAliases); malloc'd. cn_podspec_container writes
 * it to pod_dir/etc-hosts. */
char *cn_podspec_hosts_file(const json_t *pod, const char *pod_ip);
/* The pod's /etc/resolv.conf from dnsPolicy (ClusterFirst with
 * env->cluster_dns, Default, None, ClusterFirstWithHostNet) and dnsConfig
 * over node_resolv (the node's resolv.conf text); malloc'd.
 * cn_podspec_container writes it to pod_dir/resolv.conf. */
char *cn_podspec_resolv_conf(const cn_podspec_env *env, const json_t *pod, const char *node_resolv);

/* ---- probes ---- */

typedef enum cn_probe_result { CN_PROBE_SUCCESS, CN_PROBE_FAILURE, CN_PROBE_ERROR } cn_probe_result;

typedef struct cn_probe_target {
    cn_runtime *rt;
    const char *ctr_id;            /* for exec probes */
    const char *netns_path;        /* httpGet/tcpSocket connect from inside the pod's network namespace */
    const char *pod_ip;
    const json_t *ctr;             /* the container, for named ports */
    const char *kind;              /* "Liveness", "Readiness", "Startup": the message prefix; NULL = none */
} cn_probe_target;

/* Validate a probe (one handler, ports 1..65535 or a named port of the
 * container, periods >= 1...). 0 or -EINVAL with a message. As upstream's
 * API defaulting, a 0 period/timeout/threshold means the default
 * (10 s, 1 s, 1, 3); negative values are refused. */
int cn_probe_check(const json_t *probe, const json_t *ctr, cn_err *err);
/* Run one probe attempt (exec, httpGet 200..399, tcpSocket connect) within
 * timeoutSeconds. *message (malloc'd or NULL) is the failure text as kubelet
 * events show it: 'Liveness probe failed: HTTP probe failed with statuscode: 500'
 * (t->kind names the probe), or 'Liveness probe errored: ...' with
 * CN_PROBE_ERROR when the probe could not be run at all. */
cn_probe_result cn_probe_run(const cn_probe_target *t, const json_t *probe, char **message);

#endif
