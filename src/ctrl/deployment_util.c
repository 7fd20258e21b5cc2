/* deployment_util: the Deployment controller's decisions as pure functions
 * (see deployment-internal.h): template hashes, fenceposts, revision and
 * replicas annotations, rolling-update and proportional-scaling
 * arithmetic, status and conditions. Nothing here does I/O; the controller
 * (deployment.c) reads the informers, asks these functions what to do and
 * writes the results through the API. */
#include "ctrl/deployment-internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "ctrl/podctl.h"
#include "lib/util.h"

/* ---------------------------------------------------------------------
 * hash and templates
 * ------------------------------------------------------------------- */

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

/* Drops what Go's zero values make indistinguishable from absence (null,
 * "", {} and [] members, recursively), so that a template that went
 * through a Go client (kubectl rollout undo sends "resources": {}) equals
 * and hashes like the one stored without them: upstream compares typed
 * structs, where both are the same. */
static bool prune_empty(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(j, tmp, k, v)
            if (prune_empty(v)) json_object_del(j, k);
        return json_object_size(j) == 0;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) prune_empty(v);
        return json_array_size(j) == 0;
    }
    if (json_is_string(j)) return json_string_length(j) == 0;
    return json_is_null(j);
}

void cn_dep_hash(const json_t *tmpl, int64_t collision_count, char out[16])
{
    json_t *norm = json_deep_copy(tmpl ? tmpl : json_null());
    prune_empty(norm);
    char *js = json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(norm);
    uint32_t h = fnv1a(2166136261u, js ? js : "", js ? strlen(js) : 0);
    free(js);
    if (collision_count >= 0) {
        unsigned char cc[8] = { 0 };
        uint32_t c = (uint32_t)collision_count;
        for (int i = 0; i < 4; i++) cc[i] = (unsigned char)(c >> (8 * i));
        h = fnv1a(h, cc, sizeof cc);
    }
    /* upstream's rand.SafeEncodeString over the decimal form. */
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    char dec[16];
    int n = snprintf(dec, sizeof dec, "%u", h);
    for (int i = 0; i < n; i++) out[i] = alnum[(unsigned char)dec[i] % (sizeof alnum - 1)];
    out[n] = 0;
}

static json_t *strip_hash(const json_t *tmpl)
{
    json_t *c = json_deep_copy(tmpl ? tmpl : json_null());
    json_t *meta = json_object_get(c, "metadata");
    json_t *labels = json_object_get(meta, "labels");
    if (labels) {
        json_object_del(labels, CN_DEP_HASH_LABEL);
        if (!json_object_size(labels)) json_object_del(meta, "labels");
    }
    prune_empty(c);
    return c;
}

bool cn_dep_equal_ignore_hash(const json_t *a, const json_t *b)
{
    json_t *x = strip_hash(a), *y = strip_hash(b);
    bool eq = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

/* ---------------------------------------------------------------------
 * fenceposts
 * ------------------------------------------------------------------- */

int64_t cn_dep_scaled(const json_t *v, int64_t total, bool round_up)
{
    if (json_is_integer(v)) return json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s) return 0;
    size_t n = strlen(s);
    int64_t pct;
    if (n < 2 || s[n - 1] != '%') return 0;
    char *num = cn_strndup(s, n - 1);
    int r = cn_parse_int64(num, &pct);
    free(num);
    if (r < 0) return 0;
    int64_t x = pct * total;
    return round_up ? (x + 99) / 100 : x / 100;
}

bool cn_dep_is_rolling(const json_t *d)
{
    const char *t = cn_json_str_at(d, "spec.strategy.type");
    return !*t || !strcmp(t, "RollingUpdate");
}

int64_t cn_dep_replicas(const json_t *d) { return cn_json_int_at(d, "spec.replicas", 1); }

