/*
 * retention.c - DESIGN invariant 6 (data expires) and the date rules of
 * invariant 4 (notice before effect). The expiry rule is computed, never
 * stored, so a record past its date is left out of every read even before
 * the sweep (prb_expire) has deleted it; the sweep then removes every
 * version and the (furnisher, ref) index entry of each, and tells the
 * subject of each adverse record it deleted. The same sweep first
 * resolves the disputes whose deadline has passed (dispute.c, in the
 * same manner). It finds the records on a snapshot and deletes them in
 * short write transactions: the search reads every record, and a
 * server's decisions and ingests must not wait for that.
 */
#include "internal.h"
#include "audit.h"

#include <stdio.h>
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

/* Nothing is known before the register learnt it: a record received
 * after the as-of day (probity score --as-of, a past day) is not used on
 * it, whatever its polarity; an adverse one waits its notice period more. */
int32_t prb_effective_from(const prb_catdef *c, int32_t event, int32_t first_received)
{
    int32_t known = event > first_received ? event : first_received;
    return c->polarity == PRB_ADVERSE ? known + c->notice_days : known;
}

/* Deleting data the policy no longer describes is an operator's
 * decision, not a side effect: such a version never expires here. */
int32_t prb_version_expires(const prb_policy *p, const unsigned char *v, size_t n)
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

int prb_record_delete(prb_env *env, MDB_txn *txn, uint64_t id, uint32_t last,
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
        MDB_val vk = {PRB_RECKEY_LEN, rk}, vv;
        int rc;
        prb_reckey(rk, id, ver);
        /* The log says which version went, with the hash of what it was. */
        if ((mrc = mdb_get(txn, env->rec, &vk, &vv)) == MDB_NOTFOUND)
            continue;
        if (mrc)
            return prb_mdb_fail(env, mrc, "reading a record version");
        if ((rc = prb_audit_log(env, PRB_LEAF_DELETE, ver, id, vv.mv_data, vv.mv_size)))
            return rc;
        mrc = mdb_del(txn, env->rec, &vk, NULL);
        if (mrc && mrc != MDB_NOTFOUND)
            return prb_mdb_fail(env, mrc, "deleting a record version");
    }
    return PRB_OK;
}

int prb_record_current(prb_env *env, MDB_txn *txn, uint64_t id, const char *what, uint32_t *last,
                       MDB_val *val)
{
    MDB_cursor *cur;
    unsigned char k0[PRB_RECKEY_LEN];
    MDB_val k = {PRB_RECKEY_LEN, k0};
    int mrc;
    /* The current version is the last key before the next record's. */
    prb_reckey(k0, id + 1, 0);
    if ((mrc = mdb_cursor_open(txn, env->rec, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    mrc = mdb_cursor_get(cur, &k, val, MDB_SET_RANGE);
    mrc = mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, val, MDB_LAST)
          : mrc               ? mrc
                              : mdb_cursor_get(cur, &k, val, MDB_PREV);
    mdb_cursor_close(cur);
    if (mrc == MDB_NOTFOUND)
        return PRB_ENOTFOUND;
    if (mrc)
        return prb_mdb_fail(env, mrc, what);
    const unsigned char *kb = k.mv_data;
    if (k.mv_size != PRB_RECKEY_LEN || prb_get_be64(kb) != id || !(kb[8] | kb[9]))
        return PRB_ENOTFOUND;
    *last = (uint32_t)(kb[8] << 8 | kb[9]);
    return PRB_OK;
}

struct victim {
    uint64_t id;
    uint32_t last;
    int gone;     /* deleted by this sweep */
    char *notice; /* adverse: what its subject is told, made before it goes */
};

/* Expired records one write transaction deletes at most (a subject's are
 * never split between two). */
size_t prb_expire_batch = 1024;

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
    for (size_t seen = 1; mrc == 0; seen++) {
        uint64_t id = prb_get_be64(k.mv_data);
        /* A caller that is stopping is asked now and then: the walk reads
         * every record, and nothing is lost by leaving it. */
        if (!(seen & 0xffff) && prb_cancelled(env)) {
            *nout = 0;
            break;
        }
        MDB_val nk, nv;
        while ((mrc = mdb_cursor_get(cur, &nk, &nv, MDB_NEXT)) == 0 &&
               prb_get_be64(nk.mv_data) == id)
            k = nk, v = nv;
        /* Record number 0 is the subject itself, which never expires. */
        int32_t exp = id & PRB_RSEQ_MASK ? prb_version_expires(env->policy, v.mv_data, v.mv_size)
                                         : PRB_NO_DATE;
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
            (*out)[(*nout)++] = (struct victim){id, (uint32_t)(kb[8] << 8 | kb[9]), 0, NULL};
        }
        k = nk, v = nv;
    }
    mdb_cursor_close(cur);
    return mrc == 0 || mrc == MDB_NOTFOUND ? PRB_OK : prb_mdb_fail(env, mrc, "sweeping records");
}

