/* fuzz_label_selector: label selector text through parse, print, re-parse
 * and matching. The canonical form must parse again to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    cn_selector *s = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_selector_parse(text, &s, &e) == 0) {
        char *canon = cn_selector_string(s);
        cn_selector *s2 = NULL;
        /* "x in (,)" prints as "x in ()", the one form that does not
         * survive the trip (as upstream) */
        if (!strstr(canon, "()")) {
            if (cn_selector_parse(canon, &s2, &e) < 0) abort();
            char *canon2 = cn_selector_string(s2);
            if (strcmp(canon, canon2) != 0) abort();
            free(canon2);
            cn_selector_free(s2);
        }
        json_t *labels = json_pack("{s:s,s:s,s:s}", "app", "web", "n", "5", "x", "");
        (void)cn_selector_matches(s, labels);
        (void)cn_selector_matches(s, NULL);
        (void)cn_selector_empty(s);
        json_decref(labels);
        free(canon);
        cn_selector_free(s);
    } else if (e.code != 400) {
        abort();
    }
    cn_err_clear(&e);
    free(text);
    return 0;
}
