/*
 * server.c - the HTTP server's life: libmicrohttpd set up with its own
 * epoll threads, the life of a request (headers, authentication, rate
 * limit and authorisation first; then the body, within its limit; then
 * the endpoint), the per-thread register handles, the periodic sweep and
 * the graceful stop.
 *
 * A request is judged on its headers before any of its body is read: an
 * unknown route, a bad or missing token, an exhausted rate limit, a
 * forbidden route or a declared body over the limit is answered at once,
 * and libmicrohttpd then closes the connection without reading the body.
 * A body sent in chunks that outgrows the limit gets the connection
 * closed. Connections idle for longer than the timeout are closed, so a
 * slow or half-sent request cannot hold a thread; header size is bounded
 * by libmicrohttpd's per-connection memory.
 */
#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 10
/* A request's head (line and headers, at most CONNECTION_MEMORY) takes a
 * client milliseconds; trickled a byte at a time under the idle timeout
 * it held a connection for hours (heads.c). */
#define DEFAULT_HEADER_TIMEOUT 30
/* A body, once its head is in, and an answer, once it is queued, have
 * as long again and must then keep up 4 KiB a second (32 kbit/s, below
 * any furnisher's link): a 64-KiB object then takes at most 46 s, a
 * 16-MiB batch 69 minutes, a 2.5-MB page of a list about 11 (heads.c). */
#define DEFAULT_BODY_TIMEOUT 30
#define DEFAULT_BODY_RATE 4096
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define DEFAULT_RATE 1000
/* Requests a second from one address without a valid token: the public
 * calls are cheap (a page of a list, a copy of the statistics, a proof:
 * 1-5 ms each), but at a token's 1,000/s one address could still keep
 * both cores busy; and guessing tokens goes no faster than this. */
#define DEFAULT_PUBLIC_RATE 100
#define CONNECTION_LIMIT 4096
/* Descriptors kept for what is not a connection, besides those open at
 * the start: FD_PER_THREAD for each pool thread (its epoll set and its
 * wake-up eventfd, with room to spare) and FD_RESERVE for the files the
 * register opens for a while (the index's, a key's, the spool of
 * notices), webhook connections (libcurl) and the listening socket. */
#define FD_PER_THREAD 4
#define FD_RESERVE 64
/* Descriptors looked at to count those open at the start: a process
 * holding more than this many before it serves is not one we make. */
#define FD_SCAN_MAX 65536
/* Connections one client address may hold: without a bound, one client
 * opening idle connections up to CONNECTION_LIMIT kept every other client
 * waiting until the idle timeout closed them (5,000 of them: /healthz
 * answered after 9.9 s). Past it a connection is closed at once. */
#define DEFAULT_PER_ADDRESS 256
/* A call that takes a JSON object needs a few hundred bytes (texts are
 * at most 2,000 characters): only a batch of records may be large. */
#define OBJECT_BODY_MAX ((size_t)64 << 10)
/* Bodies held at once, all requests together. Without a bound, 100
 * connections sending 16-MiB bodies to GET /v1/stats, no token needed,
 * made the server hold 1.6 GB until they finished; the per-address limit
 * allowed 4 GB from one address, and addresses are cheap. */
#define DEFAULT_BODY_MEMORY ((size_t)512 << 20)
/* Of which one token's batches may hold a quarter (or one largest
 * batch, if that is more): holders.c. */
#define TOKEN_SHARE 4
/* Answers being sent, all connections together. An answer is held whole
 * until it is sent: a public list page of 10,000 members is 2.5 MB, and
 * a client that keeps its window nearly shut holds it for as long as the
 * answer's deadline allows (heads.c; ten minutes at the default rate),
 * then asks again. 256 connections from one address held 640 MB; from 16
 * addresses, all the machine's memory. Answers up to ANSWER_SMALL (every
 * decision, every error) are counted and never refused. One address's
 * large answers hold a quarter of the bound (ADDRESS_SHARE). */
#define DEFAULT_ANSWER_MEMORY ((size_t)512 << 20)
#define ANSWER_SMALL ((size_t)64 << 10)
#define ADDRESS_SHARE 4
/* libmicrohttpd's per-connection memory: the request line and headers
 * must fit in it (beyond, 431), as they must in the 8 KiB that common
 * servers allow. libmicrohttpd zeroes all of it after every request:
 * at 16 KiB that was 1.7 % of the server's CPU under bench/serve. */
#define CONNECTION_MEMORY (8 * 1024)

static _Atomic uint64_t next_gen = 1;

uint64_t srv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void srv_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

struct timespec srv_mono_after(unsigned seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += seconds;
    return ts;
}

int64_t srv_now(const srv *s)
{
    return s->o.fixed_now ? s->o.fixed_now : (int64_t)time(NULL);
}

/* ---------------------------------------------------------- thread handles */

static __thread struct {
    uint64_t gen;
    prb_env *h;
} tl;

