/* client: a Kubernetes API client for cairn's own components (scheduler,
 * controllers, agents). Everything that changes state goes through the API
 * (ARCHITECTURE.md), so these components are clients like kubectl.
 *
 * Two transports behind one interface:
 *  - local: inside `cairn server`, a request is handed to the API server's
 *    request handler in the same process (lib/http's in-process requests):
 *    the full request path (authn, admission, validation, store) without a
 *    socket or TLS. The identity is fixed at creation (user + groups, as a
 *    client certificate would carry them).
 *  - kubeconfig: HTTPS through libcurl, with the CA, client certificate or
 *    bearer token of the kubeconfig's current context (`cairn agent`).
 *
 * All functions are thread-safe: one client is shared by many threads.
 * Errors: functions return 0 on a 2xx answer; otherwise a negative errno and
 * err holds the API's Status (code = HTTP status, reason, message), or code
 * 503 "ServiceUnavailable" when the server could not be reached. */
#ifndef CN_CLIENT_H
#define CN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"
#include "lib/http.h"

typedef struct cn_client cn_client;

/* In-process client. handler/ud: the API server's handler
 * (cn_apiserver_handle). groups: NULL-terminated, may be NULL. */
int cn_client_new_local(cn_http_handler handler, void *ud, const char *user,
                        const char *const *groups, cn_client **out, cn_err *err);
/* HTTPS client from a kubeconfig file (its current context). */
int cn_client_new_kubeconfig(const char *path, cn_client **out, cn_err *err);
void cn_client_free(cn_client *c);
/* Set the User-Agent (e.g. "cairn-scheduler"); default "cairn". */
void cn_client_set_agent(cn_client *c, const char *user_agent);
/* The CA (PEM) the kubeconfig trusts for the server, or NULL (borrowed). */
const char *cn_client_ca_pem(const cn_client *c);

/* Resource paths. group "" is the core group (/api/v1). ns, name and sub
 * may be NULL. Returns an owned string, e.g.
 * "/apis/apps/v1/namespaces/default/deployments/web/scale". */
char *cn_client_path(const char *group, const char *version, const char *ns,
                     const char *plural, const char *name, const char *sub);
/* Percent-encodes a query value (owned result). */
char *cn_client_escape(const char *s);

/* One request. path is absolute and may carry a query. body may be NULL.
 * content_type NULL means application/json. *out (may be NULL) receives
 * the decoded answer on success (caller decrefs). */
int cn_client_do(cn_client *c, const char *method, const char *path, const char *content_type,
                 const json_t *body, json_t **out, cn_err *err);

/* Shorthands over cn_client_do. */
int cn_client_get(cn_client *c, const char *path, json_t **out, cn_err *err);
int cn_client_create(cn_client *c, const char *collection_path, const json_t *obj,
                     json_t **out, cn_err *err);                    /* POST */
int cn_client_update(cn_client *c, const char *path, const json_t *obj,
                     json_t **out, cn_err *err);                    /* PUT */
typedef enum cn_patch_kind { CN_PATCH_MERGE, CN_PATCH_STRATEGIC, CN_PATCH_JSON } cn_patch_kind;
int cn_client_patch(cn_client *c, const char *path, cn_patch_kind kind, const json_t *patch,
                    json_t **out, cn_err *err);
/* opts: a DeleteOptions object (propagationPolicy, preconditions,
 * gracePeriodSeconds) or NULL. */
int cn_client_delete(cn_client *c, const char *path, const json_t *opts, json_t **out, cn_err *err);

/* A watch stream. path is a collection path, optionally with selectors in
 * its query; watch=1, resourceVersion=rv and allowWatchBookmarks=true are
 * added. */
typedef struct cn_client_watch cn_client_watch;
int cn_client_watch_start(cn_client *c, const char *path, const char *rv,
                          cn_client_watch **out, cn_err *err);
typedef struct cn_watch_event {
    char type[16];      /* ADDED, MODIFIED, DELETED, BOOKMARK */
    json_t *object;     /* owned by the caller after a 1 return */
} cn_watch_event;
/* 1: an event; 0: none within timeout_ms; negative: the stream is over
 * (err: 410 "Expired" when the server said the resourceVersion is too old,
 * so the caller must list again; otherwise the stream ended or failed and
 * the caller may watch again from its last resourceVersion). */
int cn_client_watch_next(cn_client_watch *w, int timeout_ms, cn_watch_event *ev, cn_err *err);
void cn_client_watch_free(cn_client_watch *w);

/* Helpers on objects (borrowed strings; "" when absent). */
const char *cn_meta_str(const json_t *obj, const char *field);    /* metadata.<field> */
const char *cn_json_str_at(const json_t *obj, const char *dotted);  /* "spec.nodeName" */
/* The uid of the ownerReference with controller=true, or NULL. */
const char *cn_controller_uid(const json_t *obj);

#endif
