/* defaults: upstream's defaulting (SetDefaults_* in k8s.io/kubernetes
 * pkg/apis/<group>/v1) for the fields users see in `kubectl get -o yaml`,
 * applied in place before admission and validation. Only absent members are
 * filled; present values, even wrong ones, are left for validation. Two
 * things upstream does in other places are done here too because they must
 * happen before validation: Secret stringData is folded into data (the v1
 * conversion), and a Job without manualSelector gets its generated
 * controller-uid selector and labels (the Job strategy). */
#include "api/validate.h"
#include "api/validate-internal.h"
#include "lib/base64.h"

#include <stdlib.h>
#include <string.h>

static json_t *obj_member(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!o || json_is_null(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return json_is_object(o) ? o : NULL;
}

static void set_str(json_t *o, const char *key, const char *val)
{
    if (json_is_object(o) && !json_object_get(o, key)) json_object_set_new(o, key, json_string(val));
}

static void set_int(json_t *o, const char *key, json_int_t val)
{
    if (json_is_object(o) && !json_object_get(o, key)) json_object_set_new(o, key, json_integer(val));
}

static void set_bool(json_t *o, const char *key, bool val)
{
    if (json_is_object(o) && !json_object_get(o, key)) json_object_set_new(o, key, json_boolean(val));
}

/* --- pods --- */

static const char *pull_policy(const char *image)
{
    if (!image) return "IfNotPresent";
    if (strchr(image, '@')) return "IfNotPresent";
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(image, ':');
    if (!colon || (slash && colon < slash)) return "Always";
    return !strcmp(colon + 1, "latest") ? "Always" : "IfNotPresent";
}

static void probe(json_t *p)
{
    if (!json_is_object(p)) return;
    set_int(p, "timeoutSeconds", 1);
    set_int(p, "periodSeconds", 10);
    set_int(p, "successThreshold", 1);
    set_int(p, "failureThreshold", 3);
    json_t *hg = json_object_get(p, "httpGet");
    if (json_is_object(hg)) set_str(hg, "scheme", "HTTP");
}

static void containers(json_t *list)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        if (!json_is_object(c)) continue;
        set_str(c, "imagePullPolicy", pull_policy(json_string_value(json_object_get(c, "image"))));
        set_str(c, "terminationMessagePath", "/dev/termination-log");
        set_str(c, "terminationMessagePolicy", "File");
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(c, "ports"), j, p) set_str(p, "protocol", "TCP");
        probe(json_object_get(c, "livenessProbe"));
        probe(json_object_get(c, "readinessProbe"));
        probe(json_object_get(c, "startupProbe"));
    }
}

void cn_defaults_pod_spec(json_t *spec)
{
    if (!json_is_object(spec)) return;
    set_str(spec, "restartPolicy", "Always");
    set_str(spec, "dnsPolicy", "ClusterFirst");
    set_str(spec, "schedulerName", "default-scheduler");
    set_int(spec, "terminationGracePeriodSeconds", 30);
    set_bool(spec, "enableServiceLinks", true);
    if (!json_object_get(spec, "securityContext")) json_object_set_new(spec, "securityContext", json_object());
    containers(json_object_get(spec, "containers"));
    containers(json_object_get(spec, "initContainers"));
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(spec, "volumes"), i, vol) {
        static const char *const moded[] = { "secret", "configMap", "projected", "downwardAPI", NULL };
        for (size_t k = 0; moded[k]; k++) set_int(json_object_get(vol, moded[k]), "defaultMode", 0644);
    }
}

static void pod_template(json_t *spec)
{
    json_t *tmpl = json_object_get(spec, "template");
    if (json_is_object(tmpl)) cn_defaults_pod_spec(json_object_get(tmpl, "spec"));
}

/* --- core --- */

static void service(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_str(spec, "type", "ClusterIP");
    set_str(spec, "sessionAffinity", "None");
    const char *type = json_string_value(json_object_get(spec, "type"));
    if (type && strcmp(type, "ExternalName")) set_str(spec, "internalTrafficPolicy", "Cluster");
    if (type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer")))
        set_str(spec, "externalTrafficPolicy", "Cluster");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        if (!json_is_object(p)) continue;
        set_str(p, "protocol", "TCP");
        json_t *port = json_object_get(p, "port");
        if (!json_object_get(p, "targetPort") && port) json_object_set(p, "targetPort", port);
    }
}

static void secret(json_t *obj)
{
    set_str(obj, "type", "Opaque");
    json_t *sd = json_object_get(obj, "stringData");
    if (!sd) return;
    if (json_is_object(sd) && json_object_size(sd)) {
        json_t *data = obj_member(obj, "data");
        const char *k;
        json_t *v;
        json_object_foreach(sd, k, v) {
            if (!data || !json_is_string(v)) continue;
            cn_buf b;
            cn_buf_init(&b);
            cn_base64_encode(&b, json_string_value(v), json_string_length(v));
            json_object_set_new(data, k, json_string(b.data ? b.data : ""));
            cn_buf_release(&b);
        }
    }
    json_object_del(obj, "stringData");
}

static void pvc(json_t *obj)
{
    set_str(json_object_get(obj, "spec"), "volumeMode", "Filesystem");
}

static void pv(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    set_str(spec, "persistentVolumeReclaimPolicy", "Retain");
    set_str(spec, "volumeMode", "Filesystem");
}

static void namespace_(json_t *obj)
{
    json_t *spec = obj_member(obj, "spec");
    if (spec && !json_object_get(spec, "finalizers"))
        json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
}

/* --- apps / batch --- */

