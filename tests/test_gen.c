/*
 * test_gen.c - the synthetic population (gen.c): that it is deterministic, that every line is a
 * record the ingest accepts (checked against policy/default.json itself, so the two cannot
 * drift apart), that identifiers and dates are valid and inside retention, and that the
 * proportions the benchmarks and the demo rely on hold.
 *
 * Dates are checked with a private parser so these tests depend only on gen.c and ident.c.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include "probity.h"
#include "helpers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SPAN 730         /* days back an event may lie */
#define OPENED_SPAN 5479 /* 15 years */

/* ------------------------------------------------------------------ dates */

static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static unsigned num(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* A real calendar date written as YYYYMMDD (sep 0) or YYYY-MM-DD (sep '-'); -1 if not. */
static int parse_ymd(const char *s, char sep, int32_t *day)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t k = sep ? 1 : 0;
    if (!all_digits(s, 4) || !all_digits(s + 4 + k, 2) || !all_digits(s + 6 + 2 * k, 2))
        return -1;
    if (sep && (s[4] != sep || s[7] != sep || s[10] != 0))
        return -1;
    unsigned y = num(s, 4), m = num(s + 4 + k, 2), d = num(s + 6 + 2 * k, 2);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *day = days_from_civil((int)y, m, d);
    return 0;
}

static int32_t json_date(json_t *v, const char *what, const char *line)
{
    int32_t day = 0;
    cr_assert(json_is_string(v), "%s is not a string: %s", what, line);
    cr_assert_eq(parse_ymd(json_string_value(v), '-', &day), 0, "%s is not a date: %s", what, line);
    return day;
}

static int32_t today(void)
{
    return days_from_civil(2026, 3, 15);
}

/* ------------------------------------------------------------------ sinks */

/* Collects what prb_gen writes and how it was chunked; can be told to fail. */
typedef struct sink {
    char *buf;
    size_t len, cap;
    size_t calls;
    size_t max_chunk;
    int ragged;     /* a chunk did not end at the end of a line */
    size_t fail_at; /* fail the call with this number (1-based); 0 never */
    int fail_rc;
} sink;

static int sink_write(void *ctx, const char *b, size_t n)
{
    sink *s = ctx;
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return s->fail_rc;
    if (n > s->max_chunk)
        s->max_chunk = n;
    if (n == 0 || b[n - 1] != '\n')
        s->ragged = 1;
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2;
        char *p = realloc(s->buf, cap);
        if (!p)
            return PRB_ENOMEM;
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, b, n);
    s->len += n;
    return 0;
}

static sink generate(uint64_t persons, uint64_t companies, uint64_t seed)
{
    sink s = {0};
    prb_gen_opts o = {persons, companies, seed, today()};
    int rc = prb_gen(&o, sink_write, &s);
    cr_assert_eq(rc, PRB_OK, "prb_gen returned %d", rc);
    /* Terminated (outside len) so the tests may use string functions on it. */
    char *p = realloc(s.buf, s.len + 1);
    cr_assert_not_null(p);
    p[s.len] = 0;
    s.buf = p;
    s.cap = s.len + 1;
    return s;
}

static int sink_same(const sink *a, const sink *b)
{
    return a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0;
}

/* ---------------------------------------------------------------- records */

typedef void (*line_fn)(void *acc, json_t *rec, const char *line, size_t len);

/* Parses every line of s with jansson and hands it to fn. */
static void each_line(const sink *s, line_fn fn, void *acc)
{
    const char *p = s->buf, *end = s->buf + s->len;
    cr_assert(s->len > 0 && end[-1] == '\n', "output does not end with a newline");
    for (size_t n = 1; p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(nl - p);
        json_error_t err;
        json_t *rec = json_loadb(p, len, 0, &err);
        cr_assert_not_null(rec, "line %zu is not JSON (%s): %.*s", n, err.text, (int)len, p);
        char *line = strndup(p, len);
        fn(acc, rec, line, len);
        free(line);
        json_decref(rec);
        p = nl + 1;
    }
}

static const char *str(json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static const char *subject_id(json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(rec, "subject"), "id"));
}

