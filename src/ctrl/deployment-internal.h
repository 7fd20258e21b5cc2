/* deployment-internal: the Deployment controller's decision logic as pure
 * functions over jansson objects (deployment_util.c), shared by the
 * controller (deployment.c) and its unit tests. The arithmetic follows
 * upstream's pkg/controller/deployment (rolling.go, sync.go, recreate.go,
 * progress.go and util/deployment_util.go): the same fenceposts, the same
 * proportional scaling, the same conditions and reasons, so `kubectl
 * rollout` sees what it expects. */
#ifndef CN_DEPLOYMENT_INTERNAL_H
#define CN_DEPLOYMENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CN_DEP_HASH_LABEL "pod-template-hash"
#define CN_DEP_REVISION "deployment.kubernetes.io/revision"
#define CN_DEP_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define CN_DEP_DESIRED "deployment.kubernetes.io/desired-replicas"
#define CN_DEP_MAX "deployment.kubernetes.io/max-replicas"

/* Condition reasons (upstream's deploymentutil). */
#define CN_DEP_NEW_RS_CREATED "NewReplicaSetCreated"
#define CN_DEP_FOUND_NEW_RS "FoundNewReplicaSet"
#define CN_DEP_RS_UPDATED "ReplicaSetUpdated"
#define CN_DEP_NEW_RS_AVAILABLE "NewReplicaSetAvailable"
#define CN_DEP_TIMED_OUT "ProgressDeadlineExceeded"
#define CN_DEP_PAUSED "DeploymentPaused"
#define CN_DEP_RESUMED "DeploymentResumed"
#define CN_DEP_FAILED_RS_CREATE "ReplicaSetCreateError"
#define CN_DEP_MIN_AVAILABLE "MinimumReplicasAvailable"
#define CN_DEP_MIN_UNAVAILABLE "MinimumReplicasUnavailable"

/* The template hash: FNV-1a (32 bits) of the canonical JSON of tmpl, then
 * of collision_count (when >= 0), written with upstream's safe alphabet
 * (no vowels, no 0/1/3) so names never spell words. out: 16 bytes. */
void cn_dep_hash(const json_t *tmpl, int64_t collision_count, char out[16]);
/* Two pod templates equal once their pod-template-hash labels are gone. */
bool cn_dep_equal_ignore_hash(const json_t *a, const json_t *b);

/* An IntOrString (nil, int, "N%") scaled against total; percents round up
 * or down. Junk counts as 0. */
int64_t cn_dep_scaled(const json_t *v, int64_t total, bool round_up);
bool cn_dep_is_rolling(const json_t *d);
int64_t cn_dep_replicas(const json_t *d);              /* spec.replicas (default 1) */
/* upstream's ResolveFenceposts: surge rounds up, unavailable down; both 0
 * becomes unavailable 1. */
void cn_dep_fenceposts(const json_t *d, int64_t *surge, int64_t *unavailable);
int64_t cn_dep_max_surge(const json_t *d);             /* 0 unless rolling */
int64_t cn_dep_max_unavailable(const json_t *d);       /* 0 unless rolling; <= replicas */

/* Annotation helpers. */
int64_t cn_dep_revision(const json_t *obj);            /* 0 when absent or junk */
const char *cn_dep_annotation(const json_t *obj, const char *key);   /* NULL when absent */
/* Sets desired/max replicas annotations on rs (modified in place); true if
 * they changed. */
bool cn_dep_set_replicas_annotations(json_t *rs, int64_t desired, int64_t max);
bool cn_dep_replicas_annotations_differ(const json_t *rs, int64_t desired, int64_t max);
/* upstream's SetNewReplicaSetAnnotations: copies d's annotations (but the
 * skipped ones), raises the revision to new_revision, and for a new RS sets
 * the replicas annotations. true if rs changed. */
bool cn_dep_set_new_rs_annotations(const json_t *d, json_t *rs, int64_t new_revision, bool exists);
/* Sets d's revision annotation (d modified); true if changed. */
bool cn_dep_set_revision(json_t *d, int64_t revision);

/* One ReplicaSet as the planner sees it. */
typedef struct cn_rsv {
    json_t *rs;              /* owned */
    int64_t replicas;        /* planned spec.replicas */
    int64_t orig;            /* spec.replicas as read */
    int64_t status_replicas, ready, available;
    int64_t created, revision;
    bool touch;              /* write the replicas annotations even at the same size */
} cn_rsv;

/* Fills v from rs (a new reference is taken). */
void cn_rsv_init(cn_rsv *v, const json_t *rs);
void cn_rsv_release(cn_rsv *v);

/* A Deployment's ReplicaSets split as upstream: new (may be NULL) and all
 * old ones (older revisions, any size). */
typedef struct cn_dep_plan {
    const json_t *d;
    cn_rsv *new_rs;
    cn_rsv **old;
    size_t nold;
} cn_dep_plan;

/* What a new RS should have (rolling: bounded by surge; recreate: all). */
int64_t cn_dep_new_rs_replicas(const cn_dep_plan *p);
/* One rolling step (rolling.go). Each changes planned sizes only; true
 * when something was scaled. */
bool cn_dep_reconcile_new(cn_dep_plan *p);
bool cn_dep_reconcile_old(cn_dep_plan *p);
/* A replicas change not caused by a template change (sync.go's
 * isScalingEvent): an active RS's desired-replicas annotation differs. */
bool cn_dep_is_scaling_event(const cn_dep_plan *p);
/* sync.go's scale(): the active or latest RS takes all; or proportional
 * scaling across active RSs of a rolling deployment. Marks every touched
 * RS (touch) so annotations follow. */
void cn_dep_scale(cn_dep_plan *p);

/* Statuses and conditions. now: epoch seconds. */
/* A new status from the RS counts, d's conditions and Available. New ref. */
json_t *cn_dep_calc_status(const cn_dep_plan *p, int64_t now);
const json_t *cn_dep_cond(const json_t *status, const char *type);
/* Sets (or replaces) a condition; lastTransitionTime kept when status is
 * unchanged (upstream's SetDeploymentCondition). */
void cn_dep_set_cond(json_t *status, const char *type, const char *cstatus, const char *reason,
                     const char *message, int64_t now);
void cn_dep_remove_cond(json_t *status, const char *type);
bool cn_dep_has_deadline(const json_t *d);
bool cn_dep_complete(const json_t *d, const json_t *status);
bool cn_dep_progressing(const json_t *d, const json_t *status);
bool cn_dep_timed_out(const json_t *d, const json_t *status, int64_t now);
/* syncRolloutStatus's condition step: Progressing per the above. */
void cn_dep_rollout_conditions(const cn_dep_plan *p, json_t *status, int64_t now);
/* Seconds until the progress deadline of a rollout still in progress
 * should be checked again, or -1 (requeueStuckDeployment). */
int64_t cn_dep_requeue_after(const json_t *d, const json_t *status, int64_t now);
/* Old RSs to delete beyond revisionHistoryLimit (cleanupDeployment):
 * indexes into p->old, written to out (capacity p->nold); returns count. */
size_t cn_dep_cleanup(const cn_dep_plan *p, size_t *out);

#endif
