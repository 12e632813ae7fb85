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
