/*
 * ratelimit.c - a token bucket per caller: per key id for requests with a
 * token, per client address for those without, and per client address
 * for failed authentications. Each bucket holds up to burst requests and
 * refills at rate per second.
 *
 * Buckets live in a fixed table (4-way sets indexed by a hash of the
 * caller), so a flood of new callers cannot grow memory: a caller new to
 * a full set takes the place of the one seen longest ago, which starts
 * again with a full bucket. One mutex guards the table; taking a request
 * is a few loads and stores under it.
 */
#include "srv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SETS 1024
#define WAYS 4
/* The longest Retry-After: a rate so small that the next request is
 * further off than a day is told a day, and the wait fits an unsigned
 * (a rate of 1e-12 asked for 10^12 s, past what the cast may take). */
#define WAIT_MAX 86400.0

struct bucket {
    uint64_t key; /* hash of the caller; 0: empty */
    double tokens;
    double last; /* seconds, monotonic */
};

struct srv_limiter {
    double rate, burst;
    pthread_mutex_t mu;
    struct bucket b[SETS][WAYS];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= h >> 31;
    return h ? h : 1;
}

srv_limiter *srv_limiter_new(double rate, double burst)
{
    srv_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->rate = rate;
    l->burst = burst >= 1 ? burst : rate >= 1 ? rate : 1;
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void srv_limiter_free(srv_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Takes one request from key's bucket, refilled to now, if take and it
 * has one. The seconds until it has one, 0 if it had. */
static unsigned use(srv_limiter *l, const char *key, int take)
{
    uint64_t h = hash(key);
    double t = now_s();
    unsigned wait = 0;
    if (!l || l->rate <= 0)
        return 0;
    pthread_mutex_lock(&l->mu);
    struct bucket *set = l->b[h % SETS], *b = NULL, *oldest = &set[0];
    for (int i = 0; i < WAYS; i++) {
        if (set[i].key == h)
            b = &set[i];
        if (set[i].last < oldest->last)
            oldest = &set[i];
    }
    /* A peek at an address with no bucket: a new one starts full, so it
     * need not wait, and taking a slot for it would push out the bucket
     * of an address that is guessing. */
    if (!b && !take && l->burst >= 1) {
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    if (!b) {
        b = oldest;
        b->key = h;
        b->tokens = l->burst;
        b->last = t;
    }
    b->tokens = fmin(l->burst, b->tokens + (t - b->last) * l->rate);
    b->last = t;
    if (b->tokens < 1)
        wait = (unsigned)fmin(ceil((1 - b->tokens) / l->rate), WAIT_MAX);
    else if (take)
        b->tokens -= 1;
    pthread_mutex_unlock(&l->mu);
    return wait;
}

unsigned srv_limiter_take(srv_limiter *l, const char *key)
{
    return use(l, key, 1);
}

unsigned srv_limiter_peek(srv_limiter *l, const char *key)
{
    return use(l, key, 0);
}
