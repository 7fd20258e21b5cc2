# e2e_crash_sqlite: kill -9 of a single SQLite server mid-burst, 20 times in
# a row (issue 4, fault tests). cairn-writer creates ConfigMaps from 4
# threads throughout; each round waits until this server instance has
# acknowledged writes, lets it write for 0.2-0.8 s more, kills it with
# SIGKILL and restarts it on the same data dir and port. The store must open
# every time (the server becomes ready) and, at the end, every write the
# server acknowledged must be present with its data: lost = 0.
# Figures printed: acknowledged writes, the longest time without a
# successful write (the restarts), failed attempts.
source "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-20}
WRITER=$(dirname "$CAIRN")/cairn-writer
if [ ! -x "$WRITER" ]; then echo "e2e: $WRITER not built"; exit 1; fi
WRITER_PID=
WLOG=$WORK/writer.log
STOP=$WORK/writer.stop

e2e_extra_cleanup() {
    if [ -n "$WRITER_PID" ]; then kill -TERM "$WRITER_PID" 2>/dev/null; wait "$WRITER_PID" 2>/dev/null; fi
}

# Restart on the same port, so the writer's endpoint stays valid. Bounded.
restart_server() {
    # shellcheck disable=SC2086
    "$CAIRN" server --data-dir "$DATA" --listen "127.0.0.1:$PORT" ${CAIRN_SERVER_ARGS:-} >"$WORK/server.out" 2>>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 400); do
        if curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID"; echo "e2e: server exited with status $? on restart"; SERVER_PID=
            tail -30 "$WORK/server.log"; return 1
        fi
        sleep 0.05
    done
    echo "e2e: server did not become ready on restart"; tail -30 "$WORK/server.log"
    return 1
}

acked_lines() { if [ -f "$WLOG" ]; then wc -l <"$WLOG"; else echo 0; fi; }

# Bounded wait until the log has grown past $1 lines.
wait_writes_after() {
    local n=$1 end=$(( $(date +%s) + 30 ))
    while [ "$(date +%s)" -le "$end" ]; do
        [ "$(acked_lines)" -gt "$n" ] && return 0
        sleep 0.02
    done
    return 1
}

start_server
URL=https://127.0.0.1:$PORT
"$WRITER" write --kubeconfig "$KUBECONFIG" --server "$URL" --namespace crash --prefix cm \
    --log "$WLOG" --seconds 120 --concurrency 4 --stop-file "$STOP" --timeout-ms 3000 \
    >"$WORK/writer.out" 2>&1 &
WRITER_PID=$!

opened=0
killed_mid_burst=0
for round in $(seq 1 "$ROUNDS"); do
    before=$(acked_lines)
    if ! wait_writes_after "$before"; then fail "round $round: no write acknowledged by the running server"; break; fi
    # 4 writer threads always have a request in flight; this counts the
    # rounds where acks were still arriving during the last sleep.
    started=$(acked_lines)
    sleep "$(printf '0.%03d' $(( 200 + RANDOM % 601 )))"
    mid=$(acked_lines)
    kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
    [ "$mid" -gt "$started" ] && killed_mid_burst=$((killed_mid_burst + 1))
    if ! kill -0 "$WRITER_PID" 2>/dev/null; then fail "round $round: writer died"; break; fi
    if restart_server; then opened=$((opened + 1)); else fail "round $round: store did not reopen"; break; fi
done
expect_eq "store reopened after each of $ROUNDS kill -9s" "$ROUNDS" echo "$opened"

# The last instance takes writes too, then the writer stops.
wait_writes_after "$(acked_lines)" || fail "no write acknowledged after the last restart"
touch "$STOP"
wrc=0
wait "$WRITER_PID" || wrc=$?
WRITER_PID=
expect_eq "writer exited cleanly" 0 echo "$wrc"
sed 's/^/  writer: /' "$WORK/writer.out"
expect_out "writer saw failed attempts (the kills)" "failed attempts [1-9]" cat "$WORK/writer.out"

expect_out "every acknowledged write is present (lost 0)" "present [0-9]+, lost 0 " \
    "$(dirname "$CAIRN")/cairn-writer" check --kubeconfig "$KUBECONFIG" --server "$URL" --namespace crash --log "$WLOG"
echo "$out" | sed 's/^/  check: /'
acked=$(sed -n 's/^acked \([0-9]*\) .*/\1/p' "$WORK/writer.out")
gap=$(sed -n 's/^longest gap: \([0-9]*\) ms/\1/p' "$WORK/writer.out")
echo "figures: $ROUNDS kill -9s ($killed_mid_burst while acks were arriving), $acked writes acknowledged, longest gap ${gap} ms"

stop_server
if command -v sqlite3 >/dev/null && [ -f "$DATA/state.db" ]; then
    expect_eq "sqlite integrity_check after the crashes" ok sqlite3 "$DATA/state.db" 'PRAGMA integrity_check'
fi
finish
