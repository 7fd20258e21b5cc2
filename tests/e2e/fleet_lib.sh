# fleet_lib.sh: a fleet of hosts on one machine, for the fleet e2e suites
# and bench/fleet.sh. Source after lib.sh, netns_lib.sh and registry_lib.sh.
#
# Topology (all inside network namespaces this library creates and removes;
# nothing is added to the machine's own namespace):
#
#   $FLEET_P-lan   bridge lan0 with the gateway 10.220.0.1/24 (the logical
#                  network 10.220.0.0/24, VM pool 10.220.0.100-199); the
#                  bridge API server and the registry run here
#   $FLEET_P-hN    one per host: veth "uplink" (its peer u-hN is a port of
#                  lan0), a Linux bridge "vmswitch" enslaving the uplink, the
#                  host IP 10.220.0.1N/24 on vmswitch. VM NICs join vmswitch,
#                  so VMs sit on the lan at layer 2 like Hyper-V VMs on an
#                  external switch.
#
# The network is 10.220.0.0/24 (AKS Arc's docs use 10.220.32.0/24), not
# netns_lib's 10.99.0.0/24: a cluster's service CIDR may not overlap its
# logical network, and the default 10.96.0.0/12 spans 10.99.x.x
# (docs/fleet-api.md).
#
# Functions:
#   fleet_lan_up                   the lan namespace (nl_up)
#   fleet_bridge_start [flags]     `cairn bridge` in the lan on
#                                  $FLEET_GW:$FLEET_BRIDGE_PORT, data in
#                                  $FLEET_BRIDGE_DATA; waits for /readyz
#   fleet_bridge_stop              SIGTERM, checks the exit status
#   fleet_registry_up              registry on $FLEET_GW:5000 in the lan,
#                                  busybox:1 built and pushed; sets FLEET_IMG
#   fleet_host_net hN              the host's namespace and uplink
#   fleet_host_start hN [flags]    `cairn host` in hN's namespace, as PID 1
#                                  of a fresh PID namespace (and in cgroups
#                                  cairn-host-$FLEET_P-hN), so that killing
#                                  that PID kills every process of the host,
#                                  its VMs and their containers included
#   fleet_host_stop hN             SIGTERM (a clean shutdown)
#   fleet_kill_host hN             the host dies: SIGKILL to its PID
#                                  namespace, then its network namespace
#                                  (uplink, vmswitch, VM NIC peers) is
#                                  deleted; returns once nothing is left
#   fleet_host_pids hN             every process of the host (tree walk)
#   fleet_up N                     lan, bridge, registry, N hosts started
#   kb ARGS                        kubectl on the bridge (in the lan)
#   fl ARGS                        the cairn CLI on the bridge (in the lan)
#   in_lan CMD                     run CMD in the lan namespace
#   fleet_cleanup                  everything above, also on failure (it is
#                                  installed as lib.sh's e2e_extra_cleanup)
#
# Knobs: FLEET_HOST_CMD (array; default ("$CAIRN" host)) lets a test run a
# stand-in host; FLEET_HOST_ARGS (array) adds flags to every host;
# FLEET_BRIDGE_ARGS (array) to the bridge.

FLEET_P=${FLEET_P:-cnf$$}
FLEET_LAN=$FLEET_P-lan
FLEET_GW=10.220.0.1
FLEET_BRIDGE_PORT=${FLEET_BRIDGE_PORT:-9443}
FLEET_BRIDGE_DATA=$WORK/bridge
FLEET_KUBECONFIG=$FLEET_BRIDGE_DATA/kubeconfig
FLEET_STORAGE=$WORK/storage
FLEET_BRIDGE_PID=
FLEET_IMG=
FLEET_KUBECTL=${FLEET_KUBECTL:-$(command -v kubectl)}
[ "${FLEET_HOST_CMD+set}" = set ] || FLEET_HOST_CMD=("$CAIRN" host)
[ "${FLEET_HOST_ARGS+set}" = set ] || FLEET_HOST_ARGS=()
[ "${FLEET_BRIDGE_ARGS+set}" = set ] || FLEET_BRIDGE_ARGS=()
declare -A FLEET_HOST_PID     # hN -> pid of the host's `unshare` (parent of its PID 1)
declare -a FLEET_CGROUPS=()   # "hierarchy-dir:path" of every host process seen at a kill
NL_LAN=10.220.0

