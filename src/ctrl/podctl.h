/* podctl: what the workload controllers share (ReplicaSet and Deployment
 * today; DaemonSet, StatefulSet and Job can use it too): pod facts (active,
 * ready, available), pods made from a template with a controlling
 * ownerReference, the deletion ranking of upstream's ActivePodsWithRanks,
 * slow-start batches, adoption and release of children (upstream's
 * ControllerRefManager) and controller expectations.
 *
 * Expectations (upstream's UIDTrackingControllerExpectations): a controller
 * that has just created or deleted children must not act again on its
 * informer's view until the informer has seen those changes, or it would
 * create the same pods twice. It records what it expects per controller
 * key; the pod event handlers tick them off; a key whose expectations are
 * outstanding is not managed (only its status is), unless they are older
 * than five minutes (a lost event must not wedge a controller forever).
 * Expectations live in memory only: after a restart the informers list
 * everything before the first sync, so nothing in flight is lost.
 *
 * Pure functions over jansson objects (no I/O) unless they take a client. */
#ifndef CN_PODCTL_H
#define CN_PODCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "api/selector.h"
#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"

/* ---- expectations ---- */
typedef struct cn_expectations cn_expectations;
cn_expectations *cn_expect_new(void);
void cn_expect_free(cn_expectations *e);
/* Replace key's record: n creations expected, no deletions. */
void cn_expect_creations(cn_expectations *e, const char *key, int n);
/* Replace key's record: these pods ("ns/name") are expected to go. */
void cn_expect_deletions(cn_expectations *e, const char *key, const char *const *pod_keys, size_t n);
void cn_expect_creation_observed(cn_expectations *e, const char *key);
/* Counts once per pod key, however often the pod's deletion is seen. */
void cn_expect_deletion_observed(cn_expectations *e, const char *key, const char *pod_key);
/* True when nothing is outstanding for key (or the record expired). */
bool cn_expect_satisfied(cn_expectations *e, const char *key);
void cn_expect_forget(cn_expectations *e, const char *key);
/* For tests: age every record by ms. */
void cn_expect_age(cn_expectations *e, int64_t ms);

/* ---- pod facts ---- */
/* Not Succeeded/Failed and not being deleted (upstream's IsPodActive). */
bool cn_pod_active(const json_t *pod);
bool cn_pod_ready(const json_t *pod);
/* Ready for at least min_ready_s seconds at now_s (epoch seconds). */
bool cn_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_s);
/* Epoch seconds of the Ready condition's lastTransitionTime, or -1. */
int64_t cn_pod_ready_since(const json_t *pod);

/* ---- children ---- */
/* A controlling ownerReference to owner (controller and blockOwnerDeletion
 * true). New reference. */
json_t *cn_owner_ref(const json_t *owner, const char *api_version, const char *kind);
/* A pod for owner from tmpl (a PodTemplateSpec): template labels,
 * annotations, finalizers and spec; generateName "<owner>-"; the
 * controlling ownerReference. New reference. */
json_t *cn_pod_from_template(const json_t *owner, const char *api_version, const char *kind,
                             const json_t *tmpl);

/* Sorts pods so that the first ones are the best to delete (upstream's
 * ActivePodsWithRanks): unscheduled before scheduled, Pending before
 * Unknown before Running, not ready before ready, more same-node siblings
 * (ranks[i], may be NULL) first, lower pod-deletion-cost first, ready for
 * less time first, more restarts first, newer first. ranks is permuted
 * along with pods. */
void cn_pods_sort_for_deletion(const json_t **pods, int *ranks, size_t n);

/* fn(ud, i) for i in [0, n) on up to `parallel` threads (the calling
 * one included); fn must be thread-safe. Returns how many succeeded (>= 0
 * returns); *first_err (may be NULL) receives one failure's return, or 0. */
int cn_parallel_run(int n, int parallel, int (*fn)(void *ud, int i), void *ud, int *first_err);

/* Upstream's slowStartBatch: call fn for count items in batches of
 * initial, 2*initial, 4*initial, ..., each batch in parallel (up to
 * `parallel` at once, as upstream's goroutines), stopping after the first
 * batch with a failure. Returns the number of successful calls;
 * *first_err (may be NULL) receives a failure's return. */
int cn_slow_start_batch(int count, int initial, int parallel, int (*fn)(void *ud, int i), void *ud,
                        int *first_err);

/* ---- claiming children (ControllerRefManager) ---- */
typedef struct cn_claim {
    cn_client *client;
    const json_t *owner;              /* borrowed; from the informer */
    const char *owner_api_version;    /* "apps/v1" */
    const char *owner_kind;           /* "ReplicaSet" */
    const cn_selector *selector;
    const char *group, *version, *plural;   /* the children's resource */
    int adopt_checked;                /* 0 unchecked, 1 may adopt, -1 may not */
} cn_claim;
/* Decides about one child (an object in owner's namespace):
 *   controlled by owner and matching  -> 1 (claimed);
 *   controlled by owner, not matching -> released (ownerReference patched
 *                                        away), 0; kept (1) while the owner
 *                                        is being deleted;
 *   orphan, matching, neither deleting -> adopted (patched), 1;
 *   otherwise                          -> 0.
 * Before the first adoption the owner is read again from the API (its uid
 * must not have changed, and it must not be deleting), as upstream's
 * RecheckDeletionTimestamp. Children deleted meanwhile count as 0.
 * Negative on an API error (err set). */
int cn_claim_child(cn_claim *cl, const json_t *child, cn_err *err);

/* An index of the pod informer (before it starts): pods without a
 * controlling ownerReference, by namespace, so a controller reads its own
 * pods (the "owner" index) plus candidates for adoption instead of every
 * pod of the namespace. */
#define CN_PODCTL_ORPHANS "podctl-orphans"
void cn_podctl_add_orphan_index(cn_informer *pods);

/* ---- small JSON helpers ---- */
/* Integer at dotted path, or def when absent. */
int64_t cn_json_int_at(const json_t *obj, const char *dotted, int64_t def);
/* metadata.creationTimestamp in epoch seconds (0 when absent). */
int64_t cn_obj_created(const json_t *obj);

#endif
