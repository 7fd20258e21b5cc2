/* selector: label selectors (labels.Parse grammar and metav1.LabelSelector)
 * and field selectors (fields.ParseSelector grammar), evaluated against
 * stored objects on list and watch. Parsing is strict and bounded because
 * the text arrives straight from ?labelSelector= / ?fieldSelector=. */
#include "api/selector.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define SEL_MAX_TEXT   (64 * 1024)
#define SEL_MAX_REQS   256
#define SEL_MAX_VALUES 1024
#define FSEL_MAX_TERMS 64

/* ------------------------------------------------------------------ */
/* label key / value validation (apimachinery validation.IsQualifiedName
 * and IsValidLabelValue). Each returns NULL when valid, else why not. */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], non-empty */
static bool name_chars_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

/* DNS-1123 subdomain: dot-separated labels of [a-z0-9-], alnum at the ends. */
static bool dns_subdomain_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253) return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_lower_alnum(s[i]) && s[i] != '-') return false;
            continue;
        }
        if (i == start || !is_lower_alnum(s[start]) || !is_lower_alnum(s[i - 1])) return false;
        start = i + 1;
    }
    return true;
}

#define NAME_MSG "name part must consist of alphanumeric characters, '-', '_' or '.', and must " \
    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or " \
    "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

static const char *label_key_problem(const char *key)
{
    const char *slash = strchr(key, '/');
    const char *name = key;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character, with an optional "
                   "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
        size_t plen = (size_t)(slash - key);
        if (plen == 0) return "prefix part must be non-empty";
        if (plen > 253) return "prefix part must be no more than 253 characters";
        if (!dns_subdomain_ok(key, plen))
            return "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                   "alphanumeric characters, '-' or '.', and must start and end with an "
                   "alphanumeric character (e.g. 'example.com')";
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0) return "name part must be non-empty";
    if (n > 63) return "name part must be no more than 63 characters";
    if (!name_chars_ok(name, n)) return NAME_MSG;
    return NULL;
}

static const char *label_value_problem(const char *v)
{
    size_t n = strlen(v);
    if (n == 0) return NULL;
    if (n > 63) return "must be no more than 63 characters";
    if (!name_chars_ok(v, n))
        return "a valid label must be an empty string or consist of alphanumeric characters, "
               "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
               "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
               "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* label selector representation */

typedef enum sel_op {
    OP_EXISTS, OP_NOT_EXISTS, OP_EQ, OP_DEQ, OP_NEQ, OP_IN, OP_NOTIN, OP_GT, OP_LT,
} sel_op;

typedef struct sel_req {
    char *key;
    sel_op op;
    char **vals;      /* sorted, deduplicated */
    size_t nvals;
    int64_t num;      /* OP_GT / OP_LT operand */
} sel_req;

struct cn_selector {
    sel_req *reqs;
    size_t n;
};

static void req_release(sel_req *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvals; i++) free(r->vals[i]);
    free(r->vals);
}

void cn_selector_free(cn_selector *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) req_release(&s->reqs[i]);
    free(s->reqs);
    free(s);
}

