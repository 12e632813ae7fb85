/*
 * lists.c - black and red lists with due process (DESIGN invariant 4).
 *
 * An entry is made when a ground's criteria hold for a subject: it is
 * noticed at once (a notice goes to the outbox), becomes active only
 * after the list's hearing period, ends at the ground's maximum duration,
 * and is lifted when the criteria stop holding (if the list says so) or
 * withdrawn if they stop before it took effect. A black-list entry that
 * expired while its criteria still held is not made again until they
 * have first stopped holding: the maximum duration is a limit, not a
 * pause. On a red list the refresh that ends it makes a new one, with its
 * own notice and hearing. A record under dispute is suspended, not gone:
 * it does not count as the criteria stopping.
 *
 * Entries are kept, ended ones too, keyed by subject, list and first day,
 * so a subject's copy shows the whole history with dates. An entry on
 * a list a policy edit has closed to the subject's kind is no reader's
 * but the subject's, and ends at the subject's next refresh. A list reads
 * only the categories its features read, and the policy loader has
 * checked that every purpose it serves may use them (invariant 3).
 */
#include "internal.h"
#include "audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stored entry: the layout byte, end (END_*), rearm, susp (0 in
 * entries stored before it was kept: none was suspended), since,
 * active_from, until and ended (le32 each), then the ground's name with
 * its NUL. */
#define ENTRY_LAYOUT 1
#define ENTRY_HDR 20

enum { END_OPEN = 0, END_LIFTED, END_EXPIRED, END_WITHDRAWN };

/* rearm: an expired entry's grounds have stopped holding since; susp: an
 * entry lifted or withdrawn only because the records its ground rests on
 * are under dispute, restored with its dates if they stand again. */
struct stored {
    int end, rearm, susp;
    int32_t since, active_from, until, ended;
    char ground[PRB_NAME_MAX];
};

static size_t entry_key(unsigned char *k, uint64_t subject, const char *list, int32_t since)
{
    size_t n = strlen(list);
    prb_be64(k, subject);
    memcpy(k + 8, list, n + 1);
    uint32_t u = (uint32_t)since ^ 0x80000000u; /* sortable */
    k[9 + n] = (unsigned char)(u >> 24);
    k[10 + n] = (unsigned char)(u >> 16);
    k[11 + n] = (unsigned char)(u >> 8);
    k[12 + n] = (unsigned char)u;
    return 13 + n;
}

static int decode(const MDB_val *v, struct stored *e)
{
    const unsigned char *r = v->mv_data;
    if (v->mv_size < ENTRY_HDR + 1 || r[0] != ENTRY_LAYOUT || r[v->mv_size - 1] != 0 ||
        v->mv_size - ENTRY_HDR > PRB_NAME_MAX)
        return PRB_ECORRUPT;
    e->end = r[1];
    e->rearm = r[2];
    e->susp = r[3];
    e->since = prb_get_le32(r + 4);
    e->active_from = prb_get_le32(r + 8);
    e->until = prb_get_le32(r + 12);
    e->ended = prb_get_le32(r + 16);
    memcpy(e->ground, r + ENTRY_HDR, v->mv_size - ENTRY_HDR);
    return PRB_OK;
}

static int store(prb_env *env, MDB_txn *txn, uint64_t subject, const char *list,
                 const struct stored *e)
{
    unsigned char k[8 + PRB_NAME_MAX + 5], v[ENTRY_HDR + PRB_NAME_MAX];
    size_t gl = strlen(e->ground) + 1;
    env->list_writes++;
    v[0] = ENTRY_LAYOUT;
    v[1] = (unsigned char)e->end;
    v[2] = (unsigned char)e->rearm;
    v[3] = (unsigned char)e->susp;
    prb_put_le32(v + 4, e->since);
    prb_put_le32(v + 8, e->active_from);
    prb_put_le32(v + 12, e->until);
    prb_put_le32(v + 16, e->ended);
    memcpy(v + ENTRY_HDR, e->ground, gl);
    MDB_val mk = {entry_key(k, subject, list, e->since), k}, mv = {ENTRY_HDR + gl, v};
    int mrc = mdb_put(txn, env->lst, &mk, &mv, 0);
    if (mrc)
        return prb_mdb_fail(env, mrc, "writing a list entry");
    /* The key names the list and the day: both are logged with the entry,
     * and the leaf's aux tags which of the subject's entries it is, so
     * verify need not guess the states an entry went through (an entry
     * restored after a dispute has lost the day it was lifted). */
    unsigned char both[sizeof k + sizeof v];
    memcpy(both, k, mk.mv_size);
    memcpy(both + mk.mv_size, v, mv.mv_size);
    return prb_audit_log(env, PRB_LEAF_LIST, prb_lists_leaf_tag(k, mk.mv_size), subject, both,
                         mk.mv_size + mv.mv_size);
}

unsigned prb_lists_leaf_tag(const unsigned char *key, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: a tag, not a check; the leaf's hash is that */
    for (size_t i = 8; i < n; i++)
        h = (h ^ key[i]) * 16777619u;
    return (h ^ h >> 16) % 0xffff + 1;
}

