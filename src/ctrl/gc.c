/* gc: the garbage collector, after kube-controller-manager's.
 *
 * It watches every resource the server serves (found by discovery when
 * the controllers start: /api/v1, /apis; subresources and events left
 * out) and keeps a graph of the objects by uid: each node knows its owners
 * (ownerReferences) and, through a reverse index, its dependents. Graph
 * changes put uids on a work queue; a worker then decides with live state
 * from the API (never the cache alone, so a dependent whose owner ref was
 * just removed is not deleted on a stale view):
 *
 *   object with owners ............ classify each owner (solid, dangling,
 *                                    waiting for dependents, unknown) and
 *                                    cn_gc_decide: keep, drop refs, or
 *                                    delete (background / foreground)
 *   owner deleting + "orphan" ..... remove its ownerReferences from every
 *                                    dependent, then the finalizer
 *   owner deleting + "foregroundDeletion"
 *                                   delete its dependents; once no
 *                                    dependent with blockOwnerDeletion is
 *                                    left, remove the finalizer (the API
 *                                    then deletes the owner)
 *
 * An owner absent from the graph is looked up on the API by uid before
 * anything is deleted; an owner of a kind the server does not serve is
 * treated as present (upstream refuses to guess as well). A CRD that is
 * added or changes makes the collector discover again and watch the new
 * resources too (a deleted CRD's resource stays watched, empty, until the
 * next controller start). */
#include "ctrl/gc.h"
#include "ctrl/housekeeping.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define FIN_ORPHAN 1
#define FIN_FOREGROUND 2

struct gc;

typedef struct gc_res {
    char *group, *version, *plural, *kind;
    bool namespaced;
    size_t index;        /* in gc->res */
    struct gc *gc;
} gc_res;

/* Resources are only ever added (a new CRD), never moved: readers index
 * g->res without the lock below nres. */
#define GC_MAX_RES 2048
#define DISCOVER_KEY "!discover"

typedef struct gc_node {
    size_t res;          /* index in gc->res */
    char *ns, *name;
    json_t *owners;      /* [{uid, blocking}] */
    int fin;             /* FIN_* among its finalizers */
    bool deleting;
} gc_node;

typedef struct gc {
    cn_ctrl_ctx *ctx;
    pthread_mutex_t lock;
    cn_strmap *nodes;    /* uid -> gc_node */
    cn_strmap *deps;     /* owner uid -> cn_strmap of dependent uid -> (void *)1 */
    gc_res *res[GC_MAX_RES];
    size_t nres;         /* under lock */
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_informer *crds;
} gc;

/* ---- pure decisions ---- */

cn_gc_action cn_gc_decide(const json_t *obj, const cn_gc_owner *owners, size_t n, bool has_dependents)
{
    if (n == 0 || json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp")) return CN_GC_KEEP;
    size_t solid = 0, gone = 0, waiting = 0;
    for (size_t i = 0; i < n; i++) {
        if (owners[i] == CN_GC_SOLID || owners[i] == CN_GC_UNKNOWN) solid++;
        else if (owners[i] == CN_GC_DANGLING) gone++;
        else waiting++;
    }
    if (solid) return gone || waiting ? CN_GC_DROP_REFS : CN_GC_KEEP;
    if (waiting && has_dependents) return CN_GC_DELETE_FOREGROUND;
    /* Otherwise the policy the object's own finalizers ask for. */
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f) {
        const char *s = json_string_value(f);
        if (s && !strcmp(s, "orphan")) return CN_GC_DELETE_ORPHAN;
        if (s && !strcmp(s, "foregroundDeletion")) return CN_GC_DELETE_FOREGROUND;
    }
    return CN_GC_DELETE_BACKGROUND;
}

/* ---- the graph (under g->lock) ---- */

static void node_free(void *p)
{
    gc_node *n = p;
    if (!n) return;
    free(n->ns);
    free(n->name);
    json_decref(n->owners);
    free(n);
}

static void deps_free(void *p) { cn_strmap_free(p, NULL); }

