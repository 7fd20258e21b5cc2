/* store: the public store API. It bounds and checks arguments, owns the event
 * sink, and dispatches to the backend's cn_store_ops (store-internal.h). */
#include "store/store-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void cn_kv_release(cn_kv *kv)
{
    if (!kv) return;
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof *kv);
}

void cn_kv_list_release(cn_kv_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) cn_kv_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void cn_kv_list_push(cn_kv_list *l, cn_kv *kv)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = cn_realloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n++] = *kv;
    memset(kv, 0, sizeof *kv);
}

char *cn_store_prefix_end(const char *prefix, size_t *len)
{
    size_t n = strlen(prefix);
    while (n > 0 && (unsigned char)prefix[n - 1] == 0xff) n--;
    if (n == 0) return NULL;
    char *end = cn_strndup(prefix, n);
    end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
    *len = n;
    return end;
}

void cn_store_base_init(cn_store *s, const cn_store_ops *ops)
{
    s->ops = ops;
    pthread_mutex_init(&s->sink_lock, NULL);
    s->sink = NULL;
    s->sink_ud = NULL;
}

void cn_store_base_release(cn_store *s)
{
    pthread_mutex_destroy(&s->sink_lock);
}

void cn_store_emit(cn_store *s, const cn_event *evs, size_t n)
{
    pthread_mutex_lock(&s->sink_lock);
    if (s->sink)
        for (size_t i = 0; i < n; i++) s->sink(s->sink_ud, &evs[i]);
    pthread_mutex_unlock(&s->sink_lock);
}

void cn_store_set_sink(cn_store *s, cn_event_fn fn, void *ud)
{
    if (!s) return;
    pthread_mutex_lock(&s->sink_lock);
    s->sink = fn;
    s->sink_ud = ud;
    pthread_mutex_unlock(&s->sink_lock);
}

void cn_store_free(cn_store *s)
{
    if (!s) return;
    s->ops->close(s);
}

int64_t cn_store_current_rev(cn_store *s)
{
    return s ? s->ops->current_rev(s) : 0;
}

int64_t cn_store_compacted_rev(cn_store *s)
{
    return s ? s->ops->compacted_rev(s) : 0;
}

static int check_key(const char *key, bool allow_empty, cn_err *err)
{
    if (!key || (!allow_empty && !*key))
        return cn_err_set(err, 400, "BadRequest", "store: empty key"), -EINVAL;
    if (strnlen(key, CN_STORE_MAX_KEY + 1) > CN_STORE_MAX_KEY)
        return cn_err_set(err, 400, "BadRequest", "store: key longer than %d bytes",
                          CN_STORE_MAX_KEY), -ENAMETOOLONG;
    return 0;
}

static int check_value(const char *value, size_t len, cn_err *err)
{
    if (!value && len)
        return cn_err_set(err, 400, "BadRequest", "store: NULL value"), -EINVAL;
    if (len > CN_STORE_MAX_VALUE)
        return cn_err_set(err, 413, "RequestEntityTooLarge",
                          "store: value of %zu bytes exceeds the limit of %zu", len,
                          CN_STORE_MAX_VALUE), -EFBIG;
    return 0;
}

int cn_store_get(cn_store *s, const char *key, cn_kv *out, cn_err *err)
{
    int r = check_key(key, false, err);
    if (r < 0) return r;
    return s->ops->get(s, key, out, err);
}

int cn_store_list(cn_store *s, const char *prefix, const char *after, size_t limit,
                  cn_kv_list *out, int64_t *rev, bool *more, cn_err *err)
{
    int r = check_key(prefix ? prefix : "", true, err);
    if (r >= 0 && after) r = check_key(after, true, err);
    if (r < 0) return r;
    return s->ops->list(s, prefix ? prefix : "", after, limit, out, rev, more, err);
}

int cn_store_count(cn_store *s, const char *prefix, int64_t *count, cn_err *err)
{
    int r = check_key(prefix ? prefix : "", true, err);
    if (r < 0) return r;
    return s->ops->count(s, prefix ? prefix : "", count, err);
}

static int do_write(cn_store *s, cn_store_write *w, int64_t *rev, cn_err *err)
{
    int r = check_key(w->key, false, err);
    if (r >= 0) r = check_value(w->value, w->len, err);
    if (r < 0) return r;
    if (!w->value) w->value = "";
    r = s->ops->write(s, w, err);
    if (r >= 0 && rev) *rev = w->rev;
    return r;
}

int cn_store_create(cn_store *s, const char *key, const char *value, size_t len,
                    int64_t *rev, cn_err *err)
{
    cn_store_write w = { .kind = CN_WRITE_CREATE, .key = key, .value = value, .len = len };
    return do_write(s, &w, rev, err);
}

int cn_store_update(cn_store *s, const char *key, const char *value, size_t len,
                    int64_t expect_rev, int64_t *rev, cn_err *err)
{
    cn_store_write w = { .kind = CN_WRITE_UPDATE, .key = key, .value = value, .len = len,
                         .expect_rev = expect_rev };
    return do_write(s, &w, rev, err);
}

int cn_store_delete(cn_store *s, const char *key, int64_t expect_rev,
                    cn_kv *prev, int64_t *rev, cn_err *err)
{
    cn_store_write w = { .kind = CN_WRITE_DELETE, .key = key, .value = "",
                         .expect_rev = expect_rev, .prev = prev };
    return do_write(s, &w, rev, err);
}

int cn_store_history(cn_store *s, int64_t after_rev, cn_event_fn fn, void *ud, cn_err *err)
{
    if (!fn) return cn_err_set(err, 400, "BadRequest", "store: no history callback"), -EINVAL;
    return s->ops->history(s, after_rev, fn, ud, err);
}

int cn_store_compact(cn_store *s, int64_t rev, cn_err *err)
{
    return s->ops->compact(s, rev, err);
}
