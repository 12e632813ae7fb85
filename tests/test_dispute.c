/*
 * test_dispute.c - DESIGN invariant 5 (disputes suspend): a disputed
 * record is used by nothing until resolved, each outcome does what it
 * says, a dispute left unanswered past its deadline deletes the record at
 * the sweep, a furnisher's correction resolves it, and bad requests change
 * nothing. Also the notice a retention deletion of an adverse record
 * sends (issue 4, item 1), and the CLI round trip.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"
#include "tamper.h"

TestSuite(dispute, .timeout = 120);

#define ANNA "cn-rid:11010519491231002X"
#define BORIS "cn-rid:110105198001010016"

static int32_t day(const char *s)
{
    int32_t d;
    cr_assert_eq(prb_date_parse(s, strlen(s), &d), PRB_OK);
    return d;
}

static void set_day(prb_env *env, const char *s)
{
    prb_set_now(env, (int64_t)day(s) * 86400);
}

/* A payment default of who, reported by bank-a under ref. */
static char *pd_line(char *buf, size_t n, const char *who, const char *ref, const char *amount)
{
    snprintf(buf, n,
             "{\"furnisher\":\"bank-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"%s\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
             "\"2026-10-01\",\"legal_basis\":\"loan contract\",\"fields\":{\"amount\":\"%s\","
             "\"currency\":\"EUR\"}}\n",
             ref, who, amount);
    return buf;
}

