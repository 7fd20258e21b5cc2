#!/bin/bash
# PriorityClasses and the Priority admission plugin through the real
# kubectl: the system classes exist from the start, a pod gets its class'
# value and preemption policy, a missing class or a contradicting priority
# is refused with upstream's words, and a globalDefault class applies to
# pods that name none.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
start_server

prio() { k get pod "$1" -o jsonpath='{.spec.priority}/{.spec.preemptionPolicy}/{.spec.priorityClassName}'; }

expect_out "the system classes exist" "system-node-critical +2000001000" k get priorityclasses
expect_out "...with their values" "system-cluster-critical +2000000000" k get pc
expect_ok "create a class" k create priorityclass high --value=1000 --description=high
expect_ok "create a non-preempting class" k create priorityclass polite --value=500 --preemption-policy=Never
expect_ok "a pod of class high" k run a --image=busybox --overrides='{"spec":{"priorityClassName":"high"}}'
expect_eq "it gets value and policy from the class" "1000/PreemptLowerPriority/high" prio a
expect_ok "a pod of class polite" k run b --image=busybox --overrides='{"spec":{"priorityClassName":"polite"}}'
expect_eq "preemptionPolicy comes from the class" "500/Never/polite" prio b
expect_ok "a pod of no class" k run c --image=busybox
expect_eq "priority 0 without any default class" "0/PreemptLowerPriority/" prio c
expect_fail "a class that does not exist is refused" \
    'pods "d" is forbidden: no PriorityClass with name nope was found' \
    k run d --image=busybox --overrides='{"spec":{"priorityClassName":"nope"}}'
expect_status "over the API it is 403 Forbidden" 403 Forbidden POST /api/v1/namespaces/default/pods \
    -H Content-Type:application/json \
    -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"e"},"spec":{"priorityClassName":"high","priority":7,"containers":[{"name":"c","image":"busybox"}]}}'
expect_ok "a global default class" k create priorityclass dflt --value=100 --global-default
expect_ok "a pod of no class, again" k run f --image=busybox
expect_eq "gets the global default" "100/PreemptLowerPriority/dflt" prio f
finish
