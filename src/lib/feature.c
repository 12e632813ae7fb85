/*
 * feature.c - features: the policy's aggregations over a subject's usable
 * records (effective, not expired), read through one purpose's allowed
 * categories so a record made for one context never decides another
 * (DESIGN invariant 3). A feature with no record to aggregate is missing,
 * not zero, unless the policy gives it a value for that case.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

int prb_months_between(int32_t a, int32_t b)
{
    int ya, yb;
    unsigned ma, mb, da, db;
    prb_civil_from_days(a, &ya, &ma, &da);
    prb_civil_from_days(b, &yb, &mb, &db);
    int m = (yb - ya) * 12 + (int)mb - (int)ma - (db < da);
    return m < 0 ? 0 : m;
}

/* 10^n, for an amount's scale (at most 15: 4 bits). */
static int64_t p10(int n)
{
    int64_t r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

/* A field's value as a number: amounts in major units of their currency,
 * divided once by an exact power of ten so that the result is the double
 * nearest the decimal (7 cents is 0.07, which a policy's bound 0.07 is
 * too; dividing by ten twice made it 0.06999999999999999). */
static double field_number(const prb_field_view *fv)
{
    if (fv->type == PRB_FT_AMOUNT)
        return (double)fv->num / (double)p10(fv->scale & 15);
    return (double)fv->num;
}

static const prb_field_view *find_field(const prb_record_view *rv, const char *name)
{
    for (size_t i = 0; i < rv->nfields; i++)
        if (!strcmp(rv->fields[i].name, name))
            return &rv->fields[i];
    return NULL;
}

static int cond_holds(const prb_cond *c, const prb_record_view *rv)
{
    const prb_field_view *fv = find_field(rv, c->field);
    if (!fv)
        return 0;
    if (c->nvalues) {
        if (!fv->str)
            return 0;
        for (size_t i = 0; i < c->nvalues; i++)
            if (!strcmp(fv->str, c->values[i]))
                return 1;
        return 0;
    }
    if (fv->str)
        return 0;
    double v = field_number(fv);
    return (!c->has_min || v >= c->min) && (!c->has_max || v < c->max);
}

static int all_hold(const prb_cond *cs, size_t n, const prb_record_view *rv)
{
    for (size_t i = 0; i < n; i++)
        if (!cond_holds(&cs[i], rv))
            return 0;
    return 1;
}

int prb_feature_of_record(const prb_featdef *fd, int cat, const prb_record_view *rv)
{
    return cat >= 0 && fd->categories >> cat & 1 && all_hold(fd->where, fd->nwhere, rv);
}

struct acc {
    uint64_t count, matched;
    /* A sum is kept exact, in units of 10^-scale (the largest scale of
     * the amounts it has added): adding decimals as doubles put 2.23 +
     * 4997.77 below 5000.00, on the wrong side of a bin or a list's
     * threshold, with the explanation saying 5000. */
    __int128 sum;
    int scale;
    double min, max;
    int32_t earliest, latest;
    int has_num, has_date;
};

/* Adds one record to feature fd's accumulator; returns 1 if it counted.
 * A record without the field a sum, min, max or months since reads gives
 * the feature no value and does not count: counted, it was among a
 * decision's records used while the feature said no record gave it one. */
static int accumulate(const prb_featdef *fd, int cat, const prb_record_view *rv, int32_t today,
                      struct acc *a)
{
    if (fd->statuses && !(fd->statuses >> rv->status & 1))
        return 0;
    if (fd->window_months && prb_months_between(rv->event_date, today) >= fd->window_months)
        return 0;
    if (!all_hold(fd->where, fd->nwhere, rv))
        return 0;
    a->count++;
    if (fd->kind == PRB_F_SHARE && all_hold(fd->match, fd->nmatch, rv))
        a->matched++;
    if (fd->kind == PRB_F_MONTHS_EARLIEST || fd->kind == PRB_F_MONTHS_LATEST) {
        int32_t d = rv->event_date;
        if (fd->field) {
            const prb_field_view *fv = fd->field_idx[cat] >= 0 ? find_field(rv, fd->field) : NULL;
            if (!fv)
                return 0;
            d = (int32_t)fv->num;
        }
        if (!a->has_date || d < a->earliest)
            a->earliest = d;
        if (!a->has_date || d > a->latest)
            a->latest = d;
        a->has_date = 1;
    } else if (fd->field) {
        const prb_field_view *fv = fd->field_idx[cat] >= 0 ? find_field(rv, fd->field) : NULL;
        if (!fv)
            return 0;
        double v = field_number(fv);
        int sc = fv->type == PRB_FT_AMOUNT ? fv->scale & 15 : 0;
        if (sc > a->scale) {
            a->sum *= p10(sc - a->scale);
            a->scale = sc;
        }
        a->sum += (__int128)fv->num * p10(a->scale - sc);
        if (!a->has_num || v < a->min)
            a->min = v;
        if (!a->has_num || v > a->max)
            a->max = v;
        a->has_num = 1;
    }
    return 1;
}

static void finish(const prb_featdef *fd, const struct acc *a, int32_t today, prb_value *v)
{
    v->present = 1;
    v->str = NULL;
    switch (fd->kind) {
    case PRB_F_COUNT:
    case PRB_F_INQUIRIES:
        v->present = a->count > 0;
        v->num = (double)a->count;
        break;
    case PRB_F_SUM:
        v->present = a->has_num, v->num = (double)a->sum / (double)p10(a->scale);
        break;
    case PRB_F_MIN:
        v->present = a->has_num, v->num = a->min;
        break;
    case PRB_F_MAX:
        v->present = a->has_num, v->num = a->max;
        break;
    case PRB_F_MONTHS_EARLIEST:
        v->present = a->has_date;
        v->num = a->has_date ? prb_months_between(a->earliest, today) : 0;
        break;
    case PRB_F_MONTHS_LATEST:
        v->present = a->has_date;
        v->num = a->has_date ? prb_months_between(a->latest, today) : 0;
        break;
    case PRB_F_SHARE:
        v->present = a->count > 0;
        v->num = a->count ? (double)a->matched / (double)a->count : 0;
        break;
    }
    if (!v->present && fd->has_default) {
        v->present = 1;
        v->num = fd->dflt;
    }
}

/* prb_features; undisputed: a record under an open dispute counts as it
 * would if it were not disputed (prb_features_undisputed). */
static void features(const prb_policy *p, uint64_t allowed, const prb_file *f, const prb_inq *inq,
                     size_t ninq, int32_t today, const uint8_t *need, prb_value *vals,
                     uint8_t *used, int undisputed)
{
    struct acc acc[1024];
    size_t nf = p->nfeatures < 1024 ? p->nfeatures : 1024;
    size_t nrec = prb_file_nrecords(f);
    memset(acc, 0, nf * sizeof *acc);
    for (size_t r = 0; r < nrec; r++) {
        const prb_record_view *rv = prb_file_record(f, r);
        if (used)
            used[r] = 0;
        if (!rv->usable && !(undisputed && prb_record_only_disputed(rv, today)))
            continue;
        int cat = prb_policy_category(p, rv->category, strlen(rv->category));
        if (cat < 0 || !(allowed >> cat & 1))
            continue;
        for (size_t i = 0; i < nf; i++) {
            const prb_featdef *fd = &p->features[i];
            if ((need && !need[i]) || !(fd->categories >> cat & 1))
                continue;
            if (accumulate(fd, cat, rv, today, &acc[i]) && used)
                used[r] = 1;
        }
    }
    for (size_t i = 0; i < nf; i++) {
        const prb_featdef *fd = &p->features[i];
        if (fd->kind == PRB_F_INQUIRIES && (!need || need[i])) {
            /* Inquiries come in order, many of them on the same day: the
             * window is worked out once a day, not once an inquiry (a
             * subject asked about often has hundreds). */
            int32_t day = INT32_MIN;
            int in = 0;
            for (size_t q = 0; q < ninq; q++) {
                /* An inquiry made after the as-of day had not been made
                 * on it (prb_months_between clamps to 0: it counted). */
                if (inq[q].purpose < 0 || !(fd->purposes >> inq[q].purpose & 1) ||
                    inq[q].day > today)
                    continue;
                if (inq[q].day != day) {
                    day = inq[q].day;
                    in = prb_months_between(day, today) < fd->window_months;
                }
                acc[i].count += (unsigned)in;
            }
        }
        finish(fd, &acc[i], today, &vals[i]);
    }
}

void prb_features(const prb_policy *p, uint64_t allowed, const prb_file *f, const prb_inq *inq,
                  size_t ninq, int32_t today, const uint8_t *need, prb_value *vals, uint8_t *used)
{
    features(p, allowed, f, inq, ninq, today, need, vals, used, 0);
}

void prb_features_undisputed(const prb_policy *p, uint64_t allowed, const prb_file *f,
                             int32_t today, prb_value *vals)
{
    features(p, allowed, f, NULL, 0, today, NULL, vals, NULL, 1);
}
