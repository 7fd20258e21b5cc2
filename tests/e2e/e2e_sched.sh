#!/bin/bash
# The scheduler through the real kubectl, on plain Node objects (no kubelet:
# nodes are created over the API and their status patched Ready with
# allocatable resources). Resources fit or give "Insufficient cpu";
# nodeSelector; taints and tolerations; required anti-affinity puts replicas
# on distinct nodes and leaves the extra one Pending with upstream's reason
# in `kubectl describe` and the events; topology spread by zone holds; an
# unschedulable pod is scheduled once a node that fits appears; a
# high-priority pod preempts a low-priority one.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
# plain Node objects have no kubelet renewing a Lease: keep the node
# lifecycle controller from marking them unreachable during the test
start_server --node-monitor-grace-period 3600

# mknode NAME ZONE CPU [extra labels as ,"k":"v"...] -- a Ready node
mknode() {
    local n=$1 zone=$2 cpu=$3 extra=${4:-}
    api POST /api/v1/nodes -H 'Content-Type: application/json' -d "{\"apiVersion\":\"v1\",\"kind\":\"Node\",
        \"metadata\":{\"name\":\"$n\",\"labels\":{\"kubernetes.io/hostname\":\"$n\",
        \"topology.kubernetes.io/zone\":\"$zone\"$extra}}}" >/dev/null
    api PATCH "/api/v1/nodes/$n/status" -H 'Content-Type: application/merge-patch+json' -d "{\"status\":{
        \"capacity\":{\"cpu\":\"$cpu\",\"memory\":\"8Gi\",\"pods\":\"110\",\"nvidia.com/gpu\":\"1\"},
        \"allocatable\":{\"cpu\":\"$cpu\",\"memory\":\"8Gi\",\"pods\":\"110\",\"nvidia.com/gpu\":\"1\"},
        \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",
        \"lastHeartbeatTime\":\"2026-01-01T00:00:00Z\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}" >/dev/null
}

# pod NAME [spec fragment after containers] [labels json] -- a bare pod
pod() {
    local n=$1 extra=${2:-} labels=${3:-'{}'}
    k apply -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$n","labels":$labels},
 "spec":{"terminationGracePeriodSeconds":0,"containers":[{"name":"c","image":"pause"$CRES}]$extra}}
EOF
}
CRES=
node_of() { k get pod "$1" -o jsonpath='{.spec.nodeName}'; }
bound() { [ -n "$(node_of "$1")" ]; }
unschedulable() { k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}' | grep -q Unschedulable; }
sched_msg() { k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}'; }

mknode n1 zone-a 2 ',"disk":"hdd"'
mknode n2 zone-b 2 ',"disk":"ssd"'
mknode n3 zone-c 2 ',"disk":"hdd"'
expect_out "three Ready nodes" "n3 +Ready" k get nodes

# --- resources ---
CRES=',"resources":{"requests":{"cpu":"1500m","memory":"1Gi"}}'
pod fit
wait_for "a pod that fits is bound to a node" 20 bound fit
expect_out "the Scheduled event names the node" "Successfully assigned default/fit to n[123]" \
    k get events --field-selector involvedObject.name=fit
CRES=',"resources":{"requests":{"cpu":"3"}}'
pod big
wait_for "a pod too big for every node gets PodScheduled=False Unschedulable" 20 unschedulable big
expect_eq "it stays Pending" "Pending" k get pod big -o jsonpath='{.status.phase}'
expect_out "the condition says why, as upstream" \
    '^0/3 nodes are available: 3 Insufficient cpu\. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod\.$' \
    sched_msg big
expect_out "a FailedScheduling warning event with the same words" \
    "Warning +FailedScheduling +pod/big +0/3 nodes are available: 3 Insufficient cpu" k get events
