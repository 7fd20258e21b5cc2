/* openapi: OpenAPI v3 documents, one per served group-version, plus the
 * index that points at them. kubectl reads them for two things:
 *  - apply/create --validate=strict: is there a path whose `patch`
 *    operation carries this kind's x-kubernetes-group-version-kind and a
 *    `fieldValidation` query parameter? Then the server validates.
 *  - explain, and client-side apply's patch metadata when the patch
 *    operation accepts strategic-merge-patch: components.schemas, found
 *    by their x-kubernetes-group-version-kind.
 * Built-in schemas come from the schema tables (schema.h); custom
 * resources use their CRD version's openAPIV3Schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/resource-internal.h"
#include "api/schema.h"
#include "lib/util.h"

#define K8S_VERSION "v1.32.0"
/* Bump when the built-in schema or path layout changes, so hashes move. */
#define SCHEMA_REVISION "cairn-openapi-1"
#define MAX_SCHEMA_DEPTH 48
#define MAX_INLINE_DEPTH 4

#define META_PKG "io.k8s.apimachinery.pkg.apis.meta.v1."
#define OBJECT_META META_PKG "ObjectMeta"
#define PATCH_SCHEMA META_PKG "Patch"
#define DELETE_OPTIONS META_PKG "DeleteOptions"
#define STATUS_SCHEMA META_PKG "Status"
#define REF_PREFIX "#/components/schemas/"

typedef struct doc_ctx {
    json_t *schemas;            /* components.schemas */
    const cn_message **seen;    /* messages already emitted (by pointer) */
    size_t nseen, capseen;
} doc_ctx;

/* --- hashing --- */

static void fnv(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 1099511628211ULL;
    }
}

