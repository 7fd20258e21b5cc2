/* podctl: pod facts, pods from templates, deletion ranking, slow-start
 * batches, ControllerRefManager-style claiming and controller expectations
 * shared by the workload controllers (see podctl.h). */
#include "ctrl/podctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---------------------------------------------------------------------
 * expectations
 * ------------------------------------------------------------------- */

#define EXPECT_BUCKETS 1024
#define EXPECT_TTL_MS (5 * 60 * 1000)   /* upstream's ExpectationsTimeout */

typedef struct expect_rec {
    struct expect_rec *next;
    char *key;
    int64_t add;                /* creations still to see */
    char **dels;                /* pod keys still to see go */
    size_t ndels;
    int64_t stamp_ms;
} expect_rec;

struct cn_expectations {
    pthread_mutex_t mu;
    expect_rec *b[EXPECT_BUCKETS];
};

static unsigned str_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void rec_clear_dels(expect_rec *r)
{
    for (size_t i = 0; i < r->ndels; i++) free(r->dels[i]);
    free(r->dels);
    r->dels = NULL;
    r->ndels = 0;
}

static void rec_free(expect_rec *r)
{
    if (!r) return;
    rec_clear_dels(r);
    free(r->key);
    free(r);
}

cn_expectations *cn_expect_new(void)
{
    cn_expectations *e = cn_calloc(1, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    return e;
}

void cn_expect_free(cn_expectations *e)
{
    if (!e) return;
    for (size_t i = 0; i < EXPECT_BUCKETS; i++) {
        expect_rec *r = e->b[i];
        while (r) {
            expect_rec *n = r->next;
            rec_free(r);
            r = n;
        }
    }
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* Under e->mu. create: make a fresh record when absent. */
static expect_rec *rec_find(cn_expectations *e, const char *key, bool create)
{
    expect_rec **slot = &e->b[str_hash(key) % EXPECT_BUCKETS];
    for (expect_rec *r = *slot; r; r = r->next)
        if (!strcmp(r->key, key)) return r;
    if (!create) return NULL;
    expect_rec *r = cn_calloc(1, sizeof *r);
    r->key = cn_strdup(key);
    r->next = *slot;
    *slot = r;
    return r;
}

void cn_expect_creations(cn_expectations *e, const char *key, int n)
{
    pthread_mutex_lock(&e->mu);
    expect_rec *r = rec_find(e, key, true);
    rec_clear_dels(r);
    r->add = n;
    r->stamp_ms = cn_now_ms();
    pthread_mutex_unlock(&e->mu);
}

void cn_expect_deletions(cn_expectations *e, const char *key, const char *const *pod_keys, size_t n)
{
    pthread_mutex_lock(&e->mu);
    expect_rec *r = rec_find(e, key, true);
    rec_clear_dels(r);
    r->add = 0;
    r->dels = n ? cn_calloc(n, sizeof *r->dels) : NULL;
    for (size_t i = 0; i < n; i++) r->dels[i] = cn_strdup(pod_keys[i]);
    r->ndels = n;
    r->stamp_ms = cn_now_ms();
    pthread_mutex_unlock(&e->mu);
}

void cn_expect_creation_observed(cn_expectations *e, const char *key)
{
    pthread_mutex_lock(&e->mu);
    expect_rec *r = rec_find(e, key, false);
    if (r && r->add > 0) r->add--;
    pthread_mutex_unlock(&e->mu);
}

void cn_expect_deletion_observed(cn_expectations *e, const char *key, const char *pod_key)
{
    pthread_mutex_lock(&e->mu);
    expect_rec *r = rec_find(e, key, false);
    for (size_t i = 0; r && i < r->ndels; i++) {
        if (strcmp(r->dels[i], pod_key)) continue;
        free(r->dels[i]);
        r->dels[i] = r->dels[--r->ndels];
        break;
    }
    pthread_mutex_unlock(&e->mu);
}

bool cn_expect_satisfied(cn_expectations *e, const char *key)
{
    pthread_mutex_lock(&e->mu);
    expect_rec *r = rec_find(e, key, false);
    bool ok = !r || (r->add <= 0 && r->ndels == 0) || cn_now_ms() - r->stamp_ms > EXPECT_TTL_MS;
    pthread_mutex_unlock(&e->mu);
    return ok;
}

void cn_expect_forget(cn_expectations *e, const char *key)
{
    pthread_mutex_lock(&e->mu);
    expect_rec **slot = &e->b[str_hash(key) % EXPECT_BUCKETS];
    for (; *slot; slot = &(*slot)->next) {
        if (strcmp((*slot)->key, key)) continue;
        expect_rec *r = *slot;
        *slot = r->next;
        rec_free(r);
        break;
    }
    pthread_mutex_unlock(&e->mu);
}

void cn_expect_age(cn_expectations *e, int64_t ms)
{
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < EXPECT_BUCKETS; i++)
        for (expect_rec *r = e->b[i]; r; r = r->next) r->stamp_ms -= ms;
    pthread_mutex_unlock(&e->mu);
}

/* ---------------------------------------------------------------------
 * JSON helpers and pod facts
 * ------------------------------------------------------------------- */

/* Hot: every pod of a ReplicaSet is looked at on every sync. */
static const json_t *at(const json_t *obj, const char *dotted)
{
    const json_t *cur = obj;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        cur = json_object_getn(cur, p, n);
        p += n + (dot != NULL);
    }
    return cur;
}

