#!/bin/bash
# cairn bridge, end to end on loopback (no hosts: Host objects are made by
# hand and marked Ready, and the test plays the hosts' part of removing a
# deleted VM's finalizer). Checks the fleet CRDs and their columns, the
# fleet admission's refusals with their exact messages, dry-run, that two
# concurrent creates cannot both take the last free IPs, that a Cluster
# becomes its Operation, Secrets and VirtualMachines (hosts, IPs, owner)
# and goes Accepted -> Provisioning, that a restart mid-operation resumes
# it (same VMs, nothing twice), timeout -> Failed, scale-down, and that
# delete releases everything.
. "$(dirname "$0")/lib.sh"
DATA=$WORK/bridge
export KUBECONFIG=$DATA/kubeconfig
F=$WORK/fleet
mkdir -p "$F"

start_bridge() { CAIRN_SERVER_CMD=bridge start_server --no-fsync "$@"; }
jp() { kubectl get "$1" "$2" -o "jsonpath=$3" 2>&1; }
state_is() { [ "$(jp cluster "$1" '{.status.provisioningState}')" = "$2" ]; }

start_bridge
expect_out "the banner names the bridge kubeconfig" "export KUBECONFIG=$DATA/kubeconfig" cat "$WORK/server.out"
for c in hosts logicalnetworks clusters virtualmachines operations; do
    expect_out "CRD $c.fleet.cairn.io is Established" "True" \
        kubectl get crd "$c.fleet.cairn.io" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
done
expect_out "namespace fleet-system exists" "^fleet-system" kubectl get ns fleet-system --no-headers
expect_ok "short names: lnet, vm, op" kubectl get lnet,vm,op

# --- hosts and logical networks ---
cat >"$F/infra.yaml" <<'Y'
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: lnet1}
spec:
  addressPrefix: 172.31.0.0/24
  gateway: 172.31.0.1
  dnsServers: [172.31.0.1]
  vmSwitchName: vmswitch
  ipPools: [{name: vms, start: 172.31.0.100, end: 172.31.0.199}]
---
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: small}
spec:
  addressPrefix: 172.31.1.0/24
  gateway: 172.31.1.1
  dnsServers: [172.31.1.1]
  vmSwitchName: vmswitch
  ipPools: [{name: p, start: 172.31.1.100, end: 172.31.1.109}]
---
Y
for h in h1 h2 h3; do
    printf 'apiVersion: fleet.cairn.io/v1\nkind: Host\nmetadata: {name: %s}\nspec: {address: 10.0.0.1, capacity: {cpu: 32, memory: 128Gi, storage: 1Ti, gpus: 0}}\n---\n' "$h" >>"$F/infra.yaml"
done
expect_ok "create logical networks and hosts" kubectl create -f "$F/infra.yaml"
for h in h1 h2 h3; do
    expect_ok "host $h marked Ready" kubectl patch host "$h" --subresource=status --type=merge -p '{"status":{"phase":"Ready"}}'
done
expect_out "the logical network got its defaults" "^Static 0$" \
    kubectl get lnet lnet1 -o 'jsonpath={.spec.ipAllocationMethod} {.spec.vlan}'
expect_fail "a pool outside the prefix is refused" "172.31.9.1-172.31.9.9" \
    kubectl apply -f - <<'Y'
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: lnet-bad}
spec: {addressPrefix: 172.31.2.0/24, gateway: 172.31.2.1, dnsServers: [172.31.2.1], vmSwitchName: vmswitch, ipPools: [{name: p, start: 172.31.9.1, end: 172.31.9.9}]}
Y
expect_fail "nothing left behind by the refusal" "NotFound|not found" kubectl get lnet lnet-bad

# --- cluster admission ---
cluster_yaml() {  # name lnet cp workers [extra pool line]
    printf 'apiVersion: fleet.cairn.io/v1\nkind: Cluster\nmetadata: {name: %s}\nspec:\n  logicalNetwork: %s\n  controlPlane: {count: %s}\n  nodePools:\n  - {name: np1, count: %s}\n%s' \
        "$1" "$2" "$3" "$4" "${5:-}"
}
cluster_yaml w1 lnet1 1 1 "  - {name: win, count: 1, osType: Windows}
" >"$F/win.yaml"
expect_fail "a Windows pool is refused (422, exact message)" \
    'pool "win": Windows node pools are not supported here' kubectl create -f "$F/win.yaml"
