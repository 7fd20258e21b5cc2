/* podproxy: pods/log, pods/exec, pods/attach and pods/portforward, which
 * the API server forwards to the agent of the pod's node (its HTTPS
 * endpoint, kubeletsrv.h) as upstream's API server does: a TLS connection
 * to the Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port,
 * presenting the client certificate "kube-apiserver-kubelet-client"
 * (O=system:masters) issued from the cluster CA at startup.
 *
 * Logs are a plain GET whose body is streamed back (follow included). The
 * others are protocol upgrades (WebSocket, or SPDY from older clients): the
 * request line and the upgrade headers go to the agent, its 101 answer is
 * relayed, and from then on bytes are copied both ways until either side
 * closes; the framing is the agent's business. */
#define _GNU_SOURCE   /* strcasestr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/tlsconn.h"
#include "lib/util.h"

#define DIAL_TIMEOUT_MS 5000
#define HEAD_TIMEOUT_MS 30000   /* the agent answers once the command started */
#define MAX_HEAD 16384
#define MAX_ERR_BODY 65536
#define MAX_MULTI 64            /* values kept of one repeated parameter/header */

/* ---- the pod and its node ---- */

static json_t *containers(const json_t *pod)
{
    return json_object_get(json_object_get(pod, "spec"), "containers");
}

static bool has_container(const json_t *pod, const char *name)
{
    static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
    const json_t *spec = json_object_get(pod, "spec");
    for (size_t l = 0; l < 3; l++) {
        size_t i;
        json_t *ct;
        json_array_foreach(json_object_get(spec, lists[l]), i, ct) {
            const char *n = json_string_value(json_object_get(ct, "name"));
            if (n && !strcmp(n, name)) return true;
        }
    }
    return false;
}

/* The container a request means: the one named, else the pod's
 * kubectl.kubernetes.io/default-container, else its only one. */
static const char *pick_container(const json_t *pod, const char *pod_name, const char *want,
                                  cn_err *err)
{
    if (want && *want) {
        if (has_container(pod, want)) return want;
        cn_err_bad_request(err, "container %s is not valid for pod %s", want, pod_name);
        return NULL;
    }
    const char *def = json_string_value(json_object_get(
        json_object_get(json_object_get(pod, "metadata"), "annotations"),
        "kubectl.kubernetes.io/default-container"));
    if (def && has_container(pod, def)) return def;
    json_t *ctrs = containers(pod);
    if (json_array_size(ctrs) == 1)
        return json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
    if (json_array_size(ctrs) == 0) {
        cn_err_bad_request(err, "pod %s has no containers", pod_name);
        return NULL;
    }
    cn_buf m;
    cn_buf_init(&m);
    cn_buf_addf(&m, "a container name must be specified for pod %s, choose one of: [", pod_name);
    size_t i;
    json_t *ct;
    json_array_foreach(ctrs, i, ct) {
        if (i) cn_buf_addc(&m, ' ');
        const char *n = json_string_value(json_object_get(ct, "name"));
        cn_buf_adds(&m, n ? n : "");
    }
    cn_buf_addc(&m, ']');
    cn_err_bad_request(err, "%s", m.data);
    cn_buf_release(&m);
    return NULL;
}

