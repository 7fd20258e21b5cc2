/* server: `cairn server` — parse flags, start the API server, print how to
 * reach it, and run until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/apiserver.h"
#include "cli/cli.h"
#include "client/client.h"
#include "ctrl/ctrl.h"
#include "sched/sched.h"
#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/util.h"

#define DEFAULT_DATA_DIR "/var/lib/cairn/server"
#define DEFAULT_LISTEN "127.0.0.1:6443"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn server [flags]\n"
        "\n"
        "Runs a Kubernetes API server (v1.32 API) on an embedded SQLite store, or\n"
        "on an etcd cluster (--datastore-endpoint) so several servers share one\n"
        "control plane.\n"
        "On first start it creates a cluster CA, a serving certificate, an admin\n"
        "client certificate and a service-account signing key, writes\n"
        "DATA-DIR/kubeconfig for kubectl and DATA-DIR/token, the join token that\n"
        "lets more servers share the CA and key (--join).\n"
        "\n"
        "flags (with DIR default %s, HOST:PORT default %s):\n"
        "%s"
        "  --token-auth-file FILE  static bearer tokens, CSV: token,user,uid,\"group1,group2\"\n"
        "  --max-connections N     concurrent connections served (default 1024)\n"
        "  --idle-timeout SECONDS  close idle keep-alive connections after this (default 120)\n"
        "  --history-revisions N   revisions of change history kept for watch resumption (default 10000)\n"
        "  --compact-interval S    seconds between history compactions (default 300)\n"
        "  --service-cidr CIDR     cluster IPs for Services (default 10.43.0.0/16)\n"
        "  --leader-elect-lease-duration D  how long a leader's Lease is valid unrenewed (default 15s)\n"
        "  --leader-elect-renew-deadline D  a leader stops acting if it could not renew for this long (default 10s)\n"
        "  --leader-elect-retry-period D    how often leases are renewed or tried (default 2s)\n"
        "                          D: seconds, fractions allowed (\"1.5\", \"1.5s\", \"300ms\"); want\n"
        "                          lease > renew deadline > retry; all servers of a cluster alike\n"
        "  --node-monitor-grace-period D    a node whose Lease was not renewed for D becomes NotReady\n"
        "                          (Ready Unknown, unreachable taints; default 40s)\n"
        "  --cluster-cidr CIDR     pod network of the cluster, cut into per-node blocks written to Node\n"
        "                          spec.podCIDR (default 10.244.0.0/16; \"\" = do not allocate)\n"
        "  --node-cidr-mask-size N prefix length of each node's block (default 24)\n"
        "  --default-not-ready-toleration-seconds N     pods without one get a toleration of the\n"
        "  --default-unreachable-toleration-seconds N   not-ready / unreachable NoExecute taints for\n"
        "                          N seconds (default 300): evicted that long after their node fails\n"
        "  --disable-scheduler     do not run the scheduler in this server (docs/scheduler.md)\n"
        "  --join URL              take the cluster CA and service-account key from the server at\n"
        "                          https://HOST:PORT (needs --token or --token-file: its DATA-DIR/token)\n"
        "  --token TOKEN           join token; on a first server it sets the secret (default: generated\n"
        "                          into DATA-DIR/token)\n"
        "  --token-file FILE       read the join token from FILE\n"
        "  -h, --help              show this help\n",
        DEFAULT_DATA_DIR, DEFAULT_LISTEN, cn_server_common_help);
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static int parse_uint(const char *s, unsigned *out)
{
    int64_t v;
    if (cn_parse_int64(s, &v) < 0 || v < 0 || v > 1000000) return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

int cn_cmd_server(int argc, char **argv)
{
    enum { O_TOKENS = 1, O_MAXC, O_IDLE, O_HIST, O_COMPACT, O_SVC,
           O_JOIN, O_TOKEN, O_TOKEN_FILE,
           O_LE_LEASE, O_LE_RENEW, O_LE_RETRY, O_NODE_GRACE, O_CLUSTER_CIDR, O_NODE_MASK, O_TOL_NOT_READY, O_TOL_UNREACHABLE, O_NOSCHED };
    static const struct option opts[] = {
        { "token-auth-file", required_argument, NULL, O_TOKENS },
        { "max-connections", required_argument, NULL, O_MAXC },
        { "idle-timeout", required_argument, NULL, O_IDLE },
        { "history-revisions", required_argument, NULL, O_HIST },
        { "compact-interval", required_argument, NULL, O_COMPACT },
        { "service-cidr", required_argument, NULL, O_SVC },
        { "join", required_argument, NULL, O_JOIN },
        { "token", required_argument, NULL, O_TOKEN },
        { "token-file", required_argument, NULL, O_TOKEN_FILE },
        { "leader-elect-lease-duration", required_argument, NULL, O_LE_LEASE },
        { "leader-elect-renew-deadline", required_argument, NULL, O_LE_RENEW },
        { "leader-elect-retry-period", required_argument, NULL, O_LE_RETRY },
        { "node-monitor-grace-period", required_argument, NULL, O_NODE_GRACE },
        { "cluster-cidr", required_argument, NULL, O_CLUSTER_CIDR },
        { "node-cidr-mask-size", required_argument, NULL, O_NODE_MASK },
        { "default-not-ready-toleration-seconds", required_argument, NULL, O_TOL_NOT_READY },
        { "default-unreachable-toleration-seconds", required_argument, NULL, O_TOL_UNREACHABLE },
        { "disable-scheduler", no_argument, NULL, O_NOSCHED },
        { "help", no_argument, NULL, 'h' },
        CN_SERVER_COMMON_OPTIONS,
        { 0 },
    };
    cn_apiserver_config cfg = { .data_dir = DEFAULT_DATA_DIR, .listen = DEFAULT_LISTEN };
    cn_ctrl_config ctrl_cfg = { 0 };
    bool no_sched = false;
    const char *sans[CN_MAX_TLS_SANS];
    const char *token_file = NULL;
    _cleanup_free_ char *token_text = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_TOKENS: cfg.token_auth_file = optarg; break;
        case O_MAXC:
            if (parse_uint(optarg, &cfg.max_connections) < 0) {
                fprintf(stderr, "cairn server: --max-connections: invalid number \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_IDLE:
            if (parse_uint(optarg, &cfg.idle_timeout_s) < 0) {
                fprintf(stderr, "cairn server: --idle-timeout: invalid number \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_NOSCHED: no_sched = true; break;
        case O_SVC: cfg.service_cidr = optarg; break;
        case O_JOIN: cfg.join_url = optarg; break;
        case O_TOKEN: cfg.token = optarg; break;
        case O_TOKEN_FILE: token_file = optarg; break;
        case O_HIST: {
            int64_t v;
            if (cn_parse_int64(optarg, &v) < 0 || v < 1) {
                fprintf(stderr, "cairn server: --history-revisions: want a positive number, got \"%s\"\n", optarg);
                return 2;
            }
            cfg.history_revisions = v;
            break;
        }
        case O_COMPACT: {
            unsigned v;
            if (parse_uint(optarg, &v) < 0 || v < 1) {
                fprintf(stderr, "cairn server: --compact-interval: want a positive number of seconds, got \"%s\"\n", optarg);
                return 2;
            }
            cfg.compact_interval_s = (int)v;
            break;
        }
        case O_LE_LEASE:
        case O_LE_RENEW:
        case O_LE_RETRY: {
            int64_t *dst = c == O_LE_LEASE ? &cfg.leader_lease_ms
                         : c == O_LE_RENEW ? &cfg.leader_renew_deadline_ms : &cfg.leader_retry_ms;
            if (cn_cli_parse_duration_ms(optarg, dst) < 0) {
                fprintf(stderr, "cairn server: --%s: want a duration like 15, 1.5s or 300ms, got \"%s\"\n",
                        c == O_LE_LEASE ? "leader-elect-lease-duration"
                        : c == O_LE_RENEW ? "leader-elect-renew-deadline" : "leader-elect-retry-period", optarg);
                return 2;
            }
            break;
        }
        case O_NODE_GRACE:
            if (cn_cli_parse_duration_ms(optarg, &ctrl_cfg.node_monitor_grace_ms) < 0) {
                fprintf(stderr, "cairn server: --node-monitor-grace-period: want a duration like 40s, got \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_CLUSTER_CIDR: {
            uint32_t net;
            int plen;
            if (*optarg && cn_cidr4_parse(optarg, &net, &plen) < 0) {
                fprintf(stderr, "cairn server: --cluster-cidr: want an IPv4 CIDR like 10.244.0.0/16, got \"%s\"\n", optarg);
                return 2;
            }
            ctrl_cfg.cluster_cidr = optarg;
            break;
        }
        case O_NODE_MASK: {
            int64_t v;
            if (cn_parse_int64(optarg, &v) < 0 || v < 1 || v > 30) {
                fprintf(stderr, "cairn server: --node-cidr-mask-size: want a prefix length 1..30, got \"%s\"\n", optarg);
                return 2;
            }
            ctrl_cfg.node_cidr_mask_size = (int)v;
            break;
        }
        case O_TOL_NOT_READY:
        case O_TOL_UNREACHABLE: {
            int64_t v;
            if (cn_parse_int64(optarg, &v) < 0 || v < 0 || v > 0x7fffffff) {
                fprintf(stderr, "cairn server: --%s: want a number of seconds, got \"%s\"\n",
                        c == O_TOL_NOT_READY ? "default-not-ready-toleration-seconds"
                                             : "default-unreachable-toleration-seconds", optarg);
                return 2;
            }
            *(c == O_TOL_NOT_READY ? &cfg.default_not_ready_toleration_s : &cfg.default_unreachable_toleration_s) =
                v ? v : -1;
            break;
        }
        case 'h': usage(stdout); return 0;
        default:
            if (c >= CN_OPT_COMMON) {
                if (cn_server_common_flag("server", c, optarg, &cfg, sans) < 0) return 2;
                break;
            }
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn server: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    cfg.tls_sans = sans;
    int64_t lease = cfg.leader_lease_ms ? cfg.leader_lease_ms : CN_LEADER_LEASE_MS;
    int64_t renew = cfg.leader_renew_deadline_ms ? cfg.leader_renew_deadline_ms : CN_LEADER_RENEW_DEADLINE_MS;
    int64_t retry = cfg.leader_retry_ms ? cfg.leader_retry_ms : CN_LEADER_RETRY_MS;
    if (!(lease > renew && renew > retry)) {
        fprintf(stderr, "cairn server: want --leader-elect-lease-duration > --leader-elect-renew-deadline"
                        " > --leader-elect-retry-period\n");
        return 2;
    }
    if (cfg.token && token_file) {
        fprintf(stderr, "cairn server: give --token or --token-file, not both\n");
        return 2;
    }
    if (token_file) {
        cn_err terr = CN_ERR_INIT;
        size_t len;
        if (cn_read_file(token_file, &token_text, &len, &terr) < 0) {
            fprintf(stderr, "cairn server: --token-file: %s\n", terr.message);
            cn_err_clear(&terr);
            return 2;
        }
        while (len > 0 && (token_text[len - 1] == '\n' || token_text[len - 1] == '\r' ||
                           token_text[len - 1] == ' '))
            token_text[--len] = '\0';
        cfg.token = token_text;
    }
    if (cfg.join_url && !cfg.token) {
        fprintf(stderr, "cairn server: --join needs --token or --token-file (the first server's "
                        "DATA-DIR/token)\n");
        return 2;
    }

    /* Every watch is a connection and a thread: allow as many descriptors
     * as the hard limit permits rather than the 1024 soft default. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cn_err err = CN_ERR_INIT;
    cn_apiserver *srv = NULL;
    if (cn_apiserver_start(&cfg, &srv, &err) < 0) {
        fprintf(stderr, "cairn server: %s\n", err.message ? err.message : "failed to start");
        cn_err_clear(&err);
        return 1;
    }
    cn_info("cairn server listening on port %d, data in \"%s\"", cn_apiserver_port(srv), cfg.data_dir);
    printf("cairn server is ready (Kubernetes v1.32 API) on port %d.\n"
           "Use it with:\n"
           "  export KUBECONFIG=%s\n"
           "  kubectl get namespaces\n",
           cn_apiserver_port(srv), cn_apiserver_kubeconfig(srv));
    /* Joining shares the CA and keys; sharing the objects needs etcd. */
    if (cfg.datastore_endpoint)
        printf("More servers join with: --datastore-endpoint %s%s%s --join https://HOST:%d --token-file %s/token\n",
               cfg.datastore_endpoint, cfg.etcd_prefix ? " --etcd-prefix " : "",
               cfg.etcd_prefix ? cfg.etcd_prefix : "", cn_apiserver_port(srv), cfg.data_dir);
    fflush(stdout);

    /* The controllers are API clients in this process (ctrl.h), acting
     * while this server holds the controller-manager lease. */
    cn_client *ctrl_client = NULL;
    cn_ctrl_manager *ctrl = NULL;
    static const char *const cm_groups[] = { "system:masters", NULL };
    if (cn_client_new_local(cn_apiserver_handle, srv, "system:kube-controller-manager", cm_groups,
                            &ctrl_client, &err) == 0) {
        cn_client_set_agent(ctrl_client, "cairn-controller-manager");
        ctrl_cfg.client = ctrl_client;
        ctrl_cfg.elector = cn_apiserver_elector(srv, CN_ROLE_CONTROLLER_MANAGER);
        if (cn_ctrl_manager_start(&ctrl_cfg, &ctrl, &err) < 0) cn_warn("controllers: %s", err.message);
    }
    cn_err_clear(&err);

    /* The scheduler likewise (sched.h), while holding the scheduler lease. */
    cn_client *sched_client = NULL;
    cn_sched *sched = NULL;
    if (!no_sched && cn_client_new_local(cn_apiserver_handle, srv, "system:kube-scheduler", cm_groups,
                            &sched_client, &err) == 0) {
        cn_client_set_agent(sched_client, "cairn-scheduler");
        cn_sched_config sc = { .client = sched_client,
                               .elector = cn_apiserver_elector(srv, CN_ROLE_SCHEDULER) };
        if (cn_sched_start(&sc, &sched, &err) < 0) cn_warn("scheduler: %s", err.message);
    }
    cn_err_clear(&err);

    while (!stop_signal) pause();
    cn_info("signal %d: shutting down", (int)stop_signal);
    cn_sched_stop(sched);
    cn_client_free(sched_client);
    cn_ctrl_manager_stop(ctrl);
    cn_client_free(ctrl_client);
    cn_apiserver_stop(srv);
    return 0;
}
