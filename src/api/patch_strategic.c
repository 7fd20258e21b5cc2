/* patch_strategic: strategic merge patch (application/strategic-merge-patch+
 * json), the body of `kubectl patch`, `set image`, `rollout restart`,
 * `cordon` and client-side `apply` for built-in kinds.
 *
 * It is a JSON merge patch whose list behaviour comes from the schema: a
 * field with CN_PS_MERGE merges its list by merge_key (lists of objects) or
 * as an ordered set (lists of primitives, e.g. finalizers); every other list
 * is replaced. Directives, none of which survive into the result:
 *   $patch: replace|delete|merge     on a map, or as a list item
 *   $setElementOrder/<list>           final relative order of <list>
 *   $deleteFromPrimitiveList/<list>   values to drop from a primitive list
 *   $retainKeys                       keys of the map to keep
 *
 * Ordering follows the upstream server (sig-api-machinery "preserve order
 * in strategic merge patch"): items named by the patch (or by
 * $setElementOrder when present) take that relative order; items only on
 * the server keep theirs and are interleaved by their live position; a new
 * item that the server never had sorts before server-only items it cannot
 * be compared with.
 *
 * Every function builds fresh values; the inputs are only read. */
#include "api/patch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define SMP_MAX_DEPTH 100

#define DIR_PATCH "$patch"
#define DIR_RETAIN "$retainKeys"
#define DIR_ORDER "$setElementOrder/"
#define DIR_DELETE_PRIM "$deleteFromPrimitiveList/"

/* What the schema says about the object being merged: its message, or for
 * a CN_T_MAP of messages (mapof), the message of every value. */
typedef struct smp_type {
    const cn_message *msg;
    bool mapof;
} smp_type;

static int smp_map(const json_t *orig, const json_t *patch, smp_type t, int depth, json_t **out,
                   cn_err *err);
static int smp_clean_list(const json_t *patch, smp_type item, int depth, json_t **out, cn_err *err);

/* cn_schema_field also looks through inlined members (Volume sources,
 * Probe handlers, ...). */
static const cn_field *field_of(const cn_message *m, const char *name)
{
    return m ? cn_schema_field(m, name) : NULL;
}

/* The field `key` of t (NULL when unknown) and the type of its value. */
static const cn_field *child_of(smp_type t, const char *key, smp_type *child)
{
    child->msg = NULL;
    child->mapof = false;
    if (t.mapof) {
        child->msg = t.msg;
        return NULL;
    }
    const cn_field *f = field_of(t.msg, key);
    if (f) {
        child->msg = f->msg;
        child->mapof = f->type == CN_T_MAP;
    }
    return f;
}

static bool is_merge_list(const cn_field *f)
{
    return f && (f->strategy == CN_PS_MERGE || f->strategy == CN_PS_MERGE_RETAIN);
}

/* ---- keys: a string per value, so lists can be indexed with a hash map ---- */

/* Identity of v for set/merge-key comparison. Strings map to themselves so
 * the common case allocates nothing else; other values to their canonical
 * JSON (1 and 1.0 therefore differ, as in Go's interface{} comparison). */
static char *value_key(const json_t *v, size_t *len)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        char *s = cn_malloc(n + 2);
        s[0] = 's';
        memcpy(s + 1, json_string_value(v), n);
        s[n + 1] = '\0';
        *len = n + 1;
        return s;
    }
    char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    if (!dump) dump = cn_strdup("?");
    size_t n = strlen(dump);
    char *s = cn_malloc(n + 2);
    s[0] = 'j';
    memcpy(s + 1, dump, n + 1);
    free(dump);
    *len = n + 1;
    return s;
}

/* The identity of a list item: its merge key's value for object lists
 * (NULL if the item has none), the value itself for primitive lists. */
static char *item_key(const json_t *item, const char *mkey, size_t *len)
{
    if (mkey) {
        const json_t *k = json_is_object(item) ? json_object_get(item, mkey) : NULL;
        return k ? value_key(k, len) : NULL;
    }
    return value_key(item, len);
}

