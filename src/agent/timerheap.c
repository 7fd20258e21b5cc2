/* timerheap: see timerheap.h. A textbook array heap; the (due, seq) order
 * makes equal-time timers fire in the order they were added. */
#include "agent/timerheap.h"

#include <stdlib.h>

#include "lib/util.h"

void cn_timerheap_init(cn_timerheap *h) { *h = (cn_timerheap){ 0 }; }

void cn_timerheap_release(cn_timerheap *h)
{
    for (size_t i = 0; i < h->n; i++) free(h->items[i].key);
    free(h->items);
    *h = (cn_timerheap){ 0 };
}

static bool before(const cn_timer *a, const cn_timer *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void swap(cn_timer *a, cn_timer *b)
{
    cn_timer t = *a;
    *a = *b;
    *b = t;
}

void cn_timerheap_push(cn_timerheap *h, int64_t due_ms, int kind, int32_t idx, uint64_t gen,
                       const char *key)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->items = cn_realloc(h->items, h->cap * sizeof *h->items);
    }
    size_t i = h->n++;
    h->items[i] = (cn_timer){ due_ms, h->next_seq++, kind, idx, gen, cn_strdup(key) };
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&h->items[i], &h->items[p])) break;
        swap(&h->items[i], &h->items[p]);
        i = p;
    }
}

int64_t cn_timerheap_next(const cn_timerheap *h) { return h->n ? h->items[0].due_ms : INT64_MAX; }

bool cn_timerheap_pop_due(cn_timerheap *h, int64_t now_ms, cn_timer *out)
{
    if (!h->n || h->items[0].due_ms > now_ms) return false;
    *out = h->items[0];
    h->items[0] = h->items[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(&h->items[l], &h->items[m])) m = l;
        if (r < h->n && before(&h->items[r], &h->items[m])) m = r;
        if (m == i) break;
        swap(&h->items[i], &h->items[m]);
        i = m;
    }
    return true;
}
