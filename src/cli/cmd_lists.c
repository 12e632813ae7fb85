/*
 * cmd_lists.c - probity lists: show the lists and their members, or
 * refresh every subject's entries.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_lists(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    uint64_t after = 0;
    size_t limit = 0;
    int rc = cli_parse(argc, argv, NULL, &a), refresh;
    if (rc)
        return rc;
    refresh = a.npos >= 1 && !strcmp(a.pos[0], "refresh");
    if (a.npos < 1 + refresh || a.npos > 2)
        return fprintf(stderr, "usage: probity lists DIR [NAME] [--after N] [--limit N] | "
                               "probity lists refresh DIR\n"),
               2;
    /* Pages bound the write that tells the members shown: all of them at
     * once hold LMDB's one writer for as long as that takes. */
    if (!refresh && cli_page(&a, &after, &limit))
        return 2;
    if ((rc = cli_open(&a, a.pos[refresh], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if (refresh) {
        uint64_t n = 0;
        if ((rc = prb_lists_refresh_all(env, &n)))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            printf("lists refreshed: %llu entr%s changed\n", (unsigned long long)n,
                   n == 1 ? "y" : "ies");
    } else {
        char *json = NULL;
        /* Members of purpose-bound lists are told of the operator's read. */
        if ((rc = prb_lists_staff_page(env, a.npos == 2 ? a.pos[1] : NULL, cli_operator(), 0, after,
                                       limit, &json)))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            puts(json);
        free(json);
    }
out:
    prb_close(env);
    return rc;
}