void cn_dep_fenceposts(const json_t *d, int64_t *surge, int64_t *unavailable)
{
    const json_t *ru = json_object_get(json_object_get(json_object_get(d, "spec"), "strategy"), "rollingUpdate");
    int64_t want = cn_dep_replicas(d);
    const json_t *ms = json_object_get(ru, "maxSurge"), *mu = json_object_get(ru, "maxUnavailable");
    /* Absent values: upstream's defaults (25%). */
    json_t *def = json_string("25%");
    *surge = cn_dep_scaled(ms ? ms : def, want, true);
    *unavailable = cn_dep_scaled(mu ? mu : def, want, false);
    json_decref(def);
    if (*surge == 0 && *unavailable == 0) *unavailable = 1;
}

int64_t cn_dep_max_surge(const json_t *d)
{
    if (!cn_dep_is_rolling(d)) return 0;
    int64_t s, u;
    cn_dep_fenceposts(d, &s, &u);
    return s;
}

int64_t cn_dep_max_unavailable(const json_t *d)
{
    int64_t want = cn_dep_replicas(d);
    if (!cn_dep_is_rolling(d) || want == 0) return 0;
    int64_t s, u;
    cn_dep_fenceposts(d, &s, &u);
    return u > want ? want : u;
}

/* ---------------------------------------------------------------------
 * annotations
 * ------------------------------------------------------------------- */

const char *cn_dep_annotation(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

int64_t cn_dep_revision(const json_t *obj)
{
    const char *s = cn_dep_annotation(obj, CN_DEP_REVISION);
    int64_t v;
    return s && cn_parse_int64(s, &v) == 0 ? v : 0;
}

static json_t *annotations_of(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!meta) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    json_t *ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(meta, "annotations", ann);
    }
    return ann;
}

static bool set_ann(json_t *obj, const char *key, const char *val)
{
    const char *cur = cn_dep_annotation(obj, key);
    if (cur && !strcmp(cur, val)) return false;
    json_object_set_new(annotations_of(obj), key, json_string(val));
    return true;
}

static int64_t ann_int(const json_t *obj, const char *key, bool *ok)
{
    const char *s = cn_dep_annotation(obj, key);
    int64_t v = 0;
    *ok = s && cn_parse_int64(s, &v) == 0;
    return *ok ? v : 0;
}

bool cn_dep_replicas_annotations_differ(const json_t *rs, int64_t desired, int64_t max)
{
    bool ok1, ok2;
    int64_t d = ann_int(rs, CN_DEP_DESIRED, &ok1), m = ann_int(rs, CN_DEP_MAX, &ok2);
    return !ok1 || !ok2 || d != desired || m != max;
}

bool cn_dep_set_replicas_annotations(json_t *rs, int64_t desired, int64_t max)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)desired);
    bool changed = set_ann(rs, CN_DEP_DESIRED, b);
    snprintf(b, sizeof b, "%lld", (long long)max);
    changed |= set_ann(rs, CN_DEP_MAX, b);
    return changed;
}

static bool skipped_annotation(const char *k)
{
    static const char *const skip[] = { "kubectl.kubernetes.io/last-applied-configuration", CN_DEP_REVISION,
                                        CN_DEP_REVISION_HISTORY, CN_DEP_DESIRED, CN_DEP_MAX,
                                        "deprecated.deployment.rollback.to", NULL };
    for (int i = 0; skip[i]; i++)
        if (!strcmp(k, skip[i])) return true;
    return false;
}

bool cn_dep_set_new_rs_annotations(const json_t *d, json_t *rs, int64_t new_revision, bool exists)
{
    bool changed = false;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(d, "metadata"), "annotations"), k, v) {
        if (skipped_annotation(k) || !json_is_string(v)) continue;
        changed |= set_ann(rs, k, json_string_value(v));
    }
    /* A copy: setting the annotation frees the string it points to. */
    _cleanup_free_ char *old = cn_strdup(cn_dep_annotation(rs, CN_DEP_REVISION));
    int64_t oldv = 0;
    if (old && cn_parse_int64(old, &oldv) < 0) return changed;   /* upstream: leave junk alone */
    if (oldv < new_revision) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)new_revision);
        set_ann(rs, CN_DEP_REVISION, b);
        changed = true;
        if (old && *old) {
            /* upstream's revision-history: earlier revisions this RS had. */
            const char *h = cn_dep_annotation(rs, CN_DEP_REVISION_HISTORY);
            char *nh = h && *h ? cn_asprintf("%s,%s", h, old) : cn_strdup(old);
            if (strlen(nh) < 2048) set_ann(rs, CN_DEP_REVISION_HISTORY, nh);
            free(nh);
        }
    }
    if (!exists && cn_dep_set_replicas_annotations(rs, cn_dep_replicas(d), cn_dep_replicas(d) + cn_dep_max_surge(d)))
        changed = true;
    return changed;
}

