/*
 * subject.c - a subject's file (DESIGN invariant 8): the identifiers and
 * every record with its versions, read in one short LMDB read transaction
 * and copied out, so the handle outlives the snapshot and no reader holds
 * one open. Dates that depend on the policy (effective from, expires,
 * usable) are computed here against the as-of clock; an expired record is
 * left out even if the sweep has not deleted it yet.
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prb_file {
    uint64_t subject;
    int32_t as_of; /* the day the file was read as of */
    int kind;
    size_t nidents;
    const char *idents[PRB_MAX_IDENTS];
    char identbuf[PRB_MAX_IDENTS * 256];
    /* All versions, in key order; recs[] indexes the current ones. */
    prb_record_view *vers;
    size_t nvers, vcap;
    size_t *cur;   /* index in vers of record i's current version */
    size_t *first; /* index in vers of record i's first version */
    size_t nrecs;
    prb_field_view *fields;
    size_t fcap;
    struct {
        size_t off, len;
    } * voff; /* where each version lies in buf */
    size_t ocap;
    char *buf;
    size_t bufn, bufcap;
    MDB_txn *txn;
    char *json;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return PRB_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return PRB_ENOMEM;
    *p = q;
    *cap = n;
    return PRB_OK;
}

/* Copies every version of the subject's records out of the snapshot, then
 * decodes them where they lie: the views point into f->buf, which no
 * longer moves once the walk is done. */
static int read_records(prb_env *env, prb_file *f, MDB_txn *txn)
{
    MDB_cursor *cur;
    unsigned char start[PRB_RECKEY_LEN];
    MDB_val k = {PRB_RECKEY_LEN, start}, v;
    size_t nf = 0;
    int mrc, rc = PRB_OK;

    prb_reckey(start, f->subject << PRB_RSEQ_BITS, 0);
    if ((mrc = mdb_cursor_open(txn, env->rec, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    /* The subject's own entry comes first, then its records. */
    prb_subject s;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    if (mrc || prb_subject_decode(v.mv_data, v.mv_size, &s, f->identbuf, sizeof f->identbuf)) {
        mdb_cursor_close(cur);
        return mrc ? prb_mdb_fail(env, mrc, "reading a subject")
                   : prb_seterr(env->err, PRB_ECORRUPT, "subject %llu: malformed value",
                                (unsigned long long)f->subject);
    }
    f->kind = s.kind;
    f->nidents = s.nidents;
    for (size_t i = 0; i < s.nidents; i++)
        f->idents[i] = s.idents[i];
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *kb = k.mv_data;
        if (k.mv_size < 8 || prb_get_be64(kb) >> PRB_RSEQ_BITS != f->subject)
            break;
        /* Among the subject's keys: stopping here would give a file
         * without the records after it, and every decision would use it. */
        if (k.mv_size != PRB_RECKEY_LEN) {
            mdb_cursor_close(cur);
            return prb_seterr(env->err, PRB_ECORRUPT,
                              "subject %llu: a key of %zu bytes among its records, where a "
                              "record's is %d (altered behind the engine's back)",
                              (unsigned long long)f->subject, k.mv_size, PRB_RECKEY_LEN);
        }
        if ((rc = grow((void **)&f->buf, &f->bufcap, f->bufn + v.mv_size, 1)) ||
            (rc = grow((void **)&f->vers, &f->vcap, f->nvers + 1, sizeof *f->vers)) ||
            (rc = grow((void **)&f->voff, &f->ocap, f->nvers + 1, sizeof *f->voff)))
            break;
        memcpy(f->buf + f->bufn, v.mv_data, v.mv_size);
        prb_record_view *rv = &f->vers[f->nvers];
        rv->id = prb_get_be64(kb);
        rv->version = (uint32_t)(kb[8] << 8 | kb[9]);
        rv->nfields = v.mv_size > 3 ? ((const unsigned char *)v.mv_data)[3] : 0;
        f->voff[f->nvers].off = f->bufn;
        f->voff[f->nvers].len = v.mv_size;
        nf += rv->nfields;
        f->bufn += v.mv_size;
        f->nvers++;
    }
    mdb_cursor_close(cur);
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading records");
    if (!rc)
        rc = grow((void **)&f->fields, &f->fcap, nf + 1, sizeof *f->fields);
    for (size_t i = 0, at = 0; !rc && i < f->nvers; i++) {
        char *val = f->buf + f->voff[i].off;
        prb_record_view *rv = &f->vers[i];
        size_t want = rv->nfields;
        rc = prb_record_decode((const unsigned char *)val, f->voff[i].len, val, rv, f->fields + at,
                               want);
        at += want;
    }
    if (rc)
        return rc == PRB_ECORRUPT ? prb_seterr(env->err, rc, "subject %llu: a record is malformed",
                                               (unsigned long long)f->subject)
                                  : prb_seterr(env->err, rc, "out of memory");
    return PRB_OK;
}

/* Groups versions by record, applies the policy's dates, and drops the
 * records that are expired as of today. */
static int index_records(prb_env *env, prb_file *f)
{
    const prb_policy *p = env->policy;
    int32_t today = prb_today(env);
    size_t cap = f->nvers ? f->nvers : 1;
    size_t *cur = realloc(f->cur, cap * sizeof *cur), *first;
    if (!cur)
        return PRB_ENOMEM;
    f->cur = cur;
    if (!(first = realloc(f->first, cap * sizeof *first)))
        return PRB_ENOMEM;
    f->first = first;
    f->nrecs = 0;
    for (size_t i = 0; i < f->nvers;) {
        size_t j = i;
        while (j + 1 < f->nvers && f->vers[j + 1].id == f->vers[i].id)
            j++;
        int32_t first_received = f->vers[i].received;
        int keep = 1;
        for (size_t x = i; x <= j; x++) {
            prb_record_view *rv = &f->vers[x];
            int c = prb_policy_category(p, rv->category, f->buf[f->voff[x].off + 2] & 0xff);
            if (c < 0) {
                rv->effective_from = rv->event_date;
                rv->expires = PRB_NO_DATE;
                rv->usable = 0;
                rv->disputed = 0;
                continue;
            }
            const prb_catdef *cd = &p->categories[c];
            rv->effective_from = prb_effective_from(cd, rv->event_date, first_received);
            rv->expires = prb_retention_expires(cd, rv->event_date, rv->settled_date);
            rv->usable = prb_record_in_force(rv, today);
            rv->disputed = 0;
            if (x == j && rv->expires <= today)
                keep = 0;
        }
        if (keep) {
            f->first[f->nrecs] = i;
            f->cur[f->nrecs++] = j;
        }
        i = j + 1;
    }
    return PRB_OK;
}

/* A record under an open dispute is used by nothing until it is resolved
 * (invariant 5): features, lists and decisions read only usable records. */
static void mark_disputed(void *ctx, uint64_t record)
{
    prb_file *f = ctx;
    size_t lo = 0, hi = f->nrecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->vers[f->cur[mid]].id < record)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->nrecs && f->vers[f->cur[lo]].id == record) {
        f->vers[f->cur[lo]].usable = 0;
        f->vers[f->cur[lo]].disputed = 1;
    }
}

