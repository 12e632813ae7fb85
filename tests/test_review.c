/*
 * test_review.c - human review of a decision (DESIGN invariant 9): a
 * subject asks, a reviewer upholds or overturns, each step is stored,
 * logged and told to the subject; every refused step changes nothing.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"
#include "tamper.h"

TestSuite(review, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"

/* Two payment defaults, in effect after the notice period: credit is
 * declined. Returns the decision id ("1-q1") in id. */
static prb_env *declined(char **dir, char id[32])
{
    prb_env *env = th_register(dir);
    prb_decision *d = NULL;
    prb_ingest_stats st;
    const char *json;
    static const char recs[] =
        "{\"furnisher\":\"bank-a\",\"ref\":\"D-1\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"" PERSON
        "\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2026-01-10\","
        "\"settled_date\":null,\"legal_basis\":\"contract\",\"fields\":{\"amount\":\"500.00\","
        "\"currency\":\"EUR\"}}\n"
        "{\"furnisher\":\"bank-a\",\"ref\":\"D-2\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"" PERSON
        "\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2026-02-10\","
        "\"settled_date\":null,\"legal_basis\":\"contract\",\"fields\":{\"amount\":\"700.00\","
        "\"currency\":\"EUR\"}}\n";
    cr_assert_eq(th_ingest(env, "t", recs, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    th_set_day(env, "2027-01-10");
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    json_t *o = json_loads(json, 0, NULL);
    snprintf(id, 32, "%s", json_string_value(json_object_get(o, "decision")));
    json_decref(o);
    prb_decision_free(d);
    cr_assert_str_eq(id, "1-q1");
    return env;
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    cr_assert_not_null(o, "not JSON (%s): %s", err.text, text);
    return o;
}

static const char *get(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Notices of one kind in the outbox. */
static size_t notices_of(prb_env *env, const char *kind, json_t **last)
{
    char *json;
    size_t i, n = 0;
    json_t *arr, *x;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    arr = parse(json);
    free(json);
    if (last)
        *last = NULL;
    json_array_foreach(arr, i, x) if (!strcmp(get(x, "kind"), kind))
    {
        n++;
        if (last) {
            json_decref(*last);
            *last = json_incref(x);
        }
    }
    json_decref(arr);
    return n;
}

static uint64_t audit_size(prb_env *env)
{
    char *json;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = parse(json);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(o, "tree_size"));
    json_decref(o);
    free(json);
    return n;
}

/* Everything a review step could touch: reviews, outbox and audit log. */
static char *state(prb_env *env)
{
    char *r, *n, *out;
    cr_assert_eq(prb_reviews_json(env, 0, &r), PRB_OK);
    cr_assert_eq(prb_notices_json(env, 0, &n), PRB_OK);
    cr_assert(asprintf(&out, "%s\n%s\n%llu", r, n, (unsigned long long)audit_size(env)) > 0);
    free(r);
    free(n);
    return out;
}

Test(review, request_decide_and_list)
{
    char *dir, id[32], *json;
    prb_env *env = declined(&dir, id);
    uint64_t before = audit_size(env);
    json_t *notice;

    cr_assert_eq(prb_review_request(env, id, "The second default was paid in March.", &json),
                 PRB_OK, "%s", prb_errmsg(env));
    json_t *r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "id"), "1-r1");
    cr_assert_str_eq(get(r, "decision"), "1-q1");
    cr_assert_str_eq(get(r, "subject"), PERSON);
    cr_assert_str_eq(get(r, "purpose"), "credit");
    cr_assert_str_eq(get(r, "requester"), "bank-x");
    cr_assert_str_eq(get(r, "original_outcome"), "decline");
    cr_assert_str_eq(get(r, "reason"), "The second default was paid in March.");
    cr_assert_str_eq(get(r, "state"), "requested");
    cr_assert_str_eq(get(r, "requested"), "2027-01-10");
    cr_assert(json_is_null(json_object_get(r, "decided")));
    cr_assert(json_is_null(json_object_get(r, "reviewer")));
    cr_assert(json_is_null(json_object_get(r, "note")));
    json_decref(r);
    /* The review and its notice are two leaves of the audit log. */
    cr_assert_eq(audit_size(env), before + 2);
    cr_assert_eq(notices_of(env, "review_requested", &notice), 1);
    cr_assert_str_eq(get(notice, "about"), "1-r1");
    cr_assert_str_eq(get(notice, "identifier"), PERSON);
    cr_assert(strstr(get(notice, "text"), "1-q1"), "%s", get(notice, "text"));
    json_decref(notice);

    cr_assert_eq(prb_reviews_json(env, 1, &json), PRB_OK);
    r = parse(json);
    free(json);
    cr_assert_eq(json_array_size(r), 1);
    json_decref(r);

    th_set_day(env, "2027-01-20");
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "A. Reviewer",
                                   "The March payment settled it; the file is being corrected.",
                                   &json),
                 PRB_OK, "%s", prb_errmsg(env));
    r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "state"), "overturned");
    cr_assert_str_eq(get(r, "decided"), "2027-01-20");
    cr_assert_str_eq(get(r, "reviewer"), "A. Reviewer");
    cr_assert_str_eq(get(r, "requested"), "2027-01-10");
    cr_assert_str_eq(get(r, "reason"), "The second default was paid in March.");
    json_decref(r);
    /* The review, the subject's notice and the inquirer's (below). */
    cr_assert_eq(audit_size(env), before + 5);
    cr_assert_eq(notices_of(env, "review_outcome", &notice), 1);
    cr_assert_str_eq(get(notice, "about"), "1-r1");
    cr_assert(strstr(get(notice, "text"), "overturned") &&
                  strstr(get(notice, "text"), "A. Reviewer"),
              "%s", get(notice, "text"));
    json_decref(notice);

    /* Nothing pending; the list keeps the decided one. */
    cr_assert_eq(prb_reviews_json(env, 1, &json), PRB_OK);
    cr_assert_str_eq(json, "[]");
    free(json);
    cr_assert_eq(prb_reviews_json(env, 0, &json), PRB_OK);
    r = parse(json);
    free(json);
    cr_assert_eq(json_array_size(r), 1);
    cr_assert_str_eq(get(json_array_get(r, 0), "state"), "overturned");
    json_decref(r);

    prb_close(env);
    th_rmrf(dir);
}

