/* statefulset: the StatefulSet controller (see statefulset.h). Pod names
 * are deterministic, so a create repeated because the informer lags is
 * answered 409 and ignored: no expectations are needed here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/statefulset.h"
#include "ctrl/wl.h"
#include "lib/log.h"
#include "lib/util.h"

#define POD_REV_LABEL "controller-revision-hash"
#define REV_HASH_LABEL "controller.kubernetes.io/hash"

/* ---------------------------------------------------------------- pure -- */

int64_t cn_sts_ordinal(const char *set, const char *pod_name)
{
    size_t n = strlen(set);
    if (strncmp(pod_name, set, n) != 0 || pod_name[n] != '-') return -1;
    const char *s = pod_name + n + 1;
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9) return -1;
    int64_t v;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9') return -1;
    if (cn_parse_int64(s, &v) < 0) return -1;
    return v;
}

static const char *pod_rev(const json_t *pod)
{
    const char *r = json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"), "labels"),
                                                      POD_REV_LABEL));
    return r ? r : "";
}

typedef struct slot {
    int64_t ord;
    const json_t *pod;
} slot;

static int cmp_slot(const void *a, const void *b)
{
    int64_t x = ((const slot *)a)->ord, y = ((const slot *)b)->ord;
    return x < y ? -1 : x > y;
}

static bool healthy(const json_t *pod)
{
    return pod && cn_wl_pod_running_ready(pod) && !cn_wl_pod_terminating(pod);
}

static void add_create(cn_sts_plan *p, int64_t ord, const char *rev)
{
    json_array_append_new(p->create, json_pack("{s:I,s:s}", "ordinal", (json_int_t)ord, "revision", rev));
}

