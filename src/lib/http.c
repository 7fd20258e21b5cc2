/* http: the HTTPS/1.1 server under the API, on libmicrohttpd + GnuTLS.
 *
 * MHD runs one thread per connection, so a handler may block. What this file
 * adds on top of MHD: listen-address parsing, the body limit (413 before the
 * handler runs), the client certificate subject (verified once per
 * connection and cached on it), and chunked streams whose producer may block
 * while the peer is watched for a hang-up.
 *
 * Lifetimes: a conn (one TCP/TLS connection) lives from MHD's STARTED to its
 * CLOSED notification; a req lives from the first access-handler call to
 * request completion, or longer when a stream response still holds it. Both
 * are reference-counted because MHD does not order "request completed",
 * "response destroyed" and "connection closed" the same way on every path.
 *
 * Protocol upgrades (101, for exec/attach/port-forward over WebSocket or
 * SPDY) hand the application a socket of its own, served on a thread this
 * file starts; the server counts them so that stopping can end them first
 * (MHD must not be stopped under an upgraded connection). */
#define _GNU_SOURCE   /* POLLRDHUP */
#include "lib/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"

#define DEFAULT_MAX_CONN 1024u
#define DEFAULT_IDLE_S 120u
#define DEFAULT_MAX_BODY ((size_t)3 << 20)
#define MAX_ORGS 64              /* O values kept from one certificate */
#define MAX_DN_VALUE 1024        /* bytes of one CN/O value */
#define STREAM_BLOCK 4096        /* small: every event leaves promptly */
#define CONN_MEMORY (32 * 1024)  /* MHD per-connection pool: bounds headers */
/* Watches park a thread each; their stacks are reserved, not resident. The
 * sanitizers need far more stack per frame. */
#if defined(__SANITIZE_ADDRESS__)
#define THREAD_STACK ((size_t)4 << 20)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define THREAD_STACK ((size_t)4 << 20)
#endif
#endif
#ifndef THREAD_STACK
#define THREAD_STACK ((size_t)512 << 10)
#endif

struct cn_http_server {
    struct MHD_Daemon *d;
    cn_http_handler handler;
    void *ud;
    size_t max_body;
    unsigned idle_timeout_s;
    bool tls;
    atomic_bool stopping;
    int port;
    char *cert, *key, *ca;   /* kept alive for MHD's lifetime */
    pthread_mutex_t up_lock; /* guards ups and nups */
    pthread_cond_t up_cond;  /* signalled when an upgrade ends */
    struct upgrade *ups;     /* running upgrades (list) */
    size_t nups;
};

/* One upgraded connection, from the 101 to fn's return. */
typedef struct upgrade {
    cn_http_server *srv;
    cn_http_upgrade_fn fn;
    void (*free_fn)(void *);
    void *ud;
    int fd;
    char *extra;
    size_t nextra;
    struct MHD_UpgradeResponseHandle *urh;
    struct upgrade *next;
} upgrade;

typedef struct conn {
    atomic_int refs;
    bool cert_checked;       /* the peer certificate is read once */
    bool has_cert;
    char *cn;
    char **orgs;
    size_t norgs;
    char remote[64];
} conn;

typedef struct header {
    char *name, *value;
} header;

struct cn_http_req {
    atomic_int refs;
    cn_http_server *srv;
    struct MHD_Connection *mc;
    conn *c;
    char *method;
    char *path;
    cn_buf body;
    size_t discarded;        /* bytes dropped after the body went over max */
    bool too_large;
    bool handled;            /* the handler has run */
    bool responded;
    header *hdrs;
    size_t nhdrs;
    struct local *local;     /* in-process request: no MHD connection */
};

typedef struct stream {
    cn_http_req *req;
    cn_http_stream_fn fn;
    void (*free_fn)(void *);
    void *ud;
    int fd;
} stream;

/* ---- lifetimes ---- */

static void conn_unref(conn *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    free(c->cn);
    for (size_t i = 0; i < c->norgs; i++) free(c->orgs[i]);
    free(c->orgs);
    free(c);
}

static void req_unref(cn_http_req *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    conn_unref(r->c);
    free(r->method);
    free(r->path);
    cn_buf_release(&r->body);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free(r);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (!sa) {
        snprintf(out, n, "?");
        return;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, n, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, n, "[%s]:%u", ip, port);
    } else {
        snprintf(out, n, "?");
    }
}

