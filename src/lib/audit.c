/*
 * audit.c - the audit log's write path: write transactions that carry a
 * batch of leaves, and the leaves and Merkle tree hashes they append.
 *
 * Leaves and tree hashes are stored in blocks that fill one LMDB overflow
 * page each (85 leaves of 48 bytes, 127 hashes of 32 bytes): a 1,000,000-
 * record ingest appends ~12,000 + ~16,000 values instead of 3,000,000,
 * and a proof reads a handful of blocks. Only the last block of each is
 * ever rewritten, when a later batch fills it up.
 *
 * Hashing is the log's main cost. Leaves are hashed on every core; tree
 * hashes are computed for whole aligned subtrees in parallel too, since
 * each subtree only needs its own leaves.
 */
#include "audit.h"

#include "merkle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hashes of a batch sit in memory from position base on; older ones are
 * read from the store, or, while the hashing runs beside the writer's
 * thread (prb_audit_prehash), from the old tree's right edge read ahead:
 * a write transaction may not be used by two threads. */
struct pending {
    prb_tree_reader r;
    uint64_t base;
    prb_hash32 *h;
    size_t hn;   /* bytes at h in use */
    size_t hcap; /* bytes mapped at h */
    int nf;      /* > 0: the right edge below, not the store */
    uint64_t fpos[64];
    prb_hash32 fh[64];
};

/* A value whose hash a leaf still lacks: computed with the leaf hashes,
 * off the caller's thread (prb_audit_log_later). */
struct later {
    const void *p;
    size_t n;
};

struct prb_alog_batch {
    unsigned char *leaves; /* PRB_LEAF_LEN each */
    struct later *later;   /* per leaf, once one is logged later; else NULL */
    size_t n, cap;
    /* prb_audit_prehash: leaves [0, npre) hashed on a thread of their own */
    int pre, prc;
    pthread_t th;
    uint64_t size0, npre;
    struct pending pd;
    /* Set by the prehash once leaves [0, npre) hold their values' hashes
     * (1), before it hashes the leaves themselves, or when it failed
     * before that (-1): from then on the leaves can be written to the log
     * while their tree is still being made. */
    int final;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* The time the next leaf is stamped with at least: the log's last
     * leaf's, then each leaf's of the batch (see log_floor). */
    int64_t floor;
    /* Once committed, meta records the signing key, or there is none to
     * record (prb_audit_key_record): the handle stops looking. */
    int key_known;
};

static const MDB_val SIZE_KEY = {9, "alog_size"};
static const MDB_val ROOT_KEY = {9, "alog_root"};

int prb_audit_size(prb_env *env, MDB_txn *txn, uint64_t *size)
{
    MDB_val v;
    int mrc = mdb_get(txn, env->meta, (MDB_val *)&SIZE_KEY, &v);
    *size = 0;
    if (mrc == MDB_NOTFOUND)
        return PRB_OK;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the audit log size");
    if (v.mv_size != 8)
        return prb_seterr(env->err, PRB_ECORRUPT, "audit log size: bad value");
    *size = prb_get_be64(v.mv_data);
    return PRB_OK;
}

static int policy_in_force(prb_env *env, MDB_txn *txn);

/* The time of the log's last leaf, below which no leaf of txn is
 * stamped: leaf times never go back, so neither do the times of the
 * heads signed with them (treehead.c). A leaf is stamped with the clock
 * of the call that logs it, which for a call that waited for LMDB's one
 * writer (a furnisher's batch behind a group commit) is earlier than
 * leaves committed while it waited. */
static int log_floor(prb_env *env, MDB_txn *txn, int64_t *floor)
{
    uint64_t size;
    const unsigned char *l;
    prb_tree_reader r = {.env = env, .txn = txn};
    int rc = prb_audit_size(env, txn, &size);
    *floor = 0;
    if (rc || !size)
        return rc;
    if ((rc = prb_leaf_read(&r, size - 1, &l)))
        return rc;
    *floor = prb_leaf_time(l);
    return PRB_OK;
}

