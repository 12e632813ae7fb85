/*
 * copy.c - the subject's copy (DESIGN invariant 8): everything the
 * register holds about one subject, as JSON or as a letter a person can
 * read.
 *
 * The copy is gathered from one read snapshot: the file (records with
 * their versions, in prb_file_json's shape, whose fields stay at the top
 * level), the subject's list entries, inquiries, notices, disputes and
 * reviews. Then, for every purpose that takes inquiries about the
 * subject's kind, the decision it would be given now is computed the way
 * prb_evaluate does it (nothing is stored: these are not inquiries).
 *
 * The letter is written from the JSON document alone, so the two forms
 * can never say different things. It uses short sentences and plain
 * words, dates written out, and ends with what the subject can do, with
 * the exact commands and the deadlines of the policy.
 */
#include "audit.h"
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const list_state[] = {"none",   "noticed", "active",
                                         "lifted", "expired", "withdrawn"};

static json_t *date_or_null(int32_t d)
{
    char s[11];
    if (d == PRB_NO_DATE)
        return json_null();
    prb_date_format(d, s);
    return json_string(s);
}

/* ------------------------------------------------------------ gathering */

struct list_walk {
    const prb_listdef *ld;
    json_t *arr;
};

static int add_entry(void *ctx, const prb_entry *e)
{
    const struct list_walk *w = ctx;
    const prb_listdef *ld = w->ld;
    if (e->state == PRB_LS_NONE)
        return PRB_OK;
    int ended =
        e->state == PRB_LS_LIFTED || e->state == PRB_LS_EXPIRED || e->state == PRB_LS_WITHDRAWN;
    /* suspended: lifted or withdrawn only while the records it rests on
     * are disputed; it comes back with its dates if they stand. */
    json_t *o =
        json_pack("{s:s, s:s, s:s?, s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "list", ld->name, "type",
                  ld->type == PRB_BLACK ? "black" : "red", "description", ld->description, "state",
                  list_state[e->state], "ground", e->ground, "noticed", date_or_null(e->since),
                  "effective_from", date_or_null(e->active_from), "until", date_or_null(e->until),
                  "ended", ended ? date_or_null(e->ended) : json_null(), "suspended", e->suspended);
    if (!o || json_array_append_new(w->arr, o))
        return PRB_ENOMEM;
    return PRB_OK;
}

/* Every entry the subject has had on each list, oldest first within a
 * list, with its dates: a past entry is part of the file too, one on a
 * list a policy edit has since closed to the subject's kind as well (the
 * list no longer shows it; it was left out here too). */
static int gather_lists(prb_env *env, MDB_txn *txn, uint64_t subject, json_t *arr)
{
    const prb_policy *p = env->policy;
    int32_t today = prb_today(env);
    for (size_t l = 0; l < p->nlists; l++) {
        struct list_walk w = {&p->lists[l], arr};
        int rc;
        if ((rc = prb_lists_each(env, txn, subject, (int)l, today, add_entry, &w)))
            return rc == PRB_ENOMEM ? prb_seterr(env->err, rc, "out of memory") : rc;
    }
    return PRB_OK;
}

/* Every notice to the subject, through the index of notices by subject
 * (iidx.c), read from the outbox in txn's snapshot. */
struct notices {
    prb_env *env;
    MDB_txn *txn;
    json_t *arr;
};

static int add_notice(void *ctx, uint64_t n)
{
    struct notices *c = ctx;
    unsigned char nb[8];
    MDB_val ok = {8, nb}, ov;
    json_error_t jerr;
    json_t *o = NULL;
    prb_be64(nb, n);
    int grc = mdb_get(c->txn, c->env->outbox, &ok, &ov);
    if (grc && grc != MDB_NOTFOUND)
        return prb_mdb_fail(c->env, grc, "reading a notice");
    if (grc == 0 && ov.mv_size > 8)
        o = json_loadb((const char *)ov.mv_data + 8, ov.mv_size - 8, 0, &jerr);
    if (!o)
        return prb_seterr(c->env->err, PRB_ECORRUPT, "notice %llu: %s", (unsigned long long)n,
                          grc ? "indexed but not in the outbox" : "malformed value");
    /* The channels' bookkeeping is the operator's: its errors name hosts,
     * ports and paths of the register's machines. */
    json_object_del(o, "channels");
    if (json_object_set_new(o, "notice", json_integer((json_int_t)n)) ||
        json_array_append_new(c->arr, o))
        return PRB_ENOMEM;
    return PRB_OK;
}

static int gather_notices(prb_env *env, MDB_txn *txn, uint64_t subject, json_t *arr)
{
    struct notices c = {env, txn, arr};
    return prb_nidx_each(env, txn, subject, add_notice, &c);
}

