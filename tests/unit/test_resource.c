/* Unit tests for the resource registry and the discovery documents. */
#include <stdlib.h>
#include <string.h>

#include "api/resource.h"
#include "lib/util.h"
#include "test.h"

static const char *CRD_JSON =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.example.com\"},"
    "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\",\"shortNames\":[\"wdg\"],"
    "\"categories\":[\"all\"]},"
    "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"subresources\":{\"status\":{},\"scale\":{\"specReplicasPath\":\".spec.replicas\","
    "\"statusReplicasPath\":\".status.replicas\"}},"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
    "\"properties\":{\"size\":{\"type\":\"string\"}}}}}}},"
    "{\"name\":\"v1beta1\",\"served\":true,\"storage\":false},"
    "{\"name\":\"v1alpha1\",\"served\":false,\"storage\":false}]}}";

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fprintf(stderr, "bad test json: %s\n", e.text);
    return j;
}

static json_t *find_by(const json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, key));
        if (s && !strcmp(s, val)) return v;
    }
    return NULL;
}

static bool has_str(const json_t *arr, const char *val)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_string_value(v) && !strcmp(json_string_value(v), val)) return true;
    return false;
}

static void test_lookup(void)
{
    cn_registry *r = cn_registry_new();
    const cn_resource *d = cn_registry_lookup(r, "apps", "v1", "deployments");
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(d->kind, "Deployment");
        CHECK_STR(d->list_kind, "DeploymentList");
        CHECK_STR(d->singular, "deployment");
        CHECK(d->namespaced);
        CHECK(d->flags & CN_RES_SCALE);
        CHECK(d->flags & CN_RES_STATUS);
        CHECK_STR(d->short_names[0], "deploy");
        CHECK_STR(d->categories[0], "all");
        CHECK_STR(cn_resource_api_version(d), "apps/v1");
        char *p = cn_resource_key_prefix(d);
        CHECK_STR(p, "/registry/apps/deployments/");
        free(p);
    }
    CHECK(cn_registry_by_kind(r, "apps", "v1", "Deployment") == d);
    CHECK(cn_registry_lookup(r, "", "v1", "deployments") == NULL);
    CHECK(cn_registry_lookup(r, "apps", "v2", "deployments") == NULL);

    const cn_resource *cm = cn_registry_lookup(r, "", "v1", "configmaps");
    CHECK(cm && (cm->flags & CN_RES_NO_SPEC_GENERATION));
    if (cm) {
        CHECK_STR(cn_resource_api_version(cm), "v1");
        char *p = cn_resource_key_prefix(cm);
        CHECK_STR(p, "/registry/configmaps/");
        free(p);
    }
    const cn_resource *ns = cn_registry_lookup(r, "", "v1", "namespaces");
    CHECK(ns && !ns->namespaced);
    const cn_resource *pods = cn_registry_by_kind(r, "", "v1", "Pod");
    CHECK(pods && (pods->flags & CN_RES_LOG) && (pods->flags & CN_RES_EVICTION) && (pods->flags & CN_RES_BINDING));
    const cn_resource *ssar = cn_registry_lookup(r, "authorization.k8s.io", "v1", "selfsubjectaccessreviews");
    CHECK(ssar && (ssar->flags & CN_RES_CREATE_ONLY) && !ssar->namespaced);
    CHECK(cn_registry_lookup(r, "authentication.k8s.io", "v1beta1", "selfsubjectreviews") != NULL);
    const cn_resource *crd = cn_registry_lookup(r, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
    CHECK(crd && !crd->namespaced && crd->short_names && !strcmp(crd->short_names[1], "crds"));

    CHECK(cn_registry_has_group_version(r, "", "v1"));
    CHECK(cn_registry_has_group_version(r, "batch", "v1"));
    CHECK(!cn_registry_has_group_version(r, "batch", "v2"));
    CHECK(!cn_registry_has_group_version(r, "example.com", "v1"));
    cn_registry_free(r);
}

