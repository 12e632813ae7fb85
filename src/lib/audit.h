/*
 * audit.h - the audit log: every write and every inquiry appends a leaf to
 * an RFC 9162 Merkle tree kept in the register's LMDB (DESIGN invariant 9).
 *
 * Every write transaction of the engine is opened with prb_wtxn_begin and
 * ended with prb_wtxn_commit or prb_wtxn_abort; in between, each write
 * logs what it did with prb_audit_log. The leaves are hashed and the tree
 * extended inside the same transaction, so the log and the data it
 * describes commit together or not at all.
 *
 * A leaf is 48 bytes (one SHA-256 block with the RFC's 0x00 prefix):
 *   0  u8   leaf format (1)
 *   1  u8   kind (enum prb_leaf_kind)
 *   2  u16  aux, big-endian: a record's version, a subject's kind, 1
 *           for a scorecard logged with its name, a list entry's tag
 *           (prb_lists_leaf_tag: which of its subject's entries, never
 *           0; 0 in logs made before entries were tagged), else 0
 *   4  u32  as-of time, unix seconds, big-endian
 *   8  u64  object, big-endian: record id, notice number, dispute or
 *           review id, subject id (list entries, identifiers); an
 *           inquiry's is subject id << 24 | its number's low 24 bits, the
 *           high bits in aux
 *  16  [32] SHA-256 of the stored value written (for a deletion, of the
 *           value deleted)
 */
#ifndef PRB_AUDIT_H
#define PRB_AUDIT_H

#include "internal.h"
#include "merkle.h"

#define PRB_LEAF_LEN 48
#define PRB_LEAF_FORMAT 1
/* Items per stored block: each block fills one 4 KiB overflow page. */
#define PRB_ALOG_BLOCK 85
#define PRB_MTREE_BLOCK 127
/* The tree stores the hashes of subtrees of 2^3 leaves and more, in the
 * post-order of the tree whose leaves are those 8-leaf subtrees; a proof
 * rebuilds a smaller one from its leaves (at most 4, one or two blocks).
 * That stores a quarter of a hash a leaf, where every level would cost
 * two: the log's writes are most of what it adds to an ingest. Level 3
 * and not 4: at 4 a proof hashes 15 leaves and 11 nodes more, which
 * took proofs from ~270,000/s to ~90,000/s. */
#define PRB_MTREE_MIN_LEVEL 3

enum prb_leaf_kind {
    PRB_LEAF_RECORD = 1, /* a record version stored (object: record id, aux: version) */
    PRB_LEAF_DELETE,     /* a record version deleted (retention, dispute) */
    PRB_LEAF_INQUIRY,    /* a decision stored (object: subject << 24 | number's low bits) */
    PRB_LEAF_NOTICE,     /* a notice put in the outbox (object: notice number; hash of its JSON) */
    PRB_LEAF_DELIVERED,  /* a notice marked delivered: every channel has it (object: notice
                            number; value: the notice stored). In logs made before
                            PRB_LEAF_ATTEMPT, also a failed attempt: only the value's
                            "delivered" tells them apart */
    PRB_LEAF_LIST,       /* a list entry written (object: subject id; aux: the entry's tag,
                            0 in logs made before entries were tagged; value: key and value) */
    PRB_LEAF_DISPUTE,    /* a dispute opened or resolved (object: dispute id) */
    PRB_LEAF_REVIEW,     /* a review requested or decided (object: review id) */
    PRB_LEAF_SUBJECT,    /* an identifier linked to a subject (object: subject id; aux: its
                            kind, 0 in logs made before the kind was logged) */
    PRB_LEAF_SCORECARD,  /* a scorecard imported (object: 0; value: the PMML, or with aux 1
                            its name, a NUL and the PMML) */
    PRB_LEAF_KEY,        /* an API key made or revoked (object: its id; value: the key stored) */
    PRB_LEAF_IDEM,   /* an idempotency key kept (aux 0) or let go (aux 1) (object: subject id) */
    PRB_LEAF_POLICY, /* the policy the write transaction's handle holds, when it is not the
                        one logged last; its transaction's first leaf (object: 0; value: the
                        policy file) */
    PRB_LEAF_ATTEMPT /* a notice's hand-overs recorded while a channel has still not
                        accepted it: it stays pending (object and value as DELIVERED's) */
};

/* Logs the policy env was opened with (its file's SHA-256, also kept in
 * meta "policy_sha256") in a write transaction of its own, unless it is
 * the one logged last: what prb_init does so that a new register's log
 * starts with its policy. Every write transaction does the same first
 * (prb_wtxn_begin). */
int prb_audit_policy(prb_env *env);
/* Makes sure env has its signing key, making it if the log is empty,
 * and that it is the register's: the public key recorded in meta, which
 * is recorded in txn (a write transaction open on this thread) if none
 * is yet. */
int prb_audit_key_ready(prb_env *env, MDB_txn *txn);
/* Records the signing key's public key in meta in txn (a write
 * transaction) if none is recorded and audit.key is a key; a key file
 * that is not one fails no write (the reads that need it say why).
 * *known is set when, once txn commits, there is nothing left to look
 * for: a key recorded, or none this handle can record. */
