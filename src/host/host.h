/* host: `cairn host`, the host agent of the fleet (docs/host.md,
 * docs/fleet-api.md). It registers this machine as a Host of the bridge
 * (spec: address and declared capacity), heartbeats (Host
 * status.lastHeartbeatTime and status.vms, a merge patch on /status; the
 * bridge controller owns status.phase/message), and runs the
 * VirtualMachines whose spec.host is this host as node sandboxes (vm.h):
 * starts those with spec.running, stops those moved away or stopped,
 * removes the disk of a deleted one and then its finalizer
 * fleet.cairn.io/vm, and reports each VM's status.
 *
 * At start it adopts VM inits still running from an earlier run (pid
 * files in DATA/vms) that are still assigned here, stops the others, and
 * removes disks in STORAGE/vms of VMs that no longer exist.
 *
 * Self-fencing: when heartbeats have failed for longer than fence_after,
 * it stops every VM it runs, since the bridge will declare the host
 * NotReady and restart them elsewhere (as failover clustering quarantines
 * an isolated node); it starts them again only after a heartbeat went
 * through and a fresh list says they are still here. */
#ifndef CN_HOST_H
#define CN_HOST_H

#include <stdint.h>
#include "host/vm.h"
#include "lib/err.h"

typedef struct cn_host_config {
    const char *kubeconfig;      /* the bridge's */
    const char *name;
    const char *address;         /* spec.address; may be "" */
    int64_t cpu;                 /* declared capacity */
    const char *memory, *storage_capacity;   /* quantities */
    int64_t gpus;
    int64_t heartbeat_ms;
    int64_t fence_after_ms;
    cn_vm_env vm;                /* storage, data dir, binaries, ... */
} cn_host_config;

/* Runs until *stop becomes true; VMs keep running when it returns (a
 * restarted agent adopts them). */
int cn_host_run(const cn_host_config *cfg, volatile int *stop, cn_err *err);

#endif
