/*
 * ident.c - identifier normalisation and the check characters of each scheme.
 *
 * Every identifier that enters the register (ingest, subject look-ups, the
 * CLI) passes through prb_ident_normalize, so that one person or company has
 * exactly one stored spelling per identifier and a mistyped number is refused
 * with a reason a furnisher can act on instead of silently creating a second
 * subject. The check-character functions are exported (ident.h) because the
 * synthetic population generator must produce numbers this file accepts.
 *
 * Nothing here uses <ctype.h>: its answers depend on the locale, and an
 * identifier must be valid or not regardless of where it is checked.
 */
#include <probity.h>

#include "ident.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The longest input accepted; the header promises PRB_IDENT_MAX is enough
 * room for the result of anything this long. */
#define IDENT_IN_MAX (PRB_IDENT_MAX / 2 - 32)

#define EXT_FURNISHER_MAX 63
#define EXT_KEY_MAX 128

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ------------------------------------------------------ character classes */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_control(int c)
{
    return c < 0x20 || c == 0x7f;
}

static char to_upper(char c)
{
    return is_lower((unsigned char)c) ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
    return is_upper((unsigned char)c) ? (char)(c - 'A' + 'a') : c;
}

static void upcase(char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = to_upper(v[i]);
}

/* Renders one byte for a message: printable ASCII as 'c', anything else as
 * its hex value, so a stray UTF-8 byte never ends up half-printed in a
 * reason that may itself be shown in a terminal or a JSON document. */
static const char *show(char buf[8], char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", u);
    return buf;
}

/* ------------------------------------------------------ check characters */

char prb_ident_cn_rid_check(const char d[17])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;

    /* A non-digit would index the table out of range; 0 tells the caller
     * the input was not 17 digits instead of inventing a check. */
    if (!d)
        return 0;
    for (int i = 0; i < 17; i++) {
        if (!is_digit((unsigned char)d[i]))
            return 0;
        sum += (d[i] - '0') * w[i];
    }
    return "10X98765432"[sum % 11];
}

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
#define USCC_RADIX 31

/* memchr rather than strchr: strchr would find the terminator for c == 0. */
static int uscc_index(char c)
{
    const char *p = memchr(uscc_alphabet, c, USCC_RADIX);
    return p ? (int)(p - uscc_alphabet) : -1;
}

char prb_ident_cn_uscc_check(const char c[17])
{
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;

    if (!c)
        return 0;
    for (int i = 0; i < 17; i++) {
        int v = uscc_index(c[i]);
        if (v < 0)
            return 0;
        sum += v * w[i];
    }
    return uscc_alphabet[(USCC_RADIX - sum % USCC_RADIX) % USCC_RADIX];
}

/* Folds one LEI character into a running remainder mod 97. Letters stand
 * for two decimal digits (A = 10 .. Z = 35), so they shift by 100. */
static int mod97_step(int r, char c)
{
    if (is_digit((unsigned char)c))
        return (r * 10 + (c - '0')) % 97;
    if (is_upper((unsigned char)c))
        return (r * 100 + (c - 'A' + 10)) % 97;
    return -1;
}

int prb_ident_lei_check(const char c[18], char out[2])
{
    int r = 0;

    if (!c || !out)
        return -1;
    for (int i = 0; i < 18; i++) {
        r = mod97_step(r, c[i]);
        if (r < 0)
            return -1;
    }
    /* Appending "00" and taking 98 - remainder makes the whole number
     * congruent to 1; the result is always 2..98, so two digits suffice. */
    int check = 98 - (r * 100) % 97;
    out[0] = (char)('0' + check / 10);
    out[1] = (char)('0' + check % 10);
    return 0;
}

char prb_ident_de_taxid_check(const char d[10])
{
    int product = 10;

    if (!d)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (!is_digit((unsigned char)d[i]))
            return 0;
        int sum = (d[i] - '0' + product) % 10;
        if (sum == 0)
            sum = 10;
        product = (2 * sum) % 11;
    }
    int check = 11 - product;
    return (char)('0' + (check == 10 ? 0 : check));
}

/* ------------------------------------------------------ scheme validators */

