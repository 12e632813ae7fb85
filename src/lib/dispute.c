/*
 * dispute.c - disputes (DESIGN invariant 5): a subject challenges one of
 * its records, and until the dispute is resolved the record is used by
 * nothing. prb_file_load marks it not usable, and features, scores, lists
 * and decisions only ever read usable records, so the suspension needs no
 * check anywhere else. A dispute ends
 *   upheld     the record was found right: it stands and is used again;
 *   corrected  the furnisher sent a corrected version (ingest resolves the
 *              dispute in the batch that brings it; no one resolves a
 *              dispute as corrected by hand, since only that version
 *              changes the record);
 *   deleted    the record goes: every version and its (furnisher, ref)
 *              index entry, each version logged as deleted.
 * A dispute the furnisher leaves unanswered past its deadline (the
 * policy's dispute_deadline_days after it was opened) resolves in the
 * subject's favour at the next sweep (prb_expire): deleted.
 *
 * A dispute lives in dsp under a be64 id shaped like a record id, subject
 * id << 24 | the subject's dispute number, so a subject's disputes are
 * one key range: a file load finds the open ones with one cursor seek, and
 * the next number is the last key of the range plus one. Outside the
 * engine a dispute is called by the decimal value of its id. The value is
 * the dispute as compact JSON (id, subject, record, reason, state, opened,
 * deadline, resolved, note, resolved_by). Every write of it is logged in
 * the audit log under the dispute id, sends the subject a notice and
 * recomputes the subject's list entries, in the transaction that makes it.
 */
#include "internal.h"
#include "audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest reason or note, in bytes: a statement, not a document. */

/* ------------------------------------------------------------ record ids */

/* The digits of v, written backwards to end; returns where they start. */
static char *decimal(char *end, uint64_t v)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* Formatted by hand: a decision names every record it used, and snprintf
 * was a visible part of making one. */