static void notify_conn(void *cls, struct MHD_Connection *mc, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *c = cn_calloc(1, sizeof *c);
        atomic_init(&c->refs, 1);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        format_addr(ci ? ci->client_addr : NULL, c->remote, sizeof c->remote);
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_unref(*socket_context);
        *socket_context = NULL;
    }
}

static void notify_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mc;
    (void)toe;
    req_unref(*con_cls);
    *con_cls = NULL;
}

/* ---- client certificate ---- */

/* Value idx of attribute oid in the subject, or NULL. Read raw (DER) and
 * unwrapped here: the printable form escapes ',', '+' and '=', and group
 * names may contain them. */
static char *dn_value(gnutls_x509_crt_t crt, const char *oid, unsigned idx)
{
    unsigned char der[MAX_DN_VALUE + 8];
    size_t size = sizeof der;
    if (gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 1, der, &size) < 0) return NULL;
    if (size < 2 || size > sizeof der) return NULL;
    /* UTF8String, PrintableString, T61String, IA5String. */
    unsigned tag = der[0];
    if (tag != 12 && tag != 19 && tag != 20 && tag != 22) return NULL;
    size_t len, off;
    if (der[1] < 0x80) {
        len = der[1];
        off = 2;
    } else if (der[1] == 0x81 && size >= 3) {
        len = der[2];
        off = 3;
    } else if (der[1] == 0x82 && size >= 4) {
        len = (size_t)der[2] << 8 | der[3];
        off = 4;
    } else {
        return NULL;
    }
    if (off + len != size || memchr(der + off, 0, len)) return NULL;
    return cn_strndup((const char *)der + off, len);
}

static void read_subject(conn *c, gnutls_x509_crt_t crt)
{
    c->cn = dn_value(crt, GNUTLS_OID_X520_COMMON_NAME, 0);
    for (unsigned i = 0; i < MAX_ORGS; i++) {
        char *o = dn_value(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i);
        if (!o) break;
        c->orgs = cn_realloc(c->orgs, (c->norgs + 1) * sizeof *c->orgs);
        c->orgs[c->norgs++] = o;
    }
}

static void read_peer_cert(conn *c, struct MHD_Connection *mc)
{
    c->cert_checked = true;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session) return;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned int ncerts = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &ncerts);
    if (!certs || ncerts == 0) return;
    /* Unverifiable certificates count as none: authn then falls back to a
     * token or to anonymous, which authz refuses. */
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0) {
        cn_debug("http: client %s presented an unverifiable certificate (status 0x%x)",
                 c->remote, status);
        return;
    }
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0) {
        read_subject(c, crt);
        c->has_cert = true;
    }
    gnutls_x509_crt_deinit(crt);
}

/* ---- responses ---- */

static void add_headers(cn_http_req *r, struct MHD_Response *resp, const char *content_type)
{
    if (content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < r->nhdrs; i++)
        if (MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value) != MHD_YES)
            cn_debug("http: ignoring response header \"%s\"", r->hdrs[i].name);
}

static void queue(cn_http_req *r, int status, struct MHD_Response *resp)
{
    if (MHD_queue_response(r->mc, (unsigned)status, resp) != MHD_YES)
        cn_debug("http: queueing a %d response failed", status);
    MHD_destroy_response(resp);
}

void cn_http_add_header(cn_http_req *r, const char *name, const char *value)
{
    if (!r || !name || !value || r->responded) return;
    r->hdrs = cn_realloc(r->hdrs, (r->nhdrs + 1) * sizeof *r->hdrs);
    r->hdrs[r->nhdrs].name = cn_strdup(name);
    r->hdrs[r->nhdrs].value = cn_strdup(value);
    r->nhdrs++;
}

static void local_respond(cn_http_req *r, int status, const char *content_type,
                          const char *body, size_t len);
static void local_respond_stream(cn_http_req *r, int status, const char *content_type,
                                 cn_http_stream_fn fn, void (*free_fn)(void *), void *ud);

void cn_http_respond(cn_http_req *r, int status, const char *content_type,
                     const char *body, size_t len)
{
    if (!r || r->responded) return;
    r->responded = true;
    if (r->local) return local_respond(r, status, content_type, body, len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!resp) return;
    add_headers(r, resp, content_type);
    queue(r, status, resp);
}

