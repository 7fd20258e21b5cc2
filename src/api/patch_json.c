/* patch_json: RFC 6902 JSON patch (`kubectl patch --type json`).
 *
 * The document is deep-copied once and the operations are applied to the
 * copy in order; the first failing operation aborts the whole patch, so a
 * caller never sees a half-applied result. A malformed patch (not an array
 * of operation objects, unknown op, bad pointer syntax, missing member) is
 * 400 BadRequest; an operation that does not apply to this document (path
 * missing, index out of range, failed "test") is 422 Invalid, which is what
 * the Kubernetes API server answers in both cases.
 *
 * Limits: at most JP_MAX_OPS operations (the API server's own limit) and
 * JP_MAX_COPY_NODES values duplicated by "copy" in total, so a short patch
 * cannot double a document ten thousand times. */
#include "api/patch.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

#define JP_MAX_OPS 10000
#define JP_MAX_TOKENS 1000
#define JP_MAX_COPY_NODES 1000000

typedef struct jp_token {
    char *s;     /* unescaped, NUL-terminated (may hold embedded NULs) */
    size_t len;
} jp_token;

typedef struct jp_ptr {
    jp_token *tok;
    size_t n;
    const char *text; /* the original pointer text, for messages */
} jp_ptr;

static void ptr_release(jp_ptr *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->tok[i].s);
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

/* Parse an RFC 6901 pointer ("" or "/a/b~1c"). */
static int ptr_parse(const json_t *jstr, const char *what, jp_ptr *p, cn_err *err)
{
    memset(p, 0, sizeof *p);
    if (!json_is_string(jstr))
        return cn_err_bad_request(err, "json patch: \"%s\" must be a string", what);
    const char *s = json_string_value(jstr);
    size_t len = json_string_length(jstr);
    p->text = s;
    if (len == 0) return 0;
    if (s[0] != '/')
        return cn_err_bad_request(err, "json patch: invalid JSON pointer \"%s\": must start with '/'", s);
    size_t ntok = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/') ntok++;
    if (ntok > JP_MAX_TOKENS)
        return cn_err_bad_request(err, "json patch: JSON pointer has more than %d segments",
                                  JP_MAX_TOKENS);
    p->tok = cn_calloc(ntok, sizeof *p->tok);
    size_t i = 1;
    while (p->n < ntok) {
        size_t j = i;
        while (j < len && s[j] != '/') j++;
        char *t = cn_malloc(j - i + 1);
        size_t o = 0;
        for (size_t k = i; k < j; k++) {
            if (s[k] != '~') {
                t[o++] = s[k];
                continue;
            }
            if (k + 1 < j && (s[k + 1] == '0' || s[k + 1] == '1')) {
                t[o++] = s[k + 1] == '0' ? '~' : '/';
                k++;
                continue;
            }
            free(t);
            ptr_release(p);
            return cn_err_bad_request(err, "json patch: invalid JSON pointer \"%s\": bad '~' escape", s);
        }
        t[o] = '\0';
        p->tok[p->n].s = t;
        p->tok[p->n].len = o;
        p->n++;
        i = j + 1;
    }
    return 0;
}

/* Array index per RFC 6901: "0" or no leading zero; -1 if not an index. */
static long parse_index(const jp_token *t)
{
    if (t->len == 0 || t->len > 9) return -1;
    if (t->len > 1 && t->s[0] == '0') return -1;
    long v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9') return -1;
        v = v * 10 + (t->s[i] - '0');
    }
    return v;
}

static int missing(cn_err *err, const char *op, const jp_ptr *p)
{
    return cn_err_invalid(err, "json patch %s operation does not apply: doc is missing path: \"%s\"",
                          op, p->text);
}

/* The value at tokens [0, n) of root, or NULL. */
static json_t *walk(json_t *root, const jp_ptr *p, size_t n)
{
    json_t *cur = root;
    for (size_t i = 0; i < n && cur; i++) {
        const jp_token *t = &p->tok[i];
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, t->s, t->len);
        } else if (json_is_array(cur)) {
            long idx = parse_index(t);
            cur = idx < 0 ? NULL : json_array_get(cur, (size_t)idx);
        } else {
            cur = NULL;
        }
    }
    return cur;
}