printf 'apiVersion: fleet.cairn.io/v1\nkind: Cluster\nmetadata: {name: n1}\nspec:\n  logicalNetwork: lnet1\n  nodePools: [{name: np1}]\n  networking: {serviceCidr: 172.31.0.0/16}\n' >"$F/overlap.yaml"
expect_fail "a service CIDR over the node network is refused" \
    'service CIDR 172.31.0.0/16 overlaps the address prefix 172.31.0.0/24 of logical network "lnet1"' \
    kubectl create -f "$F/overlap.yaml"
cluster_yaml big small 3 5 >"$F/big.yaml"
expect_out "3+5 takes exactly the 10 IPs of the pool (8 VMs, surge, endpoint): admitted (dry run)" \
    "created \(server dry run\)" kubectl create -f "$F/big.yaml" --dry-run=server
cluster_yaml big small 3 6 >"$F/big.yaml"
expect_fail "one more node is refused with the exact shortfall" \
    'logical network "small": cluster "big" needs 11 IPs \(9 node VMs, 1 upgrade surge, 1 control-plane endpoint\) and only 10 are free in its pool p \(172.31.1.100-172.31.1.109\) \(1 short\)' \
    kubectl create -f "$F/big.yaml"
cluster_yaml c1 lnet1 3 2 >"$F/c1.yaml"
expect_out "dry-run create is admitted and defaulted" "Standard_A4_v2" kubectl create -f "$F/c1.yaml" --dry-run=server -o yaml
expect_fail "dry-run stored nothing" "NotFound|not found" kubectl get cluster c1

# Two creates at once that cannot both fit: writes of fleet.cairn.io are
# serialized from admission to the store, so exactly one is admitted.
cluster_yaml ra small 3 3 >"$F/ra.yaml"
cluster_yaml rb small 3 3 >"$F/rb.yaml"
kubectl create -f "$F/ra.yaml" >"$F/ra.out" 2>&1 & RA=$!
kubectl create -f "$F/rb.yaml" >"$F/rb.out" 2>&1 & RB=$!
wait $RA; ra=$?; wait $RB; rb=$?
expect_eq "of two concurrent creates on the same free IPs exactly one is admitted" "1" \
    echo $(( (ra == 0) + (rb == 0) ))
expect_out "the other names the shortfall" "short" cat "$F/ra.out" "$F/rb.out"

# --- a cluster becomes its operation, secrets and VMs ---
expect_ok "create cluster c1 (3+2)" kubectl create -f "$F/c1.yaml"
wait_for "c1 is Provisioning" 15 state_is c1 Provisioning
expect_eq "the operation is c1-create-1" "c1-create-1" jp cluster c1 '{.status.operation}'
expect_out "the operation is a Create of c1, Provisioning, with progress" "^Create c1 Provisioning [0-9]+/5 nodes Ready .+T" \
    jp operation c1-create-1 '{.spec.type} {.spec.target.name} {.status.provisioningState} {.status.message} {.status.startTime}'
expect_out "the cluster has the finalizer" "fleet.cairn.io/cluster" jp cluster c1 '{.metadata.finalizers}'
expect_out "an endpoint from the pool is recorded" "^172\.31\.0\.1[0-9][0-9]$" jp cluster c1 '{.status.controlPlaneEndpoint}'
wait_for "five VMs exist" 10 bash -c '[ "$(kubectl get vm -l fleet.cairn.io/cluster=c1 --no-headers | wc -l)" = 5 ]'
expect_eq "VM names" "c1-cp-0 c1-cp-1 c1-cp-2 c1-np1-0 c1-np1-1" \
    bash -c "kubectl get vm -l fleet.cairn.io/cluster=c1 -o name | sed 's|.*/||' | sort | xargs"
expect_eq "control-plane VMs are on three distinct hosts" "3" \
    bash -c "kubectl get vm c1-cp-0 c1-cp-1 c1-cp-2 -o jsonpath='{range .items[*]}{.spec.host}{\"\\n\"}{end}' | sort -u | wc -l"
expect_eq "every VM has a distinct pool IP" "5" \
    bash -c "kubectl get vm -l fleet.cairn.io/cluster=c1 -o jsonpath='{range .items[*]}{.spec.ip}{\"\\n\"}{end}' | grep -c '^172\.31\.0\.1[0-9][0-9]$' | tr -d ' '"
