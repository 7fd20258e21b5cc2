#!/bin/bash
# `kubectl drain` on simulated nodes (cairn agent --simulate), the whole
# chain: a Deployment of 4 spread over 3 nodes by the scheduler, a PDB
# maxUnavailable=1; draining the busiest node evicts its pods one at a time
# (each eviction waits, on 429, for the replacement the ReplicaSet makes on
# another node to become Ready), so at every observed moment at least 3
# pods are Ready; the drain completes, the node is empty and cordoned, and
# the Deployment is whole again. Deleting the Deployment then removes its
# ReplicaSet and pods (garbage collector).
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server
AGENT_PID=
e2e_extra_cleanup() { [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null; }
"$CAIRN" agent --simulate --nodes 3 --kubeconfig "$KUBECONFIG" --ready-delay 300ms >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!

ready_pods() {
    k get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{","}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c '^,True$'
}
busiest() {
    k get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | sort -rn | awk 'NR==1{print $2}'
}

wait_for "the controllers are running" 90 k get serviceaccount default
wait_for "3 simulated nodes are Ready" 30 bash -c "[ \"\$($K get nodes --no-headers 2>/dev/null | grep -c ' Ready')\" = 3 ]"
expect_ok "a Deployment of 4" k create deployment web --image=registry.k8s.io/pause:3.9 --replicas=4
expect_ok "a PDB maxUnavailable=1" k create pdb web --selector=app=web --max-unavailable=1
wait_for "4 pods Ready" 60 bash -c "$(declare -f ready_pods k); K=$K; [ \"\$(ready_pods)\" = 4 ]"
wait_for "the PDB allows 1 disruption" 30 bash -c "[ \"\$($K get pdb web -o jsonpath='{.status.disruptionsAllowed}')\" = 1 ]"
expect_eq "...expecting the Deployment's 4 replicas" "4" k get pdb web -o jsonpath='{.status.expectedPods}'
NODE=$(busiest)
ON=$(k get pods -l app=web --field-selector spec.nodeName="$NODE" -o name | wc -l)
echo "     draining $NODE, which holds $ON of the 4 pods"
"$K" drain "$NODE" --ignore-daemonsets --timeout=120s >"$WORK/drain.out" 2>&1 &
DRAIN=$!
MIN=4
while kill -0 $DRAIN 2>/dev/null; do
    n=$(ready_pods)
    [ "$n" -lt "$MIN" ] && MIN=$n
    sleep 0.2
done
rc=0
wait $DRAIN || rc=$?
expect_eq "drain completes" "0" echo $rc
expect_out "...node drained" "node/$NODE drained" cat "$WORK/drain.out"
if [ "$ON" -gt 1 ]; then
    expect_out "...after being held by the PDB" "disruption budget" cat "$WORK/drain.out"
fi
expect_ok "at every observed moment at least 3 pods were Ready (min $MIN)" test "$MIN" -ge 3
expect_eq "no pod is left on $NODE" "0" bash -c "$K get pods -l app=web --field-selector spec.nodeName=$NODE -o name | wc -l"
expect_eq "$NODE is cordoned" "true" k get node "$NODE" -o jsonpath='{.spec.unschedulable}'
wait_for "the Deployment is whole again (4 Ready)" 60 bash -c "$(declare -f ready_pods k); K=$K; [ \"\$(ready_pods)\" = 4 ]"
expect_ok "kubectl uncordon" k uncordon "$NODE"

expect_ok "delete the Deployment" k delete deployment web
wait_for "its ReplicaSet is collected" 30 bash -c "[ -z \"\$($K get rs -l app=web -o name)\" ]"
wait_for "its pods are collected" 30 bash -c "[ -z \"\$($K get pods -l app=web -o name)\" ]"

expect_ok "a Deployment of 3 to delete in the foreground" k create deployment fg --image=registry.k8s.io/pause:3.9 --replicas=3
wait_for "...its pods run" 60 bash -c "[ \"\$($K get pods -l app=fg -o name | wc -l)\" = 3 ]"
expect_ok "kubectl delete --cascade=foreground returns once all is gone" timeout 60 "$K" delete deployment fg --cascade=foreground
expect_eq "...no ReplicaSet is left" "" k get rs -l app=fg -o name
expect_eq "...no pod is left" "" k get pods -l app=fg -o name

finish