/* Adds an empty array under name to doc; *arr is borrowed from doc. */
static int add_array(json_t *doc, const char *name, json_t **arr)
{
    *arr = json_array();
    return *arr && !json_object_set_new(doc, name, *arr) ? PRB_OK : PRB_ENOMEM;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A member of an array of doc, by a string key: what the copy's joins
 * look up. An inquiry's review and a record's open dispute were each
 * found by reading the whole other array, so a subject with many of both
 * made the copy, a pool thread's work, grow with their product. */
struct keyed {
    const char *key;
    size_t at; /* its place in the array: ties keep the array's order */
    const json_t *o;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

/* The members of arr that keep(o) accepts (NULL: all), under their
 * member key, sorted by it. *out is NULL when there are none; free() it. */
static int index_by(const json_t *arr, const char *key, int (*keep)(const json_t *o),
                    struct keyed **out, size_t *n)
{
    size_t k = 0, all = json_array_size(arr);
    const json_t *o;
    *out = NULL;
    *n = 0;
    if (!all)
        return PRB_OK;
    if (!(*out = malloc(all * sizeof **out)))
        return PRB_ENOMEM;
    for (size_t i = 0; i < all; i++)
        if ((o = json_array_get(arr, i)) && (!keep || keep(o)))
            (*out)[k++] = (struct keyed){str(o, key), i, o};
    qsort(*out, k, sizeof **out, cmp_keyed);
    *n = k;
    return PRB_OK;
}

/* The last member of ix[0..n) under key (the last of them in its array's
 * order), or NULL. */
static const json_t *keyed_last(const struct keyed *ix, size_t n, const char *key)
{
    size_t lo = 0, hi = n; /* the first with a greater key is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix[mid].key, key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && !strcmp(ix[lo - 1].key, key) ? ix[lo - 1].o : NULL;
}

/* Puts each inquiry's review beside it ("review": its id, state and
 * dates, or null). The stored decision stays as it was answered (the log
 * is append-only), but a subject reading it must see that a person has
 * since upheld or overturned it. The review is the latest of the
 * decision's: a register from before a decision was reviewed once may
 * hold more than one. */
static int add_reviews(json_t *doc)
{
    struct keyed *ix;
    size_t n;
    json_t *inq = json_object_get(doc, "inquiries"), *q, *o;
    int rc = index_by(json_object_get(doc, "reviews"), "decision", NULL, &ix, &n);
    for (size_t i = 0; !rc && (q = json_array_get(inq, i)); i++) {
        const json_t *rv = keyed_last(ix, n, str(q, "decision"));
        o = rv ? json_pack("{s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(rv, "id"), "state",
                           json_object_get(rv, "state"), "requested",
                           json_object_get(rv, "requested"), "decided",
                           json_object_get(rv, "decided"))
               : json_null();
        if (!o || json_object_set_new(q, "review", o))
            rc = PRB_ENOMEM;
    }
    free(ix);
    return rc;
}

/* Everything stored about the subject, from one snapshot. */
static int gather(prb_env *env, const char *canon, json_t **out, int *kind)
{
    MDB_txn *txn;
    prb_file *f = NULL;
    uint64_t subject;
    const char *fj;
    json_t *doc = NULL, *arr;
    json_error_t jerr;
    int mrc, rc;
    *out = NULL;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn)))
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((rc = prb_subject_find(env, txn, canon, &subject)) ||
        (rc = prb_file_load(env, txn, subject, &f)))
        goto out;
    *kind = prb_file_kind(f);
    if ((rc = prb_file_json(f, &fj)) || !(doc = json_loads(fj, 0, &jerr))) {
        rc = PRB_ENOMEM;
        goto out;
    }
    if (json_object_set_new(doc, "policy_version", json_string(prb_policy_version(env->policy))) ||
        json_object_set_new(doc, "dispute_deadline_days",
                            json_integer(env->policy->dispute_deadline_days))) {
        rc = PRB_ENOMEM;
        goto out;
    }
    if ((rc = add_array(doc, "lists", &arr)) || (rc = gather_lists(env, txn, subject, arr)) ||
        (rc = add_array(doc, "inquiries", &arr)) ||
        (rc = prb_subject_inquiries(env, txn, subject, arr)) ||
        (rc = add_array(doc, "disputes", &arr)) ||
        (rc = prb_subject_disputes(env, txn, subject, arr)) ||
        (rc = add_array(doc, "reviews", &arr)) ||
        (rc = prb_subject_reviews(env, txn, subject, arr)) ||
        (rc = add_array(doc, "notices", &arr)) || (rc = gather_notices(env, txn, subject, arr)) ||
        (rc = add_reviews(doc)))
        goto out;
out:
    mdb_txn_abort(txn);
    prb_file_free(f);
    if (rc)
        json_decref(doc);
    else
        *out = doc;
    return rc;
}

