/*
 * decide.c - purpose-bound decisions (DESIGN invariants 3 and 9): the
 * answer to "may this subject be given this, for this purpose?".
 *
 * A decision reads the subject's file, computes the features through the
 * purpose's allowed categories only, scores with the purpose's scorecard,
 * looks up the lists the purpose consults, and walks the purpose's rule to
 * an outcome with ranked reasons. prb_decide also refreshes the subject's
 * list entries and stores the decision as an inquiry in the subject's
 * file, with a notice when it is adverse, in one durable transaction.
 * prb_score_all computes the same decision for every subject without
 * storing anything; it and prb_evaluate see the list entries as that
 * refresh would leave them, writing nothing.
 */
#include "internal.h"
#include "audit.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INQ_LAYOUT 1
#define MAX_LISTS 64

/* Inquiries are kept in two tables (store format 3):
 *   ilog  be64 G, the inquiry's place in the order they were made ->
 *         be64 subject, be32 its number for the subject, then the
 *         inquiry (the header below, the purpose, the decision as JSON)
 *   iidx  be64 subject, be32 number -> be64 G, le32 day, u8 purpose
 *         length P, the purpose
 * The log only ever grows at its end and is the record; the index, made
 * from it in an environment of its own that is not flushed at every
 * commit (iidx.c), lets a decision find the subject's earlier inquiries
 * (their day and purpose are features) and the subject's copy find them
 * in the log. Format 1 kept one table of whole inquiries keyed by
 * subject, format 2 the index in the register itself: each stored
 * decision then changed a page at a random place that every commit had
 * to write and flush. */
struct prb_decision {
    prb_env *env;   /* for formatting JSON later; the env must outlive d */
    prb_file *file; /* kept for the next call that reuses this handle */
    MDB_txn *rtxn;  /* likewise, a reset read transaction */
    MDB_txn *itxn;  /* and one of the inquiry index (iidx.c) */
    uint64_t subject;
    uint32_t inquiry;
    int purpose;
    int outcome;
    int has_score;
    double score;
    prb_score sc;
    size_t nlisted;
    int listed[MAX_LISTS];
    prb_entry entries[MAX_LISTS];
    int decisive_list; /* the list whose rule step decided, -1 if none */
    int rule;          /* the rule step that decided */
    size_t nused, ucap;
    uint64_t *used;
    uint8_t *flags;
    prb_value *vals;
    char *requester;
    char *identifier;
    int64_t now;
    char *json;
    char *cjson; /* the same, compact: what the inquiry stores */
    /* Made by prb_decide_prepare: the inquiry's stored value and its
     * SHA-256, and the snapshot (LMDB transaction id) it was read from. */
    uint64_t snap;
    unsigned char *ival;
    size_t ilen;
    unsigned char ihash[PRB_HASH_LEN];
};

/* What decide() does with the decision it computes. */
enum { EVALUATE, STORE, PREPARE };

static const char *const outcome_name[] = {"?", "approve", "refer", "decline"};

/* The subject's inquiries, for the inquiries features. */
struct inq_list {
    prb_env *env;
    prb_inq *v;
    size_t n, cap;
    /* How many came first, newest first (the index's: prb_iidx_recent),
     * and the number of the one before. */
    size_t down;
    uint32_t prev;
    /* The last purpose looked up: a subject's inquiries are mostly for
     * the same one. */
    char last[256];
    size_t last_len;
    int last_purpose;
};

static int add_inquiry(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose,
                       size_t pl)
{
    struct inq_list *l = ctx;
    char name[256];
    (void)g;
    if (l->down == l->n && (!l->n || no < l->prev))
        l->down++;
    l->prev = no;
    if (l->n == l->cap) {
        prb_inq *m = realloc(l->v, (l->cap = l->cap * 2 + 16) * sizeof *m);
        if (!m)
            return prb_seterr(l->env->err, PRB_ENOMEM, "out of memory");
        l->v = m;
    }
    if (pl != l->last_len || memcmp(purpose, l->last, pl)) {
        memcpy(name, purpose, pl);
        name[pl] = 0;
        memcpy(l->last, purpose, pl);
        l->last_len = pl;
        l->last_purpose = prb_policy_purpose(l->env->policy, name);
    }
    l->v[l->n].day = day;
    l->v[l->n].purpose = l->last_purpose;
    l->n++;
    return 0;
}

/* The subject's inquiries of day since or later (none for INT32_MAX),
 * oldest first, and in *next the number the next one gets. Only those
 * are read, not the subject's whole history: a subject asked about a
 * million times cost every decision a million steps of a cursor and a
 * 16 MB array, even for a purpose that counts no inquiry. */
static int read_inquiries(prb_env *env, MDB_txn *txn, MDB_txn **keep, uint64_t subject,
                          int32_t since, prb_inq **out, size_t *n, uint32_t *next)
{
    struct inq_list l = {env, NULL, 0, 0, 0, 0, "", 0, -1};
    uint32_t last = 0;
    int rc = prb_iidx_recent(env, txn, keep, subject, since,
                             since == INT32_MAX ? NULL : add_inquiry, &l, &last);
    if (rc) {
        free(l.v);
        l.v = NULL;
        l.n = 0;
        l.down = 0;
    }
    /* The index's came newest first. */
    for (size_t i = 0, j = l.down; i + 1 < j; i++, j--) {
        prb_inq t = l.v[i];
        l.v[i] = l.v[j - 1];
        l.v[j - 1] = t;
    }
    *out = l.v;
    *n = l.n;
    *next = last + 1;
    return rc;
}

/* The features a purpose's decision reads: its scorecard's. */
static void needed(const prb_policy *p, const prb_purposedef *pd, uint8_t *need)
{
    if (pd->need)
        memcpy(need, pd->need, p->nfeatures);
    else
        memset(need, 0, p->nfeatures);
}

/* The first day an inquiry may count on today for a purpose's decision:
 * the earliest of its inquiries features' windows (INT32_MAX when it
 * needs none). A window of w months holds the days a with
 * prb_months_between(a, today) < w: every day of the months after the
 * one w months back, and the days of that month after today's day of
 * the month (none when it is shorter). Worked out, not searched for with
 * prb_months_between: a search cost 2 % of an evaluation. */
