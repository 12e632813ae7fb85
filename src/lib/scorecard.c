/*
 * scorecard.c - the scorecard model of scorecard.h: the evaluator both
 * kinds of scorecard share, the compiler of policy (JSON) scorecards, odds
 * scaling, and release. PMML import (pmml.c) builds the same structures.
 *
 * Evaluation follows the PMML 4.4 Scorecard element exactly, so that a
 * model imported from PMML scores as its producer meant:
 *  - each characteristic contributes the partial score of its first
 *    attribute whose predicate is TRUE; a FALSE or UNKNOWN predicate does
 *    not match, and a characteristic with no matching attribute makes the
 *    whole score invalid (PRB_EINVAL here, never a silent zero);
 *  - predicates use PMML's three-valued logic: a comparison with a missing
 *    value is UNKNOWN, and/or/xor/surrogate combine TRUE, FALSE, UNKNOWN;
 *  - the difference of each applied partial score from the baseline (the
 *    characteristic's, else the scorecard's) is summed per reason code,
 *    and reason codes are ranked by that sum, highest first.
 *
 * A JSON bin is an attribute whose predicate tests one feature; its
 * characteristic's baseline is its best bin, so the ranking says how many
 * points each feature cost the subject against the best they could have
 * had ("points below the best bin").
 */
#include "internal.h"
#include "scorecard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* prb_score.applied has one slot per characteristic. */
#define MAX_CHARACS ((int)(sizeof(((prb_score *)0)->applied) / sizeof(int)))
/* The most inputs a PMML model has (pmml.c MAX_INPUTS), whose values an
 * invalid value treatment may copy. */
#define MAX_INPUTS 256

#define TEXT_MAX 500

/* ------------------------------------------------------------------ free */

static void pred_free(prb_pred *p)
{
    free(p->str);
    for (size_t i = 0; p->values && i < p->nvalues; i++)
        free(p->values[i]);
    free(p->values);
    free(p->numvalues);
    for (size_t i = 0; p->child && i < p->nchild; i++)
        pred_free(&p->child[i]);
    free(p->child);
}

void prb_sc_free(prb_scorecard *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; sc->characs && i < sc->ncharacs; i++) {
        prb_charac *c = &sc->characs[i];
        for (size_t j = 0; c->attrs && j < c->nattrs; j++) {
            pred_free(&c->attrs[j].pred);
            free(c->attrs[j].reason_code);
            free(c->attrs[j].reason_text);
        }
        free(c->attrs);
        free(c->name);
        free(c->reason_code);
    }
    free(sc->characs);
    for (size_t i = 0; sc->fields && i < sc->nfields; i++)
        free(sc->fields[i]);
    free(sc->fields);
    free(sc->field_kind);
    free(sc->field_integer);
    free(sc->name);
    free(sc);
}

/* ------------------------------------------------------------- evaluator */

/* PMML's three truth values. */
enum { P_FALSE = 0, P_TRUE = 1, P_UNKNOWN = 2 };

/* A value is missing when absent; a NaN number or a NULL string is
 * treated as absent too, so a caller's "no value" can never compare. */
static int missing(const prb_scorecard *sc, const prb_value *vals, int field)
{
    const prb_value *v = &vals[field];
    if (!v->present)
        return 1;
    if (sc->field_kind[field] == PRB_FIELD_NUMERIC)
        return isnan(v->num);
    return v->str == NULL;
}

static int truth(int b)
{
    return b ? P_TRUE : P_FALSE;
}

static int eval_simple(const prb_scorecard *sc, const prb_pred *p, const prb_value *vals)
{
    int miss = missing(sc, vals, p->field);
    if (p->cmp == PRB_C_MISSING)
        return truth(miss);
    if (p->cmp == PRB_C_NOT_MISSING)
        return truth(!miss);
    if (miss)
        return P_UNKNOWN;
    if (sc->field_kind[p->field] == PRB_FIELD_CATEGORICAL) {
        /* Only equality is defined for categories; the compilers refuse
         * ordering comparisons on them. */
        int eq = !strcmp(vals[p->field].str, p->str);
        return p->cmp == PRB_C_EQ ? truth(eq) : p->cmp == PRB_C_NE ? truth(!eq) : P_UNKNOWN;
    }
    double a = vals[p->field].num, b = p->num;
    switch (p->cmp) {
    case PRB_C_EQ:
        return truth(a == b);
    case PRB_C_NE:
        return truth(a != b);
    case PRB_C_LT:
        return truth(a < b);
    case PRB_C_LE:
        return truth(a <= b);
    case PRB_C_GT:
        return truth(a > b);
    case PRB_C_GE:
        return truth(a >= b);
    default:
        return P_UNKNOWN;
    }
}

