/* bench/sched: scheduler throughput and latency on plain Node objects, in
 * the manner of kube-scheduler's scheduler_perf (nodes are API objects, no
 * kubelet).
 *
 * For each node count and pod count asked for, and each workload (plain
 * pods; pods with required anti-affinity on kubernetes.io/hostname among
 * groups of 10 replicas; pods spread by zone with maxSkew 1 across 10
 * zones, DoNotSchedule), it starts a fresh `cairn server --no-fsync`,
 * creates the nodes (Ready, 32 cpu, 256 GiB, 110 pods) over the API, opens
 * a pod watch, then creates the pods from 32 client threads as fast as the
 * server takes them and records when each pod's binding shows up on the
 * watch. Prints pods scheduled per second (pods / time from the first
 * create to the last binding), the creation rate, p50/p99 from creation
 * (the create's answer) to the binding seen on the watch, and the server's
 * RSS. Figures only: a benchmark never fails on a timing. */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

static const char *opt_cairn = "build/cairn";
static const char *opt_nodes = "1000";
static const char *opt_pods = "2000";
static const char *opt_workloads = "plain,anti,spread";
static int opt_clients = 32;
static char workdir[256];

enum { ZONES = 10, GROUP_ANTI = 10 };

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

typedef struct server { pid_t pid; char base[128], ca[500], cert[500], key[500]; } server;

static CURL *new_handle(const server *s)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CAINFO, s->ca);
    curl_easy_setopt(h, CURLOPT_SSLCERT, s->cert);
    curl_easy_setopt(h, CURLOPT_SSLKEY, s->key);
    return h;
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static long request(CURL *h, const char *method, const char *url, const char *ctype, const char *body)
{
    struct curl_slist *hdr = NULL;
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    hdr = curl_slist_append(hdr, ct);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (!body) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    return code;
}

static int start_server(server *s, const char *name)
{
    char dir[400], out[400], listen[64];
    snprintf(dir, sizeof dir, "%s/%s", workdir, name);
    snprintf(out, sizeof out, "%s/%s.out", workdir, name);
    int port = free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char *argv[] = { (char *)opt_cairn, "server", "--data-dir", dir, "--listen", listen, "--no-fsync",
                     "--max-connections", "4096", "--log-level", "warn", NULL };
    s->pid = fork();
    if (s->pid == 0) {
        FILE *f = freopen(out, "w", stdout);
        f = freopen(out, "a", stderr);
        (void)f;
        execv(argv[0], argv);
        _exit(127);
    }
    snprintf(s->base, sizeof s->base, "https://127.0.0.1:%d", port);
    snprintf(s->ca, sizeof s->ca, "%s/pki/ca.crt", dir);
    snprintf(s->cert, sizeof s->cert, "%s/pki/admin.crt", dir);
    snprintf(s->key, sizeof s->key, "%s/pki/admin.key", dir);
    for (int i = 0; i < 200; i++) {
        usleep(50000);
        if (access(s->cert, R_OK) != 0) continue;
        CURL *h = new_handle(s);
        char url[256];
        snprintf(url, sizeof url, "%s/readyz", s->base);
        long code = request(h, "GET", url, NULL, NULL);
        curl_easy_cleanup(h);
        if (code == 200) return 0;
    }
    return -1;
}

static void stop_server(server *s)
{
    if (s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

/* ---- parallel creation ---- */

typedef enum { W_PLAIN, W_ANTI, W_SPREAD } workload;
static const char *wl_name[] = { "plain", "anti-affinity", "spread-by-zone" };

typedef struct run {
    const server *s;
    workload wl;
    long nodes, pods;
    atomic_long next;
    atomic_long errors;
    int64_t *created;           /* per pod: when its create was answered (us) */
    int64_t *bound;             /* per pod: when its binding was seen */
    atomic_long nbound;
    int64_t first_create, last_bound;
    bool phase_pods;
    volatile bool stop_watch;
} run;

static void node_body(char *buf, size_t len, long i)
{
    snprintf(buf, len,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%ld\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"node-%ld\",\"topology.kubernetes.io/zone\":\"zone-%ld\"}}}",
             i, i, i % ZONES);
}

static const char node_status[] =
    "{\"status\":{\"capacity\":{\"cpu\":\"32\",\"memory\":\"256Gi\",\"pods\":\"110\"},"
    "\"allocatable\":{\"cpu\":\"32\",\"memory\":\"256Gi\",\"pods\":\"110\"},"
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
    "\"lastHeartbeatTime\":\"2026-01-01T00:00:00Z\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}";

static void pod_body(char *buf, size_t len, workload wl, long i)
{
    char extra[1024] = "", labels[128];
    snprintf(labels, sizeof labels, "\"app\":\"g%ld\"", wl == W_ANTI ? i / GROUP_ANTI : 0);
    if (wl == W_ANTI)
        snprintf(extra, sizeof extra,
                 ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                 "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"g%ld\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}}",
                 i / GROUP_ANTI);
    else if (wl == W_SPREAD)
        snprintf(extra, sizeof extra,
                 ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"topology.kubernetes.io/zone\","
                 "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"g0\"}}}]");
    snprintf(buf, len,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%ld\",\"labels\":{%s}},"
             "\"spec\":{%s\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\","
             "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"100Mi\"}}}]%s}}",
             i, labels, getenv("BENCH_NOSCHED") ? "\"schedulerName\":\"none\"," : "", extra);
}