/* Index of list: key -> first position, as a jansson object of integers. */
static json_t *index_list(const json_t *list, const char *mkey)
{
    json_t *idx = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        size_t len;
        char *k = item_key(v, mkey, &len);
        if (!k) continue;
        if (!json_object_getn(idx, k, len))
            json_object_setn_new_nocheck(idx, k, len, json_integer((json_int_t)i));
        free(k);
    }
    return idx;
}

static long lookup(const json_t *idx, const json_t *item, const char *mkey)
{
    if (!idx) return -1;
    size_t len;
    char *k = item_key(item, mkey, &len);
    if (!k) return -1;
    json_t *v = json_object_getn(idx, k, len);
    free(k);
    return v ? (long)json_integer_value(v) : -1;
}

/* ---- ordering ---- */

typedef struct ord_item {
    json_t *v;
    long rank;  /* sort key: position in the reference list (-1: none) */
    long live;  /* position in the live list (-1: not there) */
    size_t pos; /* position in the merged list, for stability */
} ord_item;

static int ord_cmp(const void *a, const void *b)
{
    const ord_item *x = a, *y = b;
    /* unranked items after ranked ones, each group stable */
    long rx = x->rank < 0 ? LONG_MAX : x->rank, ry = y->rank < 0 ? LONG_MAX : y->rank;
    if (rx != ry) return rx < ry ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Reorder merged: items found in ref (the patch list or $setElementOrder)
 * take ref's order; the others keep their live order; then the two runs are
 * interleaved by live position where both items have one. Returns a new
 * array holding new references to merged's items. */
static json_t *order_list(const json_t *merged, const json_t *ref, const json_t *live, const char *mkey)
{
    size_t n = json_array_size(merged);
    json_t *res = json_array();
    if (n == 0) return res;
    json_t *ref_idx = index_list(ref, mkey);
    json_t *live_idx = json_is_array(live) ? index_list(live, mkey) : NULL;
    ord_item *pi = cn_calloc(n, sizeof *pi), *si = cn_calloc(n, sizeof *si);
    size_t np = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(merged, i);
        long r = lookup(ref_idx, v, mkey);
        long l = lookup(live_idx, v, mkey);
        if (r >= 0) pi[np++] = (ord_item){ v, r, l, i };
        else si[ns++] = (ord_item){ v, l, l, i };
    }
    qsort(pi, np, sizeof *pi, ord_cmp);
    qsort(si, ns, sizeof *si, ord_cmp);
    size_t a = 0, b = 0;
    while (a < ns || b < np) {
        bool take_server;
        if (a >= ns) take_server = false;
        else if (b >= np) take_server = true;
        else take_server = si[a].live >= 0 && pi[b].live >= 0 && si[a].live < pi[b].live;
        json_array_append(res, take_server ? si[a++].v : pi[b++].v);
    }
    free(pi);
    free(si);
    json_decref(ref_idx);
    json_decref(live_idx);
    return res;
}

/* ---- lists ---- */

static const char *patch_directive(const json_t *item)
{
    const json_t *d = json_is_object(item) ? json_object_get(item, DIR_PATCH) : NULL;
    return d ? (json_is_string(d) ? json_string_value(d) : "") : NULL;
}

/* A list with merge strategy whose items are primitives: an ordered set. */
static int merge_prim_list(const json_t *orig, const json_t *patch, const cn_field *f, int depth,
                           json_t **out, cn_err *err)
{
    bool replace = false;
    json_t *items = json_array(); /* patch items without directives */
    size_t i;
    json_t *v;
    json_array_foreach(patch, i, v) {
        const char *d = patch_directive(v);
        if (d && strcmp(d, "replace") == 0) {
            replace = true;
        } else if (json_is_object(v) || json_is_array(v)) {
            /* Objects or lists in a list without a merge key cannot be
             * merged; treat the list as replaced rather than guess. */
            json_decref(items);
            return smp_clean_list(patch, (smp_type){ f->msg, false }, depth, out, err);
        } else {
            json_array_append(items, v);
        }
    }
    json_t *merged = json_array();
    json_t *seen = json_object();
    for (int pass = 0; pass < 2; pass++) {
        const json_t *src = pass == 0 ? (replace ? NULL : orig) : items;
        json_array_foreach(src, i, v) {
            size_t len;
            char *k = value_key(v, &len);
            if (!json_object_getn(seen, k, len)) {
                json_object_setn_new_nocheck(seen, k, len, json_true());
                json_array_append_new(merged, json_deep_copy(v));
            }
            free(k);
        }
    }
    json_decref(seen);
    *out = replace ? json_incref(merged) : order_list(merged, items, orig, NULL);
    json_decref(merged);
    json_decref(items);
    return 0;
}

