/* etcd-client: HTTP/1.1 transport to etcd's v3 JSON gateway for the etcd
 * store backend (etcd-internal.h).
 *
 * A pool of curl easy handles, one per concurrent caller, each keeping its
 * connection alive between requests (a handle is never shared by two
 * threads). All requests go to the current endpoint; when a request cannot
 * even be sent (connection refused, DNS, connect timeout) the client moves
 * to the next endpoint and retries. etcd errors that guarantee nothing was
 * applied (no leader, leader changed, not capable, too many requests) are
 * retried too, with a short backoff, for at most RETRY_BUDGET_MS. A write
 * whose fate is unknown (it was sent, then the connection broke or timed
 * out) is never retried: the caller gets -ETIMEDOUT/-EIO and must re-read.
 *
 * Streams (watch) run on a private curl multi handle so shutdown can wake
 * them at once (curl_multi_wakeup) instead of waiting for a timeout.
 *
 * Experiment: CAIRN_ETCD_TRANSPORT=grpc sends the unary KV calls (Range,
 * Txn, Compact) as gRPC over HTTP/2 instead (etcd-grpc.c translates the
 * same JSON to protobuf and back), which spares etcd the gateway's
 * JSON<->protobuf re-encoding. Those handles keep their own pool. HTTP/2
 * without TLS needs libcurl >= 7.89.0: older ones (Debian 12's 7.88.1)
 * break every reused prior-knowledge connection (curl issue #10634), so
 * with plain-http endpoints there the client stays on the gateway. */
#include "store/etcd-internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/base64.h"

#include "lib/log.h"

#define MAX_ENDPOINTS 16
#define CONNECT_TIMEOUT_MS 1000L
#define REQUEST_TIMEOUT_MS 5000L
/* A write forwarded to a leader that just died hangs until etcd's own
 * request timeout; etcd.c resolves an unanswered write by reading the key
 * back, so waiting less and checking is cheaper than waiting it out. */
#define WRITE_TIMEOUT_MS 1500L
#define RETRY_BUDGET_MS 5000
/* A list answer holds many values of up to 8 MiB each (base64: x4/3). */
#define MAX_RESPONSE ((size_t)512 << 20)
/* One watch message: a batch of events with their previous values. */
#define MAX_STREAM_MSG ((size_t)128 << 20)

typedef struct handle {
    CURL *h;
    bool grpc;                      /* HTTP/2 + gRPC headers (own pool) */
    struct handle *next;
    char why[CURL_ERROR_SIZE];      /* curl's detail (the TLS alert, ...) */
} handle;

typedef struct stream_slot {
    CURLM *m;
    struct stream_slot *next;
} stream_slot;

struct cn_etcd_client {
    char *eps[MAX_ENDPOINTS];
    int neps;
    int cur;                        /* atomic: index into eps */
    char *cafile, *certfile, *keyfile;
    struct curl_slist *headers;
    struct curl_slist *grpc_headers;
    bool grpc;                      /* unary KV calls over gRPC */

    pthread_mutex_t lock;           /* pool, streams, stopping */
    handle *free_handles;
    handle *free_grpc;
    stream_slot *streams;
    bool stopping;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    /* curl_global_init is not thread-safe and must run once per process;
     * its memory lives as long as the process (never cleaned up). */
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- base64 / JSON helpers ---- */

json_t *cn_etcd_b64_json(const void *data, size_t len)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, data, len);
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    cn_buf_release(&b);
    return j;
}

int64_t cn_etcd_i64(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_integer(v)) return json_integer_value(v);
    int64_t r = 0;
    if (json_is_string(v) && cn_parse_int64(json_string_value(v), &r) == 0) return r;
    return 0;
}

/* ---- endpoints and handles ---- */

const char *cn_etcd_endpoint(cn_etcd_client *c)
{
    return c->eps[__atomic_load_n(&c->cur, __ATOMIC_RELAXED) % c->neps];
}

