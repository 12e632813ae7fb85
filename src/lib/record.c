/*
 * record.c - one reported fact: checking a raw record (from NDJSON or CSV)
 * against the policy, packing it into the stored layout described in
 * internal.h, and decoding stored versions back into views. Both input
 * formats end here, so a record means the same thing and is refused with
 * the same words whichever way it came in (DESIGN invariants 1, 2, 6).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* ISO 4217 active codes; the exceptions to two minor digits follow. */
static const char currencies[] =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY "
    "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP "
    "MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR "
    "RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT "
    "TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW "
    "ZWL";
static const char scale0[] = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF";
static const char scale3[] = "BHD IQD JOD KWD LYD OMR TND";

/* The lists are sorted, 4 bytes a code: binary search. */
static int in_list(const char *list, size_t len, const char *code, size_t n)
{
    size_t lo = 0, hi = (len + 1) / 4;
    if (n != 3)
        return 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(list + 4 * mid, code, 3);
        if (!c)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int prb_currency_scale(const char *code, size_t n)
{
    if (!in_list(currencies, sizeof currencies - 1, code, n))
        return -1;
    return in_list(scale0, sizeof scale0 - 1, code, n)   ? 0
           : in_list(scale3, sizeof scale3 - 1, code, n) ? 3
                                                         : 2;
}

void prb_currency_table(unsigned char t[26 * 26 * 26])
{
    memset(t, 0xff, 26 * 26 * 26);
    for (const char *p = currencies; *p; p += p[3] ? 4 : 3)
        t[((p[0] - 'A') * 26 + (p[1] - 'A')) * 26 + (p[2] - 'A')] =
            (unsigned char)prb_currency_scale(p, 3);
}

/* ------------------------------------------------------------ checking */

struct chk {
    const prb_policy *p;
    prb_arena *a;
    prb_recerr *err;
    int32_t today;
    const char *fname; /* the field being checked, for CUR_FIELD */
    size_t fnlen;
};

/* Stands for "fields.<the field being checked>", spelt out only when an
 * error needs it: formatting the path for every field of every record
 * cost a tenth of ingest. */
static const char CUR_FIELD[] = "fields.?";

static const char *field_path(struct chk *c, const char *name, size_t n);

static int bad(struct chk *c, int rc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(struct chk *c, int rc, const char *field, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    prb_vfmt(why, sizeof why, fmt, ap);
    va_end(ap);
    c->err->field = field == CUR_FIELD ? field_path(c, c->fname, c->fnlen) : field;
    c->err->reason = prb_arena_strndup(c->a, why, strlen(why));
    if (!c->err->reason)
        c->err->reason = "out of memory";
    return rc;
}

static const char *field_path(struct chk *c, const char *name, size_t n)
{
    char *s = prb_arena_printf(c->a, "fields.%.*s", prb_utf8_cut(name, n, 64), name);
    return s ? s : "fields";
}

/* Text safe to store and print: UTF-8 was checked by the parser; here
 * control characters and surrounding blanks are refused. */
static int plain_text(prb_slice s)
{
    if (s.n && (s.p[0] == ' ' || s.p[s.n - 1] == ' '))
        return 0;
    for (uint32_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
            return 0;
    return 1;
}

static int need_string(struct chk *c, const prb_rawval *v, const char *field, uint32_t maxlen)
{
    if (v->type == PRB_J_ABSENT || v->type == PRB_J_NULL ||
        (v->type != PRB_J_NUM && !v->v.n && v->type != PRB_J_BOOL))
        return bad(c, PRB_EINVAL, field, "required");
    if (v->type != PRB_J_STR && v->type != PRB_J_TEXT)
        return bad(c, PRB_EINVAL, field, "must be a string");
    if (v->v.n > maxlen)
        return bad(c, PRB_EINVAL, field, "longer than %u bytes", maxlen);
    if (!plain_text(v->v))
        return bad(c, PRB_EINVAL, field,
                   "must not hold control characters or leading or trailing blanks");
    return PRB_OK;
}

/* Does s hold a letter or a digit: an ASCII one, or any character outside
 * ASCII that shows (a word of any script)? */
static int has_word(prb_slice s)
{
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.n;
    for (int k; p < end; p += k) {
        uint32_t cp;
        if (!(k = prb_utf8_next(p, end, &cp)))
            return 0; /* not UTF-8: the parser has refused it already */
        if (k == 1 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'))
            return 1;
        if (k == 1 && cp >= '0' && cp <= '9')
            return 1;
        if (k > 1 && !prb_invisible(cp))
            return 1;
    }
    return 0;
}

/* Invariant 2: the reference and the legal basis say something, which
 * blanks of any script do not. */
static int need_words(struct chk *c, const prb_rawval *v, const char *field, uint32_t maxlen)
{
    int rc = need_string(c, v, field, maxlen);
    if (!rc && !has_word(v->v))
        rc = bad(c, PRB_EINVAL, field,
                 "must hold a letter or a digit: spaces and invisible characters alone name "
                 "nothing (DESIGN invariant 2)");
    return rc;
}

int prb_furnisher_name_ok(const char *p, size_t n)
{
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 (i > 0 && (ch == '-' || ch == '_' || ch == '.'));
        if (!ok)
            return 0;
    }
    return 1;
}

static int check_date(struct chk *c, const prb_rawval *v, const char *field, int32_t *day)
{
    if (v->type != PRB_J_STR && v->type != PRB_J_TEXT)
        return bad(c, PRB_EINVAL, field, "must be a date string YYYY-MM-DD");
    if (prb_date_parse(v->v.p, v->v.n, day))
        return bad(c, PRB_EINVAL, field, "'%.*s' is not a date YYYY-MM-DD",
                   prb_utf8_cut(v->v.p, v->v.n, 40), v->v.p);
    /* The clock's day is UTC's, a furnisher's date its own: a court in
     * Beijing at 07:30 reports today, which is UTC's tomorrow. The latest
     * civil date anywhere (UTC+14) is at most one day past UTC's. */
    if (*day > c->today + 1) {
        char t[11];
        prb_date_format(c->today + 1, t);
        return bad(
            c, PRB_EINVAL, field,
            "%.10s is in the future (the latest date anywhere on Earth, UTC+14, is at most %s)",
            v->v.p, t);
    }
    return PRB_OK;
}

static int check_ident(struct chk *c, const prb_rawval *v, const char *field, prb_slice furnisher,
                       int kind, const char **out)
{
    char buf[PRB_IDENT_MAX];
    int scheme;
    if (v->type == PRB_J_ABSENT || v->type == PRB_J_NULL)
        return bad(c, PRB_EINVAL, field, "required");
    if (v->type != PRB_J_STR && v->type != PRB_J_TEXT)
        return bad(c, PRB_EINVAL, field, "must be a string SCHEME:VALUE");
    if (prb_ident_normalize(v->v.p, v->v.n, buf, sizeof buf, &scheme))
        return bad(c, PRB_EINVAL, field, "%s", buf);
    if (!(c->p->schemes & (1u << scheme)))
        return bad(c, PRB_EINVAL, field, "identifier scheme of '%s' is not allowed by the policy",
                   buf);
    if (scheme == PRB_SCHEME_EXT) {
        /* A furnisher's own keys live in its namespace only. */
        size_t fl = strcspn(buf + 4, ":");
        if (fl != furnisher.n || memcmp(buf + 4, furnisher.p, fl))
            return bad(c, PRB_EINVAL, field, "'%s' is another furnisher's key; use ext:%.*s:KEY",
                       buf, (int)furnisher.n, furnisher.p);
    }
    /* A company under a person's number would be published by it. */
    if (!(prb_ident_scheme_kinds(scheme) >> kind & 1))
        return bad(c, PRB_EINVAL, field, "'%s' names a %s, not a %s", buf,
                   kind == PRB_PERSON ? "company" : "person",
                   kind == PRB_PERSON ? "person" : "company");
    *out = prb_arena_strndup(c->a, buf, strlen(buf));
    return *out ? PRB_OK : bad(c, PRB_ENOMEM, field, "out of memory");
}

/* Parses a decimal string into minor units at the currency's scale. */
static int parse_amount(prb_slice s, int scale, int64_t *out, const char **why)
{
    uint32_t i = 0;
    int neg = 0, frac = -1;
    int64_t v = 0;
    if (i < s.n && s.p[i] == '-')
        neg = 1, i++;
    if (i == s.n || s.p[i] < '0' || s.p[i] > '9')
        return *why = "is not a decimal number like 1250.00", -1;
    for (; i < s.n; i++) {
        char ch = s.p[i];
        if (ch == '.' && frac < 0 && i + 1 < s.n) {
            frac = 0;
            continue;
        }
        if (ch < '0' || ch > '9')
            return *why = "is not a decimal number like 1250.00", -1;
        if (frac >= 0 && ++frac > scale)
            return *why = "has more decimal places than its currency allows", -1;
        if (v > 99999999999999999LL / 10)
            return *why = "is too large", -1;
        v = v * 10 + (ch - '0');
    }
    /* The bound holds in minor units too: 17 digits scaled by a
     * currency's 2 or 3 places passed int64 and wrapped round to the
     * other sign. */
    for (int k = frac < 0 ? 0 : frac; k < scale; k++) {
        if (v > 99999999999999999LL / 10)
            return *why = "is too large", -1;
        v *= 10;
    }
    *out = neg ? -v : v;
    return 0;
}

#define INTEGER_LIMIT 99999999999999999LL /* 17 digits */

/* Returns -1 if s is not a whole number, -2 if it is one of more than
 * 17 digits (which was refused as "not a whole number"). */
static int parse_integer(prb_slice s, int64_t *out)
{
    uint32_t i = 0, digits = 0;
    int neg = 0;
    int64_t v = 0;
    if (i < s.n && s.p[i] == '-')
        neg = 1, i++;
    if (i == s.n)
        return -1;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        if (digits || s.p[i] != '0')
            digits++;
        if (digits <= 17) /* past that, v is not used */
            v = v * 10 + (s.p[i] - '0');
    }
    if (digits > 17)
        return -2;
    *out = neg ? -v : v;
    return 0;
}

struct fval {
    int present;
    int64_t num;
    prb_slice str;
};

static int check_field(struct chk *c, const prb_fielddef *d, const prb_rawval *v, int scale,
                       struct fval *out)
{
    const char *path = CUR_FIELD;
    c->fname = d->name;
    c->fnlen = d->name_len;
    const char *why;
    int text = v->type == PRB_J_STR || v->type == PRB_J_TEXT;
    out->present = 1;
    switch (d->type) {
    case PRB_FT_STRING:
        return need_string(c, v, path, d->max_length);
    case PRB_FT_CURRENCY:
        if (!text || prb_currency_lookup(c->p->currency_scale, v->v.p, v->v.n) < 0)
            return bad(c, PRB_EINVAL, path, "must be an ISO 4217 currency code such as \"EUR\"");
        return PRB_OK;
    case PRB_FT_ENUM:
        if (text)
            for (size_t i = 0; i < d->nvalues; i++)
                if (d->value_lens[i] == v->v.n && !memcmp(d->values[i], v->v.p, v->v.n))
                    return PRB_OK;
        return bad(c, PRB_EINVAL, path, "must be one of the values the policy lists (%s%s)",
                   d->values[0], d->nvalues > 1 ? ", ..." : "");
    case PRB_FT_DATE: {
        int32_t day;
        int rc = check_date(c, v, path, &day);
        out->num = day;
        return rc;
    }
    case PRB_FT_AMOUNT:
        if (v->type == PRB_J_NUM)
            return bad(c, PRB_EINVAL, path,
                       "must be a decimal string such as \"1250.00\", not a JSON number "
                       "(binary numbers lose cents)");
        if (!text || parse_amount(v->v, scale, &out->num, &why))
            return bad(c, PRB_EINVAL, path, "'%.*s' %s", prb_utf8_cut(v->v.p, v->v.n, 40), v->v.p,
                       text ? why : "must be a decimal string");
        return PRB_OK;
    case PRB_FT_INTEGER: {
        int rc =
            v->type == PRB_J_NUM || v->type == PRB_J_TEXT ? parse_integer(v->v, &out->num) : -1;
        const char *size = v->v.n && v->v.p[0] == '-' ? "small" : "large";
        /* The range taken is the policy's within what 17 digits hold. */
        if (rc == -2 && (d->min != INT64_MIN || d->max != INT64_MAX))
            return bad(c, PRB_EINVAL, path, "'%.*s' is too %s: the field takes %lld..%lld",
                       prb_utf8_cut(v->v.p, v->v.n, 40), v->v.p, size,
                       (long long)(d->min < -INTEGER_LIMIT ? -INTEGER_LIMIT : d->min),
                       (long long)(d->max > INTEGER_LIMIT ? INTEGER_LIMIT : d->max));
        if (rc == -2)
            return bad(c, PRB_EINVAL, path,
                       "'%.*s' is too %s: a whole number has at most 17 digits",
                       prb_utf8_cut(v->v.p, v->v.n, 40), v->v.p, size);
        if (rc)
            return bad(c, PRB_EINVAL, path, "must be a whole number");
        if (out->num < d->min || out->num > d->max)
            return bad(c, PRB_EINVAL, path, "%lld is outside %lld..%lld", (long long)out->num,
                       (long long)d->min, (long long)d->max);
        return PRB_OK;
    }
    }
    return bad(c, PRB_EINVAL, path, "field type unknown");
}

/* Matches raw fields to the category's definitions, in policy order, so
 * identical content packs to identical bytes whatever the input order. */
static int check_fields(struct chk *c, const prb_raw *raw, const prb_catdef *cat, struct fval *vals,
                        int *scale)
{
    int idx[PRB_MAX_FIELDS];
    char term[64];
    const char *cls;
    for (size_t i = 0; i < PRB_MAX_FIELDS; i++)
        idx[i] = -1;
    for (size_t i = 0; i < raw->nfields; i++) {
        /* Input usually lists fields in the policy's order: try that first. */
        const prb_fielddef *guess = i < cat->nfields ? &cat->fields[i] : NULL;
        int f = guess && guess->name_len == raw->fname[i].n &&
                        !memcmp(guess->name, raw->fname[i].p, raw->fname[i].n)
                    ? (int)i
                    : prb_catdef_field(cat, raw->fname[i].p, raw->fname[i].n);
        const char *path = CUR_FIELD;
        c->fname = raw->fname[i].p;
        c->fnlen = raw->fname[i].n;
        if (f < 0 && PRB_NAME_LONG(raw->fname[i].n))
            return bad(c, PRB_EINVAL, path, PRB_NAME_LONG_REASON, (size_t)raw->fname[i].n);
        if (f < 0) {
            /* Invariant 1 for the whole name: path quotes only its start. */
            const char *name = prb_arena_strndup(c->a, raw->fname[i].p, raw->fname[i].n);
            if (!name)
                return bad(c, PRB_ENOMEM, path, "out of memory");
            if ((cls = prb_refused_class(name, term, sizeof term)))
                return bad(c, PRB_EREFUSED, path, PRB_REFUSED_RECORD, term, cls);
            return bad(c, PRB_EINVAL, path, "category %s has no such field", cat->name);
        }
        if (raw->fval[i].type == PRB_J_NULL || raw->fval[i].type == PRB_J_ABSENT ||
            (raw->fval[i].type == PRB_J_TEXT && raw->fval[i].v.n == 0))
            continue; /* an explicit null is a missing value */
        idx[f] = (int)i;
    }
    *scale = 2;
    if (cat->currency_field >= 0 && idx[cat->currency_field] >= 0) {
        const prb_rawval *v = &raw->fval[idx[cat->currency_field]];
        int s = prb_currency_lookup(c->p->currency_scale, v->v.p, v->v.n);
        *scale = s < 0 ? 2 : s;
    }
    for (size_t f = 0; f < cat->nfields; f++) {
        const prb_fielddef *d = &cat->fields[f];
        vals[f].present = 0;
        if (idx[f] < 0) {
            c->fname = d->name;
            c->fnlen = d->name_len;
            if (d->required)
                return bad(c, PRB_EINVAL, CUR_FIELD, "required by category %s", cat->name);
            continue;
        }
        int rc = check_field(c, d, &raw->fval[idx[f]], *scale, &vals[f]);
        if (rc)
            return rc;
        vals[f].str = raw->fval[idx[f]].v;
    }
    return PRB_OK;
}

/* ------------------------------------------------------------- packing */

static unsigned char *put16(unsigned char *w, uint32_t v)
{
    w[0] = (unsigned char)v;
    w[1] = (unsigned char)(v >> 8);
    return w + 2;
}

static unsigned char *put32(unsigned char *w, int32_t v)
{
    prb_put_le32(w, v);
    return w + 4;
}

static unsigned char *put64(unsigned char *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned char)(u >> (8 * i));
    return w + 8;
}

static unsigned char *putb(unsigned char *w, const void *p, size_t n)
{
    memcpy(w, p, n);
    return w + n;
}

static int numeric(int type)
{
    return type == PRB_FT_INTEGER || type == PRB_FT_AMOUNT || type == PRB_FT_DATE;
}

/* Writes a string and its terminator: stored strings end in NUL so a
 * reader can point into one copy of the value instead of copying each. */
static unsigned char *puts0(unsigned char *w, const void *p, size_t n)
{
    w = putb(w, p, n);
    *w++ = 0;
    return w;
}

static int pack(struct chk *c, const prb_catdef *cat, const struct fval *vals, int status,
                int scale, const prb_rec *r, prb_slice lb, prb_rec *out)
{
    size_t n = PRB_REC_HDR + cat->name_len + r->furnisher.n + r->ref.n + lb.n + 4, nf = 0;
    for (size_t f = 0; f < cat->nfields; f++) {
        if (!vals[f].present)
            continue;
        nf++;
        n += 3 + cat->fields[f].name_len + (numeric(cat->fields[f].type) ? 8 : 3 + vals[f].str.n);
    }
    unsigned char *buf = prb_arena_alloc(c->a, n), *w = buf;
    if (!buf)
        return bad(c, PRB_ENOMEM, "record", "out of memory");
    *w++ = PRB_REC_LAYOUT;
    *w++ = (unsigned char)status;
    *w++ = (unsigned char)cat->name_len;
    *w++ = (unsigned char)nf;
    w = put32(w, r->event);
    w = put32(w, r->settled);
    w = put32(w, c->today);
    w = put16(w, r->furnisher.n);
    w = put16(w, r->ref.n);
    w = put16(w, lb.n);
    w = put16(w, 0);
    w = puts0(w, cat->name, cat->name_len);
    w = puts0(w, r->furnisher.p, r->furnisher.n);
    w = puts0(w, r->ref.p, r->ref.n);
    w = puts0(w, lb.p, lb.n);
    for (size_t f = 0; f < cat->nfields; f++) {
        const prb_fielddef *d = &cat->fields[f];
        if (!vals[f].present)
            continue;
        *w++ = (unsigned char)d->name_len;
        w = puts0(w, d->name, d->name_len);
        *w++ = (unsigned char)(d->type | (d->type == PRB_FT_AMOUNT ? scale << 4 : 0));
        if (numeric(d->type)) {
            w = put64(w, vals[f].num);
        } else {
            w = put16(w, vals[f].str.n);
            w = puts0(w, vals[f].str.p, vals[f].str.n);
        }
    }
    out->packed = buf;
    out->packed_len = (uint32_t)(w - buf);
    return PRB_OK;
}

static int kind_of(prb_slice s)
{
    if (s.n == 6 && !memcmp(s.p, "person", 6))
        return PRB_PERSON;
    if (s.n == 7 && !memcmp(s.p, "company", 7))
        return PRB_COMPANY;
    return 0;
}

static int status_of(prb_slice s)
{
    if (s.n == 4 && !memcmp(s.p, "open", 4))
        return PRB_ST_OPEN;
    if (s.n == 7 && !memcmp(s.p, "settled", 7))
        return PRB_ST_SETTLED;
    if (s.n == 6 && !memcmp(s.p, "closed", 6))
        return PRB_ST_CLOSED;
    return 0;
}

static int check_source(struct chk *c, const prb_raw *raw, const char *forced, prb_rec *out)
{
    int rc;
    prb_rawval furn = raw->furnisher;
    if (forced && (furn.type == PRB_J_ABSENT || furn.type == PRB_J_NULL ||
                   (furn.type == PRB_J_TEXT && !furn.v.n))) {
        furn.type = PRB_J_STR;
        furn.v.p = forced;
        furn.v.n = (uint32_t)strlen(forced);
    }
    if ((rc = need_string(c, &furn, "furnisher", 63)))
        return rc;
    if (!prb_furnisher_name_ok(furn.v.p, furn.v.n))
        return bad(c, PRB_EINVAL, "furnisher", "must be " PRB_FURNISHER_NAME_RULE);
    if (forced && (strlen(forced) != furn.v.n || memcmp(forced, furn.v.p, furn.v.n)))
        return bad(c, PRB_EINVAL, "furnisher", "record is from '%.*s' but this batch is from '%s'",
                   (int)furn.v.n, furn.v.p, forced);
    out->furnisher = furn.v;
    if ((rc = need_words(c, &raw->ref, "ref", 128)))
        return rc;
    out->ref = raw->ref.v;
    /* Invariant 2: a record says on what legal basis it is held. */
    return need_words(c, &raw->legal_basis, "legal_basis", 512);
}

static int check_subject(struct chk *c, const prb_raw *raw, prb_rec *out)
{
    int rc;
    if ((rc = need_string(c, &raw->kind, "subject.kind", 16)))
        return rc;
    if (!(out->kind = (uint8_t)kind_of(raw->kind.v)))
        return bad(c, PRB_EINVAL, "subject.kind", "must be \"person\" or \"company\"");
    if ((rc = check_ident(c, &raw->id, "subject.id", out->furnisher, out->kind, &out->ident)))
        return rc;
    out->naliases = (uint8_t)raw->naliases;
    out->aliases = NULL;
    if (raw->naliases &&
        !(out->aliases = prb_arena_alloc(c->a, raw->naliases * sizeof *out->aliases)))
        return bad(c, PRB_ENOMEM, "subject.aliases", "out of memory");
    for (size_t i = 0; i < raw->naliases; i++)
        if ((rc = check_ident(c, &raw->aliases[i], "subject.aliases", out->furnisher, out->kind,
                              &out->aliases[i])))
            return rc;
    return PRB_OK;
}

static int check_dates(struct chk *c, const prb_raw *raw, int status, prb_rec *out)
{
    int rc;
    if (raw->event_date.type == PRB_J_ABSENT || raw->event_date.type == PRB_J_NULL ||
        (raw->event_date.type == PRB_J_TEXT && !raw->event_date.v.n))
        return bad(c, PRB_EINVAL, "event_date", "required");
    if ((rc = check_date(c, &raw->event_date, "event_date", &out->event)))
        return rc;
    out->settled = PRB_NO_DATE;
    int has = !(raw->settled_date.type == PRB_J_ABSENT || raw->settled_date.type == PRB_J_NULL ||
                (raw->settled_date.type == PRB_J_TEXT && !raw->settled_date.v.n));
    if (status == PRB_ST_SETTLED && !has)
        return bad(c, PRB_EINVAL, "settled_date", "required when status is settled");
    if (status != PRB_ST_SETTLED && has)
        return bad(c, PRB_EINVAL, "settled_date", "only a settled record has a settled_date");
    if (has && (rc = check_date(c, &raw->settled_date, "settled_date", &out->settled)))
        return rc;
    if (has && out->settled < out->event)
        return bad(c, PRB_EINVAL, "settled_date", "is before event_date");
    return PRB_OK;
}

int prb_record_check(const prb_policy *p, const prb_raw *raw, const char *forced, int32_t today,
                     prb_arena *a, prb_rec *out, prb_recerr *err)
{
    struct chk c = {p, a, err, today, NULL, 0};
    struct fval vals[PRB_MAX_FIELDS];
    int rc, status, cat, scale = 2;

    if ((rc = check_source(&c, raw, forced, out)) || (rc = check_subject(&c, raw, out)))
        return rc;
    if ((rc = need_string(&c, &raw->category, "category", PRB_NAME_MAX)))
        return rc;
    cat = prb_policy_category(p, raw->category.v.p, raw->category.v.n);
    if (cat < 0) {
        char name[80], term[64];
        const char *cls;
        snprintf(name, sizeof name, "%.*s", (int)raw->category.v.n, raw->category.v.p);
        if ((cls = prb_refused_class(name, term, sizeof term)))
            return bad(&c, PRB_EREFUSED, "category", PRB_REFUSED_RECORD, term, cls);
        return bad(&c, PRB_EINVAL, "category", "'%s' is not a category of the policy", name);
    }
    const prb_catdef *cd = &p->categories[cat];
    out->cat = (uint16_t)cat;
    if (!(cd->kinds & (1u << out->kind)))
        return bad(&c, PRB_EINVAL, "category", "%s records are not kept about a %s", cd->name,
                   out->kind == PRB_PERSON ? "person" : "company");
    if ((rc = need_string(&c, &raw->status, "status", 16)))
        return rc;
    if (!(status = status_of(raw->status.v)))
        return bad(&c, PRB_EINVAL, "status", "must be \"open\", \"settled\" or \"closed\"");
    if ((rc = check_dates(&c, raw, status, out)) || (rc = check_fields(&c, raw, cd, vals, &scale)))
        return rc;
    /* Whether it may be stored at all is decided when it is applied: a
     * new record past its retention may not be, but a correction that
     * ends one (a paid judgment kept 0 days after payment) must be. */
    out->expires = prb_retention_expires(cd, out->event, out->settled);
    return pack(&c, cd, vals, status, scale, out, raw->legal_basis.v, out);
}

/* ------------------------------------------------------------- reading */

int prb_record_same(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    if (an != bn || an < PRB_REC_HDR)
        return 0;
    return !memcmp(a, b, PRB_REC_RECEIVED_OFF) &&
           !memcmp(a + PRB_REC_RECEIVED_OFF + 4, b + PRB_REC_RECEIVED_OFF + 4,
                   an - PRB_REC_RECEIVED_OFF - 4);
}

int prb_record_category(const unsigned char *a, size_t an, const char **cat)
{
    if (an < PRB_REC_HDR || an - PRB_REC_HDR < a[2])
        return -1;
    *cat = (const char *)a + PRB_REC_HDR;
    return a[2];
}

void prb_record_set_received(unsigned char *packed, int32_t day)
{
    put32(packed + PRB_REC_RECEIVED_OFF, day);
}

static uint32_t get16(const unsigned char *r)
{
    return (uint32_t)r[0] | (uint32_t)r[1] << 8;
}

/* Written out so the compiler sees one little-endian load. */
static int64_t get64(const unsigned char *r)
{
    return (int64_t)((uint64_t)r[0] | (uint64_t)r[1] << 8 | (uint64_t)r[2] << 16 |
                     (uint64_t)r[3] << 24 | (uint64_t)r[4] << 32 | (uint64_t)r[5] << 40 |
                     (uint64_t)r[6] << 48 | (uint64_t)r[7] << 56);
}

size_t prb_record_bufsize(size_t packed_len)
{
    return packed_len;
}

/* A NUL-terminated string of n bytes at *r inside [v, end), as a pointer
 * into the copy at buf (same offsets); NULL if it does not fit. */
static const char *str_at(const unsigned char **r, const unsigned char *v, const unsigned char *end,
                          size_t n, const char *buf)
{
    if ((size_t)(end - *r) < n + 1 || (*r)[n] != 0)
        return NULL;
    const char *s = buf + (*r - v);
    *r += n + 1;
    return s;
}

int prb_record_decode(const unsigned char *v, size_t n, char *buf, prb_record_view *rv,
                      prb_field_view *fields, size_t maxfields)
{
    const unsigned char *r = v + PRB_REC_HDR, *end = v + n;
    if (n < PRB_REC_HDR || v[0] != PRB_REC_LAYOUT || v[3] > maxfields)
        return PRB_ECORRUPT;
    /* One copy of the value (none if decoding in place); every string of
     * the view points into it. */
    if ((const unsigned char *)buf != v)
        memcpy(buf, v, n);
    rv->status = v[1];
    rv->event_date = prb_get_le32(v + 4);
    rv->settled_date = prb_get_le32(v + 8);
    rv->received = prb_get_le32(v + 12);
    if (!(rv->category = str_at(&r, v, end, v[2], buf)) ||
        !(rv->furnisher = str_at(&r, v, end, get16(v + 16), buf)) ||
        !(rv->ref = str_at(&r, v, end, get16(v + 18), buf)) ||
        !(rv->legal_basis = str_at(&r, v, end, get16(v + 20), buf)))
        return PRB_ECORRUPT;
    rv->nfields = v[3];
    rv->fields = fields;
    for (size_t i = 0; i < rv->nfields; i++) {
        prb_field_view *f = &fields[i];
        if (r >= end)
            return PRB_ECORRUPT;
        size_t nl = *r++;
        if (!(f->name = str_at(&r, v, end, nl, buf)) || r >= end)
            return PRB_ECORRUPT;
        f->type = *r & 15;
        f->scale = *r++ >> 4;
        f->str = NULL;
        f->num = 0;
        if (numeric(f->type)) {
            if (end - r < 8)
                return PRB_ECORRUPT;
            f->num = get64(r);
            r += 8;
        } else {
            if (end - r < 2)
                return PRB_ECORRUPT;
            size_t sl = get16(r);
            r += 2;
            if (!(f->str = str_at(&r, v, end, sl, buf)))
                return PRB_ECORRUPT;
        }
    }
    return r == end ? PRB_OK : PRB_ECORRUPT;
}
