/* validate: the common part of object validation. Field errors are collected
 * like upstream's field.ErrorList and turned into one 422 Invalid Status
 * (details.causes[] + the aggregated message). This file holds the error
 * builders, the syntax checks shared by every kind (names, labels, selectors,
 * quantities), ObjectMeta rules, the per-kind dispatch and strict-field
 * detection for built-in kinds against the schema tables. */
#include "api/validate.h"
#include "api/validate-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"

#define MAX_ANNOTATIONS_BYTES (256 * 1024)
#define MAX_UNKNOWN 100

/* --- upstream's texts (k8s.io/apimachinery util/validation) --- */

static const char msg_label[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char msg_subdomain[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char msg_prefix_subdomain[] =
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
    "'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char msg_1035[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char msg_qname_part[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char msg_qname[] =
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')";
static const char msg_label_value[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const char cn_quantity_regex_msg[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/* --- the error collector --- */

void cn_v_init(cn_vctx *v, bool update)
{
    v->causes = json_array();
    cn_buf_init(&v->path);
    v->update = update;
}

void cn_v_release(cn_vctx *v)
{
    json_decref(v->causes);
    v->causes = NULL;
    cn_buf_release(&v->path);
}

size_t cn_v_push(cn_vctx *v, const char *child)
{
    size_t mark = v->path.len;
    if (v->path.len) cn_buf_addc(&v->path, '.');
    cn_buf_adds(&v->path, child);
    return mark;
}

size_t cn_v_pushi(cn_vctx *v, size_t index)
{
    size_t mark = v->path.len;
    cn_buf_addf(&v->path, "[%zu]", index);
    return mark;
}

size_t cn_v_pushk(cn_vctx *v, const char *key)
{
    size_t mark = v->path.len;
    cn_buf_addf(&v->path, "[%s]", key);
    return mark;
}

void cn_v_pop(cn_vctx *v, size_t mark)
{
    if (mark > v->path.len) return;
    v->path.len = mark;
    if (v->path.data) v->path.data[mark] = '\0';
}

static void add_cause(cn_vctx *v, const char *reason, const char *child, char *msg)
{
    if (json_array_size(v->causes) >= CN_V_MAX_CAUSES) {
        free(msg);
        return;
    }
    cn_buf f;
    cn_buf_init(&f);
    cn_buf_adds(&f, v->path.data ? v->path.data : "");
    if (child && *child) {
        /* A child starting with '[' is a key or index, not a member. */
        if (f.len && child[0] != '[') cn_buf_addc(&f, '.');
        cn_buf_adds(&f, child);
    }
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string(reason));
    json_object_set_new(c, "message", json_string(msg));
    json_object_set_new(c, "field", json_string(f.data ? f.data : ""));
    json_array_append_new(v->causes, c);
    cn_buf_release(&f);
    free(msg);
}

void cn_v_cause(cn_vctx *v, const char *reason, const char *child, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = cn_vasprintf(fmt, ap);
    va_end(ap);
    add_cause(v, reason, child, m);
}

void cn_v_required(cn_vctx *v, const char *child, const char *detail)
{
    if (detail && *detail) cn_v_cause(v, "FieldValueRequired", child, "Required value: %s", detail);
    else cn_v_cause(v, "FieldValueRequired", child, "Required value");
}

static void quote(cn_buf *out, const char *s)
{
    cn_buf_addc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cn_buf_adds(out, "\\\""); break;
        case '\\': cn_buf_adds(out, "\\\\"); break;
        case '\n': cn_buf_adds(out, "\\n"); break;
        case '\t': cn_buf_adds(out, "\\t"); break;
        case '\r': cn_buf_adds(out, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) cn_buf_addf(out, "\\x%02x", *p);
            else cn_buf_addc(out, (char)*p);
        }
    }
    cn_buf_addc(out, '"');
}

void cn_v_render(cn_buf *out, const json_t *val)
{
    switch (json_typeof(val)) {
    case JSON_STRING: quote(out, json_string_value(val)); break;
    case JSON_INTEGER: cn_buf_addf(out, "%lld", (long long)json_integer_value(val)); break;
    case JSON_REAL: cn_buf_addf(out, "%g", json_real_value(val)); break;
    case JSON_TRUE: cn_buf_adds(out, "true"); break;
    case JSON_FALSE: cn_buf_adds(out, "false"); break;
    case JSON_OBJECT:
    case JSON_ARRAY: {
        char *s = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        cn_buf_adds(out, s ? s : "null");
        free(s);
        break;
    }
    default: cn_buf_adds(out, "null");
    }
}

static void invalid_v(cn_vctx *v, const char *reason, const char *child, const cn_buf *val,
                      const char *fmt, va_list ap)
{
    char *detail = fmt ? cn_vasprintf(fmt, ap) : NULL;
    char *m = cn_asprintf("Invalid value: %s%s%s", val->data ? val->data : "null",
                          detail && *detail ? ": " : "", detail ? detail : "");
    free(detail);
    add_cause(v, reason, child, m);
}

void cn_v_invalid(cn_vctx *v, const char *child, const json_t *val, const char *fmt, ...)
{
    cn_buf b;
    cn_buf_init(&b);
    if (val) cn_v_render(&b, val);
    else cn_buf_adds(&b, "null");
    va_list ap;
    va_start(ap, fmt);
    invalid_v(v, "FieldValueInvalid", child, &b, fmt, ap);
    va_end(ap);
    cn_buf_release(&b);
}

void cn_v_invalid_str(cn_vctx *v, const char *child, const char *val, const char *fmt, ...)
{
    cn_buf b;
    cn_buf_init(&b);
    quote(&b, val ? val : "");
    va_list ap;
    va_start(ap, fmt);
    invalid_v(v, "FieldValueInvalid", child, &b, fmt, ap);
    va_end(ap);
    cn_buf_release(&b);
}

void cn_v_invalid_int(cn_vctx *v, const char *child, long long val, const char *fmt, ...)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b, "%lld", val);
    va_list ap;
    va_start(ap, fmt);
    invalid_v(v, "FieldValueInvalid", child, &b, fmt, ap);
    va_end(ap);
    cn_buf_release(&b);
}

