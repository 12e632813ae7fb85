/*
 * srv.h - what the server's files share: the server and request state,
 * responses (respond.c), authorisation (auth.c), endpoints (handlers.c),
 * group commit of decisions (commit.c), the writer thread (writer.c),
 * the deadline on request heads (heads.c), metrics (metrics.c) and the
 * per-token rate limit (ratelimit.c).
 *
 * Threads: libmicrohttpd's pool threads run the access handler; one
 * committer thread makes decisions in batches (commit.c); one writer
 * thread runs the other calls that write (writer.c); one sweep thread
 * runs retention, list refresh and notice delivery. Each works on
 * its own register handle (srv_env). The engine lock (a reader-writer
 * lock) is held shared by every engine call, ingest included, so reads
 * go on while a furnisher's batch is written. It is held exclusively
 * only to grow the LMDB map, which LMDB allows only while no other
 * transaction of the process is open: the server's handles may not grow
 * it (prb_set_fixed_map), and an ingest that finds it full runs again
 * alone, allowed to (srv_dispatch).
 */
#ifndef PRB_SRV_H
#define PRB_SRV_H

#include "server.h"
#include "route.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

struct json_t;

/* ---------------------------------------------------------------- metrics */

#define SRV_NSTATUS 18
#define SRV_NBUCKETS 14

typedef struct srv_metrics {
    _Atomic uint64_t requests[R__N + 1][SRV_NSTATUS]; /* [R__N]: no route */
    _Atomic uint64_t buckets[R__N + 1][SRV_NBUCKETS]; /* cumulative on output */
    _Atomic uint64_t micros[R__N + 1];                /* latency sum, µs */
    _Atomic uint64_t batches, batched;                /* group commits, decisions stored */
    _Atomic uint64_t sweeps, sweep_failures;
    _Atomic uint64_t heads_cut;       /* connections past --header-timeout (heads.c) */
    _Atomic uint64_t bodies_cut;      /* connections whose body fell behind (heads.c) */
    _Atomic uint64_t answers_cut;     /* connections whose answer was read too slowly */
    _Atomic uint64_t notices_pending; /* after the last delivery run */
    _Atomic int notices_known;        /* whether a delivery run has happened */
} srv_metrics;

void srv_metrics_count(srv_metrics *m, int route, unsigned status, uint64_t micros);
/* The Prometheus text exposition; free() it. NULL if out of memory. */
char *srv_metrics_text(srv *s, prb_env *h);

/* ------------------------------------------------------------- rate limit */

typedef struct srv_limiter srv_limiter;

srv_limiter *srv_limiter_new(double rate, double burst);
void srv_limiter_free(srv_limiter *l);
/* Takes one request from key's bucket. 0: go ahead; otherwise the whole
 * seconds to wait before the bucket has one again (Retry-After). */
unsigned srv_limiter_take(srv_limiter *l, const char *key);
/* The same answer, taking nothing: whether key's bucket has one. */
unsigned srv_limiter_peek(srv_limiter *l, const char *key);
/* The set of l's table that key's bucket lives in: for the tests, which
 * look for callers that share one. */
unsigned srv_limiter_set_of(const srv_limiter *l, const char *key);

/* ----------------------------------------------------------- group commit */

typedef struct srv_commit srv_commit;
struct req;

srv_commit *srv_commit_start(srv *s);
/* Queues r's decision (r->purpose, r->subject, r->key.name, and r->dec
 * made by prb_decide_prepare) and suspends its connection; the committer
 * resumes it when the decision is stored or refused (r->gc_done, r->gc_rc,
 * r->dec or r->gc_err). -1, with nothing queued or suspended, once the
 * committer has stopped. */
int srv_commit_submit(srv_commit *c, struct req *r);
/* Stops the committer once the queue is empty; later submissions are
 * refused. c stays valid for them until srv_commit_free. */
void srv_commit_stop(srv_commit *c);
void srv_commit_free(srv_commit *c);

