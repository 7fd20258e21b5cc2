/* bench/ctrl: the controller benchmark of issue 5 — a Deployment of N
 * replicas (default 5,000) from creation to every replica available, on
 * simulated nodes.
 *
 * Starts `cairn server` (SQLite; fsync on unless --no-fsync) and `cairn
 * agent --simulate` with enough nodes for the pods (110 per node), creates
 * the Deployment through the API (the same client code the controllers use,
 * over HTTPS), then follows the Deployment's status and prints the time until
 * every pod exists (status.replicas), is up to date and is available, the
 * pods per second, and the RSS of both processes. There is no real peer to
 * run side by side (no kube-controller-manager on this machine); upstream's
 * figures are in ../shared/reference/perf-anchors.md. Figures only: a
 * benchmark never fails on a timing. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "client/client.h"
#include "common/bench.h"
#include "lib/util.h"

static const char *opt_cairn = "build/cairn";
static long opt_replicas = 5000;
static long opt_nodes = 0;            /* 0: replicas / 100, at least 3 */
static bool opt_no_fsync = false;
static double opt_timeout_s = 600;

static long ready_nodes(cn_client *c)
{
    json_t *list = NULL;
    cn_err err = CN_ERR_INIT;
    long n = 0;
    if (cn_client_get(c, "/api/v1/nodes", &list, &err) == 0) {
        size_t i;
        json_t *node;
        json_array_foreach(json_object_get(list, "items"), i, node) {
            size_t j;
            json_t *cond;
            json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), j, cond) {
                if (!strcmp(cn_json_str_at(cond, "type"), "Ready") && !strcmp(cn_json_str_at(cond, "status"), "True"))
                    n++;
            }
        }
    }
    json_decref(list);
    cn_err_clear(&err);
    return n;
}

static long status_int(const json_t *d, const char *field)
{
    return (long)json_integer_value(json_object_get(json_object_get(d, "status"), field));
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_ctrl [--cairn PATH] [--replicas N] [--nodes N] [--no-fsync] [--timeout S]\n"
            "  a Deployment of N replicas (default 5000) from creation to all available,\n"
            "  on `cairn agent --simulate` nodes (default N/100, at least 3)\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cairn") && i + 1 < argc) opt_cairn = argv[++i];
        else if (!strcmp(argv[i], "--replicas") && i + 1 < argc) opt_replicas = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) opt_nodes = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) opt_timeout_s = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--no-fsync")) opt_no_fsync = true;
        else {
            usage();
            return 2;
        }
    }
    if (opt_replicas <= 0) opt_replicas = 1;
    if (opt_nodes <= 0) opt_nodes = opt_replicas / 100 > 3 ? opt_replicas / 100 : 3;
    char dir[] = "/tmp/cn-bench-ctrl-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char datadir[300], listen[64], kubeconfig[320], slog[320], alog[320], nodes[32];
    snprintf(datadir, sizeof datadir, "%s/server", dir);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", bn_free_port());
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig", datadir);
    snprintf(slog, sizeof slog, "%s/server.log", dir);
    snprintf(alog, sizeof alog, "%s/agent.log", dir);
    snprintf(nodes, sizeof nodes, "%ld", opt_nodes);
    char *sargv[] = { (char *)opt_cairn, "server", "--data-dir", datadir, "--listen", listen,
                      "--log-level", "warn", opt_no_fsync ? "--no-fsync" : NULL, NULL };
    pid_t server = bn_spawn(sargv, slog), agent = -1;
    cn_client *c = NULL;
    cn_err err = CN_ERR_INIT;
    int rc = 1;
    for (int i = 0; i < 200 && !c; i++) {
        struct stat st;
        usleep(50000);
        if (stat(kubeconfig, &st) == 0 && cn_client_new_kubeconfig(kubeconfig, &c, &err) < 0) cn_err_clear(&err);
    }
    if (!c) {
        fprintf(stderr, "bench_ctrl: the server did not start (see %s)\n", slog);
        goto out;
    }
    char *aargv[] = { (char *)opt_cairn, "agent", "--simulate", "--nodes", nodes, "--kubeconfig", kubeconfig,
                      "--ready-delay", "0s", NULL };
    int64_t t0 = cn_now_ms();
    agent = bn_spawn(aargv, alog);
    while (ready_nodes(c) < opt_nodes && cn_now_ms() - t0 < 120000) usleep(100000);
    printf("simulated nodes: %ld Ready in %.2f s\n", ready_nodes(c), (cn_now_ms() - t0) / 1000.0);

    json_t *dep = json_pack(
        "{s:s,s:s,s:{s:s},s:{s:I,s:{s:{s:s}},s:{s:{s:{s:s}},s:{s:[{s:s,s:s,s:{s:{s:s,s:s}}}]}}}}",
        "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "bench",
        "spec", "replicas", (json_int_t)opt_replicas, "selector", "matchLabels", "app", "bench",
        "template", "metadata", "labels", "app", "bench", "spec", "containers", "name", "c", "image",
        "busybox", "resources", "requests", "cpu", "10m", "memory", "16Mi");
    t0 = cn_now_ms();
    int r = cn_client_create(c, "/apis/apps/v1/namespaces/default/deployments", dep, NULL, &err);
    json_decref(dep);
    if (r < 0) {
        fprintf(stderr, "bench_ctrl: create: %s\n", err.message);
        goto out;
    }
    int64_t t_created = 0, t_updated = 0, t_available = 0;
    long max_rss_server = 0, max_rss_agent = 0;
    while (cn_now_ms() - t0 < (int64_t)(opt_timeout_s * 1000)) {
        json_t *d = NULL;
        if (cn_client_get(c, "/apis/apps/v1/namespaces/default/deployments/bench", &d, &err) == 0) {
            int64_t now = cn_now_ms();
            if (!t_created && status_int(d, "replicas") >= opt_replicas) t_created = now;
            if (!t_updated && status_int(d, "updatedReplicas") >= opt_replicas) t_updated = now;
            if (!t_available && status_int(d, "availableReplicas") >= opt_replicas) t_available = now;
        }
        cn_err_clear(&err);
        json_decref(d);
        long s = bn_rss_kib(server), a = bn_rss_kib(agent);
        if (s > max_rss_server) max_rss_server = s;
        if (a > max_rss_agent) max_rss_agent = a;
        if (t_available) break;
        usleep(100000);
    }
    printf("Deployment of %ld replicas on %ld simulated nodes (SQLite%s):\n", opt_replicas, opt_nodes,
           opt_no_fsync ? ", no fsync" : ", fsync");
    if (t_created) printf("  all pods created (status.replicas):  %7.2f s\n", (t_created - t0) / 1000.0);
    if (t_updated) printf("  all pods up to date:                 %7.2f s\n", (t_updated - t0) / 1000.0);
    if (t_available)
        printf("  all pods available:                  %7.2f s  (%.0f pods/s)\n", (t_available - t0) / 1000.0,
               opt_replicas * 1000.0 / (double)(t_available - t0 > 0 ? t_available - t0 : 1));
    else
        printf("  not all available within %.0f s\n", opt_timeout_s);
    printf("  peak RSS: server %.1f MiB, agent %.1f MiB\n", max_rss_server / 1024.0, max_rss_agent / 1024.0);
    rc = t_available ? 0 : 1;
out:
    cn_err_clear(&err);
    cn_client_free(c);
    bn_stop(agent);
    bn_stop(server);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_ctrl: could not remove %s\n", dir);
    return rc;
}