static void fnvs(uint64_t *h, const char *s)
{
    fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* --- group-versions --- */

static char *gv_path(const char *group, const char *version)
{
    return group[0] ? cn_asprintf("apis/%s/%s", group, version) : cn_asprintf("api/%s", version);
}

/* The hash of one group-version's document: what it is built from. */
static uint64_t gv_hash(const cn_res_snapshot *s, const char *group, const char *version)
{
    uint64_t h = 14695981039346656037ULL;
    char gen[32];
    snprintf(gen, sizeof gen, "%llu", (unsigned long long)s->generation);
    fnvs(&h, SCHEMA_REVISION);
    fnvs(&h, gen);
    for (size_t i = 0; i < s->n; i++) {
        const cn_resource *res = s->items[i];
        if (strcmp(res->group, group) || strcmp(res->version, version)) continue;
        char fl[32];
        snprintf(fl, sizeof fl, "%u/%d", res->flags, res->namespaced);
        fnvs(&h, res->plural);
        fnvs(&h, res->kind);
        fnvs(&h, fl);
        if (res->crd_version) {
            char *d = json_dumps(res->crd_version, JSON_COMPACT | JSON_SORT_KEYS);
            fnvs(&h, d);
            free(d);
        }
    }
    return h;
}

json_t *cn_openapi_v3_index(cn_registry *r)
{
    cn_res_snapshot s;
    cn_registry_snapshot(r, &s);
    json_t *paths = json_object();
    for (size_t i = 0; i < s.n; i++) {
        const cn_resource *res = s.items[i];
        char *key = gv_path(res->group, res->version);
        if (!json_object_get(paths, key)) {
            char *url = cn_asprintf("/openapi/v3/%s?hash=%016llX", key,
                                    (unsigned long long)gv_hash(&s, res->group, res->version));
            json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
            free(url);
        }
        free(key);
    }
    cn_res_snapshot_release(&s);
    return json_pack("{s:o}", "paths", paths);
}

/* --- schemas --- */

static json_t *ref_to(const char *name)
{
    char *ref = cn_asprintf(REF_PREFIX "%s", name);
    json_t *o = json_pack("{s:[{s:s}], s:{}}", "allOf", "$ref", ref, "default");
    free(ref);
    return o;
}

static json_t *plain_ref(const char *name)
{
    char *ref = cn_asprintf(REF_PREFIX "%s", name);
    json_t *o = json_pack("{s:s}", "$ref", ref);
    free(ref);
    return o;
}

static void well_known(doc_ctx *d)
{
    json_object_set_new(d->schemas, "io.k8s.apimachinery.pkg.api.resource.Quantity",
        json_pack("{s:s, s:[{s:s}, {s:s}]}", "description",
                  "Quantity is a fixed-point representation of a number, such as \"100m\" or \"1Gi\".",
                  "oneOf", "type", "string", "type", "number"));
    json_object_set_new(d->schemas, "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        json_pack("{s:s, s:s, s:s}", "description",
                  "IntOrString is a type that can hold an int32 or a string.",
                  "type", "string", "format", "int-or-string"));
    json_object_set_new(d->schemas, META_PKG "Time",
        json_pack("{s:s, s:s, s:s}", "description", "Time is an RFC 3339 date and time in UTC.",
                  "type", "string", "format", "date-time"));
    json_object_set_new(d->schemas, META_PKG "MicroTime",
        json_pack("{s:s, s:s, s:s}", "description", "MicroTime is a time with microsecond precision.",
                  "type", "string", "format", "date-time"));
    json_object_set_new(d->schemas, PATCH_SCHEMA,
        json_pack("{s:s, s:s}", "description",
                  "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                  "type", "object"));
}

static bool seen(doc_ctx *d, const cn_message *m)
{
    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[i] == m) return true;
    if (d->nseen == d->capseen) {
        d->capseen = d->capseen ? d->capseen * 2 : 32;
        d->seen = cn_realloc(d->seen, d->capseen * sizeof *d->seen);
    }
    d->seen[d->nseen++] = m;
    return false;
}

static const char *add_message(doc_ctx *d, const cn_message *m, int depth);

static json_t *scalar_schema(doc_ctx *d, cn_ftype t, const cn_field *f, int depth)
{
    switch (t) {
    case CN_T_STRING: return json_pack("{s:s}", "type", "string");
    case CN_T_BYTES: return json_pack("{s:s, s:s}", "type", "string", "format", "byte");
    case CN_T_BOOL: return json_pack("{s:s}", "type", "boolean");
    case CN_T_INT32: return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
    case CN_T_INT64: return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
    case CN_T_DOUBLE: return json_pack("{s:s, s:s}", "type", "number", "format", "double");
    case CN_T_TIME: return plain_ref(f && f->micro_time ? META_PKG "MicroTime" : META_PKG "Time");
    case CN_T_QUANTITY: return plain_ref("io.k8s.apimachinery.pkg.api.resource.Quantity");
    case CN_T_INT_OR_STRING: return plain_ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    case CN_T_RAW: return json_pack("{s:b}", "x-kubernetes-preserve-unknown-fields", 1);
    case CN_T_MESSAGE: {
        const char *name = f && f->msg ? add_message(d, f->msg, depth + 1) : NULL;
        return name ? ref_to(name) : json_pack("{s:s}", "type", "object");
    }
    case CN_T_MAP: return json_pack("{s:s}", "type", "object");
    }
    return json_object();
}

static json_t *field_schema(doc_ctx *d, const cn_field *f, int depth)
{
    json_t *s;
    if (f->type == CN_T_MAP) {
        cn_field elem = { .type = f->elem, .msg = f->msg };
        s = json_pack("{s:s, s:o}", "type", "object", "additionalProperties",
                      scalar_schema(d, f->elem, &elem, depth));
    } else if (f->repeated) {
        s = json_pack("{s:s, s:o}", "type", "array", "items", scalar_schema(d, f->type, f, depth));
    } else {
        s = scalar_schema(d, f->type, f, depth);
    }
    const char *strategy = NULL;
    switch (f->strategy) {
    case CN_PS_REPLACE: break;
    case CN_PS_MERGE: strategy = "merge"; break;
    case CN_PS_RETAIN_KEYS: strategy = "retainKeys"; break;
    case CN_PS_MERGE_RETAIN: strategy = "merge,retainKeys"; break;
    }
    if (strategy) json_object_set_new(s, "x-kubernetes-patch-strategy", json_string(strategy));
    if (f->merge_key && f->strategy != CN_PS_RETAIN_KEYS)
        json_object_set_new(s, "x-kubernetes-patch-merge-key", json_string(f->merge_key));
    return s;
}

static void add_fields(doc_ctx *d, json_t *props, const cn_message *m, int depth, int inline_depth)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const cn_field *f = &m->fields[i];
        if (f->inlined) {
            if (f->msg && inline_depth < MAX_INLINE_DEPTH) add_fields(d, props, f->msg, depth, inline_depth + 1);
            continue;
        }
        if (!f->name) continue;
        json_object_set_new(props, f->name, field_schema(d, f, depth));
    }
}

