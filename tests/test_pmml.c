/*
 * test_pmml.c - PMML Scorecard import: the sample scorecard of the PMML
 * 4.4 specification (tests/data/scorecard_sample.pmml) with its scores and
 * reason codes worked out by hand, every predicate kind and PMML's
 * three-valued logic for missing values (scorecard_predicates.pmml),
 * pointsAbove against pointsBelow, baselines at both levels, unsupported
 * constructs refused with element name and line, DESIGN invariant 1 on
 * field names, malformed XML, and DTDs/entities (XXE) refused.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"
#include "scorecard.h"

TestSuite(pmml);

/* x points in the millionths a model holds them in. */
#define PTS(x) ((prb_points)llround((x) * (double)PRB_SC_POINTS_UNIT))

#define SAMPLE "tests/data/scorecard_sample.pmml"
#define PREDS "tests/data/scorecard_predicates.pmml"

static int load_text(const char *text, prb_scorecard **sc, char *err, size_t n)
{
    *sc = NULL;
    return prb_sc_from_pmml("t.pmml", text, strlen(text), NULL, NULL, sc, err, n);
}

static prb_scorecard *load(const char *rel)
{
    char *buf = th_slurp(rel), err[512];
    prb_scorecard *sc = NULL;
    cr_assert_not_null(buf, "cannot read %s", rel);
    int rc = load_text(buf, &sc, err, sizeof err);
    cr_assert_eq(rc, PRB_OK, "%s", err);
    free(buf);
    return sc;
}

/* src with the first (or every) `from` replaced by `to`; malloc'd. */
static char *replace(const char *src, const char *from, const char *to, int all)
{
    const char *r = src, *at;
    size_t n = 0;
    char *out, *w;
    cr_assert_not_null(strstr(src, from), "test bug: '%s' not in the document", from);
    for (at = strstr(r, from); at; at = strstr(at + strlen(from), from))
        n++;
    out = w = malloc(strlen(src) + n * strlen(to) + 1);
    cr_assert_not_null(out);
    while ((at = strstr(r, from))) {
        memcpy(w, r, (size_t)(at - r));
        w += at - r;
        memcpy(w, to, strlen(to));
        w += strlen(to);
        r = at + strlen(from);
        if (!all)
            break;
    }
    strcpy(w, r);
    return out;
}

/* A fixture with one replacement (or all). */
static char *variant(const char *rel, const char *from, const char *to, int all)
{
    char *src = th_slurp(rel), *out;
    cr_assert_not_null(src, "cannot read %s", rel);
    out = replace(src, from, to, all);
    free(src);
    return out;
}

/* The line libxml2 gives an element: the line where its start tag ends
 * (the first '>' after needle), 1-based. */
static long line_of(const char *doc, const char *needle)
{
    const char *at = strstr(doc, needle);
    long line = 1;
    cr_assert_not_null(at, "test bug: '%s' not in the variant", needle);
    at = strchr(at, '>');
    cr_assert_not_null(at);
    for (const char *p = doc; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Values in MiningSchema order. NAN is a missing number, NULL a missing
 * category. */
static prb_value N(double x)
{
    return (prb_value){!isnan(x), x, NULL};
}

static prb_value S(const char *s)
{
    return (prb_value){s != NULL, 0, s};
}

static void expect(const prb_scorecard *sc, const prb_value *v, double score, size_t n,
                   const char *const *codes, const double *points)
{
    prb_score s;
    char err[256] = "";
    int rc = prb_sc_eval(sc, v, &s, err, sizeof err);
    cr_assert_eq(rc, PRB_OK, "%s", err);
    cr_assert_eq(s.score, PTS(score));
    cr_assert_eq(s.nreasons, n, "score %g: %zu reasons, expected %zu (first %s)", score, s.nreasons,
                 n, s.nreasons ? s.reasons[0].code : "-");
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(s.reasons[i].code, codes[i], "score %g, reason %zu", score, i);
        cr_assert_eq(s.reasons[i].points_lost, PTS(points[i]), "reason %s", codes[i]);
    }
}

/* ------------------------------------------------ the spec's sample */

Test(pmml, sample_reads_fields_and_model)
{
    prb_scorecard *sc = load(SAMPLE);
    cr_assert_eq(sc->nfields, 3, "the predicted field is not an input");
    cr_assert_str_eq(sc->fields[0], "department");
    cr_assert_eq(sc->field_kind[0], PRB_FIELD_CATEGORICAL);
    cr_assert_str_eq(sc->fields[2], "income");
    cr_assert_eq(sc->field_kind[2], PRB_FIELD_NUMERIC);
    cr_assert_eq(sc->ncharacs, 3);
    cr_assert_str_eq(sc->characs[1].name, "ageScore");
    cr_assert_str_eq(sc->characs[1].reason_code, "RC2");
    cr_assert_eq(sc->characs[1].baseline, PTS(18));
    cr_assert_eq(sc->characs[1].nattrs, 5);
    cr_assert_eq(sc->reason_algo, PRB_POINTS_BELOW);
    cr_assert_eq(sc->has_baseline, 0);
    cr_assert_eq(sc->has_scaling, 0);
    double odds;
    cr_assert_eq(prb_sc_odds(sc, 10, &odds), -1, "PMML carries no scaling");
    prb_sc_free(sc);
}

/* engineering 3 (19-3 = 16 below), age 25 -> 0 (18 below), income 500 ->
 * 26 (16 above its baseline 10: not a reason). Score 29; RC2, RC1. */
Test(pmml, sample_engineering_25_500)
{
    prb_scorecard *sc = load(SAMPLE);
    prb_value v[] = {S("engineering"), N(25), N(500)};
    const char *codes[] = {"RC2", "RC1"};
    const double pts[] = {18, 16};
    expect(sc, v, 29, 2, codes, pts);
    prb_score s;
    char err[128];
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK);
    cr_assert_eq(s.applied[0], 2);
    cr_assert_eq(s.applied[1], 2);
    cr_assert_eq(s.applied[2], 1);
    cr_assert_str_eq(s.reasons[0].feature, "age");
    cr_assert_null(s.reasons[0].text);
    prb_sc_free(sc);
}

/* marketing 19, age 45 -> 18, income 3000 -> -3 (13 below 10).
 * Score 34; only RC3. */
Test(pmml, sample_marketing_45_3000)
{
    prb_scorecard *sc = load(SAMPLE);
    prb_value v[] = {S("marketing"), N(45), N(3000)};
    const char *codes[] = {"RC3"};
    const double pts[] = {13};
    expect(sc, v, 34, 1, codes, pts);
    prb_sc_free(sc);
}

/* All missing: -9 + -1 + 3 = -7; 28, 19 and 7 below the baselines. */
Test(pmml, sample_all_missing)
{
    prb_scorecard *sc = load(SAMPLE);
    prb_value v[] = {S(NULL), N(NAN), N(NAN)};
    const char *codes[] = {"RC1", "RC2", "RC3"};
    const double pts[] = {28, 19, 7};
    expect(sc, v, -7, 3, codes, pts);
    prb_sc_free(sc);
}

