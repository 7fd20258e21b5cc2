/* fuzz_yaml: arbitrary bytes through the multi-document YAML converter and
 * the single-document one; whatever converts must dump as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    json_t *out = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_yaml_parse_all((const char *)data, size, &out, &e) == 0) {
        if (!json_is_array(out)) abort();
        char *s = json_dumps(out, JSON_COMPACT);
        if (!s) abort();
        free(s);
        json_decref(out);
    } else if (e.code != 400 || out) {
        abort();
    }
    cn_err_clear(&e);
    out = NULL;
    if (cn_yaml_parse((const char *)data, size, &out, &e) == 0) {
        if (!out) abort();
        json_decref(out);
    } else if (e.code != 400 || out) {
        abort();
    }
    cn_err_clear(&e);
    return 0;
}
