/*
 * verify.c - probity verify: the audit log against itself, and the stored
 * data against the log.
 *
 * The tree is recomputed from the leaves and compared with every stored
 * tree hash, so a leaf edited without its tree (or a tree edited without
 * its leaves) shows. Then the last thing the log says about each record
 * version, inquiry, dispute, review and key (written with hash H, or
 * deleted) is compared with
 * what the store holds: a value changed, added or removed through raw
 * LMDB, around the engine, is reported by its id. What this cannot see is
 * a log rewritten whole with its data; that is what signed tree heads
 * held by others, and consistency proofs against them, are for.
 */
#include "audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the log says last about one object: a record version (aux the
 * version), an inquiry, a dispute, a review or a key (TAG_*). */
struct seen {
    uint64_t object;
    uint32_t aux;
    uint8_t tag, used, deleted, found;
    uint64_t leaf;
};

struct map {
    struct seen *s;
    size_t cap;
};

enum { TAG_RECORD, TAG_INQUIRY, TAG_DISPUTE, TAG_REVIEW, TAG_KEY };

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ x >> 29;
}

static struct seen *map_find(struct map *m, uint8_t tag, uint64_t object, uint32_t aux)
{
    size_t i = mix(object ^ (uint64_t)aux << 40 ^ tag) & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        struct seen *s = &m->s[i];
        if (!s->used || (s->object == object && s->aux == aux && s->tag == tag))
            return s;
    }
}

struct run {
    prb_env *env;
    prb_write_fn report;
    void *ctx;
    prb_verify_stats st;
    int stopped;
};

static void finding(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(struct run *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    r->st.problems++;
    if (r->report && !r->stopped && r->report(r->ctx, line, (size_t)n))
        r->stopped = 1;
}

static int get_mem(void *ctx, uint64_t pos, unsigned char out[PRB_HASH_LEN])
{
    memcpy(out, ((prb_hash32 *)ctx)[pos], PRB_HASH_LEN);
    return PRB_OK;
}

/* Reads every leaf into *out (size * PRB_LEAF_LEN bytes). */
static int read_leaves(struct run *r, MDB_txn *txn, uint64_t size, unsigned char **out)
{
    prb_env *env = r->env;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t want = 0, nblk = (size + PRB_ALOG_BLOCK - 1) / PRB_ALOG_BLOCK;
    unsigned char *l = *out = calloc(size ? size : 1, PRB_LEAF_LEN);
    int mrc;
    if (!l)
        return prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
    if ((mrc = mdb_cursor_open(txn, env->alog, &cur)))
        return prb_mdb_fail(env, mrc, "reading the audit log");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t b = k.mv_size == 8 ? prb_get_be64(k.mv_data) : UINT64_MAX;
        uint64_t first = b * PRB_ALOG_BLOCK;
        size_t expect =
            b < nblk ? (size_t)((size - first < PRB_ALOG_BLOCK ? size - first : PRB_ALOG_BLOCK) *
                                PRB_LEAF_LEN)
                     : 0;
        if (b >= nblk) {
            finding(r, "audit log: a block of leaves beyond the log's size (%llu leaves)",
                    (unsigned long long)size);
            continue;
        }
        for (; want < b; want++)
            finding(r, "audit log: leaves %llu to %llu are missing",
                    (unsigned long long)(want * PRB_ALOG_BLOCK),
                    (unsigned long long)(want * PRB_ALOG_BLOCK + PRB_ALOG_BLOCK - 1));
        want = b + 1;
        if (v.mv_size != expect) {
            finding(r, "audit log: leaves from %llu: block is %zu bytes, expected %zu",
                    (unsigned long long)first, v.mv_size, expect);
            continue;
        }
        memcpy(l + first * PRB_LEAF_LEN, v.mv_data, expect);
    }
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the audit log");
    for (; want < nblk; want++)
        finding(r, "audit log: leaves from %llu are missing",
                (unsigned long long)(want * PRB_ALOG_BLOCK));
    return PRB_OK;
}

