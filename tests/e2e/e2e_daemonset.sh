#!/bin/bash
# DaemonSets through the real kubectl, on simulated nodes placed by the
# scheduler: one pod per node, a new node gets one, tainted and unselected
# nodes get none, the automatic tolerations and the node pinning affinity,
# a rolling update within maxUnavailable that `kubectl rollout status`
# follows, history and undo, OnDelete.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/batch_lib.sh"
start_server
start_agent 3
wait_for "three simulated nodes are Ready" 30 nodes_ready 3

ds() {   # ds NAME IMAGE [extra pod spec yaml, indented 6]
    k apply -f - <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: c, image: $2}]
${3:-}
EOF
}
nodes_of() { k get pods -l "app=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | xargs; }
running() { k get pods -l "app=$1" --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l; }

# --- one pod per node ---
expect_ok "create a DaemonSet" ds agent nginx:1
expect_ok "kubectl rollout status ds finishes" k rollout status ds/agent --timeout=60s
expect_eq "one pod on each node" "sim-0000 sim-0001 sim-0002" nodes_of agent
expect_eq "status: desired current ready available updated" "3 3 3 3 3 0" \
    jp ds/agent '{.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.numberAvailable} {.status.updatedNumberScheduled} {.status.numberMisscheduled}'
expect_eq "observedGeneration follows" "$(jp ds/agent '{.metadata.generation}')" jp ds/agent '{.status.observedGeneration}'
pod=$(k get pods -l app=agent -o jsonpath='{.items[0].metadata.name}')
expect_eq "the pod is pinned by a metadata.name node affinity" "metadata.name In" \
    jp "pod/$pod" '{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key} {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].operator}'
expect_eq "it has the automatic tolerations" \
    "node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule " \
    jp "pod/$pod" '{range .spec.tolerations[*]}{.key}:{.effect} {end}'
expect_out "it carries controller-revision-hash and pod-template-generation" '^[a-z0-9]+ 1$' \
    jp "pod/$pod" '{.metadata.labels.controller-revision-hash} {.metadata.labels.pod-template-generation}'
expect_out "kubectl get ds" 'agent +3 +3 +3 +3 +3' k get ds agent

# --- a new node gets a pod; a tainted one does not ---
start_agent 1 --node-prefix extra- 
wait_for "a fourth node is Ready" 30 nodes_ready 4
wait_for "the new node gets a daemon pod" 30 eq "extra-0000 sim-0000 sim-0001 sim-0002" nodes_of agent
start_agent 1 --node-prefix tainted- --taint dedicated=infra:NoSchedule
wait_for "a tainted fifth node is Ready" 30 nodes_ready 5
wait_for "desired stays 4 (the taint is not tolerated)" 20 eq "4 4" \
    jp ds/agent '{.status.desiredNumberScheduled} {.status.currentNumberScheduled}'
expect_eq "no pod on the tainted node" "extra-0000 sim-0000 sim-0001 sim-0002" nodes_of agent
expect_ok "a DaemonSet tolerating the taint" ds tol nginx \
    '      tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]'
wait_for "it runs on all five nodes" 30 eq "5" running tol

# --- nodeSelector ---
start_agent 1 --node-prefix edge- --label role=edge
wait_for "an edge node is Ready" 30 nodes_ready 6
expect_ok "a DaemonSet for role=edge nodes" ds edge nginx '      nodeSelector: {role: edge}'
wait_for "it runs only on the edge node" 30 eq "edge-0000" nodes_of edge
expect_eq "desired 1" "1" jp ds/edge '{.status.desiredNumberScheduled}'
expect_ok "delete the selective DaemonSets" k delete ds edge tol
wait_for "their pods go (garbage collector)" 30 eq "0" bash -c "$K get pods -l 'app in (edge,tol)' --no-headers 2>/dev/null | wc -l"

# --- rolling update ---
expect_ok "set a new image" k set image ds/agent c=nginx:2
max_unavail=0
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -le "$end" ]; do
    u=$(jp ds/agent '{.status.numberUnavailable}'); u=${u:-0}
    [ "$u" -gt "$max_unavail" ] && max_unavail=$u
    [ "$(jp ds/agent '{.status.updatedNumberScheduled}/{.status.numberAvailable}')" = "5/5" ] && break
    sleep 0.1
done
expect_ok "kubectl rollout status ds follows it to the end" k rollout status ds/agent --timeout=60s
if [ "$max_unavail" -le 1 ]; then pass "at most maxUnavailable=1 node without an available pod (saw $max_unavail)"
else fail "at most maxUnavailable=1 node without an available pod (saw $max_unavail)"; fi
expect_eq "every pod (five: the edge node has one too) runs nginx:2" "nginx:2 nginx:2 nginx:2 nginx:2 nginx:2" bash -c \
    "$K get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}' | xargs"
expect_out "kubectl rollout history ds lists two revisions" '^1 .*
2 ' bash -c "$K rollout history ds/agent | grep -E '^[0-9]'"
expect_eq "two ControllerRevisions owned by the DaemonSet" "2" bash -c \
    "$K get controllerrevisions -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}{\"\\n\"}{end}' | grep -c '^agent$'"
expect_ok "kubectl rollout undo ds" k rollout undo ds/agent
expect_ok "the undo rolls out" k rollout status ds/agent --timeout=60s
expect_eq "every pod runs nginx:1 again" "nginx:1 nginx:1 nginx:1 nginx:1 nginx:1" bash -c \
    "$K get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}' | xargs"
expect_out "history: revision 1 became 3" '^2 .*
3 ' bash -c "$K rollout history ds/agent | grep -E '^[0-9]'"

# --- OnDelete ---
expect_ok "switch to OnDelete and change the image" k patch ds agent --type=merge \
    -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"template":{"spec":{"containers":[{"name":"c","image":"nginx:3"}]}}}}'
wait_for "the change is observed" 20 eq "$(jp ds/agent '{.metadata.generation}')" jp ds/agent '{.status.observedGeneration}'
expect_eq "no pod is replaced" "0" jp ds/agent '{.status.updatedNumberScheduled}'
victim=$(k get pods -l app=agent -o jsonpath='{.items[0].metadata.name}')
expect_ok "delete one pod by hand" k delete pod "$victim" --wait=false
wait_for "its replacement runs the new image" 30 eq "1" jp ds/agent '{.status.updatedNumberScheduled}'

finish
