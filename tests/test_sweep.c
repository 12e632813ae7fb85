/*
 * test_sweep.c - the whole-register sweeps (prb_lists_refresh_all,
 * prb_expire) find their work on a snapshot and hold the write lock only
 * for the changes, a few hundred a transaction: a server's decisions go
 * on during the scan, everything is done over several transactions, a
 * caller that stops them loses nothing, and a record changed between the
 * scan and its transaction is judged on what it is then. The disputes
 * past their deadline too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"

TestSuite(sweep, .timeout = 120);

/* More subjects than one write transaction of either sweep takes. */
#define N 1100

/* N persons ext:FURNISHER:P0000.., each with one record made by fmt from its
 * number, ingested as one batch. */
static void ingest_each(prb_env *env, const char *fmt)
{
    size_t cap = (size_t)N * 600, len = 0;
    char *text = malloc(cap);
    prb_ingest_stats st;
    cr_assert_not_null(text);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, fmt, i, i);
    cr_assert_lt(len, cap);
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, N);
    free(text);
}

static const char *judgment =
    "{\"furnisher\":\"court-x\",\"ref\":\"J-%d\",\"subject\":{\"kind\":\"person\",\"id\":"
    "\"ext:court-x:P%04d\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":"
    "\"2026-11-01\",\"settled_date\":null,\"legal_basis\":\"court order\",\"fields\":{"
    "\"amount\":\"900.00\",\"currency\":\"EUR\",\"court\":\"AG\",\"case_ref\":\"1 C 1\"}}\n";

/* Settled on 2020-01-01: kept until 2022-12-31. Open, the same default
 * would be kept until 2024-12-30. */
static const char *settled_default =
    "{\"furnisher\":\"bank-a\",\"ref\":\"D-%d\",\"subject\":{\"kind\":\"person\",\"id\":"
    "\"ext:bank-a:P%04d\"},\"category\":\"payment_default\",\"status\":\"settled\","
    "\"event_date\":\"2019-01-01\",\"settled_date\":\"2020-01-01\",\"legal_basis\":\"loan\","
    "\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n";

static size_t members(prb_env *env)
{
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(prb_lists_json(env, "debtor_register", &json), PRB_OK, "%s", prb_errmsg(env));
    for (const char *p = json; (p = strstr(p, "\"ground\"")); p++)
        n++;
    free(json);
    return n;
}

static uint64_t versions(prb_env *env)
{
    uint64_t subjects, v;
    cr_assert_eq(prb_count(env, &subjects, &v), PRB_OK);
    return v;
}

/* ------------------------------------------------------------ lists */

struct decider {
    prb_env *env;
    int calls, failed;
};

/* Asked by the refresh whether to stop: meanwhile, a decision is made
 * and stored through the same handle, which needs the write lock. */
static int decide_meanwhile(void *ctx)
{
    struct decider *d = ctx;
    prb_decision *dec = NULL;
    d->calls++;
    if (prb_decide(d->env, "credit", "ext:src-a:C0", "bank-x", &dec) != PRB_OK)
        d->failed++;
    prb_decision_free(dec);
    return 0;
}

