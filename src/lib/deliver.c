/*
 * deliver.c - notice delivery (DESIGN invariant 4): every pending notice
 * of the outbox goes out through each channel of the policy's "notices"
 * section, and is marked delivered once all of them have accepted it.
 *
 * Channels: a spool directory (one JSON file per notice, named by its
 * number and a hash of its content, written atomically) and webhooks (an
 * HTTP POST with libcurl, accepted only on a 2xx, retried with
 * exponential backoff). This is the one file of the engine that does
 * network I/O: handing a notice over is what the outbox is for, and
 * keeping it beside the marking keeps "hand over, then mark" in one
 * place.
 *
 * At least once, never lost. The outbox is read a chunk at a time from a
 * read snapshot; the chunk is handed to the channels (a spool's files
 * written, then flushed several at a time and renamed into place), the
 * spool directories are fsynced, and only then is the chunk's new state
 * written, in one write transaction. A crash before that commit hands
 * the chunk over again on the next run: spool files are rewritten with
 * the same name and content and webhooks get the same Idempotency-Key.
 * No transaction is open during I/O, and the new state is merged into the
 * value current at commit, so two deliverers running at once add up
 * their attempts instead of losing them.
 *
 * A stored notice gains (docs/POLICY.md):
 *   "channels": {ID: {"attempts": N, "delivered_at": TIME, "last_error": TEXT}}
 *   "delivered": true and "delivered_at": TIME, once every channel has it
 * What a channel receives is the notice without that bookkeeping, plus
 * "number" and "subject".
 */
#include "audit.h"
#include "internal.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 256          /* notices per write transaction */
#define MAX_WAIT_MS 60000L /* the longest wait between two attempts */
#define ERR_MAX 256

/* One channel during one run. */
struct chan {
    const prb_channel *def;
    char setup_err[ERR_MAX]; /* set: the channel cannot be used this run */
    int dirfd;               /* spool: the directory, -1 if not open */
    int unsynced;            /* spool: renames since its last fsync */
    CURL *curl;              /* webhook: one handle, so connections are reused */
    int degraded;            /* webhook: a notice used up its attempts (below) */
    char curl_err[CURL_ERROR_SIZE];
};

/* One notice's hand-over to one channel during this run. */
struct
try {
    int attempts;
    int ok;
    char err[ERR_MAX]; /* why the last attempt failed */
};

struct item {
    uint64_t number, subject;
    json_t *notice;               /* as read from the snapshot; owned */
    int done[PRB_MAX_CHANNELS];   /* accepted in an earlier run */
    int staged[PRB_MAX_CHANNELS]; /* spool: its temporary file is written */
    char hash[17];                /* what is sent, hashed (body_hash), while handed over */
    struct try t[PRB_MAX_CHANNELS];
};

struct run {
    prb_env *env;
    size_t nch, n;
    size_t ntried;      /* items[0, ntried) were handed over: they are marked */
    uint64_t low;       /* the lowest notice number seen still pending */
    uint64_t end;       /* the last notice when the run began: it stops there */
    int stopped;        /* the caller asked to stop (prb_set_cancel) */
    uint64_t budget_ms; /* how long it may start new hand-overs; 0: no limit */
    struct timespec t0;
    struct chan ch[PRB_MAX_CHANNELS];
    struct item items[CHUNK];
    char now[32]; /* the as-of time, YYYY-MM-DDTHH:MM:SSZ */
    prb_deliver_stats st;
};

static void format_time(int64_t t, char out[32])
{
    prb_time_format(t, out);
}

/* Error text goes into a JSON string: keep it printable ASCII. */
static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, ERR_MAX, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
}

/* ----------------------------------------------------------------- spool */

static int cancelled(struct run *r);
static void wait_ms(struct run *r, long ms);

/* One deliverer at a time writes a spool: two (the server's sweep and a
 * `probity notices --deliver` from cron) shared its temporary file names,
 * and one could rename the other's half-written file into place. The
 * lock goes with the descriptor, so a crashed run leaves none. */
static int lock_spool(struct run *r, struct chan *c)
{
    while (flock(c->dirfd, LOCK_EX | LOCK_NB)) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (cancelled(r)) {
            errno = ECANCELED;
            return -1;
        }
        wait_ms(r, 50);
    }
    return 0;
}