void cn_sts_plan_compute(const json_t *sts, const json_t *pods, const char *cur, const char *upd,
                         int64_t now, cn_sts_plan *p)
{
    memset(p, 0, sizeof *p);
    p->create = json_array();
    p->del = json_array();
    p->release = json_array();
    const char *set = cn_meta_str(sts, "name");
    int64_t n = cn_wl_int(sts, "spec.replicas", 1), start = cn_wl_int(sts, "spec.ordinals.start", 0);
    if (n < 0) n = 0;
    bool ordered = strcmp(cn_json_str_at(sts, "spec.podManagementPolicy"), "Parallel") != 0;
    bool rolling = strcmp(cn_json_str_at(sts, "spec.updateStrategy.type"), "OnDelete") != 0;
    int64_t partition = cn_wl_int(sts, "spec.updateStrategy.rollingUpdate.partition", 0);
    int64_t min_ready = cn_wl_int(sts, "spec.minReadySeconds", 0);
    bool del_scaled = !strcmp(cn_json_str_at(sts, "spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Delete");
    if (!*cur) cur = upd;

    size_t np = json_array_size(pods), nc = 0;
    slot *rep = cn_calloc((size_t)(n > 0 ? n : 1), sizeof *rep);   /* index: ordinal - start */
    slot *cond = cn_calloc(np + 1, sizeof *cond);
    for (int64_t i = 0; i < n; i++) rep[i].ord = start + i;
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
        int64_t ord = cn_sts_ordinal(set, cn_meta_str(pod, "name"));
        if (ord < 0) continue;
        /* status counts every pod of the set, as upstream */
        p->replicas++;
        if (cn_wl_pod_running_ready(pod)) p->ready++;
        if (cn_wl_pod_available(pod, min_ready, now)) p->available++;
        else if (cn_wl_pod_running_ready(pod) && min_ready > 0) p->requeue_ms = min_ready * 1000;
        if (!cn_wl_pod_terminating(pod)) {
            if (!strcmp(pod_rev(pod), cur)) p->current++;
            if (!strcmp(pod_rev(pod), upd)) p->updated++;
        }
        if (ord >= start && ord < start + n) rep[ord - start].pod = pod;
        else cond[nc++] = (slot){ ord, pod };
    }
    qsort(cond, nc, sizeof *cond, cmp_slot);

    /* 1. every ordinal in range gets a healthy pod, in order */
    bool blocked = false;
    for (int64_t k = 0; k < n; k++) {
        const json_t *pd = rep[k].pod;
        if (!pd) {
            /* missing ordinals below the partition come back at the
             * current revision; the rest at the update revision */
            add_create(p, rep[k].ord, rolling && k < partition ? cur : upd);
            if (ordered) { blocked = true; break; }
            continue;
        }
        if (cn_wl_pod_terminal(pd) && !cn_wl_pod_terminating(pd)) {
            json_array_append_new(p->del, json_string(cn_meta_str(pd, "name")));
            if (ordered) { blocked = true; break; }
            continue;
        }
        if (ordered && !healthy(pd)) { blocked = true; break; }
    }
    if (!blocked || !ordered) {
        /* 2. condemned pods, highest ordinal first */
        for (size_t k = nc; k-- > 0;) {
            const json_t *pd = cond[k].pod;
            if (cn_wl_pod_terminating(pd)) {
                if (ordered) { blocked = true; break; }
                continue;
            }
            json_array_append_new(p->del, json_string(cn_meta_str(pd, "name")));
            if (del_scaled) json_array_append_new(p->release, json_integer(cond[k].ord));
            if (ordered) { blocked = true; break; }
        }
        if (ordered && !blocked) {
            /* all in range must be healthy before any update */
            for (int64_t k = 0; k < n && !blocked; k++) blocked = !healthy(rep[k].pod);
        }
    }
    if (!blocked && rolling && json_array_size(p->create) == 0 && json_array_size(p->del) == 0) {
        /* 3. rolling update from the highest ordinal down to the partition */
        for (int64_t k = n - 1; k >= partition && k >= 0; k--) {
            const json_t *pd = rep[k].pod;
            if (!pd) break;
            if (strcmp(pod_rev(pd), upd) != 0 && !cn_wl_pod_terminating(pd)) {
                json_array_append_new(p->del, json_string(cn_meta_str(pd, "name")));
                break;
            }
            if (!healthy(pd)) break;
        }
    }
    /* the update is complete when every replica runs it and is ready */
    p->current_revision = cur;
    if (p->updated == n && p->ready == n && p->replicas == n) {
        p->current_revision = upd;
        p->current = p->updated;
    }
    free(rep);
    free(cond);
}

void cn_sts_plan_release(cn_sts_plan *p)
{
    json_decref(p->create);
    json_decref(p->del);
    json_decref(p->release);
    memset(p, 0, sizeof *p);
}

/* ----------------------------------------------------------- controller -- */

typedef struct sts_ctrl {
    cn_client *c;
    cn_informer *sets, *pods, *revs;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_recorder *rec;
} sts_ctrl;

static void enqueue(sts_ctrl *sc, const json_t *obj)
{
    char *key = cn_ctrl_key(obj);
    cn_workqueue_add(sc->q, key);
    free(key);
}

static void set_add(void *ud, const json_t *obj) { enqueue(ud, obj); }
static void set_update(void *ud, const json_t *old, const json_t *obj) { (void)old; enqueue(ud, obj); }

static void owned_event(sts_ctrl *sc, const json_t *obj)
{
    const char *owner = cn_wl_controller_name(obj, "StatefulSet");
    if (!owner) return;
    char *key = cn_asprintf("%s/%s", cn_meta_str(obj, "namespace"), owner);
    cn_workqueue_add(sc->q, key);
    free(key);
}

static void own_add(void *ud, const json_t *obj) { owned_event(ud, obj); }
static void own_update(void *ud, const json_t *old, const json_t *obj) { (void)old; owned_event(ud, obj); }

