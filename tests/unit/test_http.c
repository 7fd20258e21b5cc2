/* Unit tests for http: a TLS server on port 0 driven by libcurl (request
 * accessors, 413, client certificates, streams, concurrency) and a plain
 * server fed hostile bytes over raw sockets. */
#include "lib/http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/pki.h"
#include "lib/util.h"
#include "test.h"

static char tmpdir[64];
static cn_pki pki;
static atomic_int handler_calls;
static atomic_int stream_frees;
static atomic_bool first_chunk_seen;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- server side ---- */

typedef struct tstream {
    int mode;        /* 0: wait for the client to see chunk 1, then end; 1: never end */
    int sent;
    int64_t deadline;
} tstream;

static ssize_t tstream_fill(void *ud, char *buf, size_t max)
{
    tstream *t = ud;
    if (t->sent == 0) {
        t->sent++;
        return snprintf(buf, max, "chunk-1\n");
    }
    if (cn_now_ms() > t->deadline) return -1;
    if (t->mode == 0 && atomic_load(&first_chunk_seen) && t->sent == 1) {
        t->sent++;
        return snprintf(buf, max, "chunk-2\n");
    }
    if (t->mode == 0 && t->sent == 2) return -1;
    sleep_ms(50);
    return 0;   /* "timed out": the server checks the peer and calls again */
}

static void tstream_free(void *ud)
{
    free(ud);
    atomic_fetch_add(&stream_frees, 1);
}

static atomic_int upgrade_frees;

/* Echoes what it reads until EOF: the upgraded socket is a plain one. */
static void echo_upgraded(void *ud, int fd, const char *extra, size_t nextra)
{
    (void)ud;
    if (nextra) send(fd, extra, nextra, MSG_NOSIGNAL);
    char buf[256];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) break;
}

static void upgrade_free(void *ud)
{
    (void)ud;
    atomic_fetch_add(&upgrade_frees, 1);
}

static void handler(cn_http_req *r, void *ud)
{
    (void)ud;
    atomic_fetch_add(&handler_calls, 1);
    const char *path = cn_http_path(r);
    if (strcmp(path, "/upgrade") == 0) {
        cn_http_add_header(r, "Upgrade", "echo");
        cn_http_respond_upgrade(r, echo_upgraded, upgrade_free, NULL);
        return;
    }
    if (strcmp(path, "/stream") == 0 || strcmp(path, "/forever") == 0) {
        tstream *t = cn_calloc(1, sizeof *t);
        t->mode = strcmp(path, "/forever") == 0;
        t->deadline = cn_now_ms() + 10000;
        cn_http_respond_stream(r, 200, "text/plain", tstream_fill, tstream_free, t);
        return;
    }
    if (strcmp(path, "/noresponse") == 0) return;
    json_t *o = json_object();
    json_object_set_new(o, "method", json_string(cn_http_method(r)));
    json_object_set_new(o, "path", json_string(path));
    const char *vals[8];
    size_t n = cn_http_query_all(r, "a", vals, 8);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(vals[i]));
    json_object_set_new(o, "a", a);
    const char *b = cn_http_query(r, "b"), *flag = cn_http_query(r, "flag");
    if (b) json_object_set_new(o, "b", json_string(b));
    if (flag) json_object_set_new(o, "flag", json_string(flag));
    json_object_set_new(o, "B", cn_http_query(r, "B") ? json_true() : json_false());
    const char *h = cn_http_header(r, "x-test-header");
    if (h) json_object_set_new(o, "hdr", json_string(h));
    size_t blen;
    const char *body = cn_http_body(r, &blen);
    json_object_set_new(o, "bodylen", json_integer((json_int_t)blen));
    json_object_set_new(o, "body", json_stringn(body, blen < 64 ? blen : 64));
    const char *cn = NULL;
    const char *const *orgs = NULL;
    size_t norgs = 0;
    bool has = cn_http_client_cert(r, &cn, &orgs, &norgs);
    json_object_set_new(o, "cert", json_boolean(has));
    if (has) {
        json_object_set_new(o, "cn", json_string(cn ? cn : ""));
        json_t *oa = json_array();
        for (size_t i = 0; i < norgs; i++) json_array_append_new(oa, json_string(orgs[i]));
        json_object_set_new(o, "orgs", oa);
    }
    json_object_set_new(o, "remote", json_string(cn_http_remote(r)));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    cn_http_add_header(r, "X-One", "1");
    cn_http_add_header(r, "X-Two", "2");
    cn_http_respond(r, 200, "application/json", s, strlen(s));
    free(s);
}

