#!/usr/bin/env bash
# e2e_stream: kubectl logs, exec and port-forward through `cairn server` to
# a node agent's kubelet endpoint (kubeletsrv), played here by
# kubeletsrv-harness: handwritten CRI log files, commands run with
# fork+exec, port-forward to a TCP echo listener in the harness's own
# network namespace. The Node points at the harness (InternalIP 127.0.0.1,
# kubeletEndpoint its port); the Pod is bound to that Node.
source "$(dirname "$0")/lib.sh"

HARNESS=$(dirname "$CAIRN")/kubeletsrv-harness
HDIR=$WORK/kubelet
HARNESS_PID=
PF_PID=
FOLLOW_PID=
e2e_extra_cleanup() {
    [ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null && wait "$PF_PID" 2>/dev/null
    [ -n "$FOLLOW_PID" ] && kill "$FOLLOW_PID" 2>/dev/null && wait "$FOLLOW_PID" 2>/dev/null
    if [ -n "$HARNESS_PID" ]; then kill -TERM "$HARNESS_PID" 2>/dev/null; wait "$HARNESS_PID" 2>/dev/null; fi
}
k() { kubectl --request-timeout=30s "$@"; }

start_server
mkdir -p "$HDIR"
cat >"$HDIR/app.log" <<'LOG'
2024-01-01T00:00:01.000000001Z stdout F line one
2024-01-01T00:00:02Z stderr F line two
2024-01-01T00:00:03Z stdout P line th
2024-01-01T00:00:03.5Z stdout F ree
LOG
echo "2024-01-01T00:00:00Z stdout F from the previous instance" >"$HDIR/app.prev.log"
echo "2024-01-01T00:00:00Z stdout F side car" >"$HDIR/side.log"
touch "$HDIR/app.running"
"$HARNESS" "$DATA/pki/ca.crt" "$HDIR" >"$WORK/harness.log" 2>&1 &
HARNESS_PID=$!
wait_for "the kubelet harness serves" 20 test -s "$HDIR/ports"
read -r KPORT EPORT <"$HDIR/ports"

k create -f - >/dev/null <<EOF2
apiVersion: v1
kind: Node
metadata: {name: stream-node}
EOF2
expect_ok "node status points at the kubelet endpoint" k patch node stream-node --subresource=status --type=merge \
    -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":$KPORT}}}}"
k create -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata: {name: web, annotations: {kubectl.kubernetes.io/default-container: app}}
spec:
  nodeName: stream-node
  containers:
  - {name: app, image: busybox}
  - {name: side, image: busybox}
EOF2
# pod NAME NODE CONTAINER... : a pod (NODE "-": not bound)
pod() {
    local name=$1 node=$2; shift 2
    { echo "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$name\"},\"spec\":{"
      [ "$node" != - ] && echo "\"nodeName\":\"$node\","
      echo "\"containers\":["
      local sep=
      for c in "$@"; do echo "$sep{\"name\":\"$c\",\"image\":\"busybox\"}"; sep=,; done
      echo "]}}"; } | k create -f - >/dev/null
}
pod two stream-node a b
pod pending - a

# ---- logs ----
expect_eq "logs: whole lines, partial ones joined" "line one
line two
line three" k logs web
expect_eq "logs --tail=1" "line three" k logs web --tail=1
expect_eq "logs --tail=2 --timestamps" "2024-01-01T00:00:02Z line two
2024-01-01T00:00:03Z line three" k logs web --tail=2 --timestamps
expect_eq "logs --since-time" "line three" k logs web --since-time=2024-01-01T00:00:03Z
expect_eq "logs --since=1h: nothing that old-dated" "" k logs web --since=1h
expect_eq "logs --limit-bytes" "line" k logs web --limit-bytes=4
expect_eq "logs --previous" "from the previous instance" k logs web --previous
expect_eq "logs -c side" "side car" k logs web -c side
expect_fail "logs --previous without a previous instance: the node's 400 comes through" \
    'previous terminated container "side" in pod "web" not found' k logs web -c side --previous
expect_eq "logs -f of a stopped container ends at once" "side car" k logs -f web -c side
expect_fail "logs: unknown container" "container nope is not valid for pod web" k logs web -c nope
# kubectl picks a default container itself; the server's own choice shows through the API.
expect_status "logs: several containers, no default is 400" 400 BadRequest GET /api/v1/namespaces/default/pods/two/log
expect_out "...naming the choices" "a container name must be specified for pod two, choose one of: \[a b\]" \
    api GET /api/v1/namespaces/default/pods/two/log
expect_out "logs: the annotation's default container" "line three" api GET /api/v1/namespaces/default/pods/web/log
expect_fail "logs: pod not bound" "does not have a host assigned" k logs pending
expect_fail "logs: no such pod" "pods \"ghost\" not found" k logs ghost

# follow: sees an appended line, and ends when the container stops
k logs -f web >"$WORK/follow.out" 2>&1 &
FOLLOW_PID=$!
wait_for "logs -f prints what is there" 20 grep -q "line three" "$WORK/follow.out"
echo "2024-01-01T00:00:09Z stdout F appended later" >>"$HDIR/app.log"
wait_for "logs -f sees an appended line" 20 grep -q "appended later" "$WORK/follow.out"
rm -f "$HDIR/app.running"
wait_for "logs -f ends when the container stops" 20 sh -c "! kill -0 $FOLLOW_PID"
wait "$FOLLOW_PID" 2>/dev/null; FOLLOW_PID=
touch "$HDIR/app.running"

# ---- exec ----
expect_eq "exec echo" "hi" k exec web -- echo hi
expect_eq "exec -c side... runs too (the harness runs every container's command here)" "x y" k exec web -c app -- echo x y
k exec web -- sh -c 'exit 3' >/dev/null 2>&1
expect_eq "exec: the exit code comes back" "3" echo $?
expect_eq "exec -i: stdin reaches the command" "from stdin" sh -c "echo 'from stdin' | kubectl exec -i web -- cat"
expect_eq "exec: stderr is kept apart" "err" sh -c "kubectl exec web -- sh -c 'echo err >&2' 2>&1 >/dev/null"
expect_fail "exec: pod not bound" "does not have a host assigned" k exec pending -- true
expect_fail "exec: a container that is not running" "container side is not running in pod web" k exec web -c side -- true
# kubectl 1.27 speaks only SPDY for exec and port-forward.
K127=/usr/lib/google-cloud-sdk/bin/kubectl.1.27
if [ -x "$K127" ]; then
    expect_eq "kubectl 1.27: exec" "hi" "$K127" exec web -- echo hi
    "$K127" exec web -- sh -c 'exit 5' >/dev/null 2>&1
    expect_eq "kubectl 1.27: exec exit code" "5" echo $?
fi
# kubectl cp is tar over exec: a few MiB of stdin in fragmented messages, and back.
head -c 3000000 /dev/urandom >"$WORK/big"
expect_ok "cp into the pod (exec with a large stdin)" kubectl cp "$WORK/big" "web:$WORK/big.in"
expect_ok "...the copy is whole" cmp "$WORK/big" "$WORK/big.in"
expect_ok "cp out of the pod" kubectl cp "web:$WORK/big" "$WORK/big.out"
expect_ok "...the copy is whole" cmp "$WORK/big" "$WORK/big.out"
expect_ok "cp into the pod over SPDY" env KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl cp "$WORK/big" "web:$WORK/big.spdy"
expect_ok "...the copy is whole" cmp "$WORK/big" "$WORK/big.spdy"
# A terminal gets the client's size before the command runs (script(1) gives kubectl a tty).
if command -v script >/dev/null; then
    expect_out "exec -it: a tty of the client's size" "33 111" \
        script -qec "stty rows 33 cols 111; kubectl exec -it web -- stty size" /dev/null
fi
# Clients without WebSockets (kubectl < 1.30) speak SPDY/3.1 with v4.channel.k8s.io.
expect_eq "exec over SPDY" "hi" env KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl exec web -- echo hi
KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl exec web -- sh -c 'exit 4' >/dev/null 2>&1
expect_eq "exec over SPDY: the exit code comes back" "4" echo $?
expect_eq "exec over SPDY: stdin" "spdy stdin" sh -c "echo 'spdy stdin' | KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl exec -i web -- cat"
expect_eq "exec over SPDY: stderr" "err" sh -c "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl exec web -- sh -c 'echo err >&2' 2>&1 >/dev/null"
if command -v script >/dev/null; then
    expect_out "exec -it over SPDY: the tty's size" "34 112" \
        script -qec "stty rows 34 cols 112; KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl exec -it web -- stty size" /dev/null
fi

# ---- port-forward ----
# kubectl forwards only to a Running pod.
k patch pod web --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kubectl port-forward pod/web "$LPORT:$EPORT" >"$WORK/pf.out" 2>&1 &
PF_PID=$!
wait_for "port-forward listens" 20 grep -q "Forwarding from 127.0.0.1:$LPORT" "$WORK/pf.out"
roundtrip() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"ping through the tunnel\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(100)
    if not d: break
    buf += d
print(buf.decode().strip())
PY
}
expect_eq "port-forward: a TCP round trip" "ping through the tunnel" roundtrip "$LPORT"
expect_eq "port-forward: a second connection" "ping through the tunnel" roundtrip "$LPORT"
kill "$PF_PID" 2>/dev/null; wait "$PF_PID" 2>/dev/null; PF_PID=
# The same over plain SPDY (kubectl < 1.31 or the WebSocket tunnel turned off).
KUBECTL_PORT_FORWARD_WEBSOCKETS=false kubectl port-forward pod/web "$LPORT:$EPORT" >"$WORK/pf2.out" 2>&1 &
PF_PID=$!
wait_for "port-forward over SPDY listens" 20 grep -q "Forwarding from 127.0.0.1:$LPORT" "$WORK/pf2.out"
expect_eq "port-forward over SPDY: a TCP round trip" "ping through the tunnel" roundtrip "$LPORT"
kill "$PF_PID" 2>/dev/null; wait "$PF_PID" 2>/dev/null; PF_PID=
# Nothing listens on the pod's port: the error stream says so.
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kubectl port-forward pod/web "$LPORT:$DEAD" >"$WORK/pf3.out" 2>&1 &
PF_PID=$!
wait_for "port-forward to a closed port listens" 20 grep -q "Forwarding from 127.0.0.1:$LPORT" "$WORK/pf3.out"
python3 -c "import socket; s=socket.create_connection(('127.0.0.1', $LPORT), timeout=5); s.recv(10)" >/dev/null 2>&1
wait_for "port-forward: a refused connection is reported" 20 grep -q "connection refused\|Connection refused" "$WORK/pf3.out"
kill "$PF_PID" 2>/dev/null; wait "$PF_PID" 2>/dev/null; PF_PID=

