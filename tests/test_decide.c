/*
 * test_decide.c - purpose-bound decisions (DESIGN invariants 3, 4, 9):
 * purpose binding, reasons, the rule, inquiries and notices, and the list
 * state machine walked with the as-of clock.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"
#include "tamper.h"
#include "probity.h"

TestSuite(decide, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"

static void ingest(prb_env *env, const char *text)
{
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

static char *line(char *buf, size_t n, const char *ref, const char *cat, const char *status,
                  const char *event, const char *settled, const char *fields)
{
    snprintf(
        buf, n,
        "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":\"" PERSON
        "\"},\"category\":\"%s\",\"status\":\"%s\",\"event_date\":\"%s\",\"settled_date\":%s%s%s,"
        "\"legal_basis\":\"test\",\"fields\":%s}\n",
        ref, cat, status, event, settled ? "\"" : "", settled ? settled : "null",
        settled ? "\"" : "", fields);
    return buf;
}

static const char *DEFAULT_FIELDS = "{\"amount\":\"500.00\",\"currency\":\"EUR\"}";
static const char *JUDGMENT_FIELDS =
    "{\"amount\":\"900.00\",\"currency\":\"EUR\",\"court\":\"AG\",\"case_ref\":\"1 C 1\"}";

static char *account(char *buf, size_t n, int i, int dpd)
{
    char ref[32], fields[512];
    snprintf(ref, sizeof ref, "ACC-%d", i);
    snprintf(fields, sizeof fields,
             "{\"account_type\":\"revolving\",\"opened_date\":\"2015-01-01\",\"credit_limit\":"
             "\"1000.00\",\"balance\":\"10.00\",\"currency\":\"EUR\",\"worst_dpd\":%d}",
             dpd);
    return line(buf, n, ref, "credit_account", "open", "2026-10-01", NULL, fields);
}

/* The JSON of a decision without the part that differs by construction. */
static char *decision_text(prb_env *env, const char *purpose)
{
    prb_decision *d = NULL;
    const char *json;
    cr_assert_eq(prb_evaluate(env, purpose, PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    char *copy = strdup(json);
    prb_decision_free(d);
    d = NULL;
    return copy;
}

/* Invariant 3: any number of records of a category a purpose may not use
 * leaves that purpose's decisions byte-identical. */
Test(decide, purpose_binding_ignores_other_categories)
{
    char *da, *db, buf[1024];
    prb_env *a = th_register(&da), *b = th_register(&db);
    const char *base[] = {line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-01-10",
                               NULL, DEFAULT_FIELDS)};
    ingest(a, base[0]);
    ingest(b, base[0]);
    /* Credit accounts, late ones too: tenancy may never use them. */
    for (int i = 0; i < 40; i++)
        ingest(b, account(buf, sizeof buf, i, i % 3 ? 0 : 120));
    th_set_day(a, "2027-03-01");
    th_set_day(b, "2027-03-01");
    char *ta = decision_text(a, "tenancy"), *tb = decision_text(b, "tenancy");
    cr_assert_str_eq(ta, tb, "tenancy decision changed by credit accounts");
    char *ca = decision_text(a, "credit"), *cb = decision_text(b, "credit");
    cr_assert_str_neq(ca, cb, "credit may use accounts: its decision should differ");
    free(ta), free(tb), free(ca), free(cb);
    prb_close(a);
    prb_close(b);
    th_rmrf(da);
    th_rmrf(db);
}

/* Invariant 4: an adverse record does not count before its notice period,
 * then does; the decline carries ranked reasons (invariant 9). */
Test(decide, adverse_records_count_after_notice_with_ranked_reasons)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *json;
    ingest(env, line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-01-10", NULL,
                     DEFAULT_FIELDS));
    ingest(env, line(buf, sizeof buf, "D-2", "payment_default", "open", "2026-02-10", NULL,
                     DEFAULT_FIELDS));
    ingest(env, account(buf, sizeof buf, 1, 120));
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    int has;
    double before = prb_decision_score(d, &has);
    cr_assert(has);
    prb_decision_free(d);
    d = NULL;

    th_set_day(env, "2027-01-10"); /* past the 28 days from receipt */
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    double after = prb_decision_score(d, &has);
    cr_assert_lt(after, before, "the defaults should lower the score once in effect");
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    /* D02 (two defaults: 140 below best) ranks above A03 (90+ days: 100). */
    const char *d02 = strstr(json, "\"D02\""), *a03 = strstr(json, "\"A03\"");
    cr_assert(d02 && a03 && d02 < a03, "reasons not ranked: %s", json);
    cr_assert(strstr(json, "\"records_used\""), "%s", json);
    prb_decision_free(d);
    d = NULL;
    prb_close(env);
    th_rmrf(dir);
}

/* The debtor register walked through with the clock: a judgment takes
 * effect after its notice, the entry is noticed, becomes active after the
 * 30-day hearing and declines credit, and is lifted when the debt is paid. */
Test(decide, debtor_register_state_machine)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    uint64_t n;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"members\": []"), "entered during the record's notice: %s", json);
    free(json);

    th_set_day(env, "2026-12-26"); /* judgment effective from 2026-12-25 */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_geq(n, 1);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"noticed\"") && strstr(json, "2027-01-25"), "%s", json);
    free(json);
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK);
    const char *nj;
    prb_decision_json(d, &nj);
    /* The judgment lowers the score, but an entry in its hearing has not
     * taken effect (invariant 4): it decides nothing, and the inquirer is
     * not told of it either, as its own view of the list leaves it out.
     * The decision named it, "state": "noticed", until 2026-11-27. */
    cr_assert(!strstr(nj, "debtor_register"), "%s", nj);
    prb_decision_free(d);
    d = NULL;

    th_set_day(env, "2027-01-25");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK);
    const char *dj;
    prb_decision_json(d, &dj);
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE, "%s", dj);
    cr_assert(strstr(dj, "LIST:debtor_register") && strstr(dj, "\"state\": \"active\""), "%s", dj);
    prb_decision_free(d);
    d = NULL;

    /* Paid: the judgment is settled, which also ends its retention (kept 0
     * days after payment); the correction is accepted all the same. */
    th_set_day(env, "2027-02-02");
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "settled", "2026-11-01",
                     "2027-02-01", JUDGMENT_FIELDS));
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"lifted\"") && strstr(json, "\"ended\": \"2027-02-02\""),
              "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A decision names only the list entries that applied to it, the active
 * ones. It named every entry the subject ever had on a purpose's list,
 * ended ones too: a debtor register entry lifted when the debt was paid,
 * its judgment deleted since, was told to every inquirer for ever
 * (invariants 5 and 6), though nothing may use it. The subject's copy
 * keeps the whole history. */
Test(decide, ended_entries_are_not_told_to_inquirers)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *dj;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2026-12-26");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2027-01-25");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &dj), PRB_OK);
    cr_assert(strstr(dj, "LIST:debtor_register") && strstr(dj, "\"state\": \"active\""), "%s", dj);
    /* Paid: the entry is lifted and the judgment goes (kept 0 days). */
    th_set_day(env, "2027-02-02");
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "settled", "2026-11-01",
                     "2027-02-01", JUDGMENT_FIELDS));
    th_set_day(env, "2027-06-01");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &dj), PRB_OK);
    cr_assert(!strstr(dj, "debtor_register"), "an ended entry told to the inquirer: %s", dj);
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &dj), PRB_OK);
    cr_assert(!strstr(dj, "debtor_register"), "%s", dj);
    prb_decision_free(d);
    /* The subject still sees it, with its dates. */
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *doc = json_loads(json, 0, NULL), *lists = json_object_get(doc, "lists");
    free(json);
    cr_assert_eq(json_array_size(lists), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lists, 0), "state")),
                     "lifted");
    json_decref(doc);
    prb_close(env);
    th_rmrf(dir);
}

/* A list's JSON is written by hand (lists.c): it must read as jansson
 * would write the same values, JSON_INDENT(2). */
static void as_jansson_writes_it(const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    cr_assert_not_null(v, "%s: %s", jerr.text, json);
    char *again = json_dumps(v, JSON_INDENT(2));
    cr_assert_str_eq(json, again);
    free(again);
    json_decref(v);
}

/* An exclusion ground (fraud) reported by the procurement office about
 * the company subject ("\"id\":...", and any aliases), in effect from
 * 2026-12-25. */
static const char *exclusion(char *buf, size_t n, const char *ref, const char *subject)
{
    snprintf(buf, n,
             "{\"furnisher\":\"procurement-office\",\"ref\":\"%s\",\"subject\":{\"kind\":"
             "\"company\",%s},\"category\":\"exclusion_ground\",\"status\":\"open\","
             "\"event_date\":\"2026-11-01\",\"settled_date\":null,\"legal_basis\":\"test\","
             "\"fields\":{\"ground\":\"fraud\"}}\n",
             ref, subject);
    return buf;
}

/* Refreshes the lists when the record is in effect (noticed) and after
 * the 30-day hearing (active), leaving the clock at 2027-01-25. */
static void hearing_over(prb_env *env)
{
    uint64_t n;
    th_set_day(env, "2026-12-26");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    th_set_day(env, "2027-01-25");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
}

/* What the public sees of a public list is its entries in effect: an
 * entry in its hearing period is left out until it is active, while the
 * list's full view (the register's own, a reviewer's) shows it; a
 * purpose-bound list is not the public's at all, and an inquirer sees of
 * it the entries in effect of the kinds its purposes take. */
