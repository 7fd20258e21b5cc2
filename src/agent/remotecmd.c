/* remotecmd: exec over the WebSocket channel protocols, or over SPDY/3.1
 * streams (v4.channel.k8s.io) for clients that do not use WebSockets (see
 * remotecmd.h).
 *
 * One thread per session polls the client socket and the command's
 * output (pipes, or a pseudo-terminal's master with a tty). The exit
 * status goes on the error channel once all output has been sent, then
 * the WebSocket (or every SPDY stream) is closed: the client reads the
 * error channel to its end. Under SPDY a channel is a stream the client
 * opens with a "streamtype" header before the command starts. */
#define _GNU_SOURCE   /* pipe2 */
#include "agent/remotecmd.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent/wsconn.h"
#include "lib/log.h"
#include "lib/spdy.h"
#include "lib/util.h"

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_CLOSE = 255 };
#define NCH 5
#define MAX_FRAME (1u << 20)
#define SETUP_TIMEOUT_MS 30000
#define LINGER_MS 2000
#define SIZE_WAIT_MS 1000      /* a tty waits this long for the client's size */
#define EARLY_STDIN_MAX 65536
static const char *const stream_types[NCH] = { "stdin", "stdout", "stderr", "error", "resize" };

typedef struct session session;
struct session {
    cn_remotecmd *rc;
    int fd;
    cn_wsconn ws;
    pid_t pid;
    int in_w;                 /* our end of the command's stdin, or -1 */
    int out_r, err_r;         /* our ends of stdout/stderr (out_r: the pty with a tty) */
    bool client_gone;
    /* SPDY */
    bool spdy;
    cn_spdy *z;
    uint8_t *in;              /* bytes not yet parsed */
    size_t inlen, incap;
    uint32_t sid[NCH];        /* stream of each channel, 0: none */
    cn_buf resize;            /* resize stream: JSON objects, one after another */
    bool started;             /* the command runs */
    bool stdin_closed;        /* the client's stdin ended before that */
    cn_buf early_in;          /* stdin that came before */
    struct winsize size;      /* the terminal's size, once the client sent one */
    bool have_size;
};
static void send_channel(session *s, uint8_t ch, const void *p, size_t n);
static int write_all(int fd, const uint8_t *p, size_t n);

const char *const cn_remotecmd_protocols[] = { "v5.channel.k8s.io", "v4.channel.k8s.io" };
const size_t cn_remotecmd_nprotocols = 2;

void cn_remotecmd_release(cn_remotecmd *rc)
{
    if (!rc) return;
    free(rc->ctr_id);
    for (size_t i = 0; rc->argv && rc->argv[i]; i++) free(rc->argv[i]);
    free(rc->argv);
    memset(rc, 0, sizeof *rc);
}

static void send_status(session *ss, json_t *st)
{
    char *s = json_dumps(st, JSON_COMPACT);
    if (s) send_channel(ss, CH_ERROR, s, strlen(s));
    free(s);
    json_decref(st);
}

static void send_failure(session *ws, const char *msg)
{
    send_status(ws, json_pack("{s:{},s:s,s:s,s:s,s:i}", "metadata", "status", "Failure",
                              "message", msg, "reason", "InternalError", "code", 500));
}

/* The Status upstream's kubelet sends when the command ends. */
static void send_exit(session *ws, const cn_remotecmd *rc, int wstatus)
{
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
               : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 1;
    if (code == 0) {
        send_status(ws, json_pack("{s:{},s:s}", "metadata", "status", "Success"));
        return;
    }
    cn_buf cmd;
    cn_buf_init(&cmd);
    for (size_t i = 0; rc->argv[i]; i++) {
        if (i) cn_buf_addc(&cmd, ' ');
        cn_buf_adds(&cmd, rc->argv[i]);
    }
    char *msg = cn_asprintf("command terminated with non-zero exit code: error executing command "
                            "[%s], exit code %d", cmd.data ? cmd.data : "", code);
    char codes[16];
    snprintf(codes, sizeof codes, "%d", code);
    send_status(ws, json_pack("{s:{},s:s,s:s,s:s,s:{s:[{s:s,s:s}]}}", "metadata", "status",
                              "Failure", "message", msg, "reason", "NonZeroExitCode", "details",
                              "causes", "reason", "ExitCode", "message", codes));
    free(msg);
    cn_buf_release(&cmd);
}