static void setup_spool(struct run *r, struct chan *c)
{
    const char *d = c->def->target;
    size_t n = strlen(r->env->dir) + strlen(d) + 2;
    char *path = malloc(n);
    if (!path) {
        set_err(c->setup_err, "out of memory");
        return;
    }
    if (d[0] == '/')
        snprintf(path, n, "%s", d);
    else
        snprintf(path, n, "%s/%s", r->env->dir, d);
    if (prb_make_dirs(path) || (c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        lock_spool(r, c))
        set_err(c->setup_err, "%s: %s", path, strerror(errno));
    free(path);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The first 16 hex digits of the SHA-256 of what is sent. With the
 * notice's number it names a notice to a receiver: the number alone names
 * two notices the same, since a register restored from a backup numbers
 * new notices as old ones, and two registers may share a spool or a
 * gateway. It stays the same for every retry of a notice. */
static void body_hash(const char *body, size_t len, char hex[17])
{
    unsigned char h[PRB_HASH_LEN];
    prb_sha256(body, len, h);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

#define SPOOL_NAME_LEN 48

/* NUMBER-HASH.json, not NUMBER.json: a rename replaces the file of the
 * name it takes, and a file named by the number alone was replaced by
 * another register's notice of that number (two sharing the spool, or
 * one restored from a backup) before its receiver read it, both marked
 * delivered. A name is taken again only by the same content: the same
 * notice handed over again after a crash. */
static void spool_names(uint64_t number, const char *hash, char name[SPOOL_NAME_LEN],
                        char tmp[SPOOL_NAME_LEN + 8])
{
    snprintf(name, SPOOL_NAME_LEN, "%012llu-%s.json", (unsigned long long)number, hash);
    snprintf(tmp, SPOOL_NAME_LEN + 8, ".%s.tmp", name);
}

/* A spool file is written as a temporary file, flushed, then renamed: a
 * reader of the spool sees a whole file or none. Here the temporary file
 * is written; spool_finish flushes and renames a chunk's together. */
static int spool_stage(struct chan *c, const struct item *it, const char *body, size_t len,
                       char *err)
{
    char name[SPOOL_NAME_LEN], tmp[SPOOL_NAME_LEN + 8];
    spool_names(it->number, it->hash, name, tmp);
    int fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, PRB_FILE_MODE);
    if (fd < 0) {
        set_err(err, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    int e = write_all(fd, body, len) || write_all(fd, "\n", 1) ? errno : 0;
    if (close(fd) && !e)
        e = errno;
    if (e) {
        set_err(err, "%s: cannot write: %s", tmp, strerror(e));
        unlinkat(c->dirfd, tmp, 0);
        return -1;
    }
    return 0;
}

/* The flushes of a chunk's spool files are what delivery waits on: one
 * flush of the disk each (~250 us here), which the disk serves several
 * at a time. So they are made by this many threads at once: about twice
 * the notices a second of one at a time, measured here. */
#define FLUSHERS 4

struct flush_job {
    struct run *r;
    size_t ci;
    int k;
};

/* Flushes every FLUSHERS-th staged file of channel ci; a failure fails the
 * item's hand-over. */
static void *flush_some(void *arg)
{
    struct flush_job *j = arg;
    struct chan *c = &j->r->ch[j->ci];
    for (size_t i = 0, seen = 0; i < j->r->ntried; i++) {
        struct item *it = &j->r->items[i];
        struct try *t = &it->t[j->ci];
        char name[SPOOL_NAME_LEN], tmp[SPOOL_NAME_LEN + 8];
        if (!it->staged[j->ci] || seen++ % FLUSHERS != (size_t)j->k)
            continue;
        spool_names(it->number, it->hash, name, tmp);
        int fd = openat(c->dirfd, tmp, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd)) {
            set_err(t->err, "%s: cannot write: %s", tmp, strerror(errno));
            t->ok = 0;
        }
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

/* Flushes the staged files of the items handed over, FLUSHERS at a time,
 * then renames them into place; what failed is removed and its hand-over
 * counted as failed. The directory is flushed after (sync_spools), before
 * the chunk is marked. */
static void spool_finish(struct run *r)
{
    for (size_t ci = 0; ci < r->nch; ci++) {
        struct chan *c = &r->ch[ci];
        struct flush_job jobs[FLUSHERS];
        pthread_t th[FLUSHERS];
        int started[FLUSHERS] = {0};
        size_t todo = 0;
        for (size_t i = 0; i < r->ntried; i++)
            todo += r->items[i].staged[ci];
        if (!todo)
            continue;
        /* A few files, or no thread to be had: this thread does them. */
        for (int k = 0; k < FLUSHERS; k++) {
            jobs[k] = (struct flush_job){r, ci, k};
            if (k && todo >= 2 * FLUSHERS && !pthread_create(&th[k], NULL, flush_some, &jobs[k]))
                started[k] = 1;
        }
        for (int k = 0; k < FLUSHERS; k++)
            if (!started[k])
                flush_some(&jobs[k]);
        for (int k = 0; k < FLUSHERS; k++)
            if (started[k])
                pthread_join(th[k], NULL);
        for (size_t i = 0; i < r->ntried; i++) {
            struct item *it = &r->items[i];
            struct try *t = &it->t[ci];
            char name[SPOOL_NAME_LEN], tmp[SPOOL_NAME_LEN + 8];
            if (!it->staged[ci])
                continue;
            it->staged[ci] = 0;
            spool_names(it->number, it->hash, name, tmp);
            if (t->ok && renameat(c->dirfd, tmp, c->dirfd, name)) {
                set_err(t->err, "%s: cannot store: %s", name, strerror(errno));
                t->ok = 0;
            }
            if (!t->ok)
                unlinkat(c->dirfd, tmp, 0);
            else
                c->unsynced = 1;
        }
    }
}

/* Makes the chunk's renames durable. If that fails, the files written
 * may be lost, so their hand-overs count as failed. */
static void sync_spools(struct run *r)
{
    for (size_t ci = 0; ci < r->nch; ci++) {
        struct chan *c = &r->ch[ci];
        if (!c->unsynced)
            continue;
        c->unsynced = 0;
        if (!fsync(c->dirfd))
            continue;
        int e = errno;
        for (size_t i = 0; i < r->n; i++) {
            struct try *t = &r->items[i].t[ci];
            if (t->ok) {
                t->ok = 0;
                set_err(t->err, "%s: cannot sync the directory: %s", c->def->target, strerror(e));
            }
        }
    }
}

/* --------------------------------------------------------------- webhook */

/* libcurl's global state is set up once per process, whichever thread
 * delivers first, and kept until exit. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* A stop is not kept waiting for a receiver's answer (a channel's
 * timeout may be minutes): libcurl asks this every second or so. */
static int xfer_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return cancelled(arg);
}

static void setup_webhook(struct run *r, struct chan *c)
{
    const prb_channel *d = c->def;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc || !(c->curl = curl_easy_init())) {
        set_err(c->setup_err, "libcurl: cannot start: %s",
                curl_easy_strerror(curl_init_rc ? curl_init_rc : CURLE_FAILED_INIT));
        return;
    }
    CURL *h = c->curl;
    if (curl_easy_setopt(h, CURLOPT_URL, d->target) || curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms) ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)d->timeout_ms) ||
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") ||
#else
        curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ||
#endif
        curl_easy_setopt(h, CURLOPT_POST, 1L) ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard) ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err) ||
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) ||
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_progress) ||
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, r) ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "probity/" PRB_VERSION))
        set_err(c->setup_err, "libcurl: cannot set up %s", d->id);
}

