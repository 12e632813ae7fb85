/*
 * test_idem.c - idempotency keys of inquiries (src/lib/idem.c): the same
 * inquiry sent again under the same key is answered the decision stored
 * the first time and stores nothing, whether the first was committed
 * earlier or earlier in the same batch; a key belongs to its requester;
 * the same key for another inquiry is refused; a key is kept 24 hours,
 * durably, and the sweep lets it go; every write is in the audit log.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"
#include "tamper.h"

TestSuite(idem, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"
#define OTHER "cn-rid:110105198001010016"

static prb_env *setup(char **dir)
{
    char buf[1024];
    prb_ingest_stats st;
    prb_env *env = th_register(dir);
    cr_assert_eq(th_ingest(env, "t", th_account(buf, sizeof buf, PERSON, "A-1"), PRB_FMT_NDJSON, 0,
                           &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(th_ingest(env, "t", th_account(buf, sizeof buf, OTHER, "B-1"), PRB_FMT_NDJSON, 0,
                           &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    return env;
}

static void ask(prb_inquiry *q, const char *who, const char *requester, const char *idem)
{
    memset(q, 0, sizeof *q);
    q->purpose = "credit";
    q->identifier = who;
    q->requester = requester;
    q->idem = idem;
}

/* The answer q got: its replay, or its decision's compact JSON. */
static char *answer(prb_inquiry *q)
{
    const char *j;
    cr_assert_eq(q->rc, PRB_OK, "%s", q->errmsg);
    if (q->replay)
        return strdup(q->replay);
    cr_assert_eq(prb_decision_json_compact(q->decision, &j), PRB_OK);
    return strdup(j);
}

static void done(prb_inquiry *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        prb_decision_free(q[i].decision);
        free(q[i].replay);
    }
}

static uint64_t tree_size(prb_env *env)
{
    char *json;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(o, "tree_size"));
    json_decref(o);
    return n;
}

static void verified(prb_env *env)
{
    prb_verify_stats st;
    cr_assert_eq(prb_verify(env, NULL, NULL, &st), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.problems, 0);
}

Test(idem, sent_again_is_answered_again_and_stored_once)
{
    char *dir, *json;
    prb_env *env = setup(&dir);
    prb_inquiry q[4];
    th_set_day(env, "2026-12-01");
    ask(&q[0], PERSON, "bank-x", "order-17");
    cr_assert_eq(prb_decide_many(env, q, 1), PRB_OK);
    cr_assert_null(q[0].replay, "a new key is no replay");
    char *first = answer(&q[0]);
    cr_assert_eq(th_ninquiries(env, PERSON), 1);
    /* Later, on another day: the same decision, nothing stored. */
    th_set_day(env, "2026-12-01");
    prb_set_now(env, prb_now(env) + 3600);
    ask(&q[1], PERSON, "bank-x", "order-17");
    cr_assert_eq(prb_decide_many(env, &q[1], 1), PRB_OK);
    cr_assert_not_null(q[1].replay);
    cr_assert_str_eq(q[1].replay, first);
    cr_assert_eq(th_ninquiries(env, PERSON), 1, "a request sent again was stored again");
    cr_assert_eq(prb_idem_get(env, "bank-x", "order-17", "credit", PERSON, &json), PRB_OK);
    cr_assert_str_eq(json, first);
    free(json);
    /* The same key for another subject is refused; another requester's
     * key of the same name is its own. */
    ask(&q[2], OTHER, "bank-x", "order-17");
    ask(&q[3], PERSON, "bank-y", "order-17");
    cr_assert_eq(prb_decide_many(env, &q[2], 2), PRB_OK);
    cr_assert_eq(q[2].rc, PRB_EEXIST);
    cr_assert(strstr(q[2].errmsg, "'order-17' was given to an inquiry of another purpose or "
                                  "subject"),
              "%s", q[2].errmsg);
    cr_assert(!strstr(q[2].errmsg, PERSON), "the refusal names the other subject: %s", q[2].errmsg);
    cr_assert_eq(prb_idem_get(env, "bank-x", "order-17", "tenancy", PERSON, &json), PRB_EEXIST);
    cr_assert_null(json);
    cr_assert_eq(q[3].rc, PRB_OK, "%s", q[3].errmsg);
    cr_assert_null(q[3].replay);
    cr_assert_eq(th_ninquiries(env, PERSON), 2);
    cr_assert_eq(th_ninquiries(env, OTHER), 0);
    cr_assert_eq(prb_idem_get(env, "bank-x", "order-18", "credit", PERSON, &json), PRB_ENOTFOUND);
    verified(env);
    free(first);
    done(q, 4);
    prb_close(env);
    th_rmrf(dir);
}

