/* base64: see base64.h. */
#include "lib/base64.h"

#include <errno.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int cn_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

void cn_base64_encode(cn_buf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len) v |= p[i + 2];
        char q[4] = { alphabet[v >> 18], alphabet[(v >> 12) & 63],
                      i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
                      i + 2 < len ? alphabet[v & 63] : '=' };
        cn_buf_add(out, q, 4);
    }
}

int cn_base64_decode(const char *in, size_t in_len, size_t max, char **out, size_t *out_len)
{
    while (in_len > 0 && in[in_len - 1] == '=') in_len--;
    if (in_len % 4 == 1) return -EINVAL;
    size_t n = in_len / 4 * 3 + (in_len % 4 ? in_len % 4 - 1 : 0);
    if (n > max) return -EFBIG;
    char *buf = cn_malloc(n + 1);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in_len; i++) {
        int v = cn_base64_value((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return -EINVAL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}
