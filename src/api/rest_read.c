/* rest_read: get, list and watch, in plain JSON or as server-side Tables.
 *
 * Lists read the store in pages of keys, filter by label and field
 * selectors, and cut at `limit` with an opaque continue token holding the
 * last key returned. Watches read the watch cache (never the store, except
 * to resume from an old revision), filter the same way, and stream one
 * JSON event per line over a chunked response. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "api/selector.h"
#include "api/table.h"
#include "lib/log.h"
#include "lib/util.h"

#define LIST_PAGE 500
#define WATCH_DEFAULT_TIMEOUT_S 1800
#define BOOKMARK_INTERVAL_MS 30000
#define FIRST_BOOKMARK_MS 1000    /* an early bookmark tells the client where it stands */

/* Field selectors each kind supports beyond metadata.name/namespace. */
static const char *const *allowed_fields(const cn_resource *res)
{
    static const char *const pods[] = { "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
        "status.nominatedNodeName", NULL };
    static const char *const events[] = { "involvedObject.kind", "involvedObject.namespace",
        "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
        "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type", NULL };
    static const char *const nodes[] = { "spec.unschedulable", NULL };
    static const char *const namespaces[] = { "status.phase", NULL };
    static const char *const secrets[] = { "type", NULL };
    static const char *const services[] = { "spec.clusterIP", "spec.type", NULL };
    static const char *const replicasets[] = { "status.replicas", NULL };
    static const char *const jobs[] = { "status.successful", NULL };
    static const char *const none[] = { NULL };
    if (res->group[0] == '\0') {
        if (!strcmp(res->plural, "pods")) return pods;
        if (!strcmp(res->plural, "events")) return events;
        if (!strcmp(res->plural, "nodes")) return nodes;
        if (!strcmp(res->plural, "namespaces")) return namespaces;
        if (!strcmp(res->plural, "secrets")) return secrets;
        if (!strcmp(res->plural, "services")) return services;
    }
    if (!strcmp(res->plural, "replicasets")) return replicasets;
    if (!strcmp(res->plural, "jobs")) return jobs;
    return none;
}

typedef struct filter {
    cn_selector *ls;
    cn_fieldsel *fs;
} filter;

static int filter_init(cn_reqctx *c, filter *f, cn_err *err)
{
    memset(f, 0, sizeof *f);
    if (c->q.label_selector && cn_selector_parse(c->q.label_selector, &f->ls, err) < 0) return -EINVAL;
    if (c->q.field_selector &&
        cn_fieldsel_parse(c->q.field_selector, allowed_fields(c->res), &f->fs, err) < 0)
        return -EINVAL;
    return 0;
}

static void filter_release(filter *f)
{
    cn_selector_free(f->ls);
    cn_fieldsel_free(f->fs);
}

static bool filter_match(const filter *f, const json_t *obj)
{
    if (f->ls && !cn_selector_matches(f->ls, json_object_get(json_object_get(obj, "metadata"), "labels")))
        return false;
    if (f->fs && !cn_fieldsel_matches(f->fs, obj)) return false;
    return true;
}

static char *list_prefix(cn_reqctx *c)
{
    char *p = cn_resource_key_prefix(c->res);
    if (c->res->namespaced && c->ns) {
        char *q = cn_asprintf("%s%s/", p, c->ns);
        free(p);
        return q;
    }
    return p;
}

static json_t *new_list(const cn_resource *res, int64_t rev)
{
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%lld", (long long)rev);
    return json_pack("{s:s,s:s,s:{s:s},s:[]}", "kind", res->list_kind, "apiVersion",
                     cn_resource_api_version(res), "metadata", "resourceVersion", rvs, "items");
}

/* One pass over a list request's keys: selectors, limit and continue.
 * fn gets every matching stored object (obj parsed and stamped when
 * `parse`, else NULL); it may take a reference. */
typedef struct list_scan {
    bool parse;
    int (*fn)(void *ud, const cn_kv *kv, json_t *obj);
    void *ud;
    int64_t rev;            /* out: the list's resourceVersion */
    char *continue_token;   /* out: set when items remain (caller frees) */
} list_scan;