/* A decision is reviewed once: after an outcome, a second request is
 * refused (naming the review and its outcome) and changes nothing, so
 * the one decision never has two answers. */
Test(review, decided_decision_is_not_reviewed_again)
{
    char *dir, id[32], *json = NULL;
    prb_env *env = declined(&dir, id);
    cr_assert_eq(prb_review_request(env, id, "The second default was paid.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    th_set_day(env, "2027-01-20");
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "A. Reviewer", "It was paid.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    char *s0 = state(env), *s;
    cr_assert_eq(prb_review_request(env, id, "Still wrong.", &json), PRB_EEXIST, "%s",
                 prb_errmsg(env));
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "1-r1") &&
                  strstr(prb_errmsg(env), "overturned on 2027-01-20"),
              "the message names the review and its outcome: %s", prb_errmsg(env));
    s = state(env);
    cr_assert_str_eq(s, s0, "a second request changed the register");
    free(s);
    /* Upheld is an outcome too. */
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q2", "wrong", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r2", "upheld", "B. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    free(s0);
    s0 = state(env);
    cr_assert_eq(prb_review_request(env, "1-q2", "again", NULL), PRB_EEXIST, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "1-r2") && strstr(prb_errmsg(env), "upheld"), "%s",
              prb_errmsg(env));
    s = state(env);
    cr_assert_str_eq(s, s0);
    free(s);
    free(s0);
    prb_close(env);
    th_rmrf(dir);
}

/* The review names on a page, joined with spaces, into out. */
static uint64_t page_names(prb_env *env, int pending, uint64_t after, size_t limit, char *out,
                           size_t n)
{
    char *json = NULL;
    uint64_t next = 7;
    size_t used = 0;
    cr_assert_eq(prb_reviews_page(env, pending, after, limit, &json, &next), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    *out = 0;
    for (size_t i = 0; i < json_array_size(arr); i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? " " : "",
                                 get(json_array_get(arr, i), "id"));
    json_decref(arr);
    return next;
}

Test(review, pages)
{
    char *dir, id[32], names[128];
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    /* Three declined decisions, a review of each, the second decided. */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(prb_decision_outcome(d), PRB_DECLINE);
    }
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "one", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "two", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q3", "three", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r2", "upheld", "A. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));

    uint64_t next = page_names(env, 0, 0, 0, names, sizeof names);
    cr_assert_str_eq(names, "1-r1 1-r2 1-r3");
    cr_assert_eq(next, 0);
    next = page_names(env, 0, 0, 2, names, sizeof names);
    cr_assert_str_eq(names, "1-r1 1-r2");
    cr_assert_neq(next, 0, "a full page with more after it says where the next starts");
    cr_assert_eq(page_names(env, 0, next, 2, names, sizeof names), 0, "the last page");
    cr_assert_str_eq(names, "1-r3");
    /* Pending only: the decided one is left out, so one page of two. */
    cr_assert_eq(page_names(env, 1, 0, 2, names, sizeof names), 0);
    cr_assert_str_eq(names, "1-r1 1-r3");
    next = page_names(env, 1, 0, 1, names, sizeof names);
    cr_assert_str_eq(names, "1-r1");
    cr_assert_eq(page_names(env, 1, next, 1, names, sizeof names), 0);
    cr_assert_str_eq(names, "1-r3");
    cr_assert_eq(page_names(env, 0, UINT64_MAX, 1, names, sizeof names), 0);
    cr_assert_str_eq(names, "");
    prb_close(env);
    th_rmrf(dir);
}

/* A page of the pending reviews reads a bounded number of reviews, as a
 * page of open disputes does: the decided ones it leaves out could be
 * all but a few of a million. It ends short, even empty, with where to
 * go on; paged through, it is the same. */