prb_env *srv_env(srv *s)
{
    if (tl.gen != s->gen || !tl.h) {
        prb_env *h = NULL;
        if (prb_env_dup(s->env, &h))
            return NULL;
        /* Threads read while one writes: LMDB could not grow the map
         * under them (srv_dispatch grows it for an ingest, alone). */
        prb_set_fixed_map(h, 1);
        pthread_mutex_lock(&s->mu);
        if (s->nhandles == s->hcap) {
            size_t cap = s->hcap ? s->hcap * 2 : 16;
            prb_env **a = realloc(s->handles, cap * sizeof *a);
            if (!a) {
                pthread_mutex_unlock(&s->mu);
                prb_close(h);
                return NULL;
            }
            s->handles = a;
            s->hcap = cap;
        }
        s->handles[s->nhandles++] = h;
        pthread_mutex_unlock(&s->mu);
        tl.gen = s->gen;
        tl.h = h;
    }
    prb_set_now(tl.h, srv_now(s));
    return tl.h;
}

/* ------------------------------------------------------------ the request */

void srv_address_key(const struct sockaddr *sa, char *out, size_t n)
{
    snprintf(out, n, "ip:?");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out + 3,
                  (socklen_t)(n - 3));
    } else if (sa && sa->sa_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) {
            inet_ntop(AF_INET, a.s6_addr + 12, out + 3, (socklen_t)(n - 3));
            return;
        }
        /* A host is given a /64 and may send from any address in it. */
        memset(a.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a, out + 3, (socklen_t)(n - 3));
        size_t l = strlen(out);
        snprintf(out + l, n - l, "/64");
    }
}

static void client_address(req *r, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    srv_address_key(ci ? ci->client_addr : NULL, out, n);
}

/* Refuses r with status: at once when a body would follow (so it is not
 * read), otherwise once the request is complete (so the connection can
 * serve the next one). */
static enum MHD_Result refuse(req *r, unsigned status, const char *detail)
{
    if (r->has_body)
        return srv_problem(r, status, NULL, NULL, detail, NULL) ? MHD_YES : MHD_NO;
    r->pending_status = status;
    r->pending_json = srv_problem_json(r, status, NULL, NULL, detail, NULL);
    return MHD_YES;
}

/* Authenticates r's bearer token, if it has one, sent from addr (its
 * srv_address_key). 0, or a status.
 *
 * Tokens not found are counted per address, at the public rate, and an
 * address out of them is answered 429 before its token is looked up, a
 * valid one too. Before, the token was looked up first and a valid one
 * went by its key's bucket: an address that guessed at any pace was
 * refused every wrong guess, after its hash and lookup, and let in with
 * the right one, so guessing went as fast as the server could look up.
 * The bucket is looked at, not taken from, before a lookup, and charged
 * after one that failed: a client with a valid token loses nothing to
 * it, and at most one lookup a pool thread gets past an empty bucket. */
static unsigned authenticate(req *r, const char *addr, const char **why)
{
    const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    char token[PRB_TOKEN_MAX + 64];
    unsigned wait;
    *why = NULL;
    if (!auth)
        return 0;
    if (srv_bearer(auth, token, sizeof token)) {
        *why = "the Authorization header must be 'Bearer TOKEN'";
        return 401;
    }
    if ((wait = srv_limiter_peek(r->s->auth_limiter, addr))) {
        memset(token, 0, sizeof token);
        r->xhdr = MHD_HTTP_HEADER_RETRY_AFTER;
        snprintf(r->xval, sizeof r->xval, "%u", wait);
        *why = "too many tokens that are not valid from this address: wait as long as "
               "Retry-After says";
        return 429;
    }
    prb_env *h = srv_env(r->s);
    if (!h) {
        *why = "out of memory";
        return 503;
    }
    pthread_rwlock_rdlock(&r->s->engine);
    int rc = prb_key_check(h, token, &r->key);
    pthread_rwlock_unlock(&r->s->engine);
    memset(token, 0, sizeof token);
    if (rc == PRB_ENOTFOUND) {
        srv_limiter_take(r->s->auth_limiter, addr);
        *why = SRV_TOKEN_INVALID;
        return 401;
    }
    if (rc) {
        fprintf(stderr, "probity serve: request %llu: checking a token: %s\n",
                (unsigned long long)r->id, prb_errmsg(h));
        *why = "the token could not be checked";
        return 500;
    }
    r->has_key = 1;
    r->key_us = srv_mono_us();
    return 0;
}

/* Whether r's body counts in its token's share: a batch of records. */
static int in_share(const req *r)
{
    return r->has_key && srv_route_body(r->route) == SRV_BODY_RECORDS;
}

/* Counts bytes of r's body against the bodies all requests may hold,
 * and a batch's against its token's share of them: brings r's count up
 * to want. -1, holding nothing more, if the bodies would be over the
 * bound; -2 if the token's batches would be over its share; -3 if as
 * many tokens as the share table holds have batches under way. */
