#!/bin/bash
# e2e_host: `cairn host` running node VMs as sandboxes (docs/host.md).
# A "lan" network namespace holds a bridge, a plain `cairn server` with
# the minimal fleet CRDs (playing the bridge) and a registry; a host
# namespace holds the Linux bridge "vmswitch" (uplinked to the lan) and
# `cairn host`. Two VirtualMachines made by hand (a 1-node control plane
# and a worker, sharing a PKI Secret) must run: the worker joins the inner
# cluster and runs a pod. Then: restart of the host agent (adopts, cleans
# leftovers, collects stray disks), a VM moved away and back (a "reboot"
# on the same disk), self-fencing when the bridge is gone, deletion.
# Needs root; skips otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "skip: e2e_host needs root"; exit 0; fi
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/netns_lib.sh"
source "$E2E_DIR/registry_lib.sh"

K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
P=cnh$$
LAN=$P-lan
HNS=$P-h1
LANIP=10.99.0.1
HOSTIP=10.99.0.11
H=e2eh$$                 # the Host's name (cgroups: cairn-host-$H)
C=c$$                    # the cluster's name: VMs $C-cp-0, $C-np1-0
CP=$C-cp-0 WK=$C-np1-0
CP_IP=10.99.0.101 WK_IP=10.99.0.102
E=e$$                    # a second cluster: a control plane of 3 with etcd
STORAGE=$WORK/storage HDATA=$WORK/host
BPORT=6443
HLOG=${HOST_LOG:-$WORK/host.log}
HOST_PID= BRIDGE_PID= PKI_PID=

kb() { nl_exec "$LAN" "$K" --kubeconfig "$DATA/kubeconfig" "$@"; }      # the "bridge"
ki() { nl_exec "$LAN" "$K" --kubeconfig "$STORAGE/vms/$CP/server/kubeconfig" --request-timeout=5s "$@"; }   # the inner cluster
vmget() { kb get virtualmachine "$1" -o jsonpath="$2"; }
eq() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }

vm_pids() { cat "$HDATA"/vms/*.pid 2>/dev/null; }

e2e_host_cleanup() {
    [ -n "$HOST_PID" ] && kill -KILL "$HOST_PID" 2>/dev/null
    [ -n "$PKI_PID" ] && kill -KILL "$PKI_PID" 2>/dev/null
    local pid vm
    # A VM init is PID 1 of its namespace: killing it ends the whole VM.
    for pid in $(vm_pids); do kill -KILL "$pid" 2>/dev/null; done
    for vm in "$CP" "$WK" "$C-bad-0" "$E-cp-0" "$E-cp-1" "$E-cp-2"; do
        umount -l "/run/netns/cnvm-$H-$vm" 2>/dev/null; rm -f "/run/netns/cnvm-$H-$vm"
    done
    sleep 0.3
    find /sys/fs/cgroup/*/cairn-host-$H -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -n "$BRIDGE_PID" ] && kill -TERM "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
    nl_down "$P"
}
e2e_extra_cleanup() { e2e_host_cleanup; }

T0=$(date +%s)
nl_up "$P"
# The host: bridge vmswitch uplinked to the lan, the host's IP on it.
ip netns add "$HNS"
ip -n "$LAN" link add "v-h1-$$" type veth peer name up0 netns "$HNS"
ip -n "$LAN" link set "v-h1-$$" master lan0 up
ip -n "$HNS" link set lo up
ip -n "$HNS" link add vmswitch type bridge
ip -n "$HNS" link set up0 master vmswitch up
ip -n "$HNS" addr add "$HOSTIP/24" dev vmswitch
ip -n "$HNS" link set vmswitch up
expect_ok "the host reaches the lan over vmswitch" nl_exec "$HNS" busybox ping -c 1 -W 5 "$LANIP"

start_bridge() {
    # nsenter execs cairn: $! is the process itself, not a subshell.
    nsenter --net="/run/netns/$LAN" -- "$CAIRN" server --data-dir "$DATA" --listen "$LANIP:$BPORT" --no-fsync \
        >>"$WORK/bridge.log" 2>&1 &
    BRIDGE_PID=$!
    wait_for "the bridge (a plain cairn server) is ready" 20 nl_exec "$LAN" curl -sfk "https://$LANIP:$BPORT/readyz"
}
start_bridge
expect_ok "fleet CRDs applied" kb apply -f "$E2E_DIR/manifests/fleet-crds-min.yaml"
wait_for "VirtualMachine kind served" 10 kb get virtualmachines

