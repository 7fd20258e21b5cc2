/* Unit tests for ssa: field sets, apply conflicts, force, removal of fields
 * a manager stopped applying, update ownership, no-op detection. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "api/ssa.h"
#include "api/patch.h"
#include "test.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
    return j;
}

static cn_ssa_opts deploy_opts(const char *mgr)
{
    cn_ssa_opts o = { .manager = mgr, .api_version = "apps/v1",
                      .schema = cn_schema_for_kind("apps", "v1", "Deployment"),
                      .scope = CN_SSA_MAIN, .now = "2026-01-01T00:00:00Z" };
    return o;
}

static const char *DEPLOY =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},"
    "\"finalizers\":[\"example.com/f\"]},"
    "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1\","
    "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}],"
    "\"args\":[\"-x\"]}]}}}}";

static const char *mf_json(const json_t *obj)
{
    static char buf[8192];
    char *s = json_dumps(json_object_get(json_object_get(obj, "metadata"), "managedFields"),
                         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(buf, sizeof buf, "%s", s ? s : "null");
    free(s);
    return buf;
}

static json_t *entry_of(const json_t *obj, const char *mgr, const char *op)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, e)
        if (!strcmp(json_string_value(json_object_get(e, "manager")), mgr) &&
            !strcmp(json_string_value(json_object_get(e, "operation")), op))
            return e;
    return NULL;
}

static void test_field_set(void)
{
    json_t *d = J(DEPLOY), *set = NULL;
    cn_ssa_opts o = deploy_opts("kubectl");
    CHECK(cn_ssa_field_set(d, &o, &set, NULL) == 0);
    json_t *want = J("{\"f:metadata\":{\"f:labels\":{\"f:app\":{}},\"f:finalizers\":{\"v:\\\"example.com/f\\\"\":{}}},"
                     "\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},"
                     "\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
                     "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"main\\\"}\":{\".\":{},"
                     "\"f:name\":{},\"f:image\":{},\"f:args\":{},"
                     "\"f:env\":{\"k:{\\\"name\\\":\\\"A\\\"}\":{\".\":{},\"f:name\":{},\"f:value\":{}}},"
                     "\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}}}}}}");
    CHECK(cn_json_equal(set, want));
    if (!cn_json_equal(set, want)) {
        char *s = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "got %s\n", s);
        free(s);
    }
    json_decref(want);
    json_decref(set);
    /* Atomic maps (Service selector) are replaced, not merged, by apply. */
    cn_ssa_opts so = { .manager = "kubectl", .api_version = "v1", .schema = cn_schema_for_kind("", "v1", "Service"),
                       .scope = CN_SSA_MAIN, .now = "2026-01-01T00:00:00Z" };
    json_t *svc = J("{\"spec\":{\"selector\":{\"a\":\"1\",\"b\":\"2\"}}}"), *svc2 = J("{\"spec\":{\"selector\":{\"a\":\"1\"}}}");
    json_t *l1 = NULL, *l2 = NULL;
    bool ch;
    CHECK(cn_ssa_apply(NULL, svc, &so, &l1, &ch, NULL) == 0);
    CHECK(cn_ssa_apply(l1, svc2, &so, &l2, &ch, NULL) == 0);
    CHECK(cn_json_equal(json_object_get(json_object_get(l2, "spec"), "selector"), json_object_get(json_object_get(svc2, "spec"), "selector")));
    CHECK(json_object_size(json_object_get(json_object_get(json_object_get(json_array_get(
        json_object_get(json_object_get(l2, "metadata"), "managedFields"), 0), "fieldsV1"), "f:spec"), "f:selector")) == 0);
    json_decref(svc);
    json_decref(svc2);
    json_decref(l1);
    json_decref(l2);
    /* Custom resources: maps recurse, lists are atomic. */
    json_t *cr = J("{\"apiVersion\":\"x.io/v1\",\"kind\":\"W\",\"spec\":{\"a\":{\"b\":1},\"l\":[1,2]}}");
    cn_ssa_opts co = { .manager = "m", .api_version = "x.io/v1" };
    CHECK(cn_ssa_field_set(cr, &co, &set, NULL) == 0);
    want = J("{\"f:spec\":{\"f:a\":{\"f:b\":{}},\"f:l\":{}}}");
    CHECK(cn_json_equal(set, want));
    json_decref(want);
    json_decref(set);
    json_decref(cr);
    json_decref(d);
}

