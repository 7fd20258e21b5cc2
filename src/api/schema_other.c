/* schema tables: rbac, coordination, discovery, storage, admissionregistration, authentication, authorization.
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- rbac/v1 ---- */

MSG_DEF(rbac_v1_Role, "io.k8s.api.rbac.v1.Role",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("rules", 2, MESSAGE, REP, MSG(rbac_v1_PolicyRule)))

MSG_DEF(rbac_v1_PolicyRule, "io.k8s.api.rbac.v1.PolicyRule",
    F("verbs", 1, STRING, REP),
    F("apiGroups", 2, STRING, REP),
    F("resources", 3, STRING, REP),
    F("resourceNames", 4, STRING, REP),
    F("nonResourceURLs", 5, STRING, REP))

MSG_DEF(rbac_v1_RoleBinding, "io.k8s.api.rbac.v1.RoleBinding",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("subjects", 2, MESSAGE, REP, MSG(rbac_v1_Subject)),
    F("roleRef", 3, MESSAGE, MSG(rbac_v1_RoleRef)))

MSG_DEF(rbac_v1_Subject, "io.k8s.api.rbac.v1.Subject",
    F("kind", 1, STRING),
    F("apiGroup", 2, STRING),
    F("name", 3, STRING),
    F("namespace", 4, STRING))

MSG_DEF(rbac_v1_RoleRef, "io.k8s.api.rbac.v1.RoleRef",
    F("apiGroup", 1, STRING),
    F("kind", 2, STRING),
    F("name", 3, STRING))

MSG_DEF(rbac_v1_ClusterRole, "io.k8s.api.rbac.v1.ClusterRole",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("rules", 2, MESSAGE, REP, MSG(rbac_v1_PolicyRule)),
    F("aggregationRule", 3, MESSAGE, MSG(rbac_v1_AggregationRule), OPT))

MSG_DEF(rbac_v1_AggregationRule, "io.k8s.api.rbac.v1.AggregationRule",
    F("clusterRoleSelectors", 1, MESSAGE, REP, MSG(meta_v1_LabelSelector)))

MSG_DEF(rbac_v1_ClusterRoleBinding, "io.k8s.api.rbac.v1.ClusterRoleBinding",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("subjects", 2, MESSAGE, REP, MSG(rbac_v1_Subject)),
    F("roleRef", 3, MESSAGE, MSG(rbac_v1_RoleRef)))

/* ---- coordination/v1 ---- */

MSG_DEF(coordination_v1_Lease, "io.k8s.api.coordination.v1.Lease",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(coordination_v1_LeaseSpec)))

MSG_DEF(coordination_v1_LeaseSpec, "io.k8s.api.coordination.v1.LeaseSpec",
    F("holderIdentity", 1, STRING, OPT),
    F("leaseDurationSeconds", 2, INT32, OPT),
    F("acquireTime", 3, TIME, MICRO, OPT),
    F("renewTime", 4, TIME, MICRO, OPT),
    F("leaseTransitions", 5, INT32, OPT),
    F("strategy", 6, STRING, OPT),
    F("preferredHolder", 7, STRING, OPT))

/* ---- discovery/v1 ---- */

MSG_DEF(discovery_v1_EndpointSlice, "io.k8s.api.discovery.v1.EndpointSlice",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("endpoints", 2, MESSAGE, REP, MSG(discovery_v1_Endpoint)),
    F("ports", 3, MESSAGE, REP, MSG(discovery_v1_EndpointPort)),
    F("addressType", 4, STRING))

MSG_DEF(discovery_v1_Endpoint, "io.k8s.api.discovery.v1.Endpoint",
    F("addresses", 1, STRING, REP),
    F("conditions", 2, MESSAGE, MSG(discovery_v1_EndpointConditions)),
    F("hostname", 3, STRING, OPT),
    F("targetRef", 4, MESSAGE, MSG(core_v1_ObjectReference), OPT),
    F("deprecatedTopology", 5, MAP, ELEM(STRING)),
    F("nodeName", 6, STRING, OPT),
    F("zone", 7, STRING, OPT),
    F("hints", 8, MESSAGE, MSG(discovery_v1_EndpointHints), OPT))

MSG_DEF(discovery_v1_EndpointConditions, "io.k8s.api.discovery.v1.EndpointConditions",
    F("ready", 1, BOOL, OPT),
    F("serving", 2, BOOL, OPT),
    F("terminating", 3, BOOL, OPT))

MSG_DEF(discovery_v1_EndpointHints, "io.k8s.api.discovery.v1.EndpointHints",
    F("forZones", 1, MESSAGE, REP, MSG(discovery_v1_ForZone)))

MSG_DEF(discovery_v1_ForZone, "io.k8s.api.discovery.v1.ForZone",
    F("name", 1, STRING))

