#!/bin/bash
# PodDisruptionBudgets and `kubectl drain` through the real kubectl. Nodes
# and pods are made by hand (Node objects marked Ready, pods bound with the
# pods/binding subresource and marked Running+Ready through pods/status):
# the PDB status follows the pods, an eviction beyond the budget is 429
# TooManyRequests with upstream's message and cause, unhealthy and Pending
# pods can always be evicted, and `kubectl drain` is held by a PDB until
# another pod becomes ready, then completes. Also the default
# ServiceAccount of every namespace.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server

node() {
    k apply -f - <<EOF >/dev/null && k patch node "$1" --subresource=status --type=merge \
        -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ready"}]}}' >/dev/null
apiVersion: v1
kind: Node
metadata: {name: $1, labels: {kubernetes.io/hostname: $1}}
EOF
}
# pod NAME NODE [ready=true] [labels app]
pod() {
    local name=$1 node=$2 ready=${3:-true} app=${4:-web}
    k apply -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {app: $app}}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
EOF
    api POST "/api/v1/namespaces/default/pods/$name/binding" -H Content-Type:application/json \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$name\"},\"target\":{\"kind\":\"Node\",\"name\":\"$node\"}}" \
        | tail -1 | grep -q 201 || return 1
    [ "$ready" = pending ] && return 0
    local st=True
    [ "$ready" = true ] || st=False
    k patch pod "$name" --subresource=status --type=merge \
        -p "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"$st\"}]}}" >/dev/null
}
pdbfield() { k get pdb "$1" -o jsonpath="{.status.$2}"; }
evict() {
    api POST "/api/v1/namespaces/default/pods/$1/eviction" -H Content-Type:application/json \
        -d "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"$1\"},\"deleteOptions\":{\"gracePeriodSeconds\":0}}"
}
gone() { ! k get "$@" >/dev/null 2>&1; }

# --- ServiceAccounts ---
wait_for "the default namespace has a default ServiceAccount" 90 k get serviceaccount default
expect_ok "a new namespace" k create namespace team-a
wait_for "...gets one" 20 k get serviceaccount default -n team-a
expect_ok "delete it" k delete serviceaccount default -n team-a
wait_for "...it comes back" 20 k get serviceaccount default -n team-a

# --- PDB status ---
expect_ok "nodes n1, n2 (Ready)" bash -c "$(declare -f node k api); K=$K; DATA=$DATA; PORT=$PORT; node n1 && node n2"
for p in p1:n1 p2:n1 p3:n2; do
    expect_ok "pod ${p%%:*} bound to ${p##*:}, Running and Ready" pod "${p%%:*}" "${p##*:}"
done
expect_ok "a PDB minAvailable=2 over app=web" k create pdb web --selector=app=web --min-available=2
wait_for "its status: 3 healthy, 2 desired, 1 allowed" 20 \
    bash -c "[ \"\$($K get pdb web -o jsonpath='{.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}/{.status.expectedPods}')\" = 3/2/1/3 ]"
expect_out "condition DisruptionAllowed=True SufficientPods" "True/SufficientPods" \
    k get pdb web -o jsonpath='{.status.conditions[?(@.type=="DisruptionAllowed")].status}/{.status.conditions[?(@.type=="DisruptionAllowed")].reason}'
expect_eq "observedGeneration follows" "1" pdbfield web observedGeneration
expect_out "kubectl get pdb shows ALLOWED DISRUPTIONS" "web +2 +N/A +1" k get pdb web

# --- eviction: budget spent, then refused ---
expect_out "evicting one pod is allowed (201)" "201$" evict p3
wait_for "...the pod is gone" 20 gone pod p3
wait_for "the budget is spent: 0 allowed" 20 bash -c "[ \"\$($K get pdb web -o jsonpath='{.status.disruptionsAllowed}')\" = 0 ]"
out=$(evict p2)
expect_eq "the next eviction is 429" "429" echo "$(echo "$out" | tail -1)"
expect_out "...reason TooManyRequests" '"reason":"TooManyRequests"' echo "$out"
expect_out "...upstream's message" "Cannot evict pod as it would violate the pod's disruption budget\." echo "$out"
expect_out "...a DisruptionBudget cause" '"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods and has 2 currently"' echo "$out"
expect_ok "...and the pod stays" k get pod p2
expect_ok "a not-ready pod of the set" pod p5 n2 false
expect_out "...can be evicted while the budget is healthy (201)" "201$" evict p5
expect_ok "a Pending pod of the set" pod p6 n2 pending
expect_out "...can be evicted (201)" "201$" evict p6
expect_out "a pod no PDB covers can be evicted (201)" "201$" bash -c "$(declare -f pod api k); K=$K; DATA=$DATA; PORT=$PORT; pod lone n2 true other >/dev/null && $(declare -f evict); evict lone"

# --- maxUnavailable as a percentage ---
expect_ok "a PDB maxUnavailable=50% over app=db" k create pdb db --selector=app=db --max-unavailable=50%
expect_ok "four db pods" bash -c "$(declare -f pod api k); K=$K; DATA=$DATA; PORT=$PORT; for i in 1 2 3 4; do pod db\$i n2 true db || exit 1; done"
wait_for "4 expected, 2 desired, 2 allowed" 20 \
    bash -c "[ \"\$($K get pdb db -o jsonpath='{.status.expectedPods}/{.status.desiredHealthy}/{.status.disruptionsAllowed}')\" = 4/2/2 ]"

# --- kubectl drain held by the PDB ---
# n1 holds p1 and p2 of app=web (2 healthy of 2 desired): drain must wait.
expect_ok "p3 again on n2" pod p3 n2
wait_for "the web budget allows 1 again" 20 bash -c "[ \"\$($K get pdb web -o jsonpath='{.status.disruptionsAllowed}')\" = 1 ]"
expect_ok "p7 on n2, not ready yet" pod p7 n2 false
"$K" drain n1 --ignore-daemonsets --force --grace-period=0 --timeout=90s >"$WORK/drain.out" 2>&1 &
DRAIN=$!
wait_for "drain cordons n1" 20 bash -c "[ \"\$($K get node n1 -o jsonpath='{.spec.unschedulable}')\" = true ]"
wait_for "drain evicts one pod of n1" 30 bash -c "[ \"\$($K get pods --field-selector spec.nodeName=n1 -o name | wc -l)\" = 1 ]"
wait_for "drain is told 429 for the other and retries" 30 grep -q "Cannot evict pod as it would violate the pod's disruption budget" "$WORK/drain.out"
expect_ok "drain is still running (held)" kill -0 $DRAIN
expect_eq "one pod is left on n1" "1" bash -c "$K get pods --field-selector spec.nodeName=n1 -o name | wc -l"
expect_ok "p7 becomes ready" k patch pod p7 --subresource=status --type=merge \
    -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}'
rc=0
for _ in $(seq 1 60); do kill -0 $DRAIN 2>/dev/null || break; sleep 0.5; done
wait $DRAIN || rc=$?
expect_eq "then drain completes (exit 0)" "0" echo $rc
expect_out "...saying node/n1 drained" "node/n1 drained" cat "$WORK/drain.out"
expect_eq "no pod is left on n1" "0" bash -c "$K get pods --field-selector spec.nodeName=n1 -o name | wc -l"
expect_ok "kubectl uncordon n1" k uncordon n1

finish