/* The node's InternalIP (else its first address) and kubelet port. */
static int node_endpoint(cn_apiserver *s, const char *node, char **ip, int *port, cn_err *err)
{
    const cn_resource *nodes = cn_registry_lookup(s->reg, "", "v1", "nodes");
    json_t *obj = NULL;
    if (!nodes) return cn_err_internal(err, "nodes are not registered");
    cn_err ge = CN_ERR_INIT;
    if (cn_obj_get(s, nodes, NULL, node, &obj, NULL, &ge) < 0) {
        int r = cn_err_bad_request(err, "cannot reach node \"%s\": %s", node,
                                   ge.message ? ge.message : "not found");
        cn_err_clear(&ge);
        return r;
    }
    json_t *st = json_object_get(obj, "status");
    const char *addr = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(st, "addresses"), i, a) {
        const char *t = json_string_value(json_object_get(a, "type"));
        const char *v = json_string_value(json_object_get(a, "address"));
        if (!v || !*v) continue;
        if (t && !strcmp(t, "InternalIP")) {
            addr = v;
            break;
        }
        if (!addr) addr = v;
    }
    json_int_t p = json_integer_value(json_object_get(
        json_object_get(json_object_get(st, "daemonEndpoints"), "kubeletEndpoint"), "Port"));
    int r = 0;
    if (!addr || p <= 0 || p > 65535)
        r = cn_err_bad_request(err, "node \"%s\" has no kubelet endpoint (status.addresses and "
                               "status.daemonEndpoints.kubeletEndpoint.Port): no agent serves "
                               "logs, exec or port-forward there", node);
    else {
        *ip = cn_strdup(addr);
        *port = (int)p;
    }
    json_decref(obj);
    return r;
}

/* ---- the request to the agent ---- */

static void add_escaped(cn_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            cn_buf_addc(b, (char)*p);
        } else {
            cn_buf_addc(b, '%');
            cn_buf_addc(b, hex[*p >> 4]);
            cn_buf_addc(b, hex[*p & 15]);
        }
    }
}

/* Copies the named query parameters (every value) onto the agent's URL. */
static void add_query(cn_buf *url, cn_reqctx *c, const char *const *names)
{
    bool first = true;
    for (size_t i = 0; names[i]; i++) {
        const char *v[MAX_MULTI];
        size_t n = cn_http_query_all(c->http, names[i], v, MAX_MULTI);
        for (size_t j = 0; j < n; j++) {
            cn_buf_addc(url, first ? '?' : '&');
            first = false;
            cn_buf_adds(url, names[i]);
            cn_buf_addc(url, '=');
            add_escaped(url, v[j]);
        }
    }
}

/* Status code of a response head, or -1. */
static int head_status(const char *head)
{
    if (strncmp(head, "HTTP/1.", 7) || strlen(head) < 12 || head[8] != ' ') return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (head[i] < '0' || head[i] > '9') return -1;
        code = code * 10 + (head[i] - '0');
    }
    return code;
}

/* Calls fn for every header line "Name: value" of a response head. */
static void head_each(const char *head, void (*fn)(void *ud, const char *name, const char *value),
                      void *ud)
{
    const char *p = strstr(head, "\r\n");
    while (p && p[2] && !(p[2] == '\r' && p[3] == '\n')) {
        const char *line = p + 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol) break;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon) {
            char *name = cn_strndup(line, (size_t)(colon - line));
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            char *value = cn_strndup(v, (size_t)(eol - v));
            fn(ud, name, value);
            free(name);
            free(value);
        }
        p = eol;
    }
}

typedef struct head_info {
    cn_reqctx *c;
    bool relay;              /* copy the upgrade headers to our answer */
    char *ctype;
    int64_t clen;            /* -1: none */
} head_info;

static void on_head_header(void *ud, const char *name, const char *value)
{
    head_info *h = ud;
    static const char *const relayed[] = { "Upgrade", "Sec-WebSocket-Accept",
                                           "Sec-WebSocket-Protocol", "X-Stream-Protocol-Version" };
    if (!strcasecmp(name, "Content-Type") && !h->ctype) h->ctype = cn_strdup(value);
    if (!strcasecmp(name, "Content-Length") && cn_parse_int64(value, &h->clen) < 0) h->clen = -1;
    if (!h->relay) return;
    for (size_t i = 0; i < sizeof relayed / sizeof *relayed; i++)
        if (!strcasecmp(name, relayed[i])) cn_http_add_header(h->c->http, relayed[i], value);
}

