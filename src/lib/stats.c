/*
 * stats.c - transparency statistics (issue 5): what the register holds
 * and does, in counts anyone may read, with nothing about any person.
 *
 * Every figure is a count over names the policy or the engine defines
 * (categories, statuses, purposes, outcomes, lists, states, notice kinds)
 * and one median; no identifier, subject number, furnisher reference,
 * requester or free text is copied out. Everything is read from one read
 * transaction, so the figures agree with each other (a decision counted
 * here has its notice counted too).
 *
 * The figures are computed, not kept: a walk of rec, inq, dsp, rvw, lst
 * and outbox. That costs one pass over the store (half a second for a
 * register of a million subjects and five million records); a server
 * that is asked often should keep the answer for a while rather than make
 * it on every request.
 * Records are counted as the subject's file shows them: the current
 * version of each, leaving out those past their retention that the sweep
 * has not deleted yet (counted apart, as expired_not_yet_deleted).
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A named row of counters; the meaning of each column is the caller's. */
#define NCOLS 6
struct row {
    char name[PRB_NAME_MAX + 1];
    uint64_t n[NCOLS];
};

struct tally {
    struct row *rows;
    size_t n, cap;
};

/* The row called name[0..len), made (zeroed) if there is none yet;
 * NULL if out of memory. Tables are small (a policy's names), so a
 * linear search with a length check first is the quickest there is. */