static bool peer_gone(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    if (fd < 0) return true;
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* The idle timeout again once a stream is over (the connection may be
 * kept alive for more requests). */
static ssize_t stream_end(stream *st, ssize_t how)
{
    MHD_set_connection_option(st->req->mc, MHD_CONNECTION_OPTION_TIMEOUT,
                              st->req->srv->idle_timeout_s);
    return how;
}

/* Never returns 0: in thread-per-connection mode MHD would call again at
 * once and spin. The producer's own ~1 s timeout paces this loop. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    for (;;) {
        if (atomic_load(&st->req->srv->stopping))
            return stream_end(st, MHD_CONTENT_READER_END_WITH_ERROR);
        ssize_t n = st->fn(st->ud, buf, max);
        if (n > 0) return n;
        if (n < 0) return stream_end(st, MHD_CONTENT_READER_END_OF_STREAM);
        if (peer_gone(st->fd)) return stream_end(st, MHD_CONTENT_READER_END_WITH_ERROR);
    }
}

static void stream_free(void *cls)
{
    stream *st = cls;
    if (st->free_fn) st->free_fn(st->ud);
    req_unref(st->req);
    free(st);
}

void cn_http_respond_stream(cn_http_req *r, int status, const char *content_type,
                            cn_http_stream_fn fn, void (*free_fn)(void *), void *ud)
{
    if (!r || r->responded) {
        if (free_fn) free_fn(ud);
        return;
    }
    r->responded = true;
    if (r->local) return local_respond_stream(r, status, content_type, fn, free_fn, ud);
    stream *st = cn_calloc(1, sizeof *st);
    st->req = r;
    st->fn = fn;
    st->free_fn = free_fn;
    st->ud = ud;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    /* A quiet stream (a watch, logs -f) is not idle: the producer blocks
     * inside the callback and the peer is watched there, so MHD's timeout,
     * which would count that time, is off while the stream lasts. */
    MHD_set_connection_option(r->mc, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    atomic_fetch_add(&r->refs, 1);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return;
    }
    add_headers(r, resp, content_type);
    queue(r, status, resp);
}

static void upgrade_unlink(upgrade *u)
{
    cn_http_server *srv = u->srv;
    pthread_mutex_lock(&srv->up_lock);
    for (upgrade **pp = &srv->ups; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            srv->nups--;
            break;
        }
    }
    pthread_cond_broadcast(&srv->up_cond);
    pthread_mutex_unlock(&srv->up_lock);
}

static void upgrade_free(upgrade *u)
{
    if (u->free_fn) u->free_fn(u->ud);
    free(u->extra);
    free(u);
}

/* MHD carries what the application wrote through a socket pair to the
 * TLS connection; closing before it has read all of it would cut the tail
 * of the stream (seen as a truncated `kubectl cp`). Wait, bounded, until
 * the pair's queue is empty. */
static void drain_upgraded(int fd)
{
    for (int i = 0; i < 500; i++) {
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued <= 0) return;
        usleep(10000);
    }
}

static void *upgrade_main(void *arg)
{
    upgrade *u = arg;
    u->fn(u->ud, u->fd, u->extra ? u->extra : "", u->nextra);
    drain_upgraded(u->fd);
    MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
    /* free_fn before the unlink: once the last upgrade is unlinked,
     * cn_http_stop returns and the owner may free what ud refers to. */
    if (u->free_fn) u->free_fn(u->ud);
    u->free_fn = NULL;
    upgrade_unlink(u);
    upgrade_free(u);
    return NULL;
}

/* Called by MHD on the connection's thread once the 101 is sent. MHD keeps
 * that thread for the TLS relay, so fn runs on a thread of ours. */
static void on_upgraded(void *cls, struct MHD_Connection *mc, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
    (void)mc;
    (void)req_cls;
    upgrade *u = cls;
    u->fd = sock;
    u->urh = urh;
    if (extra_in_size) {
        u->extra = cn_malloc(extra_in_size);
        memcpy(u->extra, extra_in, extra_in_size);
        u->nextra = extra_in_size;
    }
    int fl = fcntl(sock, F_GETFL);
    if (fl >= 0) fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
    cn_http_server *srv = u->srv;
    pthread_mutex_lock(&srv->up_lock);
    bool stopping = atomic_load(&srv->stopping);
    if (!stopping) {
        u->next = srv->ups;
        srv->ups = u;
        srv->nups++;
    }
    pthread_mutex_unlock(&srv->up_lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    if (stopping || pthread_create(&t, &attr, upgrade_main, u) != 0) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        if (!stopping) upgrade_unlink(u);
        upgrade_free(u);
    }
    pthread_attr_destroy(&attr);
}