static const char *subject_kind(json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(rec, "subject"), "kind"));
}

static json_t *field(json_t *rec, const char *name)
{
    return json_object_get(json_object_get(rec, "fields"), name);
}

static int64_t minor_units(json_t *v)
{
    const char *s = json_string_value(v);
    const char *dot = strchr(s, '.');
    return (int64_t)strtoll(s, NULL, 10) * 100 + (dot ? strtol(dot + 1, NULL, 10) : 0);
}

static json_t *load_policy(void)
{
    char path[512];
    json_error_t err;
    json_t *p = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &err);
    cr_assert_not_null(p, "policy/default.json: %s", err.text);
    return p;
}

static json_t *policy_category(json_t *policy, const char *name)
{
    return json_object_get(json_object_get(policy, "categories"), name);
}

/* ------------------------------------------------------------ determinism */

Test(gen, same_opts_same_bytes)
{
    sink a = generate(500, 100, 7), b = generate(500, 100, 7);
    cr_assert_gt(a.len, 0);
    cr_assert(sink_same(&a, &b), "two runs with the same opts differ");
    free(a.buf);
    free(b.buf);
}

/* The bytes with every subject identifier cut out, so what is left is the records alone. */
static char *without_ids(const sink *s)
{
    char *out = malloc(s->len + 1), *o = out;
    const char *p = s->buf, *end = s->buf + s->len;
    cr_assert_not_null(out);
    while (p < end) {
        const char *id = strstr(p, "\"id\":\"");
        const char *stop = id ? id : end;
        memcpy(o, p, (size_t)(stop - p));
        o += stop - p;
        p = id ? strchr(id + 6, '"') + 1 : end;
    }
    *o = 0;
    return out;
}

Test(gen, other_seed_other_population)
{
    sink a = generate(500, 100, 7), b = generate(500, 100, 8);
    cr_assert(!sink_same(&a, &b), "seeds 7 and 8 gave the same bytes");
    /* Different people, and different records too, not just renamed subjects. */
    const char *ida = strstr(a.buf, "\"id\":\""), *idb = strstr(b.buf, "\"id\":\"");
    cr_assert(ida && idb);
    cr_assert_neq(strncmp(ida, idb, 30), 0, "seeds 7 and 8 start with the same subject");
    free(a.buf);
    free(b.buf);

    /* Companies, whose records owe nothing to their identifiers (a person's birth date bounds
     * when his accounts opened), must differ in more than their names. */
    sink ca = generate(0, 300, 7), cb = generate(0, 300, 8);
    char *ra = without_ids(&ca), *rb = without_ids(&cb);
    cr_assert_str_neq(ra, rb, "seeds 7 and 8 differ only in identifiers");
    free(ra);
    free(rb);
    free(ca.buf);
    free(cb.buf);
}

Test(gen, chunks_end_at_line_ends)
{
    sink s = generate(5000, 1000, 1);
    cr_assert_gt(s.calls, 1, "expected several chunks for %zu bytes", s.len);
    cr_assert_leq(s.max_chunk, (size_t)1 << 20);
    cr_assert(!s.ragged, "a chunk split a line");
    free(s.buf);
}

/* A subject's records depend on nothing but the seed and its number, so populations compose:
 * fewer persons give a prefix, and the companies follow the persons unchanged. The sizes span
 * several chunks, so that where a subject falls in one cannot matter either. */
Test(gen, populations_compose)
{
    sink all = generate(3000, 1000, 3), persons = generate(3000, 0, 3);
    sink companies = generate(0, 1000, 3), fewer = generate(1000, 0, 3);
    cr_assert_gt(all.calls, 3);
    cr_assert_eq(all.len, persons.len + companies.len);
    cr_assert_eq(memcmp(all.buf, persons.buf, persons.len), 0);
    cr_assert_eq(memcmp(all.buf + persons.len, companies.buf, companies.len), 0);
    cr_assert_lt(fewer.len, persons.len);
    cr_assert_eq(memcmp(persons.buf, fewer.buf, fewer.len), 0);
    free(all.buf);
    free(persons.buf);
    free(companies.buf);
    free(fewer.buf);
}

