/* cairn-writer: the load and check client of the fault tests (issue 4).
 *
 *   cairn-writer write --kubeconfig K --server URL[,URL...] --namespace NS
 *                      --prefix P --log FILE --seconds S [--concurrency C]
 *                      [--stop-file F] [--timeout-ms T]
 *   cairn-writer check --kubeconfig K --server URL[,URL...] --namespace NS
 *                      --log FILE
 *
 * `write` creates ConfigMaps P-<seq> (data {"seq": "<seq>"}) from C threads
 * through the endpoints round-robin, and appends one line per write the
 * server acknowledged to the log:
 *     <wall ms> acked <name> <seq> <endpoint>
 *     <wall ms> ambiguous-present <name> <seq> <endpoint>
 * A write counts only once its 201 arrived. A failed attempt (connection
 * refused or reset, timeout, 5xx, 429) is retried with the same name on the
 * next endpoint; a 409 AlreadyExists on such a retry means an earlier
 * attempt did commit, so it is logged as "ambiguous-present" and checked
 * like an acknowledged write. The log is written with one write(2) per line
 * (a test can follow it) and fdatasync'ed every 200 ms and at exit.
 * Availability is measured as the longest interval with no successful write
 * on any endpoint, from the first attempt to the stop (so a server that is
 * down at the end still counts). Stops after S seconds, when F exists, or on
 * SIGTERM/SIGINT.
 *
 * `check` lists the namespace's ConfigMaps (paginated) and verifies every
 * logged name is present with its seq; exit 1 if any is lost.
 *
 * Credentials come from the kubeconfig's embedded client-certificate-data,
 * client-key-data and certificate-authority-data (what `cairn server`
 * writes), handed to libcurl as in-memory blobs. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/err.h"
#include "lib/util.h"
#include "lib/yaml.h"

#define MAX_ENDPOINTS 16
#define MAX_CONCURRENCY 256
#define MAX_KUBECONFIG (1 << 20)
#define MAX_RESPONSE (256 << 20)   /* one list page of 500 ConfigMaps is far less */
#define MAX_LOG_LINE 1024
#define SYNC_EVERY_MS 200
#define MAX_REPORTED_LOST 20

typedef struct blob {
    char *data;
    size_t len;
} blob;

typedef struct creds {
    blob ca, cert, key;
    char *server;   /* the kubeconfig's cluster server, used when no --server */
} creds;

typedef struct endpoint {
    char *url;
    _Atomic long acked, failed;
} endpoint;

typedef struct opts {
    const char *kubeconfig, *servers, *ns, *prefix, *log, *stop_file;
    double seconds;
    int64_t concurrency, timeout_ms;
} opts;

typedef struct writer {
    const opts *o;
    const creds *cr;
    endpoint ep[MAX_ENDPOINTS];
    int nep;
    int logfd;
    pthread_mutex_t mu;          /* guards the log writes and the gap figures */
    int64_t last_ok_ms, longest_gap_ms;
    _Atomic long seq, rr, acked, ambiguous, failed, foreign;
    _Atomic bool stop;
} writer;

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

/* ---- kubeconfig ---- */

static int b64_decode(const char *in, blob *out)
{
    return cn_base64_decode(in, strlen(in), (size_t)1 << 20, &out->data, &out->len);
}

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    cn_buf b;
    cn_buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            cn_buf_release(&b);
            fclose(f);
            errno = EFBIG;
            return NULL;
        }
        cn_buf_add(&b, chunk, n);
    }
    fclose(f);
    return cn_buf_detach(&b, len);
}

/* The element of a kubeconfig list named `name` (the first when name is
 * NULL), or NULL. */
static json_t *kc_entry(json_t *doc, const char *list, const char *name)
{
    json_t *arr = json_object_get(doc, list), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (!name || (n && !strcmp(n, name))) return e;
    }
    return NULL;
}

static const char *kc_string(json_t *entry, const char *section, const char *field)
{
    return json_string_value(json_object_get(json_object_get(entry, section), field));
}