static int32_t inquiries_since(const prb_purposedef *pd, int32_t today)
{
    int w = pd->inquiry_months, y;
    unsigned m, d;
    if (!w)
        return INT32_MAX;
    prb_civil_from_days(today, &y, &m, &d);
    int back = y * 12 + (int)m - 1 - w; /* that month, counted from year 0 */
    int by = back >= 0 ? back / 12 : (back - 11) / 12;
    unsigned bm = (unsigned)(back - by * 12) + 1;
    int32_t first = prb_days_from_civil(by, bm, 1);
    int32_t after =
        bm == 12 ? prb_days_from_civil(by + 1, 1, 1) : prb_days_from_civil(by, bm + 1, 1);
    return first + (int32_t)d < after ? first + (int32_t)d : after;
}

/* The feature values' scratch, kept across calls: batch scoring reuses
 * one decision. */
static int scratch(const prb_policy *p, prb_decision *d)
{
    if (!d->vals && !(d->vals = calloc(p->nfeatures + 1, sizeof *d->vals)))
        return PRB_ENOMEM;
    return PRB_OK;
}

/* The subject's entries on the purpose's lists, into d. A stored
 * decision has just refreshed them and reads them as stored (as_is). A
 * what-if or a batch score refreshes nothing, and an entry ends only by a
 * refresh: read as stored, one whose records had expired or were disputed
 * declined there until the next sweep while an inquiry was approved. So
 * they see each entry as a refresh would leave it. That costs the lists'
 * features, and a decision reads of an entry only whether it is in
 * effect: it is worked out only where the refresh can change that, for
 * an entry in effect as stored (it may end) or on a list without a
 * hearing (a new entry takes effect at once), or one a dispute
 * suspended (it is restored with its dates if the records stand); a new
 * entry after a hearing, or an ended one, is not in effect today either
 * way. Batch scoring thus does the work only for the few subjects listed. */
static int list_entries(prb_env *env, MDB_txn *txn, const prb_file *f, int purpose, int as_is,
                        int32_t today, prb_decision *d)
{
    const prb_policy *p = env->policy;
    const prb_purposedef *pd = &p->purposes[purpose];
    int rc = PRB_OK;
    d->nlisted = 0;
    for (size_t i = 0; i < pd->nlists && i < MAX_LISTS && !rc; i++) {
        int l = pd->lists[i];
        prb_entry *e = &d->entries[d->nlisted];
        d->listed[d->nlisted++] = l;
        if ((rc = prb_lists_entry(env, txn, d->subject, l, today, e)) || as_is ||
            (e->state != PRB_LS_ACTIVE && !e->suspended && p->lists[l].hearing_days))
            continue;
        if (!(rc = scratch(p, d)))
            rc = prb_lists_entry_now(env, txn, f, l, d->vals, today, e);
    }
    return rc;
}

/* The decision itself, from a file, inquiries and list entries. */
static int evaluate(prb_env *env, int purpose, const prb_file *f, const prb_inq *inq, size_t ninq,
                    int32_t today, prb_decision *d, char *err, size_t errlen)
{
    const prb_policy *p = env->policy;
    const prb_purposedef *pd = &p->purposes[purpose];
    uint8_t need[1024];
    size_t nrec = prb_file_nrecords(f);
    int rc = PRB_OK;
    if (scratch(p, d))
        return PRB_ENOMEM;
    if (nrec + 1 > d->ucap) {
        free(d->used);
        free(d->flags);
        d->used = malloc((nrec + 16) * sizeof *d->used);
        d->flags = malloc(nrec + 16);
        /* A handle goes back to the spare pool after a failure: it must
         * not claim room it does not have. */
        d->ucap = d->used && d->flags ? nrec + 16 : 0;
        if (!d->ucap)
            return PRB_ENOMEM;
    }
    d->nused = 0;
    needed(p, pd, need);
    prb_features(p, pd->categories, f, inq, ninq, today, need, d->vals, d->flags);
    /* An entry in effect is part of the decision as much as the score:
     * the records it rests on are used too (invariants 8 and 9). Used came
     * from the scorecard's features alone, so a company excluded from
     * procurement (a purpose without a scorecard) was told, and saw in
     * its file, that its decline used no record. The list's categories
     * are the purpose's (the policy loader checks). */
    for (size_t i = 0; i < d->nlisted; i++)
        if (d->entries[i].state == PRB_LS_ACTIVE)
            prb_lists_ground_records(p, d->listed[i], d->entries[i].ground, f, d->flags);
    for (size_t r = 0; r < nrec; r++)
        if (d->flags[r])
            d->used[d->nused++] = prb_file_record(f, r)->id;
    d->has_score = 0;
    if (pd->scorecard >= 0) {
        const prb_scorecard *sc = p->scorecards[pd->scorecard];
        prb_value in[256];
        for (size_t i = 0; i < sc->nfields && i < 256; i++)
            in[i] = d->vals[pd->sc_feature[i]];
        if (prb_sc_eval(sc, in, &d->sc, err, errlen) == PRB_OK) {
            d->has_score = 1;
            d->score = prb_sc_points_real(d->sc.score);
        }
    }
    d->decisive_list = -1;
    for (size_t r = 0; r < pd->nrules; r++) {
        const prb_rule *ru = &pd->rules[r];
        int applies = 1;
        if (ru->list >= 0) {
            applies = 0;
            for (size_t i = 0; i < d->nlisted; i++)
                if (d->listed[i] == ru->list && d->entries[i].state == PRB_LS_ACTIVE)
                    applies = 1;
        } else if (ru->if_no_score) {
            applies = !d->has_score;
        } else if (ru->has_below) {
            /* In millionths, exactly: as doubles 500 + 0.2 + 0.2 + 0.2
             * fell below 500.6. */
            applies = d->has_score && d->sc.score < ru->below;
        }
        if (applies) {
            d->outcome = ru->outcome;
            d->decisive_list = ru->list;
            d->rule = (int)r;
            break;
        }
    }
    return rc;
}

static int find_purpose(prb_env *env, const char *purpose, const char *requester)
{
    const prb_policy *p = env->policy;
    int pi = prb_policy_purpose(p, purpose);
    if (prb_requester_check(env, requester))
        return -PRB_EINVAL;
    if (pi < 0)
        return -prb_seterr(env->err, PRB_ENOTFOUND, "purpose '%s' is not in the policy", purpose);
    const prb_purposedef *pd = &p->purposes[pi];
    if (!pd->nrules)
        return -prb_seterr(env->err, PRB_EINVAL,
                           "purpose %s has no decision rule in the policy: no inquiry may be "
                           "made for it",
                           purpose);
    if (requester && pd->nrequesters) {
        size_t i;
        for (i = 0; i < pd->nrequesters; i++)
            if (!strcmp(pd->requesters[i], requester))
                break;
        if (i == pd->nrequesters)
            return -prb_seterr(env->err, PRB_EINVAL, "%s may not ask for purpose %s", requester,
                               purpose);
    }
    return pi;
}

