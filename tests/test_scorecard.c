/*
 * test_scorecard.c - policy (JSON) scorecards: strict validation whose
 * errors carry the JSON path, scores and reason rankings worked out by
 * hand, ties and the limit of PRB_MAX_REASONS, odds scaling, DESIGN
 * invariant 1 on reason texts, and agreement with the equivalent PMML
 * scorecard (tests/data/scorecard_equiv.pmml) on a grid of inputs that
 * includes missing values and inputs no bin matches.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"
#include "scorecard.h"

TestSuite(scorecard);

/* x points in the millionths a model holds them in. */
#define PTS(x) ((prb_points)llround((x) * (double)PRB_SC_POINTS_UNIT))

#define PATH "$.scorecards.t"

/* The card of docs/POLICY.md's example, one feature of each kind. */
static const char *base_card =
    "{\"description\":\"Test card for payment behaviour\",\"base_score\":300,"
    "\"scaling\":{\"score\":600,\"odds\":50,\"pdo\":20},"
    "\"characteristics\":["
    "{\"feature\":\"defaults_open\",\"bins\":["
    "{\"missing\":true,\"points\":60,\"reason\":\"D00\",\"text\":\"No payment default on file\"},"
    "{\"max\":1,\"points\":60,\"reason\":\"D00\",\"text\":\"No open payment default\"},"
    "{\"min\":1,\"max\":3,\"points\":10,\"reason\":\"D01\",\"text\":\"One or two payment "
    "defaults\"},"
    "{\"min\":3,\"points\":-30,\"reason\":\"D02\",\"text\":\"Three or more payment defaults\"}]},"
    "{\"feature\":\"months_since_oldest\",\"bins\":["
    "{\"max\":12,\"points\":5,\"reason\":\"H01\",\"text\":\"Short credit history\"},"
    "{\"min\":12,\"max\":60,\"points\":25,\"reason\":\"H02\",\"text\":\"Credit history under five "
    "years\"},"
    "{\"min\":60,\"points\":40,\"reason\":\"H03\",\"text\":\"Long credit history\"},"
    "{\"missing\":true,\"points\":0,\"reason\":\"H00\",\"text\":\"No credit history\"}]},"
    "{\"feature\":\"employment\",\"bins\":["
    "{\"values\":[\"employed\",\"self_employed\"],\"points\":30,\"reason\":\"E01\",\"text\":\"In "
    "work\"},"
    "{\"values\":[\"retired\"],\"points\":20,\"reason\":\"E02\",\"text\":\"Retired\"},"
    "{\"missing\":true,\"points\":0,\"reason\":\"E00\",\"text\":\"Employment not known\"},"
    "{\"otherwise\":true,\"points\":5,\"reason\":\"E03\",\"text\":\"Not in work\"}]},"
    "{\"feature\":\"inquiries_6m\",\"bins\":["
    "{\"min\":0,\"max\":2,\"points\":20,\"reason\":\"I01\",\"text\":\"Few recent inquiries\"},"
    "{\"min\":2,\"points\":0,\"reason\":\"I02\",\"text\":\"Many recent inquiries\"}]}]}";

/* The features tests know: employment is categorical, the rest numeric;
 * "always" has a value for every subject (a policy's missing_as). */
static int kinds(void *ctx, const char *name)
{
    static const char *const numeric[] = {
        "defaults_open", "months_since_oldest", "inquiries_6m", "f1", "f2", "f3", "f4", "f5", NULL};
    if (ctx)
        (*(int *)ctx)++; /* counts calls */
    if (!strcmp(name, "employment"))
        return PRB_FIELD_CATEGORICAL;
    if (!strcmp(name, "always"))
        return PRB_FIELD_NUMERIC | PRB_FIELD_NEVER_MISSING;
    for (const char *const *n = numeric; *n; n++)
        if (!strcmp(*n, name))
            return PRB_FIELD_NUMERIC;
    return 0;
}

static int compile_text(const char *text, prb_scorecard **sc, char *err, size_t n)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    cr_assert_not_null(j, "test bug: %s in %s", je.text, text);
    int rc = prb_sc_from_json("t", j, PATH, kinds, NULL, 0, sc, err, n);
    json_decref(j);
    return rc;
}

/* Compiles base_card with the first `from` replaced by `to`. */
static int compile_variant(const char *from, const char *to, prb_scorecard **sc, char *err,
                           size_t n)
{
    char buf[8192];
    const char *at = strstr(base_card, from);
    cr_assert_not_null(at, "test bug: '%s' not in the base card", from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - base_card), base_card, to, at + strlen(from));
    return compile_text(buf, sc, err, n);
}

static prb_scorecard *base(void)
{
    char err[512];
    prb_scorecard *sc = NULL;
    int rc = compile_text(base_card, &sc, err, sizeof err);
    cr_assert_eq(rc, PRB_OK, "%s", err);
    return sc;
}

/* Inputs by feature name, so a card's field order does not matter. A
 * name not given is missing; a NULL string is a missing category. */
struct in {
    double defaults, months, inquiries; /* NAN: missing */
    const char *employment;
};

static void fill(const prb_scorecard *sc, const struct in *in, prb_value *v)
{
    for (size_t i = 0; i < sc->nfields; i++) {
        const char *f = sc->fields[i];
        double x = !strcmp(f, "defaults_open")         ? in->defaults
                   : !strcmp(f, "months_since_oldest") ? in->months
                                                       : in->inquiries;
        if (!strcmp(f, "employment"))
            v[i] = (prb_value){in->employment != NULL, 0, in->employment};
        else
            v[i] = (prb_value){!isnan(x), x, NULL};
    }
}

