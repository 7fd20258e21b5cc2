/* wsconn: the server end of one WebSocket connection over a blocking
 * socket, for the agent's exec/attach and tunnelled port-forward sessions:
 * buffered reading of client frames (lib/websocket.h parses them) and
 * writing of unfragmented server messages. Not thread-safe; one session
 * thread owns it. */
#ifndef CN_AGENT_WSCONN_H
#define CN_AGENT_WSCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/websocket.h"

typedef struct cn_wsconn {
    int fd;
    uint8_t *buf;              /* received, not yet parsed from off */
    size_t len, off, cap;
    size_t max_payload;       /* of a frame, and of a reassembled message */
    uint8_t *msg;             /* a fragmented message being reassembled */
    size_t msglen;
    int msg_op;               /* its opcode; 0: none under way */
} cn_wsconn;

/* extra: bytes that came with the upgrade request (parsed first). */
void cn_wsconn_init(cn_wsconn *c, int fd, const char *extra, size_t nextra);
void cn_wsconn_release(cn_wsconn *c);
/* Reads what the socket has (call when poll says readable): > 0, 0 at EOF,
 * < 0 error. */
ssize_t cn_wsconn_fill(cn_wsconn *c);
/* Next buffered message: 1 with *f (valid until the next call), 0 none,
 * < 0 protocol error. Fragmented messages come back whole (fin set, the
 * first frame's opcode); pings are answered here and not returned. */
int cn_wsconn_next(cn_wsconn *c, cn_ws_frame *f);
/* One message: prefix (may be NULL/0, e.g. a channel byte) then data. */
int cn_wsconn_send(cn_wsconn *c, int opcode, const void *prefix, size_t nprefix,
                   const void *data, size_t len);
/* Raw bytes a then b on a blocking socket (SPDY frames). 0 or -EIO. */
int cn_wsconn_send_raw(int fd, const void *a, size_t na, const void *b, size_t nb);
/* A close frame with a status code (1000 normal). */
void cn_wsconn_close(cn_wsconn *c, int code);

/* The 101 handshake headers for a request: *accept gets the key's answer.
 * -EINVAL when the request is not a WebSocket upgrade. */
int cn_wsconn_accept(const char *upgrade, const char *key, const char *version,
                     char accept[29]);

#endif
