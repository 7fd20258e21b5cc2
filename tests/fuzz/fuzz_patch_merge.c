/* fuzz_patch_merge: RFC 7386 merge patch on arbitrary documents and patches.
 * Input: "<doc>\n---\n<patch>"; without the separator the first byte
 * chooses where the rest is split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);



int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const char *a, *b;
    size_t alen, blen;
    fuzz_split(data, size, &a, &alen, &b, &blen);
    json_t *doc = json_loadb(a, alen, JSON_DECODE_ANY, NULL);
    json_t *patch = json_loadb(b, blen, JSON_DECODE_ANY, NULL);
    if (doc && patch) {
        json_t *out = NULL;
        cn_err err = CN_ERR_INIT;
        int r = cn_patch_merge(doc, patch, &out, &err);
        if ((r < 0) != (out == NULL)) abort();
        if (r < 0 && err.code != 400 && err.code != 422) abort();
        json_decref(out);
        cn_err_clear(&err);
    }
    json_decref(doc);
    json_decref(patch);
    return 0;
}