int64_t cn_json_int_at(const json_t *obj, const char *dotted, int64_t def)
{
    const json_t *j = at(obj, dotted);
    return json_is_integer(j) ? (int64_t)json_integer_value(j) : def;
}

static int64_t time_at(const json_t *obj, const char *dotted)
{
    const char *s = json_string_value(at(obj, dotted));
    int64_t t;
    return s && cn_time_parse(s, &t) == 0 ? t : 0;
}

int64_t cn_obj_created(const json_t *obj) { return time_at(obj, "metadata.creationTimestamp"); }

static bool deleting(const json_t *obj)
{
    const json_t *d = at(obj, "metadata.deletionTimestamp");
    return d && !json_is_null(d);
}

bool cn_pod_active(const json_t *pod)
{
    const char *phase = json_string_value(at(pod, "status.phase"));
    if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) return false;
    return !deleting(pod);
}

static const json_t *ready_cond(const json_t *pod)
{
    const json_t *conds = at(pod, "status.conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, "Ready")) return c;
    }
    return NULL;
}

bool cn_pod_ready(const json_t *pod)
{
    const json_t *c = ready_cond(pod);
    const char *st = c ? json_string_value(json_object_get(c, "status")) : NULL;
    return st && !strcmp(st, "True");
}

int64_t cn_pod_ready_since(const json_t *pod)
{
    if (!cn_pod_ready(pod)) return -1;
    const char *s = json_string_value(json_object_get(ready_cond(pod), "lastTransitionTime"));
    int64_t t;
    return s && cn_time_parse(s, &t) == 0 ? t : -1;
}

bool cn_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_s)
{
    if (!cn_pod_ready(pod)) return false;
    if (min_ready_s <= 0) return true;
    int64_t since = cn_pod_ready_since(pod);
    return since >= 0 && since + min_ready_s <= now_s;
}

/* ---------------------------------------------------------------------
 * children from templates
 * ------------------------------------------------------------------- */

json_t *cn_owner_ref(const json_t *owner, const char *api_version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                     "name", cn_meta_str(owner, "name"), "uid", cn_meta_str(owner, "uid"),
                     "controller", 1, "blockOwnerDeletion", 1);
}

json_t *cn_pod_from_template(const json_t *owner, const char *api_version, const char *kind,
                             const json_t *tmpl)
{
    const json_t *tmeta = json_object_get(tmpl, "metadata");
    json_t *meta = json_object();
    char *gen = cn_asprintf("%s-", cn_meta_str(owner, "name"));
    json_object_set_new(meta, "generateName", json_string(gen));
    free(gen);
    json_object_set_new(meta, "namespace", json_string(cn_meta_str(owner, "namespace")));
    static const char *const copied[] = { "labels", "annotations", "finalizers", NULL };
    for (int i = 0; copied[i]; i++) {
        const json_t *v = json_object_get(tmeta, copied[i]);
        if (v && !json_is_null(v)) json_object_set_new(meta, copied[i], json_deep_copy(v));
    }
    json_t *refs = json_array();
    json_array_append_new(refs, cn_owner_ref(owner, api_version, kind));
    json_object_set_new(meta, "ownerReferences", refs);
    const json_t *spec = json_object_get(tmpl, "spec");
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                     "spec", spec ? json_deep_copy(spec) : json_object());
}

/* ---------------------------------------------------------------------
 * deletion ranking
 * ------------------------------------------------------------------- */

static int phase_rank(const json_t *pod)
{
    const char *p = json_string_value(at(pod, "status.phase"));
    if (!p || !strcmp(p, "Pending")) return 0;
    if (!strcmp(p, "Unknown")) return 1;
    if (!strcmp(p, "Running")) return 2;
    return 3;
}

