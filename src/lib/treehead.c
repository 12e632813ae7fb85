/*
 * treehead.c - what the audit log shows the world: signed tree heads,
 * inclusion and consistency proofs, and their offline check.
 *
 * A tree head is signed with the register's Ed25519 key (libsodium),
 * created with the register and kept beside it in audit.key (mode 0600).
 * A missing key is an error once the log has a leaf (see key_missing), and
 * so is a file whose public half is not its seed's, or whose key is not
 * the one the register recorded when made, or at its next write if
 * older (meta "audit_public_key"; load_key, prb_audit_key_record).
 * The signed message is 56 bytes:
 *   "PRBSTH01" || tree size (be64) || time (unix seconds, be64) || root
 * Proofs carry the heads they are checked against, so anyone holding the
 * public key can check them without the register (prb_audit_check).
 */
#include "audit.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE "audit.key"
#define STH_MAGIC "PRBSTH01"
#define STH_LEN 56

static const char *leaf_kinds[] = {
    "?",         "record", "delete",      "inquiry", "notice",
    "delivered", "list",   "dispute",     "review",  "subject",
    "scorecard", "key",    "idempotency", "policy",  "delivery_attempt"};

int prb_audit_keygen(prb_env *env)
{
    char path[4096];
    unsigned char pk[32];
    if (sodium_init() < 0)
        return prb_seterr(env->err, PRB_EIO, "libsodium could not start");
    snprintf(path, sizeof path, "%s/%s", env->dir, KEY_FILE);
    crypto_sign_keypair(pk, env->sk);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, PRB_FILE_MODE);
    if (fd < 0)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot create the signing key: %s", path,
                          strerror(errno));
    ssize_t w = write(fd, env->sk, sizeof env->sk);
    if (w != (ssize_t)sizeof env->sk || fsync(fd) || close(fd)) {
        if (w != (ssize_t)sizeof env->sk)
            close(fd);
        return prb_seterr(env->err, PRB_EIO, "%s: cannot write the signing key", path);
    }
    /* The file's name is durable only once the directory is flushed: a
     * crash right after init could otherwise lose the key, and every head
     * signed with it would then belong to no key the register has. */
    if (prb_fsync_dir(env->dir))
        return prb_seterr(env->err, PRB_EIO, "%s: cannot flush after creating the signing key: %s",
                          env->dir, strerror(errno));
    return PRB_OK;
}

/* A missing key is made only for a log that is still empty: then no head
 * was ever signed for anything, and a register made before the log
 * existed gets its key here. Once the log has a leaf, heads may have been
 * published under the old key; a new one would sign heads nobody can tie
 * to those (a restore that copied only data.mdb, a lost file), so it is
 * an error, never a quiet replacement. */
static int key_missing(prb_env *env, const char *path)
{
    MDB_txn *txn;
    uint64_t size;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn), rc;
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    rc = prb_audit_size(env, txn, &size);
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    if (!size)
        return prb_audit_keygen(env);
    return prb_seterr(env->err, PRB_ECORRUPT,
                      "%s: the register's signing key is missing (its log has %llu leaves); "
                      "restore it from the backup: without it no new head can be tied to those "
                      "published",
                      path, (unsigned long long)size);
}