# The cluster's PKI, made by a throwaway server (its CA, SA key and token).
nsenter --net="/run/netns/$LAN" -- "$CAIRN" server --data-dir "$WORK/pkigen" --listen 127.0.0.1:0 --no-fsync >/dev/null 2>&1 &
PKI_PID=$!
wait_for "PKI generated" 10 test -s "$WORK/pkigen/token"
kill -TERM "$PKI_PID"; wait "$PKI_PID" 2>/dev/null; PKI_PID=
kb create namespace fleet-system >/dev/null
expect_ok "PKI Secret created" kb -n fleet-system create secret generic "$C-pki" \
    --from-file=ca.crt="$WORK/pkigen/pki/ca.crt" --from-file=ca.key="$WORK/pkigen/pki/ca.key" \
    --from-file=sa.key="$WORK/pkigen/pki/sa.key" --from-file=sa.pub="$WORK/pkigen/pki/sa.pub" \
    --from-file=token="$WORK/pkigen/token"

REGISTRY_WRAP="nl_exec $LAN"
registry_start "$LANIP:5000"
image_build_busybox "$WORK/oci" >/dev/null
expect_ok "busybox image pushed" image_push "$WORK/oci" busybox:1

start_host() {
    nsenter --net="/run/netns/$HNS" -- "$CAIRN" host --kubeconfig "$DATA/kubeconfig" --name "$H" --storage "$STORAGE" \
        --data-dir "$HDATA" --address "$HOSTIP" --cpu 8 --memory 16Gi --storage-capacity 100Gi \
        --heartbeat 1s --fence-after 3s --stop-grace 1s \
        --agent-arg=--insecure-registry="$REGISTRY" --agent-arg=--heartbeat=2s \
        --agent-arg=--backoff-initial=1s >>"$HLOG" 2>&1 &
    HOST_PID=$!
}
start_host
wait_for "Host registered" 15 kb get host "$H"
expect_eq "Host spec: declared capacity" "8 16Gi 100Gi 0 $HOSTIP" kb get host "$H" \
    -o jsonpath='{.spec.capacity.cpu} {.spec.capacity.memory} {.spec.capacity.storage} {.spec.capacity.gpus} {.spec.address}'
HB1=$(kb get host "$H" -o jsonpath='{.status.lastHeartbeatTime}')
hb_moved() { [ "$(kb get host "$H" -o jsonpath='{.status.lastHeartbeatTime}')" != "$HB1" ]; }
wait_for "Host heartbeats (lastHeartbeatTime moves)" 10 hb_moved
# The controller's fields are never overwritten by the heartbeat.
kb patch host "$H" --subresource=status --type=merge -p '{"status":{"phase":"Ready","message":"by the controller"}}' >/dev/null
sleep 1.5
expect_eq "heartbeats keep the controller's status.phase/message" "Ready by the controller" \
    kb get host "$H" -o jsonpath='{.status.phase} {.status.message}'

vm_yaml() {   # vm_yaml NAME ROLE IP [SWITCH]
    cat <<EOF
apiVersion: fleet.cairn.io/v1
kind: VirtualMachine
metadata:
  name: $1
  labels: {fleet.cairn.io/cluster: $C, fleet.cairn.io/role: $2}
  finalizers: [fleet.cairn.io/vm]
spec:
  cluster: $C
  role: $2
  pool: "$([ "$2" = worker ] && echo np1)"
  vmSize: Standard_A2_v2
  cpu: 2
  memoryMiB: 2048
  gpus: 0
  host: $H
  ip: $3
  prefixLength: 24
  gateway: $LANIP
  dnsServers: [$LANIP]
  vmSwitchName: ${4:-vmswitch}
  kubernetesVersion: "1.32.0"
  controlPlaneEndpoint: ${EP:-$CP_IP}
  pkiSecret: $C-pki
  podCidr: 10.244.0.0/16
  serviceCidr: 10.96.0.0/12
  etcdMembers: ${MEMBERS:-[]}
  labels: {team: web}
  taints: ["fleet=test:PreferNoSchedule"]
  running: true
EOF
}
vm_yaml "$CP" controlPlane "$CP_IP" >"$WORK/cp.yaml"
vm_yaml "$WK" worker "$WK_IP" >"$WORK/wk.yaml"
vm_yaml "$C-bad-0" worker 10.99.0.109 nosuchswitch >"$WORK/bad.yaml"
expect_ok "VirtualMachines created" kb create -f "$WORK/cp.yaml" -f "$WORK/wk.yaml" -f "$WORK/bad.yaml"

