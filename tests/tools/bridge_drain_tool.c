/* cairn-bridge-drain: drives bridge/drain from a script, for
 * tests/e2e/e2e_bridge_drain.sh (the bridge calls the same functions on a
 * workload cluster's API).
 *
 *   cairn-bridge-drain KUBECONFIG drain NODE TIMEOUT_S
 *   cairn-bridge-drain KUBECONFIG uncordon NODE
 * Exit 0 on success; 1 with the error message on stderr ("timeout: ..."
 * for -ETIMEDOUT, "notfound: ..." for -ENOENT). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bridge/drain.h"
#include "lib/util.h"

int main(int argc, char **argv)
{
    int64_t t = 0;
    if (argc < 4 || (strcmp(argv[2], "drain") && strcmp(argv[2], "uncordon")) ||
        (!strcmp(argv[2], "drain") && (argc != 5 || cn_parse_int64(argv[4], &t) < 0))) {
        fprintf(stderr, "usage: cairn-bridge-drain KUBECONFIG drain NODE TIMEOUT_S | uncordon NODE\n");
        return 2;
    }
    cn_client *c = NULL;
    cn_err err = CN_ERR_INIT;
    int r = cn_client_new_kubeconfig(argv[1], &c, &err);
    if (r == 0)
        r = !strcmp(argv[2], "drain") ? cn_bridge_drain(c, argv[3], (int)t, &err)
                                      : cn_bridge_uncordon(c, argv[3], &err);
    if (r < 0)
        fprintf(stderr, "%s%s\n", r == -ETIMEDOUT ? "timeout: " : r == -ENOENT ? "notfound: " : "",
                err.message ? err.message : strerror(-r));
    else
        printf("node/%s %s\n", argv[3], !strcmp(argv[2], "drain") ? "drained" : "uncordoned");
    cn_err_clear(&err);
    cn_client_free(c);
    return r < 0 ? 1 : 0;
}
