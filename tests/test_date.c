/*
 * test_date.c - dates and times as the engine writes them: the same text
 * the C library's gmtime and strftime give, for every kind of moment from
 * 1970 to 2100 (leap days, ends of days, months and years).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probity.h"

TestSuite(date);

static void check(int64_t t)
{
    char want[32], got[21], day[11];
    time_t tt = (time_t)t;
    struct tm tm;
    cr_assert(gmtime_r(&tt, &tm));
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    prb_time_format(t, got);
    cr_assert_str_eq(got, want, "%lld", (long long)t);
    prb_date_format((int32_t)(t / 86400), day);
    cr_assert(!strncmp(day, want, 10), "%lld: %s", (long long)t, day);
}

Test(date, times_as_strftime_writes_them)
{
    /* A prime stride walks through every hour, minute and second. */
    for (int64_t t = 0; t < INT64_C(4102444800); t += 7919 * 7)
        check(t);
    const int64_t edges[] = {0,          59,         86399,      86400,      951782399,
                             951782400,  951868799,  951868800,  1767225599, 1767225600,
                             1798761599, 4102444799, 1709251199, 1709164800};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        check(edges[i]);
}