static int load_kubeconfig(const char *path, creds *c)
{
    size_t len = 0;
    cn_err err = CN_ERR_INIT;
    json_t *doc = NULL;
    int r = -EINVAL;
    _cleanup_free_ char *text = read_file(path, MAX_KUBECONFIG, &len);
    if (!text) {
        fprintf(stderr, "cairn-writer: cannot read kubeconfig \"%s\": %s\n", path, strerror(errno));
        return -errno;
    }
    if (cn_yaml_parse(text, len, &doc, &err) < 0) {
        fprintf(stderr, "cairn-writer: kubeconfig \"%s\": %s\n", path, err.message ? err.message : "bad YAML");
        goto out;
    }
    const char *cur = json_string_value(json_object_get(doc, "current-context"));
    json_t *ctx = kc_entry(doc, "contexts", cur);
    json_t *cluster = kc_entry(doc, "clusters", kc_string(ctx, "context", "cluster"));
    json_t *user = kc_entry(doc, "users", kc_string(ctx, "context", "user"));
    const char *ca = kc_string(cluster, "cluster", "certificate-authority-data");
    const char *crt = kc_string(user, "user", "client-certificate-data");
    const char *key = kc_string(user, "user", "client-key-data");
    if (!ca || !crt || !key) {
        fprintf(stderr, "cairn-writer: kubeconfig \"%s\" lacks embedded certificate data\n", path);
        goto out;
    }
    if (b64_decode(ca, &c->ca) < 0 || b64_decode(crt, &c->cert) < 0 || b64_decode(key, &c->key) < 0) {
        fprintf(stderr, "cairn-writer: kubeconfig \"%s\": bad base64\n", path);
        goto out;
    }
    c->server = cn_strdup(kc_string(cluster, "cluster", "server"));
    r = 0;
out:
    json_decref(doc);
    cn_err_clear(&err);
    return r;
}

static void creds_release(creds *c)
{
    free(c->ca.data);
    free(c->cert.data);
    free(c->key.data);
    free(c->server);
}

/* ---- HTTP ---- */

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    cn_buf *b = ud;
    if (b->len + s * n > MAX_RESPONSE) return 0;   /* aborts the transfer */
    cn_buf_add(b, p, s * n);
    return s * n;
}

static CURL *new_handle(const creds *c, int64_t timeout_ms)
{
    CURL *h = curl_easy_init();
    if (!h) abort();
    struct curl_blob ca = { c->ca.data, c->ca.len, CURL_BLOB_COPY };
    struct curl_blob crt = { c->cert.data, c->cert.len, CURL_BLOB_COPY };
    struct curl_blob key = { c->key.data, c->key.len, CURL_BLOB_COPY };
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &crt);
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    return h;
}

/* One request; the HTTP status, or 0 when no response arrived. */
static long http(CURL *h, const char *method, const char *url, const char *body, cn_buf *resp)
{
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    cn_buf_reset(resp);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    else curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    return code;
}

static bool status_reason(const cn_buf *resp, const char *reason)
{
    json_t *j = resp->data ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
    const char *r = json_string_value(json_object_get(j, "reason"));
    bool match = r && !strcmp(r, reason);
    json_decref(j);
    return match;
}

static int split_endpoints(const char *list, endpoint *ep)
{
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && p[len - 1] == '/') len--;
        if (len) {
            if (n == MAX_ENDPOINTS) {
                while (n) free(ep[--n].url);
                return -E2BIG;
            }
            ep[n].url = cn_strndup(p, len);
            atomic_init(&ep[n].acked, 0);
            atomic_init(&ep[n].failed, 0);
            n++;
        }
        if (!e) break;
        p = e + 1;
    }
    return n;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- write ---- */

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fprintf(stderr, "cairn-writer: log write failed: %s\n", strerror(errno));
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void record(writer *w, int e, const char *what, const char *name, long seq)
{
    char line[MAX_LOG_LINE];
    int n = snprintf(line, sizeof line, "%" PRId64 " %s %s %ld %s\n", wall_ms(), what, name, seq, w->ep[e].url);
    if (n < 0 || (size_t)n >= sizeof line) return;   /* names and URLs are bounded by the options */
    pthread_mutex_lock(&w->mu);
    int64_t now = cn_now_ms();
    if (now - w->last_ok_ms > w->longest_gap_ms) w->longest_gap_ms = now - w->last_ok_ms;
    w->last_ok_ms = now;
    write_all(w->logfd, line, (size_t)n);
    pthread_mutex_unlock(&w->mu);
    atomic_fetch_add(&w->ep[e].acked, 1);
}

