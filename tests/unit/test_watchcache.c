/* Unit tests for the watch cache over a real SQLite store: ordering, prefix
 * filtering, resume through store history, 410 after compaction, dropping a
 * slow watcher, many watchers, timeouts and shutdown wake-up. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/watchcache.h"
#include "lib/util.h"
#include "store/store-internal.h"   /* cn_store_emit: inject a feed reset */
#include "store/store.h"
#include "test.h"

static char dir[256];
static int seq;

static cn_store *open_store(void)
{
    char *p = cn_asprintf("%s/w%d.db", dir, seq++);
    cn_store *s = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_store_open_sqlite(p, &(cn_store_options){ .no_fsync = true }, &s, &e);
    CHECK_INT(r, 0);
    cn_err_clear(&e);
    free(p);
    return s;
}

static void put(cn_store *s, const char *k, const char *v)
{
    CHECK_INT(cn_store_create(s, k, v, strlen(v), NULL, NULL), 0);
}

static void test_order_and_prefix(void)
{
    cn_store *s = open_store();
    put(s, "/registry/pods/ns/old", "0");
    cn_watchcache *wc = cn_watchcache_new(s, 0, 0);
    CHECK_INT(cn_watchcache_rev(wc), 1);
    cn_watcher *w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/registry/pods/", cn_store_current_rev(s), &w, NULL), 0);
    put(s, "/registry/pods/ns/a", "1");
    put(s, "/registry/services/ns/a", "x");
    put(s, "/registry/podsx/ns/a", "x");
    CHECK_INT(cn_store_update(s, "/registry/pods/ns/a", "2", 1, 0, NULL, NULL), 0);
    CHECK_INT(cn_store_delete(s, "/registry/pods/ns/old", 0, NULL, NULL, NULL), 0);
    CHECK_INT(cn_watchcache_rev(wc), 6);

    cn_wevent *ev = NULL;
    CHECK_INT(cn_watcher_next(w, 100, &ev), 1);
    if (ev) {
        CHECK_INT(ev->type, CN_EV_PUT);
        CHECK_INT(ev->rev, 2);
        CHECK_STR(ev->key, "/registry/pods/ns/a");
        CHECK_STR(ev->value, "1");
        CHECK(ev->prev == NULL);
        cn_wevent_unref(ev);
        ev = NULL;
    }
    CHECK_INT(cn_watcher_next(w, 100, &ev), 1);
    if (ev) {
        CHECK_INT(ev->rev, 5);
        CHECK_STR(ev->value, "2");
        CHECK_STR(ev->prev, "1");
        CHECK_INT(ev->create_rev, 2);
        cn_wevent_unref(ev);
        ev = NULL;
    }
    CHECK_INT(cn_watcher_next(w, 100, &ev), 1);
    if (ev) {
        CHECK_INT(ev->type, CN_EV_DELETE);
        CHECK_INT(ev->rev, 6);
        CHECK_STR(ev->value, "0");
        CHECK_INT(ev->create_rev, 1);
        cn_wevent_unref(ev);
        ev = NULL;
    }
    CHECK_INT(cn_watcher_next(w, 0, &ev), 0);
    /* Timeout: returns 0 after roughly the time asked. */
    int64_t t0 = cn_now_ms();
    CHECK_INT(cn_watcher_next(w, 80, &ev), 0);
    int64_t dt = cn_now_ms() - t0;
    CHECK(dt >= 70 && dt < 2000);
    cn_watcher_free(w);

    /* A watcher starting mid-ring sees only later changes. */
    CHECK_INT(cn_watchcache_watch(wc, "/registry/", 4, &w, NULL), 0);
    CHECK_INT(cn_watcher_next(w, 0, &ev), 1);
    if (ev) CHECK_INT(ev->rev, 5);
    cn_wevent_unref(ev);
    CHECK_INT(cn_watcher_next(w, 0, &ev), 1);
    if (ev) CHECK_INT(ev->rev, 6);
    cn_wevent_unref(ev);
    CHECK_INT(cn_watcher_next(w, 0, &ev), 0);
    cn_watcher_free(w);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

static void test_resume_history_and_compaction(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 4, 0);   /* ring of 4 events */
    for (int i = 1; i <= 10; i++) {
        char k[32];
        snprintf(k, sizeof k, "/k/%02d", i);
        put(s, k, i % 2 ? "odd" : "even");
    }
    /* From rev 2: revs 3..6 come from history, 7..10 from the ring. */
    cn_watcher *w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/k/", 2, &w, NULL), 0);
    for (int want = 3; want <= 10; want++) {
        cn_wevent *ev = NULL;
        CHECK_INT(cn_watcher_next(w, 100, &ev), 1);
        if (!ev) break;
        CHECK_INT(ev->rev, want);
        cn_wevent_unref(ev);
    }
    put(s, "/k/11", "live");
    cn_wevent *ev = NULL;
    CHECK_INT(cn_watcher_next(w, 100, &ev), 1);
    if (ev) CHECK_INT(ev->rev, 11);
    cn_wevent_unref(ev);
    cn_watcher_free(w);

    /* Prefix filtering applies to the replayed part too. */
    CHECK_INT(cn_watchcache_watch(wc, "/k/0", 0, &w, NULL), 0);
    int n = 0;
    while (cn_watcher_next(w, 0, &ev) == 1) {
        CHECK(strncmp(ev->key, "/k/0", 4) == 0);
        cn_wevent_unref(ev);
        n++;
    }
    CHECK_INT(n, 9);
    cn_watcher_free(w);

    /* After compaction an old revision is gone: -ERANGE (410). */
    CHECK_INT(cn_store_compact(s, 6, NULL), 0);
    cn_err e = CN_ERR_INIT;
    w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/k/", 2, &w, &e), -ERANGE);
    CHECK_INT(e.code, 410);
    CHECK(w == NULL);
    cn_err_clear(&e);
    /* Right at the compacted revision still works. */
    CHECK_INT(cn_watchcache_watch(wc, "/k/", 6, &w, NULL), 0);
    CHECK_INT(cn_watcher_next(w, 0, &ev), 1);
    if (ev) CHECK_INT(ev->rev, 7);
    cn_wevent_unref(ev);
    cn_watcher_free(w);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

static void test_slow_watcher_dropped(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 4, 0);
    cn_watcher *w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/k/", 0, &w, NULL), 0);
    for (int i = 0; i < 10; i++) {
        char k[32];
        snprintf(k, sizeof k, "/k/%d", i);
        put(s, k, "v");
    }
    cn_wevent *ev = NULL;
    CHECK_INT(cn_watcher_next(w, 10, &ev), -ERANGE);
    CHECK(ev == NULL);
    CHECK_INT(cn_watcher_next(w, 10, &ev), -ERANGE);   /* stays dropped */
    cn_watcher_free(w);

    /* A cache without a store still works (ring only). */
    cn_watchcache *wc2 = cn_watchcache_new(NULL, 100, 1024);
    CHECK_INT(cn_watchcache_rev(wc2), 0);
    cn_watchcache_free(wc2);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

static void test_byte_bound(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 1000, 4096);
    cn_watcher *w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/", 0, &w, NULL), 0);
    char big[1500];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 6; i++) {
        char k[32];
        snprintf(k, sizeof k, "/b/%d", i);
        put(s, k, big);
    }
    cn_wevent *ev = NULL;
    CHECK_INT(cn_watcher_next(w, 0, &ev), -ERANGE);
    cn_watcher_free(w);
    /* A new watcher from the current revision is fine. */
    CHECK_INT(cn_watchcache_watch(wc, "/", cn_watchcache_rev(wc), &w, NULL), 0);
    CHECK_INT(cn_watcher_next(w, 0, &ev), 0);
    cn_watcher_free(w);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

