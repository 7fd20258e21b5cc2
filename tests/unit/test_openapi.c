/* Unit tests for the OpenAPI v3 index and group-version documents. */
#include <stdlib.h>
#include <string.h>

#include "api/resource.h"
#include "lib/util.h"
#include "test.h"

static const char *CRD_JSON =
    "{\"metadata\":{\"name\":\"widgets.example.com\"},"
    "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\"},"
    "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"subresources\":{\"status\":{}},"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"description\":\"A widget.\","
    "\"properties\":{\"spec\":{\"type\":\"object\","
    "\"properties\":{\"size\":{\"type\":\"string\"}}}}}}}]}}";

static const char *url_of(const json_t *index, const char *gv)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(index, "paths"), gv),
                                             "serverRelativeURL"));
}

static bool has_param(const json_t *op, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p)
        if (!strcmp(json_string_value(json_object_get(p, "name")) ?: "", name) &&
            !strcmp(json_string_value(json_object_get(p, "in")) ?: "", "query"))
            return true;
    return false;
}

static const json_t *patch_op(const json_t *doc, const char *path)
{
    return json_object_get(json_object_get(json_object_get(doc, "paths"), path), "patch");
}

static void check_gvk(const json_t *gvk, const char *g, const char *v, const char *k)
{
    CHECK_STR(json_string_value(json_object_get(gvk, "group")), g);
    CHECK_STR(json_string_value(json_object_get(gvk, "version")), v);
    CHECK_STR(json_string_value(json_object_get(gvk, "kind")), k);
}

/* The schema in components.schemas carrying this GVK, as kubectl finds it. */
static const json_t *schema_for(const json_t *doc, const char *g, const char *v, const char *k,
                                const char **key_out)
{
    const char *key;
    json_t *s;
    json_object_foreach(json_object_get(json_object_get(doc, "components"), "schemas"), key, s) {
        json_t *gvk = json_array_get(json_object_get(s, "x-kubernetes-group-version-kind"), 0);
        if (gvk && !strcmp(json_string_value(json_object_get(gvk, "group")), g) &&
            !strcmp(json_string_value(json_object_get(gvk, "version")), v) &&
            !strcmp(json_string_value(json_object_get(gvk, "kind")), k)) {
            if (key_out) *key_out = key;
            return s;
        }
    }
    return NULL;
}

/* Follow {"allOf":[{"$ref":...}]} or {"$ref":...} to the named schema. */
static const json_t *deref(const json_t *doc, const json_t *s)
{
    const json_t *all = json_object_get(s, "allOf");
    const char *ref = json_string_value(json_object_get(all ? json_array_get(all, 0) : s, "$ref"));
    if (!ref || !cn_str_has_prefix(ref, "#/components/schemas/")) return s;
    return json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                           ref + strlen("#/components/schemas/"));
}

static void test_index(void)
{
    cn_registry *r = cn_registry_new();
    json_t *idx = cn_openapi_v3_index(r);
    const char *core = url_of(idx, "api/v1");
    CHECK(core && cn_str_has_prefix(core, "/openapi/v3/api/v1?hash="));
    CHECK(url_of(idx, "apis/apps/v1") != NULL);
    CHECK(url_of(idx, "apis/authentication.k8s.io/v1beta1") != NULL);
    CHECK(url_of(idx, "apis/example.com/v1") == NULL);
    char *apps_before = cn_strdup(url_of(idx, "apis/apps/v1"));

    json_t *crd = json_loads(CRD_JSON, 0, NULL);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    json_t *idx2 = cn_openapi_v3_index(r);
    const char *ex = url_of(idx2, "apis/example.com/v1");
    CHECK(ex && cn_str_has_prefix(ex, "/openapi/v3/apis/example.com/v1?hash="));
    /* The same registry state hashes the same. */
    json_t *idx3 = cn_openapi_v3_index(r);
    CHECK_STR(url_of(idx3, "apis/example.com/v1"), ex);
    CHECK(strcmp(url_of(idx2, "apis/apps/v1"), apps_before) != 0);   /* generation is in the hash */

    cn_registry_remove_crd(r, "widgets.example.com");
    json_t *idx4 = cn_openapi_v3_index(r);
    CHECK(url_of(idx4, "apis/example.com/v1") == NULL);
    CHECK(cn_openapi_v3_doc(r, "apis/example.com/v1") == NULL);

    free(apps_before);
    json_decref(idx);
    json_decref(idx2);
    json_decref(idx3);
    json_decref(idx4);
    json_decref(crd);
    cn_registry_free(r);
}

