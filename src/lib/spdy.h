/* spdy: SPDY/3.1 framing, the server side of what kubectl speaks for
 * port-forward (and exec/attach when WebSockets are refused): streams are
 * opened by the client with SYN_STREAM (headers such as "streamtype",
 * "port", "requestid"), answered with SYN_REPLY, carry DATA frames, end
 * with FIN or RST_STREAM; PING is echoed; GOAWAY ends the session. Header
 * blocks are zlib-compressed with SPDY/3's dictionary, one zlib stream per
 * direction for the whole session (so cn_spdy holds the two z_streams).
 *
 * Pure over buffers like websocket.h: feed bytes, get frames; build frames
 * into a caller buffer. Bounded: frames over max_frame and header blocks
 * over 64 KiB decompressed are refused. */
#ifndef CN_SPDY_H
#define CN_SPDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct cn_spdy cn_spdy;   /* one session's zlib state */

enum {
    CN_SPDY_DATA = 0, CN_SPDY_SYN_STREAM = 1, CN_SPDY_SYN_REPLY = 2, CN_SPDY_RST_STREAM = 3,
    CN_SPDY_SETTINGS = 4, CN_SPDY_PING = 6, CN_SPDY_GOAWAY = 7, CN_SPDY_HEADERS = 8,
    CN_SPDY_WINDOW_UPDATE = 9,
};
#define CN_SPDY_FLAG_FIN 0x01

typedef struct cn_spdy_header { char *name, *value; } cn_spdy_header;

typedef struct cn_spdy_frame {
    int type;                  /* CN_SPDY_*; DATA for data frames */
    int flags;
    uint32_t stream_id;        /* DATA, SYN_*, RST, HEADERS, WINDOW_UPDATE */
    uint32_t assoc_id;         /* SYN_STREAM */
    uint32_t status;           /* RST_STREAM, GOAWAY */
    uint32_t ping_id;          /* PING */
    uint32_t delta;            /* WINDOW_UPDATE */
    const uint8_t *data; size_t len;       /* DATA payload (inside the caller's buffer) */
    cn_spdy_header *headers; size_t nheaders;   /* SYN_*, HEADERS: owned by the frame */
} cn_spdy_frame;

cn_spdy *cn_spdy_new(void);
void cn_spdy_free(cn_spdy *s);

/* Parse one frame: > 0 bytes consumed with *f filled (release with
 * cn_spdy_frame_release), 0 need more, -EPROTO malformed/unsupported version,
 * -EMSGSIZE over max_frame (a frame's length field counts its payload), a
 * header block over 64 KiB inflated or over 256 headers. Unknown control
 * types come back with their type and no fields, to be ignored. After any
 * error the session's zlib state is undefined: end the session (GOAWAY). */
ssize_t cn_spdy_parse(cn_spdy *s, const uint8_t *buf, size_t len, size_t max_frame, cn_spdy_frame *f);
void cn_spdy_frame_release(cn_spdy_frame *f);
/* The value of header name in a SYN_STREAM, SYN_REPLY or HEADERS frame, or NULL. */
const char *cn_spdy_header_get(const cn_spdy_frame *f, const char *name);

/* Build frames into out (malloc'd, *outlen bytes). 0, -EMSGSIZE (over 256
 * headers or 64 KiB uncompressed) or -EIO (zlib failed). The header blocks
 * of a session are one deflate stream: every frame built here must be sent,
 * in the order built, or the peer cannot inflate the next one. */
int cn_spdy_syn_reply(cn_spdy *s, uint32_t stream_id, bool fin, const cn_spdy_header *h, size_t nh,
                      uint8_t **out, size_t *outlen);
int cn_spdy_syn_stream(cn_spdy *s, uint32_t stream_id, bool fin, const cn_spdy_header *h, size_t nh,
                       uint8_t **out, size_t *outlen);   /* for tests acting as the client */
/* Fixed-size frames: write into buf, return its length. len of a DATA
 * frame must fit 24 bits (callers chunk their writes). */
size_t cn_spdy_data_header(uint8_t buf[8], uint32_t stream_id, bool fin, uint32_t len);
size_t cn_spdy_rst_stream(uint8_t buf[16], uint32_t stream_id, uint32_t status);
size_t cn_spdy_ping(uint8_t buf[12], uint32_t id);
size_t cn_spdy_goaway(uint8_t buf[16], uint32_t last_good, uint32_t status);
size_t cn_spdy_window_update(uint8_t buf[16], uint32_t stream_id, uint32_t delta);

#endif
