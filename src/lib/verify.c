/*
 * verify.c - probity verify: the audit log against itself, and the stored
 * data against the log.
 *
 * The tree is recomputed from the leaves and compared with every stored
 * tree hash, so a leaf edited without its tree (or a tree edited without
 * its leaves) shows. Then the last thing the log says about each record
 * version, inquiry, dispute, review, key and notice (written with hash
 * H, or deleted), each identifier and the subject entries that list
 * them, each list entry, idempotency entry and imported scorecard is
 * compared with what the store holds, and the indexes of inquiries,
 * notices, reviews and (furnisher, ref) with what they index: a value
 * changed, added or removed through raw LMDB, around the engine, is
 * reported by its id.
 * What this cannot see is a log rewritten whole with its data; that is
 * what signed tree heads held by others, and consistency proofs against
 * them, are for.
 */
#include "audit.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the log says last about one object: a record version (aux the
 * version), an inquiry, a dispute, a review, a key or a notice (TAG_*).
 * kind is the last leaf's; twice: a notice number logged as a new notice
 * more than once, which the engine never does (the first was removed
 * behind its back and the number given again). */
struct seen {
    uint64_t object;
    uint32_t aux;
    uint8_t tag, used, deleted, found, kind, twice;
    uint64_t leaf;
};

struct map {
    struct seen *s;
    size_t cap;
};

enum { TAG_RECORD, TAG_INQUIRY, TAG_DISPUTE, TAG_REVIEW, TAG_KEY, TAG_NOTICE };

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
    /* From the leaves: past the highest notice number logged, and how
     * many inquiries were logged (the inquiry log numbers them from 1,
     * and nothing deletes one). */
    uint64_t notice_end, inquiries;
};

/* Formats a line into line[at..cap), after what line already holds,
 * cut to fit with its newline, counts it in *count if given, and hands
 * it to the report. */
static void report_line(struct run *r, uint64_t *count, char *line, size_t cap, size_t at,
                        const char *fmt, va_list ap)
{
    int n = vsnprintf(line + at, cap - at - 1, fmt, ap);
    if (n < 0)
        return;
    if (count)
        ++*count;
    size_t len = at + (size_t)n;
    if (len > cap - 2)
        len = cap - 2;
    line[len++] = '\n';
    if (r->report && !r->stopped && r->report(r->ctx, line, len))
        r->stopped = 1;
}

