#!/bin/bash
# The fleet CLI against the real `cairn bridge` (no host runs VMs here: the
# test marks Hosts Ready and plays a host's part of removing a deleted VM's
# finalizer, as e2e_bridge.sh does). Checks what only the bridge gives:
# `cairn apply` of a whole fleet with the admission's defaults counted as
# unchanged, admission refusals printed as "error: <exact message>" with
# exit 1, --validate as a server dry run, the real controller's progress
# followed to its end (an operation that times out ends the command with
# exit 1 and its message), ip-plan against the fleet the bridge holds,
# get-credentials of the Secret the bridge made, delete waiting until the
# cluster is gone, and a wait that goes on across a bridge restart.
. "$(dirname "$0")/lib.sh"
DATA=$WORK/bridge
export KUBECONFIG=$DATA/kubeconfig
BG=()
e2e_extra_cleanup() { for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; }
# Every CLI run's stderr is also kept: a sanitizer report fails the suite
# even where the test expects the command to fail.
C() { "$CAIRN" "$@" --kubeconfig "$KUBECONFIG" 2> >(tee -a "$WORK/cli.err" >&2); }
cli_sanitizer_check() {
    if grep -q "Sanitizer\|runtime error:" "$WORK/cli.err" 2>/dev/null; then
        fail "sanitizer report from the CLI"; grep -A20 "Sanitizer\|runtime error:" "$WORK/cli.err" | head -40
    else pass "no sanitizer report from the CLI"; fi
}
jp() { kubectl get "$1" "$2" -o "jsonpath=$3" 2>&1; }
bg() {
    local n=$1; shift
    ( "$@" >"$WORK/$n.out" 2>"$WORK/$n.err"; echo $? >"$WORK/$n.rc" ) &
    BG+=($!)
}
bg_done() { [ -s "$WORK/$1.rc" ]; }

CAIRN_SERVER_CMD=bridge start_server --no-fsync --operation-timeout 6s

# --- the fleet from one file ---
cat >"$WORK/fleet.yaml" <<'Y'
apiVersion: fleet.cairn.io/v1
kind: Cluster
metadata: {name: web}
spec:
  logicalNetwork: lnet1
  controlPlane: {count: 3}
  nodePools: [{name: np1, count: 2, labels: {team: web}}]
  networking: {loadBalancerPools: [{start: 172.31.0.60, end: 172.31.0.69}]}
---
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: lnet1}
spec:
  addressPrefix: 172.31.0.0/24
  gateway: 172.31.0.1
  dnsServers: [172.31.0.1]
  vmSwitchName: vmswitch
  ipPools: [{name: vms, start: 172.31.0.100, end: 172.31.0.119}]
---
apiVersion: fleet.cairn.io/v1
kind: Host
metadata: {name: h1}
spec: {address: 10.0.0.1, capacity: {cpu: 32, memory: 128Gi, storage: 1Ti, gpus: 0}}
---
apiVersion: fleet.cairn.io/v1
kind: Host
metadata: {name: h2}
spec: {address: 10.0.0.2, capacity: {cpu: 32, memory: 128Gi, storage: 1Ti, gpus: 0}}
---
apiVersion: fleet.cairn.io/v1
kind: Host
metadata: {name: h3}
spec: {address: 10.0.0.3, capacity: {cpu: 32, memory: 128Gi, storage: 1Ti, gpus: 0}}
Y
# The infrastructure first (the hosts then marked Ready, as `cairn host`
# would make them), then the whole file.
sed -n '/^kind: LogicalNetwork/,$p' "$WORK/fleet.yaml" | sed '1i apiVersion: fleet.cairn.io/v1' >"$WORK/infra.yaml"
expect_eq "apply the infrastructure: network first, then hosts" \
    "logicalnetwork.fleet.cairn.io/lnet1 created host.fleet.cairn.io/h1 created host.fleet.cairn.io/h2 created host.fleet.cairn.io/h3 created" \
    bash -c "$CAIRN apply -f $WORK/infra.yaml --kubeconfig $KUBECONFIG | tr '\n' ' ' | sed 's/ \$//'"
