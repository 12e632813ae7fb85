/*
 * test_audit.c - DESIGN invariant 9: every write and inquiry is logged in
 * an RFC 9162 Merkle tree with signed heads; proofs check offline with
 * only the public key; changes made behind the engine's back (raw LMDB)
 * are found by prb_verify and named by id.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "probity.h"
#include "audit.h" /* src/lib: the write transaction's log, below the API */

TestSuite(audit);

/* A register with a small synthetic population. */
static prb_env *populated(char **dir, uint64_t persons, uint64_t companies, uint64_t seed)
{
    prb_env *env = th_register(dir);
    struct th_buf g = {0};
    prb_gen_opts o = {persons, companies, seed, prb_today(env)};
    prb_ingest_stats st;
    cr_assert_eq(prb_gen(&o, th_collect, &g), PRB_OK);
    cr_assert_eq(th_ingest(env, "gen", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_gt(st.accepted, 0);
    free(g.p);
    return env;
}

static json_t *head_of(prb_env *env)
{
    char *json;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *h = json_loads(json, 0, NULL);
    free(json);
    cr_assert(h);
    return h;
}

static uint64_t tree_size(prb_env *env)
{
    json_t *h = head_of(env);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    return n;
}

Test(audit, every_kind_of_write_grows_the_log)
{
    char *dir;
    prb_env *env = populated(&dir, 50, 10, 7);
    uint64_t n0 = tree_size(env);
    uint64_t subjects, versions;
    cr_assert_eq(prb_count(env, &subjects, &versions), PRB_OK);
    /* One leaf per record version and per identifier linked, at least. */
    cr_assert_geq(n0, versions + subjects);

    /* An inquiry is logged. */
    prb_decision *d = NULL;
    struct th_buf g = {0};
    prb_gen_opts o = {1, 0, 7, prb_today(env)};
    cr_assert_eq(prb_gen(&o, th_collect, &g), PRB_OK);
    const char *id = strstr(g.p, "cn-rid:");
    cr_assert(id);
    char ident[64];
    snprintf(ident, sizeof ident, "%.25s", id);
    cr_assert_eq(prb_decide(env, "credit", ident, "bank-a", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
    free(g.p);
    uint64_t n1 = tree_size(env);
    cr_assert_gt(n1, n0, "an inquiry was not logged");

    /* The sweep's deletions are logged, and the store still verifies. */
    prb_set_now(env, prb_now(env) + (int64_t)20 * 365 * 86400);
    uint64_t deleted = 0;
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_gt(deleted, 0);
    cr_assert_geq(tree_size(env), n1 + deleted);
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%s\n%.2000s", prb_errmsg(env),
                 rep.p ? rep.p : "");
    cr_assert_eq(st.problems, 0);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

Test(audit, inclusion_proofs_check_offline_and_tampering_fails)
{
    char *dir, key[64], msg[512];
    prb_env *env = populated(&dir, 20, 5, 3);
    uint64_t n = tree_size(env);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    for (uint64_t m = 0; m < n; m += 1 + m / 3) {
        char *json;
        cr_assert_eq(prb_audit_prove(env, m, 0, &json), PRB_OK, "%s", prb_errmsg(env));
        cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "leaf %llu: %s",
                     (unsigned long long)m, msg);
        /* A proof for another leaf index does not hold. */
        json_t *o = json_loads(json, 0, NULL);
        json_object_set_new(o, "leaf_index", json_integer((json_int_t)((m + 1) % n)));
        char *bad = json_dumps(o, 0);
        if (n > 1)
            cr_assert_neq(prb_audit_check(key, bad, msg, sizeof msg), PRB_OK);
        free(bad);
        /* Nor does one whose path was altered. */
        json_t *path = json_object_get(o, "audit_path");
        json_object_set_new(o, "leaf_index", json_integer((json_int_t)m));
        if (json_array_size(path)) {
            char *h = strdup(json_string_value(json_array_get(path, 0)));
            h[0] = h[0] == 'A' ? 'B' : 'A';
            json_array_set_new(path, 0, json_string(h));
            free(h);
            bad = json_dumps(o, 0);
            cr_assert_neq(prb_audit_check(key, bad, msg, sizeof msg), PRB_OK);
            free(bad);
        }
        json_decref(o);
        free(json);
    }
    /* A proof against an earlier size, and errors for impossible ones. */
    char *json;
    cr_assert_eq(prb_audit_prove(env, 0, 1, &json), PRB_OK);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    free(json);
    cr_assert_eq(prb_audit_prove(env, n, 0, &json), PRB_EINVAL);
    cr_assert_eq(prb_audit_prove(env, 0, n + 1, &json), PRB_EINVAL);
    prb_close(env);
    th_rmrf(dir);
}

/* A size of 0 is the log's current size (probity.h), for the bare path
 * as for the proof: prb_audit_path(env, 0, 0) said leaf 0 was not in a
 * tree of size 0. */
Test(audit, a_bare_path_of_size_0_is_of_the_current_log)
{
    char *dir;
    unsigned char now[PRB_MT_MAXPATH][32], at[PRB_MT_MAXPATH][32];
    size_t nn, na;
    prb_env *env = populated(&dir, 5, 1, 1);
    uint64_t n = tree_size(env);
    cr_assert_gt(n, 2);
    cr_assert_eq(prb_audit_path(env, 0, 0, now, &nn), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_path(env, 0, n, at, &na), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(nn, na);
    cr_assert_eq(memcmp(now, at, nn * 32), 0);
    cr_assert_eq(prb_audit_path(env, n, 0, now, &nn), PRB_EINVAL);
    prb_close(env);
    th_rmrf(dir);
}

Test(audit, a_head_signed_by_another_key_is_refused)
{
    char *dir, key[64], msg[512], *json;
    prb_env *env = populated(&dir, 5, 1, 1);
    cr_assert_eq(prb_audit_prove(env, 1, 0, &json), PRB_OK);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    unsigned char pk[32], sk[64];
    char other[64];
    cr_assert_geq(sodium_init(), 0);
    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(other, sizeof other, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    cr_assert_eq(prb_audit_check(other, json, msg, sizeof msg), PRB_EINVAL);
    cr_assert(strstr(msg, "signature"), "%s", msg);
    /* A head whose size was changed no longer matches its signature. */
    json_t *o = json_loads(json, 0, NULL);
    json_t *h = json_object_get(o, "tree_head");
    json_object_set_new(h, "tree_size",
                        json_integer(json_integer_value(json_object_get(h, "tree_size")) + 1));
    char *bad = json_dumps(o, 0);
    cr_assert_eq(prb_audit_check(key, bad, msg, sizeof msg), PRB_EINVAL);
    cr_assert_eq(prb_audit_check(key, "{", msg, sizeof msg), PRB_EINVAL);
    cr_assert_eq(prb_audit_check("not base64!", json, msg, sizeof msg), PRB_EINVAL);
    free(bad);
    json_decref(o);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

Test(audit, consistency_between_two_heads)
{
    char *dir, key[64], msg[512], *json;
    prb_env *env = populated(&dir, 10, 2, 11);
    uint64_t a = tree_size(env);
    struct th_buf g = {0};
    prb_gen_opts o = {30, 3, 12, prb_today(env)};
    prb_ingest_stats st;
    cr_assert_eq(prb_gen(&o, th_collect, &g), PRB_OK);
    /* A second population reuses some identifiers for other kinds of
     * subject; those lines are skipped, the rest grow the log. */
    cr_assert_eq(th_ingest(env, "more", g.p, PRB_FMT_NDJSON, 1, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_gt(st.accepted + st.corrected, 0);
    free(g.p);
    uint64_t b = tree_size(env);
    cr_assert_gt(b, a);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    for (uint64_t from = 1; from <= b; from += 1 + from / 2) {
        cr_assert_eq(prb_audit_consistency(env, from, b, &json), PRB_OK, "%s", prb_errmsg(env));
        cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%llu..%llu: %s",
                     (unsigned long long)from, (unsigned long long)b, msg);
        json_t *p = json_loads(json, 0, NULL);
        json_t *path = json_object_get(p, "consistency_path");
        if (json_array_size(path)) {
            json_array_remove(path, json_array_size(path) - 1);
            char *bad = json_dumps(p, 0);
            cr_assert_neq(prb_audit_check(key, bad, msg, sizeof msg), PRB_OK,
                          "a truncated proof held");
            free(bad);
        }
        json_decref(p);
        free(json);
    }
    cr_assert_eq(prb_audit_consistency(env, 0, b, &json), PRB_EINVAL);
    cr_assert_eq(prb_audit_consistency(env, b, a, &json), PRB_EINVAL);
    prb_close(env);
    th_rmrf(dir);
}

/* head (of a proof) signed again with the register's key sk at time t,
 * as a log written before leaf times were kept in order signed it. */
static void resign(json_t *head, int64_t t, const unsigned char sk[64])
{
    unsigned char m[56], root[32], sig[64];
    char tt[32], sb[128];
    size_t n;
    const char *r = json_string_value(json_object_get(head, "root_hash"));
    cr_assert_eq(
        sodium_base642bin(root, 32, r, strlen(r), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
        0);
    memcpy(m, "PRBSTH01", 8);
    prb_be64(m + 8, (uint64_t)json_integer_value(json_object_get(head, "tree_size")));
    prb_be64(m + 16, (uint64_t)t);
    memcpy(m + 24, root, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, sk);
    prb_time_format(t, tt);
    json_object_set_new(head, "timestamp", json_integer(t));
    json_object_set_new(head, "time", json_string(tt));
    json_object_set_new(
        head, "signature",
        json_string(sodium_bin2base64(sb, sizeof sb, sig, 64, sodium_base64_VARIANT_ORIGINAL)));
}

/* A head carries its last leaf's time, and a log written before
 * 2026-11-27 can have a leaf stamped before the one before it (a batch
 * that waited for the writer, a clock set back): its genuine consistency
 * proof from that leaf's tree has a second head older than its first.
 * check-proof refused it, both signatures and the path valid. */
Test(audit, a_consistency_proof_whose_second_head_is_older_holds)
{
    char *dir, key[64], msg[512], *json;
    prb_env *env = populated(&dir, 5, 1, 1);
    uint64_t n = tree_size(env);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    cr_assert_eq(prb_audit_consistency(env, 2, n, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    json_t *h1 = json_object_get(o, "first_head"), *h2 = json_object_get(o, "second_head");
    int64_t t1 = json_integer_value(json_object_get(h1, "timestamp"));
    resign(h2, t1 - 3600, env->sk);
    json = json_dumps(o, 0);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK,
                 "an older log's genuine proof was refused: %s", msg);
    free(json);
    json_decref(o);
    prb_close(env);
    th_rmrf(dir);
}

static const char *reg_of(const char *tmp)
{
    static char d[600];
    snprintf(d, sizeof d, "%s/reg", tmp);
    return d;
}

/* Raw LMDB access to the register, as an operator going around the
 * engine would have. */
static void tamper(const char *tmp, void (*fn)(MDB_txn *, MDB_dbi))
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/reg", tmp); /* where th_register puts it */
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi rec;
    cr_assert_eq(mdb_env_create(&e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(e, 32), 0);
    cr_assert_eq(mdb_env_set_mapsize(e, (size_t)4 << 30), 0);
    cr_assert_eq(mdb_env_open(e, dir, 0, 0644), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, "rec", 0, &rec), 0);
    fn(t, rec);
    cr_assert_eq(mdb_txn_commit(t), 0);
    mdb_env_close(e);
}

static char found_id[192];

static void name_key(const unsigned char *kb)
{
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | kb[i];
    snprintf(found_id, sizeof found_id, "record %llu-%llu version %u",
             (unsigned long long)(id >> 24), (unsigned long long)(id & 0xffffff),
             kb[8] << 8 | kb[9]);
}

/* The key of some record version (not a subject's own entry). */
static void a_record(MDB_txn *t, MDB_dbi rec, MDB_val *k, MDB_val *v, int nth)
{
    MDB_cursor *c;
    cr_assert_eq(mdb_cursor_open(t, rec, &c), 0);
    int rc = mdb_cursor_get(c, k, v, MDB_FIRST);
    for (; !rc; rc = mdb_cursor_get(c, k, v, MDB_NEXT)) {
        const unsigned char *kb = k->mv_data;
        uint64_t id = 0;
        for (int i = 0; i < 8; i++)
            id = id << 8 | kb[i];
        if ((id & 0xffffff) && nth-- == 0) {
            name_key(kb);
            break;
        }
    }
    cr_assert_eq(rc, 0);
    mdb_cursor_close(c);
}

static void alter(MDB_txn *t, MDB_dbi rec)
{
    MDB_val k, v;
    a_record(t, rec, &k, &v, 5);
    unsigned char *copy = malloc(v.mv_size), key[10];
    memcpy(copy, v.mv_data, v.mv_size);
    memcpy(key, k.mv_data, 10);
    copy[v.mv_size - 2] ^= 1; /* one bit of the last field */
    MDB_val nk = {10, key}, nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, rec, &nk, &nv, 0), 0);
    free(copy);
}

static void remove_one(MDB_txn *t, MDB_dbi rec)
{
    MDB_val k, v;
    a_record(t, rec, &k, &v, 9);
    unsigned char key[10];
    memcpy(key, k.mv_data, 10);
    MDB_val nk = {10, key};
    cr_assert_eq(mdb_del(t, rec, &nk, NULL), 0);
}

static void add_one(MDB_txn *t, MDB_dbi rec)
{
    MDB_val k, v;
    a_record(t, rec, &k, &v, 0);
    unsigned char *copy = malloc(v.mv_size), key[10];
    memcpy(copy, v.mv_data, v.mv_size);
    memcpy(key, k.mv_data, 10);
    key[9] = 0x77; /* a version the engine never wrote */
    name_key(key);
    MDB_val nk = {10, key}, nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, rec, &nk, &nv, 0), 0);
    free(copy);
}

static prb_env *generated(char **dir)
{
    return populated(dir, 30, 5, 5);
}

/* verify passes on the register make gives, then finds what fn does to
 * its store behind the engine's back: one finding, naming found_id. */
static void expect_finding_on(prb_env *(*make)(char **), void (*fn)(MDB_txn *, MDB_dbi),
                              const char *what)
{
    char *dir;
    prb_env *env = make(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");
    cr_assert_gt(st.records, 0);
    prb_close(env);
    tamper(dir, fn);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "tampering not detected");
    cr_assert_eq(st.problems, 1, "%.2000s", rep.p);
    cr_assert(strstr(rep.p, found_id), "finding does not name %s: %.2000s", found_id, rep.p);
    cr_assert(strstr(rep.p, what), "expected '%s' in: %.2000s", what, rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

static void expect_finding(void (*fn)(MDB_txn *, MDB_dbi), const char *what)
{
    expect_finding_on(generated, fn, what);
}

Test(audit, verify_names_a_record_altered_behind_the_engines_back)
{
    expect_finding(alter, "altered");
}

Test(audit, verify_names_a_record_removed_behind_the_engines_back)
{
    expect_finding(remove_one, "removed");
}

Test(audit, verify_names_a_record_added_behind_the_engines_back)
{
    expect_finding(add_one, "never logged");
}

static void alter_leaf(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi alog;
    MDB_val k, v;
    MDB_cursor *c;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "alog", 0, &alog), 0);
    cr_assert_eq(mdb_cursor_open(t, alog, &c), 0);
    cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
    unsigned char *copy = malloc(v.mv_size), key[8];
    memcpy(copy, v.mv_data, v.mv_size);
    memcpy(key, k.mv_data, 8);
    mdb_cursor_close(c);
    copy[48 * 3 + 20] ^= 0x80; /* the hash logged in leaf 3 */
    MDB_val nk = {8, key}, nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, alog, &nk, &nv, 0), 0);
    free(copy);
    snprintf(found_id, sizeof found_id, "audit tree");
}

Test(audit, verify_finds_a_leaf_edited_without_its_tree)
{
    char *dir;
    prb_env *env = populated(&dir, 10, 2, 9);
    prb_verify_stats st;
    struct th_buf rep = {0};
    prb_close(env);
    tamper(dir, alter_leaf);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT);
    cr_assert(strstr(rep.p, "audit tree"), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A batch of many leaves is hashed in parallel runs of 4096 leaves; the
 * tree must be the one leaf-by-leaf appends give (which verify rebuilds),
 * also when the batch starts in the middle of a run. */
Test(audit, a_large_batch_builds_the_same_tree_as_one_leaf_at_a_time)
{
    char *dir;
    prb_env *env = populated(&dir, 7, 1, 21);
    uint64_t a = tree_size(env);
    cr_assert_neq(a % 4096, 0);
    struct th_buf g = {0};
    prb_gen_opts o = {4000, 300, 22, prb_today(env)};
    prb_ingest_stats st;
    cr_assert_eq(prb_gen(&o, th_collect, &g), PRB_OK);
    cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 1, &st, NULL), PRB_OK);
    free(g.p);
    uint64_t b = tree_size(env);
    cr_assert_gt(b - a, 3 * 4096, "the batch is too small to cover whole runs: %llu",
                 (unsigned long long)(b - a));
    prb_verify_stats vs;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &vs), PRB_OK, "%.2000s", rep.p ? rep.p : "");
    cr_assert_eq(vs.leaves, b);
    /* And proofs into it check against the signed head. */
    char key[64], msg[256], *json;
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    for (uint64_t m = a; m < b; m += 997) {
        cr_assert_eq(prb_audit_prove(env, m, 0, &json), PRB_OK);
        cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
        free(json);
    }
    cr_assert_eq(prb_audit_consistency(env, a, b, &json), PRB_OK);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    free(json);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* Logs n leaves of made-up hashes, numbered from first, that ask
 * nothing of the store: idempotency entries let go (a notice leaf asks
 * for its notice in the outbox, a kept entry for its value in idem). */
