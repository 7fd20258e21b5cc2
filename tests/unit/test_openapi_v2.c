/* Unit tests for the OpenAPI v2 document (JSON) and its gnostic protobuf
 * encoding. The JSON checks include the shape rules kubectl's v2 parser
 * enforces on every definition; the protobuf checks walk the encoding
 * with a small decoder of their own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/resource.h"
#include "lib/util.h"
#include "test.h"

static const char *CRD_JSON =
    "{\"metadata\":{\"name\":\"gadgets.example.com\"},"
    "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"gadgets\",\"kind\":\"Gadget\"},"
    "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
    "\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{"
    "\"size\":{\"type\":\"string\",\"enum\":[\"small\",\"large\"]},"
    "\"port\":{\"x-kubernetes-int-or-string\":true,\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]},"
    "\"maybe\":{\"type\":\"string\",\"nullable\":true},"
    "\"free\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true,"
    "  \"properties\":{\"a\":{\"type\":\"string\"}}},"
    "\"list\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}}"
    "}}}}}}]}}";

static const json_t *defs(const json_t *doc)
{
    return json_object_get(doc, "definitions");
}

static const json_t *prop(const json_t *s, const char *name)
{
    return json_object_get(json_object_get(s, "properties"), name);
}

static bool has_query_param(const json_t *op, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p)
        if (!strcmp(json_string_value(json_object_get(p, "name")) ?: "", name) &&
            !strcmp(json_string_value(json_object_get(p, "in")) ?: "", "query") &&
            json_object_get(p, "type") && !json_object_get(p, "schema"))
            return true;
    return false;
}

/* kube-openapi's proto parser: a $ref stands alone (no type, no
 * properties), refs resolve, arrays have one items schema, one type from
 * the known set. Returns the number of violations. */
static int check_shape(const json_t *doc, const json_t *s, int depth)
{
    if (!json_is_object(s) || depth > 80) return 1;
    int bad = 0;
    if (json_object_get(s, "allOf") || json_object_get(s, "oneOf") || json_object_get(s, "anyOf") ||
        json_object_get(s, "nullable"))
        bad++;
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref) {
        if (json_object_get(s, "type") || json_object_get(s, "properties")) bad++;
        if (!cn_str_has_prefix(ref, "#/definitions/") || !json_object_get(defs(doc), ref + strlen("#/definitions/")))
            bad++;
        return bad;
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    if (json_object_get(s, "type") && !type) bad++;
    if (type && strcmp(type, "string") && strcmp(type, "integer") && strcmp(type, "number") &&
        strcmp(type, "boolean") && strcmp(type, "object") && strcmp(type, "array"))
        bad++;
    if (type && !strcmp(type, "array")) {
        if (!json_is_object(json_object_get(s, "items"))) bad++;
        else bad += check_shape(doc, json_object_get(s, "items"), depth + 1);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "properties"), k, v) bad += check_shape(doc, v, depth + 1);
    if (json_is_object(json_object_get(s, "additionalProperties")))
        bad += check_shape(doc, json_object_get(s, "additionalProperties"), depth + 1);
    return bad;
}