static void test_create_by_apply(void)
{
    json_t *d = J(DEPLOY), *out = NULL;
    cn_ssa_opts o = deploy_opts("kubectl");
    bool changed = false;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_ssa_apply(NULL, d, &o, &out, &changed, &e) == 0);
    CHECK(changed);
    json_t *mf = json_object_get(json_object_get(out, "metadata"), "managedFields");
    CHECK_INT(json_array_size(mf), 1);
    json_t *en = json_array_get(mf, 0);
    CHECK_STR(json_string_value(json_object_get(en, "manager")), "kubectl");
    CHECK_STR(json_string_value(json_object_get(en, "operation")), "Apply");
    CHECK_STR(json_string_value(json_object_get(en, "apiVersion")), "apps/v1");
    CHECK_STR(json_string_value(json_object_get(en, "fieldsType")), "FieldsV1");
    CHECK_STR(json_string_value(json_object_get(en, "time")), "2026-01-01T00:00:00Z");
    CHECK(json_object_get(json_object_get(json_object_get(en, "fieldsV1"), "f:spec"), "f:replicas") != NULL);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 2);
    /* Missing manager is refused. */
    json_t *o2 = NULL;
    cn_ssa_opts none = deploy_opts(NULL);
    CHECK(cn_ssa_apply(NULL, d, &none, &o2, &changed, &e) < 0);
    CHECK(strstr(e.message, "fieldManager: Required value") != NULL);
    cn_err_clear(&e);
    /* A config may not carry managedFields. */
    json_t *withmf = J("{\"metadata\":{\"managedFields\":[{\"manager\":\"x\",\"operation\":\"Apply\"}]}}");
    CHECK(cn_ssa_apply(NULL, withmf, &o, &o2, &changed, &e) < 0);
    CHECK_INT(e.code, 400);
    CHECK_STR(e.message, "metadata.managedFields must be nil");
    cn_err_clear(&e);
    json_decref(withmf);
    json_decref(out);
    json_decref(d);
}

/* Another manager changed spec.replicas with an Update: applying the old
 * value conflicts; force moves ownership. */
