/* rest-internal: shared by the files of the REST layer (apiserver.c,
 * rest.c, rest_read.c, rest_sub.c, objects.c, controllers.c). Not a public
 * interface: nothing outside src/api includes it. */
#ifndef CN_REST_INTERNAL_H
#define CN_REST_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>

#include "api/admission.h"
#include "api/apiserver.h"
#include "api/auth.h"
#include "api/leader.h"
#include "api/query.h"
#include "api/resource.h"
#include "api/watchcache.h"
#include "lib/err.h"
#include "lib/http.h"
#include "lib/pki.h"
#include "store/store.h"

typedef struct cn_alloc cn_alloc;
typedef struct cn_nscache cn_nscache;
typedef struct cn_quota_cache cn_quota_cache;

struct cn_apiserver {
    char *data_dir;
    char *kubeconfig_path;
    cn_store *store;
    cn_watchcache *wc;
    cn_nscache *nscache;            /* active namespaces, fed by wc's tap */
    cn_registry *reg;
    cn_http_server *http;
    cn_tokens *tokens;
    cn_pki pki;
    char *kubelet_client_cert;      /* CN=kube-apiserver-kubelet-client, O=system:masters */
    char *kubelet_client_key;       /* (podproxy.c: calls to node agents) */
    char *join_token;               /* DATA/token: bearer of /cairn/v1/server-bootstrap */
    cn_admission *admission;
    char *serialize_group;          /* writes of this group hold serial_lock (apiserver.h) */
    pthread_mutex_t serial_lock;
    cn_quota_cache *quota;          /* namespaces with quotas / limit ranges (quota.c) */
    cn_alloc *alloc;                /* Service cluster IPs and node ports */
    cn_authorizer_fn authorize;
    void *authorize_ud;

    pthread_t ctl_thread;           /* namespace finalizer loop */
    bool ctl_started;
    pthread_mutex_t ctl_lock;
    pthread_cond_t ctl_cond;
    bool stopping;
    bool ctl_kick;

    /* HA (controllers.c): this process's electors, and the watches that
     * follow namespace and CRD changes made through any server. */
    char *identity;                 /* holderIdentity "<hostname>_<uuid>" */
    cn_leader *elect_cm;            /* kube-system/cairn-controller-manager */
    cn_leader *elect_sched;         /* kube-system/cairn-scheduler */
    int64_t sync_rev;               /* revision the bootstrap's CRD list started from */
    struct cn_ctl_watch *ctl_watches;
};

/* One API request being served. */
typedef struct cn_reqctx {
    cn_apiserver *srv;
    cn_http_req *http;
    const char *method;
    cn_user user;
    /* The parsed resource path; all NULL/empty for non-resource requests. */
    const char *group, *version, *ns, *name, *sub;
    const char *plural;
    const cn_resource *res;
    cn_query q;
    int table;              /* 0: plain JSON; 1: Table meta.k8s.io/v1; 2: v1beta1 */
    json_t *warnings;       /* array of strings for Warning headers */
} cn_reqctx;

/* Responses (rest.c). json is stolen; err is rendered as a Status and cleared. */
void cn_rest_reply(cn_reqctx *c, int code, json_t *json);
void cn_rest_reply_err(cn_reqctx *c, cn_err *err);

/* Verbs (rest.c / rest_read.c / rest_sub.c). */
void cn_rest_get(cn_reqctx *c);
void cn_rest_list(cn_reqctx *c);
void cn_rest_watch(cn_reqctx *c);
void cn_rest_create(cn_reqctx *c);
void cn_rest_update(cn_reqctx *c);
void cn_rest_patch(cn_reqctx *c);
void cn_rest_delete(cn_reqctx *c);
void cn_rest_delete_collection(cn_reqctx *c);
void cn_rest_subresource(cn_reqctx *c);   /* scale, binding, eviction, log, token */
void cn_rest_eviction(cn_reqctx *c);      /* pods/eviction, honouring PDBs (eviction.c) */
void cn_rest_review(cn_reqctx *c);        /* SSAR, SSRR, SSR, TokenReview */
/* pods/log, exec, attach, portforward: forwarded to the node's agent (podproxy.c). */
void cn_rest_pod_proxy(cn_reqctx *c, const char *sub);

/* A filtered list (selectors, limit/continue) as an XxxList (rest_read.c). */
int cn_rest_list_objects(cn_reqctx *c, json_t **out, cn_err *err);

/* Objects (objects.c). */
/* Storage key of an object. Caller frees. */
char *cn_obj_key(const cn_resource *res, const char *ns, const char *name);
/* Parse a stored value and stamp metadata.resourceVersion = rev. */
json_t *cn_obj_from_store(const char *value, size_t len, int64_t rev, cn_err *err);
/* Serialize for storage (drops metadata.resourceVersion). Caller frees. */
char *cn_obj_to_store(const json_t *obj, size_t *len);
const char *cn_obj_name(const json_t *obj);
const char *cn_obj_namespace(const json_t *obj);
json_t *cn_obj_meta(json_t *obj);         /* metadata object, created if missing */
bool cn_obj_deleting(const json_t *obj);  /* has deletionTimestamp */
/* Decode a request body by Content-Type (JSON, YAML, protobuf) into *out.
 * strict: reject duplicate fields. */
