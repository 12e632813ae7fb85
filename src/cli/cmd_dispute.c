/*
 * cmd_dispute.c - probity dispute open|resolve|list: a subject disputes a
 * record, a reviewer or the furnisher resolves it (the logic is in
 * src/lib/dispute.c).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char dispute_usage[] =
    "usage: probity dispute open DIR --subject SCHEME:VALUE --record RID --reason TEXT\n"
    "       probity dispute resolve DIR --id D --outcome upheld|deleted [--note TEXT]\n"
    "                               [--by reviewer|furnisher] [--resolver NAME]\n"
    "       probity dispute list DIR [--open] [--after ID] [--limit N]\n"
    "  list: every dispute in id order, or N of them past the one numbered ID;\n"
    "  when more follow, where the next page starts is said on standard error\n";

/* A dispute id: a decimal number, nothing else. */
static int parse_id(const char *s, uint64_t *id)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *id = v;
    return v ? 0 : -1;
}

int cmd_dispute(int argc, char **argv)
{
    static const char *const flags[] = {"open", NULL};
    cli_args a;
    prb_env *env;
    char *json = NULL;
    uint64_t id = 0, after = 0, next = 0;
    size_t limit = 0;
    int rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    const char *sub = a.npos ? a.pos[0] : "";
    int open = !strcmp(sub, "open"), resolve = !strcmp(sub, "resolve");
    int list = !strcmp(sub, "list");
    if (a.npos != 2 || (!open && !resolve && !list))
        return fputs(dispute_usage, stderr), 2;
    const char *subject = NULL, *record = NULL, *reason = NULL, *sid = NULL, *outcome = NULL,
               *note = NULL, *by = NULL, *resolver = NULL;
    int open_only = 0;
    if (open) {
        subject = cli_opt(&a, "subject");
        record = cli_opt(&a, "record");
        reason = cli_opt(&a, "reason");
        if (!subject || !record || !reason)
            return fputs(dispute_usage, stderr), 2;
    } else if (resolve) {
        sid = cli_opt(&a, "id");
        outcome = cli_opt(&a, "outcome");
        note = cli_opt(&a, "note");
        by = cli_opt(&a, "by");
        resolver = cli_opt(&a, "resolver");
        if (!sid || !outcome)
            return fputs(dispute_usage, stderr), 2;
        if (parse_id(sid, &id))
            return fprintf(stderr, "probity: --id '%s' is not a dispute id (a number)\n", sid), 2;
    } else {
        open_only = cli_flag(&a, "open");
        if (cli_page(&a, &after, &limit))
            return 2;
    }
    if ((rc = cli_open(&a, a.pos[1], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if (open)
        rc = prb_dispute_open(env, subject, record, reason, &json);
    else if (resolve)
        rc = prb_dispute_resolve(env, id, outcome, note, by, resolver, &json);
    else
        rc = prb_disputes_page(env, open_only, after, limit, &json, &next);
    if (rc)
        rc = cli_fail(rc, prb_errmsg(env));
    else {
        puts(json);
        cli_page_next("disputes", next);
    }
out:
    free(json);
    prb_close(env);
    return rc;
}
