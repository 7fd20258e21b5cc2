/* cluster: `cairn cluster` — the clusters of the fleet through the bridge
 * API (docs/cli-fleet.md), with the verbs of `az aksarc`: create, show,
 * list, update, scale, upgrade, delete, nodepool add|scale|update|delete|
 * list|show, get-credentials, get-versions, vmsize list. Every change is a
 * create, merge patch or delete of the Cluster object; the bridge
 * controller does the work as a long-running Operation, which the
 * changing verbs follow until it ends unless --no-wait. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "bridge/fleet.h"
#include "bridge/fleetcli.h"
#include "bridge/placement.h"
#include "cli/bridgecli.h"
#include "cli/cli.h"
#include "lib/base64.h"
#include "lib/pki.h"
#include "lib/util.h"

#define FLAG_END { NULL, 0, NULL, NULL, false }

int cn_cluster_from_flags(cn_bargs *a, const char *name, json_t **out)
{
    int64_t cp = 0, nodes = 0;
    if (cn_bargs_int(a, "control-plane-count", 1, 5, 0, &cp) < 0 ||
        cn_bargs_int(a, "node-count", 1, CN_PL_MAX_POOL_NODES, 0, &nodes) < 0)
        return 2;
    json_t *lb = cn_bargs_all(a, "lb-pool"), *labels = cn_bargs_all(a, "labels"), *taints = cn_bargs_all(a, "node-taints");
    cn_fleetcli_cluster_opts o = {
        .name = name, .lnet = cn_bargs_get(a, "lnet"), .version = cn_bargs_get(a, "kubernetes-version"),
        .cp_count = (int)cp, .cp_size = cn_bargs_get(a, "control-plane-vm-size"),
        .cp_ip = cn_bargs_get(a, "control-plane-ip"), .pool = cn_bargs_get(a, "nodepool-name"),
        .node_count = (int)nodes, .node_size = cn_bargs_get(a, "node-vm-size"),
        .pod_cidr = cn_bargs_get(a, "pod-cidr"), .service_cidr = cn_bargs_get(a, "service-cidr"), .lb_pools = lb, .labels = labels, .taints = taints,
    };
    cn_err err = CN_ERR_INIT;
    *out = cn_fleetcli_cluster(&o, &err);
    json_decref(lb);
    json_decref(labels);
    json_decref(taints);
    int rc = 0;
    if (!*out) rc = cn_bargs_usage_error(a, "%s", err.message);
    cn_err_clear(&err);
    return rc;
}

/* ---- helpers ---- */

static int64_t timeout_of(cn_bargs *a)
{
    int64_t t = CN_BCLI_DEFAULT_TIMEOUT;
    if (cn_bargs_int(a, "timeout", 1, 7 * 86400, CN_BCLI_DEFAULT_TIMEOUT, &t) < 0) return -1;
    return t;
}

static json_t *get_cluster(cn_client *c, const char *name, cn_err *err)
{
    _cleanup_free_ char *path = cn_bcli_path("clusters", name);
    json_t *obj = NULL;
    if (cn_client_get(c, path, &obj, err) < 0) return NULL;
    return obj;
}

/* After a change: follow it unless --no-wait, then say what happened. */
static int follow(cn_bargs *a, cn_client *c, const char *name, const json_t *written, bool deleting,
                  const char *done)
{
    int64_t timeout = timeout_of(a);
    if (timeout < 0) return 2;
    if (cn_bargs_has(a, "no-wait")) {
        printf("cluster.fleet.cairn.io/%s %s (the bridge carries on; follow it with `cairn cluster show %s`)\n",
               name, deleting ? "deleting" : "accepted", name);
        return 0;
    }
    int64_t gen = json_integer_value(json_object_get(json_object_get(written, "metadata"), "generation"));
    int rc = cn_bcli_wait_cluster(c, name, gen, deleting, timeout);
    if (rc) return rc;
    if (deleting) {
        printf("cluster.fleet.cairn.io/%s deleted\n", name);
        return 0;
    }
    cn_err err = CN_ERR_INIT;
    json_t *now = get_cluster(c, name, &err);
    if (!now) {
        rc = cn_bcli_fail(&err);
    } else if (cn_bargs_format(a)) {
        cn_bcli_print(now, cn_bargs_format(a));
    } else {
        const char *ep = cn_json_str_at(now, "status.controlPlaneEndpoint");
        printf("cluster.fleet.cairn.io/%s %s: %s%s%s\n", name, done, cn_json_str_at(now, "status.message"),
               *ep ? ", endpoint " : "", ep);
    }
    json_decref(now);
    cn_err_clear(&err);
    return rc;
}

