/*
 * pmml.c - imports a PMML 4.1-4.4 Scorecard model (read with libxml2)
 * into the scorecard model of scorecard.h, which scorecard.c evaluates
 * with PMML's semantics. A PMML file comes from outside the register, so
 * it is untrusted input: the parser gets no network, no DTD and no entity
 * expansion, the size is bounded, and anything this importer does not
 * implement is an error naming the element and its line. Nothing is
 * skipped silently, because a construct skipped would score people
 * differently from what the model's author meant.
 *
 * What is read: DataDictionary (each field's optype and dataType),
 * MiningSchema (active fields are the inputs, and for a field of
 * dataType integer the invalidValueTreatment of a number that is not a
 * whole one, which is not of that type), Scorecard's initialScore,
 * useReasonCodes, reasonCodeAlgorithm, baselineScore and baselineMethod,
 * Characteristic/Attribute with partialScore, reasonCode, baselineScore,
 * and the predicates SimplePredicate, CompoundPredicate (and, or, xor,
 * surrogate), SimpleSetPredicate (isIn, isNotIn over an Array), True and
 * False. An Output is accepted only when it merely names the predicted
 * value and reason codes. Header, MiningBuildTask, ModelStats,
 * ModelExplanation and ModelVerification are informational and ignored.
 *
 * What is refused: other models, functionName other than regression,
 * isScorable="false", transformations (LocalTransformations,
 * TransformationDictionary with content, DerivedField), ComplexPartialScore,
 * Targets, Extension (its meaning is the vendor's), Taxonomy, missing-value
 * replacement, outlier treatment, value validity lists unless the field is
 * used as is, categorical fields of a dataType other than string or
 * that the caller's feature_kind does not call categorical (a register's
 * policy has numeric features only), ordering comparisons on categorical
 * or ordinal fields, and points
 * (initialScore, partialScore, baselineScore) beyond PRB_SC_POINTS_MAX
 * or with more than PRB_SC_POINTS_DECIMALS decimals.
 */
#include "internal.h"
#include "scorecard.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PMML_MAX_BYTES (4u << 20)
#define MAX_FIELDS 1024 /* DataFields */
#define MAX_INPUTS 256  /* MiningFields: decide.c copies at most 256 inputs */
#define MAX_CHARACS 64  /* prb_score.applied has 64 slots */
#define MAX_ATTRS 4096
#define MAX_DEPTH 32
#define MAX_ARRAY 65536

static const char *const pmml_namespaces[] = {
    "http://www.dmg.org/PMML-4_1", "http://www.dmg.org/PMML-4_2", "http://www.dmg.org/PMML-4_3",
    "http://www.dmg.org/PMML-4_4", NULL};
static const char *const pmml_versions[] = {"4.1", "4.2", "4.2.1", "4.3", "4.4", "4.4.1", NULL};
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static const char *const model_elements[] = {"AnomalyDetectionModel",
                                             "AssociationModel",
                                             "BayesianNetworkModel",
                                             "BaselineModel",
                                             "ClusteringModel",
                                             "GaussianProcessModel",
                                             "GeneralRegressionModel",
                                             "MiningModel",
                                             "NaiveBayesModel",
                                             "NearestNeighborModel",
                                             "NeuralNetwork",
                                             "RegressionModel",
                                             "RuleSetModel",
                                             "SequenceModel",
                                             "SupportVectorMachineModel",
                                             "TextModel",
                                             "TimeSeriesModel",
                                             "TreeModel",
                                             NULL};

enum dtype { DT_OTHER = 0, DT_STRING, DT_NUMBER };

/* A DataField; strings are borrowed from the document. */
struct dfield {
    const char *name;
    const char *optype;
    int dtype;           /* enum dtype */
    int integer;         /* dataType integer: a number that is not whole is invalid */
    int declares_values; /* has Value (valid) or Interval children */
    int input;           /* index in sc->fields when an active MiningField, else -1 */
    int in_schema;
};

struct px {
    const char *name; /* the document's name in messages */
    char *err;
    size_t errlen;
    const xmlChar *ns; /* the PMML namespace the document uses, or NULL */
    int (*feature_kind)(void *ctx, const char *name);
    void *kctx;
    size_t ndf;
    struct dfield *df;
    prb_scorecard *sc;
};

/* ---------------------------------------------------------------- errors */

static int perr(struct px *c, int rc, xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(struct px *c, int rc, xmlNode *n, const char *fmt, ...)
{
    char why[PRB_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%ld: %s: %s", c->name, xmlGetLineNo(n),
             n ? (const char *)n->name : "PMML", why);
    return rc;
}

static int unsupported(struct px *c, xmlNode *n, const char *why)
{
    return perr(c, PRB_EINVAL, n, "not supported (%s)", why);
}

/* Invariant 1: a model about refused data is refused whole. */
static int refused(struct px *c, xmlNode *n, const char *what, const char *name)
{
    char term[64];
    const char *cls = prb_refused_class(name, term, sizeof term);
    if (!cls)
        return PRB_OK;
    return perr(c, PRB_EREFUSED, n,
                "%s '%s' is refused: '%s' is %s data, which probity never holds or scores "
                "(DESIGN invariant 1)",
                what, name, term, cls);
}

/* ------------------------------------------------------ document helpers */

static int is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static int in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

static int blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

/* A child that is not an element: blank text, comments and processing
 * instructions are layout; text or an entity reference is not expected. */
static int non_element(struct px *c, xmlNode *parent, xmlNode *k)
{
    switch (k->type) {
    case XML_COMMENT_NODE:
    case XML_PI_NODE:
        return PRB_OK;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        if (blank(k->content))
            return PRB_OK;
        return perr(c, PRB_EINVAL, parent, "unexpected text content");
    default:
        return perr(c, PRB_EINVAL, parent, "unexpected content (entity reference or node type %d)",
                    (int)k->type);
    }
}

/* Every element must be in the document's PMML namespace. */
static int element_ns(struct px *c, xmlNode *e)
{
    const xmlChar *href = e->ns ? e->ns->href : NULL;
    if ((href == NULL) != (c->ns == NULL) ||
        (href && strcmp((const char *)href, (const char *)c->ns)))
        return perr(c, PRB_EINVAL, e, "element in namespace '%s', expected '%s'",
                    href ? (const char *)href : "(none)", c->ns ? (const char *)c->ns : "(none)");
    return PRB_OK;
}

/* The element child of parent after prev (the first when prev is NULL),
 * having checked what lies before it (non_element) and its namespace.
 * NULL at the end, or on an error with *rc set; callers check *rc after
 * their loop. */
static xmlNode *next_element(struct px *c, xmlNode *parent, xmlNode *prev, int *rc)
{
    *rc = PRB_OK;
    for (xmlNode *k = prev ? prev->next : parent->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) {
            if ((*rc = non_element(c, parent, k)))
                return NULL;
            continue;
        }
        if ((*rc = element_ns(c, k)))
            return NULL;
        return k;
    }
    return NULL;
}