static void finding(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(struct run *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    report_line(r, &r->st.problems, line, sizeof line, 0, fmt, ap);
    va_end(ap);
}

/* Tells the operator of something that is no problem of the register's,
 * with "warning: " before it: not counted, and verify still passes. */
static void warning(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warning(struct run *r, const char *fmt, ...)
{
    char line[2048] = "warning: ";
    va_list ap;
    va_start(ap, fmt);
    report_line(r, NULL, line, sizeof line, strlen(line), fmt, ap);
    va_end(ap);
}

/* Names what the policy in force holds that a policy adopted now may not:
 * it loads, as the register's, but the operator who edits it must write
 * those forms anew (docs/POLICY.md). */
static void old_forms(struct run *r, const prb_policy *p)
{
    if (p->old_forms)
        warning(r,
                "the policy in force (%s) uses forms a policy adopted now may not, kept as "
                "it was adopted with them; an edit of it must write them anew: %s",
                p->name, p->old_forms_text);
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
    /* What the tree stores: the subtrees of 8 leaves and more. */
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
     * was kept has none until its next commit; but every build that logs
     * the policy keeps it (policies were logged after roots were kept),
     * so a log with a policy leaf and no root lost it behind the engine's
     * back, and with it what shows an edit of its last leaves. */
    uint64_t rsize, policy = size;
    unsigned char root[PRB_HASH_LEN], want_root[PRB_HASH_LEN];
    rc = prb_audit_root(env, txn, &rsize, root);
    for (uint64_t i = 0; rc == PRB_ENOTFOUND && i < size && policy == size; i++)
        if (leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_POLICY)
            policy = i;
    if (rc == PRB_ENOTFOUND && policy < size)
        finding(r,
                "audit log: no root is kept, though leaf %llu logged the policy, which every "
                "build that logs it keeps the root with (removed behind the engine's back)",
                (unsigned long long)policy);
    else if (rc == PRB_OK && rsize != size)
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

/* Identifiers and subjects. A SUBJECT leaf logs one identifier linked to
 * a subject (object the subject, value the canonical identifier, aux its
 * kind since the kind was logged, 0 before). Nothing unlinks one, so
 * each identifier in ident must be the one a leaf linked, to the subject
 * it names, and each subject's own entry must list exactly the
 * identifiers linked to it: an identifier pointed at another subject made
 * `probity subject` give that subject's file, and decisions use its
 * records. */
struct idl {
    unsigned char h[PRB_HASH_LEN]; /* SHA-256 of the identifier */
    uint64_t subject, leaf;
    uint8_t used, found, listed;
};

struct subj {
    uint64_t id, leaf; /* the first leaf that linked an identifier to it */
    uint8_t used, kind, entry, decoded;
};

struct who {
    struct idl *i;
    size_t icap;
    struct subj *s;
    size_t scap;
    uint64_t top, top_leaf; /* the highest subject id logged, and where */
    /* The subject entry the walk of rec is in, and its record counter. */
    uint64_t cur;
    uint32_t cur_next;
    int cur_ok, cur_said;
};

static struct idl *idl_find(struct who *w, const unsigned char h[PRB_HASH_LEN])
{
    size_t i = prb_get_be64(h) & (w->icap - 1);
    for (;; i = (i + 1) & (w->icap - 1))
        if (!w->i[i].used || !memcmp(w->i[i].h, h, PRB_HASH_LEN))
            return &w->i[i];
}

static struct subj *subj_find(struct who *w, uint64_t id)
{
    size_t i = mix(id) & (w->scap - 1);
    for (;; i = (i + 1) & (w->scap - 1))
        if (!w->s[i].used || w->s[i].id == id)
            return &w->s[i];
}

static int build_who(struct run *r, const unsigned char *leaves, uint64_t size, struct who *w)
{
    size_t n = 0;
    for (uint64_t i = 0; i < size; i++)
        n += leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_SUBJECT;
    w->icap = w->scap = 256;
    while (w->icap < n * 2)
        w->icap <<= 1;
    w->scap = w->icap;
    if (!(w->i = calloc(w->icap, sizeof *w->i)) || !(w->s = calloc(w->scap, sizeof *w->s)))
        return prb_seterr(r->env->err, PRB_ENOMEM, "verify: out of memory");
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *l = leaves + i * PRB_LEAF_LEN;
        if (l[1] != PRB_LEAF_SUBJECT)
            continue;
        uint64_t id = prb_get_be64(l + 8);
        unsigned aux = (unsigned)(l[2] << 8 | l[3]);
        struct idl *d = idl_find(w, l + 16);
        struct subj *s = subj_find(w, id);
        /* A second link of one identifier (the engine makes none) leaves
         * the first: the second names no entry of ident. */
        if (!d->used)
            *d = (struct idl){{0}, id, i, 1, 0, 0};
        memcpy(d->h, l + 16, PRB_HASH_LEN);
        if (!s->used)
            *s = (struct subj){id, i, 1, 0, 0, 0};
        if (aux && !s->kind)
            s->kind = (uint8_t)aux;
        if (id >= w->top) {
            w->top = id;
            w->top_leaf = i;
        }
    }
    return PRB_OK;
}

static int check_idents(struct run *r, MDB_txn *txn, struct who *w)
{
    prb_env *env = r->env;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc;
    if ((mrc = mdb_cursor_open(txn, env->ident, &cur)))
        return prb_mdb_fail(env, mrc, "reading identifiers");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *id = (const char *)k.mv_data + 8;
        size_t il = k.mv_size > 8 ? k.mv_size - 8 : 0;
        unsigned char want[PRB_IDENT_KEY_MAX], h[PRB_HASH_LEN];
        if (!il || il > PRB_IDENT_MAX || v.mv_size != 8) {
            finding(r,
                    "an identifier entry of %zu bytes: malformed (altered behind the "
                    "engine's back)",
                    k.mv_size);
            continue;
        }
        int q = prb_utf8_cut(id, il, 100);
        prb_ident_key(want, id, il);
        if (memcmp(want, k.mv_data, 8))
            finding(r,
                    "identifier %.*s: its key is not the one the engine makes (altered "
                    "behind the engine's back)",
                    q, id);
        prb_sha256(id, il, h);
        struct idl *d = idl_find(w, h);
        uint64_t subject = prb_get_be64(v.mv_data);
        if (!d->used) {
            finding(r,
                    "identifier %.*s: stored but never logged (written behind the engine's "
                    "back)",
                    q, id);
            continue;
        }
        d->found = 1;
        if (d->subject != subject)
            finding(r,
                    "identifier %.*s: names subject %llu, but leaf %llu linked it to subject "
                    "%llu (altered behind the engine's back)",
                    q, id, (unsigned long long)subject, (unsigned long long)d->leaf,
                    (unsigned long long)d->subject);
    }
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading identifiers");
    /* The next subject id: one already given would give a new subject the
     * entry, and with it the file, of an old one. */
    MDB_val nk = {12, "next_subject"}, nv;
    if ((mrc = mdb_get(txn, env->meta, &nk, &nv)) && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the next subject id");
    if (w->top && (mrc || nv.mv_size != 8 || prb_get_be64(nv.mv_data) <= w->top))
        finding(r,
                "the next subject id is not past subject %llu, logged at leaf %llu (altered "
                "behind the engine's back)",
                (unsigned long long)w->top, (unsigned long long)w->top_leaf);
    return PRB_OK;
}

/* A subject's own entry (record number 0) against the identifiers linked
 * to it; its records follow it in rec, each below its record counter. */
static int check_subject_entry(struct run *r, struct who *w, uint64_t id, const MDB_val *v)
{
    prb_subject s;
    char *buf = malloc(v->mv_size + 1);
    const char *kinds[] = {"?", "person", "company"};
    if (!buf)
        return prb_seterr(r->env->err, PRB_ENOMEM, "verify: out of memory");
    w->cur = id;
    w->cur_ok = w->cur_said = 0;
    struct subj *e = subj_find(w, id);
    e->entry = e->used;
    if (prb_subject_decode(v->mv_data, v->mv_size, &s, buf, v->mv_size + 1)) {
        finding(r, "subject %llu: its entry is malformed (altered behind the engine's back)",
                (unsigned long long)id);
        goto out;
    }
    w->cur_ok = 1;
    w->cur_next = s.next_rseq;
    if (!e->used) {
        finding(r,
                "subject %llu: stored but no identifier was ever logged for it (written "
                "behind the engine's back)",
                (unsigned long long)id);
        goto out;
    }
    e->decoded = 1;
    if (e->kind && e->kind != s.kind)
        finding(r,
                "subject %llu: stored as a %s, but leaf %llu logged a %s (altered behind the "
                "engine's back)",
                (unsigned long long)id, kinds[s.kind <= 2 ? s.kind : 0],
                (unsigned long long)e->leaf, kinds[e->kind <= 2 ? e->kind : 0]);
    for (size_t i = 0; i < s.nidents; i++) {
        unsigned char h[PRB_HASH_LEN];
        prb_sha256(s.idents[i], strlen(s.idents[i]), h);
        struct idl *d = idl_find(w, h);
        if (!d->used || d->subject != id || d->listed) {
            finding(r,
                    "subject %llu: its entry lists an identifier %s (altered behind the "
                    "engine's back)",
                    (unsigned long long)id,
                    d->used && d->subject == id ? "twice" : "never linked to it");
            continue;
        }
        d->listed = 1;
    }
out:
    free(buf);
    return PRB_OK;
}

/* A record of the subject entry before it: below its counter, or the
 * next record would be given its number and overwrite it. */
static void check_record_number(struct run *r, struct who *w, uint64_t rid)
{
    if (!w->cur_ok || w->cur_said || rid >> PRB_RSEQ_BITS != w->cur ||
        (rid & PRB_RSEQ_MASK) < w->cur_next)
        return;
    w->cur_said = 1;
    finding(r,
            "subject %llu: its next record number is %u, but it has record %llu-%llu (altered "
            "behind the engine's back)",
            (unsigned long long)w->cur, w->cur_next, (unsigned long long)w->cur,
            (unsigned long long)(rid & PRB_RSEQ_MASK));
}

static void check_who_missing(struct run *r, struct who *w)
{
    for (size_t i = 0; i < w->icap; i++) {
        struct idl *d = &w->i[i];
        if (!d->used)
            continue;
        struct subj *s = subj_find(w, d->subject);
        if (!d->found)
            finding(r,
                    "subject %llu: the identifier linked at leaf %llu is missing from the "
                    "identifiers (removed behind the engine's back)",
                    (unsigned long long)d->subject, (unsigned long long)d->leaf);
        if (s->decoded && !d->listed)
            finding(r,
                    "subject %llu: the identifier linked at leaf %llu is missing from its "
                    "entry (removed behind the engine's back)",
                    (unsigned long long)d->subject, (unsigned long long)d->leaf);
    }
    for (size_t i = 0; i < w->scap; i++)
        if (w->s[i].used && !w->s[i].entry)
            finding(r,
                    "subject %llu: logged at leaf %llu but its entry is missing from the store "
                    "(removed behind the engine's back)",
                    (unsigned long long)w->s[i].id, (unsigned long long)w->s[i].leaf);
}

/* List entries. A LIST leaf logs an entry's key and value together
 * (object the subject), and since 2026-11-27 its aux tags which of the
 * subject's entries it is (prb_lists_leaf_tag): the tagged leaves of one
 * (subject, tag) are one entry's history, whose last must be the stored
 * value, and a tag no stored entry has is an entry removed (or its key
 * altered). Two entries of a subject may share a tag: then the last leaf
 * must be one of theirs, and each must be among the leaves. An untagged
 * leaf (a log of before) names no entry, but the engine then wrote an
 * entry in few states: made open (end 0, rearm 0, no end day), then
 * ended, then, expired, marked to rearm. The hashes of those states of
 * each stored entry (its key in each) take such a leaf to its entry; one
 * no entry takes is an entry removed, or altered out of the states it
 * could have been in. The states of a dispute (an entry suspended, then
 * restored with its dates or its mark cleared) cannot be guessed: the
 * day it was lifted is gone once it is restored, which is why leaves are
 * tagged. Deleting a list entry (a listing withdrawn by hand) passed. */
struct lent {
    uint64_t subject, leaf;
    int32_t since;
    uint8_t logged, in_group;
    size_t group, next; /* its (subject, tag) group and the next entry in it, index + 1 */
    unsigned char h[PRB_HASH_LEN];
    char list[PRB_NAME_MAX];
};

struct lcand {
    unsigned char h[PRB_HASH_LEN];
    size_t entry; /* index + 1; 0: free */
};

/* The tagged leaves of one (subject, tag), and the entries with its tag. */
struct lgroup {
    uint64_t subject, last;
    uint16_t tag;
    uint8_t used, logged;
    size_t first; /* entry index + 1; 0: none is stored */
};

#define LIST_HDR 20 /* lists.c's ENTRY_HDR */

static struct lcand *lcand_find(struct lcand *t, size_t cap, const unsigned char *h)
{
    size_t i = prb_get_be64(h) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1))
        if (!t[i].entry || !memcmp(t[i].h, h, PRB_HASH_LEN))
            return &t[i];
}

