/* openapi_v2: the Swagger 2.0 document (GET /openapi/v2), as JSON and as
 * the gnostic openapi.v2.Document protobuf message.
 *
 * kubectl 1.27/1.28 read it (protobuf only) for --validate=strict: a kind
 * whose `patch` operation carries its x-kubernetes-group-version-kind and
 * a `fieldValidation` query parameter is validated by the server; anything
 * else (kind: List) is validated client-side against `definitions`. Every
 * kubectl's client-side apply also reads it for strategic-merge patch
 * metadata. kubectl parses *every* definition (kube-openapi's proto
 * models) before using any, so each schema must have the strict v2 shape
 * that parser accepts: a $ref with no type or properties beside it,
 * arrays with exactly one items schema, a single primitive type.
 *
 * The document is derived from the OpenAPI v3 documents (openapi.c), one
 * per served group-version, so the schema walk over the built-in tables
 * and the CRD schemas exists once; here v3 shapes are rewritten as v2
 * ones (requestBody -> body parameter, content -> schema/produces,
 * allOf-wrapped refs -> $ref, nullable/oneOf/anyOf dropped, structural
 * CRD extensions turned into untyped values as upstream publishes them).
 * The protobuf bytes are cached per registry and generation. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/resource-internal.h"
#include "lib/util.h"

#define K8S_VERSION "v1.32.0"
#define MAX_SCHEMA_DEPTH 64
#define V3_REF "#/components/schemas/"
#define V2_REF "#/definitions/"
#define QUANTITY "io.k8s.apimachinery.pkg.api.resource.Quantity"

/* --- v3 -> v2 schema conversion --- */

static json_t *conv_schema(const json_t *in, int depth);

static json_t *conv_ref(const char *ref)
{
    if (cn_str_has_prefix(ref, V3_REF)) {
        char *r = cn_asprintf(V2_REF "%s", ref + strlen(V3_REF));
        json_t *s = json_string(r);
        free(r);
        return s;
    }
    return json_string(ref);
}

static void copy_extensions(json_t *out, const json_t *in)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v)
        if (cn_str_has_prefix(k, "x-")) json_object_set(out, k, v);
}

/* The referenced name when s is only a reference: {$ref} or the v3 form
 * {allOf: [{$ref}], default: {}} openapi.c uses for message fields. */
static const char *only_ref(const json_t *s)
{
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref) return ref;
    const json_t *all = json_object_get(s, "allOf");
    if (json_array_size(all) != 1 || json_object_get(s, "type") || json_object_get(s, "properties")) return NULL;
    return json_string_value(json_object_get(json_array_get(all, 0), "$ref"));
}

static bool is_true(const json_t *s, const char *key)
{
    return json_is_true(json_object_get(s, key));
}

static bool primitive_type(const char *t)
{
    static const char *const ok[] = { "string", "integer", "number", "boolean", "object", "array" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(t, ok[i])) return true;
    return false;
}

