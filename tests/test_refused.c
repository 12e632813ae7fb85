/*
 * test_refused.c - DESIGN invariant 1 against names and texts made to slip
 * past it: plurals and verb forms, words run together, digits, odd case,
 * look-alike letters from other scripts, hidden characters, a refused
 * word after many ordinary ones, pinyin and German names; and ordinary
 * credit vocabulary that must still load.
 * Names go in as a field and as an enum value, texts as a category's
 * description and a bin's text, of the shipped default policy.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"

TestSuite(refused);

/* A name or a text, and the class it must be refused as. */
struct want {
    const char *text, *cls;
};

/* Names a review found accepted, and more of their kind. */
static const struct want names[] = {
    {"religion2", "religion"},
    {"healthcare_costs", "health"},
    {"mentalhealth", "health"},
    {"sexlife", "sex life"},
    {"tradeunion_dues", "trade-union"},
    {"partymember", "political"},
    {"party_dues", "political"},
    {"muslims", "religion"},
    {"christians", "religion"},
    {"hindus", "religion"},
    {"catholic", "religion"},
    {"protestant", "religion"},
    {"sunni", "religion"},
    {"tibetan", "ethnicity"},
    {"uighur_origin", "ethnicity"},
    {"congregation", "religion"},
    {"voted", "political"},
    {"strike_participation", "trade-union"},
    {"rally_attendance", "political"},
    {"cancer_treatment", "health"},
    {"drug_addiction", "health"},
    {"border_crossings", "location"},
    {"travel_records", "location"},
    {"location_visits", "location"},
    {"movement_log", "location"},
    {"train_trips", "location"},
    {"search_terms", "internet searches"},
    {"search_log", "internet searches"},
    {"online_comments", "speech"},
    /* forms and compounds */
    {"protested", "political"},
    {"protests", "political"},
    {"protester_flag", "political"},
    {"worshippers", "religion"},
    {"racism_flag", "ethnicity"},
    {"hinduism", "religion"},
    {"racecode", "ethnicity"},
    {"faceid", "biometrics"},
    {"heterosexual", "sex life"},
    {"searchlog", "internet searches"},
    {"hospitalized", "health"},
    {"h1v_status", "health"},
    /* pinyin, for cn-rid subjects */
    {"zhengzhi_mianmao", "political"},
    {"zhengzhimianmao", "political"},
    {"dangyuan", "political"},
    {"cpc_member", "political"},
    {"cpc_membership", "political"},
    {"ccp_member", "political"},
    {"ccp_membership", "political"},
    {"minzu", "ethnicity"},
    {"zongjiao_xinyang", "religion"},
    {"jiankang_zhuangkuang", "health"},
    /* German, for de-taxid subjects */
    {"konfession", "religion"},
    {"kirchensteuer", "religion"},
    {"kirchensteuermerkmal", "religion"},
    {"gesundheit", "health"},
    {"gesundheitszustand", "health"},
    {"krankheit", "health"},
    {"behinderung", "health"},
    {"politisch", "political"},
    {"politische_einstellung", "political"},
    {"parteimitglied", "political"},
    {"parteizugehoerigkeit", "political"},
    {"gewerkschaft", "trade-union"},
    {"gewerkschaftsmitglied", "trade-union"},
    /* English */
    {"creed", "religion"},
    {"sect", "religion"},
    {"sect_member", "religion"},
    {"denominational_school", "religion"},
    {"kosher", "religion"},
    {"halal_diet", "religion"},
    {"halal_food", "religion"},
    {"halal_meal", "religion"},
    {"blood_type", "health"},
    {"bloodgroup", "health"},
    {"bmi", "health"},
    {"latitude", "location"},
    {"longitude", "location"},
    {"last_known_coordinates", "location"},
    {"geo_coordinates", "location"},
    {"geo_lat", "location"},
    {"geo_lng", "location"},
    {"geo_lon", "location"},
    {"geo_long", "location"},
    {"lat_long", "location"},
    {"latlng", "location"},
    {"lat_lon", "location"},
    {"checkins", "location"},
    {"check_ins", "location"},
    /* petitions are refused only in phrases (a winding-up petition is not) */
    {"signed_petitions", "political"},
    {"petitions_signed", "political"},
    {"petition_signatures", "political"},
    {"petition_signatory", "political"},
    {"petition_campaign", "political"},
    {"online_petitions", "political"},
};

/* The same names in other spellings, as names reach prb_refused_class from
 * ingest, CSV headers and PMML (a policy's own names are a-z, 0-9 and _). */