static int eval(const prb_scorecard *sc, struct in in, prb_score *s, char *err, size_t n)
{
    prb_value v[8];
    cr_assert(sc->nfields <= 8);
    fill(sc, &in, v);
    return prb_sc_eval(sc, v, s, err, n);
}

/* Asserts the ranked reasons are exactly codes[] with points[]. */
static void expect_reasons(const prb_score *s, size_t n, const char *const *codes,
                           const double *points)
{
    cr_assert_eq(s->nreasons, n, "expected %zu reasons, got %zu (first %s)", n, s->nreasons,
                 s->nreasons ? s->reasons[0].code : "-");
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(s->reasons[i].code, codes[i], "reason %zu", i);
        cr_assert_eq(s->reasons[i].points_lost, PTS(points[i]), "reason %zu (%s)", i, codes[i]);
    }
}

Test(scorecard, base_card_compiles_to_the_model)
{
    prb_scorecard *sc = base();
    cr_assert_str_eq(sc->name, "t");
    cr_assert_eq(sc->nfields, 4);
    cr_assert_str_eq(sc->fields[2], "employment");
    cr_assert_eq(sc->field_kind[2], PRB_FIELD_CATEGORICAL);
    cr_assert_eq(sc->field_kind[0], PRB_FIELD_NUMERIC);
    cr_assert_eq(sc->ncharacs, 4);
    cr_assert_eq(sc->initial_score, PTS(300));
    cr_assert_eq(sc->reason_algo, PRB_POINTS_BELOW);
    cr_assert(sc->use_reason_codes);
    /* Each characteristic's baseline is its best bin. */
    const double best[] = {60, 40, 30, 20};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(sc->characs[i].has_baseline);
        cr_assert_eq(sc->characs[i].baseline, PTS(best[i]), "characteristic %zu", i);
    }
    prb_sc_free(sc);
}

/* 300 + 10 (two defaults) + 5 (5 months) + 5 (student: otherwise) + 0
 * (3 inquiries) = 320. Points below each best bin: D01 60-10 = 50,
 * H01 40-5 = 35, E03 30-5 = 25, I02 20-0 = 20. */
Test(scorecard, scores_and_ranks_reasons_by_points_below_best_bin)
{
    prb_scorecard *sc = base();
    prb_score s;
    char err[256];
    int rc = eval(sc, (struct in){2, 5, 3, "student"}, &s, err, sizeof err);
    cr_assert_eq(rc, PRB_OK, "%s", err);
    cr_assert_eq(s.score, PTS(320));
    const char *codes[] = {"D01", "H01", "E03", "I02"};
    const double pts[] = {50, 35, 25, 20};
    expect_reasons(&s, 4, codes, pts);
    cr_assert_str_eq(s.reasons[0].text, "One or two payment defaults");
    cr_assert_str_eq(s.reasons[0].feature, "defaults_open");
    cr_assert_str_eq(s.reasons[2].feature, "employment");
    cr_assert_str_eq(s.reasons[3].text, "Many recent inquiries");
    cr_assert_eq(s.ncharacs, 4);
    const int applied[] = {2, 0, 3, 1};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(s.applied[i], applied[i], "characteristic %zu", i);
    prb_sc_free(sc);
}

/* The best bin everywhere: 300+60+40+30+20 = 450 and nothing to explain. */
Test(scorecard, best_bins_give_no_reasons)
{
    prb_scorecard *sc = base();
    prb_score s;
    char err[256];
    cr_assert_eq(eval(sc, (struct in){NAN, 100, 0, "employed"}, &s, err, sizeof err), PRB_OK);
    cr_assert_eq(s.score, PTS(450));
    cr_assert_eq(s.nreasons, 0);
    cr_assert_eq(s.applied[0], 0, "a missing value takes the missing bin");
    prb_sc_free(sc);
}

/* Missing values take only missing bins: 300+60+0+0+20 = 380, with H00
 * (40 below best) and E00 (30). A NaN number counts as missing. */
Test(scorecard, missing_values_take_the_missing_bins)
{
    prb_scorecard *sc = base();
    prb_score s;
    char err[256];
    cr_assert_eq(eval(sc, (struct in){0.5, NAN, 1, NULL}, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.score, PTS(380));
    const char *codes[] = {"H00", "E00"};
    const double pts[] = {40, 30};
    expect_reasons(&s, 2, codes, pts);
    cr_assert_str_eq(s.reasons[0].text, "No credit history");
    cr_assert_eq(s.applied[1], 3);
    cr_assert_eq(s.applied[2], 2);

    prb_value v[4];
    fill(sc, &(struct in){NAN, NAN, 1, NULL}, v);
    v[0].present = 1; /* present, but NaN */
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.applied[0], 0, "NaN must take the missing bin");
    prb_sc_free(sc);
}