/* business 6 (13 below), age 18 -> -3 (21 below), income 1000 -> 26.
 * Score 29; RC2 then RC1. */
Test(pmml, sample_business_18_1000)
{
    prb_scorecard *sc = load(SAMPLE);
    prb_value v[] = {S("business"), N(18), N(1000)};
    const char *codes[] = {"RC2", "RC1"};
    const double pts[] = {21, 13};
    expect(sc, v, 29, 2, codes, pts);
    prb_sc_free(sc);
}

/* The bounds are (18, 29], (29, 39], > 39; (1000, 2500], > 2500. age is
 * of dataType integer, so 29.5, 39.01 and 18.5 are not of its type:
 * invalid, and with invalidValueTreatment="asMissing" scored as missing
 * (-1). So marketing 19, age 29.5 missing -1, income 2500.5 -3: 15. */
Test(pmml, sample_bounds)
{
    prb_scorecard *sc = load(SAMPLE);
    const struct {
        double age, income, score;
    } cases[] = {
        {29, 2500, 19 + 0 + 5},  {29.5, 2500.5, 19 - 1 - 3}, {39, 1000.5, 19 + 12 + 5},
        {39.01, 0, 19 - 1 + 26}, {18.5, -4, 19 - 1 + 26},    {40, 0, 19 + 18 + 26},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prb_value v[] = {S("marketing"), N(cases[i].age), N(cases[i].income)};
        prb_score s;
        char err[128];
        cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
        cr_assert_eq(s.score, PTS(cases[i].score), "case %zu", i);
    }
    prb_sc_free(sc);
}

/* A value that is not a whole number is not of an integer field's
 * dataType, so it is invalid, and the field's invalidValueTreatment
 * decides: returnInvalid (also when the attribute is absent, its
 * default) makes the score invalid, naming the field and the value;
 * asIs scores it as given (29.5 in (29, 39]: 12, so 19 + 12 - 3 = 28).
 * A whole number written as a double (29.0) is valid. */
Test(pmml, an_integer_field_treats_a_fraction_by_its_invalid_value_treatment)
{
    const char *from = "<MiningField name=\"age\" usageType=\"active\" "
                       "invalidValueTreatment=\"asMissing\"/>";
    const char *invalid[] = {
        "<MiningField name=\"age\" usageType=\"active\" invalidValueTreatment=\"returnInvalid\"/>",
        "<MiningField name=\"age\" usageType=\"active\"/>"};
    for (size_t i = 0; i < 2; i++) {
        char *doc = variant(SAMPLE, from, invalid[i], 0), err[512] = "";
        prb_scorecard *sc = NULL;
        prb_score s;
        cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
        prb_value v[] = {S("marketing"), N(29.5), N(2500.5)};
        cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_EINVAL, "variant %zu", i);
        cr_assert(strstr(err, "field 'age' is of dataType integer and its value 29.5 is not a "
                              "whole number, so the score is invalid"),
                  "%s", err);
        prb_value whole[] = {S("marketing"), N(29.0), N(2500.5)};
        cr_assert_eq(prb_sc_eval(sc, whole, &s, err, sizeof err), PRB_OK, "%s", err);
        cr_assert_eq(s.score, PTS(19 + 0 - 3));
        prb_sc_free(sc);
        free(doc);
    }
    char *doc = variant(SAMPLE, from,
                        "<MiningField name=\"age\" usageType=\"active\" "
                        "invalidValueTreatment=\"asIs\"/>",
                        0),
         err[512] = "";
    prb_scorecard *sc = NULL;
    prb_score s;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    prb_value v[] = {S("marketing"), N(29.5), N(2500.5)};
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.score, PTS(19 + 12 - 3));
    prb_sc_free(sc);
    free(doc);
}

/* "sales" is present but matches no attribute: PMML says the scorecard
 * returns an invalid result; the message names the characteristic. */
Test(pmml, sample_no_attribute_matches_is_invalid)
{
    prb_scorecard *sc = load(SAMPLE);
    prb_value v[] = {S("sales"), N(30), N(30)};
    prb_score s;
    char err[256] = "";
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "'departmentScore'"), "%s", err);
    cr_assert(strstr(err, "department"), "%s", err);
    cr_assert(strstr(err, "invalid"), "%s", err);
    prb_sc_free(sc);
}

/* ----------------------------------------- predicates, missing values */

/* Fields: region, years, debt, flag. pointsAbove against 0, except
 * yearsScore (5) and flagScore (1). */
Test(pmml, predicates_all_present)
{
    prb_scorecard *sc = load(PREDS);
    cr_assert_eq(sc->reason_algo, PRB_POINTS_ABOVE);
    cr_assert(sc->has_baseline);
    /* north isIn; years 12 >= 10 (surrogate's first child decides);
     * debt 50 in (0, 100]; flag Y. 100+10+20+7+4 = 141.
     * Above baselines: R2 20-5, R1 10-0, R3 7-0, R4 4-1. */
    prb_value v1[] = {S("north"), N(12), N(50), S("Y")};
    const char *c1[] = {"R2", "R1", "R3", "R4"};
    const double p1[] = {15, 10, 7, 3};
    expect(sc, v1, 141, 4, c1, p1);

    /* "south east" is one quoted value; years 3 >= 10 is FALSE, which a
     * surrogate returns without asking debt; xor(T, T) is FALSE; or(F, T)
     * gives 1; debt 6000 is not in (0, 100], not 0, present: -4; flag N
     * notEqual Y: -2. 100+10+1-4-2 = 105; only R1 is above. */
    prb_value v2[] = {S("south east"), N(3), N(6000), S("N")};
    const char *c2[] = {"R1"};
    const double p2[] = {10};
    expect(sc, v2, 105, 1, c2, p2);

    /* years 4: surrogate FALSE; xor(4 < 5, 100 > 5000) TRUE: -10; debt
     * 100 is in (0, 100]: 7; west isNotIn {west, we"st} is FALSE: True, 0.
     * 100+0-10+7+4 = 101; R3 7, R4 3. */
    prb_value v4[] = {S("west"), N(4), N(100), S("Y")};
    const char *c4[] = {"R3", "R4"};
    const double p4[] = {7, 3};
    expect(sc, v4, 101, 2, c4, p4);

    /* we"st (escaped quote in the Array) is in the isNotIn list too;
     * years 10 >= 10: 20; debt -1: -4; flag N: -2. 100+0+20-4-2 = 114. */
    prb_value v6[] = {S("we\"st"), N(10), N(-1), S("N")};
    const char *c6[] = {"R2"};
    const double p6[] = {15};
    expect(sc, v6, 114, 1, c6, p6);
    prb_sc_free(sc);
}