/* Two requests under one key in one batch (sent at once): the first is
 * stored, the second answered it. */
Test(idem, twice_in_one_batch)
{
    char *dir;
    prb_env *env = setup(&dir);
    prb_inquiry q[3];
    ask(&q[0], PERSON, "bank-x", "k");
    ask(&q[1], OTHER, "bank-x", NULL);
    ask(&q[2], PERSON, "bank-x", "k");
    cr_assert_eq(prb_decide_many(env, q, 3), PRB_OK);
    char *a = answer(&q[0]), *c = answer(&q[2]);
    cr_assert_null(q[0].replay);
    cr_assert_not_null(q[2].replay);
    cr_assert_str_eq(c, a);
    cr_assert_eq(th_ninquiries(env, PERSON), 1);
    cr_assert_eq(th_ninquiries(env, OTHER), 1);
    free(a);
    free(c);
    done(q, 3);
    prb_close(env);
    th_rmrf(dir);
}

/* A key is kept durably for 24 hours: after a reopen it still answers;
 * past 24 hours the same request is a new inquiry, and the sweep lets
 * the old entry go, logged. Malformed keys are refused. */
Test(idem, kept_24_hours)
{
    char *dir, reg[600], *json;
    prb_env *env = setup(&dir);
    prb_inquiry q;
    uint64_t n, before, after;
    th_set_day(env, "2026-12-01");
    int64_t t0 = prb_now(env);
    ask(&q, PERSON, "bank-x", "k-1");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    char *first = answer(&q);
    done(&q, 1);
    prb_close(env);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_open(reg, &env), PRB_OK);
    prb_set_now(env, t0 + PRB_IDEM_SECONDS - 1);
    cr_assert_eq(prb_idem_get(env, "bank-x", "k-1", "credit", PERSON, &json), PRB_OK);
    cr_assert_str_eq(json, first);
    free(json);
    cr_assert_eq(prb_idem_expire(env, &n), PRB_OK);
    cr_assert_eq(n, 0, "a key under 24 hours old was let go");
    prb_set_now(env, t0 + PRB_IDEM_SECONDS);
    cr_assert_eq(prb_idem_get(env, "bank-x", "k-1", "credit", PERSON, &json), PRB_ENOTFOUND);
    /* A key past 24 hours used again before the sweep came: a new
     * inquiry, and the old entry's end is logged as the sweep would log
     * it (one leaf more than a key never used). */
    before = tree_size(env);
    ask(&q, OTHER, "bank-x", "k-0");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    done(&q, 1);
    after = tree_size(env);
    ask(&q, PERSON, "bank-x", "k-1");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    cr_assert_null(q.replay, "a key past 24 hours was replayed");
    cr_assert_eq(th_ninquiries(env, PERSON), 2);
    cr_assert_eq(tree_size(env) - after, after - before + 1,
                 "the replaced entry's end is not logged");
    done(&q, 1);
    /* The new entry replaced the old; a day later the sweep lets it go. */
    prb_set_now(env, t0 + 2 * PRB_IDEM_SECONDS + 1);
    before = tree_size(env);
    cr_assert_eq(prb_idem_expire(env, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(n, 2);
    after = tree_size(env);
    cr_assert_eq(after, before + 2, "the deletions were not logged");
    cr_assert_eq(prb_idem_expire(env, &n), PRB_OK);
    cr_assert_eq(n, 0);
    verified(env);
    /* Malformed keys. */
    cr_assert_eq(prb_idem_check(""), PRB_EINVAL);
    cr_assert_eq(prb_idem_check("tab\there"), PRB_EINVAL);
    cr_assert_eq(prb_idem_check("caf\xc3\xa9"), PRB_EINVAL);
    char longkey[PRB_IDEM_KEY_MAX + 2];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    cr_assert_eq(prb_idem_check(longkey), PRB_EINVAL);
    longkey[PRB_IDEM_KEY_MAX] = 0;
    cr_assert_eq(prb_idem_check(longkey), PRB_OK);
    ask(&q, PERSON, "bank-x", "");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    cr_assert_eq(q.rc, PRB_EINVAL);
    cr_assert_eq(th_ninquiries(env, PERSON), 2, "a malformed key stored its inquiry");
    done(&q, 1);
    free(first);
    prb_close(env);
    th_rmrf(dir);
}

/* More keys than one sweep transaction takes: all are let go, over
 * several transactions, and only those past 24 hours. */
Test(idem, expire_in_batches)
{
    enum { N = 2100 };
    char *dir, (*keys)[16] = calloc(N + 1, 16);
    prb_env *env = setup(&dir);
    prb_inquiry *q = calloc(N, sizeof *q);
    uint64_t n;
    cr_assert(keys && q);
    th_set_day(env, "2026-12-01");
    int64_t t0 = prb_now(env);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 16, "k%d", i);
        ask(&q[i], i % 2 ? PERSON : OTHER, "bank-x", keys[i]);
    }
    /* In batches of 100, as a server's are (each new decision handle
     * holds a reader of the inquiry index until it is freed). */
    for (int i = 0; i < N - 1; i += 100) {
        size_t m = N - 1 - i < 100 ? (size_t)(N - 1 - i) : 100;
        cr_assert_eq(prb_decide_many(env, q + i, m), PRB_OK, "%s", prb_errmsg(env));
        for (size_t j = 0; j < m; j++)
            cr_assert_eq(q[i + j].rc, PRB_OK, "%s", q[i + j].errmsg);
        done(q + i, m);
    }
    /* One more an hour later: it stays. */
    prb_set_now(env, t0 + 3600);
    ask(&q[N - 1], PERSON, "bank-x", keys[N - 1]);
    cr_assert_eq(prb_decide_many(env, &q[N - 1], 1), PRB_OK);
    cr_assert_eq(q[N - 1].rc, PRB_OK, "%s", q[N - 1].errmsg);
    done(&q[N - 1], 1);
    uint64_t before = tree_size(env);
    prb_set_now(env, t0 + PRB_IDEM_SECONDS + 1);
    cr_assert_eq(prb_idem_expire(env, &n), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(n, N - 1);
    cr_assert_eq(tree_size(env), before + N - 1, "each deletion is a leaf");
    char *json;
    cr_assert_eq(prb_idem_get(env, "bank-x", keys[0], "credit", OTHER, &json), PRB_ENOTFOUND);
    cr_assert_eq(prb_idem_get(env, "bank-x", keys[N - 1], "credit", PERSON, &json), PRB_OK);
    free(json);
    cr_assert_eq(prb_idem_count(env, &n), PRB_OK);
    cr_assert_eq(n, 1);
    prb_set_now(env, t0 + PRB_IDEM_SECONDS + 3601);
    cr_assert_eq(prb_idem_expire(env, &n), PRB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(prb_idem_count(env, &n), PRB_OK);
    cr_assert_eq(n, 0);
    verified(env);
    free(q);
    free(keys);
    prb_close(env);
    th_rmrf(dir);
}

/* verify fails, and its report holds each of the n phrases. */
static void verify_finds(prb_env *env, size_t n, const char *const *phrases)
{
    prb_verify_stats st;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &st), PRB_ECORRUPT, "tampering not detected");
    for (size_t i = 0; i < n; i++)
        cr_assert(strstr(rep.p, phrases[i]), "no '%s' in: %.2000s", phrases[i], rep.p);
    free(rep.p);
}

