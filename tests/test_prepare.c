/*
 * test_prepare.c - decisions computed outside the write transaction
 * (prb_decide_prepare) and stored by prb_decide_many: stored as made when
 * nothing they read has changed, made again when something has (an
 * earlier decision of the batch, a commit the writer did not make, a
 * list entry the refresh changes, a day that has ended). The clock tells
 * the two apart: a decision made again carries the writer's time, a
 * stored one the time it was prepared at.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "ident.h"
#include "probity.h"

TestSuite(prepare, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"
#define OTHER "cn-rid:110105198001010016"

static void add_account(prb_env *env, const char *who, const char *ref)
{
    char buf[1024];
    prb_ingest_stats st;
    cr_assert_eq(
        th_ingest(env, "t", th_account(buf, sizeof buf, who, ref), PRB_FMT_NDJSON, 0, &st, NULL),
        PRB_OK, "%s", prb_errmsg(env));
}

/* Makes n people with an account each; who[p] gets the p-th's
 * identifier. For the tests of how many decisions: a decision reads
 * every inquiry stored about its subject, the batch's earlier ones too,
 * so thousands about one person cost the square of their number. */
static void add_people(prb_env *env, int n, char (*who)[48])
{
    char line[1024];
    struct th_buf recs = {0};
    prb_ingest_stats st;
    for (int p = 0; p < n; p++) {
        char digits[32], ref[16];
        snprintf(digits, sizeof digits, "11010519800101%03d", p + 1);
        snprintf(who[p], sizeof who[p], "cn-rid:%s%c", digits, prb_ident_cn_rid_check(digits));
        snprintf(ref, sizeof ref, "A-%d", p);
        th_account(line, sizeof line, who[p], ref);
        th_collect(&recs, line, strlen(line));
    }
    cr_assert_eq(th_ingest(env, "t", recs.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    free(recs.p);
}

/* Ends a test: the decision handles, the two register handles, the
 * directory. */
static void finish(prb_decision **d, size_t n, prb_env *w, prb_env *env, char *dir)
{
    for (size_t i = 0; i < n; i++)
        prb_decision_free(d[i]);
    prb_close(w);
    prb_close(env);
    th_rmrf(dir);
}

/* A second handle on env's register, the writer: env's clock at day's
 * start, the writer's six hours later, so a decision made again says so
 * in its time (T06:00:00Z) and one stored as prepared in its own
 * (T00:00:00Z). */
static prb_env *writer_of(prb_env *env, const char *day)
{
    prb_env *w;
    int64_t t;
    cr_assert_eq(prb_env_dup(env, &w), PRB_OK);
    cr_assert_eq(prb_parse_now(day, &t), PRB_OK);
    prb_set_now(env, t);
    prb_set_now(w, t + 6 * 3600);
    return w;
}

static prb_decision *prepare(prb_env *env, const char *who)
{
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide_prepare(env, "credit", who, "bank-x", &d), PRB_OK, "%s",
                 prb_errmsg(env));
    return d;
}

static char *json_of(prb_decision *d)
{
    const char *j;
    cr_assert_eq(prb_decision_json(d, &j), PRB_OK);
    return strdup(j);
}

static void set_inquiry(prb_inquiry *q, const char *who, prb_decision *d)
{
    memset(q, 0, sizeof *q);
    q->purpose = "credit";
    q->identifier = who;
    q->requester = "bank-x";
    q->decision = d;
}

static const char *field(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Nothing changed since the snapshot: the decision is stored as prepared,
 * the answer is the prepared one, and the stored inquiry is it. */
Test(prepare, stored_as_prepared)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q;
    add_account(env, PERSON, "A-1");
    w = writer_of(env, "2026-12-01");
    prb_decision *d = prepare(env, PERSON);
    char *before = json_of(d);
    cr_assert(strstr(before, "\"decision\": \"1-q1\"") && strstr(before, "2026-12-01"), "%s",
              before);
    set_inquiry(&q, PERSON, d);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK);
    cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
    char *after = json_of(q.decision);
    cr_assert_str_eq(after, before);
    json_t *a = th_inquiries(env, PERSON);
    cr_assert_eq(json_array_size(a), 1);
    cr_assert_str_eq(field(json_array_get(a, 0), "decision"), "1-q1");
    cr_assert_str_eq(field(json_array_get(a, 0), "as_of"), "2026-12-01");
    json_decref(a);
    /* The audit log took the inquiry with its hash: the register
     * verifies. */
    prb_verify_stats st;
    cr_assert_eq(prb_verify(env, NULL, NULL, &st), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.problems, 0);
    free(before);
    free(after);
    finish(&q.decision, 1, w, env, dir);
}