static int eval_set(const prb_scorecard *sc, const prb_pred *p, const prb_value *vals)
{
    int in = 0;
    if (missing(sc, vals, p->field))
        return P_UNKNOWN;
    for (size_t i = 0; i < p->nvalues && !in; i++) {
        if (sc->field_kind[p->field] == PRB_FIELD_NUMERIC)
            in = p->numvalues[i] == vals[p->field].num;
        else
            in = !strcmp(p->values[i], vals[p->field].str);
    }
    return truth(p->cmp == PRB_C_NE ? !in : in);
}

static int eval_pred(const prb_scorecard *sc, const prb_pred *p, const prb_value *vals)
{
    int r, acc;
    switch (p->op) {
    case PRB_P_TRUE:
        return P_TRUE;
    case PRB_P_FALSE:
        return P_FALSE;
    case PRB_P_SIMPLE:
        return eval_simple(sc, p, vals);
    case PRB_P_SET:
        return eval_set(sc, p, vals);
    case PRB_P_AND: /* FALSE wins, then UNKNOWN */
        acc = P_TRUE;
        for (size_t i = 0; i < p->nchild; i++) {
            if ((r = eval_pred(sc, &p->child[i], vals)) == P_FALSE)
                return P_FALSE;
            if (r == P_UNKNOWN)
                acc = P_UNKNOWN;
        }
        return acc;
    case PRB_P_OR: /* TRUE wins, then UNKNOWN */
        acc = P_FALSE;
        for (size_t i = 0; i < p->nchild; i++) {
            if ((r = eval_pred(sc, &p->child[i], vals)) == P_TRUE)
                return P_TRUE;
            if (r == P_UNKNOWN)
                acc = P_UNKNOWN;
        }
        return acc;
    case PRB_P_XOR: /* any UNKNOWN makes the parity unknown */
        acc = 0;
        for (size_t i = 0; i < p->nchild; i++) {
            if ((r = eval_pred(sc, &p->child[i], vals)) == P_UNKNOWN)
                return P_UNKNOWN;
            acc ^= r == P_TRUE;
        }
        return truth(acc);
    case PRB_P_SURROGATE: /* the first child that knows */
        for (size_t i = 0; i < p->nchild; i++)
            if ((r = eval_pred(sc, &p->child[i], vals)) != P_UNKNOWN)
                return r;
        return P_UNKNOWN;
    default:
        return P_UNKNOWN;
    }
}

/* The first field a predicate reads, or -1 (True, False). */
static int pred_field(const prb_pred *p)
{
    if (p->op == PRB_P_SIMPLE || p->op == PRB_P_SET)
        return p->field;
    for (size_t i = 0; i < p->nchild; i++) {
        int f = pred_field(&p->child[i]);
        if (f >= 0)
            return f;
    }
    return -1;
}

/* What a reason is "about": the characteristic's first field, else its
 * name (a characteristic of True/False predicates reads no field). */
static const char *charac_feature(const prb_scorecard *sc, const prb_charac *c)
{
    for (size_t j = 0; j < c->nattrs; j++) {
        int f = pred_field(&c->attrs[j].pred);
        if (f >= 0 && (size_t)f < sc->nfields)
            return sc->fields[f];
    }
    return c->name;
}

static void charac_label(const prb_charac *c, size_t i, char *buf, size_t n)
{
    if (c->name)
        snprintf(buf, n, "'%s'", c->name);
    else
        snprintf(buf, n, "#%zu", i + 1);
}

/* One reason code's accumulated difference; first is the index of the
 * characteristic where it first applied, which breaks ties. text and
 * feature are those of the characteristic where the code cost most (best
 * is that difference; the first of equals): a code shared by several
 * characteristics is explained by the one that made it a reason, not by
 * one where it happened to apply first and cost nothing. */
struct acc {
    const char *code;
    const char *text;
    const char *feature;
    prb_points diff, best;
    size_t first;
};

/* Sorts by difference, highest first; equal differences keep the order
 * the codes first applied in (document order), as PMML asks. The sums
 * are exact (prb_points), so equal is equal: as doubles 0.1 + 0.2 came
 * above 0.3 and a later code went first. Stable insertion sort: at most
 * MAX_CHARACS entries. */
static void rank(struct acc *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct acc t = a[i];
        size_t j = i;
        while (j > 0 &&
               (a[j - 1].diff < t.diff || (a[j - 1].diff == t.diff && a[j - 1].first > t.first))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = t;
    }
}

/* Whether p is within PRB_SC_POINTS_MAX, so that no sum of at most
 * MAX_CHARACS + 1 of them overflows. The compilers refuse others; a
 * hand-built model may hold any. c is the characteristic (number i) the
 * points are of, NULL for the initial score. */