static int hold_body(req *r, size_t want)
{
    srv *s = r->s;
    if (want <= r->held)
        return 0;
    size_t more = want - r->held;
    int share = in_share(r), rc;
    if (share && (rc = srv_holders_add(&s->holders, r->key.id, more)))
        return rc - 1;
    if (atomic_fetch_add(&s->body_held, more) + more > s->o.body_memory) {
        atomic_fetch_sub(&s->body_held, more);
        if (share)
            srv_holders_sub(&s->holders, r->key.id, more);
        return -1;
    }
    r->held = want;
    return 0;
}

int srv_answer_hold(req *r, size_t len)
{
    srv *s = r->s;
    /* Only a read's large answer may be refused: a write's call has run,
     * and a 503 would say nothing had been done. So has a read's that
     * told its subjects (r->written), which was refused, if at all,
     * before it wrote (srv_answer_reserve); its large answer is counted
     * in its address's share all the same, so that the next read from
     * there finds the share as full as it is. */
    int large = len > ANSWER_SMALL && r->route >= 0 && !strcmp(srv_route_method(r->route), "GET");
    int refusable = large && !r->written;
    int share = large && s->o.per_address > 0, rc;
    r->answer_addr[0] = 0;
    if (share) {
        client_address(r, r->answer_addr, sizeof r->answer_addr);
        rc = refusable ? srv_holders_add(&s->answer_holders, r->answer_addr, len)
                       : srv_holders_put(&s->answer_holders, r->answer_addr, len);
        if (rc) {
            r->answer_addr[0] = 0;
            if (refusable)
                return rc - 1;
        }
    }
    /* The first answer goes whatever its size: it could go no other
     * time. */
    size_t before = atomic_fetch_add(&s->answer_held, len);
    if (refusable && before && before + len > s->o.answer_memory) {
        atomic_fetch_sub(&s->answer_held, len);
        if (r->answer_addr[0])
            srv_holders_sub(&s->answer_holders, r->answer_addr, len);
        r->answer_addr[0] = 0;
        return -1;
    }
    r->answer_held = len;
    return 0;
}

int srv_answer_reserve(req *r)
{
    /* The answer's size is known only once the call has written: a
     * file grows with every record, a page of a list with its members.
     * The smallest answer that could be refused is held in its stead,
     * so that a read is refused, before it writes, whenever a large
     * answer would be; the answer itself then replaces it, and may take
     * the memory past its bound by at most what the pool threads have
     * under way. */
    srv_answer_release(r);
    return srv_answer_hold(r, ANSWER_SMALL + 1);
}

void srv_answer_release(req *r)
{
    srv *s = r->s;
    if (!r->answer_held)
        return;
    if (r->answer_addr[0])
        srv_holders_sub(&s->answer_holders, r->answer_addr, r->answer_held);
    atomic_fetch_sub(&s->answer_held, r->answer_held);
    r->answer_held = 0;
}

void srv_body_release(req *r)
{
    srv *s = r->s;
    free(r->body);
    r->body = NULL;
    r->len = r->cap = 0;
    if (!r->held)
        return;
    /* The share first: once the gauge shows a body given back, its
     * token may hold another. */
    if (in_share(r))
        srv_holders_sub(&s->holders, r->key.id, r->held);
    atomic_fetch_sub(&s->body_held, r->held);
    r->held = 0;
}