expect_out "a VM is owned by c1 (blockOwnerDeletion) with the VM finalizer" "^Cluster c1 true fleet.cairn.io/vm$" \
    jp vm c1-cp-0 '{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].blockOwnerDeletion} {.metadata.finalizers[0]}'
expect_out "3 control planes share etcd members" "c1-cp-0.*c1-cp-1.*c1-cp-2" jp vm c1-np1-0 '{.spec.etcdMembers[*].name}' 
expect_out "kubectl get vms shows CLUSTER ROLE HOST IP PHASE" "CLUSTER +ROLE +HOST +IP +PHASE" kubectl get vms
expect_out "kubectl get clusters shows STATE VERSION CONTROL-PLANE NODES ENDPOINT" \
    "STATE +VERSION +CONTROL-PLANE +NODES +ENDPOINT +AGE" kubectl get clusters
expect_out "the PKI Secret has ca.crt ca.key sa.key sa.pub token" "ca.crt ca.key sa.key sa.pub token" \
    bash -c "kubectl -n fleet-system get secret c1-pki -o json | jq -r '.data | keys | join(\" \")'"
expect_out "the join token pins the CA" "^K10[0-9a-f]{64}::server:" \
    bash -c "kubectl -n fleet-system get secret c1-pki -o jsonpath='{.data.token}' | base64 -d"
EP=$(jp cluster c1 '{.status.controlPlaneEndpoint}')
kubectl -n fleet-system get secret c1-kubeconfig -o jsonpath='{.data.value}' | base64 -d >"$F/c1.kubeconfig"
expect_out "the kubeconfig Secret points at https://ENDPOINT:6443" "server: \"?https://$EP:6443\"?$" cat "$F/c1.kubeconfig"
expect_out "its client certificate is cairn-admin in system:masters, signed by the cluster CA" \
    "CN ?= ?cairn-admin.*O ?= ?system:masters|O ?= ?system:masters.*CN ?= ?cairn-admin" \
    bash -c "grep client-certificate-data '$F/c1.kubeconfig' | awk '{print \$2}' | base64 -d | openssl x509 -noout -subject"
kubectl -n fleet-system get secret c1-pki -o jsonpath='{.data.ca\.crt}' | base64 -d >"$F/ca.crt"
expect_ok "the admin certificate verifies against the PKI Secret's CA" \
    bash -c "grep client-certificate-data '$F/c1.kubeconfig' | awk '{print \$2}' | base64 -d | openssl verify -CAfile '$F/ca.crt'"
wait_for "hosts show their allocations" 10 bash -c '[ "$(kubectl get host h1 -o jsonpath="{.status.allocated.vms}")" -ge 1 ]'
wait_for "the logical network counts its used IPs (5 VMs + endpoint)" 10 \
    bash -c '[ "$(kubectl get lnet lnet1 -o jsonpath="{.status.ipPools[0].used}")" = 6 ]'
wait_for "inventory: 5 nodes, Unreachable (no hosts run them)" 15 \
    bash -c '[ "$(kubectl get cluster c1 -o jsonpath="{.status.nodes.total} {.status.health}")" = "5 Unreachable" ]'
expect_fail "a spec change during the operation is refused (409)" "operation in progress" \
    kubectl patch cluster c1 --type=merge -p '{"spec":{"nodePools":[{"name":"np1","count":3}]}}'
expect_fail "a host with VMs cannot be deleted" 'host "h1" still has' kubectl delete host h1
expect_fail "a logical network in use cannot be deleted" 'is used by cluster "c1"' kubectl delete lnet lnet1

# --- restart mid-operation: resumes, nothing made twice ---
before=$(kubectl get vm -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}={.spec.ip}={.spec.host}{"\n"}{end}' | sort)
stop_server
start_bridge --operation-timeout 4s
expect_out "after a restart the operation is still c1-create-1" "^c1-create-1$" jp cluster c1 '{.status.operation}'
sleep 1
after=$(kubectl get vm -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}={.spec.ip}={.spec.host}{"\n"}{end}' | sort)
expect_eq "the same VMs (names, uids, IPs, hosts), none added" "$before" echo "$after"
expect_eq "one operation for c1 (plus the racing cluster's)" "1" \
    bash -c "kubectl get op -l fleet.cairn.io/cluster=c1 --no-headers | wc -l | tr -d ' '"
