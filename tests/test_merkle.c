/*
 * test_merkle.c - the RFC 9162 Merkle tree over post-order storage
 * (merkle.c).
 *
 * The library builds every hash from stored complete subtrees; this file
 * holds a second, naive implementation written straight from the RFC's
 * definitions (MTH, PATH, PROOF/SUBPROOF of sections 2.1.1, 2.1.3.1 and
 * 2.1.4.1, recursing on lists of leaf data and rehashing everything), and
 * verifiers that replay those recursions instead of the RFC's bit
 * arithmetic. Every tree size up to NLEAVES is compared against it. The
 * reference vectors are those of the Certificate Transparency test suites
 * (transparency-dev/merkle, proof/verify_test.go: leaves, roots of sizes
 * 1..8, inclusion and consistency proofs).
 */
#include <criterion/criterion.h>

#include <probity.h>

#include "merkle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NLEAVES 140
#define HL PRB_HASH_LEN

/* cr_assert reports every passing check to the runner (about 10 us each),
 * which the millions of checks below cannot afford; expect only speaks
 * when the check fails. */
#define expect(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            cr_assert_fail(__VA_ARGS__);                                                           \
    } while (0)

/* ------------------------------------------------------------ leaf data */

typedef struct datum {
    const unsigned char *p;
    size_t n;
} datum;

static char leaf_text[NLEAVES][16];
static datum leaves[NLEAVES];

static void make_leaves(void)
{
    for (int i = 0; i < NLEAVES; i++) {
        int len = snprintf(leaf_text[i], sizeof leaf_text[i], "leaf-%d", i);
        leaves[i].p = (const unsigned char *)leaf_text[i];
        leaves[i].n = (size_t)len;
    }
}

/* ------------------------------------------- the RFC, naively (2.1.1 ff.) */

static void naive_leaf(const datum *d, unsigned char out[HL])
{
    unsigned char buf[256];
    expect(d->n < sizeof buf, "leaf of %zu bytes", d->n);
    buf[0] = 0x00;
    memcpy(buf + 1, d->p, d->n);
    prb_sha256(buf, d->n + 1, out);
}

static void naive_node(const unsigned char l[HL], const unsigned char r[HL], unsigned char out[HL])
{
    unsigned char buf[1 + 2 * HL];
    buf[0] = 0x01;
    memcpy(buf + 1, l, HL);
    memcpy(buf + 1 + HL, r, HL);
    prb_sha256(buf, sizeof buf, out);
}

/* k: the largest power of two smaller than n (n > 1). */
static uint64_t naive_k(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) /* 2k < n, without overflowing near 2^64 */
        k *= 2;
    return k;
}

/* MTH(D[n]). */
static void naive_mth(const datum *d, uint64_t n, unsigned char out[HL])
{
    if (n == 0) {
        prb_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        naive_leaf(d, out);
        return;
    }
    uint64_t k = naive_k(n);
    unsigned char l[HL], r[HL];
    naive_mth(d, k, l);
    naive_mth(d + k, n - k, r);
    naive_node(l, r, out);
}

/* PATH(m, D[n]) into out; returns its length. */
static size_t naive_path(uint64_t m, const datum *d, uint64_t n, prb_hash32 *out)
{
    if (n == 1)
        return 0;
    uint64_t k = naive_k(n);
    size_t c;
    if (m < k) {
        c = naive_path(m, d, k, out);
        naive_mth(d + k, n - k, out[c]);
    } else {
        c = naive_path(m - k, d + k, n - k, out);
        naive_mth(d, k, out[c]);
    }
    return c + 1;
}

/* SUBPROOF(m, D[n], b) into out; returns its length. */
static size_t naive_subproof(uint64_t m, const datum *d, uint64_t n, int b, prb_hash32 *out)
{
    if (m == n) {
        if (b)
            return 0;
        naive_mth(d, n, out[0]);
        return 1;
    }
    uint64_t k = naive_k(n);
    size_t c;
    if (m <= k) {
        c = naive_subproof(m, d, k, b, out);
        naive_mth(d + k, n - k, out[c]);
    } else {
        c = naive_subproof(m - k, d + k, n - k, 0, out);
        naive_mth(d, k, out[c]);
    }
    return c + 1;
}

/* PROOF(m, D[n]). */
static size_t naive_proof(uint64_t m, const datum *d, uint64_t n, prb_hash32 *out)
{
    return naive_subproof(m, d, n, 1, out);
}

/*
 * The shape of a proof: which side each element goes on, top down, as the
 * recursions above choose it. A verifier sees only the sizes it is given,
 * so a proof for (m, n) also verifies for any (m', n') of the same shape;
 * that is RFC 9162's design (the signed tree head binds the size to the
 * root), not a defect, and the tampering tests allow exactly that.
 */
