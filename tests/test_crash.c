/*
 * test_crash.c - engineering rule 7 (no data is lost): a `probity ingest`
 * process killed with SIGKILL at any moment leaves every earlier commit
 * intact and its own batch either whole or absent.
 *
 * Kills land at three kinds of moment. A spread of delays after the
 * process starts puts some before or while it reads and checks its
 * input. The ones that matter most are sent once the commit is seen
 * writing the register's pages: the environment is not written through
 * its map, so data.mdb grows only as a commit writes its pages out. A
 * process that died of such a kill and left the register without its
 * batch was killed inside its commit, before the meta page; the test
 * insists on at least one (tried again when a loaded machine lets the
 * process outrun the kill). A last run is left to finish. After every
 * run the register verifies against its audit log, and the first
 * batch's subjects read byte for byte as they did.
 *
 * SIGKILL only ends the process: the page cache keeps what it wrote, so
 * a commit whose flushes were turned off would pass all of the above. A
 * last test checks that the register's environment flushes its commits.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

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

/* The subjects of every 50th line of the batch at path: enough of them,
 * persons and companies, to see a record changed by a torn commit. */
static json_t *sample_subjects(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    json_t *ids = json_array();
    cr_assert_not_null(f);
    for (size_t i = 0; fgets(line, sizeof line, f); i++) {
        if (i % 50)
            continue;
        json_t *rec = json_loads(line, 0, NULL);
        cr_assert_not_null(rec, "line %zu of %s", i + 1, path);
        json_array_append(ids, json_object_get(json_object_get(rec, "subject"), "id"));
        json_decref(rec);
    }
    fclose(f);
    return ids;
}

struct buf {
    char *s;
    size_t len, cap;
};

static int append(void *ctx, const char *p, size_t n)
{
    struct buf *b = ctx;
    if (b->len + n + 1 > b->cap) {
        size_t cap = 2 * (b->len + n + 1);
        char *s = realloc(b->s, cap);
        if (!s)
            return PRB_ENOMEM;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

/* What the register says about the subjects ids, one file after
 * another, as JSON: the bytes a torn commit would change. */
static char *files_of(prb_env *env, json_t *ids)
{
    struct buf all = {0};
    prb_file *f = NULL;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        const char *json;
        cr_assert_eq(prb_subject_read(env, json_string_value(id), &f), PRB_OK, "%s: %s",
                     json_string_value(id), prb_errmsg(env));
        cr_assert_eq(prb_file_json(f, &json), PRB_OK);
        cr_assert_eq(append(&all, json, strlen(json)), 0);
        cr_assert_eq(append(&all, "\n", 1), 0);
    }
    prb_file_free(f);
    return all.s;
}

/* Opens the register as a kill left it, checks it against its audit log
 * and returns how many record versions it holds; *files gets the
 * sampled subjects' files. */
static uint64_t check_register(const char *reg, json_t *ids, char **files, const char *after)
{
    prb_env *env = NULL;
    prb_verify_stats st;
    struct buf found = {0};
    uint64_t v = 0;
    int rc = prb_open(reg, &env);
    cr_assert_eq(rc, PRB_OK, "register unreadable %s: %s", after, prb_errmsg(env));
    th_set_day(env, TH_TODAY);
    rc = prb_verify(env, append, &found, &st);
    cr_assert(rc == PRB_OK && st.problems == 0, "register does not verify %s: %s\n%s", after,
              prb_errmsg(env), found.s ? found.s : "");
    free(found.s);
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    *files = files_of(env, ids);
    prb_close(env);
    return v;
}

enum when { TO_THE_END, AFTER_DELAY, WHEN_WRITING };

struct run {
    enum when when;
    int delay_ms;       /* AFTER_DELAY */
    off_t grown;        /* WHEN_WRITING: data.mdb this many bytes longer */
    int killed;         /* the kill landed: the process died of it */
    int killed_writing; /* ... once its commit was writing */
};

static off_t mdb_size(const char *reg)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", reg);
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return st.st_size;
}

/* Runs `probity ingest reg file`, and kills it as r says. */
static void ingest(const char *reg, const char *file, struct run *r)
{
    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    off_t size0 = mdb_size(reg);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        setenv("PROBITY_NOW", TH_TODAY, 1);
        execl(bin, "probity", "ingest", reg, file, (char *)NULL);
        _exit(127);
    }
    int status, writing = 0;
    pid_t w = 0;
    r->killed = r->killed_writing = 0;
    if (r->when == AFTER_DELAY) {
        struct timespec ts = {r->delay_ms / 1000, (r->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    } else if (r->when == WHEN_WRITING) {
        /* Watched, not timed: the kill goes once the commit is seen
         * writing, whatever the load of the machine. */
        struct timespec poll = {0, 200000L};
        while (!(w = waitpid(pid, &status, WNOHANG)) && mdb_size(reg) < size0 + r->grown)
            nanosleep(&poll, NULL);
        cr_assert_neq(w, -1);
        writing = !w;
    }
    if (r->when != TO_THE_END && !w)
        kill(pid, SIGKILL);
    if (!w)
        cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        r->killed = 1;
        r->killed_writing = writing;
        return;
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ingest failed on its own: status %d",
              status);
}