expect_eq "one PKI Secret and one kubeconfig Secret" "2" \
    bash -c "kubectl -n fleet-system get secret -l fleet.cairn.io/cluster=c1 --no-headers | wc -l | tr -d ' '"
wait_for "with no host running the VMs, the operation times out: Failed" 20 state_is c1 Failed
expect_out "the failure says why" "timed out after 4s: .*nodes Ready" jp operation c1-create-1 '{.status.message}'
expect_out "the operation has an end time" "T" jp operation c1-create-1 '{.status.endTime}'
expect_eq "observedGeneration is 1" "1" jp cluster c1 '{.status.observedGeneration}'

# --- scale down: the VM beyond the count goes (it never ran: no drain) ---
expect_ok "scale np1 to 1" kubectl patch cluster c1 --type=merge -p '{"spec":{"nodePools":[{"name":"np1","count":1}]}}'
# c1 never got to Succeeded, so the change is still its Create (generation 2).
wait_for "operation c1-create-2 exists" 10 kubectl get op c1-create-2
wait_for "c1-np1-1 is being deleted" 10 bash -c '[ -n "$(kubectl get vm c1-np1-1 -o jsonpath={.metadata.deletionTimestamp})" ]'
expect_ok "host's part: the VM's finalizer is removed" kubectl patch vm c1-np1-1 --type=merge -p '{"metadata":{"finalizers":null}}'
wait_for "c1-np1-1 is gone" 10 bash -c '! kubectl get vm c1-np1-1'
expect_ok "c1-np1-0 is kept" kubectl get vm c1-np1-0

# --- delete releases everything ---
expect_ok "delete c1" kubectl delete cluster c1 --wait=false
wait_for "c1 is Deleting" 10 state_is c1 Deleting
wait_for "its VMs are being deleted" 10 bash -c '[ -z "$(kubectl get vm -l fleet.cairn.io/cluster=c1 -o jsonpath="{.items[?(!@.metadata.deletionTimestamp)].metadata.name}")" ] && [ -n "$(kubectl get vm -l fleet.cairn.io/cluster=c1 -o name)" ]'
for v in $(kubectl get vm -l fleet.cairn.io/cluster=c1 -o name); do
    kubectl patch "$v" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
done
wait_for "c1 is gone" 15 bash -c '! kubectl get cluster c1'
expect_eq "no VM of c1 left" "0" bash -c "kubectl get vm -l fleet.cairn.io/cluster=c1 --no-headers 2>/dev/null | wc -l | tr -d ' '"
expect_eq "its Secrets are gone" "0" bash -c "kubectl -n fleet-system get secret -l fleet.cairn.io/cluster=c1 --no-headers 2>/dev/null | wc -l | tr -d ' '"
expect_out "the delete operation Succeeded" "^Delete Succeeded" jp operation c1-delete-2 '{.spec.type} {.status.provisioningState}'
wait_for "the pool is released (only the racing cluster's IPs stay in use elsewhere)" 10 \
    bash -c '[ "$(kubectl get lnet lnet1 -o jsonpath="{.status.ipPools[0].used}")" = 0 ]'
expect_ok "the logical network can be deleted now" kubectl delete lnet lnet1

# A delete right behind the create: nothing made meanwhile is left behind.
release() {  # the hosts' part: deleted VMs go; true once no cluster is left
    for v in $(kubectl get vm -o name); do kubectl patch "$v" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1; done
    [ -z "$(kubectl get clusters -o name 2>/dev/null)" ]
}
kubectl delete clusters --all --wait=false >/dev/null 2>&1
wait_for "the racing cluster is deleted" 20 release
cluster_yaml q1 small 1 1 >"$F/q1.yaml"
expect_ok "create q1 and delete it at once" bash -c "kubectl create -f '$F/q1.yaml' && kubectl delete cluster q1 --wait=false"
wait_for "q1 is gone" 20 release
expect_eq "no VM of q1 is left" "" bash -c "kubectl get vm -o name | grep q1-"
expect_eq "no Secret of q1 is left" "" bash -c "kubectl -n fleet-system get secret -o name | grep q1-"
finish