void cn_v_unsupported(cn_vctx *v, const char *child, const json_t *val, const char *const *supported)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "Unsupported value: ");
    if (val) cn_v_render(&b, val);
    else cn_buf_adds(&b, "\"\"");
    if (supported && supported[0]) {
        cn_buf_adds(&b, ": supported values: ");
        for (size_t i = 0; supported[i]; i++) {
            if (i) cn_buf_adds(&b, ", ");
            quote(&b, supported[i]);
        }
    }
    add_cause(v, "FieldValueNotSupported", child, cn_buf_detach(&b, NULL));
}

void cn_v_duplicate(cn_vctx *v, const char *child, const json_t *val)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "Duplicate value: ");
    cn_v_render(&b, val);
    add_cause(v, "FieldValueDuplicate", child, cn_buf_detach(&b, NULL));
}

void cn_v_not_found(cn_vctx *v, const char *child, const json_t *val)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "Not found: ");
    cn_v_render(&b, val);
    add_cause(v, "FieldValueNotFound", child, cn_buf_detach(&b, NULL));
}

void cn_v_forbidden(cn_vctx *v, const char *child, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = cn_vasprintf(fmt, ap);
    va_end(ap);
    char *m = cn_asprintf("Forbidden: %s", d);
    free(d);
    add_cause(v, "FieldValueForbidden", child, m);
}

void cn_v_immutable(cn_vctx *v, const char *child, const json_t *val)
{
    cn_v_invalid(v, child, val, "field is immutable");
}

/* --- typed accessors --- */

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE: case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static const json_t *typed(cn_vctx *v, const json_t *parent, const char *key, json_type t,
                           const char *want)
{
    if (!json_is_object(parent)) return NULL;
    const json_t *j = json_object_get(parent, key);
    if (!j || json_is_null(j)) return NULL;
    if (json_typeof(j) == t) return j;
    if (t == JSON_TRUE && json_is_boolean(j)) return j;
    cn_buf b;
    cn_buf_init(&b);
    quote(&b, type_name(j));
    char *m = cn_asprintf("Invalid value: %s: must be of type %s", b.data, want);
    cn_buf_release(&b);
    add_cause(v, "FieldValueTypeInvalid", key, m);
    return NULL;
}