static void respond_err(cn_http_req *r, const cn_err *e);

void cn_http_respond_upgrade(cn_http_req *r, cn_http_upgrade_fn fn, void (*free_fn)(void *),
                             void *ud)
{
    if (!r || r->responded || r->local) {
        if (free_fn) free_fn(ud);
        if (r && r->local && !r->responded) {
            cn_err e = CN_ERR_INIT;
            cn_err_bad_request(&e, "protocol upgrades are not available in-process");
            respond_err(r, &e);
            cn_err_clear(&e);
        }
        return;
    }
    r->responded = true;
    upgrade *u = cn_calloc(1, sizeof *u);
    u->srv = r->srv;
    u->fn = fn;
    u->free_fn = free_fn;
    u->ud = ud;
    u->fd = -1;
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, u);
    if (!resp) {
        upgrade_free(u);
        return;
    }
    add_headers(r, resp, NULL);
    /* MHD calls on_upgraded only if the 101 goes out; otherwise u leaks
     * with its ud, which is bounded by failed queueings (none expected). */
    queue(r, 101, resp);
}

static void respond_err(cn_http_req *r, const cn_err *e)
{
    json_t *st = cn_err_status(e);
    char *s = st ? json_dumps(st, JSON_COMPACT) : NULL;
    json_decref(st);
    cn_http_respond(r, e->code, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
}

static void respond_too_large(cn_http_req *r)
{
    cn_err e = CN_ERR_INIT;
    cn_err_set(&e, 413, "RequestEntityTooLarge",
               "the request body exceeds the limit of %zu bytes", r->srv->max_body);
    respond_err(r, &e);
    cn_err_clear(&e);
}

/* ---- the access handler ---- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    cn_http_server *srv = cls;
    cn_http_req *r = *con_cls;
    if (!r) {
        r = cn_calloc(1, sizeof *r);
        atomic_init(&r->refs, 1);
        r->srv = srv;
        r->mc = mc;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->c = ci ? ci->socket_context : NULL;
        if (r->c) atomic_fetch_add(&r->c->refs, 1);
        r->method = cn_strdup(method ? method : "");
        r->path = cn_strdup(url ? url : "/");
        cn_buf_init(&r->body);
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && cn_parse_int64(cl, &n) == 0 && (n < 0 || (uint64_t)n > srv->max_body)) {
            /* Answer before reading the body; MHD then closes the connection
             * instead of draining it. */
            r->too_large = true;
            respond_too_large(r);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->responded) return MHD_YES;
        if (r->too_large || r->body.len + n > srv->max_body) {
            /* A chunked body outgrew the limit: drop it and answer 413 at the
             * end, but do not read forever. */
            r->too_large = true;
            r->discarded += n;
            if (r->discarded > 4 * srv->max_body) return MHD_NO;
            return MHD_YES;
        }
        cn_buf_add(&r->body, upload_data, n);
        return MHD_YES;
    }
    if (r->handled || r->responded) return MHD_YES;
    r->handled = true;
    if (r->too_large) {
        respond_too_large(r);
        return MHD_YES;
    }
    srv->handler(r, srv->ud);
    if (!r->responded) {
        cn_err e = CN_ERR_INIT;
        cn_err_internal(&e, "the handler sent no response");
        respond_err(r, &e);
        cn_err_clear(&e);
    }
    return MHD_YES;
}

/* ---- request accessors ---- */

static size_t local_query_all(const cn_http_req *r, const char *name, const char **out, size_t max);
static const char *local_header(const cn_http_req *r, const char *name);
static size_t local_header_all(const cn_http_req *r, const char *name, const char **out,
                               size_t max);
static bool local_client_cert(const cn_http_req *r, const char **cn,
                              const char *const **orgs, size_t *norgs);

const char *cn_http_method(const cn_http_req *r) { return r->method; }
const char *cn_http_path(const cn_http_req *r) { return r->path; }

typedef struct query_iter {
    const char *name;
    const char **out;
    size_t max, n;
    bool nocase;             /* header names */
} query_iter;