static void test_legacy_discovery(void)
{
    cn_registry *r = cn_registry_new();
    json_t *core = cn_discovery_core(r, 0);
    CHECK_STR(json_string_value(json_object_get(core, "kind")), "APIVersions");
    CHECK_STR(json_string_value(json_array_get(json_object_get(core, "versions"), 0)), "v1");
    CHECK(json_array_size(json_object_get(core, "serverAddressByClientCIDRs")) == 1);
    json_decref(core);

    json_t *groups = cn_discovery_groups(r, 0);
    CHECK_STR(json_string_value(json_object_get(groups, "kind")), "APIGroupList");
    json_t *ga = json_object_get(groups, "groups");
    CHECK(find_by(ga, "name", "") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ga, 0), "name")), "apps");
    json_t *authn = find_by(ga, "name", "authentication.k8s.io");
    CHECK(authn != NULL);
    CHECK_INT(json_array_size(json_object_get(authn, "versions")), 2);
    CHECK_STR(json_string_value(json_object_get(json_object_get(authn, "preferredVersion"), "version")), "v1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(authn, "versions"), 1),
                                                "groupVersion")), "authentication.k8s.io/v1beta1");
    json_decref(groups);

    json_t *v1 = cn_discovery_resources(r, "", "v1");
    CHECK_STR(json_string_value(json_object_get(v1, "groupVersion")), "v1");
    json_t *res = json_object_get(v1, "resources");
    json_t *pods = find_by(res, "name", "pods");
    CHECK(pods && json_is_true(json_object_get(pods, "namespaced")));
    CHECK_STR(json_string_value(json_object_get(pods, "kind")), "Pod");
    CHECK(has_str(json_object_get(pods, "shortNames"), "po"));
    CHECK(has_str(json_object_get(pods, "categories"), "all"));
    CHECK(has_str(json_object_get(pods, "verbs"), "deletecollection"));
    json_t *ev = find_by(res, "name", "pods/eviction");
    CHECK(ev != NULL);
    CHECK_STR(json_string_value(json_object_get(ev, "group")), "policy");
    CHECK_STR(json_string_value(json_object_get(ev, "kind")), "Eviction");
    json_t *log = find_by(res, "name", "pods/log");
    CHECK(log && json_object_get(log, "group") == NULL);
    json_t *tok = find_by(res, "name", "serviceaccounts/token");
    CHECK(tok && !strcmp(json_string_value(json_object_get(tok, "group")), "authentication.k8s.io"));
    CHECK(tok && has_str(json_object_get(tok, "verbs"), "create"));
    json_t *nsr = find_by(res, "name", "namespaces");
    CHECK(nsr && json_is_false(json_object_get(nsr, "namespaced")));
    CHECK(nsr && !has_str(json_object_get(nsr, "verbs"), "deletecollection"));
    CHECK(find_by(res, "name", "namespaces/status") != NULL);
    CHECK(find_by(res, "name", "configmaps/status") == NULL);
    json_decref(v1);

    json_t *apps = cn_discovery_resources(r, "apps", "v1");
    json_t *scale = find_by(json_object_get(apps, "resources"), "name", "deployments/scale");
    CHECK(scale != NULL);
    CHECK_STR(json_string_value(json_object_get(scale, "group")), "autoscaling");
    CHECK_STR(json_string_value(json_object_get(scale, "version")), "v1");
    CHECK_STR(json_string_value(json_object_get(scale, "kind")), "Scale");
    CHECK_INT(json_array_size(json_object_get(scale, "verbs")), 3);
    CHECK(find_by(json_object_get(apps, "resources"), "name", "daemonsets/scale") == NULL);
    json_decref(apps);

    json_t *authz = cn_discovery_resources(r, "authorization.k8s.io", "v1");
    json_t *ssar = find_by(json_object_get(authz, "resources"), "name", "selfsubjectaccessreviews");
    CHECK(ssar && json_array_size(json_object_get(ssar, "verbs")) == 1);
    json_decref(authz);

    CHECK(cn_discovery_resources(r, "apps", "v9") == NULL);
    CHECK(cn_discovery_resources(r, "nope", "v1") == NULL);
    cn_registry_free(r);
}