bool cn_selector_empty(const cn_selector *s)
{
    return !s || s->n == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void req_normalize(sel_req *r)
{
    if (r->nvals < 2) return;
    qsort(r->vals, r->nvals, sizeof *r->vals, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < r->nvals; i++) {
        if (!strcmp(r->vals[i], r->vals[w - 1])) {
            free(r->vals[i]);
            continue;
        }
        r->vals[w++] = r->vals[i];
    }
    r->nvals = w;
}

/* Checks the requirement the way labels.NewRequirement does; takes
 * ownership of *r (released on failure). */
static int sel_add(cn_selector *s, sel_req *r, cn_err *err)
{
    const char *why;
    int ret = 0;
    if (s->n >= SEL_MAX_REQS) {
        ret = cn_err_bad_request(err, "unable to parse requirement: too many requirements (max %d)",
                                 SEL_MAX_REQS);
        goto fail;
    }
    if ((why = label_key_problem(r->key))) {
        ret = cn_err_bad_request(err, "unable to parse requirement: key: Invalid value: \"%s\": %s",
                                 r->key, why);
        goto fail;
    }
    switch (r->op) {
    case OP_IN:
    case OP_NOTIN:
        if (r->nvals == 0) {
            ret = cn_err_bad_request(err, "unable to parse requirement: values: Invalid value: "
                                     "[]: for 'in', 'notin' operators, values set can't be empty");
            goto fail;
        }
        break;
    case OP_EQ:
    case OP_DEQ:
    case OP_NEQ:
        if (r->nvals != 1) {
            ret = cn_err_bad_request(err, "unable to parse requirement: values: Invalid value: "
                                     "exactly one value is required");
            goto fail;
        }
        break;
    case OP_EXISTS:
    case OP_NOT_EXISTS:
        if (r->nvals != 0) {
            ret = cn_err_bad_request(err, "unable to parse requirement: values: Invalid value: "
                                     "values set must be empty for exists and does not exist");
            goto fail;
        }
        break;
    case OP_GT:
    case OP_LT:
        if (r->nvals != 1 || cn_parse_int64(r->vals[0], &r->num) < 0) {
            ret = cn_err_bad_request(err, "unable to parse requirement: values[0]: Invalid value: "
                                     "\"%s\": for 'Gt', 'Lt' operators, the value must be an integer",
                                     r->nvals ? r->vals[0] : "");
            goto fail;
        }
        break;
    }
    for (size_t i = 0; i < r->nvals; i++) {
        if ((why = label_value_problem(r->vals[i]))) {
            ret = cn_err_bad_request(err, "unable to parse requirement: values[%zu][%s]: "
                                     "Invalid value: \"%s\": %s", i, r->key, r->vals[i], why);
            goto fail;
        }
    }
    req_normalize(r);
    s->reqs = cn_realloc(s->reqs, (s->n + 1) * sizeof *s->reqs);
    s->reqs[s->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
fail:
    req_release(r);
    memset(r, 0, sizeof *r);
    return ret;
}

/* Upstream keeps requirements ordered by key; a stable insertion sort
 * keeps the relative order of equal keys (n is bounded). */
static void sel_sort(cn_selector *s)
{
    for (size_t i = 1; i < s->n; i++) {
        sel_req t = s->reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(s->reqs[j - 1].key, t.key) > 0) {
            s->reqs[j] = s->reqs[j - 1];
            j--;
        }
        s->reqs[j] = t;
    }
}

static void req_add_value(sel_req *r, const char *v, size_t n)
{
    r->vals = cn_realloc(r->vals, (r->nvals + 1) * sizeof *r->vals);
    r->vals[r->nvals++] = cn_strndup(v, n);
}

/* ------------------------------------------------------------------ */
/* label selector text: lexer + recursive-descent parser (no recursion
 * actually needed: the grammar is flat). */

typedef enum tok_kind {
    T_EOF, T_IDENT, T_NOT, T_NEQ, T_EQ, T_DEQ, T_IN, T_NOTIN, T_GT, T_LT,
    T_LPAREN, T_RPAREN, T_COMMA,
} tok_kind;

typedef struct lexer {
    const char *p;
} lexer;

typedef struct token {
    tok_kind kind;
    const char *s;   /* literal text */
    size_t n;
} token;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

static token lex_next(lexer *lx)
{
    while (is_ws(*lx->p)) lx->p++;
    token t = { T_EOF, lx->p, 0 };
    const char *p = lx->p;
    if (!*p) return t;
    if (is_special(*p)) {
        t.n = 1;
        switch (*p) {
        case '!':
            if (p[1] == '=') { t.kind = T_NEQ; t.n = 2; }
            else t.kind = T_NOT;
            break;
        case '=':
            if (p[1] == '=') { t.kind = T_DEQ; t.n = 2; }
            else t.kind = T_EQ;
            break;
        case '(': t.kind = T_LPAREN; break;
        case ')': t.kind = T_RPAREN; break;
        case ',': t.kind = T_COMMA; break;
        case '<': t.kind = T_LT; break;
        default:  t.kind = T_GT; break;
        }
        lx->p += t.n;
        return t;
    }
    while (*p && !is_ws(*p) && !is_special(*p)) p++;
    t.n = (size_t)(p - lx->p);
    t.kind = T_IDENT;
    if (t.n == 2 && !memcmp(t.s, "in", 2)) t.kind = T_IN;
    else if (t.n == 5 && !memcmp(t.s, "notin", 5)) t.kind = T_NOTIN;
    lx->p = p;
    return t;
}

static token lex_peek(const lexer *lx)
{
    lexer copy = *lx;
    return lex_next(&copy);
}

/* In value (and key) position the keywords are ordinary identifiers. */
static bool is_ident(tok_kind k)
{
    return k == T_IDENT || k == T_IN || k == T_NOTIN;
}

static int tok_err(cn_err *err, token t, const char *expected)
{
    if (t.kind == T_EOF)
        return cn_err_bad_request(err, "unable to parse requirement: found '', expected: %s", expected);
    return cn_err_bad_request(err, "unable to parse requirement: found '%.*s', expected: %s",
                              (int)(t.n > 64 ? 64 : t.n), t.s, expected);
}

static int parse_values(lexer *lx, sel_req *r, cn_err *err)
{
    token t = lex_next(lx);
    if (t.kind != T_LPAREN) return tok_err(err, t, "'('");
    t = lex_peek(lx);
    if (t.kind == T_RPAREN) {
        lex_next(lx);
        return 0;
    }
    /* item (',' item)* ')' where an item may be empty: "(a,)" holds "". */
    for (;;) {
        if (r->nvals >= SEL_MAX_VALUES)
            return cn_err_bad_request(err, "unable to parse requirement: too many values (max %d)",
                                      SEL_MAX_VALUES);
        t = lex_next(lx);
        if (is_ident(t.kind)) {
            req_add_value(r, t.s, t.n);
            t = lex_next(lx);
        } else {
            req_add_value(r, "", 0);
        }
        if (t.kind == T_RPAREN) return 0;
        if (t.kind != T_COMMA) return tok_err(err, t, "',' or ')'");
    }
}

static int parse_exact_value(lexer *lx, sel_req *r, cn_err *err)
{
    token t = lex_peek(lx);
    if (t.kind == T_EOF || t.kind == T_COMMA) {
        req_add_value(r, "", 0);
        return 0;
    }
    t = lex_next(lx);
    if (!is_ident(t.kind)) return tok_err(err, t, "identifier");
    req_add_value(r, t.s, t.n);
    return 0;
}

static int parse_requirement(lexer *lx, cn_selector *s, cn_err *err)
{
    sel_req r = { 0 };
    int ret;
    token t = lex_next(lx);
    if (t.kind == T_NOT) {
        t = lex_next(lx);
        if (!is_ident(t.kind)) return tok_err(err, t, "identifier after '!'");
        r.key = cn_strndup(t.s, t.n);
        r.op = OP_NOT_EXISTS;
        return sel_add(s, &r, err);
    }
    if (!is_ident(t.kind)) return tok_err(err, t, "!, identifier, or 'end of string'");
    r.key = cn_strndup(t.s, t.n);
    t = lex_peek(lx);
    if (t.kind == T_EOF || t.kind == T_COMMA) {
        r.op = OP_EXISTS;
        return sel_add(s, &r, err);
    }
    t = lex_next(lx);
    switch (t.kind) {
    case T_EQ:    r.op = OP_EQ; break;
    case T_DEQ:   r.op = OP_DEQ; break;
    case T_NEQ:   r.op = OP_NEQ; break;
    case T_IN:    r.op = OP_IN; break;
    case T_NOTIN: r.op = OP_NOTIN; break;
    case T_GT:    r.op = OP_GT; break;
    case T_LT:    r.op = OP_LT; break;
    default:
        ret = tok_err(err, t, "in, notin, =, ==, !=, gt, lt");
        goto fail;
    }
    if (r.op == OP_IN || r.op == OP_NOTIN) ret = parse_values(lx, &r, err);
    else ret = parse_exact_value(lx, &r, err);
    if (ret < 0) goto fail;
    return sel_add(s, &r, err);
fail:
    req_release(&r);
    return ret;
}

int cn_selector_parse(const char *text, cn_selector **out, cn_err *err)
{
    cn_selector *s = cn_calloc(1, sizeof *s);
    int ret = 0;
    *out = NULL;
    if (!text) text = "";
    if (strlen(text) > SEL_MAX_TEXT) {
        ret = cn_err_bad_request(err, "label selector is too long (max %d bytes)", SEL_MAX_TEXT);
        goto fail;
    }
    lexer lx = { text };
    if (lex_peek(&lx).kind != T_EOF) {
        for (;;) {
            ret = parse_requirement(&lx, s, err);
            if (ret < 0) goto fail;
            token t = lex_next(&lx);
            if (t.kind == T_EOF) break;
            if (t.kind != T_COMMA) {
                ret = tok_err(err, t, "',' or 'end of string'");
                goto fail;
            }
            t = lex_peek(&lx);
            if (!is_ident(t.kind) && t.kind != T_NOT) {
                ret = tok_err(err, t, "identifier after ','");
                goto fail;
            }
        }
    }
    sel_sort(s);
    *out = s;
    return 0;
fail:
    cn_selector_free(s);
    return ret < 0 ? ret : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* metav1.LabelSelector */

static int expr_values(const json_t *vals, sel_req *r, size_t idx, cn_err *err)
{
    if (!vals || json_is_null(vals)) return 0;
    if (!json_is_array(vals))
        return cn_err_bad_request(err, "matchExpressions[%zu].values: Invalid value: must be a list of strings", idx);
    if (json_array_size(vals) > SEL_MAX_VALUES)
        return cn_err_bad_request(err, "matchExpressions[%zu].values: Too many: must have at most %d items",
                                  idx, SEL_MAX_VALUES);
    size_t i;
    const json_t *v;
    json_array_foreach(vals, i, v) {
        if (!json_is_string(v))
            return cn_err_bad_request(err, "matchExpressions[%zu].values[%zu]: Invalid value: must be a string",
                                      idx, i);
        req_add_value(r, json_string_value(v), json_string_length(v));
    }
    return 0;
}

int cn_selector_from_json(const json_t *sel, cn_selector **out, cn_err *err)
{
    cn_selector *s = cn_calloc(1, sizeof *s);
    int ret = 0;
    *out = NULL;
    if (!sel || json_is_null(sel)) goto done;
    if (!json_is_object(sel)) {
        ret = cn_err_bad_request(err, "invalid label selector: must be an object");
        goto fail;
    }
    const json_t *ml = json_object_get(sel, "matchLabels");
    if (ml && !json_is_null(ml)) {
        if (!json_is_object(ml)) {
            ret = cn_err_bad_request(err, "matchLabels: Invalid value: must be a map of strings");
            goto fail;
        }
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)ml, k, v) {
            if (!json_is_string(v)) {
                ret = cn_err_bad_request(err, "matchLabels[%s]: Invalid value: must be a string", k);
                goto fail;
            }
            sel_req r = { .key = cn_strdup(k), .op = OP_EQ };
            req_add_value(&r, json_string_value(v), json_string_length(v));
            if ((ret = sel_add(s, &r, err)) < 0) goto fail;
        }
    }
    const json_t *me = json_object_get(sel, "matchExpressions");
    if (me && !json_is_null(me)) {
        if (!json_is_array(me)) {
            ret = cn_err_bad_request(err, "matchExpressions: Invalid value: must be a list");
            goto fail;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(me, i, e) {
            const char *key = json_string_value(json_object_get(e, "key"));
            const char *op = json_string_value(json_object_get(e, "operator"));
            if (!json_is_object(e) || !key) {
                ret = cn_err_bad_request(err, "matchExpressions[%zu].key: Required value", i);
                goto fail;
            }
            sel_req r = { .key = cn_strdup(key) };
            if (op && !strcmp(op, "In")) r.op = OP_IN;
            else if (op && !strcmp(op, "NotIn")) r.op = OP_NOTIN;
            else if (op && !strcmp(op, "Exists")) r.op = OP_EXISTS;
            else if (op && !strcmp(op, "DoesNotExist")) r.op = OP_NOT_EXISTS;
            else {
                req_release(&r);
                ret = cn_err_bad_request(err, "\"%s\" is not a valid label selector operator",
                                         op ? op : "");
                goto fail;
            }
            if ((ret = expr_values(json_object_get(e, "values"), &r, i, err)) < 0) {
                req_release(&r);
                goto fail;
            }
            if ((ret = sel_add(s, &r, err)) < 0) goto fail;
        }
    }
done:
    sel_sort(s);
    *out = s;
    return 0;
fail:
    cn_selector_free(s);
    return ret < 0 ? ret : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* evaluation and printing */

static bool req_has(const sel_req *r, const char *v)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (!strcmp(r->vals[i], v)) return true;
    return false;
}

static bool req_matches(const sel_req *r, const json_t *labels)
{
    const json_t *lv = labels ? json_object_get(labels, r->key) : NULL;
    const char *v = json_string_value(lv);
    switch (r->op) {
    case OP_EXISTS:     return lv != NULL;
    case OP_NOT_EXISTS: return lv == NULL;
    case OP_EQ:
    case OP_DEQ:
    case OP_IN:         return v && req_has(r, v);
    case OP_NEQ:
    case OP_NOTIN:      return !v || !req_has(r, v);
    case OP_GT:
    case OP_LT: {
        int64_t n;
        if (!v || cn_parse_int64(v, &n) < 0) return false;
        return r->op == OP_GT ? n > r->num : n < r->num;
    }
    }
    return false;
}

bool cn_selector_matches(const cn_selector *s, const json_t *labels)
{
    if (!s) return true;
    if (labels && !json_is_object(labels)) labels = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (!req_matches(&s->reqs[i], labels)) return false;
    return true;
}

char *cn_selector_string(const cn_selector *s)
{
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; s && i < s->n; i++) {
        const sel_req *r = &s->reqs[i];
        if (i) cn_buf_addc(&b, ',');
        if (r->op == OP_NOT_EXISTS) cn_buf_addc(&b, '!');
        cn_buf_adds(&b, r->key);
        switch (r->op) {
        case OP_EXISTS:
        case OP_NOT_EXISTS: continue;
        case OP_EQ:    cn_buf_adds(&b, "="); break;
        case OP_DEQ:   cn_buf_adds(&b, "=="); break;
        case OP_NEQ:   cn_buf_adds(&b, "!="); break;
        case OP_IN:    cn_buf_adds(&b, " in ("); break;
        case OP_NOTIN: cn_buf_adds(&b, " notin ("); break;
        case OP_GT:    cn_buf_adds(&b, ">"); break;
        case OP_LT:    cn_buf_adds(&b, "<"); break;
        }
        for (size_t j = 0; j < r->nvals; j++) {
            if (j) cn_buf_addc(&b, ',');
            cn_buf_adds(&b, r->vals[j]);
        }
        if (r->op == OP_IN || r->op == OP_NOTIN) cn_buf_addc(&b, ')');
    }
    return cn_buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* field selectors */

typedef struct fterm {
    char *field;
    char *value;   /* unescaped */
    bool neq;
} fterm;

struct cn_fieldsel {
    fterm *t;
    size_t n;
};

void cn_fieldsel_free(cn_fieldsel *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->t[i].field);
        free(s->t[i].value);
    }
    free(s->t);
    free(s);
}

