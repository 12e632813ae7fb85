/*
 * test_cli.c - the probity command as a user meets it: exit statuses,
 * messages on standard error, counts on standard output, --as-of and
 * PROBITY_NOW, stdin input. Runs the binary named by PROBITY_BIN.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(cli, .timeout = 120);

/* Runs "probity ARGS" in dir as of TH_TODAY; captures everything. */
static void run(struct th_run *r, const char *dir, const char *env, const char *args)
{
    th_cli(r, dir, TH_TODAY, env, args);
    cr_assert_neq(r->status, -2, "%s (make test sets it)", r->err);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* probity serve's numbers are whole: strtod took "nan", "inf" and
 * fractions, and a NaN --rate-limit lifted the limit. Refused before the
 * register is opened (there is none here). */
Test(cli, serve_numbers_are_whole)
{
    static const char *const bad[] = {"nan", "inf", "-inf", "1.5", "1e-12", "NaN"};
    struct th_run *r = malloc(sizeof *r);
    char *dir = th_tmpdir(), args[200], want[100];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "serve reg --rate-limit %s", bad[i]);
        run(r, dir, NULL, args);
        snprintf(want, sizeof want, "--rate-limit '%s' is not a whole number", bad[i]);
        cr_assert_eq(r->status, 2, "%s: %s", bad[i], r->err);
        cr_assert(strstr(r->err, want), "%s: %s", bad[i], r->err);
    }
    run(r, dir, NULL, "serve reg --public-rate nan");
    cr_assert(strstr(r->err, "--public-rate 'nan' is not a whole number"), "%s", r->err);
    /* What 0 means differs: no limit for a rate, the default for a time. */
    cr_assert(strstr(r->err, "(0: no limit)"), "%s", r->err);
    run(r, dir, NULL, "serve reg --timeout x");
    cr_assert(strstr(r->err, "--timeout 'x' is not a whole number from 0 to 3600 (0: the default)"),
              "%s", r->err);
    th_rmrf(dir);
    free(r);
}

Test(cli, first_session)
{
    char *dir = th_tmpdir(), args[1024], *good = th_slurp("tests/data/good.ndjson");
    struct th_run r;
    write_text(dir, "good.ndjson", good);
    run(&r, dir, NULL, "init reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "created register reg"), "%s", r.out);

    run(&r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "accepted 4, unchanged 0, corrected 0, rejected 0, superseded 0"), "%s",
              r.out);

    run(&r, dir, NULL, "subject reg cn-rid:11010519491231002X");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"identifiers\"") && strstr(r.out, "\"payment_default\"") &&
                  strstr(r.out, "\"amount\": \"1250.00\""),
              "%s", r.out);
    /* On 2025-03-20 the default's notice period (28 days from receipt on
     * TH_TODAY) has not run: not usable. */
    cr_assert(strstr(r.out, "\"usable\": false"), "%s", r.out);
    /* The operator's read is told to the subject, in the copy it gives. */
    cr_assert(strstr(r.out, "\"kind\": \"file_read\"") &&
                  strstr(r.out, ", the register's operator, at the command line, read your whole "
                                "file on "),
              "%s", r.out);

    snprintf(args, sizeof args, "subject reg cn-rid:11010519491231002X --as-of 2026-12-24");
    run(&r, dir, NULL, args);
    cr_assert(strstr(r.out, "\"usable\": false") == NULL, "%s", r.out);
    /* A view of another day: the read is told, and logged, when it was
     * made (PROBITY_NOW here). Dated 2030 it had dated every later leaf
     * and signed head 2030 too, as leaf times never go back. */
    cr_assert(strstr(r.out, "read your whole file on " TH_TODAY ".") &&
                  !strstr(r.out, "read your whole file on 2026-12-24"),
              "%s", r.out);
    run(&r, dir, NULL, "subject reg cn-rid:11010519491231002X --as-of 2030-01-01");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, NULL, "audit head reg");
    cr_assert(strstr(r.out, "\"time\": \"" TH_TODAY "T00:00:00Z\""), "%s", r.out);

    run(&r, dir, NULL, "subject reg cn-rid:440304200002291236");
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.err, "no subject has this identifier"), "%s", r.err);

    run(&r, dir, NULL, "subject reg cn-rid:110105194912310021");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "check character"), "%s", r.err);
    free(good);
    th_rmrf(dir);
}