static struct lgroup *lgroup_find(struct lgroup *g, size_t cap, uint64_t subject, unsigned tag)
{
    size_t i = mix(subject ^ (uint64_t)tag << 48) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1))
        if (!g[i].used || (g[i].subject == subject && g[i].tag == tag))
            return &g[i];
}

/* Takes LIST leaf i to its entry: a tagged one to its group, an untagged
 * one through the hashes of the states an entry was written in. */
static void list_leaf(struct run *r, const unsigned char *l, uint64_t i, struct lent *e,
                      struct lcand *t, size_t cap, struct lgroup *g, size_t gcap)
{
    uint64_t subject = prb_get_be64(l + 8);
    unsigned tag = (unsigned)(l[2] << 8 | l[3]);
    struct lcand *c = lcand_find(t, cap, l + 16);
    if (tag) {
        struct lgroup *x = lgroup_find(g, gcap, subject, tag);
        if (!x->used)
            *x = (struct lgroup){subject, 0, (uint16_t)tag, 1, 0, 0};
        x->logged = 1;
        x->last = i;
        /* One of the group's entries as stored, logged here. */
        if (c->entry && e[c->entry - 1].group == (size_t)(x - g) + 1 &&
            !memcmp(e[c->entry - 1].h, l + 16, PRB_HASH_LEN))
            e[c->entry - 1].in_group = 1;
        return;
    }
    if (!c->entry) {
        finding(r,
                "subject %llu: the list entry logged at leaf %llu is not in the store "
                "(removed or altered behind the engine's back)",
                (unsigned long long)subject, (unsigned long long)i);
        return;
    }
    e[c->entry - 1].leaf = i;
    e[c->entry - 1].logged = 1;
}

/* Each stored entry against what the log says of it last. */
static void list_verdicts(struct run *r, const unsigned char *leaves, struct lent *e, size_t n,
                          struct lgroup *g, size_t gcap)
{
    for (size_t i = 0; i < n; i++) {
        char day[11];
        struct lgroup *x = &g[e[i].group - 1];
        int bad;
        uint64_t leaf = e[i].leaf;
        if (x->logged) {
            const unsigned char *last = leaves + x->last * PRB_LEAF_LEN + 16;
            int mine = 0;
            for (size_t j = x->first; j && !mine; j = e[j - 1].next)
                mine = !memcmp(e[j - 1].h, last, PRB_HASH_LEN);
            bad = !mine || !e[i].in_group;
            leaf = x->last;
        } else if (e[i].logged) {
            bad = memcmp(e[i].h, leaves + leaf * PRB_LEAF_LEN + 16, PRB_HASH_LEN) != 0;
        } else {
            prb_date_format(e[i].since, day);
            finding(r,
                    "list entry of subject %llu on %s since %s: stored but never logged "
                    "(written behind the engine's back)",
                    (unsigned long long)e[i].subject, e[i].list, day);
            continue;
        }
        if (!bad)
            continue;
        prb_date_format(e[i].since, day);
        finding(r,
                "list entry of subject %llu on %s since %s: altered: it is not what leaf %llu "
                "logged",
                (unsigned long long)e[i].subject, e[i].list, day, (unsigned long long)leaf);
    }
    for (size_t i = 0; i < gcap; i++)
        if (g[i].used && g[i].logged && !g[i].first)
            finding(r,
                    "subject %llu: the list entry logged at leaf %llu is not in the store "
                    "(removed or altered behind the engine's back)",
                    (unsigned long long)g[i].subject, (unsigned long long)g[i].last);
}

static int check_lists(struct run *r, MDB_txn *txn, const unsigned char *leaves, uint64_t size)
{
    prb_env *env = r->env;
    MDB_cursor *cur = NULL;
    MDB_stat ms;
    MDB_val k, v;
    struct lent *e = NULL;
    struct lcand *t = NULL;
    struct lgroup *g = NULL;
    size_t n = 0, cap = 256, gcap = 256, tagged = 0;
    unsigned char buf[8 + PRB_NAME_MAX + 5 + LIST_HDR + PRB_NAME_MAX];
    int rc = PRB_OK, mrc;
    if ((mrc = mdb_stat(txn, env->lst, &ms)))
        goto fail;
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *l = leaves + i * PRB_LEAF_LEN;
        tagged += l[1] == PRB_LEAF_LIST && (l[2] || l[3]);
    }
    while (cap < ms.ms_entries * 6)
        cap <<= 1;
    while (gcap < (ms.ms_entries + tagged) * 2)
        gcap <<= 1;
    if (!(e = calloc(ms.ms_entries + 1, sizeof *e)) || !(t = calloc(cap, sizeof *t)) ||
        !(g = calloc(gcap, sizeof *g))) {
        rc = prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
        goto out;
    }
    if ((mrc = mdb_cursor_open(txn, env->lst, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc && n < ms.ms_entries;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *kb = k.mv_data, *vb = v.mv_data;
        size_t ln = k.mv_size > 13 ? strnlen((const char *)kb + 8, k.mv_size - 8) : 0;
        if (!ln || k.mv_size != 13 + ln || ln >= PRB_NAME_MAX || v.mv_size <= LIST_HDR ||
            v.mv_size > LIST_HDR + PRB_NAME_MAX || vb[0] != 1 || vb[v.mv_size - 1]) {
            finding(r,
                    "a list entry of subject %llu: malformed (altered behind the engine's "
                    "back)",
                    k.mv_size >= 8 ? (unsigned long long)prb_get_be64(kb) : 0ULL);
            continue;
        }
        struct lent *x = &e[n++];
        x->subject = prb_get_be64(kb);
        memcpy(x->list, kb + 8, ln + 1);
        x->since = (int32_t)(((uint32_t)kb[9 + ln] << 24 | (uint32_t)kb[10 + ln] << 16 |
                              (uint32_t)kb[11 + ln] << 8 | kb[12 + ln]) ^
                             0x80000000u);
        unsigned tag = prb_lists_leaf_tag(kb, k.mv_size);
        struct lgroup *gr = lgroup_find(g, gcap, x->subject, tag);
        if (!gr->used)
            *gr = (struct lgroup){x->subject, 0, (uint16_t)tag, 1, 0, 0};
        x->group = (size_t)(gr - g) + 1;
        x->next = gr->first;
        gr->first = n;
        memcpy(buf, kb, k.mv_size);
        unsigned char *w = buf + k.mv_size;
        memcpy(w, vb, v.mv_size);
        prb_sha256(buf, k.mv_size + v.mv_size, x->h);
        /* The states an untagged leaf can have logged it in: as stored;
         * before it was marked to rearm; as made. */
        for (int s = 0; s < 3; s++) {
            unsigned char h[PRB_HASH_LEN];
            if (s >= 1)
                w[2] = 0;
            if (s == 2) {
                w[1] = 0;
                prb_put_le32(w + 16, PRB_NO_DATE);
            }
            if (s == 0)
                memcpy(h, x->h, sizeof h); /* as stored: hashed just above */
            else
                prb_sha256(buf, k.mv_size + v.mv_size, h);
            struct lcand *c = lcand_find(t, cap, h);
            if (!c->entry) {
                memcpy(c->h, h, PRB_HASH_LEN);
                c->entry = n;
            }
        }
    }
    if (mrc && mrc != MDB_NOTFOUND)
        goto fail;
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *l = leaves + i * PRB_LEAF_LEN;
        if (l[1] == PRB_LEAF_LIST)
            list_leaf(r, l, i, e, t, cap, g, gcap);
    }
    list_verdicts(r, leaves, e, n, g, gcap);
    goto out;
fail:
    rc = prb_mdb_fail(env, mrc, "reading list entries");
out:
    if (cur)
        mdb_cursor_close(cur);
    free(e);
    free(t);
    free(g);
    return rc;
}

