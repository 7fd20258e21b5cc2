/* cairn-podnet: drives agent/podnet from a script, for the e2e suites that
 * build a pod network out of network namespaces (tests/e2e/e2e_podnet.sh).
 * Each call opens the node's podnet (bridge, forwarding), does one thing
 * and closes it — the way an agent that restarts between calls would.
 *
 *   cairn-podnet --dir DIR --block CIDR [--bridge NAME] setup
 *   ... alloc OWNER                 prints the IP
 *   ... release OWNER
 *   ... reconcile [LIVE_OWNER...]   prints how many were released
 *   ... attach NETNS_PATH OWNER IP
 *   ... detach OWNER
 *   ... routes [CIDR=VIA...]        exactly these routes to other blocks
 * Run it inside the node's network namespace (nsenter --net=...). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/podnet.h"

static int usage(void)
{
    fprintf(stderr, "usage: cairn-podnet --dir DIR --block CIDR [--bridge NAME] "
                    "setup|alloc OWNER|release OWNER|reconcile [OWNER...]|attach NETNS OWNER IP|"
                    "detach OWNER|routes [CIDR=VIA...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "block", required_argument, NULL, 'b' },
        { "bridge", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    cn_podnet_config cfg = { 0 };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cfg.dir = optarg; break;
        case 'b': cfg.block = optarg; break;
        case 'r': cfg.bridge = optarg; break;
        default: return usage();
        }
    }
    if (optind >= argc || !cfg.dir || !cfg.block) return usage();
    const char *cmd = argv[optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    cn_err err = CN_ERR_INIT;
    cn_podnet *n = NULL;
    int rc = cn_podnet_open(&cfg, &n, &err);
    if (rc < 0) goto out;
    if (!strcmp(cmd, "setup") && nargs == 0) {
        rc = 0;
    } else if (!strcmp(cmd, "alloc") && nargs == 1) {
        char ip[64];
        rc = cn_podnet_ip_alloc(n, args[0], ip, &err);
        if (rc == 0) printf("%s\n", ip);
    } else if (!strcmp(cmd, "release") && nargs == 1) {
        rc = cn_podnet_ip_release(n, args[0]);
    } else if (!strcmp(cmd, "reconcile")) {
        rc = cn_podnet_ip_reconcile(n, (const char *const *)args, (size_t)nargs);
        if (rc >= 0) printf("%d\n", rc);
    } else if (!strcmp(cmd, "attach") && nargs == 3) {
        rc = cn_podnet_attach(n, args[0], args[1], args[2], &err);
    } else if (!strcmp(cmd, "detach") && nargs == 1) {
        rc = cn_podnet_detach(n, args[0], &err);
    } else if (!strcmp(cmd, "routes")) {
        cn_podnet_route *r = calloc((size_t)nargs + 1, sizeof *r);
        for (int i = 0; i < nargs; i++) {
            char *eq = strchr(args[i], '=');
            if (!eq) {
                free(r);
                cn_podnet_close(n);
                return usage();
            }
            *eq = '\0';
            r[i].cidr = args[i];
            r[i].via = eq + 1;
        }
        rc = cn_podnet_set_routes(n, r, (size_t)nargs, &err);
        free(r);
    } else {
        cn_podnet_close(n);
        return usage();
    }
out:
    if (rc < 0) fprintf(stderr, "cairn-podnet %s: %s\n", cmd, err.message ? err.message : strerror(-rc));
    cn_err_clear(&err);
    cn_podnet_close(n);
    return rc < 0 ? 1 : 0;
}