/* The notice an adverse record's subject gets when retention deletes it
 * (issue 4), written from the stored value v before it goes; NULL in *text
 * for a record that is not adverse. */
static int deletion_notice(prb_env *env, uint64_t id, const unsigned char *v, size_t n, char **text)
{
    prb_field_view fields[PRB_MAX_FIELDS];
    prb_record_view rv;
    char name[48], day[11], *buf;
    int cat = n >= PRB_REC_HDR && n >= (size_t)PRB_REC_HDR + v[2]
                  ? prb_policy_category(env->policy, (const char *)v + PRB_REC_HDR, v[2])
                  : -1;
    *text = NULL;
    if (cat < 0 || env->policy->categories[cat].polarity != PRB_ADVERSE)
        return PRB_OK;
    if (!(buf = malloc(prb_record_bufsize(n))))
        return prb_seterr(env->err, PRB_ENOMEM, "sweep: out of memory");
    if (prb_record_decode(v, n, buf, &rv, fields, PRB_MAX_FIELDS)) {
        free(buf);
        return prb_seterr(env->err, PRB_ECORRUPT, "record %llu: malformed value",
                          (unsigned long long)id);
    }
    prb_record_name(name, sizeof name, id);
    prb_date_format(prb_version_expires(env->policy, v, n), day);
    if (asprintf(text,
                 "Your %s record %s from %s (ref %s) reached the end of its retention on %s and "
                 "was deleted: nothing the register computes from now on uses it.",
                 rv.category, name, rv.furnisher, rv.ref, day) < 0)
        *text = NULL;
    free(buf);
    return *text ? PRB_OK : prb_seterr(env->err, PRB_ENOMEM, "sweep: out of memory");
}

/* Record id's last version in txn, and whether it is past retention as
 * of today: the snapshot it was found on may be older than txn (a
 * correction since, or a dispute's deletion just now). */
static int recheck(prb_env *env, MDB_txn *txn, uint64_t id, int32_t today, uint32_t *last,
                   MDB_val *val, int *expired)
{
    int rc = prb_record_current(env, txn, id, "reading an expired record", last, val);
    *expired = 0;
    if (rc)
        return rc == PRB_ENOTFOUND ? PRB_OK : rc;
    int32_t exp = prb_version_expires(env->policy, val->mv_data, val->mv_size);
    *expired = exp != PRB_NO_DATE && exp <= today;
    return PRB_OK;
}

/* Deletes those of vs[0..n) still past retention in txn; *deleted counts
 * them. */