/* MHD compares argument names without case; Kubernetes' are case-sensitive. */
static enum MHD_Result query_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    query_iter *it = cls;
    if (!key || (it->nocase ? strcasecmp(key, it->name) : strcmp(key, it->name)) != 0)
        return MHD_YES;
    if (it->n < it->max) it->out[it->n] = value ? value : "";
    it->n++;
    return it->n < it->max ? MHD_YES : MHD_NO;
}

size_t cn_http_query_all(const cn_http_req *r, const char *name, const char **out, size_t max)
{
    if (!r || !name || max == 0) return 0;
    if (r->local) return local_query_all(r, name, out, max);
    query_iter it = { .name = name, .out = out, .max = max };
    MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, query_each, &it);
    return it.n < max ? it.n : max;
}

const char *cn_http_query(const cn_http_req *r, const char *name)
{
    const char *v = NULL;
    return cn_http_query_all(r, name, &v, 1) ? v : NULL;
}

const char *cn_http_header(const cn_http_req *r, const char *name)
{
    if (!r || !name) return NULL;
    if (r->local) return local_header(r, name);
    return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

size_t cn_http_header_all(const cn_http_req *r, const char *name, const char **out, size_t max)
{
    if (!r || !name || max == 0) return 0;
    if (r->local) return local_header_all(r, name, out, max);
    query_iter it = { .name = name, .out = out, .max = max, .nocase = true };
    MHD_get_connection_values(r->mc, MHD_HEADER_KIND, query_each, &it);
    return it.n < max ? it.n : max;
}

const char *cn_http_body(const cn_http_req *r, size_t *len)
{
    if (len) *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

bool cn_http_client_cert(const cn_http_req *r, const char **cn,
                         const char *const **orgs, size_t *norgs)
{
    if (r && r->local) return local_client_cert(r, cn, orgs, norgs);
    conn *c = r ? r->c : NULL;
    if (c && r->srv->tls && !c->cert_checked) read_peer_cert(c, r->mc);
    bool ok = c && c->has_cert;
    if (cn) *cn = ok ? c->cn : NULL;
    if (orgs) *orgs = ok ? (const char *const *)c->orgs : NULL;
    if (norgs) *norgs = ok ? c->norgs : 0;
    return ok;
}

const char *cn_http_remote(const cn_http_req *r)
{
    if (r && r->local) return "local";
    return r && r->c ? r->c->remote : "?";
}

/* ---- the server ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (CN_LOG_DEBUG < cn_log_threshold) return;
    char *msg = cn_vasprintf(fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    cn_debug("http: mhd: %s", msg);
    free(msg);
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv6+IPv4 addresses). */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
                        cn_err *err)
{
    const char *colon, *host_start = listen;
    size_t host_len;
    if (!listen || !*listen) return cn_err_bad_request(err, "http: empty listen address");
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return cn_err_bad_request(err, "http: bad listen address \"%s\"", listen);
        host_start = listen + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) return cn_err_bad_request(err, "http: listen address \"%s\" has no port", listen);
        host_len = (size_t)(colon - listen);
    }
    int64_t port;
    if (cn_parse_int64(colon + 1, &port) < 0 || port < 0 || port > 65535)
        return cn_err_bad_request(err, "http: bad port in listen address \"%s\"", listen);
    if (host_len >= 256) return cn_err_bad_request(err, "http: listen host too long");
    char host[256];
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    if (host_len == 0) snprintf(host, sizeof host, "::");

    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *v6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return 0;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g != 0 || !ai)
        return cn_err_bad_request(err, "http: cannot resolve listen host \"%s\": %s", host,
                                  gai_strerror(g));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (*v6) in6->sin6_port = htons((uint16_t)port);
    else in->sin_port = htons((uint16_t)port);
    return 0;
}