/* libmicrohttpd's decoding of %HH in a request's path and in its query's
 * names and values, noting a part that decoded to a NUL byte
 * (srv_heads_nul). The router reads the path as a C string, which ends
 * there: "/healthz%00junk" was answered as /healthz, and a staff read of
 * "/v1/subjects/X%00Y" read X's file and told X. A query's parts come to
 * the handlers with their lengths, which they compare (query_arg). On a
 * connection without a note the part is cut to nothing, which is no
 * path and no parameter's name or value. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    size_t n = MHD_http_unescape(s);
    (void)cls;
    if (strlen(s) != n && srv_heads_nul(conn, s))
        s[0] = 0;
    return n;
}

static enum MHD_Result first_call(req *r, const char *url, const char *method)
{
    srv *s = r->s;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *why;
    char addr[64], bucket[64];
    uint64_t n = 0;
    /* -2: a length past 2^63 - 1, which n does not get: past any limit. */
    int cl_rc = cl ? srv_parse_u64(cl, &n) : 0, nul = srv_heads_nul_path(r->conn, url);
    r->has_body = te || (cl && (cl_rc || n > 0));
    /* Counted before draining is read, as srv_stop sets draining before
     * it reads the count: a request that finds draining unset is one
     * srv_stop waits for. */
    atomic_fetch_add(&s->admitted, 1);
    r->admitted = 1;
    if (atomic_load(&s->draining)) {
        atomic_fetch_sub(&s->admitted, 1);
        r->admitted = 0;
        r->xhdr = MHD_HTTP_HEADER_CONNECTION;
        snprintf(r->xval, sizeof r->xval, "close");
        return refuse(r, 503, "the server is stopping");
    }
    r->head = !strcmp(method, "HEAD");
    if (nul)
        return refuse(r, 400, "the path holds a NUL byte (%00), which no resource's path has");
    r->route = srv_route_match(method, url, r->param, r->xval);
    if (r->route == -1)
        return refuse(r, 404, "no such resource");
    if (r->route == -2) {
        r->xhdr = MHD_HTTP_HEADER_ALLOW;
        return refuse(r, 405, "the resource does not take this method");
    }
    r->xval[0] = 0;
    client_address(r, addr, sizeof addr);
    unsigned st = authenticate(r, addr, &why);
    if (r->has_key)
        snprintf(bucket, sizeof bucket, "key:%s", r->key.id);
    else
        memcpy(bucket, addr, sizeof bucket);
    unsigned wait = srv_limiter_take(r->has_key ? s->limiter : s->public_limiter, bucket);
    if (wait) {
        r->xhdr = MHD_HTTP_HEADER_RETRY_AFTER;
        snprintf(r->xval, sizeof r->xval, "%u", wait);
        return refuse(r, 429, "too many requests: wait as long as Retry-After says");
    }
    if (st || (st = srv_auth_route(r, &why)))
        return refuse(r, st, why);
    enum srv_body kind = srv_route_body(r->route);
    r->limit = kind == SRV_BODY_RECORDS ? s->o.max_body
               : kind == SRV_BODY_OBJECT
                   ? (s->o.max_body < OBJECT_BODY_MAX ? s->o.max_body : OBJECT_BODY_MAX)
                   : 0;
    if (!r->has_body)
        return MHD_YES;
    if (kind == SRV_BODY_NONE)
        return refuse(r, 400, "this call takes no body");
    if (cl && (cl_rc == -2 || n > r->limit))
        return refuse(r, 413, "the body is larger than this call takes");
    /* Held for the whole announced length now, so that a body is refused
     * before any of it is read; a chunked one is held as it comes. */
    int held = hold_body(r, cl ? n : 1);
    if (held) {
        r->xhdr = MHD_HTTP_HEADER_RETRY_AFTER;
        snprintf(r->xval, sizeof r->xval, "1");
        return refuse(r, 503,
                      held == -2 ? "this token's batches under way hold as much memory as one "
                                   "token's may; try again when one has finished"
                      : held == -3
                          ? "as many furnishers' batches are under way as the server "
                            "takes at once; try again"
                          : "the server holds as many request bodies as it may; try again");
    }
    srv_heads_body(r->conn, srv_mono_us());
    return MHD_YES;
}

/* Takes a piece of the body; MHD_NO (the connection is closed) past the
 * limit, since libmicrohttpd lets no answer be queued mid-body. */