for h in h1 h2 h3; do
    kubectl patch host "$h" --subresource=status --type=merge -p '{"status":{"phase":"Ready"}}' >/dev/null
done
expect_eq "apply again creates the cluster, the rest unchanged" \
    "logicalnetwork.fleet.cairn.io/lnet1 unchanged host.fleet.cairn.io/h1 unchanged host.fleet.cairn.io/h2 unchanged host.fleet.cairn.io/h3 unchanged cluster.fleet.cairn.io/web created" \
    bash -c "$CAIRN apply -f $WORK/fleet.yaml --kubeconfig $KUBECONFIG | tr '\n' ' ' | sed 's/ \$//'"
expect_eq "the bridge filled its defaults" "Standard_A4_v2 Linux" jp cluster web '{.spec.nodePools[0].vmSize} {.spec.nodePools[0].osType}'
# The file leaves vmSize, osType, version, CIDRs to their defaults: that is
# no change (and a change now would be refused: an operation runs).
expect_out "apply once more: unchanged despite the defaults" "cluster.fleet.cairn.io/web unchanged" \
    C apply -f "$WORK/fleet.yaml"
expect_out "fleet status shows the hosts and the cluster" "web .*lnet1" C fleet status

# --- admission refusals through the CLI ---
expect_fail "control-plane count 2 is refused with the bridge's message" "^error: spec.controlPlane.count: must be 1, 3 or 5$" \
    C cluster create bad1 --lnet lnet1 --control-plane-count 2 --validate
expect_fail "an exhausted pool is refused with the shortfall" '^error: .*short' \
    C cluster create bad2 --lnet lnet1 --control-plane-count 5 --node-count 20 --validate
expect_fail "a service CIDR over the node network" '^error: .*service CIDR 172.31.0.0/16 overlaps the address prefix 172.31.0.0/24' \
    C cluster create bad3 --lnet lnet1 --service-cidr 172.31.0.0/16 --no-wait
expect_fail "nothing left by the refusals" "NotFound|not found" kubectl get cluster bad1 bad2 bad3
expect_out "--validate of a good cluster" "ok1 is valid" C cluster create ok1 --lnet lnet1 --node-count 1 --validate
expect_fail "... stored nothing" "NotFound|not found" kubectl get cluster ok1
expect_out "ip-plan counts what web holds" "vms +172.31.0.100 +172.31.0.119 +20 +7 +2 +1 +1 +9" \
    C fleet ip-plan c2 --lnet lnet1 --node-count 1
expect_fail "ip-plan of a cluster that no longer fits: the admission's message" '^error: .*short' \
    C fleet ip-plan c2 --lnet lnet1 --node-count 12

# --- following the real controller: web times out (no host runs its VMs) ---
expect_out "the operation is the create" "Operation +web-create-1" C cluster show web
bg applyw C apply -f "$WORK/fleet.yaml" --wait
wait_for "apply --wait ends when the operation does" 40 bg_done applyw
expect_eq "... with exit 1 (the operation failed)" 1 cat "$WORK/applyw.rc"
expect_out "... printing the controller's progress" "Provisioning: [0-9]+/5 nodes Ready" cat "$WORK/applyw.err"
expect_out "... and its failure message" 'error: cluster "web": timed out after 6s' cat "$WORK/applyw.err"
expect_out "list shows it Failed" "web .*Failed" C cluster list

# --- credentials from the bridge's Secret ---
EP=$(jp cluster web '{.status.controlPlaneEndpoint}')
expect_ok "get-credentials" C cluster get-credentials web --file "$WORK/web.kubeconfig"
expect_out "... a kubeconfig for https://ENDPOINT:6443" "server: \"?https://$EP:6443" cat "$WORK/web.kubeconfig"

