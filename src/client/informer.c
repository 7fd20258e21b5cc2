/* informer: see informer.h.
 *
 * One thread per informer: list (paged), swap the result in and tell the
 * handlers what changed, then watch from the list's resourceVersion. A watch
 * that ends is resumed from the last resourceVersion seen; one that says 410
 * (history compacted, or this server dropped a slow watcher) is replaced by
 * a new list, whose differences with the cache become the events the
 * handlers missed. */
#include "client/informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define MAX_INDEXES 8
#define MAX_INDEX_KEYS 16
#define LIST_PAGE 500
#define RETRY_MS 1000

typedef struct index {
    char *name;
    cn_index_fn fn;
    cn_strmap *map;          /* index key -> cn_strmap (object key -> json_t*, borrowed) */
} index_t;

struct cn_informer {
    cn_client *c;
    char *path;
    pthread_rwlock_t lock;   /* cache, indexes, rv */
    cn_strmap *cache;        /* "ns/name" -> json_t* (owned reference) */
    index_t idx[MAX_INDEXES];
    size_t nidx;
    char *rv;
    char kind[64], api_version[96];   /* filled in on list items that lack them */

    pthread_mutex_t hlock;   /* handlers; held while dispatching */
    cn_informer_handler *h;
    size_t nh;

    pthread_mutex_t slock;   /* synced, stop */
    pthread_cond_t scond;
    bool synced, stop, started;
    pthread_t thread;
};

static size_t ns_index(const json_t *obj, const char **keys, size_t max)
{
    const char *ns = cn_meta_str(obj, "namespace");
    if (!*ns || !max) return 0;
    keys[0] = ns;
    return 1;
}

static size_t owner_index(const json_t *obj, const char **keys, size_t max)
{
    const char *uid = cn_controller_uid(obj);
    if (!uid || !max) return 0;
    keys[0] = uid;
    return 1;
}

cn_informer *cn_informer_new(cn_client *c, const char *path)
{
    cn_informer *inf = cn_calloc(1, sizeof *inf);
    inf->c = c;
    inf->path = cn_strdup(path);
    pthread_rwlock_init(&inf->lock, NULL);
    pthread_mutex_init(&inf->hlock, NULL);
    pthread_mutex_init(&inf->slock, NULL);
    pthread_cond_init(&inf->scond, NULL);
    inf->cache = cn_strmap_new();
    inf->rv = cn_strdup("");
    cn_informer_add_index(inf, "namespace", ns_index);
    cn_informer_add_index(inf, "owner", owner_index);
    return inf;
}

void cn_informer_add_index(cn_informer *inf, const char *name, cn_index_fn fn)
{
    if (inf->nidx == MAX_INDEXES || inf->started) {
        cn_warn("informer %s: index %s not added", inf->path, name);
        return;
    }
    inf->idx[inf->nidx++] = (index_t){ cn_strdup(name), fn, cn_strmap_new() };
}

static char *obj_key(const json_t *obj)
{
    const char *ns = cn_meta_str(obj, "namespace");
    return *ns ? cn_asprintf("%s/%s", ns, cn_meta_str(obj, "name")) : cn_strdup(cn_meta_str(obj, "name"));
}

static void index_update(cn_informer *inf, const char *key, const json_t *old, json_t *obj)
{
    for (size_t i = 0; i < inf->nidx; i++) {
        const char *keys[MAX_INDEX_KEYS];
        size_t n = old ? inf->idx[i].fn(old, keys, MAX_INDEX_KEYS) : 0;
        for (size_t k = 0; k < n; k++) {
            cn_strmap *set = cn_strmap_get(inf->idx[i].map, keys[k]);
            if (!set) continue;
            cn_strmap_del(set, key);
            if (!cn_strmap_len(set)) cn_strmap_free(cn_strmap_del(inf->idx[i].map, keys[k]), NULL);
        }
        n = obj ? inf->idx[i].fn(obj, keys, MAX_INDEX_KEYS) : 0;
        for (size_t k = 0; k < n; k++) {
            cn_strmap *set = cn_strmap_get(inf->idx[i].map, keys[k]);
            if (!set) {
                set = cn_strmap_new();
                cn_strmap_put(inf->idx[i].map, keys[k], set);
            }
            cn_strmap_put(set, key, obj);
        }
    }
}