/* The latest stored entry of subject on list; PRB_ENOTFOUND if none. */
static int latest(prb_env *env, MDB_txn *txn, uint64_t subject, const char *list, struct stored *e)
{
    unsigned char k[8 + PRB_NAME_MAX + 5], prefix[8 + PRB_NAME_MAX + 1];
    size_t pn = entry_key(k, subject, list, INT32_MAX) - 4;
    MDB_cursor *cur;
    MDB_val mk = {pn + 4, k}, mv;
    int mrc, rc = PRB_ENOTFOUND;
    memcpy(prefix, k, pn);
    if ((mrc = mdb_cursor_open(txn, env->lst, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    /* The last key of this (subject, list) is just before the first key
     * past its largest possible day. */
    mrc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);
    if (mrc == 0)
        mrc = mdb_cursor_get(cur, &mk, &mv, MDB_PREV);
    else if (mrc == MDB_NOTFOUND)
        mrc = mdb_cursor_get(cur, &mk, &mv, MDB_LAST);
    if (mrc == 0 && mk.mv_size == pn + 4 && !memcmp(mk.mv_data, prefix, pn))
        rc = decode(&mv, e);
    else if (mrc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, "reading a list entry");
    mdb_cursor_close(cur);
    return rc;
}

static int state_of(const struct stored *e, int32_t today)
{
    if (e->end == END_LIFTED)
        return PRB_LS_LIFTED;
    if (e->end == END_EXPIRED)
        return PRB_LS_EXPIRED;
    if (e->end == END_WITHDRAWN)
        return PRB_LS_WITHDRAWN;
    /* Past its maximum duration an open entry has expired, whether or not
     * a refresh has said so yet: the public list, a card, a what-if or a
     * score read before the next sweep would otherwise count it. */
    if (today >= e->until)
        return PRB_LS_EXPIRED;
    return today >= e->active_from ? PRB_LS_ACTIVE : PRB_LS_NOTICED;
}

int prb_lists_value_state(const void *v, size_t n, int32_t today, int *state)
{
    struct stored e;
    MDB_val mv = {n, (void *)v};
    if (decode(&mv, &e))
        return PRB_ECORRUPT;
    *state = state_of(&e, today);
    return PRB_OK;
}

static void entry_of(const struct stored *e, int32_t today, prb_entry *out)
{
    out->state = state_of(e, today);
    out->since = e->since;
    out->active_from = e->active_from;
    out->until = e->until;
    out->ended = e->ended;
    out->suspended = e->susp && (e->end == END_LIFTED || e->end == END_WITHDRAWN);
    snprintf(out->ground, sizeof out->ground, "%s", e->ground);
}

int prb_lists_entry(prb_env *env, MDB_txn *txn, uint64_t subject, int l, int32_t today,
                    prb_entry *out)
{
    struct stored e;
    int rc = latest(env, txn, subject, env->policy->lists[l].name, &e);
    memset(out, 0, sizeof *out);
    if (rc == PRB_ENOTFOUND)
        return PRB_OK;
    if (rc)
        return rc;
    entry_of(&e, today, out);
    return PRB_OK;
}

int prb_lists_each(prb_env *env, MDB_txn *txn, uint64_t subject, int l, int32_t today,
                   int (*fn)(void *ctx, const prb_entry *e), void *ctx)
{
    unsigned char k[8 + PRB_NAME_MAX + 5];
    size_t pn = entry_key(k, subject, env->policy->lists[l].name, INT32_MIN) - 4;
    MDB_cursor *cur;
    MDB_val mk = {pn + 4, k}, mv;
    int mrc, rc = PRB_OK;
    if ((mrc = mdb_cursor_open(txn, env->lst, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    /* The keys of one (subject, list) run from its oldest entry's day up. */
    for (mrc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE); !mrc && !rc;
         mrc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT)) {
        struct stored e;
        prb_entry out;
        if (mk.mv_size != pn + 4 || memcmp(mk.mv_data, k, pn))
            break;
        if (decode(&mv, &e)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "subject %llu: a malformed entry on list %s",
                            (unsigned long long)subject, env->policy->lists[l].name);
            break;
        }
        memset(&out, 0, sizeof out);
        entry_of(&e, today, &out);
        rc = fn(ctx, &out);
    }
    mdb_cursor_close(cur);
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, "reading list entries");
    return rc;
}

/* Whether every criterion of ground gr holds. */
static int ground_holds(const prb_ground *gr, const prb_value *vals)
{
    for (size_t k = 0; k < gr->ncrit; k++) {
        const prb_value *v = &vals[gr->crit_feature[k]];
        const prb_cond *c = &gr->crit[k];
        if (!v->present || (c->has_min && v->num < c->min) || (c->has_max && v->num >= c->max))
            return 0;
    }
    return 1;
}

/* The first ground whose every criterion holds, or -1. */
static int ground_holding(const prb_listdef *l, const prb_value *vals)
{
    for (size_t g = 0; g < l->ngrounds; g++)
        if (ground_holds(&l->grounds[g], vals))
            return (int)g;
    return -1;
}

/* The ground of list l named name, or -1 if the policy no longer has it. */
static int ground_named(const prb_listdef *l, const char *name)
{
    for (size_t g = 0; g < l->ngrounds; g++)
        if (!strcmp(l->grounds[g].name, name))
            return (int)g;
    return -1;
}

/* The usable records (in effect, not expired, not disputed) of f that
 * entry ground of list l rests on: those a criterion of that ground counts
 * (its categories and conditions), whatever their status or age, since
 * the entry outlives paying and the feature's window by design. Any record
 * of the list's categories kept an entry going: an old "other" exclusion
 * ground kept a fraud debarment in force while the fraud record was
 * disputed. A ground the policy no longer has, or one whose criteria ask
 * for no record (only a maximum), rests on any record of the list's
 * categories. With mark NULL, stops at the first and returns 1 (whether
 * the entry still rests on anything); else sets mark[r] for each and
 * returns how many. undisputed: PRB_NO_DATE, or the day as of which a
 * record under dispute counts as it would undisputed (struct inputs);
 * disputed_only: only those count (the ground rests on a dispute). */
static size_t ground_records(const prb_policy *p, const prb_listdef *l, const char *ground,
                             const prb_file *f, uint8_t *mark, int32_t undisputed,
                             int disputed_only)
{
    const prb_ground *gr = NULL;
    int specific = 0;
    size_t n = 0;
    for (size_t g = 0; g < l->ngrounds && !gr; g++)
        if (!strcmp(l->grounds[g].name, ground))
            gr = &l->grounds[g];
    for (size_t k = 0; gr && k < gr->ncrit; k++)
        specific |= gr->crit[k].has_min && gr->crit[k].min > 0;
    for (size_t r = 0; r < prb_file_nrecords(f); r++) {
        const prb_record_view *rv = prb_file_record(f, r);
        int use = (rv->usable && !disputed_only) ||
                  (undisputed != PRB_NO_DATE && prb_record_only_disputed(rv, undisputed));
        int cat = use ? prb_policy_category(p, rv->category, strlen(rv->category)) : -1;
        int rests = !specific;
        if (cat < 0 || !(l->categories >> cat & 1))
            continue;
        for (size_t k = 0; !rests && k < gr->ncrit; k++)
            rests = gr->crit[k].has_min && gr->crit[k].min > 0 &&
                    prb_feature_of_record(&p->features[gr->crit_feature[k]], cat, rv);
        if (!rests)
            continue;
        if (!mark)
            return 1;
        mark[r] = 1;
        n++;
    }
    return n;
}

size_t prb_lists_ground_records(const prb_policy *p, int l, const char *ground, const prb_file *f,
                                uint8_t *mark)
{
    return ground_records(p, &p->lists[l], ground, f, mark, PRB_NO_DATE, 0);
}

/* What a refresh of a subject's entry on a list starts from
 * (refresh_inputs). */
struct inputs {
    int have;      /* e holds the latest stored entry */
    int g;         /* the first ground holding now, -1 if none */
    int held;      /* a ground holds with records under dispute read as
                    * undisputed: so whenever g >= 0, and worked out else
                    * only for a black-list entry that expires or expired */
    int stands;    /* e is open or suspended and its own ground stands */
    int disputed;  /* it would stand were no record disputed (only worked
                    * out where it does not stand and would end or stay
                    * suspended; else stands) */
    int contested; /* a record e's ground rests on is under an open
                    * dispute (only worked out for a suspended entry
                    * whose ground stands) */
    int untaken;   /* the list no longer takes the subject's kind (a
                    * policy edit): the rest is left 0 */
};

/* What one refresh as of today does to a subject's entry on list ld: the
 * one place its transitions are decided, for refresh_one, which makes
 * them, and prb_lists_entry_now, which only reads what they would leave.
 * Changes *e as the refresh would and says how (T_*); a new entry on
 * ground in->g starts today when T_START is set (start_entry). T_MARK:
 * only a mark of the stored entry changed (rearm, susp). */
enum { T_END = 1, T_MARK = 2, T_START = 4, T_RESTORE = 8 };

/* What transition does on a list the policy no longer lets take the
 * subject's kind: an entry made under an earlier policy ends, whatever
 * its grounds, and none is made. Left alone, a person's entry stayed in
 * effect on a list edited to take companies only, and declined the
 * person's credit. One past its maximum duration expires, as it would
 * have; a suspended one is never restored. */
static int drop_untaken(const struct inputs *in, struct stored *e, int32_t today)
{
    if (!in->have)
        return 0;
    if (e->end == END_OPEN) {
        e->end = today >= e->until        ? END_EXPIRED
                 : today < e->active_from ? END_WITHDRAWN
                                          : END_LIFTED;
        e->ended = e->end == END_EXPIRED ? e->until : today;
        e->susp = 0;
        return T_END;
    }
    if (e->susp && (e->end == END_LIFTED || e->end == END_WITHDRAWN)) {
        e->susp = 0;
        return T_MARK;
    }
    return 0;
}

static int transition(const prb_listdef *ld, const struct inputs *in, struct stored *e,
                      int32_t today)
{
    int t = 0, g = in->g;
    if (in->untaken)
        return drop_untaken(in, e, today);
    if (in->have && e->susp && (e->end == END_LIFTED || e->end == END_WITHDRAWN)) {
        /* It ended only because its records were disputed. They stand
         * again (the dispute was upheld): it is as it was, with its
         * dates, not a fresh term with a second hearing, which would
         * punish the dispute. Gone for good (deleted), or the ground
         * standing on other records while the dispute is open: it
         * never comes back (those records did not make it, and it would
         * keep its dates even if the disputed ones were deleted); what
         * holds makes a new entry with its own hearing. */
        if (in->stands && !in->contested) {
            e->end = END_OPEN;
            e->ended = PRB_NO_DATE;
            e->susp = 0;
            t = T_RESTORE;
        } else if (in->stands || !in->disputed) {
            e->susp = 0;
            t = T_MARK;
        }
    }
    if (in->have && e->end == END_OPEN) {
        /* An entry ends when its own ground no longer stands: on a list
         * that leaves when its criteria stop, when they do; on one that
         * stays (a debarment is not lifted by paying), when the records
         * it rests on are deleted (retention, a dispute) or disputed:
         * nothing may use them then (invariants 5 and 6). So it does when
         * another ground holds now: it kept the stopped ground and its
         * longer duration; it ends, and one on the new ground starts with
         * its own hearing. */
        if (today >= e->until) {
            e->end = END_EXPIRED;
            e->ended = e->until;
            e->rearm = !in->held;
        } else if (g < 0 && today < e->active_from) {
            e->end = END_WITHDRAWN;
            e->ended = today;
        } else if (!in->stands) {
            e->end = END_LIFTED;
            e->ended = today;
        } else {
            return t;
        }
        t |= T_END;
        e->susp = e->end != END_EXPIRED && !in->stands && in->disputed && g < 0;
        /* A ground holds: the refresh that ended this one (lifted on a
         * ground that no longer stands, or expired) decides below whether
         * it makes a new entry. Left to the next refresh, a red-list
         * entry came back a day late under a daily sweep, and later
         * still under a rarer one. */
        if (g < 0)
            return t;
    }
    /* A dispute suspends a record (invariant 5); it does not make the
     * grounds stop holding. Were it to re-arm an expired entry, upholding
     * the dispute would put the subject back on the list for a fresh
     * term: the right to dispute would be punished. */
    if (in->have && e->end == END_EXPIRED && !e->rearm && ld->type == PRB_BLACK) {
        if (in->held)
            return t;
        e->rearm = 1; /* the criteria stopped: a new entry may be made later */
        return t | T_MARK;
    }
    if (g < 0 || (in->have && e->since == today))
        return t;
    /* A refresh reads only the latest entry: one superseded can never
     * be restored, and would be shown suspended for ever. */
    if (in->have && e->susp) {
        e->susp = 0;
        t |= T_MARK;
    }
    return t | T_START;
}

/* The entry a refresh starts today on ground g of list ld. */
static void start_entry(const prb_listdef *ld, int g, int32_t today, struct stored *e)
{
    memset(e, 0, sizeof *e);
    e->end = END_OPEN;
    e->since = today;
    e->active_from = today + ld->hearing_days;
    e->until = e->active_from + ld->grounds[g].max_days;
    e->ended = PRB_NO_DATE;
    snprintf(e->ground, sizeof e->ground, "%s", ld->grounds[g].name);
}

/* Whether any record of list l's categories is under an open dispute. */
static int any_disputed(const prb_policy *p, const prb_listdef *l, const prb_file *f)
{
    for (size_t r = 0; r < prb_file_nrecords(f); r++) {
        const prb_record_view *rv = prb_file_record(f, r);
        int cat = rv->disputed ? prb_policy_category(p, rv->category, strlen(rv->category)) : -1;
        if (cat >= 0 && l->categories >> cat & 1)
            return 1;
    }
    return 0;
}

/* Whether entry e's own ground stands on features vals and f's records:
 * on a list that leaves when its criteria stop, its criteria hold (any
 * ground's, for a ground the policy no longer has); on one that stays, a
 * record it rests on is left. undisputed as for ground_records. */
static int stands(const prb_policy *p, const prb_listdef *ld, const struct stored *e,
                  const prb_file *f, const prb_value *vals, int32_t undisputed)
{
    if (!ld->auto_leave)
        return ground_records(p, ld, e->ground, f, NULL, undisputed, 0) != 0;
    int own = ground_named(ld, e->ground);
    return own >= 0 ? ground_holds(&ld->grounds[own], vals) : ground_holding(ld, vals) >= 0;
}

/* Reads what a refresh of f's entry on list l as of today starts from
 * (struct inputs; e gets the latest stored entry). vals gets the
 * features the list reads. */
static int refresh_inputs(prb_env *env, MDB_txn *txn, const prb_file *f, int l, prb_value *vals,
                          int32_t today, struct stored *e, struct inputs *in)
{
    const prb_policy *p = env->policy;
    const prb_listdef *ld = &p->lists[l];
    int rc = latest(env, txn, prb_file_subject(f), ld->name, e);
    if (rc && rc != PRB_ENOTFOUND)
        return rc;
    memset(in, 0, sizeof *in);
    in->have = rc == PRB_OK;
    /* Its grounds are not read: nothing about the subject is the list's
     * business any more. */
    if (!(ld->kinds >> prb_file_kind(f) & 1)) {
        in->g = -1;
        in->untaken = 1;
        return PRB_OK;
    }
    /* Each list sees only its own categories. */
    prb_features(p, ld->categories, f, NULL, 0, today, NULL, vals, NULL);
    in->g = ground_holding(ld, vals);
    int open = in->have && e->end == END_OPEN;
    int susp = in->have && e->susp && (e->end == END_LIFTED || e->end == END_WITHDRAWN);
    in->stands = (open || susp) && stands(p, ld, e, f, vals, PRB_NO_DATE);
    in->disputed = in->stands;
    /* Restored only when the records that suspended it stand again, not
     * by others while the dispute of those is open. */
    in->contested = susp && in->stands && ground_records(p, ld, e->ground, f, NULL, today, 1);
    in->held = in->g >= 0;
    /* Records under dispute are read as undisputed only to tell whether
     * a dispute is all that stops a ground, where that decides: for an
     * entry that expires or expired, and one that ends or stays
     * suspended. They never make or keep an entry in force. */
    int expiring = in->have && !in->held && ld->type == PRB_BLACK &&
                   (open || susp ? today >= e->until : e->end == END_EXPIRED && !e->rearm);
    int ending = (open || susp) && !in->stands && (susp || today < e->until);
    if ((!expiring && !ending) || !any_disputed(p, ld, f))
        return PRB_OK;
    prb_value *uv = calloc(p->nfeatures + 1, sizeof *uv);
    if (!uv)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    prb_features_undisputed(p, ld->categories, f, today, uv);
    if (expiring)
        in->held = ground_holding(ld, uv) >= 0;
    if (ending)
        in->disputed = stands(p, ld, e, f, uv, today);
    free(uv);
    return PRB_OK;
}

/* Brings f's entry on list l up to date. dry: writes nothing, only sets
 * *writes when it would write (the sweep's scan, on a snapshot). */
static int refresh_one(prb_env *env, MDB_txn *txn, const prb_file *f, int l, prb_value *vals,
                       int32_t today, int dry, int *writes)
{
    const prb_listdef *ld = &env->policy->lists[l];
    uint64_t subject = prb_file_subject(f);
    struct stored e;
    struct inputs in;
    int t, rc = refresh_inputs(env, txn, f, l, vals, today, &e, &in);
    if (rc || !(t = transition(ld, &in, &e, today)))
        return rc;
    if (dry)
        return *writes = 1, PRB_OK;
    if ((t & (T_END | T_MARK | T_RESTORE)) && (rc = store(env, txn, subject, ld->name, &e)))
        return rc;
    /* One the list no longer takes is told even from a red list's
     * hearing: told it was to be entered, the subject would not learn
     * otherwise that a policy edit, not its records, took it off. */
    if ((t & T_END) && (e.end != END_WITHDRAWN || ld->type == PRB_BLACK || in.untaken)) {
        char text[512];
        snprintf(text, sizeof text, "Your entry on the list %s has ended (%s).", ld->name,
                 e.end == END_EXPIRED ? "its maximum duration has run"
                 : in.untaken         ? prb_file_kind(f) == PRB_PERSON
                                            ? "the list no longer takes persons"
                                            : "the list no longer takes companies"
                 : e.susp ? "the records it rests on are disputed; should they stand, it is "
                            "restored with its dates"
                 : !in.stands && !ld->auto_leave
                     ? "the records it rested on are no longer in the register or are "
                       "disputed"
                 : e.end == END_LIFTED ? "the grounds for it no longer hold"
                                       : "the grounds stopped holding before it took effect");
        if ((rc = prb_notice_add(env, txn, subject, prb_file_ident(f, 0), "list_exit", ld->name,
                                 text, today)))
            return rc;
    }
    if ((t & T_RESTORE) && e.end == END_OPEN) {
        char text[512], a[11], u[11];
        prb_date_format(e.active_from, a);
        prb_date_format(e.until, u);
        snprintf(text, sizeof text,
                 "Your entry on the list %s (ground: %s) is restored with its dates: the records "
                 "it rests on stand after the dispute. It is in effect from %s until %s.",
                 ld->name, e.ground, a, u);
        if ((rc = prb_notice_add(env, txn, subject, prb_file_ident(f, 0), "list_entry", ld->name,
                                 text, today)))
            return rc;
    }
    if (!(t & T_START))
        return PRB_OK;
    start_entry(ld, in.g, today, &e);
    if ((rc = store(env, txn, subject, ld->name, &e)))
        return rc;
    char text[512], d[11];
    prb_date_format(e.active_from, d);
    snprintf(
        text, sizeof text,
        "You are to be entered on the %s list %s (ground: %s). The entry takes effect on %s "
        "unless the grounds stop holding; you may dispute the records it rests on before then.",
        ld->type == PRB_BLACK ? "black" : "red", ld->name, e.ground, d);
    return prb_notice_add(env, txn, subject, prb_file_ident(f, 0), "list_entry", ld->name, text,
                          today);
}

int prb_lists_entry_now(prb_env *env, MDB_txn *txn, const prb_file *f, int l, prb_value *vals,
                        int32_t today, prb_entry *out)
{
    const prb_listdef *ld = &env->policy->lists[l];
    struct stored e;
    struct inputs in;
    int t, rc;
    memset(out, 0, sizeof *out);
    if ((rc = refresh_inputs(env, txn, f, l, vals, today, &e, &in)))
        return rc;
    t = transition(ld, &in, &e, today);
    if (t & T_START)
        start_entry(ld, in.g, today, &e);
    else if (!in.have)
        return PRB_OK;
    entry_of(&e, today, out);
    return PRB_OK;
}

static int refresh_file(prb_env *env, MDB_txn *txn, const prb_file *f, int32_t today, int dry,
                        int *writes)
{
    const prb_policy *p = env->policy;
    prb_value *vals;
    int rc = PRB_OK;
    if (!p->nlists)
        return PRB_OK;
    if (!(vals = calloc(p->nfeatures + 1, sizeof *vals)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    /* The lists of other kinds too: one may hold an entry made before a
     * policy edit left the subject's kind out (drop_untaken). */
    for (size_t l = 0; !rc && l < p->nlists; l++)
        rc = refresh_one(env, txn, f, (int)l, vals, today, dry, writes);
    free(vals);
    return rc;
}

int prb_lists_refresh(prb_env *env, MDB_txn *txn, const prb_file *f, int32_t today)
{
    return refresh_file(env, txn, f, today, 0, NULL);
}

int prb_notice_add(prb_env *env, MDB_txn *txn, uint64_t subject, const char *identifier,
                   const char *kind, const char *about, const char *text, int32_t today)
{
    return prb_notice_add_to(env, txn, subject, identifier, NULL, kind, about, text, today);
}

int prb_notice_add_to(prb_env *env, MDB_txn *txn, uint64_t subject, const char *identifier,
                      const char *recipient, const char *kind, const char *about, const char *text,
                      int32_t today)
{
    MDB_cursor *cur;
    unsigned char key[8];
    uint64_t next;
    char day[11], *json;
    int rc, mrc = mdb_cursor_open(txn, env->outbox, &cur);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening the outbox");
    rc = prb_next_number(env, cur, "reading the outbox", &next);
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    prb_date_format(today, day);
    if (!(json = prb_notice_json(identifier, kind, recipient, about, NULL, text, day)))
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    size_t jl = strlen(json);
    unsigned char *val = malloc(8 + jl);
    if (!val) {
        free(json);
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    }
    prb_notice_value(val, subject, json, jl);
    free(json);
    prb_be64(key, next);
    MDB_val mk = {8, key}, mv = {8 + jl, val};
    /* Its index entry by subject follows after the commit (iidx.c). */
    if ((mrc = mdb_put(txn, env->outbox, &mk, &mv, MDB_APPEND)))
        rc = prb_mdb_fail(env, mrc, "writing a notice");
    else
        rc = prb_audit_log(env, PRB_LEAF_NOTICE, 0, next, val + 8, jl); /* as ingest: the JSON */
    free(val);
    if (!rc)
        env->notice_txn = mdb_txn_id(txn);
    return rc;
}

/* Written directly (jsonout.c): an adverse decision adds one in the
 * committing transaction, which every waiting request waits on, and an
 * ingest one per adverse record on its parse threads. */
char *prb_notice_json(const char *identifier, const char *kind, const char *recipient,
                      const char *about, const char *category, const char *text, const char *day)
{
    prb_jw w = {0};
    prb_jw_open(&w, '{');
    prb_jw_key(&w, "identifier");
    prb_jw_str(&w, identifier);
    prb_jw_key(&w, "kind");
    prb_jw_str(&w, kind);
    if (recipient) {
        prb_jw_key(&w, "recipient");
        prb_jw_str(&w, recipient);
    }
    prb_jw_key(&w, "about");
    prb_jw_str(&w, about);
    if (category) {
        prb_jw_key(&w, "category");
        prb_jw_str(&w, category);
    }
    prb_jw_key(&w, "text");
    prb_jw_str(&w, text);
    prb_jw_key(&w, "created");
    prb_jw_str(&w, day);
    prb_jw_key(&w, "delivered");
    prb_jw_bool(&w, 0);
    prb_jw_close(&w, '}');
    return prb_jw_finish(&w);
}

void prb_notice_value(unsigned char *out, uint64_t subject, const char *json, size_t len)
{
    prb_be64(out, subject);
    memcpy(out + 8, json, len);
}

int prb_notices_json(prb_env *env, int pending, char **out)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    json_t *arr = json_array();
    int mrc, rc = PRB_OK;
    *out = NULL;
    if (!arr)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)) ||
        (mrc = mdb_cursor_open(txn, env->outbox, &cur))) {
        json_decref(arr);
        return prb_mdb_fail(env, mrc, "reading the outbox");
    }
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_error_t jerr;
        if (k.mv_size != 8 || v.mv_size < 9)
            continue;
        json_t *n = json_loadb((const char *)v.mv_data + 8, v.mv_size - 8, 0, &jerr);
        if (!n)
            continue;
        if (pending && json_is_true(json_object_get(n, "delivered"))) {
            json_decref(n);
            continue;
        }
        json_object_set_new(n, "notice", json_integer((json_int_t)prb_get_be64(k.mv_data)));
        json_object_set_new(n, "subject", json_integer((json_int_t)prb_get_be64(v.mv_data)));
        json_array_append_new(arr, n);
    }
    if (mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, "reading the outbox");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (!rc && !(*out = json_dumps(arr, JSON_INDENT(2))))
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    json_decref(arr);
    return rc;
}

