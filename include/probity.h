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
 *    PROBITY_NOW or, failing that, the system clock when it is opened;
 *    an as-of view (prb_set_as_of) moves it but not the clock the audit
 *    log is dated by.
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
    PRB_EBUSY,     /* in use by another process */
    PRB_EREVOKED,  /* the key a call is made for is no longer live (prb_set_caller) */
    PRB__NCODES
};

/* Generic text and name of a code ("PRB_ENOTFOUND"); never NULL. */
const char *prb_strerror(int rc);
const char *prb_errname(int rc);
/* Process exit status the CLI uses for a code (0 for PRB_OK). */
int prb_exit_status(int rc);
/* HTTP status the server answers a code with (200 for PRB_OK). */
int prb_http_status(int rc);

/* ---------------------------------------------------------------- dates */

/* Parses exactly "YYYY-MM-DD" (a real calendar date, years 1900..9999)
 * from s[0..n). Returns PRB_OK or PRB_EINVAL. */
int prb_date_parse(const char *s, size_t n, int32_t *day);
/* Writes "YYYY-MM-DD" and a NUL into out. */
void prb_date_format(int32_t day, char out[11]);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (UTC) and a NUL into out. */
void prb_time_format(int64_t unix_seconds, char out[21]);

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
/* The default policy (policy/default.json of the source tree) built into
 * the library: static, NUL-terminated text, its length in *len when len
 * is not NULL. The name its messages use is PRB_DEFAULT_POLICY_NAME. */
const char *prb_default_policy(size_t *len);
#define PRB_DEFAULT_POLICY_NAME "the built-in default policy"
/* Loads the built-in default policy, as prb_policy_load loads a file. */
int prb_policy_load_default(prb_policy **out);
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
 * with a copy of the policy file; policy_path NULL takes the built-in
 * default policy (prb_default_policy). What the engine creates, here and
 * later (the directory, its files, the index, a spool), only the owner
 * may read or write (directories 0700, files 0600, whatever the umask
 * allows beyond); a directory that exists already keeps its mode. */
int prb_init(const char *dir, const char *policy_path, prb_env **out);
/* Opens an existing register. *out is set even on failure (see
 * prb_errmsg); release with prb_close. Frees the reader slots that
 * processes killed in a read transaction left (so does prb_expire). The
 * handle's map is at least twice what the register uses, so that it has
 * room to write in whatever size it asked for. */
int prb_open(const char *dir, prb_env **out);
void prb_close(prb_env *env);
/* The message of the last failed call on this handle. */
const char *prb_errmsg(const prb_env *env);
/* The register's policy; owned by env. */
const prb_policy *prb_env_policy(const prb_env *env);
/* Another handle on the register env has open, for another thread (the
 * server makes one per worker): it shares env's LMDB environment and
 * policy and has its own message buffer, as-of clock (env's, copied) and
 * write state, so threads never read each other's messages. A handle is
 * used by one thread at a time; different handles of one register may
 * be used at once (LMDB serialises their writes). Release it with
 * prb_close before env, which must outlive it. PRB_ENOMEM only. */
int prb_env_dup(prb_env *env, prb_env **out);
/* With fixed set, a write that finds env's map full fails with PRB_EFULL
 * instead of growing the map: for a handle whose process may have other
 * transactions open on the register at that moment (a server's threads),
 * since LMDB may grow a map only when the process has none. Growing is
 * then the caller's to arrange: clear it once no other thread of the
 * process is in the register, and try again. Handles made with
 * prb_env_dup take env's setting; a new handle grows its map. */
void prb_set_fixed_map(prb_env *env, int fixed);

/* The as-of clock, in seconds since the epoch (UTC). Every operation on
 * env takes "now" from here. */
void prb_set_now(prb_env *env, int64_t unix_seconds);
/* A view as of another time (the command line's --as-of): the as-of clock
 * moves, and everything computed and written is as of it, but the audit
 * log's leaves and the notice of a staff read keep the clock the handle
 * had (the start's, or prb_set_now's): a what-if run on another day is
 * logged, and a read told, when it happened. Until 2026-11-27 one
 * `probity subject --as-of 2030-01-01` dated its read 2030 and, leaf
 * times never going back, every later leaf and signed head too. */
void prb_set_as_of(prb_env *env, int64_t unix_seconds);
int64_t prb_now(const prb_env *env);
int32_t prb_today(const prb_env *env);
/* The clock a register starts with: PROBITY_NOW if set (PRB_EINVAL if it
 * is malformed), otherwise the system clock. */
int prb_clock(int64_t *unix_seconds);
/* The PROBITY_NOW the clock is pinned to, or NULL when it is unset or
 * empty (then the system clock runs). */
const char *prb_clock_pinned(void);
/* Parses PROBITY_NOW-style text: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ". */
int prb_parse_now(const char *s, int64_t *unix_seconds);

/* ---------------------------------------------------------------- ingest */

typedef struct prb_ingest prb_ingest;

enum prb_format { PRB_FMT_NDJSON = 1, PRB_FMT_CSV = 2 };

typedef struct prb_ingest_opts {
    const char *furnisher; /* if set, every record must be from it */
    int skip_bad;          /* commit the good records of a bad batch */
    int threads;           /* parse threads; 0 = one per core */
    size_t max_errors;     /* rejections kept as messages; 0 = all */
} prb_ingest_opts;

/* What a batch did, a line at a time. Within a batch the last good line
 * of a (furnisher, ref) counts: it is compared with what the register
 * held when the batch began and counted accepted, unchanged or corrected
 * (one version at most), and each good line of that ref before it is
 * counted superseded. So a batch sent again changes nothing. */