static void test_doc_core(void)
{
    cn_registry *r = cn_registry_new();
    json_t *doc = cn_openapi_v3_doc(r, "api/v1");
    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.0.0");
    CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "title")), "Kubernetes");
    const json_t *op = patch_op(doc, "/api/v1/namespaces/{namespace}/configmaps/{name}");
    CHECK(op != NULL);
    check_gvk(json_object_get(op, "x-kubernetes-group-version-kind"), "", "v1", "ConfigMap");
    CHECK(has_param(op, "fieldValidation"));
    CHECK(has_param(op, "dryRun"));
    CHECK(has_param(op, "fieldManager"));
    CHECK(has_param(op, "force"));
    const json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");
    CHECK(json_object_get(content, "application/merge-patch+json") != NULL);
    CHECK(json_object_get(content, "application/json-patch+json") != NULL);
    CHECK(json_object_get(content, "application/apply-patch+yaml") != NULL);
    CHECK(json_object_get(json_object_get(op, "responses"), "200") != NULL);

    /* Cluster-scoped: no namespace segment. */
    op = patch_op(doc, "/api/v1/namespaces/{name}");
    CHECK(op != NULL);
    check_gvk(json_object_get(op, "x-kubernetes-group-version-kind"), "", "v1", "Namespace");
    CHECK(patch_op(doc, "/api/v1/nodes/{name}") != NULL);
    CHECK(patch_op(doc, "/api/v1/namespaces/{namespace}/pods/{name}/status") != NULL);

    /* Every kind of the group-version has a patch op with the parameter. */
    const char *kinds[] = { "Pod", "Service", "Secret", "ServiceAccount", "Node", "Event",
                            "PersistentVolume", "PersistentVolumeClaim", "ResourceQuota", "LimitRange",
                            "Endpoints", "Namespace", "ConfigMap" };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bool found = false;
        const char *path;
        json_t *item;
        json_object_foreach(json_object_get(doc, "paths"), path, item) {
            json_t *p = json_object_get(item, "patch");
            json_t *gvk = json_object_get(p, "x-kubernetes-group-version-kind");
            if (p && !strcmp(json_string_value(json_object_get(gvk, "kind")), kinds[k]) && has_param(p, "fieldValidation"))
                found = true;
        }
        CHECK(found);
        if (!found) fprintf(stderr, "no patch op for %s\n", kinds[k]);
        CHECK(schema_for(doc, "", "v1", kinds[k], NULL) != NULL);
    }
    const char *key = NULL;
    const json_t *cm = schema_for(doc, "", "v1", "ConfigMap", &key);
    CHECK_STR(key, "io.k8s.api.core.v1.ConfigMap");
    CHECK_STR(json_string_value(json_object_get(cm, "type")), "object");
    CHECK(json_string_value(json_object_get(cm, "description")) != NULL);
    const json_t *meta = deref(doc, json_object_get(json_object_get(cm, "properties"), "metadata"));
    CHECK(meta && json_object_get(json_object_get(meta, "properties"), "name") != NULL);
    CHECK(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                          "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") != NULL);
    json_decref(doc);

    CHECK(cn_openapi_v3_doc(r, "api/v2") == NULL);
    CHECK(cn_openapi_v3_doc(r, "apis/apps") == NULL);
    CHECK(cn_openapi_v3_doc(r, "apis/nope/v1") == NULL);
    CHECK(cn_openapi_v3_doc(r, "") == NULL);
    /* The query string of a serverRelativeURL is tolerated. */
    json_t *d2 = cn_openapi_v3_doc(r, "apis/batch/v1?hash=ABC");
    CHECK(d2 != NULL);
    json_decref(d2);
    cn_registry_free(r);
}

