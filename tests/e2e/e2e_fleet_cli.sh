#!/bin/bash
# The fleet CLI (`cairn cluster`, `cairn fleet`, `cairn apply`,
# docs/cli-fleet.md) against a plain `cairn server` that serves the fleet
# CRDs (manifests/fleet-crds-cli.yaml). No bridge controller runs here: the
# test plays it, writing statuses and Operations with kubectl, so it checks
# exactly what the CLI writes, the progress it prints while an operation
# runs, how it ends (0 on Succeeded, 1 with the message on Failed, 2 on a
# bad command line), and its reading verbs. The bridge's own behaviour
# (admission, placement, realising VMs) is tested by the bridge's suites.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
# Every CLI run's stderr is also kept: a sanitizer report fails the suite
# even where the test expects the command to fail.
C() { "$CAIRN" "$@" 2> >(tee -a "$WORK/cli.err" >&2); }
cli_sanitizer_check() {
    if grep -q "Sanitizer\|runtime error:" "$WORK/cli.err" 2>/dev/null; then
        fail "sanitizer report from the CLI"; grep -A20 "Sanitizer\|runtime error:" "$WORK/cli.err" | head -40
    else pass "no sanitizer report from the CLI"; fi
}
start_server
export CAIRN_BRIDGE_KUBECONFIG=$KUBECONFIG
BG=()
e2e_extra_cleanup() { for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; }

expect_ok "install the fleet CRDs" k apply -f "$E2E_DIR/manifests/fleet-crds-cli.yaml"
for r in hosts logicalnetworks clusters virtualmachines operations; do
    wait_for "$r are served" 30 k get "$r.fleet.cairn.io"
done
jp() { k get "$1" "$2" -o jsonpath="$3"; }
# status KIND NAME JSON: what the bridge controller would write.
status() { k patch "$1.fleet.cairn.io" "$2" --subresource=status --type=merge -p "{\"status\":$3}" >/dev/null; }
operation() {   # operation NAME TYPE CLUSTER STATE MESSAGE
    k apply -f - >/dev/null <<EOF
apiVersion: fleet.cairn.io/v1
kind: Operation
metadata: {name: $1}
spec: {type: $2, target: {kind: Cluster, name: $3}}
EOF
    status operation "$1" "{\"provisioningState\":\"$4\",\"message\":\"$5\"}"
}
# bg NAME cmd...: run in the background, output in $WORK/NAME.{out,err,rc}
bg() {
    local n=$1; shift
    ( "$@" >"$WORK/$n.out" 2>"$WORK/$n.err"; echo $? >"$WORK/$n.rc" ) &
    BG+=($!)
}
bg_done() { [ -s "$WORK/$1.rc" ]; }
running() { ! bg_done "$1"; }

# --- help and bad command lines ---
expect_out "cairn lists the fleet commands" "cluster .*fleet .*apply" bash -c "$CAIRN --help | tr '\n' ' '"
expect_out "cluster --help lists every verb" "create.*show.*list.*update.*scale.*upgrade.*delete.*nodepool.*get-credentials.*get-versions.*vmsize" \
    bash -c "$CAIRN cluster --help | tr '\n' ' '"
for f in lnet kubernetes-version control-plane-count control-plane-vm-size control-plane-ip node-count node-vm-size \
         pod-cidr service-cidr lb-pool labels node-taints no-wait validate timeout kubeconfig; do
    expect_out "cluster create --help lists --$f" "--$f" C cluster create --help
done
expect_out "nodepool add --help lists its flags" "--cluster C.*--name P.*--node-count N.*--os-type" \
    bash -c "$CAIRN cluster nodepool add --help | tr '\n' ' '"
