/* tlsconn: TLS client connections on OpenSSL (see tlsconn.h).
 *
 * SSL_MODE_AUTO_RETRY is off: a TLS 1.3 session ticket makes the socket
 * readable without application data, and with auto-retry SSL_read would
 * then block instead of reporting "nothing yet". */
#include "lib/tlsconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SPLICE_BLOCK 16384

struct cn_tlsconn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

void cn_tls_close(cn_tlsconn *c)
{
    if (!c) return;
    if (c->ssl) SSL_free(c->ssl);
    if (c->ctx) SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
    free(c);
}

/* A non-blocking connect bounded by timeout_ms; the socket ends blocking. */
static int dial_tcp(const char *host, int port, int timeout_ms, int *out, cn_err *err)
{
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, ports, &hints, &ai);
    if (g != 0 || !ai)
        return cn_err_internal(err, "dial tcp %s:%d: %s", host, port, gai_strerror(g)), -EHOSTUNREACH;
    int r = -ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            r = -errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            r = -errno;
            close(fd);
            continue;
        }
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n = poll(&p, 1, timeout_ms);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (n <= 0) soerr = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
        if (soerr) {
            r = -soerr;
            close(fd);
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        *out = fd;
        freeaddrinfo(ai);
        return 0;
    }
    freeaddrinfo(ai);
    return cn_err_internal(err, "dial tcp %s:%d: %s", host, port, strerror(-r)), r;
}

static int load_identity(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
    int ok = 0;
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    if (x && k && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1)
        ok = 1;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return ok ? 0 : -EINVAL;
}

int cn_tls_dial(const char *host, int port, const char *cert_pem, const char *key_pem,
                int timeout_ms, cn_tlsconn **out, cn_err *err)
{
    cn_tlsconn *c = cn_calloc(1, sizeof *c);
    c->fd = -1;
    int r = dial_tcp(host, port, timeout_ms, &c->fd, err);
    if (r < 0) goto fail;
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        r = cn_err_internal(err, "tls: cannot create a context");
        goto fail;
    }
    SSL_CTX_clear_mode(c->ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    if (cert_pem && key_pem && load_identity(c->ctx, cert_pem, key_pem) < 0) {
        r = cn_err_internal(err, "tls: bad client certificate or key");
        goto fail;
    }
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        r = cn_err_internal(err, "tls: cannot create a session");
        goto fail;
    }
    SSL_set_tlsext_host_name(c->ssl, host);
    /* The handshake is bounded like the connect. */
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (SSL_connect(c->ssl) != 1) {
        unsigned long e = ERR_get_error();
        char msg[256];
        ERR_error_string_n(e, msg, sizeof msg);
        ERR_clear_error();
        r = cn_err_internal(err, "remote error: tls handshake with %s:%d failed: %s", host, port,
                            e ? msg : "connection closed");
        r = -ECONNABORTED;
        goto fail;
    }
    struct timeval zero = { 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof zero);
    *out = c;
    return 0;
fail:
    cn_tls_close(c);
    return r < 0 ? r : -EIO;
}

int cn_tls_write_all(cn_tlsconn *c, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        int n = SSL_write(c->ssl, p, len > (size_t)1 << 30 ? 1 << 30 : (int)len);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
            ERR_clear_error();
            return -EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t cn_tls_read(cn_tlsconn *c, void *buf, size_t max, int timeout_ms)
{
    if (max > (size_t)1 << 30) max = (size_t)1 << 30;
    if (SSL_pending(c->ssl) == 0) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int n = poll(&p, 1, timeout_ms);
        if (n == 0) return -EAGAIN;
        if (n < 0) return errno == EINTR ? -EAGAIN : -EIO;
    }
    int n = SSL_read(c->ssl, buf, (int)max);
    if (n > 0) return n;
    int e = SSL_get_error(c->ssl, n);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return -EAGAIN;
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    /* A peer closing without close_notify is an end too. */
    return e == SSL_ERROR_SYSCALL ? 0 : -EIO;
}

int cn_tls_read_head(cn_tlsconn *c, cn_buf *head, cn_buf *rest, size_t max, int timeout_ms)
{
    char buf[4096];
    int64_t end = cn_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - cn_now_ms();
        if (left <= 0) return -ETIMEDOUT;
        ssize_t n = cn_tls_read(c, buf, sizeof buf, (int)left);
        if (n == -EAGAIN) continue;
        if (n <= 0) return -EIO;
        size_t old = head->len;
        cn_buf_add(head, buf, (size_t)n);
        /* Look for the blank line, starting a little before the new bytes. */
        size_t from = old > 3 ? old - 3 : 0;
        char *eoh = NULL;
        for (size_t i = from; i + 4 <= head->len; i++) {
            if (!memcmp(head->data + i, "\r\n\r\n", 4)) {
                eoh = head->data + i + 4;
                break;
            }
        }
        if (eoh) {
            size_t hl = (size_t)(eoh - head->data);
            cn_buf_add(rest, eoh, head->len - hl);
            head->len = hl;
            head->data[hl] = '\0';
            return 0;
        }
        if (head->len > max) return -E2BIG;
    }
}

static int write_fd_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void cn_tls_splice(cn_tlsconn *c, int fd)
{
    char *buf = cn_malloc(SPLICE_BLOCK);
    for (;;) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };
        int timeout = SSL_pending(c->ssl) > 0 ? 0 : 1000;
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) break;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = recv(fd, buf, SPLICE_BLOCK, 0);
            if (got <= 0) break;
            if (cn_tls_write_all(c, buf, (size_t)got) < 0) break;
        }
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) || SSL_pending(c->ssl) > 0) {
            ssize_t got = cn_tls_read(c, buf, SPLICE_BLOCK, 0);
            if (got == 0 || got == -EIO) break;
            if (got > 0 && write_fd_all(fd, buf, (size_t)got) < 0) break;
        }
    }
    free(buf);
}
