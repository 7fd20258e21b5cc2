/* store: the revisioned key-value store under the API server.
 *
 * One interface, several backends (SQLite now, etcd next). Keys follow
 * Kubernetes' layout "/registry/<resource>/<namespace>/<name>" (cluster
 * scoped: "/registry/<resource>/<name>"; non-core groups use
 * "<group>/<resource>" as the resource part). Values are opaque bytes (the
 * API server stores JSON). Every successful write gets the next value of one
 * global revision counter; resourceVersion is the object's mod revision.
 *
 * Durability: a write returns only after its transaction is durable
 * (fsync'ed); concurrent writers are group-committed. After commit and before
 * the writer is released, each change is delivered to the event sink in
 * revision order, so a watcher sees a change no later than its writer's
 * response leaves.
 *
 * Errors: -ENOENT missing key, -EEXIST create of an existing key, -ESTALE
 * expected revision mismatch, -ERANGE requested revision compacted, other
 * negative errno for I/O; cn_err carries the message. Thread-safe. */
#ifndef CN_STORE_H
#define CN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"

typedef struct cn_store cn_store;

typedef struct cn_kv {
    char *key;          /* owned */
    char *value;        /* owned, NUL-terminated for convenience */
    size_t value_len;
    int64_t create_rev;
    int64_t mod_rev;
} cn_kv;

typedef struct cn_kv_list {
    cn_kv *items;       /* owned array */
    size_t n, cap;
} cn_kv_list;

void cn_kv_release(cn_kv *kv);
void cn_kv_list_release(cn_kv_list *l);

/* CN_EV_RESET: the backend's change feed lost changes (an etcd watch had
 * to resume after a compaction): consumers must drop what they derived
 * from earlier events and relist. rev is the first revision of the changes
 * that follow; key is "" and there is no value. */
typedef enum cn_event_type { CN_EV_PUT = 1, CN_EV_DELETE = 2, CN_EV_RESET = 3 } cn_event_type;

/* One committed change. Pointers are valid only during the callback. */
typedef struct cn_event {
    cn_event_type type;
    int64_t rev;             /* revision of this change */
    int64_t create_rev;      /* create revision of the key */
    const char *key;
    const char *value;       /* PUT: new value; DELETE: the last value */
    size_t value_len;
    const char *prev_value;  /* value before this change; NULL on create */
    size_t prev_len;
} cn_event;

typedef void (*cn_event_fn)(void *ud, const cn_event *ev);

typedef struct cn_store_options {
    /* Automatic compaction keeps at least this many recent revisions
     * (0 = default 10000) and runs every compact_interval_s (0 = 300). */
    int64_t keep_revisions;
    int compact_interval_s;
    bool no_fsync;           /* tests/bench only: synchronous=OFF */
} cn_store_options;

/* Open (creating if needed) a SQLite store at path (a file). opts may be
 * NULL. On success *out is owned by the caller (cn_store_free). */
int cn_store_open_sqlite(const char *path, const cn_store_options *opts,
                         cn_store **out, cn_err *err);

/* Where the etcd backend finds its cluster. Strings are borrowed for the
 * duration of cn_store_open_etcd. */
typedef struct cn_etcd_config {
    const char *endpoints;   /* "http(s)://host:port[,...]" (up to 16) */
    /* Replaces the leading "/registry" of every store key in etcd; NULL or
     * "" keeps "/registry" (Kubernetes' layout). The store owns the etcd
     * range [prefix "/", prefix "0"): "/a" and "/ab" can share an etcd,
     * "/a" and "/a/b" cannot. */
    const char *prefix;
    const char *cafile, *certfile, *keyfile;   /* TLS (https endpoints) */
} cn_etcd_config;

/* Open the etcd backend (etcd 3.4+ through its v3 JSON gateway). Several
 * servers may open the same etcd and prefix: each sees every change through
 * its own watch. Store keys must start with "/registry/". opts may be NULL
 * (no_fsync is ignored: etcd decides durability). */
int cn_store_open_etcd(const cn_etcd_config *cfg, const cn_store_options *opts,
                       cn_store **out, cn_err *err);
void cn_store_free(cn_store *s);

/* Register the event sink (one per store). Called on the store's commit
 * thread; must be quick and must not call back into the store. */
void cn_store_set_sink(cn_store *s, cn_event_fn fn, void *ud);

int64_t cn_store_current_rev(cn_store *s);
int64_t cn_store_compacted_rev(cn_store *s);

int cn_store_get(cn_store *s, const char *key, cn_kv *out, cn_err *err);

/* Keys starting with prefix, ascending, strictly after `after` (NULL = from
 * the start), at most limit (0 = no limit). *rev is the store revision the
 * read was consistent with; *more is set when items remained. */
int cn_store_list(cn_store *s, const char *prefix, const char *after, size_t limit,
                  cn_kv_list *out, int64_t *rev, bool *more, cn_err *err);

/* Count keys under prefix. */
int cn_store_count(cn_store *s, const char *prefix, int64_t *count, cn_err *err);

int cn_store_create(cn_store *s, const char *key, const char *value, size_t len,
                    int64_t *rev, cn_err *err);
/* expect_rev > 0: fail with -ESTALE unless the key's mod revision equals it. */
int cn_store_update(cn_store *s, const char *key, const char *value, size_t len,
                    int64_t expect_rev, int64_t *rev, cn_err *err);
/* prev (optional) receives the deleted value; *rev the delete's revision. */
int cn_store_delete(cn_store *s, const char *key, int64_t expect_rev,
                    cn_kv *prev, int64_t *rev, cn_err *err);

/* Replay every change with revision > after_rev, in order, through fn.
 * -ERANGE if after_rev < cn_store_compacted_rev (history is gone). */
int cn_store_history(cn_store *s, int64_t after_rev, cn_event_fn fn, void *ud,
                     cn_err *err);

/* Drop history at or below rev (never the current revision). */
int cn_store_compact(cn_store *s, int64_t rev, cn_err *err);

#endif
