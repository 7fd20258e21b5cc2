#!/bin/bash
# cairn bridge, a cluster's whole life against a stand-in cluster, on
# loopback only: the logical network is a 127.x.y.0/24 (all of 127/8 is
# loopback), the test starts a real `cairn server` on the control-plane
# endpoint with the CA and service-account key of the cluster's PKI Secret,
# and plays the hosts: a loop reports every VirtualMachine Running or
# Stopped as its spec.running asks, registers a Ready Node named after each
# running VM in the stand-in cluster, and removes deleted VMs (and their
# Nodes). Checks create -> Succeeded with the inventory (Healthy, nodes,
# last heartbeat through the admin kubeconfig), scale up and down, and the
# rolling upgrade: the control plane restarted in place on the new version,
# each worker replaced through a surge VM; then delete.
. "$(dirname "$0")/lib.sh"
DATA=$WORK/bridge
export KUBECONFIG=$DATA/kubeconfig
F=$WORK/fleet
CL=$WORK/cluster
mkdir -p "$F" "$CL/pki"
NET=127.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 + 1 ))
CLUSTER_PID= HOSTSIM_PID=
e2e_extra_cleanup() {
    [ -n "$HOSTSIM_PID" ] && kill "$HOSTSIM_PID" 2>/dev/null && wait "$HOSTSIM_PID" 2>/dev/null
    [ -n "$CLUSTER_PID" ] && kill "$CLUSTER_PID" 2>/dev/null && wait "$CLUSTER_PID" 2>/dev/null
}
jp() { kubectl get "$1" "$2" -o "jsonpath=$3" 2>&1; }
state_is() { [ "$(jp cluster u1 '{.status.provisioningState}')" = "$1" ]; }
kc() { kubectl --kubeconfig "$F/u1.kubeconfig" "$@"; }

# The hosts' part, one pass.
host_pass() {
    kubectl get vm -o json 2>/dev/null | jq -r '.items[] | [.metadata.name, (.spec.running|tostring),
        (.status.phase // ""), (.metadata.deletionTimestamp // ""), .spec.host] | join("|")' |
    while IFS='|' read -r name running phase del host; do
        if [ -n "$del" ]; then
            kc delete node "$name" --ignore-not-found --wait=false >/dev/null 2>&1
            kubectl patch vm "$name" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
            continue
        fi
        want=Running; [ "$running" = false ] && want=Stopped
        [ "$phase" != "$want" ] && kubectl patch vm "$name" --subresource=status --type=merge \
            -p "{\"status\":{\"phase\":\"$want\",\"host\":\"$host\"}}" >/dev/null 2>&1
        if [ "$want" = Running ] && ! kc get node "$name" >/dev/null 2>&1; then
            printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"}}' "$name" | kc create -f - >/dev/null 2>&1
            kc patch node "$name" --subresource=status --type=merge -p \
                '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"stand-in"}]}}' >/dev/null 2>&1
        fi
    done
}

CAIRN_SERVER_CMD=bridge start_server --no-fsync --operation-timeout 90s
cat >"$F/infra.yaml" <<Y
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: lo}
spec:
  addressPrefix: $NET.0/24
  gateway: $NET.1
  dnsServers: [$NET.1]
  vmSwitchName: vmswitch
  ipPools: [{name: vms, start: $NET.100, end: $NET.130}]
---
Y
for h in h1 h2 h3; do
    printf 'apiVersion: fleet.cairn.io/v1\nkind: Host\nmetadata: {name: %s}\nspec: {capacity: {cpu: 32, memory: 128Gi}}\n---\n' "$h" >>"$F/infra.yaml"
done
expect_ok "logical network $NET.0/24 and three hosts" kubectl create -f "$F/infra.yaml"
for h in h1 h2 h3; do
    kubectl patch host "$h" --subresource=status --type=merge -p '{"status":{"phase":"Ready"}}' >/dev/null
done
cat >"$F/u1.yaml" <<Y
apiVersion: fleet.cairn.io/v1
kind: Cluster
metadata: {name: u1}
spec:
  kubernetesVersion: "1.31.5"
  logicalNetwork: lo
  controlPlane: {count: 1}
  nodePools: [{name: np1, count: 2}]