Test(cli, bad_lines_fail_the_batch_and_are_listed)
{
    char *dir = th_tmpdir();
    struct th_run r;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,contract,1.00,EUR\n"
                      "bank-a,L-2,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,,1.00,EUR\n";
    write_text(dir, "in.csv", csv);
    run(&r, dir, NULL, "init reg");
    run(&r, dir, NULL, "ingest reg in.csv");
    cr_assert_eq(r.status, 7, "%s", r.err);
    cr_assert(strstr(r.err, "in.csv:3: legal_basis: required"), "%s", r.err);
    cr_assert(strstr(r.err, "nothing was written"), "%s", r.err);
    cr_assert(strstr(r.out, "accepted 0, unchanged 0, corrected 0, rejected 1"), "%s", r.out);

    run(&r, dir, NULL, "ingest reg in.csv --skip-bad");
    cr_assert_eq(r.status, 7, "a batch with rejections must not exit 0");
    cr_assert(strstr(r.out, "accepted 1, unchanged 0, corrected 0, rejected 1"), "%s", r.out);

    run(&r, dir, NULL, "ingest reg in.txt");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown format"), "%s", r.err);
    run(&r, dir, NULL, "ingest reg missing.ndjson");
    cr_assert_neq(r.status, 0);
    cr_assert(strstr(r.err, "missing.ndjson: cannot read"), "%s", r.err);
    th_rmrf(dir);
}

Test(cli, stdin_clock_and_options)
{
    char *dir = th_tmpdir();
    struct th_run r;
    run(&r, dir, NULL, "init reg");
    run(&r, dir, NULL, "gen --persons 10 --companies 2 --seed 3");
    cr_assert_eq(r.status, 0, "%s", r.err);
    write_text(dir, "pop.ndjson", r.out);
    run(&r, dir, NULL, "ingest reg - < pop.ndjson");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "accepted ") && !strstr(r.out, "accepted 0,") &&
                  strstr(r.out, "rejected 0"),
              "%s", r.out);

    run(&r, dir, NULL, "expire reg --as-of 2040-01-01");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "deleted ") && !strstr(r.out, "deleted 0 "), "%s", r.out);

    run(&r, dir, NULL, "expire reg --as-of 2040-13-01");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--as-of '2040-13-01' is not YYYY-MM-DD"), "%s", r.err);
    run(&r, dir, "PROBITY_NOW=yesterday", "expire reg");
    cr_assert_neq(r.status, 0);
    cr_assert(strstr(r.err, "PROBITY_NOW='yesterday'"), "%s", r.err);
    run(&r, dir, NULL, "expire reg --frobnicate 1");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown option --frobnicate"), "%s", r.err);
    run(&r, dir, NULL, "init reg");
    cr_assert_eq(r.status, 4, "%s", r.err);
    cr_assert(strstr(r.err, "not empty"), "%s", r.err);
    run(&r, dir, NULL, "subject nowhere cn-rid:11010519491231002X");
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.err, "not a probity register"), "%s", r.err);
    th_rmrf(dir);
}

Test(cli, gen_is_deterministic)
{
    char *dir = th_tmpdir();
    struct th_run a, b;
    run(&a, dir, NULL, "gen --persons 30 --companies 3 --seed 9");
    run(&b, dir, NULL, "gen --persons 30 --companies 3 --seed 9");
    cr_assert_eq(a.status, 0);
    cr_assert_gt(strlen(a.out), 1000);
    cr_assert_str_eq(a.out, b.out);
    run(&b, dir, NULL, "gen --persons 30 --companies 3 --seed 10");
    cr_assert_str_neq(a.out, b.out);
    /* A bad count names its option and value, and writes nothing. */
    const char *bad[] = {"--persons x",           "--persons -3",
                         "--persons ' 3'",        "--companies 3x",
                         "--persons 3 --seed +9", "--persons 99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[96];
        snprintf(args, sizeof args, "gen %s", bad[i]);
        run(&b, dir, NULL, args);
        cr_assert_eq(b.status, 2, "%s", args);
        cr_assert_str_empty(b.out, "%s", args);
        cr_assert(strstr(b.err, "is not a count"), "%s: %s", args, b.err);
    }
    th_rmrf(dir);
}