/* A list of objects merged by merge key. */
static int merge_map_list(const json_t *orig, const json_t *patch, const cn_field *f, smp_type item,
                          int depth, json_t **out, cn_err *err)
{
    const char *mkey = f->merge_key;
    json_t *work = json_is_array(orig) ? json_deep_copy(orig) : json_array();
    json_t *items = json_array();
    bool replace = false;
    int r = 0;
    size_t i;
    json_t *v;

    json_array_foreach(patch, i, v) {
        if (!json_is_object(v)) {
            r = cn_err_bad_request(err, "strategic merge patch: list \"%s\" merges by \"%s\" but item %zu is not an object",
                                   f->name, mkey, i);
            goto fail;
        }
        const char *d = patch_directive(v);
        if (!d) {
            if (!json_object_get(v, mkey)) {
                r = cn_err_bad_request(err, "strategic merge patch: item %zu of list \"%s\" has no merge key \"%s\"",
                                       i, f->name, mkey);
                goto fail;
            }
            json_array_append(items, v);
        } else if (strcmp(d, "delete") == 0) {
            const json_t *kv = json_object_get(v, mkey);
            if (!kv) {
                r = cn_err_bad_request(err, "strategic merge patch: $patch delete in list \"%s\" has no merge key \"%s\"",
                                       f->name, mkey);
                goto fail;
            }
            for (size_t j = json_array_size(work); j-- > 0;) {
                const json_t *w = json_array_get(work, j);
                if (json_is_object(w) && cn_json_equal(json_object_get(w, mkey), kv))
                    json_array_remove(work, j);
            }
        } else if (strcmp(d, "replace") == 0) {
            replace = true;
        } else {
            r = cn_err_bad_request(err, "strategic merge patch: unsupported $patch \"%s\" in list \"%s\"", d,
                                   f->name);
            goto fail;
        }
    }

    if (replace) {
        r = smp_clean_list(items, item, depth, out, err);
        goto done;
    }

    /* Merge each patch item into the live item with the same key. */
    json_t *work_idx = index_list(work, mkey);
    json_array_foreach(items, i, v) {
        long at = lookup(work_idx, v, mkey);
        json_t *m = NULL;
        r = smp_map(at >= 0 ? json_array_get(work, (size_t)at) : NULL, v, item, depth + 1, &m, err);
        if (r < 0) {
            json_decref(work_idx);
            goto fail;
        }
        if (!m) m = json_object(); /* cannot happen: items carry no $patch */
        if (at >= 0) {
            json_array_set_new(work, (size_t)at, m);
        } else {
            size_t len;
            char *k = item_key(v, mkey, &len);
            json_object_setn_new_nocheck(work_idx, k, len, json_integer((json_int_t)json_array_size(work)));
            free(k);
            json_array_append_new(work, m);
        }
    }
    json_decref(work_idx);
    *out = order_list(work, items, orig, mkey);
    goto done;

fail:
    *out = NULL;
done:
    json_decref(work);
    json_decref(items);
    return r;
}

/* A list that is replaced: copy it, applying directives inside its items
 * and dropping directive-only items, so none survives. */
static int smp_clean_list(const json_t *patch, smp_type item, int depth, json_t **out, cn_err *err)
{
    if (depth > SMP_MAX_DEPTH)
        return cn_err_bad_request(err, "strategic merge patch nests deeper than %d levels", SMP_MAX_DEPTH);
    json_t *res = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(patch, i, v) {
        json_t *c = NULL;
        int r = 0;
        if (json_is_object(v)) {
            const char *d = patch_directive(v);
            if (d && strcmp(d, "replace") == 0 && json_object_size(v) == 1) continue;
            r = smp_map(NULL, v, item, depth + 1, &c, err);
        } else if (json_is_array(v)) {
            r = smp_clean_list(v, (smp_type){ NULL, false }, depth + 1, &c, err);
        } else {
            c = json_deep_copy(v);
        }
        if (r < 0) {
            json_decref(res);
            return r;
        }
        if (c) json_array_append_new(res, c);
    }
    *out = res;
    return 0;
}

