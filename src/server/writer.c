/*
 * writer.c - the writer thread. The calls that write the register
 * themselves (a furnisher's batch, disputes, reviews, keys: route.c marks
 * them) run here, not on libmicrohttpd's pool. LMDB has one writer: a
 * call waiting for it, or writing a 16-MiB batch for seconds, held up its
 * pool thread and with it every connection that thread serves, reads and
 * health checks included (with --threads 1 the whole server: a health
 * check waited 1.7 s for a batch). Now the pool thread suspends the
 * connection and queues the request; this thread runs it (srv_dispatch)
 * with its answer kept in the request (r->capture) instead of queued,
 * then resumes the connection, whose pool thread sends the answer.
 * Decisions do not come here: the committer stores them in batches
 * (commit.c). One thread is enough, since the writes are one at a time in
 * LMDB anyway; a JSON array's conversion to lines, outside the write, is
 * the only work it serialises that LMDB would not.
 *
 * The queue is taken in turns by token (srv_turns_pick), not first come
 * first served: a furnisher with thirty 16-MiB batches queued (the body
 * memory holds that many) would otherwise keep a subject's dispute
 * waiting for a minute.
 *
 * A stop waits for the call being run (a batch is all or nothing) and
 * answers what is still queued 503, unmade.
 *
 * While a connection is suspended its pool thread leaves it alone, so
 * this thread may read its headers and query (MHD_lookup_connection_value
 * only walks what was parsed); the queue's mutex orders those reads after
 * the suspension and the resumption after them.
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queued requests looked at for the next turn, the oldest first: past
 * it, newer ones wait for older ones to be taken. */
#define PICK_MAX 256

struct srv_writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *head, **tail;
    int stop;
    _Atomic uint64_t pending; /* queued or being run */
    srv_turns turns;
};

/* The slot of id's last turn, or SRV_TURNS if it has none. */
static size_t slot_of(const srv_turns *t, const char *id)
{
    for (size_t j = 0; j < SRV_TURNS; j++)
        if (t->last[j].at && !strcmp(t->last[j].id, id))
            return j;
    return SRV_TURNS;
}

size_t srv_turns_pick(srv_turns *t, const char *const *ids, size_t n)
{
    size_t best = 0, slot = SRV_TURNS;
    uint64_t best_at = UINT64_MAX;
    for (size_t i = 0; i < n && best_at; i++) {
        size_t j = slot_of(t, ids[i]);
        uint64_t at = j < SRV_TURNS ? t->last[j].at : 0;
        if (at < best_at)
            best = i, best_at = at, slot = j;
    }
    /* A token with no turn remembered takes the slot of the one served
     * longest ago. */
    if (slot == SRV_TURNS) {
        slot = 0;
        for (size_t j = 1; j < SRV_TURNS; j++)
            if (t->last[j].at < t->last[slot].at)
                slot = j;
        snprintf(t->last[slot].id, sizeof t->last[slot].id, "%s", ids[best]);
    }
    t->last[slot].at = ++t->clock;
    return best;
}

int srv_writer_submit(srv_writer *w, req *r)
{
    pthread_mutex_lock(&w->mu);
    /* As in commit.c: no connection may stay suspended with nobody left
     * to resume it; and none is queued once the stop has refused the
     * queue. */
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    r->wk_queued = 1;
    r->wk_next = NULL;
    atomic_fetch_add(&w->pending, 1);
    MHD_suspend_connection(r->conn);
    *w->tail = r;
    w->tail = &r->wk_next;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* The next request in turn, or NULL when stopping with none left. */
static req *take(srv_writer *w)
{
    const char *ids[PICK_MAX];
    req *r = NULL, **at[PICK_MAX];
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->head && !w->stop)
        pthread_cond_wait(&w->cv, &w->mu);
    for (req **p = &w->head; *p && n < PICK_MAX; p = &(*p)->wk_next) {
        at[n] = p;
        ids[n++] = (*p)->key.id;
    }
    if (n) {
        req **p = at[srv_turns_pick(&w->turns, ids, n)];
        r = *p;
        if (!(*p = r->wk_next))
            w->tail = p;
    }
    pthread_mutex_unlock(&w->mu);
    return r;
}

static void done(srv_writer *w, req *r)
{
    r->capture = 0;
    r->wk_done = 1;
    atomic_fetch_sub(&w->pending, 1);
    MHD_resume_connection(r->conn);
}

static void *writer(void *arg)
{
    srv_writer *w = arg;
    req *r;
    while ((r = take(w))) {
        r->capture = 1;
        r->wk_ok = srv_dispatch(r);
        done(w, r);
    }
    return NULL;
}

uint64_t srv_writer_pending(srv_writer *w)
{
    return w ? atomic_load(&w->pending) : 0;
}

srv_writer *srv_writer_start(void)
{
    srv_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->tail = &w->head;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, writer, w)) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    return w;
}

void srv_writer_stop(srv_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    /* Still queued once the grace has run out: refused, not run, since a
     * backlog of batches would hold the stop for minutes. The call being
     * run finishes (a batch is all or nothing). */
    req *left = w->head;
    w->head = NULL;
    w->tail = &w->head;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    while (left) {
        req *r = left;
        left = r->wk_next;
        r->capture = 1;
        r->xhdr = MHD_HTTP_HEADER_CONNECTION;
        snprintf(r->xval, sizeof r->xval, "close");
        r->wk_ok =
            srv_problem(r, 503, NULL, NULL, "the server is stopping; nothing was written", NULL);
        done(w, r);
    }
    pthread_join(w->th, NULL);
}

void srv_writer_free(srv_writer *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