/* What the inquiry record holds, after a small header features read:
 *   0 u8 layout, 1 u8 purpose name length P, 2 u8 outcome, 3 u8 has score,
 *   4 i32 day, 8 f64 score, 16 purpose name, then the decision as JSON.
 * Made into d->ival. */
static int inquiry_value(prb_env *env, prb_decision *d, const char *json)
{
    const char *purpose = env->policy->purposes[d->purpose].name;
    size_t pl = strlen(purpose), jl = strlen(json);
    unsigned char *v = realloc(d->ival, 16 + pl + jl);
    if (!v)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    d->ival = v;
    d->ilen = 16 + pl + jl;
    v[0] = INQ_LAYOUT;
    v[1] = (unsigned char)pl;
    v[2] = (unsigned char)d->outcome;
    v[3] = (unsigned char)d->has_score;
    prb_put_le32(v + 4, prb_day_of(d->now));
    memcpy(v + 8, &d->score, 8);
    memcpy(v + 16, purpose, pl);
    memcpy(v + 16 + pl, json, jl);
    return PRB_OK;
}

/* Appends inquiry [inq, inq + len) under key as number g of the log
 * (through cur, a cursor on ilog): the one writer of its layout. The
 * index follows from the log after the commit (prb_iidx_catch_up). */
static int inquiry_put(prb_env *env, MDB_cursor *cur, uint64_t g,
                       const unsigned char key[PRB_INQ_KEY_LEN], const void *inq, size_t len)
{
    unsigned char gb[8];
    MDB_val gk = {8, gb}, gv = {PRB_INQ_KEY_LEN + len, NULL};
    int mrc;
    prb_be64(gb, g);
    /* Written in place: the key's copy, then the inquiry. */
    if ((mrc = mdb_cursor_put(cur, &gk, &gv, MDB_APPEND | MDB_RESERVE)))
        return prb_mdb_fail(env, mrc, "storing the inquiry");
    memcpy(gv.mv_data, key, PRB_INQ_KEY_LEN);
    memcpy((unsigned char *)gv.mv_data + PRB_INQ_KEY_LEN, inq, len);
    return PRB_OK;
}

/* Stores d->ival as the inquiry, logged with hash (the value's SHA-256,
 * or NULL to have it computed). */
static int store_inquiry(prb_env *env, MDB_txn *txn, prb_decision *d, const unsigned char *hash)
{
    unsigned char k[PRB_INQ_KEY_LEN];
    uint64_t next, tid = mdb_txn_id(txn);
    MDB_cursor *cur;
    int rc = PRB_OK, mrc = mdb_cursor_open(txn, env->ilog, &cur);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening the inquiry log");
    prb_inq_key(k, d->subject, d->inquiry);
    /* A batch of decisions appends many: the log's end is looked up once
     * per transaction. (An aborted transaction's id comes back with the
     * next one; its numbers then only skip some, which the log allows.) */
    if (env->ilog_txn == tid)
        next = env->ilog_next;
    else
        rc = prb_next_number(env, cur, "reading the inquiry log", &next);
    if (!rc)
        rc = inquiry_put(env, cur, next, k, d->ival, d->ilen);
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    env->ilog_txn = tid;
    env->ilog_next = next + 1;
    unsigned aux = d->inquiry >> 24;
    uint64_t object = d->subject << 24 | (d->inquiry & 0xffffff);
    if (hash)
        return prb_audit_log_hash(env, PRB_LEAF_INQUIRY, aux, object, hash);
    return prb_audit_log(env, PRB_LEAF_INQUIRY, aux, object, d->ival, d->ilen);
}

/* The notice an adverse decision gives its subject. */
static int adverse_notice(prb_env *env, MDB_txn *txn, const prb_decision *d)
{
    const char *purpose = env->policy->purposes[d->purpose].name;
    char text[512], id[48];
    if (d->outcome == PRB_APPROVE)
        return PRB_OK;
    snprintf(id, sizeof id, "%llu-q%u", (unsigned long long)d->subject, d->inquiry);
    snprintf(text, sizeof text,
             "An inquiry for %s by %s was answered '%s'. You may see the reasons in your file "
             "and ask for a human review of this decision (%s).",
             purpose, d->requester ? d->requester : "an inquirer", outcome_name[d->outcome & 3],
             id);
    return prb_notice_add(env, txn, d->subject, d->identifier, "adverse_decision", id, text,
                          prb_day_of(d->now));
}

/* Invariant 9: every adverse outcome is explained. When neither a list
 * entry nor a bin that lost points explains one, the rule step that
 * decided does: the score that could not be made (and which feature no
 * bin scored), the threshold the score fell below, or the step itself.
 * Fills w and returns 1 when the decision needs such a reason. */
struct rule_reason {
    const char *code;
    const char *feature; /* NULL when no feature is to blame */
    int fi;              /* its index in the policy; -1 if none */
    char text[384];
};

static int rule_reason(const prb_policy *p, const prb_decision *d, size_t others,
                       struct rule_reason *w)
{
    const prb_purposedef *pd = &p->purposes[d->purpose];
    const prb_rule *ru = &pd->rules[d->rule];
    if (d->outcome == PRB_APPROVE || others || (size_t)d->rule >= pd->nrules)
        return 0;
    const char *said = outcome_name[d->outcome & 3];
    w->feature = NULL;
    w->fi = -1;
    if (!d->has_score && pd->scorecard >= 0 && !ru->has_below) {
        const char *sc = p->scorecards[pd->scorecard]->name, *f = d->sc.unscored;
        int fi = w->fi = f ? prb_policy_feature(p, f) : -1;
        char value[PRB_REAL_STR];
        w->code = "NO_SCORE";
        w->feature = f;
        /* The value as its "value" says it, digit for digit. */
        if (fi >= 0 && d->vals[fi].present &&
            prb_real_str(value, sizeof value, d->vals[fi].num) > 0)
            snprintf(w->text, sizeof w->text,
                     "No score could be made: scorecard %s has no bin for %s = %s, so the "
                     "answer is '%s'",
                     sc, f, value, said);
        else if (f)
            snprintf(w->text, sizeof w->text,
                     "No score could be made: %s has no value (no record gives it one) and "
                     "scorecard %s has no bin for a missing value, so the answer is '%s'",
                     f, sc, said);
        else
            snprintf(w->text, sizeof w->text,
                     "No score could be made with scorecard %s, so the answer is '%s'", sc, said);
        return 1;
    }
    if (d->has_score && ru->has_below) {
        char score[PRB_SC_POINTS_STR], below[PRB_SC_POINTS_STR];
        w->code = "SCORE_BELOW";
        /* Exact: ten digits once printed a score below its threshold as
         * the threshold itself. */
        snprintf(w->text, sizeof w->text,
                 "The score %s is below %s, under which the rule for %s answers '%s'",
                 prb_sc_points_str(d->sc.score, score), prb_sc_points_str(ru->below, below),
                 pd->name, said);
        return 1;
    }
    w->code = "RULE";
    snprintf(w->text, sizeof w->text,
             "The rule for %s answers '%s' when none of its earlier steps applies", pd->name, said);
    return 1;
}

