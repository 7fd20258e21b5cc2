/* fuzz_field_selector: field selector text through parse and matching
 * against a fixed pod-like object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allowed[] = { "spec.nodeName", "status.phase", "spec.unschedulable",
                                           "involvedObject.kind", "source", "type", NULL };
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    cn_fieldsel *s = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_fieldsel_parse(text, allowed, &s, &e) == 0) {
        json_t *obj = json_pack("{s:{s:s,s:s},s:{s:s,s:b},s:{s:s},s:i}", "metadata", "name", "p1",
                                "namespace", "ns", "spec", "nodeName", "n1", "unschedulable", 1,
                                "status", "phase", "Running", "type", 5);
        (void)cn_fieldsel_matches(s, obj);
        (void)cn_fieldsel_matches(s, NULL);
        const char *n = cn_fieldsel_exact(s, "metadata.name");
        if (n) (void)strlen(n);
        json_decref(obj);
        cn_fieldsel_free(s);
    } else if (e.code != 400 || s) {
        abort();
    }
    cn_err_clear(&e);
    free(text);
    return 0;
}
