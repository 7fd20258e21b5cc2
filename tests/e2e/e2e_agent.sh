#!/usr/bin/env bash
# e2e_agent: real worker nodes. A server and a registry in a "lan" network
# namespace, two `cairn agent` nodes each in its own namespace on that lan
# (tests/e2e/netns_lib.sh), busybox images built from busybox-static and
# pushed with skopeo (tests/e2e/registry_lib.sh). The real kubectl drives
# it all (run inside the lan namespace, where the API server listens):
# a Deployment of busybox httpd pods spread over both nodes reaches Ready,
# pods reach each other across nodes by pod IP, logs/logs -f/exec/
# port-forward work, CrashLoopBackOff backs off more each time, an
# over-limit container is OOMKilled, ConfigMap/Secret volumes and env show
# up, and killing and restarting an agent leaves exactly the same
# containers running. Needs root (namespaces, runc); skips otherwise.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/netns_lib.sh"
. "$E2E_DIR/registry_lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v runc >/dev/null || ! command -v skopeo >/dev/null; then
    echo "e2e_agent: skipped: needs root, runc and skopeo"; finish; exit 0
fi

K=/usr/bin/kubectl
[ -x "$K" ] || K=$(command -v kubectl)
P=cne2e$$
LAN=$P-lan
LANIP=10.99.0.1
k() { nl_exec "$LAN" "$K" "$@"; }
jp() { k get "$1" -o jsonpath="$2"; }
eq() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }
AGENT_A= AGENT_B=

stop_agent() {   # stop_agent PIDVAR
    local pid=${!1}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    eval "$1="
}

# Running containers as runc sees them: "id pid" lines.
runc_view() {
    local r
    for r in "$WORK"/a/runc "$WORK"/b/runc; do
        [ -d "$r" ] && runc --root "$r" list 2>/dev/null | awk 'NR > 1 && $3 == "running" { print $1, $2 }'
    done | sort
}

e2e_agent_cleanup() {
    stop_agent AGENT_A
    stop_agent AGENT_B
    # Pods' containers outlive agents by design: stop what this test ran.
    local r id
    for r in "$WORK"/a/runc "$WORK"/b/runc; do
        [ -d "$r" ] || continue
        for id in $(runc --root "$r" list -q 2>/dev/null); do runc --root "$r" delete -f "$id" 2>/dev/null; done
    done
    grep -q " $WORK" /proc/mounts && grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
    nl_down "$P"
}
e2e_extra_cleanup() { e2e_agent_cleanup; }

nl_up "$P"
nl_node "$P" a 10.99.0.11
nl_node "$P" b 10.99.0.12

# The API server inside the lan namespace.
: >"$WORK/server.out"
nl_exec "$LAN" "$CAIRN" server --data-dir "$DATA" --listen "$LANIP:0" \
    >"$WORK/server.out" 2>>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/.*on port \([0-9]*\)\..*/\1/p' "$WORK/server.out" | head -1)
    [ -n "$PORT" ] && nl_exec "$LAN" curl -sk "https://$LANIP:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.05
done
expect_ok "server ready in the lan namespace" nl_exec "$LAN" curl -sfk "https://$LANIP:$PORT/readyz"

REGISTRY_WRAP="nl_exec $LAN"   # registry and skopeo run in the lan namespace
registry_start "$LANIP:5000"
image_build_busybox "$WORK/oci"
expect_ok "busybox image pushed" image_push "$WORK/oci" busybox:1
IMG=$REGISTRY/busybox:1

# Node a uses the admin kubeconfig; node b joins with the server's token
# (its own system:node certificate, kept in its data dir for restarts).
start_agent() {   # start_agent NAME IP
    local cred=(--kubeconfig "$KUBECONFIG")
    [ "$1" = b ] && cred=(--server "https://$LANIP:$PORT" --token "$(cat "$DATA/token")")
    nl_exec "$P-$1" "$CAIRN" agent "${cred[@]}" --node-name "node-$1" --node-ip "$2" \
        --data-dir "$WORK/$1" --insecure-registry "$REGISTRY" --backoff-initial 1s --backoff-max 8s \
        --heartbeat 2s --label "topology.kubernetes.io/zone=zone-$1" >>"$WORK/agent-$1.log" 2>&1 &
}
start_agent a 10.99.0.11; AGENT_A=$!
start_agent b 10.99.0.12; AGENT_B=$!