static void link_dep(gc *g, const char *owner, const char *dep)
{
    cn_strmap *d = cn_strmap_get(g->deps, owner);
    if (!d) {
        d = cn_strmap_new();
        cn_strmap_put(g->deps, owner, d);
    }
    cn_strmap_put(d, dep, (void *)1);
}

static void unlink_dep(gc *g, const char *owner, const char *dep)
{
    cn_strmap *d = cn_strmap_get(g->deps, owner);
    if (!d) return;
    cn_strmap_del(d, dep);
    if (!cn_strmap_len(d)) cn_strmap_free(cn_strmap_del(g->deps, owner), NULL);
}

static int fin_flags(const json_t *obj)
{
    int f = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, v) {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, "orphan")) f |= FIN_ORPHAN;
        if (s && !strcmp(s, "foregroundDeletion")) f |= FIN_FOREGROUND;
    }
    return f;
}

static bool visit_enqueue(void *ud, const char *key, void *val)
{
    (void)val;
    cn_workqueue_add(ud, key);
    return true;
}

static void observe(gc_res *r, const json_t *obj)
{
    gc *g = r->gc;
    const char *uid = cn_meta_str(obj, "uid");
    if (!*uid) return;
    json_t *owners = json_array();
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, ref) {
        const char *ou = json_string_value(json_object_get(ref, "uid"));
        if (!ou || !*ou) continue;
        json_array_append_new(owners, json_pack("{s:s,s:b}", "uid", ou, "blocking",
                                                json_is_true(json_object_get(ref, "blockOwnerDeletion"))));
    }
    pthread_mutex_lock(&g->lock);
    gc_node *n = cn_strmap_get(g->nodes, uid);
    if (!n) {
        n = cn_calloc(1, sizeof *n);
        n->res = r->index;
        n->ns = cn_strdup(cn_meta_str(obj, "namespace"));
        n->name = cn_strdup(cn_meta_str(obj, "name"));
        cn_strmap_put(g->nodes, uid, n);
    }
    json_array_foreach(n->owners, i, ref) unlink_dep(g, json_string_value(json_object_get(ref, "uid")), uid);
    json_decref(n->owners);
    n->owners = owners;
    bool enqueue = false;
    json_array_foreach(owners, i, ref) {
        const char *ou = json_string_value(json_object_get(ref, "uid"));
        link_dep(g, ou, uid);
        gc_node *o = cn_strmap_get(g->nodes, ou);
        /* An owner not (yet) seen, or on its way out: look closer. */
        if (!o || o->deleting) enqueue = true;
    }
    bool was_deleting = n->deleting;
    n->deleting = *cn_meta_str(obj, "deletionTimestamp") != '\0';
    n->fin = fin_flags(obj);
    if (n->deleting && n->fin) enqueue = true;
    /* A foreground owner: its dependents are to be deleted now. */
    if (n->deleting && !was_deleting && (n->fin & FIN_FOREGROUND)) {
        cn_strmap *d = cn_strmap_get(g->deps, uid);
        if (d) cn_strmap_foreach(d, visit_enqueue, g->q);
    }
    pthread_mutex_unlock(&g->lock);
    if (enqueue) cn_workqueue_add(g->q, uid);
}

static void on_add(void *ud, const json_t *obj) { observe(ud, obj); }
static void on_update(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    observe(ud, obj);
}

static void on_delete(void *ud, const json_t *obj)
{
    gc_res *r = ud;
    gc *g = r->gc;
    const char *uid = cn_meta_str(obj, "uid");
    pthread_mutex_lock(&g->lock);
    gc_node *n = cn_strmap_del(g->nodes, uid);
    if (n) {
        size_t i;
        json_t *ref;
        json_array_foreach(n->owners, i, ref) {
            const char *ou = json_string_value(json_object_get(ref, "uid"));
            unlink_dep(g, ou, uid);
            gc_node *o = cn_strmap_get(g->nodes, ou);
            if (o && o->deleting) cn_workqueue_add(g->q, ou);
        }
        node_free(n);
    }
    /* Its dependents lost an owner. The reverse index entry stays until
     * they are gone or rewritten: it is how they are found. */
    cn_strmap *d = cn_strmap_get(g->deps, uid);
    if (d) cn_strmap_foreach(d, visit_enqueue, g->q);
    pthread_mutex_unlock(&g->lock);
}