CRES=',"resources":{"requests":{"nvidia.com/gpu":"2"},"limits":{"nvidia.com/gpu":"2"}}'
pod gpu
wait_for "extended resources are counted" 20 unschedulable gpu
expect_out "Insufficient nvidia.com/gpu" "3 Insufficient nvidia.com/gpu" sched_msg gpu
k delete pod gpu --wait=false >/dev/null
CRES=

# --- nodeSelector ---
pod ssd ',"nodeSelector":{"disk":"ssd"}'
wait_for "a nodeSelector pod is bound" 20 bound ssd
expect_eq "to the only node with the label" "n2" node_of ssd
pod nvme ',"nodeSelector":{"disk":"nvme"}'
wait_for "a nodeSelector no node has leaves it Pending" 20 unschedulable nvme
expect_out "with the node affinity reason" "0/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity/selector\." sched_msg nvme
pod aff ',"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"NotIn","values":["zone-a","zone-b"]}]}]}}}'
wait_for "required node affinity (NotIn) is honoured" 20 bound aff
expect_eq "it lands in the only other zone" "n3" node_of aff

# --- taints and tolerations ---
expect_ok "taint n3" k taint nodes n3 dedicated=gpu:NoSchedule
pod notol ',"nodeSelector":{"disk":"hdd"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n3"]}]}]}}}'
wait_for "a pod pinned to the tainted node without a toleration is not scheduled" 20 unschedulable notol
expect_out "the taint is named" "1 node\(s\) had untolerated taint \{dedicated: gpu\}, 2 node\(s\) didn't match Pod's node affinity/selector" sched_msg notol
pod tol ',"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n3"]}]}]}}},"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]'
wait_for "the same pod with a toleration is bound" 20 bound tol
expect_eq "to the tainted node" "n3" node_of tol
expect_ok "remove the taint" k taint nodes n3 dedicated-
wait_for "the untolerating pod is scheduled once the taint is gone (retry on node change)" 20 bound notol
k delete pod notol tol nvme aff ssd --wait=false >/dev/null

# --- anti-affinity ---
ANTI=',"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"kubernetes.io/hostname"}]}}'
for i in 1 2 3 4; do pod "web-$i" "$ANTI" '{"app":"web"}'; done
wait_for "three anti-affine replicas are bound" 30 bash -c "[ \$($K get pods -l app=web -o jsonpath='{.items[*].spec.nodeName}' | wc -w) -eq 3 ]"
expect_eq "on three distinct nodes" "3" bash -c "$K get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\n\"}{end}' | grep . | sort -u | wc -l"
pending_web() { k get pods -l app=web --field-selector spec.nodeName= -o jsonpath='{.items[*].metadata.name}'; }
wait_for "the fourth stays Pending and Unschedulable" 20 bash -c "p=\$($K get pods -l app=web --field-selector spec.nodeName= -o name | head -1); [ -n \"\$p\" ] && $K get \$p -o jsonpath='{.status.conditions[0].reason}' | grep -q Unschedulable"
P4=$(pending_web)
expect_out "kubectl describe shows the precise reason" \
    "Warning +FailedScheduling .*0/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\." k describe pod "$P4"
expect_out "and kubectl get events too" "FailedScheduling +pod/$P4 +0/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules" k get events
# the same rule seen from the other side: a pod labelled app=web without
# any affinity of its own must avoid the replicas' nodes
pod webby '' '{"app":"web"}'
wait_for "a plain pod matching the replicas' anti-affinity is not scheduled" 20 unschedulable webby
expect_out "existing pods' anti-affinity is the reason" "3 node\(s\) didn't satisfy existing pods anti-affinity rules" sched_msg webby
k delete pod -l app=web --wait=false >/dev/null

