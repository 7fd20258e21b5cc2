/* bench/api: API server throughput and latency, side by side with raw etcd.
 *
 * Starts `cairn server` (fsync on, as in production) and an etcd 3.4 member
 * on loopback, then drives both with the same libcurl client code over
 * HTTP/1.1 keep-alive at 1, 16 and 64 concurrent clients:
 *   cairn: create ConfigMap, GET one, LIST 500   etcd: put, range one key
 * plus GET latency at a fixed 1,000 req/s (open loop), watch fan-out to
 * 1,000 watchers (p99 delivery latency), and RSS idle and with N ConfigMaps
 * of 1 KiB. Prints figures only: a benchmark never fails on a timing.
 *
 * The throughput phase also runs a second cairn server on the etcd member
 * (`--datastore-endpoint`), so SQLite-backed cairn, etcd-backed cairn and raw
 * etcd appear side by side; the goal is etcd-backed creates >= 0.8x
 * raw etcd puts. `--datastore-endpoint URL[,URL...]` uses an external etcd
 * for both instead of starting a member. The two never share keys: raw puts
 * go under a per-run prefix, and cairn gets its own per-run --etcd-prefix
 * when it has the flag (required on an external etcd, whose /registry may
 * belong to a real cluster); on an external etcd both prefixes are deleted
 * at the end. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "common/bench.h"
#include "lib/util.h"

static const char *opt_cairn = "build/cairn";
static const char *opt_etcd = "/usr/bin/etcd";
static double opt_seconds = 3.0;
static long opt_objects = 100000;
static int opt_watchers = 1000;
static const char *opt_only = NULL;   /* run one phase: throughput, paced, watch or rss */
static const char *opt_datastore = NULL;   /* external etcd instead of our own member */
/* Key prefixes of this run in etcd: raw puts, and etcd-backed cairn. */
static char raw_prefix[80], cairn_prefix[64];

static bool phase(const char *name) { return !opt_only || !strcmp(opt_only, name); }
static char workdir[256];

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- targets ---- */

enum kind { CAIRN, ETCD };
typedef struct target {
    enum kind kind;
    const char *name;
    char base[128];
    char ca[400], cert[400], key[400];
    pid_t pid;
} target;

static CURL *new_handle(const target *t)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (t->kind == CAIRN) {
        curl_easy_setopt(h, CURLOPT_CAINFO, t->ca);
        curl_easy_setopt(h, CURLOPT_SSLCERT, t->cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, t->key);
    }
    return h;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    cn_buf *b = ud;
    if (b) cn_buf_add(b, p, s * n);
    return s * n;
}

/* One request; returns the HTTP code (0 on transport error). */
static long request(CURL *h, const char *method, const char *url, const char *body, cn_buf *resp)
{
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (!body) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    long code = 0;
    CURLcode cr = curl_easy_perform(h);
    if (cr == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    else if (getenv("BENCH_DEBUG")) fprintf(stderr, "bench: %s %s: %s\n", method, url, curl_easy_strerror(cr));
    curl_slist_free_all(hdr);
    return code;
}

/* out must hold 4 * ceil(strlen(in) / 3) + 1 bytes. */
static void b64(const char *in, char *out)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, in, strlen(in));
    memcpy(out, b.data ? b.data : "", b.len);
    out[b.len] = '\0';
    cn_buf_release(&b);
}

static char value_1k[1025];

/* Write one object: a ConfigMap ns/name with vlen bytes of data (cairn),
 * or the same key layout and value (etcd). Every write of the bench goes
 * through here, so both targets always get the same payload. */