static void reasons_json(prb_jw *w, const prb_env *env, const prb_decision *d)
{
    struct rule_reason why;
    const prb_policy *p = env->policy;
    char pts[PRB_SC_POINTS_STR];
    size_t n = 0;
    prb_jw_open(w, '[');
    if (d->decisive_list >= 0) {
        const prb_listdef *l = &p->lists[d->decisive_list];
        char code[80], text[256], since[11] = "";
        for (size_t i = 0; i < d->nlisted; i++)
            if (d->listed[i] == d->decisive_list)
                prb_date_format(d->entries[i].active_from, since);
        snprintf(code, sizeof code, "LIST:%s", l->name);
        snprintf(text, sizeof text, "Entered on the %s list %s, in effect since %s",
                 l->type == PRB_BLACK ? "black" : "red", l->name, since);
        prb_jw_open(w, '{');
        prb_jw_key(w, "code");
        prb_jw_str(w, code);
        prb_jw_key(w, "text");
        prb_jw_str(w, text);
        prb_jw_key(w, "feature");
        prb_jw_null(w);
        prb_jw_key(w, "value");
        prb_jw_null(w);
        prb_jw_close(w, '}');
        n++;
    }
    for (size_t i = 0; d->has_score && i < d->sc.nreasons && n < PRB_MAX_REASONS; i++, n++) {
        const prb_reason *r = &d->sc.reasons[i];
        int f = prb_policy_feature(p, r->feature);
        prb_jw_open(w, '{');
        prb_jw_key(w, "code");
        prb_jw_str(w, r->code);
        prb_jw_key(w, "text");
        prb_jw_str(w, r->text);
        prb_jw_key(w, "feature");
        prb_jw_str(w, r->feature);
        prb_jw_key(w, "value");
        if (f >= 0 && d->vals[f].present)
            prb_jw_real(w, d->vals[f].num);
        else
            prb_jw_null(w);
        prb_jw_key(w, "points_below_best");
        prb_jw_number(w, prb_sc_points_str(r->points_lost, pts));
        prb_jw_close(w, '}');
    }
    if (rule_reason(p, d, n, &why)) {
        int f = why.fi;
        prb_jw_open(w, '{');
        prb_jw_key(w, "code");
        prb_jw_str(w, why.code);
        prb_jw_key(w, "text");
        prb_jw_str(w, why.text);
        prb_jw_key(w, "feature");
        prb_jw_str(w, why.feature);
        prb_jw_key(w, "value");
        if (f >= 0 && d->vals[f].present)
            prb_jw_real(w, d->vals[f].num);
        else
            prb_jw_null(w);
        prb_jw_close(w, '}');
    }
    prb_jw_close(w, ']');
}

/* The decision as JSON, written directly: it is made for every request,
 * and a jansson tree of it cost more than computing the decision.
 * Compact (indent 0) into d->cjson, what the inquiry stores, or indented
 * into d->json, for people. */
static int write_json(prb_env *env, prb_decision *d, int indent)
{
    static const char *const st[] = {"none", "noticed", "active", "lifted", "expired", "withdrawn"};
    const prb_policy *p = env->policy;
    char id[48], buf[48], day[11], at[21];
    prb_jw w = {.indent = indent};
    snprintf(id, sizeof id, "%llu-q%u", (unsigned long long)d->subject, d->inquiry);
    prb_date_format(prb_day_of(d->now), day);
    /* When it was asked, to the second, from the as-of clock. */
    prb_time_format(d->now, at);
    prb_jw_open(&w, '{');
    /* An evaluation that was not an inquiry has no decision id. */
    prb_jw_key(&w, "decision");
    prb_jw_str(&w, d->inquiry ? id : NULL);
    prb_jw_key(&w, "subject");
    prb_jw_str(&w, d->identifier);
    prb_jw_key(&w, "purpose");
    prb_jw_str(&w, p->purposes[d->purpose].name);
    prb_jw_key(&w, "requester");
    prb_jw_str(&w, d->requester);
    prb_jw_key(&w, "outcome");
    prb_jw_str(&w, outcome_name[d->outcome & 3]);
    prb_jw_key(&w, "score");
    if (d->has_score)
        prb_jw_number(&w, prb_sc_points_str(d->sc.score, buf));
    else
        prb_jw_null(&w);
    prb_jw_key(&w, "reasons");
    reasons_json(&w, env, d);
    prb_jw_key(&w, "lists");
    prb_jw_open(&w, '[');
    for (size_t i = 0; i < d->nlisted; i++) {
        const prb_entry *e = &d->entries[i];
        const prb_listdef *l = &p->lists[d->listed[i]];
        char since[11], from[11];
        /* Only the entries that applied, those in effect. One in its
         * hearing has not taken effect (invariant 4), and an ended one
         * (lifted, expired, withdrawn) may rest on records deleted or
         * disputed since (invariants 5 and 6): both were told to every
         * inquirer, an ended one for ever, though the inquirer's own view
         * of the list leaves them out. The subject's copy keeps them all. */
        if (e->state != PRB_LS_ACTIVE)
            continue;
        prb_date_format(e->since, since);
        prb_date_format(e->active_from, from);
        prb_jw_open(&w, '{');
        prb_jw_key(&w, "list");
        prb_jw_str(&w, l->name);
        prb_jw_key(&w, "type");
        prb_jw_str(&w, l->type == PRB_BLACK ? "black" : "red");
        prb_jw_key(&w, "state");
        prb_jw_str(&w, st[e->state]);
        prb_jw_key(&w, "ground");
        prb_jw_str(&w, e->ground);
        prb_jw_key(&w, "noticed");
        prb_jw_str(&w, since);
        prb_jw_key(&w, "effective_from");
        prb_jw_str(&w, from);
        prb_jw_close(&w, '}');
    }
    prb_jw_close(&w, ']');
    prb_jw_key(&w, "records_used");
    prb_jw_open(&w, '[');
    for (size_t i = 0; i < d->nused; i++) {
        prb_record_name(buf, sizeof buf, d->used[i]);
        prb_jw_str(&w, buf);
    }
    prb_jw_close(&w, ']');
    prb_jw_key(&w, "policy_version");
    prb_jw_str(&w, prb_policy_version(p));
    prb_jw_key(&w, "as_of");
    prb_jw_str(&w, day);
    prb_jw_key(&w, "asked_at");
    prb_jw_str(&w, at);
    prb_jw_close(&w, '}');
    char **out = indent ? &d->json : &d->cjson;
    free(*out);
    *out = prb_jw_finish(&w);
    return *out ? PRB_OK : PRB_ENOMEM;
}

