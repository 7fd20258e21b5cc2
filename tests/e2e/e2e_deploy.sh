#!/bin/bash
# Deployments and ReplicaSets through the real kubectl: scale up and down,
# a rolling update whose availability never drops below replicas -
# maxUnavailable at any sampled moment, rollout history/undo/pause/resume/
# restart/status, Recreate, an invalid template refused at admission,
# ReplicaSet adoption and release, a server restart mid-rollout that ends
# with exactly the right pods (no duplicates, no orphans), and cascading
# deletes (background, and --cascade=orphan).
#
# Pods become Running and Ready through `cairn agent --simulate` and the
# scheduler. Where this build has neither, a stand-in loop marks pods
# Ready through pods/status, as a kubelet would.
. "$(dirname "$0")/lib.sh"
K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
k() { "$K" "$@"; }
AGENT_PID=
STANDIN_PID=

e2e_extra_cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    [ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null
    AGENT_PID= STANDIN_PID=
}

have_agent() { "$CAIRN" agent --help 2>&1 | grep -q -- --simulate; }

start_agent() {
    if have_agent; then
        "$CAIRN" agent --simulate --nodes 8 --kubeconfig "$KUBECONFIG" --ready-delay 300ms \
            >>"$WORK/agent.log" 2>&1 &
        AGENT_PID=$!
    fi
}

# The stand-in kubelet: every pod that is not being deleted and not Ready
# becomes Running and Ready.
standin_loop() {
    while :; do
        api GET /api/v1/pods 2>/dev/null | sed '$d' | jq -r '.items[]? | select(.metadata.deletionTimestamp == null)
            | select(any(.status.conditions[]?; .type == "Ready" and .status == "True") | not)
            | "\(.metadata.namespace) \(.metadata.name)"' 2>/dev/null |
        while read -r ns name; do
            now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
            api PATCH "/api/v1/namespaces/$ns/pods/$name/status" -H 'Content-Type: application/merge-patch+json' \
                -d "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" \
                >/dev/null 2>&1
        done
        sleep 0.3
    done
}

start_standin() { standin_loop & STANDIN_PID=$!; }

pod_ready() { [ "$(k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }

# Pods that are not being deleted, for a label selector.
live_pods() {
    api GET "/api/v1/namespaces/default/pods?labelSelector=$1" | sed '$d' |
        jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name'
}
live_images() {
    api GET "/api/v1/namespaces/default/pods?labelSelector=$1" | sed '$d' |
        jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[0].image] | unique | join(" ")'
}
live_count() { live_pods "$1" | grep -c . ; }
ready_count() {
    api GET "/api/v1/namespaces/default/pods?labelSelector=$1" | sed '$d' |
        jq '[.items[] | select(.metadata.deletionTimestamp == null)
             | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}
# Deployment rolled out: spec observed, all replicas updated and available.
rolled_out() {
    api GET "/apis/apps/v1/namespaces/default/deployments/$1" | sed '$d' | jq -e '
        (.status.observedGeneration // 0) >= .metadata.generation and
        (.status.updatedReplicas // 0) == .spec.replicas and (.status.replicas // 0) == .spec.replicas and
        (.status.availableReplicas // 0) == .spec.replicas' >/dev/null
}
count_is() { local want=$1; shift; [ "$("$@")" = "$want" ]; }
image_rolled() { [ "$(image_of "$1")" = "$2" ] && rolled_out "$1"; }
image_of() { k get deploy "$1" -o jsonpath='{.spec.template.spec.containers[0].image}'; }
rs_count() { k get rs -l "$1" -o name | grep -c . ; }

deployment() {   # name replicas image [strategy-json]
    local strategy=${4:-'{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":1}}'}
    cat <<EOF
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"$1"},
 "spec":{"replicas":$2,"selector":{"matchLabels":{"app":"$1"}},"strategy":$strategy,
  "template":{"metadata":{"labels":{"app":"$1"}},
   "spec":{"containers":[{"name":"c","image":"$3"}]}}}}
EOF
}

start_server
start_agent
# Do pods become Ready by themselves (scheduler + simulated nodes)?
k run probe --image=probe --restart=Never >/dev/null 2>&1
end=$(( $(date +%s) + 20 ))
while [ "$(date +%s)" -le "$end" ] && ! pod_ready probe; do sleep 0.3; done
if pod_ready probe; then
    echo "e2e: pods run on simulated nodes (scheduler + cairn agent --simulate)"
else
    echo "e2e: no scheduler/simulated nodes in this build: a stand-in marks pods Ready"
    start_standin
fi
k delete pod probe --wait=false >/dev/null 2>&1

# --- create, scale ---
deployment web 3 img:1 >"$WORK/web.json"
expect_ok "create a Deployment of 3" k apply -f "$WORK/web.json"
wait_for "it rolls out (kubectl rollout status)" 60 k rollout status deploy/web --timeout=5s
expect_eq "3 live pods" 3 live_count app=web
expect_out "its ReplicaSet is named <deployment>-<hash> and selects the hash" \
    '^web-[bcdfghjklmnpqrstvwxz2456789]+ +map\[app:web pod-template-hash:' \
    k get rs -l app=web -o custom-columns=N:.metadata.name,S:.spec.selector.matchLabels --no-headers
RS1=$(k get rs -l app=web -o jsonpath='{.items[0].metadata.name}')
expect_eq "the ReplicaSet is controlled by the Deployment" "Deployment/web/true/true" \
    k get rs "$RS1" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}'
expect_eq "revision 1 on the Deployment and its ReplicaSet" "1 1" \
    sh -c "echo \$($K get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}') \$($K get rs $RS1 -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"
expect_out "pods are named <rs>-xxxxx and controlled by the ReplicaSet" "^$RS1-[a-z0-9]{5} ReplicaSet/$RS1$" \
    k get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\n"}{end}'
expect_eq "status: 3 ready, 3 available, 3 up to date" "3/3/3/3" \
    k get deploy web -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}/{.status.updatedReplicas}'
