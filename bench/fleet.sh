#!/bin/bash
# bench/fleet.sh: issue 7's fleet benchmark. Three hosts on this machine
# (network namespaces, tests/e2e/fleet_lib.sh: the same topology as
# tests/e2e/e2e_fleet.sh), `cairn bridge` and a registry in the lan
# namespace. Each run measures, from the create request to
# provisioningState Succeeded (every node Ready), a 1+1 cluster and then a
# 3+3 cluster; then, with a 3-replica busybox httpd Deployment on the 3+3
# cluster (one pod per worker), kills the host of one worker (all its
# processes and its network namespace) and measures the time from the kill
# to: the host NotReady on the bridge, its VMs Running on other hosts, and
# every affected pod Ready again (each pod on a moved worker running a
# container started after the kill, and 3/3 replicas Ready). Between runs
# the clusters are deleted and the host comes back. Prints p50 and max of
# each figure over the runs, and the peak RSS (VmHWM) of the bridge, of
# each `cairn host` and of the processes of its VMs. Figures only: never
# fails on a timing. Needs root, runc, skopeo, docker-registry.
#
#   bench/fleet.sh [--runs N] [path/to/cairn]     (default: 3 runs, build/cairn)
set -u
RUNS=3
ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
set -- "${ARGS[0]:-$ROOT/build/cairn}"
if [ "$(id -u)" -ne 0 ] || ! command -v runc >/dev/null || ! command -v skopeo >/dev/null ||
    ! command -v docker-registry >/dev/null; then
    echo "bench/fleet: skipped: needs root, runc, skopeo and docker-registry"; exit 0
fi
# The e2e harness gives the work dir, the cleanup trap and pass/fail
# counters (used here only to report setup problems).
. "$ROOT/tests/e2e/lib.sh"
. "$E2E_DIR/netns_lib.sh"
. "$E2E_DIR/registry_lib.sh"
. "$E2E_DIR/fleet_lib.sh"
if ! "$CAIRN" bridge --help >/dev/null 2>&1 || ! "$CAIRN" host --help >/dev/null 2>&1; then
    echo "bench/fleet: skipped: $CAIRN has no bridge or host command"; exit 0
fi
if "$CAIRN" host --help 2>&1 | grep -q -- '--agent-arg'; then
    FLEET_HOST_ARGS+=(--agent-arg=--insecure-registry="$FLEET_GW:5000" --agent-arg=--backoff-initial=1s)
fi