expect_out "fleet lnet create --help lists its flags and defaults" "--vlan N .*default 0" C fleet lnet create --help
bad() {   # bad DESC REGEX cmd...: exit 2, usage on stderr
    local d=$1 re=$2; shift 2
    local err rc=0
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    if [ "$rc" = 2 ] && echo "$err" | grep -Eq -- "$re" && echo "$err" | grep -q '^usage:'; then pass "$d"
    else fail "$d (rc $rc, want 2 and /$re/ with usage)"; echo "$err" | head -5 | sed 's/^/  | /'; fi
}
bad "an unknown flag is a usage error" "unknown flag --bogus" C cluster create c9 --lnet l --bogus
bad "a missing NAME is a usage error" "missing NAME" C cluster create --lnet l
bad "a bad number is a usage error" "--control-plane-count: \"x\" is not a whole number" C cluster create c9 --lnet l --control-plane-count x
bad "a bad label is a usage error" "--labels: \"team\" is not a label key=value" C cluster create c9 --lnet l --labels team
bad "a bad taint is a usage error" "is not a taint" C cluster create c9 --lnet l --node-taints a=b:Never
bad "a bad -o is a usage error" "-o: \"xml\" is not json or yaml" C cluster list -o xml
bad "lnet create without --gateway is a usage error" "--gateway is required" \
    C fleet lnet create l9 --address-prefix 10.9.0.0/24 --dns-servers 10.9.0.1 --ip-pool-start 10.9.0.10 --ip-pool-end 10.9.0.20
bad "maintenance wants on or off" "say on or off" C fleet host maintenance h1 maybe
bad "an unknown verb is a usage error" "unknown command \"frobnicate\"" C cluster frobnicate
expect_fail "no bridge kubeconfig: error, exit 1" "error: cannot use the bridge's kubeconfig" \
    C cluster list --kubeconfig "$WORK/nonexistent"
expect_fail "nothing written by the refused commands" "No resources found|^$" bash -c "$K get clusters.fleet.cairn.io -o name | grep . || exit 1"

# --- logical networks ---
expect_out "lnet create" "logicalnetwork.fleet.cairn.io/lnet1 created" \
    C fleet lnet create lnet1 --address-prefix 10.220.0.0/24 --gateway 10.220.0.1 --dns-servers 10.220.0.1,10.220.0.2 \
    --ip-pool-start 10.220.0.100 --ip-pool-end 10.220.0.199 --vlan 5 --vm-switch-name vmswitch
expect_eq "its spec as the flags said" "10.220.0.0/24 10.220.0.1 10.220.0.1,10.220.0.2 vms:10.220.0.100-10.220.0.199 5 vmswitch Static" \
    bash -c "$K get logicalnetwork.fleet.cairn.io lnet1 -o json | jq -r '.spec | \"\(.addressPrefix) \(.gateway) \(.dnsServers|join(\",\")) \(.ipPools[0].name):\(.ipPools[0].start)-\(.ipPools[0].end) \(.vlan) \(.vmSwitchName) \(.ipAllocationMethod)\"'"
status logicalnetwork lnet1 '{"provisioningState":"Succeeded","ipPools":[{"name":"vms","start":"10.220.0.100","end":"10.220.0.199","used":7,"available":93}]}'
expect_out "lnet list shows the pool and its use" "lnet1 +10.220.0.0/24 +10.220.0.1 +5 +vmswitch +10.220.0.100-10.220.0.199 +7/93 +Succeeded" C fleet lnet list
expect_out "lnet show -o yaml" "addressPrefix: 10.220.0.0/24" C fleet lnet show lnet1 -o yaml
expect_fail "lnet create again: the API's error" "^error: .*already exists" \
    C fleet lnet create lnet1 --address-prefix 10.220.0.0/24 --gateway 10.220.0.1 --dns-servers 10.220.0.1 --ip-pool-start 10.220.0.100 --ip-pool-end 10.220.0.199

# --- create, following the operation ---
expect_out "create --no-wait returns at once" "cluster.fleet.cairn.io/c1 accepted" \
    C cluster create c1 --lnet lnet1 --control-plane-count 3 --control-plane-ip 10.220.0.50 --node-count 2 \
    --node-vm-size Standard_A2_v2 --labels team=web,tier=front --node-taints dedicated=web:NoSchedule \
    --lb-pool 10.220.0.60-10.220.0.69 --lb-pool 10.220.0.70-10.220.0.71 --pod-cidr 10.200.0.0/16 --kubernetes-version 1.31.5 --no-wait