static json_t *conv_schema(const json_t *in, int depth)
{
    json_t *out = json_object();
    if (!json_is_object(in) || depth > MAX_SCHEMA_DEPTH) return out;
    const char *ref = only_ref(in);
    if (ref) {
        json_object_set_new(out, "$ref", conv_ref(ref));
        json_t *desc = json_object_get(in, "description");
        if (json_is_string(desc)) json_object_set(out, "description", desc);
        copy_extensions(out, in);
        return out;
    }
    /* What kubectl's v2 parser cannot take: nullable values (it rejects
     * null for a typed field) and preserved unknown fields lose their type
     * and structure; int-or-string loses its type. */
    bool untyped = is_true(in, "nullable") || is_true(in, "x-kubernetes-preserve-unknown-fields");
    bool drop_type = untyped || is_true(in, "x-kubernetes-int-or-string");

    static const char *const strings[] = { "description", "title", "format", "pattern" };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        json_t *v = json_object_get(in, strings[i]);
        if (json_is_string(v)) json_object_set(out, strings[i], v);
    }
    static const char *const numbers[] = { "maximum", "minimum", "multipleOf" };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        json_t *v = json_object_get(in, numbers[i]);
        if (json_is_number(v)) json_object_set(out, numbers[i], v);
    }
    static const char *const ints[] = { "maxLength", "minLength", "maxItems", "minItems",
                                        "maxProperties", "minProperties" };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        json_t *v = json_object_get(in, ints[i]);
        if (json_is_integer(v)) json_object_set(out, ints[i], v);
    }
    static const char *const bools[] = { "exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "readOnly" };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        json_t *v = json_object_get(in, bools[i]);
        if (json_is_boolean(v)) json_object_set(out, bools[i], v);
    }
    json_t *v = json_object_get(in, "default");
    if (v) json_object_set(out, "default", v);
    if ((v = json_object_get(in, "example"))) json_object_set(out, "example", v);
    if (json_is_array(v = json_object_get(in, "enum"))) json_object_set(out, "enum", v);
    if (json_is_array(v = json_object_get(in, "required"))) {
        json_t *req = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            if (json_is_string(e)) json_array_append(req, e);
        json_object_set_new(out, "required", req);
    }
    copy_extensions(out, in);

    const char *type = json_string_value(json_object_get(in, "type"));
    if (type && !drop_type && primitive_type(type)) json_object_set_new(out, "type", json_string(type));
    if (untyped) return out;
    bool is_object = !type || !strcmp(type, "object") || drop_type;
    bool is_array = type && !strcmp(type, "array") && !drop_type;

    const json_t *props = json_object_get(in, "properties");
    if (json_is_object(props) && is_object) {
        json_t *p = json_object();
        const char *k;
        json_t *ps;
        json_object_foreach((json_t *)props, k, ps)
            json_object_set_new(p, k, conv_schema(ps, depth + 1));
        json_object_set_new(out, "properties", p);
    }
    const json_t *ap = json_object_get(in, "additionalProperties");
    if (is_object && json_is_object(ap)) json_object_set_new(out, "additionalProperties", conv_schema(ap, depth + 1));
    else if (is_object && json_is_boolean(ap)) json_object_set(out, "additionalProperties", (json_t *)ap);
    if (is_array) {
        const json_t *items = json_object_get(in, "items");
        /* kubectl's parser wants exactly one items schema; {} is "anything". */
        json_object_set_new(out, "items", json_is_object(items) ? conv_schema(items, depth + 1) : json_object());
    }
    return out;
}

/* --- paths --- */

static json_t *conv_param(const json_t *p)
{
    json_t *out = json_object();
    static const char *const keep[] = { "name", "in", "description" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(p, keep[i]);
        if (json_is_string(v)) json_object_set(out, keep[i], v);
    }
    if (is_true(p, "required")) json_object_set_new(out, "required", json_true());
    const json_t *schema = json_object_get(p, "schema");
    const char *type = json_string_value(json_object_get(schema, "type"));
    json_object_set_new(out, "type", json_string(type ? type : "string"));
    const char *format = json_string_value(json_object_get(schema, "format"));
    if (format) json_object_set_new(out, "format", json_string(format));
    if (is_true(p, "uniqueItems")) json_object_set_new(out, "uniqueItems", json_true());
    copy_extensions(out, p);
    return out;
}

static json_t *conv_params(const json_t *params)
{
    json_t *a = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p) json_array_append_new(a, conv_param(p));
    return a;
}

/* The media types of a v3 content map, and its first schema. */
static json_t *content_types(const json_t *content, const json_t **schema)
{
    json_t *a = json_array();
    const char *mt;
    json_t *v;
    json_object_foreach((json_t *)content, mt, v) {
        json_array_append_new(a, json_string(mt));
        if (schema && !*schema) *schema = json_object_get(v, "schema");
    }
    return a;
}

static json_t *conv_operation(const json_t *op)
{
    json_t *out = json_object();
    static const char *const keep[] = { "operationId", "description", "summary", "tags", "deprecated" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(op, keep[i]);
        if (v) json_object_set(out, keep[i], v);
    }
    json_t *params = conv_params(json_object_get(op, "parameters"));
    const json_t *body = json_object_get(op, "requestBody");
    if (json_is_object(body)) {
        const json_t *schema = NULL;
        json_object_set_new(out, "consumes", content_types(json_object_get(body, "content"), &schema));
        json_t *bp = json_pack("{s:s, s:s, s:o}", "name", "body", "in", "body", "schema", conv_schema(schema, 0));
        if (is_true(body, "required")) json_object_set_new(bp, "required", json_true());
        json_array_insert_new(params, 0, bp);
    }
    if (json_array_size(params)) json_object_set_new(out, "parameters", params);
    else json_decref(params);

    json_t *resps = json_object();
    const char *code;
    json_t *r;
    json_object_foreach(json_object_get(op, "responses"), code, r) {
        json_t *nr = json_object();
        const char *desc = json_string_value(json_object_get(r, "description"));
        json_object_set_new(nr, "description", json_string(desc ? desc : ""));
        const json_t *content = json_object_get(r, "content");
        if (json_is_object(content)) {
            const json_t *schema = NULL;
            json_t *types = content_types(content, &schema);
            if (!json_object_get(out, "produces")) json_object_set_new(out, "produces", types);
            else json_decref(types);
            if (schema) json_object_set_new(nr, "schema", conv_schema(schema, 0));
        }
        json_object_set_new(resps, code, nr);
    }
    json_object_set_new(out, "responses", resps);
    copy_extensions(out, op);
    return out;
}

