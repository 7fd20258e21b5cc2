/* resourcequota: ResourceQuota status — kube-controller-manager's resource
 * quota controller. status.hard mirrors spec.hard; status.used is the sum,
 * over the objects of the namespace, of what each charges (lib/resquota.h,
 * the same arithmetic the API's quota admission charges with), for the
 * resources spec.hard names.
 *
 * Pods, Services, ConfigMaps, Secrets, PersistentVolumeClaims and
 * ResourceQuotas are followed through informers (a create or delete, or a
 * pod turning terminal, queues the quotas of its namespace); any other
 * "count/<plural>.<group>" is counted with a list on each sync. Every quota
 * is recounted every 30 s as well, which returns what an admitted create
 * that failed later had charged. A scoped quota (Terminating,
 * NotTerminating, BestEffort, NotBestEffort, PriorityClass) counts only the
 * pods its scopes take in. */
#include "ctrl/housekeeping.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/resquota.h"
#include "lib/util.h"

#define RESYNC_MS 30000

enum { T_PODS, T_SERVICES, T_CONFIGMAPS, T_SECRETS, T_PVCS, T_QUOTAS, T_MAX };
static const char *const tracked[T_MAX] = { "pods", "services", "configmaps", "secrets",
                                             "persistentvolumeclaims", "resourcequotas" };

typedef struct rq_ctrl {
    cn_ctrl_ctx *ctx;
    cn_informer *quotas;
    cn_informer *inf[T_MAX];
    cn_workqueue *q;
    cn_ctrl_workers *w;
} rq_ctrl;

/* Which tracked kind a quota resource name is about; -1: none of them. */
static int kind_of(const char *r)
{
    if (cn_str_has_prefix(r, "count/")) {
        for (int i = 0; i < T_MAX; i++)
            if (!strcmp(r + 6, tracked[i])) return i;
        return -1;
    }
    if (!strcmp(r, "pods") || cn_str_has_prefix(r, "requests.") || cn_str_has_prefix(r, "limits.") ||
        !strcmp(r, "cpu") || !strcmp(r, "memory") || !strcmp(r, "ephemeral-storage"))
        return !strcmp(r, "requests.storage") ? T_PVCS : T_PODS;
    if (cn_str_has_prefix(r, "services")) return T_SERVICES;
    if (strstr(r, ".storageclass.storage.k8s.io/") || !strcmp(r, "persistentvolumeclaims")) return T_PVCS;
    for (int i = 0; i < T_MAX; i++)
        if (!strcmp(r, tracked[i])) return i;
    return -1;
}

static bool queue_quota(void *ud, const json_t *quota)
{
    rq_ctrl *c = ud;
    char *key = cn_ctrl_key(quota);
    cn_workqueue_add(c->q, key);
    free(key);
    return true;
}

static void obj_changed(void *ud, const json_t *obj)
{
    rq_ctrl *c = ud;
    cn_informer_foreach_ns(c->quotas, cn_meta_str(obj, "namespace"), queue_quota, c);
}