static int build_json(prb_env *env, prb_decision *d)
{
    return write_json(env, d, 0);
}

/* The indented form, for people, when first asked for: written by the
 * same code from the same decision, so the two cannot differ but in
 * layout. It was the compact one read by jansson and written again at
 * ten digits, which undid the digits a value needs to read back. */
static int build_indented(prb_env *env, prb_decision *d)
{
    return write_json(env, d, 2);
}

static int decide(prb_env *env, MDB_txn *batch, int *wrote, const char *purpose,
                  const char *identifier, const char *requester, int mode, prb_decision **out);

int prb_decide(prb_env *env, const char *purpose, const char *identifier, const char *requester,
               prb_decision **out)
{
    return decide(env, NULL, NULL, purpose, identifier, requester, STORE, out);
}

int prb_decide_prepare(prb_env *env, const char *purpose, const char *identifier,
                       const char *requester, prb_decision **out)
{
    return decide(env, NULL, NULL, purpose, identifier, requester, PREPARE, out);
}

int prb_evaluate(prb_env *env, const char *purpose, const char *identifier, prb_decision **out)
{
    return decide(env, NULL, NULL, purpose, identifier, NULL, EVALUATE, out);
}

int prb_decide_txn(prb_env *env, MDB_txn *txn, const char *purpose, const char *identifier,
                   const char *requester, prb_decision **out, int *wrote)
{
    *wrote = 0;
    return decide(env, txn, wrote, purpose, identifier, requester, STORE, out);
}

/* batch: a write transaction of the caller's (prb_decide_txn), which this
 * neither commits nor aborts; *wrote is set before the first write to it. */
