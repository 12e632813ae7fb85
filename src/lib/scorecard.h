/*
 * scorecard.h - the one scorecard model of the engine. Policy scorecards
 * (JSON, bins over features) and imported PMML 4.x Scorecard models both
 * compile to it, and one evaluator scores both, so "the imported model
 * gives exactly the same scores and reason codes as the PMML semantics
 * define" and "PMML and JSON scorecards agree" are one code path.
 *
 * The model follows PMML's Scorecard element: an initial score, and
 * characteristics, each a list of attributes tried in order; the first
 * attribute whose predicate is true contributes its partial score. A JSON
 * bin is an attribute whose predicate tests one feature (an interval, a
 * set of values, missing, or anything).
 *
 * Inputs are a vector of values indexed like sc->fields: a number, a
 * string (categorical) or missing.
 */
#ifndef PRB_SCORECARD_H
#define PRB_SCORECARD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Points (partial scores, baselines, the initial score, scores, the
 * thresholds rules compare them with) are held exactly, as whole
 * millionths of a point. A score is a sum, and in binary floating point
 * 500 + 0.2 + 0.2 + 0.2 is 500.59999999999997: below a threshold of
 * 500.6 that the decimal sum equals, and a reason then said "the score
 * 500.6 is below 500.6". Summed and compared in millionths, points are
 * what the policy wrote; a double is made of them only to be printed
 * or scaled to odds. A number with more decimals than that is refused
 * where it is read (prb_sc_points), never rounded unseen. */
typedef int64_t prb_points;
#define PRB_SC_POINTS_DECIMALS 6
#define PRB_SC_POINTS_UNIT 1000000

enum prb_pred_op {
    PRB_P_TRUE = 1,
    PRB_P_FALSE,
    PRB_P_SIMPLE, /* field cmp value */
    PRB_P_SET,    /* field isIn / isNotIn values */
    PRB_P_AND,
    PRB_P_OR,
    PRB_P_XOR,
    PRB_P_SURROGATE /* first child that is not unknown */
};

enum prb_cmp {
    PRB_C_EQ = 1,
    PRB_C_NE,
    PRB_C_LT,
    PRB_C_LE,
    PRB_C_GT,
    PRB_C_GE,
    PRB_C_MISSING,    /* isMissing */
    PRB_C_NOT_MISSING /* isNotMissing */
};

typedef struct prb_pred {
    int op;     /* enum prb_pred_op */
    int field;  /* index into sc->fields (SIMPLE, SET) */
    int cmp;    /* enum prb_cmp (SIMPLE); for SET: PRB_C_EQ = isIn, PRB_C_NE = isNotIn */
    double num; /* SIMPLE: the value when the field is numeric */
    char *str;  /* SIMPLE: the value as text (categorical comparison) */
    size_t nvalues;
    char **values;     /* SET: the values as text */
    double *numvalues; /* SET: the same values as numbers (NAN if not numeric) */
    size_t nchild;
    struct prb_pred *child; /* AND, OR, XOR, SURROGATE */
} prb_pred;

typedef struct prb_attr {
    prb_pred pred;
    prb_points partial_score;
    char *reason_code; /* NULL: use the characteristic's */
    char *reason_text; /* JSON scorecards: text for the subject; may be NULL */
} prb_attr;

typedef struct prb_charac {
    char *name;
    char *reason_code;   /* default for its attributes; may be NULL */
    prb_points baseline; /* baselineScore, or the best bin's (policy scorecards) */
    int has_baseline;
    size_t nattrs;
    prb_attr *attrs;
} prb_charac;

enum prb_reason_algo { PRB_POINTS_BELOW = 1, PRB_POINTS_ABOVE };
enum prb_field_kind { PRB_FIELD_NUMERIC = 1, PRB_FIELD_CATEGORICAL };
/* Or'd into a kind by prb_sc_from_json's feature_kind: the feature always
 * has a value (a policy feature with missing_as), so a bin that takes
 * only a missing value could never apply. */
#define PRB_FIELD_NEVER_MISSING 0x100

/* A PMML MiningField's invalidValueTreatment: what an invalid input (one
 * not of its field's dataType, such as 29.5 for an integer) does. */
enum prb_invalid_treatment {
    PRB_INVALID_RETURN = 1, /* returnInvalid, PMML's default: the score is invalid */
    PRB_INVALID_AS_MISSING, /* scored as a missing value */
    PRB_INVALID_AS_IS       /* scored as given */
};

typedef struct prb_scorecard {
    char *name;
    prb_points initial_score;
    int use_reason_codes;
    int reason_algo;           /* enum prb_reason_algo */
    prb_points baseline_score; /* scorecard-level baselineScore, if has_baseline */
    int has_baseline;
    size_t nfields;
    char **fields;   /* input names: policy feature names */
    int *field_kind; /* enum prb_field_kind */
    /* NULL, or per field: 0 when every number is of its dataType, else
     * (a PMML field of dataType integer) the enum prb_invalid_treatment
     * for a number that is not a whole one. */
    int *field_integer;
    size_t ncharacs;
    prb_charac *characs;
    /* Scaling (optional): score s0 at odds o0, pdo points to double them. */
    int has_scaling;
    double scale_score, scale_odds, scale_pdo;
} prb_scorecard;

