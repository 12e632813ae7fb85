/*
 * ndjson.c - reads one NDJSON record line into a raw record.
 *
 * This is a schema-directed JSON reader written for the ingest path:
 * jansson builds a tree with an allocation per node, which caps ingest
 * far below the 500,000 records/s the register must take. It accepts
 * exactly RFC 8259 JSON (strict numbers, escapes, UTF-8; no NUL in
 * strings; duplicate keys refused), and only the record shape: unknown
 * keys are errors. It never reads past the line and is fuzzed
 * (tests/fuzz/fuzz_ndjson.c). Policy rules are not checked here; record.c
 * does that for both input formats.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct cur {
    const char *p, *start, *end;
    prb_arena *a;
    prb_recerr *err;
    /* Which of subject, fields and subject.aliases the line has had. A
     * second was told by what the first left, and an empty one
     * ("fields":{}) or one without kind and id ("subject":{"aliases":
     * [...]}) leaves nothing: the two were merged, where a last-wins
     * reader sees only the second. */
    unsigned seen;
};

enum { SEEN_SUBJECT = 1, SEEN_FIELDS = 2, SEEN_ALIASES = 4 };

/* The longest string or number a line may hold, checked before its length
 * is kept in a slice's 32 bits: a line has no bound of its own (a file's
 * may be longer than 4 GiB), and a number of 2^32 + 5 digits was read as
 * its first five. */
#define TOKEN_MAX 65535

/* Marks key bit as met; nonzero if it was already. */
static int seen_twice(struct cur *c, unsigned bit)
{
    unsigned was = c->seen & bit;
    c->seen |= bit;
    return was != 0;
}

static int syntax(struct cur *c, const char *field, const char *what)
{
    c->err->field = field;
    /* In characters, as an editor shows the column. */
    size_t col = prb_utf8_chars(c->start, (size_t)(c->p - c->start)) + 1;
    c->err->reason = prb_arena_printf(c->a, "JSON: %s at column %zu", what, col);
    if (!c->err->reason)
        c->err->reason = "JSON syntax error";
    return PRB_EINVAL;
}

static int wrong(struct cur *c, const char *field, const char *why)
{
    c->err->field = field;
    c->err->reason = why;
    return PRB_EINVAL;
}

static void ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xc0 | cp >> 6);
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xe0 | cp >> 12);
        *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (char)(0xf0 | cp >> 18);
        *w++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* Decodes the escapes of a string whose raw body is [s, e). */
static int unescape(struct cur *c, const char *field, const char *s, const char *e, prb_slice *out)
{
    char *buf = prb_arena_alloc(c->a, (size_t)(e - s) + 1), *w = buf;
    if (!buf)
        return wrong(c, field, "out of memory");
    while (s < e) {
        if (*s != '\\') {
            *w++ = *s++;
            continue;
        }
        s++;
        unsigned cp;
        switch (*s++) {
        case '"':
            *w++ = '"';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case '/':
            *w++ = '/';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u':
            hex4(s, e, &cp); /* validated by the scan */
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                hex4(s + 2, e, &lo);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }
            if (cp == 0)
                return wrong(c, field, "a NUL character (\\u0000) is not allowed in text");
            w = put_utf8(w, cp);
            break;
        }
    }
    out->p = buf;
    out->n = (uint32_t)(w - buf);
    return PRB_OK;
}

/* Skips bytes that need no attention in a string: printable ASCII other
 * than '"' and '\\'. Sixteen at a time where SSE2 is there (every x86-64):
 * strings are most of an NDJSON record's bytes. */
static const char *skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes of 0x80 and above are negative, so "less
         * than a space" catches control bytes and non-ASCII alike. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        int mask = _mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
           *p != '\\')
        p++;
    return p;
}

