/* fuzz_websocket: arbitrary bytes as a client's stream into cn_ws_parse,
 * frame after frame, as a server reads them; the first byte picks
 * max_payload so both the size refusal and big frames are reached. Also
 * feeds a prefix to the accept-key and protocol helpers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t max = (size_t)data[0] * 64;
    uint8_t *buf = malloc(size);
    if (!buf) abort();
    memcpy(buf, data + 1, size - 1);
    size_t len = size - 1, off = 0;
    for (;;) {
        cn_ws_frame f;
        ssize_t n = cn_ws_parse(buf + off, len - off, max, &f);
        if (n <= 0) break;
        if ((size_t)n > len - off || f.len > max) abort();
        if (f.payload < buf + off || f.payload + f.len > buf + off + (size_t)n) abort();
        off += (size_t)n;
    }

    char key[40] = { 0 }, out[29];
    memcpy(key, data + 1, size - 1 < 39 ? size - 1 : 39);
    if (cn_ws_accept_key(key, out) == 0 && strlen(out) != 28) abort();
    static const char *const ours[] = { "v5.channel.k8s.io", "v4.channel.k8s.io" };
    const char *p = cn_ws_pick_protocol(key, ours, 2);
    if (p && p != ours[0] && p != ours[1]) abort();
    free(buf);
    return 0;
}
