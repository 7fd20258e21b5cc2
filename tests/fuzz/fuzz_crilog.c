/* fuzz_crilog: CRI log lines through the parser. A parsed entry's slices
 * lie inside the line, its stream is stdout or stderr and its timestamp
 * parses again on its own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/crilog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    /* An exact-size copy: ASan catches any read past the line. */
    char *line = malloc(size ? size : 1);
    if (!line) return 0;
    memcpy(line, data, size);
    cn_crilog_entry e;
    if (cn_crilog_parse(line, size, &e) == 0) {
        if (e.ts != line || e.ts_len > size) abort();
        if (e.msg < line || e.msg + e.len != line + size) abort();
        int64_t ns;
        if (cn_crilog_parse_time(e.ts, e.ts_len, &ns) != 0 || ns != e.ts_ns) abort();
    }
    free(line);
    return 0;
}
