/*
 * cmd_serve.c - probity serve: the HTTP JSON API (src/server) in the
 * foreground until SIGTERM or SIGINT, then a graceful stop: new requests
 * answered 503, those in flight finished (up to 10 seconds), the sweep
 * and the decision committer stopped, the register closed.
 */
#include "cli.h"
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: probity serve DIR [--listen HOST:PORT] [--threads N] [--timeout SECONDS]\n"
    "                         [--header-timeout SECONDS] [--body-timeout SECONDS]\n"
    "                         [--body-rate BYTES] [--max-body BYTES]\n"
    "                         [--body-memory BYTES] [--answer-memory BYTES]\n"
    "                         [--rate-limit N]\n"
    "                         [--burst N] [--public-rate N] [--sweep SECONDS]\n"
    "                         [--per-address N] [--access-log]\n"
    "A number's 0 means its default, except where 0 says otherwise below.\n"
    "  --listen      address to listen on (default 127.0.0.1:8080; port 0: any free one)\n"
    "  --threads     worker threads (at most 256; default and 0: one per core)\n"
    "  --timeout     seconds a connection may sit idle (default 10)\n"
    "  --header-timeout seconds a request's line and headers may take to\n"
    "                arrive, however slowly they trickle in, past the\n"
    "                --timeout they may first wait; past it the connection\n"
    "                is closed (default 30)\n"
    "  --body-timeout seconds a request's body may take once its headers are\n"
    "                in, plus one for every --body-rate bytes that have come,\n"
    "                and an answer once it is queued, plus one for every\n"
    "                --body-rate bytes of it; past it the connection is closed\n"
    "                (default 30)\n"
    "  --body-rate   bytes a second a body or an answer must keep up past\n"
    "                --body-timeout (default 4096)\n"
    "  --max-body    largest batch of records (POST /v1/records) in bytes\n"
    "                (default 16777216); other bodies are at most 64 KiB.\n"
    "                Decisions wait while a batch is written: a lower limit\n"
    "                bounds that wait\n"
    "  --body-memory bytes of request bodies held at once, all requests\n"
    "                together; past it 503 (default 536870912, or --max-body\n"
    "                if more). One token's batches hold at most a quarter\n"
    "                of it, or one --max-body if that is more\n"
    "  --answer-memory bytes of answers over 64 KiB (list pages, files)\n"
    "                being sent at once, all connections together; past it\n"
    "                a GET is answered 503, though one such answer always\n"
    "                goes (default 536870912). One client address's hold at\n"
    "                most a quarter of it (unless --per-address is 0)\n"
    "  --rate-limit  requests per second per token (default 1000; 0: no limit)\n"
    "  --burst       requests a token may make at once (default and 0: the rate)\n"
    "  --public-rate requests per second per address without a valid token,\n"
    "                and tokens that are not valid per address (past it, every\n"
    "                token from the address waits) (default 100; 0: no limit,\n"
    "                as behind a proxy)\n"
    "  --per-address connections one client address may hold at once\n"
    "                (default 256; 0: no limit, as behind a proxy)\n"
    "  --sweep       seconds between sweeps: retention, dispute deadlines, list\n"
    "                refresh, notice delivery (default 3600); also just after\n"
    "                each day begins (UTC), when records expire (0: no sweeps,\n"
    "                not even then)\n"
    "The clock stands still at PROBITY_NOW or --as-of when one is given; otherwise\n"
    "each request is answered as of the system clock.\n";

#define GRACE_SECONDS 10

/* A whole number option within [0, max], in digits as every command's
 * counts are (cli_whole); -1 if malformed. strtod took "nan", "inf"
 * and fractions (a NaN rate passed every comparison and lifted the
 * limit, and a tiny one made a Retry-After past what an unsigned
 * holds), and then 0x10, 1e2, +8 and " 8" as well. zero says what 0
 * means, which differs between options: the default, or no limit. */
static int number(cli_args *a, const char *name, uint64_t max, const char *zero, double *v)
{
    const char *s = cli_opt(a, name);
    uint64_t x;
    if (!s)
        return 0;
    if (cli_whole(s, &x) || x > max) {
        fprintf(stderr, "probity: --%s '%s' is not a whole number from 0 to %llu (0: %s)\n", name,
                s, (unsigned long long)max, zero);
        return -1;
    }
    *v = (double)x;
    return 0;
}

