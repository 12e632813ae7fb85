/*
 * cmd_subject.c - probity subject: print a subject's whole file.
 */
#include "cli.h"

#include <stdio.h>

int cmd_subject(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    prb_file *f = NULL;
    const char *json;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 2)
        return fprintf(stderr, "usage: probity subject DIR SCHEME:VALUE [--as-of DATE]\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if ((rc = prb_subject_read(env, a.pos[1], &f))) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    if ((rc = prb_file_json(f, &json))) {
        rc = cli_fail(rc, "out of memory");
        goto out;
    }
    puts(json);
out:
    prb_file_free(f);
    prb_close(env);
    return rc;
}
