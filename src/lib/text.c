/*
 * text.c - free text a person wrote and another will read (a dispute's
 * reason, a reviewer's note): checked once, the same way everywhere.
 */
#include "internal.h"

#include <stdint.h>
#include <string.h>

int prb_invisible(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0xa0) || cp == 0xad || cp == 0x1680 || cp == 0x180e ||
           (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
           (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff;
}

int prb_text_check(prb_env *env, const char *who, const char *what, const char *s, int required)
{
    int visible = 0;
    size_t n = s ? strlen(s) : 0, chars;
    /* jansson refuses a string that is not UTF-8, and JSON is where it goes. */
    if (prb_utf8_prefix(s, n) < n)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is not UTF-8 text", who, what);
    /* In characters, as the API's maxLength (JSON Schema) counts: in
     * bytes a 700-character reason in Chinese was over the limit. */
    if ((chars = prb_utf8_chars(s, n)) > PRB_TEXT_MAX)
        return prb_seterr(env->err, PRB_EINVAL,
                          "%s: the %s is %zu characters long; at most %d characters", who, what,
                          chars, PRB_TEXT_MAX);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t at = 0;
    for (int k; p < end; p += k) {
        uint32_t cp;
        k = prb_utf8_next(p, end, &cp);
        at++; /* from 1, as the other messages count */
        if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f)
            return prb_seterr(env->err, PRB_EINVAL,
                              "%s: the %s has a control character at character %zu", who, what, at);
        /* A text of Unicode spaces and format characters alone (a
         * no-break space, a zero-width one) is as empty as one of ASCII
         * blanks. */
        visible |= cp != ' ' && cp != '\n' && cp != '\t' && !prb_invisible(cp);
    }
    if (required && !visible)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is required", who, what);
    return PRB_OK;
}

size_t prb_utf8_chars(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t chars = 0;
    for (; p < end; chars++) {
        int k = prb_utf8_len(p, end);
        p += k ? k : 1; /* a byte that is not UTF-8 shows as one character */
    }
    return chars;
}

size_t prb_utf8_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (int k; p < end; p += k)
        if (!(k = prb_utf8_len(p, end)))
            break;
    return (size_t)(p - (const unsigned char *)s);
}

int prb_utf8_cut(const char *s, size_t n, size_t max)
{
    return (int)prb_utf8_prefix(s, n < max ? n : max);
}

int prb_utf8_len(const unsigned char *p, const unsigned char *end)
{
    uint32_t cp;
    return prb_utf8_next(p, end, &cp);
}

int prb_utf8_next(const unsigned char *p, const unsigned char *end, uint32_t *cpp)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80) {
        *cpp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (end - p < n)
        return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cpp = cp;
    return n;
}