typedef struct reader {
    cn_watcher *w;
    int want, got;
    bool ordered;
    int last;
} reader;

static void *read_all(void *arg)
{
    reader *r = arg;
    r->ordered = true;
    while (r->got < r->want) {
        cn_wevent *ev = NULL;
        int n = cn_watcher_next(r->w, 5000, &ev);
        if (n <= 0) break;
        if (ev->rev <= r->last) r->ordered = false;
        r->last = (int)ev->rev;
        r->got++;
        cn_wevent_unref(ev);
    }
    return NULL;
}

static void test_many_watchers(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 0, 0);
    enum { NW = 1000, NT = 8, NEV = 200 };
    cn_watcher **ws = cn_calloc(NW, sizeof *ws);
    for (int i = 0; i < NW; i++) {
        char p[32];
        snprintf(p, sizeof p, "/k/%d/", i % 10);
        CHECK_INT(cn_watchcache_watch(wc, p, 0, &ws[i], NULL), 0);
    }
    /* Blocking readers on the whole range, woken as events arrive. */
    pthread_t th[NT];
    reader rd[NT];
    for (int i = 0; i < NT; i++) {
        rd[i] = (reader){ .want = NEV };
        CHECK_INT(cn_watchcache_watch(wc, "/k/", 0, &rd[i].w, NULL), 0);
        pthread_create(&th[i], NULL, read_all, &rd[i]);
    }
    int64_t t0 = cn_now_ms();
    for (int i = 0; i < NEV; i++) {
        char k[32];
        snprintf(k, sizeof k, "/k/%d/o%d", i % 10, i);
        put(s, k, "v");
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(rd[i].got, NEV);
        CHECK(rd[i].ordered);
        cn_watcher_free(rd[i].w);
    }
    int64_t dt = cn_now_ms() - t0;
    int total = 0;
    for (int i = 0; i < NW; i++) {
        cn_wevent *ev;
        int n = 0;
        while (cn_watcher_next(ws[i], 0, &ev) == 1) {
            char p[32];
            snprintf(p, sizeof p, "/k/%d/", i % 10);
            if (strncmp(ev->key, p, strlen(p)) != 0) CHECK(!"prefix mismatch");
            cn_wevent_unref(ev);
            n++;
        }
        if (n != NEV / 10) CHECK_INT(n, NEV / 10);
        total += n;
    }
    CHECK_INT(total, NW * NEV / 10);
    printf("     %d watchers + %d blocking readers, %d events in %lld ms\n", NW, NT, NEV,
           (long long)dt);
    for (int i = 0; i < NW; i++) cn_watcher_free(ws[i]);
    free(ws);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

