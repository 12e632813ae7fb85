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

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 36500

struct ctx {
    prb_policy *p;
    char path[512];
};

static int fail(struct ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int rc, const char *fmt, ...)
{
    char why[PRB_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return prb_seterr(c->p->err, rc, "%s: %s: %s", c->p->name, c->path, why);
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
    char term[64];
    const char *cls = prb_refused_class(text, term, sizeof term);
    if (cls)
        return fail(c, PRB_EREFUSED,
                    "%s '%s' is refused: '%s' is %s data, which probity never holds or scores "
                    "(DESIGN invariant 1)",
                    what, text, term, cls);
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

static int get_int(struct ctx *c, json_t *obj, const char *key, int required, int64_t lo, int64_t hi,
                   int64_t dflt, int64_t *out)
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
    [PRB_FT_STRING] = "string", [PRB_FT_ENUM] = "enum",         [PRB_FT_INTEGER] = "integer",
    [PRB_FT_AMOUNT] = "amount", [PRB_FT_DATE] = "date",         [PRB_FT_CURRENCY] = "currency",
};

static int load_field(struct ctx *c, const char *name, json_t *def, prb_fielddef *f)
{
    static const char *const keys[] = {"type", "required", "values", "min", "max", "max_length",
                                       "description", NULL};
    char *type = NULL, *desc = NULL;
    int rc;
    int64_t v;

    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = check_name(c, "field", name)) || (rc = only_keys(c, def, keys)))
        return rc;
    if (!(f->name = strdup(name)))
        return PRB_ENOMEM;
    f->name_len = strlen(name);
    if ((rc = get_string(c, def, "type", 1, &type)))
        return rc;
    f->type = 0;
    for (int t = PRB_FT_STRING; t <= PRB_FT_CURRENCY; t++)
        if (!strcmp(type, ftype_names[t]))
            f->type = t;
    free(type);
    if (!f->type) {
        size_t n = push(c, "type");
        rc = fail(c, PRB_EPOLICY, "unknown type (known: string, enum, integer, amount, date, "
                                  "currency)");
        pop(c, n);
        return rc;
    }
    json_t *req = json_object_get(def, "required");
    if (req && !json_is_boolean(req)) {
        size_t n = push(c, "required");
        rc = fail(c, PRB_EPOLICY, "must be true or false");
        pop(c, n);
        return rc;
    }
    f->required = json_is_true(req);
    if ((rc = get_string(c, def, "description", 0, &desc)))
        return rc;
    if (desc) {
        rc = check_refused(c, "field description", desc);
        free(desc);
        if (rc)
            return rc;
    }
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
        return fail(c, PRB_EPOLICY, f->type == PRB_FT_ENUM ? "an enum needs \"values\""
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
    char *pol = NULL;
    int64_t v;
    int rc;

    d->currency_field = -1;
    if (!json_is_object(cat))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = check_name(c, "category", name)) || (rc = only_keys(c, cat, keys)))
        return rc;
    if (!(d->name = strdup(name)))
        return PRB_ENOMEM;
    d->name_len = strlen(name);
    if ((rc = get_string(c, cat, "description", 0, &d->description)))
        return rc;
    if (d->description && (rc = check_refused(c, "category description", d->description)))
        return rc;
    if ((rc = get_kinds(c, cat, &d->kinds)) || (rc = get_string(c, cat, "polarity", 1, &pol)))
        return rc;
    d->polarity = !strcmp(pol, "adverse")    ? PRB_ADVERSE
                  : !strcmp(pol, "positive") ? PRB_POSITIVE
                  : !strcmp(pol, "neutral")  ? PRB_NEUTRAL
                                             : 0;
    free(pol);
    if (!d->polarity) {
        size_t n = push(c, "polarity");
        rc = fail(c, PRB_EPOLICY, "must be \"adverse\", \"positive\" or \"neutral\"");
        pop(c, n);
        return rc;
    }
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

static int load_purpose(struct ctx *c, const char *name, json_t *def, void *out)
{
    static const char *const keys[] = {"description", "subject_kinds", NULL};
    prb_purposedef *d = out;
    int rc;
    if (!json_is_object(def))
        return fail(c, PRB_EPOLICY, "must be an object");
    if ((rc = check_name(c, "purpose", name)) || (rc = only_keys(c, def, keys)))
        return rc;
    if (!(d->name = strdup(name)))
        return PRB_ENOMEM;
    if ((rc = get_string(c, def, "description", 0, &d->description)) ||
        (rc = get_kinds(c, def, &d->kinds)))
        return rc;
    return d->description ? check_refused(c, "purpose description", d->description) : PRB_OK;
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

static const char *const scheme_names[] = {
    [PRB_SCHEME_CN_RID] = "cn-rid", [PRB_SCHEME_CN_USCC] = "cn-uscc", [PRB_SCHEME_LEI] = "lei",
    [PRB_SCHEME_DE_TAXID] = "de-taxid", [PRB_SCHEME_EXT] = "ext"};

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

static int load_root(struct ctx *c, json_t *root)
{
    static const char *const keys[] = {"policy_version",      "description", "identifier_schemes",
                                       "dispute_deadline_days", "purposes",    "categories",
                                       NULL};
    char *desc = NULL;
    int64_t v;
    int rc;
    if (!json_is_object(root))
        return fail(c, PRB_EPOLICY, "the policy must be a JSON object");
    if ((rc = only_keys(c, root, keys)) ||
        (rc = get_string(c, root, "policy_version", 1, &c->p->version)) ||
        (rc = get_string(c, root, "description", 0, &desc)))
        return rc;
    if (desc) {
        rc = check_refused(c, "policy description", desc);
        free(desc);
        if (rc)
            return rc;
    }
    if ((rc = get_int(c, root, "dispute_deadline_days", 0, 1, 365, 30, &v)))
        return rc;
    c->p->dispute_deadline_days = (int32_t)v;
    if ((rc = load_schemes(c, root)) ||
        (rc = load_named(c, root, "purposes", 64, sizeof(prb_purposedef),
                         (void **)&c->p->purposes, &c->p->npurposes, load_purpose)))
        return rc;
    return load_named(c, root, "categories", 65535, sizeof(prb_catdef),
                      (void **)&c->p->categories, &c->p->ncategories, load_category_cb);
}

int prb_policy_load_buf(const char *name, const char *buf, size_t len, prb_policy **out)
{
    struct ctx c = {.path = "$"};
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

int prb_policy_load(const char *path, prb_policy **out)
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
    rc = prb_policy_load_buf(path, buf, len, out);
    free(buf);
    return rc;
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

int prb_catdef_field(const prb_catdef *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (c->fields[i].name_len == n && !memcmp(c->fields[i].name, name, n))
            return (int)i;
    return -1;
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
        free(p->purposes[i].name);
        free(p->purposes[i].description);
    }
    free(p->categories);
    free(p->purposes);
    free(p->name);
    free(p->version);
    free(p->text);
    free(p);
}