typedef int (*mutate_fn)(cn_bargs *a, json_t *spec, cn_err *err);

/* Read the cluster, change a copy of its spec, send it as a merge patch
 * and follow the operation. */
static int change(cn_bargs *a, const char *name, mutate_fn fn, const char *done)
{
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    /* Every cleanup variable is set before the first goto. */
    _cleanup_free_ char *path = cn_bcli_path("clusters", name);
    json_t *cur = get_cluster(c, name, &err), *spec = NULL, *patch = NULL, *written = NULL;
    int rc = 1;
    if (!cur) goto out;
    spec = json_deep_copy(json_object_get(cur, "spec"));
    if (!spec) spec = json_object();
    int r = fn(a, spec, &err);
    if (r < 0 && !err.code) {
        rc = 2;   /* a bad flag value: the usage is printed */
        goto out;
    }
    if (r == -EINVAL && err.code == 400) {
        rc = cn_bargs_usage_error(a, "%s", err.message);
        goto out;
    }
    if (r < 0) goto out;
    if (cn_json_equal(spec, json_object_get(cur, "spec"))) {
        printf("cluster.fleet.cairn.io/%s unchanged\n", name);
        rc = 0;
        goto out;
    }
    patch = json_pack("{s:O}", "spec", spec);
    if (cn_client_patch(c, path, CN_PATCH_MERGE, patch, &written, &err) < 0) goto out;
    rc = follow(a, c, name, written, false, done);
out:
    if (rc == 1 && err.message) cn_bcli_fail(&err);
    cn_err_clear(&err);
    json_decref(cur);
    json_decref(spec);
    json_decref(patch);
    json_decref(written);
    return rc;
}

/* The node pool a verb means: --nodepool/--name, or the only one. */
static json_t *pick_pool(cn_bargs *a, json_t *spec, const char *flag, cn_err *err)
{
    json_t *pools = json_object_get(spec, "nodePools");
    const char *want = cn_bargs_get(a, flag);
    if (!want) {
        if (json_array_size(pools) == 1) return json_array_get(pools, 0);
        cn_err_bad_request(err, "--%s: the cluster has %zu node pools, say which", flag, json_array_size(pools));
        return NULL;
    }
    json_t *p = cn_fleetcli_find_pool(pools, want);
    if (!p) cn_err_set(err, 404, "NotFound", "the cluster has no node pool \"%s\"", want);
    return p;
}

/* --labels and --node-taints replace the pool's (an empty value clears). */
static int set_pool_meta(cn_bargs *a, json_t *pool, cn_err *err)
{
    if (cn_bargs_has(a, "labels")) {
        json_t *raw = cn_bargs_all(a, "labels"), *labels = NULL;
        int r = cn_fleetcli_labels(raw, "--labels", &labels, err);
        json_decref(raw);
        if (r < 0) return r;
        json_object_set_new(pool, "labels", labels);
    }
    if (cn_bargs_has(a, "node-taints")) {
        json_t *raw = cn_bargs_all(a, "node-taints"), *taints = NULL;
        int r = cn_fleetcli_taints(raw, "--node-taints", &taints, err);
        json_decref(raw);
        if (r < 0) return r;
        json_object_set_new(pool, "taints", taints);
    }
    return 0;
}

/* ---- create, show, list ---- */

static int cmd_create(cn_bargs *a)
{
    const char *name = cn_bargs_pos(a, 0);
    json_t *obj = NULL, *written = NULL;
    int rc = cn_cluster_from_flags(a, name, &obj);
    if (rc) return rc;
    if (timeout_of(a) < 0) {
        json_decref(obj);
        return 2;
    }
    cn_client *c = cn_bcli_client(a);
    if (!c) {
        json_decref(obj);
        return 1;
    }
    cn_err err = CN_ERR_INIT;
    bool validate = cn_bargs_has(a, "validate");
    _cleanup_free_ char *coll = cn_bcli_path("clusters", NULL);
    _cleanup_free_ char *path = validate ? cn_asprintf("%s?dryRun=All", coll) : cn_strdup(coll);
    if (cn_client_create(c, path, obj, &written, &err) < 0) {
        rc = cn_bcli_fail(&err);
    } else if (validate) {
        if (cn_bargs_format(a)) cn_bcli_print(written, cn_bargs_format(a));
        else printf("cluster.fleet.cairn.io/%s is valid: the bridge would accept it (nothing was created)\n", name);
    } else {
        rc = follow(a, c, name, written, false, "created");
    }
    cn_err_clear(&err);
    json_decref(obj);
    json_decref(written);
    return rc;
}