bool cn_dep_set_revision(json_t *d, int64_t revision)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)revision);
    return set_ann(d, CN_DEP_REVISION, b);
}

/* ---------------------------------------------------------------------
 * planning
 * ------------------------------------------------------------------- */

void cn_rsv_init(cn_rsv *v, const json_t *rs)
{
    *v = (cn_rsv){ 0 };
    v->rs = json_incref((json_t *)rs);
    v->replicas = v->orig = cn_json_int_at(rs, "spec.replicas", 1);
    v->status_replicas = cn_json_int_at(rs, "status.replicas", 0);
    v->ready = cn_json_int_at(rs, "status.readyReplicas", 0);
    v->available = cn_json_int_at(rs, "status.availableReplicas", 0);
    v->created = cn_obj_created(rs);
    v->revision = cn_dep_revision(rs);
}

void cn_rsv_release(cn_rsv *v)
{
    if (!v) return;
    json_decref(v->rs);
    v->rs = NULL;
}

static int64_t sum_replicas(const cn_dep_plan *p)
{
    int64_t n = p->new_rs ? p->new_rs->replicas : 0;
    for (size_t i = 0; i < p->nold; i++) n += p->old[i]->replicas;
    return n;
}

int64_t cn_dep_new_rs_replicas(const cn_dep_plan *p)
{
    int64_t want = cn_dep_replicas(p->d), cur = p->new_rs ? p->new_rs->replicas : 0;
    if (!cn_dep_is_rolling(p->d)) return want;
    int64_t total = sum_replicas(p), max_total = want + cn_dep_max_surge(p->d);
    if (total >= max_total) return cur;
    int64_t up = max_total - total;
    if (up > want - cur) up = want - cur;
    return cur + up;
}

bool cn_dep_reconcile_new(cn_dep_plan *p)
{
    cn_rsv *n = p->new_rs;
    int64_t want = cn_dep_replicas(p->d);
    if (!n || n->replicas == want) return false;
    int64_t to = n->replicas > want ? want : cn_dep_new_rs_replicas(p);
    if (to == n->replicas) return false;
    n->replicas = to;
    return true;
}

static int cmp_created(const void *a, const void *b)
{
    const cn_rsv *x = *(cn_rsv *const *)a, *y = *(cn_rsv *const *)b;
    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return strcmp(cn_meta_str(x->rs, "name"), cn_meta_str(y->rs, "name"));
}

/* Old RSs with replicas, oldest first. Caller frees the array. */
static cn_rsv **active_old_by_age(const cn_dep_plan *p, size_t *n)
{
    cn_rsv **v = cn_calloc(p->nold ? p->nold : 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < p->nold; i++)
        if (p->old[i]->replicas > 0) v[(*n)++] = p->old[i];
    qsort(v, *n, sizeof *v, cmp_created);
    return v;
}

/* An RS's available pods, never more than its (planned) size: right after
 * a scale-down its status still counts pods that are about to go, and
 * trusting it would let the next step take availability below the floor.
 * (Upstream trusts the status and can dip there; this cannot.) */
static int64_t avail_capped(const cn_rsv *r)
{
    return r->available < r->replicas ? r->available : r->replicas;
}

