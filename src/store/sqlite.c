/* sqlite: the embedded SQLite backend of the store (store-internal.h).
 *
 * Schema: meta(k, v) holds the global revision ('rev') and the compacted
 * revision ('compacted'); kv holds the live pairs with create/mod revision;
 * log holds one row per revision (type, key, value, prev, create_rev) so
 * watchers can resume, until compaction deletes it.
 *
 * Writes (group commit, STYLE.md habit 9):
 *
 *   writer threads ──enqueue──▶ queue ──take all──▶ committer thread
 *                                                  BEGIN IMMEDIATE
 *                                                  per op: check, new rev, write
 *                                                  COMMIT (one fsync)
 *                                                  sink(ev) for each op, in order
 *   writer threads ◀──────────── done + broadcast ─┘
 *
 * A failed precondition fails only its own op; an SQLite error rolls the
 * whole batch back and fails every op in it, so nothing unacknowledged is
 * half-applied and nothing acknowledged is lost. Compaction is queued as an
 * op too (in chunks), so it never fights the committer for the write lock.
 *
 * Reads use a pool of read-only connections; WAL lets them run beside the
 * committer. Every connection caches its prepared statements. */
#include "store/store-internal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

#define DEFAULT_KEEP_REVISIONS 10000
#define DEFAULT_COMPACT_INTERVAL_S 300
#define COMPACT_CHUNK 5000          /* log rows deleted per committed batch */
#define MAX_READERS 16
#define BUSY_TIMEOUT_MS 10000

enum stmt_id {
    ST_BEGIN, ST_BEGIN_IMM, ST_COMMIT, ST_ROLLBACK,
    ST_META_GET, ST_META_SET,
    ST_GET,
    ST_LIST_GE, ST_LIST_GE_OPEN, ST_LIST_GT, ST_LIST_GT_OPEN,
    ST_COUNT, ST_COUNT_OPEN,
    ST_INSERT, ST_UPDATE, ST_DELETE,
    ST_LOG_ADD, ST_LOG_READ, ST_LOG_COMPACT,
    ST__MAX
};

static const char *const sql_text[ST__MAX] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMM] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [ST_META_SET] = "UPDATE meta SET v = ?2 WHERE k = ?1",
    [ST_GET] = "SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1",
    /* ?2 is the end of the prefix range; the _OPEN forms have no end. */
    [ST_LIST_GE] = "SELECT key, value, create_rev, mod_rev FROM kv"
                   " WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    [ST_LIST_GE_OPEN] = "SELECT key, value, create_rev, mod_rev FROM kv"
                        " WHERE key >= ?1 ORDER BY key LIMIT ?3",
    [ST_LIST_GT] = "SELECT key, value, create_rev, mod_rev FROM kv"
                   " WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    [ST_LIST_GT_OPEN] = "SELECT key, value, create_rev, mod_rev FROM kv"
                        " WHERE key > ?1 ORDER BY key LIMIT ?3",
    [ST_COUNT] = "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2",
    [ST_COUNT_OPEN] = "SELECT count(*) FROM kv WHERE key >= ?1",
    [ST_INSERT] = "INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?3)",
    [ST_UPDATE] = "UPDATE kv SET value = ?2, mod_rev = ?3 WHERE key = ?1",
    [ST_DELETE] = "DELETE FROM kv WHERE key = ?1",
    [ST_LOG_ADD] = "INSERT INTO log(rev, type, key, value, prev, create_rev)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_LOG_READ] = "SELECT rev, type, key, value, prev, create_rev FROM log"
                    " WHERE rev > ?1 ORDER BY rev",
    [ST_LOG_COMPACT] = "DELETE FROM log WHERE rev <= ?1",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(k, v) VALUES ('rev', 0), ('compacted', 0);"
    "CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
    " value BLOB NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log(rev INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
    " key TEXT NOT NULL, value BLOB, prev BLOB, create_rev INTEGER NOT NULL);";

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST__MAX];
    struct conn *next_free;
} conn;

