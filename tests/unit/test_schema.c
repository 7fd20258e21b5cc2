/* Unit tests for the built-in schema table (src/api/schema*.c): every kind
 * resolves, the tables are self-consistent, and the facts other modules
 * rely on (merge keys, JSON names, pointer fields) are right. */
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"
#include "test.h"

#define MAX_MSGS 1024

static const cn_message *seen[MAX_MSGS];
static size_t nseen;

static void collect(const cn_message *m)
{
    if (!m) return;
    for (size_t i = 0; i < nseen; i++)
        if (seen[i] == m) return;
    CHECK(nseen < MAX_MSGS);
    if (nseen >= MAX_MSGS) return;
    seen[nseen++] = m;
    for (size_t i = 0; i < m->nfields; i++) collect(m->fields[i].msg);
}

/* JSON names visible at the level of m (inlined members flattened). */
static size_t names_of(const cn_message *m, const char **out, size_t n, size_t cap)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const cn_field *f = &m->fields[i];
        if (f->inlined) n = names_of(f->msg, out, n, cap);
        else if (n < cap) out[n++] = f->name;
    }
    return n;
}

static void test_kinds(void)
{
    size_t n = cn_schema_nkinds();
    CHECK(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const char *g, *v, *k;
        const cn_message *m = cn_schema_kind_at(i, &g, &v, &k);
        CHECK(m != NULL);
        CHECK(cn_schema_for_kind(g, v, k) == m);
        /* apiVersion and kind are known JSON fields, never wire fields */
        const cn_field *av = cn_schema_field(m, "apiVersion"), *kd = cn_schema_field(m, "kind");
        CHECK(av && av->number == 0 && kd && kd->number == 0);
        if (strcmp(k, "DeleteOptions") != 0)
            CHECK(cn_schema_field(m, "metadata") != NULL);
        collect(m);
    }
    CHECK(cn_schema_kind_at(n, NULL, NULL, NULL) == NULL);
    CHECK(cn_schema_for_kind("apps", "v1", "Nope") == NULL);
    CHECK(cn_schema_for_kind("example.com", "v1", "Widget") == NULL);
    CHECK(cn_schema_for_kind(NULL, "v1", "ConfigMap") != NULL);
    CHECK(cn_schema_for_kind("meta.k8s.io", "v1", "DeleteOptions") == cn_schema_delete_options());
    CHECK(cn_schema_for_kind("", "v1", "DeleteOptions") == cn_schema_delete_options());
    const char *need[][3] = {
        { "", "v1", "Namespace" }, { "", "v1", "Pod" }, { "", "v1", "Service" }, { "", "v1", "Endpoints" },
        { "", "v1", "ConfigMap" }, { "", "v1", "Secret" }, { "", "v1", "ServiceAccount" }, { "", "v1", "Node" },
        { "", "v1", "Event" }, { "", "v1", "PersistentVolume" }, { "", "v1", "PersistentVolumeClaim" },
        { "", "v1", "ResourceQuota" }, { "", "v1", "LimitRange" }, { "", "v1", "Binding" },
        { "apps", "v1", "Deployment" }, { "apps", "v1", "ReplicaSet" }, { "apps", "v1", "DaemonSet" },
        { "apps", "v1", "StatefulSet" }, { "batch", "v1", "Job" }, { "batch", "v1", "CronJob" },
        { "autoscaling", "v1", "Scale" }, { "policy", "v1", "Eviction" }, { "coordination.k8s.io", "v1", "Lease" },
        { "discovery.k8s.io", "v1", "EndpointSlice" }, { "storage.k8s.io", "v1", "StorageClass" },
        { "rbac.authorization.k8s.io", "v1", "Role" }, { "rbac.authorization.k8s.io", "v1", "RoleBinding" },
        { "rbac.authorization.k8s.io", "v1", "ClusterRole" },
        { "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding" },
        { "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy" },
        { "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding" },
        { "apiextensions.k8s.io", "v1", "CustomResourceDefinition" },
        { "authentication.k8s.io", "v1", "TokenRequest" }, { "authentication.k8s.io", "v1", "SelfSubjectReview" },
        { "authentication.k8s.io", "v1", "TokenReview" }, { "authentication.k8s.io", "v1beta1", "SelfSubjectReview" },
        { "authorization.k8s.io", "v1", "SelfSubjectAccessReview" },
        { "authorization.k8s.io", "v1", "SelfSubjectRulesReview" },
        { "authorization.k8s.io", "v1", "SubjectAccessReview" },
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const cn_message *m = cn_schema_for_kind(need[i][0], need[i][1], need[i][2]);
        CHECK(m != NULL);
        if (!m) fprintf(stderr, "missing kind %s/%s %s\n", need[i][0], need[i][1], need[i][2]);
    }
}