/* Stores obj (a reference is taken) under key; returns the old object
 * (the caller's reference) or NULL. obj NULL deletes. Write lock held. */
static json_t *store(cn_informer *inf, const char *key, json_t *obj)
{
    json_t *old = obj ? cn_strmap_put(inf->cache, key, json_incref(obj)) : cn_strmap_del(inf->cache, key);
    index_update(inf, key, old, obj);
    return old;
}

typedef enum { EV_ADD, EV_UPDATE, EV_DELETE } ev_kind;

static void dispatch(cn_informer *inf, ev_kind k, const json_t *old, const json_t *obj)
{
    pthread_mutex_lock(&inf->hlock);
    for (size_t i = 0; i < inf->nh; i++) {
        const cn_informer_handler *h = &inf->h[i];
        if (k == EV_ADD && h->on_add) h->on_add(h->ud, obj);
        else if (k == EV_UPDATE && h->on_update) h->on_update(h->ud, old, obj);
        else if (k == EV_DELETE && h->on_delete) h->on_delete(h->ud, old);
    }
    pthread_mutex_unlock(&inf->hlock);
}

static bool collect(void *ud, const char *key, void *val)
{
    json_array_append((json_t *)ud, (json_t *)val);
    return true;
}

void cn_informer_add_handler(cn_informer *inf, const cn_informer_handler *h)
{
    pthread_mutex_lock(&inf->hlock);
    inf->h = cn_realloc(inf->h, (inf->nh + 1) * sizeof *inf->h);
    inf->h[inf->nh++] = *h;
    if (h->on_add) {
        json_t *all = json_array();
        pthread_rwlock_rdlock(&inf->lock);
        cn_strmap_foreach(inf->cache, collect, all);
        pthread_rwlock_unlock(&inf->lock);
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o) h->on_add(h->ud, o);
        json_decref(all);
    }
    pthread_mutex_unlock(&inf->hlock);
}

static bool stopping(cn_informer *inf)
{
    pthread_mutex_lock(&inf->slock);
    bool s = inf->stop;
    pthread_mutex_unlock(&inf->slock);
    return s;
}

static void pause_ms(cn_informer *inf, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&inf->slock);
    if (!inf->stop) pthread_cond_timedwait(&inf->scond, &inf->slock, &ts);
    pthread_mutex_unlock(&inf->slock);
}

static void set_rv(cn_informer *inf, const char *rv)
{
    if (!rv || !*rv) return;
    pthread_rwlock_wrlock(&inf->lock);
    free(inf->rv);
    inf->rv = cn_strdup(rv);
    pthread_rwlock_unlock(&inf->lock);
}

static void fill_kind(cn_informer *inf, json_t *obj)
{
    if (inf->kind[0] && !json_object_get(obj, "kind"))
        json_object_set_new(obj, "kind", json_string(inf->kind));
    if (inf->api_version[0] && !json_object_get(obj, "apiVersion"))
        json_object_set_new(obj, "apiVersion", json_string(inf->api_version));
}

/* Applies one object from a list or watch: ADD/UPDATE/DELETE as needed. */
static void apply(cn_informer *inf, ev_kind k, json_t *obj)
{
    char *key = obj_key(obj);
    pthread_rwlock_wrlock(&inf->lock);
    json_t *old = store(inf, key, k == EV_DELETE ? NULL : obj);
    pthread_rwlock_unlock(&inf->lock);
    if (k == EV_DELETE) {
        if (old) dispatch(inf, EV_DELETE, old, NULL);
    } else if (!old) {
        dispatch(inf, EV_ADD, NULL, obj);
    } else {
        dispatch(inf, EV_UPDATE, old, obj);
    }
    json_decref(old);
    free(key);
}

typedef struct gone_ctx {
    cn_strmap *seen;
    json_t *gone;
} gone_ctx;

static bool find_gone(void *ud, const char *key, void *val)
{
    gone_ctx *g = ud;
    if (!cn_strmap_has(g->seen, key)) json_array_append(g->gone, val);
    return true;
}