/* Each validator gets a private copy of the trimmed VALUE, rewrites it in
 * place to its canonical spelling and returns 0, or writes why it is wrong
 * (without the scheme name, which the caller prefixes) and returns -1. */
typedef int (*check_fn)(char *v, size_t n, char *why, size_t whylen);

PRINTF_LIKE(3, 4)
static int why_fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Checks that every character of v[0..n) is a digit; names the first that
 * is not. */
static int want_digits(const char *v, size_t n, char *why, size_t whylen)
{
    char b[8];
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)v[i]))
            return why_fail(why, whylen, "character %zu is %s, expected a digit", i + 1,
                            show(b, v[i]));
    return 0;
}

/* Names a byte past ASCII, which no scheme's value has, before its length
 * is counted: a full-width digit or a non-breaking space pasted from a
 * form is two or three bytes of UTF-8, and "must be 18 characters, got
 * 22" sent the furnisher counting characters that looked right. The
 * guess covers what is typed or pasted by mistake most often. */
static int want_ascii(const char *v, size_t n, char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char u = (unsigned char)v[i], u1 = 0, u2 = 0;
        if (u < 0x80)
            continue;
        if (i + 1 < n)
            u1 = (unsigned char)v[i + 1];
        if (i + 2 < n)
            u2 = (unsigned char)v[i + 2];
        const char *guess = "";
        if (u == 0xef && u1 == 0xbc && u2 >= 0x90 && u2 <= 0x99)
            guess = ": a full-width digit?";
        else if (u == 0xef && (u1 == 0xbc || u1 == 0xbd))
            guess = ": a full-width letter or sign?";
        else if ((u == 0xc2 && u1 == 0xa0) || (u == 0xe2 && u1 == 0x80 && u2 == 0xaf))
            guess = ": a non-breaking space?";
        else if (u == 0xe3 && u1 == 0x80 && u2 == 0x80)
            guess = ": an ideographic space?";
        return why_fail(why, whylen, "character %zu is not ASCII (byte 0x%02x%s)", i + 1, u, guess);
    }
    return 0;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int num(const char *v, size_t n)
{
    int x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (v[i] - '0');
    return x;
}

/* The birth date inside a resident id, YYYYMMDD; digits already checked. */
static int cn_rid_date(const char *v, char *why, size_t whylen)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = num(v, 4), m = num(v + 4, 2), d = num(v + 6, 2);

    if (y < 1900 || y > 2099)
        return why_fail(why, whylen, "birth year %d is outside 1900..2099", y);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
        return why_fail(why, whylen, "birth date %.8s is not a real date", v);
    return 0;
}

static int check_cn_rid(char *v, size_t n, char *why, size_t whylen)
{
    char b[8];

    if (want_ascii(v, n, why, whylen) < 0)
        return -1;
    if (n != 18)
        return why_fail(why, whylen, "must be 18 characters, got %zu", n);
    if (want_digits(v, 17, why, whylen) < 0)
        return -1;
    v[17] = to_upper(v[17]);
    if (!is_digit((unsigned char)v[17]) && v[17] != 'X')
        return why_fail(why, whylen, "check character is %s, expected a digit or 'X'",
                        show(b, v[17]));
    if (v[0] == '0')
        return why_fail(why, whylen, "first digit must not be 0");
    if (cn_rid_date(v + 6, why, whylen) < 0)
        return -1;
    char want = prb_ident_cn_rid_check(v);
    if (v[17] != want)
        return why_fail(why, whylen, "check character is '%c', expected '%c'", v[17], want);
    return 0;
}

static int check_cn_uscc(char *v, size_t n, char *why, size_t whylen)
{
    char b[8];

    if (want_ascii(v, n, why, whylen) < 0)
        return -1;
    if (n != 18)
        return why_fail(why, whylen, "must be 18 characters, got %zu", n);
    upcase(v, n);
    for (size_t i = 0; i < n; i++)
        if (uscc_index(v[i]) < 0)
            return why_fail(why, whylen,
                            "character %zu is %s, not in the code's alphabet "
                            "(0-9 and A-Z without I, O, S, V, Z)",
                            i + 1, show(b, v[i]));
    char want = prb_ident_cn_uscc_check(v);
    if (v[17] != want)
        return why_fail(why, whylen, "check character is '%c', expected '%c'", v[17], want);
    return 0;
}

