/* schema tables: apps/v1, batch/v1, autoscaling/v1, policy/v1.
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- apps/v1 ---- */

MSG_DEF(apps_v1_Deployment, "io.k8s.api.apps.v1.Deployment",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(apps_v1_DeploymentSpec)),
    F("status", 3, MESSAGE, MSG(apps_v1_DeploymentStatus)))

MSG_DEF(apps_v1_DeploymentSpec, "io.k8s.api.apps.v1.DeploymentSpec",
    F("replicas", 1, INT32, OPT),
    F("selector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("template", 3, MESSAGE, MSG(core_v1_PodTemplateSpec)),
    F("strategy", 4, MESSAGE, MSG(apps_v1_DeploymentStrategy), RETAIN(NULL)),
    F("minReadySeconds", 5, INT32),
    F("revisionHistoryLimit", 6, INT32, OPT),
    F("paused", 7, BOOL),
    F("progressDeadlineSeconds", 9, INT32, OPT))

MSG_DEF(apps_v1_DeploymentStrategy, "io.k8s.api.apps.v1.DeploymentStrategy",
    F("type", 1, STRING),
    F("rollingUpdate", 2, MESSAGE, MSG(apps_v1_RollingUpdateDeployment), OPT))

MSG_DEF(apps_v1_RollingUpdateDeployment, "io.k8s.api.apps.v1.RollingUpdateDeployment",
    F("maxUnavailable", 1, INT_OR_STRING, OPT),
    F("maxSurge", 2, INT_OR_STRING, OPT))

MSG_DEF(apps_v1_DeploymentStatus, "io.k8s.api.apps.v1.DeploymentStatus",
    F("observedGeneration", 1, INT64),
    F("replicas", 2, INT32),
    F("updatedReplicas", 3, INT32),
    F("availableReplicas", 4, INT32),
    F("unavailableReplicas", 5, INT32),
    F("conditions", 6, MESSAGE, REP, MSG(apps_v1_DeploymentCondition), MERGE("type")),
    F("readyReplicas", 7, INT32),
    F("collisionCount", 8, INT32, OPT))

MSG_DEF(apps_v1_DeploymentCondition, "io.k8s.api.apps.v1.DeploymentCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("reason", 4, STRING),
    F("message", 5, STRING),
    F("lastUpdateTime", 6, TIME),
    F("lastTransitionTime", 7, TIME))

MSG_DEF(apps_v1_ReplicaSet, "io.k8s.api.apps.v1.ReplicaSet",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(apps_v1_ReplicaSetSpec)),
    F("status", 3, MESSAGE, MSG(apps_v1_ReplicaSetStatus)))

