/* fuzz_split: how the two-input fuzz targets (document + patch) cut one
 * fuzzer input in two: "<a>\n---\n<b>", or without the separator the first
 * byte chooses where the rest is split. */
#ifndef CN_FUZZ_SPLIT_H
#define CN_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_MAX_INPUT 65536

static inline void fuzz_split(const uint8_t *data, size_t size, const char **a, size_t *alen,
                              const char **b, size_t *blen)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 5 <= size && !sep; i++)
        if (memcmp(data + i, "\n---\n", 5) == 0) sep = (const char *)data + i;
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

#endif