static void obj_updated(void *ud, const json_t *old, const json_t *obj)
{
    /* What an update can change in usage: a pod's phase (terminal pods
     * stop counting), a Service's type or ports, a claim's size. */
    if (!strcmp(cn_json_str_at(old, "status.phase"), cn_json_str_at(obj, "status.phase")) &&
        json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec")))
        return;
    obj_changed(ud, obj);
}

static void quota_changed(void *ud, const json_t *obj) { queue_quota(ud, obj); }
static void quota_updated(void *ud, const json_t *old, const json_t *obj)
{
    /* Not on status changes: admission charges status.used ahead of the
     * object's write, and a recount from a cache that lacks the object yet
     * would hand the charge back too early. */
    if (json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec"))) return;
    queue_quota(ud, obj);
}

struct sum {
    const char *group, *plural;
    json_t *total;
    const json_t *quota;
};

static bool add_usage(void *ud, const json_t *obj)
{
    struct sum *s = ud;
    if (!cn_quota_scope_matches(s->quota, s->group, s->plural, obj)) return true;
    json_t *u = cn_quota_usage(s->group, s->plural, obj);
    cn_usage_add(s->total, u);
    json_decref(u);
    return true;
}

/* count/<plural>.<group> of a kind not followed by an informer: list it. */
static int count_listed(rq_ctrl *c, const char *ns, const char *res, json_t *total)
{
    const char *spec = res + 6;
    const char *dot = strchr(spec, '.');
    char *plural = dot ? cn_strndup(spec, (size_t)(dot - spec)) : cn_strdup(spec);
    const char *group = dot ? dot + 1 : "";
    char *gpath = *group ? cn_asprintf("/apis/%s", group) : cn_strdup("/api");
    json_t *g = NULL, *list = NULL;
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_get(c->ctx->client, gpath, &g, &e);
    const char *ver = *group ? cn_json_str_at(g, "preferredVersion.version") : "v1";
    if (rc == 0 && *ver) {
        char *path = cn_client_path(group, ver, ns, plural, NULL, NULL);
        rc = cn_client_get(c->ctx->client, path, &list, &e);
        free(path);
    }
    if (rc == 0) {
        json_object_set_new(total, res, json_integer((json_int_t)json_array_size(json_object_get(list, "items")) * 1000));
    } else if (e.code == 404) {
        rc = 0;   /* not served: nothing of it exists */
    }
    cn_err_clear(&e);
    json_decref(g);
    json_decref(list);
    free(gpath);
    free(plural);
    return rc;
}

static int sync(void *ud, const char *key)
{
    rq_ctrl *c = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *quota = cn_informer_get(c->quotas, ns, name);
    if (!quota) return 0;
    json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    bool need[T_MAX] = { false };
    json_t *total = json_object();
    int rc = 0;
    const char *r;
    json_t *v;
    json_object_foreach(hard, r, v) {
        int k = kind_of(r);
        if (k >= 0) need[k] = true;
        else if (cn_str_has_prefix(r, "count/") && count_listed(c, ns, r, total) < 0) rc = -1;
    }
    for (int k = 0; k < T_MAX; k++) {
        if (!need[k]) continue;
        struct sum s = { "", tracked[k], total, quota };
        cn_informer_foreach_ns(c->inf[k], ns, add_usage, &s);
    }
    json_t *nq = json_deep_copy(quota);
    if (rc == 0 && cn_quota_set_status(nq, total)) {
        char *path = cn_client_path("", "v1", ns, "resourcequotas", name, "status");
        cn_err e = CN_ERR_INIT;
        rc = cn_client_update(c->ctx->client, path, nq, NULL, &e);
        if (rc < 0 && e.code == 404) rc = 0;
        else if (rc < 0 && e.code != 409) cn_warn("resourcequota controller: %s: %s", key, e.message ? e.message : "?");
        cn_err_clear(&e);
        free(path);
    }
    json_decref(nq);
    json_decref(total);
    json_decref(quota);
    if (rc == 0) cn_workqueue_add_after(c->q, key, RESYNC_MS);
    return rc;
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    rq_ctrl *c = cn_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->q = cn_workqueue_new(60000);
    c->quotas = cn_informers_get(ctx->inf, "", "v1", "resourcequotas");
    cn_informer_handler hq = { quota_changed, quota_updated, NULL, c };
    cn_informer_add_handler(c->quotas, &hq);
    for (int k = 0; k < T_MAX; k++) {
        c->inf[k] = cn_informers_get(ctx->inf, "", "v1", tracked[k]);
        cn_informer_handler h = { obj_changed, obj_updated, obj_changed, c };
        if (k != T_QUOTAS) cn_informer_add_handler(c->inf[k], &h);
    }
    c->w = cn_ctrl_workers_start(ctx, "resourcequota", c->q, ctx->cfg->workers, sync, c);
    *state = c;
    return 0;
}

static void stop(void *state)
{
    rq_ctrl *c = state;
    cn_ctrl_workers_stop(c->w);
    cn_workqueue_free(c->q);
    free(c);
}

const cn_controller cn_ctrl_resourcequota = { "resourcequota", start, stop };
