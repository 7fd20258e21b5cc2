#!/bin/bash
# The 5-server shape of the HA control plane: 5 etcd members and 5 cairn
# servers (4 joined). Every server serves what was written through any
# other, exactly one leads the controllers, and a stopped leader's lease is
# released to another at once. The fault cases run on 3 (e2e_ha.sh).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/../etcd/cluster.sh"
HA_N=5 HA_PREFIX=/ha5
. "$E2E_DIR/ha_lib.sh"
e2e_extra_cleanup() { ha_cleanup; }
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
wait_for "the controller-manager lease is held" 10 held cairn-controller-manager
H=$(holder 1 cairn-controller-manager)
for i in 2 3 4 5; do expect_eq "server $i names the same holder" "$H" holder "$i" cairn-controller-manager; done
expect_eq "exactly one server leads the controllers" "1" leaders
L=$(server_of "$H")
O=$(( L % 5 + 1 ))
kill -TERM "${SPID[$L]}"; wait "${SPID[$L]}"; SPID[$L]=
moved() { local h; h=$(holder "$O" cairn-controller-manager); [ -n "$h" ] && [ "$h" != "$H" ]; }
wait_for "a stopped leader's lease passes to another server" 5 moved
stop_servers
finish
