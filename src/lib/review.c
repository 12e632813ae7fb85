/*
 * review.c - human review of a decision (DESIGN invariant 9): a subject
 * who was refused, or referred, may ask that a person look at the
 * decision; a reviewer upholds or overturns it, with a note saying why.
 *
 * A review lives in rvw under a be64 id shaped like a record id, subject
 * id << 24 | the subject's review number, so a subject's reviews are one
 * key range (for its copy) and the next number is the last key of that
 * range plus one. Outside the engine a review is called "S-rN" (subject,
 * review number), as a decision is "S-qN" (decide.c). The value is the
 * review as compact JSON; each write of it (request, decision) is logged
 * in the audit log under the review id and sends the subject a notice.
 * An overturn also tells the decision's requester (told.c).
 *
 * rvq indexes the reviews by decision (be64 subject, be32 inquiry
 * number -> be64 review id), written in the transaction that stores the
 * request: a request finds an earlier review of its decision with one
 * lookup, not by reading every review of the subject. A register of
 * store format 4 or earlier, which had no rvq, is given one from rvw
 * when opened (prb_reviews_index).
 */
#include "internal.h"
#include "audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "S-<tag>N" (a decision "12-q3", a review "12-r1"): decimal
 * subject and number, nothing else. */
static int parse_id(const char *s, char tag, uint64_t *subject, uint64_t *n, uint64_t nmax)
{
    uint64_t a = 0, b = 0;
    const char *p = s;
    if (!s || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (a > (UINT64_MAX >> PRB_RSEQ_BITS) / 10)
            return -1;
        a = a * 10 + (uint64_t)(*p - '0');
    }
    if (*p++ != '-' || *p++ != tag || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (b > nmax / 10)
            return -1;
        b = b * 10 + (uint64_t)(*p - '0');
    }
    if (*p || a == 0 || b == 0 || b > nmax || a > (UINT64_MAX >> PRB_RSEQ_BITS))
        return -1;
    *subject = a;
    *n = b;
    return 0;
}

static void review_name(char *buf, size_t n, uint64_t id)
{
    snprintf(buf, n, "%llu-r%llu", (unsigned long long)(id >> PRB_RSEQ_BITS),
             (unsigned long long)(id & PRB_RSEQ_MASK));
}

/* Calls fn on every review of subject (subject 0: of every subject), in
 * id order, with the parsed value; a non-zero return stops the walk and
 * is returned. *last gets the last review id seen (0 if none). */
typedef int (*review_fn)(void *ctx, uint64_t id, json_t *review);

struct parse {
    prb_env *env;
    review_fn fn;
    void *ctx;
};

/* Hands each stored review to the walk's function as JSON. */
static int parsed(void *ctx, uint64_t id, const MDB_val *v)
{
    struct parse *p = ctx;
    json_error_t jerr;
    json_t *r = json_loadb(v->mv_data, v->mv_size, 0, &jerr);
    if (!r) {
        char name[48];
        review_name(name, sizeof name, id);
        return prb_seterr(p->env->err, PRB_ECORRUPT, "review %s: malformed value", name);
    }
    int rc = p->fn ? p->fn(p->ctx, id, r) : PRB_OK;
    json_decref(r);
    return rc;
}

static int walk(prb_env *env, MDB_txn *txn, uint64_t subject, review_fn fn, void *ctx,
                uint64_t *last)
{
    struct parse p = {env, fn, ctx};
    return prb_walk_subject(env, txn, env->rvw, subject, parsed, &p, last, "reading reviews");
}

static int append_all(void *ctx, uint64_t id, json_t *review)
{
    (void)id;
    return json_array_append(ctx, review) ? PRB_ENOMEM : PRB_OK;
}

int prb_subject_reviews(prb_env *env, MDB_txn *txn, uint64_t subject, json_t *array)
{
    int rc = walk(env, txn, subject, append_all, array, NULL);
    return rc == PRB_ENOMEM ? prb_seterr(env->err, rc, "out of memory") : rc;
}