nodes_ready() { [ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True)" = 2 ]; }
wait_for "two nodes Ready" 30 nodes_ready
expect_out "node has a podCIDR from the IPAM controller" '^10\.244\.[0-9]+\.0/24$' jp node/node-a '{.spec.podCIDR}'
expect_out "node capacity from the machine" '^[0-9]+' jp node/node-a '{.status.capacity.cpu}'
expect_eq "node InternalIP" "10.99.0.11" jp node/node-a '{.status.addresses[?(@.type=="InternalIP")].address}'
expect_eq "node labels" "node-a linux amd64 zone-a" jp node/node-a \
    '{.metadata.labels.kubernetes\.io/hostname} {.metadata.labels.kubernetes\.io/os} {.metadata.labels.kubernetes\.io/arch} {.metadata.labels.topology\.kubernetes\.io/zone}'
expect_ok "node lease renewed" k -n kube-node-lease get lease node-a
expect_out "node-b joined with the token: its own node certificate" "system:node:node-b" \
    sh -c "grep client-certificate-data '$WORK/b/kubeconfig' | awk '{print \$2}' | base64 -d | openssl x509 -noout -subject"

# ---- config, secret and a Deployment of httpd pods, one per node ----
k create configmap web-cfg --from-literal=greeting=hello-cm --from-literal=color=blue >/dev/null
k create secret generic web-sec --from-literal=password=s3cr3t >/dev/null
cat >"$WORK/web.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: httpd
        image: $IMG
        command: ["sh", "-c", "mkdir -p /tmp/www && echo page-from-\$(hostname) > /tmp/www/index.html && echo httpd starting && exec httpd -f -v -p 8080 -h /tmp/www"]
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: web-cfg, key: greeting}}
        - name: PASSWORD
          valueFrom: {secretKeyRef: {name: web-sec, key: password}}
        - name: MY_POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
        volumeMounts:
        - {name: cfg, mountPath: /etc/cfg}
        - {name: sec, mountPath: /etc/sec, readOnly: true}
      volumes:
      - name: cfg
        configMap: {name: web-cfg}
      - name: sec
        secret: {secretName: web-sec}
EOF
expect_ok "create the web Deployment" k apply -f "$WORK/web.yaml"
ready_web() { [ "$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" = 2 ]; }
wait_for "web pods Running and Ready (image pulled from the local registry)" 90 ready_web
k get pods -o wide
PODA=$(k get pods -l app=web --field-selector spec.nodeName=node-a -o jsonpath='{.items[0].metadata.name}')
PODB=$(k get pods -l app=web --field-selector spec.nodeName=node-b -o jsonpath='{.items[0].metadata.name}')
IPB=$(jp "pod/$PODB" '{.status.podIP}')
expect_out "pod IP from node-b's block" '^10\.244\.' echo "$IPB"
expect_eq "hostIP is the node's" "10.99.0.12" jp "pod/$PODB" '{.status.hostIP}'
expect_eq "phase Running" "Running" jp "pod/$PODA" '{.status.phase}'
expect_out "kubectl get shows 1/1 Running" "$PODA +1/1 +Running +0" k get pod "$PODA"

# ---- pod to pod across nodes ----
expect_eq "a pod on node-a fetches a page from a pod on node-b by pod IP" "page-from-$PODB" \
    k exec "$PODA" -- wget -qO- "http://$IPB:8080/"

# ---- env and volumes ----
expect_eq "configMapKeyRef env" "hello-cm" k exec "$PODA" -- sh -c 'echo $GREETING'
expect_eq "secretKeyRef env" "s3cr3t" k exec "$PODA" -- sh -c 'echo $PASSWORD'
expect_eq "fieldRef env" "$PODA" k exec "$PODA" -- sh -c 'echo $MY_POD'
expect_eq "configMap volume file" "blue" k exec "$PODA" -- cat /etc/cfg/color
expect_eq "secret volume file" "s3cr3t" k exec "$PODA" -- cat /etc/sec/password
expect_fail "secret volume is read-only" "Read-only file system" k exec "$PODA" -- sh -c 'echo x > /etc/sec/password'

