/*
 * keys.c - the HTTP API's bearer tokens and the roles they carry.
 *
 * A token is 32 random bytes (libsodium), shown once as "prb_" and their
 * base64url. The register stores only the token's SHA-256, as the key of
 * keys, so a stolen copy of the store gives no token, and checking one is
 * a hash and a lookup: no token is ever compared byte by byte with a
 * stored one, and the hash a lookup could leak by its timing says nothing
 * about the token. A key's id, the first 8 bytes of the hash in hex,
 * names it in listings, logs and revocation.
 *
 * The stored value (little-endian integers):
 *   0  u8   layout (2)
 *   1  u8   role (enum prb_role)
 *   2  u8   name length N        3  u8  furnisher length F
 *   4  u16  subject length S     6  u16 purposes length P
 *   8  i64  created (as-of time) 16 i64 revoked (0: live)
 *  24  u64  the subject's number (a subject key; else 0)
 *  32  name, furnisher, subject, purposes, each followed by a NUL
 * Layout 1, written until 2026-11-28, has no subject number (the strings
 * start at 24) and is still read.
 *
 * A subject key reads the file of whoever its identifier names, so it is
 * made only for an identifier a subject has, never for a furnisher's own
 * ext: key, and keeps that subject's number: each use checks that the
 * identifier still names it. Before, a key made for an identifier no one
 * had was named by the first alias a furnisher linked to it, and then
 * read that subject's whole file. A layout-1 key has no number to check:
 * its identifier is resolved at each use as before (an ext: one is
 * refused); an operator who made one for an identifier then unknown
 * should revoke it and make another.
 * Making and revoking a key are write transactions with one audit leaf
 * (PRB_LEAF_KEY, object: the id as a number, value: the stored key).
 *
 * A handle may be told which key its calls are made for (prb_set_caller):
 * every write transaction it opens then looks the key up again inside
 * itself (prb_wtxn_begin), so that a call let in with a key, which then
 * waited for LMDB's one writer, writes nothing once a revocation has been
 * committed. Writers take turns, so no later commit of that key's can
 * slip in after its revocation.
 */
#include "internal.h"
#include "audit.h"
#include "sha256.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LAYOUT 2
#define KEY_HDR 32
#define KEY_HDR_V1 24
#define TOKEN_PREFIX "prb_"
#define TOKEN_BYTES 32

static const char *const role_names[] = {NULL,       "admin",    "furnisher",
                                         "inquirer", "reviewer", "subject"};

const char *prb_role_name(int role)
{
    return role > 0 && role <= PRB_ROLE_SUBJECT ? role_names[role] : NULL;
}

const char *prb_reader_words(int role)
{
    return role == PRB_ROLE_REVIEWER ? "a reviewer of the register"
           : role == PRB_ROLE_ADMIN  ? "an administrator of the register"
           : role == 0               ? "the register's operator, at the command line"
                                     : NULL;
}

int prb_staff_reader(prb_env *env, const char *reader, int role, const char *what)
{
    if (reader && *reader && strlen(reader) <= PRB_KEY_NAME_MAX && prb_reader_words(role))
        return PRB_OK;
    return prb_seterr(env->err, PRB_EINVAL,
                      "%s by staff needs the reader's name (1 to %d bytes) and role (reviewer, "
                      "admin or the operator)",
                      what, PRB_KEY_NAME_MAX);
}

int prb_role_parse(const char *s)
{
    for (int r = PRB_ROLE_ADMIN; s && r <= PRB_ROLE_SUBJECT; r++)
        if (!strcmp(s, role_names[r]))
            return r;
    return 0;
}

static void put_le64(unsigned char *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++, u >>= 8)
        w[i] = (unsigned char)u;
}

static int64_t get_le64(const unsigned char *r)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | r[i];
    return (int64_t)u;
}

static void id_of(const unsigned char hash[PRB_HASH_LEN], char id[17])
{
    sodium_bin2hex(id, 17, hash, 8);
}