static json_t *conv_path_item(const json_t *item)
{
    static const char *const verbs[] = { "get", "put", "post", "delete", "options", "head", "patch" };
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const json_t *op = json_object_get(item, verbs[i]);
        if (json_is_object(op)) json_object_set_new(out, verbs[i], conv_operation(op));
    }
    const json_t *params = json_object_get(item, "parameters");
    if (json_array_size(params)) json_object_set_new(out, "parameters", conv_params(params));
    copy_extensions(out, item);
    return out;
}

json_t *cn_openapi_v2_json(cn_registry *r)
{
    json_t *paths = json_object(), *defs = json_object();
    json_t *index = cn_openapi_v3_index(r);
    const char *gv;
    json_t *ignored;
    json_object_foreach(json_object_get(index, "paths"), gv, ignored) {
        /* A group-version removed since the index was taken is skipped. */
        json_t *doc = cn_openapi_v3_doc(r, gv);
        if (!doc) continue;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(doc, "paths"), k, v)
            if (!json_object_get(paths, k)) json_object_set_new(paths, k, conv_path_item(v));
        json_object_foreach(json_object_get(json_object_get(doc, "components"), "schemas"), k, v)
            if (!json_object_get(defs, k)) json_object_set_new(defs, k, conv_schema(v, 0));
        json_decref(doc);
    }
    json_decref(index);
    /* v3 says "string or number"; v2 has no oneOf, and upstream publishes
     * a string (kubectl's validation lets any scalar through a string). */
    if (json_object_get(defs, QUANTITY))
        json_object_set_new(defs, QUANTITY, json_pack("{s:s, s:s}", "description",
            "Quantity is a fixed-point representation of a number, such as \"100m\" or \"1Gi\".",
            "type", "string"));
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:o}", "swagger", "2.0", "info", "title", "Kubernetes",
                     "version", K8S_VERSION, "paths", paths, "definitions", defs);
}

/* --- protobuf encoding (gnostic openapi.v2; field numbers from
 * gnostic-models openapiv2/OpenAPIv2.proto) --- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static void pb_varint(cn_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    cn_buf_add(b, tmp, n);
}

static void pb_tag(cn_buf *b, int field, int wt)
{
    pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wt);
}

static void pb_bytes(cn_buf *b, int field, const void *data, size_t n)
{
    pb_tag(b, field, WT_LEN);
    pb_varint(b, n);
    cn_buf_add(b, data, n);
}

static void pb_str(cn_buf *b, int field, const char *s)
{
    if (s) pb_bytes(b, field, s, strlen(s));
}

/* Optional proto3 string: omitted when empty, as Go's encoder does. */
static void pb_json_str(cn_buf *b, int field, const json_t *v)
{
    const char *s = json_string_value(v);
    if (s && *s) pb_str(b, field, s);
}

static void pb_bool(cn_buf *b, int field, bool v)
{
    pb_tag(b, field, WT_VARINT);
    pb_varint(b, v ? 1 : 0);
}

static void pb_json_bool(cn_buf *b, int field, const json_t *v)
{
    if (json_is_true(v)) pb_bool(b, field, true);
}

static void pb_double(cn_buf *b, int field, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(u >> (8 * i));
    pb_tag(b, field, WT_I64);
    cn_buf_add(b, le, sizeof le);
}

static void pb_json_double(cn_buf *b, int field, const json_t *v)
{
    if (json_is_number(v)) pb_double(b, field, json_number_value(v));
}

static void pb_json_int64(cn_buf *b, int field, const json_t *v)
{
    if (!json_is_integer(v) || !json_integer_value(v)) return;
    pb_tag(b, field, WT_VARINT);
    pb_varint(b, (uint64_t)json_integer_value(v));   /* two's complement, as int64 is */
}