MSG_DEF(discovery_v1_EndpointPort, "io.k8s.api.discovery.v1.EndpointPort",
    F("name", 1, STRING, OPT),
    F("protocol", 2, STRING, OPT),
    F("port", 3, INT32, OPT),
    F("appProtocol", 4, STRING, OPT))

/* ---- storage/v1 ---- */

MSG_DEF(storage_v1_StorageClass, "io.k8s.api.storage.v1.StorageClass",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("provisioner", 2, STRING),
    F("parameters", 3, MAP, ELEM(STRING)),
    F("reclaimPolicy", 4, STRING, OPT),
    F("mountOptions", 5, STRING, REP),
    F("allowVolumeExpansion", 6, BOOL, OPT),
    F("volumeBindingMode", 7, STRING, OPT),
    F("allowedTopologies", 8, MESSAGE, REP, MSG(core_v1_TopologySelectorTerm)))

/* ---- admissionregistration/v1 ---- */

MSG_DEF(admissionregistration_v1_ValidatingAdmissionPolicy, "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(admissionregistration_v1_ValidatingAdmissionPolicySpec)),
    F("status", 3, MESSAGE, MSG(admissionregistration_v1_ValidatingAdmissionPolicyStatus)))

MSG_DEF(admissionregistration_v1_ValidatingAdmissionPolicySpec, "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
    F("paramKind", 1, MESSAGE, MSG(admissionregistration_v1_ParamKind), OPT),
    F("matchConstraints", 2, MESSAGE, MSG(admissionregistration_v1_MatchResources), OPT),
    F("validations", 3, MESSAGE, REP, MSG(admissionregistration_v1_Validation)),
    F("failurePolicy", 4, STRING, OPT),
    F("auditAnnotations", 5, MESSAGE, REP, MSG(admissionregistration_v1_AuditAnnotation)),
    F("matchConditions", 6, MESSAGE, REP, MSG(admissionregistration_v1_MatchCondition), MERGE("name")),
    F("variables", 7, MESSAGE, REP, MSG(admissionregistration_v1_Variable), MERGE("name")))

MSG_DEF(admissionregistration_v1_ParamKind, "io.k8s.api.admissionregistration.v1.ParamKind",
    F("apiVersion", 1, STRING),
    F("kind", 2, STRING))

