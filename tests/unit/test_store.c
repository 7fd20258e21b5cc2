/* Unit tests for the store (SQLite backend): CRUD preconditions, list
 * ordering/paging/snapshot revision, history and compaction, restart,
 * group commit under concurrent writers, and a throwaway rate print. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"
#include "test.h"

static char dir[256];

static char *db_path(const char *name)
{
    return cn_asprintf("%s/%s.db", dir, name);
}

static cn_store *open_store(const char *name, const cn_store_options *o)
{
    char *p = db_path(name);
    cn_store *s = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_store_open_sqlite(p, o, &s, &e);
    CHECK_INT(r, 0);
    if (r < 0) fprintf(stderr, "open: %s\n", e.message);
    cn_err_clear(&e);
    free(p);
    return s;
}

static int put(cn_store *s, const char *k, const char *v, int64_t *rev)
{
    return cn_store_create(s, k, v, strlen(v), rev, NULL);
}

static void test_crud(void)
{
    cn_store *s = open_store("crud", &(cn_store_options){ .no_fsync = true });
    cn_err e = CN_ERR_INIT;
    int64_t rev = 0, rev2 = 0;
    cn_kv kv = { 0 };
    CHECK_INT(cn_store_current_rev(s), 0);
    CHECK_INT(put(s, "/registry/pods/default/a", "{\"a\":1}", &rev), 0);
    CHECK_INT(rev, 1);
    CHECK_INT(cn_store_current_rev(s), 1);
    CHECK_INT(cn_store_create(s, "/registry/pods/default/a", "x", 1, &rev2, &e), -EEXIST);
    CHECK(e.message != NULL);
    CHECK_INT(rev2, 0);                      /* untouched on failure */
    cn_err_clear(&e);

    CHECK_INT(cn_store_get(s, "/registry/pods/default/a", &kv, NULL), 0);
    CHECK_STR(kv.key, "/registry/pods/default/a");
    CHECK_STR(kv.value, "{\"a\":1}");
    CHECK_INT(kv.value_len, 7);
    CHECK_INT(kv.create_rev, 1);
    CHECK_INT(kv.mod_rev, 1);
    cn_kv_release(&kv);

    CHECK_INT(cn_store_update(s, "/registry/pods/default/a", "v2", 2, 5, &rev, &e), -ESTALE);
    cn_err_clear(&e);
    CHECK_INT(cn_store_update(s, "/registry/pods/default/nope", "v2", 2, 0, &rev, &e), -ENOENT);
    cn_err_clear(&e);
    CHECK_INT(cn_store_update(s, "/registry/pods/default/a", "v2", 2, 1, &rev, &e), 0);
    CHECK_INT(rev, 2);
    CHECK_INT(cn_store_update(s, "/registry/pods/default/a", "v3", 2, 0, &rev, &e), 0);
    CHECK_INT(rev, 3);
    CHECK_INT(cn_store_get(s, "/registry/pods/default/a", &kv, NULL), 0);
    CHECK_STR(kv.value, "v3");
    CHECK_INT(kv.create_rev, 1);
    CHECK_INT(kv.mod_rev, 3);
    cn_kv_release(&kv);

    /* Empty values stay empty, not NULL. */
    CHECK_INT(cn_store_create(s, "/registry/x/empty", "", 0, &rev, NULL), 0);
    CHECK_INT(cn_store_get(s, "/registry/x/empty", &kv, NULL), 0);
    CHECK(kv.value && kv.value[0] == '\0' && kv.value_len == 0);
    cn_kv_release(&kv);

    cn_kv prev = { 0 };
    CHECK_INT(cn_store_delete(s, "/registry/pods/default/a", 2, &prev, &rev, &e), -ESTALE);
    cn_err_clear(&e);
    CHECK(prev.key == NULL);
    CHECK_INT(cn_store_delete(s, "/registry/pods/default/a", 3, &prev, &rev, &e), 0);
    CHECK_INT(rev, 5);
    CHECK_STR(prev.key, "/registry/pods/default/a");
    CHECK_STR(prev.value, "v3");
    CHECK_INT(prev.mod_rev, 3);
    CHECK_INT(prev.create_rev, 1);
    cn_kv_release(&prev);
    CHECK_INT(cn_store_get(s, "/registry/pods/default/a", &kv, &e), -ENOENT);
    CHECK_INT(e.code, 404);
    cn_err_clear(&e);
    CHECK_INT(cn_store_delete(s, "/registry/pods/default/a", 0, NULL, NULL, &e), -ENOENT);
    cn_err_clear(&e);
    /* Failed ops consume no revision. */
    CHECK_INT(cn_store_current_rev(s), 5);
    /* Bad arguments. */
    CHECK(cn_store_create(s, "", "x", 1, NULL, &e) < 0);
    cn_err_clear(&e);
    CHECK(cn_store_get(s, NULL, &kv, &e) < 0);
    cn_err_clear(&e);
    cn_store_free(s);
}