/* ---- API helpers ---- */

static char *obj_path(const gc_res *r, const char *ns, const char *name)
{
    return cn_client_path(r->group, r->version, r->namespaced ? ns : NULL, r->plural, name, NULL);
}

static bool is_not_found(const cn_err *e) { return e->code == 404; }

/* The resource serving apiVersion/kind, or NULL. */
static size_t res_count(gc *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->nres;
    pthread_mutex_unlock(&g->lock);
    return n;
}

static const gc_res *res_for(gc *g, const char *api_version, const char *kind)
{
    const char *slash = strchr(api_version, '/');
    size_t glen = slash ? (size_t)(slash - api_version) : 0;
    size_t n = res_count(g);
    for (size_t i = 0; i < n; i++) {
        const gc_res *r = g->res[i];
        if (strcmp(r->kind, kind)) continue;
        if (strlen(r->group) == glen && !strncmp(r->group, api_version, glen)) return r;
    }
    return NULL;
}

/* Classify one owner reference of obj. < 0 on an API error (retry). */
static int owner_state(gc *g, const json_t *obj, const json_t *ref, cn_gc_owner *out)
{
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    pthread_mutex_lock(&g->lock);
    gc_node *o = uid ? cn_strmap_get(g->nodes, uid) : NULL;
    if (o) *out = o->deleting && (o->fin & FIN_FOREGROUND) ? CN_GC_WAITING : CN_GC_SOLID;
    pthread_mutex_unlock(&g->lock);
    if (o) return 0;
    const char *av = json_string_value(json_object_get(ref, "apiVersion"));
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    const gc_res *r = av && kind ? res_for(g, av, kind) : NULL;
    if (!r || !name) {
        *out = CN_GC_UNKNOWN;
        return 0;
    }
    /* Not in the graph: ask the API (the watch may simply lag). */
    char *path = obj_path(r, cn_meta_str(obj, "namespace"), name);
    json_t *live = NULL;
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_get(g->ctx->client, path, &live, &e);
    free(path);
    if (rc < 0) {
        bool nf = is_not_found(&e);
        cn_err_clear(&e);
        if (!nf) return rc;
        *out = CN_GC_DANGLING;
        return 0;
    }
    if (strcmp(cn_meta_str(live, "uid"), uid ? uid : "")) *out = CN_GC_DANGLING;
    else if (*cn_meta_str(live, "deletionTimestamp") && (fin_flags(live) & FIN_FOREGROUND)) *out = CN_GC_WAITING;
    else *out = CN_GC_SOLID;
    json_decref(live);
    return 0;
}

