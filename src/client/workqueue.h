/* workqueue: the queue of keys ("ns/name") a controller works through —
 * client-go's rate-limited work queue. A key is queued at most once however
 * often it is added; a key being processed is not handed to a second worker,
 * and if it is added meanwhile it is queued again when done, so a change is
 * never lost and a key is never worked on twice at once. Failed keys come
 * back with per-key exponential backoff (5 ms doubling to 1000 s as
 * upstream, capped by max_backoff_ms), so a broken object never spins. */
#ifndef CN_WORKQUEUE_H
#define CN_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cn_workqueue cn_workqueue;

/* max_backoff_ms 0 = 1000 s. */
cn_workqueue *cn_workqueue_new(int64_t max_backoff_ms);
void cn_workqueue_add(cn_workqueue *q, const char *key);
void cn_workqueue_add_after(cn_workqueue *q, const char *key, int64_t delay_ms);
/* Requeue after this key's next backoff (5 ms, 10 ms, 20 ms, ...). */
void cn_workqueue_add_rate_limited(cn_workqueue *q, const char *key);
/* The key succeeded: its backoff starts again from 5 ms. */
void cn_workqueue_forget(cn_workqueue *q, const char *key);
int cn_workqueue_requeues(cn_workqueue *q, const char *key);
/* Blocks until a key is ready; an owned string, or NULL once shut down. */
char *cn_workqueue_get(cn_workqueue *q);
/* Same with a timeout: NULL on timeout too (check cn_workqueue_shutting_down). */
char *cn_workqueue_get_timeout(cn_workqueue *q, int timeout_ms);
/* Every cn_workqueue_get is paired with one done. */
void cn_workqueue_done(cn_workqueue *q, const char *key);
size_t cn_workqueue_len(cn_workqueue *q);
void cn_workqueue_shutdown(cn_workqueue *q);   /* wakes every getter */
bool cn_workqueue_shutting_down(cn_workqueue *q);
void cn_workqueue_free(cn_workqueue *q);

/* Split "ns/name" (or "name") into parts; returns false if malformed.
 * ns gets "" for cluster-scoped keys. Buffers of 254 bytes each. */
bool cn_key_split(const char *key, char ns[254], char name[254]);

#endif
