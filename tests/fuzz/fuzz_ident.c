/*
 * fuzz_ident.c - libFuzzer target for identifier normalisation: accepted
 * identifiers must be canonical (normalising again gives the same text).
 */
#include "probity.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char out[PRB_IDENT_MAX], again[PRB_IDENT_MAX];
    int scheme, scheme2;
    if (prb_ident_normalize((const char *)data, size, out, sizeof out, &scheme) != PRB_OK)
        return 0;
    if (prb_ident_normalize(out, strlen(out), again, sizeof again, &scheme2) != PRB_OK ||
        strcmp(out, again) || scheme != scheme2)
        abort();
    return 0;
}
