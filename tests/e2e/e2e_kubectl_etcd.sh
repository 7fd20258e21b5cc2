#!/bin/bash
# The kubectl suite (kubectl 1.32) against a server on a real 3-member etcd
# cluster instead of SQLite: the same checks must give the same results.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kubectl_suite.sh"
. "$E2E_DIR/../etcd/cluster.sh"
e2e_extra_cleanup() { etcd_cluster_stop; }
etcd_cluster_start 3 "$WORK/etcd" || { echo "e2e: etcd cluster did not start"; exit 1; }
CAIRN_SERVER_ARGS="--datastore-endpoint $ETCD_ENDPOINTS --etcd-prefix /cairn-e2e"
# ETCD_TLS=1 runs the same suite on https members with client certificates.
[ "$ETCD_SCHEME" = https ] && CAIRN_SERVER_ARGS+=" --datastore-cafile $ETCD_CAFILE \
--datastore-certfile $ETCD_CERTFILE --datastore-keyfile $ETCD_KEYFILE"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
run_kubectl_suite
expect_out "objects live in etcd under the prefix" "^/cairn-e2e/namespaces/kube-system$" \
    etcd_ctl get --prefix --keys-only /cairn-e2e/namespaces/
finish