Test(cli, policy_check)
{
    char *dir = th_tmpdir(), args[1024], policy[512];
    struct th_run r;
    snprintf(args, sizeof args, "policy check %s",
             th_path(policy, sizeof policy, "policy/default.json"));
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "valid policy"), "%s", r.out);
    write_text(dir, "bad.json",
               "{\"policy_version\":\"x\",\"identifier_schemes\":[\"lei\"],\"purposes\":{\"vote\":"
               "{\"subject_kinds\":[\"person\"]}},\"categories\":{}}");
    run(&r, dir, NULL, "policy check bad.json");
    cr_assert_eq(r.status, 6, "%s", r.err);
    cr_assert(strstr(r.err, "bad.json: $.purposes.vote: refused: 'vote' is political opinion or "
                            "activity data, which probity never holds or scores (DESIGN "
                            "invariant 1), in purpose 'vote'"),
              "%s", r.err);
    run(&r, dir, NULL, "init reg2 --policy bad.json");
    cr_assert_eq(r.status, 6);
    th_rmrf(dir);
}

/* The binary carries the default policy: init needs no file of the source
 * tree, and `policy default` prints the policy it uses, byte for byte. */
Test(cli, the_default_policy_is_built_in)
{
    char *dir = th_tmpdir(), *src = th_slurp("policy/default.json"), path[600];
    struct th_run r;
    cr_assert_not_null(src);
    run(&r, dir, NULL, "policy default");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, src);
    run(&r, dir, NULL, "init reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "(the built-in default policy, version "), "%s", r.out);
    snprintf(path, sizeof path, "%s/reg/policy.json", dir);
    th_slurp_into(path, r.out, sizeof r.out);
    cr_assert_str_eq(r.out, src, "the register's copy differs from policy/default.json");
    /* What it prints is a policy init takes back. */
    run(&r, dir, NULL, "policy default");
    write_text(dir, "mine.json", r.out);
    run(&r, dir, NULL, "init reg2 --policy mine.json");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "(policy mine.json, version "), "%s", r.out);
    run(&r, dir, NULL, "policy default extra");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage: probity policy"), "%s", r.err);
    free(src);
    th_rmrf(dir);
}

Test(cli, decide_score_lists_and_scorecards)
{
    char *dir = th_tmpdir(), args[1024], pmml[512];
    struct th_run r;
    run(&r, dir, NULL, "init reg");
    run(&r, dir, NULL, "gen --persons 10 --companies 2 --seed 3");
    write_text(dir, "pop.ndjson", r.out);
    run(&r, dir, NULL, "ingest reg pop.ndjson");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, NULL, "score reg --purpose credit");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"outcome\":") && strstr(r.err, "scored 12 subjects"), "%s", r.err);
    /* The first person's identifier, from the score output. */
    char id[64] = "";
    const char *at = strstr(r.out, "\"subject\":\"");
    cr_assert_not_null(at);
    sscanf(at + 11, "%63[^\"]", id);
    snprintf(args, sizeof args, "decide reg --purpose credit --subject %s --requester bank-a", id);
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"decision\": \"1-q1\"") && strstr(r.out, "\"outcome\"") &&
                  strstr(r.out, "\"asked_at\": \"" TH_TODAY "T00:00:00Z\""),
              "%s", r.out);
    snprintf(args, sizeof args, "subject reg %s", id);
    run(&r, dir, NULL, args);
    cr_assert(strstr(r.out, "\"inquiries\"") && strstr(r.out, "\"requester\": \"bank-a\""),
              "the inquiry is not in the subject's file: %s", r.out);
    snprintf(args, sizeof args, "decide reg --purpose procurement --subject %s --requester x", id);
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "no company has this identifier (this purpose takes inquiries about "
                            "companies only)"),
              "%s", r.err);
    run(&r, dir, NULL, "lists refresh reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, NULL, "lists reg reliable_taxpayer");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"list\": \"reliable_taxpayer\""), "%s", r.out);
    /* A page at a time, as the server gives them (each list says where
     * its next page starts). */
    run(&r, dir, NULL, "lists reg --limit 1 --after 0");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"list\": \"debtor_register\""), "%s", r.out);
    run(&r, dir, NULL, "lists reg --limit 0");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--limit '0' is not a count from 1"), "%s", r.err);
    run(&r, dir, NULL, "scorecard eval reg --name tenancy_check --input '{\"defaults_open\":1}'");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"score\": 520") && strstr(r.out, "\"D01\""), "%s", r.out);
    run(&r, dir, NULL, "scorecard eval reg --name tenancy_check --input '{\"colour\":1}'");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "'colour' is not a field of scorecard tenancy_check"), "%s", r.err);
    snprintf(args, sizeof args, "scorecard import reg %s --name tenancy_pmml",
             th_path(pmml, sizeof pmml, "tests/data/tenancy_check.pmml"));
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* The imported model scores as the policy's JSON scorecard does. */
    const char *inputs[] = {"{}", "{\"defaults_open\":1}", "{\"judgments_unpaid\":2}",
                            "{\"defaults_open\":3,\"judgments_unpaid\":1,\"insolvencies\":1}"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct th_run a, b;
        snprintf(args, sizeof args, "scorecard eval reg --name tenancy_check --input '%s'",
                 inputs[i]);
        run(&a, dir, NULL, args);
        snprintf(args, sizeof args, "scorecard eval reg --name tenancy_pmml --input '%s'",
                 inputs[i]);
        run(&b, dir, NULL, args);
        cr_assert_eq(a.status, 0, "%s", a.err);
        cr_assert_eq(b.status, 0, "%s", b.err);
        const char *sa = strstr(a.out, "\"score\""), *sb = strstr(b.out, "\"score\"");
        cr_assert(sa && sb && !strncmp(sa, sb, 16), "%s\nvs\n%s", a.out, b.out);
        const char *ra = strstr(a.out, "\"code\""), *rb = strstr(b.out, "\"code\"");
        cr_assert((!ra && !rb) || (ra && rb && !strncmp(ra, rb, 14)), "%s\nvs\n%s", a.out, b.out);
    }
    th_rmrf(dir);
}

