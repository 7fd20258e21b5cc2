/* jsonpath: a small compiler + evaluator for the Kubernetes JSONPath subset
 * printer columns use (see jsonpath.h). An expression compiles to a flat
 * list of steps; evaluation maps a set of nodes through each step in turn.
 * Filters hold a compiled sub-path relative to "@". */
#include "api/jsonpath.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAX_FILTER_DEPTH 4
#define MAX_UNION 32
#define MAX_RECURSE_DEPTH 128

enum step_kind { ST_FIELD, ST_WILD, ST_RECURSE, ST_INDEX, ST_SLICE, ST_UNION, ST_FILTER };
enum cmp_op { OP_EXISTS, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct step {
    enum step_kind kind;
    char *name;                       /* FIELD, RECURSE */
    int64_t index;                    /* INDEX */
    bool has_start, has_end;          /* SLICE */
    int64_t start, end, stride;
    struct step *alts;                /* UNION: FIELD or INDEX steps */
    size_t nalts;
    struct cn_jsonpath *sub;          /* FILTER: path relative to @ */
    enum cmp_op op;
    json_t *lit;                      /* FILTER literal (owned) */
};

struct cn_jsonpath {
    struct step *steps;
    size_t n;
};

typedef struct parser {
    const char *s;
    size_t pos, len;
} parser;

/* --- compile --- */

static void step_release(struct step *st);

void cn_jsonpath_free(cn_jsonpath *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) step_release(&p->steps[i]);
    free(p->steps);
    free(p);
}

static void step_release(struct step *st)
{
    free(st->name);
    for (size_t i = 0; i < st->nalts; i++) step_release(&st->alts[i]);
    free(st->alts);
    cn_jsonpath_free(st->sub);
    json_decref(st->lit);
}

static int peek(const parser *ps)
{
    return ps->pos < ps->len ? (unsigned char)ps->s[ps->pos] : -1;
}

static void skip_ws(parser *ps)
{
    while (peek(ps) == ' ' || peek(ps) == '\t') ps->pos++;
}

static bool is_name_char(int c)
{
    if (c < 0) return false;
    return !strchr(".[]()=!<>,'\"{}@ \t*", c);
}

static int push_step(cn_jsonpath *p, struct step *st)
{
    if (p->n >= CN_JSONPATH_MAX_STEPS) {
        step_release(st);
        return -EINVAL;
    }
    p->steps = cn_realloc(p->steps, (p->n + 1) * sizeof(*p->steps));
    p->steps[p->n++] = *st;
    return 0;
}

/* Quoted string with \ escapes of the quote and backslash. */
static int parse_quoted(parser *ps, char **out)
{
    int q = peek(ps);
    ps->pos++;
    cn_buf b;
    cn_buf_init(&b);
    for (;;) {
        int c = peek(ps);
        if (c < 0) {
            cn_buf_release(&b);
            return -EINVAL;
        }
        ps->pos++;
        if (c == q) break;
        if (c == '\\' && peek(ps) >= 0) {
            c = peek(ps);
            ps->pos++;
        }
        cn_buf_addc(&b, (char)c);
    }
    *out = cn_buf_detach(&b, NULL);
    return 0;
}

static int parse_int(parser *ps, int64_t *out)
{
    size_t start = ps->pos;
    if (peek(ps) == '-' || peek(ps) == '+') ps->pos++;
    while (peek(ps) >= '0' && peek(ps) <= '9') ps->pos++;
    if (ps->pos - start > 19 || ps->pos == start) return -EINVAL;
    char tmp[24];
    memcpy(tmp, ps->s + start, ps->pos - start);
    tmp[ps->pos - start] = '\0';
    if (tmp[0] == '+') memmove(tmp, tmp + 1, strlen(tmp));
    return cn_parse_int64(tmp, out);
}

