/* yaml: YAML to jansson through libyaml's event API, following the rules of
 * sigs.k8s.io/yaml (go-yaml v2 resolution, then conversion through JSON):
 * plain scalars resolve to null/bool/int/float as YAML 1.1 does (yes/no/on/
 * off are booleans), non-string map keys are stringified, duplicate keys
 * are an error (strict decoding). Aliases are refused (billion laughs);
 * depth and node count are bounded. The tree is built iteratively with an
 * explicit stack so hostile nesting cannot exhaust the C stack. */
#include "lib/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/util.h"

#define YAML_MAX_DEPTH 200
#define YAML_MAX_NODES (1000 * 1000)

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct frame {
    json_t *node;        /* object or array (borrowed: owned by parent or root) */
    char *key;           /* mapping: key waiting for its value */
    bool is_map;
} frame;

typedef struct builder {
    frame stack[YAML_MAX_DEPTH];
    size_t depth;
    size_t nodes;
    json_t *root;        /* current document's value */
    cn_err *err;
} builder;

static int fail_at(builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cn_err_bad_request(b->err, "error converting YAML to JSON: yaml: line %zu, column %zu: %s",
                              m->line + 1, m->column + 1, msg);
}

/* ------------------------------------------------------------------ */
/* scalar resolution (go-yaml v2 resolve()) */

typedef enum kind { K_NULL, K_BOOL, K_INT, K_UINT, K_FLOAT, K_STR } kind;

typedef struct scalar {
    kind k;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
} scalar;

static const char *const true_words[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                                          "on", "On", "ON" };
static const char *const false_words[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE",
                                           "off", "Off", "OFF" };
static const char *const null_words[] = { "", "~", "null", "Null", "NULL" };

static bool in_list(const char *s, const char *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, l[i])) return true;
    return false;
}

#define IN_LIST(s, l) in_list((s), (l), sizeof(l) / sizeof *(l))

static int digit_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

/* strconv.ParseUint(s, 0, 64) after the sign has been stripped:
 * 0x/0o/0b prefixes, a leading 0 means octal. */
