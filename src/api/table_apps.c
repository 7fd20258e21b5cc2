/* table_apps: printers for the named API groups (apps, batch,
 * coordination, storage, rbac, admissionregistration, discovery,
 * networking, policy, scheduling, node), following upstream's
 * internalversion printers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/table.h"
#include "api/table-internal.h"
#include "lib/util.h"

#define NAME(o) cn_tbl_str(o, "metadata.name")
#define COL_CONTAINERS CN_COL_WIDE("Containers", "string", "Names of each container in the template.")
#define COL_IMAGES CN_COL_WIDE("Images", "string", "Images referenced by each container in the template.")
#define COL_SELECTOR(d) CN_COL_WIDE("Selector", "string", d)

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool nonempty(const char *s)
{
    return s && *s;
}

/* --- apps --- */

static const cn_tbl_col deployment_cols[] = {
    CN_COL_NAME,
    CN_COL("Ready", "string", "Number of the pod with ready state"),
    CN_COL("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that "
                                   "have the desired template spec."),
    CN_COL("Available", "string", "Total number of available pods (ready for at least minReadySeconds) "
                                  "targeted by this deployment."),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    COL_SELECTOR("Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
                 "the ones affected by this deployment."),
};

static void deployment_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_asprintf("%lld/%lld", (long long)cn_tbl_int(obj, "status.readyReplicas", 0),
                                      (long long)cn_tbl_int(obj, "spec.replicas", 1)));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.updatedReplicas", 0));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.availableReplicas", 0));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_selector(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col replicaset_cols[] = {
    CN_COL_NAME,
    CN_COL("Desired", "integer", "Replicas is the number of desired replicas."),
    CN_COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    CN_COL("Ready", "integer", "The number of ready replicas for this replica set."),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    COL_SELECTOR("Selector is a label query over pods that should match the replica count."),
};

static void replicaset_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, cn_tbl_int(obj, "spec.replicas", 1));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.replicas", 0));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.readyReplicas", 0));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_format_selector(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col daemonset_cols[] = {
    CN_COL_NAME,
    CN_COL("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
    CN_COL("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are "
                                 "supposed to run the daemon pod."),
    CN_COL("Ready", "integer", "The number of nodes that should be running the daemon pod and have one "
                               "or more of the daemon pod running and ready."),
    CN_COL("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    CN_COL("Available", "integer", "The number of nodes that should be running the daemon pod and have "
                                   "one or more of the daemon pod running and available."),
    CN_COL("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    COL_SELECTOR("A label query over pods that are managed by the daemon set."),
};

static void daemonset_cells(const json_t *obj, int64_t now, json_t *cells)
{
    static const char *const counts[] = {
        "status.desiredNumberScheduled", "status.currentNumberScheduled", "status.numberReady",
        "status.updatedNumberScheduled", "status.numberAvailable",
    };
    cn_tbl_adds(cells, NAME(obj));
    for (size_t i = 0; i < 5; i++) cn_tbl_addi(cells, cn_tbl_int(obj, counts[i], 0));
    cn_tbl_add_own(cells, cn_tbl_labels(cn_tbl_get(obj, "spec.template.spec.nodeSelector")));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_format_selector(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col statefulset_cols[] = {
    CN_COL_NAME,
    CN_COL("Ready", "string", "Number of the pod with ready state"),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
};

static void statefulset_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_asprintf("%lld/%lld", (long long)cn_tbl_int(obj, "status.readyReplicas", 0),
                                      (long long)cn_tbl_int(obj, "spec.replicas", 1)));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
}

static const cn_tbl_col controllerrevision_cols[] = {
    CN_COL_NAME,
    CN_COL("Controller", "string", "Controller of the object"),
    CN_COL("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    CN_COL_AGE,
};

static void controllerrevision_cells(const json_t *obj, int64_t now, json_t *cells)
{
    char *ctrl = NULL;
    size_t i;
    json_t *o;
    json_array_foreach(cn_tbl_get(obj, "metadata.ownerReferences"), i, o) {
        if (!cn_tbl_bool(o, "controller", false)) continue;
        const char *av = cn_tbl_str(o, "apiVersion"), *kind = cn_tbl_str(o, "kind");
        const char *slash = av ? strchr(av, '/') : NULL;
        char *gk = slash ? cn_asprintf("%s.%.*s", kind ? kind : "", (int)(slash - av), av)
                         : cn_strdup(kind ? kind : "");
        for (char *p = gk; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        const char *n = cn_tbl_str(o, "name");
        ctrl = *gk ? cn_asprintf("%s/%s", gk, n ? n : "") : cn_strdup(n ? n : "");
        free(gk);
        break;
    }
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, ctrl ? ctrl : cn_strdup("<none>"));
    cn_tbl_addi(cells, cn_tbl_int(obj, "revision", 0));
    cn_tbl_add_age(cells, obj, now);
}

/* --- batch --- */

static bool has_condition(const json_t *obj, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(cn_tbl_get(obj, "status.conditions"), i, c) {
        if (streq(cn_tbl_str(c, "type"), type)) return streq(cn_tbl_str(c, "status"), "True");
    }
    return false;
}

static const cn_tbl_col job_cols[] = {
    CN_COL_NAME,
    CN_COL("Status", "string", "Status of the job."),
    CN_COL("Completions", "string", "The number of pods which reached phase Succeeded."),
    CN_COL("Duration", "string", "Time required to complete the job."),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    COL_SELECTOR("A label query over pods that should match the pod count."),
};

static void job_cells(const json_t *obj, int64_t now, json_t *cells)
{
    long long succeeded = (long long)cn_tbl_int(obj, "status.succeeded", 0);
    const json_t *comp = cn_tbl_get(obj, "spec.completions");
    char *completions;
    if (json_is_integer(comp)) {
        completions = cn_asprintf("%lld/%lld", succeeded, (long long)json_integer_value(comp));
    } else {
        long long par = (long long)cn_tbl_int(obj, "spec.parallelism", 0);
        completions = par > 1 ? cn_asprintf("%lld/1 of %lld", succeeded, par) : cn_asprintf("%lld/1", succeeded);
    }
    char dur[32] = "";
    int64_t start, end;
    if (cn_time_parse(cn_tbl_str(obj, "status.startTime"), &start) == 0) {
        if (cn_time_parse(cn_tbl_str(obj, "status.completionTime"), &end) < 0) end = now;
        cn_human_duration(end - start, dur);
    }
    const char *status = "Running";
    if (has_condition(obj, "Complete")) status = "Complete";
    else if (has_condition(obj, "Failed")) status = "Failed";
    else if (cn_tbl_deleting(obj)) status = "Terminating";
    else if (has_condition(obj, "Suspended")) status = "Suspended";
    else if (has_condition(obj, "FailureTarget")) status = "FailureTarget";
    else if (has_condition(obj, "SuccessCriteriaMet")) status = "SuccessCriteriaMet";

    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, status);
    cn_tbl_add_own(cells, completions);
    cn_tbl_adds(cells, dur);
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_format_selector(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col cronjob_cols[] = {
    CN_COL_NAME,
    CN_COL("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    CN_COL("Timezone", "string", "The time zone name for the given schedule."),
    CN_COL("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
    CN_COL("Active", "integer", "A list of pointers to currently running jobs."),
    CN_COL("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
    CN_COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    COL_SELECTOR("A label query over pods that should match the pod count."),
};

static void cronjob_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const char *tz = cn_tbl_str(obj, "spec.timeZone");
    const json_t *suspend = cn_tbl_get(obj, "spec.suspend");
    const char *last = cn_tbl_str(obj, "status.lastScheduleTime");
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.schedule"));
    cn_tbl_adds(cells, tz ? tz : "<none>");
    cn_tbl_adds(cells, json_is_boolean(suspend) ? (json_is_true(suspend) ? "True" : "False") : "<unset>");
    cn_tbl_addi(cells, (int64_t)cn_tbl_count(obj, "status.active"));
    if (last) cn_tbl_add_since(cells, last, now);
    else cn_tbl_adds(cells, "<none>");
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.jobTemplate.spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_format_selector(cn_tbl_get(obj, "spec.jobTemplate.spec.selector")));
}

/* --- coordination, storage --- */

static const cn_tbl_col lease_cols[] = {
    CN_COL_NAME,
    CN_COL("Holder", "string", "holderIdentity contains the identity of the holder of a current lease."),
    CN_COL_AGE,
};

static void lease_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.holderIdentity"));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col storageclass_cols[] = {
    CN_COL_NAME,
    CN_COL("Provisioner", "string", "provisioner indicates the type of the provisioner."),
    CN_COL("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
                                      "PersistentVolumes of this storage class."),
    CN_COL("VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be "
                                          "provisioned and bound."),
    CN_COL("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow "
                                             "volume expand."),
    CN_COL_AGE,
};

static void storageclass_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *ann = cn_tbl_get(obj, "metadata.annotations");
    bool dflt = streq(json_string_value(json_object_get(ann, "storageclass.kubernetes.io/is-default-class")), "true") ||
                streq(json_string_value(json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class")), "true");
    const char *n = NAME(obj), *rp = cn_tbl_str(obj, "reclaimPolicy"), *bm = cn_tbl_str(obj, "volumeBindingMode");
    cn_tbl_add_own(cells, cn_asprintf("%s%s", n ? n : "", dflt ? " (default)" : ""));
    cn_tbl_adds(cells, cn_tbl_str(obj, "provisioner"));
    cn_tbl_adds(cells, rp ? rp : "Delete");
    cn_tbl_adds(cells, bm ? bm : "Immediate");
    cn_tbl_addb(cells, cn_tbl_bool(obj, "allowVolumeExpansion", false));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col csidriver_cols[] = {
    CN_COL_NAME,
    CN_COL("AttachRequired", "boolean", "attachRequired indicates this CSI volume driver requires an attach operation."),
    CN_COL("PodInfoOnMount", "boolean", "podInfoOnMount indicates this CSI volume driver requires additional "
                                        "pod information during mount operations."),
    CN_COL("StorageCapacity", "boolean", "storageCapacity indicates that the CSI volume driver wants pod "
                                         "scheduling to consider the storage capacity."),
    CN_COL("TokenRequests", "string", "tokenRequests indicates the CSI driver needs pods' service account tokens."),
    CN_COL("RequiresRepublish", "boolean", "requiresRepublish indicates the CSI driver wants NodePublishVolume "
                                           "being periodically called."),
    CN_COL("Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
    CN_COL_AGE,
};

static void csidriver_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addb(cells, cn_tbl_bool(obj, "spec.attachRequired", true));
    cn_tbl_addb(cells, cn_tbl_bool(obj, "spec.podInfoOnMount", false));
    cn_tbl_addb(cells, cn_tbl_bool(obj, "spec.storageCapacity", false));
    const json_t *tr = cn_tbl_get(obj, "spec.tokenRequests");
    if (json_is_array(tr)) {
        cn_buf b;
        cn_buf_init(&b);
        size_t i;
        json_t *t;
        json_array_foreach(tr, i, t) {
            const char *a = cn_tbl_str(t, "audience");
            cn_buf_addf(&b, "%s%s", i ? "," : "", a ? a : "");
        }
        cn_tbl_add_own(cells, cn_buf_detach(&b, NULL));
    } else {
        cn_tbl_adds(cells, "<unset>");
    }
    cn_tbl_addb(cells, cn_tbl_bool(obj, "spec.requiresRepublish", false));
    cn_buf m;
    cn_buf_init(&m);
    size_t i;
    json_t *v;
    json_array_foreach(cn_tbl_get(obj, "spec.volumeLifecycleModes"), i, v)
        cn_buf_addf(&m, "%s%s", i ? "," : "", json_string_value(v) ? json_string_value(v) : "");
    if (m.len == 0) cn_buf_adds(&m, "<none>");
    cn_tbl_add_own(cells, cn_buf_detach(&m, NULL));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col csinode_cols[] = {
    CN_COL_NAME,
    CN_COL("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
    CN_COL_AGE,
};

static void csinode_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, (int64_t)cn_tbl_count(obj, "spec.drivers"));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col volumeattachment_cols[] = {
    CN_COL_NAME,
    { "Attacher", "string", "name", "attacher indicates the name of the volume driver that MUST handle this request.", 0 },
    CN_COL("PV", "string", "persistentVolumeName represents the name of the persistent volume to attach."),
    CN_COL("Node", "string", "nodeName represents the node that the volume should be attached to."),
    CN_COL("Attached", "boolean", "attached indicates the volume is successfully attached."),
    CN_COL_AGE,
};

static void volumeattachment_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.attacher"));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.source.persistentVolumeName"));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.nodeName"));
    cn_tbl_addb(cells, cn_tbl_bool(obj, "status.attached", false));
    cn_tbl_add_age(cells, obj, now);
}

/* --- rbac --- */

static const cn_tbl_col binding_cols[] = {
    CN_COL_NAME,
    CN_COL("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in "
                             "the global namespace."),
    CN_COL_AGE,
    CN_COL_WIDE("Users", "string", "Users in the roleBinding"),
    CN_COL_WIDE("Groups", "string", "Groups in the roleBinding"),
    CN_COL_WIDE("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
};

static const cn_tbl_col clusterbinding_cols[] = {
    CN_COL_NAME,
    CN_COL("Role", "string", "RoleRef can only reference a ClusterRole in the global namespace."),
    CN_COL_AGE,
    CN_COL_WIDE("Users", "string", "Users in the clusterRoleBinding"),
    CN_COL_WIDE("Groups", "string", "Groups in the clusterRoleBinding"),
    CN_COL_WIDE("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
};

static void binding_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const char *rk = cn_tbl_str(obj, "roleRef.kind"), *rn = cn_tbl_str(obj, "roleRef.name");
    cn_buf users, groups, sas;
    cn_buf_init(&users);
    cn_buf_init(&groups);
    cn_buf_init(&sas);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(obj, "subjects"), i, s) {
        const char *kind = cn_tbl_str(s, "kind"), *n = cn_tbl_str(s, "name"), *ns = cn_tbl_str(s, "namespace");
        if (!n) n = "";
        if (streq(kind, "ServiceAccount"))
            cn_buf_addf(&sas, "%s%s/%s", sas.len ? ", " : "", ns ? ns : "", n);
        else if (streq(kind, "User"))
            cn_buf_addf(&users, "%s%s", users.len ? ", " : "", n);
        else if (streq(kind, "Group"))
            cn_buf_addf(&groups, "%s%s", groups.len ? ", " : "", n);
    }
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_asprintf("%s/%s", rk ? rk : "", rn ? rn : ""));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_own(cells, cn_buf_detach(&users, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&groups, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&sas, NULL));
}

/* --- admissionregistration --- */

static const cn_tbl_col webhook_cols[] = {
    CN_COL_NAME,
    CN_COL("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
    CN_COL_AGE,
};

static void webhook_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, (int64_t)cn_tbl_count(obj, "webhooks"));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col vap_cols[] = {
    CN_COL_NAME,
    CN_COL("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"),
    CN_COL("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
    CN_COL_AGE,
};

static void vap_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *pk = cn_tbl_get(obj, "spec.paramKind");
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, (int64_t)cn_tbl_count(obj, "spec.validations"));
    if (json_is_object(pk)) {
        const char *av = cn_tbl_str(pk, "apiVersion"), *k = cn_tbl_str(pk, "kind");
        cn_tbl_add_own(cells, cn_asprintf("%s/%s", av ? av : "", k ? k : ""));
    } else {
        cn_tbl_adds(cells, "<unset>");
    }
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col vapb_cols[] = {
    CN_COL_NAME,
    CN_COL("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
    CN_COL("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param"),
    CN_COL_AGE,
};

static void vapb_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *pr = cn_tbl_get(obj, "spec.paramRef");
    char *param = NULL;
    if (json_is_object(pr)) {
        const char *n = cn_tbl_str(pr, "name"), *ns = cn_tbl_str(pr, "namespace");
        if (nonempty(n))
            param = nonempty(ns) ? cn_asprintf("%s/%s", ns, n) : cn_asprintf("*/%s", n);
        else if (json_is_object(json_object_get(pr, "selector")))
            param = cn_tbl_selector(json_object_get(pr, "selector"));
    }
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.policyName"));
    cn_tbl_add_own(cells, param ? param : cn_strdup("<unset>"));
    cn_tbl_add_age(cells, obj, now);
}

/* --- discovery, networking --- */

static void list_more(cn_buf *b, size_t count, size_t max, const char *empty)
{
    if (count > max) cn_buf_addf(b, " + %zu more...", count - max);
    else if (b->len == 0) cn_buf_adds(b, empty);
}

static const cn_tbl_col endpointslice_cols[] = {
    CN_COL_NAME,
    CN_COL("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice."),
    CN_COL("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
    CN_COL("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    CN_COL_AGE,
};

static void endpointslice_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const size_t max = 3;
    size_t count = 0, i, j;
    json_t *p, *e, *a;
    cn_buf ports, eps;
    cn_buf_init(&ports);
    cn_buf_init(&eps);
    json_array_foreach(json_object_get(obj, "ports"), i, p) {
        if (count++ >= max) continue;
        const json_t *port = json_object_get(p, "port");
        const char *n = cn_tbl_str(p, "name");
        if (ports.len) cn_buf_addc(&ports, ',');
        if (json_is_integer(port)) cn_buf_addf(&ports, "%lld", (long long)json_integer_value(port));
        else if (n) cn_buf_adds(&ports, n);
        else cn_buf_addc(&ports, '*');
    }
    list_more(&ports, count, max, "<unset>");
    count = 0;
    json_array_foreach(json_object_get(obj, "endpoints"), i, e) {
        json_array_foreach(json_object_get(e, "addresses"), j, a) {
            if (count++ >= max) continue;
            if (eps.len) cn_buf_addc(&eps, ',');
            cn_buf_adds(&eps, json_string_value(a) ? json_string_value(a) : "");
        }
    }
    list_more(&eps, count, max, "<unset>");
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "addressType"));
    cn_tbl_add_own(cells, cn_buf_detach(&ports, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&eps, NULL));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col ingress_cols[] = {
    CN_COL_NAME,
    CN_COL("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
    CN_COL("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    CN_COL("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    CN_COL("Ports", "string", "Ports of TLS configurations that open"),
    CN_COL_AGE,
};

static void ingress_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const char *cls = cn_tbl_str(obj, "spec.ingressClassName");
    const json_t *rules = cn_tbl_get(obj, "spec.rules");
    const size_t max = 3;
    size_t listed = 0, i;
    bool more = false;
    json_t *r;
    cn_buf hosts;
    cn_buf_init(&hosts);
    json_array_foreach(rules, i, r) {
        if (listed == max) more = true;
        const char *h = cn_tbl_str(r, "host");
        if (!more && nonempty(h)) {
            if (hosts.len) cn_buf_addc(&hosts, ',');
            cn_buf_adds(&hosts, h);
            listed++;
        }
    }
    if (listed == 0) cn_buf_adds(&hosts, "*");
    else if (more) cn_buf_addf(&hosts, " + %zu more...", json_array_size(rules) - max);
    /* sorted unique LB addresses (the server prints wide: no truncation) */
    const json_t *ing = cn_tbl_get(obj, "status.loadBalancer.ingress");
    size_t n = json_array_size(ing), nv = 0;
    const char **v = cn_calloc(n ? n : 1, sizeof(*v));
    json_array_foreach(ing, i, r) {
        const char *s = cn_tbl_str(r, "ip");
        if (!nonempty(s)) s = cn_tbl_str(r, "hostname");
        if (!nonempty(s)) continue;
        bool dup = false;
        for (size_t j = 0; j < nv && !dup; j++) dup = strcmp(v[j], s) == 0;
        if (!dup) v[nv++] = s;
    }
    cn_tbl_sort_strs(v, nv);
    cn_buf addr;
    cn_buf_init(&addr);
    for (i = 0; i < nv; i++) cn_buf_addf(&addr, "%s%s", i ? "," : "", v[i]);
    free(v);
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cls ? cls : "<none>");
    cn_tbl_add_own(cells, cn_buf_detach(&hosts, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&addr, NULL));
    cn_tbl_adds(cells, cn_tbl_count(obj, "spec.tls") ? "80, 443" : "80");
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col ingressclass_cols[] = {
    CN_COL_NAME,
    CN_COL("Controller", "string", "Controller that is responsible for handling this class"),
    CN_COL("Parameters", "string", "A reference to a resource with additional parameters"),
    CN_COL_AGE,
};

static void ingressclass_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *p = cn_tbl_get(obj, "spec.parameters");
    char *params;
    if (json_is_object(p)) {
        const char *k = cn_tbl_str(p, "kind"), *g = cn_tbl_str(p, "apiGroup"), *n = cn_tbl_str(p, "name");
        params = g ? cn_asprintf("%s.%s/%s", k ? k : "", g, n ? n : "") : cn_asprintf("%s/%s", k ? k : "", n ? n : "");
    } else {
        params = cn_strdup("<none>");
    }
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.controller"));
    cn_tbl_add_own(cells, params);
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col netpol_cols[] = {
    CN_COL_NAME,
    CN_COL("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies."),
    CN_COL_AGE,
};

static void netpol_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_tbl_format_selector(cn_tbl_get(obj, "spec.podSelector")));
    cn_tbl_add_age(cells, obj, now);
}

/* --- policy, scheduling, node --- */

static const cn_tbl_col pdb_cols[] = {
    CN_COL_NAME,
    CN_COL("Min Available", "string", "The minimum number of pods that must be available."),
    CN_COL("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    CN_COL("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    CN_COL_AGE,
};

static char *int_or_string(const json_t *v)
{
    if (json_is_integer(v)) return cn_asprintf("%lld", (long long)json_integer_value(v));
    if (json_is_string(v)) return cn_strdup(json_string_value(v));
    return cn_strdup("N/A");
}

static void pdb_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, int_or_string(cn_tbl_get(obj, "spec.minAvailable")));
    cn_tbl_add_own(cells, int_or_string(cn_tbl_get(obj, "spec.maxUnavailable")));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.disruptionsAllowed", 0));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col priorityclass_cols[] = {
    CN_COL_NAME,
    CN_COL("Value", "integer", "value represents the integer value of this priority class."),
    CN_COL("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be "
                                        "considered as the default priority for pods that do not have any "
                                        "priority class."),
    CN_COL_AGE,
    CN_COL("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority."),
};

static void priorityclass_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, cn_tbl_int(obj, "value", 0));
    cn_tbl_addb(cells, cn_tbl_bool(obj, "globalDefault", false));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_adds(cells, cn_tbl_str(obj, "preemptionPolicy"));
}

