/*
 * policy.c - loads and validates a policy file (JSON, read with jansson)
 * into the in-memory shape of internal.h. Validation is strict: unknown
 * keys are errors, because a misspelt "retention" that silently did
 * nothing would keep data longer than the law allows. Every error names
 * the file, the JSON path and the reason. Names and descriptions are
 * checked against the refused classes (DESIGN invariant 1) here, so no
 * category, field or purpose of that kind ever exists in a loaded policy.
 */
#include "internal.h"
#include "scorecard.h"
#include "sha256.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 36500

struct ctx {
    prb_policy *p;
    char path[512];
    int kept; /* the register's policy in force: PRB_OLD_* forms load */
};

static int fail(struct ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int rc, const char *fmt, ...)
{
    char why[PRB_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    prb_vfmt(why, sizeof why, fmt, ap);
    va_end(ap);
    return prb_seterr(c->p->err, rc, "%s: %s: %s", c->p->name, c->path, why);
}

/* Notes where the policy in force first uses form (an enum prb_old_form)
 * for verify to name; a later use of the same form adds nothing. */
static void old_form(struct ctx *c, unsigned form, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void old_form(struct ctx *c, unsigned form, const char *fmt, ...)
{
    char *t = c->p->old_forms_text;
    size_t n = strlen(t);
    va_list ap;
    if (c->p->old_forms & form)
        return;
    c->p->old_forms |= form;
    if (n && n < sizeof c->p->old_forms_text)
        n += (size_t)snprintf(t + n, sizeof c->p->old_forms_text - n, "; ");
    if (n >= sizeof c->p->old_forms_text)
        return;
    va_start(ap, fmt);
    prb_vfmt(t + n, sizeof c->p->old_forms_text - n, fmt, ap);
    va_end(ap);
}

/* Appends ".key" or "[i]" to the path; returns the old length to restore. */
static size_t push(struct ctx *c, const char *key)
{
    size_t n = strlen(c->path);
    snprintf(c->path + n, sizeof c->path - n, ".%s", key);
    return n;
}

static void pop(struct ctx *c, size_t n)
{
    c->path[n] = 0;
}

static int check_refused(struct ctx *c, const char *what, const char *text)
{
    char why[PRB_REFUSED_WHY];
    if (prb_refused_why(what, text, why, sizeof why))
        return fail(c, PRB_EREFUSED, "%s", why);
    return PRB_OK;
}

static int check_name(struct ctx *c, const char *what, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PRB_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return fail(c, PRB_EPOLICY, "%s name '%s' must be 1-63 characters starting with a-z", what,
                    name);
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return fail(c, PRB_EPOLICY, "%s name '%s' may hold only a-z, 0-9 and '_'", what, name);
    }
    return check_refused(c, what, name);
}

/* Rejects keys of obj not in the NULL-terminated list allowed. */
static int only_keys(struct ctx *c, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key))
            a++;
        if (!*a) {
            size_t n = push(c, key);
            int rc = fail(c, PRB_EPOLICY, "unknown key");
            pop(c, n);
            return rc;
        }
    }
    return PRB_OK;
}

static int get_string(struct ctx *c, json_t *obj, const char *key, int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (!required)
            return PRB_OK;
        size_t n = push(c, key);
        int rc = fail(c, PRB_EPOLICY, "required");
        pop(c, n);
        return rc;
    }
    if (!json_is_string(v)) {
        size_t n = push(c, key);
        int rc = fail(c, PRB_EPOLICY, "must be a string");
        pop(c, n);
        return rc;
    }
    *out = strdup(json_string_value(v));
    return *out ? PRB_OK : PRB_ENOMEM;
}

/* What every named definition starts with: an object, a name allowed by
 * the naming rule and by invariant 1, only known keys; *copy gets the name. */
static int begin_def(struct ctx *c, const char *what, const char *name, json_t *def,
                     const char *const *keys, char **copy)
{
    int rc;
    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = check_name(c, what, name)) || (rc = only_keys(c, def, keys)))
        return rc;
    return (*copy = strdup(name)) ? PRB_OK : PRB_ENOMEM;
}

/* A required string key that must be one of names[lo..hi]: *out gets the
 * index, and an unknown value is an error that lists what is allowed. */
static int get_enum(struct ctx *c, json_t *obj, const char *key, const char *const *names, int lo,
                    int hi, const char *allowed, int *out)
{
    char *v = NULL;
    int rc = get_string(c, obj, key, 1, &v);
    *out = 0;
    if (rc)
        return rc;
    for (int i = lo; i <= hi; i++)
        if (names[i] && !strcmp(v, names[i]))
            *out = i;
    free(v);
    if (*out)
        return PRB_OK;
    size_t at = push(c, key);
    rc = fail(c, PRB_EPOLICY, "must be one of %s", allowed);
    pop(c, at);
    return rc;
}

/* An optional "description": declared subject matter is checked against
 * the refused classes like a name. Kept in *keep, or freed if keep is NULL. */
static int get_description(struct ctx *c, json_t *def, const char *what, char **keep)
{
    char *desc = NULL;
    int rc = get_string(c, def, "description", 0, &desc);
    if (!rc && desc)
        rc = check_refused(c, what, desc);
    if (keep)
        *keep = desc;
    else
        free(desc);
    return rc;
}

static int get_int(struct ctx *c, json_t *obj, const char *key, int required, int64_t lo,
                   int64_t hi, int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v && !required)
        return PRB_OK;
    size_t n = push(c, key);
    int rc = PRB_OK;
    if (!v)
        rc = fail(c, PRB_EPOLICY, "required");
    else if (!json_is_integer(v))
        rc = fail(c, PRB_EPOLICY, "must be an integer");
    else if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        rc = fail(c, PRB_EPOLICY, "must be between %lld and %lld", (long long)lo, (long long)hi);
    else
        *out = json_integer_value(v);
    pop(c, n);
    return rc;
}

static int get_kinds(struct ctx *c, json_t *obj, unsigned *kinds)
{
    json_t *arr = json_object_get(obj, "subject_kinds"), *v;
    size_t i, n = push(c, "subject_kinds");
    int rc = PRB_OK;
    *kinds = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = fail(c, PRB_EPOLICY, "must be a non-empty array of \"person\" and \"company\"");
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, "person"))
            *kinds |= 1u << PRB_PERSON;
        else if (s && !strcmp(s, "company"))
            *kinds |= 1u << PRB_COMPANY;
        else {
            rc = fail(c, PRB_EPOLICY, "[%zu] must be \"person\" or \"company\"", i);
            goto out;
        }
    }
out:
    pop(c, n);
    return rc;
}

static const char *const ftype_names[] = {
    [PRB_FT_STRING] = "string", [PRB_FT_ENUM] = "enum", [PRB_FT_INTEGER] = "integer",
    [PRB_FT_AMOUNT] = "amount", [PRB_FT_DATE] = "date", [PRB_FT_CURRENCY] = "currency",
};

static int load_field(struct ctx *c, const char *name, json_t *def, prb_fielddef *f)
{
    static const char *const keys[] = {"type", "required",   "values",      "min",
                                       "max",  "max_length", "description", NULL};
    int rc;
    int64_t v;

    if ((rc = begin_def(c, "field", name, def, keys, &f->name)))
        return rc;
    f->name_len = strlen(name);
    if ((rc = get_enum(c, def, "type", ftype_names, PRB_FT_STRING, PRB_FT_CURRENCY,
                       "string, enum, integer, amount, date, currency", &f->type)))
        return rc;
    json_t *req = json_object_get(def, "required");
    if (req && !json_is_boolean(req)) {
        size_t n = push(c, "required");
        rc = fail(c, PRB_EPOLICY, "must be true or false");
        pop(c, n);
        return rc;
    }
    f->required = json_is_true(req);
    if ((rc = get_description(c, def, "field description", NULL)))
        return rc;
    if ((rc = get_int(c, def, "min", 0, INT64_MIN / 2, INT64_MAX / 2, INT64_MIN, &f->min)) ||
        (rc = get_int(c, def, "max", 0, INT64_MIN / 2, INT64_MAX / 2, INT64_MAX, &f->max)))
        return rc;
    if ((json_object_get(def, "min") || json_object_get(def, "max")) && f->type != PRB_FT_INTEGER)
        return fail(c, PRB_EPOLICY, "min and max apply only to integer fields");
    if ((rc = get_int(c, def, "max_length", 0, 1, 4096, 256, &v)))
        return rc;
    f->max_length = (uint32_t)v;

    json_t *vals = json_object_get(def, "values"), *e;
    if ((f->type == PRB_FT_ENUM) != (vals != NULL))
        return fail(c, PRB_EPOLICY,
                    f->type == PRB_FT_ENUM ? "an enum needs \"values\""
                                           : "only enum fields take \"values\"");
    if (!vals)
        return PRB_OK;
    size_t n = push(c, "values"), i;
    if (!json_is_array(vals) || json_array_size(vals) == 0 ||
        json_array_size(vals) > PRB_MAX_ENUM) {
        rc = fail(c, PRB_EPOLICY, "must be an array of 1 to %d names", PRB_MAX_ENUM);
        goto out;
    }
    f->values = calloc(json_array_size(vals), sizeof *f->values);
    f->value_lens = calloc(json_array_size(vals), sizeof *f->value_lens);
    if (!f->values || !f->value_lens) {
        rc = PRB_ENOMEM;
        goto out;
    }
    json_array_foreach(vals, i, e)
    {
        if (!json_is_string(e)) {
            rc = fail(c, PRB_EPOLICY, "[%zu] must be a string", i);
            goto out;
        }
        if ((rc = check_name(c, "enum value", json_string_value(e))))
            goto out;
        if (!(f->values[f->nvalues] = strdup(json_string_value(e)))) {
            rc = PRB_ENOMEM;
            goto out;
        }
        f->value_lens[f->nvalues] = strlen(f->values[f->nvalues]);
        f->nvalues++;
    }
out:
    pop(c, n);
    return rc;
}

