/*
 * cmd_notices.c - probity notices: the outbox of notices to subjects, the
 * notices to one inquirer a page at a time, and delivering them through
 * the policy's channels.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static int deliver(prb_env *env, const char *dir)
{
    prb_deliver_stats st;
    char msg[512];
    int rc = prb_notices_deliver(env, &st);
    if (rc)
        return cli_fail(rc, prb_errmsg(env));
    printf("delivered %llu, pending %llu, attempts %llu\n", (unsigned long long)st.delivered,
           (unsigned long long)st.pending, (unsigned long long)st.attempts);
    if (st.later)
        printf("%llu notices made while it ran are left for the next run\n",
               (unsigned long long)st.later);
    if (!st.pending)
        return 0;
    /* Not delivered yet is not lost: the next run tries again. The exit
     * status says so, for whatever runs this periodically. */
    snprintf(msg, sizeof msg,
             "%llu notices still pending; `probity notices %s --pending` shows each channel's "
             "last error",
             (unsigned long long)st.pending, dir);
    return cli_fail(PRB_EIO, msg);
}

static const char notices_usage[] =
    "usage: probity notices DIR [--pending | --deliver]\n"
    "       probity notices DIR --recipient NAME [--pending] [--after N] [--limit N]\n"
    "  --recipient: the notices to the inquirer NAME (what it is shown of them), in\n"
    "  order, or N of them past the one numbered N; when more follow, where the\n"
    "  next page starts is said on standard error\n";

int cmd_notices(int argc, char **argv)
{
    static const char *const flags[] = {"pending", "deliver", NULL};
    cli_args a;
    prb_env *env;
    char *json = NULL;
    uint64_t after = 0, next = 0;
    size_t limit = 0;
    int rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    int pending = cli_flag(&a, "pending"), send = cli_flag(&a, "deliver");
    const char *recipient = cli_opt(&a, "recipient");
    if (a.npos != 1 || (pending && send) || (recipient && send))
        return fputs(notices_usage, stderr), 2;
    if (recipient && cli_page(&a, &after, &limit))
        return 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if (!(rc = cli_unused(&a))) {
        if (send)
            rc = deliver(env, a.pos[0]);
        else if ((rc = recipient ? prb_notices_to_page(env, recipient, pending, after, limit, &json,
                                                       &next)
                                 : prb_notices_json(env, pending, &json)))
            rc = cli_fail(rc, prb_errmsg(env));
        else {
            puts(json);
            cli_page_next("notices", next);
        }
    }
    free(json);
    prb_close(env);
    return rc;
}