static void log_leaves(prb_env *env, uint64_t first, uint64_t n)
{
    unsigned char h[PRB_HASH_LEN];
    for (uint64_t i = first; i < first + n; i++) {
        memset(h, (int)(i & 0xff), sizeof h);
        h[0] = (unsigned char)(i >> 8);
        cr_assert_eq(prb_audit_log_hash(env, PRB_LEAF_IDEM, 1, i, h), PRB_OK);
    }
}

static void commit_leaves(prb_env *env, uint64_t first, uint64_t n)
{
    MDB_txn *txn;
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    log_leaves(env, first, n);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
}

static char *root_of(prb_env *env)
{
    json_t *h = head_of(env);
    char *r = strdup(json_string_value(json_object_get(h, "root_hash")));
    json_decref(h);
    return r;
}

/* A big ingest appends its leaves before its commit, while their tree is
 * hashed; leaves logged after that must join the same tree, which is the
 * one the same leaves logged in one go give. */
Test(audit, leaves_logged_after_an_append_join_the_same_tree)
{
    char *dx, *dy;
    /* init logs the policy at the clock's time: two inits a second apart
     * would start two different trees. */
    setenv("PROBITY_NOW", TH_TODAY, 1);
    prb_env *x = populated(&dx, 5, 1, 31), *y = populated(&dy, 5, 1, 31);
    uint64_t a = tree_size(x);
    char *rx0 = root_of(x), *ry0 = root_of(y);
    cr_assert_str_eq(rx0, ry0, "the two registers should start alike");
    MDB_txn *txn;
    /* More than the prehash's threshold (16,384), so it runs. */
    cr_assert_eq(prb_wtxn_begin(x, &txn), PRB_OK);
    log_leaves(x, 0, 20000);
    cr_assert_eq(prb_audit_prehash(x, txn), PRB_OK);
    cr_assert_eq(prb_audit_append(x, txn), PRB_OK, "%s", prb_errmsg(x));
    log_leaves(x, 20000, 5);
    cr_assert_eq(prb_wtxn_commit(x, txn), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_eq(prb_wtxn_begin(y, &txn), PRB_OK);
    log_leaves(y, 0, 20005);
    cr_assert_eq(prb_wtxn_commit(y, txn), PRB_OK, "%s", prb_errmsg(y));
    cr_assert_eq(tree_size(x), a + 20005);
    cr_assert_eq(tree_size(y), a + 20005);
    char *rx = root_of(x), *ry = root_of(y);
    cr_assert_str_eq(rx, ry);
    cr_assert_str_neq(rx, rx0);
    /* And a proof of one of the last leaves checks against the head. */
    char key[64], msg[256], *json;
    cr_assert_eq(prb_audit_public_key(x, key), PRB_OK);
    cr_assert_eq(prb_audit_prove(x, a + 20003, 0, &json), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    free(json);
    free(rx0), free(ry0), free(rx), free(ry);
    prb_close(x);
    prb_close(y);
    th_rmrf(dx);
    th_rmrf(dy);
}

static void remove_key(const char *tmp)
{
    char path[700];
    snprintf(path, sizeof path, "%s/reg/audit.key", tmp);
    cr_assert_eq(unlink(path), 0, "%s: %s", path, strerror(errno));
}

static int key_exists(const char *tmp)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/reg/audit.key", tmp);
    return stat(path, &st) == 0;
}

/* A key lost (a restore of data.mdb alone) must not be replaced quietly
 * by a read: heads signed with a new key cannot be tied to those already
 * published. */
Test(audit, a_missing_signing_key_is_an_error_once_the_log_has_leaves)
{
    char *dir, key[64], *json = NULL;
    prb_env *env = populated(&dir, 5, 1, 1);
    cr_assert_gt(tree_size(env), 0);
    prb_close(env);
    remove_key(dir);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_audit_head(env, &json), PRB_ECORRUPT, "a head was signed with a new key");
    cr_assert(strstr(prb_errmsg(env), "audit.key") && strstr(prb_errmsg(env), "missing") &&
                  strstr(prb_errmsg(env), "restore"),
              "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_public_key(env, key), PRB_ECORRUPT);
    cr_assert_eq(prb_audit_prove(env, 0, 0, &json), PRB_ECORRUPT);
    cr_assert_not(key_exists(dir), "a new key was made");
    prb_close(env);
    th_rmrf(dir);
}

/* The register as one made before the log existed: no leaf, no tree,
 * no policy logged, no signing key recorded. */
static void empty_log(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi meta, alog, mtree;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_dbi_open(t, "alog", 0, &alog), 0);
    cr_assert_eq(mdb_dbi_open(t, "mtree", 0, &mtree), 0);
    cr_assert_eq(mdb_drop(t, alog, 0), 0);
    cr_assert_eq(mdb_drop(t, mtree, 0), 0);
    const char *keys[] = {"alog_size", "alog_root", "policy_sha256", "audit_public_key"};
    for (size_t i = 0; i < 4; i++) {
        MDB_val k = {strlen(keys[i]), (void *)keys[i]};
        int rc = mdb_del(t, meta, &k, NULL);
        cr_assert(!rc || rc == MDB_NOTFOUND, "%s", mdb_strerror(rc));
    }
}