static int purpose_index(const prb_policy *p, const char *name)
{
    for (size_t i = 0; i < p->npurposes; i++)
        if (!strcmp(p->purposes[i].name, name))
            return (int)i;
    return -1;
}

static int load_retention(struct ctx *c, json_t *cat, prb_catdef *d)
{
    static const char *const keys[] = {"days_after_event", "days_after_settlement", "max_days",
                                       NULL};
    json_t *r = json_object_get(cat, "retention");
    size_t n = push(c, "retention");
    int64_t a, s, m;
    int rc;
    if (!json_is_object(r)) {
        /* Invariant 6: no category may be kept for ever. */
        rc = fail(c, PRB_EPOLICY, "required: every category needs a maximum retention");
        goto out;
    }
    if ((rc = only_keys(c, r, keys)) ||
        (rc = get_int(c, r, "days_after_event", 1, 1, MAX_DAYS, 0, &a)) ||
        (rc = get_int(c, r, "days_after_settlement", 0, 0, MAX_DAYS, -1, &s)) ||
        (rc = get_int(c, r, "max_days", 1, 1, MAX_DAYS, 0, &m)))
        goto out;
    d->days_after_event = (int32_t)a;
    d->days_after_settlement = (int32_t)s;
    d->max_days = (int32_t)m;
out:
    pop(c, n);
    return rc;
}

static int load_category_purposes(struct ctx *c, json_t *cat, prb_catdef *d)
{
    json_t *arr = json_object_get(cat, "purposes"), *v;
    size_t n = push(c, "purposes"), i;
    int rc = PRB_OK;
    if (!json_is_array(arr)) {
        rc = fail(c, PRB_EPOLICY, "required: an array of purpose names (may be empty)");
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        int pi = json_is_string(v) ? purpose_index(c->p, json_string_value(v)) : -1;
        if (pi < 0) {
            rc = fail(c, PRB_EPOLICY, "[%zu] is not a purpose defined in $.purposes", i);
            goto out;
        }
        d->purposes |= 1ull << pi;
    }
out:
    pop(c, n);
    return rc;
}

static int load_fields(struct ctx *c, json_t *cat, prb_catdef *d)
{
    json_t *fields = json_object_get(cat, "fields"), *def;
    const char *name;
    size_t n = push(c, "fields");
    int rc = PRB_OK, amounts = 0;
    if (!json_is_object(fields) || json_object_size(fields) > PRB_MAX_FIELDS) {
        rc = fail(c, PRB_EPOLICY, "required: an object of up to %d field definitions",
                  PRB_MAX_FIELDS);
        goto out;
    }
    d->fields = calloc(json_object_size(fields) + 1, sizeof *d->fields);
    if (!d->fields) {
        rc = PRB_ENOMEM;
        goto out;
    }
    json_object_foreach(fields, name, def)
    {
        size_t m = push(c, name);
        rc = load_field(c, name, def, &d->fields[d->nfields++]);
        pop(c, m);
        if (rc)
            goto out;
        prb_fielddef *f = &d->fields[d->nfields - 1];
        amounts += f->type == PRB_FT_AMOUNT;
        if (f->type == PRB_FT_CURRENCY) {
            if (d->currency_field >= 0) {
                rc = fail(c, PRB_EPOLICY, "a category may have only one currency field");
                goto out;
            }
            if (!f->required) {
                rc = fail(c, PRB_EPOLICY, "the currency field '%s' must be required", name);
                goto out;
            }
            d->currency_field = (int)d->nfields - 1;
        }
    }
    if (amounts && d->currency_field < 0)
        rc = fail(c, PRB_EPOLICY, "amount fields need a currency field in the same category");
out:
    pop(c, n);
    return rc;
}

static int load_category(struct ctx *c, const char *name, json_t *cat, prb_catdef *d)
{
    static const char *const keys[] = {"description", "subject_kinds", "polarity", "fields",
                                       "retention",   "notice_days",   "purposes", NULL};
    int64_t v;
    int rc;

    d->currency_field = -1;
    if ((rc = begin_def(c, "category", name, cat, keys, &d->name)))
        return rc;
    d->name_len = strlen(name);
    if ((rc = get_description(c, cat, "category description", &d->description)))
        return rc;
    static const char *const polarities[] = {
        [PRB_ADVERSE] = "adverse", [PRB_POSITIVE] = "positive", [PRB_NEUTRAL] = "neutral"};
    if ((rc = get_kinds(c, cat, &d->kinds)) ||
        (rc = get_enum(c, cat, "polarity", polarities, PRB_ADVERSE, PRB_NEUTRAL,
                       "adverse, positive, neutral", &d->polarity)))
        return rc;
    if ((rc = load_fields(c, cat, d)) || (rc = load_retention(c, cat, d)))
        return rc;
    if ((rc = get_int(c, cat, "notice_days", d->polarity == PRB_ADVERSE, 0, 365, 0, &v)))
        return rc;
    d->notice_days = (int32_t)v;
    if (d->polarity == PRB_ADVERSE && d->notice_days < 1) {
        size_t n = push(c, "notice_days");
        /* Invariant 4: an adverse record must not take effect unannounced. */
        rc = fail(c, PRB_EPOLICY, "an adverse category needs a notice period of at least 1 day");
        pop(c, n);
        return rc;
    }
    return load_category_purposes(c, cat, d);
}

/* First pass over a purpose: what categories, features and lists refer
 * to. Its scorecard, lists and rule are read once those exist
 * (load_purpose_rules). */
static int load_purpose(struct ctx *c, const char *name, json_t *def, void *out)
{
    static const char *const keys[] = {"description", "subject_kinds", "requesters", "scorecard",
                                       "lists",       "rule",          NULL};
    prb_purposedef *d = out;
    json_t *req, *v;
    size_t i;
    int rc;
    d->scorecard = -1;
    if ((rc = begin_def(c, "purpose", name, def, keys, &d->name)))
        return rc;
    if ((rc = get_description(c, def, "purpose description", &d->description)) ||
        (rc = get_kinds(c, def, &d->kinds)))
        return rc;
    if (!(req = json_object_get(def, "requesters")))
        return PRB_OK;
    size_t at = push(c, "requesters");
    if (!json_is_array(req) ||
        !(d->requesters = calloc(json_array_size(req) + 1, sizeof(char *)))) {
        rc = fail(c, PRB_EPOLICY, "must be an array of requester names");
        goto out;
    }
    json_array_foreach(req, i, v)
    {
        if (!json_is_string(v)) {
            rc = fail(c, PRB_EPOLICY, "[%zu] must be a string", i);
            goto out;
        }
        if (!(d->requesters[d->nrequesters++] = strdup(json_string_value(v)))) {
            rc = PRB_ENOMEM;
            goto out;
        }
    }
out:
    pop(c, at);
    return rc;
}

static int load_category_cb(struct ctx *c, const char *name, json_t *def, void *out)
{
    return load_category(c, name, def, out);
}

/* Loads the object at root.key, a map of names to definitions, into a
 * new array of elem-sized entries, one load() call per name. */
static int load_named(struct ctx *c, json_t *root, const char *key, size_t max, size_t elem,
                      void **arr, size_t *n,
                      int (*load)(struct ctx *, const char *, json_t *, void *))
{
    json_t *obj = json_object_get(root, key), *def;
    const char *name;
    size_t at = push(c, key);
    int rc = PRB_OK;
    if (!json_is_object(obj) || json_object_size(obj) == 0 || json_object_size(obj) > max) {
        rc = fail(c, PRB_EPOLICY, "required: an object of 1 to %zu definitions", max);
        goto out;
    }
    if (!(*arr = calloc(json_object_size(obj), elem))) {
        rc = PRB_ENOMEM;
        goto out;
    }
    json_object_foreach(obj, name, def)
    {
        size_t m = push(c, name);
        /* Counted before loading, so a half-loaded entry is still freed. */
        rc = load(c, name, def, (char *)*arr + elem * (*n)++);
        pop(c, m);
        if (rc)
            goto out;
    }
out:
    pop(c, at);
    return rc;
}