static void path_shape(uint64_t m, uint64_t n, char *s)
{
    while (n > 1) {
        uint64_t k = naive_k(n);
        if (m < k) {
            *s++ = 'l';
            n = k;
        } else {
            *s++ = 'r';
            m -= k;
            n -= k;
        }
    }
    *s = 0;
}

static void proof_shape(uint64_t m, uint64_t n, char *s)
{
    int b = 1;
    while (m != n) {
        uint64_t k = naive_k(n);
        if (m <= k) {
            *s++ = 'l';
            n = k;
        } else {
            *s++ = 'r';
            m -= k;
            n -= k;
            b = 0;
        }
    }
    *s++ = b ? 'i' : 't';
    *s = 0;
}

static int same_path_shape(uint64_t m1, uint64_t n1, uint64_t m2, uint64_t n2)
{
    char a[200], b[200];
    if (m1 >= n1 || m2 >= n2)
        return 0;
    path_shape(m1, n1, a);
    path_shape(m2, n2, b);
    return strcmp(a, b) == 0;
}

static int same_proof_shape(uint64_t m1, uint64_t n1, uint64_t m2, uint64_t n2)
{
    char a[200], b[200];
    if (m1 == 0 || m1 > n1 || m2 == 0 || m2 > n2)
        return 0;
    proof_shape(m1, n1, a);
    proof_shape(m2, n2, b);
    return strcmp(a, b) == 0;
}

/* ------------------------------------------ verifiers that replay the RFC */

/* MTH(D[n]) from leaf m's hash and PATH(m, D[n]), read from its end (the
 * root's sibling is last). 0 if the path runs out. */
static int tv_incl_root(uint64_t m, uint64_t n, const unsigned char leaf[HL],
                        const prb_hash32 *path, size_t *left, unsigned char out[HL])
{
    if (n == 1) {
        memcpy(out, leaf, HL);
        return 1;
    }
    if (*left == 0)
        return 0;
    const unsigned char *sib = path[--*left];
    uint64_t k = naive_k(n);
    unsigned char sub[HL];
    if (m < k) {
        if (!tv_incl_root(m, k, leaf, path, left, sub))
            return 0;
        naive_node(sub, sib, out);
    } else {
        if (!tv_incl_root(m - k, n - k, leaf, path, left, sub))
            return 0;
        naive_node(sib, sub, out);
    }
    return 1;
}

static int tv_verify_inclusion(const unsigned char leaf[HL], uint64_t m, uint64_t n,
                               const prb_hash32 *path, size_t len, const unsigned char root[HL])
{
    unsigned char r[HL];
    size_t left = len;
    if (m >= n || !tv_incl_root(m, n, leaf, path, &left, r))
        return 0;
    return left == 0 && memcmp(r, root, HL) == 0;
}

/* SUBPROOF(m, D[n], b) read from its end: the hash of the old tree's part
 * of D[n] (old) and of D[n] itself (cur). */
static int tv_sub(uint64_t m, uint64_t n, int b, const unsigned char root_m[HL],
                  const prb_hash32 *path, size_t *left, unsigned char old[HL],
                  unsigned char cur[HL])
{
    if (m == n && b) {
        memcpy(old, root_m, HL);
        memcpy(cur, root_m, HL);
        return 1;
    }
    if (*left == 0)
        return 0;
    const unsigned char *e = path[--*left];
    if (m == n) {
        memcpy(old, e, HL);
        memcpy(cur, e, HL);
        return 1;
    }
    uint64_t k = naive_k(n);
    unsigned char o[HL], c[HL];
    if (m <= k) {
        if (!tv_sub(m, k, b, root_m, path, left, o, c))
            return 0;
        memcpy(old, o, HL);
        naive_node(c, e, cur);
    } else {
        if (!tv_sub(m - k, n - k, 0, root_m, path, left, o, c))
            return 0;
        naive_node(e, o, old);
        naive_node(e, c, cur);
    }
    return 1;
}

static int tv_verify_consistency(uint64_t m, uint64_t n, const prb_hash32 *path, size_t len,
                                 const unsigned char root_m[HL], const unsigned char root_n[HL])
{
    unsigned char old[HL], cur[HL];
    size_t left = len;
    if (m == 0 || m > n || !tv_sub(m, n, 1, root_m, path, &left, old, cur))
        return 0;
    return left == 0 && memcmp(old, root_m, HL) == 0 && memcmp(cur, root_n, HL) == 0;
}

/* ----------------------------------------------------- post-order store */

/* A log's stored hashes in an array. limit is the number of hashes of the
 * tree being asked about: reading past it would mean the library used a
 * hash the tree of that size does not have. fail_at makes the call of
 * that number (0-based) fail with fail_rc, and only that one. */
typedef struct store {
    prb_hash32 *h;
    uint64_t count; /* hashes stored */
    uint64_t leaves;
    uint64_t limit;
    long calls;
    long fail_at;
    int fail_rc;
} store;

