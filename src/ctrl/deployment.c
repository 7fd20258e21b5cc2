/* deployment: the Deployment controller (upstream's pkg/controller/
 * deployment). A Deployment owns ReplicaSets named "<deployment>-<hash>",
 * the hash being that of its pod template (plus status.collisionCount), and
 * rolls between them:
 *   - RollingUpdate: the new RS grows while the total stays within
 *     replicas + maxSurge; old RSs shrink while availability stays at least
 *     replicas - maxUnavailable (unavailable old pods go first);
 *   - Recreate: old RSs go to 0, and once none of their pods is left the
 *     new RS gets every replica.
 * A replicas change alone (kubectl scale) scales RSs proportionally. It
 * keeps the revision annotations kubectl rollout history/undo read, the
 * desired/max-replicas annotations proportional scaling needs, deletes
 * old RSs beyond revisionHistoryLimit, honours spec.paused, and reports
 * status with the Progressing and Available conditions (and the progress
 * deadline). The arithmetic is in deployment_util.c; this file reads the
 * informers and writes through the API.
 *
 * Every sync starts again from the informers' view, so conflicts (the
 * write fails, the key is retried with fresh state), objects deleted
 * underneath (404s count as done) and restarts need nothing special. */
#include "ctrl/apps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/deployment-internal.h"
#include "ctrl/podctl.h"
#include "lib/log.h"
#include "lib/util.h"

typedef struct dep_ctl {
    cn_client *c;
    cn_informer *d_inf, *rs_inf, *pod_inf;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_recorder *rec;
} dep_ctl;

static const json_t *jget(const json_t *o, const char *a, const char *b)
{
    const json_t *j = json_object_get(o, a);
    return b ? json_object_get(j, b) : j;
}

static bool is_deleting(const json_t *obj)
{
    const json_t *d = jget(obj, "metadata", "deletionTimestamp");
    return d && !json_is_null(d);
}

