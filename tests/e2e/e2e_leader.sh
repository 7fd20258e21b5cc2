# e2e_leader: leader election on one server. Both singleton leases
# (kube-system/cairn-controller-manager, cairn-scheduler) are held by this
# process and renewed; namespace finalization (gated on the lease) still
# completes; a clean restart hands the leases over at once (release on
# shutdown), a kill -9 restart only after the lease expires. Several
# servers over one etcd are tested where the etcd backend lands.
source "$(dirname "$0")/lib.sh"

SHORT=(--no-fsync --leader-elect-lease-duration 2 --leader-elect-renew-deadline 1.5 --leader-elect-retry-period 0.3)
lease() { kubectl get lease -n kube-system "$1" -o jsonpath="{.spec.$2}"; }

expect_out "help lists the leader election flags" "leader-elect-renew-deadline" "$CAIRN" server --help
expect_fail "lease must outlast the renew deadline" "lease-duration > --leader-elect-renew-deadline" \
    "$CAIRN" server --data-dir "$WORK/never" --leader-elect-lease-duration 1 --leader-elect-renew-deadline 2
expect_fail "durations are checked" "want a duration" \
    "$CAIRN" server --data-dir "$WORK/never" --leader-elect-retry-period 2x

start_server "${SHORT[@]}"
id_re="^$(hostname)_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$"
wait_for "controller-manager lease acquired" 10 bash -c "kubectl get lease -n kube-system cairn-controller-manager -o jsonpath='{.spec.holderIdentity}' | grep -Eq '$id_re'"
wait_for "scheduler lease acquired" 10 bash -c "kubectl get lease -n kube-system cairn-scheduler -o jsonpath='{.spec.holderIdentity}' | grep -Eq '$id_re'"
ID1=$(lease cairn-controller-manager holderIdentity)
expect_eq "one identity per process" "$ID1" lease cairn-scheduler holderIdentity
expect_out "HOLDER column shows this server" "cairn-controller-manager +$ID1" kubectl get lease -n kube-system
expect_out "both leases listed" "cairn-scheduler +$ID1" kubectl get lease -n kube-system
expect_eq "leaseDurationSeconds from the flag" "2" lease cairn-controller-manager leaseDurationSeconds
expect_out "renewTime is a MicroTime" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z$' lease cairn-controller-manager renewTime
R1=$(lease cairn-controller-manager renewTime)
wait_for "renewTime advances" 5 bash -c "[ \"\$(kubectl get lease -n kube-system cairn-controller-manager -o jsonpath='{.spec.renewTime}')\" != '$R1' ]"
expect_eq "no transitions yet" "0" lease cairn-controller-manager leaseTransitions

expect_ok "create namespace" kubectl create namespace doomed
expect_ok "create object in it" kubectl create configmap c1 -n doomed --from-literal=a=b
expect_ok "delete namespace (waits for finalization)" kubectl delete namespace doomed --timeout=20s
expect_fail "namespace gone" "NotFound" kubectl get namespace doomed

# Clean restart with a long lease: the new process can acquire within that
# lease only because the old one released on shutdown.
stop_server
start_server --no-fsync --leader-elect-lease-duration 30 --leader-elect-renew-deadline 20 --leader-elect-retry-period 0.3
wait_for "new process acquires at once after release" 5 bash -c "h=\$(kubectl get lease -n kube-system cairn-controller-manager -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$ID1' ]"
ID2=$(lease cairn-controller-manager holderIdentity)
expect_out "new identity" "$id_re" echo "$ID2"
expect_eq "leaseTransitions counts the handover" "1" lease cairn-controller-manager leaseTransitions
expect_eq "scheduler lease handed over too" "$ID2" lease cairn-scheduler holderIdentity

# kill -9: nothing is released; the next process waits out the lease,
# counted from when it first saw the record (4 s: room for the check below).
MID=(--no-fsync --leader-elect-lease-duration 4 --leader-elect-renew-deadline 3 --leader-elect-retry-period 0.3)
stop_server
start_server "${MID[@]}"
wait_for "4 s lease process leads" 5 bash -c "[ \"\$(kubectl get lease -n kube-system cairn-controller-manager -o jsonpath='{.spec.leaseDurationSeconds}')\" = 4 ]"
ID3=$(lease cairn-controller-manager holderIdentity)
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
start_server "${SHORT[@]}"
expect_eq "killed holder still named right after restart" "$ID3" lease cairn-controller-manager holderIdentity
wait_for "expired lease taken over" 15 bash -c "h=\$(kubectl get lease -n kube-system cairn-controller-manager -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$ID3' ]"
expect_ok "create namespace after takeover" kubectl create namespace doomed2
expect_ok "delete namespace after takeover" kubectl delete namespace doomed2 --timeout=20s
expect_fail "namespace gone after takeover" "NotFound" kubectl get namespace doomed2

finish