static void deployment(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_int(spec, "replicas", 1);
    set_int(spec, "revisionHistoryLimit", 10);
    set_int(spec, "progressDeadlineSeconds", 600);
    json_t *st = obj_member(spec, "strategy");
    set_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && !strcmp(type, "RollingUpdate")) {
        json_t *ru = obj_member(st, "rollingUpdate");
        set_str(ru, "maxUnavailable", "25%");
        set_str(ru, "maxSurge", "25%");
    }
    pod_template(spec);
}

static void replicaset(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    set_int(spec, "replicas", 1);
    pod_template(spec);
}

static void statefulset(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_int(spec, "replicas", 1);
    set_str(spec, "podManagementPolicy", "OrderedReady");
    set_int(spec, "revisionHistoryLimit", 10);
    json_t *us = obj_member(spec, "updateStrategy");
    set_str(us, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(us, "type"));
    if (type && !strcmp(type, "RollingUpdate")) set_int(obj_member(us, "rollingUpdate"), "partition", 0);
    json_t *rp = obj_member(spec, "persistentVolumeClaimRetentionPolicy");
    set_str(rp, "whenDeleted", "Retain");
    set_str(rp, "whenScaled", "Retain");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(spec, "volumeClaimTemplates"), i, t)
        set_str(json_object_get(t, "spec"), "volumeMode", "Filesystem");
    pod_template(spec);
}

static void daemonset(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_int(spec, "revisionHistoryLimit", 10);
    json_t *us = obj_member(spec, "updateStrategy");
    set_str(us, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(us, "type"));
    if (type && !strcmp(type, "RollingUpdate")) {
        json_t *ru = obj_member(us, "rollingUpdate");
        set_int(ru, "maxUnavailable", 1);
        set_int(ru, "maxSurge", 0);
    }
    pod_template(spec);
}

/* The Job strategy's generated selector: the controller-uid label. */
static void job_selector(json_t *obj, json_t *spec)
{
    if (json_object_get(spec, "selector") || json_is_true(json_object_get(spec, "manualSelector"))) return;
    json_t *meta = json_object_get(obj, "metadata");
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!uid || !*uid) return;
    json_object_set_new(spec, "selector", json_pack("{s:{s:s}}", "matchLabels",
                                                    "batch.kubernetes.io/controller-uid", uid));
    json_t *tmpl = obj_member(spec, "template");
    json_t *tm = tmpl ? obj_member(tmpl, "metadata") : NULL;
    json_t *labels = tm ? obj_member(tm, "labels") : NULL;
    if (!labels) return;
    json_object_set_new(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
    json_object_set_new(labels, "controller-uid", json_string(uid));
    if (name) {
        json_object_set_new(labels, "batch.kubernetes.io/job-name", json_string(name));
        json_object_set_new(labels, "job-name", json_string(name));
    }
}

static void job(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    if (!json_object_get(spec, "completions") && !json_object_get(spec, "parallelism"))
        json_object_set_new(spec, "completions", json_integer(1));
    set_int(spec, "parallelism", 1);
    set_int(spec, "backoffLimit", 6);
    set_str(spec, "completionMode", "NonIndexed");
    set_bool(spec, "suspend", false);
    set_str(spec, "podReplacementPolicy", "TerminatingOrFailed");
    job_selector(obj, spec);
    pod_template(spec);
}

static void cronjob(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_str(spec, "concurrencyPolicy", "Allow");
    set_bool(spec, "suspend", false);
    set_int(spec, "successfulJobsHistoryLimit", 3);
    set_int(spec, "failedJobsHistoryLimit", 1);
    pod_template(json_object_get(json_object_get(spec, "jobTemplate"), "spec"));
}

static void storageclass(json_t *obj)
{
    set_str(obj, "reclaimPolicy", "Delete");
    set_str(obj, "volumeBindingMode", "Immediate");
}

static void crd(json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    json_t *conv = obj_member(spec, "conversion");
    set_str(conv, "strategy", "None");
    json_t *names = json_object_get(spec, "names");
    const char *kind = json_string_value(json_object_get(names, "kind"));
    if (kind && *kind) {
        char *lower = cn_strdup(kind);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        set_str(names, "singular", lower);
        free(lower);
        char *lk = cn_asprintf("%sList", kind);
        set_str(names, "listKind", lk);
        free(lk);
    }
}

static void priorityclass(json_t *obj)
{
    if (!json_object_get(obj, "preemptionPolicy"))
        json_object_set_new(obj, "preemptionPolicy", json_string("PreemptLowerPriority"));
}

void cn_defaults_apply(const cn_resource *res, json_t *obj)
{
    if (!res || !json_is_object(obj)) return;
    if (res->flags & CN_RES_CUSTOM) {
        cn_v_custom_defaults(res, obj);
        return;
    }
    static const struct { const char *group, *kind; void (*fn)(json_t *); } t[] = {
        { "", "Pod", NULL }, { "", "PodTemplate", NULL },
        { "", "ReplicationController", replicaset },
        { "", "Service", service }, { "", "Secret", secret },
        { "", "PersistentVolumeClaim", pvc }, { "", "PersistentVolume", pv },
        { "", "Namespace", namespace_ },
        { "apps", "Deployment", deployment }, { "apps", "ReplicaSet", replicaset },
        { "apps", "StatefulSet", statefulset }, { "apps", "DaemonSet", daemonset },
        { "batch", "Job", job }, { "batch", "CronJob", cronjob },
        { "storage.k8s.io", "StorageClass", storageclass },
        { "scheduling.k8s.io", "PriorityClass", priorityclass },
        { "apiextensions.k8s.io", "CustomResourceDefinition", crd },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(t[i].group, res->group) || strcmp(t[i].kind, res->kind)) continue;
        if (t[i].fn) t[i].fn(obj);
        else if (!strcmp(res->kind, "Pod")) cn_defaults_pod_spec(json_object_get(obj, "spec"));
        else pod_template(obj);
        return;
    }
}
