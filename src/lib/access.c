/*
 * access.c - the facts the server's authorisation needs from the engine:
 * whose a decision or record is (a subject token may ask a review only of
 * a decision about itself), and whose record a dispute challenges (the
 * furnisher that reported it may answer the dispute). The rules of who may
 * do what live in the server's one table (src/server/auth.c); the engine
 * only says what the stored data is.
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The subject number at the start of "S-qN" (a decision) or "S-N" (a
 * record); -1 if object is neither. */
static int owner_of(const char *object, uint64_t *subject)
{
    uint64_t rid;
    if (!prb_record_parse(object, strlen(object), &rid)) {
        *subject = rid >> PRB_RSEQ_BITS;
        return 0;
    }
    const char *p = object;
    uint64_t s = 0, n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (s > (UINT64_MAX >> PRB_RSEQ_BITS) / 10)
            return -1;
        s = s * 10 + (uint64_t)(*p - '0');
    }
    if (p == object || s == 0 || *p++ != '-' || *p++ != 'q' || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > UINT32_MAX / 10)
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (*p || n == 0)
        return -1;
    *subject = s;
    return 0;
}

int prb_subject_owns(prb_env *env, const char *identifier, const char *object, int *owns)
{
    char canon[PRB_IDENT_MAX];
    uint64_t owner, subject;
    MDB_txn *txn;
    int scheme, rc, mrc;
    *owns = 0;
    if (owner_of(object, &owner))
        return prb_seterr(env->err, PRB_EINVAL, "'%.*s' is not a decision or record id",
                          prb_utf8_cut(object, strlen(object), 64), object);
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "starting a read");
    rc = prb_subject_find(env, txn, canon, &subject);
    mdb_txn_abort(txn);
    if (!rc)
        *owns = owner == subject;
    return rc;
}

/* The furnisher of record rid (its current version) into out. */
static int record_furnisher(prb_env *env, MDB_txn *txn, uint64_t rid, prb_file **f, char *out,
                            size_t len)
{
    int rc = prb_file_load(env, txn, rid >> PRB_RSEQ_BITS, f);
    if (rc)
        return rc;
    for (size_t i = 0; i < prb_file_nrecords(*f); i++) {
        const prb_record_view *r = prb_file_record(*f, i);
        if (r->id == rid) {
            snprintf(out, len, "%s", r->furnisher);
            return PRB_OK;
        }
    }
    char name[48];
    prb_record_name(name, sizeof name, rid);
    return prb_seterr(env->err, PRB_ENOTFOUND, "record %s is no longer in the register", name);
}

/* The record a stored dispute challenges, read from its JSON. */
static int dispute_record(prb_env *env, MDB_txn *txn, uint64_t id, uint64_t *rid)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    json_error_t jerr;
    prb_be64(key, id);
    int mrc = mdb_get(txn, env->dsp, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return prb_seterr(env->err, PRB_ENOTFOUND, "no dispute %llu", (unsigned long long)id);
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading a dispute");
    json_t *d = json_loadb(v.mv_data, v.mv_size, 0, &jerr);
    const char *rec = json_string_value(json_object_get(d, "record"));
    int rc = rec && !prb_record_parse(rec, strlen(rec), rid)
                 ? PRB_OK
                 : prb_seterr(env->err, PRB_ECORRUPT, "dispute %llu: malformed value",
                              (unsigned long long)id);
    json_decref(d);
    return rc;
}

int prb_dispute_furnisher(prb_env *env, uint64_t id, char *out, size_t len)
{
    MDB_txn *txn;
    prb_file *f = NULL;
    uint64_t rid;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    out[0] = 0;
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if (!(rc = dispute_record(env, txn, id, &rid)))
        rc = record_furnisher(env, txn, rid, &f, out, len);
    prb_file_free(f);
    mdb_txn_abort(txn);
    return rc;
}

struct of_furnisher {
    prb_env *env;
    const char *furnisher;
    prb_file *f;
};

/* A record deleted since (by the dispute itself) has no furnisher to
 * show it to any more. */
static int furnished(void *ctx, MDB_txn *txn, json_t *d, int *keep)
{
    struct of_furnisher *o = ctx;
    const char *rec = json_string_value(json_object_get(d, "record"));
    char who[PRB_NAME_MAX * 2];
    uint64_t rid;
    int rc;
    *keep = 0;
    if (!rec || prb_record_parse(rec, strlen(rec), &rid))
        return PRB_OK;
    /* Kept in the dispute since it was opened (disputes before that
     * name no furnisher and are looked up in the record). A deleted
     * record is deleted with its every version by the dispute or the
     * sweep that closed it as deleted. */
    const char *by = json_string_value(json_object_get(d, "furnisher"));
    if (by) {
        const char *state = json_string_value(json_object_get(d, "state"));
        *keep = !strcmp(by, o->furnisher) && state && strcmp(state, "deleted");
        return PRB_OK;
    }
    rc = record_furnisher(o->env, txn, rid, &o->f, who, sizeof who);
    if (rc == PRB_ENOTFOUND)
        return PRB_OK;
    *keep = !rc && !strcmp(who, o->furnisher);
    return rc;
}

int prb_disputes_furnisher_page(prb_env *env, const char *furnisher, int open_only, uint64_t after,
                                size_t limit, char **json, uint64_t *next)
{
    struct of_furnisher o = {env, furnisher, NULL};
    int rc = prb_disputes_kept(env, open_only, after, limit, furnished, &o, json, next);
    prb_file_free(o.f);
    return rc;
}