static enum MHD_Result take_body(req *r, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    r->got += n;
    srv_heads_body_got(r->conn, r->got);
    if (r->responded || r->pending_status)
        return MHD_YES;
    if (n > r->limit - r->len) {
        fprintf(stderr, "probity serve: request %llu: body over %zu bytes; connection closed\n",
                (unsigned long long)r->id, r->limit);
        r->status = 413;
        return MHD_NO;
    }
    if (hold_body(r, r->len + n)) {
        r->status = 503;
        return MHD_NO;
    }
    if (r->len + n + 1 > r->cap) {
        /* Small to begin with: most bodies are a short JSON object, and
         * malloc serves blocks past ~1 KiB from its shared lists,
         * consolidating them first (~1 % of the server's CPU). */
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return MHD_NO;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = 0;
    return MHD_YES;
}

/* A zeroed request: a finished one's memory, or a new one. */
static req *req_take(srv *s)
{
    req *r = NULL;
    pthread_mutex_lock(&s->spare_mu);
    if (s->nspare_req)
        r = s->spare_req[--s->nspare_req];
    pthread_mutex_unlock(&s->spare_mu);
    if (r)
        memset(r, 0, sizeof *r);
    else
        r = calloc(1, sizeof *r);
    return r;
}

/* Takes r back once its own allocations are freed; its key is wiped
 * whether it is kept or not. */
static void req_give(srv *s, req *r)
{
    explicit_bzero(&r->key, sizeof r->key);
    pthread_mutex_lock(&s->spare_mu);
    if (s->nspare_req < SRV_SPARE_MAX) {
        s->spare_req[s->nspare_req++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&s->spare_mu);
    free(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ctx)
{
    srv *s = cls;
    req *r = *ctx;
    (void)version;
    if (!r) {
        /* Cut for a slow head just as it came: closed, not handled. */
        if (srv_heads_done(conn) || !(r = req_take(s)))
            return MHD_NO;
        r->s = s;
        r->conn = conn;
        r->t0 = srv_mono_us();
        r->id = atomic_fetch_add(&s->next_id, 1);
        r->route = -1;
        *ctx = r;
        atomic_fetch_add(&s->inflight, 1);
        return first_call(r, url, method);
    }
    if (*size)
        return take_body(r, data, size);
    if (r->has_body && !r->body_ended) {
        r->body_ended = 1;
        /* Cut for a slow body just as it ended: the client was told
         * nothing, so nothing may be done. */
        if (srv_heads_body(conn, 0))
            return MHD_NO;
    }
    if (r->responded)
        return MHD_YES;
    if (r->pending_status) {
        char *json = r->pending_json;
        r->pending_json = NULL;
        return srv_respond(r, r->pending_status, "application/problem+json", json,
                           json ? strlen(json) : 0)
                   ? MHD_YES
                   : MHD_NO;
    }
    if (r->gc_done)
        return srv_answer_decision(r) ? MHD_YES : MHD_NO;
    if (r->gc_queued)
        return MHD_YES;
    if (r->wk_done)
        return srv_respond_kept(r) && r->wk_ok ? MHD_YES : MHD_NO;
    if (r->wk_queued)
        return MHD_YES;
    if (srv_route_writer(r->route)) {
        if (srv_writer_submit(s->writer, r))
            return srv_problem(r, 503, NULL, NULL, "the server is stopping; nothing was written",
                               NULL)
                       ? MHD_YES
                       : MHD_NO;
        return MHD_YES;
    }
    return srv_dispatch(r) ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    srv *s = cls;
    req *r = *ctx;
    if (!r)
        return;
    srv_heads_next(conn);
    srv_answer_release(r);
    uint64_t us = srv_mono_us() - r->t0;
    /* A request closed before it was answered (timeout, client gone,
     * body over the limit) is counted under the status it would have
     * had, or as "other". */
    srv_metrics_count(&s->metrics, r->route, r->status, us);
    if (s->o.access_log)
        fprintf(stderr, "probity serve: %llu %s %s %u %llu us%s\n", (unsigned long long)r->id,
                r->head ? "HEAD" : srv_route_method(r->route), srv_route_pattern(r->route),
                r->status, (unsigned long long)us,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
    srv_body_release(r);
    free(r->pending_json);
    free(r->kept_body);
    free(r->purpose);
    free(r->subject);
    free(r->replay);
    srv_decision_give(s, r->dec);
    if (r->admitted)
        atomic_fetch_sub(&s->admitted, 1);
    req_give(s, r);
    *ctx = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* libmicrohttpd's own messages, on standard error: that accept() failed
 * for want of descriptors, that the connection limit was reached, that
 * a thread could not start. They were dropped, and a server that had
 * stopped taking connections said nothing of why. Any client can make
 * libmicrohttpd speak (a request without Host, a connection past its
 * address's limit), so at most one a second is written, with how many
 * were left out since the last; and bytes a client sent (a URL in a
 * message) cannot start a line of their own. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    srv *s = cls;
    uint64_t now = srv_mono_us(), last = atomic_load(&s->log_last);
    char msg[512];
    if ((last && now - last < 1000000u) ||
        !atomic_compare_exchange_strong(&s->log_last, &last, now ? now : 1)) {
        atomic_fetch_add(&s->log_skipped, 1);
        return;
    }
    uint64_t skipped = atomic_exchange(&s->log_skipped, 0);
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (skipped)
        fprintf(stderr, "probity serve: libmicrohttpd: %s (%llu more left out since the last)\n",
                msg, (unsigned long long)skipped);
    else
        fprintf(stderr, "probity serve: libmicrohttpd: %s\n", msg);
}

/* ---------------------------------------------------------------- sweep */

int srv_stopping(void *s)
{
    return atomic_load(&((srv *)s)->stopping);
}

static int sweep_failed(prb_env *h)
{
    fprintf(stderr, "probity serve: sweep: %s\n", prb_errmsg(h));
    return 1;
}

/* Delivery's own short transactions hold the engine lock shared, so an
 * ingest growing the map (srv_dispatch, holding it exclusively) never
 * does so under one of them; the waits between them hold nothing. */
static void delivery_guard(void *ctx, int enter)
{
    srv *s = ctx;
    if (enter)
        pthread_rwlock_rdlock(&s->engine);
    else
        pthread_rwlock_unlock(&s->engine);
}

/* One sweep: retention and dispute deadlines, idempotency keys past 24
 * hours, list entries, notices. */
static void sweep_once(srv *s)
{
    prb_env *h = srv_env(s);
    prb_deliver_stats ds = {0, 0, 0, 0};
    int failed = 0;
    if (!h)
        return;
    prb_set_cancel(h, srv_stopping, s);
    pthread_rwlock_rdlock(&s->engine);
    /* Each goes on whether or not the one before failed. */
    if (prb_expire(h, NULL, NULL))
        failed = sweep_failed(h);
    if (prb_idem_expire(h, NULL))
        failed = sweep_failed(h);
    if (prb_lists_refresh_all(h, NULL))
        failed = sweep_failed(h);
    pthread_rwlock_unlock(&s->engine);
    /* Delivery waits on webhooks, retrying with backoff: holding the
     * engine lock meanwhile would hold up every ingest and, behind it,
     * every request. It opens only short transactions of its own, each
     * holding the lock shared (delivery_guard). Its handle may not grow
     * the map (srv_env): with a map of 256 GiB
     * (cmd_serve.c) a full one is practically impossible, and would only
     * have a later sweep deliver the unmarked notices again (at least
     * once, as delivery always is). A run takes at most one interval
     * (a slow receiver and a backlog would otherwise hold back retention
     * and the lists for as long); the next sweep goes on where it ends. */
    prb_set_guard(h, delivery_guard, s);
    int rc = prb_notices_deliver_within(h, (uint64_t)s->o.sweep * 1000, &ds);
    prb_set_guard(h, NULL, NULL);
    if (rc) {
        fprintf(stderr, "probity serve: sweep: delivering notices: %s\n", prb_errmsg(h));
        failed = 1;
    } else {
        atomic_store(&s->metrics.notices_pending, ds.pending + ds.later);
        atomic_store(&s->metrics.notices_known, 1);
    }
    atomic_fetch_add(&s->metrics.sweeps, 1);
    if (failed)
        atomic_fetch_add(&s->metrics.sweep_failures, 1);
}

unsigned srv_sweep_wait(unsigned interval, int64_t now, int fixed)
{
    /* Records expire at the start of a day (UTC): the sweep that deletes
     * them and ends the list entries resting on them comes then, not up
     * to an interval later, in which the public lists, cards and the
     * statistics still showed those entries in force (invariant 6). A
     * clock that stands still has no next day. */
    int64_t to_day = 86400 - (now % 86400 + 86400) % 86400 + 1;
    return !fixed && to_day < interval ? (unsigned)to_day : interval;
}

static void *sweeper(void *arg)
{
    srv *s = arg;
    pthread_mutex_lock(&s->sweep_mu);
    while (!atomic_load(&s->stopping)) {
        pthread_mutex_unlock(&s->sweep_mu);
        sweep_once(s);
        pthread_mutex_lock(&s->sweep_mu);
        struct timespec until =
            srv_mono_after(srv_sweep_wait(s->o.sweep, srv_now(s), s->o.fixed_now != 0));
        while (!atomic_load(&s->stopping) &&
               pthread_cond_timedwait(&s->sweep_cv, &s->sweep_mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->sweep_mu);
    return NULL;
}

/* ------------------------------------------------------------- start, stop */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t n)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    uint64_t port;
    memset(ss, 0, sizeof *ss);
    if (!colon || (size_t)(colon - listen) >= sizeof host || srv_parse_u64(colon + 1, &port) ||
        port > 65535)
        return snprintf(err, n, "--listen '%s' is not HOST:PORT", listen), -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1)
            return 0;
    } else {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (!strcmp(host, "localhost"))
            strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1)
            return 0;
    }
    return snprintf(err, n, "--listen '%s': '%s' is not an IP address", listen, host), -1;
}

/* Descriptors open now, of the first below. */
static uint64_t fds_open(uint64_t below)
{
    uint64_t n = 0;
    for (uint64_t fd = 0; fd < below && fd < FD_SCAN_MAX; fd++)
        if (fcntl((int)fd, F_GETFD) != -1)
            n++;
    return n;
}

/* Sets s->conn_limit to the connections the descriptors leave room for.
 * The soft limit on open files is raised to the hard one first: a
 * service's is often 1,024, which 4 addresses of 256 connections each
 * used up. Past it accept() fails (EMFILE), libmicrohttpd stops taking
 * connections from anyone, and the register can open no file nor a
 * webhook a socket. If the hard limit is still short, the connection
 * limit is lowered so that the rest stays free, and standard error says
 * so. -1, with a message in err, if no room is left for a connection. */
static int fit_descriptors(srv *s, char *err, size_t errlen)
{
    struct rlimit rl;
    s->conn_limit = CONNECTION_LIMIT;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 0; /* nothing known: libmicrohttpd's own limit stands */
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (!setrlimit(RLIMIT_NOFILE, &up))
            rl.rlim_cur = rl.rlim_max;
    }
    uint64_t files = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    uint64_t keep = fds_open(files) + FD_PER_THREAD * (uint64_t)s->o.threads + FD_RESERVE;
    if (files >= keep + CONNECTION_LIMIT)
        return 0;
    if (files <= keep) {
        snprintf(err, errlen,
                 "at most %llu files may be open (RLIMIT_NOFILE), and the register, the "
                 "server's threads and webhooks keep %llu: no room is left for a connection; "
                 "raise the limit (ulimit -n, systemd's LimitNOFILE=) to %llu",
                 (unsigned long long)files, (unsigned long long)keep,
                 (unsigned long long)(keep + CONNECTION_LIMIT));
        return -1;
    }
    s->conn_limit = (unsigned)(files - keep);
    fprintf(stderr,
            "probity serve: at most %llu files may be open (RLIMIT_NOFILE), and the register, "
            "the server's threads and webhooks keep %llu: connections are limited to %u at "
            "once, not %u; raise the limit (ulimit -n, systemd's LimitNOFILE=) to %llu for "
            "all of them\n",
            (unsigned long long)files, (unsigned long long)keep, s->conn_limit,
            (unsigned)CONNECTION_LIMIT, (unsigned long long)(keep + CONNECTION_LIMIT));
    return 0;
}

prb_decision *srv_decision_take(srv *s)
{
    prb_decision *d = NULL;
    pthread_mutex_lock(&s->spare_mu);
    if (s->nspare)
        d = s->spare[--s->nspare];
    pthread_mutex_unlock(&s->spare_mu);
    return d;
}

void srv_decision_give(srv *s, prb_decision *d)
{
    if (!d)
        return;
    /* Not kept at the size of the largest subject it was used for. */
    prb_decision_trim(d);
    pthread_mutex_lock(&s->spare_mu);
    if (s->nspare < SRV_SPARE_MAX) {
        s->spare[s->nspare++] = d;
        d = NULL;
    }
    pthread_mutex_unlock(&s->spare_mu);
    prb_decision_free(d);
}

static void srv_free(srv *s)
{
    /* Before the handles: a kept decision holds a read transaction. */
    for (size_t i = 0; i < s->nspare; i++)
        prb_decision_free(s->spare[i]);
    for (size_t i = 0; i < s->nspare_req; i++)
        free(s->spare_req[i]);
    pthread_mutex_destroy(&s->spare_mu);
    srv_holders_destroy(&s->holders);
    srv_holders_destroy(&s->answer_holders);
    srv_limiter_free(s->limiter);
    srv_limiter_free(s->public_limiter);
    srv_limiter_free(s->auth_limiter);
    for (size_t i = 0; i < s->nhandles; i++)
        prb_close(s->handles[i]);
    free(s->handles);
    srv_stats_free(s);
    srv_heads_free(s);
    pthread_rwlock_destroy(&s->engine);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->sweep_mu);
    pthread_cond_destroy(&s->sweep_cv);
    free(s);
}

