#!/bin/bash
# API-level end-to-end checks over raw HTTPS: authentication, every bad-input
# case with its exact code and reason, watch semantics, and a restart that
# keeps every object and continues the revision sequence.
. "$(dirname "$0")/lib.sh"
TOKENS=$WORK/tokens.csv
printf 'admintoken,tokenadmin,u1,"system:masters"\nusertoken,bob,u2,devs\n' > "$TOKENS"
start_server --token-auth-file "$TOKENS" --history-revisions 5 --compact-interval 1
J='-H Content-Type:application/json'
NS=/api/v1/namespaces/default/configmaps

# --- authentication and the bootstrap authorizer ---
expect_out "/version needs no credentials" '"minor":"32"' curl -sk "https://127.0.0.1:$PORT/version"
expect_out "/healthz needs no credentials" '^ok$' curl -sk "https://127.0.0.1:$PORT/healthz"
expect_out "anonymous request is 401" '"code":401' curl -sk "https://127.0.0.1:$PORT$NS"
expect_out "bearer token of a master works" '"kind":"ConfigMapList"' \
    curl -sk -H "Authorization: Bearer admintoken" "https://127.0.0.1:$PORT$NS"
expect_out "other identities are 403" '"reason":"Forbidden"' \
    curl -sk -H "Authorization: Bearer usertoken" "https://127.0.0.1:$PORT$NS"
expect_out "unknown token is 401" '"code":401' \
    curl -sk -H "Authorization: Bearer nope" "https://127.0.0.1:$PORT$NS"
expect_out "TLS verifies with the cluster CA (no -k)" '"kind":"ConfigMapList"' api GET "$NS"

# --- bad input: exact code and reason, as Status objects ---
expect_status "malformed JSON is 400 BadRequest" 400 BadRequest POST "$NS" $J -d '{"metadata":'
expect_status "malformed YAML is 400 BadRequest" 400 BadRequest POST "$NS" -H 'Content-Type: application/yaml' --data-binary $'a: [\n b'
expect_status "unknown field under Strict is 400" 400 BadRequest POST "$NS?fieldValidation=Strict" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x1"},"bogus":1}'
expect_out "the 400 names the field path" 'unknown field \\"bogus\\"' api POST "$NS?fieldValidation=Strict" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x1"},"bogus":1}'
head -c 4194304 /dev/zero | tr '\0' 'a' > "$WORK/big"
expect_status "body over 3 MiB is 413" 413 RequestEntityTooLarge POST "$NS" $J --data-binary @"$WORK/big"
expect_status "invalid object is 422 Invalid" 422 Invalid POST "$NS" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}'
expect_out "422 carries details.causes field paths" '"field":"metadata.name"' api POST "$NS" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}'
expect_status "kind not matching the URL is 400" 400 BadRequest POST "$NS" $J \
    -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"k1"}}'
expect_status "apiVersion not matching the URL is 400" 400 BadRequest POST "$NS" $J \
    -d '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"k1"}}'
expect_status "unknown resource is 404" 404 NotFound GET /api/v1/namespaces/default/frobnicators
expect_status "unknown group is 404" 404 NotFound GET /apis/nope.example.com/v1/things
expect_ok "create a configmap" api POST "$NS" $J -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"a":"1"}}'
expect_status "duplicate create is 409 AlreadyExists" 409 AlreadyExists POST "$NS" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"}}'
expect_status "stale update is 409 Conflict" 409 Conflict PUT "$NS/cm1" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1","resourceVersion":"1"},"data":{"a":"2"}}'
expect_status "missing object is 404" 404 NotFound GET "$NS/nope"
expect_status "bad label selector is 400" 400 BadRequest GET "$NS?labelSelector=a%20in%20(b"
expect_status "unsupported field selector is 400" 400 BadRequest GET "$NS?fieldSelector=spec.nope%3Dx"
expect_status "bad continue token is 400" 400 BadRequest GET "$NS?limit=1&continue=garbage"
expect_status "bad patch type is 415" 415 UnsupportedMediaType PATCH "$NS/cm1" -H 'Content-Type: text/plain' -d 'x'
expect_status "malformed JSON patch is 400" 400 BadRequest PATCH "$NS/cm1" -H 'Content-Type: application/json-patch+json' -d '{"op":1}'
expect_status "name mismatch on update is 400" 400 BadRequest PUT "$NS/cm1" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}'
expect_status "bad dryRun value is 400" 400 BadRequest POST "$NS?dryRun=Some" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1"}}'
expect_status "the default namespace may not be deleted" 403 Forbidden DELETE /api/v1/namespaces/default
expect_status "create without a namespace is 405" 405 MethodNotAllowed POST /api/v1/configmaps $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nons"}}'
expect_out "server still healthy after bad input" '^ok$' curl -sk "https://127.0.0.1:$PORT/readyz"

