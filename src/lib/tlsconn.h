/* tlsconn: a TLS client connection (OpenSSL) for the API server's calls to
 * node agents: pods/log, exec, attach and port-forward are forwarded to the
 * agent's HTTPS endpoint, presenting a client certificate. The agent's
 * serving certificate is self-signed and, as upstream, not verified.
 *
 * Blocking I/O from one thread at a time; reads take a timeout so that a
 * caller can look at other things (a closed peer, a stopping server). */
#ifndef CN_TLSCONN_H
#define CN_TLSCONN_H

#include <stddef.h>
#include <sys/types.h>
#include "lib/err.h"
#include "lib/util.h"

typedef struct cn_tlsconn cn_tlsconn;

/* Connect to host:port (IP literal or name) within timeout_ms and do the
 * handshake with cert_pem/key_pem as the client identity (both NULL: none).
 * Errors say what failed ("dial tcp 10.0.0.1:10250: connection refused"). */
int cn_tls_dial(const char *host, int port, const char *cert_pem, const char *key_pem,
                int timeout_ms, cn_tlsconn **out, cn_err *err);
void cn_tls_close(cn_tlsconn *c);

/* 0 or -EIO (peer gone). */
int cn_tls_write_all(cn_tlsconn *c, const void *buf, size_t len);
/* > 0 bytes, 0 at EOF, -EAGAIN when nothing came within timeout_ms, -EIO. */
ssize_t cn_tls_read(cn_tlsconn *c, void *buf, size_t max, int timeout_ms);

/* Read an HTTP response head (through the blank line) of at most max bytes
 * within timeout_ms: head gets it (NUL-terminated), rest whatever followed. */
int cn_tls_read_head(cn_tlsconn *c, cn_buf *head, cn_buf *rest, size_t max, int timeout_ms);

/* Copy bytes both ways between c and the plain socket fd until either side
 * closes or fails. */
void cn_tls_splice(cn_tlsconn *c, int fd);

#endif