/* A queued request for the committer; lives on the requesting thread's
 * stack until the committer posts `done`. */
typedef struct pending {
    cn_store_write *w;          /* NULL for a compaction chunk */
    int64_t compact_to;
    cn_err *err;
    int result;
    /* the pair as it was before the op (UPDATE/DELETE); prev is owned */
    char *prev;
    size_t prev_len;
    int64_t old_create, old_mod;
    sem_t done;                 /* one wake-up per waiter: no thundering herd */
    struct pending *next;
} pending;

typedef struct sq {
    cn_store base;              /* first: cn_store* <-> sq* */
    char *path;
    int64_t keep;
    int interval_s;

    conn wr;                    /* committer only (and open/close) */
    int64_t rev;                /* atomic: last committed revision */
    int64_t compacted;          /* atomic */

    pthread_mutex_t q_lock;
    pthread_cond_t q_work;      /* committer waits for work */
    pending *q_head, *q_tail;
    bool q_idle;                /* committer is waiting on q_work */
    bool q_stop;
    pthread_t committer;
    bool committer_started;
    cn_event *evs;              /* committer's scratch for one batch */
    size_t evs_cap;

    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    conn *pool_free;
    conn *pool_all[MAX_READERS];
    int pool_n;

    pthread_mutex_t cp_lock;
    pthread_cond_t cp_cond;
    bool cp_stop;
    pthread_t compactor;
    bool compactor_started;
} sq;

static sq *SQ(cn_store *s) { return (sq *)s; }

static int rc_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
    default: return -EIO;
    }
}