wait_for "control-plane VM Running on $H" 20 eq "Running $H" vmget "$CP" '{.status.phase} {.status.host}'
wait_for "worker VM Running on $H" 20 eq "Running $H" vmget "$WK" '{.status.phase} {.status.host}'
expect_out "the VM's startedAt is set" '^20[0-9-]+T' vmget "$WK" '{.status.startedAt}'
wait_for "a VM on a missing switch is Failed" 10 eq Failed vmget "$C-bad-0" '{.status.phase}'
expect_eq "... with the reason" "vm switch \"nosuchswitch\" not found on host $H" vmget "$C-bad-0" '{.status.message}'
expect_ok "the failed VM left no network namespace" test ! -e "/run/netns/cnvm-$H-$C-bad-0"
kb delete virtualmachine "$C-bad-0" --wait=false >/dev/null
host_vms() { kb get host "$H" -o jsonpath='{.status.vms[*].name}' | tr ' ' '\n' | sort | paste -sd' '; }
wait_for "Host status.vms lists both VMs" 10 eq "$(printf '%s\n' "$CP" "$WK" | sort | paste -sd' ')" host_vms

# ---- the sandbox ----
expect_out "VM eth0 has its IP" "inet $WK_IP/24" nsenter --net="/run/netns/cnvm-$H-$WK" ip -o addr show dev eth0
expect_out "VM default route via the gateway" "default via $LANIP dev eth0" nsenter --net="/run/netns/cnvm-$H-$WK" ip route
expect_out "host end of the VM's veth is on vmswitch" "master vmswitch" nl_exec "$HNS" ip -o link show master vmswitch
expect_eq "VM cgroup: cpu quota from spec.cpu" "200000" cat "/sys/fs/cgroup/cpu/cairn-host-$H/$WK/cpu.cfs_quota_us"
expect_eq "VM cgroup: memory limit from spec.memoryMiB" "2147483648" cat "/sys/fs/cgroup/memory/cairn-host-$H/$WK/memory.limit_in_bytes"
WK_INIT=$(cat "$HDATA/vms/$WK.pid")
expect_out "the worker's VM init is running" '^[0-9]+$' echo "$WK_INIT"
expect_out "the VM init is in the VM's cgroup" "^$WK_INIT\$" cat "/sys/fs/cgroup/pids/cairn-host-$H/$WK/cgroup.procs"
expect_eq "the VM has its own hostname" "$WK" nsenter --uts --target "$WK_INIT" hostname
expect_out "the VM's /etc/resolv.conf comes from spec.dnsServers" "^nameserver $LANIP\$" \
    nsenter --mount --target "$WK_INIT" cat /etc/resolv.conf
expect_out "the VM's /run is its own tmpfs" "^tmpfs /run tmpfs" nsenter --mount --target "$WK_INIT" grep " /run " /proc/1/mounts
expect_eq "the VM init is PID 1 of its PID namespace" "1" sh -c "grep NSpid /proc/$WK_INIT/status | awk '{print \$NF}'"

