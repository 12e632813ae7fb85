/*
 * cmd_notices.c - probity notices: the outbox of notices to subjects.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_notices(int argc, char **argv)
{
    static const char *const flags[] = {"pending", NULL};
    cli_args a;
    prb_env *env;
    char *json = NULL;
    int rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    int pending = cli_flag(&a, "pending");
    if (a.npos != 1)
        return fprintf(stderr, "usage: probity notices DIR [--pending]\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if (!(rc = cli_unused(&a))) {
        if ((rc = prb_notices_json(env, pending, &json)))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            puts(json);
    }
    free(json);
    prb_close(env);
    return rc;
}