struct to_ctx {
    const char *recipient; /* NULL: any inquirer */
    int pending;
    json_t *array;
    prb_page page;
};

/* What an inquirer is shown of a notice to it: what told.c wrote for it,
 * not the channels' bookkeeping (a webhook's address and errors are the
 * operator's) nor the internal subject number. */
static const char *const shown[] = {"identifier", "kind",    "recipient", "about",
                                    "text",       "created", "delivered", "delivered_at"};

static int append_to(void *ctx, uint64_t no, const MDB_val *v)
{
    struct to_ctx *c = ctx;
    json_error_t jerr;
    int rc = prb_page_look(&c->page, no);
    if (rc)
        return rc;
    /* Most of the outbox is the subjects' own, which name no recipient:
     * they are passed over without being parsed. */
    if (v->mv_size < 9 ||
        !memmem((const char *)v->mv_data + 8, v->mv_size - 8, "\"recipient\"", 11))
        return PRB_OK;
    json_t *n = json_loadb((const char *)v->mv_data + 8, v->mv_size - 8, 0, &jerr);
    const char *to = json_string_value(json_object_get(n, "recipient"));
    if (!to || (c->recipient && strcmp(to, c->recipient)) ||
        (c->pending && json_is_true(json_object_get(n, "delivered")))) {
        json_decref(n);
        return PRB_OK;
    }
    json_t *o = json_object();
    int bad = !o || json_object_set_new(o, "notice", json_integer((json_int_t)no));
    for (size_t i = 0; !bad && i < sizeof shown / sizeof *shown; i++) {
        json_t *x = json_object_get(n, shown[i]);
        bad = x && json_object_set(o, shown[i], x);
    }
    json_decref(n);
    if (!bad && (rc = prb_page_take(&c->page, no)) == PRB_OK)
        bad = json_array_append(c->array, o);
    json_decref(o);
    return rc ? rc : bad ? PRB_ENOMEM : PRB_OK;
}

