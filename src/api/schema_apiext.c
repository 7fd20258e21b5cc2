/* schema tables: apiextensions.k8s.io/v1 (CustomResourceDefinition, JSONSchemaProps).
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- ext ---- */

MSG_DEF(apiext_v1_CustomResourceDefinition, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(apiext_v1_CustomResourceDefinitionSpec)),
    F("status", 3, MESSAGE, MSG(apiext_v1_CustomResourceDefinitionStatus)))

MSG_DEF(apiext_v1_CustomResourceDefinitionSpec, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec",
    F("group", 1, STRING),
    F("names", 3, MESSAGE, MSG(apiext_v1_CustomResourceDefinitionNames)),
    F("scope", 4, STRING),
    F("versions", 7, MESSAGE, REP, MSG(apiext_v1_CustomResourceDefinitionVersion)),
    F("conversion", 9, MESSAGE, MSG(apiext_v1_CustomResourceConversion), OPT),
    F("preserveUnknownFields", 10, BOOL))

MSG_DEF(apiext_v1_CustomResourceDefinitionNames, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames",
    F("plural", 1, STRING),
    F("singular", 2, STRING),
    F("shortNames", 3, STRING, REP),
    F("kind", 4, STRING),
    F("listKind", 5, STRING),
    F("categories", 6, STRING, REP))

MSG_DEF(apiext_v1_CustomResourceDefinitionVersion, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion",
    F("name", 1, STRING),
    F("served", 2, BOOL),
    F("storage", 3, BOOL),
    F("schema", 4, MESSAGE, MSG(apiext_v1_CustomResourceValidation), OPT),
    F("subresources", 5, MESSAGE, MSG(apiext_v1_CustomResourceSubresources), OPT),
    F("additionalPrinterColumns", 6, MESSAGE, REP, MSG(apiext_v1_CustomResourceColumnDefinition)),
    F("deprecated", 7, BOOL),
    F("deprecationWarning", 8, STRING, OPT),
    F("selectableFields", 9, MESSAGE, REP, MSG(apiext_v1_SelectableField)))

MSG_DEF(apiext_v1_CustomResourceValidation, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceValidation",
    F("openAPIV3Schema", 1, MESSAGE, MSG(apiext_v1_JSONSchemaProps), OPT))

MSG_DEF(apiext_v1_JSONSchemaProps, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
    F("id", 1, STRING),
    F("$schema", 2, STRING),
    F("$ref", 3, STRING, OPT),
    F("description", 4, STRING),
    F("type", 5, STRING),
    F("format", 6, STRING),
    F("title", 7, STRING),
    F("default", 8, RAW, OPT),
    F("maximum", 9, DOUBLE, OPT),
    F("exclusiveMaximum", 10, BOOL),
    F("minimum", 11, DOUBLE, OPT),
    F("exclusiveMinimum", 12, BOOL),
    F("maxLength", 13, INT64, OPT),
    F("minLength", 14, INT64, OPT),
    F("pattern", 15, STRING),
    F("maxItems", 16, INT64, OPT),
    F("minItems", 17, INT64, OPT),
    F("uniqueItems", 18, BOOL),
    F("multipleOf", 19, DOUBLE, OPT),
    F("enum", 20, RAW, REP),
    F("maxProperties", 21, INT64, OPT),
    F("minProperties", 22, INT64, OPT),
    F("required", 23, STRING, REP),
    F("items", 24, RAW, MSG(apiext_v1_JSONSchemaPropsOrArray), OPT),
    F("allOf", 25, MESSAGE, REP, MSG(apiext_v1_JSONSchemaProps)),
    F("oneOf", 26, MESSAGE, REP, MSG(apiext_v1_JSONSchemaProps)),
    F("anyOf", 27, MESSAGE, REP, MSG(apiext_v1_JSONSchemaProps)),
    F("not", 28, MESSAGE, MSG(apiext_v1_JSONSchemaProps), OPT),
    F("properties", 29, MAP, ELEM(MESSAGE), MSG(apiext_v1_JSONSchemaProps)),
    F("additionalProperties", 30, RAW, MSG(apiext_v1_JSONSchemaPropsOrBool), OPT),
    F("patternProperties", 31, MAP, ELEM(MESSAGE), MSG(apiext_v1_JSONSchemaProps)),
    F("dependencies", 32, MAP, ELEM(RAW), MSG(apiext_v1_JSONSchemaPropsOrStringArray)),
    F("additionalItems", 33, RAW, MSG(apiext_v1_JSONSchemaPropsOrBool), OPT),
    F("definitions", 34, MAP, ELEM(MESSAGE), MSG(apiext_v1_JSONSchemaProps)),
    F("externalDocs", 35, MESSAGE, MSG(apiext_v1_ExternalDocumentation), OPT),
    F("example", 36, RAW, OPT),
    F("nullable", 37, BOOL),
    F("x-kubernetes-preserve-unknown-fields", 38, BOOL, OPT),
    F("x-kubernetes-embedded-resource", 39, BOOL),
    F("x-kubernetes-int-or-string", 40, BOOL),
    F("x-kubernetes-list-map-keys", 41, STRING, REP),
    F("x-kubernetes-list-type", 42, STRING, OPT),
    F("x-kubernetes-map-type", 43, STRING, OPT),
    F("x-kubernetes-validations", 44, MESSAGE, REP, MSG(apiext_v1_ValidationRule), MERGE("rule")))

