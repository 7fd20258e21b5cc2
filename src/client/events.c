/* events: see events.h. Events are written by one background thread from
 * a bounded queue (1,000 pending, as client-go's broadcaster; beyond that
 * they are dropped with a warning), so a component's hot path never waits
 * for an event write. */
#include "client/events.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define MAX_PENDING 1000
#define MAX_SEEN 4096
#define REPEAT_WINDOW_MS (10 * 60 * 1000)

typedef struct pending {
    struct pending *next;
    json_t *event;           /* the Event to create (count 1) */
    char *corr;              /* correlation key */
} pending;

typedef struct seen {
    char *ns, *name;
    int64_t count;
    int64_t last_ms;
} seen;

struct cn_recorder {
    cn_client *c;
    char *component;
    char host[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pending *head, *tail;
    size_t npending;
    bool stop;
    pthread_t thread;
    cn_strmap *seen;         /* corr -> seen*; touched by the thread only */
};

static void free_seen(void *p)
{
    seen *s = p;
    if (!s) return;
    free(s->ns);
    free(s->name);
    free(s);
}

static bool drop_old(void *ud, const char *key, void *val)
{
    json_t *old = ud;
    seen *s = val;
    if (cn_now_ms() - s->last_ms > REPEAT_WINDOW_MS) json_array_append_new(old, json_string(key));
    return true;
}

static void write_event(cn_recorder *r, json_t *ev, const char *corr)
{
    cn_err err = CN_ERR_INIT;
    seen *s = cn_strmap_get(r->seen, corr);
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    if (s && cn_now_ms() - s->last_ms < REPEAT_WINDOW_MS) {
        char *path = cn_client_path("", "v1", s->ns, "events", s->name, NULL);
        json_t *patch = json_pack("{s:I,s:s}", "count", (json_int_t)(s->count + 1), "lastTimestamp", ts);
        int rc = cn_client_patch(r->c, path, CN_PATCH_MERGE, patch, NULL, &err);
        json_decref(patch);
        free(path);
        if (rc == 0) {
            s->count++;
            s->last_ms = cn_now_ms();
            goto out;
        }
        cn_err_clear(&err);
    }
    const char *ns = cn_json_str_at(ev, "metadata.namespace");
    char *coll = cn_client_path("", "v1", ns, "events", NULL, NULL);
    json_t *made = NULL;
    if (cn_client_create(r->c, coll, ev, &made, &err) == 0) {
        if (cn_strmap_len(r->seen) >= MAX_SEEN) {
            json_t *old = json_array();
            cn_strmap_foreach(r->seen, drop_old, old);
            size_t i;
            json_t *k;
            json_array_foreach(old, i, k) free_seen(cn_strmap_del(r->seen, json_string_value(k)));
            json_decref(old);
        }
        if (cn_strmap_len(r->seen) < MAX_SEEN) {
            seen *n = cn_calloc(1, sizeof *n);
            n->ns = cn_strdup(ns);
            n->name = cn_strdup(cn_meta_str(made, "name"));
            n->count = 1;
            n->last_ms = cn_now_ms();
            free_seen(cn_strmap_put(r->seen, corr, n));
        }
    } else {
        cn_debug("event %s: %s", cn_json_str_at(ev, "reason"), err.message ? err.message : "?");
    }
    json_decref(made);
    free(coll);
out:
    cn_err_clear(&err);
}

static void *run(void *ud)
{
    cn_recorder *r = ud;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->head && !r->stop) pthread_cond_wait(&r->cond, &r->lock);
        if (!r->head) break;
        pending *p = r->head;
        r->head = p->next;
        if (!r->head) r->tail = NULL;
        r->npending--;
        pthread_mutex_unlock(&r->lock);
        write_event(r, p->event, p->corr);
        json_decref(p->event);
        free(p->corr);
        free(p);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

cn_recorder *cn_recorder_new(cn_client *c, const char *component)
{
    cn_recorder *r = cn_calloc(1, sizeof *r);
    r->c = c;
    r->component = cn_strdup(component);
    if (gethostname(r->host, sizeof r->host) != 0) snprintf(r->host, sizeof r->host, "cairn");
    r->host[sizeof r->host - 1] = '\0';
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->seen = cn_strmap_new();
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        cn_warn("events: no recorder thread; events of %s are dropped", component);
        r->stop = true;
    }
    return r;
}

void cn_recorder_free(cn_recorder *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    bool had_thread = !r->stop;
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    if (had_thread) pthread_join(r->thread, NULL);
    while (r->head) {
        pending *p = r->head;
        r->head = p->next;
        json_decref(p->event);
        free(p->corr);
        free(p);
    }
    cn_strmap_free(r->seen, free_seen);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->component);
    free(r);
}

void cn_recorder_event(cn_recorder *r, const json_t *obj, const char *type, const char *reason,
              const char *fmt, ...)
{
    if (!r || !obj) return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    const char *ns = cn_meta_str(obj, "namespace");
    const char *name = cn_meta_str(obj, "name");
    const char *uid = cn_meta_str(obj, "uid");
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    /* Upstream names events "<object>.<unique hex>". */
    unsigned char rnd[8];
    cn_random(rnd, sizeof rnd);
    char *ename = cn_asprintf("%s.%02x%02x%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2],
                              rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    json_t *inv = json_pack("{s:s,s:s,s:s}", "kind", json_string_value(json_object_get(obj, "kind")) ?
                            json_string_value(json_object_get(obj, "kind")) : "",
                            "name", name, "uid", uid);
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    if (av) json_object_set_new(inv, "apiVersion", json_string(av));
    if (*ns) json_object_set_new(inv, "namespace", json_string(ns));
    const char *rv = cn_meta_str(obj, "resourceVersion");
    if (*rv) json_object_set_new(inv, "resourceVersion", json_string(rv));
    json_t *ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:i,s:s,s:s}",
                           "apiVersion", "v1", "kind", "Event",
                           "metadata", "name", ename, "namespace", *ns ? ns : "default",
                           "involvedObject", inv, "reason", reason, "message", msg, "type", type,
                           "source", "component", r->component, "host", r->host,
                           "firstTimestamp", ts, "lastTimestamp", ts, "count", 1,
                           "reportingComponent", r->component, "reportingInstance", r->host);
    pending *p = cn_calloc(1, sizeof *p);
    p->event = ev;
    p->corr = cn_asprintf("%s|%s|%s|%s", uid, type, reason, msg);
    pthread_mutex_lock(&r->lock);
    if (r->stop || r->npending >= MAX_PENDING) {
        pthread_mutex_unlock(&r->lock);
        cn_debug("events: dropping %s %s/%s: queue full", reason, ns, name);
        json_decref(p->event);
        free(p->corr);
        free(p);
    } else {
        if (r->tail) r->tail->next = p;
        else r->head = p;
        r->tail = p;
        r->npending++;
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
    free(ename);
    free(msg);
}