static int store_get(void *ctx, uint64_t pos, unsigned char out[HL])
{
    store *s = ctx;
    long call = s->calls++;
    if (call == s->fail_at)
        return s->fail_rc;
    expect(pos < s->limit, "read position %llu of a tree with %llu hashes", (unsigned long long)pos,
           (unsigned long long)s->limit);
    memcpy(out, s->h[pos], HL);
    return 0;
}

static void store_append(store *s, const datum *d)
{
    prb_hash32 out[64];
    unsigned char leaf[HL];
    uint64_t n = s->leaves;
    naive_leaf(d, leaf);
    s->limit = s->count;
    int k = prb_mt_append(store_get, s, n, leaf, out);
    cr_assert_gt(k, 0, "append of leaf %llu: %d", (unsigned long long)n, k);
    s->h = realloc(s->h, (size_t)(s->count + (uint64_t)k) * sizeof *s->h);
    cr_assert_not_null(s->h);
    memcpy(s->h + s->count, out, (size_t)k * sizeof *out);
    s->count += (uint64_t)k;
    s->leaves++;
}

static store build(const datum *d, int n)
{
    store s = {.fail_at = -1};
    for (int i = 0; i < n; i++)
        store_append(&s, &d[i]);
    return s;
}

/* Sizes the store to the tree of n leaves and clears the counters. */
static void tree_of(store *s, uint64_t n)
{
    s->limit = prb_mt_pos(0, n);
    expect(s->limit <= s->count, "tree larger than the store");
    s->calls = 0;
    s->fail_at = -1;
}

static void hex(const unsigned char *h, char out[2 * HL + 1])
{
    for (int i = 0; i < HL; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void assert_hash_eq(const unsigned char *got, const unsigned char *want, const char *what,
                           uint64_t a, uint64_t b)
{
    if (memcmp(got, want, HL) != 0) {
        char g[2 * HL + 1], w[2 * HL + 1];
        hex(got, g);
        hex(want, w);
        cr_assert_fail("%s (%llu, %llu): got %s, want %s", what, (unsigned long long)a,
                       (unsigned long long)b, g, w);
    }
}

/* ---------------------------------------------- against the naive RFC */

Test(merkle, root_matches_mth)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    unsigned char got[HL], want[HL];
    for (uint64_t n = 0; n <= NLEAVES; n++) {
        tree_of(&s, n);
        expect(prb_mt_root(store_get, &s, n, got) == PRB_OK, "root of %llu", (unsigned long long)n);
        naive_mth(leaves, n, want);
        assert_hash_eq(got, want, "root", n, n);
    }
    free(s.h);
}

Test(merkle, range_matches_mth)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    unsigned char got[HL], want[HL];
    for (uint64_t hi = 1; hi <= NLEAVES; hi++) {
        tree_of(&s, hi);
        for (uint64_t lo = 0; lo < hi; lo++) {
            uint64_t p = 1;
            while (2 * p <= hi - lo)
                p *= 2;
            int rc = prb_mt_range(store_get, &s, lo, hi, got);
            if (lo % p) {
                expect(rc == PRB_EINVAL, "range [%llu, %llu) is not one the RFC makes",
                       (unsigned long long)lo, (unsigned long long)hi);
                continue;
            }
            expect(rc == PRB_OK, "range [%llu, %llu): %d", (unsigned long long)lo,
                   (unsigned long long)hi, rc);
            naive_mth(leaves + lo, hi - lo, want);
            assert_hash_eq(got, want, "range", lo, hi);
        }
    }
    free(s.h);
}

Test(merkle, inclusion_matches_path)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    prb_hash32 got[PRB_MT_MAXPATH], want[PRB_MT_MAXPATH];
    unsigned char root[HL], leaf[HL];
    for (uint64_t n = 1; n <= NLEAVES; n++) {
        naive_mth(leaves, n, root);
        for (uint64_t m = 0; m < n; m++) {
            size_t len = 99, wlen = naive_path(m, leaves, n, want);
            tree_of(&s, n);
            expect(prb_mt_inclusion(store_get, &s, m, n, got, &len) == PRB_OK,
                   "PATH(%llu, D[%llu])", (unsigned long long)m, (unsigned long long)n);
            expect(len == wlen, "PATH(%llu, D[%llu]): %zu hashes, want %zu", (unsigned long long)m,
                   (unsigned long long)n, len, wlen);
            for (size_t i = 0; i < len; i++)
                assert_hash_eq(got[i], want[i], "PATH element", m, n);
            naive_leaf(&leaves[m], leaf);
            expect(prb_mt_verify_inclusion(leaf, m, n, got, len, root), "library rejects %llu/%llu",
                   (unsigned long long)m, (unsigned long long)n);
            expect(tv_verify_inclusion(leaf, m, n, got, len, root), "test rejects %llu/%llu",
                   (unsigned long long)m, (unsigned long long)n);
        }
    }
    free(s.h);
}