in_lan() { nsenter --net="/run/netns/$FLEET_LAN" -- "$@"; }
kb() { in_lan "$FLEET_KUBECTL" --kubeconfig "$FLEET_KUBECONFIG" "$@"; }
fl() { in_lan env CAIRN_BRIDGE_KUBECONFIG="$FLEET_KUBECONFIG" "$CAIRN" "$@"; }
# Hosts are named ${FLEET_HOST_PREFIX}1.. (default h1, h2, h3). `cairn host`
# names its VM cgroups cairn-host-<host>/<vm> in the machine's hierarchies,
# so two runs at once on one machine need different prefixes.
FLEET_HOST_PREFIX=${FLEET_HOST_PREFIX:-h}
fleet_host_ip() { echo "10.220.0.$((10 + ${1##*[!0-9]}))"; }
# A process exists and is not a zombie.
fleet_alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
fleet_now() { date +%s.%N; }
# fleet_since T0: seconds since T0 (from fleet_now), one decimal.
fleet_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

fleet_lan_up() {
    nl_up "$FLEET_P"
}

fleet_host_net() {
    local h=$1 ns=$FLEET_P-$1 ip
    ip=$(fleet_host_ip "$h")
    ip netns add "$ns" || return 1
    # Both veth ends are created inside the namespaces, never in ours.
    ip -n "$FLEET_LAN" link add "u-$h" type veth peer name uplink netns "$ns" &&
        ip -n "$FLEET_LAN" link set "u-$h" master lan0 up &&
        ip -n "$ns" link set lo up &&
        ip -n "$ns" link add vmswitch type bridge &&
        ip -n "$ns" link set uplink master vmswitch &&
        ip -n "$ns" link set uplink up &&
        ip -n "$ns" addr add "$ip/24" dev vmswitch &&
        ip -n "$ns" link set vmswitch up &&
        ip -n "$ns" route add default via "$FLEET_GW"
}

fleet_bridge_start() {
    mkdir -p "$WORK"
    # nsenter, not the in_lan function: run in the background, a function
    # is a subshell, and $! must be the bridge itself (nsenter execs it).
    nsenter --net="/run/netns/$FLEET_LAN" -- "$CAIRN" bridge --data-dir "$FLEET_BRIDGE_DATA" --listen "$FLEET_GW:$FLEET_BRIDGE_PORT" \
        --no-fsync --host-grace 3s "${FLEET_BRIDGE_ARGS[@]}" "$@" >>"$WORK/bridge.log" 2>&1 &
    FLEET_BRIDGE_PID=$!
    local _
    for _ in $(seq 1 600); do
        if [ -s "$FLEET_KUBECONFIG" ] &&
            in_lan curl -sk "https://$FLEET_GW:$FLEET_BRIDGE_PORT/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$FLEET_BRIDGE_PID" 2>/dev/null; then
            echo "fleet: the bridge exited"; tail -30 "$WORK/bridge.log"; FLEET_BRIDGE_PID=; return 1
        fi
        sleep 0.1
    done
    echo "fleet: the bridge did not become ready"; tail -30 "$WORK/bridge.log"; return 1
}

fleet_bridge_stop() {
    [ -n "$FLEET_BRIDGE_PID" ] || return 0
    kill -TERM "$FLEET_BRIDGE_PID" 2>/dev/null
    local rc=0
    wait "$FLEET_BRIDGE_PID" || rc=$?
    FLEET_BRIDGE_PID=
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then
        FAIL=$((FAIL + 1)); echo "FAIL bridge exited with status $rc"; tail -30 "$WORK/bridge.log"
    fi
}

fleet_registry_up() {
    REGISTRY_WRAP="in_lan"
    registry_start "$FLEET_GW:5000" || return 1
    image_build_busybox "$WORK/oci" >/dev/null && image_push "$WORK/oci" busybox:1 || return 1
    FLEET_IMG=$REGISTRY/busybox:1
}

# The cgroup directories the host's processes start in (pids and freezer:
# the second way to find and kill all of them).
_fleet_host_cgroups() { echo "/sys/fs/cgroup/pids/cairn-host-$FLEET_P-$1 /sys/fs/cgroup/freezer/cairn-host-$FLEET_P-$1"; }

fleet_host_start() {
    local h=$1; shift
    local ns=$FLEET_P-$h cg
    [ -e "/run/netns/$ns" ] || fleet_host_net "$h" || return 1
    mkdir -p "$FLEET_STORAGE" "$WORK/$h"
    local cgs=()
    for cg in $(_fleet_host_cgroups "$h"); do
        [ -d "$(dirname "$cg")" ] && mkdir -p "$cg" && cgs+=("$cg/cgroup.procs")
    done
    # The shell joins the cgroups, then becomes nsenter, which becomes
    # unshare: $! is unshare's pid, and its only child is the host's PID 1
    # (--kill-child: if unshare dies, so does that child, and with it the
    # whole PID namespace). --mount-proc gives the host a private mount
    # namespace, so whatever it mounts goes when it dies; in it a tmpfs on
    # /run/netns gives each host its own named network namespaces (VM
    # netns bind mounts, /run/netns/cnvm-<vm>), as separate machines have:
    # a VM that moves to another host makes its namespace there afresh.
    sh -c 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ >"$f"; shift; done; shift; exec "$@"' sh \
        "${cgs[@]}" -- nsenter --net="/run/netns/$ns" -- \
        unshare --pid --fork --kill-child --mount-proc \
        sh -c 'mount -t tmpfs -o mode=0755 cairn-host-netns /run/netns && exec "$@"' sh \
        "${FLEET_HOST_CMD[@]}" --kubeconfig "$FLEET_KUBECONFIG" --name "$h" --storage "$FLEET_STORAGE" \
        --data-dir "$WORK/$h" --address "$(fleet_host_ip "$h")" --cpu 32 --memory 128Gi --heartbeat 1s "${FLEET_HOST_ARGS[@]}" "$@" \
        >>"$WORK/$h.log" 2>&1 &
    FLEET_HOST_PID[$h]=$!
}

