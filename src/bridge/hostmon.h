/* hostmon: the bridge's host monitor: host heartbeats, host phases, and
 * moving VMs off hosts that failed or are put in maintenance (issue 7,
 * part 6; docs/bridge.md "Host failure and maintenance").
 *
 * A loop on the bridge's API (every CN_HOSTMON_PERIOD_MS) that:
 *  - judges each Host's heartbeat the way client-go judges a lease: by
 *    when *the bridge* last saw status.lastHeartbeatTime change, on its own
 *    monotonic clock, never the host's wall clock; unchanged for the grace
 *    -> status.phase NotReady with a message; spec.maintenance ->
 *    Maintenance; heartbeats again -> Ready;
 *  - fails over: every VirtualMachine whose spec.host is NotReady gets the
 *    host cn_fleet_place_vm answers, at once (the VM restarts there with
 *    its disk, IP and node name), recorded in an Operation of type
 *    Failover targeting the Host;
 *  - maintenance: every VM on a host in maintenance is moved the same way
 *    after its node is drained through the cluster's own API (workers;
 *    cn_bridge_drain with the admin kubeconfig of Secret
 *    fleet-system/<cluster>-kubeconfig) and uncordoned once it runs on its
 *    new host; Operation type HostMaintenance;
 *  - rebalances when nothing else is moving: one VM at a time (workers
 *    drained first) of a cluster that is Succeeded and Healthy, where
 *    cn_fleet_place_vm(rebalance) says the spread improves, waiting for the
 *    moved VM to be Running on its new host before the next.
 * Drains and uncordons run on a worker thread so a slow cluster never
 * delays the heartbeat judgement. */
#ifndef CN_BRIDGE_HOSTMON_H
#define CN_BRIDGE_HOSTMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "client/client.h"
#include "lib/err.h"

#define CN_HOSTMON_GRACE_MS 40000
#define CN_HOSTMON_PERIOD_MS 1000
#define CN_HOSTMON_DRAIN_TIMEOUT_S 300

typedef struct cn_hostmon_config {
    int64_t grace_ms;           /* `cairn bridge --host-grace`; 0 = CN_HOSTMON_GRACE_MS */
    int64_t period_ms;          /* 0 = CN_HOSTMON_PERIOD_MS */
    int drain_timeout_s;        /* per node; 0 = CN_HOSTMON_DRAIN_TIMEOUT_S */
} cn_hostmon_config;

typedef struct cn_hostmon cn_hostmon;

/* Start the loop on the bridge's client (an in-process client of the
 * bridge API server, as the controller's). */
int cn_hostmon_start(cn_client *bridge, const cn_hostmon_config *cfg, cn_hostmon **out, cn_err *err);
/* Stop (waits for a drain in progress to give up at its next poll).
 * NULL-safe. */
void cn_hostmon_stop(cn_hostmon *m);

/* ---- the pure parts, for tests ---- */

/* When each host's heartbeat was last seen to change (monotonic ms). */
typedef struct cn_hb_tracker cn_hb_tracker;
cn_hb_tracker *cn_hb_tracker_new(void);
void cn_hb_tracker_free(cn_hb_tracker *t);
/* Observe Host object `host` at now_ms and say which phase it should
 * have ("Ready", "NotReady", "Maintenance"; static strings) and why (msg,
 * "" when Ready). A host seen for the first time gets a full grace. */
const char *cn_hb_observe(cn_hb_tracker *t, const json_t *host, int64_t now_ms, int64_t grace_ms, char *msg,
                          size_t msglen);

/* What to do about one VM, given the phase of its host (as just judged):
 * CN_MOVE_NONE, CN_MOVE_FAILOVER (host NotReady: move now), CN_MOVE_DRAIN
 * (host in maintenance, a worker not drained yet), CN_MOVE_MAINTENANCE
 * (host in maintenance; drained, or a control-plane VM: move now). */
typedef enum { CN_MOVE_NONE, CN_MOVE_FAILOVER, CN_MOVE_DRAIN, CN_MOVE_MAINTENANCE } cn_move;
cn_move cn_hostmon_decide(const json_t *vm, const char *host_phase, bool drained);

#endif