static void test_consistency(void)
{
    CHECK(nseen > 200);
    for (size_t i = 0; i < nseen; i++) {
        const cn_message *m = seen[i];
        CHECK(m->name && *m->name);
        for (size_t a = 0; a < m->nfields; a++) {
            const cn_field *f = &m->fields[a];
            CHECK(f->number >= 0);
            CHECK(f->inlined == (f->name == NULL));
            if (f->inlined) CHECK(f->type == CN_T_MESSAGE && f->msg);
            if (f->type == CN_T_MESSAGE) CHECK(f->msg != NULL);
            if (f->type == CN_T_MAP && f->elem == CN_T_MESSAGE) CHECK(f->msg != NULL);
            if (f->number > 0) CHECK(cn_schema_field_by_number(m, f->number) == f);
            for (size_t b = a + 1; b < m->nfields; b++)
                if (f->number > 0 && m->fields[b].number == f->number) {
                    CHECK(!"duplicate field number");
                    fprintf(stderr, "%s: number %d twice\n", m->name, f->number);
                }
            /* a merge key names a field of the list's element */
            if (f->merge_key) {
                CHECK(f->repeated && f->msg);
                CHECK(cn_schema_field(f->msg, f->merge_key) != NULL);
            }
        }
        const char *names[256];
        size_t n = names_of(m, names, 0, 256);
        for (size_t a = 0; a < n; a++) {
            CHECK(cn_schema_field(m, names[a]) != NULL);
            for (size_t b = a + 1; b < n; b++)
                if (!strcmp(names[a], names[b])) {
                    CHECK(!"duplicate json name");
                    fprintf(stderr, "%s: %s twice\n", m->name, names[a]);
                }
        }
    }
}

static const cn_field *path(const char *g, const char *v, const char *k, const char *const *p)
{
    const cn_message *m = cn_schema_for_kind(g, v, k);
    const cn_field *f = NULL;
    for (; *p; p++) {
        f = cn_schema_field(m, *p);
        if (!f) {
            fprintf(stderr, "no field %s in %s\n", *p, m ? m->name : "(null)");
            return NULL;
        }
        m = f->msg;
    }
    return f;
}

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void check_merge(const cn_field *f, enum cn_patch_strategy s, const char *key)
{
    CHECK(f != NULL);
    if (!f) return;
    CHECK_INT(f->strategy, s);
    if (key) CHECK_STR(f->merge_key, key);
    else CHECK(f->merge_key == NULL);
}

static void test_patch_strategies(void)
{
    const cn_field *f;
    check_merge(path("apps", "v1", "Deployment", P("spec", "template", "spec", "containers")), CN_PS_MERGE, "name");
    check_merge(path("", "v1", "Pod", P("spec", "volumes")), CN_PS_MERGE_RETAIN, "name");
    check_merge(path("", "v1", "Pod", P("spec", "containers", "env")), CN_PS_MERGE, "name");
    check_merge(path("", "v1", "Pod", P("spec", "containers", "ports")), CN_PS_MERGE, "containerPort");
    check_merge(path("", "v1", "Pod", P("spec", "containers", "volumeMounts")), CN_PS_MERGE, "mountPath");
    check_merge(path("", "v1", "Pod", P("spec", "imagePullSecrets")), CN_PS_MERGE, "name");
    check_merge(path("", "v1", "Pod", P("spec", "hostAliases")), CN_PS_MERGE, "ip");
    check_merge(path("", "v1", "Pod", P("spec", "topologySpreadConstraints")), CN_PS_MERGE, "topologyKey");
    check_merge(path("", "v1", "Pod", P("status", "conditions")), CN_PS_MERGE, "type");
    check_merge(path("", "v1", "Service", P("spec", "ports")), CN_PS_MERGE, "port");
    check_merge(path("", "v1", "Node", P("status", "addresses")), CN_PS_MERGE, "type");
    check_merge(path("apps", "v1", "Deployment", P("spec", "strategy")), CN_PS_RETAIN_KEYS, NULL);
    check_merge(path("apps", "v1", "Deployment", P("status", "conditions")), CN_PS_MERGE, "type");
    check_merge(path("", "v1", "ConfigMap", P("metadata", "finalizers")), CN_PS_MERGE, NULL);
    check_merge(path("", "v1", "ConfigMap", P("metadata", "ownerReferences")), CN_PS_MERGE, "uid");
    f = path("", "v1", "Pod", P("spec", "containers", "args"));
    check_merge(f, CN_PS_REPLACE, NULL);
    CHECK(f && f->repeated && f->type == CN_T_STRING);
}

