/* Unit tests for spdy: SYN_STREAM/SYN_REPLY round trips between a client
 * and a server session (header blocks sharing one zlib stream per
 * direction, the SPDY/3 dictionary's id on the wire), the fixed-size
 * frames, DATA, truncated and malformed input, and a header block bomb. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/spdy.h"
#include "lib/util.h"
#include "test.h"

#define MAX_FRAME (1 << 20)

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void test_syn_round_trip(void)
{
    cn_spdy *client = cn_spdy_new(), *server = cn_spdy_new();
    CHECK(client && server);
    const cn_spdy_header h[] = {
        { "streamtype", "data" }, { "port", "8080" }, { "requestid", "0" },
    };
    uint8_t *out = NULL;
    size_t outlen = 0;
    CHECK_INT(cn_spdy_syn_stream(client, 1, false, h, 3, &out, &outlen), 0);
    CHECK(outlen > 18);
    CHECK_INT(out[0], 0x80);
    CHECK_INT(out[1], 3);
    CHECK_INT(out[3], CN_SPDY_SYN_STREAM);
    CHECK_INT((size_t)out[5] << 16 | (size_t)out[6] << 8 | out[7], outlen - 8);
    /* The block's zlib header names the SPDY/3 dictionary by its Adler-32
     * (RFC 1950 FDICT/DICTID): proves the 1423 bytes are the spec's. */
    const uint8_t *z = out + 18;
    CHECK((z[1] & 0x20) != 0);
    CHECK_INT((uint32_t)z[2] << 24 | (uint32_t)z[3] << 16 | (uint32_t)z[4] << 8 | z[5], 0xe3c6a7c2u);

    cn_spdy_frame f;
    for (size_t i = 0; i < outlen; i++) CHECK_INT(cn_spdy_parse(server, out, i, MAX_FRAME, &f), 0);
    CHECK_INT(cn_spdy_parse(server, out, outlen, MAX_FRAME, &f), (ssize_t)outlen);
    CHECK_INT(f.type, CN_SPDY_SYN_STREAM);
    CHECK_INT(f.stream_id, 1);
    CHECK_INT(f.assoc_id, 0);
    CHECK_INT(f.flags, 0);
    CHECK_INT(f.nheaders, 3);
    CHECK_STR(cn_spdy_header_get(&f, "streamtype"), "data");
    CHECK_STR(cn_spdy_header_get(&f, "port"), "8080");
    CHECK_STR(cn_spdy_header_get(&f, "requestid"), "0");
    CHECK(cn_spdy_header_get(&f, "missing") == NULL);
    cn_spdy_frame_release(&f);
    CHECK(f.headers == NULL && f.nheaders == 0);
    free(out);

    /* The reply travels the other direction on its own zlib stream. */
    const cn_spdy_header r[] = { { ":status", "200" } };
    CHECK_INT(cn_spdy_syn_reply(server, 1, true, r, 1, &out, &outlen), 0);
    CHECK_INT(cn_spdy_parse(client, out, outlen, MAX_FRAME, &f), (ssize_t)outlen);
    CHECK_INT(f.type, CN_SPDY_SYN_REPLY);
    CHECK_INT(f.stream_id, 1);
    CHECK_INT(f.flags, CN_SPDY_FLAG_FIN);
    CHECK_STR(cn_spdy_header_get(&f, ":status"), "200");
    cn_spdy_frame_release(&f);
    free(out);
    cn_spdy_free(client);
    cn_spdy_free(server);
}