R_HOST=hosts.fleet.cairn.io
R_CL=clusters.fleet.cairn.io
R_VM=virtualmachines.fleet.cairn.io
HOSTS=("${FLEET_HOST_PREFIX}1" "${FLEET_HOST_PREFIX}2" "${FLEET_HOST_PREFIX}3")
jb() { kb get "$1" -o jsonpath="$2" 2>/dev/null; }
die() { echo "bench/fleet: $*"; tail -20 "$WORK/bridge.log" 2>/dev/null | sed 's/^/  bridge | /'; FAIL=$((FAIL + 1)); exit 1; }
# until SECONDS CMD...: retry CMD every 0.1 s; 1 when time runs out.
until_ok() {
    local end=$(( $(date +%s) + $1 )); shift
    while ! "$@" >/dev/null 2>&1; do [ "$(date +%s)" -gt "$end" ] && return 1; sleep 0.1; done
}
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# Sum of VmHWM over the processes of host H except `cairn host` itself and
# its unshare (= its VMs: servers, agents, etcd, containers).
vms_hwm_kb() {
    local h=$1 root init p sum=0 v
    root=${FLEET_HOST_PID[$h]:-}
    init=$(pgrep -P "$root" 2>/dev/null | head -1)
    for p in $(fleet_host_pids "$h"); do
        [ "$p" = "$root" ] || [ "$p" = "$init" ] && continue
        v=$(hwm_kb "$p"); sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
stats() {   # stats LABEL VALUES...: p50 (nearest rank) and max
    local label=$1; shift
    [ $# -eq 0 ] && { echo "$label: no sample"; return; }
    printf '%s\n' "$@" | sort -n | awk -v l="$label" '{ v[NR] = $1 } END {
        p = int((NR + 1) / 2); printf "%-44s p50 %6.1f s   max %6.1f s   (%d runs)\n", l ":", v[p], v[NR], NR }'
}

cluster_yaml() {   # NAME CP WORKERS
    printf '%s\n' 'apiVersion: fleet.cairn.io/v1' 'kind: Cluster' "metadata: {name: $1}" 'spec:' \
        '  logicalNetwork: lnet1' "  controlPlane: {count: $2}" '  nodePools:' \
        "  - {name: np1, count: $3, labels: {fleet-bench: web}}"
}
# create_timed NAME CP WORKERS: seconds from the create request to Succeeded.
create_timed() {
    local t0 s
    cluster_yaml "$1" "$2" "$3" >"$WORK/$1.yaml"
    t0=$(fleet_now)
    kb create -f "$WORK/$1.yaml" >/dev/null || return 1
    for _ in $(seq 1 3000); do
        s=$(jb "$R_CL/$1" '{.status.provisioningState}')
        [ "$s" = Succeeded ] && { fleet_since "$t0"; return 0; }
        [ "$s" = Failed ] && break
        sleep 0.1
    done
    echo "bench/fleet: $1 did not succeed: $(jb "$R_CL/$1" '{.status.provisioningState}: {.status.message}')" >&2
    return 1
}
delete_cluster() {
    kb delete "$R_CL/$1" --wait=false >/dev/null 2>&1
    until_ok 180 sh -c "! nsenter --net=/run/netns/$FLEET_LAN $FLEET_KUBECTL --kubeconfig $FLEET_KUBECONFIG get $R_CL/$1"
}

# ---- setup
T0=$(fleet_now)
fleet_lan_up || die "lan namespace"
fleet_registry_up || die "registry"
fleet_bridge_start || die "bridge"
for h in "${HOSTS[@]}"; do fleet_host_start "$h"; done
until_ok 120 fleet_all_hosts_ready "${HOSTS[@]}" || die "hosts not Ready"
printf '%s\n' 'apiVersion: fleet.cairn.io/v1' 'kind: LogicalNetwork' 'metadata: {name: lnet1}' 'spec:' \
    '  addressPrefix: 10.220.0.0/24' "  gateway: $FLEET_GW" "  dnsServers: [$FLEET_GW]" '  vmSwitchName: vmswitch' \
    '  ipAllocationMethod: Static' '  ipPools:' '  - {name: vms, start: 10.220.0.100, end: 10.220.0.199}' >"$WORK/lnet.yaml"
kb create -f "$WORK/lnet.yaml" >/dev/null || die "logical network"
echo "bench/fleet: 3 hosts Ready, logical network made in $(fleet_since "$T0") s; $RUNS runs"

# ---- runs
C11=() C33=() NOTREADY=() MOVED=() PODS=()
for run in $(seq 1 "$RUNS"); do
    a=b11-$run b=b33-$run
    t=$(create_timed "$a" 1 1) || die "run $run: 1+1 cluster"
    C11+=("$t")
    t=$(create_timed "$b" 3 3) || die "run $run: 3+3 cluster"
    C33+=("$t")
    kb -n fleet-system get secret "$b-kubeconfig" -o jsonpath='{.data.value}' | base64 -d >"$WORK/$b.kubeconfig"
    kx() { in_lan "$FLEET_KUBECTL" --kubeconfig "$WORK/$b.kubeconfig" --request-timeout=10s "$@"; }
    fleet_web_yaml "$WORK/web.yaml" fleet-bench
    kx apply -f "$WORK/web.yaml" >/dev/null || die "run $run: deployment"
    until_ok 180 sh -c "[ \"\$(nsenter --net=/run/netns/$FLEET_LAN $FLEET_KUBECTL --kubeconfig $WORK/$b.kubeconfig get deployment web -o jsonpath='{.status.readyReplicas}')\" = 3 ]" ||
        die "run $run: web not Ready"
    # The victim: the host of the worker running the first web pod.
    node=$(kx get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')
    victim=$(jb "$R_VM/$node" '{.spec.host}')
    [ -n "$victim" ] || die "run $run: no host for node $node"
    moved=$(kb get "$R_VM" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.host}{"\n"}{end}' | awk -v h="$victim" '$2 == h {print $1}' | tr '\n' ' ')
    affected=$(kb get "$R_VM" -l "fleet.cairn.io/cluster=$b,fleet.cairn.io/role=worker" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.host}{"\n"}{end}' | awk -v h="$victim" '$2 == h {print $1}' | tr '\n' ' ')
    if [ "$run" -eq "$RUNS" ]; then   # peak RSS, taken before the host goes
        RSS_BRIDGE=$(hwm_kb "$FLEET_BRIDGE_PID")
        RSS_HOSTS="" RSS_VMS=""
        for h in "${HOSTS[@]}"; do
            RSS_HOSTS="$RSS_HOSTS $h $(hwm_kb "$(pgrep -P "${FLEET_HOST_PID[$h]}" | head -1)") KiB;"
            RSS_VMS="$RSS_VMS $h $(( $(vms_hwm_kb "$h") / 1024 )) MiB;"
        done
    fi
    tk=$(fleet_now)
    tk_s=${tk%.*}
    fleet_kill_host "$victim"
    until_ok 120 sh -c "[ \"\$(nsenter --net=/run/netns/$FLEET_LAN $FLEET_KUBECTL --kubeconfig $FLEET_KUBECONFIG get $R_HOST/$victim -o jsonpath='{.status.phase}')\" = NotReady ]" ||
        die "run $run: $victim never NotReady"
    NOTREADY+=("$(fleet_since "$tk")")
    vms_back() {
        local v l
        for v in $moved; do
            l=$(jb "$R_VM/$v" '{.spec.host} {.status.phase} {.status.host}')
            set -- $l
            [ -n "${1:-}" ] && [ "$1" != "$victim" ] && [ "${2:-}" = Running ] && [ "${3:-}" = "$1" ] || return 1
        done
    }
    until_ok 300 vms_back || die "run $run: VMs of $victim not Running elsewhere"
    MOVED+=("$(fleet_since "$tk")")
    # Every pod on a moved worker runs a container started after the
    # kill and is Ready, and the Deployment has 3 Ready replicas.
    pods_back() {
        local n st rd ok=0 t
        while read -r n st rd; do
            [ "$rd" = True ] || return 1
            ok=$((ok + 1))
            case " $affected " in *" $n "*)
                t=$(date -d "$st" +%s 2>/dev/null) || return 1
                [ "$t" -ge "$tk_s" ] || return 1 ;;
            esac
        done < <(kx get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{.status.containerStatuses[0].state.running.startedAt}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null)
        [ "$ok" -eq 3 ]
    }
    until_ok 300 pods_back || die "run $run: web pods not Ready again"
    PODS+=("$(fleet_since "$tk")")
    echo "bench/fleet: run $run: 1+1 ${C11[-1]} s, 3+3 ${C33[-1]} s; $victim lost: NotReady ${NOTREADY[-1]} s, VMs Running ${MOVED[-1]} s, pods Ready ${PODS[-1]} s"
    delete_cluster "$a" || die "run $run: delete $a"
    delete_cluster "$b" || die "run $run: delete $b"
    fleet_host_start "$victim"
    until_ok 120 fleet_host_ready "$victim" || die "run $run: $victim did not come back"
done

echo
echo "bench/fleet: 3 hosts on one machine, $(nproc) cores; goals < 15 s each"
stats "create 1+1 cluster (request -> Succeeded)" "${C11[@]}"
stats "create 3+3 cluster (request -> Succeeded)" "${C33[@]}"
stats "host loss -> host NotReady" "${NOTREADY[@]}"
stats "host loss -> its VMs Running elsewhere" "${MOVED[@]}"
stats "host loss -> affected pods Ready again" "${PODS[@]}"
echo "peak RSS: bridge ${RSS_BRIDGE:-?} KiB; cairn host:${RSS_HOSTS:-?}"
echo "peak RSS of each host's VM processes (servers, agents, etcd, containers; summed):${RSS_VMS:-?}"
fleet_cleanup