static const char *const scheme_names[] = {[PRB_SCHEME_CN_RID] = "cn-rid",
                                           [PRB_SCHEME_CN_USCC] = "cn-uscc",
                                           [PRB_SCHEME_LEI] = "lei",
                                           [PRB_SCHEME_DE_TAXID] = "de-taxid",
                                           [PRB_SCHEME_EXT] = "ext"};

static int load_schemes(struct ctx *c, json_t *root)
{
    json_t *arr = json_object_get(root, "identifier_schemes"), *v;
    size_t n = push(c, "identifier_schemes"), i;
    int rc = PRB_OK;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = fail(c, PRB_EPOLICY, "required: a non-empty array of scheme names");
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        unsigned before = c->p->schemes;
        for (int s = PRB_SCHEME_CN_RID; s <= PRB_SCHEME_EXT; s++)
            if (json_is_string(v) && !strcmp(json_string_value(v), scheme_names[s]))
                c->p->schemes |= 1u << s;
        if (c->p->schemes == before) {
            rc = fail(c, PRB_EPOLICY,
                      "[%zu] unknown or repeated scheme (known: cn-rid, cn-uscc, lei, de-taxid, "
                      "ext)",
                      i);
            goto out;
        }
    }
out:
    pop(c, n);
    return rc;
}

/* ------------------------------------------------- features, lists, rules */

static int load_optional_named(struct ctx *c, json_t *root, const char *key, size_t max,
                               size_t elem, void **arr, size_t *n,
                               int (*load)(struct ctx *, const char *, json_t *, void *))
{
    if (!json_object_get(root, key))
        return PRB_OK;
    return load_named(c, root, key, max, elem, arr, n, load);
}

/* A name list resolved against names[] into a bitmask. */
static int get_name_set(struct ctx *c, json_t *obj, const char *key, int required,
                        int (*find)(const prb_policy *, const char *), const char *what,
                        uint64_t *mask)
{
    json_t *arr = json_object_get(obj, key), *v;
    size_t at, i;
    int rc = PRB_OK;
    *mask = 0;
    if (!arr && !required)
        return PRB_OK;
    at = push(c, key);
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = fail(c, PRB_EPOLICY, "required: a non-empty array of %s names", what);
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        int k = json_is_string(v) ? find(c->p, json_string_value(v)) : -1;
        if (k < 0) {
            rc = fail(c, PRB_EPOLICY, "[%zu] is not a %s defined in the policy", i, what);
            goto out;
        }
        *mask |= 1ull << k;
    }
out:
    pop(c, at);
    return rc;
}

static int find_category(const prb_policy *p, const char *name)
{
    return prb_policy_category(p, name, strlen(name));
}

static int get_number(struct ctx *c, json_t *obj, const char *key, int *has, double *out)
{
    json_t *v = json_object_get(obj, key);
    *has = v != NULL;
    if (!v)
        return PRB_OK;
    if (!json_is_number(v)) {
        size_t at = push(c, key);
        int rc = fail(c, PRB_EPOLICY, "must be a number");
        pop(c, at);
        return rc;
    }
    *out = json_number_value(v);
    return PRB_OK;
}

/* Notes a number bounding date_field in the policy in force, which reads
 * it as a day since 1970 as it always did, with the date it is. */
static void old_day_bound(struct ctx *c, const char *date_field, double v)
{
    char date[11];
    int is_day = v == floor(v) && v >= -25567 && v <= 2932896; /* 1900-01-01 .. 9999-12-31 */
    if (is_day)
        prb_date_format((int32_t)v, date);
    old_form(c, PRB_OLD_DATE_NUMBER,
             "%s: a number bounds the date field '%s', read as a day since 1970 (%.15g: %s)",
             c->path, date_field, v, is_day ? date : "no day of the years 1900 to 9999");
}

/* A bound of an interval on field: a number, or on a date field a date
 * "YYYY-MM-DD", held as its day since 1970 as records hold dates. A
 * number on a date field is refused, not read as a day: 20200101 is a
 * day some 55,000 years on, and a bound at it silently matched nothing.
 * The policy in force reads it as a day still, as it was adopted to. */
static int get_bound(struct ctx *c, json_t *obj, const char *key, const char *date_field, int *has,
                     double *out)
{
    json_t *v = json_object_get(obj, key);
    int32_t day;
    int rc = PRB_OK;
    if (!date_field || !v)
        return get_number(c, obj, key, has, out);
    *has = 1;
    size_t at = push(c, key);
    if (c->kept && json_is_number(v)) {
        *out = json_number_value(v);
        old_day_bound(c, date_field, *out);
    } else if (!json_is_string(v))
        rc = fail(c, PRB_EPOLICY, "'%s' is a date: write the bound as a date, \"YYYY-MM-DD\"%s",
                  date_field, json_is_number(v) ? ", not a number" : "");
    else if (prb_date_parse(json_string_value(v), json_string_length(v), &day))
        rc = fail(c, PRB_EPOLICY, "'%.*s' is not a date \"YYYY-MM-DD\" (from 1900)",
                  prb_utf8_cut(json_string_value(v), json_string_length(v), 40),
                  json_string_value(v));
    else
        *out = day;
    pop(c, at);
    return rc;
}

/* {"values": [...]} or {"min": x, "max": y} (min inclusive, max exclusive);
 * date_field names the field when it holds dates, else NULL. */
static int load_cond(struct ctx *c, json_t *def, const char *date_field, prb_cond *cd)
{
    static const char *const keys[] = {"values", "min", "max", NULL};
    json_t *vals, *v;
    size_t i;
    int rc;
    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object with \"values\", or \"min\" and/or \"max\"");
    if ((rc = only_keys(c, def, keys)) ||
        (rc = get_bound(c, def, "min", date_field, &cd->has_min, &cd->min)) ||
        (rc = get_bound(c, def, "max", date_field, &cd->has_max, &cd->max)))
        return rc;
    vals = json_object_get(def, "values");
    if (vals && (cd->has_min || cd->has_max))
        return fail(c, PRB_EPOLICY, "a condition has \"values\" or an interval, not both");
    if (!vals && !cd->has_min && !cd->has_max)
        return fail(c, PRB_EPOLICY, "a condition needs \"values\", \"min\" or \"max\"");
    if (cd->has_min && cd->has_max && cd->min >= cd->max)
        return fail(c, PRB_EPOLICY, "min must be below max");
    if (!vals)
        return PRB_OK;
    if (!json_is_array(vals) || !json_array_size(vals) ||
        !(cd->values = calloc(json_array_size(vals), sizeof(char *))))
        return fail(c, PRB_EPOLICY, "\"values\" must be a non-empty array of strings");
    json_array_foreach(vals, i, v)
    {
        if (!json_is_string(v))
            return fail(c, PRB_EPOLICY, "values[%zu] must be a string", i);
        if ((rc = check_refused(c, "value", json_string_value(v))))
            return rc;
        if (!(cd->values[cd->nvalues++] = strdup(json_string_value(v))))
            return PRB_ENOMEM;
    }
    return PRB_OK;
}

/* Whether a record's field of this type has text (record.c stores
 * strings, enums and currencies as text, the rest as numbers). */
static int text_type(int type)
{
    return type == PRB_FT_STRING || type == PRB_FT_ENUM || type == PRB_FT_CURRENCY;
}

/* A "values" condition on field of feature f: a value can match only a
 * field stored as text (cond_holds compares text), and an enum only one
 * of its values. A condition that can never match is refused here, or a
 * misspelt value would silently count nothing. Every category of f that
 * has the field must hold it as text; each value must be possible in at
 * least one of them. */
static int check_cond_values(struct ctx *c, const prb_featdef *f, const char *field,
                             const prb_cond *cd)
{
    const prb_policy *p = c->p;
    for (size_t i = 0; i < p->ncategories; i++) {
        int fi = (f->categories >> i & 1)
                     ? prb_catdef_field(&p->categories[i], field, strlen(field))
                     : -1;
        if (fi >= 0 && !text_type(p->categories[i].fields[fi].type))
            return fail(c, PRB_EPOLICY,
                        "\"values\" need a string, enum or currency field; '%s' of %s is %s "
                        "(use \"min\"/\"max\")",
                        field, p->categories[i].name,
                        ftype_names[p->categories[i].fields[fi].type]);
    }
    for (size_t v = 0; v < cd->nvalues; v++) {
        const char *enum_of = NULL;
        int ok = 0;
        for (size_t i = 0; i < p->ncategories && !ok; i++) {
            int fi = (f->categories >> i & 1)
                         ? prb_catdef_field(&p->categories[i], field, strlen(field))
                         : -1;
            if (fi < 0)
                continue;
            const prb_fielddef *fd = &p->categories[i].fields[fi];
            if (fd->type == PRB_FT_CURRENCY) {
                /* Records hold ISO 4217 codes as ingest checks them. */
                if (prb_currency_scale(cd->values[v], strlen(cd->values[v])) < 0)
                    return fail(c, PRB_EPOLICY,
                                "values[%zu] '%s' is not a currency code as records hold them "
                                "(ISO 4217: three capital letters), so the condition could "
                                "never hold",
                                v, cd->values[v]);
                ok = 1;
                continue;
            }
            if (fd->type != PRB_FT_ENUM) {
                ok = 1;
                continue;
            }
            enum_of = p->categories[i].name;
            for (size_t k = 0; k < fd->nvalues && !ok; k++)
                ok = !strcmp(fd->values[k], cd->values[v]);
        }
        if (!ok)
            return fail(c, PRB_EPOLICY,
                        "values[%zu] '%s' is not a value of the enum field '%s' of %s, so the "
                        "condition could never hold",
                        v, cd->values[v], field, enum_of ? enum_of : "?");
    }
    return PRB_OK;
}