const json_t *cn_v_obj(cn_vctx *v, const json_t *parent, const char *key)
{
    return typed(v, parent, key, JSON_OBJECT, "object");
}

const json_t *cn_v_arr(cn_vctx *v, const json_t *parent, const char *key)
{
    return typed(v, parent, key, JSON_ARRAY, "array");
}

const char *cn_v_str(cn_vctx *v, const json_t *parent, const char *key)
{
    return json_string_value(typed(v, parent, key, JSON_STRING, "string"));
}

const char *cn_v_sget(const json_t *parent, const char *key)
{
    return json_string_value(json_object_get(parent, key));
}

bool cn_v_int(cn_vctx *v, const json_t *parent, const char *key, int64_t *out)
{
    if (!json_is_object(parent)) return false;
    const json_t *j = json_object_get(parent, key);
    if (!j || json_is_null(j)) return false;
    if (json_is_real(j)) {
        double d = json_real_value(j);
        /* Integral reals ("replicas": 3.0) count as integers, like upstream. */
        if (d > -9.2e18 && d < 9.2e18 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return true;
        }
    }
    j = typed(v, parent, key, JSON_INTEGER, "integer");
    if (!j) return false;
    *out = json_integer_value(j);
    return true;
}

bool cn_v_bool(cn_vctx *v, const json_t *parent, const char *key, bool *out)
{
    const json_t *j = typed(v, parent, key, JSON_TRUE, "boolean");
    if (!j) return false;
    *out = json_is_true(j);
    return true;
}

bool cn_v_in(const char *s, const char *const *set)
{
    for (size_t i = 0; s && set[i]; i++)
        if (!strcmp(s, set[i])) return true;
    return false;
}

void cn_v_enum(cn_vctx *v, const json_t *parent, const char *key, bool required,
               const char *const *supported)
{
    const json_t *j = json_object_get(parent, key);
    if (!j || json_is_null(j) || (json_is_string(j) && !*json_string_value(j))) {
        if (required) cn_v_unsupported(v, key, NULL, supported);
        return;
    }
    if (!cn_v_in(json_string_value(j), supported)) cn_v_unsupported(v, key, j, supported);
}

void cn_v_nonneg(cn_vctx *v, const json_t *parent, const char *key)
{
    int64_t n;
    if (cn_v_int(v, parent, key, &n) && n < 0)
        cn_v_invalid_int(v, key, n, "must be greater than or equal to 0");
}

void cn_v_same(cn_vctx *v, const json_t *obj, const json_t *old, const char *key)
{
    const json_t *a = json_object_get(obj, key), *b = json_object_get(old, key);
    if (a && json_is_null(a)) a = NULL;
    if (b && json_is_null(b)) b = NULL;
    if (!a && !b) return;
    if (a && b && json_equal((json_t *)a, (json_t *)b)) return;
    cn_v_immutable(v, key, a);
}

/* --- syntax --- */

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-') return false;
    return true;
}

const char *cn_check_dns1123_label(const char *s)
{
    if (!s) return msg_label;
    size_t n = strlen(s);
    if (n > 63) return "must be no more than 63 characters";
    return label_ok(s, n) ? NULL : msg_label;
}

static bool subdomain_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return false;
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, len)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

const char *cn_check_dns1123_subdomain(const char *s)
{
    if (!s) return msg_subdomain;
    if (strlen(s) > 253) return "must be no more than 253 characters";
    return subdomain_ok(s) ? NULL : msg_subdomain;
}

const char *cn_check_dns1035_label(const char *s)
{
    if (!s) return msg_1035;
    size_t n = strlen(s);
    if (n > 63) return "must be no more than 63 characters";
    if (!label_ok(s, n) || !(s[0] >= 'a' && s[0] <= 'z')) return msg_1035;
    return NULL;
}

static bool qname_part_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

