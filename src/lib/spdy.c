/* spdy: SPDY/3.1 framing (see spdy.h).
 *
 * Wire layouts (draft-mbelshe-httpbis-spdy-00 §2.2, §2.6; 3.1 only adds the
 * session-level WINDOW_UPDATE on stream 0):
 *
 *   control: |1| version=3 (15) | type (16) | flags (8) | length (24) | data
 *   data:    |0| stream-id (31)             | flags (8) | length (24) | data
 *
 *   SYN_STREAM    stream-id(31) assoc-id(31) pri(3)+unused(5) slot(8) block
 *   SYN_REPLY     stream-id(31) block
 *   HEADERS       stream-id(31) block
 *   RST_STREAM    stream-id(31) status(32)
 *   SETTINGS      count(32) then count x { flags(8) id(24) value(32) }
 *   PING          id(32)
 *   GOAWAY        last-good-stream-id(31) status(32)
 *   WINDOW_UPDATE stream-id(31) delta(31)
 *
 * A header block, once inflated, is count(32) then count x { name-len(32)
 * name value-len(32) value } (32-bit lengths: SPDY/2 used 16). Each
 * direction of a session is one zlib stream primed with the dictionary
 * below and flushed with Z_SYNC_FLUSH after every block, so the inflater
 * and deflater live as long as the session. Because that state is shared,
 * a frame is only inflated once it has arrived whole, and after any error
 * the session's zlib state is undefined: the caller must end the session. */
#include "lib/spdy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/util.h"

#define SPDY_VERSION 3
#define SPDY_MAX_BLOCK (64 * 1024)      /* decompressed header block */
#define SPDY_MAX_HEADERS 256
#define SPDY_MAX_LEN 0xffffff           /* the 24-bit length field */

/* The SPDY/3 compression dictionary (§2.6.10.1), 1423 bytes: the words
 * below each preceded by its length as a 32-bit big-endian integer, then
 * the text of dict_tail as is. Kept as words rather than a hex dump so it
 * can be read against the specification. */
static const char *const dict_words[] = {
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type",
    "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
    "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
    "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
};
static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
#define SPDY_DICT_LEN 1423

struct cn_spdy {
    z_stream in, out;
    bool in_ok, out_ok;          /* inflateInit/deflateInit succeeded: End them */
    uint8_t dict[SPDY_DICT_LEN];
    uint8_t *block;              /* SPDY_MAX_BLOCK + 1: inflate target, reused */
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void build_dict(uint8_t *d)
{
    size_t o = 0;
    for (size_t i = 0; i < sizeof dict_words / sizeof *dict_words; i++) {
        size_t n = strlen(dict_words[i]);
        put32(d + o, (uint32_t)n);
        memcpy(d + o + 4, dict_words[i], n);
        o += 4 + n;
    }
    memcpy(d + o, dict_tail, sizeof dict_tail - 1);
    _Static_assert(sizeof dict_tail - 1 == 574, "dictionary tail length");
}

cn_spdy *cn_spdy_new(void)
{
    cn_spdy *s = cn_calloc(1, sizeof *s);
    build_dict(s->dict);
    s->block = cn_malloc(SPDY_MAX_BLOCK + 1);
    if (inflateInit(&s->in) != Z_OK) goto fail;
    s->in_ok = true;
    if (deflateInit(&s->out, Z_DEFAULT_COMPRESSION) != Z_OK) goto fail;
    s->out_ok = true;
    if (deflateSetDictionary(&s->out, s->dict, SPDY_DICT_LEN) != Z_OK) goto fail;
    return s;
fail:
    cn_spdy_free(s);
    return NULL;
}

void cn_spdy_free(cn_spdy *s)
{
    if (!s) return;
    if (s->in_ok) inflateEnd(&s->in);
    if (s->out_ok) deflateEnd(&s->out);
    free(s->block);
    free(s);
}

void cn_spdy_frame_release(cn_spdy_frame *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nheaders; i++) {
        free(f->headers[i].name);
        free(f->headers[i].value);
    }
    free(f->headers);
    f->headers = NULL;
    f->nheaders = 0;
}