/* The decision every purpose that takes inquiries about kind would give
 * now. prb_evaluate opens its own read transaction, so this runs after
 * the snapshot of gather() has ended: a write committed in between could
 * show here and not above. These are what-ifs, not inquiries. */
static int decisions(prb_env *env, const char *canon, int kind, json_t *doc)
{
    const prb_policy *p = env->policy;
    prb_decision *d = NULL;
    json_t *arr;
    int rc = add_array(doc, "decisions", &arr);
    static const char *const drop[] = {"decision", "subject",        "requester",
                                       "asked_at", "policy_version", "as_of"};
    for (size_t i = 0; !rc && i < p->npurposes; i++) {
        const prb_purposedef *pd = &p->purposes[i];
        const char *json;
        json_error_t jerr;
        json_t *o;
        if (!(pd->kinds >> kind & 1) || !pd->nrules)
            continue;
        if ((rc = prb_evaluate(env, pd->name, canon, &d)))
            break;
        if ((rc = prb_decision_json(d, &json)) || !(o = json_loads(json, 0, &jerr))) {
            rc = PRB_ENOMEM;
            break;
        }
        for (size_t k = 0; k < sizeof drop / sizeof drop[0]; k++)
            json_object_del(o, drop[k]);
        if ((pd->description &&
             json_object_set_new(o, "description", json_string(pd->description))) ||
            json_array_append_new(arr, o))
            rc = PRB_ENOMEM;
    }
    prb_decision_free(d);
    return rc;
}

/* ---------------------------------------------------------------- letter */