static void *creator(void *arg)
{
    run *r = arg;
    CURL *h = new_handle(r->s);
    char url[256], body[2048];
    long total = r->phase_pods ? r->pods : r->nodes;
    for (;;) {
        long i = atomic_fetch_add(&r->next, 1);
        if (i >= total) break;
        long code;
        if (r->phase_pods) {
            snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods", r->s->base);
            pod_body(body, sizeof body, r->wl, i);
            code = request(h, "POST", url, NULL, body);
            if (code == 201) r->created[i] = now_us();
        } else {
            snprintf(url, sizeof url, "%s/api/v1/nodes", r->s->base);
            node_body(body, sizeof body, i);
            code = request(h, "POST", url, NULL, body);
            if (code == 201) {
                snprintf(url, sizeof url, "%s/api/v1/nodes/node-%ld/status", r->s->base, i);
                code = request(h, "PATCH", url, "application/merge-patch+json", node_status);
            }
        }
        if (code < 200 || code >= 300) atomic_fetch_add(&r->errors, 1);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void parallel(run *r, bool pods)
{
    r->phase_pods = pods;
    atomic_store(&r->next, 0);
    pthread_t *th = cn_calloc((size_t)opt_clients, sizeof *th);
    for (int i = 0; i < opt_clients; i++) pthread_create(&th[i], NULL, creator, r);
    for (int i = 0; i < opt_clients; i++) pthread_join(th[i], NULL);
    free(th);
}

/* ---- the watch: bindings as they happen ---- */

typedef struct wstate { run *r; cn_buf line; } wstate;

static void on_line(run *r, const char *l)
{
    /* cheap scan, no JSON parse: the bench shares the 2 cores with the server */
    const char *nn = strstr(l, "\"nodeName\":\"");
    if (!nn || nn[12] == '"') return;
    const char *name = strstr(l, "\"name\":\"p-");
    if (!name) return;
    long i = strtol(name + 10, NULL, 10);
    if (i < 0 || i >= r->pods || r->bound[i]) return;
    int64_t t = now_us();
    r->bound[i] = t;
    r->last_bound = t;
    atomic_fetch_add(&r->nbound, 1);
}

static size_t watch_sink(char *p, size_t sz, size_t n, void *ud)
{
    wstate *w = ud;
    size_t len = sz * n;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            cn_buf_addc(&w->line, '\0');
            on_line(w->r, w->line.data);
            cn_buf_reset(&w->line);
        } else {
            cn_buf_addc(&w->line, p[i]);
        }
    }
    return w->r->stop_watch ? 0 : len;
}

static int watch_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a; (void)b; (void)c; (void)d;
    return ((wstate *)ud)->r->stop_watch;
}