static int64_t restarts(const json_t *pod)
{
    int64_t max = 0;
    size_t i;
    const json_t *cs;
    json_array_foreach(at(pod, "status.containerStatuses"), i, cs) {
        int64_t r = cn_json_int_at(cs, "restartCount", 0);
        if (r > max) max = r;
    }
    return max;
}

static int64_t deletion_cost(const json_t *pod)
{
    const json_t *ann = at(pod, "metadata.annotations");
    const char *v = json_string_value(json_object_get(ann, "controller.kubernetes.io/pod-deletion-cost"));
    int64_t c;
    return v && cn_parse_int64(v, &c) == 0 ? c : 0;
}

typedef struct ranked { const json_t *pod; int rank; } ranked;

/* <0 when a should be deleted before b. */
static int cmp_delete(const void *pa, const void *pb)
{
    const ranked *ra = pa, *rb = pb;
    const json_t *a = ra->pod, *b = rb->pod;
    bool sa = *cn_json_str_at(a, "spec.nodeName"), sb = *cn_json_str_at(b, "spec.nodeName");
    if (sa != sb) return sa ? 1 : -1;
    int pa_ = phase_rank(a), pb_ = phase_rank(b);
    if (pa_ != pb_) return pa_ < pb_ ? -1 : 1;
    bool ya = cn_pod_ready(a), yb = cn_pod_ready(b);
    if (ya != yb) return ya ? 1 : -1;
    if (ra->rank != rb->rank) return ra->rank > rb->rank ? -1 : 1;
    if (ya && yb) {
        int64_t ca = deletion_cost(a), cb = deletion_cost(b);
        if (ca != cb) return ca < cb ? -1 : 1;
        int64_t ta = cn_pod_ready_since(a), tb = cn_pod_ready_since(b);
        if (ta != tb) return ta > tb ? -1 : 1;   /* ready more recently first */
    }
    int64_t xa = restarts(a), xb = restarts(b);
    if (xa != xb) return xa > xb ? -1 : 1;
    int64_t ca = cn_obj_created(a), cb = cn_obj_created(b);
    if (ca != cb) return ca > cb ? -1 : 1;       /* newer first */
    return strcmp(cn_meta_str(a, "name"), cn_meta_str(b, "name"));
}