/* "2026-11-25" -> "25 November 2026"; anything else is copied. */
static const char *long_date(const char *iso, char out[32])
{
    static const char *const month[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    int32_t day;
    int y;
    unsigned m, d;
    if (!iso || prb_date_parse(iso, strlen(iso) < 10 ? strlen(iso) : 10, &day)) {
        snprintf(out, 32, "%s", iso ? iso : "");
        return out;
    }
    prb_civil_from_days(day, &y, &m, &d);
    snprintf(out, 32, "%u %s %d", d, month[(m - 1) % 12], y);
    return out;
}

static const char *jdate(const json_t *o, const char *key, char out[32])
{
    return long_date(json_string_value(json_object_get(o, key)), out);
}

/* A policy name in words: "payment_default" -> "payment default". */
static void put_words(FILE *w, const char *name)
{
    for (const char *s = name; s && *s; s++)
        fputc(*s == '_' ? ' ' : *s, w);
}

/* A register directory as a shell word, quoted only when it needs it. */
static void put_shell_word(FILE *w, const char *s)
{
    size_t safe = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-:");
    if (*s && !s[safe]) {
        fputs(s, w);
        return;
    }
    fputc('\'', w);
    for (; *s; s++)
        fputs(*s == '\'' ? "'\\''" : (char[2]){*s, 0}, w);
    fputc('\'', w);
}

static void heading(FILE *w, const char *title)
{
    fprintf(w, "\n%s\n", title);
    for (const char *s = title; *s; s++)
        fputc('-', w);
    fputc('\n', w);
}

/* One field of a record in words: "amount 1250.00 EUR", "opened date
 * 1 January 2015", "account type revolving". The policy says what each
 * field is; a field it no longer knows is printed as it was stored. */
static void put_field(FILE *w, const prb_catdef *cd, const char *name, const json_t *v,
                      const json_t *fields)
{
    int f = cd ? prb_catdef_field(cd, name, strlen(name)) : -1;
    int type = f >= 0 ? cd->fields[f].type : 0;
    const char *s = json_string_value(v);
    char d[32];
    put_words(w, name);
    fputc(' ', w);
    if (json_is_integer(v))
        fprintf(w, "%lld", (long long)json_integer_value(v));
    else if (type == PRB_FT_DATE)
        fputs(long_date(s, d), w);
    else if (type == PRB_FT_ENUM)
        put_words(w, s);
    else if (type == PRB_FT_AMOUNT)
        fprintf(w, "%s %s", s ? s : "?", str(fields, "currency"));
    else
        fputs(s ? s : "?", w);
}

/* A record's fields but its currency, which goes with its amounts. */
static void put_fields(FILE *w, const prb_catdef *cd, const json_t *fields)
{
    const char *name;
    json_t *v;
    int n = 0;
    json_object_foreach((json_t *)fields, name, v)
    {
        if (!strcmp(name, "currency"))
            continue;
        fputs(n++ ? ", " : "", w);
        put_field(w, cd, name, v, fields);
    }
    if (!n)
        fputs("none", w);
}

static const char *status_words(const char *status, int adverse)
{
    return !strcmp(status, "open")      ? adverse ? "open (not paid or settled)" : "open"
           : !strcmp(status, "settled") ? "settled"
           : !strcmp(status, "closed")  ? "closed"
                                        : status;
}

static int is_open(const json_t *d)
{
    return !strcmp(str(d, "state"), "open");
}

/* The subject's open disputes by record, for the letter. */
struct open_disputes {
    struct keyed *ix;
    size_t n;
};

/* Whether a record has an open dispute. */
static int dispute_of(const struct open_disputes *od, const char *record)
{
    return keyed_last(od->ix, od->n, record) != NULL;
}

static void letter_record(FILE *w, const prb_policy *p, const json_t *doc,
                          const struct open_disputes *od, const json_t *r)
{
    char a[32], b[32];
    const char *cat = str(r, "category"), *id = str(r, "id");
    int c = prb_policy_category(p, cat, strlen(cat));
    const prb_catdef *cd = c >= 0 ? &p->categories[c] : NULL;
    json_t *hist = json_object_get(r, "history"), *h;
    size_t i;
    fprintf(w, "\nRecord %s: ", id);
    put_words(w, cat);
    fputc('\n', w);
    if (cd && cd->description)
        fprintf(w, "  What it is: %s\n", cd->description);
    fprintf(w, "  Reported by %s (their reference %s). Legal basis: %s.\n", str(r, "furnisher"),
            str(r, "ref"), str(r, "legal_basis"));
    fprintf(w, "  Date: %s. Status: %s", jdate(r, "event_date", a),
            status_words(str(r, "status"), cd && cd->polarity == PRB_ADVERSE));
    if (json_is_string(json_object_get(r, "settled_date")))
        fprintf(w, " on %s", jdate(r, "settled_date", b));
    fputs(".\n  Details: ", w);
    put_fields(w, cd, json_object_get(r, "fields"));
    fprintf(w, ".\n  We received it on %s.\n", jdate(r, "received", a));
    if (cd && cd->polarity == PRB_ADVERSE)
        fputs("  This record counts against you.\n", w);
    if (json_is_true(json_object_get(r, "disputed")) || dispute_of(od, id))
        fputs("  You dispute this record. It is not used until the dispute is settled.\n", w);
    else if (json_is_true(json_object_get(r, "usable")))
        fputs("  It is used in decisions now.\n", w);
    else if (strcmp(str(r, "effective_from"), str(doc, "as_of")) > 0)
        fprintf(w, "  It is not used before %s. Until then you can check it and dispute it.\n",
                jdate(r, "effective_from", a));
    else
        fputs("  It is not used in decisions now.\n", w);
    if (json_is_string(json_object_get(r, "expires")))
        fprintf(w, "  It will be deleted on %s at the latest.\n", jdate(r, "expires", a));
    json_array_foreach(hist, i, h)
    {
        fprintf(w, "  Earlier version %lld, received %s: %s, ",
                (long long)json_integer_value(json_object_get(h, "version")),
                jdate(h, "received", a), str(h, "status"));
        put_fields(w, cd, json_object_get(h, "fields"));
        fputs(". It was replaced by a correction.\n", w);
    }
}

static void letter_records(FILE *w, const prb_policy *p, const json_t *doc,
                           const struct open_disputes *od)
{
    json_t *recs = json_object_get(doc, "records"), *r;
    size_t i, n = json_array_size(recs);
    heading(w, "What we hold about you");
    if (!n) {
        fputs("We hold no records about you.\n", w);
        return;
    }
    fprintf(w, "We hold %zu record%s about you.\n", n, n == 1 ? "" : "s");
    json_array_foreach(recs, i, r) letter_record(w, p, doc, od, r);
}

static void letter_lists(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "lists"), *e;
    size_t i;
    char a[32], b[32], c[32];
    const char *prev = NULL;
    heading(w, "Lists");
    if (!json_array_size(arr)) {
        fputs("You are on no list.\n", w);
        return;
    }
    json_array_foreach(arr, i, e)
    {
        const char *st = str(e, "state"), *type = str(e, "type"), *name = str(e, "list");
        /* A list's entries come together, oldest first: it is
         * introduced once. */
        if (!prev || strcmp(prev, name)) {
            fputs("\nThe list ", w);
            put_words(w, name);
            fprintf(w, " is a %s list: being on it counts %s.", type,
                    !strcmp(type, "black") ? "against you" : "in your favour");
            if (*str(e, "description"))
                fprintf(w, " %s", str(e, "description"));
            fputs("\n", w);
        }
        prev = name;
        fputs("  ", w);
        if (!strcmp(st, "noticed"))
            fprintf(w,
                    "You are to be put on it. We told you on %s. It takes effect on %s, "
                    "unless the reason stops holding before then. Until that day you can "
                    "dispute the records it rests on. It would end on %s at the latest.\n",
                    jdate(e, "noticed", a), jdate(e, "effective_from", b), jdate(e, "until", c));
        else if (!strcmp(st, "active"))
            fprintf(w, "You are on it since %s. It ends on %s at the latest.\n",
                    jdate(e, "effective_from", a), jdate(e, "until", b));
        else if (json_is_true(json_object_get(e, "suspended")))
            fprintf(w,
                    "You were put on it on %s. That entry is lifted since %s, while the dispute "
                    "of the records it rests on is open. If the records stand, it comes back "
                    "with its dates; if they are deleted, it ends for good.\n",
                    jdate(e, "noticed", a), jdate(e, "ended", b));
        else
            fprintf(w, "You were put on it on %s. That entry ended on %s: %s.\n",
                    jdate(e, "noticed", a), jdate(e, "ended", b),
                    !strcmp(st, "lifted")    ? "the reason for it stopped holding"
                    : !strcmp(st, "expired") ? "its longest allowed time ran out"
                                             : "it was withdrawn before it took effect");
        fputs("  The reason: ", w);
        put_words(w, str(e, "ground"));
        fputs(".\n", w);
    }
}

