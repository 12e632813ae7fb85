/*
 * merkle.c - RFC 9162 Merkle tree hashes, inclusion and consistency proofs
 * over post-order storage (see merkle.h).
 *
 * Nothing here rehashes leaves. Every hash the RFC's recursions name is a
 * complete subtree, read with one get, or a range ending at the tree's
 * size, folded from the at most log2(n) complete subtrees its size's bits
 * give. An inclusion proof in a tree of a million leaves is twenty gets
 * and a handful of node hashes.
 */
#include "merkle.h"

#include "probity.h"

#include <assert.h>
#include <string.h>

uint64_t prb_mt_pos(unsigned level, uint64_t index)
{
    /* The subtree is stored right after its last leaf and the level - 1
     * subtrees below it that the same leaf completes. Leaf m sits after
     * the 2m - popcount(m) hashes of the complete subtrees of leaves
     * before it. */
    uint64_t last = ((index + 1) << level) - 1;
    return 2 * last - (uint64_t)__builtin_popcountll(last) + level;
}

int prb_mt_append(prb_mt_get_fn get, void *ctx, uint64_t n, const unsigned char leaf[PRB_HASH_LEN],
                  prb_hash32 out[64])
{
    int k = 0;
    memcpy(out[k++], leaf, PRB_HASH_LEN);
    for (unsigned level = 0; n & 1; level++, n >>= 1) {
        unsigned char left[PRB_HASH_LEN];
        int rc = get(ctx, prb_mt_pos(level, n - 1), left);
        if (rc)
            return -rc;
        prb_sha256_node(left, out[k - 1], out[k]);
        k++;
    }
    return k;
}

