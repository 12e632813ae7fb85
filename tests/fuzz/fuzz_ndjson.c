/*
 * fuzz_ndjson.c - libFuzzer target for the NDJSON record reader and the
 * record checks behind it: any bytes must be parsed or refused with a
 * message, never crash, read out of bounds or leak.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static prb_policy *policy;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    prb_arena a;
    prb_raw raw;
    prb_rec rec;
    prb_recerr err;
    if (!policy && prb_policy_load_default(&policy))
        abort();
    prb_arena_init(&a, 1 << 16);
    memset(&rec, 0, sizeof rec);
    if (prb_ndjson_parse((const char *)data, size, &a, &raw, &err) == PRB_OK) {
        if (prb_record_check(policy, &raw, NULL, 20417, &a, &rec, &err) == PRB_OK) {
            /* What was packed must decode. */
            char *buf = malloc(prb_record_bufsize(rec.packed_len));
            prb_record_view rv;
            prb_field_view fv[PRB_MAX_FIELDS];
            if (!buf || prb_record_decode(rec.packed, rec.packed_len, buf, &rv, fv,
                                          PRB_MAX_FIELDS) != PRB_OK)
                abort();
            free(buf);
        } else if (!err.field || !err.reason) {
            abort();
        }
    } else if (!err.field || !err.reason) {
        abort();
    }
    prb_arena_free(&a);
    return 0;
}