static const char *outcome_words(const char *o)
{
    return !strcmp(o, "approve")   ? "yes (approve)"
           : !strcmp(o, "refer")   ? "not without a closer look by a person (refer)"
           : !strcmp(o, "decline") ? "no (decline)"
                                   : o;
}

static void put_reasons(FILE *w, const json_t *d, const char *indent)
{
    json_t *r;
    size_t i;
    if (!json_array_size(json_object_get(d, "reasons")))
        return;
    fprintf(w, "%sThe main reasons:\n", indent);
    json_array_foreach(json_object_get(d, "reasons"), i, r)
    {
        const char *t = str(r, "text");
        fprintf(w, "%s  - %s (%s)\n", indent, *t ? t : str(r, "code"), str(r, "code"));
    }
}

static void letter_inquiries(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "inquiries"), *q;
    size_t i;
    char a[32];
    heading(w, "Who asked about you");
    if (!json_array_size(arr)) {
        fputs("Nobody has asked about you.\n", w);
        return;
    }
    json_array_foreach(arr, i, q)
    {
        const char *req = str(q, "requester");
        const json_t *rv = json_object_get(q, "review");
        fprintf(w, "\nOn %s, %s asked about you for ", jdate(q, "asked_at", a),
                *req ? req : "an inquirer");
        put_words(w, str(q, "purpose"));
        fprintf(w, ". The answer was %s. (Decision %s.)\n", outcome_words(str(q, "outcome")),
                str(q, "decision"));
        put_reasons(w, q, "  ");
        if (!json_is_object(rv))
            continue;
        if (!strcmp(str(rv, "state"), "requested"))
            fprintf(w,
                    "  You asked for a person to review it on %s (review %s). A person has not "
                    "decided it yet.\n",
                    jdate(rv, "requested", a), str(rv, "id"));
        else
            fprintf(w, "  Reviewed: %s on %s (review %s). A person looked at it again: %s.\n",
                    str(rv, "state"), jdate(rv, "decided", a), str(rv, "id"),
                    !strcmp(str(rv, "state"), "upheld") ? "the decision stands"
                                                        : "the decision no longer stands");
    }
}

static void letter_decisions(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "decisions"), *d;
    size_t i;
    heading(w, "What you would be told today");
    if (!json_array_size(arr)) {
        fputs("No purpose of this register takes inquiries about you.\n", w);
        return;
    }
    fputs("Nobody has asked this; it is what the answer would be if someone asked today.\n", w);
    json_array_foreach(arr, i, d)
    {
        fputs("\nFor ", w);
        put_words(w, str(d, "purpose"));
        if (*str(d, "description"))
            fprintf(w, " (%s)", str(d, "description"));
        fprintf(w, ": %s.", outcome_words(str(d, "outcome")));
        /* As the decision writes it, digit for digit: rounded to a whole
         * number, a score of 500.6 printed as 501 beside the reason "the
         * score 500.6 is below 500.6". */
        char score[PRB_REAL_STR];
        if (json_is_number(json_object_get(d, "score")) &&
            prb_real_str(score, sizeof score, json_number_value(json_object_get(d, "score"))) > 0)
            fprintf(w, " Score: %s.", score);
        fputc('\n', w);
        put_reasons(w, d, "  ");
    }
}