Test(review, pending_pages_read_a_bounded_number)
{
    char *dir, id[32], names[128], all[128] = "";
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "one", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "two", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q3", "three", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r1", "upheld", "A. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r2", "upheld", "A. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    size_t saved = prb_scan_max, pages = 0;
    uint64_t after = 0, next;
    prb_scan_max = 1;
    do {
        next = page_names(env, 1, after, 10, names, sizeof names);
        if (*names) {
            strcat(all, *all ? " " : "");
            strncat(all, names, sizeof all - strlen(all) - 1);
        }
        pages++;
        after = next;
    } while (next && pages < 10);
    cr_assert_eq(pages, 3, "three reviews read one at a time: %zu pages", pages);
    cr_assert_str_eq(all, "1-r3");
    /* A page of every review is bounded by its limit: all are kept. */
    cr_assert_eq(page_names(env, 0, 0, 3, names, sizeof names), 0);
    cr_assert_str_eq(names, "1-r1 1-r2 1-r3");
    /* The operator's whole listing (no limit) reads them all, as asked. */
    cr_assert_eq(page_names(env, 1, 0, 0, names, sizeof names), 0);
    cr_assert_str_eq(names, "1-r3");
    prb_scan_max = saved;
    prb_close(env);
    th_rmrf(dir);
}

/* Writes value under key in the register's database name, outside the
 * engine (del: deletes the key instead, with value NULL). */
static void raw_put(prb_env *env, const char *name, const void *key, size_t klen, const char *value)
{
    MDB_txn *t;
    MDB_dbi dbi;
    MDB_val k = {klen, (void *)key}, v = {value ? strlen(value) : 0, (void *)value};
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, name, 0, &dbi), 0, "no database %s", name);
    cr_assert_eq(value ? mdb_put(t, dbi, &k, &v, 0) : mdb_del(t, dbi, &k, NULL), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

static void review_key(unsigned char k[8], uint64_t subject, uint64_t n)
{
    uint64_t id = subject << PRB_RSEQ_BITS | n;
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(id >> (56 - 8 * i));
}

/* A request finds an earlier review of its decision by the decision's
 * key: it reads no other review of the subject, so one with a thousand
 * reviews asks no more of the write transaction than one with none. A
 * review of another decision that cannot be read shows it. */
Test(review, a_request_reads_only_its_decisions_review)
{
    char *dir, id[32], *json = NULL;
    unsigned char k[8];
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "one", NULL), PRB_OK, "%s", prb_errmsg(env));
    review_key(k, 1, 1);
    raw_put(env, "rvw", k, 8, "not a review");
    cr_assert_eq(prb_review_request(env, "1-q2", "two", &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "id"), "1-r2", "the next number comes after the last review");
    json_decref(r);
    /* Its own decision's review is read, and refuses a second request. */
    cr_assert_eq(prb_review_request(env, "1-q2", "again", NULL), PRB_EEXIST, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "already under review (1-r2"), "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* A register made before reviews were indexed by decision (store format
 * 4) is given the index when opened: a decision reviewed then is still
 * reviewed once, and one reviewed twice before that rule names its first
 * review, as the walk it replaces did. */
