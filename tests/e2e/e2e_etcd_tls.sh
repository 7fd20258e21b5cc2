#!/bin/bash
# The server on a 3-member etcd cluster that speaks only TLS and requires
# client certificates (tests/etcd/cluster.sh's ETCD_TLS mode): kubectl works
# through it, and every way of getting TLS wrong (no client certificate, one
# from another CA, the wrong CA file, plain http, a missing file) stops the
# server at start with a message naming the endpoint and the cause.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/../etcd/cluster.sh"
e2e_extra_cleanup() { etcd_cluster_stop; }
ETCD_TLS=1 etcd_cluster_start 3 "$WORK/etcd" || { echo "e2e: etcd TLS cluster did not start"; exit 1; }
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
EP0=${ETCD_CLIENT_URLS[0]}
HOSTPORT0=${EP0#https://}

echo "== etcd endpoints $ETCD_ENDPOINTS"
expect_out "etcd serves https with the client certificate" "is healthy" etcd_ctl endpoint health
expect_fail "etcd refuses a client without a certificate" "." \
    env ETCDCTL_API=3 etcdctl --endpoints "$EP0" --cacert "$ETCD_CAFILE" --dial-timeout 2s \
    --command-timeout 3s get /x

# --- the wrong ways, in parallel (each fails after the client's retry budget) ---
etcd_tls_ca "$WORK/other"
etcd_tls_cert "$WORK/other" "$WORK/other" client cairn clientAuth
# bad_start NAME args...: run a server in the background, output to $WORK/NAME.out
bad_start() {
    local name=$1; shift
    ( rc=0
      timeout 60 "$CAIRN" server --data-dir "$WORK/bad-$name" --listen 127.0.0.1:0 "$@" \
          >"$WORK/$name.out" 2>&1 || rc=$?
      echo "exit=$rc" >>"$WORK/$name.out" ) &
}
bad_start nocert --datastore-endpoint "$ETCD_ENDPOINTS" --datastore-cafile "$ETCD_CAFILE"
bad_start otherca --datastore-endpoint "$EP0" --datastore-cafile "$ETCD_CAFILE" \
    --datastore-certfile "$WORK/other/client.crt" --datastore-keyfile "$WORK/other/client.key"
bad_start wrongca --datastore-endpoint "$EP0" --datastore-cafile "$WORK/other/ca.crt" \
    --datastore-certfile "$ETCD_CERTFILE" --datastore-keyfile "$ETCD_KEYFILE"
bad_start plain --datastore-endpoint "http://$HOSTPORT0"
bad_start nofile --datastore-endpoint "$EP0" --datastore-cafile "$WORK/nonexistent.crt" \
    --datastore-certfile "$ETCD_CERTFILE" --datastore-keyfile "$ETCD_KEYFILE"
wait

# bad_result DESC NAME REGEX: exited non-zero (not a timeout), said REGEX, no sanitizer report.
bad_result() {
    local d=$1 f=$WORK/$2.out re=$3
    if grep -Eq '^exit=(0|124)$' "$f" || ! grep -Eq -- "$re" "$f" ||
        grep -q 'Sanitizer\|runtime error' "$f"; then
        fail "$d (want non-zero exit and /$re/)"; sed 's/^/  | /' "$f" | head -20
    else
        pass "$d"
    fi
}
RE_EP='cannot reach etcd at https://127\.0\.0\.1:[0-9]+.*etcd https://127\.0\.0\.1:[0-9]+: '
bad_result "no client certificate: start fails naming the endpoint and TLS" nocert \
    "${RE_EP}.*(alert|SSL).*\(TLS: check the CA file, client certificate and key\)"
bad_result "client certificate from another CA: start fails naming TLS" otherca \
    "cannot reach etcd at $EP0: etcd $EP0: .*\(TLS: check the CA file"
bad_result "wrong CA file: start fails, the member's certificate is not trusted" wrongca \
    "cannot reach etcd at $EP0: etcd $EP0: SSL certificate problem: unable to get local issuer certificate \(TLS"
bad_result "plain http to a TLS member: start fails, asks about https" plain \
    "cannot reach etcd at http://$HOSTPORT0: etcd http://$HOSTPORT0: .*\(does the member serve https\?\)"
bad_result "missing CA file: start fails at once naming the file" nofile \
    "etcd: cannot read the CA file \"$WORK/nonexistent.crt\": No such file or directory"

# --- the right way ---
CAIRN_SERVER_ARGS="--datastore-endpoint $ETCD_ENDPOINTS --etcd-prefix /cairn-tls
    --datastore-cafile $ETCD_CAFILE --datastore-certfile $ETCD_CERTFILE --datastore-keyfile $ETCD_KEYFILE"
start_server
echo "== server on port $PORT over TLS to etcd"
expect_ok "create namespace" k create ns tls
expect_ok "create configmap" k -n tls create configmap first --from-literal=a=b
expect_eq "get configmap" "b" k -n tls get cm first -o jsonpath='{.data.a}'
k -n tls get cm -w --output-watch-events >"$WORK/watch.out" 2>&1 &
WPID=$!
# The watch is established once it has printed the initial list.
wait_for "watch lists the existing configmap" 20 grep -q "ADDED *first" "$WORK/watch.out"
expect_ok "create watched configmap" k -n tls create cm watched --from-literal=x=1
expect_ok "label it" k -n tls label cm watched seen=yes
expect_out "keys are in etcd under the prefix" "^/cairn-tls/configmaps/tls/watched$" \
    etcd_ctl get --prefix --keys-only /cairn-tls/configmaps/tls/
expect_ok "delete it" k -n tls delete cm watched
wait_for "watch saw DELETED" 20 grep -q "DELETED *watched" "$WORK/watch.out"
expect_out "watch saw ADDED" "ADDED +watched" cat "$WORK/watch.out"
expect_out "watch saw MODIFIED" "MODIFIED +watched" cat "$WORK/watch.out"
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
expect_eq "the key is gone from etcd" "" \
    etcd_ctl get --prefix --keys-only /cairn-tls/configmaps/tls/watched
finish
