#!/bin/bash
# Endpoints and EndpointSlices through the real kubectl: a Service with a
# selector gets both, from its pods' IPs (pod status patched by hand, as a
# kubelet would): Ready pods in addresses, others in notReadyAddresses /
# conditions.ready=false; named targetPorts resolve per pod; they follow
# readiness and label changes and go with the Service. A Service without
# a selector keeps the Endpoints its user writes.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server
wait_for "the controllers are running" 90 k get serviceaccount default

# podstatus NAME IP READY
podstatus() {
    k patch pod "$1" --subresource=status --type=merge -p \
        "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$3\"}]}}"
}
pod() {
    k apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: ${2:-web}}}
spec:
  nodeName: n1
  containers: [{name: c, image: registry.k8s.io/pause:3.9, ports: [{name: http, containerPort: ${3:-8080}}]}]
EOF
}
ep() { k get endpoints web -o jsonpath="$1"; }
slice() { k get endpointslices -l kubernetes.io/service-name=web -o jsonpath="$1"; }

expect_ok "a Service app=web: http -> named port, raw 81 -> 9090" k apply -f - <<EOF
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: raw, port: 81, targetPort: 9090}
EOF
wait_for "its Endpoints exist (empty)" 20 k get endpoints web
wait_for "its EndpointSlice exists" 20 bash -c "[ -n \"\$($K get endpointslices -l kubernetes.io/service-name=web -o name)\" ]"
expect_ok "pod p1 (http=8080)" pod p1
expect_ok "pod p2 (http=8081)" pod p2 web 8081
expect_ok "p1 Running+Ready at 10.1.0.5" podstatus p1 10.1.0.5 True
expect_ok "p2 Running, not Ready at 10.1.0.6" podstatus p2 10.1.0.6 False
wait_for "p1 is in addresses" 20 bash -c "[ \"\$($K get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}')\" = 10.1.0.5 ]"
wait_for "p2 is in notReadyAddresses" 20 bash -c "[ \"\$($K get endpoints web -o jsonpath='{.subsets[*].notReadyAddresses[*].ip}')\" = 10.1.0.6 ]"
expect_out "named targetPort resolves per pod (8080 for p1)" "http:8080" \
    ep '{range .subsets[?(@.addresses)]}{range .ports[*]}{.name}:{.port} {end}{end}'
expect_out "...numeric targetPort kept" "raw:9090" ep '{range .subsets[*].ports[*]}{.name}:{.port} {end}'
expect_eq "targetRef names the pod" "Pod/p1" ep '{.subsets[*].addresses[0].targetRef.kind}/{.subsets[*].addresses[0].targetRef.name}'
expect_eq "nodeName is set" "n1" ep '{.subsets[*].addresses[0].nodeName}'
expect_eq "Endpoints carry the Service's labels" "front" ep '{.metadata.labels.tier}'
expect_out "kubectl get endpoints lists the ready address" "10\.1\.0\.5:(8080|9090)" k get endpoints web
expect_eq "slices are managed by the endpointslice controller" "endpointslice-controller.k8s.io" \
    slice '{.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by}'
expect_eq "...owned by the Service" "Service/web/true" \
    slice '{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}/{.items[0].metadata.ownerReferences[0].controller}'
expect_eq "...addressType IPv4" "IPv4" slice '{.items[0].addressType}'
wait_for "...p1 ready=true, p2 ready=false" 20 bash -c "[ \"\$($K get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[*]}{.targetRef.name}={.conditions.ready} {end}' | tr ' ' '\n' | sort | xargs)\" = 'p1=true p2=false' ]"
expect_ok "p2 becomes Ready" podstatus p2 10.1.0.6 True
wait_for "...and moves to addresses" 20 bash -c "[ -z \"\$($K get endpoints web -o jsonpath='{.subsets[*].notReadyAddresses}')\" ] && $K get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' | grep -q 10.1.0.6"
expect_ok "p1 leaves the selector (label change)" k label pod p1 app=other --overwrite
wait_for "...and the Endpoints" 20 bash -c "! $K get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' | grep -q 10.1.0.5"
wait_for "...and the slice" 20 bash -c "! $K get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[*]}' | grep -q 10.1.0.5"
expect_ok "delete p2" k delete pod p2 --grace-period=0 --force
wait_for "no address is left" 20 bash -c "[ -z \"\$($K get endpoints web -o jsonpath='{.subsets}')\" ]"

# --- a Service without a selector ---
expect_ok "a Service without a selector and hand-written Endpoints" k apply -f - <<EOF
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets:
- addresses: [{ip: 192.0.2.10}]
  ports: [{port: 5432}]
EOF
expect_eq "its Endpoints stay as written" "192.0.2.10" k get endpoints ext -o jsonpath='{.subsets[*].addresses[*].ip}'
expect_eq "...and it gets no managed slice" "" k get endpointslices -l kubernetes.io/service-name=ext -o name

# --- deletion ---
expect_ok "delete the Service" k delete service web
wait_for "its Endpoints go" 20 bash -c "! $K get endpoints web"
wait_for "its EndpointSlices go" 20 bash -c "[ -z \"\$($K get endpointslices -l kubernetes.io/service-name=web -o name)\" ]"

finish