/* Create one ConfigMap, retrying on the next endpoint until it is
 * acknowledged or the writer stops. */
static void write_one(writer *w, CURL **hs, cn_buf *resp, long seq)
{
    char name[300], url[600], body[700];
    snprintf(name, sizeof name, "%s-%ld", w->o->prefix, seq);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},\"data\":{\"seq\":\"%ld\"}}",
             name, seq);
    int64_t backoff = 5;
    for (int attempt = 0; !atomic_load(&w->stop); attempt++) {
        int e = (int)(atomic_fetch_add(&w->rr, 1) % w->nep);
        snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps", w->ep[e].url, w->o->ns);
        long code = http(hs[e], "POST", url, body, resp);
        if (code == 201) {
            record(w, e, "acked", name, seq);
            atomic_fetch_add(&w->acked, 1);
            return;
        }
        bool exists = code == 409 && status_reason(resp, "AlreadyExists");
        if (exists && attempt > 0) {
            record(w, e, "ambiguous-present", name, seq);
            atomic_fetch_add(&w->ambiguous, 1);
            return;
        }
        atomic_fetch_add(&w->ep[e].failed, 1);
        atomic_fetch_add(&w->failed, 1);
        if (exists) {   /* there before this run (reused prefix): not ours */
            atomic_fetch_add(&w->foreign, 1);
            return;
        }
        /* Short: the backoff bounds how precisely the gap is measured. */
        sleep_ms(backoff);
        backoff = backoff * 2 > 50 ? 50 : backoff * 2;
    }
}

static void *worker_main(void *arg)
{
    writer *w = arg;
    CURL *hs[MAX_ENDPOINTS];
    cn_buf resp;
    cn_buf_init(&resp);
    for (int i = 0; i < w->nep; i++) hs[i] = new_handle(w->cr, w->o->timeout_ms);
    while (!atomic_load(&w->stop)) write_one(w, hs, &resp, atomic_fetch_add(&w->seq, 1));
    for (int i = 0; i < w->nep; i++) curl_easy_cleanup(hs[i]);
    cn_buf_release(&resp);
    return NULL;
}

static bool should_stop(const opts *o, int64_t deadline)
{
    return got_signal || cn_now_ms() >= deadline || (o->stop_file && access(o->stop_file, F_OK) == 0);
}

/* The namespace must exist before the first write; 409 means it does. */
static int ensure_namespace(writer *w, int64_t deadline)
{
    CURL *h = new_handle(w->cr, w->o->timeout_ms);
    cn_buf resp;
    cn_buf_init(&resp);
    char url[600], body[400];
    snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", w->o->ns);
    int r = -ETIMEDOUT;
    for (int i = 0; !should_stop(w->o, deadline); i++) {
        snprintf(url, sizeof url, "%s/api/v1/namespaces", w->ep[i % w->nep].url);
        long code = http(h, "POST", url, body, &resp);
        if (code == 201 || code == 409) {
            r = 0;
            break;
        }
        sleep_ms(50);
    }
    cn_buf_release(&resp);
    curl_easy_cleanup(h);
    return r;
}

