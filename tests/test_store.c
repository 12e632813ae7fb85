/*
 * test_store.c - the register directory as the operating system sees it:
 * who may read its files, what stale readers and a grown map leave to
 * the processes that open it after them.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

TestSuite(store, .timeout = 120);

#define PERSON "cn-rid:11010519491231002X"

/* A payment default of PERSON: an adverse record, so a notice too. */
static const char ADVERSE[] =
    "{\"furnisher\":\"bank-a\",\"ref\":\"D-1\",\"subject\":{\"kind\":\"person\",\"id\":"
    "\"" PERSON "\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
    "\"2026-01-10\",\"settled_date\":null,\"legal_basis\":\"loan contract\",\"fields\":{"
    "\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n";

static void ingest(prb_env *env, const char *text)
{
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "t.ndjson", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

static void decide(prb_env *env)
{
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
}

/* ------------------------------------------------------------ file modes */

static size_t nchecked;

static int owner_only(const char *path, const struct stat *st, int type, struct FTW *f)
{
    cr_expect_eq(st->st_mode & 077, 0, "%s: mode %03o lets others in", path,
                 (unsigned)(st->st_mode & 0777));
    nchecked++;
    return 0;
}

/* Checks every file and directory under dir (dir itself included). */
static void expect_owner_only(const char *dir, const char *must)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, must);
    cr_assert_eq(stat(path, &st), 0, "%s: missing", path);
    nchecked = 0;
    cr_assert_eq(nftw(dir, owner_only, 16, FTW_PHYS), 0);
}

/* The register holds who owes what, every decision and who asked about
 * whom: under the usual umask of 022 nothing of it, the index and the
 * spool of notices included, may be open to other local users. */
Test(store, the_register_is_its_owners_alone)
{
    char *dir, reg[600];
    prb_deliver_stats ds;
    umask(022);
    prb_env *env = th_register(&dir);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    ingest(env, ADVERSE);
    decide(env);
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_geq(ds.delivered, 1);
    expect_owner_only(reg, "spool");
    static const char *const files[] = {"data.mdb",    "lock.mdb",   "index.mdb",  "index.mdb-lock",
                                        "index.state", "index.lock", "policy.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        expect_owner_only(reg, files[i]);
    cr_assert_geq(nchecked, 10, "the walk saw only %zu entries", nchecked);
    /* Placed elsewhere (a tmpfs), the index keeps to its owner too. */
    char *shm = th_shmdir();
    cr_assert_eq(prb_index_place(env, shm), PRB_OK, "%s", prb_errmsg(env));
    decide(env);
    expect_owner_only(prb_index_dir(env), "index.mdb");
    expect_owner_only(prb_index_dir(env), "register");
    prb_close(env);
    th_rmrf(shm);
    th_rmrf(dir);
}

/* ---------------------------------------------------------- stale readers */

struct readers {
    pid_t pid;
    int found;
};

static int find_reader(const char *line, void *ctx)
{
    struct readers *r = ctx;
    int pid;
    if (sscanf(line, "%d", &pid) == 1 && pid == r->pid)
        r->found = 1;
    return 0;
}

/* Whether e's reader table holds a slot of process pid. */
static int has_reader(MDB_env *e, pid_t pid)
{
    struct readers r = {pid, 0};
    cr_assert_geq(mdb_reader_list(e, find_reader, &r), 0);
    return r.found;
}

/* A process that opens the register, begins a read transaction on it and
 * on its index, as `probity verify` does for its whole run, and is killed
 * in it while env keeps the register open; its pid. */
static pid_t reader_killed(const char *reg, prb_env *env)
{
    int fds[2];
    char c;
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prb_env *e = NULL;
        MDB_txn *t, *it;
        close(fds[0]);
        if (prb_open(reg, &e) || mdb_txn_begin(e->mdb, NULL, MDB_RDONLY, &t) ||
            mdb_txn_begin(e->imdb, NULL, MDB_RDONLY, &it))
            _exit(2);
        if (write(fds[1], "r", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    close(fds[1]);
    int got = (int)read(fds[0], &c, 1);
    close(fds[0]);
    if (got == 1)
        kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(got == 1 && WIFSIGNALED(status), "the reader did not start: %d", status);
    /* Left behind: nothing frees a dead process's slots by itself. */
    cr_assert(has_reader(env->mdb, pid), "no slot of the killed reader on the register");
    cr_assert(has_reader(env->imdb, pid), "no slot of the killed reader on the index");
    return pid;
}

/* Its slots pinned their snapshot: every page freed after it could never
 * be used again while the server kept the register open, and data.mdb
 * (and the index, perhaps on /dev/shm) grew by every commit's pages. The
 * sweep (prb_expire) frees them. */
Test(store, the_sweep_frees_a_killed_readers_slots)
{
    char *dir, reg[600];
    prb_env *env = th_register(&dir);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    ingest(env, ADVERSE);
    decide(env);
    pid_t pid = reader_killed(reg, env);
    cr_assert_eq(prb_expire(env, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_expect(!has_reader(env->mdb, pid), "the register keeps the dead reader's slot");
    cr_expect(!has_reader(env->imdb, pid), "the index keeps the dead reader's slot");
    prb_close(env);
    th_rmrf(dir);
}

/* So does the next process to open the register (a command beside the
 * server, which keeps it open meanwhile). */
Test(store, an_open_frees_a_killed_readers_slots)
{
    char *dir, reg[600];
    prb_env *env = th_register(&dir);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    ingest(env, ADVERSE);
    decide(env);
    pid_t pid = reader_killed(reg, env);
    pid_t opener = fork();
    cr_assert_neq(opener, -1);
    if (opener == 0) {
        prb_env *e = NULL;
        int rc = prb_open(reg, &e);
        prb_close(e);
        _exit(rc ? 2 : 0);
    }
    int status;
    cr_assert_eq(waitpid(opener, &status, 0), opener);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the opener: %d", status);
    cr_expect(!has_reader(env->mdb, pid), "the register keeps the dead reader's slot");
    cr_expect(!has_reader(env->imdb, pid), "the index keeps the dead reader's slot");
    prb_close(env);
    th_rmrf(dir);
}