static int in_range(const prb_scorecard *sc, const prb_charac *c, size_t i, prb_points p, char *err,
                    size_t errlen)
{
    char label[96];
    if (p >= -PRB_SC_POINTS_MAX_UNITS && p <= PRB_SC_POINTS_MAX_UNITS)
        return 1;
    if (c)
        charac_label(c, i, label, sizeof label);
    snprintf(err, errlen,
             "scorecard %s: %s%s holds points beyond -1e9 to 1e9, so the score is invalid",
             sc->name, c ? "characteristic " : "the initial score", c ? label : "");
    return 0;
}

/* PMML's invalid values for fields of dataType integer: a number that
 * is not a whole one is not of the field's type (JPMML refuses 29.5 for
 * one), and the MiningField's invalidValueTreatment decides. *use gets
 * vals, or own (room for MAX_INPUTS) holding them with such values made
 * missing. Returns 0, or PRB_EINVAL with a message in err when one makes
 * the score invalid. */
static int treat_invalid(const prb_scorecard *sc, const prb_value *vals, prb_value *own,
                         const prb_value **use, char *err, size_t errlen)
{
    *use = vals;
    if (sc->field_integer && sc->nfields > MAX_INPUTS) {
        snprintf(err, errlen, "scorecard %s: more than %d fields", sc->name, MAX_INPUTS);
        return PRB_EINVAL;
    }
    for (size_t i = 0; sc->field_integer && i < sc->nfields; i++) {
        double x = vals[i].num;
        if (!sc->field_integer[i] || missing(sc, vals, (int)i) || (isfinite(x) && x == floor(x)) ||
            sc->field_integer[i] == PRB_INVALID_AS_IS)
            continue;
        if (sc->field_integer[i] == PRB_INVALID_RETURN) {
            char v[PRB_REAL_STR];
            if (prb_real_str(v, sizeof v, x) <= 0)
                snprintf(v, sizeof v, "%g", x);
            snprintf(err, errlen,
                     "scorecard %s: field '%s' is of dataType integer and its value %s is not a "
                     "whole number, so the score is invalid (invalidValueTreatment "
                     "returnInvalid)",
                     sc->name, sc->fields[i], v);
            return PRB_EINVAL;
        }
        if (*use == vals) {
            memcpy(own, vals, sc->nfields * sizeof *own);
            *use = own;
        }
        own[i].present = 0;
    }
    return PRB_OK;
}

int prb_sc_eval(const prb_scorecard *sc, const prb_value *vals, prb_score *out, char *err,
                size_t errlen)
{
    struct acc acc[MAX_CHARACS];
    prb_value own[MAX_INPUTS];
    size_t nacc = 0;
    char label[96];

    memset(out, 0, sizeof *out);
    if (sc->ncharacs > (size_t)MAX_CHARACS) {
        snprintf(err, errlen, "scorecard %s: more than %d characteristics", sc->name, MAX_CHARACS);
        return PRB_EINVAL;
    }
    if (treat_invalid(sc, vals, own, &vals, err, errlen))
        return PRB_EINVAL;
    if (!in_range(sc, NULL, 0, sc->initial_score, err, errlen))
        return PRB_EINVAL;
    out->score = sc->initial_score;
    out->ncharacs = sc->ncharacs;
    for (size_t i = 0; i < sc->ncharacs; i++) {
        const prb_charac *c = &sc->characs[i];
        const prb_attr *a = NULL;
        size_t j;
        for (j = 0; j < c->nattrs && !a; j++)
            if (eval_pred(sc, &c->attrs[j].pred, vals) == P_TRUE)
                a = &c->attrs[j];
        if (!a) {
            const char *f = charac_feature(sc, c);
            charac_label(c, i, label, sizeof label);
            snprintf(err, errlen,
                     "scorecard %s: characteristic %s (%s): no attribute matches the input, so "
                     "the score is invalid",
                     sc->name, label, f ? f : "no field");
            out->unscored = f;
            return PRB_EINVAL;
        }
        out->applied[i] = (int)(j - 1);
        if (!in_range(sc, c, i, a->partial_score, err, errlen))
            return PRB_EINVAL;
        out->score += a->partial_score;
        if (!sc->use_reason_codes)
            continue;

        const char *code = a->reason_code ? a->reason_code : c->reason_code;
        if (!code || (!c->has_baseline && !sc->has_baseline)) {
            /* The compilers refuse such models; a hand-built one may not. */
            charac_label(c, i, label, sizeof label);
            snprintf(err, errlen, "scorecard %s: characteristic %s has no %s", sc->name, label,
                     code ? "baseline score" : "reason code");
            return PRB_EINVAL;
        }
        prb_points base = c->has_baseline ? c->baseline : sc->baseline_score;
        if (!in_range(sc, c, i, base, err, errlen))
            return PRB_EINVAL;
        prb_points diff =
            sc->reason_algo == PRB_POINTS_ABOVE ? a->partial_score - base : base - a->partial_score;
        size_t k = 0;
        while (k < nacc && strcmp(acc[k].code, code))
            k++;
        if (k == nacc)
            acc[nacc++] = (struct acc){code, a->reason_text, charac_feature(sc, c), 0, diff, i};
        else if (diff > acc[k].best) {
            acc[k].text = a->reason_text;
            acc[k].feature = charac_feature(sc, c);
            acc[k].best = diff;
        }
        acc[k].diff += diff;
    }
    /* Only a reason that cost points explains an outcome. */
    rank(acc, nacc);
    for (size_t k = 0; k < nacc && out->nreasons < PRB_MAX_REASONS && acc[k].diff > 0; k++) {
        prb_reason *r = &out->reasons[out->nreasons++];
        r->code = acc[k].code;
        r->text = acc[k].text;
        r->feature = acc[k].feature;
        r->points_lost = acc[k].diff;
    }
    return PRB_OK;
}

