/*
 * test_stats.c - transparency statistics (issue 5, GET /v1/stats): every
 * count is exact, checked against what the test did and against the
 * engine's other readers (lists, notices, disputes), and the output names
 * no person: no identifier, reference, requester, reason or note.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"

TestSuite(stats, .timeout = 120);

#define ANNA "cn-rid:11010519491231002X"
#define BORIS "cn-rid:110105198001010016"
#define ACME "cn-uscc:91350100M000100Y43"
#define BETA "lei:5493001KJTIIGC8Y1R12"

static void ingest(prb_env *env, const char *text)
{
    prb_ingest_stats st;
    prb_ingest *b = NULL;
    int rc = th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, &b);
    cr_assert_eq(rc, PRB_OK, "%s: %s", prb_errmsg(env),
                 prb_ingest_nerrors(b) ? prb_ingest_error(b, 0) : "");
    prb_ingest_free(b);
}

/* One NDJSON line from bank-a about a person. */
static char *person_line(char *buf, size_t n, const char *who, const char *ref, const char *cat,
                         const char *status, const char *event, const char *settled,
                         const char *fields)
{
    snprintf(buf, n,
             "{\"furnisher\":\"bank-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"%s\"},\"category\":\"%s\",\"status\":\"%s\",\"event_date\":\"%s\","
             "\"settled_date\":%s%s%s,\"legal_basis\":\"loan contract\",\"fields\":%s}\n",
             ref, who, cat, status, event, settled ? "\"" : "", settled ? settled : "null",
             settled ? "\"" : "", fields);
    return buf;
}

static const char *PD_FIELDS = "{\"amount\":\"700.00\",\"currency\":\"EUR\"}";

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    cr_assert_not_null(j, "not JSON (%s): %s", e.text, s);
    return j;
}

