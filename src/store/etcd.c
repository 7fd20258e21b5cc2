/* etcd: the etcd backend of the store (store-internal.h), for several
 * `cairn server` processes sharing one etcd 3.4+ cluster.
 *
 * Keys: store keys are "/registry/..."; in etcd the leading "/registry" is
 * replaced by the configured prefix (default "/registry": Kubernetes' own
 * layout). The store's whole range in etcd is [prefix "/", prefix "0").
 *
 * Revisions: resourceVersion is etcd's mod_revision; a write's revision is
 * the header revision of its transaction. Other key ranges (and other
 * clusters on the same etcd) share the counter, so revisions have gaps.
 *
 * Writes are one transaction each, compare-and-swap on the key:
 *   create  [create_revision == 0]            put    | range
 *   update  [mod_revision == expect | create_revision > 0]  put | range
 *   delete  [same as update]                  delete(prev_kv) | range
 * The failure branch's range tells -ENOENT from -ESTALE in the same round
 * trip. A write whose outcome is unknown is not retried (etcd-client.c).
 *
 * Events: one watch thread streams [range) from the revision at open + 1,
 * with previous values, and feeds cn_store_emit() in revision order. Every
 * change, ours or another server's, reaches the sink only this way. A writer
 * returns once the watch thread has emitted its revision, which keeps the
 * store contract "a watcher sees a change no later than its writer's
 * response leaves" (bounded wait; a warning when etcd is slower than that).
 *
 *   writer ──txn──▶ etcd ──watch──▶ watch thread ──emit──▶ sink
 *     ▲                                  │ emitted = rev; broadcast
 *     └──────── wait emitted >= rev ─────┘
 *
 * History replays a watch over the WHOLE keyspace from after_rev + 1 up to
 * the revision current at the start of the call: every revision has at least
 * one event somewhere, so the stream knows when it is done, which a prefix
 * watch cannot (a quiet prefix sends nothing).
 *
 * Compaction: a thread per server; servers take turns through a
 * compare-and-swap on the version of the key "compact_rev_key" (the scheme
 * kube-apiserver uses, so one compaction per interval across all servers). */
#include "store/store-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/log.h"
#include "store/etcd-internal.h"

#define DEFAULT_KEEP_REVISIONS 10000
#define DEFAULT_COMPACT_INTERVAL_S 300
#define EMIT_WAIT_MS 5000
#define HISTORY_IDLE_S 10
#define REG "/registry"
#define REG_LEN 9
/* Shared by every server (and kube-apiserver) on the etcd: compaction is
 * etcd-wide, so is its coordination. */
#define COMPACT_KEY "compact_rev_key"

typedef struct etcd {
    cn_store base;                  /* first: cn_store* <-> etcd* */
    cn_etcd_client *c;
    char *pfx;                      /* etcd prefix replacing "/registry" */
    size_t pfx_len;
    char *range_start, *range_end;  /* pfx "/", pfx "0" */
    int64_t keep;
    int interval_s;

    pthread_mutex_t rev_lock;
    pthread_cond_t rev_cond;        /* emitted advanced, or stopping */
    int64_t emitted;                /* atomic writes under rev_lock */
    int64_t compacted;              /* atomic */
    bool stop;                      /* under rev_lock */

    pthread_t watcher;
    bool watcher_started;
    int64_t watch_from;             /* watch thread only */

    pthread_mutex_t cp_lock;
    pthread_cond_t cp_cond;
    bool cp_stop;
    pthread_t compactor;
    bool compactor_started;
    int64_t cp_version;             /* compactor only: version of COMPACT_KEY */
} etcd;