/* The register as it is after the first batch alone. */
static void start_over(const char *reg, const char *policy, const char *first)
{
    prb_env *env = NULL;
    struct run r = {.when = TO_THE_END};
    th_rmrf(strdup(reg));
    cr_assert_eq(prb_init(reg, policy, &env), PRB_OK);
    prb_close(env);
    ingest(reg, first, &r);
}

Test(crash, sigkill_leaves_whole_batches_or_none)
{
    char *dir = th_tmpdir(), reg[512], first[512], second[512], policy[512], *before, *after;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(first, sizeof first, "%s/first.ndjson", dir);
    snprintf(second, sizeof second, "%s/second.ndjson", dir);
    th_path(policy, sizeof policy, "policy/default.json");
    /* The same seed: the small population is the start of the large one,
     * so the second batch holds the first (unchanged) and more. */
    uint64_t n1 = make_population(first, 2000, 1);
    uint64_t n2 = make_population(second, 8000, 1);
    cr_assert_gt(n2, 40000, "the batch should be large: %llu", (unsigned long long)n2);
    json_t *ids = sample_subjects(first);

    /* A committed batch that every later kill must leave intact. */
    start_over(reg, policy, first);
    cr_assert_eq(check_register(reg, ids, &before, "after the first batch"), n1);

    /* Grown by 1 MiB, the commit is early in writing its ~20 MiB of
     * pages; by 8 MiB, well into it. */
    struct run runs[] = {
        {.when = AFTER_DELAY, .delay_ms = 0},     {.when = AFTER_DELAY, .delay_ms = 150},
        {.when = AFTER_DELAY, .delay_ms = 600},   {.when = WHEN_WRITING, .grown = 1 << 20},
        {.when = WHEN_WRITING, .grown = 8 << 20}, {.when = TO_THE_END},
    };
    size_t nruns = sizeof runs / sizeof runs[0];
    int killed_writing = 0, complete = 0;
    for (size_t i = 0, tries = 0; i < nruns; i++) {
        struct run *r = &runs[i];
        char what[128];
        ingest(reg, second, r);
        snprintf(what, sizeof what, "after run %zu (%s)", i,
                 !r->killed          ? "not killed"
                 : r->killed_writing ? "killed while its commit wrote"
                                     : "killed");
        uint64_t v = check_register(reg, ids, &after, what);
        cr_assert(v == n1 || v == n2, "%s: %llu versions, expected %llu or %llu", what,
                  (unsigned long long)v, (unsigned long long)n1, (unsigned long long)n2);
        /* The second batch holds the first's records as they are and
         * adds none to its subjects: whether it is in or not, they read
         * the same. */
        cr_assert_str_eq(after, before, "%s: the first batch's subjects changed", what);
        free(after);
        int torn = v == n1 && r->killed_writing;
        if (v == n1) {
            cr_assert(r->killed, "%s: the batch finished but is not in the register", what);
            killed_writing += torn;
        } else {
            complete++;
            /* Re-sending a committed batch changes nothing; undo it by
             * starting over for the next kill. */
            start_over(reg, policy, first);
        }
        /* A kill meant for the commit that the process outran (a loaded
         * machine) is tried again, a few times. */
        if (r->when == WHEN_WRITING && !torn && tries++ < 3)
            i--;
    }
    cr_log_info("kills while the commit wrote: %d, completed batches: %d", killed_writing,
                complete);
    cr_assert_geq(killed_writing, 1, "no kill landed while a commit was writing its pages");
    cr_assert_geq(complete, 1, "no batch was committed");
    free(before);
    json_decref(ids);
    th_rmrf(dir);
}

/* What SIGKILL cannot show: a commit is on the disk once it returns.
 * LMDB flushes the pages and then the meta page of every commit unless
 * told not to; the register's environment must never be. Nor is it
 * written through its map, on which the watch above on data.mdb's size
 * relies (its file grows only as a commit writes its pages out). */
Test(crash, the_register_flushes_every_commit)
{
    char *dir = th_tmpdir(), reg[512], policy[512];
    prb_env *env = NULL;
    unsigned flags;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    th_path(policy, sizeof policy, "policy/default.json");
    cr_assert_eq(prb_init(reg, policy, &env), PRB_OK, "%s", prb_errmsg(env));
    for (int opened = 0; opened < 2; opened++) {
        cr_assert_eq(mdb_env_get_flags(env->mdb, &flags), 0);
        cr_assert_eq(flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC), 0,
                     "the register's commits are not all flushed (%s): flags %#x",
                     opened ? "opened" : "created", flags);
        cr_assert_eq(flags & MDB_WRITEMAP, 0, "the register is written through its map");
        prb_close(env);
        env = NULL;
        if (!opened)
            cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    }
    th_rmrf(dir);
}
