#!/usr/bin/env bash
# cluster.sh: a throwaway etcd 3.4 cluster on loopback for the store's etcd
# tests (and any test that wants a real etcd under cairn).
#
# Sourced:
#   . tests/etcd/cluster.sh
#   etcd_cluster_start N DIR   # N members, data under DIR; waits until healthy
#   echo "$ETCD_ENDPOINTS"     # http://127.0.0.1:p1,http://127.0.0.1:p2,...
#   ETCD_PIDS[i] ETCD_NAMES[i] ETCD_DATA[i] ETCD_CLIENT_URLS[i]   (i = 0..N-1)
#   etcd_leader                # prints the index of the current leader
#   etcd_member_kill I         # kill -9 member I
#   etcd_member_restart I      # start member I again on its data dir and ports
#   etcd_cluster_stop          # kill every member, remove DIR
#   etcd_ctl args...           # etcdctl on ETCD_ENDPOINTS (with the client
#                              # certificate in TLS mode)
# TLS (opt-in): ETCD_TLS=1 before etcd_cluster_start. A CA, one member
# certificate (SAN IP:127.0.0.1, DNS:localhost; serverAuth+clientAuth, used
# for client and peer serving) and a client certificate (CN=cairn) are made
# with the openssl CLI under DIR/pki; members serve https on client and peer
# URLs and require certificates from that CA (--client-cert-auth). Exports
# ETCD_ENDPOINTS (https URLs), ETCD_CAFILE, ETCD_CERTFILE, ETCD_KEYFILE;
# ETCD_SCHEME says which mode the running cluster is in (http or https).
# etcd_tls_ca DIR / etcd_tls_cert DIR CA NAME CN USAGE [SAN] make more (a
# foreign CA, a client certificate it signs) for negative tests.
# Runner:
#   tests/etcd/cluster.sh run N -- cmd args...
#     starts a cluster in a temp dir, exports ETCD_ENDPOINTS and
#     CAIRN_TEST_ETCD (same value) and CAIRN_TEST_ETCD_CLUSTER (path of a
#     file the command can source to get the arrays above), runs the command,
#     stops the cluster on every exit path and returns the command's status.
#   tests/etcd/cluster.sh run --tls N -- cmd args...
#     the same over TLS; also exports ETCD_CAFILE/CERTFILE/KEYFILE.
#
# Ports are random in 20000-59999, checked free by trying to connect, and a
# start whose member fails to come up (a port stolen by a parallel test) is
# retried with fresh ports. Elections are fast (heartbeat 50 ms, election
# timeout 500 ms) so failover tests stay short.

ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-/usr/bin/etcdctl}
ETCD_DIR=
ETCD_N=0
ETCD_PIDS=()
ETCD_NAMES=()
ETCD_DATA=()
ETCD_CLIENT_URLS=()
ETCD_PEER_URLS=()
ETCD_ENDPOINTS=
ETCD_INITIAL_CLUSTER=
ETCD_TLS=${ETCD_TLS:-}
ETCD_SCHEME=http   # what the running cluster speaks (ETCD_TLS may be a prefix assignment)
ETCD_CAFILE=
ETCD_CERTFILE=
ETCD_KEYFILE=

_etcd_port_free() {
    # Connect succeeds -> someone listens -> not free.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_etcd_pick_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if _etcd_port_free "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

# etcd_tls_ca DIR: a self-signed CA, DIR/ca.crt and DIR/ca.key.
etcd_tls_ca() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=cairn-test-etcd-ca" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
}

# etcd_tls_cert DIR CA NAME CN USAGE [SAN]: DIR/NAME.crt and DIR/NAME.key
# signed by CA (a directory made by etcd_tls_ca); USAGE is an
# extendedKeyUsage list (serverAuth,clientAuth).
etcd_tls_cert() {
    local d=$1 ca=$2 name=$3 cn=$4 usage=$5 san=${6:-}
    mkdir -p "$d"
    {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$usage"
        [ -z "$san" ] || echo "subjectAltName=$san"
    } >"$d/$name.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$cn" >/dev/null 2>&1 &&
    openssl x509 -req -in "$d/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
        -CAcreateserial -days 2 -extfile "$d/$name.ext" -out "$d/$name.crt" >/dev/null 2>&1
}

_etcd_tls_setup() {
    local pki=$ETCD_DIR/pki
    etcd_tls_ca "$pki" &&
    etcd_tls_cert "$pki" "$pki" member etcd-member serverAuth,clientAuth \
        "IP:127.0.0.1,DNS:localhost" &&
    etcd_tls_cert "$pki" "$pki" client cairn clientAuth || {
        echo "cluster.sh: cannot make TLS certificates with openssl" >&2
        return 1
    }
    ETCD_CAFILE=$pki/ca.crt
    ETCD_CERTFILE=$pki/client.crt
    ETCD_KEYFILE=$pki/client.key
}