/* A full (paged) list; the cache becomes its result. */
static int relist(cn_informer *inf, cn_err *err)
{
    json_t *items = json_array();
    char *cont = NULL, *rv = NULL;
    int r = 0;
    do {
        char *ec = cont ? cn_client_escape(cont) : NULL;
        char *p = cn_asprintf("%s%slimit=%d%s%s", inf->path, strchr(inf->path, '?') ? "&" : "?",
                              LIST_PAGE, ec ? "&continue=" : "", ec ? ec : "");
        free(ec);
        json_t *page = NULL;
        r = cn_client_get(inf->c, p, &page, err);
        free(p);
        free(cont);
        cont = NULL;
        if (r < 0) break;
        const char *kind = json_string_value(json_object_get(page, "kind"));
        const char *av = json_string_value(json_object_get(page, "apiVersion"));
        if (kind && cn_str_has_suffix(kind, "List") && strlen(kind) - 4 < sizeof inf->kind)
            snprintf(inf->kind, sizeof inf->kind, "%.*s", (int)(strlen(kind) - 4), kind);
        if (av) snprintf(inf->api_version, sizeof inf->api_version, "%s", av);
        json_array_extend(items, json_object_get(page, "items"));
        json_t *meta = json_object_get(page, "metadata");
        const char *c = json_string_value(json_object_get(meta, "continue"));
        if (c && *c) cont = cn_strdup(c);
        free(rv);
        rv = cn_strdup(json_string_value(json_object_get(meta, "resourceVersion")));
        json_decref(page);
    } while (cont && !stopping(inf));
    if (r == 0 && !stopping(inf)) {
        cn_strmap *seen = cn_strmap_new();
        size_t i;
        json_t *o;
        json_array_foreach(items, i, o) {
            fill_kind(inf, o);
            char *key = obj_key(o);
            cn_strmap_put(seen, key, NULL);
            pthread_rwlock_rdlock(&inf->lock);
            json_t *cur = cn_strmap_get(inf->cache, key);
            bool same = cur && !strcmp(cn_meta_str(cur, "resourceVersion"), cn_meta_str(o, "resourceVersion"));
            pthread_rwlock_unlock(&inf->lock);
            free(key);
            if (!same) apply(inf, EV_UPDATE, o);
        }
        gone_ctx g = { seen, json_array() };
        pthread_rwlock_rdlock(&inf->lock);
        cn_strmap_foreach(inf->cache, find_gone, &g);
        pthread_rwlock_unlock(&inf->lock);
        json_array_foreach(g.gone, i, o) apply(inf, EV_DELETE, o);
        json_decref(g.gone);
        cn_strmap_free(seen, NULL);
        set_rv(inf, rv);
    }
    free(rv);
    free(cont);
    json_decref(items);
    return r;
}

static void mark_synced(cn_informer *inf)
{
    pthread_mutex_lock(&inf->slock);
    inf->synced = true;
    pthread_cond_broadcast(&inf->scond);
    pthread_mutex_unlock(&inf->slock);
}

/* Watches until the stream ends; returns -ERANGE when a relist is needed. */
static int watch(cn_informer *inf)
{
    char *rv = cn_informer_last_rv(inf);
    cn_client_watch *w = NULL;
    cn_err err = CN_ERR_INIT;
    int r = cn_client_watch_start(inf->c, inf->path, rv, &w, &err);
    free(rv);
    while (r == 0 && !stopping(inf)) {
        cn_watch_event ev;
        int n = cn_client_watch_next(w, 1000, &ev, &err);
        if (n < 0) {
            r = n;
            break;
        }
        if (n == 0) continue;
        set_rv(inf, cn_meta_str(ev.object, "resourceVersion"));
        if (strcmp(ev.type, "BOOKMARK") != 0)
            apply(inf, !strcmp(ev.type, "DELETED") ? EV_DELETE : EV_UPDATE, ev.object);
        json_decref(ev.object);
    }
    if (r < 0 && !stopping(inf)) {
        if (err.code == 410 || r == -ERANGE) r = -ERANGE;
        else cn_debug("informer %s: watch ended: %s", inf->path, err.message ? err.message : "?");
    }
    cn_err_clear(&err);
    cn_client_watch_free(w);
    return r;
}