/* Rebuilds every tree hash from the leaves and compares the stored ones. */
static int check_tree(struct run *r, MDB_txn *txn, const unsigned char *leaves, uint64_t size)
{
    prb_env *env = r->env;
    uint64_t full = prb_mt_pos(0, size), want = 0;
    /* What the tree stores: the subtrees of 16 leaves and more. */
    uint64_t total = prb_mt_pos(0, size >> PRB_MTREE_MIN_LEVEL);
    uint64_t nblk = (total + PRB_MTREE_BLOCK - 1) / PRB_MTREE_BLOCK;
    prb_hash32 *h = malloc((full ? full : 1) * sizeof *h), *lh = malloc((size ? size : 1) * 32);
    unsigned char *stored = malloc(total ? total * PRB_HASH_LEN : 1);
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = PRB_OK, mrc;
    if (!h || !lh || !stored) {
        rc = prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
        goto out;
    }
    prb_hash_leaves(leaves, size, lh);
    for (uint64_t i = 0; i < size; i++) {
        prb_hash32 nodes[64];
        int n = prb_mt_append(get_mem, h, i, lh[i], nodes);
        memcpy(h[prb_mt_pos(0, i)], nodes, (size_t)n * PRB_HASH_LEN);
    }
    prb_tree_stored(h, 0, 0, size, stored);
    /* The tree stores no hash of the last size % 8 leaves: the root each
     * commit keeps is what shows an edit of them. A log made before it
     * was kept has none until its next commit. */
    uint64_t rsize;
    unsigned char root[PRB_HASH_LEN], want_root[PRB_HASH_LEN];
    rc = prb_audit_root(env, txn, &rsize, root);
    if (rc == PRB_OK && rsize != size)
        finding(r, "audit log: the root kept is of %llu leaves, the log has %llu",
                (unsigned long long)rsize, (unsigned long long)size);
    else if (rc == PRB_OK &&
             (prb_mt_root(get_mem, h, size, want_root) || memcmp(root, want_root, PRB_HASH_LEN)))
        finding(r,
                "audit log: the root of the tree of %llu leaves is not the one committed with "
                "them (a leaf was altered, one of the last ones whose hashes the tree does not "
                "store, or the root)",
                (unsigned long long)size);
    else if (rc && rc != PRB_ENOTFOUND)
        goto out;
    rc = PRB_OK;
    if ((mrc = mdb_cursor_open(txn, env->mtree, &cur))) {
        rc = prb_mdb_fail(env, mrc, "reading the audit tree");
        goto out;
    }
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t b = k.mv_size == 8 ? prb_get_be64(k.mv_data) : UINT64_MAX;
        if (b >= nblk) {
            finding(r, "audit tree: a block of hashes beyond the log's size");
            continue;
        }
        for (; want < b; want++)
            finding(r, "audit tree: hashes from position %llu are missing",
                    (unsigned long long)(want * PRB_MTREE_BLOCK));
        want = b + 1;
        uint64_t first = b * PRB_MTREE_BLOCK;
        uint64_t n = total - first < PRB_MTREE_BLOCK ? total - first : PRB_MTREE_BLOCK;
        if (v.mv_size != n * PRB_HASH_LEN) {
            finding(r, "audit tree: hashes from position %llu: block is %zu bytes",
                    (unsigned long long)first, v.mv_size);
            continue;
        }
        if (!memcmp(v.mv_data, stored + first * PRB_HASH_LEN, v.mv_size))
            continue;
        for (uint64_t i = 0; i < n; i++)
            if (memcmp((const unsigned char *)v.mv_data + i * PRB_HASH_LEN,
                       stored + (first + i) * PRB_HASH_LEN, PRB_HASH_LEN)) {
                finding(r,
                        "audit tree: the hash stored at position %llu is not the one its "
                        "leaves give (a leaf or the tree was altered)",
                        (unsigned long long)(first + i));
                break;
            }
    }
    if (mrc != MDB_NOTFOUND) {
        rc = prb_mdb_fail(env, mrc, "reading the audit tree");
        goto out;
    }
    for (; want < nblk; want++)
        finding(r, "audit tree: hashes from position %llu are missing",
                (unsigned long long)(want * PRB_MTREE_BLOCK));
out:
    if (cur)
        mdb_cursor_close(cur);
    free(h);
    free(lh);
    free(stored);
    return rc;
}

/* What a leaf of kind logs, for the map: a record version (0), an
 * inquiry (1), a dispute (2), a review (3) or a key (4); -1 for what is
 * not compared with the store here. Disputes, reviews and keys were not
 * compared at all: a dispute turned from open to upheld in raw LMDB made
 * its record usable again, an admin key added so gave its holder the
 * register, and verify said ok. */