# Every process of host H: its unshare and all descendants (VMs run in
# PID namespaces nested in the host's, so they are descendants too), plus
# anything still in its cgroups.
fleet_host_pids() {
    local h=$1 root=${FLEET_HOST_PID[$1]:-} todo p c cg
    {
        if [ -n "$root" ] && kill -0 "$root" 2>/dev/null; then
            todo=$root
            while [ -n "$todo" ]; do
                set -- $todo
                todo=
                for p in "$@"; do
                    echo "$p"
                    for c in $(pgrep -P "$p" 2>/dev/null); do todo="$todo $c"; done
                done
            done
        fi
        for cg in $(_fleet_host_cgroups "$h"); do cat "$cg/cgroup.procs" 2>/dev/null; done
    } | sort -un
}

# Remember the cgroups the host's processes are in (VM and container
# cgroups made by the host and its agents), to remove them once empty.
_fleet_record_cgroups() {
    local p line id ctrls path dir
    for p in "$@"; do
        while IFS= read -r line; do
            id=${line%%:*}; line=${line#*:}; ctrls=${line%%:*}; path=${line#*:}
            [ "$path" = / ] && continue
            case "$ctrls" in
                name=*) dir=${ctrls#name=} ;;
                "") dir=unified ;;
                *) dir=$ctrls ;;
            esac
            [ -d "/sys/fs/cgroup/$dir$path" ] && FLEET_CGROUPS+=("$dir:$path")
            : "$id"
        done 2>/dev/null <"/proc/$p/cgroup"
    done
}

