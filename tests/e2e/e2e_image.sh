#!/bin/bash
# e2e_image: the node image store through `cairn image` against Debian's
# docker-registry on loopback — pulls by tag, digest and multi-arch index,
# HTTPS with a private CA, IfNotPresent, credentials, the documented
# errors, digest verification of a corrupted blob, concurrent pulls sharing
# one download, import of an oci-archive and a docker-archive written by
# skopeo, rm and prune.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry_lib.sh"

D=$WORK/agent
img() { "$CAIRN" image --data-dir "$D" --insecure-registry "$REG" --insecure-registry "$AUTHREG" "$@"; }
count_ls() { img ls | grep -c "$1"; }
n_files() { find "$1" -mindepth 1 -maxdepth 1 | wc -l; }

REGISTRY_LOG_LEVEL=info registry_start || exit 1
REG=$REGISTRY
REG_STORAGE=$REGISTRY_STORAGE
REGISTRY_HTPASSWD=alice:s3cret registry_start || exit 1
AUTHREG=$REGISTRY
REGISTRY=$REG

# --- images ---
BB_MAN=$(image_build_busybox "$WORK/bb")
expect_ok "push busybox:1" image_push "$WORK/bb" busybox:1
echo "second" >"$WORK/second.txt"
image_build_busybox "$WORK/bb2" "$WORK/second.txt:/etc/second.txt" >/dev/null
expect_ok "push busybox2:1" image_push "$WORK/bb2" busybox2:1

# --- pull by tag ---
expect_out "pull by tag" "^$REG/busybox:1: sha256:[0-9a-f]{64} .*1 layers" img pull "$REG/busybox:1"
expect_out "ls shows it" "$REG/busybox:1 +sha256:" img ls
LAYER=$(ls "$D/images/layers")
expect_ok "layer unpacked: /bin/busybox runs" "$D/images/layers/$LAYER/bin/busybox" true
expect_eq "sh is a symlink to busybox" "busybox" readlink "$D/images/layers/$LAYER/bin/sh"
expect_eq "nothing left in tmp/" "0" n_files "$D/images/tmp"

# --- pull by digest ---
expect_out "pull by digest" "^$REG/busybox@$BB_MAN: " img pull "$REG/busybox@$BB_MAN"
expect_fail "a digest the registry does not have: not found" 'failed to pull and unpack image ".*": .*not found' \
    img pull "$REG/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000"