static const char *short_name(const char *full)
{
    const char *dot = strrchr(full, '.');
    return dot ? dot + 1 : full;
}

/* Emit m (and what it reaches) into components.schemas; returns its key. */
static const char *add_message(doc_ctx *d, const cn_message *m, int depth)
{
    if (!m || !m->name) return NULL;
    if (seen(d, m)) return m->name;
    if (depth > MAX_SCHEMA_DEPTH) return NULL;
    /* Placeholder first: recursive types (JSONSchemaProps) refer back. */
    json_t *s = json_object();
    json_object_set_new(d->schemas, m->name, json_incref(s));
    char *desc = cn_asprintf("%s is a %s.", short_name(m->name),
                             strstr(m->name, ".meta.v1.") ? "Kubernetes API metadata type" : "Kubernetes API type");
    json_object_set_new(s, "description", json_string(desc));
    free(desc);
    json_object_set_new(s, "type", json_string("object"));
    json_t *props = json_object();
    add_fields(d, props, m, depth, 0);
    json_object_set_new(s, "properties", props);
    json_decref(s);
    return m->name;
}

/* "io.k8s.api.apps.v1" etc. for a built-in group without a schema table. */
static char *builtin_pkg(const char *group, const char *version)
{
    if (!group[0]) return cn_asprintf("io.k8s.api.core.%s", version);
    if (!strcmp(group, "apiextensions.k8s.io"))
        return cn_asprintf("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.%s", version);
    size_t n = strcspn(group, ".");
    return cn_asprintf("io.k8s.api.%.*s.%s", (int)n, group, version);
}

/* "com.example" for "example.com", as upstream names CRD schemas. */
static char *reversed_group(const char *group)
{
    cn_buf b;
    cn_buf_init(&b);
    const char *end = group + strlen(group);
    while (end > group) {
        const char *p = end;
        while (p > group && p[-1] != '.') p--;
        if (b.len) cn_buf_addc(&b, '.');
        cn_buf_add(&b, p, (size_t)(end - p));
        end = p > group ? p - 1 : group;
    }
    return cn_buf_detach(&b, NULL);
}

static void ensure_object_meta(doc_ctx *d)
{
    const cn_message *om = cn_schema_object_meta();
    if (om && om->name && !strcmp(om->name, OBJECT_META)) {
        add_message(d, om, 0);
    } else if (!json_object_get(d->schemas, OBJECT_META)) {
        json_object_set_new(d->schemas, OBJECT_META,
            json_pack("{s:s, s:s, s:{s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}}, s:{s:s, s:{s:s}}}}",
                      "description", "ObjectMeta is metadata that all persisted resources must have.",
                      "type", "object", "properties",
                      "name", "type", "string", "namespace", "type", "string",
                      "labels", "type", "object", "additionalProperties", "type", "string",
                      "annotations", "type", "object", "additionalProperties", "type", "string"));
    }
}

static void set_gvk(json_t *s, const char *group, const char *version, const char *kind)
{
    json_object_set_new(s, "x-kubernetes-group-version-kind",
                        json_pack("[{s:s, s:s, s:s}]", "group", group, "version", version, "kind", kind));
}

