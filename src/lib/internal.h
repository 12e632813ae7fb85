/*
 * internal.h - what the engine's files share and the public header hides:
 * the error buffer every handle carries, byte slices, the arena the
 * ingest threads allocate from, and the policy's in-memory shape.
 */
#ifndef PRB_INTERNAL_H
#define PRB_INTERNAL_H

#include "probity.h"

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#define PRB_ERRMSG_MAX 1024

/* A borrowed run of bytes (not NUL-terminated). */
typedef struct prb_slice {
    const char *p;
    uint32_t n;
} prb_slice;

/* Formats a message into buf (size PRB_ERRMSG_MAX) and returns rc, so a
 * failing path reads `return prb_seterr(env->err, PRB_EINVAL, "...")`. */
int prb_seterr(char *buf, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* vsnprintf into buf, with a cut that would end inside a UTF-8 character
 * moved to before it: what every message formatter writes with. */
void prb_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* ----------------------------------------------------------------- arena */

/* A bump allocator: many small allocations, freed together. Ingest uses
 * one per parse thread so threads never share an allocator. */
typedef struct prb_arena {
    struct prb_ablock *head;
    size_t block;
} prb_arena;

void prb_arena_init(prb_arena *a, size_t block);
void *prb_arena_alloc(prb_arena *a, size_t n); /* 8-aligned; NULL if OOM */
char *prb_arena_strndup(prb_arena *a, const char *s, size_t n);
char *prb_arena_printf(prb_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void prb_arena_free(prb_arena *a);
/* A point to roll an arena back to, forgetting what was allocated since
 * (a rejected line's strings, when its message is not kept). */
typedef struct prb_amark {
    struct prb_ablock *b;
    size_t used;
} prb_amark;
prb_amark prb_arena_mark(const prb_arena *a);
void prb_arena_rewind(prb_arena *a, prb_amark m);
/* Zeroed memory for large tables, faulted in up front; NULL if OOM. */
void *prb_bigalloc(size_t n);
/* n zeroed bytes of which only the first ready are faulted in now: room
 * to grow into without moving. Freed with prb_bigfree(p, n). */
void *prb_bigalloc_part(size_t n, size_t ready);
void prb_bigfree(void *p, size_t n);

/* ---------------------------------------------------------------- policy */

#define PRB_NAME_MAX 64
#define PRB_MAX_FIELDS 32
#define PRB_MAX_ENUM 64

enum prb_polarity { PRB_ADVERSE = 1, PRB_POSITIVE, PRB_NEUTRAL };

typedef struct prb_fielddef {
    char *name;
    size_t name_len;
    int type; /* enum prb_ftype */
    int required;
    int64_t min, max; /* integer bounds */
    uint32_t max_length;
    size_t nvalues; /* enum */
    char **values;
    size_t *value_lens;
} prb_fielddef;

typedef struct prb_catdef {
    char *name;
    size_t name_len;
    char *description;
    unsigned kinds; /* bit (1 << PRB_PERSON) | (1 << PRB_COMPANY) */
    int polarity;
    size_t nfields;
    prb_fielddef *fields;
    int currency_field; /* index of the currency field, -1 if none */
    int32_t days_after_event;
    int32_t days_after_settlement; /* -1: settlement does not shorten */
    int32_t max_days;
    int32_t notice_days;
    uint64_t purposes; /* bit i: purpose i */
} prb_catdef;

/* A condition on one value: a set of allowed strings, or a numeric
 * interval [min, max) where either bound may be absent. */
typedef struct prb_cond {
    char *field; /* record field name; NULL when the condition is on status */
    size_t nvalues;
    char **values;
    int has_min, has_max;
    double min, max;
} prb_cond;

enum prb_feat_kind {
    PRB_F_COUNT = 1,
    PRB_F_SUM,
    PRB_F_MIN,
    PRB_F_MAX,
    PRB_F_MONTHS_EARLIEST,
    PRB_F_MONTHS_LATEST,
    PRB_F_SHARE,
    PRB_F_INQUIRIES
};

/* A feature: an aggregation over a subject's usable records of some
 * categories (or, for inquiries, over decisions about the subject). */
typedef struct prb_featdef {
    char *name;
    int kind;            /* enum prb_feat_kind */
    uint64_t categories; /* bit i: category i */
    unsigned statuses;   /* bit (1 << enum prb_status); 0 = any */
    char *field;         /* sum/min/max: a numeric field; months_*: a date field or NULL */
    int *field_idx;      /* per category: index of field in its catdef, -1 if absent */
    size_t nwhere;
    prb_cond *where; /* all must hold for a record to count */
    size_t nmatch;
    prb_cond *match;   /* share: the fraction of counted records matching all */
    int window_months; /* 0: no window */
    uint64_t purposes; /* inquiries: decisions for these purposes */
    int has_default;   /* value when no record counts (else missing) */
    double dflt;
} prb_featdef;

/* A list entry ground: criteria over features and how long an entry lasts. */
typedef struct prb_ground {
    char *name;
    size_t ncrit;
    int *crit_feature; /* feature index per criterion */
    prb_cond *crit;    /* interval on that feature's value (a missing value fails) */
    int32_t max_days;
} prb_ground;

enum prb_list_type { PRB_BLACK = 1, PRB_RED };

typedef struct prb_listdef {
    char *name;
    char *description;
    int type;
    unsigned kinds;
    size_t ngrounds;
    prb_ground *grounds;
    int32_t hearing_days;
    int auto_leave;
    int public_list;     /* publication: public (companies only) */
    uint64_t purposes;   /* purposes the list serves */
    uint64_t categories; /* every category its features read */
} prb_listdef;

/* One step of a purpose's decision rule; the first that applies decides. */
typedef struct prb_rule {
    int list;        /* if_listed: list index, else -1 */
    int has_below;   /* if_score_below */
    int64_t below;   /* in millionths of a point, as scores are (scorecard.h) */
    int if_no_score; /* applies when the scorecard could not score */
    int outcome;
} prb_rule;

typedef struct prb_purposedef {
    char *name;
    char *description;
    unsigned kinds;
    uint64_t categories; /* derived: categories that serve this purpose */
    int scorecard;       /* index in policy scorecards, -1 if none */
    int *sc_feature;     /* per scorecard input: its feature's index */
    uint8_t *need;       /* per feature: whether a decision reads it */
    int inquiry_months;  /* derived: the longest window of those counting
                            inquiries, 0 if none does */
    size_t nlists;
    int *lists; /* lists consulted */
    size_t nrules;
    prb_rule *rules;
    size_t nrequesters;
    char **requesters; /* who may ask; none listed = any requester */
} prb_purposedef;

/* A notice delivery channel (policy "notices", deliver.c). Its id keys
 * the channel's state inside each notice, so it must not change while
 * the channel is the same: "spool:DIR" or "webhook:URL" with the URL's
 * user, password, query and fragment left out (they may hold secrets,
 * and notices are shown to subjects). */
enum prb_channel_type { PRB_CH_SPOOL = 1, PRB_CH_WEBHOOK };
#define PRB_MAX_CHANNELS 8

typedef struct prb_channel {
    int type;     /* enum prb_channel_type */
    char *id;     /* see above; unique within a policy */
    char *target; /* spool: the directory as written (relative: to the register); webhook: URL */
    int32_t timeout_ms, max_attempts, backoff_ms; /* webhook */
} prb_channel;

struct prb_policy {
    char *name; /* file name used in messages */
    char *version;
    char *text; /* the policy file as loaded */
    size_t text_len;
    unsigned schemes; /* bit (1 << enum prb_scheme) */
    int32_t dispute_deadline_days;
    size_t ncategories;
    prb_catdef *categories;
    size_t npurposes;
    prb_purposedef *purposes;
    size_t nfeatures;
    prb_featdef *features;
    size_t nscorecards;
    struct prb_scorecard **scorecards;
    size_t nlists;
    prb_listdef *lists;
    size_t nchannels; /* notice delivery: at least one */
    prb_channel *channels;
    /* Decimal scale of each ISO 4217 code AAA..ZZZ (index: letters as
     * base-26 digits), 0xff for no currency: one load per amount. */
    unsigned char currency_scale[26 * 26 * 26];
    /* Loaded as the policy a register has in force (prb_policy_load_kept):
     * the forms it holds that a policy adopted now may not (PRB_OLD_*),
     * and each one's first place and meaning, "; " between them. */
    unsigned old_forms;
    char old_forms_text[PRB_ERRMSG_MAX];
    char err[PRB_ERRMSG_MAX];
};

/* What policies adopted before 2026-11-28 could hold and one adopted now
 * may not. Each is refused when a policy is adopted (probity init, a
 * policy.json edited), but loads in the policy a register has in force,
 * which a register cannot be made to give up: refusing it would stop the
 * register from opening at all until its operator edits the policy. */
enum prb_old_form {
    PRB_OLD_DATE_NUMBER = 1,    /* a number bounds a date field: a day since 1970 */
    PRB_OLD_DATE_MIXED = 2,     /* one interval bounds a field dates in some categories only */
    PRB_OLD_DATE_AGGREGATE = 4, /* a sum, min or max of a date field */
    PRB_OLD_UNREACHABLE = 8,    /* a scorecard bin that can never apply */
    PRB_OLD_LIST_TWICE = 16,    /* a purpose names one of its lists twice */
};

int prb_policy_feature(const prb_policy *p, const char *name);
/* Loads path as a register's policy (prb_open, verify). When the file is
 * the policy the register has in force, whose SHA-256 is in_force, its
 * PRB_OLD_* forms load as they did when it was adopted and are named in
 * old_forms_text; any other file is a policy being adopted, held to every
 * rule, as prb_policy_load does. NULL takes the file to be in force: a
 * register older than the log of policies has no hash, and prb_open,
 * which reads the hash only once the file holds such a form, checks it
 * then. */
int prb_policy_load_kept(const char *path, const unsigned char *in_force, prb_policy **out);
/* A register's policy file in its directory, and the meta key keeping
 * the SHA-256 of the policy logged last (audit.c, verify.c). */
#define PRB_POLICY_FILE "policy.json"
#define PRB_POLICY_HASH_KEY "policy_sha256"
int prb_policy_purpose(const prb_policy *p, const char *name);
/* The same, for the n bytes at name (an item of "p1,p2"). */
int prb_policy_purpose_n(const prb_policy *p, const char *name, size_t n);
int prb_policy_list(const prb_policy *p, const char *name);

/* Index of category name[0..n), or -1. */
int prb_policy_category(const prb_policy *p, const char *name, size_t n);
int prb_catdef_field(const prb_catdef *c, const char *name, size_t n);

/* ------------------------------------------------------------- retention */

/* Last day before which the record may be kept: from that day on it is
 * expired and must be deleted. settled is PRB_NO_DATE when not settled. */
int32_t prb_retention_expires(const prb_catdef *c, int32_t event, int32_t settled);
/* First day an adverse record may be used: the notice period runs from
 * when the register learnt of it, never from an event it was told late. */
int32_t prb_effective_from(const prb_catdef *c, int32_t event, int32_t first_received);
/* Expiry of a stored record version v[0..n) (record.c's layout), or
 * PRB_NO_DATE if its category is gone from the policy (then it is kept). */
int32_t prb_version_expires(const prb_policy *p, const unsigned char *v, size_t n);

/* ---------------------------------------------------------------- record */

/* How a value arrived: JSON types, or untyped text from a CSV cell. */
enum prb_jtype { PRB_J_ABSENT = 0, PRB_J_NULL, PRB_J_STR, PRB_J_NUM, PRB_J_BOOL, PRB_J_TEXT };

typedef struct prb_rawval {
    prb_slice v; /* string contents with escapes decoded, or the number's text */
    int type;    /* enum prb_jtype */
} prb_rawval;

#define PRB_MAX_ALIASES 8

/* Length of the valid UTF-8 sequence at p (before end), or 0 if it is
 * not one: shortest form, no surrogates, at most U+10FFFF (text.c). */
int prb_utf8_len(const unsigned char *p, const unsigned char *end);
/* The same, with the code point it encodes in *cp (left alone when 0). */
int prb_utf8_next(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* How many of s's first n bytes are valid UTF-8 (n if all are). */
size_t prb_utf8_prefix(const char *s, size_t n);
/* How many characters s's first n bytes are: code points, a byte that is
 * not UTF-8 counting as one (as an editor shows it), for the lengths and
 * the columns people read. */
size_t prb_utf8_chars(const char *s, size_t n);
/* How many of s's first n bytes a message may quote when it quotes at
 * most max: the UTF-8 prefix of the first max, for "%.*s". A message is
 * read as JSON, which refuses a character cut in two. */
int prb_utf8_cut(const char *s, size_t n, size_t max);

/* Invariant 1 for a name or a text (refused.c): NULL if prb_refused_class
 * lets it pass, else its class, with buf given "refused: 'TERM' is CLASS
 * data, ... (DESIGN invariant 1), in WHAT 'TEXT'". The term and class come
 * first and a long text is quoted by some 60 bytes around the term, so a
 * message cut to its size still says what was refused and why. */
#define PRB_REFUSED_WHY 384 /* a buf that holds every such message */
const char *prb_refused_why(const char *what, const char *text, char *buf, size_t len);
/* How many lookups prb_refused_class makes in its index to read text, and
 * keys it compares: a count, not a clock, that the tests hold its cost to. */
size_t prb_refused_probes(const char *text);
/* A record's refusal of term of class cls (printf arguments term, cls):
 * the one wording ingest uses, whichever reader met the name. */
#define PRB_REFUSED_RECORD                                                                         \
    "refused: '%s' is %s data, which probity never holds (DESIGN invariant 1)"
/* A record's key or field name longer than any name a policy can hold
 * (check_name: PRB_NAME_MAX - 1 bytes) is refused for its length before
 * invariant 1 reads it (printf argument: its length, a size_t). That read
 * costs ~17 us a byte, and names of 64 KiB made a 16-MiB batch take
 * minutes; every name that could be accepted is still read whole. */
#define PRB_NAME_LONG(n) ((n) >= PRB_NAME_MAX)
#define PRB_NAME_LONG_REASON                                                                       \
    "no such name: it has %zu bytes, and no key or field name has more than 63"
_Static_assert(PRB_NAME_MAX == 64, "PRB_NAME_LONG_REASON names the limit");

/* A record as read from NDJSON or CSV, before it is checked against the
 * policy. Slices point into the input or into the parse arena. */
typedef struct prb_raw {
    prb_rawval furnisher, ref, kind, id, category, status, event_date, settled_date, legal_basis;
    size_t naliases;
    prb_rawval aliases[PRB_MAX_ALIASES];
    size_t nfields;
    prb_slice fname[PRB_MAX_FIELDS];
    prb_rawval fval[PRB_MAX_FIELDS];
} prb_raw;

/* A record checked against the policy and packed for the store. */
typedef struct prb_rec {
    uint32_t src, line; /* input index and line, for messages */
    uint8_t kind;
    uint8_t naliases;
    uint16_t cat;
    int32_t event, settled;
    int32_t expires; /* retention end of this version */
    /* Lengths together: the struct is an array a million long. */
    uint32_t ident_len, fkey_len, notice_len, packed_len;
    const char *ident; /* canonical identifier */
    uint64_t ident_hash;
    const char **aliases; /* naliases canonical identifiers, in the arena */
    prb_slice furnisher, ref;
    const unsigned char *fkey;        /* its (furnisher, ref) key, see prb_fref_key */
    uint64_t fkey_hash;               /* the key's leading hash, kept here to be read without it */
    const char *notice;               /* adverse records: the notice to send, as JSON */
    const unsigned char *notice_hash; /* its SHA-256, in the arena */
    const unsigned char *packed;      /* the stored value (layout in record.c) */
} prb_rec;

/* Where a record went wrong: field is a static name or an arena string. */
typedef struct prb_recerr {
    uint32_t src, line;
    const char *field;
    const char *reason;
} prb_recerr;

/* What a key's name may be (PRB_KEY_NAME_MAX is its 64). */
#define PRB_KEY_NAME_RULE                                                                          \
    "1 to 64 printable ASCII characters, no spaces, commas, quotes or backslashes"
/* PRB_OK if requester is NULL (no requester: a library caller's inquiry)
 * or could be a key's name, which is what the server asks under; else
 * PRB_EINVAL with a message in env. A requester is written into the
 * subject's notices and letter, where it must be one word. */
int prb_requester_check(prb_env *env, const char *requester);

/* Whether p[0..n) may name a record's furnisher: PRB_FURNISHER_NAME_RULE.
 * A furnisher key is held to it too, so that its records can carry it. */
#define PRB_FURNISHER_NAME_RULE                                                                    \
    "1-63 characters of a-z, 0-9, '-', '_', '.', the first a letter or digit"
int prb_furnisher_name_ok(const char *p, size_t n);

/* Checks raw against the policy as of day today and packs it. On a bad
 * record fills *err (field, reason in arena) and returns PRB_EINVAL or
 * PRB_EREFUSED. forced_furnisher may be NULL. */
int prb_record_check(const prb_policy *p, const prb_raw *raw, const char *forced_furnisher,
                     int32_t today, prb_arena *a, prb_rec *out, prb_recerr *err);

/* The stored layout of one record version. All multi-byte integers are
 * little-endian, as LMDB files are not portable across byte orders anyway.
 * Every string is followed by a NUL, so a reader can point into one copy
 * of the value.
 *
 *   0  u8   layout version (1)
 *   1  u8   status (enum prb_status)
 *   2  u8   category name length C
 *   3  u8   number of fields F
 *   4  i32  event date            8  i32 settled date (INT32_MIN: none)
 *  12  i32  received (as-of day this version was stored)
 *  16  u16  furnisher length U   18  u16 ref length R
 *  20  u16  legal basis length L 22  u16 zero
 *  24  category, furnisher, ref, legal basis (each NUL-terminated)
 *      then F times: u8 name length, name, NUL, u8 type (low 4 bits; an
 *      amount's decimal scale in the high 4), and either an i64 (integer,
 *      amount in minor units, date) or u16 length + bytes + NUL.
 *
 * The received day is not part of the content: two versions are the same
 * record when every other byte matches.
 */
#define PRB_REC_LAYOUT 1
#define PRB_REC_HDR 24
#define PRB_REC_RECEIVED_OFF 12

int prb_record_same(const unsigned char *a, size_t an, const unsigned char *b, size_t bn);
/* The category of packed record a (not NUL-terminated): its length, or
 * -1 if a is too short to hold one. */
int prb_record_category(const unsigned char *a, size_t an, const char **cat);
void prb_record_set_received(unsigned char *packed, int32_t day);

/* Decoded view of a packed version: the value is copied into buf (of
 * prb_record_bufsize bytes) and the view's strings point into that copy.
 * Returns PRB_ECORRUPT on a malformed value. */
size_t prb_record_bufsize(size_t packed_len);
int prb_record_decode(const unsigned char *v, size_t n, char *buf, prb_record_view *rv,
                      prb_field_view *fields, size_t maxfields);

/* Currency exponent (digits after the point) of an ISO 4217 code, or -1. */
int prb_currency_scale(const char *code, size_t n);
/* Fills a policy's currency_scale table. */
void prb_currency_table(unsigned char t[26 * 26 * 26]);
/* The same as prb_currency_scale, through the table. */
static inline int prb_currency_lookup(const unsigned char t[26 * 26 * 26], const char *c, size_t n)
{
    if (n != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z')
        return -1;
    unsigned char v = t[((c[0] - 'A') * 26 + (c[1] - 'A')) * 26 + (c[2] - 'A')];
    return v == 0xff ? -1 : v;
}

/* ----------------------------------------------------------------- dates */

int32_t prb_day_of(int64_t unix_seconds);
/* Civil date <-> days since 1970-01-01 (proleptic Gregorian). */
int32_t prb_days_from_civil(int y, unsigned m, unsigned d);
void prb_civil_from_days(int32_t day, int *y, unsigned *m, unsigned *d);

/* ---------------------------------------------------------------- hashes */

static inline uint64_t prb_hash(const void *p, size_t n)
{
    /* FNV-1a with a final avalanche: keys are short identifiers and refs. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

/* ----------------------------------------------------------------- store */

#include <lmdb.h>

/* Read transactions open at once on the register and on its index
 * beside it. A decision handle keeps one of each between uses (renewing
 * one is cheaper than beginning it), and a server holds a handle for
 * every decision in flight: up to one for each of its 4,096 connections
 * when a stalled disk piles them up behind the commit, and 256 spare.
 * At 1,024 the 1,025th failed (MDB_READERS_FULL, a 500). A reader's slot
 * is 64 bytes of the lock file, and LMDB scans only the slots used. */
#define PRB_MAX_READERS 8192

/* The named LMDB databases of a register (one environment per directory).
 *   meta   name -> value (format, next subject id)
 *   ident  hash (be64) + canonical identifier -> subject id (be64)
 *   rec    record id (be64) + version (be16) -> packed record version; and
 *          at record number 0, version 0, the subject itself (kind,
 *          identifiers, next record number; layout in store.c), so a whole
 *          file is one cursor walk from the subject's first key
 *   fref   hash (be64) + furnisher '\0' ref -> record id (be64) + current version (be16)
 *   ilog   inquiry sequence (be64) -> subject id (be64) + its inquiry number
 *          (be32) + the inquiry: the order inquiries were made (decide.c)
 *   inq    (store format 1) subject id + inquiry number -> inquiry; moved
 *          into ilog when such a register is opened (store.c)
 *   outbox notice number (be64) -> subject id (be64) + the notice (JSON)
 *   lst    subject id (be64) + list name + NUL + first day (be32) -> entry
 *          (lists.c)
 *   dsp    dispute id (be64: subject id << 24 | the subject's dispute
 *          number) -> dispute (dispute.c)
 *   rvw    review id (be64, same shape) -> human review of a decision
 *   rvq    decision: subject id (be64) + inquiry number (be32) -> the id
 *          of its review (be64), so a request finds an earlier review of
 *          its decision with one lookup (review.c; store format 5)
 *   alog   block number (be64) -> PRB_ALOG_BLOCK audit leaves (audit.c)
 *   mtree  block number (be64) -> PRB_MTREE_BLOCK Merkle tree hashes in
 *          post-order (audit.c, merkle.c)
 *   keys   SHA-256 of an API token (32 bytes) -> the key (keys.c)
 *   idem   requester + NUL + idempotency key -> the decision kept for 24
 *          hours under it, with what it answered (idem.c)
 * and beside them, in an environment of its own (DIR/index.mdb, or under
 * the directory DIR/index.place names; iidx.c),
 * derived from ilog and outbox and made again from them when needed:
 *   iidx   subject id (be64) + inquiry number (be32) -> sequence (be64) +
 *          day + purpose: a subject's inquiries
 *   nidx   subject id (be64) + notice number (be64) -> nothing: a subject's
 *          notices, for its copy
 *   meta   "upto", "last", "nupto", "nlast": how far each index goes;
 *          "order": how the days of the indexed inquiries run (prb_iorder)
 * ident and fref keys start with a hash of the rest (prb_hash): they are
 * only ever looked up whole, and spreading them evenly lets a batch sort
 * its keys by one integer instead of comparing long shared prefixes
 * ("bank-a\0L-...").
 * A record id is the subject id << 24 | the subject's record number, so a
 * subject's records are one contiguous key range of rec. */
struct prb_env {
    MDB_env *mdb;
    MDB_dbi meta, ident, rec, fref, inq, outbox, lst, dsp, rvw, alog, mtree, keys, ilog, idem, rvq;
    /* The index environment beside the register, its databases (inquiries
     * and notices by subject, and its meta) and the lock its users share
     * (iidx.c). */
    MDB_env *imdb;
    MDB_dbi iidx, nidx, imeta;
    int ilock;
    /* Where the index's files are: the register's directory, or one of
     * its own under the directory DIR/index.place names (iidx.c); NULL
     * in a handle made by prb_env_dup. */
    char *idir;
    int imoved; /* the register was moved from store format 1-3 when opened */
    /* A handle made by prb_env_dup: mdb and policy are the original's. */
    int shared;
    struct prb_alog_batch *wlog; /* leaves of the open write transaction */
    uint64_t uid;                /* unique among the process's handles */
    /* Counts list entries written through this handle, so a caller can
     * tell whether a refresh changed anything. */
    unsigned list_writes;
    /* Counts the disputes dispute.c's walks read through this handle, so
     * a test can tell what a write reads of dsp without timing it. */
    uint64_t dsp_reads;
    /* Asked by long operations whether to stop (prb_set_cancel). */
    prb_cancel_fn cancel;
    void *cancel_ctx;
    /* Called around each of notice delivery's own transactions
     * (prb_set_guard). */
    prb_guard_fn guard;
    void *guard_ctx;
    /* How far this handle has written the data file (prb_wtxn_headroom);
     * 0: not known yet. */
    off_t zeroed;
    /* How far this handle has given the index's file blocks (iidx.c's
     * index_room); 0: not known yet. */
    off_t iroom;
    /* The read transaction prb_key_check keeps reset between checks: a
     * server checks a token on every request, and beginning a read takes
     * a slot of the reader table under its lock and an allocation. */
    MDB_txn *ktxn;
    /* The id of the key this handle's calls are made for (prb_set_caller),
     * checked in each write transaction; "" for none. */
    char caller[17];
    /* The inquiry log's next number in write transaction ilog_txn. */
    uint64_t ilog_txn, ilog_next;
    /* The last write transaction that added a notice to the outbox: its
     * commit brings the notice index up too. */
    uint64_t notice_txn;
    /* The last commits of prb_decide_many through this handle and the
     * subjects each wrote (decide_batch.c). */
    struct prb_recent *recent;
    /* The audit log's signing key (loaded on first use) and the last tree
     * head signed, reused while the log's size and the clock stand still. */
    int has_key;
    unsigned char sk[64];
    uint64_t head_size;
    int64_t head_time;
    unsigned char head_root[32], head_sig[64];
    /* Set once a write transaction of this handle committed having found
     * the signing key's public key in meta, recorded it, or found no key
     * to record: until then each write looks (prb_audit_key_record). */
    int key_checked;
    prb_policy *policy;
    /* The SHA-256 of policy's file, made once at open: every write
     * transaction compares it with the one logged last (audit.c), and a
     * handle of prb_env_dup shares it with the policy. */
    unsigned char policy_sha[32];
    int64_t now;
    /* The clock the audit log's leaves and the notices of a staff read
     * are dated by: prb_set_now moves it with now, an as-of view
     * (prb_set_as_of) does not, so a what-if run of another day is
     * logged when it happened. */
    int64_t log_now;
    size_t mapsize;
    /* prb_set_fixed_map: a full map fails the write (PRB_EFULL) instead of
     * growing, which LMDB allows only with no other transaction open in
     * the process. */
    int fixed_map;
    char *dir;
    char err[PRB_ERRMSG_MAX];
};

#define PRB_RSEQ_BITS 24
#define PRB_RSEQ_MASK ((1u << PRB_RSEQ_BITS) - 1)
#define PRB_RECKEY_LEN 10
#define PRB_SUBJ_LAYOUT 1
#define PRB_SUBJ_HDR 12

static inline void prb_be64(unsigned char *w, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        w[i] = (unsigned char)v;
}

/* Little-endian 32-bit fields of the stored layouts (record.c, lists.c,
 * decide.c), written out so compilers see one load or store. */
static inline void prb_put_le32(unsigned char *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    w[0] = (unsigned char)u;
    w[1] = (unsigned char)(u >> 8);
    w[2] = (unsigned char)(u >> 16);
    w[3] = (unsigned char)(u >> 24);
}

static inline int32_t prb_get_le32(const unsigned char *r)
{
    return (int32_t)((uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 |
                     (uint32_t)r[3] << 24);
}

static inline uint64_t prb_get_be64(const unsigned char *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | r[i];
    return v;
}

static inline void prb_reckey(unsigned char k[PRB_RECKEY_LEN], uint64_t id, uint32_t ver)
{
    prb_be64(k, id);
    k[8] = (unsigned char)(ver >> 8);
    k[9] = (unsigned char)ver;
}

/* An inquiry's key: subject (be64) and its number for the subject
 * (be32). It keys the index and heads the inquiry's value in the log. */
#define PRB_INQ_KEY_LEN 12
static inline void prb_inq_key(unsigned char k[PRB_INQ_KEY_LEN], uint64_t subject, uint32_t no)
{
    prb_be64(k, subject);
    k[8] = (unsigned char)(no >> 24);
    k[9] = (unsigned char)(no >> 16);
    k[10] = (unsigned char)(no >> 8);
    k[11] = (unsigned char)no;
}

static inline uint32_t prb_inq_no(const unsigned char k[PRB_INQ_KEY_LEN])
{
    return (uint32_t)k[8] << 24 | (uint32_t)k[9] << 16 | (uint32_t)k[10] << 8 | k[11];
}

/* A notice's key in the index of notices by subject (nidx, iidx.c):
 * subject (be64) and the notice's number in the outbox (be64). */
#define PRB_NIDX_KEY_LEN 16

static inline void prb_nidx_key(unsigned char k[PRB_NIDX_KEY_LEN], uint64_t subject, uint64_t no)
{
    prb_be64(k, subject);
    prb_be64(k + 8, no);
}

#define PRB_FREF_KEY_MAX (8 + 64 + 1 + 128)
#define PRB_IDENT_KEY_MAX (8 + PRB_IDENT_MAX)
/* Writes the key of (furnisher, ref) into out; returns its length. */
size_t prb_fref_key(unsigned char *out, const char *furn, size_t fl, const char *ref, size_t rl);
/* Writes the key of a canonical identifier into out; returns its length. */
size_t prb_ident_key(unsigned char *out, const char *ident, size_t n);
/* Whether canon's scheme names companies only (lei, cn-uscc): the
 * identifiers a company is shown and found by in public. A furnisher's
 * key says who reports on it; a person's number is a person's. */
int prb_ident_company_public(const char *canon);
/* Why a subject may have one identifier of canon's scheme at most ("one
 * person has one resident id"), or NULL when it may have several (ext,
 * a furnisher's own keys) or the scheme is unknown. */
const char *prb_ident_one_only(const char *canon);
/* The kinds of subject a scheme may name: bit (1 << PRB_PERSON) |
 * (1 << PRB_COMPANY); 0 for an unknown scheme. */
unsigned prb_ident_scheme_kinds(int scheme);

/* The subject a canonical identifier names, within txn. PRB_ENOTFOUND
 * (with the message on env) if nobody has it. */
int prb_subject_find(prb_env *env, MDB_txn *txn, const char *canon, uint64_t *subject);

/* Sets env->err from an LMDB failure and returns the matching code. */
int prb_mdb_fail(prb_env *env, int mrc, const char *what);
/* Frees the reader slots of processes that died in a read transaction,
 * on the register and on its index (at open and at every sweep): their
 * snapshots would keep every page freed since from being used again. */
void prb_readers_check(prb_env *env);
/* Grows the map after MDB_MAP_FULL; no transaction may be open. */
int prb_env_grow(prb_env *env);
/* Keeps the data file written with zeros some way past LMDB's last page,
 * a step at a time, so that a commit's pages overwrite blocks the file
 * already has: its fsync then writes data and flushes, where growing the
 * file would also allocate blocks and write the inode and the block maps
 * and wait for them (bench/serve: inode updates 1.33 -> 0.34 a commit,
 * server CPU 49.8 -> 46.8 us a decision in alternating runs). Only in a
 * write transaction that has written nothing yet: its writer lock keeps
 * every other writer, in any process, out, and no snapshot reaches past
 * the last page, so what lies beyond is nobody's. Failing only leaves
 * less room. */
void prb_wtxn_headroom(prb_env *env);

/* The subject value: kind, identifiers, next record number. */
typedef struct prb_subject {
    uint64_t id;
    uint8_t kind;
    uint32_t next_rseq;
    int32_t created;
    uint16_t nidents;
    const char *idents[64];
} prb_subject;

#define PRB_MAX_IDENTS 64
int prb_subject_decode(const unsigned char *v, size_t n, prb_subject *s, char *buf, size_t buflen);
/* Packs s into buf (at least prb_subject_size bytes); returns its length. */
size_t prb_subject_size(const prb_subject *s);
size_t prb_subject_encode(const prb_subject *s, unsigned char *buf);
/* Sets the record counter of an encoded subject in place (its size does
 * not change). */
void prb_subject_set_next(unsigned char *v, uint32_t next_rseq);

/* ----------------------------------------------------------- input formats */

/* Parses one NDJSON line p[0..n) (no newline) into raw. Strings without
 * escapes point into the line; decoded ones live in a. On bad input fills
 * err->field and err->reason and returns PRB_EINVAL. */
int prb_ndjson_parse(const char *p, size_t n, prb_arena *a, prb_raw *raw, prb_recerr *err);

/* CSV with a header row (RFC 4180). */
typedef struct prb_csv {
    int ncols;
    int role[PRB_MAX_FIELDS + 16]; /* what each column holds; see csv.c */
    prb_slice name[PRB_MAX_FIELDS + 16];
} prb_csv;

/* Reads the header row at *p, advancing *p; *lines gets the lines used. */
int prb_csv_header(prb_csv *h, const prb_policy *pol, const char **p, const char *end, prb_arena *a,
                   prb_recerr *err, uint32_t *lines);
/* Reads the next row into raw, advancing *p past it; first is the number
 * of the line it starts on, for messages, and *lines gets the lines it
 * spanned. Returns PRB_OK, PRB_ENOTFOUND at the end, or PRB_EINVAL. A
 * bad row is still consumed so reading can go on with the next. A blank
 * row (an empty line, or every cell empty) gives PRB_OK and a raw with no
 * value at all (raw->ref is PRB_J_ABSENT, which the header's required ref
 * column never leaves any other row): it is no record, to be skipped. */
int prb_csv_row(const prb_csv *h, const char **p, const char *end, uint32_t first, prb_arena *a,
                prb_raw *raw, prb_recerr *err, uint32_t *lines);

/* Deletes versions 1..last of record id and its (furnisher, ref) entry,
 * logging each version deleted; cv[0..cn) is the current version, which
 * names the furnisher and ref. */
int prb_record_delete(prb_env *env, MDB_txn *txn, uint64_t id, uint32_t last,
                      const unsigned char *cv, size_t cn);
/* The current (last) version of record id in txn: its number in *last and
 * its value in *val (valid until txn changes). PRB_ENOTFOUND, with no
 * message, when the record has no version; what names the reading in
 * the message of a store failure. */
int prb_record_current(prb_env *env, MDB_txn *txn, uint64_t id, const char *what, uint32_t *last,
                       MDB_val *val);

/* Calls fn(ctx, id, value) on every entry of dbi, a database keyed by
 * be64 ids subject << 24 | number (disputes, reviews), of subject (0: of
 * every subject) in id order; a non-zero return stops the walk and is
 * returned. *last, if not NULL, gets the last id seen (0 if none). what
 * names the walk in a store error. */
typedef int (*prb_walk_fn)(void *ctx, uint64_t id, const MDB_val *v);
int prb_walk_subject(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t subject, prb_walk_fn fn,
                     void *ctx, uint64_t *last, const char *what);
/* The last id of subject in dbi, a database keyed as above, in *last (0
 * if it has none): one cursor seek, however many the subject has. */
int prb_subject_last(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t subject, uint64_t *last,
                     const char *what);
/* The same over every subject, from the first id past after. */
int prb_walk_after(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t after, prb_walk_fn fn,
                   void *ctx, const char *what);

/* A page of such a walk: at most limit items (0: no limit). The walk's
 * function calls prb_page_take for each item that belongs on the page,
 * before adding it: PRB_OK means add it; PRB_PAGE_FULL means the page is
 * full and there is more, so next is set (the id to pass as after for
 * the page that follows) and the function returns PRB_PAGE_FULL to stop
 * the walk, which the caller then takes for success. Looking one item
 * past a full page is what tells a last page from a full one. */
typedef struct prb_page {
    size_t limit, n;
    uint64_t last, next;
    /* A filtered page may keep few of the items it reads: with bounded
     * set, the walk's function calls prb_page_look first for every item
     * it reads, and after prb_scan_max of them the page ends, short or
     * even empty, with next set past the last one read. A listing of an
     * item a million others hide is then many cheap pages, not one
     * request that holds a thread. */
    int bounded;
    size_t seen;
    uint64_t looked;
} prb_page;
#define PRB_PAGE_FULL (-1)
int prb_page_take(prb_page *p, uint64_t id);
int prb_page_look(prb_page *p, uint64_t id);
/* A listing's page, the whole of it but the walk's function: walks dbi
 * from after in one read transaction (in *txn, when fn's ctx needs it,
 * for the walk's length), with fn adding items to array, and gives
 * array as indented JSON in *json (free() it) and page's next in *next
 * (may be NULL). Takes array (NULL: out of memory) in every case. */
struct json_t;
int prb_page_json(prb_env *env, MDB_dbi dbi, uint64_t after, prb_walk_fn fn, void *ctx,
                  MDB_txn **txn, struct json_t *array, const prb_page *page, char **json,
                  uint64_t *next, const char *what);
/* How many items a bounded page reads at most (tests lower it). */
extern size_t prb_scan_max;
/* How many due disputes one write transaction of the deadline sweep
 * resolves at most (tests lower it). */
extern size_t prb_sweep_batch;
/* How many records past retention one write transaction of the sweep
 * deletes at most (tests lower it). */
extern size_t prb_expire_batch;

/* Longest free text (a reason, a note, a name): a statement, of
 * characters (code points, as JSON Schema's maxLength counts them), so
 * that it is as long in Chinese as in English. Its UTF-8 is at most
 * PRB_TEXT_MAX_BYTES, 4 bytes a character. */
#define PRB_TEXT_MAX 2000
#define PRB_TEXT_MAX_BYTES (4 * PRB_TEXT_MAX)
/* Checks text a person wrote for another to read: UTF-8, at most
 * PRB_TEXT_MAX characters, no control characters but newline and tab,
 * and, when required, a visible character. Messages read "WHO: the WHAT
 * ...", and count characters from 1. */
int prb_text_check(prb_env *env, const char *who, const char *what, const char *s, int required);
/* Whether code point cp shows nothing: C1 controls, Unicode spaces and
 * format characters (zero-width, joiners, bidi controls, the BOM). */
int prb_invisible(uint32_t cp);

/* Compact (or indented) JSON written into one growing buffer
 * (jsonout.c), for documents made on every request and long ones. Start
 * from a zeroed prb_jw; keys and values are separated by commas as they
 * come. An allocation failure is remembered and reported by
 * prb_jw_finish, which returns the NUL-terminated text (the caller frees
 * it), or NULL if memory ran out or nothing was written, and leaves w
 * empty. Strings are UTF-8; a byte that is not becomes U+FFFD. */
typedef struct prb_jw {
    char *buf;
    size_t len, cap;
    int comma, after_key, oom;
    int indent; /* 0: compact; else as JSON_INDENT(indent), set before writing */
    int depth;
} prb_jw;
void prb_jw_open(prb_jw *w, char c); /* '{' or '[' */
void prb_jw_close(prb_jw *w, char c);
void prb_jw_key(prb_jw *w, const char *k);
void prb_jw_int(prb_jw *w, long long v);
void prb_jw_str(prb_jw *w, const char *s); /* NULL writes null */
/* v with the digits it needs to read back as the same double
 * (prb_real_str), and a '.' or an exponent; null when v is not finite. */
void prb_jw_real(prb_jw *w, double v);
/* num, the text of a number (prb_sc_points_str's), as a real: ".0" is
 * added to a whole number, as prb_jw_real writes one. */
void prb_jw_number(prb_jw *w, const char *num);
void prb_jw_null(prb_jw *w);
void prb_jw_bool(prb_jw *w, int v);
struct json_t; /* jansson's, so this header need not include it */
/* Writes jansson's tree v whole, objects' members in their order: what
 * json_dumps gives with the same indent, but for reals, written as
 * prb_jw_real writes them. Its strings hold no NUL (jansson's parser
 * gives none). */
void prb_jw_json(prb_jw *w, const struct json_t *v);
char *prb_jw_finish(prb_jw *w);

/* v as the shortest of "%.15g", "%.16g" and "%.17g" that strtod reads
 * back as v, its exponent written as jansson writes one ("1e-5"): the
 * one text of a real for people and for JSON, so that a value shown
 * beside another says the same. Returns the length, or -1 if size is
 * too small (PRB_REAL_STR always suffices). */
#define PRB_REAL_STR 32
int prb_real_str(char *b, size_t size, double v);

/* How a list is shown (prb_lists_write's vis): left out; only the
 * members whose entry is in effect as of the clock; in full; or, to an
 * inquirer for purposes the list serves, the members in effect of the
 * kinds those purposes take (PRB_LV_KINDS(mask of 1 << kind)). */
#define PRB_LV_NONE 0
#define PRB_LV_PUBLIC 1
#define PRB_LV_FULL 2
#define PRB_LV_KINDS(mask) (4 | (mask) << 3)
/* The kinds mask a PRB_LV_KINDS visibility carries; 0 for the others. */
#define PRB_LV_KINDS_OF(how) ((how)&4 ? (how) >> 3 : 0)
/* Who reads lists so that the members shown are told: an inquirer
 * (prb_lists_read_page), by its key's name and the purposes ("p1,p2") it
 * reads them for, or a member of staff (prb_lists_staff_page). */
typedef struct prb_list_reader {
    const char *name;
    const char *purposes;
    int staff; /* a member of staff's full view (purposes "*"), as role */
    int role;  /* with staff: PRB_ROLE_REVIEWER, PRB_ROLE_ADMIN, 0 the operator */
} prb_list_reader;
/* How a notice names a member of staff reading in role (PRB_ROLE_REVIEWER,
 * PRB_ROLE_ADMIN, or 0: the operator at the command line), as "a reviewer
 * of the register"; NULL for any other role. */
const char *prb_reader_words(int role);
/* PRB_OK if reader (a key's name, or the operator's account) and role may
 * name a member of staff in a notice of a read; else PRB_EINVAL saying
 * what ("a list read") needs. */
int prb_staff_reader(prb_env *env, const char *reader, int role, const char *what);
/* PRB_OK if the key with id is live as txn reads it (as prb_key_recheck
 * has it); PRB_EREVOKED if it is gone, revoked or its subject's
 * identifier names another subject now; else a store error. Messages in
 * env. */
int prb_key_live_txn(prb_env *env, MDB_txn *txn, const char *id);
/* The lists (or only the one named) as JSON, in policy order, each as
 * vis (indexed like the policy's lists) says (vis NULL: every list in
 * full); the members past subject number after, at most limit of them
 * (0: all), a list with more to come saying where they start ("next").
 * With rd (NULL: a plain read), every member shown of a purpose-bound
 * list rd reads for its purposes gets a "list_read" notice, in one
 * write transaction committed before *out is given (none if no one was
 * shown). free() *out. PRB_ENOTFOUND if name is given and not written. */
int prb_lists_write(prb_env *env, const char *name, const unsigned char *vis,
                    const prb_list_reader *rd, uint64_t after, size_t limit, char **out);

/* Reads subject's file within txn (the caller's snapshot); *f as in
 * prb_subject_read. */
int prb_file_load(prb_env *env, MDB_txn *txn, uint64_t subject, prb_file **f);
/* The bytes f's buffers hold (0 for NULL): they only grow as it is
 * loaded again. */
size_t prb_file_held(const prb_file *f);
/* The same for a decision's handle, its file included (tests). */
size_t prb_decision_held(const prb_decision *d);

/* -------------------------------------------------------------- features */

#include "scorecard.h"

/* An inquiry as features see it: when, and for which purpose. */
typedef struct prb_inq {
    int32_t day;
    int purpose; /* index in the policy, -1 if the policy no longer has it */
} prb_inq;

/* Whether rv is in force on day: in effect (its notice has run) and not
 * yet past retention. Usable is that and not disputed. */
static inline int prb_record_in_force(const prb_record_view *rv, int32_t day)
{
    return rv->effective_from <= day && day < rv->expires;
}
/* Whether rv would be usable on day but for an open dispute of it. */
static inline int prb_record_only_disputed(const prb_record_view *rv, int32_t day)
{
    return rv->disputed && prb_record_in_force(rv, day);
}

/* Computes every feature of the policy for one subject, reading only
 * usable records of the categories in allowed (DESIGN invariant 3) and the
 * subject's inquiries. vals has p->nfeatures entries. used, if not NULL,
 * gets a flag per record of f (prb_file_record order): 1 if it fed any
 * feature in need (a bit per feature, all features if need is NULL). */
void prb_features(const prb_policy *p, uint64_t allowed, const prb_file *f, const prb_inq *inq,
                  size_t ninq, int32_t today, const uint8_t *need, prb_value *vals, uint8_t *used);
/* prb_features without inquiries, reading a record under an open dispute
 * as if it were not disputed: whether a list's grounds stopped holding
 * only because the subject used the right to dispute (lists.c). These
 * values may hold back a new entry, never make or keep one (invariant 5). */
void prb_features_undisputed(const prb_policy *p, uint64_t allowed, const prb_file *f,
                             int32_t today, prb_value *vals);
/* Whether record rv (of category cat, -1 if unknown) is of the kind
 * feature fd counts: its categories and its where-conditions, whatever
 * its status and age (a list entry's records, lists.c). */
int prb_feature_of_record(const prb_featdef *fd, int cat, const prb_record_view *rv);
/* Whole months from day a to day b (b >= a); 0 within the first month. */
int prb_months_between(int32_t a, int32_t b);

/* ----------------------------------------------------------------- lists */

/* A subject's entry on a list as of a day. */
typedef struct prb_entry {
    int state;     /* PRB_LS_* */
    int32_t since; /* candidate and noticed */
    int32_t active_from, until, ended;
    int suspended; /* lifted or withdrawn only because its records are
                    * disputed: a refresh restores it if they stand */
    char ground[PRB_NAME_MAX];
} prb_entry;

enum {
    PRB_LS_NONE = 0,
    PRB_LS_NOTICED,
    PRB_LS_ACTIVE,
    PRB_LS_LIFTED,
    PRB_LS_EXPIRED,
    PRB_LS_WITHDRAWN
};

/* Whether the caller asked long operations on env to stop
 * (prb_set_cancel). */
int prb_cancelled(prb_env *env);
/* Recomputes subject's entries on every list of its kind within the
 * write transaction txn, as of today, and ends those on a list that no
 * longer takes its kind (a policy edit); new and ended entries create
 * notices. f is the subject's file read in txn. */
int prb_lists_refresh(prb_env *env, MDB_txn *txn, const prb_file *f, int32_t today);
/* The latest entry of subject on list l, with its state as of today. */
int prb_lists_entry(prb_env *env, MDB_txn *txn, uint64_t subject, int l, int32_t today,
                    prb_entry *e);
/* The entry of f's subject on list l as a refresh as of today would
 * leave it, read in txn without writing: what prb_lists_entry gives after
 * prb_lists_refresh. For a decision that does not refresh (a what-if, a
 * batch score): a stored entry ends only by a refresh, so one whose
 * records have expired or are disputed read as in force until the next
 * sweep. vals: scratch for p->nfeatures values. */
int prb_lists_entry_now(prb_env *env, MDB_txn *txn, const prb_file *f, int l, prb_value *vals,
                        int32_t today, prb_entry *e);
/* Sets mark[r] (a flag per record of f, prb_file_record order) for each
 * usable record an entry on ground of list l rests on: those a criterion
 * of the ground counts, whatever their status or age (any of the list's
 * categories for a ground that asks for no record). Returns how many. */
size_t prb_lists_ground_records(const prb_policy *p, int l, const char *ground, const prb_file *f,
                                uint8_t *mark);
/* Every entry of subject on list l, oldest first, each with its state as
 * of today, to fn; fn's non-zero return stops the walk and is returned. */
int prb_lists_each(prb_env *env, MDB_txn *txn, uint64_t subject, int l, int32_t today,
                   int (*fn)(void *ctx, const prb_entry *e), void *ctx);
/* The state (PRB_LS_*) as of today of a stored lst value v[0..n)
 * (lists.c's layout); PRB_ECORRUPT if it is malformed. */
int prb_lists_value_state(const void *v, size_t n, int32_t today, int *state);
/* The tag a LIST leaf carries in its aux for the lst entry whose key is
 * key[0..n): a 16-bit hash of the key past the subject (list name and
 * first day), never 0, which leaves logged before entries were tagged
 * have. Two entries of a subject may share one. */
unsigned prb_lists_leaf_tag(const unsigned char *key, size_t n);
/* Appends a notice to the outbox in txn. An outbox value is the subject
 * id (be64) and the notice as JSON (identifier, kind, about, text,
 * created, delivered); the key is the notice number (be64). */
int prb_notice_add(prb_env *env, MDB_txn *txn, uint64_t subject, const char *identifier,
                   const char *kind, const char *about, const char *text, int32_t today);
/* The same for a notice about subject to someone else, recipient (an
 * inquirer, told.c), which the notice names after its kind; filed under
 * the subject all the same, who sees who was told what (invariant 8).
 * recipient NULL is prb_notice_add. */
int prb_notice_add_to(prb_env *env, MDB_txn *txn, uint64_t subject, const char *identifier,
                      const char *recipient, const char *kind, const char *about, const char *text,
                      int32_t today);
void prb_notice_value(unsigned char *out, uint64_t subject, const char *json, size_t len);

/* ------------------------------------------------------------- decisions */

/* prb_decide within the caller's write transaction txn, for a batch of
 * decisions in one commit (decide_batch.c): everything but the commit.
 * *wrote is set once the decision has written to txn, so a failure with
 * *wrote clear left txn as it was. */
int prb_decide_txn(prb_env *env, MDB_txn *txn, const char *purpose, const char *identifier,
                   const char *requester, prb_decision **out, int *wrote);
/* The LMDB transaction id of the snapshot a decision of
 * prb_decide_prepare was made from (0 if d was not prepared or has been
 * stored), and its subject. */
uint64_t prb_decision_prepared(const prb_decision *d, uint64_t *subject);
/* The day (as of its clock) decision d was made on. */
int32_t prb_decision_day(const prb_decision *d);
uint64_t prb_decision_subject(const prb_decision *d);
/* The decision stored in txn under requester's idempotency key idem
 * within the last PRB_IDEM_SECONDS (idem.c): PRB_OK with a copy of its
 * JSON in *json (free()) if it answered the same purpose and identifier;
 * PRB_EEXIST, with a message, if another; PRB_ENOTFOUND (no message) if
 * none; PRB_EINVAL if idem is malformed. */
int prb_idem_find_txn(prb_env *env, MDB_txn *txn, const char *requester, const char *idem,
                      const char *purpose, const char *identifier, char **json);
/* Keeps json, the decision about subject just stored in txn, under
 * requester's idempotency key idem, replacing an expired entry. */
int prb_idem_put_txn(prb_env *env, MDB_txn *txn, const char *requester, const char *idem,
                     const char *purpose, const char *identifier, uint64_t subject,
                     const char *json);
/* Stores a prepared decision in txn as it was made: the subject's list
 * entries are refreshed first, and if that changed any, *stale is set and
 * the inquiry is not stored (the caller makes the decision again in txn).
 * The caller has checked that nothing else the decision read changed
 * since its snapshot. */
int prb_decide_store_prepared(prb_env *env, MDB_txn *txn, prb_decision *d, int *stale);
void prb_recent_free(struct prb_recent *r);

/* ------------------------------------------ recipients told (told.c) */

/* Tells the requester of decision subject-qno, in txn, that review (its
 * id, "12-r1") overturned the decision on day today: a notice (kind
 * inquirer_overturned) to the requester, filed under the subject. A
 * decision with no requester tells no one. PRB_ECORRUPT if the decision
 * cannot be read. */
int prb_tell_overturned(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no,
                        const char *review, int32_t today);
/* Tells, in txn, each requester given a decision about subject that
 * used one of the records rids[0..n) (its records_used names it, by id
 * whatever the version; made at most
 * PRB_RECIPIENT_DAYS before today) that the records were corrected
 * (deleted: 0) or deleted (1) on today: one notice (kind
 * inquirer_corrected or inquirer_deleted) per requester, naming the
 * records by id and its decisions. The subject's inquiries are read back
 * in the index over the window (prb_iidx_recent), in a read
 * transaction of the call's own. The records are the caller's to have
 * found. PRB_ECORRUPT if one of the
 * decisions cannot be read, unless lenient (the sweep): then it is
 * passed over (the index's own damage still fails). */
int prb_tell_changed(prb_env *env, MDB_txn *txn, uint64_t subject, const uint64_t *rids, size_t n,
                     int deleted, int lenient, int32_t today);

/* -------------------------------------------- reviews, the subject's copy */

/* The decision an inq value (decide.c's layout) holds, parsed; NULL if the
 * value is malformed. The caller owns the result (json_decref). */
struct json_t *prb_inquiry_decision(const void *value, size_t n);
/* The header of a stored inquiry: its purpose's name (*plen bytes, not
 * NUL-terminated, within value) and outcome (PRB_APPROVE..PRB_DECLINE).
 * PRB_ECORRUPT if value is not an inquiry this code reads. */
int prb_inquiry_header(const void *value, size_t n, const char **purpose, size_t *plen,
                       int *outcome);
/* The number of entries of table dbi, read in a snapshot of its own; what
 * says what failed. */
int prb_entries(prb_env *env, MDB_dbi dbi, const char *what, uint64_t *n);
/* The number the next entry appended through cur gets, on a table keyed
 * by be64 numbers from 1 (the inquiry log, the outbox): one past the
 * last. what names the reading in a store error. */
int prb_next_number(prb_env *env, MDB_cursor *cur, const char *what, uint64_t *next);
/* An ilog value: whose inquiry it is, and the inquiry (within value).
 * PRB_ECORRUPT if it is too short. */
int prb_ilog_entry(const void *value, size_t n, uint64_t *subject, uint32_t *no,
                   const void **inquiry, size_t *len);
/* The inquiry index (iidx.c). Opened (made, or made again from the log,
 * when it cannot be trusted) and brought up to the log's end. */
int prb_iidx_open(prb_env *env);
/* The modes every file and directory the engine makes is created with
 * (the register's, its index's, a spool's): the register holds who owes
 * what, every decision and who asked about whom, so under the usual
 * umask of 022 any local user could read it all, and, since flock takes
 * a read-only descriptor, hold index.lock exclusively and stop every
 * probity process from opening the register. Only the owner may. */
#define PRB_FILE_MODE 0600
#define PRB_DIR_MODE 0700
/* Writes name in dir whole or not at all (a temporary file, flushed and
 * renamed), and flushes dir so the name survives a restart. */
int prb_file_replace(prb_env *env, const char *dir, const char *name, const char *buf, size_t len);
/* Gives an LMDB lock file at path (made if missing) its blocks, before
 * the process opens its environment: LMDB maps it sparse, and a reader
 * slot first used on a page without a block, where the filesystem has
 * none left, raises SIGBUS. 0, or -1 with errno ENOSPC (other failures
 * are left for LMDB to find). */
int prb_lock_file_room(const char *path);
/* Flushes a directory's names (after a create, rename or unlink): 0, or
 * -1 with errno set. */
int prb_fsync_dir(const char *dir);
/* The same, with the message on env on failure (PRB_EIO). */
int prb_dir_sync(prb_env *env, const char *dir);
/* The directory path is named in, into out (size bytes): "a/b" and
 * "a/b/" are named in "a", "b" in ".", "/b" in "/". */
void prb_parent_of(const char *path, char *out, size_t size);
/* Makes the directory path and its missing parents (PRB_DIR_MODE), each
 * flushed in its parent, so that none a crash forgets holds a file (a
 * spool's, a placed index's). path is changed while this runs, and put
 * back. 0, or -1 with errno set (ENOTDIR if a name on it is a file). */
int prb_make_dirs(char *path);
void prb_iidx_close(prb_env *env);
/* Indexes what the log holds beyond the index; after a commit that
 * appended to it, and when opening. */
int prb_iidx_catch_up(prb_env *env);
/* The index's upto in itxn, a transaction of the index: every log entry
 * below it is indexed. */
int prb_iidx_upto(prb_env *env, MDB_txn *itxn, uint64_t *upto);
/* The same for notices (nidx): every outbox entry below nupto is indexed. */
int prb_nidx_upto(prb_env *env, MDB_txn *itxn, uint64_t *upto);
/* Calls fn(ctx, no) for each notice to subject in txn's snapshot (a
 * transaction of the register), by number; a non-zero return stops the
 * walk and is returned. */
typedef int (*prb_nidx_fn)(void *ctx, uint64_t no);
int prb_nidx_each(prb_env *env, MDB_txn *txn, uint64_t subject, prb_nidx_fn fn, void *ctx);
/* A notice as the outbox keeps it after its subject (compact JSON: the
 * keys in this order, recipient and category left out when NULL, not
 * yet delivered); the caller frees it. NULL when out of memory. */
char *prb_notice_json(const char *identifier, const char *kind, const char *recipient,
                      const char *about, const char *category, const char *text, const char *day);

/* An iidx value: the inquiry's place in ilog, its day and purpose (within
 * value). PRB_ECORRUPT if malformed. */
int prb_iidx_value(const void *value, size_t n, uint64_t *g, int32_t *day, const char **purpose,
                   size_t *pl);
/* Called for each inquiry of a subject, oldest first (but see
 * prb_iidx_recent): 0 to go on, -1 to stop, a PRB_E* code to fail with it. */
typedef int (*prb_iidx_fn)(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose,
                           size_t pl);
/* Every inquiry about subject that txn's snapshot of the log holds, from
 * the index and, past its end, the log itself. With keep, the index read
 * transaction comes from and goes back to *keep, reset (the caller
 * aborts it in the end); without, it is the call's own. */
int prb_iidx_each(prb_env *env, MDB_txn *txn, MDB_txn **keep, uint64_t subject, prb_iidx_fn fn,
                  void *ctx);
/* The inquiries about subject of txn's snapshot that are of day since or
 * later (and perhaps some earlier), and in *last the subject's last
 * inquiry number (0: none yet). fn gets the index's newest first, then
 * those of the log's tail, not indexed yet, oldest first. The index is
 * read back from the subject's newest inquiry only as far as the order
 * of the days (prb_iorder) says an earlier one may be of since or later:
 * a subject asked about a million times is read back over its windows,
 * not its history. Without fn, only *last. keep as in prb_iidx_each. */
int prb_iidx_recent(prb_env *env, MDB_txn *txn, MDB_txn **keep, uint64_t subject, int32_t since,
                    prb_iidx_fn fn, void *ctx, uint32_t *last);
/* How the days of the inquiries the index holds run: by their place in
 * the log mostly, but not always (a decision made --as-of another day,
 * the clock set back). Kept in the index's meta ("order": be64 upto, le32
 * latest, le32 behind, be64 last), made with it from the log, of the
 * log's [1, upto): the latest day; the most days an inquiry's day fell
 * behind the latest day before it; the place of the last one that fell
 * behind (0: none). So no inquiry before place g is of a day after
 * day(g) + behind, nor, when g is after last, after day(g). */
typedef struct prb_iorder {
    uint64_t upto;
    int32_t latest;
    uint32_t behind;
    uint64_t last;
} prb_iorder;
/* The marks in itxn, a transaction of the index: PRB_ENOTFOUND when it
 * has none (*o then as for an empty index), PRB_ECORRUPT (no message)
 * when malformed. Readers trust them only when o->upto is the index's. */
int prb_iidx_order(prb_env *env, MDB_txn *itxn, prb_iorder *o);
/* Adds the inquiry at place g, of day day, to o: the one rule by which
 * the index makes them and verify checks them. */
static inline void prb_iorder_add(prb_iorder *o, uint64_t g, int32_t day)
{
    if (day < o->latest) {
        if ((uint32_t)((int64_t)o->latest - day) > o->behind)
            o->behind = (uint32_t)((int64_t)o->latest - day);
        o->last = g;
    } else {
        o->latest = day;
    }
}
/* Where in the log inquiry no of subject is, by one lookup in the index:
 * *g 0 when the index does not hold it (not made, made after txn's
 * snapshot, or not indexed yet: prb_iidx_each reads the log's tail). */
int prb_iidx_find(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, uint64_t *g);
/* Inquiry no of subject, as stored (within txn's pages): PRB_ENOTFOUND if
 * there is none, PRB_ECORRUPT if the index and the log disagree. */
int prb_inquiry_get(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, MDB_val *inquiry);
/* The same at place g of the log, where the index (prb_iidx_each) says
 * inquiry no of subject is: PRB_ECORRUPT if the log holds another there. */
int prb_inquiry_at(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, uint64_t g,
                   MDB_val *inquiry);
/* Moves the inquiries of a store format 1 register (inq) into ilog, in
 * txn (the index is made from the log when the register is opened). */
int prb_inquiries_migrate(prb_env *env, MDB_txn *txn);
/* Appends the decision of every inquiry about subject, oldest first, to
 * array (decide.c); PRB_ECORRUPT for a malformed one. */
int prb_subject_inquiries(prb_env *env, MDB_txn *txn, uint64_t subject, struct json_t *array);
/* Indexes every review of the register by its decision in rvq, in txn
 * (a register of store format 4 or earlier had no rvq). */
int prb_reviews_index(prb_env *env, MDB_txn *txn);
/* The key in rvq of the decision that review id's stored value v (len
 * bytes) names, in key; -1 if v names no decision of the review's
 * subject (verify). */
#define PRB_RVQ_KEY_LEN PRB_INQ_KEY_LEN /* a decision's key: its inquiry's */
int prb_review_decision_key(uint64_t id, const void *v, size_t len,
                            unsigned char key[PRB_RVQ_KEY_LEN]);
/* Appends every review of subject, in id order, to array (review.c). */
int prb_subject_reviews(prb_env *env, MDB_txn *txn, uint64_t subject, struct json_t *array);

/* -------------------------------------------------------------- disputes */

/* A record id as the subject's file shows it, "SUBJECT-NUMBER" ("12-3"),
 * and back (PRB_EINVAL if s[0..n) is not one). */
void prb_record_name(char *buf, size_t n, uint64_t id);
int prb_record_parse(const char *s, size_t n, uint64_t *id);
/* Calls fn with the id of every record of subject under an open dispute
 * (dispute.c); one cursor seek, none when the register holds no dispute. */
int prb_disputes_open_records(prb_env *env, MDB_txn *txn, uint64_t subject,
                              void (*fn)(void *ctx, uint64_t record), void *ctx);
/* Appends every dispute of subject, in id order, to array. */
int prb_subject_disputes(prb_env *env, MDB_txn *txn, uint64_t subject, struct json_t *array);
/* Whether a dispute d (parsed) belongs on a listing: *keep gets 0 to
 * leave it out. Called in the listing's read transaction txn. */
typedef int (*prb_dispute_keep_fn)(void *ctx, MDB_txn *txn, struct json_t *d, int *keep);
/* prb_disputes_page with only the disputes keep (NULL: every one) keeps.
 * With keep, a page reads at most prb_scan_max disputes and may end
 * short of limit with *next set. */
int prb_disputes_kept(prb_env *env, int open_only, uint64_t after, size_t limit,
                      prb_dispute_keep_fn keep, void *kctx, char **json, uint64_t *next);
/* Resolves every open dispute past its deadline in the subject's
 * favour: the record is deleted. They are found on a snapshot and
 * resolved in write transactions of their own, a few hundred each (a
 * subject's in one), each checked again in it; a stop (prb_set_cancel)
 * between two leaves the rest to the next sweep. One that fails is
 * tried again a subject a transaction, a subject that fails again is
 * left, and the first error is returned once the rest are resolved.
 * *resolved (may be NULL) is increased by the number resolved. */
int prb_disputes_sweep(prb_env *env, uint64_t *resolved);
/* Closes the open dispute of record, if any, which retention has just
 * deleted in txn: state deleted, resolved_by "retention", and the
 * subject told so (not that the furnisher failed to answer). */
int prb_disputes_record_expired(prb_env *env, MDB_txn *txn, uint64_t record);

/* What an ingest batch needs to resolve the disputes its corrections
 * answer: whether the register held any dispute when it started (if not,
 * the usual batch, it notes nothing), and the records it corrected. Only
 * their subjects' disputes are read, when the batch resolves them: a
 * batch that read every dispute stored held the writer as long as the
 * register's history of disputes took to read. */
typedef struct prb_dspfix {
    int any;
    uint64_t *hit;
    size_t nhit, hcap;
} prb_dspfix;
int prb_dspfix_load(prb_env *env, MDB_txn *txn, prb_dspfix *x);
/* Whether record has an open dispute past its deadline, which its
 * correction comes too late to answer (the sweep deletes the record):
 * the deadline, YYYY-MM-DD, into deadline, or "" if not. */
int prb_dspfix_overdue(prb_env *env, MDB_txn *txn, const prb_dspfix *x, uint64_t record,
                       char deadline[11]);
/* Notes that the batch corrected record (call only when x->any). */
int prb_dspfix_note(prb_dspfix *x, uint64_t record);
/* Resolves as corrected, in txn, the disputes open of the noted records:
 * nothing else writes dsp in the batch before it, so they are the ones
 * open when the batch began. */
int prb_dspfix_resolve(prb_env *env, MDB_txn *txn, prb_dspfix *x);
void prb_dspfix_free(prb_dspfix *x);

#endif