int prb_wtxn_begin(prb_env *env, MDB_txn **txn)
{
    int mrc = mdb_txn_begin(env->mdb, NULL, 0, txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a write transaction");
    /* LMDB lets one write transaction run at a time, so the batch can
     * hang off the handle. */
    struct prb_alog_batch *b = calloc(1, sizeof *b);
    if (!b) {
        mdb_txn_abort(*txn);
        *txn = NULL;
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    env->wlog = b;
    int rc = log_floor(env, *txn, &b->floor);
    if (!rc)
        rc = policy_in_force(env, *txn);
    if (!rc && !env->key_checked)
        rc = prb_audit_key_record(env, *txn, &b->key_known);
    /* In the transaction, not before it: a revocation committed while
     * this call waited for the writer is read here, and one committed
     * after it comes after this write. */
    if (!rc && env->caller[0])
        rc = prb_key_live_txn(env, *txn, env->caller);
    if (rc) {
        prb_wtxn_abort(env, *txn);
        *txn = NULL;
    }
    return rc;
}

static void hashes_free(prb_hash32 *h, size_t n);

static void batch_free(prb_env *env)
{
    struct prb_alog_batch *b = env->wlog;
    if (b) {
        if (b->pre)
            pthread_join(b->th, NULL);
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        if (b->pd.h)
            hashes_free(b->pd.h, b->pd.hcap);
        free(b->leaves);
        free(b->later);
        free(b);
    }
    env->wlog = NULL;
}

void prb_wtxn_abort(prb_env *env, MDB_txn *txn)
{
    if (txn)
        mdb_txn_abort(txn);
    batch_free(env);
}

/* Room for more leaves; the prehash thread reads them, so it finishes
 * before they move. */
static int grow(prb_env *env, struct prb_alog_batch *b, size_t more)
{
    size_t cap = b->n + more;
    if (b->pre) {
        pthread_join(b->th, NULL);
        b->pre = 0;
    }
    unsigned char *l = realloc(b->leaves, cap * PRB_LEAF_LEN);
    if (!l)
        return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
    b->leaves = l;
    if (b->later) {
        struct later *t = realloc(b->later, cap * sizeof *t);
        if (!t)
            return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
        memset(t + b->cap, 0, (cap - b->cap) * sizeof *t);
        b->later = t;
    }
    b->cap = cap;
    return PRB_OK;
}

int prb_audit_log_hash(prb_env *env, int kind, unsigned aux, uint64_t object,
                       const unsigned char hash[PRB_HASH_LEN])
{
#ifdef PRB_NO_AUDIT
    (void)env, (void)kind, (void)aux, (void)object, (void)hash;
    return PRB_OK;
#else
    struct prb_alog_batch *b = env->wlog;
    int rc;
    if (!b)
        return prb_seterr(env->err, PRB_EINVAL, "audit log: a write outside a write transaction");
    if (b->n == b->cap && (rc = grow(env, b, b->cap ? b->cap : 1024)))
        return rc;
    unsigned char *w = b->leaves + b->n++ * PRB_LEAF_LEN;
    int64_t now = env->log_now < 0 ? 0 : env->log_now > UINT32_MAX ? UINT32_MAX : env->log_now;
    if (now < b->floor)
        now = b->floor;
    b->floor = now;
    w[0] = PRB_LEAF_FORMAT;
    w[1] = (unsigned char)kind;
    w[2] = (unsigned char)(aux >> 8);
    w[3] = (unsigned char)aux;
    w[4] = (unsigned char)(now >> 24);
    w[5] = (unsigned char)(now >> 16);
    w[6] = (unsigned char)(now >> 8);
    w[7] = (unsigned char)now;
    prb_be64(w + 8, object);
    if (hash)
        memcpy(w + 16, hash, PRB_HASH_LEN);
    if (b->later)
        b->later[b->n - 1] = (struct later){NULL, 0};
    return PRB_OK;
#endif
}

int prb_audit_log_later(prb_env *env, int kind, unsigned aux, uint64_t object, const void *value,
                        size_t n)
{
#ifdef PRB_NO_AUDIT
    (void)env, (void)kind, (void)aux, (void)object, (void)value, (void)n;
    return PRB_OK;
#else
    struct prb_alog_batch *b = env->wlog;
    int rc;
    if (b && !b->later) {
        if (b->pre) {
            pthread_join(b->th, NULL);
            b->pre = 0;
        }
        if (!(b->later = calloc(b->cap ? b->cap : 1, sizeof *b->later)))
            return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
    }
    if ((rc = prb_audit_log_hash(env, kind, aux, object, NULL)))
        return rc;
    b->later[b->n - 1] = (struct later){value, n};
    return PRB_OK;
#endif
}

int prb_audit_log(prb_env *env, int kind, unsigned aux, uint64_t object, const void *value,
                  size_t n)
{
#ifdef PRB_NO_AUDIT
    (void)value, (void)n;
    return prb_audit_log_hash(env, kind, aux, object, NULL);
#else
    unsigned char h[PRB_HASH_LEN];
    prb_sha256(value, n, h);
    return prb_audit_log_hash(env, kind, aux, object, h);
#endif
}

static const MDB_val POLICY_KEY = {sizeof PRB_POLICY_HASH_KEY - 1, PRB_POLICY_HASH_KEY};

/* Logs env's policy as the first leaf of txn's batch, and keeps its hash
 * in meta, unless it is the one logged last. Here, not at open: two
 * handles may hold the register under different policies (a server
 * started before policy.json was edited, a command after), and the log
 * must name, before each write, the policy that write was made under.
 * Read in the write transaction, meta's hash is the last logged by any
 * process; most transactions find their own and cost one lookup. */
static int policy_in_force(prb_env *env, MDB_txn *txn)
{
    MDB_val v;
    uint64_t size;
    int rc, mrc = mdb_get(txn, env->meta, (MDB_val *)&POLICY_KEY, &v);
    if (!mrc && v.mv_size == PRB_HASH_LEN && !memcmp(v.mv_data, env->policy_sha, PRB_HASH_LEN))
        return PRB_OK;
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the policy's hash");
    /* A register made before the log existed is given its key while its
     * log is empty (treehead.c); after this leaf it could not be. A new
     * one records its key's public half here, in its first write; an
     * older one, in its next (prb_audit_key_record). */
    if ((rc = prb_audit_size(env, txn, &size)) || (!size && (rc = prb_audit_key_ready(env, txn))))
        return rc;
    v = (MDB_val){PRB_HASH_LEN, env->policy_sha};
    if ((mrc = mdb_put(txn, env->meta, (MDB_val *)&POLICY_KEY, &v, 0)))
        return prb_mdb_fail(env, mrc, "keeping the policy's hash");
    return prb_audit_log_hash(env, PRB_LEAF_POLICY, 0, 0, env->policy_sha);
}

int prb_audit_policy(prb_env *env)
{
    MDB_txn *txn;
    int rc = prb_wtxn_begin(env, &txn);
    return rc ? rc : prb_wtxn_commit(env, txn);
}

/* ------------------------------------------------------ stored hashes */

#define HC_SLOTS 65536
#define HC_MIN_LEVEL 6

struct hslot {
    uint64_t pos1; /* position + 1; 0: empty */
    unsigned char h[PRB_HASH_LEN];
};

static __thread struct hcache {
    uint64_t uid;
    struct hslot *s;
} tcache;

static pthread_key_t hc_key;
static pthread_once_t hc_once = PTHREAD_ONCE_INIT;

static void hc_init(void)
{
    /* Frees a thread's cache when the thread ends. */
    (void)pthread_key_create(&hc_key, free);
}

/* The level of the subtree stored at pos: pos lies after leaf m's hash,
 * among the ctz(m + 1) subtrees leaf m completes. Leaf m is stored at
 * 2m - popcount(m), so m is at least pos / 2 and a few steps past it. */
static unsigned locate(uint64_t pos, uint64_t *leaf)
{
    uint64_t m = pos / 2, at = prb_mt_pos(0, m);
    while (at > pos)
        at = prb_mt_pos(0, --m);
    while (at + (uint64_t)__builtin_ctzll(m + 1) < pos)
        at = prb_mt_pos(0, ++m);
    *leaf = m;
    return (unsigned)(pos - at);
}

static struct hslot *hcache_slot(prb_env *env, uint64_t pos)
{
    if (!tcache.s) {
        pthread_once(&hc_once, hc_init);
        if (!(tcache.s = calloc(HC_SLOTS, sizeof *tcache.s)))
            return NULL; /* no cache; reads go to the store */
        (void)pthread_setspecific(hc_key, tcache.s);
        tcache.uid = env->uid;
    } else if (tcache.uid != env->uid) {
        memset(tcache.s, 0, HC_SLOTS * sizeof *tcache.s);
        tcache.uid = env->uid;
    }
    return &tcache.s[(pos * 0x9e3779b97f4a7c15ULL) >> 48];
}

static int tree_read(prb_tree_reader *r, uint64_t pos, unsigned level, uint64_t m,
                     unsigned char out[PRB_HASH_LEN]);

int prb_tree_get(void *ctx, uint64_t pos, unsigned char out[PRB_HASH_LEN])
{
    prb_tree_reader *r = ctx;
    struct hslot *slot = NULL;
    uint64_t m;
    unsigned level = locate(pos, &m);
    if (r->cache && level >= HC_MIN_LEVEL && (slot = hcache_slot(r->env, pos)) &&
        slot->pos1 == pos + 1) {
        memcpy(out, slot->h, PRB_HASH_LEN);
        return PRB_OK;
    }
    int rc = tree_read(r, pos, level, m, out);
    if (!rc && slot) {
        slot->pos1 = pos + 1;
        memcpy(slot->h, out, PRB_HASH_LEN);
    }
    return rc;
}

int prb_leaf_read(prb_tree_reader *r, uint64_t m, const unsigned char **out)
{
    uint64_t blk = m / PRB_ALOG_BLOCK;
    size_t off = (size_t)(m % PRB_ALOG_BLOCK) * PRB_LEAF_LEN;
    if (!r->lblk || blk != r->lblkno) {
        unsigned char k[8];
        MDB_val mk = {8, k}, mv;
        prb_be64(k, blk);
        int mrc = mdb_get(r->txn, r->env->alog, &mk, &mv);
        if (mrc == MDB_NOTFOUND)
            return prb_seterr(r->env->err, PRB_ECORRUPT, "audit log: leaf block %llu is missing",
                              (unsigned long long)blk);
        if (mrc)
            return prb_mdb_fail(r->env, mrc, "reading the audit log");
        r->lblk = mv.mv_data;
        r->lblklen = mv.mv_size;
        r->lblkno = blk;
    }
    if (off + PRB_LEAF_LEN > r->lblklen)
        return prb_seterr(r->env->err, PRB_ECORRUPT, "audit log: leaf %llu is missing",
                          (unsigned long long)m);
    *out = r->lblk + off;
    return PRB_OK;
}

/* The hash at pos, the subtree of the given level that leaf m completes. */
static int tree_read(prb_tree_reader *r, uint64_t pos, unsigned level, uint64_t m,
                     unsigned char out[PRB_HASH_LEN])
{
    uint64_t idx = ((m + 1) >> level) - 1;
    if (level < PRB_MTREE_MIN_LEVEL) {
        /* Not stored: at most 8 leaves, hashed and joined here. */
        prb_hash32 h[1 << (PRB_MTREE_MIN_LEVEL - 1)];
        unsigned n = 1u << level;
        for (unsigned k = 0; k < n; k++) {
            const unsigned char *l = NULL;
            int rc = prb_leaf_read(r, (idx << level) + k, &l);
            if (rc)
                return rc;
            prb_sha256_leaf(l, PRB_LEAF_LEN, h[k]);
        }
        for (; n > 1; n /= 2)
            for (unsigned k = 0; k < n / 2; k++)
                prb_sha256_node(h[2 * k], h[2 * k + 1], h[k]);
        memcpy(out, h[0], PRB_HASH_LEN);
        return PRB_OK;
    }
    uint64_t spos = prb_mt_pos(level - PRB_MTREE_MIN_LEVEL, idx);
    uint64_t blk = spos / PRB_MTREE_BLOCK;
    size_t off = (size_t)(spos % PRB_MTREE_BLOCK) * PRB_HASH_LEN;
    if (!r->blk || blk != r->blkno) {
        unsigned char k[8];
        MDB_val mk = {8, k}, mv;
        prb_be64(k, blk);
        int mrc = mdb_get(r->txn, r->env->mtree, &mk, &mv);
        if (mrc == MDB_NOTFOUND)
            return prb_seterr(r->env->err, PRB_ECORRUPT,
                              "audit log: tree hash block %llu is missing",
                              (unsigned long long)blk);
        if (mrc)
            return prb_mdb_fail(r->env, mrc, "reading the audit tree");
        r->blk = mv.mv_data;
        r->blklen = mv.mv_size;
        r->blkno = blk;
    }
    if (off + PRB_HASH_LEN > r->blklen)
        return prb_seterr(r->env->err, PRB_ECORRUPT, "audit log: tree hash %llu is missing",
                          (unsigned long long)pos);
    memcpy(out, r->blk + off, PRB_HASH_LEN);
    return PRB_OK;
}

size_t prb_tree_stored(const prb_hash32 *h, uint64_t base, uint64_t from, uint64_t to,
                       unsigned char *out)
{
    size_t k = 0;
    for (uint64_t i = from; i < to; i++) {
        unsigned top = (unsigned)__builtin_ctzll(i + 1);
        if (top < PRB_MTREE_MIN_LEVEL)
            continue;
        /* Leaf i completes subtrees of levels 1..top, stored after it. */
        uint64_t at = prb_mt_pos(0, i) - base;
        for (unsigned l = PRB_MTREE_MIN_LEVEL; l <= top; l++, k++)
            if (out)
                memcpy(out + k * PRB_HASH_LEN, h[at + l], PRB_HASH_LEN);
    }
    return k;
}

static int pending_get(void *ctx, uint64_t pos, unsigned char out[PRB_HASH_LEN])
{
    struct pending *p = ctx;
    if (pos >= p->base) {
        memcpy(out, p->h[pos - p->base], PRB_HASH_LEN);
        return PRB_OK;
    }
    for (int i = 0; i < p->nf; i++)
        if (p->fpos[i] == pos) {
            memcpy(out, p->fh[i], PRB_HASH_LEN);
            return PRB_OK;
        }
    if (p->nf)
        return prb_seterr(p->r.env->err, PRB_ECORRUPT,
                          "audit log: hash %llu is not on the tree's right edge",
                          (unsigned long long)pos);
    return prb_tree_get(&p->r, pos, out);
}

/* Room for cap bytes of which n are faulted in at once: a big batch's
 * hashes are ~64 bytes a leaf. */
static prb_hash32 *hashes_alloc(size_t n, size_t cap)
{
    return cap >> 20 ? prb_bigalloc_part(cap, n) : malloc(cap ? cap : 1);
}

static void hashes_free(prb_hash32 *h, size_t n)
{
    if (n >> 20)
        prb_bigfree(h, n);
    else
        free(h);
}

/* Leaf hashing on several threads: each takes a contiguous share. */
struct hash_job {
    unsigned char *leaves;
    const struct later *later; /* NULL: every leaf has its value's hash */
    prb_hash32 *out;           /* NULL: only the values' hashes, into the leaves */
    size_t lo, hi;
    int tree; /* out is post-order: leaf i goes to pos(0, first + i) - base */
    uint64_t first, base;
};

static void *hash_leaves(void *arg)
{
    struct hash_job *j = arg;
    if (!j->out) {
        for (size_t i = j->lo; i < j->hi; i++)
            if (j->later[i].p)
                prb_sha256(j->later[i].p, j->later[i].n, j->leaves + i * PRB_LEAF_LEN + 16);
        return NULL;
    }
    for (size_t i = j->lo; i < j->hi; i++) {
        unsigned char *l = j->leaves + i * PRB_LEAF_LEN;
        if (j->later && j->later[i].p)
            prb_sha256(j->later[i].p, j->later[i].n, l + 16);
        prb_sha256_leaf(l, PRB_LEAF_LEN,
                        j->out[j->tree ? prb_mt_pos(0, j->first + i) - j->base : i]);
    }
    return NULL;
}

/* The cores online, read once: sysconf reads a file under /sys each time,
 * which a server committing hundreds of small batches a second would do
 * as often. */
static long ncores(void)
{
    static _Atomic long n;
    long v = atomic_load_explicit(&n, memory_order_relaxed);
    if (!v) {
        v = sysconf(_SC_NPROCESSORS_ONLN);
        atomic_store_explicit(&n, v > 0 ? v : 1, memory_order_relaxed);
    }
    return v > 0 ? v : 1;
}

static void hash_leaves_on_cores(unsigned char *leaves, const struct later *later, size_t n,
                                 prb_hash32 *out, int tree, uint64_t first, uint64_t base)
{
    enum { MAXT = 8 };
    long cores = ncores();
    size_t nt = n < 16384 ? 1 : cores < 1 ? 1 : cores > MAXT ? MAXT : (size_t)cores;
    struct hash_job jobs[MAXT];
    pthread_t th[MAXT];
    size_t started = 0;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] =
            (struct hash_job){leaves, later, out, n * t / nt, n * (t + 1) / nt, tree, first, base};
        if (t > 0 && !pthread_create(&th[t], NULL, hash_leaves, &jobs[t]))
            started |= (size_t)1 << t;
        else if (t > 0)
            hash_leaves(&jobs[t]);
    }
    hash_leaves(&jobs[0]);
    for (size_t t = 1; t < nt; t++)
        if (started >> t & 1)
            pthread_join(th[t], NULL);
}