static long put_object(const target *t, CURL *h, const char *ns, const char *name, int vlen, cn_buf *resp)
{
    char url[512], body[4096];
    if (t->kind == CAIRN) {
        snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps", t->base, ns);
        snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},\"data\":{\"v\":\"%.*s\"}}",
                 name, vlen, value_1k);
        return request(h, "POST", url, body, resp);
    }
    char key[256], k64[400], v[1100], v64[1500];
    snprintf(key, sizeof key, "%s/configmaps/%s/%s", raw_prefix, ns, name);
    b64(key, k64);
    snprintf(v, sizeof v, "%.*s", vlen, value_1k);
    b64(v, v64);
    snprintf(url, sizeof url, "%s/v3/kv/put", t->base);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
    return request(h, "POST", url, body, resp);
}

/* Build one operation's request. op: 0 create/put, 1 get/range, 2 list 500. */
static long do_op(const target *t, CURL *h, int op, int thread, long i, cn_buf *resp)
{
    char url[512], body[4096], k64[256], key[128], name[64];
    if (t->kind == CAIRN) {
        switch (op) {
        case 0:
            snprintf(name, sizeof name, "c-%d-%ld", thread, i);
            return put_object(t, h, "default", name, 256, resp);
        case 1:
            snprintf(url, sizeof url, "%s/api/v1/namespaces/default/configmaps/c-0-%ld", t->base, i % 100);
            return request(h, "GET", url, NULL, resp);
        default:
            snprintf(url, sizeof url, "%s/api/v1/namespaces/list500/configmaps?limit=500", t->base);
            return request(h, "GET", url, NULL, resp);
        }
    }
    switch (op) {
    case 0:
        snprintf(name, sizeof name, "c-%d-%ld", thread, i);
        return put_object(t, h, "default", name, 256, resp);
    case 1:
        snprintf(key, sizeof key, "%s/configmaps/default/c-0-%ld", raw_prefix, i % 100);
        b64(key, k64);
        snprintf(url, sizeof url, "%s/v3/kv/range", t->base);
        snprintf(body, sizeof body, "{\"key\":\"%s\"}", k64);
        return request(h, "POST", url, body, resp);
    default: {
        char from[128], to[128], end[192];
        snprintf(from, sizeof from, "%s/configmaps/list500/", raw_prefix);
        snprintf(to, sizeof to, "%s/configmaps/list5000", raw_prefix);   /* '/' + 1 */
        b64(from, k64);
        b64(to, end);
        snprintf(url, sizeof url, "%s/v3/kv/range", t->base);
        snprintf(body, sizeof body, "{\"key\":\"%s\",\"range_end\":\"%s\",\"limit\":500}", k64, end);
        return request(h, "POST", url, body, resp);
    }
    }
}

/* ---- closed-loop phases ---- */

typedef struct worker {
    const target *t;
    int op, id;
    int64_t deadline;
    long count, errors;
    int64_t *lat;
    size_t nlat, cap;
    long start_i;
    pthread_t th;
} worker;

static void add_lat(worker *w, int64_t us)
{
    if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = cn_realloc(w->lat, w->cap * sizeof *w->lat);
    }
    w->lat[w->nlat++] = us;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    CURL *h = new_handle(w->t);
    long i = w->start_i;
    while (bn_now_us() < w->deadline) {
        int64_t t0 = bn_now_us();
        long code = do_op(w->t, h, w->op, w->id, i++, NULL);
        if (code < 200 || code >= 300) w->errors++;
        else w->count++;
        add_lat(w, bn_now_us() - t0);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double p)
{
    if (!n) return NAN;
    size_t idx = (size_t)(p * (double)(n - 1));
    return (double)v[idx] / 1000.0;
}

typedef struct result { double ops, p50, p99; long errors; } result;

static result run_phase(const target *t, int op, int conc, double seconds, long base_i)
{
    worker *ws = cn_calloc((size_t)conc, sizeof *ws);
    int64_t start = bn_now_us(), deadline = start + (int64_t)(seconds * 1e6);
    for (int i = 0; i < conc; i++) {
        ws[i] = (worker){ .t = t, .op = op, .id = i, .deadline = deadline, .start_i = base_i };
        pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
    }
    long total = 0, errors = 0;
    size_t n = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].count;
        errors += ws[i].errors;
        n += ws[i].nlat;
    }
    double elapsed = (double)(bn_now_us() - start) / 1e6;
    int64_t *all = cn_malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < conc; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, n, sizeof *all, cmp64);
    result r = { (double)total / elapsed, pct(all, n, 0.50), pct(all, n, 0.99), errors };
    free(all);
    free(ws);
    return r;
}

