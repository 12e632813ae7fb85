/*
 * tamper.h - changes made to a register behind the engine's back, through
 * raw LMDB, for the suites that show what the engine does when what it
 * reads is not what it wrote: a failure that writes nothing.
 */
#ifndef PRB_TEST_TAMPER_H
#define PRB_TEST_TAMPER_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "helpers.h"
#include "internal.h"

/* env (a register made in dir by th_register or th_register_edited) with
 * its policy.json changed by edit and put in force as a build of before
 * 2026-11-28 did, one that adopted forms this build does not
 * (PRB_OLD_*): env takes the file, loaded under the rules of then, and a
 * write logs it as the policy writes are made under. Then closed and
 * opened again with the clock at day. */
static inline prb_env *th_reopen_in_force(prb_env *env, const char *dir, void (*edit)(json_t *root),
                                          const char *day)
{
    char path[720];
    prb_policy *p = NULL;
    th_edit_policy(dir, edit);
    snprintf(path, sizeof path, "%s/reg/" PRB_POLICY_FILE, dir);
    cr_assert_eq(prb_policy_load_kept(path, NULL, &p), PRB_OK, "%s", prb_policy_errmsg(p));
    prb_policy_free(env->policy);
    env->policy = p;
    prb_sha256(p->text, p->text_len, env->policy_sha);
    cr_assert_eq(prb_audit_policy(env), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    env = NULL;
    snprintf(path, sizeof path, "%s/reg", dir);
    cr_assert_eq(prb_open(path, &env), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, day);
    return env;
}

/* Replaces inquiry no of subject in the log with one whose decision is
 * not JSON (its header and purpose kept). */
static inline void th_break_decision(prb_env *env, uint64_t subject, uint32_t no)
{
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    int found = 0;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_cursor_open(t, env->ilog, &c), 0);
    while (!found && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const unsigned char *p = v.mv_data;
        found =
            v.mv_size > PRB_INQ_KEY_LEN + 16 && prb_get_be64(p) == subject && prb_inq_no(p) == no;
    }
    cr_assert(found, "no inquiry %u of subject %llu in the log", no, (unsigned long long)subject);
    size_t head = PRB_INQ_KEY_LEN + 16 + ((const unsigned char *)v.mv_data)[PRB_INQ_KEY_LEN + 1];
    unsigned char *bent = malloc(head + 3);
    cr_assert_not_null(bent);
    memcpy(bent, v.mv_data, head);
    memcpy(bent + head, "{x}", 3);
    MDB_val nv = {head + 3, bent};
    cr_assert_eq(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), 0);
    mdb_cursor_close(c);
    cr_assert_eq(mdb_txn_commit(t), 0);
    free(bent);
}

/* In the first value of table name that holds from, from replaced by to
 * (as long); 0 if no value holds it. */
static inline int th_bend_value(prb_env *env, const char *name, const char *from, const char *to)
{
    MDB_txn *t;
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val k, v;
    size_t n = strlen(from);
    int done = 0;
    cr_assert_eq(strlen(to), n);
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, name, 0, &dbi), 0);
    cr_assert_eq(mdb_cursor_open(t, dbi, &c), 0);
    while (!done && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const char *at = memmem(v.mv_data, v.mv_size, from, n);
        if (!at)
            continue;
        unsigned char *bent = malloc(v.mv_size);
        cr_assert_not_null(bent);
        memcpy(bent, v.mv_data, v.mv_size);
        memcpy(bent + (at - (const char *)v.mv_data), to, n);
        MDB_val nv = {v.mv_size, bent};
        cr_assert_eq(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), 0);
        free(bent);
        done = 1;
    }
    mdb_cursor_close(c);
    cr_assert_eq(mdb_txn_commit(t), 0);
    return done;
}

/* The first entry of table name deleted. */
static inline void th_drop_first(prb_env *env, const char *name)
{
    MDB_txn *t;
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val k, v;
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, name, 0, &dbi), 0);
    cr_assert_eq(mdb_cursor_open(t, dbi, &c), 0);
    cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0, "%s is empty", name);
    cr_assert_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

/* Rewrites dispute id's stored value with its first from replaced by to. */
static inline void th_bend_dispute(prb_env *env, uint64_t id, const char *from, const char *to)
{
    MDB_txn *t;
    unsigned char k[8];
    MDB_val mk = {8, k}, v;
    prb_be64(k, id);
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_get(t, env->dsp, &mk, &v), 0, "no dispute %llu", (unsigned long long)id);
    char *old = strndup(v.mv_data, v.mv_size), *at = strstr(old, from);
    cr_assert_not_null(at, "dispute %llu has no %s: %s", (unsigned long long)id, from, old);
    size_t head = (size_t)(at - old), fl = strlen(from), tl = strlen(to);
    char *bent = malloc(v.mv_size - fl + tl);
    cr_assert_not_null(bent);
    memcpy(bent, old, head);
    memcpy(bent + head, to, tl);
    memcpy(bent + head + tl, at + fl, v.mv_size - head - fl);
    MDB_val nv = {v.mv_size - fl + tl, bent};
    cr_assert_eq(mdb_put(t, env->dsp, &mk, &nv, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    free(bent);
    free(old);
}

/* Sets the furnisher's length in the current version of record rid
 * ("S-N") past its bound: the record can no longer be deleted. */
static inline void th_break_record(prb_env *env, const char *rid)
{
    MDB_txn *t;
    MDB_val v;
    uint64_t id;
    uint32_t last;
    unsigned char k[PRB_RECKEY_LEN];
    cr_assert_eq(prb_record_parse(rid, strlen(rid), &id), PRB_OK, "%s", rid);
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(prb_record_current(env, t, id, "tampering", &last, &v), PRB_OK, "%s", rid);
    unsigned char *bent = malloc(v.mv_size);
    cr_assert_not_null(bent);
    memcpy(bent, v.mv_data, v.mv_size);
    bent[16] = bent[17] = 0xff;
    prb_reckey(k, id, last);
    MDB_val mk = {PRB_RECKEY_LEN, k}, nv = {v.mv_size, bent};
    cr_assert_eq(mdb_put(t, env->rec, &mk, &nv, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    free(bent);
}

#endif