# --- multi-arch index: the machine's platform is picked ---
HOSTARCH=$(_host_arch)
OTHER=s390x; [ "$HOSTARCH" = s390x ] && OTHER=ppc64le
echo "$HOSTARCH" >"$WORK/arch-host"; echo "$OTHER" >"$WORK/arch-other"
image_build_busybox "$WORK/mh" "$WORK/arch-host:/which-arch" >/dev/null
IMAGE_ARCH=$OTHER image_build_busybox "$WORK/mo" "$WORK/arch-other:/which-arch" >/dev/null
image_build_index "$WORK/multi" "$WORK/mo" "$WORK/mh"
expect_ok "push a two-platform index" image_push "$WORK/multi" multi:1
D_MULTI=$WORK/agent-multi
expect_ok "pull the index" "$CAIRN" image --data-dir "$D_MULTI" --insecure-registry "$REG" pull "$REG/multi:1"
expect_eq "the $HOSTARCH image was unpacked, not $OTHER" "$HOSTARCH" cat "$D_MULTI"/images/layers/*/which-arch

# --- errors ---
expect_fail "missing image" "failed to pull and unpack image \"$REG/nope:1\": .*not found" img pull "$REG/nope:1"
expect_fail "unreachable registry" 'failed to pull and unpack image "127.0.0.1:9/x:1": .*failed to do request' \
    "$CAIRN" image --data-dir "$D" --insecure-registry 127.0.0.1:9 pull 127.0.0.1:9/x:1
expect_fail "malformed reference" 'invalid reference' img pull "$REG/UPPER:1"
expect_fail "https to a plain-http registry fails" 'failed to do request' "$CAIRN" image --data-dir "$D" pull "$REG/busybox:1"

# --- credentials (htpasswd registry) ---
REGISTRY=$AUTHREG
IMAGE_PUSH_CREDS=alice:s3cret expect_ok "push to the auth registry" image_push "$WORK/bb" private:1
image_creds alice s3cret "$WORK/good.json"
image_creds alice wrong "$WORK/bad.json"
REGISTRY=$REG
expect_fail "no credentials: 401" "failed to pull and unpack image \"$AUTHREG/private:1\": .*401" \
    img pull "$AUTHREG/private:1"
expect_fail "bad credentials: 401" "failed to pull and unpack image \"$AUTHREG/private:1\": .*401 Unauthorized" \
    img --docker-config "$WORK/bad.json" pull "$AUTHREG/private:1"
expect_out "good credentials" "^$AUTHREG/private:1: sha256:" img --docker-config "$WORK/good.json" pull "$AUTHREG/private:1"

# --- HTTPS: verified against the CA given, refused without it ---
REGISTRY_TLS=1 registry_start || exit 1
TLSREG=$REGISTRY
expect_ok "push to the TLS registry" image_push "$WORK/bb" secure:1
REGISTRY=$REG
D_TLS=$WORK/agent-tls
expect_fail "https with an unknown CA fails" "failed to do request: GET \"https://$TLSREG/" \
    "$CAIRN" image --data-dir "$D_TLS" pull "$TLSREG/secure:1"
expect_out "https with --registry-ca" "^$TLSREG/secure:1: sha256:" \
    "$CAIRN" image --data-dir "$D_TLS" --registry-ca "$REGISTRY_CA" pull "$TLSREG/secure:1"

# --- IfNotPresent: no registry needed once present ---
kill -STOP "${REGISTRY_PIDS[0]}"
expect_out "--if-not-present with the registry frozen" "^$REG/busybox:1: " \
    img --timeout 2 --if-not-present pull "$REG/busybox:1"
kill -CONT "${REGISTRY_PIDS[0]}"

# --- concurrent pulls of one image share one download ---
image_build_busybox "$WORK/bb3" "$WORK/arch-other:/third" >/dev/null
expect_ok "push busybox3:1" image_push "$WORK/bb3" busybox3:1
L3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
    "$WORK/bb3/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$WORK/bb3/index.json")")
expect_out "two concurrent pulls in one process" "busybox3:1: .*busybox3:1: " \
    sh -c "\"$CAIRN\" image --data-dir \"$D\" --insecure-registry $REG pull $REG/busybox3:1 $REG/busybox3:1 2>&1 | tr '\n' ' '"
expect_eq "the layer blob was fetched once" "1" sh -c "grep -c 'GET /v2/busybox3/blobs/$L3' '$WORK/registry1/log'"
expect_ok "two concurrent pulls in two processes" sh -c \
    "img() { \"$CAIRN\" image --data-dir \"$D\" --insecure-registry $REG \"\$@\"; }; img pull $REG/busybox2:1 & img pull $REG/busybox2:1; wait \$! && img ls | grep -q busybox2"

# --- a corrupted blob in the registry: digest mismatch, nothing stored ---
image_build_busybox "$WORK/bb4" "$WORK/arch-host:/fourth" >/dev/null
expect_ok "push busybox4:1" image_push "$WORK/bb4" busybox4:1
M4=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$WORK/bb4/index.json")
L4=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"][7:])' "$WORK/bb4/blobs/sha256/$M4")
DATAF=$REG_STORAGE/docker/registry/v2/blobs/sha256/${L4:0:2}/$L4/data
SIZE=$(stat -c %s "$DATAF")
head -c "$SIZE" /dev/urandom >"$DATAF.new" && mv "$DATAF.new" "$DATAF"
expect_fail "corrupted layer blob: digest mismatch" "failed to pull and unpack image \"$REG/busybox4:1\": .*digest mismatch for sha256:$L4" \
    img pull "$REG/busybox4:1"
expect_ok "the bad blob was not kept" test ! -e "$D/images/blobs/sha256/$L4"
expect_eq "nothing left in tmp/ after the failure" "0" n_files "$D/images/tmp"
expect_eq "and the image is not listed" "0" count_ls busybox4

# --- import of an oci-archive made by skopeo ---
expect_ok "skopeo writes an oci-archive" skopeo copy --quiet "oci:$WORK/bb2" "oci-archive:$WORK/bb2.tar:example.com/air/busybox:2"
D_AIR=$WORK/agent-air
expect_out "import" "imported example.com/air/busybox:2" "$CAIRN" image --data-dir "$D_AIR" import "$WORK/bb2.tar"
expect_out "ls after import" "example.com/air/busybox:2 +sha256:" "$CAIRN" image --data-dir "$D_AIR" ls
expect_eq "the imported layer has the extra file" "second" cat "$D_AIR"/images/layers/*/etc/second.txt
expect_ok "skopeo writes a docker-archive" skopeo copy --quiet "oci:$WORK/bb" "docker-archive:$WORK/bb-docker.tar:example.com/air/docker:3"
expect_out "import a docker-archive" "imported example.com/air/docker:3" "$CAIRN" image --data-dir "$D_AIR" import "$WORK/bb-docker.tar"
expect_ok "its layer runs busybox" sh -c "ls '$D_AIR'/images/layers/*/bin/busybox"
expect_fail "import of a non-archive" "is not an OCI archive" "$CAIRN" image --data-dir "$D_AIR" import /etc/passwd

# --- rm and prune ---
expect_out "rm" "removed" "$CAIRN" image --data-dir "$D_AIR" rm example.com/air/busybox:2
expect_out "rm the docker-archive image" "removed" "$CAIRN" image --data-dir "$D_AIR" rm example.com/air/docker:3
expect_fail "rm again: not found" "not found" "$CAIRN" image --data-dir "$D_AIR" rm example.com/air/busybox:2
expect_out "prune frees the bytes" "freed [1-9]" "$CAIRN" image --data-dir "$D_AIR" prune
expect_eq "no layers left" "0" n_files "$D_AIR/images/layers"
expect_eq "no blobs left" "0" n_files "$D_AIR/images/blobs/sha256"
N_BEFORE=$(n_files "$D/images/layers")
expect_out "prune with every image named (drops the failed pull's blobs)" "freed" "$CAIRN" image --data-dir "$D" prune
expect_eq "layers kept" "$N_BEFORE" n_files "$D/images/layers"

finish