static const json_t *ctl_ref(const json_t *obj)
{
    size_t i;
    const json_t *r;
    json_array_foreach(jget(obj, "metadata", "ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

static const char *ref_str(const json_t *ref, const char *k) { return json_string_value(json_object_get(ref, k)) ?: ""; }

/* ---------------------------------------------------------------------
 * event handlers
 * ------------------------------------------------------------------- */

static void enqueue(dep_ctl *s, const json_t *obj)
{
    char *k = cn_ctrl_key(obj);
    cn_workqueue_add(s->q, k);
    free(k);
}

/* The Deployment an RS's controllerRef names (new ref) or NULL. */
static json_t *dep_of(dep_ctl *s, const char *ns, const json_t *ref)
{
    if (!ref || strcmp(ref_str(ref, "kind"), "Deployment")) return NULL;
    json_t *d = cn_informer_get(s->d_inf, ns, ref_str(ref, "name"));
    if (d && strcmp(cn_meta_str(d, "uid"), ref_str(ref, "uid"))) {
        json_decref(d);
        return NULL;
    }
    return d;
}

typedef struct match_visit { dep_ctl *s; const json_t *labels; } match_visit;

static bool visit_matching(void *ud, const json_t *d)
{
    match_visit *v = ud;
    cn_selector *sel = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_selector_from_json(jget(d, "spec", "selector"), &sel, &e) == 0 && !cn_selector_empty(sel) &&
        cn_selector_matches(sel, v->labels))
        enqueue(v->s, d);
    cn_selector_free(sel);
    cn_err_clear(&e);
    return true;
}

static void enqueue_owner_or_matching(dep_ctl *s, const json_t *rs)
{
    const char *ns = cn_meta_str(rs, "namespace");
    const json_t *ref = ctl_ref(rs);
    if (ref) {
        json_t *d = dep_of(s, ns, ref);
        if (d) enqueue(s, d);
        json_decref(d);
        return;
    }
    match_visit v = { s, jget(rs, "metadata", "labels") };
    cn_informer_foreach_ns(s->d_inf, ns, visit_matching, &v);
}

static void on_d_add(void *ud, const json_t *d) { enqueue(ud, d); }
static void on_d_update(void *ud, const json_t *old, const json_t *d) { (void)old; enqueue(ud, d); }
static void on_d_delete(void *ud, const json_t *d) { enqueue(ud, d); }

static void on_rs_add(void *ud, const json_t *rs) { enqueue_owner_or_matching(ud, rs); }
static void on_rs_update(void *ud, const json_t *old, const json_t *rs)
{
    dep_ctl *s = ud;
    if (!strcmp(cn_meta_str(old, "resourceVersion"), cn_meta_str(rs, "resourceVersion"))) return;
    const json_t *oref = ctl_ref(old), *cref = ctl_ref(rs);
    if (oref && (!cref || strcmp(ref_str(oref, "uid"), ref_str(cref, "uid")))) enqueue_owner_or_matching(s, old);
    enqueue_owner_or_matching(s, rs);
}
static void on_rs_delete(void *ud, const json_t *rs)
{
    dep_ctl *s = ud;
    json_t *d = dep_of(s, cn_meta_str(rs, "namespace"), ctl_ref(rs));
    if (d) enqueue(s, d);
    json_decref(d);
}

static void on_pod_add(void *ud, const json_t *pod) { (void)ud; (void)pod; }
static void on_pod_update(void *ud, const json_t *old, const json_t *pod) { (void)ud; (void)old; (void)pod; }

/* Recreate waits for old pods to be gone: their deletion is the signal. */
static void on_pod_delete(void *ud, const json_t *pod)
{
    dep_ctl *s = ud;
    const json_t *ref = ctl_ref(pod);
    if (!ref || strcmp(ref_str(ref, "kind"), "ReplicaSet")) return;
    json_t *rs = cn_informer_get(s->rs_inf, cn_meta_str(pod, "namespace"), ref_str(ref, "name"));
    if (!rs) return;
    json_t *d = dep_of(s, cn_meta_str(rs, "namespace"), ctl_ref(rs));
    if (d && !cn_dep_is_rolling(d)) enqueue(s, d);
    json_decref(d);
    json_decref(rs);
}

/* ---------------------------------------------------------------------
 * one sync
 * ------------------------------------------------------------------- */

typedef struct dsync {
    dep_ctl *s;
    const char *key;
    json_t *d;              /* current Deployment (replaced after our writes) */
    cn_rsv *rsv;            /* every owned RS */
    size_t nrsv;
    cn_rsv *new_rs;         /* into rsv, or NULL */
    cn_rsv **old;
    size_t nold;
    cn_err err;
} dsync;

static void plan_of(dsync *x, cn_dep_plan *p) { *p = (cn_dep_plan){ x->d, x->new_rs, x->old, x->nold }; }

static bool collect(void *ud, const json_t *obj)
{
    json_t *arr = ud;
    json_array_append((json_t *)arr, (json_t *)obj);
    return true;
}

static char *d_path(const json_t *d, const char *sub)
{
    return cn_client_path("apps", "v1", cn_meta_str(d, "namespace"), "deployments", cn_meta_str(d, "name"), sub);
}

static char *rs_path(const json_t *rs)
{
    return cn_client_path("apps", "v1", cn_meta_str(rs, "namespace"), "replicasets", cn_meta_str(rs, "name"), NULL);
}

/* PUT the Deployment's metadata change (annotations) or status; x->d
 * becomes the answer. */
static int put_d(dsync *x, json_t *d, bool status)
{
    char *path = d_path(d, status ? "status" : NULL);
    json_t *out = NULL;
    int r = cn_client_update(x->s->c, path, d, &out, &x->err);
    free(path);
    if (r < 0) return r;
    json_decref(x->d);
    x->d = out;
    return 0;
}

/* Splits the owned RSs into new (the oldest whose template equals the
 * Deployment's, hash label aside) and old. */
static void split(dsync *x)
{
    x->new_rs = NULL;
    x->nold = 0;
    const json_t *tmpl = jget(x->d, "spec", "template");
    for (size_t i = 0; i < x->nrsv; i++) {
        cn_rsv *r = &x->rsv[i];
        if (!cn_dep_equal_ignore_hash(jget(r->rs, "spec", "template"), tmpl)) continue;
        if (!x->new_rs || r->created < x->new_rs->created ||
            (r->created == x->new_rs->created &&
             strcmp(cn_meta_str(r->rs, "name"), cn_meta_str(x->new_rs->rs, "name")) < 0))
            x->new_rs = r;
    }
    for (size_t i = 0; i < x->nrsv; i++)
        if (&x->rsv[i] != x->new_rs) x->old[x->nold++] = &x->rsv[i];
}

static int64_t max_old_revision(dsync *x)
{
    int64_t m = 0;
    for (size_t i = 0; i < x->nold; i++)
        if (x->old[i]->revision > m) m = x->old[i]->revision;
    return m;
}

static int update_rs(dsync *x, cn_rsv *r, json_t *rs)
{
    char *path = rs_path(rs);
    json_t *out = NULL;
    int r2 = cn_client_update(x->s->c, path, rs, &out, &x->err);
    free(path);
    if (r2 < 0) return r2;
    int64_t planned = r->replicas;
    cn_rsv_release(r);
    cn_rsv_init(r, out);
    r->replicas = planned;   /* same as out's unless a plan is pending */
    json_decref(out);
    return 0;
}

/* upstream's getNewReplicaSet: bring an existing new RS's annotations and
 * minReadySeconds up to date, or (create) make it. */
static int sync_new_rs(dsync *x, bool create)
{
    dep_ctl *s = x->s;
    int64_t now = cn_wall_s();
    int64_t new_rev = max_old_revision(x) + 1;
    int r = 0;
    if (x->new_rs) {
        json_t *rs = json_deep_copy(x->new_rs->rs);
        bool changed = cn_dep_set_new_rs_annotations(x->d, rs, new_rev, true);
        int64_t mrs = cn_json_int_at(x->d, "spec.minReadySeconds", 0);
        if (cn_json_int_at(rs, "spec.minReadySeconds", 0) != mrs) {
            json_object_set_new(json_object_get(rs, "spec"), "minReadySeconds", json_integer(mrs));
            changed = true;
        }
        if (changed) r = update_rs(x, x->new_rs, rs);
        json_decref(rs);
        if (r < 0) return r;
        json_t *d = json_deep_copy(x->d);
        const char *rev = cn_dep_annotation(x->new_rs->rs, CN_DEP_REVISION);
        int64_t revn = 0;
        if (rev && cn_parse_int64(rev, &revn) == 0 && cn_dep_set_revision(d, revn)) r = put_d(x, d, false);
        json_decref(d);
        if (r < 0) return r;
        if (cn_dep_has_deadline(x->d) && !cn_dep_cond(json_object_get(x->d, "status"), "Progressing")) {
            d = json_deep_copy(x->d);
            json_t *st = json_object_get(d, "status");
            if (!st) json_object_set_new(d, "status", st = json_object());
            char msg[300];
            snprintf(msg, sizeof msg, "Found new replica set \"%s\"", cn_meta_str(x->new_rs->rs, "name"));
            cn_dep_set_cond(st, "Progressing", "True", CN_DEP_FOUND_NEW_RS, msg, now);
            r = put_d(x, d, true);
            json_decref(d);
        }
        return r;
    }
    if (!create) return 0;

    /* A new RS from the template, labelled and selected by the hash. */
    int64_t cc = cn_json_int_at(x->d, "status.collisionCount", -1);
    char hash[16];
    cn_dep_hash(jget(x->d, "spec", "template"), cc, hash);
    json_t *tmpl = json_deep_copy(jget(x->d, "spec", "template"));
    json_t *tmeta = json_object_get(tmpl, "metadata");
    if (!tmeta) json_object_set_new(tmpl, "metadata", tmeta = json_object());
    json_t *labels = json_object_get(tmeta, "labels");
    if (!labels) json_object_set_new(tmeta, "labels", labels = json_object());
    json_object_set_new(labels, CN_DEP_HASH_LABEL, json_string(hash));
    json_t *sel = json_deep_copy(jget(x->d, "spec", "selector"));
    json_t *ml = json_object_get(sel, "matchLabels");
    if (!ml) json_object_set_new(sel, "matchLabels", ml = json_object());
    json_object_set_new(ml, CN_DEP_HASH_LABEL, json_string(hash));
    char *name = cn_asprintf("%s-%s", cn_meta_str(x->d, "name"), hash);
    json_t *refs = json_array();
    json_array_append_new(refs, cn_owner_ref(x->d, "apps/v1", "Deployment"));
    json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:O}, s:{s:I, s:I, s:o, s:o}}", "apiVersion", "apps/v1",
                           "kind", "ReplicaSet", "metadata", "name", name, "namespace",
                           cn_meta_str(x->d, "namespace"), "ownerReferences", refs, "labels", labels, "spec",
                           "replicas", (json_int_t)0, "minReadySeconds",
                           (json_int_t)cn_json_int_at(x->d, "spec.minReadySeconds", 0), "selector", sel,
                           "template", tmpl);
    cn_rsv nv;
    cn_rsv_init(&nv, rs);
    cn_dep_plan p;
    plan_of(x, &p);
    p.new_rs = &nv;
    int64_t want = cn_dep_new_rs_replicas(&p);
    cn_rsv_release(&nv);
    json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(want));
    cn_dep_set_new_rs_annotations(x->d, rs, new_rev, false);
    char *coll = cn_client_path("apps", "v1", cn_meta_str(x->d, "namespace"), "replicasets", NULL, NULL);
    json_t *out = NULL;
    bool existed = false;
    r = cn_client_create(s->c, coll, rs, &out, &x->err);
    if (r < 0 && x->err.code == 409) {
        /* Ours already (a create whose answer we lost, or a stale cache)?
         * Else a hash collision: bump collisionCount, hash again next time. */
        cn_err_clear(&x->err);
        char *path = rs_path(rs);
        r = cn_client_get(s->c, path, &out, &x->err);
        free(path);
        const json_t *ref = r == 0 ? ctl_ref(out) : NULL;
        if (ref && !strcmp(ref_str(ref, "uid"), cn_meta_str(x->d, "uid")) &&
            cn_dep_equal_ignore_hash(jget(out, "spec", "template"), jget(x->d, "spec", "template"))) {
            existed = true;
        } else if (r == 0) {
            json_decref(out);
            out = NULL;
            json_t *d = json_deep_copy(x->d);
            json_t *st = json_object_get(d, "status");
            if (!st) json_object_set_new(d, "status", st = json_object());
            json_object_set_new(st, "collisionCount", json_integer(cc < 0 ? 1 : cc + 1));
            r = put_d(x, d, true);
            json_decref(d);
            if (r == 0) r = cn_err_set(&x->err, 409, "AlreadyExists", "replica set \"%s\" collides; collisionCount raised", name);
        }
    } else if (r < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "Failed to create new replica set \"%s\": %s", name,
                 x->err.message ? x->err.message : "");
        cn_recorder_event(s->rec, x->d, "Warning", "FailedCreate", "%s", msg);
        if (cn_dep_has_deadline(x->d)) {
            json_t *d = json_deep_copy(x->d);
            json_t *st = json_object_get(d, "status");
            if (!st) json_object_set_new(d, "status", st = json_object());
            cn_dep_set_cond(st, "Progressing", "False", CN_DEP_FAILED_RS_CREATE, msg, now);
            cn_err keep = CN_ERR_INIT;
            cn_err_move(&keep, &x->err);
            put_d(x, d, true);
            cn_err_move(&x->err, &keep);
            json_decref(d);
        }
    }
    free(coll);
    json_decref(rs);
    if (r < 0) {
        json_decref(out);
        free(name);
        return r;
    }
    if (!existed && want > 0)
        cn_recorder_event(s->rec, x->d, "Normal", "ScalingReplicaSet", "Scaled up replica set %s to %lld", name, (long long)want);
    /* The new RS joins the set. */
    x->rsv = cn_realloc(x->rsv, (x->nrsv + 1) * sizeof *x->rsv);
    x->old = cn_realloc(x->old, (x->nrsv + 1) * sizeof *x->old);
    cn_rsv_init(&x->rsv[x->nrsv++], out);
    json_decref(out);
    split(x);
    json_t *d = json_deep_copy(x->d);
    bool dirty = cn_dep_set_revision(d, new_rev);
    if (dirty) r = put_d(x, d, false);
    json_decref(d);
    if (r == 0 && !existed && cn_dep_has_deadline(x->d)) {
        d = json_deep_copy(x->d);
        json_t *st = json_object_get(d, "status");
        if (!st) json_object_set_new(d, "status", st = json_object());
        char msg[300];
        snprintf(msg, sizeof msg, "Created new replica set \"%s\"", name);
        cn_dep_set_cond(st, "Progressing", "True", CN_DEP_NEW_RS_CREATED, msg, now);
        r = put_d(x, d, true);
        json_decref(d);
    }
    free(name);
    return r;
}