# ---- the inner cluster ----
wait_for "control plane serves on the VM's IP" 30 nl_exec "$LAN" curl -sfk "https://$CP_IP:6443/readyz"
expect_eq "the server uses the seeded CA (the Secret's)" "$(cat "$WORK/pkigen/pki/ca.crt")" cat "$STORAGE/vms/$CP/server/pki/ca.crt"
node_ready() { [ "$(ki get node "$WK" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }
wait_for "worker Node Ready in the inner cluster" 45 node_ready
expect_eq "worker node labels from spec.labels" "web" ki get node "$WK" -o jsonpath='{.metadata.labels.team}'
expect_eq "worker node taints from spec.taints" "fleet test PreferNoSchedule" ki get node "$WK" \
    -o jsonpath='{.spec.taints[0].key} {.spec.taints[0].value} {.spec.taints[0].effect}'
expect_out "worker node capacity from its cgroup" "^2 " ki get node "$WK" -o jsonpath='{.status.capacity.cpu} {.status.capacity.memory}'
ki run web --image="$REGISTRY/busybox:1" --restart=Always -- sleep 3600 >/dev/null
pod_running() { [ "$(ki get pod web -o jsonpath='{.status.phase} {.spec.nodeName}' 2>/dev/null)" = "Running $WK" ]; }
wait_for "a pod runs on the worker VM" 40 pod_running

echo "e2e_host: $(( $(date +%s) - T0 )) s: inner cluster done"
STARTED1=$(ki get pod web -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}')
# ---- restart of the host agent: adopt, clean leftovers, collect stray disks ----
CP_INIT=$(cat "$HDATA/vms/$CP.pid")
kill -KILL "$HOST_PID"; wait "$HOST_PID" 2>/dev/null; HOST_PID=
expect_ok "VMs outlive the host agent" kill -0 "$CP_INIT"
kb patch virtualmachine "$WK" --type=merge -p '{"spec":{"host":"elsewhere"}}' >/dev/null
mkdir -p "$STORAGE/vms/ghost-vm"
start_host
wait_for "the worker, moved away meanwhile, is stopped at start" 20 test ! -e "/run/netns/cnvm-$H-$WK"
wait_for "a stray disk is collected at start" 10 test ! -e "$STORAGE/vms/ghost-vm"
expect_ok "the worker's disk stays (shared storage)" test -d "$STORAGE/vms/$WK/agent"
expect_ok "the control plane was adopted, not restarted" kill -0 "$CP_INIT"
expect_eq "... same VM init pid" "$CP_INIT" cat "$HDATA/vms/$CP.pid"
expect_out "... logged" "adopting vm $CP" cat "$HLOG"
expect_ok "the worker's cgroup is gone" test ! -e "/sys/fs/cgroup/memory/cairn-host-$H/$WK"
wait_for "Host status.vms lists only the control plane" 10 eq "$CP" kb get host "$H" -o jsonpath='{.status.vms[*].name}'

# ---- moved back: a "reboot" on the same disk, the pod comes back ----
kb patch virtualmachine "$WK" --type=merge -p "{\"spec\":{\"host\":\"$H\"}}" >/dev/null
wait_for "worker VM Running again" 20 eq "Running $H" vmget "$WK" '{.status.phase} {.status.host}'
wait_for "worker Node Ready again" 45 node_ready
# The container is started anew (a reboot loses every container).
pod_back() {
    local st
    st=$(ki get pod web -o jsonpath='{.status.containerStatuses[0].ready} {.status.containerStatuses[0].state.running.startedAt}' 2>/dev/null)
    pod_running && [ "${st%% *}" = true ] && [ -n "${st#* }" ] && [ "${st#* }" != "$STARTED1" ]
}
wait_for "the pod runs again after the VM's reboot" 45 pod_back ||
    { ki get pod web -o yaml | sed -n '/^status:/,$p' | head -40; tail -30 "$STORAGE/vms/$WK/log/agent.log"; }

echo "e2e_host: $(( $(date +%s) - T0 )) s: reboot done"
# ---- self-fencing: the bridge goes away ----
# SIGKILL: the bridge vanishes (and a graceful stop waits for watches to end).
kill -KILL "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null; BRIDGE_PID=
wait_for "fenced: every VM stopped after --fence-after" 20 sh -c "test ! -e /run/netns/cnvm-$H-$CP && test ! -e /run/netns/cnvm-$H-$WK"
expect_out "... and said so" "fencing myself" cat "$HLOG"
start_bridge
wait_for "after the fence: VMs started again" 30 sh -c "test -e /run/netns/cnvm-$H-$CP && test -e /run/netns/cnvm-$H-$WK"
wait_for "... and Running" 20 eq "Running" vmget "$CP" '{.status.phase}'

echo "e2e_host: $(( $(date +%s) - T0 )) s: fencing done"
# ---- a control plane of 3: etcd members in the VMs ----
MEMBERS="[{name: $E-cp-0, ip: 10.99.0.111}, {name: $E-cp-1, ip: 10.99.0.112}, {name: $E-cp-2, ip: 10.99.0.113}]"
for i in 0 1 2; do EP=10.99.0.111 MEMBERS="$MEMBERS" vm_yaml "$E-cp-$i" controlPlane "10.99.0.11$((i + 1))"; echo ---; done >"$WORK/etcd.yaml"
expect_ok "3 control-plane VMs with etcd members created" kb create -f "$WORK/etcd.yaml"
for i in 1 2 3; do
    wait_for "etcd control plane: server $i serves" 40 nl_exec "$LAN" curl -sfk "https://10.99.0.11$i:6443/readyz"
done
ke() {   # ke N kubectl-args...: against server N of the etcd control plane
    local n=$1; shift
    nl_exec "$LAN" "$K" --kubeconfig "$STORAGE/vms/$E-cp-0/server/kubeconfig" --server "https://10.99.0.11$n:6443" \
        --request-timeout=5s "$@"
}
expect_ok "etcd control plane: the VMs run etcd" test -s "$STORAGE/vms/$E-cp-0/etcd/member/snap/db"
# The first write waits for a fresh etcd cluster's first commits, which
# can exceed one request's 5 s on a loaded machine: retried (a create that
# timed out but landed shows as the object being there).
write1() { ke 1 create configmap shared --from-literal=k=v >/dev/null 2>&1 || ke 1 get configmap shared >/dev/null 2>&1; }
wait_for "a write through server 1" 60 write1
expect_eq "... is read through server 3 (one etcd cluster)" "v" ke 3 get configmap shared -o jsonpath='{.data.k}'
expect_eq "etcd has 3 members" 3 sh -c "nsenter --net=/run/netns/cnvm-$H-$E-cp-0 etcdctl --endpoints http://10.99.0.111:2379 member list | wc -l"
echo "e2e_host: $(( $(date +%s) - T0 )) s: etcd control plane done"

expect_fail "no sanitizer report from the node software in the VMs" "" \
    grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$STORAGE/vms/$CP/log/server.log" "$STORAGE/vms/$WK/log/agent.log"
# ---- deletion: stop, remove the disk, then the finalizer ----
kb delete virtualmachine "$CP" "$WK" "$E-cp-0" "$E-cp-1" "$E-cp-2" --wait=false >/dev/null
gone() { ! kb get virtualmachine "$1" >/dev/null 2>&1; }
both_gone() { gone "$CP" && gone "$WK" && gone "$E-cp-0" && gone "$E-cp-1" && gone "$E-cp-2"; }
wait_for "deleted VMs are gone (finalizer removed)" 30 both_gone
expect_ok "their disks are removed" test ! -e "$STORAGE/vms/$CP" -a ! -e "$STORAGE/vms/$WK" -a ! -e "$STORAGE/vms/$E-cp-1"
expect_ok "their network namespaces are removed" test ! -e "/run/netns/cnvm-$H-$CP" -a ! -e "/run/netns/cnvm-$H-$WK"
expect_ok "their cgroups are removed" test ! -e "/sys/fs/cgroup/cpu/cairn-host-$H/$CP" -a ! -e "/sys/fs/cgroup/memory/cairn-host-$H/$WK"
expect_eq "no veth left on vmswitch but the uplink" "up0" sh -c "ip -n $HNS -o link show master vmswitch | awk -F': ' '{print \$2}' | sed 's/@.*//'"
expect_ok "no VM init left" sh -c "! kill -0 $CP_INIT 2>/dev/null"

kill -TERM "$HOST_PID"; HRC=0; wait "$HOST_PID" 2>/dev/null || HRC=$?; HOST_PID=
expect_eq "the host agent exits cleanly on SIGTERM" 0 echo "$HRC"
expect_fail "no sanitizer report from the host agent or VM inits" "" \
    grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$HLOG"
echo "e2e_host: $(( $(date +%s) - T0 )) s"
finish
