#!/bin/bash
# serviceaccounts/token (TokenRequest) through the real kubectl: an RS256
# JWT signed with DATA/pki/sa.key (verified here with openssl and sa.pub),
# upstream's claims, bound objects, and the refusals.
. "$(dirname "$0")/lib.sh"
start_server

# claims TOKEN JQ-FILTER: the payload of a JWT, through jq
claims() {
    python3 -c 'import sys,base64; p=sys.argv[1].split(".")[1]; sys.stdout.write(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$1" | jq -r "$2"
}
# header TOKEN JQ-FILTER: the same for the JOSE header
header() {
    python3 -c 'import sys,base64; p=sys.argv[1].split(".")[0]; sys.stdout.write(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$1" | jq -r "$2"
}
# verify TOKEN: the RS256 signature checks out against pki/sa.pub
verify() {
    local t=$1
    printf '%s' "${t%.*}" > "$WORK/signed"
    python3 -c 'import sys,base64; s=sys.argv[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))' "${t##*.}" > "$WORK/sig"
    openssl dgst -sha256 -verify "$DATA/pki/sa.pub" -signature "$WORK/sig" "$WORK/signed"
}

expect_ok "create a service account" kubectl create serviceaccount robot
TOKEN=$(kubectl create token robot --audience api --audience other --duration 1h 2>&1)
expect_out "kubectl create token prints a JWT" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' echo "$TOKEN"
expect_out "the signature verifies with pki/sa.pub" 'Verified OK' verify "$TOKEN"
expect_eq "header: RS256 with a kid" "RS256 true" header "$TOKEN" '.alg + " " + (.kid | length > 0 | tostring)'
expect_eq "sub" "system:serviceaccount:default:robot" claims "$TOKEN" .sub
expect_eq "iss" "https://kubernetes.default.svc.cluster.local" claims "$TOKEN" .iss
expect_eq "aud" "api,other" claims "$TOKEN" '.aud | join(",")'
expect_eq "exp - iat is the duration" "3600" claims "$TOKEN" '.exp - .iat'
expect_eq "kubernetes.io namespace and serviceaccount" "default robot" claims "$TOKEN" '."kubernetes.io".namespace + " " + ."kubernetes.io".serviceaccount.name'
SA_UID=$(kubectl get serviceaccount robot -o jsonpath='{.metadata.uid}')
expect_eq "the serviceaccount uid is in the token" "$SA_UID" claims "$TOKEN" '."kubernetes.io".serviceaccount.uid'
T2=$(kubectl create token robot 2>&1)
expect_eq "default audience is the issuer" "https://kubernetes.default.svc.cluster.local" claims "$T2" '.aud | join(",")'

# bound to a pod
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec: {serviceAccountName: robot, containers: [{name: c, image: busybox}]}
EOF
POD_UID=$(kubectl get pod p1 -o jsonpath='{.metadata.uid}')
T3=$(kubectl create token robot --bound-object-kind Pod --bound-object-name p1 2>&1)
expect_eq "a pod-bound token names the pod and its uid" "p1 $POD_UID" claims "$T3" '."kubernetes.io".pod.name + " " + ."kubernetes.io".pod.uid'
expect_fail "a bound pod must exist" 'pods "nope" not found' kubectl create token robot --bound-object-kind Pod --bound-object-name nope
expect_fail "a bound uid must match" 'does not match the UID in record' kubectl create token robot --bound-object-kind Pod --bound-object-name p1 --bound-object-uid 123

# refusals
expect_fail "an unknown service account" 'serviceaccounts "nope" not found' kubectl create token nope
expect_fail "under 10 minutes" 'may not specify a duration less than 10 minutes' kubectl create token robot --duration 5m
expect_status "GET on the token subresource is refused" 405 MethodNotAllowed GET /api/v1/namespaces/default/serviceaccounts/robot/token
finish
