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

#include "internal.h"

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

#endif