Test(merkle, consistency_matches_proof)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    prb_hash32 got[PRB_MT_MAXPATH], want[PRB_MT_MAXPATH];
    unsigned char roots[NLEAVES + 1][HL];
    for (uint64_t n = 0; n <= NLEAVES; n++)
        naive_mth(leaves, n, roots[n]);
    for (uint64_t n = 1; n <= NLEAVES; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            size_t len = 99, wlen = naive_proof(m, leaves, n, want);
            tree_of(&s, n);
            expect(prb_mt_consistency(store_get, &s, m, n, got, &len) == PRB_OK,
                   "PROOF(%llu, D[%llu])", (unsigned long long)m, (unsigned long long)n);
            expect(len == wlen, "PROOF(%llu, D[%llu]): %zu hashes, want %zu", (unsigned long long)m,
                   (unsigned long long)n, len, wlen);
            for (size_t i = 0; i < len; i++)
                assert_hash_eq(got[i], want[i], "PROOF element", m, n);
            expect(prb_mt_verify_consistency(m, n, got, len, roots[m], roots[n]),
                   "library rejects %llu -> %llu", (unsigned long long)m, (unsigned long long)n);
            expect(tv_verify_consistency(m, n, got, len, roots[m], roots[n]),
                   "test rejects %llu -> %llu", (unsigned long long)m, (unsigned long long)n);
        }
    }
    free(s.h);
}

/* ------------------------------------------------------------ tampering */

/* Both verifiers must give want. */
static void incl_expect(const unsigned char leaf[HL], uint64_t m, uint64_t n,
                        const prb_hash32 *path, size_t len, const unsigned char root[HL], int want,
                        const char *what)
{
    int lib = prb_mt_verify_inclusion(leaf, m, n, path, len, root);
    int tv = tv_verify_inclusion(leaf, m, n, path, len, root);
    expect(lib == want, "library verifier: %s (%llu, %llu): %d, want %d", what,
           (unsigned long long)m, (unsigned long long)n, lib, want);
    expect(tv == want, "test verifier: %s (%llu, %llu): %d, want %d", what, (unsigned long long)m,
           (unsigned long long)n, tv, want);
}

static void cons_expect(uint64_t m, uint64_t n, const prb_hash32 *path, size_t len,
                        const unsigned char rm[HL], const unsigned char rn[HL], int want,
                        const char *what)
{
    int lib = prb_mt_verify_consistency(m, n, path, len, rm, rn);
    int tv = tv_verify_consistency(m, n, path, len, rm, rn);
    expect(lib == want, "library verifier: %s (%llu -> %llu): %d, want %d", what,
           (unsigned long long)m, (unsigned long long)n, lib, want);
    expect(tv == want, "test verifier: %s (%llu -> %llu): %d, want %d", what, (unsigned long long)m,
           (unsigned long long)n, tv, want);
}

static const unsigned char junk[HL] = {0xab, 0xac, 0xab, 0xa0, 0x60, 0x06, 0x1e};

Test(merkle, tampered_inclusion_rejected)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    unsigned char roots[2 * NLEAVES + 1][HL];
    for (uint64_t n = 0; n <= NLEAVES; n++)
        naive_mth(leaves, n, roots[n]);
    prb_hash32 path[PRB_MT_MAXPATH], bad[PRB_MT_MAXPATH + 1];
    unsigned char leaf[HL];
    for (uint64_t n = 1; n <= NLEAVES; n++) {
        for (uint64_t m = 0; m < n; m++) {
            size_t len;
            tree_of(&s, n);
            expect(prb_mt_inclusion(store_get, &s, m, n, path, &len) == PRB_OK,
                   "inclusion %llu/%llu", (unsigned long long)m, (unsigned long long)n);
            naive_leaf(&leaves[m], leaf);
            const unsigned char *root = roots[n];

            for (size_t i = 0; i < len; i++) {
                memcpy(bad, path, len * sizeof *path);
                bad[i][i % HL] ^= 0x08;
                incl_expect(leaf, m, n, bad, len, root, 0, "flipped byte");
            }
            if (len > 0) {
                incl_expect(leaf, m, n, path, len - 1, root, 0, "last element dropped");
                incl_expect(leaf, m, n, path + 1, len - 1, root, 0, "first element dropped");
            }
            memcpy(bad, path, len * sizeof *path);
            memcpy(bad[len], junk, HL);
            incl_expect(leaf, m, n, bad, len + 1, root, 0, "element appended");
            memcpy(bad[len], root, HL);
            incl_expect(leaf, m, n, bad, len + 1, root, 0, "root appended");
            memcpy(bad[0], junk, HL);
            memcpy(bad + 1, path, len * sizeof *path);
            incl_expect(leaf, m, n, bad, len + 1, root, 0, "element prepended");

            unsigned char other[HL];
            naive_leaf(&leaves[(m + 1) % NLEAVES], other);
            incl_expect(other, m, n, path, len, root, 0, "wrong leaf");
            incl_expect(leaf, m, n, path, len, roots[n - 1], 0, "root of n - 1");
            if (n < NLEAVES)
                incl_expect(leaf, m, n, path, len, roots[n + 1], 0, "root of n + 1");
            incl_expect(leaf, m, n, path, len, junk, 0, "junk root");

            /* Wrong index or size: rejected unless the verifier is asked to
             * do the very same hashing (same shape). */
            uint64_t ms[] = {m - 1, m + 1, m ^ 1, m ^ 2, n, UINT64_MAX};
            for (size_t j = 0; j < sizeof ms / sizeof *ms; j++) {
                if (ms[j] == m)
                    continue;
                incl_expect(leaf, ms[j], n, path, len, root, 0, "wrong index");
            }
            uint64_t ns[] = {n - 1, n + 1, 2 * n, n / 2, m, 0, UINT64_MAX};
            for (size_t j = 0; j < sizeof ns / sizeof *ns; j++) {
                if (ns[j] == n)
                    continue;
                incl_expect(leaf, m, ns[j], path, len, root, same_path_shape(m, ns[j], m, n),
                            "wrong size");
            }
        }
    }
    free(s.h);
}