static bool collect(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

/* The template of revision rev (from its data), or the set's own. Borrowed
 * from revs or sts. */
static const json_t *template_of(const json_t *sts, const json_t *revs, const char *rev)
{
    size_t i;
    json_t *r;
    json_array_foreach(revs, i, r) {
        if (strcmp(cn_meta_str(r, "name"), rev) != 0) continue;
        const json_t *t = json_object_get(json_object_get(json_object_get(r, "data"), "spec"), "template");
        if (json_is_object(t)) return t;
    }
    return json_object_get(json_object_get(sts, "spec"), "template");
}

static char *claim_name(const json_t *tmpl, const char *set, int64_t ord)
{
    return cn_asprintf("%s-%s-%lld", cn_meta_str(tmpl, "name"), set, (long long)ord);
}

static int create_claims(sts_ctrl *sc, const json_t *sts, int64_t ord, cn_err *err)
{
    const char *ns = cn_meta_str(sts, "namespace"), *set = cn_meta_str(sts, "name");
    bool own = !strcmp(cn_json_str_at(sts, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "Delete");
    char *coll = cn_client_path("", "v1", ns, "persistentvolumeclaims", NULL, NULL);
    int ret = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(sts, "spec"), "volumeClaimTemplates"), i, t) {
        char *name = claim_name(t, set, ord);
        json_t *labels = json_deep_copy(json_object_get(json_object_get(t, "metadata"), "labels"));
        if (!labels) labels = json_object();
        json_object_update(labels, json_object_get(json_object_get(json_object_get(sts, "spec"), "selector"),
                                                   "matchLabels"));
        json_t *pvc = json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:O}", "apiVersion", "v1", "kind",
                                "PersistentVolumeClaim", "metadata", "name", name, "namespace", ns,
                                "labels", labels, "spec", json_object_get(t, "spec"));
        json_t *ann = json_object_get(json_object_get(t, "metadata"), "annotations");
        if (ann) json_object_set(json_object_get(pvc, "metadata"), "annotations", ann);
        if (own) {
            /* whenDeleted: Delete — the set owns the claim (garbage collector) */
            json_t *ref = cn_wl_owner_ref(sts, "apps/v1", "StatefulSet");
            json_object_del(ref, "controller");
            json_object_set_new(json_object_get(pvc, "metadata"), "ownerReferences", json_pack("[o]", ref));
        }
        if (cn_client_create(sc->c, coll, pvc, NULL, err) < 0) {
            if (err->code == 409) {
                cn_err_clear(err);
            } else {
                cn_recorder_event(sc->rec, sts, "Warning", "FailedCreate",
                                  "create Claim %s for Pod %s-%lld in StatefulSet %s failed error: %s", name, set,
                                  (long long)ord, set, err->message ? err->message : "");
                ret = -EIO;
            }
        } else {
            cn_recorder_event(sc->rec, sts, "Normal", "SuccessfulCreate",
                              "create Claim %s Pod %s-%lld in StatefulSet %s success", name, set, (long long)ord, set);
        }
        json_decref(pvc);
        free(name);
        if (ret < 0) break;
    }
    free(coll);
    return ret;
}

