/* stream: list then watch one collection and hand every object to a
 * callback, keeping nothing — the informer's protocol without its cache.
 * The node simulator follows every bound pod of a cluster this way: at
 * 30,000 pods a cache of full objects would cost more than everything else
 * the agent holds.
 *
 * A relist (at start, and when the watch says 410) reports every listed
 * object as "ADDED" between two relist() calls, so the owner can drop what
 * it holds but was not listed again (deleted while nobody watched). Pages
 * of 500. One thread per stream; callbacks run on it. */
#ifndef CN_AGENT_STREAM_H
#define CN_AGENT_STREAM_H

#include <stdbool.h>
#include <jansson.h>
#include "client/client.h"
#include "lib/err.h"

typedef struct cn_stream_handler {
    /* type: ADDED, MODIFIED, DELETED. obj is borrowed. */
    void (*on_event)(void *ud, const char *type, const json_t *obj);
    /* Around each relist: done false before its first page, true after
     * the last one (not called for a relist that failed half way). */
    void (*relist)(void *ud, bool done);
    void *ud;
} cn_stream_handler;

typedef struct cn_stream cn_stream;

/* path: a collection path, optionally with a query (selectors). */
int cn_stream_start(cn_client *c, const char *path, const cn_stream_handler *h, cn_stream **out,
                    cn_err *err);
/* Stops the thread (within about a second) and frees. NULL is fine. */
void cn_stream_free(cn_stream *s);

#endif