Test(merkle, tampered_consistency_rejected)
{
    make_leaves();
    store s = build(leaves, NLEAVES);
    unsigned char roots[NLEAVES + 1][HL];
    for (uint64_t n = 0; n <= NLEAVES; n++)
        naive_mth(leaves, n, roots[n]);
    prb_hash32 path[PRB_MT_MAXPATH], bad[PRB_MT_MAXPATH + 1];
    for (uint64_t n = 1; n <= NLEAVES; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            size_t len;
            tree_of(&s, n);
            expect(prb_mt_consistency(store_get, &s, m, n, path, &len) == PRB_OK,
                   "consistency %llu/%llu", (unsigned long long)m, (unsigned long long)n);
            const unsigned char *rm = roots[m], *rn = roots[n];

            for (size_t i = 0; i < len; i++) {
                memcpy(bad, path, len * sizeof *path);
                bad[i][(i + 3) % HL] ^= 0x10;
                cons_expect(m, n, bad, len, rm, rn, 0, "flipped byte");
            }
            if (len > 0) {
                cons_expect(m, n, path, 0, rm, rn, 0, "empty proof");
                cons_expect(m, n, path, len - 1, rm, rn, 0, "last element dropped");
                cons_expect(m, n, path + 1, len - 1, rm, rn, 0, "first element dropped");
            }
            memcpy(bad, path, len * sizeof *path);
            memcpy(bad[len], junk, HL);
            cons_expect(m, n, bad, len + 1, rm, rn, 0, "element appended");
            memcpy(bad[len], rn, HL);
            cons_expect(m, n, bad, len + 1, rm, rn, 0, "new root appended");
            memcpy(bad[0], rm, HL);
            memcpy(bad + 1, path, len * sizeof *path);
            cons_expect(m, n, bad, len + 1, rm, rn, 0, "old root prepended");
            if (len > 0) {
                memcpy(bad[0], path[0], HL);
                cons_expect(m, n, bad, len + 1, rm, rn, 0, "first element repeated");
            }

            if (m < n) {
                cons_expect(m, n, path, len, rn, rm, 0, "swapped roots");
                cons_expect(m, n, path, len, roots[m - 1], rn, 0, "old root of m - 1");
                cons_expect(m, n, path, len, rm, roots[n - 1], 0, "new root of n - 1");
                cons_expect(m, n, path, len, rm, junk, 0, "junk new root");
            } else {
                cons_expect(m, n, path, len, rm, rn, 1, "equal sizes");
                cons_expect(m, n, path, len, rm, roots[n - 1], 0, "equal sizes, other root");
            }
            cons_expect(m, n, path, len, junk, rn, 0, "junk old root");

            uint64_t ms[] = {m - 1, m + 1, m ^ 2, n + 1, 0, UINT64_MAX};
            for (size_t j = 0; j < sizeof ms / sizeof *ms; j++) {
                if (ms[j] == m)
                    continue;
                cons_expect(ms[j], n, path, len, rm, rn, same_proof_shape(ms[j], n, m, n),
                            "wrong old size");
            }
            uint64_t ns[] = {n - 1, n + 1, 2 * n, n / 2, 0, UINT64_MAX};
            for (size_t j = 0; j < sizeof ns / sizeof *ns; j++) {
                if (ns[j] == n)
                    continue;
                cons_expect(m, ns[j], path, len, rm, rn, same_proof_shape(m, ns[j], m, n),
                            "wrong new size");
            }
        }
    }
    free(s.h);
}