static json_t *stats(prb_env *env, char **text)
{
    char *json = NULL;
    cr_assert_eq(prb_stats_json(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *j = parse(json);
    if (text)
        *text = json;
    else
        free(json);
    return j;
}

/* The integer at a path of object keys, "a.b.c"; fails if absent. */
static long long at(json_t *j, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        j = json_object_get(j, k);
    cr_assert(json_is_integer(j), "%s is not an integer", path);
    return (long long)json_integer_value(j);
}

static json_t *get(json_t *j, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        j = json_object_get(j, k);
    return j;
}

static uint64_t open_dispute(prb_env *env, const char *who, const char *rid, const char *reason)
{
    char *json = NULL;
    cr_assert_eq(prb_dispute_open(env, who, rid, reason, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *d = parse(json);
    uint64_t id = strtoull(json_string_value(json_object_get(d, "id")), NULL, 10);
    json_decref(d);
    free(json);
    return id;
}

/* The record id ("S-N") of who's record with ref. */
static void rid_of(prb_env *env, const char *who, const char *ref, char *out, size_t n)
{
    prb_file *f = NULL;
    *out = 0;
    cr_assert_eq(prb_subject_read(env, who, &f), PRB_OK, "%s", prb_errmsg(env));
    for (size_t i = 0; i < prb_file_nrecords(f); i++) {
        const prb_record_view *rv = prb_file_record(f, i);
        if (!strcmp(rv->ref, ref))
            snprintf(out, n, "%llu-%llu", (unsigned long long)(rv->id >> 24),
                     (unsigned long long)(rv->id & 0xffffff));
    }
    prb_file_free(f);
    cr_assert(*out, "%s has no record %s", who, ref);
}

/* A decision stored as an inquiry; tallies its outcome by purpose
 * (rows: credit, tenancy, procurement; columns: enum prb_outcome). */
static const char *const PURPOSES[] = {"credit", "tenancy", "procurement"};

static int decide(prb_env *env, int purpose, const char *who, long long tally[3][4], char *id,
                  size_t idn)
{
    prb_decision *d = NULL;
    const char *json;
    cr_assert_eq(prb_decide(env, PURPOSES[purpose], who, "bank-x", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    int o = prb_decision_outcome(d);
    cr_assert(o >= PRB_APPROVE && o <= PRB_DECLINE);
    tally[purpose][o]++;
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    json_t *j = parse(json);
    if (id)
        snprintf(id, idn, "%s", json_string_value(json_object_get(j, "decision")));
    json_decref(j);
    prb_decision_free(d);
    return o;
}

/* What prb_lists_json says of each list: entries by state. */
static void lists_expected(prb_env *env, json_t *st)
{
    char *json = NULL;
    cr_assert_eq(prb_lists_json(env, NULL, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *lists = parse(json);
    free(json);
    static const char *const states[] = {"noticed", "active", "lifted", "expired", "withdrawn"};
    for (size_t i = 0; i < json_array_size(lists); i++) {
        json_t *l = json_array_get(lists, i), *members = json_object_get(l, "members");
        const char *name = json_string_value(json_object_get(l, "list"));
        json_t *got = json_object_get(json_object_get(st, "list_entries"), name);
        cr_assert_not_null(got, "list %s missing from the statistics", name);
        long long exits = 0;
        for (size_t s = 0; s < 5; s++) {
            long long n = 0;
            for (size_t m = 0; m < json_array_size(members); m++)
                n +=
                    !strcmp(json_string_value(json_object_get(json_array_get(members, m), "state")),
                            states[s]);
            cr_assert_eq(json_integer_value(json_object_get(got, states[s])), n, "%s.%s", name,
                         states[s]);
            exits += s >= 2 ? n : 0;
        }
        cr_assert_eq(json_integer_value(json_object_get(got, "entries")),
                     (long long)json_array_size(members), "%s.entries", name);
        cr_assert_eq(json_integer_value(json_object_get(got, "exits")), exits, "%s.exits", name);
    }
    json_decref(lists);
}

/* What prb_notices_json says: notices by kind, delivered or not. */
static void notices_expected(prb_env *env, json_t *st)
{
    char *json = NULL;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *all = parse(json);
    free(json);
    json_t *want = json_object();
    long long delivered = 0;
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *n = json_array_get(all, i);
        const char *kind = json_string_value(json_object_get(n, "kind"));
        int dl = json_is_true(json_object_get(n, "delivered"));
        json_t *row = json_object_get(want, kind);
        if (!row)
            json_object_set_new(want, kind,
                                row = json_pack("{s:I, s:I, s:I}", "total", (json_int_t)0,
                                                "delivered", (json_int_t)0, "pending",
                                                (json_int_t)0));
        json_object_set_new(row, "total",
                            json_integer(json_integer_value(json_object_get(row, "total")) + 1));
        const char *col = dl ? "delivered" : "pending";
        json_object_set_new(row, col,
                            json_integer(json_integer_value(json_object_get(row, col)) + 1));
        delivered += dl;
    }
    cr_assert(json_equal(want, get(st, "notices.by_kind")), "notices by kind differ");
    cr_assert_eq(at(st, "notices.total"), (long long)json_array_size(all));
    cr_assert_eq(at(st, "notices.delivered"), delivered);
    cr_assert_eq(at(st, "notices.pending"), (long long)json_array_size(all) - delivered);
    json_decref(want);
    json_decref(all);
}

static void decisions_expected(json_t *st, long long tally[3][4])
{
    static const char *const outcomes[] = {"?", "approve", "refer", "decline"};
    long long total = 0;
    char path[128];
    for (int p = 0; p < 3; p++) {
        long long t = 0;
        for (int o = 1; o <= 3; o++) {
            snprintf(path, sizeof path, "decisions.by_purpose.%s.%s", PURPOSES[p], outcomes[o]);
            cr_assert_eq(at(st, path), tally[p][o], "%s", path);
            t += tally[p][o];
        }
        snprintf(path, sizeof path, "decisions.by_purpose.%s.total", PURPOSES[p]);
        cr_assert_eq(at(st, path), t, "%s", path);
        total += t;
    }
    cr_assert_eq(at(st, "decisions.total"), total);
}

/* Nothing that names or points at a person may appear in the output. */
static void no_personal_data(const char *text)
{
    static const char *const banned[] = {ANNA,
                                         BORIS,
                                         ACME,
                                         BETA,
                                         "11010519491231002X",
                                         "110105198001010016",
                                         "91350100M000100Y43",
                                         "5493001KJTIIGC8Y1R12",
                                         "cn-rid",
                                         "cn-uscc",
                                         "lei:",
                                         "bank-a",
                                         "bank-x",
                                         "tax-office",
                                         "court-beijing",
                                         "L-1001",
                                         "L-1002",
                                         "TA-2026-1",
                                         "B-1",
                                         "B-2",
                                         "Jing 0105",
                                         "loan contract",
                                         "never borrowed",
                                         "paid in full",
                                         "wrong amount",
                                         "Checked with the bank",
                                         "A. Reviewer",
                                         "It stands",
                                         "\"subject\"",
                                         "\"identifier\"",
                                         "\"record\"",
                                         "\"decision\"",
                                         "\"requester\"",
                                         "-q1",
                                         "-r1"};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        cr_assert_null(strstr(text, banned[i]), "the statistics contain '%s':\n%s", banned[i],
                       text);
}

Test(stats, empty_register_lists_every_name_with_zeros)
{
    char *dir;
    prb_env *env = th_register(&dir);
    json_t *st = stats(env, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(st, "as_of")), TH_TODAY);
    cr_assert_eq(at(st, "subjects.total"), 0);
    cr_assert_eq(at(st, "records.total"), 0);
    const prb_policy *p = prb_env_policy(env);
    cr_assert_eq(json_object_size(get(st, "records.by_category")), prb_policy_ncategories(p));
    for (size_t i = 0; i < prb_policy_ncategories(p); i++) {
        char path[128];
        snprintf(path, sizeof path, "records.by_category.%s.total", prb_policy_category_name(p, i));
        cr_assert_eq(at(st, path), 0, "%s", path);
    }
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "decisions.by_purpose.%s.total", PURPOSES[i]);
        cr_assert_eq(at(st, path), 0);
    }
    cr_assert_eq(at(st, "list_entries.debtor_register.entries"), 0);
    cr_assert_eq(at(st, "list_entries.procurement_exclusion.entries"), 0);
    cr_assert_eq(at(st, "list_entries.reliable_taxpayer.entries"), 0);
    cr_assert_eq(at(st, "disputes.total"), 0);
    cr_assert_eq(at(st, "disputes.by_state.open"), 0);
    cr_assert(json_is_null(get(st, "disputes.median_days_to_resolve")));
    cr_assert_eq(at(st, "reviews.by_state.requested"), 0);
    cr_assert_eq(at(st, "notices.total"), 0);
    json_decref(st);
    prb_close(env);
    th_rmrf(dir);
}

/* A copy of the statistics kept for a while (as the server keeps one)
 * says when its snapshot was read, to the second, by the clock the walk
 * ran under: a day alone left an hour-old copy looking current. */
Test(stats, made_at_is_the_clock_of_the_walk)
{
    char *dir;
    int64_t t;
    prb_env *env = th_register(&dir);
    cr_assert_eq(prb_parse_now("2026-11-25T10:20:30Z", &t), PRB_OK);
    prb_set_now(env, t);
    json_t *st = stats(env, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(st, "made_at")), "2026-11-25T10:20:30Z");
    cr_assert_str_eq(json_string_value(json_object_get(st, "as_of")), "2026-11-25");
    json_decref(st);
    prb_set_now(env, t + 3600);
    st = stats(env, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(st, "made_at")), "2026-11-25T11:20:30Z");
    json_decref(st);
    prb_close(env);
    th_rmrf(dir);
}

/* A register walked through ingest, corrections, decisions, disputes,
 * reviews, list entries and exits, expiry and delivery, with the clock;
 * the statistics are checked after each step that changes them. */
Test(stats, every_count_is_exact_and_names_no_person)
{
    char *dir, buf[2048], rid[48], dec[48], *text = NULL;
    prb_env *env = th_register(&dir);
    long long tally[3][4] = {{0}};
    char *good = th_slurp("tests/data/good.ndjson");
    cr_assert_not_null(good);

    /* 2026-11-25: the four records of good.ndjson (Anna: a payment default
     * and a credit account; Acme: a court judgment; Beta: settled tax
     * arrears), and Boris: a payment default, an open credit account, and
     * one settled long ago that is kept until 2026-11-30 (settled + 3
     * years). Acme and Beta, with nothing in effect against them, are
     * entered on the reliable taxpayers' red list at once. */
    ingest(env, good);
    free(good);
    ingest(env, person_line(buf, sizeof buf, BORIS, "B-1", "payment_default", "open", "2026-10-01",
                            NULL, PD_FIELDS));
    ingest(env, person_line(buf, sizeof buf, BORIS, "B-2", "credit_account", "settled",
                            "2017-01-01", "2023-12-01",
                            "{\"account_type\":\"instalment\",\"opened_date\":\"2015-01-01\","
                            "\"credit_limit\":\"900.00\",\"balance\":\"0.00\",\"currency\":"
                            "\"EUR\",\"worst_dpd\":0}"));
    ingest(env,
           person_line(buf, sizeof buf, BORIS, "B-3", "credit_account", "open", "2026-01-01", NULL,
                       "{\"account_type\":\"revolving\",\"opened_date\":\"2026-01-01\","
                       "\"credit_limit\":\"900.00\",\"balance\":\"10.00\",\"currency\":"
                       "\"EUR\",\"worst_dpd\":0}"));
    json_t *st = stats(env, NULL);
    cr_assert_eq(at(st, "subjects.total"), 4);
    cr_assert_eq(at(st, "subjects.person"), 2);
    cr_assert_eq(at(st, "subjects.company"), 2);
    cr_assert_eq(at(st, "records.total"), 7);
    cr_assert_eq(at(st, "records.expired_not_yet_deleted"), 0);
    cr_assert_eq(at(st, "records.by_category.payment_default.total"), 2);
    cr_assert_eq(at(st, "records.by_category.payment_default.open"), 2);
    cr_assert_eq(at(st, "records.by_category.credit_account.total"), 3);
    cr_assert_eq(at(st, "records.by_category.credit_account.open"), 2);
    cr_assert_eq(at(st, "records.by_category.credit_account.settled"), 1);
    cr_assert_eq(at(st, "records.by_category.court_judgment.open"), 1);
    cr_assert_eq(at(st, "records.by_category.tax_arrears.settled"), 1);
    cr_assert_eq(at(st, "records.by_category.tax_arrears.open"), 0);
    cr_assert_eq(at(st, "records.by_category.insolvency.total"), 0);
    /* An adverse record tells its subject: four of the seven are adverse. */
    cr_assert_eq(at(st, "notices.by_kind.adverse_record.total"), 4);
    cr_assert_eq(at(st, "notices.by_kind.list_entry.total"), 2);
    cr_assert_eq(at(st, "notices.pending"), 6);
    cr_assert_eq(at(st, "notices.delivered"), 0);
    cr_assert_eq(at(st, "list_entries.reliable_taxpayer.active"), 2);
    cr_assert_eq(at(st, "decisions.total"), 0);
    json_decref(st);

    /* A correction is a new version: only the current one counts. Anna's
     * payment default is now settled. */
    ingest(env, person_line(buf, sizeof buf, ANNA, "L-1001", "payment_default", "settled",
                            "2025-03-01", "2026-11-20",
                            "{\"amount\":\"1250.00\",\"currency\":"
                            "\"EUR\"}"));
    /* A delivery: every notice so far goes to the spool. */
    prb_deliver_stats ds;
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(ds.pending, 0);

    /* 2027-01-02: Boris's old account has expired (not yet swept); the
     * judgment has taken effect, so Acme is noticed on the debtor
     * register; Beta's arrears have, so Beta leaves the red list. */
    th_set_day(env, "2027-01-02");
    uint64_t changed;
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    decide(env, 0, ANNA, tally, NULL, 0);
    decide(env, 0, ANNA, tally, NULL, 0);
    decide(env, 1, ANNA, tally, NULL, 0);
    int o = decide(env, 0, BORIS, tally, dec, sizeof dec);
    decide(env, 2, ACME, tally, NULL, 0);
    decide(env, 2, BETA, tally, NULL, 0);
    decide(env, 0, BETA, tally, NULL, 0);
    cr_assert_neq(o, PRB_APPROVE, "Boris's open default should not be approved");
    st = stats(env, &text);
    no_personal_data(text);
    free(text);
    cr_assert_str_eq(json_string_value(json_object_get(st, "as_of")), "2027-01-02");
    cr_assert_eq(at(st, "records.total"), 6);
    cr_assert_eq(at(st, "records.expired_not_yet_deleted"), 1);
    cr_assert_eq(at(st, "records.by_category.credit_account.settled"), 0);
    cr_assert_eq(at(st, "records.by_category.payment_default.open"), 1);
    cr_assert_eq(at(st, "records.by_category.payment_default.settled"), 1);
    cr_assert_eq(at(st, "list_entries.debtor_register.noticed"), 1);
    cr_assert_eq(at(st, "list_entries.reliable_taxpayer.active"), 1);
    cr_assert_eq(at(st, "list_entries.reliable_taxpayer.lifted"), 1);
    cr_assert_eq(at(st, "list_entries.reliable_taxpayer.exits"), 1);
    cr_assert_eq(at(st, "list_entries.procurement_exclusion.entries"), 0);
    decisions_expected(st, tally);
    cr_assert_eq(at(st, "decisions.total"), 7);
    lists_expected(env, st);
    notices_expected(env, st);
    cr_assert_gt(at(st, "notices.delivered"), 0);
    cr_assert_gt(at(st, "notices.pending"), 0);
    json_decref(st);

    /* The sweep deletes the expired account: it leaves the count. */
    uint64_t deleted;
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 1);
    st = stats(env, NULL);
    cr_assert_eq(at(st, "records.total"), 6);
    cr_assert_eq(at(st, "records.expired_not_yet_deleted"), 0);
    json_decref(st);

    /* Disputes of records no list reads, opened on 2027-01-02: resolved
     * 3 and 4 days later (the median of two is their mean), then one 10
     * days later (the median of three is the middle one); one stays open. */
    rid_of(env, ANNA, "L-1002", rid, sizeof rid);
    uint64_t d1 = open_dispute(env, ANNA, rid, "I never borrowed this.");
    rid_of(env, BORIS, "B-1", rid, sizeof rid);
    uint64_t d2 = open_dispute(env, BORIS, rid, "It was paid in full.");
    rid_of(env, ANNA, "L-1001", rid, sizeof rid);
    uint64_t d3 = open_dispute(env, ANNA, rid, "The wrong amount.");
    rid_of(env, BORIS, "B-3", rid, sizeof rid);
    open_dispute(env, BORIS, rid, "The wrong amount, again.");
    st = stats(env, NULL);
    cr_assert_eq(at(st, "disputes.total"), 4);
    cr_assert_eq(at(st, "disputes.by_state.open"), 4);
    cr_assert_eq(at(st, "disputes.resolved"), 0);
    cr_assert(json_is_null(get(st, "disputes.median_days_to_resolve")));
    json_decref(st);
    th_set_day(env, "2027-01-05");
    cr_assert_eq(prb_dispute_resolve(env, d1, "upheld", "Checked with the bank.", NULL, NULL, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2027-01-06");
    /* The furnisher corrects the amount: that resolves d3 as corrected
     * (a furnisher's own "corrected" is refused: dispute.c). */
    (void)d3;
    ingest(env, person_line(buf, sizeof buf, ANNA, "L-1001", "payment_default", "settled",
                            "2025-03-01", "2026-11-20",
                            "{\"amount\":\"1200.00\",\"currency\":"
                            "\"EUR\"}"));
    st = stats(env, NULL);
    cr_assert_eq(at(st, "disputes.by_state.open"), 2);
    cr_assert_eq(at(st, "disputes.by_state.upheld"), 1);
    cr_assert_eq(at(st, "disputes.by_state.corrected"), 1);
    cr_assert_eq(at(st, "disputes.resolved"), 2);
    cr_assert_eq(at(st, "disputes.resolved_by.reviewer"), 1);
    cr_assert_eq(at(st, "disputes.resolved_by.correction"), 1);
    json_t *med = get(st, "disputes.median_days_to_resolve");
    cr_assert(json_is_real(med) && json_real_value(med) == 3.5, "median of 3 and 4");
    json_decref(st);
    th_set_day(env, "2027-01-12");
    cr_assert_eq(prb_dispute_resolve(env, d2, "deleted", NULL, "reviewer", NULL, NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    st = stats(env, NULL);
    cr_assert_eq(at(st, "disputes.by_state.deleted"), 1);
    cr_assert_eq(at(st, "disputes.by_state.open"), 1);
    cr_assert_eq(at(st, "disputes.resolved"), 3);
    cr_assert_eq(at(st, "disputes.resolved_by.reviewer"), 2);
    cr_assert_eq(at(st, "disputes.median_days_to_resolve"), 4);
    /* Boris's default went with the dispute. */
    cr_assert_eq(at(st, "records.by_category.payment_default.total"), 1);
    cr_assert_eq(at(st, "records.total"), 5);
    json_decref(st);

    /* Reviews: Boris asks for one of his refusal; a reviewer upholds it. */
    cr_assert_eq(prb_review_request(env, dec, "The default was paid.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    char rv[64];
    snprintf(rv, sizeof rv, "%.*s-r1", (int)(strchr(dec, '-') - dec), dec);
    cr_assert_eq(prb_review_decide(env, rv, "upheld", "A. Reviewer", "It stands.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    st = stats(env, NULL);
    cr_assert_eq(at(st, "reviews.total"), 1);
    cr_assert_eq(at(st, "reviews.by_state.upheld"), 1);
    cr_assert_eq(at(st, "reviews.by_state.requested"), 0);
    json_decref(st);

    /* 2027-02-02: Acme's entry is active; then the judgment is paid, and
     * the entry is lifted: an exit. */
    th_set_day(env, "2027-02-02");
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    st = stats(env, NULL);
    cr_assert_eq(at(st, "list_entries.debtor_register.active"), 1);
    cr_assert_eq(at(st, "list_entries.debtor_register.exits"), 0);
    json_decref(st);
    decide(env, 2, ACME, tally, NULL, 0);
    snprintf(buf, sizeof buf,
             "{\"furnisher\":\"court-beijing-1\",\"ref\":\"(2025) Jing 0105 Min Chu 77\","
             "\"subject\":{\"kind\":\"company\",\"id\":\"" ACME "\"},\"category\":"
             "\"court_judgment\",\"status\":\"settled\",\"event_date\":\"2025-09-15\","
             "\"settled_date\":\"2027-02-01\",\"legal_basis\":\"Civil Procedure Law art. 255\","
             "\"fields\":{\"amount\":\"98000.00\",\"currency\":\"CNY\",\"court\":\"Beijing "
             "Chaoyang People's Court\",\"case_ref\":\"(2025) Jing 0105 Min Chu 77\"}}\n");
    ingest(env, buf);
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    st = stats(env, &text);
    no_personal_data(text);
    free(text);
    /* Settled, the judgment is past its retention (0 days after). */
    cr_assert_eq(at(st, "records.total"), 4);
    cr_assert_eq(at(st, "records.expired_not_yet_deleted"), 1);
    cr_assert_eq(at(st, "list_entries.debtor_register.lifted"), 1);
    cr_assert_eq(at(st, "list_entries.debtor_register.exits"), 1);
    cr_assert_eq(at(st, "list_entries.debtor_register.entries"), 1);
    decisions_expected(st, tally);
    cr_assert_eq(at(st, "decisions.total"), 8);
    lists_expected(env, st);
    notices_expected(env, st);
    cr_assert_eq(at(st, "notices.by_kind.list_exit.total"), 2);
    cr_assert_eq(at(st, "notices.by_kind.review_outcome.total"), 1);
    cr_assert_eq(at(st, "notices.by_kind.dispute_opened.total"), 4);
    cr_assert_eq(at(st, "notices.by_kind.dispute_outcome.total"), 3);
    json_decref(st);

    /* The disputes the engine lists agree with the statistics' total. */
    char *all = NULL;
    cr_assert_eq(prb_disputes_json(env, 0, &all), PRB_OK);
    json_t *arr = parse(all);
    free(all);
    st = stats(env, NULL);
    cr_assert_eq(at(st, "disputes.total"), (long long)json_array_size(arr));
    json_decref(arr);
    json_decref(st);
    prb_close(env);
    th_rmrf(dir);
}

/* Writes value under key into database name of the register at dir,
 * behind the engine's back. */
static void poke(const char *dir, const char *name, const void *key, size_t kn, const char *value,
                 size_t vn)
{
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(e, 32), 0);
    cr_assert_eq(mdb_env_set_mapsize(e, (size_t)4 << 30), 0);
    cr_assert_eq(mdb_env_open(e, dir, 0, 0644), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, name, 0, &dbi), 0);
    MDB_val k = {kn, (void *)key}, v = {vn, (void *)value};
    cr_assert_eq(mdb_put(t, dbi, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    mdb_env_close(e);
}

/* A stored value the engine did not write is reported, never skipped:
 * a count that silently left it out would be wrong. */
static void malformed(const char *db, const void *key, size_t kn, const char *value, size_t vn,
                      const char *named)
{
    char *dir, reg[600], *json = NULL;
    prb_env *env = th_register(&dir);
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    poke(reg, db, key, kn, value, vn);
    env = NULL;
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_stats_json(env, &json), PRB_ECORRUPT, "%s", db);
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), named), "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

Test(stats, malformed_values_are_errors)
{
    const unsigned char dsp[8] = {0, 0, 0, 0, 1, 0, 0, 1}, one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    const char state_only[] = "{\"state\":\"open\"}";
    malformed("dsp", dsp, sizeof dsp, state_only, sizeof state_only - 1, "dispute 16777217");
    malformed("rvw", dsp, sizeof dsp, "[]", 2, "review 16777217");
    /* A notice: subject 1, then JSON without a kind, or an escaped one. */
    const char nokind[] = "\0\0\0\0\0\0\0\1{\"delivered\":true}";
    malformed("outbox", one, sizeof one, nokind, sizeof nokind - 1, "notice 1");
    const char escaped[] = "\0\0\0\0\0\0\0\1{\"kind\":\"a\\\"b\"}";
    malformed("outbox", one, sizeof one, escaped, sizeof escaped - 1, "notice 1");
    /* An inquiry whose outcome is none of the three: in the log, after
     * whose it is (subject 1, its inquiry 1). */
    const unsigned char log_key[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    char inq[12 + 24] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 6, 9};
    memcpy(inq + 12 + 16, "credit", 6);
    malformed("ilog", log_key, sizeof log_key, inq, 12 + 22, "inquiry of subject 1");
}

static int asked;
static int stop_when(void *ctx)
{
    asked++;
    return *(int *)ctx;
}

/* A server that is stopping need not wait for a walk of the whole
 * register (a second on a million subjects): the walk asks
 * (prb_set_cancel) and stops, with no statistics and no error. */
Test(stats, a_walk_stops_when_asked)
{
    char *dir, *json = NULL;
    prb_env *env = th_register(&dir);
    int stop = 1;
    char *recs = th_slurp("tests/data/good.ndjson");
    cr_assert_not_null(recs);
    ingest(env, recs);
    free(recs);
    prb_set_cancel(env, stop_when, &stop);
    cr_assert_eq(prb_stats_json(env, &json), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_null(json, "statistics made by a walk asked to stop");
    cr_assert_eq(asked, 1);
    stop = 0;
    cr_assert_eq(prb_stats_json(env, &json), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_not_null(json);
    cr_assert_geq(asked, 2, "the walk never asked");
    free(json);
    prb_close(env);
    th_rmrf(dir);
}