int prb_sc_points(double v, prb_points *out)
{
    if (!(fabs(v) <= PRB_SC_POINTS_MAX))
        return -1;
    /* Within the bound v * 10^6 is off the whole number it stands for by
     * far less than a half, and that number over 10^6, correctly rounded,
     * is the double the decimal reads as; any other v had more decimals. */
    prb_points p = llround(v * PRB_SC_POINTS_UNIT);
    if ((double)p / PRB_SC_POINTS_UNIT != v)
        return -2;
    *out = p;
    return 0;
}

double prb_sc_points_real(prb_points p)
{
    /* Exact below 2^53 millionths (9e9 points); a score past that is
     * rounded once, by the division. */
    return (double)p / PRB_SC_POINTS_UNIT;
}

char *prb_sc_points_str(prb_points p, char *buf)
{
    /* The magnitude unsigned, so the most negative value has one too. */
    uint64_t m = p < 0 ? 0u - (uint64_t)p : (uint64_t)p;
    unsigned long frac = (unsigned long)(m % PRB_SC_POINTS_UNIT);
    int n = snprintf(buf, PRB_SC_POINTS_STR, "%s%llu", p < 0 ? "-" : "",
                     (unsigned long long)(m / PRB_SC_POINTS_UNIT));
    if (frac) {
        int digits = PRB_SC_POINTS_DECIMALS;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf + n, PRB_SC_POINTS_STR - (size_t)n, ".%0*lu", digits, frac);
    }
    return buf;
}

int prb_sc_odds(const prb_scorecard *sc, double score, double *odds)
{
    if (!sc->has_scaling || !(sc->scale_pdo > 0) || !(sc->scale_odds > 0))
        return -1;
    *odds = sc->scale_odds * exp2((score - sc->scale_score) / sc->scale_pdo);
    return 0;
}

/* ----------------------------------------------------- policy (JSON) form */

struct jc {
    char *err;
    size_t errlen;
    char path[512];
    int (*feature_kind)(void *ctx, const char *name);
    void *ctx;
    prb_scorecard *sc;
    int kept;  /* a register's policy in force: a bin that can never apply loads */
    int noted; /* such a bin is named in err */
};

static int jfail(struct jc *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jfail(struct jc *c, int rc, const char *fmt, ...)
{
    char why[PRB_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", c->path, why);
    return rc;
}

/* Appends ".key" or "[i]" to the path; returns the length to restore. */
static size_t jpush(struct jc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t jpush(struct jc *c, const char *fmt, ...)
{
    size_t n = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + n, sizeof c->path - n, fmt, ap);
    va_end(ap);
    return n;
}

static void jpop(struct jc *c, size_t n)
{
    c->path[n] = 0;
}

/* Fails with the path extended by key. */
static int jfail_at(struct jc *c, const char *key, int rc, const char *why)
{
    size_t n = jpush(c, ".%s", key);
    jfail(c, rc, "%s", why);
    jpop(c, n);
    return rc;
}

static int only_keys(struct jc *c, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key))
            a++;
        if (!*a)
            return jfail_at(c, key, PRB_EPOLICY, "unknown key");
    }
    return PRB_OK;
}

/* Invariant 1 for free text that a subject will read. */
static int refused_text(struct jc *c, const char *key, const char *text)
{
    char why[PRB_REFUSED_WHY];
    size_t n;
    if (!prb_refused_why(key, text, why, sizeof why))
        return PRB_OK;
    n = jpush(c, ".%s", key);
    jfail(c, PRB_EREFUSED, "%s", why);
    jpop(c, n);
    return PRB_EREFUSED;
}

/* A finite number at key; absent is fine when optional. */
static int get_num(struct jc *c, json_t *obj, const char *key, int required, int *has, double *out)
{
    json_t *v = json_object_get(obj, key);
    *has = 0;
    if (!v)
        return required ? jfail_at(c, key, PRB_EPOLICY, "required") : PRB_OK;
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return jfail_at(c, key, PRB_EPOLICY, "must be a number");
    *out = json_number_value(v);
    *has = 1;
    return PRB_OK;
}

