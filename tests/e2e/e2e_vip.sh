#!/bin/bash
# The control-plane endpoint (cairn server --vip), end to end: three
# control-plane "machines", each a network namespace on one LAN bridge
# (netns_lib.sh) running an etcd member and a cairn server with
# --vip VIP/24. Exactly one namespace carries the VIP; the real kubectl
# reaches the API at https://VIP:6443 with the admin kubeconfig (which
# names the VIP, and the serving certificate must too); after kill -9 of
# the holding server the VIP appears in another namespace and kubectl
# through it works again; the killed server, restarted, clears the stale
# address it left behind; a graceful stop takes the address along.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/netns_lib.sh"
NL_LAN=10.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
P=cvip$$
VIP=$NL_LAN.100
LEASE=(--leader-elect-lease-duration 3 --leader-elect-renew-deadline 2 --leader-elect-retry-period 0.5)
declare -a EPID SPID
IP=("" "$NL_LAN.11" "$NL_LAN.12" "$NL_LAN.13")
e2e_extra_cleanup() {
    local i
    for i in 1 2 3; do
        [ -n "${SPID[$i]:-}" ] && kill -9 "${SPID[$i]}" 2>/dev/null
        [ -n "${EPID[$i]:-}" ] && kill -9 "${EPID[$i]}" 2>/dev/null
    done
    nl_cleanup_all
}

nl_up "$P" || { echo "e2e: cannot create network namespaces"; exit 1; }
for i in 1 2 3; do nl_node "$P" "n$i" "${IP[$i]}" || { echo "e2e: cannot create node $i"; exit 1; }; done

# --- etcd: one member per machine, on its LAN address ---
CLUSTER="m1=http://${IP[1]}:2380,m2=http://${IP[2]}:2380,m3=http://${IP[3]}:2380"
ENDPOINTS="http://${IP[1]}:2379,http://${IP[2]}:2379,http://${IP[3]}:2379"
for i in 1 2 3; do
    mkdir -p "$WORK/e$i"
    # nsenter itself (not the nl_exec function, which would fork a
    # subshell): $! is then the process to kill.
    nsenter --net="/run/netns/$P-n$i" -- etcd --name "m$i" --data-dir "$WORK/e$i/data" \
        --listen-client-urls "http://${IP[$i]}:2379" --advertise-client-urls "http://${IP[$i]}:2379" \
        --listen-peer-urls "http://${IP[$i]}:2380" --initial-advertise-peer-urls "http://${IP[$i]}:2380" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token "$P" \
        --heartbeat-interval 50 --election-timeout 500 >"$WORK/e$i/log" 2>&1 &
    EPID[$i]=$!
    disown "$!"   # killed at cleanup: no "Killed" job notices
done
etcd_ok() { ETCDCTL_API=3 nl_exec "$P-lan" etcdctl --endpoints "$ENDPOINTS" endpoint health >/dev/null 2>&1; }
wait_for "the etcd cluster of the three machines is healthy" 30 etcd_ok || exit 1

# --- servers ---
# start_srv I [flags]: server I in machine I, listening on its LAN address.
start_srv() {
    local i=$1; shift
    mkdir -p "$WORK/s$i"
    # Listening on every address of the machine, the VIP's included.
    nsenter --net="/run/netns/$P-n$i" -- "$CAIRN" server --data-dir "$WORK/s$i/data" --listen "0.0.0.0:6443" \
        --advertise-host "$VIP" --datastore-endpoint "$ENDPOINTS" --etcd-prefix /vip "${LEASE[@]}" \
        --tls-san "${IP[$i]}" --vip "$VIP/24" --vip-interface eth0 "$@" >"$WORK/s$i/out" 2>>"$WORK/s$i/log" &
    SPID[$i]=$!
    for _ in $(seq 1 300); do
        if nl_exec "$P-lan" curl -sk "https://${IP[$i]}:6443/readyz" >/dev/null 2>&1; then return 0; fi
        kill -0 "${SPID[$i]}" 2>/dev/null || { echo "e2e: server $i exited"; tail -20 "$WORK/s$i/log"; return 1; }
        sleep 0.1
    done
    echo "e2e: server $i not ready"; tail -20 "$WORK/s$i/log"; return 1
}
start_srv 1 || exit 1
TOKEN=$(cat "$WORK/s1/data/token")
start_srv 2 --join "https://${IP[1]}:6443" --token "$TOKEN" || exit 1
start_srv 3 --join "https://${IP[1]}:6443" --token "$TOKEN" || exit 1
KC=$WORK/s1/data/kubeconfig

