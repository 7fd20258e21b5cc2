/* drain: cordon a node of a cluster and evict its pods (as `kubectl drain`)
 * before its VM is removed. Written by the fleet-failover part; this header
 * holds the signature the bridge controller calls (contract). */
#ifndef CN_BRIDGE_DRAIN_H
#define CN_BRIDGE_DRAIN_H

#include "client/client.h"
#include "lib/err.h"

/* Cordon `node` on the cluster reached through `cluster` and evict its pods
 * (daemon-set pods stay), waiting at most timeout_s. 0, or < 0 with err. */
int cn_bridge_drain(cn_client *cluster, const char *node, int timeout_s, cn_err *err);

#endif
