/*
 * test_store.c - the register directory as the operating system sees it:
 * who may read its files, what stale readers and a grown map leave to
 * the processes that open it after them.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
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
    cr_assert_eq(prb_expire(env, NULL, NULL), PRB_OK, "%s", prb_errmsg(env));
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

/* ------------------------------------------------------------- the map */

/* A generated batch of 3,200 subjects, over 4 MiB: more than a 1-MiB map
 * holds, so an ingest of it grows the map (several times). */
static void big_batch(prb_env *env, struct th_buf *g)
{
    prb_gen_opts o = {3000, 200, 5, prb_today(env)};
    cr_assert_eq(prb_gen(&o, th_collect, g), PRB_OK);
    cr_assert_gt(g->n, (size_t)4 << 20);
}

/* A process that asks for a map smaller than what the register uses (a
 * command beside a server that has grown it, or PROBITY_MAPSIZE_MB)
 * still gets room to write: LMDB set such a map to exactly the used
 * part, and the first write that needed a page more than the free ones
 * (a decision, a dispute) failed with PRB_EFULL; only ingest and
 * delivery grow their map. */
Test(store, a_map_smaller_than_the_register_leaves_room_to_write)
{
    char *dir, reg[600];
    struct th_buf g = {0};
    setenv("PROBITY_MAPSIZE_MB", "1", 1);
    prb_env *env = th_register(&dir);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    ingest(env, ADVERSE); /* record 1-1 */
    big_batch(env, &g);
    ingest(env, g.p);
    free(g.p);
    prb_close(env);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    unsetenv("PROBITY_MAPSIZE_MB");
    th_set_day(env, TH_TODAY);
    for (int i = 0; i < 200; i++)
        decide(env);
    cr_assert_eq(prb_dispute_open(env, PERSON, "1-1", "Not mine.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* Another process wrote past this one's map (LMDB: MDB_MAP_RESIZED on
 * the next transaction): an ingest grows the map to take it, as it does
 * a full one, instead of failing. */
Test(store, an_ingest_follows_a_map_grown_by_another_process)
{
    char *dir, reg[600];
    struct th_buf g = {0};
    setenv("PROBITY_MAPSIZE_MB", "1", 1);
    prb_env *env = th_register(&dir);
    unsetenv("PROBITY_MAPSIZE_MB");
    snprintf(reg, sizeof reg, "%s/reg", dir);
    big_batch(env, &g);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prb_env *e = NULL;
        prb_ingest_stats st;
        int rc = prb_open(reg, &e);
        if (!rc)
            rc = th_ingest(e, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL);
        prb_close(e);
        _exit(rc ? 2 : 0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the other process: %d", status);
    free(g.p);
    ingest(env, ADVERSE);
    decide(env);
    prb_close(env);
    th_rmrf(dir);
}

/* --------------------------------------------------- a full index place */

/* A tmpfs of size bytes at a new directory, in a mount namespace of this
 * process's own (and a user namespace, for a user who may not mount);
 * its path, or NULL when the system allows neither. */
static char *small_tmpfs(const char *parent, const char *size)
{
    char opts[64], map[64];
    if (unshare(CLONE_NEWNS)) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
            return NULL;
        FILE *f;
        if ((f = fopen("/proc/self/setgroups", "w")))
            fputs("deny", f), fclose(f);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        if (!(f = fopen("/proc/self/uid_map", "w")) || fputs(map, f) < 0 || fclose(f))
            return NULL;
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        if (!(f = fopen("/proc/self/gid_map", "w")) || fputs(map, f) < 0 || fclose(f))
            return NULL;
    }
    char *dir = th_mkdtemp(parent);
    snprintf(opts, sizeof opts, "size=%s", size);
    if (!dir || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("tmpfs", dir, "tmpfs", 0, opts)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Writes into dir until its filesystem is full; the file's path. */
static void fill(const char *dir, char path[700])
{
    static char block[65536];
    snprintf(path, 700, "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        _exit(10);
    while (write(fd, block, sizeof block) > 0)
        ;
    for (size_t n = 4096; n; n /= 2) /* the last pages, whatever their size */
        while (write(fd, block, n) > 0)
            ;
    close(fd);
}

/* n adverse records of as many subjects: as many notices to index. */
static char *adverse_batch(int n)
{
    size_t cap = (size_t)n * 400 + 1, len = 0;
    char *buf = malloc(cap);
    for (int i = 0; buf && i < n; i++)
        len += (size_t)snprintf(
            buf + len, cap - len,
            "{\"furnisher\":\"bank-a\",\"ref\":\"L-%d\",\"subject\":{\"kind\":\"person\",\"id\":"
            "\"ext:bank-a:S%d\"},\"category\":\"payment_default\",\"status\":\"open\","
            "\"event_date\":\"2026-01-01\",\"settled_date\":null,\"legal_basis\":\"loan\","
            "\"fields\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n",
            i, i);
    return buf;
}

/* What the child of the_index_s_full_filesystem_is_an_error_not_a_crash
 * runs, in its own mount namespace: 0, or the step that went wrong (from
 * 21; AddressSanitizer ends a process that a signal such as SIGBUS
 * stops with 1). */
static int index_on_a_full_tmpfs(const char *tmp)
{
    char reg[600], filler[700];
    prb_ingest_stats st;
    uint64_t inq, notices;
    prb_env *env = NULL;
    char *shm = small_tmpfs(tmp, "16m"), *batch = adverse_batch(5000);
    if (!shm)
        return 77;
    snprintf(reg, sizeof reg, "%s/reg", tmp);
    if (!batch || prb_init(reg, NULL, &env))
        return 21;
    th_set_day(env, TH_TODAY);
    if (prb_index_place(env, shm))
        return 22;
    fill(shm, filler);
    /* The index's next pages have nowhere to go: the batch is stored, its
     * notices left out of the index, which its readers read past. */
    if (th_ingest(env, "b.ndjson", batch, PRB_FMT_NDJSON, 0, &st, NULL) || st.accepted != 5000)
        return 23;
    if (prb_index_lag(env, &inq, &notices) || !notices)
        return 24;
    char *copy = NULL;
    if (prb_subject_copy(env, "ext:bank-a:S4999", PRB_COPY_JSON, &copy) ||
        !strstr(copy, "adverse_record"))
        return 25;
    free(copy);
    /* Opened again while it is full: an open catches the index up. */
    prb_close(env);
    if (prb_open(reg, &env))
        return 26;
    th_set_day(env, TH_TODAY);
    /* With room again, the next commit brings it up to date. */
    unlink(filler);
    prb_decision *d = NULL;
    if (prb_decide(env, "credit", "ext:bank-a:S1", "bank-x", &d))
        return 27;
    prb_decision_free(d);
    if (prb_index_lag(env, &inq, &notices) || inq || notices)
        return 28;
    prb_close(env);
    free(batch);
    return 0;
}

/* The index is written through its map (MDB_WRITEMAP) into a sparse file:
 * a new page where its filesystem (a small /dev/shm) has no room raised
 * SIGBUS, killing a server after a batch was stored and before it was
 * answered, and every later open, which catches the index up, too. The
 * index is derived data: failing to write it is an error, and the
 * register goes on without it until there is room. */
Test(store, the_index_s_full_filesystem_is_an_error_not_a_crash)
{
    char *dir = th_tmpdir();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(index_on_a_full_tmpfs(dir));
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        th_rmrf(dir);
        cr_skip_test("no mount namespace to be had for a small tmpfs");
    }
    cr_assert(WIFEXITED(status), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 0, "exit status %d: %s", WEXITSTATUS(status),
                 WEXITSTATUS(status) > 20 ? "that step failed" : "a signal (SIGBUS?)");
    th_rmrf(dir);
}