Test(review, a_register_from_before_the_index_is_given_one)
{
    char *dir, id[32], reg[600];
    unsigned char k[8];
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "one", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "A. Reviewer", "Paid.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "two", NULL), PRB_OK, "%s", prb_errmsg(env));
    /* Before a decision was reviewed once, 1-q1 could be asked again. */
    review_key(k, 1, 3);
    raw_put(env, "rvw", k, 8,
            "{\"id\":\"1-r3\",\"decision\":\"1-q1\",\"subject\":\"" PERSON
            "\",\"purpose\":\"credit\",\"requester\":\"bank-x\",\"original_outcome\":"
            "\"decline\",\"reason\":\"again\",\"state\":\"requested\",\"requested\":"
            "\"2027-01-10\",\"decided\":null,\"reviewer\":null,\"note\":null}");
    /* What format 4 held: no index, and its number. */
    MDB_txn *t;
    MDB_dbi rvq, meta;
    uint32_t four = 4, fmt = 0;
    MDB_val fk = {6, "format"}, fv = {4, &four};
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, "rvq", 0, &rvq), 0, "no index of reviews by decision");
    cr_assert_eq(mdb_drop(t, rvq, 1), 0);
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_put(t, meta, &fk, &fv, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    prb_close(env);

    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2027-01-12");
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_get(t, meta, &fk, &fv), 0);
    memcpy(&fmt, fv.mv_data, 4);
    mdb_txn_abort(t);
    cr_assert_eq(fmt, 5, "the register was not moved: format %u", fmt);
    cr_assert_eq(prb_review_request(env, "1-q1", "three", NULL), PRB_EEXIST, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "already reviewed (1-r1, overturned"), "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "again", NULL), PRB_EEXIST, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "already under review (1-r2"), "%s", prb_errmsg(env));
    char *json = NULL;
    cr_assert_eq(prb_review_request(env, "1-q3", "new", &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "id"), "1-r4");
    json_decref(r);
    cr_assert_eq(prb_review_request(env, "1-q3", "again", NULL), PRB_EEXIST, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

Test(review, refused_steps_change_nothing)
{
    char *dir, id[32], *json = NULL;
    prb_env *env = declined(&dir, id);
    cr_assert_eq(prb_review_request(env, id, "wrong", NULL), PRB_OK, "%s", prb_errmsg(env));
    char *s0 = state(env), *s;

    static const struct {
        const char *decision, *reason;
        int rc;
    } req[] = {
        {"1-q2", "x", PRB_ENOTFOUND},  /* no such inquiry */
        {"7-q1", "x", PRB_ENOTFOUND},  /* no such subject */
        {"1-q1", "x", PRB_EEXIST},     /* already pending */
        {"01-q001", "x", PRB_EEXIST},  /* the same decision, written otherwise */
        {"1-1", "x", PRB_EINVAL},      /* a record id, not a decision */
        {"q1", "x", PRB_EINVAL},       /* malformed */
        {"1-q1", "", PRB_EINVAL},      /* no reason */
        {"1-q1", NULL, PRB_EINVAL},    /* no reason */
        {"1-q1", "a\001b", PRB_EINVAL} /* control character */
    };
    /* An approval is not reviewed (invariant 9: a review is of an
     * adverse outcome). The subject's second file is approved. */
    prb_ingest_stats st;
    prb_decision *ok = NULL;
    cr_assert_eq(
        th_ingest(env, "t",
                  "{\"furnisher\":\"bank-a\",\"ref\":\"A-1\",\"subject\":{\"kind\":"
                  "\"person\",\"id\":\"ext:bank-a:clean\"},\"category\":\"credit_account\","
                  "\"status\":\"open\",\"event_date\":\"2026-10-01\",\"settled_date\":null,"
                  "\"legal_basis\":\"contract\",\"fields\":{\"account_type\":\"revolving\","
                  "\"opened_date\":\"2015-01-01\",\"credit_limit\":\"1000.00\",\"balance\":"
                  "\"10.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n",
                  PRB_FMT_NDJSON, 0, &st, NULL),
        PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decide(env, "credit", "ext:bank-a:clean", "bank-x", &ok), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(ok), PRB_APPROVE);
    prb_decision_free(ok);
    free(s0);
    s0 = state(env);
    cr_assert_eq(prb_review_request(env, "2-q1", "x", &json), PRB_EINVAL, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "decision 2-q1 approved"), "%s", prb_errmsg(env));
    s = state(env);
    cr_assert_str_eq(s, s0, "a review of an approval changed the register");
    free(s);
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        cr_assert_eq(prb_review_request(env, req[i].decision, req[i].reason, &json), req[i].rc,
                     "request %zu: %s", i, prb_errmsg(env));
        cr_assert_null(json);
        cr_assert_str_neq(prb_errmsg(env), "");
        s = state(env);
        cr_assert_str_eq(s, s0, "request %zu changed the register", i);
        free(s);
    }
    cr_assert(strstr((prb_review_request(env, "1-q1", "x", NULL), prb_errmsg(env)), "1-r1"),
              "the message names the pending review: %s", prb_errmsg(env));

    static const struct {
        const char *id, *outcome, *reviewer, *note;
        int rc;
    } dec[] = {
        {"1-r1", "upheld", NULL, "n", PRB_EINVAL},      /* no reviewer */
        {"1-r1", "upheld", "", "n", PRB_EINVAL},        /* no reviewer */
        {"1-r1", "upheld", "R", NULL, PRB_EINVAL},      /* no note */
        {"1-r1", "upheld", "R", "", PRB_EINVAL},        /* no note */
        {"1-r1", "maybe", "R", "n", PRB_EINVAL},        /* no such outcome */
        {"1-r1", NULL, "R", "n", PRB_EINVAL},           /* no outcome */
        {"1-r9", "upheld", "R", "n", PRB_ENOTFOUND},    /* no such review */
        {"1-q1", "upheld", "R", "n", PRB_EINVAL},       /* a decision id */
        {"1-r0", "upheld", "R", "n", PRB_EINVAL},       /* numbers start at 1 */
        {"1-r16777216", "upheld", "R", "n", PRB_EINVAL} /* past 24 bits */
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        cr_assert_eq(
            prb_review_decide(env, dec[i].id, dec[i].outcome, dec[i].reviewer, dec[i].note, &json),
            dec[i].rc, "decide %zu: %s", i, prb_errmsg(env));
        cr_assert_null(json);
        s = state(env);
        cr_assert_str_eq(s, s0, "decide %zu changed the register", i);
        free(s);
    }

    /* Deciding twice: the second is refused and changes nothing. */
    cr_assert_eq(prb_review_decide(env, "1-r1", "upheld", "R", "It stands.", NULL), PRB_OK);
    free(s0);
    s0 = state(env);
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "Q", "Changed my mind.", &json),
                 PRB_EEXIST);
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "already decided"), "%s", prb_errmsg(env));
    s = state(env);
    cr_assert_str_eq(s, s0);
    free(s);
    free(s0);
    prb_close(env);
    th_rmrf(dir);
}

/* A reason and a note are up to 2,000 characters in any script (code
 * points, as the API's maxLength counts): in bytes, 700 characters of
 * Chinese were over the limit. The note is told to the subject whole. */
