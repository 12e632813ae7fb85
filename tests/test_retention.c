/*
 * test_retention.c - DESIGN invariant 6 (data expires) and the as-of
 * clock: effective-from and expiry dates, records hidden once expired even
 * before the sweep, and the sweep deleting every version and index entry.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"

TestSuite(retention);

static int32_t day(const char *s)
{
    int32_t d;
    cr_assert_eq(prb_date_parse(s, strlen(s), &d), PRB_OK);
    return d;
}

static void set_day(prb_env *env, const char *s)
{
    prb_set_now(env, (int64_t)day(s) * 86400);
}

/* A court judgment of 2025-09-15: kept 1095 days, notice period 30 days
 * from when the register learnt of it (2026-11-25, received late). */
static const char *judgment =
    "{\"furnisher\":\"court-x\",\"ref\":\"J-1\",\"subject\":{\"kind\":\"person\",\"id\":"
    "\"cn-rid:11010519491231002X\"},\"category\":\"court_judgment\",\"status\":\"open\","
    "\"event_date\":\"2025-09-15\",\"legal_basis\":\"court order\",\"fields\":{\"amount\":"
    "\"500.00\",\"currency\":\"EUR\",\"court\":\"AG Mitte\",\"case_ref\":\"1 C 2/25\"}}";

Test(retention, dates_follow_the_policy_and_the_clock)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    cr_assert_eq(th_ingest(env, "j", judgment, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    const prb_record_view *rv = prb_file_record(f, 0);
    cr_assert_eq(rv->received, day(TH_TODAY));
    /* Notice runs from receipt, not from an event reported late. */
    cr_assert_eq(rv->effective_from, day(TH_TODAY) + 30);
    cr_assert_eq(rv->expires, day("2025-09-15") + 1095);
    cr_assert_eq(rv->usable, 0, "adverse record usable before its notice period ran");

    set_day(env, "2026-12-25");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_record(f, 0)->usable, 1);

    /* The day before expiry it is there; on the day it is gone, sweep or not. */
    set_day(env, "2028-09-13");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 1);
    set_day(env, "2028-09-14");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 0, "an expired record was returned");
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* The sweep deletes (not hides): all versions and the index entry go, so
 * even a clock turned back finds nothing, and the ref is free again. */
