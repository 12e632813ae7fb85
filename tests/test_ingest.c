/*
 * test_ingest.c - record input (DESIGN invariants 1, 2): good NDJSON and
 * CSV, each kind of bad line with its FILE:LINE: FIELD: reason message,
 * all-or-nothing batches, --skip-bad, idempotent re-ingest, corrections
 * that keep history, settlement, identifiers and aliases.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "helpers.h"
#include "internal.h"
#include "probity.h"
#include "tamper.h"

TestSuite(ingest);

#define PD(extra_top, fields)                                                                      \
    "{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"           \
    "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\","         \
    "\"event_date\":\"2025-03-01\",\"settled_date\":null,\"legal_basis\":\"loan "                  \
    "contract\"" extra_top ",\"fields\":" fields "}"

/* Fifty-four bytes of a name: with "_religion" it is 63 bytes, the most a
 * policy's name may have (X56 "_health" too), and one more is too long. */
#define X54 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X55 X54 "x"
#define X56 X54 "xx"
#define X57 X54 "xxx"

/* A payment default with the reference and legal basis given (JSON text). */
#define RL(ref, legal_basis)                                                                       \
    "{\"furnisher\":\"bank-a\",\"ref\":\"" ref "\",\"subject\":{\"kind\":\"person\",\"id\":"       \
    "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\","         \
    "\"event_date\":\"2025-03-01\",\"settled_date\":null,\"legal_basis\":\"" legal_basis           \
    "\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}"

static uint64_t versions(prb_env *env)
{
    uint64_t v = 0;
    cr_assert_eq(prb_count(env, NULL, &v), PRB_OK);
    return v;
}

