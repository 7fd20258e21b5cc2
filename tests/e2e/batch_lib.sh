# batch_lib.sh: helpers for the DaemonSet/StatefulSet/Job/CronJob suites,
# sourced after lib.sh. Pods are placed by the server's scheduler and run
# on simulated nodes (`cairn agent --simulate`), which also end pods
# annotated sim.cairn.io/duration with sim.cairn.io/exit-code.
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
AGENT_PIDS=()

# start_agent N [agent flags...]: N more simulated nodes.
start_agent() {
    local n=$1; shift
    "$CAIRN" agent --simulate --nodes "$n" --kubeconfig "$KUBECONFIG" --ready-delay "${READY_DELAY:-200ms}" \
        --stats-interval 1h "$@" >>"$WORK/agent.log" 2>&1 &
    AGENT_PIDS+=("$!")
}

stop_agents() {
    local p
    for p in "${AGENT_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    AGENT_PIDS=()
}

e2e_extra_cleanup() { stop_agents; }

ready_nodes() {
    k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
        grep -c True
}
# nodes_ready N: true when exactly N nodes are Ready.
nodes_ready() { [ "$(ready_nodes)" = "$1" ]; }

# jp KIND/NAME JSONPATH: one field.
jp() { k get "$1" -o jsonpath="$2"; }
# is "$@" output equal to want? for wait_for: eq WANT cmd...
eq() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }
# count_pods SELECTOR: pods (any phase) with these labels.
count_pods() { k get pods -l "$1" --no-headers 2>/dev/null | wc -l; }