# --- topology spread ---
SPREAD=',"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"spread"}}}]'
for i in 1 2 3 4 5 6; do pod "spread-$i" "$SPREAD" '{"app":"spread"}'; done
wait_for "six spread pods are bound" 30 bash -c "[ \$($K get pods -l app=spread -o jsonpath='{.items[*].spec.nodeName}' | wc -w) -eq 6 ]"
expect_eq "two per zone" "2 n1 2 n2 2 n3" bash -c "$K get pods -l app=spread -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\n\"}{end}' | sort | uniq -c | xargs"
expect_ok "cordon n1 and n2" k cordon n1 n2
pod spread-7 "$SPREAD" '{"app":"spread"}'
wait_for "a seventh goes to zone-c (skew 1 is allowed)" 20 bound spread-7
expect_eq "on n3" "n3" node_of spread-7
pod spread-8 "$SPREAD" '{"app":"spread"}'
wait_for "an eighth that could only go to zone-c (skew 2) stays Pending" 20 unschedulable spread-8
expect_out "with the spread and unschedulable reasons" \
    "0/3 nodes are available: 1 node\(s\) didn't match pod topology spread constraints, 2 node\(s\) were unschedulable\." sched_msg spread-8
expect_ok "uncordon" k uncordon n1 n2
wait_for "it is scheduled after the nodes come back" 20 bound spread-8
expect_out "not in zone-c" "^n[12]$" node_of spread-8
k delete pod -l app=spread --wait=false >/dev/null

# --- a new node makes room ---
mknode n5 zone-a 8
wait_for "the big pod is scheduled once a node that fits appears" 20 bound big
expect_eq "on the new node" "n5" node_of big

# --- priority and preemption ---
expect_ok "a PriorityClass" k create priorityclass high --value=1000
mknode n4 zone-d 1 ',"role":"prio"'
CRES=',"resources":{"requests":{"cpu":"800m"}}'
pod low ',"nodeSelector":{"role":"prio"}'
wait_for "a low-priority pod fills the small node" 20 bound low
pod high ',"nodeSelector":{"role":"prio"},"priorityClassName":"high"'
expect_eq "the high-priority pod got the class's priority" "1000" k get pod high -o jsonpath='{.spec.priority}'
wait_for "the low-priority pod is preempted (deleted)" 30 bash -c "! $K get pod low >/dev/null 2>&1"
wait_for "the high-priority pod is bound" 30 bound high
expect_eq "to the node it preempted" "n4" node_of high
expect_out "the victim got a Preempted event" "Preempted +pod/low +Preempted by pod" k get events
CRES=

# --- simulated nodes (cairn agent --simulate): anti-affinity by physical host ---
AGENT_PID=
e2e_extra_cleanup() { [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null; }
"$CAIRN" agent --simulate --nodes 4 --hosts 2 --node-prefix sim- --label pool=sim --ready-delay 0s \
    --kubeconfig "$KUBECONFIG" >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
wait_for "four simulated nodes are Ready" 30 bash -c "[ \$($K get nodes -l pool=sim --no-headers 2>/dev/null | grep -c ' Ready') -eq 4 ]"
HOSTANTI=',"nodeSelector":{"pool":"sim"},"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"cairn.io/host"}]}}'
for i in 1 2 3; do pod "db-$i" "$HOSTANTI" '{"app":"db"}'; done
wait_for "two replicas run, one per physical host" 30 bash -c "[ \$($K get pods -l app=db --no-headers | grep -c Running) -eq 2 ]"
expect_eq "on two distinct cairn.io/host values" "2" bash -c "for n in \$($K get pods -l app=db -o jsonpath='{.items[*].spec.nodeName}'); do $K get node \$n -o jsonpath='{.metadata.labels.cairn\.io/host}{\"\\n\"}'; done | sort -u | wc -l"
wait_for "the third is Unschedulable" 20 bash -c "$K get pods -l app=db -o jsonpath='{.items[*].status.conditions[*].reason}' | grep -q Unschedulable"
expect_out "because of the anti-affinity on cairn.io/host" "4 node\(s\) didn't match pod anti-affinity rules" k get events

finish