static int db_fail(conn *c, int rc, cn_err *err, const char *what)
{
    cn_err_internal(err, "store: %s: %s", what, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return rc_errno(rc);
}

/* The cached statement `id`, reset and ready to bind; prepared on first use. */
static int stmt(conn *c, enum stmt_id id, sqlite3_stmt **out)
{
    if (!c->st[id]) {
        int rc = sqlite3_prepare_v3(c->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->st[id], NULL);
        if (rc != SQLITE_OK) return rc;
    }
    *out = c->st[id];
    return SQLITE_OK;
}

/* Run a statement that returns no rows (BEGIN, COMMIT, ...). */
static int exec_stmt(conn *c, enum stmt_id id)
{
    sqlite3_stmt *st;
    int rc = stmt(c, id, &st);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int meta_get(conn *c, const char *k, int64_t *v)
{
    sqlite3_stmt *st;
    int rc = stmt(c, ST_META_GET, &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;
    }
    sqlite3_reset(st);
    return rc;
}

static int meta_set(conn *c, const char *k, int64_t v)
{
    sqlite3_stmt *st;
    int rc = stmt(c, ST_META_SET, &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void conn_close(conn *c)
{
    for (int i = 0; i < ST__MAX; i++) sqlite3_finalize(c->st[i]);
    memset(c->st, 0, sizeof c->st);
    sqlite3_close(c->db);
    c->db = NULL;
}

static int conn_open(conn *c, const char *path, bool readonly, bool no_fsync, cn_err *err)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int r = db_fail(c, rc, err, "open");
        cn_err_wrap(err, "\"%s\"", path);
        conn_close(c);
        return r;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /* WAL lets the readers run beside the committer; synchronous=FULL makes
     * every COMMIT durable (one fsync of the WAL per batch); the size limit
     * trims the WAL back after a burst. */
    const char *pragmas = readonly
        ? "PRAGMA query_only=1; PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384;"
        : no_fsync ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
                     " PRAGMA journal_size_limit=67108864;"
                   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
                     " PRAGMA journal_size_limit=67108864;";
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int r = db_fail(c, rc, err, "configure");
        conn_close(c);
        return r;
    }
    if (!readonly) {
        /* journal_mode silently stays "delete" where WAL is impossible (no
         * shared memory); the read pool would then block on the writer. */
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode", -1, &st, NULL);
        bool wal = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
                   sqlite3_column_text(st, 0) &&
                   !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        if (!wal) {
            cn_err_internal(err, "store: \"%s\": cannot enable WAL journal mode", path);
            conn_close(c);
            return -EIO;
        }
    }
    return 0;
}

/* ---- read pool ---- */

static int reader_get(sq *s, conn **out, cn_err *err)
{
    pthread_mutex_lock(&s->pool_lock);
    for (;;) {
        if (s->pool_free) {
            conn *c = s->pool_free;
            s->pool_free = c->next_free;
            pthread_mutex_unlock(&s->pool_lock);
            *out = c;
            return 0;
        }
        if (s->pool_n < MAX_READERS) break;
        pthread_cond_wait(&s->pool_cond, &s->pool_lock);
    }
    s->pool_n++;                      /* reserve a slot; open outside the lock */
    pthread_mutex_unlock(&s->pool_lock);
    conn *c = cn_calloc(1, sizeof *c);
    int r = conn_open(c, s->path, true, false, err);
    pthread_mutex_lock(&s->pool_lock);
    if (r < 0) {
        s->pool_n--;
        pthread_cond_signal(&s->pool_cond);
        pthread_mutex_unlock(&s->pool_lock);
        free(c);
        return r;
    }
    for (int i = 0; i < MAX_READERS; i++)
        if (!s->pool_all[i]) {
            s->pool_all[i] = c;
            break;
        }
    pthread_mutex_unlock(&s->pool_lock);
    *out = c;
    return 0;
}

static void reader_put(sq *s, conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) exec_stmt(c, ST_ROLLBACK);
    pthread_mutex_lock(&s->pool_lock);
    c->next_free = s->pool_free;
    s->pool_free = c;
    pthread_cond_signal(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_lock);
}

/* ---- reads ---- */

static char *copy_blob(sqlite3_stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *v = cn_malloc(n + 1);
    if (n) memcpy(v, p, n);
    v[n] = '\0';
    *len = n;
    return v;
}

static int64_t sq_current_rev(cn_store *base)
{
    return __atomic_load_n(&SQ(base)->rev, __ATOMIC_ACQUIRE);
}

static int64_t sq_compacted_rev(cn_store *base)
{
    return __atomic_load_n(&SQ(base)->compacted, __ATOMIC_ACQUIRE);
}

static int sq_get(cn_store *base, const char *key, cn_kv *out, cn_err *err)
{
    sq *s = SQ(base);
    conn *c;
    sqlite3_stmt *st = NULL;
    int r = reader_get(s, &c, err);
    if (r < 0) return r;
    int rc = stmt(c, ST_GET, &st);
    if (rc != SQLITE_OK) {
        r = db_fail(c, rc, err, "get");
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n;
        char *v = copy_blob(st, 0, &n);
        out->key = cn_strdup(key);
        out->value = v;
        out->value_len = n;
        out->create_rev = sqlite3_column_int64(st, 1);
        out->mod_rev = sqlite3_column_int64(st, 2);
        r = 0;
    } else if (rc == SQLITE_DONE) {
        r = -ENOENT;
        cn_err_set(err, 404, "NotFound", "store: key \"%s\" not found", key);
    } else {
        r = db_fail(c, rc, err, "get");
    }
out:
    if (st) sqlite3_reset(st);
    reader_put(s, c);
    return r;
}

static int sq_list(cn_store *base, const char *prefix, const char *after, size_t limit,
                   cn_kv_list *out, int64_t *rev, bool *more, cn_err *err)
{
    sq *s = SQ(base);
    conn *c;
    sqlite3_stmt *st = NULL;
    cn_kv_list l = { 0 };
    size_t end_len = 0;
    char *end = cn_store_prefix_end(prefix, &end_len);
    int64_t snap = 0;
    bool gt = after && strcmp(after, prefix) >= 0;
    enum stmt_id id = gt ? (end ? ST_LIST_GT : ST_LIST_GT_OPEN) : (end ? ST_LIST_GE : ST_LIST_GE_OPEN);
    bool has_more = false;
    int r = reader_get(s, &c, err), rc;
    if (r < 0) goto done;
    /* One read transaction: the revision and the rows come from one snapshot. */
    rc = exec_stmt(c, ST_BEGIN);
    if (rc == SQLITE_OK) rc = meta_get(c, "rev", &snap);
    if (rc == SQLITE_OK) rc = stmt(c, id, &st);
    if (rc != SQLITE_OK) {
        r = db_fail(c, rc, err, "list");
        goto put;
    }
    sqlite3_bind_text(st, 1, gt ? after : prefix, -1, SQLITE_STATIC);
    if (end) sqlite3_bind_text(st, 2, end, (int)end_len, SQLITE_STATIC);
    /* One extra row tells whether more remain. */
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit + 1 : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit && l.n == limit) {
            has_more = true;
            break;
        }
        cn_kv kv = { 0 };
        kv.key = cn_strndup((const char *)sqlite3_column_text(st, 0),
                            (size_t)sqlite3_column_bytes(st, 0));
        kv.value = copy_blob(st, 1, &kv.value_len);
        kv.create_rev = sqlite3_column_int64(st, 2);
        kv.mod_rev = sqlite3_column_int64(st, 3);
        cn_kv_list_push(&l, &kv);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = db_fail(c, rc, err, "list");
        goto put;
    }
    sqlite3_reset(st);
    st = NULL;
    rc = exec_stmt(c, ST_COMMIT);
    if (rc != SQLITE_OK) {
        r = db_fail(c, rc, err, "list");
        goto put;
    }
    *out = l;
    memset(&l, 0, sizeof l);
    if (rev) *rev = snap;
    if (more) *more = has_more;
    r = 0;
