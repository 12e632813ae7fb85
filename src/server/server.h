/*
 * server.h - the HTTP JSON API server (probity serve, tests/test_server.c).
 *
 * A thin shell over include/probity.h on libmicrohttpd: it parses
 * requests, authorises them (auth.c), calls the engine and formats its
 * answers. One register handle is opened by the caller; every worker
 * thread works on its own prb_env_dup of it, so error messages and the
 * clock are per thread and read calls run in parallel.
 */
#ifndef PRB_SERVER_H
#define PRB_SERVER_H

#include "probity.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_opts {
    const char *listen;      /* "HOST:PORT" (IPv4, or [IPv6]); port 0 picks a free one */
    int threads;             /* worker threads; 0: one per core */
    unsigned timeout;        /* seconds a connection may sit idle; 0: 10 */
    unsigned header_timeout; /* seconds a request's line and headers may take
                                to arrive, however they trickle; 0: 30 */
    unsigned body_timeout;   /* seconds a request's body may take, plus one for
                                every body_rate bytes that have come; and an
                                answer from when it is queued, plus one for
                                every body_rate bytes of it; 0: 30 */
    unsigned body_rate;      /* bytes a second a body or an answer must keep
                                up past body_timeout; 0: 4096 */
    size_t max_body;         /* largest batch of records (POST /v1/records) in bytes;
                                0: 16 MiB. Other bodies: at most 64 KiB. */
    size_t body_memory;      /* bytes of request bodies held at once, all requests
                                together (past it, 503); 0: 512 MiB, or max_body
                                if more. At least max_body. */
    size_t answer_memory;    /* bytes of answers over 64 KiB being sent at once,
                                all connections together; past it, a GET gets
                                503 (the first always goes); one client
                                address's GETs, a quarter of it (per_address
                                > 0); 0: 512 MiB */
    double rate;             /* requests per second per token (per address without
                                one); 0: no limit; negative: the default, 1000 */
    double burst;            /* bucket size; 0: rate (at least 1) */
    double public_rate;      /* requests per second per address without a valid
                                token, and tokens not found per address (past
                                it every token from there is refused unread;
                                bucket: as many); 0: no limit; negative: the
                                default, 100 */
    int per_address;         /* connections one client address may hold at once;
                                0: no limit; negative: the default, 256 */
    unsigned sweep;          /* seconds between sweeps; 0: none */
    int64_t fixed_now;       /* the as-of clock stands here (PROBITY_NOW, --as-of);
                                0: the system clock */
    int access_log;          /* one line per request on standard error */
} srv_opts;

typedef struct srv srv;

/* Starts serving env (borrowed: it must outlive the server) with o. It
 * raises the process's soft limit on open files to the hard one, and
 * takes fewer than 4,096 connections at once if that is still short of
 * them and the descriptors it keeps for the rest (saying so on standard
 * error). On failure (also: too few descriptors for any connection)
 * returns -1 with a message in err. */
int srv_start(prb_env *env, const srv_opts *o, srv **out, char *err, size_t errlen);
/* The port the server listens on (the one picked when asked for 0). */
uint16_t srv_port(const srv *s);
/* Stops taking connections, lets the requests in flight finish (for at
 * most grace seconds), stops the sweep and frees everything. */
void srv_stop(srv *s, unsigned grace);

#endif
