/*
 * cmd_decide.c - probity decide: answer one inquiry and print the decision.
 */
#include "cli.h"

#include <stdio.h>

int cmd_decide(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    prb_decision *d = NULL;
    const char *json;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *purpose = cli_opt(&a, "purpose"), *subject = cli_opt(&a, "subject"),
               *requester = cli_opt(&a, "requester");
    if (a.npos != 1 || !purpose || !subject || !requester)
        return fprintf(stderr, "usage: probity decide DIR --purpose P --subject SCHEME:VALUE "
                               "--requester NAME [--as-of DATE]\n"),
               2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if ((rc = prb_decide(env, purpose, subject, requester, &d))) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    prb_decision_json(d, &json);
    puts(json);
out:
    prb_decision_free(d);
    prb_close(env);
    return rc;
}
