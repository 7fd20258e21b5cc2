/* quantity: Kubernetes resource quantities ("100m", "1.5Gi", "2e3") — the
 * one parser behind validation, quota arithmetic, the scheduler's resource
 * accounting and the simulated agent's flags. Exact: the value is kept in
 * nano-units in 128 bits, and a fraction below the smallest unit rounds up,
 * as upstream's resource.Quantity does. */
#include "lib/quantity.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/util.h"

#define Q_LIMIT ((__int128)1 << 100)   /* ~1.27e30 nano-units */

int cn_quantity_parse(const char *s, __int128 *nano)
{
    if (!s) return -EINVAL;
    size_t n = strlen(s);
    if (n == 0 || n > 64) return -EINVAL;
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    __int128 mant = 0;
    int scale = 0, digits = 0;
    bool dot = false;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.') {
            if (dot) return -EINVAL;
            dot = true;
            continue;
        }
        if (mant == 0 && *p == '0' && !dot) continue;  /* leading zeros */
        if (digits >= 30) {
            if (!dot) return -ERANGE;
            continue;   /* beyond precision: dropped, rounded up below */
        }
        mant = mant * 10 + (*p - '0');
        digits += mant != 0;
        if (dot) scale++;
    }
    bool any_digit = false;
    for (const char *q = s; q < p; q++) any_digit |= (*q >= '0' && *q <= '9');
    if (!any_digit) return -EINVAL;
    int exp10 = 0;
    __int128 mul = 1;
    static const struct { const char *sfx; int e10; int e2; } sfx[] = {
        { "", 0, 0 }, { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 }, { "k", 3, 0 },
        { "M", 6, 0 }, { "G", 9, 0 }, { "T", 12, 0 }, { "P", 15, 0 }, { "E", 18, 0 },
        { "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 }, { "Pi", 0, 50 },
        { "Ei", 0, 60 },
    };
    bool found = false;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        if (!strcmp(p, sfx[i].sfx)) {
            exp10 = sfx[i].e10;
            mul = (__int128)1 << sfx[i].e2;
            found = true;
            break;
        }
    }
    if (!found) {
        if (*p != 'e' && *p != 'E') return -EINVAL;
        int64_t e;
        const char *es = p + 1 + (p[1] == '+');
        if (*es == '+' || cn_parse_int64(es, &e) < 0 || e < -40 || e > 40) return -EINVAL;
        exp10 = (int)e;
    }
    __int128 val = mant * mul;
    if (mant && val / mul != mant) return -ERANGE;
    int e = exp10 - scale + 9;
    for (; e > 0; e--) {
        if (val > Q_LIMIT) return -ERANGE;
        val *= 10;
    }
    bool frac = false;
    for (; e < 0; e++) {
        frac |= val % 10 != 0;
        val /= 10;
    }
    if (frac) val += 1;   /* upstream rounds up to the smallest unit */
    if (val > Q_LIMIT) return -ERANGE;
    *nano = neg ? -val : val;
    return 0;
}

int cn_quantity_milli(const char *s, int64_t *milli)
{
    __int128 nano;
    int r = cn_quantity_parse(s, &nano);
    if (r < 0) return r;
    __int128 m = nano >= 0 ? (nano + 999999) / 1000000 : -((-nano) / 1000000);
    if (m > INT64_MAX || m < INT64_MIN) return -ERANGE;
    *milli = (int64_t)m;
    return 0;
}

int cn_quantity_value(const char *s, int64_t *value)
{
    __int128 nano;
    int r = cn_quantity_parse(s, &nano);
    if (r < 0) return r;
    __int128 v = nano >= 0 ? (nano + 999999999) / 1000000000 : -((-nano) / 1000000000);
    if (v > INT64_MAX || v < INT64_MIN) return -ERANGE;
    *value = (int64_t)v;
    return 0;
}