/* ------------------------------------------------------------------ shape */

static const char *const TOP_KEYS[] = {"furnisher",    "ref",         "subject",
                                       "category",     "status",      "event_date",
                                       "settled_date", "legal_basis", "fields"};

static int in_values(json_t *values, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

static int amount_text(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || s[n - 3] != '.' || !all_digits(s, n - 3) || !all_digits(s + n - 2, 2))
        return 0;
    return s[0] != '0' || n == 4; /* no leading zeros */
}

static void check_value(json_t *spec, const char *name, json_t *v, const char *line)
{
    const char *type = json_string_value(json_object_get(spec, "type"));
    int32_t day;
    if (strcmp(type, "integer") == 0) {
        cr_assert(json_is_integer(v), "%s is not an integer: %s", name, line);
        json_int_t x = json_integer_value(v);
        json_t *min = json_object_get(spec, "min"), *max = json_object_get(spec, "max");
        cr_assert(!min || x >= json_integer_value(min), "%s below min: %s", name, line);
        cr_assert(!max || x <= json_integer_value(max), "%s above max: %s", name, line);
        return;
    }
    cr_assert(json_is_string(v), "%s is not a string: %s", name, line);
    const char *s = json_string_value(v);
    if (strcmp(type, "enum") == 0)
        cr_assert(in_values(json_object_get(spec, "values"), s), "%s: bad value: %s", name, line);
    else if (strcmp(type, "amount") == 0)
        cr_assert(amount_text(s), "%s is not an amount with 2 decimals: %s", name, line);
    else if (strcmp(type, "currency") == 0)
        cr_assert(strcmp(s, "EUR") == 0 || strcmp(s, "CNY") == 0, "%s: %s", name, line);
    else if (strcmp(type, "date") == 0)
        cr_assert_eq(parse_ymd(s, '-', &day), 0, "%s is not a date: %s", name, line);
    else if (strcmp(type, "string") == 0) {
        json_t *max = json_object_get(spec, "max_length");
        cr_assert_gt(strlen(s), 0, "%s is empty: %s", name, line);
        cr_assert(!max || strlen(s) <= (size_t)json_integer_value(max), "%s too long", name);
    } else
        cr_assert_fail("policy field %s has unknown type %s", name, type);
}

/* The record's fields are exactly the category's, in the policy's order. */
static void check_fields(json_t *cat, json_t *fields, const char *line)
{
    json_t *spec = json_object_get(cat, "fields");
    cr_assert(json_is_object(fields), "fields is not an object: %s", line);
    cr_assert_eq(json_object_size(fields), json_object_size(spec), "field count: %s", line);
    void *it = json_object_iter(fields), *want = json_object_iter(spec);
    for (; it; it = json_object_iter_next(fields, it), want = json_object_iter_next(spec, want)) {
        const char *name = json_object_iter_key(it);
        cr_assert_str_eq(name, json_object_iter_key(want), "field order: %s", line);
        check_value(json_object_iter_value(want), name, json_object_iter_value(it), line);
    }
}

static void check_subject(json_t *subject, json_t *cat, const char *line)
{
    cr_assert(json_is_object(subject) && json_object_size(subject) == 2, "subject: %s", line);
    void *it = json_object_iter(subject);
    cr_assert_str_eq(json_object_iter_key(it), "kind");
    cr_assert_str_eq(json_object_iter_key(json_object_iter_next(subject, it)), "id");
    const char *kind = json_string_value(json_object_get(subject, "kind"));
    cr_assert(kind && json_is_string(json_object_get(subject, "id")), "subject: %s", line);
    cr_assert(in_values(json_object_get(cat, "subject_kinds"), kind),
              "a %s may not have this category: %s", kind, line);
}