/* Imported scorecards (meta "scorecard:NAME"), each logged once when
 * imported: the PMML (aux 0, before the name was logged too) or the name,
 * a NUL and the PMML (aux 1). An imported scorecard altered in meta
 * changed the scores of every purpose that uses it. */
static int check_scorecards(struct run *r, MDB_txn *txn, const unsigned char *leaves, uint64_t size)
{
    prb_env *env = r->env;
    MDB_cursor *cur = NULL;
    MDB_val k = {10, "scorecard:"}, v;
    size_t n = 0;
    uint64_t *at;
    uint8_t *matched;
    int rc = PRB_OK, mrc;
    for (uint64_t i = 0; i < size; i++)
        n += leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_SCORECARD;
    at = calloc(n + 1, sizeof *at);
    matched = calloc(n + 1, 1);
    if (!at || !matched) {
        free(at);
        free(matched);
        return prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
    }
    n = 0;
    for (uint64_t i = 0; i < size; i++)
        if (leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_SCORECARD)
            at[n++] = i;
    if ((mrc = mdb_cursor_open(txn, env->meta, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 10 || memcmp(k.mv_data, "scorecard:", 10))
            break;
        const char *name = (const char *)k.mv_data + 10;
        size_t nl = k.mv_size - 10;
        unsigned char h0[PRB_HASH_LEN], h1[PRB_HASH_LEN];
        unsigned char *b = malloc(nl + 1 + v.mv_size);
        if (!b) {
            rc = prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
            goto out;
        }
        memcpy(b, name, nl);
        b[nl] = 0;
        memcpy(b + nl + 1, v.mv_data, v.mv_size);
        prb_sha256(b, nl + 1 + v.mv_size, h1);
        prb_sha256(v.mv_data, v.mv_size, h0);
        free(b);
        size_t j;
        for (j = 0; j < n; j++) {
            const unsigned char *l = leaves + at[j] * PRB_LEAF_LEN;
            if (!matched[j] && !memcmp(l + 16, l[3] ? h1 : h0, PRB_HASH_LEN))
                break;
        }
        if (j < n)
            matched[j] = 1;
        else
            finding(r,
                    "scorecard %.*s: not what any leaf logged (altered or added behind the "
                    "engine's back)",
                    prb_utf8_cut(name, nl, PRB_NAME_MAX), name);
    }
    if (mrc && mrc != MDB_NOTFOUND)
        goto fail;
    for (size_t j = 0; j < n; j++)
        if (!matched[j])
            finding(r,
                    "the scorecard imported at leaf %llu is not in the store as logged "
                    "(removed or altered behind the engine's back)",
                    (unsigned long long)at[j]);
    goto out;
fail:
    rc = prb_mdb_fail(env, mrc, "reading scorecards");
out:
    if (cur)
        mdb_cursor_close(cur);
    free(at);
    free(matched);
    return rc;
}

/* Idempotency entries (idem.c), each logged when kept (aux 0) and when
 * let go (aux 1), by the sweep past 24 hours or by a key used again
 * after them, with the hash of the whole value: the decision a replay
 * answers. Its key is not logged, so a value is matched to the leaves by
 * its hash: one kept and not let go since must be stored, once; any
 * other stored is not what the log says. A decision edited in an entry
 * (decline made approve) was answered to the next request under its key,
 * and verify said ok. (A value moved to another key of the same purpose
 * and identifier still matches: that would take the key in the leaf.) */
struct ikept {
    unsigned char h[PRB_HASH_LEN];
    uint64_t leaf, subject; /* the last leaf of the hash, and its object */
    uint32_t kept;          /* kept and not let go since */
    uint8_t used;
};

static struct ikept *ikept_find(struct ikept *t, size_t cap, const unsigned char *h)
{
    size_t i = prb_get_be64(h) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1))
        if (!t[i].used || !memcmp(t[i].h, h, PRB_HASH_LEN))
            return &t[i];
}

/* Finds on an entry of the key k: its idempotency key and requester. */
static void idem_finding(struct run *r, const MDB_val *k, const char *what)
{
    const char *kb = k->mv_data, *nul = memchr(kb, 0, k->mv_size);
    size_t rl = nul ? (size_t)(nul - kb) : 0;
    const char *key = nul ? nul + 1 : kb;
    size_t kl = k->mv_size - (size_t)(key - kb);
    finding(r, "idempotency key '%.*s'%s%.*s: %s", prb_utf8_cut(key, kl, 100), key,
            rl ? " of " : "", prb_utf8_cut(kb, rl, 100), kb, what);
}