static etcd *ET(cn_store *s) { return (etcd *)s; }

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void raise_compacted(etcd *s, int64_t rev)
{
    int64_t cur = __atomic_load_n(&s->compacted, __ATOMIC_ACQUIRE);
    while (rev > cur &&
           !__atomic_compare_exchange_n(&s->compacted, &cur, rev, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
        ;
}

/* ---- keys ---- */

static int check_store_key(const char *key, cn_err *err)
{
    if (!cn_str_has_prefix(key, REG "/"))
        return cn_err_bad_request(err, "store: key \"%s\" is outside " REG "/", key), -EINVAL;
    return 0;
}

/* The etcd key of a store key (which starts with "/registry/"). */
static json_t *etcd_key_json(etcd *s, const char *key)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_add(&b, s->pfx, s->pfx_len);
    cn_buf_adds(&b, key + REG_LEN);
    json_t *j = cn_etcd_b64_json(b.data, b.len);
    cn_buf_release(&b);
    return j;
}

/* The store key of an etcd key, or NULL when it is not ours. */
static char *store_key(etcd *s, const char *k, size_t len)
{
    if (len <= s->pfx_len || memcmp(k, s->pfx, s->pfx_len) != 0 || k[s->pfx_len] != '/' ||
        memchr(k, '\0', len))
        return NULL;
    return cn_asprintf(REG "%.*s", (int)(len - s->pfx_len), k + s->pfx_len);
}

/* The etcd range [start, end) holding the store keys that begin with
 * prefix; false when no store key can. Caller frees both. */
static bool prefix_range(etcd *s, const char *prefix, char **start, char **end)
{
    if (cn_str_has_prefix(REG "/", prefix)) {          /* "", "/reg", "/registry/" */
        *start = cn_strdup(s->range_start);
        *end = cn_strdup(s->range_end);
        return true;
    }
    if (!cn_str_has_prefix(prefix, REG "/")) return false;
    *start = cn_asprintf("%s%s", s->pfx, prefix + REG_LEN);
    size_t n;
    *end = cn_store_prefix_end(*start, &n);           /* never NULL: starts with '/' */
    return true;
}

/* Decode one etcd KeyValue. want_key: map the key back (else out->key NULL).
 * -EINVAL on a malformed answer, -ENOENT if the key is not ours. */
static int parse_kv(etcd *s, json_t *kv, bool want_key, cn_kv *out)
{
    const char *k = json_string_value(json_object_get(kv, "key"));
    const char *v = json_string_value(json_object_get(kv, "value"));
    char *key = NULL, *raw = NULL, *val = NULL;
    size_t klen = 0, vlen = 0;
    if (!json_is_object(kv) || !k) return -EINVAL;
    if (want_key) {
        if (cn_base64_decode(k, strlen(k), CN_STORE_MAX_KEY + 256, &raw, &klen) < 0)
            return -EINVAL;
        key = store_key(s, raw, klen);
        free(raw);
        if (!key) return -ENOENT;
    }
    if (cn_base64_decode(v ? v : "", v ? strlen(v) : 0, CN_STORE_MAX_VALUE, &val, &vlen) < 0) {
        free(key);
        return -EINVAL;
    }
    out->key = key;
    out->value = val;
    out->value_len = vlen;
    out->create_rev = cn_etcd_i64(kv, "create_revision");
    out->mod_rev = cn_etcd_i64(kv, "mod_revision");
    return 0;
}

static int bad_answer(etcd *s, cn_err *err, const char *what)
{
    cn_err_internal(err, "etcd %s: malformed answer to %s", cn_etcd_endpoint(s->c), what);
    return -EIO;
}

static int64_t header_rev(json_t *resp)
{
    return cn_etcd_i64(json_object_get(resp, "header"), "revision");
}

/* ---- revisions ---- */

/* Only revisions the watch thread has emitted: the watch cache installs its
 * sink, then reads this, and relies on every change above it still being
 * on its way to the sink. A response header's revision may be ahead of the
 * watch stream and would break that. */
static int64_t et_current_rev(cn_store *base)
{
    return __atomic_load_n(&ET(base)->emitted, __ATOMIC_ACQUIRE);
}

static int64_t et_compacted_rev(cn_store *base)
{
    return __atomic_load_n(&ET(base)->compacted, __ATOMIC_ACQUIRE);
}

static void wait_emitted(etcd *s, int64_t rev)
{
    struct timespec ts;
    deadline_in(&ts, EMIT_WAIT_MS);
    pthread_mutex_lock(&s->rev_lock);
    int rc = 0;
    while (s->emitted < rev && !s->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->rev_cond, &s->rev_lock, &ts);
    int64_t now = s->emitted;
    pthread_mutex_unlock(&s->rev_lock);
    if (now < rev && rc == ETIMEDOUT)
        cn_warn("store: etcd: the watch has not delivered revision %lld after %d ms "
                "(at %lld); watchers may see the change late",
                (long long)rev, EMIT_WAIT_MS, (long long)now);
}

/* The current etcd revision (a cheap linearizable read). */
static int etcd_rev(etcd *s, int64_t *rev, json_t **kv, cn_err *err)
{
    json_t *req = json_pack("{s:o}", "key", cn_etcd_b64_json(COMPACT_KEY, strlen(COMPACT_KEY)));
    json_t *resp = NULL;
    int r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, err);
    json_decref(req);
    if (r < 0) return r;
    *rev = header_rev(resp);
    if (kv) {
        json_t *k = json_array_get(json_object_get(resp, "kvs"), 0);
        *kv = k ? json_incref(k) : NULL;
    }
    json_decref(resp);
    return *rev > 0 ? 0 : bad_answer(s, err, "range");
}

/* Whether a read at revision rev is still possible (1), compacted (0). */
static int readable_at(etcd *s, int64_t rev, cn_err *err)
{
    json_t *req = json_pack("{s:o, s:I, s:b}", "key",
                            cn_etcd_b64_json(COMPACT_KEY, strlen(COMPACT_KEY)),
                            "revision", (json_int_t)rev, "count_only", 1);
    json_t *resp = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, &e);
    json_decref(req);
    json_decref(resp);
    if (r == -ERANGE) r = 0;
    else if (r >= 0) r = 1;
    else cn_err_move(err, &e);
    cn_err_clear(&e);
    return r;
}

/* The compacted revision of etcd, which it tells nobody directly: the
 * smallest revision still readable, by bisection (about log2(rev) small
 * reads, once at open). hint (the coordination key's value) usually
 * settles it in two. */
