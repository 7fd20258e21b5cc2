/* timerheap: a binary min-heap of timers ordered by due time, then by
 * insertion order — the one schedule the node simulator keeps for all its
 * nodes and pods (lease renewals, pods becoming Ready, pods ending), so
 * thousands of nodes cost a few bytes each instead of a thread each.
 *
 * Not thread-safe: the owner holds its lock around every call. Entries are
 * small values; a timer that became obsolete is not removed but recognised
 * when it fires (the payload carries a generation to compare). */
#ifndef CN_TIMERHEAP_H
#define CN_TIMERHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cn_timer {
    int64_t due_ms;       /* monotonic */
    uint64_t seq;         /* insertion order: equal due times fire FIFO */
    int kind;             /* the owner's meaning */
    int32_t idx;          /* e.g. a node index */
    uint64_t gen;         /* e.g. a pod record's generation */
    char *key;            /* owned by the heap until popped, may be NULL */
} cn_timer;

typedef struct cn_timerheap {
    cn_timer *items;
    size_t n, cap;
    uint64_t next_seq;
} cn_timerheap;

void cn_timerheap_init(cn_timerheap *h);
/* Frees the keys still queued. */
void cn_timerheap_release(cn_timerheap *h);
/* key is copied (may be NULL). */
void cn_timerheap_push(cn_timerheap *h, int64_t due_ms, int kind, int32_t idx, uint64_t gen,
                       const char *key);
/* The earliest due time, or INT64_MAX when empty. */
int64_t cn_timerheap_next(const cn_timerheap *h);
/* Pops the earliest timer if it is due at now_ms; its key becomes the
 * caller's. */
bool cn_timerheap_pop_due(cn_timerheap *h, int64_t now_ms, cn_timer *out);
static inline size_t cn_timerheap_len(const cn_timerheap *h) { return h->n; }

#endif