put:
    if (st) sqlite3_reset(st);
    reader_put(s, c);
done:
    cn_kv_list_release(&l);
    free(end);
    return r;
}

static int sq_count(cn_store *base, const char *prefix, int64_t *count, cn_err *err)
{
    sq *s = SQ(base);
    conn *c;
    sqlite3_stmt *st = NULL;
    size_t end_len = 0;
    char *end = cn_store_prefix_end(prefix, &end_len);
    int r = reader_get(s, &c, err), rc;
    if (r < 0) goto done;
    rc = stmt(c, end ? ST_COUNT : ST_COUNT_OPEN, &st);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        if (end) sqlite3_bind_text(st, 2, end, (int)end_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        r = 0;
    } else {
        r = db_fail(c, rc, err, "count");
    }
    if (st) sqlite3_reset(st);
    reader_put(s, c);
done:
    free(end);
    return r;
}

static int sq_history(cn_store *base, int64_t after_rev, cn_event_fn fn, void *ud, cn_err *err)
{
    sq *s = SQ(base);
    conn *c;
    sqlite3_stmt *st = NULL;
    int64_t compacted = 0;
    int r = reader_get(s, &c, err), rc;
    if (r < 0) return r;
    rc = exec_stmt(c, ST_BEGIN);
    if (rc == SQLITE_OK) rc = meta_get(c, "compacted", &compacted);
    if (rc != SQLITE_OK) {
        r = db_fail(c, rc, err, "history");
        goto put;
    }
    if (after_rev < compacted) {
        r = -ERANGE;
        cn_err_set(err, 410, "Expired", "store: revision %lld is compacted (oldest kept %lld)",
                   (long long)after_rev, (long long)compacted);
        goto put;
    }
    rc = stmt(c, ST_LOG_READ, &st);
    if (rc != SQLITE_OK) {
        r = db_fail(c, rc, err, "history");
        goto put;
    }
    sqlite3_bind_int64(st, 1, after_rev);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cn_event ev = {
            .rev = sqlite3_column_int64(st, 0),
            .type = (cn_event_type)sqlite3_column_int(st, 1),
            .key = (const char *)sqlite3_column_text(st, 2),
            .create_rev = sqlite3_column_int64(st, 5),
        };
        bool has_prev = sqlite3_column_type(st, 4) != SQLITE_NULL;
        /* column_blob gives NULL for an empty blob; events want "" then. */
        const char *prev = has_prev ? sqlite3_column_blob(st, 4) : NULL;
        size_t prev_len = has_prev ? (size_t)sqlite3_column_bytes(st, 4) : 0;
        if (has_prev && !prev) prev = "";
        if (ev.type == CN_EV_DELETE) {
            ev.value = prev;
            ev.value_len = prev_len;
        } else {
            ev.value = sqlite3_column_blob(st, 3);
            ev.value_len = (size_t)sqlite3_column_bytes(st, 3);
            if (!ev.value) ev.value = "";
        }
        ev.prev_value = prev;
        ev.prev_len = prev_len;
        if (!ev.key) {
            rc = SQLITE_NOMEM;
            break;
        }
        fn(ud, &ev);
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(c, rc, err, "history");
        goto put;
    }
    r = 0;