Test(merkle, malformed_input)
{
    make_leaves();
    store s = build(leaves, 8);
    prb_hash32 path[PRB_MT_MAXPATH];
    unsigned char h[HL], root[HL];
    size_t len;

    tree_of(&s, 8);
    naive_mth(leaves, 8, root);
    naive_leaf(&leaves[3], h);
    cr_assert_eq(prb_mt_inclusion(store_get, &s, 8, 8, path, &len), PRB_EINVAL);
    cr_assert_eq(len, 0);
    cr_assert_eq(prb_mt_inclusion(store_get, &s, 0, 0, path, &len), PRB_EINVAL);
    cr_assert_eq(prb_mt_inclusion(store_get, &s, UINT64_MAX, 8, path, &len), PRB_EINVAL);
    cr_assert_eq(prb_mt_inclusion(store_get, &s, 0, 8, NULL, &len), PRB_EINVAL);
    cr_assert_eq(prb_mt_inclusion(store_get, &s, 0, 8, path, NULL), PRB_EINVAL);
    cr_assert_eq(prb_mt_consistency(store_get, &s, 0, 8, path, &len), PRB_EINVAL);
    cr_assert_eq(prb_mt_consistency(store_get, &s, 9, 8, path, &len), PRB_EINVAL);
    cr_assert_eq(prb_mt_consistency(store_get, &s, 8, 8, path, &len), PRB_OK);
    cr_assert_eq(len, 0);
    cr_assert_eq(prb_mt_range(store_get, &s, 3, 3, h), PRB_EINVAL);
    cr_assert_eq(prb_mt_range(store_get, &s, 4, 3, h), PRB_EINVAL);
    cr_assert_eq(prb_mt_range(store_get, &s, 1, 3, h), PRB_EINVAL);
    cr_assert_eq(prb_mt_range(store_get, &s, 2, 6, h), PRB_EINVAL);
    cr_assert_eq(prb_mt_range(store_get, &s, 0, UINT64_MAX, h), PRB_EINVAL);
    cr_assert_eq(s.calls, 0, "refused calls read the store");

    /* The verifiers: out-of-range sizes, missing pointers, and a path
     * longer than any real one. */
    cr_assert_eq(prb_mt_inclusion(store_get, &s, 3, 8, path, &len), PRB_OK);
    naive_leaf(&leaves[3], h);
    cr_assert(prb_mt_verify_inclusion(h, 3, 8, path, len, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 8, 8, path, len, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 3, 0, path, len, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 3, 8, NULL, len, root));
    cr_assert_not(prb_mt_verify_inclusion(NULL, 3, 8, path, len, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 3, 8, path, len, NULL));
    cr_assert_not(prb_mt_verify_inclusion(h, 3, 8, path, PRB_MT_MAXPATH + 1, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 3, 8, path, SIZE_MAX, root));
    cr_assert_not(prb_mt_verify_inclusion(h, 0, 1, NULL, 0, root), "a lone leaf is its own root");
    cr_assert(prb_mt_verify_inclusion(h, 0, 1, NULL, 0, h));

    unsigned char r5[HL];
    naive_mth(leaves, 5, r5);
    cr_assert_eq(prb_mt_consistency(store_get, &s, 5, 8, path, &len), PRB_OK);
    cr_assert(prb_mt_verify_consistency(5, 8, path, len, r5, root));
    cr_assert_not(prb_mt_verify_consistency(0, 8, path, len, r5, root));
    cr_assert_not(prb_mt_verify_consistency(0, 8, NULL, 0, r5, root));
    cr_assert_not(prb_mt_verify_consistency(8, 5, path, len, root, r5));
    cr_assert_not(prb_mt_verify_consistency(5, 8, NULL, len, r5, root));
    cr_assert_not(prb_mt_verify_consistency(5, 8, path, len, NULL, root));
    cr_assert_not(prb_mt_verify_consistency(5, 8, path, len, r5, NULL));
    cr_assert_not(prb_mt_verify_consistency(5, 8, path, SIZE_MAX, r5, root));
    cr_assert(prb_mt_verify_consistency(8, 8, NULL, 0, root, root));
    cr_assert_not(prb_mt_verify_consistency(8, 8, path, 1, root, root));
    cr_assert_not(prb_mt_verify_consistency(8, 8, NULL, 0, root, r5));
    free(s.h);
}

/* ------------------------------------------------- reference vectors */

static void unhex(const char *s, unsigned char *out, size_t n)
{
    cr_assert_eq(strlen(s), 2 * n, "bad vector '%s'", s);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

/* transparency-dev/merkle proof/verify_test.go (the CT reference tree). */
static const char *const ct_data[] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* empty */
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

typedef struct vector {
    uint64_t a, n; /* leaf index or old size, tree size */
    const char *proof[3];
} vector;

/* The source numbers leaves from 1; these are 0-based indices. */
static const vector ct_inclusion[] = {
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, {NULL}},
};