static const struct want spellings[] = {
    {"ReligioN", "religion"},
    {"RELIGIONCODE", "religion"},
    {"MENTALHEALTH", "health"},
    {"TRADEUNIONDUES", "trade-union"},
    {"HIVStatus", "health"},
    {"r\xd0\xb5ligion", "religion"},                /* Cyrillic e */
    {"r\xd0\xb0\xd1\x81\xd0\xb5", "ethnicity"},     /* Cyrillic a, c, e: "race" */
    {"\xef\xbd\x92\xef\xbd\x85ligion", "religion"}, /* fullwidth r, e */
    {"reli\xe2\x80\x8bgion", "religion"},           /* a zero-width space inside */
    {"reli\xc2\xadgion", "religion"},               /* a soft hyphen inside */
    {"rel\xc3\xadgion", "religion"},                /* i with an acute */
    {"re\xcc\x81ligion", "religion"},               /* a combining accent */
    {"r\xe1\xba\xb9ligion", "religion"},            /* e with a dot below: any letter */
    {"r e l i g i o n", "religion"},
};

/* Ordinary credit vocabulary that must stay allowed. */
static const char *const ordinary[] = {
    "balance",
    "credit_limit",
    "days_past_due",
    "court_judgment",
    "insolvency",
    "tax_arrears",
    "procurement",
    "contract_party",
    "counterparty",
    "third_party",
    "search_fee",
    "credit_searches",
    "account_movements",
    "movement_type",
    "currency_denomination",
    "denominated_in",
    "credit_union_member",
    "european_union_grant",
    "strike_off_date",
    "struck_off",
    "tax_treatment",
    "comment",
    "trip_cancellation_fee",
    "branch_location",
    "environmental_fine",
    "supplemental_income",
    "fundamental_breach",
    "hospitality_sector",
    "competition_fine",
    "selection_date",
    "forecast_date",
    "rehabilitation_proceedings",
    "collateral_value",
    "trace_id",
    "interest_rate",
    "guarantor",
    "generally_late",
    "insolvency_petition",
    "bankruptcy_petition",
    "liquidation_petition",
    "creditor_petition",
    "winding_up_petition",
    "petition_date",
    "petitioner",
    "credit_union",
    "european_union",
    "hard_search",
    "soft_search",
    "credit_search",
    /* a bill protest is an adverse credit record (Italy's protest register,
     * Brazil's protesto), not a political one */
    "bill_protest",
    "bill_protests",
    "cheque_protest",
    "check_protest",
    "protest_date",
    "protest_register",
    "protested_bill",
    "protested_cheque",
    "protested_check",
    "protested_note",
    "protested_draft",
    "protested_payment",
    "protested_payments",
    "audit_opinion",
    "auditor_opinion",
    "qualified_opinion",
    "unqualified_opinion",
    "adverse_opinion",
    "legal_opinion",
    "minority_shareholder",
    "minority_shareholders",
    "minority_shareholding",
    "minority_interest",
    "minority_stake",
    "minority_holding",
    "minority_investor",
    "voting_rights",
    "voting_shares",
    "voting_stock",
    "voting_power",
    "voting_control",
    "voting_interest",
    "face_value",
    "face_amount",
    "good_faith",
    "bad_faith_filing",
    "financial_health",
    "credit_health",
    "denomination",
    "denominations",
    "currency_denomination",
    "church_street_branch",
    "church_road",
    "church_lane",
    "temple_bar",
    "bloodstock",
    /* words that hold a new term */
    "sector_code",
    "section",
    "platitude",
    "decreed",
    "coordinator",
    "coordinated_proceedings",
    "checking_account",
    "latest_payment",
    "submission_date",
};

/* ---------------------------------------------------- policy edits */

static const char *subject; /* the name or text the edits below put in */

static json_t *payment_default(json_t *root)
{
    return json_object_get(json_object_get(root, "categories"), "payment_default");
}

static void as_field(json_t *root)
{
    json_object_set_new(json_object_get(payment_default(root), "fields"), subject,
                        json_pack("{s:s}", "type", "amount"));
}

static void as_enum_value(json_t *root)
{
    json_object_set_new(json_object_get(payment_default(root), "fields"), "kind",
                        json_pack("{s:s, s:[s, s]}", "type", "enum", "values", "none", subject));
}

static void as_description(json_t *root)
{
    json_object_set_new(payment_default(root), "description", json_string(subject));
}

static void as_bin_text(json_t *root)
{
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(json_array_get(json_object_get(c, "bins"), 1), "text",
                        json_string(subject));
}

/* Loads policy/default.json changed by edit with text; returns the loader's
 * code and leaves its message in msg. */
