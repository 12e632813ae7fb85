/*
 * jsonarray.h - a JSON array of records made NDJSON without a tree
 * (jsonarray.c). Needs nothing but the C library, so that its fuzz
 * target (tests/fuzz/fuzz_jsonarray.c) builds it alone.
 */
#ifndef PRB_JSONARRAY_H
#define PRB_JSONARRAY_H

#include <stddef.h>

/* Nesting an element may have, past the array itself. A record has two
 * levels (subject, fields); its reader refuses anything deeper. */
#define SRV_JA_DEPTH 64

enum srv_ja {
    SRV_JA_OK = 0,
    SRV_JA_BAD = -1,   /* the array's frame is broken: err says where */
    SRV_JA_DEEP = -2,  /* an element nests deeper than SRV_JA_DEPTH */
    SRV_JA_NOMEM = -3, /* out of memory */
};

/* Rewrites the JSON array in (len bytes) as NDJSON into *out (malloc'd,
 * *outlen bytes, the caller frees it): one line for each element, its
 * own text with the line breaks between its tokens made spaces.
 *
 * Only the array's frame is checked here: the brackets and braces match,
 * strings close and hold no control character, elements are separated
 * by single commas, and nothing but whitespace follows. What an element
 * says is left to the NDJSON reader, so a bad record is refused on its
 * own line (its position in the array) as it would be in NDJSON. On an
 * error *out is NULL and err (errlen bytes) says what is wrong and at
 * which byte (from 1). */
int srv_json_array_lines(const char *in, size_t len, char **out, size_t *outlen, char *err,
                         size_t errlen);

#endif
