/* http: the HTTPS/1.1 server under the API (libmicrohttpd + GnuTLS).
 *
 * One thread per connection: a handler may block (on a store commit, or a
 * watch stream waiting for events) without stalling other clients. The
 * number of connections is bounded and idle connections time out. Request
 * bodies larger than max_body are refused with 413 and a Status body before
 * the handler runs. Client certificates are requested and verified against
 * client_ca_pem; the handler sees the verified CN and O values.
 *
 * The handler is called once per request with the whole body read and must
 * call exactly one cn_http_respond* function before returning. Request
 * strings stay valid until the handler returns (for streams: until the
 * stream's free function runs). */
#ifndef CN_HTTP_H
#define CN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "lib/err.h"

typedef struct cn_http_server cn_http_server;
typedef struct cn_http_req cn_http_req;

typedef void (*cn_http_handler)(cn_http_req *req, void *ud);

typedef struct cn_http_config {
    const char *listen;          /* "HOST:PORT"; port 0 picks a free one */
    bool plain;                  /* plain HTTP (tests of the transport only) */
    const char *cert_pem;        /* serving certificate chain (PEM text) */
    const char *key_pem;         /* its private key (PEM text) */
    const char *client_ca_pem;   /* verify client certs against this; NULL: none */
    unsigned max_connections;    /* 0 = 1024 */
    unsigned idle_timeout_s;     /* 0 = 120: an idle keep-alive closes after this */
    size_t max_body;             /* 0 = 3 MiB */
    cn_http_handler handler;
    void *ud;
} cn_http_config;

int cn_http_start(const cn_http_config *cfg, cn_http_server **out, cn_err *err);
void cn_http_stop(cn_http_server *s);        /* closes every connection, frees s */
int cn_http_port(const cn_http_server *s);   /* the bound port */

const char *cn_http_method(const cn_http_req *r);
const char *cn_http_path(const cn_http_req *r);        /* percent-decoded, no query */
/* First value of a query parameter (decoded), or NULL. */
const char *cn_http_query(const cn_http_req *r, const char *name);
/* All values of a repeated query parameter, up to max; returns the count. */
size_t cn_http_query_all(const cn_http_req *r, const char *name, const char **out, size_t max);
const char *cn_http_header(const cn_http_req *r, const char *name);  /* case-insensitive */
/* All values of a repeated request header, up to max; returns the count. */
size_t cn_http_header_all(const cn_http_req *r, const char *name, const char **out, size_t max);
const char *cn_http_body(const cn_http_req *r, size_t *len);         /* never NULL */
/* The verified client certificate's subject; false if none was presented. */
bool cn_http_client_cert(const cn_http_req *r, const char **cn,
                         const char *const **orgs, size_t *norgs);
const char *cn_http_remote(const cn_http_req *r);   /* "ip:port" */

void cn_http_add_header(cn_http_req *r, const char *name, const char *value);
/* body is copied. */
void cn_http_respond(cn_http_req *r, int status, const char *content_type,
                     const char *body, size_t len);

/* A streamed (chunked) response. fn is called on the connection's thread to
 * fill buf: it returns > 0 bytes written, or -1 to end the stream; it may
 * block, and should return within ~1 s to let cn_http_stream_peer_closed be
 * checked (return 0 only after such a timeout: the server then checks the
 * peer and calls again). free_fn(ud) runs when the stream is over. */
typedef ssize_t (*cn_http_stream_fn)(void *ud, char *buf, size_t max);
void cn_http_respond_stream(cn_http_req *r, int status, const char *content_type,
                            cn_http_stream_fn fn, void (*free_fn)(void *), void *ud);

/* A protocol upgrade (WebSocket, SPDY): answers 101 Switching Protocols
 * with the headers added by cn_http_add_header (the caller adds Upgrade and
 * the protocol's own headers; Connection: Upgrade is added here), then runs
 * fn(ud, fd, extra, nextra) on a thread of its own. fd is a plaintext,
 * blocking socket (for HTTPS the server does TLS on the other end of it);
 * extra holds bytes the client sent after its headers (usually none). The
 * connection closes when fn returns, and free_fn(ud) runs after it; fn must
 * not close fd. Stopping the server shuts fd down (fn then sees EOF) and
 * waits for fn to return. Not for in-process requests (they get 400). */
typedef void (*cn_http_upgrade_fn)(void *ud, int fd, const char *extra, size_t nextra);
void cn_http_respond_upgrade(cn_http_req *r, cn_http_upgrade_fn fn, void (*free_fn)(void *),
                             void *ud);

/* ---- in-process requests ----
 * A request with no connection, for clients inside the server process
 * (client/client.h's local transport): the caller builds it, calls the
 * server's handler with it directly, and reads the answer back. Every
 * accessor above works on it; the identity set here is what
 * cn_http_client_cert reports (as if verified). A streamed answer is
 * pulled by the caller with cn_http_local_read. Not thread-safe: one
 * request, one thread. */
cn_http_req *cn_http_local_new(const char *method, const char *path_and_query,
                               const char *body, size_t len);
void cn_http_local_set_header(cn_http_req *r, const char *name, const char *value);
void cn_http_local_set_identity(cn_http_req *r, const char *cn, const char *const *orgs);
int cn_http_local_status(const cn_http_req *r);             /* 0: no answer */
const char *cn_http_local_body(const cn_http_req *r, size_t *len);
const char *cn_http_local_response_header(const cn_http_req *r, const char *name);
bool cn_http_local_is_stream(const cn_http_req *r);
/* Next bytes of a streamed answer: > 0 bytes, 0 none yet (the producer
 * waited its ~1 s), -1 the stream is over. */
ssize_t cn_http_local_read(cn_http_req *r, char *buf, size_t max);
void cn_http_local_free(cn_http_req *r);   /* ends a stream too */

#endif
