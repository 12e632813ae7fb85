/*
 * heads.c - the deadlines on a request's head and on its body.
 * libmicrohttpd closes a connection idle for --timeout seconds, but a
 * client that sends one byte of its request line or headers every few
 * seconds is never idle:
 * with 8 KiB allowed for a head (CONNECTION_MEMORY) it held its
 * connection for some 20 hours, and 4,096 such connections from 16
 * addresses (256 each) would take every connection the server has. No
 * token is needed to start a request, so this is the cheapest attack on
 * the server. Each connection is noted here from the moment it begins
 * to wait for a head (accepted, or the request before it answered) until
 * the head is complete (the access handler's first call); a thread looks
 * every second and shuts down the socket of a connection whose head has
 * taken longer than --header-timeout seconds past the --timeout it may
 * first sit idle, and libmicrohttpd then closes it. (libmicrohttpd says
 * nothing of a head's first byte.)
 * There is no answer to send: the request was never read.
 *
 * A body trickled in is the same attack one step later: a subject's
 * token (which every person may have) sent a 64-KiB dispute a byte every
 * few seconds and held its connection for days. A body must therefore
 * come at --body-rate bytes a second once --body-timeout seconds have
 * passed (as Apache's mod_reqtimeout has it: the deadline moves a second
 * on for every --body-rate bytes that come), noted from the head's end
 * (when the call is admitted) to the body's; past it the same thread
 * shuts the connection down. libmicrohttpd can send no answer in the
 * middle of a body.
 *
 * An answer read slowly is the same again, the other way: a public list
 * page of 10,000 members is 2.5 MB, most of it held by libmicrohttpd
 * while the client keeps its window nearly shut, and a client that reads
 * a few bytes every few seconds is never idle either: 256 such
 * connections from one address, no token needed, could hold 640 MB. So
 * an answer too must be taken at --body-rate once --body-timeout has
 * passed: from when it is queued it has the grace and a second for every
 * --body-rate bytes of it, and past that its connection is shut down.
 *
 * The note also keeps what decoding a head's path found: a NUL byte
 * (server.c, unescape), which the path's C string hides.
 *
 * libmicrohttpd tells of a connection's close (MHD_CONNECTION_NOTIFY_CLOSED)
 * before it closes the socket, and the note is removed then, under the
 * same mutex the thread holds: the thread never shuts down a descriptor
 * that has been closed, and so may have been given to another connection.
 */
#include "srv.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* The kernel's send buffer of a connection. Left to itself the kernel
 * grows it to 4 MiB (tcp_wmem) whether or not the client reads: a 2.5-MB
 * list page asked for and never read left the server at once and sat in
 * the kernel, 256 of them from one address 640 MB of memory no bound of
 * the server's counted, and a few such addresses took the machine's TCP
 * memory (tcp_mem) from every socket on it. Fixed here (the kernel
 * doubles it), the rest of a large answer stays with libmicrohttpd,
 * counted against --answer-memory (server.c). 256 KiB in flight is a
 * link of 20 Mbit/s at 100 ms; a decision's answer is under 2 KiB. */
#define SEND_BUFFER (128 * 1024)

/* A body or an answer under way: monotonic µs since it began (0: none)
 * and its bytes. It is set n first, then since, and read since, n, then
 * since again (moving_overdue). */
struct moving {
    _Atomic uint64_t since, n;
};

/* The start a head or a body is given when the thread cuts its
 * connection: later than any now, so never overdue again. The thread
 * sets it only over the start it judged, and the pool thread ending the
 * head or body takes the start it replaces: one of the two wins, so a
 * request is either cut or handled, never handled and then cut. */
#define CUT UINT64_MAX

/* Sets m; 1 if it had been cut. */
static int moving_set(struct moving *m, uint64_t since, uint64_t n)
{
    if (since)
        atomic_store(&m->n, n);
    return atomic_exchange(&m->since, since) == CUT;
}

struct srv_conn {
    struct MHD_Connection *conn;
    int fd;
    int cut;
    /* Monotonic µs at which the head being read began; 0 while a
     * request is being read or answered. */
    _Atomic uint64_t head_since;
    /* The body being read (since: when it began; n: the bytes that have
     * come) and the answer being sent (since: when it was queued; n: its
     * length). */
    struct moving body, answer;
    /* The part of the head being read that decoded to a NUL byte last
     * (srv_heads_nul), or NULL; only the connection's thread uses it. */
    const char *nul_at;
    struct srv_conn *prev, *next;
};

void srv_heads_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    srv *s = cls;
    srv_heads *h = &s->heads;
    struct srv_conn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* Without memory for a note, the connection goes without one:
         * only the idle timeout bounds it then. */
        if (!ci || !(c = calloc(1, sizeof *c)))
            return;
        c->conn = conn;
        c->fd = ci->connect_fd;
        int sb = SEND_BUFFER;
        (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
        atomic_init(&c->head_since, srv_mono_us());
        pthread_mutex_lock(&h->mu);
        c->next = h->list;
        if (h->list)
            h->list->prev = c;
        h->list = c;
        pthread_mutex_unlock(&h->mu);
        *socket_context = c;
    } else if (c) {
        pthread_mutex_lock(&h->mu);
        if (c->prev)
            c->prev->next = c->next;
        else
            h->list = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&h->mu);
        free(c);
        *socket_context = NULL;
    }
}