Test(retention, sweep_deletes_every_version_and_index_entry)
{
    char *dir, *text = th_slurp("tests/data/good.ndjson");
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    uint64_t deleted = 0, v = 0;
    char corrected[2048];
    cr_assert_eq(th_ingest(env, "j", judgment, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    snprintf(corrected, sizeof corrected, "%s", judgment);
    memcpy(strstr(corrected, "500.00"), "400.00", 6);
    cr_assert_eq(th_ingest(env, "j2", corrected, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(th_ingest(env, "g", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    cr_assert_eq(v, 6);
    cr_assert_eq(prb_count_records(env, &v), PRB_OK);
    cr_assert_eq(v, 5, "a corrected record is one record");

    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK);
    cr_assert_eq(deleted, 0, "nothing is due yet");

    set_day(env, "2028-09-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    /* J-1 and, from good.ndjson, the company's judgment (same day) and the
     * tax arrears settled 2026-06-30 (kept 365 days after). */
    cr_assert_eq(deleted, 3);
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    cr_assert_eq(v, 2, "J-1's two versions and two other records should be gone");
    cr_assert_eq(prb_count_records(env, &v), PRB_OK);
    cr_assert_eq(v, 2, "a deleted record is still counted");
    /* The judgment's two versions are gone; what remains is not expired. */
    set_day(env, TH_TODAY);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    for (size_t i = 0; i < prb_file_nrecords(f); i++)
        cr_assert_str_neq(prb_file_record(f, i)->ref, "J-1", "swept record read back");
    cr_assert_eq(prb_file_nrecords(f), 2);

    /* The index entry is gone: the same ref is a new record again. */
    cr_assert_eq(th_ingest(env, "j3", judgment, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.accepted, 1, "the swept (furnisher, ref) still had an index entry");
    prb_file_free(f);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* A settled payment default is kept 3 years after settlement, then swept. */
Test(retention, settled_default_kept_three_years_after_settlement)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    uint64_t deleted;
    const char *pd =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"settled\","
        "\"event_date\":\"2022-01-10\",\"settled_date\":\"2026-01-10\",\"legal_basis\":\"x\","
        "\"fields\":{\"amount\":\"9.00\",\"currency\":\"EUR\"}}";
    cr_assert_eq(th_ingest(env, "p", pd, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    set_day(env, "2029-01-08");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 1);
    cr_assert_eq(prb_file_record(f, 0)->expires, day("2026-01-10") + 1095);
    set_day(env, "2029-01-09");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK);
    cr_assert_eq(deleted, 1);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A payment default about the same person, ref L-9, as an NDJSON line. */
static char *pd_line(char *buf, size_t n, const char *event, const char *settled)
{
    snprintf(buf, n,
             "{\"furnisher\":\"bank-a\",\"ref\":\"L-9\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"%s\","
             "\"event_date\":\"%s\",\"settled_date\":%s%s%s,\"legal_basis\":\"loan\","
             "\"fields\":{\"amount\":\"9.00\",\"currency\":\"EUR\"}}",
             settled ? "settled" : "open", event, settled ? "\"" : "", settled ? settled : "null",
             settled ? "\"" : "");
    return buf;
}

/* The first message of a refused batch of one line. */
static char *refused(prb_env *env, const char *line)
{
    prb_ingest_stats st;
    prb_ingest *b = NULL;
    int rc = th_ingest(env, "in", line, PRB_FMT_NDJSON, 0, &st, &b);
    cr_assert_eq(rc, PRB_EREJECTED, "accepted: %s", line);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    char *msg = strdup(prb_ingest_error(b, 0));
    prb_ingest_free(b);
    return msg;
}

/* A record past its retention is gone though the sweep has not yet
 * deleted it. A correction of it was accepted: settling restarted its
 * retention clock (3 years after settlement), and it kept its first
 * receipt, so it was used again at once, with no hearing. */
Test(retention, an_expired_record_is_not_corrected_back_to_use)
{
    char *dir, line[1024], *msg;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    uint64_t v = 0, deleted = 0;
    set_day(env, "2026-01-01");
    cr_assert_eq(th_ingest(env, "a", pd_line(line, sizeof line, "2020-02-01", NULL), PRB_FMT_NDJSON,
                           0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    /* Kept 2190 days after the event: gone from 2026-01-30. */
    set_day(env, "2026-02-02");
    msg = refused(env, pd_line(line, sizeof line, "2020-02-01", "2026-01-20"));
    cr_assert(strstr(msg, "in:1: ref: ") && strstr(msg, "past its retention (expired 2026-01-30)"),
              "%s", msg);
    free(msg);
    /* Sent again unchanged, it is refused the same way, not "unchanged". */
    msg = refused(env, pd_line(line, sizeof line, "2020-02-01", NULL));
    cr_assert(strstr(msg, "past its retention (expired 2026-01-30)"), "%s", msg);
    free(msg);
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    cr_assert_eq(v, 1, "a version was added to an expired record");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 0, "an expired record is back in the file");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 1);
    /* Corrected before it expired, its settlement counts as always. */
    set_day(env, "2026-01-01");
    cr_assert_eq(th_ingest(env, "b", pd_line(line, sizeof line, "2020-02-01", NULL), PRB_FMT_NDJSON,
                           0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    set_day(env, "2026-01-29");
    cr_assert_eq(th_ingest(env, "c", pd_line(line, sizeof line, "2020-02-01", "2026-01-20"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* The text of the last notice in the outbox (malloc'd). */
static char *last_notice(prb_env *env)
{
    char *json = NULL;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    json_t *a = json_loads(json, 0, NULL);
    free(json);
    char *out = strdup(
        json_string_value(json_object_get(json_array_get(a, json_array_size(a) - 1), "text")));
    json_decref(a);
    return out;
}

/* A new adverse record whose retention ends before its notice period
 * does can never be used: it is refused, as one already past retention
 * is. It was accepted, its notice saying "It may not be used before
 * 2026-03-29" of a record deleted on 2026-03-09. */
Test(retention, a_record_deleted_before_its_hearing_ends_is_refused)
{
    char *dir, line[1024], *msg;
    prb_env *env = th_register(&dir);
    uint64_t v = 0;
    set_day(env, "2026-03-01");
    msg = refused(env, pd_line(line, sizeof line, "2020-03-10", NULL));
    cr_assert(strstr(msg, "in:1: event_date: the record is past its retention (expires "
                          "2026-03-09) before it may be used (from 2026-03-29"),
              "%s", msg);
    free(msg);
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    cr_assert_eq(v, 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A correction that ends a record's retention is stored (it ends its
 * use), and its notice says the record is no longer used and deleted.
 * It said "in effect since ... and is used as corrected from now on". */
Test(retention, a_correction_that_ends_retention_says_so)
{
    char *dir, line[1024], *text;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    /* Received 2026-11-25, in effect from 2026-12-25; paid 2027-01-05,
     * kept 0 days after. */
    cr_assert_eq(th_ingest(env, "j", judgment, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    set_day(env, "2027-01-10");
    snprintf(line, sizeof line, "%s", judgment);
    char *status = strstr(line, "\"open\""), *ev = strstr(line, "\"event_date\"");
    cr_assert(status && ev);
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", ev);
    snprintf(status, sizeof line - (size_t)(status - line),
             "\"settled\",\"settled_date\":\"2027-01-05\",%s", rest);
    cr_assert_eq(th_ingest(env, "k", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    text = last_notice(env);
    cr_assert(strstr(text, "corrected its record") &&
                  strstr(text, "was in effect from 2026-12-25; as corrected, its retention "
                               "ended on 2027-01-05") &&
                  strstr(text, "no longer used") && !strstr(text, "used as corrected"),
              "%s", text);
    free(text);

    /* Insolvency proceedings received 2026-11-25 take effect 14 days
     * later; closed, they are kept 180 days, which end first. */
    set_day(env, TH_TODAY);
    const char *ins = "{\"furnisher\":\"court-x\",\"ref\":\"I-1\",\"subject\":{\"kind\":"
                      "\"person\",\"id\":\"cn-rid:11010519491231002X\"},\"category\":"
                      "\"insolvency\",\"status\":\"%s\",\"event_date\":\"2026-05-01\","
                      "\"settled_date\":%s,\"legal_basis\":\"x\",\"fields\":{\"stage\":"
                      "\"filed\"}}";
    snprintf(line, sizeof line, ins, "open", "null");
    cr_assert_eq(th_ingest(env, "i", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    snprintf(line, sizeof line, ins, "settled", "\"2026-06-01\"");
    cr_assert_eq(th_ingest(env, "i2", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    text = last_notice(env);
    cr_assert(strstr(text, "It will not be used: it is deleted on 2026-11-28, when its "
                           "retention ends, before it could take effect on 2026-12-09"),
              "%s", text);
    free(text);
    /* Closed earlier still: its retention has ended already. */
    snprintf(line, sizeof line, ins, "settled", "\"2026-05-20\"");
    cr_assert_eq(th_ingest(env, "i3", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    text = last_notice(env);
    cr_assert(strstr(text, "It will not be used: as corrected, its retention ended on "
                           "2026-11-16, before it could take effect on 2026-12-09"),
              "%s", text);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* The clock's day is UTC's; a furnisher's dates are its own. At 07:30
 * in Beijing on 2026-03-02 (23:30 UTC the day before) a court's judgment
 * of that day was refused as in the future. The day after UTC's is the
 * latest date anywhere (UTC+14); a record dated then is used as any is. */
Test(retention, a_date_of_today_east_of_utc_is_accepted)
{
    char *dir, *msg;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    prb_decision *d = NULL;
    int64_t now;
    cr_assert_eq(prb_parse_now("2026-03-01T23:30:00Z", &now), PRB_OK);
    prb_set_now(env, now);
    const char *recs =
        "{\"furnisher\":\"court-beijing-1\",\"ref\":\"J-7\",\"subject\":{\"kind\":\"person\","
        "\"id\":\"cn-rid:11010519491231002X\"},\"category\":\"court_judgment\",\"status\":"
        "\"open\",\"event_date\":\"2026-03-02\",\"legal_basis\":\"court order\",\"fields\":{"
        "\"amount\":\"500.00\",\"currency\":\"CNY\",\"court\":\"Chaoyang\",\"case_ref\":\"7\"}}\n"
        "{\"furnisher\":\"bank-a\",\"ref\":\"A-7\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"cn-rid:11010519491231002X\"},\"category\":\"credit_account\",\"status\":\"settled\","
        "\"event_date\":\"2026-03-02\",\"settled_date\":\"2026-03-02\",\"legal_basis\":\"loan\","
        "\"fields\":{\"account_type\":\"revolving\",\"opened_date\":\"2026-03-02\","
        "\"credit_limit\":\"1000.00\",\"balance\":\"0.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}"
        "\n";
    cr_assert_eq(th_ingest(env, "in", recs, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 2);
    /* Two days ahead is nowhere's today. */
    msg = refused(env, "{\"furnisher\":\"bank-a\",\"ref\":\"L-8\",\"subject\":{\"kind\":\"person\","
                       "\"id\":\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\","
                       "\"status\":\"open\",\"event_date\":\"2026-03-03\",\"legal_basis\":\"x\","
                       "\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}");
    cr_assert(strstr(msg, "in:1: event_date: 2026-03-03 is in the future (the latest date "
                          "anywhere on Earth, UTC+14, is at most 2026-03-02)"),
              "%s", msg);
    free(msg);

    /* Its dates run from the event: in effect from it (the judgment 30
     * days after), kept from it; not used on UTC's day before it. */
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 2);
    for (size_t i = 0; i < 2; i++) {
        const prb_record_view *rv = prb_file_record(f, i);
        int j = !strcmp(rv->category, "court_judgment");
        cr_assert_eq(rv->event_date, day("2026-03-02"));
        cr_assert_eq(rv->received, day("2026-03-01"));
        cr_assert_eq(rv->effective_from, day("2026-03-02") + (j ? 30 : 0));
        cr_assert_eq(rv->expires, day("2026-03-02") + 1095);
        cr_assert_eq(rv->usable, 0, "%s used before its date", rv->category);
    }
    cr_assert_eq(prb_evaluate(env, "credit", "cn-rid:11010519491231002X", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    prb_decision_free(d);
    d = NULL;
    /* On its day it is used, 0 months old; a past as-of day knows none. */
    set_day(env, "2026-03-02");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(prb_file_record(f, i)->usable,
                     strcmp(prb_file_record(f, i)->category, "court_judgment") != 0);
    cr_assert_eq(prb_evaluate(env, "credit", "cn-rid:11010519491231002X", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    const char *json;
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert(strstr(json, "\"H01\"") && strstr(json, "\"value\": 0.0"), "%s", json);
    prb_decision_free(d);
    d = NULL;
    set_day(env, "2026-02-20");
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    for (size_t i = 0; i < prb_file_nrecords(f); i++)
        cr_assert_eq(prb_file_record(f, i)->usable, 0);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

Test(retention, clock_parsing)
{
    int64_t t;
    cr_assert_eq(prb_parse_now("2026-11-25", &t), PRB_OK);
    cr_assert_eq(t, (int64_t)day("2026-11-25") * 86400);
    cr_assert_eq(prb_parse_now("2026-11-25T13:14:15Z", &t), PRB_OK);
    cr_assert_eq(t, (int64_t)day("2026-11-25") * 86400 + 13 * 3600 + 14 * 60 + 15);
    cr_assert_eq(prb_parse_now("2026-11-31", &t), PRB_EINVAL);
    cr_assert_eq(prb_parse_now("2026-11-25 13:14", &t), PRB_EINVAL);
    cr_assert_eq(prb_parse_now("", &t), PRB_EINVAL);
    char out[11];
    prb_date_format(day("2024-02-29"), out);
    cr_assert_str_eq(out, "2024-02-29");
    prb_date_format(day("1970-01-01"), out);
    cr_assert_str_eq(out, "1970-01-01");
    cr_assert_eq(day("1970-01-01"), 0);
}