/* ---- open-loop GET at a fixed rate ---- */

typedef struct paced { const target *t; int id, nthreads; double rate; int64_t start, deadline; worker w; pthread_t th; } paced;

static void *paced_main(void *arg)
{
    paced *p = arg;
    CURL *h = new_handle(p->t);
    double interval = 1e6 / (p->rate / p->nthreads);
    for (long i = 0;; i++) {
        int64_t sched = p->start + (int64_t)(interval * (double)i) + (int64_t)(interval * p->id / p->nthreads);
        if (sched >= p->deadline) break;
        int64_t now = bn_now_us();
        if (sched > now) usleep((useconds_t)(sched - now));
        long code = do_op(p->t, h, 1, p->id, i, NULL);
        if (code != 200) p->w.errors++;
        /* From the scheduled time: no coordinated omission. */
        add_lat(&p->w, bn_now_us() - sched);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static result run_paced(const target *t, double rate, double seconds)
{
    enum { N = 8 };
    paced ps[N];
    int64_t start = bn_now_us() + 10000;
    for (int i = 0; i < N; i++) {
        ps[i] = (paced){ .t = t, .id = i, .nthreads = N, .rate = rate, .start = start,
                         .deadline = start + (int64_t)(seconds * 1e6) };
        pthread_create(&ps[i].th, NULL, paced_main, &ps[i]);
    }
    size_t n = 0;
    long errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(ps[i].th, NULL);
        n += ps[i].w.nlat;
        errors += ps[i].w.errors;
    }
    int64_t *all = cn_malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        memcpy(all + k, ps[i].w.lat, ps[i].w.nlat * sizeof *all);
        k += ps[i].w.nlat;
        free(ps[i].w.lat);
    }
    qsort(all, n, sizeof *all, cmp64);
    result r = { (double)n / seconds, pct(all, n, 0.50), pct(all, n, 0.99), errors };
    free(all);
    return r;
}

/* ---- watch fan-out ---- */

typedef struct wstate { cn_buf line; int64_t *lat; size_t n, cap; } wstate;

static size_t watch_cb(char *p, size_t s, size_t nm, void *ud)
{
    wstate *w = ud;
    size_t len = s * nm;
    int64_t now = wall_us();
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n') {
            cn_buf_addc(&w->line, p[i]);
            continue;
        }
        const char *t = w->line.data ? strstr(w->line.data, "\"t\":\"") : NULL;
        if (t) {
            int64_t sent = strtoll(t + 5, NULL, 10);
            if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 256;
                w->lat = cn_realloc(w->lat, w->cap * sizeof *w->lat);
            }
            w->lat[w->n++] = now - sent;
        }
        cn_buf_reset(&w->line);
    }
    return len;
}

/* Watchers are pumped by WATCH_PUMPS threads (one curl multi handle each)
 * and events are written by another thread, so a slow pump or a write in
 * flight does not delay delivery to the other watchers. */
#define WATCH_PUMPS 2

typedef struct pump {
    const target *t;
    CURL **hs;
    wstate *st;
    int n;
    _Atomic int connected;
    _Atomic bool *stop;
    pthread_t th;
} pump;

static void *pump_main(void *arg)
{
    pump *p = arg;
    CURLM *m = curl_multi_init();
    for (int i = 0; i < p->n; i++) curl_multi_add_handle(m, p->hs[i]);
    int running = 1;
    while (!atomic_load(p->stop)) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 20, NULL);
        int connected = 0;
        for (int i = 0; i < p->n; i++) {
            long code = 0;
            curl_easy_getinfo(p->hs[i], CURLINFO_RESPONSE_CODE, &code);
            if (code == 200) connected++;
        }
        atomic_store(&p->connected, connected);
    }
    for (int i = 0; i < p->n; i++) curl_multi_remove_handle(m, p->hs[i]);
    curl_multi_cleanup(m);
    return NULL;
}