static bool parse_go_uint(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && s[1]) {
        char c = s[1];
        if (c == 'x' || c == 'X') { base = 16; s += 2; }
        else if (c == 'o' || c == 'O') { base = 8; s += 2; }
        else if (c == 'b' || c == 'B') { base = 2; s += 2; }
        else { base = 8; s += 1; }
    }
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d = (unsigned)digit_val(*s);
        if (d >= base) return false;
        if (v > (UINT64_MAX - d) / base) return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
    } else {
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') s++;
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

static bool parse_float(const char *s, double *out)
{
    char *end;
    double d = strtod(s, &end);
    if (*end || isinf(d)) return false;   /* Go: ErrRange, so the text stays a string */
    *out = d;
    return true;
}

static void resolve_plain(const char *in, scalar *sc)
{
    sc->k = K_STR;
    if (IN_LIST(in, true_words)) { sc->k = K_BOOL; sc->b = true; return; }
    if (IN_LIST(in, false_words)) { sc->k = K_BOOL; sc->b = false; return; }
    if (IN_LIST(in, null_words)) { sc->k = K_NULL; return; }
    if (!strcmp(in, ".nan") || !strcmp(in, ".NaN") || !strcmp(in, ".NAN")) {
        sc->k = K_FLOAT; sc->f = NAN; return;
    }
    const char *unsigned_in = in[0] == '+' || in[0] == '-' ? in + 1 : in;
    if (!strcmp(unsigned_in, ".inf") || !strcmp(unsigned_in, ".Inf") || !strcmp(unsigned_in, ".INF")) {
        sc->k = K_FLOAT;
        sc->f = in[0] == '-' ? -INFINITY : INFINITY;
        return;
    }
    char c = in[0];
    if (c == '.') {
        if (yaml_style_float(in) && parse_float(in, &sc->f)) sc->k = K_FLOAT;
        return;
    }
    if (!(c == '+' || c == '-' || (c >= '0' && c <= '9'))) return;
    /* ints and floats; go-yaml drops '_' digit separators first */
    size_t n = strlen(in);
    char *plain = cn_malloc(n + 1), *w = plain;
    for (const char *p = in; *p; p++)
        if (*p != '_') *w++ = *p;
    *w = '\0';
    const char *digits = plain;
    bool neg = false;
    if (*digits == '+' || *digits == '-') neg = *digits++ == '-';
    uint64_t u;
    if (*digits != '+' && *digits != '-' && parse_go_uint(digits, &u)) {
        if (!neg && u <= (uint64_t)INT64_MAX) {
            sc->k = K_INT; sc->i = (int64_t)u;
        } else if (neg && u <= (uint64_t)INT64_MAX + 1) {
            sc->k = K_INT; sc->i = (int64_t)(0 - u);
        } else if (!neg && plain[0] != '+') {
            sc->k = K_UINT; sc->u = u;   /* ParseUint takes no sign */
        }
    }
    if (sc->k == K_STR && yaml_style_float(plain) && parse_float(plain, &sc->f)) sc->k = K_FLOAT;
    free(plain);
}

/* Resolves a scalar event's text, honouring explicit core-schema tags. */
static int resolve_scalar(builder *b, const yaml_event_t *ev, const char *text, scalar *sc)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    memset(sc, 0, sizeof *sc);
    sc->k = K_STR;
    if (!tag) {
        if (plain) resolve_plain(text, sc);
        return 0;
    }
    if (!cn_str_has_prefix(tag, TAG_PREFIX)) return 0;   /* "!" and local tags: text as string */
    const char *t = tag + strlen(TAG_PREFIX);
    if (!strcmp(t, "str") || !strcmp(t, "timestamp") || !strcmp(t, "binary")) return 0;
    if (strcmp(t, "int") && strcmp(t, "float") && strcmp(t, "bool") && strcmp(t, "null")) return 0;
    resolve_plain(text, sc);
    kind want = !strcmp(t, "int") ? K_INT : !strcmp(t, "float") ? K_FLOAT
              : !strcmp(t, "bool") ? K_BOOL : K_NULL;
    if (want == K_FLOAT && sc->k == K_INT) {
        sc->k = K_FLOAT;
        sc->f = (double)sc->i;
    } else if (want == K_FLOAT && sc->k == K_UINT) {
        sc->k = K_FLOAT;
        sc->f = (double)sc->u;
    }
    if (sc->k == want || (want == K_INT && sc->k == K_UINT)) return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "cannot decode `%.64s` as a !!%s", text, t);
    return fail_at(b, &ev->start_mark, "%s", msg);
}

static json_t *scalar_json(builder *b, const yaml_event_t *ev, const scalar *sc, const char *text,
                           size_t len)
{
    switch (sc->k) {
    case K_NULL: return json_null();
    case K_BOOL: return json_boolean(sc->b);
    case K_INT:  return json_integer(sc->i);
    case K_UINT: return json_real((double)sc->u);   /* beyond jansson's integers */
    case K_FLOAT:
        if (isnan(sc->f) || isinf(sc->f)) {
            fail_at(b, &ev->start_mark, "json: unsupported value: %s", isnan(sc->f) ? "NaN" : "Inf");
            return NULL;
        }
        /* Go prints integral floats below 1e21 without a fraction, so the
         * JSON the apiserver sees holds an integer there. */
        if (sc->f == floor(sc->f) && sc->f >= -9223372036854775808.0 && sc->f < 9223372036854775808.0)
            return json_integer((json_int_t)sc->f);
        return json_real(sc->f);
    case K_STR: {
        json_t *s = json_stringn(text, len);
        if (!s) fail_at(b, &ev->start_mark, "%s", "invalid UTF-8 in string");
        return s;
    }
    }
    return NULL;
}

/* strconv.FormatFloat(f, 'g', -1, 32): the shortest digits that round-trip
 * through float32, exponent form outside [1e-4, 1e6). */