static const char *str_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

static char *num_at(const json_t *o, const char *dotted)
{
    const json_t *v = o;
    _cleanup_free_ char *copy = cn_strdup(dotted);
    for (char *save = NULL, *k = strtok_r(copy, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    if (json_is_integer(v)) return cn_asprintf("%lld", (long long)json_integer_value(v));
    if (json_is_string(v)) return cn_strdup(json_string_value(v));
    return cn_strdup("-");
}

static json_t *cluster_row(const json_t *cl)
{
    _cleanup_free_ char *cp = num_at(cl, "spec.controlPlane.count");
    _cleanup_free_ char *ready = num_at(cl, "status.nodes.ready");
    _cleanup_free_ char *total = num_at(cl, "status.nodes.total");
    _cleanup_free_ char *nodes = cn_asprintf("%s/%s", ready, total);
    char age[24];
    cn_bcli_age(cn_json_str_at(cl, "metadata.creationTimestamp"), age);
    return json_pack("[s,s,s,s,s,s,s,s,s]", cn_meta_str(cl, "name"),
                     str_or(cn_json_str_at(cl, "status.kubernetesVersion"),
                            str_or(cn_json_str_at(cl, "spec.kubernetesVersion"), "-")),
                     cp, nodes, str_or(cn_json_str_at(cl, "status.provisioningState"), "Pending"),
                     str_or(cn_json_str_at(cl, "status.health"), "-"),
                     str_or(cn_json_str_at(cl, "status.controlPlaneEndpoint"), "-"),
                     str_or(cn_json_str_at(cl, "spec.logicalNetwork"), "-"), age);
}

/* Rows of NAME VERSION CONTROL-PLANE NODES STATE HEALTH ENDPOINT LNET AGE. */
json_t *cn_cluster_table(const json_t *clusters)
{
    json_t *rows = json_pack("[[s,s,s,s,s,s,s,s,s]]", "NAME", "VERSION", "CONTROL-PLANE", "NODES", "STATE",
                             "HEALTH", "ENDPOINT", "LNET", "AGE");
    size_t i;
    const json_t *cl;
    json_array_foreach(clusters, i, cl) json_array_append_new(rows, cluster_row(cl));
    return rows;
}

static int cmd_list(cn_bargs *a)
{
    return cn_bcli_list_cmd(a, "clusters", cn_cluster_table, "no clusters");
}

static json_t *pool_rows(const json_t *cl, const char *only)
{
    json_t *rows = json_pack("[[s,s,s,s,s,s,s]]", "NAME", "COUNT", "READY", "VMSIZE", "VERSION", "LABELS", "TAINTS");
    const json_t *status = json_object_get(json_object_get(cl, "status"), "nodePools");
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(json_object_get(cl, "spec"), "nodePools"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (!name || (only && strcmp(only, name))) continue;
        const json_t *st = cn_fleetcli_find_pool(status, name);
        cn_buf labels;
        cn_buf_init(&labels);
        const char *k;
        const json_t *v;
        json_object_foreach(json_object_get(p, "labels"), k, v)
            cn_buf_addf(&labels, "%s%s=%s", labels.len ? "," : "", k, json_string_value(v));
        cn_buf taints;
        cn_buf_init(&taints);
        size_t j;
        json_array_foreach(json_object_get(p, "taints"), j, v)
            cn_buf_addf(&taints, "%s%s", j ? "," : "", json_string_value(v));
        _cleanup_free_ char *count = num_at(p, "count");
        _cleanup_free_ char *ready = num_at(st, "ready");
        json_array_append_new(rows, json_pack("[s,s,s,s,s,s,s]", name, count, ready,
                                              str_or(json_string_value(json_object_get(p, "vmSize")),
                                                     str_or(json_string_value(json_object_get(st, "vmSize")), "-")),
                                              str_or(json_string_value(json_object_get(st, "kubernetesVersion")), "-"),
                                              labels.len ? labels.data : "-", taints.len ? taints.data : "-"));
        cn_buf_release(&labels);
        cn_buf_release(&taints);
    }
    return rows;
}

static void show_cluster(const json_t *cl)
{
    const char *name = cn_meta_str(cl, "name");
    _cleanup_free_ char *cp = num_at(cl, "spec.controlPlane.count");
    _cleanup_free_ char *ready = num_at(cl, "status.nodes.ready");
    _cleanup_free_ char *total = num_at(cl, "status.nodes.total");
    const char *lines[][2] = {
        { "Name", name },
        { "Logical network", cn_json_str_at(cl, "spec.logicalNetwork") },
        { "Kubernetes version", str_or(cn_json_str_at(cl, "spec.kubernetesVersion"), "-") },
        { "Running version", str_or(cn_json_str_at(cl, "status.kubernetesVersion"), "-") },
        { "State", str_or(cn_json_str_at(cl, "status.provisioningState"), "Pending") },
        { "Message", str_or(cn_json_str_at(cl, "status.message"), "-") },
        { "Operation", str_or(cn_json_str_at(cl, "status.operation"), "-") },
        { "Health", str_or(cn_json_str_at(cl, "status.health"), "-") },
        { "Last heartbeat", str_or(cn_json_str_at(cl, "status.lastHeartbeatTime"), "-") },
        { "Endpoint", str_or(cn_json_str_at(cl, "status.controlPlaneEndpoint"),
                             str_or(cn_json_str_at(cl, "spec.controlPlane.endpoint"), "-")) },
        { "Pod CIDR", str_or(cn_json_str_at(cl, "spec.networking.podCidr"), "-") },
        { "Service CIDR", str_or(cn_json_str_at(cl, "spec.networking.serviceCidr"), "-") },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) printf("%-20s %s\n", lines[i][0], lines[i][1]);
    printf("%-20s %s x %s\n", "Control plane", cp, str_or(cn_json_str_at(cl, "spec.controlPlane.vmSize"), "-"));
    printf("%-20s %s/%s Ready\n", "Nodes", ready, total);
    size_t i;
    const json_t *lb;
    printf("%-20s", "Load balancer pools");
    const json_t *lbs = json_object_get(json_object_get(json_object_get(cl, "spec"), "networking"), "loadBalancerPools");
    json_array_foreach(lbs, i, lb)
        printf("%s%s-%s", i ? ", " : " ", json_string_value(json_object_get(lb, "start")),
               json_string_value(json_object_get(lb, "end")));
    printf("%s\n\nNode pools:\n", json_array_size(lbs) ? "" : " -");
    cn_bcli_print_rows(pool_rows(cl, NULL));
    const json_t *cps = json_object_get(json_object_get(cl, "status"), "controlPlaneStatus");
    if (json_array_size(cps)) {
        json_t *rows = json_pack("[[s,s,s,s]]", "NAME", "HOST", "PHASE", "READY");
        const json_t *e;
        json_array_foreach(cps, i, e)
            json_array_append_new(rows, json_pack("[s,s,s,s]", str_or(cn_json_str_at(e, "name"), "-"),
                                                  str_or(cn_json_str_at(e, "host"), "-"),
                                                  str_or(cn_json_str_at(e, "phase"), "-"),
                                                  json_is_true(json_object_get(e, "ready")) ? "true" : "false"));
        printf("\nControl-plane nodes:\n");
        cn_bcli_print_rows(rows);
    }
}

static int cmd_show(cn_bargs *a)
{
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    json_t *cl = get_cluster(c, cn_bargs_pos(a, 0), &err);
    int rc = 0;
    if (!cl) rc = cn_bcli_fail(&err);
    else if (cn_bargs_format(a)) cn_bcli_print(cl, cn_bargs_format(a));
    else show_cluster(cl);
    json_decref(cl);
    cn_err_clear(&err);
    return rc;
}

/* ---- changes ---- */

static int mut_update(cn_bargs *a, json_t *spec, cn_err *err)
{
    json_t *pool = pick_pool(a, spec, "nodepool", err);
    return pool ? set_pool_meta(a, pool, err) : -EINVAL;
}

static int mut_scale(cn_bargs *a, json_t *spec, cn_err *err)
{
    int64_t n;
    if (cn_bargs_int(a, "node-count", 1, CN_PL_MAX_POOL_NODES, 0, &n) < 0) return -EINVAL;
    json_t *pool = pick_pool(a, spec, cn_bargs_has(a, "cluster") ? "name" : "nodepool", err);
    if (!pool) return -EINVAL;
    json_object_set_new(pool, "count", json_integer(n));
    return 0;
}

static int mut_upgrade(cn_bargs *a, json_t *spec, cn_err *err)
{
    json_object_set_new(spec, "kubernetesVersion", json_string(cn_bargs_get(a, "kubernetes-version")));
    return 0;
}

static int mut_pool_add(cn_bargs *a, json_t *spec, cn_err *err)
{
    const char *name = cn_bargs_get(a, "name");
    json_t *pools = json_object_get(spec, "nodePools");
    int64_t n;
    if (cn_bargs_int(a, "node-count", 1, CN_PL_MAX_POOL_NODES, 1, &n) < 0) return -EINVAL;
    if (cn_fleetcli_find_pool(pools, name))
        return cn_err_set(err, 409, "AlreadyExists", "the cluster already has a node pool \"%s\"", name);
    json_t *pool = json_pack("{s:s, s:I}", "name", name, "count", (json_int_t)n);
    if (cn_bargs_get(a, "node-vm-size")) json_object_set_new(pool, "vmSize", json_string(cn_bargs_get(a, "node-vm-size")));
    if (cn_bargs_get(a, "os-type")) json_object_set_new(pool, "osType", json_string(cn_bargs_get(a, "os-type")));
    int r = set_pool_meta(a, pool, err);
    if (r < 0) {
        json_decref(pool);
        return r;
    }
    if (!json_is_array(pools)) {
        pools = json_array();
        json_object_set_new(spec, "nodePools", pools);
    }
    json_array_append_new(pools, pool);
    return 0;
}

static int mut_pool_update(cn_bargs *a, json_t *spec, cn_err *err)
{
    json_t *pool = pick_pool(a, spec, "name", err);
    return pool ? set_pool_meta(a, pool, err) : -EINVAL;
}

static int mut_pool_delete(cn_bargs *a, json_t *spec, cn_err *err)
{
    json_t *pools = json_object_get(spec, "nodePools");
    const char *name = cn_bargs_get(a, "name");
    size_t i;
    json_t *p;
    json_array_foreach(pools, i, p) {
        if (strcmp(cn_json_str_at(p, "name"), name)) continue;
        json_array_remove(pools, i);
        return 0;
    }
    return cn_err_set(err, 404, "NotFound", "the cluster has no node pool \"%s\"", name);
}

static int cmd_update(cn_bargs *a)
{
    if (!cn_bargs_has(a, "labels") && !cn_bargs_has(a, "node-taints"))
        return cn_bargs_usage_error(a, "nothing to update: give --labels and/or --node-taints");
    return change(a, cn_bargs_pos(a, 0), mut_update, "updated");
}

static int cmd_scale(cn_bargs *a)
{
    if (!cn_bargs_has(a, "node-count")) return cn_bargs_usage_error(a, "--node-count is required");
    return change(a, cn_bargs_pos(a, 0), mut_scale, "scaled");
}

static int cmd_upgrade(cn_bargs *a)
{
    if (!cn_bargs_has(a, "kubernetes-version")) return cn_bargs_usage_error(a, "--kubernetes-version is required");
    return change(a, cn_bargs_pos(a, 0), mut_upgrade, "upgraded");
}

static int cmd_delete(cn_bargs *a)
{
    const char *name = cn_bargs_pos(a, 0);
    if (timeout_of(a) < 0) return 2;
    _cleanup_free_ char *what = cn_asprintf("cluster \"%s\"", name);
    if (!cn_bcli_consent(a, what, ", its node VMs and their disks")) return 1;
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *path = cn_bcli_path("clusters", name);
    json_t *resp = NULL;
    int rc = 0;
    if (cn_client_delete(c, path, NULL, &resp, &err) < 0) rc = cn_bcli_fail(&err);
    else rc = follow(a, c, name, resp, true, "deleted");
    json_decref(resp);
    cn_err_clear(&err);
    return rc;
}

/* ---- node pools ---- */

static int need_pool_flags(cn_bargs *a)
{
    if (!cn_bargs_get(a, "cluster")) return cn_bargs_usage_error(a, "--cluster is required");
    if (!cn_bargs_get(a, "name")) return cn_bargs_usage_error(a, "--name is required");
    return 0;
}

static int cmd_pool_add(cn_bargs *a)
{
    int rc = need_pool_flags(a);
    return rc ? rc : change(a, cn_bargs_get(a, "cluster"), mut_pool_add, "node pool added");
}

static int cmd_pool_scale(cn_bargs *a)
{
    int rc = need_pool_flags(a);
    if (!rc && !cn_bargs_has(a, "node-count")) rc = cn_bargs_usage_error(a, "--node-count is required");
    return rc ? rc : change(a, cn_bargs_get(a, "cluster"), mut_scale, "node pool scaled");
}

static int cmd_pool_update(cn_bargs *a)
{
    int rc = need_pool_flags(a);
    if (!rc && !cn_bargs_has(a, "labels") && !cn_bargs_has(a, "node-taints"))
        rc = cn_bargs_usage_error(a, "nothing to update: give --labels and/or --node-taints");
    return rc ? rc : change(a, cn_bargs_get(a, "cluster"), mut_pool_update, "node pool updated");
}

static int cmd_pool_delete(cn_bargs *a)
{
    int rc = need_pool_flags(a);
    if (rc) return rc;
    _cleanup_free_ char *what = cn_asprintf("node pool \"%s\" of cluster \"%s\"", cn_bargs_get(a, "name"),
                                            cn_bargs_get(a, "cluster"));
    if (!cn_bcli_consent(a, what, " (its nodes are drained first)")) return 1;
    return change(a, cn_bargs_get(a, "cluster"), mut_pool_delete, "node pool deleted");
}

static int cmd_pool_list_show(cn_bargs *a)
{
    const char *cluster = cn_bargs_get(a, "cluster"), *only = cn_bargs_get(a, "name");
    bool show = only != NULL;   /* `nodepool show` has --name, `list` has not */
    if (!cluster) return cn_bargs_usage_error(a, "--cluster is required");
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    json_t *cl = get_cluster(c, cluster, &err);
    int rc = 0;
    if (!cl) {
        rc = cn_bcli_fail(&err);
        goto out;
    }
    json_t *pools = json_object_get(json_object_get(cl, "spec"), "nodePools");
    if (show && !cn_fleetcli_find_pool(pools, only)) {
        fprintf(stderr, "error: cluster \"%s\" has no node pool \"%s\"\n", cluster, only);
        rc = 1;
    } else if (cn_bargs_format(a)) {
        /* The spec of the pool(s) with their status entries beside. */
        json_t *out = json_array();
        size_t i;
        json_t *p;
        json_array_foreach(pools, i, p) {
            const char *n = cn_json_str_at(p, "name");
            if (only && strcmp(n, only)) continue;
            json_t *st = cn_fleetcli_find_pool(json_object_get(json_object_get(cl, "status"), "nodePools"), n);
            json_array_append_new(out, json_pack("{s:O, s:O*}", "spec", p, "status", st));
        }
        json_t *v = show ? json_incref(json_array_get(out, 0)) : cn_bcli_list_object(out);
        cn_bcli_print(v, cn_bargs_format(a));
        json_decref(v);
        json_decref(out);
    } else {
        cn_bcli_print_rows(pool_rows(cl, only));
    }
out:
    json_decref(cl);
    cn_err_clear(&err);
    return rc;
}

/* ---- credentials, versions, sizes ---- */

static int cmd_credentials(cn_bargs *a)
{
    const char *name = cn_bargs_pos(a, 0);
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *sname = cn_asprintf("%s-kubeconfig", name);
    _cleanup_free_ char *path = cn_client_path("", "v1", "fleet-system", "secrets", sname, NULL);
    _cleanup_free_ char *def = cn_asprintf("%s.kubeconfig", name);
    const char *file = str_or(cn_bargs_get(a, "file"), def);
    json_t *sec = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 1;
    if (cn_client_get(c, path, &sec, &err) < 0) {
        if (err.code == 404)
            cn_err_set(&err, 404, "NotFound", "cluster \"%s\" has no admin kubeconfig yet (Secret fleet-system/%s): "
                       "is it created? see `cairn cluster show %s`", name, sname, name);
        goto out;
    }
    const char *b64 = cn_json_str_at(sec, "data.value");
    if (!*b64 || cn_base64_decode(b64, strlen(b64), (size_t)1 << 20, &text, &len) < 0) {
        cn_err_set(&err, 500, "InternalError", "Secret fleet-system/%s holds no kubeconfig in data.value", sname);
        goto out;
    }
    if (!strcmp(file, "-")) {
        fwrite(text, 1, len, stdout);
        rc = 0;
        goto out;
    }
    if (cn_write_file_atomic(file, text, len, 0600, &err) < 0) goto out;
    fprintf(stderr, "wrote the admin kubeconfig of cluster \"%s\" to %s (kubectl --kubeconfig %s get nodes)\n",
            name, file, file);
    rc = 0;
out:
    if (rc) cn_bcli_fail(&err);
    cn_err_clear(&err);
    json_decref(sec);
    free(text);
    return rc;
}

static int cmd_versions(cn_bargs *a)
{
    size_t n;
    const char *const *v = cn_fleet_versions(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:b}", "version", v[i], "default",
                                             !strcmp(v[i], cn_fleet_default_version())));
    if (cn_bargs_format(a)) {
        json_t *o = json_pack("{s:o}", "values", arr);
        cn_bcli_print(o, cn_bargs_format(a));
        json_decref(o);
        return 0;
    }
    json_t *rows = json_pack("[[s,s]]", "VERSION", "DEFAULT");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
        json_array_append_new(rows, json_pack("[s,s]", cn_json_str_at(e, "version"),
                                              json_is_true(json_object_get(e, "default")) ? "yes" : ""));
    json_decref(arr);
    cn_bcli_print_rows(rows);
    return 0;
}