static void run_watch(const target *t, int nwatchers, int events)
{
    CURL **hs = cn_calloc((size_t)nwatchers, sizeof *hs);
    wstate *st = cn_calloc((size_t)nwatchers, sizeof *st);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/watch/configmaps?watch=true&resourceVersion=0&timeoutSeconds=120", t->base);
    for (int i = 0; i < nwatchers; i++) {
        hs[i] = new_handle(t);
        curl_easy_setopt(hs[i], CURLOPT_URL, url);
        curl_easy_setopt(hs[i], CURLOPT_WRITEFUNCTION, watch_cb);
        curl_easy_setopt(hs[i], CURLOPT_WRITEDATA, &st[i]);
        cn_buf_init(&st[i].line);
    }
    _Atomic bool stop = false;
    pump pumps[WATCH_PUMPS];
    for (int k = 0; k < WATCH_PUMPS; k++) {
        int from = nwatchers * k / WATCH_PUMPS, to = nwatchers * (k + 1) / WATCH_PUMPS;
        pumps[k] = (pump){ .t = t, .hs = hs + from, .st = st + from, .n = to - from, .stop = &stop };
        atomic_init(&pumps[k].connected, 0);
        pthread_create(&pumps[k].th, NULL, pump_main, &pumps[k]);
    }
    /* Let every watcher connect (TLS handshakes) before writing. */
    int64_t until = bn_now_us() + 15 * 1000000;
    long connected = 0;
    while (bn_now_us() < until) {
        connected = 0;
        for (int k = 0; k < WATCH_PUMPS; k++) connected += atomic_load(&pumps[k].connected);
        if (connected == nwatchers) break;
        usleep(50000);
    }
    if (connected != nwatchers && getenv("BENCH_DEBUG"))
        fprintf(stderr, "bench: only %ld of %d watchers connected\n", connected, nwatchers);
    CURL *w = new_handle(t);
    int sent = 0;
    int64_t next = bn_now_us();
    for (; sent < events; sent++) {
        int64_t now = bn_now_us();
        if (next > now) usleep((useconds_t)(next - now));
        next += 50000;   /* 20 events/s */
        char u[256], body[512];
        snprintf(u, sizeof u, "%s/api/v1/namespaces/watch/configmaps", t->base);
        snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w%d\"},\"data\":{\"t\":\"%" PRId64 "\"}}",
                 sent, wall_us());
        long wc = request(w, "POST", u, body, NULL);
        if (wc != 201 && sent == 0) fprintf(stderr, "bench: watch writer got HTTP %ld\n", wc);
    }
    curl_easy_cleanup(w);
    /* Give the last events time to arrive. */
    for (int i = 0; i < 100; i++) {
        size_t got = 0;
        for (int k = 0; k < nwatchers; k++) got += __atomic_load_n(&st[k].n, __ATOMIC_RELAXED);
        if (got >= (size_t)sent * (size_t)nwatchers) break;
        usleep(50000);
    }
    atomic_store(&stop, true);
    for (int k = 0; k < WATCH_PUMPS; k++) pthread_join(pumps[k].th, NULL);
    size_t n = 0;
    long got_all = 0;
    for (int i = 0; i < nwatchers; i++) {
        n += st[i].n;
        if ((int)st[i].n >= sent) got_all++;
    }
    int64_t *all = cn_malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nwatchers; i++) {
        memcpy(all + k, st[i].lat, st[i].n * sizeof *all);
        k += st[i].n;
        free(st[i].lat);
        cn_buf_release(&st[i].line);
        curl_easy_cleanup(hs[i]);
    }
    qsort(all, n, sizeof *all, cmp64);
    printf("%-8s watch fan-out: %d watchers (%d client threads), %d events at 20/s, %zu deliveries (%ld watchers got all): p50 %.2f ms, p99 %.2f ms\n",
           t->name, nwatchers, WATCH_PUMPS, sent, n, got_all, pct(all, n, 0.5), pct(all, n, 0.99));
    free(all);
    free(st);
    free(hs);
}