Test(decide, public_lists_show_entries_in_effect)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    uint64_t n;
    ingest(env, exclusion(buf, sizeof buf, "X-1", "\"id\":\"lei:5493001KJTIIGC8Y1R12\""));
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2026-12-26"); /* both records in effect from 2026-12-25 */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_json(env, NULL, &json), PRB_OK, "%s", prb_errmsg(env));
    as_jansson_writes_it(json);
    cr_assert(strstr(json, "\"list\": \"procurement_exclusion\"") &&
                  strstr(json, "lei:5493001KJTIIGC8Y1R12") && strstr(json, PERSON),
              "%s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, "\"members\": []"), "in its hearing, yet public: %s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "debtor_register", NULL, &json), PRB_ENOTFOUND);
    cr_assert_null(json);
    cr_assert_eq(prb_lists_visible_json(env, NULL, NULL, &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(!strstr(json, "debtor_register") && !strstr(json, PERSON), "%s", json);
    free(json);
    /* A reviewer sees both lists in full, hearings included. */
    cr_assert_eq(prb_lists_visible_json(env, NULL, "*", &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, PERSON) && strstr(json, "\"state\": \"noticed\"") &&
                  strstr(json, "lei:5493001KJTIIGC8Y1R12"),
              "%s", json);
    free(json);
    /* An inquirer for procurement, a purpose about companies, sees no
     * person on the debtor register it serves, and no entry still in its
     * hearing (invariant 4). Before, it saw both: every person on the
     * register, in every state. */
    cr_assert_eq(prb_lists_visible_json(env, NULL, "procurement", &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, "debtor_register") && !strstr(json, PERSON) &&
                  !strstr(json, "\"state\": \"noticed\""),
              "%s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", "procurement", &json),
                 PRB_OK);
    cr_assert(strstr(json, "\"members\": []"), "in its hearing, yet shown: %s", json);
    free(json);
    th_set_day(env, "2027-01-25"); /* after the 30-day hearing */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, "lei:5493001KJTIIGC8Y1R12") && strstr(json, "\"state\": \"active\""),
              "in effect, yet not public: %s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", "procurement", &json),
                 PRB_OK);
    cr_assert(strstr(json, "lei:5493001KJTIIGC8Y1R12"), "%s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "debtor_register", "procurement", &json), PRB_OK);
    cr_assert(!strstr(json, PERSON), "a person shown for a purpose about companies: %s", json);
    free(json);
    /* An inquirer for credit (persons and companies) sees the person. */
    cr_assert_eq(prb_lists_visible_json(env, "debtor_register", "credit", &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, PERSON), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* Tax arrears of company id, furnisher's ref ref, dated 2024-06-01, open
 * or settled on settled. */
static const char *arrears(char *buf, size_t n, const char *ref, const char *id,
                           const char *settled)
{
    snprintf(buf, n,
             "{\"furnisher\":\"tax-office\",\"ref\":\"%s\",\"subject\":{\"kind\":\"company\","
             "\"id\":\"%s\"},\"category\":\"tax_arrears\",\"status\":\"%s\",\"event_date\":"
             "\"2024-06-01\",\"settled_date\":%s%s%s,\"legal_basis\":\"tax code\",\"fields\":{"
             "\"amount\":\"800.00\",\"currency\":\"EUR\"}}\n",
             ref, id, settled ? "settled" : "open", settled ? "\"" : "", settled ? settled : "null",
             settled ? "\"" : "");
    return buf;
}

/* The public list of reliable taxpayers asked only for no tax arrears
 * dated in the last 24 months: arrears unpaid for 29 months put their
 * company on it. Unpaid arrears keep it off, however old; paid ones
 * older than 24 months do not. */
Test(decide, old_unpaid_tax_arrears_keep_a_company_off_the_reliable_list)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    uint64_t n;
    /* Reported late, on 2026-10-01: both take effect on 2026-10-31. */
    th_set_day(env, "2026-10-01");
    ingest(env, arrears(buf, sizeof buf, "T-1", "lei:5493001KJTIIGC8Y1R12", NULL));
    ingest(env, arrears(buf, sizeof buf, "T-2", "cn-uscc:91350100M000100Y43", "2026-01-01"));
    th_set_day(env, TH_TODAY);
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_lists_visible_json(env, "reliable_taxpayer", NULL, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert(!strstr(json, "lei:5493001KJTIIGC8Y1R12"),
              "a company with unpaid tax arrears is published as reliable: %s", json);
    cr_assert(strstr(json, "cn-uscc:91350100M000100Y43"), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A furnisher's own key (ext:BANK:KEY) says who reports on a company and
 * how it files it: the public sees a company by its public identifiers
 * only, on its card and on public lists, and cannot look a card up by
 * such a key; the register's own view still names the key. */
Test(decide, public_views_name_no_furnisher_key)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    ingest(env, exclusion(buf, sizeof buf, "X-2",
                          "\"id\":\"ext:procurement-office:Z-1\",\"aliases\":[\"lei:"
                          "7LTWFZYICNSX8D621K86\"]"));
    /* A company known only by such a key is a member all the same, shown
     * to the public as null (docs/openapi.json ListEntry says so). */
    ingest(env, exclusion(buf, sizeof buf, "X-3", "\"id\":\"ext:procurement-office:Z-2\""));
    hearing_over(env);
    cr_assert_eq(prb_lists_json(env, "procurement_exclusion", &json), PRB_OK);
    cr_assert(strstr(json, "\"subject\": \"ext:procurement-office:Z-1\""), "%s", json);
    cr_assert(strstr(json, "\"subject\": \"ext:procurement-office:Z-2\""), "%s", json);
    free(json);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    as_jansson_writes_it(json);
    cr_assert(strstr(json, "\"subject\": \"lei:7LTWFZYICNSX8D621K86\"") && !strstr(json, "ext:"),
              "%s", json);
    cr_assert(strstr(json, "\"subject\": null"), "%s", json);
    free(json);
    cr_assert_eq(prb_company_card(env, "lei:7LTWFZYICNSX8D621K86", &json), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert(strstr(json, "procurement_exclusion") && !strstr(json, "ext:"), "%s", json);
    free(json);
    cr_assert_eq(prb_company_card(env, "ext:procurement-office:Z-1", &json), PRB_EINVAL);
    cr_assert_null(json);
    cr_assert_eq(prb_company_card(env, "ext:procurement-office:nobody", &json), PRB_EINVAL);
    /* A person's number is refused the same way, as probity.h says: not
     * "not found", which would be an answer about persons. */
    cr_assert_eq(prb_company_card(env, PERSON, &json), PRB_EINVAL);
    cr_assert_null(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A court judgment (of src-a) about the person identified as who says
 * ("\"id\":...", and any aliases): a ground of the debtor register. */
static const char *judgment_of(char *buf, size_t n, const char *ref, const char *who)
{
    snprintf(buf, n,
             "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",%s},"
             "\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":\"2026-11-01\","
             "\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":%s}\n",
             ref, who, JUDGMENT_FIELDS);
    return buf;
}

static uint64_t log_size(prb_env *env)
{
    char *json;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *h = json_loads(json, 0, NULL);
    free(json);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    return n;
}

/* The text of the last notice of kind in ident's copy (NULL if none;
 * free() it), as th_copy_notices counts them. */
static char *copy_notice(prb_env *env, const char *ident, const char *kind, size_t *n,
                         size_t *inquiries)
{
    json_t *last = th_copy_notices(env, ident, kind, n, inquiries);
    char *text = last ? strdup(json_string_value(json_object_get(last, "text"))) : NULL;
    json_decref(last);
    return text;
}

/* Invariants 7 and 8: an inquirer's read of a purpose-bound list is told
 * to every member shown (who, for which purposes, when), in a write
 * logged like any other, and a member is shown by an identifier that is
 * not a furnisher's own key. Before, bank-x read every person on the
 * debtor register with nothing logged and nothing in their copies, and
 * saw a person filed first under src-a's key as that key. */
Test(decide, inquirer_list_read_is_told_to_each_member_shown)
{
    char *dir, buf[1024], *json = NULL, *text;
    prb_env *env = th_register(&dir);
    size_t n, inq;
    ingest(env, judgment_of(buf, sizeof buf, "J-1",
                            "\"id\":\"ext:src-a:P-1\",\"aliases\":[\"" PERSON "\"]"));
    ingest(env, judgment_of(buf, sizeof buf, "J-2", "\"id\":\"cn-rid:11010519780101001X\""));
    ingest(env, exclusion(buf, sizeof buf, "X-1", "\"id\":\"lei:5493001KJTIIGC8Y1R12\""));
    hearing_over(env);
    uint64_t before = log_size(env);
    /* Public lists, read by anyone, inquirers too, write nothing; nor does
     * a page of a purpose-bound list that shows no one (procurement takes
     * companies only). */
    cr_assert_eq(prb_lists_visible_page(env, NULL, NULL, 0, 0, &json), PRB_OK);
    cr_assert(strstr(json, "lei:5493001KJTIIGC8Y1R12"), "%s", json);
    free(json);
    cr_assert_eq(
        prb_lists_read_page(env, "procurement_exclusion", "city-hall", "procurement", 0, 0, &json),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "lei:5493001KJTIIGC8Y1R12"), "%s", json);
    free(json);
    cr_assert_eq(
        prb_lists_read_page(env, "debtor_register", "city-hall", "procurement", 0, 0, &json),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "\"members\": []"), "%s", json);
    free(json);
    cr_assert_eq(log_size(env), before, "a read that showed no one wrote");
    free(copy_notice(env, "lei:5493001KJTIIGC8Y1R12", "list_read", &n, &inq));
    cr_assert_eq(n, 0);
    /* A staff view and bad readers. */
    cr_assert_eq(prb_lists_read_page(env, "debtor_register", "", "credit", 0, 0, &json),
                 PRB_EINVAL);
    cr_assert_eq(prb_lists_read_page(env, "debtor_register", "rita", "*", 0, 0, &json), PRB_EINVAL);
    cr_assert_null(json);

    /* bank-x reads a page of one: the first person only is told. */
    cr_assert_eq(
        prb_lists_read_page(env, "debtor_register", "bank-x", "credit,tenancy", 0, 1, &json),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "\"subject\": \"" PERSON "\"") && !strstr(json, "ext:") &&
                  !strstr(json, "11010519780101001X"),
              "%s", json);
    json_t *page = json_loads(json, 0, NULL);
    free(json);
    char next[32];
    snprintf(next, sizeof next, "%s",
             json_string_value(json_object_get(json_array_get(page, 0), "next")));
    json_decref(page);
    cr_assert_eq(log_size(env), before + 1, "one notice, one leaf");
    text = copy_notice(env, PERSON, "list_read", &n, &inq);
    cr_assert_eq(n, 1);
    cr_assert(text && strstr(text, "bank-x") && strstr(text, "debtor_register") &&
                  strstr(text, "credit, tenancy") && strstr(text, "2027-01-25"),
              "%s", text);
    free(text);
    cr_assert_eq(inq, 0, "a list read is a notice, not an inquiry");
    free(copy_notice(env, "cn-rid:11010519780101001X", "list_read", &n, &inq));
    cr_assert_eq(n, 0, "told of a page it was not on");
    /* The next page tells the second, for credit and tenancy too. */
    cr_assert_eq(prb_lists_read_page(env, "debtor_register", "bank-x", "credit,tenancy",
                                     strtoull(next, NULL, 10), 1, &json),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "11010519780101001X"), "%s", json);
    free(json);
    text = copy_notice(env, "cn-rid:11010519780101001X", "list_read", &n, &inq);
    cr_assert_eq(n, 1);
    free(text);
    cr_assert_eq(log_size(env), before + 2);
    prb_close(env);
    th_rmrf(dir);
}

/* Staff read lists in full (every entry, in any state); a reviewer's,
 * an admin's or the operator's read of a purpose-bound list is told to
 * each member shown like an inquirer's, naming the reader and role.
 * Before, staff reads were plain reads, recorded nowhere. */
