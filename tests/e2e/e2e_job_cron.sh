#!/bin/bash
# CronJobs through the real kubectl, on simulated nodes. `kubectl create job
# --from=cronjob` (client-side) makes Jobs the controller tracks in
# status.active / lastSuccessfulTime and trims by the history limits. Then
# one real minute boundary (at most ~65 s of waiting) is watched with four
# CronJobs on "*/1 * * * *": Allow starts "<name>-<minutes since epoch>",
# Forbid with a running Job starts nothing (JobAlreadyActive), Replace
# deletes the running Job and starts the new one, suspended starts nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/batch_lib.sh"
start_server
start_agent 2
wait_for "two simulated nodes are Ready" 30 nodes_ready 2

cj() {   # cj NAME POLICY DURATION [extra spec yaml, indented 2]
    k apply -f - <<EOF
apiVersion: batch/v1
kind: CronJob
metadata: {name: $1}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: $2
  successfulJobsHistoryLimit: 1
${4:-}
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {sim.cairn.io/duration: "$3"}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
EOF
}
active() { jp "cronjob/$1" '{range .status.active[*]}{.name} {end}'; }
jobs_of() { k get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}={.metadata.name}{"\n"}{end}' | grep "^$1=" | cut -d= -f2 | sort | xargs; }

# The minute boundary must not fall in the manual part: start right after one.
s=$(( $(date +%s) % 60 ))
if [ "$s" -gt 40 ]; then sleep $(( 61 - s )); fi

expect_ok "an Allow CronJob (1 s jobs, keep 1 successful)" cj allow Allow 1s
expect_ok "a Forbid CronJob (long jobs)" cj forbid Forbid 300s
expect_ok "a Replace CronJob (long jobs)" cj replace Replace 300s
expect_ok "a suspended CronJob" cj sleepy Allow 1s "  suspend: true"

# --- manual runs: kubectl create job --from=cronjob ---
expect_ok "kubectl create job --from=cronjob/allow" k create job allow-m1 --from=cronjob/allow
wait_for "the manual Job is in status.active" 20 eq "allow-m1 " active allow
expect_ok "it completes" k wait --for=condition=complete job/allow-m1 --timeout=30s
wait_for "it leaves status.active and sets lastSuccessfulTime" 20 bash -c \
    "[ -z \"\$($K get cronjob allow -o jsonpath='{.status.active}')\" ] && [ -n \"\$($K get cronjob allow -o jsonpath='{.status.lastSuccessfulTime}')\" ]"
expect_ok "a second manual run" k create job allow-m2 --from=cronjob/allow
expect_ok "it completes" k wait --for=condition=complete job/allow-m2 --timeout=30s
wait_for "successfulJobsHistoryLimit 1: the older Job is deleted" 20 eq "allow-m2" jobs_of allow
expect_ok "start a long manual Job of the Forbid CronJob" k create job forbid-m --from=cronjob/forbid
expect_ok "start a long manual Job of the Replace CronJob" k create job replace-m --from=cronjob/replace
wait_for "both are active" 20 bash -c "[ \"\$($K get cronjob forbid -o jsonpath='{.status.active[0].name}')\" = forbid-m ] && [ \"\$($K get cronjob replace -o jsonpath='{.status.active[0].name}')\" = replace-m ]"

# --- the next minute boundary ---
wait_for "at the minute, Allow starts its scheduled Job" 75 bash -c \
    "$K get jobs -o name | grep -q '^job.batch/allow-[0-9]\\{8,\\}$'"
sjob=$(k get jobs -o name | grep -o 'allow-[0-9]\{8,\}$' | head -1)
last=$(jp cronjob/allow '{.status.lastScheduleTime}')
minutes=$(( $(date -d "$last" +%s) / 60 ))
expect_eq "it is named <cronjob>-<minutes since the epoch of lastScheduleTime>" "allow-$minutes" echo "$sjob"
expect_out "lastScheduleTime is on a minute" ':00Z$' echo "$last"
expect_eq "its scheduled time annotation" "$last" \
    jp "job/$sjob" '{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}'
expect_eq "it is controlled by the CronJob" "CronJob allow" \
    jp "job/$sjob" '{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name}'
expect_ok "it completes" k wait --for=condition=complete "job/$sjob" --timeout=30s
wait_for "the manual Job goes (history limit 1)" 20 eq "$sjob" jobs_of allow
wait_for "Replace: the long manual Job is deleted and a scheduled one runs" 20 bash -c \
    "[ \"\$($K get jobs -o name | grep -c '^job.batch/replace-')\" = 1 ] && $K get job replace-$minutes >/dev/null 2>&1"
wait_for "Replace: only the new Job is active" 20 eq "replace-$minutes " active replace
expect_eq "Forbid: no scheduled Job while one runs" "forbid-m" jobs_of forbid
expect_out "Forbid: a JobAlreadyActive event" 'JobAlreadyActive' \
    k get events --field-selector involvedObject.name=forbid
expect_eq "suspended: nothing" "" jobs_of sleepy
expect_eq "suspended: no lastScheduleTime" "" jp cronjob/sleepy '{.status.lastScheduleTime}'
expect_out "kubectl get cronjob shows the schedule and last schedule" 'allow +\*/1 \* \* \* \* .*False +0 ' k get cronjob allow

# --- deleting a CronJob takes its Jobs ---
expect_ok "delete the Forbid CronJob" k delete cronjob forbid
wait_for "its Job goes with it (garbage collector)" 30 eq "" bash -c "$K get jobs -o name | grep forbid"

finish