/* A size that comes before the terminal exists is kept for it. */
static void resize(session *s, const uint8_t *p, size_t n)
{
    json_t *j = json_loadb((const char *)p, n, 0, NULL);
    json_int_t w = json_integer_value(json_object_get(j, "Width"));
    json_int_t h = json_integer_value(json_object_get(j, "Height"));
    json_decref(j);
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535) return;
    s->size = (struct winsize){ .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
    s->have_size = true;
    if (s->out_r >= 0) ioctl(s->out_r, TIOCSWINSZ, &s->size);
}

/* Stdin for the command; before it runs, kept (bounded). */
static void to_stdin(session *s, const uint8_t *p, size_t n)
{
    if (!s->started) {
        if (s->early_in.len + n <= EARLY_STDIN_MAX) cn_buf_add(&s->early_in, p, n);
        return;
    }
    if (s->in_w >= 0 && n && write_all(s->in_w, p, n) < 0) {
        close(s->in_w);
        s->in_w = -1;
    }
}

/* The resize stream carries JSON objects back to back. */
static void resize_stream(session *s, const uint8_t *p, size_t n)
{
    cn_buf_add(&s->resize, p, n);
    size_t off = 0;
    while (off < s->resize.len) {
        json_error_t je;
        json_t *j = json_loadb(s->resize.data + off, s->resize.len - off,
                               JSON_DISABLE_EOF_CHECK, &je);
        if (!j) break;
        char *txt = json_dumps(j, JSON_COMPACT);
        if (txt) resize(s, (const uint8_t *)txt, strlen(txt));
        free(txt);
        json_decref(j);
        off += (size_t)je.position;
    }
    if (off) {
        memmove(s->resize.data, s->resize.data + off, s->resize.len - off);
        s->resize.len -= off;
    }
    if (s->resize.len > 4096) cn_buf_reset(&s->resize);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}


static void send_channel(session *s, uint8_t ch, const void *p, size_t n)
{
    if (!s->spdy) {
        if (cn_wsconn_send(&s->ws, CN_WS_BINARY, &ch, 1, p, n) < 0) s->client_gone = true;
        return;
    }
    if (ch >= NCH || !s->sid[ch]) return;
    uint8_t hdr[8];
    cn_spdy_data_header(hdr, s->sid[ch], false, (uint32_t)n);
    if (cn_wsconn_send_raw(s->fd, hdr, 8, p, n) < 0) s->client_gone = true;
}

/* Ends a SPDY channel's stream (FIN). */
static void spdy_fin(session *s, uint8_t ch)
{
    if (!s->spdy || ch >= NCH || !s->sid[ch]) return;
    uint8_t hdr[8];
    cn_spdy_data_header(hdr, s->sid[ch], true, 0);
    if (cn_wsconn_send_raw(s->fd, hdr, 8, NULL, 0) < 0) s->client_gone = true;
}

static void close_stdin(session *s)
{
    if (!s->started) s->stdin_closed = true;
    if (s->in_w < 0) return;
    /* With a tty, stdin is the terminal: end it with ^D. */
    if (s->rc->tty) {
        write_all(s->in_w, (const uint8_t *)"\x04", 1);
        return;
    }
    close(s->in_w);
    s->in_w = -1;
}

static void on_spdy_frame(session *s, const cn_spdy_frame *f)
{
    uint8_t buf[16];
    int ch = -1;
    for (int i = 0; i < NCH; i++)
        if (s->sid[i] && s->sid[i] == f->stream_id) ch = i;
    switch (f->type) {
    case CN_SPDY_SYN_STREAM: {
        const char *type = NULL;
        for (size_t i = 0; i < f->nheaders; i++)
            if (!strcmp(f->headers[i].name, "streamtype")) type = f->headers[i].value;
        int want = -1;
        for (int i = 0; type && i < NCH; i++)
            if (!strcmp(type, stream_types[i])) want = i;
        if (want < 0 || s->sid[want]) {
            if (cn_wsconn_send_raw(s->fd, buf, cn_spdy_rst_stream(buf, f->stream_id, 1), NULL, 0) < 0)
                s->client_gone = true;
            break;
        }
        uint8_t *out = NULL;
        size_t outlen = 0;
        if (cn_spdy_syn_reply(s->z, f->stream_id, false, NULL, 0, &out, &outlen) < 0 ||
            cn_wsconn_send_raw(s->fd, out, outlen, NULL, 0) < 0)
            s->client_gone = true;
        free(out);
        s->sid[want] = f->stream_id;
        break;
    }
    case CN_SPDY_DATA:
        if (ch == CH_STDIN) to_stdin(s, f->data, f->len);
        if (ch == CH_RESIZE && s->rc->tty) resize_stream(s, f->data, f->len);
        if (ch == CH_STDIN && (f->flags & CN_SPDY_FLAG_FIN)) close_stdin(s);
        break;
    case CN_SPDY_RST_STREAM:
        if (ch == CH_STDIN) close_stdin(s);
        break;
    case CN_SPDY_PING:
        if (cn_wsconn_send_raw(s->fd, buf, cn_spdy_ping(buf, f->ping_id), NULL, 0) < 0)
            s->client_gone = true;
        break;
    case CN_SPDY_GOAWAY:
        s->client_gone = true;
        break;
    default:
        break;
    }
}