const char *cn_check_qualified_name(const char *s)
{
    if (!s) return "name part must be non-empty";
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash) {
        if (strchr(slash + 1, '/')) return msg_qname;
        size_t plen = (size_t)(slash - s);
        if (plen == 0) return "prefix part must be non-empty";
        if (plen > 253) return "prefix part must be no more than 253 characters";
        char *prefix = cn_strndup(s, plen);
        bool ok = subdomain_ok(prefix);
        free(prefix);
        if (!ok) return msg_prefix_subdomain;
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0) return "name part must be non-empty";
    if (n > 63) return "name part must be no more than 63 characters";
    return qname_part_ok(name, n) ? NULL : msg_qname_part;
}

const char *cn_check_label_key(const char *s)
{
    return cn_check_qualified_name(s);
}

const char *cn_check_label_value(const char *s)
{
    if (!s) return msg_label_value;
    size_t n = strlen(s);
    if (n == 0) return NULL;
    if (n > 63) return "must be no more than 63 characters";
    return qname_part_ok(s, n) ? NULL : msg_label_value;
}

const char *cn_check_iana_svc_name(const char *s)
{
    size_t n = strlen(s);
    if (n > 15) return "must be no more than 15 characters";
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        if (s[i] >= 'a' && s[i] <= 'z') letter = true;
        if (s[i] == '-' && i && s[i - 1] == '-') return "must not contain consecutive hyphens";
    }
    if (!letter) return "must contain at least one letter (a-z)";
    if (n && (s[0] == '-' || s[n - 1] == '-')) return "must not begin or end with a hyphen";
    return NULL;
}

static const char *check_path_segment(const char *s)
{
    if (!strcmp(s, ".")) return "may not be '.'";
    if (!strcmp(s, "..")) return "may not be '..'";
    if (strchr(s, '/')) return "may not contain '/'";
    if (strchr(s, '%')) return "may not contain '%'";
    return NULL;
}

void cn_v_dns_label_field(cn_vctx *v, const char *child, const char *s)
{
    const char *m = cn_check_dns1123_label(s);
    if (m) cn_v_invalid_str(v, child, s, "%s", m);
}

void cn_v_dns_subdomain_field(cn_vctx *v, const char *child, const char *s)
{
    const char *m = cn_check_dns1123_subdomain(s);
    if (m) cn_v_invalid_str(v, child, s, "%s", m);
}

void cn_v_qualified_name_field(cn_vctx *v, const char *child, const char *s)
{
    const char *m = cn_check_qualified_name(s);
    if (m) cn_v_invalid_str(v, child, s, "%s", m);
}

void cn_v_port(cn_vctx *v, const json_t *parent, const char *key, bool required)
{
    int64_t p;
    if (!cn_v_int(v, parent, key, &p)) {
        if (required && !json_object_get(parent, key)) cn_v_required(v, key, NULL);
        return;
    }
    if (p == 0 && required) cn_v_required(v, key, NULL);
    else if (p < 1 || p > 65535) cn_v_invalid_int(v, key, p, "must be between 1 and 65535, inclusive");
}

void cn_v_labels(cn_vctx *v, const json_t *labels)
{
    if (!labels) return;
    if (!json_is_object(labels)) {
        cn_v_invalid(v, NULL, labels, "must be an object of strings");
        return;
    }
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)labels, k, val) {
        const char *m = cn_check_label_key(k);
        if (m) cn_v_invalid_str(v, NULL, k, "%s", m);
        if (!json_is_string(val)) {
            cn_v_invalid(v, NULL, val, "label values must be strings");
            continue;
        }
        m = cn_check_label_value(json_string_value(val));
        if (m) cn_v_invalid(v, NULL, val, "%s", m);
    }
}

static const char *const sel_ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };

void cn_v_label_selector(cn_vctx *v, const json_t *sel)
{
    size_t m = cn_v_push(v, "matchLabels");
    cn_v_labels(v, cn_v_obj(v, sel, "matchLabels"));
    cn_v_pop(v, m);
    const json_t *exprs = cn_v_arr(v, sel, "matchExpressions");
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)exprs, i, e) {
        size_t m1 = cn_v_push(v, "matchExpressions");
        size_t m2 = cn_v_pushi(v, i);
        const char *key = cn_v_str(v, e, "key");
        if (!key || !*key) cn_v_required(v, "key", NULL);
        else cn_v_qualified_name_field(v, "key", key);
        const char *op = cn_v_str(v, e, "operator");
        const json_t *vals = cn_v_arr(v, e, "values");
        if (!op || !cn_v_in(op, sel_ops)) {
            cn_v_unsupported(v, "operator", json_object_get(e, "operator"), sel_ops);
        } else if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
            if (!json_array_size(vals))
                cn_v_required(v, "values", "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (json_array_size(vals)) {
            cn_v_forbidden(v, "values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        }
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
}

static bool str_in_array(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *x;
    json_array_foreach((json_t *)arr, i, x)
        if (json_is_string(x) && !strcmp(json_string_value(x), s)) return true;
    return false;
}

bool cn_v_selector_matches(const json_t *sel, const json_t *labels)
{
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, val) {
        const json_t *l = json_object_get(labels, k);
        if (!json_is_string(l) || !json_is_string(val) ||
            strcmp(json_string_value(l), json_string_value(val)))
            return false;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
        const char *key = cn_v_sget(e, "key"), *op = cn_v_sget(e, "operator");
        if (!key || !op) return false;
        const char *lv = cn_v_sget(labels, key);
        const json_t *vals = json_object_get(e, "values");
        if (!strcmp(op, "In") && (!lv || !str_in_array(vals, lv))) return false;
        if (!strcmp(op, "NotIn") && lv && str_in_array(vals, lv)) return false;
        if (!strcmp(op, "Exists") && !lv) return false;
        if (!strcmp(op, "DoesNotExist") && lv) return false;
    }
    return true;
}

/* --- quantities --- */

void cn_v_resource_list(cn_vctx *v, const json_t *list, bool nonneg)
{
    if (!list) return;
    if (!json_is_object(list)) {
        cn_v_invalid(v, NULL, list, "must be an object of quantities");
        return;
    }
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)list, k, val) {
        cn_buf key;
        cn_buf_init(&key);
        cn_buf_addf(&key, "[%s]", k);
        __int128 q = 0;
        int r = -EINVAL;
        if (json_is_string(val)) r = cn_quantity_parse(json_string_value(val), &q);
        else if (json_is_integer(val)) {
            q = (__int128)json_integer_value(val) * 1000000000;
            r = 0;
        } else if (json_is_real(val) && json_real_value(val) > -1e20 && json_real_value(val) < 1e20) {
            q = (__int128)(json_real_value(val) * 1e9);
            r = 0;
        }
        if (r < 0) cn_v_invalid(v, key.data, val, "%s", cn_quantity_regex_msg);
        else if (nonneg && q < 0) cn_v_invalid(v, key.data, val, "must be greater than or equal to 0");
        cn_buf_release(&key);
    }
}

/* --- ObjectMeta --- */

typedef const char *(*name_check)(const char *);

static const char *check_cronjob_name(const char *s)
{
    const char *m = cn_check_dns1123_subdomain(s);
    if (m) return m;
    /* The controller appends an 11-character suffix to make Job names. */
    if (strlen(s) > 52) return "must be no more than 52 characters";
    return NULL;
}

static name_check name_check_for(const cn_resource *res)
{
    const char *g = res->group, *k = res->kind;
    if (res->flags & CN_RES_CUSTOM) return cn_check_dns1123_subdomain;
    if (!*g && !strcmp(k, "Namespace")) return cn_check_dns1123_label;
    if (!*g && !strcmp(k, "Service")) return cn_check_dns1035_label;
    if (!strcmp(g, "rbac.authorization.k8s.io")) return check_path_segment;
    if (!strcmp(g, "batch") && !strcmp(k, "CronJob")) return check_cronjob_name;
    return cn_check_dns1123_subdomain;
}

