/*
 * jsonout.c - compact JSON written straight into one growing buffer, for
 * the document made on every request: a decision. Building it as a
 * jansson tree and dumping that took a sixth of the server's CPU per
 * decision (an allocation per value, a hash table per object, a callback
 * per piece of output). Everything else still goes through jansson, but
 * a jansson tree with reals in it is written out here (prb_jw_json): the
 * subject's copy is gathered as one, from stored JSON, and jansson's
 * dump printed a score of 500.6 there as 500.60000000000002.
 *
 * The output is what jansson's json_dumps(JSON_COMPACT) gives for the
 * same values, or with indent set what JSON_INDENT(indent) gives (the
 * lists, which can be long), but for reals: jansson writes them with a
 * fixed number of digits, and no fixed number is right. At precision 10,
 * what inquiries were written with, a feature's value of 999999999.99
 * read 1000000000.0; at 17, 0.1 reads 0.10000000000000001. A real here
 * is written with the digits it needs to read back as the same double
 * (prb_real_str): for every value below 10^10 that ten digits could say,
 * the text precision 10 gave, so inquiries stored before read as they
 * did (from 10^10 that wrote an exponent, this writes the digits).
 * Points, which are exact decimals, are written as such (prb_jw_number).
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL; 0 when out of memory. */
static int grow(prb_jw *w, size_t n)
{
    if (w->oom)
        return 0;
    size_t cap = w->cap ? w->cap : 1024;
    while (w->len + n + 1 > cap)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->oom = 1;
        return 0;
    }
    w->buf = b;
    w->cap = cap;
    return 1;
}

/* Called for every piece of a document, most a byte or two long: the
 * common case, room enough, inline. After running out of memory pieces
 * that still fit go into the old buffer, which prb_jw_finish frees: the
 * document is lost whole. */
static inline void put(prb_jw *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap && !grow(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* A line break and the indentation of depth, when indenting. */
static void newline(prb_jw *w, int depth)
{
    static const char spaces[] = "                                ";
    put(w, "\n", 1);
    for (size_t n = (size_t)(depth * w->indent); n;) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        put(w, spaces, k);
        n -= k;
    }
}

/* What goes before a value or a key: nothing after a key; after another
 * in the same object or array a comma; and, indented, a line of its own
 * within a container. */
static void sep(prb_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->comma)
        put(w, ",", 1);
    if (w->indent && w->depth)
        newline(w, w->depth);
}

void prb_jw_open(prb_jw *w, char c)
{
    sep(w);
    put(w, &c, 1);
    w->comma = 0;
    w->depth++;
}

void prb_jw_close(prb_jw *w, char c)
{
    w->depth--;
    /* An empty container stays on its line: "[]". */
    if (w->indent && w->comma)
        newline(w, w->depth);
    put(w, &c, 1);
    w->comma = 1;
}

static void quoted(prb_jw *w, const char *str)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), run = 0;
    put(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        /* Plain ASCII, nearly all of a decision's text, needs no decoding. */
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        size_t l = c >= 0x20 && c != '"' && c != '\\' ? (size_t)prb_utf8_len(s + i, s + n) : 0;
        if (l) {
            i += l;
            run += l;
            continue;
        }
        put(w, (const char *)s + i - run, run);
        run = 0;
        char e[6] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            if (c < 0x20) {
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4];
                e[5] = hex[c & 15];
                el = 6;
            } else {
                /* Not UTF-8 (text is checked where it comes in, so this
                 * is a byte that slipped past): the replacement
                 * character, never invalid JSON. */
                memcpy(e, "\\ufffd", 6);
                el = 6;
            }
        }
        put(w, e, el);
        i++;
    }
    put(w, (const char *)s + n - run, run);
    put(w, "\"", 1);
}

void prb_jw_key(prb_jw *w, const char *k)
{
    sep(w);
    quoted(w, k);
    put(w, ": ", w->indent ? 2 : 1);
    w->after_key = 1;
}

void prb_jw_int(prb_jw *w, long long v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", v);
    sep(w);
    put(w, b, (size_t)n);
    w->comma = 1;
}

