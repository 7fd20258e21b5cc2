/* statefulset: the StatefulSet controller (apps/v1) — pods with stable
 * names <set>-<ordinal>, hostnames and storage.
 *
 * Each pod is named <set>-<ordinal>, gets hostname = its name and
 * subdomain = spec.serviceName, the labels statefulset.kubernetes.io/pod-name
 * and apps.kubernetes.io/pod-index, and for every volumeClaimTemplate a
 * PersistentVolumeClaim <claim>-<set>-<ordinal> (created before the pod,
 * kept on scale-down and deletion unless persistentVolumeClaimRetentionPolicy
 * says Delete). OrderedReady creates ordinal N+1 only once N is Running and
 * Ready and removes the highest ordinal first, one at a time; Parallel does
 * both at once. RollingUpdate replaces pods from the highest ordinal down
 * to spec.updateStrategy.rollingUpdate.partition, one at a time, each
 * waiting for the previous to be Ready; OnDelete leaves it to the user.
 * Templates are kept as ControllerRevisions (status.currentRevision /
 * updateRevision; pods carry controller-revision-hash = the revision's
 * name), so `kubectl rollout status|history|undo sts` work.
 *
 * The decision is cn_sts_plan (pure, unit-tested); the worker applies it. */
#ifndef CN_CTRL_STATEFULSET_H
#define CN_CTRL_STATEFULSET_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_statefulset_controller;

/* The ordinal of pod_name when it is "<set>-<n>", else -1. */
int64_t cn_sts_ordinal(const char *set, const char *pod_name);

typedef struct cn_sts_plan {
    json_t *create;      /* [{ordinal, revision}] pods to create, in order */
    json_t *del;         /* pod names to delete, in order */
    json_t *release;     /* ordinals whose claims go with their pod (whenScaled: Delete) */
    /* status */
    int64_t replicas, ready, available, current, updated;
    const char *current_revision;   /* borrowed from the input */
    int64_t requeue_ms;
} cn_sts_plan;

/* pods: the set's pods (array); cur/upd: current and update revision
 * names (cur may be "" for a new set); now: epoch seconds. */
void cn_sts_plan_compute(const json_t *sts, const json_t *pods, const char *cur, const char *upd,
                         int64_t now, cn_sts_plan *p);
void cn_sts_plan_release(cn_sts_plan *p);

#endif
