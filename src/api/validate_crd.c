/* validate_crd: CustomResourceDefinitions themselves, and custom resources
 * against their version's structural schema (openAPIV3Schema): validation
 * with upstream's (go-openapi / apiextensions) messages, unknown-field
 * detection, pruning and `default` values.
 *
 * Differences from upstream, on purpose or for now:
 * - `pattern` is an ECMA-262 regex upstream; here it is compiled with POSIX
 *   regcomp (REG_EXTENDED) after rewriting \d \D \w \W \s \S. Other ECMA-only
 *   syntax (lookaround, lazy quantifiers, \b inside classes) fails to
 *   compile and the check is then skipped. Inside bracket expressions an
 *   escaped character is taken literally.
 * - `format` is checked for int32/int64 only.
 * - x-kubernetes-validations (CEL) rules are not evaluated. */
#include "api/validate-internal.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERN 1024

const json_t *cn_v_crd_schema(const cn_resource *res)
{
    if (!res || !res->crd_version) return NULL;
    const json_t *s = json_object_get(json_object_get(res->crd_version, "schema"), "openAPIV3Schema");
    return json_is_object(s) ? s : NULL;
}

static bool flag(const json_t *s, const char *key)
{
    return json_is_true(json_object_get(s, key));
}

/* --- the CRD object --- */

static const char *const schema_types[] = { "array", "boolean", "integer", "number", "object", "string", NULL };