# etcdctl with the client certificate when the cluster speaks TLS.
_etcd_ctl_tls() {
    if [ "$ETCD_SCHEME" = https ]; then
        "$ETCDCTL_BIN" --cacert "$ETCD_CAFILE" --cert "$ETCD_CERTFILE" --key "$ETCD_KEYFILE" "$@"
    else
        "$ETCDCTL_BIN" "$@"
    fi
}

etcd_ctl() {
    ETCDCTL_API=3 _etcd_ctl_tls --endpoints "$ETCD_ENDPOINTS" "$@"
}

_etcd_member_launch() {
    local i=$1 state=$2
    local tls=()
    if [ "$ETCD_SCHEME" = https ]; then
        local pki=$ETCD_DIR/pki
        tls=(--client-cert-auth --trusted-ca-file "$pki/ca.crt"
             --cert-file "$pki/member.crt" --key-file "$pki/member.key"
             --peer-client-cert-auth --peer-trusted-ca-file "$pki/ca.crt"
             --peer-cert-file "$pki/member.crt" --peer-key-file "$pki/member.key")
    fi
    "$ETCD_BIN" "${tls[@]}" --name "${ETCD_NAMES[$i]}" --data-dir "${ETCD_DATA[$i]}" \
        --listen-client-urls "${ETCD_CLIENT_URLS[$i]}" \
        --advertise-client-urls "${ETCD_CLIENT_URLS[$i]}" \
        --listen-peer-urls "${ETCD_PEER_URLS[$i]}" \
        --initial-advertise-peer-urls "${ETCD_PEER_URLS[$i]}" \
        --initial-cluster "$ETCD_INITIAL_CLUSTER" \
        --initial-cluster-state "$state" --initial-cluster-token "cairn-test-$$" \
        --heartbeat-interval 50 --election-timeout 500 \
        --quota-backend-bytes 1073741824 \
        >>"$ETCD_DIR/${ETCD_NAMES[$i]}.log" 2>&1 &
    ETCD_PIDS[$i]=$!
    disown "$!"   # no "Killed" job notices; _etcd_reap waits instead
}

