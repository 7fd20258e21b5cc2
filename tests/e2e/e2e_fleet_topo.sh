#!/usr/bin/env bash
# e2e_fleet_topo: the fleet test topology and host process management of
# tests/e2e/fleet_lib.sh, on their own, with a stand-in for `cairn host`
# (a shell script that starts one "VM": a nested PID and network namespace
# whose eth0 joins the host's vmswitch, plus a setsid'd daemon). Checks
# that hosts and VMs are on the lan at layer 2, that fleet_kill_host leaves
# no process of the host (VMs and daemons included), no namespace, no
# uplink and no cgroup behind, that the other hosts are untouched, and that
# the cleanup removes everything. Needs root; skips otherwise.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/netns_lib.sh"
. "$E2E_DIR/registry_lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "e2e_fleet_topo: skipped: needs root"; finish; exit 0; fi

# The stand-in host: --name hN runs VM 10.220.0.15N; SIGTERM ends it.
cat >"$WORK/fakehost.sh" <<'EOF'
#!/bin/sh
name= data=
while [ $# -gt 0 ]; do
    case $1 in --name) name=$2; shift ;; --data-dir) data=$2; shift ;; esac
    shift
done
trap 'exit 0' TERM
n=${name#h}
unshare --pid --fork --net --mount-proc sh -c 'sleep 100000 & exec sleep 100001' &
vm=$!
for _ in $(seq 1 100); do init=$(pgrep -P "$vm"); [ -n "$init" ] && break; sleep 0.05; done
ip link add "vm$n" type veth peer name eth0 netns "$init"
ip link set "vm$n" master vmswitch up
# A fixed MAC, as a Hyper-V VM keeps its own across hosts: the lan's
# neighbour entry stays right when the VM comes back.
nsenter --net="/proc/$init/ns/net" sh -c "ip link set lo up && ip link set eth0 address 02:00:0a:dc:00:9$n &&
    ip addr add 10.220.0.15$n/24 dev eth0 && ip link set eth0 up"
setsid sleep 100002 &
echo ready >"$data/ready"
while :; do sleep 1; done
EOF
FLEET_HOST_CMD=(sh "$WORK/fakehost.sh")
. "$E2E_DIR/fleet_lib.sh"

expect_ok "lan namespace up" fleet_lan_up
expect_ok "host h1's namespace" fleet_host_net h1
expect_ok "host h2's namespace" fleet_host_net h2
expect_out "h1: the uplink is a port of vmswitch" "master vmswitch" ip -n "$FLEET_P-h1" link show uplink
expect_out "h1: its IP is on vmswitch" "inet 10.220.0.11/24" ip -n "$FLEET_P-h1" -o addr show dev vmswitch
expect_out "the lan: u-h1 is a port of lan0" "master lan0" ip -n "$FLEET_LAN" link show u-h1
expect_ok "h1 reaches the gateway" nsenter --net="/run/netns/$FLEET_P-h1" busybox ping -c 1 -W 5 "$FLEET_GW"
expect_ok "h1 reaches h2" nsenter --net="/run/netns/$FLEET_P-h1" busybox ping -c 1 -W 5 10.220.0.12
expect_eq "nothing added to the machine's namespace" "" sh -c "ip -o addr | grep '10\.220\.0\.'"

fleet_host_start h1
fleet_host_start h2
wait_for "h1's VM up" 20 test -s "$WORK/h1/ready"
wait_for "h2's VM up" 20 test -s "$WORK/h2/ready"
wait_for "h1's VM is on the lan (layer 2 through vmswitch)" 10 in_lan busybox ping -c 1 -W 1 10.220.0.151
wait_for "h2's VM is on the lan" 10 in_lan busybox ping -c 1 -W 1 10.220.0.152
fleet_registry_up
expect_out "the registry in the lan holds busybox:1" "busybox" in_lan curl -s "http://$REGISTRY/v2/_catalog"
VMINIT=$(pgrep -f "sleep 100001" | while read -r p; do fleet_host_pids h1 | grep -qx "$p" && echo "$p"; done | head -1)
expect_out "a VM reaches the registry through vmswitch and the lan" '"busybox"' \
    nsenter --net="/proc/$VMINIT/ns/net" busybox wget -qO- "http://$FLEET_GW:5000/v2/_catalog"
P1=$(fleet_host_pids h1)
N1=$(echo "$P1" | wc -w)
expect_ok "h1 has its processes: unshare, host, VM unshare, VM init, VM child, daemon ($N1 found)" test "$N1" -ge 6
expect_out "h1's host process is PID 1 of its PID namespace" "^1$" sh -c \
    "grep NSpid /proc/$(pgrep -P "${FLEET_HOST_PID[h1]}")/status | awk '{print \$NF}'"
expect_ok "h1 is in its cgroup" grep -q . "/sys/fs/cgroup/pids/cairn-host-$FLEET_P-h1/cgroup.procs"
D1=$(pgrep -f "sleep 100002" | while read -r p; do echo "$P1" | grep -qx "$p" && echo "$p"; done)
expect_ok "the setsid'd daemon of h1 is counted" test -n "$D1"

T0=$(fleet_now)
fleet_kill_host h1
echo "     (fleet_kill_host took $(fleet_since "$T0") s)"
left=
for p in $P1; do fleet_alive "$p" && left="$left $p"; done
expect_eq "no process of h1 is left" "" echo "$left"
expect_ok "h1's namespace is gone" sh -c "! ip netns list | grep -qw '$FLEET_P-h1'"
expect_fail "h1's uplink is gone from the lan" "." ip -n "$FLEET_LAN" link show u-h1
expect_fail "h1's VM no longer answers" "." in_lan busybox ping -c 1 -W 1 10.220.0.151
expect_ok "h1's cgroups are removed" sh -c "! ls -d /sys/fs/cgroup/*/cairn-host-$FLEET_P-h1 2>/dev/null | grep -q ."
expect_ok "h2's VM still answers" in_lan busybox ping -c 1 -W 5 10.220.0.152
expect_ok "h2 still runs" kill -0 "${FLEET_HOST_PID[h2]}"

# A host comes back: a fresh namespace and processes.
rm -f "$WORK/h1/ready"
fleet_host_start h1
wait_for "h1 back with its VM" 20 test -s "$WORK/h1/ready"
wait_for "h1's VM answers again" 10 in_lan busybox ping -c 1 -W 1 10.220.0.151 || {
    ip -n "$FLEET_LAN" neigh; ip -n "$FLEET_LAN" link; ip -n "$FLEET_P-h1" link; ip -n "$FLEET_P-h1" addr; cat "$WORK/h1.log"; }

# A clean stop (SIGTERM to the host) takes its VMs too.
P2=$(fleet_host_pids h2)
fleet_host_stop h2
left=
for p in $P2; do fleet_alive "$p" && left="$left $p"; done
expect_eq "no process of h2 after a clean stop" "" echo "$left"

P1=$(fleet_host_pids h1)
fleet_cleanup
left=
for p in $P1; do fleet_alive "$p" && left="$left $p"; done
expect_eq "cleanup: no host process left" "" echo "$left"
expect_eq "cleanup: no namespace of the test left" "" nl_list "$FLEET_P"
expect_eq "cleanup: no cgroup of the test left" "" sh -c "ls -d /sys/fs/cgroup/*/cairn-host-$FLEET_P-* 2>/dev/null"
finish