/* The value of an attribute without namespace, or NULL. only_attrs has
 * checked that each value is one text node. */
static const char *attr(xmlNode *n, const char *name)
{
    for (xmlAttr *a = n->properties; a; a = a->next)
        if (!a->ns && !strcmp((const char *)a->name, name))
            return a->children ? (const char *)a->children->content : "";
    return NULL;
}

/* Refuses attributes this importer does not know: an attribute it does
 * not read could change what the model means. */
static int only_attrs(struct px *c, xmlNode *n, const char *const *allowed)
{
    for (xmlAttr *a = n->properties; a; a = a->next) {
        if (a->children && (a->children->type != XML_TEXT_NODE || a->children->next))
            return perr(c, PRB_EINVAL, n, "attribute '%s' holds entity references",
                        (const char *)a->name);
        if (a->ns) {
            if (a->ns->href && !strcmp((const char *)a->ns->href, XSI_NS))
                continue; /* xsi:schemaLocation and friends */
            return perr(c, PRB_EINVAL, n, "attribute '%s:%s' is not supported",
                        a->ns->prefix ? (const char *)a->ns->prefix : "", (const char *)a->name);
        }
        if (!in_list((const char *)a->name, allowed))
            return perr(c, PRB_EINVAL, n, "attribute '%s' is not supported", (const char *)a->name);
    }
    return PRB_OK;
}

static const char *trim(const char *s, size_t *n)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    *n = strlen(s);
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\n' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

/* An xs:double in plain decimal or exponent form (no INF, NaN or hex),
 * checked by hand so the C library's looser syntax never decides. With
 * integer_only, digits with an optional sign. */
static int parse_num(const char *s, int integer_only, double *out)
{
    char buf[128];
    size_t n, i = 0, digits = 0;
    s = trim(s, &n);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (buf[i] == '+' || buf[i] == '-')
        i++;
    for (; buf[i] >= '0' && buf[i] <= '9'; i++)
        digits++;
    if (!integer_only && buf[i] == '.')
        for (i++; buf[i] >= '0' && buf[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 0;
    if (!integer_only && (buf[i] == 'e' || buf[i] == 'E')) {
        size_t ed = 0;
        i++;
        if (buf[i] == '+' || buf[i] == '-')
            i++;
        for (; buf[i] >= '0' && buf[i] <= '9'; i++)
            ed++;
        if (!ed)
            return 0;
    }
    if (buf[i])
        return 0;
    *out = strtod(buf, NULL);
    return isfinite(*out);
}

static int num_attr(struct px *c, xmlNode *n, const char *name, int *has, double *out)
{
    const char *v = attr(n, name);
    *has = v != NULL;
    if (v && !parse_num(v, 0, out))
        return perr(c, PRB_EINVAL, n, "%s '%s' is not a finite number", name, v);
    return PRB_OK;
}

/* A number of points (partialScore, baselineScore, initialScore): at
 * most PRB_SC_POINTS_MAX either way, so no score or difference can
 * overflow, and of at most PRB_SC_POINTS_DECIMALS decimals, since points
 * are summed and compared exactly, in millionths (scorecard.h). One with
 * more is refused rather than rounded: a rounded model would not score
 * as its author's tool does. */
static int points_attr(struct px *c, xmlNode *n, const char *name, int *has, prb_points *out)
{
    double v = 0;
    int rc = num_attr(c, n, name, has, &v), r;
    if (rc || !*has || !(r = prb_sc_points(v, out)))
        return rc;
    if (r == -1)
        return perr(c, PRB_EINVAL, n,
                    "%s '%s' is out of range: points must be between -1e9 and 1e9, so that "
                    "no sum of them can overflow",
                    name, attr(n, name));
    return perr(c, PRB_EINVAL, n,
                "%s '%s' has more than %d decimals: points are counted exactly, in millionths; "
                "round the model's points to %d decimals",
                name, attr(n, name), PRB_SC_POINTS_DECIMALS, PRB_SC_POINTS_DECIMALS);
}

static int bool_attr(struct px *c, xmlNode *n, const char *name, int dflt, int *out)
{
    const char *v = attr(n, name);
    size_t len;
    *out = dflt;
    if (!v)
        return PRB_OK;
    v = trim(v, &len);
    if ((len == 4 && !strncmp(v, "true", 4)) || (len == 1 && *v == '1'))
        *out = 1;
    else if ((len == 5 && !strncmp(v, "false", 5)) || (len == 1 && *v == '0'))
        *out = 0;
    else
        return perr(c, PRB_EINVAL, n, "%s '%s' is not a boolean", name, v);
    return PRB_OK;
}

/* Counts the element children named name; refuses the others unless
 * they are in also (handled by the caller). */
static size_t count_children(xmlNode *n, const char *name)
{
    size_t k = 0;
    for (xmlNode *e = n->children; e; e = e->next)
        k += is(e, name);
    return k;
}

/* -------------------------------------------------------- DataDictionary */

static struct dfield *find_field(struct px *c, const char *name)
{
    for (size_t i = 0; i < c->ndf; i++)
        if (!strcmp(c->df[i].name, name))
            return &c->df[i];
    return NULL;
}

static int read_datafield(struct px *c, xmlNode *n, struct dfield *f)
{
    static const char *const attrs[] = {"name",     "displayName", "optype", "dataType",
                                        "taxonomy", "isCyclic",    NULL};
    static const char *const vattrs[] = {"value", "displayValue", "property", NULL};
    static const char *const iattrs[] = {"closure", "leftMargin", "rightMargin", NULL};
    const char *dt;
    int rc, cyclic;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    f->name = attr(n, "name");
    f->optype = attr(n, "optype");
    f->input = -1;
    if (!f->name || !*f->name)
        return perr(c, PRB_EINVAL, n, "attribute 'name' is required");
    if ((rc = refused(c, n, "field", f->name)))
        return rc;
    if (find_field(c, f->name) != f)
        return perr(c, PRB_EINVAL, n, "field '%s' is defined twice", f->name);
    if (!f->optype)
        return perr(c, PRB_EINVAL, n, "field '%s': attribute 'optype' is required", f->name);
    if (attr(n, "taxonomy"))
        return unsupported(c, n, "taxonomies");
    if ((rc = bool_attr(c, n, "isCyclic", 0, &cyclic)))
        return rc;
    if (cyclic)
        return unsupported(c, n, "cyclic fields");
    if (!(dt = attr(n, "dataType")))
        return perr(c, PRB_EINVAL, n, "field '%s': attribute 'dataType' is required", f->name);
    f->dtype = !strcmp(dt, "string")                                                     ? DT_STRING
               : !strcmp(dt, "integer") || !strcmp(dt, "float") || !strcmp(dt, "double") ? DT_NUMBER
                                                                                         : DT_OTHER;
    f->integer = !strcmp(dt, "integer");

    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "Value")) {
            const char *prop = attr(k, "property");
            if ((rc = only_attrs(c, k, vattrs)))
                return rc;
            if (prop && strcmp(prop, "valid"))
                return unsupported(c, k, "values declared invalid or missing");
            f->declares_values = 1;
        } else if (is(k, "Interval")) {
            if ((rc = only_attrs(c, k, iattrs)))
                return rc;
            f->declares_values = 1;
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in DataField");
        }
    }
    return rc;
}

