#!/bin/bash
# The garbage collector through the real kubectl: dependents made by hand
# with ownerReferences (a ConfigMap owning ConfigMaps and a Pod) go with
# their owner (background), hold it while they go first (foreground: the
# owner keeps deletionTimestamp + the foregroundDeletion finalizer until its
# blocking dependents are gone), or stay without the reference
# (--cascade=orphan); a dependent of an owner that never existed is
# collected; one with a live owner besides a gone one only loses the ref.
# When Deployments are served by a controller, deleting one removes its
# ReplicaSets and pods.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server
# The controllers run once the server leads; the default ServiceAccount
# says they are up (bounded generously: see docs/controllers.md).
wait_for "the controllers are running" 90 k get serviceaccount default

uid_of() { k get "$@" -o jsonpath='{.metadata.uid}'; }
gone() { ! k get "$@" >/dev/null 2>&1; }
# dependent KIND NAME OWNER-NAME OWNER-UID [extra metadata lines]
dependent() {
    local kind=$1 name=$2 owner=$3 uid=$4 block=${5:-false} fin=${6:-}
    local spec=""
    [ "$kind" = Pod ] && spec=$'spec:\n  containers: [{name: c, image: registry.k8s.io/pause:3.9}]'
    k apply -f - <<EOF
apiVersion: v1
kind: $kind
metadata:
  name: $name
  ${fin:+finalizers: [$fin]}
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: $owner, uid: $uid, blockOwnerDeletion: $block}
$spec
EOF
}

# --- background (kubectl's default) ---
expect_ok "create an owner ConfigMap" k create configmap owner-bg --from-literal=a=b
U=$(uid_of configmap owner-bg)
expect_ok "a ConfigMap dependent" dependent ConfigMap dep-bg-1 owner-bg "$U"
expect_ok "a Pod dependent" dependent Pod dep-bg-2 owner-bg "$U"
expect_ok "a dependent with a live second owner" k apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: dep-bg-3
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner-bg, uid: $U}
  - {apiVersion: v1, kind: Namespace, name: default, uid: $(uid_of namespace default)}
EOF
expect_ok "delete the owner (background)" k delete configmap owner-bg
wait_for "the ConfigMap dependent is collected" 20 gone configmap dep-bg-1
wait_for "the Pod dependent is collected" 20 gone pod dep-bg-2
wait_for "the dependent with a live owner only loses the gone owner's ref" 20 \
    bash -c "[ \"\$($K get configmap dep-bg-3 -o jsonpath='{.metadata.ownerReferences[*].kind}')\" = Namespace ]"
expect_ok "clean up" k delete configmap dep-bg-3

# --- an owner that never existed ---
expect_ok "a dependent of a uid that does not exist" \
    dependent ConfigMap dep-ghost never-there 00000000-0000-0000-0000-000000000001
wait_for "is collected" 20 gone configmap dep-ghost
expect_ok "an owner recreated under the same name is another object" k create configmap reborn
R=$(uid_of configmap reborn)
expect_ok "...a dependent of the old uid" dependent ConfigMap dep-reborn reborn 00000000-0000-0000-0000-000000000002
wait_for "...is collected though the name exists" 20 gone configmap dep-reborn
expect_eq "...and the new owner stays" "$R" uid_of configmap reborn

# --- foreground ---
expect_ok "create an owner for foreground deletion" k create configmap owner-fg
U=$(uid_of configmap owner-fg)
expect_ok "a blocking dependent held by a finalizer" dependent ConfigMap dep-fg-1 owner-fg "$U" true example.com/hold
expect_ok "a blocking Pod dependent" dependent Pod dep-fg-2 owner-fg "$U" true
expect_ok "delete the owner in the foreground (no wait)" k delete configmap owner-fg --cascade=foreground --wait=false
wait_for "the free dependent goes" 20 gone pod dep-fg-2
expect_out "the owner stays with the foregroundDeletion finalizer" "foregroundDeletion" \
    k get configmap owner-fg -o jsonpath='{.metadata.finalizers}'
expect_out "...and a deletionTimestamp" "^20" k get configmap owner-fg -o jsonpath='{.metadata.deletionTimestamp}'
expect_out "the held dependent is being deleted" "^20" k get configmap dep-fg-1 -o jsonpath='{.metadata.deletionTimestamp}'
expect_ok "release the held dependent" k patch configmap dep-fg-1 --type=merge -p '{"metadata":{"finalizers":null}}'
wait_for "the dependent is gone" 20 gone configmap dep-fg-1
wait_for "then the owner goes" 20 gone configmap owner-fg
expect_ok "an owner without dependents, foreground, waits for nothing" k create configmap lone
expect_ok "...kubectl delete --cascade=foreground returns" timeout 30 "$K" delete configmap lone --cascade=foreground
expect_ok "...and it is gone" gone configmap lone

