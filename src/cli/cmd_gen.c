/*
 * cmd_gen.c - probity gen: a synthetic population on standard output.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_gen(int argc, char **argv)
{
    cli_args a;
    prb_gen_opts o = {0};
    int64_t now;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *asof = cli_opt(&a, "as-of");
    o.seed = 1;
    if (cli_count(&a, "persons", 0, UINT64_MAX, &o.persons) ||
        cli_count(&a, "companies", 0, UINT64_MAX, &o.companies) ||
        cli_count(&a, "seed", 0, UINT64_MAX, &o.seed))
        return 2;
    if (a.npos || (rc = cli_unused(&a)))
        return rc ? rc
                  : (fprintf(stderr, "usage: probity gen --persons N --companies M [--seed S]\n"),
                     2);
    if (asof ? prb_parse_now(asof, &now) : prb_clock(&now))
        return fprintf(stderr, "probity: gen: --as-of or PROBITY_NOW is not YYYY-MM-DD or "
                               "YYYY-MM-DDTHH:MM:SSZ\n"),
               2;
    o.today = (int32_t)(now / 86400);
    rc = prb_gen(&o, cli_write_stdout, NULL);
    if (rc)
        return cli_fail(rc, rc == PRB_EINVAL ? "gen: give --persons and/or --companies (N > 0)"
                                             : "gen: cannot write output");
    return 0;
}
