#!/bin/bash
# HA control plane, end to end: 3 etcd members + 3 cairn servers (the 2nd
# and 3rd joined with the 1st's token). Checks that every server serves the
# same objects and watches, that exactly one holds each leader lease, and
# the fault cases of issue 4: kill -9 of the lease-holding server and of the
# etcd leader member while a client writes through two servers; every
# acknowledged write is present afterwards, the lease moves, the member
# rejoins. Figures (longest API gap, lease hand-over) are printed.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/../etcd/cluster.sh"
WRITER=$(dirname "$CAIRN")/cairn-writer
HA_N=3 HA_PREFIX=/ha
. "$E2E_DIR/ha_lib.sh"
e2e_extra_cleanup() {
    [ -n "${WPID:-}" ] && kill -9 "$WPID" 2>/dev/null
    ha_cleanup
}
etcd_member_healthy() { ETCDCTL_API=3 etcdctl --endpoints "${ETCD_CLIENT_URLS[$1]}" endpoint health >/dev/null 2>&1; }
# Member I answers a local (serializable) read of KEY: it has caught up.
etcd_member_has() {
    ETCDCTL_API=3 etcdctl --endpoints "${ETCD_CLIENT_URLS[$1]}" get --consistency=s --print-value-only "$2" 2>/dev/null | grep -q .
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

etcd_cluster_start 3 "$WORK/etcd" || { echo "e2e: etcd cluster did not start"; exit 1; }
start_srv 1 || exit 1
TOKEN=$(cat "$WORK/s1/data/token")
expect_out "the etcd server's banner says how to join it" \
    "More servers join with: --datastore-endpoint $ETCD_ENDPOINTS --etcd-prefix /ha --join https://HOST:${SPORT[1]} --token-file $WORK/s1/data/token" \
    cat "$WORK/s1/out"
start_srv 2 --join "https://127.0.0.1:${SPORT[1]}" --token "$TOKEN" || exit 1
start_srv 3 --join "https://127.0.0.1:${SPORT[1]}" --token "$TOKEN" || exit 1
expect_eq "joined servers share the cluster CA" "" cmp "$WORK/s1/data/pki/ca.crt" "$WORK/s2/data/pki/ca.crt"

# --- every server serves the same objects; watches see writes from all ---
ks 3 -n default get cm -w --output-watch-events -o name >"$WORK/watch3" 2>&1 &
W3=$!
sleep 1
expect_ok "create through server 1" ks 1 -n default create cm via1 --from-literal=a=1
expect_ok "create through server 2" ks 2 -n default create cm via2 --from-literal=b=2
for i in 1 2 3; do
    expect_out "server $i lists objects written through 1 and 2" "via1" ks $i -n default get cm
    expect_out "server $i gets the object written through 2" "^via2 " ks $i -n default get cm via2 --no-headers
done
wait_for "a watch on server 3 saw the write through server 2" 10 grep -qx "configmap/via2" "$WORK/watch3"
kill "$W3" 2>/dev/null; wait "$W3" 2>/dev/null
expect_fail "a stale update through another server is 409 Conflict" "Conflict|modified" \
    ks 3 -n default replace -f <(ks 1 -n default get cm via1 -o json | sed 's/"resourceVersion": "[0-9]*"/"resourceVersion": "1"/')

# --- leases: both held, by one server each ---
wait_for "controller-manager lease is held" 10 held cairn-controller-manager
wait_for "scheduler lease is held" 10 held cairn-scheduler
CM=$(holder 1 cairn-controller-manager)
expect_eq "all servers report the same lease holder" "$CM $CM" echo "$(holder 2 cairn-controller-manager) $(holder 3 cairn-controller-manager)"
L=$(server_of "$CM")
expect_out "the holder identity names one of the servers" "^[123]$" echo "$L"
# The namespace finalizer runs only in the holder, whichever server got the delete.
O=$(( L % 3 + 1 ))
expect_ok "create a namespace" ks "$O" create ns gone
expect_ok "delete it through a non-leader" ks "$O" delete ns gone --wait=false
wait_for "the leader finalizes it" 15 sh -c "! kubectl --kubeconfig $WORK/s1/data/kubeconfig --server https://127.0.0.1:${SPORT[$O]} get ns gone"

# --- fault 1: kill -9 the lease-holding server while writing through two ---
# The writer uses the two servers that are not... any two; one may be the victim.
W1=$(( L % 3 + 1 )); W2=$(( W1 % 3 + 1 ))
"$WRITER" write --kubeconfig "$WORK/s1/data/kubeconfig" \
    --server "https://127.0.0.1:${SPORT[$L]},https://127.0.0.1:${SPORT[$W1]}" \
    --namespace default --prefix w --log "$WORK/acked.log" --seconds 60 --concurrency 4 \
    --stop-file "$WORK/stop" >"$WORK/writer.out" 2>&1 &
WPID=$!
sleep 2
RENEW0=$(ks "$W1" -n kube-system get lease cairn-controller-manager -o jsonpath='{.spec.renewTime}')
T0=$(now_ms)
kill -9 "${SPID[$L]}"; wait "${SPID[$L]}" 2>/dev/null; SPID[$L]=
NEW=
for _ in $(seq 1 200); do
    h=$(holder "$W1" cairn-controller-manager)
    if [ -n "$h" ] && [ "$h" != "$CM" ]; then NEW=$h; break; fi
    sleep 0.1
done
HANDOVER=$(( $(now_ms) - T0 ))
# In lease terms: the new holder's acquireTime minus the dead holder's last
# renewTime (both stamped by servers on this machine's clock).
ACQ=$(ks "$W1" -n kube-system get lease cairn-controller-manager -o jsonpath='{.spec.acquireTime}')
LEASE_GAP=$(( ($(date -d "$ACQ" +%s%N) - $(date -d "$RENEW0" +%s%N)) / 1000000 ))
if [ -n "$NEW" ]; then pass "the lease moved to another server (after ${HANDOVER} ms; lease duration 3000 ms)"
else fail "the lease did not move within 20 s"; fi
expect_out "the new holder is a survivor" "^[123]$" sh -c "n=$(server_of "$NEW"); [ \"\$n\" != $L ] && echo \$n"
sleep 1

# --- fault 2: kill -9 the etcd leader member, restart it, it rejoins ---
LM=$(etcd_leader)
expect_out "an etcd leader is known" "^[0-9]+$" echo "$LM"
etcd_member_kill "$LM"
sleep 3
expect_ok "the API answers through a survivor with the etcd leader gone" ks "$W1" -n default get cm via1
etcd_member_restart "$LM"
wait_for "the restarted member is healthy" 20 etcd_member_healthy "$LM"
sleep 2

# --- the killed server restarts (same data dir and port) and serves again ---
start_srv "$L" || fail "the killed server restarts"
expect_out "the restarted server sees the objects" "via2" ks "$L" -n default get cm

touch "$WORK/stop"
wait "$WPID"; WRC=$?; WPID=
cat "$WORK/writer.out"
expect_eq "the writer ran cleanly" 0 echo "$WRC"
GAP=$(sed -n 's/.*longest gap: \([0-9]*\) ms.*/\1/p' "$WORK/writer.out")
echo "figures: longest API gap ${GAP:-?} ms; lease hand-over ${HANDOVER} ms after the kill," \
     "${LEASE_GAP} ms from the last renewTime seen to the new acquireTime (lease 3 s, retry 0.5 s)"
expect_out "every acknowledged write is present (lost 0)" "lost 0" \
    "$WRITER" check --kubeconfig "$WORK/s1/data/kubeconfig" --server "https://127.0.0.1:${SPORT[$W2]}" \
    --namespace default --log "$WORK/acked.log"
expect_ok "a write after the member's restart" ks "$W2" -n default create cm after-restart --from-literal=x=1
wait_for "the restarted etcd member caught up (local read sees the new write)" 20 \
    etcd_member_has "$LM" /ha/configmaps/default/after-restart

stop_servers
finish
