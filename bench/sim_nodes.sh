#!/bin/bash
# bench/sim_nodes.sh: simulated nodes at scale. Starts `cairn server` (fsync
# on, as in production; its controllers run, so the node lifecycle
# controller follows every Lease) and one `cairn agent --simulate --nodes N`,
# then prints: time until all N nodes are registered and Ready, the API
# writes per second of steady heartbeating (Leases) measured by the agent,
# and the agent's and the server's RSS. Prints figures; never fails on them.
#
#   bench/sim_nodes.sh [path/to/cairn] [N ...]     (default: build/cairn 1000 5000)
set -u
CAIRN=$(readlink -f "${1:-build/cairn}")
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 5000)
HEARTBEAT=${HEARTBEAT:-10s}
STEADY=${STEADY:-30}          # seconds of steady state measured

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

for N in "${SIZES[@]}"; do
    W=$(mktemp -d /tmp/cairn-bench-sim.XXXXXX)
    "$CAIRN" server --data-dir "$W/data" --listen 127.0.0.1:0 >"$W/server.out" 2>"$W/server.log" &
    SPID=$!
    for _ in $(seq 1 300); do grep -q "on port" "$W/server.out" 2>/dev/null && break; sleep 0.1; done
    srv0=$(rss_kb $SPID)
    "$CAIRN" agent --simulate --nodes "$N" --kubeconfig "$W/data/kubeconfig" --zones 3 \
        --heartbeat "$HEARTBEAT" --stats-interval "${STEADY}s" >"$W/agent.out" 2>"$W/agent.log" &
    APID=$!
    for _ in $(seq 1 1200); do grep -q "registered and Ready" "$W/agent.log" && break; sleep 0.25; done
    ready=$(sed -n 's/.*registered and Ready in \([0-9.]*\) s.*/\1/p' "$W/agent.log")
    # The first stats line covers registration; the second one is steady state.
    for _ in $(seq 1 $((STEADY * 3 * 4))); do [ "$(grep -c 'writes/s' "$W/agent.log")" -ge 2 ] && break; sleep 0.25; done
    steady=$(grep 'writes/s' "$W/agent.log" | sed -n 2p | sed 's/.*writes\/s: //')
    echo "nodes $N: registered and Ready in ${ready:-?} s; steady: $steady"
    echo "nodes $N: agent RSS $(rss_kb $APID) KiB; server RSS $(rss_kb $SPID) KiB (idle before: $srv0 KiB)"
    nready=$(grep 'writes/s' "$W/agent.log" | tail -1 | sed 's/.*sim: \([0-9]*\/[0-9]*\) nodes ready.*/\1/')
    echo "nodes $N: $nready nodes ready; server log warnings: $(grep -c ' warn ' "$W/server.log")," \
         "NotReady transitions: $(grep -c 'Ready Unknown' "$W/server.log")"
    if ! kill -0 $APID 2>/dev/null; then
        echo "nodes $N: the agent exited early; logs kept in $W"; tail -5 "$W/agent.log"
        kill -TERM $SPID; wait $SPID
        continue
    fi
    kill -TERM $APID; wait $APID
    kill -TERM $SPID; wait $SPID
    rm -rf "$W"
done
