/* stream: see stream.h. */
#include "agent/stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define PAGE 500
#define RETRY_MS 1000

struct cn_stream {
    cn_client *c;
    char *path;
    cn_stream_handler h;
    pthread_t thread;
    atomic_bool stop;
    char *rv;
};

static void nap(cn_stream *s, int ms)
{
    for (int i = 0; i < ms / 50 && !atomic_load(&s->stop); i++) usleep(50000);
}

static int relist(cn_stream *s, cn_err *err)
{
    char *cont = NULL;
    int r = 0;
    if (s->h.relist) s->h.relist(s->h.ud, false);
    do {
        char *ec = cont ? cn_client_escape(cont) : NULL;
        char *p = cn_asprintf("%s%slimit=%d%s%s", s->path, strchr(s->path, '?') ? "&" : "?", PAGE,
                              ec ? "&continue=" : "", ec ? ec : "");
        free(ec);
        free(cont);
        cont = NULL;
        json_t *page = NULL;
        r = cn_client_get(s->c, p, &page, err);
        free(p);
        if (r < 0) break;
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(page, "items"), i, o) s->h.on_event(s->h.ud, "ADDED", o);
        json_t *meta = json_object_get(page, "metadata");
        const char *c = json_string_value(json_object_get(meta, "continue"));
        if (c && *c) cont = cn_strdup(c);
        free(s->rv);
        s->rv = cn_strdup(json_string_value(json_object_get(meta, "resourceVersion")));
        json_decref(page);
    } while (cont && !atomic_load(&s->stop));
    free(cont);
    if (r == 0 && !atomic_load(&s->stop) && s->h.relist) s->h.relist(s->h.ud, true);
    return r;
}

/* Watches until the stream ends; -ERANGE when a relist is needed. */
static int watch(cn_stream *s)
{
    cn_client_watch *w = NULL;
    cn_err err = CN_ERR_INIT;
    int r = cn_client_watch_start(s->c, s->path, s->rv, &w, &err);
    while (r == 0 && !atomic_load(&s->stop)) {
        cn_watch_event ev;
        int n = cn_client_watch_next(w, 500, &ev, &err);
        if (n < 0) {
            r = n;
            break;
        }
        if (n == 0) continue;
        const char *rv = cn_meta_str(ev.object, "resourceVersion");
        if (*rv) {
            free(s->rv);
            s->rv = cn_strdup(rv);
        }
        if (strcmp(ev.type, "BOOKMARK")) s->h.on_event(s->h.ud, ev.type, ev.object);
        json_decref(ev.object);
    }
    if (r < 0 && (err.code == 410 || r == -ERANGE)) r = -ERANGE;
    else if (r < 0 && !atomic_load(&s->stop))
        cn_debug("stream %s: watch ended: %s", s->path, err.message ? err.message : "?");
    cn_err_clear(&err);
    cn_client_watch_free(w);
    return r;
}

static void *run(void *ud)
{
    cn_stream *s = ud;
    bool need_list = true;
    while (!atomic_load(&s->stop)) {
        if (need_list) {
            cn_err err = CN_ERR_INIT;
            if (relist(s, &err) < 0) {
                if (!atomic_load(&s->stop))
                    cn_warn("stream %s: list failed: %s (retrying)", s->path, err.message ? err.message : "?");
                cn_err_clear(&err);
                nap(s, RETRY_MS);
                continue;
            }
            need_list = false;
        }
        int r = watch(s);
        if (r == -ERANGE) need_list = true;
        else nap(s, 100);
    }
    return NULL;
}

int cn_stream_start(cn_client *c, const char *path, const cn_stream_handler *h, cn_stream **out,
                    cn_err *err)
{
    cn_stream *s = cn_calloc(1, sizeof *s);
    s->c = c;
    s->path = cn_strdup(path);
    s->h = *h;
    atomic_init(&s->stop, false);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        free(s->path);
        free(s);
        return cn_err_internal(err, "cannot start a thread for %s", path);
    }
    *out = s;
    return 0;
}

void cn_stream_free(cn_stream *s)
{
    if (!s) return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    free(s->rv);
    free(s->path);
    free(s);
}
