#!/bin/bash
# ResourceQuota and LimitRange through the real kubectl: the quota
# controller fills status.hard/used, a create beyond the quota is 403
# Forbidden with upstream's "exceeded quota" message, compute quotas demand
# requests/limits ("must specify"), a delete frees room; LimitRange
# defaults land on containers (with the limit-ranger annotation) and
# min/max are enforced.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server
# The controllers run once the server leads; the default ServiceAccount
# says they are up (bounded generously: see docs/controllers.md).
wait_for "the controllers are running" 90 k get serviceaccount default

used() { k get quota "$1" -n "$2" -o jsonpath="{.status.used.$3}"; }
# pod NS NAME [requests-cpu limits-memory]
pod() {
    local res=""
    [ -n "${3:-}" ] && res="resources: {requests: {cpu: $3}, limits: {memory: $4}}"
    k apply -n "$1" -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $2}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, $res}]
EOF
}

# --- object counts ---
expect_ok "namespace q1" k create namespace q1
expect_ok "a quota pods=2, configmaps=3, count/deployments.apps=1" \
    k create quota counts -n q1 --hard=pods=2,configmaps=3,count/deployments.apps=1
wait_for "the controller fills status.hard" 20 \
    bash -c "[ \"\$($K get quota counts -n q1 -o jsonpath='{.status.hard.pods}')\" = 2 ]"
wait_for "...and status.used (ConfigMaps: kube-root-ca.crt or none)" 20 \
    bash -c "[ -n \"\$($K get quota counts -n q1 -o jsonpath='{.status.used.configmaps}')\" ]"
expect_eq "no pods used yet" "0" used counts q1 pods
expect_ok "pod 1" pod q1 p1
expect_ok "pod 2" pod q1 p2
expect_fail "pod 3 is refused with upstream's message" \
    'pods "p3" is forbidden: exceeded quota: counts, requested: pods=1, used: pods=2, limited: pods=2' pod q1 p3
expect_status "...403 Forbidden over the API" 403 Forbidden POST /api/v1/namespaces/q1/pods \
    -H Content-Type:application/json \
    -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p3"},"spec":{"containers":[{"name":"c","image":"x"}]}}'
expect_eq "used pods=2" "2" used counts q1 pods
expect_ok "delete pod 1" k delete pod p1 -n q1 --grace-period=0 --force
wait_for "used pods drops to 1" 20 bash -c "[ \"\$($K get quota counts -n q1 -o jsonpath='{.status.used.pods}')\" = 1 ]"
expect_ok "now pod 3 fits" pod q1 p3
expect_ok "a Deployment" k create deployment d1 -n q1 --image=registry.k8s.io/pause:3.9 --replicas=0
expect_fail "a second Deployment exceeds count/deployments.apps" \
    'deployments.apps "d2" is forbidden: exceeded quota: counts, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1' \
    k create deployment d2 -n q1 --image=registry.k8s.io/pause:3.9
expect_out "kubectl describe quota shows Used/Hard" "pods +2 +2" k describe quota counts -n q1
expect_ok "a server-side dry run charges nothing" k create configmap dry -n q1 --dry-run=server
expect_ok "configmaps up to the limit" bash -c "for i in 1 2 3; do $K create configmap c\$i -n q1 >/dev/null 2>&1; done; true"
expect_fail "one ConfigMap more than configmaps=3 is refused" "exceeded quota: counts, requested: configmaps=1" \
    k create configmap extra -n q1

# --- compute resources ---
expect_ok "namespace q2" k create namespace q2
expect_ok "a compute quota requests.cpu=1, limits.memory=1Gi" k create quota compute -n q2 --hard=requests.cpu=1,limits.memory=1Gi
wait_for "its status is filled" 20 bash -c "[ \"\$($K get quota compute -n q2 -o jsonpath='{.status.used.requests\.cpu}')\" = 0 ]"
expect_fail "a pod without requests/limits is refused" \
    'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: c; requests.cpu for: c' pod q2 bare
expect_ok "a pod with cpu 600m, memory limit 512Mi" pod q2 w1 600m 512Mi
expect_eq "used requests.cpu=600m" "600m" used compute q2 'requests\.cpu'
expect_eq "used limits.memory=512Mi" "512Mi" used compute q2 'limits\.memory'
expect_fail "a second one exceeds requests.cpu" \
    'exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1' pod q2 w2 600m 512Mi
expect_ok "a smaller one fits" pod q2 w3 400m 512Mi

# --- scopes ---
expect_ok "namespace q4 with a BestEffort quota pods=1" bash -c "$K create namespace q4 && $K create quota be -n q4 --hard=pods=1 --scopes=BestEffort"
wait_for "its status is filled" 20 bash -c "[ \"\$($K get quota be -n q4 -o jsonpath='{.status.used.pods}')\" = 0 ]"
expect_ok "a BestEffort pod" pod q4 be1
expect_fail "a second BestEffort pod is refused" "exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1" pod q4 be2
expect_ok "a pod with requests is outside the scope" pod q4 sized 100m 64Mi
expect_eq "...and not counted" "1" used be q4 pods

# --- LimitRange ---
expect_ok "namespace q3" k create namespace q3
expect_ok "a LimitRange: default/defaultRequest, min and max" k apply -n q3 -f - <<EOF
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
    min: {cpu: 50m}
EOF
expect_ok "a pod without resources" pod q3 plain
expect_eq "gets the default limits" "500m/256Mi" k get pod plain -n q3 -o jsonpath='{.spec.containers[0].resources.limits.cpu}/{.spec.containers[0].resources.limits.memory}'
expect_eq "...and requests (memory request from the default limit)" "100m/256Mi" \
    k get pod plain -n q3 -o jsonpath='{.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.requests.memory}'
expect_eq "...and the limit-ranger annotation" "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c" \
    k get pod plain -n q3 -o jsonpath='{.metadata.annotations.kubernetes\.io/limit-ranger}'
expect_fail "a container over max is refused" \
    'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' k apply -n q3 -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {limits: {cpu: "2"}}}]
EOF
expect_fail "a container under min is refused" \
    'pods "tiny" is forbidden: minimum cpu usage per Container is 50m, but request is 10m' k apply -n q3 -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: tiny}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {requests: {cpu: 10m}}}]
EOF
expect_ok "other namespaces are untouched" pod default free
expect_eq "...no defaults there" "" k get pod free -o jsonpath='{.spec.containers[0].resources}'

# --- after a restart (the admission cache is primed from the store) ---
stop_server
start_server
expect_fail "after a restart the quota still holds" 'exceeded quota: counts, requested: pods=1, used: pods=2, limited: pods=2' pod q1 p4
expect_fail "...and the LimitRange too" 'maximum cpu usage per Container is 1' k apply -n q3 -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {limits: {cpu: "2"}}}]
EOF
expect_ok "a namespace without quotas creates freely" pod default free2

finish