static cn_http_server *start(bool plain, const char *listen, unsigned maxconn)
{
    cn_err e = CN_ERR_INIT;
    cn_http_server *s = NULL;
    cn_http_config cfg = {
        .listen = listen,
        .plain = plain,
        .cert_pem = pki.server_cert_pem,
        .key_pem = pki.server_key_pem,
        .client_ca_pem = pki.ca_cert_pem,
        .max_connections = maxconn,
        .handler = handler,
    };
    int r = cn_http_start(&cfg, &s, &e);
    if (r < 0) fprintf(stderr, "start: %s\n", e.message);
    cn_err_clear(&e);
    return s;
}

/* ---- client side ---- */

typedef struct resp {
    long code;
    cn_buf body;
    cn_buf headers;
    bool abort_after_first;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    cn_buf_add(&r->body, p, sz * n);
    if (strstr(r->body.data, "chunk-1")) atomic_store(&first_chunk_seen, true);
    if (r->abort_after_first) return 0;
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    cn_buf_add(&r->headers, p, sz * n);
    return sz * n;
}

static CURL *client(const char *cert, const char *key)
{
    CURL *c = curl_easy_init();
    struct curl_blob ca = { pki.ca_cert_pem, strlen(pki.ca_cert_pem), CURL_BLOB_COPY };
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    if (cert) {
        struct curl_blob cb = { (void *)cert, strlen(cert), CURL_BLOB_COPY };
        struct curl_blob kb = { (void *)key, strlen(key), CURL_BLOB_COPY };
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return c;
}

static CURLcode perform(CURL *c, const char *url, resp *r)
{
    cn_buf_reset(&r->body);
    cn_buf_reset(&r->headers);
    cn_buf_add(&r->body, "", 0);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform(c);
    r->code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    return rc;
}

static json_t *get_json(const char *cert, const char *key, const char *url, long *code)
{
    CURL *c = client(cert, key);
    resp r = { 0 };
    cn_buf_init(&r.body);
    cn_buf_init(&r.headers);
    CURLcode rc = perform(c, url, &r);
    if (rc != CURLE_OK) fprintf(stderr, "curl %s: %s\n", url, curl_easy_strerror(rc));
    *code = r.code;
    json_t *j = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    cn_buf_release(&r.body);
    cn_buf_release(&r.headers);
    curl_easy_cleanup(c);
    return j;
}

/* ---- cases ---- */

static void test_requests(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    CHECK(s != NULL);
    if (!s) return;
    int port = cn_http_port(s);
    CHECK(port > 0);
    char *url = cn_asprintf("https://localhost:%d/api/v1/a%%20b?a=1&a=2&b=x%%20y+z&flag&a=3", port);
    CURL *c = client(NULL, NULL);
    struct curl_slist *hl = curl_slist_append(NULL, "X-Test-Header: hello");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    resp r = { 0 };
    cn_buf_init(&r.body);
    cn_buf_init(&r.headers);
    CHECK_INT(perform(c, url, &r), CURLE_OK);
    CHECK_INT(r.code, 200);
    json_t *j = json_loads(r.body.data, 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "method")), "GET");
    CHECK_STR(json_string_value(json_object_get(j, "path")), "/api/v1/a b");
    json_t *a = json_object_get(j, "a");
    CHECK_INT(json_array_size(a), 3);
    CHECK_STR(json_string_value(json_array_get(a, 0)), "1");
    CHECK_STR(json_string_value(json_array_get(a, 1)), "2");
    CHECK_STR(json_string_value(json_array_get(a, 2)), "3");
    CHECK_STR(json_string_value(json_object_get(j, "b")), "x y z");
    CHECK_STR(json_string_value(json_object_get(j, "flag")), "");
    CHECK(json_is_false(json_object_get(j, "B")));   /* names are case-sensitive */
    CHECK_STR(json_string_value(json_object_get(j, "hdr")), "hello");
    CHECK(json_is_false(json_object_get(j, "cert")));
    CHECK(cn_str_has_prefix(json_string_value(json_object_get(j, "remote")), "127.0.0.1:"));
    CHECK_INT(json_integer_value(json_object_get(j, "bodylen")), 0);
    CHECK(strstr(r.headers.data, "X-One: 1") != NULL);
    CHECK(strstr(r.headers.data, "X-Two: 2") != NULL);
    CHECK(strstr(r.headers.data, "Content-Type: application/json") != NULL);
    json_decref(j);

    /* Body echo on the same (kept-alive) connection. */
    free(url);
    url = cn_asprintf("https://localhost:%d/echo", port);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"hello\":\"world\"}");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
    CHECK_INT(perform(c, url, &r), CURLE_OK);
    long conns = -1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
    CHECK_INT(conns, 0);   /* reused */
    j = json_loads(r.body.data, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "method")), "PATCH");
    CHECK_STR(json_string_value(json_object_get(j, "body")), "{\"hello\":\"world\"}");
    CHECK_INT(json_integer_value(json_object_get(j, "bodylen")), 17);
    json_decref(j);

    /* A handler that forgets to answer gives a 500, not a hang. */
    free(url);
    url = cn_asprintf("https://localhost:%d/noresponse", port);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    CHECK_INT(perform(c, url, &r), CURLE_OK);
    CHECK_INT(r.code, 500);

    curl_slist_free_all(hl);
    cn_buf_release(&r.body);
    cn_buf_release(&r.headers);
    curl_easy_cleanup(c);
    free(url);
    cn_http_stop(s);
}

