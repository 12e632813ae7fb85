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
#include <string.h>

/* An inquiry's message: the handle's, cut to the inquiry's buffer. */
static void set_msg(prb_inquiry *q, const char *msg)
{
    snprintf(q->errmsg, sizeof q->errmsg, "%.*s", (int)sizeof q->errmsg - 1, msg);
}

static void fail_all(prb_inquiry *q, size_t n, int rc, const char *msg)
{
    for (size_t i = 0; i < n; i++) {
        q[i].rc = rc;
        set_msg(&q[i], msg);
    }
}

int prb_decide_many(prb_env *env, prb_inquiry *q, size_t n)
{
    MDB_txn *txn;
    int rc;
    for (size_t i = 0; i < n; i++) {
        q[i].rc = PRB_OK;
        q[i].errmsg[0] = 0;
    }
    if (!n)
        return PRB_OK;
    if ((rc = prb_wtxn_begin(env, &txn))) {
        fail_all(q, n, rc, env->err);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        int wrote = 0;
        rc = prb_decide_txn(env, txn, q[i].purpose, q[i].identifier, q[i].requester, &q[i].decision,
                            &wrote);
        if (rc && wrote) {
            prb_wtxn_abort(env, txn);
            fail_all(q, n, rc, env->err);
            return rc;
        }
        if (rc) {
            q[i].rc = rc;
            set_msg(&q[i], env->err);
        }
    }
    if ((rc = prb_wtxn_commit(env, txn))) {
        fail_all(q, n, rc, env->err);
        return rc;
    }
    return PRB_OK;
}
