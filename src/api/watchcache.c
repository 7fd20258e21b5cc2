/* watchcache: fan-out of committed store changes to watchers.
 *
 * The store's commit thread appends each change, as one refcounted
 * cn_wevent, to a ring bounded by count and bytes. Ring slots are addressed
 * by an ever-growing sequence number: the ring holds [head, tail). A watcher
 * is a cursor (a sequence number) plus a prefix, so a thousand watchers cost
 * a thousand cursors, not a thousand copies of each event.
 *
 * Invariants (under wc->mu):
 *   - ring events are in strictly increasing revision order;
 *   - every change with revision > base_rev is either in the ring or has not
 *     been delivered yet (it will be); evicting an event raises base_rev;
 *   - a watcher with seq < head has lost events it never read: -ERANGE;
 *   - a watcher on the wait list has seq == tail and an empty backlog, so the
 *     sink may move it past events its prefix does not match (a quiet watcher
 *     is not dropped because others are busy) and wakes it only on a match.
 *
 * A watcher starting before base_rev first replays cn_store_history into a
 * private bounded backlog, then continues from the ring; revisions the
 * replay already covered are skipped (min_rev). */
#include "api/watchcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

#define DEFAULT_MAX_EVENTS 10000
#define DEFAULT_MAX_BYTES ((size_t)16 << 20)
#define REPLAY_RETRIES 3
/* A replay covers only what the ring lost; bound it like a few rings. */
#define REPLAY_MAX_EVENTS(wc) ((wc)->cap * 4)

struct cn_watchcache {
    pthread_mutex_t mu;
    cn_store *store;
    cn_wevent **ring;          /* cap slots; slot of seq is seq % cap */
    size_t cap;
    uint64_t head, tail;
    size_t bytes, max_bytes;
    int64_t base_rev;
    int64_t last_rev;          /* highest revision seen (for bookmarks) */
    bool closed;
    int refs;                  /* the owner + one per watcher */
    cn_watcher *waiting;       /* doubly linked through wprev/wnext */
    cn_event_fn tap;           /* atomic: set once, read without the lock */
    void *tap_ud;
};

struct cn_watcher {
    cn_watchcache *wc;
    char *prefix;
    size_t prefix_len;
    uint64_t seq;
    int64_t min_rev;           /* skip ring events at or below this */
    cn_wevent **backlog;       /* history replay; owned references */
    size_t nback, iback, capback;
    pthread_cond_t cond;
    bool waiting;
    cn_watcher *wprev, *wnext;
};

static size_t wevent_size(const cn_wevent *ev)
{
    return sizeof *ev + strlen(ev->key) + 1 + ev->value_len + 1 + (ev->prev ? ev->prev_len + 1 : 0);
}

/* One allocation holds the struct and its strings. */
static cn_wevent *wevent_new(const cn_event *e)
{
    size_t klen = strlen(e->key);
    size_t n = sizeof(cn_wevent) + klen + 1 + e->value_len + 1 +
               (e->prev_value ? e->prev_len + 1 : 0);
    cn_wevent *ev = cn_malloc(n);
    char *p = (char *)(ev + 1);
    ev->type = e->type;
    ev->rev = e->rev;
    ev->create_rev = e->create_rev;
    ev->refs = 1;
    ev->obj_ = ev->prev_obj_ = NULL;
    ev->json_ = NULL;
    ev->json_len_ = 0;
    ev->key = p;
    memcpy(p, e->key, klen + 1);
    p += klen + 1;
    ev->value = p;
    ev->value_len = e->value_len;
    if (e->value_len) memcpy(p, e->value, e->value_len);
    p[e->value_len] = '\0';
    p += e->value_len + 1;
    ev->prev = NULL;
    ev->prev_len = 0;
    if (e->prev_value) {
        ev->prev = p;
        ev->prev_len = e->prev_len;
        if (e->prev_len) memcpy(p, e->prev_value, e->prev_len);
        p[e->prev_len] = '\0';
    }
    return ev;
}

static cn_wevent *wevent_ref(cn_wevent *ev)
{
    __atomic_add_fetch(&ev->refs, 1, __ATOMIC_RELAXED);
    return ev;
}

void cn_wevent_unref(cn_wevent *ev)
{
    if (ev && __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        json_decref(ev->obj_);
        json_decref(ev->prev_obj_);
        free(ev->json_);
        free(ev);
    }
}