int prb_notices_to_page(prb_env *env, const char *recipient, int pending, uint64_t after,
                        size_t limit, char **json, uint64_t *next)
{
    if (recipient && !*recipient) {
        *json = NULL;
        if (next)
            *next = 0;
        return prb_seterr(env->err, PRB_EINVAL, "notices: the recipient is empty");
    }
    /* Every page with a limit is bounded: the notices to inquirers are
     * few among the subjects' own, and one inquirer's fewer still. */
    struct to_ctx c = {recipient, pending, json_array(), {.limit = limit, .bounded = limit > 0}};
    return prb_page_json(env, env->outbox, after, append_to, &c, NULL, c.array, &c.page, json, next,
                         "reading the outbox");
}

/* -------------------------------------------------------- whole register */

/* The whole-register refresh finds the subjects whose entries change on
 * a snapshot, this many at a time before it takes a fresh one, and asks
 * the caller whether to stop (prb_set_cancel) as often. */
#define SCAN_STEP 256
/* ... then changes them at most this many a write transaction. */
#define REFRESH_BATCH 512

/* Subjects 1..subjects whose entries a refresh as of today would change,
 * found on snapshots: the write lock is not held meanwhile, so the
 * decisions and ingests of a server go on while the sweep reads the
 * whole register. Stops early, with *n 0, when the caller asks. */