MSG_DEF(apps_v1_ReplicaSetSpec, "io.k8s.api.apps.v1.ReplicaSetSpec",
    F("replicas", 1, INT32, OPT),
    F("selector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("template", 3, MESSAGE, MSG(core_v1_PodTemplateSpec)),
    F("minReadySeconds", 4, INT32))

MSG_DEF(apps_v1_ReplicaSetStatus, "io.k8s.api.apps.v1.ReplicaSetStatus",
    F("replicas", 1, INT32),
    F("fullyLabeledReplicas", 2, INT32),
    F("observedGeneration", 3, INT64),
    F("readyReplicas", 4, INT32),
    F("availableReplicas", 5, INT32),
    F("conditions", 6, MESSAGE, REP, MSG(apps_v1_ReplicaSetCondition), MERGE("type")))

MSG_DEF(apps_v1_ReplicaSetCondition, "io.k8s.api.apps.v1.ReplicaSetCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))

MSG_DEF(apps_v1_DaemonSet, "io.k8s.api.apps.v1.DaemonSet",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(apps_v1_DaemonSetSpec)),
    F("status", 3, MESSAGE, MSG(apps_v1_DaemonSetStatus)))

MSG_DEF(apps_v1_DaemonSetSpec, "io.k8s.api.apps.v1.DaemonSetSpec",
    F("selector", 1, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("template", 2, MESSAGE, MSG(core_v1_PodTemplateSpec)),
    F("updateStrategy", 3, MESSAGE, MSG(apps_v1_DaemonSetUpdateStrategy)),
    F("minReadySeconds", 4, INT32),
    F("revisionHistoryLimit", 6, INT32, OPT))

MSG_DEF(apps_v1_DaemonSetUpdateStrategy, "io.k8s.api.apps.v1.DaemonSetUpdateStrategy",
    F("type", 1, STRING),
    F("rollingUpdate", 2, MESSAGE, MSG(apps_v1_RollingUpdateDaemonSet), OPT))

MSG_DEF(apps_v1_RollingUpdateDaemonSet, "io.k8s.api.apps.v1.RollingUpdateDaemonSet",
    F("maxUnavailable", 1, INT_OR_STRING, OPT),
    F("maxSurge", 2, INT_OR_STRING, OPT))

MSG_DEF(apps_v1_DaemonSetStatus, "io.k8s.api.apps.v1.DaemonSetStatus",
    F("currentNumberScheduled", 1, INT32),
    F("numberMisscheduled", 2, INT32),
    F("desiredNumberScheduled", 3, INT32),
    F("numberReady", 4, INT32),
    F("observedGeneration", 5, INT64),
    F("updatedNumberScheduled", 6, INT32),
    F("numberAvailable", 7, INT32),
    F("numberUnavailable", 8, INT32),
    F("collisionCount", 9, INT32, OPT),
    F("conditions", 10, MESSAGE, REP, MSG(apps_v1_DaemonSetCondition), MERGE("type")))

MSG_DEF(apps_v1_DaemonSetCondition, "io.k8s.api.apps.v1.DaemonSetCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))

MSG_DEF(apps_v1_StatefulSet, "io.k8s.api.apps.v1.StatefulSet",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(apps_v1_StatefulSetSpec)),
    F("status", 3, MESSAGE, MSG(apps_v1_StatefulSetStatus)))

MSG_DEF(apps_v1_StatefulSetSpec, "io.k8s.api.apps.v1.StatefulSetSpec",
    F("replicas", 1, INT32, OPT),
    F("selector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("template", 3, MESSAGE, MSG(core_v1_PodTemplateSpec)),
    F("volumeClaimTemplates", 4, MESSAGE, REP, MSG(core_v1_PersistentVolumeClaim)),
    F("serviceName", 5, STRING),
    F("podManagementPolicy", 6, STRING),
    F("updateStrategy", 7, MESSAGE, MSG(apps_v1_StatefulSetUpdateStrategy)),
    F("revisionHistoryLimit", 8, INT32, OPT),
    F("minReadySeconds", 9, INT32),
    F("persistentVolumeClaimRetentionPolicy", 10, MESSAGE, MSG(apps_v1_StatefulSetPersistentVolumeClaimRetentionPolicy), OPT),
    F("ordinals", 11, MESSAGE, MSG(apps_v1_StatefulSetOrdinals), OPT))

MSG_DEF(apps_v1_StatefulSetUpdateStrategy, "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
    F("type", 1, STRING),
    F("rollingUpdate", 2, MESSAGE, MSG(apps_v1_RollingUpdateStatefulSetStrategy), OPT))

MSG_DEF(apps_v1_RollingUpdateStatefulSetStrategy, "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy",
    F("partition", 1, INT32, OPT),
    F("maxUnavailable", 2, INT_OR_STRING, OPT))

MSG_DEF(apps_v1_StatefulSetPersistentVolumeClaimRetentionPolicy, "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
    F("whenDeleted", 1, STRING),
    F("whenScaled", 2, STRING))

MSG_DEF(apps_v1_StatefulSetOrdinals, "io.k8s.api.apps.v1.StatefulSetOrdinals",
    F("start", 1, INT32))

MSG_DEF(apps_v1_StatefulSetStatus, "io.k8s.api.apps.v1.StatefulSetStatus",
    F("observedGeneration", 1, INT64),
    F("replicas", 2, INT32),
    F("readyReplicas", 3, INT32),
    F("currentReplicas", 4, INT32),
    F("updatedReplicas", 5, INT32),
    F("currentRevision", 6, STRING),
    F("updateRevision", 7, STRING),
    F("collisionCount", 9, INT32, OPT),
    F("conditions", 10, MESSAGE, REP, MSG(apps_v1_StatefulSetCondition), MERGE("type")),
    F("availableReplicas", 11, INT32))

MSG_DEF(apps_v1_StatefulSetCondition, "io.k8s.api.apps.v1.StatefulSetCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))

MSG_DEF(apps_v1_ControllerRevision, "io.k8s.api.apps.v1.ControllerRevision",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("data", 2, RAW),
    F("revision", 3, INT64))

/* ---- batch/v1 ---- */

MSG_DEF(batch_v1_Job, "io.k8s.api.batch.v1.Job",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(batch_v1_JobSpec)),
    F("status", 3, MESSAGE, MSG(batch_v1_JobStatus)))

MSG_DEF(batch_v1_JobSpec, "io.k8s.api.batch.v1.JobSpec",
    F("parallelism", 1, INT32, OPT),
    F("completions", 2, INT32, OPT),
    F("activeDeadlineSeconds", 3, INT64, OPT),
    F("selector", 4, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("manualSelector", 5, BOOL, OPT),
    F("template", 6, MESSAGE, MSG(core_v1_PodTemplateSpec)),
    F("backoffLimit", 7, INT32, OPT),
    F("ttlSecondsAfterFinished", 8, INT32, OPT),
    F("completionMode", 9, STRING, OPT),
    F("suspend", 10, BOOL, OPT),
    F("podFailurePolicy", 11, MESSAGE, MSG(batch_v1_PodFailurePolicy), OPT),
    F("backoffLimitPerIndex", 12, INT32, OPT),
    F("maxFailedIndexes", 13, INT32, OPT),
    F("podReplacementPolicy", 14, STRING, OPT),
    F("managedBy", 15, STRING, OPT),
    F("successPolicy", 16, MESSAGE, MSG(batch_v1_SuccessPolicy), OPT))

MSG_DEF(batch_v1_PodFailurePolicy, "io.k8s.api.batch.v1.PodFailurePolicy",
    F("rules", 1, MESSAGE, REP, MSG(batch_v1_PodFailurePolicyRule)))

MSG_DEF(batch_v1_PodFailurePolicyRule, "io.k8s.api.batch.v1.PodFailurePolicyRule",
    F("action", 1, STRING),
    F("onExitCodes", 2, MESSAGE, MSG(batch_v1_PodFailurePolicyOnExitCodesRequirement), OPT),
    F("onPodConditions", 3, MESSAGE, REP, MSG(batch_v1_PodFailurePolicyOnPodConditionsPattern)))

MSG_DEF(batch_v1_PodFailurePolicyOnExitCodesRequirement, "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
    F("containerName", 1, STRING, OPT),
    F("operator", 2, STRING),
    F("values", 3, INT32, REP))

MSG_DEF(batch_v1_PodFailurePolicyOnPodConditionsPattern, "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
    F("type", 1, STRING),
    F("status", 2, STRING))

MSG_DEF(batch_v1_SuccessPolicy, "io.k8s.api.batch.v1.SuccessPolicy",
    F("rules", 1, MESSAGE, REP, MSG(batch_v1_SuccessPolicyRule)))

MSG_DEF(batch_v1_SuccessPolicyRule, "io.k8s.api.batch.v1.SuccessPolicyRule",
    F("succeededIndexes", 1, STRING, OPT),
    F("succeededCount", 2, INT32, OPT))

MSG_DEF(batch_v1_JobStatus, "io.k8s.api.batch.v1.JobStatus",
    F("conditions", 1, MESSAGE, REP, MSG(batch_v1_JobCondition), MERGE("type")),
    F("startTime", 2, TIME, OPT),
    F("completionTime", 3, TIME, OPT),
    F("active", 4, INT32),
    F("succeeded", 5, INT32),
    F("failed", 6, INT32),
    F("completedIndexes", 7, STRING),
    F("uncountedTerminatedPods", 8, MESSAGE, MSG(batch_v1_UncountedTerminatedPods), OPT),
    F("ready", 9, INT32, OPT),
    F("failedIndexes", 10, STRING, OPT),
    F("terminating", 11, INT32, OPT))

MSG_DEF(batch_v1_JobCondition, "io.k8s.api.batch.v1.JobCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastProbeTime", 3, TIME),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(batch_v1_UncountedTerminatedPods, "io.k8s.api.batch.v1.UncountedTerminatedPods",
    F("succeeded", 1, STRING, REP),
    F("failed", 2, STRING, REP))

MSG_DEF(batch_v1_CronJob, "io.k8s.api.batch.v1.CronJob",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(batch_v1_CronJobSpec)),
    F("status", 3, MESSAGE, MSG(batch_v1_CronJobStatus)))

MSG_DEF(batch_v1_CronJobSpec, "io.k8s.api.batch.v1.CronJobSpec",
    F("schedule", 1, STRING),
    F("startingDeadlineSeconds", 2, INT64, OPT),
    F("concurrencyPolicy", 3, STRING),
    F("suspend", 4, BOOL, OPT),
    F("jobTemplate", 5, MESSAGE, MSG(batch_v1_JobTemplateSpec)),
    F("successfulJobsHistoryLimit", 6, INT32, OPT),
    F("failedJobsHistoryLimit", 7, INT32, OPT),
    F("timeZone", 8, STRING, OPT))

MSG_DEF(batch_v1_JobTemplateSpec, "io.k8s.api.batch.v1.JobTemplateSpec",
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(batch_v1_JobSpec)))

MSG_DEF(batch_v1_CronJobStatus, "io.k8s.api.batch.v1.CronJobStatus",
    F("active", 1, MESSAGE, REP, MSG(core_v1_ObjectReference)),
    F("lastScheduleTime", 4, TIME, OPT),
    F("lastSuccessfulTime", 5, TIME, OPT))

/* ---- autoscaling/v1 ---- */

MSG_DEF(autoscaling_v1_Scale, "io.k8s.api.autoscaling.v1.Scale",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(autoscaling_v1_ScaleSpec)),
    F("status", 3, MESSAGE, MSG(autoscaling_v1_ScaleStatus)))

MSG_DEF(autoscaling_v1_ScaleSpec, "io.k8s.api.autoscaling.v1.ScaleSpec",
    F("replicas", 1, INT32))

MSG_DEF(autoscaling_v1_ScaleStatus, "io.k8s.api.autoscaling.v1.ScaleStatus",
    F("replicas", 1, INT32),
    F("selector", 2, STRING))

MSG_DEF(autoscaling_v1_HorizontalPodAutoscaler, "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(autoscaling_v1_HorizontalPodAutoscalerSpec)),
    F("status", 3, MESSAGE, MSG(autoscaling_v1_HorizontalPodAutoscalerStatus)))

MSG_DEF(autoscaling_v1_HorizontalPodAutoscalerSpec, "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
    F("scaleTargetRef", 1, MESSAGE, MSG(autoscaling_v1_CrossVersionObjectReference)),
    F("minReplicas", 2, INT32, OPT),
    F("maxReplicas", 3, INT32),
    F("targetCPUUtilizationPercentage", 4, INT32, OPT))

MSG_DEF(autoscaling_v1_CrossVersionObjectReference, "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    F("kind", 1, STRING),
    F("name", 2, STRING),
    F("apiVersion", 3, STRING))

MSG_DEF(autoscaling_v1_HorizontalPodAutoscalerStatus, "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus",
    F("observedGeneration", 1, INT64, OPT),
    F("lastScaleTime", 2, TIME, OPT),
    F("currentReplicas", 3, INT32),
    F("desiredReplicas", 4, INT32),
    F("currentCPUUtilizationPercentage", 5, INT32, OPT))

/* ---- policy/v1 ---- */

MSG_DEF(policy_v1_Eviction, "io.k8s.api.policy.v1.Eviction",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("deleteOptions", 2, MESSAGE, MSG(meta_v1_DeleteOptions), OPT))

MSG_DEF(policy_v1_PodDisruptionBudget, "io.k8s.api.policy.v1.PodDisruptionBudget",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(policy_v1_PodDisruptionBudgetSpec)),
    F("status", 3, MESSAGE, MSG(policy_v1_PodDisruptionBudgetStatus)))

MSG_DEF(policy_v1_PodDisruptionBudgetSpec, "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
    F("minAvailable", 1, INT_OR_STRING, OPT),
    F("selector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT, REPLACE(NULL)),
    F("maxUnavailable", 3, INT_OR_STRING, OPT),
    F("unhealthyPodEvictionPolicy", 4, STRING, OPT))

MSG_DEF(policy_v1_PodDisruptionBudgetStatus, "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
    F("observedGeneration", 1, INT64),
    F("disruptedPods", 2, MAP, ELEM(TIME)),
    F("disruptionsAllowed", 3, INT32),
    F("currentHealthy", 4, INT32),
    F("desiredHealthy", 5, INT32),
    F("expectedPods", 6, INT32),
    F("conditions", 7, MESSAGE, REP, MSG(meta_v1_Condition), MERGE("type")))