static void *run(void *ud)
{
    cn_informer *inf = ud;
    bool need_list = true;
    while (!stopping(inf)) {
        if (need_list) {
            cn_err err = CN_ERR_INIT;
            if (relist(inf, &err) < 0) {
                if (!stopping(inf))
                    cn_warn("informer %s: list failed: %s", inf->path, err.message ? err.message : "?");
                cn_err_clear(&err);
                pause_ms(inf, RETRY_MS);
                continue;
            }
            need_list = false;
            mark_synced(inf);
        }
        int r = watch(inf);
        if (r == -ERANGE) need_list = true;
        else if (!stopping(inf)) pause_ms(inf, 100);
    }
    return NULL;
}

int cn_informer_start(cn_informer *inf, cn_err *err)
{
    if (inf->started) return 0;
    inf->started = true;
    if (pthread_create(&inf->thread, NULL, run, inf) != 0) {
        inf->started = false;
        return cn_err_internal(err, "informer %s: cannot start a thread", inf->path);
    }
    return 0;
}

bool cn_informer_wait_synced(cn_informer *inf, int timeout_ms)
{
    int64_t deadline = cn_now_ms() + timeout_ms;
    pthread_mutex_lock(&inf->slock);
    while (!inf->synced && !inf->stop) {
        int64_t left = deadline - cn_now_ms();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (left > 200) left = 200;
        ts.tv_nsec += left * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&inf->scond, &inf->slock, &ts);
    }
    bool s = inf->synced;
    pthread_mutex_unlock(&inf->slock);
    return s;
}

void cn_informer_stop(cn_informer *inf)
{
    if (!inf) return;
    pthread_mutex_lock(&inf->slock);
    inf->stop = true;
    pthread_cond_broadcast(&inf->scond);
    pthread_mutex_unlock(&inf->slock);
    if (inf->started) pthread_join(inf->thread, NULL);
    inf->started = false;
}

static void free_set(void *set) { cn_strmap_free(set, NULL); }
static void free_obj(void *o) { json_decref(o); }

void cn_informer_free(cn_informer *inf)
{
    if (!inf) return;
    cn_informer_stop(inf);
    for (size_t i = 0; i < inf->nidx; i++) {
        cn_strmap_free(inf->idx[i].map, free_set);
        free(inf->idx[i].name);
    }
    cn_strmap_free(inf->cache, free_obj);
    free(inf->h);
    free(inf->rv);
    free(inf->path);
    pthread_rwlock_destroy(&inf->lock);
    pthread_mutex_destroy(&inf->hlock);
    pthread_mutex_destroy(&inf->slock);
    pthread_cond_destroy(&inf->scond);
    free(inf);
}

json_t *cn_informer_get(cn_informer *inf, const char *ns, const char *name)
{
    char *key = ns && *ns ? cn_asprintf("%s/%s", ns, name) : cn_strdup(name);
    pthread_rwlock_rdlock(&inf->lock);
    json_t *o = json_incref(cn_strmap_get(inf->cache, key));
    pthread_rwlock_unlock(&inf->lock);
    free(key);
    return o;
}

typedef struct visit_ctx {
    cn_informer_visit fn;
    void *ud;
} visit_ctx;

static bool visit(void *ud, const char *key, void *val)
{
    visit_ctx *v = ud;
    return v->fn(v->ud, val);
}

void cn_informer_foreach(cn_informer *inf, cn_informer_visit fn, void *ud)
{
    visit_ctx v = { fn, ud };
    pthread_rwlock_rdlock(&inf->lock);
    cn_strmap_foreach(inf->cache, visit, &v);
    pthread_rwlock_unlock(&inf->lock);
}

void cn_informer_foreach_index(cn_informer *inf, const char *index, const char *key,
                               cn_informer_visit fn, void *ud)
{
    visit_ctx v = { fn, ud };
    pthread_rwlock_rdlock(&inf->lock);
    for (size_t i = 0; i < inf->nidx; i++) {
        if (strcmp(inf->idx[i].name, index) != 0) continue;
        cn_strmap *set = key ? cn_strmap_get(inf->idx[i].map, key) : NULL;
        if (set) cn_strmap_foreach(set, visit, &v);
        break;
    }
    pthread_rwlock_unlock(&inf->lock);
}

