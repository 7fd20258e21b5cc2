/* kubelet-internal: the state the kubelet's files share (kubelet.c: node,
 * lease, routes, watches, adoption; podworker.c: one pod's sync;
 * podstatus.c: the status document, pure and unit-tested). */
#ifndef CN_KUBELET_INTERNAL_H
#define CN_KUBELET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>
#include "agent/image.h"
#include "agent/kubelet.h"
#include "agent/podnet.h"
#include "agent/runtime.h"
#include "agent/timerheap.h"
#include "client/client.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "lib/strmap.h"

enum { KL_STARTUP, KL_LIVENESS, KL_READINESS, KL_NPROBES };

/* One container of a pod, across its restarts. Instance n of container c
 * of pod u has runtime id "<u>_<c>_<n>" and log logs/<c>/<n>.log. */
struct kl_pod;

typedef struct kl_ctr {
    struct kl_pod *owner;
    char *name;
    bool init;
    int restarts;                /* instances started before the current one */
    bool created;                /* the current instance was started (id valid) */
    char *id;                    /* runtime id of the current instance */
    bool have_st;
    cn_ctr_status st;            /* last read of the current instance */
    bool have_last;
    cn_ctr_status last;          /* the previous instance's end (lastState) */
    char *reason, *message;      /* waiting reason when not running */
    int64_t backoff_ms;          /* next crash back-off */
    int64_t retry_at_ms;         /* monotonic: no restart before */
    int64_t pull_backoff_ms, pull_retry_at_ms;
    char *image_id, *image_digest;
    bool ready, started;         /* readiness, startup probe passed */
    int probe_ok[KL_NPROBES], probe_fail[KL_NPROBES];
    bool probe_armed;            /* probes scheduled for this instance */
    uint64_t gen;                /* bumps per instance: stale probe timers recognised */
    bool kill_pending;           /* liveness/startup failed: restart it */
    char *kill_reason;
    bool stopping;               /* SIGTERM sent */
    int64_t stop_deadline_ms;
} kl_ctr;

typedef struct kl_pod {
    char *uid, *ns, *name, *key;           /* key "ns/name" */
    json_t *pod;                           /* latest object seen (a reference) */
    kl_ctr *ctrs; size_t nctrs, ninit;     /* init containers first */
    char *netns;
    char ip[64];
    bool sandbox_ok, net_ok, vols_ok;
    int64_t vols_at_ms;                    /* last volume refresh */
    int64_t start_s;                       /* status.startTime */
    json_t *last_status;                   /* last written */
    bool terminating;                      /* being deleted */
    bool finished;                         /* phase Succeeded/Failed reached */
    bool gone;                             /* deleted from the API */
    char *pod_dir;
} kl_pod;

typedef struct cn_kubelet {
    cn_kubelet_config cfg;
    char *node_name, *node_ip, *data_dir;
    cn_client *client;
    cn_recorder *rec;
    cn_runtime *rt;
    cn_image_store *images;
    cn_podnet *net;
    char *pod_cidr;
    cn_informer *pods, *nodes;
    cn_workqueue *q;
    pthread_mutex_t mu;                    /* everything below */
    cn_strmap *by_uid;                     /* uid -> kl_pod* */
    cn_strmap *by_key;                     /* "ns/name" -> uid (strdup'd) */
    cn_timerheap probes;
    pthread_cond_t probe_cv;
    volatile int *stop;
    char *node_uid;
    char *ca_pem;
} cn_kubelet;

/* podworker.c */
void cn_kl_sync(cn_kubelet *k, const char *key);
kl_pod *cn_kl_pod_new(cn_kubelet *k, const json_t *obj);
/* An event about pod p (asynchronous, aggregated by the recorder). */
void cn_kl_event(cn_kubelet *k, const kl_pod *p, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cn_kl_pod_free(kl_pod *p);
/* Rebuild a pod's container state from what the runtime has (adoption). */
void cn_kl_adopt(cn_kubelet *k, kl_pod *p, const cn_ctr_status *all, size_t n);
char *cn_kl_ctr_id(const char *uid, const char *name, int instance);
char *cn_kl_log_path(const cn_kubelet *k, const char *uid, const char *name, int instance);
/* Lookup for kubeletsrv (logs/exec/port-forward). */
struct cn_kubeletsrv_target;
int cn_kl_lookup(void *ud, const char *ns, const char *pod, const char *container,
              struct cn_kubeletsrv_target *out, cn_err *err);

/* podstatus.c: the status document for p (pure: reads p only). */
json_t *cn_kl_pod_status(const kl_pod *p, const char *host_ip, int64_t now_s);
/* Upstream's phase rules over the containers' states. */
const char *cn_kl_pod_phase(const kl_pod *p);
const char *cn_kl_restart_policy(const json_t *pod);
/* The spec of container c in pod (borrowed), or NULL. */
const json_t *cn_kl_ctr_spec(const json_t *pod, const kl_ctr *c);
/* Whether a container that ended with exit_code is started again. */
bool cn_kl_should_restart(const char *policy, int exit_code);

#endif
