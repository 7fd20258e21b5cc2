#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "ctrl/cron.h"
#include "lib/util.h"
#include "test.h"

static int64_t ts(const char *s)
{
    int64_t t = -1;
    if (cn_time_parse(s, &t) < 0) return -1;
    return t;
}

/* The next activation after `from` of `spec`, as RFC 3339 ("none" if none). */
static const char *next_of(const char *spec, const char *from, int64_t off)
{
    static char buf[32];
    cn_cron *c = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_cron_parse(spec, &c, &e) < 0) {
        cn_err_clear(&e);
        return "parse error";
    }
    int64_t n = cn_cron_next(c, ts(from), off);
    cn_cron_free(c);
    if (n < 0) return "none";
    cn_time_rfc3339(n, buf);
    return buf;
}

static void test_parse_errors(void)
{
    static const char *const bad[] = {
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
        "* * * 13 *", "* * * * 7", "5-1 * * * *", "*/0 * * * *", "a * * * *", "1,,2 * * * *",
        "@bogus", "@every", "@every x", "@every 5", "1/2/3 * * * *", "- * * * *", "* * * foo *",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        cn_cron *c = NULL;
        cn_err e = CN_ERR_INIT;
        int r = cn_cron_parse(bad[i], &c, &e);
        if (r == 0) fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK(r < 0);
        CHECK(r < 0 && e.code == 400);
        cn_cron_free(c);
        cn_err_clear(&e);
    }
    static const char *const good[] = {
        "* * * * *", "*/1 * * * *", "0 0 1 1 *", "0-59/15 0,12 1-31 JAN-dec sun-SAT", "? ? ? ? ?",
        "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
        "@every 1h30m", "@every 90s", "  5 4 * * mon  ", "5/20 * * * *", NULL,
    };
    for (int i = 0; good[i]; i++) {
        cn_cron *c = NULL;
        cn_err e = CN_ERR_INIT;
        int r = cn_cron_parse(good[i], &c, &e);
        if (r < 0) fprintf(stderr, "rejected: \"%s\": %s\n", good[i], e.message);
        CHECK(r == 0);
        cn_cron_free(c);
        cn_err_clear(&e);
    }
}

static void test_next_basic(void)
{
    CHECK_STR(next_of("* * * * *", "2024-05-01T10:00:00Z", 0), "2024-05-01T10:01:00Z");
    CHECK_STR(next_of("* * * * *", "2024-05-01T10:00:59Z", 0), "2024-05-01T10:01:00Z");
    CHECK_STR(next_of("*/1 * * * *", "2024-12-31T23:59:30Z", 0), "2025-01-01T00:00:00Z");
    CHECK_STR(next_of("*/15 * * * *", "2024-05-01T10:07:00Z", 0), "2024-05-01T10:15:00Z");
    CHECK_STR(next_of("*/15 * * * *", "2024-05-01T10:45:00Z", 0), "2024-05-01T11:00:00Z");
    CHECK_STR(next_of("5/20 * * * *", "2024-05-01T10:30:00Z", 0), "2024-05-01T10:45:00Z");
    CHECK_STR(next_of("30 2 * * *", "2024-05-01T10:00:00Z", 0), "2024-05-02T02:30:00Z");
    CHECK_STR(next_of("@hourly", "2024-05-01T10:00:00Z", 0), "2024-05-01T11:00:00Z");
    CHECK_STR(next_of("@daily", "2024-05-01T10:00:00Z", 0), "2024-05-02T00:00:00Z");
    CHECK_STR(next_of("@monthly", "2024-05-01T00:00:00Z", 0), "2024-06-01T00:00:00Z");
    CHECK_STR(next_of("@yearly", "2024-05-01T00:00:00Z", 0), "2025-01-01T00:00:00Z");
    /* 2024-05-01 is a Wednesday; the next Sunday is the 5th */
    CHECK_STR(next_of("@weekly", "2024-05-01T00:00:00Z", 0), "2024-05-05T00:00:00Z");
    CHECK_STR(next_of("0 9 * * MON-FRI", "2024-05-03T09:00:00Z", 0), "2024-05-06T09:00:00Z");
    CHECK_STR(next_of("@every 90s", "2024-05-01T00:00:10Z", 0), "2024-05-01T00:01:40Z");
}

