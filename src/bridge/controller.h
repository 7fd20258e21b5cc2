/* controller: the bridge controller of `cairn bridge`. Reconciles every
 * Cluster (docs/fleet-api.md) into its Operation, PKI and kubeconfig
 * Secrets and node VirtualMachines, follows create / scale / update /
 * rolling upgrade / delete to Succeeded or Failed, and keeps each
 * cluster's inventory (nodes, health, last contact) in its status. One
 * reconcile thread with a work queue keyed by cluster name, level-based:
 * everything it does is derived from the stored objects, so a restarted
 * bridge resumes an operation where it stopped (docs/bridge.md). */
#ifndef CN_BRIDGE_CONTROLLER_H
#define CN_BRIDGE_CONTROLLER_H

#include <stdint.h>
#include "api/leader.h"
#include "client/client.h"
#include "lib/err.h"

typedef struct cn_bridge_ctrl cn_bridge_ctrl;

typedef struct cn_bridge_ctrl_config {
    cn_client *client;               /* the bridge's in-process client (borrowed) */
    cn_leader *elector;              /* act only while it leads (several bridges on one etcd); NULL: always */
    int64_t operation_timeout_ms;    /* an operation fails after this; 0 = 10 min */
    int64_t resync_ms;               /* inventory refresh period; 0 = 5 s */
    int64_t host_grace_ms;           /* host heartbeat grace: for the failover part (fleet-failover); 0 = its default */
    int drain_timeout_s;             /* per node drained; 0 = 120 */
} cn_bridge_ctrl_config;

int cn_bridge_ctrl_start(const cn_bridge_ctrl_config *cfg, cn_bridge_ctrl **out, cn_err *err);
void cn_bridge_ctrl_stop(cn_bridge_ctrl *c);    /* joins; NULL is fine */

#endif
