/*
 * test_policy.c - the policy loader: the shipped default policy, errors
 * that name the file, JSON path and reason, and DESIGN invariant 1 (no
 * special-category data) tried for every refused class.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"

TestSuite(policy);

/* A small valid policy; tests splice one change into it. */
static const char *base_policy(void)
{
    return "{\"policy_version\":\"t1\",\"identifier_schemes\":[\"cn-rid\",\"ext\"],"
           "\"purposes\":{\"credit\":{\"subject_kinds\":[\"person\"]}},"
           "\"categories\":{\"payment_default\":{\"subject_kinds\":[\"person\"],"
           "\"polarity\":\"adverse\",\"fields\":{\"amount\":{\"type\":\"amount\",\"required\":true}"
           ","
           "\"currency\":{\"type\":\"currency\",\"required\":true}},"
           "\"retention\":{\"days_after_event\":2190,\"days_after_settlement\":1095,"
           "\"max_days\":3650},\"notice_days\":28,\"purposes\":[\"credit\"]}}}";
}

/* Replaces the first occurrence of from in base_policy() with to. */
static int load_variant(const char *from, const char *to, prb_policy **p)
{
    char buf[4096];
    const char *b = base_policy(), *at = strstr(b, from);
    cr_assert_not_null(at, "test bug: '%s' not in the base policy", from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - b), b, to, at + strlen(from));
    return prb_policy_load_buf("t.json", buf, strlen(buf), p);
}

Test(policy, default_policy_loads_with_required_categories)
{
    char path[512];
    prb_policy *p = NULL;
    int rc = prb_policy_load(th_path(path, sizeof path, "policy/default.json"), &p);
    cr_assert_eq(rc, PRB_OK, "%s", prb_policy_errmsg(p));
    const char *need[] = {"credit_account", "payment_default", "court_judgment",  "insolvency",
                          "tax_arrears",    "regulatory_fine", "exclusion_ground"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int found = 0;
        for (size_t j = 0; j < prb_policy_ncategories(p); j++)
            found |= !strcmp(prb_policy_category_name(p, j), need[i]);
        cr_assert(found, "default policy lacks %s", need[i]);
    }
    prb_policy_free(p);
}

/* The library's built-in default is policy/default.json as built, and a
 * register made without a policy file holds a copy of exactly that. */