static int create_pod(sts_ctrl *sc, const json_t *sts, const json_t *revs, int64_t ord, const char *rev,
                      cn_err *err)
{
    const char *set = cn_meta_str(sts, "name");
    int r = create_claims(sc, sts, ord, err);
    if (r < 0) return r;
    json_t *tmpl = json_deep_copy(template_of(sts, revs, rev));
    json_object_del(tmpl, "$patch");
    json_t *pod = cn_wl_from_template(tmpl, sts, "apps/v1", "StatefulSet");
    json_decref(tmpl);
    char *name = cn_asprintf("%s-%lld", set, (long long)ord);
    char ords[24];
    snprintf(ords, sizeof ords, "%lld", (long long)ord);
    json_t *meta = json_object_get(pod, "metadata");
    json_object_set_new(meta, "name", json_string(name));
    json_t *labels = json_object_get(meta, "labels");
    json_object_set_new(labels, "statefulset.kubernetes.io/pod-name", json_string(name));
    json_object_set_new(labels, "apps.kubernetes.io/pod-index", json_string(ords));
    json_object_set_new(labels, POD_REV_LABEL, json_string(rev));
    json_t *spec = json_object_get(pod, "spec");
    json_object_set_new(spec, "hostname", json_string(name));
    const char *svc = cn_json_str_at(sts, "spec.serviceName");
    if (*svc) json_object_set_new(spec, "subdomain", json_string(svc));
    /* claims replace same-named volumes of the template */
    json_t *vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) json_object_set_new(spec, "volumes", vols = json_array());
    size_t i, j;
    json_t *t, *v;
    json_array_foreach(json_object_get(json_object_get(sts, "spec"), "volumeClaimTemplates"), i, t) {
        const char *cname = cn_meta_str(t, "name");
        for (j = json_array_size(vols); j-- > 0;) {
            v = json_array_get(vols, j);
            const char *vn = json_string_value(json_object_get(v, "name"));
            if (vn && !strcmp(vn, cname)) json_array_remove(vols, j);
        }
        char *claim = claim_name(t, set, ord);
        json_array_append_new(vols, json_pack("{s:s,s:{s:s}}", "name", cname, "persistentVolumeClaim",
                                              "claimName", claim));
        free(claim);
    }
    if (json_array_size(vols) == 0) json_object_del(spec, "volumes");
    char *coll = cn_client_path("", "v1", cn_meta_str(sts, "namespace"), "pods", NULL, NULL);
    r = cn_client_create(sc->c, coll, pod, NULL, err);
    if (r == 0)
        cn_recorder_event(sc->rec, sts, "Normal", "SuccessfulCreate", "create Pod %s in StatefulSet %s successful",
                          name, set);
    else if (err->code == 409) {
        cn_err_clear(err);
        r = 0;
    } else
        cn_recorder_event(sc->rec, sts, "Warning", "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s",
                          name, set, err->message ? err->message : "");
    free(coll);
    free(name);
    json_decref(pod);
    return r;
}

static int delete_obj(sts_ctrl *sc, const char *ns, const char *plural, const char *name, cn_err *err)
{
    char *path = cn_client_path("", "v1", ns, plural, name, NULL);
    int r = cn_client_delete(sc->c, path, NULL, NULL, err);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        return 1;
    }
    return r;
}