static int string(struct cur *c, const char *field, prb_slice *out)
{
    const char *s = ++c->p; /* past the opening quote */
    int escaped = 0;
    while ((c->p = skip_plain(c->p, c->end)) < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            const char *e = c->p++;
            if (e - s > TOKEN_MAX)
                return wrong(c, field, "string longer than 65535 bytes");
            if (escaped)
                return unescape(c, field, s, e, out);
            out->p = s;
            out->n = (uint32_t)(e - s);
            return PRB_OK;
        }
        if (ch < 0x20)
            return syntax(c, field, "control character in string");
        if (ch == '\\') {
            escaped = 1;
            if (c->end - c->p < 2)
                break;
            char x = c->p[1];
            if (x == 'u') {
                unsigned cp, lo;
                if (hex4(c->p + 2, c->end, &cp))
                    return syntax(c, field, "bad \\u escape");
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return syntax(c, field, "unpaired surrogate in \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (c->end - c->p < 12 || c->p[6] != '\\' || c->p[7] != 'u' ||
                        hex4(c->p + 8, c->end, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        return syntax(c, field, "unpaired surrogate in \\u escape");
                    c->p += 6;
                }
                c->p += 6;
            } else if (strchr("\"\\/bfnrt", x) && x) {
                c->p += 2;
            } else {
                return syntax(c, field, "bad escape in string");
            }
            continue;
        }
        int n = prb_utf8_len((const unsigned char *)c->p, (const unsigned char *)c->end);
        if (!n)
            return syntax(c, field, "invalid UTF-8 in string");
        c->p += n;
    }
    return syntax(c, field, "unterminated string");
}

static int number(struct cur *c, const char *field, prb_slice *out)
{
    const char *s = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (c->p < c->end && *c->p >= '1' && *c->p <= '9')
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    else
        return syntax(c, field, "bad number");
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return syntax(c, field, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return syntax(c, field, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p - s > TOKEN_MAX)
        return wrong(c, field, "number longer than 65535 bytes");
    out->p = s;
    out->n = (uint32_t)(c->p - s);
    return PRB_OK;
}

static int literal(struct cur *c, const char *field, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
        return syntax(c, field, "unexpected character");
    c->p += n;
    return PRB_OK;
}

/* A scalar: string, number, true, false or null. */
static int scalar(struct cur *c, const char *field, prb_rawval *v)
{
    ws(c);
    if (c->p >= c->end)
        return syntax(c, field, "value expected");
    switch (*c->p) {
    case '"':
        v->type = PRB_J_STR;
        return string(c, field, &v->v);
    case 'n':
        v->type = PRB_J_NULL;
        v->v.p = c->p, v->v.n = 0;
        return literal(c, field, "null");
    case 't':
        v->type = PRB_J_BOOL;
        v->v.p = c->p, v->v.n = 4;
        return literal(c, field, "true");
    case 'f':
        v->type = PRB_J_BOOL;
        v->v.p = c->p, v->v.n = 5;
        return literal(c, field, "false");
    case '{':
    case '[':
        return wrong(c, field, "must be a string, number or null, not an object or array");
    default:
        v->type = PRB_J_NUM;
        return number(c, field, &v->v);
    }
}

/* Walks an object, calling member() for each key with the cursor on the
 * value. */
typedef int (*member_fn)(struct cur *c, prb_slice key, void *ctx);

static int object(struct cur *c, const char *field, member_fn member, void *ctx)
{
    ws(c);
    if (c->p >= c->end || *c->p != '{')
        return c->p < c->end ? wrong(c, field, "must be an object")
                             : syntax(c, field, "'{' expected");
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return PRB_OK;
    }
    for (;;) {
        prb_slice key;
        int rc;
        ws(c);
        if (c->p >= c->end || *c->p != '"')
            return syntax(c, field, "key expected");
        if ((rc = string(c, field, &key)))
            return rc;
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return syntax(c, field, "':' expected");
        c->p++;
        if ((rc = member(c, key, ctx)))
            return rc;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return PRB_OK;
        }
        return syntax(c, field, "',' or '}' expected");
    }
}

static inline int is_key(prb_slice k, const char *name)
{
    size_t n = strlen(name); /* a literal at every call: folded */
    return k.n == n && !memcmp(k.p, name, n);
}

static int once(struct cur *c, prb_rawval *v, const char *field)
{
    if (v->type != PRB_J_ABSENT)
        return wrong(c, field, "appears twice");
    return scalar(c, field, v);
}

static int aliases(struct cur *c, prb_raw *raw)
{
    const char *f = "subject.aliases";
    if (seen_twice(c, SEEN_ALIASES))
        return wrong(c, f, "appears twice");
    ws(c);
    if (c->p >= c->end || *c->p != '[')
        return wrong(c, f, "must be an array of identifiers");
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return PRB_OK;
    }
    for (;;) {
        if (raw->naliases == PRB_MAX_ALIASES)
            return wrong(c, f, "at most 8 aliases");
        prb_rawval *v = &raw->aliases[raw->naliases++];
        int rc = scalar(c, f, v);
        if (rc)
            return rc;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return PRB_OK;
        }
        return syntax(c, f, "',' or ']' expected");
    }
}