static int unescape_value(const char *s, size_t n, char **out, cn_err *err)
{
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            if (i + 1 == n) {
                cn_buf_release(&b);
                return cn_err_bad_request(err, "invalid field selector: invalid escape sequence: \\");
            }
            c = s[++i];
            if (c != '\\' && c != ',' && c != '=') {
                cn_buf_release(&b);
                return cn_err_bad_request(err, "invalid field selector: invalid escape sequence: \\%c", c);
            }
        } else if (c == ',' || c == '=') {
            cn_buf_release(&b);
            return cn_err_bad_request(err, "invalid field selector: unescaped character in value: %c", c);
        } else if (c == '\0') {
            cn_buf_release(&b);
            return cn_err_bad_request(err, "invalid field selector: NUL in value");
        }
        cn_buf_addc(&b, c);
    }
    *out = cn_buf_detach(&b, NULL);
    return 0;
}

static bool field_allowed(const char *f, size_t n, const char *const *allowed)
{
    if ((n == 13 && !memcmp(f, "metadata.name", 13)) || (n == 18 && !memcmp(f, "metadata.namespace", 18)))
        return true;
    for (size_t i = 0; allowed && allowed[i]; i++)
        if (strlen(allowed[i]) == n && !memcmp(allowed[i], f, n)) return true;
    return false;
}