static int parse_literal(parser *ps, json_t **out)
{
    int c = peek(ps);
    if (c == '"' || c == '\'') {
        char *s = NULL;
        if (parse_quoted(ps, &s) < 0) return -EINVAL;
        *out = json_string(s);
        free(s);
        return *out ? 0 : -EINVAL;     /* invalid UTF-8 */
    }
    static const struct { const char *word; int kind; } words[] = {
        { "true", 1 }, { "false", 2 }, { "null", 3 },
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i].word);
        if (ps->len - ps->pos >= n && memcmp(ps->s + ps->pos, words[i].word, n) == 0) {
            ps->pos += n;
            *out = words[i].kind == 1 ? json_true() : words[i].kind == 2 ? json_false() : json_null();
            return 0;
        }
    }
    /* number: -?digits(.digits)?([eE][+-]?digits)? */
    size_t start = ps->pos;
    bool real = false;
    if (peek(ps) == '-') ps->pos++;
    size_t d0 = ps->pos;
    while (peek(ps) >= '0' && peek(ps) <= '9') ps->pos++;
    if (ps->pos == d0) return -EINVAL;
    if (peek(ps) == '.') {
        real = true;
        ps->pos++;
        while (peek(ps) >= '0' && peek(ps) <= '9') ps->pos++;
    }
    if (peek(ps) == 'e' || peek(ps) == 'E') {
        real = true;
        ps->pos++;
        if (peek(ps) == '+' || peek(ps) == '-') ps->pos++;
        size_t e0 = ps->pos;
        while (peek(ps) >= '0' && peek(ps) <= '9') ps->pos++;
        if (ps->pos == e0) return -EINVAL;
    }
    size_t n = ps->pos - start;
    if (n > 40) return -EINVAL;
    char tmp[48];
    memcpy(tmp, ps->s + start, n);
    tmp[n] = '\0';
    int64_t iv;
    if (!real && cn_parse_int64(tmp, &iv) == 0) {
        *out = json_integer(iv);
        return 0;
    }
    /* validated above: strtod sees only a well-formed decimal literal */
    *out = json_real(strtod(tmp, NULL));
    return *out ? 0 : -EINVAL;
}

static int parse_path(parser *ps, int depth, bool in_filter, cn_jsonpath **out);

static int parse_filter(parser *ps, int depth, struct step *st)
{
    /* at "?(" */
    ps->pos += 2;
    skip_ws(ps);
    if (peek(ps) != '@') return -EINVAL;
    st->kind = ST_FILTER;
    int r = parse_path(ps, depth + 1, true, &st->sub);
    if (r < 0) return r;
    skip_ws(ps);
    static const struct { const char *tok; enum cmp_op op; } ops[] = {
        { "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
        { "<", OP_LT }, { ">", OP_GT },
    };
    st->op = OP_EXISTS;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].tok);
        if (ps->len - ps->pos >= n && memcmp(ps->s + ps->pos, ops[i].tok, n) == 0) {
            ps->pos += n;
            st->op = ops[i].op;
            break;
        }
    }
    if (st->op != OP_EXISTS) {
        skip_ws(ps);
        if (parse_literal(ps, &st->lit) < 0) return -EINVAL;
        skip_ws(ps);
    }
    if (peek(ps) != ')') return -EINVAL;
    ps->pos++;
    skip_ws(ps);
    if (peek(ps) != ']') return -EINVAL;
    ps->pos++;
    return 0;
}

/* After '[' (not a filter, not '*'): quoted names, or integers/slices. */
static int parse_subscript(parser *ps, struct step *st)
{
    struct step alts[MAX_UNION];
    size_t n = 0;
    int r = -EINVAL;
    memset(alts, 0, sizeof(alts));
    for (;;) {
        skip_ws(ps);
        if (n == MAX_UNION) goto fail;
        struct step *a = &alts[n];
        int c = peek(ps);
        if (c == '\'' || c == '"') {
            a->kind = ST_FIELD;
            if (parse_quoted(ps, &a->name) < 0) goto fail;
            n++;
        } else {
            int64_t v[3] = { 0, 0, 1 };
            bool have[3] = { false, false, false };
            int part = 0;
            for (;;) {
                skip_ws(ps);
                c = peek(ps);
                if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
                    if (parse_int(ps, &v[part]) < 0) goto fail;
                    have[part] = true;
                    skip_ws(ps);
                    c = peek(ps);
                }
                if (c != ':') break;
                if (++part > 2) goto fail;
                ps->pos++;
            }
            if (part == 0) {
                if (!have[0]) goto fail;
                a->kind = ST_INDEX;
                a->index = v[0];
            } else {
                if (have[2] && v[2] <= 0) goto fail;
                a->kind = ST_SLICE;
                a->has_start = have[0];
                a->has_end = have[1];
                a->start = v[0];
                a->end = v[1];
                a->stride = have[2] ? v[2] : 1;
            }
            n++;
        }
        skip_ws(ps);
        c = peek(ps);
        ps->pos++;
        if (c == ']') break;
        if (c != ',') goto fail;
    }
    if (n == 1) {
        *st = alts[0];
    } else {
        st->kind = ST_UNION;
        st->alts = cn_calloc(n, sizeof(*st->alts));
        memcpy(st->alts, alts, n * sizeof(*alts));
        st->nalts = n;
    }
    return 0;