Test(policy, built_in_default_is_the_trees_and_init_uses_it)
{
    size_t len = 0;
    const char *text = prb_default_policy(&len);
    char *tree = th_slurp("policy/default.json"), *dir = th_tmpdir(), reg[600], copy[65536];
    prb_env *env = NULL;
    cr_assert_not_null(tree);
    cr_assert_eq(len, strlen(tree));
    cr_assert_eq(text[len], 0);
    cr_assert(!memcmp(text, tree, len), "the built-in policy is not policy/default.json");
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_init(reg, NULL, &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_str_eq(prb_policy_version(prb_env_policy(env)), "default-2026.11");
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg/policy.json", dir);
    th_slurp_into(reg, copy, sizeof copy);
    cr_assert_str_eq(copy, tree);
    free(tree);
    th_rmrf(dir);
}

Test(policy, base_policy_is_valid)
{
    prb_policy *p = NULL;
    int rc = prb_policy_load_buf("t.json", base_policy(), strlen(base_policy()), &p);
    cr_assert_eq(rc, PRB_OK, "%s", prb_policy_errmsg(p));
    cr_assert_str_eq(prb_policy_version(p), "t1");
    prb_policy_free(p);
}

struct bad_case {
    const char *from, *to, *expect;
};

/* Each error names the file and the JSON path of the offending value. */
Test(policy, errors_name_file_path_and_reason)
{
    const struct bad_case cases[] = {
        {"\"policy_version\":\"t1\",", "\"policy_versoin\":\"t1\",",
         "t.json: $.policy_versoin: unknown key"},
        {"\"type\":\"amount\"", "\"type\":\"money\"",
         "t.json: $.categories.payment_default.fields.amount.type: must be one of string, enum"},
        {"\"polarity\":\"adverse\"", "\"polarity\":\"bad\"",
         "t.json: $.categories.payment_default.polarity: must be one of adverse"},
        {"\"retention\":{\"days_after_event\":2190,\"days_after_settlement\":1095,\"max_days\":"
         "3650},",
         "", "t.json: $.categories.payment_default.retention: required"},
        {"\"max_days\":3650", "\"max_days\":0",
         "t.json: $.categories.payment_default.retention.max_days: must be between"},
        {"\"notice_days\":28", "\"notice_days\":0",
         "t.json: $.categories.payment_default.notice_days: an adverse category needs"},
        {"\"purposes\":[\"credit\"]", "\"purposes\":[\"tenancy\"]",
         "t.json: $.categories.payment_default.purposes: [0] is not a purpose"},
        {"\"currency\":{\"type\":\"currency\",\"required\":true}", "\"cur\":{\"type\":\"string\"}",
         "t.json: $.categories.payment_default.fields: amount fields need a currency field"},
        {"[\"cn-rid\",\"ext\"]", "[\"cn-rid\",\"ssn\"]",
         "t.json: $.identifier_schemes: [1] unknown or repeated scheme"},
        {"\"subject_kinds\":[\"person\"]}}", "\"subject_kinds\":[\"alien\"]}}",
         "t.json: $.purposes.credit.subject_kinds: [0] must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prb_policy *p = NULL;
        int rc = load_variant(cases[i].from, cases[i].to, &p);
        cr_expect_eq(rc, PRB_EPOLICY, "case %zu: rc %d (%s)", i, rc, prb_policy_errmsg(p));
        cr_expect(strstr(prb_policy_errmsg(p), cases[i].expect) != NULL,
                  "case %zu: message '%s' lacks '%s'", i, prb_policy_errmsg(p), cases[i].expect);
        prb_policy_free(p);
    }
}

Test(policy, malformed_json_gives_line_and_column)
{
    prb_policy *p = NULL;
    const char *text = "{\n  \"policy_version\": \"x\",\n  oops\n}";
    cr_assert_eq(prb_policy_load_buf("m.json", text, strlen(text), &p), PRB_EPOLICY);
    cr_assert(strstr(prb_policy_errmsg(p), "m.json:3:") != NULL, "%s", prb_policy_errmsg(p));
    prb_policy_free(p);
}

Test(policy, missing_file_is_an_io_error)
{
    prb_policy *p = NULL;
    cr_assert_eq(prb_policy_load("/nonexistent/policy.json", &p), PRB_EIO);
    cr_assert(strstr(prb_policy_errmsg(p), "/nonexistent/policy.json") != NULL);
    prb_policy_free(p);
}

/* One name per refused class of invariant 1, each as a category, a field,
 * a purpose and an enum value, and in a category's description. */
static const struct {
    const char *name, *cls;
} refused[] = {
    {"political_party_member", "political"},
    {"protest_attendance", "political"},
    {"speech_record", "speech"},
    {"religion", "religion"},
    {"church_attendance", "religion"},
    {"ethnicity", "ethnicity"},
    {"health_status", "health"},
    {"diagnosis_code", "health"},
    {"face_match", "biometrics"},
    {"fingerprint_hash", "biometrics"},
    {"sexual_orientation", "sex"},
    {"trade_union_member", "trade-union"},
    {"search_history", "internet searches"},
    {"social_media_posts", "social-media"},
    {"weibo_followers", "social-media"},
    {"location_history", "location"},
    {"gps_track", "location"},
    {"foreign_worker", "ethnicity"},
};

Test(policy, every_refused_class_is_refused_everywhere)
{
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *n = refused[i].name;
        char cat[128], field[160], purpose[128], val[256], desc[256];
        snprintf(cat, sizeof cat, "\"%s\":{\"subject_kinds\"", n);
        snprintf(field, sizeof field, "\"%s\":{\"type\":\"amount\"", n);
        snprintf(purpose, sizeof purpose, "\"%s\":{\"subject_kinds\":[\"person\"]}}", n);
        snprintf(val, sizeof val,
                 "\"currency\":{\"type\":\"currency\",\"required\":true},\"k\":{\"type\":\"enum\","
                 "\"values\":[\"none\",\"%s\"]}",
                 n);
        snprintf(desc, sizeof desc,
                 "\"payment_default\":{\"description\":\"holds %s data\","
                 "\"subject_kinds\"",
                 n);
        const struct {
            const char *from, *to;
        } where[] = {
            {"\"payment_default\":{\"subject_kinds\"", cat},
            {"\"amount\":{\"type\":\"amount\"", field},
            {"\"credit\":{\"subject_kinds\":[\"person\"]}}", purpose},
            {"\"currency\":{\"type\":\"currency\",\"required\":true}", val},
            {"\"payment_default\":{\"subject_kinds\"", desc},
        };
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            prb_policy *p = NULL;
            int rc = load_variant(where[w].from, where[w].to, &p);
            cr_expect_eq(rc, PRB_EREFUSED, "%s at place %zu: rc %d: %s", n, w, rc,
                         prb_policy_errmsg(p));
            cr_expect(strstr(prb_policy_errmsg(p), refused[i].cls) != NULL,
                      "%s at place %zu: message '%s' does not name class '%s'", n, w,
                      prb_policy_errmsg(p), refused[i].cls);
            cr_expect(strstr(prb_policy_errmsg(p), "invariant 1") != NULL);
            prb_policy_free(p);
        }
    }
}