expect_eq "the Cluster has the flags' spec" \
    '{"controlPlane":{"count":3,"endpoint":"10.220.0.50"},"kubernetesVersion":"1.31.5","logicalNetwork":"lnet1","networking":{"loadBalancerPools":[{"end":"10.220.0.69","start":"10.220.0.60"},{"end":"10.220.0.71","start":"10.220.0.70"}],"podCidr":"10.200.0.0/16"},"nodePools":[{"count":2,"labels":{"team":"web","tier":"front"},"name":"nodepool1","taints":["dedicated=web:NoSchedule"],"vmSize":"Standard_A2_v2"}]}' \
    bash -c "$K get cluster.fleet.cairn.io c1 -o json | jq -cS .spec"
expect_out "--validate sends a dry run" "c8 is valid" C cluster create c8 --lnet lnet1 --validate
expect_fail "... which creates nothing" "NotFound|not found" k get cluster.fleet.cairn.io c8
expect_fail "create of an existing name: the API's error, exit 1" "^error: .*already exists" C cluster create c1 --lnet lnet1 --no-wait

bg create2 C cluster create c2 --lnet lnet1 --node-count 2
wait_for "the waiting create wrote its Cluster" 20 k get cluster.fleet.cairn.io c2
status cluster c2 '{"provisioningState":"Accepted","operation":"c2-create-1","observedGeneration":1}'
operation c2-create-1 Create c2 Provisioning "1/3 nodes Ready"
wait_for "progress: 1/3" 20 grep -q "Provisioning: 1/3 nodes Ready" "$WORK/create2.err"
status operation c2-create-1 '{"provisioningState":"Provisioning","message":"2/3 nodes Ready"}'
wait_for "progress: 2/3" 20 grep -q "Provisioning: 2/3 nodes Ready" "$WORK/create2.err"
if running create2; then pass "create still waits while Provisioning"; else fail "create ended early"; cat "$WORK/create2.err"; fi
status operation c2-create-1 '{"provisioningState":"Succeeded","message":"3/3 nodes Ready"}'
status cluster c2 '{"provisioningState":"Succeeded","message":"1/1 control-plane and 2/2 worker nodes Ready","controlPlaneEndpoint":"10.220.0.100","kubernetesVersion":"1.32.0","health":"Healthy","nodes":{"total":3,"ready":3},"nodePools":[{"name":"nodepool1","count":2,"ready":2,"vmSize":"Standard_A4_v2","kubernetesVersion":"1.32.0"}],"controlPlaneStatus":[{"name":"c2-cp-0","host":"h1","phase":"Running","ready":true}]}'
wait_for "create ends when the cluster Succeeded" 30 bg_done create2
expect_eq "... with exit 0" 0 cat "$WORK/create2.rc"
expect_out "... saying so with the endpoint" "cluster.fleet.cairn.io/c2 created: 1/1 control-plane and 2/2 worker nodes Ready, endpoint 10.220.0.100" cat "$WORK/create2.out"
expect_out "progress lines carry the elapsed time" '^\[ +[0-9]+\.[0-9]s\] Succeeded' cat "$WORK/create2.err"

# --- reading ---
expect_out "list" "c2 +1.32.0 +- +3/3 +Succeeded +Healthy +10.220.0.100 +lnet1" C cluster list
expect_out "show" "Endpoint +10.220.0.100" C cluster show c2
expect_out "show lists the control-plane nodes" "c2-cp-0 +h1 +Running +true" C cluster show c2
expect_out "show -o json" '"name": "c2"' C cluster show c2 -o json
expect_out "list -o yaml is a List" "^kind: List" C cluster list -o yaml
expect_fail "show of a missing cluster: error, exit 1" '^error: .*not found' C cluster show nope
expect_out "nodepool list" "nodepool1 +2 +2 +Standard_A4_v2 +1.32.0" C cluster nodepool list --cluster c2
expect_out "nodepool show -o json" '"ready": 2' C cluster nodepool show --cluster c2 --name nodepool1 -o json
expect_out "get-versions" "VERSION" C cluster get-versions
expect_out "vmsize list has the default size" "Standard_A4_v2 +4 +8Gi +0 +yes" C cluster vmsize list