static int check_idem(struct run *r, MDB_txn *txn, const unsigned char *leaves, uint64_t size)
{
    prb_env *env = r->env;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t n = 0, cap = 256;
    char what[160];
    int mrc;
    for (uint64_t i = 0; i < size; i++)
        n += leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_IDEM;
    while (cap < n * 2)
        cap <<= 1;
    struct ikept *t = calloc(cap, sizeof *t);
    if (!t)
        return prb_seterr(env->err, PRB_ENOMEM, "verify: out of memory");
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *l = leaves + i * PRB_LEAF_LEN;
        if (l[1] != PRB_LEAF_IDEM)
            continue;
        struct ikept *e = ikept_find(t, cap, l + 16);
        if (!e->used)
            memcpy(e->h, l + 16, PRB_HASH_LEN);
        e->used = 1;
        e->leaf = i;
        e->subject = prb_get_be64(l + 8);
        if (!(l[2] | l[3]))
            e->kept++;
        else if (e->kept)
            e->kept--;
    }
    if ((mrc = mdb_cursor_open(txn, env->idem, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned char h[PRB_HASH_LEN];
        prb_sha256(v.mv_data, v.mv_size, h);
        struct ikept *e = ikept_find(t, cap, h);
        if (e->used && e->kept) {
            e->kept--;
            continue;
        }
        if (e->used)
            snprintf(what, sizeof what,
                     "stored, but leaf %llu let it go (written again behind the engine's back)",
                     (unsigned long long)e->leaf);
        else
            snprintf(what, sizeof what,
                     "not what any leaf logged (altered or written behind the engine's back)");
        idem_finding(r, &k, what);
    }
    if (mrc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    for (size_t i = 0; i < cap; i++)
        if (t[i].used && t[i].kept)
            finding(r,
                    "the idempotency key kept at leaf %llu (subject %llu) is not in the store "
                    "as logged (removed or altered behind the engine's back)",
                    (unsigned long long)t[i].leaf, (unsigned long long)t[i].subject);
    free(t);
    return PRB_OK;
fail:
    if (cur)
        mdb_cursor_close(cur);
    free(t);
    return prb_mdb_fail(env, mrc, "reading the idempotency keys");
}

/* The policy: meta's hash and policy.json against the last POLICY leaf.
 * Every write transaction first logs its handle's policy when it is not
 * the one logged last, so a file that differs was edited since the last
 * write (a handle opened on it since has only read), or meta's hash was
 * bent so that no write would log it. A register made before policies
 * were logged has neither leaf nor hash until its first write since. */
static int check_policy(struct run *r, MDB_txn *txn, const unsigned char *leaves, uint64_t size)
{
    prb_env *env = r->env;
    const unsigned char *last = NULL;
    uint64_t at = 0;
    char path[4096];
    unsigned char h[PRB_HASH_LEN];
    prb_policy *p = NULL;
    MDB_val k = {sizeof PRB_POLICY_HASH_KEY - 1, PRB_POLICY_HASH_KEY}, v;
    for (uint64_t i = size; i-- > 0 && !last;)
        if (leaves[i * PRB_LEAF_LEN + 1] == PRB_LEAF_POLICY)
            last = leaves + (at = i) * PRB_LEAF_LEN + 16;
    int mrc = mdb_get(txn, env->meta, &k, &v);
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the policy's hash");
    if (!last) {
        if (!mrc)
            finding(r, "the policy was never logged (meta keeps a hash of it)");
        old_forms(r, env->policy);
        return PRB_OK;
    }
    if (mrc || v.mv_size != PRB_HASH_LEN || memcmp(v.mv_data, last, PRB_HASH_LEN))
        finding(r,
                "the policy's hash kept in meta is not the one leaf %llu logged (altered behind "
                "the engine's back)",
                (unsigned long long)at);
    snprintf(path, sizeof path, "%s/" PRB_POLICY_FILE, env->dir);
    if (prb_policy_load_kept(path, last, &p))
        finding(r, "%s", prb_policy_errmsg(p));
    else {
        prb_sha256(p->text, p->text_len, h);
        if (memcmp(h, last, PRB_HASH_LEN))
            finding(r,
                    "the policy changed since it was last logged (leaf %llu): %s is not the "
                    "policy logged",
                    (unsigned long long)at, path);
        old_forms(r, p);
    }
    prb_policy_free(p);
    return PRB_OK;
}

/* What a leaf of kind logs, for the map (TAG_*); -1 for what is not
 * compared with the store through it (identifiers, list entries,
 * scorecards and idempotency keys have checks of their own). Disputes, reviews and keys
 * were not compared at all: a dispute turned from open to upheld in raw
 * LMDB made its record usable again, an admin key added so gave its
 * holder the register, and verify said ok; nor were notices, and one
 * deleted from the outbox was lost to its subject's copy. */
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
    case PRB_LEAF_NOTICE:
    case PRB_LEAF_DELIVERED:
    case PRB_LEAF_ATTEMPT:
        return TAG_NOTICE;
    default:
        return -1;
    }
}

/* The last word of the log on each record version, inquiry, dispute,
 * review, key and notice. */
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
        uint64_t object = prb_get_be64(l + 8);
        struct seen *s = map_find(m, tag, object, aux);
        int twice = s->twice || (kind == PRB_LEAF_NOTICE && s->used);
        *s = (struct seen){object,         aux, tag, 1, kind == PRB_LEAF_DELETE, 0, (uint8_t)kind,
                           (uint8_t)twice, i};
        if (kind == PRB_LEAF_NOTICE && object >= r->notice_end)
            r->notice_end = object + 1;
        r->inquiries += kind == PRB_LEAF_INQUIRY;
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
    else if (s->tag == TAG_NOTICE)
        snprintf(buf, n, "notice %llu", (unsigned long long)s->object);
    else
        snprintf(buf, n, "record %llu-%llu version %u",
                 (unsigned long long)(s->object >> PRB_RSEQ_BITS),
                 (unsigned long long)(s->object & PRB_RSEQ_MASK), s->aux);
}

/* One stored value against the log: 1 if it is what the log says, else
 * 0 and a finding. */
static int check_value(struct run *r, struct map *m, const unsigned char *leaves, uint8_t tag,
                       uint64_t object, uint32_t aux, const void *v, size_t vn)
{
    char name[96];
    unsigned char h[PRB_HASH_LEN];
    struct seen *s = map_find(m, tag, object, aux);
    if (!s->used) {
        struct seen tmp = {object, aux, tag, 1, 0, 0, 0, 0, 0};
        name_of(&tmp, name, sizeof name);
        finding(r, "%s: stored but never logged (written behind the engine's back)", name);
        return 0;
    }
    s->found = 1;
    name_of(s, name, sizeof name);
    if (s->deleted) {
        finding(r, "%s: stored, but the log says it was deleted (leaf %llu)", name,
                (unsigned long long)s->leaf);
        return 0;
    }
    /* A new notice's leaf hashes its JSON, without the subject before it
     * (which its "identifier" names, check_notice_subject); a delivery's
     * or an attempt's the whole value. */
    if (s->tag == TAG_NOTICE && s->kind == PRB_LEAF_NOTICE) {
        v = (const unsigned char *)v + 8;
        vn -= 8;
    }
    prb_sha256(v, vn, h);
    if (!memcmp(h, leaves + s->leaf * PRB_LEAF_LEN + 16, PRB_HASH_LEN))
        return 1;
    finding(r, "%s: altered: it is not what leaf %llu logged", name, (unsigned long long)s->leaf);
    return 0;
}

/* The (furnisher, ref) index (fref) against the records. Ingest finds a
 * record and its last version through it alone: an entry removed made
 * the next line of that ref a new record, leaving the old one current
 * beside it; a version set back made the next correction overwrite a
 * stored version; an entry bent to another record corrected that one.
 * No leaf logs the index (each step of those logs a valid leaf), so it
 * is held to the records: each record, in the walk of rec, keeps its
 * last version and what its furnisher and ref hash to, and one walk of
 * fref then finds each entry's record among them. A record version
 * added or removed behind the engine's back also leaves the index behind
 * the store, but the index then agrees with the log, and the version is
 * named against the log instead. */
