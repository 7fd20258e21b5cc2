/* patch: RFC 7386 JSON merge patch and deep JSON equality. The other two
 * patch types live in patch_json.c (RFC 6902) and patch_strategic.c.
 *
 * Merge patch is what `kubectl label`, `annotate` and `patch --type merge`
 * send, and what client-side apply sends for custom resources. */
#include "api/patch.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

/* Deeper than any Kubernetes object; bounds recursion on hostile input. */
#define MERGE_MAX_DEPTH 100
/* cn_json_equal gives up (answers "not equal") past this depth. */
#define EQUAL_MAX_DEPTH 4096

static int equal_rec(const json_t *a, const json_t *b, int depth)
{
    if (a == b) return 1;
    if (!a || !b || depth > EQUAL_MAX_DEPTH) return 0;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        /* 1 and 1.0 are the same quantity; compare as doubles. */
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b)) return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return 0;
        const char *key;
        size_t klen;
        json_t *va;
        json_object_keylen_foreach((json_t *)a, key, klen, va) {
            json_t *vb = json_object_getn(b, key, klen);
            if (!vb || !equal_rec(va, vb, depth + 1)) return 0;
        }
        return 1;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b)) return 0;
        for (size_t i = 0; i < n; i++)
            if (!equal_rec(json_array_get(a, i), json_array_get(b, i), depth + 1)) return 0;
        return 1;
    }
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default:
        return 1; /* true, false, null: same type is same value */
    }
}

int cn_json_equal(const json_t *a, const json_t *b)
{
    return equal_rec(a, b, 0);
}

/* RFC 7386 MergePatch(target, patch) as a fresh value. target may be NULL
 * (absent). Never returns NULL on success. */
static int merge_rec(const json_t *target, const json_t *patch, int depth, json_t **out,
                     cn_err *err)
{
    if (depth > MERGE_MAX_DEPTH)
        return cn_err_bad_request(err, "merge patch nests deeper than %d levels", MERGE_MAX_DEPTH);
    if (!json_is_object(patch)) {
        *out = json_deep_copy(patch);
        return 0;
    }
    json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *key;
    size_t klen;
    json_t *pv;
    json_object_keylen_foreach((json_t *)patch, key, klen, pv) {
        if (json_is_null(pv)) {
            json_object_deln(res, key, klen);
            continue;
        }
        json_t *v = NULL;
        int r = merge_rec(json_object_getn(res, key, klen), pv, depth + 1, &v, err);
        if (r < 0) {
            json_decref(res);
            return r;
        }
        json_object_setn_new_nocheck(res, key, klen, v);
    }
    *out = res;
    return 0;
}

int cn_patch_merge(const json_t *doc, const json_t *patch, json_t **out, cn_err *err)
{
    if (!patch || !out) return cn_err_bad_request(err, "merge patch: no patch body");
    json_t *res = NULL;
    int r = merge_rec(doc, patch, 0, &res, err);
    if (r < 0) return r;
    *out = res;
    return 0;
}