# --- a change that fails ---
bg scale2 C cluster scale c2 --node-count 5
wait_for "scale wrote the new count" 20 bash -c "[ \"\$($K get cluster.fleet.cairn.io c2 -o jsonpath='{.spec.nodePools[0].count}')\" = 5 ]"
# The status still tells of the create (Succeeded at generation 1): scale
# must not take that for its own answer.
expect_out "scale does not take the old Succeeded for its answer" "waiting for the bridge" cat "$WORK/scale2.err"
if running scale2; then pass "scale waits for the controller"; else fail "scale ended on a stale status"; cat "$WORK/scale2.err"; fi
status cluster c2 '{"provisioningState":"Failed","message":"not enough capacity: 2 vCPU short","observedGeneration":2,"operation":"c2-scale-2"}'
wait_for "scale ends when it Failed" 30 bg_done scale2
expect_eq "... with exit 1" 1 cat "$WORK/scale2.rc"
expect_out "... and the message" 'error: cluster "c2": not enough capacity: 2 vCPU short' cat "$WORK/scale2.err"

# --- updates that go through (no wait) ---
status cluster c2 '{"provisioningState":"Succeeded","observedGeneration":2}'
expect_out "update labels" "c2 accepted" C cluster update c2 --labels team=db --node-taints "" --no-wait
expect_eq "... replaced on the pool" '{"team":"db"} []' bash -c "$K get cluster.fleet.cairn.io c2 -o json | jq -c '.spec.nodePools[0].labels, .spec.nodePools[0].taints' | tr '\n' ' ' | sed 's/ \$//'"
expect_out "an update that changes nothing says so" "c2 unchanged" C cluster update c2 --labels team=db
expect_out "upgrade" "c2 accepted" C cluster upgrade c2 --kubernetes-version 1.33.0 --no-wait
expect_eq "... sets spec.kubernetesVersion" 1.33.0 jp cluster.fleet.cairn.io c2 '{.spec.kubernetesVersion}'
expect_out "nodepool add" "c2 accepted" C cluster nodepool add --cluster c2 --name gpu1 --node-count 2 --node-vm-size Standard_NC4_A2 --labels gpu=a2 --no-wait
expect_eq "... appends the pool" "nodepool1:5 gpu1:2:Standard_NC4_A2:a2" \
    bash -c "$K get cluster.fleet.cairn.io c2 -o json | jq -r '[.spec.nodePools[] | [.name, .count, .vmSize, .labels.gpu] | map(select(. != null)) | map(tostring) | join(\":\")] | join(\" \")'"
expect_fail "nodepool add of an existing pool: error" 'already has a node pool "gpu1"' C cluster nodepool add --cluster c2 --name gpu1 --no-wait
expect_out "nodepool scale" "c2 accepted" C cluster nodepool scale --cluster c2 --name gpu1 --node-count 3 --no-wait
expect_eq "... sets that pool's count" 3 jp cluster.fleet.cairn.io c2 '{.spec.nodePools[1].count}'
bad "a bad --node-count of a change is a usage error" "--node-count: \"x\" is not a whole number" C cluster nodepool scale --cluster c2 --name gpu1 --node-count x
bad "scale of a cluster with two pools wants --nodepool" "--nodepool: the cluster has 2 node pools, say which" C cluster scale c2 --node-count 2
expect_out "nodepool delete --yes" "c2 accepted" C cluster nodepool delete --cluster c2 --name gpu1 --yes --no-wait
expect_eq "... removes it" nodepool1 jp cluster.fleet.cairn.io c2 '{.spec.nodePools[*].name}'
expect_fail "nodepool delete of a missing pool: error" 'no node pool "nope"' C cluster nodepool delete --cluster c2 --name nope --yes