/* scorecard eval: a string for a numeric feature was scored as a present
 * 0; and a reason of a PMML Characteristic with no name and no field
 * (True/False predicates) had no feature and was silently dropped. */
Test(cli, scorecard_eval_refuses_text_numbers_and_keeps_every_reason)
{
    char *dir = th_tmpdir(), args[1024];
    struct th_run r;
    run(&r, dir, NULL, "init reg");
    run(&r, dir, NULL,
        "scorecard eval reg --name tenancy_check --input '{\"defaults_open\":\"3\"}'");
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.err, "'defaults_open' must be a number or null"), "%s", r.err);
    char *src = th_slurp("tests/data/tenancy_check.pmml");
    cr_assert_not_null(src);
    const char *end = strstr(src, "    </Characteristics>");
    cr_assert_not_null(end);
    char doc[8192];
    snprintf(doc, sizeof doc,
             "%.*s      <Characteristic baselineScore=\"0\">\n"
             "        <Attribute partialScore=\"-5\" reasonCode=\"X01\"><True/></Attribute>\n"
             "      </Characteristic>\n%s",
             (int)(end - src), src, end);
    free(src);
    write_text(dir, "flat.pmml", doc);
    run(&r, dir, NULL, "scorecard import reg flat.pmml --name flat");
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(args, sizeof args, "scorecard eval reg --name flat --input '{}'");
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"score\": 595"), "%s", r.out);
    cr_assert(strstr(r.out, "\"code\": \"X01\"") &&
                  strstr(r.out, "\"feature\": \"Characteristic 4\""),
              "the reason of the nameless characteristic is missing: %s", r.out);
    th_rmrf(dir);
}

/* probity index: where the indexes by subject are, moved under another
 * directory and back; bad places and a register in use get a message and
 * change nothing. */
Test(cli, index_place)
{
    char *dir = th_tmpdir(), args[1024], *good = th_slurp("tests/data/good.ndjson");
    struct th_run r;
    write_text(dir, "good.ndjson", good);
    run(&r, dir, NULL, "init reg");
    run(&r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, NULL, "index reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "index of reg: reg\n") && strstr(r.out, "unindexed: 0 inquiries"), "%s",
              r.out);

    run(&r, dir, NULL, "index reg --place elsewhere");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "absolute"), "%s", r.err);
    run(&r, dir, NULL, "index reg --place /x --beside");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage: probity index"), "%s", r.err);

    snprintf(args, sizeof args, "index reg --place %s", dir);
    run(&r, dir, NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[700];
    snprintf(want, sizeof want, "index of reg: %s/probity-index-", dir);
    cr_assert(strstr(r.out, want), "%s", r.out);
    run(&r, dir, NULL,
        "decide reg --purpose credit --subject cn-rid:11010519491231002X "
        "--requester bank-x");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, NULL, "index reg");
    cr_assert(strstr(r.out, want) && strstr(r.out, "unindexed: 0 inquiries"), "%s", r.out);

    run(&r, dir, NULL, "index reg --beside");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "index of reg: reg\n"), "%s", r.out);
    run(&r, dir, NULL, "verify reg");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    free(good);
    th_rmrf(dir);
}