static void test_shared_zlib_context(void)
{
    cn_spdy *client = cn_spdy_new(), *server = cn_spdy_new(), *fresh = cn_spdy_new();
    uint8_t *frames[3];
    size_t lens[3], total = 0;
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        const cn_spdy_header h[] = { { "streamtype", i % 2 ? "error" : "data" }, { "port", "80" },
                                     { "requestid", id } };
        CHECK_INT(cn_spdy_syn_stream(client, (uint32_t)(2 * i + 1), i == 2, h, 3, &frames[i], &lens[i]), 0);
        total += lens[i];
    }
    /* Later blocks refer back to earlier ones: same headers, fewer bytes. */
    CHECK(lens[1] < lens[0]);

    /* Back to back in one buffer, as they come off the socket. */
    uint8_t *buf = malloc(total);
    size_t off = 0;
    for (int i = 0; i < 3; i++) { memcpy(buf + off, frames[i], lens[i]); off += lens[i]; }
    off = 0;
    for (int i = 0; i < 3; i++) {
        cn_spdy_frame f;
        ssize_t n = cn_spdy_parse(server, buf + off, total - off, MAX_FRAME, &f);
        CHECK_INT(n, (ssize_t)lens[i]);
        if (n <= 0) break;
        CHECK_INT(f.stream_id, 2 * i + 1);
        CHECK_INT(f.flags, i == 2 ? CN_SPDY_FLAG_FIN : 0);
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        CHECK_STR(cn_spdy_header_get(&f, "requestid"), id);
        CHECK_STR(cn_spdy_header_get(&f, "streamtype"), i % 2 ? "error" : "data");
        cn_spdy_frame_release(&f);
        off += (size_t)n;
    }
    /* The second block alone means nothing to a session that missed the first. */
    cn_spdy_frame f;
    CHECK(cn_spdy_parse(fresh, frames[1], lens[1], MAX_FRAME, &f) < 0);
    for (int i = 0; i < 3; i++) free(frames[i]);
    free(buf);
    cn_spdy_free(client);
    cn_spdy_free(server);
    cn_spdy_free(fresh);
}

static void test_fixed_frames(void)
{
    cn_spdy *s = cn_spdy_new();
    uint8_t buf[64];
    cn_spdy_frame f;

    size_t n = cn_spdy_data_header(buf, 5, true, 3);
    CHECK_INT(n, 8);
    memcpy(buf + 8, "abc", 3);
    CHECK_INT(cn_spdy_parse(s, buf, 10, MAX_FRAME, &f), 0);
    CHECK_INT(cn_spdy_parse(s, buf, 11, MAX_FRAME, &f), 11);
    CHECK_INT(f.type, CN_SPDY_DATA);
    CHECK_INT(f.stream_id, 5);
    CHECK_INT(f.flags, CN_SPDY_FLAG_FIN);
    CHECK(f.len == 3 && f.data == buf + 8 && memcmp(f.data, "abc", 3) == 0);
    n = cn_spdy_data_header(buf, 7, false, 0);
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), 8);
    CHECK(f.type == CN_SPDY_DATA && f.stream_id == 7 && f.len == 0 && f.flags == 0);

    n = cn_spdy_rst_stream(buf, 3, 5);
    CHECK_INT(n, 16);
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), 16);
    CHECK(f.type == CN_SPDY_RST_STREAM && f.stream_id == 3 && f.status == 5);

    n = cn_spdy_ping(buf, 0xdeadbeef);
    CHECK_INT(n, 12);
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), 12);
    CHECK(f.type == CN_SPDY_PING && f.ping_id == 0xdeadbeef);

    n = cn_spdy_goaway(buf, 9, 1);
    CHECK_INT(n, 16);
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), 16);
    CHECK(f.type == CN_SPDY_GOAWAY && f.stream_id == 9 && f.status == 1);

    n = cn_spdy_window_update(buf, 0, 65536);   /* 3.1: stream 0 is the session window */
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), 16);
    CHECK(f.type == CN_SPDY_WINDOW_UPDATE && f.stream_id == 0 && f.delta == 65536);

    /* SETTINGS with two entries is accepted and its values ignored. */
    uint8_t st[28] = { 0x80, 3, 0, CN_SPDY_SETTINGS, 0, 0, 0, 20 };
    put32(st + 8, 2);
    put32(st + 12, 7); put32(st + 16, 65536);
    put32(st + 20, 4); put32(st + 24, 100);
    CHECK_INT(cn_spdy_parse(s, st, sizeof st, MAX_FRAME, &f), 28);
    CHECK_INT(f.type, CN_SPDY_SETTINGS);
    /* An unknown control type is handed back to be ignored. */
    uint8_t unk[12] = { 0x80, 3, 0, 10, 0, 0, 0, 4, 1, 2, 3, 4 };
    CHECK_INT(cn_spdy_parse(s, unk, sizeof unk, MAX_FRAME, &f), 12);
    CHECK_INT(f.type, 10);
    /* Control type 0 is not a DATA frame in disguise. */
    unk[3] = 0;
    CHECK_INT(cn_spdy_parse(s, unk, sizeof unk, MAX_FRAME, &f), -EPROTO);
    cn_spdy_free(s);
}