static void test_doc_apps_explain(void)
{
    cn_registry *r = cn_registry_new();
    json_t *doc = cn_openapi_v3_doc(r, "apis/apps/v1");
    const json_t *op = patch_op(doc, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    CHECK(op != NULL);
    check_gvk(json_object_get(op, "x-kubernetes-group-version-kind"), "apps", "v1", "Deployment");
    CHECK(has_param(op, "fieldValidation"));
    const json_t *scale = patch_op(doc, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale");
    CHECK(scale != NULL);
    check_gvk(json_object_get(scale, "x-kubernetes-group-version-kind"), "autoscaling", "v1", "Scale");

    /* explain deployment.spec.replicas: walk the schema like kubectl. */
    const char *key = NULL;
    const json_t *dep = schema_for(doc, "apps", "v1", "Deployment", &key);
    CHECK(dep != NULL);
    CHECK_STR(key, "io.k8s.api.apps.v1.Deployment");
    const json_t *spec = deref(doc, json_object_get(json_object_get(dep, "properties"), "spec"));
    CHECK(spec != NULL);
    const json_t *replicas = json_object_get(json_object_get(spec, "properties"), "replicas");
    if (json_object_get(json_object_get(dep, "properties"), "spec") &&
        json_object_get(json_object_get(json_object_get(dep, "properties"), "spec"), "allOf")) {
        /* A real schema table: typed fields and patch metadata. */
        CHECK_STR(json_string_value(json_object_get(replicas, "type")), "integer");
        const json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");
        CHECK(json_object_get(content, "application/strategic-merge-patch+json") != NULL);
        const json_t *tmpl = deref(doc, json_object_get(json_object_get(spec, "properties"), "template"));
        const json_t *pspec = deref(doc, json_object_get(json_object_get(tmpl, "properties"), "spec"));
        const json_t *containers = json_object_get(json_object_get(pspec, "properties"), "containers");
        CHECK_STR(json_string_value(json_object_get(containers, "type")), "array");
        CHECK_STR(json_string_value(json_object_get(containers, "x-kubernetes-patch-merge-key")), "name");
        CHECK_STR(json_string_value(json_object_get(containers, "x-kubernetes-patch-strategy")), "merge");
        const json_t *c = deref(doc, json_object_get(containers, "items"));
        CHECK(c && json_object_get(json_object_get(c, "properties"), "image") != NULL);
    }
    json_decref(doc);
    cn_registry_free(r);
}

static void test_doc_crd(void)
{
    cn_registry *r = cn_registry_new();
    json_t *crd = json_loads(CRD_JSON, 0, NULL);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    json_t *doc = cn_openapi_v3_doc(r, "apis/example.com/v1");
    CHECK(doc != NULL);
    const json_t *op = patch_op(doc, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}");
    CHECK(op != NULL);
    check_gvk(json_object_get(op, "x-kubernetes-group-version-kind"), "example.com", "v1", "Widget");
    CHECK(has_param(op, "fieldValidation"));
    const json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");
    CHECK(json_object_get(content, "application/strategic-merge-patch+json") == NULL);
    CHECK(json_object_get(content, "application/merge-patch+json") != NULL);
    CHECK(patch_op(doc, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status") != NULL);
    const char *key = NULL;
    const json_t *w = schema_for(doc, "example.com", "v1", "Widget", &key);
    CHECK(w != NULL);
    CHECK_STR(key, "com.example.v1.Widget");
    CHECK_STR(json_string_value(json_object_get(w, "description")), "A widget.");
    const json_t *props = json_object_get(w, "properties");
    CHECK(json_object_get(json_object_get(json_object_get(props, "spec"), "properties"), "size") != NULL);
    CHECK(json_object_get(props, "apiVersion") != NULL);
    CHECK(deref(doc, json_object_get(props, "metadata")) != NULL);
    json_decref(doc);
    json_decref(crd);
    cn_registry_free(r);
}

static void test_doc_every_gv(void)
{
    /* Every group-version of the index yields a document whose patch ops all
     * carry a GVK and fieldValidation. */
    cn_registry *r = cn_registry_new();
    json_t *idx = cn_openapi_v3_index(r);
    const char *gv;
    json_t *v;
    json_object_foreach(json_object_get(idx, "paths"), gv, v) {
        json_t *doc = cn_openapi_v3_doc(r, gv);
        CHECK(doc != NULL);
        const char *path;
        json_t *item;
        json_object_foreach(json_object_get(doc, "paths"), path, item) {
            json_t *p = json_object_get(item, "patch");
            if (!p) continue;
            CHECK(json_object_get(p, "x-kubernetes-group-version-kind") != NULL);
            CHECK(has_param(p, "fieldValidation"));
        }
        json_decref(doc);
    }
    json_decref(idx);
    cn_registry_free(r);
}

int main(void)
{
    TEST_RUN(test_index);
    TEST_RUN(test_doc_core);
    TEST_RUN(test_doc_apps_explain);
    TEST_RUN(test_doc_crd);
    TEST_RUN(test_doc_every_gv);
    return TEST_DONE();
}