# --- credentials ---
printf 'apiVersion: v1\nkind: Config\nclusters: []\n' >"$WORK/kc.want"
expect_ok "the fleet-system namespace" k create namespace fleet-system
expect_ok "the bridge's kubeconfig Secret" k -n fleet-system create secret generic c2-kubeconfig --from-file=value="$WORK/kc.want"
expect_ok "get-credentials --file" C cluster get-credentials c2 --file "$WORK/c2.kubeconfig"
expect_ok "... writes the Secret's kubeconfig" cmp "$WORK/kc.want" "$WORK/c2.kubeconfig"
expect_eq "... readable by its owner only" 600 stat -c %a "$WORK/c2.kubeconfig"
expect_out "get-credentials --file - prints it" "kind: Config" C cluster get-credentials c2 --file -
expect_ok "get-credentials defaults to ./NAME.kubeconfig" bash -c "cd $WORK && $CAIRN cluster get-credentials c2 && cmp kc.want c2.kubeconfig"
expect_fail "get-credentials of a cluster without one: error" "has no admin kubeconfig yet" C cluster get-credentials c1

# --- delete ---
expect_fail "delete without --yes off a terminal refuses" "not deleting cluster \"c1\"" C cluster delete c1 </dev/null
expect_ok "... and c1 is still there" k get cluster.fleet.cairn.io c1
k patch cluster.fleet.cairn.io c2 --type=merge -p '{"metadata":{"finalizers":["fleet.cairn.io/cluster"]}}' >/dev/null
bg delete2 C cluster delete c2 --yes
wait_for "delete marked the cluster" 20 bash -c "[ -n \"\$($K get cluster.fleet.cairn.io c2 -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
status cluster c2 '{"provisioningState":"Deleting","message":"removing 3 VMs","operation":"c2-delete-3"}'
wait_for "delete shows progress" 20 grep -q "Deleting: removing 3 VMs" "$WORK/delete2.err"
if running delete2; then pass "delete waits while the finalizer holds the cluster"; else fail "delete ended early"; fi
k patch cluster.fleet.cairn.io c2 --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_for "delete ends when the cluster is gone" 30 bg_done delete2
expect_eq "... with exit 0" 0 cat "$WORK/delete2.rc"
expect_out "... saying deleted" "cluster.fleet.cairn.io/c2 deleted" cat "$WORK/delete2.out"
expect_out "delete --no-wait" "c1 deleting" C cluster delete c1 --yes --no-wait