# Wait until every listed member answers health (bounded, ~15 s).
_etcd_wait_healthy() {
    local eps=$1
    for _ in $(seq 1 150); do
        if _etcd_ctl_tls --endpoints "$eps" --dial-timeout 1s --command-timeout 2s \
               endpoint health >/dev/null 2>&1; then
            return 0
        fi
        for pid in "${ETCD_PIDS[@]}"; do
            [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
        done
        sleep 0.1
    done
    return 1
}

_etcd_write_env() {
    {
        echo "ETCD_DIR='$ETCD_DIR'"
        echo "ETCD_N=$ETCD_N"
        echo "ETCD_ENDPOINTS='$ETCD_ENDPOINTS'"
        echo "ETCD_INITIAL_CLUSTER='$ETCD_INITIAL_CLUSTER'"
        echo "ETCD_SCHEME='$ETCD_SCHEME'"
        echo "ETCD_CAFILE='$ETCD_CAFILE'"
        echo "ETCD_CERTFILE='$ETCD_CERTFILE'"
        echo "ETCD_KEYFILE='$ETCD_KEYFILE'"
        declare -p ETCD_PIDS ETCD_NAMES ETCD_DATA ETCD_CLIENT_URLS ETCD_PEER_URLS | sed 's/^declare -a/declare -ga/'
    } >"$ETCD_DIR/cluster.env"
}

etcd_cluster_start() {
    local n=${1:?usage: etcd_cluster_start N DIR} dir=${2:?usage: etcd_cluster_start N DIR}
    ETCD_DIR=$dir
    ETCD_N=$n
    mkdir -p "$dir"
    ETCD_SCHEME=http
    if [ -n "$ETCD_TLS" ]; then
        _etcd_tls_setup || return 1
        ETCD_SCHEME=https
    fi
    local scheme=$ETCD_SCHEME
    for attempt in 1 2 3; do
        ETCD_PIDS=(); ETCD_NAMES=(); ETCD_DATA=(); ETCD_CLIENT_URLS=(); ETCD_PEER_URLS=()
        local cluster="" eps="" i cp pp
        for ((i = 0; i < n; i++)); do
            cp=$(_etcd_pick_port) && pp=$(_etcd_pick_port) || return 1
            ETCD_NAMES[$i]=m$i
            ETCD_DATA[$i]=$dir/m$i.data
            ETCD_CLIENT_URLS[$i]=$scheme://127.0.0.1:$cp
            ETCD_PEER_URLS[$i]=$scheme://127.0.0.1:$pp
            cluster+="${cluster:+,}m$i=$scheme://127.0.0.1:$pp"
            eps+="${eps:+,}$scheme://127.0.0.1:$cp"
        done
        ETCD_INITIAL_CLUSTER=$cluster
        ETCD_ENDPOINTS=$eps
        for ((i = 0; i < n; i++)); do
            rm -rf "${ETCD_DATA[$i]}"
            _etcd_member_launch "$i" new
        done
        if _etcd_wait_healthy "$eps"; then
            export ETCD_ENDPOINTS
            if [ "$ETCD_SCHEME" = https ]; then export ETCD_CAFILE ETCD_CERTFILE ETCD_KEYFILE; fi
            _etcd_write_env
            return 0
        fi
        echo "cluster.sh: attempt $attempt: cluster did not become healthy; retrying" >&2
        tail -5 "$dir"/m*.log >&2 2>/dev/null
        _etcd_kill_all
    done
    return 1
}

# Wait (bounded) until a killed member is gone, so its ports are free.
_etcd_reap() {
    for _ in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.02
    done
}

_etcd_kill_all() {
    local pid
    # A member restarted by another process (a test sourcing cluster.env)
    # is only known to the env file: kill those too.
    if [ -n "$ETCD_DIR" ] && [ -f "$ETCD_DIR/cluster.env" ]; then
        ETCD_PIDS+=($(sed -n 's/^declare -ga ETCD_PIDS=(\(.*\))$/\1/p' "$ETCD_DIR/cluster.env" |
                      grep -o '"[0-9]*"' | tr -d '"'))
    fi
    for pid in "${ETCD_PIDS[@]}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
    for pid in "${ETCD_PIDS[@]}"; do
        [ -n "$pid" ] && _etcd_reap "$pid"
    done
    ETCD_PIDS=()
}

# Index of the leader member, or nothing when there is none.
etcd_leader() {
    local i st id leader
    for ((i = 0; i < ETCD_N; i++)); do
        [ -n "${ETCD_PIDS[$i]:-}" ] || continue
        st=$(_etcd_ctl_tls --endpoints "${ETCD_CLIENT_URLS[$i]}" --dial-timeout 1s \
                 endpoint status -w json 2>/dev/null) || continue
        id=$(printf '%s' "$st" | grep -o '"member_id":[0-9]*' | head -1 | cut -d: -f2)
        leader=$(printf '%s' "$st" | grep -o '"leader":[0-9]*' | head -1 | cut -d: -f2)
        if [ -n "$id" ] && [ "$id" = "$leader" ]; then
            echo "$i"
            return 0
        fi
    done
    return 1
}

etcd_member_kill() {
    local i=$1
    [ -n "${ETCD_PIDS[$i]:-}" ] || return 0
    kill -9 "${ETCD_PIDS[$i]}" 2>/dev/null
    _etcd_reap "${ETCD_PIDS[$i]}"
    ETCD_PIDS[$i]=
    _etcd_write_env
}

etcd_member_restart() {
    local i=$1
    etcd_member_kill "$i"
    _etcd_member_launch "$i" existing
    _etcd_write_env
    _etcd_wait_healthy "${ETCD_CLIENT_URLS[$i]}"
}

etcd_cluster_stop() {
    _etcd_kill_all
    if [ -n "$ETCD_DIR" ]; then rm -rf "$ETCD_DIR"; fi
    ETCD_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    if [ "${1:-}" = run ] && [ "${2:-}" = --tls ]; then
        ETCD_TLS=1
        set -- run "${@:3}"
    fi
    if [ "${1:-}" != run ] || [ -z "${2:-}" ] || [ "${3:-}" != -- ] || [ -z "${4:-}" ]; then
        echo "usage: $0 run [--tls] N -- cmd args..." >&2
        exit 2
    fi
    n=$2
    shift 3
    work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-etcd.XXXXXX")
    trap 'etcd_cluster_stop' EXIT
    trap 'exit 130' INT TERM
    if ! etcd_cluster_start "$n" "$work"; then
        echo "cluster.sh: cannot start a $n-member etcd cluster" >&2
        tail -20 "$work"/m*.log >&2 2>/dev/null
        exit 1
    fi
    export CAIRN_TEST_ETCD=$ETCD_ENDPOINTS
    export CAIRN_TEST_ETCD_CLUSTER=$work/cluster.env
    export CAIRN_TEST_ETCD_HARNESS
    CAIRN_TEST_ETCD_HARNESS=$(readlink -f "${BASH_SOURCE[0]}")
    rc=0
    "$@" || rc=$?
    exit "$rc"
fi