/* ---- process management ---- */

/* Start a cairn server named name (also its directory under workdir); on
 * etcd when datastore is set, with prefix as --etcd-prefix when set. */
static int start_cairn(target *t, const char *name, const char *datastore, const char *prefix)
{
    char dir[300], out[300], listen[64];
    snprintf(dir, sizeof dir, "%s/%s", workdir, name);
    snprintf(out, sizeof out, "%s/%s.out", workdir, name);
    int port = bn_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char *argv[16] = { (char *)opt_cairn, "server", "--data-dir", dir, "--listen", listen,
                       "--max-connections", "4096", "--log-level", "warn", NULL };
    int n = 10;
    if (datastore) {
        argv[n++] = "--datastore-endpoint";
        argv[n++] = (char *)datastore;
    }
    if (prefix) {
        argv[n++] = "--etcd-prefix";
        argv[n++] = (char *)prefix;
    }
    t->pid = bn_spawn(argv, out);
    t->kind = CAIRN;
    t->name = name;
    snprintf(t->base, sizeof t->base, "https://127.0.0.1:%d", port);
    snprintf(t->ca, sizeof t->ca, "%s/pki/ca.crt", dir);
    snprintf(t->cert, sizeof t->cert, "%s/pki/admin.crt", dir);
    snprintf(t->key, sizeof t->key, "%s/pki/admin.key", dir);
    for (int i = 0; i < 200; i++) {
        usleep(50000);
        if (access(t->cert, R_OK) != 0) continue;
        CURL *h = new_handle(t);
        char url[256];
        snprintf(url, sizeof url, "%s/readyz", t->base);
        long code = request(h, "GET", url, NULL, NULL);
        curl_easy_cleanup(h);
        if (code == 200) return 0;
    }
    return -1;
}

static int start_etcd(target *t)
{
    char dir[300], out[300], curl_[64], peer[64], cluster[128];
    snprintf(dir, sizeof dir, "%s/etcd", workdir);
    snprintf(out, sizeof out, "%s/etcd.out", workdir);
    int cp = bn_free_port(), pp = bn_free_port();
    snprintf(curl_, sizeof curl_, "http://127.0.0.1:%d", cp);
    snprintf(peer, sizeof peer, "http://127.0.0.1:%d", pp);
    snprintf(cluster, sizeof cluster, "bench=%s", peer);
    char *argv[] = { (char *)opt_etcd, "--name", "bench", "--data-dir", dir,
        "--listen-client-urls", curl_, "--advertise-client-urls", curl_,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", cluster, "--log-level", "error", NULL };
    t->pid = bn_spawn(argv, out);
    t->kind = ETCD;
    t->name = "etcd";
    snprintf(t->base, sizeof t->base, "%s", curl_);
    for (int i = 0; i < 200; i++) {
        usleep(50000);
        CURL *h = new_handle(t);
        char url[256];
        snprintf(url, sizeof url, "%s/health", t->base);
        long code = request(h, "GET", url, NULL, NULL);
        curl_easy_cleanup(h);
        if (code == 200) return 0;
    }
    return -1;
}

/* Whether `cairn server --help` lists flag. */
static bool server_has_flag(const char *flag)
{
    char cmd[600], line[512];
    snprintf(cmd, sizeof cmd, "'%s' server --help 2>&1", opt_cairn);
    FILE *p = popen(cmd, "r");
    bool found = false;
    if (!p) return false;
    while (fgets(line, sizeof line, p))
        if (strstr(line, flag)) found = true;
    pclose(p);
    return found;
}

/* Delete every key under prefix (only this run's own prefixes). */
static void etcd_delete_prefix(const target *t, const char *prefix)
{
    char end[128], k64[256], e64[256], url[256], body[600];
    snprintf(end, sizeof end, "%s", prefix);
    size_t n = strlen(end);
    if (!n || prefix[0] != '/') return;
    end[n - 1]++;
    b64(prefix, k64);
    b64(end, e64);
    snprintf(url, sizeof url, "%s/v3/kv/deleterange", t->base);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"range_end\":\"%s\"}", k64, e64);
    CURL *h = new_handle(t);
    if (request(h, "POST", url, body, NULL) != 200) fprintf(stderr, "bench: could not delete %s* from etcd\n", prefix);
    curl_easy_cleanup(h);
}

