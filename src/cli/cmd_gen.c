/*
 * cmd_gen.c - probity gen: a synthetic population on standard output.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int number(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return *end || errno ? -1 : 0;
}

int cmd_gen(int argc, char **argv)
{
    cli_args a;
    prb_gen_opts o = {0};
    int64_t now;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *p = cli_opt(&a, "persons"), *c = cli_opt(&a, "companies"), *s = cli_opt(&a, "seed"),
               *asof = cli_opt(&a, "as-of");
    if (a.npos || (rc = cli_unused(&a)))
        return rc ? rc
                  : (fprintf(stderr, "usage: probity gen --persons N --companies M [--seed S]\n"),
                     2);
    if ((p && number(p, &o.persons)) || (c && number(c, &o.companies)) || (s && number(s, &o.seed)))
        return fprintf(stderr, "probity: gen: --persons, --companies and --seed take whole "
                               "numbers\n"),
               2;
    if (!s)
        o.seed = 1;
    if (asof ? prb_parse_now(asof, &now) : prb_clock(&now))
        return fprintf(stderr, "probity: gen: --as-of or PROBITY_NOW is not YYYY-MM-DD\n"), 2;
    o.today = (int32_t)(now / 86400);
    rc = prb_gen(&o, cli_write_stdout, NULL);
    if (rc)
        return cli_fail(rc, rc == PRB_EINVAL ? "gen: give --persons and/or --companies (N > 0)"
                                             : "gen: cannot write output");
    return 0;
}