fail:
    for (size_t i = 0; i <= n && i < MAX_UNION; i++) step_release(&alts[i]);
    return r;
}

static int parse_name(parser *ps, char **out)
{
    size_t start = ps->pos;
    while (is_name_char(peek(ps))) ps->pos++;
    *out = ps->pos > start ? cn_strndup(ps->s + start, ps->pos - start) : NULL;
    return 0;
}

static int parse_path(parser *ps, int depth, bool in_filter, cn_jsonpath **out)
{
    if (depth > MAX_FILTER_DEPTH) return -EINVAL;
    cn_jsonpath *p = cn_calloc(1, sizeof(*p));
    int r = 0;
    skip_ws(ps);
    if (in_filter ? peek(ps) == '@' : peek(ps) == '$') ps->pos++;
    for (;;) {
        struct step st;
        memset(&st, 0, sizeof(st));
        int c = peek(ps);
        if (c == '.') {
            ps->pos++;
            if (peek(ps) == '.') {
                ps->pos++;
                st.kind = ST_RECURSE;
                parse_name(ps, &st.name);
                if (!st.name) {
                    r = -EINVAL;
                    goto fail;
                }
            } else if (peek(ps) == '*') {
                ps->pos++;
                st.kind = ST_WILD;
            } else {
                st.kind = ST_FIELD;
                parse_name(ps, &st.name);
                if (!st.name) continue;      /* "." alone: the current node */
            }
        } else if (c == '[') {
            ps->pos++;
            skip_ws(ps);
            if (peek(ps) == '?' && ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '(') {
                r = parse_filter(ps, depth, &st);
            } else if (peek(ps) == '*') {
                ps->pos++;
                skip_ws(ps);
                st.kind = ST_WILD;
                r = peek(ps) == ']' ? 0 : -EINVAL;
                ps->pos++;
            } else {
                r = parse_subscript(ps, &st);
            }
            if (r < 0) {
                step_release(&st);
                goto fail;
            }
        } else if (is_name_char(c) && p->n == 0 && !in_filter) {
            /* "metadata.name" without the leading dot */
            st.kind = ST_FIELD;
            parse_name(ps, &st.name);
        } else {
            break;
        }
        if ((r = push_step(p, &st)) < 0) goto fail;
    }
    *out = p;
    return 0;
fail:
    cn_jsonpath_free(p);
    return r < 0 ? r : -EINVAL;
}

int cn_jsonpath_parse(const char *expr, cn_jsonpath **out)
{
    if (!expr || !out) return -EINVAL;
    size_t len = strnlen(expr, CN_JSONPATH_MAX_LEN + 1);
    if (len > CN_JSONPATH_MAX_LEN) return -EINVAL;
    /* trim spaces and one level of {...} */
    size_t a = 0, b = len;
    while (a < b && (expr[a] == ' ' || expr[a] == '\t')) a++;
    while (b > a && (expr[b - 1] == ' ' || expr[b - 1] == '\t')) b--;
    if (b - a >= 2 && expr[a] == '{' && expr[b - 1] == '}') {
        a++;
        b--;
    }
    parser ps = { .s = expr + a, .pos = 0, .len = b - a };
    cn_jsonpath *p = NULL;
    int r = parse_path(&ps, 0, false, &p);
    if (r < 0) return r;
    skip_ws(&ps);
    if (ps.pos != ps.len) {
        cn_jsonpath_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

/* --- evaluate --- */

typedef struct nodes {
    const json_t **v;
    size_t n, cap;
} nodes;

static void nodes_push(nodes *ns, const json_t *j)
{
    if (!j || ns->n >= CN_JSONPATH_MAX_RESULTS) return;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 8;
        ns->v = cn_realloc(ns->v, ns->cap * sizeof(*ns->v));
    }
    ns->v[ns->n++] = j;
}

static void eval_path(const cn_jsonpath *p, const json_t *root, nodes *out);

static void apply_index(const json_t *v, int64_t idx, nodes *out)
{
    if (!json_is_array(v)) return;
    int64_t n = (int64_t)json_array_size(v);
    if (idx < 0) idx += n;
    if (idx < 0 || idx >= n) return;
    nodes_push(out, json_array_get(v, (size_t)idx));
}

static void apply_slice(const json_t *v, const struct step *st, nodes *out)
{
    if (!json_is_array(v)) return;
    int64_t n = (int64_t)json_array_size(v);
    int64_t s = st->has_start ? st->start : 0, e = st->has_end ? st->end : n;
    if (s < 0) s += n;
    if (e < 0) e += n;
    if (s < 0) s = 0;
    if (e > n) e = n;
    for (int64_t i = s; i < e; i += st->stride) nodes_push(out, json_array_get(v, (size_t)i));
}

static void apply_recurse(const json_t *v, const char *name, int depth, nodes *out)
{
    if (depth > MAX_RECURSE_DEPTH || out->n >= CN_JSONPATH_MAX_RESULTS) return;
    if (json_is_object(v)) {
        const json_t *hit = json_object_get(v, name);
        if (hit) nodes_push(out, hit);
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) apply_recurse(c, name, depth + 1, out);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) apply_recurse(c, name, depth + 1, out);
    }
}