/* min is inclusive, max exclusive, bins are tried in order. */
Test(scorecard, interval_edges)
{
    prb_scorecard *sc = base();
    prb_score s;
    char err[256];
    const struct {
        double defaults;
        int bin;
    } cases[] = {{-5, 1}, {0, 1}, {0.999, 1}, {1, 2}, {2.999, 2}, {3, 3}, {1e9, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(eval(sc, (struct in){cases[i].defaults, 12, 0, ""}, &s, err, sizeof err),
                     PRB_OK, "%s", err);
        cr_assert_eq(s.applied[0], cases[i].bin, "defaults %g", cases[i].defaults);
        cr_assert_eq(s.applied[1], 1, "12 months is in [12, 60)");
        cr_assert_eq(s.applied[2], 3, "an empty category is present: otherwise");
    }
    prb_sc_free(sc);
}

/* inquiries_6m has no missing bin and nothing below 0: no bin matches, so
 * the score is invalid and the message names the characteristic. */
Test(scorecard, no_matching_bin_is_an_error_naming_it)
{
    prb_scorecard *sc = base();
    prb_score s;
    char err[256] = "";
    cr_assert_eq(eval(sc, (struct in){0, 12, NAN, "employed"}, &s, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "'inquiries_6m'"), "%s", err);
    cr_assert(strstr(err, "no attribute matches"), "%s", err);
    cr_assert_eq(eval(sc, (struct in){0, 12, -1, "employed"}, &s, err, sizeof err), PRB_EINVAL);
    prb_sc_free(sc);
}

/* Odds double every pdo points: 50 at 600, 100 at 620, 25 at 580. */
Test(scorecard, odds_scaling)
{
    prb_scorecard *sc = base();
    double odds = 0;
    cr_assert_eq(prb_sc_odds(sc, 600, &odds), 0);
    cr_assert_float_eq(odds, 50, 1e-9);
    cr_assert_eq(prb_sc_odds(sc, 620, &odds), 0);
    cr_assert_float_eq(odds, 100, 1e-9);
    cr_assert_eq(prb_sc_odds(sc, 580, &odds), 0);
    cr_assert_float_eq(odds, 25, 1e-9);
    cr_assert_eq(prb_sc_odds(sc, 320, &odds), 0);
    cr_assert_float_eq(odds, 50 * pow(2, -14), 1e-12);
    prb_sc_free(sc);

    char err[256];
    cr_assert_eq(compile_variant("\"scaling\":{\"score\":600,\"odds\":50,\"pdo\":20},", "", &sc,
                                 err, sizeof err),
                 PRB_OK, "%s", err);
    odds = -7;
    cr_assert_eq(prb_sc_odds(sc, 600, &odds), -1, "no scaling, no odds");
    cr_assert_float_eq(odds, -7, 0, "odds untouched");
    prb_sc_free(sc);
}

/* Five features f1..f5, each best bin 20 points when the value is below
 * 1; losses for a value of 1 are given per feature. */
static prb_scorecard *ladder(const char *order[5], const double loss[5], const char *codes[5])
{
    char buf[4096], err[256];
    size_t n = 0;
    prb_scorecard *sc = NULL;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"characteristics\":[");
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(
            buf + n, sizeof buf - n,
            "%s{\"feature\":\"%s\",\"bins\":[{\"max\":1,\"points\":20,\"reason\":\"OK\","
            "\"text\":\"fine\"},{\"min\":1,\"points\":%g,\"reason\":\"%s\",\"text\":\"%s lost\"}]}",
            i ? "," : "", order[i], 20 - loss[i], codes[i], codes[i]);
    snprintf(buf + n, sizeof buf - n, "]}");
    cr_assert_eq(compile_text(buf, &sc, err, sizeof err), PRB_OK, "%s", err);
    return sc;
}

static void all_ones(const prb_scorecard *sc, prb_value *v)
{
    for (size_t i = 0; i < sc->nfields; i++)
        v[i] = (prb_value){1, 1, NULL};
}

/* Losses 10, 10, 30, 5, 10: C3 first, then the three 10s in document
 * order (C1, C2, C5), and C4 is cut by the limit of four. */
Test(scorecard, ties_keep_document_order_and_at_most_four)
{
    const char *order[5] = {"f1", "f2", "f3", "f4", "f5"};
    const double loss[5] = {10, 10, 30, 5, 10};
    const char *codes[5] = {"C1", "C2", "C3", "C4", "C5"};
    prb_scorecard *sc = ladder(order, loss, codes);
    prb_value v[5];
    prb_score s;
    char err[256];
    all_ones(sc, v);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.score, PTS(100 - 65));
    const char *want[] = {"C3", "C1", "C2", "C5"};
    const double pts[] = {30, 10, 10, 10};
    expect_reasons(&s, PRB_MAX_REASONS, want, pts);
    cr_assert_str_eq(s.reasons[0].text, "C3 lost");
    prb_sc_free(sc);

    /* The same card with f5 first: now C5 leads the tie. */
    const char *order2[5] = {"f5", "f1", "f2", "f3", "f4"};
    const double loss2[5] = {10, 10, 10, 30, 5};
    const char *codes2[5] = {"C5", "C1", "C2", "C3", "C4"};
    sc = ladder(order2, loss2, codes2);
    all_ones(sc, v);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    const char *want2[] = {"C3", "C5", "C1", "C2"};
    expect_reasons(&s, PRB_MAX_REASONS, want2, pts);
    prb_sc_free(sc);
}

/* A reason code shared by two characteristics sums their losses (PMML's
 * accumulation): S = 10 + 15 = 25 outranks C3's 20. */
Test(scorecard, shared_reason_code_accumulates)
{
    const char *order[5] = {"f1", "f2", "f3", "f4", "f5"};
    const double loss[5] = {10, 15, 20, 0, 1};
    const char *codes[5] = {"S", "S", "C3", "C4", "C5"};
    prb_scorecard *sc = ladder(order, loss, codes);
    prb_value v[5];
    prb_score s;
    char err[256];
    all_ones(sc, v);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    const char *want[] = {"S", "C3", "C5"};
    const double pts[] = {25, 20, 1};
    expect_reasons(&s, 3, want, pts); /* C4 lost nothing: not a reason */
    /* f2 lost 15 of the 25: it, not f1, is what S is about. */
    cr_assert_str_eq(s.reasons[0].feature, "f2", "the characteristic where it cost most");
    prb_sc_free(sc);
}