Test(decide, staff_list_read_is_told_to_each_member_shown)
{
    char *dir, buf[1024], *json = NULL, *text;
    prb_env *env = th_register(&dir);
    size_t n, inq;
    ingest(env, judgment_of(buf, sizeof buf, "J-1", "\"id\":\"" PERSON "\""));
    ingest(env, exclusion(buf, sizeof buf, "X-1", "\"id\":\"lei:5493001KJTIIGC8Y1R12\""));
    uint64_t changed;
    th_set_day(env, "2026-12-26"); /* the records in effect: the entries noticed */
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK);
    uint64_t before = log_size(env);
    /* A public list writes nothing, whoever reads it. */
    cr_assert_eq(
        prb_lists_staff_page(env, "procurement_exclusion", "rita", PRB_ROLE_REVIEWER, 0, 0, &json),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "lei:5493001KJTIIGC8Y1R12"), "%s", json);
    free(json);
    cr_assert_eq(log_size(env), before);
    /* Bad readers write nothing either. */
    cr_assert_eq(prb_lists_staff_page(env, NULL, "", PRB_ROLE_REVIEWER, 0, 0, &json), PRB_EINVAL);
    cr_assert_eq(prb_lists_staff_page(env, NULL, "bank-x", PRB_ROLE_INQUIRER, 0, 0, &json),
                 PRB_EINVAL);
    cr_assert_null(json);
    cr_assert_eq(log_size(env), before);
    /* The entry is still in its hearing: staff see it, and it is told. */
    cr_assert_eq(
        prb_lists_staff_page(env, "debtor_register", "rita", PRB_ROLE_REVIEWER, 0, 0, &json),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(json, "\"state\": \"noticed\"") && strstr(json, PERSON), "%s", json);
    free(json);
    cr_assert_eq(log_size(env), before + 1, "one notice, one leaf");
    text = copy_notice(env, PERSON, "list_read", &n, &inq);
    cr_assert_eq(n, 1);
    cr_assert(text && strstr(text, "rita, a reviewer of the register") &&
                  strstr(text, "debtor_register") && strstr(text, "2026-12-26"),
              "%s", text);
    free(text);
    cr_assert_eq(inq, 0, "a list read is a notice, not an inquiry");
    /* Every list at once, as the operator: told again. */
    cr_assert_eq(prb_lists_staff_page(env, NULL, "root", 0, 0, 0, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    free(json);
    text = copy_notice(env, PERSON, "list_read", &n, &inq);
    cr_assert_eq(n, 2);
    cr_assert(text && strstr(text, "root, the register's operator, at the command line"), "%s",
              text);
    free(text);
    /* The register's own full read (prb_lists_json) stays a read. */
    before = log_size(env);
    cr_assert_eq(prb_lists_json(env, NULL, &json), PRB_OK);
    free(json);
    cr_assert_eq(log_size(env), before);
    prb_close(env);
    th_rmrf(dir);
}

/* A debarment is not lifted when its criteria stop (procurement_exclusion
 * does not leave when they do), but it rests on records: disputed, they
 * may not be used, so the entry ends (invariant 5), as it does when they
 * are deleted (invariant 6). Before, it stayed on the public list for its
 * five years whatever became of its record. */
Test(decide, debarment_ends_with_its_records)
{
    char *dir, buf[1024], *json = NULL;
    prb_env *env = th_register(&dir);
    uint64_t n;
    ingest(env, exclusion(buf, sizeof buf, "X-3", "\"id\":\"lei:7LTWFZYICNSX8D621K86\""));
    hearing_over(env);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    cr_assert(strstr(json, "lei:7LTWFZYICNSX8D621K86"), "not yet in effect: %s", json);
    free(json);
    /* Past its five years the entry has expired, before any refresh has
     * said so: read as active, it stayed on the public list until the
     * next sweep. */
    th_set_day(env, "2032-03-01");
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    cr_assert(!strstr(json, "lei:7LTWFZYICNSX8D621K86"), "past its duration: %s", json);
    free(json);
    th_set_day(env, "2027-01-25");
    cr_assert_eq(prb_dispute_open(env, "lei:7LTWFZYICNSX8D621K86", "1-1", "not us", &json), PRB_OK,
                 "%s", prb_errmsg(env));
    free(json);
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    cr_assert(!strstr(json, "lei:7LTWFZYICNSX8D621K86"), "in effect on a disputed record: %s",
              json);
    free(json);
    cr_assert_eq(prb_lists_json(env, "procurement_exclusion", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"lifted\""), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A decision a list decided names the records the entry rests on among
 * those it used (invariants 8 and 9). Records used came from the
 * scorecard's features alone, and procurement has no scorecard: a
 * company declined with LIST:procurement_exclusion was told, and its
 * stored inquiry said, that no record was used. */
Test(decide, a_list_decision_names_the_records_it_rests_on)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *co = "lei:7LTWFZYICNSX8D621K86";
    ingest(env, exclusion(buf, sizeof buf, "X-4", "\"id\":\"lei:7LTWFZYICNSX8D621K86\""));
    hearing_over(env);
    cr_assert_eq(prb_decide(env, "procurement", co, "city-hall", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    prb_decision_free(d);
    /* What the subject sees of the inquiry. */
    json_t *a = th_inquiries(env, co), *q = json_array_get(a, 0);
    json_t *why = json_array_get(json_object_get(q, "reasons"), 0);
    json_t *used = json_object_get(q, "records_used");
    cr_assert_str_eq(json_string_value(json_object_get(why, "code")), "LIST:procurement_exclusion");
    cr_assert_eq(json_array_size(used), 1, "records used: %zu", json_array_size(used));
    cr_assert_str_eq(json_string_value(json_array_get(used, 0)), "1-1");
    json_decref(a);
    prb_close(env);
    th_rmrf(dir);
}

static const char *exclusion_of(char *buf, size_t n, const char *ref, const char *id,
                                const char *day, const char *ground)
{
    snprintf(buf, n,
             "{\"furnisher\":\"procurement-office\",\"ref\":\"%s\",\"subject\":{\"kind\":"
             "\"company\",\"id\":\"%s\"},\"category\":\"exclusion_ground\",\"status\":\"open\","
             "\"event_date\":\"%s\",\"settled_date\":null,\"legal_basis\":\"test\","
             "\"fields\":{\"ground\":\"%s\"}}\n",
             ref, id, day, ground);
    return buf;
}

/* The state and ground of a subject's latest entry on procurement_exclusion,
 * from the list's full view. */
static void latest_entry(prb_env *env, const char *id, char *state, char *ground)
{
    char *json = NULL;
    json_t *o, *m;
    size_t i;
    state[0] = ground[0] = 0;
    cr_assert_eq(prb_lists_json(env, "procurement_exclusion", &json), PRB_OK);
    o = json_loads(json, 0, NULL);
    free(json);
    json_array_foreach(json_object_get(json_array_get(o, 0), "members"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "subject")), id))
            continue;
        strcpy(state, json_string_value(json_object_get(m, "state")));
        strcpy(ground, json_string_value(json_object_get(m, "ground")));
    }
    json_decref(o);
}

/* A debarment rests on the records of its own ground. Any record of the
 * list's categories kept it going: an old exclusion on another ground,
 * outside that ground's window, kept a fraud debarment in force (public
 * list, procurement decisions) while the fraud record was disputed; and
 * where another ground holds now, the entry kept the disputed ground and
 * its five years. It ends; an entry on the ground that holds starts with
 * its own hearing. */
Test(decide, a_debarment_rests_on_its_own_grounds_records)
{
    char *dir, buf[1024], *json = NULL, state[32], ground[64];
    prb_env *env = th_register(&dir);
    uint64_t n;
    const char *a = "lei:7LTWFZYICNSX8D621K86", *b = "cn-uscc:91350100M000100Y43";
    ingest(env, exclusion_of(buf, sizeof buf, "F-1", a, "2026-11-01", "fraud"));
    ingest(env, exclusion_of(buf, sizeof buf, "O-1", a, "2023-06-01", "other"));
    ingest(env, exclusion_of(buf, sizeof buf, "F-2", b, "2026-11-01", "fraud"));
    ingest(env, exclusion_of(buf, sizeof buf, "T-2", b, "2026-10-01", "tax_evasion"));
    hearing_over(env);
    latest_entry(env, a, state, ground);
    cr_assert_str_eq(state, "active");
    cr_assert_str_eq(ground, "fraud_or_corruption");
    latest_entry(env, b, state, ground);
    cr_assert_str_eq(state, "active");
    cr_assert_str_eq(ground, "fraud_or_corruption");

    cr_assert_eq(prb_dispute_open(env, a, "1-1", "not us", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_dispute_open(env, b, "2-1", "not us", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    latest_entry(env, a, state, ground);
    cr_assert_str_eq(state, "lifted", "in force on a disputed record (ground %s)", ground);
    latest_entry(env, b, state, ground);
    cr_assert_str_eq(state, "noticed");
    cr_assert_str_eq(ground, "other_ground");
    cr_assert_eq(prb_lists_visible_json(env, "procurement_exclusion", NULL, &json), PRB_OK);
    cr_assert(!strstr(json, a) && !strstr(json, b), "%s", json);
    free(json);
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "procurement", a, "city-hall", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_neq(prb_decision_outcome(d), PRB_DECLINE);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* The maximum duration: an entry expires even while the debt is unpaid,
 * and is not made again while the same grounds hold; once they have
 * stopped and hold again, a new entry is made. The debtor register here
 * lasts 100 days, so its limit comes before the judgment's retention. */
Test(decide, list_entry_expires_at_maximum_duration)
{
    char *dir = th_tmpdir(), polpath[600], regpath[600], src[512], buf[1024], *json = NULL;
    uint64_t n;
    int64_t now;
    json_error_t jerr;
    json_t *pol = json_load_file(th_path(src, sizeof src, "policy/default.json"), 0, &jerr);
    cr_assert_not_null(pol, "%s", jerr.text);
    json_t *ground = json_object_get(
        json_object_get(
            json_object_get(json_object_get(json_object_get(pol, "lists"), "debtor_register"),
                            "grounds"),
            "unpaid_judgment"),
        "max_days");
    cr_assert_not_null(ground);
    json_integer_set(ground, 100);
    snprintf(polpath, sizeof polpath, "%s/short.json", dir);
    snprintf(regpath, sizeof regpath, "%s/reg", dir);
    cr_assert_eq(json_dump_file(pol, polpath, 0), 0);
    json_decref(pol);
    prb_env *env = NULL;
    cr_assert_eq(prb_init(regpath, polpath, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2026-12-26");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    th_set_day(env, "2027-05-04"); /* active 2027-01-25 + 100 days = 2027-05-05 */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"active\"") && strstr(json, "\"until\": \"2027-05-05\""),
              "%s", json);
    free(json);
    th_set_day(env, "2027-05-05");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(n, 1, "the exit should send one notice");
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"expired\"") && strstr(json, "\"ended\": \"2027-05-05\""),
              "%s", json);
    free(json);
    /* Still unpaid: no new entry while the same grounds hold. */
    th_set_day(env, "2027-06-01");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(n, 0);
    /* Paid, then a new unpaid judgment: the grounds stopped and hold again. */
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "settled", "2026-11-01",
                     "2027-06-01", JUDGMENT_FIELDS));
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    ingest(env, line(buf, sizeof buf, "J-2", "court_judgment", "open", "2027-06-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2027-07-02");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"state\": \"noticed\"") && strstr(json, "\"state\": \"expired\""),
              "%s", json);
    free(json);
    /* A page of one member holds both of the subject's entries: the next
     * page starts past the subject, and there is none. */
    cr_assert_eq(prb_lists_visible_page(env, "debtor_register", "*", 0, 1, &json), PRB_OK);
    json_t *page = json_loads(json, 0, NULL);
    json_t *l0 = json_array_get(page, 0);
    cr_assert_eq(json_array_size(json_object_get(l0, "members")), 2, "%s", json);
    cr_assert_null(json_object_get(l0, "next"), "%s", json);
    json_decref(page);
    free(json);
    /* The subject's copy shows both entries, the ended one first; the
     * letter introduces the list once and tells both. */
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *doc = json_loads(json, 0, NULL), *lists = json_object_get(doc, "lists");
    free(json);
    cr_assert_eq(json_array_size(lists), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lists, 0), "state")),
                     "expired");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lists, 0), "ended")),
                     "2027-05-05");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lists, 1), "state")),
                     "noticed");
    json_decref(doc);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &json), PRB_OK);
    char *first = strstr(json, "The list debtor");
    cr_assert(first && !strstr(first + 1, "The list debtor"), "%s", json);
    cr_assert(strstr(json, "That entry ended on") && strstr(json, "You are to be put on it"), "%s",
              json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

Test(decide, inquiries_are_stored_and_counted)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *json;
    ingest(env, account(buf, sizeof buf, 1, 0));
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK);
        cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
        char want[64];
        snprintf(want, sizeof want, "\"decision\": \"1-q%d\"", i + 1);
        cr_assert(strstr(json, want), "%s", json);
        if (i == 4)
            cr_assert(strstr(json, "\"Q02\""), "four earlier inquiries not counted: %s", json);
        prb_decision_free(d);
        d = NULL;
    }
    prb_close(env);
    th_rmrf(dir);
}

/* On a past as-of day (probity score --as-of) the register knows only
 * what it knew then: inquiries made later did not count (the month
 * between clamped to 0, inside every window), nor did a record it
 * received later with an earlier event date. */
Test(decide, a_past_day_knows_nothing_that_came_after_it)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *json;
    ingest(env, line(buf, sizeof buf, "ACC-1", "credit_account", "open", "2026-05-01", NULL,
                     "{\"account_type\":\"revolving\",\"opened_date\":\"2015-01-01\","
                     "\"credit_limit\":\"1000.00\",\"balance\":\"10.00\",\"currency\":"
                     "\"EUR\",\"worst_dpd\":0}"));
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK);
        prb_decision_free(d);
        d = NULL;
    }
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert(strstr(json, "\"Q02\"") && strstr(json, "\"1-1\""), "today: %s", json);
    prb_decision_free(d);
    d = NULL;
    th_set_day(env, "2026-06-01");
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert_null(strstr(json, "\"Q02\""), "later inquiries counted: %s", json);
    cr_assert_null(strstr(json, "\"1-1\""), "a record received later was used: %s", json);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

Test(decide, errors)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    ingest(env, account(buf, sizeof buf, 1, 0));
    cr_assert_eq(prb_decide(env, "dating", PERSON, "x", &d), PRB_ENOTFOUND);
    cr_assert(strstr(prb_errmsg(env), "purpose 'dating' is not in the policy"));
    prb_decision_free(d);
    d = NULL;
    /* A person asked about for a purpose about companies is answered as
     * one that is not there, in the same words: told apart, the answers
     * said which identifiers are persons in the register, and nothing is
     * stored for anyone to see. */
    char there[512], absent[512];
    cr_assert_eq(prb_decide(env, "procurement", PERSON, "x", &d), PRB_ENOTFOUND);
    snprintf(there, sizeof there, "%s", strchr(prb_errmsg(env), ' '));
    prb_decision_free(d);
    d = NULL;
    cr_assert_eq(prb_decide(env, "procurement", "cn-rid:440304200002291236", "x", &d),
                 PRB_ENOTFOUND);
    snprintf(absent, sizeof absent, "%s", strchr(prb_errmsg(env), ' '));
    cr_assert_str_eq(there, absent);
    cr_assert(strstr(there, "no company has this identifier (this purpose takes inquiries about "
                            "companies only)"),
              "%s", there);
    prb_decision_free(d);
    d = NULL;
    cr_assert_eq(prb_decide(env, "credit", "cn-rid:440304200002291236", "x", &d), PRB_ENOTFOUND);
    prb_decision_free(d);
    d = NULL;
    prb_close(env);
    th_rmrf(dir);
}

/* A requester is a name as a key's is (the server's requesters are its
 * keys' names), for every caller: one empty, or with a line break, was
 * stored and written into the subject's notice and letter. NULL is a
 * library caller's inquiry with no requester. Nothing is stored for a
 * refused one, in a batch neither. */