/* Field conditions of a feature: every field must exist in one of its
 * categories, an interval needs a numeric field, and values a text field
 * that can hold them. */
static int load_conds(struct ctx *c, json_t *def, const char *key, const prb_featdef *f,
                      prb_cond **out, size_t *n)
{
    json_t *obj = json_object_get(def, key), *cd;
    const char *field;
    size_t at;
    int rc = PRB_OK;
    if (!obj)
        return PRB_OK;
    at = push(c, key);
    if (!json_is_object(obj) || !(*out = calloc(json_object_size(obj) + 1, sizeof **out))) {
        rc = fail(c, PRB_EPOLICY, "must be an object of field conditions");
        goto out;
    }
    json_object_foreach(obj, field, cd)
    {
        size_t m = push(c, field);
        prb_cond *cond = &(*out)[(*n)++];
        int type = 0, dates = 0, others = 0;
        if (!(cond->field = strdup(field)))
            rc = PRB_ENOMEM;
        for (size_t i = 0; !rc && i < c->p->ncategories; i++) {
            int fi = (f->categories >> i & 1)
                         ? prb_catdef_field(&c->p->categories[i], field, strlen(field))
                         : -1;
            if (fi < 0)
                continue;
            type = c->p->categories[i].fields[fi].type;
            dates += type == PRB_FT_DATE;
            others += type != PRB_FT_DATE;
        }
        if (!rc && !type)
            rc = fail(c, PRB_EPOLICY, "no category of this feature has a field '%s'", field);
        /* One bound cannot be both a day and a number. The policy in
         * force bounds both by its numbers, as it did. */
        int mixed = dates && others && (json_object_get(cd, "min") || json_object_get(cd, "max"));
        if (!rc && mixed && !c->kept)
            rc = fail(c, PRB_EPOLICY,
                      "'%s' is a date in some of the feature's categories and not in others: "
                      "one interval cannot bound both",
                      field);
        if (!rc)
            rc = load_cond(c, cd, dates && !mixed ? field : NULL, cond);
        if (!rc && mixed)
            old_form(c, PRB_OLD_DATE_MIXED,
                     "%s: one interval bounds '%s', a date in some of the feature's categories "
                     "and not in others, by the same numbers",
                     c->path, field);
        if (!rc && (cond->has_min || cond->has_max) && type != PRB_FT_INTEGER &&
            type != PRB_FT_AMOUNT && type != PRB_FT_DATE)
            rc = fail(c, PRB_EPOLICY, "an interval needs a numeric field");
        if (!rc && cond->nvalues)
            rc = check_cond_values(c, f, field, cond);
        pop(c, m);
        if (rc)
            goto out;
    }
out:
    pop(c, at);
    return rc;
}

static const char *const feat_kinds[] = {
    [PRB_F_COUNT] = "count",
    [PRB_F_SUM] = "sum",
    [PRB_F_MIN] = "min",
    [PRB_F_MAX] = "max",
    [PRB_F_MONTHS_EARLIEST] = "months_since_earliest",
    [PRB_F_MONTHS_LATEST] = "months_since_latest",
    [PRB_F_SHARE] = "share",
    [PRB_F_INQUIRIES] = "inquiries",
};

static int find_purpose(const prb_policy *p, const char *name)
{
    return prb_policy_purpose(p, name);
}

/* Why field type t cannot be what feature f aggregates. A feature is a
 * number that bins and criteria bound and a reason shows the subject: a
 * sum of days since 1970 means nothing, and the earliest or latest of
 * them (18628) is no date anyone reads; months_since_* make that date a
 * number of months as of the decision. */
static const char *not_aggregated(const prb_featdef *f, int t)
{
    if (f->kind == PRB_F_MONTHS_EARLIEST || f->kind == PRB_F_MONTHS_LATEST)
        return "is not a date field";
    if (t != PRB_FT_DATE)
        return "is not a numeric field";
    if (f->kind == PRB_F_SUM)
        return "is a date, and dates do not add up: a sum needs an integer or amount field";
    if (f->kind == PRB_F_MIN)
        return "is a date: for the earliest, use the kind months_since_earliest with this "
               "\"field\"";
    return "is a date: for the latest, use the kind months_since_latest with this \"field\"";
}

static int load_feature_field(struct ctx *c, json_t *def, prb_featdef *f)
{
    int need = f->kind == PRB_F_SUM || f->kind == PRB_F_MIN || f->kind == PRB_F_MAX;
    int dates = f->kind == PRB_F_MONTHS_EARLIEST || f->kind == PRB_F_MONTHS_LATEST;
    int rc = get_string(c, def, "field", need, &f->field);
    if (rc)
        return rc;
    if (f->field && !need && !dates)
        return fail(c, PRB_EPOLICY, "a %s feature takes no \"field\"", feat_kinds[f->kind]);
    if (!(f->field_idx = malloc((c->p->ncategories + 1) * sizeof *f->field_idx)))
        return PRB_ENOMEM;
    int found = 0;
    for (size_t i = 0; i < c->p->ncategories; i++) {
        const prb_catdef *cd = &c->p->categories[i];
        f->field_idx[i] = -1;
        if (!f->field || !(f->categories >> i & 1))
            continue;
        int fi = prb_catdef_field(cd, f->field, strlen(f->field));
        if (fi < 0)
            continue;
        int t = cd->fields[fi].type;
        /* The policy in force keeps a sum, min or max of days since 1970. */
        int old = c->kept && need && t == PRB_FT_DATE;
        if (!old && (dates ? t != PRB_FT_DATE : t != PRB_FT_INTEGER && t != PRB_FT_AMOUNT)) {
            size_t at = push(c, "field");
            rc = fail(c, PRB_EPOLICY, "'%s' of %s %s", f->field, cd->name, not_aggregated(f, t));
            pop(c, at);
            return rc;
        }
        if (old)
            old_form(c, PRB_OLD_DATE_AGGREGATE,
                     "%s.field: a %s of the date field '%s' of %s, a number of days since 1970",
                     c->path, feat_kinds[f->kind], f->field, cd->name);
        f->field_idx[i] = fi;
        found = 1;
    }
    if (f->field && !found) {
        size_t at = push(c, "field");
        rc = fail(c, PRB_EPOLICY, "none of the feature's categories has a field '%s'", f->field);
        pop(c, at);
    }
    return rc;
}

/* Does one of the n conds bound field by an interval? */
static int bounds_field(const prb_cond *conds, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (conds[i].field && !strcmp(conds[i].field, field) &&
            (conds[i].has_min || conds[i].has_max))
            return 1;
    return 0;
}

/* Amounts are numbers in their own currency's units, never converted: a
 * sum of 500 EUR and 100,000 JPY is 100,500, and "at least 1,000" holds
 * for 1,000 JPY but not for 999 KWD. So a feature that adds up, compares
 * or bounds amounts must pin, in its where, each such category's
 * currency field to one currency; counting records needs no pin. */