/* ---------------------------------------------------------- writer thread */

/* The calls that write the register themselves (srv_route_writer) run on
 * one thread of their own, off the pool (writer.c). */
typedef struct srv_writer srv_writer;

/* The order the writer takes its queue in: the request whose token had
 * its last turn longest ago (or never) goes first, the oldest among
 * equals. So one furnisher's backlog of batches, or one subject's stream
 * of disputes, holds up another token's call by at most one call of each
 * token queued before it, not by the whole backlog. The last turns of
 * SRV_TURNS tokens are remembered; a token forgotten counts as never
 * served. */
#define SRV_TURNS 64
typedef struct srv_turns {
    struct {
        char id[17];
        uint64_t at;
    } last[SRV_TURNS];
    uint64_t clock;
} srv_turns;

/* Of n queued requests' token ids (oldest first), the index of the one
 * to run next; its token's turn is recorded. n > 0. */
size_t srv_turns_pick(srv_turns *t, const char *const *ids, size_t n);

srv_writer *srv_writer_start(void);
/* Queues r, whose body is complete, and suspends its connection; the
 * writer runs srv_dispatch with r->capture set, keeps the answer in r
 * and resumes the connection (r->wk_done). -1, with nothing queued or
 * suspended, once the writer has stopped. */
int srv_writer_submit(srv_writer *w, struct req *r);
/* Requests queued or being run (a gauge in /metrics). */
uint64_t srv_writer_pending(srv_writer *w);
/* Stops the writer: what is still queued is answered 503, the call
 * being run finishes, later submissions are refused. w stays valid for
 * them until srv_writer_free. */
void srv_writer_stop(srv_writer *w);
void srv_writer_free(srv_writer *w);

/* ------------------------------------------------- deadline on the heads */

/* Connections whose request head takes longer than --header-timeout are
 * shut down by a thread of their own (heads.c). */
typedef struct srv_heads {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int inited, running, stop;
    struct srv_conn *list; /* every connection, under mu */
} srv_heads;

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the srv):
 * notes each connection from its start to its close. */
void srv_heads_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
/* A request's head is complete (the access handler's first call). -1 if
 * the connection was cut for it first: the request must not be handled. */
int srv_heads_done(struct MHD_Connection *conn);
/* A request is over; the next one's head begins. */
void srv_heads_next(struct MHD_Connection *conn);
/* Whether a head begun at since (µs; 0: none being read) is past limit
 * at now. A head may have begun after now was read, on another thread:
 * since > now, which unsigned subtraction would make older than any
 * deadline (the first version cut 12 busy connections of 50 in 40 s of
 * bench/serve's load). */
int srv_head_overdue(uint64_t now, uint64_t since, uint64_t limit);
/* The body of the connection's request began to be read (its head was
 * taken and its call admitted), or ended (when 0). -1 if it ended after
 * the connection was cut for it: its call must not be made. */
int srv_heads_body(struct MHD_Connection *conn, uint64_t since);
/* got bytes of the body being read have come. */
void srv_heads_body_got(struct MHD_Connection *conn, uint64_t got);
/* Part of the connection's head being read, at, decoded to a string
 * holding a NUL byte. -1 if the connection has no note to keep it in. */
int srv_heads_nul(struct MHD_Connection *conn, const char *at);
/* Whether url, the path of the head just read, was such a part; the
 * next head starts with none. */
int srv_heads_nul_path(struct MHD_Connection *conn, const char *url);
/* An answer of len bytes was queued on the connection: it must be sent
 * by the body's deadline for len bytes from now. */
void srv_heads_answer(struct MHD_Connection *conn, uint64_t len);
/* Whether a body begun at since (µs; 0: none being read) of which got
 * bytes have come is past its deadline at now: grace µs, and a second
 * more for every rate bytes that have come. */
int srv_body_overdue(uint64_t now, uint64_t since, uint64_t got, uint64_t grace, uint64_t rate);
int srv_heads_start(srv *s);
void srv_heads_stop(srv *s);
void srv_heads_free(srv *s);