/* Move off endpoint `ep` (unless another thread already did). */
static void next_endpoint(cn_etcd_client *c, int ep)
{
    int want = (ep + 1) % c->neps;
    __atomic_compare_exchange_n(&c->cur, &ep, want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    cn_buf *b = ud;
    size_t len = size * n;
    if (b->len + len > MAX_RESPONSE) return 0;     /* aborts: CURLE_WRITE_ERROR */
    cn_buf_add(b, p, len);
    return len;
}

static void setup(cn_etcd_client *c, CURL *h, bool grpc)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, grpc ? c->grpc_headers : c->headers);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* gRPC: h2 by ALPN on https, prior knowledge (h2c) on http. */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, !grpc ? (long)CURL_HTTP_VERSION_1_1
                                                    : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    if (c->cafile) curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
    if (c->certfile) curl_easy_setopt(h, CURLOPT_SSLCERT, c->certfile);
    if (c->keyfile) curl_easy_setopt(h, CURLOPT_SSLKEY, c->keyfile);
}

static CURL *handle_get(cn_etcd_client *c, handle **slot, bool grpc)
{
    pthread_mutex_lock(&c->lock);
    handle **pool = grpc ? &c->free_grpc : &c->free_handles;
    handle *hd = *pool;
    if (hd) *pool = hd->next;
    pthread_mutex_unlock(&c->lock);
    if (!hd) {
        hd = cn_calloc(1, sizeof *hd);
        hd->h = curl_easy_init();
        if (!hd->h) {
            free(hd);
            return NULL;
        }
        hd->grpc = grpc;
        setup(c, hd->h, grpc);
        curl_easy_setopt(hd->h, CURLOPT_ERRORBUFFER, hd->why);
    }
    *slot = hd;
    return hd->h;
}

static void handle_put(cn_etcd_client *c, handle *hd)
{
    pthread_mutex_lock(&c->lock);
    handle **pool = hd->grpc ? &c->free_grpc : &c->free_handles;
    hd->next = *pool;
    *pool = hd;
    pthread_mutex_unlock(&c->lock);
}

/* ---- errors ---- */

/* What went wrong with a transfer, for the operator: curl's detail when it
 * has one ("SSL certificate problem: unable to get local issuer
 * certificate", "... tlsv13 alert certificate required") rather than its
 * generic text, and a pointer at TLS when the endpoint's scheme and the
 * failure suggest a certificate or scheme mismatch. */
static char *transfer_error(const char *ep, CURLcode rc, const char *detail)
{
    const char *what = detail && *detail ? detail : curl_easy_strerror(rc);
    const char *hint = "";
    bool tls = cn_str_has_prefix(ep, "https://");
    if (tls && (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
                rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
                rc == CURLE_SSL_CIPHER || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR))
        hint = " (TLS: check the CA file, client certificate and key)";
    else if (!tls && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR))
        hint = " (does the member serve https?)";
    return cn_asprintf("%s%s", what, hint);
}

/* The curl failures where the request certainly never reached etcd. */
static bool not_sent(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
           rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM;
}

typedef enum err_class {
    EC_RETRY,      /* refused before proposing: safe to retry anything */
    EC_UNKNOWN,    /* may or may not have been applied: retry reads only */
    EC_FINAL,      /* a definite answer */
} err_class;

/* etcd 3.4's error strings (api/v3rpc/rpctypes). */
static err_class classify(const char *msg, int *errnum, int *http, const char **reason)
{
    static const char *const retry[] = {
        "etcdserver: no leader", "etcdserver: leader changed", "etcdserver: not capable",
        "etcdserver: too many requests", "etcdserver: not leader",
        "etcdserver: unhealthy cluster",
    };
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        if (strstr(msg, retry[i])) {
            *errnum = -EAGAIN, *http = 503, *reason = "ServiceUnavailable";
            return EC_RETRY;
        }
    if (strstr(msg, "request timed out") || strstr(msg, "server stopped")) {
        *errnum = -ETIMEDOUT, *http = 504, *reason = "Timeout";
        return EC_UNKNOWN;
    }
    if (strstr(msg, "required revision has been compacted")) {
        *errnum = -ERANGE, *http = 410, *reason = "Expired";
    } else if (strstr(msg, "request is too large")) {
        *errnum = -EFBIG, *http = 413, *reason = "RequestEntityTooLarge";
    } else if (strstr(msg, "database space exceeded")) {
        *errnum = -ENOSPC, *http = 500, *reason = "InternalError";
    } else {
        *errnum = -EIO, *http = 500, *reason = "InternalError";
    }
    return EC_FINAL;
}

