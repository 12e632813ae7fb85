/*
 * core.c - the probity half of `make bench`: subject-file reads, timed
 * in-process through the public API, as an application linking
 * libprobity.a would do them.
 *
 *   bench-core reads DIR IDS.txt
 *       Opens the register in DIR and reads the file of every identifier
 *       in IDS.txt (one a line) with prb_subject_read, each read timed on
 *       its own. This is the probity side of the "100,000 random subject
 *       files" comparison; bench-peers does the same list against SQLite
 *       and PostgreSQL, so the three medians can be set side by side.
 *       Prints:
 *         probity reads=N read_median_us=X read_p99_us=Y read_rate=R
 *                 records_seen=M
 *
 *   bench-core file20 DIR N [--policy FILE] [--reads K]
 *       Creates a fresh register in DIR, ingests N persons with exactly
 *       20 records each in one batch, checks every file has 20 records,
 *       then times K (default 200,000) reads of random ones of them. The
 *       issue's target is a subject file of 20 records in at most 5 us
 *       (median); the synthetic population of `probity gen` has files of
 *       every size, so this fixes the size the target speaks of. Prints:
 *         probity file20_median_us=X file20_p99_us=Y reads=K
 *
 *   bench-core decide20 DIR N [--policy FILE] [--evals K] [--stored S] [--at DATE]
 *       Creates a fresh register in DIR and ingests, as of the bench clock,
 *       N persons with exactly 20 records each: credit accounts, and for
 *       half of them payment defaults (open and settled), unpaid court
 *       judgments and an insolvency, so every characteristic of the credit
 *       scorecard and its reasons are exercised. With the clock moved to
 *       DATE (default 2027-03-01, after every notice period has run) it
 *       checks each file still holds 20 usable records, then times K
 *       (default 200,000) prb_evaluate calls for "credit" on random ones of
 *       them: the decision computed and returned, nothing stored. This is
 *       done twice: with a fresh decision handle for every call (released
 *       after it), then with one handle passed back in, which the API
 *       reuses (as file20 reuses its prb_file); the second is the figure
 *       for the target of one decision in at most 10 us (median).
 *       Then it times S (default 2,000; at most 30 s of them) prb_decide
 *       calls, which store each decision as an inquiry in one durable
 *       commit. Prints:
 *         probity decide20_median_us=X decide20_p99_us=Y evals=K
 *                 decide20_fresh_median_us=X2 decide20_fresh_p99_us=Y2
 *         probity decide_stored_median_us=X decide_stored_p99_us=Y
 *                 decide_stored_rate=R decisions=S
 *
 *   bench-core evals DIR IDS.txt PURPOSE [--answer]
 *       Opens the register in DIR and times one prb_evaluate for PURPOSE
 *       of every identifier in IDS.txt, as `reads` times reads (the list
 *       twice, the second pass reported): the probity side of the peers'
 *       one-query-per-subject figures on the same subjects. Prints:
 *         probity evals=N eval_median_us=X eval_p99_us=Y eval_rate=R
 *       With --answer, what the server does for POST /v1/decisions before
 *       it stores the decision: prb_decide_prepare (inquiry number and
 *       stored form included) and the compact JSON answer. Prints:
 *         probity answers=N answer_median_us=X answer_p99_us=Y answer_rate=R
 *
 *   bench-core score DIR PURPOSE [--threads T] [--passes P]
 *       Opens the register in DIR and runs prb_score_all for PURPOSE P
 *       times (default 2; the last is reported, the ones before warm the
 *       page cache and the process's mappings), with a callback that only
 *       counts the bytes and lines it is given. T is prb_score_all's
 *       threads argument (default 0: one per core). Prints:
 *         probity score_subjects=N score_seconds=S score_rate=R
 *                 score_first_rate=F score_bytes=B
 *       (F: the first pass, in a process that has not touched the register
 *       yet; it maps the register's pages as it goes.)
 *
 * Why the numbers mean what they say:
 *  - Each read is bracketed by clock_gettime(CLOCK_MONOTONIC); the cost of
 *    one such pair is measured and printed to stderr, so a reader can tell
 *    how much of a microsecond figure is the timer itself.
 *  - A read includes everything prb_subject_read does: normalising the
 *    identifier, the LMDB read transaction (renewed, since one prb_file
 *    handle is reused as the API allows), decoding every record and
 *    applying the policy's retention dates. The caller then touches the
 *    result (record count, every record's event_date), as a client
 *    building the file would, so none of it can be skipped.
 *  - Medians and 99th percentiles are computed as bench-peers computes
 *    them (mean of the two middle values; nearest rank), so the figures
 *    compare directly.
 *  - The as-of clock is PROBITY_NOW when set, otherwise a fixed
 *    2026-11-25, and it is set on every handle with prb_set_now: the data
 *    bench/run generates is dated relative to that day, and a clock that
 *    moved on would start expiring records and change what a read returns.
 *    Decisions are the exception, on purpose: adverse records take effect
 *    only after their notice period (up to 30 days), so decide20 ingests
 *    as of the bench clock and decides as of --at, and bench/run runs
 *    `score` with PROBITY_NOW set to the same later day.
 *  - A decision timed by decide20 is the whole public call: prb_evaluate
 *    (identifier normalised, read transaction, subject file decoded,
 *    features, scorecard, list entries, inquiries, rule) plus reading the
 *    outcome and score, and for the fresh-handle figure prb_decision_free.
 *
 * stdout carries only the result line bench/run parses; progress, checks
 * and errors go to stderr, and any error exits with status 1.
 */
#include "probity.h"
#include "ident.h"
#include "merkle.h"

#include <jansson.h>
#include <sodium.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NOW "2026-11-25"
#define FILE20_RECORDS 20
#define FILE20_READS 200000
#define FILE20_WARMUP 20000
/* "cn-rid:" + 18 characters + NUL. */
#define RID_LEN 26

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts lat[0..n) and gives the median and p99 in microseconds. */
static void percentiles(uint64_t *lat, size_t n, double *median_us, double *p99_us)
{
    size_t rank;

    qsort(lat, n, sizeof *lat, cmp_u64);
    *median_us =
        (n % 2 ? (double)lat[n / 2] : ((double)lat[n / 2 - 1] + (double)lat[n / 2]) / 2) / 1e3;
    rank = (99 * n + 99) / 100; /* ceil(0.99 n), in integers */
    *p99_us = (double)lat[rank > 0 ? rank - 1 : 0] / 1e3;
}

/*
 * The shape of a sorted latency list on stderr: the reported line has the
 * median and p99 only, and a mean far above them (a few very slow reads:
 * page faults, the hypervisor taking the core) is worth seeing.
 */