/* add: steals val (also on failure). */
static int op_add(json_t **root, const jp_ptr *p, json_t *val, const char *op, cn_err *err)
{
    if (p->n == 0) {
        json_decref(*root);
        *root = val;
        return 0;
    }
    json_t *parent = walk(*root, p, p->n - 1);
    const jp_token *last = &p->tok[p->n - 1];
    if (json_is_object(parent)) {
        json_object_setn_new_nocheck(parent, last->s, last->len, val);
        return 0;
    }
    if (json_is_array(parent)) {
        if (last->len == 1 && last->s[0] == '-') {
            json_array_append_new(parent, val);
            return 0;
        }
        long idx = parse_index(last);
        if (idx >= 0 && (size_t)idx <= json_array_size(parent)) {
            json_array_insert_new(parent, (size_t)idx, val);
            return 0;
        }
        json_decref(val);
        return cn_err_invalid(err, "json patch %s operation does not apply: index out of range in \"%s\"",
                              op, p->text);
    }
    json_decref(val);
    return missing(err, op, p);
}

/* remove; if taken is non-NULL the removed value is handed over. */
static int op_remove(json_t *root, const jp_ptr *p, const char *op, json_t **taken, cn_err *err)
{
    if (p->n == 0) return cn_err_invalid(err, "json patch %s operation cannot remove the whole document", op);
    json_t *parent = walk(root, p, p->n - 1);
    const jp_token *last = &p->tok[p->n - 1];
    if (json_is_object(parent)) {
        json_t *v = json_object_getn(parent, last->s, last->len);
        if (!v) return missing(err, op, p);
        if (taken) *taken = json_incref(v);
        json_object_deln(parent, last->s, last->len);
        return 0;
    }
    if (json_is_array(parent)) {
        long idx = parse_index(last);
        if (idx < 0 || (size_t)idx >= json_array_size(parent)) return missing(err, op, p);
        if (taken) *taken = json_incref(json_array_get(parent, (size_t)idx));
        json_array_remove(parent, (size_t)idx);
        return 0;
    }
    return missing(err, op, p);
}

/* Node count of v, stopping early once past limit. */
static size_t count_nodes(const json_t *v, size_t limit)
{
    size_t n = 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            if (n > limit) break;
            n += count_nodes(c, limit - n);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            if (n > limit) break;
            n += count_nodes(c, limit - n);
        }
    }
    return n;
}

/* Token-wise: is a a proper prefix of b? */
static int ptr_is_proper_prefix(const jp_ptr *a, const jp_ptr *b)
{
    if (a->n >= b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->tok[i].len != b->tok[i].len || memcmp(a->tok[i].s, b->tok[i].s, a->tok[i].len) != 0)
            return 0;
    return 1;
}

static int ptr_equal(const jp_ptr *a, const jp_ptr *b)
{
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->tok[i].len != b->tok[i].len || memcmp(a->tok[i].s, b->tok[i].s, a->tok[i].len) != 0)
            return 0;
    return 1;
}