static void stop(target *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
}

/* Sequential creates of n objects named prefix-<i> in ns (cairn: the
 * namespace is created first) or keys (etcd). */
static void seed(const target *t, const char *ns, const char *prefix, long n)
{
    CURL *h = new_handle(t);
    if (t->kind == CAIRN) {
        char url[256], body[512];
        snprintf(url, sizeof url, "%s/api/v1/namespaces", t->base);
        snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", ns);
        request(h, "POST", url, body, NULL);
    }
    for (long i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s-%ld", prefix, i);
        put_object(t, h, ns, name, 256, NULL);
    }
    curl_easy_cleanup(h);
}

/* Many 1 KiB ConfigMaps, 64 clients. */
typedef struct filler { const target *t; long from, to; pthread_t th; } filler;

static void *fill_main(void *arg)
{
    filler *f = arg;
    CURL *h = new_handle(f->t);
    for (long i = f->from; i < f->to; i++) {
        char name[64];
        snprintf(name, sizeof name, "r-%ld", i);
        put_object(f->t, h, "rss", name, 1024, NULL);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void usage(void)
{
    printf("usage: bench_api [--cairn PATH] [--etcd PATH] [--datastore-endpoint URL[,URL...]] [--seconds S] [--objects N] [--watchers N]\n"
           "  --cairn PATH    cairn binary (default build/cairn)\n"
           "  --etcd PATH     etcd binary (default /usr/bin/etcd; skipped if missing)\n"
           "  --datastore-endpoint URL[,URL...]\n"
           "                  use this etcd (plain http) for the etcd-backed cairn and the raw\n"
           "                  etcd column instead of starting a member; the run writes only\n"
           "                  under its own /cairn-bench-<random> prefixes and deletes them\n"
           "  --seconds S     duration of each throughput phase (default 3)\n"
           "  --objects N     ConfigMaps of 1 KiB for the RSS figure (default 100000)\n"
           "  --watchers N    watchers for the fan-out figure (default 1000)\n"
           "  --only PHASE    run one phase: throughput, paced, watch or rss\n"
           "BENCH_DEBUG=1 in the environment prints transport errors.\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cairn") && i + 1 < argc) opt_cairn = argv[++i];
        else if (!strcmp(argv[i], "--etcd") && i + 1 < argc) opt_etcd = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) opt_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--objects") && i + 1 < argc) opt_objects = atol(argv[++i]);
        else if (!strcmp(argv[i], "--watchers") && i + 1 < argc) opt_watchers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) opt_only = argv[++i];
        else if (!strcmp(argv[i], "--datastore-endpoint") && i + 1 < argc) opt_datastore = argv[++i];
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    struct rlimit rl;   /* 1,000 watch connections need more than 1,024 descriptors */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);   /* figures appear as they are measured */
    memset(value_1k, 'x', 1024);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(workdir, sizeof workdir, "/tmp/cairn-bench.XXXXXX");
    if (!mkdtemp(workdir)) return 1;

    /* Per-run etcd key prefixes, so runs and columns never share keys. */
    unsigned char rnd[4];
    cn_random(rnd, sizeof rnd);
    snprintf(cairn_prefix, sizeof cairn_prefix, "/cairn-bench-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    snprintf(raw_prefix, sizeof raw_prefix, "%s-raw", cairn_prefix);

    target cairn = { 0 }, cetcd = { 0 }, etcd = { 0 };
    if (start_cairn(&cairn, "cairn", NULL, NULL) < 0) {
        fprintf(stderr, "bench: cairn server did not start (see %s/cairn.out)\n", workdir);
        return 1;
    }
    sleep(1);
    long idle = bn_rss_kib(cairn.pid);
    bool have_etcd;
    if (opt_datastore) {
        etcd.kind = ETCD;
        etcd.name = "etcd";
        snprintf(etcd.base, sizeof etcd.base, "%.*s", (int)strcspn(opt_datastore, ","), opt_datastore);
        have_etcd = true;
    } else {
        have_etcd = access(opt_etcd, X_OK) == 0 && start_etcd(&etcd) == 0;
        if (!have_etcd) printf("note: etcd not available at %s; etcd columns skipped\n", opt_etcd);
    }
    bool have_cetcd = false;
    if (have_etcd && phase("throughput")) {
        bool prefix_flag = server_has_flag("--etcd-prefix");
        if (!server_has_flag("--datastore-endpoint"))
            printf("cairn(etcd): n/a (server has no --datastore-endpoint)\n");
        else if (opt_datastore && !prefix_flag)
            printf("cairn(etcd): n/a (server has no --etcd-prefix; not writing under /registry of an external etcd)\n");
        else if (start_cairn(&cetcd, "cairn-etcd", opt_datastore ? opt_datastore : etcd.base,
                             prefix_flag ? cairn_prefix : NULL) < 0)
            printf("cairn(etcd): n/a (server on etcd did not start; see %s/cairn-etcd.out)\n", workdir);
        else
            have_cetcd = true;
        if (have_cetcd) cetcd.name = "cairn(etcd)";
    }

    printf("bench/api — %d-core machine, HTTP/1.1 keep-alive (cairn over TLS with client certs; etcd's v3 JSON gateway over plain HTTP)\n",
           (int)sysconf(_SC_NPROCESSORS_ONLN));
    printf("object: ConfigMap with 256 B of data (etcd: the same key layout and 256 B value)\n");
    printf("etcd: %s\n\n", opt_datastore ? opt_datastore : have_etcd ? "one member started by the bench" : "none");
    seed(&cairn, "default", "c-0", 100);
    seed(&cairn, "list500", "l", 500);
    if (have_cetcd) {
        seed(&cetcd, "default", "c-0", 100);
        seed(&cetcd, "list500", "l", 500);
    }
    if (have_etcd) {
        seed(&etcd, "default", "c-0", 100);
        seed(&etcd, "list500", "l", 500);
    }
    static const int concs[] = { 1, 16, 64 };
    static const char *const ops[] = { "create", "get", "list500" };
    static const char *const etcd_ops[] = { "put", "range1", "range500" };
    if (phase("throughput"))
        printf("%-12s %-8s %5s %12s %10s %10s %8s\n", "target", "op", "conc", "ops/s", "p50 ms", "p99 ms", "errors");
    double ratio_create[3] = { 0 }, ratio_get[3] = { 0 }, ratio_ecreate[3] = { 0 }, ratio_eget[3] = { 0 };
    for (int op = 0; op < 3 && phase("throughput"); op++) {
        for (int ci = 0; ci < 3; ci++) {
            long base_i = 1000000L * (op + 1) * (ci + 1);
            result rc = run_phase(&cairn, op, concs[ci], opt_seconds, base_i);
            printf("%-12s %-8s %5d %12.0f %10.2f %10.2f %8ld\n", "cairn", ops[op], concs[ci], rc.ops, rc.p50, rc.p99, rc.errors);
            result rce = { 0 };
            if (have_cetcd) {
                rce = run_phase(&cetcd, op, concs[ci], opt_seconds, base_i);
                printf("%-12s %-8s %5d %12.0f %10.2f %10.2f %8ld\n", cetcd.name, ops[op], concs[ci], rce.ops, rce.p50, rce.p99, rce.errors);
            }
            if (have_etcd) {
                result re = run_phase(&etcd, op, concs[ci], opt_seconds, base_i);
                printf("%-12s %-8s %5d %12.0f %10.2f %10.2f %8ld\n", "etcd", etcd_ops[op], concs[ci], re.ops, re.p50, re.p99, re.errors);
                if (op == 0) ratio_create[ci] = rc.ops / re.ops, ratio_ecreate[ci] = rce.ops / re.ops;
                if (op == 1) ratio_get[ci] = rc.ops / re.ops, ratio_eget[ci] = rce.ops / re.ops;
            }
        }
    }
    if (have_etcd && phase("throughput")) {
        printf("\nratio cairn/etcd: create vs put  %.2fx (1)  %.2fx (16)  %.2fx (64)\n", ratio_create[0], ratio_create[1], ratio_create[2]);
        printf("ratio cairn/etcd: get vs range   %.2fx (1)  %.2fx (16)  %.2fx (64)\n", ratio_get[0], ratio_get[1], ratio_get[2]);
    }
    if (have_cetcd && phase("throughput")) {
        printf("ratio cairn(etcd) creates / raw etcd puts  %.2fx (1)  %.2fx (16)  %.2fx (64)   (goal >= 0.8x)\n",
               ratio_ecreate[0], ratio_ecreate[1], ratio_ecreate[2]);
        printf("ratio cairn(etcd) gets / raw etcd ranges   %.2fx (1)  %.2fx (16)  %.2fx (64)\n", ratio_eget[0], ratio_eget[1], ratio_eget[2]);
    }
    stop(&cetcd);
    result pr = { 0 };
    if (phase("paced")) pr = run_paced(&cairn, 1000, opt_seconds * 2);
    if (phase("paced")) printf("\n%-8s GET at a fixed 1,000 req/s (open loop): achieved %.0f/s, p50 %.2f ms, p99 %.2f ms, errors %ld\n",
           "cairn", pr.ops, pr.p50, pr.p99, pr.errors);
    if (opt_watchers > 0 && phase("watch")) {
        seed(&cairn, "watch", "none", 0);   /* creates the namespace */
        run_watch(&cairn, opt_watchers, 100);
    }
    if (!phase("rss")) goto out;

    /* RSS with many objects. */
    CURL *h = new_handle(&cairn);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/namespaces", cairn.base);
    request(h, "POST", url, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"rss\"}}", NULL);
    curl_easy_cleanup(h);
    int64_t t0 = bn_now_us();
    enum { NF = 64 };
    filler fs[NF];
    for (int i = 0; i < NF; i++) {
        fs[i] = (filler){ .t = &cairn, .from = opt_objects * i / NF, .to = opt_objects * (i + 1) / NF };
        pthread_create(&fs[i].th, NULL, fill_main, &fs[i]);
    }
    for (int i = 0; i < NF; i++) pthread_join(fs[i].th, NULL);
    double fill_s = (double)(bn_now_us() - t0) / 1e6;
    sleep(1);
    long full = bn_rss_kib(cairn.pid);
    printf("\n%-8s RSS idle %.1f MiB; with %ld ConfigMaps of 1 KiB %.1f MiB (created at %.0f/s with 64 clients)\n",
           "cairn", idle / 1024.0, opt_objects, full / 1024.0, (double)opt_objects / fill_s);
    if (etcd.pid > 0) printf("%-8s RSS after its phases %.1f MiB\n", "etcd", bn_rss_kib(etcd.pid) / 1024.0);
out:

    stop(&cairn);
    if (opt_datastore) {   /* leave an external etcd as we found it */
        etcd_delete_prefix(&etcd, raw_prefix);
        if (have_cetcd) etcd_delete_prefix(&etcd, cairn_prefix);
    }
    stop(&etcd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", workdir);
    curl_global_cleanup();
    return 0;
}