static int read_dictionary(struct px *c, xmlNode *n)
{
    static const char *const attrs[] = {"numberOfFields", NULL};
    const char *nf = attr(n, "numberOfFields");
    size_t count = count_children(n, "DataField");
    double v;
    int rc;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    if (count > MAX_FIELDS)
        return perr(c, PRB_EINVAL, n, "more than %d fields", MAX_FIELDS);
    if (nf && (!parse_num(nf, 1, &v) || v != (double)count))
        return perr(c, PRB_EINVAL, n, "numberOfFields is %s but there are %zu DataFields", nf,
                    count);
    if (count && !(c->df = calloc(count, sizeof *c->df)))
        return PRB_ENOMEM;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "DataField")) {
            c->ndf++;
            if ((rc = read_datafield(c, k, &c->df[c->ndf - 1])))
                return rc;
        } else if (is(k, "Taxonomy")) {
            return unsupported(c, k, "taxonomies");
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in DataDictionary");
        }
    }
    return rc;
}

/* ---------------------------------------------------------- MiningSchema */

/* Checks what an active field's MiningField asks of the evaluator. */
static int check_treatment(struct px *c, xmlNode *n, const struct dfield *f)
{
    const char *out = attr(n, "outliers"), *mvt = attr(n, "missingValueTreatment");
    const char *ivt = attr(n, "invalidValueTreatment");

    if (out && strcmp(out, "asIs"))
        return unsupported(c, n, "outlier treatment other than asIs");
    if (attr(n, "missingValueReplacement"))
        return unsupported(c, n, "missingValueReplacement: missing values are scored as missing");
    /* The other treatments only say how a replacement was chosen. */
    if (mvt && !in_list(mvt, (const char *const[]){"asIs", "asMean", "asMode", "asMedian",
                                                   "asValue", NULL}))
        return unsupported(c, n,
                           "missingValueTreatment other than asIs, asMean, asMode, asMedian "
                           "or asValue without a replacement");
    if (attr(n, "invalidValueReplacement"))
        return unsupported(c, n, "invalidValueReplacement");
    if (ivt && !in_list(ivt, (const char *const[]){"returnInvalid", "asIs", "asMissing", NULL}))
        return unsupported(c, n,
                           "invalidValueTreatment other than returnInvalid, asIs or "
                           "asMissing");
    /* Without a Value or Interval list an input is invalid only when it
     * is not of the field's dataType (any string is a category, but 29.5
     * is no integer): prb_sc_eval applies the treatment to those. With a
     * list, only asIs needs no check against it. */
    if (f->declares_values && (!ivt || strcmp(ivt, "asIs")))
        return unsupported(c, n,
                           "checking values against the DataField's Value/Interval list; "
                           "set invalidValueTreatment=\"asIs\" or remove the list");
    return PRB_OK;
}

/* A checked MiningField's invalidValueTreatment (returnInvalid unless
 * said) as an enum prb_invalid_treatment. */
static int invalid_treatment(xmlNode *n)
{
    const char *ivt = attr(n, "invalidValueTreatment");
    if (!ivt || !strcmp(ivt, "returnInvalid"))
        return PRB_INVALID_RETURN;
    return !strcmp(ivt, "asMissing") ? PRB_INVALID_AS_MISSING : PRB_INVALID_AS_IS;
}