static void check_shape(void *acc, json_t *rec, const char *line, size_t len)
{
    json_t *policy = acc;
    size_t i = 0;
    cr_assert_eq(json_object_size(rec), sizeof TOP_KEYS / sizeof *TOP_KEYS, "keys: %s", line);
    for (void *it = json_object_iter(rec); it; it = json_object_iter_next(rec, it), i++)
        cr_assert_str_eq(json_object_iter_key(it), TOP_KEYS[i], "key order: %s", line);
    cr_assert_null(memchr(line, ' ', 16), "space after a key: %s", line);

    json_t *cat = policy_category(policy, str(rec, "category"));
    cr_assert_not_null(cat, "unknown category: %s", line);
    cr_assert(str(rec, "furnisher") && str(rec, "ref") && str(rec, "status"), "%s", line);
    cr_assert(str(rec, "legal_basis") && *str(rec, "legal_basis"), "legal_basis: %s", line);
    const char *st = str(rec, "status");
    cr_assert(strcmp(st, "open") == 0 || strcmp(st, "settled") == 0 || strcmp(st, "closed") == 0,
              "status: %s", line);
    json_date(json_object_get(rec, "event_date"), "event_date", line);
    json_t *settled = json_object_get(rec, "settled_date");
    cr_assert(json_is_null(settled) || json_is_string(settled), "settled_date: %s", line);
    check_subject(json_object_get(rec, "subject"), cat, line);
    check_fields(cat, json_object_get(rec, "fields"), line);
}

Test(gen, every_line_is_a_record_of_the_policy)
{
    json_t *policy = load_policy();
    sink s = generate(2000, 1000, 11);
    each_line(&s, check_shape, policy);
    json_decref(policy);
    free(s.buf);
}

/* The example record of the brief, byte for byte in its layout. */
Test(gen, layout_is_compact_and_ordered)
{
    sink s = generate(1, 0, 5);
    cr_assert_eq(strncmp(s.buf, "{\"furnisher\":\"bank-", 19), 0, "%.80s", s.buf);
    cr_assert_not_null(strstr(s.buf, "\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"));
    cr_assert_not_null(strstr(s.buf, "\"settled_date\":null,\"legal_basis\":\""));
    cr_assert_null(strstr(s.buf, ": "), "JSON with spaces after colons");
    cr_assert_null(strstr(s.buf, "}\n\n"), "empty line");
    free(s.buf);
}

/* ------------------------------------------------------------ identifiers */

typedef struct idscan {
    char **ids; /* one per subject: records of a subject come together */
    size_t n, cap;
    char prev[64];
    char currency[4];
    size_t persons, companies, lei;
    size_t currency_switches;
} idscan;

static void check_person_id(const char *v, const char *line)
{
    int32_t birth;
    cr_assert(all_digits(v, 17), "cn-rid body: %s", line);
    cr_assert_neq(v[0], '0', "cn-rid region: %s", line);
    cr_assert_eq(parse_ymd(v + 6, 0, &birth), 0, "cn-rid birth date: %s", line);
    cr_assert(birth >= days_from_civil(1940, 1, 1) && birth <= days_from_civil(2005, 12, 31),
              "birth date outside 1940..2005: %s", line);
}