static int delete_batch(prb_env *env, MDB_txn *txn, struct victim *vs, size_t n, uint64_t *deleted)
{
    int32_t today = prb_today(env);
    int rc = PRB_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        MDB_val v;
        int expired;
        /* What a failed try of the batch left (it is tried again). */
        free(vs[i].notice);
        vs[i].notice = NULL;
        vs[i].gone = 0;
        rc = recheck(env, txn, vs[i].id, today, &vs[i].last, &v, &expired);
        if (rc || !expired)
            continue;
        if (!(rc = deletion_notice(env, vs[i].id, v.mv_data, v.mv_size, &vs[i].notice)))
            rc = prb_record_delete(env, txn, vs[i].id, vs[i].last, v.mv_data, v.mv_size);
        /* A dispute of it has nothing left to decide. */
        if (!rc)
            rc = prb_disputes_record_expired(env, txn, vs[i].id);
        if (!rc) {
            vs[i].gone = 1;
            (*deleted)++;
        }
    }
    /* A deleted record may have been a list's ground: recompute the
     * entries of every subject that lost one (victims are in key order,
     * so a subject's come together), and tell it of the adverse ones. */
    prb_file *f = NULL;
    uint64_t loaded = 0; /* the subject f holds; ids count from 1 */
    for (size_t i = 0; !rc && i < n; i++) {
        uint64_t subject = vs[i].id >> PRB_RSEQ_BITS;
        char name[48];
        if (!vs[i].gone)
            continue;
        if (subject != loaded) {
            if ((rc = prb_file_load(env, txn, subject, &f)) ||
                (rc = prb_lists_refresh(env, txn, f, today)))
                break;
            loaded = subject;
        }
        prb_record_name(name, sizeof name, vs[i].id);
        if (vs[i].notice)
            rc = prb_notice_add(env, txn, subject, prb_file_ident(f, 0), "retention_deletion", name,
                                vs[i].notice, today);
    }
    prb_file_free(f);
    return rc;
}

int prb_expire(prb_env *env, uint64_t *deleted, uint64_t *disputed)
{
    MDB_txn *txn;
    struct victim *vs = NULL;
    size_t n = 0, i = 0;
    uint64_t total = 0;
    int rc, mrc, first;
    char first_msg[PRB_ERRMSG_MAX];
    if (deleted)
        *deleted = 0;
    if (disputed)
        *disputed = 0;
    prb_readers_check(env);
    /* The disputes past their deadline first, in transactions of their
     * own: a record one deletes is then not found below. Their failure
     * is returned once the records past retention are deleted: returning
     * at once kept every deletion waiting on one damaged dispute or
     * record (invariant 6). */
    if ((first = prb_disputes_sweep(env, disputed)))
        snprintf(first_msg, sizeof first_msg, "%s", env->err);
    /* Found on a snapshot: the search reads every record, and the writers
     * of a server go on meanwhile. */
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn))) {
        rc = prb_mdb_fail(env, mrc, "reading the register for the sweep");
        goto done;
    }
    if (prb_cancelled(env)) {
        mdb_txn_abort(txn);
        rc = PRB_OK;
        goto done;
    }
    rc = find_expired(env, txn, &vs, &n);
    mdb_txn_abort(txn);
    /* Then deleted a batch a transaction. One that fails (a record or a
     * dispute damaged behind the engine's back) is tried again a subject
     * a transaction, and a subject that fails again is left, its error
     * returned at the end: stopping there kept every record after it past
     * retention on every sweep until someone repaired the damage, and the
     * whole batch would hold up the subjects that only shared it
     * (invariant 6). */
    for (size_t solo = 0; !rc;) { /* before solo, a transaction holds one subject */
        size_t most = i < solo ? 1 : prb_expire_batch;
        size_t end = i + most < n ? i + most : n;
        uint64_t count = 0;
        int brc;
        while (end < n && vs[end].id >> PRB_RSEQ_BITS == vs[end - 1].id >> PRB_RSEQ_BITS)
            end++;
        if ((rc = prb_wtxn_begin(env, &txn)))
            break;
        if ((brc = delete_batch(env, txn, vs + i, end - i, &count)))
            prb_wtxn_abort(env, txn);
        else if (!(brc = prb_wtxn_commit(env, txn)))
            total += count;
        if (brc && i >= solo && end - i > 1 &&
            vs[i].id >> PRB_RSEQ_BITS != vs[end - 1].id >> PRB_RSEQ_BITS) {
            solo = end;
            continue;
        }
        if (brc && !first) {
            first = brc;
            snprintf(first_msg, sizeof first_msg, "%s", env->err);
        }
        /* What is left is past retention, so never used, and the next
         * sweep deletes it: a caller that is stopping may stop here. */
        if ((i = end) >= n || prb_cancelled(env))
            break;
    }
    for (size_t j = 0; j < n; j++)
        free(vs[j].notice);
    free(vs);
    if (deleted)
        *deleted = total;
done:
    if (first)
        return prb_seterr(env->err, first, "%s", first_msg);
    return rc;
}