/* The error message of a gateway answer, or NULL: unary answers carry
 * {"error": "...", "code": N}, stream messages {"error": {"message": ...}}. */
static const char *answer_error(json_t *j)
{
    json_t *e = json_object_get(j, "error");
    if (json_is_string(e)) return json_string_value(e);
    if (json_is_object(e)) {
        const char *m = json_string_value(json_object_get(e, "message"));
        return m ? m : "unknown error";
    }
    return NULL;
}

static void backoff(int attempt)
{
    long ms = 25L << (attempt < 5 ? attempt : 5);   /* 25 ms .. 800 ms */
    if (ms > 500) ms = 500;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- gRPC framing (the experiment; see the top of the file) ---- */

/* Whether every endpoint can carry HTTP/2 on a reused connection. */
static bool h2_usable(cn_etcd_client *c)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!(v->features & CURL_VERSION_HTTP2)) return false;
    if (v->version_num >= 0x075900) return true;
    for (int i = 0; i < c->neps; i++)
        if (!cn_str_has_prefix(c->eps[i], "https://")) return false;
    return true;
}

typedef struct grpc_status {
    int code;                       /* -1: no grpc-status seen */
    char msg[512];
} grpc_status;

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Headers and trailers alike: grpc-status and grpc-message may come in
 * either (a trailers-only answer carries them in the headers). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    grpc_status *gs = ud;
    size_t len = size * n;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n')) len--;
    if (len > 12 && strncasecmp(p, "grpc-status:", 12) == 0) {
        int64_t v = -1;
        char num[16];
        size_t i = 12, k = 0;
        while (i < len && p[i] == ' ') i++;
        while (i < len && k < sizeof num - 1) num[k++] = p[i++];
        num[k] = '\0';
        gs->code = cn_parse_int64(num, &v) == 0 && v >= 0 && v < 100 ? (int)v : 2;
    } else if (len >= 13 && strncasecmp(p, "grpc-message:", 13) == 0) {
        size_t i = 13, k = 0;
        while (i < len && p[i] == ' ') i++;
        /* Percent-encoded (gRPC's HTTP/2 mapping). */
        while (i < len && k < sizeof gs->msg - 1) {
            int hi, lo;
            if (p[i] == '%' && i + 2 < len && (hi = hexval(p[i + 1])) >= 0 &&
                (lo = hexval(p[i + 2])) >= 0) {
                gs->msg[k++] = (char)(hi << 4 | lo);
                i += 3;
            } else {
                gs->msg[k++] = p[i++];
            }
        }
        gs->msg[k] = '\0';
    }
    return size * n;
}

/* The answer of a gRPC call: the object, or the error message (in gs), or
 * neither (an unreadable answer). */
static json_t *grpc_answer(const char *path, long status, grpc_status *gs, cn_buf *rb,
                           const char **emsg)
{
    *emsg = NULL;
    if (gs->code > 0) {
        if (!gs->msg[0]) snprintf(gs->msg, sizeof gs->msg, "gRPC status %d", gs->code);
        *emsg = gs->msg;
        return NULL;
    }
    if (status != 200 || gs->code != 0 || rb->len < 5) return NULL;
    const unsigned char *b = (const unsigned char *)rb->data;
    size_t n = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (b[0] != 0 || n != rb->len - 5) return NULL;     /* compressed or not one message */
    json_t *j = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_etcd_pb_decode(path, b + 5, n, &j, &e) < 0) j = NULL;
    cn_err_clear(&e);
    return j;
}