static int scan_list(cn_reqctx *c, list_scan *ls, cn_err *err)
{
    filter f;
    char *prefix = NULL, *after = NULL, *last_key = NULL;
    int r = filter_init(c, &f, err);
    if (r < 0) goto done;
    bool need_obj = ls->parse || f.ls || f.fs;
    prefix = list_prefix(c);
    ls->rev = 0;
    if (c->q.continue_token) {
        int64_t trev;
        r = cn_continue_decode(c->q.continue_token, &trev, &after, err);
        if (r < 0) goto done;
        if (!cn_str_has_prefix(after, prefix)) {
            r = cn_err_bad_request(err, "continue key is not valid: it does not belong to this list");
            goto done;
        }
        ls->rev = trev;
    }
    size_t limit = c->q.limit > 0 ? (size_t)c->q.limit : 0, got = 0;
    bool more_items = false, first = true;
    for (;;) {
        cn_kv_list page = { 0 };
        int64_t rev;
        bool more = false;
        r = cn_store_list(c->srv->store, prefix, after, LIST_PAGE, &page, &rev, &more, err);
        if (r < 0) goto done;
        if (first && !ls->rev) ls->rev = rev;
        first = false;
        for (size_t i = 0; i < page.n && r >= 0; i++) {
            if (limit && got == limit) {
                more_items = true;
                break;
            }
            json_t *o = NULL;
            if (need_obj) {
                o = cn_obj_from_store(page.items[i].value, page.items[i].value_len, page.items[i].mod_rev, err);
                if (!o) {
                    r = -EIO;
                    break;
                }
            }
            free(last_key);
            last_key = cn_strdup(page.items[i].key);
            if (!o || filter_match(&f, o)) {
                r = ls->fn(ls->ud, &page.items[i], o);
                got++;
            }
            json_decref(o);
        }
        if (page.n) {
            free(after);
            after = cn_strdup(page.items[page.n - 1].key);
        }
        cn_kv_list_release(&page);
        if (r < 0 || more_items || !more) break;
    }
    if (r >= 0 && more_items && last_key) ls->continue_token = cn_continue_encode(ls->rev, last_key);
done:
    filter_release(&f);
    free(prefix);
    free(after);
    free(last_key);
    return r;
}

static int append_item(void *ud, const cn_kv *kv, json_t *obj)
{
    (void)kv;
    json_array_append(ud, obj);
    return 0;
}

int cn_rest_list_objects(cn_reqctx *c, json_t **out, cn_err *err)
{
    json_t *items = json_array();
    list_scan ls = { .parse = true, .fn = append_item, .ud = items };
    *out = NULL;
    int r = scan_list(c, &ls, err);
    if (r < 0) {
        json_decref(items);
        free(ls.continue_token);
        return r;
    }
    json_t *list = new_list(c->res, ls.rev);
    json_object_set_new(list, "items", items);
    if (ls.continue_token)
        json_object_set_new(json_object_get(list, "metadata"), "continue", json_string(ls.continue_token));
    free(ls.continue_token);
    *out = list;
    return 0;
}

/* Offset just past the '{' that opens the top-level "metadata" object of a
 * compact JSON object, or -1. Strings are skipped, so a value that merely
 * contains the text cannot fool it. */
static long meta_open(const char *s, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '"') {
            size_t start = i + 1;
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            if (i >= n) return -1;
            if (depth == 1 && i - start == 8 && !memcmp(s + start, "metadata", 8)) {
                size_t j = i + 1;
                while (j < n && (s[j] == ' ' || s[j] == ':')) j++;
                if (j < n && s[j] == '{' && s[i + 1] == ':') return (long)j + 1;
            }
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return -1;
}

/* The plain-JSON list fast path: stored objects are spliced into the
 * response with their resourceVersion inserted, never parsed. */
