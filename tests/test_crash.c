/*
 * test_crash.c - engineering rule 7 (no data is lost): a `probity ingest`
 * process killed with SIGKILL at any moment leaves every earlier commit
 * intact and its own batch either whole or absent.
 *
 * The kill lands at a spread of delays after the process starts, from
 * before it has read its input to after it has committed; the delay is
 * how the test chooses a moment to kill, not a wait for something to
 * happen, and the assertion holds whatever moment it hits.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "probity.h"

TestSuite(crash, .timeout = 300);

static int write_file(void *ctx, const char *buf, size_t len)
{
    return fwrite(buf, 1, len, ctx) == len ? 0 : PRB_EIO;
}

static uint64_t make_population(const char *path, uint64_t persons, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    int32_t today;
    cr_assert_not_null(f);
    prb_date_parse(TH_TODAY, 10, &today);
    prb_gen_opts o = {persons, persons / 10, seed, today};
    cr_assert_eq(prb_gen(&o, write_file, f), PRB_OK);
    fclose(f);
    /* Count lines: the batch's size. */
    uint64_t n = 0;
    int c;
    f = fopen(path, "r");
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static uint64_t count_versions(const char *reg)
{
    prb_env *env = NULL;
    uint64_t v = 0;
    int rc = prb_open(reg, &env);
    cr_assert_eq(rc, PRB_OK, "register unreadable after a kill: %s", prb_errmsg(env));
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    prb_close(env);
    return v;
}

/* Runs `probity ingest reg file` and kills it after delay_ms (or lets it
 * finish when delay_ms < 0). Returns 1 if it was killed before exiting. */
static int ingest_and_kill(const char *reg, const char *file, int delay_ms)
{
    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        setenv("PROBITY_NOW", TH_TODAY, 1);
        execl(bin, "probity", "ingest", reg, file, (char *)NULL);
        _exit(127);
    }
    int status;
    if (delay_ms >= 0) {
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        pid_t r = waitpid(pid, &status, WNOHANG);
        cr_assert_neq(r, -1);
        if (r == 0) {
            kill(pid, SIGKILL);
            cr_assert_eq(waitpid(pid, &status, 0), pid);
            return 1;
        }
    } else {
        cr_assert_eq(waitpid(pid, &status, 0), pid);
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ingest failed on its own: status %d",
              status);
    return 0;
}

Test(crash, sigkill_leaves_whole_batches_or_none)
{
    char *dir = th_tmpdir(), reg[512], first[512], second[512], policy[512];
    prb_env *env = NULL;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(first, sizeof first, "%s/first.ndjson", dir);
    snprintf(second, sizeof second, "%s/second.ndjson", dir);
    cr_assert_eq(prb_init(reg, th_path(policy, sizeof policy, "policy/default.json"), &env),
                 PRB_OK);
    prb_close(env);
    /* The same seed: the small population is the start of the large one,
     * so the second batch holds the first (unchanged) and more. */
    uint64_t n1 = make_population(first, 2000, 1);
    uint64_t n2 = make_population(second, 40000, 1);
    cr_assert_gt(n2, 100000, "the batch should be large: %llu", (unsigned long long)n2);

    /* A committed batch that every later kill must leave intact. */
    ingest_and_kill(reg, first, -1);
    cr_assert_eq(count_versions(reg), n1);

    const int delays[] = {0, 20, 80, 200, 400, 700, 1000, 1500, 2500};
    int killed_midway = 0, complete = 0;
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        int killed = ingest_and_kill(reg, second, delays[i]);
        uint64_t v = count_versions(reg);
        cr_assert(v == n1 || v == n2, "after a kill at %d ms: %llu versions, expected %llu or %llu",
                  delays[i], (unsigned long long)v, (unsigned long long)n1, (unsigned long long)n2);
        if (v == n2) {
            complete++;
            /* Re-sending a committed batch changes nothing; undo it by
             * starting over for the next kill. */
            th_rmrf(strdup(reg));
            cr_assert_eq(prb_init(reg, policy, &env), PRB_OK);
            prb_close(env);
            ingest_and_kill(reg, first, -1);
        } else if (killed) {
            killed_midway++;
        }
    }
    /* Not an assertion on timing: a record of what the spread covered. */
    cr_log_info("kills before commit: %d, completed batches: %d", killed_midway, complete);
    th_rmrf(dir);
}