void prb_hash_leaves(const unsigned char *leaves, size_t n, prb_hash32 *out)
{
    /* verify's own copy of the leaves: every hash is in it */
    hash_leaves_on_cores((unsigned char *)leaves, NULL, n, out, 0, 0, 0);
}

/* Writes values of `per` items of `size` bytes for items [from, from + n)
 * to dbi, block by block; the first block is extended in place when a
 * block is partly filled already. */
static int put_blocks(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t from, uint64_t n,
                      const unsigned char *items, size_t size, size_t per, const char *what)
{
    unsigned char *buf = malloc(per * size), k[8];
    int mrc = 0;
    if (!buf)
        return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
    uint64_t i = from, end = from + n;
    while (i < end) {
        uint64_t blk = i / per, first = blk * per, stop = first + per < end ? first + per : end;
        size_t have = (size_t)(i - first);
        MDB_val mk = {8, k}, mv;
        prb_be64(k, blk);
        if (have) {
            if ((mrc = mdb_get(txn, dbi, &mk, &mv)))
                break;
            if (mv.mv_size != have * size) {
                free(buf);
                return prb_seterr(env->err, PRB_ECORRUPT, "audit log: %s block %llu is %zu bytes",
                                  what, (unsigned long long)blk, mv.mv_size);
            }
            memcpy(buf, mv.mv_data, mv.mv_size);
        }
        if (!have) {
            /* A new block: its items go straight into the page LMDB
             * reserves for it, not through buf. */
            mv = (MDB_val){(size_t)(stop - first) * size, NULL};
            if ((mrc = mdb_put(txn, dbi, &mk, &mv, MDB_APPEND | MDB_RESERVE)))
                break;
            memcpy(mv.mv_data, items + (i - from) * size, mv.mv_size);
            i = stop;
            continue;
        }
        memcpy(buf + have * size, items + (i - from) * size, (size_t)(stop - i) * size);
        mv = (MDB_val){(size_t)(stop - first) * size, buf};
        if ((mrc = mdb_put(txn, dbi, &mk, &mv, 0)))
            break;
        i = stop;
    }
    free(buf);
    return mrc ? prb_mdb_fail(env, mrc, what) : PRB_OK;
}

