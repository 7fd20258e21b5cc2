/* remotecmd: exec over the WebSocket channel protocols (see remotecmd.h).
 *
 * One thread per session polls the client socket and the command's
 * output (pipes, or a pseudo-terminal's master with a tty). The exit
 * status goes on the error channel once all output has been sent, then
 * the WebSocket is closed: the client reads the error channel to its end. */
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
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent/wsconn.h"
#include "lib/log.h"
#include "lib/util.h"

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_CLOSE = 255 };

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

static void send_status(cn_wsconn *ws, json_t *st)
{
    char *s = json_dumps(st, JSON_COMPACT);
    uint8_t ch = CH_ERROR;
    if (s) cn_wsconn_send(ws, CN_WS_BINARY, &ch, 1, s, strlen(s));
    free(s);
    json_decref(st);
}

static void send_failure(cn_wsconn *ws, const char *msg)
{
    send_status(ws, json_pack("{s:{},s:s,s:s,s:s,s:i}", "metadata", "status", "Failure",
                              "message", msg, "reason", "InternalError", "code", 500));
}

/* The Status upstream's kubelet sends when the command ends. */
static void send_exit(cn_wsconn *ws, const cn_remotecmd *rc, int wstatus)
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

static void resize(int pty, const uint8_t *p, size_t n)
{
    json_t *j = json_loadb((const char *)p, n, 0, NULL);
    json_int_t w = json_integer_value(json_object_get(j, "Width"));
    json_int_t h = json_integer_value(json_object_get(j, "Height"));
    json_decref(j);
    if (pty < 0 || w <= 0 || h <= 0 || w > 65535 || h > 65535) return;
    struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
    ioctl(pty, TIOCSWINSZ, &ws);
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

typedef struct session {
    cn_remotecmd *rc;
    cn_wsconn ws;
    pid_t pid;
    int in_w;                 /* our end of the command's stdin, or -1 */
    int out_r, err_r;         /* our ends of stdout/stderr (out_r: the pty with a tty) */
    bool client_gone;
} session;

/* Handles the client's frames; false when the client closed. */
static bool on_client(session *s)
{
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
        if (ch == CH_STDIN && s->in_w >= 0 && len) {
            if (write_all(s->in_w, p, len) < 0) {
                close(s->in_w);
                s->in_w = -1;
            }
        } else if (ch == CH_RESIZE && s->rc->tty) {
            resize(s->out_r, p, len);
        } else if (ch == CH_CLOSE && len >= 1 && p[0] == CH_STDIN && s->in_w >= 0) {
            /* With a tty, stdin is the terminal: end it with ^D. */
            if (s->rc->tty) write_all(s->in_w, (const uint8_t *)"\x04", 1);
            else close(s->in_w);
            if (!s->rc->tty) s->in_w = -1;
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
        if (*fd != s->in_w) close(*fd);
        *fd = -1;
        return false;
    }
    if (cn_wsconn_send(&s->ws, CN_WS_BINARY, &ch, 1, buf, (size_t)n) < 0) s->client_gone = true;
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

void cn_remotecmd_serve_ws(cn_remotecmd *rc, int fd, const char *extra, size_t nextra)
{
    session s = { .rc = rc, .pid = -1, .in_w = -1, .out_r = -1, .err_r = -1 };
    cn_wsconn_init(&s.ws, fd, extra, nextra);
    cn_err e = CN_ERR_INIT;
    if (start(&s, &e) < 0) {
        send_failure(&s.ws, e.message ? e.message : "exec failed");
        cn_err_clear(&e);
        goto done;
    }
    /* Upstream's kubelet opens with an empty message on the first output
     * channel: the client then knows the command runs. */
    uint8_t first = rc->out ? CH_STDOUT : rc->err && !rc->tty ? CH_STDERR : CH_ERROR;
    cn_wsconn_send(&s.ws, CN_WS_BINARY, &first, 1, NULL, 0);
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
    if (!s.client_gone) send_exit(&s.ws, rc, wstatus);
done:
    if (!s.client_gone) cn_wsconn_close(&s.ws, 1000);
    if (s.in_w >= 0) close(s.in_w);
    if (s.out_r >= 0) close(s.out_r);
    if (s.err_r >= 0) close(s.err_r);
    cn_wsconn_release(&s.ws);
}