/* Why a number of points was refused, for prb_sc_points's -1 and -2. */
static const char *points_why(int r)
{
    return r == -1 ? "must be between -1e9 and 1e9: larger points could add up to more than a "
                     "score can hold, and such a score decides nothing"
                   : "must have at most 6 decimals: points are counted exactly, in millionths, "
                     "so that a score is the sum the policy wrote";
}

/* A number of points (points, base_score): at most PRB_SC_POINTS_MAX
 * either way, so that no score can overflow, and exact in millionths. */
static int get_points(struct jc *c, json_t *obj, const char *key, int required, int *has,
                      prb_points *out)
{
    double v = 0;
    int rc = get_num(c, obj, key, required, has, &v), r;
    if (!rc && *has && (r = prb_sc_points(v, out)))
        return jfail_at(c, key, PRB_EPOLICY, points_why(r));
    return rc;
}

/* true, or absent; "missing": false says nothing and is refused. */
static int get_flag(struct jc *c, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v)
        return PRB_OK;
    if (!json_is_true(v))
        return jfail_at(c, key, PRB_EPOLICY, "must be true (or left out)");
    *out = 1;
    return PRB_OK;
}

int prb_sc_reason_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PRB_REASON_CODE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

/* A leaf comparing the field with a number. */
static void leaf_cmp(prb_pred *p, int field, int cmp, double num)
{
    p->op = PRB_P_SIMPLE;
    p->field = field;
    p->cmp = cmp;
    p->num = num;
}

/* [min, max): one comparison, or both under AND. */
static int interval_pred(prb_pred *p, int field, int has_min, double min, int has_max, double max)
{
    if (has_min && has_max) {
        p->op = PRB_P_AND;
        if (!(p->child = calloc(2, sizeof *p->child)))
            return PRB_ENOMEM;
        p->nchild = 2;
        leaf_cmp(&p->child[0], field, PRB_C_GE, min);
        leaf_cmp(&p->child[1], field, PRB_C_LT, max);
    } else if (has_min) {
        leaf_cmp(p, field, PRB_C_GE, min);
    } else {
        leaf_cmp(p, field, PRB_C_LT, max);
    }
    return PRB_OK;
}

static int values_pred(struct jc *c, prb_pred *p, int field, json_t *arr)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return jfail_at(c, "values", PRB_EPOLICY, "must be a non-empty array of strings");
    p->op = PRB_P_SET;
    p->field = field;
    p->cmp = PRB_C_EQ;
    if (!(p->values = calloc(json_array_size(arr), sizeof *p->values)) ||
        !(p->numvalues = calloc(json_array_size(arr), sizeof *p->numvalues)))
        return PRB_ENOMEM;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) {
            size_t n = jpush(c, ".values[%zu]", i);
            jfail(c, PRB_EPOLICY, "must be a string");
            jpop(c, n);
            return PRB_EPOLICY;
        }
        if (!(p->values[i] = strdup(json_string_value(v))))
            return PRB_ENOMEM;
        p->numvalues[i] = NAN;
        p->nvalues = i + 1;
    }
    return PRB_OK;
}