static void test_json_doc(void)
{
    cn_registry *r = cn_registry_new();
    json_t *doc = cn_openapi_v2_json(r);
    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "swagger")), "2.0");
    CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "title")), "Kubernetes");
    CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "version")), "v1.32.0");

    const json_t *dep = json_object_get(defs(doc), "io.k8s.api.apps.v1.Deployment");
    CHECK(dep != NULL);
    const json_t *gvk = json_array_get(json_object_get(dep, "x-kubernetes-group-version-kind"), 0);
    CHECK_STR(json_string_value(json_object_get(gvk, "group")), "apps");
    CHECK_STR(json_string_value(json_object_get(gvk, "version")), "v1");
    CHECK_STR(json_string_value(json_object_get(gvk, "kind")), "Deployment");
    CHECK_STR(json_string_value(json_object_get(prop(dep, "spec"), "$ref")),
              "#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
    CHECK_STR(json_string_value(json_object_get(prop(dep, "metadata"), "$ref")),
              "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");

    /* Patch metadata kubectl's client-side apply reads. */
    const json_t *containers = prop(json_object_get(defs(doc), "io.k8s.api.core.v1.PodSpec"), "containers");
    CHECK_STR(json_string_value(json_object_get(containers, "type")), "array");
    CHECK_STR(json_string_value(json_object_get(containers, "x-kubernetes-patch-merge-key")), "name");
    CHECK_STR(json_string_value(json_object_get(containers, "x-kubernetes-patch-strategy")), "merge");
    CHECK_STR(json_string_value(json_object_get(json_object_get(containers, "items"), "$ref")),
              "#/definitions/io.k8s.api.core.v1.Container");
    CHECK_STR(json_string_value(json_object_get(json_object_get(defs(doc), "io.k8s.apimachinery.pkg.api.resource.Quantity"),
                                                "type")), "string");

    /* Every definition has the shape kubectl's parser accepts. */
    const char *k;
    json_t *v;
    int bad = 0;
    json_object_foreach((json_t *)defs(doc), k, v) {
        int b = check_shape(doc, v, 0);
        if (b) fprintf(stderr, "bad v2 shape: %s\n", k);
        bad += b;
    }
    CHECK_INT(bad, 0);

    /* kubectl 1.27/1.28's fieldValidation check. */
    const json_t *paths = json_object_get(doc, "paths");
    const json_t *op = json_object_get(json_object_get(paths, "/api/v1/namespaces/{namespace}/configmaps/{name}"), "patch");
    CHECK(op != NULL);
    const json_t *ogvk = json_object_get(op, "x-kubernetes-group-version-kind");
    CHECK_STR(json_string_value(json_object_get(ogvk, "kind")), "ConfigMap");
    CHECK_STR(json_string_value(json_object_get(ogvk, "group")), "");
    CHECK(has_query_param(op, "fieldValidation"));
    CHECK(json_object_get(op, "requestBody") == NULL);
    op = json_object_get(json_object_get(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"), "patch");
    CHECK(has_query_param(op, "fieldValidation"));
    /* Request bodies become body parameters; response content a schema. */
    op = json_object_get(json_object_get(paths, "/apis/apps/v1/namespaces/{namespace}/deployments"), "post");
    const json_t *body = json_array_get(json_object_get(op, "parameters"), 0);
    CHECK_STR(json_string_value(json_object_get(body, "in")), "body");
    CHECK_STR(json_string_value(json_object_get(json_object_get(body, "schema"), "$ref")),
              "#/definitions/io.k8s.api.apps.v1.Deployment");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(op, "responses"), "201"),
                                                                "schema"), "$ref")),
              "#/definitions/io.k8s.api.apps.v1.Deployment");
    json_decref(doc);
    cn_registry_free(r);
}

static void test_crd(void)
{
    cn_registry *r = cn_registry_new();
    json_t *crd = json_loads(CRD_JSON, 0, NULL);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    json_t *doc = cn_openapi_v2_json(r);
    const json_t *g = json_object_get(defs(doc), "com.example.v1.Gadget");
    CHECK(g != NULL);
    const json_t *gvk = json_array_get(json_object_get(g, "x-kubernetes-group-version-kind"), 0);
    CHECK_STR(json_string_value(json_object_get(gvk, "kind")), "Gadget");
    CHECK_STR(json_string_value(json_object_get(gvk, "group")), "example.com");
    const json_t *spec = prop(g, "spec");
    CHECK_STR(json_string_value(json_object_get(prop(spec, "size"), "type")), "string");
    CHECK_INT(json_array_size(json_object_get(prop(spec, "size"), "enum")), 2);
    /* int-or-string, nullable and preserved values become untyped. */
    CHECK(json_object_get(prop(spec, "port"), "type") == NULL);
    CHECK(json_object_get(prop(spec, "port"), "anyOf") == NULL);
    CHECK(json_is_true(json_object_get(prop(spec, "port"), "x-kubernetes-int-or-string")));
    CHECK(json_object_get(prop(spec, "maybe"), "type") == NULL);
    CHECK(json_object_get(prop(spec, "free"), "type") == NULL);
    CHECK(json_object_get(prop(spec, "free"), "properties") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(prop(spec, "list"), "items"), "type")), "object");
    CHECK_INT(check_shape(doc, g, 0), 0);
    const json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"),
                                                       "/apis/example.com/v1/namespaces/{namespace}/gadgets/{name}"),
                                       "patch");
    CHECK(has_query_param(op, "fieldValidation"));
    json_decref(doc);
    json_decref(crd);
    cn_registry_free(r);
}