static size_t read_x(char *buf, size_t sz, size_t n, void *ud)
{
    size_t *left = ud, m = sz * n;
    if (m > *left) m = *left;
    memset(buf, 'x', m);
    *left -= m;
    return m;
}

static void test_body_too_large(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    size_t big = (size_t)4 << 20;
    char *body = cn_malloc(big);
    memset(body, 'x', big);
    char *url = cn_asprintf("https://127.0.0.1:%d/upload", cn_http_port(s));
    int before = atomic_load(&handler_calls);
    CURL *c = client(NULL, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)big);
    resp r = { 0 };
    cn_buf_init(&r.body);
    cn_buf_init(&r.headers);
    perform(c, url, &r);
    CHECK_INT(r.code, 413);
    json_t *j = json_loads(r.body.data, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "Status");
    CHECK_STR(json_string_value(json_object_get(j, "reason")), "RequestEntityTooLarge");
    CHECK_INT(json_integer_value(json_object_get(j, "code")), 413);
    json_decref(j);
    CHECK_INT(atomic_load(&handler_calls), before);

    /* Chunked upload (no Content-Length) that grows past the limit. */
    struct curl_slist *hl = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    size_t left = big;
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_x);
    curl_easy_setopt(c, CURLOPT_READDATA, &left);
    perform(c, url, &r);
    CHECK_INT(r.code, 413);
    CHECK_INT(atomic_load(&handler_calls), before);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);

    /* Just under the limit is fine. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(3 << 20));
    perform(c, url, &r);
    CHECK_INT(r.code, 200);
    j = json_loads(r.body.data, 0, NULL);
    CHECK_INT(json_integer_value(json_object_get(j, "bodylen")), 3 << 20);
    json_decref(j);

    curl_slist_free_all(hl);
    cn_buf_release(&r.body);
    cn_buf_release(&r.headers);
    curl_easy_cleanup(c);
    free(url);
    free(body);
    cn_http_stop(s);
}

static void test_client_certs(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    char *url = cn_asprintf("https://127.0.0.1:%d/who", cn_http_port(s));
    long code = 0;
    json_t *j = get_json(pki.admin_cert_pem, pki.admin_key_pem, url, &code);
    CHECK_INT(code, 200);
    CHECK(json_is_true(json_object_get(j, "cert")));
    CHECK_STR(json_string_value(json_object_get(j, "cn")), "cairn-admin");
    CHECK_INT(json_array_size(json_object_get(j, "orgs")), 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "orgs"), 0)), "system:masters");
    json_decref(j);

    cn_err e = CN_ERR_INIT;
    char *crt = NULL, *key = NULL;
    const char *orgs[] = { "devs", "ops", "x,y=z" };
    CHECK_INT(cn_pki_issue_client(&pki, "alice", orgs, 3, 1, &crt, &key, &e), 0);
    j = get_json(crt, key, url, &code);
    CHECK_INT(code, 200);
    CHECK_STR(json_string_value(json_object_get(j, "cn")), "alice");
    json_t *oa = json_object_get(j, "orgs");
    CHECK_INT(json_array_size(oa), 3);
    CHECK_STR(json_string_value(json_array_get(oa, 0)), "devs");
    CHECK_STR(json_string_value(json_array_get(oa, 1)), "ops");
    CHECK_STR(json_string_value(json_array_get(oa, 2)), "x,y=z");
    json_decref(j);
    free(crt);
    free(key);

    /* A certificate from another CA connects but is not believed. */
    char *other = cn_asprintf("%s/other", tmpdir);
    cn_pki op = { 0 };
    CHECK_INT(cn_pki_ensure(other, NULL, 0, &op, &e), 0);
    j = get_json(op.admin_cert_pem, op.admin_key_pem, url, &code);
    if (code == 200) CHECK(json_is_false(json_object_get(j, "cert")));
    json_decref(j);
    cn_pki_release(&op);
    free(other);

    j = get_json(NULL, NULL, url, &code);
    CHECK_INT(code, 200);
    CHECK(json_is_false(json_object_get(j, "cert")));
    json_decref(j);
    cn_err_clear(&e);
    free(url);
    cn_http_stop(s);
}