/* A code shared by two characteristics takes its text and feature from
 * the one where it cost most, not from the first it applied in, which
 * may have cost nothing: the subject was told about the wrong feature. */
Test(scorecard, shared_reason_code_explained_by_the_costliest)
{
    const char *order[5] = {"f1", "f2", "f3", "f4", "f5"};
    const double loss[5] = {0, 15, 0, 7, 0};
    const char *codes[5] = {"S", "S", "C3", "S", "C5"};
    prb_scorecard *sc = ladder(order, loss, codes);
    prb_value v[5];
    prb_score s;
    char err[256];
    all_ones(sc, v);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    const char *want[] = {"S"};
    const double pts[] = {22};
    expect_reasons(&s, 1, want, pts);
    cr_assert_str_eq(s.reasons[0].feature, "f2");
    cr_assert_eq(s.reasons[0].text, sc->characs[1].attrs[1].reason_text,
                 "the text of the bin that applied in f2");
    prb_sc_free(sc);
}

/* A card of base 500 whose characteristic i reads f(i+1): a missing value
 * takes its bin of 0 points under codes[i], anything else the best bin,
 * of points[i]. So with every feature missing, characteristic i loses
 * points[i] under codes[i]. */
static prb_scorecard *fractional(size_t n, const char *const *codes, const char *const *points)
{
    char buf[4096], err[512] = "";
    size_t len = (size_t)snprintf(buf, sizeof buf, "{\"base_score\":500,\"characteristics\":[");
    prb_scorecard *sc = NULL;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "%s{\"feature\":\"f%zu\",\"bins\":[{\"missing\":true,\"points\":0,"
                                "\"reason\":\"%s\",\"text\":\"%s\"},{\"otherwise\":true,"
                                "\"points\":%s,\"reason\":\"OK\",\"text\":\"fine\"}]}",
                                i ? "," : "", i + 1, codes[i], codes[i], points[i]);
    snprintf(buf + len, sizeof buf - len, "]}");
    cr_assert_eq(compile_text(buf, &sc, err, sizeof err), PRB_OK, "%s", err);
    return sc;
}

/* Losses are summed exactly: A's 0.1 + 0.2 is B's 0.3, so B, which
 * applied first, comes first. Summed as doubles, A's came to
 * 0.30000000000000004 and went ahead of B by rounding alone. */
Test(scorecard, equal_fractional_totals_keep_document_order)
{
    const char *codes[] = {"B", "A", "A"}, *points[] = {"0.3", "0.1", "0.2"};
    prb_scorecard *sc = fractional(3, codes, points);
    prb_value v[3] = {{0, 0, NULL}, {0, 0, NULL}, {0, 0, NULL}};
    prb_score s;
    char err[256];
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.nreasons, 2);
    cr_assert_str_eq(s.reasons[0].code, "B");
    cr_assert_str_eq(s.reasons[1].code, "A");
    cr_assert_eq(s.reasons[0].points_lost, s.reasons[1].points_lost);
    cr_assert_eq(s.reasons[0].points_lost, PTS(0.3));
    prb_sc_free(sc);
}

/* 500 + 0.2 + 0.2 + 0.2 is 500.6, to the millionth; in doubles it was
 * 500.59999999999997. Six decimals are the finest points may be. */
