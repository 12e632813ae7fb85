/*
 * test_inquiry_log.c - inquiries in a log inside the register and an index
 * by subject beside it (store format 3, iidx.c): registers of format 1
 * (one table of inquiries keyed by subject) and 2 (the index inside the
 * register) are moved to it when opened, losing nothing; a reader sees
 * exactly its snapshot's inquiries whether the index is behind the log or
 * ahead of it; an index that cannot be trusted is made again from the
 * log; a process killed while deciding loses nothing; and the index
 * cannot be bent or emptied behind the engine's back without `verify`
 * saying so, since a subject's copy reads its inquiries through it. The
 * same for the index of notices by subject beside it (format 4), made
 * from the outbox: registers of format 3 (the index inside the register)
 * are moved, readers see their snapshot's notices, verify checks it.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"

TestSuite(inquiry_log, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"
#define OTHER "cn-rid:110105198001010016"

static void add_account(prb_env *env, const char *who)
{
    char buf[1024];
    prb_ingest_stats st;
    cr_assert_eq(
        th_ingest(env, "t", th_account(buf, sizeof buf, who, who), PRB_FMT_NDJSON, 0, &st, NULL),
        PRB_OK, "%s", prb_errmsg(env));
}

static void decide(prb_env *env, const char *who, const char *want)
{
    prb_decision *d = NULL;
    const char *json;
    cr_assert_eq(prb_decide(env, "credit", who, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json_compact(d, &json), PRB_OK);
    char id[48];
    snprintf(id, sizeof id, "\"decision\":\"%s\"", want);
    cr_assert(strstr(json, id), "want %s: %s", want, json);
    prb_decision_free(d);
}

/* verify finds nothing wrong: every inquiry matches its leaf, the index
 * the log. */
static void expect_clean(prb_env *env)
{
    prb_verify_stats st;
    cr_assert_eq(prb_verify(env, NULL, NULL, &st), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.problems, 0);
}

/* The ids of a subject's inquiries, as its copy lists them, joined. */
static char *ids(prb_env *env, const char *who)
{
    char *text, *out = calloc(1, 256);
    size_t i;
    json_t *q;
    cr_assert_eq(prb_inquiries_json(env, who, &text), PRB_OK, "%s", prb_errmsg(env));
    json_t *a = json_loads(text, 0, NULL);
    free(text);
    json_array_foreach(a, i, q)
    {
        strcat(out, i ? "," : "");
        strcat(out, json_string_value(json_object_get(q, "decision")));
    }
    json_decref(a);
    return out;
}

/* who's inquiries, as its copy lists them, are want. */
static void expect_ids(prb_env *env, const char *who, const char *want)
{
    char *list = ids(env, who);
    cr_assert_str_eq(list, want);
    free(list);
}

/* A register with inquiries: subject 1 (PERSON) asked about three times,
 * subject 2 (OTHER) once. */
static prb_env *asked(char **dir)
{
    prb_env *env = th_register(dir);
    prb_ingest_stats st;
    /* PERSON's payment default came two months ago: its hearing is over,
     * so PERSON's credit decisions are adverse and may be reviewed. */
    th_set_day(env, "2026-09-25");
    cr_assert_eq(
        th_ingest(env, "t",
                  "{\"furnisher\":\"bank-a\",\"ref\":\"D-1\",\"subject\":{\"kind\":"
                  "\"person\",\"id\":\"" PERSON "\"},\"category\":\"payment_default\","
                  "\"status\":\"open\",\"event_date\":\"2026-01-10\",\"legal_basis\":"
                  "\"contract\",\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n",
                  PRB_FMT_NDJSON, 0, &st, NULL),
        PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, TH_TODAY);
    add_account(env, PERSON);
    add_account(env, OTHER);
    decide(env, PERSON, "1-q1");
    decide(env, OTHER, "2-q1");
    decide(env, PERSON, "1-q2");
    decide(env, PERSON, "1-q3");
    return env;
}

struct raw {
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi meta, ilog, inq;
};

/* An LMDB environment at path and a write transaction in it, opened
 * without the engine (which must not have it open: LMDB allows one
 * opening per process); committed and closed by end_raw. */
static void begin_raw(MDB_env **e, MDB_txn **t, const char *path, unsigned flags)
{
    cr_assert_eq(mdb_env_create(e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(*e, 32), 0);
    cr_assert_eq(mdb_env_set_mapsize(*e, (size_t)4 << 30), 0);
    cr_assert_eq(mdb_env_open(*e, path, flags, 0644), 0);
    cr_assert_eq(mdb_txn_begin(*e, NULL, 0, t), 0);
}

static void end_raw(MDB_env *e, MDB_txn *t)
{
    cr_assert_eq(mdb_txn_commit(t), 0);
    mdb_env_close(e);
}

/* The register's own environment. */
static void raw_open(struct raw *r, const char *tmp)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/reg", tmp);
    begin_raw(&r->e, &r->t, dir, 0);
    cr_assert_eq(mdb_dbi_open(r->t, "meta", 0, &r->meta), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "ilog", 0, &r->ilog), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "inq", 0, &r->inq), 0);
}

static void raw_close(struct raw *r)
{
    end_raw(r->e, r->t);
}

/* The index beside it (DIR/reg/index.mdb). */
struct rawidx {
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi iidx, meta;
};

static void rawidx_open(struct rawidx *r, const char *tmp)
{
    char path[600];
    snprintf(path, sizeof path, "%s/reg/index.mdb", tmp);
    begin_raw(&r->e, &r->t, path, MDB_NOSUBDIR);
    cr_assert_eq(mdb_dbi_open(r->t, "iidx", 0, &r->iidx), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "meta", 0, &r->meta), 0);
}

static void rawidx_close(struct rawidx *r)
{
    end_raw(r->e, r->t);
}

static size_t entries(MDB_txn *t, MDB_dbi dbi)
{
    MDB_stat ms;
    cr_assert_eq(mdb_stat(t, dbi, &ms), 0);
    return ms.ms_entries;
}

static uint32_t format_of(struct raw *r)
{
    MDB_val k = {6, "format"}, v;
    uint32_t f = 0;
    cr_assert_eq(mdb_get(r->t, r->meta, &k, &v), 0);
    cr_assert_eq(v.mv_size, 4);
    memcpy(&f, v.mv_data, 4);
    return f;
}

/* The index beside the register has n entries. */
static void index_holds(const char *dir, size_t n)
{
    struct rawidx x;
    rawidx_open(&x, dir);
    cr_assert_eq(entries(x.t, x.iidx), n);
    rawidx_close(&x);
}

static void set_format(struct raw *r, uint32_t f)
{
    MDB_val fk = {6, "format"}, fv = {4, &f};
    cr_assert_eq(mdb_put(r->t, r->meta, &fk, &fv, 0), 0);
}

/* Puts the inquiries back as format 1 kept them: one table, subject and
 * number -> the inquiry. */
static void to_format_1(struct raw *r)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc;
    cr_assert_eq(mdb_cursor_open(r->t, r->ilog, &c), 0);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        cr_assert_gt(v.mv_size, 12);
        MDB_val key = {12, v.mv_data}, old = {v.mv_size - 12, (unsigned char *)v.mv_data + 12};
        cr_assert_eq(mdb_put(r->t, r->inq, &key, &old, 0), 0);
    }
    mdb_cursor_close(c);
    cr_assert_eq(mdb_drop(r->t, r->ilog, 0), 0);
    set_format(r, 1);
}

/* Puts the index inside the register, as format 2 kept it, and removes
 * the one beside it. */
static void to_format_2(struct raw *r, const char *tmp)
{
    MDB_cursor *c;
    MDB_val k, v;
    MDB_dbi iidx;
    int rc;
    cr_assert_eq(mdb_dbi_open(r->t, "iidx", MDB_CREATE, &iidx), 0);
    cr_assert_eq(mdb_cursor_open(r->t, r->ilog, &c), 0);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const unsigned char *inq = (const unsigned char *)v.mv_data + 12;
        unsigned char iv[13 + 64];
        cr_assert_leq(inq[1], 64);
        memcpy(iv, k.mv_data, 8);
        memcpy(iv + 8, inq + 4, 4);
        iv[12] = inq[1];
        memcpy(iv + 13, inq + 16, inq[1]);
        MDB_val key = {12, v.mv_data}, val = {13u + inq[1], iv};
        cr_assert_eq(mdb_put(r->t, iidx, &key, &val, 0), 0);
    }
    mdb_cursor_close(c);
    set_format(r, 2);
    char path[600];
    snprintf(path, sizeof path, "%s/reg/index.mdb", tmp);
    cr_assert_eq(unlink(path), 0);
    snprintf(path, sizeof path, "%s/reg/index.mdb-lock", tmp);
    unlink(path);
}

