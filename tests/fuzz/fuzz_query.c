/* fuzz_query: a query string "a=b&c=d" (no URL decoding) through
 * cn_query_parse, then any continue token through the decoder and back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/query.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 16384
#define MAX_PARAMS 64

typedef struct params {
    const char *name[MAX_PARAMS];
    const char *value[MAX_PARAMS];
    size_t n;
} params;

static const char *get(void *ud, const char *name)
{
    const params *p = ud;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->name[i], name)) return p->value[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    params p = { .n = 0 };
    for (char *tok = text; tok && p.n < MAX_PARAMS;) {
        char *amp = strchr(tok, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(tok, '=');
        p.name[p.n] = tok;
        p.value[p.n] = "";
        if (eq) {
            *eq = '\0';
            p.value[p.n] = eq + 1;
        }
        p.n++;
        tok = amp ? amp + 1 : NULL;
    }
    cn_query q;
    cn_err e = CN_ERR_INIT;
    if (cn_query_parse(get, &p, &q, &e) == 0) {
        if (q.limit < 0 || q.timeout_seconds < 0 || q.tail_lines < -1) abort();
        if (q.continue_token) {
            int64_t rv;
            char *key = NULL;
            if (cn_continue_decode(q.continue_token, &rv, &key, &e) == 0) {
                char *tok = cn_continue_encode(rv, key);
                int64_t rv2;
                char *key2 = NULL;
                if (!tok || cn_continue_decode(tok, &rv2, &key2, &e) < 0) abort();
                if (rv2 != rv || strcmp(key, key2) != 0) abort();
                free(key2);
                free(tok);
                free(key);
            } else if (e.code != 400 || key) {
                abort();
            }
        }
    } else if (e.code != 400) {
        abort();
    }
    cn_err_clear(&e);
    free(text);
    return 0;
}