expect_eq "the Available condition" "True MinimumReplicasAvailable" \
    k get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].reason}'
expect_eq "the Progressing condition" "True NewReplicaSetAvailable" \
    k get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}'
expect_ok "kubectl scale --replicas=6" k scale deploy/web --replicas=6
wait_for "6 ready pods" 60 count_is 6 ready_count app=web
wait_for "...and the Deployment says so" 30 rolled_out web
expect_ok "kubectl scale --replicas=2" k scale deploy/web --replicas=2
wait_for "2 live pods" 60 count_is 2 live_count app=web
expect_eq "still one ReplicaSet" 1 rs_count app=web
expect_out "ScalingReplicaSet events" "Scaled up replica set $RS1 to 3" k get events --field-selector involvedObject.name=web
expect_out "...for scaling down too" "Scaled down replica set $RS1 to 2" k get events --field-selector involvedObject.name=web

# --- a rolling update, sampled ---
expect_ok "10 replicas, maxSurge 25% (3, rounded up), maxUnavailable 25% (2, rounded down)" \
    k patch deploy/web --type=merge -p '{"spec":{"replicas":10,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}}}'
wait_for "10 ready" 60 rolled_out web
# Watches pods and ReplicaSets from a listed resourceVersion, so every
# change during the rollout is seen, not only the moments a poll hits.
PODS_LIST=$(api GET "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb" | sed '$d')
RS_LIST=$(api GET "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb" | sed '$d')
watch_to() {   # path rv file
    curl -sS -N --cacert "$DATA/pki/ca.crt" --cert "$DATA/pki/admin.crt" --key "$DATA/pki/admin.key" \
        "https://127.0.0.1:$PORT$1&watch=1&resourceVersion=$2" >"$3" 2>/dev/null &
}
watch_to "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb" "$(echo "$PODS_LIST" | jq -r .metadata.resourceVersion)" "$WORK/pods.watch"
W1=$!
watch_to "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb" "$(echo "$RS_LIST" | jq -r .metadata.resourceVersion)" "$WORK/rs.watch"
W2=$!
expect_ok "kubectl set image" k set image deploy/web c=img:2
end=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -le "$end" ]; do
    if rolled_out web && [ "$(image_of web)" = img:2 ] && [ "$(live_count app=web)" = 10 ]; then break; fi
    sleep 0.2