static void scan_ids(void *acc, json_t *rec, const char *line, size_t len)
{
    idscan *sc = acc;
    const char *id = subject_id(rec), *kind = subject_kind(rec);
    const char *cur = json_string_value(field(rec, "currency"));
    if (strcmp(id, sc->prev) != 0) {
        char out[PRB_IDENT_MAX];
        int scheme = 0;
        int rc = prb_ident_normalize(id, strlen(id), out, sizeof out, &scheme);
        cr_assert_eq(rc, PRB_OK, "%s: %s", id, out);
        cr_assert_str_eq(out, id, "identifier not in canonical form");
        if (strcmp(kind, "person") == 0) {
            cr_assert_eq(scheme, PRB_SCHEME_CN_RID, "person with %s", id);
            check_person_id(id + 7, line);
            sc->persons++;
        } else {
            cr_assert(scheme == PRB_SCHEME_CN_USCC || scheme == PRB_SCHEME_LEI, "company %s", id);
            sc->lei += scheme == PRB_SCHEME_LEI;
            sc->companies++;
        }
        if (sc->n == sc->cap) {
            sc->cap = sc->cap ? sc->cap * 2 : 1024;
            sc->ids = realloc(sc->ids, sc->cap * sizeof *sc->ids);
            cr_assert_not_null(sc->ids);
        }
        sc->ids[sc->n++] = strdup(id);
        snprintf(sc->prev, sizeof sc->prev, "%s", id);
        sc->currency[0] = 0;
    }
    if (cur && sc->currency[0] && strcmp(cur, sc->currency) != 0)
        sc->currency_switches++;
    if (cur)
        snprintf(sc->currency, sizeof sc->currency, "%s", cur);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(gen, identifiers_valid_unique_and_one_per_subject)
{
    idscan sc = {0};
    sink s = generate(5000, 1000, 21);
    each_line(&s, scan_ids, &sc);
    /* Every subject shows up, once, as one run of records. */
    cr_assert_eq(sc.persons, 5000);
    cr_assert_eq(sc.companies, 1000);
    qsort(sc.ids, sc.n, sizeof *sc.ids, cmp_str);
    for (size_t i = 1; i < sc.n; i++)
        cr_assert_str_neq(sc.ids[i - 1], sc.ids[i], "identifier used twice");
    cr_assert_eq(sc.currency_switches, 0, "a subject changed currency");
    cr_assert(sc.lei >= 220 && sc.lei <= 380, "%zu of 1000 companies have an lei", sc.lei);
    for (size_t i = 0; i < sc.n; i++)
        free(sc.ids[i]);
    free(sc.ids);
    free(s.buf);
}

/* ------------------------------------------------------------------ dates */

typedef struct datescan {
    json_t *policy;
    int32_t today;
} datescan;

/* The last day the record may be kept, by the policy's retention rules. */
static int32_t expires(json_t *cat, int32_t event, int32_t settled)
{
    json_t *r = json_object_get(cat, "retention");
    int32_t end = event + (int32_t)json_integer_value(json_object_get(r, "days_after_event"));
    int32_t max = event + (int32_t)json_integer_value(json_object_get(r, "max_days"));
    if (settled != INT32_MIN) {
        int32_t after = (int32_t)json_integer_value(json_object_get(r, "days_after_settlement"));
        if (settled + after < end)
            end = settled + after;
    }
    return end < max ? end : max;
}

static void check_opened(json_t *rec, int32_t event, int32_t t, const char *line)
{
    int32_t opened = json_date(field(rec, "opened_date"), "opened_date", line);
    cr_assert_leq(opened, event, "opened after the event: %s", line);
    cr_assert_geq(opened, t - SPAN - OPENED_SPAN, "opened too long ago: %s", line);
    if (strcmp(subject_kind(rec), "person") != 0)
        return;
    int32_t birth;
    cr_assert_eq(parse_ymd(subject_id(rec) + 13, 0, &birth), 0);
    cr_assert(opened >= birth + 18 * 365 || opened == event, "opened by a minor: %s", line);
}

static void check_dates(void *acc, json_t *rec, const char *line, size_t len)
{
    datescan *d = acc;
    int32_t event = json_date(json_object_get(rec, "event_date"), "event_date", line);
    cr_assert_lt(event, d->today, "event not before today: %s", line);
    cr_assert_geq(event, d->today - SPAN, "event older than 730 days: %s", line);

    json_t *sv = json_object_get(rec, "settled_date");
    int settled_status = strcmp(str(rec, "status"), "settled") == 0;
    cr_assert_eq(!json_is_null(sv), settled_status, "settled_date vs status: %s", line);
    int32_t settled = INT32_MIN;
    if (settled_status) {
        settled = json_date(sv, "settled_date", line);
        cr_assert_geq(settled, event, "settled before the event: %s", line);
        cr_assert_lt(settled, d->today, "settled in the future: %s", line);
    }
    json_t *cat = policy_category(d->policy, str(rec, "category"));
    cr_assert_geq(expires(cat, event, settled), d->today + 30, "near retention: %s", line);
    if (field(rec, "opened_date"))
        check_opened(rec, event, d->today, line);
}

Test(gen, dates_before_today_and_within_retention)
{
    datescan d = {load_policy(), today()};
    sink s = generate(5000, 1000, 31);
    each_line(&s, check_dates, &d);
    json_decref(d.policy);
    free(s.buf);
}

/* The window moves with today: nothing is dated by the wall clock. */
Test(gen, dates_follow_today)
{
    sink s = {0};
    prb_gen_opts o = {50, 10, 31, days_from_civil(2031, 7, 1)};
    cr_assert_eq(prb_gen(&o, sink_write, &s), PRB_OK);
    datescan d = {load_policy(), o.today};
    each_line(&s, check_dates, &d);
    json_decref(d.policy);
    free(s.buf);
}

/* ------------------------------------------------------------- furnishers */

typedef struct refscan {
    char **keys;
    size_t n, cap;
} refscan;

static int is_bank(const char *f)
{
    return strncmp(f, "bank-", 5) == 0 && f[5] >= 'a' && f[5] <= 'e' && f[6] == 0;
}

static const char *fine_regulator(const char *domain)
{
    if (strcmp(domain, "environment") == 0)
        return "regulator-env";
    if (strcmp(domain, "workplace_safety") == 0)
        return "regulator-labour";
    return "regulator-consumer";
}

static void check_furnisher(json_t *rec, const char *line)
{
    const char *f = str(rec, "furnisher"), *c = str(rec, "category");
    if (strcmp(c, "credit_account") == 0 || strcmp(c, "payment_default") == 0)
        cr_assert(is_bank(f), "%s", line);
    else if (strcmp(c, "court_judgment") == 0 || strcmp(c, "insolvency") == 0)
        cr_assert_eq(strncmp(f, "court-", 6), 0, "%s", line);
    else if (strcmp(c, "tax_arrears") == 0)
        cr_assert_str_eq(f, "tax-office", "%s", line);
    else if (strcmp(c, "regulatory_fine") == 0)
        cr_assert_str_eq(f, fine_regulator(json_string_value(field(rec, "domain"))), "%s", line);
    else
        cr_assert_str_eq(f, "procurement-office", "%s", line);
}

static void scan_refs(void *acc, json_t *rec, const char *line, size_t len)
{
    refscan *sc = acc;
    check_furnisher(rec, line);
    cr_assert_gt(strlen(str(rec, "ref")), 0);
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 4096;
        sc->keys = realloc(sc->keys, sc->cap * sizeof *sc->keys);
        cr_assert_not_null(sc->keys);
    }
    char key[256];
    snprintf(key, sizeof key, "%s\t%s", str(rec, "furnisher"), str(rec, "ref"));
    sc->keys[sc->n++] = strdup(key);
}

