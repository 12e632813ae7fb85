/*
 * gen.c - the synthetic population: NDJSON credit records for made-up persons and companies,
 * used by the tests, the demo and the benchmarks (prb_gen in probity.h).
 *
 * Persons 1..N come first, then companies 1..M, each subject's records together, one JSON
 * object per line in the ingest format. Every subject draws from its own PRNG, seeded from
 * opts->seed and its number, so what a subject gets depends on nothing else: a run with fewer
 * persons is a prefix of one with more, and the companies are the same whatever the number of
 * persons. Identifiers come from a bijection of the subject number, which makes them unique
 * without a set to check against; their check characters come from ident.h, the validator's
 * own code, so generator and ingest cannot disagree.
 *
 * Every record is meant to be accepted at ingest as of opts->today and to stay within retention
 * (policy/default.json): events fall in the 730 days before today, and records whose retention
 * runs out soon after settlement (judgments, fines, insolvency) are never settled.
 *
 * Text is formatted by hand into one large buffer that goes to the caller a whole number of
 * lines at a time: printf would cost more than everything else put together.
 */
#include "ident.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE ((size_t)1 << 20)
/* Far more than any record needs; flushing while this much is free lets the formatters write
 * without bounds checks, since all their text comes from the tables below. */
#define RECORD_MAX 2048

#define EVENT_SPAN 730       /* days back an event may lie: well inside every retention */
#define OPENED_SPAN 5479     /* 15 years: how far before its event an account may have opened */
#define REPORT_SPAN 60       /* open accounts are reported monthly, so their event is recent */
#define TAX_SETTLED_SPAN 300 /* settled tax arrears are kept 365 days after settlement */

/* Person identifiers encode birth date, region and a 3-digit sequence, rid_space() distinct
 * numbers in all (about 386 million); companies get 8-digit organisation codes. */
#define BIRTH_YEAR_FIRST 1940
#define BIRTH_YEAR_LAST 2005
#define ORG_SPACE 100000000u
/* A prime larger than either space, so multiplying by it permutes them. */
#define PERM_MUL 2654435761u
/* Odd, so multiplying by it permutes the integers mod 2^62 that the 12 LEI characters hold. */
#define LEI_MUL 0x2545F4914F6CDD1Du
#define LEI_MASK (((uint64_t)1 << 62) - 1)

/* ------------------------------------------------------------------ tables */

typedef struct court {
    const char *furnisher;
    const char *name;
    const char *abbr; /* the province's one-word name in case numbers */
    const char *code; /* the court's code in case numbers */
} court;

static const court COURTS[] = {
    {"court-beijing-1", "Beijing No. 1 Intermediate People's Court", "Jing", "01"},
    {"court-beijing-2", "Beijing Chaoyang District People's Court", "Jing", "0105"},
    {"court-shanghai-1", "Shanghai No. 1 Intermediate People's Court", "Hu", "01"},
    {"court-shanghai-2", "Shanghai Pudong New Area People's Court", "Hu", "0115"},
    {"court-guangzhou-1", "Guangzhou Intermediate People's Court", "Yue", "01"},
    {"court-guangzhou-2", "Guangzhou Tianhe District People's Court", "Yue", "0106"},
    {"court-shenzhen-1", "Shenzhen Intermediate People's Court", "Yue", "03"},
    {"court-shenzhen-2", "Shenzhen Nanshan District People's Court", "Yue", "0305"},
    {"court-hangzhou-1", "Hangzhou Intermediate People's Court", "Zhe", "01"},
    {"court-nanjing-1", "Nanjing Intermediate People's Court", "Su", "01"},
    {"court-chengdu-1", "Chengdu Intermediate People's Court", "Chuan", "01"},
    {"court-wuhan-1", "Wuhan Intermediate People's Court", "E", "01"},
    {"court-xian-1", "Xi'an Intermediate People's Court", "Shaan", "01"},
};
#define NCOURTS (sizeof COURTS / sizeof COURTS[0])

/* Administrative division codes (GB/T 2260) and the courts a resident would go before: the
 * first of each city's courts is the intermediate court that hears insolvency. */
typedef struct region {
    const char *code;
    unsigned court_first, court_n;
} region;

