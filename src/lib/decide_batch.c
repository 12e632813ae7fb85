/*
 * decide_batch.c - stored decisions in batches: group commit.
 *
 * A stored decision costs one durable commit, an fsync of a few hundred
 * microseconds, far more than the decision itself (decide.c). The server
 * collects the inquiries that arrive while one commit runs and makes them
 * here in one write transaction: the same decisions, inquiries and
 * notices prb_decide makes, in the order given, then one commit for all.
 * Each caller is answered only after that commit, so an answered decision
 * is a stored one.
 *
 * A decision prb_decide_prepare made beforehand, outside any write
 * transaction, is stored as it was made when nothing it read can have
 * changed since: its snapshot is checked against the commits that came
 * after it. Those made here, through this handle, are remembered with the
 * subjects they wrote; any other commit in between (an ingest, the sweep,
 * another process), or an earlier decision of the same batch about the
 * same subject, or a list entry the refresh changes, or a day that has
 * ended since it was made, and the decision is made again inside the
 * transaction, as prb_decide would. So the writer holds the write lock
 * for the writes, the commit and the decisions made again, while the
 * others are computed on as many threads as ask. A stream of decisions
 * about one subject is nearly all made again, under the lock: each one
 * changes what the next read (DESIGN.md, "Decisions are group-committed",
 * says what a fix needs).
 *
 * An inquiry with an idempotency key already kept is answered the
 * decision kept (idem.c) and writes nothing; one with a new key keeps its
 * decision under it in the same transaction.
 *
 * An inquiry that names its key (the server's all do) is refused when
 * that key is no longer live as the batch's transaction reads it: one
 * revoked while its decision waited for the writer (behind an ingest,
 * for seconds) is not stored. Each key is looked up once a batch.
 *
 * An inquiry prb_decide would refuse before writing anything (a bad
 * identifier, no such subject or purpose, a purpose not for this subject
 * or requester) is refused alone. A failure after an inquiry has started
 * writing (out of memory, the store failing) leaves the transaction in an
 * unknown state, so the whole batch is abandoned: nothing is stored and
 * every inquiry gets that error.
 */
#include "internal.h"
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An inquiry's message: the handle's, cut to the inquiry's buffer where
 * a character ends (it is answered as JSON, which refuses half of one). */
static void set_msg(prb_inquiry *q, const char *msg)
{
    snprintf(q->errmsg, sizeof q->errmsg, "%.*s",
             prb_utf8_cut(msg, strlen(msg), sizeof q->errmsg - 1), msg);
}

static void fail_all(prb_inquiry *q, size_t n, int rc, const char *msg)
{
    for (size_t i = 0; i < n; i++) {
        q[i].rc = rc;
        set_msg(&q[i], msg);
        free(q[i].replay);
        q[i].replay = NULL;
    }
}

/* Keeps q's decision, just stored in txn, under its idempotency key. */
static int keep_idem(prb_env *env, MDB_txn *txn, prb_inquiry *q)
{
    const char *json;
    if (prb_decision_json_compact(q->decision, &json) || !json)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    return prb_idem_put_txn(env, txn, q->requester, q->idem, q->purpose, q->identifier,
                            prb_decision_subject(q->decision), json);
}

/* How many of this handle's commits are remembered: a prepared decision
 * older than that is made again. */
#define RECENT 8

struct recent_commit {
    uint64_t txnid;
    size_t n, cap;
    uint64_t *subjects; /* sorted */
};

/* A key of this batch's inquiries, as its transaction read it. */
struct key_seen {
    const char *id;
    int rc;       /* PRB_OK, or why its inquiries are refused */
    size_t first; /* the inquiry whose message says why */
};

struct prb_recent {
    struct recent_commit c[RECENT];
    size_t next;
    /* This transaction's subjects: an open-addressing set. */
    uint64_t *set;
    size_t setcap;
    /* This transaction's keys, setcap / 2 at most: a batch has few. */
    struct key_seen *keys;
    size_t nkeys;
};

void prb_recent_free(struct prb_recent *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < RECENT; i++)
        free(r->c[i].subjects);
    free(r->set);
    free(r->keys);
    free(r);
}

static size_t slot(const struct prb_recent *r, uint64_t subject)
{
    uint64_t h = (subject + 1) * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 32) & (r->setcap - 1);
    while (r->set[i] && r->set[i] != subject + 1)
        i = (i + 1) & (r->setcap - 1);
    return i;
}

