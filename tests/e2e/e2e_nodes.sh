#!/bin/bash
# Simulated nodes and the node lifecycle through the real kubectl: `cairn
# agent --simulate` registers Ready nodes with their labels and Leases and
# plays the kubelet (Running/Ready, deletion, scripted endings); a SIGKILLed
# agent's nodes become NotReady with the unreachable taints after the grace
# period, their pods are marked not ready and evicted after their
# tolerationSeconds; a restarted agent brings them back. With the scheduler
# and the Deployment controller present, a Deployment's pods on the dead
# nodes are replaced on the surviving agent's nodes.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
GRACE=4
start_server --node-monitor-grace-period ${GRACE}s

AGENTS=()
e2e_extra_cleanup() {
    for p in "${AGENTS[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
}
# start_agent NAME args... : runs in the background, pid in AGENT_PID.
start_agent() {
    local name=$1; shift
    "$CAIRN" agent --simulate --kubeconfig "$KUBECONFIG" --heartbeat 1s --ready-delay 200ms "$@" \
        >>"$WORK/agent-$name.log" 2>&1 &
    AGENT_PID=$!
    AGENTS+=("$AGENT_PID")
}
# Stops an agent cleanly (SIGTERM) and checks it exited 0.
stop_agent() {
    local pid=$1 rc=0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then pass "agent $pid stopped cleanly"; else fail "agent $pid exited with $rc"; fi
}

