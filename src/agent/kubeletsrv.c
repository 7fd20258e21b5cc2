/* kubeletsrv: the agent's HTTPS endpoint for logs, exec and port-forward
 * (see kubeletsrv.h). This file does the transport: TLS with client
 * certificates, who may call, the URL forms and their options; crilog.c
 * reads logs, remotecmd.c runs exec sessions, portfwd.c port-forwards. */
#include "agent/kubeletsrv.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "agent/crilog.h"
#include "agent/portfwd.h"
#include "agent/remotecmd.h"
#include "agent/wsconn.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/util.h"
#include "lib/websocket.h"

#define DEFAULT_PORT 10250
#define MAX_ARGS 256
#define CERT_DAYS 3650

struct cn_kubeletsrv {
    cn_kubeletsrv_config cfg;
    char *address, *ca, *node_name, *node_ip, *data_dir;
    cn_http_server *http;
};

void cn_kubeletsrv_target_release(cn_kubeletsrv_target *t)
{
    if (!t) return;
    free(t->ctr_id);
    free(t->log_path);
    free(t->prev_log_path);
    free(t->netns_path);
    memset(t, 0, sizeof *t);
}

static void reply_err(cn_http_req *r, cn_err *e)
{
    json_t *st = cn_err_status(e);
    char *s = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    cn_http_respond(r, e->code ? e->code : 500, "application/json", s ? s : "{}",
                    s ? strlen(s) : 2);
    free(s);
    cn_err_clear(e);
}

/* Only the API server may call: its kubelet-client certificate, or any
 * system:masters one, signed by the cluster CA. */
static bool authorized(cn_http_req *r, cn_err *e)
{
    const char *cn = NULL;
    const char *const *orgs = NULL;
    size_t norgs = 0;
    if (!cn_http_client_cert(r, &cn, &orgs, &norgs)) {
        cn_err_set(e, 401, "Unauthorized", "Unauthorized");
        return false;
    }
    if (cn && !strcmp(cn, "kube-apiserver-kubelet-client")) return true;
    for (size_t i = 0; i < norgs; i++)
        if (!strcmp(orgs[i], "system:masters")) return true;
    cn_err_set(e, 403, "Forbidden", "Forbidden (user=%s, verb=%s, resource=nodes, subresource=proxy)",
               cn ? cn : "", cn_http_method(r));
    return false;
}