static json_t *describe_kind(const char *group, const char *version, const char *kind)
{
    char *desc = group[0] ? cn_asprintf("%s is a resource of %s/%s.", kind, group, version)
                          : cn_asprintf("%s is a resource of the core %s API.", kind, version);
    json_t *s = json_string(desc);
    free(desc);
    return s;
}

/* Add the schema of a kind; returns its key (caller frees) and whether it
 * came from a real schema table. */
static char *add_kind(doc_ctx *d, const char *group, const char *version, const char *kind,
                            const cn_resource *custom, bool *real)
{
    *real = false;
    ensure_object_meta(d);
    json_t *s;
    char *key;
    if (custom) {
        char *rg = reversed_group(group);
        key = cn_asprintf("%s.%s.%s", rg, version, kind);
        free(rg);
        const json_t *oas = json_object_get(json_object_get(custom->crd_version, "schema"), "openAPIV3Schema");
        s = json_is_object(oas) ? json_deep_copy(oas)
                                : json_pack("{s:s, s:b}", "type", "object", "x-kubernetes-preserve-unknown-fields", 1);
        json_t *props = json_object_get(s, "properties");
        if (!json_is_object(props)) {
            props = json_object();
            json_object_set_new(s, "properties", props);
        }
        if (!json_object_get(props, "apiVersion")) json_object_set_new(props, "apiVersion", json_pack("{s:s}", "type", "string"));
        if (!json_object_get(props, "kind")) json_object_set_new(props, "kind", json_pack("{s:s}", "type", "string"));
        json_object_set_new(props, "metadata", ref_to(OBJECT_META));
        if (!json_object_get(s, "type")) json_object_set_new(s, "type", json_string("object"));
    } else {
        const cn_message *m = cn_schema_for_kind(group, version, kind);
        const char *name = m ? add_message(d, m, 0) : NULL;
        if (name) {
            *real = true;
            key = cn_strdup(name);
            s = json_incref(json_object_get(d->schemas, name));
        } else {
            char *pkg = builtin_pkg(group, version);
            key = cn_asprintf("%s.%s", pkg, kind);
            free(pkg);
            s = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:o, s:{s:s}, s:{s:s}}}", "type", "object", "properties",
                          "apiVersion", "type", "string", "kind", "type", "string", "metadata", ref_to(OBJECT_META),
                          "spec", "type", "object", "status", "type", "object");
        }
    }
    if (!json_object_get(s, "description")) json_object_set_new(s, "description", describe_kind(group, version, kind));
    else if (*real) json_object_set_new(s, "description", describe_kind(group, version, kind));
    set_gvk(s, group, version, kind);
    json_object_set_new(d->schemas, key, s);
    return key;
}

/* --- paths --- */

static json_t *query_param(const char *name, const char *type, const char *desc)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:b}", "name", name, "in", "query", "description", desc,
                     "schema", "type", type, "uniqueItems", 1);
}

static json_t *write_params(bool patch)
{
    json_t *a = json_array();
    json_array_append_new(a, query_param("dryRun", "string",
        "When present, indicates that modifications should not be persisted. Valid value: All."));
    json_array_append_new(a, query_param("fieldManager", "string",
        "fieldManager is a name associated with the actor or entity that is making these changes."));
    json_array_append_new(a, query_param("fieldValidation", "string",
        "fieldValidation instructs the server on how to handle objects in the request containing unknown "
        "or duplicate fields. Valid values are: Ignore, Warn (the default), Strict."));
    if (patch)
        json_array_append_new(a, query_param("force", "boolean",
            "Force is going to \"force\" Apply requests: re-acquire conflicting fields owned by other people."));
    return a;
}