/* The review of decision subject-qn, in *id (0: it has none). */
static int review_of(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t n, uint64_t *id)
{
    unsigned char k[PRB_RVQ_KEY_LEN];
    MDB_val mk = {PRB_RVQ_KEY_LEN, k}, mv;
    int mrc;
    *id = 0;
    prb_inq_key(k, subject, n); /* rvq keys a decision as the index does */
    if ((mrc = mdb_get(txn, env->rvq, &mk, &mv)) == MDB_NOTFOUND)
        return PRB_OK;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the index of reviews");
    if (mv.mv_size != 8)
        return prb_seterr(env->err, PRB_ECORRUPT, "the index of reviews: an entry of %zu bytes",
                          mv.mv_size);
    *id = prb_get_be64(mv.mv_data);
    return PRB_OK;
}

/* Indexes review id as decision subject-qn's. The first review of a
 * decision stays its entry: a register from before a decision was
 * reviewed once may hold more than one, and a request names the first,
 * as it did when it found it by reading them in order. */
static int index_review(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t n, uint64_t id)
{
    unsigned char k[PRB_RVQ_KEY_LEN], v[8];
    MDB_val mk = {PRB_RVQ_KEY_LEN, k}, mv = {8, v};
    int mrc;
    prb_inq_key(k, subject, n);
    prb_be64(v, id);
    mrc = mdb_put(txn, env->rvq, &mk, &mv, MDB_NOOVERWRITE);
    return mrc && mrc != MDB_KEYEXIST ? prb_mdb_fail(env, mrc, "indexing a review") : PRB_OK;
}

struct indexer {
    prb_env *env;
    MDB_txn *txn;
};

/* The decision subject-qn that review id's stored value v names; -1 if
 * it names none of the review's subject. */
static int decision_of(uint64_t id, const void *v, size_t len, uint64_t *subject, uint64_t *n)
{
    json_error_t jerr;
    json_t *r = json_loadb(v, len, 0, &jerr);
    int bad =
        !r ||
        parse_id(json_string_value(json_object_get(r, "decision")), 'q', subject, n, UINT32_MAX) ||
        *subject != id >> PRB_RSEQ_BITS;
    json_decref(r);
    return bad ? -1 : 0;
}

int prb_review_decision_key(uint64_t id, const void *v, size_t len,
                            unsigned char key[PRB_RVQ_KEY_LEN])
{
    uint64_t subject, n;
    if (decision_of(id, v, len, &subject, &n))
        return -1;
    prb_inq_key(key, subject, (uint32_t)n);
    return 0;
}

/* Indexes one stored review for prb_reviews_index. A value that does not
 * name a decision of its subject is left out: verify finds it against
 * its leaf, and the register still opens to let it. */
static int index_one(void *ctx, uint64_t id, const MDB_val *v)
{
    struct indexer *x = ctx;
    uint64_t subject, n;
    if (decision_of(id, v->mv_data, v->mv_size, &subject, &n))
        return PRB_OK;
    return index_review(x->env, x->txn, subject, (uint32_t)n, id);
}

int prb_reviews_index(prb_env *env, MDB_txn *txn)
{
    struct indexer x = {env, txn};
    return prb_walk_subject(env, txn, env->rvw, 0, index_one, &x, NULL, "reading reviews");
}

/* Refuses a request for decision, whose review prev is: a decision is
 * reviewed once. A second request would ask the same question of the
 * same decision, and after an outcome it would let a subject ask again
 * until one suits, leaving two answers to the one decision. */