/* Writes every RS whose planned size differs (or, touched, whose replicas
 * annotations differ), with the ScalingReplicaSet event. *scaled: some
 * size changed. */
static int write_sizes(dsync *x, bool *scaled)
{
    int64_t want = cn_dep_replicas(x->d), max = want + cn_dep_max_surge(x->d);
    if (scaled) *scaled = false;
    for (size_t i = 0; i < x->nrsv; i++) {
        cn_rsv *r = &x->rsv[i];
        bool size = r->replicas != r->orig;
        bool ann = r->touch && cn_dep_replicas_annotations_differ(r->rs, want, max);
        if (!size && !ann) continue;
        json_t *rs = json_deep_copy(r->rs);
        int64_t from = r->orig;
        json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(r->replicas));
        cn_dep_set_replicas_annotations(rs, want, max);
        int rc = update_rs(x, r, rs);
        json_decref(rs);
        if (rc < 0) return rc;
        if (size) {
            if (scaled) *scaled = true;
            cn_recorder_event(x->s->rec, x->d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %lld",
                     r->replicas > from ? "up" : "down", cn_meta_str(r->rs, "name"), (long long)r->replicas);
        }
    }
    return 0;
}

/* Deletes old RSs beyond revisionHistoryLimit. Failures are logged only:
 * cleanup is retried on the next sync anyway. */
