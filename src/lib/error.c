/*
 * error.c - the one table of result codes: their names, generic texts,
 * the exit statuses the CLI uses and the HTTP statuses the server answers
 * with, plus the formatter every handle's
 * message buffer is written with.
 */
#include "internal.h"

#include <stdio.h>

static const struct {
    const char *name;
    const char *text;
    int exit_status;
    int http_status;
} codes[PRB__NCODES] = {
    [PRB_OK] = {"PRB_OK", "success", 0, 200},
    [PRB_EINVAL] = {"PRB_EINVAL", "invalid argument or input", 2, 400},
    [PRB_ENOMEM] = {"PRB_ENOMEM", "out of memory", 70, 503},
    [PRB_EIO] = {"PRB_EIO", "input/output error", 74, 500},
    [PRB_ENOTFOUND] = {"PRB_ENOTFOUND", "not found", 3, 404},
    [PRB_EEXIST] = {"PRB_EEXIST", "already exists", 4, 409},
    [PRB_EPOLICY] = {"PRB_EPOLICY", "invalid policy", 5, 500},
    [PRB_EREFUSED] = {"PRB_EREFUSED", "refused: special-category data", 6, 422},
    [PRB_EREJECTED] = {"PRB_EREJECTED", "batch rejected: bad records", 7, 422},
    [PRB_ESTORE] = {"PRB_ESTORE", "storage error", 75, 500},
    [PRB_ECORRUPT] = {"PRB_ECORRUPT", "stored data is corrupt", 76, 500},
    [PRB_ECONFLICT] = {"PRB_ECONFLICT", "identifiers of different subjects", 8, 409},
    [PRB_EFULL] = {"PRB_EFULL", "store is full", 75, 507},
    [PRB_EBUSY] = {"PRB_EBUSY", "in use by another process", 9, 409},
    [PRB_EREVOKED] = {"PRB_EREVOKED", "the key was revoked", 10, 401},
};

static int known(int rc)
{
    return rc >= 0 && rc < PRB__NCODES && codes[rc].name;
}

const char *prb_strerror(int rc)
{
    return known(rc) ? codes[rc].text : "unknown error";
}

const char *prb_errname(int rc)
{
    return known(rc) ? codes[rc].name : "PRB_E?";
}

int prb_exit_status(int rc)
{
    return known(rc) ? codes[rc].exit_status : 1;
}

int prb_http_status(int rc)
{
    return known(rc) ? codes[rc].http_status : 500;
}

void prb_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);
    /* Cut to the buffer, a message may end inside a character it quotes:
     * drop that character's first bytes, since a message is read as JSON,
     * which refuses a character cut in two. */
    if (n < 0 || (size_t)n < size || size < 2)
        return;
    size_t end = size - 1, lead = end;
    while (lead > 0 && end - lead < 3 && ((unsigned char)buf[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead > 0 && (unsigned char)buf[lead - 1] >= 0xc0 &&
        !prb_utf8_len((const unsigned char *)buf + lead - 1, (const unsigned char *)buf + end))
        buf[lead - 1] = 0;
}

int prb_seterr(char *buf, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prb_vfmt(buf, PRB_ERRMSG_MAX, fmt, ap);
    va_end(ap);
    return rc;
}