static const char *dispute_words(const char *state)
{
    return !strcmp(state, "upheld")      ? "the record was found right, and it stands"
           : !strcmp(state, "corrected") ? "the record was corrected"
           : !strcmp(state, "deleted")   ? "the record was deleted"
                                         : state;
}

static void letter_disputes(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "disputes"), *d;
    size_t i;
    char a[32], b[32];
    heading(w, "Your disputes");
    if (!json_array_size(arr)) {
        fputs("You have not disputed any record.\n", w);
        return;
    }
    json_array_foreach(arr, i, d)
    {
        const char *st = str(d, "state");
        fprintf(w, "\nDispute %s, about record %s, opened on %s.\n", str(d, "id"), str(d, "record"),
                jdate(d, "opened", a));
        fprintf(w, "  Your reason: %s\n", str(d, "reason"));
        if (!strcmp(st, "open"))
            fprintf(w,
                    "  The register is checking it. It must answer by %s. If it does not, the "
                    "record is deleted.\n",
                    jdate(d, "deadline", b));
        else
            fprintf(w, "  It was settled on %s: %s.\n", jdate(d, "resolved", b), dispute_words(st));
        if (*str(d, "note"))
            fprintf(w, "  Note: %s\n", str(d, "note"));
    }
}

static void letter_reviews(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "reviews"), *r;
    size_t i;
    char a[32];
    heading(w, "Your requests for a human review");
    if (!json_array_size(arr)) {
        fputs("You have not asked for a review of any decision.\n", w);
        return;
    }
    json_array_foreach(arr, i, r)
    {
        const char *st = str(r, "state");
        fprintf(w, "\nReview %s of decision %s (", str(r, "id"), str(r, "decision"));
        put_words(w, str(r, "purpose"));
        fprintf(w, ", answered %s), asked on %s.\n", str(r, "original_outcome"),
                jdate(r, "requested", a));
        fprintf(w, "  Your reason: %s\n", str(r, "reason"));
        if (!strcmp(st, "requested")) {
            fputs("  A person has not decided it yet.\n", w);
            continue;
        }
        fprintf(w, "  %s decided it on %s: the decision is %s.\n", str(r, "reviewer"),
                jdate(r, "decided", a),
                !strcmp(st, "upheld") ? "upheld, it stands" : "overturned, it no longer stands");
        fprintf(w, "  Their note: %s\n", str(r, "note"));
    }
}

/* Each notice says whether and when it was delivered, as the JSON copy
 * does (not its channels' state): listed under "we sent you", one still
 * in the outbox claimed to have reached its reader. */
static void letter_notices(FILE *w, const json_t *doc)
{
    json_t *arr = json_object_get(doc, "notices"), *n;
    size_t i;
    char a[32], b[32], state[64];
    heading(w, "Notices about you");
    if (!json_array_size(arr)) {
        fputs("There are no notices about you.\n", w);
        return;
    }
    /* Some went to an inquirer that was given a decision about the
     * subject (told.c): the subject sees who was told what. */
    json_array_foreach(arr, i, n)
    {
        if (json_is_true(json_object_get(n, "delivered")))
            snprintf(state, sizeof state, "delivered on %s", jdate(n, "delivered_at", b));
        else
            snprintf(state, sizeof state, "not yet delivered");
        if (json_is_string(json_object_get(n, "recipient")))
            fprintf(w, "- %s, to %s, who was given a decision about you (%s): %s\n",
                    jdate(n, "created", a), str(n, "recipient"), state, str(n, "text"));
        else
            fprintf(w, "- %s (%s): %s\n", jdate(n, "created", a), state, str(n, "text"));
    }
}

static int adverse(const char *outcome)
{
    return !strcmp(outcome, "refer") || !strcmp(outcome, "decline");
}

/* How to ask for a review of decision dec: a request or a command line. */
static void review_step(FILE *w, prb_env *env, const char *dec, int http)
{
    if (http) {
        fprintf(w, "POST /v1/me/reviews {\"decision\": \"%s\", \"reason\": \"why you disagree\"}\n",
                dec);
        return;
    }
    fputs("probity review request ", w);
    put_shell_word(w, env->dir);
    fprintf(w, " --decision %s --reason \"why you disagree\"\n", dec);
}

/* The steps a subject can take. For a letter read over HTTP they are the
 * server's API requests: the command lines name the register's directory
 * on the operator's machine, which a subject can neither use nor needs to
 * know. */