static int check_lei(char *v, size_t n, char *why, size_t whylen)
{
    char b[8], want[2];

    if (want_ascii(v, n, why, whylen) < 0)
        return -1;
    if (n != 20)
        return why_fail(why, whylen, "must be 20 characters, got %zu", n);
    upcase(v, n);
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)v[i]) && !is_upper((unsigned char)v[i]))
            return why_fail(why, whylen, "character %zu is %s, expected 0-9 or A-Z", i + 1,
                            show(b, v[i]));
    prb_ident_lei_check(v, want);
    /* Compared with the computed digits, not just "mod 97 == 1": that test
     * would also pass 00, 01 and 99, which ISO 7064 never produces, and
     * two spellings of one LEI would become two subjects. */
    if (v[18] != want[0] || v[19] != want[1])
        return why_fail(why, whylen, "check digits are '%.2s', expected '%.2s'", v + 18, want);
    return 0;
}

/* The issuing office's rule for the first ten digits: exactly one digit
 * repeats, two or three times, and a triple is never three in a row. */
static int de_taxid_spread(const char *v, char *why, size_t whylen)
{
    int count[10] = {0};
    int rep = -1;

    for (int i = 0; i < 10; i++)
        count[v[i] - '0']++;
    for (int dg = 0; dg < 10; dg++) {
        if (count[dg] < 2)
            continue;
        if (count[dg] > 3)
            return why_fail(why, whylen, "digit %d occurs %d times in the first 10, at most 3", dg,
                            count[dg]);
        if (rep >= 0)
            return why_fail(why, whylen,
                            "digits %d and %d both repeat in the first 10, "
                            "only one may",
                            rep, dg);
        rep = dg;
    }
    if (rep < 0)
        return why_fail(why, whylen, "no digit repeats in the first 10, exactly one must");
    for (int i = 0; i + 2 < 10; i++)
        if (v[i] - '0' == rep && v[i + 1] == v[i] && v[i + 2] == v[i])
            return why_fail(why, whylen, "digit %d occurs three times in a row", rep);
    return 0;
}

static int check_de_taxid(char *v, size_t n, char *why, size_t whylen)
{
    if (want_ascii(v, n, why, whylen) < 0)
        return -1;
    if (n != 11)
        return why_fail(why, whylen, "must be 11 digits, got %zu characters", n);
    if (want_digits(v, n, why, whylen) < 0)
        return -1;
    if (v[0] == '0')
        return why_fail(why, whylen, "first digit must not be 0");
    if (de_taxid_spread(v, why, whylen) < 0)
        return -1;
    char want = prb_ident_de_taxid_check(v);
    if (v[10] != want)
        return why_fail(why, whylen, "check digit is '%c', expected '%c'", v[10], want);
    return 0;
}

static int ext_furnisher_char(char c)
{
    return is_lower((unsigned char)c) || is_digit((unsigned char)c) || c == '.' || c == '_' ||
           c == '-';
}

static int ext_key_char(char c)
{
    unsigned char u = (unsigned char)c;
    return is_upper(u) || is_lower(u) || is_digit(u) || c == '.' || c == '_' || c == ':' ||
           c == '/' || c == '-';
}

static int check_ext_furnisher(char *f, size_t n, char *why, size_t whylen)
{
    char b[8];

    if (n == 0)
        return why_fail(why, whylen, "furnisher is empty (expected FURNISHER:KEY)");
    if (n > EXT_FURNISHER_MAX)
        return why_fail(why, whylen, "furnisher is %zu characters, at most %d", n,
                        EXT_FURNISHER_MAX);
    for (size_t i = 0; i < n; i++) {
        f[i] = to_lower(f[i]);
        if (!ext_furnisher_char(f[i]))
            return why_fail(why, whylen, "furnisher character %zu is %s, expected a-z 0-9 . _ -",
                            i + 1, show(b, f[i]));
    }
    if (!is_lower((unsigned char)f[0]) && !is_digit((unsigned char)f[0]))
        return why_fail(why, whylen, "furnisher must start with a letter or digit, not %s",
                        show(b, f[0]));
    return 0;
}

