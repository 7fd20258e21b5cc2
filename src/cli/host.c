/* host: `cairn host` — the host agent of the fleet (src/host/host.h,
 * docs/host.md), and its hidden `cairn host vm-init CONFIG` (the init of
 * a node VM sandbox, src/host/vm.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/sim.h"
#include "host/host.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/quantity.h"
#include "lib/util.h"

#define MAX_AGENT_ARGS 32

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn host [--kubeconfig FILE] [--name H] [--storage DIR] [flags]\n"
        "\n"
        "The host agent of a fleet: registers this machine as a Host of the bridge\n"
        "(cairn bridge), heartbeats, and runs the VirtualMachines the bridge places on\n"
        "it as node sandboxes (network, mount and PID namespaces and a cgroup; inside\n"
        "runs cairn server or cairn agent). Without heartbeats for --fence-after it\n"
        "stops every VM it runs (self-fencing). Runs as root. See docs/host.md.\n"
        "\n"
        "flags:\n"
        "  --kubeconfig FILE        the bridge's kubeconfig (default /var/lib/cairn/bridge/kubeconfig)\n"
        "  --name H                 the Host's name (default: the host name)\n"
        "  --storage DIR            shared storage of VM disks, DIR/vms/<vm> (default\n"
        "                           /var/lib/cairn/storage); the same on every host\n"
        "  --data-dir DIR           host-local state, DIR/vms/<vm>.{pid,json} (default\n"
        "                           /var/lib/cairn/host)\n"
        "  --address IP             spec.address, the management address (default: none)\n"
        "  --cpu N                  declared vCPUs (default: this machine's)\n"
        "  --memory Q               declared memory, e.g. 64Gi (default: this machine's)\n"
        "  --storage-capacity Q     declared storage (default: the size of --storage's filesystem)\n"
        "  --gpus N                 declared GPUs (default 0)\n"
        "  --heartbeat D            heartbeat period (default 2s)\n"
        "  --fence-after D          stop every VM after heartbeats failed this long (default 10s)\n"
        "  --stop-grace D           a stopping VM gets SIGTERM, then SIGKILL after D (default 5s)\n"
        "  --cairn PATH             the cairn binary run inside VMs (default: this one)\n"
        "  --etcd PATH              the etcd binary for control planes of 3 or 5 (default: etcd in PATH)\n"
        "  --agent-arg ARG          an extra flag for every `cairn agent` in a worker VM, e.g.\n"
        "                           --agent-arg=--insecure-registry=10.99.0.1:5000 (repeatable)\n"
        "  --log-level LEVEL        debug, info, warn or error (default info)\n"
        "  -h, --help               show this help\n"
        "\n"
        "D: a duration such as 500ms, 1.5s, 2m (a bare number is seconds).\n");
}

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int bad(const char *flag, const char *what, const char *val)
{
    fprintf(stderr, "cairn host: --%s: want %s, got \"%s\"\n", flag, what, val);
    return 2;
}

/* Whether `cairn server --help` of that binary knows --vip (fleet-vip). */
static bool server_has_vip(const char *cairn)
{
    char *cmd = cn_asprintf("'%s' server --help 2>/dev/null", cairn);
    FILE *p = popen(cmd, "r");
    bool yes = false;
    char line[512];
    while (p && fgets(line, sizeof line, p))
        if (strstr(line, "--vip")) yes = true;
    if (p) pclose(p);
    free(cmd);
    return yes;
}