/* ---- maps ---- */

static bool has_prefix_n(const char *key, size_t klen, const char *prefix)
{
    size_t n = strlen(prefix);
    return klen >= n && memcmp(key, prefix, n) == 0;
}

static bool in_key_set(const json_t *set, const char *key, size_t klen)
{
    json_t *k = json_stringn_nocheck(key, klen);
    bool found = lookup(set, k, NULL) >= 0;
    json_decref(k);
    return found;
}

/* $retainKeys must list strings, and every key the patch sets. Returns
 * the set as an index (caller decrefs). */
static int retain_keys_set(const json_t *patch, const json_t *keys, json_t **set, cn_err *err)
{
    *set = NULL;
    if (!json_is_array(keys))
        return cn_err_bad_request(err, "strategic merge patch: $retainKeys must be a list of strings");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        if (!json_is_string(k))
            return cn_err_bad_request(err, "strategic merge patch: $retainKeys must be a list of strings");
    json_t *idx = index_list(keys, NULL);
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)patch, key, klen, v) {
        if (json_is_null(v) || key[0] == '$') continue;
        if (!in_key_set(idx, key, klen)) {
            json_decref(idx);
            return cn_err_bad_request(err, "strategic merge patch: key \"%s\" is not listed in $retainKeys", key);
        }
    }
    *set = idx;
    return 0;
}

static void apply_retain_keys(json_t *base, const json_t *set)
{
    const char *key;
    size_t klen;
    json_t *v, *tmp;
    json_object_keylen_foreach_safe(base, tmp, key, klen, v)
        if (!in_key_set(set, key, klen)) json_object_deln(base, key, klen);
}

/* Merge one non-directive key of patch into base. */
static int merge_key(json_t *base, const char *key, size_t klen, const json_t *pv, smp_type t, int depth,
                     cn_err *err)
{
    if (json_is_null(pv)) {
        json_object_deln(base, key, klen);
        return 0;
    }
    smp_type child;
    const cn_field *f = child_of(t, key, &child);
    const json_t *ov = json_object_getn(base, key, klen);
    json_t *nv = NULL;
    int r = 0;
    if (json_is_object(pv)) {
        r = smp_map(json_is_object(ov) ? ov : NULL, pv, child, depth + 1, &nv, err);
    } else if (json_is_array(pv)) {
        smp_type item = { child.msg, false };
        if (!is_merge_list(f))
            r = smp_clean_list(pv, item, depth + 1, &nv, err);
        else if (f->merge_key)
            r = merge_map_list(json_is_array(ov) ? ov : NULL, pv, f, item, depth + 1, &nv, err);
        else
            r = merge_prim_list(json_is_array(ov) ? ov : NULL, pv, f, depth + 1, &nv, err);
    } else {
        nv = json_deep_copy(pv);
    }
    if (r < 0) return r;
    if (nv) json_object_setn_new_nocheck(base, key, klen, nv);
    else json_object_deln(base, key, klen);
    return 0;
}

static int delete_from_prim_list(json_t *base, const char *list, const json_t *values, cn_err *err)
{
    if (!json_is_array(values))
        return cn_err_bad_request(err, "strategic merge patch: %s%s must be a list", DIR_DELETE_PRIM, list);
    json_t *cur = json_object_get(base, list);
    if (!json_is_array(cur)) return 0;
    json_t *del = index_list(values, NULL);
    json_t *res = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(cur, i, v)
        if (lookup(del, v, NULL) < 0) json_array_append(res, v);
    json_decref(del);
    json_object_set_new(base, list, res);
    return 0;
}