static void *wait_long(void *arg)
{
    reader *r = arg;
    cn_wevent *ev = NULL;
    int64_t t0 = cn_now_ms();
    r->got = cn_watcher_next(r->w, 10000, &ev);
    r->last = (int)(cn_now_ms() - t0);
    cn_wevent_unref(ev);
    return NULL;
}

static void test_close_wakes_and_wakeup(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 0, 0);
    /* A blocked watcher wakes on a matching event, not on others. */
    reader r = { 0 };
    CHECK_INT(cn_watchcache_watch(wc, "/a/", 0, &r.w, NULL), 0);
    pthread_t th;
    pthread_create(&th, NULL, wait_long, &r);
    put(s, "/b/1", "x");
    put(s, "/a/1", "x");
    pthread_join(th, NULL);
    CHECK_INT(r.got, 1);
    CHECK(r.last < 5000);
    cn_watcher_free(r.w);

    /* Shutdown wakes a blocked watcher promptly. */
    r = (reader){ 0 };
    CHECK_INT(cn_watchcache_watch(wc, "/none/", cn_watchcache_rev(wc), &r.w, NULL), 0);
    pthread_create(&th, NULL, wait_long, &r);
    usleep(50 * 1000);
    cn_watchcache_close(wc);
    pthread_join(th, NULL);
    CHECK(r.got < 0);
    CHECK(r.last < 5000);
    cn_wevent *ev = NULL;
    CHECK(cn_watcher_next(r.w, 10, &ev) < 0);
    cn_err e = CN_ERR_INIT;
    cn_watcher *w2 = NULL;
    CHECK(cn_watchcache_watch(wc, "/", 0, &w2, &e) < 0);
    cn_err_clear(&e);
    /* The cache may go before its watchers. */
    cn_watchcache_free(wc);
    cn_watcher_free(r.w);
    cn_store_free(s);
}

static int tap_resets, tap_puts;
static void tap(void *ud, const cn_event *e)
{
    (void)ud;
    if (e->type == CN_EV_RESET) tap_resets++;
    else tap_puts++;
}

/* A backend whose change feed lost changes (etcd resumed after a
 * compaction) emits CN_EV_RESET: every watcher, blocked or not, gets
 * -ERANGE (410, relist); new watchers from the reset on work; the tap sees
 * both kinds of event. */
static void test_reset(void)
{
    cn_store *s = open_store();
    cn_watchcache *wc = cn_watchcache_new(s, 0, 0);
    cn_watchcache_set_tap(wc, tap, NULL);
    put(s, "/a/1", "x");
    CHECK_INT(tap_puts, 1);
    cn_watcher *idle = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/a/", 0, &idle, NULL), 0);   /* has an unread event */
    reader r = { 0 };
    CHECK_INT(cn_watchcache_watch(wc, "/b/", cn_watchcache_rev(wc), &r.w, NULL), 0);
    pthread_t th;
    pthread_create(&th, NULL, wait_long, &r);
    usleep(50 * 1000);
    /* Changes continue at the store's next revision, as after a resume. */
    int64_t next = cn_store_current_rev(s) + 1;
    cn_event reset = { .type = CN_EV_RESET, .rev = next, .key = "", .value = "" };
    cn_store_emit(s, &reset, 1);
    pthread_join(th, NULL);
    CHECK_INT(r.got, -ERANGE);               /* the blocked one woke with 410 */
    CHECK(r.last < 5000);
    CHECK_INT(tap_resets, 1);
    cn_wevent *ev = NULL;
    CHECK_INT(cn_watcher_next(idle, 10, &ev), -ERANGE);
    CHECK_INT(cn_watchcache_rev(wc), next - 1);
    /* A watcher from the reset point on sees later changes. */
    cn_watcher *w = NULL;
    CHECK_INT(cn_watchcache_watch(wc, "/a/", next - 1, &w, NULL), 0);
    put(s, "/a/2", "y");
    CHECK_INT(cn_watcher_next(w, 1000, &ev), 1);
    if (ev) CHECK_STR(ev->key, "/a/2");
    cn_wevent_unref(ev);
    cn_watcher_free(w);
    cn_watcher_free(idle);
    cn_watcher_free(r.w);
    cn_watchcache_free(wc);
    cn_store_free(s);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cn-wc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_order_and_prefix);
    TEST_RUN(test_resume_history_and_compaction);
    TEST_RUN(test_slow_watcher_dropped);
    TEST_RUN(test_byte_bound);
    TEST_RUN(test_many_watchers);
    TEST_RUN(test_reset);
    TEST_RUN(test_close_wakes_and_wakeup);
    char *cmd = cn_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return TEST_DONE();
}