static char *b64(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    return sodium_bin2base64(out, outlen, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* The public key the register's heads are signed with, kept in meta from
 * its first write transaction (prb_init's), or for a register made
 * before, its next write (prb_audit_key_record): another register's
 * audit.key restored by mistake would sign heads that no holder of the
 * published key can check. */
static const MDB_val PK_KEY = {16, "audit_public_key"};

/* pk against the key txn's meta records. With none recorded, pk is
 * recorded if record (txn writes), else it holds. */
static int key_recorded(prb_env *env, MDB_txn *txn, const unsigned char pk[32], const char *path,
                        int record)
{
    MDB_val v;
    char have[64], want[64];
    int mrc = mdb_get(txn, env->meta, (MDB_val *)&PK_KEY, &v);
    if (mrc == MDB_NOTFOUND && !record)
        return PRB_OK;
    if (mrc == MDB_NOTFOUND) {
        v = (MDB_val){32, (void *)pk};
        mrc = mdb_put(txn, env->meta, (MDB_val *)&PK_KEY, &v, 0);
        return mrc ? prb_mdb_fail(env, mrc, "recording the signing key's public key") : PRB_OK;
    }
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the signing key's public key");
    if (v.mv_size == 32 && !memcmp(v.mv_data, pk, 32))
        return PRB_OK;
    b64(pk, 32, have, sizeof have);
    if (v.mv_size == 32)
        b64(v.mv_data, 32, want, sizeof want);
    else
        snprintf(want, sizeof want, "(a damaged record)");
    return prb_seterr(env->err, PRB_ECORRUPT,
                      "%s: not this register's signing key: its public key is %s, the register "
                      "signs with %s; restore the register's own audit.key from the backup "
                      "(heads signed with another key cannot be tied to those published)",
                      path, have, want);
}

/* Checks pk against the key the register records, in wtxn if given (a
 * write transaction open on this thread, which records pk if none is
 * yet), else in a read of its own, which never writes: a read that
 * recorded the key would write meta outside the log, log a policy
 * changed since the last write (prb_wtxn_begin), and fail for a full
 * fixed map (the public GET of a head, 507). */
static int key_of_register(prb_env *env, MDB_txn *wtxn, const unsigned char pk[32],
                           const char *path)
{
    MDB_txn *txn;
    int rc;
    if (wtxn)
        return key_recorded(env, wtxn, pk, path, 1);
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    rc = key_recorded(env, txn, pk, path, 0);
    mdb_txn_abort(txn);
    return rc;
}

/* Reads the key file at path into sk: 0, -1 if it cannot be opened
 * (errno says why), 1 if it does not hold 64 bytes. */
static int read_key(const char *path, unsigned char sk[64])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, sk, 64);
    close(fd);
    return r != 64;
}

/* pk: the public key sk's seed gives; nonzero if sk's public half (bytes
 * 32-63) is not that key, when its signatures would verify under no key
 * while heads show that half as the key. */
static int key_pair(const unsigned char sk[64], unsigned char pk[32])
{
    unsigned char s[64];
    int bad = crypto_sign_seed_keypair(pk, s, sk) || sodium_memcmp(s, sk, 64);
    sodium_memzero(s, sizeof s);
    return bad;
}

/* Reads audit.key into env->sk and checks it: its halves must agree
 * (key_pair), and it must be the key the register records, if it records
 * one. wtxn: as key_of_register. */
static int load_key(prb_env *env, MDB_txn *wtxn)
{
    char path[4096];
    unsigned char pk[32];
    int rc = PRB_OK;
    if (env->has_key)
        return PRB_OK;
    if (sodium_init() < 0)
        return prb_seterr(env->err, PRB_EIO, "libsodium could not start");
    snprintf(path, sizeof path, "%s/%s", env->dir, KEY_FILE);
    int r = read_key(path, env->sk);
    if (r < 0 && errno == ENOENT)
        rc = key_missing(env, path);
    else if (r < 0)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot read the signing key: %s", path,
                          strerror(errno));
    else if (r)
        rc = prb_seterr(env->err, PRB_ECORRUPT, "%s: not an Ed25519 signing key", path);
    if (!rc && key_pair(env->sk, pk))
        rc = prb_seterr(env->err, PRB_ECORRUPT,
                        "%s: not an Ed25519 signing key: its public half (bytes 32-63) is not "
                        "the key its seed (bytes 0-31) gives, so its signatures would verify "
                        "under no key; restore audit.key from the backup",
                        path);
    if (!rc)
        rc = key_of_register(env, wtxn, pk, path);
    if (rc)
        sodium_memzero(env->sk, sizeof env->sk);
    env->has_key = !rc;
    return rc;
}

int prb_audit_key_ready(prb_env *env, MDB_txn *txn)
{
    return load_key(env, txn);
}

/* In a handle's write transactions until one commits having looked: a
 * register made before keys were recorded gets its own at its next
 * write, in that write's transaction, not in a read's. The key is the
 * one this handle loaded, else the file's if it is a key; a file that is
 * missing or not a key fails no write, as before keys were recorded (the
 * reads say what is wrong with it), and this handle does not look again:
 * a key restored since is recorded by the next process's write. */