static void letter_actions(FILE *w, prb_env *env, const json_t *doc, const struct open_disputes *od,
                           const char *canon, int http)
{
    json_t *recs = json_object_get(doc, "records"), *r;
    json_t *inq = json_object_get(doc, "inquiries"), *q;
    size_t i;
    int days = env->policy->dispute_deadline_days, any = 0;
    heading(w, "What you can do");
    fprintf(w,
            "1. Check every record above. If one is wrong, dispute it. Say which record and what "
            "is wrong. While you dispute a record, it is not used. The register must answer "
            "within %d days. If it does not, the record is deleted.\n",
            days);
    json_array_foreach(recs, i, r)
    {
        if (dispute_of(od, str(r, "id")))
            continue;
        fprintf(w, "   To dispute record %s:\n     ", str(r, "id"));
        if (http) {
            fprintf(w, "POST /v1/me/disputes {\"record\": \"%s\", \"reason\": \"what is wrong\"}\n",
                    str(r, "id"));
            continue;
        }
        fputs("probity dispute open ", w);
        put_shell_word(w, env->dir);
        fputs(" --subject ", w);
        put_shell_word(w, canon);
        fprintf(w, " --record %s --reason \"what is wrong\"\n", str(r, "id"));
    }
    fputs("2. If you do not agree with a decision about you, ask for a person to review it. "
          "Say which decision and why. You will be told the outcome.\n",
          w);
    json_array_foreach(inq, i, q)
    {
        const char *dec = str(q, "decision");
        const json_t *rv = json_object_get(q, "review");
        char a[32];
        if (!adverse(str(q, "outcome")))
            continue;
        any = 1;
        /* A decision is reviewed once (review.c): no second invitation. */
        if (json_is_object(rv) && !strcmp(str(rv, "state"), "requested")) {
            fprintf(w, "   Decision %s is being reviewed now (review %s).\n", dec, str(rv, "id"));
            continue;
        }
        if (json_is_object(rv)) {
            fprintf(w, "   Decision %s was reviewed (review %s): %s on %s.\n", dec, str(rv, "id"),
                    str(rv, "state"), jdate(rv, "decided", a));
            continue;
        }
        fprintf(w, "   To ask for a review of decision %s:\n     ", dec);
        review_step(w, env, dec, http);
    }
    if (!any) {
        fputs("   No decision about you has said no or asked for a closer look. If one does:\n"
              "     ",
              w);
        review_step(w, env, "DECISION-NUMBER", http);
    }
    fputs("3. Ask for this copy again whenever you like. It is free:\n     ", w);
    if (http) {
        fputs("GET /v1/me?format=text\n", w);
        return;
    }
    fputs("probity subject ", w);
    put_shell_word(w, env->dir);
    fputc(' ', w);
    put_shell_word(w, canon);
    fputs(" --format text\n", w);
}

#define WIDTH 78

/* Wraps the lines of text longer than WIDTH at spaces, so the letter's
 * paragraphs are written as one line each; a continuation is indented
 * like its line, past a "- " or "1. " bullet. Command lines are left
 * whole, so they can be copied. Returns a new string or NULL. */
