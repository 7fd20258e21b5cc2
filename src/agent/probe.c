/* probe: liveness/readiness/startup probe attempts, as the kubelet's
 * prober runs them — exec (through the runtime), httpGet (200..399 is
 * success, redirects are not followed) and tcpSocket (a connect) — with the
 * kubelet's failure texts, so events read as upstream's.
 *
 * httpGet and tcpSocket must connect from inside the pod's network
 * namespace (the pod IP is only routable there in general, and a probe of
 * 127.0.0.1 means the pod's loopback). setns(CLONE_NEWNET) changes only
 * the calling thread, so each such attempt runs on a short-lived thread
 * that joins the namespace, does the I/O under the probe's deadline, and
 * exits; the caller's namespace never changes. */
#define _GNU_SOURCE
#include "agent/podspec-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/util.h"

#define USER_AGENT "kube-probe/1.32"
#define MAX_RESPONSE_HEAD 10240
#define DEFAULT_TIMEOUT_S 1

/* ---- network probes on a thread in the pod's namespace ---- */

typedef struct net_job {
    const char *netns_path;
    char *host;
    int port;
    bool http, tls;
    char *request;          /* the HTTP request; NULL for tcpSocket */
    char *url;              /* for messages */
    int64_t deadline_ms;
    /* out */
    cn_probe_result res;
    char *msg;
} net_job;

static int64_t remaining(const net_job *j)
{
    int64_t r = j->deadline_ms - cn_now_ms();
    return r > 0 ? r : 0;
}

/* Go's rendering of a syscall error: lowercase first letter. */
static char *go_errno(int e)
{
    char *s = cn_strdup(strerror(e));
    if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) s[0] = (char)(s[0] - 'A' + 'a');
    return s;
}

static char *host_port(const char *host, int port)
{
    return strchr(host, ':') ? cn_asprintf("[%s]:%d", host, port) : cn_asprintf("%s:%d", host, port);
}

/* Connect under the deadline; fd or negative with j->msg set. */
static int dial(net_job *j)
{
    _cleanup_free_ char *hp = host_port(j->host, j->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", j->port);
    int g = getaddrinfo(j->host, port, &hints, &ai);
    if (g != 0 || !ai) {
        j->msg = cn_asprintf("dial tcp: lookup %s: %s", j->host, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0) e = errno;
    else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int n;
            do n = poll(&p, 1, (int)remaining(j)); while (n < 0 && errno == EINTR);
            socklen_t len = sizeof e;
            if (n == 0) e = ETIMEDOUT;
            else if (n < 0) e = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) e = errno;
        }
    }
    freeaddrinfo(ai);
    if (e == 0) return fd;
    if (fd >= 0) close(fd);
    if (e == ETIMEDOUT) j->msg = cn_asprintf("dial tcp %s: i/o timeout", hp);
    else {
        _cleanup_free_ char *es = go_errno(e);
        j->msg = cn_asprintf("dial tcp %s: connect: %s", hp, es);
    }
    return -e;
}

/* Wait for fd to be readable/writable before the deadline: 1, 0 timeout, -errno. */
static int wait_fd(const net_job *j, int fd, short ev)
{
    struct pollfd p = { .fd = fd, .events = ev };
    int n;
    do n = poll(&p, 1, (int)remaining(j)); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

typedef struct conn {
    int fd;
    gnutls_session_t tls;
    gnutls_certificate_credentials_t cred;
} conn;

/* -EAGAIN handled inside; returns bytes, 0 EOF, -ETIMEDOUT, -EIO. */
static ssize_t conn_io(const net_job *j, conn *c, void *buf, size_t len, bool wr)
{
    for (;;) {
        ssize_t n;
        if (c->tls) {
            n = wr ? gnutls_record_send(c->tls, buf, len) : gnutls_record_recv(c->tls, buf, len);
            if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                int w = wait_fd(j, c->fd, gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN);
                if (w <= 0) return -ETIMEDOUT;
                continue;
            }
            if (n == GNUTLS_E_PREMATURE_TERMINATION) return 0;
            return n < 0 ? -EIO : n;
        }
        n = wr ? send(c->fd, buf, len, MSG_NOSIGNAL) : recv(c->fd, buf, len, 0);
        if (n >= 0) return n;
        if (errno != EAGAIN && errno != EINTR) return -errno;
        int w = wait_fd(j, c->fd, wr ? POLLOUT : POLLIN);
        if (w <= 0) return -ETIMEDOUT;
    }
}

static int tls_start(const net_job *j, conn *c)
{
    if (gnutls_certificate_allocate_credentials(&c->cred) < 0) return -ENOMEM;
    if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
        c->tls = NULL;
        return -ENOMEM;
    }
    gnutls_set_default_priority(c->tls);
    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
    gnutls_transport_set_int(c->tls, c->fd);
    /* no verification, as upstream's HTTPS probes (InsecureSkipVerify) */
    for (;;) {
        int r = gnutls_handshake(c->tls);
        if (r == 0) return 0;
        if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) return -EPROTO;
        if (wait_fd(j, c->fd, gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN) <= 0) return -ETIMEDOUT;
    }
}