int prb_audit_key_record(prb_env *env, MDB_txn *txn, int *known)
{
    char path[4096];
    unsigned char sk[64], pk[32];
    MDB_val v;
    int rc = PRB_OK, mrc = mdb_get(txn, env->meta, (MDB_val *)&PK_KEY, &v);
    *known = 0;
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the signing key's public key");
    *known = 1;
    if (!mrc || sodium_init() < 0)
        return PRB_OK;
    snprintf(path, sizeof path, "%s/%s", env->dir, KEY_FILE);
    if (env->has_key)
        crypto_sign_ed25519_sk_to_pk(pk, env->sk);
    if (env->has_key || (!read_key(path, sk) && !key_pair(sk, pk)))
        rc = key_recorded(env, txn, pk, path, 1);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static void sth_message(unsigned char m[STH_LEN], uint64_t size, int64_t t,
                        const unsigned char root[32])
{
    memcpy(m, STH_MAGIC, 8);
    prb_be64(m + 8, size);
    prb_be64(m + 16, (uint64_t)t);
    memcpy(m + 24, root, 32);
}

static void time_text(int64_t t, char out[32])
{
    prb_time_format(t, out);
}

int64_t prb_leaf_time(const unsigned char *l)
{
    return (int64_t)((uint32_t)l[4] << 24 | (uint32_t)l[5] << 16 | (uint32_t)l[6] << 8 | l[7]);
}

/* A signed head of the tree at size as txn sees it, signed with the time
 * of its last leaf, the current size's as much as an earlier one's: a
 * head says "this tree, whose newest leaf was logged at this time". Leaf
 * times never go back (audit.c's log_floor), so neither do heads': a
 * larger tree never has an earlier time. Until 2026-11-27 the current
 * size was signed with now, and a batch that had waited for the writer,
 * committed after such a head, gave the larger tree an earlier time than
 * the smaller one: two heads of the log contradicting each other. A quiet log's head stays as it
 * is (same size, same time, same signature); nothing here says when it
 * was served. An old size is never signed with a current-looking time.
 * The caller has loaded the key (load_key). */
static json_t *head_json(prb_env *env, MDB_txn *txn, uint64_t size, int *rc)
{
    prb_tree_reader r = {.env = env, .txn = txn, .cache = 1};
    unsigned char root[32], sig[64], m[STH_LEN], pk[32];
    char rb[64], sb[128], pb[64], tt[32];
    int64_t t = prb_now(env); /* only the empty tree's */
    assert(env->has_key);
    if (size) {
        const unsigned char *l;
        if ((*rc = prb_leaf_read(&r, size - 1, &l)))
            return NULL;
        t = prb_leaf_time(l);
    }
    if (env->head_size == size && env->head_time == t && size) {
        memcpy(root, env->head_root, 32);
        memcpy(sig, env->head_sig, 64);
    } else {
        if ((*rc = prb_mt_root(prb_tree_get, &r, size, root)))
            return NULL;
        sth_message(m, size, t, root);
        crypto_sign_detached(sig, NULL, m, sizeof m, env->sk);
        env->head_size = size;
        env->head_time = t;
        memcpy(env->head_root, root, 32);
        memcpy(env->head_sig, sig, 64);
    }
    crypto_sign_ed25519_sk_to_pk(pk, env->sk);
    time_text(t, tt);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "tree_size", (json_int_t)size,
                          "timestamp", (json_int_t)t, "time", tt, "root_hash",
                          b64(root, 32, rb, sizeof rb), "signature", b64(sig, 64, sb, sizeof sb),
                          "public_key", b64(pk, 32, pb, sizeof pb), "algorithm", "ed25519");
    if (!o)
        *rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    return o;
}

static int dump(prb_env *env, json_t *o, char **json)
{
    *json = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    return *json ? PRB_OK : prb_seterr(env->err, PRB_ENOMEM, "out of memory");
}

static int begin_read(prb_env *env, MDB_txn **txn, uint64_t *size)
{
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, txn), rc;
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((rc = prb_audit_size(env, *txn, size))) {
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    return rc;
}

