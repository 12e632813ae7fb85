/*
 * test_copy.c - the subject's copy (DESIGN invariant 8): everything held
 * about a subject, in one document, and the letter written from it.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"

TestSuite(copy, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"
#define COMPANY "lei:5493001KJTIIGC8Y1R12"

static void ingest(prb_env *env, const char *text)
{
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    cr_assert_not_null(o, "not JSON (%s): %s", err.text, text);
    return o;
}

static const char *get(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char DEFAULT_D1[] =
    "{\"furnisher\":\"bank-a\",\"ref\":\"D-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" PERSON
    "\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2026-01-10\","
    "\"settled_date\":null,\"legal_basis\":\"loan contract\",\"fields\":{\"amount\":\"500.00\","
    "\"currency\":\"EUR\"}}\n";
static const char ACCOUNT_V1[] =
    "{\"furnisher\":\"bank-a\",\"ref\":\"ACC-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" PERSON
    "\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":\"2026-10-01\","
    "\"settled_date\":null,\"legal_basis\":\"loan contract\",\"fields\":{\"account_type\":"
    "\"revolving\",\"opened_date\":\"2015-01-01\",\"credit_limit\":\"1000.00\",\"balance\":"
    "\"10.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n";
static const char ACCOUNT_V2[] =
    "{\"furnisher\":\"bank-a\",\"ref\":\"ACC-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" PERSON
    "\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":\"2026-10-01\","
    "\"settled_date\":null,\"legal_basis\":\"loan contract\",\"fields\":{\"account_type\":"
    "\"revolving\",\"opened_date\":\"2015-01-01\",\"credit_limit\":\"1000.00\",\"balance\":"
    "\"250.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n";
static const char JUDGMENT_J1[] =
    "{\"furnisher\":\"court-a\",\"ref\":\"J-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" PERSON
    "\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":\"2026-11-01\","
    "\"settled_date\":null,\"legal_basis\":\"ZPO 704\",\"fields\":{\"amount\":\"900.00\","
    "\"currency\":\"EUR\",\"court\":\"AG Berlin\",\"case_ref\":\"1 C 1\"}}\n";

/* A person with three records (one corrected), an entry noticed on the
 * debtor register, a declined inquiry under review and a dispute. */
