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
 * While a connection is suspended its pool thread leaves it alone, so
 * this thread may read its headers and query (MHD_lookup_connection_value
 * only walks what was parsed); the queue's mutex orders those reads after
 * the suspension and the resumption after them.
 */
#include "srv.h"

#include <stdlib.h>

struct srv_writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *head, **tail;
    int stop, stopped;
    _Atomic uint64_t pending; /* queued or being run */
};

int srv_writer_submit(srv_writer *w, req *r)
{
    pthread_mutex_lock(&w->mu);
    /* As in commit.c: no connection may stay suspended with nobody left
     * to resume it. */
    if (w->stopped) {
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

/* The next request, or NULL when stopping with none left. */
static req *take(srv_writer *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->head && !w->stop)
        pthread_cond_wait(&w->cv, &w->mu);
    req *r = w->head;
    if (r && !(w->head = r->wk_next))
        w->tail = &w->head;
    if (!r)
        w->stopped = 1;
    pthread_mutex_unlock(&w->mu);
    return r;
}

static void *writer(void *arg)
{
    srv_writer *w = arg;
    req *r;
    while ((r = take(w))) {
        r->capture = 1;
        r->wk_ok = srv_dispatch(r);
        r->capture = 0;
        r->wk_done = 1;
        atomic_fetch_sub(&w->pending, 1);
        MHD_resume_connection(r->conn);
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
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
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