struct fref_rec {
    uint64_t rid;
    unsigned char fp[16]; /* SHA-256 of its furnisher, NUL, ref: an fref key's rest */
    uint16_t last;
    uint8_t readable, logged, indexed;
};

struct frefs {
    struct fref_rec *e; /* in rid order, as rec holds them */
    size_t n, cap, icap;
    uint32_t *idx; /* open addressing by rid: index in e + 1; 0: free */
    MDB_val last;  /* the last version of e[n - 1] seen so far */
};

static void fref_name(char *buf, size_t n, uint64_t rid)
{
    snprintf(buf, n, "record %llu-%llu", (unsigned long long)(rid >> PRB_RSEQ_BITS),
             (unsigned long long)(rid & PRB_RSEQ_MASK));
}

/* The fingerprint of e's furnisher and ref, from its last version (one
 * that cannot be read is not what its leaf logged, and named so). */
static void fref_close(struct frefs *f)
{
    if (!f->n)
        return;
    struct fref_rec *e = &f->e[f->n - 1];
    const unsigned char *v = f->last.mv_data;
    size_t n = f->last.mv_size;
    if (n < PRB_REC_HDR)
        return;
    size_t fl = (size_t)(v[16] | v[17] << 8), rl = (size_t)(v[18] | v[19] << 8);
    size_t at = PRB_REC_HDR + (size_t)v[2] + 1;
    if (at + fl + 1 + rl > n || v[at + fl])
        return;
    unsigned char h[PRB_HASH_LEN];
    prb_sha256(v + at, fl + 1 + rl, h);
    memcpy(e->fp, h, sizeof e->fp);
    e->readable = 1;
}

/* Version ver of record rid, value v, in the walk of rec; logged: it is
 * what the log says. */
static int fref_note(struct run *r, struct frefs *f, uint64_t rid, uint32_t ver, const MDB_val *v,
                     int logged)
{
    if (!f->n || f->e[f->n - 1].rid != rid) {
        fref_close(f);
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 1024;
            struct fref_rec *e = realloc(f->e, cap * sizeof *e);
            if (!e)
                return prb_seterr(r->env->err, PRB_ENOMEM, "verify: out of memory");
            f->e = e;
            f->cap = cap;
        }
        f->e[f->n++] = (struct fref_rec){rid, {0}, 0, 0, 0, 0};
    }
    f->e[f->n - 1].last = (uint16_t)ver;
    f->e[f->n - 1].logged |= (uint8_t)logged;
    f->last = *v; /* valid as long as the read transaction */
    return PRB_OK;
}

/* The records by id, for the walk of fref, whose order (by hash) is
 * not theirs: a binary search of them was most of that walk's time. */
static int fref_index(struct run *r, struct frefs *f)
{
    f->icap = 1024;
    while (f->icap < f->n * 2)
        f->icap <<= 1;
    if (!(f->idx = calloc(f->icap, sizeof *f->idx)))
        return prb_seterr(r->env->err, PRB_ENOMEM, "verify: out of memory");
    for (size_t i = 0; i < f->n; i++) {
        size_t j = mix(f->e[i].rid) & (f->icap - 1);
        while (f->idx[j])
            j = (j + 1) & (f->icap - 1);
        f->idx[j] = (uint32_t)(i + 1);
    }
    return PRB_OK;
}

static struct fref_rec *fref_find(struct frefs *f, uint64_t rid)
{
    for (size_t j = mix(rid) & (f->icap - 1); f->idx[j]; j = (j + 1) & (f->icap - 1))
        if (f->e[f->idx[j] - 1].rid == rid)
            return &f->e[f->idx[j] - 1];
    return NULL;
}

/* Whether the log holds version ver of record rid as stored. */
static int logged_stored(struct map *m, uint64_t rid, uint32_t ver)
{
    struct seen *s = map_find(m, TAG_RECORD, rid, ver);
    return s->used && !s->deleted;
}

/* One entry of fref, key k and value v, against the records. An entry
 * that leads to a record with its own furnisher and ref is the record's
 * (keys are unique, so no record has two); any other is named here, and
 * a record left without one after the walk. */
static void fref_entry(struct run *r, struct map *m, struct frefs *f, const MDB_val *k,
                       const MDB_val *v)
{
    const unsigned char *kb = k->mv_data, *vb = v->mv_data;
    const char *furn = (const char *)kb + 8, *nul;
    char name[64];
    unsigned char h[PRB_HASH_LEN];
    if (k->mv_size < 10 || v->mv_size != PRB_RECKEY_LEN ||
        !(nul = memchr(furn, 0, k->mv_size - 8))) {
        finding(r,
                "the (furnisher, ref) index: an entry of a %zu-byte key and a %zu-byte value: "
                "malformed (written behind the engine's back)",
                k->mv_size, v->mv_size);
        return;
    }
    int fl = prb_utf8_cut(furn, (size_t)(nul - furn), 64);
    int rl = prb_utf8_cut(nul + 1, k->mv_size - 9 - (size_t)(nul - furn), 128);
    uint64_t rid = prb_get_be64(vb);
    uint32_t ver = (uint32_t)(vb[8] << 8 | vb[9]);
    fref_name(name, sizeof name, rid);
    if (prb_get_be64(kb) != prb_hash(furn, k->mv_size - 8)) {
        finding(r,
                "the (furnisher, ref) index: the entry of %.*s ref %.*s: its key is not the one "
                "the engine makes, so ingest does not find it (altered behind the engine's back)",
                fl, furn, rl, nul + 1);
        return;
    }
    struct fref_rec *e = fref_find(f, rid);
    /* Where the index and the store disagree, but the index gives what
     * the log holds as the record's last version, the store's versions
     * are named against the log. */
    int last =
        (!e || ver != e->last) && logged_stored(m, rid, ver) && !logged_stored(m, rid, ver + 1);
    if (!e) {
        if (!last)
            finding(r,
                    "the (furnisher, ref) index: %.*s ref %.*s leads to %s, which is not stored "
                    "(altered behind the engine's back)",
                    fl, furn, rl, nul + 1, name);
        return;
    }
    prb_sha256(furn, k->mv_size - 8, h);
    if (e->readable && memcmp(h, e->fp, sizeof e->fp)) {
        finding(r,
                "%s: the (furnisher, ref) index leads %.*s ref %.*s to it, which are not its "
                "furnisher and ref (altered behind the engine's back)",
                name, fl, furn, rl, nul + 1);
        return;
    }
    e->indexed = 1;
    if (ver != e->last && !last)
        finding(r,
                "%s: the (furnisher, ref) index gives version %u, but its last is %u, so a "
                "correction would %s (altered behind the engine's back)",
                name, ver, e->last, ver < e->last ? "overwrite a stored version" : "skip versions");
}

/* Entries of fref taken at a time: the slots of their records are asked
 * for ahead, so that the cache misses of one overlap with the others'. */