static int append_raw(void *ud, const cn_kv *kv, json_t *obj)
{
    cn_buf *b = ud;
    (void)obj;
    if (b->len && b->data[b->len - 1] != '[') cn_buf_addc(b, ',');
    long at = meta_open(kv->value, kv->value_len);
    if (at < 0) {
        /* No metadata object where expected: take the slow, general way. */
        json_t *o = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
        char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!txt) return -EIO;
        cn_buf_adds(b, txt);
        free(txt);
        return 0;
    }
    cn_buf_add(b, kv->value, (size_t)at);
    cn_buf_addf(b, "\"resourceVersion\":\"%lld\"", (long long)kv->mod_rev);
    if (kv->value[at] != '}') cn_buf_addc(b, ',');
    cn_buf_add(b, kv->value + at, kv->value_len - (size_t)at);
    return 0;
}

static void list_raw(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    cn_buf items;
    cn_buf_init(&items);
    cn_buf_addc(&items, '[');
    list_scan ls = { .parse = false, .fn = append_raw, .ud = &items };
    if (scan_list(c, &ls, &e) < 0) {
        cn_buf_release(&items);
        free(ls.continue_token);
        cn_rest_reply_err(c, &e);
        return;
    }
    cn_buf_addc(&items, ']');
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%lld\"",
                c->res->list_kind, cn_resource_api_version(c->res), (long long)ls.rev);
    if (ls.continue_token) cn_buf_addf(&b, ",\"continue\":\"%s\"", ls.continue_token);
    cn_buf_adds(&b, "},\"items\":");
    cn_buf_add(&b, items.data, items.len);
    cn_buf_addc(&b, '}');
    cn_http_respond(c->http, 200, "application/json", b.data, b.len);
    cn_buf_release(&b);
    cn_buf_release(&items);
    free(ls.continue_token);
}

static json_t *partial_meta(const json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    return json_pack("{s:s,s:s,s:O}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
                     "metadata", m ? m : json_null());
}

static json_t *table_row(cn_reqctx *c, const json_t *obj, int64_t now)
{
    json_t *row = json_object();
    json_object_set_new(row, "cells", cn_table_cells(c->res, obj, now));
    if (c->q.include_object == CN_INCLUDE_OBJECT)
        json_object_set(row, "object", (json_t *)obj);
    else if (c->q.include_object == CN_INCLUDE_METADATA)
        json_object_set_new(row, "object", partial_meta(obj));
    return row;
}