static int find_compacted(etcd *s, int64_t cur, int64_t hint, int64_t *out, cn_err *err)
{
    int64_t lo = 1, hi = cur;          /* the answer is in [lo, hi] */
    int r;
    if (hint > 1 && hint <= cur) {
        if ((r = readable_at(s, hint, err)) < 0) return r;
        if (r) hi = hint;
        else lo = hint + 1;
        if (r && (r = readable_at(s, hint - 1, err)) >= 0 && !r) lo = hi;
        if (r < 0) return r;
    }
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((r = readable_at(s, mid, err)) < 0) return r;
        if (r) hi = mid;
        else lo = mid + 1;
    }
    *out = lo > 1 ? lo : 0;
    return 0;
}

/* ---- reads ---- */

static int et_get(cn_store *base, const char *key, cn_kv *out, cn_err *err)
{
    etcd *s = ET(base);
    int r = check_store_key(key, err);
    if (r < 0) return r;
    json_t *req = json_pack("{s:o}", "key", etcd_key_json(s, key));
    json_t *resp = NULL;
    r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, err);
    json_decref(req);
    if (r < 0) return r;
    json_t *kv = json_array_get(json_object_get(resp, "kvs"), 0);
    if (!kv) {
        r = -ENOENT;
        cn_err_set(err, 404, "NotFound", "store: key \"%s\" not found", key);
    } else {
        cn_kv v = { 0 };
        r = parse_kv(s, kv, false, &v);
        if (r < 0) {
            r = bad_answer(s, err, "range");
        } else {
            v.key = cn_strdup(key);
            *out = v;
        }
    }
    json_decref(resp);
    return r;
}

/* Note: follow-up pages are read at the then-current revision, not the
 * first page's (the store interface has no continue revision). */
static int et_list(cn_store *base, const char *prefix, const char *after, size_t limit,
                   cn_kv_list *out, int64_t *rev, bool *more, cn_err *err)
{
    etcd *s = ET(base);
    char *start = NULL, *end = NULL;
    json_t *resp = NULL;
    cn_kv_list l = { 0 };
    int64_t hrev = 0;
    bool has_more = false;
    int r = 0;
    bool any = prefix_range(s, prefix, &start, &end), excl = false;
    if (any && after && strcmp(after, prefix) >= 0) {
        if (cn_str_has_prefix(after, REG "/")) {
            char *a = cn_asprintf("%s%s", s->pfx, after + REG_LEN);
            if (strcmp(a, start) >= 0) {
                free(start);
                start = CN_TAKE_PTR(a);
                excl = true;
            }
            free(a);
        } else if (strcmp(after, REG "/") > 0) {
            any = false;                               /* after every store key */
        }
    }
    json_t *req;
    if (any) {
        /* Strictly after `after`: the smallest greater key appends "\0". */
        size_t slen = strlen(start);
        req = json_pack("{s:o, s:o, s:I}", "key", cn_etcd_b64_json(start, excl ? slen + 1 : slen),
                        "range_end", cn_etcd_b64_json(end, strlen(end)), "limit", (json_int_t)limit);
    } else {
        /* Nothing can match; still answer with a revision. */
        req = json_pack("{s:o, s:b}", "key", cn_etcd_b64_json(COMPACT_KEY, strlen(COMPACT_KEY)),
                        "count_only", 1);
    }
    r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, err);
    json_decref(req);
    if (r < 0) goto out;
    hrev = header_rev(resp);
    if (any) {
        json_t *kvs = json_object_get(resp, "kvs"), *kv;
        size_t i;
        json_array_foreach(kvs, i, kv) {
            cn_kv v = { 0 };
            int pr = parse_kv(s, kv, true, &v);
            if (pr == -ENOENT) continue;
            if (pr < 0) {
                r = bad_answer(s, err, "range");
                goto out;
            }
            cn_kv_list_push(&l, &v);
        }
        has_more = json_is_true(json_object_get(resp, "more"));
    }
    *out = l;
    memset(&l, 0, sizeof l);
    if (rev) *rev = hrev;
    if (more) *more = has_more;
    r = 0;
out:
    cn_kv_list_release(&l);
    json_decref(resp);
    free(start);
    free(end);
    return r;
}

static int et_count(cn_store *base, const char *prefix, int64_t *count, cn_err *err)
{
    etcd *s = ET(base);
    char *start = NULL, *end = NULL;
    if (!prefix_range(s, prefix, &start, &end)) {
        *count = 0;
        return 0;
    }
    json_t *req = json_pack("{s:o, s:o, s:b}", "key", cn_etcd_b64_json(start, strlen(start)),
                            "range_end", cn_etcd_b64_json(end, strlen(end)), "count_only", 1);
    json_t *resp = NULL;
    int r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, err);
    json_decref(req);
    if (r >= 0) *count = cn_etcd_i64(resp, "count");
    json_decref(resp);
    free(start);
    free(end);
    return r;
}

/* ---- writes ---- */