/* --- a small protobuf reader --- */

typedef struct pbf {
    int field, wt;
    const uint8_t *data;   /* WT 2 */
    size_t len;
    uint64_t num;          /* WT 0, 1 */
} pbf;

static bool rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

/* Next field of [*p, end); false at the end or on malformed input (*ok). */
static bool pb_next(const uint8_t **p, const uint8_t *end, pbf *f, bool *ok)
{
    if (*p >= end) return false;
    uint64_t tag;
    if (!rd_varint(p, end, &tag)) goto bad;
    f->field = (int)(tag >> 3);
    f->wt = (int)(tag & 7);
    if (f->wt == 0) {
        if (!rd_varint(p, end, &f->num)) goto bad;
    } else if (f->wt == 1) {
        if (end - *p < 8) goto bad;
        memcpy(&f->num, *p, 8);
        *p += 8;
    } else if (f->wt == 2) {
        uint64_t n;
        if (!rd_varint(p, end, &n) || n > (uint64_t)(end - *p)) goto bad;
        f->data = *p;
        f->len = (size_t)n;
        *p += n;
    } else {
        goto bad;
    }
    return true;
bad:
    *ok = false;
    return false;
}

/* The first length-delimited field `field` of a message, or NULL. */
static const uint8_t *pb_get(const uint8_t *msg, size_t len, int field, size_t *out_len)
{
    const uint8_t *p = msg, *end = msg + len;
    pbf f;
    bool ok = true;
    while (pb_next(&p, end, &f, &ok))
        if (f.field == field && f.wt == 2) {
            *out_len = f.len;
            return f.data;
        }
    return NULL;
}

static bool pb_str_is(const uint8_t *msg, size_t len, int field, const char *want)
{
    size_t n;
    const uint8_t *s = pb_get(msg, len, field, &n);
    return s && n == strlen(want) && !memcmp(s, want, n);
}

/* In a repeated (name = 1, value = 2) entry list under `field`, the value of `name`. */
static const uint8_t *pb_named(const uint8_t *msg, size_t len, int field, const char *name, size_t *out_len)
{
    const uint8_t *p = msg, *end = msg + len;
    pbf f;
    bool ok = true;
    while (pb_next(&p, end, &f, &ok))
        if (f.field == field && f.wt == 2 && pb_str_is(f.data, f.len, 1, name))
            return pb_get(f.data, f.len, 2, out_len);
    return NULL;
}

static bool contains(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(data + i, needle, n)) return true;
    return false;
}

