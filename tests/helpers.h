/*
 * helpers.h - small things the Criterion suites share: temporary register
 * directories and the paths of the source tree and of the CLI binary.
 */
#ifndef PRB_TEST_HELPERS_H
#define PRB_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The source tree (PROBITY_SRC, set by make test), for policy/ and tests/data/. */
static inline const char *th_src(void)
{
    const char *s = getenv("PROBITY_SRC");
    return s ? s : ".";
}

/* Writes path of a file under the source tree into buf. */
static inline const char *th_path(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", th_src(), rel);
    return buf;
}

/* A fresh empty temporary directory; the caller removes it with th_rmrf. */
static inline char *th_tmpdir(void)
{
    char tmpl[] = "/tmp/prbtest.XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline void th_rmrf(char *dir)
{
    char cmd[512];
    if (!dir)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

#endif