/* A register whose log is still empty signed nothing yet: a key is made
 * for it (registers made before the log existed have none), before its
 * first write logs its policy. */
Test(audit, a_register_with_an_empty_log_gets_a_key)
{
    char *dir, key[64];
    prb_env *env = th_register(&dir);
    prb_close(env);
    tamper(dir, empty_log);
    remove_key(dir);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    commit_leaves(env, 0, 1);
    cr_assert(key_exists(dir));
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(tree_size(env), 2, "the policy was not logged");
    prb_close(env);
    th_rmrf(dir);
}

static int64_t head_time(json_t *head)
{
    return (int64_t)json_integer_value(json_object_get(head, "timestamp"));
}

/* A head says "the log was this tree at this time": an earlier size is
 * signed with the time of its last leaf, never with now, or anyone could
 * get a current-looking signed head that leaves out recent events. */
/* A register whose first leaf (the policy, logged by prb_init with the
 * clock of the process) is dated 2026-01-01, not today: leaf times never
 * go back, so the tests of times below need a log that starts before
 * the days they write on. */
static prb_env *register_of_new_year(char **dir)
{
    setenv("PROBITY_NOW", "2026-01-01", 1);
    prb_env *env = th_register(dir);
    unsetenv("PROBITY_NOW");
    return env;
}

Test(audit, a_head_of_an_earlier_size_carries_that_sizes_time)
{
    char *dir, key[64], msg[512], *json;
    int64_t ta, tb;
    prb_env *env = register_of_new_year(&dir);
    MDB_txn *txn;
    th_set_day(env, "2026-03-01");
    ta = prb_now(env);
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    log_leaves(env, 0, 11);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    uint64_t a = tree_size(env);
    th_set_day(env, "2026-09-01");
    tb = prb_now(env);
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    log_leaves(env, 11, 7);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    uint64_t b = tree_size(env);
    cr_assert_gt(b, a);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);

    cr_assert_eq(prb_audit_prove_hash(env, 0, a, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    cr_assert_eq(head_time(json_object_get(o, "tree_head")), ta,
                 "the head of size %llu is signed at %lld, not at its last leaf's time %lld",
                 (unsigned long long)a, (long long)head_time(json_object_get(o, "tree_head")),
                 (long long)ta);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    json_decref(o);
    free(json);

    cr_assert_eq(prb_audit_consistency(env, a, b, &json), PRB_OK, "%s", prb_errmsg(env));
    o = json_loads(json, 0, NULL);
    cr_assert_eq(head_time(json_object_get(o, "first_head")), ta);
    cr_assert_eq(head_time(json_object_get(o, "second_head")), tb);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    json_decref(o);
    free(json);

    /* The current size is signed with its last leaf's time too: the
     * clock moving on changes nothing, the same head is given again. */
    json_t *h = head_of(env);
    th_set_day(env, "2026-10-01");
    json_t *h2 = head_of(env);
    cr_assert_eq(head_time(h2), tb);
    cr_assert(json_equal(h, h2));
    json_decref(h);
    json_decref(h2);
    prb_close(env);
    th_rmrf(dir);
}

/* RFC 6962 3.5: a later head has a later time. A write whose clock is
 * behind the log's last leaf (a furnisher's batch that waited for LMDB's
 * one writer while others committed) has its leaves stamped with that
 * leaf's time, so no larger tree is signed with an earlier time. Before,
 * the current head was signed with now (2026-10-01 below) and the batch
 * committed after it gave the larger tree 2026-08-01: two heads of the
 * log contradicting each other. */
Test(audit, head_times_never_go_back)
{
    char *dir, key[64], msg[512], *json;
    prb_env *env = register_of_new_year(&dir);
    MDB_txn *txn;
    th_set_day(env, "2026-09-01");
    int64_t t = prb_now(env);
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    log_leaves(env, 0, 5);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    uint64_t a = tree_size(env);
    /* A head read later. */
    th_set_day(env, "2026-10-01");
    json_t *h = head_of(env);
    int64_t ha = head_time(h);
    json_decref(h);
    cr_assert_eq(ha, t);
    /* The batch that waited, stamped as of before the last leaf. */
    th_set_day(env, "2026-08-01");
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    log_leaves(env, 5, 3);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    uint64_t b = tree_size(env);
    cr_assert_eq(b, a + 3);
    cr_assert_eq(prb_audit_consistency(env, a, b, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    cr_assert_eq(head_time(json_object_get(o, "first_head")), ha);
    cr_assert_geq(head_time(json_object_get(o, "second_head")), ha,
                  "the tree of %llu leaves is signed at %lld, before that of %llu at %lld",
                  (unsigned long long)b, (long long)head_time(json_object_get(o, "second_head")),
                  (unsigned long long)a, (long long)ha);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    json_decref(o);
    free(json);
    /* The leaf itself says so. */
    cr_assert_eq(prb_audit_prove(env, b - 1, b, &json), PRB_OK, "%s", prb_errmsg(env));
    o = json_loads(json, 0, NULL);
    free(json);
    const char *when = json_string_value(json_object_get(json_object_get(o, "event"), "time"));
    cr_assert(when && !strncmp(when, "2026-09-01", 10), "%s", when ? when : "(none)");
    json_decref(o);
    prb_close(env);
    th_rmrf(dir);
}

static void save(const char *tmp, const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* Leaf 18: among the last size % 8 leaves of a log of 19, whose hashes
 * the tree does not store, so the root of 19 is made from it again. */
static void alter_leaf_18(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi alog;
    MDB_val k = {8, (unsigned char[8]){0}}, v;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "alog", 0, &alog), 0);
    cr_assert_eq(mdb_get(t, alog, &k, &v), 0);
    cr_assert_geq(v.mv_size, 19 * 48);
    unsigned char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[48 * 18 + 20] ^= 0x80; /* the hash logged in leaf 18 */
    MDB_val nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, alog, &k, &nv, 0), 0);
    free(copy);
}