const char *cn_spdy_header_get(const cn_spdy_frame *f, const char *name)
{
    for (size_t i = 0; i < f->nheaders; i++)
        if (strcmp(f->headers[i].name, name) == 0) return f->headers[i].value;
    return NULL;
}

/* Inflate one compressed header block into s->block; *outlen gets the
 * decompressed size. -EMSGSIZE when it would exceed SPDY_MAX_BLOCK (the
 * "bomb": a few bytes that inflate to megabytes), -EPROTO on bad zlib data. */
static int inflate_block(cn_spdy *s, const uint8_t *in, size_t inlen, size_t *outlen)
{
    if (inlen == 0) return -EPROTO;
    s->in.next_in = (Bytef *)in;
    s->in.avail_in = (uInt)inlen;
    s->in.next_out = s->block;
    s->in.avail_out = SPDY_MAX_BLOCK + 1;
    while (s->in.avail_in > 0) {
        int r = inflate(&s->in, Z_SYNC_FLUSH);
        if (r == Z_NEED_DICT) {
            if (inflateSetDictionary(&s->in, s->dict, SPDY_DICT_LEN) != Z_OK) return -EPROTO;
            continue;
        }
        if (s->in.avail_out == 0) return -EMSGSIZE;
        if (r == Z_BUF_ERROR) return -EPROTO;    /* no progress with input left */
        if (r != Z_OK) return -EPROTO;           /* data error, or a stream end mid-session */
    }
    *outlen = SPDY_MAX_BLOCK + 1 - s->in.avail_out;
    if (*outlen > SPDY_MAX_BLOCK) return -EMSGSIZE;
    return 0;
}

/* Decode an inflated block into f->headers. Names must be non-empty, free
 * of NUL and unique (§2.6.10); values are kept whole (several values are
 * NUL-separated on the wire, so the C string shows the first). */
static int decode_block(const uint8_t *p, size_t len, cn_spdy_frame *f)
{
    if (len < 4) return -EPROTO;
    uint32_t n = get32(p);
    size_t o = 4;
    if (n > SPDY_MAX_HEADERS) return -EMSGSIZE;
    /* Each pair takes at least 8 bytes, so a count the block cannot hold is
     * refused before allocating for it. */
    if (n > (len - 4) / 8) return -EPROTO;
    f->headers = cn_calloc(n ? n : 1, sizeof *f->headers);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *str[2];
        uint32_t slen[2];
        for (int k = 0; k < 2; k++) {
            if (len - o < 4) return -EPROTO;
            slen[k] = get32(p + o);
            o += 4;
            if (slen[k] > len - o) return -EPROTO;
            str[k] = p + o;
            o += slen[k];
        }
        if (slen[0] == 0 || memchr(str[0], 0, slen[0])) return -EPROTO;
        for (size_t j = 0; j < f->nheaders; j++)
            if (strlen(f->headers[j].name) == slen[0] && memcmp(f->headers[j].name, str[0], slen[0]) == 0)
                return -EPROTO;
        f->headers[i].name = cn_strndup((const char *)str[0], slen[0]);
        /* cn_strndup stops at NUL: copy the value's bytes whole instead. */
        char *v = cn_malloc((size_t)slen[1] + 1);
        memcpy(v, str[1], slen[1]);
        v[slen[1]] = 0;
        f->headers[i].value = v;
        f->nheaders = i + 1;
    }
    if (o != len) return -EPROTO;   /* trailing bytes after the last pair */
    return 0;
}

static int parse_headers(cn_spdy *s, const uint8_t *in, size_t inlen, cn_spdy_frame *f)
{
    size_t blen = 0;
    int r = inflate_block(s, in, inlen, &blen);
    if (r < 0) return r;
    r = decode_block(s->block, blen, f);
    if (r < 0) cn_spdy_frame_release(f);
    return r;
}

/* Control frames of fixed size: the exact payload length each must have. */
static long fixed_len(int type)
{
    switch (type) {
    case CN_SPDY_RST_STREAM: case CN_SPDY_GOAWAY: case CN_SPDY_WINDOW_UPDATE: return 8;
    case CN_SPDY_PING: return 4;
    default: return -1;
    }
}

