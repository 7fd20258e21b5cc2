/* fuzz_validate: defaulting, validation (create and update), strict
 * unknown-field detection and pruning over arbitrary JSON objects, for a
 * list of built-in kinds and two custom resources: one with a fixed schema
 * and one whose schema is the input's own "x-schema" member (so schemas are
 * fuzzed too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

#define RES(g, k, ns) { .group = g, .version = "v1", .kind = k, .namespaced = ns }

static const cn_resource builtins[] = {
    RES("", "Pod", true), RES("", "Service", true), RES("", "ConfigMap", true),
    RES("", "Secret", true), RES("", "Namespace", false), RES("", "PersistentVolumeClaim", true),
    RES("", "PersistentVolume", false), RES("", "Node", false), RES("", "LimitRange", true),
    RES("", "ResourceQuota", true), RES("", "Binding", true),
    RES("apps", "Deployment", true), RES("apps", "StatefulSet", true), RES("apps", "DaemonSet", true),
    RES("apps", "ReplicaSet", true), RES("batch", "Job", true), RES("batch", "CronJob", true),
    RES("rbac.authorization.k8s.io", "Role", true), RES("rbac.authorization.k8s.io", "RoleBinding", true),
    RES("rbac.authorization.k8s.io", "ClusterRoleBinding", false),
    RES("discovery.k8s.io", "EndpointSlice", true), RES("storage.k8s.io", "StorageClass", false),
    RES("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", false),
    RES("apiextensions.k8s.io", "CustomResourceDefinition", false),
};

static const char fixed_version[] =
    "{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
    "\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"size\"],\"properties\":{"
    "\"replicas\":{\"type\":\"integer\",\"minimum\":0,\"default\":1},\"size\":{\"type\":\"string\",\"enum\":[\"S\",\"M\"]},"
    "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]\\\\w*$\",\"maxLength\":8},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"x-kubernetes-list-type\":\"set\"},"
    "\"port\":{\"x-kubernetes-int-or-string\":true},\"free\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},"
    "\"m\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"number\",\"maximum\":5}}}},"
    "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}";

static void exercise(const cn_resource *res, const json_t *input)
{
    json_t *obj = json_deep_copy(input), *old = json_deep_copy(input), *unknown = NULL;
    cn_err err = CN_ERR_INIT;
    if (cn_unknown_fields(res, obj, &unknown) == 0) json_decref(unknown);
    cn_prune_custom(res, obj);
    cn_defaults_apply(res, obj);
    cn_defaults_apply(res, old);
    cn_validate(res, obj, NULL, &err);
    cn_err_clear(&err);
    cn_validate(res, obj, old, &err);
    cn_err_clear(&err);
    json_decref(obj);
    json_decref(old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!in) return 0;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) exercise(&builtins[i], in);

    json_t *fixed = json_loads(fixed_version, 0, NULL);
    cn_resource custom = RES("example.com", "Widget", true);
    custom.flags = CN_RES_CUSTOM;
    custom.crd_version = fixed;
    exercise(&custom, in);
    json_decref(fixed);

    json_t *schema = json_object_get(in, "x-schema");
    if (schema) {
        json_t *ver = json_pack("{s:{s:O}}", "schema", "openAPIV3Schema", schema);
        custom.crd_version = ver;
        exercise(&custom, in);
        json_decref(ver);
    }
    json_decref(in);
    return 0;
}