/* A register that rewrote history signs the rewritten root too, so a
 * consistency proof between two of its fresh heads holds; only a head
 * saved before (check-proof --head) shows the rewrite. */
Test(audit, check_proof_with_a_held_head_sees_history_rewritten)
{
    char *dir, key[64], msg[512], *json;
    struct th_run r;
    prb_env *env = th_register(&dir);
    cr_assert_eq(tree_size(env), 1); /* the policy */
    commit_leaves(env, 1, 18);
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    save(dir, "held.json", json);
    char *held = json;
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    save(dir, "key.txt", key);
    /* An honest log: the proof from the held head agrees with it. */
    commit_leaves(env, 19, 3);
    cr_assert_eq(prb_audit_consistency(env, 19, 22, &json), PRB_OK, "%s", prb_errmsg(env));
    save(dir, "honest.json", json);
    free(json);
    th_cli(&r, dir, NULL, NULL, "audit check-proof --key @key.txt --head held.json honest.json");
    cr_assert_neq(r.status, -2, "%s", r.err);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "ok:") && strstr(r.out, "you hold"), "%s", r.out);
    /* A proof from another size cannot be compared with the held head. */
    cr_assert_eq(prb_audit_consistency(env, 20, 22, &json), PRB_OK);
    cr_assert_eq(prb_audit_check_held(key, json, held, msg, sizeof msg), PRB_EINVAL);
    cr_assert(strstr(msg, "--from 19"), "%s", msg);
    free(json);
    /* With a head held, a proof of no known type, or one missing its
     * path, held: the held head's check had left the answer "ok" (found
     * by fuzz_proof), and the command exited 0 for them. */
    static const char *const junk[] = {"{\"type\": \"consistent\"}", "{}", "[]",
                                       "{\"type\": \"consistency\"}"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        cr_assert_eq(prb_audit_check_held(key, junk[i], held, msg, sizeof msg), PRB_EINVAL,
                     "%s held: %s", junk[i], msg);
        cr_assert(strncmp(msg, "ok:", 3), "%s", msg);
    }
    save(dir, "junk.json", junk[0]);
    th_cli(&r, dir, NULL, NULL, "audit check-proof --key @key.txt --head held.json junk.json");
    cr_assert_eq(r.status, 10, "%s %s", r.out, r.err);
    prb_close(env);

    /* Leaf 18 rewritten behind the engine, and the log goes on. */
    tamper(dir, alter_leaf_18);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    prb_set_now(env, 1795000000);
    commit_leaves(env, 22, 5);
    cr_assert_eq(prb_audit_consistency(env, 19, 27, &json), PRB_OK, "%s", prb_errmsg(env));
    save(dir, "proof.json", json);
    /* Without the held head the check says ok: both heads are fresh. */
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    free(json);
    th_cli(&r, dir, NULL, NULL, "audit check-proof --key @key.txt --head held.json proof.json");
    cr_assert_eq(r.status, 10, "a rewritten history did not exit 10: %s", r.out);
    cr_assert(strstr(r.err, "size 19 is not the one you hold: history was rewritten") &&
                  strstr(r.err, "two different roots"),
              "%s", r.err);
    /* An inclusion proof at the held size shows it too. */
    cr_assert_eq(prb_audit_prove(env, 3, 19, &json), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    cr_assert_eq(prb_audit_check_held(key, json, held, msg, sizeof msg), PRB_EINVAL);
    cr_assert(strstr(msg, "history was rewritten"), "%s", msg);
    free(json);
    /* A held head signed with another key is refused. */
    unsigned char pk[32], sk[64];
    char other[64];
    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(other, sizeof other, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    cr_assert_eq(prb_audit_check_held(other, "{}", held, msg, sizeof msg), PRB_EINVAL);
    cr_assert(strstr(msg, "another key"), "%s", msg);
    free(held);
    prb_close(env);
    th_rmrf(dir);
}

/* proof with field (of the head named head, or of the proof when NULL)
 * set to value (removed when NULL) must be refused, with a message that
 * contains says. */
static void forged_is_refused(const char *key, const char *proof, const char *head,
                              const char *field, json_t *value, const char *says)
{
    char msg[512];
    json_t *o = json_loads(proof, 0, NULL);
    cr_assert_not_null(o);
    json_t *at = head ? json_object_get(o, head) : o;
    if (value)
        json_object_set_new(at, field, value);
    else
        json_object_del(at, field);
    char *bad = json_dumps(o, 0);
    cr_assert_eq(prb_audit_check(key, bad, msg, sizeof msg), PRB_EINVAL, "%s forged, yet: %s",
                 field, msg);
    cr_assert(strstr(msg, says), "%s: %s", field, msg);
    free(bad);
    json_decref(o);
}

/* What no signature covers in a proof (the event a leaf logs, a head's
 * time string and public_key, a consistency proof's sizes) must agree
 * with what is signed: check-proof said ok to a proof whose event said
 * another act about another subject, and an auditor reads event to learn
 * what a leaf logged. The ok line says what the checked leaf logs. */
Test(audit, check_proof_refuses_unsigned_fields_that_disagree)
{
    char *dir, key[64], other[64], msg[512], *json, *pub, *cons;
    struct th_run r;
    prb_env *env = populated(&dir, 5, 1, 1);
    uint64_t n = tree_size(env);
    cr_assert_eq(prb_audit_public_key(env, key), PRB_OK);
    save(dir, "key.txt", key);
    cr_assert_eq(prb_audit_prove(env, 3, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_prove_hash(env, 3, 0, &pub), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_consistency(env, 2, n, &cons), PRB_OK, "%s", prb_errmsg(env));

    /* The genuine proof holds and the ok line decodes its leaf. */
    json_t *o = json_loads(json, 0, NULL), *ev = json_object_get(o, "event");
    cr_assert_eq(prb_audit_check(key, json, msg, sizeof msg), PRB_OK, "%s", msg);
    cr_assert(strstr(msg, "it logs ") &&
                  strstr(msg, json_string_value(json_object_get(ev, "kind"))) &&
                  strstr(msg, json_string_value(json_object_get(ev, "object"))) &&
                  strstr(msg, json_string_value(json_object_get(ev, "value_sha256"))),
              "%s", msg);
    cr_assert_eq(prb_audit_check(key, pub, msg, sizeof msg), PRB_OK, "%s", msg);
    cr_assert(strstr(msg, "hash only"), "%s", msg);
    cr_assert_eq(prb_audit_check(key, cons, msg, sizeof msg), PRB_OK, "%s", msg);

    /* Another act about another subject, and an event without its leaf. */
    json_t *lie = json_deep_copy(ev);
    json_object_set_new(lie, "kind", json_string("delete"));
    json_object_set_new(lie, "object", json_string("999-1"));
    forged_is_refused(key, json, NULL, "event", lie, "event is not what leaf logs");
    forged_is_refused(key, json, NULL, "leaf", NULL, "event is given without leaf");
    forged_is_refused(key, pub, NULL, "event", json_deep_copy(ev), "event is given without leaf");
    /* The heads' unsigned fields. */
    forged_is_refused(key, json, "tree_head", "time", json_string("2020-01-01T00:00:00Z"),
                      "tree_head: time \"2020-01-01T00:00:00Z\" is not the signed timestamp");
    forged_is_refused(key, json, "tree_head", "public_key", json_string("AAAA"),
                      "tree_head: public_key is not the key");
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(other, sizeof other, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    forged_is_refused(key, json, "tree_head", "public_key", json_string(other),
                      "tree_head: public_key is not the key");
    forged_is_refused(key, json, "tree_head", "algorithm", json_string("rsa"),
                      "tree_head: algorithm");
    forged_is_refused(key, json, NULL, "tree_size", json_integer((json_int_t)n + 1),
                      "tree_size is not the size its head signs");
    forged_is_refused(key, cons, NULL, "first", json_integer(1), "first is not the size");
    forged_is_refused(key, cons, NULL, "second", json_integer(245), "second is not the size");
    forged_is_refused(key, cons, "first_head", "time", json_string("2020-01-01T00:00:00Z"),
                      "first_head: time");
    forged_is_refused(key, cons, "second_head", "public_key", json_string("AAAA"),
                      "second_head: public_key");

    /* check-proof exits 10 for the forged event, 0 for the genuine proof. */
    json_object_set_new(ev, "object", json_string("999-1"));
    char *bad = json_dumps(o, 0);
    save(dir, "proof.json", json);
    save(dir, "forged.json", bad);
    th_cli(&r, dir, NULL, NULL, "audit check-proof --key @key.txt forged.json");
    cr_assert_neq(r.status, -2, "%s", r.err);
    cr_assert_eq(r.status, 10, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, "event is not what leaf logs"), "%s", r.err);
    th_cli(&r, dir, NULL, NULL, "audit check-proof --key @key.txt proof.json");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "it logs "), "%s", r.out);
    free(bad);
    json_decref(o);
    free(json);
    free(pub);
    free(cons);
    prb_close(env);
    th_rmrf(dir);
}

/* The last leaf's time, changed behind the engine: 19 leaves, so the
 * tree stores no hash covering leaf 18. */
static void alter_last_time(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi alog;
    MDB_val k = {8, (unsigned char[8]){0}}, v;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "alog", 0, &alog), 0);
    cr_assert_eq(mdb_get(t, alog, &k, &v), 0);
    cr_assert_eq(v.mv_size, 19 * 48);
    unsigned char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[48 * 18 + 7] ^= 1; /* the low byte of leaf 18's time */
    MDB_val nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, alog, &k, &nv, 0), 0);
    free(copy);
}