# --- hosts ---
expect_out "no hosts yet" "no hosts" C fleet hosts
k apply -f - >/dev/null <<EOF
apiVersion: fleet.cairn.io/v1
kind: Host
metadata: {name: h1}
spec: {address: 10.220.0.11, capacity: {cpu: 32, memory: 128Gi, gpus: 0}}
EOF
status host h1 '{"phase":"Ready","lastHeartbeatTime":"2026-01-01T00:00:00Z","vms":[{"name":"c3-cp-0","phase":"Running","pid":42}],"allocated":{"cpu":4,"memory":"8Gi","vms":1}}'
expect_out "host list" "h1 +Ready +1 +4/32 +8Gi/128Gi +0 +[0-9]+d +10.220.0.11" C fleet host list
expect_out "host show lists its VMs" "c3-cp-0 +Running +42" C fleet host show h1
bg maint C fleet host maintenance h1 on
wait_for "maintenance on sets spec.maintenance" 20 bash -c "[ \"\$($K get host.fleet.cairn.io h1 -o jsonpath='{.spec.maintenance}')\" = true ]"
status host h1 '{"phase":"Maintenance","message":"moving 1 VM"}'
wait_for "maintenance shows progress" 20 grep -q "Maintenance: moving 1 VM" "$WORK/maint.err"
if running maint; then pass "maintenance waits until the host runs no VM"; else fail "maintenance ended with VMs left"; fi
hostop() {   # hostop NAME HOST STATE MESSAGE: the bridge's HostMaintenance Operation
    printf 'apiVersion: fleet.cairn.io/v1\nkind: Operation\nmetadata: {name: %s}\nspec: {type: HostMaintenance, target: {kind: Host, name: %s}}\n' "$1" "$2" | k apply -f - >/dev/null
    status operation "$1" "{\"provisioningState\":\"$3\",\"message\":\"$4\"}"
}
hostop h1-hostmaintenance-1 h1 Provisioning "draining c3-np1-0"
wait_for "maintenance shows the operation's progress" 20 grep -q "Provisioning: draining c3-np1-0" "$WORK/maint.err"
k patch host.fleet.cairn.io h1 --subresource=status --type=json -p '[{"op":"replace","path":"/status/vms","value":[]},{"op":"replace","path":"/status/message","value":"drained"}]' >/dev/null
wait_for "maintenance ends when drained" 30 bg_done maint
expect_eq "... with exit 0" 0 cat "$WORK/maint.rc"
expect_out "maintenance off --no-wait" "maintenance off" C fleet host maintenance h1 off --no-wait
expect_eq "... clears spec.maintenance" false jp host.fleet.cairn.io h1 '{.spec.maintenance}'
status host h1 '{"vms":[{"name":"c3-cp-0","phase":"Running","pid":42}]}'
bg maint2 C fleet host maintenance h1 on
wait_for "maintenance on again" 20 bash -c "[ \"\$($K get host.fleet.cairn.io h1 -o jsonpath='{.spec.maintenance}')\" = true ]"
hostop h1-hostmaintenance-2 h1 Failed "host left maintenance with 1 VM not moved"
wait_for "maintenance ends when its operation fails" 30 bg_done maint2
expect_eq "... with exit 1" 1 cat "$WORK/maint2.rc"
expect_out "... and the message" 'error: host "h1": host left maintenance with 1 VM not moved' cat "$WORK/maint2.err"
C fleet host maintenance h1 off --no-wait >/dev/null
expect_out "fleet status: the overview" "Fleet: 0/1 hosts Ready" C fleet status
expect_out "fleet status lists the IP pools" "lnet1 +vms +10.220.0.100-10.220.0.199 +7 +93" C fleet status

# --- ip-plan (computed by the fleet model on the listed snapshot) ---
status host h1 '{"phase":"Ready"}'
expect_out "ip-plan with the flags of create: the pool table" \
    "vms +10.220.0.100 +10.220.0.199 +100 +0 +3 +1 +1 +95" \
    C fleet ip-plan c5 --lnet lnet1 --control-plane-count 1 --node-count 2
expect_out "... and the endpoint it would get" "Control plane endpoint: 10.220.0.100 \(from pool vms\)" \
    C fleet ip-plan c5 --lnet lnet1 --control-plane-count 1 --node-count 2
expect_ok "ip-plan -o json is the raw report" \
    bash -c "$CAIRN fleet ip-plan c5 --lnet lnet1 --node-count 2 -o json | jq -e '.pools[0].nodes == 3 and .pools[0].freeAfter == 95'"
expect_fail "ip-plan of a plan admission refuses: its message, exit 1" \
    "^error: .*service CIDR 10.220.0.0/16 overlaps the address prefix 10.220.0.0/24" \
    C fleet ip-plan c6 --lnet lnet1 --service-cidr 10.220.0.0/16
cat >"$WORK/c5.yaml" <<EOF
apiVersion: fleet.cairn.io/v1
kind: Cluster
metadata: {name: c5}
spec: {logicalNetwork: lnet1, nodePools: [{name: np1, count: 2}]}
EOF
expect_out "ip-plan -f FILE" "vms +10.220.0.100 +10.220.0.199 +100 +0 +3 +1 +1 +95" C fleet ip-plan -f "$WORK/c5.yaml"
bad "ip-plan wants -f or NAME" "give -f FILE or NAME" C fleet ip-plan
expect_fail "ip-plan creates nothing" "NotFound|not found" k get cluster.fleet.cairn.io c5