static const region REGIONS[] = {
    {"110101", 0, 2}, {"110102", 0, 2},  {"110105", 0, 2},  {"110108", 0, 2},
    {"310101", 2, 2}, {"310104", 2, 2},  {"310115", 2, 2},  {"440103", 4, 2},
    {"440106", 4, 2}, {"440304", 6, 2},  {"440305", 6, 2},  {"330106", 8, 1},
    {"320102", 9, 1}, {"510107", 10, 1}, {"420106", 11, 1}, {"610113", 12, 1},
};
#define NREGIONS (sizeof REGIONS / sizeof REGIONS[0])

static const char *const BANKS[] = {"bank-a", "bank-b", "bank-c", "bank-d", "bank-e"};
static const unsigned BANK_W[] = {30, 25, 20, 15, 10};

/* Credit accounts per subject, 1..12: mostly 1-8, about 5 on average. */
static const unsigned NACCOUNTS_W[] = {0, 10, 12, 13, 13, 12, 11, 9, 7, 5, 4, 2, 2};
#define MAX_ACCOUNTS 12

static const unsigned DPD[] = {0, 30, 60, 90, 120, 180};
static const unsigned DPD_W[] = {880, 70, 30, 10, 6, 4};
/* The account behind a payment default was at least 90 days late. */
static const unsigned DPD_BAD[] = {90, 120, 180, 360};
static const unsigned DPD_BAD_W[] = {40, 30, 20, 10};

static const char *const STAGES[] = {"filed", "opened", "rejected_for_lack_of_assets", "discharged",
                                     "closed"};
static const unsigned STAGE_W[] = {25, 40, 10, 15, 10};

typedef struct fine_domain {
    const char *name;
    const char *furnisher;
    const char *basis;
} fine_domain;

static const fine_domain FINES[] = {
    {"environment", "regulator-env", "environmental protection law art. 59"},
    {"workplace_safety", "regulator-labour", "work safety law art. 99"},
    {"consumer", "regulator-consumer", "consumer rights protection law art. 56"},
    {"other", "regulator-consumer", "administrative penalty law art. 9"},
};
static const unsigned FINE_W[] = {35, 30, 25, 10};

static const char *const GROUNDS[] = {"fraud",       "corruption",       "money_laundering",
                                      "tax_evasion", "grave_misconduct", "other"};
static const unsigned GROUND_W[] = {20, 20, 10, 25, 15, 10};

/* Prefixes of LEI issuers (the first four characters of real LEIs). */
static const char *const LOUS[] = {"5493", "3003", "8945", "9845", "2138", "5299", "7245", "9695"};

