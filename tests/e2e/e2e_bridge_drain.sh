#!/bin/bash
# bridge/drain.c (cn_bridge_drain, cn_bridge_uncordon: what the bridge does
# to a worker node before scale-down, upgrade or host maintenance) against
# a real cairn server with simulated nodes, through tests/tools'
# cairn-bridge-drain. A Deployment of 4 under a PDB maxUnavailable=1, a
# DaemonSet, a bare pod with an emptyDir and a mirror pod; draining the
# busiest node cordons it, evicts the Deployment's and the bare pod (the PDB
# answers 429 until the replacement is Ready elsewhere), leaves the
# DaemonSet's and the mirror pod, and waits until the evicted ones are
# gone. A PDB that never allows a disruption makes the drain time out with
# a message naming the pod and the budget; unknown nodes are refused.
. "$(dirname "$0")/lib.sh"
TOOL=$(dirname "$CAIRN")/cairn-bridge-drain
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server
AGENT_PID=
e2e_extra_cleanup() { [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null; }
"$CAIRN" agent --simulate --nodes 3 --kubeconfig "$KUBECONFIG" --ready-delay 300ms >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!

ready() {
    k get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{","}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c '^,True$'
}
on_node() { k get pods -A --field-selector "spec.nodeName=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
busiest() {
    k get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | sort -rn | awk 'NR==1{print $2}'
}

wait_for "the controllers are running" 90 k get serviceaccount default
wait_for "3 simulated nodes are Ready" 30 bash -c "[ \"\$($K get nodes --no-headers 2>/dev/null | grep -c ' Ready')\" = 3 ]"
expect_ok "a Deployment of 4" k create deployment web --image=registry.k8s.io/pause:3.9 --replicas=4
expect_ok "a PDB maxUnavailable=1" k create pdb web --selector=app=web --max-unavailable=1
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
YAML
wait_for "4 web pods Ready" 60 bash -c "$(declare -f ready k); K=$K; [ \"\$(ready web)\" = 4 ]"
wait_for "3 DaemonSet pods Ready" 60 bash -c "$(declare -f ready k); K=$K; [ \"\$(ready agent)\" = 3 ]"
wait_for "the PDB allows 1 disruption" 30 bash -c "[ \"\$($K get pdb web -o jsonpath='{.status.disruptionsAllowed}')\" = 1 ]"
NODE=$(busiest)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: bare, labels: {app: bare}}
spec:
  nodeName: $NODE
  containers: [{name: c, image: registry.k8s.io/pause:3.9, volumeMounts: [{name: scratch, mountPath: /scratch}]}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: static-$NODE
  annotations: {kubernetes.io/config.mirror: "mirror", kubernetes.io/config.source: "file"}
spec:
  nodeName: $NODE
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
YAML
expect_ok "a bare pod with an emptyDir is on $NODE" k get pod bare
MIRROR=0
k get pod "static-$NODE" >/dev/null 2>&1 && MIRROR=1
DSPOD=$(k get pods -l app=agent --field-selector "spec.nodeName=$NODE" -o jsonpath='{.items[0].metadata.uid}')
expect_out "a DaemonSet pod is on $NODE" "." echo "$DSPOD"
ON=$(k get pods -l app=web --field-selector spec.nodeName="$NODE" -o name | wc -l)
echo "     draining $NODE, which holds $ON of the 4 web pods"

"$TOOL" "$KUBECONFIG" drain "$NODE" 120 >"$WORK/drain.out" 2>&1
expect_eq "cn_bridge_drain completes" "0" echo $?
expect_out "...node drained" "node/$NODE drained" cat "$WORK/drain.out"
if [ "$ON" -gt 1 ]; then
    expect_out "...after being held by the PDB (429, retried)" "eviction refused, retrying: .*disruption budget" cat "$WORK/drain.out"
fi
expect_eq "$NODE is cordoned" "true" k get node "$NODE" -o jsonpath='{.spec.unschedulable}'
expect_eq "no web pod is left on $NODE" "0" bash -c "$K get pods -l app=web --field-selector spec.nodeName=$NODE -o name | wc -l"
expect_fail "the bare pod was evicted (--force, --delete-emptydir-data)" "NotFound|not found" k get pod bare
expect_eq "the DaemonSet pod stays (same uid)" "$DSPOD" \
    k get pods -l app=agent --field-selector "spec.nodeName=$NODE" -o jsonpath='{.items[0].metadata.uid}'
if [ "$MIRROR" = 1 ]; then
    expect_ok "the mirror pod stays" k get pod "static-$NODE"
    k delete pod "static-$NODE" --wait=false >/dev/null 2>&1
fi
wait_for "the Deployment is whole again, elsewhere (4 Ready)" 60 bash -c "$(declare -f ready k); K=$K; [ \"\$(ready web)\" = 4 ]"

expect_out "cn_bridge_uncordon" "node/$NODE uncordoned" "$TOOL" "$KUBECONFIG" uncordon "$NODE"
expect_out "$NODE is schedulable again" "^(false)?$" k get node "$NODE" -o jsonpath='{.spec.unschedulable}'

# --- a budget that never allows it: the drain times out, naming the pod ---
expect_ok "a Deployment of 1 under a PDB minAvailable=1" k create deployment stuck --image=registry.k8s.io/pause:3.9 --replicas=1
expect_ok "...its PDB" k create pdb stuck --selector=app=stuck --min-available=1
wait_for "the stuck pod is Ready" 60 bash -c "$(declare -f ready k); K=$K; [ \"\$(ready stuck)\" = 1 ]"
wait_for "...and its PDB observed" 30 bash -c "[ \"\$($K get pdb stuck -o jsonpath='{.status.currentHealthy}')\" = 1 ]"
SN=$(k get pods -l app=stuck -o jsonpath='{.items[0].spec.nodeName}')
SP=$(k get pods -l app=stuck -o jsonpath='{.items[0].metadata.name}')
expect_fail "draining $SN times out on the budget" "timeout: drain node $SN: .*default/$SP: .*disruption budget" \
    "$TOOL" "$KUBECONFIG" drain "$SN" 3
expect_eq "...the node stays cordoned" "true" k get node "$SN" -o jsonpath='{.spec.unschedulable}'
expect_ok "...the pod is still there" k get pod "$SP"
expect_ok "uncordon it" "$TOOL" "$KUBECONFIG" uncordon "$SN"

expect_fail "draining an unknown node is refused" "notfound: .*nosuch" "$TOOL" "$KUBECONFIG" drain nosuch 5
expect_fail "uncordoning an unknown node is refused" "notfound: .*nosuch" "$TOOL" "$KUBECONFIG" uncordon nosuch
finish