/* floor(log2(x)) for x > 0. */
static unsigned ilog2(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/* The RFC's k: the largest power of two smaller than s, for s >= 2. */
static uint64_t split(uint64_t s)
{
    return (uint64_t)1 << ilog2(s - 1);
}

/* out = HASH(0x01 || l || r); out may be l or r. */
static void node(const unsigned char l[PRB_HASH_LEN], const unsigned char r[PRB_HASH_LEN],
                 unsigned char out[PRB_HASH_LEN])
{
    unsigned char h[PRB_HASH_LEN];
    prb_sha256_node(l, r, h);
    memcpy(out, h, PRB_HASH_LEN);
}

/* The positions of a tree of more than 2^63 leaves do not fit in 64 bits. */
#define MT_MAXLEAVES ((uint64_t)1 << 63)

int prb_mt_range(prb_mt_get_fn get, void *ctx, uint64_t lo, uint64_t hi,
                 unsigned char out[PRB_HASH_LEN])
{
    if (!out)
        return PRB_EINVAL;
    if (lo == 0 && hi == 0) {
        prb_sha256("", 0, out);
        return PRB_OK;
    }
    if (!get || lo >= hi || hi > MT_MAXLEAVES)
        return PRB_EINVAL;
    uint64_t size = hi - lo;
    if (lo & (((uint64_t)1 << ilog2(size)) - 1))
        return PRB_EINVAL;

    /* The range is the complete subtrees of the set bits of its size,
     * largest (leftmost) first, and the RFC's split nests them to the
     * right: MTH = node(t1, node(t2, ... node(tj-1, tj))). So fold from
     * the smallest, rightmost one. */
    unsigned char acc[PRB_HASH_LEN], h[PRB_HASH_LEN];
    int first = 1;
    for (uint64_t rest = size; rest; rest &= rest - 1) {
        unsigned level = (unsigned)__builtin_ctzll(rest);
        uint64_t start = lo + (rest & (rest - 1));
        int rc = get(ctx, prb_mt_pos(level, start >> level), first ? acc : h);
        if (rc)
            return rc;
        if (!first)
            node(h, acc, acc);
        first = 0;
    }
    memcpy(out, acc, PRB_HASH_LEN);
    return PRB_OK;
}

int prb_mt_root(prb_mt_get_fn get, void *ctx, uint64_t n, unsigned char out[PRB_HASH_LEN])
{
    return prb_mt_range(get, ctx, 0, n, out);
}

/* The RFC writes both proofs root-last ("PATH(m, D[0:k]) : MTH(D[k:n])");
 * they are built root-first here, descending, and turned round at the
 * end. */
static void reverse(prb_hash32 *path, size_t len)
{
    for (size_t i = 0, j = len; i + 1 < j; i++, j--) {
        prb_hash32 t;
        memcpy(t, path[i], PRB_HASH_LEN);
        memcpy(path[i], path[j - 1], PRB_HASH_LEN);
        memcpy(path[j - 1], t, PRB_HASH_LEN);
    }
}

/* The hash of the complete subtree of `leaves` (a power of two) leaves
 * starting at leaf lo. */
static int subtree(prb_mt_get_fn get, void *ctx, uint64_t lo, uint64_t leaves,
                   unsigned char out[PRB_HASH_LEN])
{
    unsigned level = ilog2(leaves);
    return get(ctx, prb_mt_pos(level, lo >> level), out);
}

/*
 * Both proofs descend from the root of D[0:n] through nodes D[lo:hi]. Until
 * the descent first goes left, hi is n and the node's right child D[lo+k:n]
 * is a right edge (prb_mt_range folds its log2 pieces); from then on every
 * node is a complete subtree and each sibling is one stored hash. So a
 * proof costs one get per element and at most one right-edge fold.
 */
int prb_mt_inclusion(prb_mt_get_fn get, void *ctx, uint64_t m, uint64_t n,
                     prb_hash32 path[PRB_MT_MAXPATH], size_t *len)
{
    if (!len)
        return PRB_EINVAL;
    *len = 0;
    if (!get || !path || m >= n || n > MT_MAXLEAVES)
        return PRB_EINVAL;

    uint64_t lo = 0, hi = n;
    size_t count = 0;
    while (hi - lo > 1) {
        uint64_t k = split(hi - lo);
        int rc;
        assert(count < PRB_MT_MAXPATH);
        if (m < lo + k) {
            rc = prb_mt_range(get, ctx, lo + k, hi, path[count]);
            hi = lo + k;
        } else {
            rc = subtree(get, ctx, lo, k, path[count]);
            lo += k;
        }
        if (rc)
            return rc;
        count++;
    }
    reverse(path, count);
    *len = count;
    return PRB_OK;
}

/* SUBPROOF(m, D[lo:hi], b): b stays true while the descent has only gone
 * left, i.e. while D[lo:hi] could still be the old tree itself, whose
 * hash the verifier already holds. */
int prb_mt_consistency(prb_mt_get_fn get, void *ctx, uint64_t m, uint64_t n,
                       prb_hash32 path[PRB_MT_MAXPATH], size_t *len)
{
    if (!len)
        return PRB_EINVAL;
    *len = 0;
    if (!get || !path || m == 0 || m > n || n > MT_MAXLEAVES)
        return PRB_EINVAL;
    if (m == n)
        return PRB_OK;

    uint64_t lo = 0, hi = n;
    int b = 1;
    size_t count = 0;
    for (;;) {
        int rc;
        assert(count < PRB_MT_MAXPATH);
        if (m - lo == hi - lo) {
            /* Reached only after going left once (m < n), so D[lo:hi] is
             * a complete subtree. */
            if (b)
                break;
            assert(((hi - lo) & (hi - lo - 1)) == 0);
            rc = subtree(get, ctx, lo, hi - lo, path[count]);
            if (rc)
                return rc;
            count++;
            break;
        }
        uint64_t k = split(hi - lo);
        if (m - lo <= k) {
            rc = prb_mt_range(get, ctx, lo + k, hi, path[count]);
            hi = lo + k;
        } else {
            rc = subtree(get, ctx, lo, k, path[count]);
            lo += k;
            b = 0;
        }
        if (rc)
            return rc;
        count++;
    }
    reverse(path, count);
    *len = count;
    return PRB_OK;
}

/* Both verifiers follow the RFC's steps; the bit arithmetic walks up from
 * the leaf (or from the old tree's last complete subtree), and fn == sn
 * marks the right edge, where a node may have no right sibling and the
 * walk skips levels. */
int prb_mt_verify_inclusion(const unsigned char leaf[PRB_HASH_LEN], uint64_t m, uint64_t n,
                            const prb_hash32 *path, size_t len,
                            const unsigned char root[PRB_HASH_LEN])
{
    if (!leaf || !root || (len && !path) || len > PRB_MT_MAXPATH || m >= n)
        return 0;
    uint64_t fn = m, sn = n - 1;
    unsigned char r[PRB_HASH_LEN];
    memcpy(r, leaf, PRB_HASH_LEN);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            node(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, PRB_HASH_LEN) == 0;
}

int prb_mt_verify_consistency(uint64_t m, uint64_t n, const prb_hash32 *path, size_t len,
                              const unsigned char root_m[PRB_HASH_LEN],
                              const unsigned char root_n[PRB_HASH_LEN])
{
    if (!root_m || !root_n || (len && !path) || len > PRB_MT_MAXPATH || m == 0 || m > n)
        return 0;
    /* PROOF(n, D[n]) is empty (section 2.1.4.1); the RFC's verifier starts
     * at m < n, so equal sizes are settled here. */
    if (m == n)
        return len == 0 && memcmp(root_m, root_n, PRB_HASH_LEN) == 0;
    if (len == 0)
        return 0;

    /* When m is a power of two the old tree is a complete subtree of the
     * new one and the proof leaves out its hash: the RFC prepends
     * first_hash. Here the first value is taken from root_m instead. */
    size_t i = 0;
    const unsigned char *first = (m & (m - 1)) == 0 ? root_m : path[i++];
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[PRB_HASH_LEN], sr[PRB_HASH_LEN];
    memcpy(fr, first, PRB_HASH_LEN);
    memcpy(sr, first, PRB_HASH_LEN);
    for (; i < len; i++) {
        const unsigned char *c = path[i];
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            node(c, fr, fr);
            node(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, PRB_HASH_LEN) == 0 &&
           memcmp(sr, root_n, PRB_HASH_LEN) == 0;
}
