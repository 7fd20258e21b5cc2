#!/bin/bash
# e2e_nodeipam: the node IPAM controller with the real server and kubectl.
# A 10.250.0.0/22 cluster CIDR in /24 blocks has four blocks: Nodes get
# distinct ones, a Node's own podCIDR is respected, a restarted server
# (controller rebuilt from the API) never hands a held block out again,
# exhaustion gives the CIDRNotAvailable event, a deleted Node's block is
# reused, and the API keeps a set podCIDR immutable.
source "$(dirname "$0")/lib.sh"

ARGS=(--cluster-cidr 10.250.0.0/22 --node-cidr-mask-size 24)
start_server "${ARGS[@]}"

mknode() {   # mknode NAME [PODCIDR]
    local spec="{}"
    [ -n "${2:-}" ] && spec="{\"podCIDR\":\"$2\",\"podCIDRs\":[\"$2\"]}"
    echo "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\"},\"spec\":$spec}" |
        kubectl create -f - 2>&1
}
cidr() { kubectl get node "$1" -o jsonpath='{.spec.podCIDR}'; }
has_cidr() { [ -n "$(cidr "$1")" ]; }
cidrs_match() { [ "$(kubectl get node "$1" -o jsonpath='{.spec.podCIDRs[0]}')" = "$(cidr "$1")" ]; }

expect_out "a node with its own block" "created" mknode n0 10.250.0.0/24
expect_out "node n1" "created" mknode n1
expect_out "node n2" "created" mknode n2
wait_for "n1 gets a pod CIDR" 20 has_cidr n1
wait_for "n2 gets a pod CIDR" 20 has_cidr n2
expect_ok "n1's podCIDRs[0] is its podCIDR" cidrs_match n1
C1=$(cidr n1) C2=$(cidr n2)
expect_out "n1's block is a /24 of the cluster CIDR" '^10\.250\.[0-3]\.0/24$' echo "$C1"
expect_ok "n1 and n2 differ" test "$C1" != "$C2"
expect_ok "n0's own block is not handed out" test "$C1" != 10.250.0.0/24 -a "$C2" != 10.250.0.0/24
expect_eq "n0 keeps its block" "10.250.0.0/24" cidr n0

# A restarted server rebuilds the used set from the API.
stop_server
start_server "${ARGS[@]}"
expect_out "node n3 after a restart" "created" mknode n3
wait_for "n3 gets a pod CIDR" 20 has_cidr n3
C3=$(cidr n3)
expect_ok "n3's block is the one left" test "$C3" != "$C1" -a "$C3" != "$C2" -a "$C3" != 10.250.0.0/24
expect_out "n3's block is in the cluster CIDR" '^10\.250\.[0-3]\.0/24$' echo "$C3"

# Exhausted: the event, and no CIDR.
expect_out "node n4" "created" mknode n4
not_available() {
    kubectl get events -A --field-selector involvedObject.name=n4 -o jsonpath='{.items[*].reason}' | grep -q CIDRNotAvailable
}
wait_for "n4 gets the CIDRNotAvailable event" 30 not_available
expect_eq "n4 has no pod CIDR" "" cidr n4

# A deleted node's block is free again, and the waiting node gets it.
expect_ok "delete n1" kubectl delete node n1
wait_for "n4 gets a pod CIDR once n1 is gone" 60 has_cidr n4
expect_eq "n4 got n1's block" "$C1" cidr n4

# The API keeps a node's block.
expect_fail "podCIDR cannot change" 'node updates may not change podCIDR except from "" to valid' \
    kubectl patch node n2 -p '{"spec":{"podCIDR":"10.250.9.0/24","podCIDRs":["10.250.9.0/24"]}}'
expect_eq "n2 keeps its block" "$C2" cidr n2
expect_fail "a bad podCIDR is refused" "must be a valid CIDR" mknode n5 10.250.0.300/24
finish