static const vector ct_consistency[] = {
    {1, 1, {NULL}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static size_t vector_proof(const vector *v, prb_hash32 *out)
{
    size_t len = 0;
    while (len < 3 && v->proof[len]) {
        unhex(v->proof[len], out[len], HL);
        len++;
    }
    return len;
}

Test(merkle, ct_reference_vectors)
{
    unsigned char bytes[8][16];
    datum d[8];
    for (int i = 0; i < 8; i++) {
        d[i].n = strlen(ct_data[i]) / 2;
        unhex(ct_data[i], bytes[i], d[i].n);
        d[i].p = bytes[i];
    }
    store s = build(d, 8);
    unsigned char roots[9][HL], got[HL];
    for (uint64_t n = 0; n <= 8; n++) {
        unhex(ct_roots[n], roots[n], HL);
        tree_of(&s, n);
        cr_assert_eq(prb_mt_root(store_get, &s, n, got), PRB_OK);
        assert_hash_eq(got, roots[n], "CT root", n, n);
    }

    prb_hash32 want[3], path[PRB_MT_MAXPATH];
    for (size_t i = 0; i < sizeof ct_inclusion / sizeof *ct_inclusion; i++) {
        const vector *v = &ct_inclusion[i];
        size_t wlen = vector_proof(v, want), len;
        tree_of(&s, v->n);
        cr_assert_eq(prb_mt_inclusion(store_get, &s, v->a, v->n, path, &len), PRB_OK);
        cr_assert_eq(len, wlen);
        for (size_t j = 0; j < len; j++)
            assert_hash_eq(path[j], want[j], "CT inclusion", v->a, v->n);
        unsigned char leaf[HL];
        prb_sha256_leaf(d[v->a].p, d[v->a].n, leaf);
        cr_assert(prb_mt_verify_inclusion(leaf, v->a, v->n, want, wlen, roots[v->n]));
        /* The probes the reference suite expects refused. */
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a - 1, v->n, want, wlen, roots[v->n]));
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a + 1, v->n, want, wlen, roots[v->n]));
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a ^ 2, v->n, want, wlen, roots[v->n]));
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a, v->n * 2, want, wlen, roots[v->n]));
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a, v->n / 2, want, wlen, roots[v->n]));
        cr_assert_not(prb_mt_verify_inclusion(leaf, v->a, v->n, want, wlen, roots[0]));
    }

    for (size_t i = 0; i < sizeof ct_consistency / sizeof *ct_consistency; i++) {
        const vector *v = &ct_consistency[i];
        size_t wlen = vector_proof(v, want), len;
        const unsigned char *r1 = roots[v->a], *r2 = roots[v->n];
        tree_of(&s, v->n);
        cr_assert_eq(prb_mt_consistency(store_get, &s, v->a, v->n, path, &len), PRB_OK);
        cr_assert_eq(len, wlen);
        for (size_t j = 0; j < len; j++)
            assert_hash_eq(path[j], want[j], "CT consistency", v->a, v->n);
        cr_assert(prb_mt_verify_consistency(v->a, v->n, want, wlen, r1, r2));
        if (wlen == 0)
            continue;
        cr_assert_not(prb_mt_verify_consistency(v->a - 1, v->n, want, wlen, r1, r2));
        cr_assert_not(prb_mt_verify_consistency(v->a + 1, v->n, want, wlen, r1, r2));
        cr_assert_not(prb_mt_verify_consistency(v->a ^ 2, v->n, want, wlen, r1, r2));
        cr_assert_not(prb_mt_verify_consistency(v->a, v->n * 2, want, wlen, r1, r2));
        cr_assert_not(prb_mt_verify_consistency(v->a, v->n / 2, want, wlen, r1, r2));
        cr_assert_not(prb_mt_verify_consistency(v->a, v->n, want, wlen, r2, r1));
        cr_assert_not(prb_mt_verify_consistency(v->a, v->n, want, 0, r1, r2));
    }
    free(s.h);
}

/* ------------------------------------------------ post-order storage */