done
sleep 0.5
kill "$W1" "$W2" 2>/dev/null; wait "$W1" "$W2" 2>/dev/null
# After every pod event: how many pods are Ready and not being deleted.
MIN=$(echo "$PODS_LIST" | jq -n --slurpfile w "$WORK/pods.watch" '
    def avail: (.metadata.deletionTimestamp == null) and any(.status.conditions[]?; .type == "Ready" and .status == "True");
    (input.items | map({key: .metadata.name, value: avail}) | from_entries) as $init
    | [foreach $w[] as $e ($init;
        if $e.type == "DELETED" then del(.[$e.object.metadata.name]) else .[$e.object.metadata.name] = ($e.object | avail) end;
        [.[] | select(.)] | length)] | min // 99')
SAMPLES=$(grep -c . "$WORK/pods.watch")
# After every ReplicaSet event: the sum of their spec.replicas.
MAXRS=$(echo "$RS_LIST" | jq -n --slurpfile w "$WORK/rs.watch" '
    (input.items | map({key: .metadata.name, value: .spec.replicas}) | from_entries) as $init
    | [foreach $w[] as $e ($init;
        if $e.type == "DELETED" then del(.[$e.object.metadata.name]) else .[$e.object.metadata.name] = $e.object.spec.replicas end;
        [.[]] | add)] | max // 0')
echo "  rollout: $SAMPLES pod events watched, fewest available pods $MIN, most replicas in ReplicaSets $MAXRS"
expect_ok "the rollout finished" rolled_out web
expect_ok "ready pods never fell below replicas - maxUnavailable (8)" test "$MIN" -ge 8
expect_ok "ReplicaSets never held more than replicas + maxSurge (13)" test "$MAXRS" -le 13
expect_ok "the watch saw the rollout (>= 8 pod events)" test "$SAMPLES" -ge 8
expect_eq "two ReplicaSets, the old one at 0" "0 10" \
    sh -c "$K get rs -l app=web -o jsonpath='{range .items[*]}{.spec.replicas}{\"\\n\"}{end}' | sort -n | xargs"
expect_eq "every live pod runs the new image" "img:2" live_images app=web
expect_ok "kubectl rollout status" k rollout status deploy/web --timeout=10s

# --- history, undo ---
expect_ok "annotate a change cause" k annotate deploy/web kubernetes.io/change-cause=image-2 --overwrite
wait_for "the cause reaches the new ReplicaSet" 15 sh -c "$K rollout history deploy/web | grep -q '2 *image-2'"
expect_eq "rollout history lists revisions 1 and 2" "1 2" sh -c "$K rollout history deploy/web | awk '/^[0-9]/ {print \$1}' | xargs"
expect_out "rollout history --revision=1 shows the old template" "img:1" k rollout history deploy/web --revision=1
expect_ok "kubectl rollout undo" k rollout undo deploy/web
wait_for "it rolls back to img:1" 60 sh -c "[ \"\$($K get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')\" = img:1 ]"
wait_for "...and finishes" 90 rolled_out web
expect_eq "the first ReplicaSet is reused (no third one)" 2 rs_count app=web
expect_eq "...and becomes revision 3" 3 k get rs "$RS1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
expect_eq "history now lists 2 and 3" "2 3" sh -c "$K rollout history deploy/web | awk '/^[0-9]/ {print \$1}' | xargs"
expect_out "rollout undo --to-revision=2" "rolled back" k rollout undo deploy/web --to-revision=2
wait_for "back on img:2" 90 image_rolled web img:2

# --- pause, resume, restart ---
wait_for "rolled out before pausing" 90 rolled_out web
expect_ok "kubectl rollout pause" k rollout pause deploy/web
wait_for "the Progressing condition says DeploymentPaused" 15 \
    sh -c "[ \"\$($K get deploy web -o jsonpath='{.status.conditions[?(@.type==\"Progressing\")].reason}')\" = DeploymentPaused ]"
expect_ok "set image while paused" k set image deploy/web c=img:3
sleep 2
expect_eq "no new ReplicaSet while paused" 2 rs_count app=web
expect_eq "no pod runs img:3" "" sh -c "$K get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}' | grep img:3"
expect_fail "rollout undo refuses a paused Deployment" "paused" k rollout undo deploy/web
expect_ok "kubectl rollout resume" k rollout resume deploy/web
wait_for "the rollout to img:3 finishes" 90 sh -c "[ \"\$($K get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}' | sort -u | xargs)\" = img:3 ]"
wait_for "...status too" 60 rolled_out web
expect_ok "kubectl rollout restart" k rollout restart deploy/web
expect_out "the template carries restartedAt" "[0-9]{4}-" k get deploy web -o jsonpath='{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}'
wait_for "the restart rolls out" 90 k rollout status deploy/web --timeout=5s
expect_eq "four ReplicaSets now (img:1, img:2, img:3, restart)" 4 rs_count app=web

# --- revisionHistoryLimit ---
expect_ok "revisionHistoryLimit 1" k patch deploy/web --type=merge -p '{"spec":{"revisionHistoryLimit":1}}'
wait_for "old ReplicaSets beyond the limit are deleted" 30 count_is 2 rs_count app=web

# --- Recreate ---
deployment rec 3 img:1 '{"type":"Recreate"}' >"$WORK/rec.json"
expect_ok "a Recreate Deployment of 3" k apply -f "$WORK/rec.json"
wait_for "it rolls out" 60 rolled_out rec
expect_ok "set image on it" k set image deploy/rec c=img:2
MIXED=0
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -le "$end" ]; do
    imgs=$(k get pods -l app=rec -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u | xargs)
    [ "$imgs" = "img:1 img:2" ] && MIXED=1
    if rolled_out rec && [ "$(image_of rec)" = img:2 ] && [ "$imgs" = img:2 ]; then break; fi
    sleep 0.1
done
expect_ok "Recreate finishes on img:2" rolled_out rec
expect_eq "old and new pods never existed together" 0 echo "$MIXED"

# --- progress deadline ---
# Pods that can never be scheduled: the rollout stalls and says so.
deployment stuck 2 img:1 | jq '.spec.progressDeadlineSeconds = 3 | .spec.template.spec.nodeSelector = {"no-such": "node"}' \
    >"$WORK/stuck.json"
expect_ok "a Deployment whose pods cannot run (progressDeadlineSeconds 3)" k apply -f "$WORK/stuck.json"
wait_for "Progressing turns False with ProgressDeadlineExceeded" 30 \
    sh -c "[ \"\$($K get deploy stuck -o jsonpath='{.status.conditions[?(@.type==\"Progressing\")].status} {.status.conditions[?(@.type==\"Progressing\")].reason}')\" = 'False ProgressDeadlineExceeded' ]"
expect_fail "kubectl rollout status reports it" "exceeded its progress deadline" k rollout status deploy/stuck --timeout=10s
expect_eq "Available is False (MinimumReplicasUnavailable)" "False MinimumReplicasUnavailable" \
    k get deploy stuck -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].reason}'
