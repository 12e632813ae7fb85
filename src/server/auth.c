/*
 * auth.c - who may call what: the one place every request is authorised.
 *
 * The table says which roles may call each route at all (or that anyone
 * may); the checks after it decide what a call names: an inquirer asks
 * only for its own purposes, a subject reviews only decisions about
 * itself, a furnisher answers only disputes of records it reported, a
 * purpose-bound list is read only for a purpose it serves, an inquirer
 * reads only the notices to itself. Furnishers write only as themselves
 * and subjects read only their own file because the handlers take the
 * furnisher and the subject from the key, never from the request.
 *
 *   route                               roles
 *   GET  /healthz /metrics /v1/openapi.json /v1/stats
 *        /v1/lists[/{name}] /v1/companies/{id} /v1/audit/...   anyone
 *   POST /v1/records                    furnisher (as itself)
 *   GET  /v1/subjects/{id}              reviewer, admin
 *   GET  /v1/me                         subject
 *   POST /v1/decisions                  inquirer (its purposes)
 *   POST /v1/me/disputes                subject
 *   GET  /v1/disputes                   reviewer, admin, furnisher (its records')
 *   POST /v1/disputes/{id}/resolve      reviewer, furnisher (of the record)
 *   POST /v1/me/reviews                 subject (decisions about itself)
 *   GET  /v1/reviews                    reviewer, admin
 *   POST /v1/reviews/{id}/decide        reviewer
 *   GET  /v1/notices                    inquirer (those to itself), admin (to any inquirer)
 *   GET  /v1/keys, POST /v1/keys, POST /v1/keys/{id}/revoke   admin
 */
#include "srv.h"

#include <string.h>

#define ANY (1u << 0)
#define ADM (1u << PRB_ROLE_ADMIN)
#define FUR (1u << PRB_ROLE_FURNISHER)
#define INQ (1u << PRB_ROLE_INQUIRER)
#define REV (1u << PRB_ROLE_REVIEWER)
#define SUB (1u << PRB_ROLE_SUBJECT)

static const unsigned allowed[R__N] = {
    [R_HEALTHZ] = ANY,
    [R_METRICS] = ANY,
    [R_OPENAPI] = ANY,
    [R_STATS] = ANY,
    [R_RECORDS] = FUR,
    [R_SUBJECT] = REV | ADM,
    [R_ME] = SUB,
    [R_DECISIONS] = INQ,
    [R_ME_DISPUTES] = SUB,
    [R_DISPUTES] = REV | ADM | FUR,
    [R_DISPUTE_RESOLVE] = REV | FUR,
    [R_ME_REVIEWS] = SUB,
    [R_REVIEWS] = REV | ADM,
    [R_REVIEW_DECIDE] = REV,
    [R_NOTICES] = INQ | ADM,
    [R_LISTS] = ANY,
    [R_LIST] = ANY,
    [R_COMPANY] = ANY,
    [R_AUDIT_HEAD] = ANY,
    [R_AUDIT_PROOF] = ANY,
    [R_AUDIT_CONSISTENCY] = ANY,
    [R_KEYS] = ADM,
    [R_KEY_CREATE] = ADM,
    [R_KEY_REVOKE] = ADM,
};

unsigned srv_auth_route(const req *r, const char **why)
{
    unsigned a = r->route >= 0 && r->route < R__N ? allowed[r->route] : 0;
    *why = NULL;
    if (a & ANY)
        return 0;
    if (!r->has_key) {
        *why = "this call needs a bearer token (Authorization: Bearer TOKEN)";
        return 401;
    }
    if (!(a >> r->key.role & 1)) {
        *why = "this token's role may not make this call";
        return 403;
    }
    return 0;
}

/* Whether the comma-separated list has name as one of its items. */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = list; *s;) {
        size_t k = strcspn(s, ",");
        if (k == n && !strncmp(s, name, n))
            return 1;
        s += k + (s[k] == ',');
    }
    return 0;
}