/* ----------------------------------------------------------- statistics */

/* GET /v1/stats walks the whole register: its answer is made on a thread
 * of its own and kept (statcache.c). */
typedef struct srv_statcache {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* to the thread: a copy is wanted, or stop */
    pthread_cond_t done; /* from it: an attempt has finished */
    pthread_t th;
    int inited, running, wanted, stop;
    uint64_t made; /* attempts finished */
    char *json;    /* the latest copy, or NULL */
    int64_t at;    /* when it was made, monotonic seconds */
    int64_t clock; /* and by the register's clock: its made_at */
} srv_statcache;

/* Starts the thread, which makes the first copy at once; -1 if it could
 * not start. */
int srv_stats_start(srv *s);
/* Stops the thread (a request waiting for a first copy gets none). */
void srv_stats_stop(srv *s);
void srv_stats_free(srv *s);
/* A copy of the latest statistics (the caller frees it), asking for a
 * newer one if it is old; waits only when there is none yet. *made_at is
 * the register's clock the copy was made under (its made_at): the copy
 * may be as old as nobody asked for a newer one. NULL if none could be
 * made (the reason is logged) or memory ran out. */
char *srv_stats_copy(srv *s, int64_t *made_at);

/* The id a client address is limited by (rate, answer memory): an IPv4
 * address as it is; an IPv6 one by its /64, which one host may hold
 * whole (a limit per address let it send from a new address each time);
 * an IPv4-mapped one as its IPv4 address. */
void srv_address_key(const struct sockaddr *sa, char *out, size_t n);
/* Seconds the sweeper waits after a sweep: interval, or less to sweep
 * just after the next day (UTC) begins, unless the clock is fixed. */
unsigned srv_sweep_wait(unsigned interval, int64_t now, int fixed);

/* ------------------------------ body memory by token, answers by address */

/* What each token's batches of records hold of the body memory, or each
 * client address's large answers of the answer memory (holders.c): at
 * most cap bytes an id (a token's id, an address). */
#define SRV_HOLDERS 256
#define SRV_HOLDER_ID 64
typedef struct srv_holders {
    pthread_mutex_t mu;
    size_t cap;
    int any_first; /* an id holding nothing may take more than cap */
    struct {
        char id[SRV_HOLDER_ID];
        size_t bytes; /* 0: a free slot */
    } h[SRV_HOLDERS];
} srv_holders;

void srv_holders_init(srv_holders *t, size_t cap, int any_first);
void srv_holders_destroy(srv_holders *t);
/* Adds more bytes to id's share: 0; or, with nothing added, -1 if that
 * would take it past cap, -2 if no slot is free (as many ids as there
 * are slots hold something). */
int srv_holders_add(srv_holders *t, const char *id, size_t more);
/* Adds more bytes to id's share whatever cap says: 0, or -2 if no slot
 * is free. */
int srv_holders_put(srv_holders *t, const char *id, size_t more);
/* Gives back less bytes of id's share. */
void srv_holders_sub(srv_holders *t, const char *id, size_t less);

/* ----------------------------------------------------------------- server */

#define SRV_SPARE_MAX 256
/* Room for the one extra header's value: a Link to the next page is the
 * longest (a page of notices keeps its recipient, up to a key's name of
 * PRB_KEY_NAME_MAX bytes, each percent-encoded in 3). */
#define SRV_XVAL_MAX 320

