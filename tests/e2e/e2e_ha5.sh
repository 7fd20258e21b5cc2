#!/bin/bash
# The 5-server shape of the HA control plane: 5 etcd members and 5 cairn
# servers (4 joined). Every server serves what was written through any
# other, exactly one leads the controllers, and a stopped leader's lease is
# released to another at once. The fault cases run on 3 (e2e_ha.sh).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/../etcd/cluster.sh"
declare -a SPID SPORT
e2e_extra_cleanup() {
    for i in 1 2 3 4 5; do
        [ -n "${SPID[$i]:-}" ] && kill -9 "${SPID[$i]}" 2>/dev/null && wait "${SPID[$i]}" 2>/dev/null
    done
    etcd_cluster_stop
}
start_srv() {
    local i=$1; shift
    local d=$WORK/s$i port
    mkdir -p "$d"
    "$CAIRN" server --data-dir "$d/data" --listen 127.0.0.1:0 --datastore-endpoint "$ETCD_ENDPOINTS" \
        --etcd-prefix /ha5 --leader-elect-lease-duration 3 --leader-elect-renew-deadline 2 \
        --leader-elect-retry-period 0.5 "$@" >"$d/out" 2>>"$d/log" &
    SPID[$i]=$!
    for _ in $(seq 1 300); do
        port=$(sed -n 's/.*on port \([0-9]*\)\..*/\1/p' "$d/out" | head -1)
        if [ -n "$port" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then SPORT[$i]=$port; return 0; fi
        kill -0 "${SPID[$i]}" 2>/dev/null || { echo "e2e: server $i exited"; tail -20 "$d/log"; return 1; }
        sleep 0.05
    done
    return 1
}
ks() { local i=$1; shift; kubectl --kubeconfig "$WORK/s1/data/kubeconfig" --server "https://127.0.0.1:${SPORT[$i]}" "$@"; }
holder() { ks "$1" -n kube-system get lease cairn-controller-manager -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
leaders() { grep -l "controllers: leading as" "$WORK"/s*/log 2>/dev/null | wc -l; }

etcd_cluster_start 5 "$WORK/etcd" || { echo "e2e: etcd cluster did not start"; exit 1; }
start_srv 1 || exit 1
for i in 2 3 4 5; do
    start_srv "$i" --join "https://127.0.0.1:${SPORT[1]}" --token-file "$WORK/s1/data/token" || exit 1
done
for i in 2 3 4 5; do
    expect_ok "server $i shares the cluster CA" cmp "$WORK/s1/data/pki/ca.crt" "$WORK/s$i/data/pki/ca.crt"
done
expect_ok "create through server 4" ks 4 -n default create cm five --from-literal=a=1
for i in 1 2 3 4 5; do
    expect_eq "server $i serves it" "1" ks "$i" -n default get cm five -o jsonpath='{.data.a}'
done
wait_for "the controller-manager lease is held" 10 test -n "$(holder 1)"
H=$(holder 1)
for i in 2 3 4 5; do expect_eq "server $i names the same holder" "$H" holder "$i"; done
expect_eq "exactly one server leads the controllers" "1" leaders
L=0
for i in 1 2 3 4 5; do grep -qF -- "$H" "$WORK/s$i/log" && L=$i; done
O=$(( L % 5 + 1 ))
kill -TERM "${SPID[$L]}"; wait "${SPID[$L]}"; SPID[$L]=
wait_for "a stopped leader's lease passes to another server" 5 \
    sh -c "h=\$(kubectl --kubeconfig $WORK/s1/data/kubeconfig --server https://127.0.0.1:${SPORT[$O]} -n kube-system get lease cairn-controller-manager -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$H' ]"
for i in 1 2 3 4 5; do
    [ -z "${SPID[$i]}" ] && continue
    kill -TERM "${SPID[$i]}"; wait "${SPID[$i]}"; rc=$?; SPID[$i]=
    [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ] || fail "server $i exited with status $rc"
    grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/s$i/log" && fail "sanitizer report in server $i log"
done
finish