static int decide(prb_env *env, MDB_txn *batch, int *wrote, const char *purpose,
                  const char *identifier, const char *requester, int mode, prb_decision **out)
{
    int store = mode == STORE;
    const prb_policy *p = env->policy;
    char canon[PRB_IDENT_MAX], err[256];
    int scheme, mrc, rc, pi = find_purpose(env, purpose, requester);
    int32_t today = prb_today(env);
    MDB_txn *txn = NULL;
    prb_file *f = NULL;
    prb_inq *inq = NULL;
    size_t ninq;
    prb_decision *d = *out;

    if (pi < 0)
        return -pi;
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    /* A handle passed back in is reused: its buffers, file and read
     * transaction survive, everything about the last decision goes. */
    if (d) {
        free(d->identifier);
        free(d->requester);
        free(d->json);
        free(d->cjson);
        d->identifier = d->requester = d->json = d->cjson = NULL;
        d->nlisted = d->nused = 0;
        d->inquiry = 0;
        d->outcome = d->has_score = 0;
        d->snap = 0;
    } else if (!(d = *out = calloc(1, sizeof *d))) {
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    if (!(d->identifier = strdup(canon)) || (requester && !(d->requester = strdup(requester))))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    f = d->file;
    d->file = NULL;
    d->purpose = pi;
    d->env = env;
    d->now = prb_now(env);
    if (!store && d->rtxn) {
        txn = d->rtxn;
        d->rtxn = NULL;
        mrc = mdb_txn_renew(txn);
    } else {
        mrc = store ? 0 : mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
        if (store && batch)
            txn = batch;
        else if (store && (rc = prb_wtxn_begin(env, &txn))) {
            prb_file_free(f);
            return rc;
        }
    }
    if (mrc) {
        prb_file_free(f);
        return prb_mdb_fail(env, mrc, "starting the inquiry");
    }
    if (!(rc = prb_subject_find(env, txn, canon, &d->subject)) &&
        !(rc = prb_file_load(env, txn, d->subject, &f)) &&
        !(p->purposes[pi].kinds >> prb_file_kind(f) & 1))
        rc = PRB_ENOTFOUND;
    /* A subject of a kind the purpose does not take is answered as one
     * that is not there, in the same words: told apart, they said to an
     * inquirer for procurement (companies) which identifiers are persons
     * in the register, with no inquiry stored for anyone to see. */
    if (rc == PRB_ENOTFOUND) {
        unsigned k = p->purposes[pi].kinds;
        int persons = k >> PRB_PERSON & 1, companies = k >> PRB_COMPANY & 1;
        if (persons == companies)
            rc = prb_seterr(env->err, PRB_ENOTFOUND, "%s: no subject has this identifier", canon);
        else
            rc = prb_seterr(env->err, PRB_ENOTFOUND,
                            "%s: no %s has this identifier (this purpose takes inquiries about "
                            "%s only)",
                            canon, persons ? "person" : "company",
                            persons ? "persons" : "companies");
    }
    if (rc)
        goto fail;
    /* Lists first: the entries as of now are what the decision sees. */
    if (wrote)
        *wrote = 1;
    if (store && (rc = prb_lists_refresh(env, txn, f, today)))
        goto fail;
    /* A prepared decision reads them as stored too: the writer refreshes
     * them before storing it, and makes it again if that changes any. */
    if ((rc = list_entries(env, txn, f, pi, mode != EVALUATE, today, d)))
        goto fail;
    /* A handle keeps its index reader, a slot of PRB_MAX_READERS, for the
     * next use: one a writer's batch makes need not, so a batch of more new
     * handles than there are slots does not run out of them. */
    if ((rc = read_inquiries(env, txn, store && !d->itxn ? NULL : &d->itxn, d->subject,
                             inquiries_since(&p->purposes[pi], today), &inq, &ninq, &d->inquiry)) ||
        (rc = evaluate(env, pi, f, inq, ninq, today, d, err, sizeof err)))
        goto fail;
    if (mode == PREPARE) {
        /* Everything the writer will store, made here, outside its
         * transaction; the snapshot says what it was made from. */
        if (!(rc = build_json(env, d)) && !(rc = inquiry_value(env, d, d->cjson))) {
            prb_sha256(d->ival, d->ilen, d->ihash);
            d->snap = mdb_txn_id(txn);
        }
        goto fail; /* the read transaction ends as an evaluation's does */
    }
    if (!store) {
        d->inquiry = 0;
        rc = PRB_OK;
        goto fail; /* not a failure: the read transaction ends the same way */
    }
    if ((rc = build_json(env, d)) || (rc = inquiry_value(env, d, d->cjson)) ||
        (rc = store_inquiry(env, txn, d, NULL)) || (rc = adverse_notice(env, txn, d)))
        goto fail;
    rc = batch ? PRB_OK : prb_wtxn_commit(env, txn);
    txn = NULL;
fail:
    if (txn && !store) {
        mdb_txn_reset(txn);
        d->rtxn = txn;
    } else if (txn && !batch) {
        prb_wtxn_abort(env, txn);
    }
    free(inq);
    d->file = f;
    if (rc == PRB_ENOMEM)
        prb_seterr(env->err, rc, "out of memory");
    return rc;
}

uint64_t prb_decision_prepared(const prb_decision *d, uint64_t *subject)
{
    *subject = d->subject;
    return d->snap;
}

int32_t prb_decision_day(const prb_decision *d)
{
    return prb_day_of(d->now);
}

uint64_t prb_decision_subject(const prb_decision *d)
{
    return d->subject;
}

int prb_decide_store_prepared(prb_env *env, MDB_txn *txn, prb_decision *d, int *stale)
{
    unsigned before = env->list_writes;
    int rc;
    *stale = 0;
    if ((rc = prb_lists_refresh(env, txn, d->file, prb_day_of(d->now))))
        return rc;
    /* A list entry that changed now is one the decision did not see. */
    if (env->list_writes != before) {
        *stale = 1;
        return PRB_OK;
    }
    if ((rc = store_inquiry(env, txn, d, d->ihash)) || (rc = adverse_notice(env, txn, d)))
        return rc;
    d->snap = 0; /* stored: a second call would store it twice */
    return PRB_OK;
}

int prb_decision_outcome(const prb_decision *d)
{
    return d->outcome;
}

double prb_decision_score(const prb_decision *d, int *has_score)
{
    if (has_score)
        *has_score = d->has_score;
    return d->score;
}

int prb_decision_json(prb_decision *d, const char **json)
{
    *json = NULL;
    if (!d->json && d->env && build_indented(d->env, d))
        return PRB_ENOMEM;
    *json = d->json;
    return PRB_OK;
}

int prb_decision_json_compact(prb_decision *d, const char **json)
{
    *json = NULL;
    if (!d->cjson && d->env && build_json(d->env, d))
        return PRB_ENOMEM;
    *json = d->cjson;
    return PRB_OK;
}

void prb_decision_free(prb_decision *d)
{
    if (!d)
        return;
    prb_file_free(d->file);
    if (d->rtxn)
        mdb_txn_abort(d->rtxn);
    if (d->itxn)
        mdb_txn_abort(d->itxn);
    free(d->used);
    free(d->flags);
    free(d->vals);
    free(d->requester);
    free(d->identifier);
    free(d->json);
    free(d->cjson);
    free(d->ival);
    free(d);
}

/* Buffers a kept handle grew past this for a large subject are freed. */
#define KEEP_MAX ((size_t)1 << 20)

void prb_decision_trim(prb_decision *d)
{
    if (!d)
        return;
    free(d->json);
    free(d->cjson);
    d->json = d->cjson = NULL;
    d->snap = 0;
    if (prb_file_held(d->file) > KEEP_MAX) {
        prb_file_free(d->file);
        d->file = NULL;
    }
    if (d->ucap * (sizeof *d->used + 1) > KEEP_MAX) {
        free(d->used);
        free(d->flags);
        d->used = NULL;
        d->flags = NULL;
        d->ucap = d->nused = 0;
    }
    if (d->ilen > KEEP_MAX) {
        free(d->ival);
        d->ival = NULL;
        d->ilen = 0;
    }
}

size_t prb_decision_held(const prb_decision *d)
{
    return prb_file_held(d->file) + d->ucap * (sizeof *d->used + 1) + d->ilen +
           (d->json ? strlen(d->json) + 1 : 0) + (d->cjson ? strlen(d->cjson) + 1 : 0);
}

/* ------------------------------------------------------------ batch scoring */

#define SCORE_CHUNK 4096

struct score_chunk {
    char *buf;
    size_t len, cap;
    uint64_t n;
    atomic_int ready;
};

struct score_job {
    prb_env *env;
    int purpose;
    int inquiries;        /* whether any needed feature counts inquiries */
    uint64_t first, last; /* subject ids [first, last) */
    size_t nchunks;
    struct score_chunk *chunks;
    atomic_size_t next;
    atomic_int rc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static int out_grow(struct score_chunk *c, size_t need)
{
    if (c->len + need <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap * 2 : 1 << 16;
    while (cap < c->len + need)
        cap *= 2;
    char *b = realloc(c->buf, cap);
    if (!b)
        return -1;
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* Appends what fmt makes to c, measured by vsnprintf and grown to fit:
 * a line reserved by an estimate once outgrew it (a long purpose, a list
 * reason and three long codes) and wrote past the buffer. */
static int out_printf(struct score_chunk *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int out_printf(struct score_chunk *c, const char *fmt, ...)
{
    for (;;) {
        size_t room = c->cap - c->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(room ? c->buf + c->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return PRB_EINVAL;
        if ((size_t)n < room) {
            c->len += (size_t)n;
            return PRB_OK;
        }
        if (out_grow(c, (size_t)n + 1))
            return PRB_ENOMEM;
    }
}

/* One line, formatted by hand: jansson would cost more than the score.
 * Nothing here needs escaping: identifiers, purpose, list names and reason
 * codes are all from character sets the loaders and ident.c restrict. */
static int score_line(struct score_chunk *c, const prb_policy *p, const prb_file *f,
                      const prb_decision *d)
{
    struct rule_reason why;
    int rc, k = 0;
    rc = out_printf(c, "{\"subject\":\"%s\",\"purpose\":\"%s\",\"outcome\":\"%s\",\"score\":",
                    prb_file_ident(f, 0), p->purposes[d->purpose].name,
                    outcome_name[d->outcome & 3]);
    char score[PRB_SC_POINTS_STR];
    if (!rc && d->has_score)
        rc = out_printf(c, "%s", prb_sc_points_str(d->sc.score, score));
    else if (!rc)
        rc = out_printf(c, "null");
    if (!rc)
        rc = out_printf(c, ",\"reasons\":[");
    if (!rc && d->decisive_list >= 0)
        rc = out_printf(c, "\"LIST:%s\"", p->lists[d->decisive_list].name), k++;
    for (size_t i = 0; !rc && d->has_score && i < d->sc.nreasons && k < PRB_MAX_REASONS; i++, k++)
        rc = out_printf(c, "%s\"%s\"", k ? "," : "", d->sc.reasons[i].code);
    if (!rc && rule_reason(p, d, (size_t)k, &why))
        rc = out_printf(c, "\"%s\"", why.code);
    return rc ? rc : out_printf(c, "]}\n");
}

static int score_chunk_run(struct score_job *j, size_t ci, MDB_txn *txn, prb_file **f,
                           prb_decision *d)
{
    prb_env *env = j->env;
    const prb_policy *p = env->policy;
    const prb_purposedef *pd = &p->purposes[j->purpose];
    struct score_chunk *c = &j->chunks[ci];
    uint64_t lo = j->first + ci * SCORE_CHUNK, hi = lo + SCORE_CHUNK;
    int32_t today = prb_today(env), since = inquiries_since(pd, today);
    char err[256];
    int rc = PRB_OK;
    if (hi > j->last)
        hi = j->last;
    for (uint64_t s = lo; s < hi && !rc; s++) {
        prb_inq *inq = NULL;
        size_t ninq = 0;
        uint32_t next;
        if ((rc = prb_file_load(env, txn, s, f)))
            break;
        if (!(pd->kinds >> prb_file_kind(*f) & 1))
            continue;
        d->subject = s;
        d->purpose = j->purpose;
        rc = list_entries(env, txn, *f, j->purpose, 0, today, d);
        if (!rc && j->inquiries)
            rc = read_inquiries(env, txn, NULL, s, since, &inq, &ninq, &next);
        if (!rc)
            rc = evaluate(env, j->purpose, *f, inq, ninq, today, d, err, sizeof err);
        free(inq);
        if (!rc)
            rc = score_line(c, p, *f, d);
        c->n++;
    }
    return rc;
}

static void *score_worker(void *arg)
{
    struct score_job *j = arg;
    MDB_txn *txn = NULL;
    prb_file *f = NULL;
    prb_decision d;
    memset(&d, 0, sizeof d);
    int mrc = mdb_txn_begin(j->env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc) {
        atomic_store(&j->rc, PRB_ESTORE);
        goto done;
    }
    for (;;) {
        size_t ci = atomic_fetch_add(&j->next, 1);
        if (ci >= j->nchunks || atomic_load(&j->rc))
            break;
        int rc = score_chunk_run(j, ci, txn, &f, &d);
        if (rc)
            atomic_store(&j->rc, rc);
        pthread_mutex_lock(&j->mu);
        atomic_store(&j->chunks[ci].ready, 1);
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
done:
    if (txn)
        mdb_txn_abort(txn);
    prb_file_free(f);
    free(d.used);
    free(d.flags);
    free(d.vals);
    /* Wake a writer that may wait for a chunk no one will make. */
    pthread_mutex_lock(&j->mu);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int prb_score_all(prb_env *env, const char *purpose, int threads, prb_write_fn out, void *ctx,
                  uint64_t *n)
{
    const prb_policy *p = env->policy;
    struct score_job j;
    pthread_t th[64];
    int started = 0, rc = PRB_OK, pi = find_purpose(env, purpose, NULL);
    uint64_t subjects = 0;
    if (pi < 0)
        return -pi;
    if ((rc = prb_count(env, &subjects, NULL)))
        return rc;
    memset(&j, 0, sizeof j);
    j.env = env;
    j.purpose = pi;
    j.first = 1;
    j.last = subjects + 1;
    uint8_t need[1024];
    needed(p, &p->purposes[pi], need);
    for (size_t i = 0; i < p->nfeatures; i++)
        j.inquiries |= need[i] && p->features[i].kind == PRB_F_INQUIRIES;
    j.nchunks = (size_t)((subjects + SCORE_CHUNK - 1) / SCORE_CHUNK);
    if (!(j.chunks = calloc(j.nchunks + 1, sizeof *j.chunks)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    atomic_init(&j.next, 0);
    atomic_init(&j.rc, 0);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = threads > 0 ? threads : ncpu > 0 ? (int)ncpu : 1;
    if (nt > 64)
        nt = 64;
    for (int i = 0; i < nt; i++)
        if (!pthread_create(&th[started], NULL, score_worker, &j))
            started++;
    /* Chunks go out in subject order as they become ready. */
    uint64_t total = 0;
    for (size_t ci = 0; ci < j.nchunks && !rc; ci++) {
        pthread_mutex_lock(&j.mu);
        while (!atomic_load(&j.chunks[ci].ready) && !atomic_load(&j.rc))
            pthread_cond_wait(&j.cv, &j.mu);
        pthread_mutex_unlock(&j.mu);
        if ((rc = atomic_load(&j.rc)))
            break;
        struct score_chunk *c = &j.chunks[ci];
        if (c->len && out(ctx, c->buf, c->len))
            rc = prb_seterr(env->err, PRB_EIO, "score: cannot write the output");
        total += c->n;
        free(c->buf);
        c->buf = NULL;
    }
    if (rc)
        atomic_store(&j.rc, rc);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (size_t ci = 0; ci < j.nchunks; ci++)
        free(j.chunks[ci].buf);
    free(j.chunks);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    if (n)
        *n = total;
    if (rc && rc != PRB_EIO && !*env->err)
        prb_seterr(env->err, rc, "score: failed");
    return rc;
}

/* ------------------------------------------------------------- inquiries */

int prb_ilog_entry(const void *value, size_t n, uint64_t *subject, uint32_t *no,
                   const void **inquiry, size_t *len)
{
    const unsigned char *v = value;
    if (n < PRB_INQ_KEY_LEN)
        return PRB_ECORRUPT;
    *subject = prb_get_be64(v);
    *no = prb_inq_no(v);
    *inquiry = v + PRB_INQ_KEY_LEN;
    *len = n - PRB_INQ_KEY_LEN;
    return PRB_OK;
}

/* The inquiry at place g of the log, which the index says is subject's
 * number no. */
int prb_inquiry_at(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, uint64_t g,
                   MDB_val *inquiry)
{
    unsigned char gb[8];
    uint64_t s;
    uint32_t n;
    const void *p;
    size_t len;
    MDB_val gk = {8, gb}, gv;
    int mrc;
    prb_be64(gb, g);
    if ((mrc = mdb_get(txn, env->ilog, &gk, &gv)))
        return mrc == MDB_NOTFOUND
                   ? prb_seterr(env->err, PRB_ECORRUPT,
                                "decision %llu-q%u: indexed but not in the inquiry log",
                                (unsigned long long)subject, no)
                   : prb_mdb_fail(env, mrc, "reading the inquiry log");
    if (prb_ilog_entry(gv.mv_data, gv.mv_size, &s, &n, &p, &len) || s != subject || n != no)
        return prb_seterr(env->err, PRB_ECORRUPT,
                          "decision %llu-q%u: the inquiry log holds another at its place",
                          (unsigned long long)subject, no);
    inquiry->mv_data = (void *)p;
    inquiry->mv_size = len;
    return PRB_OK;
}

struct find {
    uint32_t no;
    uint64_t g;
};

static int find_no(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose, size_t pl)
{
    struct find *f = ctx;
    (void)day, (void)purpose, (void)pl;
    if (no != f->no)
        return 0;
    f->g = g;
    return -1;
}

int prb_inquiry_get(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, MDB_val *inquiry)
{
    struct find f = {no, 0};
    /* The index, else (an inquiry not indexed yet) the subject's inquiries
     * with the log's tail. */
    int rc = prb_iidx_find(env, txn, subject, no, &f.g);
    if (!rc && !f.g)
        rc = prb_iidx_each(env, txn, NULL, subject, find_no, &f);
    if (rc)
        return rc;
    if (!f.g)
        return prb_seterr(env->err, PRB_ENOTFOUND, "no decision %llu-q%u",
                          (unsigned long long)subject, no);
    return prb_inquiry_at(env, txn, subject, no, f.g, inquiry);
}

int prb_inquiries_migrate(prb_env *env, MDB_txn *txn)
{
    MDB_cursor *cur, *lc;
    MDB_val k, v;
    uint64_t next;
    int mrc, rc;
    if ((mrc = mdb_cursor_open(txn, env->ilog, &lc)))
        return prb_mdb_fail(env, mrc, "opening the inquiry log");
    if ((rc = prb_next_number(env, lc, "reading the inquiry log", &next)) ||
        (mrc = mdb_cursor_open(txn, env->inq, &cur))) {
        mdb_cursor_close(lc);
        return rc ? rc : prb_mdb_fail(env, mrc, "opening the old inquiries");
    }
    /* In the old table's order (by subject): the order they were made in
     * is not known any more. */
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc && !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *purpose;
        size_t pl;
        int outcome;
        if (k.mv_size != PRB_INQ_KEY_LEN ||
            prb_inquiry_header(v.mv_data, v.mv_size, &purpose, &pl, &outcome)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "%s: a malformed inquiry in the old table",
                            env->dir);
            break;
        }
        rc = inquiry_put(env, lc, next++, k.mv_data, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    mdb_cursor_close(lc);
    if (rc)
        return rc;
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "moving inquiries to the log");
    if ((mrc = mdb_drop(txn, env->inq, 0)))
        return prb_mdb_fail(env, mrc, "emptying the old inquiries");
    return PRB_OK;
}

int prb_inquiry_header(const void *value, size_t n, const char **purpose, size_t *plen,
                       int *outcome)
{
    const unsigned char *v = value;
    if (n < 16 || v[0] != INQ_LAYOUT || n < 16u + v[1] || v[2] < PRB_APPROVE || v[2] > PRB_DECLINE)
        return PRB_ECORRUPT;
    *purpose = (const char *)v + 16;
    *plen = v[1];
    *outcome = v[2];
    return PRB_OK;
}

json_t *prb_inquiry_decision(const void *value, size_t n)
{
    const unsigned char *v = value;
    json_error_t jerr;
    if (n < 16 || v[0] != INQ_LAYOUT || n < 16u + v[1])
        return NULL;
    return json_loadb((const char *)v + 16 + v[1], n - 16 - v[1], 0, &jerr);
}

struct copy_inq {
    prb_env *env;
    MDB_txn *txn;
    uint64_t subject;
    uint32_t expect;
    json_t *arr;
};

static int copy_inquiry(void *ctx, uint32_t no, uint64_t g, int32_t day, const char *purpose,
                        size_t pl)
{
    struct copy_inq *c = ctx;
    prb_env *env = c->env;
    MDB_val iv;
    json_t *d;
    int rc;
    (void)day, (void)purpose, (void)pl;
    /* Inquiries are numbered from 1 and never removed: a gap is an index
     * entry taken away behind the engine's back. */
    if (no != ++c->expect)
        return prb_seterr(env->err, PRB_ECORRUPT,
                          "subject %llu: inquiry %u is missing from the index",
                          (unsigned long long)c->subject, c->expect);
    if ((rc = prb_inquiry_at(env, c->txn, c->subject, no, g, &iv)))
        return rc;
    if (!(d = prb_inquiry_decision(iv.mv_data, iv.mv_size)))
        return prb_seterr(env->err, PRB_ECORRUPT, "subject %llu: an inquiry is malformed",
                          (unsigned long long)c->subject);
    if (json_array_append_new(c->arr, d))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    return 0;
}

int prb_subject_inquiries(prb_env *env, MDB_txn *txn, uint64_t subject, json_t *arr)
{
    struct copy_inq c = {env, txn, subject, 0, arr};
    return prb_iidx_each(env, txn, NULL, subject, copy_inquiry, &c);
}

int prb_inquiries_json(prb_env *env, const char *identifier, char **out)
{
    char canon[PRB_IDENT_MAX];
    uint64_t subject;
    int scheme, mrc, rc = PRB_OK;
    MDB_txn *txn;
    json_t *arr = json_array();
    *out = NULL;
    if (!arr)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme)) {
        json_decref(arr);
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    }
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn))) {
        json_decref(arr);
        return prb_mdb_fail(env, mrc, "starting a read");
    }
    if (!(rc = prb_subject_find(env, txn, canon, &subject)))
        rc = prb_subject_inquiries(env, txn, subject, arr);
    mdb_txn_abort(txn);
    if (!rc && !(*out = json_dumps(arr, JSON_INDENT(2))))
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    json_decref(arr);
    return rc;
}