# --- watch: from a resourceVersion, and 410 after compaction is simulated by a too-old RV ---
RV=$(api GET "$NS/cm1" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
api GET "$NS?watch=true&resourceVersion=$RV&timeoutSeconds=3" > "$WORK/w.out" 2>&1 &
WP=$!
sleep 0.5
api PATCH "$NS/cm1" -H 'Content-Type: application/merge-patch+json' -d '{"data":{"b":"2"}}' >/dev/null
api DELETE "$NS/cm1" >/dev/null
wait $WP
expect_out "watch from RV streams MODIFIED" '"type":"MODIFIED"' cat "$WORK/w.out"
expect_out "watch from RV streams DELETED" '"type":"DELETED"' cat "$WORK/w.out"
expect_out "watch ends at timeoutSeconds" '^200$' tail -1 "$WORK/w.out"

# --- lists splice stored objects: tricky contents must survive intact ---
expect_out "create an object whose data mimics metadata" '^201$' api POST "$NS" $J \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tricky"},"data":{"metadata":"{\"resourceVersion\":\"1\"}","y":"\"metadata\":{"}}'
expect_out "list output is valid JSON with the right resourceVersion on every item" '^ok$' sh -c "
    $(declare -f api); DATA=$DATA PORT=$PORT
    api GET '$NS' | sed '\$d' | python3 -c '
import json,sys
l=json.load(sys.stdin)
t=[i for i in l[\"items\"] if i[\"metadata\"][\"name\"]==\"tricky\"][0]
assert t[\"data\"][\"metadata\"]==\"{\\\"resourceVersion\\\":\\\"1\\\"}\", t
assert int(t[\"metadata\"][\"resourceVersion\"])>1
assert all(\"resourceVersion\" in i[\"metadata\"] for i in l[\"items\"])
print(\"ok\")'"

# --- bookmarks, compaction and 410 ---
expect_out "watch sends a BOOKMARK when asked" '"type":"BOOKMARK"' \
    api GET "$NS?watch=true&allowWatchBookmarks=true&timeoutSeconds=2"
for i in $(seq 1 12); do
    api POST "$NS" $J -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"churn$i\"}}" >/dev/null
done
sleep 2.5   # two compaction periods: history now keeps only the last 5 revisions
expect_out "watch from a compacted revision gets 410 Expired" '"type":"ERROR".*"code":410' \
    api GET "$NS?watch=true&resourceVersion=2&timeoutSeconds=2"
expect_out "the 410 event has reason Expired" '"reason":"Expired"' \
    api GET "$NS?watch=true&resourceVersion=2&timeoutSeconds=2"
expect_ok "create c1 for deletecollection" api POST "$NS" $J -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dc1","labels":{"sweep":"yes"}}}'
expect_ok "create c2 for deletecollection" api POST "$NS" $J -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dc2","labels":{"sweep":"yes"}}}'
expect_out "deletecollection with a label selector" '"name":"dc2"' api DELETE "$NS?labelSelector=sweep%3Dyes"
expect_status "deletecollection removed them" 404 NotFound GET "$NS/dc1"
expect_out "deletecollection left the others" '"name":"keep-me"|"kind":"ConfigMap"' api GET "$NS/churn1"

# --- restart keeps everything and continues the revision sequence ---
expect_ok "create before restart" api POST "$NS" $J -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"k":"v"}}'
BEFORE=$(api GET "$NS" | sed -n 's/.*"metadata":{"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
stop_server
start_server --token-auth-file "$TOKENS" --history-revisions 5 --compact-interval 1
expect_out "object survives restart" '"k":"v"' api GET "$NS/keep"
expect_ok "write after restart" api POST "$NS" $J -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"after"}}'
AFTER=$(api GET "$NS/after" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
[ -n "$BEFORE" ] && [ -n "$AFTER" ] && [ "$AFTER" -gt "$BEFORE" ] && pass "revision continues after restart ($BEFORE -> $AFTER)" \
    || fail "revision continues after restart ($BEFORE -> $AFTER)"
finish