static int cmd_vmsizes(cn_bargs *a)
{
    size_t n;
    const cn_vm_size *s = cn_vm_sizes(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:i, s:I, s:i, s:b}", "name", s[i].name, "vcpu", s[i].vcpu,
                                             "memoryMiB", (json_int_t)s[i].mem_mib, "gpus", s[i].gpus,
                                             "controlPlane", s[i].control_plane));
    if (cn_bargs_format(a)) {
        json_t *o = json_pack("{s:o}", "values", arr);
        cn_bcli_print(o, cn_bargs_format(a));
        json_decref(o);
        return 0;
    }
    json_t *rows = json_pack("[[s,s,s,s,s]]", "NAME", "VCPU", "MEMORY", "GPUS", "CONTROL-PLANE");
    for (size_t i = 0; i < n; i++) {
        char vcpu[16], mem[24], gpus[16];
        snprintf(vcpu, sizeof vcpu, "%d", s[i].vcpu);
        snprintf(mem, sizeof mem, "%lldGi", (long long)(s[i].mem_mib / 1024));
        snprintf(gpus, sizeof gpus, "%d", s[i].gpus);
        json_array_append_new(rows, json_pack("[s,s,s,s,s]", s[i].name, vcpu, mem, gpus,
                                              s[i].control_plane ? "yes" : "no"));
    }
    json_decref(arr);
    cn_bcli_print_rows(rows);
    return 0;
}