struct srv {
    prb_env *env; /* the caller's handle; worker handles are dups of it */
    srv_opts o;
    struct MHD_Daemon *d;
    uint16_t port;
    uint64_t gen; /* tells this server's thread handles from an earlier one's */
    /* Connections at once: 4,096, or fewer if the descriptors allow no
     * more (server.c, fit_descriptors). */
    unsigned conn_limit;
    /* When libmicrohttpd's last message was written (monotonic µs; 0:
     * none yet), and how many came since that were left out (on_log). */
    _Atomic uint64_t log_last, log_skipped;
    pthread_rwlock_t engine;
    pthread_mutex_t mu; /* handles */
    prb_env **handles;
    size_t nhandles, hcap;
    srv_metrics metrics;
    srv_limiter *limiter;        /* per token */
    srv_limiter *public_limiter; /* per address, without a valid token */
    srv_limiter *auth_limiter;   /* per address, tokens not found (authenticate) */
    srv_commit *commit;
    srv_writer *writer;
    _Atomic uint64_t inflight, next_id;
    /* Requests let in: srv_stop lets no more in (draining) and waits for
     * these to be answered before it stops the committer. */
    _Atomic uint64_t admitted;
    /* Bytes of request bodies held (req.held), at most o.body_memory. */
    _Atomic size_t body_held;
    /* Of which each token's batches hold at most a share (holders.c). */
    srv_holders holders;
    /* Bytes of answers being sent (req.answer_held), at most
     * o.answer_memory, and each address's share of the large ones. */
    _Atomic size_t answer_held;
    srv_holders answer_holders;
    atomic_int draining;
    atomic_int stopping;
    /* The sweep thread. */
    pthread_t sweeper;
    int has_sweeper;
    pthread_mutex_t sweep_mu;
    pthread_cond_t sweep_cv;
    /* GET /v1/stats's answer (statcache.c). */
    srv_statcache stats;
    /* The deadline on request heads (heads.c). */
    srv_heads heads;
    /* Decision handles of finished requests, reused by the next ones. */
    pthread_mutex_t spare_mu;
    prb_decision *spare[SRV_SPARE_MAX];
    size_t nspare;
    /* Finished requests' memory, reused the same way (under spare_mu): a
     * request is ~3 KiB, past what malloc keeps per thread, and allocating
     * one cost a consolidation of malloc's free lists every time. */
    struct req *spare_req[SRV_SPARE_MAX];
    size_t nspare_req;
};

/* A decision handle to reuse, or NULL; and one given back (freed when
 * enough are kept). */
prb_decision *srv_decision_take(srv *s);
void srv_decision_give(srv *s, prb_decision *d);

/* This thread's handle on the register, with its clock set to now. NULL
 * if out of memory. */
prb_env *srv_env(srv *s);
/* The as-of time for a request: fixed, or the system clock. */
int64_t srv_now(const srv *s);
/* The monotonic clock, in µs. */
uint64_t srv_mono_us(void);
/* A condition variable whose timed waits run on the monotonic clock, and
 * the time seconds from now on it: a step of the wall clock (NTP, a
 * resumed VM, date) neither stretches nor cuts short a wait. */
void srv_cond_init(pthread_cond_t *cv);
struct timespec srv_mono_after(unsigned seconds);
/* Whether s (a srv) is stopping: the cancel hook (prb_set_cancel) of the
 * long engine calls of the sweep and the statistics. */
int srv_stopping(void *s);

/* ---------------------------------------------------------------- request */

