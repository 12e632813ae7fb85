/*
 * probity.h - the public API of the probity register engine.
 *
 * A register is a directory holding one LMDB environment and the policy it
 * was created with. Everything the CLI and the server do goes through the
 * functions below; they hold no logic of their own.
 *
 * Conventions (LMDB and SQLite style):
 *  - Handles are opaque. Each is created by one function and released by
 *    exactly one other; the header says which.
 *  - Every function that can fail returns an int: PRB_OK (0) or a PRB_E*
 *    code. The handle it acted on keeps a human message saying what, where
 *    and why (prb_errmsg, prb_policy_errmsg); prb_strerror(rc) is the
 *    generic text of a code.
 *  - Strings passed in are borrowed for the duration of the call unless a
 *    comment says otherwise. Strings returned are owned by the handle they
 *    came from and stay valid until that handle is changed or released.
 *  - Time never comes from the system clock inside the engine: each
 *    register handle has an as-of clock (prb_set_now), initialised from
 *    PROBITY_NOW or, failing that, the system clock when it is opened.
 *  - Dates are days since 1970-01-01 (int32_t), UTC.
 */
#ifndef PROBITY_H
#define PROBITY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PRB_VERSION "0.1.0"

/* Result codes. Keep in step with the table in src/lib/error.c. */
enum prb_rc {
    PRB_OK = 0,
    PRB_EINVAL,    /* a bad argument or malformed input */
    PRB_ENOMEM,    /* out of memory */
    PRB_EIO,       /* a file could not be read or written */
    PRB_ENOTFOUND, /* no such subject, record, register or name */
    PRB_EEXIST,    /* it already exists (register directory, identifier) */
    PRB_EPOLICY,   /* the policy is invalid */
    PRB_EREFUSED,  /* special-category data (DESIGN invariant 1) */
    PRB_EREJECTED, /* an ingest batch had bad records and nothing was written */
    PRB_ESTORE,    /* the LMDB store failed */
    PRB_ECORRUPT,  /* stored data is not what the engine wrote */
    PRB_ECONFLICT, /* identifiers that resolve to different subjects */
    PRB_EFULL,     /* the store's map is full */
    PRB__NCODES
};

/* Generic text and name of a code ("PRB_ENOTFOUND"); never NULL. */
const char *prb_strerror(int rc);
const char *prb_errname(int rc);
/* Process exit status the CLI uses for a code (0 for PRB_OK). */
int prb_exit_status(int rc);

/* ---------------------------------------------------------------- dates */

/* Parses exactly "YYYY-MM-DD" (a real calendar date, years 1900..9999)
 * from s[0..n). Returns PRB_OK or PRB_EINVAL. */
int prb_date_parse(const char *s, size_t n, int32_t *day);
/* Writes "YYYY-MM-DD" and a NUL into out. */
void prb_date_format(int32_t day, char out[11]);

/* ----------------------------------------------------------- identifiers */

/* Identifier schemes. Values are stable: they are stored. */
enum prb_scheme {
    PRB_SCHEME_CN_RID = 1, /* PRC resident id, ISO 7064 MOD 11-2 */
    PRB_SCHEME_CN_USCC,    /* unified social credit code, GB 32100-2015 */
    PRB_SCHEME_LEI,        /* ISO 17442, ISO 7064 MOD 97-10 */
    PRB_SCHEME_DE_TAXID,   /* German tax id, ISO 7064 MOD 11,10 */
    PRB_SCHEME_EXT         /* ext:FURNISHER:KEY, a furnisher's own key */
};

/* Normalises and validates an identifier "SCHEME:VALUE" held in s[0..n).
 * On success writes the canonical form (NUL-terminated) into out, sets
 * *scheme and returns PRB_OK. On failure returns PRB_EINVAL and writes a
 * reason ("cn-rid: check character is 'X', expected '5'") into out.
 * outlen must be at least 2*n + 64 (PRB_IDENT_MAX is always enough for
 * inputs up to PRB_IDENT_MAX / 2 - 32 bytes; longer identifiers are
 * refused). */
