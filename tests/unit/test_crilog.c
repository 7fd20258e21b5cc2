/* crilog: CRI log line parsing and the reader's tail, since, timestamps,
 * limit, partial lines, follow with appends, rotation and the end when the
 * container stops. */
#include "agent/crilog.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "test.h"

static char dir[64];
static char path[128];

static void write_file(const char *p, const char *s, const char *mode)
{
    FILE *f = fopen(p, mode);
    fputs(s, f);
    fclose(f);
}

static const char LOG[] =
    "2024-01-01T00:00:01.000000001Z stdout F one\n"
    "2024-01-01T00:00:02Z stderr F two\n"
    "not a cri line\n"
    "2024-01-01T00:00:03.5Z stdout P thr\n"
    "2024-01-01T00:00:03.6Z stdout F ee\n"
    "2024-01-01T02:00:04+02:00 stdout F four\n";

/* Everything the reader gives (not following). */
static char *read_all(const cn_crilog_opts *o)
{
    cn_crilog_reader *r = NULL;
    if (cn_crilog_open(path, o, &r, NULL) < 0) return NULL;
    cn_buf b;
    cn_buf_init(&b);
    char buf[7];   /* small: exercises partial hand-outs */
    ssize_t n;
    while ((n = cn_crilog_read(r, buf, sizeof buf, 100)) != -1)
        if (n > 0) cn_buf_add(&b, buf, (size_t)n);
    cn_crilog_close(r);
    cn_buf_addc(&b, '\0');
    return cn_buf_detach(&b, NULL);
}

static void test_parse(void)
{
    cn_crilog_entry e;
    const char *l = "2016-10-06T00:17:09.669794202Z stdout F log content";
    CHECK_INT(cn_crilog_parse(l, strlen(l), &e), 0);
    CHECK(!e.is_stderr && !e.partial);
    CHECK_INT(e.len, 11);
    CHECK(!memcmp(e.msg, "log content", 11));
    CHECK_INT(e.ts_len, 30);
    CHECK_INT(e.ts_ns, 1475713029669794202LL);
    l = "2016-10-06T00:17:09Z stderr P ";
    CHECK_INT(cn_crilog_parse(l, strlen(l), &e), 0);
    CHECK(e.is_stderr && e.partial && e.len == 0);
    l = "2016-10-06T00:17:09Z stdout F";
    CHECK_INT(cn_crilog_parse(l, strlen(l), &e), 0);
    CHECK_INT(e.len, 0);
    static const char *const bad[] = { "", "x stdout F y", "2016-10-06T00:17:09Z stdin F y",
                                       "2016-10-06T00:17:09Z stdout X y",
                                       "2016-13-06T00:17:09Z stdout F y",
                                       "2016-10-06T00:17:09 stdout F y", "2016-10-06T00:17:09Z" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_INT(cn_crilog_parse(bad[i], strlen(bad[i]), &e), -22);
    int64_t a, b;
    CHECK_INT(cn_crilog_parse_time("2024-01-01T02:00:00+02:00", 25, &a), 0);
    CHECK_INT(cn_crilog_parse_time("2024-01-01T00:00:00Z", 20, &b), 0);
    CHECK(a == b);
}

static void test_read(void)
{
    write_file(path, LOG, "w");
    cn_crilog_opts o = { .tail_lines = -1 };
    char *s = read_all(&o);
    CHECK_STR(s, "one\ntwo\nthree\nfour\n");
    free(s);
    o.tail_lines = 2;
    s = read_all(&o);
    CHECK_STR(s, "three\nfour\n");
    free(s);
    o.tail_lines = 0;
    s = read_all(&o);
    CHECK_STR(s, "");
    free(s);
    o.tail_lines = 1;
    o.timestamps = true;
    s = read_all(&o);
    CHECK_STR(s, "2024-01-01T02:00:04+02:00 four\n");
    free(s);
    o = (cn_crilog_opts){ .tail_lines = -1 };
    CHECK_INT(cn_crilog_parse_time("2024-01-01T00:00:02Z", 20, &o.since_ns), 0);
    s = read_all(&o);
    CHECK_STR(s, "two\nthree\nfour\n");
    free(s);
    o = (cn_crilog_opts){ .tail_lines = -1, .limit_bytes = 6 };
    s = read_all(&o);
    CHECK_STR(s, "one\ntw");
    free(s);
    cn_crilog_reader *r = NULL;
    o = (cn_crilog_opts){ .tail_lines = -1 };
    CHECK_INT(cn_crilog_open("/nonexistent/log", &o, &r, NULL), -2);
}

/* Without follow a read is a snapshot of the file at open: a line the
 * container writes meanwhile is neither counted for --tail nor shown
 * (the e2e ticker once showed two lines for --tail=1 this way). */
static void test_snapshot(void)
{
    write_file(path, "2024-01-01T00:00:01Z stdout F a\n2024-01-01T00:00:02Z stdout F b\n", "w");
    cn_crilog_opts o = { .tail_lines = 1 };
    cn_crilog_reader *r = NULL;
    CHECK_INT(cn_crilog_open(path, &o, &r, NULL), 0);
    write_file(path, "2024-01-01T00:00:03Z stdout F c\n", "a");
    char buf[64];
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 100), 2);
    CHECK(!memcmp(buf, "b\n", 2));
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 100), -1);
    cn_crilog_close(r);
    o.tail_lines = -1;
    CHECK_INT(cn_crilog_open(path, &o, &r, NULL), 0);
    write_file(path, "2024-01-01T00:00:04Z stdout F d\n", "a");
    char *all = NULL;
    size_t got = 0;
    ssize_t n;
    while ((n = cn_crilog_read(r, buf, sizeof buf, 100)) != -1) {
        all = cn_realloc(all, got + (size_t)n + 1);
        memcpy(all + got, buf, (size_t)n);
        got += (size_t)n;
    }
    CHECK_INT((int)got, 6);
    CHECK(all && !memcmp(all, "a\nb\nc\n", 6));
    free(all);
    cn_crilog_close(r);
}