# Remove the recorded cgroups once empty (a cgroup a host process was in
# is the host's: its own, a VM's, a container's), then their parents below
# the top level; never this shell's own cgroup or an ancestor of it.
_fleet_rm_cgroups() {
    local e dir path mine
    for e in $(printf '%s\n' "${FLEET_CGROUPS[@]}" | sort -u | awk -F/ '{ print NF, $0 }' | sort -rn | cut -d' ' -f2-); do
        dir=${e%%:*}; path=${e#*:}
        mine=$(awk -F: -v d="$dir" '{ c = $2; sub(/^name=/, "", c); if (c == "") c = "unified"; if (c == d) print $3 }' /proc/$$/cgroup)
        case "$mine/" in "$path"/*) continue ;; esac
        # Children first: cgroups made below it after the record (a pod's,
        # a container's) hold no process either once the host is dead.
        [ -d "/sys/fs/cgroup/$dir$path" ] &&
            find "/sys/fs/cgroup/$dir$path" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
        [ -d "/sys/fs/cgroup/$dir$path" ] && ! rmdir "/sys/fs/cgroup/$dir$path" 2>/dev/null && continue
        path=$(dirname "$path")
        while [ "$path" != / ] && [ "$(dirname "$path")" != / ]; do
            case "$mine/" in "$path"/*) break ;; esac
            rmdir "/sys/fs/cgroup/$dir$path" 2>/dev/null || break
            path=$(dirname "$path")
        done
    done
    FLEET_CGROUPS=()
}

fleet_host_stop() {
    local h=$1 pid=${FLEET_HOST_PID[$1]:-} init
    [ -n "$pid" ] || return 0
    init=$(pgrep -P "$pid" | head -1)
    [ -n "$init" ] && kill -TERM "$init" 2>/dev/null
    local _
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fleet_kill_host "$h" keep-net
}

# fleet_kill_host H [keep-net]: H loses power. Returns once no process of
# H is left and (unless keep-net) its namespace is gone.
fleet_kill_host() {
    local h=$1 keep=${2:-} pid=${FLEET_HOST_PID[$1]:-} init pids p cg _
    local all
    all=$(fleet_host_pids "$h")
    # shellcheck disable=SC2086
    _fleet_record_cgroups $all
    if [ -n "$pid" ]; then
        init=$(pgrep -P "$pid" | head -1)
        # SIGKILL to a PID namespace's init kills everything in it and in
        # the namespaces nested in it, at once.
        # unshare then reaps it and exits (killing unshare first would
        # leave init a zombie for whoever adopts it).
        if [ -n "$init" ]; then kill -KILL "$init" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
        wait "$pid" 2>/dev/null
    fi
    # Stragglers (none expected): whatever is still in the host's cgroups.
    for _ in $(seq 1 100); do
        pids=""
        for cg in $(_fleet_host_cgroups "$h"); do pids="$pids $(cat "$cg/cgroup.procs" 2>/dev/null)"; done
        # shellcheck disable=SC2086
        [ -z "${pids// /}" ] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        sleep 0.1
    done
    # Every process seen before the kill must be gone (bounded: a
    # SIGKILLed process takes a moment to release what it holds).
    for _ in $(seq 1 100); do
        local left=
        for p in $all; do fleet_alive "$p" && left=1 && break; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    for cg in $(_fleet_host_cgroups "$h"); do rmdir "$cg" 2>/dev/null; done
    _fleet_rm_cgroups
    # `cairn host` puts VM cgroups under cairn-host-<name>/<vm> in every
    # hierarchy: the VMs' were removed with the recorded ones above; the
    # parent goes too once it has none left.
    for cg in /sys/fs/cgroup/*/cairn-host-"$h"; do [ -d "$cg" ] && rmdir "$cg" 2>/dev/null; done
    [ -n "${left:-}" ] && echo "fleet: processes of $h still alive after SIGKILL"
    unset "FLEET_HOST_PID[$h]"
    if [ -z "$keep" ] && [ -e "/run/netns/$FLEET_P-$h" ]; then
        pids=$(ip netns pids "$FLEET_P-$h" 2>/dev/null)
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
        ip netns del "$FLEET_P-$h"
        # The kernel tears a namespace down asynchronously; its uplink
        # going from the lan is the sign that it is done (and a restart
        # may reuse the name).
        for _ in $(seq 1 200); do
            ip -n "$FLEET_LAN" link show "u-$h" >/dev/null 2>&1 || break
            sleep 0.05
        done
    fi
}

# fleet_up N: lan, registry, bridge, N hosts (h1..hN) started (not waited for).
fleet_up() {
    local n=$1 i
    fleet_lan_up || return 1
    fleet_registry_up || return 1
    fleet_bridge_start || return 1
    for i in $(seq 1 "$n"); do fleet_host_start "$FLEET_HOST_PREFIX$i" || return 1; done
}

# A host is Ready on the bridge.
# fleet_web_yaml FILE LABEL: a 3-replica busybox httpd Deployment "web",
# one pod per node (anti-affinity), on the nodes labelled LABEL=web, each
# serving a page naming its pod; written to FILE (the test and the bench).
fleet_web_yaml() {
    cat >"$1" <<WEB
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {$2: web}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: httpd
        image: $FLEET_IMG
        command: ["sh", "-c", "mkdir -p /tmp/www && echo page-from-\$(hostname) > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
WEB
}

fleet_host_ready() {
    [ "$(kb get host "$1" -o jsonpath='{.status.phase}' 2>/dev/null)" = Ready ]
}

fleet_all_hosts_ready() {
    local h
    for h in "$@"; do fleet_host_ready "$h" || return 1; done
}

# Sanitizer reports or crashes in any log under $WORK (bridge, hosts, VMs).
fleet_check_logs() {
    local f
    for f in $(grep -rlE --include='*.log' "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" "$WORK" 2>/dev/null); do
        fail "sanitizer report in ${f#"$WORK"/}"
        grep -E -A20 "Sanitizer|runtime error" "$f" | head -30 | sed 's/^/  | /'
    done
}

fleet_cleanup() {
    local h m
    for h in "${!FLEET_HOST_PID[@]}"; do fleet_kill_host "$h" keep-net; done
    fleet_bridge_stop
    # A host's mounts live in its own mount namespace; anything that
    # reached ours anyway (under $WORK) is detached.
    for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null; done
    for h in /sys/fs/cgroup/*/cairn-host-"$FLEET_P"-*; do [ -d "$h" ] && rmdir "$h" 2>/dev/null; done
    # (nl_up may have run in a subshell, e.g. under expect_ok, which
    # loses its record of the prefix: name it here.)
    nl_down "$FLEET_P"
    nl_cleanup_all
}

# lib.sh runs this on exit; a suite that needs more defines its own after
# sourcing this file and calls fleet_cleanup from it.
e2e_extra_cleanup() { fleet_cleanup; }
# A signal (timeout, Ctrl-C) must still run the EXIT trap's cleanup.
trap 'exit 143' TERM
trap 'exit 130' INT