static void structural(cn_vctx *v, const json_t *s, int depth, bool root)
{
    if (depth > CN_V_MAX_DEPTH) {
        cn_v_forbidden(v, NULL, "schema nesting is too deep");
        return;
    }
    if (!json_is_object(s)) {
        cn_v_invalid(v, NULL, s, "must be an object");
        return;
    }
    const char *type = cn_v_str(v, s, "type");
    bool ios = flag(s, "x-kubernetes-int-or-string"), puf = flag(s, "x-kubernetes-preserve-unknown-fields");
    if (type && *type && !cn_v_in(type, schema_types))
        cn_v_unsupported(v, "type", json_object_get(s, "type"), schema_types);
    if ((!type || !*type) && !ios && !puf)
        cn_v_required(v, "type", "must not be empty for specified object fields");
    if (root && type && strcmp(type, "object"))
        cn_v_invalid_str(v, "type", type, "must be object at the root");
    if (ios && type && *type)
        cn_v_invalid_str(v, "type", type, "must be empty to be structural when x-kubernetes-int-or-string is true");
    const json_t *props = cn_v_obj(v, s, "properties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    if (props && json_object_size(props) && addl && !json_is_false(addl))
        cn_v_forbidden(v, "additionalProperties", "additionalProperties and properties are mutual exclusive");
    const json_t *items = json_object_get(s, "items");
    if (type && !strcmp(type, "array") && !items) cn_v_required(v, "items", "must be specified");
    const char *k;
    const json_t *sub;
    json_object_foreach((json_t *)props, k, sub) {
        size_t m = cn_v_push(v, "properties");
        size_t m2 = cn_v_pushk(v, k);
        structural(v, sub, depth + 1, false);
        cn_v_pop(v, m2);
        cn_v_pop(v, m);
    }
    if (items) {
        size_t m = cn_v_push(v, "items");
        structural(v, items, depth + 1, false);
        cn_v_pop(v, m);
    }
    if (json_is_object(addl)) {
        size_t m = cn_v_push(v, "additionalProperties");
        structural(v, addl, depth + 1, false);
        cn_v_pop(v, m);
    }
}

static void kind_name(cn_vctx *v, const json_t *names, const char *key, bool required)
{
    const char *s = cn_v_str(v, names, key);
    if (!s || !*s) {
        if (required) cn_v_required(v, key, NULL);
        return;
    }
    char *lower = cn_strdup(s);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    const char *msg = cn_check_dns1035_label(lower);
    free(lower);
    if (msg) cn_v_invalid_str(v, key, s, "may have mixed case, but should otherwise match: %s", msg);
}

void cn_v_crd(cn_vctx *v, const json_t *obj, const json_t *old)
{
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        cn_v_pop(v, m);
        return;
    }
    const char *group = cn_v_str(v, spec, "group");
    if (!group || !*group) cn_v_required(v, "group", NULL);
    else if (!strchr(group, '.')) cn_v_invalid_str(v, "group", group, "should be a domain with at least one dot");
    else cn_v_dns_subdomain_field(v, "group", group);

    const json_t *names = cn_v_obj(v, spec, "names");
    size_t m2 = cn_v_push(v, "names");
    const char *plural = cn_v_str(v, names, "plural");
    if (!plural || !*plural) cn_v_required(v, "plural", NULL);
    else cn_v_dns_label_field(v, "plural", plural);
    const char *singular = cn_v_str(v, names, "singular");
    if (singular && *singular) cn_v_dns_label_field(v, "singular", singular);
    kind_name(v, names, "kind", true);
    kind_name(v, names, "listKind", true);
    const char *kind = cn_v_sget(names, "kind"), *lk = cn_v_sget(names, "listKind");
    if (kind && lk && !strcmp(kind, lk)) cn_v_invalid_str(v, "listKind", lk, "kind and listKind cannot be the same");
    size_t i;
    const json_t *sn;
    json_array_foreach((json_t *)cn_v_arr(v, names, "shortNames"), i, sn) {
        size_t m3 = cn_v_push(v, "shortNames");
        const char *msg = cn_check_dns1123_label(json_string_value(sn));
        if (msg) cn_v_invalid(v, NULL, sn, "%s", msg);
        cn_v_pop(v, m3);
    }
    cn_v_pop(v, m2);

    static const char *const scopes[] = { "Cluster", "Namespaced", NULL };
    cn_v_enum(v, spec, "scope", true, scopes);
    if (old) cn_v_same(v, spec, json_object_get(old, "spec"), "scope");

    const json_t *versions = cn_v_arr(v, spec, "versions");
    if (!json_array_size(versions)) {
        cn_v_required(v, "versions", "must have exactly one version marked as storage version");
    } else {
        int storage = 0, served = 0;
        json_t *seen = json_object();
        const json_t *ver;
        bool dup = false;
        json_array_foreach((json_t *)versions, i, ver) {
            size_t m3 = cn_v_push(v, "versions"), m4 = cn_v_pushi(v, i);
            const char *vn = cn_v_str(v, ver, "name");
            if (!vn || !*vn) cn_v_required(v, "name", NULL);
            else {
                const char *msg = cn_check_dns1035_label(vn);
                if (msg) cn_v_invalid_str(v, "name", vn, "%s", msg);
                if (json_object_get(seen, vn)) dup = true;
                json_object_set_new(seen, vn, json_true());
            }
            storage += flag(ver, "storage");
            served += flag(ver, "served");
            const json_t *schema = json_object_get(json_object_get(ver, "schema"), "openAPIV3Schema");
            size_t m5 = cn_v_push(v, "schema.openAPIV3Schema");
            if (!schema) cn_v_required(v, NULL, "schemas are required");
            else structural(v, schema, 0, true);
            cn_v_pop(v, m5);
            cn_v_pop(v, m4);
            cn_v_pop(v, m3);
        }
        json_decref(seen);
        if (storage != 1)
            cn_v_invalid(v, "versions", versions, "must have exactly one version marked as storage version");
        if (dup) cn_v_invalid(v, "versions", versions, "must contain unique version names");
        if (!served) cn_v_invalid(v, "versions", versions, "must have at least one served version");
    }
    const json_t *conv = cn_v_obj(v, spec, "conversion");
    static const char *const strategies[] = { "None", "Webhook", NULL };
    size_t m6 = cn_v_push(v, "conversion");
    if (conv) cn_v_enum(v, conv, "strategy", true, strategies);
    cn_v_pop(v, m6);
    cn_v_pop(v, m);

    const char *name = cn_v_sget(json_object_get(obj, "metadata"), "name");
    if (name && plural && group) {
        char *want = cn_asprintf("%s.%s", plural, group);
        if (strcmp(name, want))
            cn_v_invalid_str(v, "metadata.name", name, "must be spec.names.plural+\".\"+spec.group");
        free(want);
    }
    if (old) {
        const json_t *os = json_object_get(old, "spec");
        size_t m7 = cn_v_push(v, "spec");
        cn_v_same(v, spec, os, "group");
        cn_v_pop(v, m7);
    }
}