static int sts_sync(void *ud, const char *key)
{
    sts_ctrl *sc = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *sts = cn_informer_get(sc->sets, ns, name);
    if (!sts) return 0;
    int ret = 0;
    cn_err err = CN_ERR_INIT;
    json_t *pods = json_array(), *revs = json_array();
    cn_sts_plan p;
    memset(&p, 0, sizeof p);
    cn_wl_history h = { 0 };
    const char **in_use = NULL;
    if (cn_wl_pod_terminating(sts)) goto out;
    const char *uid = cn_meta_str(sts, "uid");
    cn_informer_foreach_owned(sc->pods, uid, collect, pods);
    cn_informer_foreach_owned(sc->revs, uid, collect, revs);
    const char *cur = cn_json_str_at(sts, "status.currentRevision");
    size_t np = json_array_size(pods), i;
    in_use = cn_calloc(np + 2, sizeof *in_use);
    json_t *pod;
    json_array_foreach(pods, i, pod) in_use[i] = pod_rev(pod);
    in_use[np] = *cur ? cur : NULL;
    if (cn_wl_history_sync(sc->c, sts, "apps/v1", "StatefulSet", revs, REV_HASH_LABEL, in_use, &h, &err) < 0) {
        ret = -EAGAIN;
        goto out;
    }
    int64_t now = cn_wall_s();
    cn_sts_plan_compute(sts, pods, cur, h.name, now, &p);
    json_t *v;
    json_array_foreach(p.del, i, v) {
        int r = delete_obj(sc, ns, "pods", json_string_value(v), &err);
        if (r < 0) {
            cn_recorder_event(sc->rec, sts, "Warning", "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %s",
                              json_string_value(v), name, err.message ? err.message : "");
            cn_err_clear(&err);
            ret = -EIO;
        } else if (r == 0) {
            cn_recorder_event(sc->rec, sts, "Normal", "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful",
                              json_string_value(v), name);
        }
    }
    /* whenScaled: Delete — the condemned pod's claims go with it */
    json_array_foreach(p.release, i, v) {
        size_t j;
        json_t *t;
        json_array_foreach(json_object_get(json_object_get(sts, "spec"), "volumeClaimTemplates"), j, t) {
            char *claim = claim_name(t, name, json_integer_value(v));
            if (delete_obj(sc, ns, "persistentvolumeclaims", claim, &err) < 0) cn_err_clear(&err);
            free(claim);
        }
    }
    json_array_foreach(p.create, i, v) {
        if (create_pod(sc, sts, revs, json_integer_value(json_object_get(v, "ordinal")),
                       json_string_value(json_object_get(v, "revision")), &err) < 0) {
            cn_err_clear(&err);
            ret = -EIO;
            break;
        }
    }
    /* status */
    json_t *old = json_object_get(sts, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    json_object_set_new(st, "observedGeneration", json_integer(cn_wl_int(sts, "metadata.generation", 1)));
    json_object_set_new(st, "replicas", json_integer(p.replicas));
    json_object_set_new(st, "readyReplicas", json_integer(p.ready));
    json_object_set_new(st, "currentReplicas", json_integer(p.current));
    json_object_set_new(st, "updatedReplicas", json_integer(p.updated));
    json_object_set_new(st, "availableReplicas", json_integer(p.available));
    json_object_set_new(st, "currentRevision", json_string(p.current_revision));
    json_object_set_new(st, "updateRevision", json_string(h.name));
    if (!json_object_get(st, "collisionCount")) json_object_set_new(st, "collisionCount", json_integer(0));
    if (cn_ctrl_put_status(sc->c, "apps", "v1", "statefulsets", sts, st) < 0) ret = -EAGAIN;
    json_decref(st);
    if (ret == 0 && p.requeue_ms > 0) cn_workqueue_add_after(sc->q, key, p.requeue_ms);
out:
    free(in_use);
    cn_wl_history_release(&h);
    cn_sts_plan_release(&p);
    json_decref(pods);
    json_decref(revs);
    json_decref(sts);
    cn_err_clear(&err);
    return ret;
}

static int sts_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    sts_ctrl *sc = cn_calloc(1, sizeof *sc);
    sc->c = ctx->client;
    sc->rec = cn_recorder_new(ctx->client, "statefulset-controller");
    sc->q = cn_workqueue_new(0);
    sc->sets = cn_informers_get(ctx->inf, "apps", "v1", "statefulsets");
    sc->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    sc->revs = cn_informers_get(ctx->inf, "apps", "v1", "controllerrevisions");
    cn_informer_handler sh = { set_add, set_update, NULL, sc };
    cn_informer_handler oh = { own_add, own_update, own_add, sc };
    cn_informer_add_handler(sc->sets, &sh);
    cn_informer_add_handler(sc->pods, &oh);
    cn_informer_add_handler(sc->revs, &oh);
    sc->w = cn_ctrl_workers_start(ctx, "statefulset", sc->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                  sts_sync, sc);
    *state = sc;
    return 0;
}

static void sts_stop(void *state)
{
    sts_ctrl *sc = state;
    if (!sc) return;
    cn_ctrl_workers_stop(sc->w);
    cn_workqueue_free(sc->q);
    cn_recorder_free(sc->rec);
    free(sc);
}

const cn_controller cn_statefulset_controller = { "statefulset", sts_start, sts_stop };