static json_t *list_params(void)
{
    json_t *a = json_array();
    json_array_append_new(a, query_param("allowWatchBookmarks", "boolean", "Requests watch events of type BOOKMARK."));
    json_array_append_new(a, query_param("continue", "string", "The continue token of the previous page."));
    json_array_append_new(a, query_param("fieldSelector", "string", "A selector on the objects' fields."));
    json_array_append_new(a, query_param("labelSelector", "string", "A selector on the objects' labels."));
    json_array_append_new(a, query_param("limit", "integer", "The maximum number of items to return."));
    json_array_append_new(a, query_param("resourceVersion", "string", "The resourceVersion to list or watch from."));
    json_array_append_new(a, query_param("timeoutSeconds", "integer", "Timeout for the list or watch call."));
    json_array_append_new(a, query_param("watch", "boolean", "Watch for changes instead of listing."));
    return a;
}

static json_t *delete_params(void)
{
    json_t *a = json_array();
    json_array_append_new(a, query_param("dryRun", "string",
        "When present, indicates that modifications should not be persisted. Valid value: All."));
    json_array_append_new(a, query_param("gracePeriodSeconds", "integer",
        "The duration in seconds before the object should be deleted."));
    json_array_append_new(a, query_param("propagationPolicy", "string",
        "Whether and how garbage collection will be performed: Orphan, Background or Foreground."));
    return a;
}

static json_t *json_content(const char *schema_key)
{
    json_t *c = json_object();
    static const char *const types[] = { "application/json", "application/yaml", "application/vnd.kubernetes.protobuf" };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        json_object_set_new(c, types[i], json_pack("{s:o}", "schema", plain_ref(schema_key)));
    return c;
}

static json_t *responses(const char *schema_key, bool created)
{
    json_t *r = json_pack("{s:{s:s, s:o}, s:{s:s}}", "200", "description", "OK", "content",
                          json_content(schema_key), "401", "description", "Unauthorized");
    if (created) json_object_set_new(r, "201", json_pack("{s:s, s:o}", "description", "Created",
                                                         "content", json_content(schema_key)));
    return r;
}

typedef struct op_target {
    const char *group, *version, *kind;  /* the GVK of the body/response */
    const char *schema_key;
    const char *op_id;                   /* "AppsV1NamespacedDeployment" */
    bool smp;                            /* accept strategic-merge-patch */
} op_target;

static json_t *operation(const char *action, const char *verb_prefix, const op_target *t, json_t *params)
{
    char *id = cn_asprintf("%s%s", verb_prefix, t->op_id);
    json_t *op = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "operationId", id, "x-kubernetes-action",
                           action, "description", action, "x-kubernetes-group-version-kind", "group", t->group,
                           "version", t->version, "kind", t->kind);
    free(id);
    if (params) json_object_set_new(op, "parameters", params);
    return op;
}

static json_t *patch_op(const op_target *t)
{
    json_t *op = operation("patch", "patch", t, write_params(true));
    json_t *content = json_object();
    const char *types[] = { "application/json-patch+json", "application/merge-patch+json",
                            t->smp ? "application/strategic-merge-patch+json" : NULL,
                            "application/apply-patch+yaml" };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i]) json_object_set_new(content, types[i], json_pack("{s:o}", "schema", plain_ref(PATCH_SCHEMA)));
    json_object_set_new(op, "requestBody", json_pack("{s:o, s:b}", "content", content, "required", 1));
    json_object_set_new(op, "responses", responses(t->schema_key, true));
    return op;
}

static json_t *body_op(const char *action, const char *prefix, const op_target *t, bool created)
{
    json_t *op = operation(action, prefix, t, write_params(false));
    json_object_set_new(op, "requestBody", json_pack("{s:{s:{s:o}}, s:b}", "content", "*/*", "schema",
                                                     plain_ref(t->schema_key), "required", 1));
    json_object_set_new(op, "responses", responses(t->schema_key, created));
    return op;
}

static json_t *get_op(const char *action, const char *prefix, const op_target *t, json_t *params)
{
    json_t *op = operation(action, prefix, t, params);
    json_object_set_new(op, "responses", responses(t->schema_key, false));
    return op;
}

