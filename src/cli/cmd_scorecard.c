/*
 * cmd_scorecard.c - probity scorecard import|eval.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_scorecard(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *name = cli_opt(&a, "name"), *input = cli_opt(&a, "input");
    int import = a.npos == 3 && !strcmp(a.pos[0], "import");
    int eval = a.npos == 2 && !strcmp(a.pos[0], "eval");
    if (!name || (!import && !eval) || (eval && !input))
        return fprintf(stderr, "usage: probity scorecard import DIR FILE.pmml --name NAME\n"
                               "       probity scorecard eval DIR --name NAME --input JSON\n"),
               2;
    if ((rc = cli_open(&a, a.pos[1], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if (import) {
        if ((rc = prb_scorecard_import(env, name, a.pos[2])))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            printf("imported scorecard %s from %s\n", name, a.pos[2]);
    } else {
        char *json = NULL;
        if ((rc = prb_scorecard_eval(env, name, input, &json)))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            puts(json);
        free(json);
    }
out:
    prb_close(env);
    return rc;
}