int cn_etcd_call(cn_etcd_client *c, const char *path, json_t *req, int kind,
                 json_t **resp, cn_err *err)
{
    const char *method = c->grpc ? cn_etcd_grpc_method(path) : NULL;
    char *body = NULL;
    size_t body_len = 0;
    if (method) {
        cn_buf pb;
        cn_buf_init(&pb);
        cn_buf_add(&pb, "\0\0\0\0\0", 5);
        int r = cn_etcd_pb_encode(path, req, &pb, err);
        if (r < 0 || pb.len - 5 > 0xffffffffu) {
            cn_buf_release(&pb);
            return r < 0 ? r : (cn_err_internal(err, "etcd: request too large"), -EFBIG);
        }
        size_t n = pb.len - 5;
        unsigned char *hdr = (unsigned char *)pb.data;
        hdr[1] = (unsigned char)(n >> 24), hdr[2] = (unsigned char)(n >> 16);
        hdr[3] = (unsigned char)(n >> 8), hdr[4] = (unsigned char)n;
        body = cn_buf_detach(&pb, &body_len);
    } else {
        body = json_dumps(req, JSON_COMPACT);
        if (!body) return cn_err_internal(err, "etcd: cannot encode a request"), -ENOMEM;
        body_len = strlen(body);
    }
    handle *hd = NULL;
    CURL *h = handle_get(c, &hd, method != NULL);
    if (!h) {
        free(body);
        return cn_err_internal(err, "etcd: cannot create a curl handle"), -ENOMEM;
    }
    cn_buf rb;
    cn_buf_init(&rb);
    grpc_status gs;
    if (method) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &gs);
    }
    int64_t deadline = cn_now_ms() + RETRY_BUDGET_MS;
    int r = -EIO;
    for (int attempt = 0;; attempt++) {
        int ep = __atomic_load_n(&c->cur, __ATOMIC_RELAXED) % c->neps;
        char *url = cn_asprintf("%s%s", c->eps[ep], method ? method : path);
        cn_buf_reset(&rb);
        gs.code = -1;
        gs.msg[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &rb);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, kind == CN_ETCD_READ ? 4 * REQUEST_TIMEOUT_MS
                                                                     : WRITE_TIMEOUT_MS);
        hd->why[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        free(url);
        bool retry_ok = cn_now_ms() < deadline;
        if (rc != CURLE_OK) {
            if (not_sent(rc) || kind == CN_ETCD_READ) {
                next_endpoint(c, ep);
                if (retry_ok) {
                    if (attempt >= c->neps - 1) backoff(attempt - c->neps + 1);
                    continue;
                }
                char *why = transfer_error(c->eps[ep], rc, hd->why);
                cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: %s", c->eps[ep], why);
                free(why);
                r = -EAGAIN;
                break;
            }
            next_endpoint(c, ep);
            /* Sent, no answer: the write may or may not have been applied. */
            char *why = transfer_error(c->eps[ep], rc, hd->why);
            cn_err_set(err, 504, "Timeout",
                       "etcd %s: %s; the outcome of the write is unknown", c->eps[ep], why);
            free(why);
            r = -ETIMEDOUT;     /* the one "outcome unknown" errno (etcd-internal.h) */
            break;
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        json_t *j;
        const char *emsg;
        if (method) {
            j = grpc_answer(path, status, &gs, &rb, &emsg);
        } else {
            json_error_t je;
            j = rb.len ? json_loadb(rb.data, rb.len, 0, &je) : NULL;
            emsg = json_is_object(j) ? answer_error(j) : NULL;
        }
        if (j && json_is_object(j) && !emsg && status == 200) {
            *resp = j;
            r = 0;
            break;
        }
        if (!emsg) {
            cn_err_set(err, 500, "InternalError", "etcd %s: HTTP %ld with %s", c->eps[ep], status,
                       j ? "an unexpected answer" : "an unreadable answer");
            json_decref(j);
            r = -EIO;
            break;
        }
        int errnum, http;
        const char *reason;
        err_class cl = classify(emsg, &errnum, &http, &reason);
        if ((cl == EC_RETRY || (cl == EC_UNKNOWN && kind == CN_ETCD_READ)) && retry_ok) {
            json_decref(j);
            if (cl == EC_UNKNOWN) next_endpoint(c, ep);
            backoff(attempt);
            continue;
        }
        cn_err_set(err, http, reason, "etcd %s: %s%s", c->eps[ep], emsg,
                   cl == EC_UNKNOWN ? "; the outcome of the write is unknown" : "");
        json_decref(j);
        r = errnum;
        break;
    }
    cn_buf_release(&rb);
    free(body);
    handle_put(c, hd);
    return r;
}

/* ---- streams ---- */