/* --- custom resources: validation --- */

static const char *actual_type(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return json_real_value(j) == floor(json_real_value(j)) ? "integer" : "number";
    case JSON_TRUE: case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static bool type_ok(const char *want, const json_t *j)
{
    const char *have = actual_type(j);
    if (!strcmp(want, have)) return true;
    return !strcmp(want, "number") && !strcmp(have, "integer");
}

static const char *body_path(const cn_vctx *v)
{
    return v->path.len ? v->path.data : "body";
}

static void type_error(cn_vctx *v, const json_t *val, const char *want)
{
    cn_v_cause(v, "FieldValueTypeInvalid", NULL, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
               actual_type(val), body_path(v), want, actual_type(val));
}

static double num(const json_t *j)
{
    return json_is_integer(j) ? (double)json_integer_value(j) : json_real_value(j);
}

static void fmt_num(cn_buf *b, double d)
{
    if (d == floor(d) && fabs(d) < 1e18) cn_buf_addf(b, "%lld", (long long)d);
    else cn_buf_addf(b, "%g", d);
}

static size_t rune_count(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    return n;
}

/* ECMA-ish pattern to POSIX ERE; NULL if too long. */
static char *translate_pattern(const char *pat)
{
    if (strlen(pat) > MAX_PATTERN) return NULL;
    cn_buf b;
    cn_buf_init(&b);
    bool in_class = false;
    for (const char *p = pat; *p; p++) {
        if (*p == '\\' && p[1]) {
            char c = *++p;
            const char *out = NULL;
            if (!in_class) {
                switch (c) {
                case 'd': out = "[0-9]"; break;
                case 'D': out = "[^0-9]"; break;
                case 'w': out = "[A-Za-z0-9_]"; break;
                case 'W': out = "[^A-Za-z0-9_]"; break;
                case 's': out = "[[:space:]]"; break;
                case 'S': out = "[^[:space:]]"; break;
                case 'n': out = "\n"; break;
                case 't': out = "\t"; break;
                }
                if (out) cn_buf_adds(&b, out);
                else {
                    cn_buf_addc(&b, '\\');
                    cn_buf_addc(&b, c);
                }
            } else {
                switch (c) {
                case 'd': out = "0-9"; break;
                case 'w': out = "A-Za-z0-9_"; break;
                case 's': out = "[:space:]"; break;
                case 'n': out = "\n"; break;
                case 't': out = "\t"; break;
                }
                if (out) cn_buf_adds(&b, out);
                else cn_buf_addc(&b, c);
            }
            continue;
        }
        if (!in_class && *p == '[') {
            in_class = true;
            cn_buf_addc(&b, '[');
            if (p[1] == '^') cn_buf_addc(&b, *++p);
            if (p[1] == ']') cn_buf_addc(&b, *++p);
            continue;
        }
        if (in_class && *p == ']') in_class = false;
        cn_buf_addc(&b, *p);
    }
    return cn_buf_detach(&b, NULL);
}

/* 1 match, 0 no match, -1 pattern unusable here. */
static int pattern_match(const char *pat, const char *s)
{
    char *ere = translate_pattern(pat);
    if (!ere) return -1;
    regex_t re;
    int r = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB);
    free(ere);
    if (r != 0) return -1;
    r = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return r;
}

static void enum_check(cn_vctx *v, const json_t *s, const json_t *val)
{
    const json_t *e = json_object_get(s, "enum");
    if (!json_is_array(e)) return;
    size_t i;
    const json_t *x;
    json_array_foreach((json_t *)e, i, x)
        if (json_equal((json_t *)x, (json_t *)val)) return;
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "Unsupported value: ");
    cn_v_render(&b, val);
    cn_buf_adds(&b, ": supported values: ");
    json_array_foreach((json_t *)e, i, x) {
        if (i) cn_buf_adds(&b, ", ");
        cn_v_render(&b, x);
    }
    cn_v_cause(v, "FieldValueNotSupported", NULL, "%s", b.data);
    cn_buf_release(&b);
}

