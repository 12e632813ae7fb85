/*
 * test_jsonout.c - the compact JSON writer a decision is written with
 * (jsonout.c): its output is byte for byte what jansson makes of the same
 * values but for reals, which read back as the same double and otherwise
 * keep the text jansson gave at precision 10, so stored inquiries read
 * the same whichever wrote them; and it never writes invalid JSON, even
 * from text that is not UTF-8.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

TestSuite(jsonout);

#define JFLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY)

static void same_as_jansson(prb_jw *w, json_t *v)
{
    char *want = json_dumps(v, JFLAGS), *got = prb_jw_finish(w);
    cr_assert(want && got);
    cr_assert_str_eq(got, want);
    json_decref(v);
    free(want);
    free(got);
}

/* A real is written with digits enough to read back as the same double,
 * and, below 10^10, as jansson wrote it at precision 10 when that read
 * back: the text inquiries stored before had. (Subnormals, which have
 * fewer digits than 15 to give, are written with 15 all the same.)
 * Returns the text (the caller frees it). */
static char *check_real(double v)
{
    prb_jw w = {0};
    prb_jw_real(&w, v);
    char *got = prb_jw_finish(&w), *end;
    cr_assert_not_null(got);
    double back = strtod(got, &end);
    cr_assert(*end == 0 && back == v && signbit(back) == signbit(v), "%s does not read back", got);
    cr_assert(strchr(got, '.') || strchr(got, 'e'), "%s does not read as a real", got);
    json_t *j = json_real(v);
    char *ten = json_dumps(j, JFLAGS);
    if (fabs(v) < 1e10 && (v == 0 || fabs(v) >= DBL_MIN) && strtod(ten, NULL) == v)
        cr_assert_str_eq(got, ten);
    json_decref(j);
    free(ten);
    return got;
}

/* A feature's value of 999999999.99, a sum of balances just under a bin
 * bound of 10^9, was written at ten digits as 1000000000.0: the bound the
 * value is below. */