/* Packs k into buf (at least KEY_HDR + the four strings + 4 bytes). */
static size_t encode(const prb_key *k, unsigned char *buf)
{
    size_t n = strlen(k->name), f = strlen(k->furnisher), s = strlen(k->subject),
           p = strlen(k->purposes);
    unsigned char *w = buf + KEY_HDR;
    buf[0] = KEY_LAYOUT;
    buf[1] = (unsigned char)k->role;
    buf[2] = (unsigned char)n;
    buf[3] = (unsigned char)f;
    buf[4] = (unsigned char)s;
    buf[5] = (unsigned char)(s >> 8);
    buf[6] = (unsigned char)p;
    buf[7] = (unsigned char)(p >> 8);
    put_le64(buf + 8, k->created);
    put_le64(buf + 16, k->revoked);
    put_le64(buf + 24, (int64_t)k->subject_no);
    memcpy(w, k->name, n + 1);
    w += n + 1;
    memcpy(w, k->furnisher, f + 1);
    w += f + 1;
    memcpy(w, k->subject, s + 1);
    w += s + 1;
    memcpy(w, k->purposes, p + 1);
    return (size_t)(w - buf) + p + 1;
}

/* Copies the string of length n at *r into out (size cap), advancing *r. */
static int take(const unsigned char **r, const unsigned char *end, size_t n, char *out, size_t cap)
{
    if (n >= cap || (size_t)(end - *r) < n + 1 || (*r)[n])
        return -1;
    memcpy(out, *r, n + 1);
    *r += n + 1;
    return 0;
}

static int decode(const unsigned char hash[PRB_HASH_LEN], const MDB_val *v, prb_key *k)
{
    const unsigned char *b = v->mv_data, *end = b + v->mv_size, *r;
    size_t hdr = v->mv_size ? (b[0] == KEY_LAYOUT ? KEY_HDR : KEY_HDR_V1) : KEY_HDR;
    memset(k, 0, sizeof *k);
    if (v->mv_size < hdr || (b[0] != KEY_LAYOUT && b[0] != 1) || !prb_role_name(b[1]))
        return PRB_ECORRUPT;
    r = b + hdr;
    k->role = b[1];
    k->created = get_le64(b + 8);
    k->revoked = get_le64(b + 16);
    if (hdr == KEY_HDR)
        k->subject_no = (uint64_t)get_le64(b + 24);
    id_of(hash, k->id);
    if (take(&r, end, b[2], k->name, sizeof k->name) ||
        take(&r, end, b[3], k->furnisher, sizeof k->furnisher) ||
        take(&r, end, (size_t)(b[4] | b[5] << 8), k->subject, sizeof k->subject) ||
        take(&r, end, (size_t)(b[6] | b[7] << 8), k->purposes, sizeof k->purposes) || r != end)
        return PRB_ECORRUPT;
    return PRB_OK;
}

_Static_assert(PRB_KEY_NAME_MAX == 64, "PRB_KEY_NAME_RULE says 64");

/* A name: PRB_KEY_NAME_RULE. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PRB_KEY_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == ',' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

int prb_requester_check(prb_env *env, const char *requester)
{
    if (!requester || name_ok(requester))
        return PRB_OK;
    return prb_seterr(env->err, PRB_EINVAL, "requester: must be a key's name: " PRB_KEY_NAME_RULE);
}

/* Whether purpose pi of the policy lets requester ask: it lists no
 * requesters, or lists this one. */
static int requester_ok(const prb_policy *p, int pi, const char *requester)
{
    const prb_purposedef *pd = &p->purposes[pi];
    for (size_t i = 0; i < pd->nrequesters; i++)
        if (!strcmp(pd->requesters[i], requester))
            return 1;
    return !pd->nrequesters;
}

/* Checks every purpose of a comma-separated list against the policy
 * (name, the key's, must be one of the requesters a purpose lists: a
 * decision asks by the key's name, and a key for a purpose it may not
 * ask for would still read the purpose's lists) and writes it back
 * without repeats. */