static int check_one_currency(struct ctx *c, const prb_featdef *f)
{
    int adds = f->kind == PRB_F_SUM || f->kind == PRB_F_MIN || f->kind == PRB_F_MAX;
    const prb_catdef *other = NULL;
    for (size_t i = 0; i < c->p->ncategories; i++) {
        const prb_catdef *cd = &c->p->categories[i];
        if (!(f->categories >> i & 1) || cd->currency_field < 0)
            continue;
        const char *amount = NULL, *how = NULL;
        for (size_t k = 0; k < cd->nfields && !amount; k++) {
            const char *fn = cd->fields[k].name;
            if (cd->fields[k].type != PRB_FT_AMOUNT)
                continue;
            if (adds && f->field_idx[i] == (int)k)
                amount = fn, how = "adds up or compares";
            else if (bounds_field(f->where, f->nwhere, fn) || bounds_field(f->match, f->nmatch, fn))
                amount = fn, how = "bounds";
        }
        if (!amount)
            continue;
        const char *cur = cd->fields[cd->currency_field].name;
        /* A pin is a condition on one field name, which a record without
         * it fails: categories whose currencies are named differently
         * would each lose the other's records. */
        if (other && strcmp(other->fields[other->currency_field].name, cur))
            return fail(c, PRB_EPOLICY,
                        "the feature %s amounts of %s and %s, whose currencies are in fields "
                        "of different names ('%s', '%s'): one \"where\" cannot pin both; make "
                        "a feature for each",
                        how, other->name, cd->name, other->fields[other->currency_field].name, cur);
        other = cd;
        int pinned = 0;
        for (size_t k = 0; k < f->nwhere; k++)
            if (f->where[k].field && !strcmp(f->where[k].field, cur) && f->where[k].nvalues == 1)
                pinned = 1;
        if (!pinned)
            return fail(c, PRB_EPOLICY,
                        "the feature %s the amount '%s' of %s, whose records may be in any "
                        "currency, and amounts are not converted: add \"where\": {\"%s\": "
                        "{\"values\": [ONE CURRENCY]}}",
                        how, amount, cd->name, cur);
    }
    return PRB_OK;
}

static int load_feature(struct ctx *c, const char *name, json_t *def, void *out)
{
    static const char *const keys[] = {"description", "kind",       "categories", "status",
                                       "field",       "where",      "match",      "window_months",
                                       "purposes",    "missing_as", NULL};
    prb_featdef *f = out;
    int64_t v;
    int rc;
    if ((rc = begin_def(c, "feature", name, def, keys, &f->name)))
        return rc;
    if ((rc = get_description(c, def, "feature description", NULL)))
        return rc;
    if ((rc = get_enum(c, def, "kind", feat_kinds, PRB_F_COUNT, PRB_F_INQUIRIES,
                       "count, sum, min, max, months_since_earliest, months_since_latest, "
                       "share, inquiries",
                       &f->kind)))
        return rc;
    int inq = f->kind == PRB_F_INQUIRIES;
    if ((rc =
             get_name_set(c, def, "categories", !inq, find_category, "category", &f->categories)) ||
        (rc = get_name_set(c, def, "purposes", inq, find_purpose, "purpose", &f->purposes)))
        return rc;
    if (inq && (f->categories || json_object_get(def, "status") || json_object_get(def, "where")))
        return fail(c, PRB_EPOLICY,
                    "an inquiries feature counts decisions: it takes purposes "
                    "and a window, not categories, status or where");
    if (!inq && f->purposes)
        return fail(c, PRB_EPOLICY, "only an inquiries feature takes \"purposes\"");
    json_t *st = json_object_get(def, "status"), *e;
    size_t i;
    if (st) {
        size_t at = push(c, "status");
        if (!json_is_array(st) || !json_array_size(st))
            rc = fail(c, PRB_EPOLICY, "must be a non-empty array of open, settled, closed");
        json_array_foreach(st, i, e)
        {
            const char *sv = json_string_value(e);
            int code = !sv                      ? 0
                       : !strcmp(sv, "open")    ? PRB_ST_OPEN
                       : !strcmp(sv, "settled") ? PRB_ST_SETTLED
                       : !strcmp(sv, "closed")  ? PRB_ST_CLOSED
                                                : 0;
            if (!rc && !code)
                rc = fail(c, PRB_EPOLICY, "[%zu] must be open, settled or closed", i);
            f->statuses |= 1u << code;
        }
        pop(c, at);
        if (rc)
            return rc;
    }
    if ((rc = load_feature_field(c, def, f)) ||
        (rc = load_conds(c, def, "where", f, &f->where, &f->nwhere)) ||
        (rc = load_conds(c, def, "match", f, &f->match, &f->nmatch)))
        return rc;
    if ((rc = check_one_currency(c, f)))
        return rc;
    if ((f->kind == PRB_F_SHARE) != (f->nmatch > 0))
        return fail(c, PRB_EPOLICY,
                    f->kind == PRB_F_SHARE
                        ? "a share feature needs \"match\": what it is the share of"
                        : "only a share feature takes \"match\"");
    if ((rc = get_int(c, def, "window_months", inq, 1, 1200, 0, &v)))
        return rc;
    f->window_months = (int)v;
    return get_number(c, def, "missing_as", &f->has_default, &f->dflt);
}

/* A feature with missing_as is never missing: a bin for that would never
 * apply (prb_sc_from_json). */
static int scorecard_feature_kind(void *ctx, const char *name)
{
    const prb_policy *p = ctx;
    int f = prb_policy_feature(p, name);
    if (f < 0)
        return 0;
    return PRB_FIELD_NUMERIC | (p->features[f].has_default ? PRB_FIELD_NEVER_MISSING : 0);
}

static int load_scorecards(struct ctx *c, json_t *root)
{
    json_t *obj = json_object_get(root, "scorecards"), *def;
    const char *name;
    size_t at;
    int rc = PRB_OK;
    if (!obj)
        return PRB_OK;
    at = push(c, "scorecards");
    if (!json_is_object(obj) || json_object_size(obj) > 64 ||
        !(c->p->scorecards = calloc(json_object_size(obj) + 1, sizeof *c->p->scorecards))) {
        rc = fail(c, PRB_EPOLICY, "must be an object of up to 64 scorecards");
        goto out;
    }
    json_object_foreach(obj, name, def)
    {
        char err[PRB_ERRMSG_MAX / 2];
        size_t m = push(c, name);
        if ((rc = check_name(c, "scorecard", name))) {
            pop(c, m);
            goto out;
        }
        rc = prb_sc_from_json(name, def, c->path, scorecard_feature_kind, c->p, c->kept,
                              &c->p->scorecards[c->p->nscorecards], err, sizeof err);
        pop(c, m);
        if (rc) {
            rc = prb_seterr(c->p->err, rc, "%s: %s", c->p->name, err);
            goto out;
        }
        if (err[0])
            old_form(c, PRB_OLD_UNREACHABLE, "%s", err);
        c->p->nscorecards++;
    }
out:
    pop(c, at);
    return rc;
}

static int load_ground(struct ctx *c, const char *name, json_t *def, void *out)
{
    static const char *const keys[] = {"criteria", "max_days", NULL};
    prb_ground *g = out;
    json_t *crit, *cd;
    const char *feat;
    int64_t v;
    int rc;
    if ((rc = begin_def(c, "ground", name, def, keys, &g->name)))
        return rc;
    /* Invariant 6 for lists: no entry lasts for ever. */
    if ((rc = get_int(c, def, "max_days", 1, 1, 3650, 0, &v)))
        return rc;
    g->max_days = (int32_t)v;
    crit = json_object_get(def, "criteria");
    size_t at = push(c, "criteria");
    if (!json_is_object(crit) || !json_object_size(crit)) {
        rc = fail(c, PRB_EPOLICY, "required: an object of feature conditions");
        goto out;
    }
    g->crit = calloc(json_object_size(crit), sizeof *g->crit);
    g->crit_feature = calloc(json_object_size(crit), sizeof *g->crit_feature);
    if (!g->crit || !g->crit_feature) {
        rc = PRB_ENOMEM;
        goto out;
    }
    json_object_foreach(crit, feat, cd)
    {
        size_t m = push(c, feat);
        int fi = prb_policy_feature(c->p, feat);
        prb_cond *cond = &g->crit[g->ncrit];
        g->crit_feature[g->ncrit++] = fi;
        if (fi < 0)
            rc = fail(c, PRB_EPOLICY, "'%s' is not a feature of the policy", feat);
        else if (c->p->features[fi].kind == PRB_F_INQUIRIES)
            /* Entries are computed from records alone (lists.c reads no
             * inquiries): such a ground could never hold, or would hold
             * for everyone through missing_as. Being asked about is not a
             * ground for a list either. */
            rc = fail(c, PRB_EPOLICY,
                      "'%s' counts inquiries: a list's grounds are read from the subject's "
                      "records, never from who asked about them",
                      feat);
        else if (!(rc = load_cond(c, cd, NULL, cond)) && cond->nvalues)
            rc = fail(c, PRB_EPOLICY, "a criterion is an interval on a feature's value");
        pop(c, m);
        if (rc)
            goto out;
    }
out:
    pop(c, at);
    return rc;
}

/* Every category a feature reads (inquiries read none). */
static uint64_t feature_categories(const prb_policy *p, int f)
{
    return f >= 0 ? p->features[f].categories : 0;
}

