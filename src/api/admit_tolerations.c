/* admit_tolerations: upstream's DefaultTolerationSeconds admission plugin.
 * A new pod that does not already tolerate the node.kubernetes.io/not-ready
 * or .../unreachable NoExecute taints gets a toleration for each, limited to
 * a number of seconds (300 by default), so that when its node dies the node
 * lifecycle controller's taint evicts it after that time instead of never
 * (no toleration at all would mean: evicted at once). */
#include "api/admission.h"

#include <stdint.h>
#include <string.h>

#define NOT_READY "node.kubernetes.io/not-ready"
#define UNREACHABLE "node.kubernetes.io/unreachable"

/* True if tolerations already cover NoExecute taints with this key (an
 * empty key with Exists tolerates every key; an empty effect every effect). */
static bool covered(const json_t *tolerations, const char *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(tolerations, i, t) {
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *e = json_string_value(json_object_get(t, "effect"));
        if ((!k || !*k || !strcmp(k, key)) && (!e || !*e || !strcmp(e, "NoExecute"))) return true;
    }
    return false;
}

static int admit(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    (void)err;
    if (a->op != CN_ADMIT_CREATE || a->sub || a->res->group[0] || strcmp(a->res->plural, "pods"))
        return 0;
    uintptr_t v = (uintptr_t)ud;
    json_int_t secs[2] = { (json_int_t)(v >> 32), (json_int_t)(v & 0xffffffffu) };
    const char *keys[2] = { NOT_READY, UNREACHABLE };
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return 0;
    json_t *tol = json_object_get(spec, "tolerations");
    if (tol && !json_is_array(tol)) return 0;     /* validation reports it */
    for (int i = 0; i < 2; i++) {
        if (covered(tol, keys[i])) continue;
        if (!tol) {
            tol = json_array();
            json_object_set_new(spec, "tolerations", tol);
        }
        json_array_append_new(tol, json_pack("{s:s,s:s,s:s,s:I}", "key", keys[i], "operator", "Exists",
                                             "effect", "NoExecute", "tolerationSeconds", secs[i]));
    }
    return 0;
}

void cn_admit_default_tolerations(cn_admission *ch, int64_t not_ready_s, int64_t unreachable_s)
{
    /* Both values ride in the plugin's pointer: nothing to allocate or free. */
    if (not_ready_s < 0 || not_ready_s > 0x7fffffff) not_ready_s = 300;
    if (unreachable_s < 0 || unreachable_s > 0x7fffffff) unreachable_s = 300;
    uintptr_t v = ((uintptr_t)not_ready_s << 32) | (uintptr_t)unreachable_s;
    cn_admission_add(ch, true, "DefaultTolerationSeconds", admit, (void *)v);
}