static void test_json_names_and_types(void)
{
    const cn_field *f;
    f = path("", "v1", "Secret", P("stringData"));
    CHECK(f && f->type == CN_T_MAP && f->elem == CN_T_STRING);
    f = path("", "v1", "Secret", P("data"));
    CHECK(f && f->type == CN_T_MAP && f->elem == CN_T_BYTES && f->number == 2);
    f = path("", "v1", "Service", P("spec", "ports", "targetPort"));
    CHECK(f && f->type == CN_T_INT_OR_STRING);
    f = path("", "v1", "Pod", P("spec", "containers", "resources", "limits"));
    CHECK(f && f->type == CN_T_MAP && f->elem == CN_T_QUANTITY);
    f = path("apps", "v1", "Deployment", P("spec", "replicas"));
    CHECK(f && f->optional && f->type == CN_T_INT32 && f->number == 1);
    f = path("apps", "v1", "Deployment", P("spec", "minReadySeconds"));
    CHECK(f && !f->optional);
    f = path("", "v1", "ConfigMap", P("metadata", "creationTimestamp"));
    CHECK(f && f->type == CN_T_TIME && f->number == 8 && !f->micro_time);
    f = path("coordination.k8s.io", "v1", "Lease", P("spec", "renewTime"));
    CHECK(f && f->type == CN_T_TIME && f->micro_time);
    f = path("", "v1", "ConfigMap", P("metadata", "managedFields", "fieldsV1"));
    CHECK(f && f->type == CN_T_RAW);
    /* inlined members: VolumeSource in Volume, LocalObjectReference */
    f = path("", "v1", "Pod", P("spec", "volumes", "configMap", "name"));
    CHECK(f && f->type == CN_T_STRING);
    f = path("", "v1", "Pod", P("spec", "containers", "envFrom", "secretRef", "name"));
    CHECK(f != NULL);
    f = path("", "v1", "Pod", P("spec", "containers", "livenessProbe", "httpGet", "port"));
    CHECK(f && f->type == CN_T_INT_OR_STRING);
    f = path("", "v1", "Pod", P("spec", "ephemeralContainers", "targetContainerName"));
    CHECK(f != NULL);
    f = path("", "v1", "Pod", P("spec", "ephemeralContainers", "image"));
    CHECK(f != NULL);
    /* JSONSchemaProps JSON names differ from the proto names */
    const char *const jsp[] = { "spec", "versions", "schema", "openAPIV3Schema", NULL };
    f = path("apiextensions.k8s.io", "v1", "CustomResourceDefinition", jsp);
    CHECK(f && f->msg);
    if (f && f->msg) {
        const cn_message *m = f->msg;
        CHECK(cn_schema_field(m, "$ref") != NULL);
        CHECK(cn_schema_field(m, "$schema") != NULL);
        CHECK(cn_schema_field(m, "x-kubernetes-int-or-string") != NULL);
        CHECK(cn_schema_field(m, "x-kubernetes-validations") != NULL);
        CHECK(cn_schema_field(m, "ref") == NULL);
        const cn_field *props = cn_schema_field(m, "properties");
        CHECK(props && props->type == CN_T_MAP && props->msg == m);
    }
    /* status fields count as known */
    CHECK(path("apps", "v1", "Deployment", P("status", "availableReplicas")) != NULL);
    CHECK(path("", "v1", "Node", P("status", "nodeInfo", "kubeletVersion")) != NULL);
    CHECK(path("", "v1", "Pod", P("status", "containerStatuses", "state", "running", "startedAt")) != NULL);
    CHECK(path("authorization.k8s.io", "v1", "SelfSubjectAccessReview", P("spec", "resourceAttributes", "verb")));
    /* nested objects that embed TypeMeta (volumeClaimTemplates) */
    CHECK(path("apps", "v1", "StatefulSet", P("spec", "volumeClaimTemplates", "apiVersion")) != NULL);
    CHECK(cn_schema_field(cn_schema_object_meta(), "generateName") != NULL);
    CHECK(cn_schema_field_by_number(cn_schema_object_meta(), 0) == NULL);
    CHECK(cn_schema_field(NULL, "x") == NULL);
    CHECK(cn_schema_field(cn_schema_object_meta(), "nope") == NULL);
}

int main(void)
{
    TEST_RUN(test_kinds);
    TEST_RUN(test_consistency);
    TEST_RUN(test_patch_strategies);
    TEST_RUN(test_json_names_and_types);
    return TEST_DONE();
}
