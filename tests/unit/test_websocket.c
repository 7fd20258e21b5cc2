/* Unit tests for websocket: the RFC 6455 accept key example, protocol
 * picking, masked client frames with 7/16/64-bit lengths, fragmentation,
 * the control-frame rules, partial input, oversize, and server headers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/websocket.h"
#include "test.h"

static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Build a masked client frame of payload p[0..n) into out; returns its size. */
static size_t client_frame(uint8_t *out, bool fin, int opcode, const void *p, size_t n)
{
    size_t h = cn_ws_header(out, fin, opcode, n);
    out[1] |= 0x80;
    memcpy(out + h, mask, 4);
    const uint8_t *src = p;
    for (size_t i = 0; i < n; i++) out[h + 4 + i] = src[i] ^ mask[i & 3];
    return h + 4 + n;
}

static void test_accept_key(void)
{
    char out[29];
    CHECK_INT(cn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);   /* RFC 6455 §1.3 */
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(cn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", out), -EINVAL);
    CHECK_INT(cn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==x", out), -EINVAL);
    CHECK_INT(cn_ws_accept_key("dGhlIHNhbXBsZSBub2!jZQ==", out), -EINVAL);
    CHECK_INT(cn_ws_accept_key("", out), -EINVAL);
    CHECK_INT(cn_ws_accept_key(NULL, out), -EINVAL);
}

static void test_pick_protocol(void)
{
    static const char *const ours[] = { "v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io" };
    CHECK_STR(cn_ws_pick_protocol("v4.channel.k8s.io, v5.channel.k8s.io", ours, 3), "v5.channel.k8s.io");
    CHECK_STR(cn_ws_pick_protocol("base64.channel.k8s.io,v4.channel.k8s.io", ours, 3), "v4.channel.k8s.io");
    CHECK_STR(cn_ws_pick_protocol(" channel.k8s.io ", ours, 3), "channel.k8s.io");
    CHECK(cn_ws_pick_protocol("v5.channel.k8s.io.x, xchannel.k8s.io", ours, 3) == NULL);
    CHECK(cn_ws_pick_protocol("", ours, 3) == NULL);
    CHECK(cn_ws_pick_protocol(",,", ours, 3) == NULL);
    CHECK(cn_ws_pick_protocol(NULL, ours, 3) == NULL);
}

static void test_small_frame(void)
{
    uint8_t buf[64];
    size_t n = client_frame(buf, true, CN_WS_TEXT, "Hello", 5);
    CHECK_INT(n, 11);
    /* Every strict prefix asks for more. */
    cn_ws_frame f;
    for (size_t i = 0; i < n; i++) CHECK_INT(cn_ws_parse(buf, i, 1024, &f), 0);
    CHECK_INT(cn_ws_parse(buf, n, 1024, &f), 11);
    CHECK(f.fin);
    CHECK_INT(f.opcode, CN_WS_TEXT);
    CHECK_INT(f.len, 5);
    CHECK(memcmp(f.payload, "Hello", 5) == 0);
    CHECK(f.payload == buf + 6);
    /* The RFC's own example bytes (§5.7, masked "Hello"). */
    uint8_t rfc[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    CHECK_INT(cn_ws_parse(rfc, sizeof rfc, 1024, &f), 11);
    CHECK(f.len == 5 && memcmp(f.payload, "Hello", 5) == 0);
    /* Empty payload. */
    n = client_frame(buf, true, CN_WS_BINARY, "", 0);
    CHECK_INT(cn_ws_parse(buf, n, 1024, &f), 6);
    CHECK_INT(f.len, 0);
}

static void test_extended_lengths(void)
{
    size_t sizes[] = { 125, 126, 65535, 65536, 70000 };
    uint8_t *payload = malloc(70000), *buf = malloc(70000 + 14);
    for (size_t i = 0; i < 70000; i++) payload[i] = (uint8_t)(i * 7);
    for (size_t k = 0; k < 5; k++) {
        size_t n = client_frame(buf, true, CN_WS_BINARY, payload, sizes[k]);
        size_t hdr = sizes[k] < 126 ? 2 : sizes[k] <= 65535 ? 4 : 10;
        CHECK_INT(n, hdr + 4 + sizes[k]);
        cn_ws_frame f;
        CHECK_INT(cn_ws_parse(buf, hdr - 1, 1 << 20, &f), 0);
        CHECK_INT(cn_ws_parse(buf, n - 1, 1 << 20, &f), 0);
        CHECK_INT(cn_ws_parse(buf, n, 1 << 20, &f), (ssize_t)n);
        CHECK_INT(f.len, sizes[k]);
        CHECK(memcmp(f.payload, payload, sizes[k]) == 0);
        /* Oversize is known from the header alone, before the payload. */
        CHECK_INT(cn_ws_parse(buf, hdr, sizes[k] - 1, &f), -EMSGSIZE);
    }
    /* A 64-bit length with the top bit set is a protocol error. */
    uint8_t big[14] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1 };
    cn_ws_frame f;
    CHECK_INT(cn_ws_parse(big, sizeof big, SIZE_MAX, &f), -EPROTO);
    /* A huge (but legal) 64-bit length is refused by max_payload, not allocated. */
    big[2] = 0x7f;
    CHECK_INT(cn_ws_parse(big, sizeof big, 1 << 20, &f), -EMSGSIZE);
    free(payload);
    free(buf);
}

static void test_fragmentation(void)
{
    /* "Hel" + "lo" as TEXT(fin=0) then CONT(fin=1), a PING between them
     * (control frames may interleave), parsed back to back from one buffer. */
    uint8_t buf[64];
    size_t n = client_frame(buf, false, CN_WS_TEXT, "Hel", 3);
    n += client_frame(buf + n, true, CN_WS_PING, "p", 1);
    n += client_frame(buf + n, true, CN_WS_CONT, "lo", 2);
    cn_ws_frame f;
    size_t off = 0;
    ssize_t r = cn_ws_parse(buf + off, n - off, 100, &f);
    CHECK_INT(r, 9);
    CHECK(!f.fin && f.opcode == CN_WS_TEXT && f.len == 3 && memcmp(f.payload, "Hel", 3) == 0);
    off += (size_t)r;
    r = cn_ws_parse(buf + off, n - off, 100, &f);
    CHECK_INT(r, 7);
    CHECK(f.fin && f.opcode == CN_WS_PING && f.len == 1 && f.payload[0] == 'p');
    off += (size_t)r;
    r = cn_ws_parse(buf + off, n - off, 100, &f);
    CHECK_INT(r, 8);
    CHECK(f.fin && f.opcode == CN_WS_CONT && f.len == 2 && memcmp(f.payload, "lo", 2) == 0);
    CHECK_INT(off + (size_t)r, n);
}

static void test_protocol_errors(void)
{
    uint8_t buf[300];
    cn_ws_frame f;
    /* Unmasked client frame. */
    uint8_t unmasked[] = { 0x81, 0x02, 'h', 'i' };
    CHECK_INT(cn_ws_parse(unmasked, sizeof unmasked, 100, &f), -EPROTO);
    /* Reserved bits. */
    size_t n = client_frame(buf, true, CN_WS_TEXT, "x", 1);
    buf[0] |= 0x40;
    CHECK_INT(cn_ws_parse(buf, n, 100, &f), -EPROTO);
    /* Reserved opcodes. */
    int bad_ops[] = { 3, 7, 0xB, 0xF };
    for (size_t i = 0; i < 4; i++) {
        n = client_frame(buf, true, bad_ops[i], "x", 1);
        CHECK_INT(cn_ws_parse(buf, n, 100, &f), -EPROTO);
    }
    /* Fragmented control frame. */
    n = client_frame(buf, false, CN_WS_PING, "x", 1);
    CHECK_INT(cn_ws_parse(buf, n, 100, &f), -EPROTO);
    /* Control frame over 125 bytes. */
    uint8_t big[126] = { 0 };
    n = client_frame(buf, true, CN_WS_PONG, big, 126);
    CHECK_INT(cn_ws_parse(buf, n, 1000, &f), -EPROTO);
    n = client_frame(buf, true, CN_WS_PONG, big, 125);
    CHECK_INT(cn_ws_parse(buf, n, 1000, &f), (ssize_t)n);
    /* Close with a 1-byte body; with a code and reason it is fine. */
    n = client_frame(buf, true, CN_WS_CLOSE, "\x03", 1);
    CHECK_INT(cn_ws_parse(buf, n, 100, &f), -EPROTO);
    n = client_frame(buf, true, CN_WS_CLOSE, "\x03\xe8" "bye", 5);
    CHECK_INT(cn_ws_parse(buf, n, 100, &f), (ssize_t)n);
    CHECK(f.opcode == CN_WS_CLOSE && f.len == 5 && f.payload[0] == 0x03 && f.payload[1] == 0xe8);
    /* Errors are reported from the first bytes, without waiting for the rest. */
    n = client_frame(buf, true, CN_WS_TEXT, "x", 1);
    buf[1] &= 0x7f;
    CHECK_INT(cn_ws_parse(buf, 2, 100, &f), -EPROTO);
}

static void test_server_header(void)
{
    uint8_t h[10];
    CHECK_INT(cn_ws_header(h, true, CN_WS_BINARY, 5), 2);
    CHECK_INT(h[0], 0x82);
    CHECK_INT(h[1], 5);
    CHECK_INT(cn_ws_header(h, false, CN_WS_TEXT, 125), 2);
    CHECK_INT(h[0], 0x01);
    CHECK_INT(h[1], 125);
    CHECK_INT(cn_ws_header(h, true, CN_WS_BINARY, 126), 4);
    CHECK(h[1] == 126 && h[2] == 0 && h[3] == 126);
    CHECK_INT(cn_ws_header(h, true, CN_WS_BINARY, 65535), 4);
    CHECK(h[2] == 0xff && h[3] == 0xff);
    CHECK_INT(cn_ws_header(h, true, CN_WS_CLOSE, 65536), 10);
    CHECK(h[0] == 0x88 && h[1] == 127);
    CHECK(h[2] == 0 && h[3] == 0 && h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 1 && h[8] == 0 && h[9] == 0);
    /* Server frames are unmasked. */
    cn_ws_header(h, true, CN_WS_TEXT, 3);
    CHECK(!(h[1] & 0x80));
}

int main(void)
{
    TEST_RUN(test_accept_key);
    TEST_RUN(test_pick_protocol);
    TEST_RUN(test_small_frame);
    TEST_RUN(test_extended_lengths);
    TEST_RUN(test_fragmentation);
    TEST_RUN(test_protocol_errors);
    TEST_RUN(test_server_header);
    return TEST_DONE();
}