static json_t *compare(etcd *s, const char *key, const char *target, const char *result,
                       const char *field, int64_t v)
{
    return json_pack("{s:o, s:s, s:s, s:I}", "key", etcd_key_json(s, key), "target", target,
                     "result", result, field, (json_int_t)v);
}

/* Whether kv (a gateway key-value) holds exactly this write's value. */
static bool holds_value(etcd *s, json_t *kv, const cn_store_write *w)
{
    cn_kv v = { 0 };
    if (!kv || parse_kv(s, kv, false, &v) < 0) return false;
    bool same = v.value_len == w->len && memcmp(v.value, w->value, w->len) == 0;
    cn_kv_release(&v);
    return same;
}

typedef enum outcome { OC_APPLIED, OC_NOT_APPLIED, OC_UNKNOWN } outcome;

/* A create or update was sent but not answered (-ETIMEDOUT: the member
 * lost its leader, or the answer was lost). Read the key linearizably:
 * once that read is served, a proposal the old leader never committed can
 * no longer be (the new leader has committed an entry of its own term, so
 * the old entry loses every future election), so what the read shows is
 * final. Values carry the object's uid and timestamps, so "holds our
 * bytes" means "ours was applied". Deletes stay unknown: their answer needs
 * the deleted value, which is gone. */
static outcome resolve_write(etcd *s, const cn_store_write *w, int64_t *rev)
{
    if (w->kind == CN_WRITE_DELETE) return OC_UNKNOWN;
    json_t *req = json_pack("{s:o}", "key", etcd_key_json(s, w->key));
    json_t *resp = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_etcd_call(s->c, "/v3/kv/range", req, CN_ETCD_READ, &resp, &e);
    json_decref(req);
    cn_err_clear(&e);
    if (r < 0) return OC_UNKNOWN;
    json_t *kv = json_array_get(json_object_get(resp, "kvs"), 0);
    outcome oc;
    if (holds_value(s, kv, w)) {
        *rev = cn_etcd_i64(kv, "mod_revision");
        oc = OC_APPLIED;
    } else if (w->kind == CN_WRITE_CREATE) {
        oc = kv ? OC_UNKNOWN : OC_NOT_APPLIED;   /* present with other bytes: let the retry say */
    } else if (w->expect_rev > 0) {
        oc = kv && cn_etcd_i64(kv, "mod_revision") == w->expect_rev ? OC_NOT_APPLIED : OC_UNKNOWN;
    } else {
        oc = kv ? OC_NOT_APPLIED : OC_UNKNOWN;   /* unconditional put: repeating it is harmless */
    }
    json_decref(resp);
    return oc;
}

#define WRITE_ATTEMPTS 3

/* Hand an error to the caller's cn_err, which may be NULL. */
static void give_err(cn_err *dst, cn_err *src)
{
    if (dst) cn_err_move(dst, src);
    else cn_err_clear(src);
}

static int et_write(cn_store *base, cn_store_write *w, cn_err *err)
{
    etcd *s = ET(base);
    int r = check_store_key(w->key, err);
    if (r < 0) return r;
    json_t *cmp, *op;
    if (w->kind == CN_WRITE_CREATE)
        cmp = compare(s, w->key, "CREATE", "EQUAL", "create_revision", 0);
    else if (w->expect_rev > 0)
        cmp = compare(s, w->key, "MOD", "EQUAL", "mod_revision", w->expect_rev);
    else
        cmp = compare(s, w->key, "CREATE", "GREATER", "create_revision", 0);
    if (w->kind == CN_WRITE_DELETE)
        op = json_pack("{s:{s:o, s:b}}", "request_delete_range", "key", etcd_key_json(s, w->key),
                       "prev_kv", 1);
    else
        op = json_pack("{s:{s:o, s:o}}", "request_put", "key", etcd_key_json(s, w->key),
                       "value", cn_etcd_b64_json(w->value, w->len));
    json_t *req = json_pack("{s:[o], s:[o], s:[{s:{s:o}}]}", "compare", cmp, "success", op,
                            "failure", "request_range", "key", etcd_key_json(s, w->key));
    json_t *resp = NULL;
    int64_t rev = 0;
    bool resent = false;
    for (int attempt = 1;; attempt++) {
        cn_err terr = CN_ERR_INIT;
        r = cn_etcd_call(s->c, "/v3/kv/txn", req, CN_ETCD_WRITE, &resp, &terr);
        if (r != -ETIMEDOUT || attempt == WRITE_ATTEMPTS) {
            if (r < 0) give_err(err, &terr);
            break;
        }
        outcome oc = resolve_write(s, w, &rev);
        if (oc != OC_NOT_APPLIED) {
            if (oc == OC_UNKNOWN) give_err(err, &terr);
            cn_err_clear(&terr);
            r = oc == OC_APPLIED ? 0 : -ETIMEDOUT;
            break;
        }
        cn_warn("store: etcd: %s; not applied (read back), sending it again", terr.message);
        cn_err_clear(&terr);
        resent = true;
    }
    json_decref(req);
    if (r < 0) return r;
    if (!resp) {                    /* applied, learnt by reading it back */
        w->rev = rev;
        wait_emitted(s, rev);
        return 0;
    }

    rev = header_rev(resp);
    json_t *res0 = json_array_get(json_object_get(resp, "responses"), 0);
    if (rev <= 0) {
        r = bad_answer(s, err, "txn");
        goto out;
    }
    if (!json_is_true(json_object_get(resp, "succeeded"))) {
        json_t *kv = json_array_get(json_object_get(json_object_get(res0, "response_range"), "kvs"), 0);
        if (resent && w->kind != CN_WRITE_DELETE && holds_value(s, kv, w)) {
            /* The first send was slow, not lost: it landed after our read. */
            rev = cn_etcd_i64(kv, "mod_revision");
            w->rev = rev;
            r = 0;
            goto out;
        }
        if (w->kind == CN_WRITE_CREATE) {
            cn_err_set(err, 409, "AlreadyExists", "store: key \"%s\" already exists", w->key);
            r = -EEXIST;
        } else if (!kv) {
            cn_err_set(err, 404, "NotFound", "store: key \"%s\" not found", w->key);
            r = -ENOENT;
        } else {
            cn_err_set(err, 409, "Conflict", "store: key \"%s\" is at revision %lld, expected %lld",
                       w->key, (long long)cn_etcd_i64(kv, "mod_revision"), (long long)w->expect_rev);
            r = -ESTALE;
        }
        goto out;
    }
    if (w->kind == CN_WRITE_DELETE && w->prev) {
        json_t *kv = json_array_get(
            json_object_get(json_object_get(res0, "response_delete_range"), "prev_kvs"), 0);
        cn_kv v = { 0 };
        if (kv && parse_kv(s, kv, false, &v) >= 0) {
            v.key = cn_strdup(w->key);
            *w->prev = v;
        }
    }
    w->rev = rev;
    r = 0;
out:
    json_decref(resp);
    if (r == 0) wait_emitted(s, rev);
    return r;
}