put:
    if (st) sqlite3_reset(st);
    reader_put(s, c);
    return r;
}

/* ---- writes: the committer ---- */

static void bind_value(sqlite3_stmt *st, int i, const char *v, size_t n)
{
    /* A NULL pointer would bind SQL NULL; keep empty values empty blobs. */
    sqlite3_bind_blob64(st, i, v ? v : "", n, SQLITE_STATIC);
}

/* Apply one write inside the batch transaction. Returns >= 0, a
 * precondition error (the op fails alone), or sets *fatal with an SQLite
 * code (the whole batch rolls back). */
static int apply_write(sq *s, pending *p, int64_t *cur, int *fatal)
{
    conn *c = &s->wr;
    cn_store_write *w = p->w;
    sqlite3_stmt *st;
    int rc = stmt(c, ST_GET, &st);
    if (rc != SQLITE_OK) goto fail;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    bool exists = rc == SQLITE_ROW;
    if (exists) {
        p->old_create = sqlite3_column_int64(st, 1);
        p->old_mod = sqlite3_column_int64(st, 2);
        if (w->kind != CN_WRITE_CREATE) p->prev = copy_blob(st, 0, &p->prev_len);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_OK) goto fail;

    if (w->kind == CN_WRITE_CREATE && exists) {
        cn_err_set(p->err, 409, "AlreadyExists", "store: key \"%s\" already exists", w->key);
        return -EEXIST;
    }
    if (w->kind != CN_WRITE_CREATE && !exists) {
        cn_err_set(p->err, 404, "NotFound", "store: key \"%s\" not found", w->key);
        return -ENOENT;
    }
    if (w->kind != CN_WRITE_CREATE && w->expect_rev > 0 && w->expect_rev != p->old_mod) {
        cn_err_set(p->err, 409, "Conflict",
                   "store: key \"%s\" is at revision %lld, expected %lld", w->key,
                   (long long)p->old_mod, (long long)w->expect_rev);
        return -ESTALE;
    }

    int64_t rev = *cur + 1;
    int64_t create_rev = w->kind == CN_WRITE_CREATE ? rev : p->old_create;
    enum stmt_id id = w->kind == CN_WRITE_CREATE ? ST_INSERT
                    : w->kind == CN_WRITE_UPDATE ? ST_UPDATE : ST_DELETE;
    rc = stmt(c, id, &st);
    if (rc != SQLITE_OK) goto fail;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
    if (w->kind != CN_WRITE_DELETE) {
        bind_value(st, 2, w->value, w->len);
        sqlite3_bind_int64(st, 3, rev);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) goto fail;

    rc = stmt(c, ST_LOG_ADD, &st);
    if (rc != SQLITE_OK) goto fail;
    sqlite3_bind_int64(st, 1, rev);
    sqlite3_bind_int(st, 2, w->kind == CN_WRITE_DELETE ? CN_EV_DELETE : CN_EV_PUT);
    sqlite3_bind_text(st, 3, w->key, -1, SQLITE_STATIC);
    if (w->kind == CN_WRITE_DELETE) sqlite3_bind_null(st, 4);   /* the value is prev */
    else bind_value(st, 4, w->value, w->len);
    if (p->prev) bind_value(st, 5, p->prev, p->prev_len);
    else sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, create_rev);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) goto fail;

    *cur = rev;
    w->rev = rev;
    if (w->kind == CN_WRITE_CREATE) p->old_create = rev;
    return 0;
