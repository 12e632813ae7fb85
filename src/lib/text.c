/*
 * text.c - free text a person wrote and another will read (a dispute's
 * reason, a reviewer's note): checked once, the same way everywhere.
 */
#include "internal.h"

#include <string.h>

int prb_text_check(prb_env *env, const char *who, const char *what, const char *s, int required)
{
    int visible = 0;
    size_t n = s ? strlen(s) : 0;
    if (n > PRB_TEXT_MAX)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is %zu bytes long; at most %d", who,
                          what, n, PRB_TEXT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return prb_seterr(env->err, PRB_EINVAL,
                              "%s: the %s has a control character at byte %zu", who, what, i);
        visible |= c != ' ' && c != '\n' && c != '\t';
    }
    if (required && !visible)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is required", who, what);
    /* jansson refuses a string that is not UTF-8, and JSON is where it goes. */
    if (prb_utf8_prefix(s, n) < n)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is not UTF-8 text", who, what);
    return PRB_OK;
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

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
int prb_utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
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
    return n;
}