#define FREF_AHEAD 32

static void fref_entries(struct run *r, struct map *m, struct frefs *f, const MDB_val *k,
                         const MDB_val *v, size_t n)
{
    size_t at[FREF_AHEAD];
    for (size_t i = 0; i < n; i++) {
        at[i] =
            v[i].mv_size == PRB_RECKEY_LEN ? mix(prb_get_be64(v[i].mv_data)) & (f->icap - 1) : 0;
        __builtin_prefetch(&f->idx[at[i]]);
    }
    for (size_t i = 0; i < n; i++)
        if (f->idx[at[i]])
            __builtin_prefetch(&f->e[f->idx[at[i]] - 1]);
    for (size_t i = 0; i < n; i++)
        fref_entry(r, m, f, &k[i], &v[i]);
}

static int check_frefs(struct run *r, MDB_txn *txn, struct map *m, struct frefs *f)
{
    MDB_cursor *cur;
    MDB_val k[FREF_AHEAD], v[FREF_AHEAD];
    size_t n = 0;
    char name[64];
    int rc, mrc;
    fref_close(f);
    if ((rc = fref_index(r, f)))
        return rc;
    if ((mrc = mdb_cursor_open(txn, r->env->fref, &cur)))
        return prb_mdb_fail(r->env, mrc, "reading the (furnisher, ref) index");
    /* What a read transaction's cursor gives stays valid until it ends. */
    for (mrc = mdb_cursor_get(cur, &k[0], &v[0], MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k[n], &v[n], MDB_NEXT))
        if (++n == FREF_AHEAD) {
            fref_entries(r, m, f, k, v, n);
            n = 0;
        }
    fref_entries(r, m, f, k, v, n);
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND)
        return prb_mdb_fail(r->env, mrc, "reading the (furnisher, ref) index");
    /* A record no version of which is what the log says was written
     * around the engine whole, and is named so. */
    for (size_t i = 0; i < f->n; i++) {
        if (f->e[i].indexed || !f->e[i].logged)
            continue;
        fref_name(name, sizeof name, f->e[i].rid);
        finding(r,
                "%s: no entry of the (furnisher, ref) index leads to it, so the next line of its "
                "ref would make a new record beside it (removed or altered behind the engine's "
                "back)",
                name);
    }
    return PRB_OK;
}

static int check_store(struct run *r, MDB_txn *txn, const unsigned char *leaves, struct map *m,
                       struct who *w, struct frefs *f)
{
    prb_env *env = r->env;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc;
    if ((mrc = mdb_cursor_open(txn, env->rec, &cur)))
        return prb_mdb_fail(env, mrc, "reading records");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *kb = k.mv_data;
        /* A key of another length among a subject's records ended its
         * file there: the loader stopped at it and read no record after. */
        if (k.mv_size != PRB_RECKEY_LEN) {
            if (k.mv_size >= 8)
                finding(r,
                        "subject %llu: a key of %zu bytes among its records (written behind the "
                        "engine's back)",
                        (unsigned long long)(prb_get_be64(kb) >> PRB_RSEQ_BITS), k.mv_size);
            else
                finding(r, "records: a key of %zu bytes (written behind the engine's back)",
                        k.mv_size);
            continue;
        }
        uint64_t rid = prb_get_be64(kb);
        if (!(rid & PRB_RSEQ_MASK)) {
            int rc = check_subject_entry(r, w, rid >> PRB_RSEQ_BITS, &v);
            if (rc) {
                mdb_cursor_close(cur);
                return rc;
            }
            continue;
        }
        check_record_number(r, w, rid);
        r->st.records++;
        uint32_t ver = (uint32_t)(kb[8] << 8 | kb[9]);
        int logged = check_value(r, m, leaves, TAG_RECORD, rid, ver, v.mv_data, v.mv_size);
        int rc = fref_note(r, f, rid, ver, &v, logged);
        if (rc) {
            mdb_cursor_close(cur);
            return rc;
        }
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
    prb_iorder order = {1, INT32_MIN, 0, 0};
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
        int outcome, have_hdr;
        const char *lpurpose;
        size_t lpl;
        int32_t lday = 0;
        if ((have_hdr = !prb_inquiry_header(inq, len, &lpurpose, &lpl, &outcome))) {
            lday = prb_get_le32((const unsigned char *)inq + 4);
            prb_iorder_add(&order, g, lday);
        }
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
        /* Decisions take the day and purpose from the index alone, and
         * read back from the newest only until a day before their window:
         * one entry's day bent back would hide every older inquiry of its
         * subject from them. */
        else if (have_hdr && day != lday)
            finding(r,
                    "decision %llu-q%u: the index by subject gives another day than the inquiry "
                    "log, so decisions would miss inquiries (altered behind the engine's back)",
                    (unsigned long long)subject, no);
        else if (have_hdr && (pl != lpl || memcmp(purpose, lpurpose, pl)))
            finding(r,
                    "decision %llu-q%u: the index by subject gives another purpose than the "
                    "inquiry log, so decisions would miscount inquiries (altered behind the "
                    "engine's back)",
                    (unsigned long long)subject, no);
    }
    mdb_cursor_close(cur);
    if (mrc != MDB_NOTFOUND) {
        mdb_txn_abort(it);
        return prb_mdb_fail(env, mrc, "reading inquiries");
    }
    /* Marks of the order of the days that understate it would hide from
     * a decision inquiries its windows hold (prb_iidx_recent). Made from
     * more of the log (an index ahead of this snapshot), they only say
     * more. Marks that do not describe the index are not used. */
    prb_iorder have;
    if ((rc = prb_iidx_order(env, it, &have)) == PRB_ECORRUPT)
        finding(r, "the inquiry index's order is malformed (altered behind the engine's back)");
    else if (!rc && have.upto == upto &&
             (have.latest < order.latest || have.behind < order.behind || have.last < order.last))
        finding(r, "the inquiry index's order understates the inquiry log's: decisions would "
                   "miss inquiries (altered behind the engine's back)");
    else if (rc && rc != PRB_ENOTFOUND) {
        mdb_txn_abort(it);
        return rc;
    }
    /* The log's end is where the leaves put it, not where its own last
     * entry does: the newest inquiry removed would otherwise make its
     * index entry look like a later commit's. */
    if (r->inquiries + 1 > end)
        end = r->inquiries + 1;
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
    return PRB_OK;
}

/* What the log holds that the store does not, once the store was read. */
static void check_missing(struct run *r, struct map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        struct seen *s = &m->s[i];
        char name[96];
        if (!s->used)
            continue;
        name_of(s, name, sizeof name);
        if (s->twice)
            finding(r,
                    "%s: logged as a new notice more than once (the notice first logged under "
                    "it was removed behind the engine's back and its number given again)",
                    name);
        if (s->deleted || s->found)
            continue;
        finding(r,
                "%s: logged at leaf %llu but missing from the store (removed behind the "
                "engine's back)",
                name, (unsigned long long)s->leaf);
    }
}

/* Whether a notice whose last leaf logged only its JSON is filed under
 * the subject its "identifier" names: the subject before the JSON is
 * what puts it in a copy, and no leaf covers it until it is delivered.
 * An identifier the register does not know (or no JSON) is left alone:
 * it says nothing of the subject. */
