/* schema: lookups over the built-in type tables (schema_*.c) and the map
 * from group/version/kind to the top-level message. */
#include <string.h>

#include "api/schema-internal.h"

typedef struct kind_entry {
    const char *group;
    const char *version;
    const char *kind;
    const cn_message *msg;
} kind_entry;

static const kind_entry kinds[] = {
    { "", "v1", "Namespace", &cn_sm_core_v1_Namespace },
    { "", "v1", "Pod", &cn_sm_core_v1_Pod },
    { "", "v1", "Service", &cn_sm_core_v1_Service },
    { "", "v1", "Endpoints", &cn_sm_core_v1_Endpoints },
    { "", "v1", "ConfigMap", &cn_sm_core_v1_ConfigMap },
    { "", "v1", "Secret", &cn_sm_core_v1_Secret },
    { "", "v1", "ServiceAccount", &cn_sm_core_v1_ServiceAccount },
    { "", "v1", "Node", &cn_sm_core_v1_Node },
    { "", "v1", "Event", &cn_sm_core_v1_Event },
    { "", "v1", "PersistentVolume", &cn_sm_core_v1_PersistentVolume },
    { "", "v1", "PersistentVolumeClaim", &cn_sm_core_v1_PersistentVolumeClaim },
    { "", "v1", "ResourceQuota", &cn_sm_core_v1_ResourceQuota },
    { "", "v1", "LimitRange", &cn_sm_core_v1_LimitRange },
    { "", "v1", "Binding", &cn_sm_core_v1_Binding },
    { "", "v1", "PodTemplate", &cn_sm_core_v1_PodTemplate },
    { "", "v1", "ReplicationController", &cn_sm_core_v1_ReplicationController },
    /* kubectl drain sends DeleteOptions under the group of the resource. */
    { "", "v1", "DeleteOptions", &cn_sm_meta_v1_DeleteOptions },
    { "meta.k8s.io", "v1", "DeleteOptions", &cn_sm_meta_v1_DeleteOptions },
    { "", "v1", "Status", &cn_sm_meta_v1_Status },
    { "apps", "v1", "Deployment", &cn_sm_apps_v1_Deployment },
    { "apps", "v1", "ReplicaSet", &cn_sm_apps_v1_ReplicaSet },
    { "apps", "v1", "DaemonSet", &cn_sm_apps_v1_DaemonSet },
    { "apps", "v1", "StatefulSet", &cn_sm_apps_v1_StatefulSet },
    { "apps", "v1", "ControllerRevision", &cn_sm_apps_v1_ControllerRevision },
    { "batch", "v1", "Job", &cn_sm_batch_v1_Job },
    { "batch", "v1", "CronJob", &cn_sm_batch_v1_CronJob },
    { "autoscaling", "v1", "Scale", &cn_sm_autoscaling_v1_Scale },
    { "autoscaling", "v1", "HorizontalPodAutoscaler", &cn_sm_autoscaling_v1_HorizontalPodAutoscaler },
    { "autoscaling", "v2", "HorizontalPodAutoscaler", &cn_sm_autoscaling_v2_HorizontalPodAutoscaler },
    { "policy", "v1", "Eviction", &cn_sm_policy_v1_Eviction },
    { "policy", "v1", "PodDisruptionBudget", &cn_sm_policy_v1_PodDisruptionBudget },
    { "scheduling.k8s.io", "v1", "PriorityClass", &cn_sm_scheduling_v1_PriorityClass },
    { "networking.k8s.io", "v1", "Ingress", &cn_sm_networking_v1_Ingress },
    { "networking.k8s.io", "v1", "IngressClass", &cn_sm_networking_v1_IngressClass },
    { "networking.k8s.io", "v1", "NetworkPolicy", &cn_sm_networking_v1_NetworkPolicy },
    { "certificates.k8s.io", "v1", "CertificateSigningRequest", &cn_sm_certificates_v1_CertificateSigningRequest },
    { "coordination.k8s.io", "v1", "Lease", &cn_sm_coordination_v1_Lease },
    { "discovery.k8s.io", "v1", "EndpointSlice", &cn_sm_discovery_v1_EndpointSlice },
    { "storage.k8s.io", "v1", "StorageClass", &cn_sm_storage_v1_StorageClass },
    { "rbac.authorization.k8s.io", "v1", "Role", &cn_sm_rbac_v1_Role },
    { "rbac.authorization.k8s.io", "v1", "RoleBinding", &cn_sm_rbac_v1_RoleBinding },
    { "rbac.authorization.k8s.io", "v1", "ClusterRole", &cn_sm_rbac_v1_ClusterRole },
    { "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", &cn_sm_rbac_v1_ClusterRoleBinding },
    { "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy",
      &cn_sm_admissionregistration_v1_ValidatingAdmissionPolicy },
    { "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding",
      &cn_sm_admissionregistration_v1_ValidatingAdmissionPolicyBinding },
    { "apiextensions.k8s.io", "v1", "CustomResourceDefinition", &cn_sm_apiext_v1_CustomResourceDefinition },
    { "authentication.k8s.io", "v1", "TokenRequest", &cn_sm_authentication_v1_TokenRequest },
    { "authentication.k8s.io", "v1", "SelfSubjectReview", &cn_sm_authentication_v1_SelfSubjectReview },
    { "authentication.k8s.io", "v1", "TokenReview", &cn_sm_authentication_v1_TokenReview },
    { "authentication.k8s.io", "v1beta1", "SelfSubjectReview", &cn_sm_authentication_v1beta1_SelfSubjectReview },
    { "authorization.k8s.io", "v1", "SelfSubjectAccessReview", &cn_sm_authorization_v1_SelfSubjectAccessReview },
    { "authorization.k8s.io", "v1", "SelfSubjectRulesReview", &cn_sm_authorization_v1_SelfSubjectRulesReview },
    { "authorization.k8s.io", "v1", "SubjectAccessReview", &cn_sm_authorization_v1_SubjectAccessReview },
};