static void test_conflict_and_force(void)
{
    json_t *d = J(DEPLOY), *live = NULL, *out = NULL;
    cn_ssa_opts o = deploy_opts("kubectl");
    bool changed;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_ssa_apply(NULL, d, &o, &live, &changed, &e) == 0);
    /* kubectl scale: an Update on /scale. */
    json_t *scaled = json_deep_copy(live);
    json_object_set_new(json_object_get(scaled, "spec"), "replicas", json_integer(5));
    cn_ssa_opts so = deploy_opts("kubectl-scale");
    so.subresource = "scale";
    CHECK(cn_ssa_track_update(live, scaled, &so, &e) == 0);
    json_t *se = entry_of(scaled, "kubectl-scale", "Update");
    CHECK(se != NULL);
    CHECK_STR(json_string_value(json_object_get(se, "subresource")), "scale");
    CHECK(json_object_get(json_object_get(json_object_get(entry_of(scaled, "kubectl", "Apply"), "fieldsV1"),
                                          "f:spec"), "f:replicas") == NULL);
    /* Same value: no conflict (shared ownership). */
    json_t *same = json_deep_copy(d);
    json_object_set_new(json_object_get(same, "spec"), "replicas", json_integer(5));
    CHECK(cn_ssa_apply(scaled, same, &o, &out, &changed, &e) == 0);
    json_decref(out);
    json_decref(same);
    /* Old value: conflict. */
    CHECK(cn_ssa_apply(scaled, d, &o, &out, &changed, &e) < 0);
    CHECK_INT(e.code, 409);
    CHECK_STR(e.reason, "Conflict");
    CHECK_STR(e.message, "Apply failed with 1 conflict: conflict with \"kubectl-scale\" with subresource \"scale\" using apps/v1: .spec.replicas");
    json_t *st = cn_err_status(&e);
    json_t *cause = json_array_get(json_object_get(json_object_get(st, "details"), "causes"), 0);
    CHECK_STR(json_string_value(json_object_get(cause, "reason")), "FieldManagerConflict");
    CHECK_STR(json_string_value(json_object_get(cause, "field")), ".spec.replicas");
    json_decref(st);
    cn_err_clear(&e);
    /* Two conflicts, plural form. */
    json_t *two = json_deep_copy(d);
    json_t *up = json_deep_copy(scaled);
    json_object_set_new(json_object_get(json_object_get(up, "metadata"), "labels"), "app", json_string("x"));
    cn_ssa_opts uo = deploy_opts("kubectl-client-side-apply");
    CHECK(cn_ssa_track_update(scaled, up, &uo, &e) == 0);
    CHECK(cn_ssa_apply(up, two, &o, &out, &changed, &e) < 0);
    CHECK(strstr(e.message, "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .metadata.labels.app\nconflicts with") == e.message);
    cn_err_clear(&e);
    json_decref(two);
    json_decref(up);
    /* Force: the fields move to the applier. */
    o.force = true;
    CHECK(cn_ssa_apply(scaled, d, &o, &out, &changed, &e) == 0);
    CHECK(changed);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 2);
    CHECK(entry_of(out, "kubectl-scale", "Update") == NULL); /* its only field is gone: entry dropped */
    CHECK(json_object_get(json_object_get(json_object_get(entry_of(out, "kubectl", "Apply"), "fieldsV1"),
                                          "f:spec"), "f:replicas") != NULL);
    json_decref(out);
    json_decref(scaled);
    json_decref(live);
    json_decref(d);
}

/* Fields a manager stops applying go, unless another manager owns them. */
static void test_removal(void)
{
    cn_ssa_opts o = { .manager = "kubectl", .api_version = "v1",
                      .schema = cn_schema_for_kind("", "v1", "ConfigMap"), .now = "2026-01-01T00:00:00Z" };
    json_t *c1 = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"x\":\"1\",\"y\":\"2\"}},"
                   "\"data\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}");
    json_t *c2 = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}");
    json_t *live = NULL, *mid = NULL, *out = NULL;
    bool changed;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_ssa_apply(NULL, c1, &o, &live, &changed, &e) == 0);
    /* Another manager also owns data.c (same value) and label y. */
    cn_ssa_opts other = o;
    other.manager = "helper";
    json_t *c3 = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"y\":\"2\"}},\"data\":{\"c\":\"3\"}}");
    CHECK(cn_ssa_apply(live, c3, &other, &mid, &changed, &e) == 0);
    CHECK(!changed || entry_of(mid, "helper", "Apply") != NULL);
    CHECK(cn_ssa_apply(mid, c2, &o, &out, &changed, &e) == 0);
    CHECK(changed);
    json_t *data = json_object_get(out, "data");
    CHECK_STR(json_string_value(json_object_get(data, "a")), "1");
    CHECK(json_object_get(data, "b") == NULL);
    CHECK_STR(json_string_value(json_object_get(data, "c")), "3");
    json_t *labels = json_object_get(json_object_get(out, "metadata"), "labels");
    CHECK(json_object_get(labels, "x") == NULL);
    CHECK_STR(json_string_value(json_object_get(labels, "y")), "2");
    /* List items: a container's env var the manager stopped applying. */
    json_decref(out);
    json_t *d = J(DEPLOY), *dl = NULL;
    cn_ssa_opts dopts = deploy_opts("kubectl");
    CHECK(cn_ssa_apply(NULL, d, &dopts, &dl, &changed, &e) == 0);
    json_t *d2 = J(DEPLOY);
    json_t *ctr = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(d2, "spec"), "template"), "spec"), "containers"), 0);
    json_object_del(ctr, "env");
    json_object_set_new(json_object_get(d2, "metadata"), "finalizers", json_array());
    json_object_del(json_object_get(d2, "metadata"), "finalizers");
    CHECK(cn_ssa_apply(dl, d2, &dopts, &out, &changed, &e) == 0);
    json_t *octr = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"), "containers"), 0);
    CHECK(octr != NULL);
    CHECK(json_object_get(octr, "env") == NULL || json_array_size(json_object_get(octr, "env")) == 0);
    CHECK_STR(json_string_value(json_object_get(octr, "image")), "nginx:1");
    CHECK(json_array_size(json_object_get(json_object_get(out, "metadata"), "finalizers")) == 0);
    json_decref(out);
    json_decref(d2);
    json_decref(dl);
    json_decref(d);
    json_decref(c3);
    json_decref(mid);
    json_decref(live);
    json_decref(c1);
    json_decref(c2);
}