/* --threads is a count like every other: atoi took "abc" and "4x" and
 * "-1". A bad one is refused before anything is read or written. */
Test(cli, threads_is_a_checked_count)
{
    static const char *const bad[] = {"abc", "4x", "-1", "65", "' 2'"};
    char *dir = th_tmpdir(), args[200], want[100], *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "ingest reg good.ndjson --threads %s", bad[i]);
        run(r, dir, NULL, args);
        cr_assert_eq(r->status, 2, "%s: %s", bad[i], r->err);
        cr_assert_str_empty(r->out, "%s", args);
        snprintf(want, sizeof want, "is not a count from 0 to 64");
        cr_assert(strstr(r->err, "--threads '") && strstr(r->err, want), "%s: %s", args, r->err);
        snprintf(args, sizeof args, "score reg --purpose credit --threads %s", bad[i]);
        run(r, dir, NULL, args);
        cr_assert_eq(r->status, 2, "%s: %s", bad[i], r->err);
        cr_assert(strstr(r->err, want), "%s: %s", args, r->err);
    }
    /* Nothing was written by the refused batches. */
    run(r, dir, NULL, "ingest reg good.ndjson --threads 2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "accepted 4, unchanged 0"), "%s", r->out);
    run(r, dir, NULL, "score reg --purpose credit --threads 0");
    cr_assert_eq(r->status, 0, "%s", r->err);
    run(r, dir, NULL, "--help");
    cr_assert(strstr(r->out, "[--format ndjson|csv] [--threads N]"), "%s", r->out);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* A file that is not a regular one: a pipe (mkfifo, or <(zcat f.gz)) is
 * read as standard input is; a directory says so. Both said a stale
 * "No such file or directory". */
Test(cli, ingest_reads_a_pipe_and_names_a_directory)
{
    char *dir = th_tmpdir(), cmd[1200], *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    snprintf(cmd, sizeof cmd, "cd '%s' && mkdir dir.ndjson && mkfifo pipe.ndjson", dir);
    cr_assert_eq(system(cmd), 0);
    run(r, dir, NULL, "ingest reg dir.ndjson");
    cr_assert_eq(r->status, 74, "%s", r->err);
    cr_assert(strstr(r->err, "dir.ndjson: cannot read: Is a directory"), "%s", r->err);
    /* The writer gives up if the reader never comes. */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && (timeout 60 sh -c 'cat good.ndjson > pipe.ndjson' &) >/dev/null 2>&1",
             dir);
    cr_assert_eq(system(cmd), 0);
    run(r, dir, NULL, "ingest reg pipe.ndjson");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "accepted 4, unchanged 0"), "%s", r->out);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* Each option error says what is wrong with the option: a repeated one
 * and a flag given a value were "unknown", --help after a command
 * "needed a value", and an unknown --format blamed the file. */