/* Two decisions about one subject prepared from the same snapshot would
 * both be its first inquiry; the second is made again after the first. */
Test(prepare, same_subject_twice_in_a_batch)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q[3];
    add_account(env, PERSON, "A-1");
    add_account(env, OTHER, "B-1");
    w = writer_of(env, "2026-12-01");
    set_inquiry(&q[0], PERSON, prepare(env, PERSON));
    set_inquiry(&q[1], OTHER, prepare(env, OTHER));
    set_inquiry(&q[2], PERSON, prepare(env, PERSON));
    cr_assert_eq(prb_decide_many(w, q, 3), PRB_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(q[i].rc, PRB_OK, "%d: %s", i, q[i].errmsg);
    char *j0 = json_of(q[0].decision), *j1 = json_of(q[1].decision), *j2 = json_of(q[2].decision);
    cr_assert(strstr(j0, "\"1-q1\"") && strstr(j0, "T00:00:00Z\""), "%s", j0);
    cr_assert(strstr(j1, "\"2-q1\"") && strstr(j1, "T00:00:00Z\""), "%s", j1);
    cr_assert(strstr(j2, "\"1-q2\"") && strstr(j2, "T06:00:00Z\""), "made again: %s", j2);
    cr_assert_eq(th_ninquiries(env, PERSON), 2);
    free(j0);
    free(j1);
    free(j2);
    prb_decision *all[3] = {q[0].decision, q[1].decision, q[2].decision};
    finish(all, 3, w, env, dir);
}

/* A commit the writer did not make lies between the snapshot and the
 * batch: the writer cannot tell what it touched, so the decision is made
 * again; one made after the writer's own commits about other subjects is
 * stored as prepared. */
Test(prepare, other_commits_make_it_again)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q;
    prb_decision *d2 = NULL;
    add_account(env, PERSON, "A-1");
    add_account(env, OTHER, "B-1");
    w = writer_of(env, "2026-12-01");

    prb_decision *d = prepare(env, PERSON);
    /* Someone else asks about the subject, outside the writer. */
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-y", &d2), PRB_OK);
    set_inquiry(&q, PERSON, d);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK);
    cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
    char *j = json_of(q.decision);
    cr_assert(strstr(j, "\"1-q2\"") && strstr(j, "T06:00:00Z\""), "%s", j);
    free(j);
    prb_decision_free(q.decision);

    /* Prepared before the writer's commit above, about another subject:
     * still as it was. */
    prb_decision *e = prepare(env, OTHER);
    prb_decision *f = prepare(env, PERSON);
    set_inquiry(&q, PERSON, f);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK);
    prb_decision_free(q.decision);
    set_inquiry(&q, OTHER, e);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK);
    j = json_of(q.decision);
    cr_assert(strstr(j, "\"2-q1\"") && strstr(j, "T00:00:00Z\""), "%s", j);
    free(j);
    prb_decision *all[2] = {q.decision, d2};
    finish(all, 2, w, env, dir);
}

/* A batch that stores nothing (here a refusal; as often every inquiry
 * answered in replay of its idempotency key) commits no change, and LMDB
 * gives the next commit the id it would have had. When that commit is
 * another's, about the subject, a decision prepared before both is made
 * again: the batch that stored nothing must not vouch for it. */
Test(prepare, a_batch_that_stores_nothing_vouches_for_nothing)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q;
    prb_decision *d2 = NULL;
    add_account(env, PERSON, "A-1");
    w = writer_of(env, "2026-12-01");

    prb_decision *d = prepare(env, PERSON);
    set_inquiry(&q, "cn-rid:440304200002291236", NULL);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK, "%s", prb_errmsg(w));
    cr_assert_eq(q.rc, PRB_ENOTFOUND, "%s", q.errmsg);
    prb_decision_free(q.decision);
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-y", &d2), PRB_OK);

    set_inquiry(&q, PERSON, d);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK, "%s", prb_errmsg(w));
    cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
    char *j = json_of(q.decision);
    cr_assert(strstr(j, "\"1-q2\"") && strstr(j, "T06:00:00Z\""), "stored as prepared: %s", j);
    free(j);
    cr_assert_eq(th_ninquiries(env, PERSON), 2);
    prb_decision *all[2] = {q.decision, d2};
    finish(all, 2, w, env, dir);
}

/* A decision prepared before midnight and stored after it is made again
 * as of the new day: it may have used a record that expired at midnight,
 * or missed a list entry's end, and no commit in between would say so. */
