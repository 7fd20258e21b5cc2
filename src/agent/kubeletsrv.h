/* kubeletsrv: the agent's HTTPS endpoint (default port 10250, advertised in
 * Node status.daemonEndpoints.kubeletEndpoint.Port), which the API server
 * calls for `kubectl logs`, `exec`, `attach` and `port-forward`:
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&
 *        sinceSeconds&sinceTime&timestamps&limitBytes
 *   GET|POST /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty
 *   GET|POST /attach/{ns}/{pod}/{container}?...
 *   GET|POST /portForward/{ns}/{pod}?port=..
 * Callers must present a client certificate signed by the cluster CA (the
 * one in the agent's kubeconfig) with CN "kube-apiserver-kubelet-client" or
 * organisation "system:masters"; anything else gets 401/403. The serving
 * certificate is self-signed and kept in DATA/pki/kubelet.{crt,key} (as
 * upstream, the API server does not verify it).
 *
 * The kubelet tells the server what a (ns, pod, container) means through
 * the lookup callback, so this module knows nothing of pod workers. lookup
 * runs on connection threads, several at once, and again about once a
 * second while a `logs -f` waits (is the instance still running?). */
#ifndef CN_KUBELETSRV_H
#define CN_KUBELETSRV_H

#include <stdbool.h>
#include "agent/runtime.h"
#include "lib/err.h"

typedef struct cn_kubeletsrv cn_kubeletsrv;

typedef struct cn_kubeletsrv_target {
    char *ctr_id;          /* runtime id of the running instance, NULL when not running */
    char *log_path;        /* the current (or last) instance's CRI log, NULL if none */
    char *prev_log_path;   /* the instance before it (--previous), NULL if none */
    char *netns_path;      /* the pod's network namespace (port-forward) */
    bool running;          /* the instance is still running: follow waits for more */
} cn_kubeletsrv_target;
void cn_kubeletsrv_target_release(cn_kubeletsrv_target *t);

typedef struct cn_kubeletsrv_config {
    const char *data_dir;          /* DATA: pki/kubelet.{crt,key} */
    const char *address;           /* NULL = "0.0.0.0" */
    int port;                      /* 0 = 10250; -1 = any free port (tests) */
    const char *client_ca_pem;     /* the cluster CA */
    const char *node_name;         /* for the serving cert's SAN / messages */
    const char *node_ip;           /* serving cert SAN */
    cn_runtime *rt;                /* exec/attach through cn_ctr_exec */
    /* How exec starts a command (cn_ctr_exec's contract); NULL: exec is
     * refused with 501. The kubelet sets cn_ctr_exec; tests a local one. */
    int (*exec_fn)(cn_runtime *rt, const char *id, const char *const *argv, bool tty,
                   int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid, int *pty_master,
                   cn_err *err);
    /* container NULL: pod-level (port-forward); "" : the pod's only/default
     * container. -ENOENT with err ('pods "x" not found',
     * 'container "c" in pod "x" is not valid') when unknown. */
    int (*lookup)(void *ud, const char *ns, const char *pod, const char *container,
                  cn_kubeletsrv_target *out, cn_err *err);
    void *ud;
} cn_kubeletsrv_config;

int cn_kubeletsrv_start(const cn_kubeletsrv_config *cfg, cn_kubeletsrv **out, cn_err *err);
int cn_kubeletsrv_port(const cn_kubeletsrv *s);
void cn_kubeletsrv_stop(cn_kubeletsrv *s);

#endif