/* The audit log's size, from its signed head. */
static uint64_t log_size(prb_env *env)
{
    char *json = NULL;
    cr_assert_eq(prb_audit_head(env, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *h = json_loads(json, 0, NULL);
    free(json);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    return n;
}

static const prb_field_view *field(const prb_record_view *rv, const char *name)
{
    for (size_t i = 0; i < rv->nfields; i++)
        if (!strcmp(rv->fields[i].name, name))
            return &rv->fields[i];
    return NULL;
}

Test(ingest, good_ndjson_is_accepted)
{
    char *dir, *text = th_slurp("tests/data/good.ndjson");
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    cr_assert_not_null(text);
    cr_assert_eq(th_ingest(env, "good.ndjson", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 4);
    cr_assert_eq(st.rejected, 0);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002x", &f), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_file_kind(f), PRB_PERSON);
    cr_assert_eq(prb_file_nrecords(f), 2);
    const prb_record_view *rv = prb_file_record(f, 0);
    cr_assert_str_eq(rv->category, "payment_default");
    cr_assert_eq(field(rv, "amount")->num, 125000);
    cr_assert_str_eq(field(rv, "currency")->str, "EUR");
    cr_assert_str_eq(rv->legal_basis, "loan contract 2019-123");
    /* JPY has no minor unit: "1500" is 1500. */
    cr_assert_eq(prb_subject_read(env, "lei:5493001KJTIIGC8Y1R12", &f), PRB_OK);
    cr_assert_eq(field(prb_file_record(f, 0), "amount")->num, 1500);
    cr_assert_eq(field(prb_file_record(f, 0), "amount")->scale, 0);
    prb_file_free(f);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, good_csv_is_accepted_with_quotes_decoded)
{
    char *dir, *text = th_slurp("tests/data/good.csv");
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    cr_assert_eq(th_ingest(env, "good.csv", text, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 3);
    cr_assert_eq(prb_subject_read(env, "de-taxid:86095742719", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 2);
    const prb_record_view *rv = prb_file_record(f, 0);
    cr_assert_str_eq(rv->legal_basis, "loan contract 7, \"B\" series");
    cr_assert_eq(rv->status, PRB_ST_SETTLED);
    cr_assert_eq(field(rv, "amount")->num, 31020);
    cr_assert_str_eq(field(prb_file_record(f, 1), "court")->str, "Amtsgericht Mitte");
    prb_file_free(f);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, reingest_changes_nothing)
{
    char *dir, *text = th_slurp("tests/data/good.ndjson");
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "a", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    uint64_t before = versions(env);
    cr_assert_eq(th_ingest(env, "a", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.unchanged, 4);
    cr_assert_eq(st.accepted + st.corrected, 0);
    cr_assert_eq(versions(env), before);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* The same fact sent as CSV after NDJSON is the same record. */
Test(ingest, csv_and_ndjson_of_one_record_are_the_same)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,loan contract,1250.5,EUR\n";
    cr_assert_eq(th_ingest(env, "n", PD("", "{\"currency\":\"EUR\",\"amount\":\"1250.50\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(th_ingest(env, "c.csv", csv, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.unchanged, 1, "accepted %llu corrected %llu", (unsigned long long)st.accepted,
                 (unsigned long long)st.corrected);
    prb_close(env);
    th_rmrf(dir);
}

/* A policy field may be named like one of a CSV record's own columns
 * (a category's "status"); in CSV it is then the column "fields.NAME",
 * as under "fields" in NDJSON: a plain "status" is the record's. */
Test(ingest, csv_fields_prefix_names_a_field_like_a_record_column)
{
    char *dir = th_tmpdir(), policy[512], path[600], reg[600];
    prb_env *env = NULL;
    prb_ingest_stats st;
    prb_file *f = NULL;
    json_t *pol = json_load_file(th_path(policy, sizeof policy, "policy/default.json"), 0, NULL);
    cr_assert_not_null(pol);
    json_t *fields = json_object_get(
        json_object_get(json_object_get(pol, "categories"), "payment_default"), "fields");
    cr_assert_not_null(fields);
    json_object_set_new(fields, "status", json_pack("{s:s}", "type", "string"));
    snprintf(path, sizeof path, "%s/policy.json", dir);
    cr_assert_eq(json_dump_file(pol, path, 0), 0);
    json_decref(pol);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_init(reg, path, &env), PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, TH_TODAY);
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,fields.amount,currency,fields.status\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,loan contract,1250.50,EUR,in collection\n";
    cr_assert_eq(th_ingest(env, "c.csv", csv, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    const prb_record_view *rv = prb_file_record(f, 0);
    cr_assert_str_eq(field(rv, "status")->str, "in collection");
    cr_assert_eq(field(rv, "amount")->num, 125050);
    const char *json;
    cr_assert_eq(prb_file_json(f, &json), PRB_OK);
    cr_assert(strstr(json, "\"status\": \"open\"") || strstr(json, "\"status\":\"open\""),
              "the record's own status: %s", json);
    prb_file_free(f);
    /* Without the prefix the column is the record's, named twice. */
    const char *twice = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                        "settled_date,legal_basis,amount,currency,status\n"
                        "bank-a,L-2,person,cn-rid:11010519491231002X,payment_default,open,"
                        "2025-03-01,,loan contract,1.00,EUR,x\n";
    prb_ingest *b = NULL;
    cr_assert_eq(th_ingest(env, "t.csv", twice, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    cr_assert(strstr(prb_ingest_error(b, 0), "column 'status' appears twice"), "%s",
              prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, correction_is_a_new_version_with_history)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    cr_assert_eq(th_ingest(env, "1", PD("", "{\"amount\":\"100.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(th_ingest(env, "2", PD("", "{\"amount\":\"80.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 1);
    const prb_record_view *cur = prb_file_record(f, 0);
    cr_assert_eq(cur->version, 2);
    cr_assert_eq(field(cur, "amount")->num, 8000);
    cr_assert_eq(prb_file_nversions(f, 0), 1);
    const prb_record_view *old = prb_file_version(f, 0, 0);
    cr_assert_eq(old->version, 1);
    cr_assert_eq(old->id, cur->id);
    cr_assert_eq(field(old, "amount")->num, 10000);
    const char *json;
    cr_assert_eq(prb_file_json(f, &json), PRB_OK);
    cr_assert(strstr(json, "\"history\"") && strstr(json, "\"100.00\"") &&
                  strstr(json, "\"80.00\""),
              "%s", json);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* Settling restarts the retention clock: kept 3 years after settlement. */
Test(ingest, settlement_restarts_retention)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    int32_t event, settled;
    cr_assert_eq(th_ingest(env, "1", PD("", "{\"amount\":\"100.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    const char *settle =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"settled\","
        "\"event_date\":\"2025-03-01\",\"settled_date\":\"2026-02-01\",\"legal_basis\":\"loan "
        "contract\",\"fields\":{\"amount\":\"100.00\",\"currency\":\"EUR\"}}";
    cr_assert_eq(th_ingest(env, "2", settle, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.corrected, 1);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    prb_date_parse("2025-03-01", 10, &event);
    prb_date_parse("2026-02-01", 10, &settled);
    cr_assert_eq(prb_file_record(f, 0)->expires, settled + 1095);
    cr_assert_eq(prb_file_version(f, 0, 0)->expires, event + 2190);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

struct bad {
    const char *line, *expect;
};

static const struct bad bad_lines[] = {
    {"{\"furnisher\":\"bank-a\",", "record: JSON: key expected"},
    {PD(",\"colour\":\"red\"", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
     "colour: unknown key"},
    {PD(",\"ref\":\"L-2\"", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"), "ref: appears twice"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "110105194912310021\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "subject.id: cn-rid: check character"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2025-03-01\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "legal_basis: required"},
    {"{\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:11010519491231002X\"},"
     "\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\","
     "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "furnisher: required"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"loan\",\"status\":\"open\",\"event_date\":\"2025-03-"
     "01\","
     "\"legal_basis\":\"x\",\"fields\":{}}",
     "category: 'loan' is not a category"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"religious_affiliation\",\"status\":\"open\","
     "\"event_date\":\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{}}",
     "category: refused: 'religious' is religion or belief data"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"health_flag\":\"y\"}"),
     "fields.health_flag: refused: 'health' is health data"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"colour\":\"y\"}"),
     "fields.colour: category payment_default has no such field"},
    {PD("", "{\"amount\":1.00,\"currency\":\"EUR\"}"), "fields.amount: must be a decimal string"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUX\"}"), "fields.currency: must be an ISO 4217"},
    {PD("", "{\"amount\":\"1.234\",\"currency\":\"EUR\"}"),
     "fields.amount: '1.234' has more decimal places"},
    {PD("", "{\"amount\":\"1.00\"}"), "fields.currency: required by category payment_default"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2027-01-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "event_date: 2027-01-01 is in the future"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2025-02-30\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "event_date: '2025-02-30' is not a date"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"settled\","
     "\"event_date\":\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\","
     "\"currency\":\"EUR\"}}",
     "settled_date: required when status is settled"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"paid\",\"event_date\":"
     "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "status: must be"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2015-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "event_date: the record is past its retention"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"tax_arrears\",\"status\":\"open\",\"event_date\":"
     "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "category: tax_arrears records are not kept about a person"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:"
     "11010519491231002X\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":"
     "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"account_type\":\"mortgage\","
     "\"opened_date\":\"2020-01-01\",\"credit_limit\":\"1.00\",\"balance\":\"0.00\","
     "\"currency\":\"EUR\",\"worst_dpd\":0}}",
     "fields.account_type: must be one of"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EU\xff\"}"), "fields: JSON: invalid UTF-8"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"ext:"
     "bank-b:K1\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
     "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "subject.id: 'ext:bank-b:K1' is another furnisher's key"},
    /* invariant 1 for the names of cn-rid subjects' data, in pinyin and in Chinese */
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"minzu\":\"y\"}"),
     "fields.minzu: refused: 'minzu' is ethnicity or race data"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"民族\":\"y\"}"),
     "fields.民族: refused: '民族' is ethnicity or race data"},
    /* A key twice whose first value leaves no content behind: the two
     * were merged (both identifiers linked), where a last-wins reader
     * sees no alias at all. */
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"aliases\":[\"de-taxid:"
     "86095742719\"]},\"subject\":{\"kind\":\"person\",\"id\":\"cn-rid:11010519491231002X\"},"
     "\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\","
     "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "subject: appears twice"},
    {PD("", "{},\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}"), "fields: appears twice"},
    {"{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"
     "\"cn-rid:11010519491231002X\",\"aliases\":[],\"aliases\":[\"ext:bank-a:K1\"]},"
     "\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\","
     "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
     "subject.aliases: appears twice"},
    /* invariant 2: a legal basis or a reference of Unicode blanks says nothing */
    {RL("L-1", "\\u00a0"), "legal_basis: must hold a letter or a digit"},
    {RL("L-1", "\\u3000"), "legal_basis: must hold a letter or a digit"},
    {RL("L-1", "\\u200b"), "legal_basis: must hold a letter or a digit"},
    {RL("L-1", "\\ufeff\\u2060\\u200c\\u200d"), "legal_basis: must hold a letter or a digit"},
    {RL("L-1", "\xe2\x80\x83\xe2\x80\xaf\xe1\x9a\x80"), "legal_basis: must hold a letter"},
    {RL("L-1", "-.,"), "legal_basis: must hold a letter or a digit"},
    {RL("\\u2028\\u2029\\u205f", "x"), "ref: must hold a letter or a digit"},
    /* invariant 1 for a whole name as long as a name may be, and for a
     * top-level key as for a field; a longer name is no name at all */
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"" X54 "_religion\":\"y\"}"),
     "fields." X54 "_religion: refused: 'religion' is religion or belief data"},
    {PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"" X55 "_religion\":\"y\"}"),
     "fields." X55 "_religion: no such name: it has 64 bytes, and no key or field name has more "
     "than 63"},
    {PD(",\"ethnicity\":\"x\"", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
     "ethnicity: refused: 'ethnicity' is ethnicity or race data, which probity never holds "
     "(DESIGN invariant 1)"},
    {PD(",\"" X56 "_health\":1", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
     X56 "_health: refused: 'health' is health data"},
    {PD(",\"" X57 "_health\":1", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
     X57 "_health: no such name: it has 64 bytes, and no key or field name has more than 63"},
};

/* Each bad line alone: rejected with its message, nothing written. */
Test(ingest, each_kind_of_bad_line_is_named)
{
    char *dir;
    prb_env *env = th_register(&dir);
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        prb_ingest_stats st;
        prb_ingest *b;
        char expect[256];
        int rc = th_ingest(env, "in.ndjson", bad_lines[i].line, PRB_FMT_NDJSON, 0, &st, &b);
        cr_expect_eq(rc, PRB_EREJECTED, "case %zu: rc %d", i, rc);
        cr_expect_eq(prb_ingest_nerrors(b), 1, "case %zu", i);
        snprintf(expect, sizeof expect, "in.ndjson:1: %s", bad_lines[i].expect);
        const char *msg = prb_ingest_error(b, 0);
        cr_expect(msg && !strncmp(msg, expect, strlen(expect)), "case %zu: got '%s', want '%s...'",
                  i, msg ? msg : "(none)", expect);
        cr_expect_eq(st.rejected, 1);
        prb_ingest_free(b);
    }
    cr_assert_eq(versions(env), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A legal basis and a reference in any script are words: only blanks are refused. */
Test(ingest, a_legal_basis_in_any_script_is_accepted)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    const char *text = RL("\u7b2c1\u53f7", "\u4e2a\u4eba\u4fe1\u606f\u4fdd\u62a4\u6cd5") "\n" RL(
        "L-2", "\u00a7\u00a07") "\n" RL("L-3", "\u0417\u0430\u043a\u043e\u043d") "\n";
    cr_assert_eq(th_ingest(env, "in.ndjson", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(versions(env), 3);
    prb_close(env);
    th_rmrf(dir);
}

/* An unknown top-level key of a refused class is refused as a field of
 * one is (PRB_EREFUSED), not merely unknown. */
Test(ingest, a_refused_top_level_key_is_refused_not_unknown)
{
    prb_arena a;
    prb_raw raw;
    prb_recerr e;
    const char *line = PD(",\"ethnicity\":\"x\"", "{}");
    prb_arena_init(&a, 4096);
    cr_expect_eq(prb_ndjson_parse(line, strlen(line), &a, &raw, &e), PRB_EREFUSED);
    cr_expect_str_eq(e.field, "ethnicity");
    line = PD(",\"colour\":\"x\"", "{}");
    cr_expect_eq(prb_ndjson_parse(line, strlen(line), &a, &raw, &e), PRB_EINVAL);
    cr_expect(!strncmp(e.reason, "unknown key", 11), "%s", e.reason);
    prb_arena_free(&a);
}

/* A key of 64 KiB is refused for its length, unread by invariant 1's
 * check: ~1 s a key, and a 16-MiB batch of such lines parsed for minutes. */
Test(ingest, a_key_longer_than_any_name_is_refused_unread)
{
    prb_arena a;
    prb_raw raw;
    prb_recerr e;
    size_t n = 65535;
    char *line = malloc(n + 16);
    cr_assert(line);
    line[0] = '{', line[1] = '"';
    for (size_t i = 0; i < n; i++)
        line[2 + i] = i % 3 == 2 ? ' ' : 'a' + (char)(i % 3);
    strcpy(line + 2 + n, "\":1}");
    prb_arena_init(&a, 4096);
    cr_expect_eq(prb_ndjson_parse(line, strlen(line), &a, &raw, &e), PRB_EINVAL);
    cr_expect(!strcmp(e.reason, "no such name: it has 65535 bytes, and no key or field name has "
                                "more than 63"),
              "%s", e.reason);
    prb_arena_free(&a);
    free(line);
}

/* A number is kept in 32 bits, so it is at most 65,535 bytes, as a string
 * is: one of 2^32 + 5 digits was read as its first five. The bound is the
 * same at any length; shown here at its edge. */
Test(ingest, a_number_longer_than_a_string_may_be_is_refused)
{
    prb_arena a;
    prb_raw raw;
    prb_recerr e;
    for (size_t n = 65535; n <= 65536; n++) {
        char *line = malloc(n + 64);
        cr_assert(line);
        int k = sprintf(line, "{\"fields\":{\"amount\":1");
        memset(line + k, '0', n - 1);
        strcpy(line + k + n - 1, "}}");
        prb_arena_init(&a, 4096);
        int rc = prb_ndjson_parse(line, strlen(line), &a, &raw, &e);
        if (n == 65535) {
            cr_expect_eq(rc, PRB_OK, "%s", e.reason);
            cr_expect_eq(raw.fval[0].v.n, n);
        } else {
            cr_expect_eq(rc, PRB_EINVAL);
            cr_expect_str_eq(e.reason, "number longer than 65535 bytes");
        }
        prb_arena_free(&a);
        free(line);
    }
}

/* One bad line among good ones rejects the batch; --skip-bad keeps the rest. */
Test(ingest, batch_is_all_or_nothing_unless_skip_bad)
{
    char *dir, *good = th_slurp("tests/data/good.ndjson");
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    char text[8192];
    snprintf(text, sizeof text, "%s%s\n%s\n", good, bad_lines[9].line, bad_lines[13].line);
    cr_assert_eq(th_ingest(env, "mix.ndjson", text, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 2);
    cr_assert(strstr(prb_ingest_error(b, 0), "mix.ndjson:6: fields.colour") != NULL, "%s",
              prb_ingest_error(b, 0));
    cr_assert(strstr(prb_ingest_error(b, 1), "mix.ndjson:7: fields.currency") != NULL, "%s",
              prb_ingest_error(b, 1));
    cr_assert(strstr(prb_errmsg(env), "nothing was written") != NULL);
    /* The way to load the good ones, for the command line and for HTTP. */
    cr_assert(strstr(prb_errmsg(env), "--skip-bad, or skip_bad=true over HTTP"), "%s",
              prb_errmsg(env));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 0);

    cr_assert_eq(th_ingest(env, "mix.ndjson", text, PRB_FMT_NDJSON, 1, &st, NULL), PRB_OK);
    cr_assert_eq(st.accepted, 4);
    cr_assert_eq(st.rejected, 2);
    cr_assert_eq(versions(env), 4);
    free(good);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, csv_errors_name_line_and_column)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,\"multi\nline basis\",1.00,EUR\n"
                      "bank-a,L-2,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,1.00\n"
                      "bank-a,L-3,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,abc,EUR\n";
    cr_assert_eq(th_ingest(env, "r.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 3, "%zu", prb_ingest_nerrors(b));
    /* The quoted line end is inside record 1 (lines 2-3). */
    cr_expect(strstr(prb_ingest_error(b, 0), "r.csv:2: legal_basis: must not hold control") != NULL,
              "%s", prb_ingest_error(b, 0));
    cr_expect(strstr(prb_ingest_error(b, 1), "r.csv:4: record: CSV: 10 cells, the header has 11") !=
                  NULL,
              "%s", prb_ingest_error(b, 1));
    cr_expect(strstr(prb_ingest_error(b, 2), "r.csv:5: fields.amount: 'abc'") != NULL, "%s",
              prb_ingest_error(b, 2));
    prb_ingest_free(b);

    /* As many cells as a row may have, then a ',' at the very end of the
     * input: the empty cell it stands for is one too many, refused (it
     * was written past the cells' end). */
    char wide[2 * 48 + 1] = "";
    for (int i = 0; i < 48; i++) /* MAX_COLS of csv.c: PRB_MAX_FIELDS + 16 */
        strcat(wide, "x,");
    cr_assert_eq(th_ingest(env, "w.csv", wide, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0), "too many cells") != NULL, "%s",
              prb_ingest_error(b, 0));
    prb_ingest_free(b);

    const char *refused = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                          "settled_date,legal_basis,amount,currency,ethnic_group\n";
    cr_assert_eq(th_ingest(env, "h.csv", refused, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0), "h.csv:1: header: column 'ethnic_group' is refused") !=
                  NULL,
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    /* the whole name is read, as long as a name may be; a longer one is none */
    refused = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
              "settled_date,legal_basis,amount,currency,fields." X54 "_religion\n";
    cr_assert_eq(th_ingest(env, "h.csv", refused, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "h.csv:1: header: column '" X54
                     "_religion' is refused: 'religion' is religion") != NULL,
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    refused = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
              "settled_date,legal_basis,amount,currency," X55 "_religion\n";
    cr_assert_eq(th_ingest(env, "h.csv", refused, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "h.csv:1: header: column '" X55 "_religion': no such name: it has 64 "
                     "bytes") != NULL,
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, a_person_is_not_a_company)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    cr_assert_eq(th_ingest(env, "1", PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    /* A resident id names a person: no company is filed under one (it
     * would be published by it on public lists and cards). */
    const char *as_company =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-9\",\"subject\":{\"kind\":\"company\",\"id\":"
        "\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\","
        "\"currency\":\"EUR\"}}";
    cr_assert_eq(th_ingest(env, "2", as_company, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "subject.id: 'cn-rid:11010519491231002X' names a person, not a company"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    /* Nor as a company's alias; and a company's number names no person. */
    const char *alias =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-8\",\"subject\":{\"kind\":\"company\",\"id\":"
        "\"lei:5493001KJTIIGC8Y1R12\",\"aliases\":[\"de-taxid:86095742719\"]},\"category\":"
        "\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\",\"legal_basis\":"
        "\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}\n"
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-7\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"lei:5493001KJTIIGC8Y1R12\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\","
        "\"currency\":\"EUR\"}}\n";
    cr_assert_eq(th_ingest(env, "3", alias, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 2);
    cr_assert(strstr(prb_ingest_error(b, 0), "3:1: subject.aliases: 'de-taxid:86095742719' names "
                                             "a person, not a company"),
              "%s", prb_ingest_error(b, 0));
    cr_assert(strstr(prb_ingest_error(b, 1), "3:2: subject.id: 'lei:5493001KJTIIGC8Y1R12' names a "
                                             "company, not a person"),
              "%s", prb_ingest_error(b, 1));
    prb_ingest_free(b);
    /* A furnisher's own key may name either; the register remembers which. */
    static const char ext_line[] =
        "{\"furnisher\":\"bank-a\",\"ref\":\"K-%d\",\"subject\":{\"kind\":\"%s\",\"id\":"
        "\"ext:bank-a:K1\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\","
        "\"currency\":\"EUR\"}}";
    char line[512];
    snprintf(line, sizeof line, ext_line, 1, "person");
    cr_assert_eq(th_ingest(env, "5", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    snprintf(line, sizeof line, ext_line, 2, "company");
    cr_assert_eq(th_ingest(env, "6", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0), "is a person in the register, not a company"), "%s",
              prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

/* An alias joins the subject; a later record by the alias alone lands in
 * the same file. A correction may not move a record to someone else. */
Test(ingest, aliases_resolve_to_one_subject)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    prb_file *f = NULL;
    const char *with_alias =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"cn-rid:11010519491231002X\",\"aliases\":[\"ext:bank-a:C-77\"]},\"category\":"
        "\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\",\"legal_basis\":"
        "\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}\n"
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-2\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"ext:bank-a:C-77\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":"
        "\"2025-04-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"2.00\",\"currency\":\"EUR\"}"
        "}"
        "\n";
    cr_assert_eq(th_ingest(env, "a", with_alias, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_subject_read(env, "ext:bank-a:C-77", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 2);
    cr_assert_eq(prb_file_nidents(f), 2);
    uint64_t subject = prb_file_subject(f);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_subject(f), subject);

    const char *moved =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-2\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"cn-rid:440304200002291236\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2025-04-01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"2.00\","
        "\"currency\":\"EUR\"}}";
    cr_assert_eq(th_ingest(env, "m", moved, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0), "m:1: subject.id: record L-2 of bank-a is held about "
                                             "another subject"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(prb_subject_read(env, "cn-rid:440304200002291236", &f), PRB_ENOTFOUND);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* Records A-from..A-to of bank-a's about one subject, each naming it by
 * id and by one more alias, C-<the record's number>. */
static void alias_lines(char *buf, size_t n, int from, int to)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = from; i <= to && used < n; i++)
        used += (size_t)snprintf(
            buf + used, n - used,
            "{\"furnisher\":\"bank-a\",\"ref\":\"A-%d\",\"subject\":{\"kind\":\"person\",\"id\":"
            "\"cn-rid:11010519491231002X\",\"aliases\":[\"ext:bank-a:C-%d\"]},\"category\":"
            "\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-01\","
            "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}\n",
            i, i);
}

/* A subject that gains identifiers record by record, in one batch and
 * then in a second one (read back from the store), keeps every one. */
Test(ingest, identifiers_added_over_records_and_batches)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    char text[8192], id[64];
    alias_lines(text, sizeof text, 1, 5);
    cr_assert_eq(th_ingest(env, "a", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    alias_lines(text, sizeof text, 6, 9);
    cr_assert_eq(th_ingest(env, "b", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    uint64_t subject = prb_file_subject(f);
    cr_assert_eq(prb_file_nidents(f), 10);
    cr_assert_eq(prb_file_nrecords(f), 9);
    cr_assert_str_eq(prb_file_ident(f, 0), "cn-rid:11010519491231002X");
    for (int i = 1; i <= 9; i++) {
        snprintf(id, sizeof id, "ext:bank-a:C-%d", i);
        cr_assert_str_eq(prb_file_ident(f, (size_t)i), id);
    }
    for (int i = 1; i <= 9; i++) {
        snprintf(id, sizeof id, "ext:bank-a:C-%d", i);
        cr_assert_eq(prb_subject_read(env, id, &f), PRB_OK, "%s", id);
        cr_assert_eq(prb_file_subject(f), subject, "%s", id);
        cr_assert_eq(prb_file_nidents(f), 10, "%s", id);
    }
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A subject with 63 identifiers (its id and 62 aliases of bank-a) takes
 * records that name only identifiers it has: every one of a record's
 * identifiers was counted as new, so re-sending A-1 or settling it was
 * refused as past the 64 a subject may have. A record that brings one
 * new alias takes the 64th; one more is refused. */
Test(ingest, a_subject_near_the_identifier_limit_takes_records)
{
    char *dir, *text = malloc(65536), *settle;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    prb_file *f = NULL;
    cr_assert_not_null(text);
    alias_lines(text, 65536, 1, 62);
    cr_assert_eq(th_ingest(env, "a", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nidents(f), 63);

    alias_lines(text, 65536, 1, 1);
    cr_assert_eq(th_ingest(env, "b", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.unchanged, 1);
    settle = strstr(text, "\"status\":\"open\"");
    cr_assert_not_null(settle);
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", settle + strlen("\"status\":\"open\""));
    snprintf(settle, 65536 - (size_t)(settle - text),
             "\"status\":\"settled\",\"settled_date\":\"2026-02-01\"%s", rest);
    cr_assert_eq(th_ingest(env, "c", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);

    alias_lines(text, 65536, 63, 63);
    cr_assert_eq(th_ingest(env, "d", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 1);
    alias_lines(text, 65536, 64, 64);
    cr_assert_eq(th_ingest(env, "e", text, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "e:1: subject.aliases: a subject has at most 64 identifiers"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nidents(f), 64);
    cr_assert_eq(prb_file_nrecords(f), 63);
    prb_file_free(f);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

Test(ingest, batch_furnisher_must_match)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest *b = NULL;
    prb_ingest_stats st;
    prb_ingest_opts o = {"bank-b", 0, 1, 0};
    const char *line = PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}");
    cr_assert_eq(prb_ingest_begin(env, &o, &b), PRB_OK);
    cr_assert_eq(prb_ingest_add(b, "x", line, strlen(line), PRB_FMT_NDJSON), PRB_OK);
    cr_assert_eq(prb_ingest_commit(b, &st), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "x:1: furnisher: record is from 'bank-a' but this batch is from 'bank-b'"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

/* The same (furnisher, ref) three times in one batch: the last line
 * counts, the two before it are superseded. (Each was a correction of
 * the one before it, and a batch sent again stored them again.) */
Test(ingest, correction_within_one_batch)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    char text[2048];
    snprintf(text, sizeof text, "%s\n%s\n%s\n",
             PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
             PD("", "{\"amount\":\"2.00\",\"currency\":\"EUR\"}"),
             PD("", "{\"amount\":\"2.00\",\"currency\":\"EUR\"}"));
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(st.corrected, 0);
    cr_assert_eq(st.unchanged, 0);
    cr_assert_eq(st.superseded, 2);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_record(f, 0)->version, 1);
    cr_assert_eq(prb_file_nversions(f, 0), 0);
    cr_assert_eq(field(prb_file_record(f, 0), "amount")->num, 200);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A batch sent again (its answer was lost to a timeout) changes nothing,
 * though it holds two lines of one (furnisher, ref): each line was
 * compared with the one before it, so every retry stored two versions
 * and sent two notices. Within a batch the last line of a (furnisher,
 * ref) counts, compared with what the register held when the batch
 * began; the lines before it are superseded. */
Test(ingest, resent_batch_with_a_correction_changes_nothing)
{
    char *dir, *json = NULL, text[2048];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_file *f = NULL;
    snprintf(text, sizeof text, "%s\n%s\n", PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
             PD("", "{\"amount\":\"2.00\",\"currency\":\"EUR\"}"));
    cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(st.corrected, 0);
    cr_assert_eq(st.superseded, 1);
    uint64_t v0 = versions(env), n0 = log_size(env);
    for (int retry = 0; retry < 2; retry++) {
        cr_assert_eq(th_ingest(env, "t", text, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(st.accepted, 0);
        cr_assert_eq(st.corrected, 0);
        cr_assert_eq(st.unchanged, 1);
        cr_assert_eq(st.superseded, 1);
        cr_assert_eq(versions(env), v0);
        cr_assert_eq(log_size(env), n0);
    }
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 1);
    cr_assert_eq(prb_file_record(f, 0)->version, 1);
    cr_assert_eq(field(prb_file_record(f, 0), "amount")->num, 200);
    prb_file_free(f);
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    cr_assert_eq(count(json, "\"kind\": \"adverse_record\""), 1, "%s", json);
    cr_assert(!strstr(json, "corrected its record"), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* Invariant 4: an adverse record is announced to its subject when it
 * arrives and when it is corrected; a re-sent one is not announced again,
 * and a neutral one (a credit account) not at all. */
Test(ingest, adverse_records_send_notices)
{
    char *dir, *json = NULL;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    const char *pd = PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}");
    cr_assert_eq(th_ingest(env, "a", pd, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(th_ingest(env, "b", pd, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(prb_notices_json(env, 1, &json), PRB_OK);
    cr_assert_eq(count(json, "\"kind\": \"adverse_record\""), 1, "%s", json);
    cr_assert(strstr(json, "\"about\": \"bank-a/L-1\"") &&
                  strstr(json, "It may not be used before 2026-12-23"),
              "%s", json);
    free(json);
    cr_assert_eq(th_ingest(env, "c", PD("", "{\"amount\":\"2.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(st.corrected, 1);
    char *good = th_slurp("tests/data/good.ndjson");
    cr_assert_eq(th_ingest(env, "g", good, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    free(good);
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    /* L-1 twice; from good.ndjson the default, the judgment and the tax
     * arrears, not the credit account. */
    cr_assert_eq(count(json, "\"kind\": \"adverse_record\""), 5, "%s", json);
    cr_assert(!strstr(json, "credit_account"), "%s", json);
    free(json);
    prb_close(env);
    th_rmrf(dir);
}

/* A new register with a 1-MiB map, and into g a generated batch of
 * 3,200 subjects (over 4 MiB) that cannot fit it; its lines counted. */
static prb_env *small_map_register(char **dir, struct th_buf *g, uint64_t *lines)
{
    setenv("PROBITY_MAPSIZE_MB", "1", 1);
    prb_env *env = th_register(dir);
    unsetenv("PROBITY_MAPSIZE_MB");
    prb_gen_opts o = {3000, 200, 5, prb_today(env)};
    cr_assert_eq(prb_gen(&o, th_collect, g), PRB_OK);
    *lines = 0;
    for (size_t i = 0; i < g->n; i++)
        *lines += g->p[i] == '\n';
    return env;
}

/* A batch larger than the register's map: the transaction runs out of
 * room, the map is grown and the whole batch parsed and applied again
 * from its input, once or more; the result is the batch, whole, once. */
Test(ingest, a_batch_larger_than_the_map_grows_it)
{
    char *dir;
    struct th_buf g = {0};
    prb_ingest_stats st;
    uint64_t lines, subjects = 0, versions = 0;
    prb_env *env = small_map_register(&dir, &g, &lines);
    cr_assert_gt(g.n, 4u << 20, "the batch (%zu bytes) must outgrow the map more than once", g.n);
    cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, lines);
    cr_assert_eq(prb_count(env, &subjects, &versions), PRB_OK);
    cr_assert_eq(subjects, 3200);
    cr_assert_eq(versions, lines);
    /* Sent again: nothing changes. */
    cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(st.unchanged, lines);
    cr_assert_eq(st.accepted, 0);
    free(g.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A batch of several chunks, larger than the map, whose last line
 * changes its first record: applied again to keep the last line of each
 * (furnisher, ref), and again from its input as the map grows, it stores
 * that last line once, and sent again it changes nothing. */
Test(ingest, a_ref_twice_in_a_batch_larger_than_the_map)
{
    char *dir, who[64] = "", ref[32] = "";
    struct th_buf g = {0};
    prb_ingest_stats st;
    prb_file *f = NULL;
    uint64_t lines, versions = 0;
    prb_env *env = small_map_register(&dir, &g, &lines);
    const char *nl = memchr(g.p, '\n', g.n), *basis = "\"legal_basis\":\"";
    cr_assert(nl && g.n > 4u << 20);
    /* The first line, its legal basis amended (copied first: g grows). */
    char *line = strndup(g.p, (size_t)(nl - g.p) + 1);
    cr_assert_not_null(line);
    char *at = strstr(line, basis);
    cr_assert_not_null(at);
    at += strlen(basis);
    th_collect(&g, line, (size_t)(at - line));
    th_collect(&g, "amended ", 8);
    th_collect(&g, at, strlen(at));
    free(line);
    cr_assert_eq(sscanf(g.p,
                        "{\"furnisher\":\"%*[^\"]\",\"ref\":\"%31[^\"]\",\"subject\":{\"kind\":"
                        "\"%*[^\"]\",\"id\":\"%63[^\"]\"",
                        ref, who),
                 2);
    for (int pass = 0; pass < 2; pass++) {
        cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                     prb_errmsg(env));
        cr_assert_eq(st.accepted, pass ? 0 : lines);
        cr_assert_eq(st.unchanged, pass ? lines : 0);
        cr_assert_eq(st.corrected, 0);
        cr_assert_eq(st.superseded, 1);
        cr_assert_eq(prb_count(env, NULL, &versions), PRB_OK);
        cr_assert_eq(versions, lines);
    }
    cr_assert_eq(prb_subject_read(env, who, &f), PRB_OK, "%s", prb_errmsg(env));
    int found = 0;
    for (size_t i = 0; i < prb_file_nrecords(f); i++)
        if (!strcmp(prb_file_record(f, i)->ref, ref)) {
            found = 1;
            cr_assert_eq(prb_file_record(f, i)->version, 1);
            cr_assert(!strncmp(prb_file_record(f, i)->legal_basis, "amended ", 8), "%s",
                      prb_file_record(f, i)->legal_basis);
        }
    cr_assert(found, "%s of %s", ref, who);
    prb_file_free(f);
    free(g.p);
    prb_close(env);
    th_rmrf(dir);
}

/* A handle that may not grow its map (prb_set_fixed_map, as the server's
 * are) fails a batch that does not fit with PRB_EFULL and writes none of
 * it; the same handle allowed to grow takes the batch whole. */
Test(ingest, a_fixed_map_refuses_a_batch_that_does_not_fit)
{
    char *dir;
    struct th_buf g = {0};
    prb_ingest_stats st;
    uint64_t lines, subjects = 0, versions = 0;
    prb_env *env = small_map_register(&dir, &g, &lines);
    prb_set_fixed_map(env, 1);
    cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_EFULL);
    cr_assert(strstr(prb_errmsg(env), "the map (1 MiB) is full and this handle may not grow it"),
              "%s", prb_errmsg(env));
    cr_assert_eq(prb_count(env, &subjects, &versions), PRB_OK);
    cr_assert_eq(subjects, 0);
    cr_assert_eq(versions, 0);
    prb_set_fixed_map(env, 0);
    cr_assert_eq(th_ingest(env, "big", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, lines);
    cr_assert_eq(prb_count(env, &subjects, &versions), PRB_OK);
    cr_assert_eq(versions, lines);
    free(g.p);
    prb_close(env);
    th_rmrf(dir);
}

/* Short lines: more records than the batch sized its tables for, so the
 * (furnisher, ref) table grows while the batch is applied; every record
 * is still found after it (the second half supersedes the first: a
 * record not found would be stored twice). */
Test(ingest, tables_grow_past_their_estimate_and_find_every_record)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    enum { N = 2000 };
    size_t cap = (size_t)N * 2 * 128 + 256, used = 0;
    char *csv = malloc(cap);
    cr_assert_not_null(csv);
    used += (size_t)snprintf(csv, cap,
                             "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                             "settled_date,legal_basis,amount,currency\n");
    size_t header = used, second = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            second = used;
        for (int i = 0; i < N; i++)
            used += (size_t)snprintf(csv + used, cap - used,
                                     "bank-a,R%d,person,ext:bank-a:K%d,payment_default,open,"
                                     "2025-03-01,,x,%d.00,EUR\n",
                                     i, i % 500, 10 + pass);
    }
    cr_assert_lt(used, cap);
    cr_assert_lt(used / 300, (size_t)N, "the lines must be shorter than the batch expects");
    cr_assert_eq(th_ingest(env, "short.csv", csv, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, N);
    cr_assert_eq(st.superseded, N);
    cr_assert_eq(st.corrected, 0);
    uint64_t subjects = 0, versions = 0;
    cr_assert_eq(prb_count(env, &subjects, &versions), PRB_OK);
    cr_assert_eq(subjects, 500);
    cr_assert_eq(versions, N);
    /* The second half alone, sent again (header, then the second half):
     * each is what the register holds now. */
    memmove(csv + header, csv + second, used - second + 1);
    cr_assert_eq(th_ingest(env, "again.csv", csv, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.unchanged, N, "unchanged %llu", (unsigned long long)st.unchanged);
    cr_assert_eq(st.corrected, 0);
    free(csv);
    prb_close(env);
    th_rmrf(dir);
}

/* CSV cells are checked as UTF-8, as NDJSON strings are: a byte that is
 * not UTF-8 was stored, and the subject's file could no more be written
 * as JSON (its copy failed for good, "out of memory"). A byte order mark
 * before the header is skipped. */
Test(ingest, csv_text_is_utf8)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *head = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                       "settled_date,legal_basis,amount,currency\n";
    char csv[1024];
    snprintf(csv, sizeof csv,
             "%sbank-a,L-\xff,person,cn-rid:11010519491231002X,payment_default,open,"
             "2025-03-01,,x,1.00,EUR\n",
             head);
    uint64_t v0 = versions(env);
    cr_assert_eq(th_ingest(env, "u.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    cr_assert(strstr(prb_ingest_error(b, 0), "u.csv:2: record: CSV: column 2 (ref) is not UTF-8 "
                                             "text at byte 3"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), v0);
    snprintf(csv, sizeof csv,
             "\xef\xbb\xbf%sbank-a,L-\xc3\xa9,person,cn-rid:11010519491231002X,payment_default,"
             "open,2025-03-01,,x,1.00,EUR\n",
             head);
    cr_assert_eq(th_ingest(env, "bom.csv", csv, PRB_FMT_CSV, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, 1);
    prb_file *f = NULL;
    const char *json;
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(prb_file_json(f, &json), PRB_OK);
    cr_assert(strstr(json, "L-\xc3\xa9"), "%s", json);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A message is read as JSON (the server lists them; jansson refuses a
 * string that is not UTF-8 and the message was dropped): a header cell
 * that is not UTF-8 is refused by its column and byte, as a row's cell
 * is, not echoed; and a value cut short in a message is cut where a
 * character begins. */
static void expect_utf8_message(prb_env *env, const char *name, const char *text, int format,
                                const char *want)
{
    prb_ingest_stats st;
    prb_ingest *b = NULL;
    uint64_t v0 = versions(env);
    cr_assert_eq(th_ingest(env, name, text, format, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    const char *msg = prb_ingest_error(b, 0);
    json_t *s = json_string(msg);
    cr_expect_not_null(s, "not UTF-8: %s", msg);
    json_decref(s);
    cr_expect(strstr(msg, want) != NULL, "%s", msg);
    prb_ingest_free(b);
    cr_assert_eq(versions(env), v0);
}

Test(ingest, error_messages_are_utf8)
{
    char *dir;
    prb_env *env = th_register(&dir);
    const char *head = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                       "settled_date,legal_basis,amount,currency\n";
    /* 16 euro signs: 48 bytes, cut at 40 or 64 in the middle of one. */
    const char *euros = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                        "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                        "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";
    char text[2048];

    /* A Windows-1252 export: "Währung" with a single byte for the a-umlaut. */
    expect_utf8_message(env, "w.csv",
                        "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                        "settled_date,legal_basis,amount,W\xe4hrung\n"
                        "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                        "2025-03-01,,x,1.00,EUR\n",
                        PRB_FMT_CSV, "w.csv:1: header: column 11 is not UTF-8 text at byte 2");

    snprintf(text, sizeof text,
             "%sbank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
             "2025-03-01,,x,%s,EUR\n",
             head, euros);
    expect_utf8_message(env, "a.csv", text, PRB_FMT_CSV, "a.csv:2: fields.amount: '");

    snprintf(text, sizeof text,
             "%sbank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
             "%s,,x,1.00,EUR\n",
             head, euros);
    expect_utf8_message(env, "d.csv", text, PRB_FMT_CSV, "d.csv:2: event_date: '");

    /* Names cut at 64 bytes: 22 euro signs are 66. */
    char name[80];
    snprintf(name, sizeof name, "%s%.18s", euros, euros);
    snprintf(text, sizeof text, PD(",\"%s\":1", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
             name);
    expect_utf8_message(env, "k.ndjson", text, PRB_FMT_NDJSON, "k.ndjson:1: \xe2\x82\xac");
    snprintf(text, sizeof text, PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\",\"%s\":1}"),
             name);
    expect_utf8_message(env, "f.ndjson", text, PRB_FMT_NDJSON, "f.ndjson:1: fields.\xe2\x82\xac");
    prb_close(env);
    th_rmrf(dir);
}

/* A row is skipped only when it holds nothing: a blank line (a file
 * ending "\n\n" was refused whole as "1 cells") or a row of empty cells.
 * A row with only some cells filled is a record with its required cells
 * missing, and was skipped without a word. */
Test(ingest, csv_blank_and_partial_rows)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,1.00,EUR\n"
                      "\n"
                      "bank-a,,person,,,open,2025-03-01,,loan contract,,\n"
                      ",,,,,,,,,,\n"
                      "\r\n"
                      "bank-a,L-2,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,2.00,EUR\n"
                      "\n";
    cr_assert_eq(th_ingest(env, "p.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 1, "%zu: %s", prb_ingest_nerrors(b),
                 prb_ingest_error(b, 0));
    cr_expect(strstr(prb_ingest_error(b, 0), "p.csv:4: ref: required") != NULL, "%s",
              prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 0);

    cr_assert_eq(th_ingest(env, "p.csv", csv, PRB_FMT_CSV, 1, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.accepted, 2);
    cr_expect_eq(st.rejected, 1);
    cr_assert_eq(versions(env), 2);
    prb_close(env);
    th_rmrf(dir);
}

/* After a row's syntax error, reading goes on where that row ends, which
 * may be lines later inside a quoted cell; it went on at the next line
 * end, and with skip_bad a line of the bad row's quoted text that looked
 * like a row was stored as a record. */
Test(ingest, csv_bad_row_does_not_leak_its_quoted_text)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      /* lines 2-4: text after the closing quote */
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,\"basis, first line\n"
                      "bank-a,L-2,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,1.00,EUR\n"
                      "last line\"x,1.00,EUR\n"
                      /* lines 5-7: a quote inside an unquoted cell, before a quoted one */
                      "bank-a,L\"3,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,\"first\n"
                      "bank-a,L-4,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,1.00,EUR\n"
                      "end\",1.00,EUR\n"
                      /* line 8: a bad amount, named by its own line */
                      "bank-a,L-5,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,abc,EUR\n";
    cr_assert_eq(th_ingest(env, "q.csv", csv, PRB_FMT_CSV, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.accepted, 0);
    cr_expect_eq(st.rejected, 3);
    cr_assert_eq(prb_ingest_nerrors(b), 3, "%zu", prb_ingest_nerrors(b));
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "q.csv:2: record: CSV: a quoted cell opened at line 2, column 78 runs to "
                     "line 4, where text follows its closing quote; the row spans lines 2-4"),
              "%s", prb_ingest_error(b, 0));
    cr_expect(strstr(prb_ingest_error(b, 1), "q.csv:5: record: CSV: quote inside an unquoted "
                                             "cell; the row spans lines 5-7"),
              "%s", prb_ingest_error(b, 1));
    cr_expect(strstr(prb_ingest_error(b, 2), "q.csv:8: fields.amount: 'abc'"), "%s",
              prb_ingest_error(b, 2));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A column in a message is where an editor shows it: in characters
 * (code points) from 1, not bytes. After "银行," (7 bytes, 3 characters)
 * "column 8" pointed past the quote a reader saw at column 4. */
Test(ingest, a_column_is_counted_in_characters)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "\u94f6\u884c,\"L-1\"x,person,cn-rid:11010519491231002X,payment_default,"
                      "open,2025-03-01,,x,1.00,EUR\n";
    cr_assert_eq(th_ingest(env, "c.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0), "c.csv:2: record: CSV: text after the closing quote "
                                             "of a cell quoted at line 2, column 4"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    /* In NDJSON: the x after "参考", at column 13 (byte 17). */
    cr_assert_eq(
        th_ingest(env, "c.ndjson", "{\"ref\":\"\u53c2\u8003\",x}\n", PRB_FMT_NDJSON, 0, &st, &b),
        PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0), "at column 13"), "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A stray quote opening a cell makes one row of the lines up to the next
 * quote, each of which looked like a row: the message named only the
 * first line ("text after a quoted cell") and --skip-bad dropped the rows
 * it swallowed as one rejected. It says where the quote opened and which
 * lines went with it. */
Test(ingest, csv_stray_quote_names_the_lines_it_swallows)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *head = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                       "settled_date,legal_basis,amount,currency\n";
#define ROW(ref)                                                                                   \
    ref ",person,cn-rid:11010519491231002X,payment_default,open,2025-03-01,,x,1.00,EUR\n"
    char csv[4096];
    snprintf(csv, sizeof csv, "%s%s%s%s%s%s%s%s", head, "bank-a,\"" ROW("L-1"),
             "bank-a," ROW("L-2"), "bank-a," ROW("L-3"), "bank-a," ROW("L-4"), "bank-a," ROW("L-5"),
             "bank-a,\"L-6\"" ROW(""), "bank-a," ROW("L-7"));
    cr_assert_eq(th_ingest(env, "s.csv", csv, PRB_FMT_CSV, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.accepted, 1);
    cr_expect_eq(st.rejected, 1);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "s.csv:2: record: CSV: a quoted cell opened at line 2, column 8 runs to "
                     "line 7, where text follows its closing quote; the row spans lines 2-7"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);

    /* Never closed: the row runs to the end of the input. */
    snprintf(csv, sizeof csv, "%s%s%s%s", head, "bank-a,L-8," ROW("\"L-9"), "bank-a," ROW("L-10"),
             "bank-a," ROW("L-11"));
    cr_assert_eq(th_ingest(env, "u.csv", csv, PRB_FMT_CSV, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.rejected, 1);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "u.csv:2: record: CSV: a quoted cell opened at line 2, column 12 is never "
                     "closed; the row spans lines 2-4"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);

    /* On one line the message is short. */
    snprintf(csv, sizeof csv, "%s%s", head, "bank-a,\"L-12\"x" ROW(""));
    cr_assert_eq(th_ingest(env, "o.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0), "o.csv:2: record: CSV: text after the closing quote "
                                             "of a cell quoted at line 2, column 8"),
              "%s", prb_ingest_error(b, 0));
    cr_expect(!strstr(prb_ingest_error(b, 0), "spans"), "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
#undef ROW
    cr_assert_eq(versions(env), 1);
    prb_close(env);
    th_rmrf(dir);
}

/* A carriage return that ends no line (old Mac line ends, or one inside
 * an unquoted cell) was "text after a quoted cell", where there was none. */
Test(ingest, csv_lone_carriage_return_is_named)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,loan\rx,1.00,EUR\n";
    cr_assert_eq(th_ingest(env, "c.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "c.csv:2: record: CSV: a carriage return not followed by a line feed"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    const char *mac = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,amount,currency\r"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                      "2025-03-01,,x,1.00,EUR\r";
    cr_assert_eq(th_ingest(env, "m.csv", mac, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_expect(strstr(prb_ingest_error(b, 0),
                     "m.csv:1: header: a carriage return not followed by a line feed"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A byte order mark before the first line (Windows tools write one) made
 * it "must be an object", the cause invisible. It is skipped there, as
 * CSV's is; anywhere else it is still no JSON. */
Test(ingest, ndjson_byte_order_mark_is_skipped)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    char text[2048];
    snprintf(text, sizeof text, "\xef\xbb\xbf%s\n\xef\xbb\xbf%s\n",
             PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
             PD("", "{\"amount\":\"2.00\",\"currency\":\"EUR\"}"));
    *strstr(strchr(text, '\n'), "L-1") = 'M'; /* the second line is M-1 */
    cr_assert_eq(th_ingest(env, "b.ndjson", text, PRB_FMT_NDJSON, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.accepted, 1);
    cr_expect_eq(st.rejected, 1);
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    cr_expect(strstr(prb_ingest_error(b, 0), "b.ndjson:2: record:"), "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 1);
    prb_close(env);
    th_rmrf(dir);
}

/* A whole number past 17 digits was refused as "must be a whole number",
 * which it is: it is too large, and the field's range is given. */
Test(ingest, an_integer_past_17_digits_is_too_large)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *line =
        "{\"furnisher\":\"bank-a\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":\"cn-"
        "rid:"
        "11010519491231002X\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":"
        "\"2025-03-01\",\"legal_basis\":\"x\",\"fields\":{\"account_type\":\"revolving\","
        "\"opened_date\":\"2020-01-01\",\"credit_limit\":\"1.00\",\"balance\":\"0.00\","
        "\"currency\":\"EUR\",\"worst_dpd\":%s}}\n";
    const struct {
        const char *value, *want;
    } cases[] = {
        {"123456789012345678", "fields.worst_dpd: '123456789012345678' is too large: the field "
                               "takes 0..3650"},
        {"-123456789012345678", "fields.worst_dpd: '-123456789012345678' is too small: the field "
                                "takes 0..3650"},
        {"1.5", "fields.worst_dpd: must be a whole number"},
    };
    char text[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, line, cases[i].value);
        cr_assert_eq(th_ingest(env, "i.ndjson", text, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
        cr_expect(strstr(prb_ingest_error(b, 0), cases[i].want), "case %zu: %s", i,
                  prb_ingest_error(b, 0));
        prb_ingest_free(b);
    }
    const char *csv = "furnisher,ref,subject_kind,subject_id,category,status,event_date,"
                      "settled_date,legal_basis,account_type,opened_date,credit_limit,balance,"
                      "currency,worst_dpd\n"
                      "bank-a,L-1,person,cn-rid:11010519491231002X,credit_account,open,"
                      "2025-03-01,,x,revolving,2020-01-01,1.00,0.00,EUR,123456789012345678\n"
                      "bank-a,L-2,person,cn-rid:11010519491231002X,credit_account,open,"
                      "2025-03-01,,x,revolving,2020-01-01,1.00,0.00,EUR,000000000000000030\n";
    cr_assert_eq(th_ingest(env, "i.csv", csv, PRB_FMT_CSV, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_expect_eq(st.accepted, 1); /* leading zeros are no digits of its size */
    cr_assert_eq(prb_ingest_nerrors(b), 1);
    cr_expect(strstr(prb_ingest_error(b, 0), "i.csv:2: fields.worst_dpd: '123456789012345678' is "
                                             "too large: the field takes 0..3650"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

/* A header may name more field columns than one record may fill (the
 * policy bounds each category's fields, not all of them together): a row
 * filling more than 32 is refused. Before, its cells were written past
 * the record's 32 slots, on the stack. */
Test(ingest, csv_row_with_too_many_fields)
{
    char *dir = th_tmpdir(), src[512], pol[600], reg[600], csv[8192];
    prb_env *env = NULL;
    prb_ingest_stats st;
    prb_ingest *b;
    json_error_t jerr;
    json_t *p = json_load_file(th_path(src, sizeof src, "policy/default.json"), 0, &jerr);
    cr_assert_not_null(p, "%s", jerr.text);
    json_t *cats = json_object_get(p, "categories");
    const char *names[2] = {"credit_account", "payment_default"};
    for (int c = 0; c < 2; c++) {
        json_t *fields = json_object_get(json_object_get(cats, names[c]), "fields");
        for (int i = 0; i < 20; i++) {
            char f[16];
            snprintf(f, sizeof f, "%c%02d", 'f' + c, i);
            json_object_set_new(fields, f,
                                json_pack("{s:s, s:b}", "type", "string", "required", 0));
        }
    }
    snprintf(pol, sizeof pol, "%s/policy.json", dir);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(json_dump_file(p, pol, JSON_INDENT(2)), 0);
    json_decref(p);
    cr_assert_eq(prb_init(reg, pol, &env), PRB_OK, "%s", prb_errmsg(env));
    int k = snprintf(csv, sizeof csv,
                     "furnisher,ref,subject_kind,subject_id,category,status,"
                     "event_date,settled_date,legal_basis");
    for (int i = 0; i < 33; i++)
        k += snprintf(csv + k, sizeof csv - (size_t)k, ",%c%02d", 'f' + i / 20, i % 20);
    k += snprintf(csv + k, sizeof csv - (size_t)k,
                  "\nbank-a,L-1,person,cn-rid:11010519491231002X,payment_default,open,"
                  "2025-03-01,,x");
    for (int i = 0; i < 33; i++)
        k += snprintf(csv + k, sizeof csv - (size_t)k, ",v");
    snprintf(csv + k, sizeof csv - (size_t)k, "\n");
    cr_assert_eq(th_ingest(env, "wide.csv", csv, PRB_FMT_CSV, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0), "wide.csv:2: record: CSV: more than 32 field cells"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

/* An amount is bounded in minor units: 17 digits of euros were scaled by
 * 100 past int64 and stored with the other sign (undefined behaviour
 * first). The largest that fits is taken. */
Test(ingest, amount_bound_in_minor_units)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    const char *amounts[] = {"99999999999999999", "9999999999999999", "-9999999999999999"};
    uint64_t v0 = versions(env);
    for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++) {
        snprintf(line, sizeof line,
                 "{\"furnisher\":\"bank-a\",\"ref\":\"A-%zu\",\"subject\":{\"kind\":\"person\","
                 "\"id\":\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\","
                 "\"status\":\"open\",\"event_date\":\"2025-03-01\",\"settled_date\":null,"
                 "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"%s\",\"currency\":\"EUR\"}}\n",
                 i, amounts[i]);
        cr_assert_eq(th_ingest(env, "a.ndjson", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED,
                     "%s", amounts[i]);
        cr_assert(strstr(prb_ingest_error(b, 0), "is too large"), "%s: %s", amounts[i],
                  prb_ingest_error(b, 0));
        prb_ingest_free(b);
    }
    cr_assert_eq(versions(env), v0);
    snprintf(line, sizeof line,
             "{\"furnisher\":\"bank-a\",\"ref\":\"A-9\",\"subject\":{\"kind\":\"person\","
             "\"id\":\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\","
             "\"status\":\"open\",\"event_date\":\"2025-03-01\",\"settled_date\":null,"
             "\"legal_basis\":\"x\",\"fields\":{\"amount\":\"999999999999999.99\","
             "\"currency\":\"EUR\"}}\n");
    cr_assert_eq(th_ingest(env, "a.ndjson", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    prb_file *f = NULL;
    const char *json;
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_json(f, &json), PRB_OK);
    cr_assert(strstr(json, "\"999999999999999.99\""), "%s", json);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A correction keeps its record's first receipt, from which the notice
 * period runs: a neutral record corrected into an adverse one took
 * effect at once, with no hearing (invariant 4). A correction may not
 * change the category; the same category corrected is taken. */
Test(ingest, correction_keeps_its_category)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    cr_assert_eq(th_ingest(env, "a.ndjson",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "L-9"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    uint64_t v0 = versions(env);
    snprintf(line, sizeof line,
             "{\"furnisher\":\"src-a\",\"ref\":\"L-9\",\"subject\":{\"kind\":\"person\","
             "\"id\":\"cn-rid:11010519491231002X\"},\"category\":\"payment_default\","
             "\"status\":\"open\",\"event_date\":\"2026-10-01\",\"settled_date\":null,"
             "\"legal_basis\":\"test\",\"fields\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n");
    cr_assert_eq(th_ingest(env, "b.ndjson", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "b.ndjson:1: category: a correction may not change a record's category (it "
                     "is credit_account)"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), v0);
    th_account(line, sizeof line, "cn-rid:11010519491231002X", "L-9");
    char *bal = strstr(line, "\"10.00\"");
    cr_assert_not_null(bal);
    memcpy(bal, "\"20.00\"", 7);
    cr_assert_eq(th_ingest(env, "c.ndjson", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 1);
    prb_close(env);
    th_rmrf(dir);
}

/* A line refused when the batch is applied changes nothing, with
 * skip_bad too: its identifiers were joined to the subject (an audit
 * leaf, an index entry, the subject rewritten) before the correction it
 * carried was refused for changing the category, so a refused line made
 * a new identifier, here a tax id, name someone's file. */
Test(ingest, a_rejected_correction_links_no_identifier)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    prb_file *f = NULL;
    cr_assert_eq(th_ingest(env, "a.ndjson",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "L-9"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    uint64_t v0 = versions(env), n0 = log_size(env);
    snprintf(line, sizeof line,
             "{\"furnisher\":\"src-a\",\"ref\":\"L-9\",\"subject\":{\"kind\":\"person\","
             "\"id\":\"cn-rid:11010519491231002X\",\"aliases\":[\"ext:src-a:K-1\","
             "\"de-taxid:65929970489\"]},\"category\":\"payment_default\",\"status\":\"open\","
             "\"event_date\":\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"test\","
             "\"fields\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n");
    cr_assert_eq(th_ingest(env, "b.ndjson", line, PRB_FMT_NDJSON, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.rejected, 1);
    cr_assert(strstr(prb_ingest_error(b, 0), "b.ndjson:1: category: a correction may not change"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), v0);
    cr_assert_eq(log_size(env), n0, "the refused line was logged");
    cr_assert_eq(prb_subject_read(env, "ext:src-a:K-1", &f), PRB_ENOTFOUND);
    cr_assert_eq(prb_subject_read(env, "de-taxid:65929970489", &f), PRB_ENOTFOUND);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nidents(f), 1);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* The last notice in the outbox, as prb_notices_json lists it. */
static char *last_notice_text(prb_env *env)
{
    char *json = NULL, *out;
    cr_assert_eq(prb_notices_json(env, 0, &json), PRB_OK);
    json_t *a = json_loads(json, 0, NULL);
    free(json);
    out = strdup(
        json_string_value(json_object_get(json_array_get(a, json_array_size(a) - 1), "text")));
    json_decref(a);
    return out;
}

/* A correction's notice gives the date its record takes effect from: the
 * first version's receipt. It said "may not be used before" a date weeks
 * ahead while the corrected record was used the same day (invariant 4). */
Test(ingest, a_correction_notice_gives_the_records_own_date)
{
    char *dir, *text;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "a", PD("", "{\"amount\":\"100.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    text = last_notice_text(env);
    cr_assert(strstr(text, "reported a record") && strstr(text, "not be used before 2026-12-23"),
              "%s", text);
    free(text);
    /* Corrected within its hearing: the same date. */
    th_set_day(env, "2026-12-01");
    cr_assert_eq(th_ingest(env, "b", PD("", "{\"amount\":\"90.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(st.corrected, 1);
    text = last_notice_text(env);
    cr_assert(strstr(text, "corrected its record") && strstr(text, "not be used before 2026-12-23"),
              "%s", text);
    free(text);
    /* Corrected months later: in effect since then, used as corrected. */
    th_set_day(env, "2027-06-01");
    cr_assert_eq(th_ingest(env, "c", PD("", "{\"amount\":\"10000.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(st.corrected, 1);
    text = last_notice_text(env);
    cr_assert(strstr(text, "has been in effect since 2026-12-23"), "%s", text);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* A record whose id is new but whose alias names a subject goes to that
 * subject, and its id becomes that subject's too: a later record under
 * the id alone went to a second subject, splitting the person's file. */
Test(ingest, a_record_found_by_alias_links_its_own_id)
{
    char *dir, line[2048];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    uint64_t subjects;
    cr_assert_eq(th_ingest(env, "a",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    th_account(line, sizeof line, "ext:src-a:C-77", "A-2");
    char *id = strstr(line, "\"ext:src-a:C-77\"");
    cr_assert_not_null(id);
    char rest[2048];
    snprintf(rest, sizeof rest, "%s", id + strlen("\"ext:src-a:C-77\""));
    snprintf(id, sizeof line - (size_t)(id - line),
             "\"ext:src-a:C-77\",\"aliases\":[\"cn-rid:11010519491231002X\"]%s", rest);
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(th_ingest(env, "c", th_account(line, sizeof line, "ext:src-a:C-77", "A-3"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_count(env, &subjects, NULL), PRB_OK);
    cr_assert_eq(subjects, 1, "the person's file was split in %llu", (unsigned long long)subjects);
    prb_file *f = NULL;
    cr_assert_eq(prb_subject_read(env, "ext:src-a:C-77", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 3);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A record of furnisher furn and reference ref about a subject of kind,
 * by id and the aliases given (a JSON array's inside, "" for none). */
static char *aliased(char *buf, size_t n, const char *furn, const char *ref, const char *kind,
                     const char *id, const char *aliases)
{
    snprintf(buf, n,
             "{\"furnisher\":\"%s\",\"ref\":\"%s\",\"subject\":{\"kind\":\"%s\",\"id\":\"%s\","
             "\"aliases\":[%s]},\"category\":\"payment_default\",\"status\":\"open\","
             "\"event_date\":\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"test\","
             "\"fields\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n",
             furn, ref, kind, id, aliases);
    return buf;
}

/* Ingests line, which must be refused with skip_bad and change nothing
 * (no record, no audit leaf); its message must hold want. */
static void refused_alone(prb_env *env, const char *line, const char *want)
{
    prb_ingest_stats st;
    prb_ingest *b;
    uint64_t v0 = versions(env), n0 = log_size(env);
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 1, &st, &b), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.rejected, 1, "accepted: %s", line);
    cr_assert(strstr(prb_ingest_error(b, 0), want), "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), v0);
    cr_assert_eq(log_size(env), n0, "the refused line was logged");
}

/* One person has one resident id. A record naming a subject by its
 * resident id and another person's as an alias joined the second number
 * to the first person's file for good: records about its holder were
 * filed and decided there, and a subject key made for it read the whole
 * file. Such a line is refused and writes nothing, whichever of the two
 * found the subject, and so are two of one scheme on a new subject. */
Test(ingest, a_second_resident_id_is_refused_and_writes_nothing)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    prb_file *f = NULL;
    cr_assert_eq(th_ingest(env, "a",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    aliased(line, sizeof line, "bank-b", "B-1", "person", "cn-rid:11010519491231002X",
            "\"cn-rid:110105198001011238\"");
    /* Without skip_bad the batch is refused, with the reason. */
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "b:1: subject.aliases: cn-rid:110105198001011238 cannot join the subject "
                     "that has cn-rid:11010519491231002X: one person has one resident id"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    refused_alone(env, line,
                  "subject.aliases: cn-rid:110105198001011238 cannot join the subject that has "
                  "cn-rid:11010519491231002X");
    /* The other way round: the second number is the record's id. */
    refused_alone(env,
                  aliased(line, sizeof line, "bank-b", "B-2", "person", "cn-rid:110105198001011238",
                          "\"cn-rid:11010519491231002X\""),
                  "subject.id: cn-rid:110105198001011238 cannot join the subject that has "
                  "cn-rid:11010519491231002X: one person has one resident id");
    /* Nor does a new subject start with two. */
    refused_alone(env,
                  aliased(line, sizeof line, "bank-b", "B-3", "person", "cn-rid:440304200002291236",
                          "\"cn-rid:110105198001011238\""),
                  "subject.aliases: cn-rid:440304200002291236 and cn-rid:110105198001011238 "
                  "cannot both name one subject: one person has one resident id");
    cr_assert_eq(prb_subject_read(env, "cn-rid:110105198001011238", &f), PRB_ENOTFOUND);
    cr_assert_eq(prb_subject_read(env, "cn-rid:440304200002291236", &f), PRB_ENOTFOUND);
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nidents(f), 1);
    cr_assert_eq(prb_file_nrecords(f), 1);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A national number joining a file the record found by another is told
 * to the subject, who can see it in the copy and contest it: before,
 * only an audit leaf said so. A furnisher's own key is not (it says how
 * the furnisher files them), a number already linked is not told again,
 * and a second tax id is refused. */
Test(ingest, a_number_joining_a_file_is_told_to_its_subject)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    size_t n;
    cr_assert_eq(th_ingest(env, "a",
                           th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    th_set_day(env, "2026-12-02");
    aliased(line, sizeof line, "bank-b", "B-1", "person", "cn-rid:11010519491231002X",
            "\"de-taxid:86095742719\",\"ext:bank-b:K-1\"");
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    json_t *x = th_copy_notices(env, "cn-rid:11010519491231002X", "identifier_linked", &n, NULL);
    cr_assert_eq(n, 1, "%zu notices of a linked identifier", n);
    cr_assert_str_eq(json_string_value(json_object_get(x, "about")), "de-taxid:86095742719");
    cr_assert_str_eq(json_string_value(json_object_get(x, "created")), "2026-12-02");
    const char *text = json_string_value(json_object_get(x, "text"));
    cr_assert(strstr(text, "bank-b linked the identifier de-taxid:86095742719 to your file on "
                           "2026-12-02") &&
                  strstr(text, "record B-1"),
              "%s", text);
    json_decref(x);
    /* Sent again, and by the tax id alone: nothing new joins. */
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(
        th_ingest(env, "c",
                  aliased(line, sizeof line, "bank-c", "C-1", "person", "de-taxid:86095742719", ""),
                  PRB_FMT_NDJSON, 0, &st, NULL),
        PRB_OK, "%s", prb_errmsg(env));
    json_decref(th_copy_notices(env, "cn-rid:11010519491231002X", "identifier_linked", &n, NULL));
    cr_assert_eq(n, 1);
    /* A second tax id is someone else's. */
    refused_alone(env,
                  aliased(line, sizeof line, "bank-c", "C-2", "person", "de-taxid:86095742719",
                          "\"de-taxid:65929970489\""),
                  "subject.aliases: de-taxid:65929970489 cannot join the subject that has "
                  "de-taxid:86095742719: one person has one tax id");
    prb_file *f = NULL;
    cr_assert_eq(prb_subject_read(env, "de-taxid:65929970489", &f), PRB_ENOTFOUND);
    prb_file_free(f);
    prb_close(env);
    th_rmrf(dir);
}

/* A refusal names the identifier that found the subject: found through
 * an alias, it named the record's own id, which no one had. */
Test(ingest, a_refusal_names_the_identifier_that_found_the_subject)
{
    char *dir, line[1024], both[4096];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b;
    snprintf(both, sizeof both, "%s",
             th_account(line, sizeof line, "cn-rid:11010519491231002X", "A-1"));
    strcat(both, th_account(line, sizeof line, "cn-rid:440304200002291236", "A-2"));
    strcat(both, aliased(line, sizeof line, "bank-a", "CO-1", "company", "ext:bank-a:CO-1", ""));
    cr_assert_eq(th_ingest(env, "a", both, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    aliased(line, sizeof line, "bank-a", "D-1", "person", "de-taxid:65929970489",
            "\"cn-rid:11010519491231002X\",\"cn-rid:440304200002291236\"");
    cr_assert_eq(th_ingest(env, "b", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "b:1: subject.aliases: cn-rid:11010519491231002X and "
                     "cn-rid:440304200002291236 are identifiers of two different subjects"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    aliased(line, sizeof line, "bank-a", "D-2", "person", "cn-rid:310104197511204562",
            "\"ext:bank-a:CO-1\"");
    cr_assert_eq(th_ingest(env, "c", line, PRB_FMT_NDJSON, 0, &st, &b), PRB_EREJECTED);
    cr_assert(strstr(prb_ingest_error(b, 0),
                     "c:1: subject.aliases: ext:bank-a:CO-1, given as an alias of "
                     "cn-rid:310104197511204562, is a company in the register, not a person"),
              "%s", prb_ingest_error(b, 0));
    prb_ingest_free(b);
    prb_close(env);
    th_rmrf(dir);
}

/* A record sent again within one batch, around many new records of its
 * subject: unchanged, the second copy superseding the first, whatever
 * the batch's writes did to the pages the stored version was read from
 * (the stored version is copied when read: LMDB's data is valid only
 * until the next write). */
Test(ingest, the_same_record_twice_around_a_batch_of_its_subject)
{
    char *dir, line[1024];
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    struct th_buf batch = {0};
    const char *who = "cn-rid:11010519491231002X";
    cr_assert_eq(th_ingest(env, "a", th_account(line, sizeof line, who, "R-1"), PRB_FMT_NDJSON, 0,
                           &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
    uint64_t v0 = versions(env);
    for (int i = 0; i < 602; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "N-%d", i);
        th_account(line, sizeof line, who, i == 1 || i == 601 ? "R-1" : ref);
        th_collect(&batch, line, strlen(line));
    }
    cr_assert_eq(th_ingest(env, "b", batch.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    free(batch.p);
    cr_assert_eq(st.unchanged, 1);
    cr_assert_eq(st.superseded, 1);
    cr_assert_eq(st.corrected, 0);
    cr_assert_eq(st.accepted, 600);
    cr_assert_eq(versions(env), v0 + 600);
    prb_close(env);
    th_rmrf(dir);
}

static int ingest_keeping(prb_env *env, const char *text, int skip_bad, size_t max_errors,
                          prb_ingest_stats *st, prb_ingest **b)
{
    prb_ingest_opts o = {NULL, skip_bad, 2, max_errors};
    int rc = prb_ingest_begin(env, &o, b);
    if (!rc)
        rc = prb_ingest_add(*b, "in", text, strlen(text), PRB_FMT_NDJSON);
    if (!rc)
        rc = prb_ingest_commit(*b, st);
    return rc;
}

/* A body of millions of bad lines kept a message each (~60 times the
 * body on the writer thread). With max_errors the batch keeps the first
 * ones, in input order across parse threads, chunks and the apply pass,
 * and counts the rest; the good records after them are stored whole. */
Test(ingest, only_the_first_errors_are_kept)
{
    char *dir;
    prb_env *env = th_register(&dir);
    prb_ingest_stats st;
    prb_ingest *b = NULL;
    cr_assert_eq(th_ingest(env, "1", PD("", "{\"amount\":\"1.00\",\"currency\":\"EUR\"}"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    cr_assert_eq(th_ingest(env, "1",
                           "{\"furnisher\":\"bank-a\",\"ref\":\"P-1\",\"subject\":{\"kind\":"
                           "\"person\",\"id\":\"ext:bank-a:P1\"},\"category\":\"payment_default\","
                           "\"status\":\"open\",\"event_date\":\"2025-03-01\",\"legal_basis\":"
                           "\"x\",\"fields\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}",
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK);
    /* Each group: an apply-pass rejection, a parse error, a check error;
     * 5,000 of them span two 2-MiB chunks. Three good records last. */
    enum { GROUPS = 5000 };
    size_t cap = GROUPS * 1024 + 4096, n = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (int i = 0; i < GROUPS; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "{\"furnisher\":\"bank-a\",\"ref\":\"C-%d\",\"subject\":{\"kind\":"
                              "\"company\",\"id\":\"ext:bank-a:P1\"},\"category\":"
                              "\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-"
                              "01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"1.00\","
                              "\"currency\":\"EUR\"}}\n1\n%s\n",
                              i, bad_lines[9].line);
    cr_assert_gt(n, 2u << 20);
    for (int i = 1; i <= 3; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "{\"furnisher\":\"bank-a\",\"ref\":\"G-%d\",\"subject\":{\"kind\":"
                              "\"person\",\"id\":\"cn-rid:11010519491231002X\"},\"category\":"
                              "\"payment_default\",\"status\":\"open\",\"event_date\":\"2025-03-"
                              "01\",\"legal_basis\":\"x\",\"fields\":{\"amount\":\"%d.25\","
                              "\"currency\":\"EUR\"}}\n",
                              i, i);
    static const char *const want[] = {"in:1: subject.kind", "in:2: record: must be an object",
                                       "in:3: fields.colour", "in:4: subject.kind",
                                       "in:5: record: must be an object"};

    cr_assert_eq(ingest_keeping(env, text, 0, 5, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert(!strncmp(prb_ingest_error(b, i), want[i], strlen(want[i])), "%zu: %s", i,
                  prb_ingest_error(b, i));
    cr_assert_null(prb_ingest_error(b, 5));
    cr_assert_eq(st.rejected, 3 * GROUPS);
    cr_assert(strstr(prb_errmsg(env), "15000 bad records"), "%s", prb_errmsg(env));
    prb_ingest_free(b);
    cr_assert_eq(versions(env), 2);

    cr_assert_eq(ingest_keeping(env, text, 1, 5, &st, &b), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(st.accepted, 3);
    cr_assert_eq(st.rejected, 3 * GROUPS);
    cr_assert_eq(prb_ingest_nerrors(b), 5);
    prb_ingest_free(b);
    prb_file *f = NULL;
    cr_assert_eq(prb_subject_read(env, "cn-rid:11010519491231002X", &f), PRB_OK);
    cr_assert_eq(prb_file_nrecords(f), 4);
    int64_t sum = 0;
    for (size_t i = 0; i < 4; i++)
        sum += field(prb_file_record(f, i), "amount")->num;
    cr_assert_eq(sum, 100 + 125 + 225 + 325);
    prb_file_free(f);

    /* Unbounded, as the command line has it: every message. */
    cr_assert_eq(ingest_keeping(env, text, 0, 0, &st, &b), PRB_EREJECTED);
    cr_assert_eq(prb_ingest_nerrors(b), 3 * GROUPS);
    cr_assert_eq(st.rejected, 3 * GROUPS);
    cr_assert(!strncmp(prb_ingest_error(b, 3 * GROUPS - 1), "in:15000: fields.colour", 23), "%s",
              prb_ingest_error(b, 3 * GROUPS - 1));
    prb_ingest_free(b);
    free(text);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------- the inquirers told (told.c) */

#define ANNA "cn-rid:11010519491231002X"

/* A credit account of Anna's (neutral: in use from its receipt), as an
 * NDJSON line. */
static const char *account(char *buf, size_t n, const char *ref, const char *event,
                           const char *balance)
{
    snprintf(buf, n,
             "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"" ANNA "\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":"
             "\"%s\",\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":{\"account_type\":"
             "\"revolving\",\"opened_date\":\"2015-01-01\",\"credit_limit\":\"1000.00\","
             "\"balance\":\"%s\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n",
             ref, event, balance);
    return buf;
}

static void put_account(prb_env *env, const char *ref, const char *event, const char *balance)
{
    char line[1024];
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, ref, account(line, sizeof line, ref, event, balance),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_OK, "%s", prb_errmsg(env));
}

static void ask(prb_env *env, const char *purpose, const char *requester)
{
    prb_decision *d = NULL;
    cr_assert_eq(prb_decide(env, purpose, ANNA, requester, &d), PRB_OK, "%s", prb_errmsg(env));
    prb_decision_free(d);
}

/* Anna's file and who asked about it (decisions 1-q1 ... 1-q5):
 *   L-1 in use from 2026-01-10, L-2 from 2026-09-10 (credit accounts,
 *   which serve credit only);
 *   1-q1 bank-old, credit, 2026-02-01: could use L-1, but is older than
 *        six months by the corrections of 2026-11-25 and after;
 *   1-q2 bank-early, credit, 2026-09-01: could use L-1, not L-2 (before
 *        it came into use);
 *   1-q3 bank-x, credit, 2026-09-15, and 1-q5, 2026-10-01: could use
 *        both;
 *   1-q4 landlord, tenancy, 2026-09-15: a purpose credit accounts do not
 *        serve. */
static prb_env *asked_about(char **dir)
{
    prb_env *env = th_register(dir);
    th_set_day(env, "2026-01-10");
    put_account(env, "L-1", "2026-01-08", "10.00");
    th_set_day(env, "2026-02-01");
    ask(env, "credit", "bank-old");
    th_set_day(env, "2026-09-01");
    ask(env, "credit", "bank-early");
    th_set_day(env, "2026-09-10");
    put_account(env, "L-2", "2026-09-08", "20.00");
    th_set_day(env, "2026-09-15");
    ask(env, "credit", "bank-x");
    ask(env, "tenancy", "landlord");
    th_set_day(env, "2026-10-01");
    ask(env, "credit", "bank-x");
    return env;
}

/* The subject disputes record rec of ANNA's. */
static void disputed(prb_env *env, const char *rec)
{
    cr_assert_eq(prb_dispute_open(env, ANNA, rec, "The amount is wrong.", NULL), PRB_OK, "%s",
                 prb_errmsg(env));
}

/* A correction that answers the subject's dispute is told to the
 * inquirers given decisions that used the record (GDPR art. 19, FCRA
 * 611(d)): one notice to each, naming the record and its decisions, and
 * to no one whose decision did not use it (a purpose the record does not
 * serve, a decision before the record was in use) or is older than six
 * months. A furnisher's update no one disputed tells no one: it is the
 * record's course, not a rectification. */
Test(ingest, a_correction_is_told_to_the_inquirers_given_decisions)
{
    char *dir;
    prb_env *env = asked_about(&dir);
    json_t *n;
    th_set_day(env, "2026-11-24");
    put_account(env, "L-2", "2026-09-08", "24.00");
    cr_assert_eq(th_told(env, "inquirer_corrected", NULL, NULL), 0);
    th_set_day(env, "2026-11-25");
    disputed(env, "1-2");
    put_account(env, "L-2", "2026-09-08", "25.00");
    cr_assert_eq(th_told(env, "inquirer_corrected", NULL, NULL), 1);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-x", &n), 1);
    cr_assert_str_eq(json_string_value(json_object_get(n, "identifier")), ANNA);
    cr_assert_str_eq(json_string_value(json_object_get(n, "about")), "1-2");
    const char *text = json_string_value(json_object_get(n, "text"));
    cr_assert(strstr(text, "Record 1-2 ") && strstr(text, "corrected") &&
                  strstr(text, "2026-11-25") && strstr(text, "1-q3 of 2026-09-15 (credit)") &&
                  strstr(text, "1-q5 of 2026-10-01 (credit)") && strstr(text, "new decision"),
              "%s", text);
    /* The record by the id the decisions gave, nothing of what it says
     * nor whose it is. */
    cr_assert(!strstr(text, "25.00") && !strstr(text, "20.00") && !strstr(text, "L-1") &&
                  !strstr(text, "L-2") && !strstr(text, "src-a") &&
                  !strstr(text, "credit_account") && !strstr(text, "1-q1") &&
                  !strstr(text, "1-q2") && !strstr(text, "1-q4"),
              "%s", text);
    json_decref(n);

    /* L-1 was in use for bank-old's decision too, but that is older than
     * PRB_RECIPIENT_DAYS; bank-early's came after L-1 took effect. */
    th_set_day(env, "2026-11-26");
    disputed(env, "1-1");
    put_account(env, "L-1", "2026-01-08", "15.00");
    cr_assert_eq(th_told(env, "inquirer_corrected", NULL, NULL), 3);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-x", NULL), 2);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-early", &n), 1);
    text = json_string_value(json_object_get(n, "text"));
    cr_assert(strstr(text, "Record 1-1 ") && strstr(text, "1-q2 of 2026-09-01"), "%s", text);
    json_decref(n);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-old", NULL), 0);
    cr_assert_eq(th_told(env, "inquirer_corrected", "landlord", NULL), 0);

    /* Both in one batch: one notice to each, naming what it could use. */
    th_set_day(env, "2026-11-27");
    disputed(env, "1-1");
    disputed(env, "1-2");
    char lines[2048];
    size_t l = strlen(account(lines, sizeof lines, "L-1", "2026-01-08", "16.00"));
    account(lines + l, sizeof lines - l, "L-2", "2026-09-08", "26.00");
    prb_ingest_stats st;
    cr_assert_eq(th_ingest(env, "both", lines, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.corrected, 2);
    cr_assert_eq(th_told(env, "inquirer_corrected", NULL, NULL), 5);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-x", &n), 3);
    cr_assert_str_eq(json_string_value(json_object_get(n, "about")), "1-1,1-2");
    json_decref(n);
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-early", &n), 2);
    cr_assert_str_eq(json_string_value(json_object_get(n, "about")), "1-1");
    json_decref(n);

    /* The subject sees who was told what. */
    size_t count;
    n = th_copy_notices(env, ANNA, "inquirer_corrected", &count, NULL);
    cr_assert_eq(count, 5);
    cr_assert_not_null(json_object_get(n, "recipient"));
    json_decref(n);
    /* A batch that changes nothing tells no one. */
    cr_assert_eq(th_ingest(env, "both", lines, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK);
    cr_assert_eq(th_told(env, "inquirer_corrected", NULL, NULL), 5);
    /* Each notice has its audit leaf, written with the batch. */
    prb_verify_stats vs;
    cr_assert_eq(prb_verify(env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(env));
    prb_close(env);
    th_rmrf(dir);
}

/* The notices are written in the batch's transaction: when one cannot
 * be (a decision cannot be read), the correction is not stored either,
 * and no inquirer is told. */
Test(ingest, a_correction_that_cannot_be_told_writes_nothing)
{
    char *dir, line[1024], *before, *after;
    prb_env *env = asked_about(&dir);
    prb_ingest_stats st;
    th_set_day(env, "2026-11-25");
    disputed(env, "1-2");
    th_break_decision(env, 1, 5); /* bank-x's second: after its first */
    uint64_t v0 = versions(env), l0 = log_size(env);
    cr_assert_eq(prb_notices_json(env, 0, &before), PRB_OK);
    th_set_day(env, "2026-11-25");
    cr_assert_eq(th_ingest(env, "L-2", account(line, sizeof line, "L-2", "2026-09-08", "25.00"),
                           PRB_FMT_NDJSON, 0, &st, NULL),
                 PRB_ECORRUPT, "%s", prb_errmsg(env));
    cr_assert(strstr(prb_errmsg(env), "1-q5"), "%s", prb_errmsg(env));
    cr_assert_eq(versions(env), v0);
    cr_assert_eq(log_size(env), l0);
    cr_assert_eq(prb_notices_json(env, 0, &after), PRB_OK);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    prb_close(env);
    th_rmrf(dir);
}

/* A requester that asked every day is told in one notice, which names
 * the first decisions and counts the rest, with the last one's day. */
Test(ingest, a_requester_that_asked_often_is_told_in_one_notice)
{
    char *dir, day[11];
    prb_env *env = th_register(&dir);
    json_t *n;
    th_set_day(env, "2026-09-01");
    put_account(env, "L-1", "2026-08-30", "10.00");
    for (int i = 0; i < 40; i++) {
        prb_date_format(20697 + i, day); /* from 2026-09-01 */
        th_set_day(env, day);
        ask(env, "credit", "bank-x");
    }
    th_set_day(env, "2026-11-25");
    disputed(env, "1-1");
    put_account(env, "L-1", "2026-08-30", "11.00");
    cr_assert_eq(th_told(env, "inquirer_corrected", "bank-x", &n), 1);
    const char *text = json_string_value(json_object_get(n, "text"));
    cr_assert(strstr(text, "1-q1 of 2026-09-01") && strstr(text, "1-q32 of 2026-10-02") &&
                  !strstr(text, "1-q33 ") && strstr(text, "and 8 more, the last of 2026-10-10"),
              "%s", text);
    json_decref(n);
    prb_close(env);
    th_rmrf(dir);
}