static int unknown_field(const char *f, size_t n, const char *const *allowed, cn_err *err)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "\"metadata.name\", \"metadata.namespace\"");
    for (size_t i = 0; allowed && allowed[i]; i++) {
        if (!strcmp(allowed[i], "metadata.name") || !strcmp(allowed[i], "metadata.namespace")) continue;
        cn_buf_addf(&b, ", \"%s\"", allowed[i]);
    }
    int r = cn_err_bad_request(err, "\"%.*s\" is not a known field selector: only %s",
                               (int)(n > 256 ? 256 : n), f, b.data);
    cn_buf_release(&b);
    return r;
}

/* One "lhs op rhs" term; the operator is the first "!=", "==" or "=". */
static int parse_term(cn_fieldsel *s, const char *t, size_t n, const char *const *allowed, cn_err *err)
{
    size_t i, oplen = 0;
    bool neq = false;
    for (i = 0; i < n; i++) {
        if (t[i] == '!' && i + 1 < n && t[i + 1] == '=') { neq = true; oplen = 2; break; }
        if (t[i] == '=' && i + 1 < n && t[i + 1] == '=') { oplen = 2; break; }
        if (t[i] == '=') { oplen = 1; break; }
    }
    if (!oplen)
        return cn_err_bad_request(err, "invalid selector: '%.*s'; can't understand '%.*s'",
                                  (int)(n > 256 ? 256 : n), t, (int)(n > 256 ? 256 : n), t);
    if (!field_allowed(t, i, allowed)) return unknown_field(t, i, allowed, err);
    if (s->n >= FSEL_MAX_TERMS)
        return cn_err_bad_request(err, "invalid field selector: too many terms (max %d)", FSEL_MAX_TERMS);
    char *value = NULL;
    int r = unescape_value(t + i + oplen, n - i - oplen, &value, err);
    if (r < 0) return r;
    s->t = cn_realloc(s->t, (s->n + 1) * sizeof *s->t);
    s->t[s->n++] = (fterm){ cn_strndup(t, i), value, neq };
    return 0;
}