static void test_proto(void)
{
    cn_registry *r = cn_registry_new();
    uint8_t *pb = NULL;
    size_t len = 0;
    CHECK_INT(cn_openapi_v2_proto(r, &pb, &len), 0);
    CHECK(pb != NULL && len > 1000);

    /* Top level: every field well-formed, consumed exactly. */
    const uint8_t *p = pb, *end = pb + len;
    pbf f;
    bool ok = true, saw_defs = false, saw_paths = false;
    while (pb_next(&p, end, &f, &ok)) {
        if (f.field == 8 && f.wt == 2) saw_paths = true;
        if (f.field == 9 && f.wt == 2) saw_defs = true;
    }
    CHECK(ok);
    CHECK(p == end);
    CHECK(saw_paths);
    CHECK(saw_defs);
    CHECK(pb_str_is(pb, len, 1, "2.0"));                               /* swagger */
    size_t ilen;
    const uint8_t *info = pb_get(pb, len, 2, &ilen);
    CHECK(info && pb_str_is(info, ilen, 1, "Kubernetes") && pb_str_is(info, ilen, 2, "v1.32.0"));

    /* definitions -> NamedSchema Deployment -> Schema: type object (22),
     * vendor_extension (31) with the GVK as YAML in Any.yaml (2). */
    size_t dlen, slen;
    const uint8_t *d = pb_get(pb, len, 9, &dlen);
    const uint8_t *dep = d ? pb_named(d, dlen, 1, "io.k8s.api.apps.v1.Deployment", &slen) : NULL;
    CHECK(dep != NULL);
    if (dep) {
        size_t tlen, alen, xlen;
        const uint8_t *type = pb_get(dep, slen, 22, &tlen);
        CHECK(type && pb_str_is(type, tlen, 1, "object"));
        const uint8_t *any = pb_named(dep, slen, 31, "x-kubernetes-group-version-kind", &alen);
        const uint8_t *yaml = any ? pb_get(any, alen, 2, &xlen) : NULL;
        CHECK(yaml && contains(yaml, xlen, "\"Deployment\"") && contains(yaml, xlen, "\"apps\""));
        /* properties (25) -> spec -> $ref (1) */
        size_t plen, splen;
        const uint8_t *props = pb_get(dep, slen, 25, &plen);
        const uint8_t *specs = props ? pb_named(props, plen, 1, "spec", &splen) : NULL;
        CHECK(specs && pb_str_is(specs, splen, 1, "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"));
    }

    /* paths -> configmaps/{name} -> patch (8) -> a query parameter named
     * fieldValidation: ParametersItem.parameter(1).non_body_parameter(2)
     * .query_parameter_sub_schema(3).name(4). */
    size_t plen, ilen2, olen;
    const uint8_t *paths = pb_get(pb, len, 8, &plen);
    const uint8_t *item = paths ? pb_named(paths, plen, 2, "/api/v1/namespaces/{namespace}/configmaps/{name}", &ilen2)
                                : NULL;
    const uint8_t *op = item ? pb_get(item, ilen2, 8, &olen) : NULL;
    CHECK(op != NULL);
    bool fv = false;
    if (op) {
        const uint8_t *q = op, *qend = op + olen;
        pbf pf;
        bool qok = true;
        while (pb_next(&q, qend, &pf, &qok)) {
            size_t a, b, c;
            const uint8_t *param = pf.field == 8 && pf.wt == 2 ? pb_get(pf.data, pf.len, 1, &a) : NULL;
            const uint8_t *nb = param ? pb_get(param, a, 2, &b) : NULL;
            const uint8_t *qs = nb ? pb_get(nb, b, 3, &c) : NULL;
            if (qs && pb_str_is(qs, c, 4, "fieldValidation") && pb_str_is(qs, c, 2, "query")) fv = true;
        }
        CHECK(qok);
        size_t alen, xlen;
        const uint8_t *any = pb_named(op, olen, 13, "x-kubernetes-group-version-kind", &alen);
        const uint8_t *yaml = any ? pb_get(any, alen, 2, &xlen) : NULL;
        CHECK(yaml && contains(yaml, xlen, "\"ConfigMap\""));
    }
    CHECK(fv);

    /* Cached per generation: the same bytes again; a CRD changes them. */
    uint8_t *pb2 = NULL;
    size_t len2 = 0;
    CHECK_INT(cn_openapi_v2_proto(r, &pb2, &len2), 0);
    CHECK(len2 == len && !memcmp(pb, pb2, len));
    free(pb2);
    json_t *crd = json_loads(CRD_JSON, 0, NULL);
    CHECK_INT(cn_registry_put_crd(r, crd, NULL), 0);
    CHECK_INT(cn_openapi_v2_proto(r, &pb2, &len2), 0);
    CHECK(len2 > len && contains(pb2, len2, "com.example.v1.Gadget"));
    CHECK(!contains(pb, len, "com.example.v1.Gadget"));
    free(pb2);
    json_decref(crd);
    CHECK_INT(cn_openapi_v2_proto(NULL, &pb2, &len2), -22);
    free(pb);
    cn_registry_free(r);
}

int main(void)
{
    TEST_RUN(test_json_doc);
    TEST_RUN(test_crd);
    TEST_RUN(test_proto);
    return TEST_DONE();
}
