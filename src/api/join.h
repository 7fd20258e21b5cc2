/* join: how a second server gets the cluster's shared secrets (the CA pair
 * and the service-account signing key) from a running one, k3s style.
 *
 * Server side, on the HTTPS listener before authentication:
 *   GET /cacerts                   the CA certificate PEM, to anyone;
 *   GET /cairn/v1/server-bootstrap JSON {"ca.crt","ca.key","sa.key","sa.pub"},
 *       only with "Authorization: Bearer <token>" where the token is the
 *       whole join token, "server:<secret>" or the bare secret.
 * Client side (cn_join_fetch, before cn_pki_ensure): fetch /cacerts trusting
 * nothing, pin it with the token's CA hash, then fetch the bootstrap bundle
 * over TLS verified against that CA alone, and install it into DATA/pki. */
#ifndef CN_JOIN_H
#define CN_JOIN_H

#include "lib/err.h"

struct cn_reqctx;

void cn_join_serve_cacerts(struct cn_reqctx *c);
void cn_join_serve_bootstrap(struct cn_reqctx *c);
/* GET /cairn/v1/node-bootstrap?node=NAME with the same bearer token: JSON
 * {"ca.crt","client.crt","client.key"}, a client certificate for
 * system:node:NAME (group system:nodes) — how `cairn agent --server URL
 * --token T` gets its credentials. */
void cn_join_serve_node(struct cn_reqctx *c);

/* Make DATA/pki hold the CA and service-account key of the server at url
 * ("https://HOST:PORT"), authenticated by token (the full join token).
 * Already holding that CA: nothing to do. Holding another CA: refused,
 * nothing touched. */
int cn_join_fetch(const char *data_dir, const char *url, const char *token, cn_err *err);

/* Agent side: make DATA/kubeconfig hold node credentials from the server
 * at url (the CA pinned by the token's hash, as cn_join_fetch). A
 * kubeconfig already there is kept. *kubeconfig gets its path (owned). */
int cn_join_node(const char *data_dir, const char *url, const char *token, const char *node,
                 char **kubeconfig, cn_err *err);

#endif