fail:
    *fatal = rc;
    return -EIO;
}

static int apply_compact(sq *s, pending *p, int64_t *compacted, int *fatal)
{
    conn *c = &s->wr;
    sqlite3_stmt *st;
    if (p->compact_to <= *compacted) return 0;
    int rc = stmt(c, ST_LOG_COMPACT, &st);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, p->compact_to);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) rc = meta_set(c, "compacted", p->compact_to);
    }
    if (rc != SQLITE_OK) {
        *fatal = rc;
        return -EIO;
    }
    *compacted = p->compact_to;
    return 0;
}

static void fail_batch(pending *batch, int rc, const char *what, const char *msg)
{
    for (pending *p = batch; p; p = p->next) {
        cn_err_internal(p->err, "store: %s: %s", what, msg);
        p->result = rc_errno(rc);
        free(p->prev);
        p->prev = NULL;
    }
}

/* Roll back after an SQLite error, keeping the error's message. */
static void abort_batch(sq *s, pending *batch, int rc, const char *what)
{
    char *msg = cn_strdup(sqlite3_errmsg(s->wr.db));
    if (!sqlite3_get_autocommit(s->wr.db)) exec_stmt(&s->wr, ST_ROLLBACK);
    fail_batch(batch, rc, what, msg);
    free(msg);
}

static void run_batch(sq *s, pending *batch)
{
    conn *c = &s->wr;
    int64_t cur = 0, compacted = 0;
    int fatal = SQLITE_OK;
    size_t nev = 0;
    /* Read the counters inside the write lock: the DB, not memory, is the
     * authority, so a second process on the same file cannot fork them. */
    int rc = exec_stmt(c, ST_BEGIN_IMM);
    if (rc == SQLITE_OK) rc = meta_get(c, "rev", &cur);
    if (rc == SQLITE_OK) rc = meta_get(c, "compacted", &compacted);
    if (rc != SQLITE_OK) {
        abort_batch(s, batch, rc, "begin");
        return;
    }
    int64_t start = cur, start_compacted = compacted;
    for (pending *p = batch; p && fatal == SQLITE_OK; p = p->next) {
        p->result = p->w ? apply_write(s, p, &cur, &fatal) : apply_compact(s, p, &compacted, &fatal);
        if (p->w && p->result >= 0) nev++;
    }
    if (fatal == SQLITE_OK && cur != start) fatal = meta_set(c, "rev", cur);
    if (fatal == SQLITE_OK && (cur != start || compacted != start_compacted))
        fatal = exec_stmt(c, ST_COMMIT);
    else if (fatal == SQLITE_OK)
        fatal = exec_stmt(c, ST_ROLLBACK);   /* nothing changed: no fsync */
    if (fatal != SQLITE_OK) {
        abort_batch(s, batch, fatal, "commit");
        return;
    }
    __atomic_store_n(&s->rev, cur, __ATOMIC_RELEASE);
    __atomic_store_n(&s->compacted, compacted, __ATOMIC_RELEASE);
    if (!nev) return;

    if (nev > s->evs_cap) {
        s->evs_cap = nev > 64 ? nev : 64;
        free(s->evs);
        s->evs = cn_malloc(s->evs_cap * sizeof *s->evs);
    }
    size_t i = 0;
    for (pending *p = batch; p; p = p->next) {
        if (!p->w || p->result < 0) continue;
        cn_store_write *w = p->w;
        cn_event *ev = &s->evs[i++];
        ev->rev = w->rev;
        ev->create_rev = p->old_create;
        ev->key = w->key;
        ev->prev_value = p->prev;
        ev->prev_len = p->prev_len;
        if (w->kind == CN_WRITE_DELETE) {
            ev->type = CN_EV_DELETE;
            ev->value = p->prev;
            ev->value_len = p->prev_len;
        } else {
            ev->type = CN_EV_PUT;
            ev->value = w->value;
            ev->value_len = w->len;
        }
    }
    cn_store_emit(&s->base, s->evs, nev);
}