/* Whether this transaction wrote subject; adds it when add is set. */
static int seen(struct prb_recent *r, uint64_t subject, int add)
{
    size_t i = slot(r, subject);
    if (r->set[i])
        return 1;
    if (add)
        r->set[i] = subject + 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether the commits after snapshot snap and before transaction w all
 * were this handle's, none of them writing subject. */
static int fresh(const struct prb_recent *r, uint64_t snap, uint64_t w, uint64_t subject)
{
    if (w <= snap || w - snap - 1 > RECENT)
        return 0;
    for (uint64_t t = snap + 1; t < w; t++) {
        size_t i;
        for (i = 0; i < RECENT; i++)
            if (r->c[i].txnid == t)
                break;
        if (i == RECENT || bsearch(&subject, r->c[i].subjects, r->c[i].n, sizeof subject, cmp_u64))
            return 0;
    }
    return 1;
}

/* Remembers commit txnid and the subjects of the set (recent_ready
 * empties it for the next batch). A batch that wrote no subject (every
 * inquiry refused or answered in replay) wrote nothing at all, and LMDB
 * gives an empty commit no id of its own: the next commit, perhaps
 * another writer's, takes txnid. Remembered, it would vouch for that
 * commit as touching no subject. */
static int remember(struct prb_recent *r, uint64_t txnid)
{
    size_t n = 0;
    struct recent_commit *c = &r->c[r->next];
    for (size_t i = 0; i < r->setcap; i++)
        n += r->set[i] != 0;
    if (!n)
        return PRB_OK;
    if (n > c->cap) {
        uint64_t *m = realloc(c->subjects, n * sizeof *m);
        if (!m)
            return PRB_ENOMEM;
        c->subjects = m;
        c->cap = n;
    }
    c->n = 0;
    for (size_t i = 0; i < r->setcap; i++)
        if (r->set[i])
            c->subjects[c->n++] = r->set[i] - 1;
    qsort(c->subjects, c->n, sizeof *c->subjects, cmp_u64);
    c->txnid = txnid;
    r->next = (r->next + 1) % RECENT;
    return PRB_OK;
}

/* Room in the set for n subjects at most half full, emptied. */
static int recent_ready(prb_env *env, size_t n)
{
    struct prb_recent *r = env->recent;
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    if (!r && !(r = env->recent = calloc(1, sizeof *r)))
        return PRB_ENOMEM;
    r->nkeys = 0;
    if (r->setcap < cap) {
        free(r->set);
        free(r->keys);
        r->keys = NULL;
        if (!(r->set = calloc(cap, sizeof *r->set)) ||
            !(r->keys = malloc(cap / 2 * sizeof *r->keys))) {
            r->setcap = 0;
            return PRB_ENOMEM;
        }
        r->setcap = cap;
    } else {
        memset(r->set, 0, r->setcap * sizeof *r->set);
    }
    return PRB_OK;
}

/* Whether q[i]'s key is live as txn reads it: looked up for the first
 * inquiry of a key, and that answer given to the key's others (a
 * batch's inquiries come from few keys). Its message into q[i]'s. */
static int key_ok(prb_env *env, MDB_txn *txn, prb_inquiry *q, size_t i)
{
    struct prb_recent *r = env->recent;
    const char *id = q[i].key->id;
    for (size_t j = 0; j < r->nkeys; j++) {
        if (strcmp(r->keys[j].id, id))
            continue;
        if (r->keys[j].rc)
            set_msg(&q[i], q[r->keys[j].first].errmsg);
        return r->keys[j].rc;
    }
    int rc = prb_key_live_txn(env, txn, id);
    r->keys[r->nkeys++] = (struct key_seen){id, rc, i};
    if (rc)
        set_msg(&q[i], env->err);
    return rc;
}

int prb_decide_many(prb_env *env, prb_inquiry *q, size_t n)
{
    MDB_txn *txn;
    struct prb_recent *r;
    uint64_t w;
    int rc;
    for (size_t i = 0; i < n; i++) {
        q[i].rc = PRB_OK;
        q[i].errmsg[0] = 0;
        q[i].replay = NULL;
    }
    if (!n)
        return PRB_OK;
    if ((rc = recent_ready(env, n))) {
        fail_all(q, n, rc, "out of memory");
        return rc;
    }
    r = env->recent;
    if ((rc = prb_wtxn_begin(env, &txn))) {
        fail_all(q, n, rc, env->err);
        return rc;
    }
    w = mdb_txn_id(txn);
    prb_wtxn_headroom(env);
    for (size_t i = 0; i < n; i++) {
        uint64_t subject = 0,
                 snap = q[i].decision ? prb_decision_prepared(q[i].decision, &subject) : 0;
        /* Made on another day, it may have used a record that has expired
         * since, or missed a list entry's end: made again, as of today. */
        if (snap && prb_decision_day(q[i].decision) != prb_today(env))
            snap = 0;
        int wrote = 0, remade = 0, stale = 1;
        /* First: a revoked key's inquiry is not even answered in replay. */
        if (q[i].key && (q[i].rc = key_ok(env, txn, q, i)))
            continue;
        rc = PRB_OK;
        /* Looked up in the transaction, so a key kept earlier in this
         * batch is found too; a lookup writes nothing. */
        if (q[i].idem) {
            rc = prb_idem_find_txn(env, txn, q[i].requester, q[i].idem, q[i].purpose,
                                   q[i].identifier, &q[i].replay);
            if (rc != PRB_ENOTFOUND) {
                if (rc) {
                    q[i].rc = rc;
                    set_msg(&q[i], env->err);
                }
                continue;
            }
            rc = PRB_OK;
        }
        if (snap && fresh(r, snap, w, subject) && !seen(r, subject, 0)) {
            wrote = 1;
            rc = prb_decide_store_prepared(env, txn, q[i].decision, &stale);
        }
        if (!rc && stale)
            rc = prb_decide_txn(env, txn, q[i].purpose, q[i].identifier, q[i].requester,
                                &q[i].decision, &remade);
        /* The prepared decision's list refresh may have written before it
         * was found stale: a failure after either abandons the batch. */
        wrote |= remade;
        if (!rc && q[i].idem)
            rc = keep_idem(env, txn, &q[i]);
        if (rc && wrote) {
            prb_wtxn_abort(env, txn);
            fail_all(q, n, rc, env->err);
            return rc;
        }
        if (rc) {
            q[i].rc = rc;
            set_msg(&q[i], env->err);
        } else {
            seen(r, prb_decision_subject(q[i].decision), 1);
        }
    }
    if ((rc = prb_wtxn_commit(env, txn))) {
        fail_all(q, n, rc, env->err);
        return rc;
    }
    /* Out of memory here only costs later batches a recomputation. */
    if (remember(r, w))
        for (size_t i = 0; i < RECENT; i++)
            r->c[i].txnid = 0;
    return PRB_OK;
}