/* Append sub as a length-delimited field and reset it. */
static void pb_msg(cn_buf *b, int field, cn_buf *sub)
{
    pb_bytes(b, field, sub->data ? sub->data : "", sub->len);
    cn_buf_reset(sub);
}

/* Any { yaml = 2 }: JSON text is YAML, which is what kubectl decodes. */
static void pb_any(cn_buf *b, int field, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    cn_buf any;
    cn_buf_init(&any);
    pb_str(&any, 2, text ? text : "null");
    pb_msg(b, field, &any);
    cn_buf_release(&any);
    free(text);
}

/* repeated NamedAny vendor_extension: every "x-" key. */
static void pb_extensions(cn_buf *b, int field, const json_t *obj)
{
    const char *k;
    json_t *v;
    cn_buf named;
    cn_buf_init(&named);
    json_object_foreach((json_t *)obj, k, v) {
        if (!cn_str_has_prefix(k, "x-")) continue;
        pb_str(&named, 1, k);
        pb_any(&named, 2, v);
        pb_msg(b, field, &named);
    }
    cn_buf_release(&named);
}

static void pb_strings(cn_buf *b, int field, const json_t *a)
{
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s)
        if (json_is_string(s)) pb_str(b, field, json_string_value(s));
}

static void pb_schema(cn_buf *b, const json_t *s, int depth);

static void pb_schema_field(cn_buf *b, int field, const json_t *s, int depth)
{
    cn_buf sub;
    cn_buf_init(&sub);
    pb_schema(&sub, s, depth + 1);
    pb_msg(b, field, &sub);
    cn_buf_release(&sub);
}

/* repeated NamedSchema (Properties, Definitions: additional_properties = 1). */
static void pb_named_schemas(cn_buf *b, const json_t *obj, int depth)
{
    const char *k;
    json_t *v;
    cn_buf named;
    cn_buf_init(&named);
    json_object_foreach((json_t *)obj, k, v) {
        pb_str(&named, 1, k);
        pb_schema_field(&named, 2, v, depth);
        pb_msg(b, 1, &named);
    }
    cn_buf_release(&named);
}

/* Schema. The depth bound mirrors conv_schema's; deeper input is cut. */
static void pb_schema(cn_buf *b, const json_t *s, int depth)
{
    if (!json_is_object(s) || depth > MAX_SCHEMA_DEPTH) return;
    cn_buf sub;
    cn_buf_init(&sub);
    pb_json_str(b, 1, json_object_get(s, "$ref"));
    pb_json_str(b, 2, json_object_get(s, "format"));
    pb_json_str(b, 3, json_object_get(s, "title"));
    pb_json_str(b, 4, json_object_get(s, "description"));
    const json_t *v = json_object_get(s, "default");
    if (v) pb_any(b, 5, v);
    pb_json_double(b, 6, json_object_get(s, "multipleOf"));
    pb_json_double(b, 7, json_object_get(s, "maximum"));
    pb_json_bool(b, 8, json_object_get(s, "exclusiveMaximum"));
    pb_json_double(b, 9, json_object_get(s, "minimum"));
    pb_json_bool(b, 10, json_object_get(s, "exclusiveMinimum"));
    pb_json_int64(b, 11, json_object_get(s, "maxLength"));
    pb_json_int64(b, 12, json_object_get(s, "minLength"));
    pb_json_str(b, 13, json_object_get(s, "pattern"));
    pb_json_int64(b, 14, json_object_get(s, "maxItems"));
    pb_json_int64(b, 15, json_object_get(s, "minItems"));
    pb_json_bool(b, 16, json_object_get(s, "uniqueItems"));
    pb_json_int64(b, 17, json_object_get(s, "maxProperties"));
    pb_json_int64(b, 18, json_object_get(s, "minProperties"));
    pb_strings(b, 19, json_object_get(s, "required"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "enum"), i, e) pb_any(b, 20, e);
    v = json_object_get(s, "additionalProperties");
    if (json_is_object(v)) {
        pb_schema_field(&sub, 1, v, depth);              /* AdditionalPropertiesItem.schema */
        pb_msg(b, 21, &sub);
    } else if (json_is_boolean(v)) {
        pb_bool(&sub, 2, json_is_true(v));               /* .boolean: oneof, sent even if false */
        pb_msg(b, 21, &sub);
    }
    v = json_object_get(s, "type");
    if (json_is_string(v)) {
        pb_str(&sub, 1, json_string_value(v));           /* TypeItem.value */
        pb_msg(b, 22, &sub);
    }
    v = json_object_get(s, "items");
    if (json_is_object(v)) {
        pb_schema_field(&sub, 1, v, depth);              /* ItemsItem.schema */
        pb_msg(b, 23, &sub);
    }
    v = json_object_get(s, "properties");
    if (json_is_object(v)) {
        pb_named_schemas(&sub, v, depth);                /* Properties */
        pb_msg(b, 25, &sub);
    }
    pb_json_bool(b, 27, json_object_get(s, "readOnly"));
    if ((v = json_object_get(s, "example"))) pb_any(b, 30, v);
    pb_extensions(b, 31, s);
    cn_buf_release(&sub);
}