static prb_env *person(char **dir)
{
    prb_env *env = th_register(dir);
    prb_decision *d = NULL;
    uint64_t n;
    ingest(env, DEFAULT_D1);
    ingest(env, ACCOUNT_V1);
    ingest(env, JUDGMENT_J1);
    th_set_day(env, "2026-11-30");
    ingest(env, ACCOUNT_V2);
    th_set_day(env, "2026-12-26"); /* the judgment is in effect: an entry is noticed */
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    th_set_day(env, "2026-12-27");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    prb_decision_free(d);
    th_set_day(env, "2026-12-28");
    cr_assert_eq(prb_review_request(env, "1-q1", "The default was paid.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_dispute_open(env, PERSON, "1-1", "I paid it in March.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    th_set_day(env, "2026-12-29");
    return env;
}

/* The letter with every run of white space made one space, so phrases
 * can be found wherever the lines were wrapped. */
static char *flat(const char *text)
{
    char *out = malloc(strlen(text) + 1), *w = out;
    cr_assert_not_null(out);
    for (const char *p = text; *p; p++)
        if (!(*p == ' ' || *p == '\n') || (w > out && w[-1] != ' '))
            *w++ = *p == '\n' ? ' ' : *p;
    *w = 0;
    return out;
}

static json_t *copy_json(prb_env *env, const char *who)
{
    char *out = NULL;
    cr_assert_eq(prb_subject_copy(env, who, PRB_COPY_JSON, &out), PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = parse(out);
    free(out);
    return doc;
}

/* The first element of array whose key is value. */
static json_t *find(const json_t *array, const char *key, const char *value)
{
    size_t i;
    json_t *x;
    json_array_foreach(array, i, x) if (!strcmp(get(x, key), value)) return x;
    return NULL;
}

Test(copy, every_section_with_its_contents)
{
    char *dir;
    prb_env *env = person(&dir);
    json_t *doc = copy_json(env, PERSON), *x;

    /* The file part keeps prb_file_json's shape. */
    cr_assert_str_eq(get(doc, "kind"), "person");
    cr_assert_str_eq(get(doc, "as_of"), "2026-12-29");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "identifiers"), 0)),
                     PERSON);
    json_t *recs = json_object_get(doc, "records");
    cr_assert_eq(json_array_size(recs), 3);
    x = find(recs, "category", "credit_account");
    cr_assert_not_null(x);
    cr_assert_eq(json_integer_value(json_object_get(x, "version")), 2);
    cr_assert_str_eq(get(json_object_get(x, "fields"), "balance"), "250.00");
    json_t *hist = json_object_get(x, "history");
    cr_assert_eq(json_array_size(hist), 1);
    cr_assert_str_eq(get(json_object_get(json_array_get(hist, 0), "fields"), "balance"), "10.00");
    x = find(recs, "id", "1-1");
    cr_assert(json_is_true(json_object_get(x, "disputed")) &&
              json_is_false(json_object_get(x, "usable")));
    cr_assert_not_null(find(recs, "category", "court_judgment"));

    /* The list entry, with its state and dates. */
    json_t *lists = json_object_get(doc, "lists");
    cr_assert_eq(json_array_size(lists), 1);
    x = json_array_get(lists, 0);
    cr_assert_str_eq(get(x, "list"), "debtor_register");
    cr_assert_str_eq(get(x, "state"), "noticed");
    cr_assert_str_eq(get(x, "ground"), "unpaid_judgment");
    cr_assert_str_eq(get(x, "noticed"), "2026-12-26");
    cr_assert_str_eq(get(x, "effective_from"), "2027-01-25");
    cr_assert_str_eq(get(x, "until"), "2030-01-24");
    cr_assert(json_is_null(json_object_get(x, "ended")));

    /* The inquiry: who, why, when, what they were told. */
    json_t *inq = json_object_get(doc, "inquiries");
    cr_assert_eq(json_array_size(inq), 1);
    x = json_array_get(inq, 0);
    cr_assert_str_eq(get(x, "decision"), "1-q1");
    cr_assert_str_eq(get(x, "requester"), "bank-x");
    cr_assert_str_eq(get(x, "purpose"), "credit");
    cr_assert_str_eq(get(x, "asked_at"), "2026-12-27T00:00:00Z");
    cr_assert_str_eq(get(x, "outcome"), "decline");
    cr_assert_gt(json_array_size(json_object_get(x, "reasons")), 0);
    cr_assert_str_eq(get(json_object_get(x, "review"), "id"), "1-r1");
    cr_assert_str_eq(get(json_object_get(x, "review"), "state"), "requested");

    /* Notices: the adverse records, the list entry, the adverse decision,
     * the review request and the dispute, each once, oldest first. */
    json_t *notices = json_object_get(doc, "notices");
    static const char *const kinds[] = {"adverse_record", "list_entry", "adverse_decision",
                                        "review_requested"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        cr_assert_not_null(find(notices, "kind", kinds[k]), "no %s notice", kinds[k]);
    cr_assert_str_eq(get(find(notices, "kind", "review_requested"), "about"), "1-r1");
    size_t i;
    json_int_t last = 0;
    json_array_foreach(notices, i, x)
    {
        cr_assert_str_eq(get(x, "identifier"), PERSON);
        cr_assert_gt(json_integer_value(json_object_get(x, "notice")), last);
        last = json_integer_value(json_object_get(x, "notice"));
    }

    /* The dispute and the review. */
    json_t *dsp = json_object_get(doc, "disputes");
    cr_assert_eq(json_array_size(dsp), 1);
    cr_assert_str_eq(get(json_array_get(dsp, 0), "record"), "1-1");
    cr_assert_str_eq(get(json_array_get(dsp, 0), "state"), "open");
    json_t *rv = json_object_get(doc, "reviews");
    cr_assert_eq(json_array_size(rv), 1);
    x = json_array_get(rv, 0);
    cr_assert_str_eq(get(x, "id"), "1-r1");
    cr_assert_str_eq(get(x, "decision"), "1-q1");
    cr_assert_str_eq(get(x, "state"), "requested");

    /* The decision each purpose for persons would give now: credit and
     * tenancy, with reasons; not procurement (companies only). */
    json_t *dec = json_object_get(doc, "decisions");
    cr_assert_eq(json_array_size(dec), 2, "%s", json_dumps(dec, 0));
    x = find(dec, "purpose", "credit");
    cr_assert_not_null(x);
    /* Declined when asked; with the default disputed, referred now. */
    cr_assert_str_eq(get(x, "outcome"), "refer");
    cr_assert_not_null(find(json_object_get(x, "reasons"), "code", "J01"));
    cr_assert_null(find(json_object_get(x, "reasons"), "code", "D01"));
    cr_assert_null(json_object_get(x, "decision"), "an evaluation is not an inquiry");
    cr_assert_not_null(find(dec, "purpose", "tenancy"));
    cr_assert_null(find(dec, "purpose", "procurement"));
    /* The disputed default is used by nothing, so no decision uses it. */
    json_array_foreach(dec, i, x)
    {
        size_t j;
        json_t *r;
        json_array_foreach(json_object_get(x, "records_used"), j, r)
            cr_assert_str_neq(json_string_value(r), "1-1");
    }
    cr_assert_eq(json_integer_value(json_object_get(doc, "dispute_deadline_days")), 30);
    size_t nnotices = json_array_size(notices);
    json_decref(doc);

    /* Making the copy stores nothing: no inquiry, no notice. */
    json_t *again = copy_json(env, PERSON);
    cr_assert_eq(json_array_size(json_object_get(again, "inquiries")), 1);
    cr_assert_eq(json_array_size(json_object_get(again, "notices")), nnotices);
    json_decref(again);
    prb_close(env);
    th_rmrf(dir);
}