/* A Table for objects (array); stolen metadata `meta`. */
static json_t *make_table(cn_reqctx *c, const json_t *objs, json_t *meta, bool headers)
{
    json_t *t = json_object();
    json_object_set_new(t, "kind", json_string("Table"));
    json_object_set_new(t, "apiVersion", json_string(c->table == 2 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1"));
    json_object_set_new(t, "metadata", meta ? meta : json_object());
    json_object_set_new(t, "columnDefinitions", headers ? cn_table_columns(c->res) : json_array());
    json_t *rows = json_array();
    int64_t now = cn_wall_s();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) json_array_append_new(rows, table_row(c, o, now));
    json_object_set_new(t, "rows", rows);
    return t;
}

void cn_rest_get(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *obj = NULL;
    if (cn_obj_get(c->srv, c->res, c->ns, c->name, &obj, NULL, &e) < 0) {
        cn_rest_reply_err(c, &e);
        cn_err_clear(&e);
        return;
    }
    if (c->table) {
        json_t *arr = json_pack("[o]", obj);
        json_t *meta = json_pack("{s:O}", "resourceVersion",
                                 json_object_get(json_object_get(json_array_get(arr, 0), "metadata"), "resourceVersion"));
        json_t *t = make_table(c, arr, meta, true);
        json_decref(arr);
        cn_rest_reply(c, 200, t);
        return;
    }
    cn_rest_reply(c, 200, obj);
}

void cn_rest_list(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *list = NULL;
    if (!c->table) {
        list_raw(c);
        return;
    }
    if (cn_rest_list_objects(c, &list, &e) < 0) {
        cn_rest_reply_err(c, &e);
        cn_err_clear(&e);
        return;
    }
    if (c->table) {
        json_t *t = make_table(c, json_object_get(list, "items"),
                               json_deep_copy(json_object_get(list, "metadata")), true);
        json_decref(list);
        cn_rest_reply(c, 200, t);
        return;
    }
    cn_rest_reply(c, 200, list);
}

/* ---- watch ---- */

typedef struct watch_stream {
    cn_reqctx c;              /* copy: res, q, table (strings borrowed from the request) */
    filter f;
    cn_watcher *w;
    json_t *initial;          /* ADDED events still to send */
    size_t initial_idx;
    cn_buf out;
    size_t out_off;
    bool headers_sent;
    bool done;
    int64_t deadline_ms;
    int64_t next_bookmark_ms;
    int64_t last_rev;
} watch_stream;

static void emit(watch_stream *ws, const char *type, json_t *obj)
{
    json_t *o = obj;
    if (ws->c.table && strcmp(type, "ERROR") && strcmp(type, "BOOKMARK")) {
        json_t *arr = json_pack("[O]", obj);
        o = make_table(&ws->c, arr, json_object(), !ws->headers_sent);
        ws->headers_sent = true;
        json_decref(arr);
    } else {
        json_incref(o);
    }
    json_t *ev = json_pack("{s:s,s:o}", "type", type, "object", o);
    char *s = json_dumps(ev, JSON_COMPACT);
    cn_buf_adds(&ws->out, s);
    cn_buf_addc(&ws->out, '\n');
    free(s);
    json_decref(ev);
}

static void emit_error(watch_stream *ws, int code, const char *reason, const char *msg)
{
    cn_err e = CN_ERR_INIT;
    cn_err_set(&e, code, reason, "%s", msg);
    json_t *st = cn_err_status(&e);
    emit(ws, "ERROR", st);
    json_decref(st);
    cn_err_clear(&e);
    ws->done = true;
}

/* The fast path: plain JSON, the event's shared serialization spliced in. */
static void emit_shared(watch_stream *ws, const char *type, cn_wevent *ev)
{
    size_t len;
    const char *obj = cn_wevent_json(ev, &len);
    if (!obj) return;
    cn_buf_addf(&ws->out, "{\"type\":\"%s\",\"object\":", type);
    cn_buf_add(&ws->out, obj, len);
    cn_buf_adds(&ws->out, "}\n");
}

static void handle_event(watch_stream *ws, cn_wevent *ev)
{
    const json_t *cur = cn_wevent_object(ev);
    const json_t *prev = cn_wevent_prev_object(ev);
    ws->last_rev = ev->rev;
    if (!cur) return;
    const char *type = NULL;
    bool now_in = filter_match(&ws->f, cur), was_in = prev && filter_match(&ws->f, prev);
    if (ev->type == CN_EV_DELETE) {
        if (now_in) type = "DELETED";
    } else if (now_in && was_in) {
        type = "MODIFIED";
    } else if (now_in) {
        type = "ADDED";
    } else if (was_in) {
        type = "DELETED";
    }
    if (!type) return;
    if (ws->c.table) emit(ws, type, (json_t *)cur);
    else emit_shared(ws, type, ev);
}

static ssize_t watch_fill(void *ud, char *buf, size_t max)
{
    watch_stream *ws = ud;
    for (;;) {
        if (ws->out_off < ws->out.len) {
            size_t n = ws->out.len - ws->out_off;
            if (n > max) n = max;
            memcpy(buf, ws->out.data + ws->out_off, n);
            ws->out_off += n;
            if (ws->out_off == ws->out.len) {
                cn_buf_reset(&ws->out);
                ws->out_off = 0;
            }
            return (ssize_t)n;
        }
        if (ws->done) return -1;
        if (ws->initial && ws->initial_idx < json_array_size(ws->initial)) {
            emit(ws, "ADDED", json_array_get(ws->initial, ws->initial_idx++));
            continue;
        }
        int64_t now = cn_now_ms();
        if (now >= ws->deadline_ms) return -1;
        if (ws->c.q.allow_bookmarks && now >= ws->next_bookmark_ms) {
            ws->next_bookmark_ms = now + BOOKMARK_INTERVAL_MS;
            int64_t rev = cn_watchcache_rev(ws->c.srv->wc);
            if (rev > ws->last_rev) ws->last_rev = rev;
            char rvs[24];
            snprintf(rvs, sizeof rvs, "%lld", (long long)ws->last_rev);
            json_t *bm = json_pack("{s:s,s:s,s:{s:s}}", "kind", ws->c.res->kind, "apiVersion",
                                   cn_resource_api_version(ws->c.res), "metadata", "resourceVersion", rvs);
            emit(ws, "BOOKMARK", bm);
            json_decref(bm);
            continue;
        }
        int64_t wait = ws->deadline_ms - now;
        if (wait > 1000) wait = 1000;
        cn_wevent *ev = NULL;
        int r = cn_watcher_next(ws->w, (int)wait, &ev);
        if (r == 0) return 0;
        if (r < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "too old resource version: %lld (%lld)", (long long)ws->last_rev,
                     (long long)cn_watchcache_rev(ws->c.srv->wc));
            emit_error(ws, 410, "Expired", msg);
            continue;
        }
        handle_event(ws, ev);
        cn_wevent_unref(ev);
    }
}