/* The connection's note, or NULL if it has none. */
static struct srv_conn *note_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

int srv_heads_done(struct MHD_Connection *conn)
{
    struct srv_conn *c = note_of(conn);
    return c && atomic_exchange(&c->head_since, 0) == CUT ? -1 : 0;
}

void srv_heads_next(struct MHD_Connection *conn)
{
    struct srv_conn *c = note_of(conn);
    if (c) {
        /* A request may end before its body does (closed, or over a
         * limit). */
        moving_set(&c->body, 0, 0);
        moving_set(&c->answer, 0, 0);
        atomic_store(&c->head_since, srv_mono_us());
    }
}

int srv_heads_nul(struct MHD_Connection *conn, const char *at)
{
    struct srv_conn *c = note_of(conn);
    if (!c)
        return -1;
    c->nul_at = at;
    return 0;
}

int srv_heads_nul_path(struct MHD_Connection *conn, const char *url)
{
    struct srv_conn *c = note_of(conn);
    if (!c)
        return 0;
    const char *at = c->nul_at;
    c->nul_at = NULL;
    return at && at == url;
}

void srv_heads_answer(struct MHD_Connection *conn, uint64_t len)
{
    struct srv_conn *c = note_of(conn);
    if (c)
        moving_set(&c->answer, srv_mono_us(), len);
}

int srv_heads_body(struct MHD_Connection *conn, uint64_t since)
{
    struct srv_conn *c = note_of(conn);
    return c && moving_set(&c->body, since, 0) ? -1 : 0;
}

void srv_heads_body_got(struct MHD_Connection *conn, uint64_t got)
{
    struct srv_conn *c = note_of(conn);
    if (c)
        atomic_store(&c->body.n, got);
}

int srv_head_overdue(uint64_t now, uint64_t since, uint64_t limit)
{
    return since && since < now && now - since > limit;
}

int srv_body_overdue(uint64_t now, uint64_t since, uint64_t got, uint64_t grace, uint64_t rate)
{
    if (!since || since >= now)
        return 0;
    /* got is at most a body's limit (1 GiB), so got * 10^6 fits. */
    return now - since > grace + got * 1000000u / (rate ? rate : 1);
}

/* Whether the body or answer m is past its deadline at now. */
static int moving_overdue(const srv *s, struct moving *m, uint64_t now)
{
    uint64_t t = atomic_load(&m->since), k = atomic_load(&m->n);
    /* One that ended and another that began between the two loads would
     * pair the old start with the new count: the claim fails on a start
     * that moved, and the connection is looked at next time. */
    return t &&
           srv_body_overdue(now, t, k, (uint64_t)s->o.body_timeout * 1000000u, s->o.body_rate) &&
           atomic_compare_exchange_strong(&m->since, &t, CUT);
}

/* Whether c's head, body or answer is past its deadline at now, claimed
 * for the cut; which into *what (the counter to add to). */
static int overdue(srv *s, struct srv_conn *c, uint64_t now, _Atomic uint64_t **what)
{
    uint64_t head = atomic_load(&c->head_since);
    if (moving_overdue(s, &c->body, now))
        *what = &s->metrics.bodies_cut;
    else if (moving_overdue(s, &c->answer, now))
        *what = &s->metrics.answers_cut;
    /* A head's clock starts when the connection begins to wait for it,
     * and a client may first sit idle for up to --timeout (after which
     * libmicrohttpd closes the connection itself): that wait is not the
     * head's. */
    else if (srv_head_overdue(now, head,
                              ((uint64_t)s->o.header_timeout + s->o.timeout) * 1000000u) &&
             atomic_compare_exchange_strong(&c->head_since, &head, CUT))
        *what = &s->metrics.heads_cut;
    else
        return 0;
    return 1;
}

static void *reaper(void *arg)
{
    srv *s = arg;
    srv_heads *h = &s->heads;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec until = srv_mono_after(1);
        while (!h->stop && pthread_cond_timedwait(&h->cv, &h->mu, &until) != ETIMEDOUT)
            ;
        uint64_t now = srv_mono_us();
        for (struct srv_conn *c = h->list; c && !h->stop; c = c->next) {
            _Atomic uint64_t *what;
            /* A pool thread may have begun a head, a body or an answer
             * after now was read (srv_head_overdue). */
            if (c->cut || !overdue(s, c, now, &what))
                continue;
            shutdown(c->fd, SHUT_RDWR);
            c->cut = 1;
            atomic_fetch_add(what, 1);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int srv_heads_start(srv *s)
{
    srv_heads *h = &s->heads;
    pthread_mutex_init(&h->mu, NULL);
    srv_cond_init(&h->cv);
    h->inited = 1;
    if (pthread_create(&h->th, NULL, reaper, s))
        return -1;
    h->running = 1;
    return 0;
}

void srv_heads_stop(srv *s)
{
    srv_heads *h = &s->heads;
    if (!h->inited)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->running)
        pthread_join(h->th, NULL);
    h->running = 0;
}

void srv_heads_free(srv *s)
{
    srv_heads *h = &s->heads;
    if (!h->inited)
        return;
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    h->inited = 0;
}
