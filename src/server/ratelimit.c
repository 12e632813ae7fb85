/*
 * ratelimit.c - a token bucket per caller: per key id for requests with a
 * token, per client address for those without, and per client address
 * for failed authentications. Each bucket holds up to burst requests and
 * refills at rate per second.
 *
 * Buckets live in a fixed table (4-way sets indexed by a hash of the
 * caller), so a flood of new callers cannot grow memory. Forgetting a
 * caller must never give it more than it had: a caller new to a full
 * set takes the place of a bucket that has refilled whole (whose caller
 * would find it full again anyway), and when none has, it takes the
 * place of the one seen longest ago and starts empty. The hash is keyed
 * (SipHash, with a key drawn at start), so no one can work out which
 * addresses share a set. Before, the hash was a fixed one and an evicted
 * caller started again full: five addresses that shared a set, taken in
 * turn, had a fresh burst every time. One mutex guards the table; taking
 * a request is a few loads and stores under it, the hash done before.
 */
#include "srv.h"

#include <math.h>
#include <sodium.h>
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
    unsigned char key[crypto_shorthash_KEYBYTES];
    pthread_mutex_t mu;
    struct bucket b[SETS][WAYS];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t hash(const srv_limiter *l, const char *s)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, (const unsigned char *)s, strlen(s), l->key);
    memcpy(&h, out, sizeof h);
    return h ? h : 1;
}

srv_limiter *srv_limiter_new(double rate, double burst)
{
    if (sodium_init() < 0)
        return NULL;
    srv_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    randombytes_buf(l->key, sizeof l->key);
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

/* Whether b holds no caller, or one whose bucket has refilled whole by t. */
static int spare(const srv_limiter *l, const struct bucket *b, double t)
{
    return !b->key || b->tokens + (t - b->last) * l->rate >= l->burst;
}

/* Takes one request from key's bucket, refilled to now, if take and it
 * has one. The seconds until it has one, 0 if it had. */
static unsigned use(srv_limiter *l, const char *key, int take)
{
    if (!l || l->rate <= 0)
        return 0;
    uint64_t h = hash(l, key);
    double t = now_s();
    unsigned wait = 0;
    pthread_mutex_lock(&l->mu);
    struct bucket *set = l->b[h % SETS], *b = NULL, *room = NULL, *oldest = &set[0];
    struct bucket fresh;
    for (int i = 0; i < WAYS && !b; i++) {
        if (set[i].key == h)
            b = &set[i];
        else if (!room && spare(l, &set[i], t))
            room = &set[i];
        if (set[i].last < oldest->last)
            oldest = &set[i];
    }
    if (!b) {
        /* A peek takes no place: it answers as the new bucket would. */
        b = !take ? &fresh : room ? room : oldest;
        b->key = h;
        b->tokens = room ? l->burst : 0;
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

unsigned srv_limiter_set_of(const srv_limiter *l, const char *key)
{
    return (unsigned)(hash(l, key) % SETS);
}