Test(cli, option_errors_say_what_is_wrong)
{
    char *dir = th_tmpdir(), *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    run(r, dir, NULL,
        "decide reg --purpose credit --purpose tenancy --subject cn-rid:11010519491231002X "
        "--requester x");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "--purpose given more than once"), "%s", r->err);
    run(r, dir, NULL, "ingest reg good.ndjson --skip-bad=yes");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "--skip-bad takes no value"), "%s", r->err);
    run(r, dir, NULL, "ingest reg good.ndjson --format xml");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "unknown format 'xml' (--format): expected ndjson or csv") &&
                  !strstr(r->err, "good.ndjson"),
              "%s", r->err);
    static const char *const help[] = {"ingest reg good.ndjson --help", "subject reg -h",
                                       "dispute list reg --help",       "audit --help",
                                       "audit check-proof -h",          "key --help"};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
        run(r, dir, NULL, help[i]);
        cr_assert_eq(r->status, 0, "%s: %s", help[i], r->err);
        cr_assert(strstr(r->out, "usage: probity COMMAND"), "%s: %s", help[i], r->out);
    }
    run(r, dir, NULL, "serve reg --help");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "usage: probity serve") && strstr(r->out, "--per-address"), "%s",
              r->out);
    /* A value that looks like --help is a value. */
    run(r, dir, NULL, "expire reg --as-of --help");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "--as-of '--help' is not"), "%s", r->err);
    /* None of it wrote anything. */
    run(r, dir, NULL, "subject reg cn-rid:11010519491231002X");
    cr_assert_eq(r->status, 3, "%s", r->err);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* audit check-proof: 0 a proof that holds, 10 one that does not (a
 * rewritten history), 74 a file it cannot read, 2 a usage error; it
 * exited 2 for a proof that did not hold, as for a typo, and 1 for a
 * missing file. It takes --as-of, as every command does. */
Test(cli, check_proof_exit_statuses)
{
    char *dir = th_tmpdir(), *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    run(r, dir, NULL, "init other");
    run(r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r->status, 0, "%s", r->err);
    run(r, dir, NULL, "audit key reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    write_text(dir, "key.txt", r->out);
    run(r, dir, NULL, "audit key other");
    write_text(dir, "other.txt", r->out);
    run(r, dir, NULL, "audit prove reg --leaf 0");
    cr_assert_eq(r->status, 0, "%s", r->err);
    write_text(dir, "proof.json", r->out);
    write_text(dir, "broken.json", "{\"type\":");
    run(r, dir, NULL, "audit check-proof --key @key.txt proof.json");
    cr_assert_eq(r->status, 0, "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @key.txt proof.json --as-of 2025-01-01");
    cr_assert_eq(r->status, 0, "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @other.txt proof.json");
    cr_assert_eq(r->status, 10, "%s", r->err);
    cr_assert(strstr(r->err, "does not verify"), "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @key.txt broken.json");
    cr_assert_eq(r->status, 10, "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @key.txt missing.json");
    cr_assert_eq(r->status, 74, "%s", r->err);
    cr_assert(strstr(r->err, "missing.json: No such file"), "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @nokey.txt proof.json");
    cr_assert_eq(r->status, 74, "%s", r->err);
    run(r, dir, NULL, "audit check-proof --key @key.txt --head nohead.json proof.json");
    cr_assert_eq(r->status, 74, "%s", r->err);
    run(r, dir, NULL, "audit check-proof proof.json");
    cr_assert_eq(r->status, 2, "%s", r->err);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* The help says what the commands take: the listings' pages, who
 * resolves a dispute, both forms of --as-of. */
Test(cli, help_says_what_commands_take)
{
    char *dir = th_tmpdir();
    struct th_run *r = malloc(sizeof *r);
    run(r, dir, NULL, "--help");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "review list DIR [--pending] [--after N] [--limit N]") &&
                  strstr(r->out, "dispute list DIR [--open] [--after ID] [--limit N]") &&
                  strstr(r->out, "[--by reviewer|furnisher] [--resolver NAME]") &&
                  strstr(r->out, "--as-of YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"),
              "%s", r->out);
    run(r, dir, NULL, "init reg");
    run(r, dir, NULL, "expire reg --as-of 2025-03-20T25:00:00Z");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"), "%s", r->err);
    run(r, dir, NULL, "expire reg --as-of 2025-03-20T12:00:00Z");
    cr_assert_eq(r->status, 0, "%s", r->err);
    free(r);
    th_rmrf(dir);
}

/* Runs "probity ARGS" in dir as of TH_TODAY with standard output on
 * /dev/full, a disk that is full: status and standard error in r. */
static void run_full(struct th_run *r, const char *dir, const char *args)
{
    char cmd[4096], e[600];
    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    snprintf(e, sizeof e, "%s/.err", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && env PROBITY_NOW=%s %s %s >/dev/full 2>'%s'", dir,
             TH_TODAY, bin, args, e);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->out[0] = 0;
    th_slurp_into(e, r->err, sizeof r->err);
}

/* Runs probity key create reg --role admin --name NAME in dir with its
 * standard output a pipe whose reader has already gone, its standard
 * error into r->err; the exit status, or -signal, in r->status. */