static void test_update_and_noop(void)
{
    cn_ssa_opts o = { .manager = "kubectl-create", .api_version = "v1",
                      .schema = cn_schema_for_kind("", "v1", "ConfigMap"), .now = "2026-01-01T00:00:00Z" };
    json_t *c = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"uid\":\"u\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}");
    cn_err e = CN_ERR_INIT;
    /* create */
    CHECK(cn_ssa_track_update(NULL, c, &o, &e) == 0);
    CHECK_STR(mf_json(c), "[{\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\"f:a\":{},\"f:b\":{}}},"
                          "\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"time\":\"2026-01-01T00:00:00Z\"}]");
    /* another manager edits b: ownership of b moves */
    json_t *n = json_deep_copy(c);
    json_object_set_new(json_object_get(n, "data"), "b", json_string("3"));
    cn_ssa_opts eo = o;
    eo.manager = "kubectl-edit";
    eo.now = "2026-01-02T00:00:00Z";
    CHECK(cn_ssa_track_update(c, n, &eo, &e) == 0);
    json_t *ce = entry_of(n, "kubectl-create", "Update"), *ee = entry_of(n, "kubectl-edit", "Update");
    CHECK(ce && ee);
    CHECK(json_object_get(json_object_get(json_object_get(ce, "fieldsV1"), "f:data"), "f:b") == NULL);
    CHECK(json_object_get(json_object_get(json_object_get(ee, "fieldsV1"), "f:data"), "f:b") != NULL);
    CHECK_STR(json_string_value(json_object_get(ce, "time")), "2026-01-01T00:00:00Z");
    /* stable order: by manager */
    json_t *mf = json_object_get(json_object_get(n, "metadata"), "managedFields");
    CHECK_STR(json_string_value(json_object_get(json_array_get(mf, 0), "manager")), "kubectl-create");
    /* a no-op update leaves the entries untouched */
    json_t *n2 = json_deep_copy(n);
    eo.now = "2026-01-03T00:00:00Z";
    CHECK(cn_ssa_track_update(n, n2, &eo, &e) == 0);
    CHECK(cn_json_equal(json_object_get(json_object_get(n, "metadata"), "managedFields"),
                        json_object_get(json_object_get(n2, "metadata"), "managedFields")));
    CHECK(cn_ssa_same_ignoring_managed(n, n2));
    /* a no-op apply reports no change */
    cn_ssa_opts ao = o;
    ao.manager = "kubectl";
    json_t *cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}");
    json_t *a1 = NULL, *a2 = NULL;
    bool changed;
    CHECK(cn_ssa_apply(n2, cfg, &ao, &a1, &changed, &e) == 0);
    CHECK(changed); /* new Apply entry */
    ao.now = "2026-01-09T00:00:00Z";
    CHECK(cn_ssa_apply(a1, cfg, &ao, &a2, &changed, &e) == 0);
    CHECK(!changed);
    /* deleting a key drops its ownership everywhere */
    json_t *n3 = json_deep_copy(a1);
    json_object_del(json_object_get(n3, "data"), "a");
    CHECK(cn_ssa_track_update(a1, n3, &eo, &e) == 0);
    CHECK(entry_of(n3, "kubectl", "Apply") == NULL);
    CHECK(entry_of(n3, "kubectl-create", "Update") == NULL);
    json_decref(n3);
    json_decref(a1);
    json_decref(a2);
    json_decref(cfg);
    json_decref(n2);
    json_decref(n);
    json_decref(c);
}