static void test_stream(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    int port = cn_http_port(s);
    atomic_store(&first_chunk_seen, false);
    int frees = atomic_load(&stream_frees);

    /* chunk-2 is only produced once the client has seen chunk-1, so the
     * stream completes only if chunk-1 was flushed on its own. */
    char *url = cn_asprintf("https://127.0.0.1:%d/stream", port);
    CURL *c = client(NULL, NULL);
    resp r = { 0 };
    cn_buf_init(&r.body);
    cn_buf_init(&r.headers);
    int64_t t0 = cn_now_ms();
    CHECK_INT(perform(c, url, &r), CURLE_OK);
    CHECK(cn_now_ms() - t0 < 5000);
    CHECK_INT(r.code, 200);
    CHECK_STR(r.body.data, "chunk-1\nchunk-2\n");
    CHECK(strstr(r.headers.data, "chunked") != NULL);
    for (int i = 0; i < 100 && atomic_load(&stream_frees) == frees; i++) sleep_ms(20);
    CHECK_INT(atomic_load(&stream_frees), frees + 1);

    /* A never-ending stream: the client hangs up after the first chunk and
     * the server notices and frees the stream. */
    free(url);
    url = cn_asprintf("https://127.0.0.1:%d/forever", port);
    r.abort_after_first = true;
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    CHECK_INT(perform(c, url, &r), CURLE_WRITE_ERROR);
    curl_easy_cleanup(c);
    for (int i = 0; i < 250 && atomic_load(&stream_frees) == frees + 1; i++) sleep_ms(20);
    CHECK_INT(atomic_load(&stream_frees), frees + 2);

    /* A stream still running at stop is ended and freed by cn_http_stop. */
    c = client(NULL, NULL);
    r.abort_after_first = false;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
    perform(c, url, &r);   /* times out client-side; server side keeps going */
    cn_http_stop(s);
    curl_easy_cleanup(c);
    CHECK_INT(atomic_load(&stream_frees), frees + 3);
    cn_buf_release(&r.body);
    cn_buf_release(&r.headers);
    free(url);
}

typedef struct worker {
    int port;
    int ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char *url = cn_asprintf("https://127.0.0.1:%d/w?a=%d", w->port, w->port);
    CURL *c = client(pki.admin_cert_pem, pki.admin_key_pem);
    resp r = { 0 };
    cn_buf_init(&r.body);
    cn_buf_init(&r.headers);
    for (int i = 0; i < 50; i++)
        if (perform(c, url, &r) == CURLE_OK && r.code == 200 && strstr(r.body.data, "cairn-admin"))
            w->ok++;
    cn_buf_release(&r.body);
    cn_buf_release(&r.headers);
    curl_easy_cleanup(c);
    free(url);
    return NULL;
}

