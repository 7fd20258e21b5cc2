#!/bin/bash
# StatefulSets through the real kubectl, on simulated nodes: stable names
# created in order (N+1 only once N is Ready), identity labels, hostname and
# subdomain, one PVC per claim template and ordinal kept across scale-down
# (removed with whenScaled: Delete), scale-down from the highest ordinal,
# a rolling update from the top down that `kubectl rollout status` follows,
# partitions, history, Parallel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/batch_lib.sh"
READY_DELAY=700ms   # slow enough to see the order
start_server
start_agent 2
wait_for "two simulated nodes are Ready" 30 nodes_ready 2

sts() {   # sts NAME REPLICAS IMAGE [extra spec yaml, indented 2]
    k apply -f - <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $1}
spec:
  serviceName: $1-svc
  replicas: $2
  selector: {matchLabels: {app: $1}}
${4:-}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: c, image: $3}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
EOF
}
# "name:ready" of the set's pods, by name.
pods_state() {
    k get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name}:{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | sort
}
pvcs() { k get pvc -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep -- "-$1-" | sort | xargs; }
images() { k get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[0].image}{"\n"}{end}' | sort | xargs; }

# --- ordered creation ---
expect_ok "create a StatefulSet of 3" sts web 3 nginx:1
order_ok=1
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -le "$end" ]; do
    st=$(pods_state web)
    # the pods that exist are web-0..web-k, and all but the last are Ready
    names=$(echo "$st" | cut -d: -f1 | xargs)
    n=$(echo "$st" | grep -c . || true)
    want=""; for i in $(seq 0 $((n - 1))); do want="$want web-$i"; done
    [ -n "$st" ] && [ "$names" != "$(echo $want)" ] && { order_ok=0; echo "  saw: $st"; }
    if [ "$n" -gt 1 ] && echo "$st" | head -n $((n - 1)) | grep -qv ':True$'; then order_ok=0; echo "  saw: $st"; fi
    [ "$(echo "$st" | grep -c ':True$')" = 3 ] && break
    sleep 0.1
done
if [ "$order_ok" = 1 ]; then pass "pods came in order: web-N only after web-(N-1) was Ready"; else fail "pods came in order"; fi
expect_ok "kubectl rollout status sts finishes" k rollout status sts/web --timeout=60s
expect_eq "stable names" "web-0:True web-1:True web-2:True" bash -c "$(declare -f pods_state k); K=$K; pods_state web | xargs"
expect_eq "one PVC per ordinal" "data-web-0 data-web-1 data-web-2" pvcs web
expect_eq "web-1's identity: hostname, subdomain, labels" "web-1 web-svc web-1 1" \
    jp pod/web-1 '{.spec.hostname} {.spec.subdomain} {.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index}'
expect_eq "web-1 mounts its own claim" "data data-web-1" \
    jp pod/web-1 '{.spec.volumes[0].name} {.spec.volumes[0].persistentVolumeClaim.claimName}'
expect_eq "status" "3 3 3 3 3" \
    jp sts/web '{.status.replicas} {.status.readyReplicas} {.status.currentReplicas} {.status.updatedReplicas} {.status.availableReplicas}'
rev=$(jp sts/web '{.status.updateRevision}')
expect_out "current and update revision are the same ControllerRevision" "^web-[a-z0-9]+ web-" \
    jp sts/web '{.status.currentRevision} {.status.updateRevision}'
expect_eq "pods carry it as controller-revision-hash" "$rev" jp pod/web-2 '{.metadata.labels.controller-revision-hash}'
expect_out "kubectl get sts" 'web +3/3' k get sts web

# --- scale down and up ---
expect_ok "scale to 1" k scale sts web --replicas=1
# at every moment seen: web-1 is not gone while web-2 is still there
down_ok=1
end=$(( $(date +%s) + 30 ))
while [ "$(date +%s)" -le "$end" ]; do
    st=$(pods_state web | cut -d: -f1 | xargs)
    case " $st " in *" web-2 "*) case " $st " in *" web-1 "*) ;; *) down_ok=0; echo "  saw: $st";; esac;; esac
    [ "$st" = "web-0" ] && break
    sleep 0.05
done
expect_eq "web-2 and web-1 went, web-0 stays" "web-0:True" bash -c "$(declare -f pods_state k); K=$K; pods_state web | xargs"
if [ "$down_ok" = 1 ]; then pass "highest ordinal first: web-1 never went before web-2"; else fail "highest ordinal first"; fi
expect_eq "the PVCs are kept" "data-web-0 data-web-1 data-web-2" pvcs web
expect_ok "scale back to 3" k scale sts web --replicas=3
expect_ok "it rolls out" k rollout status sts/web --timeout=60s
expect_eq "still one PVC per ordinal (reused)" "data-web-0 data-web-1 data-web-2" pvcs web

# --- rolling update ---
expect_ok "set a new image" k set image sts/web c=nginx:2
# at every moment seen, the updated pods are the highest ordinals
up_ok=1
end=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -le "$end" ]; do
    im=$(images web)
    case "$im" in
        *"web-0=nginx:2"*"web-1=nginx:1"*|*"web-0=nginx:2"*"web-2=nginx:1"*|*"web-1=nginx:2"*"web-2=nginx:1"*)
            up_ok=0; echo "  saw: $im";;
    esac
    [ "$im" = "web-0=nginx:2 web-1=nginx:2 web-2=nginx:2" ] && break
    sleep 0.1
done
expect_ok "kubectl rollout status sts follows the update" k rollout status sts/web --timeout=90s
expect_eq "all pods run nginx:2" "web-0=nginx:2 web-1=nginx:2 web-2=nginx:2" images web
if [ "$up_ok" = 1 ]; then pass "pods were replaced from the highest ordinal down"; else fail "pods were replaced from the highest ordinal down"; fi
wait_for "currentRevision becomes the update revision" 20 bash -c \
    "[ \"\$($K get sts web -o jsonpath='{.status.currentRevision}')\" = \"\$($K get sts web -o jsonpath='{.status.updateRevision}')\" ]"
expect_out "kubectl rollout history sts lists two revisions" '^1 .*
2 ' bash -c "$K rollout history sts/web | grep -E '^[0-9]'"

# --- partition ---
expect_ok "partition 2 and a third image" k patch sts web --type=merge \
    -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}},"template":{"spec":{"containers":[{"name":"c","image":"nginx:3"}]}}}}'
expect_ok "the partitioned rollout completes" k rollout status sts/web --timeout=60s
expect_eq "only web-2 (>= partition) is updated" "web-0=nginx:2 web-1=nginx:2 web-2=nginx:3" images web
expect_eq "updatedReplicas 1" "1" jp sts/web '{.status.updatedReplicas}'
expect_ok "kubectl rollout undo sts" k rollout undo sts/web
wait_for "web-2 is back on nginx:2" 60 eq "web-0=nginx:2 web-1=nginx:2 web-2=nginx:2" images web

# --- Parallel, whenScaled: Delete ---
expect_ok "a Parallel StatefulSet whose claims go on scale-down" sts par 3 nginx \
    '  podManagementPolicy: Parallel
  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}'
expect_ok "it rolls out" k rollout status sts/par --timeout=60s
expect_eq "its PVCs" "data-par-0 data-par-1 data-par-2" pvcs par
expect_ok "scale it to 1" k scale sts par --replicas=1
wait_for "both extra pods go" 30 eq "par-0:True" bash -c "$(declare -f pods_state k); K=$K; pods_state par | xargs"
wait_for "and their claims" 30 eq "data-par-0" pvcs par

finish