/* ---- events (watch thread and history) ---- */

typedef struct evbatch {
    cn_event *evs;
    size_t n, cap;
    char **owned;                   /* strings to free after delivery */
    size_t nown, capown;
} evbatch;

static void own(evbatch *b, char *p)
{
    if (b->nown == b->capown) {
        b->capown = b->capown ? b->capown * 2 : 32;
        b->owned = cn_realloc(b->owned, b->capown * sizeof *b->owned);
    }
    b->owned[b->nown++] = p;
}

static void evbatch_reset(evbatch *b)
{
    for (size_t i = 0; i < b->nown; i++) free(b->owned[i]);
    b->nown = 0;
    b->n = 0;
}

static void evbatch_release(evbatch *b)
{
    evbatch_reset(b);
    free(b->evs);
    free(b->owned);
}

/* Decode the events of one watch message into b (only our keys). Returns
 * the highest revision seen in the message (ours or not), or -EINVAL. */
static int64_t decode_events(etcd *s, json_t *result, evbatch *b)
{
    json_t *evs = json_object_get(result, "events"), *je;
    size_t i;
    int64_t max = 0;
    json_array_foreach(evs, i, je) {
        cn_kv kv = { 0 }, prev = { 0 };
        json_t *jkv = json_object_get(je, "kv"), *jprev = json_object_get(je, "prev_kv");
        int r = parse_kv(s, jkv, true, &kv);
        int64_t rev = cn_etcd_i64(jkv, "mod_revision");
        if (r == -EINVAL || rev <= 0) return -EINVAL;
        if (rev > max) max = rev;
        if (r == -ENOENT) continue;          /* not under our prefix */
        bool has_prev = jprev && parse_kv(s, jprev, false, &prev) >= 0;
        own(b, kv.key);
        own(b, kv.value);
        if (has_prev) own(b, prev.value);
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 16;
            b->evs = cn_realloc(b->evs, b->cap * sizeof *b->evs);
        }
        cn_event *ev = &b->evs[b->n++];
        const char *type = json_string_value(json_object_get(je, "type"));
        memset(ev, 0, sizeof *ev);
        ev->rev = rev;
        ev->key = kv.key;
        ev->prev_value = has_prev ? prev.value : NULL;
        ev->prev_len = has_prev ? prev.value_len : 0;
        if (type && !strcmp(type, "DELETE")) {
            ev->type = CN_EV_DELETE;
            ev->value = has_prev ? prev.value : "";
            ev->value_len = has_prev ? prev.value_len : 0;
            ev->create_rev = has_prev ? prev.create_rev : 0;
        } else {
            ev->type = CN_EV_PUT;
            ev->value = kv.value;
            ev->value_len = kv.value_len;
            ev->create_rev = kv.create_rev;
        }
    }
    return max;
}

typedef struct watch_ctx {
    etcd *s;
    evbatch b;
    bool created;
} watch_ctx;