static atomic_bool running;
static bool is_running(void *ud)
{
    (void)ud;
    return atomic_load(&running);
}

static void test_follow(void)
{
    write_file(path, "2024-01-01T00:00:01Z stdout F a\n", "w");
    atomic_store(&running, true);
    cn_crilog_opts o = { .tail_lines = -1, .follow = true, .running = is_running };
    cn_crilog_reader *r = NULL;
    CHECK_INT(cn_crilog_open(path, &o, &r, NULL), 0);
    char buf[64];
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 100), 2);
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 100), 0);   /* waits */
    write_file(path, "2024-01-01T00:00:02Z stdout F b\n", "a");
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 5000), 2);
    CHECK(buf[0] == 'b');
    /* Rotation: the old file gets a last line, is renamed, a new one starts. */
    write_file(path, "2024-01-01T00:00:03Z stdout F c\n", "a");
    char old[160];
    snprintf(old, sizeof old, "%s.1", path);
    CHECK_INT(rename(path, old), 0);
    write_file(path, "2024-01-01T00:00:04Z stdout F d\n", "w");
    cn_buf got;
    cn_buf_init(&got);
    int64_t end = cn_now_ms() + 5000;
    while (got.len < 4 && cn_now_ms() < end) {
        ssize_t n = cn_crilog_read(r, buf, sizeof buf, 200);
        if (n > 0) cn_buf_add(&got, buf, (size_t)n);
    }
    cn_buf_addc(&got, '\0');
    CHECK_STR(got.data, "c\nd\n");
    cn_buf_release(&got);
    atomic_store(&running, false);
    write_file(path, "2024-01-01T00:00:05Z stdout F e\n", "a");
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 1000), 2);
    CHECK_INT(cn_crilog_read(r, buf, sizeof buf, 1000), -1);   /* stopped: the end */
    cn_crilog_close(r);
    unlink(old);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_crilog.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/0.log", dir);
    TEST_RUN(test_parse);
    TEST_RUN(test_read);
    TEST_RUN(test_snapshot);
    TEST_RUN(test_follow);
    unlink(path);
    rmdir(dir);
    return TEST_DONE();
}