static void test_concurrent(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    enum { N = 8 };
    pthread_t th[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){ .port = cn_http_port(s) };
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].ok, 50);
    }
    cn_http_stop(s);
}

/* ---- plain server, raw sockets ---- */

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends raw bytes; returns what came back (up to 4 KiB) within 3 s. */
static char *raw(int port, const char *data, size_t len)
{
    int fd = dial(port);
    if (fd < 0) return NULL;
    if (send(fd, data, len, MSG_NOSIGNAL) < 0) {
        close(fd);
        return cn_strdup("");
    }
    shutdown(fd, SHUT_WR);
    char buf[4096];
    size_t got = 0;
    int64_t end = cn_now_ms() + 3000;
    while (got < sizeof buf - 1) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = end - cn_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    return cn_strdup(buf);
}

/* Reads until the end of the response headers (or 3 s); returns them. */
static char *read_head(int fd)
{
    char buf[2048];
    size_t got = 0;
    int64_t end = cn_now_ms() + 3000;
    while (got < sizeof buf - 1) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = end - cn_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t n = recv(fd, buf + got, 1, 0);
        if (n <= 0) break;
        got++;
        if (got >= 4 && !memcmp(buf + got - 4, "\r\n\r\n", 4)) break;
    }
    buf[got] = '\0';
    return cn_strdup(buf);
}

