/*
 * cmd_register.c - commands on a register as a whole: init, policy check
 * and default, expire, where the indexes live.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_init(int argc, char **argv)
{
    cli_args a;
    prb_env *env = NULL;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *policy = cli_opt(&a, "policy");
    if (a.npos != 1 || (rc = cli_unused(&a)))
        return rc ? rc : (fprintf(stderr, "usage: probity init DIR [--policy FILE]\n"), 2);
    rc = prb_init(a.pos[0], policy, &env);
    if (rc)
        rc = cli_fail(rc, prb_errmsg(env));
    else
        printf("created register %s (%s%s, version %s)\n", a.pos[0], policy ? "policy " : "",
               policy ? policy : PRB_DEFAULT_POLICY_NAME, prb_policy_version(prb_env_policy(env)));
    prb_close(env);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    cli_args a;
    prb_policy *p = NULL;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    if ((rc = cli_unused(&a)))
        return rc;
    if (a.npos == 1 && !strcmp(a.pos[0], "default")) {
        /* The starting point for a register's own policy. */
        size_t len;
        const char *text = prb_default_policy(&len);
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout))
            return cli_fail(PRB_EIO, "writing the policy to standard output failed");
        return 0;
    }
    if (a.npos != 2 || strcmp(a.pos[0], "check"))
        return fprintf(stderr, "usage: probity policy check FILE | probity policy default\n"), 2;
    rc = prb_policy_load(a.pos[1], &p);
    if (rc)
        rc = cli_fail(rc, prb_policy_errmsg(p));
    else
        printf("%s: valid policy, version %s, %zu categories\n", a.pos[1], prb_policy_version(p),
               prb_policy_ncategories(p));
    prb_policy_free(p);
    return rc;
}

int cmd_expire(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    uint64_t n = 0, disputed = 0, keys = 0;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return fprintf(stderr, "usage: probity expire DIR [--as-of DATE]\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)) == 0) {
        /* prb_expire goes on past a damaged subject and returns the
         * first error at the end: what it deleted is said, and the keys
         * are expired all the same, as the server's sweep does. */
        char first[1024] = "";
        int erc = prb_expire(env, &n, &disputed), krc;
        if (erc)
            snprintf(first, sizeof first, "%s", prb_errmsg(env));
        if ((krc = prb_idem_expire(env, &keys)) && !erc)
            snprintf(first, sizeof first, "%s", prb_errmsg(env));
        printf("deleted %llu expired record%s, %llu record%s past %s deadline and %llu "
               "idempotency key%s past 24 hours\n",
               (unsigned long long)n, n == 1 ? "" : "s", (unsigned long long)disputed,
               disputed == 1 ? " whose dispute went unanswered"
                             : "s whose disputes went unanswered",
               disputed == 1 ? "its" : "their", (unsigned long long)keys, keys == 1 ? "" : "s");
        if (erc || krc)
            rc = cli_fail(erc ? erc : krc, first);
    }
    prb_close(env);
    return rc;
}

int cmd_index(int argc, char **argv)
{
    static const char *const flags[] = {"beside", NULL};
    static const char usage[] =
        "usage: probity index DIR [--place ABSOLUTE-DIR | --beside]\n"
        "  where the register's indexes by subject live and how far behind they are;\n"
        "  --place puts them under a directory such as the tmpfs /dev/shm, --beside\n"
        "  back in DIR. They are made again from the register; no other process may\n"
        "  have it open. --place also removes from that directory the indexes of\n"
        "  registers deleted since without --beside.\n";
    cli_args a;
    prb_env *env = NULL;
    uint64_t iq = 0, nq = 0;
    int rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    const char *place = cli_opt(&a, "place");
    int beside = cli_flag(&a, "beside");
    if (a.npos != 1 || (place && beside) || (rc = cli_unused(&a)))
        return rc ? rc : (fputs(usage, stderr), 2);
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((place || beside) && (rc = prb_index_place(env, place)))
        goto fail;
    if ((rc = prb_index_lag(env, &iq, &nq)))
        goto fail;
    printf("index of %s: %s\n", a.pos[0], prb_index_dir(env));
    printf("unindexed: %llu inquiries, %llu notices\n", (unsigned long long)iq,
           (unsigned long long)nq);
    prb_close(env);
    return 0;
fail:
    rc = cli_fail(rc, prb_errmsg(env));
    prb_close(env);
    return rc;
}