static int subject_member(struct cur *c, prb_slice k, void *ctx)
{
    prb_raw *raw = ctx;
    if (is_key(k, "kind"))
        return once(c, &raw->kind, "subject.kind");
    if (is_key(k, "id"))
        return once(c, &raw->id, "subject.id");
    if (is_key(k, "aliases"))
        return aliases(c, raw);
    return wrong(c, "subject", "unknown key (known: kind, id, aliases)");
}

static int field_member(struct cur *c, prb_slice k, void *ctx)
{
    prb_raw *raw = ctx;
    for (size_t i = 0; i < raw->nfields; i++)
        if (raw->fname[i].n == k.n && !memcmp(raw->fname[i].p, k.p, k.n))
            return wrong(c, "fields", "a field appears twice");
    if (raw->nfields == PRB_MAX_FIELDS)
        return wrong(c, "fields", "too many fields");
    raw->fname[raw->nfields] = k;
    return scalar(c, "fields", &raw->fval[raw->nfields++]);
}

static int top_member(struct cur *c, prb_slice k, void *ctx)
{
    prb_raw *raw = ctx;
    /* Lengths first: most keys are told apart without comparing bytes. */
    static const struct {
        const char *name;
        uint32_t len;
        size_t off;
    } scalars[] = {
        {"furnisher", 9, offsetof(prb_raw, furnisher)},
        {"ref", 3, offsetof(prb_raw, ref)},
        {"category", 8, offsetof(prb_raw, category)},
        {"status", 6, offsetof(prb_raw, status)},
        {"event_date", 10, offsetof(prb_raw, event_date)},
        {"settled_date", 12, offsetof(prb_raw, settled_date)},
        {"legal_basis", 11, offsetof(prb_raw, legal_basis)},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (k.n == scalars[i].len && !memcmp(k.p, scalars[i].name, k.n))
            return once(c, (prb_rawval *)((char *)raw + scalars[i].off), scalars[i].name);
    if (is_key(k, "subject")) {
        if (seen_twice(c, SEEN_SUBJECT))
            return wrong(c, "subject", "appears twice");
        return object(c, "subject", subject_member, raw);
    }
    if (is_key(k, "fields")) {
        if (seen_twice(c, SEEN_FIELDS))
            return wrong(c, "fields", "appears twice");
        return object(c, "fields", field_member, raw);
    }
    if (PRB_NAME_LONG(k.n)) {
        const char *name = prb_arena_strndup(c->a, k.p, (size_t)prb_utf8_cut(k.p, k.n, 64));
        const char *why = prb_arena_printf(c->a, PRB_NAME_LONG_REASON, (size_t)k.n);
        return wrong(c, name ? name : "record", why ? why : "no such name: too long");
    }
    /* Invariant 1 for the whole key, as under "fields"; the message quotes its start. */
    char term[64], *name = prb_arena_strndup(c->a, k.p, k.n);
    const char *cls = name ? prb_refused_class(name, term, sizeof term) : NULL;
    if (name)
        name[prb_utf8_cut(k.p, k.n, 64)] = 0;
    if (cls) {
        const char *why = prb_arena_printf(c->a, PRB_REFUSED_RECORD, term, cls);
        wrong(c, name, why ? why : "refused (DESIGN invariant 1)");
        return PRB_EREFUSED;
    }
    return wrong(c, name ? name : "record",
                 "unknown key (known: furnisher, ref, subject, category, status, event_date, "
                 "settled_date, legal_basis, fields)");
}

int prb_ndjson_parse(const char *p, size_t n, prb_arena *a, prb_raw *raw, prb_recerr *err)
{
    struct cur c = {p, p, p + n, a, err, 0};
    int rc;
    /* Not the field arrays: nfields says how much of them is used. */
    memset(raw, 0, offsetof(prb_raw, fname));
    if ((rc = object(&c, "record", top_member, raw)))
        return rc;
    ws(&c);
    if (c.p != c.end)
        return syntax(&c, "record", "text after the record");
    return PRB_OK;
}
