#!/bin/bash
# Jobs through the real kubectl, on simulated nodes: completions and
# parallelism (never more than parallelism pods at once), the 1.32
# conditions (SuccessCriteriaMet + Complete) that `kubectl wait` reads,
# backoffLimit (failed pods counted, BackoffLimitExceeded), the active
# deadline, Indexed completion, suspend/resume and ttlSecondsAfterFinished.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/batch_lib.sh"
start_server
start_agent 3
wait_for "three simulated nodes are Ready" 30 nodes_ready 3

# job NAME COMPLETIONS PARALLELISM DURATION EXIT [extra spec yaml lines]
job() {
    local name=$1 comp=$2 par=$3 dur=$4 code=$5 extra=${6:-}
    k apply -f - <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $name}
spec:
  completions: $comp
  parallelism: $par
$extra
  template:
    metadata:
      annotations: {sim.cairn.io/duration: "$dur", sim.cairn.io/exit-code: "$code"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
EOF
}

# --- completions and parallelism ---
expect_ok "create a Job of 5 completions, 2 at a time" job work 5 2 1s 0
max_active=0
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -le "$end" ]; do
    a=$(k get pods -l job-name=work --field-selector=status.phase!=Succeeded --no-headers 2>/dev/null | wc -l)
    [ "$a" -gt "$max_active" ] && max_active=$a
    if [ "$(jp job/work '{.status.succeeded}')" = 5 ]; then break; fi
    sleep 0.2
done
expect_ok "kubectl wait --for=condition=complete returns" k wait --for=condition=complete job/work --timeout=30s
expect_eq "succeeded is 5" "5" jp job/work '{.status.succeeded}'
if [ "$max_active" -le 2 ] && [ "$max_active" -ge 1 ]; then pass "never more than 2 pods ran at once (saw $max_active)"
else fail "never more than 2 pods ran at once (saw $max_active)"; fi
expect_eq "5 pods, all Succeeded" "5" count_pods job-name=work
expect_eq "conditions as 1.32: SuccessCriteriaMet then Complete" "SuccessCriteriaMet=True Complete=True " \
    jp job/work '{range .status.conditions[*]}{.type}={.status} {end}'
expect_eq "reason CompletionsReached" "CompletionsReached" jp job/work '{.status.conditions[?(@.type=="Complete")].reason}'
expect_out "completionTime and startTime are set" '^20.*Z 20.*Z$' jp job/work '{.status.startTime} {.status.completionTime}'
uid=$(jp job/work '{.metadata.uid}')
pod=$(k get pods -l job-name=work -o jsonpath='{.items[0].metadata.name}')
expect_eq "pods carry job-name and controller-uid labels" "work $uid work $uid" \
    jp "pod/$pod" '{.metadata.labels.job-name} {.metadata.labels.controller-uid} {.metadata.labels.batch\.kubernetes\.io/job-name} {.metadata.labels.batch\.kubernetes\.io/controller-uid}'
expect_eq "pods are controlled by the Job" "Job work true" \
    jp "pod/$pod" '{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller}'
expect_out "kubectl get job shows 5/5 Complete" 'work +Complete +5/5' k get job work
expect_out "events: pods created, job completed" 'Completed.*Job completed' k get events --field-selector involvedObject.name=work

# --- backoffLimit ---
expect_ok "create a Job whose pods fail, backoffLimit 1" job flaky 1 1 200ms 3 "  backoffLimit: 1"
expect_ok "kubectl wait --for=condition=failed returns (after one 10 s backoff)" \
    k wait --for=condition=failed job/flaky --timeout=60s
expect_eq "reason BackoffLimitExceeded" "BackoffLimitExceeded" jp job/flaky '{.status.conditions[?(@.type=="Failed")].reason}'
expect_eq "FailureTarget comes first, as 1.32" "FailureTarget Failed " jp job/flaky '{range .status.conditions[*]}{.type} {end}'
expect_eq "two pods failed" "2" jp job/flaky '{.status.failed}'
expect_eq "the failed pods are kept" "2" count_pods job-name=flaky
expect_out "a BackoffLimitExceeded warning event" 'Warning +BackoffLimitExceeded' \
    k get events --field-selector involvedObject.name=flaky

# --- activeDeadlineSeconds ---
expect_ok "create a long Job with a 2 s deadline" job slow 1 2 300s 0 "  activeDeadlineSeconds: 2"
expect_ok "it fails" k wait --for=condition=failed job/slow --timeout=30s
expect_eq "reason DeadlineExceeded" "DeadlineExceeded" jp job/slow '{.status.conditions[?(@.type=="Failed")].reason}'
wait_for "its running pods are removed" 20 eq 0 count_pods job-name=slow

# --- Indexed ---
expect_ok "create an Indexed Job of 3" job idx 3 3 500ms 0 "  completionMode: Indexed"
expect_ok "it completes" k wait --for=condition=complete job/idx --timeout=30s
expect_eq "completedIndexes 0-2" "0-2" jp job/idx '{.status.completedIndexes}'
expect_eq "each pod has its index (annotation)" "0 1 2" bash -c \
    "$K get pods -l job-name=idx -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{\"\\n\"}{end}' | sort | xargs"
p0=$(k get pods -l batch.kubernetes.io/job-completion-index=0,job-name=idx -o jsonpath='{.items[0].metadata.name}')
expect_eq "index label, hostname and JOB_COMPLETION_INDEX" "0 idx-0 JOB_COMPLETION_INDEX" \
    jp "pod/$p0" '{.metadata.labels.batch\.kubernetes\.io/job-completion-index} {.spec.hostname} {.spec.containers[0].env[0].name}'

# --- suspend ---
expect_ok "create a suspended Job" job later 2 2 300ms 0 "  suspend: true"
wait_for "it is Suspended" 10 eq "True" jp job/later '{.status.conditions[?(@.type=="Suspended")].status}'
expect_eq "no pods while suspended" "0" count_pods job-name=later
expect_ok "resume it" k patch job later --type=merge -p '{"spec":{"suspend":false}}'
expect_ok "it completes" k wait --for=condition=complete job/later --timeout=30s
expect_eq "the Suspended condition is False (JobResumed)" "False JobResumed" \
    jp job/later '{.status.conditions[?(@.type=="Suspended")].status} {.status.conditions[?(@.type=="Suspended")].reason}'

# --- ttlSecondsAfterFinished ---
expect_ok "create a Job with ttlSecondsAfterFinished 1" job brief 1 1 200ms 0 "  ttlSecondsAfterFinished: 1"
wait_for "it is deleted after it finished" 30 bash -c "! $K get job brief >/dev/null 2>&1"
wait_for "and its pod too" 30 eq 0 count_pods job-name=brief

finish