int cn_http_start(const cn_http_config *cfg, cn_http_server **out, cn_err *err)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    int r;
    if (!cfg || !cfg->handler || !out) return cn_err_internal(err, "http: bad configuration");
    if (!cfg->plain && (!cfg->cert_pem || !cfg->key_pem))
        return cn_err_internal(err, "http: TLS needs a certificate and a key");
    r = parse_listen(cfg->listen, &ss, &v6, err);
    if (r < 0) return r;

    cn_http_server *s = cn_calloc(1, sizeof *s);
    s->handler = cfg->handler;
    s->ud = cfg->ud;
    s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    s->idle_timeout_s = cfg->idle_timeout_s ? cfg->idle_timeout_s : DEFAULT_IDLE_S;
    s->tls = !cfg->plain;
    atomic_init(&s->stopping, false);
    pthread_mutex_init(&s->up_lock, NULL);
    pthread_cond_init(&s->up_cond, NULL);

    /* MHD_USE_POLL: per-connection threads must not use select(), which
     * fails for descriptors >= FD_SETSIZE (1,024 watches is enough). */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
    if (v6) flags |= MHD_USE_DUAL_STACK;
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
                                         cfg->max_connections ? cfg->max_connections
                                                              : DEFAULT_MAX_CONN, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
                                         cfg->idle_timeout_s ? cfg->idle_timeout_s
                                                             : DEFAULT_IDLE_S, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_STACK_SIZE, THREAD_STACK, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL };
    if (s->tls) {
        flags |= MHD_USE_TLS;
        s->cert = cn_strdup(cfg->cert_pem);
        s->key = cn_strdup(cfg->key_pem);
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->key };
        if (cfg->client_ca_pem) {
            s->ca = cn_strdup(cfg->client_ca_pem);
            opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, s->ca };
        }
    }
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    /* Callbacks go through the varargs: the option array carries no
     * function pointers. */
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_NOTIFY_COMPLETED, notify_completed, NULL,
                            MHD_OPTION_NOTIFY_CONNECTION, notify_conn, NULL,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_END);
    if (!s->d) {
        r = -EADDRINUSE;
        cn_err_internal(err, "http: cannot listen on \"%s\" (address in use, bad TLS "
                        "material or out of resources)", cfg->listen);
        cn_http_stop(s);
        return r;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    *out = s;
    return 0;
}

void cn_http_stop(cn_http_server *s)
{
    if (!s) return;
    /* Upgraded connections first: their sockets are shut down so that fn
     * sees EOF, and MHD is stopped only once every fn has returned. */
    pthread_mutex_lock(&s->up_lock);
    atomic_store(&s->stopping, true);
    while (s->nups) {
        for (upgrade *u = s->ups; u; u = u->next) shutdown(u->fd, SHUT_RDWR);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->up_cond, &s->up_lock, &ts);
    }
    pthread_mutex_unlock(&s->up_lock);
    if (s->d) MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->up_lock);
    pthread_cond_destroy(&s->up_cond);
    free(s->cert);
    free(s->key);
    free(s->ca);
    free(s);
}

int cn_http_port(const cn_http_server *s) { return s ? s->port : -1; }

/* ---- in-process requests ---- */

typedef struct local {
    header *in;              /* request headers */
    size_t nin;
    header *q;               /* decoded query parameters, in order */
    size_t nq;
    char *cn;
    char **orgs;
    size_t norgs;
    int status;
    char *ctype;
    cn_buf out;
    cn_http_stream_fn fn;    /* streamed answer */
    void (*free_fn)(void *);
    void *ud;
    bool ended;
} local;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decoding as MHD does it ('+' is a space only in the query). */
static char *pct_decode(const char *s, size_t n, bool plus)
{
    char *o = cn_malloc(n + 1), *p = o;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            *p++ = (char)(h * 16 + l);
            i += 2;
        } else if (plus && s[i] == '+') {
            *p++ = ' ';
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    return o;
}

cn_http_req *cn_http_local_new(const char *method, const char *path_and_query,
                               const char *body, size_t len)
{
    cn_http_req *r = cn_calloc(1, sizeof *r);
    atomic_init(&r->refs, 1);
    r->local = cn_calloc(1, sizeof *r->local);
    cn_buf_init(&r->local->out);
    r->method = cn_strdup(method ? method : "GET");
    const char *pq = path_and_query ? path_and_query : "/";
    const char *qm = strchr(pq, '?');
    r->path = pct_decode(pq, qm ? (size_t)(qm - pq) : strlen(pq), false);
    for (const char *p = qm ? qm + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n) {
            local *l = r->local;
            l->q = cn_realloc(l->q, (l->nq + 1) * sizeof *l->q);
            l->q[l->nq].name = pct_decode(p, eq ? (size_t)(eq - p) : n, true);
            l->q[l->nq].value = eq ? pct_decode(eq + 1, n - (size_t)(eq + 1 - p), true) : cn_strdup("");
            l->nq++;
        }
        p = amp ? amp + 1 : NULL;
    }
    cn_buf_init(&r->body);
    if (body && len) cn_buf_add(&r->body, body, len);
    return r;
}