/* One POST; 0 if the receiver answered 2xx. No redirect is followed: a
 * notice is accepted by the URL the policy names or not at all. */
static int post_once(struct chan *c, uint64_t number, const char *hash, const char *body,
                     size_t len, char *err)
{
    char key[64];
    struct curl_slist *h, *t = NULL;
    long status = 0;
    /* A Structured Field string, as draft-ietf-httpapi-idempotency-key-
     * header has it: a bare number would parse as an Integer. With the
     * number alone, a receiver that keeps keys would answer a notice
     * from its cache, and mark it delivered, for another it took of the
     * same number (body_hash). */
    snprintf(key, sizeof key, "Idempotency-Key: \"%llu-%s\"", (unsigned long long)number, hash);
    /* "Expect:" off: a body over 1 KiB would otherwise wait for a 100. */
    if ((h = curl_slist_append(NULL, "Content-Type: application/json")) &&
        (t = curl_slist_append(h, key)))
        t = curl_slist_append(h, "Expect:");
    if (!t) {
        curl_slist_free_all(h);
        set_err(err, "out of memory");
        return -1;
    }
    c->curl_err[0] = 0;
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    CURLcode cc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        set_err(err, "the delivery run was stopped before the receiver answered");
        return -1;
    }
    if (cc) {
        set_err(err, "%s", c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299)
        return 0;
    set_err(err, "HTTP status %ld", status);
    return -1;
}