# ---- the kubelet endpoint itself ----
expect_eq "kubelet endpoint: no client certificate is 401" "401" \
    curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$KPORT/containerLogs/default/web/app"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=intruder -days 1 \
    -keyout "$WORK/bad.key" -out "$WORK/bad.crt" >/dev/null 2>&1
expect_eq "kubelet endpoint: a certificate from another CA is 401" "401" \
    curl -sk --cert "$WORK/bad.crt" --key "$WORK/bad.key" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$KPORT/containerLogs/default/web/app"
expect_eq "kubelet endpoint: a cluster user that is not the API server is 403" "403" sh -c \
    "kubectl config view --raw -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d >$WORK/u.crt;
     openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=someone -keyout $WORK/u.key -out $WORK/u.csr 2>/dev/null;
     openssl x509 -req -in $WORK/u.csr -CA $DATA/pki/ca.crt -CAkey $DATA/pki/ca.key -CAcreateserial -days 1 -out $WORK/u.crt 2>/dev/null;
     curl -sk --cert $WORK/u.crt --key $WORK/u.key -o /dev/null -w '%{http_code}' https://127.0.0.1:$KPORT/containerLogs/default/web/app"
expect_eq "kubelet endpoint: the API server's identity may read logs" "200" \
    curl -sk --cert "$DATA/pki/kubelet-client.crt" --key "$DATA/pki/kubelet-client.key" -o /dev/null -w '%{http_code}' \
    "https://127.0.0.1:$KPORT/containerLogs/default/web/app"

# ---- the agent is gone ----
kill -TERM "$HARNESS_PID"; wait "$HARNESS_PID" 2>/dev/null; HARNESS_PID=
expect_fail "logs: agent unreachable is 'error dialing backend'" "error dialing backend" k logs web
if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/harness.log"; then
    fail "sanitizer report in the harness log"; head -60 "$WORK/harness.log"
fi
finish
