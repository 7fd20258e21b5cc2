/* client: see client.h. The two transports share everything above "send
 * one request / open one stream": paths, Status decoding, the watch-event
 * framing (one JSON object per line) and the shorthands. */
#include "client/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/util.h"
#include "lib/yaml.h"

#define MAX_POOL 16                     /* idle curl handles kept */
#define REQUEST_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MS 5000L
#define MAX_WATCH_LINE ((size_t)64 << 20)

typedef struct curl_pool {
    pthread_mutex_t lock;
    CURL *idle[MAX_POOL];
    size_t nidle;
} curl_pool;

struct cn_client {
    /* local */
    cn_http_handler handler;
    void *ud;
    char *user;
    char **groups;
    /* kubeconfig */
    char *server;                       /* "https://host:port", no trailing / */
    char *ca, *cert, *key;              /* PEM text */
    char *bearer;                       /* "Authorization: Bearer ..." */
    bool insecure;
    curl_pool pool;
    char *agent;
    pthread_mutex_t agent_lock;
};

/* ---- object helpers ---- */

const char *cn_meta_str(const json_t *obj, const char *field)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
    return s ? s : "";
}

const char *cn_json_str_at(const json_t *obj, const char *dotted)
{
    const json_t *cur = obj;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char part[128];
        if (n >= sizeof part) return "";
        memcpy(part, p, n);
        part[n] = '\0';
        cur = json_object_get(cur, part);
        p = dot ? dot + 1 : p + n;
    }
    const char *s = json_string_value(cur);
    return s ? s : "";
}

const char *cn_controller_uid(const json_t *obj)
{
    const json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r) {
        if (json_is_true(json_object_get(r, "controller")))
            return json_string_value(json_object_get(r, "uid"));
    }
    return NULL;
}

char *cn_client_path(const char *group, const char *version, const char *ns,
                     const char *plural, const char *name, const char *sub)
{
    cn_buf b;
    cn_buf_init(&b);
    if (!group || !*group) cn_buf_addf(&b, "/api/%s", version ? version : "v1");
    else cn_buf_addf(&b, "/apis/%s/%s", group, version);
    if (ns && *ns) cn_buf_addf(&b, "/namespaces/%s", ns);
    if (plural && *plural) cn_buf_addf(&b, "/%s", plural);
    if (name && *name) cn_buf_addf(&b, "/%s", name);
    if (sub && *sub) cn_buf_addf(&b, "/%s", sub);
    return cn_buf_detach(&b, NULL);
}

char *cn_client_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    cn_buf b;
    cn_buf_init(&b);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            cn_buf_addc(&b, (char)*p);
        } else {
            cn_buf_addc(&b, '%');
            cn_buf_addc(&b, hex[*p >> 4]);
            cn_buf_addc(&b, hex[*p & 15]);
        }
    }
    if (!b.data) cn_buf_adds(&b, "");
    return cn_buf_detach(&b, NULL);
}

/* A non-2xx answer into err: the Status object's reason and message, or
 * the raw body when it is not a Status. */
static int status_error(int code, const char *body, size_t len, cn_err *err)
{
    json_t *st = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *reason = json_string_value(json_object_get(st, "reason"));
    const char *msg = json_string_value(json_object_get(st, "message"));
    if (!reason || !*reason) reason = code == 404 ? "NotFound" : code == 409 ? "Conflict" : "Unknown";
    if (msg) cn_err_set(err, code, reason, "%s", msg);
    else cn_err_set(err, code, reason, "HTTP %d: %.*s", code, (int)(len > 200 ? 200 : len), body);
    json_t *details = json_object_get(st, "details");
    if (err && details) {
        json_decref(err->details);
        err->details = json_incref(details);
    }
    bool exists = !strcmp(reason, "AlreadyExists");
    json_decref(st);
    switch (code) {
    case 404: return -ENOENT;
    case 409: return exists ? -EEXIST : -EAGAIN;
    case 410: return -ERANGE;
    case 400: case 422: return -EINVAL;
    case 401: case 403: return -EACCES;
    case 429: return -EBUSY;
    default: return -EIO;
    }
}