static void test_check_managed_fields(void)
{
    cn_err e = CN_ERR_INIT;
    json_t *ok = J("[{\"manager\":\"m\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\","
                   "\"fieldsV1\":{\"f:data\":{\"f:a\":{}},\"k:{\\\"name\\\":\\\"x\\\"}\":{\".\":{}}}}]");
    CHECK(cn_ssa_check_managed_fields(ok, &e) == 0);
    const char *bad[] = {
        "{}", "[1]", "[{\"manager\":\"m\",\"operation\":\"Patch\"}]",
        "[{\"manager\":\"m\",\"operation\":\"Update\",\"fieldsType\":\"FieldsV2\"}]",
        "[{\"manager\":\"m\",\"operation\":\"Update\",\"fieldsV1\":{\"spec\":{}}}]",
        "[{\"manager\":\"m\",\"operation\":\"Update\",\"fieldsV1\":{\"f:spec\":1}}]",
        NULL };
    for (int i = 0; bad[i]; i++) {
        json_t *b = J(bad[i]);
        CHECK(cn_ssa_check_managed_fields(b, &e) < 0);
        CHECK_INT(e.code, 400);
        cn_err_clear(&e);
        json_decref(b);
    }
    json_decref(ok);
    char *m = cn_ssa_manager_from_user_agent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc");
    CHECK_STR(m, "kubectl");
    free(m);
}

static json_t *ports_of(json_t *d)
{
    return json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(
        json_object_get(d, "spec"), "template"), "spec"), "containers"), 0), "ports");
}

/* Ports are keyed by port and protocol; items without a protocol are TCP. */
static void test_ports(void)
{
    cn_ssa_opts o = deploy_opts("kubectl");
    cn_err e = CN_ERR_INIT;
    bool changed;
    json_t *c1 = J(DEPLOY), *c2 = J(DEPLOY), *live = NULL, *out = NULL;
    json_array_append_new(ports_of(c1), json_pack("{s:i,s:s}", "containerPort", 81, "name", "m"));
    json_object_set_new(json_array_get(ports_of(c2), 0), "name", json_string("web"));
    CHECK(cn_ssa_apply(NULL, c1, &o, &live, &changed, &e) == 0);
    /* the stored object is defaulted */
    size_t i;
    json_t *it;
    json_array_foreach(ports_of(live), i, it) json_object_set_new(it, "protocol", json_string("TCP"));
    /* another manager names port 80 */
    json_t *named = json_deep_copy(live);
    json_object_set_new(json_array_get(ports_of(named), 0), "name", json_string("http"));
    cn_ssa_opts eo = deploy_opts("kubectl-edit");
    CHECK(cn_ssa_track_update(live, named, &eo, &e) == 0);
    CHECK(cn_ssa_apply(named, c2, &o, &out, &changed, &e) < 0);
    CHECK_STR(e.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: "
                         ".spec.template.spec.containers[name=\"main\"].ports[containerPort=80,protocol=\"TCP\"].name");
    cn_err_clear(&e);
    /* without the conflicting name: port 81 (no longer applied) goes */
    json_object_del(json_array_get(ports_of(c2), 0), "name");
    CHECK(cn_ssa_apply(named, c2, &o, &out, &changed, &e) == 0);
    CHECK_INT(json_array_size(ports_of(out)), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ports_of(out), 0), "containerPort")), 80);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ports_of(out), 0), "name")), "http");
    json_decref(out);
    json_decref(named);
    json_decref(live);
    json_decref(c1);
    json_decref(c2);
}