int srv_start(prb_env *env, const srv_opts *o, srv **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    pthread_rwlockattr_t ra;
    srv *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return snprintf(err, errlen, "out of memory"), -1;
    s->env = env;
    s->o = *o;
    s->gen = atomic_fetch_add(&next_gen, 1);
    atomic_init(&s->next_id, 1);
    if (!s->o.listen)
        s->o.listen = "127.0.0.1:8080";
    if (!s->o.timeout)
        s->o.timeout = DEFAULT_TIMEOUT;
    if (!s->o.header_timeout)
        s->o.header_timeout = DEFAULT_HEADER_TIMEOUT;
    if (!s->o.body_timeout)
        s->o.body_timeout = DEFAULT_BODY_TIMEOUT;
    if (!s->o.body_rate)
        s->o.body_rate = DEFAULT_BODY_RATE;
    if (!s->o.max_body)
        s->o.max_body = DEFAULT_MAX_BODY;
    if (!s->o.body_memory)
        s->o.body_memory =
            s->o.max_body > DEFAULT_BODY_MEMORY ? s->o.max_body : DEFAULT_BODY_MEMORY;
    if (s->o.body_memory < s->o.max_body) {
        snprintf(err, errlen,
                 "the memory for request bodies (%zu bytes) is less than the largest body "
                 "(%zu): no batch of that size could be taken",
                 s->o.body_memory, s->o.max_body);
        free(s); /* nothing else is made yet */
        return -1;
    }
    if (!s->o.answer_memory)
        s->o.answer_memory = DEFAULT_ANSWER_MEMORY;
    if (s->o.rate < 0)
        s->o.rate = DEFAULT_RATE;
    if (s->o.public_rate < 0)
        s->o.public_rate = DEFAULT_PUBLIC_RATE;
    if (s->o.per_address < 0)
        s->o.per_address = DEFAULT_PER_ADDRESS;
    if (s->o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->o.threads = n > 0 ? (int)n : 1;
    }
    /* Writers first: an ingest waiting for the lock is not starved by
     * the stream of readers. */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->engine, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->sweep_mu, NULL);
    pthread_mutex_init(&s->spare_mu, NULL);
    srv_cond_init(&s->sweep_cv);
    srv_holders_init(&s->holders,
                     s->o.body_memory / TOKEN_SHARE > s->o.max_body ? s->o.body_memory / TOKEN_SHARE
                                                                    : s->o.max_body,
                     0);
    srv_holders_init(&s->answer_holders, s->o.answer_memory / ADDRESS_SHARE, 1);
    if (parse_listen(s->o.listen, &ss, err, errlen) || fit_descriptors(s, err, errlen))
        goto fail;
    if (!(s->limiter = srv_limiter_new(s->o.rate, s->o.burst)) ||
        !(s->public_limiter = srv_limiter_new(s->o.public_rate, 0)) ||
        !(s->auth_limiter = srv_limiter_new(s->o.public_rate, 0))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(s->commit = srv_commit_start(s))) {
        snprintf(err, errlen, "cannot start the committer thread");
        goto fail;
    }
    if (!(s->writer = srv_writer_start())) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    if (srv_stats_start(s)) {
        snprintf(err, errlen, "cannot start the statistics thread");
        goto fail;
    }
    if (srv_heads_start(s)) {
        snprintf(err, errlen, "cannot start the thread of the deadline on request heads");
        goto fail;
    }
    /* One thread is libmicrohttpd's own, without the option: a pool of
     * one (or none) it takes for a mistake, and says so at every start. */
    struct MHD_OptionItem pool[] = {
        {s->o.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)s->o.threads,
         NULL},
        {MHD_OPTION_END, 0, NULL}};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout, MHD_OPTION_CONNECTION_LIMIT, s->conn_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, srv_heads_notify, s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)s->o.per_address, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s: %s", s->o.listen, strerror(errno));
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    if (s->o.sweep) {
        if (pthread_create(&s->sweeper, NULL, sweeper, s)) {
            snprintf(err, errlen, "cannot start the sweep thread");
            goto fail;
        }
        s->has_sweeper = 1;
    }
    *out = s;
    return 0;