bool cn_dep_reconcile_old(cn_dep_plan *p)
{
    int64_t old_count = 0;
    for (size_t i = 0; i < p->nold; i++) old_count += p->old[i]->replicas;
    if (old_count == 0) return false;
    int64_t all = sum_replicas(p), want = cn_dep_replicas(p->d);
    int64_t min_avail = want - cn_dep_max_unavailable(p->d);
    int64_t new_unavail = p->new_rs ? p->new_rs->replicas - avail_capped(p->new_rs) : 0;
    int64_t max_down = all - min_avail - new_unavail;
    if (max_down <= 0) return false;
    size_t n;
    cn_rsv **olds = active_old_by_age(p, &n);
    bool changed = false;
    /* cleanupUnhealthyReplicas: unavailable old pods go first, they cost
     * no availability. */
    int64_t done = 0;
    for (size_t i = 0; i < n && done < max_down; i++) {
        cn_rsv *r = olds[i];
        if (r->replicas == 0 || r->replicas <= r->available) continue;
        int64_t k = r->replicas - avail_capped(r);
        if (k > max_down - done) k = max_down - done;
        r->replicas -= k;
        done += k;
        changed = true;
    }
    /* scaleDownOldReplicaSetsForRollingUpdate: then available ones, down to
     * the minimum availability. */
    int64_t avail = p->new_rs ? avail_capped(p->new_rs) : 0;
    for (size_t i = 0; i < p->nold; i++) avail += avail_capped(p->old[i]);
    if (avail > min_avail) {
        int64_t total = avail - min_avail, down = 0;
        for (size_t i = 0; i < n && down < total; i++) {
            cn_rsv *r = olds[i];
            if (r->replicas == 0) continue;
            int64_t k = r->replicas < total - down ? r->replicas : total - down;
            r->replicas -= k;
            down += k;
            changed = true;
        }
    }
    free(olds);
    return changed;
}

bool cn_dep_is_scaling_event(const cn_dep_plan *p)
{
    int64_t want = cn_dep_replicas(p->d);
    for (size_t i = 0; i <= p->nold; i++) {
        const cn_rsv *r = i < p->nold ? p->old[i] : p->new_rs;
        if (!r || r->replicas <= 0) continue;
        bool ok;
        int64_t desired = ann_int(r->rs, CN_DEP_DESIRED, &ok);
        if (ok && desired != want) return true;
    }
    return false;
}

static bool saturated(const json_t *d, const cn_rsv *r)
{
    if (!r) return false;
    bool ok;
    int64_t desired = ann_int(r->rs, CN_DEP_DESIRED, &ok), want = cn_dep_replicas(d);
    return ok && r->replicas == want && desired == want && r->available == want;
}

static int cmp_size_newer(const void *a, const void *b)
{
    const cn_rsv *x = *(cn_rsv *const *)a, *y = *(cn_rsv *const *)b;
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    return -cmp_created(a, b);
}

static int cmp_size_older(const void *a, const void *b)
{
    const cn_rsv *x = *(cn_rsv *const *)a, *y = *(cn_rsv *const *)b;
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    return cmp_created(a, b);
}

/* upstream's getReplicaSetFraction. */
static int64_t fraction(const cn_dep_plan *p, const cn_rsv *r)
{
    int64_t want = cn_dep_replicas(p->d);
    if (want == 0) return -r->replicas;
    int64_t dep_replicas = want + cn_dep_max_surge(p->d);
    bool ok;
    int64_t annotated = ann_int(r->rs, CN_DEP_MAX, &ok);
    if (!ok) annotated = cn_json_int_at(p->d, "status.replicas", 0);
    if (annotated == 0) return 0;
    double size = (double)(r->replicas * dep_replicas) / (double)annotated;
    return (int64_t)llround(size) - r->replicas;
}

