/*
 * fuzz_csv.c - libFuzzer target for the CSV reader: a header and rows,
 * each row checked against the default policy as ingest does.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static prb_policy *policy;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    prb_arena a;
    prb_csv h;
    prb_raw raw;
    prb_rec rec;
    prb_recerr err;
    uint32_t lines, line;
    const char *p = (const char *)data, *end = p + size;
    if (!policy && prb_policy_load_default(&policy))
        abort();
    prb_arena_init(&a, 1 << 16);
    if (prb_csv_header(&h, policy, &p, end, &a, &err, &lines) == PRB_OK) {
        line = lines + 1;
        for (int guard = 0; guard < 10000; guard++) {
            const char *before = p;
            int rc = prb_csv_row(&h, &p, end, line, &a, &raw, &err, &lines);
            if (rc == PRB_ENOTFOUND)
                break;
            if (p <= before)
                abort(); /* a row must always be consumed */
            line += lines;
            if (rc == PRB_OK) {
                memset(&rec, 0, sizeof rec);
                prb_record_check(policy, &raw, NULL, 20417, &a, &rec, &err);
            }
        }
    }
    prb_arena_free(&a);
    return 0;
}