int prb_audit_head(prb_env *env, char **json)
{
    MDB_txn *txn;
    uint64_t size;
    int rc;
    *json = NULL;
    if ((rc = load_key(env, NULL)) || (rc = begin_read(env, &txn, &size)))
        return rc;
    json_t *h = head_json(env, txn, size, &rc);
    mdb_txn_abort(txn);
    return h ? dump(env, h, json) : rc;
}

int prb_audit_public_key(prb_env *env, char out[64])
{
    unsigned char pk[32];
    int rc = load_key(env, NULL);
    if (rc)
        return rc;
    crypto_sign_ed25519_sk_to_pk(pk, env->sk);
    b64(pk, 32, out, 64);
    return PRB_OK;
}

static json_t *path_json(const prb_hash32 *path, size_t n)
{
    json_t *a = json_array();
    char buf[64];
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(b64(path[i], 32, buf, sizeof buf)));
    return a;
}

json_t *prb_leaf_json(const unsigned char l[PRB_LEAF_LEN])
{
    char hex[65], tt[32], obj[48];
    unsigned kind = l[1];
    uint64_t object = prb_get_be64(l + 8);
    int64_t t = prb_leaf_time(l);
    sodium_bin2hex(hex, sizeof hex, l + 16, 32);
    time_text(t, tt);
    if (kind == PRB_LEAF_RECORD || kind == PRB_LEAF_DELETE)
        snprintf(obj, sizeof obj, "%llu-%llu", (unsigned long long)(object >> PRB_RSEQ_BITS),
                 (unsigned long long)(object & PRB_RSEQ_MASK));
    else if (kind == PRB_LEAF_INQUIRY)
        snprintf(obj, sizeof obj, "%llu-q%llu", (unsigned long long)(object >> 24),
                 (unsigned long long)((uint64_t)(l[2] << 8 | l[3]) << 24 | (object & 0xffffff)));
    else
        snprintf(obj, sizeof obj, "%llu", (unsigned long long)object);
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "kind",
                     kind < sizeof leaf_kinds / sizeof *leaf_kinds ? leaf_kinds[kind] : "?",
                     "object", obj, "aux", l[2] << 8 | l[3], "time", tt, "value_sha256", hex);
}

static int prove(prb_env *env, uint64_t leaf, uint64_t size, int content, char **json)
{
    MDB_txn *txn;
    uint64_t have;
    prb_hash32 path[PRB_MT_MAXPATH];
    const unsigned char *l = NULL; /* in the store, valid until txn ends */
    unsigned char lh[32];
    char lb[96], hb[64];
    size_t n;
    int rc;
    *json = NULL;
    if ((rc = load_key(env, NULL)) || (rc = begin_read(env, &txn, &have)))
        return rc;
    if (!size)
        size = have;
    prb_tree_reader r = {.env = env, .txn = txn, .cache = 1};
    json_t *head = NULL, *o = NULL;
    if (size > have || leaf >= size) {
        rc = prb_seterr(env->err, PRB_EINVAL,
                        "audit prove: leaf %llu is not in a tree of size %llu (the log has %llu "
                        "leaves)",
                        (unsigned long long)leaf, (unsigned long long)size,
                        (unsigned long long)have);
        goto out;
    }
    if ((rc = prb_leaf_read(&r, leaf, &l)) ||
        (rc = prb_mt_inclusion(prb_tree_get, &r, leaf, size, path, &n)) ||
        !(head = head_json(env, txn, size, &rc)))
        goto out;
    prb_sha256_leaf(l, PRB_LEAF_LEN, lh);
    o = json_pack("{s:s, s:I, s:I, s:s, s:o, s:o}", "type", "inclusion", "leaf_index",
                  (json_int_t)leaf, "tree_size", (json_int_t)size, "leaf_hash",
                  b64(lh, 32, hb, sizeof hb), "audit_path", path_json(path, n), "tree_head", head);
    head = NULL;
    if (o && content &&
        (json_object_set_new(o, "leaf", json_string(b64(l, PRB_LEAF_LEN, lb, sizeof lb))) ||
         json_object_set_new(o, "event", prb_leaf_json(l)))) {
        json_decref(o);
        o = NULL;
    }
    rc = dump(env, o, json);
out:
    json_decref(head);
    mdb_txn_abort(txn);
    return rc;
}