static int cmd_write(const opts *o, const creds *cr, endpoint *ep, int nep)
{
    writer w = { .o = o, .cr = cr, .nep = nep };
    memcpy(w.ep, ep, sizeof w.ep);
    pthread_mutex_init(&w.mu, NULL);
    w.logfd = open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w.logfd < 0) {
        fprintf(stderr, "cairn-writer: cannot open log \"%s\": %s\n", o->log, strerror(errno));
        return 2;
    }
    int64_t start = cn_now_ms(), deadline = start + (int64_t)(o->seconds * 1000.0);
    if (ensure_namespace(&w, deadline) < 0) fprintf(stderr, "cairn-writer: namespace \"%s\" not created\n", o->ns);
    w.last_ok_ms = start;
    pthread_t th[MAX_CONCURRENCY];
    for (int64_t i = 0; i < o->concurrency; i++) pthread_create(&th[i], NULL, worker_main, &w);
    int64_t last_sync = cn_now_ms();
    while (!should_stop(o, deadline)) {
        sleep_ms(20);
        if (cn_now_ms() - last_sync >= SYNC_EVERY_MS) {
            fdatasync(w.logfd);
            last_sync = cn_now_ms();
        }
    }
    int64_t stopped = cn_now_ms();
    atomic_store(&w.stop, true);
    for (int64_t i = 0; i < o->concurrency; i++) pthread_join(th[i], NULL);
    /* Writes acknowledged after the stop still closed a gap; the tail
     * counts only up to the stop. */
    if (stopped - w.last_ok_ms > w.longest_gap_ms) w.longest_gap_ms = stopped - w.last_ok_ms;
    int rc = 0;
    if (fsync(w.logfd) < 0 || close(w.logfd) < 0) {
        fprintf(stderr, "cairn-writer: log sync failed: %s\n", strerror(errno));
        rc = 2;
    }
    printf("acked %ld (ambiguous-present %ld), failed attempts %ld, foreign names %ld, in %.1f s\n",
           atomic_load(&w.acked) + atomic_load(&w.ambiguous), atomic_load(&w.ambiguous),
           atomic_load(&w.failed), atomic_load(&w.foreign), (double)(stopped - start) / 1000.0);
    for (int i = 0; i < nep; i++)
        printf("endpoint %s: acked %ld, failed attempts %ld\n", w.ep[i].url,
               atomic_load(&w.ep[i].acked), atomic_load(&w.ep[i].failed));
    printf("longest gap: %" PRId64 " ms\n", w.longest_gap_ms);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

/* ---- check ---- */

/* Every ConfigMap of the namespace as name -> data.seq (JSON null if none). */
static int list_all(const opts *o, const creds *cr, const endpoint *ep, int nep, json_t *out)
{
    CURL *h = new_handle(cr, 30000);
    cn_buf resp;
    cn_buf_init(&resp);
    _cleanup_free_ char *cont = NULL;
    int r = 0, e = 0, failures = 0;
    for (;;) {
        char *esc = cont ? curl_easy_escape(h, cont, 0) : NULL;
        _cleanup_free_ char *url = cn_asprintf("%s/api/v1/namespaces/%s/configmaps?limit=500%s%s",
                                               ep[e].url, o->ns, esc ? "&continue=" : "", esc ? esc : "");
        curl_free(esc);
        long code = http(h, "GET", url, NULL, &resp);
        if (code != 200) {
            /* Another endpoint may answer; a page's continue token works
             * on any server of the cluster. */
            if (++failures >= 3 * nep) {
                fprintf(stderr, "cairn-writer: list failed (HTTP %ld) at %s\n", code, url);
                r = -EIO;
                break;
            }
            e = (e + 1) % nep;
            sleep_ms(200);
            continue;
        }
        json_t *j = json_loadb(resp.data, resp.len, 0, NULL), *it;
        size_t i;
        json_array_foreach(json_object_get(j, "items"), i, it) {
            const char *name = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
            json_t *seq = json_object_get(json_object_get(it, "data"), "seq");
            if (name) json_object_set(out, name, seq ? seq : json_null());
        }
        const char *next = json_string_value(json_object_get(json_object_get(j, "metadata"), "continue"));
        free(cont);
        cont = next && *next ? cn_strdup(next) : NULL;
        json_decref(j);
        if (!cont) break;
    }
    cn_buf_release(&resp);
    curl_easy_cleanup(h);
    return r;
}

/* Split a log line into at most max space-separated fields (in place). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p == ' ') p++;
        if (!*p) break;
        f[n++] = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

static int cmd_check(const opts *o, const creds *cr, const endpoint *ep, int nep)
{
    json_t *present = json_object();
    int rc = 2;
    FILE *f = NULL;
    if (list_all(o, cr, ep, nep, present) < 0) goto out;
    f = fopen(o->log, "r");
    if (!f) {
        fprintf(stderr, "cairn-writer: cannot read log \"%s\": %s\n", o->log, strerror(errno));
        goto out;
    }
    long acked = 0, ambiguous = 0, ok = 0, lost = 0, malformed = 0;
    char line[MAX_LOG_LINE];
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {   /* over-long or torn */
            malformed++;
            continue;
        }
        line[len - 1] = '\0';
        char *fl[5];
        if (fields(line, fl, 5) != 5 || (strcmp(fl[1], "acked") && strcmp(fl[1], "ambiguous-present"))) {
            malformed++;
            continue;
        }
        acked++;
        if (!strcmp(fl[1], "ambiguous-present")) ambiguous++;
        const char *seq = json_string_value(json_object_get(present, fl[2]));
        if (seq && !strcmp(seq, fl[3])) {
            ok++;
            continue;
        }
        if (lost++ < MAX_REPORTED_LOST)
            printf("lost: %s (seq %s, acked by %s at %s ms)%s\n", fl[2], fl[3], fl[4], fl[0],
                   json_object_get(present, fl[2]) ? " present with other data" : "");
    }
    printf("acked %ld, present %ld, lost %ld (ambiguous-present %ld; objects in namespace %zu)\n",
           acked, ok, lost, ambiguous, json_object_size(present));
    if (malformed) printf("malformed log lines: %ld\n", malformed);
    rc = lost || malformed ? 1 : 0;
