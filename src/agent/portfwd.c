/* portfwd: port-forward sessions over SPDY/3.1, plain or tunnelled in
 * WebSocket (see portfwd.h).
 *
 * One thread per session polls the client connection and the TCP
 * connections of its data streams. Frames from the client are parsed with
 * lib/spdy.h out of a byte buffer fed either by the socket or by the
 * payloads of WebSocket messages; frames to the client go out whole (in one
 * WebSocket message each when tunnelled). */
#define _GNU_SOURCE   /* setns */
#include "agent/portfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/wsconn.h"
#include "lib/log.h"
#include "lib/spdy.h"
#include "lib/util.h"

#define MAX_STREAMS 128
#define MAX_FRAME (1u << 20)
#define READ_BLOCK 32768

const char *const cn_portfwd_ws_protocols[] = { "SPDY/3.1+portforward.k8s.io" };
const size_t cn_portfwd_nws_protocols = 1;

void cn_portfwd_free(cn_portfwd *pf)
{
    if (!pf) return;
    free(pf->netns_path);
    free(pf);
}

/* ---- dialing inside the pod's network namespace ---- */

typedef struct dial {
    const char *netns;
    int port;
    int fd;
    int err;
} dial;

static void *dial_main(void *arg)
{
    dial *d = arg;
    int ns = open(d->netns, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
        d->err = errno;
        if (ns >= 0) close(ns);
        return NULL;
    }
    close(ns);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        d->err = errno;
        if (fd >= 0) close(fd);
        return NULL;
    }
    d->fd = fd;
    return NULL;
}

int cn_portfwd_dial(const char *netns_path, int port, int *fd)
{
    dial d = { .netns = netns_path, .port = port, .fd = -1 };
    pthread_t t;
    /* The thread ends with its changed namespace; no other thread's moves. */
    if (pthread_create(&t, NULL, dial_main, &d) != 0) return -EAGAIN;
    pthread_join(t, NULL);
    if (d.fd < 0) return -(d.err ? d.err : EIO);
    *fd = d.fd;
    return 0;
}

/* ---- the session ---- */

typedef struct pstream {
    uint32_t id;
    bool is_data;
    int port;
    char reqid[64];
    int sock;                 /* data streams: the TCP connection, or -1 */
    bool local_eof;           /* the connection ended: FIN sent */
} pstream;

typedef struct session {
    cn_portfwd *pf;
    int fd;
    cn_wsconn ws;             /* tunnel only */
    cn_spdy *z;
    uint8_t *in;              /* SPDY bytes not yet parsed */
    size_t inlen, incap;
    pstream st[MAX_STREAMS];
    size_t nst;
    bool over;
} session;

static int send_out(session *s, const void *p, size_t n)
{
    if (s->pf->tunnel) return cn_wsconn_send(&s->ws, CN_WS_BINARY, NULL, 0, p, n);
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -EIO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_data(session *s, uint32_t id, bool fin, const void *p, size_t n)
{
    uint8_t *f = cn_malloc(8 + n);
    cn_spdy_data_header(f, id, fin, (uint32_t)n);
    if (n) memcpy(f + 8, p, n);
    if (send_out(s, f, 8 + n) < 0) s->over = true;
    free(f);
}

static pstream *find(session *s, uint32_t id)
{
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].id == id) return &s->st[i];
    return NULL;
}

static pstream *find_pair(session *s, const char *reqid, bool data)
{
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].is_data == data && !strcmp(s->st[i].reqid, reqid)) return &s->st[i];
    return NULL;
}

static void drop(session *s, pstream *p)
{
    if (p->sock >= 0) close(p->sock);
    *p = s->st[--s->nst];
}

static const char *hdr(const cn_spdy_frame *f, const char *name)
{
    for (size_t i = 0; i < f->nheaders; i++)
        if (!strcmp(f->headers[i].name, name)) return f->headers[i].value;
    return NULL;
}

/* A data stream's connection ended: its FIN, and the error stream's. */
static void local_done(session *s, pstream *p)
{
    p->local_eof = true;
    send_data(s, p->id, true, NULL, 0);
    pstream *e = find_pair(s, p->reqid, false);
    if (e) send_data(s, e->id, true, NULL, 0);
}

static void on_syn(session *s, const cn_spdy_frame *f)
{
    const char *type = hdr(f, "streamtype"), *port = hdr(f, "port"), *reqid = hdr(f, "requestid");
    uint8_t rst[16];
    if (s->nst >= MAX_STREAMS || !type || find(s, f->stream_id)) {
        if (send_out(s, rst, cn_spdy_rst_stream(rst, f->stream_id, 3 /* REFUSED_STREAM */)) < 0)
            s->over = true;
        return;
    }
    uint8_t *out = NULL;
    size_t outlen = 0;
    if (cn_spdy_syn_reply(s->z, f->stream_id, false, NULL, 0, &out, &outlen) < 0 ||
        send_out(s, out, outlen) < 0)
        s->over = true;
    free(out);
    pstream *p = &s->st[s->nst++];
    memset(p, 0, sizeof *p);
    p->id = f->stream_id;
    p->sock = -1;
    p->is_data = !strcmp(type, "data");
    snprintf(p->reqid, sizeof p->reqid, "%s", reqid ? reqid : "");
    int64_t n = 0;
    if (!port || cn_parse_int64(port, &n) < 0 || n <= 0 || n > 65535) n = 0;
    p->port = (int)n;
    if (!p->is_data) return;
    int r = p->port ? cn_portfwd_dial(s->pf->netns_path, p->port, &p->sock) : -EINVAL;
    if (r == 0) return;
    char *msg = p->port ? cn_asprintf("error forwarding port %d to pod: dial tcp4 127.0.0.1:%d: "
                                      "connect: %s", p->port, p->port, strerror(-r))
                        : cn_asprintf("invalid port \"%s\"", port ? port : "");
    pstream *e = find_pair(s, p->reqid, false);
    if (e) send_data(s, e->id, false, msg, strlen(msg));
    free(msg);
    local_done(s, p);
}