int prb_audit_prove(prb_env *env, uint64_t leaf, uint64_t size, char **json)
{
    return prove(env, leaf, size, 1, json);
}

int prb_audit_prove_hash(prb_env *env, uint64_t leaf, uint64_t size, char **json)
{
    return prove(env, leaf, size, 0, json);
}

int prb_audit_path(prb_env *env, uint64_t leaf, uint64_t size, unsigned char (*path)[32],
                   size_t *len)
{
    MDB_txn *txn;
    uint64_t have;
    int rc = begin_read(env, &txn, &have);
    if (rc)
        return rc;
    if (!size)
        size = have;
    prb_tree_reader r = {.env = env, .txn = txn, .cache = 1};
    if (size > have || leaf >= size)
        rc = prb_seterr(env->err, PRB_EINVAL, "audit: leaf %llu is not in a tree of size %llu",
                        (unsigned long long)leaf, (unsigned long long)size);
    else
        rc = prb_mt_inclusion(prb_tree_get, &r, leaf, size, path, len);
    mdb_txn_abort(txn);
    return rc;
}

int prb_audit_consistency(prb_env *env, uint64_t from, uint64_t to, char **json)
{
    MDB_txn *txn;
    uint64_t have;
    prb_hash32 path[PRB_MT_MAXPATH];
    size_t n;
    int rc;
    *json = NULL;
    if ((rc = load_key(env, NULL)) || (rc = begin_read(env, &txn, &have)))
        return rc;
    if (!to)
        to = have;
    prb_tree_reader r = {.env = env, .txn = txn, .cache = 1};
    json_t *h1 = NULL, *h2 = NULL;
    if (!from || from > to || to > have) {
        rc = prb_seterr(env->err, PRB_EINVAL,
                        "audit consistency: need 0 < from <= to <= %llu (the log's size); got "
                        "from %llu, to %llu",
                        (unsigned long long)have, (unsigned long long)from, (unsigned long long)to);
        goto out;
    }
    if ((rc = prb_mt_consistency(prb_tree_get, &r, from, to, path, &n)) ||
        !(h1 = head_json(env, txn, from, &rc)) || !(h2 = head_json(env, txn, to, &rc)))
        goto out;
    json_t *o = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "type", "consistency", "first",
                          (json_int_t)from, "second", (json_int_t)to, "consistency_path",
                          path_json(path, n), "first_head", h1, "second_head", h2);
    h1 = h2 = NULL;
    rc = dump(env, o, json);
out:
    json_decref(h1);
    json_decref(h2);
    mdb_txn_abort(txn);
    return rc;
}

/* ------------------------------------------------------- offline check */

static int check_fail(char *msg, size_t len, const char *fmt, const char *what)
{
    snprintf(msg, len, fmt, what);
    return PRB_EINVAL;
}

static int get_b64(json_t *o, const char *key, unsigned char *out, size_t want)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t n;
    if (!s ||
        sodium_base642bin(out, want, s, strlen(s), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        n != want)
        return -1;
    return 0;
}

/* Checks a head's signature against the public key; fills size and root. */
static int check_signed(json_t *h, const unsigned char pk[32], uint64_t *size,
                        unsigned char root[32], char *msg, size_t len, const char *name)
{
    unsigned char sig[64], m[STH_LEN];
    json_t *js = json_object_get(h, "tree_size"), *jt = json_object_get(h, "timestamp");
    if (!json_is_object(h) || !json_is_integer(js) || !json_is_integer(jt) ||
        json_integer_value(js) < 0 || get_b64(h, "root_hash", root, 32) ||
        get_b64(h, "signature", sig, 64))
        return check_fail(msg, len,
                          "%s: needs tree_size, timestamp, root_hash and signature (base64)", name);
    *size = (uint64_t)json_integer_value(js);
    sth_message(m, *size, json_integer_value(jt), root);
    if (crypto_sign_verify_detached(sig, m, sizeof m, pk))
        return check_fail(msg, len, "%s: the signature does not verify with this public key", name);
    return PRB_OK;
}