void cn_pods_sort_for_deletion(const json_t **pods, int *ranks, size_t n)
{
    if (n < 2) return;
    ranked *r = cn_calloc(n, sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = (ranked){ pods[i], ranks ? ranks[i] : 0 };
    qsort(r, n, sizeof *r, cmp_delete);
    for (size_t i = 0; i < n; i++) {
        pods[i] = r[i].pod;
        if (ranks) ranks[i] = r[i].rank;
    }
    free(r);
}

/* Batch i of slow start calls fn with the overall index. */
typedef struct batch_ctx { int (*fn)(void *ud, int i); void *ud; int base; } batch_ctx;

static int batch_call(void *ud, int i)
{
    batch_ctx *b = ud;
    return b->fn(b->ud, b->base + i);
}

typedef struct prun {
    pthread_mutex_t mu;
    int next, n, ok, first_err;
    int (*fn)(void *ud, int i);
    void *ud;
} prun;

static void *prun_worker(void *arg)
{
    prun *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int i = p->next < p->n ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (i < 0) break;
        int r = p->fn(p->ud, i);
        pthread_mutex_lock(&p->mu);
        if (r >= 0) p->ok++;
        else if (!p->first_err) p->first_err = r;
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

int cn_parallel_run(int n, int parallel, int (*fn)(void *ud, int i), void *ud, int *first_err)
{
    prun p = { .n = n, .fn = fn, .ud = ud };
    pthread_mutex_init(&p.mu, NULL);
    int extra = (parallel < n ? parallel : n) - 1, started = 0;
    pthread_t *th = extra > 0 ? cn_calloc((size_t)extra, sizeof *th) : NULL;
    for (int i = 0; i < extra; i++)
        if (pthread_create(&th[started], NULL, prun_worker, &p) == 0) started++;
    prun_worker(&p);   /* the caller works too, so n == 1 costs no thread */
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    free(th);
    pthread_mutex_destroy(&p.mu);
    if (first_err) *first_err = p.first_err;
    return p.ok;
}

int cn_slow_start_batch(int count, int initial, int parallel, int (*fn)(void *ud, int i), void *ud,
                        int *first_err)
{
    int done = 0, ok = 0;
    if (first_err) *first_err = 0;
    for (int batch = count < initial ? count : initial; batch > 0;) {
        int err = 0;
        batch_ctx b = { fn, ud, done };
        ok += cn_parallel_run(batch, parallel, batch_call, &b, &err);
        if (err) {
            if (first_err) *first_err = err;
            break;
        }
        done += batch;
        int remaining = count - done;
        batch = 2 * batch < remaining ? 2 * batch : remaining;
    }
    return ok;
}

/* ---------------------------------------------------------------------
 * claiming
 * ------------------------------------------------------------------- */

static const json_t *controller_ref(const json_t *obj)
{
    size_t i;
    const json_t *r;
    json_array_foreach(at(obj, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

static char *child_path(const cn_claim *cl, const json_t *child)
{
    return cn_client_path(cl->group, cl->version, cn_meta_str(child, "namespace"), cl->plural,
                          cn_meta_str(child, "name"), NULL);
}

/* Upstream's RecheckDeletionTimestamp: an owner read straight from the API
 * must still be the same object and not be going away. */
static int can_adopt(cn_claim *cl, cn_err *err)
{
    if (cl->adopt_checked) return cl->adopt_checked > 0;
    const char *group = "", *version = cl->owner_api_version;
    char gbuf[128];
    const char *slash = strchr(cl->owner_api_version, '/');
    if (slash && (size_t)(slash - cl->owner_api_version) < sizeof gbuf) {
        memcpy(gbuf, cl->owner_api_version, (size_t)(slash - cl->owner_api_version));
        gbuf[slash - cl->owner_api_version] = 0;
        group = gbuf;
        version = slash + 1;
    }
    /* "ReplicaSet" -> "replicasets", "Deployment" -> "deployments" ... */
    char plural[96];
    size_t n = strlen(cl->owner_kind);
    if (n + 2 >= sizeof plural) return cn_err_internal(err, "owner kind too long");
    for (size_t i = 0; i < n; i++) plural[i] = (char)(cl->owner_kind[i] | 0x20);
    memcpy(plural + n, "s", 2);
    char *path = cn_client_path(group, version, cn_meta_str(cl->owner, "namespace"), plural,
                                cn_meta_str(cl->owner, "name"), NULL);
    json_t *fresh = NULL;
    int r = cn_client_get(cl->client, path, &fresh, err);
    free(path);
    if (r < 0) {
        if (err->code != 404) return r;
        cn_err_clear(err);
        cl->adopt_checked = -1;
        return 0;
    }
    bool same = !strcmp(cn_meta_str(fresh, "uid"), cn_meta_str(cl->owner, "uid")) && !deleting(fresh);
    json_decref(fresh);
    cl->adopt_checked = same ? 1 : -1;
    return same;
}

static size_t orphan_index(const json_t *obj, const char **keys, size_t max)
{
    if (!max || controller_ref(obj)) return 0;
    keys[0] = cn_meta_str(obj, "namespace");
    return 1;
}

void cn_podctl_add_orphan_index(cn_informer *pods) { cn_informer_add_index(pods, CN_PODCTL_ORPHANS, orphan_index); }

int cn_claim_child(cn_claim *cl, const json_t *child, cn_err *err)
{
    const json_t *ref = controller_ref(child);
    const char *owner_uid = cn_meta_str(cl->owner, "uid");
    bool matches = cn_selector_matches(cl->selector, at(child, "metadata.labels"));
    json_t *patch = NULL;
    if (ref) {
        if (strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", owner_uid)) return 0;
        if (matches) return 1;
        if (deleting(cl->owner)) return 1;   /* upstream: ignore while the owner goes */
        patch = json_pack("{s:{s:[{s:s, s:s}], s:s}}", "metadata", "ownerReferences", "$patch", "delete",
                          "uid", owner_uid, "uid", cn_meta_str(child, "uid"));
    } else {
        if (!matches || deleting(cl->owner) || deleting(child)) return 0;
        int ok = can_adopt(cl, err);
        if (ok <= 0) return ok;
        patch = json_pack("{s:{s:[o], s:s}}", "metadata", "ownerReferences",
                          cn_owner_ref(cl->owner, cl->owner_api_version, cl->owner_kind),
                          "uid", cn_meta_str(child, "uid"));
    }
    char *path = child_path(cl, child);
    int r = cn_client_patch(cl->client, path, CN_PATCH_STRATEGIC, patch, NULL, err);
    free(path);
    json_decref(patch);
    if (r < 0) {
        /* Gone meanwhile, or changed (uid precondition): not ours. */
        if (err->code == 404 || err->code == 409 || err->code == 422) {
            cn_err_clear(err);
            return 0;
        }
        return r;
    }
    return ref ? 0 : 1;
}