int cn_fieldsel_parse(const char *text, const char *const *allowed, cn_fieldsel **out, cn_err *err)
{
    cn_fieldsel *s = cn_calloc(1, sizeof *s);
    int r = 0;
    *out = NULL;
    if (!text) text = "";
    size_t len = strlen(text);
    if (len > SEL_MAX_TEXT) {
        r = cn_err_bad_request(err, "field selector is too long (max %d bytes)", SEL_MAX_TEXT);
        goto fail;
    }
    /* Split on commas not preceded by an escaping backslash. */
    size_t start = 0;
    bool esc = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            if (esc) { esc = false; continue; }
            if (text[i] == '\\') { esc = true; continue; }
            if (text[i] != ',') continue;
        }
        if (i > start && (r = parse_term(s, text + start, i - start, allowed, err)) < 0) goto fail;
        start = i + 1;
    }
    *out = s;
    return 0;
fail:
    cn_fieldsel_free(s);
    return r < 0 ? r : -EINVAL;
}

/* Boolean fields whose Go zero value is false: upstream field sets report
 * "false" for them even when the JSON omits the field. */
static const char *field_default(const char *field)
{
    if (!strcmp(field, "spec.unschedulable") || !strcmp(field, "spec.hostNetwork")) return "false";
    return "";
}