ready_count() {   # nodes whose Ready condition is True, among those matching $1
    k get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c "^$1.* True$"
}
node_ready_is() { [ "$(k get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = "$2" ]; }
has_taint() { k get node "$1" -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}' | grep -qx "$2"; }
pod_phase_is() { [ "$(k get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
pod_ready_is() { [ "$(k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = "$2" ]; }
pod_deleting() { [ -n "$(k get pod "$1" -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ]; }
pod_gone() { ! k get pod "$1" >/dev/null 2>&1; }

# --- the command line ---
expect_fail "simulation flags without --simulate are refused (exit 2)" "--nodes is a flag of simulated nodes: add --simulate" \
    "$CAIRN" agent --nodes 3 --kubeconfig "$KUBECONFIG"
"$CAIRN" agent --nodes 3 --kubeconfig "$KUBECONFIG" >/dev/null 2>&1
expect_eq "...with status 2" "2" echo $?
expect_fail "--simulate needs --nodes" "needs --nodes" "$CAIRN" agent --simulate --kubeconfig "$KUBECONFIG"
expect_fail "a bad duration is refused" "ready-delay: want a duration" \
    "$CAIRN" agent --simulate --nodes 1 --kubeconfig "$KUBECONFIG" --ready-delay 5parsecs
expect_fail "a bad taint is refused" "taint: want" \
    "$CAIRN" agent --simulate --nodes 1 --kubeconfig "$KUBECONFIG" --taint foo=bar
expect_out "--help names the simulation one" "SIMULATED nodes" "$CAIRN" agent --help
expect_fail "real-node flags with --simulate are refused" "--node-ip is a flag of real nodes" \
    "$CAIRN" agent --simulate --nodes 1 --kubeconfig "$KUBECONFIG" --node-ip 10.0.0.1

# --- registration ---
start_agent a --nodes 3 --node-prefix a- --zones 3 --hosts 1 --extended nvidia.com/gpu=4 --label tier=gold
A_PID=$AGENT_PID
start_agent b --nodes 2 --node-prefix b- --zones 2
B_PID=$AGENT_PID
wait_for "agent a's 3 nodes are Ready" 30 sh -c "[ \$($K get nodes -o name | grep -c node/a-) -eq 3 ] && [ \"\$($K get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c '^a-.* True\$')\" = 3 ]"
wait_for "agent b's 2 nodes are Ready" 30 sh -c "$K get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c '^b-.* True\$' | grep -qx 2"
expect_out "kubectl get nodes shows them Ready with the sim kubelet version" "a-0001 +Ready +<none> +[0-9a-z]+ +v1.32.0-cairn-sim" k get nodes
expect_out "zones round robin" "a-0002 +Ready.* zone-2" k get nodes -L topology.kubernetes.io/zone
expect_eq "labels: hostname, os, instance type, host, extra" "a-0000 linux simulated host-0 gold" \
    k get node a-0000 -o jsonpath='{.metadata.labels.kubernetes\.io/hostname} {.metadata.labels.kubernetes\.io/os} {.metadata.labels.node\.kubernetes\.io/instance-type} {.metadata.labels.cairn\.io/host} {.metadata.labels.tier}'
expect_eq "capacity with the extended resource" "32 256Gi 110 4" \
    k get node a-0000 -o jsonpath='{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods} {.status.capacity.nvidia\.com/gpu}'
expect_eq "addresses: a fake InternalIP and the hostname" "10.1.0.2 a-0001" \
    k get node a-0001 -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address} {.status.addresses[?(@.type=="Hostname")].address}'
expect_eq "one Lease per node in kube-node-lease, held by the node" "a-0000 a-0001 a-0002 b-0000 b-0001" \
    sh -c "$K get leases -n kube-node-lease -o jsonpath='{range .items[*]}{.spec.holderIdentity}{\"\\n\"}{end}' | sort | tr '\n' ' ' | sed 's/ \$//'"
r1=$(k get lease -n kube-node-lease a-0000 -o jsonpath='{.spec.renewTime}')
wait_for "the Lease is renewed every heartbeat" 10 sh -c "[ \"\$($K get lease -n kube-node-lease a-0000 -o jsonpath='{.spec.renewTime}')\" != '$r1' ]"

# --- the kubelet's part ---
cat >"$WORK/pods.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: a-0001
  containers: [{name: nginx, image: nginx:1.27}, {name: side, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: unbound}
spec:
  containers: [{name: c, image: busybox}]
  schedulerName: nobody
EOF
expect_ok "create a pod on a-0001 and an unbound one" k apply -f "$WORK/pods.yaml"
expect_ok "the bound pod becomes Ready" k wait --for=condition=Ready pod/web --timeout=30s
expect_eq "Running, with both containers ready and started" "Running true true true true" \
    k get pod web -o jsonpath='{.status.phase} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started} {.status.containerStatuses[1].ready} {.status.containerStatuses[1].started}'
expect_eq "hostIP is the node's, podIP from the node's pod CIDR" "10.1.0.2 10.42.1.2" \
    k get pod web -o jsonpath='{.status.hostIP} {.status.podIP}'
expect_out "containerID names the simulation" "^sim://[0-9a-f-]+/nginx$" \
    k get pod web -o jsonpath='{.status.containerStatuses[0].containerID}'
expect_eq "DefaultTolerationSeconds gave it 300 s tolerations for not-ready and unreachable" \
    "node.kubernetes.io/not-ready:300 node.kubernetes.io/unreachable:300 " \
    k get pod web -o jsonpath='{range .spec.tolerations[*]}{.key}:{.tolerationSeconds} {end}'
expect_ok "bind the unbound pod through pods/binding" \
    api POST /api/v1/namespaces/default/pods/unbound/binding -H Content-Type:application/json \
    -d '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"unbound"},"target":{"apiVersion":"v1","kind":"Node","name":"b-0000"}}'
expect_ok "it becomes Ready on b-0000" k wait --for=condition=Ready pod/unbound --timeout=30s
expect_eq "...with an IP of b-0000's pod CIDR" "10.42.0.2" k get pod unbound -o jsonpath='{.status.podIP}'
expect_ok "kubectl delete returns once the agent finished the pod" k delete pod unbound --timeout=30s
expect_fail "...and it is gone" "NotFound" k get pod unbound

cat >"$WORK/jobs.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ok, annotations: {sim.cairn.io/duration: "1s"}}
spec: {nodeName: b-0001, restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, annotations: {sim.cairn.io/duration: "1s", sim.cairn.io/exit-code: "3"}}
spec: {nodeName: b-0001, restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: flaky, annotations: {sim.cairn.io/duration: "1s", sim.cairn.io/exit-code: "1"}}
spec: {nodeName: b-0001, restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}
EOF
expect_ok "create pods with scripted endings" k apply -f "$WORK/jobs.yaml"
wait_for "duration 1s, exit 0, restartPolicy Never: Succeeded" 20 pod_phase_is ok Succeeded
expect_eq "...terminated with reason Completed" "0 Completed" \
    k get pod ok -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}'
wait_for "exit 3, restartPolicy Never: Failed" 20 pod_phase_is bad Failed
expect_eq "...with exit code 3" "3" k get pod bad -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'
wait_for "exit 1, restartPolicy OnFailure: restarted" 20 \
    sh -c "[ \"\$($K get pod flaky -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -ge 2 ]"
expect_eq "...still Running, lastState says exit 1" "Running 1" \
    k get pod flaky -o jsonpath='{.status.phase} {.status.containerStatuses[0].lastState.terminated.exitCode}'
expect_ok "clean up the scripted pods" k delete -f "$WORK/jobs.yaml" --timeout=30s

# --- a node dies ---
cat >"$WORK/victims.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: brief}
spec:
  nodeName: a-0002
  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: patient}
spec:
  nodeName: a-0002
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: survivor}
spec:
  nodeName: b-0001
  containers: [{name: c, image: busybox}]
EOF
expect_ok "create pods on a-0002 (tolerationSeconds 3 and the default 300) and on b-0001" k apply -f "$WORK/victims.yaml"
expect_ok "they become Ready" k wait --for=condition=Ready pod/brief pod/patient pod/survivor --timeout=30s

# Optional: a Deployment spread over both agents' nodes, with a 2 s
# toleration of unreachable nodes, when the scheduler and the Deployment
# controller are there to place and replace its pods.
cat >"$WORK/spread.yaml" <<'EOF2'
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 4
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: spread}}}
      containers: [{name: c, image: nginx}]
EOF2
DEPLOY=0
has_rs() {
    for _ in $(seq 1 50); do k get rs -o name 2>/dev/null | grep -q spread && return 0; sleep 0.2; done
    return 1
}
if k apply -f "$WORK/spread.yaml" >/dev/null 2>&1 && has_rs &&
    k wait --for=condition=Available deployment/spread --timeout=30s >/dev/null 2>&1; then
    DEPLOY=1
    pass "the Deployment is available on simulated nodes"
    expect_ok "...with pods on agent a's nodes too" sh -c "$K get pods -l app=spread -o wide | grep -q ' a-000'"
else
    echo "skip Deployment replacement: no scheduler/Deployment controller on this build"
    k delete deployment spread --ignore-not-found >/dev/null 2>&1
fi

# A Node made by hand has no Lease and no kubelet: it is not monitored.
expect_ok "create a Node by hand (no Lease)" api POST /api/v1/nodes -H Content-Type:application/json \
    -d '{"apiVersion":"v1","kind":"Node","metadata":{"name":"manual"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}'

{ kill -KILL "$A_PID"; wait "$A_PID"; } 2>/dev/null
t0=$(date +%s)
wait_for "after SIGKILL and the ${GRACE}s grace, a-0002 is Ready Unknown" 30 node_ready_is a-0002 Unknown
expect_eq "...reason NodeStatusUnknown with upstream's message" "NodeStatusUnknown Kubelet stopped posting node status." \
    k get node a-0002 -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}'
wait_for "kubectl shows every node of agent a NotReady" 15 sh -c "[ \$($K get nodes | grep -c '^a-.* NotReady ') -eq 3 ]"
wait_for "it has the unreachable NoExecute taint" 10 has_taint a-0002 node.kubernetes.io/unreachable:NoExecute
expect_ok "...and the unreachable NoSchedule taint" has_taint a-0002 node.kubernetes.io/unreachable:NoSchedule
expect_ok "agent b's nodes stay Ready" node_ready_is b-0001 True
wait_for "pods on the dead node are marked not ready" 10 pod_ready_is patient False
wait_for "the pod tolerating unreachable for 3 s is evicted" 20 pod_deleting brief
elapsed=$(( $(date +%s) - t0 ))
# Not before the last renewal (at most 1 s before the kill) + grace + 3 s.
if [ "$elapsed" -ge $((GRACE + 3 - 2)) ]; then pass "...not before grace + tolerationSeconds ($elapsed s after the kill)"
else fail "...evicted after only $elapsed s"; fi
expect_ok "the pod with the default 300 s toleration stays" sh -c "! { $K get pod patient -o jsonpath='{.metadata.deletionTimestamp}' | grep -q .; }"
expect_ok "the pod on the surviving node stays Ready" pod_ready_is survivor True
expect_ok "the hand-made Node without a Lease stays Ready past the grace period" node_ready_is manual True

if [ "$DEPLOY" = 1 ]; then
    # Pods left Terminating on the dead nodes are the kubelet's to finish;
    # the live ones must all be Ready on agent b's nodes.
    spread_replaced() {
        local live
        live=$(k get pods -l app=spread -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}' |
            awk 'NF == 2 {print $1, $2}')
        [ "$(echo "$live" | grep -c '^b-.* True$')" -eq 4 ] && [ "$(echo "$live" | grep -c .)" -eq 4 ]
    }
    wait_for "the Deployment's pods are evicted and replaced: 4 Ready on agent b's nodes" 60 spread_replaced
    echo "     (replaced $(( $(date +%s) - t0 )) s after the kill; grace ${GRACE}s + tolerationSeconds 2)"
    expect_eq "...and the Deployment is available again" "4" k get deploy spread -o jsonpath='{.status.availableReplicas}'
