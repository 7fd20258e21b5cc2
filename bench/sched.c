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

#include <jansson.h>

#include "common/bench.h"
#include "lib/util.h"
#include "sched/sched-internal.h"

static const char *opt_cairn = "build/cairn";
static const char *opt_nodes = "1000";
static const char *opt_pods = "2000";
static const char *opt_workloads = "plain,anti,spread";
static int opt_clients = 32;
static const char *opt_modes = "algo,live,backlog";
static char workdir[256];

enum { ZONES = 10, GROUP_ANTI = 10 };

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
    if (ud) cn_buf_add(ud, p, sz * n);
    return sz * n;
}

static long request_out(CURL *h, const char *method, const char *url, const char *ctype, const char *body,
                        cn_buf *out)
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
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    return code;
}

static long request(CURL *h, const char *method, const char *url, const char *ctype, const char *body)
{
    return request_out(h, method, url, ctype, body, NULL);
}

static int start_server(server *s, const char *name, bool no_sched)
{
    char dir[400], out[400], listen[64];
    snprintf(dir, sizeof dir, "%s/%s", workdir, name);
    snprintf(out, sizeof out, "%s/%s.out", workdir, name);
    int port = bn_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    /* plain Node objects renew no Lease: a long grace keeps the node
     * lifecycle controller from tainting them unreachable mid-run; and no
     * pod CIDR blocks, whose patches (and CIDRNotAvailable events past 256
     * nodes) would compete with the scheduler for the server */
    char *argv[] = { (char *)opt_cairn, "server", "--data-dir", dir, "--listen", listen, "--no-fsync",
                     "--node-monitor-grace-period", "86400", "--cluster-cidr", "",
                     "--max-connections", "4096", "--log-level", "warn",
                     no_sched ? "--disable-scheduler" : NULL, NULL };
    s->pid = fork();
    if (s->pid == 0) {
        FILE *f = freopen(out, "a", stdout);
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
    char rv[64];                /* watch from here (backlog mode) */
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
            if (code == 201) r->created[i] = bn_now_us();
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
    int64_t t = bn_now_us();
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
    char url[400];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods?watch=1&timeoutSeconds=3600%s%s", w->r->s->base,
             w->r->rv[0] ? "&resourceVersion=" : "", w->r->rv);
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

/* The resourceVersion of the pod list now (owned), to watch from. */
static char *list_rv(const server *s)
{
    CURL *h = new_handle(s);
    char url[256];
    cn_buf out;
    cn_buf_init(&out);
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods?limit=1", s->base);
    request_out(h, "GET", url, NULL, NULL, &out);
    curl_easy_cleanup(h);
    cn_buf_addc(&out, '\0');
    json_t *j = json_loads(out.data, 0, NULL);
    char *rv = cn_strdup(json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion")));
    json_decref(j);
    cn_buf_release(&out);
    return rv ? rv : cn_strdup("");
}

/* live: pods are created while the scheduler runs (the end-to-end figure:
 * create -> bound latency). backlog: nodes and pods are created with the
 * scheduler off (--disable-scheduler), then the server restarts with it on
 * and drains the backlog: pods scheduled per second from the first binding
 * to the last, as scheduler_perf measures the scheduler alone. */
static void one_run(workload wl, long nodes, long pods, bool backlog)
{
    server s = { 0 };
    char name[64];
    snprintf(name, sizeof name, "s-%s-%ld-%ld-%d", wl_name[wl], nodes, pods, (int)backlog);
    if (start_server(&s, name, backlog) < 0) {
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
    int64_t t0 = bn_now_us();
    parallel(&r, false);
    double node_s = (double)(bn_now_us() - t0) / 1e6;
    sleep(1);   /* the scheduler's node informer catches up */
    wstate ws = { .r = &r };
    cn_buf_init(&ws.line);
    pthread_t wt;
    int64_t created_at = 0;
    if (backlog) {
        parallel(&r, true);
        char *rv = list_rv(&s);
        stop_server(&s);
        if (start_server(&s, name, false) < 0) {
            fprintf(stderr, "bench: server did not restart (see %s/%s.out)\n", workdir, name);
            stop_server(&s);
            free(rv);
            return;
        }
        snprintf(r.rv, sizeof r.rv, "%s", rv);
        free(rv);
        r.first_create = bn_now_us();
        pthread_create(&wt, NULL, watcher, &ws);
    } else {
        pthread_create(&wt, NULL, watcher, &ws);
        usleep(300000);
        r.first_create = bn_now_us();
        parallel(&r, true);
        created_at = bn_now_us();
    }
    /* wait for the last binding: up to 60 s without progress */
    long last = -1;
    int64_t last_change = bn_now_us();
    while (atomic_load(&r.nbound) < pods - atomic_load(&r.errors)) {
        long nb = atomic_load(&r.nbound);
        if (nb != last) { last = nb; last_change = bn_now_us(); }
        if (bn_now_us() - last_change > 60 * 1000000LL) break;
        usleep(20000);
    }
    long rss = bn_rss_kib(s.pid);
    r.stop_watch = true;
    pthread_join(wt, NULL);
    cn_buf_release(&ws.line);
    long nb = atomic_load(&r.nbound);
    int64_t *lat = cn_calloc((size_t)pods + 1, sizeof *lat);
    size_t n = 0;
    int64_t first_bound = INT64_MAX;
    for (long i = 0; i < pods; i++) {
        if (r.bound[i] && r.bound[i] < first_bound) first_bound = r.bound[i];
        int64_t from = backlog ? r.first_create : r.created[i];
        if (r.bound[i] && from) lat[n++] = r.bound[i] > from ? r.bound[i] - from : 0;
    }
    qsort(lat, n, sizeof *lat, cmp64);
    if (backlog) {
        double span = (double)(r.last_bound - first_bound) / 1e6;
        double total = (double)(r.last_bound - r.first_create) / 1e6;
        printf("%-15s nodes %5ld pods %6ld backlog: scheduled %6ld in %.2f s = %7.0f pods/s "
               "(first binding %.2f s after the restart; %.2f s in all); server RSS %.0f MiB\n",
               wl_name[wl], nodes, pods, nb, span, span > 0 ? (double)nb / span : 0,
               (double)(first_bound - r.first_create) / 1e6, total, (double)rss / 1024.0);
    } else {
        double span = (double)(r.last_bound - r.first_create) / 1e6;
        double cspan = (double)(created_at - r.first_create) / 1e6;
        printf("%-15s nodes %5ld pods %6ld live:    scheduled %6ld (%ld create errors) in %.2f s = %7.0f pods/s "
               "(created at %.0f/s); create->bound p50 %.1f ms p99 %.1f ms; server RSS %.0f MiB (nodes created in %.1f s)\n",
               wl_name[wl], nodes, pods, nb, atomic_load(&r.errors), span, span > 0 ? (double)nb / span : 0,
               cspan > 0 ? (double)pods / cspan : 0, n ? (double)lat[n / 2] / 1000.0 : NAN,
               n ? (double)lat[(size_t)((double)(n - 1) * 0.99)] / 1000.0 : NAN, (double)rss / 1024.0, node_s);
    }
    free(lat);
    free(r.created);
    free(r.bound);
    stop_server(&s);
}

/* algo: the scheduling algorithm alone, in this process: the same nodes
 * and pods parsed into the scheduler's cache, one cycle per pod with the
 * pod assumed on its node, no API. Shows what the scheduler itself costs
 * next to the API writes a binding needs. */
static void algo_run(workload wl, long nodes, long pods)
{
    cn_sched_cache c;
    cn_sched_cache_init(&c);
    char body[2048];
    for (long i = 0; i < nodes; i++) {
        node_body(body, sizeof body, i);
        json_t *n = json_loads(body, 0, NULL);
        json_t *st = json_loads(node_status, 0, NULL);
        json_object_update(n, st);
        cn_sched_cache_set_node(&c, cn_sched_node_parse(n));
        json_decref(st);
        json_decref(n);
    }
    cn_sched_pod **ps = cn_calloc((size_t)pods, sizeof *ps);
    for (long i = 0; i < pods; i++) {
        pod_body(body, sizeof body, wl, i);
        json_t *j = json_loads(body, 0, NULL);
        json_object_set_new(json_object_get(j, "metadata"), "namespace", json_string("bench"));
        ps[i] = cn_sched_pod_parse(j);
        json_decref(j);
    }
    int64_t t0 = bn_now_us();
    long ok = 0;
    for (long i = 0; i < pods; i++) {
        cn_sched_result r;
        cn_sched_schedule(&c, ps[i], 0, false, &r);
        if (r.node) {
            free(ps[i]->node_name);
            ps[i]->node_name = cn_strdup(r.node->name);
            cn_sched_cache_add_pod(&c, ps[i]);
            ok++;
        } else {
            cn_sched_pod_free(ps[i]);
        }
        cn_sched_result_release(&r);
    }
    double sec = (double)(bn_now_us() - t0) / 1e6;
    printf("%-15s nodes %5ld pods %6ld algo:    scheduled %6ld in %.2f s = %7.0f pods/s (%.1f us per cycle, no API)\n",
           wl_name[wl], nodes, pods, ok, sec, (double)ok / sec, sec * 1e6 / (double)pods);
    free(ps);
    cn_sched_cache_release(&c);
}

static void usage(void)
{
    printf("usage: bench_sched [--cairn PATH] [--nodes N[,N...]] [--pods N[,N...]]\n"
           "                   [--workloads plain,anti,spread] [--modes algo,live,backlog] [--clients N] [--full]\n"
           "algo: the scheduling algorithm alone, in process (no API);\n"
           "live: pods created while the scheduler runs (create->bound latency);\n"
           "backlog: pods created with the scheduler off, then the server restarts and drains them.\n"
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
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc) opt_modes = argv[++i];
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
            if (strstr(opt_modes, "algo")) {
                if (strstr(opt_workloads, "plain")) algo_run(W_PLAIN, nodes, pods);
                if (strstr(opt_workloads, "anti")) algo_run(W_ANTI, nodes, pods);
                if (strstr(opt_workloads, "spread")) algo_run(W_SPREAD, nodes, pods);
            }
            for (int m = 0; m < 2; m++) {
                bool backlog = m == 1;
                if ((backlog && !strstr(opt_modes, "backlog")) || (!backlog && !strstr(opt_modes, "live"))) continue;
                if (strstr(opt_workloads, "plain")) one_run(W_PLAIN, nodes, pods, backlog);
                if (strstr(opt_workloads, "anti")) one_run(W_ANTI, nodes, pods, backlog);
                if (strstr(opt_workloads, "spread")) one_run(W_SPREAD, nodes, pods, backlog);
            }
        }
        free(pl);
    }
    free(nl);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (!getenv("BENCH_KEEP") && system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", workdir);
    curl_global_cleanup();
    return 0;
}