#define PRB_IDENT_MAX 512
int prb_ident_normalize(const char *s, size_t n, char *out, size_t outlen, int *scheme);

/* --------------------------------------------------------------- policy */

typedef struct prb_policy prb_policy;

/* Loads and validates a policy file. Like sqlite3_open, *out is set to a
 * handle even when loading fails (unless memory ran out), so the error
 * can be read with prb_policy_errmsg; release it with prb_policy_free.
 * Errors name the file, the JSON path and the reason. Refused classes of
 * data (DESIGN invariant 1) give PRB_EREFUSED. */
int prb_policy_load(const char *path, prb_policy **out);
/* Same, from a buffer; name is used in messages. */
int prb_policy_load_buf(const char *name, const char *buf, size_t len, prb_policy **out);
const char *prb_policy_errmsg(const prb_policy *p);
const char *prb_policy_version(const prb_policy *p);
size_t prb_policy_ncategories(const prb_policy *p);
const char *prb_policy_category_name(const prb_policy *p, size_t i);
void prb_policy_free(prb_policy *p);

/* Checks one name (category, field, feature, purpose, ...) or free text
 * against the refused classes of invariant 1. Returns NULL when it is
 * allowed, otherwise the class it falls in ("health", a static string)
 * and, when term is not NULL, copies the offending term (NUL-terminated,
 * truncated to termlen) into term. */
const char *prb_refused_class(const char *text, char *term, size_t termlen);

/* ------------------------------------------------------------- register */

typedef struct prb_env prb_env;

/* Creates a register in dir (created if absent, must be empty otherwise)
 * with a copy of the policy file. */
int prb_init(const char *dir, const char *policy_path, prb_env **out);
/* Opens an existing register. *out is set even on failure (see
 * prb_errmsg); release with prb_close. */
int prb_open(const char *dir, prb_env **out);
void prb_close(prb_env *env);
/* The message of the last failed call on this handle. */
const char *prb_errmsg(const prb_env *env);
/* The register's policy; owned by env. */
const prb_policy *prb_env_policy(const prb_env *env);

/* The as-of clock, in seconds since the epoch (UTC). Every operation on
 * env takes "now" from here. */
void prb_set_now(prb_env *env, int64_t unix_seconds);
int64_t prb_now(const prb_env *env);
int32_t prb_today(const prb_env *env);
/* The clock a register starts with: PROBITY_NOW if set (PRB_EINVAL if it
 * is malformed), otherwise the system clock. */
int prb_clock(int64_t *unix_seconds);
/* Parses PROBITY_NOW-style text: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ". */
int prb_parse_now(const char *s, int64_t *unix_seconds);

/* ---------------------------------------------------------------- ingest */

typedef struct prb_ingest prb_ingest;

enum prb_format { PRB_FMT_NDJSON = 1, PRB_FMT_CSV = 2 };

typedef struct prb_ingest_opts {
    const char *furnisher; /* if set, every record must be from it */
    int skip_bad;          /* commit the good records of a bad batch */
    int threads;           /* parse threads; 0 = one per core */
} prb_ingest_opts;

typedef struct prb_ingest_stats {
    uint64_t accepted;  /* new records */
    uint64_t unchanged; /* re-sent, identical */
    uint64_t corrected; /* new versions of known (furnisher, ref) */
    uint64_t rejected;  /* bad records */
} prb_ingest_stats;

/* Starts a batch. Nothing is written until prb_ingest_commit, and then
 * in one durable LMDB write transaction. opts may be NULL. */
int prb_ingest_begin(prb_env *env, const prb_ingest_opts *opts, prb_ingest **out);
/* Adds input to the batch. The buffer is borrowed and must stay valid
 * and unchanged until commit or abort. name (borrowed likewise) is what
 * error messages call it. Parsing errors are collected, not returned. */