/* Custom resources: x-kubernetes-list-type map/set and map-type atomic. */
static void test_custom_list_types(void)
{
    json_t *sch = J("{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{"
                    "\"items\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"map\","
                    "\"x-kubernetes-list-map-keys\":[\"name\",\"zone\"],\"items\":{\"type\":\"object\"}},"
                    "\"tags\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"set\"},"
                    "\"sel\":{\"type\":\"object\",\"x-kubernetes-map-type\":\"atomic\"}}}}}");
    cn_ssa_opts o = { .manager = "a", .api_version = "x.io/v1", .cr_schema = sch, .now = "2026-01-01T00:00:00Z" };
    json_t *c1 = J("{\"spec\":{\"items\":[{\"name\":\"x\",\"zone\":\"z\",\"v\":1}],\"tags\":[\"t\"],\"sel\":{\"k\":\"1\"}}}");
    json_t *set = NULL;
    CHECK(cn_ssa_field_set(c1, &o, &set, NULL) == 0);
    json_t *want = J("{\"f:spec\":{\"f:items\":{\"k:{\\\"name\\\":\\\"x\\\",\\\"zone\\\":\\\"z\\\"}\":"
                     "{\".\":{},\"f:name\":{},\"f:zone\":{},\"f:v\":{}}},\"f:tags\":{\"v:\\\"t\\\"\":{}},\"f:sel\":{}}}");
    CHECK(cn_json_equal(set, want));
    json_decref(want);
    json_decref(set);
    /* another manager adds an item and a tag; the first one's re-apply keeps them */
    json_t *live = NULL, *mid = NULL, *out = NULL;
    bool changed;
    CHECK(cn_ssa_apply(NULL, c1, &o, &live, &changed, NULL) == 0);
    cn_ssa_opts b = o;
    b.manager = "b";
    json_t *c2 = J("{\"spec\":{\"items\":[{\"name\":\"y\",\"zone\":\"z\"}],\"tags\":[\"u\"],\"sel\":{\"k\":\"1\",\"j\":\"2\"}}}");
    cn_err e = CN_ERR_INIT;
    CHECK(cn_ssa_apply(live, c2, &b, &mid, &changed, &e) < 0);   /* sel is atomic: conflict */
    CHECK(e.message && strstr(e.message, ".spec.sel") != NULL);
    cn_err_clear(&e);
    json_object_del(json_object_get(c2, "spec"), "sel");
    CHECK(cn_ssa_apply(live, c2, &b, &mid, &changed, &e) == 0);
    CHECK_INT(json_array_size(json_object_get(json_object_get(mid, "spec"), "items")), 2);
    CHECK_INT(json_array_size(json_object_get(json_object_get(mid, "spec"), "tags")), 2);
    json_t *c3 = J("{\"spec\":{\"sel\":{\"k\":\"2\"}}}");
    CHECK(cn_ssa_apply(mid, c3, &o, &out, &changed, &e) == 0);   /* a stops applying x and t */
    json_t *items = json_object_get(json_object_get(out, "spec"), "items");
    CHECK_INT(json_array_size(items), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 0), "name")), "y");
    CHECK_INT(json_array_size(json_object_get(json_object_get(out, "spec"), "tags")), 1);
    CHECK(cn_json_equal(json_object_get(json_object_get(out, "spec"), "sel"), json_object_get(c3, "spec") ?
                        json_object_get(json_object_get(c3, "spec"), "sel") : NULL));
    json_decref(out);
    json_decref(c3);
    json_decref(c2);
    json_decref(mid);
    json_decref(live);
    json_decref(c1);
    json_decref(sch);
}

int main(void)
{
    TEST_RUN(test_field_set);
    TEST_RUN(test_create_by_apply);
    TEST_RUN(test_conflict_and_force);
    TEST_RUN(test_removal);
    TEST_RUN(test_update_and_noop);
    TEST_RUN(test_check_managed_fields);
    TEST_RUN(test_ports);
    TEST_RUN(test_custom_list_types);
    return TEST_DONE();
}
