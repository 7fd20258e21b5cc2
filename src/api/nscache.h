/* nscache: which namespaces exist and are not terminating, as this
 * process last learnt it, so that a create in a namespace need not read
 * the namespace from the store first (one etcd round trip per create).
 *
 * It is fed synchronously by the watch cache's tap (every namespace change,
 * in revision order, before this process's writer is answered) and by the
 * live reads callers make on a miss. Each entry keeps the revision it was
 * learnt at, so a late live read never overwrites a newer change. Only a
 * positive answer ("active") is trusted; anything else means: read the
 * store. Like upstream's NamespaceLifecycle admission with its informer, a
 * namespace deleted through another server may still look active here for
 * the few milliseconds its watch event takes to arrive. */
#ifndef CN_NSCACHE_H
#define CN_NSCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "store/store.h"

typedef struct cn_nscache cn_nscache;

/* prefix: the namespaces' store key prefix ("/registry/namespaces/"),
 * copied. */
cn_nscache *cn_nscache_new(const char *prefix);
void cn_nscache_free(cn_nscache *c);

/* The watch cache tap (cn_event_fn); ud is the cn_nscache. */
void cn_nscache_on_event(void *ud, const cn_event *e);

/* True when the namespace is known to exist and not to be terminating. */
bool cn_nscache_active(cn_nscache *c, const char *name);

/* Record what a live read found at mod revision rev (ignored when the
 * cache already knows a change at or after rev). */
void cn_nscache_note(cn_nscache *c, const char *name, int64_t rev, bool terminating);

#endif