/* Aligned runs of 2^BLOCK_LEVEL leaves: the hashes of one (its leaves and
 * every subtree inside it) are a contiguous run of post-order positions
 * that depends on nothing else, so runs are hashed in parallel and only
 * the few hashes above them are left to the sequential pass. */
#define BLOCK_LEVEL 12
#define BLOCK_LEAVES ((uint64_t)1 << BLOCK_LEVEL)

struct tree_job {
    prb_hash32 *h; /* the batch's hashes, from position base; leaves' are in */
    uint64_t base;
    uint64_t lo, hi; /* the job's blocks: leaves [lo, hi), whole blocks */
};

static void *hash_blocks(void *arg)
{
    struct tree_job *j = arg;
    for (uint64_t i = j->lo; i < j->hi; i++) {
        unsigned char *cur = j->h[prb_mt_pos(0, i) - j->base];
        uint64_t idx = i;
        for (unsigned level = 0; level < BLOCK_LEVEL && (idx & 1); level++, idx >>= 1) {
            unsigned char *up = j->h[prb_mt_pos(level + 1, idx >> 1) - j->base];
            prb_sha256_node(j->h[prb_mt_pos(level, idx - 1) - j->base], cur, up);
            cur = up;
        }
    }
    return NULL;
}

/* Computes every hash the batch's leaves add, into pd->h. */
static int build_tree(struct pending *pd, uint64_t size0, uint64_t n)
{
    enum { MAXT = 8 };
    uint64_t end = size0 + n;
    uint64_t b0 = (size0 + BLOCK_LEAVES - 1) & ~(BLOCK_LEAVES - 1), b1 = end & ~(BLOCK_LEAVES - 1);
    if (b1 > b0) {
        long cores = ncores();
        uint64_t nblk = (b1 - b0) / BLOCK_LEAVES;
        size_t nt = cores < 1 ? 1 : cores > MAXT ? MAXT : (size_t)cores;
        if (nt > nblk)
            nt = (size_t)nblk;
        struct tree_job jobs[MAXT];
        pthread_t th[MAXT];
        int started[MAXT] = {0};
        for (size_t t = 0; t < nt; t++) {
            jobs[t] = (struct tree_job){pd->h, pd->base, b0 + nblk * t / nt * BLOCK_LEAVES,
                                        b0 + nblk * (t + 1) / nt * BLOCK_LEAVES};
            if (t > 0)
                started[t] = !pthread_create(&th[t], NULL, hash_blocks, &jobs[t]);
            if (t > 0 && !started[t])
                hash_blocks(&jobs[t]);
        }
        hash_blocks(&jobs[0]);
        for (size_t t = 1; t < nt; t++)
            if (started[t])
                pthread_join(th[t], NULL);
    }
    for (uint64_t i = size0; i < end;) {
        if (i == b0 && b1 > b0) {
            /* Each block's root is in place: join it to what it completes. */
            for (; i < b1; i += BLOCK_LEAVES) {
                uint64_t idx = i >> BLOCK_LEVEL;
                unsigned level = BLOCK_LEVEL;
                unsigned char cur[PRB_HASH_LEN];
                memcpy(cur, pd->h[prb_mt_pos(level, idx) - pd->base], PRB_HASH_LEN);
                for (; idx & 1; level++, idx >>= 1) {
                    unsigned char left[PRB_HASH_LEN];
                    int rc = pending_get(pd, prb_mt_pos(level, idx - 1), left);
                    if (rc)
                        return rc;
                    prb_sha256_node(left, cur, cur);
                    memcpy(pd->h[prb_mt_pos(level + 1, idx >> 1) - pd->base], cur, PRB_HASH_LEN);
                }
            }
            continue;
        }
        prb_hash32 nodes[64];
        unsigned char *leaf = pd->h[prb_mt_pos(0, i) - pd->base];
        int k = prb_mt_append(pending_get, pd, i, leaf, nodes);
        if (k < 0)
            return -k;
        memcpy(leaf, nodes, (size_t)k * PRB_HASH_LEN);
        i++;
    }
    return PRB_OK;
}