static void on_frame(session *s, const cn_spdy_frame *f)
{
    pstream *p;
    uint8_t buf[16];
    switch (f->type) {
    case CN_SPDY_SYN_STREAM:
        on_syn(s, f);
        break;
    case CN_SPDY_DATA:
        p = find(s, f->stream_id);
        if (!p || !p->is_data || p->sock < 0) break;
        for (size_t off = 0; off < f->len;) {
            ssize_t w = send(p->sock, f->data + off, f->len - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        if (f->flags & CN_SPDY_FLAG_FIN) shutdown(p->sock, SHUT_WR);
        break;
    case CN_SPDY_RST_STREAM:
        p = find(s, f->stream_id);
        if (p) drop(s, p);
        break;
    case CN_SPDY_PING:
        if (send_out(s, buf, cn_spdy_ping(buf, f->ping_id)) < 0) s->over = true;
        break;
    case CN_SPDY_GOAWAY:
        s->over = true;
        break;
    default:
        break;
    }
}

static void add_input(session *s, const void *p, size_t n)
{
    if (n == 0) return;
    if (s->inlen + n > s->incap) {
        s->incap = (s->inlen + n) * 2;
        s->in = cn_realloc(s->in, s->incap);
    }
    memcpy(s->in + s->inlen, p, n);
    s->inlen += n;
}

static void parse_input(session *s)
{
    size_t off = 0;
    while (!s->over) {
        cn_spdy_frame f;
        memset(&f, 0, sizeof f);
        ssize_t n = cn_spdy_parse(s->z, s->in + off, s->inlen - off, MAX_FRAME, &f);
        if (n == 0) break;
        if (n < 0) {
            cn_debug("portfwd: bad SPDY from the client: %s", strerror((int)-n));
            s->over = true;
            break;
        }
        off += (size_t)n;
        on_frame(s, &f);
        cn_spdy_frame_release(&f);
    }
    if (off) memmove(s->in, s->in + off, s->inlen - off);
    s->inlen -= off;
}

/* Bytes from the client connection; false when it closed. */
static bool on_client(session *s)
{
    if (!s->pf->tunnel) {
        uint8_t buf[READ_BLOCK];
        ssize_t n = recv(s->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) return true;
        if (n <= 0) return false;
        add_input(s, buf, (size_t)n);
        parse_input(s);
        return true;
    }
    if (cn_wsconn_fill(&s->ws) <= 0) return false;
    cn_ws_frame f;
    int r;
    while ((r = cn_wsconn_next(&s->ws, &f)) == 1) {
        if (f.opcode == CN_WS_CLOSE) return false;
        if (f.opcode == CN_WS_BINARY || f.opcode == CN_WS_CONT) add_input(s, f.payload, f.len);
    }
    if (r < 0) return false;
    parse_input(s);
    return true;
}

static void on_local(session *s, pstream *p)
{
    uint8_t buf[READ_BLOCK];
    ssize_t n = recv(p->sock, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
        local_done(s, p);
        return;
    }
    send_data(s, p->id, false, buf, (size_t)n);
}

void cn_portfwd_run(void *ud, int fd, const char *extra, size_t nextra)
{
    session *s = cn_calloc(1, sizeof *s);
    s->pf = ud;
    s->fd = fd;
    s->z = cn_spdy_new();
    if (s->pf->tunnel) cn_wsconn_init(&s->ws, fd, extra, nextra);
    else if (nextra) add_input(s, extra, nextra);
    if (s->pf->tunnel && s->ws.len) {
        /* Frames that came with the request. */
        cn_ws_frame f;
        while (cn_wsconn_next(&s->ws, &f) == 1)
            if (f.opcode == CN_WS_BINARY) add_input(s, f.payload, f.len);
    }
    parse_input(s);
    while (!s->over) {
        struct pollfd p[MAX_STREAMS + 1];
        pstream *who[MAX_STREAMS + 1];
        nfds_t n = 0;
        p[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
        who[n++] = NULL;
        for (size_t i = 0; i < s->nst; i++) {
            if (s->st[i].sock < 0 || s->st[i].local_eof) continue;
            p[n] = (struct pollfd){ .fd = s->st[i].sock, .events = POLLIN };
            who[n++] = &s->st[i];
        }
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        /* Local connections first: stream slots move when one is dropped,
         * which only the client's frames do. */
        for (nfds_t i = 1; i < n && !s->over; i++)
            if (p[i].revents) on_local(s, who[i]);
        if (p[0].revents && !on_client(s)) break;
    }
    if (s->pf->tunnel) {
        cn_wsconn_close(&s->ws, 1000);
        cn_wsconn_release(&s->ws);
    }
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].sock >= 0) close(s->st[i].sock);
    cn_spdy_free(s->z);
    free(s->in);
    free(s);
}