static int refresh_scan(prb_env *env, uint64_t subjects, int32_t today, uint64_t **todo, size_t *n)
{
    MDB_txn *txn = NULL;
    prb_file *f = NULL;
    size_t cap = 0;
    int rc = PRB_OK, mrc;
    *todo = NULL;
    *n = 0;
    for (uint64_t s = 1; !rc && s <= subjects; s++) {
        int writes = 0;
        if (s % SCAN_STEP == 1) {
            if (prb_cancelled(env)) {
                *n = 0;
                break;
            }
            if (txn)
                mdb_txn_reset(txn);
            if ((mrc =
                     txn ? mdb_txn_renew(txn) : mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn))) {
                rc = prb_mdb_fail(env, mrc, "reading the register for the list refresh");
                break;
            }
        }
        if ((rc = prb_file_load(env, txn, s, &f)) ||
            (rc = refresh_file(env, txn, f, today, 1, &writes)) || !writes)
            continue;
        if (*n == cap) {
            uint64_t *m = realloc(*todo, (cap = cap * 2 + 64) * sizeof *m);
            if (!m) {
                rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
                break;
            }
            *todo = m;
        }
        (*todo)[(*n)++] = s;
    }
    if (txn)
        mdb_txn_abort(txn);
    prb_file_free(f);
    return rc;
}