static void conn_close(conn *c)
{
    if (c->tls) gnutls_deinit(c->tls);
    if (c->cred) gnutls_certificate_free_credentials(c->cred);
    if (c->fd >= 0) close(c->fd);
}

static void http_exchange(net_job *j, int fd)
{
    conn c = { .fd = fd };
    char head[MAX_RESPONSE_HEAD + 1];
    size_t got = 0;
    int r = 0;
    if (j->tls && (r = tls_start(j, &c)) < 0) {
        j->msg = r == -ETIMEDOUT
            ? cn_asprintf("Get \"%s\": net/http: TLS handshake timeout", j->url)
            : cn_asprintf("Get \"%s\": remote error: tls: handshake failure", j->url);
        goto done;
    }
    size_t len = strlen(j->request), off = 0;
    while (off < len) {
        ssize_t n = conn_io(j, &c, j->request + off, len - off, true);
        if (n <= 0) {
            r = n == 0 ? -EPIPE : (int)n;
            break;
        }
        off += (size_t)n;
    }
    /* the status line is all we need; read until its end */
    while (r == 0 && got < MAX_RESPONSE_HEAD && !memchr(head, '\n', got)) {
        ssize_t n = conn_io(j, &c, head + got, MAX_RESPONSE_HEAD - got, false);
        if (n < 0) r = (int)n;
        else if (n == 0) break;
        else got += (size_t)n;
    }
    head[got] = '\0';
    if (r == -ETIMEDOUT) {
        j->msg = cn_asprintf("Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", j->url);
        goto done;
    }
    if (r < 0) {
        _cleanup_free_ char *es = go_errno(-r);
        j->msg = cn_asprintf("Get \"%s\": %s", j->url, es);
        goto done;
    }
    if (got == 0) {
        j->msg = cn_asprintf("Get \"%s\": EOF", j->url);
        goto done;
    }
    int status = 0;
    if (strncmp(head, "HTTP/1.", 7) || got < 12 || head[8] != ' ' ||
        sscanf(head + 9, "%3d", &status) != 1 || status < 100 || status > 999) {
        char *eol = strpbrk(head, "\r\n");
        if (eol) *eol = '\0';
        j->msg = cn_asprintf("Get \"%s\": net/http: HTTP/1.x transport connection broken: malformed HTTP response \"%.64s\"", j->url, head);
        goto done;
    }
    if (status >= 200 && status < 400) j->res = CN_PROBE_SUCCESS;
    else j->msg = cn_asprintf("HTTP probe failed with statuscode: %d", status);
done:
    conn_close(&c);
}

static void *net_thread(void *arg)
{
    net_job *j = arg;
    j->res = CN_PROBE_FAILURE;
    if (j->netns_path && *j->netns_path) {
        int fd = open(j->netns_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
            j->res = CN_PROBE_ERROR;
            j->msg = cn_asprintf("entering the pod network namespace %s: %s", j->netns_path, strerror(errno));
            if (fd >= 0) close(fd);
            return NULL;
        }
        close(fd);
    }
    char *dial_msg = NULL;
    int fd = dial(j);
    if (fd < 0) {
        dial_msg = j->msg;
        j->msg = j->http ? cn_asprintf("Get \"%s\": %s", j->url, dial_msg) : CN_TAKE_PTR(dial_msg);
        free(dial_msg);
        return NULL;
    }
    if (j->http) http_exchange(j, fd);
    else {
        j->res = CN_PROBE_SUCCESS;
        close(fd);
    }
    return NULL;
}

static void header_line(cn_buf *b, const json_t *headers, const char *name, const char *def)
{
    size_t i;
    const json_t *h;
    bool given = false;
    json_array_foreach(headers, i, h) {
        const char *n = cn_ps_str(h, "name");
        if (n && !strcasecmp(n, name)) given = true;
    }
    if (!given && def) cn_buf_addf(b, "%s: %s\r\n", name, def);
}

