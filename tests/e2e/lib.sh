# lib.sh: the end-to-end harness. Sourced by tests/e2e/e2e_*.sh.
# Starts build/cairn server on a temp data dir and a free port, drives the
# real kubectl, counts checks, and prints "N passed, N failed" at the end.
# Every check names what it expects; a failure prints the command output.
set -u

CAIRN=${1:?usage: $0 path/to/cairn}
CAIRN=$(readlink -f "$CAIRN")
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/cairn-e2e.XXXXXX)
export HOME=$WORK/home KUBECACHEDIR=$WORK/kubecache
mkdir -p "$HOME"
PASS=0
FAIL=0
SERVER_PID=
PORT=
DATA=$WORK/state/server   # parents do not exist: the server creates them
export KUBECONFIG=$DATA/kubeconfig

cleanup() {
    stop_server
    # A suite that starts more (an etcd cluster, more servers) defines this.
    if declare -F e2e_extra_cleanup >/dev/null; then e2e_extra_cleanup; fi
    if [ "$FAIL" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf "$WORK"; else echo "e2e: work dir kept: $WORK"; fi
}
trap cleanup EXIT

# Under tests/etcd/cluster.sh's runner every server of a suite uses that etcd.
if [ -n "${CAIRN_TEST_ETCD:-}" ]; then
    CAIRN_SERVER_ARGS="--datastore-endpoint $CAIRN_TEST_ETCD --etcd-prefix /cairn-e2e ${CAIRN_SERVER_ARGS:-}"
fi

# Start the server; waits until /readyz answers (bounded). CAIRN_SERVER_ARGS
# adds flags to every start (the etcd variants of a suite set the datastore);
# CAIRN_SERVER_CMD runs another API server command (bridge) the same way.
start_server() {
    : >"$WORK/server.out"
    # shellcheck disable=SC2086
    "$CAIRN" "${CAIRN_SERVER_CMD:-server}" --data-dir "$DATA" --listen 127.0.0.1:0 ${CAIRN_SERVER_ARGS:-} "$@" >"$WORK/server.out" 2>>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        PORT=$(sed -n 's/.*on port \([0-9]*\)\..*/\1/p' "$WORK/server.out" | head -1)
        if [ -n "$PORT" ] && curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "e2e: server exited"; cat "$WORK/server.log"; exit 1; fi
        sleep 0.05
    done
    echo "e2e: server did not become ready"; cat "$WORK/server.log"; exit 1
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        local rc=0
        wait "$SERVER_PID" || rc=$?
        SERVER_PID=
        # A sanitizer report or crash fails the suite.
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then
            FAIL=$((FAIL + 1)); echo "FAIL server exited with status $rc"; tail -50 "$WORK/server.log"
        fi
        if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/server.log" 2>/dev/null; then
            FAIL=$((FAIL + 1)); echo "FAIL sanitizer report in server log"; grep -A30 "Sanitizer\|runtime error" "$WORK/server.log" | head -60
        fi
    fi
}

pass() { PASS=$((PASS + 1)); echo "ok   $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# expect_ok "description" cmd...   -- exit 0
expect_ok() {
    local d=$1; shift
    if out=$("$@" 2>&1); then pass "$d"; else fail "$d"; echo "  \$ $*"; echo "$out" | sed 's/^/  | /' | head -30; fi
}

# expect_out "description" "regex" cmd...  -- exit 0 and output matches regex (grep -E)
expect_out() {
    local d=$1 re=$2; shift 2
    if out=$("$@" 2>&1) && echo "$out" | grep -Eq -- "$re"; then pass "$d"; else
        fail "$d (want /$re/)"; echo "  \$ $*"; echo "$out" | sed 's/^/  | /' | head -30; fi
}

# expect_fail "description" "regex" cmd...  -- non-zero exit and output matches regex
expect_fail() {
    local d=$1 re=$2; shift 2
    if out=$("$@" 2>&1); then fail "$d (succeeded, want failure /$re/)"; echo "$out" | sed 's/^/  | /' | head -20
    elif echo "$out" | grep -Eq -- "$re"; then pass "$d"; else
        fail "$d (want /$re/)"; echo "  \$ $*"; echo "$out" | sed 's/^/  | /' | head -30; fi
}

# expect_eq "description" "want" cmd...  -- output (trimmed) equals want
expect_eq() {
    local d=$1 want=$2; shift 2
    local got
    got=$("$@" 2>&1)
    if [ "$got" = "$want" ]; then pass "$d"; else fail "$d (got '$got', want '$want')"; fi
}

# Raw HTTPS with the admin client certificate: api METHOD PATH [curl args...]
# Prints "<code>\n<body>".
api() {
    local m=$1 p=$2; shift 2
    local pki=$DATA/pki
    curl -sS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
        -X "$m" -w '\n%{http_code}' "https://127.0.0.1:$PORT$p" "$@"
}

# expect_status "description" CODE REASON METHOD PATH [curl args...]
expect_status() {
    local d=$1 code=$2 reason=$3; shift 3
    local out body got
    out=$(api "$@" 2>&1)
    got=$(echo "$out" | tail -1)
    body=$(echo "$out" | sed '$d')
    if [ "$got" = "$code" ] && echo "$body" | grep -q "\"kind\":\"Status\"" &&
        { [ -z "$reason" ] || echo "$body" | grep -q "\"reason\":\"$reason\""; }; then
        pass "$d"
    else
        fail "$d (got $got, want $code $reason)"; echo "$body" | head -5 | sed 's/^/  | /'
    fi
}

# wait_for "description" seconds cmd... -- retry until success (bounded)
wait_for() {
    local d=$1 t=$2; shift 2
    local end=$(( $(date +%s) + t ))
    while [ "$(date +%s)" -le "$end" ]; do
        if "$@" >/dev/null 2>&1; then pass "$d"; return 0; fi
        sleep 0.2
    done
    fail "$d (timed out after ${t}s)"
    return 1
}

finish() {
    stop_server
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