static void *watcher(void *arg)
{
    wstate *w = arg;
    CURL *h = new_handle(w->r->s);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods?watch=1&timeoutSeconds=3600", w->r->s->base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void one_run(workload wl, long nodes, long pods)
{
    server s = { 0 };
    char name[64];
    snprintf(name, sizeof name, "s-%s-%ld-%ld", wl_name[wl], nodes, pods);
    if (start_server(&s, name) < 0) {
        fprintf(stderr, "bench: server did not start (see %s/%s.out)\n", workdir, name);
        stop_server(&s);
        return;
    }
    run r = { .s = &s, .wl = wl, .nodes = nodes, .pods = pods };
    r.created = cn_calloc((size_t)pods, sizeof *r.created);
    r.bound = cn_calloc((size_t)pods, sizeof *r.bound);
    CURL *h = new_handle(&s);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/namespaces", s.base);
    request(h, "POST", url, NULL, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}");
    curl_easy_cleanup(h);
    int64_t t0 = now_us();
    parallel(&r, false);
    double node_s = (double)(now_us() - t0) / 1e6;
    sleep(1);   /* the scheduler's node informer catches up */
    wstate ws = { .r = &r };
    cn_buf_init(&ws.line);
    pthread_t wt;
    pthread_create(&wt, NULL, watcher, &ws);
    usleep(300000);
    r.first_create = now_us();
    parallel(&r, true);
    int64_t created_at = now_us();
    /* wait for the last binding: up to 60 s without progress */
    long last = -1;
    int64_t last_change = now_us();
    while (atomic_load(&r.nbound) < pods - atomic_load(&r.errors)) {
        long nb = atomic_load(&r.nbound);
        if (nb != last) { last = nb; last_change = now_us(); }
        if (now_us() - last_change > 60 * 1000000LL) break;
        usleep(20000);
    }
    long rss = rss_kib(s.pid);
    r.stop_watch = true;
    pthread_join(wt, NULL);
    cn_buf_release(&ws.line);
    long nb = atomic_load(&r.nbound);
    int64_t *lat = cn_calloc((size_t)pods + 1, sizeof *lat);
    size_t n = 0;
    for (long i = 0; i < pods; i++)
        if (r.bound[i] && r.created[i]) lat[n++] = r.bound[i] > r.created[i] ? r.bound[i] - r.created[i] : 0;
    qsort(lat, n, sizeof *lat, cmp64);
    double span = (double)(r.last_bound - r.first_create) / 1e6;
    double cspan = (double)(created_at - r.first_create) / 1e6;
    printf("%-15s nodes %5ld pods %6ld: scheduled %6ld (%ld create errors) in %.2f s = %7.0f pods/s "
           "(created at %.0f/s); create->bound p50 %.1f ms p99 %.1f ms; server RSS %.0f MiB (nodes created in %.1f s)\n",
           wl_name[wl], nodes, pods, nb, atomic_load(&r.errors), span, span > 0 ? (double)nb / span : 0,
           cspan > 0 ? (double)pods / cspan : 0, n ? (double)lat[n / 2] / 1000.0 : NAN,
           n ? (double)lat[(size_t)((double)(n - 1) * 0.99)] / 1000.0 : NAN, (double)rss / 1024.0, node_s);
    free(lat);
    free(r.created);
    free(r.bound);
    stop_server(&s);
}

static void usage(void)
{
    printf("usage: bench_sched [--cairn PATH] [--nodes N[,N...]] [--pods N[,N...]]\n"
           "                   [--workloads plain,anti,spread] [--clients N] [--full]\n"
           "Defaults: --nodes 1000 --pods 2000, all three workloads (about a minute).\n"
           "--full: nodes 1000,5000 x pods 10000,30000 x the three workloads (long).\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cairn") && i + 1 < argc) opt_cairn = argv[++i];
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) opt_nodes = argv[++i];
        else if (!strcmp(argv[i], "--pods") && i + 1 < argc) opt_pods = argv[++i];
        else if (!strcmp(argv[i], "--workloads") && i + 1 < argc) opt_workloads = argv[++i];
        else if (!strcmp(argv[i], "--clients") && i + 1 < argc) opt_clients = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--full")) { opt_nodes = "1000,5000"; opt_pods = "10000,30000"; }
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    if (opt_clients < 1) opt_clients = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(workdir, sizeof workdir, "/tmp/cairn-bench-sched.XXXXXX");
    if (!mkdtemp(workdir)) return 1;
    printf("bench_sched: cairn server --no-fsync, %d client threads, nodes 32 cpu / 256 GiB / 110 pods in %d zones,"
           " pods request 100m / 100Mi\n", opt_clients, ZONES);
    char *nl = cn_strdup(opt_nodes);
    for (char *sn = nl, *np; sn && *sn; sn = np) {
        np = strchr(sn, ',');
        if (np) *np++ = '\0';
        long nodes = atol(sn);
        char *pl = cn_strdup(opt_pods);
        for (char *sp = pl, *pp; sp && *sp; sp = pp) {
            pp = strchr(sp, ',');
            if (pp) *pp++ = '\0';
            long pods = atol(sp);
            if (strstr(opt_workloads, "plain")) one_run(W_PLAIN, nodes, pods);
            if (strstr(opt_workloads, "anti")) one_run(W_ANTI, nodes, pods);
            if (strstr(opt_workloads, "spread")) one_run(W_SPREAD, nodes, pods);
        }
        free(pl);
    }
    free(nl);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", workdir);
    curl_global_cleanup();
    return 0;
}