Test(pmml, predicates_with_missing_values)
{
    prb_scorecard *sc = load(PREDS);
    /* region missing: isIn and isNotIn are UNKNOWN, True gives 0. years
     * missing: the surrogate falls to debt 0 < 1000: 20. debt 0 equals
     * 0: 3 under the attribute's own code R2, which adds to yearsScore's
     * R2: 15 + 3 = 18. flag missing: equal and notEqual are UNKNOWN,
     * isMissing gives 1 (0 above its baseline 1). 100+0+20+3+1 = 124. */
    prb_value v3[] = {S(NULL), N(NAN), N(0), S(NULL)};
    const char *c3[] = {"R2"};
    const double p3[] = {18};
    expect(sc, v3, 124, 1, c3, p3);

    /* east isNotIn {west, we"st}: -5 under R1b. years and debt missing:
     * surrogate(UNKNOWN, UNKNOWN) and xor(UNKNOWN, UNKNOWN) are UNKNOWN,
     * or(isMissing TRUE, UNKNOWN) is TRUE: 1. debt: and(UNKNOWN, UNKNOWN)
     * is UNKNOWN, equal UNKNOWN, isNotMissing FALSE, isMissing 0.
     * 100-5+1+0+4 = 100; R4 3. */
    prb_value v5[] = {S("east"), N(NAN), N(NAN), S("Y")};
    const char *c5[] = {"R4"};
    const double p5[] = {3};
    expect(sc, v5, 100, 1, c5, p5);

    prb_score s;
    char err[128];
    cr_assert_eq(prb_sc_eval(sc, v5, &s, err, sizeof err), PRB_OK);
    cr_assert_eq(s.applied[0], 1);
    cr_assert_eq(s.applied[1], 2);
    cr_assert_eq(s.applied[2], 3);
    cr_assert_eq(s.applied[3], 0);
    prb_sc_free(sc);
}

/* The same document with pointsBelow: the differences change sign.
 * Input 2 is 105 again, now with R2 (5-1) and R3 (0+4) tied at 4: the
 * code that first applied (yearsScore, before debtScore) ranks first. */
Test(pmml, points_below_reverses_the_differences)
{
    char *doc = variant(PREDS, "reasonCodeAlgorithm=\"pointsAbove\"",
                        "reasonCodeAlgorithm=\"pointsBelow\"", 0);
    char err[512];
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(sc->reason_algo, PRB_POINTS_BELOW);
    prb_value v2[] = {S("south east"), N(3), N(6000), S("N")};
    const char *c2[] = {"R2", "R3", "R4"};
    const double p2[] = {4, 4, 3};
    expect(sc, v2, 105, 3, c2, p2);
    prb_value v1[] = {S("north"), N(12), N(50), S("Y")};
    expect(sc, v1, 141, 0, NULL, NULL);
    prb_sc_free(sc);
    free(doc);
}

/* A characteristic baseline overrides the scorecard's: with the
 * scorecard's raised to 50, regionScore and debtScore (no own baseline)
 * move, yearsScore (5) and flagScore (1) do not. */
Test(pmml, characteristic_baseline_takes_precedence)
{
    char *doc = variant(PREDS, "baselineScore=\"0\"", "baselineScore=\"50\"", 0);
    char err[512];
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    /* pointsAbove: R1 10-50, R2 20-5, R3 7-50, R4 4-1. */
    prb_value v1[] = {S("north"), N(12), N(50), S("Y")};
    const char *c1[] = {"R2", "R4"};
    const double p1[] = {15, 3};
    expect(sc, v1, 141, 2, c1, p1);
    prb_sc_free(sc);
    free(doc);
}

/* Without a scorecard baseline, characteristics without their own cannot
 * rank reasons: refused at import, naming the first such one. */
Test(pmml, missing_baseline_is_refused_when_reason_codes_are_used)
{
    char *doc = variant(PREDS, "baselineScore=\"0\" ", "", 0), err[512] = "";
    prb_scorecard *sc;
    char want[128];
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_EINVAL);
    snprintf(want, sizeof want, "t.pmml:%ld: Characteristic: no baselineScore",
             line_of(doc, "<Characteristic name=\"regionScore\""));
    cr_assert(strstr(err, want) == err, "got '%s', want '%s'", err, want);
    free(doc);

    /* With useReasonCodes="false" no baseline is needed and no reasons
     * are given. */
    char *doc2 = variant(PREDS, "baselineScore=\"0\" ", "", 0);
    doc = replace(doc2, "useReasonCodes=\"true\"", "useReasonCodes=\"false\"", 0);
    free(doc2);
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    prb_value v1[] = {S("north"), N(12), N(50), S("Y")};
    expect(sc, v1, 141, 0, NULL, NULL);
    prb_sc_free(sc);
    free(doc);
}

Test(pmml, missing_reason_code_is_refused_when_reason_codes_are_used)
{
    char *doc = variant(PREDS, "<Characteristic name=\"debtScore\" reasonCode=\"R3\">",
                        "<Characteristic name=\"debtScore\">", 0);
    char err[512] = "", want[128];
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_EINVAL);
    snprintf(want, sizeof want, "t.pmml:%ld: Attribute: no reasonCode",
             line_of(doc, "<Attribute partialScore=\"7\">"));
    cr_assert(strstr(err, want) == err, "got '%s', want '%s'", err, want);
    free(doc);
}

/* Points are bounded as in JSON scorecards: a partialScore of 1e308
 * next to an initialScore of 1e308 summed to inf, and +inf and -inf
 * differences to NaN, which broke the ranking of reasons. */
