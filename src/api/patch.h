/* patch: the three Kubernetes patch types, as pure functions on jansson
 * values. None modifies its inputs; each returns a new reference in *out.
 * Errors are 400 BadRequest (malformed patch) or 422 Invalid (a JSON patch
 * "test" that fails, a path that does not exist) in err, return -EINVAL.
 * Depth and size are bounded so hostile patches cannot exhaust the stack. */
#ifndef CN_PATCH_H
#define CN_PATCH_H

#include <jansson.h>
#include "lib/err.h"
#include "api/schema.h"

/* RFC 6902 JSON patch (application/json-patch+json): patch is an array. */
int cn_patch_json(const json_t *doc, const json_t *patch, json_t **out, cn_err *err);

/* RFC 7386 JSON merge patch (application/merge-patch+json). */
int cn_patch_merge(const json_t *doc, const json_t *patch, json_t **out, cn_err *err);

/* Strategic merge patch (application/strategic-merge-patch+json) for a
 * built-in kind whose schema is `schema` (merge keys and strategies come
 * from it; NULL behaves like a merge patch with directives honoured).
 * Supports $patch (merge/replace/delete), $setElementOrder/<list>,
 * $deleteFromPrimitiveList/<list> and $retainKeys. */
int cn_patch_strategic(const json_t *doc, const json_t *patch, const cn_message *schema,
                       json_t **out, cn_err *err);

/* Deep equality that treats objects as unordered maps (jansson's json_equal
 * does too; this also treats 1 and 1.0 as equal). */
int cn_json_equal(const json_t *a, const json_t *b);

#endif