static bool on_client_spdy(session *s)
{
    uint8_t buf[32768];
    ssize_t n = recv(s->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    if (s->inlen + (size_t)n > s->incap) {
        s->incap = (s->inlen + (size_t)n) * 2;
        s->in = cn_realloc(s->in, s->incap);
    }
    memcpy(s->in + s->inlen, buf, (size_t)n);
    s->inlen += (size_t)n;
    size_t off = 0;
    while (!s->client_gone) {
        cn_spdy_frame f;
        memset(&f, 0, sizeof f);
        ssize_t r = cn_spdy_parse(s->z, s->in + off, s->inlen - off, MAX_FRAME, &f);
        if (r == 0) break;
        if (r < 0) return false;
        off += (size_t)r;
        on_spdy_frame(s, &f);
        cn_spdy_frame_release(&f);
    }
    if (off) memmove(s->in, s->in + off, s->inlen - off);
    s->inlen -= off;
    return !s->client_gone;
}

/* SPDY: the client opens its streams first; wait for those the options
 * ask for (bounded). */
static bool spdy_setup(session *s)
{
    const cn_remotecmd *rc = s->rc;
    int64_t end = cn_now_ms() + SETUP_TIMEOUT_MS;
    for (;;) {
        bool ready = s->sid[CH_ERROR] && (!rc->in || s->sid[CH_STDIN]) &&
                     (!rc->out || s->sid[CH_STDOUT]) && (!rc->err || s->sid[CH_STDERR]) &&
                     (!rc->tty || s->sid[CH_RESIZE]);
        if (ready) return true;
        int64_t left = end - cn_now_ms();
        if (left <= 0) return false;
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno != EINTR) return false;
        if (n > 0 && !on_client_spdy(s)) return false;
    }
}

/* Handles the client's frames; false when the client closed. */
static bool on_client(session *s)
{
    if (s->spdy) return on_client_spdy(s);
    ssize_t n = cn_wsconn_fill(&s->ws);
    if (n <= 0) return false;
    cn_ws_frame f;
    int r;
    while ((r = cn_wsconn_next(&s->ws, &f)) == 1) {
        if (f.opcode == CN_WS_CLOSE) return false;
        if (f.len < 1 || (f.opcode != CN_WS_BINARY && f.opcode != CN_WS_TEXT)) continue;
        uint8_t ch = f.payload[0];
        const uint8_t *p = f.payload + 1;
        size_t len = f.len - 1;
        if (ch == CH_STDIN) {
            to_stdin(s, p, len);
        } else if (ch == CH_RESIZE && s->rc->tty) {
            resize(s, p, len);
        } else if (ch == CH_CLOSE && len >= 1 && p[0] == CH_STDIN) {
            close_stdin(s);
        }
    }
    return r == 0;
}

/* Forwards what the command wrote; false at its end. */
static bool on_output(session *s, int *fd, uint8_t ch)
{
    uint8_t buf[32768];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {   /* EOF, or EIO from a pty whose last holder closed */
        close(*fd);
        *fd = -1;
        spdy_fin(s, ch);
        return false;
    }
    send_channel(s, ch, buf, (size_t)n);
    return true;
}

static int start(session *s, cn_err *err)
{
    cn_remotecmd *rc = s->rc;
    int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
    int pty = -1, r = 0;
    if (!rc->tty) {
        if ((rc->in && pipe2(inp, O_CLOEXEC) < 0) || (rc->out && pipe2(outp, O_CLOEXEC) < 0) ||
            (rc->err && pipe2(errp, O_CLOEXEC) < 0)) {
            r = -errno;
            cn_err_internal(err, "pipe: %s", strerror(errno));
            goto out;
        }
    }
    r = rc->exec(rc->rt, rc->ctr_id, (const char *const *)rc->argv, rc->tty, inp[0], outp[1],
                 errp[1], &s->pid, &pty, err);
    if (r < 0) goto out;
    if (rc->tty) {
        s->out_r = pty;
        s->in_w = rc->in ? dup(pty) : -1;
    } else {
        s->in_w = inp[1];
        s->out_r = outp[0];
        s->err_r = errp[0];
        inp[1] = outp[0] = errp[0] = -1;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (inp[i] >= 0) close(inp[i]);
        if (outp[i] >= 0) close(outp[i]);
        if (errp[i] >= 0) close(errp[i]);
    }
    if (r < 0 && pty >= 0) close(pty);
    return r;
}

