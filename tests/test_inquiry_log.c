/*
 * test_inquiry_log.c - inquiries in a log and an index by subject (store
 * format 2): a register of format 1 (one table of inquiries keyed by
 * subject) is moved to it when opened, losing nothing; and the index
 * cannot be bent or emptied behind the engine's back without `verify`
 * saying so, since a subject's copy reads its inquiries through it.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
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

/* A register with inquiries: subject 1 (PERSON) asked about three times,
 * subject 2 (OTHER) once. */
static prb_env *asked(char **dir)
{
    prb_env *env = th_register(dir);
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
    MDB_dbi meta, ilog, iidx, inq;
};

static void raw_open(struct raw *r, const char *tmp)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/reg", tmp);
    cr_assert_eq(mdb_env_create(&r->e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(r->e, 32), 0);
    cr_assert_eq(mdb_env_set_mapsize(r->e, (size_t)4 << 30), 0);
    cr_assert_eq(mdb_env_open(r->e, dir, 0, 0644), 0);
    cr_assert_eq(mdb_txn_begin(r->e, NULL, 0, &r->t), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "meta", 0, &r->meta), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "ilog", 0, &r->ilog), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "iidx", 0, &r->iidx), 0);
    cr_assert_eq(mdb_dbi_open(r->t, "inq", 0, &r->inq), 0);
}

static void raw_close(struct raw *r)
{
    cr_assert_eq(mdb_txn_commit(r->t), 0);
    mdb_env_close(r->e);
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

/* Puts the inquiries back as format 1 kept them: one table, subject and
 * number -> the inquiry. */
static void to_format_1(struct raw *r)
{
    MDB_cursor *c;
    MDB_val k, v, gk, gv;
    int rc;
    cr_assert_eq(mdb_cursor_open(r->t, r->iidx, &c), 0);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        gk = (MDB_val){8, v.mv_data};
        cr_assert_eq(mdb_get(r->t, r->ilog, &gk, &gv), 0);
        cr_assert_gt(gv.mv_size, 12);
        cr_assert_eq(memcmp(gv.mv_data, k.mv_data, 12), 0, "the log names another inquiry");
        MDB_val old = {gv.mv_size - 12, (unsigned char *)gv.mv_data + 12};
        cr_assert_eq(mdb_put(r->t, r->inq, &k, &old, 0), 0);
    }
    mdb_cursor_close(c);
    cr_assert_eq(mdb_drop(r->t, r->ilog, 0), 0);
    cr_assert_eq(mdb_drop(r->t, r->iidx, 0), 0);
    uint32_t one = 1;
    MDB_val fk = {6, "format"}, fv = {4, &one};
    cr_assert_eq(mdb_put(r->t, r->meta, &fk, &fv, 0), 0);
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
    prb_verify_stats st;
    cr_assert_eq(prb_verify(env, NULL, NULL, &st), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.problems, 0);
    prb_close(env);

    raw_open(&r, dir);
    cr_assert_eq(format_of(&r), 2);
    MDB_stat ms;
    cr_assert_eq(mdb_stat(r.t, r.inq, &ms), 0);
    cr_assert_eq(ms.ms_entries, 0, "the old table still holds inquiries");
    cr_assert_eq(mdb_stat(r.t, r.ilog, &ms), 0);
    cr_assert_eq(ms.ms_entries, 5);
    raw_close(&r);
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

static void expect_verify_finds(const char *dir, const char *what)
{
    char reg[600], *rep = NULL;
    prb_env *env;
    prb_verify_stats st;
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_verify(env, collect, &rep, &st), PRB_ECORRUPT, "not found: %s", what);
    cr_assert(rep && strstr(rep, what), "expected '%s' in: %s", what, rep ? rep : "");
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
    struct raw r;
    unsigned char k[12];
    raw_open(&r, dir);
    MDB_val key = index_key(k, 2);
    cr_assert_eq(mdb_del(r.t, r.iidx, &key, NULL), 0);
    raw_close(&r);
    expect_verify_finds(dir, "decision 1-q2: the index by subject");
    th_rmrf(dir);
}

Test(inquiry_log, verify_finds_an_index_entry_bent_to_another_inquiry)
{
    char *dir;
    prb_env *env = asked(&dir);
    prb_close(env);
    struct raw r;
    unsigned char k1[12], k3[12], v[64];
    raw_open(&r, dir);
    MDB_val a = index_key(k1, 1), b = index_key(k3, 3), got;
    /* 1-q3's entry now leads to 1-q1's place in the log. */
    cr_assert_eq(mdb_get(r.t, r.iidx, &a, &got), 0);
    cr_assert_leq(got.mv_size, sizeof v);
    memcpy(v, got.mv_data, got.mv_size);
    MDB_val nv = {got.mv_size, v};
    cr_assert_eq(mdb_put(r.t, r.iidx, &b, &nv, 0), 0);
    raw_close(&r);
    expect_verify_finds(dir, "decision 1-q3: the index by subject");
    th_rmrf(dir);
}