static void ingest_pd(prb_env *env, const char *who, const char *ref, const char *amount,
                      prb_ingest_stats *st)
{
    char line[1024];
    prb_ingest_stats tmp;
    cr_assert_eq(th_ingest(env, ref, pd_line(line, sizeof line, who, ref, amount), PRB_FMT_NDJSON,
                           0, st ? st : &tmp, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
}

/* The record id ("S-N") of who's record with ref, as the file shows it;
 * "" if the file has none. */
static const char *rid_of(prb_env *env, const char *who, const char *ref, char *out, size_t n)
{
    prb_file *f = NULL;
    *out = 0;
    cr_assert_eq(prb_subject_read(env, who, &f), PRB_OK, "%s", prb_errmsg(env));
    for (size_t i = 0; i < prb_file_nrecords(f); i++) {
        const prb_record_view *rv = prb_file_record(f, i);
        if (!strcmp(rv->ref, ref))
            snprintf(out, n, "%llu-%llu", (unsigned long long)(rv->id >> 24),
                     (unsigned long long)(rv->id & 0xffffff));
    }
    prb_file_free(f);
    return out;
}

/* The current view of who's record with ref, copied out; 0 if none. */
static int view_of(prb_env *env, const char *who, const char *ref, prb_record_view *out)
{
    prb_file *f = NULL;
    int found = 0;
    cr_assert_eq(prb_subject_read(env, who, &f), PRB_OK, "%s", prb_errmsg(env));
    for (size_t i = 0; i < prb_file_nrecords(f); i++)
        if (!strcmp(prb_file_record(f, i)->ref, ref)) {
            *out = *prb_file_record(f, i);
            out->furnisher = out->ref = out->category = out->legal_basis = NULL;
            out->fields = NULL;
            found = 1;
        }
    prb_file_free(f);
    return found;
}

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    cr_assert_not_null(j, "not JSON (%s): %s", e.text, s);
    return j;
}

static const char *field(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(null)";
}

/* Opens a dispute and returns its id; *out (may be NULL) gets its JSON. */
static uint64_t open_dispute(prb_env *env, const char *who, const char *rid, const char *reason,
                             json_t **out)
{
    char *json = NULL;
    cr_assert_eq(prb_dispute_open(env, who, rid, reason, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *d = parse(json);
    free(json);
    cr_assert_str_eq(field(d, "state"), "open");
    uint64_t id = strtoull(field(d, "id"), NULL, 10);
    if (out)
        *out = d;
    else
        json_decref(d);
    return id;
}

/* The stored dispute id, as prb_disputes_json lists it. */
static json_t *dispute(prb_env *env, uint64_t id)
{
    char *json = NULL, want[24];
    json_t *found = NULL;
    snprintf(want, sizeof want, "%llu", (unsigned long long)id);
    cr_assert_eq(prb_disputes_json(env, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(field(json_array_get(arr, i), "id"), want))
            found = json_incref(json_array_get(arr, i));
    json_decref(arr);
    cr_assert_not_null(found, "dispute %s is not listed", want);
    return found;
}

static size_t ndisputes(prb_env *env, int open_only)
{
    char *json = NULL;
    cr_assert_eq(prb_disputes_json(env, open_only, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    size_t n = json_array_size(arr);
    json_decref(arr);
    return n;
}

/* How many notices of kind are in the outbox (about, if not NULL). */
static size_t nnotices(prb_env *env, const char *kind, const char *about)
{
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        if (!strcmp(field(o, "kind"), kind) && (!about || !strcmp(field(o, "about"), about)))
            n++;
    }
    json_decref(arr);
    return n;
}

/* Resolved by by (a role); a furnisher's resolution names its key. */
static char *resolve(prb_env *env, uint64_t id, const char *outcome, const char *note,
                     const char *by)
{
    char *json = NULL;
    const char *resolver = by && !strcmp(by, "furnisher") ? "bank-a disputes desk" : NULL;
    cr_assert_eq(prb_dispute_resolve(env, id, outcome, note, by, resolver, &json), PRB_OK, "%s",
                 prb_errmsg(env));
    return json;
}

Test(dispute, open_list_and_resolve_each_outcome)
{
    char *dir, r1[48], r2[48], r3[48], id3[24];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_record_view rv;
    uint64_t versions_before, versions_after;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-2", "200.00", NULL);
    ingest_pd(env, ANNA, "L-3", "300.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    rid_of(env, ANNA, "L-2", r2, sizeof r2);
    rid_of(env, ANNA, "L-3", r3, sizeof r3);

    json_t *d1;
    uint64_t a = open_dispute(env, ANNA, r1, "I paid this in full in September.", &d1);
    uint64_t b = open_dispute(env, ANNA, r2, "Not my loan.", NULL);
    uint64_t c = open_dispute(env, ANNA, r3, "The amount is wrong.", NULL);
    cr_assert(a && b == a + 1 && c == b + 1, "disputes are numbered per subject");
    cr_assert_str_eq(field(d1, "subject"), ANNA);
    cr_assert_str_eq(field(d1, "record"), r1);
    cr_assert_str_eq(field(d1, "reason"), "I paid this in full in September.");
    cr_assert_str_eq(field(d1, "opened"), TH_TODAY);
    cr_assert_str_eq(field(d1, "deadline"), "2026-12-25", "30 days, the default policy's");
    cr_assert(json_is_null(json_object_get(d1, "resolved")));
    cr_assert(json_is_null(json_object_get(d1, "resolved_by")));
    cr_assert(json_is_null(json_object_get(d1, "resolver")));
    json_decref(d1);
    cr_assert_eq(ndisputes(env, 1), 3);
    cr_assert_eq(nnotices(env, "dispute_opened", NULL), 3);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed && !rv.usable);

    /* Upheld: the record stands and is no longer disputed. */
    char *json = resolve(env, a, "upheld", "the bank's ledger shows no payment", "furnisher");
    json_t *o = parse(json);
    free(json);
    cr_assert_str_eq(field(o, "state"), "upheld");
    cr_assert_str_eq(field(o, "resolved"), TH_TODAY);
    cr_assert_str_eq(field(o, "resolved_by"), "furnisher");
    cr_assert_str_eq(field(o, "resolver"), "bank-a disputes desk", "who, not only the role");
    cr_assert_str_eq(field(o, "note"), "the bank's ledger shows no payment");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && !rv.disputed, "an upheld record is not disputed");

    /* Upheld by a reviewer, no note given (null). ("corrected" comes
     * only with the furnisher's corrected version: see below.) */
    o = parse(json = resolve(env, b, "upheld", NULL, NULL));
    free(json);
    cr_assert_str_eq(field(o, "state"), "upheld");
    cr_assert_str_eq(field(o, "resolved_by"), "reviewer");
    cr_assert(json_is_null(json_object_get(o, "resolver")), "none given");
    cr_assert(json_is_null(json_object_get(o, "note")));
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-2", &rv) && !rv.disputed);

    /* Deleted: every version and the index entry go. */
    cr_assert_eq(prb_count(env, NULL, &versions_before), PRB_OK);
    free(resolve(env, c, "deleted", "", NULL));
    cr_assert_eq(prb_count(env, NULL, &versions_after), PRB_OK);
    cr_assert_eq(versions_after, versions_before - 1);
    cr_assert_not(view_of(env, ANNA, "L-3", &rv), "a deleted record is still in the file");
    ingest_pd(env, ANNA, "L-3", "300.00", &st);
    cr_assert_eq(st.accepted, 1, "the deleted record's (furnisher, ref) entry is still there");

    cr_assert_eq(ndisputes(env, 1), 0);
    cr_assert_eq(ndisputes(env, 0), 3);
    snprintf(id3, sizeof id3, "%llu", (unsigned long long)c);
    cr_assert_eq(nnotices(env, "dispute_outcome", NULL), 3);
    cr_assert_eq(nnotices(env, "dispute_outcome", id3), 1);
    o = dispute(env, c);
    cr_assert_str_eq(field(o, "state"), "deleted");
    cr_assert(json_is_null(json_object_get(o, "note")), "an empty note is no note");
    json_decref(o);
    prb_close(env);
    th_rmrf(dir);
}

/* The ids of a page of disputes, appended to ids (n of them so far). */
static size_t page_ids(prb_env *env, const char *furnisher, int open_only, uint64_t after,
                       size_t limit, uint64_t *next, uint64_t *ids, size_t n)
{
    char *json = NULL;
    int rc = furnisher
                 ? prb_disputes_furnisher_page(env, furnisher, open_only, after, limit, &json, next)
                 : prb_disputes_page(env, open_only, after, limit, &json, next);
    cr_assert_eq(rc, PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    cr_assert(json_is_array(arr));
    cr_assert_leq(json_array_size(arr), limit ? limit : SIZE_MAX);
    for (size_t i = 0; i < json_array_size(arr); i++)
        ids[n++] = strtoull(field(json_array_get(arr, i), "id"), NULL, 10);
    json_decref(arr);
    return n;
}

/* Every dispute, one page of limit after another, as a client pages. */
static size_t all_pages(prb_env *env, const char *furnisher, int open_only, size_t limit,
                        uint64_t *ids, size_t *npages)
{
    uint64_t after = 0, next;
    size_t n = 0;
    *npages = 0;
    do {
        size_t before = n;
        n = page_ids(env, furnisher, open_only, after, limit, &next, ids, n);
        ++*npages;
        cr_assert(!next || n - before == limit, "a page short of its limit says there is more");
        cr_assert(!next || next == ids[n - 1], "next is the last id of the page");
        cr_assert_lt(*npages, 20);
        after = next;
    } while (next);
    return n;
}

static int ids_equal(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    return na == nb && !memcmp(a, b, na * sizeof *a);
}

Test(dispute, pages_neither_repeat_nor_skip)
{
    char *dir, rid[48], ref[16], line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    uint64_t full[8], paged[8], open[8], next;
    size_t nfull, npaged, nopen, npages;
    /* Three disputes of Anna's, two of Boris's: two subjects' key ranges.
     * Boris's second record is bank-b's. */
    for (int i = 0; i < 5; i++) {
        const char *who = i < 3 ? ANNA : BORIS;
        snprintf(ref, sizeof ref, "P-%d", i);
        pd_line(line, sizeof line, who, ref, "10.00");
        if (i == 4)
            memcpy(strstr(line, "bank-a"), "bank-b", 6);
        cr_assert_eq(th_ingest(env, ref, line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                     prb_errmsg(env));
        open_dispute(env, who, rid_of(env, who, ref, rid, sizeof rid), "Not mine.", NULL);
    }
    nfull = page_ids(env, NULL, 0, 0, 0, &next, full, 0);
    cr_assert_eq(nfull, 5);
    cr_assert_eq(next, 0, "a listing of everything has no next page");
    for (size_t i = 1; i < nfull; i++)
        cr_assert_lt(full[i - 1], full[i], "disputes are listed in id order");
    free(resolve(env, full[1], "upheld", "checked", NULL));

    /* Any page size gives the same disputes, each once, in order, and
     * the last page is never an empty one. */
    for (size_t limit = 1; limit <= 6; limit++) {
        npaged = all_pages(env, NULL, 0, limit, paged, &npages);
        cr_assert(ids_equal(paged, npaged, full, nfull), "pages of %zu differ from the whole",
                  limit);
        cr_assert_eq(npages, (nfull + limit - 1) / limit, "pages of %zu: %zu pages", limit, npages);
    }
    /* Open only: the upheld one is left out, and the pages fill. */
    nopen = all_pages(env, NULL, 1, 2, open, &npages);
    cr_assert_eq(nopen, 4);
    cr_assert_eq(npages, 2);
    cr_assert(open[0] == full[0] && open[1] == full[2] && open[2] == full[3] && open[3] == full[4]);
    /* A furnisher's: bank-b has only Boris's second; bank-a the rest. */
    nopen = all_pages(env, "bank-b", 0, 1, open, &npages);
    cr_assert(nopen == 1 && open[0] == full[4] && npages == 1);
    nopen = all_pages(env, "bank-a", 0, 3, open, &npages);
    cr_assert(ids_equal(open, nopen, full, 4) && npages == 2);
    /* Past the last id, or from the very end of the key space: nothing. */
    cr_assert_eq(page_ids(env, NULL, 0, full[4], 2, &next, paged, 0), 0);
    cr_assert_eq(next, 0);
    cr_assert_eq(page_ids(env, NULL, 0, UINT64_MAX, 2, &next, paged, 0), 0);
    cr_assert_eq(next, 0);
    /* From between two ids: the ones after. */
    cr_assert_eq(page_ids(env, NULL, 0, full[2] + 1, 0, &next, paged, 0), 2);
    cr_assert(paged[0] == full[3] && paged[1] == full[4]);
    /* A furnisher's page reads a bounded number of disputes, so bank-b's
     * listing is short pages that go on, not one read of the register;
     * paged through, it is the same. The record's furnisher is in the
     * dispute, which the filter reads. */
    json_t *o = dispute(env, full[4]);
    cr_assert_str_eq(field(o, "furnisher"), "bank-b");
    json_decref(o);
    size_t saved = prb_scan_max, pages = 0;
    prb_scan_max = 2;
    uint64_t after = 0;
    nopen = 0;
    do {
        nopen = page_ids(env, "bank-b", 0, after, 10, &next, open, nopen);
        pages++;
        after = next;
    } while (next && pages < 10);
    cr_assert_eq(pages, 3, "five disputes read two at a time: %zu pages", pages);
    cr_assert(nopen == 1 && open[0] == full[4]);
    /* So is a page of the open ones: it leaves out the resolved, which
     * could be all but a few of a million. */
    after = 0;
    pages = 0;
    nopen = 0;
    do {
        nopen = page_ids(env, NULL, 1, after, 10, &next, open, nopen);
        pages++;
        after = next;
    } while (next && pages < 10);
    cr_assert_eq(pages, 3, "open disputes read two at a time: %zu pages", pages);
    cr_assert(nopen == 4 && open[0] == full[0] && open[1] == full[2] && open[2] == full[3] &&
              open[3] == full[4]);
    /* The operator's whole listing (no limit) reads them all, as asked. */
    cr_assert_eq(page_ids(env, NULL, 1, 0, 0, &next, open, 0), 4);
    cr_assert_eq(next, 0);
    prb_scan_max = saved;
    prb_close(env);
    th_rmrf(dir);
}

Test(dispute, deadline_deletes_the_record_at_the_sweep)
{
    char *dir, r1[48], r2[48];
    prb_env *env = th_register(&dir);
    uint64_t deleted = 0, v0, v1;
    prb_record_view rv;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-1", "150.00", NULL); /* a second version */
    ingest_pd(env, ANNA, "L-2", "200.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    rid_of(env, ANNA, "L-2", r2, sizeof r2);
    uint64_t a = open_dispute(env, ANNA, r1, "Never borrowed from bank-a.", NULL);
    set_day(env, "2026-12-01");
    uint64_t b = open_dispute(env, ANNA, r2, "Paid.", NULL);
    cr_assert_eq(prb_count(env, NULL, &v0), PRB_OK);

    /* On the deadline day the furnisher may still answer: nothing happens. */
    set_day(env, "2026-12-25");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_count(env, NULL, &v1), PRB_OK);
    cr_assert_eq(v1, v0);
    cr_assert_eq(ndisputes(env, 1), 2);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed);

    /* The day after, the first dispute resolves in the subject's favour;
     * the second (opened later) is not due yet. */
    set_day(env, "2026-12-26");
    uint64_t disputed = 0;
    cr_assert_eq(prb_expire(env, &deleted, &disputed), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 0, "deadline deletions are not retention deletions");
    cr_assert_eq(disputed, 1, "the deadline deletion is not counted");
    cr_assert_eq(prb_count(env, NULL, &v1), PRB_OK);
    cr_assert_eq(v1, v0 - 2, "both versions of the record go");
    cr_assert_eq(prb_count_records(env, &v1), PRB_OK);
    cr_assert_eq(v1, 1, "the deleted record is still counted");
    cr_assert_not(view_of(env, ANNA, "L-1", &rv), "the record outlived its dispute's deadline");
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "deleted");
    cr_assert_str_eq(field(o, "resolved_by"), "deadline");
    cr_assert_str_eq(field(o, "resolved"), "2026-12-26");
    json_decref(o);
    o = dispute(env, b);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    char about[24];
    snprintf(about, sizeof about, "%llu", (unsigned long long)a);
    cr_assert_eq(nnotices(env, "dispute_outcome", about), 1);
    cr_assert(view_of(env, ANNA, "L-2", &rv) && rv.disputed);

    /* A sweep runs again harmlessly; the second falls due in turn. */
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK);
    cr_assert_eq(nnotices(env, "dispute_outcome", NULL), 1);
    set_day(env, "2027-01-01");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK);
    cr_assert_eq(ndisputes(env, 1), 0);
    cr_assert_not(view_of(env, ANNA, "L-2", &rv));
    prb_close(env);
    th_rmrf(dir);
}

/* Past its deadline an unanswered dispute has resolved in the subject's
 * favour, though the sweep has not come yet: the furnisher may no longer
 * uphold it, nor close it with a correction; "deleted" is still taken.
 * Before, either brought the record back into use until the sweep. */
Test(dispute, too_late_to_answer)
{
    char *dir, r1[48], *json = NULL;
    prb_env *env = th_register(&dir);
    uint64_t deleted = 0;
    prb_record_view rv;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-2", "200.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    uint64_t a = open_dispute(env, ANNA, r1, "Never borrowed from bank-a.", NULL);
    char r2[48];
    rid_of(env, ANNA, "L-2", r2, sizeof r2);
    uint64_t b = open_dispute(env, ANNA, r2, "Paid.", NULL);
    set_day(env, "2026-12-26"); /* the day after the deadline, before any sweep */
    cr_assert_eq(prb_dispute_resolve(env, a, "upheld", "it is right", "furnisher", NULL, &json),
                 PRB_EEXIST);
    cr_assert(strstr(prb_errmsg(env), "passed its deadline, 2026-12-25, unanswered"), "%s",
              prb_errmsg(env));
    cr_assert_null(json);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed, "the record is used again");
    /* A correction of L-2 is stored, but does not close its dispute. */
    ingest_pd(env, ANNA, "L-2", "250.00", NULL);
    json_t *o = dispute(env, b);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-2", &rv) && rv.disputed);
    cr_assert_eq(prb_dispute_resolve(env, a, "deleted", NULL, "reviewer", NULL, &json), PRB_OK,
                 "%s", prb_errmsg(env));
    free(json);
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_not(view_of(env, ANNA, "L-1", &rv));
    cr_assert_not(view_of(env, ANNA, "L-2", &rv), "a late correction kept the record");
    prb_close(env);
    th_rmrf(dir);
}

static void evaluate(prb_env *env, const char *purpose, int *outcome, double *score)
{
    prb_decision *d = NULL;
    int has;
    cr_assert_eq(prb_evaluate(env, purpose, ANNA, &d), PRB_OK, "%s", prb_errmsg(env));
    *outcome = prb_decision_outcome(d);
    *score = prb_decision_score(d, &has);
    cr_assert(has);
    prb_decision_free(d);
}

/* The tenancy scorecard takes 40 points for an unsettled payment default
 * and gives 40 without one: 520 (refer, below 560) against 600 (approve). */
Test(dispute, disputed_records_are_ignored_by_decisions)
{
    char *dir, r1[48], rj[48], *lists = NULL;
    prb_env *env = th_register(&dir);
    int outcome;
    double score;
    const char *judgment =
        "{\"furnisher\":\"court-x\",\"ref\":\"J-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" ANNA
        "\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":\"2026-10-15\","
        "\"legal_basis\":\"court order\",\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\","
        "\"court\":\"AG Mitte\",\"case_ref\":\"1 C 2/26\"}}";
    prb_ingest_stats st;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    set_day(env, "2027-01-05"); /* past the 28-day notice period */
    evaluate(env, "tenancy", &outcome, &score);
    cr_assert_eq(outcome, PRB_REFER);
    cr_assert_float_eq(score, 520, 1e-9);

    uint64_t id = open_dispute(env, ANNA, r1, "I settled this loan.", NULL);
    evaluate(env, "tenancy", &outcome, &score);
    cr_assert_eq(outcome, PRB_APPROVE, "a disputed default still counted");
    cr_assert_float_eq(score, 600, 1e-9);
    /* A stored decision and the credit purpose see the same. */
    prb_decision *d = NULL;
    const char *json;
    cr_assert_eq(prb_decide(env, "tenancy", ANNA, "landlord-a", &d), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_decision_outcome(d), PRB_APPROVE);
    cr_assert_eq(prb_decision_json(d, &json), PRB_OK);
    cr_assert_null(strstr(json, "D01"), "a disputed record gave a reason: %s", json);
    prb_decision_free(d);

    free(resolve(env, id, "upheld", "checked with the bank", "furnisher"));
    evaluate(env, "tenancy", &outcome, &score);
    cr_assert_eq(outcome, PRB_REFER, "an upheld record is used again");
    cr_assert_float_eq(score, 520, 1e-9);

    /* Lists too: a disputed judgment is no ground for the debtor register. */
    cr_assert_eq(th_ingest(env, "j", judgment, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    set_day(env, "2027-02-10");
    cr_assert_eq(prb_lists_refresh_all(env, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_lists_json(env, "debtor_register", &lists), PRB_OK);
    cr_assert(strstr(lists, ANNA), "the judgment did not list the subject: %s", lists);
    free(lists);
    rid_of(env, ANNA, "J-1", rj, sizeof rj);
    open_dispute(env, ANNA, rj, "The judgment was set aside on appeal.", NULL);
    cr_assert_eq(prb_lists_json(env, "debtor_register", &lists), PRB_OK);
    json_t *l = parse(lists);
    free(lists);
    const char *state = json_dumps(l, JSON_COMPACT);
    cr_assert(strstr(state, "\"state\":\"lifted\"") || strstr(state, "\"state\":\"withdrawn\""),
              "the entry still stands on a disputed judgment: %s", state);
    free((char *)state);
    json_decref(l);
    prb_close(env);
    th_rmrf(dir);
}

Test(dispute, a_furnisher_correction_resolves_as_corrected)
{
    char *dir, r1[48], r2[48];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_record_view rv;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-2", "200.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    rid_of(env, ANNA, "L-2", r2, sizeof r2);
    uint64_t a = open_dispute(env, ANNA, r1, "The amount is 10.00, not 100.00.", NULL);
    uint64_t b = open_dispute(env, ANNA, r2, "Paid.", NULL);

    /* Re-sent unchanged, or another record corrected: still open. */
    ingest_pd(env, ANNA, "L-1", "100.00", &st);
    cr_assert_eq(st.unchanged, 1);
    ingest_pd(env, BORIS, "L-9", "1.00", NULL);
    ingest_pd(env, BORIS, "L-9", "2.00", &st);
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(ndisputes(env, 1), 2);

    /* The same (furnisher, ref), changed: resolved in the same batch. */
    ingest_pd(env, ANNA, "L-1", "10.00", &st);
    cr_assert_eq(st.corrected, 1);
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "corrected");
    cr_assert_str_eq(field(o, "resolved_by"), "correction");
    cr_assert_str_eq(field(o, "resolved"), TH_TODAY);
    json_decref(o);
    o = dispute(env, b);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && !rv.disputed && rv.version == 2);
    cr_assert(view_of(env, ANNA, "L-2", &rv) && rv.disputed);
    char about[24];
    snprintf(about, sizeof about, "%llu", (unsigned long long)a);
    cr_assert_eq(nnotices(env, "dispute_outcome", about), 1);

    /* One batch corrects L-1 again (its dispute is over) and L-2 twice:
     * L-2's last line counts, and its dispute is resolved once. */
    char three[4096], line[1024];
    snprintf(three, sizeof three, "%s", pd_line(line, sizeof line, ANNA, "L-1", "11.00"));
    strncat(three, pd_line(line, sizeof line, ANNA, "L-2", "20.00"),
            sizeof three - strlen(three) - 1);
    strncat(three, pd_line(line, sizeof line, ANNA, "L-2", "21.00"),
            sizeof three - strlen(three) - 1);
    cr_assert_eq(th_ingest(env, "three", three, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 2);
    cr_assert_eq(st.superseded, 1);
    cr_assert(view_of(env, ANNA, "L-2", &rv) && rv.version == 2);
    o = dispute(env, b);
    cr_assert_str_eq(field(o, "resolved_by"), "correction");
    json_decref(o);
    cr_assert_eq(ndisputes(env, 1), 0);
    cr_assert_eq(nnotices(env, "dispute_outcome", NULL), 2);
    prb_close(env);
    th_rmrf(dir);
}

/* A batch that corrects a disputed record and then corrects it back to
 * what was disputed has not corrected it: the record is the one the
 * subject disputed, byte for byte, and stays unused while the dispute is
 * open (invariant 5). Each line was taken as a correction of the one
 * before it, and the first resolved the dispute as corrected. */
Test(dispute, a_correction_back_to_the_disputed_content_leaves_it_open)
{
    char *dir, r1[48], two[4096], line[1024], about[24];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_record_view rv;
    ingest_pd(env, ANNA, "L-1", "1.00", NULL);
    ingest_pd(env, ANNA, "L-1", "2.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    uint64_t a = open_dispute(env, ANNA, r1, "I owe nothing.", NULL);
    snprintf(about, sizeof about, "%llu", (unsigned long long)a);
    size_t notices = nnotices(env, "adverse_record", "bank-a/L-1");

    snprintf(two, sizeof two, "%s", pd_line(line, sizeof line, ANNA, "L-1", "2.01"));
    strncat(two, pd_line(line, sizeof line, ANNA, "L-1", "2.00"), sizeof two - strlen(two) - 1);
    cr_assert_eq(th_ingest(env, "two", two, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 0);
    cr_assert_eq(st.unchanged, 1);
    cr_assert_eq(st.superseded, 1);
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed && rv.version == 2);
    cr_assert_eq(nnotices(env, "dispute_outcome", about), 0);
    cr_assert_eq(nnotices(env, "adverse_record", "bank-a/L-1"), notices);

    /* The other way round, the batch corrects it: resolved. */
    snprintf(two, sizeof two, "%s", pd_line(line, sizeof line, ANNA, "L-1", "2.00"));
    strncat(two, pd_line(line, sizeof line, ANNA, "L-1", "2.01"), sizeof two - strlen(two) - 1);
    cr_assert_eq(th_ingest(env, "two", two, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(st.superseded, 1);
    o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "corrected");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && !rv.disputed && rv.version == 3);
    cr_assert_eq(nnotices(env, "adverse_record", "bank-a/L-1"), notices + 1);
    prb_close(env);
    th_rmrf(dir);
}

/* A batch reads the disputes of the subjects whose records it corrects,
 * not every dispute stored: it read them all, resolved ones too, inside
 * its write transaction, so a million resolved disputes held every POST
 * /v1/records, and every decision behind it, for a million reads. */
Test(dispute, a_batch_reads_only_the_disputes_of_its_subjects)
{
    enum { OTHERS = 40 };
    char *dir, r1[48], ref[16], who[32], line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    size_t cap = OTHERS * sizeof line, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (int i = 0; i < OTHERS; i++) {
        snprintf(who, sizeof who, "ext:bank-a:P%04d", i);
        snprintf(ref, sizeof ref, "O-%d", i);
        len += (size_t)snprintf(text + len, cap - len, "%s",
                                pd_line(line, sizeof line, who, ref, "10.00"));
    }
    cr_assert_eq(th_ingest(env, "others", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    free(text);
    /* Other subjects' disputes, all but the last resolved. */
    for (int i = 0; i < OTHERS; i++) {
        snprintf(who, sizeof who, "ext:bank-a:P%04d", i);
        snprintf(ref, sizeof ref, "O-%d", i);
        uint64_t id = open_dispute(env, who, rid_of(env, who, ref, r1, sizeof r1), "Paid.", NULL);
        if (i < OTHERS - 1)
            free(resolve(env, id, "upheld", NULL, NULL));
    }
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, BORIS, "L-9", "1.00", NULL);
    uint64_t a = open_dispute(env, ANNA, rid_of(env, ANNA, "L-1", r1, sizeof r1), "Wrong.", NULL);

    /* Boris has no dispute: his correction reads none. */
    uint64_t before = env->dsp_reads;
    ingest_pd(env, BORIS, "L-9", "2.00", &st);
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(env->dsp_reads - before, 0, "a correction of Boris read %llu disputes",
                 (unsigned long long)(env->dsp_reads - before));

    /* Anna has one: her correction reads it (a few times over: the batch,
     * the resolution, the file loads), never the others'. */
    before = env->dsp_reads;
    ingest_pd(env, ANNA, "L-1", "10.00", &st);
    cr_assert_eq(st.corrected, 1);
    cr_assert_leq(env->dsp_reads - before, 8, "a correction of Anna read %llu disputes",
                  (unsigned long long)(env->dsp_reads - before));
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "corrected");
    json_decref(o);
    cr_assert_eq(ndisputes(env, 1), 1, "another subject's dispute was resolved");
    prb_close(env);
    th_rmrf(dir);
}

/* The text of the notice of kind about about (the last, if several). */
static char *notice_text(prb_env *env, const char *kind, const char *about)
{
    char *json = NULL, *text = NULL;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json);
    free(json);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        if (!strcmp(field(o, "kind"), kind) && !strcmp(field(o, "about"), about)) {
            free(text);
            text = strdup(field(o, "text"));
        }
    }
    json_decref(arr);
    cr_assert_not_null(text, "no %s notice about %s", kind, about);
    return text;
}

/* A court judgment of who, ref, received on TH_TODAY: in effect from
 * 2026-12-25, after its 30 days' notice; status and settled as given. */
static void ingest_judgment(prb_env *env, const char *who, const char *ref, const char *amount,
                            const char *status, const char *settled)
{
    char line[1024];
    prb_ingest_stats st;
    snprintf(line, sizeof line,
             "{\"furnisher\":\"court-x\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"%s\"},\"category\":\"court_judgment\",\"status\":\"%s\",\"event_date\":"
             "\"2026-10-15\",\"settled_date\":%s,\"legal_basis\":\"court order\",\"fields\":{"
             "\"amount\":\"%s\",\"currency\":\"EUR\",\"court\":\"AG Mitte\",\"case_ref\":\"1 C "
             "2/26\"}}\n",
             ref, who, status, settled, amount);
    cr_assert_eq(th_ingest(env, ref, line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

/* The outcome notice of dispute id says it ended in outcome and that the
 * record says, and not "from now on" unless says does. */
static void expect_outcome(prb_env *env, uint64_t id, const char *outcome, const char *says)
{
    char about[32];
    snprintf(about, sizeof about, "%llu", (unsigned long long)id);
    char *text = notice_text(env, "dispute_outcome", about);
    cr_assert(strstr(text, outcome) && strstr(text, says) &&
                  (strstr(says, "from now on") || !strstr(text, "from now on")),
              "%s", text);
    free(text);
}

/* The outcome notice says when the record is used, from its dates: "used
 * from now on" was said of a judgment corrected, or upheld, while its
 * notice period still ran, beside the correction's own notice saying it
 * may not be used before its end, and of one whose correction settled it
 * and so ended its use. */
Test(dispute, the_outcome_says_when_the_record_is_used)
{
    char *dir, r[48], *text;
    prb_env *env = th_register(&dir);
    ingest_judgment(env, ANNA, "J-1", "500.00", "open", "null");
    ingest_judgment(env, ANNA, "J-2", "700.00", "open", "null");
    ingest_judgment(env, ANNA, "J-3", "900.00", "open", "null");
    ingest_pd(env, BORIS, "L-1", "100.00", NULL); /* in effect from 2026-12-23 */

    /* Disputed and corrected in the hearing. */
    set_day(env, "2026-11-30");
    uint64_t a = open_dispute(env, ANNA, rid_of(env, ANNA, "J-1", r, sizeof r), "Wrong.", NULL);
    uint64_t b = open_dispute(env, ANNA, rid_of(env, ANNA, "J-2", r, sizeof r), "Paid.", NULL);
    set_day(env, "2026-12-05");
    ingest_judgment(env, ANNA, "J-1", "50.00", "open", "null");
    text = notice_text(env, "adverse_record", "court-x/J-1");
    cr_assert(strstr(text, "It may not be used before 2026-12-25"), "%s", text);
    free(text);
    expect_outcome(env, a, "corrected", "may be used from 2026-12-25");

    /* Upheld in the hearing. */
    free(resolve(env, b, "upheld", NULL, NULL));
    expect_outcome(env, b, "upheld", "may be used from 2026-12-25");

    /* In effect, disputed, then corrected as paid: kept 0 days after,
     * it is no longer used. */
    set_day(env, "2027-01-02");
    uint64_t c = open_dispute(env, ANNA, rid_of(env, ANNA, "J-3", r, sizeof r), "Paid.", NULL);
    set_day(env, "2027-01-05");
    ingest_judgment(env, ANNA, "J-3", "900.00", "settled", "\"2027-01-05\"");
    text = notice_text(env, "adverse_record", "court-x/J-3");
    cr_assert(strstr(text, "no longer used"), "%s", text);
    free(text);
    expect_outcome(env, c, "corrected", "no longer used");

    /* Upheld once in effect: used again from now on. */
    set_day(env, "2027-01-10");
    uint64_t d = open_dispute(env, BORIS, rid_of(env, BORIS, "L-1", r, sizeof r), "No.", NULL);
    free(resolve(env, d, "upheld", NULL, NULL));
    expect_outcome(env, d, "upheld", "used again from now on");
    prb_close(env);
    th_rmrf(dir);
}

/* A correction that comes after the deadline of the record's open
 * dispute, before the sweep has come, does not answer it: the dispute has
 * resolved in the subject's favour, and the sweep deletes the record with
 * its correction (too_late_to_answer). The correction's notice says so;
 * it told the subject the record "is used as corrected from now on". */
Test(dispute, a_correction_past_the_deadline_says_the_record_is_deleted)
{
    char *dir, r1[48], *text;
    prb_env *env = th_register(&dir);
    prb_record_view rv;
    uint64_t deleted;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL); /* in effect from 2026-12-23 */
    uint64_t a = open_dispute(env, ANNA, rid_of(env, ANNA, "L-1", r1, sizeof r1), "Paid.", NULL);
    set_day(env, "2026-12-26"); /* the deadline, 2026-12-25, has passed; no sweep yet */
    ingest_pd(env, ANNA, "L-1", "150.00", NULL);
    text = notice_text(env, "adverse_record", "bank-a/L-1");
    cr_assert(strstr(text, "corrected its record") && !strstr(text, "used as corrected") &&
                  strstr(text, "after the deadline of your dispute, 2026-12-25") &&
                  strstr(text, "the record is deleted"),
              "%s", text);
    free(text);
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_not(view_of(env, ANNA, "L-1", &rv), "the record outlived its dispute's deadline");
    prb_close(env);
    th_rmrf(dir);
}

/* What a bad request must leave as it was: disputes, notices, records. */
static char *snapshot(prb_env *env)
{
    char *d = NULL, *n = NULL, *out = NULL;
    uint64_t s = 0, v = 0;
    cr_assert_eq(prb_disputes_json(env, 0, &d), PRB_OK);
    cr_assert_eq(prb_notices_json(env, 0, &n), PRB_OK);
    cr_assert_eq(prb_count(env, &s, &v), PRB_OK);
    cr_assert(asprintf(&out, "%s\n%s\n%llu %llu", d, n, (unsigned long long)s,
                       (unsigned long long)v) > 0);
    free(d);
    free(n);
    return out;
}

static void refused(prb_env *env, int rc, int want, const char *says)
{
    cr_assert_eq(rc, want, "got %s (%s), wanted %s", prb_errname(rc), prb_errmsg(env),
                 prb_errname(want));
    cr_assert(strstr(prb_errmsg(env), says), "message '%s' does not say '%s'", prb_errmsg(env),
              says);
}

/* Asserts that the register is as snapshot before was, and frees it. */
static void unchanged(prb_env *env, char *before)
{
    char *after = snapshot(env);
    cr_assert_str_eq(after, before, "a refused request changed the register");
    free(before);
    free(after);
}

Test(dispute, bad_requests_give_clear_errors_and_change_nothing)
{
    char *dir, r1[48], rb[48], *json = (char *)"untouched", big[2100];
    prb_env *env = th_register(&dir);
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, BORIS, "L-2", "100.00", NULL);
    ingest_pd(env, ANNA, "L-3", "1.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    rid_of(env, BORIS, "L-2", rb, sizeof rb);
    uint64_t id = open_dispute(env, ANNA, r1, "Paid.", NULL);
    free(resolve(env, id, "upheld", NULL, NULL));
    uint64_t open_id = open_dispute(env, ANNA, r1, "Paid, really.", NULL);
    char *before = snapshot(env);

    refused(env, prb_dispute_open(env, ANNA, "1-99", "x", &json), PRB_ENOTFOUND, "no record 1-99");
    cr_assert_null(json, "*json is set to NULL on failure");
    refused(env, prb_dispute_open(env, ANNA, rb, "x", NULL), PRB_ENOTFOUND, "has no record");
    refused(env, prb_dispute_open(env, "cn-rid:11010519491231002X", "nonsense", "x", NULL),
            PRB_EINVAL, "not a record id");
    refused(env, prb_dispute_open(env, "cn-rid:11010519491231002Y", r1, "x", NULL), PRB_EINVAL,
            "cn-rid");
    refused(env,
            prb_dispute_open(env, "lei:5493001KJTIIGC8Y1R12", "1-1", "someone else's file", NULL),
            PRB_ENOTFOUND, "no subject");
    refused(env, prb_dispute_open(env, ANNA, r1, "Paid.", NULL), PRB_EEXIST,
            "already has an open dispute");
    char r3[48];
    rid_of(env, ANNA, "L-3", r3, sizeof r3);
    refused(env, prb_dispute_open(env, ANNA, r3, "", NULL), PRB_EINVAL, "reason is required");
    refused(env, prb_dispute_open(env, ANNA, r3, " \n\t", NULL), PRB_EINVAL, "reason is required");
    refused(env, prb_dispute_open(env, ANNA, r3, NULL, NULL), PRB_EINVAL, "reason is required");
    /* A no-break space, a zero-width one and an ideographic space say
     * nothing either. */
    refused(env, prb_dispute_open(env, ANNA, r3, "\xc2\xa0\xe2\x80\x8b\xe3\x80\x80", NULL),
            PRB_EINVAL, "reason is required");
    memset(big, 'a', 2001);
    big[2001] = 0;
    refused(env, prb_dispute_open(env, ANNA, r3, big, NULL), PRB_EINVAL, "at most 2000");
    refused(env, prb_dispute_open(env, ANNA, r3, "bad \xff byte", NULL), PRB_EINVAL, "UTF-8");
    refused(env, prb_dispute_open(env, ANNA, r3, "bell\a", NULL), PRB_EINVAL, "control character");

    refused(env, prb_dispute_resolve(env, id, "upheld", NULL, NULL, NULL, NULL), PRB_EEXIST,
            "already resolved: upheld");
    refused(env, prb_dispute_resolve(env, open_id, "rejected", NULL, NULL, NULL, NULL), PRB_EINVAL,
            "upheld or deleted, not 'rejected'");
    refused(env, prb_dispute_resolve(env, open_id, NULL, NULL, NULL, NULL, NULL), PRB_EINVAL,
            "upheld or deleted");
    refused(env, prb_dispute_resolve(env, open_id, "deleted", NULL, "deadline", NULL, NULL),
            PRB_EINVAL, "reviewer or furnisher");
    /* A furnisher corrects by sending the corrected version: its own
     * "corrected" would tell the subject of a correction never made. */
    refused(env, prb_dispute_resolve(env, open_id, "corrected", NULL, "furnisher", NULL, NULL),
            PRB_EINVAL, "as the corrected version of the record");
    refused(env, prb_dispute_resolve(env, open_id, "deleted", big, NULL, NULL, NULL), PRB_EINVAL,
            "note");
    refused(env, prb_dispute_resolve(env, open_id, "deleted", NULL, NULL, "desk\a", NULL),
            PRB_EINVAL, "resolver's name");
    refused(env, prb_dispute_resolve(env, open_id + 5, "deleted", NULL, NULL, NULL, NULL),
            PRB_ENOTFOUND, "no dispute");
    refused(env, prb_dispute_resolve(env, 0, "deleted", NULL, NULL, NULL, NULL), PRB_ENOTFOUND,
            "no dispute");
    char *after = snapshot(env);
    cr_assert_str_eq(after, before, "a refused request changed the register");
    free(before);
    free(after);
    prb_close(env);
    th_rmrf(dir);
}

/* n copies of the UTF-8 character ch, NUL-terminated (free() it). */
static char *repeat(const char *ch, size_t n)
{
    size_t k = strlen(ch);
    char *s = malloc(n * k + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * k, ch, k);
    s[n * k] = 0;
    return s;
}

/* The limit is 2,000 characters, as the API's maxLength counts them
 * (code points), in any script: it was 2,000 bytes, so 700 characters of
 * Chinese (2,100 bytes) that a schema-checking client sent were refused.
 * 2,000 characters of 4 bytes each are taken and told whole; 2,001 are
 * refused by the limit in characters, changing nothing. */
Test(dispute, a_text_is_counted_in_characters)
{
    char *dir, r1[48], r2[48];
    prb_env *env = th_register(&dir);
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-2", "100.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    rid_of(env, ANNA, "L-2", r2, sizeof r2);
    char *cjk = repeat("\u4e89", 2000), *emoji = repeat("\U0001f600", 2000);
    char *over = repeat("\u4e89", 2001);
    json_t *d;
    uint64_t id = open_dispute(env, ANNA, r1, cjk, &d);
    cr_assert_str_eq(field(d, "reason"), cjk);
    json_decref(d);
    char *json = resolve(env, id, "upheld", emoji, NULL);
    free(json);
    d = dispute(env, id);
    cr_assert_str_eq(field(d, "note"), emoji);
    json_decref(d);
    /* The subject is told the note whole, all 8,000 bytes of it. */
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *arr = parse(json), *outcome = NULL;
    free(json);
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(field(json_array_get(arr, i), "kind"), "dispute_outcome"))
            outcome = json_array_get(arr, i);
    cr_assert_not_null(outcome);
    const char *text = field(outcome, "text"), *note = strstr(text, "Note: ");
    cr_assert(note && !strncmp(note + 6, emoji, strlen(emoji)), "%s", text);
    json_decref(arr);

    char *before = snapshot(env);
    refused(env, prb_dispute_open(env, ANNA, r2, over, NULL), PRB_EINVAL,
            "dispute: the reason is 2001 characters long; at most 2000 characters");
    unchanged(env, before);
    id = open_dispute(env, ANNA, r2, "Paid.", NULL);
    before = snapshot(env);
    refused(env, prb_dispute_resolve(env, id, "upheld", over, NULL, NULL, NULL), PRB_EINVAL,
            "dispute: the note is 2001 characters long; at most 2000 characters");
    unchanged(env, before);
    free(cjk);
    free(emoji);
    free(over);
    prb_close(env);
    th_rmrf(dir);
}

/* Where a control character is, in characters from 1, as the CSV, UTF-8
 * and JSON-array messages count: "\001abc" was "at byte 0", and after
 * Chinese text the byte was no place a reader could find. */
Test(dispute, a_control_character_is_placed_by_character_from_1)
{
    char *dir, r1[48];
    prb_env *env = th_register(&dir);
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    char *before = snapshot(env);
    refused(env, prb_dispute_open(env, ANNA, r1, "\001abc", NULL), PRB_EINVAL,
            "dispute: the reason has a control character at character 1");
    refused(env, prb_dispute_open(env, ANNA, r1, "\u4e89\u4e89\a", NULL), PRB_EINVAL,
            "dispute: the reason has a control character at character 3");
    unchanged(env, before);
    uint64_t id = open_dispute(env, ANNA, r1, "Paid.", NULL);
    before = snapshot(env);
    refused(env, prb_dispute_resolve(env, id, "upheld", "ok\x7f", NULL, NULL, NULL), PRB_EINVAL,
            "dispute: the note has a control character at character 3");
    unchanged(env, before);
    prb_close(env);
    th_rmrf(dir);
}

/* Retention deletes (invariant 6), and the subject of an adverse record
 * is told; a neutral record goes without a notice. */
/* A reviewer cannot edit a record, so its "corrected" would tell the
 * subject that the record was put right, and use it again, while it
 * stands exactly as it was. It is refused, and changes nothing: a
 * correction is the furnisher's new version, whose ingest resolves the
 * dispute (a_furnisher_correction_resolves_as_corrected). */
Test(dispute, a_reviewer_cannot_resolve_as_corrected)
{
    char *dir, r1[48], *json = (char *)"untouched";
    prb_env *env = th_register(&dir);
    prb_record_view rv;
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    rid_of(env, ANNA, "L-1", r1, sizeof r1);
    uint64_t id = open_dispute(env, ANNA, r1, "The amount is wrong.", NULL);
    char *before = snapshot(env);
    refused(env, prb_dispute_resolve(env, id, "corrected", "fixed", NULL, NULL, &json), PRB_EINVAL,
            "a correction comes from the furnisher");
    cr_assert_null(json, "*json is set to NULL on failure");
    cr_assert(strstr(prb_errmsg(env), "upheld or deleted"), "%s", prb_errmsg(env));
    refused(env, prb_dispute_resolve(env, id, "corrected", NULL, "reviewer", "A. Reviewer", NULL),
            PRB_EINVAL, "reviewer cannot resolve a dispute as corrected");
    char *after = snapshot(env);
    cr_assert_str_eq(after, before, "a refused \"corrected\" changed the register");
    free(after);
    free(before);
    json_t *o = dispute(env, id);
    cr_assert_str_eq(field(o, "state"), "open");
    json_decref(o);
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed && !rv.usable,
              "the record is still suspended");
    cr_assert_eq(nnotices(env, "dispute_outcome", NULL), 0);
    prb_close(env);
    th_rmrf(dir);
}

Test(dispute, retention_deletion_of_an_adverse_record_sends_a_notice)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    uint64_t deleted = 0;
    const char *text =
        "{\"furnisher\":\"court-x\",\"ref\":\"J-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" ANNA
        "\"},\"category\":\"court_judgment\",\"status\":\"open\",\"event_date\":\"2025-09-15\","
        "\"legal_basis\":\"court order\",\"fields\":{\"amount\":\"500.00\",\"currency\":\"EUR\","
        "\"court\":\"AG Mitte\",\"case_ref\":\"1 C 2/25\"}}\n"
        "{\"furnisher\":\"bank-a\",\"ref\":\"A-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" ANNA
        "\"},\"category\":\"credit_account\",\"status\":\"settled\",\"event_date\":\"2019-05-01\","
        "\"settled_date\":\"2025-09-15\",\"legal_basis\":\"loan contract\",\"fields\":{"
        "\"account_type\":\"instalment\",\"opened_date\":\"2019-05-01\",\"credit_limit\":"
        "\"1000.00\",\"balance\":\"0.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n";
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 2);
    set_day(env, "2028-09-13");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 0);
    cr_assert_eq(nnotices(env, "retention_deletion", NULL), 0);
    set_day(env, "2028-09-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 2, "both records expire on 2028-09-14");
    cr_assert_eq(nnotices(env, "retention_deletion", NULL), 1, "one adverse record went");
    cr_assert_eq(nnotices(env, "retention_deletion", "1-1"), 1);
    char *json = NULL;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    cr_assert(strstr(json, "Your court_judgment record 1-1 from court-x (ref J-1) reached the end "
                           "of its retention on 2028-09-14"),
              "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A disputed record that reaches the end of its retention is deleted by
 * the sweep like any other, and its dispute closes then, in the same
 * transaction, saying why: not at the deadline, not as the furnisher's
 * silence. */
Test(dispute, retention_closes_the_dispute_of_a_record_it_deletes)
{
    char *dir, rid[48];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_record_view rv;
    uint64_t deleted = 0;
    /* Settled 2023-12-25: kept three years, gone on 2026-12-24, the day
     * after its notice period ends. */
    const char *text =
        "{\"furnisher\":\"bank-a\",\"ref\":\"S-1\",\"subject\":{\"kind\":\"person\",\"id\":\"" ANNA
        "\"},\"category\":\"payment_default\",\"status\":\"settled\",\"event_date\":\"2023-06-01\","
        "\"settled_date\":\"2023-12-25\",\"legal_basis\":\"loan\",\"fields\":{\"amount\":"
        "\"80.00\",\"currency\":\"EUR\"}}\n";
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    rid_of(env, ANNA, "S-1", rid, sizeof rid);
    uint64_t id = open_dispute(env, ANNA, rid, "It was paid on time.", NULL);
    cr_assert(view_of(env, ANNA, "S-1", &rv) && rv.disputed);

    set_day(env, "2026-12-24"); /* before the dispute's deadline, 2026-12-25 */
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 1);
    cr_assert_not(view_of(env, ANNA, "S-1", &rv));
    json_t *o = dispute(env, id);
    cr_assert_str_eq(field(o, "state"), "deleted");
    cr_assert_str_eq(field(o, "resolved_by"), "retention");
    cr_assert_str_eq(field(o, "resolved"), "2026-12-24");
    json_decref(o);
    char about[24], *json = NULL;
    snprintf(about, sizeof about, "%llu", (unsigned long long)id);
    cr_assert_eq(nnotices(env, "dispute_outcome", about), 1);
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    cr_assert(strstr(json, "reached the end of its retention and was deleted"), "%s", json);
    cr_assert_null(strstr(json, "did not answer by the deadline"), "%s", json);
    free(json);
    cr_assert_eq(ndisputes(env, 1), 0);

    /* Past the deadline nothing more happens to it. */
    set_day(env, "2027-01-10");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(nnotices(env, "dispute_outcome", about), 1);
    o = dispute(env, id);
    cr_assert_str_eq(field(o, "resolved_by"), "retention");
    json_decref(o);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* ---------------------------------------- the inquirers told (told.c) */

static void ask(prb_env *env, const char *requester)
{
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, "credit", ANNA, requester, &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
}

/* Anna's payment defaults L-1, L-2 and L-3 (reported 2026-11-25, in use
 * from 2026-12-23, after the notice period), and the decisions 1-q1 of
 * bank-early (2026-12-20, before they were in use) and 1-q2 of bank-x
 * (2027-01-05). Record ids into r[0..2]. */
static prb_env *defaults_asked_about(char **dir, char r[3][48])
{
    prb_env *env = th_register(dir);
    static const char *const refs[] = {"L-1", "L-2", "L-3"};
    for (int i = 0; i < 3; i++) {
        ingest_pd(env, ANNA, refs[i], "100.00", NULL);
        rid_of(env, ANNA, refs[i], r[i], 48);
    }
    set_day(env, "2026-12-20");
    ask(env, "bank-early");
    set_day(env, "2027-01-05");
    ask(env, "bank-x");
    return env;
}

/* A record deleted on a dispute, by a reviewer or past its deadline, is
 * told to the inquirers given decisions that could have used it (GDPR
 * art. 19, FCRA 611(d)); an upheld dispute changes nothing and tells no
 * one. Before, no inquirer was told. */
Test(dispute, a_deletion_is_told_to_the_inquirers_given_decisions)
{
    char *dir, r[3][48], *json;
    prb_env *env = defaults_asked_about(&dir, r);
    json_t *n;
    uint64_t deleted;
    uint64_t a = open_dispute(env, ANNA, r[0], "Never borrowed from bank-a.", NULL);
    set_day(env, "2027-01-06");
    free(resolve(env, a, "deleted", "Not hers.", "reviewer"));
    cr_assert_eq(th_told(env, "inquirer_deleted", NULL, NULL), 1);
    cr_assert_eq(th_told(env, "inquirer_deleted", "bank-x", &n), 1);
    cr_assert_str_eq(field(n, "about"), r[0]);
    cr_assert_str_eq(field(n, "identifier"), ANNA);
    const char *text = field(n, "text");
    cr_assert(strstr(text, r[0]) && strstr(text, "deleted") && strstr(text, "2027-01-06") &&
                  strstr(text, "1-q2 of 2027-01-05 (credit)"),
              "%s", text);
    /* Not the subject's reason, the note or the amount, nor what the
     * record is beyond the id the decision gave. */
    cr_assert(!strstr(text, "borrowed") && !strstr(text, "Not hers") && !strstr(text, "100.00") &&
                  !strstr(text, "1-q1") && !strstr(text, "payment_default") &&
                  !strstr(text, "bank-a") && !strstr(text, "L-1"),
              "%s", text);
    json_decref(n);

    /* Upheld: the record stands, nothing to tell. */
    uint64_t c = open_dispute(env, ANNA, r[2], "Paid.", NULL);
    free(resolve(env, c, "upheld", "It stands.", "reviewer"));
    cr_assert_eq(th_told(env, "inquirer_deleted", NULL, NULL), 1);

    /* Unanswered past its deadline: deleted at the sweep, and told. */
    uint64_t b = open_dispute(env, ANNA, r[1], "Paid.", NULL);
    set_day(env, "2027-02-10");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = dispute(env, b);
    cr_assert_str_eq(field(o, "resolved_by"), "deadline");
    json_decref(o);
    cr_assert_eq(th_told(env, "inquirer_deleted", "bank-x", &n), 2);
    cr_assert_str_eq(field(n, "about"), r[1]);
    json_decref(n);
    cr_assert_eq(th_told(env, "inquirer_deleted", "bank-early", NULL), 0);

    /* The subject's copy shows both, with their recipient. */
    size_t count;
    n = th_copy_notices(env, ANNA, "inquirer_deleted", &count, NULL);
    cr_assert_eq(count, 2);
    cr_assert_str_eq(field(n, "recipient"), "bank-x");
    json_decref(n);
    cr_assert_eq(prb_subject_copy(env, ANNA, PRB_COPY_TEXT, &json), PRB_OK);
    cr_assert(strstr(json, "to bank-x, who was given a decision about you"), "%s", json);
    free(json);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* The notice is written in the resolution's transaction: when it cannot
 * be (the decision cannot be read), the record is not deleted, the
 * dispute stays open and no one is told. */
Test(dispute, a_deletion_that_cannot_be_told_writes_nothing)
{
    char *dir, r[3][48], *json = NULL, *before, *after;
    prb_env *env = defaults_asked_about(&dir, r);
    prb_record_view rv;
    uint64_t a = open_dispute(env, ANNA, r[0], "Never borrowed from bank-a.", NULL);
    th_break_decision(env, 1, 2);
    cr_assert_eq(prb_notices_json(env, 0, &before), PRB_OK);
    cr_assert_eq(prb_dispute_resolve(env, a, "deleted", NULL, "reviewer", NULL, &json),
                 PRB_ECORRUPT, "%s", prb_errmsg(env));
    cr_assert_null(json);
    cr_assert(strstr(prb_errmsg(env), "1-q2"), "%s", prb_errmsg(env));
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed);
    cr_assert_eq(ndisputes(env, 1), 1);
    cr_assert_eq(prb_notices_json(env, 0, &after), PRB_OK);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    prb_close(env);
    th_rmrf(dir);
}

/* Told are the decisions that used the record (their records_used), not
 * all those that could have by purpose and date: bank-y asked while L-1
 * and L-2 were disputed, so its decision used neither, and a notice
 * naming them would tell it of records it was never given. bank-x's
 * decision used both, and the sweep that deletes both past their
 * deadline tells it once, naming both. */
Test(dispute, only_the_decisions_that_used_a_record_are_told)
{
    char *dir, r[3][48], about[128];
    prb_env *env = defaults_asked_about(&dir, r);
    json_t *n;
    uint64_t deleted;
    set_day(env, "2027-01-06");
    open_dispute(env, ANNA, r[0], "Not mine.", NULL);
    open_dispute(env, ANNA, r[1], "Not mine.", NULL);
    set_day(env, "2027-01-10");
    ask(env, "bank-y");
    set_day(env, "2027-02-20");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(th_told(env, "inquirer_deleted", "bank-y", NULL), 0);
    cr_assert_eq(th_told(env, "inquirer_deleted", "bank-x", &n), 1);
    snprintf(about, sizeof about, "%s,%s", r[0], r[1]);
    cr_assert_str_eq(field(n, "about"), about);
    json_decref(n);
    cr_assert_eq(th_told(env, "inquirer_deleted", NULL, NULL), 1);
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* A decision the sweep cannot read does not hold up the deletions it
 * owes: the dispute past its deadline is resolved and its record
 * deleted, where prb_expire used to fail on it in its first transaction
 * (the one that also deletes what is past retention) and delete
 * nothing. (A reviewer's resolution still fails and writes nothing:
 * a_deletion_that_cannot_be_told_writes_nothing.) */
Test(dispute, the_sweep_deletes_past_a_decision_it_cannot_read)
{
    char *dir, r[3][48];
    prb_env *env = defaults_asked_about(&dir, r);
    prb_record_view rv;
    uint64_t deleted;
    set_day(env, "2027-01-06");
    uint64_t a = open_dispute(env, ANNA, r[0], "Not mine.", NULL);
    th_break_decision(env, 1, 2);
    set_day(env, "2027-02-20");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    json_t *o = dispute(env, a);
    cr_assert_str_eq(field(o, "state"), "deleted");
    cr_assert_str_eq(field(o, "resolved_by"), "deadline");
    json_decref(o);
    cr_assert(!view_of(env, ANNA, "L-1", &rv), "the record past its deadline is still stored");
    cr_assert(view_of(env, ANNA, "L-2", &rv));
    prb_close(env);
    th_rmrf(dir);
}

/* Appends what prb_verify reports to the string ctx (4096 bytes). */
static int collect(void *ctx, const char *buf, size_t len)
{
    char *s = ctx;
    size_t have = strlen(s);
    if (len > 4095 - have)
        len = 4095 - have;
    memcpy(s + have, buf, len);
    s[have + len] = '\0';
    return 0;
}

/* Anna's L-1 and L-2, each disputed on TH_TODAY (deadline 2026-12-25),
 * and Boris's court judgment J-1, past its retention on 2029-10-14. Ids
 * of the disputes into d. */
static prb_env *two_disputes_and_a_judgment(char **dir, uint64_t d[2])
{
    char r[48];
    prb_env *env = th_register(dir);
    ingest_pd(env, ANNA, "L-1", "100.00", NULL);
    ingest_pd(env, ANNA, "L-2", "200.00", NULL);
    ingest_judgment(env, BORIS, "J-1", "500.00", "open", "null");
    d[0] = open_dispute(env, ANNA, rid_of(env, ANNA, "L-1", r, sizeof r), "Not mine.", NULL);
    d[1] = open_dispute(env, ANNA, rid_of(env, ANNA, "L-2", r, sizeof r), "Paid.", NULL);
    return env;
}

/* A dispute damaged behind the engine's back (verify names it) is passed
 * over by the sweep's search: it made the search fail, and with it every
 * sweep, so that no record past its retention, nor any other dispute
 * past its deadline, was deleted until someone repaired it (invariant 6:
 * one damaged item does not hold up the deletions every subject is
 * owed). */
Test(dispute, the_sweep_passes_over_a_malformed_dispute)
{
    char *dir;
    uint64_t d[2], deleted = 0;
    prb_record_view rv;
    prb_env *env = two_disputes_and_a_judgment(&dir, d);
    th_bend_dispute(env, d[0], "\"deadline\":\"2026-12-25\"", "\"deadline\":\"2026-13-01\"");
    set_day(env, "2029-10-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 1, "the judgment past its retention is still stored");
    set_day(env, TH_TODAY); /* where an expired record is still in the file until deleted */
    cr_assert_not(view_of(env, BORIS, "J-1", &rv));
    json_t *o = dispute(env, d[1]);
    cr_assert_str_eq(field(o, "resolved_by"), "deadline");
    json_decref(o);
    cr_assert_not(view_of(env, ANNA, "L-2", &rv));
    cr_assert(view_of(env, ANNA, "L-1", &rv) && rv.disputed,
              "the record of the damaged dispute is used");
    char found[4096] = "", want[64];
    cr_assert_eq(prb_verify(env, collect, found, NULL), PRB_ECORRUPT);
    snprintf(want, sizeof want, "dispute %llu", (unsigned long long)d[0]);
    cr_assert(strstr(found, want), "verify does not name the damaged dispute: %s", found);
    prb_close(env);
    th_rmrf(dir);
}

/* A dispute sweep that fails (here a disputed record that cannot be
 * deleted) does not keep the retention walk from deleting what is past
 * retention: the walk runs, and the sweep's error is returned after it.
 * The sweep returned first, and nothing expired was deleted on any sweep
 * until the damage was repaired. */
Test(dispute, a_failed_dispute_sweep_still_deletes_what_is_past_retention)
{
    char *dir, r[48];
    uint64_t d[2], deleted = 0;
    prb_record_view rv;
    prb_env *env = two_disputes_and_a_judgment(&dir, d);
    th_break_record(env, rid_of(env, ANNA, "L-1", r, sizeof r));
    set_day(env, "2029-10-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_ECORRUPT, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "malformed value"), "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 1, "the judgment past its retention is still stored");
    set_day(env, TH_TODAY); /* where an expired record is still in the file until deleted */
    cr_assert_not(view_of(env, BORIS, "J-1", &rv));
    prb_close(env);
    th_rmrf(dir);
}

#define CARL "ext:court-x:C-1"

/* Court judgments J-1 of Anna, J-2 of Boris and J-3 of Carl, subjects in
 * that order, each past its retention on 2029-10-14. Anna's is disputed
 * on TH_TODAY: the dispute's id into *d. */
static prb_env *three_judgments(char **dir, uint64_t *d)
{
    char r[48];
    prb_env *env = th_register(dir);
    ingest_judgment(env, ANNA, "J-1", "500.00", "open", "null");
    ingest_judgment(env, BORIS, "J-2", "600.00", "open", "null");
    ingest_judgment(env, CARL, "J-3", "700.00", "open", "null");
    *d = open_dispute(env, ANNA, rid_of(env, ANNA, "J-1", r, sizeof r), "Not mine.", NULL);
    return env;
}

/* Whether verify reports dispute d. */
static int verify_names(prb_env *env, uint64_t d)
{
    char found[4096] = "", want[64];
    cr_assert_eq(prb_verify(env, collect, found, NULL), PRB_ECORRUPT);
    snprintf(want, sizeof want, "dispute %llu", (unsigned long long)d);
    return strstr(found, want) != NULL;
}

/* A record past its retention whose open dispute no longer decodes is
 * deleted all the same: nothing is left for the dispute to decide, and
 * verify names the dispute. Closing it failed the record's transaction,
 * so that neither it nor any other record of that transaction was
 * deleted on any sweep until someone repaired the dispute (invariant 6).
 * The sweep's search for disputes past their deadline passes over it,
 * so the record reaches retention disputed. */
Test(dispute, retention_deletes_the_record_of_a_damaged_dispute)
{
    char *dir;
    uint64_t d, deleted = 0;
    prb_record_view rv;
    prb_env *env = three_judgments(&dir, &d);
    th_bend_dispute(env, d, "\"subject\":", "\"subj\":");
    set_day(env, "2029-10-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(deleted, 3, "%llu of the 3 records past retention deleted",
                 (unsigned long long)deleted);
    set_day(env, TH_TODAY); /* where an expired record is still in the file until deleted */
    cr_assert_not(view_of(env, ANNA, "J-1", &rv), "the disputed record is still stored");
    cr_assert_not(view_of(env, BORIS, "J-2", &rv));
    cr_assert_not(view_of(env, CARL, "J-3", &rv));
    cr_assert(verify_names(env, d), "verify does not name the damaged dispute");
    prb_close(env);
    th_rmrf(dir);
}

/* Anna's J-1 made impossible to delete; the sweep on J-1's last day
 * with batch records a retention transaction. */
static void expire_past_a_broken_record(size_t batch)
{
    char *dir, r[48], want[64];
    uint64_t d, deleted = 0;
    prb_record_view rv;
    prb_env *env = three_judgments(&dir, &d);
    th_break_record(env, rid_of(env, ANNA, "J-1", r, sizeof r));
    prb_expire_batch = batch;
    set_day(env, "2029-10-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_ECORRUPT, "%s", prb_errmsg(env));
    snprintf(want, sizeof want, "record %llu: malformed value",
             (unsigned long long)strtoull(r, NULL, 10) << 24 |
                 strtoull(strchr(r, '-') + 1, NULL, 10));
    cr_assert_str_eq(prb_errmsg(env), want);
    cr_assert_eq(deleted, 2, "%llu of Boris's and Carl's 2 records deleted",
                 (unsigned long long)deleted);
    set_day(env, TH_TODAY);
    cr_assert_not(view_of(env, BORIS, "J-2", &rv));
    cr_assert_not(view_of(env, CARL, "J-3", &rv));
    prb_close(env);
    th_rmrf(dir);
}

/* A retention transaction that fails leaves the next ones to run, and
 * the first failure is returned after them: the sweep stopped at it, and
 * nothing after the damaged record was deleted on any sweep until
 * someone repaired it (invariant 6). */
Test(dispute, retention_goes_on_past_a_failed_transaction)
{
    expire_past_a_broken_record(1); /* a subject a transaction */
}

/* A transaction that fails is tried again a subject a transaction: the
 * damaged record holds up its own subject's deletions, not those of the
 * subjects that shared its transaction. */
Test(dispute, retention_deletes_what_shared_a_transaction_with_damage)
{
    expire_past_a_broken_record(1024);
}

/* An open dispute whose record id cannot be read fails its subject's
 * file load, and so its subject's deletions (which record it suspends is
 * unknown, and none may be used while in doubt), but no other
 * subject's. */
Test(dispute, a_dispute_without_its_record_holds_up_only_its_subject)
{
    char *dir, want[64];
    uint64_t d, deleted = 0;
    prb_record_view rv;
    prb_env *env = three_judgments(&dir, &d);
    th_bend_dispute(env, d, "\"record\":\"", "\"record\":\"x");
    set_day(env, "2029-10-14");
    cr_assert_eq(prb_expire(env, &deleted, NULL), PRB_ECORRUPT, "%s", prb_errmsg(env));
    snprintf(want, sizeof want, "dispute %llu: malformed value", (unsigned long long)d);
    cr_assert_str_eq(prb_errmsg(env), want);
    cr_assert_eq(deleted, 2);
    set_day(env, TH_TODAY);
    cr_assert_not(view_of(env, BORIS, "J-2", &rv));
    cr_assert_not(view_of(env, CARL, "J-3", &rv));
    cr_assert(verify_names(env, d), "verify does not name the damaged dispute");
    prb_close(env);
    th_rmrf(dir);
}

/* Anna's L-1 and Boris's L-2 and Carl's L-3, each disputed on TH_TODAY
 * (deadline 2026-12-25), Anna's made impossible to delete; the sweep
 * the day after the deadline with batch disputes a transaction. */
static void sweep_past_a_broken_record(size_t batch)
{
    char *dir, r[3][48];
    uint64_t d[3], disputed = 0;
    prb_record_view rv;
    prb_env *env = th_register(&dir);
    const char *who[3] = {ANNA, BORIS, "ext:bank-a:C-1"};
    ingest_pd(env, who[0], "L-1", "100.00", NULL);
    ingest_pd(env, who[1], "L-2", "200.00", NULL);
    ingest_pd(env, who[2], "L-3", "300.00", NULL);
    for (int i = 0; i < 3; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "L-%d", i + 1);
        d[i] =
            open_dispute(env, who[i], rid_of(env, who[i], ref, r[i], sizeof r[i]), "Paid.", NULL);
    }
    th_break_record(env, r[0]);
    prb_sweep_batch = batch;
    set_day(env, "2026-12-26");
    cr_assert_eq(prb_expire(env, NULL, &disputed), PRB_ECORRUPT, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "malformed value"), "%s", prb_errmsg(env));
    cr_assert_eq(disputed, 2, "%llu of Boris's and Carl's 2 disputes resolved",
                 (unsigned long long)disputed);
    for (int i = 1; i < 3; i++) {
        char ref[16];
        json_t *o = dispute(env, d[i]);
        cr_assert_str_eq(field(o, "resolved_by"), "deadline");
        json_decref(o);
        snprintf(ref, sizeof ref, "L-%d", i + 1);
        cr_assert_not(view_of(env, who[i], ref, &rv), "%s is still stored", ref);
    }
    prb_close(env);
    th_rmrf(dir);
}

/* The dispute sweep, too, goes on past a transaction that fails, and
 * tries one again a subject a transaction: it stopped at the first, and
 * no dispute after a damaged record was resolved on any sweep. */
Test(dispute, the_dispute_sweep_goes_on_past_a_failed_transaction)
{
    sweep_past_a_broken_record(1);
}

Test(dispute, the_dispute_sweep_resolves_what_shared_a_transaction_with_damage)
{
    sweep_past_a_broken_record(512);
}

/* ---------------------------------------------------------------- CLI */

static void run(struct th_run *r, const char *dir, const char *args)
{
    th_cli(r, dir, TH_TODAY, NULL, args);
    cr_assert_neq(r->status, -2, "%s (make test sets it)", r->err);
}

/* A directory with a register "reg" made by the CLI, holding n of
 * ANNA's payment defaults (records 1-1 ... 1-n). */
static char *cli_register(int n)
{
    char *dir = th_tmpdir(), line[1024], path[600], ref[16];
    struct th_run r;
    snprintf(path, sizeof path, "%s/r.ndjson", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 1; i <= n; i++) {
        snprintf(ref, sizeof ref, "L-%d", i);
        fputs(pd_line(line, sizeof line, ANNA, ref, "100.00"), f);
    }
    fclose(f);
    run(&r, dir, "init reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, "ingest reg r.ndjson");
    cr_assert_eq(r.status, 0, "%s", r.err);
    return dir;
}

Test(dispute, cli_round_trip)
{
    char *dir = cli_register(1), args[1024];
    struct th_run r;

    run(&r, dir, "dispute open reg --subject " ANNA " --record 1-1 --reason 'Paid in full.'");
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *o = parse(r.out);
    char id[24];
    snprintf(id, sizeof id, "%s", field(o, "id"));
    cr_assert_str_eq(field(o, "state"), "open");
    cr_assert_str_eq(field(o, "record"), "1-1");
    json_decref(o);
    run(&r, dir, "dispute open reg --subject " ANNA " --record 1-1 --reason again");
    cr_assert_eq(r.status, 4, "%s", r.err);
    cr_assert(strstr(r.err, "probity: record 1-1 already has an open dispute"), "%s", r.err);
    run(&r, dir, "dispute open reg --subject " ANNA " --record 1-7 --reason x");
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "has no record 1-7"), "%s", r.err);
    run(&r, dir, "subject reg " ANNA);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"disputed\": true"), "%s", r.out);

    run(&r, dir, "dispute list reg --open --as-of 2026-11-26");
    cr_assert_eq(r.status, 0, "%s", r.err);
    o = parse(r.out);
    cr_assert_eq(json_array_size(o), 1);
    json_decref(o);

    snprintf(args, sizeof args, "dispute resolve reg --id %s --outcome maybe", id);
    run(&r, dir, args);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "the outcome must be upheld or deleted, not 'maybe'"), "%s", r.err);
    snprintf(args, sizeof args, "dispute resolve reg --id %s --outcome corrected", id);
    run(&r, dir, args);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "a correction comes from the furnisher"), "%s", r.err);
    run(&r, dir, "dispute resolve reg --id x12 --outcome deleted");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "not a dispute id"), "%s", r.err);
    run(&r, dir, "dispute resolve reg --outcome deleted");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage: probity dispute"), "%s", r.err);
    snprintf(args, sizeof args,
             "dispute resolve reg --id %s --outcome deleted --note 'bank-a withdrew it' "
             "--as-of 2026-11-30",
             id);
    run(&r, dir, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    o = parse(r.out);
    cr_assert_str_eq(field(o, "state"), "deleted");
    cr_assert_str_eq(field(o, "resolved"), "2026-11-30", "--as-of sets the clock");
    cr_assert_str_eq(field(o, "note"), "bank-a withdrew it");
    json_decref(o);
    run(&r, dir, args);
    cr_assert_eq(r.status, 4);
    cr_assert(strstr(r.err, "already resolved: deleted on 2026-11-30"), "%s", r.err);

    run(&r, dir, "dispute list reg --open");
    cr_assert_eq(r.status, 0, "%s", r.err);
    o = parse(r.out);
    cr_assert_eq(json_array_size(o), 0);
    json_decref(o);
    run(&r, dir, "dispute list reg");
    o = parse(r.out);
    cr_assert_eq(json_array_size(o), 1);
    json_decref(o);
    run(&r, dir, "subject reg " ANNA);
    cr_assert_null(strstr(r.out, "\"ref\": \"L-1\""), "the deleted record is still shown");
    run(&r, dir, "notices reg");
    cr_assert(strstr(r.out, "dispute_opened") && strstr(r.out, "dispute_outcome"), "%s", r.out);
    run(&r, dir, "dispute frob reg");
    cr_assert_eq(r.status, 2);
    th_rmrf(dir);
}