void cn_informer_foreach_ns(cn_informer *inf, const char *ns, cn_informer_visit fn, void *ud)
{
    cn_informer_foreach_index(inf, "namespace", ns, fn, ud);
}

void cn_informer_foreach_owned(cn_informer *inf, const char *owner_uid, cn_informer_visit fn, void *ud)
{
    cn_informer_foreach_index(inf, "owner", owner_uid, fn, ud);
}

size_t cn_informer_count(cn_informer *inf)
{
    pthread_rwlock_rdlock(&inf->lock);
    size_t n = cn_strmap_len(inf->cache);
    pthread_rwlock_unlock(&inf->lock);
    return n;
}

char *cn_informer_last_rv(cn_informer *inf)
{
    pthread_rwlock_rdlock(&inf->lock);
    char *rv = cn_strdup(inf->rv);
    pthread_rwlock_unlock(&inf->lock);
    return rv;
}

/* ---- the factory ---- */

struct cn_informers {
    cn_client *c;
    pthread_mutex_t lock;
    cn_strmap *by_path;     /* path -> cn_informer* */
    bool started;
};

cn_informers *cn_informers_new(cn_client *c)
{
    cn_informers *f = cn_calloc(1, sizeof *f);
    f->c = c;
    pthread_mutex_init(&f->lock, NULL);
    f->by_path = cn_strmap_new();
    return f;
}

cn_informer *cn_informers_get(cn_informers *f, const char *group, const char *version,
                              const char *plural)
{
    char *path = cn_client_path(group, version, NULL, plural, NULL, NULL);
    pthread_mutex_lock(&f->lock);
    cn_informer *inf = cn_strmap_get(f->by_path, path);
    if (!inf) {
        inf = cn_informer_new(f->c, path);
        cn_strmap_put(f->by_path, path, inf);
        cn_err err = CN_ERR_INIT;
        if (f->started && cn_informer_start(inf, &err) < 0) cn_warn("%s", err.message);
        cn_err_clear(&err);
    }
    pthread_mutex_unlock(&f->lock);
    free(path);
    return inf;
}

typedef struct start_ctx {
    cn_err *err;
    int r;
} start_ctx;

static bool start_one(void *ud, const char *key, void *val)
{
    start_ctx *s = ud;
    s->r = cn_informer_start(val, s->err);
    return s->r == 0;
}

int cn_informers_start(cn_informers *f, cn_err *err)
{
    start_ctx s = { err, 0 };
    pthread_mutex_lock(&f->lock);
    f->started = true;
    cn_strmap_foreach(f->by_path, start_one, &s);
    pthread_mutex_unlock(&f->lock);
    return s.r;
}

static bool collect_inf(void *ud, const char *key, void *val)
{
    cn_informer ***list = ud;
    *(*list)++ = val;
    return true;
}

/* The factory's informers (informers are never removed before the factory
 * is freed, so the pointers stay valid without the lock). Caller frees. */
static cn_informer **snapshot(cn_informers *f, size_t *n)
{
    pthread_mutex_lock(&f->lock);
    *n = cn_strmap_len(f->by_path);
    cn_informer **all = cn_calloc(*n + 1, sizeof *all), **p = all;
    cn_strmap_foreach(f->by_path, collect_inf, &p);
    pthread_mutex_unlock(&f->lock);
    return all;
}

bool cn_informers_wait_synced(cn_informers *f, int timeout_ms)
{
    /* Not under the factory's lock: controllers starting meanwhile must be
     * able to add informers. */
    int64_t deadline = cn_now_ms() + timeout_ms;
    size_t n;
    cn_informer **all = snapshot(f, &n);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        int64_t left = deadline - cn_now_ms();
        ok = cn_informer_wait_synced(all[i], left > 0 ? (int)left : 0);
    }
    free(all);
    return ok;
}

void cn_informers_stop(cn_informers *f)
{
    size_t n;
    cn_informer **all = snapshot(f, &n);
    for (size_t i = 0; i < n; i++) cn_informer_stop(all[i]);
    free(all);
}

static void free_inf(void *inf) { cn_informer_free(inf); }

void cn_informers_free(cn_informers *f)
{
    if (!f) return;
    cn_strmap_free(f->by_path, free_inf);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