/* Resolve a dotted path into obj and render it as the string the field
 * selector compares against; missing or structured values give "". */
static const char *field_value(const json_t *obj, const char *field, char *tmp, size_t tmpn)
{
    const json_t *cur = obj;
    const char *p = field;
    /* events: "source" selects source.component */
    if (!strcmp(field, "source")) p = "source.component";
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur)) return field_default(field);
        cur = json_object_getn(cur, p, n);
        p = dot ? dot + 1 : p + n;
    }
    if (!cur || json_is_null(cur)) return field_default(field);
    if (json_is_string(cur)) return json_string_value(cur);
    if (json_is_true(cur)) return "true";
    if (json_is_false(cur)) return "false";
    if (json_is_integer(cur)) {
        snprintf(tmp, tmpn, "%lld", (long long)json_integer_value(cur));
        return tmp;
    }
    if (json_is_real(cur)) {
        snprintf(tmp, tmpn, "%g", json_real_value(cur));
        return tmp;
    }
    return "";
}

bool cn_fieldsel_matches(const cn_fieldsel *s, const json_t *obj)
{
    if (!s) return true;
    for (size_t i = 0; i < s->n; i++) {
        char tmp[64];
        const char *v = field_value(obj, s->t[i].field, tmp, sizeof tmp);
        bool eq = !strcmp(v, s->t[i].value);
        if (eq == s->t[i].neq) return false;
    }
    return true;
}

const char *cn_fieldsel_exact(const cn_fieldsel *s, const char *field)
{
    for (size_t i = 0; s && field && i < s->n; i++)
        if (!s->t[i].neq && !strcmp(s->t[i].field, field)) return s->t[i].value;
    return NULL;
}