void cn_http_local_set_header(cn_http_req *r, const char *name, const char *value)
{
    local *l = r->local;
    l->in = cn_realloc(l->in, (l->nin + 1) * sizeof *l->in);
    l->in[l->nin].name = cn_strdup(name);
    l->in[l->nin].value = cn_strdup(value);
    l->nin++;
}

void cn_http_local_set_identity(cn_http_req *r, const char *cn, const char *const *orgs)
{
    local *l = r->local;
    free(l->cn);
    l->cn = cn_strdup(cn);
    for (size_t i = 0; orgs && orgs[i]; i++) {
        l->orgs = cn_realloc(l->orgs, (l->norgs + 1) * sizeof *l->orgs);
        l->orgs[l->norgs++] = cn_strdup(orgs[i]);
    }
}

static size_t local_query_all(const cn_http_req *r, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->local->nq && n < max; i++)
        if (!strcmp(r->local->q[i].name, name)) out[n++] = r->local->q[i].value;
    return n;
}

static size_t local_header_all(const cn_http_req *r, const char *name, const char **out,
                               size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->local->nin && n < max; i++)
        if (!strcasecmp(r->local->in[i].name, name)) out[n++] = r->local->in[i].value;
    return n;
}

static const char *local_header(const cn_http_req *r, const char *name)
{
    for (size_t i = 0; i < r->local->nin; i++)
        if (!strcasecmp(r->local->in[i].name, name)) return r->local->in[i].value;
    return NULL;
}

static bool local_client_cert(const cn_http_req *r, const char **cn,
                              const char *const **orgs, size_t *norgs)
{
    const local *l = r->local;
    bool ok = l->cn != NULL;
    if (cn) *cn = l->cn;
    if (orgs) *orgs = ok ? (const char *const *)l->orgs : NULL;
    if (norgs) *norgs = ok ? l->norgs : 0;
    return ok;
}

static void local_respond(cn_http_req *r, int status, const char *content_type,
                          const char *body, size_t len)
{
    r->local->status = status;
    r->local->ctype = cn_strdup(content_type);
    cn_buf_add(&r->local->out, body ? body : "", len);
}

static void local_respond_stream(cn_http_req *r, int status, const char *content_type,
                                 cn_http_stream_fn fn, void (*free_fn)(void *), void *ud)
{
    r->local->status = status;
    r->local->ctype = cn_strdup(content_type);
    r->local->fn = fn;
    r->local->free_fn = free_fn;
    r->local->ud = ud;
}

int cn_http_local_status(const cn_http_req *r) { return r->local->status; }

const char *cn_http_local_body(const cn_http_req *r, size_t *len)
{
    if (len) *len = r->local->out.len;
    return r->local->out.data ? r->local->out.data : "";
}

const char *cn_http_local_response_header(const cn_http_req *r, const char *name)
{
    if (!strcasecmp(name, "Content-Type")) return r->local->ctype;
    for (size_t i = 0; i < r->nhdrs; i++)
        if (!strcasecmp(r->hdrs[i].name, name)) return r->hdrs[i].value;
    return NULL;
}

bool cn_http_local_is_stream(const cn_http_req *r) { return r->local->fn != NULL; }

ssize_t cn_http_local_read(cn_http_req *r, char *buf, size_t max)
{
    local *l = r->local;
    if (!l->fn || l->ended) return -1;
    ssize_t n = l->fn(l->ud, buf, max);
    if (n < 0) l->ended = true;
    return n;
}

static void free_headers(header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

void cn_http_local_free(cn_http_req *r)
{
    if (!r) return;
    local *l = r->local;
    if (l->fn && l->free_fn) l->free_fn(l->ud);
    free_headers(l->in, l->nin);
    free_headers(l->q, l->nq);
    free(l->cn);
    for (size_t i = 0; i < l->norgs; i++) free(l->orgs[i]);
    free(l->orgs);
    free(l->ctype);
    cn_buf_release(&l->out);
    free(l);
    r->local = NULL;
    req_unref(r);
}
