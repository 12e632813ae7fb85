/*
 * text.c - free text a person wrote and another will read (a dispute's
 * reason, a reviewer's note): checked once, the same way everywhere.
 */
#include "internal.h"

#include <jansson.h>
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
    json_t *t = n ? json_string(s) : NULL;
    if (n && !t)
        return prb_seterr(env->err, PRB_EINVAL, "%s: the %s is not UTF-8 text", who, what);
    json_decref(t);
    return PRB_OK;
}
