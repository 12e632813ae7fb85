/*
 * cmd_ingest.c - probity ingest: maps the input files, hands them to one
 * library batch, prints every rejected line and the counts.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct mapped {
    char *p;
    size_t n;
    int is_mmap;
};

static int format_of(const char *path, const char *forced)
{
    const char *dot = strrchr(path, '.');
    if (forced)
        return !strcmp(forced, "csv")      ? PRB_FMT_CSV
               : !strcmp(forced, "ndjson") ? PRB_FMT_NDJSON
                                           : 0;
    if (!strcmp(path, "-"))
        return PRB_FMT_NDJSON;
    if (dot && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl")))
        return PRB_FMT_NDJSON;
    if (dot && !strcmp(dot, ".csv"))
        return PRB_FMT_CSV;
    return 0;
}

/* All of fd, read to its end into memory: standard input, or a pipe
 * such as <(zcat f.gz), which has no size to map. */
static int read_all(int fd, struct mapped *m)
{
    size_t cap = 1 << 20;
    m->p = malloc(cap);
    m->n = 0;
    m->is_mmap = 0;
    for (;;) {
        if (!m->p)
            return -1;
        ssize_t r = read(fd, m->p + m->n, cap - m->n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            /* The caller counts only what was read whole as its own. */
            int saved = errno;
            free(m->p);
            m->p = NULL;
            errno = saved;
            return -1;
        }
        if (r == 0)
            return 0;
        m->n += (size_t)r;
        if (m->n == cap) {
            char *np = realloc(m->p, cap *= 2);
            if (!np)
                free(m->p);
            m->p = np;
        }
    }
}

static int map_file(const char *path, struct mapped *m)
{
    struct stat st;
    int fd, rc;
    if (!strcmp(path, "-"))
        return read_all(0, m);
    if ((fd = open(path, O_RDONLY)) < 0)
        return -1;
    if (fstat(fd, &st)) {
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = read_all(fd, m);
        int saved = errno;
        close(fd);
        errno = saved;
        return rc;
    }
    m->n = (size_t)st.st_size;
    m->is_mmap = 1;
    m->p = m->n ? mmap(NULL, m->n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : NULL;
    close(fd);
    if (m->n && m->p == MAP_FAILED)
        return -1;
    return 0;
}

static void unmap(struct mapped *m)
{
    if (m->is_mmap && m->p)
        munmap(m->p, m->n);
    else if (!m->is_mmap)
        free(m->p);
}

int cmd_ingest(int argc, char **argv)
{
    static const char *const flags[] = {"skip-bad", NULL};
    cli_args a;
    prb_env *env = NULL;
    prb_ingest *b = NULL;
    prb_ingest_stats st = {0};
    struct mapped files[64] = {{0}};
    int nfiles = 0, rc = cli_parse(argc, argv, flags, &a);
    if (rc)
        return rc;
    prb_ingest_opts opts = {cli_opt(&a, "furnisher"), cli_flag(&a, "skip-bad"), 0, 0};
    const char *fmt = cli_opt(&a, "format");
    uint64_t threads = 0;
    /* The engine parses on at most 64 threads; 0 is one per core. */
    if (cli_count(&a, "threads", 0, 64, &threads))
        return 2;
    opts.threads = (int)threads;
    if (a.npos < 2)
        return fprintf(stderr, "usage: probity ingest DIR FILE... [--furnisher NAME] [--skip-bad]"
                               " [--format ndjson|csv] [--threads N]\n"),
               2;
    if (fmt && strcmp(fmt, "ndjson") && strcmp(fmt, "csv"))
        return fprintf(stderr, "probity: unknown format '%s' (--format): expected ndjson or csv\n",
                       fmt),
               2;
    if (a.npos - 1 > 64)
        return fprintf(stderr, "probity: at most 64 input files per batch (%d given)\n",
                       a.npos - 1),
               2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if ((rc = prb_ingest_begin(env, &opts, &b))) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    for (int i = 1; i < a.npos; i++) {
        const char *path = a.pos[i];
        int f = format_of(path, fmt);
        if (!f) {
            fprintf(stderr,
                    "probity: %s: unknown format (use .ndjson, .jsonl or .csv, or "
                    "--format)\n",
                    path);
            rc = 2;
            goto out;
        }
        if (map_file(path, &files[nfiles])) {
            fprintf(stderr, "probity: %s: cannot read: %s\n", path, strerror(errno));
            rc = prb_exit_status(PRB_EIO);
            goto out;
        }
        const char *name = strcmp(path, "-") ? path : "<stdin>";
        if ((rc = prb_ingest_add(b, name, files[nfiles].p, files[nfiles].n, f))) {
            nfiles++;
            rc = cli_fail(rc, prb_errmsg(env));
            goto out;
        }
        nfiles++;
    }
    rc = prb_ingest_commit(b, &st);
    for (size_t i = 0; i < prb_ingest_nerrors(b); i++)
        fprintf(stderr, "%s\n", prb_ingest_error(b, i));
    if (rc && rc != PRB_EREJECTED) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    if (rc == PRB_EREJECTED)
        fprintf(stderr, "probity: %s\n", prb_errmsg(env));
    printf("accepted %llu, unchanged %llu, corrected %llu, rejected %llu, superseded %llu\n",
           (unsigned long long)st.accepted, (unsigned long long)st.unchanged,
           (unsigned long long)st.corrected, (unsigned long long)st.rejected,
           (unsigned long long)st.superseded);
    rc = st.rejected ? prb_exit_status(PRB_EREJECTED) : 0;
out:
    prb_ingest_free(b);
    for (int i = 0; i < nfiles; i++)
        unmap(&files[i]);
    prb_close(env);
    return rc;
}