static int read_miningfield(struct px *c, xmlNode *n)
{
    static const char *const attrs[] = {"name",
                                        "usageType",
                                        "optype",
                                        "importance",
                                        "outliers",
                                        "lowValue",
                                        "highValue",
                                        "missingValueReplacement",
                                        "missingValueTreatment",
                                        "invalidValueTreatment",
                                        "invalidValueReplacement",
                                        NULL};
    const char *name = attr(n, "name"), *usage = attr(n, "usageType"), *optype;
    struct dfield *f;
    int rc, kind, want;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    if (!name || !*name)
        return perr(c, PRB_EINVAL, n, "attribute 'name' is required");
    if ((rc = refused(c, n, "field", name)))
        return rc;
    if (!(f = find_field(c, name)))
        return perr(c, PRB_EINVAL, n, "field '%s' is not in the DataDictionary", name);
    if (f->in_schema)
        return perr(c, PRB_EINVAL, n, "field '%s' is listed twice", name);
    f->in_schema = 1;
    if (usage && (!strcmp(usage, "predicted") || !strcmp(usage, "target") ||
                  !strcmp(usage, "supplementary")))
        return PRB_OK; /* not an input of the score */
    if (usage && strcmp(usage, "active"))
        return unsupported(c, n, "usageType other than active, predicted, target or supplementary");

    if ((rc = check_treatment(c, n, f)))
        return rc;
    optype = attr(n, "optype") ? attr(n, "optype") : f->optype;
    if (!strcmp(optype, "continuous"))
        kind = PRB_FIELD_NUMERIC;
    else if (!strcmp(optype, "categorical") || !strcmp(optype, "ordinal"))
        kind = PRB_FIELD_CATEGORICAL;
    else
        return perr(c, PRB_EINVAL, n, "field '%s': unknown optype '%s'", name, optype);
    if (kind == PRB_FIELD_NUMERIC && f->dtype != DT_NUMBER)
        return unsupported(c, n, "continuous fields must have dataType integer, float or double");
    if (kind == PRB_FIELD_CATEGORICAL && f->dtype != DT_STRING)
        return unsupported(c, n, "categorical and ordinal fields must have dataType string");
    if (c->feature_kind) {
        want = c->feature_kind(c->kctx, name);
        /* A register's policy makes numeric features only: said first, as
         * no renaming of the field would make such a model load. */
        if (kind == PRB_FIELD_CATEGORICAL && want != PRB_FIELD_CATEGORICAL)
            return perr(c, PRB_EINVAL, n,
                        "field '%s' is %s: categorical and ordinal fields are not supported "
                        "(the policy's features are all numeric)",
                        name, optype);
        if (!want)
            return perr(c, PRB_EINVAL, n, "field '%s' is not a feature of the policy", name);
        if (want != kind)
            return perr(c, PRB_EINVAL, n, "field '%s' is %s in the PMML but %s in the policy", name,
                        kind == PRB_FIELD_NUMERIC ? "continuous" : "categorical",
                        want == PRB_FIELD_NUMERIC ? "numeric" : "categorical");
    }
    if (!(c->sc->fields[c->sc->nfields] = strdup(name)))
        return PRB_ENOMEM;
    c->sc->field_kind[c->sc->nfields] = kind;
    c->sc->field_integer[c->sc->nfields] = f->integer ? invalid_treatment(n) : 0;
    f->input = (int)c->sc->nfields++;
    return PRB_OK;
}

static int read_schema(struct px *c, xmlNode *n)
{
    size_t count = count_children(n, "MiningField");
    int rc;

    if ((rc = only_attrs(c, n, (const char *const[]){NULL})))
        return rc;
    if (count > MAX_INPUTS)
        return perr(c, PRB_EINVAL, n, "more than %d fields", MAX_INPUTS);
    if (count && (!(c->sc->fields = calloc(count, sizeof *c->sc->fields)) ||
                  !(c->sc->field_kind = calloc(count, sizeof *c->sc->field_kind)) ||
                  !(c->sc->field_integer = calloc(count, sizeof *c->sc->field_integer))))
        return PRB_ENOMEM;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "MiningField")) {
            if ((rc = read_miningfield(c, k)))
                return rc;
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in MiningSchema");
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- Output */

/* An Output that names the score and its reason codes changes nothing;
 * any other output feature (a transformation, a decision) would. */
static int read_output(struct px *c, xmlNode *n)
{
    static const char *const attrs[] = {"name",     "displayName",   "optype",
                                        "dataType", "targetField",   "feature",
                                        "rank",     "isFinalResult", NULL};
    int rc;
    double rank;

    if ((rc = only_attrs(c, n, (const char *const[]){NULL})))
        return rc;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (!is(k, "OutputField"))
            return is(k, "Extension") ? unsupported(c, k, "extensions have vendor-defined meaning")
                                      : perr(c, PRB_EINVAL, k, "unknown element in Output");
        if ((rc = only_attrs(c, k, attrs)))
            return rc;
        const char *feat = attr(k, "feature"), *r = attr(k, "rank");
        if (feat && strcmp(feat, "predictedValue") && strcmp(feat, "reasonCode"))
            return unsupported(c, k, "output features other than predictedValue and reasonCode");
        if (r && (!parse_num(r, 1, &rank) || rank < 1))
            return perr(c, PRB_EINVAL, k, "rank '%s' is not a positive integer", r);
        for (xmlNode *e = k->children; e; e = e->next) {
            if (e->type == XML_ELEMENT_NODE)
                return unsupported(c, e, "output expressions and decisions");
            if ((rc = non_element(c, k, e)))
                return rc;
        }
    }
    return rc;
}

/* ------------------------------------------------------------ predicates */

static int input_field(struct px *c, xmlNode *n, int *field)
{
    const char *name = attr(n, "field");
    struct dfield *f;
    if (!name)
        return perr(c, PRB_EINVAL, n, "attribute 'field' is required");
    f = find_field(c, name);
    if (!f || f->input < 0)
        return perr(c, PRB_EINVAL, n, "field '%s' is not an active field of the MiningSchema",
                    name);
    *field = f->input;
    return PRB_OK;
}

/* A predicate holds only its sub-predicates or Array: refuses other
 * element children (an Extension would be ignored otherwise). */