static int delete_obj(gc *g, const gc_res *r, const json_t *obj, const char *policy)
{
    char *path = obj_path(r, cn_meta_str(obj, "namespace"), cn_meta_str(obj, "name"));
    json_t *opts = json_pack("{s:s,s:s,s:s,s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "propagationPolicy", policy, "preconditions", "uid", cn_meta_str(obj, "uid"));
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_delete(g->ctx->client, path, opts, NULL, &e);
    if (rc < 0 && (is_not_found(&e) || e.code == 409)) rc = 0;   /* gone, or another object now */
    else if (rc < 0) cn_warn("garbage collector: deleting %s %s: %s", r->plural, path, e.message ? e.message : "?");
    else cn_info("garbage collector: deleted %s \"%s/%s\" (%s)", r->kind, cn_meta_str(obj, "namespace"),
                 cn_meta_str(obj, "name"), policy);
    cn_err_clear(&e);
    json_decref(opts);
    free(path);
    return rc;
}

/* PUT obj back; a conflict or an error is retried by the caller. */
static int put_obj(gc *g, const gc_res *r, const json_t *obj)
{
    char *path = obj_path(r, cn_meta_str(obj, "namespace"), cn_meta_str(obj, "name"));
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_update(g->ctx->client, path, obj, NULL, &e);
    if (rc < 0 && is_not_found(&e)) rc = 0;
    else if (rc < 0 && e.code != 409) cn_warn("garbage collector: updating %s: %s", path, e.message ? e.message : "?");
    cn_err_clear(&e);
    free(path);
    return rc;
}

/* The live object for a node, or NULL (gone, replaced, or error: *rc). */
static json_t *get_live(gc *g, const gc_res *r, const char *ns, const char *name, const char *uid, int *rc)
{
    char *path = obj_path(r, ns, name);
    json_t *live = NULL;
    cn_err e = CN_ERR_INIT;
    *rc = cn_client_get(g->ctx->client, path, &live, &e);
    free(path);
    if (*rc < 0) {
        if (is_not_found(&e)) *rc = 0;
        cn_err_clear(&e);
        return NULL;
    }
    if (strcmp(cn_meta_str(live, "uid"), uid)) {
        json_decref(live);
        return NULL;
    }
    return live;
}

/* Remove entries of array field meta.<field> for which keep() is false. */
static bool filter_meta(json_t *obj, const char *field, bool (*keep)(const json_t *v, const void *ud), const void *ud)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *arr = json_object_get(meta, field);
    json_t *na = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (keep(v, ud)) json_array_append(na, v);
    bool changed = json_array_size(na) != json_array_size(arr);
    if (changed) {
        if (json_array_size(na)) json_object_set(meta, field, na);
        else json_object_del(meta, field);
    }
    json_decref(na);
    return changed;
}

static bool ref_not_uid(const json_t *v, const void *uid)
{
    return strcmp(json_string_value(json_object_get(v, "uid")) ?: "", uid);
}

static bool not_finalizer(const json_t *v, const void *name)
{
    return strcmp(json_string_value(v) ?: "", name);
}

struct keep_refs {
    const json_t *refs;
    const cn_gc_owner *st;
};

static bool ref_is_solid(const json_t *v, const void *ud)
{
    const struct keep_refs *k = ud;
    size_t i;
    json_t *r;
    json_array_foreach(k->refs, i, r)
        if (r == v) return k->st[i] == CN_GC_SOLID || k->st[i] == CN_GC_UNKNOWN;
    return true;
}

static int remove_finalizer(gc *g, const gc_res *r, const char *ns, const char *name, const char *uid, const char *fin)
{
    int rc;
    json_t *live = get_live(g, r, ns, name, uid, &rc);
    if (!live) return rc;
    if (filter_meta(live, "finalizers", not_finalizer, fin)) {
        rc = put_obj(g, r, live);
        if (rc == 0) cn_info("garbage collector: %s \"%s\": removed finalizer %s", r->kind, name, fin);
    }
    json_decref(live);
    return rc;
}

/* A copy of the dependents of uid: [{uid, res, ns, name, blocking}]. */
static json_t *dependents_of(gc *g, const char *uid);

struct dep_collect {
    gc *g;
    const char *owner;
    json_t *out;
};

static bool collect_dep(void *ud, const char *key, void *val)
{
    (void)val;
    struct dep_collect *c = ud;
    gc_node *n = cn_strmap_get(c->g->nodes, key);
    if (!n) return true;
    bool blocking = false;
    size_t i;
    json_t *ref;
    json_array_foreach(n->owners, i, ref)
        if (!strcmp(json_string_value(json_object_get(ref, "uid")), c->owner) &&
            json_is_true(json_object_get(ref, "blocking")))
            blocking = true;
    json_array_append_new(c->out, json_pack("{s:s,s:I,s:s,s:s,s:b,s:b}", "uid", key, "res", (json_int_t)n->res,
                                            "ns", n->ns, "name", n->name, "blocking", blocking,
                                            "deleting", n->deleting));
    return true;
}

static json_t *dependents_of(gc *g, const char *uid)
{
    struct dep_collect c = { g, uid, json_array() };
    pthread_mutex_lock(&g->lock);
    cn_strmap *d = cn_strmap_get(g->deps, uid);
    if (d) cn_strmap_foreach(d, collect_dep, &c);
    pthread_mutex_unlock(&g->lock);
    return c.out;
}