Test(audit, verify_finds_an_edit_of_the_last_leaves_the_tree_does_not_cover)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    commit_leaves(env, 1, 11); /* after the policy's leaf */
    commit_leaves(env, 12, 7);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");
    prb_close(env);
    tamper(dir, alter_last_time);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT,
                 "an edit of the last leaf was not seen");
    cr_assert(strstr(rep.p, "root of the tree of 19 leaves"), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* The same edit, with the root each commit keeps removed first: verify
 * took a log without one for a log of a build that kept none. */
static void alter_last_time_rootless(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi meta;
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_del(t, meta, &(MDB_val){9, "alog_root"}, NULL), 0);
    alter_last_time(t, rec);
}

Test(audit, verify_finds_the_root_removed_from_a_log_that_logs_its_policy)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    commit_leaves(env, 1, 11);
    commit_leaves(env, 12, 7);
    prb_close(env);
    tamper(dir, alter_last_time_rootless);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT,
                 "the root removed and the last leaf edited were not seen");
    cr_assert(strstr(rep.p, "audit log: no root is kept, though leaf 0 logged the policy"),
              "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A register with one record under a dispute and one reviewer key. */
static prb_env *with_dispute_and_key(char **dir)
{
    prb_env *env = th_register(dir);
    prb_ingest_stats st;
    char line[1024], tok[PRB_TOKEN_MAX];
    prb_key spec, made;
    cr_assert_eq(th_ingest(env, "t",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_dispute_open(env, "cn-rid:11010519491231002X", "1-1", "Not mine.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    memset(&spec, 0, sizeof spec);
    spec.role = PRB_ROLE_REVIEWER;
    snprintf(spec.name, sizeof spec.name, "rita");
    cr_assert_eq(prb_key_create(env, &spec, tok, &made), PRB_OK, "%s", prb_errmsg(env));
    return env;
}

/* The first value of table name, copied (free it), and its key. */
static unsigned char *first_of(MDB_txn *t, const char *name, MDB_dbi *dbi, MDB_val *k, MDB_val *v)
{
    MDB_cursor *c;
    cr_assert_eq(mdb_dbi_open(t, name, 0, dbi), 0);
    cr_assert_eq(mdb_cursor_open(t, *dbi, &c), 0);
    cr_assert_eq(mdb_cursor_get(c, k, v, MDB_FIRST), 0);
    mdb_cursor_close(c);
    unsigned char *copy = malloc(v->mv_size + 16);
    memcpy(copy, v->mv_data, v->mv_size);
    return copy;
}

/* An open dispute turned upheld behind the engine's back: its record
 * would be used again. */
static void uphold(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi dsp;
    MDB_val k, v;
    unsigned char key[8];
    (void)rec;
    unsigned char *copy = first_of(t, "dsp", &dsp, &k, &v);
    memcpy(key, k.mv_data, 8);
    char *st = memmem(copy, v.mv_size, "\"open\"", 6);
    cr_assert_not_null(st, "%.*s", (int)v.mv_size, copy);
    memcpy(st, "\"done\"", 6);
    snprintf(found_id, sizeof found_id, "dispute %llu", (unsigned long long)prb_get_be64(key));
    MDB_val nk = {8, key}, nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, dsp, &nk, &nv, 0), 0);
    free(copy);
}

/* A key added behind the engine's back: a copy of one under a new hash. */
static void add_key(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi keys;
    MDB_val k, v;
    unsigned char hash[PRB_HASH_LEN];
    (void)rec;
    unsigned char *copy = first_of(t, "keys", &keys, &k, &v);
    memcpy(hash, k.mv_data, PRB_HASH_LEN);
    hash[0] ^= 0x5a;
    snprintf(found_id, sizeof found_id, "key %016llx", (unsigned long long)prb_get_be64(hash));
    MDB_val nk = {PRB_HASH_LEN, hash}, nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(t, keys, &nk, &nv, 0), 0);
    free(copy);
}

/* verify compared only records and inquiries with the log: a dispute
 * turned upheld in raw LMDB (its record usable again, invariant 5), or an
 * admin key added so, passed. */
Test(audit, verify_names_a_dispute_altered_behind_the_engines_back)
{
    expect_finding_on(with_dispute_and_key, uphold, "altered");
}

Test(audit, verify_names_a_key_added_behind_the_engines_back)
{
    expect_finding_on(with_dispute_and_key, add_key, "never logged");
}

/* A register with every kind of logged state verify compares: records,
 * identifiers, subjects, list entries, notices and an imported
 * scorecard. */
static prb_env *with_everything(char **dir)
{
    prb_env *env = populated(dir, 40, 40, 11);
    char path[700];
    th_path(path, sizeof path, "tests/data/tenancy_check.pmml");
    cr_assert_eq(prb_scorecard_import(env, "tenancy_pmml", path), PRB_OK, "%s", prb_errmsg(env));
    return env;
}

/* verify passes on the register make gives, then, after fn's edit behind
 * the engine's back, fails with a finding that holds found_id (there may
 * be more than one: an edit can break two things the log says). */
static void expect_named_on(prb_env *(*make)(char **), void (*fn)(MDB_txn *, MDB_dbi))
{
    char *dir;
    prb_env *env = make(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");
    prb_close(env);
    found_id[0] = 0;
    tamper(dir, fn);
    cr_assert(found_id[0]);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "tampering not detected");
    cr_assert(strstr(rep.p, found_id), "finding does not name '%s': %.2000s", found_id, rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* An identifier pointed at another subject: `probity subject` gives that
 * subject's file for it, and decisions use its records. */
static void retarget_ident(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi ident;
    MDB_val k, v;
    MDB_cursor *c;
    unsigned char key[256], other[8];
    (void)rec;
    unsigned char *first = first_of(t, "ident", &ident, &k, &v);
    size_t kn = k.mv_size;
    memcpy(key, k.mv_data, kn);
    cr_assert_eq(mdb_cursor_open(t, ident, &c), 0);
    int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (!rc && !memcmp(v.mv_data, first, 8))
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    cr_assert_eq(rc, 0, "no second subject");
    memcpy(other, v.mv_data, 8);
    mdb_cursor_close(c);
    snprintf(found_id, sizeof found_id, "identifier %.*s: names subject %llu", (int)kn - 8,
             (char *)key + 8, (unsigned long long)prb_get_be64(other));
    MDB_val nk = {kn, key}, nv = {8, other};
    cr_assert_eq(mdb_put(t, ident, &nk, &nv, 0), 0);
    free(first);
}

Test(audit, verify_names_an_identifier_moved_to_another_subject)
{
    expect_named_on(with_everything, retarget_ident);
}

/* Subject 1's own entry (record number 0) in rec, copied, and its key. */
static unsigned char *subject_one(MDB_txn *t, MDB_dbi rec, unsigned char key[10], size_t *n)
{
    MDB_val v;
    prb_reckey(key, (uint64_t)1 << PRB_RSEQ_BITS, 0);
    cr_assert_eq(mdb_get(t, rec, &(MDB_val){10, key}, &v), 0);
    unsigned char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    *n = v.mv_size;
    return copy;
}

/* Subject 1 made the other kind behind the engine's back. */
static void flip_kind(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[10];
    size_t n;
    unsigned char *v = subject_one(t, rec, key, &n);
    cr_assert(v[1] == PRB_PERSON || v[1] == PRB_COMPANY);
    v[1] = v[1] == PRB_PERSON ? PRB_COMPANY : PRB_PERSON;
    snprintf(found_id, sizeof found_id, "subject 1: stored as a %s",
             v[1] == PRB_PERSON ? "person" : "company");
    cr_assert_eq(mdb_put(t, rec, &(MDB_val){10, key}, &(MDB_val){n, v}, 0), 0);
    free(v);
}

/* Subject 1's record counter set back: its next record would overwrite
 * its first. */
static void lower_counter(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[10];
    size_t n;
    unsigned char *v = subject_one(t, rec, key, &n);
    prb_put_le32(v + 4, 1);
    snprintf(found_id, sizeof found_id, "subject 1: its next record number is 1");
    cr_assert_eq(mdb_put(t, rec, &(MDB_val){10, key}, &(MDB_val){n, v}, 0), 0);
    free(v);
}

Test(audit, verify_names_a_subject_entry_altered_behind_the_engines_back)
{
    expect_named_on(with_everything, flip_kind);
    expect_named_on(with_everything, lower_counter);
}

/* The first list entry deleted: a listing withdrawn by hand. */
static void drop_list_entry(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi lst;
    MDB_val k, v;
    (void)rec;
    free(first_of(t, "lst", &lst, &k, &v));
    snprintf(found_id, sizeof found_id, "subject %llu: the list entry logged at leaf",
             (unsigned long long)prb_get_be64(k.mv_data));
    cr_assert_eq(mdb_del(t, lst, &k, NULL), 0);
}

/* The first list entry given an end day (its byte 16..19) it never had. */
static void end_list_entry(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi lst;
    MDB_val k, v;
    unsigned char key[128];
    (void)rec;
    unsigned char *copy = first_of(t, "lst", &lst, &k, &v);
    memcpy(key, k.mv_data, k.mv_size);
    memcpy(copy + 16, copy + 4, 4); /* ended = since */
    snprintf(found_id, sizeof found_id, "list entry of subject %llu on %.63s since",
             (unsigned long long)prb_get_be64(key), (char *)key + 8);
    cr_assert_eq(mdb_put(t, lst, &(MDB_val){k.mv_size, key}, &(MDB_val){v.mv_size, copy}, 0), 0);
    free(copy);
}

Test(audit, verify_names_a_list_entry_removed_or_altered_behind_the_engines_back)
{
    expect_named_on(with_everything, drop_list_entry);
    expect_named_on(with_everything, end_list_entry);
}

/* Subject 1's entry on debtor_register since day since (ended ended,
 * end end) as lst keys and holds it, key and value one after the other
 * in kv, as a LIST leaf logs them; *kn is the key's length. */
static size_t list_entry(unsigned char *kv, size_t *kn, int32_t since, int end, int32_t ended)
{
    static const char list[] = "debtor_register", ground[] = "unpaid_judgment";
    size_t n = sizeof list + 12;
    prb_be64(kv, 1);
    memcpy(kv + 8, list, sizeof list);
    uint32_t day = (uint32_t)since ^ 0x80000000u; /* sortable, as lists.c keys it */
    for (int i = 0; i < 4; i++)
        kv[n - 4 + i] = (unsigned char)(day >> (24 - 8 * i));
    unsigned char *v = kv + n;
    memset(v, 0, 20);
    v[0] = 1;
    v[1] = (unsigned char)end;
    prb_put_le32(v + 4, since);
    prb_put_le32(v + 8, since + 30);
    prb_put_le32(v + 12, since + 1000);
    prb_put_le32(v + 16, ended);
    memcpy(v + 20, ground, sizeof ground);
    *kn = n;
    return n + 20 + sizeof ground;
}

/* A log of before list entries were tagged (aux 0): its leaves are
 * still taken to their entries through the states the engine wrote an
 * entry in (made, then lifted), and one that no stored entry's states
 * give is still an entry removed. */
Test(audit, verify_takes_untagged_list_leaves_to_their_entries)
{
    char *dir;
    prb_env *env = th_register(&dir);
    unsigned char kv[128];
    size_t kn, n = list_entry(kv, &kn, 20000, 0, PRB_NO_DATE);
    MDB_txn *txn;
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    cr_assert_eq(prb_audit_log(env, PRB_LEAF_LIST, 0, 1, kv, n), PRB_OK);
    n = list_entry(kv, &kn, 20000, 1, 20100); /* lifted */
    cr_assert_eq(prb_audit_log(env, PRB_LEAF_LIST, 0, 1, kv, n), PRB_OK);
    MDB_val k = {kn, kv}, v = {n - kn, kv + kn};
    cr_assert_eq(mdb_put(txn, env->lst, &k, &v, 0), 0);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");

    /* Logged lifted on another day than the stored entry's. */
    n = list_entry(kv, &kn, 20000, 1, 20200);
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    cr_assert_eq(prb_audit_log(env, PRB_LEAF_LIST, 0, 1, kv, n), PRB_OK);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT);
    cr_assert(strstr(rep.p, "subject 1: the list entry logged at leaf"), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* Logs subject 1's entry since since with tag, in state end/ended, and
 * stores it if store. */
static void tagged(prb_env *env, int32_t since, unsigned tag, int end, int32_t ended, int store)
{
    unsigned char kv[128];
    size_t kn, n = list_entry(kv, &kn, since, end, ended);
    MDB_txn *txn;
    MDB_val k = {kn, kv}, v = {n - kn, kv + kn};
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    cr_assert_eq(prb_audit_log(env, PRB_LEAF_LIST, tag, 1, kv, n), PRB_OK);
    if (store)
        cr_assert_eq(mdb_put(txn, env->lst, &k, &v, 0), 0);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
}

/* Two entries of one subject whose tags are the same: their leaves are
 * one group, whose last must be one of theirs and which must hold each
 * as stored; an entry not as logged is still named. */
Test(audit, verify_tells_two_list_entries_sharing_a_tag_apart)
{
    char *dir;
    prb_env *env = th_register(&dir);
    unsigned char kv[128];
    size_t kn;
    int32_t a = 20000, b = a + 1;
    list_entry(kv, &kn, a, 0, PRB_NO_DATE);
    unsigned tag = prb_lists_leaf_tag(kv, kn);
    for (;; b++) {
        list_entry(kv, &kn, b, 0, PRB_NO_DATE);
        if (prb_lists_leaf_tag(kv, kn) == tag)
            break;
    }
    prb_verify_stats st;
    struct th_buf rep = {0};
    tagged(env, a, tag, 0, PRB_NO_DATE, 1);
    tagged(env, b, tag, 0, PRB_NO_DATE, 1);
    tagged(env, a, tag, 1, a + 50, 1); /* a lifted, after b was made */
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");

    /* b stored lifted, which no leaf logged. */
    unsigned char kb[128];
    size_t n = list_entry(kb, &kn, b, 1, b + 10);
    MDB_txn *txn;
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK);
    cr_assert_eq(mdb_put(txn, env->lst, &(MDB_val){kn, kb}, &(MDB_val){n - kn, kb + kn}, 0), 0);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT);
    cr_assert_eq(st.problems, 1, "%.2000s", rep.p);
    char day[11], want[128];
    prb_date_format(b, day);
    snprintf(want, sizeof want, "on debtor_register since %s: altered", day);
    cr_assert(strstr(rep.p, want), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A point of the imported scorecard changed in meta. */
static void alter_scorecard(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi meta;
    MDB_val k = {22, "scorecard:tenancy_pmml"}, v;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_get(t, meta, &k, &v), 0);
    char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    char *p = memmem(copy, v.mv_size, "partialScore=\"40\"", 17);
    cr_assert_not_null(p);
    p[14] = '9';
    snprintf(found_id, sizeof found_id, "scorecard tenancy_pmml: not what any leaf logged");
    cr_assert_eq(mdb_put(t, meta, &k, &(MDB_val){v.mv_size, copy}, 0), 0);
    free(copy);
}

Test(audit, verify_names_an_imported_scorecard_altered_behind_the_engines_back)
{
    expect_named_on(with_everything, alter_scorecard);
}

/* The newest notice removed from the outbox: its subject's copy loses it,
 * and the outbox's end moves back with it. */
static void drop_last_notice(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi outbox;
    MDB_val k, v;
    MDB_cursor *c;
    unsigned char key[8];
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "outbox", 0, &outbox), 0);
    cr_assert_eq(mdb_cursor_open(t, outbox, &c), 0);
    cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
    memcpy(key, k.mv_data, 8);
    mdb_cursor_close(c);
    snprintf(found_id, sizeof found_id, "notice %llu: logged at leaf",
             (unsigned long long)prb_get_be64(key));
    cr_assert_eq(mdb_del(t, outbox, &(MDB_val){8, key}, NULL), 0);
}

/* The first notice filed under another subject. */
static void refile_notice(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi outbox;
    MDB_val k, v;
    unsigned char key[8];
    (void)rec;
    unsigned char *copy = first_of(t, "outbox", &outbox, &k, &v);
    memcpy(key, k.mv_data, 8);
    prb_be64(copy, prb_get_be64(copy) + 1);
    snprintf(found_id, sizeof found_id, "notice %llu: filed under subject",
             (unsigned long long)prb_get_be64(key));
    cr_assert_eq(mdb_put(t, outbox, &(MDB_val){8, key}, &(MDB_val){v.mv_size, copy}, 0), 0);
    free(copy);
}

Test(audit, verify_names_a_notice_removed_or_refiled_behind_the_engines_back)
{
    expect_named_on(with_everything, drop_last_notice);
    expect_named_on(with_everything, refile_notice);
}

/* The whole file at path (free it), its length in *n. */
static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    cr_assert_geq(len, 0);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    buf[len] = 0;
    *n = (size_t)len;
    return buf;
}