int prb_ingest_add(prb_ingest *b, const char *name, const char *buf, size_t len, int format);
/* Validates and writes the batch. With bad records and no skip_bad,
 * returns PRB_EREJECTED and writes nothing. stats may be NULL. The
 * handle stays readable (errors, stats) until prb_ingest_free. */
int prb_ingest_commit(prb_ingest *b, prb_ingest_stats *stats);
/* Rejected records, in input order: "FILE:LINE: FIELD: reason". */
size_t prb_ingest_nerrors(const prb_ingest *b);
const char *prb_ingest_error(const prb_ingest *b, size_t i);
/* Releases the batch; abandons it if not committed. */
void prb_ingest_free(prb_ingest *b);

/* ---------------------------------------------------------- subject file */

typedef struct prb_file prb_file;

enum prb_kind { PRB_PERSON = 1, PRB_COMPANY = 2 };
enum prb_status { PRB_ST_OPEN = 1, PRB_ST_SETTLED, PRB_ST_CLOSED };
enum prb_ftype {
    PRB_FT_STRING = 1,
    PRB_FT_ENUM,
    PRB_FT_INTEGER,
    PRB_FT_AMOUNT,  /* minor units; currency from the record's currency */
    PRB_FT_DATE,    /* days since epoch */
    PRB_FT_CURRENCY /* ISO 4217 alphabetic code */
};

typedef struct prb_field_view {
    const char *name;
    int type;        /* enum prb_ftype */
    int64_t num;     /* integer, amount (minor units), date */
    const char *str; /* string, enum, currency (NUL-terminated) */
    int scale;       /* amount: digits after the decimal point */
} prb_field_view;

typedef struct prb_record_view {
    uint64_t id;      /* stable record id */
    uint32_t version; /* 1 for the first version */
    const char *furnisher;
    const char *ref;
    const char *category; /* NULL-safe: "?" if the policy lost it */
    int status;           /* enum prb_status */
    int32_t event_date;
    int32_t settled_date; /* PRB_NO_DATE if none */
    int32_t received;     /* as-of day the version was ingested */
    const char *legal_basis;
    int32_t effective_from; /* event + notice period (adverse) */
    int32_t expires;        /* last day it may be kept */
    int usable;             /* effective and not expired, today */
    size_t nfields;
    const prb_field_view *fields;
} prb_record_view;

#define PRB_NO_DATE INT32_MIN

/* Reads the file of the subject that identifier (any scheme, normalised
 * here) resolves to, as of env's clock. Expired records are left out even
 * before the retention sweep. If *f is not NULL it is reused (saves the
 * allocation); otherwise a new handle is made. Release with prb_file_free.
 * PRB_ENOTFOUND if nobody has that identifier. */
int prb_subject_read(prb_env *env, const char *identifier, prb_file **f);
int prb_file_kind(const prb_file *f);
uint64_t prb_file_subject(const prb_file *f);
size_t prb_file_nidents(const prb_file *f);
const char *prb_file_ident(const prb_file *f, size_t i);
/* Records, current version of each, in id order. */
size_t prb_file_nrecords(const prb_file *f);
const prb_record_view *prb_file_record(const prb_file *f, size_t i);
/* Earlier versions of record i, oldest first. */
size_t prb_file_nversions(const prb_file *f, size_t i);
const prb_record_view *prb_file_version(const prb_file *f, size_t i, size_t v);
/* The whole file as JSON (UTF-8, NUL-terminated), owned by f. */
int prb_file_json(prb_file *f, const char **json);
void prb_file_free(prb_file *f);

/* How many subjects and stored record versions the register holds. */
int prb_count(prb_env *env, uint64_t *subjects, uint64_t *record_versions);

/* ------------------------------------------------------------ scorecards */

/* Imports a PMML 4.x Scorecard from the file at path under name: its
 * fields must be features of the policy, and none may fall in a refused
 * class. The PMML text is stored in the register. PRB_EEXIST if the name
 * is taken by a policy scorecard or an earlier import. */
int prb_scorecard_import(prb_env *env, const char *name, const char *path);
/* Scores one vector of feature values given as a JSON object (a missing
 * key is a missing value) with the policy or imported scorecard name;
 * *json (free() it) gets the score and the ranked reason codes. */