static void test_malformed(void)
{
    cn_spdy *s = cn_spdy_new();
    uint8_t buf[64];
    cn_spdy_frame f;

    size_t n = cn_spdy_ping(buf, 1);
    buf[1] = 2;                                   /* SPDY/2 */
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), -EPROTO);
    n = cn_spdy_rst_stream(buf, 1, 1);
    buf[7] = 4;                                   /* RST_STREAM must be 8 bytes */
    CHECK_INT(cn_spdy_parse(s, buf, 12, MAX_FRAME, &f), -EPROTO);
    n = cn_spdy_rst_stream(buf, 0, 1);            /* stream 0 */
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), -EPROTO);
    n = cn_spdy_window_update(buf, 1, 0);         /* zero delta */
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), -EPROTO);
    n = cn_spdy_data_header(buf, 0, false, 0);    /* DATA on stream 0 */
    CHECK_INT(cn_spdy_parse(s, buf, n, MAX_FRAME, &f), -EPROTO);
    uint8_t st[16] = { 0x80, 3, 0, CN_SPDY_SETTINGS, 0, 0, 0, 8 };
    put32(st + 8, 5);                              /* 5 entries claimed, none there */
    CHECK_INT(cn_spdy_parse(s, st, 16, MAX_FRAME, &f), -EPROTO);

    /* Over max_frame: refused from the 8-byte header, before the body. */
    n = cn_spdy_data_header(buf, 1, false, 5000);
    CHECK_INT(cn_spdy_parse(s, buf, n, 4096, &f), -EMSGSIZE);

    /* SYN_STREAM too short for its fixed fields, and with stream 0. */
    uint8_t syn[20] = { 0x80, 3, 0, CN_SPDY_SYN_STREAM, 0, 0, 0, 6 };
    CHECK_INT(cn_spdy_parse(s, syn, 14, MAX_FRAME, &f), -EPROTO);
    /* A header block that is not zlib at all. */
    syn[7] = 12;
    put32(syn + 8, 1);
    memcpy(syn + 18, "\xff\xff", 2);
    CHECK_INT(cn_spdy_parse(s, syn, 20, MAX_FRAME, &f), -EPROTO);
    /* An empty header block. */
    cn_spdy *s2 = cn_spdy_new();
    syn[7] = 10;
    CHECK_INT(cn_spdy_parse(s2, syn, 18, MAX_FRAME, &f), -EPROTO);
    cn_spdy_free(s2);
    cn_spdy_free(s);
}

/* A SYN_STREAM whose header block is raw[0..rawlen) deflated as a zlib
 * stream of its own (no dictionary, which inflate accepts): lets a test
 * say exactly what the decompressed block holds. */
static uint8_t *syn_with_block(const uint8_t *raw, size_t rawlen, size_t *outlen)
{
    uLongf zlen = compressBound(rawlen) + 64;   /* + the sync flush marker */
    uint8_t *out = malloc(18 + zlen);
    z_stream z = { 0 };
    deflateInit(&z, 9);
    z.next_in = (Bytef *)raw;
    z.avail_in = (uInt)rawlen;
    z.next_out = out + 18;
    z.avail_out = (uInt)zlen;
    deflate(&z, Z_SYNC_FLUSH);
    zlen = zlen - z.avail_out;
    deflateEnd(&z);
    memset(out, 0, 18);
    out[0] = 0x80; out[1] = 3; out[3] = CN_SPDY_SYN_STREAM;
    put32(out + 4, (uint32_t)(10 + zlen));
    put32(out + 8, 1);
    *outlen = 18 + zlen;
    return out;
}

/* Parse a SYN_STREAM carrying raw as its block on a fresh session. */
static ssize_t parse_raw_block(const uint8_t *raw, size_t rawlen, cn_spdy_frame *f)
{
    size_t n;
    uint8_t *frame = syn_with_block(raw, rawlen, &n);
    cn_spdy *s = cn_spdy_new();
    ssize_t r = cn_spdy_parse(s, frame, n, MAX_FRAME, f);
    cn_spdy_free(s);
    free(frame);
    return r;
}