int prb_lists_refresh_all(prb_env *env, uint64_t *changed)
{
    uint64_t subjects = 0, *todo = NULL, sent = 0;
    int32_t today = prb_today(env);
    size_t n = 0;
    prb_file *f = NULL;
    int rc;
    if (changed)
        *changed = 0;
    if (!env->policy->nlists)
        return PRB_OK;
    if ((rc = prb_count(env, &subjects, NULL)) ||
        (rc = refresh_scan(env, subjects, today, &todo, &n)))
        goto out;
    /* Each is refreshed again inside the transaction, on what it holds
     * then: a subject changed since the scan comes out right (one an
     * ingest touched was refreshed by that ingest too). */
    for (size_t i = 0; i < n && !prb_cancelled(env); i += REFRESH_BATCH) {
        MDB_txn *txn;
        MDB_stat before, after;
        if ((rc = prb_wtxn_begin(env, &txn)))
            goto out;
        mdb_stat(txn, env->outbox, &before);
        for (size_t j = i; !rc && j < n && j < i + REFRESH_BATCH; j++)
            if (!(rc = prb_file_load(env, txn, todo[j], &f)))
                rc = prb_lists_refresh(env, txn, f, today);
        if (rc) {
            prb_wtxn_abort(env, txn);
            goto out;
        }
        mdb_stat(txn, env->outbox, &after);
        if ((rc = prb_wtxn_commit(env, txn)))
            goto out;
        /* Every change of an entry sends one notice. */
        sent += after.ms_entries - before.ms_entries;
    }
    if (changed)
        *changed = sent;
out:
    prb_file_free(f);
    free(todo);
    return rc;
}

