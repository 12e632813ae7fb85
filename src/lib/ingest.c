/*
 * ingest.c - an ingest batch: NDJSON and CSV inputs in, one durable LMDB
 * write transaction out (DESIGN "Data flows one way").
 *
 * Two phases. Parse: inputs are cut into chunks at line ends and parsed
 * and checked against the policy by one thread per core; each chunk has
 * its own arena, so the threads share nothing. Apply: one thread resolves
 * subjects and (furnisher, ref) keys through in-memory tables backed by
 * the store, decides new / unchanged / corrected, and collects every put.
 * Within a batch the last good line of a (furnisher, ref) counts,
 * compared with what the register held when the batch began (REAPPLY).
 * Only when the whole batch is known good (or skip_bad) are the puts
 * sorted and written, with MDB_APPEND wherever keys run past the end of a
 * database, and committed once. A crash at any point before the commit
 * leaves the register as it was; after it, the whole batch is there.
 */
#include "internal.h"
#include "audit.h"

#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (2u << 20)
/* A chunk arena's block, 2 MiB mapped with its header: a parsed chunk
 * (its records packed, keys and notices) takes about three quarters. */
#define CHUNK_ARENA ((2u << 20) - 64)

struct input {
    const char *name, *buf;
    size_t len;
    int format;
};

struct chunk {
    uint32_t src;
    const char *p, *end;
    uint32_t nlines, line0;
    prb_arena arena;
    prb_rec *recs;
    size_t nrecs, rcap;
    prb_recerr *errs;
    size_t nerrs, ecap;
    size_t nbad; /* bad lines, kept in errs or not */
};

struct prb_ingest {
    prb_env *env;
    prb_ingest_opts opts;
    char *furnisher;
    struct input *in;
    size_t nin, incap;
    struct chunk *chunks;
    size_t nchunks;
    char **msgs;
    size_t nmsgs, nbad; /* messages kept; bad records in all */
    prb_arena msg_arena;
    int32_t today;
    int done;
    int deferring; /* it has two different lines of a (furnisher, ref) (REAPPLY) */
};

/* ------------------------------------------------------------ batches */