Test(policy, refused_matching_is_by_whole_word)
{
    char term[64];
    /* Words that merely contain a refused term are allowed. */
    const char *ok[] = {"trace_id", "third_party_debt", "account_movement_count", "embrace",
                        "court",    "workplace_safety", "european_union_grant",   "face_value"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect_null(prb_refused_class(ok[i], term, sizeof term), "%s refused as %s", ok[i],
                       term);
    /* "face" is biometric, but a face value is a bond's or a bill's. */
    cr_expect_not_null(prb_refused_class("face_scan", term, sizeof term));
    cr_assert_not_null(prb_refused_class("RaceCode", term, sizeof term));
    cr_assert_str_eq(term, "race");
    cr_assert_not_null(prb_refused_class("trade-union dues", term, sizeof term));
    cr_assert_str_eq(term, "trade union");
}

/* ------------------------------------------- features, lists and purposes */

#include <jansson.h>

/* Loads policy/default.json changed by edit(); returns the loader's code. */
static int load_edited(void (*edit)(json_t *root), prb_policy **p)
{
    char path[512];
    json_error_t err;
    json_t *root = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    edit(root);
    char *text = json_dumps(root, 0);
    json_decref(root);
    int rc = prb_policy_load_buf("edited.json", text, strlen(text), p);
    free(text);
    return rc;
}

static void refused_feature(json_t *root)
{
    json_object_set_new(
        json_object_get(root, "features"), "religious_donations",
        json_pack("{s:s, s:[s]}", "kind", "count", "categories", "payment_default"));
}

static void public_person_list(json_t *root)
{
    json_t *l = json_object_get(json_object_get(root, "lists"), "debtor_register");
    json_object_set_new(l, "publication", json_string("public"));
}

/* Tenancy may not use credit accounts: a scorecard that reads them is a
 * policy error, not a silent zero. */
static void tenancy_reads_accounts(json_t *root)
{
    json_t *chars = json_object_get(
        json_object_get(json_object_get(root, "scorecards"), "tenancy_check"), "characteristics");
    json_array_append_new(chars,
                          json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                    "feature", "worst_dpd_24m", "bins", "missing", 1, "points", 0,
                                    "reason", "A00", "text", "No account", "otherwise", 1, "points",
                                    -10, "reason", "A01", "text", "Late"));
}

static void list_not_consulted(json_t *root)
{
    json_t *rule =
        json_object_get(json_object_get(json_object_get(root, "purposes"), "tenancy"), "rule");
    json_array_insert_new(
        rule, 0,
        json_pack("{s:s, s:s}", "if_listed", "procurement_exclusion", "outcome", "decline"));
}

/* Credit consults only a list that does not serve it: a procurement
 * exclusion would decline credit (invariant 3). Checked for the first
 * list named as for the others. */
static void credit_consults_an_exclusion(json_t *root)
{
    json_t *credit = json_object_get(json_object_get(root, "purposes"), "credit");
    json_object_set_new(credit, "lists", json_pack("[s]", "procurement_exclusion"));
}

/* A purpose that names one of its lists twice. */
static void list_named_twice(json_t *root)
{
    json_t *lists =
        json_object_get(json_object_get(json_object_get(root, "purposes"), "credit"), "lists");
    json_array_append(lists, json_array_get(lists, 0));
}

static void open_ended_rule(json_t *root)
{
    json_t *rule =
        json_object_get(json_object_get(json_object_get(root, "purposes"), "credit"), "rule");
    json_array_remove(rule, json_array_size(rule) - 1);
}

