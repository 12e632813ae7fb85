/*
 * fuzz_csv.c - libFuzzer target for the CSV reader: a header and rows,
 * each row checked against the default policy as ingest does. Besides not
 * crashing, it holds the reader to what internal.h promises: every row
 * consumes input, an error names a field and a reason, and the lines a
 * row reports spanning are the lines of the bytes it consumed (ingest
 * numbers every later line by them).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static prb_policy *policy;

/* The lines that the bytes [p, e) occupy: one a line end, and one more
 * for a last line without one. */
static uint32_t lines_of(const char *p, const char *e)
{
    uint32_t n = 0;
    for (const char *q = p; q < e; q++)
        n += *q == '\n';
    return n + (e > p && e[-1] != '\n');
}

static void check_err(int rc, const prb_recerr *err)
{
    if (rc && (!err->field || !*err->field || !err->reason || !*err->reason))
        abort(); /* an error must say where and why */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    prb_arena a;
    prb_csv h;
    prb_raw raw;
    prb_rec rec;
    prb_recerr err = {0};
    uint32_t lines = 0, line;
    const char *p = (const char *)data, *end = p + size;
    if (!policy && prb_policy_load_default(&policy))
        abort();
    prb_arena_init(&a, 1 << 16);
    int rc = prb_csv_header(&h, policy, &p, end, &a, &err, &lines);
    check_err(rc, &err);
    if (rc == PRB_OK) {
        if (lines != lines_of((const char *)data, p))
            abort();
        line = lines + 1;
        for (int guard = 0; guard < 10000; guard++) {
            const char *before = p;
            err = (prb_recerr){0};
            rc = prb_csv_row(&h, &p, end, line, &a, &raw, &err, &lines);
            if (rc == PRB_ENOTFOUND)
                break;
            if (p <= before)
                abort(); /* a row must always be consumed */
            check_err(rc, &err);
            if (lines != lines_of(before, p))
                abort();
            line += lines;
            if (rc == PRB_OK) {
                memset(&rec, 0, sizeof rec);
                err = (prb_recerr){0};
                check_err(prb_record_check(policy, &raw, NULL, 20417, &a, &rec, &err), &err);
            }
        }
    }
    prb_arena_free(&a);
    return 0;
}
