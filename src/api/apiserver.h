/* apiserver: the Kubernetes API server of `cairn server`: wires the store,
 * watch cache, resource registry, authentication and the HTTPS listener,
 * and runs the built-in background loops (namespace finalization). */
#ifndef CN_APISERVER_H
#define CN_APISERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "api/admission.h"
#include "api/leader.h"
#include "lib/err.h"
#include "lib/http.h"

typedef struct cn_apiserver cn_apiserver;

typedef struct cn_apiserver_config {
    const char *data_dir;              /* holds pki/, state.db, kubeconfig */
    const char *listen;                /* "HOST:PORT" */
    const char *const *tls_sans;       /* extra SANs for the serving cert */
    size_t ntls_sans;
    const char *token_auth_file;       /* static bearer tokens, or NULL */
    const char *advertise_host;        /* host written into the kubeconfig; NULL: from listen */
    bool no_fsync;                     /* tests/bench only */
    int64_t history_revisions;         /* watch history kept (0 = store default 10000) */
    int compact_interval_s;            /* compaction period (0 = store default 300 s) */
    const char *service_cidr;          /* cluster IPs for Services; NULL = 10.43.0.0/16 */
    unsigned max_connections;          /* 0 = default */
    unsigned idle_timeout_s;           /* 0 = default */
    const char *join_url;              /* fetch the CA and SA key from this server first */
    const char *token;                 /* join token (full or bare secret); NULL: DATA/token */
    /* etcd instead of the embedded SQLite store when set (k3s' flag). */
    const char *datastore_endpoint;    /* "http(s)://host:port[,...]" */
    const char *etcd_prefix;           /* NULL: "/registry" */
    const char *datastore_cafile, *datastore_certfile, *datastore_keyfile;
    /* Leader election of the singleton loops, in ms (0 = defaults of
     * kube-controller-manager: 15 s / 10 s / 2 s). */
    int64_t leader_lease_ms, leader_renew_deadline_ms, leader_retry_ms;
    /* DefaultTolerationSeconds admission, in seconds: 0 = 300 (upstream's
     * default); -1 asks for 0 s (evict at once). */
    int64_t default_not_ready_toleration_s, default_unreachable_toleration_s;
    /* Writes (create, update, patch, delete; not status) of this API group
     * run one at a time, from admission through the store write, so an
     * admission plugin that checks a shared budget (the bridge's free
     * capacity and IPs, fleet.cairn.io) sees every earlier write. NULL: none. */
    const char *serialize_group;
    /* Called once the server can handle requests in process
     * (cn_apiserver_handle) and before it listens: the place for an
     * embedding command to add admission plugins (and make the
     * in-process client they use) before any client can write. < 0 with
     * err fails the start. NULL: none. */
    int (*before_serve)(cn_apiserver *s, void *ud, cn_err *err);
    void *before_serve_ud;
} cn_apiserver_config;

int cn_apiserver_start(const cn_apiserver_config *cfg, cn_apiserver **out, cn_err *err);
void cn_apiserver_stop(cn_apiserver *s);
int cn_apiserver_port(const cn_apiserver *s);
/* The elector of one singleton role: a loop acts only while
 * cn_leader_is_leader() says so (issue 5's scheduler gates on
 * CN_ROLE_SCHEDULER). Owned by s; valid until cn_apiserver_stop. */
typedef enum cn_role { CN_ROLE_CONTROLLER_MANAGER, CN_ROLE_SCHEDULER } cn_role;
cn_leader *cn_apiserver_elector(cn_apiserver *s, cn_role role);
/* The request handler (a cn_http_handler, ud = the server): what the
 * HTTPS listener calls, and what in-process clients (cn_client_new_local:
 * scheduler, controllers) call directly with lib/http's local requests. */
void cn_apiserver_handle(cn_http_req *req, void *ud);
/* Add an admission plugin (admission.h) after the built-in ones, for an
 * embedding command (`cairn bridge`). Call it from before_serve (the
 * chain is not locked against requests being served); name is copied. */
void cn_apiserver_add_admission(cn_apiserver *s, bool mutating, const char *name,
                                cn_admit_fn fn, void *ud);
/* Path of the admin kubeconfig written at start (owned by s). */
const char *cn_apiserver_kubeconfig(const cn_apiserver *s);

/* The Kubernetes version served in /version (decides which kubectl the
 * machine's dispatcher runs, see docs). */
#define CN_K8S_MAJOR "1"
#define CN_K8S_MINOR "32"
#define CN_K8S_GIT_VERSION "v1.32.0+cairn"

#endif