static int load_with(void (*edit)(json_t *), const char *text, char *msg, size_t msglen)
{
    char path[512];
    json_error_t err;
    prb_policy *p = NULL;
    json_t *root = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    subject = text;
    edit(root);
    char *doc = json_dumps(root, 0);
    json_decref(root);
    int rc = prb_policy_load_buf("edited.json", doc, strlen(doc), &p);
    snprintf(msg, msglen, "%s", rc ? prb_policy_errmsg(p) : "");
    prb_policy_free(p);
    free(doc);
    return rc;
}

static void expect_refused(void (*edit)(json_t *), const char *where, const struct want *w)
{
    char msg[1024];
    int rc = load_with(edit, w->text, msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "'%s' as %s: rc %d: %s", w->text, where, rc, msg);
    cr_expect(strstr(msg, w->cls) && strstr(msg, "invariant 1"),
              "'%s' as %s: '%s' does not name class '%s'", w->text, where, msg, w->cls);
}

/* ------------------------------------------------------------ tests */

Test(refused, names_that_slipped_past_are_refused_in_a_policy)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        expect_refused(as_field, "a field", &names[i]);
        expect_refused(as_enum_value, "an enum value", &names[i]);
        expect_refused(as_description, "a description", &names[i]);
    }
}

Test(refused, other_spellings_are_refused_naming_the_class_and_term)
{
    char term[64];
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const char *cls = prb_refused_class(spellings[i].text, term, sizeof term);
        cr_expect(cls && strstr(cls, spellings[i].cls), "'%s' refused as %s, want %s",
                  spellings[i].text, cls ? cls : "nothing", spellings[i].cls);
        expect_refused(as_description, "a description", &spellings[i]);
        expect_refused(as_bin_text, "a bin text", &spellings[i]);
    }
    cr_assert_not_null(prb_refused_class("r\xd0\xb5ligion", term, sizeof term));
    cr_expect_str_eq(term, "religion");
    cr_assert_not_null(prb_refused_class("TRADEUNIONDUES", term, sizeof term));
    cr_expect_str_eq(term, "trade union");
}

/* A policy's names are a-z, 0-9 and '_': a look-alike letter in one is
 * refused by the naming rule, before invariant 1 is asked. */
Test(refused, a_name_with_a_look_alike_letter_is_refused)
{
    char msg[1024];
    int rc = load_with(as_field, "r\xd0\xb5ligion", msg, sizeof msg);
    cr_expect_eq(rc, PRB_EPOLICY, "%d: %s", rc, msg);
    cr_expect(strstr(msg, "may hold only a-z, 0-9 and '_'"), "%s", msg);
}

Test(refused, ordinary_credit_vocabulary_still_loads)
{
    char msg[1024], term[64], text[4096] = "Ordinary words:";
    for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++) {
        const char *cls = prb_refused_class(ordinary[i], term, sizeof term);
        cr_expect_null(cls, "'%s' refused as %s ('%s')", ordinary[i], cls, term);
        cr_expect_eq(load_with(as_field, ordinary[i], msg, sizeof msg), PRB_OK, "%s: %s",
                     ordinary[i], msg);
        strcat(strcat(text, " "), ordinary[i]);
    }
    cr_expect_eq(load_with(as_description, text, msg, sizeof msg), PRB_OK, "%s", msg);
    cr_expect_eq(load_with(as_bin_text, "Paid off a credit union loan on time", msg, sizeof msg),
                 PRB_OK, "%s", msg);
}

/* Every word of a text is read, not its first 64. */
Test(refused, a_refused_word_after_200_others_is_refused)
{
    static char text[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s ", i % 2 ? "payment" : "late");
    snprintf(text + n, sizeof text - n, "religion");
    const char *cls = prb_refused_class(text, NULL, 0);
    cr_expect(cls && strstr(cls, "religion"), "refused as %s", cls ? cls : "nothing");
    /* The loader's message quotes the text, cut to the message's size, so
     * only its code is checked here. */
    char msg[1024];
    int rc = load_with(as_description, text, msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "as a description: rc %d", rc);
    /* A bin's text holds 500 bytes: 70 words, then the refused one. */
    rc = load_with(as_bin_text, text + n - 35 * strlen("late payment "), msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "as a bin text: rc %d: %s", rc, msg);

    /* and so is one at the end of a word far longer than a word can be */
    static char word[2048];
    memset(word, 'x', sizeof word - 1);
    memcpy(word + sizeof word - 1 - strlen("religion"), "religion", strlen("religion"));
    cr_expect_not_null(prb_refused_class(word, NULL, 0), "a long word ending in religion");
}