static void validate_meta(cn_vctx *v, const cn_resource *res, const json_t *obj)
{
    size_t m = cn_v_push(v, "metadata");
    const json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        cn_v_required(v, "name", "name or generateName is required");
        goto out;
    }
    const char *name = cn_v_str(v, meta, "name");
    if (!name || !*name) {
        cn_v_required(v, "name", "name or generateName is required");
    } else {
        const char *msg = name_check_for(res)(name);
        if (msg) cn_v_invalid_str(v, "name", name, "%s", msg);
    }
    const char *ns = cn_v_str(v, meta, "namespace");
    if (res->namespaced) {
        if (!ns || !*ns) cn_v_required(v, "namespace", NULL);
        else cn_v_dns_label_field(v, "namespace", ns);
    } else if (ns && *ns) {
        cn_v_forbidden(v, "namespace", "not allowed on this type");
    }
    int64_t gen;
    if (cn_v_int(v, meta, "generation", &gen) && gen < 0)
        cn_v_invalid_int(v, "generation", gen, "must be greater than or equal to 0");

    size_t m2 = cn_v_push(v, "labels");
    cn_v_labels(v, cn_v_obj(v, meta, "labels"));
    cn_v_pop(v, m2);

    const json_t *ann = cn_v_obj(v, meta, "annotations");
    const char *k;
    const json_t *val;
    size_t total = 0;
    m2 = cn_v_push(v, "annotations");
    json_object_foreach((json_t *)ann, k, val) {
        char *lower = cn_strdup(k);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        const char *msg = cn_check_qualified_name(lower);
        free(lower);
        if (msg) cn_v_invalid_str(v, NULL, k, "%s", msg);
        if (!json_is_string(val)) cn_v_invalid(v, NULL, val, "annotation values must be strings");
        else total += json_string_length(val);
        total += strlen(k);
    }
    if (total > MAX_ANNOTATIONS_BYTES)
        cn_v_cause(v, "FieldValueTooLong", NULL, "Too long: may not be more than %d bytes",
                   MAX_ANNOTATIONS_BYTES);
    cn_v_pop(v, m2);

    const json_t *fins = cn_v_arr(v, meta, "finalizers");
    size_t i;
    json_array_foreach((json_t *)fins, i, val) {
        m2 = cn_v_push(v, "finalizers");
        if (!json_is_string(val)) cn_v_invalid(v, NULL, val, "must be a string");
        else cn_v_qualified_name_field(v, NULL, json_string_value(val));
        cn_v_pop(v, m2);
    }

    const json_t *owners = cn_v_arr(v, meta, "ownerReferences");
    int controllers = 0;
    m2 = cn_v_push(v, "ownerReferences");
    json_array_foreach((json_t *)owners, i, val) {
        static const struct { const char *key, *msg; } req[] = {
            { "apiVersion", "version must not be empty" }, { "kind", "kind must not be empty" },
            { "name", "name must not be empty" }, { "uid", "uid must not be empty" },
        };
        for (size_t j = 0; j < sizeof req / sizeof req[0]; j++) {
            const char *s = cn_v_sget(val, req[j].key);
            if (!s || !*s) cn_v_invalid_str(v, req[j].key, "", "%s", req[j].msg);
        }
        if (json_is_true(json_object_get(val, "controller"))) controllers++;
    }
    if (controllers > 1)
        cn_v_invalid(v, NULL, owners, "Only one reference can have Controller set to true");
    cn_v_pop(v, m2);
out:
    cn_v_pop(v, m);
}

/* --- entry points --- */

int cn_validate(const cn_resource *res, const json_t *obj, const json_t *old, cn_err *err)
{
    if (!res || !json_is_object(obj))
        return cn_err_bad_request(err, "the request body must be a JSON object");
    cn_vctx v;
    cn_v_init(&v, old != NULL);
    if (old && !json_is_object(old)) old = NULL;

    validate_meta(&v, res, obj);
    if (res->flags & CN_RES_CUSTOM) {
        cn_v_custom(&v, res, obj);
    } else if (!strcmp(res->group, "apiextensions.k8s.io") &&
               !strcmp(res->kind, "CustomResourceDefinition")) {
        cn_v_crd(&v, obj, old);
    } else {
        cn_kind_validator fn = !*res->group ? cn_v_core_validator(res->kind)
                                            : cn_v_apps_validator(res->group, res->kind);
        if (fn) fn(&v, obj, old);
    }

    int r = 0;
    size_t n = cn_v_ncauses(&v);
    if (n) {
        const char *name = cn_v_sget(json_object_get(obj, "metadata"), "name");
        cn_buf m;
        cn_buf_init(&m);
        if (*res->group) cn_buf_addf(&m, "%s.%s", res->kind, res->group);
        else cn_buf_adds(&m, res->kind);
        cn_buf_adds(&m, " ");
        quote(&m, name ? name : "");
        cn_buf_adds(&m, " is invalid: ");
        if (n > 1) cn_buf_addc(&m, '[');
        size_t i;
        json_t *c;
        json_array_foreach(v.causes, i, c) {
            const char *f = cn_v_sget(c, "field");
            if (i) cn_buf_adds(&m, ", ");
            if (f && *f) cn_buf_addf(&m, "%s: ", f);
            cn_buf_adds(&m, cn_v_sget(c, "message"));
        }
        if (n > 1) cn_buf_addc(&m, ']');
        r = cn_err_invalid(err, "%s", m.data);
        cn_buf_release(&m);
        if (err) {
            cn_err_set_details(err, name ? name : "", res->group, res->kind);
            json_object_set(err->details, "causes", v.causes);
        }
    }
    cn_v_release(&v);
    return r;
}