out:
    if (f) fclose(f);
    json_decref(present);
    return rc;
}

/* ---- main ---- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: cairn-writer write --kubeconfig K --server URL[,URL...] --namespace NS --prefix P\n"
            "                          --log FILE --seconds S [--concurrency C] [--stop-file F] [--timeout-ms T]\n"
            "       cairn-writer check --kubeconfig K --server URL[,URL...] --namespace NS --log FILE\n"
            "write: creates ConfigMaps P-<seq> through the endpoints round-robin, logging each\n"
            "       acknowledged one; prints counts per endpoint and the longest gap without a\n"
            "       successful write. Stops after S seconds, when F exists, or on SIGTERM.\n"
            "check: verifies every logged write is present with its data; exit 1 if any is lost.\n"
            "--server defaults to the kubeconfig's; --concurrency 4; --timeout-ms 5000 per request.\n");
}

static int parse_opts(int argc, char **argv, opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!v) goto bad;
        i++;
        if (!strcmp(a, "--kubeconfig")) o->kubeconfig = v;
        else if (!strcmp(a, "--server")) o->servers = v;
        else if (!strcmp(a, "--namespace")) o->ns = v;
        else if (!strcmp(a, "--prefix")) o->prefix = v;
        else if (!strcmp(a, "--log")) o->log = v;
        else if (!strcmp(a, "--stop-file")) o->stop_file = v;
        else if (!strcmp(a, "--concurrency")) {
            if (cn_parse_int64(v, &o->concurrency) < 0 || o->concurrency < 1 || o->concurrency > MAX_CONCURRENCY) goto bad;
        } else if (!strcmp(a, "--timeout-ms")) {
            if (cn_parse_int64(v, &o->timeout_ms) < 0 || o->timeout_ms < 1 || o->timeout_ms > 3600000) goto bad;
        } else if (!strcmp(a, "--seconds")) {
            char *end;
            o->seconds = strtod(v, &end);
            if (*end || !(o->seconds > 0) || o->seconds > 86400) goto bad;
        } else goto bad;
        continue;
    bad:
        fprintf(stderr, "cairn-writer: bad option %s%s%s\n", a, v ? " " : "", v ? v : "");
        return -EINVAL;
    }
    if (!o->kubeconfig || !o->ns || !o->log) return -EINVAL;
    /* Names must fit a log line and a DNS subdomain. */
    if (strlen(o->ns) > 63 || (o->prefix && strlen(o->prefix) > 200)) return -EINVAL;
    return 0;
}

int main(int argc, char **argv)
{
    opts o = { .concurrency = 4, .timeout_ms = 5000, .seconds = 10 };
    if (argc < 2 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
        usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    bool write = !strcmp(argv[1], "write");
    if (parse_opts(argc, argv, &o) < 0 || (write && !o.prefix)) {
        usage(stderr);
        return 2;
    }
    creds cr = { 0 };
    endpoint ep[MAX_ENDPOINTS] = { 0 };
    int nep = 0, rc = 2;
    if (load_kubeconfig(o.kubeconfig, &cr) < 0) goto out;
    const char *servers = o.servers ? o.servers : cr.server;
    nep = servers ? split_endpoints(servers, ep) : 0;
    if (nep <= 0) {
        fprintf(stderr, "cairn-writer: no usable --server\n");
        nep = 0;
        goto out;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_ALL);
    rc = write ? cmd_write(&o, &cr, ep, nep) : cmd_check(&o, &cr, ep, nep);
    curl_global_cleanup();
out:
    for (int i = 0; i < nep; i++) free(ep[i].url);
    creds_release(&cr);
    return rc;
}