# --- apply ---
cat >"$WORK/fleet.yaml" <<EOF
# clusters first in the file: apply still makes the network first
apiVersion: fleet.cairn.io/v1
kind: Cluster
metadata: {name: web}
spec:
  logicalNetwork: lnet2
  controlPlane: {count: 1}
  nodePools: [{name: np1, count: 2}]
---
apiVersion: fleet.cairn.io/v1
kind: LogicalNetwork
metadata: {name: lnet2}
spec:
  addressPrefix: 10.221.0.0/24
  gateway: 10.221.0.1
  dnsServers: [10.221.0.1]
  ipPools: [{name: vms, start: 10.221.0.100, end: 10.221.0.150}]
---
apiVersion: fleet.cairn.io/v1
kind: Host
metadata: {name: h2}
spec: {address: 10.220.0.12, capacity: {cpu: 16, memory: 64Gi}}
EOF
expect_eq "apply creates in dependency order" \
    "logicalnetwork.fleet.cairn.io/lnet2 created host.fleet.cairn.io/h2 created cluster.fleet.cairn.io/web created" \
    bash -c "$CAIRN apply -f $WORK/fleet.yaml | tr '\n' ' ' | sed 's/ \$//'"
expect_eq "apply again: unchanged" \
    "logicalnetwork.fleet.cairn.io/lnet2 unchanged host.fleet.cairn.io/h2 unchanged cluster.fleet.cairn.io/web unchanged" \
    bash -c "$CAIRN apply -f $WORK/fleet.yaml | tr '\n' ' ' | sed 's/ \$//'"
sed -i 's/count: 2}/count: 4}/' "$WORK/fleet.yaml"
expect_out "apply of a changed count from stdin: configured" "cluster.fleet.cairn.io/web configured" \
    bash -c "$CAIRN apply -f - <$WORK/fleet.yaml"
expect_eq "... patched the spec" 4 jp cluster.fleet.cairn.io web '{.spec.nodePools[0].count}'
expect_out "apply --dry-run changes nothing" "web unchanged" bash -c "sed 's/count: 4}/count: 6}/' $WORK/fleet.yaml | $CAIRN apply --dry-run -f - | grep web; $CAIRN apply -f $WORK/fleet.yaml"
expect_eq "... the count is still 4" 4 jp cluster.fleet.cairn.io web '{.spec.nodePools[0].count}'
expect_out "apply takes JSON too (a List)" "host.fleet.cairn.io/h3 created" bash -c "echo '{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"fleet.cairn.io/v1\",\"kind\":\"Host\",\"metadata\":{\"name\":\"h3\"},\"spec\":{\"address\":\"10.0.0.3\"}}]}' | $CAIRN apply -f -"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: fleet.cairn.io/v1\nkind: Host\nmetadata: {name: h9}\nspec: {}\n' >"$WORK/bad.yaml"
expect_fail "apply of a foreign kind: error, nothing written" "object 1 \(ConfigMap v1\) is not a fleet.cairn.io/v1" C apply -f "$WORK/bad.yaml"
expect_fail "... not even the valid Host" "NotFound|not found" k get host.fleet.cairn.io h9
bg applyw C apply -f "$WORK/fleet.yaml" --wait
wait_for "apply --wait waits on the cluster" 20 grep -q "waiting for cluster.fleet.cairn.io/web" "$WORK/applyw.err"
status cluster web '{"provisioningState":"Succeeded","message":"all nodes Ready","observedGeneration":2}'
wait_for "apply --wait ends when the cluster Succeeded" 30 bg_done applyw
expect_eq "... with exit 0" 0 cat "$WORK/applyw.rc"

cli_sanitizer_check
finish
