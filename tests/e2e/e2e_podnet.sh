#!/bin/bash
# e2e_podnet: the pod network across two nodes, each its own network
# namespace on a shared "lan" (tests/e2e/netns_lib.sh). On each node
# agent/podnet (driven by the cairn-podnet test tool, one process per step
# like an agent restarting in between) sets up the bridge for the node's
# block, wires a pod namespace and routes the other node's block via that
# node's IP. A pod on node A then fetches a page from a pod on node B by
# pod IP, and B's server sees A's pod IP (no NAT between pods).
# Needs root; skips otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "skip: e2e_podnet needs root"; exit 0; fi
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/netns_lib.sh"

TOOL=$(dirname "$CAIRN")/cairn-podnet
[ -x "$TOOL" ] || { echo "e2e: $TOOL not built"; exit 1; }
P=cnp$$
A_IP=10.99.0.11 B_IP=10.99.0.12
A_BLOCK=10.244.1.0/24 B_BLOCK=10.244.2.0/24

pn() {   # pn NODE BLOCK args...: cairn-podnet inside node NODE
    local node=$1 block=$2; shift 2
    nl_exec "$P-$node" "$TOOL" --dir "$WORK/net-$node" --block "$block" "$@"
}

expect_ok "lan up" nl_up "$P"
expect_ok "node a on the lan" nl_node "$P" a "$A_IP"
expect_ok "node b on the lan" nl_node "$P" b "$B_IP"
expect_ok "nodes reach each other" nl_exec "$P-a" busybox ping -c 1 -W 5 "$B_IP"

# Pod namespaces are created on their own, like a runtime does, and wired
# by the agent's podnet from the node's namespace.
ip netns add "$P-poda" && ip netns add "$P-podb"
expect_ok "setup node a" pn a "$A_BLOCK" setup
expect_ok "setup node a again" pn a "$A_BLOCK" setup
expect_ok "setup node b" pn b "$B_BLOCK" setup
POD_A=$(pn a "$A_BLOCK" alloc uid-a)
POD_B=$(pn b "$B_BLOCK" alloc uid-b)
expect_eq "pod a's IP is in a's block, after the gateway" "10.244.1.2" echo "$POD_A"
expect_eq "pod b's IP is in b's block" "10.244.2.2" echo "$POD_B"
expect_eq "alloc is idempotent across restarts" "$POD_A" pn a "$A_BLOCK" alloc uid-a
expect_ok "attach pod a" pn a "$A_BLOCK" attach "/run/netns/$P-poda" uid-a "$POD_A"
expect_ok "attach pod a again" pn a "$A_BLOCK" attach "/run/netns/$P-poda" uid-a "$POD_A"
expect_ok "attach pod b" pn b "$B_BLOCK" attach "/run/netns/$P-podb" uid-b "$POD_B"
expect_out "pod a has eth0 with its IP" "inet $POD_A/24" nl_exec "$P-poda" ip -o addr show dev eth0
expect_out "pod a's default route is the gateway" "default via 10.244.1.1 dev eth0" nl_exec "$P-poda" ip route
# With a pod's veth on it, the bridge still has its own fixed MAC (not
# the port's), so the gateway's MAC never changes under the pods.
expect_out "node a's bridge keeps its fixed MAC" "link/ether 02:63:0a:f4:01:01 " nl_exec "$P-a" ip link show cairn0
expect_out "pod a's bridge port is in hairpin mode" "hairpin on" nl_exec "$P-a" ip -d link show master cairn0
expect_out "node a forwards" "^1$" nl_exec "$P-a" cat /proc/sys/net/ipv4/ip_forward

# Pod b serves a page and a CGI that shows the client's address.
mkdir -p "$WORK/www/cgi-bin"
echo "hello from pod b" >"$WORK/www/index.html"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nfrom=%%s\\n" "$REMOTE_ADDR"\n' >"$WORK/www/cgi-bin/who"
chmod +x "$WORK/www/cgi-bin/who"
nl_exec "$P-podb" busybox httpd -f -p 8080 -h "$WORK/www" &
HTTPD=$!
wait_for "pod b listens" 10 sh -c "nsenter --net=/run/netns/$P-podb busybox netstat -ltn | grep -q ':8080 '"

# GET PATH from pod b, inside pod a (busybox nc: busybox wget crashes on
# this machine's busybox-static).
get_from_a() {
    printf 'GET %s HTTP/1.0\r\n\r\n' "$1" | nl_exec "$P-poda" busybox nc -w 10 "$POD_B" 8080
}

# Without routes to b's block node a answers at once: network unreachable.
expect_fail "before routes: pod a cannot reach pod b" "unreachable" get_from_a /index.html
# Strict reverse-path filtering on both nodes (the routes are symmetric,
# so it must not matter).
expect_ok "strict rp_filter on node a" nl_exec "$P-a" busybox sysctl -w net.ipv4.conf.all.rp_filter=1
expect_ok "strict rp_filter on node b" nl_exec "$P-b" busybox sysctl -w net.ipv4.conf.all.rp_filter=1
expect_ok "routes on node a" pn a "$A_BLOCK" routes "$B_BLOCK=$B_IP"
expect_ok "routes on node b" pn b "$B_BLOCK" routes "$A_BLOCK=$A_IP"
expect_out "node a routes b's block via b (proto 77)" "$B_BLOCK via $B_IP dev eth0 proto 77" nl_exec "$P-a" ip route
expect_out "pod a fetches a page from pod b by pod IP" "hello from pod b" get_from_a /index.html
# (httpd listens on a dual-stack socket: the peer shows as ::ffff:a.b.c.d)
expect_out "pod b sees pod a's own IP" "from=(\\[::ffff:)?$POD_A\\]?\$" get_from_a /cgi-bin/who

# Routes are replaced as a whole: an empty set removes ours only.
expect_ok "routes on node a: none" pn a "$A_BLOCK" routes
expect_eq "node a has no route of ours left" "" nl_exec "$P-a" ip route show proto 77
expect_out "node a keeps its lan route" "10.99.0.0/24 dev eth0" nl_exec "$P-a" ip route

# Detach removes the host end; reconcile frees addresses of gone pods.
HOST_IF=$(nl_exec "$P-b" ip -o link show master cairn0 | awk -F': ' '{print $2}' | cut -d@ -f1)
expect_out "pod b's host veth is on node b's bridge" "^cn[0-9a-f]{10}$" echo "$HOST_IF"
expect_ok "detach pod b" pn b "$B_BLOCK" detach uid-b
expect_eq "pod b's host veth is gone" "" nl_exec "$P-b" ip -o link show master cairn0
expect_fail "pod b has no eth0" "." nl_exec "$P-podb" ip link show eth0
expect_eq "reconcile with no live pods frees b's address" "1" pn b "$B_BLOCK" reconcile
expect_eq "a new pod on b gets an address" "10.244.2.3" pn b "$B_BLOCK" alloc uid-b2

kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null
nl_down "$P"
expect_eq "no namespace of the test left" "" nl_list "$P"
finish
