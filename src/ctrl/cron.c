/* cron: parsing and evaluation of CronJob schedules (see cron.h). A
 * schedule is five bit sets, one per field; the next activation is found by
 * walking the calendar field by field (month, then day, hour, minute), each
 * step resetting the finer fields, as upstream's cron library does, rather
 * than trying every minute. Dates are converted with proleptic Gregorian
 * day counts so no libc time zone state is involved. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctrl/cron.h"
#include "lib/util.h"

#define STAR_BIT (1ULL << 63)

struct cn_cron {
    uint64_t minute, hour, dom, month, dow;   /* bit n: value n allowed; STAR_BIT: "*"/"?" */
    int64_t every_s;                          /* "@every": > 0, the other fields unused */
};

typedef struct bounds {
    int min, max;
    const char *const *names;   /* names[i] is value min+i... or NULL */
    int names_base;
} bounds;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
                                           "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const bounds b_minute = { 0, 59, NULL, 0 };
static const bounds b_hour = { 0, 23, NULL, 0 };
static const bounds b_dom = { 1, 31, NULL, 0 };
static const bounds b_month = { 1, 12, month_names, 1 };
static const bounds b_dow = { 0, 6, dow_names, 0 };

static uint64_t bits(int lo, int hi, int step)
{
    uint64_t b = 0;
    for (int i = lo; i <= hi; i += step) b |= 1ULL << i;
    return b;
}

/* A number or (for month/dow) a name; the whole of s[0..n). */
static int parse_value(const char *s, size_t n, const bounds *b, int *out, cn_err *err)
{
    if (n == 0) return cn_err_bad_request(err, "failed to parse int from %.*s", (int)n, s);
    if (b->names) {
        for (int i = 0; b->names[i]; i++) {
            if (n == strlen(b->names[i]) && strncasecmp(s, b->names[i], n) == 0) {
                *out = i + b->names_base;
                return 0;
            }
        }
    }
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 100000)
            return cn_err_bad_request(err, "failed to parse int from %.*s", (int)n, s);
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* One comma-separated element: "*", "?", "N", "N-M", each optionally "/step". */
static int parse_range(const char *s, size_t n, const bounds *b, uint64_t *acc, cn_err *err)
{
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    int lo, hi, step = 1;
    uint64_t extra = 0;
    bool single = false;
    if (rn == 1 && (s[0] == '*' || s[0] == '?')) {
        lo = b->min;
        hi = b->max;
        extra = STAR_BIT;
    } else {
        const char *dash = memchr(s, '-', rn);
        if (dash) {
            if (parse_value(s, (size_t)(dash - s), b, &lo, err) < 0) return -EINVAL;
            if (parse_value(dash + 1, rn - (size_t)(dash - s) - 1, b, &hi, err) < 0) return -EINVAL;
        } else {
            if (parse_value(s, rn, b, &lo, err) < 0) return -EINVAL;
            hi = lo;
            single = true;
        }
    }
    if (slash) {
        const char *st = slash + 1;
        size_t sn = n - rn - 1;
        if (memchr(st, '/', sn)) return cn_err_bad_request(err, "too many slashes: %.*s", (int)n, s);
        bounds nb = { 0, 0, NULL, 0 };
        if (parse_value(st, sn, &nb, &step, err) < 0) return -EINVAL;
        if (single) hi = b->max;   /* "N/step" means "N-max/step" */
        if (step > 1) extra = 0;
    }
    if (lo < b->min) return cn_err_bad_request(err, "beginning of range (%d) below minimum (%d): %.*s",
                                               lo, b->min, (int)n, s);
    if (hi > b->max) return cn_err_bad_request(err, "end of range (%d) above maximum (%d): %.*s",
                                               hi, b->max, (int)n, s);
    if (lo > hi) return cn_err_bad_request(err, "beginning of range (%d) beyond end of range (%d): %.*s",
                                           lo, hi, (int)n, s);
    if (step == 0) return cn_err_bad_request(err, "step of range should be a positive number: %.*s",
                                             (int)n, s);
    *acc |= bits(lo, hi, step) | extra;
    return 0;
}

static int parse_field(const char *s, size_t n, const bounds *b, uint64_t *out, cn_err *err)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ',') j++;
        if (parse_range(s + i, j - i, b, &acc, err) < 0) return -EINVAL;
        if (j == n) break;
        i = j + 1;
    }
    *out = acc;
    return 0;
}

/* A Go time.Duration string ("90s", "1h30m", "1.5h", "500ms") in ms. */
static int parse_duration_ms(const char *s, int64_t *out)
{
    static const struct { const char *unit; double ms; } units[] = {
        { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
        { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
    };
    double total = 0;
    if (!*s) return -EINVAL;
    while (*s) {
        double v = 0, scale = 1;
        bool digits = false, frac = false;
        for (; (*s >= '0' && *s <= '9') || (*s == '.' && !frac); s++) {
            if (*s == '.') { frac = true; continue; }
            digits = true;
            if (frac) { scale /= 10; v += (*s - '0') * scale; }
            else v = v * 10 + (*s - '0');
            if (v > 1e12) return -EINVAL;
        }
        if (!digits) return -EINVAL;
        size_t best = 0;
        double mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].unit);
            /* longest match wins: "ms" over "m" */
            if (strncmp(s, units[i].unit, l) == 0 && l > best) { best = l; mul = units[i].ms; }
        }
        if (!best) return -EINVAL;
        s += best;
        total += v * mul;
        if (total > 1e15) return -EINVAL;
    }
    *out = (int64_t)total;
    return 0;
}

