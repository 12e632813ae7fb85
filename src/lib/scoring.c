/*
 * scoring.c - scorecards as the register holds them: imported PMML models
 * stored in meta under "scorecard:NAME", and scoring a vector of feature
 * values given directly, so an operator can check an imported model
 * against the tool it came from.
 */
#include "internal.h"
#include "audit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int feature_kind(void *ctx, const char *name)
{
    return prb_policy_feature(ctx, name) >= 0 ? PRB_FIELD_NUMERIC : 0;
}

static int read_file(prb_env *env, const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (!f)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot open: %m", path);
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (16 << 20) || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        return prb_seterr(env->err, PRB_EINVAL, "%s: not a readable file of at most 16 MiB", path);
    }
    *buf = malloc((size_t)n + 1);
    if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*buf);
        return prb_seterr(env->err, PRB_EIO, "%s: read error", path);
    }
    fclose(f);
    (*buf)[n] = 0;
    *len = (size_t)n;
    return PRB_OK;
}

static int policy_scorecard(const prb_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nscorecards; i++)
        if (!strcmp(p->scorecards[i]->name, name))
            return (int)i;
    return -1;
}

/* Logs the name, a NUL and the PMML (aux 1): the name is what purposes
 * use it by, and only the meta key holds it. */
static int log_import(prb_env *env, const char *name, const char *pmml, size_t len)
{
    size_t nl = strlen(name);
    char *v = malloc(nl + 1 + len);
    if (!v)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    memcpy(v, name, nl + 1);
    memcpy(v + nl + 1, pmml, len);
    int rc = prb_audit_log(env, PRB_LEAF_SCORECARD, 1, 0, v, nl + 1 + len);
    free(v);
    return rc;
}

int prb_scorecard_import(prb_env *env, const char *name, const char *path)
{
    char *buf = NULL, err[PRB_ERRMSG_MAX / 2], key[PRB_NAME_MAX + 16], term[64];
    size_t len = 0;
    prb_scorecard *sc = NULL;
    MDB_txn *txn;
    int rc, mrc;
    const char *cls = prb_refused_class(name, term, sizeof term);
    if (cls)
        return prb_seterr(env->err, PRB_EREFUSED, "scorecard name '%s' is refused: '%s' is %s",
                          name, term, cls);
    if (strlen(name) >= PRB_NAME_MAX || !*name)
        return prb_seterr(env->err, PRB_EINVAL, "scorecard name must be 1-63 characters");
    if (policy_scorecard(env->policy, name) >= 0)
        return prb_seterr(env->err, PRB_EEXIST, "the policy already has a scorecard '%s'", name);
    if ((rc = read_file(env, path, &buf, &len)))
        return rc;
    rc = prb_sc_from_pmml(name, buf, len, feature_kind, env->policy, &sc, err, sizeof err);
    prb_sc_free(sc);
    if (rc) {
        free(buf);
        return prb_seterr(env->err, rc, "%s: %s", path, err);
    }
    snprintf(key, sizeof key, "scorecard:%s", name);
    MDB_val k = {strlen(key), key}, v = {len, buf};
    if ((rc = prb_wtxn_begin(env, &txn))) {
        free(buf);
        return rc;
    }
    mrc = mdb_put(txn, env->meta, &k, &v, MDB_NOOVERWRITE);
    if (mrc == MDB_KEYEXIST)
        rc = prb_seterr(env->err, PRB_EEXIST, "a scorecard '%s' was imported before", name);
    else if (mrc)
        rc = prb_mdb_fail(env, mrc, "storing the scorecard");
    else
        rc = log_import(env, name, buf, len);
    free(buf);
    if (rc) {
        prb_wtxn_abort(env, txn);
        return rc;
    }
    return prb_wtxn_commit(env, txn);
}

/* The named scorecard: the policy's, or an imported one (owned by *own).
 * Import refuses a policy scorecard's name, but a policy edit may add one
 * of an imported scorecard's name: taken as the policy's, the imported
 * one could no longer be reached and eval scored with another model than
 * the one imported. Such a name is an error here, where it is used, not
 * when the register opens, so that the register stays open to mend it. */