static void refused_reason_text(json_t *root)
{
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(json_array_get(json_object_get(c, "bins"), 1), "text",
                        json_string("Attended a protest"));
}

/* A threshold past the bound of scores (or inf) decides every score alike. */
static void huge_threshold(json_t *root)
{
    json_t *rule =
        json_object_get(json_object_get(json_object_get(root, "purposes"), "credit"), "rule");
    json_object_set_new(json_array_get(rule, 2), "if_score_below", json_real(1e308));
}

/* Scores are compared with thresholds exactly, in millionths of a point:
 * one with more decimals cannot be held, and is refused, not rounded. */
static void threshold_of_seven_decimals(json_t *root)
{
    json_t *rule =
        json_object_get(json_object_get(json_object_get(root, "purposes"), "credit"), "rule");
    json_object_set_new(json_array_get(rule, 2), "if_score_below", json_real(520.0000001));
}

/* Points past the bound: base_score 1e308 plus a bin of 1e308 was inf,
 * and inf is not below any threshold, so it was approved. */
static void huge_base_score(json_t *root)
{
    json_object_set_new(json_object_get(json_object_get(root, "scorecards"), "person_credit"),
                        "base_score", json_real(1e308));
}

/* Invariant 3 for inquiries features, which read no category: a tenancy
 * characteristic on credit_inquiries_6m let credit inquiries decide
 * tenancy. */
static void tenancy_counts_credit_inquiries(json_t *root)
{
    json_t *chars = json_object_get(
        json_object_get(json_object_get(root, "scorecards"), "tenancy_check"), "characteristics");
    json_array_append_new(chars,
                          json_pack("{s:s, s:[{s:b, s:i, s:s, s:s}, {s:b, s:i, s:s, s:s}]}",
                                    "feature", "credit_inquiries_6m", "bins", "missing", 1,
                                    "points", 0, "reason", "Q00", "text", "No inquiry", "otherwise",
                                    1, "points", -10, "reason", "Q01", "text", "Inquiries"));
}

/* Counting its own purpose and another is as bad as another alone. */
static void credit_counts_tenancy_inquiries(json_t *root)
{
    json_t *f = json_object_get(json_object_get(root, "features"), "credit_inquiries_6m");
    json_array_append_new(json_object_get(f, "purposes"), json_string("tenancy"));
}

/* lists.c computes entries without inquiries: such a ground could never
 * hold (or would hold for everyone through missing_as). */
static void ground_on_inquiries(json_t *root)
{
    json_t *l = json_object_get(json_object_get(root, "lists"), "debtor_register");
    json_t *g = json_object_get(json_object_get(l, "grounds"), "unpaid_judgment");
    json_object_set_new(json_object_get(g, "criteria"), "credit_inquiries_6m",
                        json_pack("{s:i}", "min", 5));
}

/* A misspelt enum value never matched: the feature silently counted
 * nothing. */
static void misspelt_where_value(json_t *root)
{
    json_t *f = json_object_get(json_object_get(root, "features"), "insolvencies");
    json_object_set_new(f, "where",
                        json_pack("{s:{s:[s,s]}}", "stage", "values", "filed", "opend"));
}

/* Values on a numeric field can never match: the record holds a number. */
static void values_on_numeric_field(json_t *root)
{
    json_t *f = json_object_get(json_object_get(root, "features"), "worst_dpd_24m");
    json_object_set_new(f, "where", json_pack("{s:{s:[s]}}", "worst_dpd", "values", "90"));
}

/* Amounts are not converted: 500 EUR and 100,000 JPY summed to 100,500. */
static void sum_of_any_currency(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "default_amount",
                        json_pack("{s:s, s:[s], s:s}", "kind", "sum", "categories",
                                  "payment_default", "field", "amount"));
}

/* "At least 1,000" held for 1,000 JPY and not for 999 KWD. */
static void amount_bound_of_any_currency(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "large_defaults",
                        json_pack("{s:s, s:[s], s:{s:{s:i}}}", "kind", "count", "categories",
                                  "payment_default", "where", "amount", "min", 1000));
}

/* Two currencies are as mixed as any. */
static void max_of_two_currencies(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "largest_default",
                        json_pack("{s:s, s:[s], s:s, s:{s:{s:[s,s]}}}", "kind", "max", "categories",
                                  "payment_default", "field", "amount", "where", "currency",
                                  "values", "EUR", "JPY"));
}