expect_ok "delete it" k delete deploy stuck

# --- creates that fail ---
k create namespace quota >/dev/null
k create quota pods --hard=pods=1 -n quota >/dev/null
sed 's/"name":"solo"/"name":"q"/' >"$WORK/q.json" <<'EOF'
{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"solo"},
 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"q"}},
  "template":{"metadata":{"labels":{"app":"q"}},"spec":{"containers":[{"name":"c","image":"img:1","resources":{"requests":{"cpu":"10m"},"limits":{"cpu":"10m"}}}]}}}}
EOF
quota_known() { [ -n "$(k get quota pods -n quota -o jsonpath='{.status.hard.pods}')" ]; }
end=$(( $(date +%s) + 15 ))
while [ "$(date +%s)" -le "$end" ] && ! quota_known; do sleep 0.3; done
if ! quota_known; then
    echo "SKIP creates refused by a quota: this build has no ResourceQuota controller"
else
    expect_ok "a ReplicaSet of 3 in a namespace whose quota allows 1 pod" k apply -n quota -f "$WORK/q.json"
    wait_for "a FailedCreate event" 30 sh -c "$K get events -n quota --field-selector reason=FailedCreate -o name | grep -q ."
    wait_for "the ReplicaFailure condition (FailedCreate)" 30 \
        sh -c "[ \"\$($K get rs q -n quota -o jsonpath='{.status.conditions[?(@.type==\"ReplicaFailure\")].reason}')\" = FailedCreate ]"
    expect_eq "one pod exists" 1 sh -c "$K get pods -n quota -o name | grep -c ."
    sleep 3
    FC=$(k get events -n quota --field-selector reason=FailedCreate -o jsonpath='{range .items[*]}{.count}{"\n"}{end}' | awk '{t+=$1} END {print t+0}')
    echo "  FailedCreate events after ~5 s: $FC"
    expect_ok "failed creates back off (fewer than 30 in ~5 s)" test "$FC" -lt 30
    expect_ok "more quota" k patch quota pods -n quota --type=merge -p '{"spec":{"hard":{"pods":"5"}}}'
    wait_for "the ReplicaSet reaches 3 (after its backoff)" 90 sh -c "[ \"\$($K get rs q -n quota -o jsonpath='{.status.replicas}')\" = 3 ]"
    wait_for "ReplicaFailure is gone" 30 sh -c "[ -z \"\$($K get rs q -n quota -o jsonpath='{.status.conditions[?(@.type==\"ReplicaFailure\")].reason}')\" ]"