static int check_ext(char *v, size_t n, char *why, size_t whylen)
{
    char b[8];
    char *colon = memchr(v, ':', n);

    if (!colon)
        return why_fail(why, whylen, "missing ':' between furnisher and key");
    size_t fn = (size_t)(colon - v), kn = n - fn - 1;
    const char *k = colon + 1;
    if (check_ext_furnisher(v, fn, why, whylen) < 0)
        return -1;
    if (kn == 0)
        return why_fail(why, whylen, "key is empty");
    if (kn > EXT_KEY_MAX)
        return why_fail(why, whylen, "key is %zu characters, at most %d", kn, EXT_KEY_MAX);
    for (size_t i = 0; i < kn; i++)
        if (!ext_key_char(k[i]))
            return why_fail(why, whylen, "key character %zu is %s, expected A-Z a-z 0-9 . _ : / -",
                            i + 1, show(b, k[i]));
    return 0;
}

/* ------------------------------------------------------------ normalising */

struct scheme_def {
    const char *name;
    int id;
    check_fn check;
    unsigned kinds;  /* of subject it may name: bit (1 << PRB_PERSON) | (1 << PRB_COMPANY) */
    const char *one; /* why a subject has one of it at most; NULL: it may have many */
};

#define P (1u << PRB_PERSON)
#define C (1u << PRB_COMPANY)
/* A resident id and a German tax id (IdNr) are issued to natural persons
 * only; a company found by one would be published by its person's
 * number on public lists and cards. Each national number is issued once
 * to its holder, for life: a second one on a file is someone else's,
 * whose records would be filed there. A furnisher files a subject under
 * keys of its own, as many as it keeps. */
static const struct scheme_def schemes[] = {
    {"cn-rid", PRB_SCHEME_CN_RID, check_cn_rid, P, "one person has one resident id"},
    {"cn-uscc", PRB_SCHEME_CN_USCC, check_cn_uscc, C,
     "an entity has one unified social credit code"},
    {"lei", PRB_SCHEME_LEI, check_lei, C, "an entity has one LEI"},
    {"de-taxid", PRB_SCHEME_DE_TAXID, check_de_taxid, P, "one person has one tax id"},
    {"ext", PRB_SCHEME_EXT, check_ext, P | C, NULL},
};
#undef P
#undef C
#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static const struct scheme_def *find_scheme(const char *s, size_t n)
{
    for (size_t i = 0; i < NSCHEMES; i++) {
        const char *name = schemes[i].name;
        size_t j = 0;
        if (strlen(name) != n)
            continue;
        while (j < n && to_lower(s[j]) == name[j])
            j++;
        if (j == n)
            return &schemes[i];
    }
    return NULL;
}

static const struct scheme_def *scheme_of(const char *canon)
{
    const char *colon = strchr(canon, ':');
    return colon ? find_scheme(canon, (size_t)(colon - canon)) : NULL;
}

int prb_ident_company_public(const char *canon)
{
    const struct scheme_def *s = scheme_of(canon);
    return s && s->kinds == 1u << PRB_COMPANY;
}

const char *prb_ident_one_only(const char *canon)
{
    const struct scheme_def *s = scheme_of(canon);
    return s ? s->one : NULL;
}

unsigned prb_ident_scheme_kinds(int scheme)
{
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].id == scheme)
            return schemes[i].kinds;
    return 0;
}

/* Writes a reason into out; vsnprintf never writes past outlen and always
 * terminates when outlen > 0. out may be NULL only when outlen is 0. */
PRINTF_LIKE(3, 4)
static int fail(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    return PRB_EINVAL;
}

static void trim(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && is_space((unsigned char)s[*b]))
        (*b)++;
    while (*e > *b && is_space((unsigned char)s[*e - 1]))
        (*e)--;
}

/* Position (0-based, as in the caller's s) of the first NUL or control byte
 * in s[b..e), or e if there is none. */
static size_t find_control(const char *s, size_t b, size_t e)
{
    while (b < e && !is_control((unsigned char)s[b]))
        b++;
    return b;
}

/* what names the part at fault ("identifier", "cn-rid: value"); at is the
 * offset in the caller's s. The place is said in characters of what the
 * caller sent, counted from 1, as text.c and the record parsers say it. */