Y
expect_ok "create cluster u1 (1+2, Kubernetes 1.31.5)" kubectl create -f "$F/u1.yaml"
wait_for "its PKI and kubeconfig Secrets exist" 15 kubectl -n fleet-system get secret u1-pki u1-kubeconfig
EP=$(jp cluster u1 '{.status.controlPlaneEndpoint}')
expect_out "the endpoint is in the loopback network" "^$NET\.1[0-3][0-9]$" echo "$EP"

# The stand-in cluster: a cairn server on ENDPOINT:6443 with the cluster's CA and keys.
for k in ca.crt ca.key sa.key sa.pub; do
    kubectl -n fleet-system get secret u1-pki -o json | jq -r ".data[\"$k\"]" | base64 -d >"$CL/pki/$k"
done
chmod 600 "$CL/pki/ca.key" "$CL/pki/sa.key"
kubectl -n fleet-system get secret u1-kubeconfig -o jsonpath='{.data.value}' | base64 -d >"$F/u1.kubeconfig"
"$CAIRN" server --data-dir "$CL" --listen "$EP:6443" --no-fsync --node-monitor-grace-period 10m \
    --disable-scheduler >"$WORK/cluster.out" 2>"$WORK/cluster.log" &
CLUSTER_PID=$!
wait_for "the admin kubeconfig of the Secret reaches the stand-in cluster" 20 kc get ns default
( while :; do host_pass; sleep 0.3; done ) >/dev/null 2>&1 &
HOSTSIM_PID=$!

wait_for "create Succeeded once every node is Ready" 60 state_is Succeeded
expect_eq "the message counts the nodes" "1/1 control-plane and 2/2 worker nodes Ready" jp cluster u1 '{.status.message}'
expect_out "the operation Succeeded with an end time" "^Succeeded .+T" jp operation u1-create-1 '{.status.provisioningState} {.status.endTime}'
expect_eq "status.kubernetesVersion" "1.31.5" jp cluster u1 '{.status.kubernetesVersion}'
wait_for "inventory: Healthy, 3/3 nodes, a last heartbeat" 20 bash -c \
    "[ \"\$(kubectl get cluster u1 -o jsonpath='{.status.health} {.status.nodes.ready}/{.status.nodes.total}')\" = 'Healthy 3/3' ] && kubectl get cluster u1 -o jsonpath='{.status.lastHeartbeatTime}' | grep -q T"
expect_out "controlPlaneStatus names u1-cp-0, its host, Running, ready" '"name":"u1-cp-0".*"phase":"Running".*"ready":true|"host":"h[123]".*"name":"u1-cp-0"' \
    jp cluster u1 '{.status.controlPlaneStatus}'

# --- scale up, then down ---
expect_ok "scale np1 to 3" kubectl patch cluster u1 --type=merge -p '{"spec":{"nodePools":[{"name":"np1","count":3}]}}'
wait_for "operation u1-scale-2 Succeeded" 60 bash -c "[ \"\$(kubectl get op u1-scale-2 -o jsonpath='{.status.provisioningState}')\" = Succeeded ]"
expect_eq "three workers" "3" bash -c "kubectl get vm -l fleet.cairn.io/role=worker --no-headers | wc -l | tr -d ' '"
expect_ok "scale np1 to 2" kubectl patch cluster u1 --type=merge -p '{"spec":{"nodePools":[{"name":"np1","count":2}]}}'
wait_for "operation u1-scale-3 Succeeded" 60 bash -c "[ \"\$(kubectl get op u1-scale-3 -o jsonpath='{.status.provisioningState}')\" = Succeeded ]"
expect_eq "the highest-index worker went" "u1-np1-0 u1-np1-1" \
    bash -c "kubectl get vm -l fleet.cairn.io/role=worker -o name | sed 's|.*/||' | sort | xargs"

# --- update: a pool's node labels and taints reach its VMs ---
expect_ok "label and taint pool np1" kubectl patch cluster u1 --type=merge -p \
    '{"spec":{"nodePools":[{"name":"np1","count":2,"labels":{"team":"web"},"taints":["dedicated=web:NoSchedule"]}]}}'
wait_for "operation u1-update-4 Succeeded" 60 bash -c "[ \"\$(kubectl get op u1-update-4 -o jsonpath='{.spec.type} {.status.provisioningState}')\" = 'Update Succeeded' ]"
expect_eq "the pool's VMs carry them" "web dedicated=web:NoSchedule
web dedicated=web:NoSchedule" kubectl get vm -l fleet.cairn.io/role=worker -o jsonpath='{range .items[*]}{.spec.labels.team} {.spec.taints[0]}{"\n"}{end}'