static int decode_answer(int code, const char *body, size_t len, json_t **out, cn_err *err)
{
    if (code < 200 || code > 299) return status_error(code, body, len, err);
    if (!out) return 0;
    json_error_t je;
    *out = json_loadb(body, len, 0, &je);
    if (!*out) return cn_err_set(err, 500, "InternalError", "undecodable answer: %s", je.text);
    return 0;
}

static const char *default_ctype(const char *ct) { return ct ? ct : "application/json"; }

/* ---- local transport ---- */

static cn_http_req *local_req(cn_client *c, const char *method, const char *path,
                              const char *ctype, const char *body, size_t len)
{
    cn_http_req *r = cn_http_local_new(method, path, body, len);
    cn_http_local_set_header(r, "Accept", "application/json");
    if (body) cn_http_local_set_header(r, "Content-Type", default_ctype(ctype));
    pthread_mutex_lock(&c->agent_lock);
    cn_http_local_set_header(r, "User-Agent", c->agent);
    pthread_mutex_unlock(&c->agent_lock);
    cn_http_local_set_identity(r, c->user, (const char *const *)c->groups);
    return r;
}

static int local_do(cn_client *c, const char *method, const char *path, const char *ctype,
                    const char *body, size_t len, json_t **out, cn_err *err)
{
    cn_http_req *r = local_req(c, method, path, ctype, body, len);
    c->handler(r, c->ud);
    int code = cn_http_local_status(r);
    size_t blen;
    const char *b = cn_http_local_body(r, &blen);
    int rc = code ? decode_answer(code, b, blen, out, err)
                  : cn_err_internal(err, "the handler sent no response");
    cn_http_local_free(r);
    return rc;
}

int cn_client_new_local(cn_http_handler handler, void *ud, const char *user,
                        const char *const *groups, cn_client **out, cn_err *err)
{
    if (!handler || !user) return cn_err_internal(err, "local client: no handler or user");
    cn_client *c = cn_calloc(1, sizeof *c);
    c->handler = handler;
    c->ud = ud;
    c->user = cn_strdup(user);
    size_t n = 0;
    while (groups && groups[n]) n++;
    c->groups = cn_calloc(n + 1, sizeof *c->groups);
    for (size_t i = 0; i < n; i++) c->groups[i] = cn_strdup(groups[i]);
    c->agent = cn_strdup("cairn");
    pthread_mutex_init(&c->agent_lock, NULL);
    pthread_mutex_init(&c->pool.lock, NULL);
    *out = c;
    return 0;
}

/* ---- kubeconfig transport ---- */

static const json_t *named(const json_t *list, const char *name, const char *inner)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && name && !strcmp(n, name)) return json_object_get(e, inner);
    }
    return NULL;
}

/* PEM text from "<field>-data" (base64) or "<field>" (a file path). */
static int pem_field(const json_t *o, const char *field, char **out, cn_err *err)
{
    char data_key[64];
    snprintf(data_key, sizeof data_key, "%s-data", field);
    const char *d = json_string_value(json_object_get(o, data_key));
    const char *f = json_string_value(json_object_get(o, field));
    *out = NULL;
    if (d) {
        size_t n;
        if (cn_base64_decode(d, strlen(d), (size_t)1 << 20, out, &n) < 0)
            return cn_err_set(err, 400, "BadRequest", "kubeconfig: %s is not base64", data_key);
        return 0;
    }
    if (f) {
        size_t n;
        return cn_read_file(f, out, &n, err);
    }
    return 0;
}