static void cleanup(dsync *x)
{
    cn_dep_plan p;
    plan_of(x, &p);
    size_t *idx = cn_calloc(x->nold ? x->nold : 1, sizeof *idx);
    size_t n = cn_dep_cleanup(&p, idx);
    for (size_t i = 0; i < n; i++) {
        const json_t *rs = x->old[idx[i]]->rs;
        char *path = rs_path(rs);
        json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid", cn_meta_str(rs, "uid"));
        cn_err e = CN_ERR_INIT;
        if (cn_client_delete(x->s->c, path, opts, NULL, &e) < 0 && e.code != 404)
            cn_warn("deployment \"%s\": deleting old replica set \"%s\": %s", x->key, cn_meta_str(rs, "name"),
                    e.message ? e.message : "");
        cn_err_clear(&e);
        json_decref(opts);
        free(path);
    }
    free(idx);
}

/* The new status (and, for a rollout, the Progressing condition); written
 * when it differs; a rollout still in progress is looked at again when its
 * deadline passes. */
static int sync_status(dsync *x, bool rollout)
{
    int64_t now = cn_wall_s();
    cn_dep_plan p;
    plan_of(x, &p);
    json_t *st = cn_dep_calc_status(&p, now);
    if (rollout) {
        cn_dep_rollout_conditions(&p, st, now);
        /* The new RS's failures show on the Deployment (getReplicaFailures). */
        const json_t *f = x->new_rs ? cn_dep_cond(json_object_get(x->new_rs->rs, "status"), "ReplicaFailure") : NULL;
        if (f && !strcmp(json_string_value(json_object_get(f, "status")) ?: "", "True"))
            cn_dep_set_cond(st, "ReplicaFailure", "True", json_string_value(json_object_get(f, "reason")) ?: "",
                            json_string_value(json_object_get(f, "message")) ?: "", now);
        else
            cn_dep_remove_cond(st, "ReplicaFailure");
    }
    int r = 0;
    const json_t *old = json_object_get(x->d, "status");
    if (old && json_equal(old, st)) {
        if (rollout) {
            int64_t after = cn_dep_requeue_after(x->d, st, now);
            if (after == 0) cn_workqueue_add_rate_limited(x->s->q, x->key);
            else if (after > 0) cn_workqueue_add_after(x->s->q, x->key, after * 1000);
        }
    } else {
        json_t *d = json_deep_copy(x->d);
        json_object_set(d, "status", st);
        r = put_d(x, d, true);
        json_decref(d);
    }
    json_decref(st);
    return r;
}

