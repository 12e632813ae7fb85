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
