/* image_registry: a client for the OCI Distribution API v2 (GET manifests
 * and blobs) on libcurl. Authentication as docker does it: try anonymously;
 * on 401 follow the WWW-Authenticate challenge — Basic with the credentials
 * we were given, or Bearer: fetch a token from the realm for the service
 * and scope named (with the credentials as Basic, if any) and retry once.
 * One cn_registry per pull: it keeps the token between requests. */
#include "agent/image-internal.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "lib/base64.h"

struct cn_registry {
    char *base;         /* "https://host:port/v2/repo" */
    char *repo;
    char *ca_file;      /* NULL: libcurl's default CA store */
    char *user, *pass;
    char *authz;        /* Authorization header value once known */
    int timeout_s;
    CURL *curl;
};

/* Where a response body goes: a bounded buffer or a file being hashed. */
typedef struct sink {
    cn_buf *buf;
    size_t max;         /* bytes accepted */
    size_t written;     /* to fd so far */
    int fd;
    EVP_MD_CTX *md;
    long status;        /* of the last response seen (redirects reset it) */
    char *challenge;    /* WWW-Authenticate */
    char *digest_hdr;   /* Docker-Content-Digest */
    cn_buf errbody;     /* first bytes of a non-2xx body, for the message */
    int werr;           /* negative errno from the write side */
} sink;

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int cn_registry_open(const char *domain, const char *repo, bool plain_http, const char *ca_file,
                     const char *user, const char *pass, int timeout_s, cn_registry **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    cn_registry *r = cn_calloc(1, sizeof *r);
    r->base = cn_asprintf("%s://%s/v2/%s", plain_http ? "http" : "https", cn_imgref_endpoint(domain), repo);
    r->repo = cn_strdup(repo);
    r->ca_file = cn_strdup(ca_file);
    r->user = cn_strdup(user);
    r->pass = cn_strdup(pass);
    r->timeout_s = timeout_s > 0 ? timeout_s : 60;
    r->curl = curl_easy_init();
    if (!r->curl) {
        cn_registry_close(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

void cn_registry_close(cn_registry *r)
{
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    free(r->base);
    free(r->repo);
    free(r->ca_file);
    free(r->user);
    free(r->pass);
    free(r->authz);
    free(r);
}

static void sink_reset(sink *k)
{
    k->status = 0;
    free(k->challenge);
    free(k->digest_hdr);
    k->challenge = k->digest_hdr = NULL;
    cn_buf_reset(&k->errbody);
    k->werr = 0;
    if (k->buf) cn_buf_reset(k->buf);
    if (k->fd >= 0) {
        if (ftruncate(k->fd, 0) < 0 || lseek(k->fd, 0, SEEK_SET) < 0) k->werr = -errno;
        k->written = 0;
        EVP_DigestInit_ex(k->md, EVP_sha256(), NULL);
    }
}

static char *header_value(const char *line, size_t n, const char *name)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return NULL;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    return cn_strndup(v, (size_t)(end - v));
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *k = ud;
    size_t n = size * nmemb;
    if (n > 5 && !strncmp(data, "HTTP/", 5)) {
        /* A new response (after a redirect or 100): forget the last one's headers. */
        const char *sp = memchr(data, ' ', n);
        k->status = 0;
        if (sp)
            for (const char *p = sp + 1; p < data + n && isdigit((unsigned char)*p); p++)
                k->status = k->status * 10 + (*p - '0');
        free(k->challenge);
        free(k->digest_hdr);
        k->challenge = k->digest_hdr = NULL;
        return n;
    }
    char *v;
    if ((v = header_value(data, n, "www-authenticate"))) {
        free(k->challenge);
        k->challenge = v;
    } else if ((v = header_value(data, n, "docker-content-digest"))) {
        free(k->digest_hdr);
        k->digest_hdr = v;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *k = ud;
    size_t n = size * nmemb;
    if (k->status < 200 || k->status > 299) {
        if (k->errbody.len < 512) cn_buf_add(&k->errbody, data, n < 512 ? n : 512);
        return n;
    }
    if (k->buf) {
        if (k->buf->len + n > k->max) {
            k->werr = -EFBIG;
            return 0;
        }
        cn_buf_add(k->buf, data, n);
        return n;
    }
    if (n > k->max - k->written) {
        k->werr = -EFBIG;
        return 0;
    }
    k->written += n;
    EVP_DigestUpdate(k->md, data, n);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(k->fd, data + off, n - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            k->werr = -errno;
            return 0;
        }
        off += (size_t)w;
    }
    return n;
}

/* Parse `Bearer realm="..",service="..",scope=".."` (or Basic ...): scheme
 * into *scheme and the params the caller asks for. */
static void parse_challenge(const char *c, char **scheme, char **realm, char **service, char **scope)
{
    size_t sl = strcspn(c, " ");
    *scheme = cn_strndup(c, sl);
    const char *p = c + sl;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *eq = strchr(p, '=');
        if (!eq) break;
        const char *key = p;
        size_t kl = (size_t)(eq - p);
        const char *v = eq + 1;
        char *val;
        if (*v == '"') {
            const char *e = strchr(v + 1, '"');
            if (!e) break;
            val = cn_strndup(v + 1, (size_t)(e - v - 1));
            p = e + 1;
        } else {
            size_t vl = strcspn(v, ",");
            val = cn_strndup(v, vl);
            p = v + vl;
        }
        char **dst = kl == 5 && !strncasecmp(key, "realm", 5) ? realm
                   : kl == 7 && !strncasecmp(key, "service", 7) ? service
                   : kl == 5 && !strncasecmp(key, "scope", 5) ? scope : NULL;
        if (dst && !*dst) *dst = val;
        else free(val);
    }
}

static bool transport_error(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_RESOLVE_PROXY ||
           c == CURLE_OPERATION_TIMEDOUT || c == CURLE_SSL_CONNECT_ERROR || c == CURLE_RECV_ERROR ||
           c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PEER_FAILED_VERIFICATION ||
           c == CURLE_PARTIAL_FILE;
}

/* One GET; the sink records status and headers. Transport failures are
 * errors here, HTTP statuses are the caller's to judge. */
static int perform(cn_registry *r, const char *url, const char *accept, const char *authz,
                   const char *userpwd, sink *k, cn_err *err)
{
    CURL *c = r->curl;
    char ebuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    _cleanup_free_ char *ah = authz ? cn_asprintf("Authorization: %s", authz) : NULL;
    _cleanup_free_ char *acc = accept ? cn_asprintf("Accept: %s", accept) : NULL;
    if (ah) h = curl_slist_append(h, ah);
    if (acc) h = curl_slist_append(h, acc);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)r->timeout_s);
    /* Blobs may be large: time out on a stalled transfer, not a long one. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)r->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cairn-agent");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(c, CURLOPT_PROXY, "");   /* registries are reached directly */
    if (r->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
    if (userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (cc == CURLE_OK) return 0;
    if (k->werr) {
        if (k->werr == -EFBIG) {
            cn_err_set(err, 502, "BadGateway", "response from \"%s\" is larger than %zu bytes", url, k->max);
            return -EBADMSG;
        }
        cn_err_set(err, 500, "InternalError", "writing \"%s\": %s", url, strerror(-k->werr));
        return k->werr;
    }
    cn_err_set(err, 503, "ServiceUnavailable", "failed to do request: GET \"%s\": %s", url,
               *ebuf ? ebuf : curl_easy_strerror(cc));
    return transport_error(cc) ? -EHOSTUNREACH : -EIO;
}

/* Fetch a Bearer token for the challenge; 0 with r->authz set. */
static int fetch_token(cn_registry *r, const char *realm, const char *service, const char *scope, cn_err *err)
{
    cn_buf url, body;
    cn_buf_init(&url);
    cn_buf_init(&body);
    cn_buf_adds(&url, realm);
    char sep = strchr(realm, '?') ? '&' : '?';
    const char *names[] = { "service", "scope" };
    const char *vals[] = { service, scope };
    for (int i = 0; i < 2; i++) {
        if (!vals[i]) continue;
        char *e = curl_easy_escape(r->curl, vals[i], 0);
        cn_buf_addf(&url, "%c%s=%s", sep, names[i], e ? e : "");
        curl_free(e);
        sep = '&';
    }
    sink k = { .buf = &body, .max = 1u << 20, .fd = -1 };
    cn_buf_init(&k.errbody);
    _cleanup_free_ char *userpwd = r->user ? cn_asprintf("%s:%s", r->user, r->pass ? r->pass : "") : NULL;
    int rc = perform(r, url.data, NULL, NULL, userpwd, &k, err);
    if (rc < 0) goto out;
    if (k.status == 401 || k.status == 403) {
        cn_err_set(err, 401, "Unauthorized", "failed to fetch %s token: unexpected status from GET request to %s: %ld %s",
                   r->user ? "oauth" : "anonymous", realm, k.status, k.status == 401 ? "Unauthorized" : "Forbidden");
        rc = -EACCES;
        goto out;
    }
    if (k.status < 200 || k.status > 299) {
        cn_err_set(err, 502, "BadGateway", "unexpected status from GET request to %s: %ld", realm, k.status);
        rc = -EIO;
        goto out;
    }
    json_t *j = json_loadb(body.data, body.len, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (!tok) tok = json_string_value(json_object_get(j, "access_token"));
    if (!tok) {
        cn_err_set(err, 502, "BadGateway", "token response from %s holds no token", realm);
        rc = -EIO;
    } else {
        free(r->authz);
        r->authz = cn_asprintf("Bearer %s", tok);
    }
    json_decref(j);
out:
    free(k.challenge);
    free(k.digest_hdr);
    cn_buf_release(&k.errbody);
    cn_buf_release(&url);
    cn_buf_release(&body);
    return rc;
}

/* React to a 401 challenge: set r->authz for the retry. */
static int authenticate(cn_registry *r, const char *url, const char *challenge, cn_err *err)
{
    _cleanup_free_ char *scheme = NULL, *realm = NULL, *service = NULL, *scope = NULL;
    parse_challenge(challenge ? challenge : "", &scheme, &realm, &service, &scope);
    if (!strcasecmp(scheme, "bearer") && realm) {
        _cleanup_free_ char *def_scope = scope ? NULL : cn_asprintf("repository:%s:pull", r->repo);
        return fetch_token(r, realm, service, scope ? scope : def_scope, err);
    }
    if (!strcasecmp(scheme, "basic") && r->user) {
        cn_buf b;
        cn_buf_init(&b);
        _cleanup_free_ char *up = cn_asprintf("%s:%s", r->user, r->pass ? r->pass : "");
        cn_buf_adds(&b, "Basic ");
        cn_base64_encode(&b, up, strlen(up));
        free(r->authz);
        r->authz = cn_buf_detach(&b, NULL);
        return 0;
    }
    cn_err_set(err, 401, "Unauthorized",
               "unexpected status from GET request to %s: 401 Unauthorized (no credentials for this registry)", url);
    return -EACCES;
}

/* GET base/path with auth handling; the sink gets the 2xx body. */
static int get(cn_registry *r, const char *path, const char *accept, sink *k, cn_err *err)
{
    _cleanup_free_ char *url = cn_asprintf("%s/%s", r->base, path);
    for (int attempt = 0;; attempt++) {
        sink_reset(k);
        if (k->werr) return cn_err_set(err, 500, "InternalError", "truncating a blob file: %s", strerror(-k->werr)), k->werr;
        int rc = perform(r, url, accept, r->authz, NULL, k, err);
        if (rc < 0) return rc;
        if (k->status >= 200 && k->status <= 299) return 0;
        if (k->status == 401 && attempt == 0) {
            if ((rc = authenticate(r, url, k->challenge, err)) < 0) return rc;
            continue;
        }
        if (k->status == 401 || k->status == 403) {
            cn_err_set(err, 401, "Unauthorized",
                       "unexpected status from GET request to %s: %ld %s (bad or missing credentials)", url,
                       k->status, k->status == 401 ? "Unauthorized" : "Forbidden");
            return -EACCES;
        }
        if (k->status == 404) {
            cn_err_set(err, 404, "NotFound", "not found");
            return -ENOENT;
        }
        cn_err_set(err, 502, "BadGateway", "unexpected status from GET request to %s: %ld: %.200s", url, k->status,
                   k->errbody.data ? k->errbody.data : "");
        return -EIO;
    }
}

static void sink_release(sink *k)
{
    free(k->challenge);
    free(k->digest_hdr);
    cn_buf_release(&k->errbody);
}

int cn_registry_get_manifest(cn_registry *r, const char *reference, cn_buf *body, char **digest_hdr, cn_err *err)
{
    static const char accept[] =
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.docker.distribution.manifest.list.v2+json, "
        "application/vnd.docker.distribution.manifest.v2+json";
    sink k = { .buf = body, .max = CN_IMAGE_MAX_JSON, .fd = -1 };
    cn_buf_init(&k.errbody);
    _cleanup_free_ char *path = cn_asprintf("manifests/%s", reference);
    int rc = get(r, path, accept, &k, err);
    if (rc == 0 && digest_hdr) *digest_hdr = CN_TAKE_PTR(k.digest_hdr);
    sink_release(&k);
    return rc;
}

int cn_registry_get_blob(cn_registry *r, const char *digest, int64_t max, int fd, char got[72], cn_err *err)
{
    sink k = { .fd = fd, .md = EVP_MD_CTX_new(), .max = max < 0 ? SIZE_MAX : (size_t)max };
    cn_buf_init(&k.errbody);
    _cleanup_free_ char *path = cn_asprintf("blobs/%s", digest);
    int rc = get(r, path, NULL, &k, err);
    if (rc == 0) {
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(k.md, md, &n);
        cn_image_hexdigest(md, got);
    }
    EVP_MD_CTX_free(k.md);
    sink_release(&k);
    return rc;
}