int prb_ingest_begin(prb_env *env, const prb_ingest_opts *opts, prb_ingest **out)
{
    prb_ingest *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    b->env = env;
    if (opts)
        b->opts = *opts;
    if (b->opts.furnisher && !(b->furnisher = strdup(b->opts.furnisher)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    b->opts.furnisher = b->furnisher;
    b->today = prb_today(env);
    prb_arena_init(&b->msg_arena, 1 << 16);
    return PRB_OK;
}

int prb_ingest_add(prb_ingest *b, const char *name, const char *buf, size_t len, int format)
{
    if (b->done)
        return prb_seterr(b->env->err, PRB_EINVAL, "ingest: batch already committed");
    if (format != PRB_FMT_NDJSON && format != PRB_FMT_CSV)
        return prb_seterr(b->env->err, PRB_EINVAL, "%s: unknown input format", name);
    if (len > UINT32_MAX / 2 && format == PRB_FMT_CSV)
        return prb_seterr(b->env->err, PRB_EINVAL, "%s: CSV input larger than 2 GiB", name);
    if (b->nin == b->incap) {
        struct input *n = realloc(b->in, (b->incap = b->incap * 2 + 8) * sizeof *n);
        if (!n)
            return prb_seterr(b->env->err, PRB_ENOMEM, "out of memory");
        b->in = n;
    }
    b->in[b->nin++] = (struct input){name, buf, len, format};
    return PRB_OK;
}

size_t prb_ingest_nerrors(const prb_ingest *b)
{
    return b->nmsgs;
}

const char *prb_ingest_error(const prb_ingest *b, size_t i)
{
    return i < b->nmsgs ? b->msgs[i] : NULL;
}

static void free_chunks(prb_ingest *b)
{
    for (size_t i = 0; i < b->nchunks; i++) {
        prb_arena_free(&b->chunks[i].arena);
        free(b->chunks[i].recs);
        free(b->chunks[i].errs);
    }
    free(b->chunks);
    b->chunks = NULL;
    b->nchunks = 0;
}

void prb_ingest_free(prb_ingest *b)
{
    if (!b)
        return;
    free_chunks(b);
    free(b->in);
    free(b->msgs);
    free(b->furnisher);
    prb_arena_free(&b->msg_arena);
    free(b);
}

/* --------------------------------------------------------------- parse */

static int push_rec(struct chunk *c, const prb_rec *r)
{
    if (c->nrecs == c->rcap) {
        /* A record line is rarely under 250 bytes: size for that first. */
        size_t cap = c->rcap ? c->rcap * 2 : (size_t)(c->end - c->p) / 250 + 64;
        prb_rec *n = realloc(c->recs, (c->rcap = cap) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        c->recs = n;
    }
    c->recs[c->nrecs++] = *r;
    return PRB_OK;
}

/* Whether another rejection is worth a message. Errors come in input
 * order within a chunk and within the apply pass, so each list keeping
 * its first max_errors keeps the batch's first max_errors. */
static int keep_err(const prb_ingest *b, size_t kept)
{
    return !b->opts.max_errors || kept < b->opts.max_errors;
}

/* Records a bad line. One whose message is not kept gives back what its
 * parse took from the arena since m: a body of bad lines costs no more
 * than a body of a few. */
static int push_err(const prb_ingest *b, struct chunk *c, uint32_t line, const prb_recerr *e,
                    prb_amark m)
{
    c->nbad++;
    if (!keep_err(b, c->nerrs)) {
        prb_arena_rewind(&c->arena, m);
        return PRB_OK;
    }
    if (c->nerrs == c->ecap) {
        prb_recerr *n = realloc(c->errs, (c->ecap = c->ecap * 2 + 16) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        c->errs = n;
    }
    c->errs[c->nerrs] = *e;
    c->errs[c->nerrs].src = c->src;
    c->errs[c->nerrs].line = line;
    c->nerrs++;
    return PRB_OK;
}

static int blank(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return 0;
    return 1;
}

/* The notice of adverse record r (malloc'd JSON; NULL if out of memory).
 * Its effect runs from the record's first receipt (subject.c), which for
 * a correction is its first version's: a correction's notice said
 * "may not be used before" a date weeks ahead while the corrected record
 * was in use the same day. A correction may also end the record's
 * retention (a judgment paid, kept 0 days after): the notice said it was
 * "used as corrected from now on" of a record no longer used at all.
 * late, if not "", is the deadline of the record's open dispute, which
 * passed before the correction came: the dispute has resolved in the
 * subject's favour, and the sweep deletes the record (invariant 5). */
static char *adverse_notice(const prb_ingest *b, const prb_rec *r, int32_t first_received,
                            int corrected, const char *late)
{
    const prb_catdef *cd = &b->env->policy->categories[r->cat];
    char about[256], head[512], text[768], day[11], from[11], ev[11], gone[11];
    int32_t eff = prb_effective_from(cd, r->event, first_received);
    int never = r->expires <= (eff > b->today ? eff : b->today);
    prb_date_format(b->today, day);
    prb_date_format(eff, from);
    prb_date_format(r->event, ev);
    prb_date_format(r->expires, gone);
    snprintf(about, sizeof about, "%.*s/%.*s", (int)r->furnisher.n, r->furnisher.p, (int)r->ref.n,
             r->ref.p);
    snprintf(head, sizeof head, "%.*s %s of %s about you (reference %.*s, dated %s).",
             (int)r->furnisher.n, r->furnisher.p,
             corrected ? "corrected its record" : "reported a record", cd->name, (int)r->ref.n,
             r->ref.p, ev);
    if (*late)
        snprintf(text, sizeof text,
                 "%s The correction came after the deadline of your dispute, %s, which "
                 "passed unanswered: the dispute is resolved in your favour, and the record is "
                 "deleted; it is not used again.",
                 head, late);
    else if (never && eff <= b->today)
        snprintf(text, sizeof text,
                 "%s The record was in effect from %s; as corrected, its retention ended on %s, "
                 "so it is no longer used and is deleted.",
                 head, from, gone);
    else if (never && r->expires > b->today)
        snprintf(text, sizeof text,
                 "%s It will not be used: it is deleted on %s, when its retention ends, before "
                 "it could take effect on %s.",
                 head, gone, from);
    else if (never)
        snprintf(text, sizeof text,
                 "%s It will not be used: as corrected, its retention ended on %s, before it "
                 "could take effect on %s, and it is deleted.",
                 head, gone, from);
    else if (!corrected || eff > b->today)
        snprintf(text, sizeof text,
                 "%s It may not be used before %s; you may dispute it if it is wrong.", head, from);
    else
        snprintf(text, sizeof text,
                 "%s The record has been in effect since %s and is used as corrected from now "
                 "on; you may dispute it if it is wrong.",
                 head, from);
    return prb_notice_json(r->ident, "adverse_record", NULL, about, cd->name, text, day);
}

/* Makes json (malloc'd, freed here; NULL if out of memory) r's notice,
 * in arena a. The hash and the text in one piece: most records have no
 * notice, and every record would carry the hash's 32 bytes in prb_rec. */
static int keep_notice(prb_arena *a, char *json, prb_rec *r)
{
    size_t n = json ? strlen(json) : 0;
    unsigned char *m = json ? prb_arena_alloc(a, PRB_HASH_LEN + n + 1) : NULL;
    if (!m) {
        free(json);
        return PRB_ENOMEM;
    }
    memcpy(m + PRB_HASH_LEN, json, n + 1);
    free(json);
    r->notice = (const char *)m + PRB_HASH_LEN;
    r->notice_len = (uint32_t)n;
    r->notice_hash = m;
#ifndef PRB_NO_AUDIT
    prb_sha256(r->notice, n, m);
#endif
    return PRB_OK;
}

/* Invariant 4: an adverse record is announced to its subject. The notice
 * is written here, on a parse thread; applying the batch decides whether
 * it is sent (not for a re-sent record that changes nothing), and writes
 * a correction's again (correction_notice). */
static int make_notice(prb_ingest *b, struct chunk *c, prb_rec *r)
{
    return keep_notice(&c->arena, adverse_notice(b, r, b->today, 0, ""), r);
}

static int check_one(prb_ingest *b, struct chunk *c, const prb_raw *raw, uint32_t line, prb_amark m)
{
    prb_rec r;
    prb_recerr e;
    memset(&r, 0, sizeof r);
    if (prb_record_check(b->env->policy, raw, b->opts.furnisher, b->today, &c->arena, &r, &e))
        return push_err(b, c, line, &e, m);
    r.src = c->src;
    r.line = line;
    /* Keys and hashes are made here, on every core, not in the one
     * thread that applies the batch. */
    r.ident_len = (uint32_t)strlen(r.ident);
    r.ident_hash = prb_hash(r.ident, r.ident_len);
    unsigned char *k = prb_arena_alloc(&c->arena, 9 + r.furnisher.n + r.ref.n);
    if (!k)
        return PRB_ENOMEM;
    r.fkey = k;
    r.fkey_len = (uint32_t)prb_fref_key(k, r.furnisher.p, r.furnisher.n, r.ref.p, r.ref.n);
    r.fkey_hash = prb_get_be64(k);
    if (b->env->policy->categories[r.cat].polarity == PRB_ADVERSE && make_notice(b, c, &r))
        return PRB_ENOMEM;
    return push_rec(c, &r);
}

static int parse_ndjson(prb_ingest *b, struct chunk *c)
{
    const char *p = c->p;
    prb_raw raw;
    prb_recerr e;
    while (p < c->end) {
        const char *nl = memchr(p, '\n', (size_t)(c->end - p));
        const char *le = nl ? nl : c->end;
        uint32_t line = ++c->nlines;
        int rc = PRB_OK;
        if (!blank(p, le)) {
            prb_amark m = prb_arena_mark(&c->arena);
            if (prb_ndjson_parse(p, (size_t)(le - p), &c->arena, &raw, &e))
                rc = push_err(b, c, line, &e, m);
            else
                rc = check_one(b, c, &raw, line, m);
        }
        if (rc)
            return rc;
        p = nl ? nl + 1 : c->end;
    }
    return PRB_OK;
}

static int parse_csv(prb_ingest *b, struct chunk *c)
{
    const char *p = c->p;
    prb_csv h;
    prb_raw raw;
    prb_recerr e;
    uint32_t n;
    prb_amark m = prb_arena_mark(&c->arena);
    if (prb_csv_header(&h, b->env->policy, &p, c->end, &c->arena, &e, &n)) {
        c->nlines = 1;
        return push_err(b, c, 1, &e, m);
    }
    c->nlines = n;
    for (;;) {
        uint32_t line = c->nlines + 1;
        m = prb_arena_mark(&c->arena);
        int rc = prb_csv_row(&h, &p, c->end, line, &c->arena, &raw, &e, &n);
        if (rc == PRB_ENOTFOUND)
            return PRB_OK;
        c->nlines += n;
        if (rc == PRB_EINVAL)
            rc = push_err(b, c, line, &e, m);
        else if (!rc && raw.ref.type == PRB_J_ABSENT)
            continue; /* a blank row (prb_csv_row) */
        else if (!rc)
            rc = check_one(b, c, &raw, line, m);
        if (rc)
            return rc;
    }
}

/* Cuts NDJSON inputs at line ends into chunks of about CHUNK_BYTES; a
 * CSV input is one chunk, since a quoted cell may hold a line end. */
static int make_chunks(prb_ingest *b)
{
    size_t cap = 0;
    for (size_t i = 0; i < b->nin; i++)
        cap += b->in[i].len / CHUNK_BYTES + 1;
    b->chunks = calloc(cap, sizeof *b->chunks);
    if (!b->chunks)
        return PRB_ENOMEM;
    for (size_t i = 0; i < b->nin; i++) {
        const char *p = b->in[i].buf, *end = p + b->in[i].len;
        /* A byte order mark (Windows tools write one) made the first
         * line "must be an object", its cause invisible; csv.c skips
         * its own before the header. Anywhere else it is a line's text. */
        if (b->in[i].format == PRB_FMT_NDJSON && end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
            p += 3;
        do {
            const char *e = end;
            if (b->in[i].format == PRB_FMT_NDJSON && (size_t)(end - p) > CHUNK_BYTES) {
                const char *nl = memchr(p + CHUNK_BYTES, '\n', (size_t)(end - p - CHUNK_BYTES));
                e = nl ? nl + 1 : end;
            }
            struct chunk *c = &b->chunks[b->nchunks++];
            c->src = (uint32_t)i;
            c->p = p;
            c->end = e;
            prb_arena_init(&c->arena, CHUNK_ARENA);
            p = e;
        } while (p < end);
    }
    return PRB_OK;
}

/* The parse pipeline. Workers take chunks in order from a shared counter;
 * the applying thread consumes them in order as they become ready and,
 * rather than sit idle waiting for one, parses the next unclaimed chunk
 * itself. So parsing runs on every core and applying overlaps it. */
struct pool {
    prb_ingest *b;
    atomic_size_t next;
    atomic_int rc;
    atomic_int stop;
    atomic_int *ready;
    size_t lines_done; /* chunks whose line numbers are final */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th[64];
    int nthreads;
};

/* Parses one unclaimed chunk; returns 0 when none is left. */
static int parse_next(struct pool *pl)
{
    size_t i = atomic_fetch_add(&pl->next, 1);
    if (i >= pl->b->nchunks || atomic_load(&pl->stop))
        return 0;
    struct chunk *c = &pl->b->chunks[i];
    int rc = pl->b->in[c->src].format == PRB_FMT_CSV ? parse_csv(pl->b, c) : parse_ndjson(pl->b, c);
    if (rc)
        atomic_store(&pl->rc, rc);
    pthread_mutex_lock(&pl->mu);
    atomic_store_explicit(&pl->ready[i], 1, memory_order_release);
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    return 1;
}

static void *parse_worker(void *arg)
{
    while (parse_next(arg))
        ;
    return NULL;
}

static int pool_start(struct pool *pl, prb_ingest *b)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = b->opts.threads > 0 ? b->opts.threads : ncpu > 0 ? (int)ncpu : 1;
    memset(pl, 0, sizeof *pl);
    pl->b = b;
    if (!(pl->ready = calloc(b->nchunks + 1, sizeof *pl->ready)))
        return PRB_ENOMEM;
    atomic_init(&pl->next, 0);
    atomic_init(&pl->rc, 0);
    atomic_init(&pl->stop, 0);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv, NULL);
    /* The applying thread parses too, so it counts as one of nt. */
    if (nt > 64)
        nt = 64;
    if ((size_t)nt > b->nchunks)
        nt = (int)b->nchunks;
    for (int i = 1; i < nt; i++)
        if (!pthread_create(&pl->th[pl->nthreads], NULL, parse_worker, pl))
            pl->nthreads++;
    return PRB_OK;
}

/* Waits until chunk i is parsed, helping meanwhile, and makes its line
 * numbers final (they count from 1 in each chunk until the chunks before
 * it in the same input are known). */
static int pool_wait(struct pool *pl, size_t i)
{
    prb_ingest *b = pl->b;
    while (!atomic_load_explicit(&pl->ready[i], memory_order_acquire)) {
        if (parse_next(pl))
            continue;
        pthread_mutex_lock(&pl->mu);
        while (!atomic_load_explicit(&pl->ready[i], memory_order_acquire))
            pthread_cond_wait(&pl->cv, &pl->mu);
        pthread_mutex_unlock(&pl->mu);
    }
    for (; pl->lines_done <= i; pl->lines_done++) {
        size_t k = pl->lines_done;
        struct chunk *c = &b->chunks[k];
        if (k && c->src == b->chunks[k - 1].src)
            c->line0 = b->chunks[k - 1].line0 + b->chunks[k - 1].nlines;
        for (size_t j = 0; j < c->nrecs; j++)
            c->recs[j].line += c->line0;
        for (size_t j = 0; j < c->nerrs; j++)
            c->errs[j].line += c->line0;
    }
    return atomic_load(&pl->rc);
}

static int pool_finish(struct pool *pl)
{
    int rc = PRB_OK;
    if (pl->b) {
        atomic_store(&pl->stop, 1);
        for (int i = 0; i < pl->nthreads; i++)
            pthread_join(pl->th[i], NULL);
        rc = atomic_load(&pl->rc);
        pthread_mutex_destroy(&pl->mu);
        pthread_cond_destroy(&pl->cv);
        pl->b = NULL; /* finished: a second call does nothing */
        pl->nthreads = 0;
    }
    free(pl->ready);
    pl->ready = NULL;
    return rc;
}

/* ---------------------------------------------------------------- apply */

/* Open addressing on (hash, key); values are pointers. */
struct slot {
    uint64_t h;
    const void *key;
    uint32_t kn;
    void *val;
};

struct table {
    struct slot *s;
    size_t cap, n;
};

/* Slots for expect entries at most two-thirds full, a power of two. */
static size_t table_cap(size_t expect)
{
    size_t cap = 1024;
    while (cap < expect + expect / 2)
        cap <<= 1;
    return cap;
}

static int table_init(struct table *t, size_t expect)
{
    *t = (struct table){NULL, table_cap(expect), 0};
    t->s = prb_bigalloc(t->cap * sizeof *t->s);
    return t->s ? PRB_OK : PRB_ENOMEM;
}

static struct slot *table_find(struct table *t, uint64_t h, const void *key, uint32_t kn)
{
    size_t i = h & (t->cap - 1);
    for (;; i = (i + 1) & (t->cap - 1)) {
        struct slot *s = &t->s[i];
        if (!s->key || (s->h == h && s->kn == kn && !memcmp(s->key, key, kn)))
            return s;
    }
}

static int table_grow(struct table *t)
{
    struct table n = {prb_bigalloc(t->cap * 2 * sizeof *t->s), t->cap * 2, t->n};
    if (!n.s)
        return PRB_ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].key)
            *table_find(&n, t->s[i].h, t->s[i].key, t->s[i].kn) = t->s[i];
    prb_bigfree(t->s, t->cap * sizeof *t->s);
    *t = n;
    return PRB_OK;
}

static int table_put(struct table *t, struct slot *s, uint64_t h, const void *key, uint32_t kn,
                     void *val)
{
    *s = (struct slot){h, key, kn, val};
    if (++t->n * 10 > t->cap * 7)
        return table_grow(t);
    return PRB_OK;
}

/* A subject as the batch knows it. Not a prb_subject, whose room for
 * every identifier a subject may have made it 544 bytes: for a first
 * load of 200,000 subjects, 100 MB of memory faulted in on the applying
 * thread for pointers almost never used. */
struct sstate {
    uint64_t id;
    uint32_t next_rseq;
    int32_t created;
    uint8_t kind;
    uint8_t dirty;
    uint8_t lists_dirty; /* got a record or correction a list reads: in relisted */
    uint16_t nidents, icap;
    const char **idents; /* in the apply arena */
    /* A new subject's entry as first written, with enc_idents of its
     * identifiers: while no identifier has joined since, the final entry
     * is this one with the final record counter. */
    unsigned char *enc;
    uint32_t enclen;
    uint16_t enc_idents;
};

/* A (furnisher, ref) as the batch knows it. The batch stores one version
 * of it at most, its last line, and compares that with cur, what the
 * register held when the batch began: a batch sent twice changes nothing
 * the second time, and a disputed record corrected and corrected back in
 * one batch is the disputed record still. */
struct fstate {
    uint64_t rid;             /* 0 until stored or given an id in this batch */
    const unsigned char *cur; /* its latest version stored before; NULL: none */
    const unsigned char *key;
    const prb_rec *line; /* its last line applied so far */
    uint32_t curlen, kn;
    uint32_t ver;  /* versions stored before */
    uint8_t dirty; /* the batch stores version ver + 1, in fdirty */
};

/* The (furnisher, ref) table: a million entries for a big batch, probed
 * at random once a record. A slot is the key's hash and the entry, whose
 * key it holds: 16 bytes, half the size of a generic slot, so half the
 * pages to fault in and to miss in the TLB. */
struct fslot {
    uint64_t h;
    struct fstate *f;
};

struct ftable {
    struct fslot *s;
    size_t cap, n;
};

static int ftable_init(struct ftable *t, size_t expect)
{
    *t = (struct ftable){NULL, table_cap(expect), 0};
    t->s = prb_bigalloc(t->cap * sizeof *t->s);
    return t->s ? PRB_OK : PRB_ENOMEM;
}

static struct fslot *ftable_find(struct ftable *t, uint64_t h, const void *key, uint32_t kn)
{
    size_t i = h & (t->cap - 1);
    for (;; i = (i + 1) & (t->cap - 1)) {
        struct fslot *s = &t->s[i];
        if (!s->f || (s->h == h && s->f->kn == kn && !memcmp(s->f->key, key, kn)))
            return s;
    }
}

static int ftable_grow(struct ftable *t)
{
    struct ftable n = {prb_bigalloc(t->cap * 2 * sizeof *t->s), t->cap * 2, t->n};
    if (!n.s)
        return PRB_ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].f)
            *ftable_find(&n, t->s[i].h, t->s[i].f->key, t->s[i].f->kn) = t->s[i];
    prb_bigfree(t->s, t->cap * sizeof *t->s);
    *t = n;
    return PRB_OK;
}