int prb_audit_key_record(prb_env *env, MDB_txn *txn, int *known);

/* Opens a write transaction on env and a batch of leaves for it, which
 * starts with a policy leaf when env's policy is not the one logged last:
 * a policy.json edited by hand changes notice periods, retention and
 * purposes, and each write is logged after the policy it was made under.
 * On failure nothing is open. */
int prb_wtxn_begin(prb_env *env, MDB_txn **txn);
/* Appends the batch's leaves and their tree hashes, then commits (durably).
 * On failure the transaction is aborted and nothing is written. */
int prb_wtxn_commit(prb_env *env, MDB_txn *txn);
void prb_wtxn_abort(prb_env *env, MDB_txn *txn);
/* Appends the batch's leaves and tree hashes to txn now, before the
 * commit, after which the values logged with prb_audit_log_later are not
 * read again. What is logged in txn after it is appended by
 * prb_wtxn_commit on top of these, as usual. On failure the caller
 * aborts. */
int prb_audit_append(prb_env *env, MDB_txn *txn);

/* Logs one write in the open write transaction: value[0..n) is what was
 * stored (or deleted) under object. */
int prb_audit_log(prb_env *env, int kind, unsigned aux, uint64_t object, const void *value,
                  size_t n);
/* The same with the value's SHA-256 computed by the caller (ingest hashes
 * records on its parse threads). */
int prb_audit_log_hash(prb_env *env, int kind, unsigned aux, uint64_t object,
                       const unsigned char hash[PRB_HASH_LEN]);

/* The same, with value's hash computed later, with the leaf hashes at
 * commit or on the prehash thread, off the caller's thread: value must
 * stay valid and unchanged until the transaction ends. */
int prb_audit_log_later(prb_env *env, int kind, unsigned aux, uint64_t object, const void *value,
                        size_t n);

/* Makes room for n more leaves in the open write transaction's batch, so
 * a big ingest does not grow it step by step. */
int prb_audit_reserve(prb_env *env, size_t n);

/* Starts hashing the leaves logged so far on a thread of their own, so a
 * big batch's tree is built while the caller writes the rest of the
 * transaction. prb_wtxn_commit waits for it. Call it from the thread that
 * owns txn; quick batches are left to the commit. */
int prb_audit_prehash(prb_env *env, MDB_txn *txn);

/* How many leaves the log holds, as txn sees it. */
int prb_audit_size(prb_env *env, MDB_txn *txn, uint64_t *size);
/* The tree's root and size written by the last commit that logged
 * anything; PRB_ENOTFOUND (no message) for a log of a build that did not
 * keep it. */
int prb_audit_root(prb_env *env, MDB_txn *txn, uint64_t *size, unsigned char root[PRB_HASH_LEN]);

/* Reads stored tree hashes (a prb_mt_get_fn) within txn, keeping the last
 * block it read. Zero-initialise all but env, txn and cache. With cache
 * set, hashes of subtrees of 64 leaves and more are also kept in a
 * per-thread cache for env: every proof needs a few of them, and a
 * stored hash never changes once its subtree is complete. */
typedef struct prb_tree_reader {
    prb_env *env;
    MDB_txn *txn;
    int cache;
    uint64_t blkno;
    const unsigned char *blk;
    size_t blklen;
    uint64_t lblkno; /* the last block of leaves read */
    const unsigned char *lblk;
    size_t lblklen;
} prb_tree_reader;
int prb_tree_get(void *ctx, uint64_t pos, unsigned char out[PRB_HASH_LEN]);
/* Points *out at leaf m's 48 bytes in the store (valid while the reader's
 * transaction is), through the reader's last block of leaves. */
int prb_leaf_read(prb_tree_reader *r, uint64_t m, const unsigned char **out);
/* A leaf's time (bytes 4-7, big-endian unix seconds): the clock of the
 * call that logged it, raised to its predecessor's if earlier. */
int64_t prb_leaf_time(const unsigned char *l);

/* Copies the hashes the tree stores among those leaves [from, to) add,
 * from a post-order array h whose first entry is at position base, into
 * out (may be NULL); returns how many. The stored tree of n leaves holds
 * prb_mt_pos(0, n >> PRB_MTREE_MIN_LEVEL) hashes. */
size_t prb_tree_stored(const prb_hash32 *h, uint64_t base, uint64_t from, uint64_t to,
                       unsigned char *out);

/* Creates the register's Ed25519 signing key (audit.key in its directory). */
int prb_audit_keygen(prb_env *env);
/* A leaf's fields as JSON (kind, object, aux, time, value_sha256). */
struct json_t *prb_leaf_json(const unsigned char leaf[PRB_LEAF_LEN]);

/* out[i] = leaf hash of leaves[i * PRB_LEAF_LEN ..], on every core when n
 * is large. */
void prb_hash_leaves(const unsigned char *leaves, size_t n, prb_hash32 *out);

#endif