unsigned srv_auth_purpose(const req *r, const char *purpose, const char **why)
{
    *why = NULL;
    if (r->has_key && r->key.role == PRB_ROLE_INQUIRER && listed(r->key.purposes, purpose))
        return 0;
    *why = "this token may not ask for this purpose";
    return 403;
}

unsigned srv_auth_dispute(const req *r, prb_env *h, uint64_t dispute, int *rc, const char **why)
{
    char who[PRB_KEY_NAME_MAX * 2];
    *rc = PRB_OK;
    *why = NULL;
    if (r->key.role == PRB_ROLE_REVIEWER)
        return 0;
    if (r->key.role != PRB_ROLE_FURNISHER) {
        *why = "this token's role may not resolve disputes";
        return 403;
    }
    /* Another furnisher's dispute is one this furnisher cannot see, and
     * is answered as one not there: dispute ids are numbered by subject,
     * and a 403 told any furnisher which subjects dispute another's
     * records (a 404 for a record gone named it). */
    if ((*rc = prb_dispute_furnisher(h, dispute, who, sizeof who)) && *rc != PRB_ENOTFOUND)
        return 0; /* the caller answers the engine's error */
    if (*rc || strcmp(who, r->key.furnisher)) {
        *rc = PRB_OK;
        *why = "no dispute with this id is about a record this furnisher reported";
        return 404;
    }
    return 0;
}

unsigned srv_auth_decision(const req *r, prb_env *h, const char *decision, int *rc,
                           const char **why)
{
    int owns = 0;
    *why = NULL;
    *rc = prb_subject_owns(h, r->key.subject, decision, &owns);
    if (*rc == PRB_ENOTFOUND) {
        /* A subject the register does not know has no decisions. */
        *rc = PRB_OK;
        owns = 0;
    }
    if (*rc)
        return 0;
    if (!owns) {
        *why = "a subject may ask for a review only of a decision about itself";
        return 403;
    }
    return 0;
}

const char *srv_auth_list_purposes(const req *r, prb_env *h, char buf[PRB_KEY_PURPOSES_MAX])
{
    if (!r->has_key)
        return NULL;
    if (r->key.role == PRB_ROLE_INQUIRER) {
        /* Only the purposes the key may ask for: one whose requesters
         * do not name it (a key made before they were checked) gives it
         * none of its lists, as it gives it no decisions. */
        size_t w = 0;
        buf[0] = 0;
        for (const char *s = r->key.purposes; *s;) {
            size_t k = strcspn(s, ",");
            char one[PRB_KEY_PURPOSES_MAX];
            memcpy(one, s, k);
            one[k] = 0;
            if (prb_key_may_ask(h, &r->key, one)) {
                if (w)
                    buf[w++] = ',';
                memcpy(buf + w, one, k + 1);
                w += k;
            }
            s += k + (s[k] == ',');
        }
        return w ? buf : NULL;
    }
    if (r->key.role == PRB_ROLE_REVIEWER || r->key.role == PRB_ROLE_ADMIN)
        return "*";
    return NULL;
}

unsigned srv_auth_notices(const req *r, const char *asked, const char **recipient, const char **why)
{
    *why = NULL;
    *recipient = asked;
    if (r->key.role == PRB_ROLE_ADMIN)
        return 0;
    if (r->key.role != PRB_ROLE_INQUIRER) {
        *why = "this token's role may not read notices";
        return 403;
    }
    /* Its decisions are asked under its key's name (commit.c), which the
     * notices telling of them name as their recipient. */
    if (asked && strcmp(asked, r->key.name)) {
        *why = "an inquirer may read only the notices to itself";
        return 403;
    }
    *recipient = r->key.name;
    return 0;
}

int srv_auth_audit_leaves(const req *r)
{
    return r->has_key && (r->key.role == PRB_ROLE_REVIEWER || r->key.role == PRB_ROLE_ADMIN);
}