Test(gen, refs_unique_per_furnisher)
{
    refscan sc = {0};
    sink s = generate(3000, 1000, 41);
    each_line(&s, scan_refs, &sc);
    qsort(sc.keys, sc.n, sizeof *sc.keys, cmp_str);
    for (size_t i = 1; i < sc.n; i++)
        cr_assert_str_neq(sc.keys[i - 1], sc.keys[i], "(furnisher, ref) repeated");
    for (size_t i = 0; i < sc.n; i++)
        free(sc.keys[i]);
    free(sc.keys);
    free(s.buf);
}

/* ------------------------------------------------------------ proportions */

enum { ACCOUNT, DEFAULT, JUDGMENT, INSOLVENCY, TAX, FINE, EXCLUSION, NCAT };
static const char *const CATS[NCAT] = {"credit_account",  "payment_default", "court_judgment",
                                       "insolvency",      "tax_arrears",     "regulatory_fine",
                                       "exclusion_ground"};

typedef struct stats {
    size_t lines, bytes;
    char prev[64];
    int company;          /* of the current subject */
    unsigned cur[NCAT];   /* the current subject's records by category */
    unsigned bad_banks;   /* banks with an account of the current subject >= 90 dpd */
    size_t subjects[2];   /* persons, companies */
    size_t with[2][NCAT]; /* subjects with at least one record of a category */
    size_t naccounts[16]; /* subjects by number of credit accounts (15: more) */
    size_t defaults, defaults_settled, defaults_unexplained;
    size_t accounts, dpd0, within_limit, revolving, closed, closed_nonzero;
} stats;