/* ---- the three kinds of work ---- */

/* Whether the graph already shows every owner of uid alive and not
 * deleting: then there is nothing to do and no need to ask the API (the
 * common case after a start, when dependents were seen before owners). */
static bool owners_solid(gc *g, const char *uid)
{
    pthread_mutex_lock(&g->lock);
    gc_node *n = cn_strmap_get(g->nodes, uid);
    bool solid = n && json_array_size(n->owners) > 0;
    size_t i;
    json_t *ref;
    if (n) json_array_foreach(n->owners, i, ref) {
        gc_node *o = cn_strmap_get(g->nodes, json_string_value(json_object_get(ref, "uid")));
        if (!o || o->deleting) solid = false;
    }
    pthread_mutex_unlock(&g->lock);
    return solid;
}

static int attempt_delete(gc *g, const gc_res *r, const char *ns, const char *name, const char *uid)
{
    int rc;
    if (owners_solid(g, uid)) return 0;
    json_t *live = get_live(g, r, ns, name, uid, &rc);
    if (!live) return rc;
    json_t *refs = json_object_get(json_object_get(live, "metadata"), "ownerReferences");
    size_t n = json_array_size(refs);
    cn_gc_owner *st = cn_calloc(n ? n : 1, sizeof *st);
    for (size_t i = 0; i < n && rc == 0; i++) rc = owner_state(g, live, json_array_get(refs, i), &st[i]);
    if (rc < 0) goto out;
    pthread_mutex_lock(&g->lock);
    cn_strmap *d = cn_strmap_get(g->deps, uid);
    bool has_deps = d && cn_strmap_len(d) > 0;
    pthread_mutex_unlock(&g->lock);
    switch (cn_gc_decide(live, st, n, has_deps)) {
    case CN_GC_KEEP:
        break;
    case CN_GC_DROP_REFS: {
        struct keep_refs k = { refs, st };
        json_t *copy = json_deep_copy(live);
        /* Match by position: filter on the copy with the original refs. */
        json_t *nr = json_array();
        for (size_t i = 0; i < n; i++)
            if (ref_is_solid(json_array_get(refs, i), &k)) json_array_append(nr, json_array_get(refs, i));
        json_object_set_new(json_object_get(copy, "metadata"), "ownerReferences", nr);
        rc = put_obj(g, r, copy);
        json_decref(copy);
        break;
    }
    case CN_GC_DELETE_BACKGROUND:
        rc = delete_obj(g, r, live, "Background");
        break;
    case CN_GC_DELETE_FOREGROUND:
        rc = delete_obj(g, r, live, "Foreground");
        break;
    case CN_GC_DELETE_ORPHAN:
        rc = delete_obj(g, r, live, "Orphan");
        break;
    }
out:
    free(st);
    json_decref(live);
    return rc;
}

static int orphan_dependents(gc *g, const gc_res *r, const char *ns, const char *name, const char *uid)
{
    json_t *deps = dependents_of(g, uid);
    int rc = 0;
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d) {
        const gc_res *dr = g->res[json_integer_value(json_object_get(d, "res"))];
        int grc;
        json_t *live = get_live(g, dr, json_string_value(json_object_get(d, "ns")),
                                json_string_value(json_object_get(d, "name")),
                                json_string_value(json_object_get(d, "uid")), &grc);
        if (!live) {
            if (grc < 0) rc = grc;
            continue;
        }
        if (filter_meta(live, "ownerReferences", ref_not_uid, uid)) {
            int prc = put_obj(g, dr, live);
            if (prc < 0) rc = prc;
        }
        json_decref(live);
    }
    json_decref(deps);
    if (rc < 0) return rc;
    return remove_finalizer(g, r, ns, name, uid, "orphan");
}