int cn_cron_parse(const char *spec, cn_cron **out, cn_err *err)
{
    static const struct { const char *name; const char *fields; } descr[] = {
        { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" },
    };
    if (!spec) return cn_err_bad_request(err, "empty spec string");
    while (*spec == ' ' || *spec == '\t') spec++;
    size_t len = strlen(spec);
    while (len && (spec[len - 1] == ' ' || spec[len - 1] == '\t' || spec[len - 1] == '\n')) len--;
    if (len == 0) return cn_err_bad_request(err, "empty spec string");
    if (len > 1024) return cn_err_bad_request(err, "spec string too long");
    _cleanup_free_ char *s = cn_strndup(spec, len);
    cn_cron *c = cn_calloc(1, sizeof *c);
    if (s[0] == '@') {
        if (strncmp(s, "@every ", 7) == 0) {
            int64_t ms;
            if (parse_duration_ms(s + 7, &ms) < 0) {
                free(c);
                return cn_err_bad_request(err, "failed to parse duration %s", s);
            }
            c->every_s = ms < 1000 ? 1 : ms / 1000;
            *out = c;
            return 0;
        }
        for (size_t i = 0; i < sizeof descr / sizeof descr[0]; i++) {
            if (strcmp(s, descr[i].name) == 0) {
                free(c);
                return cn_cron_parse(descr[i].fields, out, err);
            }
        }
        free(c);
        return cn_err_bad_request(err, "unrecognized descriptor: %s", s);
    }
    const bounds *const fb[5] = { &b_minute, &b_hour, &b_dom, &b_month, &b_dow };
    uint64_t *const fv[5] = { &c->minute, &c->hour, &c->dom, &c->month, &c->dow };
    const char *p = s;
    int nf = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n') e++;
        if (nf == 5) { nf++; break; }
        if (parse_field(p, (size_t)(e - p), fb[nf], fv[nf], err) < 0) {
            free(c);
            return -EINVAL;
        }
        nf++;
        p = e;
    }
    if (nf != 5) {
        free(c);
        return cn_err_bad_request(err, "expected exactly 5 fields, found %d: %s", nf > 5 ? 6 : nf, s);
    }
    *out = c;
    return 0;
}

void cn_cron_free(cn_cron *c)
{
    free(c);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static bool day_matches(const cn_cron *c, int64_t days, int d)
{
    int dow = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
    bool dom_ok = (c->dom >> d) & 1, dow_ok = (c->dow >> dow) & 1;
    if ((c->dom & STAR_BIT) || (c->dow & STAR_BIT)) return dom_ok && dow_ok;
    return dom_ok || dow_ok;
}

int64_t cn_cron_next(const cn_cron *c, int64_t t, int64_t offset_s)
{
    if (c->every_s > 0) return t + c->every_s;
    /* Work in local wall-clock minutes. */
    int64_t lt = t + offset_s;
    int64_t mins = (lt >= 0 ? lt / 60 : (lt - 59) / 60) + 1;
    int64_t days = mins >= 0 ? mins / 1440 : (mins - 1439) / 1440;
    int hh = (int)((mins - days * 1440) / 60), mm = (int)((mins - days * 1440) % 60);
    int64_t y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    int64_t ylimit = y + 5;
wrap:
    if (y > ylimit) return -1;
    while (!((c->month >> mo) & 1)) {
        hh = mm = 0;
        d = 1;
        if (++mo > 12) { mo = 1; y++; goto wrap; }
    }
    while (!day_matches(c, days_from_civil(y, mo, d), d)) {
        hh = mm = 0;
        if (++d > days_in_month(y, mo)) {
            d = 1;
            if (++mo > 12) { mo = 1; y++; }
            goto wrap;
        }
    }
    while (!((c->hour >> hh) & 1)) {
        mm = 0;
        if (++hh == 24) {
            hh = 0;
            if (++d > days_in_month(y, mo)) {
                d = 1;
                if (++mo > 12) { mo = 1; y++; }
            }
            goto wrap;
        }
    }
    while (!((c->minute >> mm) & 1)) {
        if (++mm == 60) {
            mm = 0;
            if (++hh == 24) {
                hh = 0;
                if (++d > days_in_month(y, mo)) {
                    d = 1;
                    if (++mo > 12) { mo = 1; y++; }
                }
            }
            goto wrap;
        }
    }
    return (days_from_civil(y, mo, d) * 1440 + hh * 60 + mm) * 60 - offset_s;
}

int cn_cron_zone_offset(const char *tz, int64_t *offset_s)
{
    if (!tz || !*tz || !strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC") || !strcmp(tz, "GMT") ||
        !strcmp(tz, "Etc/GMT") || !strcmp(tz, "Etc/Universal") || !strcmp(tz, "Etc/Zulu") ||
        !strcmp(tz, "Universal") || !strcmp(tz, "Zulu") || !strcmp(tz, "Etc/GMT0") ||
        !strcmp(tz, "Etc/GMT+0") || !strcmp(tz, "Etc/GMT-0")) {
        *offset_s = 0;
        return 0;
    }
    if (strncmp(tz, "Etc/GMT", 7) == 0 && (tz[7] == '+' || tz[7] == '-')) {
        int64_t h;
        if (cn_parse_int64(tz + 8, &h) < 0 || h < 0 || h > 14 || tz[8] == '+' || tz[8] == '-')
            return -ENOENT;
        if (tz[7] == '+' && h > 12) return -ENOENT;
        /* POSIX-style sign: Etc/GMT+5 is five hours west of Greenwich */
        *offset_s = (tz[7] == '+' ? -h : h) * 3600;
        return 0;
    }
    return -ENOENT;
}
