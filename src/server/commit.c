/*
 * commit.c - group commit of decisions. A stored decision is one durable
 * LMDB commit, an fsync that costs far more than the decision itself; one
 * commit per request would cap the server at a few thousand decisions a
 * second however many threads ask. So the pool thread that took the
 * request computes the decision (prb_decide_prepare: a read transaction,
 * on as many threads as there are pool threads), queues it and suspends
 * the connection, and goes on serving others; one committer thread takes
 * everything queued and stores all of it with prb_decide_many in one
 * write transaction and one commit (making again, inside it, only the
 * decisions whose inputs changed since they were computed), and then
 * resumes the connections, which answer, and only then tops up the data
 * file's room ahead (prb_headroom). The single writer holds the
 * write lock for the writes and the fsync, and for the decisions made
 * again: few, but nearly all of a stream about one subject. While
 * one batch commits the next one gathers, so batches grow with the load
 * and latency stays about two commits. Nobody is answered before the
 * commit holding their decision: an answered decision is a stored one.
 */
#include "srv.h"

#include <stdlib.h>
#include <string.h>

/* Most inquiries per transaction: bounds the latency of one batch. */
#define BATCH_MAX 512

struct srv_commit {
    srv *s;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *head, **tail;
    int stop, stopped;
    /* The committer's inquiries, holding the requests' decision handles
     * while a batch is made. */
    prb_inquiry q[BATCH_MAX];
    req *batch[BATCH_MAX];
};

int srv_commit_submit(srv_commit *c, req *r)
{
    pthread_mutex_lock(&c->mu);
    /* A connection suspended with nobody left to resume it would make
     * libmicrohttpd abort the process when the server stops. */
    if (c->stopped) {
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    r->gc_queued = 1;
    r->gc_next = NULL;
    /* Suspended before it is queued, so the committer never resumes a
     * connection that is not suspended yet; the committer resumes
     * connections without holding mu, so the two locks never cross. */
    MHD_suspend_connection(r->conn);
    *c->tail = r;
    c->tail = &r->gc_next;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Takes up to BATCH_MAX queued requests; 0 when stopping with none. */
static size_t take(srv_commit *c)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->head && !c->stop)
        pthread_cond_wait(&c->cv, &c->mu);
    while (c->head && n < BATCH_MAX) {
        c->batch[n++] = c->head;
        c->head = c->head->gc_next;
    }
    if (!c->head)
        c->tail = &c->head;
    if (!n)
        c->stopped = 1;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void finish(srv_commit *c, size_t i)
{
    req *r = c->batch[i];
    prb_inquiry *q = &c->q[i];
    r->gc_rc = q->rc;
    if (q->rc)
        memcpy(r->gc_err, q->errmsg, sizeof r->gc_err);
    /* The request's handle, or the one made for it if it had none. */
    r->dec = q->decision;
    q->decision = NULL;
    r->replay = q->replay;
    q->replay = NULL;
    r->gc_done = 1;
    MHD_resume_connection(r->conn);
}

static void *committer(void *arg)
{
    srv_commit *c = arg;
    srv *s = c->s;
    size_t n;
    while ((n = take(c))) {
        prb_env *h = srv_env(s);
        for (size_t i = 0; i < n; i++) {
            c->q[i].purpose = c->batch[i]->purpose;
            c->q[i].identifier = c->batch[i]->subject;
            c->q[i].requester = c->batch[i]->key.name;
            c->q[i].decision = c->batch[i]->dec;
            c->q[i].idem = c->batch[i]->idem[0] ? c->batch[i]->idem : NULL;
            /* Looked up again in the batch's transaction: a decision
             * queued behind a long write is not stored if its key was
             * revoked meanwhile. */
            c->q[i].key = c->batch[i]->has_key ? &c->batch[i]->key : NULL;
        }
        if (!h) {
            for (size_t i = 0; i < n; i++) {
                c->q[i].rc = PRB_ENOMEM;
                strcpy(c->q[i].errmsg, "out of memory");
            }
        } else {
            pthread_rwlock_rdlock(&s->engine);
            prb_decide_many(h, c->q, n);
            pthread_rwlock_unlock(&s->engine);
        }
        /* Decisions stored: not a replay answered from its key, nor one
         * refused or lost with a batch that failed. */
        uint64_t stored = 0;
        for (size_t i = 0; i < n; i++)
            stored += c->q[i].rc == PRB_OK && !c->q[i].replay;
        atomic_fetch_add(&s->metrics.batches, 1);
        atomic_fetch_add(&s->metrics.batched, stored);
        for (size_t i = 0; i < n; i++)
            finish(c, i);
        /* The data file's room ahead, written now that this batch is
         * answered rather than inside the next one's transaction. */
        if (h) {
            pthread_rwlock_rdlock(&s->engine);
            prb_headroom(h);
            pthread_rwlock_unlock(&s->engine);
        }
    }
    return NULL;
}

srv_commit *srv_commit_start(srv *s)
{
    srv_commit *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->tail = &c->head;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, committer, c)) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
        return NULL;
    }
    return c;
}

void srv_commit_stop(srv_commit *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
}

void srv_commit_free(srv_commit *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