Test(merkle, post_order_positions)
{
    /* Written out from the definition: leaf 0, leaf 1, their parent, leaf
     * 2, leaf 3, their parent, the parent of both pairs, leaf 4, ... */
    static const struct {
        unsigned level;
        uint64_t index, pos;
    } known[] = {
        {0, 0, 0},  {0, 1, 1},  {1, 0, 2},  {0, 2, 3},  {0, 3, 4},   {1, 1, 5},  {2, 0, 6},
        {0, 4, 7},  {0, 5, 8},  {1, 2, 9},  {0, 6, 10}, {0, 7, 11},  {1, 3, 12}, {2, 1, 13},
        {3, 0, 14}, {0, 8, 15}, {0, 9, 16}, {1, 4, 17}, {0, 10, 18},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        cr_assert_eq(prb_mt_pos(known[i].level, known[i].index), known[i].pos,
                     "pos(%u, %llu) = %llu, want %llu", known[i].level,
                     (unsigned long long)known[i].index,
                     (unsigned long long)prb_mt_pos(known[i].level, known[i].index),
                     (unsigned long long)known[i].pos);

    make_leaves();
    store s = {.fail_at = -1};
    for (uint64_t n = 0; n < NLEAVES; n++) {
        uint64_t before = s.count;
        store_append(&s, &leaves[n]);
        /* Leaf n completes one subtree per trailing one bit of n. */
        uint64_t k = 1 + (uint64_t)__builtin_ctzll(~n);
        expect(s.count - before == k, "leaf %llu stored %llu hashes, want %llu",
               (unsigned long long)n, (unsigned long long)(s.count - before),
               (unsigned long long)k);
        expect(s.count == prb_mt_pos(0, n + 1), "after %llu leaves: %llu hashes",
               (unsigned long long)n + 1, (unsigned long long)s.count);
        expect(prb_mt_pos(0, n) == before, "leaf %llu stored at %llu", (unsigned long long)n,
               (unsigned long long)before);
    }

    /* Every complete subtree is at its position, and the positions of the
     * tree of NLEAVES leaves are each used exactly once. */
    unsigned char *seen = calloc((size_t)s.count, 1);
    cr_assert_not_null(seen);
    unsigned char want[HL];
    for (unsigned level = 0; ((uint64_t)1 << level) <= NLEAVES; level++) {
        uint64_t w = (uint64_t)1 << level;
        for (uint64_t i = 0; (i + 1) * w <= NLEAVES; i++) {
            uint64_t pos = prb_mt_pos(level, i);
            expect(pos < s.count, "position %llu", (unsigned long long)pos);
            expect(!seen[pos], "position %llu used twice", (unsigned long long)pos);
            seen[pos] = 1;
            naive_mth(leaves + i * w, w, want);
            assert_hash_eq(s.h[pos], want, "stored subtree (level, index)", level, i);
        }
    }
    for (uint64_t pos = 0; pos < s.count; pos++)
        expect(seen[pos], "position %llu holds no subtree", (unsigned long long)pos);
    free(seen);
    free(s.h);
}

/* ------------------------------------------------------ read failures */

/* Fails each read of an operation in turn: the code must come back
 * unchanged every time, and no proof length be reported. */
Test(merkle, get_failure_propagates)
{
    make_leaves();
    store s = build(leaves, 40);
    const int codes[] = {PRB_ESTORE, PRB_ECORRUPT, 77};
    prb_hash32 path[PRB_MT_MAXPATH];
    unsigned char h[HL];
    size_t len;
    for (size_t c = 0; c < sizeof codes / sizeof *codes; c++) {
        int code = codes[c];
        for (uint64_t n = 1; n <= 40; n++) {
            for (uint64_t m = 0; m <= n; m++) {
                for (int op = 0; op < 3; op++) {
                    if ((op == 0 && m == n) || (op == 1 && m == 0) || (op == 2 && m > 0))
                        continue;
                    tree_of(&s, n);
                    int rc = op == 0   ? prb_mt_inclusion(store_get, &s, m, n, path, &len)
                             : op == 1 ? prb_mt_consistency(store_get, &s, m, n, path, &len)
                                       : prb_mt_root(store_get, &s, n, h);
                    expect(rc == PRB_OK, "op %d (%llu, %llu)", op, (unsigned long long)m,
                           (unsigned long long)n);
                    long calls = s.calls;
                    for (long j = 0; j < calls; j++) {
                        tree_of(&s, n);
                        s.fail_at = j;
                        s.fail_rc = code;
                        len = 99;
                        rc = op == 0   ? prb_mt_inclusion(store_get, &s, m, n, path, &len)
                             : op == 1 ? prb_mt_consistency(store_get, &s, m, n, path, &len)
                                       : prb_mt_root(store_get, &s, n, h);
                        expect(rc == code, "op %d (%llu, %llu), read %ld failing: rc %d", op,
                               (unsigned long long)m, (unsigned long long)n, j, rc);
                        expect(s.calls == j + 1, "op %d read on after a failure", op);
                        if (op < 2)
                            expect(len == 0, "op %d reported %zu hashes after a failure", op, len);
                    }
                }
            }
        }
    }

    /* Appending reads left siblings: leaf 7 reads three of them. */
    prb_hash32 out[64];
    tree_of(&s, 7);
    s.fail_at = 2;
    s.fail_rc = 77;
    naive_leaf(&leaves[7], h);
    cr_assert_eq(prb_mt_append(store_get, &s, 7, h, out), -77);
    free(s.h);
}