# ---- exec ----
expect_eq "exec echo" "hi" k exec "$PODA" -- echo hi
k exec "$PODA" -- sh -c 'exit 3' >/dev/null 2>&1; rc=$?
expect_eq "exec exit code propagates" "3" echo "$rc"
expect_eq "exec -i reads stdin" "from-stdin" sh -c "echo from-stdin | nsenter --net=/run/netns/$LAN $K exec -i $PODA -- cat"
expect_eq "hostname is the pod name" "$PODA" k exec "$PODA" -- hostname

# ---- logs ----
expect_out "kubectl logs" "httpd starting" k logs "$PODA"
expect_out "kubectl logs -c" "httpd starting" k logs "$PODA" -c httpd
k run ticker --image="$IMG" --restart=Never -- sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done' >/dev/null
wait_for "ticker running" 60 eq Running jp pod/ticker '{.status.phase}'
timeout 3 nsenter --net=/run/netns/$LAN $K logs -f ticker >"$WORK/follow.out" 2>&1
n1=$(grep -c tick "$WORK/follow.out")
expect_ok "logs -f streams new lines ($n1 lines in 3 s)" test "$n1" -ge 5
expect_eq "logs --tail=1" "1" sh -c "nsenter --net=/run/netns/$LAN $K logs ticker --tail=1 | wc -l"
expect_out "logs --timestamps" '^20[0-9-]+T[0-9:.]+Z tick' k logs ticker --tail=1 --timestamps

# ---- port-forward ----
nl_exec "$LAN" "$K" port-forward "pod/$PODB" 18080:8080 >"$WORK/pf.out" 2>&1 &
PF=$!
wait_for "port-forward listening" 20 grep -q "Forwarding from" "$WORK/pf.out"
expect_eq "port-forward reaches the pod" "page-from-$PODB" nl_exec "$LAN" curl -s http://127.0.0.1:18080/
kill "$PF" 2>/dev/null; wait "$PF" 2>/dev/null

# ---- CrashLoopBackOff with growing back-off ----
k run crasher --image="$IMG" -- sh -c 'echo crashing; exit 1' >/dev/null
: >"$WORK/crash.msgs"
for _ in $(seq 1 150); do
    jp pod/crasher '{.status.containerStatuses[0].state.waiting.message}' >>"$WORK/crash.msgs" 2>/dev/null; echo >>"$WORK/crash.msgs"
    grep -q "back-off 4s" "$WORK/crash.msgs" && break
    sleep 0.1
done
expect_out "CrashLoopBackOff shown" "CrashLoopBackOff" k get pod crasher
expect_ok "back-off grows: 1s then 2s then 4s" sh -c "grep -q 'back-off 1s' $WORK/crash.msgs && grep -q 'back-off 2s' $WORK/crash.msgs && grep -q 'back-off 4s' $WORK/crash.msgs"
expect_out "restartCount counts restarts" '^[3-9]' jp pod/crasher '{.status.containerStatuses[0].restartCount}'
expect_eq "lastState says Error exit 1" "Error 1" jp pod/crasher '{.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode}'
expect_out "logs --previous" "crashing" k logs crasher --previous
expect_out "BackOff event" "Back-off restarting failed container" k get events --field-selector involvedObject.name=crasher

# ---- OOMKilled ----
cat >"$WORK/oom.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: $IMG
    command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]
    resources: {limits: {memory: 16Mi}}
EOF
k apply -f "$WORK/oom.yaml" >/dev/null
wait_for "over-limit container ends" 60 eq Failed jp pod/hog '{.status.phase}'
expect_eq "OOMKilled with exit code 137" "OOMKilled 137" jp pod/hog '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}'

# ---- liveness (exec) restarts a container; its termination message shows ----
cat >"$WORK/sick.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMG
    command: [sh, -c, "touch /tmp/alive; sleep 2; rm /tmp/alive; echo last-words > /dev/termination-log; sleep 3600"]
    livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
EOF
k apply -f "$WORK/sick.yaml" >/dev/null
wait_for "failing exec liveness probe restarts the container" 60 sh -c "[ \"\$(nsenter --net=/run/netns/$LAN $K get pod sick -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -ge 1 ]"
expect_out "Unhealthy and Killing events" "Liveness probe failed.*|failed liveness probe, will be restarted" k get events --field-selector involvedObject.name=sick
expect_eq "termination message in lastState" "last-words" jp pod/sick '{.status.containerStatuses[0].lastState.terminated.message}'