void prb_record_name(char *buf, size_t n, uint64_t id)
{
    char t[48], *end = t + sizeof t - 1, *p;
    *end = '\0';
    p = decimal(end, id & PRB_RSEQ_MASK);
    *--p = '-';
    p = decimal(p, id >> PRB_RSEQ_BITS);
    size_t len = (size_t)(end - p);
    if (!n)
        return;
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

/* Reads decimal digits at *p into *v, at most max; advances *p. */
static int digits(const char **p, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (max - (uint64_t)(*s - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = x;
    return 0;
}

int prb_record_parse(const char *s, size_t n, uint64_t *id)
{
    char buf[48];
    const char *p = buf;
    uint64_t subject, num;
    if (!s || n == 0 || n >= sizeof buf)
        return PRB_EINVAL;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (digits(&p, UINT64_MAX >> PRB_RSEQ_BITS, &subject) || *p++ != '-' ||
        digits(&p, PRB_RSEQ_MASK, &num) || *p || subject == 0 || num == 0)
        return PRB_EINVAL;
    *id = subject << PRB_RSEQ_BITS | num;
    return PRB_OK;
}

/* -------------------------------------------------------- stored values */

/* Whether a stored dispute is open, read without parsing it: compact JSON
 * escapes every quote inside a string, so this text can only be the key
 * and its value. */
static const char OPEN_MARK[] = "\"state\":\"open\"";
static const char RECORD_MARK[] = "\"record\":\"";

static int value_open(const MDB_val *v)
{
    return memmem(v->mv_data, v->mv_size, OPEN_MARK, sizeof OPEN_MARK - 1) != NULL;
}

/* The disputed record's id, read the same way. */
static int value_record(const MDB_val *v, uint64_t *rid)
{
    const char *s = v->mv_data, *end = s + v->mv_size;
    const char *p = memmem(s, v->mv_size, RECORD_MARK, sizeof RECORD_MARK - 1);
    if (!p)
        return PRB_ECORRUPT;
    p += sizeof RECORD_MARK - 1;
    const char *q = memchr(p, '"', (size_t)(end - p));
    return q && !prb_record_parse(p, (size_t)(q - p), rid) ? PRB_OK : PRB_ECORRUPT;
}

static void id_name(char *buf, size_t n, uint64_t id)
{
    snprintf(buf, n, "%llu", (unsigned long long)id);
}

static int malformed(prb_env *env, uint64_t id)
{
    return prb_seterr(env->err, PRB_ECORRUPT, "dispute %llu: malformed value",
                      (unsigned long long)id);
}

/* Parses a stored dispute and checks the fields the engine reads. */
static int decode(prb_env *env, uint64_t id, const MDB_val *v, json_t **out)
{
    json_error_t jerr;
    uint64_t rid;
    json_t *d = json_loadb(v->mv_data, v->mv_size, 0, &jerr);
    const char *rec = d ? json_string_value(json_object_get(d, "record")) : NULL;
    *out = NULL;
    if (!d || !rec || prb_record_parse(rec, strlen(rec), &rid) ||
        !json_is_string(json_object_get(d, "state")) ||
        !json_is_string(json_object_get(d, "subject")) ||
        !json_is_string(json_object_get(d, "deadline"))) {
        json_decref(d);
        return malformed(env, id);
    }
    *out = d;
    return PRB_OK;
}

static const char *str(json_t *d, const char *key)
{
    const char *s = json_string_value(json_object_get(d, key));
    return s ? s : "";
}

static int is_open(json_t *d)
{
    return !strcmp(str(d, "state"), "open");
}

static uint64_t record_of(json_t *d)
{
    uint64_t rid = 0;
    const char *s = str(d, "record");
    prb_record_parse(s, strlen(s), &rid); /* checked by decode */
    return rid;
}

/* Calls fn on every dispute of subject (subject 0: of every subject), in
 * id order, with the stored value; a non-zero return stops the walk and
 * is returned. *last, if not NULL, gets the last id seen (0 if none). */
typedef int (*dispute_fn)(void *ctx, uint64_t id, const MDB_val *v);

struct counted {
    prb_env *env;
    dispute_fn fn;
    void *ctx;
};

static int count_one(void *ctx, uint64_t id, const MDB_val *v)
{
    struct counted *c = ctx;
    c->env->dsp_reads++;
    return c->fn(c->ctx, id, v);
}

static int walk(prb_env *env, MDB_txn *txn, uint64_t subject, dispute_fn fn, void *ctx,
                uint64_t *last)
{
    struct counted c = {env, fn, ctx};
    return prb_walk_subject(env, txn, env->dsp, subject, count_one, &c, last, "reading disputes");
}

/* Whether the register holds no dispute at all: the common case, read
 * from the transaction's copy of the tree's root, with no seek. */
static int none_stored(prb_env *env, MDB_txn *txn)
{
    MDB_stat st;
    return mdb_stat(txn, env->dsp, &st) == 0 && st.ms_entries == 0;
}

/* ---------------------------------------------- what a file load reads */

struct marker {
    void (*fn)(void *ctx, uint64_t record);
    void *ctx;
    prb_env *env;
};

static int mark_open(void *ctx, uint64_t id, const MDB_val *v)
{
    struct marker *m = ctx;
    uint64_t rid;
    if (!value_open(v))
        return PRB_OK;
    if (value_record(v, &rid))
        return malformed(m->env, id);
    m->fn(m->ctx, rid);
    return PRB_OK;
}

int prb_disputes_open_records(prb_env *env, MDB_txn *txn, uint64_t subject,
                              void (*fn)(void *ctx, uint64_t record), void *ctx)
{
    struct marker m = {fn, ctx, env};
    if (none_stored(env, txn))
        return PRB_OK;
    return walk(env, txn, subject, mark_open, &m, NULL);
}

/* ------------------------------------------------------------- writing */

/* Stores dispute d under id, logs it, and sends the subject a notice. */
static int store(prb_env *env, MDB_txn *txn, uint64_t id, json_t *d, const char *kind,
                 const char *text)
{
    unsigned char k[8];
    char name[24], *v = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int mrc, rc;
    if (!v)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    prb_be64(k, id);
    MDB_val mk = {8, k}, mv = {strlen(v), v};
    if ((mrc = mdb_put(txn, env->dsp, &mk, &mv, 0)))
        rc = prb_mdb_fail(env, mrc, "storing a dispute");
    else
        rc = prb_audit_log(env, PRB_LEAF_DISPUTE, 0, id, v, mv.mv_size);
    free(v);
    id_name(name, sizeof name, id);
    if (!rc)
        rc = prb_notice_add(env, txn, id >> PRB_RSEQ_BITS, str(d, "subject"), kind, name, text,
                            prb_today(env));
    return rc;
}

/* A dispute changes whether a record is usable, and with it the features
 * a list reads: the subject's entries are recomputed at once. */
static int refresh_lists(prb_env *env, MDB_txn *txn, uint64_t subject)
{
    prb_file *f = NULL;
    int rc;
    if (!env->policy->nlists)
        return PRB_OK;
    if (!(rc = prb_file_load(env, txn, subject, &f)))
        rc = prb_lists_refresh(env, txn, f, prb_today(env));
    prb_file_free(f);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Tells the requesters of decisions that used records rids[0..n) (sorted
 * here, so a subject's come together, and the array reused) that they
 * are corrected or deleted: one telling a subject, so one notice to each
 * requester names all of that subject's (told.c). A record gone already
 * (the retention sweep took it), or named twice, is told once or not at
 * all. lenient (the sweep): damage it cannot read, a decision or the
 * index (verify names it), is passed over, its subject's requesters
 * untold, so that the deletions every subject is owed are not held up by
 * it. */
static int tell_records(prb_env *env, MDB_txn *txn, uint64_t *rids, size_t n, int deleted,
                        int lenient)
{
    int rc = PRB_OK;
    if (n)
        qsort(rids, n, sizeof *rids, cmp_u64);
    for (size_t i = 0, j, nc; !rc && i < n; i = j) {
        uint64_t subject = rids[i] >> PRB_RSEQ_BITS;
        /* The subject's records still stored, once each, kept from rids[i]
         * on: nc <= j - i, so none is written over before it is read. */
        for (j = i, nc = 0; !rc && j < n && rids[j] >> PRB_RSEQ_BITS == subject; j++) {
            MDB_val v;
            uint32_t last;
            if (nc && rids[i + nc - 1] == rids[j])
                continue;
            if (!(rc = prb_record_current(env, txn, rids[j], "finding a disputed record", &last,
                                          &v)))
                rids[i + nc++] = rids[j];
            else if (rc == PRB_ENOTFOUND)
                rc = PRB_OK;
        }
        if (!rc && nc &&
            (rc = prb_tell_changed(env, txn, subject, rids + i, nc, deleted, lenient,
                                   prb_today(env))) == PRB_ECORRUPT &&
            lenient)
            rc = PRB_OK;
    }
    return rc;
}

/* Deletes every version of record rid and its index entry. A record that
 * is already gone (the retention sweep took it) is not an error. */
static int delete_record(prb_env *env, MDB_txn *txn, uint64_t rid)
{
    MDB_val v;
    uint32_t last;
    int rc = prb_record_current(env, txn, rid, "finding a disputed record", &last, &v);
    if (rc)
        return rc == PRB_ENOTFOUND ? PRB_OK : rc;
    /* The value lies in a page the deletions may free: work from a copy. */
    unsigned char *cv = malloc(v.mv_size);
    if (!cv)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    memcpy(cv, v.mv_data, v.mv_size);
    rc = prb_record_delete(env, txn, rid, last, cv, v.mv_size);
    free(cv);
    return rc;
}

static const prb_record_view *find_record(const prb_file *f, uint64_t rid)
{
    for (size_t i = 0; i < prb_file_nrecords(f); i++)
        if (prb_file_record(f, i)->id == rid)
            return prb_file_record(f, i);
    return NULL;
}

/* What each outcome means; one that leaves the record ends with when it
 * is used (in_force: said of a record in force today). */
static const struct {
    const char *outcome, *means, *in_force;
} outcomes[] = {
    {"upheld", "the record was found correct and stands; it", "is used again from now on"},
    {"corrected", "the record was corrected; the corrected record", "is used from now on"},
    {"deleted", "the record was deleted", NULL},
};

/* Writes to buf what outcome o means for record rid's use, from its
 * dates in txn as the file shows them, as ingest's notice of the record
 * says it (adverse_notice): one in its notice period is not used before
 * its end, and a correction may end a record's retention (a judgment
 * paid). "Used from now on" was said whatever the dates, beside the
 * correction's notice saying it may not be used for weeks yet. */
static int outcome_use(prb_env *env, MDB_txn *txn, uint64_t rid, size_t o, char *buf, size_t n)
{
    prb_file *f = NULL;
    const prb_record_view *rv;
    char from[11], gone[11];
    int32_t today = prb_today(env);
    int rc = prb_file_load(env, txn, rid >> PRB_RSEQ_BITS, &f);
    if (rc)
        return rc;
    /* The file leaves out a record past its retention. */
    rv = find_record(f, rid);
    if (rv && rv->expires != PRB_NO_DATE) {
        prb_date_format(rv->effective_from, from);
        prb_date_format(rv->expires, gone);
    }
    if (rv && rv->expires == PRB_NO_DATE)
        snprintf(buf, n, "%s is not used: the policy no longer describes its category",
                 outcomes[o].means);
    else if (!rv || rv->expires <= today)
        snprintf(buf, n, "%s is no longer used: its retention has ended, and it is deleted",
                 outcomes[o].means);
    else if (rv->effective_from >= rv->expires)
        snprintf(buf, n,
                 "%s will not be used: it is deleted on %s, when its retention ends, before it "
                 "could take effect on %s",
                 outcomes[o].means, gone, from);
    else if (rv->effective_from > today)
        snprintf(buf, n, "%s may be used from %s", outcomes[o].means, from);
    else
        snprintf(buf, n, "%s %s", outcomes[o].means, outcomes[o].in_force);
    prb_file_free(f);
    return PRB_OK;
}

/* Resolves the open dispute d (stored under id) with outcome, in txn:
 * deletes the record if the outcome says so, stores and logs the dispute,
 * tells the subject, and recomputes its list entries. */
static int resolve(prb_env *env, MDB_txn *txn, uint64_t id, json_t *d, const char *outcome,
                   const char *note, const char *by, const char *resolver)
{
    char day[11], text[PRB_TEXT_MAX_BYTES + 512], use[256]; /* the note, whole */
    const char *what = NULL;
    int rc;
    for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++)
        if (!strcmp(outcome, outcomes[i].outcome)) {
            what = outcomes[i].means;
            if (outcomes[i].in_force) {
                if ((rc = outcome_use(env, txn, record_of(d), i, use, sizeof use)))
                    return rc;
                what = use;
            }
        }
    if (!what)
        return prb_seterr(env->err, PRB_EINVAL, "dispute: unknown outcome '%s'", outcome);
    prb_date_format(prb_today(env), day);
    if (json_object_set_new(d, "state", json_string(outcome)) ||
        json_object_set_new(d, "resolved", json_string(day)) ||
        json_object_set_new(d, "note", note ? json_string(note) : json_null()) ||
        json_object_set_new(d, "resolved_by", json_string(by)) ||
        json_object_set_new(d, "resolver", resolver ? json_string(resolver) : json_null()))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    /* Rectified or erased on the subject's dispute: those given decisions
     * that used it are told (GDPR art. 19 with art. 16 and 17, FCRA
     * 611(d)). Only here: a furnisher's update of a record no one
     * disputed (a balance, a settlement) is the record's course, not a
     * rectification, and telling each of them to every recent inquirer
     * would bury the rectifications. Not when its retention ended: it
     * was not wrong. Past the deadline, and corrected at ingest, the
     * sweep and the batch tell them, a subject's records in one notice
     * (tell_records). */
    uint64_t rid = record_of(d);
    if (!strcmp(outcome, "deleted") && strcmp(by, "retention") && strcmp(by, "deadline") &&
        (rc = tell_records(env, txn, &rid, 1, 1, 0)))
        return rc;
    if (!strcmp(outcome, "deleted") && (rc = delete_record(env, txn, rid)))
        return rc;
    if (!strcmp(by, "deadline"))
        snprintf(text, sizeof text,
                 "Your dispute %llu of record %s was resolved in your favour on %s: the "
                 "furnisher did not answer by the deadline, %s, so the record was deleted.",
                 (unsigned long long)id, str(d, "record"), day, str(d, "deadline"));
    else if (!strcmp(by, "retention"))
        snprintf(text, sizeof text,
                 "Your dispute %llu of record %s was closed on %s: the record reached the end "
                 "of its retention and was deleted, so nothing uses it any more.",
                 (unsigned long long)id, str(d, "record"), day);
    else
        snprintf(text, sizeof text,
                 "Your dispute %llu of record %s was resolved on %s (%s, by %s): %s.%s%s",
                 (unsigned long long)id, str(d, "record"), day, outcome,
                 !strcmp(by, "correction") ? "the furnisher's correction" : by, what,
                 note ? " Note: " : "", note ? note : "");
    if ((rc = store(env, txn, id, d, "dispute_outcome", text)))
        return rc;
    return refresh_lists(env, txn, id >> PRB_RSEQ_BITS);
}

static int output(prb_env *env, json_t *d, char **json)
{
    if (json && !(*json = json_dumps(d, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    return PRB_OK;
}

/* Gives back what output made when the write it answers failed. */
static void output_drop(char **json)
{
    if (json) {
        free(*json);
        *json = NULL;
    }
}

/* ------------------------------------------------------------- opening */

struct find_open {
    prb_env *env;
    uint64_t rid, found;
};

static int find_open(void *ctx, uint64_t id, const MDB_val *v)
{
    struct find_open *fo = ctx;
    uint64_t rid;
    if (!value_open(v))
        return PRB_OK;
    if (value_record(v, &rid))
        return malformed(fo->env, id);
    if (rid != fo->rid)
        return PRB_OK;
    fo->found = id;
    return PRB_EEXIST;
}

/* The record's furnisher is kept in the dispute so that a furnisher's
 * listing filters by it without loading the file of every subject with a
 * dispute in the register. */
static json_t *new_dispute(uint64_t id, const char *subject, const prb_record_view *rv,
                           const char *reason, int32_t today, int32_t deadline)
{
    char name[24], rec[48], day[11], dl[11];
    id_name(name, sizeof name, id);
    prb_record_name(rec, sizeof rec, rv->id);
    prb_date_format(today, day);
    prb_date_format(deadline, dl);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:n, s:n}", "id", name,
                     "subject", subject, "record", rec, "furnisher", rv->furnisher, "reason",
                     reason, "state", "open", "opened", day, "deadline", dl, "resolved", "note",
                     "resolved_by", "resolver");
}

int prb_dispute_open(prb_env *env, const char *identifier, const char *record, const char *reason,
                     char **json)
{
    char canon[PRB_IDENT_MAX], rec[48], text[1024];
    uint64_t rid, subject, last;
    int scheme, rc;
    MDB_txn *txn = NULL;
    prb_file *f = NULL;
    json_t *d = NULL;
    if (json)
        *json = NULL;
    if (!identifier ||
        prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "dispute: %s", identifier ? canon : "no subject");
    if (!record || prb_record_parse(record, strlen(record), &rid))
        return prb_seterr(env->err, PRB_EINVAL,
                          "dispute: '%s' is not a record id (SUBJECT-NUMBER, as in 12-3)",
                          record ? record : "");
    if ((rc = prb_text_check(env, "dispute", "reason", reason, 1)))
        return rc;
    prb_record_name(rec, sizeof rec, rid);
    if ((rc = prb_wtxn_begin(env, &txn)))
        return rc;
    if ((rc = prb_subject_find(env, txn, canon, &subject)))
        goto fail;
    /* The file as the subject sees it: an expired record is not there. */
    const prb_record_view *rv = NULL;
    if (rid >> PRB_RSEQ_BITS == subject && (rc = prb_file_load(env, txn, subject, &f)))
        goto fail;
    if (!f || !(rv = find_record(f, rid))) {
        rc = prb_seterr(env->err, PRB_ENOTFOUND, "dispute: %s has no record %s", canon, rec);
        goto fail;
    }
    struct find_open fo = {env, rid, 0};
    rc = walk(env, txn, subject, find_open, &fo, &last);
    if (rc == PRB_EEXIST && fo.found) {
        rc = prb_seterr(env->err, PRB_EEXIST, "record %s already has an open dispute (%llu)", rec,
                        (unsigned long long)fo.found);
        goto fail;
    }
    if (rc)
        goto fail;
    /* The walk ran to the end of the subject's range: last is its last. */
    if ((last & PRB_RSEQ_MASK) == PRB_RSEQ_MASK) {
        rc = prb_seterr(env->err, PRB_EINVAL, "dispute: %s has the most disputes one may open",
                        canon);
        goto fail;
    }
    uint64_t id = last ? last + 1 : subject << PRB_RSEQ_BITS | 1;
    int32_t today = prb_today(env), deadline = today + env->policy->dispute_deadline_days;
    char dl[11];
    prb_date_format(deadline, dl);
    if (!(d = new_dispute(id, canon, rv, reason, today, deadline))) {
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(text, sizeof text,
             "You disputed record %s (%s from %s, ref %s); the dispute is number %llu. Until it "
             "is resolved the record is not used for any decision, score or list. If the "
             "furnisher has not answered by %s, the record will be deleted.",
             rec, rv->category, rv->furnisher, rv->ref, (unsigned long long)id, dl);
    /* The answer is made before the commit: a failure to make it after
     * would tell the caller nothing was done when the dispute was opened. */
    if ((rc = store(env, txn, id, d, "dispute_opened", text)) ||
        (rc = refresh_lists(env, txn, subject)) || (rc = output(env, d, json)))
        goto fail;
    rc = prb_wtxn_commit(env, txn);
    txn = NULL; /* committed or, on failure, aborted */
    if (rc)
        output_drop(json);
fail:
    if (txn)
        prb_wtxn_abort(env, txn);
    prb_file_free(f);
    json_decref(d);
    return rc;
}

/* ----------------------------------------------------------- resolving */

/* The stored value of dispute id in txn; PRB_ENOTFOUND if there is none. */
static int get_value(prb_env *env, MDB_txn *txn, uint64_t id, MDB_val *mv)
{
    unsigned char k[8];
    MDB_val mk = {8, k};
    int mrc;
    prb_be64(k, id);
    if ((mrc = mdb_get(txn, env->dsp, &mk, mv)) == MDB_NOTFOUND)
        return prb_seterr(env->err, PRB_ENOTFOUND, "dispute: no dispute %llu",
                          (unsigned long long)id);
    return mrc ? prb_mdb_fail(env, mrc, "reading a dispute") : PRB_OK;
}

/* Reads dispute id in txn; PRB_ENOTFOUND if there is none. */
static int get_dispute(prb_env *env, MDB_txn *txn, uint64_t id, json_t **d)
{
    MDB_val mv;
    int rc = get_value(env, txn, id, &mv);
    return rc ? rc : decode(env, id, &mv, d);
}

/* Whether open dispute d is past its deadline as of the clock: it has
 * resolved in the subject's favour, though the sweep may not have come
 * yet to delete the record (invariant 5). */
static int past_deadline(prb_env *env, json_t *d)
{
    int32_t deadline;
    const char *dl = str(d, "deadline");
    return dl && !prb_date_parse(dl, strlen(dl), &deadline) && prb_today(env) > deadline;
}

int prb_dispute_resolve(prb_env *env, uint64_t id, const char *outcome, const char *note,
                        const char *resolved_by, const char *resolver, char **json)
{
    MDB_txn *txn = NULL;
    json_t *d = NULL;
    int rc;
    if (json)
        *json = NULL;
    if (!resolved_by)
        resolved_by = "reviewer";
    if (strcmp(resolved_by, "reviewer") && strcmp(resolved_by, "furnisher"))
        return prb_seterr(env->err, PRB_EINVAL,
                          "dispute %llu: resolved by must be reviewer or furnisher, not '%s'",
                          (unsigned long long)id, resolved_by);
    /* "corrected" by hand would tell the subject that the record was put
     * right, and use it again, while it stands exactly as it was: neither
     * a reviewer nor a furnisher edits a record here. A correction is the
     * furnisher's new version, whose ingest resolves the dispute. (The
     * dispute does not keep the version disputed, so a newer one cannot
     * be told apart here; and its ingest has resolved the dispute.) */
    if (outcome && !strcmp(outcome, "corrected"))
        return prb_seterr(env->err, PRB_EINVAL,
                          "dispute %llu: a %s cannot resolve a dispute as corrected: a "
                          "correction comes from the furnisher, as the corrected version of the "
                          "record (ingest, POST /v1/records), which resolves the dispute itself; "
                          "resolve it as upheld or deleted",
                          (unsigned long long)id, resolved_by);
    if (!outcome || (strcmp(outcome, "upheld") && strcmp(outcome, "deleted")))
        return prb_seterr(env->err, PRB_EINVAL,
                          "dispute %llu: the outcome must be upheld or deleted, not '%s'",
                          (unsigned long long)id, outcome ? outcome : "");
    if ((rc = prb_text_check(env, "dispute", "note", note, 0)) ||
        (rc = prb_text_check(env, "dispute", "resolver's name", resolver, 0)))
        return rc;
    if (note && !*note)
        note = NULL;
    if (resolver && !*resolver)
        resolver = NULL;
    if ((rc = prb_wtxn_begin(env, &txn)))
        return rc;
    if ((rc = get_dispute(env, txn, id, &d)))
        goto fail;
    if (!is_open(d)) {
        rc = prb_seterr(env->err, PRB_EEXIST, "dispute %llu was already resolved: %s on %s",
                        (unsigned long long)id, str(d, "state"), str(d, "resolved"));
        goto fail;
    }
    if (strcmp(outcome, "deleted") && past_deadline(env, d)) {
        rc = prb_seterr(env->err, PRB_EEXIST,
                        "dispute %llu passed its deadline, %s, unanswered: it resolves in the "
                        "subject's favour, and the record is deleted",
                        (unsigned long long)id, str(d, "deadline"));
        goto fail;
    }
    if ((rc = resolve(env, txn, id, d, outcome, note, resolved_by, resolver)) ||
        (rc = output(env, d, json)))
        goto fail;
    rc = prb_wtxn_commit(env, txn);
    txn = NULL;
    if (rc)
        output_drop(json);
fail:
    if (txn)
        prb_wtxn_abort(env, txn);
    json_decref(d);
    return rc;
}

/* ----------------------------------------------------------- the sweep */

struct due {
    prb_env *env;
    int32_t today;
    uint64_t *ids, *rids; /* the disputes past their deadline, and their records */
    size_t n, cap;
};

static int find_due(void *ctx, uint64_t id, const MDB_val *v)
{
    struct due *du = ctx;
    json_t *d;
    int32_t deadline;
    if (!value_open(v))
        return PRB_OK;
    /* One damaged behind the engine's back (verify names it) is passed
     * over: failing the search on it failed every sweep, and nothing past
     * its retention or its deadline was deleted until someone repaired it
     * (invariant 6). */
    if (decode(du->env, id, v, &d))
        return PRB_OK;
    const char *dl = str(d, "deadline");
    uint64_t rid = record_of(d);
    int bad = prb_date_parse(dl, strlen(dl), &deadline);
    json_decref(d);
    if (bad || du->today <= deadline)
        return PRB_OK;
    if (du->n == du->cap) {
        size_t cap = du->cap * 2 + 16;
        uint64_t *n = realloc(du->ids, cap * sizeof *n), *r;
        if (n)
            du->ids = n;
        if (!n || !(r = realloc(du->rids, cap * sizeof *r)))
            return prb_seterr(du->env->err, PRB_ENOMEM, "out of memory");
        du->rids = r;
        du->cap = cap;
    }
    du->ids[du->n] = id;
    du->rids[du->n++] = rid;
    return PRB_OK;
}

/* Disputes one write transaction of the sweep resolves at most, each
 * with a file load, a list refresh and its inquirers read from the
 * index; a subject's are never split between two, since their
 * inquirers are told in one notice. */
size_t prb_sweep_batch = 512;

/* Resolves those of disputes ids[0..n) (records rids) still open and
 * past their deadline in txn, in the subject's favour; *resolved counts
 * them. The snapshot they were found on may be older than txn: a
 * reviewer may have resolved one since, or retention closed it. ids and
 * rids are left as they are, for a batch that fails is tried again. */
static int sweep_batch(prb_env *env, MDB_txn *txn, const uint64_t *ids, const uint64_t *rids,
                       size_t n, uint64_t *resolved)
{
    char note[64];
    size_t k = 0;
    int rc = PRB_OK;
    /* Those still due, kept as read: resolved after their requesters are
     * told, without reading them again. */
    json_t **due = malloc((n ? n : 1) * sizeof *due);
    uint64_t *dids = malloc((n ? 2 * n : 1) * sizeof *dids), *drids = dids + n;
    if (!due || !dids) {
        free(due);
        free(dids);
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *d;
        if ((rc = get_dispute(env, txn, ids[i], &d)))
            break;
        if (!is_open(d) || !past_deadline(env, d)) {
            json_decref(d);
            continue;
        }
        dids[k] = ids[i];
        drids[k] = rids[i];
        due[k++] = d;
    }
    /* Told before they go, a subject's in one notice to each requester. */
    if (!rc)
        rc = tell_records(env, txn, drids, k, 1, 1);
    for (size_t i = 0; !rc && i < k; i++) {
        snprintf(note, sizeof note, "no answer from the furnisher by %s", str(due[i], "deadline"));
        if (!(rc = resolve(env, txn, dids[i], due[i], "deleted", note, "deadline", NULL)))
            (*resolved)++;
    }
    for (size_t i = 0; i < k; i++)
        json_decref(due[i]);
    free(due);
    free(dids);
    return rc;
}

int prb_disputes_sweep(prb_env *env, uint64_t *resolved)
{
    struct due du = {env, prb_today(env), NULL, NULL, 0, 0};
    MDB_txn *txn;
    uint64_t total = 0;
    int rc = PRB_OK, mrc, first = PRB_OK;
    char first_msg[PRB_ERRMSG_MAX];
    /* Found on a snapshot: the search reads every dispute stored, and the
     * writers of a server go on meanwhile. */
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "reading the disputes for the sweep");
    if (!none_stored(env, txn))
        rc = walk(env, txn, 0, find_due, &du, NULL);
    mdb_txn_abort(txn);
    /* Then resolved a batch a transaction, each dispute with its notices
     * in one. What a stop leaves has resolved in the subject's favour
     * already (past_deadline): nothing may uphold it, and the next sweep
     * deletes the record. A batch that fails (a record damaged behind
     * the engine's back) is tried again a subject a transaction, and a
     * subject that fails again is left, its error returned at the end:
     * stopping there left every dispute after it unresolved on every
     * sweep until someone repaired the damage (invariant 6). */
    for (size_t i = 0, end, solo = 0; !rc && i < du.n; i = end) {
        size_t most = i < solo ? 1 : prb_sweep_batch; /* before solo, one subject */
        uint64_t count = 0;
        int brc;
        end = i + most < du.n ? i + most : du.n;
        while (end < du.n && du.ids[end] >> PRB_RSEQ_BITS == du.ids[end - 1] >> PRB_RSEQ_BITS)
            end++;
        if ((rc = prb_wtxn_begin(env, &txn)))
            break;
        if ((brc = sweep_batch(env, txn, du.ids + i, du.rids + i, end - i, &count)))
            prb_wtxn_abort(env, txn);
        else if (!(brc = prb_wtxn_commit(env, txn)))
            total += count;
        if (brc && i >= solo && du.ids[i] >> PRB_RSEQ_BITS != du.ids[end - 1] >> PRB_RSEQ_BITS) {
            solo = end;
            end = i; /* tried again from i */
            continue;
        }
        if (brc && !first) {
            first = brc;
            snprintf(first_msg, sizeof first_msg, "%s", env->err);
        }
        if (end < du.n && prb_cancelled(env))
            break;
    }
    free(du.ids);
    free(du.rids);
    if (resolved)
        *resolved += total;
    if (first)
        return prb_seterr(env->err, first, "%s", first_msg);
    return rc;
}

int prb_disputes_record_expired(prb_env *env, MDB_txn *txn, uint64_t record)
{
    struct find_open fo = {env, record, 0};
    MDB_val mv;
    json_t *d;
    char day[11], note[80];
    int rc;
    if (none_stored(env, txn))
        return PRB_OK;
    if ((rc = walk(env, txn, record >> PRB_RSEQ_BITS, find_open, &fo, NULL)) != PRB_EEXIST)
        return rc; /* PRB_OK: none open */
    if ((rc = get_value(env, txn, fo.found, &mv)))
        return rc;
    /* One damaged behind the engine's back (verify names it) has nothing
     * left to decide once its record is gone, and is left as it is:
     * failing on it kept the record, and every other of the transaction,
     * past retention on every sweep until someone repaired it
     * (invariant 6). */
    if (decode(env, fo.found, &mv, &d))
        return PRB_OK;
    prb_date_format(prb_today(env), day);
    snprintf(note, sizeof note, "the record reached the end of its retention by %s", day);
    rc = resolve(env, txn, fo.found, d, "deleted", note, "retention", NULL);
    json_decref(d);
    return rc;
}

/* ---------------------------------------------- corrections by ingest */

int prb_dspfix_load(prb_env *env, MDB_txn *txn, prb_dspfix *x)
{
    memset(x, 0, sizeof *x);
    x->any = !none_stored(env, txn);
    return PRB_OK;
}

int prb_dspfix_note(prb_dspfix *x, uint64_t record)
{
    if (!x->any)
        return PRB_OK;
    if (x->nhit == x->hcap) {
        uint64_t *n = realloc(x->hit, (x->hcap = x->hcap * 2 + 16) * sizeof *n);
        if (!n)
            return PRB_ENOMEM;
        x->hit = n;
    }
    x->hit[x->nhit++] = record;
    return PRB_OK;
}

int prb_dspfix_overdue(prb_env *env, MDB_txn *txn, const prb_dspfix *x, uint64_t record,
                       char deadline[11])
{
    struct find_open fo = {env, record, 0};
    json_t *d;
    int rc;
    *deadline = '\0';
    if (!x->any)
        return PRB_OK;
    if ((rc = walk(env, txn, record >> PRB_RSEQ_BITS, find_open, &fo, NULL)) != PRB_EEXIST)
        return rc; /* PRB_OK: none open */
    if ((rc = get_dispute(env, txn, fo.found, &d)))
        return rc;
    /* As resolve_answered judges it: the two must agree. */
    if (past_deadline(env, d))
        snprintf(deadline, 11, "%s", str(d, "deadline"));
    json_decref(d);
    return PRB_OK;
}

/* The open disputes of one subject whose records the batch corrected. */
struct answered {
    prb_env *env;
    const uint64_t *rids; /* the subject's corrected records, sorted */
    size_t nrids;
    uint64_t *ids;
    size_t n, cap;
};

static int find_answered(void *ctx, uint64_t id, const MDB_val *v)
{
    struct answered *a = ctx;
    uint64_t rid;
    if (!value_open(v))
        return PRB_OK;
    if (value_record(v, &rid))
        return malformed(a->env, id);
    if (!bsearch(&rid, a->rids, a->nrids, sizeof *a->rids, cmp_u64))
        return PRB_OK;
    if (a->n == a->cap) {
        uint64_t *n = realloc(a->ids, (a->cap = a->cap * 2 + 16) * sizeof *n);
        if (!n)
            return prb_seterr(a->env->err, PRB_ENOMEM, "out of memory");
        a->ids = n;
    }
    a->ids[a->n++] = id;
    return PRB_OK;
}

/* Resolves as corrected the open disputes a->ids, found in txn; the
 * records of those it resolved are added to told. */
static int resolve_answered(prb_env *env, MDB_txn *txn, const struct answered *a, uint64_t *told,
                            size_t *ntold)
{
    int rc = PRB_OK;
    for (size_t i = 0; !rc && i < a->n; i++) {
        json_t *d;
        if ((rc = get_dispute(env, txn, a->ids[i], &d)))
            break;
        /* Too late to answer it: the sweep deletes the record. */
        if (!past_deadline(env, d) &&
            !(rc = resolve(env, txn, a->ids[i], d, "corrected",
                           "the furnisher sent a corrected version", "correction", NULL)))
            told[(*ntold)++] = record_of(d);
        json_decref(d);
    }
    return rc;
}

int prb_dspfix_resolve(prb_env *env, MDB_txn *txn, prb_dspfix *x)
{
    struct answered a = {.env = env};
    size_t n = 0, ntold = 0;
    uint64_t *told = NULL;
    int rc = PRB_OK;
    if (!x->nhit)
        return PRB_OK;
    /* A record corrected twice in a batch resolves its dispute once. */
    qsort(x->hit, x->nhit, sizeof *x->hit, cmp_u64);
    for (size_t i = 0; i < x->nhit; i++)
        if (!n || x->hit[n - 1] != x->hit[i])
            x->hit[n++] = x->hit[i];
    x->nhit = n;
    if (!(told = malloc(n * sizeof *told)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    /* One seek a subject: its disputes are one key range, and a batch
     * reads none of the other subjects' (a register's resolved disputes
     * only grow). Found first, resolved after: no cursor walks a tree
     * that is changing under it. */
    for (size_t i = 0, j; !rc && i < n; i = j) {
        uint64_t subject = x->hit[i] >> PRB_RSEQ_BITS;
        for (j = i; j < n && x->hit[j] >> PRB_RSEQ_BITS == subject; j++)
            ;
        a.rids = x->hit + i;
        a.nrids = j - i;
        a.n = 0;
        if (!(rc = walk(env, txn, subject, find_answered, &a, NULL)))
            rc = resolve_answered(env, txn, &a, told, &ntold);
    }
    free(a.ids);
    /* The corrections that answered the subjects' disputes are told
     * (told.c), a subject's in one notice to each requester. Updates of
     * records no one disputed are not: a balance or a settlement is the
     * record's course, not a rectification. */
    if (!rc)
        rc = tell_records(env, txn, told, ntold, 0, 0);
    free(told);
    return rc;
}

void prb_dspfix_free(prb_dspfix *x)
{
    free(x->hit);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------- reading */

struct lister {
    prb_env *env;
    MDB_txn *txn;
    json_t *array;
    int open_only;
    prb_dispute_keep_fn keep;
    void *kctx;
    prb_page page;
};

static int append(void *ctx, uint64_t id, const MDB_val *v)
{
    struct lister *l = ctx;
    json_t *d;
    int rc, keep = 1;
    if ((rc = prb_page_look(&l->page, id)))
        return rc;
    if (l->open_only && !value_open(v))
        return PRB_OK;
    if ((rc = decode(l->env, id, v, &d)))
        return rc;
    if ((l->keep && (rc = l->keep(l->kctx, l->txn, d, &keep))) || !keep ||
        (rc = prb_page_take(&l->page, id))) {
        json_decref(d);
        return rc;
    }
    if (json_array_append_new(l->array, d))
        return prb_seterr(l->env->err, PRB_ENOMEM, "out of memory");
    return PRB_OK;
}

int prb_subject_disputes(prb_env *env, MDB_txn *txn, uint64_t subject, struct json_t *array)
{
    struct lister l = {.env = env, .txn = txn, .array = array};
    if (!subject)
        return PRB_OK;
    return walk(env, txn, subject, append, &l, NULL);
}

int prb_disputes_kept(prb_env *env, int open_only, uint64_t after, size_t limit,
                      prb_dispute_keep_fn keep, void *kctx, char **json, uint64_t *next)
{
    /* A page that leaves disputes out reads a bounded number of them
     * (prb_page_look): a furnisher's, or one of the open disputes among a
     * million resolved. The operator's whole listing of open disputes
     * (no limit) reads them all, as asked. */
    struct lister l = {.env = env,
                       .array = json_array(),
                       .open_only = open_only,
                       .keep = keep,
                       .kctx = kctx,
                       .page = {.limit = limit, .bounded = keep || (open_only && limit)}};
    return prb_page_json(env, env->dsp, after, append, &l, &l.txn, l.array, &l.page, json, next,
                         "reading disputes");
}

int prb_disputes_page(prb_env *env, int open_only, uint64_t after, size_t limit, char **json,
                      uint64_t *next)
{
    return prb_disputes_kept(env, open_only, after, limit, NULL, NULL, json, next);
}

int prb_disputes_json(prb_env *env, int open_only, char **json)
{
    return prb_disputes_kept(env, open_only, 0, 0, NULL, NULL, json, NULL);
}
