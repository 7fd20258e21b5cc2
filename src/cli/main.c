/* main: the cairn command. Dispatches argv[1] through the command table;
 * each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "agent/runtime.h"
#include "cli/cli.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "server", cn_cmd_server, "run a Kubernetes API server (control-plane node)" },
    { "agent", cn_cmd_agent, "run a worker node (pods as runc containers), or SIMULATED nodes with --simulate" },
    { "bridge", cn_cmd_bridge, "run the fleet's management API and bridge controller (docs/bridge.md)" },
    { "image", cn_cmd_image, "the node's image store: pull, import, ls, rm, prune" },
    { "cluster", cn_cmd_cluster, "clusters of the fleet via the bridge: create, show, list, scale, upgrade, delete, ..." },
    { "fleet", cn_cmd_fleet, "the fleet via the bridge: hosts, logical networks, status, ip-plan" },
    { "apply", cn_cmd_apply, "create or update fleet objects (hosts, logical networks, clusters) from YAML" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cairn <command> [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'cairn <command> --help' for the flags of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("cairn (serves Kubernetes v1.32 API)\n");
        return 0;
    }
    /* Hidden: the per-container supervisor the agent starts (runtime.h). */
    if (!strcmp(argv[1], "shim")) return cn_shim_main(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cairn: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