static void key_create_into_closed_pipe(struct th_run *r, const char *dir, const char *name)
{
    char e[600];
    int fd[2], st;
    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    snprintf(e, sizeof e, "%s/.err", dir);
    cr_assert_eq(pipe(fd), 0);
    close(fd[0]);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (!pid) {
        int err = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err < 0 || chdir(dir) || dup2(fd[1], 1) < 0 || dup2(err, 2) < 0 ||
            setenv("PROBITY_NOW", TH_TODAY, 1))
            _exit(127);
        execl(bin, bin, "key", "create", "reg", "--role", "admin", "--name", name, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    r->out[0] = 0;
    th_slurp_into(e, r->err, sizeof r->err);
}

/* Output that is lost is an error: each of these wrote to standard output
 * without looking, after its change had committed, and exited 0. A key
 * whose token could not be written is revoked, so no usable token exists
 * that nobody holds. */
Test(cli, lost_output_is_an_error)
{
    static const char *const cmds[] = {
        "decide reg --purpose credit --subject cn-rid:11010519491231002X --requester bank-a",
        "subject reg cn-rid:11010519491231002X",
        "subject reg cn-rid:11010519491231002X --format text",
        "lists reg",
        "lists refresh reg",
        "audit head reg",
        "audit key reg",
        "audit prove reg --leaf 0",
        "dispute list reg",
        "review list reg",
        "notices reg",
        "key list reg",
        "verify reg",
        "index reg",
        "expire reg",
        "--version",
        "--help",
    };
    char *dir = th_tmpdir(), *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    run(r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r->status, 0, "%s", r->err);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        run_full(r, dir, cmds[i]);
        cr_assert_eq(r->status, 74, "%s: %d %s", cmds[i], r->status, r->err);
        cr_assert(strstr(r->err, "probity: cannot write standard output: "), "%s: %s", cmds[i],
                  r->err);
    }
    run_full(r, dir, "key create reg --role admin --name ops");
    cr_assert_eq(r->status, 74, "%d %s", r->status, r->err);
    cr_assert(strstr(r->err, "cannot write standard output") && strstr(r->err, "revoked") &&
                  !strstr(r->err, "shown only now"),
              "%s", r->err);
    run(r, dir, NULL, "key list reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "\"name\": \"ops\"") && !strstr(r->out, "\"revoked\": null"),
              "a key whose token no one holds is live: %s", r->out);
    /* A reader gone: SIGPIPE killed the command before it could revoke
     * the key, which stayed live. */
    key_create_into_closed_pipe(r, dir, "piped");
    cr_assert_eq(r->status, 74, "%d %s", r->status, r->err);
    cr_assert(strstr(r->err, "revoked"), "%s", r->err);
    run(r, dir, NULL, "key list reg");
    cr_assert(strstr(r->out, "\"name\": \"piped\"") && !strstr(r->out, "\"revoked\": null"),
              "a key whose token went into a closed pipe is live: %s", r->out);
    /* Written, the same commands succeed. */
    run(r, dir, NULL, "key create reg --role admin --name ops2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "prb_") && strstr(r->err, "shown only now"), "%s%s", r->out, r->err);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* The requester of an inquiry from the command line is held to the rule
 * of a key's name, as the server's is: an empty one was stored and told
 * the subject "by  was answered", and one with line breaks wrote a
 * paragraph of its own into the subject's letter. Nothing is stored. */
Test(cli, decide_requester_is_a_name)
{
    static const char *const bad[] = {
        "''",
        "'bank b'",
        "\"$(printf 'bank-b\\n\\nNobody else')\"",
        "'bank,b'",
        "'bank\"b'",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    char *dir = th_tmpdir(), args[512], *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    run(r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r->status, 0, "%s", r->err);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args,
                 "decide reg --purpose credit --subject cn-rid:11010519491231002X --requester %s",
                 bad[i]);
        run(r, dir, NULL, args);
        cr_assert_eq(r->status, 2, "%s: %s%s", bad[i], r->out, r->err);
        cr_assert(strstr(r->err, "requester: must be a key's name: 1 to 64 printable ASCII"),
                  "%s: %s", bad[i], r->err);
    }
    run(r, dir, NULL, "subject reg cn-rid:11010519491231002X");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(!strstr(r->out, "\"requester\""), "a refused inquiry was stored: %s", r->out);
    run(r, dir, NULL,
        "decide reg --purpose credit --subject cn-rid:11010519491231002X --requester bank-b");
    cr_assert_eq(r->status, 0, "%s", r->err);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* Each audit subcommand takes only its own options: prove took --to and
 * consistency --leaf, unread and unreported, and an explicit --size 0 or
 * --to 0 was taken for the current size. */
Test(cli, audit_options_are_each_subcommands_own)
{
    static const struct {
        const char *args, *err;
    } bad[] = {
        {"audit prove reg --leaf 3 --to 1", "unknown option --to"},
        {"audit prove reg --leaf 3 --from 1", "unknown option --from"},
        {"audit consistency reg --from 1 --to 2 --leaf 0", "unknown option --leaf"},
        {"audit consistency reg --from 1 --to 2 --size 2", "unknown option --size"},
        {"audit head reg --leaf 1", "unknown option --leaf"},
        {"audit key reg --size 1", "unknown option --size"},
        {"audit prove reg --leaf 0 --size 0", "--size '0' is not a count from 1"},
        {"audit consistency reg --from 1 --to 0", "--to '0' is not a count from 1"},
    };
    char *dir = th_tmpdir(), *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    run(r, dir, NULL, "ingest reg good.ndjson");
    cr_assert_eq(r->status, 0, "%s", r->err);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        run(r, dir, NULL, bad[i].args);
        cr_assert_eq(r->status, 2, "%s: %s", bad[i].args, r->err);
        cr_assert(strstr(r->err, bad[i].err), "%s: %s", bad[i].args, r->err);
        cr_assert_str_empty(r->out, "%s", bad[i].args);
    }
    run(r, dir, NULL, "audit prove reg --leaf 3 --size 4");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "\"tree_size\": 4"), "%s", r->out);
    run(r, dir, NULL, "audit consistency reg --from 1 --to 4");
    cr_assert_eq(r->status, 0, "%s", r->err);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* A batch takes 64 files: the command line took at most 64 arguments,
 * the register's among them, so 64 files were "too many arguments" and
 * the batch's own limit was never said. */