static void *committer_main(void *arg)
{
    sq *s = arg;
    pthread_mutex_lock(&s->q_lock);
    for (;;) {
        while (!s->q_head && !s->q_stop) {
            s->q_idle = true;
            pthread_cond_wait(&s->q_work, &s->q_lock);
            s->q_idle = false;
        }
        if (!s->q_head) break;
        pending *batch = s->q_head;
        s->q_head = s->q_tail = NULL;
        pthread_mutex_unlock(&s->q_lock);
        run_batch(s, batch);
        /* Once posted, the waiter may return and its pending vanish. */
        for (pending *p = batch, *next; p; p = next) {
            next = p->next;
            sem_post(&p->done);
        }
        pthread_mutex_lock(&s->q_lock);
    }
    pthread_mutex_unlock(&s->q_lock);
    return NULL;
}

/* Queue p and wait until the committer has finished with it. */
static int submit(sq *s, pending *p)
{
    sem_init(&p->done, 0, 0);
    pthread_mutex_lock(&s->q_lock);
    if (s->q_stop) {
        pthread_mutex_unlock(&s->q_lock);
        sem_destroy(&p->done);
        cn_err_set(p->err, 503, "ServiceUnavailable", "store: shutting down");
        return -ESHUTDOWN;
    }
    if (s->q_tail) s->q_tail->next = p;
    else s->q_head = p;
    s->q_tail = p;
    if (s->q_idle) pthread_cond_signal(&s->q_work);
    pthread_mutex_unlock(&s->q_lock);
    while (sem_wait(&p->done) < 0)
        ;   /* EINTR */
    sem_destroy(&p->done);
    return p->result;
}

static int sq_write(cn_store *base, cn_store_write *w, cn_err *err)
{
    sq *s = SQ(base);
    pending p = { .w = w, .err = err };
    int r = submit(s, &p);
    if (r >= 0 && w->kind == CN_WRITE_DELETE && w->prev) {
        w->prev->key = cn_strdup(w->key);
        w->prev->value = CN_TAKE_PTR(p.prev);
        w->prev->value_len = p.prev_len;
        w->prev->create_rev = p.old_create;
        w->prev->mod_rev = p.old_mod;
    }
    free(p.prev);
    return r;
}

static int sq_compact(cn_store *base, int64_t rev, cn_err *err)
{
    sq *s = SQ(base);
    int64_t cur = sq_current_rev(base);
    /* The current revision's change stays, so a watch from cur-1 resumes. */
    if (rev >= cur) rev = cur - 1;
    for (;;) {
        int64_t done = sq_compacted_rev(base);
        if (rev <= done) return 0;
        int64_t to = rev - done > COMPACT_CHUNK ? done + COMPACT_CHUNK : rev;
        pending p = { .compact_to = to, .err = err };
        int r = submit(s, &p);
        if (r < 0) return r;
    }
}

/* ---- automatic compaction ---- */