/* A kept decision edited behind the engine's back is answered to the next
 * request under its key; one removed lets the request store again. The
 * log holds each entry's hash, and verify said ok. */
Test(idem, verify_names_a_kept_decision_altered_or_removed)
{
    char *dir;
    prb_env *env = setup(&dir);
    prb_inquiry q;
    th_set_day(env, "2026-12-01");
    ask(&q, PERSON, "bank-x", "order-17");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    char *first = answer(&q);
    done(&q, 1);
    verified(env);
    cr_assert(th_bend_value(env, "idem", "\"approve\"", "\"decline\"") ||
              th_bend_value(env, "idem", "\"decline\"", "\"approve\""));
    ask(&q, PERSON, "bank-x", "order-17");
    cr_assert_eq(prb_decide_many(env, &q, 1), PRB_OK);
    char *again = answer(&q);
    cr_assert_str_neq(again, first, "the edit did not reach the replay");
    done(&q, 1);
    verify_finds(env, 2,
                 (const char *const[]){"idempotency key 'order-17' of bank-x: not what any leaf "
                                       "logged",
                                       "the idempotency key kept at leaf"});
    th_drop_first(env, "idem");
    verify_finds(env, 1, (const char *const[]){"the idempotency key kept at leaf"});
    free(first);
    free(again);
    prb_close(env);
    th_rmrf(dir);
}