# ---- bad input: clear status, nothing wedged ----
k run noimage --image="$REGISTRY/nope:1" >/dev/null
wait_for "missing image: ErrImagePull/ImagePullBackOff" 60 sh -c "nsenter --net=/run/netns/$LAN $K get pod noimage | grep -Eq 'ErrImagePull|ImagePullBackOff'"
expect_out "missing image message names it" "nope" jp pod/noimage '{.status.containerStatuses[0].state.waiting.message}'
k run nocmd --image="$IMG" --restart=Never --command -- /no/such/binary >/dev/null
wait_for "missing command ends the container" 60 eq Failed jp pod/nocmd '{.status.phase}'
expect_out "missing command reason" "StartError|ContainerCannotRun|executable file not found" jp pod/nocmd '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.message}'
cat >"$WORK/hp.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hostpath}
spec:
  containers:
  - {name: c, image: $IMG, command: [sleep, "3600"], volumeMounts: [{name: h, mountPath: /h}]}
  volumes:
  - {name: h, hostPath: {path: /etc}}
EOF
k apply -f "$WORK/hp.yaml" >/dev/null
wait_for "hostPath outside the allow list: FailedMount event" 30 sh -c "nsenter --net=/run/netns/$LAN $K get events --field-selector involvedObject.name=hostpath | grep -q FailedMount"
cat >"$WORK/big.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  nodeName: node-a
  containers:
  - {name: c, image: $IMG, command: [sleep, "3600"], resources: {requests: {memory: 100Ti}}}
EOF
k apply -f "$WORK/big.yaml" >/dev/null
wait_for "more memory than the node has, bound by hand: rejected" 30 eq Failed jp pod/big '{.status.phase}'
expect_out "OutOfmemory with upstream's message" "OutOfmemory Pod was rejected: Node didn't have enough resource: memory" \
    jp pod/big '{.status.reason} {.status.message}'
k run big2 --image="$IMG" --overrides='{"spec":{"containers":[{"name":"big2","image":"'"$IMG"'","resources":{"requests":{"memory":"100Ti"}}}]}}' >/dev/null
wait_for "more memory than any node has, via the scheduler: Insufficient memory" 30 \
    sh -c "nsenter --net=/run/netns/$LAN $K get events --field-selector involvedObject.name=big2 | grep -q 'Insufficient memory'"
expect_eq "other pods unaffected" "2" sh -c "nsenter --net=/run/netns/$LAN $K get pods -l app=web --no-headers | grep -c Running"

# ---- agent restart adopts containers ----
# Pods that restart on their own would change the picture: gone first.
k delete pod crasher sick --grace-period=1 --wait=false >/dev/null
wait_for "restarting pods deleted" 60 sh -c "! nsenter --net=/run/netns/$LAN $K get pod crasher sick 2>/dev/null | grep -q ."

TICK_UID=$(jp pod/ticker '{.metadata.uid}')
before=$(runc_view | grep -v "^$TICK_UID")
rb=$(jp "pod/$PODA" '{.status.containerStatuses[0].restartCount}')
kill -KILL "$AGENT_A"; wait "$AGENT_A" 2>/dev/null; AGENT_A=
k delete pod ticker --grace-period=1 --wait=false >/dev/null
sleep 1
start_agent a 10.99.0.11; AGENT_A=$!
wait_for "ticker cleaned up after the agent returns" 60 sh -c "! nsenter --net=/run/netns/$LAN $K get pod ticker >/dev/null 2>&1"
sleep 3
expect_eq "exactly the same containers (ids and pids) after the restart" "$before" runc_view
expect_eq "restartCount unchanged" "$rb" jp "pod/$PODA" '{.status.containerStatuses[0].restartCount}'
expect_eq "still reachable after the restart" "page-from-$PODB" k exec "$PODA" -- wget -qO- "http://$IPB:8080/"

k delete deployment web --wait=false >/dev/null
wait_for "deleting the Deployment stops its pods" 60 sh -c "[ \$(nsenter --net=/run/netns/$LAN $K get pods -l app=web --no-headers 2>/dev/null | wc -l) = 0 ]"

stop_agent AGENT_A
stop_agent AGENT_B
for f in "$WORK"/agent-*.log; do
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$f"; then fail "sanitizer report in $f"; grep -A30 Sanitizer "$f" | head -40; fi
done
finish
