/*
 * sha256.h - SHA-256 and the RFC 9162 (section 2.1.1) hashes of a Merkle
 * tree's leaves and interior nodes.
 */
#ifndef PRB_SHA256_H
#define PRB_SHA256_H

#include <stddef.h>

#define PRB_HASH_LEN 32

void prb_sha256(const void *p, size_t n, unsigned char out[PRB_HASH_LEN]);
/* SHA-256(0x00 || p[0..n)): the hash of a leaf. */
void prb_sha256_leaf(const void *p, size_t n, unsigned char out[PRB_HASH_LEN]);
/* SHA-256(0x01 || l || r): the hash of an interior node. */
void prb_sha256_node(const unsigned char l[PRB_HASH_LEN], const unsigned char r[PRB_HASH_LEN],
                     unsigned char out[PRB_HASH_LEN]);

#endif