fi

# --- admission ---
deployment bad 1 img:1 | sed 's/"labels":{"app":"bad"}/"labels":{"app":"other"}/' >"$WORK/bad.json"
expect_fail "a template whose labels the selector misses is refused" "selector. does not match template .labels" \
    k apply -f "$WORK/bad.json"
expect_status "a container without an image is 422 Invalid" 422 Invalid POST /apis/apps/v1/namespaces/default/deployments \
    -H Content-Type:application/json \
    -d '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c"}]}}}}'
expect_status "maxSurge and maxUnavailable both 0 is 422 Invalid" 422 Invalid POST /apis/apps/v1/namespaces/default/deployments \
    -H Content-Type:application/json \
    -d '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},"spec":{"selector":{"matchLabels":{"a":"b"}},"strategy":{"rollingUpdate":{"maxSurge":0,"maxUnavailable":0}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}'
expect_fail "...and nothing was created" "NotFound|not found" k get deploy bad

# --- ReplicaSet: adoption and release ---
k run orphan --image=img:1 --labels=app=solo,tier=x >/dev/null
cat >"$WORK/solo.json" <<'EOF'
{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"solo"},
 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"solo"}},
  "template":{"metadata":{"labels":{"app":"solo"}},"spec":{"containers":[{"name":"c","image":"img:1"}]}}}}
EOF
expect_ok "create a ReplicaSet of 2 over a matching orphan pod" k apply -f "$WORK/solo.json"
wait_for "the orphan is adopted" 30 sh -c "[ \"\$($K get pod orphan -o jsonpath='{.metadata.ownerReferences[0].name}')\" = solo ]"
wait_for "2 pods in all (one made, the orphan counted)" 30 count_is 2 live_count app=solo
wait_for "status: 2 replicas, 2 ready" 30 sh -c "[ \"\$($K get rs solo -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}/{.status.fullyLabeledReplicas}')\" = 2/2/2/2 ]"
expect_ok "relabel the adopted pod out of the selector" k label pod orphan app=gone --overwrite
wait_for "it is released (no ownerReference)" 30 sh -c "[ -z \"\$($K get pod orphan -o jsonpath='{.metadata.ownerReferences}')\" ]"
wait_for "a replacement keeps 2" 30 count_is 2 live_count app=solo
expect_ok "scale the ReplicaSet to 0" k scale rs/solo --replicas=0
wait_for "its pods go" 30 count_is 0 live_count app=solo
expect_out "SuccessfulCreate and SuccessfulDelete events" "SuccessfulCreate.*Created pod: solo-|SuccessfulDelete.*Deleted pod" \
    k get events --field-selector involvedObject.name=solo
expect_ok "delete the released pod" k delete pod orphan --wait=false

# --- restart mid-rollout ---
deployment mid 6 img:1 '{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}' >"$WORK/mid.json"
expect_ok "a Deployment of 6 (maxSurge 1, maxUnavailable 0)" k apply -f "$WORK/mid.json"
wait_for "it rolls out" 90 rolled_out mid
expect_ok "set image" k set image deploy/mid c=img:2
mid_rollout() {
    local n
    n=$(k get pods -l app=mid -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | grep -c img:2)
    [ "$n" -ge 1 ] && [ "$n" -lt 6 ]
}
wait_for "the rollout is under way" 60 mid_rollout
AGENT_WAS=$AGENT_PID
e2e_extra_cleanup
# The hard way: no chance to finish anything in flight.
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
start_server
if [ -n "$AGENT_WAS" ]; then start_agent; else start_standin; fi
wait_for "after a kill -9 and a restart the rollout finishes" 120 rolled_out mid
wait_for "live pods all run img:2" 60 count_is img:2 live_images app=mid
expect_eq "exactly 6 live pods (no duplicates)" 6 live_count app=mid
NEWRS=$(k get rs -l app=mid -o jsonpath='{range .items[?(@.spec.replicas==6)]}{.metadata.name}{end}')
expect_eq "every pod belongs to the new ReplicaSet (no orphans)" "$NEWRS" \
    sh -c "$K get pods -l app=mid -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}{\"\\n\"}{end}' | sort -u | xargs"