static void watch_free(void *ud)
{
    watch_stream *ws = ud;
    cn_watcher_free(ws->w);
    filter_release(&ws->f);
    json_decref(ws->initial);
    cn_buf_release(&ws->out);
    free(ws);
}

void cn_rest_watch(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    watch_stream *ws = cn_calloc(1, sizeof *ws);
    char *prefix = list_prefix(c);
    ws->c = *c;
    ws->c.warnings = NULL;
    /* The stream outlives the request's path buffer: keep no pointers into it. */
    ws->c.group = ws->c.version = ws->c.ns = ws->c.name = ws->c.sub = ws->c.plural = NULL;
    ws->c.http = NULL;
    memset(&ws->c.user, 0, sizeof ws->c.user);
    cn_buf_init(&ws->out);
    int64_t start_rev = 0;
    const char *rv = c->q.resource_version;
    if (filter_init(c, &ws->f, &e) < 0) goto fail;
    if (!rv || !*rv || !strcmp(rv, "0")) {
        /* Synthetic ADDED events for the current state, then changes after it. */
        cn_reqctx lc = *c;  /* the original context: its strings are still valid here */
        lc.q.limit = 0;
        lc.q.continue_token = NULL;
        json_t *list = NULL;
        if (cn_rest_list_objects(&lc, &list, &e) < 0) goto fail;
        ws->initial = json_incref(json_object_get(list, "items"));
        cn_parse_int64(json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion")), &start_rev);
        json_decref(list);
    } else if (cn_parse_int64(rv, &start_rev) < 0 || start_rev < 0) {
        cn_err_bad_request(&e, "resourceVersion: Invalid value: \"%s\": must be an integer", rv);
        goto fail;
    }
    ws->last_rev = start_rev;
    int r = cn_watchcache_watch(c->srv->wc, prefix, start_rev, &ws->w, &e);
    if (r == -ERANGE) {
        /* Too old: upstream answers 200 with a single ERROR event. */
        cn_err_clear(&e);
        char msg[128];
        snprintf(msg, sizeof msg, "too old resource version: %lld (%lld)", (long long)start_rev,
                 (long long)cn_store_compacted_rev(c->srv->store));
        emit_error(ws, 410, "Expired", msg);
    } else if (r < 0) {
        goto fail;
    }
    int64_t timeout = c->q.timeout_seconds > 0 ? c->q.timeout_seconds : WATCH_DEFAULT_TIMEOUT_S;
    ws->deadline_ms = cn_now_ms() + timeout * 1000;
    ws->next_bookmark_ms = cn_now_ms() + FIRST_BOOKMARK_MS;
    free(prefix);
    cn_http_respond_stream(c->http, 200, "application/json", watch_fill, watch_free, ws);
    return;
fail:
    free(prefix);
    watch_free(ws);
    cn_rest_reply_err(c, &e);
    cn_err_clear(&e);
}
