/* fuzz_jsonpath: compile arbitrary JSONPath expressions and evaluate them
 * on arbitrary JSON. Input: "<expr>\n<json>"; without a newline the whole
 * input is the expression, evaluated on a fixed document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

static const char fixed_doc[] =
    "{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"web\",\"a.b/c\":\"d\"}},"
    "\"spec\":{\"replicas\":3,\"items\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":2.5}]},"
    "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    const char *nl = memchr(data, '\n', size);
    size_t elen = nl ? (size_t)(nl - (const char *)data) : size;
    char *expr = malloc(elen + 1);
    if (!expr) return 0;
    memcpy(expr, data, elen);
    expr[elen] = '\0';
    json_t *doc = nl ? json_loadb(nl + 1, size - elen - 1, JSON_DECODE_ANY, NULL)
                     : json_loads(fixed_doc, 0, NULL);
    cn_jsonpath *p = NULL;
    if (cn_jsonpath_parse(expr, &p) == 0) {
        json_t *r = cn_jsonpath_eval(p, doc);
        (void)cn_jsonpath_first(p, doc);
        json_decref(r);
        cn_jsonpath_free(p);
    }
    json_decref(doc);
    free(expr);
    return 0;
}