/* sync.go's sync(): scaling and paused Deployments. */
static int sync_scale(dsync *x)
{
    int r = sync_new_rs(x, false);
    if (r < 0) return r;
    cn_dep_plan p;
    plan_of(x, &p);
    cn_dep_scale(&p);
    r = write_sizes(x, NULL);
    if (r < 0) return r;
    if (json_is_true(jget(x->d, "spec", "paused"))) cleanup(x);
    return sync_status(x, false);
}

static int rollout_rolling(dsync *x)
{
    int r = sync_new_rs(x, true);
    if (r < 0) return r;
    cn_dep_plan p;
    plan_of(x, &p);
    bool scaled = false;
    if (cn_dep_reconcile_new(&p)) {
        r = write_sizes(x, &scaled);
        if (r < 0) return r;
        return sync_status(x, true);
    }
    plan_of(x, &p);
    if (cn_dep_reconcile_old(&p)) {
        r = write_sizes(x, &scaled);
        if (r < 0) return r;
        return sync_status(x, true);
    }
    if (cn_dep_complete(x->d, json_object_get(x->d, "status"))) cleanup(x);
    return sync_status(x, true);
}

typedef struct running_visit { int n; } running_visit;

static bool visit_running(void *ud, const json_t *pod)
{
    const char *ph = cn_json_str_at(pod, "status.phase");
    if (strcmp(ph, "Succeeded") && strcmp(ph, "Failed")) ((running_visit *)ud)->n++;
    return true;
}