static int tag_of(unsigned kind)
{
    switch (kind) {
    case PRB_LEAF_RECORD:
    case PRB_LEAF_DELETE:
        return TAG_RECORD;
    case PRB_LEAF_INQUIRY:
        return TAG_INQUIRY;
    case PRB_LEAF_DISPUTE:
        return TAG_DISPUTE;
    case PRB_LEAF_REVIEW:
        return TAG_REVIEW;
    case PRB_LEAF_KEY:
        return TAG_KEY;
    default:
        return -1;
    }
}

/* The last word of the log on each record version, inquiry, dispute,
 * review and key. */
static int build_map(struct run *r, const unsigned char *leaves, uint64_t size, struct map *m)
{
    size_t n = 0;
    for (uint64_t i = 0; i < size; i++)
        n += tag_of(leaves[i * PRB_LEAF_LEN + 1]) >= 0;
    m->cap = 1024;
    while (m->cap < n * 2)
        m->cap <<= 1;
    if (!(m->s = calloc(m->cap, sizeof *m->s)))
        return prb_seterr(r->env->err, PRB_ENOMEM, "verify: out of memory");
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *l = leaves + i * PRB_LEAF_LEN;
        unsigned kind = l[1];
        int t = tag_of(kind);
        if (t < 0)
            continue;
        uint8_t tag = (uint8_t)t;
        uint32_t aux = (uint32_t)(l[2] << 8 | l[3]);
        struct seen *s = map_find(m, tag, prb_get_be64(l + 8), aux);
        *s = (struct seen){prb_get_be64(l + 8), aux, tag, 1, kind == PRB_LEAF_DELETE, 0, i};
    }
    return PRB_OK;
}

static void name_of(const struct seen *s, char *buf, size_t n)
{
    if (s->tag == TAG_INQUIRY)
        snprintf(buf, n, "inquiry %llu-q%llu", (unsigned long long)(s->object >> 24),
                 (unsigned long long)((uint64_t)s->aux << 24 | (s->object & 0xffffff)));
    else if (s->tag == TAG_DISPUTE)
        snprintf(buf, n, "dispute %llu", (unsigned long long)s->object);
    else if (s->tag == TAG_REVIEW)
        snprintf(buf, n, "review %llu-r%llu", (unsigned long long)(s->object >> 24),
                 (unsigned long long)(s->object & 0xffffff));
    else if (s->tag == TAG_KEY)
        snprintf(buf, n, "key %016llx", (unsigned long long)s->object);
    else
        snprintf(buf, n, "record %llu-%llu version %u",
                 (unsigned long long)(s->object >> PRB_RSEQ_BITS),
                 (unsigned long long)(s->object & PRB_RSEQ_MASK), s->aux);
}

/* One stored value against the log. */
static void check_value(struct run *r, struct map *m, const unsigned char *leaves, uint8_t tag,
                        uint64_t object, uint32_t aux, const void *v, size_t vn)
{
    char name[96];
    unsigned char h[PRB_HASH_LEN];
    struct seen *s = map_find(m, tag, object, aux);
    if (!s->used) {
        struct seen tmp = {object, aux, tag, 1, 0, 0, 0};
        name_of(&tmp, name, sizeof name);
        finding(r, "%s: stored but never logged (written behind the engine's back)", name);
        return;
    }
    s->found = 1;
    name_of(s, name, sizeof name);
    if (s->deleted) {
        finding(r, "%s: stored, but the log says it was deleted (leaf %llu)", name,
                (unsigned long long)s->leaf);
        return;
    }
    prb_sha256(v, vn, h);
    if (memcmp(h, leaves + s->leaf * PRB_LEAF_LEN + 16, PRB_HASH_LEN))
        finding(r, "%s: altered: it is not what leaf %llu logged", name,
                (unsigned long long)s->leaf);
}