/* ParametersItem { parameter = 1 { body_parameter = 1 | non_body_parameter = 2 } } */
static void pb_parameter(cn_buf *b, const json_t *p)
{
    cn_buf inner, param;
    cn_buf_init(&inner);
    cn_buf_init(&param);
    const char *in = json_string_value(json_object_get(p, "in"));
    if (in && !strcmp(in, "body")) {
        pb_json_str(&inner, 1, json_object_get(p, "description"));
        pb_json_str(&inner, 2, json_object_get(p, "name"));
        pb_str(&inner, 3, in);
        pb_json_bool(&inner, 4, json_object_get(p, "required"));
        pb_schema_field(&inner, 5, json_object_get(p, "schema"), 0);
        pb_extensions(&inner, 6, p);
        pb_msg(&param, 1, &inner);
    } else {
        /* QueryParameterSubSchema (3) and PathParameterSubSchema (4) share
         * 1-4 (required, in, description, name); type and format are 6/7
         * for query and 5/6 for path, unique_items 20 and 19. Header
         * parameters (1) use the path layout. */
        bool query = in && !strcmp(in, "query");
        int which = query ? 3 : (in && !strcmp(in, "header")) ? 1 : 4;
        cn_buf sub;
        cn_buf_init(&sub);
        pb_json_bool(&sub, 1, json_object_get(p, "required"));
        pb_json_str(&sub, 2, json_object_get(p, "in"));
        pb_json_str(&sub, 3, json_object_get(p, "description"));
        pb_json_str(&sub, 4, json_object_get(p, "name"));
        pb_json_str(&sub, query ? 6 : 5, json_object_get(p, "type"));
        pb_json_str(&sub, query ? 7 : 6, json_object_get(p, "format"));
        pb_json_bool(&sub, query ? 20 : 19, json_object_get(p, "uniqueItems"));
        pb_extensions(&sub, query ? 23 : 22, p);
        pb_msg(&inner, which, &sub);
        cn_buf_release(&sub);
        pb_msg(&param, 2, &inner);
    }
    pb_msg(b, 1, &param);
    cn_buf_release(&inner);
    cn_buf_release(&param);
}

static void pb_parameters(cn_buf *b, int field, const json_t *params)
{
    size_t i;
    json_t *p;
    cn_buf item;
    cn_buf_init(&item);
    json_array_foreach(params, i, p) {
        pb_parameter(&item, p);
        pb_msg(b, field, &item);
    }
    cn_buf_release(&item);
}

/* Responses { response_code = 1: NamedResponseValue { name = 1, value = 2:
 * ResponseValue { response = 1: Response { description = 1, schema = 2:
 * SchemaItem { schema = 1 } } } } } */
static void pb_responses(cn_buf *b, const json_t *resps)
{
    const char *code;
    json_t *r;
    cn_buf resp, val, named;
    cn_buf_init(&resp);
    cn_buf_init(&val);
    cn_buf_init(&named);
    json_object_foreach((json_t *)resps, code, r) {
        pb_json_str(&resp, 1, json_object_get(r, "description"));
        const json_t *schema = json_object_get(r, "schema");
        if (schema) {
            cn_buf item;
            cn_buf_init(&item);
            pb_schema_field(&item, 1, schema, 0);
            pb_msg(&resp, 2, &item);
            cn_buf_release(&item);
        }
        pb_extensions(&resp, 5, r);
        pb_msg(&val, 1, &resp);
        pb_str(&named, 1, code);
        pb_msg(&named, 2, &val);
        pb_msg(b, 1, &named);
    }
    cn_buf_release(&resp);
    cn_buf_release(&val);
    cn_buf_release(&named);
}