static int no_children(struct px *c, xmlNode *n)
{
    int rc;
    for (xmlNode *k = n->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE)
            return is(k, "Extension")
                       ? unsupported(c, k, "extensions have vendor-defined meaning")
                       : perr(c, PRB_EINVAL, k, "unexpected element in %s", (const char *)n->name);
        if ((rc = non_element(c, n, k)))
            return rc;
    }
    return PRB_OK;
}

static int read_simple(struct px *c, xmlNode *n, prb_pred *p)
{
    static const char *const attrs[] = {"field", "operator", "value", NULL};
    static const struct {
        const char *name;
        int cmp;
    } ops[] = {{"equal", PRB_C_EQ},          {"notEqual", PRB_C_NE},
               {"lessThan", PRB_C_LT},       {"lessOrEqual", PRB_C_LE},
               {"greaterThan", PRB_C_GT},    {"greaterOrEqual", PRB_C_GE},
               {"isMissing", PRB_C_MISSING}, {"isNotMissing", PRB_C_NOT_MISSING}};
    const char *op = attr(n, "operator"), *value = attr(n, "value");
    int rc;

    if ((rc = only_attrs(c, n, attrs)) || (rc = no_children(c, n)) ||
        (rc = input_field(c, n, &p->field)))
        return rc;
    p->op = PRB_P_SIMPLE;
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op, ops[i].name))
            p->cmp = ops[i].cmp;
    if (!p->cmp)
        return perr(c, PRB_EINVAL, n, "unknown operator '%s'", op ? op : "(none)");
    if (p->cmp == PRB_C_MISSING || p->cmp == PRB_C_NOT_MISSING) {
        if (value)
            return perr(c, PRB_EINVAL, n, "operator '%s' takes no value", op);
        p->num = NAN;
        return PRB_OK;
    }
    if (!value)
        return perr(c, PRB_EINVAL, n, "operator '%s' needs a value", op);
    if (!(p->str = strdup(value)))
        return PRB_ENOMEM;
    if (c->sc->field_kind[p->field] == PRB_FIELD_CATEGORICAL) {
        if (p->cmp != PRB_C_EQ && p->cmp != PRB_C_NE)
            return unsupported(c, n, "ordering comparisons on a categorical or ordinal field");
        p->num = NAN;
        return PRB_OK;
    }
    if (!parse_num(value, 0, &p->num))
        return perr(c, PRB_EINVAL, n, "value '%s' is not a number, but field '%s' is continuous",
                    value, c->sc->fields[p->field]);
    return PRB_OK;
}

static int array_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Measures the Array value at s: its length once unquoted, and where it
 * ends. A value in double quotes may hold whitespace, with \" standing
 * for a quote. Returns 0 for an unterminated quote. */
static int array_token(const char *s, size_t *len, const char **end)
{
    *len = 0;
    if (*s != '"') {
        while (*s && !array_space(*s))
            s++, (*len)++;
        *end = s;
        return 1;
    }
    for (s++; *s && *s != '"'; s++, (*len)++)
        if (*s == '\\' && s[1] == '"')
            s++;
    *end = s + 1;
    return *s == '"';
}

/* Splits Array content into values. On success *out (n strings) belongs
 * to the caller; PRB_EINVAL for an unterminated quote or too many values. */
static int split_array(const char *s, char ***out, size_t *n)
{
    char **v = NULL;
    size_t nv = 0, cap = 0, len;
    const char *end;
    int rc = PRB_EINVAL;

    for (;; s = end) {
        while (array_space(*s))
            s++;
        if (!*s)
            break;
        if (!array_token(s, &len, &end) || nv == MAX_ARRAY)
            goto fail;
        if (nv == cap) {
            char **grown = realloc(v, (cap ? cap * 2 : 8) * sizeof *v);
            if (!grown) {
                rc = PRB_ENOMEM;
                goto fail;
            }
            v = grown;
            cap = cap ? cap * 2 : 8;
        }
        if (!(v[nv] = malloc(len + 1))) {
            rc = PRB_ENOMEM;
            goto fail;
        }
        /* Copy, dropping the quotes and the backslash of each \". */
        const char *r = *s == '"' ? s + 1 : s;
        for (size_t i = 0; i < len; i++, r++) {
            if (*s == '"' && *r == '\\' && r[1] == '"')
                r++;
            v[nv][i] = *r;
        }
        v[nv++][len] = 0;
    }
    *out = v;
    *n = nv;
    return PRB_OK;
fail:
    for (size_t i = 0; i < nv; i++)
        free(v[i]);
    free(v);
    return rc;
}

static int read_array(struct px *c, xmlNode *a, prb_pred *p)
{
    static const char *const attrs[] = {"n", "type", NULL};
    const char *type = attr(a, "type"), *count = attr(a, "n");
    xmlChar *text;
    double want;
    int rc, numeric = c->sc->field_kind[p->field] == PRB_FIELD_NUMERIC;

    if ((rc = only_attrs(c, a, attrs)))
        return rc;
    if (!type || (strcmp(type, "int") && strcmp(type, "real") && strcmp(type, "string")))
        return perr(c, PRB_EINVAL, a, "type must be int, real or string");
    for (xmlNode *k = a->children; k; k = k->next)
        if (k->type != XML_TEXT_NODE && k->type != XML_CDATA_SECTION_NODE &&
            k->type != XML_COMMENT_NODE)
            return perr(c, PRB_EINVAL, a, "an Array holds only text");
    if (!(text = xmlNodeGetContent(a)))
        return PRB_ENOMEM;
    rc = split_array((const char *)text, &p->values, &p->nvalues);
    xmlFree(text);
    if (rc == PRB_ENOMEM)
        return rc;
    if (rc)
        return perr(c, PRB_EINVAL, a,
                    "malformed array (an unterminated quote, or more than %d "
                    "values)",
                    MAX_ARRAY);
    if (count && (!parse_num(count, 1, &want) || want != (double)p->nvalues))
        return perr(c, PRB_EINVAL, a, "n is %s but the array holds %zu values", count, p->nvalues);
    if (p->nvalues && !(p->numvalues = calloc(p->nvalues, sizeof *p->numvalues)))
        return PRB_ENOMEM;
    for (size_t i = 0; i < p->nvalues; i++) {
        p->numvalues[i] = NAN;
        if (!numeric && strcmp(type, "string") &&
            !parse_num(p->values[i], !strcmp(type, "int"), &p->numvalues[i]))
            return perr(c, PRB_EINVAL, a, "'%s' is not of type %s", p->values[i], type);
        if (numeric && !parse_num(p->values[i], !strcmp(type, "int"), &p->numvalues[i]))
            return perr(c, PRB_EINVAL, a, "'%s' is not a number, but field '%s' is continuous",
                        p->values[i], c->sc->fields[p->field]);
    }
    return PRB_OK;
}

