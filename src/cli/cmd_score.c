/*
 * cmd_score.c - probity score: every subject's current decision for a
 * purpose, as NDJSON on standard output.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int cmd_score(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    uint64_t n = 0;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *purpose = cli_opt(&a, "purpose");
    uint64_t threads = 0;
    /* The engine scores on at most 64 threads; 0 is one per core. */
    if (cli_count(&a, "threads", 0, 64, &threads))
        return 2;
    if (a.npos != 1 || !purpose)
        return fprintf(stderr, "usage: probity score DIR --purpose P [--threads N]\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if (!(rc = cli_unused(&a))) {
        rc = prb_score_all(env, purpose, (int)threads, cli_write_stdout, NULL, &n);
        if (rc)
            rc = cli_fail(rc, prb_errmsg(env));
        else
            fprintf(stderr, "probity: scored %llu subjects for %s\n", (unsigned long long)n,
                    purpose);
    }
    prb_close(env);
    return rc;
}