/* Operation */
static void pb_operation(cn_buf *b, const json_t *op)
{
    pb_strings(b, 1, json_object_get(op, "tags"));
    pb_json_str(b, 2, json_object_get(op, "summary"));
    pb_json_str(b, 3, json_object_get(op, "description"));
    pb_json_str(b, 5, json_object_get(op, "operationId"));
    pb_strings(b, 6, json_object_get(op, "produces"));
    pb_strings(b, 7, json_object_get(op, "consumes"));
    pb_parameters(b, 8, json_object_get(op, "parameters"));
    cn_buf sub;
    cn_buf_init(&sub);
    pb_responses(&sub, json_object_get(op, "responses"));
    pb_msg(b, 9, &sub);
    cn_buf_release(&sub);
    pb_json_bool(b, 11, json_object_get(op, "deprecated"));
    pb_extensions(b, 13, op);
}

/* PathItem: get 2, put 3, post 4, delete 5, options 6, head 7, patch 8,
 * parameters 9, vendor_extension 10. */
static void pb_path_item(cn_buf *b, const json_t *item)
{
    static const struct { const char *verb; int field; } ops[] = {
        { "get", 2 }, { "put", 3 }, { "post", 4 }, { "delete", 5 }, { "options", 6 }, { "head", 7 }, { "patch", 8 },
    };
    cn_buf sub;
    cn_buf_init(&sub);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const json_t *op = json_object_get(item, ops[i].verb);
        if (!json_is_object(op)) continue;
        pb_operation(&sub, op);
        pb_msg(b, ops[i].field, &sub);
    }
    cn_buf_release(&sub);
    pb_parameters(b, 9, json_object_get(item, "parameters"));
    pb_extensions(b, 10, item);
}

/* Document: swagger 1, info 2 (title 1, version 2), paths 8 (path 2:
 * NamedPathItem), definitions 9 (additional_properties 1: NamedSchema). */
static void pb_document(cn_buf *b, const json_t *doc)
{
    cn_buf sub, named, item;
    cn_buf_init(&sub);
    cn_buf_init(&named);
    cn_buf_init(&item);
    pb_json_str(b, 1, json_object_get(doc, "swagger"));
    const json_t *info = json_object_get(doc, "info");
    pb_json_str(&sub, 1, json_object_get(info, "title"));
    pb_json_str(&sub, 2, json_object_get(info, "version"));
    pb_json_str(&sub, 3, json_object_get(info, "description"));
    pb_msg(b, 2, &sub);
    pb_strings(b, 6, json_object_get(doc, "consumes"));
    pb_strings(b, 7, json_object_get(doc, "produces"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "paths"), k, v) {
        pb_str(&named, 1, k);
        pb_path_item(&item, v);
        pb_msg(&named, 2, &item);
        pb_msg(&sub, 2, &named);
    }
    pb_msg(b, 8, &sub);
    pb_named_schemas(&sub, json_object_get(doc, "definitions"), 0);
    pb_msg(b, 9, &sub);
    pb_extensions(b, 16, doc);
    cn_buf_release(&sub);
    cn_buf_release(&named);
    cn_buf_release(&item);
}

/* --- the cache: one document, for the registry that asked last --- */

static struct {
    pthread_mutex_t mu;
    const cn_registry *reg;
    uint64_t generation;
    uint8_t *bytes;
    size_t len;
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

int cn_openapi_v2_proto(cn_registry *r, uint8_t **out, size_t *len)
{
    if (!r || !out || !len) return -EINVAL;
    uint64_t gen = cn_registry_generation(r);
    pthread_mutex_lock(&cache.mu);
    if (!cache.bytes || cache.reg != r || cache.generation != gen) {
        /* Built under the lock: concurrent first requests wait for one
         * build instead of each building a multi-megabyte document. */
        json_t *doc = cn_openapi_v2_json(r);
        cn_buf b;
        cn_buf_init(&b);
        pb_document(&b, doc);
        json_decref(doc);
        free(cache.bytes);
        cache.bytes = (uint8_t *)cn_buf_detach(&b, &cache.len);
        cache.reg = r;
        cache.generation = gen;
    }
    uint8_t *copy = cn_malloc(cache.len ? cache.len : 1);
    memcpy(copy, cache.bytes, cache.len);
    *len = cache.len;
    pthread_mutex_unlock(&cache.mu);
    *out = copy;
    return 0;
}

void cn_openapi_v2_forget(const cn_registry *r)
{
    pthread_mutex_lock(&cache.mu);
    if (cache.reg == r) {
        free(cache.bytes);
        cache.bytes = NULL;
        cache.len = 0;
        cache.reg = NULL;
    }
    pthread_mutex_unlock(&cache.mu);
}