Test(decide, a_requester_is_a_name_as_a_keys_is)
{
    static const char *const bad[] = {
        "",
        "bank b",
        "bank-b\n\nNobody else has asked about you.",
        "bank,b",
        "bank\"b",
        "bank\\b",
        "bank\x7f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    prb_inquiry q;
    ingest(env, account(buf, sizeof buf, 1, 0));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(prb_decide(env, "credit", PERSON, bad[i], &d), PRB_EINVAL, "'%s'", bad[i]);
        cr_assert(
            strstr(prb_errmsg(env), "requester: must be a key's name: 1 to 64 printable ASCII"),
            "%s", prb_errmsg(env));
        cr_assert_eq(prb_decide_prepare(env, "credit", PERSON, bad[i], &d), PRB_EINVAL, "'%s'",
                     bad[i]);
        memset(&q, 0, sizeof q);
        q.purpose = "credit";
        q.identifier = PERSON;
        q.requester = bad[i];
        q.idem = "order-1";
        cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK, "%s", prb_errmsg(env));
        cr_assert_eq(q.rc, PRB_EINVAL, "'%s'", bad[i]);
        cr_assert(strstr(q.errmsg, "requester: must be a key's name"), "%s", q.errmsg);
        prb_decision_free(q.decision);
    }
    cr_assert_eq(th_ninquiries(env, PERSON), 0);
    cr_assert_eq(prb_decide(env, "credit", PERSON, NULL, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decide(env, "credit", PERSON, "key-0123456789abcdef", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(th_ninquiries(env, PERSON), 2);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* Batch scoring gives the same outcome as one decision. */
Test(decide, score_all_matches_evaluate)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    ingest(env, line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-01-10", NULL,
                     DEFAULT_FIELDS));
    ingest(env, account(buf, sizeof buf, 1, 60));
    th_set_day(env, "2027-01-10");
    char out[4096] = "";
    uint64_t n = 0;
    int append(void *ctx, const char *b, size_t len);
    cr_assert_eq(prb_score_all(env, "credit", 2, append, out, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(n, 1);
    prb_decision *d = NULL;
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK);
    const char *names[] = {"?", "approve", "refer", "decline"};
    char want[64];
    snprintf(want, sizeof want, "\"outcome\":\"%s\"", names[prb_decision_outcome(d)]);
    cr_assert(strstr(out, want), "%s vs %s", out, want);
    prb_decision_free(d);
    d = NULL;
    prb_close(env);
    th_rmrf(dir);
}

/* A what-if (prb_evaluate, and so the subject's copy) and a batch score
 * see each list entry as a refresh would leave it, as prb_decide does
 * after its own refresh. They read the stored entries as they stood, and
 * an entry ends by a refresh: its judgment past retention (2029-10-31)
 * still declined credit with LIST:debtor_register in the what-if, the
 * copy and `probity score` until the next sweep, while an inquiry lifted
 * the entry and approved (invariants 5 and 6). */
Test(decide, what_ifs_see_entries_as_a_refresh_leaves_them)
{
    char *dir, buf[1024], *json = NULL, out[4096] = "";
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *dj;
    uint64_t n;
    int append(void *ctx, const char *b, size_t len);
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    ingest(env, account(buf, sizeof buf, 1, 0));
    hearing_over(env); /* active 2027-01-25 to 2030-01-24 */
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    cr_assert_eq(prb_score_all(env, "credit", 1, append, out, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(out, "\"LIST:debtor_register\""), "%s", out);

    th_set_day(env, "2029-11-15"); /* the judgment has expired; no sweep yet */
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    int what_if = prb_decision_outcome(d);
    cr_assert_eq(prb_decision_json(d, &dj), PRB_OK);
    cr_assert(!strstr(dj, "LIST:") && !strstr(dj, "debtor_register"), "%s", dj);
    out[0] = 0;
    cr_assert_eq(prb_score_all(env, "credit", 1, append, out, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(!strstr(out, "LIST:"), "%s", out);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *doc = json_loads(json, 0, NULL);
    free(json);
    json = json_dumps(json_object_get(doc, "decisions"), 0);
    cr_assert(!strstr(json, "LIST:"), "%s", json);
    free(json);
    json_decref(doc);
    /* Nothing was written: the stored entry is still open. */
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(strstr(json, "\"ended\": null"), "%s", json);
    free(json);

    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_APPROVE);
    cr_assert_eq(what_if, PRB_APPROVE, "the what-if differs from the decision");
    cr_assert(strstr(out, "\"outcome\":\"approve\""), "%s", out);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

int append(void *ctx, const char *b, size_t len)
{
    size_t have = strlen(ctx);
    if (have + len >= 4096)
        return -1;
    memcpy((char *)ctx + have, b, len);
    ((char *)ctx)[have + len] = 0;
    return 0;
}

/* A handle passed back in is reused and gives the same answer. */
Test(decide, reused_handle_gives_the_same_decision)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *json;
    ingest(env, account(buf, sizeof buf, 1, 60));
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    char *first = strdup(json);
    prb_decision *same = d;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK);
        cr_assert_eq(d, same, "the handle was not reused");
        cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
        cr_assert_str_eq(json, first);
    }
    cr_assert_eq(prb_evaluate(env, "tenancy", PERSON, &d), PRB_OK);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert(strstr(json, "\"purpose\": \"tenancy\""), "%s", json);
    free(first);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* A handle kept for reuse (the server keeps 256 spare ones) gives back
 * what a large subject made it grow to, and stays fit for use: it kept
 * its largest file, array of records used and stored form until the
 * process ended, some 60 MB a handle for a subject of 100,000 record
 * versions. An ordinary subject's buffers stay, for the next call. */
Test(decide, a_trimmed_handle_gives_back_what_a_large_subject_took)
{
    enum { N = 5000 };
    const char *small = "cn-rid:110105198001010016", *json;
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    char *text = calloc(N, 600);
    cr_assert_not_null(text);
    for (size_t i = 0, len = 0; i < N; i++) {
        account(buf, sizeof buf, (int)i, 0);
        memcpy(text + len, buf, strlen(buf) + 1);
        len += strlen(buf);
    }
    ingest(env, text);
    free(text);
    ingest(env, th_account(buf, sizeof buf, small, "S-1"));
    char *want_big = decision_text(env, "credit");
    prb_decision *d = NULL, *fresh = NULL;
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    size_t big = prb_decision_held(d);
    cr_assert_gt(big, (size_t)2 << 20, "a file of %d records took only %zu bytes", N, big);
    prb_decision_trim(d);
    size_t kept = prb_decision_held(d);
    cr_assert_lt(kept, (size_t)128 << 10, "%zu of %zu bytes kept", kept, big);

    /* Still a handle: for a small subject, as a fresh one decides. */
    cr_assert_eq(prb_evaluate(env, "credit", small, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_evaluate(env, "credit", small, &fresh), PRB_OK, "%s", prb_errmsg(env));
    const char *want;
    cr_assert_eq(prb_decision_json(fresh, &want), PRB_OK);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert_str_eq(json, want);
    /* An ordinary subject's buffers are kept: only the answer goes. */
    const char *compact;
    cr_assert_eq(prb_decision_json_compact(d, &compact), PRB_OK);
    size_t before = prb_decision_held(d) - (strlen(json) + 1) - (strlen(compact) + 1);
    prb_decision_trim(d);
    cr_assert_eq(prb_decision_held(d), before);
    /* And for the large one again. */
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert_str_eq(json, want_big);
    free(want_big);
    prb_decision_free(fresh);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* The stored (compact) form is written by hand (jsonout.c): it must be
 * what jansson writes of the same document, with a list's reason, the
 * scorecard's reasons and their values, and the indented form must say
 * the same. */
Test(decide, stored_json_is_what_jansson_writes)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    const char *cj, *ij;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    ingest(env, line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-10-01", NULL,
                     DEFAULT_FIELDS));
    ingest(env, account(buf, sizeof buf, 1, 60));
    const char *days[] = {"2026-10-02", "2026-12-26", "2027-01-25"};
    int saw_list = 0, saw_value = 0;
    for (size_t i = 0; i < 3; i++) {
        th_set_day(env, days[i]);
        uint64_t n;
        cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(prb_decision_json_compact(d, &cj), PRB_OK);
        json_error_t e;
        json_t *o = json_loads(cj, 0, &e);
        cr_assert(o, "%s: %s", cj, e.text);
        char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
        char *indented = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        cr_assert_str_eq(cj, want);
        cr_assert_eq(prb_decision_json(d, &ij), PRB_OK);
        cr_assert_str_eq(ij, indented);
        cr_assert_str_eq(json_string_value(json_object_get(o, "requester")), "bank-x");
        saw_list |= strstr(cj, "\"code\":\"LIST:debtor_register\"") != NULL;
        saw_value |= strstr(cj, "\"value\":") && !strstr(cj, "\"value\":null,\"points");
        json_decref(o);
        free(want);
        free(indented);
    }
    cr_assert(saw_list && saw_value, "the decisions had no list reason or no reason's value");
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* The inquiries features count what falls in their window for their
 * purposes, working the window out once a day: the same counts as
 * asking of every inquiry, over many days, purposes and window edges. */
Test(decide, inquiry_counts_over_many_days_and_purposes)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_file *f = NULL;
    ingest(env, account(buf, sizeof buf, 1, 0));
    cr_assert_eq(prb_subject_read(env, PERSON, &f), PRB_OK, "%s", prb_errmsg(env));
    const prb_policy *p = prb_env_policy(env);
    int feat = prb_policy_feature(p, "credit_inquiries_6m");
    int credit = prb_policy_purpose(p, "credit"), tenancy = prb_policy_purpose(p, "tenancy");
    cr_assert(feat >= 0 && credit >= 0 && tenancy >= 0);
    int32_t today = prb_today(env);
    prb_inq inq[300];
    size_t n = 0;
    uint32_t seed = 7;
    /* Oldest first, as they are read: runs of days, some far back. */
    for (int32_t day = today - 400; day <= today && n < 300; day += (int32_t)(seed % 9)) {
        for (uint32_t k = 0; k < 1 + seed % 4 && n < 300; k++) {
            seed = seed * 1103515245u + 12345u;
            inq[n].day = day;
            inq[n].purpose = seed >> 16 & 1 ? credit : seed >> 17 & 1 ? tenancy : -1;
            n++;
        }
    }
    unsigned want = 0;
    for (size_t q = 0; q < n; q++)
        want += inq[q].purpose == credit &&
                prb_months_between(inq[q].day, today) < p->features[feat].window_months;
    cr_assert_gt(want, 0);
    cr_assert_lt(want, n);
    prb_value *vals = calloc(p->nfeatures, sizeof *vals);
    prb_features(p, ~(uint64_t)0, f, inq, n, today, NULL, vals, NULL);
    cr_assert(vals[feat].present);
    cr_assert_eq((unsigned)vals[feat].num, want, "%g against %u of %zu", vals[feat].num, want, n);
    free(vals);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------- invariant 9, no reason */

static json_t *tenancy(json_t *root)
{
    return json_object_get(json_object_get(root, "purposes"), "tenancy");
}

/* tenancy_check's defaults_open has no bin for a missing value. */
static void no_bin_for_missing(json_t *root)
{
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(c, "bins",
                        json_pack("[{s:i, s:i, s:s, s:s}]", "min", 1, "points", -40, "reason",
                                  "D01", "text", "An unsettled payment default"));
}

/* A threshold above the best score tenancy_check can give (600). */
static void threshold_above_best(json_t *root)
{
    json_array_insert_new(json_object_get(tenancy(root), "rule"), 1,
                          json_pack("{s:i, s:s}", "if_score_below", 700, "outcome", "refer"));
}

/* A rule that refers everyone its list does not approve. */
static void refer_by_default(json_t *root)
{
    json_object_set_new(tenancy(root), "rule", json_pack("[{s:s}]", "outcome", "refer"));
}

/* The decision's reasons, and the line batch scoring writes. */
static json_t *tenancy_reasons(prb_env *env, char *line, size_t n)
{
    prb_decision *d = NULL;
    const char *json;
    uint64_t count = 0;
    cr_assert_eq(prb_evaluate(env, "tenancy", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_REFER);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    json_t *o = json_loads(json, 0, NULL), *r = json_incref(json_object_get(o, "reasons"));
    json_decref(o);
    prb_decision_free(d);
    line[0] = 0;
    cr_assert(n >= 4096);
    cr_assert_eq(prb_score_all(env, "tenancy", 1, append, line, &count), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(count, 1);
    return r;
}

/* Invariant 9: an adverse outcome that neither a list nor a bin that lost
 * points explains still carries a reason: which feature could not be
 * scored, which threshold the score fell below, or the rule's step. The
 * subject's letter prints each reason's text. */
Test(decide, every_adverse_outcome_has_a_reason)
{
    const struct {
        void (*edit)(json_t *);
        const char *code, *feature, *text;
    } cases[] = {
        {no_bin_for_missing, "NO_SCORE", "defaults_open",
         "No score could be made: defaults_open has no value (no record gives it one) and "
         "scorecard tenancy_check has no bin for a missing value, so the answer is 'refer'"},
        {threshold_above_best, "SCORE_BELOW", NULL,
         "The score 600 is below 700, under which the rule for tenancy answers 'refer'"},
        {refer_by_default, "RULE", NULL,
         "The rule for tenancy answers 'refer' when none of its earlier steps applies"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir, buf[1024], line[4096], want[64];
        prb_env *env = th_register_edited(cases[i].edit, &dir);
        ingest(env, account(buf, sizeof buf, 1, 0)); /* tenancy reads no account */
        json_t *r = tenancy_reasons(env, line, sizeof line);
        cr_assert_eq(json_array_size(r), 1, "case %zu: %s", i, json_dumps(r, 0));
        json_t *first = json_array_get(r, 0);
        cr_expect_str_eq(json_string_value(json_object_get(first, "code")), cases[i].code,
                         "case %zu", i);
        cr_expect_str_eq(json_string_value(json_object_get(first, "text")), cases[i].text,
                         "case %zu", i);
        if (cases[i].feature)
            cr_expect_str_eq(json_string_value(json_object_get(first, "feature")), cases[i].feature,
                             "case %zu", i);
        else
            cr_expect(json_is_null(json_object_get(first, "feature")), "case %zu", i);
        snprintf(want, sizeof want, "\"reasons\":[\"%s\"]", cases[i].code);
        cr_expect(strstr(line, want), "case %zu: %s", i, line);
        json_decref(r);
        prb_close(env);
        th_rmrf(dir);
    }
}

/* ------------------------------------------- batch scoring's longest line */

/* 62 letters after the first: the longest name the loader takes. */
#define NAME63 "x23456789012345678901234567890123456789012345678901234567890123"
#define LIST63 "l23456789012345678901234567890123456789012345678901234567890123"
#define CODE32(c) c "2345678901234567890123456789012"

/* A purpose of the longest name whose every adverse answer carries the
 * longest reasons: a list of the longest name decides, three 32-letter
 * codes follow, and the score prints as 17 characters (every digit of
 * an exact score is printed). */
static void longest_line(json_t *root)
{
    json_t *cat = json_object_get(json_object_get(root, "categories"), "payment_default");
    json_array_append_new(json_object_get(cat, "purposes"), json_string(NAME63));
    json_object_set_new(json_object_get(root, "purposes"), NAME63,
                        json_pack("{s:[s], s:s, s:[s], s:[{s:s, s:s}, {s:s}]}", "subject_kinds",
                                  "person", "scorecard", "long", "lists", LIST63, "rule",
                                  "if_listed", LIST63, "outcome", "decline", "outcome", "approve"));
    json_t *chars = json_array();
    const char *codes[] = {CODE32("A"), CODE32("B"), CODE32("C")};
    for (int i = 0; i < 3; i++)
        json_array_append_new(chars,
                              json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                        "feature", "defaults_open", "bins", "missing", 1, "points",
                                        100, "reason", "NONE", "text", "No default", "otherwise", 1,
                                        "points", 0, "reason", codes[i], "text", "A default"));
    json_object_set_new(
        json_object_get(root, "scorecards"), "long",
        json_pack("{s:f, s:o}", "base_score", -999999999.999999, "characteristics", chars));
    json_object_set_new(json_object_get(root, "lists"), LIST63,
                        json_pack("{s:s, s:[s], s:{s:{s:{s:{s:i}}, s:i}}, s:i, s:s, s:[s]}", "type",
                                  "red", "subject_kinds", "person", "grounds", "g", "criteria",
                                  "defaults_open", "min", 1, "max_days", 365, "hearing_days", 0,
                                  "publication", "purpose", "purposes", NAME63));
}

static int collect(void *ctx, const char *b, size_t len)
{
    struct th_buf {
        char *p;
        size_t n;
    } *o = ctx;
    char *m = realloc(o->p, o->n + len + 1);
    if (!m)
        return -1;
    memcpy(m + o->n, b, len);
    o->p = m;
    o->n += len;
    o->p[o->n] = 0;
    return 0;
}

static void person_line(char *buf, size_t n, const char *who, const char *ref, const char *cat)
{
    if (!strcmp(cat, "payment_default"))
        snprintf(buf, n,
                 "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\","
                 "\"id\":\"%s\"},\"category\":\"payment_default\",\"status\":\"open\","
                 "\"event_date\":\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"test\","
                 "\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n",
                 ref, who);
    else
        th_account(buf, n, who, ref);
}

/* An ext: identifier of exactly len bytes. */
static char *ext_id(char *buf, size_t len, int i)
{
    int k = snprintf(buf, len + 1, "ext:src-a:%d-", i); /* buf + 10 is unique: a ref */
    for (size_t j = (size_t)k; j < len; j++)
        buf[j] = 'k';
    buf[len] = 0;
    return buf;
}

/* The line of `probity score` was reserved as 256 bytes and the
 * identifier's length, and its longest form is a few bytes more: placed
 * at the end of a chunk's buffer (64 KiB), it wrote past it (AddressSanitizer
 * sees the write). Filler subjects put it there. */
Test(decide, score_line_of_the_longest_kind_fits)
{
    struct {
        char *p;
        size_t n;
    } out = {NULL, 0};
    char *dir, buf[2048], id[256], heavy[256];
    prb_env *env = th_register_edited(longest_line, &dir);
    uint64_t count;
    const size_t fid = 130, hid = 40; /* ext: keys are at most 128 bytes */
    /* Fillers first, to measure a filler's line. */
    size_t nf = 150;
    char *batch = calloc(nf, 1024);
    for (size_t i = 0; i < nf; i++) {
        person_line(buf, sizeof buf, ext_id(id, fid, (int)i), id + 10, "credit_account");
        strcat(batch, buf);
    }
    ingest(env, batch);
    cr_assert_eq(prb_score_all(env, NAME63, 1, collect, &out, &count), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(count, nf);
    size_t per = out.n / nf, overhead = per - fid;
    /* The heavy line must start where 320 + its id's length still fits in
     * 64 KiB but its own length does not. */
    size_t target = 65536 - 320 - hid - 2;
    size_t rest = target - out.n; /* made of whole filler lines, then three pads */
    size_t more = (rest - 3 * (overhead + 20)) / per;
    batch[0] = 0;
    for (size_t i = 0; i < more; i++) {
        person_line(buf, sizeof buf, ext_id(id, fid, (int)(nf + i)), id + 10, "credit_account");
        strcat(batch, buf);
    }
    rest -= more * per;
    for (int k = 0; k < 3; k++) {
        size_t pad = (k < 2 ? rest / 3 : rest - 2 * (rest / 3)) - overhead;
        cr_assert(pad >= 20 && pad <= 138, "test bug: a pad of %zu", pad);
        person_line(buf, sizeof buf, ext_id(id, pad, 9001 + k), id + 10, "credit_account");
        strcat(batch, buf);
    }
    person_line(buf, sizeof buf, ext_id(heavy, hid, 9003), "D-1", "payment_default");
    strcat(batch, buf);
    ingest(env, batch);
    free(batch);
    th_set_day(env, "2027-01-10"); /* the default is in effect */
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, NAME63, heavy, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    prb_decision_free(d);
    out.n = 0;
    cr_assert_eq(prb_score_all(env, NAME63, 1, collect, &out, &count), PRB_OK, "%s",
                 prb_errmsg(env));
    const char *last = strstr(out.p, heavy);
    cr_assert_not_null(last);
    while (last > out.p && last[-1] != '\n')
        last--;
    size_t at = (size_t)(last - out.p), len = strlen(last);
    cr_assert(at + 320 + hid <= 65536 && at + len + 1 > 65536,
              "test bug: the line is at %zu, %zu long", at, len);
    cr_assert(strstr(last, "\"score\":-999999999.999999,\"reasons\":[\"LIST:" LIST63
                           "\",\"" CODE32("A") "\",\"" CODE32("B") "\",\"" CODE32("C") "\"]}"),
              "%s", last);
    free(out.p);
    prb_close(env);
    th_rmrf(dir);
}

/* ----------------------------------------------------- exact amounts */

/* tenancy_check's first characteristic reads the open defaults' sum in
 * euros, with a bin on each side of 5,000. */
static void open_debt_in_euros(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "open_debt_eur",
                        json_pack("{s:s, s:s, s:[s], s:[s], s:s, s:{s:{s:[s]}}}", "description",
                                  "Unsettled payment defaults, in euros.", "kind", "sum",
                                  "categories", "payment_default", "status", "open", "field",
                                  "amount", "where", "currency", "values", "EUR"));
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(c, "feature", json_string("open_debt_eur"));
    json_object_set_new(
        c, "bins",
        json_pack("[{s:b, s:i, s:s, s:s}, {s:i, s:i, s:s, s:s}, {s:i, s:i, s:s, s:s}]", "missing",
                  1, "points", 40, "reason", "D00", "text", "No unsettled payment default", "max",
                  5000, "points", -10, "reason", "D01", "text",
                  "Unsettled defaults below 5,000 euros", "min", 5000, "points", -40, "reason",
                  "D02", "text", "Unsettled defaults of 5,000 euros or more"));
}

/* Amounts are decimals and add up as decimals: 2.23 + 4,997.77 is 5,000,
 * in the bin from 5,000 up, and the reason says so. Added as doubles they
 * came to 4,999.999999999999 and fell in the bin below 5,000, whose
 * reason then printed the value 5000. */
Test(decide, amounts_add_up_exactly)
{
    char *dir, buf[1024];
    prb_env *env = th_register_edited(open_debt_in_euros, &dir);
    ingest(env, line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-01-10", NULL,
                     "{\"amount\":\"2.23\",\"currency\":\"EUR\"}"));
    ingest(env, line(buf, sizeof buf, "D-2", "payment_default", "open", "2026-02-10", NULL,
                     "{\"amount\":\"4997.77\",\"currency\":\"EUR\"}"));
    /* Euros only: a yen default is not added to them. */
    ingest(env, line(buf, sizeof buf, "D-3", "payment_default", "open", "2026-02-10", NULL,
                     "{\"amount\":\"100000\",\"currency\":\"JPY\"}"));
    th_set_day(env, "2027-01-10"); /* past the 28 days from receipt */
    prb_decision *d = NULL;
    const char *json;
    cr_assert_eq(prb_evaluate(env, "tenancy", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    json_t *o = json_loads(json, 0, NULL), *r, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(o, "reasons"), i, r)
    {
        cr_assert_str_neq(json_string_value(json_object_get(r, "code")), "D01", "%s", json);
        if (!strcmp(json_string_value(json_object_get(r, "code")), "D02"))
            found = r;
    }
    cr_assert_not_null(found, "%s", json);
    cr_assert(json_real_value(json_object_get(found, "value")) == 5000.0, "%s", json);
    json_decref(o);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------------ date bounds */

/* person_credit declines anyone with no account opened since 2020,
 * counted by a feature bounding opened_date with a date. */
static void accounts_since_2020(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "accounts_since_2020",
                        json_pack("{s:s, s:s, s:[s], s:{s:{s:s}}}", "description",
                                  "Accounts opened since 2020.", "kind", "count", "categories",
                                  "credit_account", "where", "opened_date", "min", "2020-01-01"));
    json_array_append_new(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "person_credit"),
                        "characteristics"),
        json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}", "feature",
                  "accounts_since_2020", "bins", "missing", 1, "points", -1000, "reason", "N00",
                  "text", "No account opened since 2020", "otherwise", 1, "points", 0, "reason",
                  "N01", "text", "An account opened since 2020"));
}

/* Ingests an open account ACC-i of the person, opened on day. */
static void ingest_opened(prb_env *env, int i, const char *day)
{
    char ref[16], fields[256], buf[1024];
    snprintf(ref, sizeof ref, "ACC-%d", i);
    snprintf(fields, sizeof fields,
             "{\"account_type\":\"revolving\",\"opened_date\":\"%s\",\"credit_limit\":"
             "\"1000.00\",\"balance\":\"10.00\",\"currency\":\"EUR\",\"worst_dpd\":0}",
             day);
    ingest(env, line(buf, sizeof buf, ref, "credit_account", "open", "2026-10-01", NULL, fields));
}

/* A bound on a date field is a date: an account opened on 2019-12-31
 * is not counted, one opened on 2020-01-01 is (min is inclusive). */
Test(decide, a_date_bound_counts_from_its_day)
{
    char *dir;
    const char *opened[] = {"2019-12-31", "2020-01-01"};
    prb_env *env = th_register_edited(accounts_since_2020, &dir);
    for (int i = 0; i < 2; i++) {
        char *json;
        ingest_opened(env, i, opened[i]);
        json = decision_text(env, "credit");
        if (i == 0)
            cr_assert(strstr(json, "\"N00\""), "%s", json);
        else
            cr_assert_null(strstr(json, "\"N00\""), "%s", json);
        free(json);
    }
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------- a policy adopted by a build before */

/* person_credit's characteristics, for the forms below to add to. */
static json_t *person_credit(json_t *root)
{
    return json_object_get(json_object_get(json_object_get(root, "scorecards"), "person_credit"),
                           "characteristics");
}

/* Accounts opened since 2020 counted by a bound written as a day since
 * 1970 (18262, 2020-01-01): what a date bound was until 2026-11-28. None
 * is -1000 points under N00. */
static void day_number_bound(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "accounts_since_2020",
                        json_pack("{s:s, s:[s], s:{s:{s:i}}}", "kind", "count", "categories",
                                  "credit_account", "where", "opened_date", "min", 18262));
    json_array_append_new(person_credit(root),
                          json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                    "feature", "accounts_since_2020", "bins", "missing", 1,
                                    "points", -1000, "reason", "N00", "text",
                                    "No account opened since 2020", "otherwise", 1, "points", 0,
                                    "reason", "N01", "text", "An account opened since 2020"));
}

/* The latest opened_date as a day since 1970 (a max of dates), binned by
 * day: before 2020 is -500 points under L00. */
static void max_of_dates(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "latest_opened",
                        json_pack("{s:s, s:[s], s:s}", "kind", "max", "categories",
                                  "credit_account", "field", "opened_date"));
    json_array_append_new(person_credit(root),
                          json_pack("{s:s, s:[{s:i, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                    "feature", "latest_opened", "bins", "max", 18262, "points",
                                    -500, "reason", "L00", "text", "No account opened since 2020",
                                    "otherwise", 1, "points", 0, "reason", "L01", "text",
                                    "An account opened since 2020"));
}

