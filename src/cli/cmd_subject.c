/*
 * cmd_subject.c - probity subject: print the subject's copy, everything
 * the register holds about them, as JSON or as a letter.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_subject(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    char *out = NULL;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *format = cli_opt(&a, "format");
    int fmt = !format || !strcmp(format, "json") ? PRB_COPY_JSON
              : !strcmp(format, "text")          ? PRB_COPY_TEXT
                                                 : 0;
    if (a.npos != 2 || !fmt)
        return fprintf(stderr, "usage: probity subject DIR SCHEME:VALUE [--format json|text] "
                               "[--as-of DATE]\n"),
               2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    /* The operator's read is told to the subject like a reviewer's. */
    if ((rc = prb_subject_copy_read(env, a.pos[1], fmt, cli_operator(), 0, &out)))
        rc = cli_fail(rc, prb_errmsg(env));
    else
        fputs(out, stdout);
    if (!rc && fmt == PRB_COPY_JSON)
        fputc('\n', stdout);
out:
    free(out);
    prb_close(env);
    return rc;
}
