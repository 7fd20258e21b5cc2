/* websocket: RFC 6455 framing for the server side of kubectl's streams
 * (exec/attach over v5.channel.k8s.io and v4..., port-forward over
 * SPDY/3.1+portforward.k8s.io tunnelled in binary messages).
 *
 * Pure functions on byte buffers, no I/O: the caller reads from its socket
 * into a buffer and asks cn_ws_parse for the next frame, and writes what
 * cn_ws_frame produces. Client frames must be masked (a protocol error
 * otherwise); server frames are never masked. Frames larger than max_payload
 * are refused, so a hostile peer cannot make us allocate. */
#ifndef CN_WEBSOCKET_H
#define CN_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
    CN_WS_CONT = 0x0, CN_WS_TEXT = 0x1, CN_WS_BINARY = 0x2,
    CN_WS_CLOSE = 0x8, CN_WS_PING = 0x9, CN_WS_PONG = 0xA,
};

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA1(key + GUID)).
 * out gets 28 chars + NUL. -EINVAL when key is not 24 base64 chars. */
int cn_ws_accept_key(const char *key, char out[29]);

/* Pick the first protocol of ours that the client's comma-separated
 * Sec-WebSocket-Protocol offers (ours in our order of preference).
 * Returns the matching entry of ours, or NULL. */
const char *cn_ws_pick_protocol(const char *offered, const char *const *ours, size_t nours);

typedef struct cn_ws_frame {
    bool fin;
    int opcode;
    const uint8_t *payload;   /* unmasked in place inside the caller's buffer */
    size_t len;
} cn_ws_frame;

/* Parse one frame from buf[0..len). Returns bytes consumed (> 0) with *f
 * filled (payload unmasked in buf), 0 when more bytes are needed, or
 * -EPROTO (bad frame: unmasked, reserved bits, bad opcode, control frame
 * fragmented or > 125 bytes) / -EMSGSIZE (payload > max_payload). */
ssize_t cn_ws_parse(uint8_t *buf, size_t len, size_t max_payload, cn_ws_frame *f);

/* Header for a server frame (unmasked) of payload len: writes 2..10 bytes
 * into hdr, returns how many. The payload follows as is. */
size_t cn_ws_header(uint8_t hdr[10], bool fin, int opcode, uint64_t len);

#endif