expect_eq "two ReplicaSets, no duplicate for the new template" 2 rs_count app=mid

# --- kill -9 while a scale-up is creating pods ---
# (8 simulated nodes of 110 pods each hold them.)
pod_total() { api GET "/api/v1/namespaces/default/pods?labelSelector=app%3Dmid" | sed '$d' | jq '.items | length'; }
expect_ok "scale mid to 600" k scale deploy/mid --replicas=600
# Kill as soon as creates are under way, to catch some in flight.
end=$(( $(date +%s) + 60 ))
SEEN=0
while [ "$(date +%s)" -le "$end" ] && [ "$SEEN" -lt 8 ]; do SEEN=$(pod_total); done
AGENT_WAS=$AGENT_PID
e2e_extra_cleanup
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
start_server
echo "  killed -9 right after seeing $SEEN of 600 pods"
if [ -n "$AGENT_WAS" ]; then start_agent; else start_standin; fi
wait_for "after the restart the Deployment reaches 600" 240 rolled_out mid
expect_eq "exactly 600 pods exist (none made twice)" 600 pod_total
expect_eq "no pod of $NEWRS was deleted as an extra" "" \
    sh -c "$K get events --field-selector reason=SuccessfulDelete -o jsonpath='{range .items[*]}{.involvedObject.name}{\"\\n\"}{end}' | grep -x '$NEWRS'"

# --- cascading deletes (the garbage collector) ---
k create configmap gc-owner >/dev/null 2>&1
uid=$(k get configmap gc-owner -o jsonpath='{.metadata.uid}')
k apply -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"gc-child","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"gc-owner","uid":"$uid"}]}}
EOF
k delete configmap gc-owner >/dev/null 2>&1
end=$(( $(date +%s) + 15 ))
while [ "$(date +%s)" -le "$end" ] && k get configmap gc-child >/dev/null 2>&1; do sleep 0.3; done
if k get configmap gc-child >/dev/null 2>&1; then
    echo "SKIP cascading deletes: this build has no garbage collector"
    k delete configmap gc-child >/dev/null 2>&1
else
    expect_ok "delete a Deployment --cascade=orphan" k delete deploy mid --cascade=orphan
    sleep 2
    expect_eq "its ReplicaSets stay" 2 rs_count app=mid
    expect_eq "its pods stay" 600 live_count app=mid
    expect_eq "the ReplicaSets lost their owner" "" k get rs -l app=mid -o jsonpath='{.items[*].metadata.ownerReferences}'
    # A name collision: an orphaned ReplicaSet holds <deployment>-<hash>
    # with another template; the Deployment adopts it as an old one, bumps
    # status.collisionCount and names its new ReplicaSet by the new hash.
    deployment col 1 img:1 >"$WORK/col.json"
    expect_ok "a Deployment col" k apply -f "$WORK/col.json"
    wait_for "it rolls out" 60 rolled_out col
    COLRS=$(k get rs -l app=col -o jsonpath='{.items[0].metadata.name}')
    expect_ok "orphan its ReplicaSet" k delete deploy col --cascade=orphan
    wait_for "the ReplicaSet has no owner" 30 sh -c "[ -z \"\$($K get rs $COLRS -o jsonpath='{.metadata.ownerReferences}')\" ]"
    expect_ok "change that ReplicaSet's template" k set image rs/"$COLRS" c=img:other
    expect_ok "create col again with the first template" k apply -f "$WORK/col.json"
    wait_for "status.collisionCount becomes 1" 30 sh -c "[ \"\$($K get deploy col -o jsonpath='{.status.collisionCount}')\" = 1 ]"
    wait_for "it rolls out on a differently named ReplicaSet" 60 rolled_out col
    expect_eq "two ReplicaSets, both owned by col" "col col" \
        sh -c "$K get rs -l app=col -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}{\"\\n\"}{end}' | xargs"
    expect_eq "the new one runs img:1" img:1 \
        sh -c "$K get rs -l app=col -o jsonpath='{range .items[?(@.spec.replicas==1)]}{.spec.template.spec.containers[0].image}{end}'"
    expect_ok "delete a Deployment (background)" k delete deploy web
    wait_for "its ReplicaSets are deleted" 60 count_is 0 rs_count app=web
    wait_for "its pods are deleted" 60 count_is 0 live_count app=web
fi

finish
