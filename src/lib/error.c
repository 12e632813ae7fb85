/*
 * error.c - the one table of result codes: their names, generic texts and
 * the exit statuses the CLI uses, plus the formatter every handle's
 * message buffer is written with.
 */
#include "internal.h"

#include <stdio.h>

static const struct {
    const char *name;
    const char *text;
    int exit_status;
} codes[PRB__NCODES] = {
    [PRB_OK] = {"PRB_OK", "success", 0},
    [PRB_EINVAL] = {"PRB_EINVAL", "invalid argument or input", 2},
    [PRB_ENOMEM] = {"PRB_ENOMEM", "out of memory", 70},
    [PRB_EIO] = {"PRB_EIO", "input/output error", 74},
    [PRB_ENOTFOUND] = {"PRB_ENOTFOUND", "not found", 3},
    [PRB_EEXIST] = {"PRB_EEXIST", "already exists", 4},
    [PRB_EPOLICY] = {"PRB_EPOLICY", "invalid policy", 5},
    [PRB_EREFUSED] = {"PRB_EREFUSED", "refused: special-category data", 6},
    [PRB_EREJECTED] = {"PRB_EREJECTED", "batch rejected: bad records", 7},
    [PRB_ESTORE] = {"PRB_ESTORE", "storage error", 75},
    [PRB_ECORRUPT] = {"PRB_ECORRUPT", "stored data is corrupt", 76},
    [PRB_ECONFLICT] = {"PRB_ECONFLICT", "identifiers of different subjects", 8},
    [PRB_EFULL] = {"PRB_EFULL", "store is full", 75},
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

int prb_seterr(char *buf, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, PRB_ERRMSG_MAX, fmt, ap);
    va_end(ap);
    return rc;
}