static int set_element_order(json_t *base, const json_t *orig, const char *list, const json_t *order,
                             smp_type t, cn_err *err)
{
    if (!json_is_array(order))
        return cn_err_bad_request(err, "strategic merge patch: %s%s must be a list", DIR_ORDER, list);
    smp_type child;
    const cn_field *f = child_of(t, list, &child);
    json_t *cur = json_object_get(base, list);
    /* Order only means something for merged lists; a replaced list already
     * has the order the client sent. */
    if (!is_merge_list(f) || !json_is_array(cur)) return 0;
    const char *mkey = f->merge_key;
    if (mkey) {
        size_t i;
        json_t *v;
        json_array_foreach(order, i, v)
            if (!json_is_object(v) || !json_object_get(v, mkey))
                return cn_err_bad_request(err, "strategic merge patch: %s%s item %zu has no merge key \"%s\"",
                                          DIR_ORDER, list, i, mkey);
    }
    const json_t *live = json_is_object(orig) ? json_object_get(orig, list) : NULL;
    json_object_set_new(base, list, order_list(cur, order, live, mkey));
    return 0;
}

/* Merge patch (an object) into orig (an object or NULL). *out is the new
 * object, or NULL when the patch deletes it ($patch: delete). */
static int smp_map(const json_t *orig, const json_t *patch, smp_type t, int depth, json_t **out,
                   cn_err *err)
{
    *out = NULL;
    if (depth > SMP_MAX_DEPTH)
        return cn_err_bad_request(err, "strategic merge patch nests deeper than %d levels", SMP_MAX_DEPTH);
    bool replace = false;
    const json_t *d = json_object_get(patch, DIR_PATCH);
    if (d) {
        const char *s = json_is_string(d) ? json_string_value(d) : "";
        if (strcmp(s, "delete") == 0) return 0;
        if (strcmp(s, "replace") == 0) replace = true;
        else if (strcmp(s, "merge") != 0)
            return cn_err_bad_request(err, "strategic merge patch: unknown $patch directive \"%s\"", s);
    }
    const json_t *retain = json_object_get(patch, DIR_RETAIN);
    json_t *retain_set = NULL;
    if (retain) {
        int r = retain_keys_set(patch, retain, &retain_set, err);
        if (r < 0) return r;
    }
    if (replace) orig = NULL;
    json_t *base = json_is_object(orig) ? json_deep_copy(orig) : json_object();
    if (retain_set) {
        apply_retain_keys(base, retain_set);
        json_decref(retain_set);
    }

    int r = 0;
    const char *key;
    size_t klen;
    json_t *pv;
    json_object_keylen_foreach((json_t *)patch, key, klen, pv) {
        if (strcmp(key, DIR_PATCH) == 0 || strcmp(key, DIR_RETAIN) == 0 ||
            has_prefix_n(key, klen, DIR_ORDER) || has_prefix_n(key, klen, DIR_DELETE_PRIM))
            continue;
        r = merge_key(base, key, klen, pv, t, depth, err);
        if (r < 0) goto fail;
    }
    /* Deletions, then ordering: removing items keeps relative order, so the
     * result is the same as upstream's order-then-delete. */
    json_object_keylen_foreach((json_t *)patch, key, klen, pv) {
        if (has_prefix_n(key, klen, DIR_DELETE_PRIM)) {
            r = delete_from_prim_list(base, key + strlen(DIR_DELETE_PRIM), pv, err);
            if (r < 0) goto fail;
        }
    }
    json_object_keylen_foreach((json_t *)patch, key, klen, pv) {
        if (has_prefix_n(key, klen, DIR_ORDER)) {
            r = set_element_order(base, orig, key + strlen(DIR_ORDER), pv, t, err);
            if (r < 0) goto fail;
        }
    }
    *out = base;
    return 0;
fail:
    json_decref(base);
    return r;
}

int cn_patch_strategic(const json_t *doc, const json_t *patch, const cn_message *schema,
                       json_t **out, cn_err *err)
{
    if (!out) return -EINVAL;
    if (!json_is_object(patch))
        return cn_err_bad_request(err, "strategic merge patch: the patch must be a JSON object");
    json_t *res = NULL;
    int r = smp_map(json_is_object(doc) ? doc : NULL, patch, (smp_type){ schema, false }, 0, &res, err);
    if (r < 0) return r;
    /* "$patch: delete" on the whole object leaves nothing to store. */
    *out = res ? res : json_object();
    return 0;
}