MSG_DEF(apiext_v1_JSONSchemaPropsOrArray, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    F("schema", 1, MESSAGE, MSG(apiext_v1_JSONSchemaProps), OPT),
    F("jSONSchemas", 2, MESSAGE, REP, MSG(apiext_v1_JSONSchemaProps)))

MSG_DEF(apiext_v1_JSONSchemaPropsOrBool, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    F("allows", 1, BOOL),
    F("schema", 2, MESSAGE, MSG(apiext_v1_JSONSchemaProps), OPT))

MSG_DEF(apiext_v1_JSONSchemaPropsOrStringArray, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
    F("schema", 1, MESSAGE, MSG(apiext_v1_JSONSchemaProps), OPT),
    F("property", 2, STRING, REP))

MSG_DEF(apiext_v1_ExternalDocumentation, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ExternalDocumentation",
    F("description", 1, STRING),
    F("url", 2, STRING))

MSG_DEF(apiext_v1_ValidationRule, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule",
    F("rule", 1, STRING),
    F("message", 2, STRING),
    F("messageExpression", 3, STRING),
    F("reason", 4, STRING, OPT),
    F("fieldPath", 5, STRING),
    F("optionalOldSelf", 6, BOOL, OPT))

MSG_DEF(apiext_v1_CustomResourceSubresources, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresources",
    F("status", 1, MESSAGE, MSG(apiext_v1_CustomResourceSubresourceStatus), OPT),
    F("scale", 2, MESSAGE, MSG(apiext_v1_CustomResourceSubresourceScale), OPT))

MSG_EMPTY(apiext_v1_CustomResourceSubresourceStatus, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus")

MSG_DEF(apiext_v1_CustomResourceSubresourceScale, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceScale",
    F("specReplicasPath", 1, STRING),
    F("statusReplicasPath", 2, STRING),
    F("labelSelectorPath", 3, STRING, OPT))

MSG_DEF(apiext_v1_CustomResourceColumnDefinition, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceColumnDefinition",
    F("name", 1, STRING),
    F("type", 2, STRING),
    F("format", 3, STRING),
    F("description", 4, STRING),
    F("priority", 5, INT32),
    F("jsonPath", 6, STRING))

MSG_DEF(apiext_v1_SelectableField, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.SelectableField",
    F("jsonPath", 1, STRING))

MSG_DEF(apiext_v1_CustomResourceConversion, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceConversion",
    F("strategy", 1, STRING),
    F("webhook", 2, MESSAGE, MSG(apiext_v1_WebhookConversion), OPT))

MSG_DEF(apiext_v1_WebhookConversion, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion",
    F("clientConfig", 2, MESSAGE, MSG(apiext_v1_WebhookClientConfig), OPT),
    F("conversionReviewVersions", 3, STRING, REP))

MSG_DEF(apiext_v1_WebhookClientConfig, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookClientConfig",
    F("service", 1, MESSAGE, MSG(apiext_v1_ServiceReference), OPT),
    F("caBundle", 2, BYTES),
    F("url", 3, STRING, OPT))

MSG_DEF(apiext_v1_ServiceReference, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ServiceReference",
    F("namespace", 1, STRING),
    F("name", 2, STRING),
    F("path", 3, STRING, OPT),
    F("port", 4, INT32, OPT))

MSG_DEF(apiext_v1_CustomResourceDefinitionStatus, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus",
    F("conditions", 1, MESSAGE, REP, MSG(apiext_v1_CustomResourceDefinitionCondition)),
    F("acceptedNames", 2, MESSAGE, MSG(apiext_v1_CustomResourceDefinitionNames)),
    F("storedVersions", 3, STRING, REP))

MSG_DEF(apiext_v1_CustomResourceDefinitionCondition, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))
