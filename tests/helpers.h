/*
 * helpers.h - small things the Criterion suites share: temporary register
 * directories and the paths of the source tree and of the CLI binary.
 */
#ifndef PRB_TEST_HELPERS_H
#define PRB_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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

/* A fresh empty directory under parent (or /tmp when parent is unset or
 * empty); the caller removes it with th_rmrf. make test points TMPDIR at
 * a directory of its own and removes that after the run, so a test
 * stopped midway by a failed assertion or its timeout leaves nothing
 * behind. */
static inline char *th_mkdtemp(const char *parent)
{
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/prbtest.XXXXXX", parent && *parent ? parent : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline char *th_tmpdir(void)
{
    return th_mkdtemp(getenv("TMPDIR"));
}

/* The same in memory (tmpfs), for tests whose subject is not the disk:
 * under PROBITY_TEST_SHM (which make test makes and removes like TMPDIR)
 * or /dev/shm, and on the disk when neither can be had. */
static inline char *th_shmdir(void)
{
    const char *s = getenv("PROBITY_TEST_SHM");
    char *d = th_mkdtemp(s && *s ? s : "/dev/shm");
    return d ? d : th_tmpdir();
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

#include <jansson.h>

#include "probity.h"

#define TH_TODAY "2026-11-25"

/* A fresh register with the default policy, clock at TH_TODAY. */
static inline prb_env *th_register(char **dir)
{
    char policy[512];
    prb_env *env = NULL;
    int64_t now;
    *dir = th_tmpdir();
    char reg[600];
    snprintf(reg, sizeof reg, "%s/reg", *dir);
    if (prb_init(reg, th_path(policy, sizeof policy, "policy/default.json"), &env) != PRB_OK) {
        fprintf(stderr, "th_register: %s\n", prb_errmsg(env));
        abort();
    }
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    return env;
}

/* A fresh register, clock at TH_TODAY, with the default policy as edit
 * changes it. */
static inline prb_env *th_register_edited(void (*edit)(json_t *root), char **dir)
{
    char path[700], reg[700];
    json_error_t jerr;
    json_t *root = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &jerr);
    prb_env *env = NULL;
    int64_t now;
    if (!root) {
        fprintf(stderr, "th_register_edited: %s\n", jerr.text);
        abort();
    }
    edit(root);
    *dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/policy.json", *dir);
    snprintf(reg, sizeof reg, "%s/reg", *dir);
    if (json_dump_file(root, path, 0) || prb_init(reg, path, &env) != PRB_OK) {
        fprintf(stderr, "th_register_edited: %s\n", env ? prb_errmsg(env) : path);
        abort();
    }
    json_decref(root);
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    return env;
}

/* The inquiries stored about who, as prb_inquiries_json lists them (a
 * JSON array; json_decref it). */
static inline json_t *th_inquiries(prb_env *env, const char *who)
{
    char *text;
    json_t *a = NULL;
    /* json_is_array is a macro that names its argument more than once:
     * given the json_loads itself, it parsed the text twice and the
     * first array leaked. */
    if (prb_inquiries_json(env, who, &text) != PRB_OK || !(a = json_loads(text, 0, NULL)) ||
        !json_is_array(a)) {
        fprintf(stderr, "th_inquiries: %s\n", prb_errmsg(env));
        abort();
    }
    free(text);
    return a;
}

/* How many inquiries are stored about who. */
static inline size_t th_ninquiries(prb_env *env, const char *who)
{
    json_t *a = th_inquiries(env, who);
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

/* The notices of kind in the subject's copy (prb_subject_copy) of ident:
 * how many into *n, the number of its inquiries into *inquiries (if not
 * NULL), and the last of them (NULL if none; json_decref it). */
static inline json_t *th_copy_notices(prb_env *env, const char *ident, const char *kind, size_t *n,
                                      size_t *inquiries)
{
    char *text;
    size_t i;
    json_t *doc = NULL, *x, *last = NULL;
    if (prb_subject_copy(env, ident, PRB_COPY_JSON, &text) != PRB_OK ||
        !(doc = json_loads(text, 0, NULL))) {
        fprintf(stderr, "th_copy_notices: %s\n", prb_errmsg(env));
        abort();
    }
    free(text);
    *n = 0;
    json_array_foreach(json_object_get(doc, "notices"), i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "kind")), kind))
            continue;
        (*n)++;
        last = x;
    }
    if (inquiries)
        *inquiries = json_array_size(json_object_get(doc, "inquiries"));
    json_incref(last);
    json_decref(doc);
    return last;
}

/* The notices to inquirers in the outbox (told.c) of kind to who (NULL:
 * to anyone): how many, and the last in *last if not NULL (json_decref
 * it). */
static inline size_t th_told(prb_env *env, const char *kind, const char *who, json_t **last)
{
    char *json;
    size_t i, n = 0;
    json_t *arr = NULL, *x;
    if (prb_notices_json(env, 0, &json) != PRB_OK || !(arr = json_loads(json, 0, NULL))) {
        fprintf(stderr, "th_told: %s\n", prb_errmsg(env));
        abort();
    }
    free(json);
    if (last)
        *last = NULL;
    json_array_foreach(arr, i, x)
    {
        const char *k = json_string_value(json_object_get(x, "kind"));
        const char *r = json_string_value(json_object_get(x, "recipient"));
        if (strcmp(k, kind) || (who && (!r || strcmp(r, who))))
            continue;
        n++;
        if (last) {
            json_decref(*last);
            *last = json_incref(x);
        }
    }
    json_decref(arr);
    return n;
}

