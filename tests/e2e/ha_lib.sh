# ha_lib.sh: several cairn servers over one etcd cluster, for the HA suites
# (sourced after lib.sh and tests/etcd/cluster.sh; set HA_N and HA_PREFIX
# first). Server I lives in $WORK/sI; SPID[I] and SPORT[I] are its pid and
# port. Short leases keep hand-overs within seconds.
LEASE=(--leader-elect-lease-duration 3 --leader-elect-renew-deadline 2 --leader-elect-retry-period 0.5)
declare -a SPID SPORT

ha_cleanup() {
    for i in $(seq 1 "$HA_N"); do
        [ -n "${SPID[$i]:-}" ] && kill -9 "${SPID[$i]}" 2>/dev/null && wait "${SPID[$i]}" 2>/dev/null
    done
    etcd_cluster_stop
}

# start_srv I [flags...]: server I on its own data dir (and its old port
# when restarted); SPORT[I] once /readyz answers.
start_srv() {
    local i=$1; shift
    local d=$WORK/s$i port=${SPORT[$i]:-0}
    mkdir -p "$d"
    : >"$d/out"
    "$CAIRN" server --data-dir "$d/data" --listen "127.0.0.1:$port" --datastore-endpoint "$ETCD_ENDPOINTS" \
        --etcd-prefix "$HA_PREFIX" "${LEASE[@]}" "$@" >"$d/out" 2>>"$d/log" &
    SPID[$i]=$!
    for _ in $(seq 1 300); do
        port=$(sed -n 's/.*on port \([0-9]*\)\..*/\1/p' "$d/out" | head -1)
        if [ -n "$port" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then SPORT[$i]=$port; return 0; fi
        kill -0 "${SPID[$i]}" 2>/dev/null || { echo "e2e: server $i exited"; tail -20 "$d/log"; return 1; }
        sleep 0.05
    done
    echo "e2e: server $i not ready"; tail -20 "$d/log"; return 1
}

# ks I kubectl-args...: kubectl against server I (server 1's admin kubeconfig:
# every server trusts the shared CA).
ks() { local i=$1; shift; kubectl --kubeconfig "$WORK/s1/data/kubeconfig" --server "https://127.0.0.1:${SPORT[$i]}" "$@"; }
holder() { ks "$1" -n kube-system get lease "$2" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
# held LEASE: someone holds it (a function, so wait_for re-asks each time).
held() { [ -n "$(holder 1 "$1")" ]; }
# Which server a holder identity belongs to (each logs its identity), or 0.
server_of() { local h=$1; for i in $(seq 1 "$HA_N"); do grep -qF -- "$h" "$WORK/s$i/log" 2>/dev/null && { echo "$i"; return; }; done; echo 0; }

# SIGTERM every running server; each must exit cleanly without a sanitizer report.
stop_servers() {
    for i in $(seq 1 "$HA_N"); do
        [ -z "${SPID[$i]:-}" ] && continue
        kill -TERM "${SPID[$i]}" 2>/dev/null; wait "${SPID[$i]}"; local rc=$?; SPID[$i]=
        [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ] || fail "server $i exited with status $rc"
        if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/s$i/log"; then fail "sanitizer report in server $i log"; fi
    done
}