Test(jsonout, reals_read_back_as_the_same_double)
{
    const struct {
        double v;
        const char *text;
    } cases[] = {{0.0, "0.0"},
                 {-0.0, "-0.0"},
                 {1.0, "1.0"},
                 {-3.25, "-3.25"},
                 {0.1, "0.1"},
                 {0.1 + 0.2, "0.30000000000000004"},
                 {2.0 / 3, "0.6666666666666666"},
                 {999999999.99, "999999999.99"},
                 {12345678.123, "12345678.123"},
                 {1e10, "10000000000.0"},
                 {12345678901.0, "12345678901.0"},
                 {1.5e-7, "1.5e-7"},
                 {1e-5, "1e-5"},
                 {1e21, "1e21"},
                 {1e300, "1e300"},
                 {5e-324, "4.94065645841247e-324"},
                 {DBL_MAX, "1.7976931348623157e308"},
                 {DBL_MIN, "2.2250738585072014e-308"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = check_real(cases[i].v);
        cr_assert_str_eq(got, cases[i].text);
        free(got);
    }
    /* jansson refuses what JSON cannot say; the writer says null. */
    prb_jw w = {0};
    prb_jw_real(&w, NAN);
    prb_jw_real(&w, INFINITY);
    char *s = prb_jw_finish(&w);
    cr_assert_str_eq(s, "null,null");
    free(s);
}

/* Whole numbers and hundredths take a path of their own (no printf):
 * every one of them, near zero, near the 10^7 where it stops, and the
 * neighbours of each that are not hundredths, which v * 100 can make
 * look like one. */
Test(jsonout, hundredths_read_back_as_the_same_double)
{
    double v[4096];
    size_t n = 0;
    for (long long k = -300; k <= 300; k++)
        v[n++] = (double)k / 100;
    for (long long k = 999999700; k <= 1000000300; k += 7)
        v[n++] = (double)k / 100, v[n++] = -(double)k / 100;
    for (int i = 0; i < 200; i++) {
        double x = (double)(i * 7919 % 100000) / 100 + i * 12345.0;
        v[n++] = x;
        v[n++] = nextafter(x, 1e300);
        v[n++] = nextafter(x, -1e300);
    }
    v[n++] = 9999999.99;
    v[n++] = 1e7;
    v[n++] = -1e7;
    v[n++] = 0.29;
    v[n++] = nextafter(0.29, 1);
    v[n++] = 1e-2;
    v[n++] = 5e-3;
    for (size_t i = 0; i < n; i++)
        free(check_real(v[i]));
}

/* Points are exact decimals and written as such. */
Test(jsonout, numbers_are_written_as_given)
{
    prb_jw w = {0};
    prb_jw_open(&w, '[');
    prb_jw_number(&w, "520");
    prb_jw_number(&w, "500.6");
    prb_jw_number(&w, "-64999999999.999999");
    prb_jw_close(&w, ']');
    char *s = prb_jw_finish(&w);
    cr_assert_str_eq(s, "[520.0,500.6,-64999999999.999999]");
    free(s);
}

Test(jsonout, strings_as_jansson_writes_them)
{
    const char *v[] = {"",
                       "plain",
                       "quote \" and backslash \\ and slash /",
                       "\b\f\n\r\t",
                       "\x01\x1f\x7f",
                       "Gro\xc3\x9f"
                       "e \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 end",
                       "\"\"\\\\\n"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        prb_jw w = {0};
        prb_jw_str(&w, v[i]);
        same_as_jansson(&w, json_string(v[i]));
    }
    prb_jw w = {0};
    prb_jw_str(&w, NULL);
    same_as_jansson(&w, json_null());
}

/* Bytes that are not UTF-8 (cut short, overlong, a surrogate, past
 * U+10FFFF, a stray continuation) become U+FFFD and the text stays JSON. */
Test(jsonout, text_that_is_not_utf8_is_replaced)
{
    const char *bad[] = {"a\xc3", "a\xc0\xaf", "a\xed\xa0\x80", "a\xf4\x90\x80\x80", "a\x80z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        prb_jw w = {0};
        prb_jw_str(&w, bad[i]);
        char *s = prb_jw_finish(&w);
        json_error_t e;
        json_t *back = json_loads(s, JSON_DECODE_ANY, &e);
        cr_assert(back, "%s: %s", s, e.text);
        cr_assert(strstr(s, "\\ufffd"), "%s", s);
        cr_assert_eq(json_string_value(back)[0], 'a');
        json_decref(back);
        free(s);
    }
}

Test(jsonout, nested_documents_as_jansson_writes_them)
{
    prb_jw w = {0};
    prb_jw_open(&w, '{');
    prb_jw_key(&w, "a");
    prb_jw_open(&w, '[');
    prb_jw_close(&w, ']');
    prb_jw_key(&w, "b");
    prb_jw_open(&w, '[');
    prb_jw_open(&w, '{');
    prb_jw_close(&w, '}');
    prb_jw_str(&w, "x");
    prb_jw_real(&w, 2.5);
    prb_jw_null(&w);
    prb_jw_bool(&w, 1);
    prb_jw_bool(&w, 0);
    prb_jw_open(&w, '[');
    prb_jw_str(&w, "y");
    prb_jw_close(&w, ']');
    prb_jw_close(&w, ']');
    prb_jw_key(&w, "key with \"quotes\"");
    prb_jw_str(&w, "v");
    prb_jw_close(&w, '}');
    same_as_jansson(&w, json_pack("{s:[], s:[{}, s, f, n, b, b, [s]], s:s}", "a", "b", "x", 2.5, 1,
                                  0, "y", "key with \"quotes\"", "v"));
}

/* Indented, as JSON_INDENT(2): every value on a line of its own within
 * its container, ": " after a key, empty containers on one line; and
 * whole numbers as integers. */
Test(jsonout, indented_documents_as_jansson_writes_them)
{
    prb_jw w = {.indent = 2};
    prb_jw_open(&w, '[');
    prb_jw_open(&w, '{');
    prb_jw_key(&w, "a");
    prb_jw_open(&w, '[');
    prb_jw_close(&w, ']');
    prb_jw_key(&w, "b");
    prb_jw_open(&w, '[');
    prb_jw_open(&w, '{');
    prb_jw_close(&w, '}');
    prb_jw_str(&w, "x\n\"y\"");
    prb_jw_int(&w, -42);
    prb_jw_null(&w);
    prb_jw_bool(&w, 1);
    prb_jw_open(&w, '[');
    prb_jw_open(&w, '{');
    prb_jw_key(&w, "deep");
    prb_jw_int(&w, 0);
    prb_jw_key(&w, "er");
    prb_jw_real(&w, 2.5);
    prb_jw_close(&w, '}');
    prb_jw_close(&w, ']');
    prb_jw_close(&w, ']');
    prb_jw_close(&w, '}');
    prb_jw_open(&w, '[');
    prb_jw_close(&w, ']');
    prb_jw_int(&w, 9007199254740993LL);
    prb_jw_close(&w, ']');
    json_t *v = json_pack("[{s:[], s:[{}, s, I, n, b, [{s:I, s:f}]]}, [], I]", "a", "b", "x\n\"y\"",
                          (json_int_t)-42, 1, "deep", (json_int_t)0, "er", 2.5,
                          (json_int_t)9007199254740993LL);
    char *want = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(10)), *got = prb_jw_finish(&w);
    cr_assert(want && got);
    cr_assert_str_eq(got, want);
    json_decref(v);
    free(want);
    free(got);
    /* An empty document and a lone value stay as they are. */
    prb_jw e = {.indent = 2};
    prb_jw_open(&e, '{');
    prb_jw_close(&e, '}');
    got = prb_jw_finish(&e);
    cr_assert_str_eq(got, "{}");
    free(got);
}

