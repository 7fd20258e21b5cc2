/* bridge: `cairn bridge` — the fleet's management API server (the Arc
 * resource bridge of AKS on Azure Local): a cairn API server with its own
 * data dir that serves the fleet.cairn.io kinds (installed as CRDs at
 * start), admits them through the fleet model and runs the bridge
 * controller that turns Clusters into VMs on the hosts (docs/bridge.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/apiserver.h"
#include "bridge/admit.h"
#include "bridge/controller.h"
#include "bridge/crds.h"
#include "bridge/hostmon.h"
#include "cli/cli.h"
#include "client/client.h"
#include "lib/log.h"
#include "lib/util.h"

#define DEFAULT_DATA_DIR "/var/lib/cairn/bridge"
#define DEFAULT_LISTEN "127.0.0.1:7443"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn bridge [flags]\n"
        "\n"
        "Runs the fleet's management API (fleet.cairn.io/v1: Host, LogicalNetwork,\n"
        "Cluster, VirtualMachine, Operation; docs/fleet-api.md) on its own API server\n"
        "and store, admits every change through the fleet's limits, capacity and IP\n"
        "plan, and turns Clusters into node VirtualMachines for `cairn host` to run.\n"
        "Its admin kubeconfig is DATA-DIR/kubeconfig (kubectl, cairn cluster/fleet,\n"
        "cairn host --kubeconfig).\n"
        "\n"
        "flags (with DIR default %s, HOST:PORT default %s;\n"
        "listen on an address the hosts reach, e.g. 0.0.0.0:7443, when they run elsewhere):\n"
        "%s"
        "  --operation-timeout D   a cluster operation that has not finished after D fails (default 10m)\n"
        "  --host-grace D          a host whose heartbeat is older than D is NotReady and its VMs\n"
        "                          fail over (default 40s; keep it above the hosts' --fence-after)\n"
        "                          D: seconds or minutes, fractions allowed (\"90\", \"1.5m\", \"300ms\")\n"
        "  -h, --help              show this help\n",
        DEFAULT_DATA_DIR, DEFAULT_LISTEN, cn_server_common_help);
}

/* Before the bridge listens: its in-process client and the fleet
 * admission, so no write can arrive unchecked. */
static int before_serve(cn_apiserver *srv, void *ud, cn_err *err)
{
    cn_client **client = ud;
    static const char *const groups[] = { "system:masters", NULL };
    int r = cn_client_new_local(cn_apiserver_handle, srv, "system:cairn-bridge", groups, client, err);
    if (r < 0) return r;
    cn_client_set_agent(*client, "cairn-bridge");
    cn_bridge_admission_register(srv, *client);
    return 0;
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

int cn_cmd_bridge(int argc, char **argv)
{
    enum { O_OP_TIMEOUT = 1, O_HOST_GRACE };
    static const struct option opts[] = {
        { "operation-timeout", required_argument, NULL, O_OP_TIMEOUT },
        { "host-grace", required_argument, NULL, O_HOST_GRACE },
        { "help", no_argument, NULL, 'h' },
        CN_SERVER_COMMON_OPTIONS,
        { 0 },
    };
    cn_apiserver_config cfg = { .data_dir = DEFAULT_DATA_DIR, .listen = DEFAULT_LISTEN,
                                .serialize_group = CN_FLEET_GROUP };
    cn_bridge_ctrl_config ccfg = { 0 };
    const char *sans[CN_MAX_TLS_SANS];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_OP_TIMEOUT:
        case O_HOST_GRACE:
            if (cn_cli_parse_duration_ms(optarg, c == O_OP_TIMEOUT ? &ccfg.operation_timeout_ms
                                                                  : &ccfg.host_grace_ms) < 0) {
                fprintf(stderr, "cairn bridge: --%s: want a duration like 10m, 40s or 1.5s, got \"%s\"\n",
                        c == O_OP_TIMEOUT ? "operation-timeout" : "host-grace", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default:
            if (c >= CN_OPT_COMMON) {
                if (cn_server_common_flag("bridge", c, optarg, &cfg, sans) < 0) return 2;
                break;
            }
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn bridge: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 1;
    cn_err err = CN_ERR_INIT;
    cn_apiserver *srv = NULL;
    cn_client *client = NULL;
    cn_bridge_ctrl *ctrl = NULL;
    cn_hostmon *hm = NULL;
    cfg.before_serve = before_serve;
    cfg.before_serve_ud = &client;
    if (cn_apiserver_start(&cfg, &srv, &err) < 0) goto fail;
    if (cn_bridge_install_crds(client, 30000, &err) < 0) goto fail;
    ccfg.client = client;
    /* Only bridges sharing etcd can run at once; on SQLite, waiting out a
     * killed predecessor's lease would only delay a restart. */
    if (cfg.datastore_endpoint) ccfg.elector = cn_apiserver_elector(srv, CN_ROLE_CONTROLLER_MANAGER);
    if (cn_bridge_ctrl_start(&ccfg, &ctrl, &err) < 0) goto fail;
    /* Host heartbeats, failover, maintenance and rebalancing (hostmon.h). */
    if (cn_hostmon_start(client, &(cn_hostmon_config){ .grace_ms = ccfg.host_grace_ms }, &hm, &err) < 0)
        goto fail;

    cn_info("cairn bridge listening on port %d, data in \"%s\"", cn_apiserver_port(srv), cfg.data_dir);
    printf("cairn bridge is ready (fleet.cairn.io/v1) on port %d.\n"
           "Use it with:\n"
           "  export KUBECONFIG=%s\n"
           "  kubectl get hosts,logicalnetworks,clusters\n",
           cn_apiserver_port(srv), cn_apiserver_kubeconfig(srv));
    fflush(stdout);
    while (!stop_signal) pause();
    cn_info("signal %d: shutting down", (int)stop_signal);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "cairn bridge: %s\n", err.message ? err.message : "failed to start");
out:
    cn_hostmon_stop(hm);
    cn_bridge_ctrl_stop(ctrl);
    cn_apiserver_stop(srv);
    cn_client_free(client);
    cn_err_clear(&err);
    return rc;
}