fail:
    /* As srv_stop: the daemon may have taken a request already, and one
     * suspended for the writer or the committer is resumed by them before
     * the daemon goes. Stopping also cancels the statistics thread's first
     * walk of the whole register, which would otherwise hold the error
     * (a port already taken) back until it ends. */
    atomic_store(&s->stopping, 1);
    srv_heads_stop(s);
    srv_stats_stop(s);
    srv_writer_stop(s->writer);
    srv_commit_stop(s->commit);
    if (s->d)
        MHD_stop_daemon(s->d);
    srv_writer_free(s->writer);
    srv_commit_free(s->commit);
    srv_free(s);
    return -1;
}

/* Waits until every request let in is answered, for at most us. */
static void wait_answered(srv *s, uint64_t us)
{
    uint64_t deadline = srv_mono_us() + us;
    while (atomic_load(&s->admitted) && srv_mono_us() < deadline)
        usleep(10000);
}

uint16_t srv_port(const srv *s)
{
    return s->port;
}

void srv_stop(srv *s, unsigned grace)
{
    if (!s)
        return;
    /* The requests in flight finish before the daemon stops; one that
     * arrives from now on is answered 503 and its connection closed. The
     * listen socket is not quiesced: with a pool of epoll threads,
     * libmicrohttpd 0.9.75's MHD_quiesce_daemon races a worker that takes
     * the socket out of its own epoll set (at the connection limit) and
     * aborts the process ("Failed to remove listen FD from epoll set"),
     * as a test here did once. Waiting for no request in flight instead
     * of no request let in could stop the committer in the instant
     * between two requests of a busy client, and the next decision then
     * waited on a committer that was gone (stop_under_load). */
    atomic_store(&s->draining, 1);
    wait_answered(s, (uint64_t)grace * 1000000u);
    pthread_mutex_lock(&s->sweep_mu);
    atomic_store(&s->stopping, 1);
    pthread_cond_signal(&s->sweep_cv);
    pthread_mutex_unlock(&s->sweep_mu);
    if (s->has_sweeper)
        pthread_join(s->sweeper, NULL);
    srv_stats_stop(s);
    srv_heads_stop(s);
    /* Decisions still queued are made and their connections resumed
     * before the daemon goes; a request let in but still unanswered when
     * the grace ran out is refused from here on (srv_commit_submit), so
     * no connection is left suspended. The committer's memory outlives
     * the daemon's threads, which may still be submitting to it. The
     * writer is stopped first (nothing it runs goes to the committer);
     * the writes still queued are answered 503 and not made, since a
     * backlog of batches could take minutes, and the one being written
     * finishes. */
    srv_writer_stop(s->writer);
    srv_commit_stop(s->commit);
    /* What they finished after the grace ran out is answered before the
     * daemon goes, for at most 2 s more (a request still sending its
     * body, which is let in too, is cut off then). */
    wait_answered(s, 2000000u);
    MHD_stop_daemon(s->d);
    srv_writer_free(s->writer);
    s->writer = NULL;
    srv_commit_free(s->commit);
    s->commit = NULL;
    srv_free(s);
}