static int load_kubeconfig(cn_client *c, const char *path, cn_err *err)
{
    char *text = NULL;
    size_t len;
    json_t *kc = NULL;
    int r = cn_read_file(path, &text, &len, err);
    if (r < 0) goto out;
    r = cn_yaml_parse(text, len, &kc, err);
    if (r < 0) goto out;
    const char *cur = json_string_value(json_object_get(kc, "current-context"));
    const json_t *ctx = named(json_object_get(kc, "contexts"), cur, "context");
    if (!ctx) {
        r = cn_err_set(err, 400, "BadRequest", "kubeconfig %s: no current context", path);
        goto out;
    }
    const json_t *cl = named(json_object_get(kc, "clusters"), json_string_value(json_object_get(ctx, "cluster")), "cluster");
    const json_t *us = named(json_object_get(kc, "users"), json_string_value(json_object_get(ctx, "user")), "user");
    const char *server = json_string_value(json_object_get(cl, "server"));
    if (!server) {
        r = cn_err_set(err, 400, "BadRequest", "kubeconfig %s: the context's cluster has no server", path);
        goto out;
    }
    c->server = cn_strdup(server);
    size_t sl = strlen(c->server);
    while (sl && c->server[sl - 1] == '/') c->server[--sl] = '\0';
    c->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
    if ((r = pem_field(cl, "certificate-authority", &c->ca, err)) < 0) goto out;
    if ((r = pem_field(us, "client-certificate", &c->cert, err)) < 0) goto out;
    if ((r = pem_field(us, "client-key", &c->key, err)) < 0) goto out;
    const char *tok = json_string_value(json_object_get(us, "token"));
    const char *tokfile = json_string_value(json_object_get(us, "tokenFile"));
    char *filetok = NULL;
    if (!tok && tokfile) {
        size_t n;
        if ((r = cn_read_file(tokfile, &filetok, &n, err)) < 0) goto out;
        while (n && (filetok[n - 1] == '\n' || filetok[n - 1] == '\r')) filetok[--n] = '\0';
        tok = filetok;
    }
    if (tok) c->bearer = cn_asprintf("Authorization: Bearer %s", tok);
    free(filetok);
    r = 0;
out:
    if (r < 0) cn_err_wrap(err, "kubeconfig %s", path);
    json_decref(kc);
    free(text);
    return r;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int cn_client_new_kubeconfig(const char *path, cn_client **out, cn_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    cn_client *c = cn_calloc(1, sizeof *c);
    pthread_mutex_init(&c->agent_lock, NULL);
    pthread_mutex_init(&c->pool.lock, NULL);
    c->agent = cn_strdup("cairn");
    int r = load_kubeconfig(c, path, err);
    if (r < 0) {
        cn_client_free(c);
        return r;
    }
    *out = c;
    return 0;
}

static CURL *pool_take(cn_client *c)
{
    pthread_mutex_lock(&c->pool.lock);
    CURL *h = c->pool.nidle ? c->pool.idle[--c->pool.nidle] : NULL;
    pthread_mutex_unlock(&c->pool.lock);
    if (!h) h = curl_easy_init();
    else curl_easy_reset(h);   /* keeps the connection cache */
    return h;
}

static void pool_give(cn_client *c, CURL *h)
{
    pthread_mutex_lock(&c->pool.lock);
    if (c->pool.nidle < MAX_POOL) {
        c->pool.idle[c->pool.nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool.lock);
    if (h) curl_easy_cleanup(h);
}

static void set_blob(CURL *h, CURLoption opt, const char *pem)
{
    struct curl_blob b = { .data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY };
    curl_easy_setopt(h, opt, &b);
}

static struct curl_slist *setup(cn_client *c, CURL *h, const char *method, const char *url,
                                const char *ctype, bool has_body, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (c->ca) set_blob(h, CURLOPT_CAINFO_BLOB, c->ca);
    if (c->cert) set_blob(h, CURLOPT_SSLCERT_BLOB, c->cert);
    if (c->key) set_blob(h, CURLOPT_SSLKEY_BLOB, c->key);
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    pthread_mutex_lock(&c->agent_lock);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->agent);   /* copied by curl */
    pthread_mutex_unlock(&c->agent_lock);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (c->bearer) hdrs = curl_slist_append(hdrs, c->bearer);
    if (has_body) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", default_ctype(ctype));
        hdrs = curl_slist_append(hdrs, ct);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    return hdrs;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    cn_buf_add(ud, p, size * n);
    return size * n;
}

static int remote_do(cn_client *c, const char *method, const char *path, const char *ctype,
                     const char *body, size_t len, json_t **out, cn_err *err)
{
    CURL *h = pool_take(c);
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = cn_asprintf("%s%s", c->server, path);
    struct curl_slist *hdrs = setup(c, h, method, url, ctype, body != NULL, errbuf);
    cn_buf rb;
    cn_buf_init(&rb);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    CURLcode cc = curl_easy_perform(h);
    int r;
    if (cc != CURLE_OK) {
        r = cn_err_set(err, 503, "ServiceUnavailable", "%s %s: %s", method, url,
                       errbuf[0] ? errbuf : curl_easy_strerror(cc));
        r = -EIO;
    } else {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        r = decode_answer((int)code, rb.data ? rb.data : "", rb.len, out, err);
    }
    curl_slist_free_all(hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    pool_give(c, h);
    cn_buf_release(&rb);
    free(url);
    return r;
}

void cn_client_free(cn_client *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->pool.nidle; i++) curl_easy_cleanup(c->pool.idle[i]);
    pthread_mutex_destroy(&c->pool.lock);
    pthread_mutex_destroy(&c->agent_lock);
    free(c->user);
    for (size_t i = 0; c->groups && c->groups[i]; i++) free(c->groups[i]);
    free(c->groups);
    free(c->server);
    free(c->ca);
    if (c->key) memset(c->key, 0, strlen(c->key));
    free(c->cert);
    free(c->key);
    free(c->bearer);
    free(c->agent);
    free(c);
}

const char *cn_client_ca_pem(const cn_client *c) { return c->ca; }

void cn_client_set_agent(cn_client *c, const char *user_agent)
{
    pthread_mutex_lock(&c->agent_lock);
    free(c->agent);
    c->agent = cn_strdup(user_agent);
    pthread_mutex_unlock(&c->agent_lock);
}

/* ---- requests ---- */

int cn_client_do(cn_client *c, const char *method, const char *path, const char *content_type,
                 const json_t *body, json_t **out, cn_err *err)
{
    if (out) *out = NULL;
    char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !b) return cn_err_internal(err, "request body does not serialize");
    size_t len = b ? strlen(b) : 0;
    int r = c->handler ? local_do(c, method, path, content_type, b, len, out, err)
                       : remote_do(c, method, path, content_type, b, len, out, err);
    free(b);
    return r;
}