static int load_bin(struct jc *c, json_t *bin, int field, int kind, prb_attr *a)
{
    static const char *const keys[] = {"missing", "otherwise", "min",  "max", "values",
                                       "points",  "reason",    "text", NULL};
    json_t *values = json_object_get(bin, "values"), *reason, *text;
    int is_missing, otherwise, has_min, has_max, has_pts, rc;
    double min = 0, max = 0;

    if (!json_is_object(bin))
        return jfail(c, PRB_EPOLICY, "must be an object");
    if ((rc = only_keys(c, bin, keys)) || (rc = get_flag(c, bin, "missing", &is_missing)) ||
        (rc = get_flag(c, bin, "otherwise", &otherwise)) ||
        (rc = get_num(c, bin, "min", 0, &has_min, &min)) ||
        (rc = get_num(c, bin, "max", 0, &has_max, &max)) ||
        (rc = get_points(c, bin, "points", 1, &has_pts, &a->partial_score)))
        return rc;

    /* Exactly one kind of test per bin. */
    int kinds = is_missing + otherwise + (has_min || has_max) + (values != NULL);
    if (kinds == 0)
        return jfail(c, PRB_EPOLICY,
                     "a bin needs one of \"missing\", \"otherwise\", \"min\"/\"max\" "
                     "or \"values\"");
    if (kinds > 1)
        return jfail(c, PRB_EPOLICY,
                     "a bin takes only one of \"missing\", \"otherwise\", "
                     "\"min\"/\"max\" and \"values\"");
    if ((has_min || has_max) && kind != PRB_FIELD_NUMERIC)
        return jfail_at(c, has_min ? "min" : "max", PRB_EPOLICY,
                        "intervals need a numeric feature; this one is categorical");
    if (values && kind != PRB_FIELD_CATEGORICAL)
        return jfail_at(c, "values", PRB_EPOLICY,
                        "value lists need a categorical feature; this one is numeric");
    if (has_min && has_max && !(min < max))
        return jfail_at(c, "max", PRB_EPOLICY,
                        "must be greater than min (min is inclusive, max "
                        "exclusive)");

    reason = json_object_get(bin, "reason");
    if (!reason)
        return jfail_at(c, "reason", PRB_EPOLICY, "required: every bin has a reason code");
    if (!json_is_string(reason) || !prb_sc_reason_code_ok(json_string_value(reason)))
        return jfail_at(c, "reason", PRB_EPOLICY,
                        "must be a reason code of 1-32 letters, digits, '_', '-' or '.'");
    /* A subject is shown the code with the text; a PMML reasonCode is checked too. */
    if ((rc = refused_text(c, "reason", json_string_value(reason))))
        return rc;
    text = json_object_get(bin, "text");
    if (!text)
        return jfail_at(c, "text", PRB_EPOLICY, "required: every bin explains itself");
    if (!json_is_string(text) || !json_string_length(text) || json_string_length(text) > TEXT_MAX)
        return jfail_at(c, "text", PRB_EPOLICY, "must be a string of 1-500 bytes");
    if ((rc = refused_text(c, "text", json_string_value(text))))
        return rc;
    if (!(a->reason_code = strdup(json_string_value(reason))) ||
        !(a->reason_text = strdup(json_string_value(text))))
        return PRB_ENOMEM;

    if (is_missing) {
        a->pred.op = PRB_P_SIMPLE;
        a->pred.field = field;
        a->pred.cmp = PRB_C_MISSING;
        return PRB_OK;
    }
    if (otherwise) {
        a->pred.op = PRB_P_TRUE;
        return PRB_OK;
    }
    if (values)
        return values_pred(c, &a->pred, field, values);
    return interval_pred(&a->pred, field, has_min, min, has_max, max);
}

/* The index of a feature in sc->fields, added on first use. The arrays
 * were sized for one field per characteristic. */
static int field_index(prb_scorecard *sc, const char *name, int kind, int *out)
{
    for (size_t i = 0; i < sc->nfields; i++)
        if (!strcmp(sc->fields[i], name)) {
            *out = (int)i;
            return PRB_OK;
        }
    if (!(sc->fields[sc->nfields] = strdup(name)))
        return PRB_ENOMEM;
    sc->field_kind[sc->nfields] = kind;
    *out = (int)sc->nfields++;
    return PRB_OK;
}

/* The interval [*lo, *hi) an interval bin's predicate takes (as
 * interval_pred builds it), an unbounded side as an infinity; 0 when the
 * predicate is of another kind of bin. */
static int bin_interval(const prb_pred *p, double *lo, double *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (p->op == PRB_P_AND) {
        *lo = p->child[0].num;
        *hi = p->child[1].num;
    } else if (p->op == PRB_P_SIMPLE && p->cmp == PRB_C_GE) {
        *lo = p->num;
    } else if (p->op == PRB_P_SIMPLE && p->cmp == PRB_C_LT) {
        *hi = p->num;
    } else {
        return 0;
    }
    return 1;
}

/* Whether the interval bins among attrs[0..n) take every number of
 * [lo, hi): climbs from lo through a bin holding the point reached to its
 * upper end until none holds it. Exact: the ends are the policy's own
 * numbers and the intervals are half-open, so an uncovered stretch
 * begins at one of them. */
static int covered(const prb_attr *attrs, size_t n, double lo, double hi)
{
    int moved = 1;
    while (lo < hi && moved) {
        moved = 0;
        for (size_t k = 0; k < n; k++) {
            double a, b;
            if (bin_interval(&attrs[k].pred, &a, &b) && a <= lo && lo < b) {
                lo = b;
                moved = 1;
            }
        }
    }
    return lo >= hi;
}

/* Whether some values bin among attrs[0..n) lists v. */
static int value_taken(const prb_attr *attrs, size_t n, const char *v)
{
    for (size_t k = 0; k < n; k++) {
        const prb_pred *p = &attrs[k].pred;
        for (size_t j = 0; p->op == PRB_P_SET && j < p->nvalues; j++)
            if (!strcmp(p->values[j], v))
                return 1;
    }
    return 0;
}

/* Whether a bin's predicate is that of a "missing" bin. */
static int missing_bin(const prb_pred *p)
{
    return p->op == PRB_P_SIMPLE && p->cmp == PRB_C_MISSING;
}

/* Refuses bin i of ch when the bins before it leave it no value. Bins
 * are tried in order, so such a bin never applies; yet the best bin is
 * the baseline reasons count points below, and an unreachable best bin
 * had every subject lose points to it under a reason that explained
 * nothing, which could push a real reason out of the four. A register's
 * policy in force adopted with one keeps it, named in err, and
 * *unreachable keeps it from being the best. */