static cn_probe_result run_net(const cn_probe_target *t, const json_t *h, bool http,
                               int64_t timeout_ms, char **msg)
{
    int port;
    cn_err err = CN_ERR_INIT;
    if (cn_ps_probe_port(h, t->ctr, &port, &err) < 0) {
        *msg = cn_strdup(err.message);
        cn_err_clear(&err);
        return CN_PROBE_ERROR;
    }
    const char *host = cn_ps_str(h, "host");
    if (!host) host = t->pod_ip && *t->pod_ip ? t->pod_ip : "127.0.0.1";
    net_job j = { .netns_path = t->netns_path, .host = cn_strdup(host), .port = port, .http = http,
                  .deadline_ms = cn_now_ms() + timeout_ms };
    if (http) {
        const char *scheme = cn_ps_str(h, "scheme");
        const char *path = cn_ps_str(h, "path");
        const json_t *headers = json_object_get(h, "httpHeaders");
        _cleanup_free_ char *hp = host_port(host, port);
        j.tls = scheme && !strcmp(scheme, "HTTPS");
        j.url = cn_asprintf("%s://%s%s", j.tls ? "https" : "http", hp, path ? path : "/");
        cn_buf b;
        cn_buf_init(&b);
        cn_buf_addf(&b, "GET %s HTTP/1.1\r\n", path ? path : "/");
        header_line(&b, headers, "Host", hp);
        header_line(&b, headers, "User-Agent", USER_AGENT);
        header_line(&b, headers, "Accept", "*/*");
        size_t i;
        const json_t *hd;
        json_array_foreach(headers, i, hd) {
            const char *n = cn_ps_str(hd, "name"), *v = json_string_value(json_object_get(hd, "value"));
            if (n && !strpbrk(n, "\r\n:") && (!v || !strpbrk(v, "\r\n")))
                cn_buf_addf(&b, "%s: %s\r\n", n, v ? v : "");
        }
        cn_buf_adds(&b, "Connection: close\r\n\r\n");
        j.request = cn_buf_detach(&b, NULL);
    }
    pthread_t th;
    cn_probe_result res;
    if (pthread_create(&th, NULL, net_thread, &j) != 0) {
        *msg = cn_strdup("cannot start a probe thread");
        res = CN_PROBE_ERROR;
    } else {
        pthread_join(th, NULL);
        res = j.res;
        *msg = CN_TAKE_PTR(j.msg);
    }
    free(j.host);
    free(j.url);
    free(j.request);
    free(j.msg);
    return res;
}

/* ---- exec ---- */

static cn_probe_result run_exec(const cn_probe_target *t, const json_t *h, int64_t timeout_ms, char **msg)
{
    const json_t *cmd = json_object_get(h, "command");
    size_t n = json_array_size(cmd);
    const char **argv = cn_calloc(n + 1, sizeof *argv);
    cn_buf joined;
    cn_buf_init(&joined);
    for (size_t i = 0; i < n; i++) {
        argv[i] = json_string_value(json_array_get(cmd, i));
        if (!argv[i]) argv[i] = "";
        cn_buf_addf(&joined, "%s%s", i ? " " : "", argv[i]);
    }
    int code = 0;
    char *output = NULL;
    cn_err err = CN_ERR_INIT;
    cn_probe_result res;
    int r = cn_ctr_exec_sync(t->rt, t->ctr_id, argv, timeout_ms, &code, &output, &err);
    if (r == -ETIMEDOUT) {
        res = CN_PROBE_FAILURE;
        *msg = cn_asprintf("command \"%s\" timed out", joined.data ? joined.data : "");
    } else if (r < 0) {
        res = CN_PROBE_ERROR;
        *msg = cn_strdup(err.message ? err.message : strerror(-r));
    } else if (code != 0) {
        res = CN_PROBE_FAILURE;
        *msg = cn_strdup(output ? output : "");
    } else {
        res = CN_PROBE_SUCCESS;
    }
    cn_err_clear(&err);
    free(output);
    free(argv);
    cn_buf_release(&joined);
    return res;
}

cn_probe_result cn_probe_run(const cn_probe_target *t, const json_t *probe, char **message)
{
    cn_err err = CN_ERR_INIT;
    char *msg = NULL;
    cn_probe_result res;
    *message = NULL;
    if (cn_probe_check(probe, t->ctr, &err) < 0) {
        msg = cn_strdup(err.message);
        cn_err_clear(&err);
        res = CN_PROBE_ERROR;
        goto out;
    }
    json_int_t to = json_integer_value(json_object_get(probe, "timeoutSeconds"));
    int64_t timeout_ms = (to > 0 ? to : DEFAULT_TIMEOUT_S) * 1000;
    const json_t *h;
    if ((h = json_object_get(probe, "exec")) && !json_is_null(h)) res = run_exec(t, h, timeout_ms, &msg);
    else if ((h = json_object_get(probe, "httpGet")) && !json_is_null(h)) res = run_net(t, h, true, timeout_ms, &msg);
    else res = run_net(t, json_object_get(probe, "tcpSocket"), false, timeout_ms, &msg);
out:
    if (res != CN_PROBE_SUCCESS) {
        if (t->kind) *message = cn_asprintf("%s probe %s: %s", t->kind, res == CN_PROBE_ERROR ? "errored" : "failed",
                                            msg ? msg : "");
        else *message = CN_TAKE_PTR(msg);
    }
    free(msg);
    return res;
}