static size_t add_pair(uint8_t *p, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    put32(p, (uint32_t)nl);
    memcpy(p + 4, name, nl);
    put32(p + 4 + nl, (uint32_t)vl);
    memcpy(p + 8 + nl, value, vl);
    return 8 + nl + vl;
}

static void test_header_blocks(void)
{
    uint8_t raw[256];
    cn_spdy_frame f;
    size_t n = 4;
    put32(raw, 2);
    n += add_pair(raw + n, "port", "80");
    n += add_pair(raw + n, "streamtype", "");
    ssize_t r = parse_raw_block(raw, n, &f);
    CHECK(r > 0);
    if (r > 0) {
        CHECK_STR(cn_spdy_header_get(&f, "port"), "80");
        CHECK_STR(cn_spdy_header_get(&f, "streamtype"), "");
        cn_spdy_frame_release(&f);
    }
    /* A count larger than what follows. */
    put32(raw, 3);
    CHECK_INT(parse_raw_block(raw, n, &f), -EPROTO);
    /* Trailing bytes after the last pair. */
    put32(raw, 1);
    CHECK_INT(parse_raw_block(raw, n, &f), -EPROTO);
    /* A name length running past the block. */
    put32(raw, 2);
    put32(raw + 4, 200);
    CHECK_INT(parse_raw_block(raw, n, &f), -EPROTO);
    /* Duplicate names, empty names. */
    n = 4;
    put32(raw, 2);
    n += add_pair(raw + n, "port", "80");
    n += add_pair(raw + n, "port", "81");
    CHECK_INT(parse_raw_block(raw, n, &f), -EPROTO);
    n = 4;
    put32(raw, 1);
    n += add_pair(raw + n, "", "x");
    CHECK_INT(parse_raw_block(raw, n, &f), -EPROTO);
    /* Too many headers. */
    uint8_t *many = malloc(4 + 300 * 16);
    n = 4;
    put32(many, 300);
    for (int i = 0; i < 300; i++) {
        char name[8];
        snprintf(name, sizeof name, "h%d", i);
        n += add_pair(many + n, name, "v");
    }
    CHECK_INT(parse_raw_block(many, n, &f), -EMSGSIZE);
    free(many);
    /* A huge claimed count in a tiny block is refused before allocating. */
    put32(raw, 0x7fffffff);
    CHECK(parse_raw_block(raw, 12, &f) < 0);
}

static void test_bomb(void)
{
    /* One header whose 4 MiB value compresses to a few KiB: refused once
     * it inflates past 64 KiB, without inflating the rest. */
    size_t vlen = 4u << 20;
    uint8_t *raw = malloc(16 + vlen);
    put32(raw, 1);
    put32(raw + 4, 4);
    memcpy(raw + 8, "bomb", 4);
    put32(raw + 12, (uint32_t)vlen);
    memset(raw + 16, 'a', vlen);
    size_t n;
    uint8_t *frame = syn_with_block(raw, 16 + vlen, &n);
    CHECK(n < 64 * 1024);
    cn_spdy *s = cn_spdy_new();
    cn_spdy_frame f;
    CHECK_INT(cn_spdy_parse(s, frame, n, MAX_FRAME, &f), -EMSGSIZE);
    cn_spdy_free(s);
    free(frame);
    free(raw);

    /* The builder refuses a block it would not accept itself. */
    char *big = malloc(70 * 1024);
    memset(big, 'x', 70 * 1024 - 1);
    big[70 * 1024 - 1] = 0;
    const cn_spdy_header h[] = { { "x", big } };
    cn_spdy *c = cn_spdy_new();
    uint8_t *out = NULL;
    size_t outlen;
    CHECK_INT(cn_spdy_syn_stream(c, 1, false, h, 1, &out, &outlen), -EMSGSIZE);
    CHECK(out == NULL);
    cn_spdy_free(c);
    free(big);
}

int main(void)
{
    TEST_RUN(test_syn_round_trip);
    TEST_RUN(test_shared_zlib_context);
    TEST_RUN(test_fixed_frames);
    TEST_RUN(test_malformed);
    TEST_RUN(test_header_blocks);
    TEST_RUN(test_bomb);
    return TEST_DONE();
}
