# registry_lib.sh: a real OCI registry and test images for the e2e suites.
# Source after lib.sh (it uses $WORK and chains lib.sh's EXIT trap).
#
#   registry_start [ADDR]        Debian's docker-registry on ADDR (default
#                                127.0.0.1:<free port>), storage and config in
#                                $WORK; exports REGISTRY=host:port and
#                                REGISTRY_STORAGE (its storage root). With
#                                REGISTRY_HTPASSWD="user:pass" it requires
#                                Basic auth; with REGISTRY_TLS=1 it serves
#                                HTTPS with a certificate from a fresh CA,
#                                exported as REGISTRY_CA (PEM file). REGISTRY_WRAP (e.g. "nsenter
#                                --net=/run/netns/X") prefixes the command, to
#                                run it in a network namespace. Stopped at exit.
#   image_build_busybox DIR [SRC[:DEST]...]
#                                an OCI image layout in DIR: one layer with
#                                /bin/busybox, a symlink in /bin for every
#                                applet, /etc/passwd, /etc/group, /tmp ...,
#                                plus the extra files given (DEST defaults to
#                                SRC); config Cmd ["sh"], Env PATH. IMAGE_ARCH
#                                sets the config's architecture (default this
#                                machine's). Prints the manifest digest.
#   image_build_index OUT DIR...  an OCI layout in OUT whose index lists the
#                                single-image layouts DIR... with their
#                                platforms (a multi-arch image).
#   image_push DIR NAME:TAG      skopeo copy (--all) oci:DIR to $REGISTRY.
#   image_creds USER PASS FILE   a dockerconfigjson file for $REGISTRY.

REGISTRY_PIDS=()   # the docker-registry processes themselves
REGISTRY_JOBS=()   # the background jobs (a wrapper function runs in a subshell)
REGISTRY_N=0

registry_stop_all() {
    local p
    for p in "${REGISTRY_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    for p in "${REGISTRY_JOBS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    REGISTRY_PIDS=()
    REGISTRY_JOBS=()
}
# Chain onto lib.sh's cleanup so registries stop even when a check fails.
trap 'registry_stop_all; cleanup' EXIT

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_host_arch() {
    case "$(uname -m)" in
        x86_64) echo amd64 ;; aarch64) echo arm64 ;; armv7l|armv6l) echo arm ;; *) uname -m ;;
    esac
}

registry_start() {
    local addr=${1:-127.0.0.1:$(_free_port)}
    REGISTRY_N=$((REGISTRY_N + 1))
    local d=$WORK/registry$REGISTRY_N
    mkdir -p "$d/storage"
    {
        echo "version: 0.1"
        echo "log:"
        echo "  level: ${REGISTRY_LOG_LEVEL:-warn}"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: $d/storage"
        echo "  delete:"
        echo "    enabled: true"
        echo "http:"
        echo "  addr: $addr"
        if [ -n "${REGISTRY_TLS:-}" ]; then
            _registry_cert "$d" "${addr%:*}"
            echo "  tls:"
            echo "    certificate: $d/server.crt"
            echo "    key: $d/server.key"
        fi
        if [ -n "${REGISTRY_HTPASSWD:-}" ]; then
            htpasswd -Bbn "${REGISTRY_HTPASSWD%%:*}" "${REGISTRY_HTPASSWD#*:}" >"$d/htpasswd"
            echo "auth:"
            echo "  htpasswd:"
            echo "    realm: cairn-test"
            echo "    path: $d/htpasswd"
        fi
    } >"$d/config.yml"
    # shellcheck disable=SC2086
    # env -i: docker-registry takes every REGISTRY_* variable as a config
    # override, and this library exports some. The sh records the pid the
    # registry will have (it execs), since $! may be a wrapper's subshell
    # that killing would not take the registry with.
    ${REGISTRY_WRAP:-} env -i PATH="$PATH" sh -c 'echo $$ >"$0"; exec docker-registry serve "$1"' \
        "$d/pid" "$d/config.yml" >"$d/log" 2>&1 &
    REGISTRY_JOBS+=($!)
    local i scheme=http
    [ -n "${REGISTRY_TLS:-}" ] && scheme=https
    for i in $(seq 1 100); do
        # Any HTTP answer (200, or 401 with auth) means it listens.
        # shellcheck disable=SC2086
        if ${REGISTRY_WRAP:-} curl -s ${REGISTRY_TLS:+--cacert "$d/ca.crt"} -o /dev/null -w '%{http_code}' \
                "$scheme://$addr/v2/" 2>/dev/null | grep -q '^[24]'; then
            REGISTRY_PIDS+=("$(cat "$d/pid")")
            export REGISTRY=$addr REGISTRY_STORAGE=$d/storage
            if [ -n "${REGISTRY_TLS:-}" ]; then export REGISTRY_CA=$d/ca.crt; fi
            return 0
        fi
        sleep 0.1
    done
    echo "registry_lib: docker-registry did not start on $addr"; cat "$d/log"
    [ -s "$d/pid" ] && REGISTRY_PIDS+=("$(cat "$d/pid")")   # stopped at exit all the same
    return 1
}