static void check_agg_resources(const json_t *list)
{
    /* Every resource and subresource carries a responseKind. */
    size_t i, j, k, l;
    json_t *item, *ver, *res, *sub;
    json_array_foreach(json_object_get(list, "items"), i, item)
        json_array_foreach(json_object_get(item, "versions"), j, ver) {
            CHECK_STR(json_string_value(json_object_get(ver, "freshness")), "Current");
            json_array_foreach(json_object_get(ver, "resources"), k, res) {
                CHECK(json_string_value(json_object_get(json_object_get(res, "responseKind"), "kind")));
                CHECK(json_string_value(json_object_get(res, "scope")));
                CHECK(json_array_size(json_object_get(res, "verbs")) > 0);
                json_array_foreach(json_object_get(res, "subresources"), l, sub)
                    CHECK(json_string_value(json_object_get(json_object_get(sub, "responseKind"), "kind")));
            }
        }
}

static void test_aggregated_discovery(void)
{
    cn_registry *r = cn_registry_new();
    json_t *core = cn_discovery_core(r, 2);
    CHECK_STR(json_string_value(json_object_get(core, "kind")), "APIGroupDiscoveryList");
    CHECK_STR(json_string_value(json_object_get(core, "apiVersion")), "apidiscovery.k8s.io/v2");
    json_t *items = json_object_get(core, "items");
    CHECK_INT(json_array_size(items), 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(items, 0), "metadata"), "name")), "");
    json_t *v1 = json_array_get(json_object_get(json_array_get(items, 0), "versions"), 0);
    CHECK_STR(json_string_value(json_object_get(v1, "version")), "v1");
    json_t *pods = find_by(json_object_get(v1, "resources"), "resource", "pods");
    CHECK(pods != NULL);
    CHECK_STR(json_string_value(json_object_get(pods, "scope")), "Namespaced");
    CHECK_STR(json_string_value(json_object_get(pods, "singularResource")), "pod");
    CHECK_STR(json_string_value(json_object_get(json_object_get(pods, "responseKind"), "kind")), "Pod");
    json_t *ev = find_by(json_object_get(pods, "subresources"), "subresource", "eviction");
    CHECK(ev && !strcmp(json_string_value(json_object_get(json_object_get(ev, "responseKind"), "group")), "policy"));
    json_t *nodes = find_by(json_object_get(v1, "resources"), "resource", "nodes");
    CHECK_STR(json_string_value(json_object_get(nodes, "scope")), "Cluster");
    check_agg_resources(core);
    json_decref(core);

    json_t *groups = cn_discovery_groups(r, 1);
    CHECK_STR(json_string_value(json_object_get(groups, "apiVersion")), "apidiscovery.k8s.io/v2beta1");
    items = json_object_get(groups, "items");
    CHECK(json_array_size(items) >= 10);
    json_t *apps = json_array_get(items, 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(apps, "metadata"), "name")), "apps");
    json_t *deploy = find_by(json_object_get(json_array_get(json_object_get(apps, "versions"), 0), "resources"),
                             "resource", "deployments");
    CHECK(deploy && has_str(json_object_get(deploy, "shortNames"), "deploy"));
    json_t *scale = find_by(json_object_get(deploy, "subresources"), "subresource", "scale");
    CHECK(scale != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(scale, "responseKind"), "group")), "autoscaling");
    CHECK_STR(json_string_value(json_object_get(json_object_get(scale, "responseKind"), "kind")), "Scale");
    check_agg_resources(groups);
    json_decref(groups);
    cn_registry_free(r);
}