static int read_set(struct px *c, xmlNode *n, prb_pred *p)
{
    static const char *const attrs[] = {"field", "booleanOperator", NULL};
    const char *op = attr(n, "booleanOperator");
    xmlNode *array = NULL;
    int rc;

    if ((rc = only_attrs(c, n, attrs)) || (rc = input_field(c, n, &p->field)))
        return rc;
    p->op = PRB_P_SET;
    if (op && !strcmp(op, "isIn"))
        p->cmp = PRB_C_EQ;
    else if (op && !strcmp(op, "isNotIn"))
        p->cmp = PRB_C_NE;
    else
        return perr(c, PRB_EINVAL, n, "booleanOperator must be isIn or isNotIn");
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (!is(k, "Array") || array)
            return is(k, "Extension") ? unsupported(c, k, "extensions have vendor-defined meaning")
                                      : perr(c, PRB_EINVAL, k,
                                             "a SimpleSetPredicate holds one "
                                             "Array");
        array = k;
    }
    if (rc)
        return rc;
    if (!array)
        return perr(c, PRB_EINVAL, n, "an Array is required");
    return read_array(c, array, p);
}

static int read_pred(struct px *c, xmlNode *n, prb_pred *p, int depth);

static int read_compound(struct px *c, xmlNode *n, prb_pred *p, int depth)
{
    static const char *const attrs[] = {"booleanOperator", NULL};
    const char *op = attr(n, "booleanOperator");
    size_t count = 0, i = 0;
    int rc;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    p->op = !op                        ? 0
            : !strcmp(op, "and")       ? PRB_P_AND
            : !strcmp(op, "or")        ? PRB_P_OR
            : !strcmp(op, "xor")       ? PRB_P_XOR
            : !strcmp(op, "surrogate") ? PRB_P_SURROGATE
                                       : 0;
    if (!p->op)
        return perr(c, PRB_EINVAL, n, "booleanOperator must be and, or, xor or surrogate");
    for (xmlNode *k = n->children; k; k = k->next)
        count += k->type == XML_ELEMENT_NODE;
    if (count < 2)
        return perr(c, PRB_EINVAL, n, "a CompoundPredicate needs at least two predicates");
    if (!(p->child = calloc(count, sizeof *p->child)))
        return PRB_ENOMEM;
    p->nchild = count;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if ((rc = read_pred(c, k, &p->child[i++], depth + 1)))
            return rc;
    }
    return rc;
}

static int read_pred(struct px *c, xmlNode *n, prb_pred *p, int depth)
{
    int rc;
    if ((rc = element_ns(c, n)))
        return rc;
    if (depth > MAX_DEPTH)
        return perr(c, PRB_EINVAL, n, "predicates nested more than %d deep", MAX_DEPTH);
    if (is(n, "SimplePredicate"))
        return read_simple(c, n, p);
    if (is(n, "CompoundPredicate"))
        return read_compound(c, n, p, depth);
    if (is(n, "SimpleSetPredicate"))
        return read_set(c, n, p);
    if (is(n, "True") || is(n, "False")) {
        p->op = is(n, "True") ? PRB_P_TRUE : PRB_P_FALSE;
        if ((rc = only_attrs(c, n, (const char *const[]){NULL})))
            return rc;
        return no_children(c, n);
    }
    if (is(n, "Extension"))
        return unsupported(c, n, "extensions have vendor-defined meaning");
    return perr(c, PRB_EINVAL, n, "not a predicate this importer knows");
}

/* ------------------------------------------------------- Characteristics */

/* A reasonCode is held to the rules of a JSON scorecard's: a short code
 * (decisions write it as it is) and, as the text a subject is shown, not
 * about refused data (invariant 1). */
static int reason_code(struct px *c, xmlNode *n, const char *code)
{
    if (!prb_sc_reason_code_ok(code))
        return perr(c, PRB_EINVAL, n,
                    "reasonCode '%s' must be 1-%d letters, digits, '_', '-' or '.'", code,
                    PRB_REASON_CODE_MAX);
    return refused(c, n, "reasonCode", code);
}

static int read_attribute(struct px *c, xmlNode *n, const prb_charac *ch, prb_attr *a)
{
    static const char *const attrs[] = {"reasonCode", "partialScore", NULL};
    const char *code = attr(n, "reasonCode");
    xmlNode *pred = NULL;
    int rc, has;

    if ((rc = only_attrs(c, n, attrs)) ||
        (rc = points_attr(c, n, "partialScore", &has, &a->partial_score)))
        return rc;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "ComplexPartialScore"))
            return unsupported(c, k, "partial scores computed by expressions");
        if (is(k, "Extension"))
            return unsupported(c, k, "extensions have vendor-defined meaning");
        if (pred)
            return perr(c, PRB_EINVAL, k, "an Attribute holds one predicate");
        pred = k;
    }
    if (rc)
        return rc;
    if (!has)
        return perr(c, PRB_EINVAL, n, "attribute 'partialScore' is required");
    if (!pred)
        return perr(c, PRB_EINVAL, n, "a predicate is required");
    if (code && *code && (rc = reason_code(c, n, code)))
        return rc;
    if (code && *code && !(a->reason_code = strdup(code)))
        return PRB_ENOMEM;
    /* PMML requires a reason code for every attribute when reason codes
     * are used; the scorecard cannot explain itself otherwise. */
    if (c->sc->use_reason_codes && !a->reason_code && !ch->reason_code)
        return perr(c, PRB_EINVAL, n,
                    "no reasonCode here or on its Characteristic, and useReasonCodes is true");
    return read_pred(c, pred, &a->pred, 0);
}