static int delete_dependents(gc *g, const gc_res *r, const char *ns, const char *name, const char *uid)
{
    json_t *deps = dependents_of(g, uid);
    int rc = 0;
    size_t blocking = 0, i;
    json_t *d;
    json_array_foreach(deps, i, d) {
        if (json_is_true(json_object_get(d, "blocking"))) blocking++;
        if (json_is_true(json_object_get(d, "deleting"))) continue;
        const gc_res *dr = g->res[json_integer_value(json_object_get(d, "res"))];
        int arc = attempt_delete(g, dr, json_string_value(json_object_get(d, "ns")),
                                 json_string_value(json_object_get(d, "name")),
                                 json_string_value(json_object_get(d, "uid")));
        if (arc < 0) rc = arc;
    }
    json_decref(deps);
    if (rc < 0) return rc;
    /* Blocking dependents left: their deletion requeues this owner. */
    if (blocking) return 0;
    return remove_finalizer(g, r, ns, name, uid, "foregroundDeletion");
}

static int discover(gc *g, cn_err *err);

struct crd_check {
    gc *g;
    bool all;
};

static bool crd_discovered(void *ud, const json_t *crd)
{
    struct crd_check *c = ud;
    const char *group = cn_json_str_at(crd, "spec.group"), *plural = cn_json_str_at(crd, "spec.names.plural");
    bool served = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(crd, "spec"), "versions"), i, v)
        if (json_is_true(json_object_get(v, "served"))) served = true;
    if (!served || *cn_meta_str(crd, "deletionTimestamp")) return true;
    pthread_mutex_lock(&c->g->lock);
    bool have = false;
    for (size_t j = 0; j < c->g->nres && !have; j++)
        have = !strcmp(c->g->res[j]->group, group) && !strcmp(c->g->res[j]->plural, plural);
    pthread_mutex_unlock(&c->g->lock);
    if (!have) c->all = false;
    return c->all;
}

static int sync(void *ud, const char *uid)
{
    gc *g = ud;
    if (!strcmp(uid, DISCOVER_KEY)) {
        cn_err e = CN_ERR_INIT;
        int rc = discover(g, &e);
        cn_err_clear(&e);
        /* The API serves a new CRD's resource a moment after the CRD is
         * written: until discovery shows every served CRD, look again
         * (with the queue's backoff). */
        if (rc == 0 && g->crds) {
            struct crd_check c = { g, true };
            cn_informer_foreach(g->crds, crd_discovered, &c);
            if (!c.all) rc = -1;
        }
        return rc;
    }
    pthread_mutex_lock(&g->lock);
    gc_node *n = cn_strmap_get(g->nodes, uid);
    if (!n) {
        pthread_mutex_unlock(&g->lock);
        return 0;
    }
    const gc_res *r = g->res[n->res];
    char *ns = cn_strdup(n->ns), *name = cn_strdup(n->name);
    bool deleting = n->deleting;
    int fin = n->fin;
    pthread_mutex_unlock(&g->lock);
    int rc;
    if (deleting && (fin & FIN_ORPHAN)) rc = orphan_dependents(g, r, ns, name, uid);
    else if (deleting && (fin & FIN_FOREGROUND)) rc = delete_dependents(g, r, ns, name, uid);
    else rc = attempt_delete(g, r, ns, name, uid);
    free(ns);
    free(name);
    return rc;
}

/* ---- discovery ---- */

static bool has_verb(const json_t *verbs, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(verbs, i, x) if (!strcmp(json_string_value(x) ?: "", v)) return true;
    return false;
}

/* Watch a resource not watched yet (its informer starts at once when the
 * factory has started; a handler added late is told of every cached
 * object). */
static void add_resource(gc *g, const char *group, const char *version, const char *plural, const char *kind,
                         bool namespaced)
{
    pthread_mutex_lock(&g->lock);
    bool have = false;
    for (size_t i = 0; i < g->nres && !have; i++)
        have = !strcmp(g->res[i]->group, group) && !strcmp(g->res[i]->plural, plural);
    gc_res *r = NULL;
    if (!have && g->nres < GC_MAX_RES) {
        r = cn_calloc(1, sizeof *r);
        *r = (gc_res){ cn_strdup(group), cn_strdup(version), cn_strdup(plural), cn_strdup(kind), namespaced,
                       g->nres, g };
        g->res[g->nres++] = r;
    }
    pthread_mutex_unlock(&g->lock);
    if (!r) return;
    cn_informer *inf = cn_informers_get(g->ctx->inf, group, version, plural);
    cn_informer_handler h = { on_add, on_update, on_delete, r };
    cn_informer_add_handler(inf, &h);
}

