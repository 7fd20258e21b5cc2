/* resource_builtin: the static table of built-in resources, and the verbs
 * and subresources discovery advertises for every resource. Names, short
 * names, categories and subresource kinds are those upstream serves, so
 * that kubectl's RESTMapper resolves the same words ("po", "deploy",
 * "all") as against a real cluster. */
#include <string.h>

#include "api/resource-internal.h"

static const char *const cat_all[] = { "all", NULL };
static const char *const cat_apiext[] = { "api-extensions", NULL };

#define SN(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Most kinds without a spec/status split have no generation either. */
#define NOGEN CN_RES_NO_SPEC_GENERATION

#define RES(g, v, k, p, s, ns, fl, ...) \
    { .group = (g), .version = (v), .kind = k, .list_kind = k "List", .plural = (p), \
      .singular = (s), .namespaced = (ns), .flags = (fl), __VA_ARGS__ }

const cn_resource cn_builtin_resources[] = {
    /* core/v1 */
    RES("", "v1", "Namespace", "namespaces", "namespace", false, CN_RES_STATUS, .short_names = SN("ns")),
    RES("", "v1", "Pod", "pods", "pod", true,
        CN_RES_STATUS | CN_RES_LOG | CN_RES_BINDING | CN_RES_EVICTION,
        .short_names = SN("po"), .categories = cat_all),
    RES("", "v1", "Service", "services", "service", true, CN_RES_STATUS,
        .short_names = SN("svc"), .categories = cat_all),
    RES("", "v1", "Endpoints", "endpoints", "endpoints", true, NOGEN, .short_names = SN("ep")),
    RES("", "v1", "ConfigMap", "configmaps", "configmap", true, NOGEN, .short_names = SN("cm")),
    RES("", "v1", "Secret", "secrets", "secret", true, NOGEN),
    RES("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, NOGEN,
        .short_names = SN("sa")),
    RES("", "v1", "Node", "nodes", "node", false, CN_RES_STATUS, .short_names = SN("no")),
    RES("", "v1", "Event", "events", "event", true, NOGEN, .short_names = SN("ev")),
    RES("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, CN_RES_STATUS,
        .short_names = SN("pv")),
    RES("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", true,
        CN_RES_STATUS, .short_names = SN("pvc")),
    RES("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, CN_RES_STATUS,
        .short_names = SN("quota")),
    RES("", "v1", "LimitRange", "limitranges", "limitrange", true, NOGEN, .short_names = SN("limits")),

    /* apps/v1 */
    RES("apps", "v1", "Deployment", "deployments", "deployment", true, CN_RES_STATUS | CN_RES_SCALE,
        .short_names = SN("deploy"), .categories = cat_all),
    RES("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, CN_RES_STATUS | CN_RES_SCALE,
        .short_names = SN("rs"), .categories = cat_all),
    RES("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, CN_RES_STATUS,
        .short_names = SN("ds"), .categories = cat_all),
    RES("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, CN_RES_STATUS | CN_RES_SCALE,
        .short_names = SN("sts"), .categories = cat_all),

    /* authentication.k8s.io */
    RES("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview",
        false, CN_RES_CREATE_ONLY | NOGEN),
    RES("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", false,
        CN_RES_CREATE_ONLY | NOGEN),
    RES("authentication.k8s.io", "v1beta1", "SelfSubjectReview", "selfsubjectreviews",
        "selfsubjectreview", false, CN_RES_CREATE_ONLY | NOGEN),

    /* authorization.k8s.io/v1 */
    RES("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
        "selfsubjectaccessreview", false, CN_RES_CREATE_ONLY | NOGEN),
    RES("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
        "selfsubjectrulesreview", false, CN_RES_CREATE_ONLY | NOGEN),
    RES("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews",
        "subjectaccessreview", false, CN_RES_CREATE_ONLY | NOGEN),

    /* batch/v1 */
    RES("batch", "v1", "Job", "jobs", "job", true, CN_RES_STATUS, .categories = cat_all),
    RES("batch", "v1", "CronJob", "cronjobs", "cronjob", true, CN_RES_STATUS,
        .short_names = SN("cj"), .categories = cat_all),

    /* policy/v1 */
    RES("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", true,
        CN_RES_STATUS, .short_names = SN("pdb")),

    /* rbac.authorization.k8s.io/v1 */
    RES("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
        "clusterrolebinding", false, NOGEN),
    RES("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, NOGEN),
    RES("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, NOGEN),
    RES("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, NOGEN),

    /* storage.k8s.io/v1 */
    RES("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, NOGEN,
        .short_names = SN("sc")),

    /* admissionregistration.k8s.io/v1 */
    RES("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies", "validatingadmissionpolicy", false, CN_RES_STATUS,
        .categories = cat_apiext),
    RES("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", false, 0,
        .categories = cat_apiext),

    /* apiextensions.k8s.io/v1 */
    RES("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
        "customresourcedefinition", false, CN_RES_STATUS,
        .short_names = SN("crd", "crds"), .categories = cat_apiext),

    /* coordination.k8s.io/v1 */
    RES("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, NOGEN),

    /* discovery.k8s.io/v1 */
    RES("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, NOGEN),

    /* apps/v1 history (DaemonSets, StatefulSets) */
    RES("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true, NOGEN),

    /* scheduling.k8s.io/v1 */
    RES("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, NOGEN,
        .short_names = SN("pc")),
};

const size_t cn_builtin_count = sizeof cn_builtin_resources / sizeof cn_builtin_resources[0];

static const struct {
    const char *group, *version, *api_version;
} builtin_gvs[] = {
    { "", "v1", "v1" },
    { "apps", "v1", "apps/v1" },
    { "authentication.k8s.io", "v1", "authentication.k8s.io/v1" },
    { "authentication.k8s.io", "v1beta1", "authentication.k8s.io/v1beta1" },
    { "authorization.k8s.io", "v1", "authorization.k8s.io/v1" },
    { "batch", "v1", "batch/v1" },
    { "rbac.authorization.k8s.io", "v1", "rbac.authorization.k8s.io/v1" },
    { "storage.k8s.io", "v1", "storage.k8s.io/v1" },
    { "admissionregistration.k8s.io", "v1", "admissionregistration.k8s.io/v1" },
    { "apiextensions.k8s.io", "v1", "apiextensions.k8s.io/v1" },
    { "coordination.k8s.io", "v1", "coordination.k8s.io/v1" },
    { "discovery.k8s.io", "v1", "discovery.k8s.io/v1" },
    { "policy", "v1", "policy/v1" },
    { "scheduling.k8s.io", "v1", "scheduling.k8s.io/v1" },
    /* Kinds that only appear as subresource bodies. */
    { "autoscaling", "v1", "autoscaling/v1" },
};

const char *cn_builtin_api_version(const char *group, const char *version)
{
    for (size_t i = 0; i < sizeof builtin_gvs / sizeof builtin_gvs[0]; i++)
        if (!strcmp(builtin_gvs[i].group, group) && !strcmp(builtin_gvs[i].version, version))
            return builtin_gvs[i].api_version;
    return NULL;
}

static const char *const verbs_all[] = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL,
};
/* Namespaces are removed one by one (the namespace controller drains them). */
static const char *const verbs_namespace[] = {
    "create", "delete", "get", "list", "patch", "update", "watch", NULL,
};
static const char *const verbs_create[] = { "create", NULL };
static const char *const verbs_get[] = { "get", NULL };
static const char *const verbs_get_create[] = { "create", "get", NULL };
static const char *const verbs_sub[] = { "get", "patch", "update", NULL };

static bool is_core(const cn_resource *res, const char *plural)
{
    return !(res->flags & CN_RES_CUSTOM) && !res->group[0] && !strcmp(res->plural, plural);
}

const char *const *cn_resource_verbs(const cn_resource *res)
{
    if (res->flags & CN_RES_CREATE_ONLY) return verbs_create;
    if (is_core(res, "namespaces")) return verbs_namespace;
    return verbs_all;
}

static void add_sub(cn_subres *out, size_t *n, const char *name, const char *group,
                    const char *version, const char *kind, const char *const *verbs)
{
    if (*n >= CN_MAX_SUBRES) return;
    out[(*n)++] = (cn_subres){ .name = name, .group = group, .version = version,
                               .kind = kind, .verbs = verbs };
}

size_t cn_resource_subresources(const cn_resource *res, cn_subres out[CN_MAX_SUBRES])
{
    size_t n = 0;
    bool pods = is_core(res, "pods");
    /* Alphabetical, as upstream lists them. exec/attach/portforward are
     * advertised so that `kubectl auth can-i create pods/exec` resolves. */
    if (pods) add_sub(out, &n, "attach", NULL, NULL, "PodAttachOptions", verbs_get_create);
    if (res->flags & CN_RES_BINDING) add_sub(out, &n, "binding", NULL, NULL, "Binding", verbs_create);
    if (res->flags & CN_RES_EVICTION) add_sub(out, &n, "eviction", "policy", "v1", "Eviction", verbs_create);
    if (pods) add_sub(out, &n, "exec", NULL, NULL, "PodExecOptions", verbs_get_create);
    if (res->flags & CN_RES_LOG) add_sub(out, &n, "log", NULL, NULL, res->kind, verbs_get);
    if (pods) add_sub(out, &n, "portforward", NULL, NULL, "PodPortForwardOptions", verbs_get_create);
    if (res->flags & CN_RES_SCALE) add_sub(out, &n, "scale", "autoscaling", "v1", "Scale", verbs_sub);
    if (res->flags & CN_RES_STATUS) add_sub(out, &n, "status", NULL, NULL, res->kind, verbs_sub);
    if (is_core(res, "serviceaccounts"))
        add_sub(out, &n, "token", "authentication.k8s.io", "v1", "TokenRequest", verbs_create);
    return n;
}
