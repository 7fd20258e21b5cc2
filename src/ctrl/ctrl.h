/* ctrl: the controller manager of `cairn server` — kube-controller-manager's
 * part. Each controller lives in its own file (deployment.c, replicaset.c,
 * ...) and is listed once in manager.c's table. All of them act only
 * through the API (a cn_client) and follow it through shared informers;
 * none reads the store.
 *
 * The manager runs the controllers only while this process holds the
 * kube-system/cairn-controller-manager Lease: when it gains the lease it
 * creates the informers and starts every controller; when it loses it, it
 * stops them all (their state is rebuilt from the API on the next start, so
 * a restart or a hand-over resumes where the store says things are). */
#ifndef CN_CTRL_H
#define CN_CTRL_H

#include <stdbool.h>
#include <stdint.h>
#include "api/leader.h"
#include "client/client.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "lib/err.h"

typedef struct cn_ctrl_config {
    cn_client *client;               /* borrowed; thread-safe */
    cn_leader *elector;              /* NULL: always act (tests, single process) */
    int workers;                     /* per controller; 0 = 2 */
    /* Node lifecycle (kube-controller-manager's flags). */
    int64_t node_monitor_grace_ms;   /* 0 = 40000: a node whose Lease is older is NotReady */
    int64_t node_monitor_period_ms;  /* 0 = 5000 */
    /* Node IPAM (nodeipam.h): pod CIDR blocks for Nodes. */
    const char *cluster_cidr;        /* NULL = "10.244.0.0/16"; "" = no allocation */
    int node_cidr_mask_size;         /* 0 = 24 */
} cn_ctrl_config;

/* What a controller gets when it starts. */
typedef struct cn_ctrl_ctx {
    cn_client *client;
    cn_informers *inf;               /* shared; started after every controller's start */
    cn_recorder *rec;                /* events, component "<controller>-controller" is
                                        passed per event by the controller's own recorder
                                        if it wants another name */
    const cn_ctrl_config *cfg;
} cn_ctrl_ctx;

/* One controller. start registers its informers/handlers and starts its
 * workers (informers may not have synced yet: workers should call
 * cn_informers_wait_synced before the first sync). stop joins them. */
typedef struct cn_controller {
    const char *name;                /* "deployment", "replicaset", ... */
    int (*start)(cn_ctrl_ctx *ctx, void **state, cn_err *err);
    void (*stop)(void *state);
} cn_controller;

typedef struct cn_ctrl_manager cn_ctrl_manager;
int cn_ctrl_manager_start(const cn_ctrl_config *cfg, cn_ctrl_manager **out, cn_err *err);
void cn_ctrl_manager_stop(cn_ctrl_manager *m);

/* The usual worker pool: n threads take keys from q and call sync(ud, key);
 * a negative return requeues the key with backoff (rate limited), 0 forgets
 * its backoff. The pool waits for ctx's informers to sync before the first
 * key. cn_ctrl_workers_stop shuts q down and joins the threads. */
typedef int (*cn_ctrl_sync_fn)(void *ud, const char *key);
typedef struct cn_ctrl_workers cn_ctrl_workers;
cn_ctrl_workers *cn_ctrl_workers_start(cn_ctrl_ctx *ctx, const char *name, cn_workqueue *q,
                                       int n, cn_ctrl_sync_fn sync, void *ud);
void cn_ctrl_workers_stop(cn_ctrl_workers *w);

/* Writes st (borrowed) as obj's status through the /status subresource of
 * group/version/plural, unless it equals obj's current status. 0 when
 * written, unchanged, or the object is gone (404); negative otherwise
 * (409 included: the caller retries with fresh state). */
int cn_ctrl_put_status(cn_client *c, const char *group, const char *version, const char *plural,
                       const json_t *obj, const json_t *st);

/* "ns/name" of obj (or "name" when cluster-scoped); owned. */
char *cn_ctrl_key(const json_t *obj);

#endif