static int reviewed(prb_env *env, MDB_txn *txn, const char *decision, uint64_t prev)
{
    unsigned char k[8];
    MDB_val mk = {8, k}, mv;
    json_error_t jerr;
    json_t *r = NULL;
    char name[48];
    int mrc, rc;
    review_name(name, sizeof name, prev);
    prb_be64(k, prev);
    if ((mrc = mdb_get(txn, env->rvw, &mk, &mv)))
        return mrc == MDB_NOTFOUND
                   ? prb_seterr(env->err, PRB_ECORRUPT,
                                "review %s: indexed for decision %s but not stored", name, decision)
                   : prb_mdb_fail(env, mrc, "reading a review");
    if (!(r = json_loadb(mv.mv_data, mv.mv_size, 0, &jerr)))
        return prb_seterr(env->err, PRB_ECORRUPT, "review %s: malformed value", name);
    const char *st = json_string_value(json_object_get(r, "state"));
    const char *day = json_string_value(
        json_object_get(r, st && !strcmp(st, "requested") ? "requested" : "decided"));
    if (st && !strcmp(st, "requested"))
        rc = prb_seterr(env->err, PRB_EEXIST,
                        "decision %s is already under review (%s, requested on %s)", decision, name,
                        day ? day : "?");
    else
        rc = prb_seterr(env->err, PRB_EEXIST,
                        "decision %s was already reviewed (%s, %s on %s): a decision is "
                        "reviewed once",
                        decision, name, st ? st : "?", day ? day : "?");
    json_decref(r);
    return rc;
}

/* Stores review under id in txn, logs it and sends the subject a notice. */
static int store(prb_env *env, MDB_txn *txn, uint64_t id, json_t *review, const char *kind,
                 const char *text)
{
    unsigned char k[8];
    char *v = json_dumps(review, JSON_COMPACT);
    char name[48];
    int mrc, rc;
    if (!v)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    prb_be64(k, id);
    MDB_val mk = {8, k}, mv = {strlen(v), v};
    if ((mrc = mdb_put(txn, env->rvw, &mk, &mv, 0)))
        rc = prb_mdb_fail(env, mrc, "storing a review");
    else
        rc = prb_audit_log(env, PRB_LEAF_REVIEW, 0, id, v, mv.mv_size);
    free(v);
    review_name(name, sizeof name, id);
    if (!rc)
        rc = prb_notice_add(env, txn, id >> PRB_RSEQ_BITS,
                            json_string_value(json_object_get(review, "subject")), kind, name, text,
                            prb_today(env));
    return rc;
}

/* Commits txn, having made the caller's copy of review first: a call that
 * says it failed has written nothing. txn is ended either way. */
static int commit(prb_env *env, MDB_txn *txn, json_t *review, char **json)
{
    char *out = NULL;
    int rc;
    if (json && !(out = json_dumps(review, JSON_INDENT(2)))) {
        prb_wtxn_abort(env, txn);
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    if ((rc = prb_wtxn_commit(env, txn)))
        free(out);
    else if (json)
        *json = out;
    return rc;
}

/* A string member of o for a message, "?" if it is missing. */
static const char *member(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

/* The review of a request for the decision d (an inquiry's JSON). */
static json_t *new_review(const char *id, json_t *d, const char *decision, const char *reason,
                          int32_t today)
{
    char day[11];
    prb_date_format(today, day);
    return json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:s, s:s, s:s, s:n, s:n, s:n}", "id", id,
                     "decision", decision, "subject", json_object_get(d, "subject"), "purpose",
                     json_object_get(d, "purpose"), "requester", json_object_get(d, "requester"),
                     "original_outcome", json_object_get(d, "outcome"), "reason", reason, "state",
                     "requested", "requested", day, "decided", "reviewer", "note");
}