# A CA and a serving certificate for IP or host $2, in $1.
_registry_cert() {
    local d=$1 host=$2 san
    case "$host" in *[!0-9.]*) san=DNS:$host ;; *) san=IP:$host ;; esac
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cairn-test-ca" \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$host" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$san" >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
        -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null
}

# Move FILE into DIR's blobs; prints "sha256:<hex> <size>".
_oci_put() {
    local dir=$1 f=$2 hex size
    hex=$(sha256sum "$f" | cut -d' ' -f1)
    size=$(stat -c %s "$f")
    mkdir -p "$dir/blobs/sha256"
    mv "$f" "$dir/blobs/sha256/$hex"
    echo "sha256:$hex $size"
}

image_build_busybox() {
    local dir=$1; shift
    local arch=${IMAGE_ARCH:-$(_host_arch)}
    local tmp root a
    tmp=$(mktemp -d "$WORK/imgbuild.XXXXXX")
    root=$tmp/rootfs
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/root" "$root/var" "$dir"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    for a in "$@"; do
        local src=${a%%:*} dest=${a#*:}
        [ "$a" = "$src" ] && dest=$src
        mkdir -p "$root/$(dirname "$dest")"
        cp -a "$src" "$root/$dest"
    done
    tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$root" -cf "$tmp/layer.tar" .
    local diffid layer lsize cfg csize man msize
    diffid=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
    gzip -n -1 "$tmp/layer.tar"
    read -r layer lsize < <(_oci_put "$dir" "$tmp/layer.tar.gz")
    printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"cairn tests/e2e/registry_lib.sh"}]}' \
        "$arch" "$diffid" >"$tmp/config.json"
    read -r cfg csize < <(_oci_put "$dir" "$tmp/config.json")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
        "$cfg" "$csize" "$layer" "$lsize" >"$tmp/manifest.json"
    read -r man msize < <(_oci_put "$dir" "$tmp/manifest.json")
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}]}' \
        "$man" "$msize" "$arch" >"$dir/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
    rm -rf "$tmp"
    echo "$man"
}

image_build_index() {
    local out=$1; shift
    local entries="" d
    mkdir -p "$out/blobs/sha256"
    for d in "$@"; do
        cp -n "$d"/blobs/sha256/* "$out/blobs/sha256/"
        local e
        e=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["manifests"][0]))' "$d/index.json")
        entries=${entries:+$entries,}$e
    done
    # skopeo reads each entry of index.json as a separate image, so the
    # platform index is a blob and index.json points at it.
    local tmp idx isize
    tmp=$(mktemp "$WORK/index.XXXXXX")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" >"$tmp"
    read -r idx isize < <(_oci_put "$out" "$tmp")
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s}]}' \
        "$idx" "$isize" >"$out/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
}

image_push() {
    local dir=$1 name=$2
    # shellcheck disable=SC2086
    ${REGISTRY_WRAP:-} skopeo copy --quiet --all --dest-tls-verify=false ${IMAGE_PUSH_CREDS:+--dest-creds "$IMAGE_PUSH_CREDS"} \
        "oci:$dir" "docker://$REGISTRY/$name"
}

image_creds() {
    local auth
    auth=$(printf '%s:%s' "$1" "$2" | base64 -w0)
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$auth" >"$3"
}
