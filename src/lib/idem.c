/*
 * idem.c - idempotency keys of inquiries. An inquirer that sends a
 * decision request and loses the answer (a timeout, a dropped
 * connection) cannot tell whether it was stored, and sent again it was
 * stored twice: the subject then has one more inquiry, and inquiries are
 * a feature of the credit scorecard ("four or more credit inquiries in
 * 6 months" is an adverse reason). A request may name a key of its own
 * (POST /v1/decisions, header Idempotency-Key); the decision stored under
 * it is kept here for 24 hours, written in the same transaction as the
 * inquiry, and the same request with the same key is answered that
 * decision again, storing nothing.
 *
 *   idem  requester, 0, key -> be64 unix seconds made, be64 subject,
 *         be16 P, the purpose, be16 I, the identifier as asked, the
 *         decision's JSON as answered
 *
 * Each entry written or deleted is logged (PRB_LEAF_IDEM, aux 0 or 1):
 * every write is (DESIGN invariant 7). Past 24 hours an entry is not
 * read, and the sweep deletes it.
 */
#include "internal.h"
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDEM_HEAD 16
/* The longest key of an entry: a requester's name, NUL, an idempotency
 * key (and one byte to spare). */
#define KMAX (PRB_IDEM_KEY_MAX + PRB_KEY_NAME_MAX + 2)

/* The entry's key into k (KMAX bytes). */
static size_t key_of(unsigned char *k, const char *requester, const char *idem)
{
    size_t rl = strlen(requester), il = strlen(idem);
    memcpy(k, requester, rl);
    k[rl] = 0;
    memcpy(k + rl + 1, idem, il);
    return rl + 1 + il;
}

