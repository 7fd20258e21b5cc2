#!/bin/bash
# e2e_join: a second server joins the first with the join token and ends up
# with the same cluster CA and service-account key (issue 4, shared
# secrets): bootstrap endpoints, refused tokens, restart and chained joins.
# Each server here has its own SQLite store: what is checked is the PKI.
source "$(dirname "$0")/lib.sh"

A=$DATA
OTHER_PID=
OTHER_PORT=

# start_other DIR LOG [flags...]: one more server; sets OTHER_PID/OTHER_PORT.
start_other() {
    local dir=$1 log=$2; shift 2
    : >"$log.out"
    # shellcheck disable=SC2086
    "$CAIRN" server --data-dir "$dir" --listen 127.0.0.1:0 ${CAIRN_SERVER_ARGS:-} "$@" \
        >"$log.out" 2>>"$log" &
    OTHER_PID=$!
    for _ in $(seq 1 200); do
        OTHER_PORT=$(sed -n 's/.*on port \([0-9]*\)\..*/\1/p' "$log.out" | head -1)
        if [ -n "$OTHER_PORT" ] && curl -sk "https://127.0.0.1:$OTHER_PORT/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$OTHER_PID" 2>/dev/null; then echo "e2e: server in $dir exited"; cat "$log"; OTHER_PID=; return 1; fi
        sleep 0.05
    done
    echo "e2e: server in $dir did not become ready"; cat "$log"; return 1
}

stop_other() {
    [ -n "$OTHER_PID" ] || return 0
    kill -TERM "$OTHER_PID" 2>/dev/null
    local rc=0
    wait "$OTHER_PID" || rc=$?
    OTHER_PID=
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then fail "joined server exited with status $rc"; fi
}
e2e_extra_cleanup() { stop_other; }

# Server 1 with a chosen secret: the token gets this CA's hash added.
start_server --token e2e-secret-0123
TOKEN=$(cat "$A/token")
HASH=$(sha256sum "$A/pki/ca.crt" | cut -d' ' -f1)
expect_eq "token file is K10<sha256 of ca.crt>::server:<secret>" "K10$HASH::server:e2e-secret-0123" cat "$A/token"
expect_eq "token file is 0600" "600" stat -c %a "$A/token"
expect_eq "sa.key is 0600" "600" stat -c %a "$A/pki/sa.key"
expect_eq "sa.pub is 0644" "644" stat -c %a "$A/pki/sa.pub"
expect_out "sa.key is RSA 2048" "2048 bit" openssl pkey -in "$A/pki/sa.key" -noout -text
expect_eq "a SQLite server's banner does not suggest joining (objects would not be shared)" "0" \
    grep -c "More servers join" "$WORK/server.out"

# Bootstrap endpoints on server 1.
BASE=https://127.0.0.1:$PORT
curl -s --cacert "$A/pki/ca.crt" "$BASE/cacerts" -o "$WORK/cacerts"
expect_ok "/cacerts answers the CA without credentials" cmp "$WORK/cacerts" "$A/pki/ca.crt"
boot() { curl -s --cacert "$A/pki/ca.crt" -w '\n%{http_code}' "$BASE/cairn/v1/server-bootstrap" "$@"; }
expect_out "server-bootstrap without a token is a 401 Status" '"kind":"Status".*"code":401' boot
expect_out "  ... and the code is 401" '^401$' boot
expect_out "server-bootstrap with a wrong token is a 401 Status" '"reason":"Unauthorized"' \
    boot -H "Authorization: Bearer wrong"
expect_out "  ... also a client certificate does not stand in for the token" '^401$' \
    boot --cert "$A/pki/admin.crt" --key "$A/pki/admin.key"
expect_out "server-bootstrap with the whole token gives the bundle" '"sa.key":"-----BEGIN PRIVATE KEY' \
    boot -H "Authorization: Bearer $TOKEN"
expect_out "server-bootstrap with server:<secret> gives the bundle" '"ca.key":"-----BEGIN' \
    boot -H "Authorization: Bearer server:e2e-secret-0123"