/* Whether the caller asked to stop (prb_set_cancel); remembered. */
static int cancelled(struct run *r)
{
    if (!r->stopped && prb_cancelled(r->env))
        r->stopped = 1;
    return r->stopped;
}

/* Whether the run has used its time: it starts no new hand-over then. */
static int out_of_time(struct run *r)
{
    struct timespec t;
    if (!r->budget_ms)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ms = (int64_t)(t.tv_sec - r->t0.tv_sec) * 1000 + (t.tv_nsec - r->t0.tv_nsec) / 1000000;
    return ms >= (int64_t)r->budget_ms;
}

/* Waits ms, in slices short enough that a stop is not kept waiting. */
static void wait_ms(struct run *r, long ms)
{
    while (ms > 0 && !cancelled(r)) {
        long slice = ms < 100 ? ms : 100;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) && errno == EINTR)
            ;
        ms -= slice;
    }
}

/* Up to max_attempts POSTs, waiting backoff_ms * 2^k after the k-th
 * failure (at most MAX_WAIT_MS). Once a notice has used up its attempts
 * the channel is taken to be down: later notices get one attempt each,
 * so a dead receiver costs one try per notice rather than the whole
 * backoff, until one is accepted. Every notice is still tried, so one
 * the receiver always refuses cannot hold up the others. */
static void webhook_deliver(struct run *r, struct chan *c, const struct item *it, const char *body,
                            size_t len, struct try *t)
{
    int max = c->degraded ? 1 : c->def->max_attempts;
    long wait = c->def->backoff_ms;
    for (int k = 0; k < max; k++) {
        if (k) {
            wait_ms(r, wait);
            if (cancelled(r))
                break;
            wait = wait * 2 > MAX_WAIT_MS ? MAX_WAIT_MS : wait * 2;
        }
        t->attempts++;
        r->st.attempts++;
        if (!post_once(c, it->number, it->hash, body, len, t->err)) {
            t->ok = 1;
            c->degraded = 0;
            return;
        }
    }
    c->degraded = 1;
}

/* -------------------------------------------------------------- the run */

/* What channels receive: the notice without the delivery bookkeeping,
 * after its number and subject. NULL if out of memory. */
static char *payload(const struct item *it, size_t *len)
{
    char *s = NULL;
    json_t *o = json_pack("{s:I, s:I}", "number", (json_int_t)it->number, "subject",
                          (json_int_t)it->subject);
    if (o && !json_object_update_missing(o, it->notice)) {
        json_object_del(o, "delivered");
        json_object_del(o, "delivered_at");
        json_object_del(o, "channels");
        s = json_dumps(o, JSON_COMPACT);
    }
    json_decref(o);
    if (s)
        *len = strlen(s);
    return s;
}

static json_t *channel_state(json_t *notice, const prb_channel *ch)
{
    return json_object_get(json_object_get(notice, "channels"), ch->id);
}

static int deliver_item(struct run *r, struct item *it)
{
    size_t len = 0;
    char *body = payload(it, &len);
    if (!body)
        return prb_seterr(r->env->err, PRB_ENOMEM, "out of memory");
    body_hash(body, len, it->hash);
    for (size_t ci = 0; ci < r->nch; ci++) {
        struct chan *c = &r->ch[ci];
        struct try *t = &it->t[ci];
        if (it->done[ci])
            continue;
        if (c->setup_err[0]) {
            t->attempts = 1;
            r->st.attempts++;
            memcpy(t->err, c->setup_err, ERR_MAX);
        } else if (c->def->type == PRB_CH_SPOOL) {
            t->attempts = 1;
            r->st.attempts++;
            t->ok = it->staged[ci] = !spool_stage(c, it, body, len, t->err);
        } else {
            webhook_deliver(r, c, it, body, len, t);
        }
    }
    free(body);
    return PRB_OK;
}