Test(review, a_text_is_counted_in_characters)
{
    char *dir, id[32], *json;
    prb_env *env = declined(&dir, id);
    char cjk[3 * 2001 + 1];
    for (size_t i = 0; i < 2001; i++)
        memcpy(cjk + 3 * i, "\u590d", 3);
    cjk[3 * 2001] = 0;
    char *s0 = state(env);
    cr_assert_eq(prb_review_request(env, id, cjk, NULL), PRB_EINVAL);
    cr_assert(strstr(prb_errmsg(env), "review: the reason is 2001 characters long; at most 2000 "
                                      "characters"),
              "%s", prb_errmsg(env));
    char *s = state(env);
    cr_assert_str_eq(s, s0, "a refused request changed the register");
    free(s);
    free(s0);
    cjk[3 * 2000] = 0;
    cr_assert_eq(prb_review_request(env, id, cjk, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "reason"), cjk);
    json_decref(r);
    cr_assert_eq(prb_review_decide(env, "1-r1", "upheld", "\u5f20\u4e09", cjk, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    r = parse(json);
    free(json);
    cr_assert_str_eq(get(r, "note"), cjk);
    json_decref(r);
    json_t *notice;
    cr_assert_eq(notices_of(env, "review_outcome", &notice), 1);
    cr_assert(strstr(get(notice, "text"), cjk), "%s", get(notice, "text"));
    json_decref(notice);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------- the inquirer told */

/* An overturned decision is told to the inquirer that was given it
 * (GDPR art. 19), in the review's transaction: a notice naming it as
 * recipient, the decision, its day and purpose, the review and its day,
 * but not the subject's reason or the reviewer's note. The subject's
 * copy shows it, the channels deliver it with its recipient, and the
 * statistics count it by kind. Before, only the subject was told. */
Test(review, an_overturn_tells_the_requester)
{
    char *dir, id[32], *json, reg[600], path[800];
    prb_env *env = declined(&dir, id);
    json_t *n;
    size_t count;
    cr_assert_eq(prb_review_request(env, id, "The second default was paid in March.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    th_set_day(env, "2027-01-20");
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "A. Reviewer",
                                   "Paid in March; see the bank's letter.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(notices_of(env, "inquirer_overturned", &n), 1);
    cr_assert_str_eq(get(n, "recipient"), "bank-x");
    cr_assert_str_eq(get(n, "identifier"), PERSON);
    cr_assert_str_eq(get(n, "about"), "1-q1");
    const char *text = get(n, "text");
    cr_assert(strstr(text, "1-q1") && strstr(text, "2027-01-10") && strstr(text, "credit") &&
                  strstr(text, "1-r1") && strstr(text, "2027-01-20") && strstr(text, "overturned"),
              "%s", text);
    cr_assert(!strstr(text, "March") && !strstr(text, "A. Reviewer"), "%s", text);
    json_decref(n);
    /* The subject's notices have no recipient, as before. */
    cr_assert_eq(notices_of(env, "review_outcome", &n), 1);
    cr_assert_null(json_object_get(n, "recipient"));
    json_decref(n);

    n = th_copy_notices(env, PERSON, "inquirer_overturned", &count, NULL);
    cr_assert_eq(count, 1, "the subject's copy does not show who was told");
    cr_assert_str_eq(get(n, "recipient"), "bank-x");
    json_int_t no = json_integer_value(json_object_get(n, "notice"));
    json_decref(n);
    cr_assert_eq(prb_subject_copy(env, PERSON, PRB_COPY_TEXT, &json), PRB_OK);
    cr_assert(strstr(json, "to bank-x, who was given a decision about you"), "%s", json);
    free(json);

    cr_assert_eq(prb_stats_json(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *st = parse(json);
    free(json);
    json_t *k = json_object_get(json_object_get(json_object_get(st, "notices"), "by_kind"),
                                "inquirer_overturned");
    cr_assert_eq(json_integer_value(json_object_get(k, "total")), 1);
    json_decref(st);

    prb_deliver_stats ds;
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    snprintf(reg, sizeof reg, "%s/reg", dir);
    /* The spool names a file by its notice's number and content. */
    snprintf(path, sizeof path, "%s/spool/%012lld-*.json", reg, (long long)no);
    glob_t g;
    cr_assert_eq(glob(path, 0, NULL, &g), 0, "%s", path);
    cr_assert_eq(g.gl_pathc, 1);
    snprintf(path, sizeof path, "%s", g.gl_pathv[0]);
    globfree(&g);
    json_error_t err;
    n = json_load_file(path, 0, &err);
    cr_assert_not_null(n, "%s: %s", path, err.text);
    cr_assert_str_eq(get(n, "kind"), "inquirer_overturned");
    cr_assert_str_eq(get(n, "recipient"), "bank-x");
    json_decref(n);
    prb_close(env);
    th_rmrf(dir);
}

/* A page of prb_notices_to_page: each notice's "recipient" and number,
 * space-separated, into out; returns *next. */
static uint64_t to_page(prb_env *env, const char *recipient, int pending, uint64_t after,
                        size_t limit, char *out, size_t n, json_t **items)
{
    char *json = NULL;
    uint64_t next = 7;
    size_t used = 0;
    cr_assert_eq(prb_notices_to_page(env, recipient, pending, after, limit, &json, &next), PRB_OK,
                 "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    *out = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *x = json_array_get(arr, i);
        used +=
            (size_t)snprintf(out + used, n - used, "%s%s:%lld", i ? " " : "", get(x, "recipient"),
                             (long long)json_integer_value(json_object_get(x, "notice")));
    }
    if (items)
        *items = arr;
    else
        json_decref(arr);
    return next;
}

/* An inquirer is shown the notices to it: only those naming it as their
 * recipient, none of the subject's own, and of each only what told.c
 * wrote for it (not the internal subject number nor the channels'
 * bookkeeping), a page at a time; with a limit a page reads at most
 * prb_scan_max notices of the outbox, so one behind many notices to
 * subjects is found by paging on. Before, the notices to inquirers could
 * be read only with the whole outbox, by the operator. */
Test(review, an_inquirer_reads_its_notices_a_page_at_a_time)
{
    char *dir, id[32], got[256], all[256] = "", want[64];
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    json_t *items;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-y", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "Paid.", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "Paid.", NULL), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2027-01-20");
    cr_assert_eq(
        prb_review_decide(env, "1-r1", "overturned", "A. Reviewer", "Paid in March.", NULL), PRB_OK,
        "%s", prb_errmsg(env));
    cr_assert_eq(
        prb_review_decide(env, "1-r2", "overturned", "A. Reviewer", "Paid in March.", NULL), PRB_OK,
        "%s", prb_errmsg(env));
    json_t *x, *bx, *by;
    cr_assert_eq(notices_of(env, "inquirer_overturned", &by), 2);
    char *outbox;
    cr_assert_eq(prb_notices_json(env, 0, &outbox), PRB_OK);
    json_t *ob = parse(outbox);
    free(outbox);
    size_t n_out = json_array_size(ob);
    bx = NULL;
    size_t i;
    json_array_foreach(ob, i, x) if (!bx && get(x, "recipient")) bx = json_incref(x);
    json_decref(ob);
    long long nx = json_integer_value(json_object_get(bx, "notice")),
              ny = json_integer_value(json_object_get(by, "notice"));
    cr_assert_str_eq(get(bx, "recipient"), "bank-x");
    cr_assert_str_eq(get(by, "recipient"), "bank-y");
    cr_assert_gt(nx, 4, "too few notices to subjects before the inquirer's (%lld)", nx);

    /* Only the named recipient's, and of it what it was told. */
    cr_assert_eq(to_page(env, "bank-x", 0, 0, 0, got, sizeof got, &items), 0);
    snprintf(want, sizeof want, "bank-x:%lld", nx);
    cr_assert_str_eq(got, want);
    x = json_array_get(items, 0);
    static const char *const keys[] = {"notice", "identifier", "kind",    "recipient",
                                       "about",  "text",       "created", "delivered"};
    cr_assert_eq(json_object_size(x), sizeof keys / sizeof *keys);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        cr_assert_not_null(json_object_get(x, keys[k]), "no %s", keys[k]);
    cr_assert_str_eq(get(x, "kind"), "inquirer_overturned");
    cr_assert_str_eq(get(x, "identifier"), PERSON);
    cr_assert_str_eq(get(x, "text"), get(bx, "text"));
    cr_assert(!strstr(get(x, "text"), "March"));
    json_decref(items);
    json_decref(bx);
    json_decref(by);
    cr_assert_eq(to_page(env, "bank-z", 0, 0, 0, got, sizeof got, NULL), 0);
    cr_assert_str_empty(got);
    /* Every inquirer's (the admin's view), never a subject's. */
    snprintf(want, sizeof want, "bank-x:%lld bank-y:%lld", nx, ny);
    cr_assert_eq(to_page(env, NULL, 0, 0, 0, got, sizeof got, NULL), 0);
    cr_assert_str_eq(got, want);
    /* A page of one says where the next starts; the last looks past
     * itself and says there is none. */
    uint64_t next = to_page(env, NULL, 0, 0, 1, got, sizeof got, NULL);
    snprintf(want, sizeof want, "bank-x:%lld", nx);
    cr_assert_str_eq(got, want);
    cr_assert_eq(next, (uint64_t)nx);
    cr_assert_eq(to_page(env, NULL, 0, next, 1, got, sizeof got, NULL), 0);
    snprintf(want, sizeof want, "bank-y:%lld", ny);
    cr_assert_str_eq(got, want);

    /* The scan bound: more notices to subjects than it before bank-x's
     * first. The first page ends short, empty, with next set; paging on
     * finds it, once. */
    size_t saved = prb_scan_max, pages = 0;
    prb_scan_max = 3;
    uint64_t after = 0;
    next = to_page(env, "bank-x", 0, 0, 10, got, sizeof got, NULL);
    cr_assert_str_empty(got);
    cr_assert(next && next < (uint64_t)nx, "next %llu", (unsigned long long)next);
    do {
        next = to_page(env, "bank-x", 0, after, 10, got, sizeof got, NULL);
        if (*got)
            strncat(strcat(all, *all ? " " : ""), got, sizeof all - strlen(all) - 2);
        pages++;
        after = next;
    } while (next && pages < 20);
    snprintf(want, sizeof want, "bank-x:%lld", nx);
    cr_assert_str_eq(all, want);
    cr_assert_eq(pages, (n_out + 2) / 3, "%zu pages for %zu notices", pages, n_out);
    prb_scan_max = saved;

    /* pending: those not yet delivered; once delivered, the day it was. */
    prb_deliver_stats ds;
    cr_assert_eq(prb_notices_deliver(env, &ds), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(to_page(env, "bank-x", 1, 0, 0, got, sizeof got, NULL), 0);
    cr_assert_str_empty(got);
    to_page(env, "bank-x", 0, 0, 0, got, sizeof got, &items);
    x = json_array_get(items, 0);
    cr_assert(json_is_true(json_object_get(x, "delivered")));
    cr_assert_not_null(json_object_get(x, "delivered_at"));
    cr_assert_null(json_object_get(x, "channels"));
    cr_assert_null(json_object_get(x, "subject"));
    json_decref(items);

    char *json = NULL;
    cr_assert_eq(prb_notices_to_page(env, "", 0, 0, 0, &json, NULL), PRB_EINVAL);
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "recipient"), "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* An upheld decision stands: the inquirer has nothing to learn. */
Test(review, an_upheld_review_tells_no_inquirer)
{
    char *dir, id[32];
    prb_env *env = declined(&dir, id);
    cr_assert_eq(prb_review_request(env, id, "wrong", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r1", "upheld", "A. Reviewer", "It stands.", NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(notices_of(env, "review_outcome", NULL), 1);
    cr_assert_eq(notices_of(env, "inquirer_overturned", NULL), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* The inquirer's notice is written in the review's transaction: when it
 * cannot be (the decision cannot be read), the outcome is not stored
 * and the subject not told either. */
Test(review, an_overturn_that_cannot_tell_writes_nothing)
{
    char *dir, id[32], *json = NULL;
    prb_env *env = declined(&dir, id);
    cr_assert_eq(prb_review_request(env, id, "wrong", NULL), PRB_OK, "%s", prb_errmsg(env));
    th_break_decision(env, 1, 1);
    char *s0 = state(env), *s;
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "R", "Changed.", &json), PRB_ECORRUPT,
                 "%s", prb_errmsg(env));
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "1-q1"), "%s", prb_errmsg(env));
    s = state(env);
    cr_assert_str_eq(s, s0, "a failed overturn changed the register");
    free(s);
    free(s0);
    prb_close(env);
    th_rmrf(dir);
}

/* The reviews survive closing and reopening the register. */
Test(review, durable)
{
    char *dir, id[32], *json, reg[600];
    prb_env *env = declined(&dir, id);
    cr_assert_eq(prb_review_request(env, id, "wrong", NULL), PRB_OK);
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK);
    cr_assert_eq(prb_reviews_json(env, 1, &json), PRB_OK);
    cr_assert(strstr(json, "\"1-r1\""), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* Points decision subject-qn's entry in the index of reviews at review
 * number rn of the subject, outside the engine; rn 0 deletes it. */
static void set_index(prb_env *env, uint64_t subject, uint32_t n, uint64_t rn)
{
    unsigned char k[12], v[8];
    MDB_txn *t;
    MDB_dbi rvq;
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(subject >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        k[8 + i] = (unsigned char)(n >> (24 - 8 * i));
    review_key(v, subject, rn);
    MDB_val mk = {12, k}, mv = {8, v};
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, "rvq", 0, &rvq), 0);
    cr_assert_eq(rn ? mdb_put(t, rvq, &mk, &mv, 0) : mdb_del(t, rvq, &mk, NULL), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
}

/* verify passes, or finds one problem, which what names. */
static void verified(prb_env *env, const char *what)
{
    struct th_buf rep = {0};
    prb_verify_stats st;
    int rc = prb_verify(env, th_collect, &rep, &st);
    if (!what) {
        cr_assert_eq(rc, PRB_OK, "%s: %.2000s", prb_errmsg(env), rep.p ? rep.p : "");
    } else {
        cr_assert_eq(rc, PRB_ECORRUPT, "not found: %s", what);
        cr_assert_eq(st.problems, 1, "%.2000s", rep.p);
        cr_assert(strstr(rep.p, what), "expected '%s' in: %.2000s", what, rep.p);
    }
    free(rep.p);
}

/* verify held reviews to their leaves but not the index of them by
 * decision (rvq): an entry removed let a decision be reviewed twice, and
 * one bent to another review, or to none, refused or allowed a request
 * for the wrong reason, and verify said ok. */
Test(review, verify_checks_the_index_of_reviews)
{
    char *dir, id[32];
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "one", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r1", "upheld", "A. Reviewer", "Unpaid.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "two", NULL), PRB_OK, "%s", prb_errmsg(env));
    verified(env, NULL);

    set_index(env, 1, 2, 0);
    verified(env, "review 1-r2: missing from the index of reviews by decision");
    set_index(env, 1, 2, 2);
    verified(env, NULL);

    set_index(env, 1, 1, 2);
    verified(env, "decision 1-q1: the index of reviews by decision leads to review 1-r2, which is "
                  "not a review of it");
    set_index(env, 1, 1, 1);

    set_index(env, 1, 3, 9);
    verified(env, "decision 1-q3: the index of reviews by decision leads to review 1-r9, which is "
                  "not stored");
    set_index(env, 1, 3, 0);
    verified(env, NULL);
    prb_close(env);
    th_rmrf(dir);
}

/* ---------------------------------------------------------------- CLI */

static void run(struct th_run *r, const char *dir, const char *args)
{
    th_cli(r, dir, NULL, NULL, args);
    cr_assert_neq(r->status, -2, "%s (make test sets it)", r->err);
}

Test(review, cli)
{
    char *dir, id[32];
    struct th_run r;
    prb_close(declined(&dir, id));
    run(&r, dir, "review request reg --decision 1-q1 --reason 'It was paid.' --as-of 2027-01-11");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"id\": \"1-r1\"") && strstr(r.out, "\"requested\": \"2027-01-11\""),
              "%s", r.out);
    run(&r, dir, "review request reg --decision 1-q1 --reason again --as-of 2027-01-11");
    cr_assert_eq(r.status, prb_exit_status(PRB_EEXIST), "%s", r.err);
    cr_assert(strstr(r.err, "already under review"), "%s", r.err);
    run(&r, dir, "review request reg --decision 1-q5 --reason x");
    cr_assert_eq(r.status, prb_exit_status(PRB_ENOTFOUND), "%s", r.err);
    run(&r, dir, "review list reg --pending");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"1-r1\""), "%s", r.out);
    run(&r, dir, "review decide reg --id 1-r1 --outcome upheld --note 'It stands.'");
    cr_assert_eq(r.status, 2, "no reviewer: usage");
    run(&r, dir,
        "review decide reg --id 1-r1 --outcome upheld --reviewer 'A. Reviewer' --note 'It "
        "stands.' --as-of 2027-01-15");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"state\": \"upheld\"") &&
                  strstr(r.out, "\"decided\": \"2027-01-15\""),
              "%s", r.out);
    run(&r, dir, "review list reg --pending");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "[]\n");
    run(&r, dir, "review list reg");
    cr_assert(strstr(r.out, "\"upheld\""), "%s", r.out);
    run(&r, dir, "review list reg --limit 1");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"1-r1\"") && !strstr(r.err, "more"), "%s", r.err);
    run(&r, dir, "review list reg --limit x");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--limit 'x' is not a count"), "%s", r.err);
    run(&r, dir, "review frobnicate reg");
    cr_assert_eq(r.status, 2);
    th_rmrf(dir);
}