/* One input value. */
typedef struct prb_value {
    int present;
    double num;      /* numeric fields */
    const char *str; /* categorical fields (or the number as text) */
} prb_value;

#define PRB_MAX_REASONS 4

/* The longest reason code; codes are short identifiers such as "D01". */
#define PRB_REASON_CODE_MAX 32

/* The largest magnitude a partial score, baseline, initial score or score
 * threshold may have, in points. Bounded so that no sum or difference of
 * at most 65 of them can overflow prb_points (an overflowed sum is
 * undefined, and a wrapped one decides the wrong way), with room for
 * PRB_SC_POINTS_DECIMALS: 65 * 2 * 1e15 millionths is far below 2^63. */
#define PRB_SC_POINTS_MAX 1e9
#define PRB_SC_POINTS_MAX_UNITS ((prb_points)1000000000 * PRB_SC_POINTS_UNIT)

/* Room for any prb_points as text (prb_sc_points_str). */
#define PRB_SC_POINTS_STR 32

/* v as points into *out. Returns 0; -1 when v is not finite or beyond
 * PRB_SC_POINTS_MAX; -2 when it has more than PRB_SC_POINTS_DECIMALS
 * decimals (the double v is not the one the decimal of whole millionths
 * nearest it reads as). Every decimal of at most that many decimals
 * within the bound is taken exactly, however it was written ("0.2",
 * "2e-1"). */
int prb_sc_points(double v, prb_points *out);

/* The double nearest p: what a JSON reader makes of p's text. */
double prb_sc_points_real(prb_points p);

/* p as its exact decimal, without trailing zeros or a '.' when whole:
 * "520", "500.6", "-0.000001". Returns buf (PRB_SC_POINTS_STR bytes). */
char *prb_sc_points_str(prb_points p, char *buf);

typedef struct prb_reason {
    const char *code;       /* owned by the scorecard */
    const char *text;       /* owned by the scorecard; may be NULL */
    const char *feature;    /* the characteristic's (first) field */
    prb_points points_lost; /* baseline - partial (pointsBelow) or the reverse */
} prb_reason;

typedef struct prb_score {
    prb_points score;
    size_t nreasons; /* ranked, at most PRB_MAX_REASONS */
    prb_reason reasons[PRB_MAX_REASONS];
    /* Per characteristic: the attribute that applied (index), for audit. */
    size_t ncharacs;
    int applied[64];
    /* When the score is invalid because no attribute of a characteristic
     * matched: that characteristic's feature, else its name (owned by the
     * scorecard), so an outcome made for want of a score can say what
     * could not be scored. NULL otherwise. */
    const char *unscored;
} prb_score;

/* Evaluates sc on vals (sc->nfields entries). Returns 0, or PRB_EINVAL
 * with a message in err when no attribute of a characteristic matches
 * (PMML: the score is then invalid; out->unscored names it), when a
 * value is invalid for its field and the field's treatment is
 * returnInvalid, or when a hand-built model holds points beyond
 * PRB_SC_POINTS_MAX. */
int prb_sc_eval(const prb_scorecard *sc, const prb_value *vals, prb_score *out, char *err,
                size_t errlen);

/* Compiles a policy scorecard (the JSON shape in docs/POLICY.md) whose
 * features are resolved by the caller: feature_kind(name) returns
 * PRB_FIELD_NUMERIC or PRB_FIELD_CATEGORICAL, with PRB_FIELD_NEVER_MISSING
 * or'd in when the feature always has a value, or 0 for an unknown name.
 * A bin no value can reach (after "otherwise", "missing" on a feature
 * never missing or after another "missing", values or an interval the
 * bins before it take) is refused: a characteristic's best bin is the
 * baseline of its reasons, and one no subject can get would make every
 * subject lose points to it; but kept (a register's policy in force,
 * adopted when such bins loaded) keeps them, outside the baseline, and
 * names the first in err ("PATH: a bin ... that can never apply: ...")
 * though it returns 0. path is the JSON path used in messages
 * ("$.scorecards.person_credit"). Returns 0 or PRB_EPOLICY with "PATH:
 * reason" in err. */
int prb_sc_from_json(const char *name, json_t *def, const char *path,
                     int (*feature_kind)(void *ctx, const char *name), void *ctx, int kept,
                     prb_scorecard **out, char *err, size_t errlen);

/* Reads a PMML 4.x document holding one Scorecard model. Field names must
 * be accepted by feature_kind (as above) when it is not NULL. Unsupported
 * constructs are errors naming the element and line. Returns 0, PRB_EINVAL
 * (bad or unsupported PMML), PRB_EREFUSED (a field in a refused class) or
 * PRB_EIO. */
int prb_sc_from_pmml(const char *name, const char *buf, size_t len,
                     int (*feature_kind)(void *ctx, const char *name), void *ctx,
                     prb_scorecard **out, char *err, size_t errlen);

/* Odds and probability of a score under the scorecard's scaling; returns
 * -1 when it has none. */
int prb_sc_odds(const prb_scorecard *sc, double score, double *odds);

/* Whether s is a reason code: 1-PRB_REASON_CODE_MAX letters, digits,
 * '_', '-' or '.'. JSON and PMML scorecards take only such codes, so
 * every writer of decisions can put them out as they are. */
int prb_sc_reason_code_ok(const char *s);

void prb_sc_free(prb_scorecard *sc);

#endif
