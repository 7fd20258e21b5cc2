/* join: the bootstrap endpoints that hand the shared CA and service-account
 * key to a joining server, and the client that fetches them (see join.h).
 *
 * Trust on the client comes from the token alone: /cacerts is read over TLS
 * without verification, so its bytes are only believed when their sha256 is
 * the hash in the token; every later request verifies the peer against that
 * CA and nothing else (no system trust store). The secret never reaches a
 * log line on either side. */
#include "api/join.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/util.h"

#define MAX_CACERTS ((size_t)64 << 10)
#define MAX_BUNDLE ((size_t)1 << 20)
#define CONNECT_TIMEOUT_S 10L
#define TIMEOUT_S 30L

/* ---- server side ---- */

static void unauthorized(cn_reqctx *c, const char *why)
{
    cn_err e = CN_ERR_INIT;
    cn_warn("server-bootstrap: refused a request from %s: %s", cn_http_remote(c->http), why);
    cn_err_set(&e, 401, "Unauthorized", "Unauthorized");
    cn_rest_reply_err(c, &e);
}

static bool get_only(cn_reqctx *c)
{
    if (!strcmp(c->method, "GET") || !strcmp(c->method, "HEAD")) return true;
    cn_err e = CN_ERR_INIT;
    cn_err_set(&e, 405, "MethodNotAllowed",
               "the server does not allow this method on the requested resource");
    cn_rest_reply_err(c, &e);
    return false;
}

void cn_join_serve_cacerts(cn_reqctx *c)
{
    if (!get_only(c)) return;
    const char *ca = c->srv->pki.ca_cert_pem;
    cn_http_respond(c->http, 200, "text/plain; charset=utf-8", ca, strlen(ca));
}

/* The presented credential is the whole token, "server:<secret>" or the
 * secret; every form is compared in constant time. */
static bool bearer_ok(const char *join_token, const char *presented)
{
    char hash[CN_TOKEN_HASH_LEN + 1], secret[CN_TOKEN_MAX + 1];
    if (!join_token || cn_token_parse(join_token, hash, secret, NULL) < 0) return false;
    char *server_form = cn_asprintf("server:%s", secret);
    /* All three compared, no short circuit: the time says nothing about which form matched. */
    int ok = (int)cn_secret_equal(presented, join_token) | (int)cn_secret_equal(presented, server_form) |
             (int)cn_secret_equal(presented, secret);
    memset(server_form, 0, strlen(server_form));
    free(server_form);
    memset(secret, 0, sizeof secret);
    return ok != 0;
}

void cn_join_serve_bootstrap(cn_reqctx *c)
{
    const char *h = cn_http_header(c->http, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return unauthorized(c, "no bearer token");
    if (!bearer_ok(c->srv->join_token, h + 7)) return unauthorized(c, "wrong token");
    if (!get_only(c)) return;
    const cn_pki *p = &c->srv->pki;
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "ca.crt", p->ca_cert_pem, "ca.key", p->ca_key_pem,
                          "sa.key", p->sa_key_pem, "sa.pub", p->sa_pub_pem);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        cn_err e = CN_ERR_INIT;
        cn_err_internal(&e, "cannot encode the bootstrap bundle");
        return cn_rest_reply_err(c, &e);
    }
    cn_http_add_header(c->http, "Cache-Control", "no-store");
    cn_http_respond(c->http, 200, "application/json", body, strlen(body));
    cn_info("server-bootstrap: gave the cluster CA and service-account key to %s",
            cn_http_remote(c->http));
    memset(body, 0, strlen(body));
    free(body);
}

/* A node agent's credentials: a client certificate for system:node:NAME
 * in group system:nodes, signed by the cluster CA, for the same token. */
void cn_join_serve_node(cn_reqctx *c)
{
    const char *h = cn_http_header(c->http, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return unauthorized(c, "no bearer token");
    if (!bearer_ok(c->srv->join_token, h + 7)) return unauthorized(c, "wrong token");
    if (!get_only(c)) return;
    cn_err e = CN_ERR_INIT;
    const char *node = cn_http_query(c->http, "node");
    if (!node || !*node || strlen(node) > 253 || strspn(node, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(node)) {
        cn_err_bad_request(&e, "node-bootstrap: want ?node=NAME, a DNS subdomain name");
        return cn_rest_reply_err(c, &e);
    }
    char *user = cn_asprintf("system:node:%s", node), *crt = NULL, *key = NULL, *body = NULL;
    const char *orgs[] = { "system:nodes" };
    if (cn_pki_issue_client(&c->srv->pki, user, orgs, 1, 365, &crt, &key, &e) < 0) {
        cn_rest_reply_err(c, &e);
        goto out;
    }
    json_t *j = json_pack("{s:s,s:s,s:s}", "ca.crt", c->srv->pki.ca_cert_pem, "client.crt", crt, "client.key", key);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        cn_err_internal(&e, "cannot encode the node credentials");
        cn_rest_reply_err(c, &e);
        goto out;
    }
    cn_http_add_header(c->http, "Cache-Control", "no-store");
    cn_http_respond(c->http, 200, "application/json", body, strlen(body));
    cn_info("node-bootstrap: issued credentials for %s to %s", user, cn_http_remote(c->http));
    memset(body, 0, strlen(body));
out:
    if (key) memset(key, 0, strlen(key));
    free(key);
    free(crt);
    free(body);
    free(user);
}

/* ---- client side ---- */

typedef struct sink {
    cn_buf buf;
    size_t max;
    bool too_big;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->buf.len + n > s->max) {
        s->too_big = true;
        return 0;   /* aborts the transfer */
    }
    cn_buf_add(&s->buf, ptr, n);
    return n;
}