static void test_list(void)
{
    cn_store *s = open_store("list", &(cn_store_options){ .no_fsync = true });
    const char *keys[] = { "/registry/pods/b/x", "/registry/pods/a/z", "/registry/pods/a/y",
                           "/registry/pods/ab/q", "/registry/services/a/s", "/registry/pods/a/\xff" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) CHECK_INT(put(s, keys[i], "v", NULL), 0);
    cn_kv_list l = { 0 };
    int64_t rev = 0, n = 0;
    bool more = true;
    CHECK_INT(cn_store_list(s, "/registry/pods/", NULL, 0, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 5);
    CHECK_INT(rev, 6);
    CHECK(!more);
    if (l.n == 5) {
        CHECK_STR(l.items[0].key, "/registry/pods/a/y");
        CHECK_STR(l.items[1].key, "/registry/pods/a/z");
        CHECK_STR(l.items[2].key, "/registry/pods/a/\xff");
        CHECK_STR(l.items[3].key, "/registry/pods/ab/q");
        CHECK_STR(l.items[4].key, "/registry/pods/b/x");
    }
    cn_kv_list_release(&l);

    CHECK_INT(cn_store_list(s, "/registry/pods/a/", NULL, 0, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 3);
    cn_kv_list_release(&l);
    CHECK_INT(cn_store_count(s, "/registry/pods/a/", &n, NULL), 0);
    CHECK_INT(n, 3);
    CHECK_INT(cn_store_count(s, "", &n, NULL), 0);
    CHECK_INT(n, 6);

    /* Paging: limit 2, after is exclusive. */
    CHECK_INT(cn_store_list(s, "/registry/pods/", NULL, 2, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 2);
    CHECK(more);
    char *after = l.n == 2 ? cn_strdup(l.items[1].key) : cn_strdup("");
    cn_kv_list_release(&l);
    CHECK_INT(cn_store_list(s, "/registry/pods/", after, 2, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 2);
    CHECK(more);
    if (l.n) CHECK_STR(l.items[0].key, "/registry/pods/a/\xff");
    free(after);
    after = l.n == 2 ? cn_strdup(l.items[1].key) : cn_strdup("");
    cn_kv_list_release(&l);
    CHECK_INT(cn_store_list(s, "/registry/pods/", after, 2, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 1);
    CHECK(!more);
    free(after);
    cn_kv_list_release(&l);
    /* Exactly limit items left: no more. */
    CHECK_INT(cn_store_list(s, "/registry/pods/a/", NULL, 3, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 3);
    CHECK(!more);
    cn_kv_list_release(&l);
    /* after before the prefix range behaves like no after. */
    CHECK_INT(cn_store_list(s, "/registry/services/", "/registry/a", 0, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 1);
    cn_kv_list_release(&l);
    CHECK_INT(cn_store_list(s, "/registry/none/", NULL, 0, &l, &rev, &more, NULL), 0);
    CHECK_INT(l.n, 0);
    cn_kv_list_release(&l);
    cn_store_free(s);
}

typedef struct evlog {
    pthread_mutex_t mu;
    int n;
    int64_t last_rev;
    bool ordered;
    char types[64];
    char vals[64][16];
    char prevs[64][16];
} evlog;

static void record(void *ud, const cn_event *ev)
{
    evlog *l = ud;
    pthread_mutex_lock(&l->mu);
    if (ev->rev != l->last_rev + 1 && l->last_rev) l->ordered = false;
    l->last_rev = ev->rev;
    if (l->n < 64) {
        l->types[l->n] = ev->type == CN_EV_PUT ? 'P' : 'D';
        snprintf(l->vals[l->n], 16, "%.*s", (int)ev->value_len, ev->value);
        snprintf(l->prevs[l->n], 16, "%.*s", ev->prev_value ? (int)ev->prev_len : 1,
                 ev->prev_value ? ev->prev_value : "-");
    }
    l->n++;
    pthread_mutex_unlock(&l->mu);
}

static void test_sink_history_compact(void)
{
    cn_store *s = open_store("hist", &(cn_store_options){ .no_fsync = true });
    evlog sink = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    cn_store_set_sink(s, record, &sink);
    cn_err e = CN_ERR_INIT;
    CHECK_INT(put(s, "/k/a", "1", NULL), 0);
    CHECK_INT(cn_store_update(s, "/k/a", "2", 1, 0, NULL, NULL), 0);
    CHECK_INT(put(s, "/k/b", "3", NULL), 0);
    CHECK_INT(cn_store_delete(s, "/k/a", 0, NULL, NULL, NULL), 0);
    CHECK_INT(put(s, "/k/b", "dup", NULL), -EEXIST);
    CHECK_INT(sink.n, 4);
    CHECK(sink.ordered);
    CHECK(memcmp(sink.types, "PPPD", 4) == 0);
    CHECK_STR(sink.vals[0], "1");
    CHECK_STR(sink.prevs[0], "-");
    CHECK_STR(sink.vals[1], "2");
    CHECK_STR(sink.prevs[1], "1");
    CHECK_STR(sink.vals[3], "2");       /* delete carries the last value */
    CHECK_STR(sink.prevs[3], "2");

    evlog h = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    CHECK_INT(cn_store_history(s, 0, record, &h, NULL), 0);
    CHECK_INT(h.n, 4);
    CHECK(memcmp(h.types, "PPPD", 4) == 0);
    CHECK_STR(h.vals[1], "2");
    CHECK_STR(h.prevs[1], "1");
    CHECK_STR(h.prevs[0], "-");
    CHECK_STR(h.vals[3], "2");
    CHECK_STR(h.prevs[3], "2");
    evlog h2 = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    CHECK_INT(cn_store_history(s, 2, record, &h2, NULL), 0);
    CHECK_INT(h2.n, 2);
    CHECK_INT(h2.last_rev, 4);

    CHECK_INT(cn_store_compact(s, 2, &e), 0);
    CHECK_INT(cn_store_compacted_rev(s), 2);
    CHECK_INT(cn_store_history(s, 1, record, &h2, &e), -ERANGE);
    CHECK_INT(e.code, 410);
    cn_err_clear(&e);
    evlog h3 = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    CHECK_INT(cn_store_history(s, 2, record, &h3, NULL), 0);
    CHECK_INT(h3.n, 2);
    /* Compacting at or past the current revision keeps the current change. */
    CHECK_INT(cn_store_compact(s, 100, NULL), 0);
    CHECK_INT(cn_store_compacted_rev(s), 3);
    evlog h4 = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    CHECK_INT(cn_store_history(s, 3, record, &h4, NULL), 0);
    CHECK_INT(h4.n, 1);
    /* Data survives compaction. */
    cn_kv kv = { 0 };
    CHECK_INT(cn_store_get(s, "/k/b", &kv, NULL), 0);
    cn_kv_release(&kv);
    cn_store_set_sink(s, NULL, NULL);
    cn_store_free(s);
}

static void test_restart(void)
{
    cn_store *s = open_store("restart", NULL);   /* fsync on */
    int64_t rev = 0;
    CHECK_INT(put(s, "/r/a", "A", NULL), 0);
    CHECK_INT(put(s, "/r/b", "B", NULL), 0);
    CHECK_INT(cn_store_delete(s, "/r/a", 0, NULL, NULL, NULL), 0);
    CHECK_INT(cn_store_compact(s, 1, NULL), 0);
    cn_store_free(s);

    s = open_store("restart", NULL);
    if (!s) return;
    CHECK_INT(cn_store_current_rev(s), 3);
    CHECK_INT(cn_store_compacted_rev(s), 1);
    cn_kv kv = { 0 };
    CHECK_INT(cn_store_get(s, "/r/b", &kv, NULL), 0);
    CHECK_STR(kv.value, "B");
    CHECK_INT(kv.mod_rev, 2);
    cn_kv_release(&kv);
    CHECK_INT(cn_store_get(s, "/r/a", &kv, NULL), -ENOENT);
    CHECK_INT(put(s, "/r/c", "C", &rev), 0);
    CHECK_INT(rev, 4);
    evlog h = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    CHECK_INT(cn_store_history(s, 1, record, &h, NULL), 0);
    CHECK_INT(h.n, 3);
    CHECK(h.ordered);
    cn_store_free(s);
}

static void test_auto_compaction(void)
{
    cn_store *s = open_store("auto", &(cn_store_options){ .no_fsync = true, .keep_revisions = 10,
                                                          .compact_interval_s = 1 });
    for (int i = 0; i < 50; i++) {
        char k[32];
        snprintf(k, sizeof k, "/a/%d", i);
        CHECK_INT(put(s, k, "v", NULL), 0);
    }
    /* The compactor runs every second; give it a bounded time. */
    for (int i = 0; i < 40 && cn_store_compacted_rev(s) < 40; i++) usleep(100 * 1000);
    CHECK_INT(cn_store_compacted_rev(s), 40);
    cn_store_free(s);
}

/* ---- kill -9: every acknowledged write survives ---- */

static int ack_fd;

static void *crash_writer(void *arg)
{
    cn_store *s = arg;
    for (int i = 0;; i++) {
        char k[64];
        int64_t rev = 0;
        snprintf(k, sizeof k, "/crash/%lu/%d", (unsigned long)pthread_self() % 100000, i);
        if (cn_store_create(s, k, k, strlen(k), &rev, NULL) < 0) _exit(3);
        /* Only now is the write acknowledged: tell the parent. */
        char line[96];
        int n = snprintf(line, sizeof line, "%s %lld\n", k, (long long)rev);
        if (write(ack_fd, line, (size_t)n) != n) _exit(4);
    }
    return NULL;
}

static void test_kill9_keeps_acked_writes(void)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    char *path = db_path("crash");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ack_fd = fds[1];
        cn_store *s = NULL;
        if (cn_store_open_sqlite(path, NULL, &s, NULL) < 0) _exit(2);
        pthread_t th[8];
        for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, crash_writer, s);
        pause();
        _exit(0);
    }
    close(fds[1]);
    /* Read acknowledgements for a while, then kill without warning. */
    cn_buf acks;
    cn_buf_init(&acks);
    int64_t t0 = cn_now_ms();
    char buf[4096];
    while (cn_now_ms() - t0 < 400) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        cn_buf_add(&acks, buf, (size_t)n);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) cn_buf_add(&acks, buf, (size_t)n);
    close(fds[0]);

    cn_store *s = NULL;
    CHECK_INT(cn_store_open_sqlite(path, NULL, &s, NULL), 0);
    int checked = 0, lost = 0;
    int64_t maxrev = 0;
    for (char *line = acks.data, *nl; s && line && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        char *sp = strchr(line, ' ');
        if (!sp) break;
        *sp = '\0';
        int64_t rev = 0;
        cn_parse_int64(sp + 1, &rev);
        if (rev > maxrev) maxrev = rev;
        cn_kv kv = { 0 };
        if (cn_store_get(s, line, &kv, NULL) < 0 || kv.mod_rev != rev) lost++;
        cn_kv_release(&kv);
        checked++;
    }
    CHECK(checked > 0);
    CHECK_INT(lost, 0);
    CHECK(s && cn_store_current_rev(s) >= maxrev);
    printf("     kill -9: %d acknowledged writes, all present after restart\n", checked);
    cn_store_free(s);
    cn_buf_release(&acks);
    free(path);
}

/* ---- concurrency ---- */

typedef struct worker {
    cn_store *s;
    int id, n, failures;
    double secs;
} worker;

static void *create_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        char k[64], v[300];
        snprintf(k, sizeof k, "/registry/configmaps/w%d/obj-%06d", w->id, i);
        memset(v, 'x', sizeof v - 1);
        v[sizeof v - 1] = '\0';
        if (cn_store_create(w->s, k, v, sizeof v - 1, NULL, NULL) < 0) w->failures++;
    }
    return NULL;
}

static void *get_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        char k[64];
        snprintf(k, sizeof k, "/registry/configmaps/w%d/obj-%06d", (w->id + i) % 32, i % 50);
        cn_kv kv = { 0 };
        if (cn_store_get(w->s, k, &kv, NULL) < 0) w->failures++;
        cn_kv_release(&kv);
    }
    return NULL;
}

