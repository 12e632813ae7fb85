/*
 * told.c - the recipients of a decision are told when it no longer
 * stands. GDPR art. 19 has a controller communicate each rectification
 * or erasure to each recipient the data were disclosed to; FCRA 611(d)
 * has a bureau tell those who received a report in the last six months
 * of a deletion or correction. A decision's recipient is its requester,
 * the inquirer that asked, stored in the decision itself.
 *
 * Such a notice is filed under the decision's subject like every notice,
 * so the subject's copy shows who was told what (invariant 8), and names
 * its recipient ("recipient", which the channels deliver with it; a
 * notice to the subject has none). It is written, with its audit leaf,
 * in the transaction that makes what it tells, so one is never told
 * without the other.
 *
 * Told: the requester of a decision a review overturned; and, when a
 * subject's dispute ends in the record's correction (the furnisher's new
 * version, at ingest) or deletion, each requester given a decision about
 * its subject in the last PRB_RECIPIENT_DAYS that used it: the
 * decision's own records_used names it. A furnisher's update of a record
 * no one disputed (a balance, a settlement) is the record's course, not
 * a rectification (GDPR art. 16 and 19), and tells no one: each monthly
 * update told to every recent inquirer would bury the rectifications. Not those that
 * could have used it by purpose and date: a record suspended by a
 * dispute, or one no feature of the purpose counted, was never given to
 * them, and a notice naming it would tell them more than the decision
 * did. For the same reason a record is named by its id, as the decision
 * named it, not by its furnisher, ref or category. One notice to a
 * requester per subject and transaction, naming its decisions.
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stored decision subject-qno, parsed (json_decref it). */
static int decision_of(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, json_t **out)
{
    MDB_val iv;
    int rc = prb_inquiry_get(env, txn, subject, no, &iv);
    *out = NULL;
    if (rc == PRB_ENOTFOUND)
        return prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: reviewed but not stored",
                          (unsigned long long)subject, no);
    if (rc)
        return rc;
    if (!(*out = prb_inquiry_decision(iv.mv_data, iv.mv_size)) ||
        !json_is_string(json_object_get(*out, "subject")))
        return prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: malformed value",
                          (unsigned long long)subject, no);
    return PRB_OK;
}

static const char *member(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

int prb_tell_overturned(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no,
                        const char *review, int32_t today)
{
    json_t *d;
    char id[48], day[11], *text = NULL;
    int rc = decision_of(env, txn, subject, no, &d);
    const char *requester = json_string_value(json_object_get(d, "requester"));
    /* A decision asked for by no one named (a library caller's) has no
     * one to tell. */
    if (rc || !requester || !*requester) {
        json_decref(d);
        return rc;
    }
    snprintf(id, sizeof id, "%llu-q%u", (unsigned long long)subject, no);
    prb_date_format(today, day);
    /* What the inquirer was given and what became of it; not the
     * subject's reason or the reviewer's note, which are the subject's. */
    if (asprintf(&text,
                 "Decision %s of %s for %s, which you (%s) were given about %s, was overturned "
                 "on human review (review %s, %s): it no longer stands. You may ask for a new "
                 "decision.",
                 id, member(d, "as_of"), member(d, "purpose"), requester, member(d, "subject"),
                 review, day) < 0) {
        json_decref(d);
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    rc = prb_notice_add_to(env, txn, subject, member(d, "subject"), requester,
                           "inquirer_overturned", id, text, today);
    free(text);
    json_decref(d);
    return rc;
}

/* ------------------------------------------- records corrected or deleted */

/* Decisions named in a notice for one record, at most: a requester that
 * asked every day is told of the rest by their number and last day. */
#define NAMED_MAX 32

/* A changed record as the notices name it. */
struct changed {
    char name[48]; /* "12-3", as a decision's records_used names it */
};

/* A decision of the window (used() says whether it used one of them,
 * once it is read). */
struct hit {
    uint32_t no;
    uint64_t g;
    int32_t day;
    json_t *d;
    const char *requester, *ident; /* within d; requester NULL: none to tell (asked by no one
                                    * named, used none of them, or unreadable) */
};

struct tell {
    prb_env *env;
    struct changed *recs;
    size_t nrecs;
    int32_t since; /* the oldest day a decision told of may be of */
    struct hit *hits;
    size_t nhits, cap;
};

/* Whether decision h (read) used c: its records_used names it. */
static int used(const struct hit *h, const struct changed *c)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(h->d, "records_used"), i, v)
    {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, c->name))
            return 1;
    }
    return 0;
}

/* Keeps each inquiry of the window. Not by the policy's purposes and
 * categories as they are now: a policy edited since (a category no
 * longer serving a purpose, a purpose renamed) would hide decisions that
 * used the record; the decision's own records_used decides. */
static int look(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose, size_t pl)
{
    struct tell *t = ctx;
    (void)purpose;
    (void)pl;
    if (day < t->since)
        return 0;
    if (t->nhits == t->cap) {
        struct hit *m = realloc(t->hits, (t->cap = t->cap * 2 + 16) * sizeof *m);
        if (!m)
            return prb_seterr(t->env->err, PRB_ENOMEM, "out of memory");
        t->hits = m;
    }
    t->hits[t->nhits++] = (struct hit){no, g, day, NULL, NULL, NULL};
    return 0;
}

/* By requester (those with none last), then by number. */
static int by_requester(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (!x->requester || !y->requester)
        return !x->requester - !y->requester;
    int c = strcmp(x->requester, y->requester);
    return c ? c : (x->no > y->no) - (x->no < y->no);
}