/* Relays a non-success answer of the agent (its body is a Status or text). */
static void relay_error(cn_reqctx *c, cn_tlsconn *t, int code, head_info *h, cn_buf *rest)
{
    char buf[4096];
    int64_t end = cn_now_ms() + 10000;
    while (rest->len < MAX_ERR_BODY && (h->clen < 0 || (int64_t)rest->len < h->clen) &&
           cn_now_ms() < end) {
        ssize_t n = cn_tls_read(t, buf, sizeof buf, 1000);
        if (n == -EAGAIN) continue;
        if (n <= 0) break;
        cn_buf_add(rest, buf, (size_t)n);
    }
    size_t len = rest->len;
    if (h->clen >= 0 && (int64_t)len > h->clen) len = (size_t)h->clen;
    cn_http_respond(c->http, code, h->ctype ? h->ctype : "text/plain", rest->data ? rest->data : "",
                    len);
}

/* ---- logs: a streamed body ---- */

typedef struct logstream {
    cn_tlsconn *t;
    cn_buf pending;          /* body bytes read with the head */
    size_t off;
} logstream;

static ssize_t log_fill(void *ud, char *buf, size_t max)
{
    logstream *ls = ud;
    if (ls->off < ls->pending.len) {
        size_t n = ls->pending.len - ls->off;
        if (n > max) n = max;
        memcpy(buf, ls->pending.data + ls->off, n);
        ls->off += n;
        return (ssize_t)n;
    }
    ssize_t n = cn_tls_read(ls->t, buf, max, 1000);
    if (n == -EAGAIN) return 0;
    return n > 0 ? n : -1;
}

static void log_free(void *ud)
{
    logstream *ls = ud;
    cn_tls_close(ls->t);
    cn_buf_release(&ls->pending);
    free(ls);
}

/* ---- upgrades: a byte relay ---- */

typedef struct relay {
    cn_tlsconn *t;
    cn_buf pending;          /* agent bytes read with its 101 head */
} relay;

