/*
 * retention.c - DESIGN invariant 6 (data expires) and the date rules of
 * invariant 4 (notice before effect). The expiry rule is computed, never
 * stored, so a record past its date is left out of every read even before
 * the sweep (prb_expire) has deleted it; the sweep then removes every
 * version and the (furnisher, ref) index entry in one transaction.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int32_t min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

int32_t prb_retention_expires(const prb_catdef *c, int32_t event, int32_t settled)
{
    int32_t cap = event + c->max_days;
    if (settled != PRB_NO_DATE && c->days_after_settlement >= 0)
        return min32(settled + c->days_after_settlement, cap);
    return min32(event + c->days_after_event, cap);
}

int32_t prb_effective_from(const prb_catdef *c, int32_t event, int32_t first_received)
{
    if (c->polarity != PRB_ADVERSE)
        return event;
    return (event > first_received ? event : first_received) + c->notice_days;
}

/* Expiry of a stored version, or PRB_NO_DATE if its category is gone from
 * the policy (then it is kept: deleting data the policy no longer
 * describes is an operator's decision, not a side effect). */
static int32_t version_expires(const prb_policy *p, const unsigned char *v, size_t n)
{
    int32_t event, settled;
    if (n < PRB_REC_HDR || n < (size_t)PRB_REC_HDR + v[2])
        return PRB_NO_DATE;
    int cat = prb_policy_category(p, (const char *)v + PRB_REC_HDR, v[2]);
    if (cat < 0)
        return PRB_NO_DATE;
    event = prb_get_le32(v + 4);
    settled = prb_get_le32(v + 8);
    return prb_retention_expires(&p->categories[cat], event, settled);
}

/* Deletes versions 1..last of record id and its (furnisher, ref) entry;
 * cv is the current version, which names the furnisher and ref. */
static int delete_record(prb_env *env, MDB_txn *txn, uint64_t id, uint32_t last,
                         const unsigned char *cv, size_t cn)
{
    unsigned char key[PRB_FREF_KEY_MAX], rk[PRB_RECKEY_LEN];
    uint32_t fl = (uint32_t)(cv[16] | cv[17] << 8), rl = (uint32_t)(cv[18] | cv[19] << 8);
    const unsigned char *f = cv + PRB_REC_HDR + cv[2] + 1; /* past the category's NUL */
    int mrc;
    if ((size_t)PRB_REC_HDR + cv[2] + 1 + fl + 1 + rl > cn || fl > 64 || rl > 128)
        return prb_seterr(env->err, PRB_ECORRUPT, "record %llu: malformed value",
                          (unsigned long long)id);
    MDB_val k = {prb_fref_key(key, (const char *)f, fl, (const char *)f + fl + 1, rl), key};
    mrc = mdb_del(txn, env->fref, &k, NULL);
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "deleting an index entry");
    for (uint32_t ver = 1; ver <= last; ver++) {
        MDB_val vk = {PRB_RECKEY_LEN, rk};
        prb_reckey(rk, id, ver);
        mrc = mdb_del(txn, env->rec, &vk, NULL);
        if (mrc && mrc != MDB_NOTFOUND)
            return prb_mdb_fail(env, mrc, "deleting a record version");
    }
    return PRB_OK;
}

struct victim {
    uint64_t id;
    uint32_t last;
};

/* Collects the expired records first and deletes them after, so no cursor
 * walks a tree that is changing under it. The versions of one record are
 * adjacent and the last is current: a record's fate is decided there. */
static int find_expired(prb_env *env, MDB_txn *txn, struct victim **out, size_t *nout)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int32_t today = prb_today(env);
    size_t cap = 0;
    int mrc = mdb_cursor_open(txn, env->rec, &cur);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening a cursor");
    *out = NULL;
    *nout = 0;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0) {
        uint64_t id = prb_get_be64(k.mv_data);
        MDB_val nk, nv;
        while ((mrc = mdb_cursor_get(cur, &nk, &nv, MDB_NEXT)) == 0 &&
               prb_get_be64(nk.mv_data) == id)
            k = nk, v = nv;
        /* Record number 0 is the subject itself, which never expires. */
        int32_t exp =
            id & PRB_RSEQ_MASK ? version_expires(env->policy, v.mv_data, v.mv_size) : PRB_NO_DATE;
        if (exp != PRB_NO_DATE && exp <= today) {
            if (*nout == cap) {
                struct victim *nv2 = realloc(*out, (cap = cap * 2 + 256) * sizeof **out);
                if (!nv2) {
                    mdb_cursor_close(cur);
                    return prb_seterr(env->err, PRB_ENOMEM, "sweep: out of memory");
                }
                *out = nv2;
            }
            const unsigned char *kb = k.mv_data;
            (*out)[(*nout)++] = (struct victim){id, (uint32_t)(kb[8] << 8 | kb[9])};
        }
        k = nk, v = nv;
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? PRB_OK : prb_mdb_fail(env, mrc, "sweeping records");
}

static int sweep(prb_env *env, MDB_txn *txn, uint64_t *deleted)
{
    struct victim *vs = NULL;
    size_t n = 0;
    int rc = find_expired(env, txn, &vs, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        unsigned char rk[PRB_RECKEY_LEN];
        MDB_val k = {PRB_RECKEY_LEN, rk}, v;
        prb_reckey(rk, vs[i].id, vs[i].last);
        int mrc = mdb_get(txn, env->rec, &k, &v);
        if (mrc)
            rc = prb_mdb_fail(env, mrc, "reading an expired record");
        else
            rc = delete_record(env, txn, vs[i].id, vs[i].last, v.mv_data, v.mv_size);
        if (!rc)
            (*deleted)++;
    }
    /* A deleted record may have been a list's ground: recompute the
     * entries of every subject that lost one (victims are in key order,
     * so a subject's come together). */
    prb_file *f = NULL;
    for (size_t i = 0; !rc && i < n; i++) {
        uint64_t subject = vs[i].id >> PRB_RSEQ_BITS;
        if (i && subject == vs[i - 1].id >> PRB_RSEQ_BITS)
            continue;
        if (!(rc = prb_file_load(env, txn, subject, &f)))
            rc = prb_lists_refresh(env, txn, f, prb_today(env));
    }
    prb_file_free(f);
    free(vs);
    return rc;
}

int prb_expire(prb_env *env, uint64_t *deleted)
{
    MDB_txn *txn;
    uint64_t n = 0;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, 0, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting the sweep");
    if ((rc = sweep(env, txn, &n))) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((mrc = mdb_txn_commit(txn)))
        return prb_mdb_fail(env, mrc, "committing the sweep");
    if (deleted)
        *deleted = n;
    return PRB_OK;
}
