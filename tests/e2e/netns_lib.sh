# netns_lib.sh: a small test topology of network namespaces, sourced after
# lib.sh by suites that run nodes as separate "machines" on this one.
#
#   nl_up PREFIX             namespace PREFIX-lan holding bridge lan0 with
#                            $NL_LAN.1/24 (default 10.99.0.1): the logical
#                            network; the API server and registry run in it
#   nl_node PREFIX NAME IP   namespace PREFIX-NAME, lo up, eth0 = a veth to
#                            lan0 with IP/24. No default route: a node reaches
#                            the lan; anything else (another node's pod block)
#                            needs a route someone adds, and fails at once
#                            (network unreachable) until then
#   nl_exec NS cmd...        run cmd in namespace NS with `nsenter --net` only
#                            (not `ip netns exec`, which also makes a mount
#                            namespace, hiding an agent's bind mounts)
#   nl_down PREFIX           kill every process in PREFIX-* and delete them
#
# Everything is inside the namespaces: nothing is added to the machine's own
# network namespace. Every PREFIX brought up is taken down by
# nl_cleanup_all, which is installed as lib.sh's e2e_extra_cleanup (so it
# runs on failure too); a suite that defines its own e2e_extra_cleanup after
# sourcing this file must call nl_cleanup_all from it.

NL_LAN=${NL_LAN:-10.99.0}
NL_PREFIXES=""

nl_exec() {
    local ns=$1; shift
    nsenter --net="/run/netns/$ns" -- "$@"
}

nl_up() {
    local p=$1
    NL_PREFIXES="$NL_PREFIXES $p"
    ip netns add "$p-lan" || return 1
    ip -n "$p-lan" link set lo up &&
        ip -n "$p-lan" link add lan0 type bridge &&
        ip -n "$p-lan" addr add "$NL_LAN.1/24" dev lan0 &&
        ip -n "$p-lan" link set lan0 up
}

nl_node() {
    local p=$1 name=$2 ip=$3
    ip netns add "$p-$name" || return 1
    # Both ends are created inside the namespaces, never in ours.
    ip -n "$p-lan" link add "v-$name" type veth peer name eth0 netns "$p-$name" &&
        ip -n "$p-lan" link set "v-$name" master lan0 up &&
        ip -n "$p-$name" link set lo up &&
        ip -n "$p-$name" addr add "$ip/24" dev eth0 &&
        ip -n "$p-$name" link set eth0 up
}

# The namespaces of PREFIX: PREFIX-lan, PREFIX-<node>, and any other
# PREFIX-* a suite added (pod namespaces).
nl_list() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1-" || true
}

nl_down() {
    local p=$1 ns pids
    for ns in $(nl_list "$p"); do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    done
    for ns in $(nl_list "$p"); do
        # Wait (bounded) for the killed processes to be gone, so the
        # namespace and its interfaces really go with the delete.
        for _ in $(seq 1 50); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        ip netns del "$ns" 2>/dev/null
    done
    NL_PREFIXES=$(echo "$NL_PREFIXES" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}

nl_cleanup_all() {
    local p
    for p in $NL_PREFIXES; do nl_down "$p"; done
}

if ! declare -F e2e_extra_cleanup >/dev/null; then
    e2e_extra_cleanup() { nl_cleanup_all; }
fi