static void test_crd_lifecycle(void)
{
    cn_registry *r = cn_registry_new();
    cn_err err = CN_ERR_INIT;
    json_t *crd = load(CRD_JSON);
    uint64_t g0 = cn_registry_generation(r);
    CHECK_INT(cn_registry_put_crd(r, crd, &err), 0);
    CHECK(cn_registry_generation(r) > g0);
    const cn_resource *w = cn_registry_lookup(r, "example.com", "v1", "widgets");
    CHECK(w != NULL);
    if (w) {
        CHECK(w->flags & CN_RES_CUSTOM);
        CHECK(w->flags & CN_RES_STATUS);
        CHECK(w->flags & CN_RES_SCALE);
        CHECK_STR(w->scale_spec_path, ".spec.replicas");
        CHECK(w->scale_selector_path == NULL);
        CHECK_STR(w->list_kind, "WidgetList");
        CHECK_STR(w->crd_name, "widgets.example.com");
        CHECK_STR(w->short_names[0], "wdg");
        CHECK_STR(cn_resource_api_version(w), "example.com/v1");
        CHECK(json_object_get(w->crd_version, "schema") != NULL);
        char *p = cn_resource_key_prefix(w);
        CHECK_STR(p, "/registry/example.com/widgets/");
        free(p);
    }
    const cn_resource *wb = cn_registry_lookup(r, "example.com", "v1beta1", "widgets");
    CHECK(wb && !(wb->flags & CN_RES_STATUS));
    CHECK(cn_registry_lookup(r, "example.com", "v1alpha1", "widgets") == NULL);
    CHECK(cn_registry_by_kind(r, "example.com", "v1", "Widget") == w);

    /* Discovery sees it at once, v1 preferred over v1beta1. */
    json_t *groups = cn_discovery_groups(r, 0);
    json_t *ex = find_by(json_object_get(groups, "groups"), "name", "example.com");
    CHECK(ex != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(ex, "preferredVersion"), "version")), "v1");
    CHECK_INT(json_array_size(json_object_get(ex, "versions")), 2);
    json_decref(groups);
    json_t *agg = cn_discovery_groups(r, 2);
    json_t *last = json_array_get(json_object_get(agg, "items"), json_array_size(json_object_get(agg, "items")) - 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(last, "metadata"), "name")), "example.com");
    json_decref(agg);
    json_t *rl = cn_discovery_resources(r, "example.com", "v1");
    CHECK(find_by(json_object_get(rl, "resources"), "name", "widgets/scale") != NULL);
    CHECK(find_by(json_object_get(rl, "resources"), "name", "widgets/status") != NULL);
    json_decref(rl);

    /* Re-putting an identical CRD changes nothing. */
    uint64_t g1 = cn_registry_generation(r);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    CHECK(cn_registry_generation(r) == g1);
    CHECK(cn_registry_lookup(r, "example.com", "v1", "widgets") == w);

    /* Replace: v1beta1 no longer served; the old pointer stays readable. */
    json_t *crd2 = json_deep_copy(crd);
    json_object_set_new(json_array_get(json_object_get(json_object_get(crd2, "spec"), "versions"), 1),
                        "served", json_false());
    CHECK_INT(cn_registry_put_crd(r, crd2, &err), 0);
    CHECK(cn_registry_generation(r) > g1);
    CHECK(cn_registry_lookup(r, "example.com", "v1beta1", "widgets") == NULL);
    const cn_resource *w2 = cn_registry_lookup(r, "example.com", "v1", "widgets");
    CHECK(w2 != NULL && w2 != w);
    CHECK(wb && !strcmp(wb->plural, "widgets"));   /* retired, not freed */

    cn_registry_remove_crd(r, "widgets.example.com");
    CHECK(cn_registry_lookup(r, "example.com", "v1", "widgets") == NULL);
    CHECK(!cn_registry_has_group_version(r, "example.com", "v1"));
    CHECK(cn_discovery_resources(r, "example.com", "v1") == NULL);
    json_decref(crd2);
    json_decref(crd);
    cn_err_clear(&err);
    cn_registry_free(r);
}

