/* workqueue: see workqueue.h. One lock; the delayed keys sit in a binary
 * heap by ready time and are moved to the queue by whichever getter wakes
 * first, so the queue needs no thread of its own. */
#include "client/workqueue.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/strmap.h"
#include "lib/util.h"

#define BASE_BACKOFF_MS 5
#define DEFAULT_MAX_BACKOFF_MS 1000000

typedef struct delayed {
    int64_t at;
    char *key;
} delayed;

struct cn_workqueue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **q;                /* ring of queued keys */
    size_t qhead, qlen, qcap;
    cn_strmap *dirty;        /* queued, or re-added while processing */
    cn_strmap *processing;
    cn_strmap *failures;     /* key -> (uintptr_t) requeue count */
    delayed *heap;
    size_t nheap, capheap;
    cn_strmap *waiting;      /* key -> (intptr_t) earliest due time in the heap */
    int64_t max_backoff_ms;
    bool shutdown;
};

cn_workqueue *cn_workqueue_new(int64_t max_backoff_ms)
{
    cn_workqueue *q = cn_calloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    q->dirty = cn_strmap_new();
    q->processing = cn_strmap_new();
    q->failures = cn_strmap_new();
    q->waiting = cn_strmap_new();
    q->max_backoff_ms = max_backoff_ms > 0 ? max_backoff_ms : DEFAULT_MAX_BACKOFF_MS;
    return q;
}

static void push(cn_workqueue *q, const char *key)
{
    if (q->qlen == q->qcap) {
        size_t ncap = q->qcap ? q->qcap * 2 : 64;
        char **n = cn_malloc(ncap * sizeof *n);
        for (size_t i = 0; i < q->qlen; i++) n[i] = q->q[(q->qhead + i) % q->qcap];
        free(q->q);
        q->q = n;
        q->qcap = ncap;
        q->qhead = 0;
    }
    q->q[(q->qhead + q->qlen) % q->qcap] = cn_strdup(key);
    q->qlen++;
}

static void add_locked(cn_workqueue *q, const char *key)
{
    if (q->shutdown || cn_strmap_has(q->dirty, key)) return;
    cn_strmap_put(q->dirty, key, (void *)1);
    if (cn_strmap_has(q->processing, key)) return;   /* requeued by done */
    push(q, key);
    pthread_cond_signal(&q->cond);
}

void cn_workqueue_add(cn_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    add_locked(q, key);
    pthread_mutex_unlock(&q->lock);
}