static void relay_run(void *ud, int fd, const char *extra, size_t nextra)
{
    relay *rl = ud;
    if (nextra && cn_tls_write_all(rl->t, extra, nextra) < 0) return;
    size_t off = 0;
    while (off < rl->pending.len) {
        ssize_t n = send(fd, rl->pending.data + off, rl->pending.len - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += (size_t)n;
    }
    cn_tls_splice(rl->t, fd);
}

static void relay_free(void *ud)
{
    relay *rl = ud;
    cn_tls_close(rl->t);
    cn_buf_release(&rl->pending);
    free(rl);
}

static bool is_upgrade(cn_reqctx *c)
{
    const char *conn = cn_http_header(c->http, "Connection");
    return cn_http_header(c->http, "Upgrade") && conn && strcasestr(conn, "upgrade");
}

static void add_request_headers(cn_buf *req, cn_reqctx *c)
{
    static const char *const fwd[] = { "Upgrade", "Connection", "Sec-WebSocket-Key",
                                       "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
                                       "X-Stream-Protocol-Version", NULL };
    for (size_t i = 0; fwd[i]; i++) {
        const char *v[MAX_MULTI];
        size_t n = cn_http_header_all(c->http, fwd[i], v, MAX_MULTI);
        for (size_t j = 0; j < n; j++) {
            if (strpbrk(v[j], "\r\n")) continue;
            cn_buf_addf(req, "%s: %s\r\n", fwd[i], v[j]);
        }
    }
}

void cn_rest_pod_proxy(cn_reqctx *c, const char *sub)
{
    static const char *const log_params[] = { "follow", "previous", "timestamps", "tailLines",
                                              "sinceSeconds", "sinceTime", "limitBytes", NULL };
    static const char *const exec_params[] = { "command", "stdin", "stdout", "stderr", "tty", NULL };
    static const char *const pf_params[] = { "ports", NULL };
    cn_err e = CN_ERR_INIT;
    json_t *pod = NULL;
    char *ip = NULL;
    int port = 0;
    cn_tlsconn *t = NULL;
    cn_buf url, req, head, rest;
    cn_buf_init(&url);
    cn_buf_init(&req);
    cn_buf_init(&head);
    cn_buf_init(&rest);
    head_info h = { .c = c, .clen = -1 };
    bool is_log = !strcmp(sub, "log"), is_pf = !strcmp(sub, "portforward");

    if (is_log ? strcmp(c->method, "GET") : (strcmp(c->method, "GET") && strcmp(c->method, "POST"))) {
        cn_err_set(&e, 405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (cn_obj_get(c->srv, c->res, c->ns, c->name, &pod, NULL, &e) < 0) goto fail;
    const char *ctr = NULL;
    if (!is_pf) {
        ctr = pick_container(pod, c->name, cn_http_query(c->http, "container"), &e);
        if (!ctr) goto fail;
    }
    const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
    if (!node || !*node) {
        cn_err_bad_request(&e, "pod %s does not have a host assigned", c->name);
        goto fail;
    }
    if (!is_log && !is_upgrade(c)) {
        cn_err_bad_request(&e, "Upgrade request required");
        goto fail;
    }
    if (node_endpoint(c->srv, node, &ip, &port, &e) < 0) goto fail;

    cn_buf_addc(&url, '/');
    cn_buf_adds(&url, is_log ? "containerLogs" : is_pf ? "portForward" : sub);
    const char *parts[] = { c->ns, c->name, ctr };
    for (size_t i = 0; i < 3 && parts[i]; i++) {
        cn_buf_addc(&url, '/');
        add_escaped(&url, parts[i]);
    }
    add_query(&url, c, is_log ? log_params : is_pf ? pf_params : exec_params);
    bool v6 = strchr(ip, ':') != NULL;
    if (is_log) {
        /* HTTP/1.0: the body ends with the connection, no chunking. */
        cn_buf_addf(&req, "GET %s HTTP/1.0\r\nHost: %s%s%s:%d\r\n\r\n", url.data, v6 ? "[" : "", ip,
                    v6 ? "]" : "", port);
    } else {
        cn_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n", c->method, url.data,
                    v6 ? "[" : "", ip, v6 ? "]" : "", port);
        add_request_headers(&req, c);
        cn_buf_adds(&req, "Content-Length: 0\r\n\r\n");
    }

    cn_err de = CN_ERR_INIT;
    if (cn_tls_dial(ip, port, c->srv->kubelet_client_cert, c->srv->kubelet_client_key,
                    DIAL_TIMEOUT_MS, &t, &de) < 0) {
        cn_err_internal(&e, "error dialing backend: %s", de.message ? de.message : "failed");
        cn_err_clear(&de);
        goto fail;
    }
    int r = cn_tls_write_all(t, req.data, req.len);
    if (r == 0) r = cn_tls_read_head(t, &head, &rest, MAX_HEAD, HEAD_TIMEOUT_MS);
    int code = r == 0 ? head_status(head.data) : -1;
    if (code < 0) {
        cn_err_internal(&e, "error dialing backend: no valid answer from %s:%d", ip, port);
        goto fail;
    }
    h.relay = code == 101;
    head_each(head.data, on_head_header, &h);
    if (code == 101 && !is_log) {
        relay *rl = cn_calloc(1, sizeof *rl);
        rl->t = t;
        rl->pending = rest;
        cn_buf_init(&rest);
        t = NULL;
        cn_http_respond_upgrade(c->http, relay_run, relay_free, rl);
    } else if (code == 200 && is_log) {
        logstream *ls = cn_calloc(1, sizeof *ls);
        ls->t = t;
        ls->pending = rest;
        cn_buf_init(&rest);
        t = NULL;
        cn_http_respond_stream(c->http, 200, h.ctype ? h.ctype : "text/plain", log_fill, log_free,
                               ls);
    } else {
        relay_error(c, t, code, &h, &rest);
    }
    goto done;
fail:
    cn_rest_reply_err(c, &e);
done:
    cn_tls_close(t);
    free(h.ctype);
    free(ip);
    json_decref(pod);
    cn_buf_release(&url);
    cn_buf_release(&req);
    cn_buf_release(&head);
    cn_buf_release(&rest);
    cn_err_clear(&e);
}