expect_out "refusals are logged" "server-bootstrap: refused .*wrong token" cat "$WORK/server.log"
if grep -q "e2e-secret-0123" "$WORK/server.log"; then fail "the secret is in the log"; else pass "the secret is never logged"; fi

# Refused joins: each exits non-zero, with a clear message, writing no pki.
join_once() { timeout 30 "$CAIRN" server --data-dir "$1" --listen 127.0.0.1:0 "${@:2}"; }
expect_fail "a wrong secret is refused" "refused the token" \
    join_once "$WORK/bad1" --join "$BASE" --token "K10$HASH::server:not-the-secret"
expect_ok "  ... and writes no pki" test ! -e "$WORK/bad1/pki"
expect_fail "a token with another CA hash is refused" "does not match the token's hash" \
    join_once "$WORK/bad2" --join "$BASE" --token "K10$(printf '0%.0s' $(seq 64))::server:e2e-secret-0123"
expect_ok "  ... and writes no pki" test ! -e "$WORK/bad2/pki"
expect_fail "a bare secret on --join is refused" "full token" \
    join_once "$WORK/bad3" --join "$BASE" --token e2e-secret-0123
expect_fail "--join without a token is refused" "needs --token" \
    join_once "$WORK/bad4" --join "$BASE"
mkdir -p "$WORK/other/pki" && echo "another CA" >"$WORK/other/pki/ca.crt"
expect_fail "a data dir holding another CA is refused" "another cluster's CA" \
    join_once "$WORK/other" --join "$BASE" --token "$TOKEN"
expect_eq "  ... and is left as it was" "another CA" cat "$WORK/other/pki/ca.crt"

# Server 2 joins server 1.
B=$WORK/b
if start_other "$B" "$WORK/b.log" --join "$BASE" --token "$TOKEN"; then
    pass "server 2 joins with the token"
    for f in pki/ca.crt pki/ca.key pki/sa.key pki/sa.pub token; do
        expect_ok "server 2 $f is server 1's" cmp "$A/$f" "$B/$f"
    done
    expect_eq "server 2 ca.key is 0600" "600" stat -c %a "$B/pki/ca.key"
    if cmp -s "$A/pki/server.crt" "$B/pki/server.crt"; then fail "server 2 has its own serving cert"
    else pass "server 2 has its own serving cert"; fi
    expect_out "server 2 serving cert verifies with server 1's CA" '^ok$' \
        curl -sS --cacert "$A/pki/ca.crt" "https://127.0.0.1:$OTHER_PORT/readyz"
    expect_out "server 1's admin credentials work on server 2" "kube-system" \
        kubectl --kubeconfig "$A/kubeconfig" --server "https://127.0.0.1:$OTHER_PORT" get ns
    P2=$OTHER_PORT
    stop_other
    # Restart: the CA is there, nothing is fetched again.
    if start_other "$B" "$WORK/b.log" --join "$BASE" --token "$TOKEN"; then
        pass "joined server 2 restarts"
        expect_out "  ... without fetching again" "already holds the cluster CA" cat "$WORK/b.log"
        P2=$OTHER_PORT
        # Server 3 joins through server 2 with server 2's token file.
        C=$WORK/c
        B_PID=$OTHER_PID
        OTHER_PID=
        if start_other "$C" "$WORK/c.log" --join "https://127.0.0.1:$P2" --token-file "$B/token"; then
            pass "server 3 joins through server 2"
            expect_ok "server 3 ca.crt is server 1's" cmp "$A/pki/ca.crt" "$C/pki/ca.crt"
            expect_ok "server 3 sa.key is server 1's" cmp "$A/pki/sa.key" "$C/pki/sa.key"
        else
            fail "server 3 joins through server 2"
        fi
        stop_other
        OTHER_PID=$B_PID
        stop_other
    else
        fail "joined server 2 restarts"
    fi
else
    fail "server 2 joins with the token"
fi
for log in "$WORK/b.log" "$WORK/c.log"; do
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$log" 2>/dev/null; then
        fail "sanitizer report in $log"; grep -A30 "Sanitizer\|runtime error" "$log" | head -60
    fi
done
finish
