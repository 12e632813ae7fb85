/*
 * fuzz_proof.c - libFuzzer target for `probity audit check-proof`: a proof
 * comes to an auditor from the register, or from whoever forged it, and
 * is read with nothing but the register's public key. The input is a
 * proof, then optionally a NUL and a head the checker holds. The key is
 * that of the register the seed corpus was made from, so mutations of
 * genuine proofs reach the signature and path checks. A proof that holds
 * must say so in words that begin "ok:", and anything else must not.
 */
#include "probity.h"

#include <stdlib.h>
#include <string.h>

/* The seed register's public key (tests/fuzz/corpus/proof). */
static const char KEY[] = "gyyAHoYJCpKEagsmwQEIEgH/+wVelNBuRqTlOKaIw+Q=";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char msg[512];
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    size_t n = strlen(buf);
    const char *held = n < size ? buf + n + 1 : NULL;
    int rc = prb_audit_check_held(KEY, buf, held, msg, sizeof msg);
    if ((rc == PRB_OK) != !strncmp(msg, "ok:", 3))
        abort();
    free(buf);
    return 0;
}