Test(cli, ingest_takes_64_files)
{
    char *dir = th_tmpdir(), args[2048], name[32], *good = th_slurp("tests/data/good.ndjson");
    struct th_run *r = malloc(sizeof *r);
    write_text(dir, "good.ndjson", good);
    run(r, dir, NULL, "init reg");
    size_t n = (size_t)snprintf(args, sizeof args, "ingest reg good.ndjson");
    for (int i = 1; i < 64; i++) {
        snprintf(name, sizeof name, "e%02d.ndjson", i);
        write_text(dir, name, "");
        n += (size_t)snprintf(args + n, sizeof args - n, " %s", name);
    }
    snprintf(args + n, sizeof args - n, " e01.ndjson");
    run(r, dir, NULL, args);
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "at most 64 input files per batch"), "%s", r->err);
    args[n] = 0;
    run(r, dir, NULL, args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "accepted 4, unchanged 0"), "%s", r->out);
    free(good);
    free(r);
    th_rmrf(dir);
}

/* probity serve's numbers are digits alone, as every other command's
 * counts are: strtod took hexadecimal, exponents, a sign and leading
 * blanks, so --threads 0x10 was 16 and 1e2 was 100. */
Test(cli, serve_numbers_are_digits)
{
    static const char *const bad[] = {"0x10", "' 8'", "+8", "1e2", "-0", "8.", "''", "'8 '"};
    struct th_run *r = malloc(sizeof *r);
    char *dir = th_tmpdir(), args[200];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "serve reg --threads %s", bad[i]);
        run(r, dir, NULL, args);
        cr_assert_eq(r->status, 2, "%s: %s", bad[i], r->err);
        cr_assert(strstr(r->err, "--threads '") &&
                      strstr(r->err, "' is not a whole number from 0 to 256 (0: one per core)"),
                  "%s: %s", bad[i], r->err);
    }
    run(r, dir, NULL, "serve reg --body-memory 1099511627777");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "is not a whole number from 0 to 1099511627776"), "%s", r->err);
    /* A good number gets as far as the register, which is not there. */
    run(r, dir, NULL, "serve reg --threads 16 --body-memory 1099511627776");
    cr_assert_eq(r->status, 3, "%s", r->err);
    th_rmrf(dir);
    free(r);
}
