# kubectl_suite.sh: the kubectl end-to-end suite, run once per kubectl
# version by e2e_kubectl_1NN.sh (sourced after lib.sh; $K is the binary).
M=$E2E_DIR/manifests
k() { "$K" "$@"; }

run_kubectl_suite() {
    start_server
    local ver
    ver=$("$K" version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\)".*/\1/p' | head -1)
    echo "== kubectl $K (client minor $ver) against port $PORT"

    # --- discovery, version ---
    expect_out "version shows the server" "Server Version: .*v1\.32\.0" k version
    expect_out "api-versions lists apps/v1" "^apps/v1$" k api-versions
    expect_out "api-resources lists deployments with short name" "deployments +deploy +apps/v1 +true +Deployment" k api-resources
    expect_out "api-resources lists customresourcedefinitions" "customresourcedefinitions +crd,crds" k api-resources
    expect_out "system namespaces exist" "kube-node-lease" k get ns
    expect_out "namespaces table has STATUS column" "NAME +STATUS +AGE" k get ns

    # --- namespace + generators (protobuf bodies on 1.32+) ---
    expect_ok "create namespace" k create ns e2e
    expect_fail "duplicate namespace is AlreadyExists" "AlreadyExists.*already exists" k create ns e2e
    expect_ok "create configmap" k -n e2e create configmap c1 --from-literal=a=b --from-literal=c=d
    expect_eq "configmap data via jsonpath" "b" k -n e2e get cm c1 -o jsonpath='{.data.a}'
    expect_out "configmap table has DATA column" "c1 +2 " k -n e2e get cm c1
    expect_fail "duplicate configmap" "already exists" k -n e2e create configmap c1 --from-literal=a=b
    expect_ok "create secret" k -n e2e create secret generic s1 --from-literal=password=x
    expect_eq "secret type defaults to Opaque" "Opaque" k -n e2e get secret s1 -o jsonpath='{.type}'
    expect_ok "create deployment" k -n e2e create deployment web --image=registry.local/web:1 --replicas=2
    expect_out "deployment table columns" "NAME +READY +UP-TO-DATE +AVAILABLE +AGE" k -n e2e get deploy
    expect_ok "create service" k -n e2e create service clusterip websvc --tcp=80:8080
    expect_out "service gets a cluster IP from the service CIDR" '^10\.43\.[0-9]+\.[0-9]+$' k -n e2e get svc websvc -o jsonpath='{.spec.clusterIP}'
    local svcip
    svcip=$(k -n e2e get svc websvc -o jsonpath='{.spec.clusterIP}')
    expect_fail "a cluster IP in use is refused" "already allocated" k -n e2e create service clusterip dupsvc --tcp=80 --clusterip="$svcip"
    expect_ok "create NodePort service" k -n e2e create service nodeport npsvc --tcp=80:8080
    expect_out "NodePort service gets a node port" '^3[0-9]{4}$' k -n e2e get svc npsvc -o jsonpath='{.spec.ports[0].nodePort}'
    expect_ok "create serviceaccount" k -n e2e create serviceaccount robot
    expect_ok "create role" k -n e2e create role reader --verb=get --resource=pods
    expect_ok "create job" k -n e2e create job once --image=registry.local/busybox:1
    expect_ok "create cronjob" k -n e2e create cronjob tick --image=registry.local/busybox:1 --schedule='*/1 * * * *'
    expect_out "auth can-i as admin" "^yes$" k auth can-i create pods
    expect_out "auth whoami" "cairn-admin" k auth whoami

    # --- scale ---
    expect_out "scale deployment" "scaled" k -n e2e scale deploy web --replicas=3
    expect_eq "scaled replicas" "3" k -n e2e get deploy web -o jsonpath='{.spec.replicas}'
    expect_eq "generation bumped by scale" "2" k -n e2e get deploy web -o jsonpath='{.metadata.generation}'

    # --- apply (client-side) ---
    expect_out "apply multi-document manifest" "deployment.apps/app created" k apply -f "$M/app.yaml"
    expect_out "apply again is unchanged" "configmap/app-config unchanged" k apply -f "$M/app.yaml"
    local rv1 rv2
    rv1=$(k -n e2e get deploy app -o jsonpath='{.metadata.resourceVersion}')
    expect_out "apply a change is configured" "deployment.apps/app configured" k apply -f "$M/app-v2.yaml"
    expect_eq "applied replicas" "3" k -n e2e get deploy app -o jsonpath='{.spec.replicas}'
    expect_eq "applied image" "registry.local/web:1.1" k -n e2e get deploy app -o jsonpath='{.spec.template.spec.containers[0].image}'
    expect_eq "sidecar kept" "sidecar" k -n e2e get deploy app -o jsonpath='{.spec.template.spec.containers[1].name}'
    expect_eq "configmap changed" "prod" k -n e2e get cm app-config -o jsonpath='{.data.mode}'
    rv2=$(k -n e2e get deploy app -o jsonpath='{.metadata.resourceVersion}')
    [ "$rv1" != "$rv2" ] && pass "resourceVersion moved on change" || fail "resourceVersion moved on change"
    expect_out "apply v2 again is unchanged" "deployment.apps/app unchanged" k apply -f "$M/app-v2.yaml"
    expect_eq "unchanged apply keeps resourceVersion" "$rv2" k -n e2e get deploy app -o jsonpath='{.metadata.resourceVersion}'
    expect_ok "diff of an applied manifest shows nothing (exit 0)" k diff -f "$M/app-v2.yaml"
    expect_fail "diff shows a pending change (exit 1)" "replicas: 7" sh -c "sed 's/replicas: 3/replicas: 7/' '$M/app-v2.yaml' | '$K' diff -f -"
    expect_out "server-side apply" "serverside-applied" k apply --server-side -f "$M/app-v2.yaml"

    # --- server-side apply: field ownership (managedFields) ---
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: e2e}\ndata: {a: "1", b: "2"}\n' > "$WORK/ssa1.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: e2e}\ndata: {a: "1"}\n' > "$WORK/ssa2.yaml"
    expect_out "server-side apply creates" "configmap/ssa serverside-applied" k apply --server-side -f "$WORK/ssa1.yaml"
    expect_out "server-side apply of the manifest without b" "serverside-applied" k apply --server-side -f "$WORK/ssa2.yaml"
    expect_eq "a key the manager stopped applying is removed" '{"a":"1"}' k -n e2e get cm ssa -o jsonpath='{.data}'
    local rv5
    rv5=$(k -n e2e get cm ssa -o jsonpath='{.metadata.resourceVersion}')
    expect_out "server-side apply again" "serverside-applied" k apply --server-side -f "$WORK/ssa2.yaml"
    expect_eq "no-op server-side apply keeps resourceVersion" "$rv5" k -n e2e get cm ssa -o jsonpath='{.metadata.resourceVersion}'
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ssad, namespace: e2e}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: ssad}}\n  template:\n    metadata: {labels: {app: ssad}}\n    spec:\n      containers: [{name: main, image: registry.local/web:1}]\n' > "$WORK/ssa-deploy.yaml"
    expect_out "server-side apply of a deployment" "deployment.apps/ssad serverside-applied" k apply --server-side -f "$WORK/ssa-deploy.yaml"
    expect_out "scale the applied deployment" "scaled" k -n e2e scale deploy ssad --replicas=5
    expect_fail "applying the old replicas conflicts with the scaler" 'conflict.*\.spec\.replicas' \
        k apply --server-side -f "$WORK/ssa-deploy.yaml"
    expect_eq "a refused apply changes nothing" "5" k -n e2e get deploy ssad -o jsonpath='{.spec.replicas}'
    expect_out "--force-conflicts takes the field over" "serverside-applied" \
        k apply --server-side --force-conflicts -f "$WORK/ssa-deploy.yaml"
    expect_eq "forced apply set replicas" "2" k -n e2e get deploy ssad -o jsonpath='{.spec.replicas}'
    expect_out "--show-managed-fields shows the apply manager" "manager: kubectl$" \
        k -n e2e get deploy ssad -o yaml --show-managed-fields
    expect_out "--show-managed-fields shows the operation" "operation: Apply" \
        k -n e2e get deploy ssad -o yaml --show-managed-fields
    expect_out "created objects record an Update entry" "manager: kubectl-create" \
        k -n e2e get deploy web -o yaml --show-managed-fields

    # --- label, annotate, patch, replace, edit ---
    expect_out "label" "labeled" k -n e2e label cm c1 tier=api
    expect_eq "label set" "api" k -n e2e get cm c1 -o jsonpath='{.metadata.labels.tier}'
    expect_out "annotate" "configmap/c1 annotated?" k -n e2e annotate cm c1 note=hello
    expect_out "patch merge" "patched" k -n e2e patch cm c1 --type merge -p '{"data":{"m":"1"}}'
    expect_out "patch json" "patched" k -n e2e patch cm c1 --type json -p '[{"op":"replace","path":"/data/a","value":"z"}]'
    expect_out "patch strategic (default)" "patched" k -n e2e patch deploy app -p '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"registry.local/web:2"}]}}}}'
    expect_eq "strategic patch merged by name" "registry.local/web:2 registry.local/sidecar:1.0" \
        k -n e2e get deploy app -o jsonpath='{.spec.template.spec.containers[*].image}'
    local rv3
    rv3=$(k -n e2e get cm c1 -o jsonpath='{.metadata.resourceVersion}')
    expect_out "no-op patch" "patched \(no change\)" k -n e2e patch cm c1 --type merge -p '{"data":{"m":"1"}}'
    expect_eq "no-op patch keeps resourceVersion" "$rv3" k -n e2e get cm c1 -o jsonpath='{.metadata.resourceVersion}'
    local rv4
    rv4=$(k -n e2e get cm app-config -o jsonpath='{.metadata.resourceVersion}')
    k -n e2e label cm app-config nosuchlabel- >/dev/null 2>&1
    expect_eq "removing an absent label from an object without labels changes nothing" "$rv4" \
        k -n e2e get cm app-config -o jsonpath='{.metadata.resourceVersion}'
    expect_eq "json patch applied" "z" k -n e2e get cm c1 -o jsonpath='{.data.a}'
    k -n e2e get cm c1 -o yaml | sed 's/^  a: z$/  a: replaced/' > "$WORK/c1.yaml"
    expect_out "replace" "replaced" k replace -f "$WORK/c1.yaml"
    expect_eq "replace applied" "replaced" k -n e2e get cm c1 -o jsonpath='{.data.a}'
    expect_fail "stale replace is a Conflict" "Conflict|modified" k replace -f "$WORK/c1.yaml"
    printf '#!/bin/sh\nsed -i "s/^  c: d$/  c: edited/" "$1"\n' > "$WORK/editor.sh"
    chmod +x "$WORK/editor.sh"
    expect_out "edit with EDITOR" "edited" env EDITOR="$WORK/editor.sh" KUBE_EDITOR="$WORK/editor.sh" "$K" -n e2e edit cm c1
    expect_eq "edit applied" "edited" k -n e2e get cm c1 -o jsonpath='{.data.c}'

    # --- watch ---
    k -n e2e get cm -w --output-watch-events > "$WORK/watch.out" 2>&1 &
    local wpid=$!
    sleep 1
    k -n e2e create cm watched --from-literal=x=1 >/dev/null
    k -n e2e label cm watched seen=yes >/dev/null
    k -n e2e delete cm watched >/dev/null
    sleep 1
    kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
    expect_out "watch saw ADDED" "ADDED +watched" cat "$WORK/watch.out"
    expect_out "watch saw MODIFIED" "MODIFIED +watched" cat "$WORK/watch.out"
    expect_out "watch saw DELETED" "DELETED +watched" cat "$WORK/watch.out"

    # --- list options ---
    for i in 1 2 3 4 5; do k -n e2e create cm chunk$i --from-literal=i=$i >/dev/null; done
    k -n e2e label cm chunk2 chunk4 even=true >/dev/null
    k -n e2e label cm chunk4 skip=yes >/dev/null
    expect_eq "get --chunk-size pages through all" "5" sh -c "'$K' -n e2e get cm --chunk-size=2 -o name | grep -c chunk"
    expect_eq "label selector" "configmap/chunk2 configmap/chunk4" sh -c "'$K' -n e2e get cm -l even=true -o name | tr '\n' ' ' | sed 's/ \$//'"
    expect_eq "set-based label selector" "configmap/chunk2" k -n e2e get cm -l 'even in (true),skip notin (yes)' -o name
    expect_eq "field selector" "configmap/chunk3" k -n e2e get cm --field-selector metadata.name=chunk3 -o name
    expect_out "get all" "deployment.apps/app" k -n e2e get all
    expect_out "get -o wide" "CONTAINERS +IMAGES +SELECTOR" k -n e2e get deploy -o wide
    expect_out "explain" "replicas" k explain deployment.spec.replicas

    # --- dry run ---
    expect_out "dry-run=server create" "created \(server dry run\)" k -n e2e create cm dry --from-literal=a=b --dry-run=server
    expect_fail "dry-run object not stored" "NotFound" k -n e2e get cm dry

    # --- CRD + custom resources ---
    expect_out "create CRD" "created" k apply -f "$M/crd.yaml"
    expect_ok "CRD established" k wait --for condition=established --timeout=20s crd/widgets.example.com
    expect_out "create custom resource" "widget.example.com/w1 created" k apply -f "$M/widget.yaml"
    expect_out "get custom resource by short name with printer columns" "w1 +small +1" k -n e2e get wdg
    expect_out "scale custom resource" "scaled" k -n e2e scale widget w1 --replicas=4
    expect_eq "custom resource scaled" "4" k -n e2e get widget w1 -o jsonpath='{.spec.replicas}'
    expect_fail "custom resource schema enforced" "Unsupported value|supported values" \
        k -n e2e patch widget w1 --type merge -p '{"spec":{"size":"huge"}}'
    expect_out "delete custom resource" "deleted" k -n e2e delete widget w1
    expect_out "delete CRD" "deleted" k delete -f "$M/crd.yaml"

    # --- every kind: create/get/describe/delete ---
    expect_ok "create namespace kinds" k create ns kinds
    expect_ok "create one object of every kind" k create -f "$M/kinds.yaml"
    local kinds="configmap/k-cm secret/k-secret serviceaccount/k-sa pod/k-pod service/k-svc endpoints/k-ep
        node/k-node event/k-event persistentvolume/k-pv persistentvolumeclaim/k-pvc resourcequota/k-quota
        limitrange/k-limits deployment/k-deploy replicaset/k-rs daemonset/k-ds statefulset/k-sts job/k-job
        cronjob/k-cron lease/k-lease endpointslice/k-eps storageclass/k-sc role/k-role rolebinding/k-rb
        clusterrole/k-crole clusterrolebinding/k-crb validatingadmissionpolicy/k-vap
        validatingadmissionpolicybinding/k-vapb"
    for o in $kinds; do
        expect_out "get $o" "${o#*/}" k -n kinds get "$o" -o name
        expect_out "describe $o" "Name: +${o#*/}" k -n kinds describe "$o"
    done
    expect_out "pod table columns" "NAME +READY +STATUS +RESTARTS +AGE" k -n kinds get pod k-pod
    expect_out "service table" "k-svc +ClusterIP" k -n kinds get svc k-svc
    for o in $kinds; do
        expect_out "delete $o" "deleted" k -n kinds delete "$o" --wait=false
    done

    # --- bad input through kubectl ---
    expect_fail "invalid namespace name" "is invalid.*metadata.name" k create ns Bad_Name
    expect_fail "unknown resource type" "doesn't have a resource type" k get frobnicators
    expect_fail "get missing object" "NotFound.*\"nope\" not found" k -n e2e get cm nope
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict, namespace: e2e}\ndatta: {a: b}\n' > "$WORK/strict.yaml"
    expect_fail "unknown field rejected under strict validation" "unknown field" k create -f "$WORK/strict.yaml"
    # kind: List has no fieldValidation support, so every kubectl validates
    # it client-side against the /openapi/v2 definitions.
    printf 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: strict, namespace: e2e}\n  datta: {a: b}\n' > "$WORK/strict-list.yaml"
    expect_fail "unknown field in a List rejected by client-side validation" \
        'unknown field "datta" in io.k8s.api.core.v1.ConfigMap' k apply -f "$WORK/strict-list.yaml"

    # --- namespace deletion ---
    expect_out "delete namespace" "namespace \"e2e\" deleted" k delete ns e2e --timeout=60s
    expect_fail "namespace gone" "NotFound" k get ns e2e
    expect_fail "its contents are gone" "NotFound" k -n e2e get cm c1
    k delete ns kinds --wait=false >/dev/null 2>&1
}
