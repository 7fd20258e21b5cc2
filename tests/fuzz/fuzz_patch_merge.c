/* fuzz_patch_merge: RFC 7386 merge patch on arbitrary documents and patches.
 * Input: "<doc>\n---\n<patch>"; without the separator the first byte
 * chooses where the rest is split. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

static void split(const uint8_t *data, size_t size, const char **a, size_t *alen, const char **b,
                  size_t *blen)
{
    const char *sep = memmem(data, size, "\n---\n", 5);
    if (sep) {
        *a = (const char *)data;
        *alen = (size_t)(sep - (const char *)data);
        *b = sep + 5;
        *blen = size - *alen - 5;
        return;
    }
    size_t rest = size - 1, cut = rest * data[0] / 255;
    *a = (const char *)data + 1;
    *alen = cut;
    *b = (const char *)data + 1 + cut;
    *blen = rest - cut;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const char *a, *b;
    size_t alen, blen;
    split(data, size, &a, &alen, &b, &blen);
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
