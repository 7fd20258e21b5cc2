/* wsconn: one server-side WebSocket connection (see wsconn.h). */
#include "agent/wsconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/util.h"

#define READ_BLOCK 65536
#define MAX_PAYLOAD (4u << 20)

void cn_wsconn_init(cn_wsconn *c, int fd, const char *extra, size_t nextra)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->max_payload = MAX_PAYLOAD;
    c->cap = READ_BLOCK + nextra;
    c->buf = cn_malloc(c->cap);
    if (nextra) memcpy(c->buf, extra, nextra);
    c->len = nextra;
}

void cn_wsconn_release(cn_wsconn *c)
{
    free(c->buf);
    free(c->msg);
    c->buf = c->msg = NULL;
}

ssize_t cn_wsconn_fill(cn_wsconn *c)
{
    if (c->off) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->cap - c->len < READ_BLOCK) {
        if (c->cap > MAX_PAYLOAD + 2 * READ_BLOCK) return -EMSGSIZE;
        c->cap = c->cap * 2 + READ_BLOCK;
        c->buf = cn_realloc(c->buf, c->cap);
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n < 0) return errno == EINTR ? 1 : -errno;
    c->len += (size_t)n;
    return n;
}

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -EIO;
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

int cn_wsconn_send(cn_wsconn *c, int opcode, const void *prefix, size_t nprefix,
                   const void *data, size_t len)
{
    uint8_t hdr[10];
    size_t hl = cn_ws_header(hdr, true, opcode, nprefix + len);
    struct iovec iov[3] = { { hdr, hl }, { (void *)prefix, nprefix }, { (void *)data, len } };
    return write_all(c->fd, iov, 3);
}

int cn_wsconn_send_raw(int fd, const void *a, size_t na, const void *b, size_t nb)
{
    struct iovec iov[2] = { { (void *)a, na }, { (void *)b, nb } };
    return write_all(fd, iov, 2);
}

void cn_wsconn_close(cn_wsconn *c, int code)
{
    uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };
    cn_wsconn_send(c, CN_WS_CLOSE, p, 2, NULL, 0);
}

int cn_wsconn_next(cn_wsconn *c, cn_ws_frame *f)
{
    for (;;) {
        ssize_t n = cn_ws_parse(c->buf + c->off, c->len - c->off, c->max_payload, f);
        if (n <= 0) return (int)n;
        c->off += (size_t)n;
        if (f->opcode == CN_WS_PING) {
            cn_wsconn_send(c, CN_WS_PONG, f->payload, f->len, NULL, 0);
            continue;
        }
        if (f->opcode == CN_WS_PONG) continue;
        if (f->opcode == CN_WS_CLOSE) return 1;
        if (f->opcode == CN_WS_CONT ? c->msg_op == 0 : c->msg_op != 0) return -EPROTO;
        if (f->fin && f->opcode != CN_WS_CONT) return 1;
        /* A fragment: kept until the message's last one. */
        if (c->msglen + f->len > c->max_payload) return -EMSGSIZE;
        if (f->opcode != CN_WS_CONT) c->msg_op = f->opcode;
        c->msg = cn_realloc(c->msg, c->msglen + f->len + 1);
        memcpy(c->msg + c->msglen, f->payload, f->len);
        c->msglen += f->len;
        if (!f->fin) continue;
        f->opcode = c->msg_op;
        f->payload = c->msg;
        f->len = c->msglen;
        c->msg_op = 0;
        c->msglen = 0;
        return 1;
    }
}

int cn_wsconn_accept(const char *upgrade, const char *key, const char *version, char accept[29])
{
    if (!upgrade || strcasecmp(upgrade, "websocket") || !key) return -EINVAL;
    if (version && strcmp(version, "13")) return -EINVAL;
    return cn_ws_accept_key(key, accept);
}