typedef struct stream {
    cn_buf line;
    cn_etcd_msg_fn fn;
    void *ud;
    cn_err *err;
    int result;       /* > 0 fn asked to stop, < 0 error, 0 running */
} stream;

static size_t on_stream(char *p, size_t size, size_t n, void *ud)
{
    stream *st = ud;
    size_t len = size * n;
    if (st->result) return 0;
    /* The gateway ends every message with a newline; JSON strings in it
     * never hold a raw one. */
    for (size_t i = 0; i < len; i++) {
        char *nl = memchr(p + i, '\n', len - i);
        size_t take = nl ? (size_t)(nl - (p + i)) : len - i;
        if (st->line.len + take > MAX_STREAM_MSG) {
            st->result = (cn_err_internal(st->err, "etcd: stream message larger than %zu bytes",
                                         MAX_STREAM_MSG), -EFBIG);
            return 0;
        }
        cn_buf_add(&st->line, p + i, take);
        i += take;
        if (!nl) break;
        if (st->line.len == 0) continue;
        json_error_t je;
        json_t *j = json_loadb(st->line.data, st->line.len, 0, &je);
        cn_buf_reset(&st->line);
        if (!json_is_object(j)) {
            json_decref(j);
            st->result = -EIO;
            cn_err_internal(st->err, "etcd: unreadable stream message");
            return 0;
        }
        int r = st->fn(st->ud, j, st->err);
        json_decref(j);
        if (r != 0) {
            st->result = r;
            return 0;
        }
    }
    return len;
}

int cn_etcd_stream(cn_etcd_client *c, const char *path, json_t *req, int idle_s,
                   cn_etcd_msg_fn fn, void *ud, cn_err *err)
{
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body) return cn_err_internal(err, "etcd: cannot encode a request"), -ENOMEM;
    int ep = __atomic_load_n(&c->cur, __ATOMIC_RELAXED) % c->neps;
    char *url = cn_asprintf("%s%s", c->eps[ep], path);
    stream st = { .fn = fn, .ud = ud, .err = err };
    cn_buf_init(&st.line);
    stream_slot slot = { 0 };
    char detail[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    slot.m = curl_multi_init();
    int r;
    if (!h || !slot.m) {
        r = (cn_err_internal(err, "etcd: cannot create a curl handle"), -ENOMEM);
        goto out;
    }
    setup(c, h, false);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
    if (idle_s > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)idle_s);
    }
    curl_multi_add_handle(slot.m, h);

    pthread_mutex_lock(&c->lock);
    bool stopping = c->stopping;
    if (!stopping) {
        slot.next = c->streams;
        c->streams = &slot;
    }
    pthread_mutex_unlock(&c->lock);

    CURLcode rc = CURLE_OK;
    bool done = stopping;
    while (!done) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(slot.m, &running);
        if (mc != CURLM_OK) {
            rc = CURLE_RECV_ERROR;
            break;
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(slot.m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                rc = msg->data.result;
                done = true;
            }
        if (done || !running) break;
        pthread_mutex_lock(&c->lock);
        stopping = c->stopping;
        pthread_mutex_unlock(&c->lock);
        if (stopping) break;
        curl_multi_poll(slot.m, NULL, 0, 1000, NULL);
    }

    pthread_mutex_lock(&c->lock);
    stopping = c->stopping;
    for (stream_slot **pp = &c->streams; *pp; pp = &(*pp)->next)
        if (*pp == &slot) {
            *pp = slot.next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    curl_multi_remove_handle(slot.m, h);

    if (st.result > 0) {
        r = 0;
    } else if (st.result < 0) {
        r = st.result;
    } else if (stopping) {
        r = (cn_err_set(err, 503, "ServiceUnavailable", "etcd: shutting down"), -ESHUTDOWN);
    } else {
        next_endpoint(c, ep);
        if (rc == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: stream ended (HTTP %ld)",
                       c->eps[ep], status);
            r = -EPIPE;
        } else {
            char *why = transfer_error(c->eps[ep], rc, detail);
            cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: stream broke: %s", c->eps[ep], why);
            free(why);
            r = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EPIPE;
        }
    }
out:
    if (slot.m) curl_multi_cleanup(slot.m);
    if (h) curl_easy_cleanup(h);
    cn_buf_release(&st.line);
    free(url);
    free(body);
    return r;
}