static struct row *row_of(struct tally *t, const char *name, size_t len)
{
    if (len > PRB_NAME_MAX)
        len = PRB_NAME_MAX;
    for (size_t i = 0; i < t->n; i++)
        if (!memcmp(t->rows[i].name, name, len) && t->rows[i].name[len] == 0)
            return &t->rows[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct row *r = realloc(t->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        t->rows = r;
        t->cap = cap;
    }
    struct row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    memcpy(r->name, name, len);
    return r;
}

static void tally_free(struct tally *t)
{
    free(t->rows);
}

struct stats {
    prb_env *env;
    MDB_txn *txn;
    int64_t now; /* the clock the walk ran under: its answer's made_at */
    int32_t today;
    uint64_t subjects[3]; /* by enum prb_kind; [0]: any other value */
    uint64_t records, expired;
    struct tally cats;     /* records by category: columns by enum prb_status */
    struct tally purposes; /* decisions by purpose: columns by enum prb_outcome */
    struct tally dsp;      /* disputes by state: column 0 */
    struct tally resolver; /* resolved disputes by resolved_by: column 0 */
    int32_t *days;         /* days from opening to resolution, per resolved dispute */
    size_t ndays, dcap;
    struct tally rvw;   /* reviews by state: column 0 */
    struct tally lists; /* entries by list: columns by PRB_LS_* */
    struct tally kinds; /* notices by kind: 0 delivered, 1 pending */
    uint64_t seen;      /* entries walked, to ask the caller now and then */
};

/* Not an error: the caller asked to stop (prb_set_cancel). */
#define STOPPED (-1)

/* Whether to stop, asked at the first entry and once every 65,536 after:
 * the walk of a large register takes a second, which a server that is
 * stopping need not wait for. */
static int stop_asked(struct stats *s)
{
    return !(s->seen++ & 0xffff) && prb_cancelled(s->env);
}

static int oom(struct stats *s)
{
    return prb_seterr(s->env->err, PRB_ENOMEM, "out of memory");
}

static int corrupt(struct stats *s, const char *what, uint64_t key)
{
    return prb_seterr(s->env->err, PRB_ECORRUPT, "statistics: %s %llu: malformed value", what,
                      (unsigned long long)key);
}

/* Walks every entry of dbi, calling fn; a non-zero return stops it. */
static int walk(struct stats *s, MDB_dbi dbi, const char *what,
                int (*fn)(struct stats *s, const MDB_val *k, const MDB_val *v))
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = PRB_OK, mrc = mdb_cursor_open(s->txn, dbi, &cur);
    if (mrc)
        return prb_mdb_fail(s->env, mrc, "opening a cursor");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        rc = stop_asked(s) ? STOPPED : fn(s, &k, &v);
    mdb_cursor_close(cur);
    if (!rc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(s->env, mrc, what);
    return rc;
}

/* ------------------------------------------------------------- records */

/* The current version of a record is the last key of its id; the walk
 * keeps the previous entry and counts it when the id changes. */
struct rec_walk {
    uint64_t id;
    MDB_val v; /* the last version seen of id; valid for the transaction */
};

static int count_record(struct stats *s, uint64_t id, const MDB_val *v)
{
    const unsigned char *r = v->mv_data;
    if (v->mv_size < PRB_REC_HDR || r[0] != PRB_REC_LAYOUT ||
        v->mv_size < (size_t)PRB_REC_HDR + r[2] || r[1] < PRB_ST_OPEN || r[1] > PRB_ST_CLOSED)
        return corrupt(s, "record", id);
    int32_t expires = prb_version_expires(s->env->policy, r, v->mv_size);
    if (expires != PRB_NO_DATE && expires <= s->today) {
        s->expired++;
        return PRB_OK;
    }
    struct row *row = row_of(&s->cats, (const char *)r + PRB_REC_HDR, r[2]);
    if (!row)
        return oom(s);
    row->n[r[1]]++;
    s->records++;
    return PRB_OK;
}

static int walk_records(struct stats *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    struct rec_walk w = {0, {0, NULL}};
    int rc = PRB_OK, mrc = mdb_cursor_open(s->txn, s->env->rec, &cur);
    if (mrc)
        return prb_mdb_fail(s->env, mrc, "opening a cursor");
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (stop_asked(s)) {
            rc = STOPPED;
            break;
        }
        if (k.mv_size != PRB_RECKEY_LEN) {
            rc = corrupt(s, "record key of length", k.mv_size);
            break;
        }
        uint64_t id = prb_get_be64(k.mv_data);
        if (w.v.mv_data && id != w.id && (rc = count_record(s, w.id, &w.v)))
            break;
        w.v.mv_data = NULL;
        if ((id & PRB_RSEQ_MASK) == 0) { /* the subject itself: kind at byte 1 */
            const unsigned char *r = v.mv_data;
            int kind = v.mv_size > 1 ? r[1] : 0;
            s->subjects[kind == PRB_PERSON || kind == PRB_COMPANY ? kind : 0]++;
            continue;
        }
        w.id = id;
        w.v = v;
    }
    mdb_cursor_close(cur);
    if (!rc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(s->env, mrc, "reading records");
    if (!rc && w.v.mv_data)
        rc = count_record(s, w.id, &w.v);
    return rc;
}

/* ------------------------------------------------------------ decisions */

static int count_inquiry(struct stats *s, const MDB_val *k, const MDB_val *v)
{
    const char *purpose;
    const void *inq;
    size_t plen, len;
    uint64_t subject = 0;
    uint32_t no;
    int outcome;
    if (k->mv_size != 8 || prb_ilog_entry(v->mv_data, v->mv_size, &subject, &no, &inq, &len) ||
        prb_inquiry_header(inq, len, &purpose, &plen, &outcome))
        return corrupt(s, "inquiry of subject", subject);
    struct row *row = row_of(&s->purposes, purpose, plen);
    if (!row)
        return oom(s);
    row->n[outcome]++;
    return PRB_OK;
}

/* ---------------------------------------------- disputes and reviews */

/* A stored value parsed as a JSON object; NULL if it is not one. */
static json_t *load(const MDB_val *v)
{
    json_error_t jerr;
    json_t *o = json_loadb(v->mv_data, v->mv_size, 0, &jerr);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int count_name(struct tally *t, const char *name, int col)
{
    struct row *row = row_of(t, name, strlen(name));
    if (!row)
        return PRB_ENOMEM;
    row->n[col]++;
    return PRB_OK;
}

static int date_of(json_t *o, const char *key, int32_t *day)
{
    const char *d = json_string_value(json_object_get(o, key));
    return d ? prb_date_parse(d, strlen(d), day) : PRB_EINVAL;
}

static int count_dispute(struct stats *s, const MDB_val *k, const MDB_val *v)
{
    uint64_t id = k->mv_size == 8 ? prb_get_be64(k->mv_data) : 0;
    json_t *d = load(v);
    const char *state = json_string_value(json_object_get(d, "state"));
    const char *by = json_string_value(json_object_get(d, "resolved_by"));
    int32_t opened, resolved;
    int rc = PRB_OK;
    if (!state || date_of(d, "opened", &opened) ||
        (strcmp(state, "open") && (!by || date_of(d, "resolved", &resolved)))) {
        json_decref(d);
        return corrupt(s, "dispute", id);
    }
    if (count_name(&s->dsp, state, 0))
        rc = oom(s);
    if (!rc && strcmp(state, "open")) {
        if (count_name(&s->resolver, by, 0))
            rc = oom(s);
        if (!rc && s->ndays == s->dcap) {
            size_t cap = s->dcap ? s->dcap * 2 : 64;
            int32_t *p = realloc(s->days, cap * sizeof *p);
            if (!p)
                rc = oom(s);
            else
                s->days = p, s->dcap = cap;
        }
        if (!rc)
            s->days[s->ndays++] = resolved - opened;
    }
    json_decref(d);
    return rc;
}

static int count_review(struct stats *s, const MDB_val *k, const MDB_val *v)
{
    json_t *r = load(v);
    const char *state = json_string_value(json_object_get(r, "state"));
    int rc = PRB_OK;
    if (!state)
        rc = corrupt(s, "review", k->mv_size == 8 ? prb_get_be64(k->mv_data) : 0);
    else if (count_name(&s->rvw, state, 0))
        rc = oom(s);
    json_decref(r);
    return rc;
}

/* ---------------------------------------------------- lists and notices */

/* A lst key is subject (be64), list name, NUL, first day (be32). */
static int count_entry(struct stats *s, const MDB_val *k, const MDB_val *v)
{
    const char *kb = k->mv_data;
    int state;
    if (k->mv_size < 8 + 1 + 4 || kb[k->mv_size - 5] != 0 ||
        prb_lists_value_state(v->mv_data, v->mv_size, s->today, &state))
        return corrupt(s, "list entry of subject", k->mv_size >= 8 ? prb_get_be64(k->mv_data) : 0);
    struct row *row = row_of(&s->lists, kb + 8, k->mv_size - 8 - 5);
    if (!row)
        return oom(s);
    row->n[state]++;
    return PRB_OK;
}

/* An outbox value is the subject (be64), then the notice as compact JSON
 * (lists.c, deliver.c). The outbox is the largest table read here (a
 * notice per adverse record and decision), so its two facts are found
 * without parsing, as dispute.c finds a dispute's state: compact JSON
 * escapes every quote inside a string, so these marks can only be a key
 * and its value, and only the top level has these keys (a channel's state
 * has "delivered_at"). A kind is a plain name, never escaped. */
static const char KIND_MARK[] = "\"kind\":\"";
static const char DELIVERED_MARK[] = "\"delivered\":true";

static int count_notice(struct stats *s, const MDB_val *k, const MDB_val *v)
{
    const char *j = (const char *)v->mv_data + 8, *kind, *end;
    size_t n = v->mv_size >= 8 ? v->mv_size - 8 : 0;
    uint64_t id = k->mv_size == 8 ? prb_get_be64(k->mv_data) : 0;
    if (v->mv_size < 8 || !(kind = memmem(j, n, KIND_MARK, sizeof KIND_MARK - 1)))
        return corrupt(s, "notice", id);
    kind += sizeof KIND_MARK - 1;
    end = memchr(kind, '"', n - (size_t)(kind - j));
    if (!end || end == kind || memchr(kind, '\\', (size_t)(end - kind)))
        return corrupt(s, "notice", id);
    struct row *row = row_of(&s->kinds, kind, (size_t)(end - kind));
    if (!row)
        return oom(s);
    row->n[memmem(j, n, DELIVERED_MARK, sizeof DELIVERED_MARK - 1) ? 0 : 1]++;
    return PRB_OK;
}

/* ---------------------------------------------------------------- JSON */

static uint64_t sum(const struct row *r, int from, int to)
{
    uint64_t t = 0;
    for (int i = from; i <= to; i++)
        t += r->n[i];
    return t;
}

static json_t *count(uint64_t n)
{
    return json_integer((json_int_t)n);
}

static int cmp_days(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The median of the resolved disputes' days, or null if none was. */
static json_t *median_days(struct stats *s)
{
    if (!s->ndays)
        return json_null();
    qsort(s->days, s->ndays, sizeof *s->days, cmp_days);
    size_t m = s->ndays / 2;
    if (s->ndays % 2)
        return json_integer(s->days[m]);
    return json_real(((double)s->days[m - 1] + s->days[m]) / 2);
}

/* Each name of the policy gets a row even when nothing was counted, so a
 * zero is shown as a zero rather than left out. */
static int seed(struct stats *s)
{
    const prb_policy *p = s->env->policy;
    for (size_t i = 0; i < p->ncategories; i++)
        if (!row_of(&s->cats, p->categories[i].name, strlen(p->categories[i].name)))
            return oom(s);
    for (size_t i = 0; i < p->npurposes; i++)
        if (!row_of(&s->purposes, p->purposes[i].name, strlen(p->purposes[i].name)))
            return oom(s);
    for (size_t i = 0; i < p->nlists; i++)
        if (!row_of(&s->lists, p->lists[i].name, strlen(p->lists[i].name)))
            return oom(s);
    static const char *const dsp[] = {"open", "upheld", "corrected", "deleted"};
    static const char *const rvw[] = {"requested", "upheld", "overturned"};
    for (size_t i = 0; i < sizeof dsp / sizeof *dsp; i++)
        if (!row_of(&s->dsp, dsp[i], strlen(dsp[i])))
            return oom(s);
    for (size_t i = 0; i < sizeof rvw / sizeof *rvw; i++)
        if (!row_of(&s->rvw, rvw[i], strlen(rvw[i])))
            return oom(s);
    return PRB_OK;
}

static json_t *records_json(struct stats *s)
{
    json_t *by = json_object();
    for (size_t i = 0; i < s->cats.n; i++) {
        const struct row *r = &s->cats.rows[i];
        json_object_set_new(
            by, r->name,
            json_pack("{s:o, s:o, s:o, s:o}", "total", count(sum(r, PRB_ST_OPEN, PRB_ST_CLOSED)),
                      "open", count(r->n[PRB_ST_OPEN]), "settled", count(r->n[PRB_ST_SETTLED]),
                      "closed", count(r->n[PRB_ST_CLOSED])));
    }
    return json_pack("{s:o, s:o, s:o}", "total", count(s->records), "expired_not_yet_deleted",
                     count(s->expired), "by_category", by);
}

static json_t *decisions_json(struct stats *s)
{
    json_t *by = json_object();
    uint64_t total = 0;
    for (size_t i = 0; i < s->purposes.n; i++) {
        const struct row *r = &s->purposes.rows[i];
        uint64_t t = sum(r, PRB_APPROVE, PRB_DECLINE);
        total += t;
        json_object_set_new(by, r->name,
                            json_pack("{s:o, s:o, s:o, s:o}", "total", count(t), "approve",
                                      count(r->n[PRB_APPROVE]), "refer", count(r->n[PRB_REFER]),
                                      "decline", count(r->n[PRB_DECLINE])));
    }
    return json_pack("{s:o, s:o}", "total", count(total), "by_purpose", by);
}

/* {name: count, ...} of column 0 of a tally, and its sum in *total. */
static json_t *column_json(const struct tally *t, uint64_t *total)
{
    json_t *o = json_object();
    *total = 0;
    for (size_t i = 0; i < t->n; i++) {
        json_object_set_new(o, t->rows[i].name, count(t->rows[i].n[0]));
        *total += t->rows[i].n[0];
    }
    return o;
}

static json_t *disputes_json(struct stats *s)
{
    uint64_t total, resolved;
    json_t *by_state = column_json(&s->dsp, &total);
    json_t *by_resolver = column_json(&s->resolver, &resolved);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "total", count(total), "by_state", by_state,
                     "resolved", count(resolved), "resolved_by", by_resolver,
                     "median_days_to_resolve", median_days(s));
}

static json_t *reviews_json(struct stats *s)
{
    uint64_t total;
    json_t *by_state = column_json(&s->rvw, &total);
    return json_pack("{s:o, s:o}", "total", count(total), "by_state", by_state);
}

static json_t *lists_json(struct stats *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->lists.n; i++) {
        const struct row *r = &s->lists.rows[i];
        json_object_set_new(
            o, r->name,
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "entries",
                      count(sum(r, PRB_LS_NOTICED, PRB_LS_WITHDRAWN)), "exits",
                      count(sum(r, PRB_LS_LIFTED, PRB_LS_WITHDRAWN)), "noticed",
                      count(r->n[PRB_LS_NOTICED]), "active", count(r->n[PRB_LS_ACTIVE]), "lifted",
                      count(r->n[PRB_LS_LIFTED]), "expired", count(r->n[PRB_LS_EXPIRED]),
                      "withdrawn", count(r->n[PRB_LS_WITHDRAWN])));
    }
    return o;
}