/* A jansson tree (the subject's copy) comes out as jansson writes it,
 * compact or indented, but for its reals: jansson's 17 digits wrote 500.6
 * as 500.60000000000002; here each has the digits it needs to read back,
 * all 17 where it needs them. */
Test(jsonout, jansson_trees_as_jansson_writes_them_but_for_reals)
{
    json_t *v =
        json_pack("{s:[], s:{}, s:[s, I, n, b, b, {s:s}], s:s}", "a", "o", "b", "x\n\"y\" \xc3\xa9",
                  (json_int_t)-9007199254740993LL, 1, 0, "deep", "z", "key with \"quotes\"", "v");
    for (int indent = 0; indent <= 2; indent += 2) {
        prb_jw w = {.indent = indent};
        prb_jw_json(&w, v);
        char *got = prb_jw_finish(&w),
             *want = json_dumps(v, indent ? JSON_INDENT(indent) : JSON_COMPACT);
        cr_assert(want && got);
        cr_assert_str_eq(got, want);
        free(want);
        free(got);
    }
    json_decref(v);
    const double reals[] = {500.6, 1.0 / 7, 0.1 + 0.2, 1e300, -2.5e-8, 3.0};
    const char *const text[] = {
        "500.6", "0.14285714285714285", "0.30000000000000004", "1e300", "-2.5e-8", "3.0"};
    v = json_array();
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        json_array_append_new(v, json_real(reals[i]));
    prb_jw w = {.indent = 2};
    prb_jw_json(&w, v);
    char *got = prb_jw_finish(&w);
    json_t *back = json_loads(got, 0, NULL);
    cr_assert_not_null(back, "%s", got);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s%s\n", text[i],
                 i + 1 < sizeof reals / sizeof reals[0] ? "," : "");
        cr_assert(strstr(got, line), "%s not written as %s: %s", text[i], text[i], got);
        cr_assert(json_real_value(json_array_get(back, i)) == reals[i], "%s", got);
    }
    json_decref(back);
    json_decref(v);
    free(got);
}

/* A long document grows its buffer many times over and comes out whole. */
Test(jsonout, long_documents_come_out_whole)
{
    prb_jw w = {0};
    json_t *a = json_array();
    char s[64];
    prb_jw_open(&w, '[');
    for (int i = 0; i < 5000; i++) {
        snprintf(s, sizeof s, "item %d \"%d\"", i, i * 7);
        prb_jw_str(&w, s);
        prb_jw_real(&w, i / 8.0);
        json_array_append_new(a, json_string(s));
        json_array_append_new(a, json_real(i / 8.0));
    }
    prb_jw_close(&w, ']');
    same_as_jansson(&w, a);
}

/* Record ids are written by hand too (a decision lists every record it
 * used): the same text snprintf gives, read back to the same id, and cut
 * short like snprintf when the buffer is small. */
Test(jsonout, record_names_read_back)
{
    const uint64_t subjects[] = {1, 9, 10, 123456789, (UINT64_C(1) << 40) - 1};
    const uint64_t seqs[] = {1, 99, PRB_RSEQ_MASK}; /* 0 is no record */
    char got[48], want[48];
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++)
        for (size_t j = 0; j < sizeof seqs / sizeof *seqs; j++) {
            uint64_t id = subjects[i] << PRB_RSEQ_BITS | seqs[j], back = 0;
            prb_record_name(got, sizeof got, id);
            snprintf(want, sizeof want, "%llu-%llu", (unsigned long long)subjects[i],
                     (unsigned long long)seqs[j]);
            cr_assert_str_eq(got, want);
            cr_assert_eq(prb_record_parse(got, strlen(got), &back), PRB_OK, "%s", got);
            cr_assert_eq(back, id, "%s", got);
        }
    prb_record_name(got, 4, UINT64_C(12345) << PRB_RSEQ_BITS | 6);
    cr_assert_str_eq(got, "123");
}

/* A message cut to its buffer ends before a character it would cut in
 * two, whatever the character's length and wherever the cut falls: the
 * server reads every message as JSON text. */
Test(jsonout, messages_cut_to_their_buffer_stay_utf8)
{
    static const char *chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    char quoted[PRB_ERRMSG_MAX * 2];
    char buf[PRB_ERRMSG_MAX];
    for (size_t c = 0; c < 3; c++)
        for (size_t pad = 0; pad < 4; pad++) {
            size_t n = 0, cl = strlen(chars[c]);
            memset(quoted, 'x', pad);
            for (n = pad; n + cl < sizeof quoted; n += cl)
                memcpy(quoted + n, chars[c], cl);
            quoted[n] = 0;
            cr_assert_eq(prb_seterr(buf, PRB_EINVAL, "bad value '%s'", quoted), PRB_EINVAL);
            size_t len = strlen(buf);
            cr_assert_gt(len, PRB_ERRMSG_MAX - 1 - cl, "char %zu pad %zu: cut to %zu", c, pad, len);
            cr_assert_eq(prb_utf8_prefix(buf, len), len, "char %zu pad %zu: ends mid-character", c,
                         pad);
        }
}
