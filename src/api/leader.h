/* leader: leader election on a coordination.k8s.io/v1 Lease, the way
 * client-go's leaderelection package does it, so several `cairn server`
 * processes over one store run each singleton loop (controllers, later the
 * scheduler) in exactly one process.
 *
 * One elector per lease, each with a thread that every retry period reads
 * the Lease and either renews it (we hold it), acquires it (absent,
 * released, or expired) or backs off (someone else holds it). Every write is
 * a compare-and-swap on the lease's revision, so of two racing electors one
 * wins and the other simply is not leader.
 *
 * Expiry is judged the way client-go judges it: by when *this* process last
 * saw the lease record change, on its own monotonic clock, plus the
 * record's leaseDurationSeconds; the holder's wall clock never matters.
 *
 * States (per elector):
 *
 *     FOLLOWER --acquire ok--> LEADER --renew ok--> LEADER
 *        ^                        |
 *        +---- other holder ------+  (a renew saw another holder)
 *        +---- renew deadline ----+  (no successful renew for renew_deadline,
 *                                     judged at the caller: a stuck thread
 *                                     cannot keep us leader)
 *
 * cn_leader_is_leader() is the only truth for "may I act now": it is false
 * once the last successful write (timed from *before* it was sent) is older
 * than the renew deadline, which is shorter than the lease duration, so a
 * partitioned leader stops before any other process may acquire. */
#ifndef CN_LEADER_H
#define CN_LEADER_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/err.h"
#include "store/store.h"

typedef struct cn_leader cn_leader;

/* Defaults of kube-controller-manager. */
#define CN_LEADER_LEASE_MS 15000
#define CN_LEADER_RENEW_DEADLINE_MS 10000
#define CN_LEADER_RETRY_MS 2000

typedef struct cn_leader_config {
    const char *key;            /* store key of the Lease object */
    const char *ns, *name;      /* its namespace and name (written into it) */
    const char *identity;       /* holderIdentity, "<hostname>_<uuid>" */
    /* Milliseconds; 0 = the defaults above. Must hold lease > renew_deadline
     * > retry > 0. The Lease field is whole seconds: the lease is written
     * rounded up, and others honour the rounded value. */
    int64_t lease_ms, renew_deadline_ms, retry_ms;
    /* Called on the elector's thread, without locks held, whenever its
     * view changes (acquired: true; lost: false). true may repeat when a
     * lapse past the renew deadline healed before the thread saw it: each
     * true means "start over". May be NULL. */
    void (*on_change)(void *ud, bool leader);
    void *ud;
} cn_leader_config;

/* Start electing (the first attempt runs at once). Strings are copied. */
int cn_leader_start(cn_store *store, const cn_leader_config *cfg, cn_leader **out, cn_err *err);

/* Stop the thread; with release, a held lease is released (holder emptied,
 * upstream's ReleaseOnCancel) so another process takes over at once.
 * NULL-safe. */
void cn_leader_stop(cn_leader *l, bool release);

/* True while this process holds the lease and renewed it within the renew
 * deadline. Cheap (one mutex); call it before every act. */
bool cn_leader_is_leader(cn_leader *l);

/* Block until cn_leader_is_leader() differs from `was`, timeout_ms passes
 * (< 0: no timeout) or the elector stops. Returns the current state. */
bool cn_leader_wait(cn_leader *l, bool was, int64_t timeout_ms);

const char *cn_leader_identity(const cn_leader *l);

/* Test hook: while frozen the thread makes no writes, as if stuck or cut
 * off from the store (lets tests watch the renew deadline expire). */
void cn_leader_freeze(cn_leader *l, bool frozen);

/* "<hostname>_<random uuid>" for this process. Caller frees. */
char *cn_leader_new_identity(void);

#endif