/* policy.json with its dispute deadline changed by hand (30 -> 90 days). */
static void edit_policy(const char *tmp)
{
    char path[700];
    snprintf(path, sizeof path, "%s/reg/policy.json", tmp);
    size_t n;
    char *text = read_all(path, &n);
    char *p = strstr(text, "\"dispute_deadline_days\": 30");
    cr_assert_not_null(p);
    p[strlen("\"dispute_deadline_days\": ")] = '9';
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, n, f), n);
    fclose(f);
    free(text);
}

/* The kind of the log's last leaf, as the operator's proof shows it. */
static char *last_kind(prb_env *env)
{
    static char kind[32];
    char *json;
    uint64_t n = tree_size(env);
    cr_assert_eq(prb_audit_prove(env, n - 1, n, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *p = json_loads(json, 0, NULL);
    free(json);
    cr_assert_not_null(p);
    snprintf(kind, sizeof kind, "%s",
             json_string_value(json_object_get(json_object_get(p, "event"), "kind")));
    json_decref(p);
    return kind;
}

/* One record ingested through env, under reference ref. */
static void ingest_one(prb_env *env, const char *ref)
{
    char line[1024];
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "t",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", ref),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
}

/* Leaf i's kind and value hash, read from the store. */
static int leaf_at(prb_env *env, uint64_t i, unsigned char hash[PRB_HASH_LEN])
{
    MDB_txn *t;
    const unsigned char *l;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t), 0);
    prb_tree_reader r = {.env = env, .txn = t};
    cr_assert_eq(prb_leaf_read(&r, i, &l), PRB_OK, "%s", prb_errmsg(env));
    int kind = l[1];
    memcpy(hash, l + 16, PRB_HASH_LEN);
    mdb_txn_abort(t);
    return kind;
}

/* The SHA-256 of the register's policy.json as it is now. */
static void policy_file_hash(const char *tmp, unsigned char h[PRB_HASH_LEN])
{
    char path[700];
    size_t n;
    snprintf(path, sizeof path, "%s/reg/policy.json", tmp);
    char *text = read_all(path, &n);
    crypto_hash_sha256(h, (const unsigned char *)text, n);
    free(text);
}

/* Leaf at is a policy leaf of hash h, and the leaves after it up to end
 * are the writes made under it: at least one, no policy among them. */