int cn_obj_decode_body(cn_reqctx *c, json_t **out, cn_err *err);
/* Drop what the typed upstream server would not keep: nulls, and empty
 * maps and lists (omitempty), per the kind's schema. */
void cn_obj_normalize(const cn_resource *res, json_t *obj);
/* Everything but metadata and status, compared (for generation bumps). */
bool cn_obj_spec_equal(const json_t *a, const json_t *b);
/* A name for generateName: prefix + 5 random characters. Caller frees. */
char *cn_obj_generate_name(const char *prefix);

/* Store-level helpers shared by verbs and controllers (objects.c). */
int cn_obj_get(cn_apiserver *s, const cn_resource *res, const char *ns, const char *name,
               json_t **out, int64_t *rev, cn_err *err);
/* Every stored key under prefix, in key order, a page at a time; fn
 * returning < 0 stops the walk and is returned. */
int cn_obj_foreach(cn_apiserver *s, const char *prefix, int (*fn)(void *ud, const cn_kv *kv),
                   void *ud, cn_err *err);
/* Kubernetes errors for store results. */
void cn_err_not_found(cn_err *err, const cn_resource *res, const char *name);
void cn_err_already_exists(cn_err *err, const cn_resource *res, const char *name);
void cn_err_conflict(cn_err *err, const cn_resource *res, const char *name);

/* The write path common to update, patch, status and scale (rest.c): take
 * `obj` (stolen) as the wanted new state of the stored object `old` at
 * old_rev and write it with all update semantics (immutable metadata,
 * generation, no-op detection, finalizer-completed deletion). status_only:
 * only .status changes (the /status subresource). On success *out is the
 * object as stored (new reference) and *code the HTTP code. */
int cn_rest_write_update(cn_reqctx *c, const cn_resource *res, json_t *obj, json_t *old,
                         int64_t old_rev, bool status_only, json_t **out, cn_err *err);
/* Create path shared by POST and server-side apply. obj stolen. */
int cn_rest_write_create(cn_reqctx *c, const cn_resource *res, json_t *obj,
                         json_t **out, cn_err *err);
/* Delete one object with options (grace, preconditions, dry run). *out is
 * the object as returned to the client; *gone tells whether it is removed. */
int cn_rest_delete_object(cn_apiserver *s, const cn_resource *res, const char *ns,
                          const char *name, const json_t *opts, bool dry_run,
                          json_t **out, bool *gone, cn_err *err);

/* Service address allocation (alloc.c): cluster IPs and node ports, each
 * held through a claim key in the store so that servers sharing a store
 * never hand out the same one. */
typedef struct cn_alloc_txn cn_alloc_txn;
int cn_alloc_new(const char *cidr, cn_alloc **out, cn_err *err);
void cn_alloc_free(cn_alloc *al);
/* Give a Service being written (old: stored version on update, else NULL)
 * its cluster IP and node ports, claiming each new one; check the ones the
 * client chose (taken: 422 "provided IP/port is already allocated"). Also
 * clears values a type change leaves unneeded. dry_run: checks only, no
 * claims. On success *txn (may be NULL) must go to cn_alloc_finish. */
int cn_alloc_service(cn_apiserver *s, json_t *svc, const json_t *old, bool dry_run,
                     cn_alloc_txn **txn, cn_err *err);
/* After the write: stored → release what only the old version held;
 * otherwise release what cn_alloc_service claimed. Frees txn (NULL ok). */
void cn_alloc_finish(cn_apiserver *s, cn_alloc_txn *txn, bool stored);
/* A Service is gone from the store: release its claims. */
void cn_alloc_release_service(cn_apiserver *s, const json_t *svc);
/* Delete orphan claims (older than a minute, held by no Service) and claim
 * what Services hold without a claim. Run periodically by the controllers. */
int cn_alloc_repair(cn_apiserver *s, cn_err *err);

/* The ResourceQuota and LimitRanger admission plugins (quota.c):
 * register allocates s->quota, the cache of which namespaces hold quotas
 * or limit ranges; on_event feeds it from the watch cache's tap. */
void cn_quota_admission_register(cn_apiserver *s);
void cn_quota_on_event(cn_apiserver *s, const cn_event *e);
void cn_quota_cache_free(cn_quota_cache *q);

/* Controllers (controllers.c): elect, then run the loops; stop releases
 * the leases after the loops have stopped. */
int cn_ctl_start(cn_apiserver *s, const cn_apiserver_config *cfg, cn_err *err);
void cn_ctl_stop(cn_apiserver *s);
void cn_ctl_kick(cn_apiserver *s);
/* CRD lifecycle hooks called from the write path. */
void cn_ctl_crd_written(cn_apiserver *s, json_t *crd);   /* fills status */
void cn_ctl_crd_deleting(cn_apiserver *s, const json_t *crd); /* removes its objects */
int cn_ctl_bootstrap(cn_apiserver *s, cn_err *err);

/* The Priority admission plugin and the system PriorityClasses (priority.c). */
void cn_priority_register(cn_apiserver *s);
int cn_priority_bootstrap(cn_apiserver *s, cn_err *err);

#endif
