/*
 * main.c - the probity command: dispatch to a subcommand, and the option
 * handling they share. Commands parse, call the library, and format; the
 * decisions live in src/lib.
 */
#include "cli.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: probity COMMAND [ARGS]\n"
    "\n"
    "  init DIR [--policy FILE]          create a register (default: the built-in policy)\n"
    "  policy check FILE                 validate a policy file\n"
    "  policy default                    print the built-in default policy (policy/default.json)\n"
    "  ingest DIR FILE... [--furnisher NAME] [--skip-bad] [--format ndjson|csv] [--threads N]\n"
    "                                    load records (.ndjson, .jsonl, .csv; - for stdin),\n"
    "                                    at most 64 files in one batch\n"
    "  subject DIR SCHEME:VALUE [--format json|text]\n"
    "                                    everything held about a subject: JSON, or a letter\n"
    "                                    (the subject is told of the read)\n"
    "  expire DIR                        delete records past their retention; resolve\n"
    "                                    disputes past their deadline\n"
    "  decide DIR --purpose P --subject SCHEME:VALUE --requester NAME\n"
    "                                    answer an inquiry with a decision and its reasons\n"
    "  score DIR --purpose P [--threads N]\n"
    "                                    every subject's current decision, as NDJSON\n"
    "  lists DIR [NAME] [--after N] [--limit N] | lists refresh DIR\n"
    "                                    list members with states and dates (members of\n"
    "                                    lists not public are told); recompute them\n"
    "  scorecard import DIR FILE.pmml --name NAME | scorecard eval DIR --name NAME --input JSON\n"
    "                                    import a PMML scorecard; score one vector of features\n"
    "  notices DIR [--pending | --deliver]\n"
    "  notices DIR --recipient NAME [--pending] [--after N] [--limit N]\n"
    "                                    the outbox of notices; those to one inquirer;\n"
    "                                    deliver them\n"
    "  review request DIR --decision ID --reason TEXT\n"
    "  review decide DIR --id R --outcome upheld|overturned --reviewer NAME --note TEXT\n"
    "  review list DIR [--pending] [--after N] [--limit N]\n"
    "                                    human review of a decision\n"
    "  dispute open DIR --subject SCHEME:VALUE --record RID --reason TEXT\n"
    "  dispute resolve DIR --id D --outcome upheld|deleted [--note TEXT]\n"
    "                  [--by reviewer|furnisher] [--resolver NAME]\n"
    "  dispute list DIR [--open] [--after ID] [--limit N]\n"
    "                                    a subject's challenge of a record; its outcome\n"
    "  audit head|key DIR                the signed head of the audit log; its public key\n"
    "  audit prove DIR --leaf N [--size S] | audit consistency DIR --from A --to B\n"
    "                                    inclusion and consistency proofs (RFC 9162)\n"
    "  audit check-proof --key KEY|@FILE [--head HEAD.json] PROOF.json\n"
    "                                    check a proof offline with the public key, and\n"
    "                                    against a signed head saved before (--head);\n"
    "                                    exit status 10 when the proof does not hold\n"
    "  verify DIR                        recompute the audit log; check every record against it\n"
    "  index DIR [--place ABSOLUTE-DIR | --beside]\n"
    "                                    where the indexes by subject live (e.g. /dev/shm)\n"
    "  key create DIR --role R [--furnisher NAME] [--purposes P1,P2] [--subject ID] [--name L]\n"
    "  key list DIR | key revoke DIR ID  bearer tokens of the HTTP API (printed once)\n"
    "  serve DIR [--listen HOST:PORT] [--threads N] [--timeout S] [--max-body BYTES]\n"
    "            [--rate-limit N] [--sweep S]\n"
    "                                    the HTTP JSON API (see docs/openapi.json)\n"
    "  gen --persons N --companies M [--seed S]\n"
    "                                    write a synthetic population as NDJSON\n"
    "\n"
    "Every command takes --as-of YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (those that read no\n"
    "clock ignore it); PROBITY_NOW sets the clock for a process (empty: the system clock).\n"
    "--threads N of ingest and score: 0 to 64 threads, 0 (the default) one per core.\n"
    "--help or -h after any command prints this (after serve, all of serve's options).\n";

int cli_parse(int argc, char **argv, const char *const *flags, cli_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h"))
            return CLI_HELP;
        if (strncmp(s, "--", 2) || !s[2]) {
            if (a->npos == CLI_MAX_POS)
                return fprintf(stderr, "probity: too many arguments (at most %d)\n", CLI_MAX_POS),
                       2;
            a->pos[a->npos++] = s;
            continue;
        }
        if (a->nopt == 32)
            return fprintf(stderr, "probity: too many options\n"), 2;
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int isflag = 0;
        if (len == 4 && !strncmp(name, "help", 4))
            return CLI_HELP;
        for (const char *const *f = flags; f && *f; f++)
            if (strlen(*f) == len && !strncmp(*f, name, len))
                isflag = 1;
        if (isflag && eq)
            return fprintf(stderr, "probity: --%.*s takes no value\n", (int)len, name), 2;
        /* The first would be used and the second taken for an unknown
         * option: say which it is. */
        for (int j = 0; j < a->nopt; j++)
            if (strlen(a->optname[j]) == len && !strncmp(a->optname[j], name, len))
                return fprintf(stderr, "probity: --%.*s given more than once\n", (int)len, name), 2;
        a->optname[a->nopt] = name;
        if (eq) {
            static char names[32][64];
            snprintf(names[a->nopt], sizeof names[0], "%.*s", (int)len, name);
            a->optname[a->nopt] = names[a->nopt];
            a->optval[a->nopt] = eq + 1;
        } else if (!isflag) {
            if (i + 1 >= argc)
                return fprintf(stderr, "probity: --%s needs a value\n", name), 2;
            a->optval[a->nopt] = argv[++i];
        }
        a->nopt++;
    }
    return 0;
}

