/* websocket: RFC 6455 framing, server side (see websocket.h). No I/O and
 * no allocation: the parser works in place on the caller's buffer, so the
 * only bound that matters is max_payload, checked as soon as the length is
 * known (before the payload has arrived). */
#include "lib/websocket.h"

#include <errno.h>
#include <string.h>
#include <openssl/sha.h>

#include "lib/base64.h"
#include "lib/util.h"

/* RFC 6455 §1.3: the GUID the server appends to the client's key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int cn_ws_accept_key(const char *key, char out[29])
{
    /* A key is 16 random bytes, base64: exactly 24 characters ending in "==". */
    if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=') return -EINVAL;
    for (size_t i = 0; i < 22; i++)
        if (cn_base64_value((unsigned char)key[i]) < 0) return -EINVAL;

    char cat[24 + sizeof ws_guid];
    memcpy(cat, key, 24);
    memcpy(cat + 24, ws_guid, sizeof ws_guid);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, 24 + sizeof ws_guid - 1, md);

    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, md, sizeof md);
    int ret = b.len == 28 ? 0 : -EINVAL;   /* 20 bytes always encode to 28 */
    if (ret == 0) memcpy(out, b.data, 29);
    cn_buf_release(&b);
    return ret;
}

/* Does the comma-separated list contain tok as a whole element (spaces and
 * tabs around elements ignored)? */
static bool list_has(const char *list, const char *tok)
{
    size_t tlen = strlen(tok);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *start = p;
        while (*p && *p != ',') p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if ((size_t)(end - start) == tlen && tlen > 0 && memcmp(start, tok, tlen) == 0) return true;
    }
    return false;
}

const char *cn_ws_pick_protocol(const char *offered, const char *const *ours, size_t nours)
{
    if (!offered) return NULL;
    for (size_t i = 0; i < nours; i++)
        if (ours[i] && list_has(offered, ours[i])) return ours[i];
    return NULL;
}

ssize_t cn_ws_parse(uint8_t *buf, size_t len, size_t max_payload, cn_ws_frame *f)
{
    if (len < 2) return 0;
    bool fin = buf[0] & 0x80;
    int opcode = buf[0] & 0x0f;
    if (buf[0] & 0x70) return -EPROTO;              /* RSV1-3: no extension negotiated */
    switch (opcode) {
    case CN_WS_CONT: case CN_WS_TEXT: case CN_WS_BINARY:
    case CN_WS_CLOSE: case CN_WS_PING: case CN_WS_PONG:
        break;
    default:
        return -EPROTO;
    }
    if (!(buf[1] & 0x80)) return -EPROTO;           /* §5.1: client frames are masked */
    bool control = opcode & 0x8;
    uint64_t plen = buf[1] & 0x7f;
    if (control && (!fin || plen > 125)) return -EPROTO;   /* §5.5 */

    size_t hdr = 2;
    if (plen == 126) {
        if (len < 4) return 0;
        plen = (uint64_t)buf[2] << 8 | buf[3];
        hdr = 4;
    } else if (plen == 127) {
        if (len < 10) return 0;
        plen = 0;
        for (int i = 0; i < 8; i++) plen = plen << 8 | buf[2 + i];
        if (plen >> 63) return -EPROTO;              /* §5.2: most significant bit is 0 */
        hdr = 10;
    }
    if (plen > max_payload) return -EMSGSIZE;
    if (control && opcode == CN_WS_CLOSE && plen == 1) return -EPROTO;  /* §5.5.1: code is 2 bytes */

    /* plen <= max_payload, which fits a size_t; hdr + 4 + plen cannot wrap
     * unless max_payload is absurd, and then len (a real buffer) is smaller. */
    if (plen > SIZE_MAX - hdr - 4) return -EMSGSIZE;
    size_t total = hdr + 4 + (size_t)plen;
    if (len < total) return 0;

    const uint8_t *mask = buf + hdr;
    uint8_t *payload = buf + hdr + 4;
    for (size_t i = 0; i < (size_t)plen; i++) payload[i] ^= mask[i & 3];

    f->fin = fin;
    f->opcode = opcode;
    f->payload = payload;
    f->len = (size_t)plen;
    return (ssize_t)total;
}

size_t cn_ws_header(uint8_t hdr[10], bool fin, int opcode, uint64_t len)
{
    hdr[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (len < 126) {
        hdr[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        return 4;
    }
    hdr[1] = 127;
    for (int i = 0; i < 8; i++) hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}