static json_t *parse_stamped(const char *value, size_t len, int64_t rev)
{
    json_t *o = json_loadb(value, len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    json_t *meta = json_object_get(o, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(o, "metadata", meta);
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    return o;
}

/* Publish a lazily built view: the first builder wins, losers drop theirs. */
static json_t *publish_json(json_t **slot, json_t *built)
{
    json_t *expected = NULL;
    if (!built) return NULL;
    if (__atomic_compare_exchange_n(slot, &expected, built, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return built;
    json_decref(built);
    return expected;
}

const json_t *cn_wevent_object(cn_wevent *ev)
{
    json_t *o = __atomic_load_n(&ev->obj_, __ATOMIC_ACQUIRE);
    if (o) return o;
    return publish_json(&ev->obj_, parse_stamped(ev->value, ev->value_len, ev->rev));
}

const json_t *cn_wevent_prev_object(cn_wevent *ev)
{
    if (!ev->prev) return NULL;
    json_t *o = __atomic_load_n(&ev->prev_obj_, __ATOMIC_ACQUIRE);
    if (o) return o;
    return publish_json(&ev->prev_obj_, parse_stamped(ev->prev, ev->prev_len, ev->rev));
}

const char *cn_wevent_json(cn_wevent *ev, size_t *len)
{
    char *s = __atomic_load_n(&ev->json_, __ATOMIC_ACQUIRE);
    if (!s) {
        const json_t *o = cn_wevent_object(ev);
        if (!o) return NULL;
        char *built = json_dumps(o, JSON_COMPACT), *expected = NULL;
        if (__atomic_compare_exchange_n(&ev->json_, &expected, built, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            s = built;
        } else {
            free(built);
            s = expected;
        }
    }
    /* strlen of a shared immutable string: cheaper than another atomic. */
    if (len) *len = strlen(s);
    return s;
}

static bool matches(const cn_watcher *w, const char *key)
{
    return strncmp(key, w->prefix, w->prefix_len) == 0;
}

static void unwait(cn_watchcache *wc, cn_watcher *w)
{
    if (!w->waiting) return;
    if (w->wprev) w->wprev->wnext = w->wnext;
    else wc->waiting = w->wnext;
    if (w->wnext) w->wnext->wprev = w->wprev;
    w->wprev = w->wnext = NULL;
    w->waiting = false;
}

static void evict_head(cn_watchcache *wc)
{
    cn_wevent *ev = wc->ring[wc->head % wc->cap];
    wc->ring[wc->head % wc->cap] = NULL;
    wc->head++;
    wc->bytes -= wevent_size(ev);
    if (ev->rev > wc->base_rev) wc->base_rev = ev->rev;
    cn_wevent_unref(ev);
}

/* Changes before rev may never arrive: empty the ring and skip one sequence
 * number, so that every existing watcher (waiting or not) finds seq < head
 * and gets -ERANGE (410: relist), and new watchers older than rev go to the
 * store's history, which answers -ERANGE too if it is gone. */
static void reset(cn_watchcache *wc, int64_t rev)
{
    pthread_mutex_lock(&wc->mu);
    while (wc->tail > wc->head) evict_head(wc);
    wc->tail++;
    wc->head = wc->tail;
    if (rev - 1 > wc->base_rev) wc->base_rev = rev - 1;
    if (rev - 1 > wc->last_rev) wc->last_rev = rev - 1;
    while (wc->waiting) {
        cn_watcher *w = wc->waiting;
        unwait(wc, w);
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&wc->mu);
}

/* The store's sink; runs on the commit thread. */
static void on_event(void *ud, const cn_event *e)
{
    cn_watchcache *wc = ud;
    cn_event_fn tap = __atomic_load_n(&wc->tap, __ATOMIC_ACQUIRE);
    if (tap) tap(__atomic_load_n(&wc->tap_ud, __ATOMIC_ACQUIRE), e);
    if (e->type == CN_EV_RESET) {
        reset(wc, e->rev);
        return;
    }
    cn_wevent *ev = wevent_new(e);     /* copy outside the lock */
    size_t sz = wevent_size(ev);
    pthread_mutex_lock(&wc->mu);
    if (wc->closed || (wc->tail > wc->head && wc->ring[(wc->tail - 1) % wc->cap]->rev >= ev->rev)) {
        pthread_mutex_unlock(&wc->mu);
        cn_wevent_unref(ev);
        return;
    }
    while (wc->tail > wc->head &&
           (wc->tail - wc->head >= wc->cap || wc->bytes + sz > wc->max_bytes))
        evict_head(wc);
    uint64_t before = wc->tail;
    wc->ring[wc->tail % wc->cap] = ev;
    wc->tail++;
    wc->bytes += sz;
    if (ev->rev > wc->last_rev) wc->last_rev = ev->rev;
    for (cn_watcher *w = wc->waiting, *next; w; w = next) {
        next = w->wnext;
        if (w->seq != before) continue;      /* cannot happen; be safe */
        if (matches(w, ev->key) && ev->rev > w->min_rev) {
            unwait(wc, w);
            pthread_cond_signal(&w->cond);
        } else {
            w->seq = wc->tail;               /* nothing for it: move past */
        }
    }
    pthread_mutex_unlock(&wc->mu);
}

cn_watchcache *cn_watchcache_new(cn_store *s, size_t max_events, size_t max_bytes)
{
    cn_watchcache *wc = cn_calloc(1, sizeof *wc);
    pthread_mutex_init(&wc->mu, NULL);
    wc->store = s;
    wc->cap = max_events ? max_events : DEFAULT_MAX_EVENTS;
    wc->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    wc->ring = cn_calloc(wc->cap, sizeof *wc->ring);
    wc->refs = 1;
    /* Install first, read the revision second: every change above it is
     * then certain to reach the ring (see the invariants above). */
    if (s) cn_store_set_sink(s, on_event, wc);
    int64_t cur = s ? cn_store_current_rev(s) : 0;
    pthread_mutex_lock(&wc->mu);
    wc->base_rev = cur;
    if (cur > wc->last_rev) wc->last_rev = cur;
    pthread_mutex_unlock(&wc->mu);
    return wc;
}

static void wc_unref_locked(cn_watchcache *wc)
{
    if (--wc->refs > 0) {
        pthread_mutex_unlock(&wc->mu);
        return;
    }
    while (wc->tail > wc->head) evict_head(wc);
    pthread_mutex_unlock(&wc->mu);
    pthread_mutex_destroy(&wc->mu);
    free(wc->ring);
    free(wc);
}

void cn_watchcache_close(cn_watchcache *wc)
{
    if (!wc) return;
    pthread_mutex_lock(&wc->mu);
    wc->closed = true;
    while (wc->waiting) {
        cn_watcher *w = wc->waiting;
        unwait(wc, w);
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&wc->mu);
}

void cn_watchcache_free(cn_watchcache *wc)
{
    if (!wc) return;
    /* Returns once no callback runs; the store may outlive us. */
    if (wc->store) cn_store_set_sink(wc->store, NULL, NULL);
    cn_watchcache_close(wc);
    pthread_mutex_lock(&wc->mu);
    wc->store = NULL;
    wc_unref_locked(wc);    /* live watchers keep the memory until freed */
}

void cn_watchcache_set_tap(cn_watchcache *wc, cn_event_fn fn, void *ud)
{
    /* The sink may already be running (other servers' writes over etcd):
     * publish ud before fn. Changes before this are simply not seen. */
    __atomic_store_n(&wc->tap_ud, ud, __ATOMIC_RELEASE);
    __atomic_store_n(&wc->tap, fn, __ATOMIC_RELEASE);
}

int64_t cn_watchcache_rev(cn_watchcache *wc)
{
    pthread_mutex_lock(&wc->mu);
    int64_t r = wc->last_rev;
    pthread_mutex_unlock(&wc->mu);
    return r;
}

/* First sequence number whose event has revision > rev (tail if none). */
static uint64_t seq_after(const cn_watchcache *wc, int64_t rev)
{
    uint64_t lo = wc->head, hi = wc->tail;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (wc->ring[mid % wc->cap]->rev > rev) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

typedef struct replay {
    cn_watcher *w;
    int64_t upto;              /* the ring's base when replay began */
    int64_t max_rev;           /* highest revision replayed, <= upto */
    size_t bytes, max_events, max_bytes;
    bool overflow;
} replay;

static void on_history(void *ud, const cn_event *e)
{
    replay *rp = ud;
    cn_watcher *w = rp->w;
    if (e->rev > rp->upto) return;   /* the ring has it */
    if (e->rev > rp->max_rev) rp->max_rev = e->rev;
    if (rp->overflow || strncmp(e->key, w->prefix, w->prefix_len) != 0) return;
    cn_wevent *ev = wevent_new(e);
    rp->bytes += wevent_size(ev);
    if (w->nback >= rp->max_events || rp->bytes > rp->max_bytes) {
        rp->overflow = true;       /* the client must relist: 410 */
        cn_wevent_unref(ev);
        return;
    }
    if (w->nback == w->capback) {
        w->capback = w->capback ? w->capback * 2 : 64;
        w->backlog = cn_realloc(w->backlog, w->capback * sizeof *w->backlog);
    }
    w->backlog[w->nback++] = ev;
}

int cn_watchcache_watch(cn_watchcache *wc, const char *prefix, int64_t after_rev,
                        cn_watcher **out, cn_err *err)
{
    if (!wc || !prefix || !out)
        return cn_err_internal(err, "watchcache: bad arguments"), -EINVAL;
    /* The cache may still hold events the store has compacted away; a
     * revision the store no longer has is gone for watchers too, so the
     * answer does not depend on how long this process has been running. */
    int64_t compacted = wc->store ? cn_store_compacted_rev(wc->store) : 0;
    if (after_rev > 0 && after_rev < compacted) {
        cn_err_set(err, 410, "Expired", "too old resource version: %lld (%lld)",
                   (long long)after_rev, (long long)compacted);
        return -ERANGE;
    }
    cn_watcher *w = cn_calloc(1, sizeof *w);
    w->wc = wc;
    w->prefix = cn_strdup(prefix);
    w->prefix_len = strlen(prefix);
    w->min_rev = after_rev;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);

    int r = 0;
    int64_t from = after_rev;
    pthread_mutex_lock(&wc->mu);
    wc->refs++;
    for (int attempt = 0;; attempt++) {
        if (wc->closed) {
            cn_err_set(err, 503, "ServiceUnavailable", "watchcache: shutting down");
            r = -ESHUTDOWN;
            break;
        }
        if (from >= wc->base_rev) {
            w->min_rev = from;
            w->seq = seq_after(wc, from);
            break;
        }
        cn_store *store = wc->store;
        if (!store || attempt >= REPLAY_RETRIES) {
            cn_err_set(err, 410, "Expired", "too old resource version: %lld",
                       (long long)after_rev);
            r = -ERANGE;
            break;
        }
        /* Older than the ring: replay the store's history without the lock. */
        pthread_mutex_unlock(&wc->mu);
        replay rp = { .w = w, .upto = wc->base_rev, .max_rev = from,
                      .max_events = REPLAY_MAX_EVENTS(wc), .max_bytes = wc->max_bytes };
        r = cn_store_history(store, from, on_history, &rp, err);
        pthread_mutex_lock(&wc->mu);
        if (r < 0) break;
        if (rp.overflow) {
            cn_err_set(err, 410, "Expired", "too old resource version: %lld (too many changes since)",
                       (long long)after_rev);
            r = -ERANGE;
            break;
        }
        from = rp.max_rev;
    }
    pthread_mutex_unlock(&wc->mu);
    if (r < 0) {
        cn_watcher_free(w);
        return r;
    }
    *out = w;
    return 0;
}

int cn_watcher_next(cn_watcher *w, int timeout_ms, cn_wevent **ev)
{
    cn_watchcache *wc = w->wc;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int r;
    pthread_mutex_lock(&wc->mu);
    for (bool timed_out = false;;) {
        if (wc->closed) {
            r = -ESHUTDOWN;
            break;
        }
        if (w->iback < w->nback) {
            *ev = w->backlog[w->iback];          /* hand over the backlog's ref */
            w->backlog[w->iback++] = NULL;
            r = 1;
            break;
        }
        if (w->seq < wc->head) {
            r = -ERANGE;                          /* unread events were evicted */
            break;
        }
        cn_wevent *found = NULL;
        while (w->seq < wc->tail) {
            cn_wevent *e = wc->ring[w->seq % wc->cap];
            w->seq++;
            if (e->rev > w->min_rev && matches(w, e->key)) {
                found = e;
                break;
            }
        }
        if (found) {
            *ev = wevent_ref(found);
            r = 1;
            break;
        }
        if (timed_out || timeout_ms <= 0) {
            r = 0;
            break;
        }
        w->waiting = true;
        w->wprev = NULL;
        w->wnext = wc->waiting;
        if (wc->waiting) wc->waiting->wprev = w;
        wc->waiting = w;
        int rc = pthread_cond_timedwait(&w->cond, &wc->mu, &deadline);
        unwait(wc, w);
        if (rc == ETIMEDOUT) timed_out = true;   /* one last look, then 0 */
    }
    pthread_mutex_unlock(&wc->mu);
    return r;
}

void cn_watcher_free(cn_watcher *w)
{
    if (!w) return;
    cn_watchcache *wc = w->wc;
    for (size_t i = w->iback; i < w->nback; i++) cn_wevent_unref(w->backlog[i]);
    free(w->backlog);
    free(w->prefix);
    pthread_mutex_lock(&wc->mu);
    unwait(wc, w);
    pthread_cond_destroy(&w->cond);
    free(w);
    wc_unref_locked(wc);
}