const cn_message *cn_schema_for_kind(const char *group, const char *version, const char *kind)
{
    if (!version || !kind) return NULL;
    if (!group) group = "";
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const kind_entry *k = &kinds[i];
        if (!strcmp(k->kind, kind) && !strcmp(k->version, version) && !strcmp(k->group, group))
            return k->msg;
    }
    return NULL;
}

/* Inlined members nest at most a couple of levels; the bound only guards
 * against a table mistake. */
static const cn_field *field_named(const cn_message *m, const char *name, int depth)
{
    if (!m || depth > 4) return NULL;
    for (size_t i = 0; i < m->nfields; i++) {
        const cn_field *f = &m->fields[i];
        if (f->inlined) {
            const cn_field *g = field_named(f->msg, name, depth + 1);
            if (g) return g;
        } else if (f->name && !strcmp(f->name, name)) {
            return f;
        }
    }
    return NULL;
}

const cn_field *cn_schema_field(const cn_message *m, const char *json_name)
{
    if (!json_name) return NULL;
    return field_named(m, json_name, 0);
}

const cn_field *cn_schema_field_by_number(const cn_message *m, int number)
{
    if (!m || number <= 0) return NULL;
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].number == number) return &m->fields[i];
    return NULL;
}

const cn_message *cn_schema_object_meta(void)
{
    return &cn_sm_meta_v1_ObjectMeta;
}

const cn_message *cn_schema_delete_options(void)
{
    return &cn_sm_meta_v1_DeleteOptions;
}

/* For tests and tools: the kind table, one entry at a time. */
size_t cn_schema_nkinds(void)
{
    return sizeof kinds / sizeof kinds[0];
}

const cn_message *cn_schema_kind_at(size_t i, const char **group, const char **version, const char **kind)
{
    if (i >= sizeof kinds / sizeof kinds[0]) return NULL;
    if (group) *group = kinds[i].group;
    if (version) *version = kinds[i].version;
    if (kind) *kind = kinds[i].kind;
    return kinds[i].msg;
}
