/*
 * test_docs.c - what README.md and docs/DESIGN.md tell a reader to do or
 * to expect, held to what the tree does: the commands a newcomer types
 * first work on a fresh Debian image, and the design marks what is
 * planned but not built. (The OpenAPI document has test_openapi.c.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

TestSuite(docs, .timeout = 30);

static char *load(const char *rel)
{
    char *s = th_slurp(rel);
    cr_assert_not_null(s, "%s cannot be read", rel);
    return s;
}

/* The line of text that at is in, into out. */
static const char *line_of(const char *text, const char *at, char *out, size_t n)
{
    const char *b = at, *e = strchr(at, '\n');
    while (b > text && b[-1] != '\n')
        b--;
    snprintf(out, n, "%.*s", (int)((e ? e : at + strlen(at)) - b), b);
    return out;
}

/* A fresh Debian image has no package lists: apt-get install fails
 * until apt-get update has run. The README said only "apt-get install
 * -y make", which was the first thing a newcomer typed. */
Test(docs, readme_installs_after_an_update)
{
    char *readme = load("README.md"), line[512];
    int installs = 0;
    for (const char *p = readme; (p = strstr(p, "apt-get install")); p++, installs++) {
        line_of(readme, p, line, sizeof line);
        const char *update = strstr(line, "apt-get update");
        cr_assert(update && update < strstr(line, "apt-get install"),
                  "apt-get install without apt-get update before it: %s", line);
    }
    cr_assert_gt(installs, 0, "README.md no longer says how to get make");
    free(readme);
}

/* The README opens with the two commands that do everything, and its
 * first session starts with one that installs what the build needs: it
 * started with a bare "make", which fails on a machine without the
 * libraries that scripts/setup installs. */
Test(docs, readme_first_session_sets_up_first)
{
    char *readme = load("README.md"), line[512];
    const char *demo = strstr(readme, "\n    make demo"), *test = strstr(readme, "\n    make test");
    const char *first = strstr(readme, "\n## ");
    cr_assert(demo && test && demo < test && test < first,
              "README.md does not open with make demo and make test");
    const char *session = strstr(readme, "## A first session");
    cr_assert_not_null(session);
    const char *cmd = strstr(session, "    $ ");
    cr_assert_not_null(cmd);
    line_of(readme, cmd, line, sizeof line);
    cr_assert(strstr(line, "make setup") || strstr(line, "scripts/setup") ||
                  strstr(line, "make demo"),
              "the first session starts without setting up: %s", line);
    free(readme);
}

/* What DESIGN.md mentions within a few lines of at (the entry it is
 * in) says "not built". */
static int marked_not_built(const char *text, const char *at)
{
    const char *b = at, *e = at;
    for (int n = 0; b > text && n < 3; b--)
        n += b[-1] == '\n';
    for (int n = 0; *e && n < 3; e++)
        n += *e == '\n';
    return memmem(b, (size_t)(e - b), "not built", 9) != NULL;
}

/* The design describes a shared PostgreSQL deployment and a web/
 * portal that do not exist; a reader took them for parts of the tree.
 * Each mention says it is planned, not built, while it is not. */
Test(docs, design_marks_what_is_not_built)
{
    static const char *const planned[] = {"web/", "PostgreSQL through libpq"};
    char *design = load("docs/DESIGN.md"), path[512], line[512];
    struct stat st;
    cr_assert(stat(th_path(path, sizeof path, "web"), &st) != 0,
              "web/ exists now: DESIGN.md need not call it not built");
    for (size_t i = 0; i < sizeof planned / sizeof *planned; i++) {
        int seen = 0;
        for (const char *p = design; (p = strstr(p, planned[i])); p++, seen++)
            cr_assert(marked_not_built(design, p), "DESIGN.md does not say it is not built: %s",
                      line_of(design, p, line, sizeof line));
        cr_assert_gt(seen, 0, "DESIGN.md no longer mentions %s", planned[i]);
    }
    free(design);
}