static void test_next_calendar(void)
{
    /* leap years: Feb 29 only in 2028 after 2024 */
    CHECK_STR(next_of("0 0 29 2 *", "2024-03-01T00:00:00Z", 0), "2028-02-29T00:00:00Z");
    CHECK_STR(next_of("0 0 29 2 *", "2099-03-01T00:00:00Z", 0), "2104-02-29T00:00:00Z");
    /* never: Feb 30 */
    CHECK_STR(next_of("0 0 30 2 *", "2024-01-01T00:00:00Z", 0), "none");
    /* 31st skips short months */
    CHECK_STR(next_of("0 12 31 * *", "2024-04-01T00:00:00Z", 0), "2024-05-31T12:00:00Z");
    /* both day fields restricted: either matches (the 13th, or a Friday) */
    CHECK_STR(next_of("0 0 13 * 5", "2024-05-01T00:00:00Z", 0), "2024-05-03T00:00:00Z");
    CHECK_STR(next_of("0 0 13 * 5", "2024-05-10T00:00:00Z", 0), "2024-05-13T00:00:00Z");
    /* one restricted with a star step: both must hold */
    CHECK_STR(next_of("0 0 13 * *", "2024-05-10T00:00:00Z", 0), "2024-05-13T00:00:00Z");
    CHECK_STR(next_of("0 0 */2 * 5", "2024-05-01T00:00:00Z", 0), "2024-05-03T00:00:00Z");
    CHECK_STR(next_of("0 0 * * 5", "2024-05-03T00:00:00Z", 0), "2024-05-10T00:00:00Z");
    /* year end */
    CHECK_STR(next_of("59 23 31 12 *", "2024-12-31T23:59:00Z", 0), "2025-12-31T23:59:00Z");
    /* before the epoch */
    CHECK_STR(next_of("0 0 1 1 *", "1969-06-01T00:00:00Z", 0), "1970-01-01T00:00:00Z");
}

static void test_next_offset(void)
{
    /* 09:00 at UTC+2 is 07:00 UTC */
    CHECK_STR(next_of("0 9 * * *", "2024-05-01T08:00:00Z", 7200), "2024-05-02T07:00:00Z");
    CHECK_STR(next_of("0 9 * * *", "2024-05-01T06:00:00Z", 7200), "2024-05-01T07:00:00Z");
    /* midnight at UTC-5 is 05:00 UTC */
    CHECK_STR(next_of("@daily", "2024-05-01T06:00:00Z", -18000), "2024-05-02T05:00:00Z");
    int64_t off = 1;
    CHECK(cn_cron_zone_offset(NULL, &off) == 0 && off == 0);
    CHECK(cn_cron_zone_offset("Etc/UTC", &off) == 0 && off == 0);
    CHECK(cn_cron_zone_offset("Etc/GMT+5", &off) == 0 && off == -18000);
    CHECK(cn_cron_zone_offset("Etc/GMT-14", &off) == 0 && off == 14 * 3600);
    CHECK(cn_cron_zone_offset("Etc/GMT+13", &off) == -ENOENT);
    CHECK(cn_cron_zone_offset("Europe/Paris", &off) == -ENOENT);
    CHECK(cn_cron_zone_offset("Etc/GMT+x", &off) == -ENOENT);
}

/* The walk agrees with trying every minute against predicates written
 * independently of the parser. */
static bool p0(const struct tm *t) { return (t->tm_min == 7 || t->tm_min == 19) && t->tm_hour % 3 == 0; }
static bool p1(const struct tm *t) { return t->tm_min == 0 && t->tm_hour == 0 &&
                                            (t->tm_mday == 1 || t->tm_mday == 15 || t->tm_wday == 3); }
static bool p2(const struct tm *t) { return t->tm_min % 7 == 0 && t->tm_hour >= 5 && t->tm_hour <= 9 &&
                                            t->tm_mon + 1 >= 2 && t->tm_mon + 1 <= 4; }
static bool p3(const struct tm *t) { return t->tm_min == 45 && t->tm_hour == 23 && t->tm_mday >= 28; }
static bool p4(const struct tm *t) { return t->tm_min == 0 && t->tm_hour == 0 &&
                                            (t->tm_wday == 0 || t->tm_wday == 6); }

static void test_next_bruteforce(void)
{
    static const struct { const char *spec; bool (*match)(const struct tm *); } cases[] = {
        { "7,19 */3 * * *", p0 }, { "0 0 1,15 * 3", p1 }, { "*/7 5-9 * feb-4 *", p2 },
        { "45 23 28-31 * *", p3 }, { "0 0 * * SAT,0", p4 },
    };
    int64_t start = ts("2023-12-30T00:00:00Z");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cn_cron *c = NULL;
        cn_err e = CN_ERR_INIT;
        CHECK(cn_cron_parse(cases[i].spec, &c, &e) == 0);
        if (!c) continue;
        int64_t t = start;
        for (int k = 0; k < 60; k++) {
            int64_t n = cn_cron_next(c, t, 0), m = (t / 60 + 1) * 60;
            for (; m < start + 3 * 366 * 86400; m += 60) {
                time_t tt = (time_t)m;
                struct tm tm;
                gmtime_r(&tt, &tm);
                if (cases[i].match(&tm)) break;
            }
            if (n != m) fprintf(stderr, "%s after %lld: got %lld want %lld\n", cases[i].spec,
                                (long long)t, (long long)n, (long long)m);
            CHECK_INT(n, m);
            t = n;
        }
        cn_cron_free(c);
    }
}

int main(void)
{
    TEST_RUN(test_parse_errors);
    TEST_RUN(test_next_basic);
    TEST_RUN(test_next_calendar);
    TEST_RUN(test_next_offset);
    TEST_RUN(test_next_bruteforce);
    return TEST_DONE();
}