static int check_purposes(prb_env *env, const char *list, const char *name, char *out, size_t cap)
{
    const prb_policy *p = env->policy;
    char buf[PRB_KEY_PURPOSES_MAX];
    size_t w = 0;
    if (strlen(list) >= sizeof buf)
        return prb_seterr(env->err, PRB_EINVAL, "key: purposes: longer than %d bytes",
                          PRB_KEY_PURPOSES_MAX - 1);
    memcpy(buf, list, strlen(list) + 1);
    out[0] = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int pi = prb_policy_purpose(p, t);
        if (pi < 0)
            return prb_seterr(env->err, PRB_EINVAL, "key: purposes: '%s' is not in the policy", t);
        if (!p->purposes[pi].nrules)
            return prb_seterr(env->err, PRB_EINVAL,
                              "key: purposes: %s takes no inquiries (no decision rule)", t);
        if (!requester_ok(p, pi, name))
            return prb_seterr(env->err, PRB_EINVAL,
                              "key: purposes: the policy lets only its listed requesters ask for "
                              "%s, and '%s' is not one of them%s",
                              t, name, name[0] ? "" : " (give the key a --name)");
        size_t tl = strlen(t);
        int dup = 0;
        for (const char *q = out; *q; q += strcspn(q, ",") + (q[strcspn(q, ",")] ? 1 : 0))
            dup |= strcspn(q, ",") == tl && !strncmp(q, t, tl);
        if (dup)
            continue;
        if (w + tl + 2 > cap)
            return prb_seterr(env->err, PRB_EINVAL, "key: purposes: too long");
        if (w)
            out[w++] = ',';
        memcpy(out + w, t, tl + 1);
        w += tl;
    }
    if (!w)
        return prb_seterr(env->err, PRB_EINVAL, "key: an inquirer key needs --purposes");
    return PRB_OK;
}

/* Validates spec into k: the fields its role needs and no others. */
static int check_spec(prb_env *env, const prb_key *spec, prb_key *k)
{
    const char *role = prb_role_name(spec->role);
    memset(k, 0, sizeof *k);
    if (!role)
        return prb_seterr(env->err, PRB_EINVAL,
                          "key: role must be admin, furnisher, inquirer, reviewer or subject");
    k->role = spec->role;
    int wants_f = spec->role == PRB_ROLE_FURNISHER, wants_p = spec->role == PRB_ROLE_INQUIRER,
        wants_s = spec->role == PRB_ROLE_SUBJECT;
    if (!wants_f && spec->furnisher[0])
        return prb_seterr(env->err, PRB_EINVAL, "key: furnisher: only a furnisher key has one");
    if (!wants_p && spec->purposes[0])
        return prb_seterr(env->err, PRB_EINVAL, "key: purposes: only an inquirer key has them");
    if (!wants_s && spec->subject[0])
        return prb_seterr(env->err, PRB_EINVAL, "key: subject: only a subject key has one");
    if (spec->name[0] && !name_ok(spec->name))
        return prb_seterr(env->err, PRB_EINVAL, "key: name: " PRB_KEY_NAME_RULE);
    memcpy(k->name, spec->name, strlen(spec->name) + 1);
    if (wants_f) {
        if (!spec->furnisher[0])
            return prb_seterr(env->err, PRB_EINVAL, "key: a furnisher key needs --furnisher NAME");
        /* The name its records carry: a key for any other has every
         * batch refused. */
        if (!prb_furnisher_name_ok(spec->furnisher, strlen(spec->furnisher)))
            return prb_seterr(env->err, PRB_EINVAL,
                              "key: furnisher: must be " PRB_FURNISHER_NAME_RULE
                              ", the name its records carry");
        memcpy(k->furnisher, spec->furnisher, strlen(spec->furnisher) + 1);
        if (!k->name[0])
            memcpy(k->name, k->furnisher, strlen(k->furnisher) + 1);
    }
    if (wants_p) {
        int rc = check_purposes(env, spec->purposes, k->name, k->purposes, sizeof k->purposes);
        if (rc)
            return rc;
    }
    if (wants_s) {
        int scheme;
        if (!spec->subject[0])
            return prb_seterr(env->err, PRB_EINVAL, "key: a subject key needs --subject ID");
        if (prb_ident_normalize(spec->subject, strlen(spec->subject), k->subject, sizeof k->subject,
                                &scheme))
            return prb_seterr(env->err, PRB_EINVAL, "key: subject: %s", k->subject);
        /* A furnisher's own key names how it files a subject: it is no
         * credential of the subject's, and anyone who knows it is not
         * the subject. */
        if (scheme == PRB_SCHEME_EXT)
            return prb_seterr(env->err, PRB_EINVAL,
                              "key: subject: %s is a furnisher's own key (ext:); a subject key "
                              "needs an identifier the subject holds",
                              k->subject);
    }
    return PRB_OK;
}