/* probity notices --recipient: the notices to one inquirer, as the API
 * shows them, paged with --after and --limit like the other listings. */
Test(review, cli_notices_to_a_recipient)
{
    char *dir, id[32];
    struct th_run r;
    prb_env *env = declined(&dir, id);
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
    cr_assert_eq(prb_review_request(env, "1-q1", "Paid.", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_request(env, "1-q2", "Paid.", NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r1", "overturned", "A. Reviewer", "Paid.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    cr_assert_eq(prb_review_decide(env, "1-r2", "overturned", "A. Reviewer", "Paid.", NULL), PRB_OK,
                 "%s", prb_errmsg(env));
    prb_close(env);
    run(&r, dir, "notices reg --recipient bank-x");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"inquirer_overturned\"") &&
                  strstr(r.out, "\"recipient\": \"bank-x\""),
              "%s", r.out);
    cr_assert(!strstr(r.out, "review_outcome") && !strstr(r.out, "\"subject\""), "%s", r.out);
    run(&r, dir, "notices reg --recipient bank-z --pending");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "[]\n");
    /* A page of one, the next said on standard error; the last says
     * nothing. */
    run(&r, dir, "notices reg --recipient bank-x --limit 1");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"about\": \"1-q1\"") && !strstr(r.out, "1-q2"), "%s", r.out);
    const char *more = strstr(r.err, "more notices follow: --after ");
    cr_assert_not_null(more, "%s", r.err);
    char args[128];
    snprintf(args, sizeof args, "notices reg --recipient bank-x --limit 1 --after %llu",
             strtoull(more + strlen("more notices follow: --after "), NULL, 10));
    run(&r, dir, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"about\": \"1-q2\""), "%s", r.out);
    cr_assert_str_empty(r.err);
    run(&r, dir, "notices reg --limit 1");
    cr_assert_eq(r.status, 2, "--limit without --recipient: %s", r.err);
    run(&r, dir, "notices reg --recipient bank-x --deliver");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--recipient NAME"), "%s", r.err);
    run(&r, dir, "notices reg --recipient ''");
    cr_assert_eq(r.status, prb_exit_status(PRB_EINVAL), "%s", r.err);
    th_rmrf(dir);
}
