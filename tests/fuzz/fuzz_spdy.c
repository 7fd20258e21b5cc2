/* fuzz_spdy: arbitrary bytes as a client's stream into one server session,
 * frame after frame until an error or the end, so header blocks share the
 * session's zlib stream as they do on a real connection. Frames that parse
 * are answered the way a server would (SYN_REPLY echoing the headers), so
 * the deflate side runs too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spdy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cn_spdy *s = cn_spdy_new();
    if (!s) abort();
    size_t off = 0;
    for (;;) {
        cn_spdy_frame f;
        ssize_t n = cn_spdy_parse(s, data + off, size - off, 1 << 16, &f);
        if (n <= 0) break;
        if ((size_t)n > size - off) abort();
        if (f.type == CN_SPDY_SYN_STREAM) {
            for (size_t i = 0; i < f.nheaders; i++)
                if (!f.headers[i].name || !f.headers[i].value || !f.headers[i].name[0]) abort();
            (void)cn_spdy_header_get(&f, "streamtype");
            uint8_t *out = NULL;
            size_t outlen = 0;
            if (cn_spdy_syn_reply(s, f.stream_id, false, f.headers, f.nheaders, &out, &outlen) == 0)
                free(out);
        }
        if (f.type == CN_SPDY_DATA && f.data + f.len > data + size) abort();
        cn_spdy_frame_release(&f);
        off += (size_t)n;
    }
    cn_spdy_free(s);
    return 0;
}