static void file_reset(prb_file *f)
{
    f->nidents = 0;
    f->nvers = 0;
    f->nrecs = 0;
    f->bufn = 0;
    free(f->json);
    f->json = NULL;
}

int prb_subject_read(prb_env *env, const char *identifier, prb_file **out)
{
    char canon[PRB_IDENT_MAX];
    int scheme, mrc, rc;
    prb_file *f = *out;
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    if (!f) {
        if (!(f = calloc(1, sizeof *f)))
            return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        *out = f;
    }
    file_reset(f);
    f->as_of = prb_today(env);
    if (f->txn)
        mrc = mdb_txn_renew(f->txn);
    else
        mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &f->txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    uint64_t subject;
    if (!(rc = prb_subject_find(env, f->txn, canon, &subject)))
        rc = prb_file_load(env, f->txn, subject, &f);
    mdb_txn_reset(f->txn);
    return rc;
}

int prb_file_load(prb_env *env, MDB_txn *txn, uint64_t subject, prb_file **out)
{
    prb_file *f = *out;
    int rc;
    if (!f) {
        if (!(f = calloc(1, sizeof *f)))
            return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
        *out = f;
    }
    file_reset(f);
    f->as_of = prb_today(env);
    f->subject = subject;
    if ((rc = read_records(env, f, txn)))
        return rc;
    if ((rc = index_records(env, f)))
        return prb_seterr(env->err, rc, "out of memory");
    return prb_disputes_open_records(env, txn, subject, mark_disputed, f);
}

int prb_file_kind(const prb_file *f)
{
    return f->kind;
}

uint64_t prb_file_subject(const prb_file *f)
{
    return f->subject;
}

size_t prb_file_nidents(const prb_file *f)
{
    return f->nidents;
}

const char *prb_file_ident(const prb_file *f, size_t i)
{
    return i < f->nidents ? f->idents[i] : NULL;
}

size_t prb_file_nrecords(const prb_file *f)
{
    return f->nrecs;
}

const prb_record_view *prb_file_record(const prb_file *f, size_t i)
{
    return i < f->nrecs ? &f->vers[f->cur[i]] : NULL;
}

size_t prb_file_nversions(const prb_file *f, size_t i)
{
    return i < f->nrecs ? f->cur[i] - f->first[i] : 0;
}

const prb_record_view *prb_file_version(const prb_file *f, size_t i, size_t v)
{
    return v < prb_file_nversions(f, i) ? &f->vers[f->first[i] + v] : NULL;
}