/* Records hold ISO 4217 codes in capitals: "eur" never matched. */
static void pin_of_no_currency(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "default_euros",
                        json_pack("{s:s, s:[s], s:s, s:{s:{s:[s]}}}", "kind", "sum", "categories",
                                  "payment_default", "field", "amount", "where", "currency",
                                  "values", "eur"));
}

/* Judgments name their currency field "ccy": a pin of both fields made
 * each record fail the other's condition, and the sum counted nothing. */
static void pins_of_two_currency_fields(json_t *root)
{
    json_t *fields = json_object_get(
        json_object_get(json_object_get(root, "categories"), "court_judgment"), "fields");
    json_object_set(fields, "ccy", json_object_get(fields, "currency"));
    json_object_del(fields, "currency");
    json_t *features = json_object_get(root, "features");
    json_object_set_new(features, "debt_euros",
                        json_pack("{s:s, s:[s,s], s:s, s:{s:{s:[s]}, s:{s:[s]}}}", "kind", "sum",
                                  "categories", "payment_default", "court_judgment", "field",
                                  "amount", "where", "currency", "values", "EUR", "ccy", "values",
                                  "EUR"));
}

/* A feature on credit_account with "where": {"opened_date": bound}. */
static json_t *date_bound;
static void opened_date_bound(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "recent_accounts",
                        json_pack("{s:s, s:[s], s:{s:{s:O}}}", "kind", "count", "categories",
                                  "credit_account", "where", "opened_date", "min", date_bound));
}

/* A date is held as its day number since 1970: a bound written as the
 * number 20200101 loaded and, some 55,000 years on, matched nothing. */
static void opened_date_number_bound(json_t *root)
{
    date_bound = json_integer(20200101);
    opened_date_bound(root);
    json_decref(date_bound);
}

static void opened_date_bad_bound(json_t *root)
{
    date_bound = json_string("2020-02-30");
    opened_date_bound(root);
    json_decref(date_bound);
}

/* A sum, min or max of a date field made a day number (18628) that bins
 * scored and a reason's value showed the subject. */
static const char *date_kind;
static void date_aggregate(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "dated_accounts",
                        json_pack("{s:s, s:[s], s:s}", "kind", date_kind, "categories",
                                  "credit_account", "field", "opened_date"));
}

static void sum_of_dates(json_t *root)
{
    date_kind = "sum";
    date_aggregate(root);
}

static void min_of_dates(json_t *root)
{
    date_kind = "min";
    date_aggregate(root);
}

static void max_of_dates(json_t *root)
{
    date_kind = "max";
    date_aggregate(root);
}

/* A "missing" bin on tax_arrears_open, which has missing_as and so is
 * never missing: no subject could get its 30 points, yet as the best bin
 * it gave every subject reason T00, 10 points below it. */
static void missing_bin_never_missing(json_t *root)
{
    json_t *chars = json_object_get(
        json_object_get(json_object_get(root, "scorecards"), "person_credit"), "characteristics");
    json_t *bins = json_object_get(json_array_get(chars, 6), "bins");
    json_array_insert_new(bins, 0,
                          json_pack("{s:b, s:i, s:s, s:s}", "missing", 1, "points", 30, "reason",
                                    "T09", "text", "No tax arrears on file"));
}