Test(prepare, a_day_that_has_ended_makes_it_again)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q;
    int64_t t;
    add_account(env, PERSON, "A-1");
    cr_assert_eq(prb_env_dup(env, &w), PRB_OK);
    cr_assert_eq(prb_parse_now("2026-12-02", &t), PRB_OK);
    prb_set_now(env, t - 1); /* 2026-12-01T23:59:59Z */
    prb_set_now(w, t + 1);
    prb_decision *d = prepare(env, PERSON);
    set_inquiry(&q, PERSON, d);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK, "%s", prb_errmsg(w));
    cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
    char *j = json_of(q.decision);
    cr_assert(strstr(j, "\"as_of\": \"2026-12-02\"") && strstr(j, "2026-12-02T00:00:01Z"),
              "stored as prepared the day before: %s", j);
    free(j);
    finish(&q.decision, 1, w, env, dir);
}

/* The refresh at storing time makes a list entry the prepared decision
 * did not see: the decision is made again (the writer's time). The entry,
 * in its hearing, is not told to the inquirer: it showed as "noticed"
 * until 2026-11-27, when decisions came to name only entries in effect. */
Test(prepare, list_change_makes_it_again)
{
    char *dir, buf[1024];
    prb_env *env = th_register(&dir), *w;
    prb_inquiry q;
    snprintf(buf, sizeof buf,
             "{\"furnisher\":\"src-a\",\"ref\":\"J-1\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"" PERSON "\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":"
             "\"2026-11-01\",\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":{"
             "\"amount\":\"900.00\",\"currency\":\"EUR\",\"court\":\"AG\",\"case_ref\":\"1\"}}\n");
    prb_ingest_stats ist;
    cr_assert_eq(th_ingest(env, "t", buf, PRB_FMT_NDJSON, 0, &ist, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    /* After the judgment's notice period: the debtor register's grounds
     * hold, but nobody has refreshed the list yet. */
    w = writer_of(env, "2026-12-26");
    prb_decision *d = prepare(env, PERSON);
    char *before = json_of(d);
    cr_assert(!strstr(before, "debtor_register"), "%s", before);
    set_inquiry(&q, PERSON, d);
    cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK);
    cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
    char *after = json_of(q.decision);
    cr_assert(strstr(after, "2026-12-26T06:00:00Z") && !strstr(after, "debtor_register"), "%s",
              after);
    cr_assert_eq(th_ninquiries(env, PERSON), 1);
    char *lists = NULL;
    cr_assert_eq(prb_lists_json(env, "debtor_register", &lists), PRB_OK);
    cr_assert(strstr(lists, "\"state\": \"noticed\""), "%s", lists);
    free(lists);
    free(before);
    free(after);
    finish(&q.decision, 1, w, env, dir);
}

/* An inquiry that names its key (the server's all do) is refused with
 * PRB_EREVOKED when the batch's transaction finds the key revoked, as
 * one revoked while its decision waited for the writer is, even for an
 * idempotency key it was answered before; nothing of it is stored, and
 * another key's inquiry in the batch is. */
Test(prepare, a_revoked_keys_inquiries_are_refused_alone)
{
    char *dir, tok[PRB_TOKEN_MAX];
    prb_env *env = th_register(&dir), *w;
    prb_key spec = {0}, k, l;
    prb_inquiry q[4];
    add_account(env, PERSON, "A-1");
    add_account(env, OTHER, "B-1");
    spec.role = PRB_ROLE_INQUIRER;
    snprintf(spec.purposes, sizeof spec.purposes, "credit");
    snprintf(spec.name, sizeof spec.name, "bank-x");
    cr_assert_eq(prb_key_create(env, &spec, tok, &k), PRB_OK, "%s", prb_errmsg(env));
    snprintf(spec.name, sizeof spec.name, "bank-y");
    cr_assert_eq(prb_key_create(env, &spec, tok, &l), PRB_OK, "%s", prb_errmsg(env));
    w = writer_of(env, "2026-12-01");
    set_inquiry(&q[0], PERSON, NULL);
    q[0].key = &k;
    q[0].idem = "order-1";
    cr_assert_eq(prb_decide_many(w, q, 1), PRB_OK, "%s", prb_errmsg(w));
    cr_assert_eq(q[0].rc, PRB_OK, "%s", q[0].errmsg);
    prb_decision *d[4] = {q[0].decision, prepare(env, PERSON), prepare(env, OTHER), NULL};
    size_t person = th_ninquiries(env, PERSON), other = th_ninquiries(env, OTHER);
    cr_assert_eq(prb_key_revoke(env, k.id), PRB_OK, "%s", prb_errmsg(env));
    set_inquiry(&q[0], PERSON, d[1]);
    set_inquiry(&q[1], OTHER, NULL);
    set_inquiry(&q[2], OTHER, d[2]);
    set_inquiry(&q[3], PERSON, NULL);
    q[0].key = q[2].key = q[3].key = &k;
    q[1].key = &l;
    q[1].requester = "bank-y";
    q[3].idem = "order-1";
    cr_assert_eq(prb_decide_many(w, q, 4), PRB_OK, "%s", prb_errmsg(w));
    static const int revoked[] = {0, 2, 3};
    for (size_t j = 0; j < 3; j++) {
        int i = revoked[j];
        cr_assert_eq(q[i].rc, PRB_EREVOKED, "inquiry %d: %d %s", i, q[i].rc, q[i].errmsg);
        cr_assert(strstr(q[i].errmsg, k.id) && strstr(q[i].errmsg, "revoked"), "%s", q[i].errmsg);
        cr_assert_null(q[i].replay);
    }
    cr_assert_eq(q[1].rc, PRB_OK, "%s", q[1].errmsg);
    d[3] = q[1].decision;
    cr_assert_eq(th_ninquiries(env, PERSON), person, "a revoked key's inquiry was stored");
    cr_assert_eq(th_ninquiries(env, OTHER), other + 1);
    finish(d, 4, w, env, dir);
}

/* A refusal comes from prepare, as from prb_decide, with nothing stored. */
Test(prepare, refusals)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_decision *d = NULL;
    add_account(env, PERSON, "A-1");
    cr_assert_eq(prb_decide_prepare(env, "dating", PERSON, "x", &d), PRB_ENOTFOUND);
    cr_assert_eq(prb_decide_prepare(env, "procurement", PERSON, "x", &d), PRB_ENOTFOUND);
    cr_assert_eq(prb_decide_prepare(env, "credit", "cn-rid:440304200002291236", "x", &d),
                 PRB_ENOTFOUND);
    cr_assert_eq(prb_decide_prepare(env, "credit", "cn-rid:11010519491231002Y", "x", &d),
                 PRB_EINVAL);
    cr_assert_eq(th_ninquiries(env, PERSON), 0);
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* A server holds a prepared decision, with its read transactions, for
 * every decision in flight: up to one for each of its 4,096 connections
 * (a disk that stalls lets them pile up behind the commit) and 256 spare.
 * With room for 1,024 readers, the 1,025th failed with MDB_READERS_FULL
 * (a 500). All of them prepare, and are stored. What is tested is how
 * many are held at once, not whose: they are about 256 people, 17 each. */
Test(prepare, as_many_as_a_server_holds)
{
    enum { N = 4096 + 256, PEOPLE = 256 };
    char *dir, who[PEOPLE][48];
    prb_env *env = th_register(&dir);
    prb_decision **d = calloc(N, sizeof *d);
    prb_inquiry *q = calloc(N, sizeof *q);
    cr_assert(d && q);
    add_people(env, PEOPLE, who);
    for (int i = 0; i < N; i++)
        cr_assert_eq(prb_decide_prepare(env, "credit", who[i % PEOPLE], "bank-x", &d[i]), PRB_OK,
                     "decision %d: %s", i + 1, prb_errmsg(env));
    for (int i = 0; i < N; i++)
        set_inquiry(&q[i], who[i % PEOPLE], d[i]);
    for (int i = 0; i < N; i += 1024) {
        size_t m = N - i < 1024 ? (size_t)(N - i) : 1024;
        cr_assert_eq(prb_decide_many(env, q + i, m), PRB_OK, "%s", prb_errmsg(env));
        for (size_t j = 0; j < m; j++)
            cr_assert_eq(q[i + j].rc, PRB_OK, "%s", q[i + j].errmsg);
    }
    for (int p = 0; p < PEOPLE; p++)
        cr_assert_eq(th_ninquiries(env, who[p]), N / PEOPLE, "%s", who[p]);
    for (int i = 0; i < N; i++)
        prb_decision_free(q[i].decision);
    free(q);
    free(d);
    prb_close(env);
    th_rmrf(dir);
}

/* A caller of prb_decide_many need not prepare: each inquiry without a
 * handle gets a new one. A new handle kept a reader of the inquiry index
 * until it was freed, so a batch of more new handles than the index has
 * reader slots failed at the 8,193rd, and the whole batch with it. What
 * is tested is how many handles, not whose: the inquiries are spread
 * over 258 people, 32 each. A decision reads every inquiry stored about
 * its subject, the batch's earlier ones too, and 8,256 about one person
 * took most of the suite's 60 s under ASan on a loaded machine, at times
 * more. */
Test(prepare, more_new_handles_than_readers)
{
    enum { N = 8192 + 64, PEOPLE = 258 };
    char *dir, who[PEOPLE][48];
    prb_env *env = th_register(&dir);
    prb_inquiry *q = calloc(N, sizeof *q);
    cr_assert(q);
    add_people(env, PEOPLE, who);
    for (int i = 0; i < N; i++)
        set_inquiry(&q[i], who[i % PEOPLE], NULL);
    cr_assert_eq(prb_decide_many(env, q, N), PRB_OK, "%s", prb_errmsg(env));
    for (int i = 0; i < N; i++)
        cr_assert_eq(q[i].rc, PRB_OK, "inquiry %d: %s", i + 1, q[i].errmsg);
    for (int p = 0; p < PEOPLE; p++)
        cr_assert_eq(th_ninquiries(env, who[p]), N / PEOPLE, "%s", who[p]);
    for (int i = 0; i < N; i++)
        prb_decision_free(q[i].decision);
    free(q);
    prb_close(env);
    th_rmrf(dir);
}

/* How far the data file reaches past LMDB's last page, read with the
 * register closed (LMDB allows one open of an environment a process). */
static long long past_end(const char *dir)
{
    char path[2048];
    MDB_env *m;
    MDB_envinfo info;
    MDB_stat ms;
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(mdb_env_create(&m), 0);
    cr_assert_eq(mdb_env_set_maxdbs(m, 64), 0);
    cr_assert_eq(mdb_env_open(m, dir, MDB_RDONLY, 0644), 0);
    cr_assert_eq(mdb_env_info(m, &info), 0);
    cr_assert_eq(mdb_env_stat(m, &ms), 0);
    long long end = (long long)(info.me_last_pgno + 1) * ms.ms_psize;
    mdb_env_close(m);
    return (long long)st.st_size - end;
}

static void decide_batches(prb_env *env, prb_env *w, int n)
{
    for (int i = 0; i < n; i++) {
        prb_inquiry q;
        set_inquiry(&q, PERSON, prepare(env, PERSON));
        cr_assert_eq(prb_decide_many(w, &q, 1), PRB_OK, "%s", prb_errmsg(w));
        cr_assert_eq(q.rc, PRB_OK, "%s", q.errmsg);
        prb_decision_free(q.decision);
    }
}

/* The data file is kept written some megabytes past LMDB's last page, a
 * small step at a time (by prb_decide_many when its room runs short, by
 * prb_headroom between a server's batches), so that the commits of a busy
 * server overwrite blocks the file has. prb_headroom stops at the room it
 * keeps. The zeros go only where no committed page is: decisions, an
 * ingest that grows the file past them and more decisions all read back
 * whole, and the audit log verifies. */
Test(prepare, data_file_headroom)
{
    char *dir;
    prb_env *env = th_register(&dir), *w;
    prb_verify_stats vs;
    add_account(env, PERSON, "A-1");
    w = writer_of(env, "2026-12-01");
    decide_batches(env, w, 3);
    char reg[1024], data[1100];
    struct stat st0, st1;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(data, sizeof data, "%s/data.mdb", reg);
    cr_assert_eq(stat(data, &st0), 0);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(prb_headroom(w), PRB_OK, "%s", prb_errmsg(w));
    cr_assert_eq(stat(data, &st1), 0);
    cr_assert_gt(st1.st_size, st0.st_size + (6 << 20), "%lld -> %lld", (long long)st0.st_size,
                 (long long)st1.st_size);
    cr_assert_eq(prb_headroom(w), PRB_OK);
    cr_assert_eq(stat(data, &st0), 0);
    cr_assert_eq(st0.st_size, st1.st_size, "grew past the room it keeps");
    for (int i = 0; i < 40; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "B-%d", i);
        add_account(env, OTHER, ref);
    }
    decide_batches(env, w, 9);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(prb_headroom(w), PRB_OK, "%s", prb_errmsg(w));
    prb_close(w);
    prb_close(env);
    long long past = past_end(reg);
    cr_assert(past >= (7 << 20) && past <= (9 << 20), "%lld bytes past the last page", past);
    cr_assert_eq(prb_open(reg, &env), PRB_OK);
    cr_assert_eq(th_ninquiries(env, PERSON), 12);
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(vs.records, 41);
    prb_close(env);
    th_rmrf(dir);
}