const char *cli_opt(cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (!strcmp(a->optname[i], name) && a->optval[i]) {
            a->used[i] = 1;
            return a->optval[i];
        }
    return NULL;
}

int cli_flag(cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (!strcmp(a->optname[i], name) && !a->optval[i]) {
            a->used[i] = 1;
            return 1;
        }
    return 0;
}

int cli_unused(const cli_args *a)
{
    /* Every command takes --as-of; those that read no clock ignore it. */
    for (int i = 0; i < a->nopt; i++)
        if (!a->used[i] && strcmp(a->optname[i], "as-of"))
            return fprintf(stderr, "probity: unknown option --%s\n", a->optname[i]), 2;
    return 0;
}

int cli_write_stdout(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    while (len) {
        ssize_t w = write(1, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return PRB_EIO;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int cli_whole(const char *s, uint64_t *v)
{
    char *end;
    /* strtoull alone takes blanks, a sign, and wraps "-1" around. */
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *v = x;
    return 0;
}

int cli_count(cli_args *a, const char *name, uint64_t min, uint64_t max, uint64_t *v)
{
    const char *s = cli_opt(a, name);
    uint64_t x;
    if (!s)
        return 0;
    if (!cli_whole(s, &x) && x >= min && x <= max) {
        *v = x;
        return 0;
    }
    if (min == 0 && max == UINT64_MAX)
        fprintf(stderr, "probity: --%s '%s' is not a count\n", name, s);
    else
        fprintf(stderr, "probity: --%s '%s' is not a count from %llu to %llu\n", name, s,
                (unsigned long long)min, (unsigned long long)max);
    return 2;
}

int cli_page(cli_args *a, uint64_t *after, size_t *limit)
{
    uint64_t n = 0;
    *after = 0;
    if (cli_count(a, "after", 0, UINT64_MAX, after) || cli_count(a, "limit", 1, SIZE_MAX, &n))
        return 2;
    *limit = (size_t)n;
    return 0;
}

void cli_page_next(const char *what, uint64_t next)
{
    if (next)
        fprintf(stderr, "probity: more %s follow: --after %llu\n", what, (unsigned long long)next);
}

int cli_flush_stdout(void)
{
    errno = 0;
    if (!fflush(stdout) && !ferror(stdout))
        return 0;
    /* errno stays 0 when the write that failed was an earlier one. */
    fprintf(stderr, "probity: cannot write standard output: %s\n",
            errno ? strerror(errno) : "a write failed");
    return prb_exit_status(PRB_EIO);
}

int cli_fail(int rc, const char *msg)
{
    fprintf(stderr, "probity: %s\n", msg && *msg ? msg : prb_strerror(rc));
    return prb_exit_status(rc);
}

const char *cli_operator(void)
{
    static char name[PRB_KEY_NAME_MAX + 1];
    const struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name[0])
        snprintf(name, sizeof name, "%s", pw->pw_name);
    else
        snprintf(name, sizeof name, "uid %u", (unsigned)geteuid());
    return name;
}

int cli_open(cli_args *a, const char *dir, prb_env **env)
{
    const char *asof = cli_opt(a, "as-of");
    int64_t now;
    int rc = prb_open(dir, env);
    if (rc) {
        rc = cli_fail(rc, prb_errmsg(*env));
        prb_close(*env);
        *env = NULL;
        return rc;
    }
    if (asof) {
        if (prb_parse_now(asof, &now)) {
            fprintf(stderr, "probity: --as-of '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n",
                    asof);
            prb_close(*env);
            *env = NULL;
            return 2;
        }
        /* A view of that day: the log and the notice of a read keep the
         * command's own clock (PROBITY_NOW or the system's). */
        prb_set_as_of(*env, now);
    }
    return 0;
}

static int dispatch(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"init", cmd_init},       {"policy", cmd_policy},
        {"ingest", cmd_ingest},   {"subject", cmd_subject},
        {"expire", cmd_expire},   {"gen", cmd_gen},
        {"decide", cmd_decide},   {"score", cmd_score},
        {"lists", cmd_lists},     {"scorecard", cmd_scorecard},
        {"notices", cmd_notices}, {"review", cmd_review},
        {"audit", cmd_audit},     {"verify", cmd_verify},
        {"dispute", cmd_dispute}, {"key", cmd_key},
        {"serve", cmd_serve},     {"index", cmd_index},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("probity %s\n", PRB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name))
            continue;
        int rc = cmds[i].fn(argc - 2, argv + 2);
        if (rc == CLI_HELP) {
            fputs(usage, stdout);
            rc = 0;
        }
        return rc;
    }
    fprintf(stderr, "probity: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}

int main(int argc, char **argv)
{
    /* A closed pipe is a write that fails (EPIPE), checked at the end,
     * not a signal that kills the command before it can act on it: key
     * create must live to revoke a key whose token went nowhere. */
    signal(SIGPIPE, SIG_IGN);
    int rc = dispatch(argc, argv);
    /* A command writes its answer after its change has committed: lost
     * on a full disk or a closed pipe, it must not exit 0. One that
     * failed has said why already. */
    if (!rc)
        rc = cli_flush_stdout();
    return rc;
}