static int load_list(struct ctx *c, const char *name, json_t *def, void *out)
{
    static const char *const keys[] = {"description", "type",         "subject_kinds",
                                       "grounds",     "hearing_days", "leave_when_criteria_stop",
                                       "publication", "purposes",     NULL};
    prb_listdef *l = out;
    char *type = NULL, *pub = NULL;
    int64_t v;
    int rc;
    if ((rc = begin_def(c, "list", name, def, keys, &l->name)))
        return rc;
    if ((rc = get_description(c, def, "list description", &l->description)) ||
        (rc = get_string(c, def, "type", 1, &type)))
        return rc;
    l->type = !strcmp(type, "black") ? PRB_BLACK : !strcmp(type, "red") ? PRB_RED : 0;
    free(type);
    if (!l->type)
        return fail(c, PRB_EPOLICY, "type must be \"black\" or \"red\"");
    if ((rc = get_kinds(c, def, &l->kinds)) ||
        (rc = get_int(c, def, "hearing_days", l->type == PRB_BLACK, 0, 365, 0, &v)))
        return rc;
    l->hearing_days = (int32_t)v;
    if (l->type == PRB_BLACK && l->hearing_days < 1)
        /* Invariant 4: a black list entry takes effect only after a hearing. */
        return fail(c, PRB_EPOLICY, "a black list needs a hearing period of at least 1 day");
    json_t *leave = json_object_get(def, "leave_when_criteria_stop");
    if (leave && !json_is_boolean(leave))
        return fail(c, PRB_EPOLICY, "leave_when_criteria_stop must be true or false");
    l->auto_leave = !leave || json_is_true(leave);
    if ((rc = get_string(c, def, "publication", 1, &pub)))
        return rc;
    l->public_list = !strcmp(pub, "public");
    rc = l->public_list || !strcmp(pub, "purpose") ? PRB_OK : -1;
    free(pub);
    if (rc)
        return fail(c, PRB_EPOLICY, "publication must be \"public\" or \"purpose\"");
    if (l->public_list && (l->kinds & (1u << PRB_PERSON)))
        return fail(c, PRB_EREFUSED,
                    "a list of persons can never be public: probity does not "
                    "publish lists of persons (only company lists may be public)");
    if ((rc = get_name_set(c, def, "purposes", 1, find_purpose, "purpose", &l->purposes)) ||
        (rc = load_named(c, def, "grounds", 16, sizeof(prb_ground), (void **)&l->grounds,
                         &l->ngrounds, load_ground)))
        return rc;
    for (size_t g = 0; g < l->ngrounds; g++)
        for (size_t k = 0; k < l->grounds[g].ncrit; k++)
            l->categories |= feature_categories(c->p, l->grounds[g].crit_feature[k]);
    /* Invariant 3: a list may serve a purpose only if every category it
     * reads may be used for that purpose. */
    for (size_t pi = 0; pi < c->p->npurposes; pi++) {
        const prb_purposedef *pd = &c->p->purposes[pi];
        uint64_t extra = l->categories & ~pd->categories;
        if (!(l->purposes >> pi & 1) || !extra)
            continue;
        int cat = __builtin_ctzll(extra);
        return fail(c, PRB_EPOLICY,
                    "serves purpose %s but reads %s records, which %s may not use (invariant 3)",
                    pd->name, c->p->categories[cat].name, pd->name);
    }
    return PRB_OK;
}

static const char *const outcome_names[] = {
    [PRB_APPROVE] = "approve", [PRB_REFER] = "refer", [PRB_DECLINE] = "decline"};

static int load_rule(struct ctx *c, const prb_purposedef *d, json_t *def, prb_rule *r)
{
    static const char *const keys[] = {"if_listed", "if_score_below", "if_no_score", "outcome",
                                       NULL};
    char *listed = NULL, *outcome = NULL;
    double below = 0;
    int rc, conds = 0, pr;
    r->list = -1;
    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = only_keys(c, def, keys)) || (rc = get_string(c, def, "if_listed", 0, &listed)) ||
        (rc = get_number(c, def, "if_score_below", &r->has_below, &below)) ||
        (rc = get_string(c, def, "outcome", 1, &outcome)))
        goto out;
    json_t *ns = json_object_get(def, "if_no_score");
    if (ns && !json_is_true(ns)) {
        rc = fail(c, PRB_EPOLICY, "if_no_score must be true");
        goto out;
    }
    r->if_no_score = ns != NULL;
    /* Scores are bounded (scorecard.h); a threshold beyond them, or inf,
     * would decide every score alike. It is compared with the score
     * exactly, in millionths, so it may have no more decimals than
     * points. */
    if (r->has_below && (pr = prb_sc_points(below, &r->below))) {
        size_t at = push(c, "if_score_below");
        rc = fail(c, PRB_EPOLICY, "%s",
                  pr == -1 ? "must be a number between -1e9 and 1e9, as scores are"
                           : "must have at most 6 decimals, as points do: scores are counted "
                             "exactly, in millionths");
        pop(c, at);
        goto out;
    }
    for (int o = PRB_APPROVE; o <= PRB_DECLINE; o++)
        if (!strcmp(outcome, outcome_names[o]))
            r->outcome = o;
    if (!r->outcome) {
        rc = fail(c, PRB_EPOLICY, "outcome must be approve, refer or decline");
        goto out;
    }
    if (listed) {
        r->list = prb_policy_list(c->p, listed);
        int consulted = 0;
        for (size_t i = 0; i < d->nlists; i++)
            consulted |= d->lists[i] == r->list;
        if (r->list < 0 || !consulted) {
            rc = fail(c, PRB_EPOLICY, "'%s' is not one of the purpose's lists", listed);
            goto out;
        }
    }
    conds = (r->list >= 0) + r->has_below + r->if_no_score;
    if (conds > 1)
        rc = fail(c, PRB_EPOLICY,
                  "a rule step has one condition (if_listed, if_score_below or "
                  "if_no_score), or none");
    else if ((r->has_below || r->if_no_score) && d->scorecard < 0)
        rc = fail(c, PRB_EPOLICY, "the purpose has no scorecard to score with");
out:
    free(listed);
    free(outcome);
    return rc;
}

/* Purpose binding, checked once here: every feature a purpose's
 * scorecard reads must read only categories the purpose may use, and an
 * inquiries feature (which reads no category) may count only inquiries
 * made for that same purpose: its purposes must be a subset of {the
 * purpose}. Otherwise asking about someone for credit would decide their
 * tenancy (invariant 3). */
static int check_scorecard_binding(struct ctx *c, const prb_purposedef *d)
{
    const struct prb_scorecard *sc = c->p->scorecards[d->scorecard];
    uint64_t self = 1ull << (d - c->p->purposes);
    for (size_t i = 0; i < sc->nfields; i++) {
        int f = prb_policy_feature(c->p, sc->fields[i]);
        uint64_t others = f >= 0 && c->p->features[f].kind == PRB_F_INQUIRIES
                              ? c->p->features[f].purposes & ~self
                              : 0;
        if (others)
            return fail(c, PRB_EPOLICY,
                        "scorecard %s reads feature %s, which counts inquiries made for %s; a "
                        "purpose's scorecard may count only inquiries made for that purpose "
                        "(here only %s), so one purpose's inquiries never decide another "
                        "(invariant 3)",
                        sc->name, sc->fields[i], c->p->purposes[__builtin_ctzll(others)].name,
                        d->name);
        uint64_t extra = feature_categories(c->p, f) & ~d->categories;
        if (extra)
            return fail(c, PRB_EPOLICY,
                        "scorecard %s reads feature %s over %s records, which %s may not use "
                        "(invariant 3)",
                        sc->name, sc->fields[i], c->p->categories[__builtin_ctzll(extra)].name,
                        d->name);
    }
    return PRB_OK;
}