# --- rolling upgrade ---
before_cp=$(jp vm u1-cp-0 '{.metadata.uid} {.spec.ip} {.spec.host}')
kubectl get vm -o jsonpath='{range .items[*]}{.metadata.name} {.spec.kubernetesVersion}{"\n"}{end}' >"$F/before"
expect_ok "upgrade to 1.32.0" kubectl patch cluster u1 --type=merge -p '{"spec":{"kubernetesVersion":"1.32.0"}}'
wait_for "operation u1-upgrade-5 is Upgrading" 15 bash -c "[ \"\$(kubectl get op u1-upgrade-5 -o jsonpath='{.spec.type} {.status.provisioningState}')\" = 'Upgrade Upgrading' ] || [ \"\$(kubectl get op u1-upgrade-5 -o jsonpath='{.status.provisioningState}')\" = Succeeded ]"
# kill -9 in the middle of it (once the first surge worker exists): the
# restarted bridge carries on from the stored objects.
wait_for "a surge worker on 1.32.0 appears" 60 bash -c \
    "kubectl get vm -l fleet.cairn.io/role=worker -o jsonpath='{.items[*].spec.kubernetesVersion}' | grep -q 1.32.0"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
CAIRN_SERVER_CMD=bridge start_server --no-fsync --operation-timeout 90s
expect_eq "after kill -9 and restart the upgrade is still u1-upgrade-5" "u1-upgrade-5" jp cluster u1 '{.status.operation}'
wait_for "upgrade Succeeded" 90 state_is Succeeded
expect_eq "one upgrade operation" "1" bash -c "kubectl get op -o name | grep -c upgrade"
expect_eq "workers made in all: 2 at create, 1 at scale-up, 1 surge per old worker (none twice)" "5" \
    bash -c "grep -c 'virtual machine \"u1-np1-[0-9]*\" on host' '$WORK/server.log'"

expect_eq "the upgrade operation Succeeded" "Upgrade Succeeded" jp operation u1-upgrade-5 '{.spec.type} {.status.provisioningState}'
expect_eq "the control plane was upgraded in place (same VM, IP, host)" "$before_cp 1.32.0 true" \
    jp vm u1-cp-0 '{.metadata.uid} {.spec.ip} {.spec.host} {.spec.kubernetesVersion} {.spec.running}'
expect_eq "every VM runs 1.32.0" "1.32.0" bash -c "kubectl get vm -o jsonpath='{range .items[*]}{.spec.kubernetesVersion}{\"\\n\"}{end}' | sort -u"
expect_eq "still 1 control plane and 2 workers" "1 2" bash -c \
    "echo \$(kubectl get vm -l fleet.cairn.io/role=control-plane --no-headers | wc -l) \$(kubectl get vm -l fleet.cairn.io/role=worker --no-headers | wc -l)"
expect_out "the old workers were replaced" "^$" bash -c \
    "kubectl get vm -o name | sed 's|.*/||' | grep -x -e u1-np1-0 -e u1-np1-1 | while read -r n; do grep -q \"^\$n 1.31.5\" '$F/before' && kubectl get vm \$n -o jsonpath='{.metadata.uid}' | grep -q . && echo kept-old-\$n; done; true"
expect_eq "status.kubernetesVersion" "1.32.0" jp cluster u1 '{.status.kubernetesVersion}'
expect_eq "three nodes Ready in the cluster" "3" bash -c "kubectl --kubeconfig '$F/u1.kubeconfig' get nodes --no-headers | grep -c ' Ready' | tr -d ' '"

# --- delete ---
expect_ok "delete u1" kubectl delete cluster u1 --wait=false
wait_for "u1 is gone with its VMs and Secrets" 30 bash -c \
    "! kubectl get cluster u1 && [ -z \"\$(kubectl get vm -o name)\" ] && [ -z \"\$(kubectl -n fleet-system get secret -l fleet.cairn.io/cluster=u1 -o name)\" ]"
expect_eq "the delete operation Succeeded" "Succeeded" jp operation u1-delete-5 '{.status.provisioningState}'
finish
