/* fuzz_cron: CronJob schedules through parse and a few next-activation
 * walks. A parse either succeeds or fails with 400; a walk only moves
 * forward, lands on whole minutes (or @every steps) and ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/cron.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    cn_cron *c = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_cron_parse(text, &c, &e) == 0) {
        static const int64_t starts[] = { 0, 951782400 /* 2000-02-29 */, 1735689599, -86400 };
        for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
            int64_t t = starts[i];
            for (int k = 0; k < 8; k++) {
                int64_t n = cn_cron_next(c, t, (int64_t)(i * 3600) - 7200);
                if (n == -1) break;
                if (n <= t) abort();
                t = n;
            }
        }
        cn_cron_free(c);
    } else if (e.code != 400) {
        abort();
    }
    cn_err_clear(&e);
    free(text);
    return 0;
}