/* The fields of a head that no signature covers must say what the signed
 * ones do, or the check would vouch for them: a reader takes the time
 * from the string, and the key from public_key. Absent, they claim
 * nothing. The key a proof is checked with is always the caller's, never
 * the proof's own: a proof that brought its key would check against
 * whoever made it. */
static int check_claims(json_t *h, const unsigned char pk[32], char *msg, size_t len,
                        const char *name)
{
    json_t *jt = json_object_get(h, "time"), *ja = json_object_get(h, "algorithm");
    json_t *jk = json_object_get(h, "public_key");
    int64_t t = json_integer_value(json_object_get(h, "timestamp"));
    unsigned char other[32];
    char tt[32];
    time_text(t, tt);
    if (jt && (!json_is_string(jt) || strcmp(json_string_value(jt), tt))) {
        snprintf(msg, len,
                 "%s: time \"%.40s\" is not the signed timestamp %lld (%s): only the timestamp "
                 "is signed, and the head must not say another time",
                 name, json_is_string(jt) ? json_string_value(jt) : "(not a string)", (long long)t,
                 tt);
        return PRB_EINVAL;
    }
    if (jk && (get_b64(h, "public_key", other, 32) || memcmp(other, pk, 32)))
        return check_fail(msg, len,
                          "%s: public_key is not the key the proof is checked with (--key): the "
                          "head names another key than the one its signature verified with",
                          name);
    if (ja && (!json_is_string(ja) || strcmp(json_string_value(ja), "ed25519")))
        return check_fail(msg, len,
                          "%s: algorithm is not \"ed25519\", the one its signature was checked "
                          "with",
                          name);
    return PRB_OK;
}

/* Checks a signed head and what it says unsigned; fills size and root. */
static int check_head(json_t *h, const unsigned char pk[32], uint64_t *size, unsigned char root[32],
                      char *msg, size_t len, const char *name)
{
    int rc = check_signed(h, pk, size, root, msg, len, name);
    return rc ? rc : check_claims(h, pk, msg, len, name);
}

static int get_path(json_t *a, prb_hash32 *path, size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > PRB_MT_MAXPATH)
        return -1;
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t got;
        if (!s ||
            sodium_base642bin(path[i], 32, s, strlen(s), NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) ||
            got != 32)
            return -1;
    }
    return 0;
}

/* Loads the head the checker holds and checks it against the key: a head
 * signed with another key is a register whose key changed, and nothing
 * ties the two keys' heads together. */
static int load_held(const char *held, const unsigned char pk[32], json_t **out, uint64_t *size,
                     unsigned char root[32], char *msg, size_t len)
{
    json_error_t je;
    json_t *h = *out = json_loads(held, 0, &je);
    unsigned char other[32];
    if (!h) {
        snprintf(msg, len, "the head you hold is not JSON: line %d: %s", je.line, je.text);
        return PRB_EINVAL;
    }
    int rc = check_signed(h, pk, size, root, msg, len, "the head you hold");
    if (rc && !get_b64(h, "public_key", other, 32) && memcmp(other, pk, 32))
        snprintf(msg, len,
                 "the head you hold was signed with another key than this one (its public_key): "
                 "the register's key changed, and nothing ties its new heads to the one you "
                 "hold");
    return rc ? rc : check_claims(h, pk, msg, len, "the head you hold");
}

/* What the proof says the leaf logs (event) is not signed; only the
 * leaf's bytes are, through its hash. So event must be what those bytes
 * decode to, and the leaf must be there to decode. */
static int check_event(json_t *o, const unsigned char *leaf, char *msg, size_t len)
{
    json_t *ev = json_object_get(o, "event");
    if (!ev)
        return PRB_OK;
    if (!leaf)
        return check_fail(msg, len, "%s",
                          "inclusion proof: event is given without leaf: what a leaf logs can "
                          "be checked only against the leaf's bytes, whose hash the path signs");
    json_t *real = prb_leaf_json(leaf);
    int same = real && json_equal(ev, real);
    char *txt = real ? json_dumps(real, JSON_COMPACT) : NULL;
    if (!same)
        snprintf(msg, len,
                 "inclusion proof: event is not what leaf logs, which is %s: event is not "
                 "signed, the leaf is (its hash is on the audit path)",
                 txt ? txt : "out of memory");
    free(txt);
    json_decref(real);
    return same ? PRB_OK : PRB_EINVAL;
}