fi

# --- the agent comes back ---
start_agent a --nodes 3 --node-prefix a- --zones 3
A_PID=$AGENT_PID
wait_for "a restarted agent makes a-0002 Ready again" 30 node_ready_is a-0002 True
wait_for "...and its taints are removed" 15 sh -c "! $K get node a-0002 -o jsonpath='{.spec.taints}' | grep -q node.kubernetes.io"
wait_for "the pod that stayed is Ready again" 15 pod_ready_is patient True
wait_for "the evicted pod is finished by the agent (gone)" 15 pod_gone brief

# --- the server restarts under the agents ---
OLD_PORT=$PORT
stop_server
start_server --node-monitor-grace-period ${GRACE}s --listen 127.0.0.1:$OLD_PORT
expect_ok "a pod created after the server restarted becomes Ready" \
    sh -c "$K run after --image=nginx --overrides='{\"spec\":{\"nodeName\":\"b-0000\"}}' >/dev/null && $K wait --for=condition=Ready pod/after --timeout=30s"
sleep $((GRACE + 2))   # longer than the grace period: heartbeats must have gone on
expect_eq "every node is still Ready a grace period later" "6" ready_count ''
expect_ok "delete the remaining pods" k delete pod web patient survivor after --timeout=30s
stop_agent "$A_PID"
stop_agent "$B_PID"
AGENTS=()
if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK"/agent-*.log; then
    fail "sanitizer report in an agent log"; grep -A30 "Sanitizer\|runtime error" "$WORK"/agent-*.log | head -60
else
    pass "no sanitizer report in the agents' logs"
fi
finish