int cn_client_get(cn_client *c, const char *path, json_t **out, cn_err *err)
{
    return cn_client_do(c, "GET", path, NULL, NULL, out, err);
}

int cn_client_create(cn_client *c, const char *collection_path, const json_t *obj,
                     json_t **out, cn_err *err)
{
    return cn_client_do(c, "POST", collection_path, NULL, obj, out, err);
}

int cn_client_update(cn_client *c, const char *path, const json_t *obj, json_t **out, cn_err *err)
{
    return cn_client_do(c, "PUT", path, NULL, obj, out, err);
}

int cn_client_patch(cn_client *c, const char *path, cn_patch_kind kind, const json_t *patch,
                    json_t **out, cn_err *err)
{
    const char *ct = kind == CN_PATCH_JSON        ? "application/json-patch+json"
                     : kind == CN_PATCH_STRATEGIC ? "application/strategic-merge-patch+json"
                                                  : "application/merge-patch+json";
    return cn_client_do(c, "PATCH", path, ct, patch, out, err);
}

int cn_client_delete(cn_client *c, const char *path, const json_t *opts, json_t **out, cn_err *err)
{
    return cn_client_do(c, "DELETE", path, NULL, opts, out, err);
}

/* ---- watches ----
 * Both transports produce bytes; lines are cut here. The local one pulls
 * from the in-process stream on the caller's thread; the remote one runs
 * curl on a thread of its own and hands complete lines over. */

