/*
 * merkle.h - the Merkle tree of RFC 9162 (section 2.1) over a log that only
 * grows, with every complete subtree's hash stored once.
 *
 * Storage order is post-order: when leaf n is appended its hash is stored,
 * then the hash of every subtree that leaf completes, lowest first. So the
 * hashes of a log only ever append, and the subtree of level l (2^l
 * leaves) and index i (its first leaf is i * 2^l) sits at
 * prb_mt_pos(l, i). A tree of n leaves has prb_mt_pos(0, n) stored hashes.
 *
 * Any hash the RFC's algorithms need is either such a complete subtree or
 * the hash of a range ending at the tree's size, which is built from at
 * most log2(n) complete ones. Reading stored hashes goes through a
 * callback, so the same code serves LMDB, a test's array and a verifier.
 */
#ifndef PRB_MERKLE_H
#define PRB_MERKLE_H

#include "sha256.h"

#include <stddef.h>
#include <stdint.h>

/* Longest inclusion or consistency proof for trees of up to 2^63 leaves. */
#define PRB_MT_MAXPATH 128

typedef unsigned char prb_hash32[PRB_HASH_LEN];

/* Reads the stored hash at post-order position pos into out; returns 0 or
 * a PRB_E* code (which the prb_mt_* functions return unchanged). */
typedef int (*prb_mt_get_fn)(void *ctx, uint64_t pos, unsigned char out[PRB_HASH_LEN]);

/* Post-order position of the complete subtree of level l and index i. */
uint64_t prb_mt_pos(unsigned level, uint64_t index);

/* The hashes appending leaf n (0-based; the tree had n leaves) stores, in
 * order: out[0] is leaf, then the subtrees it completes. get reads the
 * left siblings (already stored). Returns how many were written (at most
 * 64), or -(PRB_E* code) on a read failure. */
int prb_mt_append(prb_mt_get_fn get, void *ctx, uint64_t n, const unsigned char leaf[PRB_HASH_LEN],
                  prb_hash32 out[64]);

/* MTH(D[lo:hi]) for 0 <= lo < hi <= the stored tree's size, where [lo, hi)
 * is a range the RFC's recursion produces (lo a multiple of the largest
 * power of two not above hi - lo, as every subtree and every right edge
 * is). Root of a tree of size n: prb_mt_range(get, ctx, 0, n, out). The
 * empty tree's root (n = 0) is SHA-256 of the empty string. */
int prb_mt_range(prb_mt_get_fn get, void *ctx, uint64_t lo, uint64_t hi,
                 unsigned char out[PRB_HASH_LEN]);
int prb_mt_root(prb_mt_get_fn get, void *ctx, uint64_t n, unsigned char out[PRB_HASH_LEN]);

/* PATH(m, D[0:n]) of RFC 9162 section 2.1.3.1, m < n: *len hashes into
 * path, in the order the RFC gives them. PRB_EINVAL if m >= n. */
int prb_mt_inclusion(prb_mt_get_fn get, void *ctx, uint64_t m, uint64_t n,
                     prb_hash32 path[PRB_MT_MAXPATH], size_t *len);

/* PROOF(m, D[0:n]) of section 2.1.4.1, 0 < m <= n. PRB_EINVAL otherwise. */
int prb_mt_consistency(prb_mt_get_fn get, void *ctx, uint64_t m, uint64_t n,
                       prb_hash32 path[PRB_MT_MAXPATH], size_t *len);

/* The verification algorithms of sections 2.1.3.2 and 2.1.4.2. Return 1
 * when the proof holds, 0 when it does not (including malformed input). */
int prb_mt_verify_inclusion(const unsigned char leaf[PRB_HASH_LEN], uint64_t m, uint64_t n,
                            const prb_hash32 *path, size_t len,
                            const unsigned char root[PRB_HASH_LEN]);
int prb_mt_verify_consistency(uint64_t m, uint64_t n, const prb_hash32 *path, size_t len,
                              const unsigned char root_m[PRB_HASH_LEN],
                              const unsigned char root_n[PRB_HASH_LEN]);

#endif