Test(inquiry_log, a_format_1_register_is_moved_when_opened)
{
    char *dir;
    prb_env *env = asked(&dir);
    char *before = ids(env, PERSON);
    cr_assert_str_eq(before, "1-q1,1-q2,1-q3");
    prb_close(env);

    struct raw r;
    raw_open(&r, dir);
    to_format_1(&r);
    raw_close(&r);

    char reg[600];
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    char *after = ids(env, PERSON), *other = ids(env, OTHER);
    cr_assert_str_eq(after, before);
    cr_assert_str_eq(other, "2-q1");
    /* Numbering goes on, and every inquiry still matches its leaf. */
    th_set_day(env, TH_TODAY);
    decide(env, PERSON, "1-q4");
    expect_clean(env);
    prb_close(env);

    raw_open(&r, dir);
    cr_assert_eq(format_of(&r), 5);
    cr_assert_eq(entries(r.t, r.inq), 0, "the old table still holds inquiries");
    cr_assert_eq(entries(r.t, r.ilog), 5);
    raw_close(&r);
    index_holds(dir, 5);
    free(before);
    free(after);
    free(other);
    th_rmrf(dir);
}

static int collect(void *ctx, const char *buf, size_t len)
{
    char **p = ctx;
    size_t have = *p ? strlen(*p) : 0;
    char *n = realloc(*p, have + len + 1);
    cr_assert_not_null(n);
    memcpy(n + have, buf, len);
    n[have + len] = 0;
    *p = n;
    return 0;
}

/* The index entry of subject 1's inquiry no. */
static MDB_val index_key(unsigned char k[12], uint32_t no)
{
    memset(k, 0, 12);
    k[7] = 1;
    k[11] = (unsigned char)no;
    return (MDB_val){12, k};
}

/* Opens the register in dir into *env and verifies it, which must find
 * what; its report (free it). */
static char *verify_finds(const char *dir, const char *what, prb_env **env, prb_verify_stats *st)
{
    char reg[600], *rep = NULL;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, env), PRB_OK, "%s", prb_errmsg(*env));
    cr_assert_eq(prb_verify(*env, collect, &rep, st), PRB_ECORRUPT, "not found: %s", what);
    cr_assert(rep && strstr(rep, what), "expected '%s' in: %s", what, rep ? rep : "");
    return rep;
}

static void expect_verify_finds(const char *dir, const char *what)
{
    prb_env *env;
    prb_verify_stats st;
    char *rep = verify_finds(dir, what, &env, &st);
    /* And the copy does not pass it over in silence either. */
    char *text = NULL;
    cr_assert_neq(prb_inquiries_json(env, PERSON, &text), PRB_OK);
    free(text);
    free(rep);
    prb_close(env);
}

Test(inquiry_log, verify_finds_an_index_entry_removed)
{
    char *dir;
    prb_env *env = asked(&dir);
    prb_close(env);
    struct rawidx r;
    unsigned char k[12];
    rawidx_open(&r, dir);
    MDB_val key = index_key(k, 2);
    cr_assert_eq(mdb_del(r.t, r.iidx, &key, NULL), 0);
    rawidx_close(&r);
    expect_verify_finds(dir, "decision 1-q2: the index by subject");
    th_rmrf(dir);
}

Test(inquiry_log, verify_finds_an_index_entry_bent_to_another_inquiry)
{
    char *dir;
    prb_env *env = asked(&dir);
    prb_close(env);
    struct rawidx r;
    unsigned char k1[12], k3[12], v[64];
    rawidx_open(&r, dir);
    MDB_val a = index_key(k1, 1), b = index_key(k3, 3), got;
    /* 1-q3's entry now leads to 1-q1's place in the log. */
    cr_assert_eq(mdb_get(r.t, r.iidx, &a, &got), 0);
    cr_assert_leq(got.mv_size, sizeof v);
    memcpy(v, got.mv_data, got.mv_size);
    MDB_val nv = {got.mv_size, v};
    cr_assert_eq(mdb_put(r.t, r.iidx, &b, &nv, 0), 0);
    rawidx_close(&r);
    expect_verify_finds(dir, "decision 1-q3: the index by subject");
    th_rmrf(dir);
}

/* Subject 1's four credit inquiries of one day, the last one's index
 * entry given day (a date) and purpose in place, behind the engine's back. */
static char *bent_last(const char *day, const char *purpose)
{
    char *dir;
    prb_env *env = asked(&dir);
    decide(env, PERSON, "1-q4");
    prb_close(env);
    struct rawidx r;
    unsigned char k[12], v[64];
    int32_t d;
    rawidx_open(&r, dir);
    MDB_val key = index_key(k, 4), got;
    cr_assert_eq(mdb_get(r.t, r.iidx, &key, &got), 0);
    cr_assert_geq(got.mv_size, 13);
    memcpy(v, got.mv_data, 13);
    if (day) {
        cr_assert_eq(prb_date_parse(day, strlen(day), &d), PRB_OK);
        prb_put_le32(v + 8, d);
    }
    if (!purpose)
        purpose = "credit";
    v[12] = (unsigned char)strlen(purpose);
    memcpy(v + 13, purpose, v[12]);
    MDB_val nv = {13u + v[12], v};
    cr_assert_eq(mdb_put(r.t, r.iidx, &key, &nv, 0), 0);
    rawidx_close(&r);
    return dir;
}

/* verify finds exactly one thing wrong with the register in dir: what. */
static void expect_one_finding(const char *dir, const char *what)
{
    prb_env *env;
    prb_verify_stats st;
    char *rep = verify_finds(dir, what, &env, &st);
    cr_assert_eq(st.problems, 1, "%s", rep);
    free(rep);
    prb_close(env);
}

/* A decision reads back from the newest entry until a day before its
 * window: one entry's day bent back hid all of its subject's older
 * inquiries from decisions, and verify said ok. */
Test(inquiry_log, verify_finds_an_index_entry_given_another_day)
{
    char *dir = bent_last("2000-01-01", NULL);
    expect_one_finding(dir, "decision 1-q4: the index by subject gives another day");
    th_rmrf(dir);
}

Test(inquiry_log, verify_finds_an_index_entry_given_another_purpose)
{
    char *dir = bent_last(NULL, "tenancy");
    expect_one_finding(dir, "decision 1-q4: the index by subject gives another purpose");
    th_rmrf(dir);
}

Test(inquiry_log, a_format_2_register_is_moved_when_opened)
{
    char *dir;
    prb_env *env = asked(&dir);
    char *before = ids(env, PERSON);
    prb_close(env);

    struct raw r;
    raw_open(&r, dir);
    to_format_2(&r, dir);
    raw_close(&r);

    char reg[600];
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    char *after = ids(env, PERSON);
    cr_assert_str_eq(after, before);
    th_set_day(env, TH_TODAY);
    decide(env, PERSON, "1-q4");
    expect_clean(env);
    prb_close(env);

    raw_open(&r, dir);
    MDB_dbi gone;
    cr_assert_eq(format_of(&r), 5);
    cr_assert_eq(mdb_dbi_open(r.t, "iidx", 0, &gone), MDB_NOTFOUND,
                 "the index is still inside the register");
    raw_close(&r);
    index_holds(dir, 5);
    free(before);
    free(after);
    th_rmrf(dir);
}

static int add_no(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose, size_t pl)
{
    char *out = ctx;
    (void)g, (void)day, (void)purpose, (void)pl;
    sprintf(out + strlen(out), "%s%u", *out ? "," : "", no);
    return 0;
}