static int load_purpose_rule(struct ctx *c, prb_purposedef *d, json_t *def)
{
    char *sc = NULL;
    json_t *lists = json_object_get(def, "lists"), *rule = json_object_get(def, "rule"), *v;
    size_t i;
    int rc;
    if ((rc = get_string(c, def, "scorecard", 0, &sc)))
        return rc;
    if (sc) {
        for (size_t k = 0; k < c->p->nscorecards; k++)
            if (!strcmp(c->p->scorecards[k]->name, sc))
                d->scorecard = (int)k;
        free(sc);
        if (d->scorecard < 0)
            return fail(c, PRB_EPOLICY, "\"scorecard\" names no scorecard of the policy");
        if ((rc = check_scorecard_binding(c, d)))
            return rc;
        /* Resolved once here, not by name for every subject decided. */
        const struct prb_scorecard *card = c->p->scorecards[d->scorecard];
        d->sc_feature = calloc(card->nfields + 1, sizeof *d->sc_feature);
        d->need = calloc(c->p->nfeatures + 1, 1);
        if (!d->sc_feature || !d->need)
            return PRB_ENOMEM;
        for (size_t k = 0; k < card->nfields; k++) {
            d->sc_feature[k] = prb_policy_feature(c->p, card->fields[k]);
            d->need[d->sc_feature[k]] = 1;
            /* How far back a decision reads the subject's inquiries. */
            const prb_featdef *fd = &c->p->features[d->sc_feature[k]];
            if (fd->kind == PRB_F_INQUIRIES && fd->window_months > d->inquiry_months)
                d->inquiry_months = fd->window_months;
        }
    }
    if (lists) {
        size_t at = push(c, "lists");
        if (!json_is_array(lists) || !(d->lists = calloc(json_array_size(lists) + 1, sizeof(int))))
            rc = fail(c, PRB_EPOLICY, "must be an array of list names");
        json_array_foreach(lists, i, v)
        {
            int l = json_is_string(v) ? prb_policy_list(c->p, json_string_value(v)) : -1;
            if (!rc && l < 0)
                rc = fail(c, PRB_EPOLICY, "[%zu] is not a list of the policy", i);
            else if (!rc && !(c->p->lists[l].purposes >> (d - c->p->purposes) & 1))
                rc = fail(c, PRB_EPOLICY, "[%zu] list %s does not serve purpose %s", i,
                          c->p->lists[l].name, d->name);
            /* Named twice, its entry stood twice in every decision. The
             * policy in force, adopted before that was refused, names it
             * once. */
            int twice = 0;
            for (size_t k = 0; !rc && k < d->nlists; k++)
                twice |= d->lists[k] == l;
            if (!rc && twice && !c->kept)
                rc = fail(c, PRB_EPOLICY, "[%zu] list %s is named twice", i, c->p->lists[l].name);
            else if (!rc && twice)
                old_form(c, PRB_OLD_LIST_TWICE, "%s[%zu]: list %s is named twice, and read once",
                         c->path, i, c->p->lists[l].name);
            else if (!rc)
                d->lists[d->nlists++] = l;
        }
        pop(c, at);
        if (rc)
            return rc;
    }
    size_t at = push(c, "rule");
    if (!json_is_array(rule) || !json_array_size(rule) ||
        !(d->rules = calloc(json_array_size(rule), sizeof *d->rules))) {
        rc = fail(c, PRB_EPOLICY, "required: an array of rule steps ending in an outcome");
        goto out;
    }
    json_array_foreach(rule, i, v)
    {
        char idx[24];
        snprintf(idx, sizeof idx, "[%zu]", i);
        size_t n = strlen(c->path);
        snprintf(c->path + n, sizeof c->path - n, "%s", idx);
        rc = load_rule(c, d, v, &d->rules[d->nrules++]);
        pop(c, n);
        if (rc)
            goto out;
    }
    const prb_rule *last = &d->rules[d->nrules - 1];
    if (last->list >= 0 || last->has_below || last->if_no_score)
        rc = fail(c, PRB_EPOLICY,
                  "the last step must have no condition, so every inquiry gets "
                  "an outcome");
out:
    pop(c, at);
    return rc;
}

static int load_purpose_rules(struct ctx *c, json_t *root)
{
    json_t *ps = json_object_get(root, "purposes"), *def;
    const char *name;
    size_t at = push(c, "purposes"), i = 0;
    int rc = PRB_OK;
    json_object_foreach(ps, name, def)
    {
        size_t m = push(c, name);
        prb_purposedef *d = &c->p->purposes[i++];
        /* A purpose without a rule is one no inquiry may be made for. */
        if (json_object_get(def, "rule") || json_object_get(def, "scorecard") ||
            json_object_get(def, "lists"))
            rc = load_purpose_rule(c, d, def);
        pop(c, m);
        if (rc)
            break;
    }
    pop(c, at);
    return rc;
}

/* ----------------------------------------------------- notice delivery */

/* Checks a webhook URL with libcurl's own parser (the one that will send
 * to it) and makes the channel's id from it without the parts that may
 * hold secrets. */
static int webhook_url(struct ctx *c, prb_channel *ch)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *id = NULL;
    int rc = PRB_OK;
    if (!u)
        return PRB_ENOMEM;
    size_t at = push(c, "url");
    if (strlen(ch->target) > 2048 || curl_url_set(u, CURLUPART_URL, ch->target, 0) ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        (strcmp(scheme, "http") && strcmp(scheme, "https")) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0)) {
        rc = fail(c, PRB_EPOLICY, "must be an http:// or https:// URL with a host");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_USER, NULL, 0) || curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) ||
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) || curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) ||
        curl_url_get(u, CURLUPART_URL, &id, 0) || !(ch->id = malloc(strlen(id) + 9))) {
        rc = PRB_ENOMEM;
        goto out;
    }
    sprintf(ch->id, "webhook:%s", id);
out:
    pop(c, at);
    curl_free(scheme);
    curl_free(host);
    curl_free(id);
    curl_url_cleanup(u);
    return rc;
}

static int load_channel(struct ctx *c, json_t *def, prb_channel *ch)
{
    static const char *const types[] = {[PRB_CH_SPOOL] = "spool", [PRB_CH_WEBHOOK] = "webhook"};
    static const char *const spool_keys[] = {"type", "dir", NULL};
    static const char *const hook_keys[] = {"type",         "url",        "timeout_ms",
                                            "max_attempts", "backoff_ms", NULL};
    int64_t v;
    int rc;
    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = get_enum(c, def, "type", types, PRB_CH_SPOOL, PRB_CH_WEBHOOK, "spool, webhook",
                       &ch->type)))
        return rc;
    if (ch->type == PRB_CH_SPOOL) {
        if ((rc = only_keys(c, def, spool_keys)) ||
            (rc = get_string(c, def, "dir", 1, &ch->target)))
            return rc;
        if (!*ch->target || strlen(ch->target) != json_string_length(json_object_get(def, "dir")) ||
            strlen(ch->target) > 1024) {
            size_t at = push(c, "dir");
            rc = fail(c, PRB_EPOLICY, "must be a directory name of 1-1024 bytes");
            pop(c, at);
            return rc;
        }
        if (!(ch->id = malloc(strlen(ch->target) + 7)))
            return PRB_ENOMEM;
        sprintf(ch->id, "spool:%s", ch->target);
        return PRB_OK;
    }
    if ((rc = only_keys(c, def, hook_keys)) || (rc = get_string(c, def, "url", 1, &ch->target)) ||
        (rc = webhook_url(c, ch)))
        return rc;
    if ((rc = get_int(c, def, "timeout_ms", 0, 1, 600000, 2000, &v)))
        return rc;
    ch->timeout_ms = (int32_t)v;
    if ((rc = get_int(c, def, "max_attempts", 0, 1, 20, 5, &v)))
        return rc;
    ch->max_attempts = (int32_t)v;
    if ((rc = get_int(c, def, "backoff_ms", 0, 0, 60000, 200, &v)))
        return rc;
    ch->backoff_ms = (int32_t)v;
    return PRB_OK;
}

/* "notices": {"channels": [...]}. Without the section notices go to one
 * spool directory, "spool" in the register: every register delivers
 * somewhere, and an empty list of channels is refused for the same
 * reason (a notice nobody can receive is never delivered). */
static int load_notices(struct ctx *c, json_t *root)
{
    static const char *const keys[] = {"channels", NULL};
    json_t *sec = json_object_get(root, "notices"), *arr, *def;
    size_t at, i;
    int rc = PRB_OK;
    if (!sec) {
        prb_channel *ch = c->p->channels = calloc(1, sizeof *ch);
        if (!ch || !(ch->target = strdup("spool")) || !(ch->id = strdup("spool:spool")))
            return PRB_ENOMEM;
        c->p->nchannels = 1;
        ch->type = PRB_CH_SPOOL;
        return PRB_OK;
    }
    at = push(c, "notices");
    if (!json_is_object(sec)) {
        rc = fail(c, PRB_EPOLICY, "must be an object");
        goto out;
    }
    if ((rc = only_keys(c, sec, keys)))
        goto out;
    arr = json_object_get(sec, "channels");
    pop(c, at);
    push(c, "notices.channels");
    if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > PRB_MAX_CHANNELS) {
        rc = fail(c, PRB_EPOLICY, "required: an array of 1-%d channels", PRB_MAX_CHANNELS);
        goto out;
    }
    if (!(c->p->channels = calloc(json_array_size(arr), sizeof *c->p->channels))) {
        rc = PRB_ENOMEM;
        goto out;
    }
    json_array_foreach(arr, i, def)
    {
        size_t n = strlen(c->path);
        snprintf(c->path + n, sizeof c->path - n, "[%zu]", i);
        prb_channel *ch = &c->p->channels[c->p->nchannels++];
        rc = load_channel(c, def, ch);
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(c->p->channels[j].id, ch->id))
                rc = fail(c, PRB_EPOLICY, "is the same channel as [%zu] (%s)", j, ch->id);
        pop(c, n);
        if (rc)
            break;
    }
out:
    pop(c, at);
    return rc;
}