static int apply_one(json_t **root, const json_t *opobj, size_t idx, size_t *copied, cn_err *err)
{
    if (!json_is_object(opobj))
        return cn_err_bad_request(err, "json patch: operation %zu is not an object", idx);
    const json_t *jop = json_object_get(opobj, "op");
    if (!json_is_string(jop))
        return cn_err_bad_request(err, "json patch: operation %zu has no \"op\"", idx);
    const char *op = json_string_value(jop);
    enum { ADD, REMOVE, REPLACE, MOVE, COPY, TEST } kind;
    if (strcmp(op, "add") == 0) kind = ADD;
    else if (strcmp(op, "remove") == 0) kind = REMOVE;
    else if (strcmp(op, "replace") == 0) kind = REPLACE;
    else if (strcmp(op, "move") == 0) kind = MOVE;
    else if (strcmp(op, "copy") == 0) kind = COPY;
    else if (strcmp(op, "test") == 0) kind = TEST;
    else return cn_err_bad_request(err, "json patch: unknown operation \"%s\"", op);

    const json_t *jpath = json_object_get(opobj, "path");
    if (!jpath) return cn_err_bad_request(err, "json patch: operation %zu (%s) has no \"path\"", idx, op);
    const json_t *value = json_object_get(opobj, "value");
    if ((kind == ADD || kind == REPLACE || kind == TEST) && !value)
        return cn_err_bad_request(err, "json patch: operation %zu (%s) has no \"value\"", idx, op);
    const json_t *jfrom = json_object_get(opobj, "from");
    if ((kind == MOVE || kind == COPY) && !jfrom)
        return cn_err_bad_request(err, "json patch: operation %zu (%s) has no \"from\"", idx, op);

    jp_ptr path, from = { 0 };
    int r = ptr_parse(jpath, "path", &path, err);
    if (r < 0) return r;
    if (kind == MOVE || kind == COPY) {
        r = ptr_parse(jfrom, "from", &from, err);
        if (r < 0) goto out;
    }

    switch (kind) {
    case ADD:
        r = op_add(root, &path, json_deep_copy(value), op, err);
        break;
    case REMOVE:
        r = op_remove(*root, &path, op, NULL, err);
        break;
    case REPLACE: {
        if (!walk(*root, &path, path.n)) {
            r = missing(err, op, &path);
            break;
        }
        if (path.n > 0) {
            r = op_remove(*root, &path, op, NULL, err);
            if (r < 0) break;
        }
        r = op_add(root, &path, json_deep_copy(value), op, err);
        break;
    }
    case MOVE: {
        if (!walk(*root, &from, from.n)) {
            r = missing(err, op, &from);
            break;
        }
        if (ptr_equal(&from, &path)) break; /* a no-op, per RFC 6902 4.4 */
        if (ptr_is_proper_prefix(&from, &path)) {
            r = cn_err_invalid(err, "json patch move operation: \"%s\" cannot be moved into its own child \"%s\"",
                               from.text, path.text);
            break;
        }
        json_t *v = NULL;
        r = op_remove(*root, &from, op, &v, err);
        if (r < 0) break;
        r = op_add(root, &path, v, op, err);
        break;
    }
    case COPY: {
        json_t *src = walk(*root, &from, from.n);
        if (!src) {
            r = missing(err, op, &from);
            break;
        }
        *copied += count_nodes(src, JP_MAX_COPY_NODES);
        if (*copied > JP_MAX_COPY_NODES) {
            r = cn_err_invalid(err, "json patch copy operations duplicate more than %d values",
                               JP_MAX_COPY_NODES);
            break;
        }
        r = op_add(root, &path, json_deep_copy(src), op, err);
        break;
    }
    case TEST: {
        json_t *cur = walk(*root, &path, path.n);
        if (!cur) r = missing(err, op, &path);
        else if (!cn_json_equal(cur, value))
            r = cn_err_invalid(err, "json patch test operation failed: value at \"%s\" differs", path.text);
        break;
    }
    }
out:
    ptr_release(&path);
    ptr_release(&from);
    return r;
}

int cn_patch_json(const json_t *doc, const json_t *patch, json_t **out, cn_err *err)
{
    if (!out) return -EINVAL;
    if (!json_is_array(patch))
        return cn_err_bad_request(err, "json patch: the patch must be a JSON array of operations");
    if (json_array_size(patch) > JP_MAX_OPS)
        return cn_err_bad_request(err, "json patch: %zu operations, the limit is %d",
                                  json_array_size(patch), JP_MAX_OPS);
    json_t *root = doc ? json_deep_copy(doc) : json_null();
    size_t copied = 0;
    for (size_t i = 0; i < json_array_size(patch); i++) {
        int r = apply_one(&root, json_array_get(patch, i), i, &copied, err);
        if (r < 0) {
            json_decref(root);
            return r;
        }
    }
    *out = root;
    return 0;
}
