/* informer: a local, always-current copy of one collection (list, then
 * watch; list again when the watch says 410), with handlers called on every
 * change — client-go's shared informer, for the scheduler and controllers.
 *
 * An informer holds each object once (jansson, refcounted, never modified
 * after it is stored: readers take a reference and may keep it). Two indexes
 * are built in: by namespace and by the uid of the controlling
 * ownerReference; more can be added before start.
 *
 * Handlers run on the informer's own thread, in event order, after the cache
 * has been updated; they must be quick (typically: put a key on a work
 * queue). A handler added after start is first told about every object
 * already cached (as adds), like client-go's AddEventHandler.
 *
 * A factory (cn_informers) shares one informer per path among all the
 * controllers of a process, so pods are watched and parsed once. */
#ifndef CN_INFORMER_H
#define CN_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "client/client.h"

typedef struct cn_informer cn_informer;

typedef struct cn_informer_handler {
    void (*on_add)(void *ud, const json_t *obj);
    void (*on_update)(void *ud, const json_t *old, const json_t *obj);
    /* obj is the last state seen (after a relist that lost a delete: the
     * last cached state). */
    void (*on_delete)(void *ud, const json_t *obj);
    void *ud;
} cn_informer_handler;

/* path: a collection path, optionally with a query of selectors
 * (e.g. "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1"). */
cn_informer *cn_informer_new(cn_client *c, const char *path);
void cn_informer_add_handler(cn_informer *inf, const cn_informer_handler *h);
/* An extra index: fn writes up to max keys of obj (borrowed from obj, or
 * static) into keys and returns how many. Before start only. */
typedef size_t (*cn_index_fn)(const json_t *obj, const char **keys, size_t max);
void cn_informer_add_index(cn_informer *inf, const char *name, cn_index_fn fn);
int cn_informer_start(cn_informer *inf, cn_err *err);
/* True once the first list has been applied; waits up to timeout_ms. */
bool cn_informer_wait_synced(cn_informer *inf, int timeout_ms);
void cn_informer_stop(cn_informer *inf);    /* joins the thread; cache kept */
void cn_informer_free(cn_informer *inf);    /* stops first */

/* A new reference to the cached object, or NULL. ns NULL for cluster scope. */
json_t *cn_informer_get(cn_informer *inf, const char *ns, const char *name);
/* Visit cached objects (all, or one namespace, or those whose controller
 * ownerReference has uid owner, or one key of a named index). fn returns
 * false to stop. fn runs under the informer's read lock: it must not call
 * back into this informer or block; take a reference to keep an object. */
typedef bool (*cn_informer_visit)(void *ud, const json_t *obj);
void cn_informer_foreach(cn_informer *inf, cn_informer_visit fn, void *ud);
void cn_informer_foreach_ns(cn_informer *inf, const char *ns, cn_informer_visit fn, void *ud);
void cn_informer_foreach_owned(cn_informer *inf, const char *owner_uid, cn_informer_visit fn, void *ud);
void cn_informer_foreach_index(cn_informer *inf, const char *index, const char *key,
                               cn_informer_visit fn, void *ud);
size_t cn_informer_count(cn_informer *inf);
/* resourceVersion of the last list or event applied ("" before sync). */
char *cn_informer_last_rv(cn_informer *inf);   /* owned */

/* The factory. */
typedef struct cn_informers cn_informers;
cn_informers *cn_informers_new(cn_client *c);
/* The informer for group/version/plural over all namespaces (created on
 * first use; started by cn_informers_start, or at once if already started).
 * Borrowed; lives as long as the factory. */
cn_informer *cn_informers_get(cn_informers *f, const char *group, const char *version,
                              const char *plural);
int cn_informers_start(cn_informers *f, cn_err *err);
/* Waits until every informer has synced (false on timeout). */
bool cn_informers_wait_synced(cn_informers *f, int timeout_ms);
/* Stops every informer (no more handler calls; caches kept). */
void cn_informers_stop(cn_informers *f);
void cn_informers_free(cn_informers *f);   /* stops and frees every informer */

#endif