void cn_dep_scale(cn_dep_plan *p)
{
    int64_t want = cn_dep_replicas(p->d);
    size_t nall = 0;
    cn_rsv **all = cn_calloc(p->nold + 1, sizeof *all);
    if (p->new_rs && p->new_rs->replicas > 0) all[nall++] = p->new_rs;
    for (size_t i = 0; i < p->nold; i++)
        if (p->old[i]->replicas > 0) all[nall++] = p->old[i];
    /* FindActiveOrLatest */
    cn_rsv *only = NULL;
    if (nall == 1) only = all[0];
    else if (nall == 0 && p->new_rs) only = p->new_rs;
    else if (nall == 0 && p->nold) {
        only = p->old[0];
        for (size_t i = 1; i < p->nold; i++)
            if (cmp_created(&p->old[i], &only) > 0) only = p->old[i];
    }
    if (only || (nall == 0 && !p->new_rs && !p->nold)) {
        if (only) {
            only->replicas = want;
            only->touch = true;
        }
        goto out;
    }
    if (saturated(p->d, p->new_rs)) {
        for (size_t i = 0; i < nall; i++) {
            if (all[i] == p->new_rs) continue;
            all[i]->replicas = 0;
            all[i]->touch = true;
        }
        goto out;
    }
    if (!cn_dep_is_rolling(p->d)) goto out;
    int64_t cur = 0;
    for (size_t i = 0; i < nall; i++) cur += all[i]->replicas;
    int64_t allowed = want > 0 ? want + cn_dep_max_surge(p->d) : 0;
    int64_t to_add = allowed - cur, added = 0;
    if (to_add > 0) qsort(all, nall, sizeof *all, cmp_size_newer);
    else if (to_add < 0) qsort(all, nall, sizeof *all, cmp_size_older);
    int64_t *size = cn_calloc(nall ? nall : 1, sizeof *size);
    for (size_t i = 0; i < nall; i++) {
        size[i] = all[i]->replicas;
        if (to_add == 0 || all[i]->replicas == 0 || to_add == added) continue;
        int64_t f = fraction(p, all[i]), allow = to_add - added, prop;
        if (to_add > 0) prop = f < allow ? f : allow;
        else prop = f > allow ? f : allow;
        size[i] += prop;
        added += prop;
    }
    if (to_add != 0 && nall) {
        size[0] += to_add - added;
        if (size[0] < 0) size[0] = 0;
    }
    for (size_t i = 0; i < nall; i++) {
        all[i]->replicas = size[i];
        all[i]->touch = true;
    }
    free(size);
out:
    free(all);
}

/* ---------------------------------------------------------------------
 * status and conditions
 * ------------------------------------------------------------------- */

static void set_nz(json_t *st, const char *k, int64_t v)
{
    if (v) json_object_set_new(st, k, json_integer(v));
}

const json_t *cn_dep_cond(const json_t *status, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, type)) return c;
    }
    return NULL;
}

static const char *cond_str(const json_t *c, const char *k) { return json_string_value(json_object_get(c, k)) ?: ""; }

void cn_dep_remove_cond(json_t *status, const char *type)
{
    json_t *conds = json_object_get(status, "conditions");
    for (size_t i = 0; i < json_array_size(conds);) {
        if (!strcmp(cond_str(json_array_get(conds, i), "type"), type)) json_array_remove(conds, i);
        else i++;
    }
    if (conds && !json_array_size(conds)) json_object_del(status, "conditions");
}

static void put_cond(json_t *status, json_t *cond, const json_t *cur)
{
    if (cur && !strcmp(cond_str(cur, "status"), cond_str(cond, "status")))
        json_object_set_new(cond, "lastTransitionTime", json_string(cond_str(cur, "lastTransitionTime")));
    cn_dep_remove_cond(status, cond_str(cond, "type"));
    json_t *conds = json_object_get(status, "conditions");
    if (!conds) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    json_array_append_new(conds, cond);
}

static json_t *new_cond(const char *type, const char *cstatus, const char *reason, const char *message, int64_t now)
{
    char ts[32];
    cn_time_rfc3339(now, ts);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", cstatus, "lastUpdateTime", ts,
                     "lastTransitionTime", ts, "reason", reason, "message", message);
}

void cn_dep_set_cond(json_t *status, const char *type, const char *cstatus, const char *reason,
                     const char *message, int64_t now)
{
    const json_t *cur = cn_dep_cond(status, type);
    if (cur && !strcmp(cond_str(cur, "status"), cstatus) && !strcmp(cond_str(cur, "reason"), reason)) return;
    json_t *cur_copy = cur ? json_deep_copy(cur) : NULL;
    put_cond(status, new_cond(type, cstatus, reason, message, now), cur_copy);
    json_decref(cur_copy);
}

