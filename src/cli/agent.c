/* agent: `cairn agent` — the worker-node side. Only the simulation exists
 * so far (`--simulate`, src/agent/sim.h): real nodes that run containers
 * are issue 6. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sim.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_REPEAT 64

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn agent --simulate --nodes N --kubeconfig FILE [flags]\n"
        "\n"
        "SIMULATED worker nodes, for testing and benchmarking the scheduler and\n"
        "controllers at scale (like KWOK upstream). Nothing runs: the agent registers\n"
        "N Node objects, renews a Lease per node in kube-node-lease, and reports pods\n"
        "bound to its nodes Running and Ready after --ready-delay, with fake IPs.\n"
        "Pods being deleted are removed at once. A pod annotated\n"
        "sim.cairn.io/duration: \"2s\" ends that long after it started, with exit code\n"
        "sim.cairn.io/exit-code (default 0), then restarts or completes as its\n"
        "restartPolicy says. Real worker nodes (containers) arrive with issue 6.\n"
        "\n"
        "flags:\n"
        "  --simulate                 required: run simulated nodes\n"
        "  --nodes N                  how many nodes (1..%d)\n"
        "  --kubeconfig FILE          how to reach the API server (its credentials must\n"
        "                             allow writing nodes, leases and pods/status)\n"
        "  --node-prefix P            node names P0000, P0001, ... (default sim-)\n"
        "  --first-index I            number the nodes from I (default 0; several agents\n"
        "                             may share a prefix with distinct ranges)\n"
        "  --cpu Q                    capacity and allocatable cpu (default 32)\n"
        "  --memory Q                 memory (default 256Gi)\n"
        "  --pods N                   pods (default 110)\n"
        "  --ephemeral-storage Q      ephemeral-storage (default 1Ti)\n"
        "  --extended NAME=Q          an extended resource, e.g. nvidia.com/gpu=4 (repeatable)\n"
        "  --zones Z                  label topology.kubernetes.io/zone=zone-0..Z-1, round robin\n"
        "  --hosts H                  label cairn.io/host=host-K, N/H consecutive nodes per host\n"
        "  --label K=V                an extra node label (repeatable)\n"
        "  --taint K=V:EFFECT         a node taint (repeatable; EFFECT NoSchedule,\n"
        "                             PreferNoSchedule or NoExecute)\n"
        "  --ready-delay D            a bound pod becomes Running and Ready after D (default 1s)\n"
        "  --heartbeat D              Lease renew period (default 10s, as the kubelet)\n"
        "  --lease-duration D         leaseDurationSeconds of the Leases (default 40s)\n"
        "  --workers N                threads making API calls (default 4 + nodes/1000, at most 16)\n"
        "  --stats-interval D         log nodes, pods, write rates and RSS this often (default 30s)\n"
        "  --log-level LEVEL          debug, info, warn or error (default info)\n"
        "  -h, --help                 show this help\n"
        "\n"
        "D: a duration such as 500ms, 1.5s, 2m or 1h (a bare number is seconds).\n",
        CN_SIM_MAX_NODES);
}

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int bad(const char *flag, const char *what, const char *val)
{
    fprintf(stderr, "cairn agent: --%s: want %s, got \"%s\"\n", flag, what, val);
    return 2;
}

static int parse_count(const char *s, int min, int max, int *out)
{
    int64_t v;
    if (cn_parse_int64(s, &v) < 0 || v < min || v > max) return -EINVAL;
    *out = (int)v;
    return 0;
}

int cn_cmd_agent(int argc, char **argv)
{
    enum { O_SIM = 1, O_NODES, O_KUBECONFIG, O_PREFIX, O_FIRST, O_CPU, O_MEM, O_PODS, O_EPH, O_EXT,
           O_ZONES, O_HOSTS, O_LABEL, O_TAINT, O_READY, O_HB, O_LEASE, O_WORKERS, O_STATS, O_LOG };
    static const struct option opts[] = {
        { "simulate", no_argument, NULL, O_SIM },
        { "nodes", required_argument, NULL, O_NODES },
        { "kubeconfig", required_argument, NULL, O_KUBECONFIG },
        { "node-prefix", required_argument, NULL, O_PREFIX },
        { "first-index", required_argument, NULL, O_FIRST },
        { "cpu", required_argument, NULL, O_CPU },
        { "memory", required_argument, NULL, O_MEM },
        { "pods", required_argument, NULL, O_PODS },
        { "ephemeral-storage", required_argument, NULL, O_EPH },
        { "extended", required_argument, NULL, O_EXT },
        { "zones", required_argument, NULL, O_ZONES },
        { "hosts", required_argument, NULL, O_HOSTS },
        { "label", required_argument, NULL, O_LABEL },
        { "taint", required_argument, NULL, O_TAINT },
        { "ready-delay", required_argument, NULL, O_READY },
        { "heartbeat", required_argument, NULL, O_HB },
        { "lease-duration", required_argument, NULL, O_LEASE },
        { "workers", required_argument, NULL, O_WORKERS },
        { "stats-interval", required_argument, NULL, O_STATS },
        { "log-level", required_argument, NULL, O_LOG },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    cn_sim_kv ext[MAX_REPEAT], labels[MAX_REPEAT];
    cn_sim_taint taints[MAX_REPEAT];
    cn_sim_config cfg = {
        .prefix = "sim-", .cpu = "32", .memory = "256Gi", .pods = "110", .ephemeral = "1Ti",
        .extended = ext, .labels = labels, .taints = taints,
        .ready_delay_ms = 1000, .heartbeat_ms = 10000, .lease_duration_s = 40,
    };
    bool simulate = false;
    int rc = 2, c;
    int64_t ms;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_SIM: simulate = true; break;
        case O_NODES:
            if (parse_count(optarg, 1, CN_SIM_MAX_NODES, &cfg.nodes) < 0)
                { rc = bad("nodes", "a number from 1 to 60000", optarg); goto out; }
            break;
        case O_KUBECONFIG: cfg.kubeconfig = optarg; break;
        case O_PREFIX:
            if (!*optarg || strlen(optarg) > 200) { rc = bad("node-prefix", "a name prefix", optarg); goto out; }
            cfg.prefix = optarg;
            break;
        case O_FIRST:
            if (parse_count(optarg, 0, 900000, &cfg.first_index) < 0)
                { rc = bad("first-index", "a number from 0 to 900000", optarg); goto out; }
            break;
        case O_CPU: case O_MEM: case O_PODS: case O_EPH: {
            static const char *const names[] = { "cpu", "memory", "pods", "ephemeral-storage" };
            if (!cn_sim_quantity_ok(optarg)) { rc = bad(names[c - O_CPU], "a quantity such as 32, 250m or 256Gi", optarg); goto out; }
            const char **dst[] = { &cfg.cpu, &cfg.memory, &cfg.pods, &cfg.ephemeral };
            *dst[c - O_CPU] = optarg;
            break;
        }
        case O_EXT:
            if (cfg.nextended == MAX_REPEAT || !cn_sim_parse_kv(optarg, &ext[cfg.nextended]) ||
                !strchr(ext[cfg.nextended].key, '/') || !cn_sim_quantity_ok(ext[cfg.nextended].value))
                { rc = bad("extended", "DOMAIN/NAME=QUANTITY such as nvidia.com/gpu=4", optarg); goto out; }
            cfg.nextended++;
            break;
        case O_ZONES:
            if (parse_count(optarg, 1, 1000, &cfg.zones) < 0) { rc = bad("zones", "a number from 1 to 1000", optarg); goto out; }
            break;
        case O_HOSTS:
            if (parse_count(optarg, 1, CN_SIM_MAX_NODES, &cfg.hosts) < 0)
                { rc = bad("hosts", "a positive number", optarg); goto out; }
            break;
        case O_LABEL:
            if (cfg.nlabels == MAX_REPEAT || !cn_sim_parse_kv(optarg, &labels[cfg.nlabels]))
                { rc = bad("label", "KEY=VALUE", optarg); goto out; }
            cfg.nlabels++;
            break;
        case O_TAINT:
            if (cfg.ntaints == MAX_REPEAT || cn_sim_parse_taint(optarg, &taints[cfg.ntaints]) < 0)
                { rc = bad("taint", "KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute", optarg); goto out; }
            cfg.ntaints++;
            break;
        case O_READY: case O_HB: case O_LEASE: case O_STATS: {
            static const char *const names[] = { "ready-delay", "heartbeat", "lease-duration", "stats-interval" };
            int k = c == O_READY ? 0 : c == O_HB ? 1 : c == O_LEASE ? 2 : 3;
            if (cn_sim_parse_duration(optarg, &ms) < 0 || (k > 0 && ms < 100))
                { rc = bad(names[k], k ? "a duration of at least 100ms, like 10s" : "a duration like 1s or 500ms", optarg); goto out; }
            if (k == 0) cfg.ready_delay_ms = ms;
            else if (k == 1) cfg.heartbeat_ms = ms;
            else if (k == 2) cfg.lease_duration_s = ms < 1000 ? 1 : ms / 1000;
            else cfg.stats_interval_ms = ms;
            break;
        }
        case O_WORKERS:
            if (parse_count(optarg, 1, 64, &cfg.workers) < 0) { rc = bad("workers", "a number from 1 to 64", optarg); goto out; }
            break;
        case O_LOG:
            if (!strcmp(optarg, "debug")) cn_log_set_level(CN_LOG_DEBUG);
            else if (!strcmp(optarg, "info")) cn_log_set_level(CN_LOG_INFO);
            else if (!strcmp(optarg, "warn")) cn_log_set_level(CN_LOG_WARN);
            else if (!strcmp(optarg, "error")) cn_log_set_level(CN_LOG_ERROR);
            else { rc = bad("log-level", "debug, info, warn or error", optarg); goto out; }
            break;
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn agent: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    if (!simulate) {
        fprintf(stderr, "cairn agent: only simulated nodes exist so far: pass --simulate (see --help).\n"
                        "Real worker nodes that run containers are issue 6.\n");
        goto out;
    }
    if (!cfg.nodes || !cfg.kubeconfig) {
        fprintf(stderr, "cairn agent: --simulate needs --nodes N and --kubeconfig FILE\n");
        goto out;
    }
    if ((int64_t)cfg.first_index + cfg.nodes > 1000000) {
        fprintf(stderr, "cairn agent: --first-index + --nodes must stay below 1000000\n");
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cn_err err = CN_ERR_INIT;
    if (cn_sim_run(&cfg, &stop_flag, &err) < 0) {
        fprintf(stderr, "cairn agent: %s\n", err.message ? err.message : "failed");
        cn_err_clear(&err);
        rc = 1;
    } else {
        rc = 0;
    }
out:
    for (size_t i = 0; i < cfg.ntaints; i++) cn_sim_taint_release(&taints[i]);
    return rc;
}