Test(copy, letter_says_it_in_plain_words)
{
    char *dir, *text = NULL;
    prb_env *env = person(&dir);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    static const char *const says[] = {
        "person we know by " PERSON,
        "29 December 2026",
        /* every record's category, with its amounts and dates in words */
        "payment default",
        "credit account",
        "court judgment",
        "amount 900.00 EUR",
        "balance 250.00 EUR",
        "balance 10.00 EUR", /* the earlier version */
        "1 November 2026",
        /* the list, until when */
        "debtor register",
        "25 January 2027",
        "24 January 2030",
        /* who asked and why, and what they were told */
        "bank-x asked about you for credit. The answer was no (decline). (Decision 1-q1.)",
        "An unpaid court judgment",
        /* today's decision for each purpose */
        "For credit (Deciding on a loan, a credit line or deferred payment.): not without a "
        "closer look by a person (refer).",
        "For tenancy",
        /* the dispute, the review, the notices */
        "Dispute ",
        "I paid it in March.",
        "Review 1-r1 of decision 1-q1",
        "The default was paid.",
        "Notices about you",
        /* what they can do, with the exact commands and the deadline */
        "What you can do",
        "within 30 days",
        "probity dispute open ",
        "--record 1-2",
        "Decision 1-q1 is being reviewed now",
        "probity subject ",
    };
    char *words = flat(text);
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        cr_assert(strstr(words, says[i]), "the letter does not say \"%s\":\n%s", says[i], text);
    free(words);
    /* The disputed record is not offered for a second dispute. */
    cr_assert_null(strstr(text, "--record 1-1 "), "%s", text);
    cr_assert_null(strstr(text, "procurement"), "%s", text);
    /* No line is longer than a letter's, but the commands. */
    for (const char *l = text; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        cr_assert(n <= 78 || strstr(l, "probity "), "long line: %.*s", (int)n, l);
        l += n + (e != NULL);
    }
    free(text);

    /* Once the review is decided, the letter says so. */
    cr_assert_eq(
        prb_review_decide(env, "1-r1", "upheld", "A. Reviewer", "The default stands.", NULL),
        PRB_OK);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK);
    words = flat(text);
    cr_assert(strstr(words, "A. Reviewer decided it on 29 December 2026") &&
                  strstr(words, "The default stands."),
              "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* How many times needle occurs in hay. */
static size_t occurs(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The letter says of each notice whether and when it was delivered, as
 * the JSON copy does (DESIGN): it listed every notice under "Notices we
 * sent you", those still waiting in the outbox too. */
Test(copy, letter_says_whether_each_notice_was_delivered)
{
    char *dir, *text = NULL;
    prb_env *env = person(&dir);
    prb_deliver_stats ds;
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_gt(ds.delivered, 0);
    th_set_day(env, "2026-12-30");
    cr_assert_eq(
        prb_review_decide(env, "1-r1", "upheld", "A. Reviewer", "The default stands.", NULL),
        PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = copy_json(env, PERSON), *n;
    size_t i, sent = 0, waiting = 0;
    json_array_foreach(json_object_get(doc, "notices"), i, n)
    {
        if (json_is_true(json_object_get(n, "delivered")))
            sent++;
        else
            waiting++;
    }
    json_decref(doc);
    cr_assert(sent > 0 && waiting > 0, "%zu delivered, %zu not", sent, waiting);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    char *words = flat(text);
    cr_assert_null(strstr(words, "Notices we sent you"), "%s", text);
    cr_assert_eq(occurs(words, "(delivered on 29 December 2026)"), sent, "%s", text);
    cr_assert_eq(occurs(words, "(not yet delivered)"), waiting, "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* An overturned decision is shown with its review beside it, in the JSON
 * and in the letter; the decision itself stays as it was answered, and
 * the letter does not invite a second review of it. */
Test(copy, reviewed_decision_shows_its_outcome)
{
    char *dir, *text = NULL;
    prb_env *env = person(&dir);
    cr_assert_eq(
        prb_review_decide(env, "1-r1", "overturned", "A. Reviewer", "The default was paid.", NULL),
        PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = copy_json(env, PERSON);
    json_t *q = find(json_object_get(doc, "inquiries"), "decision", "1-q1");
    cr_assert_not_null(q);
    cr_assert_str_eq(get(q, "outcome"), "decline", "the stored decision is not rewritten");
    json_t *rv = json_object_get(q, "review");
    cr_assert(json_is_object(rv), "no review beside the inquiry");
    cr_assert_str_eq(get(rv, "id"), "1-r1");
    cr_assert_str_eq(get(rv, "state"), "overturned");
    cr_assert_str_eq(get(rv, "requested"), "2026-12-28");
    cr_assert_str_eq(get(rv, "decided"), "2026-12-29");
    json_decref(doc);

    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    char *words = flat(text);
    const char *asked = strstr(words, "Who asked about you");
    const char *today = strstr(words, "What you would be told today");
    const char *said = strstr(words, "Reviewed: overturned on 29 December 2026 (review 1-r1)");
    cr_assert(asked && today && said && asked < said && said < today,
              "the inquiry does not show its review:\n%s", text);
    cr_assert(strstr(words, "Decision 1-q1 was reviewed (review 1-r1): overturned on 29 "
                            "December 2026."),
              "%s", text);
    cr_assert_null(strstr(words, "--decision 1-q1"), "a second review is invited:\n%s", text);
    cr_assert_null(strstr(words, "decision\": \"1-q1"), "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* The tenancy scorecard gives 500.6 to a subject with no default,
 * judgment or insolvency (500 and 0.2 for each), and declines below
 * 500.600001. */
static void fractional(json_t *root)
{
    json_t *c;
    size_t i;
    json_t *sc = json_object_get(json_object_get(root, "scorecards"), "tenancy_check");
    json_array_foreach(json_object_get(sc, "characteristics"), i, c) json_object_set_new(
        json_array_get(json_object_get(c, "bins"), 0), "points", json_real(0.2));
    json_t *step = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "purposes"), "tenancy"), "rule"), 2);
    json_object_set_new(step, "if_score_below", json_real(500.600001));
    json_object_set_new(step, "outcome", json_string("decline"));
}

static prb_env *fractional_register(char **dir)
{
    return th_register_edited(fractional, dir);
}

/* The letter gives the score as the decision does: rounded to a whole
 * number it said "Score: 501." beside "The score 500.6 is below
 * 500.600001". */
Test(copy, letter_gives_the_score_the_decision_gives)
{
    char *dir, *text = NULL;
    prb_env *env = fractional_register(&dir);
    ingest(env, ACCOUNT_V1);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    char *words = flat(text);
    cr_assert(strstr(words, "For tenancy (Deciding on a residential lease.): no (decline). "
                            "Score: 500.6. "),
              "%s", text);
    cr_assert(strstr(words, "The score 500.6 is below 500.600001"), "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* fractional's policy, whose tenancy scorecard also takes a point from a
 * subject with a payment default, settled or not, and its reason gives
 * the largest amount; from 501, a settled one leaves the score at 500.6. */
static void amount_costs_a_point(json_t *root)
{
    fractional(root);
    json_t *sc = json_object_get(json_object_get(root, "scorecards"), "tenancy_check");
    json_object_set_new(json_object_get(root, "features"), "default_amount_max",
                        json_pack("{s:s, s:[s], s:s, s:{s:{s:[s]}}}", "kind", "max", "categories",
                                  "payment_default", "field", "amount", "where", "currency",
                                  "values", "EUR"));
    json_object_set_new(sc, "base_score", json_integer(501));
    json_array_append_new(json_object_get(sc, "characteristics"),
                          json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                    "feature", "default_amount_max", "bins", "missing", 1, "points",
                                    0, "reason", "A00", "text", "No payment default", "otherwise",
                                    1, "points", -1, "reason", "A01", "text", "A payment default"));
}

/* The copy's reals read as the decision writes them: jansson's dump gave
 * the score 500.6 as 500.60000000000002. The largest amount's value needs
 * all 17 digits (in cents it is past 2^53, and reads as the double
 * nearest 12345678901234568 cents): it keeps them. */
Test(copy, reals_are_written_as_the_decision_writes_them)
{
    static const char value[] = "\"value\": 123456789012345.69,\n";
    char *dir, *out = NULL;
    const char *dj;
    prb_decision *dec = NULL;
    prb_env *env = th_register_edited(amount_costs_a_point, &dir);
    ingest(env, "{\"furnisher\":\"bank-a\",\"ref\":\"D-9\",\"subject\":{\"kind\":\"person\","
                "\"id\":\"" PERSON "\"},\"category\":\"payment_default\",\"status\":"
                "\"settled\",\"event_date\":\"2026-01-10\",\"settled_date\":\"2026-06-01\","
                "\"legal_basis\":\"contract\",\"fields\":{\"amount\":\"123456789012345.67\","
                "\"currency\":\"EUR\"}}\n");
    th_set_day(env, "2027-01-10"); /* past its notice period: it counts */
    cr_assert_eq(prb_evaluate(env, "tenancy", PERSON, &dec), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json(dec, &dj), PRB_OK);
    cr_assert(strstr(dj, "\"score\": 500.6,\n") && strstr(dj, value), "%s", dj);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &out), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(strstr(out, "\"score\": 500.6,\n"), "%s", out);
    cr_assert(strstr(out, value), "%s", out);
    json_t *doc = parse(out), *d = find(json_object_get(doc, "decisions"), "purpose", "tenancy");
    cr_assert_not_null(d, "%s", out);
    cr_assert(json_real_value(json_object_get(d, "score")) == 500.6, "%s", out);
    json_t *r = find(json_object_get(d, "reasons"), "code", "A01");
    cr_assert_not_null(r, "%s", out);
    cr_assert(json_real_value(json_object_get(r, "value")) == 12345678901234568 / 100.0, "%s", out);
    json_decref(doc);
    free(out);
    prb_decision_free(dec);
    prb_close(env);
    th_rmrf(dir);
}

Test(copy, a_company)
{
    char *dir, *text = NULL;
    prb_env *env = th_register(&dir);
    ingest(env, "{\"furnisher\":\"tax-office\",\"ref\":\"TA-1\",\"subject\":{\"kind\":\"company\","
                "\"id\":\"" COMPANY "\"},\"category\":\"tax_arrears\",\"status\":\"open\","
                "\"event_date\":\"2026-09-10\",\"settled_date\":null,\"legal_basis\":\"tax code "
                "art. 32\",\"fields\":{\"amount\":\"1500\",\"currency\":\"JPY\"}}\n");
    th_set_day(env, "2027-01-05");
    json_t *doc = copy_json(env, COMPANY), *dec = json_object_get(doc, "decisions");
    cr_assert_str_eq(get(doc, "kind"), "company");
    cr_assert_eq(json_array_size(json_object_get(doc, "records")), 1);
    cr_assert_eq(json_array_size(json_object_get(doc, "inquiries")), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "reviews")), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "disputes")), 0);
    /* Credit and procurement take inquiries about companies; tenancy not. */
    cr_assert_eq(json_array_size(dec), 2);
    cr_assert_not_null(find(dec, "purpose", "credit"));
    cr_assert_not_null(find(dec, "purpose", "procurement"));
    cr_assert_null(find(dec, "purpose", "tenancy"));
    json_decref(doc);
    cr_assert_eq(prb_subject_copy(env, COMPANY, PRB_COPY_TEXT, &text), PRB_OK);
    char *words = flat(text);
    cr_assert(strstr(words, "company we know by " COMPANY) && strstr(words, "tax arrears") &&
                  strstr(words, "amount 1500 JPY") && strstr(words, "Nobody has asked about you") &&
                  strstr(words, "For procurement") && !strstr(words, "For tenancy"),
              "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

Test(copy, unknown_or_bad_identifier_and_format)
{
    char *dir, *out = (char *)"untouched";
    prb_env *env = th_register(&dir);
    ingest(env, DEFAULT_D1);
    cr_assert_eq(prb_subject_copy(env, "cn-rid:440304200002291236", PRB_COPY_JSON, &out),
                 PRB_ENOTFOUND);
    cr_assert_null(out);
    cr_assert_eq(prb_subject_copy(env, "cn-rid:440304200002291236", PRB_COPY_TEXT, &out),
                 PRB_ENOTFOUND);
    cr_assert_null(out);
    cr_assert_eq(prb_subject_copy(env, "cn-rid:110105194912310021", PRB_COPY_JSON, &out),
                 PRB_EINVAL);
    cr_assert(strstr(prb_errmsg(env), "check character"), "%s", prb_errmsg(env));
    cr_assert_eq(prb_subject_copy(env, PERSON, 7, &out), PRB_EINVAL);
    cr_assert_null(out);
    /* A subject with nothing but a record: every section is there, empty. */
    json_t *doc = copy_json(env, PERSON);
    static const char *const sections[] = {"records", "lists",   "inquiries", "disputes",
                                           "reviews", "notices", "decisions"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        cr_assert(json_is_array(json_object_get(doc, sections[i])), "no %s", sections[i]);
    cr_assert_eq(json_array_size(json_object_get(doc, "lists")), 0);
    json_decref(doc);
    prb_close(env);
    th_rmrf(dir);
}

/* A channel's bookkeeping is the operator's: its last error names paths
 * (and a webhook's hosts and ports) of the register's machines, and the
 * letter read over HTTP gave command lines naming the register's own
 * directory. The copy keeps whether a notice was delivered; the letter
 * served by the API gives the API's requests. */
Test(copy, what_the_operator_keeps_is_not_shown)
{
    char *dir, path[700], *out = NULL;
    prb_env *env = th_register(&dir);
    prb_deliver_stats ds;
    ingest(env, DEFAULT_D1);
    /* The spool cannot be made: a file has its name. */
    snprintf(path, sizeof path, "%s/reg/spool", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(ds.pending, 1);
    cr_assert_eq(prb_notices_json(env, 1, &out), PRB_OK);
    cr_assert(strstr(out, path), "the operator's view names the spool: %s", out);
    free(out);

    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_JSON, &out), PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = parse(out);
    json_t *n = json_array_get(json_object_get(doc, "notices"), 0);
    cr_assert_str_eq(get(n, "kind"), "adverse_record");
    cr_assert(json_is_false(json_object_get(n, "delivered")));
    cr_assert_null(json_object_get(n, "channels"));
    cr_assert_null(strstr(out, dir), "the copy names the register's directory: %s", out);
    json_decref(doc);
    free(out);

    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT_HTTP, &out), PRB_OK);
    cr_assert_null(strstr(out, dir), "the letter names the register's directory: %s", out);
    cr_assert_null(strstr(out, "probity dispute"), "%s", out);
    cr_assert_null(strstr(out, "probity subject"), "%s", out);
    cr_assert(strstr(out, "POST /v1/me/disputes {\"record\": \""), "%s", out);
    cr_assert(strstr(out, "GET /v1/me?format=text"), "%s", out);
    free(out);
    /* The command line's letter keeps its commands. */
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &out), PRB_OK);
    cr_assert(strstr(out, "probity dispute open"), "%s", out);
    free(out);
    prb_close(env);
    th_rmrf(dir);
}

