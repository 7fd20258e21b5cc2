#!/bin/bash
# Service cluster IPs and node ports through the real kubectl: chosen values
# that are taken are refused with upstream's exact words, deleting a Service
# (or its namespace) or changing its type frees what it held, claims survive
# a restart, and concurrent creates over a tiny service CIDR never share an
# address (the rest get "range is full").
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
CIDR_ARGS=(--service-cidr 10.44.0.0/28)   # 13 usable: .2 to .14
start_server "${CIDR_ARGS[@]}"

ip_of() { k get svc "$@" -o jsonpath='{.spec.clusterIP}'; }
# A cluster IP of the range that no Service holds now.
free_ip() {
    local used
    used=$(k get svc -A -o jsonpath='{range .items[*]}{.spec.clusterIP}{"\n"}{end}')
    for i in $(seq 2 14); do
        if ! echo "$used" | grep -qx "10.44.0.$i"; then echo "10.44.0.$i"; return; fi
    done
}

# --- chosen cluster IPs ---
expect_ok "create a Service with a chosen cluster IP" k create service clusterip a --tcp=80 --clusterip=10.44.0.5
expect_eq "it holds that IP" "10.44.0.5" ip_of a
expect_fail "the same IP again is refused with upstream's message" \
    'Service "b" is invalid: spec.clusterIPs: Invalid value: \[\]string\{"10\.44\.0\.5"\}: failed to allocate IP 10\.44\.0\.5: provided IP is already allocated' \
    k create service clusterip b --tcp=80 --clusterip=10.44.0.5
expect_status "over the API it is 422 Invalid" 422 Invalid POST /api/v1/namespaces/default/services \
    -H Content-Type:application/json \
    -d '{"apiVersion":"v1","kind":"Service","metadata":{"name":"b"},"spec":{"clusterIP":"10.44.0.5","ports":[{"port":80}]}}'
expect_fail "an IP outside the range is refused" 'provided IP is not in the valid range. The range of valid IPs is 10\.44\.0\.0/28' \
    k create service clusterip b --tcp=80 --clusterip=10.45.0.5
expect_fail "a server-side dry run sees the taken IP" 'provided IP is already allocated' \
    k create service clusterip b --tcp=80 --clusterip=10.44.0.5 --dry-run=server
expect_ok "a server-side dry run of a free IP succeeds" k create service clusterip b --tcp=80 --clusterip=10.44.0.6 --dry-run=server
expect_ok "...and claims nothing: the IP can be created for real" k create service clusterip b --tcp=80 --clusterip=10.44.0.6
expect_ok "delete the first Service" k delete service a
expect_ok "its IP can be taken again at once" k create service clusterip a2 --tcp=80 --clusterip=10.44.0.5
expect_ok "headless Services hold no IP" k create service clusterip hl --clusterip=None
expect_eq "headless stays None" "None" ip_of hl

# --- node ports ---
expect_ok "create a NodePort Service with a chosen node port" k create service nodeport np --tcp=80 --node-port=30080
expect_fail "the same node port again is refused with upstream's message" \
    'Service "np2" is invalid: spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated' \
    k create service nodeport np2 --tcp=80 --node-port=30080
expect_ok "NodePort to ClusterIP: node ports dropped, as upstream" \
    k patch svc np -p '{"spec":{"type":"ClusterIP"}}'
expect_eq "np has no node port now" "" k get svc np -o jsonpath='{.spec.ports[0].nodePort}'
expect_ok "the freed node port can be taken by another Service" k create service nodeport np2 --tcp=80 --node-port=30080
expect_ok "a LoadBalancer gets node ports too" k create service loadbalancer lb --tcp=80
expect_out "...in the node port range" '^3[0-9]{4}$' k get svc lb -o jsonpath='{.spec.ports[0].nodePort}'

# --- namespace deletion frees what its Services held ---
expect_ok "a namespace with a Service" k create namespace gone
ip7=$(free_ip)
expect_ok "its Service takes a free IP ($ip7)" k -n gone create service clusterip s --tcp=80 --clusterip="$ip7"
expect_ok "delete the namespace" k delete namespace gone --wait=false
wait_for "the namespace goes away" 20 sh -c "! $K get namespace gone"
expect_ok "its Service's IP is free again" k create service clusterip s7 --tcp=80 --clusterip="$ip7"

# --- claims are not objects, and they survive a restart ---
expect_eq "claims never appear among Services" "a2 b hl lb np np2 s7" \
    sh -c "$K get svc -A -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}' | sort | tr '\n' ' ' | sed 's/ \$//'"
stop_server
start_server "${CIDR_ARGS[@]}"
expect_fail "after a restart a taken IP is still refused" 'provided IP is already allocated' \
    k create service clusterip b9 --tcp=80 --clusterip=10.44.0.6
expect_fail "...and a taken node port too" 'provided port is already allocated' \
    k create service nodeport np9 --tcp=80 --node-port=30080

# --- concurrent creates over the tiny range ---
used=$(k get svc -A -o jsonpath='{range .items[*]}{.spec.clusterIP}{"\n"}{end}' | grep -c '^10\.44\.')
free=$((13 - used))
pids=()
for i in $(seq 1 16); do
    ( k create service nodeport "c$i" --tcp=80 >"$WORK/c$i.out" 2>&1; echo $? >"$WORK/c$i.rc" ) &
    pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the server is a child too
ok=0; full=0
for i in $(seq 1 16); do
    if [ "$(cat "$WORK/c$i.rc")" = 0 ]; then ok=$((ok + 1))
    elif grep -q 'failed to allocate a serviceIP: range is full' "$WORK/c$i.out"; then full=$((full + 1))
    else cat "$WORK/c$i.out"; fi
done
if [ "$ok" -eq "$free" ] && [ $((ok + full)) -eq 16 ]; then pass "16 concurrent creates: $ok got the $free free IPs, $full were told the range is full"
else fail "16 concurrent creates: $ok succeeded, $full range-full, want $free and $((16 - free))"; fi
expect_eq "no two Services share a cluster IP" "" \
    sh -c "$K get svc -A -o jsonpath='{range .items[*]}{.spec.clusterIP}{\"\\n\"}{end}' | grep '^10\.44\.' | sort | uniq -d"
expect_eq "no two Services share a node port" "" \
    sh -c "$K get svc -A -o jsonpath='{range .items[*]}{range .spec.ports[*]}{.nodePort}{\"\\n\"}{end}{end}' | grep . | sort | uniq -d"
expect_fail "a full range is a 500 with upstream's words" 'Internal error occurred: failed to allocate a serviceIP: range is full' \
    k create service clusterip more --tcp=80
finish