# has_vip I: machine I carries the VIP. holders: the machines that do.
has_vip() { ip -n "$P-n$1" -4 addr show dev eth0 | grep -q "inet $VIP/24"; }
holders() { local i out=""; for i in 1 2 3; do has_vip "$i" && out="$out$i"; done; echo "$out"; }
exactly_one() { [ "$(holders | tr -d '\n' | wc -c)" -eq 1 ]; }
# kv ARGS: the real kubectl from the LAN, through the VIP, admin kubeconfig as written.
kv() { nl_exec "$P-lan" kubectl --kubeconfig "$KC" --request-timeout 5s "$@"; }

wait_for "exactly one machine holds the VIP" 30 exactly_one
H=$(holders)
expect_out "the holder is one of the three" "^[123]$" echo "$H"
expect_out "the admin kubeconfig names the VIP" "server: \"?https://$VIP:6443" cat "$KC"
expect_ok "kubectl through the VIP (certificate names it: no --insecure)" kv get ns default
expect_out "the VIP lease is held" "." kv -n kube-system get lease cairn-vip -o jsonpath='{.spec.holderIdentity}'
expect_out "the holder logged taking the VIP" "vip: holding $VIP/24 on eth0" cat "$WORK/s$H/log"
expect_ok "write through the VIP" kv -n default create cm before --from-literal=a=1
sleep 2
expect_out "still exactly one holder after a few renewals" "^$H$" holders

# --- kill -9 the holding server: the VIP moves to a survivor ---
kill -9 "${SPID[$H]}"; wait "${SPID[$H]}" 2>/dev/null; SPID[$H]=
# The dead server's namespace keeps the address (nothing removes it when a
# process is killed); the survivors race for the lease.
other_holds() { local i; for i in 1 2 3; do [ "$i" != "$H" ] && has_vip "$i" && return 0; done; return 1; }
wait_for "the VIP appears in another machine after kill -9 of its holder" 60 other_holds
N=$(for i in 1 2 3; do [ "$i" != "$H" ] && has_vip "$i" && echo "$i"; done)
expect_out "one survivor holds it" "^[123]$" echo "$N"
expect_out "the new holder logged taking it" "vip: holding $VIP/24 on eth0" cat "$WORK/s$N/log"
wait_for "kubectl through the VIP works again" 60 kv -n default get cm before
expect_ok "write through the VIP after the move" kv -n default create cm after --from-literal=b=2

# --- the killed server restarts: it clears the stale address ---
start_srv "$H" || fail "the killed server restarts"
wait_for "the restarted server removed the address it left" 30 exactly_one
expect_out "the survivor still holds it" "^$N$" holders
expect_ok "kubectl through the VIP" kv -n default get cm after

# --- a graceful stop of the holder takes the address along and hands over ---
kill -TERM "${SPID[$N]}"; wait "${SPID[$N]}"; rc=$?; SPID[$N]=
expect_out "the holder exits cleanly on SIGTERM" "^(0|143)$" echo "$rc"
expect_eq "the stopped holder's machine no longer has the VIP" "" sh -c "ip -n $P-n$N -4 addr show dev eth0 | grep 'inet $VIP/'"
expect_out "it logged releasing it" "released $VIP/24 from eth0" cat "$WORK/s$N/log"
wait_for "another server took the VIP over" 30 exactly_one
wait_for "kubectl through the VIP after the hand-over" 60 kv -n default get cm after

for i in 1 2 3; do
    [ -z "${SPID[$i]:-}" ] && continue
    kill -TERM "${SPID[$i]}"; wait "${SPID[$i]}"; SPID[$i]=
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/s$i/log"; then fail "sanitizer report in server $i log"; fi
done
expect_eq "no machine holds the VIP once every server stopped" "" holders
finish
