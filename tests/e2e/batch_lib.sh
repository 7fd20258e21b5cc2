# batch_lib.sh: helpers for the DaemonSet/StatefulSet/Job/CronJob suites,
# sourced after lib.sh. When no scheduler or simulated agent is around, the
# suites play the kubelet's part themselves through the API, as a kubelet
# would: nodes are created directly, pods are bound through pods/binding
# (to the node a DaemonSet pod is pinned to, else to the first node) and
# their status is patched (Running + Ready; Succeeded/Failed on request);
# pods being deleted are removed at once.
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
KUBELET_PID=

# fake_node NAME [LABELS_JSON] [TAINTS_JSON]
fake_node() {
    local n=$1 labels=${2:-'{}'} taints=${3:-'[]'}
    k create -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$n","labels":$(echo "$labels" | jq -c --arg n "$n" '. + {"kubernetes.io/hostname":$n}')},
 "spec":{"taints":$taints},
 "status":{"conditions":[{"type":"Ready","status":"True"}],"capacity":{"cpu":"8","memory":"16Gi","pods":"110"},
           "allocatable":{"cpu":"8","memory":"16Gi","pods":"110"}}}
EOF
}

bind_pod() {   # bind_pod NS POD NODE
    k create --raw "/api/v1/namespaces/$1/pods/$2/binding" -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Binding","metadata":{"name":"$2"},"target":{"kind":"Node","name":"$3"}}
EOF
}

# pod_phase POD PHASE [READY]: set a pod's phase (and Ready condition).
pod_phase() {
    local ready=${3:-False} now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    k patch pod "$1" --subresource=status --type=merge -p \
        "{\"status\":{\"phase\":\"$2\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"$ready\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
}

# One pass of the fake kubelet over every pod of the default namespace.
kubelet_tick() {
    local first
    first=$(k get nodes -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
    k get pods -o json 2>/dev/null | jq -r '.items[] | [.metadata.name, (.spec.nodeName // ""),
        ((.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]) // ""),
        (.status.phase // "Pending"), (if .metadata.deletionTimestamp then "del" else "-" end)] | join("|")' |
    while IFS='|' read -r name node pinned phase del; do
        if [ "$del" = del ]; then k delete pod "$name" --grace-period=0 --force >/dev/null 2>&1; continue; fi
        if [ -z "$node" ]; then
            node=${pinned:-$first}
            [ -n "$node" ] && bind_pod default "$name" "$node"
        fi
        if [ "$phase" = Pending ] && [ -n "$node" ]; then pod_phase "$name" Running True 2>/dev/null; fi
    done
}

start_kubelet() {
    ( while :; do kubelet_tick; sleep 0.3; done ) >/dev/null 2>&1 &
    KUBELET_PID=$!
}

stop_kubelet() {
    if [ -n "$KUBELET_PID" ]; then kill "$KUBELET_PID" 2>/dev/null; wait "$KUBELET_PID" 2>/dev/null; KUBELET_PID=; fi
}

e2e_extra_cleanup() { stop_kubelet; }

# jp KIND/NAME JSONPATH: one field.
jp() { k get "$1" -o jsonpath="$2"; }
# count_pods SELECTOR [FIELD_SELECTOR]
count_pods() { k get pods -l "$1" ${2:+--field-selector "$2"} --no-headers 2>/dev/null | wc -l; }
