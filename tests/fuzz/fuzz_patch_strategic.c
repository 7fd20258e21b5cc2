/* fuzz_patch_strategic: strategic merge patch on arbitrary documents and
 * patches, with a small PodSpec-like schema (merge lists by key, a set of
 * primitives, a map of messages) and with no schema. Input as for
 * fuzz_patch_json. Besides not crashing or leaking, a directive key must
 * never appear in the output unless the document already had one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const cn_field env_f[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "value", 2, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message env_m = { "EnvVar", env_f, 2 };
static const cn_field port_f[] = {
    { "containerPort", 3, CN_T_INT32, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message port_m = { "ContainerPort", port_f, 1 };
static const cn_field ctr_f[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "args", 4, CN_T_STRING, true, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "ports", 6, CN_T_MESSAGE, true, 0, &port_m, CN_PS_MERGE, "containerPort", false, false, false },
    { "env", 7, CN_T_MESSAGE, true, 0, &env_m, CN_PS_MERGE, "name", false, false, false },
};
static const cn_message ctr_m = { "Container", ctr_f, 4 };
static const cn_field spec_f[] = {
    { "containers", 2, CN_T_MESSAGE, true, 0, &ctr_m, CN_PS_MERGE, "name", false, false, false },
    { "volumes", 1, CN_T_MESSAGE, true, 0, &env_m, CN_PS_MERGE_RETAIN, "name", false, false, false },
    { "finalizers", 14, CN_T_STRING, true, 0, NULL, CN_PS_MERGE, NULL, false, false, false },
    { "byName", 99, CN_T_MAP, false, CN_T_MESSAGE, &ctr_m, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message spec_m = { "Spec", spec_f, 4 };
static const cn_field top_f[] = {
    { "spec", 2, CN_T_MESSAGE, false, 0, &spec_m, CN_PS_REPLACE, NULL, false, false, false },
    { "containers", 3, CN_T_MESSAGE, true, 0, &ctr_m, CN_PS_MERGE, "name", false, false, false },
    { "finalizers", 14, CN_T_STRING, true, 0, NULL, CN_PS_MERGE, NULL, false, false, false },
};
static const cn_message top_m = { "Top", top_f, 3 };


static int has_directive(const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            if (strcmp(k, "$patch") == 0 || strcmp(k, "$retainKeys") == 0 ||
                strncmp(k, "$setElementOrder/", 17) == 0 || strncmp(k, "$deleteFromPrimitiveList/", 25) == 0)
                return 1;
            if (has_directive(c)) return 1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            if (has_directive(c)) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const char *a, *b;
    size_t alen, blen;
    fuzz_split(data, size, &a, &alen, &b, &blen);
    json_t *doc = json_loadb(a, alen, JSON_DECODE_ANY, NULL);
    json_t *patch = json_loadb(b, blen, JSON_DECODE_ANY, NULL);
    if (doc && patch) {
        int doc_has = has_directive(doc);
        for (int i = 0; i < 2; i++) {
            json_t *out = NULL;
            cn_err err = CN_ERR_INIT;
            int r = cn_patch_strategic(doc, patch, i ? &top_m : NULL, &out, &err);
            if ((r < 0) != (out == NULL)) abort();
            if (r < 0 && err.code != 400) abort();
            if (r >= 0 && !doc_has && has_directive(out)) abort();
            json_decref(out);
            cn_err_clear(&err);
        }
    }
    json_decref(doc);
    json_decref(patch);
    return 0;
}
