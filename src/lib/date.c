/*
 * date.c - the one date parser and formatter, and the as-of clock's
 * source. Dates are civil days since 1970-01-01 (proleptic Gregorian,
 * UTC); conversion follows Howard Hinnant's days_from_civil algorithm.
 * This is the only file that may read the system clock.
 */
#include "internal.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

int32_t prb_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void prb_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int prb_date_parse(const char *s, size_t n, int32_t *day)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return PRB_EINVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
        return PRB_EINVAL;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return PRB_EINVAL;
    *day = prb_days_from_civil(y, (unsigned)m, (unsigned)d);
    return PRB_OK;
}

void prb_date_format(int32_t day, char out[11])
{
    int y;
    unsigned m, d;
    prb_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}

int32_t prb_day_of(int64_t t)
{
    return (int32_t)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
}

int prb_parse_now(const char *s, int64_t *out)
{
    int32_t day;
    size_t n = strlen(s);
    if (prb_date_parse(s, n < 10 ? n : 10, &day))
        return PRB_EINVAL;
    if (n == 10) {
        *out = (int64_t)day * 86400;
        return PRB_OK;
    }
    int hh, mm, ss;
    if (n != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return PRB_EINVAL;
    if (digits(s + 11, 2, &hh) || digits(s + 14, 2, &mm) || digits(s + 17, 2, &ss))
        return PRB_EINVAL;
    if (hh > 23 || mm > 59 || ss > 59)
        return PRB_EINVAL;
    *out = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss;
    return PRB_OK;
}

const char *prb_clock_pinned(void)
{
    const char *env = getenv("PROBITY_NOW");
    return env && *env ? env : NULL;
}

int prb_clock(int64_t *now)
{
    const char *env = prb_clock_pinned();
    if (env)
        return prb_parse_now(env, now);
    *now = (int64_t)time(NULL);
    return PRB_OK;
}

void prb_time_format(int64_t t, char out[21])
{
    char day[11];
    int32_t d = prb_day_of(t);
    int64_t secs = t - (int64_t)d * 86400;
    prb_date_format(d, day);
    unsigned hms[3] = {(unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60)};
    /* By hand: every decision's answer carries one, and snprintf cost
     * more than the rest of its date arithmetic. */
    memcpy(out, day, 10);
    for (int i = 0; i < 3; i++) {
        out[10 + 3 * i] = i ? ':' : 'T';
        out[11 + 3 * i] = (char)('0' + hms[i] / 10 % 10);
        out[12 + 3 * i] = (char)('0' + hms[i] % 10);
    }
    out[19] = 'Z';
    out[20] = '\0';
}