int cn_cmd_host(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "vm-init")) return cn_vm_init_main(argc - 1, argv + 1);
    enum { O_KC = 1, O_NAME, O_STORAGE, O_DATA, O_ADDR, O_CPU, O_MEM, O_STCAP, O_GPUS, O_HB, O_FENCE,
           O_GRACE, O_CAIRN, O_ETCD, O_AGENT_ARG, O_LOG };
    static const struct option opts[] = {
        { "kubeconfig", required_argument, NULL, O_KC },
        { "name", required_argument, NULL, O_NAME },
        { "storage", required_argument, NULL, O_STORAGE },
        { "data-dir", required_argument, NULL, O_DATA },
        { "address", required_argument, NULL, O_ADDR },
        { "cpu", required_argument, NULL, O_CPU },
        { "memory", required_argument, NULL, O_MEM },
        { "storage-capacity", required_argument, NULL, O_STCAP },
        { "gpus", required_argument, NULL, O_GPUS },
        { "heartbeat", required_argument, NULL, O_HB },
        { "fence-after", required_argument, NULL, O_FENCE },
        { "stop-grace", required_argument, NULL, O_GRACE },
        { "cairn", required_argument, NULL, O_CAIRN },
        { "etcd", required_argument, NULL, O_ETCD },
        { "agent-arg", required_argument, NULL, O_AGENT_ARG },
        { "log-level", required_argument, NULL, O_LOG },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *agent_args[MAX_AGENT_ARGS];
    char hostname[HOST_NAME_MAX + 1] = "", self[PATH_MAX] = "";
    _cleanup_free_ char *mem_default = NULL, *st_default = NULL;
    cn_host_config cfg = {
        .kubeconfig = "/var/lib/cairn/bridge/kubeconfig",
        .cpu = sysconf(_SC_NPROCESSORS_ONLN),
        .heartbeat_ms = 2000,
        .fence_after_ms = 10000,
        .vm = { .storage = "/var/lib/cairn/storage", .data_dir = "/var/lib/cairn/host", .etcd = "etcd",
                .agent_args = agent_args, .stop_grace_ms = 5000 },
    };
    int rc = 2, c;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_KC: cfg.kubeconfig = optarg; break;
        case O_NAME: cfg.name = optarg; break;
        case O_STORAGE: cfg.vm.storage = optarg; break;
        case O_DATA: cfg.vm.data_dir = optarg; break;
        case O_ADDR: cfg.address = optarg; break;
        case O_CPU:
            if (cn_parse_int64(optarg, &v) < 0 || v < 1 || v > 4096) return bad("cpu", "1..4096", optarg);
            cfg.cpu = v;
            break;
        case O_MEM:
            if (cn_quantity_value(optarg, &v) < 0 || v <= 0) return bad("memory", "a quantity such as 64Gi", optarg);
            cfg.memory = optarg;
            break;
        case O_STCAP:
            if (cn_quantity_value(optarg, &v) < 0 || v <= 0)
                return bad("storage-capacity", "a quantity such as 1Ti", optarg);
            cfg.storage_capacity = optarg;
            break;
        case O_GPUS:
            if (cn_parse_int64(optarg, &v) < 0 || v < 0 || v > 64) return bad("gpus", "0..64", optarg);
            cfg.gpus = v;
            break;
        case O_HB: case O_FENCE: case O_GRACE: {
            int64_t ms;
            if (cn_sim_parse_duration(optarg, &ms) < 0 || ms < 100)
                return bad(c == O_HB ? "heartbeat" : c == O_FENCE ? "fence-after" : "stop-grace",
                           "a duration of at least 100ms", optarg);
            if (c == O_HB) cfg.heartbeat_ms = ms;
            else if (c == O_FENCE) cfg.fence_after_ms = ms;
            else cfg.vm.stop_grace_ms = (int)ms;
            break;
        }
        case O_CAIRN: cfg.vm.cairn = optarg; break;
        case O_ETCD: cfg.vm.etcd = optarg; break;
        case O_AGENT_ARG:
            if (cfg.vm.nagent_args == MAX_AGENT_ARGS) return bad("agent-arg", "at most 32", optarg);
            agent_args[cfg.vm.nagent_args++] = optarg;
            break;
        case O_LOG:
            if (cn_log_set_level_name(optarg) < 0) return bad("log-level", "debug, info, warn or error", optarg);
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn host: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!cfg.name) {
        gethostname(hostname, sizeof hostname - 1);
        cfg.name = hostname;
    }
    if (!cfg.vm.cairn) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "cairn host: cannot resolve /proc/self/exe; pass --cairn\n");
            return 1;
        }
        self[n] = 0;
        cfg.vm.cairn = self;
    }
    cfg.vm.host = cfg.name;
    if (!cfg.memory) {
        long long mib = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
        cfg.memory = mem_default = cn_asprintf("%lldMi", mib);
    }
    if (!cfg.storage_capacity) {
        struct statvfs sv;
        long long gib = 0;
        cn_mkdir_p(cfg.vm.storage, 0755);
        if (statvfs(cfg.vm.storage, &sv) == 0) gib = (long long)(sv.f_blocks * sv.f_frsize / (1024ull * 1024 * 1024));
        cfg.storage_capacity = st_default = cn_asprintf("%lldGi", gib > 0 ? gib : 1);
    }
    if (cn_mkdir_p(cfg.vm.storage, 0755) < 0 || cn_mkdir_p(cfg.vm.data_dir, 0700) < 0) {
        fprintf(stderr, "cairn host: cannot create %s or %s: %s\n", cfg.vm.storage, cfg.vm.data_dir, strerror(errno));
        return 1;
    }
    cfg.vm.server_has_vip = server_has_vip(cfg.vm.cairn);

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    cn_info("host %s: storage %s, data %s, capacity cpu %lld memory %s storage %s gpus %lld%s", cfg.name,
            cfg.vm.storage, cfg.vm.data_dir, (long long)cfg.cpu, cfg.memory, cfg.storage_capacity,
            (long long)cfg.gpus, cfg.vm.server_has_vip ? ", control planes hold the endpoint VIP" : "");
    cn_err err = CN_ERR_INIT;
    if (cn_host_run(&cfg, &stop_flag, &err) < 0) {
        fprintf(stderr, "cairn host: %s\n", err.message ? err.message : "failed");
        rc = 1;
    } else {
        rc = 0;
    }
    cn_err_clear(&err);
    return rc;
}