static char *float_key(double d)
{
    float f = (float)d;
    char buf[64];
    int prec;
    for (prec = 1; prec < 9; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, (double)f);
    const char *e = strchr(buf, 'e');
    int exp = 0;
    if (e) {
        bool neg = e[1] == '-';
        for (const char *q = e + 2; *q >= '0' && *q <= '9'; q++) exp = exp * 10 + (*q - '0');
        if (neg) exp = -exp;
    }
    if (exp < -4 || exp >= 6) return cn_strdup(buf);
    int frac = prec - 1 - exp;
    snprintf(buf, sizeof buf, "%.*f", frac > 0 ? frac : 0, (double)f);
    return cn_strdup(buf);
}

/* sigs.k8s.io/yaml's key stringification. NULL with b->err set if the key
 * has no JSON form. */
static char *key_string(builder *b, const yaml_event_t *ev, const scalar *sc, const char *text)
{
    switch (sc->k) {
    case K_STR:  return cn_strdup(text);
    case K_BOOL: return cn_strdup(sc->b ? "true" : "false");
    case K_INT:  return cn_asprintf("%lld", (long long)sc->i);
    case K_FLOAT:
        if (isnan(sc->f)) return cn_strdup(".nan");
        if (isinf(sc->f)) return cn_strdup(sc->f > 0 ? ".inf" : "-.inf");
        return float_key(sc->f);
    case K_NULL:
    case K_UINT:
        break;
    }
    fail_at(b, &ev->start_mark, "Unsupported map key: %.64s", text[0] ? text : "null");
    return NULL;
}

/* ------------------------------------------------------------------ */
/* tree building */

/* Attach v (a new reference, stolen) to the current container or make it
 * the document root. */
static int attach(builder *b, json_t *v)
{
    if (b->depth == 0) {
        json_decref(b->root);
        b->root = v;
        return 0;
    }
    frame *f = &b->stack[b->depth - 1];
    if (!f->is_map) return json_array_append_new(f->node, v) < 0 ? -ENOMEM : 0;
    int r = json_object_set_new(f->node, f->key, v);
    free(f->key);
    f->key = NULL;
    return r < 0 ? -ENOMEM : 0;
}

static bool expecting_key(const builder *b)
{
    return b->depth > 0 && b->stack[b->depth - 1].is_map && !b->stack[b->depth - 1].key;
}

static int count_node(builder *b, const yaml_event_t *ev)
{
    if (++b->nodes > YAML_MAX_NODES)
        return fail_at(b, &ev->start_mark, "%s", "document has too many nodes");
    return 0;
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    scalar sc;
    int r;
    if ((r = count_node(b, ev)) < 0) return r;
    if (memchr(text, '\0', len)) return fail_at(b, &ev->start_mark, "%s", "NUL character in scalar");
    if ((r = resolve_scalar(b, ev, text, &sc)) < 0) return r;
    if (expecting_key(b)) {
        frame *f = &b->stack[b->depth - 1];
        if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp(text, "<<"))
            return fail_at(b, &ev->start_mark, "%s", "merge keys (<<) are not supported");
        char *key = key_string(b, ev, &sc, text);
        if (!key) return -EINVAL;
        if (json_object_get(f->node, key)) {
            r = fail_at(b, &ev->start_mark, "key \"%.64s\" already set in map", key);
            free(key);
            return r;
        }
        f->key = key;
        return 0;
    }
    json_t *v = scalar_json(b, ev, &sc, text, len);
    if (!v) return -EINVAL;
    return attach(b, v);
}

static int on_start(builder *b, const yaml_event_t *ev, bool is_map)
{
    int r;
    if ((r = count_node(b, ev)) < 0) return r;
    if (expecting_key(b))
        return fail_at(b, &ev->start_mark, "%s", "Unsupported map key: mapping and sequence keys have no JSON form");
    if (b->depth == YAML_MAX_DEPTH)
        return fail_at(b, &ev->start_mark, "exceeded max depth of %d", YAML_MAX_DEPTH);
    json_t *node = is_map ? json_object() : json_array();
    if ((r = attach(b, node)) < 0) return r;
    b->stack[b->depth++] = (frame){ node, NULL, is_map };
    return 0;
}