typedef struct line {
    struct line *next;
    char *text;
} line;

struct cn_client_watch {
    cn_client *c;
    cn_buf partial;
    /* local */
    cn_http_req *req;
    /* remote */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    line *head, *tail;
    bool done, stop;
    cn_err end;                         /* why the remote stream ended */
    CURL *h;
    struct curl_slist *hdrs;
    char *url;
    char errbuf[CURL_ERROR_SIZE];
};

static char *watch_path(const char *path, const char *rv)
{
    char *erv = cn_client_escape(rv ? rv : "");
    char *p = cn_asprintf("%s%swatch=1&allowWatchBookmarks=true%s%s", path,
                          strchr(path, '?') ? "&" : "?", rv && *rv ? "&resourceVersion=" : "",
                          rv && *rv ? erv : "");
    free(erv);
    return p;
}

/* Feed bytes; complete lines are handed to emit. */
static void split_lines(cn_buf *partial, const char *p, size_t n, void (*emit)(void *, char *), void *ud)
{
    cn_buf_add(partial, p, n);
    char *start = partial->data;
    char *nl;
    while ((nl = memchr(start, '\n', partial->len - (size_t)(start - partial->data)))) {
        *nl = '\0';
        if (nl > start) emit(ud, cn_strdup(start));
        start = nl + 1;
    }
    size_t rest = partial->len - (size_t)(start - partial->data);
    memmove(partial->data, start, rest);
    partial->len = rest;
    partial->data[rest] = '\0';
}

static void push_line(void *ud, char *text)
{
    cn_client_watch *w = ud;
    line *l = cn_calloc(1, sizeof *l);
    l->text = text;
    if (w->tail) w->tail->next = l;
    else w->head = l;
    w->tail = l;
}

static size_t on_stream(char *p, size_t size, size_t n, void *ud)
{
    cn_client_watch *w = ud;
    pthread_mutex_lock(&w->lock);
    bool stop = w->stop;
    if (!stop && w->partial.len + size * n > MAX_WATCH_LINE) stop = true;
    if (!stop) split_lines(&w->partial, p, size * n, push_line, w);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return stop ? 0 : size * n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    cn_client_watch *w = ud;
    pthread_mutex_lock(&w->lock);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->lock);
    return stop ? 1 : 0;
}