MSG_DEF(admissionregistration_v1_MatchResources, "io.k8s.api.admissionregistration.v1.MatchResources",
    F("namespaceSelector", 1, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("objectSelector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("resourceRules", 3, MESSAGE, REP, MSG(admissionregistration_v1_NamedRuleWithOperations)),
    F("excludeResourceRules", 4, MESSAGE, REP, MSG(admissionregistration_v1_NamedRuleWithOperations)),
    F("matchPolicy", 7, STRING, OPT))

MSG_DEF(admissionregistration_v1_NamedRuleWithOperations, "io.k8s.api.admissionregistration.v1.NamedRuleWithOperations",
    F("resourceNames", 1, STRING, REP),
    F(NULL, 2, MESSAGE, MSG(admissionregistration_v1_RuleWithOperations), INLINE))

MSG_DEF(admissionregistration_v1_RuleWithOperations, "io.k8s.api.admissionregistration.v1.RuleWithOperations",
    F("operations", 1, STRING, REP),
    F(NULL, 2, MESSAGE, MSG(admissionregistration_v1_Rule), INLINE))

MSG_DEF(admissionregistration_v1_Rule, "io.k8s.api.admissionregistration.v1.Rule",
    F("apiGroups", 1, STRING, REP),
    F("apiVersions", 2, STRING, REP),
    F("resources", 3, STRING, REP),
    F("scope", 4, STRING, OPT))

MSG_DEF(admissionregistration_v1_Validation, "io.k8s.api.admissionregistration.v1.Validation",
    F("expression", 1, STRING),
    F("message", 2, STRING),
    F("reason", 3, STRING, OPT),
    F("messageExpression", 4, STRING))

MSG_DEF(admissionregistration_v1_AuditAnnotation, "io.k8s.api.admissionregistration.v1.AuditAnnotation",
    F("key", 1, STRING),
    F("valueExpression", 2, STRING))

MSG_DEF(admissionregistration_v1_MatchCondition, "io.k8s.api.admissionregistration.v1.MatchCondition",
    F("name", 1, STRING),
    F("expression", 2, STRING))

MSG_DEF(admissionregistration_v1_Variable, "io.k8s.api.admissionregistration.v1.Variable",
    F("name", 1, STRING),
    F("expression", 2, STRING))

MSG_DEF(admissionregistration_v1_ValidatingAdmissionPolicyStatus, "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus",
    F("observedGeneration", 1, INT64),
    F("typeChecking", 2, MESSAGE, MSG(admissionregistration_v1_TypeChecking), OPT),
    F("conditions", 3, MESSAGE, REP, MSG(meta_v1_Condition)))

MSG_DEF(admissionregistration_v1_TypeChecking, "io.k8s.api.admissionregistration.v1.TypeChecking",
    F("expressionWarnings", 1, MESSAGE, REP, MSG(admissionregistration_v1_ExpressionWarning)))

MSG_DEF(admissionregistration_v1_ExpressionWarning, "io.k8s.api.admissionregistration.v1.ExpressionWarning",
    F("fieldRef", 2, STRING),
    F("warning", 3, STRING))

MSG_DEF(admissionregistration_v1_ValidatingAdmissionPolicyBinding, "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(admissionregistration_v1_ValidatingAdmissionPolicyBindingSpec)))

MSG_DEF(admissionregistration_v1_ValidatingAdmissionPolicyBindingSpec, "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec",
    F("policyName", 1, STRING),
    F("paramRef", 2, MESSAGE, MSG(admissionregistration_v1_ParamRef), OPT),
    F("matchResources", 3, MESSAGE, MSG(admissionregistration_v1_MatchResources), OPT),
    F("validationActions", 4, STRING, REP))

MSG_DEF(admissionregistration_v1_ParamRef, "io.k8s.api.admissionregistration.v1.ParamRef",
    F("name", 1, STRING),
    F("namespace", 2, STRING),
    F("selector", 3, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("parameterNotFoundAction", 4, STRING, OPT))

/* ---- authentication/v1 ---- */

MSG_DEF(authentication_v1_TokenRequest, "io.k8s.api.authentication.v1.TokenRequest",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(authentication_v1_TokenRequestSpec)),
    F("status", 3, MESSAGE, MSG(authentication_v1_TokenRequestStatus)))

MSG_DEF(authentication_v1_TokenRequestSpec, "io.k8s.api.authentication.v1.TokenRequestSpec",
    F("audiences", 1, STRING, REP),
    F("boundObjectRef", 3, MESSAGE, MSG(authentication_v1_BoundObjectReference), OPT),
    F("expirationSeconds", 4, INT64, OPT))

MSG_DEF(authentication_v1_BoundObjectReference, "io.k8s.api.authentication.v1.BoundObjectReference",
    F("kind", 1, STRING),
    F("apiVersion", 2, STRING),
    F("name", 3, STRING),
    F("uid", 4, STRING))

MSG_DEF(authentication_v1_TokenRequestStatus, "io.k8s.api.authentication.v1.TokenRequestStatus",
    F("token", 1, STRING),
    F("expirationTimestamp", 2, TIME))

MSG_DEF(authentication_v1_SelfSubjectReview, "io.k8s.api.authentication.v1.SelfSubjectReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("status", 2, MESSAGE, MSG(authentication_v1_SelfSubjectReviewStatus)))

MSG_DEF(authentication_v1_SelfSubjectReviewStatus, "io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
    F("userInfo", 1, MESSAGE, MSG(authentication_v1_UserInfo)))

MSG_DEF(authentication_v1_UserInfo, "io.k8s.api.authentication.v1.UserInfo",
    F("username", 1, STRING),
    F("uid", 2, STRING),
    F("groups", 3, STRING, REP),
    F("extra", 4, MAP, ELEM(RAW), MSG(authentication_v1_ExtraValue)))

MSG_DEF(authentication_v1_ExtraValue, "io.k8s.api.authentication.v1.ExtraValue",
    F("items", 1, STRING, REP))

MSG_DEF(authentication_v1_TokenReview, "io.k8s.api.authentication.v1.TokenReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(authentication_v1_TokenReviewSpec)),
    F("status", 3, MESSAGE, MSG(authentication_v1_TokenReviewStatus)))

MSG_DEF(authentication_v1_TokenReviewSpec, "io.k8s.api.authentication.v1.TokenReviewSpec",
    F("token", 1, STRING),
    F("audiences", 2, STRING, REP))

MSG_DEF(authentication_v1_TokenReviewStatus, "io.k8s.api.authentication.v1.TokenReviewStatus",
    F("authenticated", 1, BOOL),
    F("user", 2, MESSAGE, MSG(authentication_v1_UserInfo)),
    F("error", 3, STRING),
    F("audiences", 4, STRING, REP))

/* ---- authentication/v1beta1 ---- */

MSG_DEF(authentication_v1beta1_SelfSubjectReview, "io.k8s.api.authentication.v1beta1.SelfSubjectReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("status", 2, MESSAGE, MSG(authentication_v1beta1_SelfSubjectReviewStatus)))

MSG_DEF(authentication_v1beta1_SelfSubjectReviewStatus, "io.k8s.api.authentication.v1beta1.SelfSubjectReviewStatus",
    F("userInfo", 1, MESSAGE, MSG(authentication_v1_UserInfo)))

/* ---- authorization/v1 ---- */

MSG_DEF(authorization_v1_SelfSubjectAccessReview, "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(authorization_v1_SelfSubjectAccessReviewSpec)),
    F("status", 3, MESSAGE, MSG(authorization_v1_SubjectAccessReviewStatus)))

MSG_DEF(authorization_v1_SelfSubjectAccessReviewSpec, "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
    F("resourceAttributes", 1, MESSAGE, MSG(authorization_v1_ResourceAttributes), OPT),
    F("nonResourceAttributes", 2, MESSAGE, MSG(authorization_v1_NonResourceAttributes), OPT))

MSG_DEF(authorization_v1_ResourceAttributes, "io.k8s.api.authorization.v1.ResourceAttributes",
    F("namespace", 1, STRING),
    F("verb", 2, STRING),
    F("group", 3, STRING),
    F("version", 4, STRING),
    F("resource", 5, STRING),
    F("subresource", 6, STRING),
    F("name", 7, STRING),
    F("fieldSelector", 8, MESSAGE, MSG(authorization_v1_FieldSelectorAttributes), OPT),
    F("labelSelector", 9, MESSAGE, MSG(authorization_v1_LabelSelectorAttributes), OPT))

MSG_DEF(authorization_v1_FieldSelectorAttributes, "io.k8s.api.authorization.v1.FieldSelectorAttributes",
    F("rawSelector", 1, STRING),
    F("requirements", 2, MESSAGE, REP, MSG(meta_v1_FieldSelectorRequirement)))

MSG_DEF(authorization_v1_LabelSelectorAttributes, "io.k8s.api.authorization.v1.LabelSelectorAttributes",
    F("rawSelector", 1, STRING),
    F("requirements", 2, MESSAGE, REP, MSG(meta_v1_LabelSelectorRequirement)))

MSG_DEF(authorization_v1_NonResourceAttributes, "io.k8s.api.authorization.v1.NonResourceAttributes",
    F("path", 1, STRING),
    F("verb", 2, STRING))

MSG_DEF(authorization_v1_SubjectAccessReviewStatus, "io.k8s.api.authorization.v1.SubjectAccessReviewStatus",
    F("allowed", 1, BOOL),
    F("reason", 2, STRING),
    F("evaluationError", 3, STRING),
    F("denied", 4, BOOL))

MSG_DEF(authorization_v1_SelfSubjectRulesReview, "io.k8s.api.authorization.v1.SelfSubjectRulesReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(authorization_v1_SelfSubjectRulesReviewSpec)),
    F("status", 3, MESSAGE, MSG(authorization_v1_SubjectRulesReviewStatus)))

MSG_DEF(authorization_v1_SelfSubjectRulesReviewSpec, "io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec",
    F("namespace", 1, STRING))

MSG_DEF(authorization_v1_SubjectRulesReviewStatus, "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
    F("resourceRules", 1, MESSAGE, REP, MSG(authorization_v1_ResourceRule)),
    F("nonResourceRules", 2, MESSAGE, REP, MSG(authorization_v1_NonResourceRule)),
    F("incomplete", 3, BOOL),
    F("evaluationError", 4, STRING))

MSG_DEF(authorization_v1_ResourceRule, "io.k8s.api.authorization.v1.ResourceRule",
    F("verbs", 1, STRING, REP),
    F("apiGroups", 2, STRING, REP),
    F("resources", 3, STRING, REP),
    F("resourceNames", 4, STRING, REP))

MSG_DEF(authorization_v1_NonResourceRule, "io.k8s.api.authorization.v1.NonResourceRule",
    F("verbs", 1, STRING, REP),
    F("nonResourceURLs", 2, STRING, REP))

MSG_DEF(authorization_v1_SubjectAccessReview, "io.k8s.api.authorization.v1.SubjectAccessReview",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(authorization_v1_SubjectAccessReviewSpec)),
    F("status", 3, MESSAGE, MSG(authorization_v1_SubjectAccessReviewStatus)))

MSG_DEF(authorization_v1_SubjectAccessReviewSpec, "io.k8s.api.authorization.v1.SubjectAccessReviewSpec",
    F("resourceAttributes", 1, MESSAGE, MSG(authorization_v1_ResourceAttributes), OPT),
    F("nonResourceAttributes", 2, MESSAGE, MSG(authorization_v1_NonResourceAttributes), OPT),
    F("user", 3, STRING),
    F("groups", 4, STRING, REP),
    F("extra", 5, MAP, ELEM(RAW), MSG(authorization_v1_ExtraValue)),
    F("uid", 6, STRING))

MSG_DEF(authorization_v1_ExtraValue, "io.k8s.api.authorization.v1.ExtraValue",
    F("items", 1, STRING, REP))