static int check_reachable(struct jc *c, const prb_charac *ch, size_t i, int kind,
                           int never_missing, int *unreachable)
{
    const prb_attr *a = ch->attrs;
    const prb_pred *p = &a[i].pred;
    size_t other = i, j = 0;
    int had_missing = 0;
    char why[160] = "";
    double lo, hi;

    for (size_t k = 0; k < i; k++) {
        if (a[k].pred.op == PRB_P_TRUE && other == i)
            other = k;
        had_missing |= missing_bin(&a[k].pred);
    }
    if (other < i)
        snprintf(why, sizeof why, "bins[%zu] before it is \"otherwise\", which takes every value",
                 other);
    else if (missing_bin(p) && never_missing)
        snprintf(why, sizeof why, "feature '%s' is never missing (the policy gives it missing_as)",
                 ch->name);
    else if (missing_bin(p) && had_missing)
        snprintf(why, sizeof why, "a bin before it already takes a missing value");
    else if (bin_interval(p, &lo, &hi) && covered(a, i, lo, hi))
        snprintf(why, sizeof why, "the bins before it already take every value of its interval");
    else if (p->op == PRB_P_TRUE && kind == PRB_FIELD_NUMERIC && (never_missing || had_missing) &&
             covered(a, i, -INFINITY, INFINITY))
        snprintf(why, sizeof why, "the bins before it already take every value%s",
                 never_missing ? "" : ", and a missing one");
    if (p->op == PRB_P_SET && !why[0]) {
        while (j < p->nvalues && value_taken(a, i, p->values[j]))
            j++;
        if (j == p->nvalues)
            snprintf(why, sizeof why, "the bins before it already take each of its values");
    }
    if (!why[0])
        return PRB_OK;
    *unreachable = 1;
    if (c->kept) {
        if (!c->noted)
            jfail(c, PRB_OK,
                  "a bin of characteristic '%s' that can never apply: %s; not taken as the best "
                  "bin",
                  ch->name, why);
        c->noted = 1;
        return PRB_OK;
    }
    return jfail(c, PRB_EPOLICY,
                 "a bin of characteristic '%s' that can never apply: %s; its points could still "
                 "be the best bin's, below which every reason counts the points lost",
                 ch->name, why);
}

static int load_charac(struct jc *c, json_t *def, prb_charac *ch)
{
    static const char *const keys[] = {"feature", "bins", NULL};
    json_t *feat, *bins, *bin;
    char term[64];
    const char *name, *cls;
    int kind, never_missing, field, rc, best = 0;
    size_t i;

    if (!json_is_object(def))
        return jfail(c, PRB_EPOLICY, "must be an object");
    if ((rc = only_keys(c, def, keys)))
        return rc;
    feat = json_object_get(def, "feature");
    if (!json_is_string(feat))
        return jfail_at(c, "feature", PRB_EPOLICY, feat ? "must be a string" : "required");
    name = json_string_value(feat);
    if ((cls = prb_refused_class(name, term, sizeof term))) {
        size_t n = jpush(c, ".feature");
        jfail(c, PRB_EREFUSED,
              "feature '%s' is refused: '%s' is %s data, which probity never holds or scores "
              "(DESIGN invariant 1)",
              name, term, cls);
        jpop(c, n);
        return PRB_EREFUSED;
    }
    kind = c->feature_kind ? c->feature_kind(c->ctx, name) : 0;
    never_missing = (kind & PRB_FIELD_NEVER_MISSING) != 0;
    kind &= ~PRB_FIELD_NEVER_MISSING;
    if (kind != PRB_FIELD_NUMERIC && kind != PRB_FIELD_CATEGORICAL) {
        size_t n = jpush(c, ".feature");
        jfail(c, PRB_EPOLICY, "unknown feature '%s'", name);
        jpop(c, n);
        return PRB_EPOLICY;
    }
    if (!(ch->name = strdup(name)))
        return PRB_ENOMEM;
    if ((rc = field_index(c->sc, name, kind, &field)))
        return rc;

    bins = json_object_get(def, "bins");
    if (!json_is_array(bins) || json_array_size(bins) == 0)
        return jfail_at(c, "bins", PRB_EPOLICY, bins ? "must be a non-empty array" : "required");
    if (!(ch->attrs = calloc(json_array_size(bins), sizeof *ch->attrs)))
        return PRB_ENOMEM;
    json_array_foreach(bins, i, bin)
    {
        size_t n = jpush(c, ".bins[%zu]", i);
        ch->nattrs = i + 1; /* owned from here on, even half-built */
        int unreachable = 0;
        rc = load_bin(c, bin, field, kind, &ch->attrs[i]);
        if (!rc)
            rc = check_reachable(c, ch, i, kind, never_missing, &unreachable);
        jpop(c, n);
        if (rc)
            return rc;
        /* The baseline is the best bin a value can reach: "how many
         * points below the best". With none, no bin applies and no
         * reason is counted. */
        if (!unreachable && (!best || ch->attrs[i].partial_score > ch->baseline)) {
            ch->baseline = ch->attrs[i].partial_score;
            best = 1;
        }
    }
    ch->has_baseline = 1;
    return PRB_OK;
}

