/*
 * holders.c - the share of request-body memory each token holds. The
 * bodies of all requests together are bounded (--body-memory), and a
 * batch's whole announced length is held from its head on. Without a
 * share per token, one furnisher's batches sent and left unfinished (or
 * trickled under the idle timeout) took all of it: every other
 * furnisher's batch was refused with 503 for as long as they stayed.
 * Now one token holds at most a quarter of the bound (and at least one
 * batch of the largest size), so it takes four tokens to do that.
 *
 * Only batches of records are counted: other bodies are at most 64 KiB,
 * and a decision's should not take a lock. A few furnishers send at a
 * time, so a small table searched in full is enough; a full table
 * refuses the batch as a full share does, saying which.
 *
 * The same table, keyed by client address, shares out the memory of
 * large answers being sent (--answer-memory; server.c, srv_answer_hold):
 * one address's answers read slowly hold at most a quarter of it, and
 * the first of them may be of any size. An answer that may not be
 * refused (a read that told its subjects has written) is put in its
 * share past the cap, so that the address's next read finds it full.
 */
#include "srv.h"

#include <stdio.h>
#include <string.h>

void srv_holders_init(srv_holders *t, size_t cap, int any_first)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->cap = cap;
    t->any_first = any_first;
}

void srv_holders_destroy(srv_holders *t)
{
    pthread_mutex_destroy(&t->mu);
}

/* The slot of id's share, or -1 if it holds nothing. Under t->mu. */
static int slot_of(const srv_holders *t, const char *id)
{
    for (int i = 0; i < SRV_HOLDERS; i++)
        if (t->h[i].bytes && !strcmp(t->h[i].id, id))
            return i;
    return -1;
}

/* srv_holders_add, or with past_cap srv_holders_put. */
static int add(srv_holders *t, const char *id, size_t more, int past_cap)
{
    int rc = -1;
    pthread_mutex_lock(&t->mu);
    int i = slot_of(t, id);
    if (i >= 0) {
        /* A first holding may have gone past cap (any_first). */
        if (past_cap || (t->h[i].bytes <= t->cap && more <= t->cap - t->h[i].bytes)) {
            t->h[i].bytes += more;
            rc = 0;
        }
    } else if (more <= t->cap || t->any_first || past_cap) {
        for (i = 0; i < SRV_HOLDERS && t->h[i].bytes; i++)
            ;
        rc = -2;
        if (i < SRV_HOLDERS) {
            snprintf(t->h[i].id, sizeof t->h[i].id, "%s", id);
            t->h[i].bytes = more;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int srv_holders_add(srv_holders *t, const char *id, size_t more)
{
    return add(t, id, more, 0);
}

int srv_holders_put(srv_holders *t, const char *id, size_t more)
{
    return add(t, id, more, 1);
}

void srv_holders_sub(srv_holders *t, const char *id, size_t less)
{
    pthread_mutex_lock(&t->mu);
    int i = slot_of(t, id);
    if (i >= 0)
        t->h[i].bytes -= less < t->h[i].bytes ? less : t->h[i].bytes;
    pthread_mutex_unlock(&t->mu);
}