/* GET url+path. ca_pem NULL: no verification at all (only for /cacerts,
 * whose answer is checked against the token). bearer may be NULL. */
static int get(const char *url, const char *path, const char *ca_pem, const char *bearer,
               size_t max, cn_buf *out, long *code, cn_err *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char *full = cn_asprintf("%s%s", url, path);
    char *auth = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    sink s = { .max = max };
    int r = 0;
    cn_buf_init(&s.buf);
    if (!h) {
        r = cn_err_internal(err, "cannot initialize libcurl");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    /* The system trust store never counts: only the pinned CA, or nothing. */
    curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    if (ca_pem) {
        struct curl_blob blob = { .data = (void *)ca_pem, .len = strlen(ca_pem),
                                  .flags = CURL_BLOB_COPY };
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    } else {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (bearer) {
        auth = cn_asprintf("Authorization: Bearer %s", bearer);
        hdrs = curl_slist_append(hdrs, auth);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    CURLcode rc = curl_easy_perform(h);
    if (s.too_big) {
        r = cn_err_set(err, 502, "InternalError", "%s: the answer is larger than %zu bytes",
                       full, max);
        goto out;
    }
    if (rc != CURLE_OK) {
        r = cn_err_set(err, 503, "ServiceUnavailable", "cannot fetch %s: %s", full,
                       ebuf[0] ? ebuf : curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    *out = s.buf;
    cn_buf_init(&s.buf);
out:
    if (auth) memset(auth, 0, strlen(auth));
    free(auth);
    curl_slist_free_all(hdrs);
    if (h) curl_easy_cleanup(h);
    cn_buf_release(&s.buf);
    free(full);
    return r;
}

static const char *bundle_str(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v && *v ? v : NULL;
}

/* The CA of the server at url_in, believed only when it hashes to the
 * token's hash; *url gets the normalised URL, secret the token's secret. */
static int pinned_ca(const char *url_in, const char *token, const char *what, char **url, cn_buf *ca,
                     char secret[CN_TOKEN_MAX + 1], cn_err *err)
{
    char want[CN_TOKEN_HASH_LEN + 1], got[CN_TOKEN_HASH_LEN + 1];
    long code = 0;
    int r;
    if ((r = cn_token_parse(token, want, secret, err)) < 0) {
        cn_err_wrap(err, "%s", what);
        return r;
    }
    if (!want[0])
        return cn_err_bad_request(err, "%s needs the full token from the first server's "
                                  "DATA-DIR/token (K10<CA hash>::server:<secret>): a bare secret "
                                  "cannot tell which CA to trust", what);
    if (!url_in || !cn_str_has_prefix(url_in, "https://") || strlen(url_in) > 2048)
        return cn_err_bad_request(err, "%s: want https://HOST:PORT, got \"%s\"", what, url_in ? url_in : "");
    *url = cn_strdup(url_in);
    for (size_t l = strlen(*url); l > strlen("https://") && (*url)[l - 1] == '/'; l--) (*url)[l - 1] = '\0';
    if ((r = get(*url, "/cacerts", NULL, NULL, MAX_CACERTS, ca, &code, err)) < 0) return r;
    if (code != 200) return cn_err_set(err, 502, "InternalError", "%s/cacerts answered HTTP %ld", *url, code);
    cn_pki_ca_hash(ca->data, got);
    if (strlen(ca->data) != ca->len || strcmp(got, want) != 0)
        return cn_err_bad_request(err, "the CA at %s does not match the token's hash", *url);
    return 0;
}

int cn_join_node(const char *data_dir, const char *url_in, const char *token, const char *node,
                 char **kubeconfig, cn_err *err)
{
    char secret[CN_TOKEN_MAX + 1] = "";
    char *url = NULL, *path = cn_asprintf("%s/kubeconfig", data_dir), *esc = NULL;
    cn_buf ca, bundle;
    json_t *j = NULL;
    long code = 0;
    int r;
    cn_buf_init(&ca);
    cn_buf_init(&bundle);
    struct stat st;
    if (stat(path, &st) == 0) {   /* joined before: keep those credentials */
        *kubeconfig = path;
        return 0;
    }
    if ((r = pinned_ca(url_in, token, "--token", &url, &ca, secret, err)) < 0) goto out;
    esc = cn_asprintf("/cairn/v1/node-bootstrap?node=%s", node);
    if ((r = get(url, esc, ca.data, secret, MAX_BUNDLE, &bundle, &code, err)) < 0) goto out;
    if (code == 401) {
        r = cn_err_set(err, 401, "Unauthorized", "the server at %s refused the token's secret (401 Unauthorized)", url);
        goto out;
    }
    if (code != 200) {
        r = cn_err_set(err, 502, "InternalError", "%s/cairn/v1/node-bootstrap answered HTTP %ld", url, code);
        goto out;
    }
    j = json_loadb(bundle.data, bundle.len, 0, NULL);
    const char *crt = bundle_str(j, "client.crt"), *key = bundle_str(j, "client.key");
    if (!crt || !key) {
        r = cn_err_set(err, 502, "InternalError", "%s/cairn/v1/node-bootstrap: want client.crt and client.key", url);
        goto out;
    }
    if ((r = cn_mkdir_p(data_dir, 0700)) < 0) {
        r = cn_err_set(err, 500, "InternalError", "%s: %s", data_dir, strerror(-r));
        goto out;
    }
    if ((r = cn_kubeconfig_write(path, "cairn", url, ca.data, crt, key, err)) < 0) goto out;
    cn_info("join: node credentials for system:node:%s written to %s", node, path);
    *kubeconfig = path;
    path = NULL;
    r = 0;
out:
    memset(secret, 0, sizeof secret);
    if (bundle.data) memset(bundle.data, 0, bundle.len);
    json_decref(j);
    cn_buf_release(&ca);
    cn_buf_release(&bundle);
    free(url);
    free(path);
    free(esc);
    return r;
}

int cn_join_fetch(const char *data_dir, const char *url_in, const char *token, cn_err *err)
{
    char want[CN_TOKEN_HASH_LEN + 1], got[CN_TOKEN_HASH_LEN + 1], secret[CN_TOKEN_MAX + 1];
    char *url = NULL, *ca_path = cn_asprintf("%s/pki/ca.crt", data_dir), *have = NULL;
    cn_buf ca, bundle;
    json_t *j = NULL;
    long code = 0;
    size_t n;
    int r;
    cn_buf_init(&ca);
    cn_buf_init(&bundle);

    if ((r = cn_token_parse(token, want, secret, err)) < 0) {
        cn_err_wrap(err, "--join");
        goto out;
    }
    /* A restart of a joined server: the same CA is already here. */
    struct stat st;
    if (want[0] && stat(ca_path, &st) == 0) {
        if ((r = cn_read_file(ca_path, &have, &n, err)) < 0) goto out;
        cn_pki_ca_hash(have, got);
        if (strcmp(got, want) != 0) {
            r = cn_err_bad_request(err, "--join: \"%s\" holds another cluster's CA than the "
                                   "token's; refusing to join (use an empty data dir)", ca_path);
            goto out;
        }
        cn_info("join: %s already holds the cluster CA; not fetching it again", ca_path);
        r = 0;
        goto out;
    }
    if ((r = pinned_ca(url_in, token, "--join", &url, &ca, secret, err)) < 0) goto out;
    if ((r = get(url, "/cairn/v1/server-bootstrap", ca.data, secret, MAX_BUNDLE, &bundle,
                 &code, err)) < 0)
        goto out;
    if (code == 401) {
        r = cn_err_set(err, 401, "Unauthorized", "the server at %s refused the token's secret "
                       "(401 Unauthorized)", url);
        goto out;
    }
    if (code != 200) {
        r = cn_err_set(err, 502, "InternalError", "%s/cairn/v1/server-bootstrap answered HTTP %ld",
                       url, code);
        goto out;
    }
    j = json_loadb(bundle.data, bundle.len, 0, NULL);
    const char *crt = bundle_str(j, "ca.crt"), *key = bundle_str(j, "ca.key");
    const char *sak = bundle_str(j, "sa.key"), *sap = bundle_str(j, "sa.pub");
    if (!crt || !key || !sak || !sap) {
        r = cn_err_set(err, 502, "InternalError", "%s/cairn/v1/server-bootstrap: want JSON with "
                       "ca.crt, ca.key, sa.key and sa.pub", url);
        goto out;
    }
    if (strcmp(crt, ca.data) != 0) {
        r = cn_err_bad_request(err, "the CA in the bootstrap bundle of %s is not its /cacerts", url);
        goto out;
    }
    if ((r = cn_pki_install(data_dir, crt, key, sak, sap, err)) < 0) goto out;
    cn_info("join: fetched the cluster CA and service-account key from %s", url);
    r = 0;
out:
    memset(secret, 0, sizeof secret);
    if (bundle.data) memset(bundle.data, 0, bundle.len);
    json_decref(j);
    cn_buf_release(&ca);
    cn_buf_release(&bundle);
    free(have);
    free(url);
    free(ca_path);
    return r;
}