static int watch_msg(void *ud, json_t *msg, cn_err *err)
{
    watch_ctx *w = ud;
    etcd *s = w->s;
    const char *emsg = json_string_value(json_object_get(json_object_get(msg, "error"), "message"));
    json_t *res = json_object_get(msg, "result");
    if (emsg || !json_is_object(res)) {
        cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: watch: %s", cn_etcd_endpoint(s->c),
                   emsg ? emsg : "unexpected message");
        return -EPIPE;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        int64_t crev = cn_etcd_i64(res, "compact_revision");
        if (crev > 0) {
            raise_compacted(s, crev);
            /* The changes in between are gone for good: tell the sink, so
             * the watch cache sends its watchers 410 and they relist. */
            cn_warn("store: etcd: watch resume at revision %lld: compacted to %lld; "
                    "resetting watchers (they relist)",
                    (long long)s->watch_from, (long long)crev);
            cn_event reset = { .type = CN_EV_RESET, .rev = crev, .key = "", .value = "" };
            cn_store_emit(&s->base, &reset, 1);
            s->watch_from = crev;
            return -ERANGE;
        }
        const char *why = json_string_value(json_object_get(res, "cancel_reason"));
        cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: watch cancelled: %s",
                   cn_etcd_endpoint(s->c), why ? why : "no reason given");
        return -EPIPE;
    }
    if (json_is_true(json_object_get(res, "created"))) {
        w->created = true;
        return 0;
    }
    evbatch_reset(&w->b);
    int64_t max = decode_events(s, res, &w->b);
    if (max < 0) {
        cn_err_internal(err, "etcd %s: malformed watch event", cn_etcd_endpoint(s->c));
        return -EIO;
    }
    /* A message without events is a progress notification: everything up
     * to its header revision has been sent. */
    if (!json_array_size(json_object_get(res, "events"))) max = header_rev(res);
    size_t first = 0;
    int64_t cur = __atomic_load_n(&s->emitted, __ATOMIC_ACQUIRE);
    while (first < w->b.n && w->b.evs[first].rev <= cur) first++;   /* replays after a resume */
    if (first < w->b.n) cn_store_emit(&s->base, w->b.evs + first, w->b.n - first);
    if (max > cur) {
        pthread_mutex_lock(&s->rev_lock);
        __atomic_store_n(&s->emitted, max, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&s->rev_cond);
        pthread_mutex_unlock(&s->rev_lock);
        s->watch_from = max + 1;
    }
    evbatch_reset(&w->b);
    return 0;
}

static bool stopping(etcd *s)
{
    pthread_mutex_lock(&s->rev_lock);
    bool st = s->stop;
    pthread_mutex_unlock(&s->rev_lock);
    return st;
}

static void *watch_main(void *arg)
{
    etcd *s = arg;
    watch_ctx w = { .s = s };
    int fails = 0;
    s->watch_from = et_current_rev(&s->base) + 1;
    while (!stopping(s)) {
        json_t *req = json_pack("{s:{s:o, s:o, s:I, s:b, s:b}}", "create_request",
                                "key", cn_etcd_b64_json(s->range_start, strlen(s->range_start)),
                                "range_end", cn_etcd_b64_json(s->range_end, strlen(s->range_end)),
                                "start_revision", (json_int_t)s->watch_from,
                                "prev_kv", 1, "progress_notify", 1);
        cn_err e = CN_ERR_INIT;
        w.created = false;
        int r = cn_etcd_stream(s->c, "/v3/watch", req, 0, watch_msg, &w, &e);
        json_decref(req);
        if (r == -ESHUTDOWN || stopping(s)) {
            cn_err_clear(&e);
            break;
        }
        if (w.created) fails = 0;
        if (r != -ERANGE && fails++ == 0)
            cn_warn("store: etcd: watch interrupted (%s); resuming at revision %lld",
                    e.message ? e.message : "stream ended", (long long)s->watch_from);
        cn_err_clear(&e);
        /* Back off on repeated failures (all endpoints down), but wake at
         * once on close. */
        struct timespec ts;
        deadline_in(&ts, fails <= 1 ? 20 : fails < 5 ? 100L * fails : 1000);
        pthread_mutex_lock(&s->rev_lock);
        while (!s->stop && pthread_cond_timedwait(&s->rev_cond, &s->rev_lock, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&s->rev_lock);
    }
    evbatch_release(&w.b);
    return NULL;
}

typedef struct hist_ctx {
    etcd *s;
    int64_t upto;
    cn_event_fn fn;
    void *ud;
    evbatch b;
} hist_ctx;

static int hist_msg(void *ud, json_t *msg, cn_err *err)
{
    hist_ctx *h = ud;
    etcd *s = h->s;
    const char *emsg = json_string_value(json_object_get(json_object_get(msg, "error"), "message"));
    json_t *res = json_object_get(msg, "result");
    if (emsg || !json_is_object(res)) {
        cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: history: %s", cn_etcd_endpoint(s->c),
                   emsg ? emsg : "unexpected message");
        return -EIO;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        int64_t crev = cn_etcd_i64(res, "compact_revision");
        if (crev > 0) {
            raise_compacted(s, crev);
            cn_err_set(err, 410, "Expired", "store: history is compacted up to revision %lld",
                       (long long)crev);
            return -ERANGE;
        }
        cn_err_set(err, 503, "ServiceUnavailable", "etcd %s: history watch cancelled",
                   cn_etcd_endpoint(s->c));
        return -EIO;
    }
    evbatch_reset(&h->b);
    int64_t max = decode_events(s, res, &h->b);
    if (max < 0) {
        cn_err_internal(err, "etcd %s: malformed watch event", cn_etcd_endpoint(s->c));
        return -EIO;
    }
    for (size_t i = 0; i < h->b.n && h->b.evs[i].rev <= h->upto; i++) h->fn(h->ud, &h->b.evs[i]);
    evbatch_reset(&h->b);
    return max >= h->upto ? 1 : 0;
}