static void writes_under(prb_env *env, uint64_t at, uint64_t end, const unsigned char *h)
{
    unsigned char lh[PRB_HASH_LEN];
    cr_assert_eq(leaf_at(env, at, lh), PRB_LEAF_POLICY, "leaf %llu is not a policy",
                 (unsigned long long)at);
    cr_assert_arr_eq(lh, h, PRB_HASH_LEN, "leaf %llu logs another policy", (unsigned long long)at);
    cr_assert_gt(end, at + 1, "no write after the policy leaf %llu", (unsigned long long)at);
    for (uint64_t i = at + 1; i < end; i++)
        cr_assert_neq(leaf_at(env, i, lh), PRB_LEAF_POLICY, "leaf %llu", (unsigned long long)i);
}

/* The policy was outside the log: policy.json edited by hand changed
 * notice periods, retention and purposes without a trace. Now the next
 * write logs it first (an open that only reads writes nothing), and
 * verify holds the file to the last policy logged. */
Test(audit, a_policy_edited_by_hand_is_logged_before_the_next_write)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    uint64_t n0 = tree_size(env);
    cr_assert_str_eq(last_kind(env), "policy");
    prb_close(env);
    /* A write with the same policy logs no policy. */
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, TH_TODAY);
    ingest_one(env, "A-1");
    uint64_t n1 = tree_size(env);
    unsigned char h[PRB_HASH_LEN];
    for (uint64_t i = n0; i < n1; i++)
        cr_assert_neq(leaf_at(env, i, h), PRB_LEAF_POLICY, "leaf %llu", (unsigned long long)i);
    prb_close(env);
    edit_policy(dir);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, TH_TODAY);
    cr_assert_eq(tree_size(env), n1, "an open logged");
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "%.2000s",
                 rep.p ? rep.p : "");
    cr_assert(strstr(rep.p, "the policy changed since it was last logged"), "%.2000s", rep.p);
    free(rep.p);
    rep = (struct th_buf){0};
    policy_file_hash(dir, h);
    ingest_one(env, "A-2");
    writes_under(env, n1, tree_size(env), h);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_OK, "%.2000s", rep.p ? rep.p : "");
    prb_close(env);
    th_rmrf(dir);
}

/* A server runs with policy W; policy.json is edited to X and a command
 * opened under X writes. The server's writes after it are still made
 * under W: the log must say so before them, whichever opened last. */
Test(audit, each_write_is_logged_after_the_policy_it_was_made_under)
{
    char *dir;
    unsigned char w[PRB_HASH_LEN], x[PRB_HASH_LEN];
    prb_env *a = th_register(&dir); /* under W */
    policy_file_hash(dir, w);
    uint64_t n0 = tree_size(a);
    edit_policy(dir);
    policy_file_hash(dir, x);
    /* B, a process of its own as a command would be (LMDB wants one
     * environment per file in a process). */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prb_env *b;
        char line[1024];
        prb_ingest_stats st;
        if (prb_open(reg_of(dir), &b))
            _exit(2);
        th_set_day(b, TH_TODAY);
        if (th_ingest(b, "t", th_account(line, sizeof line, "cn-rid:11010519491231002X", "B-1"),
                      PRB_FMT_NDJSON, 0, &st, NULL))
            _exit(3);
        prb_close(b);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B failed: %d", status);
    uint64_t n1 = tree_size(a);
    ingest_one(a, "A-1");
    uint64_t n2 = tree_size(a);
    writes_under(a, n0, n1, x);
    writes_under(a, n1, n2, w);
    MDB_txn *t;
    MDB_val k = {13, "policy_sha256"}, v;
    cr_assert_eq(mdb_txn_begin(a->mdb, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_get(t, a->meta, &k, &v), 0);
    cr_assert_eq(v.mv_size, PRB_HASH_LEN);
    cr_assert_arr_eq(v.mv_data, w, PRB_HASH_LEN, "meta does not keep W, the policy logged last");
    mdb_txn_abort(t);
    prb_close(a);
    th_rmrf(dir);
}

Test(audit, verify_names_a_policy_changed_since_it_was_last_logged)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    edit_policy(dir); /* while the register is open */
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "%.2000s",
                 rep.p ? rep.p : "");
    cr_assert(strstr(rep.p, "the policy changed since it was last logged"), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

static unsigned char bent_hash[32];

/* meta's policy hash made the edited file's, so that no open logs it. */
static void bend_policy_hash(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi meta;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_put(t, meta, &(MDB_val){13, "policy_sha256"}, &(MDB_val){32, bent_hash}, 0),
                 0);
}

Test(audit, verify_names_a_policy_hash_altered_behind_the_engines_back)
{
    char *dir, path[700];
    prb_env *env = th_register(&dir);
    prb_verify_stats st;
    struct th_buf rep = {0};
    uint64_t n0 = tree_size(env);
    prb_close(env);
    edit_policy(dir);
    snprintf(path, sizeof path, "%s/reg/policy.json", dir);
    size_t n;
    char *text = read_all(path, &n);
    crypto_hash_sha256(bent_hash, (const unsigned char *)text, n);
    free(text);
    tamper(dir, bend_policy_hash);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(tree_size(env), n0);
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "%.2000s",
                 rep.p ? rep.p : "");
    cr_assert(strstr(rep.p, "the policy's hash kept in meta is not the one leaf"), "%.2000s",
              rep.p);
    cr_assert(strstr(rep.p, "the policy changed since it was last logged"), "%.2000s", rep.p);
    free(rep.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A register with one record, 1-1 (furnisher src-a ), of subject
 * 1. */
static prb_env *with_one_record(char **dir)
{
    prb_env *env = th_register(dir);
    ingest_one(env, "A-1");
    return env;
}

/* An 11-byte key just after subject 1's own entry: it sorts before the
 * subject's records, and the loader stopped at it, so the subject's file,
 * copy and decisions had no records, while verify passed over it. */
static void stray_key(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[11];
    size_t n;
    unsigned char *v = subject_one(t, rec, key, &n);
    key[10] = 0;
    snprintf(found_id, sizeof found_id, "subject 1: a key of 11 bytes among its records");
    cr_assert_eq(mdb_put(t, rec, &(MDB_val){11, key}, &(MDB_val){n, v}, 0), 0);
    free(v);
}

Test(audit, a_stray_key_among_a_subjects_records_is_named_and_not_read_past)
{
    char *dir;
    prb_env *env = with_one_record(&dir);
    prb_file *f = NULL;
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_file_nrecords(f), 1);
    prb_file_free(f); /* it holds a read transaction of env */
    f = NULL;
    prb_close(env);
    tamper(dir, stray_key);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_ECORRUPT,
                 "the file was read without its records (%zu)", prb_file_nrecords(f));
    cr_assert(strstr(prb_errmsg(env), "subject 1: a key of 11 bytes"), "%s", prb_errmsg(env));
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
    expect_named_on(with_one_record, stray_key);
}

/* fref's entry of (src-a, ref), its key into key (PRB_FREF_KEY_MAX
 * bytes); *kn its length. */
static MDB_dbi fref_of(MDB_txn *t, const char *ref, unsigned char *key, size_t *kn, MDB_val *v)
{
    MDB_dbi fref;
    cr_assert_eq(mdb_dbi_open(t, "fref", 0, &fref), 0);
    *kn = prb_fref_key(key, "src-a", 5, ref, strlen(ref));
    cr_assert_eq(mdb_get(t, fref, &(MDB_val){*kn, key}, v), 0, "no entry of ref %s", ref);
    return fref;
}

/* Record 1-1's entry removed: the next line of A-1 makes a new record,
 * and the old one stays current beside it. */
static void drop_fref(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[PRB_FREF_KEY_MAX];
    size_t kn;
    MDB_val v;
    (void)rec;
    MDB_dbi fref = fref_of(t, "A-1", key, &kn, &v);
    snprintf(found_id, sizeof found_id,
             "record 1-1: no entry of the (furnisher, ref) index leads to it");
    cr_assert_eq(mdb_del(t, fref, &(MDB_val){kn, key}, NULL), 0);
}

/* Record 1-1's entry set back from version 2 to 1: the next correction
 * would overwrite version 2. */
static void set_fref_back(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[PRB_FREF_KEY_MAX], val[PRB_RECKEY_LEN];
    size_t kn;
    MDB_val v;
    (void)rec;
    MDB_dbi fref = fref_of(t, "A-1", key, &kn, &v);
    memcpy(val, v.mv_data, PRB_RECKEY_LEN);
    cr_assert_eq(val[9], 2);
    val[9] = 1;
    snprintf(found_id, sizeof found_id,
             "record 1-1: the (furnisher, ref) index gives version 1, but its last is 2");
    cr_assert_eq(mdb_put(t, fref, &(MDB_val){kn, key}, &(MDB_val){PRB_RECKEY_LEN, val}, 0), 0);
}

/* A-2's entry led to record 1-1: A-2's next line would correct A-1. */
static void bend_fref(MDB_txn *t, MDB_dbi rec)
{
    unsigned char key[PRB_FREF_KEY_MAX], val[PRB_RECKEY_LEN];
    size_t kn;
    MDB_val v;
    (void)rec;
    MDB_dbi fref = fref_of(t, "A-2", key, &kn, &v);
    prb_reckey(val, (uint64_t)1 << PRB_RSEQ_BITS | 1, 2);
    snprintf(found_id, sizeof found_id,
             "record 1-1: the (furnisher, ref) index leads src-a ref A-2 to it");
    cr_assert_eq(mdb_put(t, fref, &(MDB_val){kn, key}, &(MDB_val){PRB_RECKEY_LEN, val}, 0), 0);
}