static void number_checks(cn_vctx *v, const json_t *s, const json_t *val)
{
    double d = num(val);
    cn_buf b;
    cn_buf_init(&b);
    cn_v_render(&b, val);
    const json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
    if (json_is_number(mn)) {
        bool ex = flag(s, "exclusiveMinimum");
        if (ex ? d <= num(mn) : d < num(mn)) {
            cn_buf lim;
            cn_buf_init(&lim);
            fmt_num(&lim, num(mn));
            cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body should be greater than %s%s",
                       b.data, body_path(v), ex ? "" : "or equal to ", lim.data);
            cn_buf_release(&lim);
        }
    }
    if (json_is_number(mx)) {
        bool ex = flag(s, "exclusiveMaximum");
        if (ex ? d >= num(mx) : d > num(mx)) {
            cn_buf lim;
            cn_buf_init(&lim);
            fmt_num(&lim, num(mx));
            cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body should be less than %s%s",
                       b.data, body_path(v), ex ? "" : "or equal to ", lim.data);
            cn_buf_release(&lim);
        }
    }
    const json_t *mo = json_object_get(s, "multipleOf");
    if (json_is_number(mo) && num(mo) > 0) {
        double q = d / num(mo);
        if (q != floor(q)) {
            cn_buf lim;
            cn_buf_init(&lim);
            fmt_num(&lim, num(mo));
            cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body should be a multiple of %s",
                       b.data, body_path(v), lim.data);
            cn_buf_release(&lim);
        }
    }
    const char *fmt = cn_v_sget(s, "format");
    if (fmt && json_is_integer(val)) {
        json_int_t x = json_integer_value(val);
        if (!strcmp(fmt, "int32") && (x < INT32_MIN || x > INT32_MAX))
            cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body must be of type int32: %s",
                       b.data, body_path(v), b.data);
    }
    cn_buf_release(&b);
}

static void string_checks(cn_vctx *v, const json_t *s, const json_t *val)
{
    const char *str = json_string_value(val);
    size_t n = rune_count(str);
    int64_t lim;
    if (cn_v_int(v, s, "maxLength", &lim) && (int64_t)n > lim)
        cn_v_cause(v, "FieldValueTooLong", NULL, "Too long: may not be more than %lld bytes", (long long)lim);
    cn_buf b;
    cn_buf_init(&b);
    cn_v_render(&b, val);
    if (cn_v_int(v, s, "minLength", &lim) && (int64_t)n < lim)
        cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body should be at least %lld chars long",
                   b.data, body_path(v), (long long)lim);
    const char *pat = cn_v_sget(s, "pattern");
    if (pat && pattern_match(pat, str) == 0)
        cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %s: %s in body should match '%s'",
                   b.data, body_path(v), pat);
    cn_buf_release(&b);
}

static void schema_validate(cn_vctx *v, const json_t *s, const json_t *val, int depth, bool root);

