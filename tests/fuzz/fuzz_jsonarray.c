/*
 * fuzz_jsonarray.c - libFuzzer target for srv_json_array_lines, checked
 * against jansson reading the same bytes as one document:
 *   - whatever jansson reads as an array, the splitter takes (unless an
 *     element nests past its limit), with one line for each element,
 *     and each line read alone is that element;
 *   - whatever the splitter takes, each line is one line, and jansson
 *     reads the whole exactly when it reads every line.
 * Any failure aborts.
 */
#include "jsonarray.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = NULL, err[160];
    size_t outlen = 0;
    json_error_t jerr;
    json_t *whole = json_loadb(in, size, JSON_DECODE_ANY, &jerr);
    int rc = srv_json_array_lines(in, size, &out, &outlen, err, sizeof err);
    if (rc == SRV_JA_NOMEM)
        abort();
    if (rc != SRV_JA_OK) {
        if (out || !err[0] || (json_is_array(whole) && rc != SRV_JA_DEEP))
            abort();
        json_decref(whole);
        return 0;
    }
    if (outlen > size || (outlen && out[outlen - 1] != '\n'))
        abort();
    size_t n = 0, lines_ok = 1;
    for (size_t at = 0; at < outlen; n++) {
        const char *nl = memchr(out + at, '\n', outlen - at);
        size_t l = (size_t)(nl - (out + at));
        json_t *e = json_loadb(out + at, l, JSON_DECODE_ANY, &jerr);
        if (!e)
            lines_ok = 0;
        if (whole && (!e || !json_equal(e, json_array_get(whole, n))))
            abort();
        json_decref(e);
        at += l + 1;
    }
    if ((whole != NULL) != lines_ok || (whole && json_array_size(whole) != n))
        abort();
    free(out);
    json_decref(whole);
    return 0;
}