json_t *cn_dep_calc_status(const cn_dep_plan *p, int64_t now)
{
    int64_t avail = 0, spec_total = 0, actual = 0, ready = 0;
    for (size_t i = 0; i <= p->nold; i++) {
        const cn_rsv *r = i < p->nold ? p->old[i] : p->new_rs;
        if (!r) continue;
        avail += r->available;
        spec_total += r->replicas;
        actual += r->status_replicas;
        ready += r->ready;
    }
    int64_t unavail = spec_total - avail;
    if (unavail < 0) unavail = 0;
    json_t *st = json_object();
    set_nz(st, "observedGeneration", cn_json_int_at(p->d, "metadata.generation", 0));
    set_nz(st, "replicas", actual);
    set_nz(st, "updatedReplicas", p->new_rs ? p->new_rs->status_replicas : 0);
    set_nz(st, "readyReplicas", ready);
    set_nz(st, "availableReplicas", avail);
    set_nz(st, "unavailableReplicas", unavail);
    const json_t *old = json_object_get(p->d, "status");
    const json_t *cc = json_object_get(old, "collisionCount");
    if (cc) json_object_set_new(st, "collisionCount", json_deep_copy(cc));
    const json_t *conds = json_object_get(old, "conditions");
    if (json_array_size(conds)) json_object_set_new(st, "conditions", json_deep_copy(conds));
    if (avail >= cn_dep_replicas(p->d) - cn_dep_max_unavailable(p->d))
        cn_dep_set_cond(st, "Available", "True", CN_DEP_MIN_AVAILABLE, "Deployment has minimum availability.", now);
    else
        cn_dep_set_cond(st, "Available", "False", CN_DEP_MIN_UNAVAILABLE,
                        "Deployment does not have minimum availability.", now);
    return st;
}

bool cn_dep_has_deadline(const json_t *d)
{
    const json_t *v = json_object_get(json_object_get(d, "spec"), "progressDeadlineSeconds");
    return json_is_integer(v) && json_integer_value(v) != 2147483647;
}

bool cn_dep_complete(const json_t *d, const json_t *st)
{
    int64_t want = cn_dep_replicas(d);
    return cn_json_int_at(st, "updatedReplicas", 0) == want && cn_json_int_at(st, "replicas", 0) == want &&
           cn_json_int_at(st, "availableReplicas", 0) == want &&
           cn_json_int_at(st, "observedGeneration", 0) >= cn_json_int_at(d, "metadata.generation", 0);
}

bool cn_dep_progressing(const json_t *d, const json_t *st)
{
    const json_t *o = json_object_get(d, "status");
    int64_t o_old = cn_json_int_at(o, "replicas", 0) - cn_json_int_at(o, "updatedReplicas", 0);
    int64_t n_old = cn_json_int_at(st, "replicas", 0) - cn_json_int_at(st, "updatedReplicas", 0);
    return cn_json_int_at(st, "updatedReplicas", 0) > cn_json_int_at(o, "updatedReplicas", 0) || n_old < o_old ||
           cn_json_int_at(st, "readyReplicas", 0) > cn_json_int_at(o, "readyReplicas", 0) ||
           cn_json_int_at(st, "availableReplicas", 0) > cn_json_int_at(o, "availableReplicas", 0);
}

static int64_t cond_time(const json_t *c, const char *k)
{
    int64_t t;
    return cn_time_parse(cond_str(c, k), &t) == 0 ? t : 0;
}

bool cn_dep_timed_out(const json_t *d, const json_t *st, int64_t now)
{
    if (!cn_dep_has_deadline(d)) return false;
    const json_t *c = cn_dep_cond(st, "Progressing");
    if (!c) return false;
    const char *reason = cond_str(c, "reason");
    if (!strcmp(reason, CN_DEP_NEW_RS_AVAILABLE)) return false;
    if (!strcmp(reason, CN_DEP_TIMED_OUT)) return true;
    return cond_time(c, "lastUpdateTime") + cn_json_int_at(d, "spec.progressDeadlineSeconds", 600) < now;
}

