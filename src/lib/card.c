/*
 * card.c - what the register publishes: a company's public card and the
 * lists as each kind of reader may see them.
 *
 * A list is public (its publication says so, and the policy allows that
 * for company lists only) or purpose-bound: read only by an inquirer for
 * a purpose the list serves (DESIGN invariant 3). What the public sees of
 * a public list is its entries in effect: an entry still in its hearing
 * period has not taken effect (invariant 4), and an ended one is no
 * longer anybody's business. The engine decides all of this here, so the
 * server only asks.
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds of subject (a mask of 1 << kind) that those of purposes
 * ("p1,p2") list l serves take: 0 if it serves none of them. */
static unsigned serves(const prb_policy *p, const prb_listdef *l, const char *purposes)
{
    unsigned kinds = 0;
    for (const char *s = purposes; *s;) {
        size_t n = strcspn(s, ",");
        int i = prb_policy_purpose_n(p, s, n);
        if (i >= 0 && l->purposes >> i & 1)
            kinds |= p->purposes[i].kinds;
        s += n + (s[n] == ',');
    }
    return kinds & l->kinds;
}

/* How list l is shown to a caller with purposes ("p1,p2"; "*": a
 * reviewer's or admin's, in full; NULL: none). An inquirer sees the
 * members in effect, of the kinds its purposes take: not an entry still
 * in its hearing period (invariant 4) or ended, nor a person through a
 * purpose that takes only companies. */
static int visibility(const prb_policy *p, const prb_listdef *l, const char *purposes)
{
    unsigned kinds = 0;
    if (purposes && !strcmp(purposes, "*"))
        return PRB_LV_FULL;
    if (purposes && (kinds = serves(p, l, purposes)))
        return PRB_LV_KINDS(kinds);
    return l->public_list ? PRB_LV_PUBLIC : PRB_LV_NONE;
}

int prb_list_visibility(prb_env *env, const char *name, const char *purposes, int *vis)
{
    int l = prb_policy_list(env->policy, name);
    *vis = 0;
    if (l < 0)
        return prb_seterr(env->err, PRB_ENOTFOUND, "no list named '%s' in the policy", name);
    *vis = visibility(env->policy, &env->policy->lists[l], purposes);
    return PRB_OK;
}

int prb_lists_visible_json(prb_env *env, const char *name, const char *purposes, char **out)
{
    return prb_lists_visible_page(env, name, purposes, 0, 0, out);
}

/* The lists name (NULL: all) as a caller with purposes sees them; rd
 * (NULL: none) an inquirer or member of staff whose read its members are
 * told of. */
static int visible_page(prb_env *env, const char *name, const char *purposes,
                        const prb_list_reader *rd, uint64_t after, size_t limit, char **out)
{
    const prb_policy *p = env->policy;
    int vis, rc;
    *out = NULL;
    if (name) {
        if ((rc = prb_list_visibility(env, name, purposes, &vis)))
            return rc;
        if (!vis)
            return prb_seterr(env->err, PRB_ENOTFOUND,
                              "list %s is purpose-bound: only an inquirer for a purpose it serves "
                              "may read it",
                              name);
    }
    unsigned char *v = malloc(p->nlists + 1);
    if (!v)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->nlists; i++)
        v[i] = (unsigned char)visibility(p, &p->lists[i], purposes);
    rc = prb_lists_write(env, name, v, rd, after, limit, out);
    free(v);
    return rc;
}

int prb_lists_visible_page(prb_env *env, const char *name, const char *purposes, uint64_t after,
                           size_t limit, char **out)
{
    return visible_page(env, name, purposes, NULL, after, limit, out);
}

int prb_lists_read_page(prb_env *env, const char *name, const char *reader, const char *purposes,
                        uint64_t after, size_t limit, char **out)
{
    prb_list_reader rd = {reader, purposes, 0, 0};
    *out = NULL;
    /* "*" is the staff's full view, not an inquirer's purposes. */
    if (!reader || !*reader || !purposes || !*purposes || !strcmp(purposes, "*"))
        return prb_seterr(env->err, PRB_EINVAL,
                          "a list read by an inquirer needs the inquirer's name and its purposes");
    return visible_page(env, name, purposes, &rd, after, limit, out);
}

int prb_lists_staff_page(prb_env *env, const char *name, const char *reader, int role,
                         uint64_t after, size_t limit, char **out)
{
    prb_list_reader rd = {reader, "*", 1, role};
    int rc = prb_staff_reader(env, reader, role, "a list read");
    *out = NULL;
    return rc ? rc : visible_page(env, name, "*", &rd, after, limit, out);
}

/* The card of company file f: identifiers and public entries in effect. */
static json_t *card_json(prb_env *env, MDB_txn *txn, const prb_file *f, int *rc)
{
    const prb_policy *p = env->policy;
    int32_t today = prb_today(env);
    char day[11], from[11], until[11];
    json_t *ids = json_array(), *lists = json_array();
    for (size_t i = 0; i < prb_file_nidents(f); i++)
        if (prb_ident_company_public(prb_file_ident(f, i)))
            json_array_append_new(ids, json_string(prb_file_ident(f, i)));
    for (size_t l = 0; l < p->nlists && !*rc; l++) {
        const prb_listdef *ld = &p->lists[l];
        prb_entry e;
        if (!ld->public_list || !(ld->kinds >> PRB_COMPANY & 1))
            continue;
        if ((*rc = prb_lists_entry(env, txn, prb_file_subject(f), (int)l, today, &e)) ||
            e.state != PRB_LS_ACTIVE)
            continue;
        prb_date_format(e.active_from, from);
        prb_date_format(e.until, until);
        json_array_append_new(lists, json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s}", "list", ld->name,
                                               "type", ld->type == PRB_BLACK ? "black" : "red",
                                               "description", ld->description, "ground", e.ground,
                                               "effective_from", from, "until", until));
    }
    prb_date_format(today, day);
    return json_pack("{s:o, s:o, s:s}", "identifiers", ids, "public_lists", lists, "as_of", day);
}

int prb_company_card(prb_env *env, const char *identifier, char **out)
{
    char canon[PRB_IDENT_MAX];
    uint64_t subject;
    prb_file *f = NULL;
    MDB_txn *txn;
    int scheme, rc, mrc;
    *out = NULL;
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    /* Refused before the lookup, so that the answer says nothing of
     * which furnishers' keys, or which persons' numbers, the register
     * holds. */
    if (!prb_ident_company_public(canon))
        return prb_seterr(env->err, PRB_EINVAL,
                          "%s: a company's card is found by a company's public identifier (lei "
                          "or cn-uscc), not by a furnisher's own key or a person's number",
                          canon);
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((rc = prb_subject_find(env, txn, canon, &subject)) ||
        (rc = prb_file_load(env, txn, subject, &f)))
        goto out;
    if (prb_file_kind(f) != PRB_COMPANY) {
        rc = prb_seterr(env->err, PRB_ENOTFOUND, "%s: no company has this identifier", canon);
        goto out;
    }
    json_t *card = card_json(env, txn, f, &rc);
    if (!rc && !(*out = json_dumps(card, JSON_INDENT(2))))
        rc = prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    json_decref(card);
out:
    if (rc == PRB_ENOTFOUND)
        prb_seterr(env->err, rc, "%s: no company has this identifier", canon);
    prb_file_free(f);
    mdb_txn_abort(txn);
    return rc;
}