static void add_resources(gc *g, const char *group, const char *version, const json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(list, "resources"), i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *kind = json_string_value(json_object_get(r, "kind"));
        json_t *verbs = json_object_get(r, "verbs");
        if (!name || !kind || strchr(name, '/')) continue;
        if (!has_verb(verbs, "list") || !has_verb(verbs, "watch") || !has_verb(verbs, "delete")) continue;
        if (!strcmp(name, "events")) continue;   /* as upstream: never owners, too many */
        add_resource(g, group, version, name, kind, json_is_true(json_object_get(r, "namespaced")));
    }
}

static int discover(gc *g, cn_err *err)
{
    json_t *core = NULL, *groups = NULL;
    int rc = cn_client_get(g->ctx->client, "/api/v1", &core, err);
    if (rc < 0) return rc;
    add_resources(g, "", "v1", core);
    json_decref(core);
    rc = cn_client_get(g->ctx->client, "/apis", &groups, err);
    if (rc < 0) return rc;
    size_t i;
    json_t *grp;
    json_array_foreach(json_object_get(groups, "groups"), i, grp) {
        const char *name = json_string_value(json_object_get(grp, "name"));
        json_t *pv = json_object_get(grp, "preferredVersion");
        const char *gv = json_string_value(json_object_get(pv, "groupVersion"));
        const char *ver = json_string_value(json_object_get(pv, "version"));
        if (!name || !gv || !ver) continue;
        char *path = cn_asprintf("/apis/%s", gv);
        json_t *list = NULL;
        cn_err e = CN_ERR_INIT;
        if (cn_client_get(g->ctx->client, path, &list, &e) == 0) add_resources(g, name, ver, list);
        cn_err_clear(&e);
        json_decref(list);
        free(path);
    }
    json_decref(groups);
    return 0;
}

/* ---- controller ---- */

static void crd_changed(void *ud, const json_t *obj)
{
    (void)obj;
    gc *g = ud;
    cn_workqueue_add(g->q, DISCOVER_KEY);
}

static void crd_updated(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    crd_changed(ud, obj);
}

static void gc_free(gc *g)
{
    for (size_t i = 0; i < g->nres; i++) {
        free(g->res[i]->group);
        free(g->res[i]->version);
        free(g->res[i]->plural);
        free(g->res[i]->kind);
        free(g->res[i]);
    }
    cn_strmap_free(g->nodes, node_free);
    cn_strmap_free(g->deps, deps_free);
    if (g->q) cn_workqueue_free(g->q);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    gc *g = cn_calloc(1, sizeof *g);
    g->ctx = ctx;
    pthread_mutex_init(&g->lock, NULL);
    g->nodes = cn_strmap_new();
    g->deps = cn_strmap_new();
    g->q = cn_workqueue_new(60000);
    int rc = discover(g, err);
    if (rc < 0 && g->nres == 0) {
        gc_free(g);
        return rc;
    }
    /* Partly discovered: go on; the next CRD change discovers again. */
    if (rc < 0) cn_warn("garbage collector: discovery incomplete: %s", err->message ? err->message : "?");
    for (size_t i = 0; i < g->nres; i++)
        cn_informers_get(ctx->inf, g->res[i]->group, g->res[i]->version, g->res[i]->plural);
    /* A new or changed CRD may serve a new resource: discover again. */
    g->crds = cn_informers_get(ctx->inf, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
    cn_informer_handler hc = { crd_changed, crd_updated, NULL, g };
    cn_informer_add_handler(g->crds, &hc);
    g->w = cn_ctrl_workers_start(ctx, "garbage-collector", g->q, ctx->cfg->workers, sync, g);
    *state = g;
    return 0;
}

static void stop(void *state)
{
    gc *g = state;
    cn_ctrl_workers_stop(g->w);
    gc_free(g);
}

const cn_controller cn_ctrl_gc = { "garbage-collector", start, stop };