size_t prb_file_held(const prb_file *f)
{
    if (!f)
        return 0;
    size_t idx = f->cur ? (f->nvers ? f->nvers : 1) : 0; /* cur and first, as made */
    return sizeof *f + f->vcap * sizeof *f->vers + 2 * idx * sizeof *f->cur +
           f->fcap * sizeof *f->fields + f->ocap * sizeof *f->voff + f->bufcap;
}

void prb_file_free(prb_file *f)
{
    if (!f)
        return;
    if (f->txn)
        mdb_txn_abort(f->txn);
    free(f->vers);
    free(f->cur);
    free(f->first);
    free(f->fields);
    free(f->voff);
    free(f->buf);
    free(f->json);
    free(f);
}

/* ---------------------------------------------------------------- JSON */

static const char *status_name(int s)
{
    return s == PRB_ST_OPEN      ? "open"
           : s == PRB_ST_SETTLED ? "settled"
           : s == PRB_ST_CLOSED  ? "closed"
                                 : "?";
}

static json_t *date_json(int32_t d)
{
    char s[11];
    if (d == PRB_NO_DATE)
        return json_null();
    prb_date_format(d, s);
    return json_string(s);
}

/* Minor units back to the decimal string the furnisher sent. */
static json_t *amount_json(int64_t v, int scale)
{
    char s[64];
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    uint64_t div = 1;
    scale = scale < 0 ? 0 : scale > 3 ? 3 : scale;
    for (int i = 0; i < scale; i++)
        div *= 10;
    if (scale > 0)
        snprintf(s, sizeof s, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(u / div),
                 scale, (unsigned long long)(u % div));
    else
        snprintf(s, sizeof s, "%s%llu", v < 0 ? "-" : "", (unsigned long long)u);
    return json_string(s);
}

static json_t *fields_json(const prb_record_view *rv)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < rv->nfields; i++) {
        const prb_field_view *fv = &rv->fields[i];
        json_t *v;
        switch (fv->type) {
        case PRB_FT_INTEGER:
            v = json_integer(fv->num);
            break;
        case PRB_FT_AMOUNT:
            v = amount_json(fv->num, fv->scale);
            break;
        case PRB_FT_DATE:
            v = date_json((int32_t)fv->num);
            break;
        default:
            v = json_string(fv->str ? fv->str : "");
        }
        json_object_set_new(o, fv->name, v);
    }
    return o;
}

static json_t *version_json(const prb_record_view *rv, int full)
{
    char id[48];
    snprintf(id, sizeof id, "%llu-%llu", (unsigned long long)(rv->id >> PRB_RSEQ_BITS),
             (unsigned long long)(rv->id & ((1u << PRB_RSEQ_BITS) - 1)));
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "id", id,
                          "version", (json_int_t)rv->version, "furnisher", rv->furnisher, "ref",
                          rv->ref, "category", rv->category, "status", status_name(rv->status),
                          "event_date", date_json(rv->event_date), "settled_date",
                          date_json(rv->settled_date), "legal_basis", rv->legal_basis, "fields",
                          fields_json(rv), "received", date_json(rv->received));
    if (o && full) {
        json_object_set_new(o, "effective_from", date_json(rv->effective_from));
        json_object_set_new(o, "expires", date_json(rv->expires));
        json_object_set_new(o, "usable", json_boolean(rv->usable));
        json_object_set_new(o, "disputed", json_boolean(rv->disputed));
    }
    return o;
}

int prb_file_json(prb_file *f, const char **out)
{
    json_t *root = json_object(), *ids = json_array(), *recs = json_array();
    char sid[24];
    if (!root || !ids || !recs)
        goto fail;
    snprintf(sid, sizeof sid, "%llu", (unsigned long long)f->subject);
    json_object_set_new(root, "subject", json_string(sid));
    json_object_set_new(root, "kind", json_string(f->kind == PRB_PERSON ? "person" : "company"));
    json_object_set_new(root, "as_of", date_json(f->as_of));
    for (size_t i = 0; i < f->nidents; i++)
        json_array_append_new(ids, json_string(f->idents[i]));
    json_object_set_new(root, "identifiers", ids);
    ids = NULL;
    for (size_t i = 0; i < f->nrecs; i++) {
        json_t *r = version_json(prb_file_record(f, i), 1), *hist = json_array();
        if (!r || !hist) {
            json_decref(r);
            json_decref(hist);
            goto fail;
        }
        for (size_t v = 0; v < prb_file_nversions(f, i); v++)
            json_array_append_new(hist, version_json(prb_file_version(f, i, v), 0));
        json_object_set_new(r, "history", hist);
        json_array_append_new(recs, r);
    }
    json_object_set_new(root, "records", recs);
    recs = NULL;
    free(f->json);
    f->json = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    *out = f->json;
    return f->json ? PRB_OK : PRB_ENOMEM;
fail:
    json_decref(root);
    json_decref(ids);
    json_decref(recs);
    return PRB_ENOMEM;
}