Test(sweep, list_refresh_lets_writers_in_and_changes_every_subject)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    uint64_t n = 0;
    ingest_each(env, judgment);
    cr_assert_eq(th_ingest(env, "c", th_account(buf, sizeof buf, "ext:src-a:C0", "A-1"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    th_set_day(env, "2026-12-26"); /* the judgments are effective */
    struct decider d = {env, 0, 0};
    prb_set_cancel(env, decide_meanwhile, &d);
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK, "%s", prb_errmsg(env));
    /* Decisions were stored while the refresh ran, on the thread that ran
     * it: the write lock was free between its transactions and during its
     * scan. */
    cr_assert_geq(d.calls, 2, "the refresh never asked whether to stop");
    cr_assert_eq(d.failed, 0, "a decision failed during the refresh");
    cr_assert_eq(n, N, "%llu notices of list entries", (unsigned long long)n);
    cr_assert_eq(members(env), N);
    /* Done: nothing left to change. */
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(prb_lists_refresh_all(env, &n), PRB_OK);
    cr_assert_eq(n, 0);
    prb_close(env);
    th_rmrf(dir);
}

/* Stops once the first transaction has put someone on the list. */
static int stop_once_listed(void *ctx)
{
    return members(ctx) > 0;
}

Test(sweep, list_refresh_stopped_leaves_the_rest_to_the_next)
{
    char *dir;
    prb_env *env = th_register(&dir);
    uint64_t first = 0, second = 0;
    ingest_each(env, judgment);
    th_set_day(env, "2026-12-26");
    prb_set_cancel(env, stop_once_listed, env);
    cr_assert_eq(prb_lists_refresh_all(env, &first), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(first > 0 && first < N, "%llu changed before stopping", (unsigned long long)first);
    cr_assert_eq(members(env), first);
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(prb_lists_refresh_all(env, &second), PRB_OK);
    cr_assert_eq(first + second, N);
    cr_assert_eq(members(env), N);
    prb_close(env);
    th_rmrf(dir);
}

/* -------------------------------------------------------- retention */

Test(sweep, expire_deletes_every_record_over_several_transactions)
{
    char *dir;
    prb_env *env = th_register(&dir);
    uint64_t n = 0;
    th_set_day(env, "2020-02-01");
    ingest_each(env, settled_default);
    cr_assert_eq(versions(env), N);
    th_set_day(env, "2024-01-01");
    cr_assert_eq(prb_expire(env, &n, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(n, N);
    cr_assert_eq(versions(env), 0);
    cr_assert_eq(prb_expire(env, &n, NULL), PRB_OK);
    cr_assert_eq(n, 0);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

static int stop_once_deleted(void *ctx)
{
    return versions(ctx) < N;
}

Test(sweep, expire_stopped_leaves_the_rest_unused_and_to_the_next)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_file *f = NULL;
    uint64_t first = 0, second = 0;
    th_set_day(env, "2020-02-01");
    ingest_each(env, settled_default);
    th_set_day(env, "2024-01-01");
    prb_set_cancel(env, stop_once_deleted, env);
    cr_assert_eq(prb_expire(env, &first, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(first > 0 && first < N, "%llu deleted before stopping", (unsigned long long)first);
    cr_assert_eq(versions(env), N - first);
    /* What is left is past retention: never returned. */
    cr_assert_eq(prb_subject_read(env, "ext:bank-a:P1099", &f), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_file_nrecords(f), 0);
    prb_file_free(f);
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(prb_expire(env, &second, NULL), PRB_OK);
    cr_assert_eq(first + second, N);
    cr_assert_eq(versions(env), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* Reopens the default D-0 as unpaid once, as the sweep starts: after the
 * snapshot it searches, before the transaction that would delete it. It
 * is reopened as of a day before its retention ran out (an ingest --as-of
 * that day): on the sweep's day the register holds it gone, and refuses
 * a correction of it. */
struct reopen {
    prb_env *env;
    int done;
};

static int reopen_meanwhile(void *ctx)
{
    struct reopen *r = ctx;
    prb_ingest_stats st;
    if (r->done++)
        return 0;
    const char *open =
        "{\"furnisher\":\"bank-a\",\"ref\":\"D-0\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"ext:bank-a:P0000\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2019-01-01\",\"settled_date\":null,\"legal_basis\":\"loan\","
        "\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n";
    cr_assert_eq(th_ingest(r->env, "c", open, PRB_FMT_NDJSON, 0, &st, NULL), PRB_EREJECTED);
    th_set_day(r->env, "2022-12-30");
    cr_assert_eq(th_ingest(r->env, "c", open, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(r->env));
    cr_assert_eq(st.corrected, 1);
    th_set_day(r->env, "2024-01-01");
    return 0;
}

Test(sweep, expire_judges_a_record_on_what_it_is_when_deleting)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_file *f = NULL;
    uint64_t n = 0;
    th_set_day(env, "2020-02-01");
    ingest_each(env, settled_default);
    th_set_day(env, "2024-01-01");
    struct reopen r = {env, 0};
    prb_set_cancel(env, reopen_meanwhile, &r);
    cr_assert_eq(prb_expire(env, &n, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_geq(r.done, 1, "the sweep never asked whether to stop");
    /* The corrected default is kept whole, both versions, the rest go. */
    cr_assert_eq(n, N - 1);
    cr_assert_eq(versions(env), 2);
    cr_assert_eq(prb_subject_read(env, "ext:bank-a:P0000", &f), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_file_nrecords(f), 1);
    prb_file_free(f);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------- dispute deadlines */

static const char *open_default =
    "{\"furnisher\":\"bank-a\",\"ref\":\"D-%d\",\"subject\":{\"kind\":\"person\",\"id\":"
    "\"ext:bank-a:P%04d\"},\"category\":\"payment_default\",\"status\":\"open\","
    "\"event_date\":\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"loan\","
    "\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n";

static size_t open_disputes(prb_env *env)
{
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(prb_disputes_json(env, 1, &json), PRB_OK, "%s", prb_errmsg(env));
    for (const char *p = json; (p = strstr(p, "\"state\"")); p++)
        n++;
    free(json);
    return n;
}

/* Asked by the sweep whether to stop: how many of the disputes were
 * resolved when it asked. */
struct watch {
    prb_env *env;
    size_t all;
    int asked, between;
};

static int watch_disputes(void *ctx)
{
    struct watch *w = ctx;
    size_t open = open_disputes(w->env);
    w->asked++;
    w->between += open > 0 && open < w->all;
    return 0;
}

/* A furnisher that answers nothing lets thousands of disputes fall due on
 * one day: they were all resolved, each with a file load, a list refresh
 * and the index read for its inquirers, in one write transaction. */
Test(sweep, expire_resolves_every_due_dispute_over_several_transactions)
{
    char *dir, rid[48];
    prb_env *env = th_register(&dir);
    uint64_t n = 0;
    enum { M = 40 };
    prb_sweep_batch = 16; /* three transactions, as 512 of 1,100 would be */
    ingest_each(env, open_default);
    for (int i = 0; i < M; i++) {
        char who[32];
        prb_file *f = NULL;
        snprintf(who, sizeof who, "ext:bank-a:P%04d", i);
        cr_assert_eq(prb_subject_read(env, who, &f), PRB_OK, "%s", prb_errmsg(env));
        uint64_t id = prb_file_record(f, 0)->id;
        snprintf(rid, sizeof rid, "%llu-%llu", (unsigned long long)(id >> 24),
                 (unsigned long long)(id & 0xffffff));
        prb_file_free(f);
        cr_assert_eq(prb_dispute_open(env, who, rid, "Not mine.", NULL), PRB_OK, "%s",
                     prb_errmsg(env));
    }
    cr_assert_eq(open_disputes(env), M);
    th_set_day(env, "2026-12-26"); /* the day after every deadline */
    struct watch w = {env, M, 0, 0};
    prb_set_cancel(env, watch_disputes, &w);
    cr_assert_eq(prb_expire(env, &n, NULL), PRB_OK, "%s", prb_errmsg(env));
    /* Asked between its transactions, it saw some resolved, not all. */
    cr_assert_geq(w.between, 1, "the disputes were resolved in one transaction (asked %d times)",
                  w.asked);
    cr_assert_eq(open_disputes(env), 0);
    cr_assert_eq(versions(env), N - M, "a record outlived its dispute's deadline");
    prb_set_cancel(env, NULL, NULL);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}