static int fail_control(char *out, size_t outlen, const char *what, const char *s, size_t at)
{
    size_t ch = prb_utf8_chars(s, at) + 1;
    if (s[at] == '\0')
        return fail(out, outlen, "%s contains a NUL byte at character %zu", what, ch);
    return fail(out, outlen, "%s contains control byte 0x%02x at character %zu", what,
                (unsigned char)s[at], ch);
}

static int fail_unknown(char *out, size_t outlen, const char *s, size_t n)
{
    char known[96] = "";
    size_t used = 0;

    /* Built from the table so the list in the message cannot drift from it. */
    for (size_t i = 0; i < NSCHEMES && used < sizeof known; i++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", schemes[i].name);
        if (w > 0)
            used += (size_t)w;
    }
    return fail(out, outlen, "unknown identifier scheme '%.*s' (known: %s)", (int)n, s, known);
}

/* Splits the trimmed in[*b..*e) at its first ':' and looks the scheme up.
 * On success *b..*e is the trimmed VALUE and *def its scheme. */
static int split(const char *in, size_t *b, size_t *e, const struct scheme_def **def, char *out,
                 size_t outlen)
{
    const char *colon = memchr(in + *b, ':', *e - *b);
    size_t at;

    if (!colon) {
        at = find_control(in, *b, *e);
        if (at < *e)
            return fail_control(out, outlen, "identifier", in, at);
        return fail(out, outlen, "missing ':' between scheme and value");
    }
    size_t c = (size_t)(colon - in);
    at = find_control(in, *b, c);
    if (at < c)
        return fail_control(out, outlen, "identifier scheme", in, at);
    if (c == *b)
        return fail(out, outlen, "missing identifier scheme before ':'");
    *def = find_scheme(in + *b, c - *b);
    if (!*def)
        return fail_unknown(out, outlen, in + *b, c - *b);
    *b = c + 1;
    trim(in, b, e);
    return PRB_OK;
}

/* Validates the VALUE in[b..e) (canonicalising it in place) and writes
 * "scheme:VALUE" into out. */
static int finish(char *in, size_t b, size_t e, const struct scheme_def *def, char *out,
                  size_t outlen)
{
    char why[160];
    size_t at = find_control(in, b, e);

    if (at < e) {
        char what[32];
        snprintf(what, sizeof what, "%s: value", def->name);
        return fail_control(out, outlen, what, in, at);
    }
    if (b == e)
        return fail(out, outlen, "%s: value is empty", def->name);
    if (def->check(in + b, e - b, why, sizeof why) < 0)
        return fail(out, outlen, "%s: %s", def->name, why);

    size_t nl = strlen(def->name), need = nl + 1 + (e - b) + 1;
    if (outlen < need)
        return fail(out, outlen, "%s: output buffer is %zu bytes, %zu needed", def->name, outlen,
                    need);
    /* Not snprintf: an ingest normalises every record's identifier, and
     * formatting was half the cost of it. */
    memcpy(out, def->name, nl);
    out[nl] = ':';
    memcpy(out + nl + 1, in + b, e - b);
    out[need - 1] = 0;
    return PRB_OK;
}

int prb_ident_normalize(const char *s, size_t n, char *out, size_t outlen, int *scheme)
{
    /* Working on a private copy keeps every read inside s[0..n), gives the
     * validators something they may rewrite, and lets a caller pass the
     * same buffer as s and out. */
    char in[IDENT_IN_MAX + 1];
    size_t b = 0, e = n;
    const struct scheme_def *def = NULL;

    if (scheme)
        *scheme = 0;
    if (!out)
        outlen = 0;
    if (!s && n > 0)
        return fail(out, outlen, "no identifier given");
    if (n > IDENT_IN_MAX)
        return fail(out, outlen, "identifier is %zu bytes long, at most %d are allowed", n,
                    IDENT_IN_MAX);
    if (n > 0)
        memcpy(in, s, n);

    trim(in, &b, &e);
    if (b == e)
        return fail(out, outlen, "empty identifier (expected SCHEME:VALUE)");
    int rc = split(in, &b, &e, &def, out, outlen);
    if (rc == PRB_OK)
        rc = finish(in, b, e, def, out, outlen);
    if (rc == PRB_OK && scheme)
        *scheme = def->id;
    return rc;
}
