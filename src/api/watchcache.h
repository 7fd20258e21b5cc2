/* watchcache: the in-memory fan-out of store changes to watchers.
 *
 * It is the store's event sink: every committed change is appended to a
 * bounded ring (by count and by bytes) of refcounted events. A watcher
 * starts after a revision; if that revision is still in the ring it reads
 * from there, otherwise from the store's history (cn_store_history), or
 * fails with -ERANGE (the API's 410 Gone) when the history was compacted.
 * A watcher that falls too far behind is dropped with -ERANGE too, so a
 * slow client cannot hold memory. Watchers cost the store nothing. */
#ifndef CN_WATCHCACHE_H
#define CN_WATCHCACHE_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"

typedef struct cn_watchcache cn_watchcache;
typedef struct cn_watcher cn_watcher;

/* An immutable event shared by the ring and its readers. */
typedef struct cn_wevent {
    cn_event_type type;
    int64_t rev;
    int64_t create_rev;
    char *key;
    char *value;  size_t value_len;       /* PUT: new; DELETE: last value */
    char *prev;   size_t prev_len;        /* NULL on create */
    int refs;     /* private */
    /* Private: shared views built once by the first reader (see below). */
    json_t *obj_, *prev_obj_;
    char *json_;
    size_t json_len_;
} cn_wevent;

void cn_wevent_unref(cn_wevent *ev);

/* The event's object (PUT: new value; DELETE: the last value) and the
 * previous object (NULL on create), parsed once and shared by every watcher,
 * with metadata.resourceVersion set to the event's revision. Borrowed and
 * read-only; NULL if the stored value is not a JSON object. With 1,000
 * watchers this is what keeps an event from being parsed 1,000 times. */
const json_t *cn_wevent_object(cn_wevent *ev);
const json_t *cn_wevent_prev_object(cn_wevent *ev);
/* cn_wevent_object serialized (compact JSON), shared the same way. */
const char *cn_wevent_json(cn_wevent *ev, size_t *len);

/* Creates the cache and installs it as the store's sink. max_events and
 * max_bytes bound the ring (0 = defaults 10000 events / 16 MiB). */
cn_watchcache *cn_watchcache_new(cn_store *s, size_t max_events, size_t max_bytes);
void cn_watchcache_free(cn_watchcache *wc);

/* Watch keys starting with prefix, for changes with revision > after_rev. */
int cn_watchcache_watch(cn_watchcache *wc, const char *prefix, int64_t after_rev,
                        cn_watcher **out, cn_err *err);
/* Wait up to timeout_ms for the next event. Returns 1 and a reference in
 * *ev (caller unrefs), 0 on timeout, -ERANGE if the watcher fell behind. */
int cn_watcher_next(cn_watcher *w, int timeout_ms, cn_wevent **ev);
/* Highest revision the cache has seen (for bookmarks). */
int64_t cn_watchcache_rev(cn_watchcache *wc);
/* A synchronous observer of every change, called on the store's commit
 * thread in revision order before the change reaches any watcher (and, for
 * this process's writes, before the writer is answered). It must be quick
 * and must not call into the store. Set once, before serving. */
void cn_watchcache_set_tap(cn_watchcache *wc, cn_event_fn fn, void *ud);
void cn_watcher_free(cn_watcher *w);
/* Wake every watcher (shutdown). */
void cn_watchcache_close(cn_watchcache *wc);

#endif