/* ---- the command table ---- */

static const cn_bflag create_flags[] = {
    CLUSTER_SPEC_FLAGS,
    { "validate", 0, NULL, "only check: the bridge admits it as a dry run (nothing is created)", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag output_flags[] = { CN_BFLAG_OUTPUT, FLAG_END };
static const cn_bflag update_flags[] = {
    { "nodepool", 0, "P", "the node pool (default: the only one)", false },
    { "labels", 0, "K=V[,K=V]", "replace the pool's node labels (\"\" clears them)", true },
    { "node-taints", 0, "K[=V]:EFFECT[,...]", "replace the pool's node taints (\"\" clears them)", true },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag scale_flags[] = {
    { "nodepool", 0, "P", "the node pool (default: the only one)", false },
    { "node-count", 0, "N", "its new node count, 1-64 (required); scaling down drains first", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag upgrade_flags[] = {
    { "kubernetes-version", 0, "V", "the version to go to, one minor at a time (required)", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag delete_flags[] = {
    { "yes", 'y', NULL, "do not ask for confirmation", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, FLAG_END,
};
static const cn_bflag credentials_flags[] = {
    { "file", 'f', "PATH", "where to write it, mode 0600 (default ./NAME.kubeconfig; - for stdout)", false },
    FLAG_END,
};
static const cn_bflag pool_add_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    { "name", 0, "P", "the new pool, ^[a-z][a-z0-9]{2,11}$ (required)", false },
    { "node-count", 0, "N", "nodes, 1-64 (default 1)", false },
    { "node-vm-size", 0, "SIZE", "VM size of its nodes (default Standard_A4_v2)", false },
    { "os-type", 0, "OS", "Linux (default); Windows is refused", false },
    { "labels", 0, "K=V[,K=V]", "node labels", true },
    { "node-taints", 0, "K[=V]:EFFECT[,...]", "node taints", true },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag pool_scale_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    { "name", 0, "P", "the pool (required)", false },
    { "node-count", 0, "N", "its new node count, 1-64 (required)", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag pool_update_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    { "name", 0, "P", "the pool (required)", false },
    { "labels", 0, "K=V[,K=V]", "replace its node labels (\"\" clears them)", true },
    { "node-taints", 0, "K[=V]:EFFECT[,...]", "replace its node taints (\"\" clears them)", true },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag pool_delete_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    { "name", 0, "P", "the pool (required)", false },
    { "yes", 'y', NULL, "do not ask for confirmation", false },
    CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag pool_list_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag pool_show_flags[] = {
    { "cluster", 0, "C", "the cluster (required)", false },
    { "name", 0, "P", "the pool (required)", false },
    CN_BFLAG_OUTPUT, FLAG_END,
};

static int cmd_pool_show(cn_bargs *a)
{
    return need_pool_flags(a) ?: cmd_pool_list_show(a);
}

static const cn_bverb pool_verbs[] = {
    { "add", NULL, 0, 0, "add a node pool to a cluster", pool_add_flags, cmd_pool_add, NULL, NULL },
    { "scale", NULL, 0, 0, "change a node pool's node count", pool_scale_flags, cmd_pool_scale, NULL, NULL },
    { "update", NULL, 0, 0, "replace a node pool's labels or taints", pool_update_flags, cmd_pool_update, NULL, NULL },
    { "delete", NULL, 0, 0, "delete a node pool (drained first)", pool_delete_flags, cmd_pool_delete, NULL, NULL },
    { "list", NULL, 0, 0, "list a cluster's node pools", pool_list_flags, cmd_pool_list_show, NULL, NULL },
    { "show", NULL, 0, 0, "show one node pool", pool_show_flags, cmd_pool_show, NULL, NULL },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const cn_bverb vmsize_verbs[] = {
    { "list", NULL, 0, 0, "the VM sizes node VMs may have (vCPU, memory, GPUs)", output_flags, cmd_vmsizes, NULL, NULL },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const char create_more[] =
    "Waits until every node is Ready, printing progress on stderr; --no-wait returns\n"
    "once the bridge accepted the cluster. Example:\n"
    "  cairn cluster create c1 --lnet lnet1 --control-plane-count 3 --node-count 3 \\\n"
    "      --lb-pool 10.99.0.60-10.99.0.69 --labels team=web\n";

static const cn_bverb verbs[] = {
    { "create", "NAME", 1, 1, "create a cluster (waits until every node is Ready)", create_flags, cmd_create, NULL,
      create_more },
    { "show", "NAME", 1, 1, "show a cluster: state, nodes, pools, endpoint", output_flags, cmd_show, NULL, NULL },
    { "list", NULL, 0, 0, "list the clusters", output_flags, cmd_list, NULL, NULL },
    { "update", "NAME", 1, 1, "replace a node pool's labels or taints", update_flags, cmd_update, NULL, NULL },
    { "scale", "NAME", 1, 1, "change a node pool's node count", scale_flags, cmd_scale, NULL, NULL },
    { "upgrade", "NAME", 1, 1, "upgrade Kubernetes (rolling, one surge node at a time)", upgrade_flags, cmd_upgrade,
      NULL, NULL },
    { "delete", "NAME", 1, 1, "delete a cluster and its node VMs", delete_flags, cmd_delete, NULL, NULL },
    { "nodepool", NULL, 0, 0, "node pools: add, scale, update, delete, list, show", NULL, NULL, pool_verbs, NULL },
    { "get-credentials", "NAME", 1, 1, "write the cluster's admin kubeconfig", credentials_flags, cmd_credentials,
      NULL, NULL },
    { "get-versions", NULL, 0, 0, "the Kubernetes versions clusters may run", output_flags, cmd_versions, NULL, NULL },
    { "vmsize", NULL, 0, 0, "VM sizes: list", NULL, NULL, vmsize_verbs, NULL },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

int cn_cmd_cluster(int argc, char **argv)
{
    return cn_bcli_main("cairn cluster", "The clusters of the fleet, through the bridge API (as `az aksarc`).",
                        verbs, argc, argv);
}