# --- a change the controller carries out: scale down (no drain: never ran) ---
bg scale C cluster scale web --node-count 1 --timeout 60
wait_for "scale: the surplus VM is being deleted" 20 bash -c '[ -n "$(kubectl get vm web-np1-1 -o jsonpath={.metadata.deletionTimestamp} 2>/dev/null)" ]'
kubectl patch vm web-np1-1 --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_for "scale ends" 40 bg_done scale
expect_out "scale followed the new operation (not the old failure)" "\] (Accepted|Provisioning|Updating|Failed: timed out after 6s: 0/4)" cat "$WORK/scale.err"
expect_eq "... which also times out here: exit 1" 1 cat "$WORK/scale.rc"
expect_eq "the pool has one node" 1 jp cluster web '{.spec.nodePools[0].count}'

# --- delete waits until the cluster is gone ---
bg del C cluster delete web --yes
wait_for "delete: the cluster is Deleting" 20 bash -c '[ "$(kubectl get cluster web -o jsonpath={.status.provisioningState})" = Deleting ]'
wait_for "delete: its VMs are being deleted" 20 bash -c '[ -z "$(kubectl get vm -l fleet.cairn.io/cluster=web -o jsonpath="{.items[?(!@.metadata.deletionTimestamp)].metadata.name}")" ]'
for v in $(kubectl get vm -l fleet.cairn.io/cluster=web -o name); do
    kubectl patch "$v" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
done
wait_for "delete ends" 40 bg_done del
expect_eq "... with exit 0" 0 cat "$WORK/del.rc"
expect_out "... saying deleted" "cluster.fleet.cairn.io/web deleted" cat "$WORK/del.out"
expect_out "... with the Deleting progress" "Deleting" cat "$WORK/del.err"
expect_fail "the cluster is gone" "NotFound|not found" kubectl get cluster web
expect_out "lnet delete now works" "logicalnetwork.fleet.cairn.io/lnet1 deleted" C fleet lnet delete lnet1 --yes

# --- docs/fleet.yaml: AKS Arc's worked example of IP planning ---
expect_eq "apply docs/fleet.yaml" \
    "logicalnetwork.fleet.cairn.io/lnet1 created host.fleet.cairn.io/h1 configured host.fleet.cairn.io/h2 configured host.fleet.cairn.io/h3 configured cluster.fleet.cairn.io/web created cluster.fleet.cairn.io/db created" \
    bash -c "$CAIRN apply -f $E2E_DIR/../../docs/fleet.yaml --kubeconfig $KUBECONFIG | tr '\n' ' ' | sed 's/ \$//'"
expect_out "a third 1+1 cluster still fits: the pool's last 4 IPs" "vms +10.220.32.18 +10.220.32.37 +20 +16 +2 +1 +1 +0" \
    C fleet ip-plan c3 --lnet lnet1 --node-count 1
expect_fail "a 1+2 does not: 1 short" "^error: .*\(1 short\)" C fleet ip-plan c3 --lnet lnet1 --node-count 2
# --- the bridge restarting while the CLI waits: it reads again and follows on ---
bg restart C cluster create r1 --lnet lnet1 --node-count 1 --timeout 120
wait_for "r1's create shows progress" 20 grep -q "Provisioning" "$WORK/restart.err"
OLD_PORT=$PORT
stop_server
CAIRN_SERVER_CMD=bridge start_server --no-fsync --operation-timeout 6s --listen "127.0.0.1:$OLD_PORT"
expect_eq "the bridge is back on its port" "$OLD_PORT" echo "$PORT"
wait_for "the waiting create ends after the restart" 60 bg_done restart
expect_eq "... with the operation's answer (exit 1: no host runs VMs here)" 1 cat "$WORK/restart.rc"
expect_out "... its message" 'error: cluster "r1": timed out after 6s' cat "$WORK/restart.err"
cli_sanitizer_check
finish