/* A terminal should have the client's size before the command looks at
 * it: the first resize message comes right after the handshake. */
static void wait_size(session *s)
{
    int64_t end = cn_now_ms() + SIZE_WAIT_MS;
    while (!s->have_size && !s->client_gone) {
        int64_t left = end - cn_now_ms();
        if (left <= 0) return;
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno != EINTR) return;
        if (n > 0 && !on_client(s)) s->client_gone = true;
    }
}

/* After the end: wait (bounded) for the client to close, so that closing
 * our side does not reset a connection with output still in flight. */
static void linger(session *s)
{
    int64_t end = cn_now_ms() + LINGER_MS;
    uint8_t buf[4096];
    for (;;) {
        int64_t left = end - cn_now_ms();
        if (left <= 0) return;
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0) return;
        if (recv(s->fd, buf, sizeof buf, 0) <= 0) return;
    }
}

static void serve(cn_remotecmd *rc, int fd, const char *extra, size_t nextra, bool spdy)
{
    session s = { .rc = rc, .fd = fd, .pid = -1, .in_w = -1, .out_r = -1, .err_r = -1,
                  .spdy = spdy };
    cn_buf_init(&s.resize);
    cn_buf_init(&s.early_in);
    cn_err e = CN_ERR_INIT;
    if (spdy) {
        s.z = cn_spdy_new();
        if (nextra) {
            s.in = cn_malloc(nextra);
            memcpy(s.in, extra, nextra);
            s.inlen = s.incap = nextra;
        }
        if (!spdy_setup(&s)) goto done;
    } else {
        cn_wsconn_init(&s.ws, fd, extra, nextra);
    }
    if (rc->tty) wait_size(&s);
    if (start(&s, &e) < 0) {
        send_failure(&s, e.message ? e.message : "exec failed");
        cn_err_clear(&e);
        spdy_fin(&s, CH_ERROR);
        goto done;
    }
    s.started = true;
    if (s.have_size && s.out_r >= 0 && rc->tty) ioctl(s.out_r, TIOCSWINSZ, &s.size);
    if (s.early_in.len) to_stdin(&s, (const uint8_t *)s.early_in.data, s.early_in.len);
    if (s.stdin_closed) close_stdin(&s);
    /* Upstream's kubelet opens with an empty message on the first output
     * channel: the client then knows the command runs. */
    if (!spdy) {
        uint8_t first = rc->out ? CH_STDOUT : rc->err && !rc->tty ? CH_STDERR : CH_ERROR;
        send_channel(&s, first, NULL, 0);
    }
    while (!s.client_gone && (s.out_r >= 0 || s.err_r >= 0)) {
        struct pollfd p[3] = { { .fd = fd, .events = POLLIN },
                               { .fd = s.out_r, .events = POLLIN },
                               { .fd = s.err_r, .events = POLLIN } };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[0].revents && !on_client(&s)) s.client_gone = true;
        if (p[1].revents) on_output(&s, &s.out_r, CH_STDOUT);
        if (p[2].revents) on_output(&s, &s.err_r, CH_STDERR);
    }
    if (s.client_gone) {
        /* Nobody reads the output any more: the command goes too. */
        kill(s.pid, SIGKILL);
    }
    int wstatus = 0;
    while (waitpid(s.pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!s.client_gone) {
        send_exit(&s, rc, wstatus);
        spdy_fin(&s, CH_ERROR);
    }
done:
    if (!s.client_gone) {
        if (!spdy) cn_wsconn_close(&s.ws, 1000);
        linger(&s);
    }
    if (s.in_w >= 0) close(s.in_w);
    if (s.out_r >= 0) close(s.out_r);
    if (s.err_r >= 0) close(s.err_r);
    if (!spdy) cn_wsconn_release(&s.ws);
    cn_spdy_free(s.z);
    free(s.in);
    cn_buf_release(&s.resize);
    cn_buf_release(&s.early_in);
}

void cn_remotecmd_serve_ws(cn_remotecmd *rc, int fd, const char *extra, size_t nextra)
{
    serve(rc, fd, extra, nextra, false);
}

void cn_remotecmd_serve_spdy(cn_remotecmd *rc, int fd, const char *extra, size_t nextra)
{
    serve(rc, fd, extra, nextra, true);
}