static json_t *notices_json(struct stats *s)
{
    json_t *by = json_object();
    uint64_t delivered = 0, pending = 0;
    for (size_t i = 0; i < s->kinds.n; i++) {
        const struct row *r = &s->kinds.rows[i];
        delivered += r->n[0];
        pending += r->n[1];
        json_object_set_new(by, r->name,
                            json_pack("{s:o, s:o, s:o}", "total", count(r->n[0] + r->n[1]),
                                      "delivered", count(r->n[0]), "pending", count(r->n[1])));
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "total", count(delivered + pending), "delivered",
                     count(delivered), "pending", count(pending), "by_kind", by);
}

static int to_json(struct stats *s, char **out)
{
    char day[11], made[21];
    prb_date_format(s->today, day);
    prb_time_format(s->now, made);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o}", "as_of", day, "made_at",
        made, "policy_version", prb_policy_version(s->env->policy), "subjects", "total",
        count(s->subjects[0] + s->subjects[1] + s->subjects[2]), "person",
        count(s->subjects[PRB_PERSON]), "company", count(s->subjects[PRB_COMPANY]), "records",
        records_json(s), "decisions", decisions_json(s), "disputes", disputes_json(s), "reviews",
        reviews_json(s), "list_entries", lists_json(s), "notices", notices_json(s));
    if (!o ||
        !(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)))) {
        json_decref(o);
        return oom(s);
    }
    json_decref(o);
    return PRB_OK;
}