int prb_scorecard_eval(prb_env *env, const char *name, const char *input, char **json);

/* ----------------------------------------------------------------- lists */

/* Recomputes every subject's list entries as of the clock (entries,
 * activation after the hearing, expiry, lifting), in one transaction;
 * new entries and exits create notices. *changed may be NULL. */
int prb_lists_refresh_all(prb_env *env, uint64_t *changed);
/* The policy's lists (or only the one named) with their members and the
 * state and dates of each entry, as JSON owned by the caller (free()). */
int prb_lists_json(prb_env *env, const char *name, char **json);

/* ---------------------------------------------------------------- notices */

/* The outbox: every notice to a subject (adverse records, list entries
 * and exits, adverse decisions), oldest first, as a JSON array (free()
 * *json); pending: only those not yet delivered. */
int prb_notices_json(prb_env *env, int pending, char **json);

/* ------------------------------------------------------------- retention */

/* Deletes every record past its retention (all its versions and every
 * index entry pointing at it) in one transaction. *deleted may be NULL. */
int prb_expire(prb_env *env, uint64_t *deleted);

/* Receives output in chunks; a non-zero return stops the producer. */
typedef int (*prb_write_fn)(void *ctx, const char *buf, size_t len);

/* ------------------------------------------------------------- decisions */

typedef struct prb_decision prb_decision;

enum prb_outcome { PRB_APPROVE = 1, PRB_REFER, PRB_DECLINE };

/* Answers an inquiry: may the subject that identifier names be given what
 * purpose is for? Only the categories the policy allows for the purpose
 * feed the decision (DESIGN invariant 3). The decision is stored as an
 * inquiry in the subject's file (requester, time, purpose, outcome) in one
 * durable write, with a notice to the subject when it is adverse. Release
 * *out with prb_decision_free. PRB_ENOTFOUND: no such subject, or no such
 * purpose; PRB_EINVAL: the purpose does not take inquiries about this kind
 * of subject, or the requester may not ask for it. */
int prb_decide(prb_env *env, const char *purpose, const char *identifier, const char *requester,
               prb_decision **out);
/* The same decision without making it an inquiry: nothing is stored and
 * list entries are read as they stand. For the subject's own copy ("what
 * would a lender be told?") and for what-if checks. For both functions, a
 * handle passed in *out (from an earlier call on the same env) is reused,
 * which saves its allocations and read transaction. */
int prb_evaluate(prb_env *env, const char *purpose, const char *identifier, prb_decision **out);
int prb_decision_outcome(const prb_decision *d);
/* The score, and whether there is one (a purpose without a scorecard, or
 * a scorecard that could not score, has none). */
double prb_decision_score(const prb_decision *d, int *has_score);
/* The decision as JSON (owned by d). */
int prb_decision_json(prb_decision *d, const char **json);
void prb_decision_free(prb_decision *d);

/* Every inquiry about the subject identifier names, oldest first, as a
 * JSON array of the decisions given (free() *json). */
int prb_inquiries_json(prb_env *env, const char *identifier, char **json);

/* Computes the current decision of every subject for purpose, on threads
 * threads (0: one per core), writing one JSON object per line to out in
 * subject order. These are not inquiries: nothing is stored. *n gets the
 * number of subjects scored. */
int prb_score_all(prb_env *env, const char *purpose, int threads, prb_write_fn out, void *ctx,
                  uint64_t *n);

/* --------------------------------------------------- synthetic population */

typedef struct prb_gen_opts {
    uint64_t persons;
    uint64_t companies;
    uint64_t seed;
    int32_t today; /* records are dated before this day */
} prb_gen_opts;

/* Writes NDJSON records for a synthetic population by calling out(ctx,
 * buf, len) with chunks; deterministic for a given opts. Stops and
 * returns the callback's non-zero result if it fails. */
int prb_gen(const prb_gen_opts *opts, prb_write_fn out, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* PROBITY_H */