/* The same, named by the record it left with no entry. */
static void bend_fref_orphan(MDB_txn *t, MDB_dbi rec)
{
    bend_fref(t, rec);
    snprintf(found_id, sizeof found_id,
             "record 1-2: no entry of the (furnisher, ref) index leads to it");
}

/* Record 1-1 in two versions, and 1-2. */
static prb_env *with_a_correction(char **dir)
{
    char line[1024];
    prb_ingest_stats st;
    prb_env *env = with_one_record(dir);
    th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1");
    char *bal = strstr(line, "\"10.00\"");
    cr_assert_not_null(bal);
    memcpy(bal, "\"20.00\"", 7);
    cr_assert_eq(th_ingest(env, "t", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    ingest_one(env, "A-2");
    return env;
}

/* No leaf logs the (furnisher, ref) index, and each step that used a
 * bent entry logged a valid leaf: verify said ok. */
Test(audit, verify_names_a_furnisher_ref_entry_removed_set_back_or_bent)
{
    expect_named_on(with_a_correction, drop_fref);
    expect_named_on(with_a_correction, set_fref_back);
    expect_named_on(with_a_correction, bend_fref);
    expect_named_on(with_a_correction, bend_fref_orphan);
}

static void key_file(const char *tmp, char path[700])
{
    snprintf(path, 700, "%s/reg/audit.key", tmp);
}

static void read_key(const char *tmp, unsigned char sk[64])
{
    char path[700];
    size_t n;
    key_file(tmp, path);
    char *b = read_all(path, &n);
    cr_assert_eq(n, 64);
    memcpy(sk, b, 64);
    free(b);
}

static void write_key(const char *tmp, const unsigned char sk[64])
{
    char path[700];
    key_file(tmp, path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(sk, 1, 64, f), 64);
    cr_assert_eq(fclose(f), 0);
}

/* The public key meta records for the register (NULL: none), base64. */
static char *recorded_key(prb_env *env, char out[64])
{
    MDB_txn *t;
    MDB_val k = {16, "audit_public_key"}, v;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t), 0);
    int mrc = mdb_get(t, env->meta, &k, &v);
    cr_assert(!mrc || mrc == MDB_NOTFOUND, "%s", mdb_strerror(mrc));
    if (!mrc) {
        cr_assert_eq(v.mv_size, 32);
        sodium_bin2base64(out, 64, v.mv_data, 32, sodium_base64_VARIANT_ORIGINAL);
    }
    mdb_txn_abort(t);
    return mrc ? NULL : out;
}

/* A key file whose public half (bytes 32-63) is not the one its seed
 * gives signed heads that verified under no key, while each head named
 * that half as the register's key. */
Test(audit, a_key_file_whose_halves_disagree_is_refused)
{
    char *dir, *json = NULL, key[64];
    unsigned char sk[64];
    prb_env *env = populated(&dir, 5, 1, 1);
    prb_close(env);
    read_key(dir, sk);
    sk[40] ^= 1;
    write_key(dir, sk);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_head(env, &json), PRB_ECORRUPT, "a head was signed with a broken key");
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "audit.key") && strstr(prb_errmsg(env), "public half") &&
                  strstr(prb_errmsg(env), "restore"),
              "%s", prb_errmsg(env));
    cr_assert_eq(prb_audit_public_key(env, key), PRB_ECORRUPT);
    prb_close(env);
    th_rmrf(dir);
}

/* Another register's audit.key restored by mistake was used silently:
 * every head signed after it failed for whoever held the published key.
 * The register records its key and refuses another, saying what to do;
 * its own key restored, it signs again. */
Test(audit, another_registers_key_is_refused)
{
    char *dx, *dy, *json = NULL, before[64], key[64];
    unsigned char own[64], other[64];
    prb_env *x = populated(&dx, 5, 1, 1), *y = th_register(&dy);
    char rec[64];
    cr_assert_not_null(recorded_key(x, rec), "a new register did not record its key");
    cr_assert_eq(prb_audit_public_key(x, before), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_str_eq(rec, before);
    prb_close(x);
    prb_close(y);
    read_key(dx, own);
    read_key(dy, other);
    write_key(dx, other);
    cr_assert_eq(prb_open(reg_of(dx), &x), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_eq(prb_audit_head(x, &json), PRB_ECORRUPT, "a head was signed with another key");
    cr_assert(strstr(prb_errmsg(x), "not this register's signing key") &&
                  strstr(prb_errmsg(x), before) &&
                  strstr(prb_errmsg(x), "restore the register's own audit.key"),
              "%s", prb_errmsg(x));
    cr_assert_eq(prb_audit_public_key(x, key), PRB_ECORRUPT);
    cr_assert_eq(prb_audit_prove(x, 0, 0, &json), PRB_ECORRUPT);
    cr_assert_eq(prb_audit_consistency(x, 1, 0, &json), PRB_ECORRUPT);
    prb_close(x);
    write_key(dx, own);
    cr_assert_eq(prb_open(reg_of(dx), &x), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_eq(prb_audit_head(x, &json), PRB_OK, "%s", prb_errmsg(x));
    free(json);
    cr_assert_eq(prb_audit_public_key(x, key), PRB_OK);
    cr_assert_str_eq(key, before);
    prb_close(x);
    th_rmrf(dx);
    th_rmrf(dy);
}

static void forget_key(MDB_txn *t, MDB_dbi rec)
{
    MDB_dbi meta;
    (void)rec;
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    int rc = mdb_del(t, meta, &(MDB_val){16, "audit_public_key"}, NULL);
    cr_assert(!rc || rc == MDB_NOTFOUND, "%s", mdb_strerror(rc));
}

/* The last transaction committed to the register: a read leaves it. */
static size_t last_txn(prb_env *env)
{
    MDB_envinfo info;
    cr_assert_eq(mdb_env_info(env->mdb, &info), 0);
    return info.me_last_txnid;
}

/* A register made before keys were recorded records its own at its next
 * write, and refuses another key from then on. Its reads (audit head,
 * key, prove, consistency, and so the public GET of a head) recorded it
 * in a write transaction of their own: a read that wrote meta outside
 * the log, logged a policy edited since the last write, and on a server
 * handle with a full fixed map answered 507. */
Test(audit, a_register_of_before_records_its_key_at_its_next_write)
{
    char *dx, *dy, *json = NULL, before[64], key[64], rec[64];
    unsigned char other[64];
    prb_env *x = populated(&dx, 5, 1, 1), *y = th_register(&dy);
    cr_assert_eq(prb_audit_public_key(x, before), PRB_OK, "%s", prb_errmsg(x));
    uint64_t n = tree_size(x);
    prb_close(x);
    prb_close(y);
    read_key(dy, other);
    tamper(dx, forget_key);
    edit_policy(dx);
    cr_assert_eq(prb_open(reg_of(dx), &x), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_null(recorded_key(x, rec));
    size_t t = last_txn(x);
    cr_assert_eq(prb_audit_head(x, &json), PRB_OK, "%s", prb_errmsg(x));
    free(json);
    cr_assert_eq(prb_audit_public_key(x, key), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_str_eq(key, before);
    cr_assert_eq(prb_audit_prove(x, 0, 0, &json), PRB_OK, "%s", prb_errmsg(x));
    free(json);
    cr_assert_eq(prb_audit_consistency(x, 1, 0, &json), PRB_OK, "%s", prb_errmsg(x));
    free(json);
    cr_assert_null(recorded_key(x, rec), "a read recorded the key");
    cr_assert_eq(last_txn(x), t, "a read wrote to the register");
    cr_assert_eq(tree_size(x), n, "a read logged something");
    /* A write that does not commit records nothing, and the handle looks
     * again in the next; that one logs the edited policy, and records
     * the key with it, logging nothing for that. */
    MDB_txn *txn;
    cr_assert_eq(prb_wtxn_begin(x, &txn), PRB_OK, "%s", prb_errmsg(x));
    prb_wtxn_abort(x, txn);
    cr_assert_null(recorded_key(x, rec));
    cr_assert_eq(prb_audit_policy(x), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_not_null(recorded_key(x, rec), "the key was not recorded at the next write");
    cr_assert_str_eq(rec, before);
    cr_assert_eq(tree_size(x), n + 1, "recording the key logged something");
    cr_assert(x->key_checked, "the handle's writes would look for the key again");
    prb_close(x);
    write_key(dx, other);
    cr_assert_eq(prb_open(reg_of(dx), &x), PRB_OK, "%s", prb_errmsg(x));
    cr_assert_eq(prb_audit_head(x, &json), PRB_ECORRUPT, "a head was signed with another key");
    prb_close(x);
    th_rmrf(dx);
    th_rmrf(dy);
}

/* A write of a register that records no key, whose audit.key is lost,
 * still writes, as before keys were recorded, and records nothing (its
 * reads say the key is missing); the key restored, the next process's
 * first write records it from the file. */
Test(audit, a_write_records_no_key_it_cannot_read)
{
    char *dir, before[64], rec[64];
    unsigned char own[64];
    prb_env *env = populated(&dir, 5, 1, 1);
    cr_assert_eq(prb_audit_public_key(env, before), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    read_key(dir, own);
    tamper(dir, forget_key);
    remove_key(dir);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    commit_leaves(env, 0, 1);
    cr_assert_null(recorded_key(env, rec), "a key was recorded without its file");
    cr_assert(!key_exists(dir), "a key was made for a log with leaves");
    prb_close(env);
    write_key(dir, own);
    cr_assert_eq(prb_open(reg_of(dir), &env), PRB_OK, "%s", prb_errmsg(env));
    commit_leaves(env, 1, 1);
    cr_assert_not_null(recorded_key(env, rec), "the restored key was not recorded");
    cr_assert_str_eq(rec, before);
    prb_close(env);
    th_rmrf(dir);
}