#ifndef PRB_NO_AUDIT
/* Tells append_leaves the leaves it waits for are final (or never will be). */
static void leaves_final(struct prb_alog_batch *b, int ok)
{
    pthread_mutex_lock(&b->mu);
    b->final = ok ? 1 : -1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* The batch's first npre leaves, hashed while the caller goes on writing.
 * Its result is needed last, at the commit: it runs at a lower priority
 * (Linux keeps a nice value per thread, and the hashing threads it starts
 * inherit it) so that the writing thread and its helpers keep the cores
 * they need first. */
static void *prehash(void *arg)
{
    struct prb_alog_batch *b = arg;
    if (b->pre)
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
    /* The hashes' memory is faulted in here too, off the caller's thread:
     * ~64 bytes a leaf, tens of megabytes for a big ingest. */
    if (!(b->pd.h = hashes_alloc(b->pd.hn, b->pd.hcap))) {
        b->prc = PRB_ENOMEM;
        leaves_final(b, 0);
        return NULL;
    }
    if (b->later)
        hash_leaves_on_cores(b->leaves, b->later, b->npre, NULL, 0, 0, 0);
    leaves_final(b, 1);
    hash_leaves_on_cores(b->leaves, NULL, b->npre, b->pd.h, 1, b->size0, b->pd.base);
    b->prc = build_tree(&b->pd, b->size0, b->npre);
    return NULL;
}
#endif

int prb_audit_prehash(prb_env *env, MDB_txn *txn)
{
#ifdef PRB_NO_AUDIT
    (void)env, (void)txn;
    return PRB_OK;
#else
    struct prb_alog_batch *b = env->wlog;
    int rc;
    /* Below this the hashing is too quick to be worth a thread. */
    if (!b || b->pre || b->n < 16384)
        return PRB_OK;
    if ((rc = prb_audit_size(env, txn, &b->size0)))
        return rc;
    struct pending *pd = &b->pd;
    memset(pd, 0, sizeof *pd);
    pd->r = (prb_tree_reader){.env = env, .txn = txn};
    pd->base = prb_mt_pos(0, b->size0);
    /* The complete subtrees of the old tree, one per set bit of its size:
     * the only stored hashes the new leaves are joined to. */
    for (unsigned l = 0; l < 64; l++)
        if (b->size0 >> l & 1) {
            pd->fpos[pd->nf] = prb_mt_pos(l, (b->size0 >> l) - 1);
            if ((rc = prb_tree_get(&pd->r, pd->fpos[pd->nf], pd->fh[pd->nf])))
                return rc;
            pd->nf++;
        }
    if (!pd->nf)
        pd->nf = -1; /* an empty tree: nothing to join, and never the store */
    b->npre = b->n;
    pd->hn = (size_t)(prb_mt_pos(0, b->size0 + b->npre) - pd->base) * sizeof(prb_hash32);
    /* Leaves logged after this (the list entries a batch changes, made
     * after its records are written) extend the same array: growing it
     * at the commit meant faulting in and copying all of it again, ~45 ms
     * on the committing thread for a million records. */
    pd->hcap = (size_t)(prb_mt_pos(0, b->size0 + b->cap) - pd->base) * sizeof(prb_hash32);
    b->final = 0;
    b->pre = 1; /* before the thread reads it */
    if (pthread_create(&b->th, NULL, prehash, b)) {
        b->pre = 0;
        prehash(b);
    }
    return PRB_OK;
#endif
}

/* The hashes of the batch the tree stores (subtrees of 8 leaves and
 * more), in their post-order, appended to mtree. */
static int put_stored(prb_env *env, MDB_txn *txn, struct pending *pd, uint64_t size0, uint64_t n)
{
    size_t k = prb_tree_stored(pd->h, pd->base, size0, size0 + n, NULL);
    unsigned char *c = malloc(k ? k * PRB_HASH_LEN : 1);
    if (!c)
        return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
    prb_tree_stored(pd->h, pd->base, size0, size0 + n, c);
    int rc = put_blocks(env, txn, env->mtree, prb_mt_pos(0, size0 >> PRB_MTREE_MIN_LEVEL), k, c,
                        PRB_HASH_LEN, PRB_MTREE_BLOCK, "writing the audit tree");
    free(c);
    return rc;
}

static int append_leaves(prb_env *env, MDB_txn *txn, struct prb_alog_batch *b)
{
    struct pending *pd = &b->pd;
    uint64_t size0, done = 0, written = 0;
    int rc;
    if (b->pre) {
        /* The leaves the prehash took are final before their tree is:
         * they go into the log while it finishes, not after. (On an
         * error the batch's end joins the thread.) */
        pthread_mutex_lock(&b->mu);
        while (!b->final)
            pthread_cond_wait(&b->cv, &b->mu);
        int ok = b->final > 0; /* prc is the thread's until it is joined */
        pthread_mutex_unlock(&b->mu);
        if (ok && (rc = put_blocks(env, txn, env->alog, b->size0, b->npre, b->leaves, PRB_LEAF_LEN,
                                   PRB_ALOG_BLOCK, "writing the audit log")))
            return rc;
        written = ok ? b->npre : 0;
        pthread_join(b->th, NULL);
        b->pre = 0;
    }
    if (b->npre) {
        if ((rc = b->prc))
            return rc == PRB_ENOMEM ? prb_seterr(env->err, rc, "audit log: out of memory") : rc;
        size0 = b->size0;
        done = b->npre;
        pd->nf = 0; /* back on this thread: the store may be read */
    } else {
        if ((rc = prb_audit_size(env, txn, &size0)))
            return rc;
        memset(pd, 0, sizeof *pd);
        pd->base = prb_mt_pos(0, size0);
    }
    pd->r = (prb_tree_reader){.env = env, .txn = txn};
    uint64_t p0 = pd->base, p1 = prb_mt_pos(0, size0 + b->n);
    size_t hn = (size_t)(p1 - p0) * sizeof(prb_hash32);
    if (pd->h && hn <= pd->hcap) {
        pd->hn = hn; /* the prehash left room for these */
    } else if (hn != pd->hn) {
        /* Leaves logged after the prehash (or all of them): make room. */
        prb_hash32 *h = hashes_alloc(hn, hn);
        if (!h)
            return prb_seterr(env->err, PRB_ENOMEM, "audit log: out of memory");
        if (pd->h) {
            memcpy(h, pd->h, pd->hn);
            hashes_free(pd->h, pd->hcap);
        }
        pd->h = h;
        pd->hn = pd->hcap = hn;
    }
    if (!done) {
        hash_leaves_on_cores(b->leaves, b->later, b->n, pd->h, 1, size0, p0);
        if ((rc = build_tree(pd, size0, b->n)))
            return rc;
    } else {
        for (uint64_t i = size0 + done; i < size0 + b->n; i++) {
            prb_hash32 nodes[64];
            unsigned char *leaf = pd->h[prb_mt_pos(0, i) - p0],
                          *l = b->leaves + (i - size0) * PRB_LEAF_LEN;
            const struct later *lt = b->later ? &b->later[i - size0] : NULL;
            if (lt && lt->p)
                prb_sha256(lt->p, lt->n, l + 16);
            prb_sha256_leaf(l, PRB_LEAF_LEN, leaf);
            int k = prb_mt_append(pending_get, pd, i, leaf, nodes);
            if (k < 0)
                return -k;
            memcpy(leaf, nodes, (size_t)k * PRB_HASH_LEN);
        }
    }
    unsigned char next[8];
    prb_be64(next, size0 + b->n);
    MDB_val nv = {8, next};
    int mrc;
    if ((rc = put_blocks(env, txn, env->alog, size0 + written, b->n - written,
                         b->leaves + written * PRB_LEAF_LEN, PRB_LEAF_LEN, PRB_ALOG_BLOCK,
                         "writing the audit log")) ||
        (rc = put_stored(env, txn, pd, size0, b->n)))
        return rc;
    if ((mrc = mdb_put(txn, env->meta, (MDB_val *)&SIZE_KEY, &nv, 0)))
        return prb_mdb_fail(env, mrc, "writing the audit log size");
    /* The root with its size, so verify sees an edit of the last
     * size % 8 leaves too, whose hashes the tree does not store. It costs
     * the right edge: at most log2(n) stored hashes and as many joins.
     * A fresh reader: the blocks the old one points into were just
     * written. */
    unsigned char rv[8 + PRB_HASH_LEN];
    MDB_val rk = {sizeof rv, rv};
    pd->r = (prb_tree_reader){.env = env, .txn = txn};
    memcpy(rv, next, 8);
    if ((rc = prb_mt_root(pending_get, pd, size0 + b->n, rv + 8)))
        return rc;
    if ((mrc = mdb_put(txn, env->meta, (MDB_val *)&ROOT_KEY, &rk, 0)))
        return prb_mdb_fail(env, mrc, "writing the audit log's root");
    return PRB_OK;
}

int prb_audit_root(prb_env *env, MDB_txn *txn, uint64_t *size, unsigned char root[PRB_HASH_LEN])
{
    MDB_val v;
    int mrc = mdb_get(txn, env->meta, (MDB_val *)&ROOT_KEY, &v);
    if (mrc == MDB_NOTFOUND)
        return PRB_ENOTFOUND;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the audit log's root");
    if (v.mv_size != 8 + PRB_HASH_LEN)
        return prb_seterr(env->err, PRB_ECORRUPT, "audit log's root: bad value (%zu bytes)",
                          v.mv_size);
    *size = prb_get_be64(v.mv_data);
    memcpy(root, (const unsigned char *)v.mv_data + 8, PRB_HASH_LEN);
    return PRB_OK;
}

int prb_audit_reserve(prb_env *env, size_t n)
{
    struct prb_alog_batch *b = env->wlog;
    if (!b || b->cap >= b->n + n)
        return PRB_OK;
    return grow(env, b, n);
}

int prb_audit_append(prb_env *env, MDB_txn *txn)
{
    struct prb_alog_batch *b = env->wlog;
    int rc;
    if (!b || !b->n)
        return PRB_OK;
    if ((rc = append_leaves(env, txn, b)))
        return rc;
    /* Appended: the commit has nothing more to add, and leaves logged
     * from here on start a batch of their own on top of these. */
    b->n = 0;
    b->npre = 0;
    if (b->pd.h)
        hashes_free(b->pd.h, b->pd.hcap);
    memset(&b->pd, 0, sizeof b->pd);
    return PRB_OK;
}

int prb_wtxn_commit(prb_env *env, MDB_txn *txn)
{
    struct prb_alog_batch *b = env->wlog;
    int rc = PRB_OK, mrc;
    if (b && b->n && (rc = append_leaves(env, txn, b))) {
        prb_wtxn_abort(env, txn);
        return rc;
    }
    int known = b && b->key_known;
    batch_free(env);
    uint64_t id = mdb_txn_id(txn);
    int logged = env->ilog_txn == id || env->notice_txn == id;
    if ((mrc = mdb_txn_commit(txn)))
        return prb_mdb_fail(env, mrc, "committing");
    /* Not before: a key recorded by a transaction that did not commit is
     * still to record. */
    env->key_checked |= known;
    /* The commit stands whatever this says: an index left behind is read
     * past by its readers and brought up by the next commit or open. */
    if (logged)
        prb_iidx_catch_up(env);
    return PRB_OK;
}