static int ftable_put(struct ftable *t, struct fslot *s, uint64_t h, struct fstate *f)
{
    *s = (struct fslot){h, f};
    if (++t->n * 10 > t->cap * 7)
        return ftable_grow(t);
    return PRB_OK;
}

struct put {
    uint64_t pfx;
    const unsigned char *k, *v;
    uint32_t kn, vn;
};

struct plist {
    struct put *p;
    size_t n, cap, hint;
    int ordered; /* known to be in key order */
};

struct apply {
    prb_ingest *b;
    prb_env *env;
    MDB_txn *txn;
    prb_arena a;
    struct table subjects;
    struct ftable frefs;
    struct plist recs, idents;
    struct sstate **touched;
    size_t ntouched, tcap;
    /* Subjects whose list entries are recomputed (lists_dirty). Not
     * touched: that holds the subjects whose entry is rewritten, and a
     * correction rewrites none, so it left the entries to the sweep. */
    struct sstate **relisted;
    size_t nrelisted, rlcap;
    struct fstate **fdirty;
    size_t nfdirty, fcap;
    struct fstate **deferred; /* when b defers: the refs with a good line, in input order */
    size_t ndeferred, dcap;
    uint64_t next_subject;
    /* Record versions whose keys run past the end of rec are appended as
     * the batch is applied, while other threads still parse; the rest
     * wait in recs and are written in key order at the end. */
    MDB_cursor *rec_cur;
    unsigned char rec_last[PRB_RECKEY_LEN];
    int has_last;
    struct plist notices; /* to the outbox, numbered from next_notice */
    uint64_t next_notice;
    prb_dspfix dspfix; /* open disputes a correction answers (dispute.c) */
    prb_ingest_stats st;
    /* apply-phase rejections: nbad of them, the first nerrs kept */
    prb_recerr *errs;
    size_t nerrs, ecap, nbad;
    /* memory freed on another thread during the commit (release_early),
     * which then starts the disk writing the commit's pages until done */
    pthread_t reaper;
    int reaping;
    struct committing *cm;
};

static uint64_t prefix(const unsigned char *k, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < 8; i++)
        v = v << 8 | (i < n ? k[i] : 0);
    return v;
}

