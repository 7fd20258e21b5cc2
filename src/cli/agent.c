/* agent: `cairn agent` — the worker-node side: a real node that runs pods
 * as runc containers (src/agent/kubelet.h), or with --simulate many
 * simulated nodes that run nothing (src/agent/sim.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/kubelet.h"
#include "api/join.h"
#include "agent/sim.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_REPEAT 64

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn agent (--kubeconfig FILE | --server URL --token T) [--node-name N] [flags]\n"
        "       cairn agent --simulate --nodes N --kubeconfig FILE [flags]\n"
        "\n"
        "A worker node: registers its Node (capacity from the machine or its cgroup\n"
        "minus the reserves), renews its Lease, and runs the pods bound to it as runc\n"
        "containers from OCI registries, on the cluster's pod network (a block of\n"
        "--cluster-cidr from the server, a bridge cairn0, a veth per pod, routes to the\n"
        "other nodes' blocks). Serves logs, exec and port-forward to the API server on\n"
        "--port. Runs as root. Containers survive a restart of the agent and are adopted.\n"
        "\n"
        "node flags:\n"
        "  --kubeconfig FILE          how to reach the API server (its credentials must allow\n"
        "                             writing nodes, leases, pods/status and events)\n"
        "  --server URL --token T     instead of --kubeconfig: join the cluster at URL\n"
        "                             (https://HOST:PORT) with the server's join token\n"
        "                             (DATA-DIR/token of a server); the agent gets a client\n"
        "                             certificate for system:node:NAME and keeps it in\n"
        "                             DATA/kubeconfig for its restarts\n"
        "  --node-name NAME           the Node's name (default: the host name)\n"
        "  --node-ip IP               its InternalIP (default: the first non-loopback IPv4)\n"
        "  --data-dir DIR             containers, images, pod volumes, logs, IPAM state\n"
        "                             (default /var/lib/cairn/agent)\n"
        "  --port N                   the HTTPS endpoint for logs/exec/port-forward (default 10250)\n"
        "  --insecure-registry H:P    a registry spoken to over plain HTTP (repeatable)\n"
        "  --registry-ca FILE         trust this CA (PEM) for HTTPS registries too\n"
        "  --allow-host-path PREFIX   hostPath volumes may use paths under PREFIX (repeatable;\n"
        "                             default: none)\n"
        "  --label K=V                an extra node label, e.g. topology.kubernetes.io/zone=z1\n"
        "                             (repeatable)\n"
        "  --taint K[=V]:EFFECT       a taint the Node is registered with (repeatable; set when\n"
        "                             the Node is created, as upstream's --register-with-taints)\n"
        "  --reserved-cpu Q           cpu held back from allocatable (default 100m)\n"
        "  --reserved-memory Q        memory held back from allocatable (default 256Mi)\n"
        "  --max-pods N               pods capacity (default 110)\n"
        "  --backoff-initial D        first crash/image-pull back-off (default 10s)\n"
        "  --backoff-max D            longest back-off (default 5m)\n"
        "  --image-gc-high PCT        disk use that starts image garbage collection (default 85)\n"
        "  --image-gc-low PCT         ... which frees images down to this use (default 80)\n"
        "  --runc PATH                the runc binary (default: runc in PATH)\n"
        "  --heartbeat D              Lease renew period (default 10s)\n"
        "  --lease-duration D         leaseDurationSeconds of the Lease (default 40s)\n"
        "  --workers N                pod sync threads (default 8)\n"
        "  --log-level LEVEL          debug, info, warn or error (default info)\n"
        "  -h, --help                 show this help\n"
        "\n"
        "SIMULATED nodes (--simulate), for testing and benchmarking the scheduler and\n"
        "controllers at scale (like KWOK upstream). Nothing runs: the agent registers\n"
        "N Node objects, renews a Lease per node in kube-node-lease, and reports pods\n"
        "bound to its nodes Running and Ready after --ready-delay, with fake IPs.\n"
        "Pods being deleted are removed at once. A pod annotated\n"
        "sim.cairn.io/duration: \"2s\" ends that long after it started, with exit code\n"
        "sim.cairn.io/exit-code (default 0), then restarts or completes as its\n"
        "restartPolicy says.\n"
        "\n"
        "simulation flags (with --kubeconfig, --label, --heartbeat, --lease-duration,\n"
        "--workers and --log-level above):\n"
        "  --simulate                 run simulated nodes\n"
        "  --nodes N                  how many nodes (1..%d)\n"
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
        "  --taint K=V:EFFECT         a node taint (repeatable; EFFECT NoSchedule,\n"
        "                             PreferNoSchedule or NoExecute)\n"
        "  --ready-delay D            a bound pod becomes Running and Ready after D (default 1s)\n"
        "  --stats-interval D         log nodes, pods, write rates and RSS this often (default 30s)\n"
        "  (--workers defaults to 4 + nodes/1000, at most 16, when simulating)\n"
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
           O_ZONES, O_HOSTS, O_LABEL, O_TAINT, O_READY, O_HB, O_LEASE, O_WORKERS, O_STATS, O_LOG,
           O_NODE_NAME, O_DATA, O_NODE_IP, O_PORT, O_INSECURE, O_HOSTPATH, O_RES_CPU, O_RES_MEM,
           O_MAX_PODS, O_BO_INIT, O_BO_MAX, O_GC_HIGH, O_GC_LOW, O_RUNC, O_SERVER, O_TOKEN, O_REGCA };
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
        { "node-name", required_argument, NULL, O_NODE_NAME },
        { "data-dir", required_argument, NULL, O_DATA },
        { "node-ip", required_argument, NULL, O_NODE_IP },
        { "port", required_argument, NULL, O_PORT },
        { "insecure-registry", required_argument, NULL, O_INSECURE },
        { "allow-host-path", required_argument, NULL, O_HOSTPATH },
        { "reserved-cpu", required_argument, NULL, O_RES_CPU },
        { "reserved-memory", required_argument, NULL, O_RES_MEM },
        { "max-pods", required_argument, NULL, O_MAX_PODS },
        { "backoff-initial", required_argument, NULL, O_BO_INIT },
        { "backoff-max", required_argument, NULL, O_BO_MAX },
        { "image-gc-high", required_argument, NULL, O_GC_HIGH },
        { "image-gc-low", required_argument, NULL, O_GC_LOW },
        { "runc", required_argument, NULL, O_RUNC },
        { "server", required_argument, NULL, O_SERVER },
        { "registry-ca", required_argument, NULL, O_REGCA },
        { "token", required_argument, NULL, O_TOKEN },
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
    const char *insecure[MAX_REPEAT], *hostpaths[MAX_REPEAT];
    cn_kubelet_kv klabels[MAX_REPEAT];
    cn_kubelet_taint ktaints[MAX_REPEAT];
    cn_kubelet_config kc = { .insecure = insecure, .host_path_allow = hostpaths, .labels = klabels,
                             .taints = ktaints };
    bool simulate = false;
    const char *server_url = NULL, *token = NULL, *sim_only = NULL, *real_only = NULL;
    char *joined = NULL;
    int rc = 2, c;
    int64_t ms;
    optind = 1;
    int li;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        /* Flags of one mode are refused in the other (below), rather than
         * silently ignored. */
        if (c != 'h' && c != '?') {
            bool sim = c == O_NODES || c == O_PREFIX || c == O_FIRST || c == O_CPU || c == O_MEM || c == O_PODS ||
                       c == O_EPH || c == O_EXT || c == O_ZONES || c == O_HOSTS || c == O_READY ||
                       c == O_STATS;
            bool real = c >= O_NODE_NAME;
            if (sim && !sim_only) sim_only = opts[li].name;
            if (real && !real_only) real_only = opts[li].name;
        }
        switch (c) {
        case O_SIM: simulate = true; break;
        case O_NODES:
            if (parse_count(optarg, 1, CN_SIM_MAX_NODES, &cfg.nodes) < 0)
                { rc = bad("nodes", "a number from 1 to 60000", optarg); goto out; }
            break;
        case O_KUBECONFIG: cfg.kubeconfig = kc.kubeconfig = optarg; break;
        case O_NODE_NAME:
            if (!*optarg || strlen(optarg) > 253) { rc = bad("node-name", "a DNS subdomain name", optarg); goto out; }
            kc.node_name = optarg;
            break;
        case O_DATA: kc.data_dir = optarg; break;
        case O_NODE_IP: {
            struct in_addr a;
            if (inet_pton(AF_INET, optarg, &a) != 1) { rc = bad("node-ip", "an IPv4 address", optarg); goto out; }
            kc.node_ip = optarg;
            break;
        }
        case O_PORT:
            if (parse_count(optarg, 1, 65535, &kc.port) < 0) { rc = bad("port", "a port number", optarg); goto out; }
            break;
        case O_INSECURE:
            if (kc.ninsecure == MAX_REPEAT || !*optarg) { rc = bad("insecure-registry", "HOST[:PORT]", optarg); goto out; }
            insecure[kc.ninsecure++] = optarg;
            break;
        case O_HOSTPATH:
            if (kc.nhost_path_allow == MAX_REPEAT || optarg[0] != '/') { rc = bad("allow-host-path", "an absolute path", optarg); goto out; }
            hostpaths[kc.nhost_path_allow++] = optarg;
            break;
        case O_RES_CPU: case O_RES_MEM:
            if (!cn_sim_quantity_ok(optarg)) { rc = bad(c == O_RES_CPU ? "reserved-cpu" : "reserved-memory", "a quantity", optarg); goto out; }
            if (c == O_RES_CPU) kc.reserved_cpu = optarg; else kc.reserved_memory = optarg;
            break;
        case O_MAX_PODS:
            if (parse_count(optarg, 1, 10000, &kc.max_pods) < 0) { rc = bad("max-pods", "a number from 1 to 10000", optarg); goto out; }
            break;
        case O_BO_INIT: case O_BO_MAX:
            if (cn_sim_parse_duration(optarg, &ms) < 0 || ms < 100) { rc = bad(c == O_BO_INIT ? "backoff-initial" : "backoff-max", "a duration of at least 100ms", optarg); goto out; }
            if (c == O_BO_INIT) kc.backoff_initial_ms = ms; else kc.backoff_max_ms = ms;
            break;
        case O_GC_HIGH: case O_GC_LOW:
            if (parse_count(optarg, 1, 100, c == O_GC_HIGH ? &kc.image_gc_high : &kc.image_gc_low) < 0)
                { rc = bad(c == O_GC_HIGH ? "image-gc-high" : "image-gc-low", "a percentage from 1 to 100", optarg); goto out; }
            break;
        case O_RUNC: kc.runc = optarg; break;
        case O_SERVER: server_url = optarg; break;
        case O_REGCA: kc.registry_ca = optarg; break;
        case O_TOKEN: token = optarg; break;
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
            klabels[cfg.nlabels].key = labels[cfg.nlabels].key;
            klabels[cfg.nlabels].value = labels[cfg.nlabels].value;
            kc.nlabels = ++cfg.nlabels;
            break;
        case O_TAINT:
            if (cfg.ntaints == MAX_REPEAT || cn_sim_parse_taint(optarg, &taints[cfg.ntaints]) < 0)
                { rc = bad("taint", "KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute", optarg); goto out; }
            ktaints[cfg.ntaints].key = taints[cfg.ntaints].key;
            ktaints[cfg.ntaints].value = taints[cfg.ntaints].value;
            ktaints[cfg.ntaints].effect = taints[cfg.ntaints].effect;
            kc.ntaints = ++cfg.ntaints;
            break;
        case O_READY: case O_HB: case O_LEASE: case O_STATS: {
            static const char *const names[] = { "ready-delay", "heartbeat", "lease-duration", "stats-interval" };
            int k = c == O_READY ? 0 : c == O_HB ? 1 : c == O_LEASE ? 2 : 3;
            if (cn_sim_parse_duration(optarg, &ms) < 0 || (k > 0 && ms < 100))
                { rc = bad(names[k], k ? "a duration of at least 100ms, like 10s" : "a duration like 1s or 500ms", optarg); goto out; }
            if (k == 0) cfg.ready_delay_ms = ms;
            else if (k == 1) cfg.heartbeat_ms = kc.heartbeat_ms = ms;
            else if (k == 2) cfg.lease_duration_s = kc.lease_duration_s = ms < 1000 ? 1 : ms / 1000;
            else cfg.stats_interval_ms = ms;
            break;
        }
        case O_WORKERS:
            if (parse_count(optarg, 1, 64, &cfg.workers) < 0) { rc = bad("workers", "a number from 1 to 64", optarg); goto out; }
            kc.workers = cfg.workers;
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
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cn_err err = CN_ERR_INIT;
    if (!simulate && sim_only) {
        fprintf(stderr, "cairn agent: --%s is a flag of simulated nodes: add --simulate (see --help)\n", sim_only);
        goto out;
    }
    if (simulate && real_only) {
        fprintf(stderr, "cairn agent: --%s is a flag of real nodes, not of --simulate (see --help)\n", real_only);
        goto out;
    }
    if (!simulate) {
        if (!kc.kubeconfig && server_url && token) {
            char host[256] = "";
            gethostname(host, sizeof host - 1);
            if (cn_join_node(kc.data_dir ? kc.data_dir : "/var/lib/cairn/agent", server_url, token,
                             kc.node_name ? kc.node_name : host, &joined, &err) < 0) {
                fprintf(stderr, "cairn agent: joining %s: %s\n", server_url, err.message ? err.message : "failed");
                cn_err_clear(&err);
                rc = 1;
                goto out;
            }
            kc.kubeconfig = joined;
        }
        if (!kc.kubeconfig) {
            fprintf(stderr, "cairn agent: --kubeconfig FILE (or --server URL with --token T) is required (see --help)\n");
            goto out;
        }
        if (kc.image_gc_high && kc.image_gc_low && kc.image_gc_low >= kc.image_gc_high) {
            fprintf(stderr, "cairn agent: --image-gc-low must be below --image-gc-high\n");
            goto out;
        }
        rc = 0;
        if (cn_kubelet_run(&kc, &stop_flag, &err) < 0) {
            fprintf(stderr, "cairn agent: %s\n", err.message ? err.message : "failed");
            rc = 1;
        }
        cn_err_clear(&err);
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

    if (cn_sim_run(&cfg, &stop_flag, &err) < 0) {
        fprintf(stderr, "cairn agent: %s\n", err.message ? err.message : "failed");
        cn_err_clear(&err);
        rc = 1;
    } else {
        rc = 0;
    }
out:
    free(joined);
    for (size_t i = 0; i < cfg.ntaints; i++) cn_sim_taint_release(&taints[i]);
    return rc;
}