Test(policy, rules_over_features_and_lists_are_checked)
{
    const struct {
        void (*edit)(json_t *);
        int rc;
        const char *msg;
    } cases[] = {
        {refused_feature, PRB_EREFUSED,
         "$.features.religious_donations: refused: 'religious' is religion or belief data"},
        {public_person_list, PRB_EREFUSED, "a list of persons can never be public"},
        {tenancy_reads_accounts, PRB_EPOLICY,
         "scorecard tenancy_check reads feature worst_dpd_24m over credit_account records"},
        {list_not_consulted, PRB_EPOLICY, "'procurement_exclusion' is not one of the purpose's"},
        {open_ended_rule, PRB_EPOLICY, "the last step must have no condition"},
        {credit_consults_an_exclusion, PRB_EPOLICY,
         "$.purposes.credit.lists: [0] list procurement_exclusion does not serve purpose credit"},
        {list_named_twice, PRB_EPOLICY,
         "$.purposes.credit.lists: [1] list debtor_register is named twice"},
        {refused_reason_text, PRB_EREFUSED, "protest"},
        {tenancy_counts_credit_inquiries, PRB_EPOLICY,
         "scorecard tenancy_check reads feature credit_inquiries_6m, which counts inquiries "
         "made for credit; a purpose's scorecard may count only inquiries made for that purpose "
         "(here only tenancy)"},
        {credit_counts_tenancy_inquiries, PRB_EPOLICY,
         "$.purposes.credit: scorecard person_credit reads feature credit_inquiries_6m, which "
         "counts inquiries made for tenancy"},
        {ground_on_inquiries, PRB_EPOLICY,
         "$.lists.debtor_register.grounds.unpaid_judgment.criteria.credit_inquiries_6m: "
         "'credit_inquiries_6m' counts inquiries"},
        {misspelt_where_value, PRB_EPOLICY,
         "$.features.insolvencies.where.stage: values[1] 'opend' is not a value of the enum "
         "field 'stage' of insolvency"},
        {values_on_numeric_field, PRB_EPOLICY,
         "$.features.worst_dpd_24m.where.worst_dpd: \"values\" need a string, enum or currency "
         "field; 'worst_dpd' of credit_account is integer"},
        {huge_threshold, PRB_EPOLICY,
         "$.purposes.credit.rule[2].if_score_below: must be a number between -1e9 and 1e9"},
        {huge_base_score, PRB_EPOLICY,
         "$.scorecards.person_credit.base_score: must be between -1e9 and 1e9"},
        {threshold_of_seven_decimals, PRB_EPOLICY,
         "$.purposes.credit.rule[2].if_score_below: must have at most 6 decimals, as points do"},
        {sum_of_any_currency, PRB_EPOLICY,
         "$.features.default_amount: the feature adds up or compares the amount 'amount' of "
         "payment_default, whose records may be in any currency, and amounts are not "
         "converted: add \"where\": {\"currency\": {\"values\": [ONE CURRENCY]}}"},
        {amount_bound_of_any_currency, PRB_EPOLICY,
         "$.features.large_defaults: the feature bounds the amount 'amount' of payment_default"},
        {max_of_two_currencies, PRB_EPOLICY, "$.features.largest_default: the feature adds up"},
        {pin_of_no_currency, PRB_EPOLICY,
         "$.features.default_euros.where.currency: values[0] 'eur' is not a currency code as "
         "records hold them (ISO 4217: three capital letters)"},
        {missing_bin_never_missing, PRB_EPOLICY,
         "$.scorecards.person_credit.characteristics[6].bins[0]: a bin of characteristic "
         "'tax_arrears_open' that can never apply: feature 'tax_arrears_open' is never missing "
         "(the policy gives it missing_as)"},
        {pins_of_two_currency_fields, PRB_EPOLICY,
         "$.features.debt_euros: the feature adds up or compares amounts of payment_default and "
         "court_judgment, whose currencies are in fields of different names ('currency', "
         "'ccy')"},
        {opened_date_number_bound, PRB_EPOLICY,
         "$.features.recent_accounts.where.opened_date.min: 'opened_date' is a date: write the "
         "bound as a date, \"YYYY-MM-DD\", not a number"},
        {opened_date_bad_bound, PRB_EPOLICY,
         "$.features.recent_accounts.where.opened_date.min: '2020-02-30' is not a date "
         "\"YYYY-MM-DD\""},
        {sum_of_dates, PRB_EPOLICY,
         "$.features.dated_accounts.field: 'opened_date' of credit_account is a date, and dates "
         "do not add up"},
        {min_of_dates, PRB_EPOLICY,
         "$.features.dated_accounts.field: 'opened_date' of credit_account is a date: for the "
         "earliest, use the kind months_since_earliest with this \"field\""},
        {max_of_dates, PRB_EPOLICY,
         "$.features.dated_accounts.field: 'opened_date' of credit_account is a date: for the "
         "latest, use the kind months_since_latest with this \"field\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prb_policy *p = NULL;
        int rc = load_edited(cases[i].edit, &p);
        cr_expect_eq(rc, cases[i].rc, "case %zu: rc %d: %s", i, rc, prb_policy_errmsg(p));
        cr_expect(strstr(prb_policy_errmsg(p), cases[i].msg) != NULL, "case %zu: '%s' lacks '%s'",
                  i, prb_policy_errmsg(p), cases[i].msg);
        prb_policy_free(p);
    }
}

static void sum_of_euros(json_t *root)
{
    json_object_set_new(json_object_get(root, "features"), "default_euros",
                        json_pack("{s:s, s:[s,s], s:s, s:{s:{s:[s]}, s:{s:i}}}", "kind", "sum",
                                  "categories", "payment_default", "court_judgment", "field",
                                  "amount", "where", "currency", "values", "EUR", "amount", "min",
                                  100));
}

/* The same sum with the currency pinned loads: it adds euros only. */
/* Forms a policy adopted before 2026-11-28 could hold: a min of dates,
 * and one interval on opened_date, a date in credit_account and (added
 * here) an integer in payment_default, bounded by a number. */
static void mixed_date_bound_and_min_of_dates(json_t *root)
{
    json_t *feats = json_object_get(root, "features");
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(root, "categories"), "payment_default"),
                        "fields"),
        "opened_date", json_pack("{s:s}", "type", "integer"));
    json_object_set_new(feats, "opened_since",
                        json_pack("{s:s, s:[s, s], s:{s:{s:i}}}", "kind", "count", "categories",
                                  "credit_account", "payment_default", "where", "opened_date",
                                  "min", 18262));
    json_object_set_new(feats, "first_opened",
                        json_pack("{s:s, s:[s], s:s}", "kind", "min", "categories",
                                  "credit_account", "field", "opened_date"));
}