static int check_notice_subject(struct run *r, MDB_txn *txn, uint64_t no, const MDB_val *v)
{
    json_t *n = json_loadb((const char *)v->mv_data + 8, v->mv_size - 8, 0, NULL);
    const char *id = json_string_value(json_object_get(n, "identifier"));
    size_t il = id ? strlen(id) : 0;
    int rc = PRB_OK;
    if (id && il <= PRB_IDENT_MAX) {
        unsigned char ik[PRB_IDENT_KEY_MAX];
        MDB_val k = {prb_ident_key(ik, id, il), ik}, sv;
        int mrc = mdb_get(txn, r->env->ident, &k, &sv);
        if (mrc && mrc != MDB_NOTFOUND)
            rc = prb_mdb_fail(r->env, mrc, "reading an identifier");
        else if (!mrc && sv.mv_size == 8 && memcmp(sv.mv_data, v->mv_data, 8))
            finding(r,
                    "notice %llu: filed under subject %llu, but its identifier is subject %llu's "
                    "(altered behind the engine's back)",
                    (unsigned long long)no, (unsigned long long)prb_get_be64(v->mv_data),
                    (unsigned long long)prb_get_be64(sv.mv_data));
    }
    json_decref(n);
    return rc;
}

/* Each notice in the outbox against the last leaf that logged it, and the
 * index of notices by subject against the outbox, both ways, so that a
 * notice cannot be hidden from its subject's copy by removing or
 * bending its index entry. Notices from nupto on are not indexed yet. */
static int check_notices(struct run *r, MDB_txn *txn, const unsigned char *leaves, struct map *m)
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
        check_value(r, m, leaves, TAG_NOTICE, no, 0, v.mv_data, v.mv_size);
        struct seen *s = map_find(m, TAG_NOTICE, no, 0);
        if (s->used && s->kind == PRB_LEAF_NOTICE && (rc = check_notice_subject(r, txn, no, &v)))
            goto out;
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
    /* The outbox's end is where the leaves put it: the newest notices
     * removed from it would otherwise look like a later commit's. */
    if (r->notice_end > end)
        end = r->notice_end;
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

/* The index of reviews by decision (rvq) against the reviews, both ways:
 * a review whose entry was removed could be asked for again, and its
 * decision reviewed twice; an entry bent to another review, or to none,
 * would refuse or allow a request for the wrong reason. A review whose
 * value names no decision of its subject is reported against its leaf
 * (check_store). Of the reviews of one decision, which a register from
 * before a decision was reviewed once may hold, the entry names one. */
static int check_review_index(struct run *r, MDB_txn *txn)
{
    prb_env *env = r->env;
    MDB_cursor *cur = NULL;
    MDB_val k, v, iv;
    unsigned char key[PRB_RVQ_KEY_LEN];
    int mrc, irc;
    if ((mrc = mdb_cursor_open(txn, env->rvw, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t id = k.mv_size == 8 ? prb_get_be64(k.mv_data) : 0;
        if (!id || prb_review_decision_key(id, v.mv_data, v.mv_size, key))
            continue;
        MDB_val ik = {PRB_RVQ_KEY_LEN, key};
        if ((irc = mdb_get(txn, env->rvq, &ik, &iv)) && irc != MDB_NOTFOUND) {
            mrc = irc;
            goto fail;
        }
        if (irc)
            finding(r,
                    "review %llu-r%llu: missing from the index of reviews by decision (altered "
                    "behind the engine's back)",
                    (unsigned long long)(id >> PRB_RSEQ_BITS),
                    (unsigned long long)(id & PRB_RSEQ_MASK));
    }
    if (mrc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    if ((mrc = mdb_cursor_open(txn, env->rvq, &cur)))
        goto fail;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PRB_RVQ_KEY_LEN || v.mv_size != 8) {
            finding(r,
                    "the index of reviews by decision: a key of %zu bytes with a value of %zu "
                    "(written behind the engine's back)",
                    k.mv_size, v.mv_size);
            continue;
        }
        const unsigned char *kb = k.mv_data;
        uint32_t no = prb_inq_no(kb); /* a decision's key is its inquiry's */
        uint64_t id = prb_get_be64(v.mv_data);
        MDB_val rv = {8, v.mv_data}; /* the review's key in rvw */
        if ((irc = mdb_get(txn, env->rvw, &rv, &iv)) && irc != MDB_NOTFOUND) {
            mrc = irc;
            goto fail;
        }
        if (irc || prb_review_decision_key(id, iv.mv_data, iv.mv_size, key) ||
            memcmp(key, kb, PRB_RVQ_KEY_LEN))
            finding(r,
                    "decision %llu-q%u: the index of reviews by decision leads to review "
                    "%llu-r%llu, %s (altered behind the engine's back)",
                    (unsigned long long)prb_get_be64(kb), no,
                    (unsigned long long)(id >> PRB_RSEQ_BITS),
                    (unsigned long long)(id & PRB_RSEQ_MASK),
                    irc ? "which is not stored" : "which is not a review of it");
    }
    if (mrc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    return PRB_OK;
fail:
    if (cur)
        mdb_cursor_close(cur);
    return prb_mdb_fail(env, mrc, "checking the index of reviews");
}

int prb_verify(prb_env *env, prb_write_fn report, void *ctx, prb_verify_stats *st)
{
    struct run r = {env, report, ctx, {0, 0, 0}, 0, 0, 0};
    struct map m = {NULL, 0};
    struct frefs f = {NULL, 0, 0, 0, NULL, {0, NULL}};
    struct who w;
    memset(&w, 0, sizeof w);
    unsigned char *leaves = NULL;
    MDB_txn *txn;
    uint64_t size;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((rc = prb_audit_size(env, txn, &size)) || (rc = read_leaves(&r, txn, size, &leaves)) ||
        (rc = check_tree(&r, txn, leaves, size)) || (rc = build_map(&r, leaves, size, &m)) ||
        (rc = build_who(&r, leaves, size, &w)) || (rc = check_idents(&r, txn, &w)) ||
        (rc = check_store(&r, txn, leaves, &m, &w, &f)) || (rc = check_frefs(&r, txn, &m, &f)) ||
        (rc = check_review_index(&r, txn)) || (rc = check_notices(&r, txn, leaves, &m)) ||
        (rc = check_lists(&r, txn, leaves, size)) ||
        (rc = check_scorecards(&r, txn, leaves, size)) ||
        (rc = check_idem(&r, txn, leaves, size)) || (rc = check_policy(&r, txn, leaves, size)))
        goto out;
    check_missing(&r, &m);
    check_who_missing(&r, &w);
    r.st.leaves = size;
    if (r.st.problems)
        rc = prb_seterr(env->err, PRB_ECORRUPT, "%s: verify found %llu problem%s", env->dir,
                        (unsigned long long)r.st.problems, r.st.problems == 1 ? "" : "s");
out:
    mdb_txn_abort(txn);
    free(leaves);
    free(m.s);
    free(f.e);
    free(f.idx);
    free(w.i);
    free(w.s);
    if (st)
        *st = r.st;
    return rc;
}