int prb_review_request(prb_env *env, const char *decision, const char *reason, char **json)
{
    uint64_t subject, n, last, prev;
    MDB_txn *txn = NULL;
    MDB_val mv;
    json_t *d = NULL, *review = NULL;
    char name[48], text[512], dec[48];
    const char *purpose;
    size_t plen;
    int rc, outcome;
    if (json)
        *json = NULL;
    if ((rc = prb_text_check(env, "review", "reason", reason, 1)))
        return rc;
    if (parse_id(decision, 'q', &subject, &n, UINT32_MAX))
        return prb_seterr(env->err, PRB_EINVAL,
                          "review: '%s' is not a decision id (SUBJECT-qNUMBER, as in 12-q1)",
                          decision ? decision : "");
    /* From here on the id as decide.c writes it ("1-q01" is "1-q1"). */
    snprintf(dec, sizeof dec, "%llu-q%llu", (unsigned long long)subject, (unsigned long long)n);
    decision = dec;
    if ((rc = prb_wtxn_begin(env, &txn)))
        return rc;
    if ((rc = prb_inquiry_get(env, txn, subject, (uint32_t)n, &mv))) {
        if (rc == PRB_ENOTFOUND)
            prb_seterr(env->err, PRB_ENOTFOUND, "review: no decision %s", decision);
        goto fail;
    }
    if (!(d = prb_inquiry_decision(mv.mv_data, mv.mv_size)) ||
        !json_is_string(json_object_get(d, "subject")) ||
        prb_inquiry_header(mv.mv_data, mv.mv_size, &purpose, &plen, &outcome)) {
        rc = prb_seterr(env->err, PRB_ECORRUPT, "decision %s: malformed value", decision);
        goto fail;
    }
    /* Invariant 9: a review is of an adverse outcome. One of an approval
     * would fill the reviewers' queue, and "overturned" would mean
     * nothing. */
    if (outcome == PRB_APPROVE) {
        rc = prb_seterr(env->err, PRB_EINVAL,
                        "decision %s approved: a review is of a decision that declined or "
                        "referred",
                        decision);
        goto fail;
    }
    if ((rc = review_of(env, txn, subject, (uint32_t)n, &prev)) ||
        (prev && (rc = reviewed(env, txn, decision, prev))) ||
        (rc = prb_subject_last(env, txn, env->rvw, subject, &last, "reading reviews")))
        goto fail;
    if ((last & PRB_RSEQ_MASK) == PRB_RSEQ_MASK) {
        rc = prb_seterr(env->err, PRB_EINVAL, "review: subject %llu has too many reviews",
                        (unsigned long long)subject);
        goto fail;
    }
    uint64_t id = last ? last + 1 : subject << PRB_RSEQ_BITS | 1;
    review_name(name, sizeof name, id);
    if (!(review = new_review(name, d, decision, reason, prb_today(env)))) {
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(text, sizeof text,
             "You asked for a person to review decision %s (%s, answered '%s'). The review is "
             "number %s; you will be told its outcome.",
             decision, member(d, "purpose"), member(d, "outcome"), name);
    if ((rc = store(env, txn, id, review, "review_requested", text)) ||
        (rc = index_review(env, txn, subject, (uint32_t)n, id)))
        goto fail;
    rc = commit(env, txn, review, json);
    txn = NULL; /* committed or, on failure, aborted */
fail:
    if (txn)
        prb_wtxn_abort(env, txn);
    json_decref(d);
    json_decref(review);
    return rc;
}

int prb_review_decide(prb_env *env, const char *review_id, const char *outcome,
                      const char *reviewer, const char *note, char **json)
{
    uint64_t subject, n;
    unsigned char k[8];
    MDB_txn *txn = NULL;
    MDB_val mk = {8, k}, mv;
    json_t *review = NULL;
    json_error_t jerr;
    char day[11], rname[48], *text = NULL;
    int mrc, rc, upheld;
    if (json)
        *json = NULL;
    if (parse_id(review_id, 'r', &subject, &n, PRB_RSEQ_MASK))
        return prb_seterr(env->err, PRB_EINVAL,
                          "review: '%s' is not a review id (SUBJECT-rNUMBER, as in 12-r1)",
                          review_id ? review_id : "");
    if (!outcome || (strcmp(outcome, "upheld") && strcmp(outcome, "overturned")))
        return prb_seterr(env->err, PRB_EINVAL,
                          "review %s: the outcome must be upheld or overturned, not '%s'",
                          review_id, outcome ? outcome : "");
    if ((rc = prb_text_check(env, "review", "reviewer's name", reviewer, 1)) ||
        (rc = prb_text_check(env, "review", "note", note, 1)))
        return rc;
    upheld = !strcmp(outcome, "upheld");
    uint64_t id = subject << PRB_RSEQ_BITS | n;
    review_name(rname, sizeof rname, id); /* as stored: "1-r01" is "1-r1" */
    review_id = rname;
    if ((rc = prb_wtxn_begin(env, &txn)))
        return rc;
    prb_be64(k, id);
    if ((mrc = mdb_get(txn, env->rvw, &mk, &mv))) {
        rc = mrc == MDB_NOTFOUND
                 ? prb_seterr(env->err, PRB_ENOTFOUND, "review: no review %s", review_id)
                 : prb_mdb_fail(env, mrc, "reading a review");
        goto fail;
    }
    const char *state, *decision;
    if (!(review = json_loadb(mv.mv_data, mv.mv_size, 0, &jerr)) ||
        !(state = json_string_value(json_object_get(review, "state"))) ||
        !(decision = json_string_value(json_object_get(review, "decision"))) ||
        !json_is_string(json_object_get(review, "subject"))) {
        rc = prb_seterr(env->err, PRB_ECORRUPT, "review %s: malformed value", review_id);
        goto fail;
    }
    if (strcmp(state, "requested")) {
        rc = prb_seterr(env->err, PRB_EEXIST, "review %s was already decided: %s on %s", review_id,
                        state, member(review, "decided"));
        goto fail;
    }
    prb_date_format(prb_today(env), day);
    /* The note is the subject's to read: the notice carries it whole. */
    if (asprintf(&text,
                 "%s has reviewed decision %s (%s) as you asked (review %s). The decision is %s. "
                 "Note: %s",
                 reviewer, decision, member(review, "purpose"), review_id,
                 upheld ? "upheld: it stands" : "overturned: it no longer stands", note) < 0) {
        text = NULL;
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        goto fail;
    }
    if (json_object_set_new(review, "state", json_string(outcome)) ||
        json_object_set_new(review, "decided", json_string(day)) ||
        json_object_set_new(review, "reviewer", json_string(reviewer)) ||
        json_object_set_new(review, "note", json_string(note))) {
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = store(env, txn, id, review, "review_outcome", text)))
        goto fail;
    /* The inquirer acted on the decision: it is told it no longer stands
     * (GDPR art. 19), in the transaction that says so. */
    uint64_t ds, dn;
    if (!upheld && parse_id(decision, 'q', &ds, &dn, UINT32_MAX)) {
        rc = prb_seterr(env->err, PRB_ECORRUPT, "review %s: malformed value", review_id);
        goto fail;
    }
    if (!upheld &&
        (rc = prb_tell_overturned(env, txn, ds, (uint32_t)dn, review_id, prb_today(env))))
        goto fail;
    rc = commit(env, txn, review, json);
    txn = NULL;
fail:
    if (txn)
        prb_wtxn_abort(env, txn);
    free(text);
    json_decref(review);
    return rc;
}