/* The identifier a member is shown by (how: PRB_LV_*): to the public, its
 * first company identifier (neither a furnisher's own key nor a person's
 * number; NULL if none); to an inquirer, its first that is not a
 * furnisher's own key (ext:BANK:KEY says who reports on the subject and
 * how it files them, no other party's business), one only if it has
 * nothing else; in the register's own full view, its first. */
static const char *shown_ident(const prb_subject *s, int how)
{
    for (size_t i = 0; i < s->nidents; i++)
        if (how == PRB_LV_PUBLIC   ? prb_ident_company_public(s->idents[i])
            : PRB_LV_KINDS_OF(how) ? strncmp(s->idents[i], "ext:", 4) != 0
                                   : 1)
            return s->idents[i];
    if (how == PRB_LV_PUBLIC)
        return NULL;
    return s->nidents ? s->idents[0] : "?";
}

/* The purposes of an inquirer's ("p1,p2") that list l serves for a
 * subject of kind, written "p1, p2" into why; how many. */
static size_t purposes_served(const prb_policy *p, const prb_listdef *l, const char *purposes,
                              int kind, char *why, size_t cap)
{
    size_t w = 0, n = 0;
    why[0] = 0;
    for (const char *c = purposes; *c;) {
        size_t k = strcspn(c, ",");
        int i = prb_policy_purpose_n(p, c, k);
        if (i >= 0 && l->purposes >> i & 1 && p->purposes[i].kinds >> kind & 1 && w + k + 3 < cap)
            w += (size_t)snprintf(why + w, cap - w, "%s%.*s", n++ ? ", " : "", (int)k, c);
        c += k + (c[k] == ',');
    }
    return n;
}

/* Tells subject, a member of purpose-bound list l shown to reader, of the
 * read (invariants 7 and 8: an inquiry about them in all but name): who,
 * for which of its purposes (those the list serves that take subjects of
 * the member's kind) or, for staff, in which role, on which day. A
 * notice, not an inquiry: it is no feature's input. */
static int tell_read(prb_env *env, MDB_txn *txn, const prb_listdef *l, const prb_list_reader *rd,
                     const prb_subject *s, uint64_t subject)
{
    char why[PRB_KEY_PURPOSES_MAX + 64], text[PRB_KEY_PURPOSES_MAX + 512], day[11];
    int32_t today = prb_day_of(env->log_now); /* when it was read, not the view's day */
    const char *type = l->type == PRB_BLACK ? "black" : "red";
    prb_date_format(today, day);
    if (rd->staff) {
        snprintf(text, sizeof text, "%s, %s, read the %s list %s, which shows your entry, on %s.",
                 rd->name, prb_reader_words(rd->role), type, l->name, day);
    } else {
        size_t n = purposes_served(env->policy, l, rd->purposes, s->kind, why, sizeof why);
        snprintf(text, sizeof text,
                 "%s read the %s list %s, on which you are entered, for the purpose%s %s on %s.",
                 rd->name, type, l->name, n > 1 ? "s" : "", why, day);
    }
    return prb_notice_add(env, txn, subject, s->nidents ? s->idents[0] : "?", "list_read", l->name,
                          text, today);
}

/* One member of a list: its entry and the identifier it is shown by. */
static void member_write(prb_jw *w, const struct stored *e, int state, const char *subject)
{
    static const char *const st[] = {"none", "noticed", "active", "lifted", "expired", "withdrawn"};
    char a[11], b[11], c[11], d[11];
    prb_date_format(e->since, a);
    prb_date_format(e->active_from, b);
    prb_date_format(e->until, c);
    prb_date_format(e->ended, d);
    prb_jw_open(w, '{');
    prb_jw_key(w, "state");
    prb_jw_str(w, st[state]);
    prb_jw_key(w, "ground");
    prb_jw_str(w, e->ground);
    prb_jw_key(w, "noticed");
    prb_jw_str(w, a);
    prb_jw_key(w, "effective_from");
    prb_jw_str(w, b);
    prb_jw_key(w, "until");
    prb_jw_str(w, c);
    prb_jw_key(w, "ended");
    prb_jw_str(w, e->end == END_OPEN ? NULL : d);
    prb_jw_key(w, "subject");
    prb_jw_str(w, subject);
    prb_jw_close(w, '}');
}

/* Members of one list past subject number after, at most limit of them
 * (0: all) but for the rest of the last subject's entries: a walk of lst,
 * which is ordered by subject, shown as how says (PRB_LV_*). *next is the
 * last subject written when more remain, else 0. With rd, each member
 * written is told of the read in txn (a write transaction) and *told
 * counts them. */