/* A "missing" bin of 30 points on tax_arrears_open, which missing_as
 * makes never missing: no one can get it, and as the best bin it cost
 * everyone 10 points under T00, "No unpaid tax arrears". */
static void missing_bin_never_missing(json_t *root)
{
    json_array_insert_new(json_object_get(json_array_get(person_credit(root), 6), "bins"), 0,
                          json_pack("{s:b, s:i, s:s, s:s}", "missing", 1, "points", 30, "reason",
                                    "T09", "text", "No tax arrears on file"));
}

static void forms_of_before(json_t *root)
{
    day_number_bound(root);
    max_of_dates(root);
    missing_bin_never_missing(root);
}

/* The reason codes of a decision, space-separated and ended. */
static void reason_codes(const char *json, char *out, size_t n)
{
    json_t *d = json_loads(json, 0, NULL), *r;
    size_t i, at = 0;
    cr_assert_not_null(d, "%s", json);
    out[0] = 0;
    json_array_foreach(json_object_get(d, "reasons"), i, r)
    {
        at += (size_t)snprintf(out + at, n - at, "%s ",
                               json_string_value(json_object_get(r, "code")));
        cr_assert_lt(at, n);
    }
    json_decref(d);
}

/* prb_open loads the register's policy.json: one a build before
 * 2026-11-28 adopted, with a number bounding a date, a max of dates or a
 * bin no one can get, was refused as if newly adopted, and serve,
 * subject and verify refused the register until its policy was edited.
 * The policy in force loads as it was adopted: the number is a day, the
 * max a day, and the bin no one can get is not the best one, so T00
 * costs no one points. verify passes and names the forms. */