static int check_store(struct run *r, MDB_txn *txn, const unsigned char *leaves, struct map *m)
{
    prb_env *env = r->env;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc;
    if ((mrc = mdb_cursor_open(txn, env->rec, &cur)))
        return prb_mdb_fail(env, mrc, "reading records");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PRB_RECKEY_LEN)
            continue;
        const unsigned char *kb = k.mv_data;
        uint64_t rid = prb_get_be64(kb);
        if (!(rid & PRB_RSEQ_MASK))
            continue; /* the subject's own entry */
        r->st.records++;
        check_value(r, m, leaves, TAG_RECORD, rid, (uint32_t)(kb[8] << 8 | kb[9]), v.mv_data,
                    v.mv_size);
    }
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading records");
    /* Disputes and reviews (keyed by their id) and keys (by their hash,
     * whose first 8 bytes are the id the leaf names): each against the
     * last leaf that logged it. */
    const struct {
        uint8_t tag;
        MDB_dbi dbi;
        size_t klen;
        const char *what;
    } tables[] = {{TAG_DISPUTE, env->dsp, 8, "reading disputes"},
                  {TAG_REVIEW, env->rvw, 8, "reading reviews"},
                  {TAG_KEY, env->keys, PRB_HASH_LEN, "reading keys"}};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        if ((mrc = mdb_cursor_open(txn, tables[t].dbi, &cur)))
            return prb_mdb_fail(env, mrc, tables[t].what);
        for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
             mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != tables[t].klen) {
                finding(r, "%s: a key of %zu bytes (written behind the engine's back)",
                        tables[t].what + 8, k.mv_size);
                continue;
            }
            check_value(r, m, leaves, tables[t].tag, prb_get_be64(k.mv_data), 0, v.mv_data,
                        v.mv_size);
        }
        mdb_cursor_close(cur);
        if (mrc != MDB_NOTFOUND)
            return prb_mdb_fail(env, mrc, tables[t].what);
    }
    /* Inquiries: each in the log against its leaf, and the index by
     * subject against the log, entry for entry, so that an inquiry cannot
     * be hidden from its subject's copy by removing or bending its index
     * entry either. The index may be a commit behind the log (iidx.c):
     * what it does not hold yet is read from the log by its readers. */
    uint64_t nlog = 0, nidx = 0, upto = 1, end = 1;
    MDB_txn *it = NULL;
    MDB_cursor *ic = NULL;
    int rc;
    if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &it)))
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    /* A malformed upto is a finding like any other (upto is then 1). */
    if ((rc = prb_iidx_upto(env, it, &upto)) == PRB_ECORRUPT)
        finding(r, "the inquiry index's upto is malformed (altered behind the engine's back)");
    else if (rc) {
        mdb_txn_abort(it);
        return rc;
    }
    if ((mrc = mdb_cursor_open(txn, env->ilog, &cur))) {
        mdb_txn_abort(it);
        return prb_mdb_fail(env, mrc, "reading inquiries");
    }
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t subject, g = k.mv_size == 8 ? prb_get_be64(k.mv_data) : 0;
        uint32_t no;
        const void *inq;
        size_t len;
        uint64_t at;
        int32_t day;
        const char *purpose;
        size_t pl;
        if (g >= end)
            end = g + 1;
        if (!g || prb_ilog_entry(v.mv_data, v.mv_size, &subject, &no, &inq, &len)) {
            finding(r, "inquiry log entry %llu: malformed (altered behind the engine's back)",
                    (unsigned long long)g);
            continue;
        }
        check_value(r, m, leaves, TAG_INQUIRY, subject << 24 | (no & 0xffffff), no >> 24, inq, len);
        if (g >= upto)
            continue; /* not indexed yet */
        nlog++;
        /* The log's value starts with the inquiry's key in the index. */
        MDB_val ik = {PRB_INQ_KEY_LEN, v.mv_data}, iv;
        int irc = mdb_get(it, env->iidx, &ik, &iv);
        if (irc && irc != MDB_NOTFOUND) {
            mdb_cursor_close(cur);
            mdb_txn_abort(it);
            return prb_mdb_fail(env, irc, "reading the inquiry index");
        }
        if (irc || prb_iidx_value(iv.mv_data, iv.mv_size, &at, &day, &purpose, &pl) || at != g)
            finding(r,
                    "decision %llu-q%u: the index by subject does not lead to its place in the "
                    "inquiry log (altered behind the engine's back)",
                    (unsigned long long)subject, no);
    }
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND) {
        mdb_txn_abort(it);
        return prb_mdb_fail(env, mrc, "reading inquiries");
    }
    /* Entries the log does not hold (a commit after this snapshot's, or
     * added behind the engine's back) are counted against it. */
    if ((mrc = mdb_cursor_open(it, env->iidx, &ic))) {
        mdb_txn_abort(it);
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    }
    for (mrc = mdb_cursor_get(ic, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(ic, &k, &v, MDB_NEXT)) {
        uint64_t at;
        int32_t day;
        const char *purpose;
        size_t pl;
        if (prb_iidx_value(v.mv_data, v.mv_size, &at, &day, &purpose, &pl) || at < end)
            nidx++;
    }
    mdb_cursor_close(ic);
    mdb_txn_abort(it);
    if (mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    if (nidx != nlog)
        finding(r,
                "the index of inquiries by subject has %llu entries, the inquiry log %llu "
                "(altered behind the engine's back)",
                (unsigned long long)nidx, (unsigned long long)nlog);
    for (size_t i = 0; i < m->cap; i++) {
        struct seen *s = &m->s[i];
        char name[96];
        if (!s->used || s->deleted || s->found)
            continue;
        name_of(s, name, sizeof name);
        finding(r,
                "%s: logged at leaf %llu but missing from the store (removed behind the "
                "engine's back)",
                name, (unsigned long long)s->leaf);
    }
    return PRB_OK;
}

/* The index of notices by subject against the outbox, both ways, so that
 * a notice cannot be hidden from its subject's copy by removing or
 * bending its index entry. Notices from nupto on are not indexed yet. */
static int check_notice_index(struct run *r, MDB_txn *txn)
{
    prb_env *env = r->env;
    uint64_t upto = 1, end = 1, nout = 0, nidx = 0;
    MDB_txn *it = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc, mrc;
    if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &it)))
        return prb_mdb_fail(env, mrc, "reading the notice index");
    if ((rc = prb_nidx_upto(env, it, &upto)) == PRB_ECORRUPT)
        finding(r, "the notice index's upto is malformed (altered behind the engine's back)");
    else if (rc)
        goto out;
    rc = PRB_OK;
    if ((mrc = mdb_cursor_open(txn, env->outbox, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t no = k.mv_size == 8 ? prb_get_be64(k.mv_data) : 0;
        if (no >= end)
            end = no + 1;
        if (!no || v.mv_size < 8) {
            finding(r, "notice %llu: malformed (altered behind the engine's back)",
                    (unsigned long long)no);
            continue;
        }
        if (no >= upto)
            continue; /* not indexed yet */
        nout++;
        unsigned char nk[PRB_NIDX_KEY_LEN];
        prb_nidx_key(nk, prb_get_be64(v.mv_data), no);
        MDB_val ik = {PRB_NIDX_KEY_LEN, nk}, iv;
        int irc = mdb_get(it, env->nidx, &ik, &iv);
        if (irc && irc != MDB_NOTFOUND) {
            mrc = irc;
            goto fail;
        }
        if (irc)
            finding(r,
                    "notice %llu: missing from the index of notices by subject (altered behind "
                    "the engine's back)",
                    (unsigned long long)no);
    }
    if (mrc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    cur = NULL;
    /* Entries the outbox does not hold (a commit after this snapshot's,
     * or added behind the engine's back) are counted against it. */
    if ((mrc = mdb_cursor_open(it, env->nidx, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (k.mv_size != PRB_NIDX_KEY_LEN ||
            prb_get_be64((const unsigned char *)k.mv_data + 8) < end)
            nidx++;
    if (mrc != MDB_NOTFOUND)
        goto fail;
    if (nidx != nout)
        finding(r,
                "the index of notices by subject has %llu entries, the outbox %llu (altered "
                "behind the engine's back)",
                (unsigned long long)nidx, (unsigned long long)nout);
    goto out;
fail:
    rc = prb_mdb_fail(env, mrc, "checking the notice index");
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(it);
    return rc;
}

int prb_verify(prb_env *env, prb_write_fn report, void *ctx, prb_verify_stats *st)
{
    struct run r = {env, report, ctx, {0, 0, 0}, 0};
    struct map m = {NULL, 0};
    unsigned char *leaves = NULL;
    MDB_txn *txn;
    uint64_t size;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((rc = prb_audit_size(env, txn, &size)) || (rc = read_leaves(&r, txn, size, &leaves)) ||
        (rc = check_tree(&r, txn, leaves, size)) || (rc = build_map(&r, leaves, size, &m)) ||
        (rc = check_store(&r, txn, leaves, &m)) || (rc = check_notice_index(&r, txn)))
        goto out;
    r.st.leaves = size;
    if (r.st.problems)
        rc = prb_seterr(env->err, PRB_ECORRUPT, "%s: verify found %llu problem%s", env->dir,
                        (unsigned long long)r.st.problems, r.st.problems == 1 ? "" : "s");
out:
    mdb_txn_abort(txn);
    free(leaves);
    free(m.s);
    if (st)
        *st = r.st;
    return rc;
}
