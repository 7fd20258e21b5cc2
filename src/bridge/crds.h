/* crds: the fleet.cairn.io/v1 CustomResourceDefinitions (Host,
 * LogicalNetwork, Cluster, VirtualMachine, Operation; docs/fleet-api.md)
 * and the fleet-system namespace, installed by `cairn bridge` at start
 * through its in-process client. */
#ifndef CN_BRIDGE_CRDS_H
#define CN_BRIDGE_CRDS_H

#include "client/client.h"
#include "lib/err.h"

#define CN_FLEET_GROUP "fleet.cairn.io"
#define CN_FLEET_VERSION "v1"
#define CN_FLEET_NAMESPACE "fleet-system"

/* Create the CRDs (or bring existing ones to this definition: idempotent
 * on restart) and the namespace, then wait until every CRD is Established
 * (at most timeout_ms). */
int cn_bridge_install_crds(cn_client *c, int timeout_ms, cn_err *err);

#endif
