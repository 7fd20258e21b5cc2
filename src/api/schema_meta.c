/* schema tables: meta/v1 (ObjectMeta, LabelSelector, DeleteOptions, Status, ...).
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- meta ---- */

MSG_DEF(meta_v1_ObjectMeta, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    F("name", 1, STRING),
    F("generateName", 2, STRING),
    F("namespace", 3, STRING),
    F("selfLink", 4, STRING),
    F("uid", 5, STRING),
    F("resourceVersion", 6, STRING),
    F("generation", 7, INT64),
    F("creationTimestamp", 8, TIME),
    F("deletionTimestamp", 9, TIME, OPT),
    F("deletionGracePeriodSeconds", 10, INT64, OPT),
    F("labels", 11, MAP, ELEM(STRING)),
    F("annotations", 12, MAP, ELEM(STRING)),
    F("ownerReferences", 13, MESSAGE, REP, MSG(meta_v1_OwnerReference), MERGE("uid")),
    F("finalizers", 14, STRING, REP, MERGE(NULL)),
    F("managedFields", 17, MESSAGE, REP, MSG(meta_v1_ManagedFieldsEntry)))

MSG_DEF(meta_v1_OwnerReference, "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    F("kind", 1, STRING),
    F("name", 3, STRING),
    F("uid", 4, STRING),
    F("apiVersion", 5, STRING),
    F("controller", 6, BOOL, OPT),
    F("blockOwnerDeletion", 7, BOOL, OPT))

MSG_DEF(meta_v1_ManagedFieldsEntry, "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    F("manager", 1, STRING),
    F("operation", 2, STRING),
    F("apiVersion", 3, STRING),
    F("time", 4, TIME, OPT),
    F("fieldsType", 6, STRING),
    F("fieldsV1", 7, RAW, OPT),
    F("subresource", 8, STRING))

MSG_DEF(meta_v1_LabelSelector, "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    F("matchLabels", 1, MAP, ELEM(STRING)),
    F("matchExpressions", 2, MESSAGE, REP, MSG(meta_v1_LabelSelectorRequirement)))

MSG_DEF(meta_v1_LabelSelectorRequirement, "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    F("key", 1, STRING),
    F("operator", 2, STRING),
    F("values", 3, STRING, REP))

MSG_DEF(meta_v1_Condition, "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("observedGeneration", 3, INT64),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(meta_v1_DeleteOptions, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("gracePeriodSeconds", 1, INT64, OPT),
    F("preconditions", 2, MESSAGE, MSG(meta_v1_Preconditions), OPT),
    F("orphanDependents", 3, BOOL, OPT),
    F("propagationPolicy", 4, STRING, OPT),
    F("dryRun", 5, STRING, REP),
    F("ignoreStoreReadErrorWithClusterBreakingPotential", 6, BOOL, OPT))

MSG_DEF(meta_v1_Preconditions, "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    F("uid", 1, STRING, OPT),
    F("resourceVersion", 2, STRING, OPT))

MSG_DEF(meta_v1_FieldSelectorRequirement, "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
    F("key", 1, STRING),
    F("operator", 2, STRING),
    F("values", 3, STRING, REP))

MSG_DEF(meta_v1_Status, "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ListMeta)),
    F("status", 2, STRING),
    F("message", 3, STRING),
    F("reason", 4, STRING),
    F("details", 5, MESSAGE, MSG(meta_v1_StatusDetails), OPT),
    F("code", 6, INT32))

MSG_DEF(meta_v1_ListMeta, "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    F("selfLink", 1, STRING),
    F("resourceVersion", 2, STRING),
    F("continue", 3, STRING),
    F("remainingItemCount", 4, INT64, OPT))

MSG_DEF(meta_v1_StatusDetails, "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    F("name", 1, STRING),
    F("group", 2, STRING),
    F("kind", 3, STRING),
    F("causes", 4, MESSAGE, REP, MSG(meta_v1_StatusCause)),
    F("retryAfterSeconds", 5, INT32),
    F("uid", 6, STRING))

MSG_DEF(meta_v1_StatusCause, "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    F("reason", 1, STRING),
    F("message", 2, STRING),
    F("field", 3, STRING))