/* prb_policy_load_kept: a register's policy in force loads the forms it
 * was adopted with and names them; the same file is held to every rule
 * when it is not the one in force. */
Test(policy, the_policy_in_force_loads_the_forms_of_before)
{
    char src[512], *dir = th_tmpdir(), path[700];
    unsigned char other[32] = {0};
    json_error_t jerr;
    json_t *root = json_load_file(th_path(src, sizeof src, "policy/default.json"), 0, &jerr);
    prb_policy *p = NULL;
    cr_assert_not_null(root, "%s", jerr.text);
    mixed_date_bound_and_min_of_dates(root);
    list_named_twice(root); /* refused since b7cfb72 */
    snprintf(path, sizeof path, "%s/policy.json", dir);
    cr_assert_eq(json_dump_file(root, path, 0), 0);
    json_decref(root);

    cr_assert_eq(prb_policy_load_kept(path, NULL, &p), PRB_OK, "%s", prb_policy_errmsg(p));
    cr_expect_eq(p->old_forms, PRB_OLD_DATE_MIXED | PRB_OLD_DATE_AGGREGATE | PRB_OLD_LIST_TWICE);
    cr_expect(strstr(p->old_forms_text, "$.purposes.credit.lists[1]: list debtor_register is "
                                        "named twice, and read once"),
              "%s", p->old_forms_text);
    /* Read once: its entry no longer stands twice in a decision. */
    const prb_purposedef *credit = &p->purposes[prb_policy_purpose(p, "credit")];
    for (size_t i = 0; i < credit->nlists; i++)
        for (size_t k = 0; k < i; k++)
            cr_expect_neq(credit->lists[k], credit->lists[i], "list %d read twice",
                          credit->lists[i]);
    cr_expect(strstr(p->old_forms_text,
                     "$.features.opened_since.where.opened_date: one interval bounds "
                     "'opened_date', a date in some of the feature's categories and not in "
                     "others, by the same numbers"),
              "%s", p->old_forms_text);
    cr_expect(strstr(p->old_forms_text, "$.features.first_opened.field: a min of the date field "
                                        "'opened_date' of credit_account"),
              "%s", p->old_forms_text);
    prb_policy_free(p);
    p = NULL;

    cr_expect_eq(prb_policy_load_kept(path, other, &p), PRB_EPOLICY);
    cr_expect(strstr(prb_policy_errmsg(p),
                     "$.features.opened_since.where.opened_date: 'opened_date' is a date in some "
                     "of the feature's categories and not in others: one interval cannot bound "
                     "both"),
              "%s", prb_policy_errmsg(p));
    prb_policy_free(p);
    p = NULL;
    cr_expect_eq(prb_policy_load(path, &p), PRB_EPOLICY, "a policy adopted: every rule");
    prb_policy_free(p);
    th_rmrf(dir);
}

Test(policy, an_amount_feature_of_one_currency_loads)
{
    prb_policy *p = NULL;
    cr_assert_eq(load_edited(sum_of_euros, &p), PRB_OK, "%s", prb_policy_errmsg(p));
    prb_policy_free(p);
}
