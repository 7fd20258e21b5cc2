/* wsconn: client frames read from a socket come back as whole messages
 * (fragments joined, pings answered), and server messages go out framed. */
#include "agent/wsconn.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

/* A masked client frame (payload < 126 bytes). */
static size_t client_frame(uint8_t *out, bool fin, int op, const char *payload)
{
    size_t n = strlen(payload);
    static const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
    out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
    out[1] = (uint8_t)(0x80 | n);
    memcpy(out + 2, mask, 4);
    for (size_t i = 0; i < n; i++) out[6 + i] = (uint8_t)payload[i] ^ mask[i % 4];
    return 6 + n;
}

static void test_messages(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    uint8_t buf[512];
    size_t n = 0;
    n += client_frame(buf + n, false, CN_WS_BINARY, "\x01hel");
    n += client_frame(buf + n, true, CN_WS_PING, "p");
    n += client_frame(buf + n, false, CN_WS_CONT, "lo ");
    n += client_frame(buf + n, true, CN_WS_CONT, "world");
    n += client_frame(buf + n, true, CN_WS_TEXT, "single");
    /* The first frame arrives with the upgrade request (extra bytes). */
    cn_wsconn c;
    cn_wsconn_init(&c, sv[0], (const char *)buf, 10);
    CHECK(write(sv[1], buf + 10, n - 10) == (ssize_t)(n - 10));
    cn_ws_frame f;
    CHECK_INT(cn_wsconn_next(&c, &f), 0);    /* only a fragment so far */
    CHECK(cn_wsconn_fill(&c) > 0);
    CHECK_INT(cn_wsconn_next(&c, &f), 1);
    CHECK_INT(f.opcode, CN_WS_BINARY);
    CHECK(f.fin);
    CHECK_INT(f.len, 12);
    CHECK(!memcmp(f.payload, "\x01hello world", 12));
    CHECK_INT(cn_wsconn_next(&c, &f), 1);
    CHECK_INT(f.opcode, CN_WS_TEXT);
    CHECK(f.len == 6 && !memcmp(f.payload, "single", 6));
    CHECK_INT(cn_wsconn_next(&c, &f), 0);
    /* The ping was answered with a pong carrying its payload. */
    uint8_t got[64];
    ssize_t r = read(sv[1], got, sizeof got);
    CHECK(r == 3 && got[0] == (0x80 | CN_WS_PONG) && got[1] == 1 && got[2] == 'p');
    /* A continuation without a start is a protocol error. */
    n = client_frame(buf, true, CN_WS_CONT, "x");
    CHECK(write(sv[1], buf, n) == (ssize_t)n);
    CHECK(cn_wsconn_fill(&c) > 0);
    CHECK(cn_wsconn_next(&c, &f) < 0);
    /* Server messages: prefix byte then data, unmasked. */
    uint8_t ch = 1;
    CHECK_INT(cn_wsconn_send(&c, CN_WS_BINARY, &ch, 1, "out", 3), 0);
    r = read(sv[1], got, sizeof got);
    CHECK(r == 6 && got[0] == (0x80 | CN_WS_BINARY) && got[1] == 4 && got[2] == 1 &&
          !memcmp(got + 3, "out", 3));
    cn_wsconn_release(&c);
    close(sv[0]);
    close(sv[1]);
}

static void test_accept(void)
{
    char a[29];
    CHECK_INT(cn_wsconn_accept("websocket", "dGhlIHNhbXBsZSBub25jZQ==", "13", a), 0);
    CHECK_STR(a, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(cn_wsconn_accept("SPDY/3.1", "dGhlIHNhbXBsZSBub25jZQ==", "13", a) < 0);
    CHECK(cn_wsconn_accept("websocket", "dGhlIHNhbXBsZSBub25jZQ==", "8", a) < 0);
}

int main(void)
{
    TEST_RUN(test_messages);
    TEST_RUN(test_accept);
    return TEST_DONE();
}