Test(pmml, huge_points_are_refused)
{
    const struct {
        const char *from, *to, *at, *why;
    } cases[] = {
        {"initialScore=\"100\"", "initialScore=\"1e308\"", "<Scorecard ",
         "Scorecard: initialScore '1e308' is out of range"},
        {"<Attribute partialScore=\"7\">", "<Attribute partialScore=\"-1.5e10\">",
         "<Attribute partialScore=\"-1.5e10\">",
         "Attribute: partialScore '-1.5e10' is out of range"},
        {"baselineScore=\"5\"", "baselineScore=\"1e300\"", "<Characteristic name=\"yearsScore\"",
         "Characteristic: baselineScore '1e300' is out of range"},
        {"baselineScore=\"0\" ", "baselineScore=\"-1e300\" ", "<Scorecard ",
         "Scorecard: baselineScore '-1e300' is out of range"},
        /* Points are summed exactly, in millionths: more decimals are
         * refused, not rounded into a model its author did not make. */
        {"<Attribute partialScore=\"7\">", "<Attribute partialScore=\"7.0000001\">",
         "<Attribute partialScore=\"7.0000001\">",
         "Attribute: partialScore '7.0000001' has more than 6 decimals: points are counted "
         "exactly, in millionths; round the model's points to 6 decimals"},
        {"initialScore=\"100\"", "initialScore=\"1e-7\"", "<Scorecard ",
         "Scorecard: initialScore '1e-7' has more than 6 decimals"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = variant(PREDS, cases[i].from, cases[i].to, 0), err[512] = "", want[256];
        prb_scorecard *sc;
        cr_expect_eq(load_text(doc, &sc, err, sizeof err), PRB_EINVAL, "case %zu: %s", i, err);
        snprintf(want, sizeof want, "t.pmml:%ld: %s", line_of(doc, cases[i].at), cases[i].why);
        cr_expect(strstr(err, want) == err, "case %zu: got '%s', want '%s'", i, err, want);
        prb_sc_free(sc);
        free(doc);
    }
}

/* reasonCode values are held to the rules of a JSON scorecard's codes:
 * short identifiers (decisions write them as they are) and not about
 * refused data (invariant 1). */
Test(pmml, reason_codes_are_checked_like_json_ones)
{
    const struct {
        const char *from, *to, *at, *why;
        int rc;
    } cases[] = {
        {"reasonCode=\"R1b\"", "reasonCode=\"R 1\"", "reasonCode=\"R 1\"",
         "Attribute: reasonCode 'R 1' must be 1-32 letters", PRB_EINVAL},
        {"reasonCode=\"R1b\"", "reasonCode=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\"",
         "reasonCode=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\"",
         "Attribute: reasonCode 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456' must be", PRB_EINVAL},
        {"reasonCode=\"R3\"", "reasonCode=\"R3!\"", "<Characteristic name=\"debtScore\"",
         "Characteristic: reasonCode 'R3!' must be", PRB_EINVAL},
        {"reasonCode=\"R3\"", "reasonCode=\"protest\"", "<Characteristic name=\"debtScore\"",
         "Characteristic: reasonCode 'protest' is refused", PRB_EREFUSED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = variant(PREDS, cases[i].from, cases[i].to, 0), err[512] = "", want[256];
        prb_scorecard *sc;
        cr_expect_eq(load_text(doc, &sc, err, sizeof err), cases[i].rc, "case %zu: %s", i, err);
        snprintf(want, sizeof want, "t.pmml:%ld: %s", line_of(doc, cases[i].at), cases[i].why);
        cr_expect(strstr(err, want) == err, "case %zu: got '%s', want '%s'", i, err, want);
        prb_sc_free(sc);
        free(doc);
    }
}

/* ------------------------------------------------------- refusals */

struct bad {
    const char *from, *to; /* applied to the sample */
    const char *element;   /* the element the error names */
    const char *at;        /* text at the start of that element's line */
    const char *why;       /* in the message */
};

/* Everything the importer does not implement is an error naming the
 * element and its line, never skipped. */
Test(pmml, unsupported_constructs_name_element_and_line)
{
    const struct bad cases[] = {
        {"    <Characteristics>\n",
         "    <LocalTransformations>\n      <DerivedField name=\"x\" optype=\"continuous\" "
         "dataType=\"double\"><Constant>1</Constant></DerivedField>\n    "
         "</LocalTransformations>\n    <Characteristics>\n",
         "DerivedField", "<DerivedField", "derived fields"},
        {"<Attribute partialScore=\"19\">",
         "<Attribute partialScore=\"19\">\n          "
         "<ComplexPartialScore><Constant>19</Constant></ComplexPartialScore>",
         "ComplexPartialScore", "<ComplexPartialScore", "not supported"},
        {"    <Output>",
         "    <Targets><Target field=\"overallScore\" rescaleFactor=\"2\"/></Targets>\n    "
         "<Output>",
         "Targets", "<Targets", "rescale"},
        {"reasonCode=\"RC2\" baselineScore=\"18\">",
         "reasonCode=\"RC2\" baselineScore=\"18\">\n        <Extension name=\"x\" value=\"y\"/>",
         "Extension", "<Extension", "vendor"},
        {"  </Scorecard>\n", "  </Scorecard>\n  <TreeModel functionName=\"regression\"/>\n",
         "TreeModel", "<TreeModel", "only Scorecard"},
        {"  </Scorecard>\n", "  </Scorecard>\n  <Scorecard functionName=\"regression\"/>\n",
         "Scorecard", "  <Scorecard functionName=\"regression\"/>", "appears twice"},
        {"functionName=\"regression\"", "functionName=\"classification\"", "Scorecard",
         "<Scorecard", "functionName 'classification'"},
        {"functionName=\"regression\"", "functionName=\"regression\" isScorable=\"false\"",
         "Scorecard", "<Scorecard", "isScorable"},
        {"<MiningField name=\"age\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
         "<MiningField name=\"age\" usageType=\"active\" missingValueReplacement=\"30\"/>",
         "MiningField", "<MiningField name=\"age\"", "missingValueReplacement"},
        {"<MiningField name=\"age\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
         "<MiningField name=\"age\" outliers=\"asExtremeValues\" lowValue=\"0\"/>", "MiningField",
         "<MiningField name=\"age\"", "outlier"},
        {"<MiningField name=\"age\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
         "<MiningField name=\"age\" invalidValueTreatment=\"asValue\" "
         "invalidValueReplacement=\"1\"/>",
         "MiningField", "<MiningField name=\"age\"", "invalidValueReplacement"},
        {"<MiningField name=\"age\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
         "<MiningField name=\"age\" missingValueTreatment=\"returnInvalid\"/>", "MiningField",
         "<MiningField name=\"age\"", "missingValueTreatment"},
        {"<MiningField name=\"age\" usageType=\"active\"",
         "<MiningField name=\"age\" usageType=\"group\"", "MiningField",
         "<MiningField name=\"age\"", "usageType"},
        {"feature=\"predictedValue\"", "feature=\"transformedValue\"", "OutputField",
         "<OutputField name=\"Final Score\"", "output features"},
        {"operator=\"equal\" value=\"marketing\"", "operator=\"lessThan\" value=\"marketing\"",
         "SimplePredicate", "<SimplePredicate field=\"department\" operator=\"lessThan\"",
         "ordering comparisons"},
        {"operator=\"lessOrEqual\" value=\"18\"", "operator=\"lessOrEqual\" value=\"eighteen\"",
         "SimplePredicate", "<SimplePredicate field=\"age\" operator=\"lessOrEqual\"",
         "'eighteen' is not a number"},
        {"operator=\"lessOrEqual\" value=\"18\"", "operator=\"lessOrEqual\" value=\"INF\"",
         "SimplePredicate", "<SimplePredicate field=\"age\" operator=\"lessOrEqual\"",
         "'INF' is not a number"},
        {"<SimplePredicate field=\"age\" operator=\"isMissing\"/>",
         "<SimplePredicate field=\"agee\" operator=\"isMissing\"/>", "SimplePredicate",
         "<SimplePredicate field=\"agee\"", "'agee' is not an active field"},
        {"<SimplePredicate field=\"age\" operator=\"isMissing\"/>",
         "<SimplePredicate field=\"overallScore\" operator=\"isMissing\"/>", "SimplePredicate",
         "<SimplePredicate field=\"overallScore\"", "not an active field"},
        {"<SimplePredicate field=\"age\" operator=\"isMissing\"/>",
         "<SimplePredicate field=\"age\" operator=\"isNull\"/>", "SimplePredicate",
         "<SimplePredicate field=\"age\" operator=\"isNull\"", "unknown operator 'isNull'"},
        {"<DataField name=\"age\" optype=\"continuous\" dataType=\"integer\"/>",
         "<DataField name=\"age\" optype=\"continuous\" dataType=\"integer\">\n      "
         "<Value value=\"-1\" property=\"missing\"/>\n    </DataField>",
         "Value", "<Value", "invalid or missing"},
        {"<DataField name=\"department\" optype=\"categorical\" dataType=\"string\"/>",
         "<DataField name=\"department\" optype=\"categorical\" dataType=\"string\">\n      "
         "<Value value=\"marketing\"/>\n    </DataField>",
         "MiningField", "<MiningField name=\"department\"", "Value/Interval"},
        {"<DataField name=\"department\" optype=\"categorical\" dataType=\"string\"/>",
         "<DataField name=\"department\" optype=\"categorical\" dataType=\"integer\"/>",
         "MiningField", "<MiningField name=\"department\"", "dataType string"},
        {"<DataField name=\"age\" optype=\"continuous\" dataType=\"integer\"/>",
         "<DataField name=\"age\" optype=\"continuous\" dataType=\"date\"/>", "MiningField",
         "<MiningField name=\"age\"", "dataType integer, float or double"},
        {"<Attribute partialScore=\"6\">", "<Attribute partialScore=\"6\" weight=\"2\">",
         "Attribute", "<Attribute partialScore=\"6\"", "attribute 'weight' is not supported"},
        {"<Attribute partialScore=\"6\">", "<Attribute>", "Attribute", "<Attribute>\n",
         "partialScore' is required"},
        {"<CompoundPredicate booleanOperator=\"and\">\n            <SimplePredicate "
         "field=\"age\" operator=\"greaterThan\" value=\"18\"/>",
         "<CompoundPredicate booleanOperator=\"nand\">\n            <SimplePredicate "
         "field=\"age\" operator=\"greaterThan\" value=\"18\"/>",
         "CompoundPredicate", "<CompoundPredicate booleanOperator=\"nand\"", "and, or, xor"},
        {"            <SimplePredicate field=\"income\" operator=\"lessOrEqual\" "
         "value=\"2500\"/>\n",
         "", "CompoundPredicate",
         "<CompoundPredicate booleanOperator=\"and\">\n            "
         "<SimplePredicate field=\"income\"",
         "at least two"},
        {"reasonCodeAlgorithm=\"pointsBelow\"", "reasonCodeAlgorithm=\"pointsSideways\"",
         "Scorecard", "<Scorecard", "pointsBelow or pointsAbove"},
        {"baselineMethod=\"other\"", "baselineMethod=\"median\"", "Scorecard", "<Scorecard",
         "baselineMethod"},
        {"    <Characteristics>\n", "    <Characteristics>\n      junk\n", "Characteristics",
         "    <Characteristics>", "unexpected text"},
        {"  <DataDictionary numberOfFields=\"4\">",
         "  <TransformationDictionary><DefineFunction name=\"f\" "
         "optype=\"continuous\"/></TransformationDictionary>\n  <DataDictionary "
         "numberOfFields=\"4\">",
         "DefineFunction", "<TransformationDictionary>", "transformations"},
        {"  <DataDictionary numberOfFields=\"4\">",
         "  <Extension name=\"x\"/>\n  <DataDictionary numberOfFields=\"4\">", "Extension",
         "  <Extension", "vendor"},
        {"numberOfFields=\"4\"", "numberOfFields=\"5\"", "DataDictionary", "<DataDictionary",
         "numberOfFields is 5"},
        {"<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">",
         "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"3.2\">", "PMML", "<PMML",
         "version '3.2'"},
        {"<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">",
         "<PMML xmlns=\"http://www.dmg.org/PMML-3_2\" version=\"4.4\">", "PMML", "<PMML",
         "is not PMML 4.1-4.4"},
        {"<DataField name=\"age\" optype=\"continuous\" dataType=\"integer\"/>",
         "<DataField name=\"age\" optype=\"continuous\" dataType=\"integer\" "
         "xmlns:v=\"urn:x\" v:unit=\"years\"/>",
         "DataField", "<DataField name=\"age\"", "'v:unit' is not supported"},
        {"<Timestamp>2026-11-25</Timestamp>\n  </Header>",
         "<Timestamp>2026-11-25</Timestamp>\n  </Header>\n  <v:Note xmlns:v=\"urn:x\"/>", "Note",
         "<v:Note", "namespace 'urn:x'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = variant(SAMPLE, cases[i].from, cases[i].to, 0), err[512] = "", want[160];
        prb_scorecard *sc = (prb_scorecard *)1;
        int rc = load_text(doc, &sc, err, sizeof err);
        snprintf(want, sizeof want, "t.pmml:%ld: %s: ", line_of(doc, cases[i].at),
                 cases[i].element);
        cr_expect_eq(rc, PRB_EINVAL, "case %zu: rc %d (%s)", i, rc, err);
        cr_expect_null(sc, "case %zu: no model on failure", i);
        cr_expect(strstr(err, want) == err, "case %zu: got '%s', want '%s'", i, err, want);
        cr_expect(strstr(err, cases[i].why) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                  cases[i].why);
        free(doc);
    }
}

/* The sample's hand-computed case, for documents that must mean the same. */
static void expect_sample_case(const char *doc, const char *what)
{
    char err[512] = "";
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s: %s", what, err);
    prb_value v[] = {S("engineering"), N(25), N(500)};
    const char *codes[] = {"RC2", "RC1"};
    const double pts[] = {18, 16};
    expect(sc, v, 29, 2, codes, pts);
    prb_sc_free(sc);
}

#define SAMPLE_ROOT "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">"

/* What is accepted: another 4.x namespace or none, informational
 * elements and comments, a Value list when values are used as is. */
Test(pmml, accepted_variants_score_the_same)
{
    const struct {
        const char *from, *to;
    } cases[] = {
        {SAMPLE_ROOT, "<PMML xmlns=\"http://www.dmg.org/PMML-4_1\" version=\"4.1\">"},
        {SAMPLE_ROOT, "<PMML version=\"4.2.1\">"},
        {SAMPLE_ROOT, "<PMML xmlns=\"http://www.dmg.org/PMML-4_3\" "
                      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" version=\"4.3\" "
                      "xsi:schemaLocation=\"http://www.dmg.org/PMML-4_3 pmml-4-3.xsd\">"},
        {"    <Characteristics>", "    <ModelStats><UnivariateStats field=\"age\"/></ModelStats>"
                                  "<!-- a comment --><?pi x?>\n    <Characteristics>"},
        {"  <DataDictionary", "  <MiningBuildTask><Anything at=\"all\"/></MiningBuildTask>\n"
                              "  <DataDictionary"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = variant(SAMPLE, cases[i].from, cases[i].to, 0);
        expect_sample_case(doc, cases[i].to);
        free(doc);
    }

    /* Values listed for department: fine once they are used as is. */
    char *doc = variant(
        SAMPLE, "<DataField name=\"department\" optype=\"categorical\" dataType=\"string\"/>",
        "<DataField name=\"department\" optype=\"categorical\" dataType=\"string\">"
        "<Value value=\"marketing\"/><Value value=\"engineering\"/></DataField>",
        0);
    char *doc2 = replace(doc,
                         "<MiningField name=\"department\" usageType=\"active\" "
                         "invalidValueTreatment=\"asMissing\"/>",
                         "<MiningField name=\"department\" invalidValueTreatment=\"asIs\"/>", 0);
    expect_sample_case(doc2, "Value list with asIs");
    free(doc);
    free(doc2);
}

/* Every element must be in the root's namespace. */
Test(pmml, elements_outside_the_namespace_are_refused)
{
    char *doc = variant(SAMPLE, SAMPLE_ROOT,
                        "<p:PMML xmlns:p=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">", 0);
    char *doc2 = replace(doc, "</PMML>", "</p:PMML>", 0), err[512] = "", want[128];
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc2, &sc, err, sizeof err), PRB_EINVAL, "%s", err);
    snprintf(want, sizeof want, "t.pmml:%ld: Header: element in namespace '(none)'",
             line_of(doc2, "<Header"));
    cr_assert(strstr(err, want) == err, "got '%s', want '%s'", err, want);
    free(doc);
    free(doc2);
}

/* --------------------------------------------- invariant 1, features */

/* Knows every name; counts the calls. */
static int count_kinds(void *ctx, const char *name)
{
    (*(int *)ctx)++;
    return !strcmp(name, "department") ? PRB_FIELD_CATEGORICAL : PRB_FIELD_NUMERIC;
}

Test(pmml, refused_field_names)
{
    const char *names[] = {"ethnicity", "PERSONAL_STATUS_AND_SEX", "religiousAffiliation",
                           "health_score"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char quoted[64], err[512] = "", want[128];
        snprintf(quoted, sizeof quoted, "\"%s\"", names[i]);
        char *doc = variant(SAMPLE, "\"income\"", quoted, 1);
        prb_scorecard *sc = (prb_scorecard *)1;
        int calls = 0;
        /* The policy would know the name: refusal comes first anyway. */
        cr_assert_eq(
            prb_sc_from_pmml("t.pmml", doc, strlen(doc), count_kinds, &calls, &sc, err, sizeof err),
            PRB_EREFUSED, "%s: %s", names[i], err);
        cr_assert_null(sc);
        snprintf(want, sizeof want, "t.pmml:%ld: DataField: field '%s' is refused",
                 line_of(doc, quoted), names[i]);
        cr_assert(strstr(err, want) == err, "got '%s', want '%s'", err, want);
        cr_assert(strstr(err, "invariant 1"), "%s", err);
        cr_assert_eq(calls, 0, "the refused name never reaches feature_kind");
        free(doc);
    }
}

Test(pmml, refused_characteristic_name)
{
    char *doc = variant(SAMPLE, "name=\"ageScore\"", "name=\"raceScore\"", 0), err[512] = "";
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_EREFUSED, "%s", err);
    cr_assert(strstr(err, "Characteristic: characteristic 'raceScore' is refused"), "%s", err);
    free(doc);
}

/* department categorical, age numeric; income unknown unless allowed. */
static int sample_kinds(void *ctx, const char *name)
{
    int mode = *(int *)ctx;
    if (!strcmp(name, "department"))
        return mode == 2 ? PRB_FIELD_NUMERIC : PRB_FIELD_CATEGORICAL;
    if (!strcmp(name, "age") || (mode == 1 && !strcmp(name, "income")))
        return PRB_FIELD_NUMERIC;
    return 0;
}

Test(pmml, fields_must_be_policy_features)
{
    char *buf = th_slurp(SAMPLE), err[512] = "", want[128];
    prb_scorecard *sc;
    int mode = 0;
    cr_assert_not_null(buf);
    cr_assert_eq(
        prb_sc_from_pmml("t.pmml", buf, strlen(buf), sample_kinds, &mode, &sc, err, sizeof err),
        PRB_EINVAL);
    snprintf(want, sizeof want, "t.pmml:%ld: MiningField: field 'income' is not a feature",
             line_of(buf, "<MiningField name=\"income\""));
    cr_assert(strstr(err, want) == err, "got '%s', want '%s'", err, want);

    mode = 2; /* the policy says department is numeric */
    cr_assert_eq(
        prb_sc_from_pmml("t.pmml", buf, strlen(buf), sample_kinds, &mode, &sc, err, sizeof err),
        PRB_EINVAL);
    cr_assert(strstr(err, "field 'department' is categorical: categorical and ordinal fields are "
                          "not supported"),
              "%s", err);

    mode = 1; /* all three known; the predicted field is not an input */
    cr_assert_eq(
        prb_sc_from_pmml("t.pmml", buf, strlen(buf), sample_kinds, &mode, &sc, err, sizeof err),
        PRB_OK, "%s", err);
    cr_assert_eq(sc->nfields, 3);
    prb_sc_free(sc);
    free(buf);
}

/* A register's policy makes numeric features only, so a model with a
 * categorical field can never be imported: the error says so, rather than
 * that the field is not a feature (which a rename would not mend). */
Test(pmml, import_of_a_categorical_field_says_it_is_not_supported)
{
    char *dir, path[512];
    prb_env *env = th_register(&dir);
    char *out = NULL;
    cr_assert_eq(prb_scorecard_import(env, "sample", th_path(path, sizeof path, SAMPLE)),
                 PRB_EINVAL);
    cr_expect(strstr(prb_errmsg(env), "MiningField: field 'department' is categorical: "
                                      "categorical and ordinal fields are not supported (the "
                                      "policy's features are all numeric)"),
              "%s", prb_errmsg(env));
    cr_expect_eq(prb_scorecard_eval(env, "sample", "{}", &out), PRB_ENOTFOUND, "nothing stored");
    free(out);
    prb_close(env);
    th_rmrf(dir);
}

/* The policy's tenancy_check, from 0 rather than 500, added as
 * tenancy_pmml: the name tests/data/tenancy_check.pmml is imported under. */
static void policy_takes_the_imported_name(json_t *root)
{
    json_t *cards = json_object_get(root, "scorecards");
    json_t *card = json_deep_copy(json_object_get(cards, "tenancy_check"));
    json_object_set_new(card, "base_score", json_integer(0));
    json_object_set_new(cards, "tenancy_pmml", card);
}

/* Import refuses a policy scorecard's name, but a policy edited after it
 * may add one: eval then took the policy's silently and the imported
 * scorecard could not be reached. The name is an error where it is used;
 * the register still opens (th_reopen_edited aborts if not), and the
 * policy's other scorecards score as before. */
Test(pmml, a_policy_scorecard_of_an_imported_name_is_an_error_where_used)
{
    char *dir, path[512], *out = NULL;
    prb_env *env = th_register(&dir);
    th_path(path, sizeof path, "tests/data/tenancy_check.pmml");
    cr_assert_eq(prb_scorecard_import(env, "tenancy_pmml", path), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_scorecard_eval(env, "tenancy_pmml", "{}", &out), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect(strstr(out, "\"score\": 600"), "%s", out);
    free(out);
    out = NULL;

    env = th_reopen_edited(env, dir, policy_takes_the_imported_name, TH_TODAY);
    cr_expect_eq(prb_scorecard_eval(env, "tenancy_pmml", "{}", &out), PRB_EEXIST, "took %s", out);
    cr_expect_null(out);
    cr_expect_str_eq(prb_errmsg(env),
                     "scorecard 'tenancy_pmml' names two: one of policy default-2026.11 and one "
                     "imported into the register; rename the policy's, since an imported "
                     "scorecard keeps the name it was imported under");
    free(out);
    out = NULL;
    cr_assert_eq(prb_scorecard_eval(env, "tenancy_check", "{}", &out), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect(strstr(out, "\"score\": 600"), "%s", out);
    free(out);
    prb_close(env);
    th_rmrf(dir);
}

/* --------------------------------------------- hostile or broken XML */

Test(pmml, malformed_xml_is_an_error)
{
    char *buf = th_slurp(SAMPLE), err[512] = "";
    prb_scorecard *sc = (prb_scorecard *)1;
    cr_assert_not_null(buf);
    cr_assert_eq(prb_sc_from_pmml("t.pmml", buf, strlen(buf) / 2, NULL, NULL, &sc, err, sizeof err),
                 PRB_EINVAL);
    cr_assert_null(sc);
    cr_assert(strstr(err, "t.pmml:") == err && strstr(err, "malformed XML"), "%s", err);
    cr_assert_eq(load_text("not xml at all", &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "malformed XML"), "%s", err);
    cr_assert_eq(prb_sc_from_pmml("t.pmml", "", 0, NULL, NULL, &sc, err, sizeof err), PRB_EINVAL);
    cr_assert_eq(load_text("<PMML version=\"4.4\"/>", &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "PMML: a DataDictionary is required"), "%s", err);
    cr_assert_eq(load_text("<Scorecard/>", &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "t.pmml:1: Scorecard: the document element must be PMML"), "%s", err);
    cr_assert_eq(load_text("<PMML version=\"4.4\"><DataDictionary/></PMML>", &sc, err, sizeof err),
                 PRB_EINVAL);
    cr_assert(strstr(err, "no Scorecard model"), "%s", err);
    /* An undeclared entity is a well-formedness error, not a lookup. */
    cr_assert_eq(load_text("<PMML version=\"4.4\">&xxe;</PMML>", &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "malformed XML"), "%s", err);
    free(buf);
}

/* A DOCTYPE is refused before any entity is declared or expanded: no
 * local file (XXE), no network, no entity amplification. */
Test(pmml, doctype_and_entities_are_refused)
{
    const char *docs[] = {
        "<?xml version=\"1.0\"?>\n<!DOCTYPE PMML [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<PMML version=\"4.4\"><DataDictionary><DataField name=\"&xxe;\" optype=\"continuous\" "
        "dataType=\"double\"/></DataDictionary></PMML>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE PMML SYSTEM \"http://127.0.0.1:9/x.dtd\">\n"
        "<PMML version=\"4.4\"/>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE PMML [\n<!ENTITY a \"aaaaaaaaaa\">\n"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n<PMML version=\"4.4\">&c;</PMML>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char err[512] = "";
        prb_scorecard *sc = (prb_scorecard *)1;
        cr_assert_eq(load_text(docs[i], &sc, err, sizeof err), PRB_EINVAL, "doc %zu: %s", i, err);
        cr_assert_null(sc);
        cr_assert(strstr(err, "t.pmml:2: DOCTYPE: document type declarations are refused") == err,
                  "doc %zu: %s", i, err);
        cr_assert_null(strstr(err, "root:"), "the file must not leak: %s", err);
    }
}

Test(pmml, size_is_bounded)
{
    size_t n = (4u << 20) + 1;
    char *big = malloc(n), err[512] = "";
    prb_scorecard *sc;
    cr_assert_not_null(big);
    memset(big, ' ', n);
    cr_assert_eq(prb_sc_from_pmml("t.pmml", big, n, NULL, NULL, &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "more than"), "%s", err);
    free(big);
}

/* Array edge cases: counted n, quoting, and numbers for numeric fields. */
Test(pmml, arrays)
{
    const char *tmpl_from = "<Array n=\"2\" type=\"string\">north \"south east\"</Array>";
    const struct {
        const char *to;
        int rc;
        const char *why;
    } cases[] = {
        {"<Array n=\"3\" type=\"string\">north \"south east\"</Array>", PRB_EINVAL,
         "n is 3 but the array holds 2 values"},
        {"<Array n=\"2\" type=\"string\">north \"south east</Array>", PRB_EINVAL,
         "malformed array"},
        {"<Array n=\"2\" type=\"list\">north \"south east\"</Array>", PRB_EINVAL,
         "type must be int, real or string"},
        {"<Array type=\"string\">  north\n\t\"south east\"  </Array>", PRB_OK, NULL},
        {"<Array type=\"string\"><![CDATA[north \"south east\"]]></Array>", PRB_OK, NULL},
        {"<Array type=\"int\">1 2</Array>", PRB_OK, NULL},
        {"<Array type=\"int\">1 2.5</Array>", PRB_EINVAL, "'2.5' is not of type int"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = variant(PREDS, tmpl_from, cases[i].to, 0), err[512] = "";
        prb_scorecard *sc;
        int rc = load_text(doc, &sc, err, sizeof err);
        cr_expect_eq(rc, cases[i].rc, "case %zu: %s", i, err);
        if (rc == PRB_OK) {
            prb_value v[] = {S(i == 5 ? "1" : "south east"), N(12), N(50), S("Y")};
            prb_score s;
            cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
            cr_expect_eq(s.applied[0], 0, "case %zu: the value is in the set", i);
            prb_sc_free(sc);
        } else {
            cr_expect(strstr(err, cases[i].why), "case %zu: %s", i, err);
            cr_expect(strstr(err, ": Array: "), "case %zu: %s", i, err);
        }
        free(doc);
    }

    /* A numeric field compares Array values as numbers: 500 isIn {0, 5e2}. */
    char *doc = variant(PREDS, "<SimplePredicate field=\"debt\" operator=\"equal\" value=\"0\"/>",
                        "<SimpleSetPredicate field=\"debt\" booleanOperator=\"isIn\"><Array "
                        "type=\"real\">0 5e2</Array></SimpleSetPredicate>",
                        0),
         err[512] = "";
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    prb_value v[] = {S("north"), N(12), N(-50), S("Y")};
    prb_score s;
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.applied[2], 2, "-50 is not in {0, 500}");
    v[2] = N(500.0);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.applied[2], 1, "500 is in {0, 5e2}");
    prb_sc_free(sc);
    free(doc);
}

/* PMML's three-valued logic, whole truth tables. Child predicates are
 * x > 0 and y > 0, so 1 is TRUE, -1 FALSE and a missing value UNKNOWN.
 * Each characteristic tests P three ways: attribute 0 is P (taken when
 * TRUE), attribute 1 is surrogate(P, True) (reached and taken only when P
 * is UNKNOWN), attribute 2 is True (P FALSE). */
Test(pmml, three_valued_logic_truth_tables)
{
    static const char *const preds[] = {
        "<CompoundPredicate booleanOperator=\"and\">X Y</CompoundPredicate>",
        "<CompoundPredicate booleanOperator=\"or\">X Y</CompoundPredicate>",
        "<CompoundPredicate booleanOperator=\"xor\">X Y</CompoundPredicate>",
        "<CompoundPredicate booleanOperator=\"surrogate\">X Y</CompoundPredicate>",
        "<SimpleSetPredicate field=\"x\" booleanOperator=\"isIn\"><Array type=\"real\">1 "
        "2</Array></SimpleSetPredicate>",
        "<SimpleSetPredicate field=\"x\" booleanOperator=\"isNotIn\"><Array type=\"int\">1 "
        "2</Array></SimpleSetPredicate>",
        "<SimplePredicate field=\"x\" operator=\"notEqual\" value=\"1\"/>",
    };
    /* T, U, F as the attribute taken: 0, 1, 2; rows x in {1, -1, missing}
     * by y in {1, -1, missing}. */
    static const int want[7][9] = {
        {0, 2, 1, 2, 2, 2, 1, 2, 1}, /* and */
        {0, 0, 0, 0, 2, 1, 0, 1, 1}, /* or */
        {2, 0, 1, 0, 2, 1, 1, 1, 1}, /* xor */
        {0, 0, 0, 2, 2, 2, 0, 2, 1}, /* surrogate */
        {0, 0, 0, 2, 2, 2, 1, 1, 1}, /* x isIn {1, 2} */
        {2, 2, 2, 0, 0, 0, 1, 1, 1}, /* x isNotIn {1, 2} */
        {2, 2, 2, 0, 0, 0, 1, 1, 1}, /* x notEqual 1 */
    };
    const char *x = "<SimplePredicate field=\"x\" operator=\"greaterThan\" value=\"0\"/>";
    const char *y = "<SimplePredicate field=\"y\" operator=\"greaterThan\" value=\"0\"/>";
    size_t cap = 16384, n = 0;
    char *doc = malloc(cap), err[512] = "";
    cr_assert_not_null(doc);
    n += (size_t)snprintf(doc + n, cap - n,
                          "<PMML version=\"4.4\"><DataDictionary>"
                          "<DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
                          "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>"
                          "</DataDictionary><Scorecard functionName=\"regression\" "
                          "useReasonCodes=\"false\"><MiningSchema><MiningField name=\"x\"/>"
                          "<MiningField name=\"y\"/></MiningSchema><Characteristics>");
    for (size_t i = 0; i < 7; i++) {
        /* Only the compound ones have X and Y to fill in. */
        char *p = i < 4 ? replace(preds[i], "X", x, 0) : strdup(preds[i]);
        char *q = i < 4 ? replace(p, "Y", y, 0) : strdup(p);
        n += (size_t)snprintf(doc + n, cap - n,
                              "<Characteristic><Attribute partialScore=\"1\">%s</Attribute>"
                              "<Attribute partialScore=\"2\"><CompoundPredicate "
                              "booleanOperator=\"surrogate\">%s<True/></CompoundPredicate>"
                              "</Attribute><Attribute partialScore=\"3\"><True/></Attribute>"
                              "</Characteristic>",
                              q, q);
        free(p);
        free(q);
    }
    snprintf(doc + n, cap - n, "</Characteristics></Scorecard></PMML>");
    cr_assert_lt(strlen(doc), cap - 1, "test bug: buffer too small");

    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_OK, "%s", err);
    const double vals[3] = {1, -1, NAN};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            prb_value v[] = {N(vals[a]), N(vals[b])};
            prb_score s;
            cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
            for (size_t i = 0; i < 7; i++)
                cr_expect_eq(s.applied[i], want[i][a * 3 + b], "predicate %zu, x %g, y %g: %d", i,
                             vals[a], vals[b], s.applied[i]);
            cr_assert_eq(s.nreasons, 0, "useReasonCodes is false");
        }
    prb_sc_free(sc);
    free(doc);
}

/* Documents are read as UTF-8 whatever they declare: a declared encoding
 * is ignored (ASCII content still reads), and bytes that are not UTF-8
 * are a one-line error (never an iconv message on stderr). */
Test(pmml, documents_are_read_as_utf8)
{
    char *doc = variant(SAMPLE, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 0), err[512];
    expect_sample_case(doc, "declared ISO-8859-1, ASCII content");
    free(doc);

    doc = variant(SAMPLE, "\"engineering\"", "\"engin\xe9\xe9ring\"", 0);
    prb_scorecard *sc;
    cr_assert_eq(load_text(doc, &sc, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "malformed XML") && strstr(err, "UTF-8"), "%s", err);
    cr_assert_null(strchr(err, '\n'), "one line: %s", err);
    free(doc);
}

/* Arrays hold at most 65536 values; the limit is exact, and a full one
 * imports and matches its last value. */
Test(pmml, array_size_is_bounded)
{
    for (size_t total = 65536; total <= 65537; total++) {
        size_t cap = total * 8 + 64, n = 0;
        char *values = malloc(cap), err[512] = "";
        cr_assert_not_null(values);
        for (size_t i = 0; i < total; i++)
            n += (size_t)snprintf(values + n, cap - n, "%sv%zu", i ? " " : "", i);
        char *to = malloc(n + 64);
        cr_assert_not_null(to);
        snprintf(to, n + 64, "<Array type=\"string\">%s</Array>", values);
        char *doc =
            variant(PREDS, "<Array n=\"2\" type=\"string\">north \"south east\"</Array>", to, 0);
        prb_scorecard *sc;
        int rc = load_text(doc, &sc, err, sizeof err);
        if (total == 65536) {
            cr_assert_eq(rc, PRB_OK, "%s", err);
            cr_assert_eq(sc->characs[0].attrs[0].pred.nvalues, 65536);
            prb_value v[] = {S("v65535"), N(12), N(50), S("Y")};
            prb_score s;
            cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
            cr_assert_eq(s.applied[0], 0);
            prb_sc_free(sc);
        } else {
            cr_assert_eq(rc, PRB_EINVAL);
            cr_assert(strstr(err, "more than 65536 values"), "%s", err);
        }
        free(values);
        free(to);
        free(doc);
    }
}