ssize_t cn_spdy_parse(cn_spdy *s, const uint8_t *buf, size_t len, size_t max_frame, cn_spdy_frame *f)
{
    if (len < 8) return 0;
    bool control = buf[0] & 0x80;
    int flags = buf[4];
    size_t plen = (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
    if (control && ((buf[0] & 0x7f) << 8 | buf[1]) != SPDY_VERSION) return -EPROTO;
    if (plen > max_frame) return -EMSGSIZE;
    if (len - 8 < plen) return 0;

    memset(f, 0, sizeof *f);
    f->flags = flags;
    const uint8_t *p = buf + 8;
    ssize_t total = (ssize_t)(8 + plen);

    if (!control) {
        f->type = CN_SPDY_DATA;
        f->stream_id = get32(buf) & 0x7fffffff;
        if (f->stream_id == 0) return -EPROTO;
        f->data = p;
        f->len = plen;
        return total;
    }

    f->type = buf[2] << 8 | buf[3];
    if (f->type == CN_SPDY_DATA) return -EPROTO;   /* would read as a DATA frame */
    long want = fixed_len(f->type);
    if (want >= 0 && (long)plen != want) return -EPROTO;
    int r = 0;
    switch (f->type) {
    case CN_SPDY_SYN_STREAM:
        if (plen < 10) return -EPROTO;
        f->stream_id = get32(p) & 0x7fffffff;
        f->assoc_id = get32(p + 4) & 0x7fffffff;
        if (f->stream_id == 0) return -EPROTO;
        r = parse_headers(s, p + 10, plen - 10, f);
        break;
    case CN_SPDY_SYN_REPLY:
    case CN_SPDY_HEADERS:
        if (plen < 4) return -EPROTO;
        f->stream_id = get32(p) & 0x7fffffff;
        if (f->stream_id == 0) return -EPROTO;
        r = parse_headers(s, p + 4, plen - 4, f);
        break;
    case CN_SPDY_RST_STREAM:
        f->stream_id = get32(p) & 0x7fffffff;
        f->status = get32(p + 4);
        if (f->stream_id == 0) return -EPROTO;
        break;
    case CN_SPDY_SETTINGS:
        /* Values are advisory for us (we neither push nor cap streams), so
         * the entries are checked for shape and otherwise ignored. */
        if (plen < 4 || (plen - 4) / 8 != get32(p) || (plen - 4) % 8) return -EPROTO;
        break;
    case CN_SPDY_PING:
        f->ping_id = get32(p);
        break;
    case CN_SPDY_GOAWAY:
        f->stream_id = get32(p) & 0x7fffffff;
        f->status = get32(p + 4);
        break;
    case CN_SPDY_WINDOW_UPDATE:
        f->stream_id = get32(p) & 0x7fffffff;   /* 0: the session window (3.1) */
        f->delta = get32(p + 4) & 0x7fffffff;
        if (f->delta == 0) return -EPROTO;
        break;
    default:
        /* Unknown control types (NOOP, CREDENTIAL, ...) must be ignored
         * (§2.2.1): returned with their type and no fields. */
        break;
    }
    return r < 0 ? r : total;
}

/* Serialize and deflate a header block, appending to out. */
static int encode_block(cn_spdy *s, const cn_spdy_header *h, size_t nh, cn_buf *out)
{
    cn_buf raw;
    cn_buf_init(&raw);
    uint8_t w[4];
    int ret = 0;
    if (nh > SPDY_MAX_HEADERS) { ret = -EMSGSIZE; goto done; }
    put32(w, (uint32_t)nh);
    cn_buf_add(&raw, w, 4);
    for (size_t i = 0; i < nh; i++) {
        const char *str[2] = { h[i].name, h[i].value ? h[i].value : "" };
        for (int k = 0; k < 2; k++) {
            size_t n = strlen(str[k]);
            if (n > SPDY_MAX_BLOCK) { ret = -EMSGSIZE; goto done; }
            put32(w, (uint32_t)n);
            cn_buf_add(&raw, w, 4);
            cn_buf_add(&raw, str[k], n);
        }
        if (raw.len > SPDY_MAX_BLOCK) { ret = -EMSGSIZE; goto done; }
    }

    s->out.next_in = (Bytef *)raw.data;
    s->out.avail_in = (uInt)raw.len;
    do {
        uint8_t chunk[4096];
        s->out.next_out = chunk;
        s->out.avail_out = sizeof chunk;
        int r = deflate(&s->out, Z_SYNC_FLUSH);
        if (r != Z_OK && r != Z_BUF_ERROR) { ret = -EIO; goto done; }
        cn_buf_add(out, chunk, sizeof chunk - s->out.avail_out);
    } while (s->out.avail_out == 0);   /* a full chunk: more output may be pending */
done:
    cn_buf_release(&raw);
    return ret;
}

/* A control frame whose payload is `fixed` bytes then a header block. */
static int build_headers_frame(cn_spdy *s, int type, bool fin, const uint8_t *fixed, size_t nfixed,
                               const cn_spdy_header *h, size_t nh, uint8_t **out, size_t *outlen)
{
    cn_buf b;
    cn_buf_init(&b);
    uint8_t hdr[8] = { 0x80, SPDY_VERSION, 0, (uint8_t)type, fin ? CN_SPDY_FLAG_FIN : 0 };
    cn_buf_add(&b, hdr, 8);
    cn_buf_add(&b, fixed, nfixed);
    int r = encode_block(s, h, nh, &b);
    if (r == 0 && b.len - 8 > SPDY_MAX_LEN) r = -EMSGSIZE;
    if (r < 0) {
        cn_buf_release(&b);
        return r;
    }
    size_t plen = b.len - 8;
    b.data[5] = (char)(plen >> 16);
    b.data[6] = (char)(plen >> 8);
    b.data[7] = (char)plen;
    *out = (uint8_t *)cn_buf_detach(&b, outlen);
    return 0;
}

int cn_spdy_syn_reply(cn_spdy *s, uint32_t stream_id, bool fin, const cn_spdy_header *h, size_t nh,
                      uint8_t **out, size_t *outlen)
{
    uint8_t fixed[4];
    put32(fixed, stream_id & 0x7fffffff);
    return build_headers_frame(s, CN_SPDY_SYN_REPLY, fin, fixed, 4, h, nh, out, outlen);
}

int cn_spdy_syn_stream(cn_spdy *s, uint32_t stream_id, bool fin, const cn_spdy_header *h, size_t nh,
                       uint8_t **out, size_t *outlen)
{
    uint8_t fixed[10] = { 0 };   /* associated stream 0, priority 0, slot 0 */
    put32(fixed, stream_id & 0x7fffffff);
    return build_headers_frame(s, CN_SPDY_SYN_STREAM, fin, fixed, 10, h, nh, out, outlen);
}

size_t cn_spdy_data_header(uint8_t buf[8], uint32_t stream_id, bool fin, uint32_t len)
{
    put32(buf, stream_id & 0x7fffffff);
    put32(buf + 4, (len & SPDY_MAX_LEN) | (uint32_t)(fin ? CN_SPDY_FLAG_FIN : 0) << 24);
    return 8;
}

/* Control frame header for a fixed-size payload. */
static void control_header(uint8_t *buf, int type, uint32_t plen)
{
    buf[0] = 0x80;
    buf[1] = SPDY_VERSION;
    buf[2] = 0;
    buf[3] = (uint8_t)type;
    put32(buf + 4, plen);
}

size_t cn_spdy_rst_stream(uint8_t buf[16], uint32_t stream_id, uint32_t status)
{
    control_header(buf, CN_SPDY_RST_STREAM, 8);
    put32(buf + 8, stream_id & 0x7fffffff);
    put32(buf + 12, status);
    return 16;
}

size_t cn_spdy_ping(uint8_t buf[12], uint32_t id)
{
    control_header(buf, CN_SPDY_PING, 4);
    put32(buf + 8, id);
    return 12;
}

size_t cn_spdy_goaway(uint8_t buf[16], uint32_t last_good, uint32_t status)
{
    control_header(buf, CN_SPDY_GOAWAY, 8);
    put32(buf + 8, last_good & 0x7fffffff);
    put32(buf + 12, status);
    return 16;
}

size_t cn_spdy_window_update(uint8_t buf[16], uint32_t stream_id, uint32_t delta)
{
    control_header(buf, CN_SPDY_WINDOW_UPDATE, 8);
    put32(buf + 8, stream_id & 0x7fffffff);
    put32(buf + 12, delta & 0x7fffffff);
    return 16;
}