static int load_root(struct ctx *c, json_t *root)
{
    static const char *const keys[] = {"policy_version",
                                       "description",
                                       "identifier_schemes",
                                       "dispute_deadline_days",
                                       "purposes",
                                       "categories",
                                       "features",
                                       "scorecards",
                                       "lists",
                                       "notices",
                                       NULL};
    int64_t v;
    int rc;
    if (!json_is_object(root))
        return fail(c, PRB_EPOLICY, "the policy must be a JSON object");
    if ((rc = only_keys(c, root, keys)) ||
        (rc = get_string(c, root, "policy_version", 1, &c->p->version)) ||
        (rc = get_description(c, root, "policy description", NULL)))
        return rc;
    if ((rc = get_int(c, root, "dispute_deadline_days", 0, 1, 365, 30, &v)))
        return rc;
    c->p->dispute_deadline_days = (int32_t)v;
    if ((rc = load_schemes(c, root)) ||
        (rc = load_named(c, root, "purposes", 64, sizeof(prb_purposedef), (void **)&c->p->purposes,
                         &c->p->npurposes, load_purpose)))
        return rc;
    if ((rc = load_named(c, root, "categories", 64, sizeof(prb_catdef), (void **)&c->p->categories,
                         &c->p->ncategories, load_category_cb)))
        return rc;
    for (size_t i = 0; i < c->p->ncategories; i++)
        for (size_t j = 0; j < c->p->npurposes; j++)
            if (c->p->categories[i].purposes & (1ull << j))
                c->p->purposes[j].categories |= 1ull << i;
    if ((rc = load_optional_named(c, root, "features", 1024, sizeof(prb_featdef),
                                  (void **)&c->p->features, &c->p->nfeatures, load_feature)) ||
        (rc = load_scorecards(c, root)) ||
        (rc = load_optional_named(c, root, "lists", 64, sizeof(prb_listdef), (void **)&c->p->lists,
                                  &c->p->nlists, load_list)) ||
        (rc = load_notices(c, root)))
        return rc;
    return load_purpose_rules(c, root);
}

static int load_buf(const char *name, const char *buf, size_t len, int kept, prb_policy **out)
{
    struct ctx c = {.path = "$", .kept = kept};
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    *out = c.p = calloc(1, sizeof *c.p);
    if (!c.p)
        return PRB_ENOMEM;
    if (!(c.p->name = strdup(name)) || !(c.p->text = malloc(len + 1)))
        return prb_seterr(c.p->err, PRB_ENOMEM, "%s: out of memory", name);
    memcpy(c.p->text, buf, len);
    c.p->text[len] = 0;
    c.p->text_len = len;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return prb_seterr(c.p->err, PRB_EPOLICY, "%s:%d:%d: not valid JSON: %s", name, jerr.line,
                          jerr.column, jerr.text);
    prb_currency_table(c.p->currency_scale);
    rc = load_root(&c, root);
    json_decref(root);
    return rc;
}

int prb_policy_load_buf(const char *name, const char *buf, size_t len, prb_policy **out)
{
    return load_buf(name, buf, len, 0, out);
}

/* policy/default.json as it was when this library was built
 * (build/gen/default_policy.c, made by scripts/embed). */
extern const char prb_default_policy_json[];
extern const size_t prb_default_policy_json_len;

const char *prb_default_policy(size_t *len)
{
    if (len)
        *len = prb_default_policy_json_len;
    return prb_default_policy_json;
}

int prb_policy_load_default(prb_policy **out)
{
    return prb_policy_load_buf(PRB_DEFAULT_POLICY_NAME, prb_default_policy_json,
                               prb_default_policy_json_len, out);
}

/* Reads path whole into *buf (malloc'd), or sets *out to a handle with
 * the error. */
static int read_policy(const char *path, char **out_buf, size_t *out_len, prb_policy **out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    int rc;

    *out = NULL;
    if (!f) {
        *out = calloc(1, sizeof **out);
        if (!*out)
            return PRB_ENOMEM;
        return prb_seterr((*out)->err, PRB_EIO, "%s: cannot open: %m", path);
    }
    do {
        if (cap - len < 65536) {
            char *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return PRB_ENOMEM;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    rc = ferror(f) ? PRB_EIO : PRB_OK;
    fclose(f);
    if (rc) {
        free(buf);
        *out = calloc(1, sizeof **out);
        return *out ? prb_seterr((*out)->err, rc, "%s: read error", path) : PRB_ENOMEM;
    }
    *out_buf = buf;
    *out_len = len;
    return PRB_OK;
}

/* may_keep: a register's policy, in force when its hash is in_force (or
 * that is NULL); else a policy being adopted. */
static int load_file(const char *path, int may_keep, const unsigned char *in_force,
                     prb_policy **out)
{
    unsigned char h[PRB_HASH_LEN];
    char *buf = NULL;
    size_t len = 0;
    int kept = may_keep && !in_force;
    int rc = read_policy(path, &buf, &len, out);
    if (rc)
        return rc;
    if (may_keep && in_force) {
        prb_sha256(buf, len, h);
        kept = !memcmp(h, in_force, PRB_HASH_LEN);
    }
    rc = load_buf(path, buf, len, kept, out);
    free(buf);
    return rc;
}

int prb_policy_load(const char *path, prb_policy **out)
{
    return load_file(path, 0, NULL, out);
}

int prb_policy_load_kept(const char *path, const unsigned char *in_force, prb_policy **out)
{
    return load_file(path, 1, in_force, out);
}

const char *prb_policy_errmsg(const prb_policy *p)
{
    return p ? p->err : "out of memory";
}

const char *prb_policy_version(const prb_policy *p)
{
    return p->version ? p->version : "";
}

size_t prb_policy_ncategories(const prb_policy *p)
{
    return p->ncategories;
}

const char *prb_policy_category_name(const prb_policy *p, size_t i)
{
    return i < p->ncategories ? p->categories[i].name : NULL;
}

int prb_policy_category(const prb_policy *p, const char *name, size_t n)
{
    for (size_t i = 0; i < p->ncategories; i++)
        if (p->categories[i].name_len == n && !memcmp(p->categories[i].name, name, n))
            return (int)i;
    return -1;
}

int prb_policy_feature(const prb_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nfeatures; i++)
        if (p->features[i].name && !strcmp(p->features[i].name, name))
            return (int)i;
    return -1;
}

int prb_policy_purpose(const prb_policy *p, const char *name)
{
    return prb_policy_purpose_n(p, name, strlen(name));
}

int prb_policy_purpose_n(const prb_policy *p, const char *name, size_t n)
{
    for (size_t i = 0; i < p->npurposes; i++)
        if (p->purposes[i].name && strlen(p->purposes[i].name) == n &&
            !memcmp(p->purposes[i].name, name, n))
            return (int)i;
    return -1;
}

int prb_policy_list(const prb_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nlists; i++)
        if (p->lists[i].name && !strcmp(p->lists[i].name, name))
            return (int)i;
    return -1;
}

int prb_catdef_field(const prb_catdef *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (c->fields[i].name_len == n && !memcmp(c->fields[i].name, name, n))
            return (int)i;
    return -1;
}

static void free_conds(prb_cond *cs, size_t n)
{
    for (size_t i = 0; cs && i < n; i++) {
        for (size_t k = 0; k < cs[i].nvalues; k++)
            free(cs[i].values[k]);
        free(cs[i].values);
        free(cs[i].field);
    }
    free(cs);
}

void prb_policy_free(prb_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncategories; i++) {
        prb_catdef *d = &p->categories[i];
        for (size_t j = 0; j < d->nfields; j++) {
            for (size_t k = 0; k < d->fields[j].nvalues; k++)
                free(d->fields[j].values[k]);
            free(d->fields[j].values);
            free(d->fields[j].value_lens);
            free(d->fields[j].name);
        }
        free(d->fields);
        free(d->name);
        free(d->description);
    }
    for (size_t i = 0; i < p->npurposes; i++) {
        prb_purposedef *d = &p->purposes[i];
        for (size_t k = 0; k < d->nrequesters; k++)
            free(d->requesters[k]);
        free(d->requesters);
        free(d->lists);
        free(d->rules);
        free(d->sc_feature);
        free(d->need);
        free(d->name);
        free(d->description);
    }
    for (size_t i = 0; i < p->nfeatures; i++) {
        prb_featdef *f = &p->features[i];
        free_conds(f->where, f->nwhere);
        free_conds(f->match, f->nmatch);
        free(f->field_idx);
        free(f->field);
        free(f->name);
    }
    free(p->features);
    for (size_t i = 0; i < p->nscorecards; i++)
        prb_sc_free(p->scorecards[i]);
    free(p->scorecards);
    for (size_t i = 0; i < p->nlists; i++) {
        prb_listdef *l = &p->lists[i];
        for (size_t g = 0; g < l->ngrounds; g++) {
            free_conds(l->grounds[g].crit, l->grounds[g].ncrit);
            free(l->grounds[g].crit_feature);
            free(l->grounds[g].name);
        }
        free(l->grounds);
        free(l->name);
        free(l->description);
    }
    free(p->lists);
    for (size_t i = 0; i < p->nchannels; i++) {
        free(p->channels[i].id);
        free(p->channels[i].target);
    }
    free(p->channels);
    free(p->categories);
    free(p->purposes);
    free(p->name);
    free(p->version);
    free(p->text);
    free(p);
}