static double run_workers(cn_store *s, int nthreads, int per, void *(*fn)(void *), int *failures)
{
    pthread_t th[64];
    worker w[64];
    int64_t t0 = cn_now_ms();
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker){ .s = s, .id = i, .n = per };
        pthread_create(&th[i], NULL, fn, &w[i]);
    }
    *failures = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        *failures += w[i].failures;
    }
    int64_t dt = cn_now_ms() - t0;
    return (double)nthreads * per * 1000.0 / (double)(dt ? dt : 1);
}

static void test_concurrent_writers(void)
{
    /* fsync on: measures real group commit. */
    cn_store *s = open_store("conc", NULL);
    evlog sink = { .mu = PTHREAD_MUTEX_INITIALIZER, .ordered = true };
    cn_store_set_sink(s, record, &sink);
    int fails = 0;
    double rate = run_workers(s, 32, 50, create_worker, &fails);
    CHECK_INT(fails, 0);
    CHECK_INT(sink.n, 32 * 50);
    CHECK(sink.ordered);
    CHECK_INT(cn_store_current_rev(s), 32 * 50);
    int64_t n = 0;
    CHECK_INT(cn_store_count(s, "/registry/configmaps/", &n, NULL), 0);
    CHECK_INT(n, 32 * 50);
    printf("     rate: %.0f creates/s (32 writers, fsync on, %s)\n", rate, dir);
    cn_store_set_sink(s, NULL, NULL);

    double grate = run_workers(s, 8, 5000, get_worker, &fails);
    CHECK_INT(fails, 0);
    printf("     rate: %.0f gets/s (8 readers)\n", grate);
    int64_t t0 = cn_now_ms();
    int lists = 0;
    while (cn_now_ms() - t0 < 300) {
        cn_kv_list l = { 0 };
        int64_t rev;
        bool more;
        CHECK_INT(cn_store_list(s, "/registry/configmaps/w1/", NULL, 0, &l, &rev, &more, NULL), 0);
        CHECK_INT(l.n, 50);
        cn_kv_list_release(&l);
        lists++;
    }
    printf("     rate: %.0f lists/s of 50 items (1 reader)\n", lists * 1000.0 / 300);
    cn_store_free(s);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cn-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_crud);
    TEST_RUN(test_list);
    TEST_RUN(test_sink_history_compact);
    TEST_RUN(test_restart);
    TEST_RUN(test_auto_compaction);
    TEST_RUN(test_kill9_keeps_acked_writes);
    TEST_RUN(test_concurrent_writers);
    char *cmd = cn_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return TEST_DONE();
}
