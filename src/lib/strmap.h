/* strmap: a hash map from strings to pointers (chained, FNV-1a, grows at
 * load 1). The map owns copies of its keys; values are the caller's. Used by
 * the informer caches and indexes, the work queue, the scheduler's cache.
 * Not thread-safe: callers lock. */
#ifndef CN_STRMAP_H
#define CN_STRMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct cn_strmap cn_strmap;

cn_strmap *cn_strmap_new(void);
/* free_val (may be NULL) is called on every value. */
void cn_strmap_free(cn_strmap *m, void (*free_val)(void *));
void *cn_strmap_get(const cn_strmap *m, const char *key);
bool cn_strmap_has(const cn_strmap *m, const char *key);
/* Insert or replace; returns the replaced value (the caller's) or NULL. */
void *cn_strmap_put(cn_strmap *m, const char *key, void *val);
/* Remove; returns the removed value or NULL. */
void *cn_strmap_del(cn_strmap *m, const char *key);
size_t cn_strmap_len(const cn_strmap *m);
/* Visit every entry (unspecified order); fn returns false to stop. fn must
 * not change the map. */
/* FNV-1a of s: the map's hash, also a stable hash of a name elsewhere. */
uint64_t cn_str_hash(const char *s);

void cn_strmap_foreach(const cn_strmap *m, bool (*fn)(void *ud, const char *key, void *val), void *ud);

#endif