/* Chances, in units of 1/10000 per subject. */
enum {
    P_DEFAULT = 800,
    P_DEFAULT_TWICE = 1500, /* of those with a default */
    P_DEFAULT_SETTLED = 5000,
    P_PERSON_JUDGMENT = 200,
    P_PERSON_INSOLVENCY = 50,
    P_TAX = 500,
    P_TAX_SETTLED = 3000,
    P_FINE = 300,
    P_COMPANY_JUDGMENT = 200,
    P_COMPANY_INSOLVENCY = 100,
    P_EXCLUSION = 30,
    P_LEI = 3000,
    P_CLOSED = 1200, /* of credit accounts */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* -------------------------------------------------------------------- PRNG */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* splitmix64: an add and a mix per draw, and any 64-bit value is a good seed. */
static uint64_t rnd(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15u;
    return mix64(*s);
}

/* Uniform in [0, n) by multiply-shift; the bias (n / 2^32) does not matter here. */
static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(((rnd(s) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static int32_t rnd_day(uint64_t *s, int32_t lo, int32_t hi)
{
    return lo + (int32_t)rnd_below(s, (uint32_t)(hi - lo) + 1);
}

static int chance(uint64_t *s, unsigned per_10000)
{
    return rnd_below(s, 10000) < per_10000;
}

static unsigned pick(uint64_t *s, const unsigned *w, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    unsigned r = rnd_below(s, total);
    size_t i = 0;
    while (r >= w[i])
        r -= w[i++];
    return (unsigned)i;
}

/* In [lo, hi], mostly near lo: money amounts are roughly log-normal, and the cube of a uniform
 * number comes close enough without libm. */
static int64_t rnd_skewed(uint64_t *s, int64_t lo, int64_t hi)
{
    double u = (double)(rnd(s) >> 11) * 0x1p-53;
    return lo + (int64_t)((double)(hi - lo) * u * u * u);
}

/* A fraction of x, in [lo_pct, hi_pct) percent, to the minor unit. */
static int64_t rnd_share(uint64_t *s, int64_t x, unsigned lo_pct, unsigned hi_pct)
{
    uint64_t bp = lo_pct * 100u + rnd_below(s, (hi_pct - lo_pct) * 100u);
    return (int64_t)((uint64_t)x / 10000u * bp + (uint64_t)x % 10000u * bp / 10000u);
}

/* ------------------------------------------------------------------- dates */

static int year_of(int32_t day)
{
    int y;
    unsigned m, d;
    prb_civil_from_days(day, &y, &m, &d);
    return y;
}

/* ------------------------------------------------------------------ writer */

typedef struct writer {
    char *buf;
    size_t len;
    prb_write_fn out;
    void *ctx;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_char(writer *w, char c)
{
    w->buf[w->len++] = c;
}

/* Exactly width digits, zero-padded (width <= 20). */
static void put_digits(writer *w, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        w->buf[w->len + (size_t)i] = (char)('0' + v % 10);
        v /= 10;
    }
    w->len += (size_t)width;
}

static void put_u64(writer *w, uint64_t v)
{
    int width = 1;
    for (uint64_t t = v; t >= 10; t /= 10)
        width++;
    put_digits(w, v, width);
}

/* A JSON string, quoted and escaped; everything after 0x7f is passed through as UTF-8. */
static void put_json_str(writer *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put_char(w, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put_char(w, '\\');
            put_char(w, (char)c);
        } else if (c < 0x20) {
            PUT_LIT(w, "\\u00");
            put_char(w, hex[c >> 4]);
            put_char(w, hex[c & 15]);
        } else {
            put_char(w, (char)c);
        }
    }
    put_char(w, '"');
}

/* "YYYY-MM-DD", quoted. */
static void put_date(writer *w, int32_t day)
{
    int y;
    unsigned m, d;
    prb_civil_from_days(day, &y, &m, &d);
    put_char(w, '"');
    put_digits(w, (uint64_t)y, 4);
    put_char(w, '-');
    put_digits(w, m, 2);
    put_char(w, '-');
    put_digits(w, d, 2);
    put_char(w, '"');
}

/* Minor units as "1250.00", quoted. */
static void put_amount(writer *w, int64_t minor)
{
    put_char(w, '"');
    put_u64(w, (uint64_t)minor / 100);
    put_char(w, '.');
    put_digits(w, (uint64_t)minor % 100, 2);
    put_char(w, '"');
}

/* Hands the buffer over once it is nearly full, so chunks always end at a line's end. */
static int flush_if_full(writer *w)
{
    if (BUF_SIZE - w->len >= RECORD_MAX)
        return 0;
    int rc = w->out(w->ctx, w->buf, w->len);
    w->len = 0;
    return rc;
}

/* ----------------------------------------------------------------- subjects */

typedef struct subject {
    int kind; /* PRB_PERSON or PRB_COMPANY */
    uint64_t num;
    char id[48]; /* "scheme:value" */
    const region *home;
    int cny;          /* a subject's records all use one currency */
    int32_t earliest; /* first day an account may have been opened */
    int32_t today;
    unsigned nrecords; /* numbers the refs */
    uint64_t rng;
} subject;

static uint64_t subject_seed(uint64_t seed, int kind, uint64_t num)
{
    uint64_t salt = kind == PRB_PERSON ? 0 : 0xC3A5C85C97CB3127u;
    return mix64(seed ^ salt ^ mix64(num));
}

/* Maps x in [0, space) to [0, space) one to one; space must be below PERM_MUL. The offset is
 * mixed so that small seeds do not start at the space's first number. */
static uint64_t permute(uint64_t x, uint64_t space, uint64_t seed)
{
    return (x * PERM_MUL + mix64(seed) % space) % space;
}

static int32_t birth_first(void)
{
    return prb_days_from_civil(BIRTH_YEAR_FIRST, 1, 1);
}

static uint64_t birth_days(void)
{
    return (uint64_t)(prb_days_from_civil(BIRTH_YEAR_LAST + 1, 1, 1) - birth_first());
}

static uint64_t rid_space(void)
{
    return NREGIONS * birth_days() * 1000;
}

/* cn-rid: region (6), birth date (8), sequence (3, odd for men), check character. */
static int person_init(subject *sb, const prb_gen_opts *o, uint64_t num)
{
    uint64_t x = permute(num - 1, rid_space(), o->seed);
    unsigned seq = (unsigned)(x % 1000);
    x /= 1000;
    int32_t birth = birth_first() + (int32_t)(x % birth_days());
    sb->home = &REGIONS[x / birth_days()];

    int y;
    unsigned m, d;
    prb_civil_from_days(birth, &y, &m, &d);
    char body[18];
    writer w = {body, 0, NULL, NULL};
    put_str(&w, sb->home->code);
    put_digits(&w, (uint64_t)y, 4);
    put_digits(&w, m, 2);
    put_digits(&w, d, 2);
    put_digits(&w, seq, 3);
    body[17] = prb_ident_cn_rid_check(body);
    if (!body[17])
        return PRB_EINVAL; /* not 17 digits: a bug above */
    memcpy(sb->id, "cn-rid:", 7);
    memcpy(sb->id + 7, body, 18);
    sb->id[25] = 0;

    sb->earliest = prb_days_from_civil(y + 18, m, d);
    sb->cny = chance(&sb->rng, 8000);
    return 0;
}

/* The check character of a GB 11714 organisation code (its first 8 characters are digits
 * here), which a USCC carries in positions 9-17. */
static char org_code_check(const char c[8])
{
    static const unsigned weight[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    unsigned sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (unsigned)(c[i] - '0') * weight[i];
    unsigned v = 11 - sum % 11;
    return v == 10 ? 'X' : v == 11 ? '0' : (char)('0' + v);
}

/* cn-uscc: "91" (an enterprise registered with market regulation), region (6), organisation
 * code (9), check character. */
static int uscc_init(subject *sb, uint64_t org)
{
    char body[18];
    writer w = {body, 0, NULL, NULL};
    PUT_LIT(&w, "91");
    put_str(&w, sb->home->code);
    put_digits(&w, org, 8);
    body[16] = org_code_check(body + 8);
    body[17] = prb_ident_cn_uscc_check(body);
    if (!body[17])
        return PRB_EINVAL; /* a character outside the alphabet: a bug above */
    memcpy(sb->id, "cn-uscc:", 8);
    memcpy(sb->id + 8, body, 18);
    sb->id[26] = 0;
    return 0;
}

/* lei: issuer prefix (4), "00", entity part (12, base 36), two check digits. */
static int lei_init(subject *sb, uint64_t org)
{
    static const char b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char body[20];
    memcpy(body, LOUS[rnd_below(&sb->rng, COUNT(LOUS))], 4);
    body[4] = body[5] = '0';
    uint64_t v = ((org + 1) * LEI_MUL) & LEI_MASK;
    for (int i = 17; i >= 6; i--) {
        body[i] = b36[v % 36];
        v /= 36;
    }
    if (prb_ident_lei_check(body, body + 18) != 0)
        return PRB_EINVAL;
    memcpy(sb->id, "lei:", 4);
    memcpy(sb->id + 4, body, 20);
    sb->id[24] = 0;
    return 0;
}

static int company_init(subject *sb, const prb_gen_opts *o, uint64_t num)
{
    uint64_t org = permute(num - 1, ORG_SPACE, o->seed);
    sb->home = &REGIONS[rnd_below(&sb->rng, NREGIONS)];
    sb->earliest = o->today - EVENT_SPAN - OPENED_SPAN;
    int lei = chance(&sb->rng, P_LEI);
    sb->cny = chance(&sb->rng, lei ? 4000 : 8500);
    return lei ? lei_init(sb, org) : uscc_init(sb, org);
}

static int subject_init(subject *sb, const prb_gen_opts *o, int kind, uint64_t num)
{
    sb->kind = kind;
    sb->num = num;
    sb->today = o->today;
    sb->nrecords = 0;
    sb->rng = subject_seed(o->seed, kind, num);
    return kind == PRB_PERSON ? person_init(sb, o, num) : company_init(sb, o, num);
}

/* Money in the subject's currency: lo and hi are in euros, yuan are worth about a seventh. */
static int64_t money(subject *sb, int64_t lo, int64_t hi)
{
    int64_t f = sb->cny ? 700 : 100;
    return rnd_skewed(&sb->rng, lo * f, hi * f) + rnd_below(&sb->rng, 100);
}

/* A round limit: to 100 euros or 1000 yuan. */
static int64_t money_round(subject *sb, int64_t lo, int64_t hi)
{
    int64_t unit = sb->cny ? 100000 : 10000;
    int64_t v = money(sb, lo, hi) / unit * unit;
    return v > 0 ? v : unit;
}

static const char *currency(const subject *sb)
{
    return sb->cny ? "CNY" : "EUR";
}

static int32_t recent_event(subject *sb)
{
    return rnd_day(&sb->rng, sb->today - EVENT_SPAN, sb->today - 1);
}

/* ------------------------------------------------------------------ records */

typedef struct rec {
    const char *furnisher;
    char ref_prefix; /* one letter per category keeps refs apart within a furnisher */
    const char *category;
    const char *status;
    int32_t event;
    int32_t settled; /* PRB_NO_DATE when none */
    const char *basis;
} rec;

/* Everything up to the first field. The ref "L-P17-3" names the subject (P or C and its
 * number) and the subject's record, so it is unique for any furnisher. */
static void rec_begin(writer *w, subject *sb, const rec *r)
{
    PUT_LIT(w, "{\"furnisher\":");
    put_json_str(w, r->furnisher);
    PUT_LIT(w, ",\"ref\":\"");
    put_char(w, r->ref_prefix);
    put_char(w, '-');
    put_char(w, sb->kind == PRB_PERSON ? 'P' : 'C');
    put_u64(w, sb->num);
    put_char(w, '-');
    put_u64(w, ++sb->nrecords);
    if (sb->kind == PRB_PERSON)
        PUT_LIT(w, "\",\"subject\":{\"kind\":\"person\",\"id\":\"");
    else
        PUT_LIT(w, "\",\"subject\":{\"kind\":\"company\",\"id\":\"");
    put_str(w, sb->id);
    PUT_LIT(w, "\"},\"category\":\"");
    put_str(w, r->category);
    PUT_LIT(w, "\",\"status\":\"");
    put_str(w, r->status);
    PUT_LIT(w, "\",\"event_date\":");
    put_date(w, r->event);
    PUT_LIT(w, ",\"settled_date\":");
    if (r->settled == PRB_NO_DATE)
        PUT_LIT(w, "null");
    else
        put_date(w, r->settled);
    PUT_LIT(w, ",\"legal_basis\":");
    put_json_str(w, r->basis);
    PUT_LIT(w, ",\"fields\":{");
}

static int rec_end(writer *w)
{
    PUT_LIT(w, "}}\n");
    return flush_if_full(w);
}

static void field_amount(writer *w, subject *sb, int64_t minor)
{
    PUT_LIT(w, "\"amount\":");
    put_amount(w, minor);
    PUT_LIT(w, ",\"currency\":\"");
    put_str(w, currency(sb));
    put_char(w, '"');
}

/* Less a few cents, since a share of a round limit would be round too (and the result must
 * not go over it). */
static int64_t with_cents(subject *sb, int64_t v)
{
    return v >= 100 ? v - rnd_below(&sb->rng, 100) : v;
}

static int64_t account_balance(subject *sb, int64_t limit, int revolving, int defaulted)
{
    uint64_t *s = &sb->rng;
    if (defaulted)
        return rnd_share(s, limit, 50, 110);
    if (!revolving)
        return rnd_share(s, limit, 2, 100);
    unsigned r = rnd_below(s, 100);
    if (r < 20)
        return 0;
    if (r < 24) /* over the limit */
        return rnd_share(s, limit, 100, 110);
    unsigned pct = rnd_below(s, 100);
    return rnd_share(s, limit, 0, pct * pct / 100 + 1);
}

static int64_t account_limit(subject *sb, int revolving)
{
    if (sb->kind == PRB_PERSON)
        return revolving ? money_round(sb, 500, 30000) : money_round(sb, 2000, 500000);
    return revolving ? money_round(sb, 10000, 2000000) : money_round(sb, 20000, 10000000);
}

/* "loan contract 2019-123": the agreement, numbered in the year it was signed. */
static void account_basis(subject *sb, char *dst, int revolving, int32_t opened)
{
    writer w = {dst, 0, NULL, NULL};
    if (!revolving)
        put_str(&w, "loan contract ");
    else
        put_str(&w, sb->kind == PRB_PERSON ? "card agreement " : "facility agreement ");
    put_digits(&w, (uint64_t)year_of(opened), 4);
    put_char(&w, '-');
    put_u64(&w, 1 + rnd_below(&sb->rng, 999));
    put_char(&w, 0);
}

static int write_account(writer *w, subject *sb, const char *bank, int defaulted)
{
    uint64_t *s = &sb->rng;
    int revolving = chance(s, sb->kind == PRB_PERSON ? 5500 : 5000);
    int closed = !defaulted && chance(s, P_CLOSED);
    int32_t event = closed ? recent_event(sb) : rnd_day(s, sb->today - REPORT_SPAN, sb->today - 1);
    int32_t lo = event - OPENED_SPAN > sb->earliest ? event - OPENED_SPAN : sb->earliest;
    int32_t opened = rnd_day(s, lo < event ? lo : event, event);
    int64_t limit = account_limit(sb, revolving);
    int64_t balance = closed ? 0 : with_cents(sb, account_balance(sb, limit, revolving, defaulted));
    unsigned dpd = defaulted ? DPD_BAD[pick(s, DPD_BAD_W, COUNT(DPD_BAD_W))]
                             : DPD[pick(s, DPD_W, COUNT(DPD_W))];
    char basis[40];
    account_basis(sb, basis, revolving, opened);

    rec r = {bank, 'L', "credit_account", closed ? "closed" : "open", event, PRB_NO_DATE, basis};
    rec_begin(w, sb, &r);
    PUT_LIT(w, "\"account_type\":\"");
    put_str(w, revolving ? "revolving" : "instalment");
    PUT_LIT(w, "\",\"opened_date\":");
    put_date(w, opened);
    PUT_LIT(w, ",\"credit_limit\":");
    put_amount(w, limit);
    PUT_LIT(w, ",\"balance\":");
    put_amount(w, balance);
    PUT_LIT(w, ",\"currency\":\"");
    put_str(w, currency(sb));
    PUT_LIT(w, "\",\"worst_dpd\":");
    put_u64(w, dpd);
    return rec_end(w);
}

static int write_default(writer *w, subject *sb, const char *bank)
{
    int32_t event = recent_event(sb);
    int32_t settled = PRB_NO_DATE;
    if (chance(&sb->rng, P_DEFAULT_SETTLED))
        settled = rnd_day(&sb->rng, event, sb->today - 1);
    int64_t amount = money(sb, 150, 20000);

    const char *status = settled == PRB_NO_DATE ? "open" : "settled";
    rec r = {
        bank, 'D', "payment_default", status, event, settled, "loan contract; two reminders sent"};
    rec_begin(w, sb, &r);
    field_amount(w, sb, amount);
    return rec_end(w);
}

/* Mostly a court of the subject's city; now and then one elsewhere. */
static const court *pick_court(subject *sb)
{
    if (chance(&sb->rng, 1500))
        return &COURTS[rnd_below(&sb->rng, NCOURTS)];
    return &COURTS[sb->home->court_first + rnd_below(&sb->rng, sb->home->court_n)];
}

/* "(2024) Hu 0115 Min Chu 12345": the romanised form of a civil first-instance case number. */
static void case_ref(subject *sb, char *dst, const court *c, int32_t event)
{
    writer w = {dst, 0, NULL, NULL};
    put_char(&w, '(');
    put_digits(&w, (uint64_t)year_of(event), 4);
    PUT_LIT(&w, ") ");
    put_str(&w, c->abbr);
    put_char(&w, ' ');
    put_str(&w, c->code);
    PUT_LIT(&w, " Min Chu ");
    put_u64(&w, 1 + rnd_below(&sb->rng, 40000));
    put_char(&w, 0);
}

/* Always open: judgments leave the register the day they are settled. */
static int write_judgment(writer *w, subject *sb, int64_t lo, int64_t hi)
{
    const court *c = pick_court(sb);
    int32_t event = recent_event(sb);
    int64_t amount = money(sb, lo, hi);
    char ref[64];
    case_ref(sb, ref, c, event);

    rec r = {c->furnisher, 'J', "court_judgment", "open", event, PRB_NO_DATE, "court order"};
    rec_begin(w, sb, &r);
    field_amount(w, sb, amount);
    PUT_LIT(w, ",\"court\":");
    put_json_str(w, c->name);
    PUT_LIT(w, ",\"case_ref\":");
    put_json_str(w, ref);
    return rec_end(w);
}

/* Never settled (kept only 180 days after); proceedings that ended are "closed" instead. */
static int write_insolvency(writer *w, subject *sb)
{
    const court *c = &COURTS[sb->home->court_first];
    unsigned stage = pick(&sb->rng, STAGE_W, COUNT(STAGE_W));
    int32_t event = recent_event(sb);

    const char *status = stage < 2 ? "open" : "closed"; /* filed, opened: still running */
    const char *basis = sb->kind == PRB_PERSON ? "court order" : "enterprise bankruptcy law";
    rec r = {c->furnisher, 'I', "insolvency", status, event, PRB_NO_DATE, basis};
    rec_begin(w, sb, &r);
    PUT_LIT(w, "\"stage\":\"");
    put_str(w, STAGES[stage]);
    put_char(w, '"');
    return rec_end(w);
}

/* Settled arrears are kept a year after settlement, so settlement stays within 300 days. */
static int write_tax(writer *w, subject *sb)
{
    int32_t event = recent_event(sb);
    int32_t settled = PRB_NO_DATE;
    if (chance(&sb->rng, P_TAX_SETTLED)) {
        int32_t lo = sb->today - TAX_SETTLED_SPAN;
        settled = rnd_day(&sb->rng, event > lo ? event : lo, sb->today - 1);
    }
    int64_t amount = money(sb, 500, 500000);

    const char *status = settled == PRB_NO_DATE ? "open" : "settled";
    rec r = {"tax-office", 'T', "tax_arrears", status, event, settled, "tax code art. 32"};
    rec_begin(w, sb, &r);
    field_amount(w, sb, amount);
    return rec_end(w);
}

/* Open, like judgments: a settled fine would already be past retention. */
static int write_fine(writer *w, subject *sb)
{
    const fine_domain *f = &FINES[pick(&sb->rng, FINE_W, COUNT(FINE_W))];
    int32_t event = recent_event(sb);
    int64_t amount = money(sb, 2000, 1000000);

    rec r = {f->furnisher, 'F', "regulatory_fine", "open", event, PRB_NO_DATE, f->basis};
    rec_begin(w, sb, &r);
    PUT_LIT(w, "\"domain\":\"");
    put_str(w, f->name);
    PUT_LIT(w, "\",");
    field_amount(w, sb, amount);
    return rec_end(w);
}

static int write_exclusion(writer *w, subject *sb)
{
    unsigned g = pick(&sb->rng, GROUND_W, COUNT(GROUND_W));
    int32_t event = recent_event(sb);

    rec r = {"procurement-office",       'X', "exclusion_ground", "open", event, PRB_NO_DATE,
             "directive 2014/24 art. 57"};
    rec_begin(w, sb, &r);
    PUT_LIT(w, "\"ground\":\"");
    put_str(w, GROUNDS[g]);
    put_char(w, '"');
    return rec_end(w);
}

/* A subject's credit accounts. bad[i] marks the accounts a payment default came from. */
static int write_accounts(writer *w, subject *sb, const char **bank, unsigned n, const int *bad)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = write_account(w, sb, bank[i], bad[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static unsigned draw_accounts(subject *sb, const char **bank)
{
    unsigned n = pick(&sb->rng, NACCOUNTS_W, COUNT(NACCOUNTS_W));
    for (unsigned i = 0; i < n; i++)
        bank[i] = BANKS[pick(&sb->rng, BANK_W, COUNT(BANK_W))];
    return n;
}

/* The accounts, then any default (reported by the bank of the account that went bad), then
 * judgments and insolvency. */
static int write_person(writer *w, subject *sb)
{
    const char *bank[MAX_ACCOUNTS];
    int bad[MAX_ACCOUNTS] = {0};
    unsigned n = draw_accounts(sb, bank);
    unsigned ndefaults = 0, which[2] = {0, 0};
    if (chance(&sb->rng, P_DEFAULT))
        ndefaults = n > 1 && chance(&sb->rng, P_DEFAULT_TWICE) ? 2 : 1;
    for (unsigned i = 0; i < ndefaults; i++) {
        do
            which[i] = rnd_below(&sb->rng, n);
        while (bad[which[i]]);
        bad[which[i]] = 1;
    }
    int rc = write_accounts(w, sb, bank, n, bad);
    for (unsigned i = 0; !rc && i < ndefaults; i++)
        rc = write_default(w, sb, bank[which[i]]);
    if (!rc && chance(&sb->rng, P_PERSON_JUDGMENT))
        rc = write_judgment(w, sb, 500, 50000);
    if (!rc && chance(&sb->rng, P_PERSON_INSOLVENCY))
        rc = write_insolvency(w, sb);
    return rc;
}

static int write_company(writer *w, subject *sb)
{
    const char *bank[MAX_ACCOUNTS];
    int bad[MAX_ACCOUNTS] = {0};
    unsigned n = draw_accounts(sb, bank);
    int rc = write_accounts(w, sb, bank, n, bad);
    if (!rc && chance(&sb->rng, P_TAX))
        rc = write_tax(w, sb);
    if (!rc && chance(&sb->rng, P_FINE))
        rc = write_fine(w, sb);
    if (!rc && chance(&sb->rng, P_COMPANY_JUDGMENT))
        rc = write_judgment(w, sb, 5000, 2000000);
    if (!rc && chance(&sb->rng, P_COMPANY_INSOLVENCY))
        rc = write_insolvency(w, sb);
    if (!rc && chance(&sb->rng, P_EXCLUSION))
        rc = write_exclusion(w, sb);
    return rc;
}

static int write_subjects(writer *w, const prb_gen_opts *o, int kind, uint64_t count)
{
    for (uint64_t num = 1; num <= count; num++) {
        subject sb;
        int rc = subject_init(&sb, o, kind, num);
        if (!rc)
            rc = kind == PRB_PERSON ? write_person(w, &sb) : write_company(w, &sb);
        if (rc)
            return rc;
    }
    return 0;
}

/* today must come after every birth date (a today left at zero would date accounts before
 * their holders were born) and keep dates at four-digit years. */
static int opts_valid(const prb_gen_opts *o)
{
    if (o->persons == 0 && o->companies == 0)
        return 0;
    if (o->persons > rid_space() || o->companies > ORG_SPACE)
        return 0;
    return o->today > prb_days_from_civil(BIRTH_YEAR_LAST + 1, 1, 1) &&
           o->today <= prb_days_from_civil(9999, 12, 31);
}

int prb_gen(const prb_gen_opts *opts, prb_write_fn out, void *ctx)
{
    if (!opts || !out || !opts_valid(opts))
        return PRB_EINVAL;
    writer w = {malloc(BUF_SIZE), 0, out, ctx};
    if (!w.buf)
        return PRB_ENOMEM;
    int rc = write_subjects(&w, opts, PRB_PERSON, opts->persons);
    if (!rc)
        rc = write_subjects(&w, opts, PRB_COMPANY, opts->companies);
    if (!rc && w.len)
        rc = out(ctx, w.buf, w.len);
    free(w.buf);
    return rc;
}