static char *wrap(const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&buf, &len);
    if (!w)
        return NULL;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        size_t ind = strspn(line, " ");
        size_t cont = ind;
        if (n > ind + 2 && !strncmp(line + ind, "- ", 2))
            cont += 2;
        else if (n > ind + 3 && line[ind] >= '1' && line[ind] <= '9' && line[ind + 1] == '.')
            cont += 3;
        const char *p = line, *end = line + n;
        size_t lead = 0; /* spaces to write before p */
        if (n - ind > 8 && !strncmp(line + ind, "probity ", 8)) {
            fwrite(line, 1, n, w);
            p = end;
        }
        while (p < end) {
            size_t room = WIDTH > lead ? WIDTH - lead : 1;
            const char *cut = end;
            if ((size_t)(end - p) > room) {
                cut = NULL;
                for (const char *q = p + room; q > p; q--)
                    if (*q == ' ') {
                        cut = q;
                        break;
                    }
                if (!cut && !(cut = memchr(p + room, ' ', (size_t)(end - p - room))))
                    cut = end;
            }
            fprintf(w, "%*s%.*s", (int)lead, "", (int)(cut - p), p);
            p = cut;
            while (p < end && *p == ' ')
                p++;
            if (p < end)
                fputc('\n', w);
            lead = cont;
        }
        fputc('\n', w);
        line = eol ? eol + 1 : end;
        if (!eol)
            break;
    }
    int bad = ferror(w);
    if (fclose(w) || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int letter(prb_env *env, const json_t *doc, const char *canon, int http, char **out)
{
    const prb_policy *p = env->policy;
    char *buf = NULL, a[32];
    size_t len = 0;
    json_t *ids = json_object_get(doc, "identifiers"), *id;
    size_t i;
    struct open_disputes od;
    FILE *w;
    if (index_by(json_object_get(doc, "disputes"), "record", is_open, &od.ix, &od.n))
        return PRB_ENOMEM;
    if (!(w = open_memstream(&buf, &len))) {
        free(od.ix);
        return PRB_ENOMEM;
    }
    int company = !strcmp(str(doc, "kind"), "company");
    fprintf(w,
            "Your copy of your file at the register\n\n"
            "From: the credit register kept with probity (rules version %s)\n"
            "Date: %s\n",
            str(doc, "policy_version"), jdate(doc, "as_of", a));
    fprintf(w, "To: the %s we know by ", company ? "company" : "person");
    json_array_foreach(ids, i, id) fprintf(w, "%s%s", i ? " and " : "", json_string_value(id));
    fputs(".\n\n", w);
    fputs("This letter shows everything this register holds about you. The register keeps "
          "records that banks, courts, tax offices and others report. Others may ask it about "
          "you, but only for a stated purpose, such as credit. Each time they do, it is noted "
          "here. You may see all of it, free, at any time. This letter is that copy.\n",
          w);
    letter_records(w, p, doc, &od);
    letter_lists(w, doc);
    letter_inquiries(w, doc);
    letter_decisions(w, doc);
    letter_disputes(w, doc);
    letter_reviews(w, doc);
    letter_notices(w, doc);
    letter_actions(w, env, doc, &od, canon, http);
    free(od.ix);
    int bad = ferror(w);
    if (fclose(w) || bad) {
        free(buf);
        return PRB_ENOMEM;
    }
    *out = wrap(buf);
    free(buf);
    return *out ? PRB_OK : PRB_ENOMEM;
}

/* ------------------------------------------------------------- the copy */

/* Tells the subject canon names that reader, acting as role, read their
 * whole file: a notice, written with its leaf in its own transaction and
 * committed before the copy is gathered, so the copy shows it and no one
 * reads a file unrecorded. Nothing is written for an unknown identifier. */
static int tell_read(prb_env *env, const char *canon, const char *reader, int role)
{
    MDB_txn *txn;
    uint64_t subject;
    int32_t today = prb_day_of(env->log_now); /* when it was read, not the view's day */
    char day[11], text[PRB_KEY_NAME_MAX + 160];
    int rc = prb_wtxn_begin(env, &txn);
    if (rc)
        return rc;
    prb_date_format(today, day);
    snprintf(text, sizeof text, "%s, %s, read your whole file on %s.", reader,
             prb_reader_words(role), day);
    if ((rc = prb_subject_find(env, txn, canon, &subject)) ||
        (rc = prb_notice_add(env, txn, subject, canon, "file_read", reader, text, today))) {
        prb_wtxn_abort(env, txn);
        return rc;
    }
    return prb_wtxn_commit(env, txn);
}

static int copy(prb_env *env, const char *identifier, int format, const char *reader, int role,
                char **out)
{
    char canon[PRB_IDENT_MAX];
    json_t *doc = NULL;
    int scheme, kind = 0, rc;
    *out = NULL;
    if (format != PRB_COPY_JSON && format != PRB_COPY_TEXT && format != PRB_COPY_TEXT_HTTP)
        return prb_seterr(env->err, PRB_EINVAL, "subject copy: unknown format %d", format);
    if (prb_ident_normalize(identifier, strlen(identifier), canon, sizeof canon, &scheme))
        return prb_seterr(env->err, PRB_EINVAL, "%s", canon);
    if ((reader && (rc = tell_read(env, canon, reader, role))) ||
        (rc = gather(env, canon, &doc, &kind)) || (rc = decisions(env, canon, kind, doc)))
        goto out;
    if (format == PRB_COPY_JSON) {
        /* Not json_dumps: its reals have 17 digits, and a score of 500.6
         * read 500.60000000000002 here beside the decision's 500.6. */
        prb_jw w = {.indent = 2};
        prb_jw_json(&w, doc);
        rc = (*out = prb_jw_finish(&w)) ? PRB_OK : PRB_ENOMEM;
    } else
        rc = letter(env, doc, canon, format == PRB_COPY_TEXT_HTTP, out);
out:
    json_decref(doc);
    if (rc == PRB_ENOMEM)
        prb_seterr(env->err, rc, "out of memory");
    return rc;
}

int prb_subject_copy(prb_env *env, const char *identifier, int format, char **out)
{
    return copy(env, identifier, format, NULL, 0, out);
}

int prb_subject_copy_read(prb_env *env, const char *identifier, int format, const char *reader,
                          int role, char **out)
{
    int rc = prb_staff_reader(env, reader, role, "a read of a file");
    *out = NULL;
    return rc ? rc : copy(env, identifier, format, reader, role, out);
}