Test(scorecard, fractional_points_add_up_exactly)
{
    const char *codes[] = {"A", "B", "C"}, *points[] = {"0.2", "0.2", "0.2"};
    prb_scorecard *sc = fractional(3, codes, points);
    prb_value v[3] = {{1, 5, NULL}, {1, 5, NULL}, {1, 5, NULL}};
    prb_score s;
    char err[256], text[PRB_SC_POINTS_STR];
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_eq(s.score, 500600000);
    cr_assert_str_eq(prb_sc_points_str(s.score, text), "500.6");
    cr_assert(prb_sc_points_real(s.score) == 500.6);
    prb_sc_free(sc);

    const char *fine[] = {"0.000001", "-999999999.999999", "2e-6"};
    sc = fractional(3, codes, fine);
    cr_assert_eq(prb_sc_eval(sc, v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_assert_str_eq(prb_sc_points_str(s.score, text), "-999999499.999996");
    prb_sc_free(sc);

    const struct {
        prb_points p;
        const char *text;
    } texts[] = {{0, "0"},
                 {-1, "-0.000001"},
                 {520000000, "520"},
                 {-30500000, "-30.5"},
                 {65 * PRB_SC_POINTS_MAX_UNITS, "65000000000"},
                 {-65 * PRB_SC_POINTS_MAX_UNITS + 1, "-64999999999.999999"},
                 {INT64_MIN, "-9223372036854.775808"}};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        cr_assert_str_eq(prb_sc_points_str(texts[i].p, text), texts[i].text);
}

struct bad {
    const char *from, *to;
    int rc;
    const char *expect;
};

/* Every error names the JSON path of the offending value. */
Test(scorecard, validation_errors_carry_the_path)
{
    const struct bad cases[] = {
        {"{\"missing\":true,\"points\":60,", "{\"missing\":true,\"pointz\":60,", PRB_EPOLICY,
         PATH ".characteristics[0].bins[0].pointz: unknown key"},
        {"\"points\":-30", "\"points\":\"-30\"", PRB_EPOLICY,
         PATH ".characteristics[0].bins[3].points: must be a number"},
        {"{\"min\":1,\"max\":3,", "{\"min\":3,\"max\":3,", PRB_EPOLICY,
         PATH ".characteristics[0].bins[2].max: must be greater than min"},
        {"{\"values\":[\"retired\"]", "{\"min\":1", PRB_EPOLICY,
         PATH ".characteristics[2].bins[1].min: intervals need a numeric feature"},
        {"{\"max\":12,", "{\"values\":[\"x\"],", PRB_EPOLICY,
         PATH ".characteristics[1].bins[0].values: value lists need a categorical feature"},
        {"\"feature\":\"inquiries_6m\"", "\"feature\":\"nope\"", PRB_EPOLICY,
         PATH ".characteristics[3].feature: unknown feature 'nope'"},
        {",\"reason\":\"D02\"", "", PRB_EPOLICY,
         PATH ".characteristics[0].bins[3].reason: required"},
        {",\"text\":\"Many recent inquiries\"", "", PRB_EPOLICY,
         PATH ".characteristics[3].bins[1].text: required"},
        {"\"reason\":\"I02\"", "\"reason\":\"I 02\"", PRB_EPOLICY,
         PATH ".characteristics[3].bins[1].reason: must be a reason code"},
        {"\"bins\":[{\"min\":0,\"max\":2,\"points\":20,\"reason\":\"I01\",\"text\":\"Few recent "
         "inquiries\"},{\"min\":2,\"points\":0,\"reason\":\"I02\",\"text\":\"Many recent "
         "inquiries\"}]",
         "\"bins\":[]", PRB_EPOLICY, PATH ".characteristics[3].bins: must be a non-empty array"},
        {"{\"missing\":true,\"points\":0,\"reason\":\"E00\"",
         "{\"missing\":false,\"points\":0,\"reason\":\"E00\"", PRB_EPOLICY,
         PATH ".characteristics[2].bins[2].missing: must be true"},
        {"{\"missing\":true,\"points\":0,\"reason\":\"H00\"",
         "{\"missing\":true,\"min\":0,\"points\":0,\"reason\":\"H00\"", PRB_EPOLICY,
         PATH ".characteristics[1].bins[3]: a bin takes only one of"},
        {"{\"max\":12,\"points\":5,", "{\"points\":5,", PRB_EPOLICY,
         PATH ".characteristics[1].bins[0]: a bin needs one of"},
        {"\"values\":[\"employed\",\"self_employed\"]", "\"values\":[\"employed\",7]", PRB_EPOLICY,
         PATH ".characteristics[2].bins[0].values[1]: must be a string"},
        {"\"pdo\":20", "\"pdo\":0", PRB_EPOLICY, PATH ".scaling.pdo: must be greater than 0"},
        {"\"odds\":50", "\"odds\":-1", PRB_EPOLICY, PATH ".scaling.odds: must be greater than 0"},
        {"\"scaling\":{\"score\":600,", "\"scaling\":{", PRB_EPOLICY,
         PATH ".scaling.score: required"},
        {"\"base_score\":300", "\"base_score\":\"300\"", PRB_EPOLICY,
         PATH ".base_score: must be a number"},
        {"\"base_score\":300", "\"base_scor\":300", PRB_EPOLICY, PATH ".base_scor: unknown key"},
        {"{\"feature\":\"employment\",\"bins\"",
         "{\"feature\":\"employment\",\"name\":\"x\","
         "\"bins\"",
         PRB_EPOLICY, PATH ".characteristics[2].name: unknown key"},
        /* Invariant 1: texts a subject reads, the description, features. */
        {"\"text\":\"Retired\"", "\"text\":\"Retired from the trade union\"", PRB_EREFUSED,
         PATH ".characteristics[2].bins[1].text: refused: 'trade union' is trade-union membership "
              "data, which probity never holds or scores (DESIGN invariant 1), in text 'Retired "
              "from the trade union'"},
        {"\"description\":\"Test card for payment behaviour\"",
         "\"description\":\"Scores religious belief\"", PRB_EREFUSED,
         PATH ".description: refused: 'religious' is religion or belief data"},
        {"\"feature\":\"defaults_open\"", "\"feature\":\"ethnicity\"", PRB_EREFUSED,
         PATH ".characteristics[0].feature: feature 'ethnicity' is refused"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        prb_scorecard *sc = (prb_scorecard *)1;
        int rc = compile_variant(cases[i].from, cases[i].to, &sc, err, sizeof err);
        cr_expect_eq(rc, cases[i].rc, "case %zu: rc %d (%s)", i, rc, err);
        cr_expect_null(sc, "case %zu: no model on failure", i);
        cr_expect(strstr(err, cases[i].expect) == err, "case %zu: got '%s', want '%s...'", i, err,
                  cases[i].expect);
    }
}

/* Points are bounded so no score overflows: base_score 1e308 and a bin
 * of 1e308 made inf, which compares false with every threshold and so
 * was approved. A hand-built model past the bound has no score. */
Test(scorecard, huge_points_are_refused_and_inf_is_no_score)
{
    const struct bad cases[] = {
        {"\"base_score\":300", "\"base_score\":1e308", PRB_EPOLICY,
         PATH ".base_score: must be between -1e9 and 1e9"},
        {"\"points\":-30", "\"points\":-1e308", PRB_EPOLICY,
         PATH ".characteristics[0].bins[3].points: must be between -1e9 and 1e9"},
        {"\"points\":60,", "\"points\":1000000001,", PRB_EPOLICY,
         PATH ".characteristics[0].bins[0].points: must be between -1e9 and 1e9"},
        {"\"scaling\":{\"score\":600", "\"scaling\":{\"score\":1e300", PRB_EPOLICY,
         PATH ".scaling.score: must be between -1e9 and 1e9"},
        /* Points are held in millionths: more decimals are refused, not
         * rounded. */
        {"\"points\":-30", "\"points\":-30.0000001", PRB_EPOLICY,
         PATH ".characteristics[0].bins[3].points: must have at most 6 decimals"},
        {"\"base_score\":300", "\"base_score\":1e-7", PRB_EPOLICY,
         PATH ".base_score: must have at most 6 decimals"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        prb_scorecard *sc = NULL;
        int rc = compile_variant(cases[i].from, cases[i].to, &sc, err, sizeof err);
        cr_expect_eq(rc, cases[i].rc, "case %zu: rc %d (%s)", i, rc, err);
        cr_expect(strstr(err, cases[i].expect) == err, "case %zu: got '%s', want '%s...'", i, err,
                  cases[i].expect);
        prb_sc_free(sc);
    }
    /* At the bound it loads. */
    char err[512] = "";
    prb_scorecard *sc = NULL;
    cr_assert_eq(compile_variant("\"base_score\":300", "\"base_score\":1e9", &sc, err, sizeof err),
                 PRB_OK, "%s", err);
    prb_score s;
    /* Made by hand past the bound, where sums could overflow. */
    sc->initial_score = INT64_MAX;
    cr_assert_eq(eval(sc, (struct in){NAN, 12, 0, "employed"}, &s, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "the initial score holds points beyond"), "%s", err);
    sc->initial_score = 0;
    sc->characs[0].attrs[0].partial_score = INT64_MAX;
    cr_assert_eq(eval(sc, (struct in){NAN, 12, 0, "employed"}, &s, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "characteristic 'defaults_open' holds points beyond"), "%s", err);
    sc->characs[0].attrs[0].partial_score = 0;
    sc->characs[0].baseline = INT64_MIN;
    cr_assert_eq(eval(sc, (struct in){NAN, 12, 0, "employed"}, &s, err, sizeof err), PRB_EINVAL);
    cr_assert(strstr(err, "holds points beyond"), "%s", err);
    prb_sc_free(sc);
}

Test(scorecard, shape_errors)
{
    const struct {
        const char *text, *expect;
    } cases[] = {
        {"[]", PATH ": must be an object"},
        {"{\"characteristics\":[]}", PATH ".characteristics: must be an array of 1-64"},
        {"{}", PATH ".characteristics: required"},
        {"{\"characteristics\":[{\"bins\":[]}]}", PATH ".characteristics[0].feature: required"},
        {"{\"characteristics\":[7]}", PATH ".characteristics[0]: must be an object"},
        {"{\"characteristics\":[{\"feature\":\"f1\",\"bins\":[3]}]}",
         PATH ".characteristics[0].bins[0]: must be an object"},
        {"{\"characteristics\":[{\"feature\":\"f1\",\"bins\":[{\"otherwise\":true,\"points\":1,"
         "\"reason\":\"A\",\"text\":\"\"}]}]}",
         PATH ".characteristics[0].bins[0].text: must be a string of 1-500 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        prb_scorecard *sc = NULL;
        cr_expect_eq(compile_text(cases[i].text, &sc, err, sizeof err), PRB_EPOLICY, "case %zu", i);
        cr_expect(strstr(err, cases[i].expect) == err, "case %zu: got '%s'", i, err);
    }
}

/* A bin no value can reach is refused: its points still made the best
 * bin, the baseline of reasons, so every subject lost points to a bin
 * none could get (a "missing" bin of 30 on a feature with missing_as gave
 * everyone a reason worth 10 that could push a real one out of the four).
 * A bin only partly taken by those before it still applies. */
Test(scorecard, bins_that_can_never_apply_are_refused)
{
    const struct bad cases[] = {
        {"\"text\":\"Not in work\"}",
         "\"text\":\"Not in work\"},{\"values\":[\"student\"],\"points\":50,\"reason\":\"E09\","
         "\"text\":\"Student\"}",
         PRB_EPOLICY,
         PATH ".characteristics[2].bins[4]: a bin of characteristic 'employment' that can never "
              "apply: bins[3] before it is \"otherwise\", which takes every value; its points "
              "could still be the best bin's"},
        {"{\"max\":1,\"points\":60,",
         "{\"missing\":true,\"points\":70,\"reason\":\"D09\",\"text\":\"Not known\"},{\"max\":1,"
         "\"points\":60,",
         PRB_EPOLICY,
         PATH ".characteristics[0].bins[1]: a bin of characteristic 'defaults_open' that can "
              "never apply: a bin before it already takes a missing value"},
        /* [2, 5) lies in [1, 3) and [3, inf) together, in neither alone. */
        {"\"text\":\"Three or more payment defaults\"}",
         "\"text\":\"Three or more payment defaults\"},{\"min\":2,\"max\":5,\"points\":90,"
         "\"reason\":\"D09\",\"text\":\"Two to four\"}",
         PRB_EPOLICY,
         PATH ".characteristics[0].bins[4]: a bin of characteristic 'defaults_open' that can "
              "never apply: the bins before it already take every value of its interval"},
        {"\"text\":\"Three or more payment defaults\"}",
         "\"text\":\"Three or more payment defaults\"},{\"otherwise\":true,\"points\":90,"
         "\"reason\":\"D09\",\"text\":\"Anything else\"}",
         PRB_EPOLICY,
         PATH ".characteristics[0].bins[4]: a bin of characteristic 'defaults_open' that can "
              "never apply: the bins before it already take every value, and a missing one"},
        {"{\"missing\":true,\"points\":0,\"reason\":\"E00\"",
         "{\"values\":[\"retired\",\"employed\"],\"points\":90,\"reason\":\"E09\",\"text\":\"In "
         "work or retired\"},{\"missing\":true,\"points\":0,\"reason\":\"E00\"",
         PRB_EPOLICY,
         PATH ".characteristics[2].bins[2]: a bin of characteristic 'employment' that can never "
              "apply: the bins before it already take each of its values"},
        {"\"feature\":\"inquiries_6m\",\"bins\":[",
         "\"feature\":\"always\",\"bins\":[{\"missing\":true,\"points\":90,\"reason\":\"I09\","
         "\"text\":\"No inquiries\"},",
         PRB_EPOLICY,
         PATH ".characteristics[3].bins[0]: a bin of characteristic 'always' that can never "
              "apply: feature 'always' is never missing (the policy gives it missing_as)"},
        /* Taken in part only: [0, 3) still has 1 and 2 after (-inf, 1). */
        {"{\"min\":1,\"max\":3,", "{\"min\":0,\"max\":3,", PRB_OK, ""},
        /* "otherwise" after intervals that take every number takes a missing value. */
        {"{\"missing\":true,\"points\":0,\"reason\":\"H00\"",
         "{\"otherwise\":true,\"points\":0,\"reason\":\"H00\"", PRB_OK, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        prb_scorecard *sc = NULL;
        int rc = compile_variant(cases[i].from, cases[i].to, &sc, err, sizeof err);
        cr_expect_eq(rc, cases[i].rc, "case %zu: rc %d (%s)", i, rc, err);
        cr_expect(strstr(err, cases[i].expect) == err, "case %zu: got '%s', want '%s...'", i, err,
                  cases[i].expect);
        prb_sc_free(sc);
    }

    /* A feature never missing: every number taken leaves "otherwise" nothing. */
    const char *always = "{\"characteristics\":[{\"feature\":\"always\",\"bins\":["
                         "{\"max\":1,\"points\":20,\"reason\":\"T00\",\"text\":\"None\"},"
                         "{\"min\":1,\"points\":-50,\"reason\":\"T01\",\"text\":\"Some\"}%s]}]}";
    char text[1024], err[512] = "";
    prb_scorecard *sc = NULL;
    snprintf(text, sizeof text, always,
             ",{\"otherwise\":true,\"points\":30,\"reason\":\"T09\",\"text\":\"Else\"}");
    cr_expect_eq(compile_text(text, &sc, err, sizeof err), PRB_EPOLICY);
    cr_expect(strstr(err, PATH
                     ".characteristics[0].bins[2]: a bin of characteristic 'always' "
                     "that can never apply: the bins before it already take every value;") == err,
              "got '%s'", err);
    prb_sc_free(sc);
    sc = NULL;
    snprintf(text, sizeof text, always, "");
    cr_assert_eq(compile_text(text, &sc, err, sizeof err), PRB_OK, "%s", err);
    cr_expect_eq(sc->characs[0].baseline, PTS(20), "the best bin a subject can get");
    prb_sc_free(sc);
}

/* A register's policy in force, adopted when a bin no value can reach
 * loaded, keeps it (or the register would not open): the first is named
 * in err, and the baseline is the best bin a value can reach, so no one
 * loses points to the 30 none could get. */
Test(scorecard, a_policy_in_force_keeps_a_bin_that_can_never_apply)
{
    const char *text =
        "{\"characteristics\":[{\"feature\":\"always\",\"bins\":["
        "{\"missing\":true,\"points\":30,\"reason\":\"T09\",\"text\":\"On file\"},"
        "{\"max\":1,\"points\":20,\"reason\":\"T00\",\"text\":\"None\"},"
        "{\"min\":1,\"points\":-50,\"reason\":\"T01\",\"text\":\"Some\"},"
        "{\"otherwise\":true,\"points\":40,\"reason\":\"T08\",\"text\":\"Else\"}]}]}";
    json_t *j = json_loads(text, 0, NULL);
    char err[512] = "";
    prb_scorecard *sc = NULL;
    prb_score s;
    cr_assert_not_null(j);
    cr_assert_eq(prb_sc_from_json("t", j, PATH, kinds, NULL, 1, &sc, err, sizeof err), PRB_OK, "%s",
                 err);
    cr_expect_str_eq(err, PATH ".characteristics[0].bins[0]: a bin of characteristic 'always' "
                               "that can never apply: feature 'always' is never missing (the "
                               "policy gives it missing_as); not taken as the best bin");
    cr_expect_eq(sc->characs[0].baseline, PTS(20), "the best bin a subject can get");
    prb_value v = {1, 0, NULL};
    cr_assert_eq(prb_sc_eval(sc, &v, &s, err, sizeof err), PRB_OK, "%s", err);
    cr_expect_eq(s.nreasons, 0, "a reason for points no one could get: %s",
                 s.nreasons ? s.reasons[0].code : "");
    prb_sc_free(sc);
    sc = NULL;
    /* Adopted now, it is refused. */
    cr_expect_eq(prb_sc_from_json("t", j, PATH, kinds, NULL, 0, &sc, err, sizeof err), PRB_EPOLICY);
    cr_expect_null(sc);
    json_decref(j);
}

/* prb_score.applied has 64 slots, so a card may have 64 characteristics
 * and no more. */
Test(scorecard, at_most_64_characteristics)
{
    size_t cap = 65 * 128 + 64, n;
    char *buf = malloc(cap), err[512] = "";
    prb_scorecard *sc = NULL;
    cr_assert_not_null(buf);
    for (int total = 64; total <= 65; total++) {
        n = (size_t)snprintf(buf, cap, "{\"characteristics\":[");
        for (int i = 0; i < total; i++)
            n += (size_t)snprintf(buf + n, cap - n,
                                  "%s{\"feature\":\"f1\",\"bins\":[{\"otherwise\":true,"
                                  "\"points\":1,\"reason\":\"A\",\"text\":\"a\"}]}",
                                  i ? "," : "");
        snprintf(buf + n, cap - n, "]}");
        int rc = compile_text(buf, &sc, err, sizeof err);
        if (total == 64) {
            cr_assert_eq(rc, PRB_OK, "%s", err);
            cr_assert_eq(sc->nfields, 1, "one feature used 64 times is one field");
            prb_score s;
            prb_value v = {0, 0, NULL};
            cr_assert_eq(prb_sc_eval(sc, &v, &s, err, sizeof err), PRB_OK, "%s", err);
            cr_assert_eq(s.score, PTS(64));
            prb_sc_free(sc);
        } else {
            cr_assert_eq(rc, PRB_EPOLICY);
            cr_assert(strstr(err, "1-64"), "%s", err);
        }
    }
    free(buf);
}

Test(scorecard, feature_kind_is_asked_once_per_characteristic)
{
    json_t *j = json_loads(base_card, 0, NULL);
    int calls = 0;
    char err[256];
    prb_scorecard *sc = NULL;
    cr_assert_not_null(j);
    cr_assert_eq(prb_sc_from_json("t", j, PATH, kinds, &calls, 0, &sc, err, sizeof err), PRB_OK,
                 "%s", err);
    cr_assert_eq(calls, 4);
    prb_sc_free(sc);
    json_decref(j);
}

/* ----------------------------------------------- JSON and PMML agree */

static prb_scorecard *equiv_pmml(void)
{
    char *buf = th_slurp("tests/data/scorecard_equiv.pmml"), err[512];
    prb_scorecard *sc = NULL;
    cr_assert_not_null(buf);
    int rc = prb_sc_from_pmml("scorecard_equiv.pmml", buf, strlen(buf), kinds, NULL, &sc, err,
                              sizeof err);
    cr_assert_eq(rc, PRB_OK, "%s", err);
    free(buf);
    return sc;
}

/* The policy card and its PMML twin, on every combination of a grid of
 * values with edges, missing values and inputs no bin takes: the same
 * result code, score, applied bins and ranked reasons (code, points,
 * feature). */
Test(scorecard, json_and_equivalent_pmml_agree_on_a_grid)
{
    prb_scorecard *js = base(), *pm = equiv_pmml();
    const double defaults[] = {NAN, -1, 0, 0.5, 1, 2, 2.99, 3, 10};
    const double months[] = {NAN, 0, 11.9, 12, 59, 60, 200};
    const double inquiries[] = {NAN, -1, 0, 1, 2, 5};
    const char *employment[] = {NULL, "employed", "self_employed", "retired", "student", ""};
    size_t n = 0, errors = 0, with_reasons = 0;

    for (size_t a = 0; a < sizeof defaults / sizeof defaults[0]; a++)
        for (size_t b = 0; b < sizeof months / sizeof months[0]; b++)
            for (size_t c = 0; c < sizeof inquiries / sizeof inquiries[0]; c++)
                for (size_t d = 0; d < sizeof employment / sizeof employment[0]; d++) {
                    struct in in = {defaults[a], months[b], inquiries[c], employment[d]};
                    prb_score s1, s2;
                    char e1[256] = "", e2[256] = "";
                    int r1 = eval(js, in, &s1, e1, sizeof e1);
                    int r2 = eval(pm, in, &s2, e2, sizeof e2);
                    n++;
                    cr_assert_eq(r1, r2, "input %zu: %s | %s", n, e1, e2);
                    if (r1) {
                        errors++;
                        continue;
                    }
                    cr_assert_eq(s1.score, s2.score, "input %zu", n);
                    cr_assert_eq(s1.nreasons, s2.nreasons, "input %zu", n);
                    with_reasons += s1.nreasons > 0;
                    for (size_t k = 0; k < s1.ncharacs; k++)
                        cr_assert_eq(s1.applied[k], s2.applied[k], "input %zu, char %zu", n, k);
                    for (size_t k = 0; k < s1.nreasons; k++) {
                        cr_assert_str_eq(s1.reasons[k].code, s2.reasons[k].code, "input %zu", n);
                        cr_assert_eq(s1.reasons[k].points_lost, s2.reasons[k].points_lost,
                                     "input %zu", n);
                        cr_assert_str_eq(s1.reasons[k].feature, s2.reasons[k].feature);
                        cr_assert_not_null(s1.reasons[k].text, "JSON reasons carry text");
                        cr_assert_null(s2.reasons[k].text, "PMML has no reason texts");
                    }
                }
    cr_assert_eq(n, 9 * 7 * 6 * 6);
    /* The grid must exercise both outcomes, or the test proves little. */
    cr_assert_eq(errors, 9 * 7 * 2 * 6, "inquiries missing or -1 match no bin");
    cr_assert_gt(with_reasons, 100);
    prb_sc_free(js);
    prb_sc_free(pm);
}