static uint64_t leaves(prb_env *env)
{
    char *json = NULL;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *h = parse(json);
    free(json);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    return n;
}

/* Invariants 7 and 8 for staff: a reviewer's, an admin's or the
 * operator's read of a whole file is told to the subject (who, in which
 * role, when), logged and committed before the copy is made, so the copy
 * read shows it. Before, GET /v1/subjects/{id} and `probity subject`
 * read a file with nothing recorded anywhere. */
Test(copy, a_staff_read_is_told_to_the_subject)
{
    char *dir, *out = (char *)"untouched";
    prb_env *env = th_register(&dir);
    ingest(env, DEFAULT_D1);
    uint64_t before = leaves(env);
    /* Bad readers and unknown subjects write nothing. */
    cr_assert_eq(prb_subject_copy_read(env, PERSON, PRB_COPY_JSON, "", PRB_ROLE_REVIEWER, &out),
                 PRB_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(
        prb_subject_copy_read(env, PERSON, PRB_COPY_JSON, "bank-x", PRB_ROLE_INQUIRER, &out),
        PRB_EINVAL);
    cr_assert_eq(prb_subject_copy_read(env, "cn-rid:440304200002291236", PRB_COPY_JSON, "rita",
                                       PRB_ROLE_REVIEWER, &out),
                 PRB_ENOTFOUND);
    cr_assert(strstr(prb_errmsg(env), "no subject"), "%s", prb_errmsg(env));
    cr_assert_eq(prb_subject_copy_read(env, "cn-rid:110105194912310021", PRB_COPY_JSON, "rita",
                                       PRB_ROLE_REVIEWER, &out),
                 PRB_EINVAL);
    cr_assert_eq(prb_subject_copy_read(env, PERSON, 7, "rita", PRB_ROLE_REVIEWER, &out),
                 PRB_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(leaves(env), before);

    /* The copy read shows its own read. */
    cr_assert_eq(prb_subject_copy_read(env, PERSON, PRB_COPY_JSON, "rita", PRB_ROLE_REVIEWER, &out),
                 PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = parse(out);
    free(out);
    json_t *n = find(json_object_get(doc, "notices"), "kind", "file_read");
    cr_assert_not_null(n);
    cr_assert_str_eq(get(n, "about"), "rita");
    cr_assert_str_eq(get(n, "text"),
                     "rita, a reviewer of the register, read your whole file on 2026-11-25.");
    cr_assert_eq(json_array_size(json_object_get(doc, "inquiries")), 0,
                 "a staff read is a notice, not an inquiry");
    json_decref(doc);
    cr_assert_eq(leaves(env), before + 1, "one notice, one leaf");

    /* An admin's letter and the operator's: each told; the subject's own
     * copy tells no one. */
    th_set_day(env, "2026-11-26");
    cr_assert_eq(
        prb_subject_copy_read(env, PERSON, PRB_COPY_TEXT, "key-0123abcd", PRB_ROLE_ADMIN, &out),
        PRB_OK, "%s", prb_errmsg(env));
    char *f = flat(out);
    free(out);
    cr_assert(strstr(f, "key-0123abcd, an administrator of the register, read your whole file on "
                        "2026-11-26."),
              "%s", f);
    free(f);
    cr_assert_eq(prb_subject_copy_read(env, PERSON, PRB_COPY_JSON, "root", 0, &out), PRB_OK);
    cr_assert(strstr(out, "root, the register's operator, at the command line, read your whole"),
              "%s", out);
    free(out);
    cr_assert_eq(leaves(env), before + 3);
    doc = copy_json(env, PERSON);
    cr_assert_eq(leaves(env), before + 3);
    json_decref(doc);
    prb_close(env);
    th_rmrf(dir);
}

/* A handle told which key its calls are made for (prb_set_caller), as
 * a server's is for each request, looks the key up again in every write
 * transaction: once the key is revoked (here through another handle, as
 * an administrator would while the read waited for the writer), a staff
 * read is refused with PRB_EREVOKED and tells no one. A read that writes
 * nothing is not checked; with the caller cleared, the read is told. */
Test(copy, a_read_by_a_key_revoked_since_tells_no_one)
{
    char *dir, *out = NULL, tok[PRB_TOKEN_MAX];
    prb_env *env = th_register(&dir), *h;
    prb_key spec = {0}, k;
    ingest(env, DEFAULT_D1);
    spec.role = PRB_ROLE_REVIEWER;
    snprintf(spec.name, sizeof spec.name, "rita");
    cr_assert_eq(prb_key_create(env, &spec, tok, &k), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_env_dup(env, &h), PRB_OK);
    prb_set_caller(h, &k);
    cr_assert_eq(prb_subject_copy_read(h, PERSON, PRB_COPY_JSON, "rita", PRB_ROLE_REVIEWER, &out),
                 PRB_OK, "%s", prb_errmsg(h));
    free(out);
    cr_assert_eq(prb_key_revoke(env, k.id), PRB_OK, "%s", prb_errmsg(env));
    uint64_t before = leaves(env);
    out = (char *)"untouched";
    cr_assert_eq(prb_subject_copy_read(h, PERSON, PRB_COPY_JSON, "rita", PRB_ROLE_REVIEWER, &out),
                 PRB_EREVOKED);
    cr_assert_null(out);
    cr_assert(strstr(prb_errmsg(h), k.id) && strstr(prb_errmsg(h), "revoked"), "%s", prb_errmsg(h));
    cr_assert_eq(leaves(env), before, "a revoked key's read wrote");
    cr_assert_eq(prb_subject_copy(h, PERSON, PRB_COPY_JSON, &out), PRB_OK, "%s", prb_errmsg(h));
    json_t *doc = parse(out);
    free(out);
    size_t i, told = 0;
    json_t *x;
    json_array_foreach(json_object_get(doc, "notices"), i, x) told +=
        !strcmp(get(x, "kind"), "file_read");
    json_decref(doc);
    cr_assert_eq(told, 1, "only the read before the revocation was told");
    prb_set_caller(h, NULL);
    cr_assert_eq(prb_subject_copy_read(h, PERSON, PRB_COPY_JSON, "root", 0, &out), PRB_OK, "%s",
                 prb_errmsg(h));
    free(out);
    cr_assert_eq(leaves(env), before + 1);
    prb_close(h);
    prb_close(env);
    th_rmrf(dir);
}

/* ----------------------------------------------------------- the joins */

/* Writes value under be64 id in the register's database name, behind
 * the engine's back: a review or a dispute as an older register kept
 * it, or a great many of them at once. */
static void raw_put(prb_env *env, MDB_txn *t, const char *name, uint64_t id, const char *value)
{
    MDB_dbi dbi;
    unsigned char k[8];
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(id >> (56 - 8 * i));
    MDB_val mk = {8, k}, mv = {strlen(value), (void *)value};
    cr_assert_eq(mdb_dbi_open(t, name, 0, &dbi), 0, "no database %s", name);
    cr_assert_eq(mdb_put(t, dbi, &mk, &mv, 0), 0);
}

/* n payment defaults of PERSON, refs P-1.. */
static void defaults(prb_env *env, int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&text, &len);
    cr_assert_not_null(w);
    for (int i = 1; i <= n; i++)
        fprintf(w,
                "{\"furnisher\":\"bank-a\",\"ref\":\"P-%d\",\"subject\":{\"kind\":\"person\","
                "\"id\":\"" PERSON "\"},\"category\":\"payment_default\",\"status\":\"open\","
                "\"event_date\":\"2026-01-10\",\"settled_date\":null,\"legal_basis\":\"loan "
                "contract\",\"fields\":{\"amount\":\"%d.00\",\"currency\":\"EUR\"}}\n",
                i, 100 + i);
    cr_assert_eq(fclose(w), 0);
    ingest(env, text);
    free(text);
}

static uint64_t open_dispute(prb_env *env, const char *record)
{
    char *out = NULL;
    cr_assert_eq(prb_dispute_open(env, PERSON, record, "Not mine.", &out), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *d = parse(out);
    free(out);
    uint64_t id = strtoull(get(d, "id"), NULL, 10);
    json_decref(d);
    return id;
}

/* Whether the letter invites a dispute of record. */
static int invites_dispute(const char *words, const char *record)
{
    char s[64];
    snprintf(s, sizeof s, "To dispute record %s:", record);
    return strstr(words, s) != NULL;
}

/* Every inquiry of a subject with many inquiries, reviews, records and
 * disputes has its own decision's review beside it (the latest, when an
 * older register holds two), and the letter invites a dispute of every
 * record but those with an open dispute: the joins the copy makes find
 * the right partner, however the two sides are ordered. */
Test(copy, each_inquiry_has_its_review_and_each_record_its_dispute)
{
    char *dir, *text = NULL, rec[16];
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    defaults(env, 12);
    th_set_day(env, "2027-01-10");
    /* Open on 1-12, 1-3, 1-5 and 1-10; 1-3 also resolved once before,
     * 1-6 resolved only. */
    uint64_t d3 = open_dispute(env, "1-3");
    cr_assert_eq(prb_dispute_resolve(env, d3, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    open_dispute(env, "1-12");
    open_dispute(env, "1-3");
    uint64_t d6 = open_dispute(env, "1-6");
    cr_assert_eq(prb_dispute_resolve(env, d6, "upheld", "checked", NULL, NULL, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    open_dispute(env, "1-5");
    open_dispute(env, "1-10");
    for (int i = 0; i < 12; i++) {
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    }
    prb_decision_free(d);
    /* Reviews asked in another order than the decisions: 1-r1 of 1-q5,
     * 1-r2 of 1-q12, 1-r3 of 1-q2, 1-r4 of 1-q1; 1-r3 upheld. */
    static const char *const asked[] = {"1-q5", "1-q12", "1-q2", "1-q1"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(prb_review_request(env, asked[i], "Wrong.", NULL), PRB_OK, "%s",
                     prb_errmsg(env));
    th_set_day(env, "2027-01-12");
    cr_assert_eq(prb_review_decide(env, "1-r3", "upheld", "A. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    /* Before a decision was reviewed once, 1-q5 was asked again. */
    MDB_txn *t;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    raw_put(env, t, "rvw", (uint64_t)1 << PRB_RSEQ_BITS | 5,
            "{\"id\":\"1-r5\",\"decision\":\"1-q5\",\"subject\":\"" PERSON
            "\",\"purpose\":\"credit\",\"requester\":\"bank-x\",\"original_outcome\":"
            "\"decline\",\"reason\":\"again\",\"state\":\"overturned\",\"requested\":"
            "\"2027-01-10\",\"decided\":\"2027-01-11\",\"reviewer\":\"B\",\"note\":\"x\"}");
    cr_assert_eq(mdb_txn_commit(t), 0);

    static const struct {
        const char *decision, *review, *state;
    } want[] = {{"1-q1", "1-r4", "requested"},
                {"1-q2", "1-r3", "upheld"},
                {"1-q5", "1-r5", "overturned"},
                {"1-q12", "1-r2", "requested"}};
    json_t *doc = copy_json(env, PERSON), *q;
    size_t i, nreviewed = 0;
    cr_assert_eq(json_array_size(json_object_get(doc, "inquiries")), 12);
    json_array_foreach(json_object_get(doc, "inquiries"), i, q)
    {
        const json_t *rv = json_object_get(q, "review");
        const char *dec = get(q, "decision");
        size_t w = 0;
        while (w < 4 && strcmp(want[w].decision, dec))
            w++;
        if (w == 4) {
            cr_assert(json_is_null(rv), "%s has no review, yet shows one", dec);
            continue;
        }
        nreviewed++;
        cr_assert(json_is_object(rv), "%s shows no review", dec);
        cr_assert_str_eq(get(rv, "id"), want[w].review, "%s", dec);
        cr_assert_str_eq(get(rv, "state"), want[w].state, "%s", dec);
    }
    cr_assert_eq(nreviewed, 4);
    json_decref(doc);

    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &text), PRB_OK, "%s",
                 prb_errmsg(env));
    char *words = flat(text);
    for (int r = 1; r <= 12; r++) {
        int open = r == 3 || r == 5 || r == 10 || r == 12;
        snprintf(rec, sizeof rec, "1-%d", r);
        cr_assert_eq(invites_dispute(words, rec), !open, "record %s, %s open dispute:\n%s", rec,
                     open ? "with an" : "with no", text);
    }
    cr_assert(strstr(words, "Decision 1-q2 was reviewed (review 1-r3): upheld on 12 January "
                            "2027.") &&
                  strstr(words, "Decision 1-q5 was reviewed (review 1-r5): overturned on 11 "
                                "January 2027.") &&
                  strstr(words, "Decision 1-q12 is being reviewed now (review 1-r2).") &&
                  strstr(words, "To ask for a review of decision 1-q3:"),
              "%s", text);
    free(words);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}