static bool old_pods_running(dsync *x)
{
    running_visit v = { 0 };
    for (size_t i = 0; i < x->nold; i++) {
        if (x->old[i]->status_replicas > 0) return true;
        cn_informer_foreach_owned(x->s->pod_inf, cn_meta_str(x->old[i]->rs, "uid"), visit_running, &v);
        if (v.n) return true;
    }
    return false;
}

static int rollout_recreate(dsync *x)
{
    int r = sync_new_rs(x, false);
    if (r < 0) return r;
    bool scaled = false;
    for (size_t i = 0; i < x->nold; i++) x->old[i]->replicas = 0;
    r = write_sizes(x, &scaled);
    if (r < 0) return r;
    if (scaled || old_pods_running(x)) return sync_status(x, true);
    if (!x->new_rs) {
        r = sync_new_rs(x, true);
        if (r < 0) return r;
    }
    if (x->new_rs) x->new_rs->replicas = cn_dep_replicas(x->d);
    r = write_sizes(x, &scaled);
    if (r < 0) return r;
    if (cn_dep_complete(x->d, json_object_get(x->d, "status"))) cleanup(x);
    return sync_status(x, true);
}

/* upstream's checkPausedConditions. */
static int paused_conditions(dsync *x)
{
    if (!cn_dep_has_deadline(x->d)) return 0;
    const json_t *c = cn_dep_cond(json_object_get(x->d, "status"), "Progressing");
    bool exists = c && !strcmp(json_string_value(json_object_get(c, "reason")) ?: "", CN_DEP_PAUSED);
    bool paused = json_is_true(jget(x->d, "spec", "paused"));
    if (paused == exists) return 0;
    json_t *d = json_deep_copy(x->d);
    json_t *st = json_object_get(d, "status");
    if (!st) json_object_set_new(d, "status", st = json_object());
    if (paused) cn_dep_set_cond(st, "Progressing", "Unknown", CN_DEP_PAUSED, "Deployment is paused", cn_wall_s());
    else cn_dep_set_cond(st, "Progressing", "Unknown", CN_DEP_RESUMED, "Deployment is resumed", cn_wall_s());
    int r = put_d(x, d, true);
    json_decref(d);
    return r;
}