static void report_shape(const char *what, const uint64_t *lat, size_t n)
{
    double total = 0;

    for (size_t i = 0; i < n; i++)
        total += (double)lat[i];
    fprintf(stderr,
            "bench-core: %s latency us: min %.2f p10 %.2f p90 %.2f p99.9 %.2f max %.1f mean "
            "%.2f\n",
            what, (double)lat[0] / 1e3, (double)lat[n / 10] / 1e3, (double)lat[n * 9 / 10] / 1e3,
            (double)lat[n - 1 - n / 1000] / 1e3, (double)lat[n - 1] / 1e3, total / (double)n / 1e3);
}

/*
 * The median cost of one back-to-back clock_gettime pair: what every timed
 * read carries on top of the read itself. Printed, never subtracted, so the
 * reported figures stay raw.
 */
static void report_timer_overhead(void)
{
    enum { N = 10001 };
    static uint64_t d[N];
    double med, p99;

    for (size_t i = 0; i < N; i++) {
        uint64_t t = now_ns();
        d[i] = now_ns() - t;
    }
    percentiles(d, N, &med, &p99);
    fprintf(stderr, "bench-core: clock_gettime pair costs %.0f ns (median)\n", med * 1e3);
}

/* The as-of clock every handle gets; see the file comment. */
static int bench_clock(int64_t *now)
{
    const char *s = getenv("PROBITY_NOW");

    if (s == NULL || *s == '\0')
        s = BENCH_NOW;
    if (prb_parse_now(s, now) != PRB_OK) {
        fprintf(stderr, "bench-core: PROBITY_NOW '%s' is not YYYY-MM-DD\n", s);
        return -1;
    }
    return 0;
}

/*
 * The touch every read is followed by: the record count and every record's
 * event_date go into a sum the caller prints, so the compiler cannot drop
 * the loop and the reader sees the same data was read each time.
 */
static uint64_t touch(const prb_file *f)
{
    size_t n = prb_file_nrecords(f);
    uint64_t sum = n;

    for (size_t i = 0; i < n; i++)
        sum += (uint64_t)(uint32_t)prb_file_record(f, i)->event_date;
    return sum;
}

/* ---------------------------------------------------------------- reads */