Test(decide, a_policy_in_force_of_before_keeps_its_forms)
{
    char *dir, codes[256];
    const char *opened[] = {"2019-06-01", "2021-03-01"};
    prb_env *env = th_register(&dir);
    env = th_reopen_in_force(env, dir, forms_of_before, TH_TODAY);
    for (int i = 0; i < 2; i++) {
        char *json;
        ingest_opened(env, i, opened[i]);
        json = decision_text(env, "credit");
        reason_codes(json, codes, sizeof codes);
        if (i == 0) {
            cr_expect(strstr(codes, "N00 "), "2019 is before day 18262: %s", codes);
            cr_expect(strstr(codes, "L00 "), "the latest day is before 18262: %s", codes);
        } else {
            cr_expect_null(strstr(codes, "N00 "), "%s", codes);
            cr_expect_null(strstr(codes, "L00 "), "%s", codes);
        }
        cr_expect_null(strstr(codes, "T00 "), "a reason for points no one could get: %s", codes);
        free(json);
    }
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);

    struct th_buf rep = {0};
    prb_verify_stats st;
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%s", rep.p ? rep.p : "");
    cr_assert_eq(st.problems, 0);
    cr_assert_not_null(rep.p);
    cr_expect(strstr(rep.p, "warning: the policy in force ("), "%s", rep.p);
    cr_expect(strstr(rep.p, "$.features.accounts_since_2020.where.opened_date.min: a number bounds "
                            "the date field 'opened_date', read as a day since 1970 (18262: "
                            "2020-01-01)"),
              "%s", rep.p);
    cr_expect(strstr(rep.p, "$.features.latest_opened.field: a max of the date field "
                            "'opened_date' of credit_account"),
              "%s", rep.p);
    cr_expect(strstr(rep.p, "$.scorecards.person_credit.characteristics[6].bins[0]: a bin of "
                            "characteristic 'tax_arrears_open' that can never apply"),
              "%s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A policy.json edited since the one in force is a policy being adopted:
 * a form of before is refused at open with what to write instead, also
 * when the policy in force has it and the edit only keeps it. */
static void version_bumped(json_t *root)
{
    json_object_set_new(root, "policy_version", json_string("edited"));
}

Test(decide, forms_of_before_are_refused_in_a_policy_edited_since)
{
    const struct {
        void (*in_force)(json_t *), (*edit)(json_t *);
        const char *want;
    } cases[] = {
        {NULL, day_number_bound,
         "$.features.accounts_since_2020.where.opened_date.min: 'opened_date' is a date: write "
         "the bound as a date, \"YYYY-MM-DD\", not a number"},
        {NULL, max_of_dates,
         "$.features.latest_opened.field: 'opened_date' of credit_account is a date: for the "
         "latest, use the kind months_since_latest"},
        {NULL, missing_bin_never_missing,
         "$.scorecards.person_credit.characteristics[6].bins[0]: a bin of characteristic "
         "'tax_arrears_open' that can never apply: feature 'tax_arrears_open' is never missing"},
        {forms_of_before, version_bumped,
         "$.features.accounts_since_2020.where.opened_date.min: 'opened_date' is a date: write "
         "the bound as a date"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir, reg[700];
        prb_env *env = th_register(&dir);
        if (cases[i].in_force)
            env = th_reopen_in_force(env, dir, cases[i].in_force, TH_TODAY);
        prb_close(env);
        env = NULL;
        th_edit_policy(dir, cases[i].edit);
        snprintf(reg, sizeof reg, "%s/reg", dir);
        cr_expect_eq(prb_open(reg, &env), PRB_EPOLICY, "case %zu", i);
        cr_expect(strstr(prb_errmsg(env), cases[i].want), "case %zu: %s", i, prb_errmsg(env));
        cr_expect(strstr(prb_errmsg(env), "(the file is not the policy the register has in "
                                          "force, so it is held to the rules of a policy "
                                          "adopted now)"),
                  "case %zu: %s", i, prb_errmsg(env));
        prb_close(env);
        th_rmrf(dir);
    }
}

/* credit_account's worst_dpd and opened_date made optional: the fields
 * person_credit's worst_dpd_24m (a max) and oldest_account_months (months
 * since the earliest opened_date) read. */
static void optional_account_fields(json_t *root)
{
    json_t *fields = json_object_get(
        json_object_get(json_object_get(root, "categories"), "credit_account"), "fields");
    json_object_set_new(json_object_get(fields, "worst_dpd"), "required", json_false());
    json_object_set_new(json_object_get(fields, "opened_date"), "required", json_false());
}

/* A record that gives a feature no value is not used (invariant 9): an
 * account without worst_dpd or opened_date left both features missing,
 * the decision said so ("no record gives it one"), and yet its
 * records_used named the account, so its deletion or a correction of it
 * on a dispute would be told to the inquirer. The account with the
 * fields is named. */
Test(decide, a_record_without_the_field_is_not_used)
{
    char *dir, buf[1024];
    prb_env *env = th_register_edited(optional_account_fields, &dir);
    prb_decision *d = NULL;
    const char *json;
    ingest(env, line(buf, sizeof buf, "ACC-1", "credit_account", "open", "2026-10-01", NULL,
                     "{\"account_type\":\"revolving\",\"credit_limit\":\"1000.00\",\"balance\":"
                     "\"10.00\",\"currency\":\"EUR\"}"));
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    json_t *o = json_loads(json, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(o, "records_used")), 0, "%s", json);
    json_decref(o);

    ingest(env, account(buf, sizeof buf, 2, 0));
    cr_assert_eq(prb_evaluate(env, "credit", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    o = json_loads(json, 0, NULL);
    json_t *used = json_object_get(o, "records_used");
    cr_assert_eq(json_array_size(used), 1, "%s", json);
    cr_assert_str_eq(json_string_value(json_array_get(used, 0)), "1-2", "%s", json);
    json_decref(o);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* tenancy_check with fractional points: from 500, 0.2 for each of its
 * three characteristics when its feature is missing (as all are for a
 * subject with one account) and 0 otherwise; the rule's step on the
 * score declines below score_below. */
static double score_below;
static void fractional_points(json_t *root)
{
    json_t *chars = json_object_get(
        json_object_get(json_object_get(root, "scorecards"), "tenancy_check"), "characteristics");
    json_t *c, *step = json_array_get(json_object_get(tenancy(root), "rule"), 2);
    size_t i;
    json_array_foreach(chars, i, c)
    {
        json_object_set_new(json_array_get(json_object_get(c, "bins"), 0), "points",
                            json_real(0.2));
        json_object_set_new(json_array_get(json_object_get(c, "bins"), 1), "points",
                            json_integer(0));
    }
    json_object_set_new(step, "if_score_below", json_real(score_below));
    json_object_set_new(step, "outcome", json_string("decline"));
}

/* 500 + 0.2 + 0.2 + 0.2 is 500.6, not below a threshold of 500.6: as
 * doubles the sum was 500.59999999999997, declined with the reason "The
 * score 500.6 is below 500.6". Below 500.600001 it is declined, and the
 * reason, the decision and batch scoring all say 500.6. */
Test(decide, fractional_points_meet_their_threshold_exactly)
{
    const double below[] = {500.6, 500.600001};
    for (size_t i = 0; i < 2; i++) {
        char *dir, buf[1024], line[4096];
        const char *json;
        prb_decision *d = NULL;
        uint64_t count = 0;
        int has;
        score_below = below[i];
        prb_env *env = th_register_edited(fractional_points, &dir);
        ingest(env, account(buf, sizeof buf, 1, 0)); /* tenancy reads no account */
        cr_assert_eq(prb_evaluate(env, "tenancy", PERSON, &d), PRB_OK, "%s", prb_errmsg(env));
        cr_assert_eq(prb_decision_json_compact(d, &json), PRB_OK);
        cr_assert(prb_decision_score(d, &has) == 500.6 && has, "%s", json);
        cr_assert(strstr(json, "\"score\":500.6,"), "%s", json);
        line[0] = 0;
        cr_assert_eq(prb_score_all(env, "tenancy", 1, append, line, &count), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert(strstr(line, "\"score\":500.6,"), "%s", line);
        if (i == 0) {
            cr_assert_eq(prb_decision_outcome(d), PRB_APPROVE, "%s", json);
        } else {
            cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE, "%s", json);
            cr_assert(strstr(json, "\"text\":\"The score 500.6 is below 500.600001, under which "
                                   "the rule for tenancy answers 'decline'\""),
                      "%s", json);
        }
        prb_decision_free(d);
        prb_close(env);
        th_rmrf(dir);
    }
}

/* open_debt_eur in bins either side of 10^9, the first from missing:
 * a debt of 999,999,999.99 euros is in the bin below. Without the
 * bin from 10^9 (no_top) a larger debt has no bin at all. */
static int no_top;
static void open_debt_near_a_billion(json_t *root)
{
    open_debt_in_euros(root);
    json_t *bins = json_object_get(
        json_array_get(
            json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                            "characteristics"),
            0),
        "bins");
    json_object_set_new(json_array_get(bins, 1), "max", json_real(1e9));
    json_object_set_new(json_array_get(bins, 2), "min", json_real(1e9));
    if (no_top)
        json_array_remove(bins, 2);
}

/* A feature's value is written with the digits it needs to read back:
 * at ten digits 999,999,999.99 read 1000000000.0, the very bound it is
 * below, in the decision, its indented form and the stored inquiry; and
 * the reason that no bin took 1,000,000,000.01 called it 1000000000. */
Test(decide, a_value_reads_back_as_it_was)
{
    const char *amount[] = {"999999999.99", "1000000000.01"};
    for (no_top = 0; no_top < 2; no_top++) {
        char *dir, buf[1024], fields[128];
        const char *cj, *ij;
        prb_decision *d = NULL;
        prb_env *env = th_register_edited(open_debt_near_a_billion, &dir);
        snprintf(fields, sizeof fields, "{\"amount\":\"%s\",\"currency\":\"EUR\"}", amount[no_top]);
        ingest(env,
               line(buf, sizeof buf, "D-1", "payment_default", "open", "2026-01-10", NULL, fields));
        th_set_day(env, "2027-01-10"); /* past the 28 days from receipt */
        cr_assert_eq(prb_decide(env, "tenancy", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(prb_decision_json_compact(d, &cj), PRB_OK);
        cr_assert_eq(prb_decision_json(d, &ij), PRB_OK);
        if (!no_top) {
            cr_assert(strstr(cj, "\"code\":\"D01\"") && strstr(cj, "\"value\":999999999.99,"), "%s",
                      cj);
            cr_assert(strstr(ij, "\"value\": 999999999.99,"), "%s", ij);
        } else {
            cr_assert(strstr(cj, "has no bin for open_debt_eur = 1000000000.01, so"), "%s", cj);
            cr_assert(strstr(cj, "\"value\":1000000000.01}"), "%s", cj);
        }
        /* What the inquiry stored. */
        json_t *inq = th_inquiries(env, PERSON), *r;
        size_t i;
        int seen = 0;
        json_array_foreach(json_object_get(json_array_get(inq, 0), "reasons"), i, r)
        {
            if (json_is_number(json_object_get(r, "value")))
                seen =
                    json_number_value(json_object_get(r, "value")) == strtod(amount[no_top], NULL);
        }
        cr_assert(seen, "%s", json_dumps(inq, 0));
        json_decref(inq);
        prb_decision_free(d);
        prb_close(env);
        th_rmrf(dir);
    }
}

/* ------------------------------------------- list entries and disputes */

static json_t *debtor_register(json_t *root)
{
    return json_object_get(json_object_get(root, "lists"), "debtor_register");
}

/* A debtor register whose entries last 60 days after a 10-day hearing. */
static void short_debtor_register(json_t *root)
{
    json_t *l = debtor_register(root);
    json_object_set_new(l, "hearing_days", json_integer(10));
    json_object_set_new(json_object_get(json_object_get(l, "grounds"), "unpaid_judgment"),
                        "max_days", json_integer(60));
}

/* A second ground of the debtor register, after unpaid_judgment, with a
 * shorter maximum duration. */
static void insolvency_ground(json_t *root)
{
    json_t *g = json_object_get(debtor_register(root), "grounds");
    json_t *crit = json_object(), *ground = json_object();
    json_object_set_new(crit, "insolvencies", json_pack("{s:i}", "min", 1));
    json_object_set_new(ground, "criteria", crit);
    json_object_set_new(ground, "max_days", json_integer(100));
    json_object_set_new(g, "insolvency_pending", ground);
}

/* The subject's entries on the debtor register, oldest first, as
 * "state ground since..until;" each. */
static void debtor_entries(prb_env *env, char *out, size_t n)
{
    char *json = NULL;
    json_t *o, *m;
    size_t i, len = 0;
    out[0] = 0;
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK, "%s", prb_errmsg(env));
    o = json_loads(json, 0, NULL);
    free(json);
    json_array_foreach(json_object_get(json_array_get(o, 0), "members"), i, m)
    {
        len += (size_t)snprintf(out + len, n - len, "%s %s %s..%s;",
                                json_string_value(json_object_get(m, "state")),
                                json_string_value(json_object_get(m, "ground")),
                                json_string_value(json_object_get(m, "noticed")),
                                json_string_value(json_object_get(m, "until")));
        cr_assert_lt(len, n);
    }
    json_decref(o);
}

/* Whether the decision (stored or a what-if) names the debtor register. */
static int listed(prb_env *env, int stored)
{
    prb_decision *d = NULL;
    const char *json;
    int rc = stored ? prb_decide(env, "credit", PERSON, "bank-x", &d)
                    : prb_evaluate(env, "credit", PERSON, &d);
    cr_assert_eq(rc, PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    int is = strstr(json, "debtor_register") != NULL;
    prb_decision_free(d);
    return is;
}

/* The maximum duration is a limit, not a pause, and disputing is a
 * right: an entry that expired while the judgment was unpaid was made
 * again, with a fresh term, when the subject disputed the judgment and
 * the dispute was upheld (the ground had stopped holding only because
 * the record was suspended). */
Test(decide, a_dispute_does_not_make_an_expired_entry_again)
{
    char *dir, buf[1024], entries[1024], *json = NULL;
    prb_env *env = th_register_edited(short_debtor_register, &dir);
    uint64_t n;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2026-12-26"); /* the judgment is in effect from 2026-12-25 */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2027-03-10"); /* active 2027-01-05 to 2027-03-06 */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "expired unpaid_judgment 2026-12-26..2027-03-06;");

    th_set_day(env, "2027-03-11");
    cr_assert_eq(prb_dispute_open(env, PERSON, "1-1", "wrong amount", &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    uint64_t id = strtoull(json_string_value(json_object_get(o, "id")), NULL, 10);
    json_decref(o);
    th_set_day(env, "2027-03-12");
    cr_assert_eq(prb_dispute_resolve(env, id, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "expired unpaid_judgment 2026-12-26..2027-03-06;");
    th_set_day(env, "2027-04-01");
    cr_assert(!listed(env, 0), "the what-if is declined by the list");
    cr_assert(!listed(env, 1), "the decision is declined by the list");
    prb_close(env);
    th_rmrf(dir);
}

/* On a list that ends entries when their criteria stop, an entry whose
 * ground stops holding (its judgment disputed) while another ground
 * holds kept the disputed ground and its longer duration, in force. It
 * ends, and one on the ground that holds starts with its own hearing. */
Test(decide, an_entry_ends_when_its_own_ground_stops)
{
    char *dir, buf[1024], entries[1024];
    prb_env *env = th_register_edited(insolvency_ground, &dir);
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    ingest(env, line(buf, sizeof buf, "I-1", "insolvency", "open", "2026-11-01", NULL,
                     "{\"stage\":\"filed\"}"));
    hearing_over(env);
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "active unpaid_judgment 2026-12-26..2030-01-24;");

    cr_assert_eq(prb_dispute_open(env, PERSON, "1-1", "not my debt", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;"
                              "noticed insolvency_pending 2027-01-25..2027-06-04;");
    th_set_day(env, "2027-01-26"); /* the new entry is in its hearing */
    cr_assert(!listed(env, 0), "the what-if is declined by the list");
    cr_assert(!listed(env, 1), "the decision is declined by the list");
    prb_close(env);
    th_rmrf(dir);
}

/* Opens a dispute of record rid of the person and returns its id. */
static uint64_t dispute(prb_env *env, const char *rid)
{
    char *json = NULL;
    cr_assert_eq(prb_dispute_open(env, PERSON, rid, "not my debt", &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    uint64_t id = strtoull(json_string_value(json_object_get(o, "id")), NULL, 10);
    json_decref(o);
    return id;
}

/* An entry lifted because its judgment was disputed came back, when the
 * dispute was upheld, as a new entry: a second hearing and a fresh full
 * term. It is restored with its dates. A dispute that deletes the record
 * ends it for good: a later judgment makes a new entry with its hearing. */
Test(decide, an_upheld_dispute_restores_the_entry_with_its_dates)
{
    char *dir, buf[1024], entries[1024];
    prb_env *env = th_register(&dir);
    uint64_t n;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    hearing_over(env);
    uint64_t id = dispute(env, "1-1");
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;");
    th_set_day(env, "2027-02-10");
    cr_assert(!listed(env, 0), "in force on a disputed record");
    cr_assert_eq(prb_dispute_resolve(env, id, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "active unpaid_judgment 2026-12-26..2030-01-24;");
    cr_assert(listed(env, 0), "the what-if does not see the restored entry");
    cr_assert(listed(env, 1), "the decision does not see the restored entry");

    id = dispute(env, "1-1");
    cr_assert_eq(prb_dispute_resolve(env, id, "deleted", "wrong", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    ingest(env, line(buf, sizeof buf, "J-2", "court_judgment", "open", "2027-02-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2027-03-14"); /* J-2 is in effect from 2027-03-13 */
    cr_assert(!listed(env, 0), "the what-if sees an entry in effect without a hearing");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert(strstr(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;"
                              "noticed unpaid_judgment 2027-03-14.."),
              "%s", entries);
    prb_close(env);
    th_rmrf(dir);
}

/* Verify finds nothing in the register: the log and the store agree. */
static void verified(prb_env *env, const char *after)
{
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "after %s: %.2000s", after,
                 rep.p ? rep.p : prb_errmsg(env));
    free(rep.p);
}

/* A LIST leaf named no entry, so verify guessed each stored entry's
 * earlier states to take leaves to it: a suspended entry (lifted with its
 * mark) restored with its dates, or its mark cleared when its record was
 * deleted, left leaves of states it could not guess (the day it was
 * lifted is gone once it is restored), and verify named an untouched
 * register's entry as removed behind the engine's back. */
Test(decide, verify_passes_after_a_suspended_entry_is_restored_or_let_go)
{
    char *dir, buf[1024], entries[1024];
    prb_env *env = th_register(&dir);
    uint64_t n;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    hearing_over(env);
    uint64_t id = dispute(env, "1-1");
    verified(env, "the entry was suspended");
    th_set_day(env, "2027-02-10");
    cr_assert_eq(prb_dispute_resolve(env, id, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "active unpaid_judgment 2026-12-26..2030-01-24;");
    verified(env, "the entry was restored");

    th_set_day(env, "2027-02-12");
    id = dispute(env, "1-1");
    cr_assert_eq(prb_dispute_resolve(env, id, "deleted", "wrong", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;");
    verified(env, "the entry's mark was cleared");
    ingest(env, line(buf, sizeof buf, "J-2", "court_judgment", "open", "2027-02-01", NULL,
                     JUDGMENT_FIELDS));
    th_set_day(env, "2027-03-14");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    verified(env, "a second entry was made");
    prb_close(env);
    th_rmrf(dir);
}

/* The subject's entries on the debtor register in their copy, oldest
 * first, as "state ground since suspended;" each (suspended: 0 or 1). */
static void copy_entries(prb_env *env, char *out, size_t n)
{
    char *json = NULL;
    json_t *doc, *e;
    size_t i, len = 0;
    out[0] = 0;
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    doc = json_loads(json, 0, NULL);
    free(json);
    json_array_foreach(json_object_get(doc, "lists"), i, e)
    {
        json_t *susp = json_object_get(e, "suspended");
        cr_assert(json_is_boolean(susp), "an entry without suspended");
        len += (size_t)snprintf(
            out + len, n - len, "%s %s %s %d;", json_string_value(json_object_get(e, "state")),
            json_string_value(json_object_get(e, "ground")),
            json_string_value(json_object_get(e, "noticed")), json_is_true(susp));
        cr_assert_lt(len, n);
    }
    json_decref(doc);
}

/* A suspended entry came back with J-1's dates, in effect at once, as
 * soon as a second judgment took effect while J-1's dispute was still
 * open, with a notice that the records stood after the dispute; when the
 * deadline then deleted J-1 it stayed in force on dates the deleted
 * record gave it, and J-2 never had a hearing (invariants 4 to 6). Only
 * the records that suspended it standing again restore it: the ground
 * standing on another record ends the suspension, and a new entry on it
 * starts with its own hearing, in the what-if as in the refresh. */
Test(decide, another_record_does_not_restore_an_entry_while_its_dispute_is_open)
{
    char *dir, buf[1024], entries[1024], *text;
    prb_env *env = th_register(&dir);
    uint64_t n;
    size_t notices, inquiries;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    hearing_over(env);
    dispute(env, "1-1"); /* its deadline is 2027-02-24 */
    ingest(env, line(buf, sizeof buf, "J-2", "court_judgment", "open", "2027-01-20", NULL,
                     JUDGMENT_FIELDS));
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 1;");
    th_set_day(env, "2027-02-24"); /* J-2 is in effect, J-1 still disputed */
    cr_assert(!listed(env, 0), "the what-if restored the entry on another judgment");
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    debtor_entries(env, entries, sizeof entries);
    cr_assert(strstr(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;"
                              "noticed unpaid_judgment 2027-02-24..") == entries,
              "%s", entries);
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 0;"
                              "noticed unpaid_judgment 2027-02-24 0;");
    text = copy_notice(env, PERSON, "list_entry", &notices, &inquiries);
    cr_assert(text && !strncmp(text, "You are to be entered", 21), "%s", text ? text : "none");
    cr_assert_eq(notices, 2, "a notice of the first entry and one of the second");
    free(text);
    cr_assert(!listed(env, 1), "the decision sees an entry without its hearing");

    th_set_day(env, "2027-02-25"); /* the deadline deletes J-1 */
    cr_assert_eq(prb_expire(env, &n, NULL), PRB_OK, "%s", prb_errmsg(env));
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 0;"
                              "noticed unpaid_judgment 2027-02-24 0;");
    cr_assert(!listed(env, 0), "the what-if sees an entry without its hearing");
    th_set_day(env, "2027-03-26"); /* the hearing has run */
    cr_assert(listed(env, 0), "the what-if does not see J-2's entry in effect");
    cr_assert(listed(env, 1), "the decision does not see J-2's entry in effect");
    verified(env, "a new entry was made on another judgment");
    prb_close(env);
    th_rmrf(dir);
}

/* The subject's letter (PRB_COPY_TEXT) with its lines joined: each run
 * of spaces and line breaks made one space. free() it. */
static char *letter(prb_env *env)
{
    char *text = NULL, *w;
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    w = text;
    for (const char *r = text; *r; r++)
        if (!(*r == ' ' || *r == '\n') || !(w > text && w[-1] == ' '))
            *w++ = *r == '\n' ? ' ' : *r;
    *w = 0;
    return text;
}

/* A suspended entry was shown in the copy as plainly lifted, and once a
 * new entry on another ground superseded it, it kept its mark for ever,
 * though a refresh reads only the latest entry and never restores it.
 * The copy says which entry is suspended, and only the latest can be. */
Test(decide, only_the_latest_entry_is_shown_suspended_in_the_copy)
{
    char *dir, buf[1024], entries[1024], *text = NULL;
    prb_env *env = th_register_edited(insolvency_ground, &dir);
    uint64_t n;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    hearing_over(env);
    uint64_t id = dispute(env, "1-1");
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 1;");
    text = letter(env);
    cr_assert(strstr(text, "That entry is lifted since 25 January 2027, while the dispute of the "
                           "records it rests on is open. If the records stand, it comes back "
                           "with its dates"),
              "%s", text);
    free(text);

    ingest(env, line(buf, sizeof buf, "I-1", "insolvency", "open", "2027-01-20", NULL,
                     "{\"stage\":\"filed\"}"));
    th_set_day(env, "2027-02-24"); /* I-1 is in effect, J-1 still disputed */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 0;"
                              "noticed insolvency_pending 2027-02-24 0;");
    text = letter(env);
    cr_assert(!strstr(text, "it comes back with its dates"), "%s", text);
    free(text);
    cr_assert_eq(prb_dispute_resolve(env, id, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    copy_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26 0;"
                              "noticed insolvency_pending 2027-02-24 0;");
    verified(env, "a suspended entry was superseded");
    prb_close(env);
    th_rmrf(dir);
}

/* A correction changes the grounds as much as a new record does, but only
 * a new record had the ingest recompute the subject's entries: a judgment
 * settled left its entry in force, and an insolvency corrected from
 * discharged to opened left the subject off the list, each until the
 * next sweep. The ingest that brings a correction changes the entries,
 * with their notices, itself. */
Test(decide, a_correction_changes_the_entries_in_its_own_ingest)
{
    char *dir, buf[1024], entries[1024], *text;
    prb_env *env = th_register_edited(insolvency_ground, &dir);
    size_t notices;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    hearing_over(env);
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "active unpaid_judgment 2026-12-26..2030-01-24;");

    th_set_day(env, "2027-02-01");
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "settled", "2026-11-01",
                     "2027-02-01", JUDGMENT_FIELDS));
    debtor_entries(env, entries, sizeof entries);
    cr_assert_str_eq(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;",
                     "the settled judgment's entry stayed in force");
    text = copy_notice(env, PERSON, "list_exit", &notices, NULL);
    cr_assert(text && strstr(text, "no longer hold"), "%s", text ? text : "none");
    free(text);
    cr_assert(!listed(env, 1), "the decision sees the lifted entry in force");

    ingest(env, line(buf, sizeof buf, "I-1", "insolvency", "open", "2027-01-20", NULL,
                     "{\"stage\":\"discharged\"}"));
    th_set_day(env, "2027-02-20"); /* I-1 is in effect: it was opened, not discharged */
    ingest(env, line(buf, sizeof buf, "I-1", "insolvency", "open", "2027-01-20", NULL,
                     "{\"stage\":\"opened\"}"));
    debtor_entries(env, entries, sizeof entries);
    cr_assert(strstr(entries, "lifted unpaid_judgment 2026-12-26..2030-01-24;"
                              "noticed insolvency_pending 2027-02-20..") == entries,
              "the corrected insolvency made no entry: %s", entries);
    free(copy_notice(env, PERSON, "list_entry", &notices, NULL));
    cr_assert_eq(notices, 2, "a notice of each entry");
    verified(env, "corrections changed the entries");
    prb_close(env);
    th_rmrf(dir);
}

/* The short debtor register as a red list, which may enter a subject
 * again while its ground holds. */
static void short_red_debtor_register(json_t *root)
{
    short_debtor_register(root);
    json_object_set_new(debtor_register(root), "type", json_string("red"));
}

/* The subject's entries on the debtor register, oldest first, as "state
 * ground ended;" each: the day a new entry is noticed is the day a
 * refresh first sees its ground, which a refresh on another day cannot
 * give, but what it is and how the last one ended is not. */
static void debtor_states(prb_env *env, char *out, size_t n)
{
    char *json = NULL;
    json_t *o, *m;
    size_t i, len = 0;
    out[0] = 0;
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK, "%s", prb_errmsg(env));
    o = json_loads(json, 0, NULL);
    free(json);
    json_array_foreach(json_object_get(json_array_get(o, 0), "members"), i, m)
    {
        const char *ended = json_string_value(json_object_get(m, "ended"));
        len += (size_t)snprintf(
            out + len, n - len, "%s %s %s;", json_string_value(json_object_get(m, "state")),
            json_string_value(json_object_get(m, "ground")), ended ? ended : "-");
        cr_assert_lt(len, n);
    }
    json_decref(o);
}

/* The entries of a judgment debtor on a register made by edit, as of
 * day, after a refresh on every day from the entry's first (daily) or
 * only on that day and on day (the entry lasts to 2027-03-06). */
static void entries_by(void (*edit)(json_t *root), int daily, const char *day, char *out, size_t n)
{
    char *dir, buf[1024];
    prb_env *env = th_register_edited(edit, &dir);
    int32_t from, to;
    uint64_t changed;
    ingest(env, line(buf, sizeof buf, "J-1", "court_judgment", "open", "2026-11-01", NULL,
                     JUDGMENT_FIELDS));
    cr_assert_eq(prb_date_parse("2026-12-26", 10, &from), PRB_OK);
    cr_assert_eq(prb_date_parse(day, strlen(day), &to), PRB_OK);
    for (int32_t d = from; d <= to; d += daily || d == to ? 1 : to - d) {
        char text[11];
        prb_date_format(d, text);
        th_set_day(env, text);
        cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    }
    debtor_states(env, out, n);
    verified(env, "the refreshes");
    prb_close(env);
    th_rmrf(dir);
}

/* An entry on a red list that reached its maximum duration while its
 * ground held came back only at the refresh after the one that ended it:
 * refreshed daily the subject was noticed again the day after, refreshed
 * once it was not at all, though the ground was the same. The refresh
 * that ends it decides anew. A black list does not enter the subject
 * again while the ground holds (POLICY.md), however often it refreshes. */
Test(decide, an_entry_past_its_maximum_duration_is_decided_anew_in_the_same_refresh)
{
    char daily[512], once[512];
    const char *days[] = {"2027-03-06", "2027-03-07", "2027-03-12"};
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        entries_by(short_red_debtor_register, 1, days[i], daily, sizeof daily);
        entries_by(short_red_debtor_register, 0, days[i], once, sizeof once);
        cr_assert_str_eq(daily, "expired unpaid_judgment 2027-03-06;noticed unpaid_judgment -;",
                         "refreshed daily to %s", days[i]);
        cr_assert_str_eq(once, daily, "refreshed once on %s", days[i]);
        entries_by(short_debtor_register, 1, days[i], daily, sizeof daily);
        entries_by(short_debtor_register, 0, days[i], once, sizeof once);
        cr_assert_str_eq(daily, "expired unpaid_judgment 2027-03-06;", "black, daily to %s",
                         days[i]);
        cr_assert_str_eq(once, daily, "black, refreshed once on %s", days[i]);
    }
}

#define PERSON_2 "cn-rid:11010519780101001X"
#define LEI_1 "lei:5493001KJTIIGC8Y1R12"
#define LEI_2 "lei:7LTWFZYICNSX8D621K86"

/* An unpaid court judgment about the company lei, as judgment_of. */
static const char *company_judgment(char *buf, size_t n, const char *ref, const char *lei)
{
    snprintf(buf, n,
             "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"company\",\"id\":"
             "\"%s\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":"
             "\"2026-11-01\",\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":%s}\n",
             ref, lei, JUDGMENT_FIELDS);
    return buf;
}

/* The debtor register edited to take companies only, and to be public. */
static void public_debtor_register_of_companies(json_t *root)
{
    json_t *l = debtor_register(root);
    json_object_set_new(l, "subject_kinds", json_pack("[s]", "company"));
    json_object_set_new(l, "publication", json_string("public"));
}

/* The state and end of who's one entry in its copy, as "state ended". */
static void copy_entry(prb_env *env, const char *who, char *out, size_t n)
{
    char *json = NULL;
    cr_assert_eq(prb_subject_copy(env, who, PRB_COPY_JSON, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = json_loads(json, 0, NULL), *lists = json_object_get(doc, "lists");
    free(json);
    cr_assert_eq(json_array_size(lists), 1, "%s: the copy lost the entry", who);
    json_t *e = json_array_get(lists, 0);
    const char *ended = json_string_value(json_object_get(e, "ended"));
    snprintf(out, n, "%s %s", json_string_value(json_object_get(e, "state")), ended ? ended : "-");
    json_decref(doc);
}

/* Two persons and two companies on the debtor register (the first person
 * and the companies in effect, the second person in its hearing), which
 * an edit then makes take companies only and be public: the clock at
 * 2027-01-26, nothing refreshed since the edit. */
static prb_env *persons_left_on_a_list_of_companies(char **dir)
{
    char buf[1024];
    uint64_t changed;
    prb_env *env = th_register(dir);
    ingest(env, judgment_of(buf, sizeof buf, "J-1", "\"id\":\"" PERSON "\""));
    ingest(env, company_judgment(buf, sizeof buf, "J-2", LEI_1));
    ingest(env, company_judgment(buf, sizeof buf, "J-3", LEI_2));
    th_set_day(env, "2026-12-26");
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    /* In effect from 2027-01-25: that day's refresh starts its hearing. */
    ingest(env, judgment_of(buf, sizeof buf, "J-4", "\"id\":\"" PERSON_2 "\""));
    th_set_day(env, "2027-01-25");
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    return th_reopen_edited(env, *dir, public_debtor_register_of_companies, "2027-01-26");
}

/* Invariant 3 and "who sees which members": the debtor register edited
 * to take companies only and to be public (the loader refuses a public
 * list of persons) kept the persons already on it, and the public's page
 * showed a person's entry, its ground and dates (subject null), with the
 * person's subject number as its cursor. Whoever reads, a list shows
 * only the kinds it takes now. */
Test(decide, a_list_shows_only_the_kinds_it_takes_now)
{
    char *dir, *json = NULL;
    prb_env *env = persons_left_on_a_list_of_companies(&dir);
    /* The public's page of one: a company, and a cursor past it. */
    cr_assert_eq(prb_lists_visible_page(env, "debtor_register", NULL, 0, 1, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *page = json_loads(json, 0, NULL), *list = json_array_get(page, 0);
    free(json);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(list, "members"), 0), "subject")),
                     LEI_1, "a person shown to the public");
    cr_assert_str_eq(json_string_value(json_object_get(list, "next")), "2",
                     "the cursor is a person's subject number");
    json_decref(page);
    cr_assert_eq(prb_lists_visible_json(env, "debtor_register", NULL, &json), PRB_OK);
    cr_assert(strstr(json, LEI_1) && strstr(json, LEI_2) && !strstr(json, "\"subject\": null"),
              "%s", json);
    free(json);
    /* Nor staff: the list's full view is of the kinds it takes. */
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK);
    cr_assert(!strstr(json, PERSON) && !strstr(json, PERSON_2), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* An entry on a list that no longer takes its subject's kind went on
 * declining: a refresh left the lists of other kinds alone, so the person
 * edited off the debtor register stayed on it, in effect, and the what-if
 * read it as stored. The subject's next refresh (a decision's, the
 * sweep's) ends it and tells the subject why, a what-if sees it so
 * before, and the subject's copy, which showed only the lists of its
 * kind, keeps it. */
Test(decide, an_entry_of_a_kind_the_list_no_longer_takes_ends)
{
    char *dir, *json = NULL, *text, entry[64];
    prb_env *env = persons_left_on_a_list_of_companies(&dir);
    size_t n;
    uint64_t changed;
    /* Credit takes persons and reads the debtor register. */
    cr_assert(!listed(env, 0), "a what-if declined by a list that does not take persons");
    cr_assert(!listed(env, 1), "a decision declined by a list that does not take persons");
    text = copy_notice(env, PERSON, "list_exit", &n, NULL);
    cr_assert_eq(n, 1);
    cr_assert(text && strstr(text, "debtor_register") &&
                  strstr(text, "the list no longer takes persons"),
              "%s", text);
    free(text);
    copy_entry(env, PERSON, entry, sizeof entry);
    cr_assert_str_eq(entry, "lifted 2027-01-26");

    /* The sweep ends the other person's, still in its hearing, alone. */
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(changed, 1);
    text = copy_notice(env, PERSON_2, "list_exit", &n, NULL);
    cr_assert_eq(n, 1);
    cr_assert(text && strstr(text, "the list no longer takes persons"), "%s", text);
    free(text);
    copy_entry(env, PERSON_2, entry, sizeof entry);
    cr_assert_str_eq(entry, "withdrawn 2027-01-26");
    th_set_day(env, "2027-03-01");
    cr_assert_eq(prb_lists_refresh_all(env, &changed), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(changed, 0, "an ended entry of a kind the list does not take changed again");
    cr_assert_eq(prb_lists_visible_json(env, "debtor_register", NULL, &json), PRB_OK);
    cr_assert(strstr(json, LEI_1) && strstr(json, LEI_2), "%s", json);
    free(json);
    verified(env, "the entries of persons ended");
    prb_close(env);
    th_rmrf(dir);
}