/* The notice to the requester of hits h[0..n) (in number order). */
static int tell_one(struct tell *t, MDB_txn *txn, uint64_t subject, const struct hit *h, size_t n,
                    int deleted, int32_t today)
{
    char *text = NULL, *about = NULL, day[11], when[11];
    size_t tl, al;
    FILE *w = open_memstream(&text, &tl), *a = open_memstream(&about, &al);
    int rc = PRB_OK;
    if (!w || !a) {
        if (w)
            fclose(w);
        if (a)
            fclose(a);
        free(text);
        free(about);
        return prb_seterr(t->env->err, PRB_ENOMEM, "out of memory");
    }
    prb_date_format(today, day);
    /* Each record, by the id the decisions gave, and the decisions given
     * to this requester that used it: nothing of what it says, nor
     * anything else of the subject's. */
    for (size_t r = 0, named = 0; r < t->nrecs; r++) {
        const struct changed *c = &t->recs[r];
        size_t m = 0, said = 0;
        const struct hit *lastm = NULL;
        for (size_t i = 0; i < n; i++)
            m += used(&h[i], c);
        if (!m)
            continue;
        fprintf(a, "%s%s", named++ ? "," : "", c->name);
        fprintf(w, "Record %s was %s on %s. ", c->name,
                deleted ? "deleted from the register" : "corrected by its furnisher", day);
        fprintf(w, "Decision%s given to you (%s) about %s that used it: ", m == 1 ? "" : "s",
                h[0].requester, h[0].ident);
        for (size_t i = 0; i < n; i++) {
            if (!used(&h[i], c))
                continue;
            lastm = &h[i];
            if (said++ >= NAMED_MAX)
                continue;
            prb_date_format(h[i].day, when);
            fprintf(w, "%s%llu-q%u of %s (%s)", said > 1 ? ", " : "", (unsigned long long)subject,
                    h[i].no, when, member(h[i].d, "purpose"));
        }
        if (m > NAMED_MAX) {
            prb_date_format(lastm->day, when);
            fprintf(w, ", and %zu more, the last of %s", m - NAMED_MAX, when);
        }
        fputs(". ", w);
    }
    fputs("They were made on the record as it stood then; you may ask for a new decision.", w);
    if (fclose(w) | fclose(a))
        rc = prb_seterr(t->env->err, PRB_ENOMEM, "out of memory");
    else
        rc = prb_notice_add_to(t->env, txn, subject, h[0].ident, h[0].requester,
                               deleted ? "inquirer_deleted" : "inquirer_corrected", about, text,
                               today);
    free(text);
    free(about);
    return rc;
}

int prb_tell_changed(prb_env *env, MDB_txn *txn, uint64_t subject, const uint64_t *rids, size_t n,
                     int deleted, int lenient, int32_t today)
{
    struct tell t = {.env = env, .since = today - PRB_RECIPIENT_DAYS};
    int rc = PRB_OK;
    if (!n)
        return PRB_OK;
    if (!(t.recs = calloc(n, sizeof *t.recs)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        prb_record_name(t.recs[t.nrecs++].name, sizeof t.recs[0].name, rids[i]);
    /* The index is read back from the subject's newest inquiry only as
     * far as the window (prb_iidx_recent: its marks of how the days run
     * say where an older one can no longer fall in it), not over the
     * subject's whole history. Only a dispute's resolution (or a review)
     * tells, so each decision of the window is read: one that cannot be
     * read might have used the record. */
    uint32_t last;
    rc = prb_iidx_recent(env, txn, NULL, subject, t.since, look, &t, &last);
    for (size_t i = 0; i < t.nhits && !rc; i++) {
        struct hit *h = &t.hits[i];
        MDB_val iv;
        size_t r = 0;
        if (!(rc = prb_inquiry_at(env, txn, subject, h->no, h->g, &iv)) &&
            (!(h->d = prb_inquiry_decision(iv.mv_data, iv.mv_size)) ||
             !(h->ident = json_string_value(json_object_get(h->d, "subject")))))
            rc = prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: malformed value",
                            (unsigned long long)subject, h->no);
        /* The sweep's deletions go ahead past a decision it cannot read
         * (verify names it): one register's retention is not held up by
         * it. Anywhere else the change fails and writes nothing. */
        if (rc == PRB_ECORRUPT && lenient) {
            rc = PRB_OK;
            continue;
        }
        if (rc)
            break;
        while (r < t.nrecs && !used(h, &t.recs[r]))
            r++;
        h->requester = json_string_value(json_object_get(h->d, "requester"));
        if (r == t.nrecs || (h->requester && !*h->requester))
            h->requester = NULL;
    }
    /* One notice to each requester, naming all of its decisions. */
    if (!rc && t.nhits)
        qsort(t.hits, t.nhits, sizeof *t.hits, by_requester);
    for (size_t i = 0, j; !rc && i < t.nhits && t.hits[i].requester; i = j) {
        for (j = i + 1; j < t.nhits && t.hits[j].requester &&
                        !strcmp(t.hits[j].requester, t.hits[i].requester);
             j++)
            ;
        rc = tell_one(&t, txn, subject, t.hits + i, j - i, deleted, today);
    }
    for (size_t i = 0; i < t.nhits; i++)
        json_decref(t.hits[i].d);
    free(t.hits);
    free(t.recs);
    return rc;
}