int prb_stats_json(prb_env *env, char **json)
{
    struct stats s;
    int mrc, rc;
    *json = NULL;
    memset(&s, 0, sizeof s);
    s.env = env;
    s.now = prb_now(env);
    s.today = prb_day_of(s.now);
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &s.txn)))
        return prb_mdb_fail(env, mrc, "starting a read");
    if (!(rc = seed(&s)) && !(rc = walk_records(&s)) &&
        !(rc = walk(&s, env->ilog, "reading inquiries", count_inquiry)) &&
        !(rc = walk(&s, env->dsp, "reading disputes", count_dispute)) &&
        !(rc = walk(&s, env->rvw, "reading reviews", count_review)) &&
        !(rc = walk(&s, env->lst, "reading list entries", count_entry)) &&
        !(rc = walk(&s, env->outbox, "reading the outbox", count_notice)))
        rc = to_json(&s, json);
    if (rc == STOPPED)
        rc = PRB_OK; /* and *json NULL */
    mdb_txn_abort(s.txn);
    tally_free(&s.cats);
    tally_free(&s.purposes);
    tally_free(&s.dsp);
    tally_free(&s.resolver);
    tally_free(&s.rvw);
    tally_free(&s.lists);
    tally_free(&s.kinds);
    free(s.days);
    return rc;
}