/* "kind object (aux N) at TIME, value sha256 HEX" of a leaf, for the
 * message that says a proof holds: the reader learns what the leaf logs
 * from the bytes that were checked, never from the proof's event. */
static void leaf_text(const unsigned char *leaf, char *out, size_t len)
{
    json_t *j = prb_leaf_json(leaf);
    if (!j) {
        snprintf(out, len, "(out of memory: not decoded)");
        return;
    }
    snprintf(out, len, "%s %s (aux %lld) at %s, value sha256 %s",
             json_string_value(json_object_get(j, "kind")),
             json_string_value(json_object_get(j, "object")),
             (long long)json_integer_value(json_object_get(j, "aux")),
             json_string_value(json_object_get(j, "time")),
             json_string_value(json_object_get(j, "value_sha256")));
    json_decref(j);
}

/* A proof's size field key (an inclusion proof's tree_size, a consistency
 * proof's first or second), when given, must be the size its head signs;
 * what names the proof. */
static int check_size(json_t *o, const char *what, const char *key, uint64_t signed_size, char *msg,
                      size_t len)
{
    json_t *j = json_object_get(o, key);
    if (!j || (json_is_integer(j) && json_integer_value(j) >= 0 &&
               (uint64_t)json_integer_value(j) == signed_size))
        return PRB_OK;
    snprintf(msg, len,
             "%s: %s is not the size its head signs (%llu): only the head's tree_size is signed",
             what, key, (unsigned long long)signed_size);
    return PRB_EINVAL;
}

/* The register's head of size n must be the one the checker holds. */
static int same_as_held(uint64_t n, const unsigned char root[32], const unsigned char held[32],
                        char *msg, size_t len)
{
    if (!memcmp(root, held, 32))
        return PRB_OK;
    snprintf(msg, len,
             "the register's tree of size %llu is not the one you hold: history was rewritten "
             "(the register signed two different roots for one size, both signatures valid)",
             (unsigned long long)n);
    return PRB_EINVAL;
}

int prb_audit_check(const char *public_key, const char *proof, char *msg, size_t len)
{
    return prb_audit_check_held(public_key, proof, NULL, msg, len);
}