static void *watch_thread(void *ud)
{
    cn_client_watch *w = ud;
    CURLcode cc = curl_easy_perform(w->h);
    long code = 0;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &code);
    pthread_mutex_lock(&w->lock);
    if (code >= 300) {
        status_error((int)code, w->partial.data ? w->partial.data : "", w->partial.len, &w->end);
    } else if (cc != CURLE_OK && !w->stop) {
        cn_err_set(&w->end, 503, "ServiceUnavailable", "watch %s: %s", w->url,
                   w->errbuf[0] ? w->errbuf : curl_easy_strerror(cc));
    }
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int cn_client_watch_start(cn_client *c, const char *path, const char *rv,
                          cn_client_watch **out, cn_err *err)
{
    char *p = watch_path(path, rv);
    cn_client_watch *w = cn_calloc(1, sizeof *w);
    w->c = c;
    cn_buf_init(&w->partial);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    int r = 0;
    if (c->handler) {
        w->req = local_req(c, "GET", p, NULL, NULL, 0);
        c->handler(w->req, c->ud);
        int code = cn_http_local_status(w->req);
        if (code != 200 || !cn_http_local_is_stream(w->req)) {
            size_t blen;
            const char *b = cn_http_local_body(w->req, &blen);
            r = code >= 300 ? status_error(code, b, blen, err)
                            : cn_err_internal(err, "watch %s: no stream (HTTP %d)", path, code);
        }
    } else {
        w->h = curl_easy_init();
        w->url = cn_asprintf("%s%s", c->server, p);
        w->hdrs = setup(c, w->h, "GET", w->url, NULL, false, w->errbuf);
        curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_stream);
        curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
        curl_easy_setopt(w->h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(w->h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(w->h, CURLOPT_XFERINFODATA, w);
        if (pthread_create(&w->thread, NULL, watch_thread, w) != 0)
            r = cn_err_internal(err, "watch: cannot start a thread");
        else
            w->thread_started = true;
    }
    free(p);
    if (r < 0) {
        cn_client_watch_free(w);
        return r;
    }
    *out = w;
    return 0;
}

/* One line into an event; 1, or negative for an ERROR event / junk. */
static int parse_event(const char *text, cn_watch_event *ev, cn_err *err)
{
    json_t *e = json_loads(text, 0, NULL);
    const char *type = json_string_value(json_object_get(e, "type"));
    json_t *obj = json_object_get(e, "object");
    int r;
    if (!type || !json_is_object(obj)) {
        r = cn_err_internal(err, "watch: undecodable event");
    } else if (!strcmp(type, "ERROR")) {
        int code = (int)json_integer_value(json_object_get(obj, "code"));
        const char *reason = json_string_value(json_object_get(obj, "reason"));
        const char *msg = json_string_value(json_object_get(obj, "message"));
        cn_err_set(err, code ? code : 500, reason ? reason : "InternalError", "%s", msg ? msg : "watch error");
        r = code == 410 ? -ERANGE : -EIO;
    } else {
        snprintf(ev->type, sizeof ev->type, "%s", type);
        ev->object = json_incref(obj);
        r = 1;
    }
    json_decref(e);
    return r;
}

static void local_line(void *ud, char *text)
{
    cn_client_watch *w = ud;
    push_line(w, text);
}

int cn_client_watch_next(cn_client_watch *w, int timeout_ms, cn_watch_event *ev, cn_err *err)
{
    ev->object = NULL;
    ev->type[0] = '\0';
    int64_t deadline = cn_now_ms() + timeout_ms;
    if (w->req) {
        char buf[16384];
        while (!w->head) {
            ssize_t n = cn_http_local_read(w->req, buf, sizeof buf);
            if (n < 0) return cn_err_set(err, 503, "ServiceUnavailable", "watch stream ended");
            if (n > 0) {
                if (w->partial.len + (size_t)n > MAX_WATCH_LINE)
                    return cn_err_internal(err, "watch: event too large");
                split_lines(&w->partial, buf, (size_t)n, local_line, w);
            }
            if (!w->head && cn_now_ms() >= deadline) return 0;
        }
    } else {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->done) {
            int64_t left = deadline - cn_now_ms();
            if (left <= 0) break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        }
        if (!w->head) {
            int r = 0;
            if (w->done) {
                if (w->end.code) {
                    cn_err_set(err, w->end.code, w->end.reason, "%s", w->end.message ? w->end.message : "");
                    r = w->end.code == 410 ? -ERANGE : -EIO;
                } else {
                    r = cn_err_set(err, 503, "ServiceUnavailable", "watch stream ended");
                }
            }
            pthread_mutex_unlock(&w->lock);
            return r;
        }
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_lock(&w->lock);
    line *l = w->head;
    w->head = l->next;
    if (!w->head) w->tail = NULL;
    pthread_mutex_unlock(&w->lock);
    int r = parse_event(l->text, ev, err);
    free(l->text);
    free(l);
    return r;
}

void cn_client_watch_free(cn_client_watch *w)
{
    if (!w) return;
    if (w->thread_started) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    if (w->h) curl_easy_cleanup(w->h);
    curl_slist_free_all(w->hdrs);
    if (w->req) cn_http_local_free(w->req);
    while (w->head) {
        line *l = w->head;
        w->head = l->next;
        free(l->text);
        free(l);
    }
    cn_err_clear(&w->end);
    cn_buf_release(&w->partial);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->url);
    free(w);
}