/* The numbers of subject 1's inquiries that txn sees. */
static void seen(prb_env *env, MDB_txn *txn, char *out)
{
    out[0] = 0;
    cr_assert_eq(prb_iidx_each(env, txn, NULL, 1, add_no, out), PRB_OK, "%s", prb_errmsg(env));
}

/* A reader whose snapshot is older than the index sees none of the later
 * inquiries; one whose snapshot is ahead of the index (a commit not yet
 * indexed, as after a crash between the two) finds them in the log, and
 * numbering and the copy go on from them. */
/* Holds an index beside env's register back before one of its entries:
 * key gone from dbi and the upto named upk set to upto, as if the process
 * had stopped between a commit and its indexing. */
static void hold_back(prb_env *env, MDB_dbi dbi, MDB_val key, MDB_val upk, uint64_t upto)
{
    MDB_txn *t;
    unsigned char up[8];
    MDB_val upv = {8, up};
    prb_be64(up, upto);
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_del(t, dbi, &key, NULL), 0);
    cr_assert_eq(mdb_put(t, env->imeta, &upk, &upv, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

Test(inquiry_log, a_reader_sees_its_snapshot_whether_the_index_is_behind_or_ahead)
{
    char *dir, nos[64];
    prb_env *env = asked(&dir);
    MDB_txn *old, *t;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &old), 0);
    decide(env, PERSON, "1-q4");
    seen(env, old, nos);
    cr_assert_str_eq(nos, "1,2,3", "a later inquiry leaked into an older snapshot");
    mdb_txn_abort(old);

    /* Hold the index back before 1-q4 (the log's 5th). */
    unsigned char k[12];
    MDB_val key = index_key(k, 4), upk = {4, "upto"};
    hold_back(env, env->iidx, key, upk, 5);
    uint64_t lag = 0, nlag = 9;
    cr_assert_eq(prb_index_lag(env, &lag, &nlag), PRB_OK);
    cr_assert_eq(lag, 1);
    cr_assert_eq(nlag, 0);
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t), 0);
    seen(env, t, nos);
    mdb_txn_abort(t);
    cr_assert_str_eq(nos, "1,2,3,4");
    char *list = ids(env, PERSON);
    cr_assert_str_eq(list, "1-q1,1-q2,1-q3,1-q4");
    free(list);
    /* A review finds its decision in the log's tail while the index lacks
     * it (the review's own commit then indexes it), and by one lookup in
     * the index otherwise. */
    cr_assert_eq(prb_review_request(env, "1-q4", "Not me.", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "Not me.", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q9", "Not me.", NULL), PRB_ENOTFOUND);
    cr_assert_eq(prb_review_request(env, "2-q2", "Not me.", NULL), PRB_ENOTFOUND);
    decide(env, PERSON, "1-q5");
    /* That commit indexed what the log had beyond the index. */
    MDB_val got;
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_get(t, env->iidx, &key, &got), 0, "1-q4 was not indexed");
    cr_assert_eq(mdb_get(t, env->imeta, &upk, &got), 0);
    cr_assert_eq(prb_get_be64(got.mv_data), 7);
    mdb_txn_abort(t);
    cr_assert_eq(prb_index_lag(env, &lag, &nlag), PRB_OK);
    cr_assert_eq(lag, 0);
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

static void state_is(const char *dir, const char *want)
{
    char path[600], buf[128] = "";
    snprintf(path, sizeof path, "%s/reg/index.state", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_assert(strstr(buf, want), "index.state says '%s', not '%s'", buf, want);
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/reg/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    fclose(f);
}

static prb_env *reopen(const char *dir)
{
    char reg[600];
    prb_env *env;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    return env;
}

/* Opened again, the register lists PERSON's inquiries as want and
 * verifies clean. */
static void reopened_holds(const char *dir, const char *want)
{
    prb_env *env = reopen(dir);
    char *list = ids(env, PERSON);
    cr_assert_str_eq(list, want);
    free(list);
    expect_clean(env);
    prb_close(env);
}

/* The index is trusted after a restart of the machine only if it was
 * flushed and marked so by its last user; otherwise, and when it is
 * missing, it is made again from the log. */
Test(inquiry_log, an_index_that_cannot_be_trusted_is_made_again)
{
    char *dir;
    prb_env *env = asked(&dir);
    state_is(dir, "synced 0");
    prb_close(env);
    state_is(dir, "synced 1");

    /* Another boot, never flushed: whatever the file holds (here not an
     * LMDB file at all) is thrown away. */
    put_file(dir, "index.state", "boot 00000000-another-boot synced 0\n");
    put_file(dir, "index.mdb", "torn by a power cut");
    env = reopen(dir);
    state_is(dir, "synced 0");
    char *list = ids(env, PERSON);
    cr_assert_str_eq(list, "1-q1,1-q2,1-q3");
    free(list);
    th_set_day(env, TH_TODAY);
    decide(env, PERSON, "1-q4");
    prb_close(env);

    /* Gone altogether. */
    char path[600];
    snprintf(path, sizeof path, "%s/reg/index.mdb", dir);
    cr_assert_eq(unlink(path), 0);
    reopened_holds(dir, "1-q1,1-q2,1-q3,1-q4");

    /* Marked flushed, but not an index LMDB can open: made again too. */
    state_is(dir, "synced 1");
    put_file(dir, "index.mdb", "not an LMDB file, though marked flushed");
    reopened_holds(dir, "1-q1,1-q2,1-q3,1-q4");
    th_rmrf(dir);
}

/* A process killed with SIGKILL while it decides, commit after commit,
 * leaves every decision it committed in its subject's copy: the index is
 * brought up to the log when the register is opened again. */
Test(inquiry_log, a_process_killed_while_deciding_loses_nothing)
{
    char *dir;
    prb_env *env = asked(&dir);
    prb_close(env);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(p[0]);
        env = reopen(dir);
        th_set_day(env, TH_TODAY);
        for (;;) {
            prb_decision *d = NULL;
            if (prb_decide(env, "credit", PERSON, "bank-x", &d))
                _exit(3);
            prb_decision_free(d);
            if (write(p[1], "x", 1) != 1)
                _exit(4);
        }
    }
    close(p[1]);
    char buf[64];
    size_t made = 0;
    while (made < 40) {
        ssize_t n = read(p[0], buf, sizeof buf);
        cr_assert_gt(n, 0, "the deciding process stopped");
        made += (size_t)n;
    }
    kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    close(p[0]);
    env = reopen(dir);
    json_t *a;
    char *text;
    cr_assert_eq(prb_inquiries_json(env, PERSON, &text), PRB_OK, "%s", prb_errmsg(env));
    a = json_loads(text, 0, NULL);
    free(text);
    /* Its three before, and at least every one it said it made. */
    cr_assert_geq(json_array_size(a), 3 + made);
    json_decref(a);
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* A second process opens the register while the first has it open: it
 * does not wait for the first to close, its decisions are indexed for
 * the first to read, and only the last one out marks the index flushed. */
Test(inquiry_log, two_processes_share_the_index)
{
    char *dir;
    prb_env *env = asked(&dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char reg[600];
        prb_env *e2;
        prb_decision *d = NULL;
        snprintf(reg, sizeof reg, "%s/reg", dir);
        if (prb_open(reg, &e2))
            _exit(2);
        th_set_day(e2, TH_TODAY);
        if (prb_decide(e2, "credit", OTHER, "bank-x", &d))
            _exit(3);
        prb_decision_free(d);
        prb_close(e2);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the second process failed: %d",
              status);
    state_is(dir, "synced 0");
    char *list = ids(env, OTHER);
    cr_assert_str_eq(list, "2-q1,2-q2");
    free(list);
    MDB_txn *t;
    unsigned char k[12];
    MDB_val key = index_key(k, 2), got;
    k[7] = 2; /* subject 2's second */
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_get(t, env->iidx, &key, &got), 0,
                 "the other process's inquiry is not indexed");
    mdb_txn_abort(t);
    prb_close(env);
    state_is(dir, "synced 1");
    th_rmrf(dir);
}

/* ------------------------------------------------ notices (format 4) */

/* A payment default for who under ref: adverse, so it gives a notice. */
static void add_default(prb_env *env, const char *who, const char *ref)
{
    char buf[1024];
    prb_ingest_stats st;
    snprintf(buf, sizeof buf,
             "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"%s\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
             "\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":{"
             "\"amount\":\"500.00\",\"currency\":\"EUR\"}}\n",
             ref, who);
    cr_assert_eq(th_ingest(env, "t", buf, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

/* The numbers of who's notices, as the subject's copy lists them. */
static void notices_of(prb_env *env, const char *who, char *out, size_t n)
{
    char *text;
    size_t i;
    json_t *x;
    out[0] = 0;
    cr_assert_eq(prb_subject_copy(env, who, PRB_COPY_JSON, &text), PRB_OK, "%s", prb_errmsg(env));
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(doc);
    json_array_foreach(json_object_get(doc, "notices"), i, x)
    {
        size_t have = strlen(out);
        snprintf(out + have, n - have, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(x, "notice")));
    }
    json_decref(doc);
}

static int note_no(void *ctx, uint64_t no)
{
    char *out = ctx;
    size_t have = strlen(out);
    snprintf(out + have, 64 - have, "%s%llu", have ? "," : "", (unsigned long long)no);
    return 0;
}

/* Notices 1 and 3 to PERSON, 2 to OTHER. */
static prb_env *noticed(char **dir)
{
    prb_env *env = th_register(dir);
    add_default(env, PERSON, "D-1");
    add_default(env, OTHER, "D-2");
    add_default(env, PERSON, "D-3");
    char got[64];
    notices_of(env, PERSON, got, sizeof got);
    cr_assert_str_eq(got, "1,3");
    notices_of(env, OTHER, got, sizeof got);
    cr_assert_str_eq(got, "2");
    return env;
}

/* The index of notices by subject lives beside the register too: a
 * reader sees exactly its snapshot's notices whether the index is ahead
 * of it or behind it, and the next commit catches the index up. */
Test(inquiry_log, notices_are_found_whether_the_index_is_behind_or_ahead)
{
    char *dir, got[64] = "";
    prb_env *env = noticed(&dir);
    MDB_txn *old, *t;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &old), 0);
    add_default(env, PERSON, "D-4");
    cr_assert_eq(prb_nidx_each(env, old, 1, note_no, got), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_str_eq(got, "1,3", "a later notice leaked into an older snapshot");
    mdb_txn_abort(old);

    /* Hold the index back before notice 4. */
    unsigned char k[16];
    MDB_val key = {16, k}, upk = {5, "nupto"}, got4;
    prb_be64(k, 1);
    prb_be64(k + 8, 4);
    hold_back(env, env->nidx, key, upk, 4);
    uint64_t ilag = 9, nlag = 0;
    cr_assert_eq(prb_index_lag(env, &ilag, &nlag), PRB_OK);
    cr_assert_eq(ilag, 0);
    cr_assert_eq(nlag, 1);
    notices_of(env, PERSON, got, sizeof got);
    cr_assert_str_eq(got, "1,3,4");
    expect_clean(env);
    add_default(env, OTHER, "D-5");
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_get(t, env->nidx, &key, &got4), 0, "notice 4 was not indexed");
    cr_assert_eq(mdb_get(t, env->imeta, &upk, &got4), 0);
    cr_assert_eq(prb_get_be64(got4.mv_data), 6);
    mdb_txn_abort(t);
    cr_assert_eq(prb_index_lag(env, &ilag, &nlag), PRB_OK);
    cr_assert_eq(nlag, 0);
    notices_of(env, OTHER, got, sizeof got);
    cr_assert_str_eq(got, "2,5");
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* Format 3 kept the notice index inside the register (nsub): opened, it
 * is made beside it from the outbox and the old one goes. */
Test(inquiry_log, a_format_3_register_is_moved_when_opened)
{
    char *dir, got[64];
    prb_env *env = noticed(&dir);
    decide(env, PERSON, "1-q1");
    prb_close(env);

    struct raw r;
    MDB_dbi outbox, nsub;
    MDB_cursor *c;
    MDB_val k, v, empty = {0, ""};
    int rc;
    size_t n = 0;
    raw_open(&r, dir);
    cr_assert_eq(mdb_dbi_open(r.t, "outbox", 0, &outbox), 0);
    cr_assert_eq(mdb_dbi_open(r.t, "nsub", MDB_CREATE, &nsub), 0);
    cr_assert_eq(mdb_cursor_open(r.t, outbox, &c), 0);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        unsigned char sk[16];
        memcpy(sk, v.mv_data, 8);
        memcpy(sk + 8, k.mv_data, 8);
        MDB_val skv = {16, sk};
        cr_assert_eq(mdb_put(r.t, nsub, &skv, &empty, 0), 0);
        n++;
    }
    mdb_cursor_close(c);
    set_format(&r, 3);
    raw_close(&r);
    /* Format 3's index beside the register held inquiries only. */
    struct rawidx x;
    MDB_dbi nidx;
    MDB_val nup = {5, "nupto"}, nlast = {5, "nlast"};
    rawidx_open(&x, dir);
    cr_assert_eq(mdb_dbi_open(x.t, "nidx", 0, &nidx), 0);
    cr_assert_eq(mdb_drop(x.t, nidx, 1), 0);
    cr_assert_eq(mdb_del(x.t, x.meta, &nup, NULL), 0);
    cr_assert_eq(mdb_del(x.t, x.meta, &nlast, NULL), 0);
    rawidx_close(&x);

    env = reopen(dir);
    notices_of(env, PERSON, got, sizeof got);
    cr_assert(!strncmp(got, "1,3,", 4), "%s", got); /* and the decision's */
    notices_of(env, OTHER, got, sizeof got);
    cr_assert_str_eq(got, "2");
    expect_clean(env);
    prb_close(env);

    raw_open(&r, dir);
    cr_assert_eq(format_of(&r), 5);
    cr_assert_eq(mdb_dbi_open(r.t, "nsub", 0, &nsub), MDB_NOTFOUND, "nsub is still there");
    raw_close(&r);
    rawidx_open(&x, dir);
    cr_assert_eq(mdb_dbi_open(x.t, "nidx", 0, &nidx), 0);
    cr_assert_eq(entries(x.t, nidx), n);
    rawidx_close(&x);
    th_rmrf(dir);
}

/* A notice cannot be hidden from its subject's copy by removing its index
 * entry or bending it to another subject without verify saying so. */
Test(inquiry_log, verify_finds_a_notice_index_entry_removed_or_bent)
{
    for (int bend = 0; bend < 2; bend++) {
        char *dir, reg[600], *rep = NULL;
        prb_env *env = noticed(&dir);
        prb_close(env);
        struct rawidx x;
        MDB_dbi nidx;
        unsigned char k[16];
        MDB_val key = {16, k}, empty = {0, ""};
        prb_be64(k, 1);
        prb_be64(k + 8, 3);
        rawidx_open(&x, dir);
        cr_assert_eq(mdb_dbi_open(x.t, "nidx", 0, &nidx), 0);
        cr_assert_eq(mdb_del(x.t, nidx, &key, NULL), 0);
        if (bend) {
            prb_be64(k, 2);
            cr_assert_eq(mdb_put(x.t, nidx, &key, &empty, 0), 0);
        }
        rawidx_close(&x);
        snprintf(reg, sizeof reg, "%s/reg", dir);
        cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
        prb_verify_stats st;
        cr_assert_eq(prb_verify(env, collect, &rep, &st), PRB_ECORRUPT);
        cr_assert(rep && strstr(rep, "notice 3: missing from the index of notices by subject"),
                  "%s", rep ? rep : "");
        free(rep);
        prb_close(env);
        th_rmrf(dir);
    }
}

/* The index's map is at least an eighth of the register's (the server
 * maps 256 GiB of register), so the register is full before its index:
 * a full index would stay behind the log for good. */
Test(inquiry_log, the_index_map_follows_the_register_map)
{
    char *dir;
    MDB_envinfo info;
    setenv("PROBITY_MAPSIZE_MB", "262144", 1);
    prb_env *env = th_register(&dir);
    cr_assert_eq(mdb_env_info(env->imdb, &info), 0);
    cr_assert_geq(info.me_mapsize, ((size_t)256 << 30) / 8, "index map %zu",
                  (size_t)info.me_mapsize);
    /* Opened meanwhile by a process with a smaller register map (a CLI
     * command beside the server), the index keeps its file's length:
     * LMDB would cut it to the smaller map under the server's feet. */
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/reg/index.mdb", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_geq((size_t)st.st_size, ((size_t)256 << 30) / 8);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char reg[600];
        prb_env *e2;
        MDB_envinfo i2;
        unsetenv("PROBITY_MAPSIZE_MB");
        snprintf(reg, sizeof reg, "%s/reg", dir);
        if (prb_open(reg, &e2))
            _exit(2);
        if (mdb_env_info(e2->imdb, &i2) || i2.me_mapsize < (size_t)st.st_size)
            _exit(3);
        prb_close(e2);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the second process: %d", status);
    struct stat st2;
    cr_assert_eq(stat(path, &st2), 0);
    cr_assert_eq(st2.st_size, st.st_size, "the index file was cut from %lld to %lld bytes",
                 (long long)st.st_size, (long long)st2.st_size);
    add_account(env, PERSON); /* and the first goes on writing it */
    decide(env, PERSON, "1-q1");
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------- where the index lives */

static int exists(const char *dir, const char *name)
{
    char path[900];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return !stat(path, &st);
}

/* The index can be placed under another directory (a tmpfs, in a real
 * deployment): bad places change nothing, it is made from the log there,
 * other processes follow it there and cannot move it while it is in use,
 * a machine restart that empties the place loses nothing, a copy of the
 * register gets an index of its own, and it can be put back beside. */
Test(inquiry_log, the_index_can_live_elsewhere)
{
    char *dir, reg[600], shm[600], reg2[600], cmd[1400], placed[900];
    prb_env *env = asked(&dir), *env2;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(shm, sizeof shm, "%s/shm", dir);
    cr_assert_eq(mkdir(shm, 0700), 0);

    cr_assert_eq(prb_index_place(env, "shm"), PRB_EINVAL);
    cr_assert(strstr(prb_errmsg(env), "absolute"), "%s", prb_errmsg(env));
    snprintf(placed, sizeof placed, "%s/no-such-dir", dir);
    cr_assert_eq(prb_index_place(env, placed), PRB_EINVAL);
    snprintf(placed, sizeof placed, "%s/index.mdb", reg);
    cr_assert_eq(prb_index_place(env, placed), PRB_EINVAL);
    cr_assert(strstr(prb_errmsg(env), "not a directory"), "%s", prb_errmsg(env));
    cr_assert_str_eq(prb_index_dir(env), reg);
    cr_assert(!exists(reg, "index.place"));

    cr_assert_eq(prb_index_place(env, shm), PRB_OK, "%s", prb_errmsg(env));
    snprintf(placed, sizeof placed, "%s", prb_index_dir(env));
    cr_assert_eq(strncmp(placed, shm, strlen(shm)), 0, "the index is in %s", placed);
    cr_assert(exists(placed, "index.mdb") && exists(reg, "index.place"));
    cr_assert(!exists(reg, "index.mdb") && !exists(reg, "index.state"),
              "the old index is still beside the register");
    expect_ids(env, PERSON, "1-q1,1-q2,1-q3");
    th_set_day(env, TH_TODAY);
    decide(env, PERSON, "1-q4");
    expect_clean(env);

    /* Another process finds it there, and cannot move it from under this
     * one. */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prb_decision *d = NULL;
        if (prb_open(reg, &env2) || strcmp(prb_index_dir(env2), placed))
            _exit(2);
        if (prb_index_place(env2, NULL) != PRB_EBUSY || strcmp(prb_index_dir(env2), placed))
            _exit(3);
        th_set_day(env2, TH_TODAY);
        if (prb_decide(env2, "credit", OTHER, "bank-x", &d))
            _exit(4);
        prb_decision_free(d);
        prb_close(env2);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the other process: %d", status);
    expect_ids(env, OTHER, "2-q1,2-q2");
    prb_close(env);

    /* A restart of the machine empties a tmpfs down to its mount point:
     * the place itself (here shm, as /dev/shm/probity would be) is gone,
     * and is made again with the index in it, from the log. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", shm);
    cr_assert_eq(system(cmd), 0);
    reopened_holds(dir, "1-q1,1-q2,1-q3,1-q4");
    cr_assert(exists(placed, "index.mdb"), "not made again in its place");
    env = reopen(dir);
    cr_assert_str_eq(prb_index_dir(env), placed);
    expect_ids(env, OTHER, "2-q1,2-q2");
    prb_close(env);

    /* A copy on this machine, index.place and all, gets its own. */
    snprintf(reg2, sizeof reg2, "%s/reg2", dir);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", reg, reg2);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(prb_open(reg2, &env2), PRB_OK, "%s", prb_errmsg(env2));
    cr_assert_str_neq(prb_index_dir(env2), placed);
    cr_assert_eq(strncmp(prb_index_dir(env2), shm, strlen(shm)), 0);
    expect_ids(env2, OTHER, "2-q1,2-q2");
    expect_clean(env2);
    cr_assert_eq(prb_index_place(env2, NULL), PRB_OK, "%s", prb_errmsg(env2));
    prb_close(env2);

    /* Back beside the register: the placed directory goes. */
    env = reopen(dir);
    cr_assert_eq(prb_index_place(env, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_str_eq(prb_index_dir(env), reg);
    cr_assert(exists(reg, "index.mdb") && !exists(reg, "index.place"));
    struct stat st;
    cr_assert_neq(stat(placed, &st), 0, "%s is left behind", placed);
    expect_ids(env, PERSON, "1-q1,1-q2,1-q3,1-q4");
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* A place that cannot hold the index (here the name of the register's
 * directory there is taken by a file) fails with a message, and the
 * register goes back to where its index was, beside it or under another
 * place, with its index made again: the handle still decides. */
Test(inquiry_log, a_place_that_fails_leaves_the_index_where_it_was)
{
    char *dir, reg[600], shm[600], shm2[600], path[1000], was[900];
    prb_env *env = asked(&dir);
    struct stat st;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(shm, sizeof shm, "%s/shm", dir);
    snprintf(shm2, sizeof shm2, "%s/shm2", dir);
    cr_assert_eq(mkdir(shm, 0700), 0);
    cr_assert_eq(mkdir(shm2, 0700), 0);
    cr_assert_eq(stat(reg, &st), 0);
    snprintf(path, sizeof path, "%s/probity-index-%llx-%llx", shm, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);

    cr_assert_neq(prb_index_place(env, shm), PRB_OK);
    cr_assert(strstr(prb_errmsg(env), "probity-index-"), "%s", prb_errmsg(env));
    cr_assert_str_eq(prb_index_dir(env), reg);
    cr_assert(!exists(reg, "index.place") && exists(reg, "index.mdb"));
    cr_assert_eq(stat(path, &st), 0, "the file in the way is gone");
    cr_assert(S_ISREG(st.st_mode));
    expect_ids(env, PERSON, "1-q1,1-q2,1-q3");
    th_set_day(env, TH_TODAY);
    decide(env, PERSON, "1-q4");
    expect_clean(env);

    /* From one place to another that fails: back under the first. */
    cr_assert_eq(prb_index_place(env, shm2), PRB_OK, "%s", prb_errmsg(env));
    snprintf(was, sizeof was, "%s", prb_index_dir(env));
    cr_assert_neq(prb_index_place(env, shm), PRB_OK); /* the file is still in the way */
    cr_assert_str_eq(prb_index_dir(env), was);
    cr_assert(exists(reg, "index.place") && exists(was, "index.mdb"));
    expect_ids(env, PERSON, "1-q1,1-q2,1-q3,1-q4");
    decide(env, PERSON, "1-q5");
    expect_clean(env);
    prb_close(env);
    reopened_holds(dir, "1-q1,1-q2,1-q3,1-q4,1-q5");
    th_rmrf(dir);
}

/* The file in a placed index's directory naming its register. */
static void expect_owner(const char *placed, const char *reg)
{
    char want[PATH_MAX], got[PATH_MAX + 2], path[1000];
    cr_assert_not_null(realpath(reg, want));
    snprintf(path, sizeof path, "%s/register", placed);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s is missing", path);
    cr_assert_not_null(fgets(got, sizeof got, f));
    fclose(f);
    got[strcspn(got, "\n")] = 0;
    cr_assert_str_eq(got, want);
}

/* A register deleted while its index is placed leaves the index behind
 * (in memory, on a tmpfs). The next placement under the same directory
 * removes it, and only it: not the index of a register that is still
 * there, nor one still open, nor a directory whose owner it cannot
 * tell, nor anything not named like a placed index. */
Test(inquiry_log, placing_removes_indexes_left_behind)
{
    enum { N = 4 };
    char *dir = th_tmpdir(), shm[600], reg[N][600], placed[N][900], path[1000];
    prb_env *env[N];
    snprintf(shm, sizeof shm, "%s/shm", dir);
    cr_assert_eq(mkdir(shm, 0700), 0);
    for (int i = 0; i < N; i++) {
        snprintf(reg[i], sizeof reg[i], "%s/r%d", dir, i);
        cr_assert_eq(prb_init(reg[i], NULL, &env[i]), PRB_OK, "%s", prb_errmsg(env[i]));
        cr_assert_eq(prb_index_place(env[i], shm), PRB_OK, "%s", prb_errmsg(env[i]));
        snprintf(placed[i], sizeof placed[i], "%s", prb_index_dir(env[i]));
        cr_assert(exists(placed[i], "index.mdb"));
        expect_owner(placed[i], reg[i]);
    }
    /* r0 and r2 are deleted, r2 while a process still has it open. */
    prb_close(env[0]);
    prb_close(env[1]);
    th_rmrf(strdup(reg[0]));
    th_rmrf(strdup(reg[2]));
    snprintf(path, sizeof path, "%s/probity-index-1-2", shm);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/probity-index-kept", shm);
    cr_assert_eq(mkdir(path, 0700), 0);

    /* Placing again where it already is sweeps too. */
    cr_assert_eq(prb_index_place(env[3], shm), PRB_OK, "%s", prb_errmsg(env[3]));
    cr_assert(!exists(placed[0], ""), "r0's index is left behind");
    cr_assert(exists(placed[1], "index.mdb"), "r1's index went, r1 is still there");
    cr_assert(exists(placed[2], "index.mdb"), "r2's index went while in use");
    cr_assert(exists(shm, "probity-index-1-2") && exists(shm, "probity-index-kept"));
    cr_assert(exists(placed[3], "index.mdb"));

    /* Once closed, r2's goes too; r1 still finds its own. */
    prb_close(env[2]);
    cr_assert_eq(prb_index_place(env[3], shm), PRB_OK, "%s", prb_errmsg(env[3]));
    cr_assert(!exists(placed[2], ""), "r2's index is left behind");
    cr_assert_eq(prb_open(reg[1], &env[1]), PRB_OK, "%s", prb_errmsg(env[1]));
    cr_assert_str_eq(prb_index_dir(env[1]), placed[1]);
    prb_close(env[1]);

    /* Back beside the register, the placed directory goes whole. */
    cr_assert_eq(prb_index_place(env[3], NULL), PRB_OK, "%s", prb_errmsg(env[3]));
    cr_assert(!exists(placed[3], ""));
    prb_close(env[3]);
    th_rmrf(dir);
}

/* An index.place that is not what probity index --place writes stops the
 * register from opening, with a message that names it. */
Test(inquiry_log, a_bad_index_place_is_named)
{
    char *dir;
    prb_env *env = asked(&dir);
    prb_close(env);
    put_file(dir, "index.place", "relative/path\n");
    char reg[600];
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_ECORRUPT);
    cr_assert(strstr(prb_errmsg(env), "index.place"), "%s", prb_errmsg(env));
    prb_close(env);
    /* A missing place is made (a reboot empties a tmpfs); one under a
     * file cannot be. */
    char place[700];
    snprintf(place, sizeof place, "%s/reg/index.place/under/a/file\n", dir);
    put_file(dir, "index.place", place);
    cr_assert_eq(prb_open(reg, &env), PRB_EIO);
    cr_assert(strstr(prb_errmsg(env), "index.place"), "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "Not a directory"), "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* The index's place on a tmpfs is made again after a restart by whoever
 * comes first: a place another user made, or could rename things in,
 * and an index directory that is not this user's own or is a link, are
 * refused by name, not used. */
Test(inquiry_log, an_index_place_of_another_user_is_refused)
{
    char *dir, place[600], text[700], reg[600], leaf[800], real[900];
    prb_env *env = asked(&dir);
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(place, sizeof place, "%s/place", dir);
    cr_assert_eq(mkdir(place, 0755), 0);
    snprintf(text, sizeof text, "%s\n", place);
    put_file(dir, "index.place", text);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    struct stat st;
    cr_assert_eq(stat(reg, &st), 0);
    snprintf(leaf, sizeof leaf, "%s/probity-index-%llx-%llx", place, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    cr_assert_eq(stat(leaf, &st), 0, "%s", leaf);

    /* Writable by others, not sticky: anyone could swap the index. */
    cr_assert_eq(chmod(place, 0777), 0);
    cr_assert_eq(prb_open(reg, &env), PRB_EIO);
    cr_assert(strstr(prb_errmsg(env), "mode 0777"), "%s", prb_errmsg(env));
    prb_close(env);
    cr_assert_eq(chmod(place, 01777), 0); /* as /dev/shm is */
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    cr_assert_eq(chmod(place, 0755), 0);

    /* The index's directory writable by others, then a link to one. */
    cr_assert_eq(chmod(leaf, 0777), 0);
    cr_assert_eq(prb_open(reg, &env), PRB_EIO);
    cr_assert(strstr(prb_errmsg(env), "not this user's own"), "%s", prb_errmsg(env));
    prb_close(env);
    cr_assert_eq(chmod(leaf, 0700), 0);
    snprintf(real, sizeof real, "%s.real", leaf);
    cr_assert_eq(rename(leaf, real), 0);
    cr_assert_eq(symlink(real, leaf), 0);
    cr_assert_eq(prb_open(reg, &env), PRB_EIO);
    cr_assert(strstr(prb_errmsg(env), "is a link"), "%s", prb_errmsg(env));
    prb_close(env);
    cr_assert_eq(unlink(leaf), 0);
    cr_assert_eq(rename(real, leaf), 0);

    /* Owned by another user (only root can give a directory away). */
    if (geteuid() == 0) {
        cr_assert_eq(chown(place, 65534, 65534), 0);
        cr_assert_eq(prb_open(reg, &env), PRB_EIO);
        cr_assert(strstr(prb_errmsg(env), "owned by uid 65534"), "%s", prb_errmsg(env));
        prb_close(env);
        cr_assert_eq(chown(place, 0, 0), 0);
        cr_assert_eq(chown(leaf, 65534, 65534), 0);
        cr_assert_eq(prb_open(reg, &env), PRB_EIO);
        cr_assert(strstr(prb_errmsg(env), "owned by uid 65534"), "%s", prb_errmsg(env));
        prb_close(env);
        cr_assert_eq(chown(leaf, 0, 0), 0);
    }
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* A move refused because another process has the index open leaves the
 * refused handle still holding its share of the index's lock: flock
 * drops a shared lock before trying for an exclusive one, so without
 * taking it again the next opener would think itself alone with an index
 * in use (and could remove it). */
Test(inquiry_log, a_refused_move_keeps_the_index_locked)
{
    char *dir, reg[600], lockpath[700];
    prb_env *env = asked(&dir);
    /* Forked with nothing open, so the child inherits no lock of ours. */
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(lockpath, sizeof lockpath, "%s/index.lock", reg);
    int opened[2], ready[2], go[2];
    cr_assert_eq(pipe(opened), 0);
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* Only its own ends, so that it sees the end of a failed test. */
        close(opened[1]);
        close(ready[0]);
        close(go[1]);
        prb_env *e2;
        char c;
        if (read(opened[0], &c, 1) != 1)
            _exit(2);
        int rc = prb_open(reg, &e2);
        c = rc ? 'o' : prb_index_place(e2, dir) == PRB_EBUSY ? 'x' : 'p';
        if (c != 'x')
            fprintf(stderr, "child: %s\n", prb_errmsg(e2));
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        rc = read(go[0], &c, 1) == 1 ? 0 : 3;
        prb_close(e2);
        _exit(rc);
    }
    close(opened[0]);
    close(ready[1]);
    close(go[0]);
    env = reopen(dir);
    cr_assert_eq(write(opened[1], "o", 1), 1);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'x', "the child's move was not refused (%c)", c);
    prb_close(env);
    /* Only the child has it open now. */
    int fd = open(lockpath, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_neq(flock(fd, LOCK_EX | LOCK_NB), 0,
                  "the refused handle no longer holds the index's lock");
    close(fd);
    cr_assert_eq(write(go[1], "g", 1), 1);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    th_rmrf(dir);
}

/* ------------------------------------- reading back over the windows */

/* Stores a decision about who for purpose on day (YYYY-MM-DD), as one
 * made --as-of that day would be. */
static void as_of(prb_env *env, const char *day)
{
    int64_t t;
    cr_assert_eq(prb_parse_now(day, &t), PRB_OK);
    prb_set_as_of(env, t);
}

static void decide_on(prb_env *env, const char *day, const char *purpose, const char *who)
{
    prb_decision *d = NULL;
    as_of(env, day);
    cr_assert_eq(prb_decide(env, purpose, who, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
}

/* How many inquiries the credit scorecard counted for who as of day: the
 * value of its reason, none when it counted none (a missing value, the
 * best bin). */
static int counted(prb_env *env, const char *day, const char *who)
{
    prb_decision *d = NULL;
    const char *text;
    json_t *r;
    size_t i;
    int n = 0;
    as_of(env, day);
    cr_assert_eq(prb_evaluate(env, "credit", who, &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json_compact(d, &text), PRB_OK);
    json_t *o = json_loads(text, 0, NULL);
    json_array_foreach(json_object_get(o, "reasons"), i, r)
    {
        const char *f = json_string_value(json_object_get(r, "feature"));
        if (f && !strcmp(f, "credit_inquiries_6m"))
            n = (int)json_number_value(json_object_get(r, "value"));
    }
    json_decref(o);
    prb_decision_free(d);
    return n;
}

/* The stored decision's id. */
static void decide_is(prb_env *env, const char *purpose, const char *who, const char *want)
{
    prb_decision *d = NULL;
    const char *json;
    char id[48];
    cr_assert_eq(prb_decide(env, purpose, who, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_json_compact(d, &json), PRB_OK);
    snprintf(id, sizeof id, "\"decision\":\"%s\"", want);
    cr_assert(strstr(json, id), "want %s: %s", want, json);
    prb_decision_free(d);
}

/* Subject 1's index entry of inquiry no made malformed, in env's index. */
static void bend_entry(prb_env *env, uint32_t no)
{
    MDB_txn *t;
    unsigned char k[12];
    MDB_val key = index_key(k, no), bad = {5, "bent!"};
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_put(t, env->iidx, &key, &bad, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

/* A decision reads its subject's inquiries back only as far as the
 * windows of the features it needs reach, none for a purpose that counts
 * none, and no further than the last for its number: a subject asked
 * about a million times cost every decision a million steps and a 16 MB
 * array. Shown by an entry it no longer needs made unreadable: it is not
 * read (verify still names it). */
Test(inquiry_log, a_decision_reads_no_inquiry_older_than_its_windows)
{
    char *dir;
    prb_env *env = th_register(&dir);
    add_account(env, PERSON);
    decide_on(env, "2025-01-10", "credit", PERSON);
    decide_on(env, "2025-02-10", "credit", PERSON);
    decide_on(env, "2025-03-10", "credit", PERSON);
    decide_on(env, TH_TODAY, "credit", PERSON);
    decide_on(env, TH_TODAY, "tenancy", PERSON);
    bend_entry(env, 2);
    decide_is(env, "credit", PERSON, "1-q6");
    cr_assert_eq(counted(env, TH_TODAY, PERSON), 2);
    /* Tenancy counts no inquiry: only the newest is read, for the number. */
    bend_entry(env, 5);
    decide_is(env, "tenancy", PERSON, "1-q7");
    prb_close(env);
    expect_verify_finds(dir, "decision 1-q2: the index by subject");
    th_rmrf(dir);
}

/* A malformed entry inside the window fails the decision with its error.
 * The reader gave back its partial list on failure with the count of
 * entries to turn around left set, and turned a freed list around: the
 * process died (a server's pool thread, and again at each decision about
 * the subject), where it should say what is wrong. */
Test(inquiry_log, a_malformed_entry_in_the_window_is_an_error_not_a_crash)
{
    char *dir;
    prb_decision *d = NULL;
    prb_env *env = th_register(&dir);
    add_account(env, PERSON);
    decide_on(env, TH_TODAY, "credit", PERSON);
    decide_on(env, TH_TODAY, "credit", PERSON);
    decide_on(env, TH_TODAY, "credit", PERSON);
    bend_entry(env, 1);
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_ECORRUPT, "%s",
                 prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "1-q1"), "%s", prb_errmsg(env));
    prb_decision_free(d);
    prb_close(env);
    th_rmrf(dir);
}

struct nos {
    int32_t since;
    size_t n;
    uint32_t no[64];
    int32_t day[64];
};

static int add_since(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose,
                     size_t pl)
{
    struct nos *s = ctx;
    (void)g, (void)purpose, (void)pl;
    cr_assert_lt(s->n, 64);
    if (day >= s->since) {
        s->no[s->n] = no;
        s->day[s->n++] = day;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* prb_iidx_recent finds, for every day since from before the first
 * inquiry to after the last, what reading all of subject's inquiries
 * finds of that day or later, and the same last number. */
static void recent_is_all(prb_env *env, uint64_t subject, const char *what)
{
    MDB_txn *txn;
    int32_t from, to;
    cr_assert_eq(prb_date_parse("2023-06-01", 10, &from), PRB_OK);
    cr_assert_eq(prb_date_parse("2028-06-01", 10, &to), PRB_OK);
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn), 0);
    for (int32_t since = from; since <= to; since += 3) {
        struct nos all = {INT32_MIN, 0, {0}, {0}}, got = {since, 0, {0}, {0}}, want = {0};
        uint32_t last = 99;
        cr_assert_eq(prb_iidx_each(env, txn, NULL, subject, add_since, &all), PRB_OK);
        cr_assert_eq(prb_iidx_recent(env, txn, NULL, subject, since, add_since, &got, &last),
                     PRB_OK, "%s", prb_errmsg(env));
        for (size_t i = 0; i < all.n; i++)
            if (all.day[i] >= since)
                want.no[want.n++] = all.no[i];
        qsort(got.no, got.n, sizeof *got.no, cmp_u32);
        cr_assert_eq(got.n, want.n, "%s, since day %d: %zu, not %zu", what, since, got.n, want.n);
        cr_assert_arr_eq(got.no, want.no, want.n * sizeof *want.no, "%s, since day %d", what,
                         since);
        cr_assert_eq(last, all.n ? all.no[all.n - 1] : 0, "%s: last %u", what, last);
        last = 99;
        cr_assert_eq(prb_iidx_recent(env, txn, NULL, subject, since, NULL, NULL, &last), PRB_OK);
        cr_assert_eq(last, all.n ? all.no[all.n - 1] : 0, "%s: last alone %u", what, last);
    }
    mdb_txn_abort(txn);
}

/* The days a subject was asked about on, in the order asked: mostly
 * forward, but a decision made --as-of another day (back, and ahead)
 * breaks the order now and then, and the reading back must not stop at
 * an old day with a newer one before it. */
static const struct {
    const char *day, *purpose, *who;
} asked_on[] = {
    {"2024-02-10", "credit", PERSON},  {"2025-03-01", "credit", PERSON},
    {"2025-03-01", "tenancy", PERSON}, {"2025-06-01", "credit", OTHER},
    {"2025-12-31", "credit", PERSON},  {"2026-05-25", "credit", PERSON},
    {"2026-05-26", "credit", PERSON},  {"2024-06-01", "credit", PERSON},
    {"2026-06-30", "credit", PERSON},  {"2027-03-01", "credit", PERSON},
    {"2026-02-28", "credit", OTHER},   {"2026-08-31", "credit", PERSON},
    {"2026-09-01", "tenancy", PERSON}, {"2026-02-28", "credit", PERSON},
    {"2026-11-25", "credit", PERSON},  {"2026-12-01", "credit", OTHER},
    {"2027-01-15", "credit", PERSON},  {"2027-02-28", "credit", PERSON},
    {"2027-04-01", "credit", PERSON},  {"2027-06-30", "credit", PERSON},
};

/* What reading every inquiry counted: PERSON's credit inquiries made on
 * or before day and fewer than six months before it. */
static int brute_count(const char *day)
{
    int32_t today, d;
    int n = 0;
    cr_assert_eq(prb_date_parse(day, 10, &today), PRB_OK);
    for (size_t i = 0; i < sizeof asked_on / sizeof *asked_on; i++) {
        cr_assert_eq(prb_date_parse(asked_on[i].day, 10, &d), PRB_OK);
        n += !strcmp(asked_on[i].purpose, "credit") && !strcmp(asked_on[i].who, PERSON) &&
             d <= today && prb_months_between(d, today) < 6;
    }
    return n;
}

/* Rewrites the index's marks of order as covering [1, upto), or removes
 * them (upto 0). */
static void set_order_upto(prb_env *env, uint64_t upto)
{
    MDB_txn *t;
    MDB_val k = {5, "order"}, v;
    unsigned char b[24];
    cr_assert_eq(mdb_txn_begin(env->imdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_get(t, env->imeta, &k, &v), 0, "the index keeps no order");
    cr_assert_eq(v.mv_size, 24);
    memcpy(b, v.mv_data, 24);
    prb_be64(b, upto);
    v = (MDB_val){24, b};
    cr_assert_eq(upto ? mdb_put(t, env->imeta, &k, &v, 0) : mdb_del(t, env->imeta, &k, NULL), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

/* Reading back over the windows counts what reading everything counted,
 * on every day, days out of order and all; whether the index is behind
 * the log or its marks of order cannot be used. */
Test(inquiry_log, reading_back_over_the_windows_counts_what_reading_all_did)
{
    static const char *const on[] = {"2026-11-25", "2026-11-26", "2026-12-31", "2027-02-28",
                                     "2027-03-01", "2027-05-31", "2027-06-30", "2027-08-31",
                                     "2027-09-01", "2027-12-31", "2028-01-01", "2029-01-01"};
    char *dir;
    prb_env *env = th_register(&dir);
    add_account(env, PERSON);
    add_account(env, OTHER);
    size_t n = sizeof asked_on / sizeof *asked_on;
    for (size_t i = 0; i < n; i++)
        decide_on(env, asked_on[i].day, asked_on[i].purpose, asked_on[i].who);
    /* Before the record was received nothing is scored: from then on. */
    for (size_t i = 0; i < sizeof on / sizeof *on; i++)
        cr_assert_eq(counted(env, on[i], PERSON), brute_count(on[i]), "as of %s", on[i]);
    recent_is_all(env, 1, "person");
    recent_is_all(env, 2, "other");
    recent_is_all(env, 3, "nobody");

    /* The index behind the log (its marks with it): the tail is read. */
    unsigned char k[12];
    MDB_val key = index_key(k, 17), upk = {4, "upto"};
    hold_back(env, env->iidx, key, upk, n);
    set_order_upto(env, n);
    uint64_t lag = 0;
    cr_assert_eq(prb_index_lag(env, &lag, NULL), PRB_OK);
    cr_assert_eq(lag, 1);
    recent_is_all(env, 1, "person, index behind");
    cr_assert_eq(counted(env, "2027-06-30", PERSON), brute_count("2027-06-30"));
    /* Marks that do not describe the index are not used. */
    set_order_upto(env, n - 1);
    recent_is_all(env, 1, "person, marks not the index's");
    cr_assert_eq(counted(env, "2027-06-30", PERSON), brute_count("2027-06-30"));
    set_order_upto(env, 0);
    recent_is_all(env, 1, "person, no marks");
    as_of(env, "2027-06-30");
    decide_is(env, "credit", PERSON, "1-q18");
    prb_close(env);

    /* Opened again, such an index is made again, marks and all. */
    env = reopen(dir);
    char *list = ids(env, PERSON);
    cr_assert(strstr(list, "1-q17,1-q18"), "%s", list);
    free(list);
    recent_is_all(env, 1, "person, made again");
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* The next number is the last one's after many inquiries, read from the
 * end of the subject's entries whether another subject's follow them or
 * not, and whether the newest are indexed yet or not. */
Test(inquiry_log, the_number_goes_on_after_many_inquiries)
{
    enum { BATCH = 500, BATCHES = 3 };
    char *dir, want[32];
    prb_env *env = th_register(&dir);
    add_account(env, PERSON);
    add_account(env, OTHER);
    static prb_inquiry q[BATCH];
    int credit = 1; /* and the first decide_is's */
    for (int b = 0; b < BATCHES; b++) {
        memset(q, 0, sizeof q);
        for (int i = 0; i < BATCH; i++) {
            credit += i % 7 == 0;
            q[i].purpose = i % 7 ? "tenancy" : "credit";
            q[i].identifier = PERSON;
            q[i].requester = "bank-x";
        }
        cr_assert_eq(prb_decide_many(env, q, BATCH), PRB_OK, "%s", prb_errmsg(env));
        for (int i = 0; i < BATCH; i++) {
            cr_assert_eq(q[i].rc, PRB_OK, "%s", q[i].errmsg);
            prb_decision_free(q[i].decision);
        }
    }
    snprintf(want, sizeof want, "1-q%d", BATCH * BATCHES + 1);
    decide_is(env, "credit", PERSON, want);
    decide_is(env, "tenancy", OTHER, "2-q1");
    snprintf(want, sizeof want, "1-q%d", BATCH * BATCHES + 2);
    decide_is(env, "tenancy", PERSON, want);
    decide_is(env, "credit", OTHER, "2-q2");
    /* The newest of each not indexed yet (PERSON's, the log's 1503rd):
     * found in the log's tail. */
    unsigned char k[12];
    MDB_val key = index_key(k, BATCH * BATCHES + 2), upk = {4, "upto"};
    k[10] = (unsigned char)((BATCH * BATCHES + 2) >> 8);
    hold_back(env, env->iidx, key, upk, BATCH * BATCHES + 3);
    snprintf(want, sizeof want, "1-q%d", BATCH * BATCHES + 3);
    decide_is(env, "tenancy", PERSON, want);
    cr_assert_eq(th_ninquiries(env, PERSON), BATCH * BATCHES + 3);
    cr_assert_eq(counted(env, TH_TODAY, PERSON), credit);
    expect_clean(env);
    prb_close(env);
    th_rmrf(dir);
}

/* Marks of order that understate how far the days went back would have
 * decisions miss inquiries in their windows: verify names them. */
Test(inquiry_log, verify_finds_the_order_of_days_understated)
{
    char *dir, reg[600], *rep = NULL;
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    add_account(env, PERSON);
    decide_on(env, "2026-11-25", "credit", PERSON);
    decide_on(env, "2026-06-01", "credit", PERSON);
    decide_on(env, "2026-11-25", "credit", PERSON);
    expect_clean(env);
    prb_close(env);
    struct rawidx r;
    MDB_val k = {5, "order"}, v;
    unsigned char b[24];
    rawidx_open(&r, dir);
    cr_assert_eq(mdb_get(r.t, r.meta, &k, &v), 0);
    cr_assert_eq(v.mv_size, sizeof b);
    memcpy(b, v.mv_data, sizeof b);
    memset(b + 12, 0, 12); /* never behind */
    v = (MDB_val){sizeof b, b};
    cr_assert_eq(mdb_put(r.t, r.meta, &k, &v, 0), 0);
    rawidx_close(&r);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_verify(env, collect, &rep, &st), PRB_ECORRUPT);
    cr_assert(rep && strstr(rep, "the inquiry index's order understates"), "%s", rep ? rep : "");
    free(rep);
    prb_close(env);
    th_rmrf(dir);
}