/* no: the characteristic's place, from 1. */
static int read_charac(struct px *c, xmlNode *n, size_t no, prb_charac *ch)
{
    static const char *const attrs[] = {"name", "reasonCode", "baselineScore", NULL};
    const char *name = attr(n, "name"), *code = attr(n, "reasonCode");
    size_t count = count_children(n, "Attribute"), i = 0;
    char label[32];
    int rc;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    if (name && (rc = refused(c, n, "characteristic", name)))
        return rc;
    if (code && *code && (rc = reason_code(c, n, code)))
        return rc;
    /* A reason is about a characteristic's field, else its name; one
     * without either (True/False predicates, no name) is labelled by its
     * place, or its reasons would have nothing to say they are about. */
    snprintf(label, sizeof label, "Characteristic %zu", no);
    if (!(ch->name = strdup(name ? name : label)) ||
        (code && *code && !(ch->reason_code = strdup(code))))
        return PRB_ENOMEM;
    if ((rc = points_attr(c, n, "baselineScore", &ch->has_baseline, &ch->baseline)))
        return rc;
    if (c->sc->use_reason_codes && !ch->has_baseline && !c->sc->has_baseline)
        return perr(c, PRB_EINVAL, n,
                    "no baselineScore here or on the Scorecard, and "
                    "useReasonCodes is true");
    if (count == 0 || count > MAX_ATTRS)
        return perr(c, PRB_EINVAL, n, "a Characteristic needs 1-%d Attributes", MAX_ATTRS);
    if (!(ch->attrs = calloc(count, sizeof *ch->attrs)))
        return PRB_ENOMEM;
    ch->nattrs = count;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "Attribute")) {
            if ((rc = read_attribute(c, k, ch, &ch->attrs[i++])))
                return rc;
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in Characteristic");
        }
    }
    return rc;
}

static int read_characs(struct px *c, xmlNode *n)
{
    size_t count = count_children(n, "Characteristic"), i = 0;
    int rc;

    if ((rc = only_attrs(c, n, (const char *const[]){NULL})))
        return rc;
    if (count == 0 || count > MAX_CHARACS)
        return perr(c, PRB_EINVAL, n, "a scorecard needs 1-%d Characteristics", MAX_CHARACS);
    if (!(c->sc->characs = calloc(count, sizeof *c->sc->characs)))
        return PRB_ENOMEM;
    c->sc->ncharacs = count;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        if (is(k, "Characteristic")) {
            if ((rc = read_charac(c, k, i + 1, &c->sc->characs[i])))
                return rc;
            i++;
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in Characteristics");
        }
    }
    return rc;
}

/* ------------------------------------------------------------- Scorecard */

static int read_scorecard_attrs(struct px *c, xmlNode *n)
{
    static const char *const attrs[] = {
        "modelName",      "functionName",        "algorithmName", "isScorable",     "initialScore",
        "useReasonCodes", "reasonCodeAlgorithm", "baselineScore", "baselineMethod", NULL};
    const char *fn = attr(n, "functionName"), *algo = attr(n, "reasonCodeAlgorithm");
    const char *method = attr(n, "baselineMethod");
    prb_scorecard *sc = c->sc;
    int rc, scorable, has;

    if ((rc = only_attrs(c, n, attrs)))
        return rc;
    if (!fn || strcmp(fn, "regression"))
        return perr(c, PRB_EINVAL, n, "functionName '%s' is not supported (only regression)",
                    fn ? fn : "(none)");
    if ((rc = bool_attr(c, n, "isScorable", 1, &scorable)))
        return rc;
    if (!scorable)
        return perr(c, PRB_EINVAL, n, "isScorable is false: the model is not meant for scoring");
    if ((rc = points_attr(c, n, "initialScore", &has, &sc->initial_score)) ||
        (rc = bool_attr(c, n, "useReasonCodes", 1, &sc->use_reason_codes)) ||
        (rc = points_attr(c, n, "baselineScore", &sc->has_baseline, &sc->baseline_score)))
        return rc;
    if (!algo || !strcmp(algo, "pointsBelow"))
        sc->reason_algo = PRB_POINTS_BELOW;
    else if (!strcmp(algo, "pointsAbove"))
        sc->reason_algo = PRB_POINTS_ABOVE;
    else
        return perr(c, PRB_EINVAL, n, "reasonCodeAlgorithm must be pointsBelow or pointsAbove");
    /* baselineMethod only records how the baselines were chosen. */
    if (method &&
        !in_list(method, (const char *const[]){"max", "min", "mean", "neutral", "other", NULL}))
        return perr(c, PRB_EINVAL, n, "baselineMethod must be max, min, mean, neutral or other");
    return PRB_OK;
}

static int read_scorecard(struct px *c, xmlNode *n)
{
    xmlNode *schema = NULL, *output = NULL, *characs = NULL;
    int rc;

    if ((rc = read_scorecard_attrs(c, n)))
        return rc;
    for (xmlNode *k = next_element(c, n, NULL, &rc); k; k = next_element(c, n, k, &rc)) {
        xmlNode **slot = is(k, "MiningSchema")      ? &schema
                         : is(k, "Output")          ? &output
                         : is(k, "Characteristics") ? &characs
                                                    : NULL;
        if (slot) {
            if (*slot)
                return perr(c, PRB_EINVAL, k, "appears twice");
            *slot = k;
        } else if (is(k, "ModelStats") || is(k, "ModelExplanation") || is(k, "ModelVerification")) {
            continue; /* informational: nothing in them changes a score */
        } else if (is(k, "LocalTransformations")) {
            for (xmlNode *e = k->children; e; e = e->next)
                if (e->type == XML_ELEMENT_NODE)
                    return unsupported(c, e, "derived fields");
        } else if (is(k, "Targets")) {
            return unsupported(c, k, "Targets can rescale the score");
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in Scorecard");
        }
    }
    if (rc)
        return rc;
    if (!schema)
        return perr(c, PRB_EINVAL, n, "a MiningSchema is required");
    if (!characs)
        return perr(c, PRB_EINVAL, n, "Characteristics are required");
    if ((rc = read_schema(c, schema)) || (output && (rc = read_output(c, output))))
        return rc;
    return read_characs(c, characs);
}