struct list_ctx {
    struct parse parse; /* hands each review to append_listed */
    json_t *array;
    int pending;
    prb_page page;
};

static int append_listed(void *ctx, uint64_t id, json_t *review)
{
    struct list_ctx *c = ctx;
    const char *st = json_string_value(json_object_get(review, "state"));
    int rc;
    if (c->pending && (!st || strcmp(st, "requested")))
        return PRB_OK;
    if ((rc = prb_page_take(&c->page, id)))
        return rc;
    return json_array_append(c->array, review) ? PRB_ENOMEM : PRB_OK;
}

/* Counts each review read against the page's bound before parsing it. */
static int look(void *ctx, uint64_t id, const MDB_val *v)
{
    struct list_ctx *c = ctx;
    int rc = prb_page_look(&c->page, id);
    return rc ? rc : parsed(&c->parse, id, v);
}

int prb_reviews_page(prb_env *env, int pending_only, uint64_t after, size_t limit, char **json,
                     uint64_t *next)
{
    /* A page of pending reviews among a million decided ones reads a
     * bounded number of them (prb_page_look), as a page of open disputes
     * does; the operator's whole listing (no limit) reads them all. */
    struct list_ctx c = {.parse = {env, append_listed, &c},
                         .array = json_array(),
                         .pending = pending_only,
                         .page = {.limit = limit, .bounded = pending_only && limit}};
    return prb_page_json(env, env->rvw, after, look, &c, NULL, c.array, &c.page, json, next,
                         "reading reviews");
}

int prb_reviews_json(prb_env *env, int pending_only, char **json)
{
    return prb_reviews_page(env, pending_only, 0, 0, json, NULL);
}
