/* Unit tests for the REST layer's object helpers (objects.c) and the
 * Service allocator (alloc.c), which run without a server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/rest-internal.h"
#include "test.h"

static const cn_resource *res(cn_registry *reg, const char *g, const char *plural)
{
    return cn_registry_lookup(reg, g, "v1", plural);
}

static void test_keys(void)
{
    cn_registry *reg = cn_registry_new();
    char *k = cn_obj_key(res(reg, "", "configmaps"), "default", "a");
    CHECK_STR(k, "/registry/configmaps/default/a");
    free(k);
    k = cn_obj_key(res(reg, "", "nodes"), NULL, "n1");
    CHECK_STR(k, "/registry/nodes/n1");
    free(k);
    k = cn_obj_key(res(reg, "apps", "deployments"), "ns", "web");
    CHECK_STR(k, "/registry/apps/deployments/ns/web");
    free(k);
    cn_registry_free(reg);
}

static void test_store_roundtrip(void)
{
    cn_err e = CN_ERR_INIT;
    json_t *o = cn_obj_from_store("{\"metadata\":{\"name\":\"a\"}}", 25, 42, &e);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), "42");
    size_t len;
    char *s = cn_obj_to_store(o, &len);
    CHECK(strstr(s, "resourceVersion") == NULL);
    /* to_store must not change the object it serialises */
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), "42");
    free(s);
    json_decref(o);
    CHECK(cn_obj_from_store("[1]", 3, 1, &e) == NULL);
    CHECK_INT(e.code, 500);
    cn_err_clear(&e);
    CHECK(cn_obj_from_store("{nope", 5, 1, &e) == NULL);
    cn_err_clear(&e);
}

static void test_normalize(void)
{
    cn_registry *reg = cn_registry_new();
    json_t *o = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
                           "\"labels\":{},\"annotations\":null,\"finalizers\":[]},\"data\":{},\"binaryData\":null}",
                           0, NULL);
    cn_obj_normalize(res(reg, "", "configmaps"), o);
    json_t *m = json_object_get(o, "metadata");
    CHECK(json_object_get(m, "labels") == NULL);
    CHECK(json_object_get(m, "annotations") == NULL);
    CHECK(json_object_get(m, "finalizers") == NULL);
    CHECK(json_object_get(o, "data") == NULL);
    CHECK(json_object_get(o, "binaryData") == NULL);
    CHECK_STR(json_string_value(json_object_get(m, "name")), "a");
    json_decref(o);
    /* Nested: empty env list inside a pod template goes, the container stays. */
    o = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[],\"image\":\"x\"}]}}}}",
                   0, NULL);
    cn_obj_normalize(res(reg, "apps", "deployments"), o);
    json_t *c = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(o, "spec"), "template"), "spec"), "containers"), 0);
    CHECK(c != NULL);
    CHECK(json_object_get(c, "env") == NULL);
    CHECK_STR(json_string_value(json_object_get(c, "image")), "x");
    json_decref(o);
    cn_registry_free(reg);
}

static void test_spec_equal_and_names(void)
{
    json_t *a = json_loads("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"x\":1},\"status\":{\"y\":1}}", 0, NULL);
    json_t *b = json_loads("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"x\":1},\"status\":{\"y\":2}}", 0, NULL);
    json_t *c = json_loads("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"x\":2}}", 0, NULL);
    CHECK(cn_obj_spec_equal(a, b));
    CHECK(!cn_obj_spec_equal(a, c));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    char *n1 = cn_obj_generate_name("web-"), *n2 = cn_obj_generate_name("web-");
    CHECK_INT(strlen(n1), 9);
    CHECK(strncmp(n1, "web-", 4) == 0);
    CHECK(strcmp(n1, n2) != 0);
    free(n1);
    free(n2);
    char long_prefix[100];
    memset(long_prefix, 'a', 99);
    long_prefix[99] = '\0';
    n1 = cn_obj_generate_name(long_prefix);
    CHECK(strlen(n1) <= 63);
    free(n1);
}

static void test_alloc_cidr(void)
{
    cn_alloc *al = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_alloc_new("10.43.0.0/16", &al, &e) == 0);
    cn_alloc_free(al);
    al = NULL;
    CHECK(cn_alloc_new("10.43.0.0", &al, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_err_clear(&e);
    CHECK(cn_alloc_new("10.43.0.0/40", &al, &e) < 0);
    cn_err_clear(&e);
    CHECK(cn_alloc_new("nope/16", &al, &e) < 0);
    cn_err_clear(&e);
    CHECK(al == NULL);
}

int main(void)
{
    TEST_RUN(test_keys);
    TEST_RUN(test_store_roundtrip);
    TEST_RUN(test_normalize);
    TEST_RUN(test_spec_equal_and_names);
    TEST_RUN(test_alloc_cidr);
    return TEST_DONE();
}