static void array_checks(cn_vctx *v, const json_t *s, const json_t *val, int depth)
{
    size_t n = json_array_size(val);
    int64_t lim;
    if (cn_v_int(v, s, "maxItems", &lim) && (int64_t)n > lim)
        cn_v_cause(v, "FieldValueTooMany", NULL, "Too many: %zu: must have at most %lld items", n, (long long)lim);
    if (cn_v_int(v, s, "minItems", &lim) && (int64_t)n < lim)
        cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %zu: %s in body should have at least %lld items",
                   n, body_path(v), (long long)lim);
    const json_t *items = json_object_get(s, "items");
    const char *lt = cn_v_sget(s, "x-kubernetes-list-type");
    const json_t *keys = json_object_get(s, "x-kubernetes-list-map-keys");
    size_t i, j;
    const json_t *x, *y;
    json_array_foreach((json_t *)val, i, x) {
        size_t m = cn_v_pushi(v, i);
        if (json_is_object(items)) schema_validate(v, items, x, depth + 1, false);
        if ((lt && !strcmp(lt, "set")) || flag(s, "uniqueItems")) {
            for (j = 0; j < i; j++) {
                y = json_array_get(val, j);
                if (json_equal((json_t *)x, (json_t *)y)) {
                    cn_v_duplicate(v, NULL, x);
                    break;
                }
            }
        } else if (lt && !strcmp(lt, "map") && json_is_array(keys) && json_is_object(x)) {
            for (j = 0; j < i; j++) {
                y = json_array_get(val, j);
                size_t k;
                const json_t *key;
                bool same = true;
                json_array_foreach((json_t *)keys, k, key) {
                    const char *ks = json_string_value(key);
                    const json_t *a = ks ? json_object_get(x, ks) : NULL, *c = ks ? json_object_get(y, ks) : NULL;
                    if (!(a == c || (a && c && json_equal((json_t *)a, (json_t *)c)))) same = false;
                }
                if (same) {
                    json_t *d = json_object();
                    json_array_foreach((json_t *)keys, k, key) {
                        const char *ks = json_string_value(key);
                        json_t *a = ks ? json_object_get(x, ks) : NULL;
                        if (a) json_object_set(d, ks, a);
                    }
                    cn_v_duplicate(v, NULL, d);
                    json_decref(d);
                    break;
                }
            }
        }
        cn_v_pop(v, m);
    }
}

static void object_checks(cn_vctx *v, const json_t *s, const json_t *val, int depth, bool root)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    bool embedded = flag(s, "x-kubernetes-embedded-resource");
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(s, "required"), i, r) {
        const char *k = json_string_value(r);
        if (!k || (root && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata"))))
            continue;
        const json_t *x = json_object_get(val, k);
        if (!x) cn_v_required(v, k, NULL);
    }
    int64_t lim;
    size_t n = json_object_size(val);
    if (cn_v_int(v, s, "maxProperties", &lim) && (int64_t)n > lim)
        cn_v_cause(v, "FieldValueTooMany", NULL, "Too many: %zu: must have at most %lld items", n, (long long)lim);
    if (cn_v_int(v, s, "minProperties", &lim) && (int64_t)n < lim)
        cn_v_cause(v, "FieldValueInvalid", NULL, "Invalid value: %zu: %s in body should have at least %lld properties",
                   n, body_path(v), (long long)lim);
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)val, k, x) {
        if ((root || embedded) && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata")))
            continue;
        const json_t *sub = json_object_get(props, k);
        if (!sub && json_is_object(addl)) sub = addl;
        if (!json_is_object(sub)) continue;
        size_t m = cn_v_push(v, k);
        schema_validate(v, sub, x, depth + 1, false);
        cn_v_pop(v, m);
    }
}

static void schema_validate(cn_vctx *v, const json_t *s, const json_t *val, int depth, bool root)
{
    if (depth > CN_V_MAX_DEPTH || !json_is_object(s)) return;
    if (json_is_null(val)) {
        if (!flag(s, "nullable") && (cn_v_sget(s, "type") || flag(s, "x-kubernetes-int-or-string")))
            type_error(v, val, cn_v_sget(s, "type") ? cn_v_sget(s, "type") : "string");
        return;
    }
    const char *type = cn_v_sget(s, "type");
    if (flag(s, "x-kubernetes-int-or-string")) {
        if (!json_is_string(val) && !type_ok("integer", val)) {
            type_error(v, val, "integer,string");
            return;
        }
    } else if (type && *type && !type_ok(type, val)) {
        type_error(v, val, type);
        return;
    }
    enum_check(v, s, val);
    if (json_is_number(val)) number_checks(v, s, val);
    else if (json_is_string(val)) string_checks(v, s, val);
    else if (json_is_array(val)) array_checks(v, s, val, depth);
    else if (json_is_object(val)) object_checks(v, s, val, depth, root);
}

void cn_v_custom(cn_vctx *v, const cn_resource *res, const json_t *obj)
{
    const json_t *s = cn_v_crd_schema(res);
    if (!s) return;
    schema_validate(v, s, obj, 0, true);
}

/* --- unknown fields, pruning, defaults --- */