typedef struct prb_ingest_stats {
    uint64_t accepted;   /* new records */
    uint64_t unchanged;  /* re-sent, identical */
    uint64_t corrected;  /* new versions of known (furnisher, ref) */
    uint64_t rejected;   /* bad records, all of them (not only those kept) */
    uint64_t superseded; /* lines a later line of their (furnisher, ref) replaced */
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
 * handle stays readable (errors, stats) until prb_ingest_free. A
 * correction that answers the subject's open dispute is told, in the
 * batch's transaction, to the requesters of decisions that used the
 * record (kind inquirer_corrected, PRB_RECIPIENT_DAYS; an update of a
 * record no one disputed tells no one); PRB_ECORRUPT if one of those
 * decisions cannot be read. */
int prb_ingest_commit(prb_ingest *b, prb_ingest_stats *stats);
/* Rejected records, in input order: "FILE:LINE: FIELD: reason"; the
 * first opts.max_errors of them if that is set (a batch of millions of
 * bad lines would otherwise keep a message each). */
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
    int32_t effective_from; /* first known: the later of event and first
                               receipt, + notice period if adverse */
    int32_t expires;        /* first day it is gone: kept and used only before it
                               (PRB_NO_DATE if the policy lost its category) */
    int usable;             /* effective, not expired and not disputed, today */
    int disputed;           /* under an open dispute: used by nothing until resolved */
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
/* How many records the register holds: one per (furnisher, ref), however
 * many corrections it has (prb_count counts each version). Records past
 * their retention count until they are deleted; GET /v1/stats counts
 * them apart. Without a walk: the index by (furnisher, ref) has an entry
 * for each record and loses it when the record is deleted. */
int prb_count_records(prb_env *env, uint64_t *records);
/* How many inquiries and notices the indexes by subject beside the
 * register do not hold yet. Each commit indexes its own, so both are 0
 * but for a moment; more means indexing has failed (its map full, no
 * room on its filesystem, a disk error) and every reader is reading the
 * unindexed tail of the log or the outbox instead. */
int prb_index_lag(prb_env *env, uint64_t *inquiries, uint64_t *notices);
/* Where those indexes live. They are derived from the register and made
 * again from it whenever they cannot be trusted, so they may live where
 * the kernel never writes them to disk: a server under load otherwise
 * sees its commits' flushes queue behind the write-back of the index's
 * scattered pages (docs/DESIGN.md). dir NULL puts them beside the
 * register (DIR/index.mdb, the default); an absolute directory, such as
 * the tmpfs /dev/shm, puts them in a directory of this register's own
 * under it (DIR/index.place records the choice for every process that
 * opens the register). After a restart of the machine a tmpfs is empty
 * and the first open makes the indexes again from the log, which takes
 * time in proportion to the inquiries held. The old indexes are removed
 * and the new ones made before this returns. Placing under dir (again,
 * too) also removes from it the indexes that registers deleted without
 * being moved back beside left behind (nothing holding them open). env
 * must be a handle from prb_open or prb_init, and no other process may
 * have the register open (PRB_EBUSY); a bad dir (PRB_EINVAL) changes
 * nothing. If the new place cannot hold the indexes, the register goes
 * back to the old place, where they are made again, and the error is
 * returned; only if that fails too is env fit only for prb_close (the
 * next open tries again). */
int prb_index_place(prb_env *env, const char *dir);
/* The directory the indexes' files are in, owned by env; NULL for a
 * handle from prb_env_dup. */
const char *prb_index_dir(const prb_env *env);

/* ------------------------------------------------------------ scorecards */

/* Imports a PMML 4.x Scorecard from the file at path under name: its
 * fields must be features of the policy, and none may fall in a refused
 * class. The PMML text is stored in the register. PRB_EEXIST if the name
 * is taken by a policy scorecard or an earlier import. */
int prb_scorecard_import(prb_env *env, const char *name, const char *path);
/* Scores one vector of feature values given as a JSON object (a missing
 * key is a missing value) with the policy or imported scorecard name;
 * *json (free() it) gets the score and the ranked reason codes.
 * PRB_ENOTFOUND: no scorecard has the name; PRB_EEXIST: both the policy
 * and an import have it (a policy edited after the import), and which
 * was meant cannot be told. */
int prb_scorecard_eval(prb_env *env, const char *name, const char *input, char **json);

/* ----------------------------------------------------------------- lists */

/* Recomputes every subject's list entries as of the clock (entries,
 * activation after the hearing, expiry, lifting); new entries and exits
 * create notices. The subjects whose entries change are found on
 * snapshots, without the write lock, then changed a few hundred a write
 * transaction, each recomputed on what that transaction holds, so the
 * writers of a server wait for the changes only. A caller may stop it
 * (prb_set_cancel): before any change once the scan is asked, else between
 * transactions; the next refresh does the rest. *changed (may be NULL)
 * gets the number of notices sent, one per entry changed. */
int prb_lists_refresh_all(prb_env *env, uint64_t *changed);
/* The policy's lists (or only the one named) with their members and the
 * state and dates of each entry, as JSON owned by the caller (free()). */
int prb_lists_json(prb_env *env, const char *name, char **json);

/* ---------------------------------------------------------------- notices */

/* The outbox: every notice to a subject (adverse records, list entries
 * and exits, adverse decisions, ...), oldest first, as a JSON array
 * (free() *json); pending: only those not yet delivered. A notice about
 * a subject to someone else, an inquirer told that a decision it was
 * given no longer stands (kind inquirer_overturned) or used a
 * record since corrected or deleted (inquirer_corrected,
 * inquirer_deleted), names that inquirer in "recipient"; the subject's
 * own have none. */
int prb_notices_json(prb_env *env, int pending, char **json);
/* The notices to inquirers, as an inquirer may be shown its own: those
 * whose "recipient" is recipient (NULL: every one with a recipient;
 * the subjects' own, which have none, never), oldest first, a page at a
 * time as prb_disputes_page (after and *next are notice numbers; *next
 * may be NULL). pending: only those not yet delivered. *json (free() it)
 * gets a JSON array of objects with what the notice says and no more:
 * notice (its number), identifier (the subject's, as the decision was
 * asked about), kind, recipient, about, text, created, delivered, and
 * delivered_at once delivered; not the internal subject number nor the
 * channels' attempts and errors (prb_notices_json has those). A page
 * with a limit reads at most 10,000 notices of the outbox, so it may
 * hold fewer than limit, even none, with *next set: page on until it is
 * 0. Errors: PRB_EINVAL (an empty recipient), PRB_ESTORE, PRB_ENOMEM. */
int prb_notices_to_page(prb_env *env, const char *recipient, int pending, uint64_t after,
                        size_t limit, char **json, uint64_t *next);

/* How far back the inquirers given decisions about a subject are told
 * that a record those decisions used was corrected or
 * deleted (kinds inquirer_corrected, inquirer_deleted): decisions made
 * at most this many days before (FCRA 611(d): six months). */
#define PRB_RECIPIENT_DAYS 183

typedef struct prb_deliver_stats {
    uint64_t delivered; /* notices every channel has now accepted, marked delivered */
    uint64_t pending;   /* notices some channel has still to accept (or unreadable) */
    uint64_t attempts;  /* hand-overs tried: spool writes, HTTP requests */
    uint64_t later;     /* not tried by this run: made after it began, or left by a
                           stop (prb_set_cancel) or its time budget */
} prb_deliver_stats;

/* Delivers every pending notice through every channel of the policy's
 * "notices" section (docs/POLICY.md): a spool directory gets one JSON
 * file per notice, written atomically; a webhook gets an HTTP POST with
 * its number and a hash of its body as Idempotency-Key, retried with exponential backoff
 * and accepted only on a 2xx. A notice is marked delivered (with the
 * as-of time) once every channel has accepted it; a channel that has is
 * not sent it again. Each channel's attempts and last error are kept in
 * the notice (prb_notices_json shows them). At least once: a notice is
 * handed over first and marked afterwards, so a crash between the two
 * hands it over again on the next call. This call sleeps between retries
 * and takes as long as the channels do; no transaction is held open
 * meanwhile. A notice a channel refused is not an error: it stays
 * pending and is counted in st->pending (st may be NULL). Errors:
 * PRB_ESTORE, PRB_EFULL (the store), PRB_ENOMEM. */
int prb_notices_deliver(prb_env *env, prb_deliver_stats *st);
/* The same, starting no new hand-over once budget_ms have passed (0: no
 * limit); the rest is left for the next call and counted in st->later. A
 * run ends at the last notice that was made before it began, and a stop
 * (prb_set_cancel) cuts short a webhook's request in flight. */
int prb_notices_deliver_within(prb_env *env, uint64_t budget_ms, prb_deliver_stats *st);

/* Lets a caller stop long operations on env early (a server shutting
 * down): notice delivery asks fn(ctx) before each notice and while it
 * waits to retry one, and once fn returns non-zero it marks what it has
 * handed over and returns PRB_OK, the rest still pending (and not
 * counted in st). prb_lists_refresh_all and prb_expire ask too and stop
 * between their transactions, returning PRB_OK. fn NULL: never stop. Not
 * carried to prb_env_dup. */
typedef int (*prb_cancel_fn)(void *ctx);
void prb_set_cancel(prb_env *env, prb_cancel_fn fn, void *ctx);
/* Notice delivery opens short transactions of its own between its waits
 * on receivers: fn(ctx, 1) is called before each begins and fn(ctx, 0)
 * after it ends, and none is open while a notice is handed over. A server
 * holds its lock against the growth of the map there (prb_set_fixed_map:
 * LMDB grows a map only while no transaction of the process is open)
 * without holding it through the waits. fn NULL: none. Not carried to
 * prb_env_dup. */
typedef void (*prb_guard_fn)(void *ctx, int enter);
void prb_set_guard(prb_env *env, prb_guard_fn fn, void *ctx);

/* ------------------------------------------------------------- retention */

/* The sweep: first every open dispute past its deadline is resolved in
 * the subject's favour (outcome deleted, resolved by "deadline": the
 * record is deleted and the subject told), then every record past its
 * retention is deleted (all its versions and every index entry pointing
 * at it; the subject of an adverse one gets a notice,
 * retention_deletion), and the list entries of every subject that lost a
 * record are recomputed. The disputes and the records are each found on
 * a snapshot, without the write lock, then resolved at most 512 and
 * deleted at most 1,024 a write transaction (a subject's in one), each
 * checked again in it. A dispute left by a failure or a stop
 * (prb_set_cancel) has resolved in the subject's favour already, and a
 * record left is past retention, so neither is used, and the next sweep
 * finishes them. A failure among the disputes does not keep the records
 * past retention from being deleted: its error is returned after them.
 * A dispute damaged behind the engine's back is passed over (prb_verify
 * names it), and its record deleted when past retention. A transaction
 * that fails is tried again a subject a transaction; a subject that
 * fails again is left to the next sweep, the others go on, and the
 * first error is returned at the end.
 * *deleted (may be NULL) gets the number of records deleted for
 * retention, *disputed (may be NULL) the number of disputes resolved
 * past their deadline, each deleting its record; see prb_disputes_json
 * for the disputes. Both count what was done before a failure too. It
 * first frees the reader slots of processes killed in a read
 * transaction, whose old snapshots would keep the pages freed since from
 * being used again. */
int prb_expire(prb_env *env, uint64_t *deleted, uint64_t *disputed);

/* Receives output in chunks; a non-zero return stops the producer. */
typedef int (*prb_write_fn)(void *ctx, const char *buf, size_t len);

/* ------------------------------------------------------------- decisions */

typedef struct prb_decision prb_decision;

enum prb_outcome { PRB_APPROVE = 1, PRB_REFER, PRB_DECLINE };

/* Answers an inquiry: may the subject that identifier names be given what
 * purpose is for? Only the categories the policy allows for the purpose
 * feed the decision (DESIGN invariant 3). The decision is stored as an
 * inquiry in the subject's file (requester, time, purpose, outcome) in one
 * durable write, with a notice to the subject when it is adverse. Its
 * "lists" names only the list entries that applied (in effect, on the
 * purpose's lists); one in its hearing or ended is the subject's to see in
 * their copy, not the inquirer's. Release *out with prb_decision_free.
 * PRB_ENOTFOUND: no such purpose, or no subject of a kind the purpose
 * takes (one of another kind is answered in the same words as one not
 * there, so that the answer does not say which identifiers are persons in
 * the register); PRB_EINVAL: the requester may not ask for the purpose, or
 * is not NULL (no requester: a library caller's inquiry, which no notice
 * tells of) and not what a key's name may be, 1 to 64 printable ASCII
 * characters without spaces, commas, quotes or backslashes (the server
 * asks under its keys' names; the subject's notices and letter name the
 * requester). */
int prb_decide(prb_env *env, const char *purpose, const char *identifier, const char *requester,
               prb_decision **out);
/* The same decision without making it an inquiry: nothing is stored,
 * and list entries are seen as the refresh prb_decide makes first would
 * leave them (one whose records have expired or are disputed has ended),
 * without writing it. For the subject's own copy ("what would a lender be
 * told?") and for what-if checks. For both functions, a handle passed in
 * *out (from an earlier call on the same env) is reused, which saves its
 * allocations and read transaction. */
int prb_evaluate(prb_env *env, const char *purpose, const char *identifier, prb_decision **out);
int prb_decision_outcome(const prb_decision *d);
/* The score, and whether there is one (a purpose without a scorecard, or
 * a scorecard that could not score, has none). */
double prb_decision_score(const prb_decision *d, int *has_score);
/* The decision as JSON (owned by d), indented for people to read. */
int prb_decision_json(prb_decision *d, const char **json);
/* The same without white space: the form an inquiry stores and the
 * server answers with (owned by d). */
int prb_decision_json_compact(prb_decision *d, const char **json);
void prb_decision_free(prb_decision *d);
/* Readies d to be kept for reuse (the server keeps up to 256 spare
 * handles): the decision it holds is let go, and so is every buffer it
 * grew past 1 MiB for a large subject (a file of 100,000 record versions
 * took some 60 MB, kept until the process ended); smaller ones stay, for
 * the next call. d may then only be passed to prb_decide, prb_evaluate,
 * prb_decide_prepare or prb_decision_free. */
void prb_decision_trim(prb_decision *d);

/* Every inquiry about the subject identifier names, oldest first, as a
 * JSON array of the decisions given (free() *json). */
int prb_inquiries_json(prb_env *env, const char *identifier, char **json);

/* Computes the current decision of every subject for purpose, on threads
 * threads (0: one per core), writing one JSON object per line to out in
 * subject order. These are not inquiries: nothing is stored, and list
 * entries are seen as prb_evaluate sees them. *n gets the number of
 * subjects scored. */
int prb_score_all(prb_env *env, const char *purpose, int threads, prb_write_fn out, void *ctx,
                  uint64_t *n);

/* -------------------------------------------------------------- disputes */

/* A subject disputes one of its records (DESIGN invariant 5). Until the
 * dispute is resolved the record is used by nothing: the subject's file
 * shows it with disputed set and usable clear, and features, scores,
 * lists and decisions leave it out. A dispute's id is a 64-bit number,
 * written in decimal outside the engine. Its JSON has id, subject (the
 * identifier it was opened with), record, furnisher (the record's;
 * absent from disputes opened before it was kept), reason, state ("open",
 * "upheld", "corrected", "deleted"), opened, deadline, resolved (a date
 * or null), note (or null), resolved_by ("reviewer", "furnisher",
 * "correction": a corrected version arrived at ingest, "deadline": the
 * sweep resolved it, "retention": the record reached the end of its
 * retention and the sweep deleted it, which closes its dispute as
 * deleted; null while open) and resolver (who resolved it, see
 * prb_dispute_resolve; null while open, and absent from disputes
 * resolved before it was kept). Every change is one durable
 * transaction with its audit leaf, a notice to the subject
 * (dispute_opened, dispute_outcome) and the subject's list entries
 * recomputed; a deletion (not one for retention) is also told to the
 * requesters of decisions that used the record (kind
 * inquirer_deleted, PRB_RECIPIENT_DAYS). On any error nothing is
 * written. Where *json is returned it is the caller's (free()); json
 * may be NULL to skip it. */

/* Opens a dispute of record (its id as the subject's file shows it,
 * "12-3") of the subject identifier names, with the subject's reason
 * (required; at most 2000 bytes of UTF-8 text, no control characters but
 * newline and tab). The deadline is the as-of day plus the policy's
 * dispute_deadline_days. PRB_EINVAL: a malformed identifier or record id,
 * or a bad reason; PRB_ENOTFOUND: no such subject, or the subject has no
 * such record (deleted or expired ones included); PRB_EEXIST: the record
 * already has an open dispute. */
int prb_dispute_open(prb_env *env, const char *identifier, const char *record, const char *reason,
                     char **json);
/* Resolves the open dispute id. outcome: "upheld" (the record stands and
 * is used again) or "deleted" (the record is deleted: every version and
 * its index entry); "corrected" is refused (PRB_EINVAL): a dispute is
 * resolved as corrected only by the ingest of the furnisher's corrected
 * version, which changes the record. note is
 * optional (NULL or ""; limits as for a reason). resolved_by is
 * "reviewer" (NULL means that) or "furnisher". resolver names who
 * resolved it (the server gives its key's name), so that the dispute
 * says who, not only in which role; NULL or "" for none (limits as for a
 * reason). The dispute's resolver field holds it, and is null when the
 * engine resolved it (correction, deadline, retention). PRB_EINVAL: a
 * bad outcome, note, resolved_by or resolver; PRB_ENOTFOUND: no such
 * dispute; PRB_EEXIST: it was resolved already. */
int prb_dispute_resolve(prb_env *env, uint64_t id, const char *outcome, const char *note,
                        const char *resolved_by, const char *resolver, char **json);
/* Every dispute (open_only: those still open), in id order (by subject),
 * as a JSON array (free() *json). */
int prb_disputes_json(prb_env *env, int open_only, char **json);
/* The same a page at a time: the disputes past the one numbered after
 * (0: from the first), at most limit of them (0: all). *next (may be
 * NULL) gets the id to pass as after for the next page, or 0 when there
 * are no more. Pages neither repeat nor skip a dispute that is there all
 * along; one opened meanwhile falls on a page already read if its
 * subject's number is lower than after. A page of open ones (open_only,
 * with a limit) reads at most 10,000 disputes of the register, so it may
 * hold fewer than limit, even none, with *next set: page on until it is
 * 0. */
int prb_disputes_page(prb_env *env, int open_only, uint64_t after, size_t limit, char **json,
                      uint64_t *next);

/* ---------------------------------------------------------- human review */

/* A subject asks that a person review a stored decision (DESIGN invariant
 * 9). decision is its id as the decision JSON gives it ("12-q3"); reason
 * is required. The review is stored as requested, logged, and a notice
 * (review_requested) goes to the subject, in one durable transaction. Its
 * id is "SUBJECT-rNUMBER" ("12-r1"). *json (free() it; may be NULL to
 * skip) gets the review: id, decision, subject, purpose, requester,
 * original_outcome, reason, state, requested, decided, reviewer, note.
 * PRB_EINVAL: a malformed id, no reason, a decision that approved (a
 * review is of a decline or a referral) or a subject with no review
 * numbers left; PRB_ENOTFOUND: no such decision; PRB_EEXIST: the
 * decision has a review, pending or decided (a decision is reviewed
 * once). */
int prb_review_request(prb_env *env, const char *decision, const char *reason, char **json);
/* A reviewer decides a pending review: outcome is "upheld" (the decision
 * stands) or "overturned"; reviewer and note are required. Stores the
 * outcome with the as-of date and sends the subject a notice
 * (review_outcome). An overturn is also told, in the same transaction,
 * to the inquirer that was given the decision (GDPR art. 19): a notice
 * of kind inquirer_overturned whose "recipient" is the decision's
 * requester, naming the decision, its day and purpose, the review and
 * its day (not the reason or the note); a decision with no requester
 * tells no one. PRB_EINVAL: bad outcome, id, reviewer or note;
 * PRB_ENOTFOUND: no such review; PRB_EEXIST: it was decided already;
 * PRB_ECORRUPT: the decision cannot be read. On any error nothing is
 * written. */
int prb_review_decide(prb_env *env, const char *review, const char *outcome, const char *reviewer,
                      const char *note, char **json);
/* Every review (pending_only: those still requested), in id order (by
 * subject), as a JSON array; free() *json. */
int prb_reviews_json(prb_env *env, int pending_only, char **json);
/* The same a page at a time, as prb_disputes_page: after and *next are
 * the engine's numbers of reviews (not their "12-r1" names). A page of
 * pending ones (pending_only, with a limit) reads at most 10,000 reviews
 * of the register, so it may hold fewer than limit, even none, with
 * *next set: page on until it is 0. */
int prb_reviews_page(prb_env *env, int pending_only, uint64_t after, size_t limit, char **json,
                     uint64_t *next);

/* ------------------------------------------------------- subject's copy */

/* The letter's steps are command lines (PRB_COPY_TEXT) or, for a letter
 * served over HTTP, requests to the server's API (PRB_COPY_TEXT_HTTP). */
enum prb_copy_format { PRB_COPY_JSON = 1, PRB_COPY_TEXT = 2, PRB_COPY_TEXT_HTTP = 3 };

/* Everything the register holds about the subject identifier names, as
 * of env's clock, read from one snapshot (DESIGN invariant 8): kind and
 * identifiers, every record with its versions (the prb_file_json shape),
 * list entries with states and dates, every inquiry, notices, disputes,
 * reviews, and the decision every purpose that takes inquiries about the
 * subject's kind would give now, with reasons (computed as prb_evaluate
 * does; nothing is stored). PRB_COPY_JSON gives one JSON document;
 * PRB_COPY_TEXT a plain-language letter to the subject ending with what
 * they can do. *out is the caller's (free()). PRB_ENOTFOUND if nobody has
 * that identifier; PRB_EINVAL for a malformed identifier or format. */
int prb_subject_copy(prb_env *env, const char *identifier, int format, char **out);
/* A member of staff's read of the copy: as prb_subject_copy, but the
 * subject is told first (invariants 7 and 8): a notice, kind
 * "file_read", about reader, saying who read the whole file, in which
 * role and on which day, written with its audit leaf and committed
 * before the copy is gathered, so the copy shows it. reader is a key's
 * name or the operator's account; role PRB_ROLE_REVIEWER,
 * PRB_ROLE_ADMIN, or 0 for the operator at the command line. A notice,
 * not an inquiry: no feature counts it. PRB_EINVAL: no reader, or
 * another role; otherwise as prb_subject_copy, or a failed write. */
int prb_subject_copy_read(prb_env *env, const char *identifier, int format, const char *reader,
                          int role, char **out);

/* ------------------------------------------------------------- audit log */

/* Every write and every inquiry appends a leaf to the register's audit
 * log, a Merkle tree as RFC 9162 defines it (SHA-256), whose heads are
 * signed with the register's Ed25519 key (made by prb_init). Sizes and
 * indices count leaves; a size of 0 means the log's current size. The
 * JSON strings returned are the caller's to free(). */

/* The signed head of the log as it stands now, signed with the time of
 * its last leaf (env's clock only for an empty log): a quiet log gives
 * the same head until its next write. */
int prb_audit_head(prb_env *env, char **json);
/* The register's public key, base64 (44 characters and a NUL). */
int prb_audit_public_key(prb_env *env, char out[64]);
/* An inclusion proof of leaf in the tree of size, with the leaf, what it
 * logs, and the signed head of that tree. PRB_EINVAL if leaf >= size or
 * the log is smaller than size. */
int prb_audit_prove(prb_env *env, uint64_t leaf, uint64_t size, char **json);
/* The same proof with the leaf's hash only, not the leaf or what it logs:
 * for anyone to ask. A leaf names a subject's number, what was done about
 * it and when, and for an identifier linked the unsalted hash of the
 * identifier itself: walking the leaves, anyone who knew a person's
 * identifier could find their number and then every inquiry, list entry
 * and dispute about them. Whoever holds a value can make its leaf and
 * check it against the hash. */
int prb_audit_prove_hash(prb_env *env, uint64_t leaf, uint64_t size, char **json);
/* The bare audit path of the same proof (up to 128 hashes); *len gets
 * how many. For callers that want hashes, not JSON. */
int prb_audit_path(prb_env *env, uint64_t leaf, uint64_t size, unsigned char (*path)[32],
                   size_t *len);
/* A consistency proof that the tree of size to extends the tree of size
 * from, with both signed heads. */
int prb_audit_consistency(prb_env *env, uint64_t from, uint64_t to, char **json);
/* Checks a proof made by prb_audit_prove or prb_audit_consistency offline,
 * with only the register's public key (base64): the heads' signatures and
 * the RFC 9162 verification of the path. What no signature covers must
 * agree with what does: a proof's event must be what its leaf decodes to
 * (and needs the leaf), a head's time its timestamp, its public_key the
 * key given here, its algorithm "ed25519", tree_size, first and second
 * the signed sizes. PRB_OK or PRB_EINVAL, with what held (for an
 * inclusion proof with its leaf, what the leaf logs, decoded from the
 * leaf) or what failed in msg. */
int prb_audit_check(const char *public_key, const char *proof, char *msg, size_t len);
/* The same, and against held (NULL: none), a signed head saved before
 * (prb_audit_head's JSON): its signature must verify with public_key; a
 * consistency proof must start at its size with its root, and an
 * inclusion proof must be at its size with its root. Without it a
 * consistency proof shows only that the register's two heads agree,
 * which a register that rewrote history also signs. */
int prb_audit_check_held(const char *public_key, const char *proof, const char *held, char *msg,
                         size_t len);

typedef struct prb_verify_stats {
    uint64_t leaves;   /* leaves in the log */
    uint64_t records;  /* stored record versions checked */
    uint64_t problems; /* findings reported */
} prb_verify_stats;

/* Recomputes the audit tree from its leaves and checks it against the
 * stored tree hashes, then checks every stored record version, inquiry,
 * dispute, review and key against the hash the log holds for it: one altered, added or removed
 * behind the engine's back is reported by id, one line per finding, to
 * report (may be NULL). PRB_ECORRUPT when anything was found. A line
 * that begins "warning: " is no finding: the policy in force holds forms
 * a policy adopted now may not (docs/POLICY.md), which it keeps. */
int prb_verify(prb_env *env, prb_write_fn report, void *ctx, prb_verify_stats *st);

/* ------------------------------------------------------------- API keys */

/* Bearer tokens of the HTTP API. A token is "prb_" and 43 characters of
 * base64url (32 random bytes), shown once when it is made; the register
 * keeps only its SHA-256, under which the key is stored, so a token can
 * be checked but never read back. A key's id is the first 8 bytes of that
 * hash in hex: safe to show, list and log. Making and revoking a key are
 * durable writes with an audit leaf (PRB_LEAF_KEY). */
enum prb_role {
    PRB_ROLE_ADMIN = 1, /* manages keys; reads subjects' files */
    PRB_ROLE_FURNISHER, /* reports records as one furnisher */
    PRB_ROLE_INQUIRER,  /* asks for decisions, for its purposes only */
    PRB_ROLE_REVIEWER,  /* reads files; handles disputes and reviews */
    PRB_ROLE_SUBJECT    /* one subject: its own copy, disputes, reviews */
};

#define PRB_TOKEN_MAX 64
#define PRB_KEY_NAME_MAX 64
#define PRB_KEY_PURPOSES_MAX 1024

typedef struct prb_key {
    char id[17];
    int role;                             /* enum prb_role */
    char name[PRB_KEY_NAME_MAX + 1];      /* label; an inquirer's requester name */
    char furnisher[PRB_KEY_NAME_MAX + 1]; /* furnisher: who it writes as, else "" */
    char purposes[PRB_KEY_PURPOSES_MAX];  /* inquirer: "credit,tenancy", else "" */
    char subject[PRB_IDENT_MAX];          /* subject: canonical identifier, else "" */
    uint64_t subject_no; /* subject: its subject number, 0 in keys made before it was kept */
    int64_t created;     /* as-of time, unix seconds */
    int64_t revoked;     /* 0 while the key is live */
} prb_key;

/* "admin", ... for a role; NULL for an unknown one. */
const char *prb_role_name(int role);
/* The role named s, or 0. */
int prb_role_parse(const char *s);
/* Makes a key from spec (role, name, furnisher, purposes, subject; the
 * rest is ignored). A furnisher key needs furnisher (a name a record
 * can carry: 1-63 characters of a-z 0-9 - _ ., the first a letter or
 * digit; a key for another would have every batch refused), an
 * inquirer key purposes (each a purpose of the policy that takes
 * inquiries and, if the purpose lists its requesters, lists the key's
 * name), a subject key subject (a valid identifier, not a furnisher's
 * own ext: key, that a subject of the register has: stored canonical,
 * with that subject's number); a field its role does not use must be
 * empty. name defaults to the furnisher's name, or else "key-" and the
 * key id. Writes the token (NUL-terminated)
 * into token and, if made is not NULL, the key as stored. PRB_EINVAL
 * names the bad field; PRB_ENOTFOUND: no subject has the identifier. */
int prb_key_create(prb_env *env, const prb_key *spec, char token[PRB_TOKEN_MAX], prb_key *made);
/* Looks token up and fills *key. PRB_ENOTFOUND if it is no key's, the
 * key was revoked, or it is a subject key whose identifier no longer
 * names the subject it was made for (the message says which). */
int prb_key_check(prb_env *env, const char *token, prb_key *key);
/* Checks again that the key with key->id is live (as prb_key_check,
 * without the token): PRB_ENOTFOUND if it is gone, revoked or its
 * subject's identifier names another subject now. */
int prb_key_recheck(prb_env *env, const prb_key *key);
/* Whether an inquirer key may ask for purpose: the purpose is one of its
 * purposes, and the policy lists no requesters for it or lists the
 * key's name. */
int prb_key_may_ask(prb_env *env, const prb_key *key, const char *purpose);
/* Revokes the key with id. PRB_ENOTFOUND: no such key; PRB_EEXIST: it
 * was revoked already. */
int prb_key_revoke(prb_env *env, const char *id);
/* The key the calls on env are now made for (its id is kept), or NULL
 * for none, as a new handle has. While one is set, every write
 * transaction on env checks, inside itself, that the key is still live
 * (as prb_key_recheck), and a call whose key is not fails with
 * PRB_EREVOKED, having written nothing: a call that was let in with a
 * key and then waited (for LMDB's one writer, behind a long batch) is
 * not carried out once a revocation has been committed. Calls that only
 * read are not checked. */
void prb_set_caller(prb_env *env, const prb_key *key);
/* Every key (id, role, name, furnisher, purposes, subject, created,
 * revoked), in id order, as a JSON array; never a token. free() *json. */
int prb_keys_json(prb_env *env, char **json);

/* --------------------------------------------- what the server asks */

/* Whether the public may read list name (1: its publication is public),
 * or only an inquirer for one of the purposes, a comma-separated list
 * (2: the list serves one of them), or neither (0). PRB_ENOTFOUND if the
 * policy has no such list. */
int prb_list_visibility(prb_env *env, const char *name, const char *purposes, int *vis);
/* The lists (or only the one named) a caller holding purposes (as above;
 * NULL: none; "*": every purpose) may read, in the prb_lists_json shape:
 * lists serving one of the purposes in full, public lists with only the
 * members whose entry is in effect (active) as of the clock. free()
 * *json. PRB_ENOTFOUND: no such list, or not one the caller may read. */
int prb_lists_visible_json(prb_env *env, const char *name, const char *purposes, char **json);
/* The same a page at a time: of each list, the members past the one
 * numbered after (0: from the first), at most limit of them (0: all),
 * and the rest of the last one's entries if it has more. A list with more
 * members to come has "next": pass it as after for the next page.
 * Members are in the order of their internal subject number, so pages
 * neither repeat nor skip a member while the list is unchanged. */
int prb_lists_visible_page(prb_env *env, const char *name, const char *purposes, uint64_t after,
                           size_t limit, char **json);
/* An inquirer's read: the page prb_lists_visible_page gives for
 * purposes (the inquirer's, "p1,p2"; not "*"), read by reader (its key's
 * name). Every member shown of a purpose-bound list gets a notice, kind
 * "list_read", about the list, saying who read it, for which of the
 * purposes (those the list serves that take the member's kind) and on
 * which day: the subject sees who looked them up (invariant 8), and the
 * notices are written, with their audit leaves (invariant 7), in one
 * write transaction committed before *json is given. A page that shows
 * no one of such a list, and a public list, write nothing. A notice, not
 * an inquiry: no feature counts it. PRB_EINVAL: no reader or purposes;
 * otherwise as prb_lists_visible_page, or a failed write. */
int prb_lists_read_page(prb_env *env, const char *name, const char *reader, const char *purposes,
                        uint64_t after, size_t limit, char **json);
/* A member of staff's read: the full page (prb_lists_visible_page with
 * purposes "*": every list, every entry in any state), read by reader
 * (a key's name, or the operator's account) in role: PRB_ROLE_REVIEWER,
 * PRB_ROLE_ADMIN, or 0 for the operator at the command line. Every
 * member shown of a purpose-bound list is told as by
 * prb_lists_read_page, the notice naming the reader and role instead of
 * purposes; public lists write nothing. PRB_EINVAL: no reader, or
 * another role; otherwise as prb_lists_read_page. */
int prb_lists_staff_page(prb_env *env, const char *name, const char *reader, int role,
                         uint64_t after, size_t limit, char **json);
/* The public card of the company identifier names: its identifiers and
 * its entries in effect (active) on public lists, with their dates, as
 * of the clock. PRB_ENOTFOUND if no company has the identifier;
 * PRB_EINVAL for a malformed identifier and, before any lookup (so the
 * answer tells nothing of whom the register holds), for one that is
 * not a company's public identifier (lei, cn-uscc): a person's number
 * or a furnisher's own ext: key. free() *json. */
int prb_company_card(prb_env *env, const char *identifier, char **json);
/* Whether object, a decision ("12-q3") or a record ("12-3"), is about
 * the subject identifier names: *owns gets 1 or 0. PRB_EINVAL if object
 * is neither; PRB_ENOTFOUND if nobody has the identifier. */
int prb_subject_owns(prb_env *env, const char *identifier, const char *object, int *owns);
/* The furnisher of the record dispute id challenges, into out (len
 * bytes). PRB_ENOTFOUND: no such dispute, or its record is gone. */
int prb_dispute_furnisher(prb_env *env, uint64_t id, char *out, size_t len);
/* prb_disputes_page with only the disputes of records furnisher reported
 * (and whose record is still in the register), read in one snapshot. A
 * page reads at most 10,000 disputes of the register, so it may hold
 * fewer than limit, even none, with *next set: page on until it is 0. */
int prb_disputes_furnisher_page(prb_env *env, const char *furnisher, int open_only, uint64_t after,
                                size_t limit, char **json, uint64_t *next);

/* --------------------------------------------------- decisions in batches */

/* One inquiry of a batch, and what became of it. */
typedef struct prb_inquiry {
    const char *purpose, *identifier, *requester; /* as for prb_decide */
    const char *idem;                             /* in: the requester's idempotency key, or NULL */
    const prb_key *key;     /* in: the key asking (as prb_set_caller), or NULL */
    prb_decision *decision; /* in: a handle to reuse or NULL; out: the decision */
    int rc;                 /* out: PRB_OK or the code prb_decide would give */
    char errmsg[512];       /* out: its message when rc is not PRB_OK */
    char *replay;           /* out: the decision made earlier under idem (JSON,
                               the caller's to free()), or NULL */
} prb_inquiry;

/* Idempotency keys (idem.c). An inquiry may carry a key of its
 * requester's choosing, 1 to PRB_IDEM_KEY_MAX printable ASCII characters:
 * the decision stored with it is kept under (requester, key) for
 * PRB_IDEM_SECONDS, and the same inquiry (purpose and identifier as
 * given) with the same key within that time is answered that decision
 * again, storing nothing: a request sent again after its answer was lost
 * does not count twice against the subject. The same key given to
 * another inquiry is refused with PRB_EEXIST. */
#define PRB_IDEM_KEY_MAX 255
#define PRB_IDEM_SECONDS 86400
/* PRB_OK if idem is a well-formed key, else PRB_EINVAL. */
int prb_idem_check(const char *idem);
/* The decision stored under requester's key idem, read from the latest
 * commit: PRB_OK with its JSON in *json (free()) if for this purpose and
 * identifier; PRB_EEXIST if for another; PRB_ENOTFOUND if none within
 * PRB_IDEM_SECONDS; PRB_EINVAL if idem or requester is malformed (a
 * requester as for prb_decide). Messages in env. */
int prb_idem_get(prb_env *env, const char *requester, const char *idem, const char *purpose,
                 const char *identifier, char **json);
/* Deletes the keys kept longer than PRB_IDEM_SECONDS, at most 1,024 a
 * write transaction, each logged; stops between transactions when asked
 * to (prb_set_cancel). *deleted (may be NULL) gets how many. */
int prb_idem_expire(prb_env *env, uint64_t *deleted);
/* How many keys the register keeps, those past PRB_IDEM_SECONDS that no
 * sweep has let go yet included. */
int prb_idem_count(prb_env *env, uint64_t *n);

/* Makes n decisions as prb_decide does, in one durable write transaction
 * (one fsync for all: group commit). An inquiry prb_decide would refuse
 * (no such subject or purpose, a bad identifier, a purpose not for the
 * subject's kind or requester) gets its rc and errmsg and writes nothing;
 * the others are stored. Returns PRB_OK when the batch was committed;
 * otherwise nothing was stored and every inquiry's rc and errmsg say
 * why. Inquiries about the same subject are numbered in batch order.
 * An inquiry whose decision handle prb_decide_prepare filled is stored as
 * prepared if nothing the decision read has changed since (known only for
 * commits made by prb_decide_many through this same env); otherwise it is
 * made again here. Either way the result is what prb_decide would give
 * at this point of the batch; purpose, identifier and requester must be
 * set in both cases. An inquiry with an idempotency key is looked up in
 * the transaction first: one kept (by an earlier commit or earlier in
 * this batch) is answered in replay, with rc PRB_OK and nothing stored;
 * otherwise the decision is stored with its key. An inquiry with a key
 * whose key is no longer live in the batch's transaction (each key
 * looked up once a batch) is refused with PRB_EREVOKED, replay or not,
 * and writes nothing; the others are stored. */
int prb_decide_many(prb_env *env, prb_inquiry *q, size_t n);
/* Keeps the register's data file written some megabytes past its last
 * page, one small step a call, so that commits do not grow the file (a
 * file that grows must have its size flushed at every commit).
 * prb_decide_many tops it up inside its transaction when the room runs
 * short; a writer that commits batches calls this between them, after it
 * has answered one, so the writing is in no one's answer. Takes the
 * register's write lock briefly, and only when a step is due. PRB_OK, or
 * a store error if the lock cannot be had; a failed write only leaves
 * less room. */
int prb_headroom(prb_env *env);
/* Computes the decision prb_decide would make, including its inquiry
 * number and stored form, in a read transaction of its own, storing
 * nothing: for a writer that stores it later with prb_decide_many, so
 * decisions are computed on many threads while one thread writes. A
 * refusal (rc other than PRB_OK) is the one prb_decide would give. *out
 * as for prb_decide; the handle may be used on another thread afterwards
 * (not two at once). */
int prb_decide_prepare(prb_env *env, const char *purpose, const char *identifier,
                       const char *requester, prb_decision **out);

/* ------------------------------------------------ transparency statistics */

/* What the register holds and does, for anyone to read (GET /v1/stats):
 * counts by names the policy and the engine define, and nothing about
 * any person (no identifier, subject number, reference, requester or
 * free text). Read from one snapshot, as of env's clock, which the
 * answer names: as_of its day, made_at its second (RFC 3339, UTC), so a
 * copy kept for a while says how old it is. Then subjects by kind;
 * records (current versions, those past retention left out and counted
 * apart) by category and status; decisions by purpose and outcome;
 * disputes by state and by who resolved them, with the median days
 * from opening to resolution (null when none is resolved); reviews
 * by state; list entries by list and state, with exits (lifted, expired,
 * withdrawn); notices by kind, delivered and pending. Every category,
 * purpose and list of the policy is listed, with zeros if need be. The
 * whole store is walked: a caller asked often should keep the answer for
 * a while, and may stop the walk (prb_set_cancel): PRB_OK then, with
 * *json NULL. *json is the caller's (free()). Errors: PRB_ESTORE (the
 * store), PRB_ECORRUPT (a stored value is malformed; the message says
 * which), PRB_ENOMEM. */
int prb_stats_json(prb_env *env, char **json);

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