static int hash_token(const char *token, unsigned char hash[PRB_HASH_LEN])
{
    size_t n = strnlen(token, PRB_TOKEN_MAX);
    if (n >= PRB_TOKEN_MAX || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)))
        return -1;
    prb_sha256(token, n, hash);
    return 0;
}

/* Stores k under hash in an open write transaction, with its leaf. */
static int put_key(prb_env *env, MDB_txn *txn, const unsigned char hash[PRB_HASH_LEN],
                   const prb_key *k, unsigned flags)
{
    unsigned char buf[KEY_HDR + sizeof(prb_key)];
    size_t n = encode(k, buf);
    MDB_val mk = {PRB_HASH_LEN, (void *)hash}, mv = {n, buf};
    int mrc = mdb_put(txn, env->keys, &mk, &mv, flags);
    if (mrc == MDB_KEYEXIST)
        return prb_seterr(env->err, PRB_EEXIST, "key: a token was drawn twice");
    if (mrc)
        return prb_mdb_fail(env, mrc, "storing a key");
    return prb_audit_log(env, PRB_LEAF_KEY, 0, prb_get_be64(hash), buf, n);
}

int prb_key_create(prb_env *env, const prb_key *spec, char token[PRB_TOKEN_MAX], prb_key *made)
{
    unsigned char raw[TOKEN_BYTES], hash[PRB_HASH_LEN];
    prb_key k;
    MDB_txn *txn;
    int rc = check_spec(env, spec, &k);
    token[0] = 0;
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return prb_seterr(env->err, PRB_EIO, "key: libsodium could not start");
    randombytes_buf(raw, sizeof raw);
    memcpy(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
    sodium_bin2base64(token + strlen(TOKEN_PREFIX), PRB_TOKEN_MAX - strlen(TOKEN_PREFIX), raw,
                      sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    prb_sha256(token, strlen(token), hash);
    id_of(hash, k.id);
    if (!k.name[0])
        snprintf(k.name, sizeof k.name, "key-%s", k.id);
    k.created = prb_now(env);
    if ((rc = prb_wtxn_begin(env, &txn)))
        goto fail;
    /* Resolved in the transaction that stores the key, so the number
     * kept is the one the identifier named when the key was made. */
    if (k.role == PRB_ROLE_SUBJECT && (rc = prb_subject_find(env, txn, k.subject, &k.subject_no))) {
        if (rc == PRB_ENOTFOUND)
            prb_seterr(env->err, rc,
                       "key: subject: no subject has %s; a subject key is made only for a "
                       "subject of the register",
                       k.subject);
        prb_wtxn_abort(env, txn);
        goto fail;
    }
    if ((rc = put_key(env, txn, hash, &k, MDB_NOOVERWRITE))) {
        prb_wtxn_abort(env, txn);
        goto fail;
    }
    if ((rc = prb_wtxn_commit(env, txn)))
        goto fail;
    if (made)
        *made = k;
    return PRB_OK;
fail:
    sodium_memzero(token, PRB_TOKEN_MAX);
    token[0] = 0;
    return rc;
}

/* Whether key, as read in txn, may be used: not revoked, and a subject
 * key's identifier still names the subject it was made for. */
static int key_live(prb_env *env, MDB_txn *txn, const prb_key *key)
{
    uint64_t no = 0;
    if (key->revoked)
        return prb_seterr(env->err, PRB_ENOTFOUND, "key %s was revoked", key->id);
    if (key->role != PRB_ROLE_SUBJECT)
        return PRB_OK;
    if (!strncmp(key->subject, "ext:", 4))
        return prb_seterr(env->err, PRB_ENOTFOUND,
                          "key %s names a furnisher's own key (%s), which is no subject's "
                          "credential",
                          key->id, key->subject);
    int rc = prb_subject_find(env, txn, key->subject, &no);
    if (rc && rc != PRB_ENOTFOUND)
        return rc;
    /* A key of layout 1 has no number: resolved at use, as before. */
    if (!key->subject_no)
        return PRB_OK;
    if (rc || no != key->subject_no)
        return prb_seterr(env->err, PRB_ENOTFOUND,
                          "key %s: %s no longer names the subject the key was made for", key->id,
                          key->subject);
    return PRB_OK;
}

/* A read transaction for a key check: the handle's kept one renewed (so
 * it reads the latest commit, as a new one would), or a new one. */
static int key_txn(prb_env *env, MDB_txn **txn)
{
    *txn = env->ktxn;
    env->ktxn = NULL;
    int mrc = *txn ? mdb_txn_renew(*txn) : mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, txn);
    if (mrc) {
        if (*txn)
            mdb_txn_abort(*txn);
        *txn = NULL;
        return prb_mdb_fail(env, mrc, "starting a read");
    }
    return PRB_OK;
}

/* Keeps txn, reset, for the handle's next check. */
static void key_txn_done(prb_env *env, MDB_txn *txn)
{
    mdb_txn_reset(txn);
    env->ktxn = txn;
}

int prb_key_check(prb_env *env, const char *token, prb_key *key)
{
    unsigned char hash[PRB_HASH_LEN];
    MDB_txn *txn;
    MDB_val k = {PRB_HASH_LEN, hash}, v;
    memset(key, 0, sizeof *key);
    if (!token || hash_token(token, hash))
        return prb_seterr(env->err, PRB_ENOTFOUND, "not a probity token");
    int rc = key_txn(env, &txn), mrc;
    if (rc)
        return rc;
    mrc = mdb_get(txn, env->keys, &k, &v);
    if (mrc == MDB_NOTFOUND)
        rc = prb_seterr(env->err, PRB_ENOTFOUND, "no key has this token");
    else if (mrc)
        rc = prb_mdb_fail(env, mrc, "reading a key");
    else if ((rc = decode(hash, &v, key)))
        rc = prb_seterr(env->err, rc, "key: malformed value");
    else
        rc = key_live(env, txn, key);
    key_txn_done(env, txn);
    return rc;
}

/* Finds the key with id within txn; its hash into hash. */
static int find_id(prb_env *env, MDB_txn *txn, const char *id, unsigned char hash[PRB_HASH_LEN],
                   prb_key *key)
{
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char want[8];
    size_t bin = 0;
    if (strlen(id) != 16 || sodium_hex2bin(want, sizeof want, id, 16, NULL, &bin, NULL) || bin != 8)
        return prb_seterr(env->err, PRB_ENOTFOUND, "no key has id '%.*s'",
                          prb_utf8_cut(id, strlen(id), 32), id);
    int mrc = mdb_cursor_open(txn, env->keys, &cur);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening a cursor");
    /* Keys are ordered by hash, and the id is the hash's first 8 bytes. */
    memset(hash, 0, PRB_HASH_LEN);
    memcpy(hash, want, 8);
    k.mv_size = PRB_HASH_LEN;
    k.mv_data = hash;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int rc = PRB_OK;
    if (mrc == MDB_NOTFOUND || (!mrc && (k.mv_size != PRB_HASH_LEN || memcmp(k.mv_data, want, 8))))
        rc = prb_seterr(env->err, PRB_ENOTFOUND, "no key has id '%s'", id);
    else if (mrc)
        rc = prb_mdb_fail(env, mrc, "reading keys");
    else {
        memcpy(hash, k.mv_data, PRB_HASH_LEN);
        if (decode(hash, &v, key))
            rc = prb_seterr(env->err, PRB_ECORRUPT, "key %s: malformed value", id);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Whether the key with id is live as txn reads it: PRB_ENOTFOUND if it
 * is gone or revoked (key_live). */
static int live_in(prb_env *env, MDB_txn *txn, const char *id)
{
    unsigned char hash[PRB_HASH_LEN];
    prb_key now;
    int rc = find_id(env, txn, id, hash, &now);
    return rc ? rc : key_live(env, txn, &now);
}

int prb_key_recheck(prb_env *env, const prb_key *key)
{
    MDB_txn *txn;
    int rc = key_txn(env, &txn);
    if (rc)
        return rc;
    rc = live_in(env, txn, key->id);
    key_txn_done(env, txn);
    return rc;
}

int prb_key_live_txn(prb_env *env, MDB_txn *txn, const char *id)
{
    int rc = live_in(env, txn, id);
    /* Not PRB_ENOTFOUND, which the call gives for what it was asked
     * about: a caller refused is told apart, and answered as a revoked
     * token is. */
    return rc == PRB_ENOTFOUND ? PRB_EREVOKED : rc;
}

void prb_set_caller(prb_env *env, const prb_key *key)
{
    snprintf(env->caller, sizeof env->caller, "%s", key ? key->id : "");
}

int prb_key_may_ask(prb_env *env, const prb_key *key, const char *purpose)
{
    size_t n = strlen(purpose);
    int pi = prb_policy_purpose(env->policy, purpose);
    if (key->role != PRB_ROLE_INQUIRER || pi < 0)
        return 0;
    for (const char *s = key->purposes; *s;) {
        size_t k = strcspn(s, ",");
        if (k == n && !strncmp(s, purpose, n))
            return requester_ok(env->policy, pi, key->name);
        s += k + (s[k] == ',');
    }
    return 0;
}

int prb_key_revoke(prb_env *env, const char *id)
{
    unsigned char hash[PRB_HASH_LEN];
    prb_key key;
    MDB_txn *txn;
    int rc = prb_wtxn_begin(env, &txn);
    if (rc)
        return rc;
    if ((rc = find_id(env, txn, id, hash, &key)))
        goto fail;
    if (key.revoked) {
        rc = prb_seterr(env->err, PRB_EEXIST, "key %s was revoked already", id);
        goto fail;
    }
    key.revoked = prb_now(env) > 0 ? prb_now(env) : 1;
    if ((rc = put_key(env, txn, hash, &key, 0)))
        goto fail;
    return prb_wtxn_commit(env, txn);
fail:
    prb_wtxn_abort(env, txn);
    return rc;
}

static json_t *time_json(int64_t t)
{
    char buf[21];
    prb_time_format(t, buf);
    return json_string(buf);
}

static json_t *key_json(const prb_key *k)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "id", k->id, "role", prb_role_name(k->role), "name", k->name);
    if (!o)
        return NULL;
    if (k->furnisher[0])
        json_object_set_new(o, "furnisher", json_string(k->furnisher));
    if (k->purposes[0]) {
        json_t *a = json_array();
        char buf[PRB_KEY_PURPOSES_MAX];
        memcpy(buf, k->purposes, sizeof buf);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(a, json_string(t));
        json_object_set_new(o, "purposes", a);
    }
    if (k->subject[0])
        json_object_set_new(o, "subject", json_string(k->subject));
    json_object_set_new(o, "created", time_json(k->created));
    json_object_set_new(o, "revoked", k->revoked ? time_json(k->revoked) : json_null());
    return o;
}

int prb_keys_json(prb_env *env, char **out)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    json_t *arr = json_array();
    int rc = PRB_OK, mrc;
    *out = NULL;
    if (!arr)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn))) {
        json_decref(arr);
        return prb_mdb_fail(env, mrc, "starting a read");
    }
    if ((mrc = mdb_cursor_open(txn, env->keys, &cur))) {
        rc = prb_mdb_fail(env, mrc, "opening a cursor");
        goto out;
    }
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        prb_key key;
        if (k.mv_size != PRB_HASH_LEN || decode(k.mv_data, &v, &key)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "keys: malformed value");
            break;
        }
        json_array_append_new(arr, key_json(&key));
    }
    if (!rc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, "reading keys");
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (!rc && !(*out = json_dumps(arr, JSON_INDENT(2))))
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    json_decref(arr);
    return rc;
}