void prb_jw_str(prb_jw *w, const char *s)
{
    if (!s) {
        prb_jw_null(w);
        return;
    }
    sep(w);
    quoted(w, s);
    w->comma = 1;
}

void prb_jw_null(prb_jw *w)
{
    sep(w);
    put(w, "null", 4);
    w->comma = 1;
}

void prb_jw_bool(prb_jw *w, int v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
    w->comma = 1;
}

/* Most reals a decision writes are whole or in hundredths (counts,
 * amounts): written here without printf, which cost more than the rest
 * of the document. The text is k/100's, and when v is the double nearest
 * k/100 it reads back as v and is as short as any text that does (below
 * 10^7 a number of hundredths has at most nine significant digits). The
 * length, or 0 when v is not such a number. */
static int hundredths(char *b, double v)
{
    char t[24], *p = t + sizeof t;
    if (!(v > -1e7 && v < 1e7) || (v == 0 && signbit(v)))
        return 0;
    double c = v * 100;
    long long k = (long long)c;
    /* v * 100 may round to a whole number that v is not a hundredth of. */
    if ((double)k != c || (double)k / 100 != v)
        return 0;
    unsigned long long a = k < 0 ? 0ull - (unsigned long long)k : (unsigned long long)k;
    unsigned f = (unsigned)(a % 100);
    a /= 100;
    if (f % 10)
        *--p = (char)('0' + f % 10);
    *--p = (char)('0' + f / 10);
    *--p = '.';
    do
        *--p = (char)('0' + a % 10);
    while (a /= 10);
    if (k < 0)
        *--p = '-';
    memcpy(b, p, (size_t)(t + sizeof t - p));
    return (int)(t + sizeof t - p);
}

int prb_real_str(char *b, size_t size, double v)
{
    int n = 0;
    /* 17 significant digits always read back; fewer mostly do, and say
     * what was meant (0.1, not 0.10000000000000001). */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(b, size, "%.*g", prec, v);
        if (n < 0 || (size_t)n >= size || !isfinite(v) || strtod(b, NULL) == v)
            break;
    }
    if (n < 0 || (size_t)n >= size)
        return -1;
    /* The exponent as jansson writes it: no '+', no leading zeros. */
    char *e = strchr(b, 'e');
    if (e) {
        char *d = e + 1, *z;
        if (*d == '+')
            memmove(d, d + 1, strlen(d)); /* the NUL too */
        else if (*d == '-')
            d++;
        for (z = d; *z == '0' && z[1]; z++)
            ;
        memmove(d, z, strlen(z) + 1);
        n = (int)strlen(b);
    }
    return n;
}

/* Written so that it reads back as a real: with a '.' or an exponent. */
static void real_text(prb_jw *w, const char *b, size_t n)
{
    sep(w);
    put(w, b, n);
    if (!memchr(b, '.', n) && !memchr(b, 'e', n))
        put(w, ".0", 2);
    w->comma = 1;
}

void prb_jw_real(prb_jw *w, double v)
{
    char b[PRB_REAL_STR];
    if (!isfinite(v)) {
        prb_jw_null(w);
        return;
    }
    int n = hundredths(b, v);
    if (!n)
        n = prb_real_str(b, sizeof b, v);
    real_text(w, b, (size_t)n);
}

void prb_jw_number(prb_jw *w, const char *num)
{
    real_text(w, num, strlen(num));
}

void prb_jw_json(prb_jw *w, const json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        prb_jw_open(w, '{');
        json_object_foreach((json_t *)v, k, m)
        {
            prb_jw_key(w, k);
            prb_jw_json(w, m);
        }
        prb_jw_close(w, '}');
        break;
    case JSON_ARRAY:
        prb_jw_open(w, '[');
        json_array_foreach(v, i, m) prb_jw_json(w, m);
        prb_jw_close(w, ']');
        break;
    case JSON_STRING:
        prb_jw_str(w, json_string_value(v));
        break;
    case JSON_INTEGER:
        prb_jw_int(w, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        prb_jw_real(w, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        prb_jw_bool(w, json_is_true(v));
        break;
    default:
        prb_jw_null(w);
    }
}

char *prb_jw_finish(prb_jw *w)
{
    char *b = w->oom ? NULL : w->buf;
    if (w->oom)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    return b;
}
