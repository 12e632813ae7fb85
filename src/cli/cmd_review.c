/*
 * cmd_review.c - probity review request|decide|list: human review of a
 * decision (the logic is in src/lib/review.c).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char review_usage[] =
    "usage: probity review request DIR --decision ID --reason TEXT\n"
    "       probity review decide DIR --id R --outcome upheld|overturned --reviewer NAME "
    "--note TEXT\n"
    "       probity review list DIR [--pending] [--after N] [--limit N]\n"
    "  list: every review in order, or N of them past the one numbered N (the\n"
    "  number, not the 12-r1 name); when more follow, where the next page\n"
    "  starts is said on standard error\n";

int cmd_review(int argc, char **argv)
{
    static const char *const flags[] = {"pending", NULL};
    cli_args a;
    prb_env *env;
    char *json = NULL;
    uint64_t after = 0, next = 0;
    size_t limit = 0;
    int rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    const char *sub = a.npos ? a.pos[0] : "";
    int request = !strcmp(sub, "request"), decide = !strcmp(sub, "decide");
    int list = !strcmp(sub, "list");
    if (a.npos != 2 || (!request && !decide && !list))
        return fputs(review_usage, stderr), 2;
    const char *decision = NULL, *reason = NULL, *id = NULL, *outcome = NULL, *reviewer = NULL,
               *note = NULL;
    int pending = 0;
    if (request) {
        decision = cli_opt(&a, "decision");
        reason = cli_opt(&a, "reason");
        if (!decision || !reason)
            return fputs(review_usage, stderr), 2;
    } else if (decide) {
        id = cli_opt(&a, "id");
        outcome = cli_opt(&a, "outcome");
        reviewer = cli_opt(&a, "reviewer");
        note = cli_opt(&a, "note");
        if (!id || !outcome || !reviewer || !note)
            return fputs(review_usage, stderr), 2;
    } else {
        pending = cli_flag(&a, "pending");
        if (cli_page(&a, &after, &limit))
            return 2;
    }
    if ((rc = cli_open(&a, a.pos[1], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if (request)
        rc = prb_review_request(env, decision, reason, &json);
    else if (decide)
        rc = prb_review_decide(env, id, outcome, reviewer, note, &json);
    else
        rc = prb_reviews_page(env, pending, after, limit, &json, &next);
    if (rc)
        rc = cli_fail(rc, prb_errmsg(env));
    else {
        puts(json);
        cli_page_next("reviews", next);
    }
out:
    free(json);
    prb_close(env);
    return rc;
}