static const cn_tbl_col runtimeclass_cols[] = {
    CN_COL_NAME,
    CN_COL("Handler", "string", "handler specifies the underlying runtime and configuration that the CRI "
                                "implementation will use to handle pods of this class."),
    CN_COL_AGE,
};

static void runtimeclass_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "handler"));
    cn_tbl_add_age(cells, obj, now);
}

const cn_tbl_kind cn_tbl_apps_kinds[] = {
    CN_TBL_KIND("apps", "deployments", deployment_cols, deployment_cells),
    CN_TBL_KIND("apps", "replicasets", replicaset_cols, replicaset_cells),
    CN_TBL_KIND("apps", "daemonsets", daemonset_cols, daemonset_cells),
    CN_TBL_KIND("apps", "statefulsets", statefulset_cols, statefulset_cells),
    CN_TBL_KIND("apps", "controllerrevisions", controllerrevision_cols, controllerrevision_cells),
    CN_TBL_KIND("batch", "jobs", job_cols, job_cells),
    CN_TBL_KIND("batch", "cronjobs", cronjob_cols, cronjob_cells),
    CN_TBL_KIND("coordination.k8s.io", "leases", lease_cols, lease_cells),
    CN_TBL_KIND("storage.k8s.io", "storageclasses", storageclass_cols, storageclass_cells),
    CN_TBL_KIND("storage.k8s.io", "csidrivers", csidriver_cols, csidriver_cells),
    CN_TBL_KIND("storage.k8s.io", "csinodes", csinode_cols, csinode_cells),
    CN_TBL_KIND("storage.k8s.io", "volumeattachments", volumeattachment_cols, volumeattachment_cells),
    CN_TBL_KIND("rbac.authorization.k8s.io", "rolebindings", binding_cols, binding_cells),
    CN_TBL_KIND("rbac.authorization.k8s.io", "clusterrolebindings", clusterbinding_cols, binding_cells),
    CN_TBL_KIND("admissionregistration.k8s.io", "mutatingwebhookconfigurations", webhook_cols, webhook_cells),
    CN_TBL_KIND("admissionregistration.k8s.io", "validatingwebhookconfigurations", webhook_cols, webhook_cells),
    CN_TBL_KIND("admissionregistration.k8s.io", "validatingadmissionpolicies", vap_cols, vap_cells),
    CN_TBL_KIND("admissionregistration.k8s.io", "validatingadmissionpolicybindings", vapb_cols, vapb_cells),
    CN_TBL_KIND("discovery.k8s.io", "endpointslices", endpointslice_cols, endpointslice_cells),
    CN_TBL_KIND("networking.k8s.io", "ingresses", ingress_cols, ingress_cells),
    CN_TBL_KIND("networking.k8s.io", "ingressclasses", ingressclass_cols, ingressclass_cells),
    CN_TBL_KIND("networking.k8s.io", "networkpolicies", netpol_cols, netpol_cells),
    CN_TBL_KIND("policy", "poddisruptionbudgets", pdb_cols, pdb_cells),
    CN_TBL_KIND("scheduling.k8s.io", "priorityclasses", priorityclass_cols, priorityclass_cells),
    CN_TBL_KIND("node.k8s.io", "runtimeclasses", runtimeclass_cols, runtimeclass_cells),
};
const size_t cn_tbl_apps_nkinds = sizeof(cn_tbl_apps_kinds) / sizeof(cn_tbl_apps_kinds[0]);
