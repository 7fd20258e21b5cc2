/* wl: what the DaemonSet, StatefulSet, Job and CronJob controllers share —
 * pod state predicates (active, ready, available), building a child object
 * from a template with its controller ownerReference, creation/deletion
 * expectations (so a sync that runs before the informer has seen the pods
 * it just created does not create them twice, as upstream's
 * ControllerExpectations), and ControllerRevision history for DaemonSets
 * and StatefulSets (what `kubectl rollout history|undo` read).
 *
 * Everything but cn_wl_history_sync is pure over jansson objects. */
#ifndef CN_WL_H
#define CN_WL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "client/client.h"
#include "lib/err.h"

/* --- pods --- */
bool cn_wl_pod_terminating(const json_t *pod);        /* deletionTimestamp set */
bool cn_wl_pod_terminal(const json_t *pod);           /* Succeeded or Failed */
bool cn_wl_pod_active(const json_t *pod);             /* neither of the above */
bool cn_wl_pod_ready(const json_t *pod);              /* Ready condition True */
bool cn_wl_pod_running_ready(const json_t *pod);      /* Running and Ready */
/* Ready for at least min_ready_s at now (epoch s). */
bool cn_wl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now);
/* metadata.<field> timestamp (creationTimestamp, ...) or cond's time; 0 if absent. */
int64_t cn_wl_time(const json_t *obj, const char *dotted);
/* A condition of status.conditions by type, borrowed, or NULL. */
json_t *cn_wl_condition(const json_t *obj, const char *type);
bool cn_wl_condition_true(const json_t *obj, const char *type);

/* A new ownerReference to owner (controller=true, blockOwnerDeletion=true). */
json_t *cn_wl_owner_ref(const json_t *owner, const char *api_version, const char *kind);
/* A new object from a template {metadata:{labels,annotations},spec}: the
 * template's labels, annotations and (deep-copied) spec, the owner's
 * namespace and the controller ownerReference. Name not set. */
json_t *cn_wl_from_template(const json_t *tmpl, const json_t *owner, const char *api_version,
                            const char *kind);
/* Is obj's controller ownerReference of this kind? Its name (borrowed) or NULL. */
const char *cn_wl_controller_name(const json_t *obj, const char *kind);
/* Integer field at dotted path, def when absent. */
int64_t cn_wl_int(const json_t *obj, const char *dotted, int64_t def);
/* An int-or-percent (maxUnavailable & co.) scaled to total; round up or down. */
int64_t cn_wl_scaled(const json_t *v, int64_t total, bool round_up, int64_t def);

/* --- expectations --- */
typedef struct cn_wl_expect cn_wl_expect;
cn_wl_expect *cn_wl_expect_new(void);
void cn_wl_expect_free(cn_wl_expect *x);
/* Before issuing creates/deletes for key. */
void cn_wl_expect_set(cn_wl_expect *x, const char *key, int adds, int dels);
void cn_wl_expect_observed(cn_wl_expect *x, const char *key, int adds, int dels);
/* True when nothing is outstanding for key, or the expectation is older
 * than 5 minutes (a lost event must not wedge the controller). */
bool cn_wl_expect_satisfied(cn_wl_expect *x, const char *key);
void cn_wl_expect_forget(cn_wl_expect *x, const char *key);

/* --- ControllerRevisions --- */
/* Upstream's short safe encoding of a 32-bit FNV-1a over the compact,
 * key-sorted JSON of obj (plus collision_count when >= 0). Owned. */
char *cn_wl_hash(const json_t *obj, int64_t collision_count);
/* The revision data of a DaemonSet/StatefulSet: {"spec":{"template":
 * {...,"$patch":"replace"}}}, as upstream stores it. New reference. */
json_t *cn_wl_revision_data(const json_t *owner);

/* Make sure a ControllerRevision for owner's current template exists and
 * carries the highest revision number; prune unused ones beyond
 * spec.revisionHistoryLimit (default 10). revisions: the owner's existing
 * revisions (array, borrowed). hash_label: label the revision carries
 * ("controller-revision-hash" or "controller.kubernetes.io/hash").
 * in_use: revision names pods still reference (NULL-terminated, may be
 * NULL). Out: current revision name and hash (owned), its number. */
typedef struct cn_wl_history {
    char *name;
    char *hash;
    int64_t revision;
} cn_wl_history;
int cn_wl_history_sync(cn_client *c, const json_t *owner, const char *api_version,
                       const char *kind, const json_t *revisions, const char *hash_label,
                       const char *const *in_use, cn_wl_history *out, cn_err *err);
void cn_wl_history_release(cn_wl_history *h);

#endif