static int plist_add(struct plist *l, const void *k, uint32_t kn, const void *v, uint32_t vn)
{
    if (l->n == l->cap) {
        struct put *n = realloc(l->p, (l->cap = l->cap ? l->cap * 2 : l->hint + 4096) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        l->p = n;
    }
    l->p[l->n++] = (struct put){prefix(k, kn), k, v, kn, vn};
    return PRB_OK;
}

static int put_cmp(const void *a, const void *b)
{
    const struct put *x = a, *y = b;
    if (x->pfx != y->pfx)
        return x->pfx < y->pfx ? -1 : 1;
    uint32_t n = x->kn < y->kn ? x->kn : y->kn;
    int c = memcmp(x->k, y->k, n);
    return c ? c : (x->kn > y->kn) - (x->kn < y->kn);
}

/* Insertion sort of l[0, n) by the whole key: for runs that are short or
 * nearly in order. */
static void insertion_sort(struct put *l, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct put x = l[i];
        size_t j = i;
        while (j > 0 && put_cmp(&l[j - 1], &x) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

/* Sorts by the 8-byte key prefix, then by the whole key. Keys that start
 * with a hash (the (furnisher, ref) and identifier indexes) spread evenly
 * over the top 16 bits: one counting pass, one scatter into 65,536
 * buckets of a few each, and an insertion sort of each bucket, half the
 * time of four LSD passes over a million puts. Anything else (record
 * keys start with a subject number whose top bits are all zero) takes LSD
 * radix sort, 16 bits a pass (passes where every key has the same digit
 * are skipped), then insertion sort of runs of equal prefix. */
static int radix_sort(struct plist *l)
{
    struct put *tmp = malloc(l->n * sizeof *tmp), *src = l->p, *dst = tmp;
    size_t *count = calloc(65536, sizeof *count), most = 0;
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return PRB_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        count[src[i].pfx >> 48]++;
    for (size_t d = 0; d < 65536; d++)
        most = count[d] > most ? count[d] : most;
    if (most <= 64) {
        for (size_t d = 0, sum = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < l->n; i++)
            dst[count[src[i].pfx >> 48]++] = src[i];
        /* count[d] is now where bucket d ends. */
        for (size_t d = 0, from = 0; d < 65536; from = count[d++])
            insertion_sort(dst + from, count[d] - from);
        l->p = dst;
        l->cap = l->n;
        free(src);
        free(count);
        return PRB_OK;
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < l->n; i++)
            count[src[i].pfx >> shift & 0xffff]++;
        if (count[src[0].pfx >> shift & 0xffff] == l->n)
            continue;
        for (size_t d = 0, sum = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < l->n; i++)
            dst[count[src[i].pfx >> shift & 0xffff]++] = src[i];
        struct put *t = src;
        src = dst;
        dst = t;
    }
    if (src != l->p)
        memcpy(l->p, src, l->n * sizeof *src);
    /* In prefix order now: only runs of equal prefix move. */
    insertion_sort(l->p, l->n);
    free(tmp);
    free(count);
    return PRB_OK;
}

static int sorted(const struct plist *l)
{
    for (size_t i = 1; i < l->n; i++)
        if (put_cmp(&l->p[i - 1], &l->p[i]) > 0)
            return 0;
    return 1;
}

static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    return c ? c : (an > bn) - (an < bn);
}

/* Writes a list in key order; keys past the database's last are appended,
 * which fills pages instead of splitting them. */
static int bulk_put(struct apply *ap, MDB_dbi dbi, struct plist *l, const char *what)
{
    MDB_cursor *cur;
    MDB_val lk, lv;
    const void *last = NULL;
    size_t lastn = 0;
    int mrc;
    if (!l->n)
        return PRB_OK;
    if (!l->ordered && !sorted(l) && radix_sort(l))
        return prb_seterr(ap->env->err, PRB_ENOMEM, "ingest: out of memory");
    if ((mrc = mdb_cursor_open(ap->txn, dbi, &cur)))
        return prb_mdb_fail(ap->env, mrc, what);
    mrc = mdb_cursor_get(cur, &lk, &lv, MDB_LAST);
    if (mrc == 0) {
        last = lk.mv_data;
        lastn = lk.mv_size;
    } else if (mrc != MDB_NOTFOUND) {
        mdb_cursor_close(cur);
        return prb_mdb_fail(ap->env, mrc, what);
    }
    /* The last key may live in a page the appends below will change. */
    unsigned char lastcopy[512];
    if (last) {
        memcpy(lastcopy, last, lastn);
        last = lastcopy;
    }
    /* The keys are sorted and distinct: once one is past the database's
     * last key, every later one is too, and needs no comparing. */
    int append = !last;
    for (size_t i = 0; i < l->n; i++) {
        const struct put *p = &l->p[i];
        /* Sorted by key, the puts point all over the arenas: ask for the
         * keys and values a few puts ahead so the cache misses overlap. */
        if (i + 8 < l->n) {
            __builtin_prefetch(l->p[i + 8].k);
            __builtin_prefetch(l->p[i + 8].v);
        }
        MDB_val k = {p->kn, (void *)p->k}, v = {p->vn, (void *)p->v};
        if (!append && key_cmp(p->k, p->kn, last, lastn) > 0)
            append = 1;
        if ((mrc = mdb_cursor_put(cur, &k, &v, append ? MDB_APPEND : 0))) {
            mdb_cursor_close(cur);
            return prb_mdb_fail(ap->env, mrc, what);
        }
    }
    mdb_cursor_close(cur);
    return PRB_OK;
}

static int reject(struct apply *ap, const prb_rec *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reject(struct apply *ap, const prb_rec *r, const char *field, const char *fmt, ...)
{
    char buf[512];
    va_list va;
    ap->nbad++;
    if (!keep_err(ap->b, ap->nerrs))
        return PRB_EREJECTED;
    va_start(va, fmt);
    prb_vfmt(buf, sizeof buf, fmt, va);
    va_end(va);
    if (ap->nerrs == ap->ecap) {
        prb_recerr *n = realloc(ap->errs, (ap->ecap = ap->ecap * 2 + 16) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        ap->errs = n;
    }
    char *reason = prb_arena_strndup(&ap->a, buf, strlen(buf));
    if (!reason)
        return PRB_ENOMEM;
    ap->errs[ap->nerrs++] = (prb_recerr){r->src, r->line, field, reason};
    return PRB_EREJECTED;
}

static int track(struct apply *ap, struct sstate *s)
{
    if (s->dirty)
        return PRB_OK;
    s->dirty = 1;
    if (ap->ntouched == ap->tcap) {
        struct sstate **n = realloc(ap->touched, (ap->tcap = ap->tcap * 2 + 1024) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        ap->touched = n;
    }
    ap->touched[ap->ntouched++] = s;
    return PRB_OK;
}

/* Has s's list entries recomputed at the end of the batch. */
static int relist(struct apply *ap, struct sstate *s)
{
    if (s->lists_dirty)
        return PRB_OK;
    s->lists_dirty = 1;
    if (ap->nrelisted == ap->rlcap) {
        struct sstate **n = realloc(ap->relisted, (ap->rlcap = ap->rlcap * 2 + 1024) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        ap->relisted = n;
    }
    ap->relisted[ap->nrelisted++] = s;
    return PRB_OK;
}

static struct sstate *sstate_new(struct apply *ap, uint64_t id, uint8_t kind, uint16_t nidents)
{
    struct sstate *s = prb_arena_alloc(&ap->a, sizeof *s);
    uint16_t cap = nidents > 2 ? nidents : 2;
    if (!s || !(s->idents = prb_arena_alloc(&ap->a, cap * sizeof *s->idents)))
        return NULL;
    *s = (struct sstate){.id = id, .kind = kind, .icap = cap, .idents = s->idents};
    return s;
}

/* What prb_subject_size and prb_subject_encode take. */
static void as_subject(const struct sstate *s, prb_subject *out)
{
    out->id = s->id;
    out->kind = s->kind;
    out->next_rseq = s->next_rseq;
    out->created = s->created;
    out->nidents = s->nidents;
    memcpy(out->idents, s->idents, s->nidents * sizeof *s->idents);
}

/* Finds the subject an identifier names: in this batch, or in the store
 * (then every identifier of that subject is entered in the table). */
static int find_subject(struct apply *ap, const char *ident, uint32_t kn, uint64_t h,
                        struct sstate **out)
{
    struct slot *sl = table_find(&ap->subjects, h, ident, kn);
    unsigned char ikey[PRB_IDENT_KEY_MAX];
    MDB_val k = {prb_ident_key(ikey, ident, kn), ikey}, v;
    int mrc, rc;
    *out = sl->key ? sl->val : NULL;
    if (sl->key)
        return PRB_OK;
    if ((mrc = mdb_get(ap->txn, ap->env->ident, &k, &v)) == MDB_NOTFOUND)
        return PRB_OK;
    if (mrc || v.mv_size != 8)
        return mrc ? prb_mdb_fail(ap->env, mrc, "reading an identifier")
                   : prb_seterr(ap->env->err, PRB_ECORRUPT, "identifier %s: bad value", ident);
    uint64_t id = prb_get_be64(v.mv_data);
    unsigned char hk[PRB_RECKEY_LEN];
    prb_reckey(hk, id << PRB_RSEQ_BITS, 0);
    MDB_val sk = {PRB_RECKEY_LEN, hk}, sv;
    if ((mrc = mdb_get(ap->txn, ap->env->rec, &sk, &sv)))
        return prb_mdb_fail(ap->env, mrc, "reading a subject");
    prb_subject stored;
    char *buf = prb_arena_alloc(&ap->a, sv.mv_size);
    if (!buf)
        return PRB_ENOMEM;
    if (prb_subject_decode(sv.mv_data, sv.mv_size, &stored, buf, sv.mv_size))
        return prb_seterr(ap->env->err, PRB_ECORRUPT, "subject %llu: malformed value",
                          (unsigned long long)id);
    struct sstate *s = sstate_new(ap, id, stored.kind, stored.nidents);
    if (!s)
        return PRB_ENOMEM;
    s->next_rseq = stored.next_rseq;
    s->created = stored.created;
    s->nidents = stored.nidents;
    memcpy(s->idents, stored.idents, stored.nidents * sizeof *s->idents);
    for (size_t i = 0; i < s->nidents; i++) {
        const char *id2 = s->idents[i];
        uint32_t n2 = (uint32_t)strlen(id2);
        uint64_t h2 = prb_hash(id2, n2);
        struct slot *s2 = table_find(&ap->subjects, h2, id2, n2);
        if (!s2->key && (rc = table_put(&ap->subjects, s2, h2, id2, n2, s)))
            return rc;
    }
    *out = s;
    return PRB_OK;
}

static int queue_notice(struct apply *ap, const prb_rec *r, uint64_t subject);

/* Queues json (malloc'd, taken; NULL if out of memory), a notice made
 * while applying r, to subject: r's own notice, if it has one, stays. */
static int queue_made_notice(struct apply *ap, const prb_rec *r, char *json, uint64_t subject)
{
    prb_rec c = *r;
    int rc = keep_notice(&ap->a, json, &c);
    return rc ? rc : queue_notice(ap, &c, subject);
}

/* Tells the subject that r's furnisher joined ident, a national number,
 * to their file: joined wrongly, it files someone else's records there
 * and decides on them, and until 2026-11-27 only an audit leaf said so.
 * Written on the applying thread, as a correction's notice is: only the
 * batch knows whether the identifier is new to the subject. */
static int linked_notice(struct apply *ap, const struct sstate *s, const char *ident,
                         const prb_rec *r)
{
    char text[768], day[11];
    prb_date_format(ap->b->today, day);
    snprintf(text, sizeof text,
             "%.*s linked the identifier %s to your file on %s: its record %.*s names you by "
             "it. Records reported under %s are filed as yours from now on. If it is not "
             "yours, you may dispute that record.",
             (int)r->furnisher.n, r->furnisher.p, ident, day, (int)r->ref.n, r->ref.p, ident);
    return queue_made_notice(
        ap, r, prb_notice_json(s->idents[0], "identifier_linked", NULL, ident, NULL, text, day),
        s->id);
}

/* Joins ident to s. by: the record that joins it to a subject it did not
 * make, whose subject is told of a national number (linked_notice); NULL
 * for a subject's first identifiers. */
static int link_ident(struct apply *ap, struct sstate *s, const char *ident, uint32_t kn,
                      uint64_t h, const prb_rec *by)
{
    struct slot *sl = table_find(&ap->subjects, h, ident, kn);
    unsigned char *idv = prb_arena_alloc(&ap->a, 8), *ikey;
    int rc;
    if (sl->key)
        return PRB_OK;
    if (!idv || !(ikey = prb_arena_alloc(&ap->a, 8 + kn)))
        return PRB_ENOMEM;
    if (s->nidents == s->icap) {
        const char **n = prb_arena_alloc(&ap->a, 2u * s->icap * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        memcpy(n, s->idents, s->nidents * sizeof *n);
        s->idents = n;
        s->icap *= 2;
    }
    prb_be64(idv, s->id);
    s->idents[s->nidents++] = ident;
    if ((rc = table_put(&ap->subjects, sl, h, ident, kn, s)) || (rc = track(ap, s)) ||
        /* aux: the subject's kind, which no other leaf logs (verify). */
        (rc = prb_audit_log(ap->env, PRB_LEAF_SUBJECT, s->kind, s->id, ident, kn)))
        return rc;
    if (by && prb_ident_one_only(ident) && (rc = linked_notice(ap, s, ident, by)))
        return rc;
    return plist_add(&ap->idents, ikey, (uint32_t)prb_ident_key(ikey, ident, kn), idv, 8);
}

/* Whether ident is among the n in list. */
static int listed(const char *const *list, size_t n, const char *ident)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], ident))
            return 1;
    return 0;
}

/* Whether canonical identifiers a and b are of one scheme. */
static int same_scheme(const char *a, const char *b)
{
    size_t n = strcspn(a, ":");
    return !strncmp(a, b, n) && b[n] == ':';
}

/* Refuses r if one of its fresh identifiers is a second of a national
 * scheme for the subject (s, or the one r would make): that number is
 * someone else's, or mistyped, and joined it made one file of two
 * people's, the records about either decided on both, and a subject key
 * for it read the other's file. */
static int refuse_second(struct apply *ap, const prb_rec *r, const struct sstate *s,
                         const char *const *fresh, size_t nfresh)
{
    if (!s && nfresh < 2)
        return PRB_OK; /* a new subject's one identifier: the usual record */
    for (size_t i = 0; i < nfresh; i++) {
        const char *why = prb_ident_one_only(fresh[i]);
        const char *field = fresh[i] == r->ident ? "subject.id" : "subject.aliases";
        if (!why)
            continue;
        for (size_t j = 0; s && j < s->nidents; j++)
            if (same_scheme(s->idents[j], fresh[i]))
                return reject(ap, r, field,
                              "%s cannot join the subject that has %s: %s (another holder's "
                              "number, or a mistyped one?)",
                              fresh[i], s->idents[j], why);
        for (size_t j = 0; j < i; j++)
            if (same_scheme(fresh[j], fresh[i]))
                return reject(ap, r, field, "%s and %s cannot both name one subject: %s", fresh[j],
                              fresh[i], why);
    }
    return PRB_OK;
}

/* Resolves the record's identifiers to one subject, or to none yet. A
 * refusal names the identifier that found the subject, which may be an
 * alias: naming the record's id, it blamed a number no one had. */
static int resolve(struct apply *ap, const prb_rec *r, struct sstate **out)
{
    struct sstate *s, *o;
    const char *by = r->ident; /* what found s */
    const char *kinds[] = {"", "person", "company"};
    /* The record's identifiers no subject has yet, each once: only these
     * join the subject and count toward its limit. Counting every one
     * refused a subject with 63 a record naming two it had already. */
    const char *fresh[1 + PRB_MAX_ALIASES];
    size_t nfresh = 0;
    int rc;
    assert(r->naliases <= PRB_MAX_ALIASES);
    if ((rc = find_subject(ap, r->ident, r->ident_len, r->ident_hash, &s)))
        return rc;
    if (!s)
        fresh[nfresh++] = r->ident;
    for (size_t i = 0; i < r->naliases; i++) {
        uint32_t an = (uint32_t)strlen(r->aliases[i]);
        if ((rc = find_subject(ap, r->aliases[i], an, prb_hash(r->aliases[i], an), &o)))
            return rc;
        if (o && s && o != s)
            return reject(ap, r, "subject.aliases",
                          "%s and %s are identifiers of two different subjects", by, r->aliases[i]);
        if (o && !s) {
            s = o;
            by = r->aliases[i];
        }
        if (!o && !listed(fresh, nfresh, r->aliases[i]))
            fresh[nfresh++] = r->aliases[i];
    }
    if (s && s->kind != r->kind && by == r->ident)
        return reject(ap, r, "subject.kind", "%s is a %s in the register, not a %s", by,
                      kinds[s->kind & 3], kinds[r->kind & 3]);
    if (s && s->kind != r->kind)
        return reject(ap, r, "subject.aliases",
                      "%s, given as an alias of %s, is a %s in the register, not a %s", by,
                      r->ident, kinds[s->kind & 3], kinds[r->kind & 3]);
    if ((rc = refuse_second(ap, r, s, fresh, nfresh)))
        return rc;
    if (s && s->nidents + nfresh > PRB_MAX_IDENTS)
        return reject(ap, r, "subject.aliases", "a subject has at most %d identifiers",
                      PRB_MAX_IDENTS);
    *out = s;
    return PRB_OK;
}

/* The (furnisher, ref) entry: in this batch, in the store, or new. */
static int find_fref(struct apply *ap, const prb_rec *r, struct fslot **slot, struct fstate **out)
{
    const unsigned char *key = r->fkey;
    uint32_t kn = r->fkey_len;
    MDB_val k = {kn, (void *)key}, v;
    uint64_t h = r->fkey_hash;
    int mrc;
    *slot = ftable_find(&ap->frefs, h, key, kn);
    *out = (*slot)->f;
    if (*out)
        return PRB_OK;
    struct fstate *f = prb_arena_alloc(&ap->a, sizeof *f);
    if (!f)
        return PRB_ENOMEM;
    memset(f, 0, sizeof *f);
    f->key = key;
    f->kn = kn;
    if ((mrc = mdb_get(ap->txn, ap->env->fref, &k, &v)) == MDB_NOTFOUND) {
        *out = f; /* rid 0: not stored yet */
        return PRB_OK;
    }
    if (mrc || v.mv_size != PRB_RECKEY_LEN)
        return mrc ? prb_mdb_fail(ap->env, mrc, "reading the (furnisher, ref) index")
                   : prb_seterr(ap->env->err, PRB_ECORRUPT, "(furnisher, ref) index: bad value");
    const unsigned char *rv = v.mv_data;
    f->rid = prb_get_be64(rv);
    f->ver = (uint32_t)(rv[8] << 8 | rv[9]);
    MDB_val rk = {PRB_RECKEY_LEN, (void *)rv}, cv;
    if ((mrc = mdb_get(ap->txn, ap->env->rec, &rk, &cv)))
        return prb_mdb_fail(ap->env, mrc, "reading a record the index points at");
    /* Copied: LMDB's data is valid only until the transaction's next
     * write, and the batch's later writes may shift a page this one has
     * already changed (a record of the same subject earlier in the batch),
     * while the same (furnisher, ref) later in the batch compares with it. */
    unsigned char *copy = prb_arena_alloc(&ap->a, cv.mv_size ? cv.mv_size : 1);
    if (!copy)
        return PRB_ENOMEM;
    memcpy(copy, cv.mv_data, cv.mv_size);
    f->cur = copy;
    f->curlen = (uint32_t)cv.mv_size;
    *out = f;
    return PRB_OK;
}

/* Appends a record version now if its key is past rec's last, else
 * queues it for the sorted write at the end. */
static int put_rec(struct apply *ap, const unsigned char *k, const void *v, uint32_t vn)
{
    if (!ap->has_last || memcmp(k, ap->rec_last, PRB_RECKEY_LEN) > 0) {
        MDB_val mk = {PRB_RECKEY_LEN, (void *)k}, mv = {vn, (void *)v};
        int mrc = mdb_cursor_put(ap->rec_cur, &mk, &mv, MDB_APPEND);
        if (mrc)
            return prb_mdb_fail(ap->env, mrc, "writing records");
        memcpy(ap->rec_last, k, PRB_RECKEY_LEN);
        ap->has_last = 1;
        return PRB_OK;
    }
    return plist_add(&ap->recs, k, PRB_RECKEY_LEN, v, vn);
}

static int new_subject(struct apply *ap, const prb_rec *r, struct sstate **out)
{
    struct sstate *s = sstate_new(ap, ap->next_subject, r->kind, (uint16_t)(1 + r->naliases));
    unsigned char *k = prb_arena_alloc(&ap->a, PRB_RECKEY_LEN);
    prb_subject enc;
    int rc;
    if (!s || !k)
        return PRB_ENOMEM;
    ap->next_subject++;
    s->next_rseq = 1;
    s->created = ap->b->today;
    *out = s;
    if ((rc = link_ident(ap, s, r->ident, r->ident_len, r->ident_hash, NULL)))
        return rc;
    /* The subject's entry goes just before its records, so a first load
     * appends in key order. Its record counter is final only at the end,
     * when the entry is rewritten in place (same size, no page split). */
    prb_reckey(k, s->id << PRB_RSEQ_BITS, 0);
    as_subject(s, &enc);
    unsigned char *v = prb_arena_alloc(&ap->a, prb_subject_size(&enc));
    if (!v)
        return PRB_ENOMEM;
    s->enc = v;
    s->enclen = (uint32_t)prb_subject_encode(&enc, v);
    s->enc_idents = s->nidents;
    return put_rec(ap, k, v, s->enclen);
}

static int add_version(struct apply *ap, struct fstate *f, const prb_rec *r)
{
    unsigned char *k = prb_arena_alloc(&ap->a, PRB_RECKEY_LEN);
    assert(!f->dirty);
    if (!k)
        return PRB_ENOMEM;
    prb_reckey(k, f->rid, f->ver + 1);
    /* The record's hash is computed with the leaf hashes, on another
     * core while this one writes the batch's keys; packed lives in the
     * parse arenas until the batch is freed. */
    int rc =
        prb_audit_log_later(ap->env, PRB_LEAF_RECORD, f->ver + 1, f->rid, r->packed, r->packed_len);
    if (rc)
        return rc;
    f->line = r;
    f->dirty = 1;
    if (ap->nfdirty == ap->fcap) {
        struct fstate **n = realloc(ap->fdirty, (ap->fcap = ap->fcap * 2 + 4096) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        ap->fdirty = n;
    }
    ap->fdirty[ap->nfdirty++] = f;
    return put_rec(ap, k, r->packed, r->packed_len);
}

/* The outbox entry and a leaf that logs the notice's JSON (hashed on the
 * parse thread). Its index entry by subject follows after the commit
 * (iidx.c). */
static int queue_notice(struct apply *ap, const prb_rec *r, uint64_t subject)
{
    unsigned char *k = prb_arena_alloc(&ap->a, 8), *v;
    int rc;
    if (!r->notice)
        return PRB_OK;
    if (!k || !(v = prb_arena_alloc(&ap->a, 8 + r->notice_len)))
        return PRB_ENOMEM;
    uint64_t no = ap->next_notice++;
    prb_be64(k, no);
    prb_notice_value(v, subject, r->notice, r->notice_len);
    if ((rc = prb_audit_log_hash(ap->env, PRB_LEAF_NOTICE, 0, no, r->notice_hash)))
        return rc;
    ap->env->notice_txn = mdb_txn_id(ap->txn);
    return plist_add(&ap->notices, k, 8, v, 8 + r->notice_len);
}

static uint64_t list_categories(const prb_policy *p)
{
    uint64_t m = 0;
    for (size_t i = 0; i < p->nlists; i++)
        m |= p->lists[i].categories;
    return m;
}

/* Subjects that got records a list reads, new or corrected, have their
 * entries recomputed in the same transaction, so a ground is noticed when
 * it arrives and an entry ends when the correction that ends its ground
 * does (a judgment settled), not at the next sweep. */
static int refresh_lists(struct apply *ap)
{
    prb_file *f = NULL;
    int rc = PRB_OK;
    for (size_t i = 0; i < ap->nrelisted && !rc; i++) {
        struct sstate *s = ap->relisted[i];
        if (!(rc = prb_file_load(ap->env, ap->txn, s->id, &f)))
            rc = prb_lists_refresh(ap->env, ap->txn, f, ap->b->today);
    }
    prb_file_free(f);
    return rc;
}

/* Queues the notice of r, a correction of the record f holds: from its
 * first version's receipt, unless it came too late for the record's
 * dispute. */
static int correction_notice(struct apply *ap, const struct fstate *f, const prb_rec *r,
                             uint64_t subject)
{
    unsigned char k[PRB_RECKEY_LEN];
    MDB_val mk = {PRB_RECKEY_LEN, k}, mv;
    int32_t first = ap->b->today;
    char late[11];
    int rc = prb_dspfix_overdue(ap->env, ap->txn, &ap->dspfix, f->rid, late);
    if (rc)
        return rc;
    prb_reckey(k, f->rid, 1); /* versions count from 1 */
    int mrc = mdb_get(ap->txn, ap->env->rec, &mk, &mv);
    if (!mrc && mv.mv_size >= 16)
        first = (int32_t)prb_get_le32((const unsigned char *)mv.mv_data + 12);
    else if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(ap->env, mrc, "reading a record's first version");
    return queue_made_notice(ap, r, adverse_notice(ap->b, r, first, 1, late), subject);
}

/* Every reason to refuse r, checked before anything of it is applied:
 * a refused line changes nothing, with skip_bad too. Its identifiers
 * were joined to the subject before its correction was refused (a new
 * category, the most versions), so a refused line made a new identifier,
 * a tax id say, name someone's file. *same gets whether r is the version
 * f holds, compared once here. */
static int refuse(struct apply *ap, const prb_rec *r, const struct sstate *s,
                  const struct fstate *f, int *same)
{
    *same = 0;
    if (f->rid && (!s || f->rid >> PRB_RSEQ_BITS != s->id))
        return reject(ap, r, "subject.id",
                      "record %.*s of %.*s is held about another subject; a correction cannot "
                      "move it (ask the register to delete it, then report it anew)",
                      (int)r->ref.n, r->ref.p, (int)r->furnisher.n, r->furnisher.p);
    const prb_policy *p = ap->b->env->policy;
    int32_t today = ap->b->today;
    int32_t held = f->cur ? prb_version_expires(p, f->cur, f->curlen) : PRB_NO_DATE;
    char d[11], e[11];
    /* Invariant 6: a stored record past its retention is gone, swept or
     * not. Corrected, it came back: settling restarts the retention
     * clock, and a correction keeps the first receipt, so no new hearing. */
    if (held != PRB_NO_DATE && held <= today) {
        prb_date_format(held, d);
        return reject(ap, r, "ref",
                      "the record stored under this ref is past its retention (expired %s): it "
                      "counts as deleted and may not be corrected or sent again",
                      d);
    }
    /* What must already be deleted may not be stored; nor what is deleted
     * before it may be used, whose subject would be told of a record that
     * never counts. (A correction that ends a record's use early must be
     * stored: its notice says so.) */
    int32_t from = f->cur ? 0 : prb_effective_from(&p->categories[r->cat], r->event, today);
    if (!f->cur && r->expires <= from) {
        prb_date_format(r->expires, d);
        prb_date_format(from, e);
        if (r->expires <= today)
            return reject(ap, r, "event_date",
                          "the record is past its retention (expired %s) and may not be stored", d);
        return reject(ap, r, "event_date",
                      "the record is past its retention (expires %s) before it may be used "
                      "(from %s, after its notice period) and may not be stored",
                      d, e);
    }
    if (!f->rid && s && s->next_rseq >= (1u << PRB_RSEQ_BITS))
        return reject(ap, r, "subject.id", "the subject has the most records one may hold");
    if (!f->cur || (*same = prb_record_same(f->cur, f->curlen, r->packed, r->packed_len)))
        return PRB_OK;
    /* A correction keeps the first version's receipt, from which its
     * notice period runs: a neutral record corrected into an adverse one
     * took effect at once, with no hearing (invariant 4), and the
     * subject's notice said it would not for weeks. */
    const char *oc, *nc;
    int ol = prb_record_category(f->cur, f->curlen, &oc),
        nl = prb_record_category(r->packed, r->packed_len, &nc);
    if (ol < 0 || nl < 0 || ol != nl || memcmp(oc, nc, (size_t)ol))
        return reject(ap, r, "category",
                      "a correction may not change a record's category (it is %.*s): report "
                      "the new facts as a record of their own, under a new ref",
                      ol < 0 ? 1 : ol, ol < 0 ? "?" : oc);
    if (f->ver == 0xffff)
        return reject(ap, r, "ref", "the record has the most versions one may hold");
    return PRB_OK;
}

/* Stores r as the batch's version of f: a new record, or a correction
 * of the one stored, which differs from it. */
static int store_version(struct apply *ap, struct fstate *f, const prb_rec *r)
{
    uint64_t subject = f->rid >> PRB_RSEQ_BITS;
    int rc;
    if (!f->cur) {
        ap->st.accepted++;
        rc = queue_notice(ap, r, subject);
    } else {
        ap->st.corrected++;
        /* What was stored when the batch began is what an open dispute
         * is about (a correction resolves it; past its deadline none is
         * answered): only a version that differs from it corrects it. */
        rc = ap->dspfix.any ? prb_dspfix_note(&ap->dspfix, f->rid) : PRB_OK;
        if (!rc && r->notice)
            rc = correction_notice(ap, f, r, subject);
    }
    return rc ? rc : add_version(ap, f, r);
}

/* Returned by apply_one when a line of a (furnisher, ref) differs from
 * the batch's earlier line of it, which has been stored: the batch is
 * applied again from its parsed records, deferring. Then each ref's
 * last line is kept while the lines are applied and stored after them
 * (store_deferred). Only such a batch pays for the second pass; one
 * that stored a line and took it back would keep a handle on each
 * line's puts, leaf and notice, in every batch. */
#define REAPPLY (-1)

/* Keeps r as the last line of f, in a batch that defers. */
static int defer(struct apply *ap, struct fstate *f, const prb_rec *r)
{
    if (!f->line) {
        if (ap->ndeferred == ap->dcap) {
            struct fstate **n = realloc(ap->deferred, (ap->dcap = ap->dcap * 2 + 1024) * sizeof *n);
            if (!n)
                return PRB_ENOMEM;
            ap->deferred = n;
        }
        ap->deferred[ap->ndeferred++] = f;
    }
    f->line = r;
    return PRB_OK;
}

/* Stores each deferred ref's last line, unless it is what was stored. */
static int store_deferred(struct apply *ap)
{
    int rc;
    for (size_t i = 0; i < ap->ndeferred; i++) {
        struct fstate *f = ap->deferred[i];
        const prb_rec *r = f->line;
        if (f->cur && prb_record_same(f->cur, f->curlen, r->packed, r->packed_len))
            ap->st.unchanged++;
        else if ((rc = store_version(ap, f, r)))
            return rc;
    }
    return PRB_OK;
}

static int apply_one(struct apply *ap, const prb_rec *r)
{
    struct sstate *s = NULL;
    struct fstate *f;
    struct fslot *fslot;
    int rc, same;
    if ((rc = resolve(ap, r, &s)) || (rc = find_fref(ap, r, &fslot, &f)) ||
        (rc = refuse(ap, r, s, f, &same)))
        return rc;
    /* The batch has had a line of this ref, and this one supersedes it.
     * The same as what the batch holds of it (the version an earlier line
     * stored, or else the one stored before), it changes nothing; else
     * what the earlier line did must be undone (REAPPLY). */
    int again = fslot->f != NULL;
    if (again && !ap->b->deferring &&
        !(f->dirty ? prb_record_same(f->line->packed, f->line->packed_len, r->packed, r->packed_len)
                   : same))
        return REAPPLY;
    /* A subject the record found is told of a number it joins to it. */
    const prb_rec *by = s ? r : NULL;
    if (!s && (rc = new_subject(ap, r, &s)))
        return rc;
    /* Found through an alias, the subject takes the record's own id too:
     * a later record under that id alone made a second subject, splitting
     * the person's file. (Already linked, this does nothing.) */
    if ((rc = link_ident(ap, s, r->ident, r->ident_len, r->ident_hash, by)))
        return rc;
    for (size_t i = 0; i < r->naliases; i++) {
        uint32_t an = (uint32_t)strlen(r->aliases[i]);
        if ((rc = link_ident(ap, s, r->aliases[i], an, prb_hash(r->aliases[i], an), by)))
            return rc;
    }
    if (!again && (rc = ftable_put(&ap->frefs, fslot, r->fkey_hash, f)))
        return rc;
    /* A new record's id, given at its first line: a later line of it must
     * be about the same subject, as a correction must. */
    if (!f->rid) {
        f->rid = s->id << PRB_RSEQ_BITS | s->next_rseq++;
        if ((rc = track(ap, s)))
            return rc;
    }
    if (!same && ap->b->env->policy->nlists &&
        (list_categories(ap->b->env->policy) >> r->cat & 1) && (rc = relist(ap, s)))
        return rc;
    if (again)
        ap->st.superseded++;
    if (ap->b->deferring)
        return defer(ap, f, r);
    if (again)
        return PRB_OK;
    if (same) {
        ap->st.unchanged++;
        return PRB_OK;
    }
    return store_version(ap, f, r);
}

/* The (furnisher, ref) puts made and sorted, and the identifiers sorted,
 * on another thread while the committing one writes the subjects. (The
 * audit log's prehash, whose result is needed last, runs at a lower
 * priority beside them.) */
struct keysort {
    struct apply *ap;
    struct plist fref;
    unsigned char *vals, *packed[2];
    int rc;
};

/* Copies the keys and values of a sorted list into one buffer in their
 * order: sorted by hash they lie all over the arenas, and the writer
 * stalled on two cache misses a put; here, off its core, the misses
 * overlap with its work instead. */
static int pack_list(struct plist *l, unsigned char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->p[i].kn + l->p[i].vn;
    unsigned char *buf = malloc(n + 1), *w = buf;
    if (!buf)
        return PRB_ENOMEM;
    for (size_t i = 0; i < l->n; i++) {
        struct put *p = &l->p[i];
        if (i + 8 < l->n) {
            __builtin_prefetch(l->p[i + 8].k);
            __builtin_prefetch(l->p[i + 8].v);
        }
        memcpy(w, p->k, p->kn);
        p->k = w;
        w += p->kn;
        memcpy(w, p->v, p->vn);
        p->v = w;
        w += p->vn;
    }
    *out = buf;
    return PRB_OK;
}

static void *sort_keys(void *arg)
{
    struct keysort *ks = arg;
    struct apply *ap = ks->ap;
    ks->rc = PRB_ENOMEM;
    if (!(ks->vals = malloc(ap->nfdirty * PRB_RECKEY_LEN + 1)))
        return NULL;
    for (size_t i = 0; i < ap->nfdirty; i++) {
        struct fstate *f = ap->fdirty[i];
        if (i + 8 < ap->nfdirty)
            __builtin_prefetch(ap->fdirty[i + 8]); /* table slots: all over it */
        unsigned char *v = ks->vals + i * PRB_RECKEY_LEN;
        prb_reckey(v, f->rid, f->ver + 1);
        if (plist_add(&ks->fref, f->key, f->kn, v, PRB_RECKEY_LEN))
            return NULL;
    }
    struct plist *l[] = {&ks->fref, &ap->idents};
    for (size_t i = 0; i < 2; i++) {
        if ((!sorted(l[i]) && radix_sort(l[i])) || pack_list(l[i], &ks->packed[i]))
            return NULL;
        l[i]->ordered = 1;
    }
    ks->rc = PRB_OK;
    return NULL;
}

static int write_all(struct apply *ap)
{
    struct plist hdrs = {.hint = ap->ntouched};
    struct keysort ks = {.ap = ap, .fref = {.hint = ap->nfdirty}};
    pthread_t th;
    int sorting = !pthread_create(&th, NULL, sort_keys, &ks);
    unsigned char next[8];
    int rc = PRB_OK, mrc;
    if (!sorting)
        sort_keys(&ks);
    for (size_t i = 0; i < ap->ntouched; i++) {
        struct sstate *s = ap->touched[i];
        if (i + 8 < ap->ntouched)
            __builtin_prefetch(ap->touched[i + 8]);
        unsigned char *k = prb_arena_alloc(&ap->a, PRB_RECKEY_LEN), *v;
        size_t vn;
        if (!k) {
            rc = PRB_ENOMEM;
            goto out;
        }
        prb_reckey(k, s->id << PRB_RSEQ_BITS, 0);
        if (s->enc && s->enc_idents == s->nidents) {
            /* Most entries of a first load: only the counter moved. */
            prb_subject_set_next(s->enc, s->next_rseq);
            v = s->enc;
            vn = s->enclen;
        } else {
            prb_subject enc;
            as_subject(s, &enc);
            if (!(v = prb_arena_alloc(&ap->a, prb_subject_size(&enc)))) {
                rc = PRB_ENOMEM;
                goto out;
            }
            vn = prb_subject_encode(&enc, v);
        }
        if ((rc = plist_add(&hdrs, k, PRB_RECKEY_LEN, v, (uint32_t)vn)))
            goto out;
    }
    mdb_cursor_close(ap->rec_cur);
    ap->rec_cur = NULL;
    if ((rc = bulk_put(ap, ap->env->rec, &ap->recs, "writing records")) ||
        (rc = bulk_put(ap, ap->env->rec, &hdrs, "writing subjects")))
        goto out;
    if (sorting)
        pthread_join(th, NULL);
    sorting = 0;
    if ((rc = ks.rc) ||
        (rc = bulk_put(ap, ap->env->fref, &ks.fref, "writing the (furnisher, ref) index")) ||
        (rc = bulk_put(ap, ap->env->ident, &ap->idents, "writing identifiers")) ||
        (rc = bulk_put(ap, ap->env->outbox, &ap->notices, "writing notices")))
        goto out;
    prb_be64(next, ap->next_subject);
    MDB_val nk = {12, "next_subject"}, nv = {8, next};
    if ((mrc = mdb_put(ap->txn, ap->env->meta, &nk, &nv, 0)))
        rc = prb_mdb_fail(ap->env, mrc, "writing the subject counter");
out:
    if (sorting)
        pthread_join(th, NULL);
    free(ks.fref.p);
    free(ks.vals);
    free(ks.packed[0]);
    free(ks.packed[1]);
    free(hdrs.p);
    return rc == PRB_ENOMEM ? prb_seterr(ap->env->err, rc, "ingest: out of memory") : rc;
}

static void apply_release(struct apply *ap)
{
    prb_bigfree(ap->subjects.s, ap->subjects.cap * sizeof *ap->subjects.s);
    prb_bigfree(ap->frefs.s, ap->frefs.cap * sizeof *ap->frefs.s);
    free(ap->recs.p);
    free(ap->idents.p);
    free(ap->notices.p);
    free(ap->touched);
    free(ap->relisted);
    free(ap->fdirty);
    free(ap->deferred);
    prb_arena_free(&ap->a);
}

/* LMDB's commit writes the transaction's pages into the page cache (463
 * MB for a million records) and then waits in fdatasync while the disk
 * takes them all (0.12-0.17 s here). Handing the disk what is written so
 * far every few milliseconds while the writing goes on leaves the flush
 * little to wait for (119 ms -> 1 ms; the ingest ~3 % faster). Nothing of
 * LMDB's order changes: its meta page, which makes the pages the
 * register, is still written only after its fdatasync returns; a page on
 * disk that no meta page reaches is free space. */
#define WRITEBACK_NS 5000000

struct committing {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done; /* the commit returned */
    int fd;   /* the register's data file */
};

static void writeback_until_done(struct committing *cm)
{
    pthread_mutex_lock(&cm->mu);
    while (!cm->done) {
        pthread_mutex_unlock(&cm->mu);
        /* Starts writing dirty pages; does not wait for them. */
        (void)sync_file_range(cm->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += WRITEBACK_NS;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&cm->mu);
        if (!cm->done)
            pthread_cond_timedwait(&cm->cv, &cm->mu, &t);
    }
    pthread_mutex_unlock(&cm->mu);
}

static void committed(struct committing *cm)
{
    if (!cm)
        return;
    pthread_mutex_lock(&cm->mu);
    cm->done = 1;
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
}

/* What release_early hands over: the apply state and the chunks' arenas
 * and record arrays. */
struct dying {
    struct apply ap;
    prb_arena *arenas;
    prb_rec **recs;
    size_t n;
    struct committing *cm; /* the caller's, outlives the thread */
};

static void *reap(void *arg)
{
    struct dying *d = arg;
    struct committing *cm = d->cm;
    apply_release(&d->ap);
    for (size_t i = 0; i < d->n; i++) {
        prb_arena_free(&d->arenas[i]);
        free(d->recs[i]);
    }
    free(d->arenas);
    free(d->recs);
    free(d);
    if (cm)
        writeback_until_done(cm);
    return NULL;
}

/* Once the batch and its audit leaves are in the transaction, its parsed
 * records, tables and lists (about 0.9 GB for a million records) are not
 * read again; unmapping them took ~60 ms on the committing thread after
 * the commit. They are handed to a thread that frees them while the
 * commit writes and flushes. A batch with rejections keeps its memory
 * (the messages point into it). Should the commit still find the map
 * full, the batch is parsed again (prb_ingest_commit). */
static void release_early(prb_ingest *b, struct apply *ap, size_t nbad)
{
    struct dying *d = calloc(1, sizeof *d);
    if (!d || nbad || ap->nbad || !(d->arenas = calloc(b->nchunks + 1, sizeof *d->arenas)) ||
        !(d->recs = calloc(b->nchunks + 1, sizeof *d->recs))) {
        if (d) {
            free(d->arenas);
            free(d->recs);
        }
        free(d);
        return; /* freed later, as before */
    }
    d->ap.subjects = ap->subjects;
    d->ap.frefs = ap->frefs;
    d->ap.recs = ap->recs;
    d->ap.idents = ap->idents;
    d->ap.notices = ap->notices;
    d->ap.touched = ap->touched;
    d->ap.fdirty = ap->fdirty;
    d->ap.a = ap->a;
    ap->subjects = (struct table){0};
    ap->frefs = (struct ftable){0};
    ap->recs = ap->idents = ap->notices = (struct plist){0};
    ap->touched = NULL;
    ap->fdirty = NULL;
    ap->ntouched = ap->nfdirty = 0;
    prb_arena_init(&ap->a, 1 << 20);
    for (size_t i = 0; i < b->nchunks; i++) {
        struct chunk *c = &b->chunks[i];
        d->arenas[d->n] = c->arena;
        d->recs[d->n++] = c->recs;
        prb_arena_init(&c->arena, CHUNK_ARENA);
        c->recs = NULL;
        c->nrecs = c->rcap = 0;
    }
    mdb_filehandle_t fd;
    if (!mdb_env_get_fd(ap->env->mdb, &fd) && (ap->cm = calloc(1, sizeof *ap->cm))) {
        pthread_mutex_init(&ap->cm->mu, NULL);
        /* Its waits on the monotonic clock: a step back of the wall
         * clock would stop the writeback for as long. */
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&ap->cm->cv, &a);
        pthread_condattr_destroy(&a);
        ap->cm->fd = fd;
    }
    d->cm = ap->cm;
    if (pthread_create(&ap->reaper, NULL, reap, d)) {
        d->cm = NULL;
        reap(d);
    } else {
        ap->reaping = 1;
    }
}

static void apply_free(struct apply *ap)
{
    committed(ap->cm); /* should the commit not have been reached */
    if (ap->reaping)
        pthread_join(ap->reaper, NULL);
    ap->reaping = 0;
    if (ap->cm) {
        pthread_mutex_destroy(&ap->cm->mu);
        pthread_cond_destroy(&ap->cm->cv);
        free(ap->cm);
        ap->cm = NULL;
    }
    if (ap->rec_cur)
        mdb_cursor_close(ap->rec_cur);
    ap->rec_cur = NULL;
    if (ap->txn)
        prb_wtxn_abort(ap->env, ap->txn);
    ap->txn = NULL;
    apply_release(ap);
    free(ap->errs);
    prb_dspfix_free(&ap->dspfix);
}

/* Records to size the tables for, before parsing has counted them: a
 * record line is rarely shorter than 300 bytes; the tables grow if not. */
static size_t expected_recs(const prb_ingest *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nin; i++)
        n += b->in[i].len / 300;
    return n;
}

/* One attempt at the write transaction. Returns PRB_EFULL if the map must
 * grow (the caller retries), PRB_EREJECTED if records were refused here. */
static int apply_batch(prb_ingest *b, struct pool *pl, struct apply *ap)
{
    prb_env *env = b->env;
    size_t n = expected_recs(b), nbad = 0;
    MDB_val k = {12, "next_subject"}, v;
    int rc, mrc;

    memset(ap, 0, sizeof *ap);
    ap->b = b;
    ap->env = env;
    prb_arena_init(&ap->a, 1 << 20);
    /* A subject has several records: its table starts smaller and grows. */
    ap->recs.hint = n;
    if ((rc = table_init(&ap->subjects, n / 4)) || (rc = ftable_init(&ap->frefs, n)))
        return prb_seterr(env->err, rc, "ingest: out of memory");
    if ((rc = prb_wtxn_begin(env, &ap->txn)))
        return rc;
#ifndef PRB_NO_AUDIT
    /* A leaf per record, and about one per new subject or notice. */
    if ((rc = prb_audit_reserve(env, n + n / 2)))
        return rc;
#endif
    if ((mrc = mdb_get(ap->txn, env->meta, &k, &v)) || v.mv_size != 8)
        return mrc ? prb_mdb_fail(env, mrc, "reading the subject counter")
                   : prb_seterr(env->err, PRB_ECORRUPT, "subject counter: bad value");
    ap->next_subject = prb_get_be64(v.mv_data);
    if ((mrc = mdb_cursor_open(ap->txn, env->rec, &ap->rec_cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    MDB_val lk, lv;
    if ((mrc = mdb_cursor_get(ap->rec_cur, &lk, &lv, MDB_LAST)) == 0 &&
        lk.mv_size == PRB_RECKEY_LEN) {
        memcpy(ap->rec_last, lk.mv_data, PRB_RECKEY_LEN);
        ap->has_last = 1;
    } else if (mrc && mrc != MDB_NOTFOUND) {
        return prb_mdb_fail(env, mrc, "reading the last record key");
    }
    MDB_cursor *oc;
    if ((mrc = mdb_cursor_open(ap->txn, env->outbox, &oc)))
        return prb_mdb_fail(env, mrc, "opening the outbox");
    rc = prb_next_number(env, oc, "reading the outbox", &ap->next_notice);
    mdb_cursor_close(oc);
    if (rc)
        return rc;
    if ((rc = prb_dspfix_load(env, ap->txn, &ap->dspfix)))
        return rc;
    int rejected = 0;
    for (size_t i = 0; i < b->nchunks; i++) {
        if ((rc = pool_wait(pl, i)))
            return prb_seterr(env->err, rc, "ingest: out of memory while parsing");
        nbad += b->chunks[i].nbad;
        for (size_t j = 0; j < b->chunks[i].nrecs; j++) {
            if (j + 8 < b->chunks[i].nrecs) {
                /* The tables are far larger than the caches: ask early. */
                const prb_rec *ahead = &b->chunks[i].recs[j + 8];
                /* From the record, not its key: the key was written on
                 * another core, and reading it to prefetch was itself a
                 * cache miss on most records (~0.15 s of a million). */
                __builtin_prefetch(&ap->frefs.s[ahead->fkey_hash & (ap->frefs.cap - 1)]);
                __builtin_prefetch(&ap->subjects.s[ahead->ident_hash & (ap->subjects.cap - 1)]);
            }
            rc = apply_one(ap, &b->chunks[i].recs[j]);
            if (rc == PRB_EREJECTED) {
                rejected = 1;
                continue;
            }
            if (rc)
                return rc == PRB_ENOMEM ? prb_seterr(env->err, rc, "ingest: out of memory") : rc;
        }
    }
    if ((rejected || nbad) && !b->opts.skip_bad)
        return PRB_EREJECTED;
    if (b->deferring && (rc = store_deferred(ap)))
        return rc == PRB_ENOMEM ? prb_seterr(env->err, rc, "ingest: out of memory") : rc;
    /* The audit tree of the records is built on another core while their
     * keys are written here. */
    if ((rc = prb_audit_prehash(env, ap->txn)) || (rc = write_all(ap)) ||
        (rc = prb_dspfix_resolve(env, ap->txn, &ap->dspfix)) || (rc = refresh_lists(ap)) ||
        (rc = prb_audit_append(env, ap->txn)))
        return rc;
    release_early(b, ap, nbad);
    rc = prb_wtxn_commit(env, ap->txn);
    committed(ap->cm);
    ap->txn = NULL;
    return rc;
}

static int cmp_err(const void *a, const void *b)
{
    const prb_recerr *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Gathers parse and apply rejections into "FILE:LINE: FIELD: reason",
 * the first max_errors of them if set, and counts them all. */
static int format_errors(prb_ingest *b, const struct apply *ap)
{
    size_t n = ap->nerrs;
    b->nbad = ap->nbad;
    for (size_t i = 0; i < b->nchunks; i++) {
        n += b->chunks[i].nerrs;
        b->nbad += b->chunks[i].nbad;
    }
    prb_recerr *all = malloc((n + 1) * sizeof *all);
    if (!all || !(b->msgs = calloc(n + 1, sizeof *b->msgs))) {
        free(all);
        return PRB_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->nchunks; i++)
        for (size_t j = 0; j < b->chunks[i].nerrs; j++)
            all[k++] = b->chunks[i].errs[j];
    for (size_t j = 0; j < ap->nerrs; j++)
        all[k++] = ap->errs[j];
    qsort(all, n, sizeof *all, cmp_err);
    if (!keep_err(b, n))
        n = b->opts.max_errors;
    for (size_t i = 0; i < n; i++) {
        b->msgs[i] = prb_arena_printf(&b->msg_arena, "%s:%u: %s: %s", b->in[all[i].src].name,
                                      all[i].line, all[i].field, all[i].reason);
        if (!b->msgs[i]) {
            free(all);
            return PRB_ENOMEM;
        }
    }
    b->nmsgs = n;
    free(all);
    return PRB_OK;
}

/* Starts parsing the batch over, for another attempt at its transaction:
 * its parsed records may have been freed (release_early), and one path
 * for every retry is one that the tests take. */
static int reparse(prb_ingest *b, struct pool *pl)
{
    int rc = pool_finish(pl);
    if (rc)
        return prb_seterr(b->env->err, rc, "ingest: out of memory while parsing");
    for (size_t i = 0; i < b->nchunks; i++) {
        struct chunk *c = &b->chunks[i];
        prb_arena_free(&c->arena);
        free(c->recs);
        free(c->errs);
        c->recs = NULL;
        c->errs = NULL;
        c->nrecs = c->rcap = c->nerrs = c->ecap = c->nbad = 0;
        c->nlines = c->line0 = 0;
        prb_arena_init(&c->arena, CHUNK_ARENA);
    }
    if ((rc = pool_start(pl, b)))
        return prb_seterr(b->env->err, rc, "ingest: out of memory");
    return PRB_OK;
}

int prb_ingest_commit(prb_ingest *b, prb_ingest_stats *stats)
{
    prb_env *env = b->env;
    struct apply ap;
    struct pool pl;
    int rc;

    if (b->done)
        return prb_seterr(env->err, PRB_EINVAL, "ingest: batch already committed");
    b->done = 1;
    memset(&ap, 0, sizeof ap);
    memset(&pl, 0, sizeof pl);
    if ((rc = make_chunks(b)) || (rc = pool_start(&pl, b))) {
        pool_finish(&pl);
        return prb_seterr(env->err, rc, "ingest: out of memory");
    }
    int freed = 0;
    while ((rc = apply_batch(b, &pl, &ap)) == PRB_EFULL || rc == REAPPLY) {
        apply_free(&ap);
        /* Nothing was freed of the parsed records: applied again as they
         * are, deferring (a retry for a full map defers too). */
        if (rc == REAPPLY) {
            b->deferring = 1;
            continue;
        }
        /* If the map cannot grow, ap is freed already (not twice). */
        if ((freed = (rc = prb_env_grow(env)) || (rc = reparse(b, &pl))))
            break;
    }
    /* On an early failure the workers may still be parsing: stop them
     * before the chunks they write to are read or freed. */
    int prc = pool_finish(&pl);
    if (prc && !rc)
        rc = prb_seterr(env->err, prc, "ingest: out of memory while parsing");
    if (rc != PRB_OK && rc != PRB_EREJECTED) {
        if (!freed)
            apply_free(&ap);
        return rc;
    }
    int frc = format_errors(b, &ap);
    if (stats) {
        memset(stats, 0, sizeof *stats);
        if (rc == PRB_OK)
            *stats = ap.st;
        stats->rejected = b->nbad;
    }
    apply_free(&ap);
    if (frc && !rc)
        rc = prb_seterr(env->err, frc, "ingest: out of memory");
    if (rc == PRB_EREJECTED)
        prb_seterr(
            env->err, rc, "ingest: %zu bad record%s; nothing was written%s", b->nbad,
            b->nbad == 1 ? "" : "s",
            " (to load the good ones, skip the bad: --skip-bad, or skip_bad=true over HTTP)");
    return rc;
}