/* probity expire counts the records its dispute sweep deleted beside
 * those past retention: it said "deleted 0 expired records" when the
 * sweep had deleted a disputed record the furnisher never answered. */
Test(dispute, cli_expire_counts_the_records_deleted_past_a_deadline)
{
    char *dir = cli_register(2);
    struct th_run r;
    run(&r, dir, "dispute open reg --subject " ANNA " --record 1-1 --reason 'Paid in full.'");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run(&r, dir, "expire reg --as-of 2027-01-01");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "deleted 0 expired records, 1 record whose dispute went unanswered "
                            "past its deadline and 0 idempotency keys past 24 hours"),
              "%s", r.out);
    run(&r, dir, "subject reg " ANNA);
    cr_assert_null(strstr(r.out, "\"ref\": \"L-1\""), "the record is still shown");
    th_rmrf(dir);
}

/* dispute list pages as GET /v1/disputes does: --limit items past
 * --after, and where the next page starts on standard error; following
 * it gives every dispute once. */
Test(dispute, cli_pages)
{
    char *dir = cli_register(3), args[256], all[4096] = "";
    struct th_run r;
    for (int i = 1; i <= 3; i++) {
        snprintf(args, sizeof args, "dispute open reg --subject " ANNA " --record 1-%d --reason x",
                 i);
        run(&r, dir, args);
        cr_assert_eq(r.status, 0, "%s", r.err);
    }
    run(&r, dir, "dispute list reg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.err, "", "no more to say when everything is listed");
    json_t *whole = parse(r.out);
    cr_assert_eq(json_array_size(whole), 3);
    const char *more;
    int pages = 0;
    snprintf(args, sizeof args, "dispute list reg --limit 2");
    for (;;) {
        run(&r, dir, args);
        cr_assert_eq(r.status, 0, "%s", r.err);
        json_t *page = parse(r.out);
        cr_assert_leq(json_array_size(page), 2);
        for (size_t i = 0; i < json_array_size(page); i++)
            strcat(strcat(all, field(json_array_get(page, i), "id")), ",");
        json_decref(page);
        pages++;
        if (!(more = strstr(r.err, "more disputes follow: --after ")))
            break;
        snprintf(args, sizeof args, "dispute list reg --limit 2 --after %llu",
                 strtoull(more + 30, NULL, 10));
    }
    cr_assert_eq(pages, 2);
    char want[4096] = "";
    for (size_t i = 0; i < 3; i++)
        strcat(strcat(want, field(json_array_get(whole, i), "id")), ",");
    cr_assert_str_eq(all, want);
    json_decref(whole);
    run(&r, dir, "dispute list reg --limit 0");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--limit '0' is not a count from 1 to"), "%s", r.err);
    run(&r, dir, "dispute list reg --after -1");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--after '-1' is not a count"), "%s", r.err);
    run(&r, dir, "dispute open reg --subject " ANNA " --record 1-1 --reason x --limit 2");
    cr_assert_eq(r.status, 2, "paging is for lists only");
    th_rmrf(dir);
}

/* probity expire with one record damaged: prb_expire deletes the rest and
 * returns the first error; the command said only the error, deleted no
 * idempotency key, and gave no count of what it had deleted. */
Test(dispute, cli_expire_says_what_it_deleted_past_a_damaged_record)
{
    char *dir, r[48];
    uint64_t d;
    struct th_run out;
    prb_env *env = three_judgments(&dir, &d);
    th_break_record(env, rid_of(env, ANNA, "J-1", r, sizeof r));
    prb_close(env);
    run(&out, dir, "expire reg --as-of 2029-10-14");
    cr_assert_neq(out.status, 0, "%s", out.err);
    cr_assert(strstr(out.out, "deleted 2 expired records, 0 records whose disputes went "
                              "unanswered past their deadline and 0 idempotency keys"),
              "%s", out.out);
    cr_assert(strstr(out.err, "malformed value"), "%s", out.err);
    th_rmrf(dir);
}