static int list_members(prb_env *env, MDB_txn *txn, const prb_listdef *l, int how, uint64_t after,
                        size_t limit, const prb_list_reader *rd, prb_jw *w, uint64_t *next,
                        size_t *told)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int32_t today = prb_today(env);
    size_t ln = strlen(l->name), written = 0;
    uint64_t last = 0;
    unsigned char from[8];
    int only_active = how != PRB_LV_FULL, rc = PRB_OK;
    /* Whoever reads, only the kinds the list takes now: an entry made
     * before a policy edit left its kind out is the subject's history
     * (its copy), not the list's, and ends at its next refresh
     * (drop_untaken). A list edited to take companies only, and to be
     * public, showed a person's entry to anyone, and its cursor the
     * person's subject number. Never a person to the public, whatever
     * the policy says. */
    unsigned kinds = PRB_LV_KINDS_OF(how) ? (unsigned)PRB_LV_KINDS_OF(how) : l->kinds;
    if (how == PRB_LV_PUBLIC)
        kinds &= 1u << PRB_COMPANY;
    *next = 0;
    if (after == UINT64_MAX)
        return PRB_OK;
    int mrc = mdb_cursor_open(txn, env->lst, &cur);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening a cursor");
    prb_be64(from, after + 1);
    k.mv_size = sizeof from;
    k.mv_data = from;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *kb = k.mv_data;
        struct stored e;
        if (k.mv_size != 13 + ln || memcmp(kb + 8, l->name, ln + 1) || decode(&v, &e))
            continue;
        int state = state_of(&e, today);
        if (only_active && state != PRB_LS_ACTIVE)
            continue;
        uint64_t subject = prb_get_be64(kb);
        unsigned char hk[PRB_RECKEY_LEN];
        MDB_val sk = {PRB_RECKEY_LEN, hk}, sv;
        prb_subject s;
        char buf[PRB_MAX_IDENTS * 256];
        prb_reckey(hk, subject << PRB_RSEQ_BITS, 0);
        if (mdb_get(txn, env->rec, &sk, &sv) ||
            prb_subject_decode(sv.mv_data, sv.mv_size, &s, buf, sizeof buf) ||
            !(kinds >> s.kind & 1))
            continue;
        /* A subject's entries (an ended one and a new one) stay on one
         * page: the next page starts past the subject. */
        if (limit && written >= limit && subject != last) {
            *next = last; /* one more exists */
            break;
        }
        member_write(w, &e, state, shown_ident(&s, how));
        /* Once a subject: an inquirer sees entries in effect, at most one
         * a subject, but this does not rest on it. */
        if (rd && subject != last) {
            if ((rc = tell_read(env, txn, l, rd, &s, subject)))
                break;
            (*told)++;
        }
        written++;
        last = subject;
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? PRB_OK
                                           : prb_mdb_fail(env, mrc, "reading list entries");
}

/* Written straight into one buffer, not built as a jansson tree: a list
 * of 10,000 members took 0.1-0.25 s that way, most of it allocating and
 * freeing the tree's nodes, and needs no token to ask for. A reader's
 * page is made in the write transaction that tells its members, so they
 * are told of exactly what was shown, and is given only once that is
 * committed. */
int prb_lists_write(prb_env *env, const char *name, const unsigned char *vis,
                    const prb_list_reader *rd, uint64_t after, size_t limit, char **out)
{
    const prb_policy *p = env->policy;
    MDB_txn *txn;
    prb_jw w = {.indent = 2};
    size_t told = 0;
    int rc = PRB_OK, mrc, found = 0;
    *out = NULL;
    /* Only a read of a purpose-bound list by an inquirer or staff is told
     * (a public list is anyone's to read): a read that shows none stays a
     * read, and waits for no writer. */
    int tells = 0;
    for (size_t i = 0; rd && i < p->nlists; i++) {
        int how = vis ? vis[i] : PRB_LV_FULL;
        tells |= (!name || !strcmp(name, p->lists[i].name)) && how && !p->lists[i].public_list &&
                 (PRB_LV_KINDS_OF(how) || rd->staff);
    }
    if (!tells)
        rd = NULL;
    if (rd)
        rc = prb_wtxn_begin(env, &txn);
    else if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        rc = prb_mdb_fail(env, mrc, "starting a read");
    if (rc)
        return rc;
    prb_jw_open(&w, '[');
    for (size_t i = 0; i < p->nlists && !rc; i++) {
        const prb_listdef *l = &p->lists[i];
        int how = vis ? vis[i] : PRB_LV_FULL;
        if ((name && strcmp(name, l->name)) || !how)
            continue;
        found = 1;
        prb_jw_open(&w, '{');
        prb_jw_key(&w, "list");
        prb_jw_str(&w, l->name);
        prb_jw_key(&w, "type");
        prb_jw_str(&w, l->type == PRB_BLACK ? "black" : "red");
        if (l->description) {
            prb_jw_key(&w, "description");
            prb_jw_str(&w, l->description);
        }
        prb_jw_key(&w, "publication");
        prb_jw_str(&w, l->public_list ? "public" : "purpose");
        prb_jw_key(&w, "hearing_days");
        prb_jw_int(&w, l->hearing_days);
        prb_jw_key(&w, "leave_when_criteria_stop");
        prb_jw_bool(&w, l->auto_leave);
        prb_jw_key(&w, "members");
        prb_jw_open(&w, '[');
        uint64_t next;
        int tell = rd && !l->public_list && (PRB_LV_KINDS_OF(how) || rd->staff);
        rc = list_members(env, txn, l, how, after, limit, tell ? rd : NULL, &w, &next, &told);
        prb_jw_close(&w, ']');
        if (next) {
            char num[24];
            snprintf(num, sizeof num, "%llu", (unsigned long long)next);
            prb_jw_key(&w, "next");
            prb_jw_str(&w, num);
        }
        prb_jw_close(&w, '}');
    }
    prb_jw_close(&w, ']');
    char *text = prb_jw_finish(&w);
    if (!rc && name && !found)
        rc = prb_seterr(env->err, PRB_ENOTFOUND, "no list named '%s' in the policy", name);
    if (!rc && !text)
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    if (!rd)
        mdb_txn_abort(txn);
    else if (rc || !told)
        prb_wtxn_abort(env, txn); /* a page that showed no one writes nothing */
    else
        rc = prb_wtxn_commit(env, txn);
    if (rc)
        free(text);
    else
        *out = text;
    return rc;
}

int prb_lists_json(prb_env *env, const char *name, char **out)
{
    return prb_lists_write(env, name, NULL, NULL, 0, 0, out);
}