static int find_scorecard(prb_env *env, const char *name, const prb_scorecard **sc,
                          prb_scorecard **own)
{
    char key[PRB_NAME_MAX + 16], err[PRB_ERRMSG_MAX / 2];
    MDB_txn *txn;
    MDB_val k, v;
    int i = policy_scorecard(env->policy, name), mrc, rc;
    *own = NULL;
    snprintf(key, sizeof key, "scorecard:%s", name);
    k.mv_size = strlen(key);
    k.mv_data = key;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "starting a read");
    mrc = mdb_get(txn, env->meta, &k, &v);
    if (i >= 0 && mrc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        *sc = env->policy->scorecards[i];
        return PRB_OK;
    }
    if (i >= 0 && !mrc) {
        mdb_txn_abort(txn);
        return prb_seterr(env->err, PRB_EEXIST,
                          "scorecard '%s' names two: one of policy %s and one imported into the "
                          "register; rename the policy's, since an imported scorecard keeps the "
                          "name it was imported under",
                          name, prb_policy_version(env->policy));
    }
    if (mrc) {
        mdb_txn_abort(txn);
        return mrc == MDB_NOTFOUND
                   ? prb_seterr(env->err, PRB_ENOTFOUND, "no scorecard named '%s'", name)
                   : prb_mdb_fail(env, mrc, "reading a scorecard");
    }
    rc = prb_sc_from_pmml(name, v.mv_data, v.mv_size, feature_kind, env->policy, own, err,
                          sizeof err);
    mdb_txn_abort(txn);
    if (rc)
        return prb_seterr(env->err, rc, "stored scorecard %s: %s", name, err);
    *sc = *own;
    return PRB_OK;
}

int prb_scorecard_eval(prb_env *env, const char *name, const char *input, char **out)
{
    const prb_scorecard *sc = NULL;
    prb_scorecard *own = NULL;
    prb_value vals[256];
    prb_score res;
    json_error_t jerr;
    json_t *in = NULL;
    char err[256];
    int rc;
    *out = NULL;
    if ((rc = find_scorecard(env, name, &sc, &own)))
        return rc;
    if (!(in = json_loads(input, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(in)) {
        rc = prb_seterr(env->err, PRB_EINVAL, "--input: %s",
                        in ? "must be a JSON object" : jerr.text);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        size_t i;
        for (i = 0; i < sc->nfields && strcmp(sc->fields[i], key); i++)
            ;
        if (i == sc->nfields) {
            rc = prb_seterr(env->err, PRB_EINVAL, "--input: '%s' is not a field of scorecard %s",
                            key, name);
            goto out;
        }
    }
    for (size_t i = 0; i < sc->nfields && i < 256; i++) {
        json_t *x = json_object_get(in, sc->fields[i]);
        int numeric = sc->field_kind[i] == PRB_FIELD_NUMERIC;
        vals[i].present = x && !json_is_null(x);
        vals[i].num = json_is_number(x) ? json_number_value(x) : 0;
        vals[i].str = json_is_string(x) ? json_string_value(x) : NULL;
        /* A string for a numeric field was scored as a present 0, and a
         * number for a categorical one as missing: say so instead. */
        if (vals[i].present && (numeric ? !json_is_number(x) : !json_is_string(x))) {
            rc = prb_seterr(env->err, PRB_EINVAL, "--input: '%s' must be %s or null", sc->fields[i],
                            numeric ? "a number" : "a string");
            goto out;
        }
    }
    if ((rc = prb_sc_eval(sc, vals, &res, err, sizeof err))) {
        rc = prb_seterr(env->err, rc, "scorecard %s: %s", name, err);
        goto out;
    }
    /* Written by hand so that points read as the exact decimals they are
     * (jansson writes a real with a fixed number of digits). */
    prb_jw w = {.indent = 2};
    char pts[PRB_SC_POINTS_STR];
    double odds;
    prb_jw_open(&w, '{');
    prb_jw_key(&w, "scorecard");
    prb_jw_str(&w, name);
    prb_jw_key(&w, "score");
    prb_jw_number(&w, prb_sc_points_str(res.score, pts));
    prb_jw_key(&w, "reasons");
    prb_jw_open(&w, '[');
    for (size_t i = 0; i < res.nreasons; i++) {
        prb_jw_open(&w, '{');
        prb_jw_key(&w, "code");
        prb_jw_str(&w, res.reasons[i].code);
        prb_jw_key(&w, "text");
        prb_jw_str(&w, res.reasons[i].text);
        prb_jw_key(&w, "feature");
        prb_jw_str(&w, res.reasons[i].feature);
        prb_jw_key(&w, "points");
        prb_jw_number(&w, prb_sc_points_str(res.reasons[i].points_lost, pts));
        prb_jw_close(&w, '}');
    }
    prb_jw_close(&w, ']');
    if (prb_sc_odds(sc, prb_sc_points_real(res.score), &odds) == 0 && isfinite(odds)) {
        prb_jw_key(&w, "odds");
        prb_jw_real(&w, odds);
    }
    prb_jw_close(&w, '}');
    if (!(*out = prb_jw_finish(&w)))
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
out:
    json_decref(in);
    prb_sc_free(own);
    return rc;
}
