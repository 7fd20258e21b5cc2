/* store-internal: the backend contract behind store.h.
 *
 * store.c owns argument checking and the event sink; a backend (sqlite.c,
 * later etcd.c) embeds `struct cn_store` as its FIRST member and fills in a
 * cn_store_ops table. Every backend must:
 *   - give each successful write the next revision of one global counter;
 *   - make the write durable before returning it to the writer;
 *   - after the commit and before releasing the writer, deliver each change
 *     through cn_store_emit() in revision order, exactly once;
 *   - leave out-parameters untouched on failure.
 * Backends fill cn_err with a plain message; the API layer maps -ENOENT,
 * -EEXIST and -ESTALE to Kubernetes errors itself. */
#ifndef CN_STORE_INTERNAL_H
#define CN_STORE_INTERNAL_H

#include <pthread.h>
#include "store/store.h"

/* Input bounds checked by store.c before a backend sees a request. */
#define CN_STORE_MAX_KEY   4096
#define CN_STORE_MAX_VALUE ((size_t)8 << 20)

typedef enum cn_store_write_kind {
    CN_WRITE_CREATE = 1,
    CN_WRITE_UPDATE,
    CN_WRITE_DELETE,
} cn_store_write_kind;

/* One write request. Pointers are borrowed from the caller for the duration
 * of the call. */
typedef struct cn_store_write {
    cn_store_write_kind kind;
    const char *key;
    const char *value;       /* CREATE/UPDATE; never NULL (store.c maps NULL to "") */
    size_t len;
    int64_t expect_rev;      /* UPDATE/DELETE: > 0 requires mod_rev == expect_rev */
    int64_t rev;             /* out: revision of the change */
    cn_kv *prev;             /* out (optional, DELETE): the deleted pair */
} cn_store_write;

typedef struct cn_store_ops {
    const char *name;
    void (*close)(cn_store *s);                 /* stop threads, free everything */
    int64_t (*current_rev)(cn_store *s);
    int64_t (*compacted_rev)(cn_store *s);
    int (*get)(cn_store *s, const char *key, cn_kv *out, cn_err *err);
    int (*list)(cn_store *s, const char *prefix, const char *after, size_t limit,
                cn_kv_list *out, int64_t *rev, bool *more, cn_err *err);
    int (*count)(cn_store *s, const char *prefix, int64_t *count, cn_err *err);
    int (*write)(cn_store *s, cn_store_write *w, cn_err *err);
    int (*history)(cn_store *s, int64_t after_rev, cn_event_fn fn, void *ud, cn_err *err);
    int (*compact)(cn_store *s, int64_t rev, cn_err *err);
} cn_store_ops;

struct cn_store {
    const cn_store_ops *ops;
    /* Held while events are delivered, so cn_store_set_sink(NULL) returns
     * only once no callback is running. */
    pthread_mutex_t sink_lock;
    cn_event_fn sink;
    void *sink_ud;
};

void cn_store_base_init(cn_store *s, const cn_store_ops *ops);
void cn_store_base_release(cn_store *s);
/* Deliver n committed changes (revision order) to the sink, if any. */
void cn_store_emit(cn_store *s, const cn_event *evs, size_t n);

/* Shared helpers for backends. */
/* The smallest string greater than every string starting with prefix, in
 * byte order; NULL when none exists (empty prefix or all 0xff). Caller frees;
 * *len receives its length. */
char *cn_store_prefix_end(const char *prefix, size_t *len);
void cn_kv_list_push(cn_kv_list *l, cn_kv *kv);   /* moves *kv into l */

#endif
