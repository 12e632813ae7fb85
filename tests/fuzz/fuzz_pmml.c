/*
 * fuzz_pmml.c - libFuzzer target for the PMML Scorecard importer and the
 * evaluator behind it: any bytes must be imported or refused with a
 * message, never crash, read out of bounds, expand an entity or leak; a
 * model that imports must evaluate on any input (missing, numbers,
 * categories) to a score or to a "no attribute matches" error.
 */
#include "internal.h"
#include "scorecard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A policy that knows every name, numeric unless it starts with 'c', so
 * the feature_kind path (and its kind mismatches) is fuzzed too. */
static int any_kind(void *ctx, const char *name)
{
    return name[0] == 'c' ? PRB_FIELD_CATEGORICAL : PRB_FIELD_NUMERIC;
}

static void exercise(const prb_scorecard *sc)
{
    static const double nums[] = {-1, 0, 1, 18, 29.5, 1000, 1e9};
    static const char *const strs[] = {"", "a", "marketing", "south east", "we\"st", "1"};
    prb_value *v = calloc(sc->nfields + 1, sizeof *v);
    char err[256];
    prb_score s;
    if (!v)
        abort();
    for (size_t round = 0; round < 8; round++) {
        for (size_t i = 0; i < sc->nfields; i++) {
            size_t k = round + i;
            v[i].present = round != 0 && (k % 5) != 4;
            v[i].num = round == 7 ? NAN : nums[k % 7];
            v[i].str = strs[k % 6];
        }
        int rc = prb_sc_eval(sc, v, &s, err, sizeof err);
        if (rc != PRB_OK && (rc != PRB_EINVAL || !err[0]))
            abort();
        if (rc == PRB_OK) {
            if (s.nreasons > PRB_MAX_REASONS || s.ncharacs != sc->ncharacs)
                abort();
            for (size_t r = 0; r < s.nreasons; r++)
                if (!s.reasons[r].code || !(s.reasons[r].points_lost > 0))
                    abort();
            for (size_t c = 0; c < s.ncharacs; c++)
                if (s.applied[c] < 0 || (size_t)s.applied[c] >= sc->characs[c].nattrs)
                    abort();
        }
    }
    double odds;
    if (prb_sc_odds(sc, 600, &odds) != -1)
        abort(); /* PMML has no scaling */
    free(v);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    prb_scorecard *sc = NULL;
    char err[PRB_ERRMSG_MAX];
    for (int pass = 0; pass < 2; pass++) {
        int rc = prb_sc_from_pmml("fuzz.pmml", (const char *)data, size, pass ? any_kind : NULL,
                                  NULL, &sc, err, sizeof err);
        if (rc == PRB_OK) {
            if (!sc)
                abort();
            exercise(sc);
            prb_sc_free(sc);
        } else if (sc || !err[0] || (rc != PRB_EINVAL && rc != PRB_EREFUSED && rc != PRB_ENOMEM)) {
            abort();
        }
        sc = NULL;
    }
    return 0;
}