static void end_subject(stats *st)
{
    if (!st->prev[0])
        return;
    st->subjects[st->company]++;
    for (int c = 0; c < NCAT; c++)
        st->with[st->company][c] += st->cur[c] > 0;
    st->naccounts[st->cur[ACCOUNT] < 15 ? st->cur[ACCOUNT] : 15]++;
    memset(st->cur, 0, sizeof st->cur);
    st->bad_banks = 0;
}

static void count_account(stats *st, json_t *rec)
{
    const char *f = str(rec, "furnisher");
    json_int_t dpd = json_integer_value(field(rec, "worst_dpd"));
    int64_t balance = minor_units(field(rec, "balance"));
    st->accounts++;
    st->dpd0 += dpd == 0;
    st->within_limit += balance <= minor_units(field(rec, "credit_limit"));
    st->revolving += strcmp(json_string_value(field(rec, "account_type")), "revolving") == 0;
    if (strcmp(str(rec, "status"), "closed") == 0) {
        st->closed++;
        st->closed_nonzero += balance != 0;
    }
    if (dpd >= 90)
        st->bad_banks |= 1u << (f[5] - 'a');
}

/* A default is reported by the bank whose account with the subject went 90+ days late. */
static void count_default(stats *st, json_t *rec)
{
    const char *f = str(rec, "furnisher");
    st->defaults++;
    st->defaults_settled += strcmp(str(rec, "status"), "settled") == 0;
    st->defaults_unexplained += !(st->bad_banks & (1u << (f[5] - 'a')));
}

static void count(void *acc, json_t *rec, const char *line, size_t len)
{
    stats *st = acc;
    const char *id = subject_id(rec), *cat = str(rec, "category");
    if (strcmp(id, st->prev) != 0) {
        end_subject(st);
        snprintf(st->prev, sizeof st->prev, "%s", id);
        st->company = strcmp(subject_kind(rec), "company") == 0;
    }
    st->lines++;
    st->bytes += len + 1;
    int c = 0;
    while (c < NCAT && strcmp(cat, CATS[c]) != 0)
        c++;
    cr_assert_lt(c, NCAT, "category %s", cat);
    st->cur[c]++;
    if (c == ACCOUNT)
        count_account(st, rec);
    else if (c == DEFAULT)
        count_default(st, rec);
}

static stats population(uint64_t persons, uint64_t companies, uint64_t seed)
{
    stats st = {0};
    sink s = generate(persons, companies, seed);
    each_line(&s, count, &st);
    end_subject(&st);
    free(s.buf);
    return st;
}

/* Share of subjects of a kind (0 persons, 1 companies) with a category, in percent. */
static double pct(const stats *st, int company, int cat)
{
    return 100.0 * (double)st->with[company][cat] / (double)st->subjects[company];
}

#define assert_band(x, lo, hi, what)                                                               \
    cr_assert((x) >= (lo) && (x) <= (hi), "%s: %.2f outside [%g, %g]", (what), (double)(x),        \
              (double)(lo), (double)(hi))

Test(gen, person_proportions)
{
    stats st = population(5000, 1000, 51);
    cr_assert_eq(st.subjects[0], 5000);
    assert_band(pct(&st, 0, DEFAULT), 6.0, 10.0, "% persons with a payment default");
    assert_band(100.0 * st.defaults_settled / st.defaults, 35.0, 65.0, "% defaults settled");
    assert_band(pct(&st, 0, JUDGMENT), 1.0, 3.2, "% persons with a judgment");
    assert_band(pct(&st, 0, INSOLVENCY), 0.15, 1.0, "% persons insolvent");
    for (int c = TAX; c < NCAT; c++)
        cr_assert_eq(st.with[0][c], 0, "a person has %s", CATS[c]);
}

Test(gen, company_proportions)
{
    stats st = population(5000, 1000, 52);
    cr_assert_eq(st.subjects[1], 1000);
    assert_band(pct(&st, 1, TAX), 3.0, 7.5, "% companies with tax arrears");
    assert_band(pct(&st, 1, FINE), 1.5, 5.0, "% companies fined");
    assert_band(pct(&st, 1, JUDGMENT), 0.5, 3.5, "% companies with a judgment");
    assert_band(pct(&st, 1, INSOLVENCY), 0.2, 2.5, "% companies insolvent");
    assert_band(pct(&st, 1, EXCLUSION), 0.0, 1.2, "% companies excluded");
    cr_assert_eq(st.with[1][DEFAULT], 0, "payment defaults are for persons");
}