int prb_audit_check_held(const char *public_key, const char *proof, const char *held, char *msg,
                         size_t len)
{
    unsigned char pk[32], root1[32], root2[32], leaf[PRB_LEAF_LEN], lh[32], given[32], rooth[32];
    char logs[192];
    int has_leaf = 0;
    prb_hash32 path[PRB_MT_MAXPATH];
    size_t n, pkn;
    uint64_t s1, s2, sh = 0;
    json_error_t je;
    json_t *hj = NULL;
    int rc = PRB_EINVAL;
    if (sodium_init() < 0)
        return check_fail(msg, len, "%s", "libsodium could not start");
    if (sodium_base642bin(pk, sizeof pk, public_key, strlen(public_key), " \n", &pkn, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        pkn != 32)
        return check_fail(msg, len, "%s", "the public key is not 32 bytes of base64");
    if (held && (rc = load_held(held, pk, &hj, &sh, rooth, msg, len))) {
        json_decref(hj);
        return rc;
    }
    /* Every way out below but the two that say "ok" is a failure. */
    rc = PRB_EINVAL;
    json_t *o = json_loads(proof, 0, &je);
    if (!o) {
        snprintf(msg, len, "the proof is not JSON: line %d: %s", je.line, je.text);
        json_decref(hj);
        return PRB_EINVAL;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type && !strcmp(type, "inclusion")) {
        json_t *jm = json_object_get(o, "leaf_index"), *jn = json_object_get(o, "tree_size");
        if (!json_is_integer(jm) || !json_is_integer(jn) || json_integer_value(jm) < 0 ||
            get_path(json_object_get(o, "audit_path"), path, &n) ||
            get_b64(o, "leaf_hash", given, 32)) {
            rc = check_fail(msg, len, "%s",
                            "inclusion proof: needs leaf_index, tree_size, leaf_hash and "
                            "audit_path");
            goto out;
        }
        if ((rc = check_head(json_object_get(o, "tree_head"), pk, &s1, root1, msg, len,
                             "tree_head")))
            goto out;
        rc = PRB_EINVAL;
        if (json_object_get(o, "leaf")) {
            if (get_b64(o, "leaf", leaf, sizeof leaf)) {
                check_fail(msg, len, "%s", "inclusion proof: leaf is not 48 bytes of base64");
                goto out;
            }
            prb_sha256_leaf(leaf, sizeof leaf, lh);
            if (memcmp(lh, given, 32)) {
                check_fail(msg, len, "%s", "inclusion proof: leaf_hash is not the hash of leaf");
                goto out;
            }
            has_leaf = 1;
        }
        if (check_event(o, has_leaf ? leaf : NULL, msg, len))
            goto out;
        if (check_size(o, "inclusion proof", "tree_size", s1, msg, len))
            goto out;
        /* Only a proof at the held head's size can be compared with it;
         * saying ok to another would not be the check that was asked. */
        if (hj && s1 != sh) {
            snprintf(msg, len,
                     "inclusion proof: it is for the tree of size %llu, the head you hold is of "
                     "size %llu: ask for the proof at --size %llu",
                     (unsigned long long)s1, (unsigned long long)sh, (unsigned long long)sh);
            goto out;
        }
        if (hj && same_as_held(s1, root1, rooth, msg, len))
            goto out;
        if (!prb_mt_verify_inclusion(given, (uint64_t)json_integer_value(jm), s1, path, n, root1)) {
            check_fail(msg, len, "%s",
                       "inclusion proof: the audit path does not lead to the signed root");
            goto out;
        }
        if (has_leaf)
            leaf_text(leaf, logs, sizeof logs);
        snprintf(msg, len, "ok: leaf %lld is in the signed tree of size %llu%s; %s%s",
                 (long long)json_integer_value(jm), (unsigned long long)s1,
                 hj ? ", the one you hold" : "", has_leaf ? "it logs " : "",
                 has_leaf ? logs : "the proof has its hash only, not what it logs");
        rc = PRB_OK;
    } else if (type && !strcmp(type, "consistency")) {
        if (get_path(json_object_get(o, "consistency_path"), path, &n)) {
            rc = check_fail(msg, len, "%s", "consistency proof: needs consistency_path");
            goto out;
        }
        if ((rc = check_head(json_object_get(o, "first_head"), pk, &s1, root1, msg, len,
                             "first_head")) ||
            (rc = check_head(json_object_get(o, "second_head"), pk, &s2, root2, msg, len,
                             "second_head")) ||
            (rc = check_size(o, "consistency proof", "first", s1, msg, len)) ||
            (rc = check_size(o, "consistency proof", "second", s2, msg, len)))
            goto out;
        rc = PRB_EINVAL;
        /* The proof shows only that the register's two heads agree; a
         * register that rewrote history signs its new root at the old
         * size too. The first head must be the one the checker holds. */
        if (hj && s1 != sh) {
            snprintf(msg, len,
                     "consistency proof: it starts at size %llu, the head you hold is of size "
                     "%llu: ask for the proof --from %llu",
                     (unsigned long long)s1, (unsigned long long)sh, (unsigned long long)sh);
            goto out;
        }
        if (hj && same_as_held(s1, root1, rooth, msg, len))
            goto out;
        if (!prb_mt_verify_consistency(s1, s2, path, n, root1, root2)) {
            check_fail(msg, len, "%s",
                       "consistency proof: the second tree does not extend the first");
            goto out;
        }
        snprintf(msg, len, "ok: the signed tree of size %llu extends the one of size %llu%s",
                 (unsigned long long)s2, (unsigned long long)s1, hj ? " you hold" : "");
        rc = PRB_OK;
    } else {
        rc =
            check_fail(msg, len, "%s", "the proof's type must be \"inclusion\" or \"consistency\"");
    }
out:
    json_decref(o);
    json_decref(hj);
    return rc;
}