/* unknown != NULL: record paths; prune: delete the fields. */
static void prune_walk(const json_t *s, json_t *val, cn_buf *path, json_t *unknown, bool prune,
                       int depth, bool root)
{
    if (depth > CN_V_MAX_DEPTH || !json_is_object(s)) return;
    if (json_is_array(val)) {
        const json_t *items = json_object_get(s, "items");
        if (!json_is_object(items)) return;
        size_t i;
        json_t *x;
        json_array_foreach(val, i, x) {
            size_t mark = path->len;
            cn_buf_addf(path, "[%zu]", i);
            prune_walk(items, x, path, unknown, prune, depth + 1, false);
            path->len = mark;
            path->data[mark] = '\0';
        }
        return;
    }
    if (!json_is_object(val)) return;
    const json_t *props = json_object_get(s, "properties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    bool keep = flag(s, "x-kubernetes-preserve-unknown-fields") || json_is_true(addl);
    bool embedded = flag(s, "x-kubernetes-embedded-resource");
    const char *k;
    json_t *x;
    void *tmp;
    json_object_foreach_safe(val, tmp, k, x) {
        if ((root || embedded) && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata")))
            continue;
        const json_t *sub = json_object_get(props, k);
        if (!sub && json_is_object(addl)) sub = addl;
        if (!sub) {
            if (keep) continue;
            if (unknown && json_array_size(unknown) < 100) {
                char *p = path->len ? cn_asprintf("%s.%s", path->data, k) : cn_strdup(k);
                json_array_append_new(unknown, json_string(p));
                free(p);
            }
            if (prune) json_object_del(val, k);
            continue;
        }
        size_t mark = path->len;
        if (mark) cn_buf_addc(path, '.');
        cn_buf_adds(path, k);
        prune_walk(sub, x, path, unknown, prune, depth + 1, false);
        path->len = mark;
        path->data[mark] = '\0';
    }
}

void cn_v_custom_unknown(const cn_resource *res, const json_t *obj, json_t *unknown)
{
    const json_t *s = cn_v_crd_schema(res);
    if (!s) return;
    cn_buf path;
    cn_buf_init(&path);
    prune_walk(s, (json_t *)obj, &path, unknown, false, 0, true);
    cn_buf_release(&path);
}

void cn_prune_custom(const cn_resource *res, json_t *obj)
{
    if (!res || !(res->flags & CN_RES_CUSTOM) || !json_is_object(obj)) return;
    const json_t *s = cn_v_crd_schema(res);
    if (!s) return;
    cn_buf path;
    cn_buf_init(&path);
    prune_walk(s, obj, &path, NULL, true, 0, true);
    cn_buf_release(&path);
}

static void defaults_walk(const json_t *s, json_t *val, int depth, bool root)
{
    if (depth > CN_V_MAX_DEPTH || !json_is_object(s)) return;
    if (json_is_array(val)) {
        const json_t *items = json_object_get(s, "items");
        size_t i;
        json_t *x;
        json_array_foreach(val, i, x) defaults_walk(items, x, depth + 1, false);
        return;
    }
    if (!json_is_object(val)) return;
    const json_t *props = json_object_get(s, "properties");
    const char *k;
    const json_t *sub;
    json_object_foreach((json_t *)props, k, sub) {
        if (root && !strcmp(k, "metadata")) continue;
        const json_t *d = json_object_get(sub, "default");
        if (d && !json_object_get(val, k)) json_object_set_new(val, k, json_deep_copy(d));
    }
    json_t *x;
    void *tmp;
    const json_t *addl = json_object_get(s, "additionalProperties");
    json_object_foreach_safe(val, tmp, k, x) {
        if (root && !strcmp(k, "metadata")) continue;
        const json_t *ss = json_object_get(props, k);
        if (!ss && json_is_object(addl)) ss = addl;
        defaults_walk(ss, x, depth + 1, false);
    }
}

void cn_v_custom_defaults(const cn_resource *res, json_t *obj)
{
    const json_t *s = cn_v_crd_schema(res);
    if (s) defaults_walk(s, obj, 0, true);
}