static bool compare(const json_t *val, enum cmp_op op, const json_t *lit)
{
    int c;
    if (json_is_string(val) && json_is_string(lit)) {
        c = strcmp(json_string_value(val), json_string_value(lit));
    } else if (json_is_number(val) && json_is_number(lit)) {
        double a = json_number_value(val), b = json_number_value(lit);
        c = a < b ? -1 : a > b ? 1 : 0;
    } else {
        bool eq = json_equal(val, lit);
        return op == OP_EQ ? eq : op == OP_NE ? !eq : false;
    }
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    default: return false;
    }
}

static bool filter_match(const struct step *st, const json_t *elem)
{
    nodes r = { 0 };
    eval_path(st->sub, elem, &r);
    bool ok = false;
    if (st->op == OP_EXISTS) {
        ok = r.n > 0;
    } else {
        for (size_t i = 0; i < r.n && !ok; i++) ok = compare(r.v[i], st->op, st->lit);
    }
    free(r.v);
    return ok;
}

static void apply_step(const struct step *st, const json_t *v, nodes *out)
{
    size_t i;
    const char *k;
    json_t *c;
    switch (st->kind) {
    case ST_FIELD:
        if (json_is_object(v)) nodes_push(out, json_object_get(v, st->name));
        break;
    case ST_WILD:
        if (json_is_object(v)) {
            json_object_foreach((json_t *)v, k, c) nodes_push(out, c);
        } else if (json_is_array(v)) {
            json_array_foreach(v, i, c) nodes_push(out, c);
        }
        break;
    case ST_RECURSE:
        apply_recurse(v, st->name, 0, out);
        break;
    case ST_INDEX:
        apply_index(v, st->index, out);
        break;
    case ST_SLICE:
        apply_slice(v, st, out);
        break;
    case ST_UNION:
        for (size_t a = 0; a < st->nalts; a++) apply_step(&st->alts[a], v, out);
        break;
    case ST_FILTER:
        if (json_is_array(v)) {
            json_array_foreach(v, i, c) if (filter_match(st, c)) nodes_push(out, c);
        }
        break;
    }
}

static void eval_path(const cn_jsonpath *p, const json_t *root, nodes *out)
{
    nodes cur = { 0 };
    nodes_push(&cur, root);
    for (size_t s = 0; s < p->n && cur.n > 0; s++) {
        nodes next = { 0 };
        for (size_t i = 0; i < cur.n; i++) apply_step(&p->steps[s], cur.v[i], &next);
        free(cur.v);
        cur = next;
    }
    for (size_t i = 0; i < cur.n; i++) nodes_push(out, cur.v[i]);
    free(cur.v);
}

json_t *cn_jsonpath_eval(const cn_jsonpath *p, const json_t *root)
{
    json_t *arr = json_array();
    if (!p || !root) return arr;
    nodes r = { 0 };
    eval_path(p, root, &r);
    for (size_t i = 0; i < r.n; i++) json_array_append(arr, (json_t *)r.v[i]);
    free(r.v);
    return arr;
}

const json_t *cn_jsonpath_first(const cn_jsonpath *p, const json_t *root)
{
    if (!p || !root) return NULL;
    nodes r = { 0 };
    eval_path(p, root, &r);
    const json_t *first = r.n ? r.v[0] : NULL;
    free(r.v);
    return first;
}