int prb_idem_check(const char *idem)
{
    size_t n = strlen(idem);
    if (!n || n > PRB_IDEM_KEY_MAX)
        return PRB_EINVAL;
    for (const char *p = idem; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return PRB_EINVAL;
    return PRB_OK;
}

/* A stored entry's parts; 0, or -1 if malformed. */
struct entry {
    int64_t made;
    uint64_t subject;
    const char *purpose, *identifier, *json;
    size_t pl, il, jl;
};

static int parse(const MDB_val *v, struct entry *e)
{
    const unsigned char *p = v->mv_data, *end = p + v->mv_size;
    if (v->mv_size < IDEM_HEAD + 4)
        return -1;
    e->made = (int64_t)prb_get_be64(p);
    e->subject = prb_get_be64(p + 8);
    p += IDEM_HEAD;
    e->pl = (size_t)p[0] << 8 | p[1];
    if ((size_t)(end - p) < 2 + e->pl + 2)
        return -1;
    e->purpose = (const char *)p + 2;
    p += 2 + e->pl;
    e->il = (size_t)p[0] << 8 | p[1];
    if ((size_t)(end - p) < 2 + e->il)
        return -1;
    e->identifier = (const char *)p + 2;
    p += 2 + e->il;
    e->json = (const char *)p;
    e->jl = (size_t)(end - p);
    return 0;
}

static int expired(const prb_env *env, int64_t made)
{
    return prb_now(env) - made >= PRB_IDEM_SECONDS;
}

/* Whether the sweep lets entry v go: past 24 hours, or malformed
 * (nothing could read it). *subject gets its subject, 0 if malformed. */
static int let_go(const prb_env *env, const MDB_val *v, uint64_t *subject)
{
    struct entry e;
    *subject = 0;
    if (parse(v, &e))
        return 1;
    *subject = e.subject;
    return expired(env, e.made);
}

int prb_idem_find_txn(prb_env *env, MDB_txn *txn, const char *requester, const char *idem,
                      const char *purpose, const char *identifier, char **json)
{
    unsigned char kb[KMAX];
    MDB_val k = {0, kb}, v;
    struct entry e;
    *json = NULL;
    if (prb_requester_check(env, requester))
        return PRB_EINVAL;
    if (!requester)
        requester = "";
    if (prb_idem_check(idem))
        return prb_seterr(env->err, PRB_EINVAL,
                          "an idempotency key is 1 to %d printable ASCII characters",
                          PRB_IDEM_KEY_MAX);
    k.mv_size = key_of(kb, requester, idem);
    int mrc = mdb_get(txn, env->idem, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return PRB_ENOTFOUND;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading an idempotency key");
    if (parse(&v, &e))
        return prb_seterr(env->err, PRB_ECORRUPT, "idempotency key '%s': malformed entry", idem);
    if (expired(env, e.made))
        return PRB_ENOTFOUND;
    if (e.pl != strlen(purpose) || memcmp(e.purpose, purpose, e.pl) || e.il != strlen(identifier) ||
        memcmp(e.identifier, identifier, e.il))
        /* Not which purpose or subject: a token's name may be shared, and
         * the other inquiry may be about someone this one may not see. */
        return prb_seterr(env->err, PRB_EEXIST,
                          "idempotency key '%s' was given to an inquiry of another purpose "
                          "or subject less than 24 hours ago; a new inquiry needs a new key",
                          idem);
    if (!(*json = malloc(e.jl + 1)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    memcpy(*json, e.json, e.jl);
    (*json)[e.jl] = 0;
    return PRB_OK;
}

int prb_idem_put_txn(prb_env *env, MDB_txn *txn, const char *requester, const char *idem,
                     const char *purpose, const char *identifier, uint64_t subject,
                     const char *json)
{
    unsigned char kb[KMAX];
    if (!requester)
        requester = "";
    size_t pl = strlen(purpose), il = strlen(identifier), jl = strlen(json);
    MDB_val k = {key_of(kb, requester, idem), kb}, v;
    if (pl > 0xffff || il > 0xffff)
        return prb_seterr(env->err, PRB_EINVAL, "idempotency key: purpose or identifier too long");
    /* A key past 24 hours that no sweep has let go yet is let go here,
     * logged as the sweep would, so that the log holds every entry's end. */
    int rc, mrc = mdb_get(txn, env->idem, &k, &v);
    if (!mrc) {
        uint64_t old;
        let_go(env, &v, &old);
        if ((rc = prb_audit_log(env, PRB_LEAF_IDEM, 1, old, v.mv_data, v.mv_size)))
            return rc;
    } else if (mrc != MDB_NOTFOUND) {
        return prb_mdb_fail(env, mrc, "reading an idempotency key");
    }
    v.mv_size = IDEM_HEAD + 2 + pl + 2 + il + jl;
    mrc = mdb_put(txn, env->idem, &k, &v, MDB_RESERVE);
    if (mrc)
        return prb_mdb_fail(env, mrc, "writing an idempotency key");
    unsigned char *p = v.mv_data;
    prb_be64(p, (uint64_t)prb_now(env));
    prb_be64(p + 8, subject);
    p += IDEM_HEAD;
    p[0] = (unsigned char)(pl >> 8), p[1] = (unsigned char)pl;
    memcpy(p + 2, purpose, pl);
    p += 2 + pl;
    p[0] = (unsigned char)(il >> 8), p[1] = (unsigned char)il;
    memcpy(p + 2, identifier, il);
    memcpy(p + 2 + il, json, jl);
    return prb_audit_log(env, PRB_LEAF_IDEM, 0, subject, v.mv_data, v.mv_size);
}

int prb_idem_get(prb_env *env, const char *requester, const char *idem, const char *purpose,
                 const char *identifier, char **json)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    *json = NULL;
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    int rc = prb_idem_find_txn(env, txn, requester, idem, purpose, identifier, json);
    mdb_txn_abort(txn);
    if (rc == PRB_ENOTFOUND)
        prb_seterr(env->err, rc, "no decision under idempotency key '%s'", idem);
    return rc;
}

int prb_idem_count(prb_env *env, uint64_t *n)
{
    return prb_entries(env, env->idem, "counting the idempotency keys", n);
}

/* Entries deleted a transaction, so the sweep holds the write lock
 * briefly. */
#define IDEM_BATCH 1024

struct found {
    unsigned char (*keys)[KMAX];
    size_t lens[IDEM_BATCH], n;
};

/* Finds up to IDEM_BATCH entries past 24 hours (or malformed: nothing
 * could read them) on a snapshot, from the first key after the one in
 * f->keys[0] (all of them when from is 0); *more: whether the walk
 * stopped short of the end. */
static int find_batch(prb_env *env, struct found *f, int from, int *more)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k = {f->lens[0], f->keys[0]}, v;
    unsigned char after[KMAX];
    size_t alen = f->lens[0];
    int mrc, op = from ? MDB_SET_RANGE : MDB_FIRST;
    memcpy(after, f->keys[0], alen);
    f->n = 0;
    *more = 0;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "reading the idempotency keys");
    if ((mrc = mdb_cursor_open(txn, env->idem, &cur))) {
        mdb_txn_abort(txn);
        return prb_mdb_fail(env, mrc, "opening the idempotency keys");
    }
    for (mrc = mdb_cursor_get(cur, &k, &v, op); !mrc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t subject;
        /* The last of the batch before, if it is still there; and a key
         * longer than this code writes (a later build's) is left alone. */
        if ((from && k.mv_size == alen && !memcmp(k.mv_data, after, alen)) ||
            !let_go(env, &v, &subject) || k.mv_size > KMAX)
            continue;
        if (f->n == IDEM_BATCH) {
            *more = 1;
            break;
        }
        memcpy(f->keys[f->n], k.mv_data, k.mv_size);
        f->lens[f->n++] = k.mv_size;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return mrc && mrc != MDB_NOTFOUND ? prb_mdb_fail(env, mrc, "reading the idempotency keys")
                                      : PRB_OK;
}

/* Deletes the entries found that are still past 24 hours (one may have
 * been kept anew since the snapshot), logging each. */
static int delete_batch(prb_env *env, const struct found *f, uint64_t *n)
{
    MDB_txn *txn;
    int rc, mrc;
    uint64_t done = 0;
    if ((rc = prb_wtxn_begin(env, &txn)))
        return rc;
    for (size_t i = 0; i < f->n && !rc; i++) {
        MDB_val k = {f->lens[i], f->keys[i]}, v;
        uint64_t subject;
        if ((mrc = mdb_get(txn, env->idem, &k, &v))) {
            if (mrc != MDB_NOTFOUND)
                rc = prb_mdb_fail(env, mrc, "reading an idempotency key");
            continue;
        }
        if (!let_go(env, &v, &subject))
            continue;
        if (!(rc = prb_audit_log(env, PRB_LEAF_IDEM, 1, subject, v.mv_data, v.mv_size))) {
            if ((mrc = mdb_del(txn, env->idem, &k, NULL)))
                rc = prb_mdb_fail(env, mrc, "deleting an idempotency key");
            done++;
        }
    }
    if (rc || !done) {
        prb_wtxn_abort(env, txn);
        return rc;
    }
    if ((rc = prb_wtxn_commit(env, txn)))
        return rc;
    *n += done;
    return PRB_OK;
}

int prb_idem_expire(prb_env *env, uint64_t *deleted)
{
    struct found f;
    uint64_t total = 0;
    int rc = PRB_OK, more = 1, from = 0;
    if (deleted)
        *deleted = 0;
    if (!(f.keys = malloc(IDEM_BATCH * sizeof *f.keys)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    f.lens[0] = 0;
    /* Found on snapshots, as retention's records are: the walk holds no
     * lock, and each batch is checked again in its write transaction. */
    while (more && !prb_cancelled(env)) {
        if ((rc = find_batch(env, &f, from, &more)) || !f.n || (rc = delete_batch(env, &f, &total)))
            break;
        /* The next walk starts after the batch's last key. */
        memmove(f.keys[0], f.keys[f.n - 1], f.lens[f.n - 1]);
        f.lens[0] = f.lens[f.n - 1];
        from = 1;
    }
    free(f.keys);
    if (deleted)
        *deleted = total;
    return rc;
}