/* Benchmarks size their runs on these: about 5 records per subject. The schema's key names make
 * a credit account line about 370 bytes, so the average sits a little below that. */
Test(gen, volume_per_subject)
{
    stats st = population(5000, 1000, 53);
    double per_subject = (double)st.lines / 6000.0;
    assert_band(per_subject, 4.3, 5.8, "records per subject");
    assert_band((double)st.bytes / st.lines, 280.0, 400.0, "bytes per line");
    size_t one_to_eight = 0;
    for (int n = 1; n <= 8; n++)
        one_to_eight += st.naccounts[n];
    cr_assert_eq(st.naccounts[0], 0, "a subject without any credit account");
    assert_band(100.0 * one_to_eight / 6000.0, 80.0, 97.0, "% subjects with 1-8 accounts");
}

Test(gen, credit_accounts_realistic)
{
    stats st = population(5000, 1000, 54);
    assert_band(100.0 * st.dpd0 / st.accounts, 80.0, 97.0, "% accounts never late");
    cr_assert_lt(st.dpd0, st.accounts, "no account was ever late");
    assert_band(100.0 * st.within_limit / st.accounts, 90.0, 99.9, "% balances within limit");
    assert_band(100.0 * st.revolving / st.accounts, 35.0, 70.0, "% revolving accounts");
    assert_band(100.0 * st.closed / st.accounts, 5.0, 25.0, "% closed accounts");
    cr_assert_eq(st.closed_nonzero, 0, "a closed account with a balance");
    cr_assert_gt(st.defaults, 0);
    cr_assert_eq(st.defaults_unexplained, 0, "a default from a bank with no late account");
}

/* ---------------------------------------------------------------- errors */

Test(gen, bad_arguments_einval)
{
    sink s = {0};
    prb_gen_opts ok = {10, 10, 1, today()};
    prb_gen_opts empty = {0, 0, 1, today()};
    prb_gen_opts crowd = {UINT64_MAX, 0, 1, today()};
    prb_gen_opts epoch = {10, 10, 1, 0}; /* today left at zero: before anyone was born */
    cr_assert_eq(prb_gen(NULL, sink_write, &s), PRB_EINVAL);
    cr_assert_eq(prb_gen(&ok, NULL, &s), PRB_EINVAL);
    cr_assert_eq(prb_gen(&empty, sink_write, &s), PRB_EINVAL);
    cr_assert_eq(prb_gen(&crowd, sink_write, &s), PRB_EINVAL, "more persons than identifiers");
    cr_assert_eq(prb_gen(&epoch, sink_write, &s), PRB_EINVAL);
    cr_assert_eq(s.calls, 0, "the callback ran for a refused call");
}

Test(gen, only_companies_or_only_persons)
{
    sink p = generate(1, 0, 9), c = generate(0, 1, 9);
    cr_assert_not_null(strstr(p.buf, "\"kind\":\"person\""));
    cr_assert_null(strstr(p.buf, "\"kind\":\"company\""));
    cr_assert_not_null(strstr(c.buf, "\"kind\":\"company\""));
    cr_assert_null(strstr(c.buf, "\"kind\":\"person\""));
    free(p.buf);
    free(c.buf);
}

Test(gen, callback_failure_stops_and_is_returned)
{
    sink first = {.fail_at = 1, .fail_rc = 42};
    prb_gen_opts small = {10, 0, 1, today()};
    cr_assert_eq(prb_gen(&small, sink_write, &first), 42);
    cr_assert_eq(first.calls, 1);

    /* Failing mid-run: nothing after the failed chunk is written. */
    sink second = {.fail_at = 2, .fail_rc = PRB_EIO};
    prb_gen_opts big = {5000, 0, 1, today()};
    cr_assert_eq(prb_gen(&big, sink_write, &second), PRB_EIO);
    cr_assert_eq(second.calls, 2);
    cr_assert_gt(second.len, 0);
    free(second.buf);
}