static void test_upgrade(void)
{
    cn_http_server *s = start(true, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    atomic_store(&upgrade_frees, 0);
    int fd = dial(cn_http_port(s));
    CHECK(fd >= 0);
    const char *req = "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
    CHECK(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
    char *head = read_head(fd);
    CHECK(strncmp(head, "HTTP/1.1 101", 12) == 0);
    CHECK(strstr(head, "pgrade: echo") != NULL);
    free(head);
    CHECK(send(fd, "ping", 4, MSG_NOSIGNAL) == 4);
    char buf[8] = { 0 };
    size_t got = 0;
    while (got < 4) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 3000) <= 0) break;
        ssize_t n = recv(fd, buf + got, 4 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    CHECK_STR(buf, "ping");
    /* A second upgrade left open: stopping the server must end it. */
    int fd2 = dial(cn_http_port(s));
    CHECK(send(fd2, req, strlen(req), MSG_NOSIGNAL) > 0);
    head = read_head(fd2);
    CHECK(strncmp(head, "HTTP/1.1 101", 12) == 0);
    free(head);
    close(fd);
    cn_http_stop(s);
    CHECK_INT(atomic_load(&upgrade_frees), 2);
    close(fd2);
}

static void test_plain_hostile(void)
{
    cn_http_server *s = start(true, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    int port = cn_http_port(s);
    const char get[] = "GET /x?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *out = raw(port, get, sizeof get - 1);
    CHECK(out && cn_str_has_prefix(out, "HTTP/1.1 200"));
    free(out);

    const char *junk[] = {
        "\x16\x03\x01\x00\xff\x01\x00\x00",   /* a TLS hello to a plain server */
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly ten b",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n",
        "GET /%zz%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        out = raw(port, junk[i], strlen(junk[i]));
        free(out);
    }
    /* A header block far larger than the connection's memory. */
    cn_buf big;
    cn_buf_init(&big);
    cn_buf_adds(&big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 200000; i++) cn_buf_addc(&big, 'a');
    cn_buf_adds(&big, "\r\n\r\n");
    out = raw(port, big.data, big.len);
    CHECK(out && (strstr(out, " 431 ") || strstr(out, " 413 ") || out[0] == '\0'));
    free(out);
    cn_buf_release(&big);

    out = raw(port, get, sizeof get - 1);
    CHECK(out && cn_str_has_prefix(out, "HTTP/1.1 200"));
    free(out);
    cn_http_stop(s);
}

static void test_tls_garbage(void)
{
    cn_http_server *s = start(false, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); return; }
    int port = cn_http_port(s);
    const char *junk[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",   /* a ClientHello cut short */
    };
    for (size_t i = 0; i < 2; i++) free(raw(port, junk[i], strlen(junk[i])));
    char *url = cn_asprintf("https://127.0.0.1:%d/after", port);
    long code = 0;
    json_t *j = get_json(NULL, NULL, url, &code);
    CHECK_INT(code, 200);
    json_decref(j);
    free(url);
    cn_http_stop(s);
}

static void test_connection_limit(void)
{
    cn_http_server *s = start(true, "127.0.0.1:0", 4);
    if (!s) { CHECK(s != NULL); return; }
    int port = cn_http_port(s);
    int idle[4];
    for (int i = 0; i < 4; i++) idle[i] = dial(port);
    sleep_ms(100);   /* let the daemon accept them */
    const char get[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *out = raw(port, get, sizeof get - 1);
    CHECK(out == NULL || !cn_str_has_prefix(out, "HTTP/1.1 200"));
    free(out);
    close(idle[0]);
    bool ok = false;
    for (int i = 0; i < 100 && !ok; i++) {
        out = raw(port, get, sizeof get - 1);
        ok = out && cn_str_has_prefix(out, "HTTP/1.1 200");
        free(out);
        if (!ok) sleep_ms(20);
    }
    CHECK(ok);
    for (int i = 1; i < 4; i++) close(idle[i]);
    cn_http_stop(s);
}

/* Connections whose descriptor is above FD_SETSIZE (1,024) are served: a
 * server with 1,000 watchers gets there (regression: MHD fell back to
 * select() in per-connection threads). */
static void test_high_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < 2048) return;   /* cannot test here */
    rlim_t saved = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int fill[1100];
    for (int i = 0; i < 1100; i++) fill[i] = open("/dev/null", O_RDONLY);
    cn_http_server *s = start(true, "127.0.0.1:0", 0);
    if (!s) { CHECK(s != NULL); goto out; }
    const char get[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *r = raw(cn_http_port(s), get, sizeof get - 1);
    CHECK(r && cn_str_has_prefix(r, "HTTP/1.1 200"));
    free(r);
    cn_http_stop(s);
out:
    for (int i = 0; i < 1100; i++) if (fill[i] >= 0) close(fill[i]);
    rl.rlim_cur = saved;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void test_listen_forms(void)
{
    cn_err e = CN_ERR_INIT;
    cn_http_server *s = NULL;
    cn_http_config cfg = { .listen = "127.0.0.1", .plain = true, .handler = handler };
    CHECK(cn_http_start(&cfg, &s, &e) < 0);
    cfg.listen = "127.0.0.1:99999";
    CHECK(cn_http_start(&cfg, &s, &e) < 0);
    cfg.listen = "[::1:0";
    CHECK(cn_http_start(&cfg, &s, &e) < 0);
    cn_err_clear(&e);
    s = start(true, "[::1]:0", 0);
    if (s) {   /* no IPv6 loopback in some sandboxes */
        CHECK(cn_http_port(s) > 0);
        cn_http_stop(s);
    }
    s = start(true, "localhost:0", 0);
    CHECK(s != NULL);
    cn_http_stop(s);
    /* The same port twice fails cleanly. */
    s = start(true, "127.0.0.1:0", 0);
    if (s) {
        char *l = cn_asprintf("127.0.0.1:%d", cn_http_port(s));
        cn_http_server *s2 = start(true, l, 0);
        CHECK(s2 == NULL);
        cn_http_stop(s2);
        free(l);
        cn_http_stop(s);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cn-http-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cn_err e = CN_ERR_INIT;
    if (cn_pki_ensure(tmpdir, NULL, 0, &pki, &e) < 0) {
        fprintf(stderr, "pki: %s\n", e.message);
        return 1;
    }
    TEST_RUN(test_requests);
    TEST_RUN(test_body_too_large);
    TEST_RUN(test_client_certs);
    TEST_RUN(test_stream);
    TEST_RUN(test_concurrent);
    TEST_RUN(test_upgrade);
    TEST_RUN(test_plain_hostile);
    TEST_RUN(test_tls_garbage);
    TEST_RUN(test_connection_limit);
    TEST_RUN(test_listen_forms);
    TEST_RUN(test_high_fds);
    cn_pki_release(&pki);
    curl_global_cleanup();
    char *cmd = cn_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(cmd);
    return TEST_DONE();
}
