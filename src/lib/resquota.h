/* resquota: the pure arithmetic behind ResourceQuota and LimitRange, shared
 * by the API server's admission (api/quota.c) and the resource quota
 * controller (ctrl/resourcequota.c) so both count the same way.
 *
 * Quantities are held in milli-units (int64: enough for 9 PB of memory or
 * 9 * 10^12 cores). A "usage" is a JSON object resource name -> integer
 * milli-units, e.g. {"pods": 1000, "requests.cpu": 500, "count/pods": 1000}. */
#ifndef CN_RESQUOTA_H
#define CN_RESQUOTA_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* Quantities are parsed by lib/quantity.h (cn_quantity_milli). */
/* Canonical text: "500m", "2", "1k"; binary suffixes (Ki..Ei) when binary
 * and the value divides exactly. Caller frees. */
char *cn_qty_format(int64_t milli, bool binary);
/* Whether a resource name is counted in bytes (memory, storage). */
bool cn_qty_is_bytes(const char *resource);

/* What obj (of group/plural) charges to a quota of its namespace. New
 * reference. Terminal pods (Succeeded/Failed) charge only count/pods. */
json_t *cn_quota_usage(const char *group, const char *plural, const json_t *obj);

/* Whether a quota's scopes (spec.scopes, spec.scopeSelector) take in obj
 * (of core plural): Terminating / NotTerminating (activeDeadlineSeconds),
 * BestEffort / NotBestEffort (any request or limit), PriorityClass
 * (In, NotIn, Exists, DoesNotExist on priorityClassName). A scoped quota
 * tracks pods only; an unscoped one takes in everything. */
bool cn_quota_scope_matches(const json_t *quota, const char *group, const char *plural, const json_t *obj);

/* Check a create charging delta against one quota's status (hard, used).
 * 0: allowed. 1: the quota does not know its usage yet (status.hard empty
 * while spec.hard tracks something delta charges). -1: exceeded; *msg is
 * upstream's "exceeded quota: NAME, requested: ..., used: ..., limited: ...".
 * Resources of delta the quota does not track are ignored. */
int cn_quota_check(const json_t *quota, const json_t *delta, char **msg);
/* Pods only: when the quota tracks cpu/memory requests or limits, every
 * container must state them. NULL when fine, else "must specify
 * limits.cpu for: c1; ..." (caller frees). */
char *cn_quota_pod_constraints(const json_t *quota, const json_t *pod);
/* status.used += delta for the resources the quota tracks (obj mutated).
 * Returns whether anything changed. */
bool cn_quota_charge(json_t *quota, const json_t *delta);
/* status.hard := spec.hard, status.used := the sum of usages over the
 * resources in spec.hard (missing ones 0). usages: array of usage objects.
 * Returns whether status changed. */
bool cn_quota_set_status(json_t *quota, const json_t *total);
/* Sum b into a (both usage objects). */
void cn_usage_add(json_t *a, const json_t *b);

/* LimitRange defaults on a pod (mutated): every container without a limit
 * or request for a resource a Container limit names gets default /
 * defaultRequest. Returns the "LimitRanger plugin set: ..." annotation
 * text, or NULL when nothing was set (caller frees). */
char *cn_limitrange_apply(const json_t *lr, json_t *pod);
/* min / max / maxLimitRequestRatio of Container and Pod limits for a pod,
 * and of PersistentVolumeClaim limits for a claim (kind "Pod" or
 * "PersistentVolumeClaim"). Appends upstream-worded messages to errs. */
void cn_limitrange_check(const json_t *lr, const char *kind, const json_t *obj, json_t *errs);

#endif