static bool query_bool(cn_http_req *r, const char *name)
{
    const char *v = cn_http_query(r, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1") || !*v);
}

static int query_int(cn_http_req *r, const char *name, int64_t *out, cn_err *e)
{
    const char *v = cn_http_query(r, name);
    if (!v) return 0;
    if (cn_parse_int64(v, out) < 0 || *out < 0)
        return cn_err_bad_request(e, "invalid %s \"%s\": must be a non-negative integer", name, v);
    return 1;
}

/* ---- logs ---- */

typedef struct logreq {
    cn_kubeletsrv *s;
    char *ns, *pod, *ctr, *ctr_id;
    cn_crilog_reader *rd;
} logreq;

/* Follow mode asks the kubelet again: is this instance still running? */
static bool log_running(void *ud)
{
    logreq *l = ud;
    cn_kubeletsrv_target t = { 0 };
    bool running = false;
    if (l->s->cfg.lookup(l->s->cfg.ud, l->ns, l->pod, l->ctr, &t, NULL) == 0)
        running = t.running && t.ctr_id && l->ctr_id && !strcmp(t.ctr_id, l->ctr_id);
    cn_kubeletsrv_target_release(&t);
    return running;
}

static ssize_t log_fill(void *ud, char *buf, size_t max)
{
    logreq *l = ud;
    return cn_crilog_read(l->rd, buf, max, 1000);
}

static void log_free(void *ud)
{
    logreq *l = ud;
    cn_crilog_close(l->rd);
    free(l->ns);
    free(l->pod);
    free(l->ctr);
    free(l->ctr_id);
    free(l);
}

static void serve_logs(cn_kubeletsrv *s, cn_http_req *r, const char *ns, const char *pod,
                       const char *ctr)
{
    cn_err e = CN_ERR_INIT;
    cn_kubeletsrv_target t = { 0 };
    cn_crilog_opts o = { .tail_lines = -1 };
    int64_t since_s = 0;
    bool previous = query_bool(r, "previous");
    o.follow = query_bool(r, "follow") && !previous;
    o.timestamps = query_bool(r, "timestamps");
    if (query_int(r, "tailLines", &o.tail_lines, &e) < 0 ||
        query_int(r, "limitBytes", &o.limit_bytes, &e) < 0 ||
        query_int(r, "sinceSeconds", &since_s, &e) < 0)
        return reply_err(r, &e);
    if (since_s > 0) o.since_ns = (cn_wall_s() - since_s) * 1000000000LL;
    const char *st = cn_http_query(r, "sinceTime");
    if (st && cn_crilog_parse_time(st, strlen(st), &o.since_ns) < 0) {
        cn_err_bad_request(&e, "invalid sinceTime \"%s\": want an RFC 3339 time", st);
        return reply_err(r, &e);
    }
    if (s->cfg.lookup(s->cfg.ud, ns, pod, ctr, &t, &e) < 0) {
        if (!e.code) cn_err_set(&e, 404, "NotFound", "pods \"%s\" not found", pod);
        return reply_err(r, &e);
    }
    const char *path = previous ? t.prev_log_path : t.log_path;
    if (!path) {
        if (previous)
            cn_err_bad_request(&e, "previous terminated container \"%s\" in pod \"%s\" not found",
                               ctr, pod);
        else
            cn_err_bad_request(&e, "container \"%s\" in pod \"%s\" is waiting to start", ctr, pod);
        cn_kubeletsrv_target_release(&t);
        return reply_err(r, &e);
    }
    logreq *l = cn_calloc(1, sizeof *l);
    l->s = s;
    l->ns = cn_strdup(ns);
    l->pod = cn_strdup(pod);
    l->ctr = cn_strdup(ctr);
    l->ctr_id = cn_strdup(t.ctr_id);
    if (o.follow && t.running) {
        o.running = log_running;
        o.ud = l;
    }
    int rc = cn_crilog_open(path, &o, &l->rd, &e);
    cn_kubeletsrv_target_release(&t);
    if (rc < 0) {
        log_free(l);
        return reply_err(r, &e);
    }
    cn_http_respond_stream(r, 200, "text/plain", log_fill, log_free, l);
}

/* ---- exec ---- */

static void exec_run(void *ud, int fd, const char *extra, size_t nextra)
{
    cn_remotecmd *rc = ud;
    if (rc->spdy) cn_remotecmd_serve_spdy(rc, fd, extra, nextra);
    else cn_remotecmd_serve_ws(rc, fd, extra, nextra);
}

/* SPDY: the protocol is chosen through X-Stream-Protocol-Version. */
static bool spdy_handshake(cn_http_req *r, const char *want, cn_err *e)
{
    const char *v[16];
    size_t n = cn_http_header_all(r, "X-Stream-Protocol-Version", v, 16);
    bool ok = false;
    for (size_t i = 0; i < n; i++) {
        /* Go joins nothing, but a proxy may: "a, b". */
        char *dup = cn_strdup(v[i]), *save = NULL;
        for (char *t = strtok_r(dup, ", ", &save); t && !ok; t = strtok_r(NULL, ", ", &save))
            ok = !strcmp(t, want);
        free(dup);
    }
    if (!ok) {
        cn_err_set(e, 403, "Forbidden", "unable to upgrade: no protocol version in common "
                   "(this node speaks %s)", want);
        return false;
    }
    cn_http_add_header(r, "Upgrade", "SPDY/3.1");
    cn_http_add_header(r, "X-Stream-Protocol-Version", want);
    return true;
}

static void exec_free(void *ud)
{
    cn_remotecmd_release(ud);
    free(ud);
}

/* The WebSocket handshake's answer headers; NULL: refused. */
static const char *ws_handshake(cn_http_req *r, const char *const *ours, size_t nours,
                                cn_err *e)
{
    char accept[29];
    if (cn_wsconn_accept(cn_http_header(r, "Upgrade"), cn_http_header(r, "Sec-WebSocket-Key"),
                         cn_http_header(r, "Sec-WebSocket-Version"), accept) < 0) {
        cn_err_bad_request(e, "a WebSocket upgrade is required (%s%s)", ours[0],
                           nours > 1 ? ", ..." : "");
        return NULL;
    }
    const char *offered[16];
    size_t n = cn_http_header_all(r, "Sec-WebSocket-Protocol", offered, 16);
    const char *proto = NULL;
    for (size_t i = 0; i < n && !proto; i++) proto = cn_ws_pick_protocol(offered[i], ours, nours);
    if (!proto) {
        cn_err_bad_request(e, "no supported WebSocket protocol offered (want %s)", ours[0]);
        return NULL;
    }
    cn_http_add_header(r, "Upgrade", "websocket");
    cn_http_add_header(r, "Sec-WebSocket-Accept", accept);
    cn_http_add_header(r, "Sec-WebSocket-Protocol", proto);
    return proto;
}

static void serve_exec(cn_kubeletsrv *s, cn_http_req *r, const char *ns, const char *pod,
                       const char *ctr, bool attach)
{
    cn_err e = CN_ERR_INIT;
    cn_kubeletsrv_target t = { 0 };
    if (attach) {
        cn_err_set(&e, 501, "NotImplemented",
                   "attach is not supported by this node yet: use exec or logs -f");
        return reply_err(r, &e);
    }
    if (!s->cfg.exec_fn) {
        cn_err_set(&e, 501, "NotImplemented", "exec is not available on node \"%s\"",
                   s->node_name ? s->node_name : "");
        return reply_err(r, &e);
    }
    const char *argv[MAX_ARGS];
    size_t argc = cn_http_query_all(r, "command", argv, MAX_ARGS);
    if (argc == 0) {
        cn_err_bad_request(&e, "you must specify at least 1 command");
        return reply_err(r, &e);
    }
    if (s->cfg.lookup(s->cfg.ud, ns, pod, ctr, &t, &e) < 0) {
        if (!e.code) cn_err_set(&e, 404, "NotFound", "pods \"%s\" not found", pod);
        return reply_err(r, &e);
    }
    if (!t.running || !t.ctr_id) {
        cn_kubeletsrv_target_release(&t);
        cn_err_bad_request(&e, "container %s is not running in pod %s", ctr, pod);
        return reply_err(r, &e);
    }
    const char *up = cn_http_header(r, "Upgrade");
    bool spdy = up && !strcasecmp(up, "SPDY/3.1");
    const char *proto = spdy ? (spdy_handshake(r, "v4.channel.k8s.io", &e) ? "v4.channel.k8s.io" : NULL)
                             : ws_handshake(r, cn_remotecmd_protocols, cn_remotecmd_nprotocols, &e);
    if (!proto) {
        cn_kubeletsrv_target_release(&t);
        return reply_err(r, &e);
    }
    cn_remotecmd *rc = cn_calloc(1, sizeof *rc);
    rc->exec = s->cfg.exec_fn;
    rc->rt = s->cfg.rt;
    rc->ctr_id = t.ctr_id;
    t.ctr_id = NULL;
    rc->argv = cn_calloc(argc + 1, sizeof *rc->argv);
    for (size_t i = 0; i < argc; i++) rc->argv[i] = cn_strdup(argv[i]);
    rc->in = query_bool(r, "stdin");
    rc->out = query_bool(r, "stdout");
    rc->tty = query_bool(r, "tty");
    rc->err = query_bool(r, "stderr") && !rc->tty;
    rc->v5 = !strcmp(proto, "v5.channel.k8s.io");
    rc->spdy = spdy;
    cn_kubeletsrv_target_release(&t);
    cn_http_respond_upgrade(r, exec_run, exec_free, rc);
}

/* ---- port-forward ---- */

static void serve_portforward(cn_kubeletsrv *s, cn_http_req *r, const char *ns, const char *pod)
{
    cn_err e = CN_ERR_INIT;
    cn_kubeletsrv_target t = { 0 };
    if (s->cfg.lookup(s->cfg.ud, ns, pod, NULL, &t, &e) < 0) {
        if (!e.code) cn_err_set(&e, 404, "NotFound", "pods \"%s\" not found", pod);
        return reply_err(r, &e);
    }
    if (!t.netns_path) {
        cn_kubeletsrv_target_release(&t);
        cn_err_bad_request(&e, "pod %s has no network namespace (not running)", pod);
        return reply_err(r, &e);
    }
    cn_portfwd *pf = cn_calloc(1, sizeof *pf);
    pf->netns_path = t.netns_path;
    t.netns_path = NULL;
    cn_kubeletsrv_target_release(&t);
    const char *up = cn_http_header(r, "Upgrade");
    if (up && !strcasecmp(up, "websocket")) {
        if (!ws_handshake(r, cn_portfwd_ws_protocols, cn_portfwd_nws_protocols, &e)) {
            cn_portfwd_free(pf);
            return reply_err(r, &e);
        }
        pf->tunnel = true;
    } else if (up && !strcasecmp(up, "SPDY/3.1")) {
        if (!spdy_handshake(r, "portforward.k8s.io", &e)) {
            cn_portfwd_free(pf);
            return reply_err(r, &e);
        }
    } else {
        cn_portfwd_free(pf);
        cn_err_bad_request(&e, "Upgrade request required");
        return reply_err(r, &e);
    }
    cn_http_respond_upgrade(r, cn_portfwd_run, (void (*)(void *))cn_portfwd_free, pf);
}

/* ---- dispatch ---- */

static void handle(cn_http_req *r, void *ud)
{
    cn_kubeletsrv *s = ud;
    cn_err e = CN_ERR_INIT;
    if (!authorized(r, &e)) return reply_err(r, &e);
    char *path = cn_strdup(cn_http_path(r));
    char *part[6] = { 0 };
    size_t n = 0;
    for (char *p = path; p && *p && n < 6;) {
        while (*p == '/') p++;
        if (!*p) break;
        part[n++] = p;
        char *slash = strchr(p, '/');
        if (slash) *slash++ = '\0';
        p = slash;
    }
    const char *m = cn_http_method(r);
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    if (n == 4 && !strcmp(part[0], "containerLogs") && get)
        serve_logs(s, r, part[1], part[2], part[3]);
    else if (n == 4 && (!strcmp(part[0], "exec") || !strcmp(part[0], "attach")) && (get || post))
        serve_exec(s, r, part[1], part[2], part[3], !strcmp(part[0], "attach"));
    else if (n == 3 && !strcmp(part[0], "portForward") && (get || post))
        serve_portforward(s, r, part[1], part[2]);
    else if (n == 1 && !strcmp(part[0], "healthz") && get)
        cn_http_respond(r, 200, "text/plain", "ok", 2);
    else {
        cn_err_set(&e, 404, "NotFound", "the server could not find the requested resource");
        reply_err(r, &e);
    }
    free(path);
}

/* The serving certificate: kept in DATA/pki/kubelet.{crt,key}, self-signed,
 * made again when missing. */
static int ensure_cert(cn_kubeletsrv *s, char **crt, char **key, cn_err *err)
{
    char *dir = cn_asprintf("%s/pki", s->data_dir);
    char *cp = cn_asprintf("%s/kubelet.crt", dir), *kp = cn_asprintf("%s/kubelet.key", dir);
    int r = 0;
    if (cn_read_file(cp, crt, NULL, NULL) == 0 && cn_read_file(kp, key, NULL, NULL) == 0) goto out;
    free(*crt);
    free(*key);
    *crt = *key = NULL;
    mkdir(s->data_dir, 0700);
    mkdir(dir, 0700);
    const char *sans[] = { "localhost", "127.0.0.1", s->node_name, s->node_ip };
    r = cn_pki_self_signed(s->node_name ? s->node_name : "kubelet", sans, 4, CERT_DAYS, crt, key,
                           err);
    if (r == 0) r = cn_write_file_atomic(kp, *key, strlen(*key), 0600, err);
    if (r == 0) r = cn_write_file_atomic(cp, *crt, strlen(*crt), 0644, err);
out:
    free(dir);
    free(cp);
    free(kp);
    return r;
}

int cn_kubeletsrv_start(const cn_kubeletsrv_config *cfg, cn_kubeletsrv **out, cn_err *err)
{
    if (!cfg || !cfg->lookup || !cfg->client_ca_pem || !cfg->data_dir)
        return cn_err_internal(err, "kubeletsrv: a lookup, the cluster CA and a data dir are needed");
    cn_kubeletsrv *s = cn_calloc(1, sizeof *s);
    s->cfg = *cfg;
    s->address = cn_strdup(cfg->address ? cfg->address : "0.0.0.0");
    s->ca = cn_strdup(cfg->client_ca_pem);
    s->node_name = cn_strdup(cfg->node_name);
    s->node_ip = cn_strdup(cfg->node_ip);
    s->data_dir = cn_strdup(cfg->data_dir);
    char *crt = NULL, *key = NULL, *listen = NULL;
    int r = ensure_cert(s, &crt, &key, err);
    if (r < 0) goto fail;
    int port = cfg->port == 0 ? DEFAULT_PORT : cfg->port < 0 ? 0 : cfg->port;
    bool v6 = strchr(s->address, ':') != NULL;
    listen = cn_asprintf("%s%s%s:%d", v6 ? "[" : "", s->address, v6 ? "]" : "", port);
    cn_http_config hc = { .listen = listen, .cert_pem = crt, .key_pem = key,
                          .client_ca_pem = s->ca, .max_connections = 256,
                          .idle_timeout_s = 3600, .handler = handle, .ud = s };
    r = cn_http_start(&hc, &s->http, err);
    if (r < 0) goto fail;
    free(crt);
    free(key);
    free(listen);
    *out = s;
    return 0;
fail:
    free(crt);
    free(key);
    free(listen);
    cn_kubeletsrv_stop(s);
    return r;
}

int cn_kubeletsrv_port(const cn_kubeletsrv *s) { return s ? cn_http_port(s->http) : -1; }

void cn_kubeletsrv_stop(cn_kubeletsrv *s)
{
    if (!s) return;
    cn_http_stop(s->http);
    free(s->address);
    free(s->ca);
    free(s->node_name);
    free(s->node_ip);
    free(s->data_dir);
    free(s);
}