static void *compactor_main(void *arg)
{
    sq *s = arg;
    pthread_mutex_lock(&s->cp_lock);
    while (!s->cp_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += s->interval_s;
        while (!s->cp_stop && pthread_cond_timedwait(&s->cp_cond, &s->cp_lock, &ts) != ETIMEDOUT)
            ;
        if (s->cp_stop) break;
        pthread_mutex_unlock(&s->cp_lock);
        int64_t target = sq_current_rev(&s->base) - s->keep;
        if (target > sq_compacted_rev(&s->base)) {
            cn_err e = CN_ERR_INIT;
            /* Failure is retried next interval; the store reports I/O errors
             * on the write path, where someone can act on them. */
            sq_compact(&s->base, target, &e);
            cn_err_clear(&e);
        }
        pthread_mutex_lock(&s->cp_lock);
    }
    pthread_mutex_unlock(&s->cp_lock);
    return NULL;
}

/* ---- open / close ---- */

static void sq_close(cn_store *base)
{
    sq *s = SQ(base);
    if (s->compactor_started) {
        pthread_mutex_lock(&s->cp_lock);
        s->cp_stop = true;
        pthread_cond_signal(&s->cp_cond);
        pthread_mutex_unlock(&s->cp_lock);
        pthread_join(s->compactor, NULL);
    }
    if (s->committer_started) {
        pthread_mutex_lock(&s->q_lock);
        s->q_stop = true;
        pthread_cond_signal(&s->q_work);
        pthread_mutex_unlock(&s->q_lock);
        pthread_join(s->committer, NULL);
    }
    for (int i = 0; i < MAX_READERS; i++) {
        if (!s->pool_all[i]) continue;
        conn_close(s->pool_all[i]);
        free(s->pool_all[i]);
    }
    if (s->wr.db) conn_close(&s->wr);   /* last close checkpoints the WAL */
    pthread_mutex_destroy(&s->q_lock);
    pthread_cond_destroy(&s->q_work);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->pool_cond);
    pthread_mutex_destroy(&s->cp_lock);
    pthread_cond_destroy(&s->cp_cond);
    cn_store_base_release(&s->base);
    free(s->evs);
    free(s->path);
    free(s);
}

static const cn_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .current_rev = sq_current_rev,
    .compacted_rev = sq_compacted_rev,
    .get = sq_get,
    .list = sq_list,
    .count = sq_count,
    .write = sq_write,
    .history = sq_history,
    .compact = sq_compact,
};

int cn_store_open_sqlite(const char *path, const cn_store_options *opts,
                         cn_store **out, cn_err *err)
{
    if (!path || !*path || !strcmp(path, ":memory:"))
        return cn_err_internal(err, "store: a database file path is required"), -EINVAL;
    sq *s = cn_calloc(1, sizeof *s);
    cn_store_base_init(&s->base, &sqlite_ops);
    s->path = cn_strdup(path);
    s->keep = opts && opts->keep_revisions > 0 ? opts->keep_revisions : DEFAULT_KEEP_REVISIONS;
    s->interval_s = opts && opts->compact_interval_s > 0 ? opts->compact_interval_s
                                                         : DEFAULT_COMPACT_INTERVAL_S;
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_work, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    pthread_mutex_init(&s->cp_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cp_cond, &ca);
    pthread_condattr_destroy(&ca);

    int r = conn_open(&s->wr, path, false, opts && opts->no_fsync, err);
    if (r < 0) goto fail;
    int rc = sqlite3_exec(s->wr.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->wr.db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = meta_get(&s->wr, "rev", &s->rev);
    if (rc == SQLITE_OK) rc = meta_get(&s->wr, "compacted", &s->compacted);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->wr.db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = db_fail(&s->wr, rc, err, "initialise schema");
        cn_err_wrap(err, "\"%s\"", path);
        goto fail;
    }
    if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
        r = cn_err_internal(err, "store: cannot start the commit thread");
        goto fail;
    }
    s->committer_started = true;
    if (pthread_create(&s->compactor, NULL, compactor_main, s) != 0) {
        r = cn_err_internal(err, "store: cannot start the compaction thread");
        goto fail;
    }
    s->compactor_started = true;
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return r;
}