/* Reads the whole ids file into buf and points ids[] at its lines. */
static int load_ids(const char *path, char **bufp, char ***idsp, size_t *np)
{
    FILE *fp = NULL;
    char *buf = NULL, **ids = NULL, *p, *nl;
    size_t len = 0, cap = 0, n = 0, got;
    int rc = -1;

    if ((fp = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "bench-core: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    do {
        if (len + (1 << 20) + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + (1 << 20) + 1);
            if (nb == NULL)
                goto nomem;
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
    } while (got > 0);
    if (ferror(fp)) {
        fprintf(stderr, "bench-core: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    buf[len] = '\0';
    /* At most one identifier per newline, plus a last unterminated one. */
    for (p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL; p++)
        n++;
    if ((ids = malloc((n + 1) * sizeof *ids)) == NULL)
        goto nomem;
    n = 0;
    for (p = buf; p < buf + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(buf + len - p));
        if (nl == NULL)
            nl = buf + len;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*p != '\0') /* blank lines carry no identifier */
            ids[n++] = p;
    }
    if (n == 0) {
        fprintf(stderr, "bench-core: %s: no identifiers\n", path);
        goto fail;
    }
    *bufp = buf;
    *idsp = ids;
    *np = n;
    buf = NULL;
    ids = NULL;
    rc = 0;
    goto fail;
nomem:
    fprintf(stderr, "bench-core: %s: out of memory\n", path);
fail:
    if (fp != NULL)
        fclose(fp);
    free(buf);
    free(ids);
    return rc;
}

static int cmd_reads(const char *dir, const char *ids_path)
{
    prb_env *env = NULL;
    prb_file *f = NULL;
    char *buf = NULL, **ids = NULL;
    uint64_t *lat = NULL, sum = 0, records = 0, t0, t;
    size_t n = 0, i;
    double elapsed = 0, median, p99;
    int64_t now;
    int pass, rc = -1, prc;

    if (bench_clock(&now) != 0 || load_ids(ids_path, &buf, &ids, &n) != 0)
        goto fail;
    if ((lat = malloc(n * sizeof *lat)) == NULL) {
        fprintf(stderr, "bench-core: out of memory\n");
        goto fail;
    }
    if ((prc = prb_open(dir, &env)) != PRB_OK) {
        fprintf(stderr, "bench-core: %s\n", env ? prb_errmsg(env) : prb_strerror(prc));
        goto fail;
    }
    prb_set_now(env, now);
    report_timer_overhead();

    /*
     * The whole list is read twice and only the second pass is reported:
     * the first brings the register's pages into the page cache (and the
     * process's page tables), which is the state a running service is in.
     * The peers get the same treatment from their own caches being filled
     * by the load just before they are read.
     */
    for (pass = 1; pass <= 2; pass++) {
        sum = 0;
        records = 0;
        t0 = now_ns();
        for (i = 0; i < n; i++) {
            t = now_ns();
            prc = prb_subject_read(env, ids[i], &f);
            if (prc != PRB_OK) {
                /* Every identifier was picked from the ingested records,
                 * so a miss means the register is not what was loaded. */
                fprintf(stderr, "bench-core: read of %s: %s\n", ids[i], prb_errmsg(env));
                goto fail;
            }
            sum += touch(f);
            lat[i] = now_ns() - t;
            records += prb_file_nrecords(f);
        }
        elapsed = (double)(now_ns() - t0) / 1e9;
        fprintf(stderr,
                "bench-core: reads pass %d: %zu files, %" PRIu64 " records in %.3f s (sum %" PRIu64
                ")%s\n",
                pass, n, records, elapsed, sum, pass == 1 ? ", warm-up, not reported" : "");
    }
    percentiles(lat, n, &median, &p99);
    report_shape("reads", lat, n);
    printf("probity reads=%zu read_median_us=%.2f read_p99_us=%.2f read_rate=%.0f "
           "records_seen=%" PRIu64 "\n",
           n, median, p99, (double)n / elapsed, records);
    rc = 0;
fail:
    /* The file holds a read transaction of env: free it first. */
    prb_file_free(f);
    prb_close(env);
    free(lat);
    free(buf);
    free(ids);
    return rc;
}

/* --------------------------------------------------------------- file20 */

/* splitmix64: a fixed-seed stream, so every run reads the same subjects. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/*
 * The cn-rid of bench person i: region 110101, a birth date that moves on
 * one day every 1,000 persons from 1950-01-01, and i mod 1000 as the
 * sequence, so identifiers are distinct for any N the bench will use; the
 * check character comes from ident.h, the validator's own code, and the
 * result is run through prb_ident_normalize so an identifier the register
 * would refuse is caught here, not as a rejected batch.
 */
static int make_rid(uint32_t i, char out[RID_LEN])
{
    char digits[18], date[11], canon[PRB_IDENT_MAX];
    int32_t day;
    int scheme;

    if (prb_date_parse("1950-01-01", 10, &day) != PRB_OK)
        return -1;
    prb_date_format(day + (int32_t)(i / 1000), date);
    snprintf(digits, sizeof digits, "110101%.4s%.2s%.2s%03u", date, date + 5, date + 8,
             (unsigned)(i % 1000));
    snprintf(out, RID_LEN, "cn-rid:%.17s%c", digits, prb_ident_cn_rid_check(digits));
    if (prb_ident_normalize(out, strlen(out), canon, sizeof canon, &scheme) != PRB_OK ||
        scheme != PRB_SCHEME_CN_RID || strcmp(canon, out) != 0) {
        fprintf(stderr, "bench-core: made an identifier the register refuses: %s (%s)\n", out,
                canon);
        return -1;
    }
    return 0;
}

struct text {
    char *p;
    size_t n, cap;
};

static int append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int append(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int w;

    for (;;) {
        va_start(ap, fmt);
        w = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (w < 0)
            return -1;
        if ((size_t)w < t->cap - t->n) {
            t->n += (size_t)w;
            return 0;
        }
        char *np = realloc(t->p, t->cap = 2 * t->cap + (size_t)w + 1);
        if (np == NULL)
            return -1;
        t->p = np;
    }
}

/*
 * Twenty credit_account records for each person, as NDJSON in the ingest
 * format: events monthly over the last 20 months (well inside the 3,650
 * days credit_account is kept), so none is expired as of today and every
 * file holds exactly 20.
 */
/*
 * Person i's j-th open credit account, as one NDJSON line: reported
 * monthly going back from the day before today, opened 400 to 3,400 days
 * before its event, under the reference series-i-j.
 */
static int append_account(struct text *t, int32_t today, const char *series, uint32_t i, uint32_t j,
                          const char *rid, unsigned worst_dpd)
{
    char event[11], opened[11];
    int32_t ev = today - 1 - (int32_t)(30 * j + (i + j) % 29);
    prb_date_format(ev, event);
    prb_date_format(ev - 400 - (int32_t)((i * 7 + j) % 3000), opened);
    return append(t,
                  "{\"furnisher\":\"bank-%c\",\"ref\":\"%s-%u-%02u\","
                  "\"subject\":{\"kind\":\"person\",\"id\":\"%s\"},"
                  "\"category\":\"credit_account\",\"status\":\"open\","
                  "\"event_date\":\"%s\",\"settled_date\":null,"
                  "\"legal_basis\":\"loan contract %u-%u\","
                  "\"fields\":{\"account_type\":\"%s\",\"opened_date\":\"%s\","
                  "\"credit_limit\":\"%u.00\",\"balance\":\"%u.%02u\","
                  "\"currency\":\"CNY\",\"worst_dpd\":%u}}\n",
                  'a' + (int)(j % 5), series, i, j, rid, event, i, j,
                  j % 2 ? "revolving" : "instalment", opened, 1000 * (1 + (i + j) % 500),
                  (i * 31 + j * 17) % 100000, (i + j) % 100, worst_dpd);
}

static int make_batch(int32_t today, uint32_t nsubj, char (*rids)[RID_LEN], struct text *t)
{
    for (uint32_t i = 0; i < nsubj; i++) {
        if (make_rid(i, rids[i]) != 0)
            return -1;
        for (uint32_t j = 0; j < FILE20_RECORDS; j++)
            if (append_account(t, today, "F20", i, j, rids[i], j % 3 ? 0 : 30) != 0) {
                fprintf(stderr, "bench-core: out of memory building the batch\n");
                return -1;
            }
    }
    return 0;
}

static int ingest_batch(prb_env *env, const struct text *t, uint32_t nsubj)
{
    prb_ingest *b = NULL;
    prb_ingest_stats st = {0};
    uint64_t want = (uint64_t)nsubj * FILE20_RECORDS, t0;
    int rc = -1, prc;

    t0 = now_ns();
    if ((prc = prb_ingest_begin(env, NULL, &b)) != PRB_OK ||
        (prc = prb_ingest_add(b, "file20.ndjson", t->p, t->n, PRB_FMT_NDJSON)) != PRB_OK) {
        fprintf(stderr, "bench-core: ingest: %s\n", prb_errmsg(env));
        goto fail;
    }
    prc = prb_ingest_commit(b, &st);
    for (size_t i = 0; i < prb_ingest_nerrors(b) && i < 10; i++)
        fprintf(stderr, "bench-core: %s\n", prb_ingest_error(b, i));
    if (prc != PRB_OK) {
        fprintf(stderr, "bench-core: ingest: %s\n", prb_errmsg(env));
        goto fail;
    }
    if (st.accepted != want || st.rejected != 0) {
        fprintf(stderr,
                "bench-core: ingest accepted %" PRIu64 " and rejected %" PRIu64
                " records, expected %" PRIu64 " accepted\n",
                st.accepted, st.rejected, want);
        goto fail;
    }
    /* Not a reported figure (bench/run times the CLI end to end), but a
     * batch that took far longer than that would be worth seeing. */
    fprintf(stderr, "bench-core: file20: ingested %" PRIu64 " records in one batch in %.3f s\n",
            st.accepted, (double)(now_ns() - t0) / 1e9);
    rc = 0;
fail:
    prb_ingest_free(b);
    return rc;
}

static int parse_count(const char *s, const char *what, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v == 0 || v > max) {
        fprintf(stderr, "bench-core: %s must be a whole number in 1..%" PRIu32 ", got '%s'\n", what,
                max, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A batch maker: nsubj persons' records as NDJSON into t, their
 * identifiers into rids. */
typedef int (*batch_maker)(int32_t today, uint32_t nsubj, char (*rids)[RID_LEN], struct text *t);

/*
 * A new register at dir under policy, its clock at now, holding the
 * records make writes for nsubj persons; their identifiers go to *rids.
 * The caller frees *rids and closes *env, also when this fails.
 */
static int register_with(const char *dir, const char *policy, int64_t now, uint32_t nsubj,
                         batch_maker make, prb_env **env, char (**rids)[RID_LEN])
{
    struct text batch = {NULL, 0, 0};
    int rc = -1, prc;

    if ((*rids = calloc(nsubj, sizeof **rids)) == NULL) {
        fprintf(stderr, "bench-core: out of memory\n");
        return -1;
    }
    if ((prc = prb_init(dir, policy, env)) != PRB_OK) {
        fprintf(stderr, "bench-core: %s\n", *env ? prb_errmsg(*env) : prb_strerror(prc));
        return -1;
    }
    prb_set_now(*env, now);
    if (make(prb_today(*env), nsubj, *rids, &batch) == 0 && ingest_batch(*env, &batch, nsubj) == 0)
        rc = 0;
    free(batch.p);
    return rc;
}

static int cmd_file20(const char *dir, uint32_t nsubj, const char *policy, uint32_t nreads)
{
    prb_env *env = NULL;
    prb_file *f = NULL;
    char(*rids)[RID_LEN] = NULL;
    uint64_t *lat = NULL, sum = 0, rng = 42, t0;
    double median, p99;
    int64_t now;
    int rc = -1, prc;

    if (bench_clock(&now) != 0 ||
        register_with(dir, policy, now, nsubj, make_batch, &env, &rids) != 0)
        goto fail;
    if ((lat = malloc(nreads * sizeof *lat)) == NULL) {
        fprintf(stderr, "bench-core: out of memory\n");
        goto fail;
    }

    /* Every file must hold exactly 20 records, or the figure would be
     * about some other size. This pass also warms the page cache. */
    for (uint32_t i = 0; i < nsubj; i++) {
        if ((prc = prb_subject_read(env, rids[i], &f)) != PRB_OK) {
            fprintf(stderr, "bench-core: read of %s: %s\n", rids[i], prb_errmsg(env));
            goto fail;
        }
        if (prb_file_nrecords(f) != FILE20_RECORDS) {
            fprintf(stderr, "bench-core: %s has %zu records, expected %d\n", rids[i],
                    prb_file_nrecords(f), FILE20_RECORDS);
            goto fail;
        }
    }
    fprintf(stderr, "bench-core: file20: %" PRIu32 " files of %d records checked\n", nsubj,
            FILE20_RECORDS);
    report_timer_overhead();

    /* A warm-up of random reads first, untimed, so the timed reads start
     * with the branch predictors and allocator in their steady state. */
    for (uint32_t i = 0; i < FILE20_WARMUP; i++) {
        if ((prc = prb_subject_read(env, rids[next_rand(&rng) % nsubj], &f)) != PRB_OK) {
            fprintf(stderr, "bench-core: warm-up read: %s\n", prb_errmsg(env));
            goto fail;
        }
        sum += touch(f);
    }
    t0 = now_ns();
    for (uint32_t i = 0; i < nreads; i++) {
        const char *id = rids[next_rand(&rng) % nsubj];
        uint64_t t = now_ns();
        if ((prc = prb_subject_read(env, id, &f)) != PRB_OK) {
            fprintf(stderr, "bench-core: read of %s: %s\n", id, prb_errmsg(env));
            goto fail;
        }
        sum += touch(f);
        lat[i] = now_ns() - t;
    }
    fprintf(stderr, "bench-core: file20: %" PRIu32 " timed reads in %.3f s (sum %" PRIu64 ")\n",
            nreads, (double)(now_ns() - t0) / 1e9, sum);
    percentiles(lat, nreads, &median, &p99);
    report_shape("file20", lat, nreads);
    printf("probity file20_median_us=%.2f file20_p99_us=%.2f reads=%" PRIu32 "\n", median, p99,
           nreads);
    rc = 0;
fail:
    prb_file_free(f);
    prb_close(env);
    free(rids);
    free(lat);
    return rc;
}

/* ------------------------------------------------------------- decide20 */

#define DECIDE_AT "2027-03-01"
#define DECIDE_EVALS 200000
#define DECIDE_WARMUP 20000
#define DECIDE_STORED 2000
#define DECIDE_STORED_MAX_NS (30ull * 1000000000u)
#define DECIDE_PURPOSE "credit"

/*
 * Twenty records for each person, as NDJSON in the ingest format. Persons
 * are in twelve groups by i mod 12 (sizes of groups 0-5 and 6-11 alike):
 *   0-5   20 credit accounts
 *   6-7   19 credit accounts, 1 open payment default
 *   8     18 credit accounts, 1 open and 1 settled payment default
 *   9     19 credit accounts, 1 unpaid court judgment
 *   10    18 credit accounts, 1 open payment default, 1 unpaid judgment
 *   11    17 credit accounts, 1 open payment default, 1 unpaid judgment,
 *         1 insolvency (stage "opened")
 * Credit accounts are reported monthly over the last 20 months, every
 * third with 30 (one person in five: 90) days past due, opened 400 to
 * 3,400 days before; adverse events lie 10 to 309 days before today. As of
 * the decision day (--at, after every notice period of the policy has run)
 * all twenty are still within retention, so every file holds 20 records
 * and the adverse ones have taken effect.
 */
static int make_decide_batch(int32_t today, uint32_t nsubj, char (*rids)[RID_LEN], struct text *t)
{
    char event[11], settled[11];

    for (uint32_t i = 0; i < nsubj; i++) {
        unsigned g = i % 12;
        unsigned nadv = g < 6 ? 0 : g < 8 ? 1 : g < 11 ? 2 - (g == 9) : 3;
        unsigned nacc = FILE20_RECORDS - nadv;
        int w;

        if (make_rid(i, rids[i]) != 0)
            return -1;
        for (uint32_t j = 0; j < nacc; j++)
            if (append_account(t, today, "D20", i, j, rids[i], j % 3 ? 0 : i % 5 ? 30 : 90) != 0)
                goto nomem;
        for (uint32_t j = nacc; j < FILE20_RECORDS; j++) {
            /* Which adverse record slot j is, counted from the last. */
            unsigned slot = FILE20_RECORDS - 1 - j;
            int32_t ev = today - 10 - (int32_t)((i * 7 + j * 13) % 300);
            const char *cat;
            prb_date_format(ev, event);
            if (slot == 0 && g != 9 && g != 10 && g != 11)
                cat = "payment_default"; /* groups 6-8: the open default */
            else if (slot == 0)
                cat = "court_judgment";
            else if (slot == 1 && g == 8)
                cat = "settled_default";
            else if (slot == 1)
                cat = "payment_default";
            else
                cat = "insolvency";
            if (strcmp(cat, "payment_default") == 0)
                w = append(t,
                           "{\"furnisher\":\"bank-a\",\"ref\":\"D20-%u-%02u\","
                           "\"subject\":{\"kind\":\"person\",\"id\":\"%s\"},"
                           "\"category\":\"payment_default\",\"status\":\"open\","
                           "\"event_date\":\"%s\",\"settled_date\":null,"
                           "\"legal_basis\":\"loan contract; two reminders sent\","
                           "\"fields\":{\"amount\":\"%u.00\",\"currency\":\"CNY\"}}\n",
                           i, j, rids[i], event, 150 + (i * 13 + j) % 20000);
            else if (strcmp(cat, "settled_default") == 0) {
                prb_date_format(ev + (today - ev) / 2, settled);
                w = append(t,
                           "{\"furnisher\":\"bank-b\",\"ref\":\"D20-%u-%02u\","
                           "\"subject\":{\"kind\":\"person\",\"id\":\"%s\"},"
                           "\"category\":\"payment_default\",\"status\":\"settled\","
                           "\"event_date\":\"%s\",\"settled_date\":\"%s\","
                           "\"legal_basis\":\"loan contract; two reminders sent\","
                           "\"fields\":{\"amount\":\"%u.00\",\"currency\":\"CNY\"}}\n",
                           i, j, rids[i], event, settled, 150 + (i * 17 + j) % 20000);
            } else if (strcmp(cat, "court_judgment") == 0)
                w = append(t,
                           "{\"furnisher\":\"court-beijing-2\",\"ref\":\"D20-%u-%02u\","
                           "\"subject\":{\"kind\":\"person\",\"id\":\"%s\"},"
                           "\"category\":\"court_judgment\",\"status\":\"open\","
                           "\"event_date\":\"%s\",\"settled_date\":null,"
                           "\"legal_basis\":\"court order\","
                           "\"fields\":{\"amount\":\"%u.00\",\"currency\":\"CNY\","
                           "\"court\":\"Beijing Chaoyang District People's Court\","
                           "\"case_ref\":\"(2026) Jing 0105 Min Chu %u\"}}\n",
                           i, j, rids[i], event, 500 + (i * 19 + j) % 50000, 1 + i % 40000);
            else
                w = append(t,
                           "{\"furnisher\":\"court-beijing-1\",\"ref\":\"D20-%u-%02u\","
                           "\"subject\":{\"kind\":\"person\",\"id\":\"%s\"},"
                           "\"category\":\"insolvency\",\"status\":\"open\","
                           "\"event_date\":\"%s\",\"settled_date\":null,"
                           "\"legal_basis\":\"court order\","
                           "\"fields\":{\"stage\":\"opened\"}}\n",
                           i, j, rids[i], event);
            if (w != 0)
                goto nomem;
        }
    }
    return 0;
nomem:
    fprintf(stderr, "bench-core: out of memory building the batch\n");
    return -1;
}

/*
 * One decision, timed by the caller: the call and a look at the answer.
 * *d is the handle: passed back in, prb_evaluate and prb_decide reuse it
 * (its buffers, subject file and read transaction), as an application
 * deciding in a loop would; with fresh set, it is released after each
 * call, so every call allocates anew. *sum gets the outcome and score so
 * none of it can be dropped.
 */
static int one_decision(prb_env *env, const char *id, int store, int fresh, prb_decision **d,
                        uint64_t *sum, int *outcome)
{
    int prc, has;
    double score;

    prc = store ? prb_decide(env, DECIDE_PURPOSE, id, "bench-lender", d)
                : prb_evaluate(env, DECIDE_PURPOSE, id, d);
    if (prc != PRB_OK) {
        fprintf(stderr, "bench-core: %s of %s: %s\n", store ? "prb_decide" : "prb_evaluate", id,
                prb_errmsg(env));
        prb_decision_free(*d);
        *d = NULL;
        return -1;
    }
    *outcome = prb_decision_outcome(*d);
    score = prb_decision_score(*d, &has);
    *sum += (uint64_t)*outcome * 1000 + (has ? (uint64_t)score : 0);
    if (fresh) {
        prb_decision_free(*d);
        *d = NULL;
    }
    return 0;
}

static int cmd_decide20(const char *dir, uint32_t nsubj, const char *policy, uint32_t nevals,
                        uint32_t nstored, const char *at)
{
    static const char *const oname[] = {"?", "approve", "refer", "decline"};
    prb_env *env = NULL;
    prb_file *f = NULL;
    prb_decision *d = NULL;
    char(*rids)[RID_LEN] = NULL;
    uint64_t *lat = NULL, sum = 0, rng = 42, t0, outcomes[4] = {0, 0, 0, 0};
    double median, p99, elapsed, fresh_median, fresh_p99;
    int64_t now, decide_at;
    int rc = -1, prc, outcome;
    uint32_t i, done;

    if (bench_clock(&now) != 0)
        goto fail;
    if (prb_parse_now(at, &decide_at) != PRB_OK || decide_at <= now) {
        fprintf(stderr, "bench-core: --at '%s' must be a YYYY-MM-DD after the bench clock\n", at);
        goto fail;
    }
    if (register_with(dir, policy, now, nsubj, make_decide_batch, &env, &rids) != 0)
        goto fail;
    if ((lat = malloc((nevals > nstored ? nevals : nstored) * sizeof *lat)) == NULL) {
        fprintf(stderr, "bench-core: out of memory\n");
        goto fail;
    }

    /* From here on, the day of the decisions. */
    prb_set_now(env, decide_at);
    for (i = 0; i < nsubj; i++) {
        if ((prc = prb_subject_read(env, rids[i], &f)) != PRB_OK) {
            fprintf(stderr, "bench-core: read of %s: %s\n", rids[i], prb_errmsg(env));
            goto fail;
        }
        size_t usable = 0;
        for (size_t r = 0; r < prb_file_nrecords(f); r++)
            usable += prb_file_record(f, r)->usable != 0;
        if (prb_file_nrecords(f) != FILE20_RECORDS || usable != FILE20_RECORDS) {
            fprintf(stderr, "bench-core: %s has %zu records (%zu usable) as of %s, expected %d\n",
                    rids[i], prb_file_nrecords(f), usable, at, FILE20_RECORDS);
            goto fail;
        }
    }
    prb_file_free(f);
    f = NULL;
    fprintf(stderr, "bench-core: decide20: %" PRIu32 " files of %d usable records as of %s\n",
            nsubj, FILE20_RECORDS, at);
    report_timer_overhead();

    /* First with a fresh handle for every call (reported second), then
     * with one handle passed back in, the headline figure. Each run has
     * its untimed warm-up of random decisions. */
    for (int fresh = 1; fresh >= 0; fresh--) {
        for (i = 0; i < DECIDE_WARMUP; i++)
            if (one_decision(env, rids[next_rand(&rng) % nsubj], 0, fresh, &d, &sum, &outcome))
                goto fail;
        memset(outcomes, 0, sizeof outcomes);
        t0 = now_ns();
        for (i = 0; i < nevals; i++) {
            const char *id = rids[next_rand(&rng) % nsubj];
            uint64_t t = now_ns();
            if (one_decision(env, id, 0, fresh, &d, &sum, &outcome) != 0)
                goto fail;
            lat[i] = now_ns() - t;
            outcomes[outcome & 3]++;
        }
        elapsed = (double)(now_ns() - t0) / 1e9;
        fprintf(stderr,
                "bench-core: decide20: %" PRIu32 " timed evaluations (%s) in %.3f s (sum %" PRIu64
                "); outcomes: %" PRIu64 " approve, %" PRIu64 " refer, %" PRIu64 " decline\n",
                nevals, fresh ? "a fresh handle each" : "one handle reused", elapsed, sum,
                outcomes[1], outcomes[2], outcomes[3]);
        if (outcomes[1] == 0 || outcomes[2] == 0 || outcomes[3] == 0) {
            fprintf(stderr, "bench-core: decide20: expected every outcome among the decisions\n");
            goto fail;
        }
        if (fresh) {
            percentiles(lat, nevals, &fresh_median, &fresh_p99);
            report_shape("decide20, fresh handles", lat, nevals);
        }
    }
    percentiles(lat, nevals, &median, &p99);
    report_shape("decide20", lat, nevals);
    printf("probity decide20_median_us=%.2f decide20_p99_us=%.2f evals=%" PRIu32
           " decide20_fresh_median_us=%.2f decide20_fresh_p99_us=%.2f\n",
           median, p99, nevals, fresh_median, fresh_p99);
    fflush(stdout);

    /* Stored decisions: each is an inquiry committed durably on its own. */
    memset(outcomes, 0, sizeof outcomes);
    t0 = now_ns();
    for (done = 0; done < nstored && now_ns() - t0 < DECIDE_STORED_MAX_NS; done++) {
        const char *id = rids[next_rand(&rng) % nsubj];
        uint64_t t = now_ns();
        if (one_decision(env, id, 1, 0, &d, &sum, &outcome) != 0)
            goto fail;
        lat[done] = now_ns() - t;
        outcomes[outcome & 3]++;
    }
    elapsed = (double)(now_ns() - t0) / 1e9;
    fprintf(stderr,
            "bench-core: decide20: %" PRIu32 " stored decisions in %.3f s%s; outcomes: %" PRIu64
            " %s, %" PRIu64 " %s, %" PRIu64 " %s\n",
            done, elapsed, done < nstored ? " (stopped at the time limit)" : "", outcomes[1],
            oname[1], outcomes[2], oname[2], outcomes[3], oname[3]);
    percentiles(lat, done, &median, &p99);
    report_shape("decide stored", lat, done);
    printf("probity decide_stored_median_us=%.1f decide_stored_p99_us=%.1f "
           "decide_stored_rate=%.0f decisions=%" PRIu32 "\n",
           median, p99, (double)done / elapsed, done);
    rc = 0;
fail:
    /* Both hold a read transaction of env: free them first. */
    prb_decision_free(d);
    prb_file_free(f);
    prb_close(env);
    free(rids);
    free(lat);
    return rc;
}

/* ---------------------------------------------------------------- evals */

static int cmd_evals(const char *dir, const char *ids_path, const char *purpose, int answer)
{
    prb_env *env = NULL;
    prb_decision *d = NULL; /* one handle, passed back in */
    char *buf = NULL, **ids = NULL;
    uint64_t *lat = NULL, sum = 0, t0, t, outcomes[4];
    size_t n = 0, i;
    double elapsed = 0, median, p99;
    int64_t now;
    int rc = -1, prc;

    if (bench_clock(&now) != 0 || load_ids(ids_path, &buf, &ids, &n) != 0)
        goto fail;
    if ((lat = malloc(n * sizeof *lat)) == NULL) {
        fprintf(stderr, "bench-core: out of memory\n");
        goto fail;
    }
    if ((prc = prb_open(dir, &env)) != PRB_OK) {
        fprintf(stderr, "bench-core: %s\n", env ? prb_errmsg(env) : prb_strerror(prc));
        goto fail;
    }
    prb_set_now(env, now);
    for (int pass = 1; pass <= 2; pass++) {
        memset(outcomes, 0, sizeof outcomes);
        t0 = now_ns();
        for (i = 0; i < n; i++) {
            int has;
            t = now_ns();
            const char *json = NULL;
            if ((prc = answer ? prb_decide_prepare(env, purpose, ids[i], "bench", &d)
                              : prb_evaluate(env, purpose, ids[i], &d)) != PRB_OK ||
                (answer && (prc = prb_decision_json_compact(d, &json)) != PRB_OK)) {
                fprintf(stderr, "bench-core: deciding on %s: %s\n", ids[i], prb_errmsg(env));
                goto fail;
            }
            sum += json ? strlen(json) : 0;
            int o = prb_decision_outcome(d);
            double score = prb_decision_score(d, &has);
            sum += (uint64_t)o * 1000 + (has ? (uint64_t)score : 0);
            lat[i] = now_ns() - t;
            outcomes[o & 3]++;
        }
        elapsed = (double)(now_ns() - t0) / 1e9;
        fprintf(stderr,
                "bench-core: evals pass %d: %zu decisions in %.3f s (sum %" PRIu64 "; %" PRIu64
                " approve, %" PRIu64 " refer, %" PRIu64 " decline)%s\n",
                pass, n, elapsed, sum, outcomes[1], outcomes[2], outcomes[3],
                pass == 1 ? ", warm-up, not reported" : "");
    }
    percentiles(lat, n, &median, &p99);
    report_shape(answer ? "answers" : "evals", lat, n);
    if (answer)
        printf("probity answers=%zu answer_median_us=%.2f answer_p99_us=%.2f answer_rate=%.0f\n", n,
               median, p99, (double)n / elapsed);
    else
        printf("probity evals=%zu eval_median_us=%.2f eval_p99_us=%.2f eval_rate=%.0f\n", n, median,
               p99, (double)n / elapsed);
    rc = 0;
fail:
    prb_decision_free(d);
    prb_close(env);
    free(lat);
    free(buf);
    free(ids);
    return rc;
}

/* ---------------------------------------------------------------- score */

struct counter {
    uint64_t bytes, lines;
};

/* The score callback: counts what it is given and keeps none of it, so
 * the figure is prb_score_all's work, not an output device's. */
static int count_output(void *ctx, const char *buf, size_t len)
{
    struct counter *c = ctx;
    const char *p = buf, *end = buf + len;

    c->bytes += len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c->lines++;
        p++;
    }
    return 0;
}

static int cmd_score(const char *dir, const char *purpose, int threads, uint32_t passes)
{
    prb_env *env = NULL;
    struct counter c = {0, 0};
    uint64_t n = 0, subjects = 0, t0;
    double secs = 0, first = 0;
    int64_t now;
    int rc = -1, prc;

    if (bench_clock(&now) != 0)
        goto fail;
    if ((prc = prb_open(dir, &env)) != PRB_OK) {
        fprintf(stderr, "bench-core: %s\n", env ? prb_errmsg(env) : prb_strerror(prc));
        goto fail;
    }
    prb_set_now(env, now);
    if (prb_count(env, &subjects, NULL) != PRB_OK) {
        fprintf(stderr, "bench-core: %s\n", prb_errmsg(env));
        goto fail;
    }
    for (uint32_t pass = 1; pass <= passes; pass++) {
        c.bytes = c.lines = 0;
        t0 = now_ns();
        if ((prc = prb_score_all(env, purpose, threads, count_output, &c, &n)) != PRB_OK) {
            fprintf(stderr, "bench-core: score: %s\n", prb_errmsg(env));
            goto fail;
        }
        secs = (double)(now_ns() - t0) / 1e9;
        if (pass == 1)
            first = secs;
        fprintf(stderr,
                "bench-core: score pass %" PRIu32 ": %" PRIu64 " of %" PRIu64 " subjects, %" PRIu64
                " lines, %" PRIu64 " bytes in %.3f s = %.0f/s%s\n",
                pass, n, subjects, c.lines, c.bytes, secs, (double)n / secs,
                pass < passes ? ", warm-up, not reported" : "");
        if (c.lines != n) {
            fprintf(stderr, "bench-core: score wrote %" PRIu64 " lines for %" PRIu64 " subjects\n",
                    c.lines, n);
            goto fail;
        }
    }
    printf("probity score_subjects=%" PRIu64 " score_seconds=%.3f score_rate=%.0f "
           "score_first_rate=%.0f score_bytes=%" PRIu64 "\n",
           n, secs, (double)n / secs, (double)n / first, c.bytes);
    rc = 0;
fail:
    prb_close(env);
    return rc;
}

/* ----------------------------------------------------------------- main */

/* One bare path the timed loop made, kept to be checked after it. */
struct kept_path {
    uint64_t leaf;
    size_t len;
    prb_hash32 path[PRB_MT_MAXPATH];
};

/* Reads the base64 field key of o into out, which must get exactly want
 * bytes. */
static int json_b64(json_t *o, const char *key, unsigned char *out, size_t want)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t got;
    if (!s ||
        sodium_base642bin(out, want, s, strlen(s), NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        got != want)
        return -1;
    return 0;
}

/* Checks a path the timed loop made against the signed root of the tree
 * of size: the leaf's hash and the signed head come from a JSON proof of
 * the same leaf that prb_audit_check accepts (head signed with key, leaf
 * hash the hash of the leaf), and the kept path must lead from that hash
 * to that head's root (prb_mt_verify_inclusion, the verifier
 * prb_audit_check itself uses). Comparing the bare path with the JSON
 * proof's would only show the two calls agree; recomputing the root
 * shows the bare path is right. Returns 0, or -1 with the reason on
 * stderr. */
static int check_kept(prb_env *env, const char *key, uint64_t size, const struct kept_path *k)
{
    char *json = NULL, msg[256];
    unsigned char leaf_hash[PRB_HASH_LEN], root[PRB_HASH_LEN];
    json_t *o = NULL, *head;
    int rc = -1;
    if (prb_audit_prove(env, k->leaf, size, &json) != PRB_OK) {
        fprintf(stderr, "bench-core: proofs: leaf %" PRIu64 ": %s\n", k->leaf, prb_errmsg(env));
        goto out;
    }
    if (prb_audit_check(key, json, msg, sizeof msg) != PRB_OK) {
        fprintf(stderr, "bench-core: proofs: leaf %" PRIu64 ": the JSON proof does not check: %s\n",
                k->leaf, msg);
        goto out;
    }
    o = json_loads(json, 0, NULL);
    head = json_object_get(o, "tree_head");
    if (!o || json_b64(o, "leaf_hash", leaf_hash, sizeof leaf_hash) ||
        json_b64(head, "root_hash", root, sizeof root) ||
        json_integer_value(json_object_get(head, "tree_size")) != (json_int_t)size) {
        fprintf(stderr,
                "bench-core: proofs: leaf %" PRIu64 ": the JSON proof has no leaf_hash, or no "
                "signed head of size %" PRIu64 "\n",
                k->leaf, size);
        goto out;
    }
    if (!prb_mt_verify_inclusion(leaf_hash, k->leaf, size, k->path, k->len, root)) {
        fprintf(stderr,
                "bench-core: proofs: the audit path prb_audit_path gave for leaf %" PRIu64
                " (%zu hashes) does not lead to the signed root of the tree of size %" PRIu64
                ": the proof rate is of wrong answers\n",
                k->leaf, k->len, size);
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    free(json);
    return rc;
}

/* Inclusion proofs for random leaves of the register's whole log: bare
 * audit paths (prb_audit_path, a read transaction each) and the signed
 * JSON proofs `probity audit prove` prints (prb_audit_prove). Every
 * KEEP_EVERY-th bare path is made into a buffer of its own and, after the
 * timing, checked against the signed head's root (check_kept), so a fast
 * wrong answer cannot pass; the others share one buffer, and choosing the
 * buffer is all the timed loop pays for the check. */
#define KEEP_EVERY 1000
static int cmd_proofs(const char *dir, uint32_t n)
{
    prb_env *env = NULL;
    char *head = NULL, key[64], msg[256];
    uint64_t rnd = 0x9e3779b97f4a7c15ULL, size;
    int rc = prb_open(dir, &env);
    if (rc || (rc = prb_audit_head(env, &head)) || (rc = prb_audit_public_key(env, key))) {
        fprintf(stderr, "bench-core: %s\n", prb_errmsg(env));
        prb_close(env);
        return -1;
    }
    const char *ts = strstr(head, "\"tree_size\": ");
    size = ts ? strtoull(ts + strlen("\"tree_size\": "), NULL, 10) : 0;
    free(head);
    if (!size) {
        fprintf(stderr, "bench-core: the audit log is empty\n");
        prb_close(env);
        return -1;
    }
    size_t nkept = (n + KEEP_EVERY - 1) / KEEP_EVERY;
    struct kept_path *kept = calloc(nkept ? nkept : 1, sizeof *kept);
    if (!kept) {
        fprintf(stderr, "bench-core: proofs: out of memory for %zu kept paths\n", nkept);
        prb_close(env);
        return -1;
    }
    prb_hash32 path[PRB_MT_MAXPATH];
    size_t len, total = 0;
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint64_t leaf = next_rand(&rnd) % size;
        if (i % KEEP_EVERY == 0) {
            struct kept_path *k = &kept[i / KEEP_EVERY];
            k->leaf = leaf;
            rc = prb_audit_path(env, leaf, size, k->path, &k->len);
            total += k->len;
        } else {
            rc = prb_audit_path(env, leaf, size, path, &len);
            total += len;
        }
    }
    uint64_t t1 = now_ns(), tpath = t1 - t0;
    for (size_t i = 0; i < nkept && !rc; i++)
        if (check_kept(env, key, size, &kept[i]) != 0)
            rc = -1;
    free(kept);
    t1 = now_ns(); /* the JSON window starts after the checks */
    uint32_t njson = n / 10 ? n / 10 : 1;
    for (uint32_t i = 0; i < njson && !rc; i++) {
        char *json = NULL;
        rc = prb_audit_prove(env, next_rand(&rnd) % size, size, &json);
        /* Checked offline like a client would, outside the timing. */
        if (!rc && i < 100) {
            uint64_t c0 = now_ns();
            if (prb_audit_check(key, json, msg, sizeof msg) != PRB_OK) {
                fprintf(stderr, "bench-core: proof does not check: %s\n", msg);
                rc = -1;
            }
            t1 += now_ns() - c0; /* moves the JSON window's start past the check */
        }
        free(json);
    }
    uint64_t t2 = now_ns();
    if (rc) {
        fprintf(stderr, "bench-core: %s\n", rc > 0 ? prb_errmsg(env) : "proof failed");
        prb_close(env);
        return -1;
    }
    printf("probity proofs=%u leaves=%llu path_len_mean=%.1f proof_rate=%.0f "
           "proof_json=%u proof_json_rate=%.0f\n",
           n, (unsigned long long)size, (double)total / n, n / (tpath / 1e9), njson,
           njson / ((t2 - t1) / 1e9));
    prb_close(env);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-core reads DIR IDS.txt\n"
                    "       bench-core file20 DIR N [--policy FILE] [--reads K]\n"
                    "       bench-core decide20 DIR N [--policy FILE] [--evals K] [--stored S] "
                    "[--at DATE]\n"
                    "       bench-core evals DIR IDS.txt PURPOSE [--answer]\n"
                    "       bench-core score DIR PURPOSE [--threads T] [--passes P]\n"
                    "       bench-core proofs DIR N\n");
    return 2;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc == 4 && strcmp(argv[1], "reads") == 0) {
        rc = cmd_reads(argv[2], argv[3]);
    } else if (argc >= 4 && strcmp(argv[1], "file20") == 0) {
        const char *policy = NULL; /* the built-in default */
        uint32_t nsubj, nreads = FILE20_READS;
        /* At most 1,000 persons a day of birth dates from 1950: keeps the
         * identifiers' birth years inside what cn-rid accepts. */
        if (parse_count(argv[3], "N", 10000000, &nsubj) != 0)
            return 2;
        for (int i = 4; i < argc; i += 2) {
            if (i + 1 >= argc)
                return usage();
            if (strcmp(argv[i], "--policy") == 0)
                policy = argv[i + 1];
            else if (strcmp(argv[i], "--reads") == 0) {
                if (parse_count(argv[i + 1], "--reads", 100000000, &nreads) != 0)
                    return 2;
            } else
                return usage();
        }
        rc = cmd_file20(argv[2], nsubj, policy, nreads);
    } else if (argc >= 4 && strcmp(argv[1], "decide20") == 0) {
        const char *policy = NULL, *at = DECIDE_AT;
        uint32_t nsubj, nevals = DECIDE_EVALS, nstored = DECIDE_STORED;
        if (parse_count(argv[3], "N", 10000000, &nsubj) != 0)
            return 2;
        for (int i = 4; i < argc; i += 2) {
            if (i + 1 >= argc)
                return usage();
            if (strcmp(argv[i], "--policy") == 0)
                policy = argv[i + 1];
            else if (strcmp(argv[i], "--at") == 0)
                at = argv[i + 1];
            else if (strcmp(argv[i], "--evals") == 0) {
                if (parse_count(argv[i + 1], "--evals", 100000000, &nevals) != 0)
                    return 2;
            } else if (strcmp(argv[i], "--stored") == 0) {
                if (parse_count(argv[i + 1], "--stored", 10000000, &nstored) != 0)
                    return 2;
            } else
                return usage();
        }
        rc = cmd_decide20(argv[2], nsubj, policy, nevals, nstored, at);
    } else if (argc == 4 && strcmp(argv[1], "proofs") == 0) {
        uint32_t n;
        if (parse_count(argv[3], "N", 100000000, &n) != 0)
            return 2;
        rc = cmd_proofs(argv[2], n);
    } else if ((argc == 5 || (argc == 6 && strcmp(argv[5], "--answer") == 0)) &&
               strcmp(argv[1], "evals") == 0) {
        rc = cmd_evals(argv[2], argv[3], argv[4], argc == 6);
    } else if (argc >= 4 && strcmp(argv[1], "score") == 0) {
        uint32_t threads = 0, passes = 2;
        for (int i = 4; i < argc; i += 2) {
            if (i + 1 >= argc)
                return usage();
            if (strcmp(argv[i], "--threads") == 0) {
                if (parse_count(argv[i + 1], "--threads", 64, &threads) != 0)
                    return 2;
            } else if (strcmp(argv[i], "--passes") == 0) {
                if (parse_count(argv[i + 1], "--passes", 100, &passes) != 0)
                    return 2;
            } else
                return usage();
        }
        rc = cmd_score(argv[2], argv[3], (int)threads, passes);
    } else {
        return usage();
    }
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "bench-core: writing the result: %s\n", strerror(errno));
        rc = -1;
    }
    return rc == 0 ? 0 : 1;
}