static void expect_refused(cn_registry *r, const char *crd_json, const char *why)
{
    json_t *crd = load(crd_json);
    cn_err err = CN_ERR_INIT;
    int rc = cn_registry_put_crd(r, crd, &err);
    CHECK(rc < 0);
    CHECK_INT(err.code, 422);
    if (rc >= 0) fprintf(stderr, "accepted: %s\n", why);
    cn_err_clear(&err);
    json_decref(crd);
}

static void test_crd_invalid(void)
{
    cn_registry *r = cn_registry_new();
    expect_refused(r, "{\"metadata\":{\"name\":\"a.b.c\"},\"spec\":{\"names\":{\"plural\":\"a\",\"kind\":\"A\"},"
                      "\"versions\":[{\"name\":\"v1\",\"served\":true}]}}", "no group");
    expect_refused(r, "{\"metadata\":{\"name\":\"Foos.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"Foos\",\"kind\":\"Foo\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}",
                   "uppercase plural");
    expect_refused(r, "{\"metadata\":{\"name\":\"foos.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"foos\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}", "no kind");
    expect_refused(r, "{\"metadata\":{\"name\":\"foos.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"foos\",\"kind\":\"Foo\"},\"versions\":[]}}", "no versions");
    expect_refused(r, "{\"metadata\":{\"name\":\"bars.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"foos\",\"kind\":\"Foo\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}",
                   "name mismatch");
    expect_refused(r, "{\"metadata\":{\"name\":\"foos.x.io\"},\"spec\":{\"group\":\"x.io\",\"scope\":\"Global\","
                      "\"names\":{\"plural\":\"foos\",\"kind\":\"Foo\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}",
                   "bad scope");
    expect_refused(r, "{\"metadata\":{\"name\":\"foos.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"foos\",\"kind\":\"Foo\",\"shortNames\":[\"F!\"]},"
                      "\"versions\":[{\"name\":\"v1\",\"served\":true}]}}", "bad short name");
    /* A second CRD may not take over a served plural. */
    json_t *ok = load("{\"metadata\":{\"name\":\"foos.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"foos\",\"kind\":\"Foo\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}");
    CHECK_INT(cn_registry_put_crd(r, ok, NULL), 0);
    json_decref(ok);
    const cn_resource *foo = cn_registry_lookup(r, "x.io", "v1", "foos");
    CHECK(foo && foo->namespaced);   /* scope defaults to Namespaced */
    CHECK(foo && !strcmp(foo->singular, "foo"));
    expect_refused(r, "{\"metadata\":{\"name\":\"bars.x.io\"},\"spec\":{\"group\":\"x.io\","
                      "\"names\":{\"plural\":\"bars\",\"kind\":\"Foo\"},\"versions\":[{\"name\":\"v1\",\"served\":true}]}}",
                   "kind taken");
    CHECK(cn_registry_lookup(r, "x.io", "v1", "bars") == NULL);
    cn_registry_free(r);
}

static void count(const cn_resource *res, void *ud)
{
    (void)res;
    (*(int *)ud)++;
}

static void test_foreach(void)
{
    cn_registry *r = cn_registry_new();
    int n0 = 0, n1 = 0;
    cn_registry_foreach(r, count, &n0);
    CHECK(n0 >= 35);
    json_t *crd = load(CRD_JSON);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    cn_registry_foreach(r, count, &n1);
    CHECK_INT(n1, n0 + 2);
    json_decref(crd);
    cn_registry_free(r);
}

int main(void)
{
    TEST_RUN(test_lookup);
    TEST_RUN(test_legacy_discovery);
    TEST_RUN(test_aggregated_discovery);
    TEST_RUN(test_crd_lifecycle);
    TEST_RUN(test_crd_invalid);
    TEST_RUN(test_foreach);
    return TEST_DONE();
}