static void free_items(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->items[i].notice);
    r->n = 0;
}

/* Takes one outbox value into the chunk if it is pending. A value that
 * is not a notice is counted pending and named in the handle's message:
 * it can never be delivered, and saying so beats skipping it silently. */
static void take(struct run *r, uint64_t number, const MDB_val *v)
{
    json_t *n = NULL;
    if (v->mv_size > 8)
        n = json_loadb((const char *)v->mv_data + 8, v->mv_size - 8, 0, NULL);
    if (!json_is_object(n)) {
        json_decref(n);
        r->st.pending++;
        if (number < r->low)
            r->low = number;
        prb_seterr(r->env->err, PRB_ECORRUPT, "%s: notice %llu is not a JSON object", r->env->dir,
                   (unsigned long long)number);
        return;
    }
    if (json_is_true(json_object_get(n, "delivered"))) {
        json_decref(n);
        return;
    }
    struct item *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    it->number = number;
    it->subject = prb_get_be64(v->mv_data);
    it->notice = n;
    for (size_t ci = 0; ci < r->nch; ci++)
        it->done[ci] =
            json_is_string(json_object_get(channel_state(n, r->ch[ci].def), "delivered_at"));
}

/* Fills the chunk with up to CHUNK pending notices numbered after *after,
 * from a read snapshot that is closed again before anything is sent. */
static int read_chunk(struct run *r, uint64_t *after)
{
    prb_env *env = r->env;
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int mrc;
    r->n = 0;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "reading the outbox");
    if ((mrc = mdb_cursor_open(txn, env->outbox, &cur))) {
        mdb_txn_abort(txn);
        return prb_mdb_fail(env, mrc, "reading the outbox");
    }
    prb_be64(key, *after + 1);
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mrc && r->n < CHUNK;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8)
            continue;
        if (prb_get_be64(k.mv_data) > r->end)
            break;
        *after = prb_get_be64(k.mv_data);
        take(r, *after, &v);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (mrc && mrc != MDB_NOTFOUND) {
        free_items(r);
        return prb_mdb_fail(env, mrc, "reading the outbox");
    }
    return PRB_OK;
}

/* Adds this run's hand-overs of it to the stored notice n. *all is set
 * when every channel now has it. Returns non-zero if out of memory. */
static int merge(struct run *r, const struct item *it, json_t *n, int *all)
{
    json_t *chs = json_object_get(n, "channels");
    int bad = 0;
    if (!json_is_object(chs)) {
        chs = json_object();
        if (!chs || json_object_set_new(n, "channels", chs))
            return -1;
    }
    *all = 1;
    for (size_t ci = 0; ci < r->nch; ci++) {
        const prb_channel *ch = r->ch[ci].def;
        const struct try *t = &it->t[ci];
        json_t *e = json_object_get(chs, ch->id);
        if (t->attempts) {
            if (!json_is_object(e)) {
                e = json_object();
                if (!e || json_object_set_new(chs, ch->id, e))
                    return -1;
            }
            json_int_t before = json_integer_value(json_object_get(e, "attempts"));
            bad |= json_object_set_new(e, "attempts", json_integer(before + t->attempts));
            if (t->ok) {
                json_object_del(e, "last_error");
                if (!json_object_get(e, "delivered_at"))
                    bad |= json_object_set_new(e, "delivered_at", json_string(r->now));
            } else if (!json_object_get(e, "delivered_at")) {
                bad |= json_object_set_new(e, "last_error", json_string(t->err));
            }
        }
        if (!json_is_string(json_object_get(e, "delivered_at")))
            *all = 0;
    }
    if (*all) {
        bad |= json_object_set_new(n, "delivered", json_true());
        bad |= json_object_set_new(n, "delivered_at", json_string(r->now));
    }
    return bad;
}

/* Rewrites one notice in txn with this run's hand-overs merged into the
 * value as it is now (another deliverer may have written it since the
 * snapshot), and logs the write: as delivered once every channel has
 * it, else as an attempt. */