static void heap_push(cn_workqueue *q, int64_t at, const char *key)
{
    if (q->nheap == q->capheap) {
        q->capheap = q->capheap ? q->capheap * 2 : 32;
        q->heap = cn_realloc(q->heap, q->capheap * sizeof *q->heap);
    }
    size_t i = q->nheap++;
    q->heap[i] = (delayed){ at, cn_strdup(key) };
    while (i && q->heap[(i - 1) / 2].at > q->heap[i].at) {
        delayed t = q->heap[i];
        q->heap[i] = q->heap[(i - 1) / 2];
        q->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static delayed heap_pop(cn_workqueue *q)
{
    delayed top = q->heap[0];
    q->heap[0] = q->heap[--q->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->nheap && q->heap[l].at < q->heap[m].at) m = l;
        if (r < q->nheap && q->heap[r].at < q->heap[m].at) m = r;
        if (m == i) break;
        delayed t = q->heap[i];
        q->heap[i] = q->heap[m];
        q->heap[m] = t;
        i = m;
    }
    return top;
}

void cn_workqueue_add_after(cn_workqueue *q, const char *key, int64_t delay_ms)
{
    if (delay_ms <= 0) return cn_workqueue_add(q, key);
    pthread_mutex_lock(&q->lock);
    int64_t at = cn_now_ms() + delay_ms;
    /* A key waits once, for its earliest due time (as client-go). */
    bool has = cn_strmap_has(q->waiting, key);
    if (!q->shutdown && (!has || (intptr_t)cn_strmap_get(q->waiting, key) > at)) {
        cn_strmap_put(q->waiting, key, (void *)(intptr_t)at);
        heap_push(q, at, key);
        pthread_cond_broadcast(&q->cond);   /* a getter may need to wait less */
    }
    pthread_mutex_unlock(&q->lock);
}

void cn_workqueue_add_rate_limited(cn_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    uintptr_t n = (uintptr_t)cn_strmap_get(q->failures, key);
    cn_strmap_put(q->failures, key, (void *)(n + 1));
    int64_t d = BASE_BACKOFF_MS;
    for (uintptr_t i = 0; i < n && d < q->max_backoff_ms; i++) d *= 2;
    if (d > q->max_backoff_ms) d = q->max_backoff_ms;
    pthread_mutex_unlock(&q->lock);
    cn_workqueue_add_after(q, key, d);
}

void cn_workqueue_forget(cn_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    cn_strmap_del(q->failures, key);
    pthread_mutex_unlock(&q->lock);
}

int cn_workqueue_requeues(cn_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    int n = (int)(uintptr_t)cn_strmap_get(q->failures, key);
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Moves due delayed keys to the queue; returns ms until the next one (-1: none). */
static int64_t mature(cn_workqueue *q)
{
    int64_t now = cn_now_ms();
    while (q->nheap && q->heap[0].at <= now) {
        delayed d = heap_pop(q);
        if (cn_strmap_has(q->waiting, d.key) && (intptr_t)cn_strmap_get(q->waiting, d.key) == d.at) {
            cn_strmap_del(q->waiting, d.key);
            add_locked(q, d.key);
        }
        free(d.key);
    }
    return q->nheap ? q->heap[0].at - now : -1;
}

static void wait_ms(cn_workqueue *q, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&q->cond, &q->lock, &ts);
}

char *cn_workqueue_get_timeout(cn_workqueue *q, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : cn_now_ms() + timeout_ms;
    char *key = NULL;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        int64_t next = mature(q);
        if (q->qlen) {
            key = q->q[q->qhead];
            q->qhead = (q->qhead + 1) % q->qcap;
            q->qlen--;
            cn_strmap_del(q->dirty, key);
            cn_strmap_put(q->processing, key, (void *)1);
            break;
        }
        if (q->shutdown) break;
        int64_t left = deadline == INT64_MAX ? 1000 : deadline - cn_now_ms();
        if (left <= 0) break;
        if (next >= 0 && next < left) left = next;
        if (left > 1000) left = 1000;
        wait_ms(q, left);
    }
    pthread_mutex_unlock(&q->lock);
    return key;
}

char *cn_workqueue_get(cn_workqueue *q) { return cn_workqueue_get_timeout(q, -1); }

void cn_workqueue_done(cn_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    cn_strmap_del(q->processing, key);
    if (cn_strmap_has(q->dirty, key) && !q->shutdown) {
        push(q, key);
        pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
}

size_t cn_workqueue_len(cn_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->qlen;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void cn_workqueue_shutdown(cn_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    q->shutdown = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

bool cn_workqueue_shutting_down(cn_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    bool s = q->shutdown;
    pthread_mutex_unlock(&q->lock);
    return s;
}

void cn_workqueue_free(cn_workqueue *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->qlen; i++) free(q->q[(q->qhead + i) % q->qcap]);
    free(q->q);
    for (size_t i = 0; i < q->nheap; i++) free(q->heap[i].key);
    free(q->heap);
    cn_strmap_free(q->dirty, NULL);
    cn_strmap_free(q->processing, NULL);
    cn_strmap_free(q->failures, NULL);
    cn_strmap_free(q->waiting, NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q);
}

bool cn_key_split(const char *key, char ns[254], char name[254])
{
    const char *slash = strchr(key, '/');
    if (!slash) {
        if (!*key || strlen(key) >= 254) return false;
        ns[0] = '\0';
        snprintf(name, 254, "%s", key);
        return true;
    }
    size_t nl = (size_t)(slash - key);
    if (nl == 0 || nl >= 254 || !slash[1] || strlen(slash + 1) >= 254 || strchr(slash + 1, '/'))
        return false;
    memcpy(ns, key, nl);
    ns[nl] = '\0';
    snprintf(name, 254, "%s", slash + 1);
    return true;
}