/* ---- lifecycle ---- */

void cn_etcd_client_shutdown(cn_etcd_client *c)
{
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    for (stream_slot *s = c->streams; s; s = s->next) curl_multi_wakeup(s->m);
    pthread_mutex_unlock(&c->lock);
}

void cn_etcd_client_free(cn_etcd_client *c)
{
    if (!c) return;
    for (int p = 0; p < 2; p++)
        for (handle *hd = p ? c->free_grpc : c->free_handles, *next; hd; hd = next) {
            next = hd->next;
            curl_easy_cleanup(hd->h);
            free(hd);
        }
    for (int i = 0; i < c->neps; i++) free(c->eps[i]);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->grpc_headers);
    free(c->cafile);
    free(c->certfile);
    free(c->keyfile);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int check_readable(const char *what, const char *path, cn_err *err)
{
    if (!path) return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        return cn_err_bad_request(err, "etcd: cannot read the %s \"%s\": %s", what, path,
                                  strerror(e)), -e;
    }
    fclose(f);
    return 0;
}

int cn_etcd_client_new(const cn_etcd_config *cfg, cn_etcd_client **out, cn_err *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return cn_err_internal(err, "etcd: cannot initialise libcurl"), -EIO;
    if (!cfg || !cfg->endpoints || !*cfg->endpoints)
        return cn_err_bad_request(err, "etcd: no endpoints given"), -EINVAL;
    cn_etcd_client *c = cn_calloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    int r = 0;
    const char *p = cfg->endpoints;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t len = n;
        while (len && (*e == ' ' || *e == '\t')) e++, len--;
        while (len && (e[len - 1] == ' ' || e[len - 1] == '\t' || e[len - 1] == '/')) len--;
        if (len) {
            char *ep = cn_strndup(e, len);
            if (!cn_str_has_prefix(ep, "http://") && !cn_str_has_prefix(ep, "https://")) {
                r = (cn_err_bad_request(err, "etcd: endpoint \"%s\" must start with http:// or https://",
                                       ep), -EINVAL);
                free(ep);
                goto fail;
            }
            if (c->neps == MAX_ENDPOINTS) {
                r = (cn_err_bad_request(err, "etcd: more than %d endpoints", MAX_ENDPOINTS), -EINVAL);
                free(ep);
                goto fail;
            }
            c->eps[c->neps++] = ep;
        }
        p += n;
        if (*p == ',') p++;
    }
    if (!c->neps) {
        r = (cn_err_bad_request(err, "etcd: no endpoints given"), -EINVAL);
        goto fail;
    }
    c->cafile = cn_strdup(cfg->cafile && *cfg->cafile ? cfg->cafile : NULL);
    c->certfile = cn_strdup(cfg->certfile && *cfg->certfile ? cfg->certfile : NULL);
    c->keyfile = cn_strdup(cfg->keyfile && *cfg->keyfile ? cfg->keyfile : NULL);
    /* A missing file would otherwise surface only as a retried handshake
     * failure with curl's vague "problem with the SSL CA cert". */
    r = check_readable("CA file", c->cafile, err);
    if (r >= 0) r = check_readable("client certificate", c->certfile, err);
    if (r >= 0) r = check_readable("client key", c->keyfile, err);
    if (r < 0) goto fail;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* Without it curl waits for "100 Continue" before sending big values. */
    c->headers = curl_slist_append(c->headers, "Expect:");
    /* Watches on a member cut off from the leader are cancelled instead of
     * going quiet (grpc-gateway forwards it as gRPC metadata "hasleader"). */
    c->headers = curl_slist_append(c->headers, "Grpc-Metadata-Hasleader: true");
    const char *tr = getenv("CAIRN_ETCD_TRANSPORT");
    c->grpc = tr && strcmp(tr, "grpc") == 0 && h2_usable(c);
    c->grpc_headers = curl_slist_append(NULL, "Content-Type: application/grpc");
    c->grpc_headers = curl_slist_append(c->grpc_headers, "TE: trailers");
    c->grpc_headers = curl_slist_append(c->grpc_headers, "Expect:");
    *out = c;
    return 0;
fail:
    cn_etcd_client_free(c);
    return r;
}
