#!/bin/bash
# Connection limits and hostile input: idle connections are bounded and
# timed out, so they cannot starve others for long; hostile bodies get a
# clear 4xx and the server keeps serving.
. "$(dirname "$0")/lib.sh"
start_server --max-connections 4 --idle-timeout 3
NS=/api/v1/namespaces/default/configmaps
J='-H Content-Type:application/json'

# --- hostile bodies ---
python3 -c 'print("[" * 200000)' > "$WORK/deep.json"
expect_status "deeply nested JSON is 400" 400 BadRequest POST "$NS" $J --data-binary @"$WORK/deep.json"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u"},"data":{"a":"\xff\xfe"}}' > "$WORK/utf8.json"
expect_status "invalid UTF-8 is 400" 400 BadRequest POST "$NS" $J --data-binary @"$WORK/utf8.json"
expect_status "a JSON array body is 400" 400 BadRequest POST "$NS" $J -d '[1,2]'
head -c 3000 /dev/urandom > "$WORK/garbage.pb"
expect_status "garbage protobuf is 400" 400 BadRequest POST "$NS" -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$WORK/garbage.pb"
printf 'k8s\0\x0a\x02\x0a\x00' > "$WORK/trunc.pb"
expect_status "truncated protobuf envelope is 400" 400 BadRequest POST "$NS" -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$WORK/trunc.pb"
python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"many","labels":{"k%d"%i:"v" for i in range(20000)}}}))' > "$WORK/labels.json"
expect_out "an object with 20,000 labels is handled (stored or refused, never a crash)" '^(201|422)$' sh -c "$(declare -f api); DATA=$DATA PORT=$PORT api POST $NS -H Content-Type:application/json --data-binary @$WORK/labels.json | tail -1"
expect_status "a patch nested 5,000 levels deep is refused" 400 BadRequest PATCH "$NS/many" \
    -H 'Content-Type: application/merge-patch+json' --data-binary "$(python3 -c 'print("{\"a\":" * 5000 + "1" + "}" * 5000)')"
expect_out "server still healthy" '^ok$' curl -sk "https://127.0.0.1:$PORT/readyz"

# --- connection limit and idle timeout ---
# Four silent clients hold every slot: a fifth client is not served (it is
# refused or waits), and is served once the idle timeout (3 s) has closed
# the silent ones, which never sent a byte.
fds=()
for i in 1 2 3 4; do
    exec {fd}<>/dev/tcp/127.0.0.1/"$PORT"
    fds+=("$fd")
done
sleep 0.3
if curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$PORT/readyz"; then
    fail "a fifth client is not served while 4 idle connections hold the limit"
else
    pass "a fifth client is not served while 4 idle connections hold the limit"
fi
wait_for "the fifth client is served once the idle ones time out" 10 \
    curl -sk --max-time 2 "https://127.0.0.1:$PORT/readyz"
for fd in "${fds[@]}"; do exec {fd}>&-; done
finish