static int et_history(cn_store *base, int64_t after_rev, cn_event_fn fn, void *ud, cn_err *err)
{
    etcd *s = ET(base);
    int64_t compacted = et_compacted_rev(base), upto = 0;
    if (after_rev < compacted) {
        cn_err_set(err, 410, "Expired", "store: revision %lld is compacted (oldest kept: %lld)",
                   (long long)after_rev, (long long)compacted);
        return -ERANGE;
    }
    int r = etcd_rev(s, &upto, NULL, err);
    if (r < 0 || after_rev >= upto) return r < 0 ? r : 0;
    static const char zero[1] = { 0 };
    json_t *req = json_pack("{s:{s:o, s:o, s:I, s:b}}", "create_request",
                            "key", cn_etcd_b64_json(zero, 1), "range_end", cn_etcd_b64_json(zero, 1),
                            "start_revision", (json_int_t)(after_rev + 1), "prev_kv", 1);
    hist_ctx h = { .s = s, .upto = upto, .fn = fn, .ud = ud };
    r = cn_etcd_stream(s->c, "/v3/watch", req, HISTORY_IDLE_S, hist_msg, &h, err);
    json_decref(req);
    evbatch_release(&h.b);
    return r;
}

/* ---- compaction ---- */

static int compact_to(etcd *s, int64_t rev, cn_err *err)
{
    json_t *req = json_pack("{s:I}", "revision", (json_int_t)rev);
    json_t *resp = NULL;
    int r = cn_etcd_call(s->c, "/v3/kv/compaction", req, CN_ETCD_WRITE, &resp, err);
    json_decref(req);
    json_decref(resp);
    if (r == -ERANGE) r = 0;            /* someone compacted further already */
    if (r >= 0) raise_compacted(s, rev);
    return r;
}

static int et_compact(cn_store *base, int64_t rev, cn_err *err)
{
    etcd *s = ET(base);
    int64_t cur = 0;
    int r = etcd_rev(s, &cur, NULL, err);
    if (r < 0) return r;
    /* The current revision's change stays, so a watch from cur-1 resumes. */
    if (rev >= cur) rev = cur - 1;
    if (rev <= et_compacted_rev(base)) return 0;
    return compact_to(s, rev, err);
}

/* One turn of the servers' shared compaction: whoever swaps the version of
 * COMPACT_KEY it last saw compacts; the others learn the new version (and
 * the compacted revision) and try again next interval. */
static void compact_turn(etcd *s)
{
    cn_err e = CN_ERR_INIT;
    int64_t cur = 0;
    json_t *req = NULL, *resp = NULL;
    if (etcd_rev(s, &cur, NULL, &e) < 0) goto out;
    int64_t target = cur - s->keep;
    if (target <= et_compacted_rev(&s->base)) goto out;
    char val[32];
    int n = snprintf(val, sizeof val, "%lld", (long long)target);
    json_t *key = cn_etcd_b64_json(COMPACT_KEY, strlen(COMPACT_KEY));
    req = json_pack("{s:[{s:O, s:s, s:s, s:I}], s:[{s:{s:O, s:o}}], s:[{s:{s:o}}]}",
                    "compare", "key", key, "target", "VERSION", "result", "EQUAL", "version",
                    (json_int_t)s->cp_version,
                    "success", "request_put", "key", key, "value", cn_etcd_b64_json(val, (size_t)n),
                    "failure", "request_range", "key", key);
    if (cn_etcd_call(s->c, "/v3/kv/txn", req, CN_ETCD_WRITE, &resp, &e) < 0) goto out;
    if (json_is_true(json_object_get(resp, "succeeded"))) {
        s->cp_version++;
        if (compact_to(s, target, &e) < 0) goto out;
        cn_debug("store: etcd: compacted to revision %lld", (long long)target);
    } else {
        json_t *res0 = json_array_get(json_object_get(resp, "responses"), 0);
        json_t *kv = json_array_get(json_object_get(json_object_get(res0, "response_range"), "kvs"), 0);
        cn_kv v = { 0 };
        s->cp_version = kv ? cn_etcd_i64(kv, "version") : 0;
        int64_t done = 0;
        if (kv && parse_kv(s, kv, false, &v) >= 0 && cn_parse_int64(v.value, &done) == 0)
            raise_compacted(s, done);
        cn_kv_release(&v);
    }
out:
    if (e.message) cn_warn("store: etcd: compaction: %s; retrying next interval", e.message);
    cn_err_clear(&e);
    json_decref(req);
    json_decref(resp);
}