static int options(cli_args *a, srv_opts *o)
{
    static const char dflt[] = "the default", none[] = "no limit";
    double threads = 0, timeout = 0, htimeout = 0, btimeout = 0, brate = 0, body = 0, mem = 0,
           amem = 0, rate = -1, burst = 0, pub = -1, sweep = 3600, per = -1;
    o->listen = cli_opt(a, "listen");
    o->access_log = cli_flag(a, "access-log");
    if (number(a, "threads", 256, "one per core", &threads) ||
        number(a, "timeout", 3600, dflt, &timeout) ||
        number(a, "header-timeout", 3600, dflt, &htimeout) ||
        number(a, "body-timeout", 86400, dflt, &btimeout) ||
        number(a, "body-rate", 1 << 30, dflt, &brate) ||
        number(a, "max-body", 1 << 30, dflt, &body) ||
        number(a, "body-memory", 1ull << 40, dflt, &mem) ||
        number(a, "answer-memory", 1ull << 40, dflt, &amem) ||
        number(a, "rate-limit", 1000000000, none, &rate) ||
        number(a, "public-rate", 1000000000, none, &pub) ||
        number(a, "burst", 1000000000, "the rate", &burst) ||
        number(a, "sweep", 86400 * 7, "no sweeps at all", &sweep) ||
        number(a, "per-address", 65535, none, &per))
        return 2;
    o->threads = (int)threads;
    o->timeout = (unsigned)timeout;
    o->header_timeout = (unsigned)htimeout;
    o->body_timeout = (unsigned)btimeout;
    o->body_rate = (unsigned)brate;
    o->max_body = (size_t)body;
    o->body_memory = (size_t)mem;
    o->answer_memory = (size_t)amem;
    o->rate = rate;
    o->burst = burst;
    o->public_rate = pub;
    o->sweep = (unsigned)sweep;
    o->per_address = (int)per;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const char *const flags[] = {"access-log", NULL};
    cli_args a;
    srv_opts o;
    prb_env *env;
    srv *s;
    char err[512];
    sigset_t set;
    int rc = cli_parse(argc, argv, flags, &a), sig = 0;
    if (rc == CLI_HELP) /* its options are explained only here */
        return fputs(serve_usage, stdout), 0;
    if (rc)
        return rc;
    if (a.npos != 1)
        return fputs(serve_usage, stderr), 2;
    memset(&o, 0, sizeof o);
    if ((rc = options(&a, &o)))
        return rc;
    /* The map is address space, not disk (no MDB_WRITEMAP): a large one
     * spares the server growing it while other threads read, which LMDB
     * does not allow. */
    setenv("PROBITY_MAPSIZE_MB", "262144", 0);
    /* As prb_clock reads it (an empty PROBITY_NOW is unset): a server
     * that took PROBITY_NOW= for pinned kept the moment it started for
     * ever, and no retention or deadline would ever pass. */
    int fixed = prb_clock_pinned() || cli_opt(&a, "as-of");
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    o.fixed_now = fixed ? prb_now(env) : 0;
    /* The signals are taken by sigwait below, in this thread only: every
     * thread the server starts inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (srv_start(env, &o, &s, err, sizeof err)) {
        rc = cli_fail(PRB_EIO, err);
        goto out;
    }
    const char *l = o.listen ? o.listen : "127.0.0.1:8080";
    fprintf(stderr, "probity: serving %s on http://%.*s:%u/ (Ctrl-C to stop)\n", a.pos[0],
            (int)(strrchr(l, ':') - l), l, srv_port(s));
    if (o.fixed_now) {
        char at[21];
        prb_time_format(o.fixed_now, at);
        fprintf(stderr, "probity: the clock stands still at %s (PROBITY_NOW or --as-of)\n", at);
    }
    sigwait(&set, &sig);
    fprintf(stderr, "probity: %s: finishing the requests in flight\n",
            sig == SIGINT ? "interrupted" : "terminated");
    srv_stop(s, GRACE_SECONDS);
    fprintf(stderr, "probity: stopped\n");
out:
    prb_close(env);
    return rc;
}