# --- orphan ---
expect_ok "create an owner for orphaning" k create configmap owner-or
U=$(uid_of configmap owner-or)
expect_ok "a ConfigMap dependent" dependent ConfigMap dep-or-1 owner-or "$U" true
expect_ok "a Pod dependent" dependent Pod dep-or-2 owner-or "$U"
expect_ok "kubectl delete --cascade=orphan (waits for the owner)" timeout 30 "$K" delete configmap owner-or --cascade=orphan
expect_ok "the owner is gone" gone configmap owner-or
expect_eq "the ConfigMap dependent stays without ownerReferences" "" \
    k get configmap dep-or-1 -o jsonpath='{.metadata.ownerReferences}'
expect_eq "the Pod dependent stays without ownerReferences" "" \
    k get pod dep-or-2 -o jsonpath='{.metadata.ownerReferences}'
expect_ok "the legacy orphanDependents=true orphans too" k create configmap owner-legacy
U=$(uid_of configmap owner-legacy)
expect_ok "...a dependent" dependent ConfigMap dep-legacy owner-legacy "$U"
expect_out "...DELETE with orphanDependents=true adds the orphan finalizer" '"finalizers":\["orphan"\]' \
    api DELETE /api/v1/namespaces/default/configmaps/owner-legacy \
    -H Content-Type:application/json -d '{"kind":"DeleteOptions","apiVersion":"v1","orphanDependents":true}'
wait_for "...the owner goes" 20 gone configmap owner-legacy
expect_eq "...the dependent stays unowned" "" k get configmap dep-legacy -o jsonpath='{.metadata.ownerReferences}'
expect_status "an unknown propagationPolicy is refused" 400 BadRequest \
    DELETE "/api/v1/namespaces/default/configmaps/dep-legacy?propagationPolicy=Sideways"

# --- custom resources (a CRD created after the controllers started) ---
expect_ok "a CRD widgets.example.com" k apply -f - <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
EOF
wait_for "...is established" 20 k get widgets
expect_ok "a Widget" k apply -f - <<EOF
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
EOF
W=$(uid_of widget w1)
expect_ok "a ConfigMap owned by the Widget" k apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: dep-of-widget
  ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: w1, uid: $W}]
EOF
expect_ok "a ConfigMap owning a Widget" k create configmap owns-widget
O=$(uid_of configmap owns-widget)
expect_ok "...the owned Widget" k apply -f - <<EOF
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w2
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owns-widget, uid: $O}]
EOF
expect_ok "the owned ConfigMap stays while the Widget lives" k get configmap dep-of-widget
expect_ok "delete the Widget" k delete widget w1
wait_for "its ConfigMap is collected" 20 gone configmap dep-of-widget
expect_ok "delete the ConfigMap owning a Widget" k delete configmap owns-widget
wait_for "the Widget is collected" 20 gone widget w2

# --- Deployments (when the apps controllers run) ---
# Quietly: a build without the apps controllers skips this part.
has_rs() {
    for _ in $(seq 1 50); do
        [ -n "$(k get rs -l app="$1" -o name 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    return 1
}
if k create deployment web --image=registry.k8s.io/pause:3.9 --replicas=2 >/dev/null 2>&1 && has_rs web; then
    wait_for "...and pods" 20 bash -c "[ \"\$($K get pods -l app=web -o name | wc -l)\" -ge 1 ]"
    expect_ok "delete the Deployment (background)" k delete deployment web
    wait_for "its ReplicaSets are collected" 30 bash -c "[ -z \"\$($K get rs -l app=web -o name)\" ]"
    wait_for "its pods are collected" 30 bash -c "[ -z \"\$($K get pods -l app=web -o name)\" ]"
    expect_ok "another Deployment" k create deployment keep --image=registry.k8s.io/pause:3.9
    wait_for "...makes a ReplicaSet" 20 bash -c "[ -n \"\$($K get rs -l app=keep -o name)\" ]"
    expect_ok "delete it with --cascade=orphan" k delete deployment keep --cascade=orphan
    expect_ok "its ReplicaSet stays" bash -c "[ -n \"\$($K get rs -l app=keep -o name)\" ]"
    expect_eq "...unowned" "" k get rs -l app=keep -o jsonpath='{.items[*].metadata.ownerReferences}'
else
    k delete deployment web >/dev/null 2>&1
    echo "skip Deployment cascades: no Deployment controller in this build"
fi

finish