void cn_dep_rollout_conditions(const cn_dep_plan *p, json_t *st, int64_t now)
{
    const json_t *d = p->d;
    if (!cn_dep_has_deadline(d)) cn_dep_remove_cond(st, "Progressing");
    const json_t *cur = cn_dep_cond(json_object_get(d, "status"), "Progressing");
    bool complete = cn_json_int_at(st, "replicas", 0) == cn_json_int_at(st, "updatedReplicas", 0) && cur &&
                    !strcmp(cond_str(cur, "reason"), CN_DEP_NEW_RS_AVAILABLE);
    if (!cn_dep_has_deadline(d) || complete) return;
    const char *dname = cn_meta_str(d, "name");
    const char *rname = p->new_rs ? cn_meta_str(p->new_rs->rs, "name") : NULL;
    char msg[512];
    if (cn_dep_complete(d, st)) {
        if (rname) snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", rname);
        else snprintf(msg, sizeof msg, "Deployment \"%s\" has successfully progressed.", dname);
        cn_dep_set_cond(st, "Progressing", "True", CN_DEP_NEW_RS_AVAILABLE, msg, now);
    } else if (cn_dep_progressing(d, st)) {
        if (rname) snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", rname);
        else snprintf(msg, sizeof msg, "Deployment \"%s\" is progressing.", dname);
        /* Progress moves lastUpdateTime (the deadline's clock) even when
         * the reason stays the same. */
        put_cond(st, new_cond("Progressing", "True", CN_DEP_RS_UPDATED, msg, now), cur);
    } else if (cn_dep_timed_out(d, st, now)) {
        if (rname) snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has timed out progressing.", rname);
        else snprintf(msg, sizeof msg, "Deployment \"%s\" has timed out progressing.", dname);
        cn_dep_set_cond(st, "Progressing", "False", CN_DEP_TIMED_OUT, msg, now);
    }
}

int64_t cn_dep_requeue_after(const json_t *d, const json_t *st, int64_t now)
{
    const json_t *cur = cn_dep_cond(json_object_get(d, "status"), "Progressing");
    if (!cn_dep_has_deadline(d) || !cur) return -1;
    if (cn_dep_complete(d, st) || !strcmp(cond_str(cur, "reason"), CN_DEP_TIMED_OUT)) return -1;
    int64_t after = cond_time(cur, "lastUpdateTime") + cn_json_int_at(d, "spec.progressDeadlineSeconds", 600) - now;
    return after < 1 ? 0 : after + 1;
}

static int cmp_revision(const void *a, const void *b)
{
    const cn_rsv *x = *(cn_rsv *const *)a, *y = *(cn_rsv *const *)b;
    if (x->revision != y->revision) return x->revision < y->revision ? -1 : 1;
    return cmp_created(a, b);
}

size_t cn_dep_cleanup(const cn_dep_plan *p, size_t *out)
{
    const json_t *lim = json_object_get(json_object_get(p->d, "spec"), "revisionHistoryLimit");
    if (!json_is_integer(lim)) return 0;
    cn_rsv **alive = cn_calloc(p->nold ? p->nold : 1, sizeof *alive);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < p->nold; i++) {
        const json_t *dt = json_object_get(json_object_get(p->old[i]->rs, "metadata"), "deletionTimestamp");
        if (!dt || json_is_null(dt)) alive[n++] = p->old[i];
    }
    int64_t diff = (int64_t)n - json_integer_value(lim);
    qsort(alive, n, sizeof *alive, cmp_revision);
    for (int64_t i = 0; i < diff; i++) {
        const cn_rsv *r = alive[i];
        if (r->status_replicas != 0 || r->orig != 0 || r->replicas != 0 ||
            cn_json_int_at(r->rs, "metadata.generation", 0) > cn_json_int_at(r->rs, "status.observedGeneration", 0))
            continue;
        for (size_t j = 0; j < p->nold; j++)
            if (p->old[j] == r) out[k++] = j;
    }
    free(alive);
    return k;
}