static int read_pmml(struct px *c, xmlNode *root)
{
    const char *version;
    xmlNode *dict = NULL, *model = NULL;
    int rc;

    if (!root || !is(root, "PMML"))
        return perr(c, PRB_EINVAL, root, "the document element must be PMML");
    if (root->ns && !in_list((const char *)root->ns->href, pmml_namespaces))
        return perr(c, PRB_EINVAL, root, "namespace '%s' is not PMML 4.1-4.4",
                    (const char *)root->ns->href);
    c->ns = root->ns ? root->ns->href : NULL;
    if ((rc = only_attrs(c, root, (const char *const[]){"version", NULL})))
        return rc;
    version = attr(root, "version");
    if (!in_list(version, pmml_versions))
        return perr(c, PRB_EINVAL, root, "version '%s' is not supported (PMML 4.1-4.4)",
                    version ? version : "(none)");
    for (xmlNode *k = next_element(c, root, NULL, &rc); k; k = next_element(c, root, k, &rc)) {
        if (is(k, "Header") || is(k, "MiningBuildTask"))
            continue; /* who made the model and how: no effect on scores */
        if (is(k, "DataDictionary") || is(k, "Scorecard")) {
            xmlNode **slot = is(k, "Scorecard") ? &model : &dict;
            if (*slot)
                return perr(c, PRB_EINVAL, k, "appears twice (exactly one is accepted)");
            *slot = k;
        } else if (is(k, "TransformationDictionary")) {
            for (xmlNode *e = k->children; e; e = e->next)
                if (e->type == XML_ELEMENT_NODE)
                    return unsupported(c, e, "transformations");
        } else if (in_list((const char *)k->name, model_elements)) {
            return unsupported(c, k, "only Scorecard models are imported");
        } else if (is(k, "Extension")) {
            return unsupported(c, k, "extensions have vendor-defined meaning");
        } else {
            return perr(c, PRB_EINVAL, k, "unknown element in PMML");
        }
    }
    if (rc)
        return rc;
    if (!dict)
        return perr(c, PRB_EINVAL, root, "a DataDictionary is required");
    if (!model)
        return perr(c, PRB_EINVAL, root, "no Scorecard model");
    if ((rc = read_dictionary(c, dict)))
        return rc;
    return read_scorecard(c, model);
}

/* ---------------------------------------------------------------- parser */

/* SAX hook for <!DOCTYPE: a DTD is where entities (XXE, billion laughs)
 * come from, and a PMML file needs none, so parsing stops right there. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    xmlParserCtxt *pc = ctx;
    int *line = pc->_private;
    *line = pc->input ? pc->input->line : 1;
    if (*line < 1)
        *line = 1;
    xmlStopParser(pc);
}

int prb_sc_from_pmml(const char *name, const char *buf, size_t len,
                     int (*feature_kind)(void *ctx, const char *name), void *ctx,
                     prb_scorecard **out, char *err, size_t errlen)
{
    struct px c = {name ? name : "pmml", err, errlen, NULL, feature_kind, ctx, 0, NULL, NULL};
    xmlParserCtxt *pc = NULL;
    xmlDoc *doc = NULL;
    int rc, doctype_line = 0;

    *out = NULL;
    if (errlen)
        err[0] = 0;
    if (!buf || len > PMML_MAX_BYTES) {
        snprintf(err, errlen, "%s: a PMML document of %zu bytes is more than the %u accepted",
                 c.name, len, PMML_MAX_BYTES);
        return PRB_EINVAL;
    }
    /* Idempotent; the first call sets libxml2's tables up. */
    xmlInitParser();
    if (!(pc = xmlNewParserCtxt()) || !(c.sc = calloc(1, sizeof *c.sc)) ||
        !(c.sc->name = strdup(c.name))) {
        rc = PRB_ENOMEM;
        goto done;
    }
    pc->_private = &doctype_line;
    pc->sax->internalSubset = refuse_doctype;
    /* No XML_PARSE_NOENT (entity substitution), DTDLOAD, DTDATTR,
     * DTDVALID or XINCLUDE; no network. Errors go to pc, not stderr. The
     * document is read as UTF-8 whatever it declares: other encodings go
     * through iconv, whose errors libxml2 prints to stderr and which a
     * PMML file does not need. */
    doc = xmlCtxtReadMemory(pc, buf, (int)len, c.name, "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_BIG_LINES | XML_PARSE_IGNORE_ENC);
    if (doctype_line) {
        snprintf(err, errlen,
                 "%s:%d: DOCTYPE: document type declarations are refused (no DTDs or entities "
                 "in PMML)",
                 c.name, doctype_line);
        rc = PRB_EINVAL;
        goto done;
    }
    if (!doc || !pc->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(pc);
        size_t n;
        snprintf(err, errlen, "%s:%d: malformed XML: %s", c.name, e ? e->line : 0,
                 e && e->message ? e->message : "unreadable document");
        /* libxml2's messages end in, and may hold, newlines: one line. */
        n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = 0;
        for (char *p = err; *p; p++)
            if (*p == '\n')
                *p = ' ';
        rc = PRB_EINVAL;
        goto done;
    }
    if ((rc = read_pmml(&c, xmlDocGetRootElement(doc))) == PRB_OK) {
        *out = c.sc;
        c.sc = NULL;
    }
done:
    if (rc == PRB_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", c.name);
    prb_sc_free(c.sc);
    free(c.df);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pc);
    return rc;
}
