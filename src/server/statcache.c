/*
 * statcache.c - the answer of GET /v1/stats, made on a thread of its own.
 *
 * The statistics walk the whole register: 1 s on a 1,000,000-subject one.
 * Made on a request thread, as at first, they held up every connection of
 * that thread for that long; two anonymous requests in 25 s raised the
 * decisions' p99 under load from 12 ms to 820 ms. Now a request gets the
 * latest copy at once and, if it is older than STATS_TTL, asks this
 * thread for a new one. Only the first request after a start, if it comes
 * before the first copy is made (at start), waits for it. So a copy is as
 * old as the time since the last request before it, not STATS_TTL at
 * most (an hourly poller is answered the copy its previous poll asked
 * for): its made_at, and the answer's Last-Modified, say how old.
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds a copy is answered before a newer one is asked for. */
#define STATS_TTL 10

static int64_t mono_s(void)
{
    return (int64_t)(srv_mono_us() / 1000000u);
}

static void *stats_thread(void *arg)
{
    srv *s = arg;
    srv_statcache *c = &s->stats;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && !c->wanted)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->wanted = 0;
        pthread_mutex_unlock(&c->mu);
        prb_env *h = srv_env(s);
        char *json = NULL;
        int rc = PRB_ENOMEM;
        int64_t clock = 0;
        if (h) {
            clock = prb_now(h); /* srv_env set it: the walk's made_at */
            /* A walk under way stops for a server that is stopping. */
            prb_set_cancel(h, srv_stopping, s);
            pthread_rwlock_rdlock(&s->engine);
            rc = prb_stats_json(h, &json);
            pthread_rwlock_unlock(&s->engine);
            if (rc)
                fprintf(stderr, "probity serve: statistics: %s\n", prb_errmsg(h));
        }
        pthread_mutex_lock(&c->mu);
        if (!rc && json) {
            free(c->json);
            c->json = json;
            c->at = mono_s();
            c->clock = clock;
        }
        c->made++;
        pthread_cond_broadcast(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int srv_stats_start(srv *s)
{
    srv_statcache *c = &s->stats;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_cond_init(&c->done, NULL);
    c->inited = 1;
    c->wanted = 1; /* the first copy, made at start */
    if (pthread_create(&c->th, NULL, stats_thread, s))
        return -1;
    c->running = 1;
    return 0;
}

void srv_stats_stop(srv *s)
{
    srv_statcache *c = &s->stats;
    if (!c->inited)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->mu);
    if (c->running)
        pthread_join(c->th, NULL);
    c->running = 0;
}

void srv_stats_free(srv *s)
{
    srv_statcache *c = &s->stats;
    if (!c->inited)
        return;
    free(c->json);
    c->json = NULL;
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    c->inited = 0;
}

char *srv_stats_copy(srv *s, int64_t *made_at)
{
    srv_statcache *c = &s->stats;
    char *json = NULL;
    pthread_mutex_lock(&c->mu);
    if ((!c->json || mono_s() - c->at >= STATS_TTL) && !c->wanted) {
        c->wanted = 1;
        pthread_cond_signal(&c->cv);
    }
    /* No copy yet: wait for the one being made, not for a later one. */
    for (uint64_t made = c->made; !c->json && !c->stop && c->made == made;)
        pthread_cond_wait(&c->done, &c->mu);
    if (c->json) {
        json = strdup(c->json);
        *made_at = c->clock;
    }
    pthread_mutex_unlock(&c->mu);
    return json;
}