/* Moves env's as-of clock to day (YYYY-MM-DD). */
static inline void th_set_day(prb_env *env, const char *day)
{
    int64_t t;
    if (prb_parse_now(day, &t) != PRB_OK) {
        fprintf(stderr, "th_set_day: bad day %s\n", day);
        abort();
    }
    prb_set_now(env, t);
}

/* The policy.json of the register made in dir (by th_register or
 * th_register_edited) changed by edit, as an operator edits it. */
static inline void th_edit_policy(const char *dir, void (*edit)(json_t *root))
{
    char path[720];
    json_error_t jerr;
    json_t *root;
    snprintf(path, sizeof path, "%s/reg/policy.json", dir);
    if (!(root = json_load_file(path, 0, &jerr))) {
        fprintf(stderr, "th_edit_policy: %s\n", jerr.text);
        abort();
    }
    edit(root);
    if (json_dump_file(root, path, JSON_INDENT(2))) {
        fprintf(stderr, "th_edit_policy: cannot write %s\n", path);
        abort();
    }
    json_decref(root);
}

/* env (a register made in dir by th_register or th_register_edited)
 * closed, its policy.json changed by edit, and opened again with the
 * clock at day: an operator's edit of a register's policy, which takes
 * effect at the next open. */
static inline prb_env *th_reopen_edited(prb_env *env, const char *dir, void (*edit)(json_t *root),
                                        const char *day)
{
    char reg[700];
    snprintf(reg, sizeof reg, "%s/reg", dir);
    prb_close(env);
    env = NULL;
    th_edit_policy(dir, edit);
    if (prb_open(reg, &env) != PRB_OK) {
        fprintf(stderr, "th_reopen_edited: %s\n", env ? prb_errmsg(env) : reg);
        abort();
    }
    th_set_day(env, day);
    return env;
}

/* One open revolving credit account of person who, opened long ago and
 * never late, as an NDJSON line (furnisher src-a, reference ref). */
static inline char *th_account(char *buf, size_t n, const char *who, const char *ref)
{
    snprintf(buf, n,
             "{\"furnisher\":\"src-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"%s\"},\"category\":\"credit_account\",\"status\":\"open\",\"event_date\":"
             "\"2026-10-01\",\"settled_date\":null,\"legal_basis\":\"test\",\"fields\":{"
             "\"account_type\":\"revolving\",\"opened_date\":\"2015-01-01\",\"credit_limit\":"
             "\"1000.00\",\"balance\":\"10.00\",\"currency\":\"EUR\",\"worst_dpd\":0}}\n",
             ref, who);
    return buf;
}

/* Ingests one buffer as a batch; fills stats; returns the commit's code. */
static inline int th_ingest(prb_env *env, const char *name, const char *text, int format,
                            int skip_bad, prb_ingest_stats *st, prb_ingest **keep)
{
    prb_ingest *b = NULL;
    prb_ingest_opts o = {NULL, skip_bad, 2, 0};
    int rc = prb_ingest_begin(env, &o, &b);
    if (!rc)
        rc = prb_ingest_add(b, name, text, strlen(text), format);
    if (!rc)
        rc = prb_ingest_commit(b, st);
    if (keep)
        *keep = b;
    else
        prb_ingest_free(b);
    return rc;
}

/* Reads a whole file under the source tree into a malloc'd string. */
static inline char *th_slurp(const char *rel)
{
    char path[512];
    FILE *f = fopen(th_path(path, sizeof path, rel), "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = 0;
    fclose(f);
    return buf;
}
/* What one run of the probity command printed, and how it ended. */
struct th_run {
    int status;
    char out[65536], err[65536];
};

static inline void th_slurp_into(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = 0;
    if (f)
        fclose(f);
}

/* Runs "probity ARGS" (PROBITY_BIN, set by make test) through the shell in
 * dir, with PROBITY_NOW=now when now is not NULL and env (assignments, may
 * be NULL) in front; captures standard output and error. status is the
 * exit status, -1 if it did not exit, -2 if PROBITY_BIN is not set. */
static inline void th_cli(struct th_run *r, const char *dir, const char *now, const char *env,
                          const char *args)
{
    char cmd[4096], o[600], e[600], clock[64] = "";
    const char *bin = getenv("PROBITY_BIN");
    r->out[0] = r->err[0] = 0;
    if (!bin) {
        r->status = -2;
        snprintf(r->err, sizeof r->err, "PROBITY_BIN must name the probity binary");
        return;
    }
    if (now)
        snprintf(clock, sizeof clock, "PROBITY_NOW=%s", now);
    snprintf(o, sizeof o, "%s/.out", dir);
    snprintf(e, sizeof e, "%s/.err", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && env %s %s %s %s >'%s' 2>'%s'", dir, clock, env ? env : "",
             bin, args, o, e);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    th_slurp_into(o, r->out, sizeof r->out);
    th_slurp_into(e, r->err, sizeof r->err);
}

/* A growing NUL-terminated text, for the library's prb_write_fn output
 * (generated populations, verify reports). */
struct th_buf {
    char *p;
    size_t n, cap;
};

static inline int th_collect(void *ctx, const char *s, size_t n)
{
    struct th_buf *b = ctx;
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

#endif