static int load_scaling(struct jc *c, json_t *def, prb_scorecard *sc)
{
    static const char *const keys[] = {"score", "odds", "pdo", NULL};
    size_t n = jpush(c, ".scaling");
    int rc, has;

    if (!json_is_object(def)) {
        rc = jfail(c, PRB_EPOLICY, "must be an object with score, odds and pdo");
        goto out;
    }
    if ((rc = only_keys(c, def, keys)) ||
        (rc = get_num(c, def, "score", 1, &has, &sc->scale_score)) ||
        (rc = get_num(c, def, "odds", 1, &has, &sc->scale_odds)) ||
        (rc = get_num(c, def, "pdo", 1, &has, &sc->scale_pdo)))
        goto out;
    /* Odds are floating point; the bound keeps their exponent in range. */
    if (!(fabs(sc->scale_score) <= PRB_SC_POINTS_MAX)) {
        rc = jfail_at(c, "score", PRB_EPOLICY, "must be between -1e9 and 1e9");
        goto out;
    }
    if (!(sc->scale_odds > 0)) {
        rc = jfail_at(c, "odds", PRB_EPOLICY, "must be greater than 0");
        goto out;
    }
    if (!(sc->scale_pdo > 0)) {
        rc = jfail_at(c, "pdo", PRB_EPOLICY, "must be greater than 0 (points to double the odds)");
        goto out;
    }
    sc->has_scaling = 1;
out:
    jpop(c, n);
    return rc;
}

int prb_sc_from_json(const char *name, json_t *def, const char *path,
                     int (*feature_kind)(void *ctx, const char *name), void *ctx, int kept,
                     prb_scorecard **out, char *err, size_t errlen)
{
    static const char *const keys[] = {"description", "base_score", "scaling", "characteristics",
                                       NULL};
    struct jc c = {err, errlen, "", feature_kind, ctx, NULL, kept, 0};
    json_t *desc, *chars, *ch;
    size_t i;
    int rc, has;

    *out = NULL;
    if (errlen)
        err[0] = 0;
    snprintf(c.path, sizeof c.path, "%s", path ? path : "$");
    if (!json_is_object(def))
        return jfail(&c, PRB_EPOLICY, "must be an object");
    if ((rc = only_keys(&c, def, keys)))
        return rc;
    if (!(c.sc = calloc(1, sizeof *c.sc)) || !(c.sc->name = strdup(name ? name : "")))
        goto nomem;
    c.sc->use_reason_codes = 1;
    c.sc->reason_algo = PRB_POINTS_BELOW;

    desc = json_object_get(def, "description");
    if (desc && !json_is_string(desc)) {
        rc = jfail_at(&c, "description", PRB_EPOLICY, "must be a string");
        goto fail;
    }
    if (desc && (rc = refused_text(&c, "description", json_string_value(desc))))
        goto fail;
    if ((rc = get_points(&c, def, "base_score", 0, &has, &c.sc->initial_score)))
        goto fail;
    if (json_object_get(def, "scaling") &&
        (rc = load_scaling(&c, json_object_get(def, "scaling"), c.sc)))
        goto fail;

    chars = json_object_get(def, "characteristics");
    if (!json_is_array(chars) || json_array_size(chars) == 0 ||
        json_array_size(chars) > (size_t)MAX_CHARACS) {
        rc = jfail_at(&c, "characteristics", PRB_EPOLICY,
                      chars ? "must be an array of 1-64 characteristics" : "required");
        goto fail;
    }
    if (!(c.sc->characs = calloc(json_array_size(chars), sizeof *c.sc->characs)) ||
        !(c.sc->fields = calloc(json_array_size(chars), sizeof *c.sc->fields)) ||
        !(c.sc->field_kind = calloc(json_array_size(chars), sizeof *c.sc->field_kind)))
        goto nomem;
    json_array_foreach(chars, i, ch)
    {
        size_t n = jpush(&c, ".characteristics[%zu]", i);
        c.sc->ncharacs = i + 1;
        rc = load_charac(&c, ch, &c.sc->characs[i]);
        jpop(&c, n);
        if (rc)
            goto fail;
    }
    *out = c.sc;
    return PRB_OK;

nomem:
    rc = PRB_ENOMEM;
fail:
    /* Helpers return PRB_ENOMEM without a message; give it one here. */
    if (rc == PRB_ENOMEM)
        jfail(&c, PRB_ENOMEM, "out of memory");
    prb_sc_free(c.sc);
    return rc;
}