static void builder_reset(builder *b)
{
    while (b->depth > 0) free(b->stack[--b->depth].key);
    json_decref(b->root);
    b->root = NULL;
}

/* Runs the parser over the stream. With `all`, every non-empty document is
 * appended to *out (an array); otherwise *out is the first document. */
static int parse(const char *text, size_t len, bool all, json_t **out, cn_err *err)
{
    yaml_parser_t p;
    builder *b = cn_calloc(1, sizeof *b);
    json_t *docs = all ? json_array() : NULL;
    json_t *first = NULL;
    bool done = false, have_first = false;
    int r = 0;
    b->err = err;
    *out = NULL;
    if (!yaml_parser_initialize(&p)) {
        free(b);
        json_decref(docs);
        return cn_err_internal(err, "yaml: cannot initialise parser");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""), text ? len : 0);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s%s%s", p.context ? p.context : "", p.context ? " " : "",
                     p.problem ? p.problem : "syntax error");
            r = fail_at(b, &p.problem_mark, "%s", msg);
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            builder_reset(b);
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (!all) {
                first = b->root ? b->root : json_null();
                b->root = NULL;
                have_first = true;
                done = true;
            } else if (b->root && !json_is_null(b->root)) {
                json_array_append_new(docs, b->root);
                b->root = NULL;
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_ALIAS_EVENT:
            r = fail_at(b, &ev.start_mark, "%s", "aliases are not supported");
            break;
        case YAML_SCALAR_EVENT:
            r = on_scalar(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            r = on_start(b, &ev, ev.type == YAML_MAPPING_START_EVENT);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b->depth > 0) free(b->stack[--b->depth].key);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (r < 0) break;
    }
    yaml_parser_delete(&p);
    builder_reset(b);
    free(b);
    if (r < 0) {
        json_decref(docs);
        json_decref(first);
        return r;
    }
    *out = all ? docs : have_first ? first : json_null();
    return 0;
}

/* JSON is meant to be YAML, but libyaml (YAML 1.1) refuses some JSON
 * escapes: surrogate pairs ("\ud83d\ude00", what ensure-ASCII encoders
 * emit) and "\/". A body that failed as YAML but is one JSON object or
 * array is taken as JSON; the YAML error stands otherwise. */
/* The YAML path's bounds, applied to a value that came in as JSON. */
static bool within_bounds(const json_t *v, size_t depth, size_t *nodes)
{
    if (++*nodes > YAML_MAX_NODES) return false;
    if (!json_is_object(v) && !json_is_array(v)) return true;
    if (depth >= YAML_MAX_DEPTH) return false;
    size_t i;
    const char *k;
    json_t *c;
    if (json_is_array(v)) {
        json_array_foreach(v, i, c)
            if (!within_bounds(c, depth + 1, nodes)) return false;
    } else {
        json_object_foreach((json_t *)v, k, c)
            if (!within_bounds(c, depth + 1, nodes)) return false;
    }
    return true;
}

static int json_fallback(const char *text, size_t len, bool all, json_t **out, cn_err *err)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) i++;
    if (i == len || (text[i] != '{' && text[i] != '[')) return -EINVAL;
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    size_t nodes = 0;
    if (!o || !within_bounds(o, 0, &nodes)) {
        json_decref(o);
        return -EINVAL;
    }
    if (all) {
        json_t *a = json_array();
        json_array_append_new(a, o);
        o = a;
    }
    cn_err_clear(err);
    *out = o;
    return 0;
}

int cn_yaml_parse(const char *text, size_t len, json_t **out, cn_err *err)
{
    int r = parse(text, len, false, out, err);
    if (r < 0 && text && json_fallback(text, len, false, out, err) == 0) r = 0;
    return r;
}

int cn_yaml_parse_all(const char *text, size_t len, json_t **out, cn_err *err)
{
    int r = parse(text, len, true, out, err);
    if (r < 0 && text && json_fallback(text, len, true, out, err) == 0) r = 0;
    return r;
}