static json_t *delete_op(const char *action, const char *prefix, const op_target *t, json_t *params)
{
    json_t *op = operation(action, prefix, t, params);
    json_object_set_new(op, "requestBody", json_pack("{s:{s:{s:o}}}", "content", "*/*", "schema",
                                                     plain_ref(DELETE_OPTIONS)));
    json_object_set_new(op, "responses", responses(STATUS_SCHEMA, false));
    return op;
}

static json_t *path_params(bool name, bool ns)
{
    json_t *a = json_array();
    if (name)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:{s:s}}", "name", "name", "in", "path",
                                           "description", "name of the object", "required", 1,
                                           "schema", "type", "string"));
    if (ns)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:{s:s}}", "name", "namespace", "in", "path",
                                           "description", "object name and auth scope, such as for teams and projects",
                                           "required", 1, "schema", "type", "string"));
    json_array_append_new(a, query_param("pretty", "string", "If 'true', then the output is pretty printed."));
    return a;
}

/* "AppsV1" / "CoreV1" / "RbacAuthorizationV1" */
static void group_camel(cn_buf *b, const char *group, const char *version)
{
    if (!group[0]) {
        cn_buf_adds(b, "Core");
    } else {
        size_t n = strlen(group);
        if (cn_str_has_suffix(group, ".k8s.io")) n -= strlen(".k8s.io");
        bool up = true;
        for (size_t i = 0; i < n; i++) {
            char c = group[i];
            if (c == '.' || c == '-') {
                up = true;
                continue;
            }
            cn_buf_addc(b, up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
            up = false;
        }
    }
    if (version[0] >= 'a' && version[0] <= 'z') {
        cn_buf_addc(b, (char)(version[0] - 'a' + 'A'));
        cn_buf_adds(b, version + 1);
    } else {
        cn_buf_adds(b, version);
    }
}

static void add_resource_paths(doc_ctx *d, json_t *paths, const cn_resource *res, const char *prefix)
{
    bool real;
    char *key = add_kind(d, res->group, res->version, res->kind,
                               (res->flags & CN_RES_CUSTOM) ? res : NULL, &real);
    cn_buf id;
    cn_buf_init(&id);
    group_camel(&id, res->group, res->version);
    if (res->namespaced) cn_buf_adds(&id, "Namespaced");
    cn_buf_adds(&id, res->kind);
    op_target t = { .group = res->group, .version = res->version, .kind = res->kind, .schema_key = key,
                    .op_id = id.data, .smp = real && !(res->flags & CN_RES_CUSTOM) };
    char *coll = res->namespaced ? cn_asprintf("/%s/namespaces/{namespace}/%s", prefix, res->plural)
                                 : cn_asprintf("/%s/%s", prefix, res->plural);

    json_t *cp = json_pack("{s:o}", "parameters", path_params(false, res->namespaced));
    json_object_set_new(cp, "post", body_op("post", "create", &t, true));
    if (!(res->flags & CN_RES_CREATE_ONLY)) {
        json_object_set_new(cp, "get", get_op("list", "list", &t, list_params()));
        json_object_set_new(cp, "delete", delete_op("deletecollection", "deleteCollection", &t, delete_params()));

        char *item = cn_asprintf("%s/{name}", coll);
        json_t *ip = json_pack("{s:o}", "parameters", path_params(true, res->namespaced));
        json_object_set_new(ip, "get", get_op("get", "read", &t, NULL));
        json_object_set_new(ip, "put", body_op("put", "replace", &t, true));
        json_object_set_new(ip, "patch", patch_op(&t));
        json_object_set_new(ip, "delete", delete_op("delete", "delete", &t, delete_params()));
        json_object_set_new(paths, item, ip);

        if (res->flags & CN_RES_STATUS) {
            char *sp = cn_asprintf("%s/status", item);
            cn_buf sid;
            cn_buf_init(&sid);
            cn_buf_addf(&sid, "%sStatus", id.data);
            op_target st = t;
            st.op_id = sid.data;
            json_t *o = json_pack("{s:o}", "parameters", path_params(true, res->namespaced));
            json_object_set_new(o, "get", get_op("get", "read", &st, NULL));
            json_object_set_new(o, "put", body_op("put", "replace", &st, true));
            json_object_set_new(o, "patch", patch_op(&st));
            json_object_set_new(paths, sp, o);
            cn_buf_release(&sid);
            free(sp);
        }
        if (res->flags & CN_RES_SCALE) {
            bool sreal;
            char *skey = add_kind(d, "autoscaling", "v1", "Scale", NULL, &sreal);
            char *sp = cn_asprintf("%s/scale", item);
            cn_buf sid;
            cn_buf_init(&sid);
            cn_buf_addf(&sid, "%sScale", id.data);
            op_target sc = { .group = "autoscaling", .version = "v1", .kind = "Scale", .schema_key = skey,
                             .op_id = sid.data, .smp = sreal };
            json_t *o = json_pack("{s:o}", "parameters", path_params(true, res->namespaced));
            json_object_set_new(o, "get", get_op("get", "read", &sc, NULL));
            json_object_set_new(o, "put", body_op("put", "replace", &sc, true));
            json_object_set_new(o, "patch", patch_op(&sc));
            json_object_set_new(paths, sp, o);
            cn_buf_release(&sid);
            free(sp);
            free(skey);
        }
        free(item);
    }
    json_object_set_new(paths, coll, cp);
    free(coll);
    free(key);
    cn_buf_release(&id);
}

static void add_meta_schemas(doc_ctx *d)
{
    const cn_message *dm = cn_schema_delete_options();
    if (!dm || !dm->name || strcmp(dm->name, DELETE_OPTIONS) || !add_message(d, dm, 0))
        json_object_set_new(d->schemas, DELETE_OPTIONS,
                            json_pack("{s:s, s:s}", "description",
                                      "DeleteOptions may be provided when deleting an API object.", "type", "object"));
    json_object_set_new(d->schemas, STATUS_SCHEMA,
        json_pack("{s:s, s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}}}",
                  "description", "Status is a return value for calls that don't return other objects.",
                  "type", "object", "properties", "apiVersion", "type", "string", "kind", "type", "string",
                  "message", "type", "string", "reason", "type", "string", "code", "type", "integer",
                  "format", "int32", "status", "type", "string"));
}

json_t *cn_openapi_v3_doc(cn_registry *r, const char *gvp)
{
    if (!gvp) return NULL;
    while (*gvp == '/') gvp++;
    size_t len = strcspn(gvp, "?");
    char *path = cn_strndup(gvp, len);
    char *group = NULL, *version = NULL;
    json_t *doc = NULL;
    if (cn_str_has_prefix(path, "api/")) {
        group = cn_strdup("");
        version = cn_strdup(path + 4);
    } else if (cn_str_has_prefix(path, "apis/")) {
        char *g = path + 5, *slash = strchr(g, '/');
        if (slash) {
            group = cn_strndup(g, (size_t)(slash - g));
            version = cn_strdup(slash + 1);
        }
    }
    if (!group || !version || !version[0] || strchr(version, '/') || !cn_registry_has_group_version(r, group, version))
        goto out;

    cn_res_snapshot s;
    cn_registry_snapshot(r, &s);
    doc_ctx d = { .schemas = json_object() };
    well_known(&d);
    add_meta_schemas(&d);
    json_t *paths = json_object();
    for (size_t i = 0; i < s.n; i++) {
        const cn_resource *res = s.items[i];
        if (!strcmp(res->group, group) && !strcmp(res->version, version))
            add_resource_paths(&d, paths, res, path);
    }
    cn_res_snapshot_release(&s);
    free(d.seen);
    doc = json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title", "Kubernetes",
                    "version", K8S_VERSION, "paths", paths, "components", "schemas", d.schemas);
out:
    free(group);
    free(version);
    free(path);
    return doc;
}
