/* portfwd: `kubectl port-forward` sessions. The client speaks SPDY/3.1,
 * either directly on the upgraded connection (Upgrade: SPDY/3.1,
 * X-Stream-Protocol-Version: portforward.k8s.io) or tunnelled in WebSocket
 * binary messages (subprotocol SPDY/3.1+portforward.k8s.io, kubectl >=
 * 1.31). For every forwarded connection it opens two streams with headers
 * streamtype (error, data), port and requestid; the data stream is joined
 * to a TCP connection to 127.0.0.1:port made inside the pod's network
 * namespace, the error stream carries a message when that fails. */
#ifndef CN_AGENT_PORTFWD_H
#define CN_AGENT_PORTFWD_H

#include <stdbool.h>
#include <stddef.h>

extern const char *const cn_portfwd_ws_protocols[];
extern const size_t cn_portfwd_nws_protocols;

typedef struct cn_portfwd {
    char *netns_path;         /* owned: the pod's network namespace */
    bool tunnel;              /* SPDY inside WebSocket messages */
} cn_portfwd;
void cn_portfwd_free(cn_portfwd *pf);

/* The session on an upgraded connection (a cn_http_upgrade_fn). */
void cn_portfwd_run(void *pf, int fd, const char *extra, size_t nextra);

/* A TCP connection to 127.0.0.1:port from inside the network namespace
 * at netns_path (on a thread of its own: setns is per thread). */
int cn_portfwd_dial(const char *netns_path, int port, int *fd);

#endif