typedef struct req {
    srv *s;
    struct MHD_Connection *conn;
    uint64_t id; /* for the log: a 5xx answer names it */
    uint64_t t0; /* monotonic µs at the first call */
    int route;   /* enum srv_route, -1: none */
    int head;    /* a HEAD, answered as its route's GET (for the log) */
    char param[SRV_PARAM_MAX];
    int has_key;
    prb_key key;
    uint64_t key_us; /* monotonic µs when the key was checked */
    /* The body, up to limit (its route's); held is what it counts
     * against the bodies all requests may hold (s->body_held) and, a
     * batch of records, against its token's share (s->holders). */
    char *body;
    size_t len, cap, limit, held;
    int has_body;
    /* Bytes of the body that have come, kept or not, and whether all
     * have (for the body's deadline, heads.c). */
    uint64_t got;
    int body_ended;
    /* The answer being sent, as counted against the answer memory (and,
     * with answer_addr set, against that address's share). */
    size_t answer_held;
    char answer_addr[SRV_HOLDER_ID];
    int admitted;    /* counted in s->admitted */
    unsigned status; /* the status answered, for metrics */
    int responded;
    /* A deferred error, answered when the (empty) body has been read. */
    unsigned pending_status;
    char *pending_json;
    /* One more header for the answer: Retry-After (429, and 503 with no
     * room for the body), Allow (405), Connection (503 while stopping)
     * or Link (where a listing's next page is). */
    const char *xhdr;
    char xval[SRV_XVAL_MAX];
    /* An ingest that needs the map to grow (srv_dispatch). */
    enum { SRV_GROW_NO, SRV_GROW_ASKED, SRV_GROW_ALONE } grow;
    /* A decision waiting for the committer. */
    char *purpose, *subject;
    /* The request's Idempotency-Key ("" when none), and the decision
     * stored under it earlier, answered again (the caller's to free). */
    char idem[PRB_IDEM_KEY_MAX + 1];
    char *replay;
    prb_decision *dec;
    int gc_queued, gc_done, gc_rc;
    char gc_err[512];
    struct req *gc_next;
    /* A call run on the writer thread, and the answer it kept there
     * (capture: srv_respond keeps instead of queueing). */
    int wk_queued, wk_done, wk_ok, capture, kept;
    unsigned kept_status;
    const char *kept_ctype; /* a string constant */
    char *kept_body;
    const char *kept_static; /* or a string constant as the body */
    int written;             /* the answer is of a write done (srv_respond_written) */
    size_t kept_len;
    struct req *wk_next;
} req;

/* ------------------------------------------------------------- responses */

/* Answers with body (owned: freed by libmicrohttpd), which may be NULL;
 * ctype is a string constant. On the writer thread (r->capture) the
 * answer is kept in r, and srv_respond_kept sends it once the connection
 * is resumed. */
int srv_respond(req *r, unsigned status, const char *ctype, char *body, size_t len);
int srv_respond_kept(req *r);
/* Answers with json (owned), or 503 "out of memory" when it is NULL:
 * for a call that has done nothing. */
int srv_respond_json(req *r, unsigned status, char *json);
/* Answers a write whose call has run (and committed) with json: owned,
 * or copied by libmicrohttpd (_copy), which saves a copy of our own.
 * Without json, or without memory to send it, the answer is a 500 that
 * says the write was stored, never the 503 "out of memory" clients are
 * told stored nothing and send again. */
int srv_respond_written(req *r, unsigned status, char *json);
/* The same with a body of type ctype (owned, NUL-terminated). */
int srv_respond_written_as(req *r, unsigned status, const char *ctype, char *body);
int srv_respond_written_copy(req *r, unsigned status, const char *json);
/* An RFC 9457 problem: type "about:blank" (a plain HTTP error) when type
 * is NULL, title the status's reason phrase then; extra (stolen, may be
 * NULL) adds members. */
int srv_problem(req *r, unsigned status, const char *type, const char *title, const char *detail,
                struct json_t *extra);
/* The problem of an engine failure rc on handle h: its message as detail
 * for client errors; for server errors only the request id (the message,
 * which may name paths, goes to the log). PRB_EREVOKED, the caller's key
 * found revoked in the call's write, is answered as srv_revoked. */
int srv_fail(req *r, prb_env *h, int rc);
/* The same, answered with status instead of rc's own (a 5xx): /healthz
 * says 503, unavailable, for a register it cannot read. */
int srv_fail_as(req *r, prb_env *h, int rc, unsigned status);
/* The same with the engine's message msg, made on another handle (the
 * committer's, for a decision). */
int srv_fail_msg(req *r, int rc, unsigned status, const char *msg);
/* The JSON text of a problem, without answering (deferred errors). */
char *srv_problem_json(req *r, unsigned status, const char *type, const char *title,
                       const char *detail, struct json_t *extra);
/* A message as a JSON string (new reference; NULL only if out of memory).
 * Text that is not UTF-8 comes with each byte from 0x80 up written \xHH:
 * jansson refuses such a string, and a message it refused was dropped. */