static int mark_one(struct run *r, MDB_txn *txn, const struct item *it, uint64_t *delivered,
                    uint64_t *pending)
{
    prb_env *env = r->env;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int all, rc = PRB_OK;
    prb_be64(key, it->number);
    int mrc = mdb_get(txn, env->outbox, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return PRB_OK;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading a notice");
    json_t *n =
        v.mv_size > 8 ? json_loadb((const char *)v.mv_data + 8, v.mv_size - 8, 0, NULL) : NULL;
    if (!json_is_object(n)) {
        json_decref(n);
        (*pending)++;
        if (it->number < r->low)
            r->low = it->number;
        return PRB_OK;
    }
    if (json_is_true(json_object_get(n, "delivered"))) {
        json_decref(n);
        return PRB_OK;
    }
    uint64_t subject = prb_get_be64(v.mv_data);
    char *json = merge(r, it, n, &all) ? NULL : json_dumps(n, JSON_COMPACT);
    json_decref(n);
    size_t jl = json ? strlen(json) : 0;
    unsigned char *val = json ? malloc(8 + jl) : NULL;
    if (!val) {
        free(json);
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    prb_notice_value(val, subject, json, jl);
    free(json);
    MDB_val mv = {8 + jl, val};
    if ((mrc = mdb_put(txn, env->outbox, &k, &mv, 0)))
        rc = prb_mdb_fail(env, mrc, "marking a notice");
    else /* an auditor reads "delivered" as "the subject was told" */
        rc = prb_audit_log(env, all ? PRB_LEAF_DELIVERED : PRB_LEAF_ATTEMPT, 0, it->number, val,
                           8 + jl);
    free(val);
    if (!rc)
        (*(all ? delivered : pending))++;
    if (!rc && !all && it->number < r->low)
        r->low = it->number;
    return rc;
}

static int mark_chunk(struct run *r, uint64_t *delivered, uint64_t *pending)
{
    MDB_txn *txn;
    int rc = prb_wtxn_begin(r->env, &txn);
    if (rc)
        return rc;
    for (size_t i = 0; i < r->ntried; i++)
        if ((rc = mark_one(r, txn, &r->items[i], delivered, pending))) {
            prb_wtxn_abort(r->env, txn);
            return rc;
        }
    return prb_wtxn_commit(r->env, txn);
}

static int mark(struct run *r)
{
    uint64_t delivered, pending;
    int rc;
    for (;;) {
        delivered = pending = 0;
        if ((rc = mark_chunk(r, &delivered, &pending)) != PRB_EFULL)
            break;
        if ((rc = prb_env_grow(r->env)))
            return rc;
    }
    if (!rc) {
        r->st.delivered += delivered;
        r->st.pending += pending;
    }
    return rc;
}

/* Every notice numbered below the floor has been delivered (notices are
 * numbered as they are made and never become pending again), so a run
 * starts there instead of reading the whole outbox, which grows by a
 * notice for every adverse record, list change and adverse decision. */
static const MDB_val FLOOR_KEY = {12, "notice_floor"};

/* Where a run starts (the floor) and ends: the last notice made before
 * it. Notices made while it runs wait for the next run, so a run ends
 * however fast they come (a run that chased them never let the sweep
 * go on to retention and the lists). */
static int bounds_read(prb_env *env, uint64_t *floor, uint64_t *end)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val v, k;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    *floor = 1;
    *end = 0;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the outbox");
    mrc = mdb_get(txn, env->meta, (MDB_val *)&FLOOR_KEY, &v);
    if (!mrc && v.mv_size == 8)
        *floor = prb_get_be64(v.mv_data);
    if ((!mrc || mrc == MDB_NOTFOUND) && !(mrc = mdb_cursor_open(txn, env->outbox, &cur)) &&
        !(mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) && k.mv_size == 8)
        *end = prb_get_be64(k.mv_data);
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return mrc && mrc != MDB_NOTFOUND ? prb_mdb_fail(env, mrc, "reading the outbox") : PRB_OK;
}

/* Counts the notices after the last one this run read that are not yet
 * delivered: left by a stop or the time budget, or made meanwhile. */
static int count_later(struct run *r, uint64_t after)
{
    prb_env *env = r->env;
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the outbox");
    if ((mrc = mdb_cursor_open(txn, env->outbox, &cur))) {
        mdb_txn_abort(txn);
        return prb_mdb_fail(env, mrc, "reading the outbox");
    }
    prb_be64(key, after + 1);
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *n =
            v.mv_size > 8 ? json_loadb((const char *)v.mv_data + 8, v.mv_size - 8, 0, NULL) : NULL;
        r->st.later += !json_is_true(json_object_get(n, "delivered"));
        json_decref(n);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return mrc != MDB_NOTFOUND ? prb_mdb_fail(env, mrc, "reading the outbox") : PRB_OK;
}

static int floor_write(prb_env *env, uint64_t floor)
{
    MDB_txn *txn;
    unsigned char b[8];
    MDB_val v = {8, b};
    int rc = prb_wtxn_begin(env, &txn), mrc;
    if (rc)
        return rc;
    prb_be64(b, floor);
    if ((mrc = mdb_put(txn, env->meta, (MDB_val *)&FLOOR_KEY, &v, 0))) {
        prb_wtxn_abort(env, txn);
        return prb_mdb_fail(env, mrc, "writing the outbox floor");
    }
    return prb_wtxn_commit(env, txn);
}

/* Around each transaction (prb_set_guard); none is open while a
 * notice is handed over. */
static void guard(prb_env *env, int enter)
{
    if (env->guard)
        env->guard(env->guard_ctx, enter);
}

int prb_notices_deliver(prb_env *env, prb_deliver_stats *st)
{
    return prb_notices_deliver_within(env, 0, st);
}

int prb_notices_deliver_within(prb_env *env, uint64_t budget_ms, prb_deliver_stats *st)
{
    const prb_policy *p = env->policy;
    struct run *r = calloc(1, sizeof *r);
    uint64_t after = 0, floor = 1;
    int rc = PRB_OK;
    if (st)
        memset(st, 0, sizeof *st);
    if (!r)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    assert(p->nchannels <= PRB_MAX_CHANNELS);
    r->env = env;
    r->nch = p->nchannels;
    r->low = UINT64_MAX;
    r->budget_ms = budget_ms;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    format_time(env->now, r->now);
    guard(env, 1);
    rc = bounds_read(env, &floor, &r->end);
    guard(env, 0);
    if (rc) {
        free(r);
        return rc;
    }
    after = floor - 1;
    for (size_t ci = 0; ci < r->nch; ci++) {
        struct chan *c = &r->ch[ci];
        c->def = &p->channels[ci];
        c->dirfd = -1;
        if (c->def->type == PRB_CH_SPOOL)
            setup_spool(r, c);
        else
            setup_webhook(r, c);
    }
    while (!cancelled(r) && !out_of_time(r)) {
        guard(env, 1);
        rc = read_chunk(r, &after);
        guard(env, 0);
        if (rc || !r->n)
            break;
        /* Asked to stop, or out of time: what was handed over is marked,
         * the rest stays pending for the next run. */
        for (r->ntried = 0; !rc && r->ntried < r->n && !cancelled(r) && !out_of_time(r);
             r->ntried++)
            rc = deliver_item(r, &r->items[r->ntried]);
        /* What was handed over is made durable before it is marked; what
         * an error stopped short is only removed. */
        spool_finish(r);
        if (!rc) {
            sync_spools(r);
            guard(env, 1);
            rc = mark(r);
            guard(env, 0);
        }
        for (size_t i = r->ntried; i < r->n; i++)
            if (r->items[i].number < r->low)
                r->low = r->items[i].number;
        if (!rc)
            r->st.later += r->n - r->ntried;
        free_items(r);
        if (rc)
            break;
    }
    /* Everything read up to after is delivered but the pending ones. */
    uint64_t next = r->low < after + 1 ? r->low : after + 1;
    guard(env, 1);
    if (!rc && next > floor)
        rc = floor_write(env, next);
    if (!rc)
        rc = count_later(r, after);
    guard(env, 0);
    for (size_t ci = 0; ci < r->nch; ci++) {
        if (r->ch[ci].dirfd >= 0)
            close(r->ch[ci].dirfd);
        if (r->ch[ci].curl)
            curl_easy_cleanup(r->ch[ci].curl);
    }
    if (st)
        *st = r->st;
    free(r);
    return rc;
}