/* --- strict field validation, built-in kinds --- */

static void add_unknown(json_t *out, const cn_buf *path, const char *key)
{
    if (json_array_size(out) >= MAX_UNKNOWN) return;
    char *p = path->len ? cn_asprintf("%s.%s", path->data, key) : cn_strdup(key);
    json_array_append_new(out, json_string(p));
    free(p);
}

static void walk_message(const cn_message *m, const json_t *val, cn_buf *path, json_t *out, int depth);

static void walk_value(const cn_field *f, const json_t *val, cn_buf *path, json_t *out, int depth)
{
    if (!f->msg || (f->type != CN_T_MESSAGE && !(f->type == CN_T_MAP && f->elem == CN_T_MESSAGE)))
        return;
    if (f->type == CN_T_MAP) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)val, k, x) {
            size_t mark = path->len;
            cn_buf_addf(path, ".%s", k);
            walk_message(f->msg, x, path, out, depth + 1);
            path->len = mark;
            path->data[mark] = '\0';
        }
        return;
    }
    walk_message(f->msg, val, path, out, depth + 1);
}

static void walk_message(const cn_message *m, const json_t *val, cn_buf *path, json_t *out, int depth)
{
    if (!json_is_object(val) || depth > CN_V_MAX_DEPTH) return;
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)val, k, x) {
        if (depth == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind"))) continue;
        const cn_field *f = cn_schema_field(m, k);
        if (!f && depth == 0 && !strcmp(k, "metadata")) {
            size_t mark = path->len;
            cn_buf_adds(path, "metadata");
            const cn_message *om = cn_schema_object_meta();
            if (om) walk_message(om, x, path, out, depth + 1);
            path->len = mark;
            if (path->data) path->data[mark] = '\0';
            continue;
        }
        if (!f) {
            add_unknown(out, path, k);
            continue;
        }
        size_t mark = path->len;
        if (mark) cn_buf_addc(path, '.');
        cn_buf_adds(path, k);
        if (f->repeated && json_is_array(x)) {
            size_t i;
            const json_t *item;
            json_array_foreach((json_t *)x, i, item) {
                size_t m2 = path->len;
                cn_buf_addf(path, "[%zu]", i);
                walk_value(f, item, path, out, depth);
                path->len = m2;
                path->data[m2] = '\0';
            }
        } else {
            walk_value(f, x, path, out, depth);
        }
        path->len = mark;
        path->data[mark] = '\0';
    }
}

int cn_unknown_fields(const cn_resource *res, const json_t *obj, json_t **unknown)
{
    *unknown = NULL;
    if (!res || !json_is_object(obj)) return -EINVAL;
    json_t *out = json_array();
    if (res->flags & CN_RES_CUSTOM) {
        cn_v_custom_unknown(res, obj, out);
    } else {
        const cn_message *m = cn_schema_for_kind(res->group, res->version, res->kind);
        if (m) {
            cn_buf path;
            cn_buf_init(&path);
            walk_message(m, obj, &path, out, 0);
            cn_buf_release(&path);
        }
    }
    *unknown = out;
    return 0;
}