static void *compactor_main(void *arg)
{
    etcd *s = arg;
    pthread_mutex_lock(&s->cp_lock);
    while (!s->cp_stop) {
        struct timespec ts;
        deadline_in(&ts, (int64_t)s->interval_s * 1000);
        while (!s->cp_stop && pthread_cond_timedwait(&s->cp_cond, &s->cp_lock, &ts) != ETIMEDOUT)
            ;
        if (s->cp_stop) break;
        pthread_mutex_unlock(&s->cp_lock);
        compact_turn(s);
        pthread_mutex_lock(&s->cp_lock);
    }
    pthread_mutex_unlock(&s->cp_lock);
    return NULL;
}

/* ---- open / close ---- */

static void et_close(cn_store *base)
{
    etcd *s = ET(base);
    if (s->compactor_started) {
        pthread_mutex_lock(&s->cp_lock);
        s->cp_stop = true;
        pthread_cond_signal(&s->cp_cond);
        pthread_mutex_unlock(&s->cp_lock);
        pthread_join(s->compactor, NULL);
    }
    pthread_mutex_lock(&s->rev_lock);
    s->stop = true;
    pthread_cond_broadcast(&s->rev_cond);
    pthread_mutex_unlock(&s->rev_lock);
    if (s->c) cn_etcd_client_shutdown(s->c);
    if (s->watcher_started) pthread_join(s->watcher, NULL);
    cn_etcd_client_free(s->c);
    pthread_mutex_destroy(&s->rev_lock);
    pthread_cond_destroy(&s->rev_cond);
    pthread_mutex_destroy(&s->cp_lock);
    pthread_cond_destroy(&s->cp_cond);
    cn_store_base_release(&s->base);
    free(s->pfx);
    free(s->range_start);
    free(s->range_end);
    free(s);
}

static const cn_store_ops etcd_ops = {
    .name = "etcd",
    .close = et_close,
    .current_rev = et_current_rev,
    .compacted_rev = et_compacted_rev,
    .get = et_get,
    .list = et_list,
    .count = et_count,
    .write = et_write,
    .history = et_history,
    .compact = et_compact,
};

int cn_store_open_etcd(const cn_etcd_config *cfg, const cn_store_options *opts,
                       cn_store **out, cn_err *err)
{
    if (!cfg) return cn_err_bad_request(err, "etcd: no configuration"), -EINVAL;
    const char *pfx = cfg->prefix && *cfg->prefix ? cfg->prefix : REG;
    size_t plen = strlen(pfx);
    while (plen > 1 && pfx[plen - 1] == '/') plen--;
    if (pfx[0] != '/' || plen > 256 || memchr(pfx, '\0', plen) != NULL)
        return cn_err_bad_request(err, "etcd: prefix \"%s\" must start with / (at most 256 bytes)",
                                  pfx), -EINVAL;
    etcd *s = cn_calloc(1, sizeof *s);
    cn_store_base_init(&s->base, &etcd_ops);
    pthread_mutex_init(&s->rev_lock, NULL);
    cond_init_mono(&s->rev_cond);
    pthread_mutex_init(&s->cp_lock, NULL);
    cond_init_mono(&s->cp_cond);
    s->pfx = cn_strndup(pfx, plen);
    s->pfx_len = plen;
    s->range_start = cn_asprintf("%s/", s->pfx);
    s->range_end = cn_asprintf("%s0", s->pfx);
    s->keep = opts && opts->keep_revisions > 0 ? opts->keep_revisions : DEFAULT_KEEP_REVISIONS;
    s->interval_s = opts && opts->compact_interval_s > 0 ? opts->compact_interval_s
                                                         : DEFAULT_COMPACT_INTERVAL_S;
    json_t *kv = NULL;
    int64_t rev = 0;
    int r = cn_etcd_client_new(cfg, &s->c, err);
    if (r < 0) goto fail;
    r = etcd_rev(s, &rev, &kv, err);
    if (r < 0) {
        cn_err_wrap(err, "cannot reach etcd at %s", cfg->endpoints);
        goto fail;
    }
    s->emitted = rev;
    int64_t hint = 0;
    if (kv) {
        cn_kv v = { 0 };
        s->cp_version = cn_etcd_i64(kv, "version");
        if (parse_kv(s, kv, false, &v) < 0 || cn_parse_int64(v.value, &hint) < 0) hint = 0;
        cn_kv_release(&v);
        json_decref(kv);
    }
    r = find_compacted(s, rev, hint, &s->compacted, err);
    if (r < 0) goto fail;
    if (pthread_create(&s->watcher, NULL, watch_main, s) != 0) {
        r = cn_err_internal(err, "store: cannot start the etcd watch thread");
        goto fail;
    }
    s->watcher_started = true;
    if (pthread_create(&s->compactor, NULL, compactor_main, s) != 0) {
        r = cn_err_internal(err, "store: cannot start the compaction thread");
        goto fail;
    }
    s->compactor_started = true;
    *out = &s->base;
    return 0;
fail:
    et_close(&s->base);
    return r;
}