struct json_t *srv_json_message(const char *msg);

/* ---------------------------------------------------------- authorisation */

/* Whether r's caller may call r's route at all: 0, or the status to
 * answer (401 without a valid token, 403 with the wrong role), with a
 * detail in why. */
unsigned srv_auth_route(const req *r, const char **why);
/* The checks on what a call names, each answering 0 or 403 with why. */
unsigned srv_auth_purpose(const req *r, const char *purpose, const char **why);
unsigned srv_auth_dispute(const req *r, prb_env *h, uint64_t dispute, int *rc, const char **why);
unsigned srv_auth_decision(const req *r, prb_env *h, const char *decision, int *rc,
                           const char **why);
/* What a request whose token is no longer valid is told, on its head
 * and at its call alike. */
#define SRV_TOKEN_INVALID "the token is not valid (unknown or revoked)"
/* The 401 of a call whose key was found no longer valid after its head
 * was let in: the same as on a head. */
int srv_revoked(req *r);
/* A call run more than this long after its key was checked (a body that
 * came slowly, a write queued behind others) checks the key again before
 * it starts, to spare the work; its writes check it regardless
 * (prb_set_caller). */
#define SRV_KEY_RECHECK_US 1000000u
/* The purposes whose purpose-bound lists the caller may read: an
 * inquirer key's that the policy lets it ask for ("p1,p2", written into
 * buf), "*" for reviewers and admins, NULL for everyone else. */
const char *srv_auth_list_purposes(const req *r, prb_env *h, char buf[PRB_KEY_PURPOSES_MAX]);
/* Whether the caller may see what an audit leaf logs (its object, kind,
 * time and value's hash): reviewers and admins; everyone else gets a
 * proof of the leaf's hash (prb_audit_prove_hash). */
int srv_auth_audit_leaves(const req *r);
/* Whose notices the caller may read, asked the recipient named in the
 * query (NULL: none): an admin, asked's (NULL: every inquirer's); an
 * inquirer, its own (its key's name, the requester of its decisions),
 * and 403 if it asked for another's. *recipient gets the one to list. */
unsigned srv_auth_notices(const req *r, const char *asked, const char **recipient,
                          const char **why);

/* -------------------------------------------------------------- endpoints */

/* Answers r (its body complete), then gives its body back
 * (srv_body_release): the answer never needs it. */
int srv_dispatch(req *r);
/* Frees r's body and gives back what it held of the body memory and of
 * its token's share. Done once the call has run, before the answer is
 * sent, and not only when libmicrohttpd ends the request: a client reads
 * its answer before that, and may send its next body at once. */
void srv_body_release(req *r);
/* Answers a decision the committer has finished. */
int srv_answer_decision(req *r);
/* Counts an answer of len bytes against the answers all connections may
 * hold while they are sent and, a large one, against its address's
 * share: 0; or, holding nothing, -1 if the answers would be over the
 * bound, -2 the address's share, -3 if as many addresses as the table
 * holds have large answers under way. */
int srv_answer_hold(req *r, size_t len);
/* Before a read that tells its subjects (a staff read of a file, an
 * inquirer's or staff read of a purpose-bound list): whether a large
 * answer could be held now, as srv_answer_hold answers, holding one
 * until the read's answer replaces it. The read writes before its
 * answer is made, so it is refused here or not at all: once it has run
 * it is marked written, and its answer is counted, never refused. */
int srv_answer_reserve(req *r);
/* Answers the 503 of an answer memory full, held being what
 * srv_answer_hold or srv_answer_reserve gave. */
int srv_answer_refused(req *r, int held);
/* Gives back what r's answer held, once libmicrohttpd is done with it. */
void srv_answer_release(req *r);

/* docs/openapi.json as it was when the server was built
 * (build/gen/openapi.c, made by scripts/embed). */
extern const char prb_openapi_json[];
extern const size_t prb_openapi_json_len;

#endif