static int claim_rss(dsync *x, const cn_selector *sel)
{
    json_t *all = json_array();
    cn_informer_foreach_ns(x->s->rs_inf, cn_meta_str(x->d, "namespace"), collect, all);
    cn_claim cl = { x->s->c, x->d, "apps/v1", "Deployment", sel, "apps", "v1", "replicasets", 0 };
    size_t n = json_array_size(all);
    x->rsv = cn_calloc(n ? n : 1, sizeof *x->rsv);
    x->old = cn_calloc(n ? n : 1, sizeof *x->old);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *rs = json_array_get(all, i);
        r = cn_claim_child(&cl, rs, &x->err);
        if (r < 0) break;
        if (r > 0) cn_rsv_init(&x->rsv[x->nrsv++], rs);
        r = 0;
    }
    json_decref(all);
    split(x);
    return r;
}

static int dep_sync(void *ud, const char *key)
{
    dep_ctl *s = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    dsync x = { .s = s, .key = key, .err = CN_ERR_INIT };
    x.d = cn_informer_get(s->d_inf, ns, name);
    if (!x.d) return 0;
    cn_selector *sel = NULL;
    int r = 0;
    if (cn_selector_from_json(jget(x.d, "spec", "selector"), &sel, &x.err) < 0 || cn_selector_empty(sel)) {
        cn_recorder_event(s->rec, x.d, "Warning", "SelectingAll",
                 "This deployment is selecting all pods. A non-empty selector is required.");
        goto done;
    }
    r = claim_rss(&x, sel);
    if (r < 0) goto done;
    if (is_deleting(x.d)) {
        r = sync_status(&x, false);
        goto done;
    }
    r = paused_conditions(&x);
    if (r < 0) goto done;
    cn_dep_plan p;
    plan_of(&x, &p);
    if (json_is_true(jget(x.d, "spec", "paused")) || cn_dep_is_scaling_event(&p)) r = sync_scale(&x);
    else if (cn_dep_is_rolling(x.d)) r = rollout_rolling(&x);
    else r = rollout_recreate(&x);
done:
    if (r < 0) {
        if (x.err.code == 404) r = 0;   /* deleted underneath: its delete event comes */
        else if (x.err.code != 409)
            cn_warn("deployment \"%s\": %s", key, x.err.message ? x.err.message : "sync failed");
    }
    for (size_t i = 0; i < x.nrsv; i++) cn_rsv_release(&x.rsv[i]);
    free(x.rsv);
    free(x.old);
    cn_selector_free(sel);
    cn_err_clear(&x.err);
    json_decref(x.d);
    return r;
}

/* ---------------------------------------------------------------------
 * lifecycle
 * ------------------------------------------------------------------- */

static int dep_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    dep_ctl *s = cn_calloc(1, sizeof *s);
    s->c = ctx->client;
    s->q = cn_workqueue_new(0);
    s->rec = cn_recorder_new(ctx->client, "deployment-controller");
    s->d_inf = cn_informers_get(ctx->inf, "apps", "v1", "deployments");
    s->rs_inf = cn_informers_get(ctx->inf, "apps", "v1", "replicasets");
    s->pod_inf = cn_informers_get(ctx->inf, "", "v1", "pods");
    cn_informer_handler dh = { on_d_add, on_d_update, on_d_delete, s };
    cn_informer_handler rh = { on_rs_add, on_rs_update, on_rs_delete, s };
    cn_informer_handler ph = { on_pod_add, on_pod_update, on_pod_delete, s };
    cn_informer_add_handler(s->d_inf, &dh);
    cn_informer_add_handler(s->rs_inf, &rh);
    cn_informer_add_handler(s->pod_inf, &ph);
    s->w = cn_ctrl_workers_start(ctx, "deployment", s->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                 dep_sync, s);
    *state = s;
    return 0;
}

static void dep_stop(void *state)
{
    dep_ctl *s = state;
    if (!s) return;
    cn_ctrl_workers_stop(s->w);
    cn_workqueue_free(s->q);
    cn_recorder_free(s->rec);
    free(s);
}

const cn_controller cn_ctrl_deployment = { "deployment", dep_start, dep_stop };
