/*
 * peers.c - the SQLite and PostgreSQL half of `make bench`.
 *
 * bench/run measures probity ingesting and reading a synthetic population;
 * this program measures the two databases a reader would otherwise reach
 * for, on the same input and with the same promises, so that the numbers in
 * docs/BENCHMARKS.md compare like with like:
 *
 *   bench-peers sqlite DBPATH RECORDS.ndjson IDS.txt
 *   bench-peers pg "CONNINFO" RECORDS.ndjson IDS.txt
 *   bench-peers sqlite-score DBPATH RECORDS.ndjson AS_OF [options]
 *   bench-peers pg-score "CONNINFO" RECORDS.ndjson AS_OF [options]
 *
 * The first two are the core register's load and reads (below); the
 * -score ones are the decision benchmark, probity's credit decision as SQL
 * (see "decisions" further down for what they run and promise).
 *
 * What is timed and what is not, and why:
 *  - Parsing the NDJSON (jansson) into rows, and for PostgreSQL turning the
 *    rows into CSV, is untimed preparation. The peers are given their input
 *    in the form they load fastest, which flatters them, never probity.
 *  - The schema is created untimed, with the indexes probity also keeps
 *    (primary key (furnisher, ref), and subject_id), before the load: probity
 *    maintains its indexes while it ingests, so the peers must too.
 *  - The load is timed from BEGIN to the end of COMMIT, with durable commits
 *    on both sides (SQLite WAL + synchronous=FULL; PostgreSQL with fsync and
 *    synchronous_commit on, checked at start), as probity commits an ingest
 *    batch in one durable LMDB transaction. SQLite's WAL auto-checkpoint is
 *    off during it and the checkpoint runs after, untimed (sq_load). SQLite gets one prepared
 * INSERT reused for every row; PostgreSQL one COPY (FORMAT csv) streamed from memory with
 * PQputCopyData, so no file has to be readable by the server.
 *  - Each subject read (every row of one subject_id, every column touched)
 *    is timed on its own, for the median and the 99th percentile, and the
 *    whole read loop for the rate.
 *
 * stdout carries only the result lines bench/run parses:
 *   peer=sqlite load_records=N load_seconds=S load_rate=R
 *   peer=sqlite reads=N read_median_us=M read_p99_us=P read_rate=R
 *   peer=sqlite score_subjects=N score_seconds=S score_rate=R
 *               score_first_rate=F
 *   peer=sqlite per_subject=N per_subject_median_us=M per_subject_p99_us=P
 *               per_subject_rate=R
 * (and the same with peer=pg).
 * Progress and errors go to stderr; any error exits with status 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

/* Columns in table order; the CSV, the INSERT and the SELECT all use it. */
enum col {
    C_SUBJECT_ID,
    C_FURNISHER,
    C_REF,
    C_SUBJECT_KIND,
    C_CATEGORY,
    C_STATUS,
    C_EVENT_DATE,
    C_SETTLED_DATE,
    C_LEGAL_BASIS,
    C_FIELDS,
    NCOLS
};

#define COLUMN_LIST                                                                                \
    "subject_id, furnisher, ref, subject_kind, category, status, event_date, settled_date, "       \
    "legal_basis, fields"

/* One cell of a row: a NUL-terminated string at text + off, or SQL NULL. */
#define NULL_LEN UINT32_MAX
struct cell {
    size_t off;
    uint32_t len;
};

/*
 * The parsed input. Cells hold offsets, not pointers, because text grows by
 * realloc while the file is parsed; once parsing is done text never moves,
 * so SQLite can bind it without copying (SQLITE_STATIC).
 */
struct rows {
    char *text;
    size_t textlen, textcap;
    struct cell *cells; /* nrows * NCOLS */
    size_t nrows, cellcap;
};

/* Subject identifiers to read, in order; pointers into buf. */
struct ids {
    char *buf;
    char **id;
    size_t n;
};

struct bench {
    const char *records_path;
    struct rows rows;
    struct ids ids;
    char err[1024];
};

static int fail(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct bench *b, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    /* libpq's messages end in a newline; the caller adds its own. */
    n = strlen(b->err);
    while (n > 0 && b->err[n - 1] == '\n')
        b->err[--n] = '\0';
    return -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double seconds_since(uint64_t t0)
{
    return (double)(now_ns() - t0) / 1e9;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 1024;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * elem);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/*
 * Reads a whole file into a NUL-terminated buffer the caller frees. It reads
 * to the end rather than trusting the size, so pipes work as well.
 */
static int read_file(struct bench *b, const char *path, char **out, size_t *outlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    f = fopen(path, "rb");
    if (f == NULL) {
        fail(b, "%s: %s", path, strerror(errno));
        goto fail;
    }
    do {
        if (grow((void **)&buf, &cap, len + (1 << 20) + 1, 1) != 0) {
            fail(b, "%s: out of memory after %zu bytes", path, len);
            goto fail;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        fail(b, "%s: %s", path, strerror(errno));
        goto fail;
    }
    buf[len] = '\0';
    fclose(f);
    *out = buf;
    *outlen = len;
    return 0;
fail:
    if (f != NULL)
        fclose(f);
    free(buf);
    return -1;
}

/* ------------------------------------------------------------ the input */

static int put_text(struct rows *r, struct cell *c, const char *s, size_t n)
{
    if (n >= NULL_LEN || grow((void **)&r->text, &r->textcap, r->textlen + n + 1, 1) != 0)
        return -1;
    memcpy(r->text + r->textlen, s, n);
    r->text[r->textlen + n] = '\0';
    c->off = r->textlen;
    c->len = (uint32_t)n;
    r->textlen += n + 1;
    return 0;
}

/*
 * Stores obj[key] in cell c: a string, or NULL when nullable allows it.
 * Anything else is an error naming the line, not a silently empty column.
 */
static int put_member(struct bench *b, size_t line, json_t *obj, const char *key, int nullable,
                      struct cell *c)
{
    json_t *v = json_object_get(obj, key);

    if (nullable && (v == NULL || json_is_null(v))) {
        c->off = 0;
        c->len = NULL_LEN;
        return 0;
    }
    if (!json_is_string(v))
        return fail(b, "%s:%zu: %s: expected a string%s", b->records_path, line, key,
                    nullable ? " or null" : "");
    if (put_text(&b->rows, c, json_string_value(v), json_string_length(v)) != 0)
        return fail(b, "%s:%zu: out of memory", b->records_path, line);
    return 0;
}

/* Parses one NDJSON record into the next row. */
static int parse_record(struct bench *b, size_t line, const char *s, size_t n)
{
    struct rows *r = &b->rows;
    json_error_t jerr;
    json_t *rec = NULL, *subject, *fields;
    struct cell *row;
    char *fjson = NULL;

    if (grow((void **)&r->cells, &r->cellcap, (r->nrows + 1) * NCOLS, sizeof *r->cells) != 0) {
        fail(b, "%s:%zu: out of memory", b->records_path, line);
        goto fail;
    }
    row = r->cells + r->nrows * NCOLS;
    rec = json_loadb(s, n, 0, &jerr);
    if (rec == NULL) {
        fail(b, "%s:%zu:%d: %s", b->records_path, line, jerr.column, jerr.text);
        goto fail;
    }
    subject = json_object_get(rec, "subject");
    if (!json_is_object(rec) || !json_is_object(subject)) {
        fail(b, "%s:%zu: expected an object with a \"subject\" object", b->records_path, line);
        goto fail;
    }
    if (put_member(b, line, subject, "id", 0, &row[C_SUBJECT_ID]) != 0 ||
        put_member(b, line, rec, "furnisher", 0, &row[C_FURNISHER]) != 0 ||
        put_member(b, line, rec, "ref", 0, &row[C_REF]) != 0 ||
        put_member(b, line, subject, "kind", 0, &row[C_SUBJECT_KIND]) != 0 ||
        put_member(b, line, rec, "category", 0, &row[C_CATEGORY]) != 0 ||
        put_member(b, line, rec, "status", 0, &row[C_STATUS]) != 0 ||
        put_member(b, line, rec, "event_date", 0, &row[C_EVENT_DATE]) != 0 ||
        put_member(b, line, rec, "settled_date", 1, &row[C_SETTLED_DATE]) != 0 ||
        put_member(b, line, rec, "legal_basis", 1, &row[C_LEGAL_BASIS]) != 0)
        goto fail;

    fields = json_object_get(rec, "fields");
    if (fields == NULL || json_is_null(fields)) {
        row[C_FIELDS].off = 0;
        row[C_FIELDS].len = NULL_LEN;
    } else if (!json_is_object(fields)) {
        fail(b, "%s:%zu: fields: expected an object", b->records_path, line);
        goto fail;
    } else {
        fjson = json_dumps(fields, JSON_COMPACT);
        if (fjson == NULL || put_text(r, &row[C_FIELDS], fjson, strlen(fjson)) != 0) {
            fail(b, "%s:%zu: out of memory", b->records_path, line);
            goto fail;
        }
    }
    r->nrows++;
    free(fjson);
    json_decref(rec);
    return 0;
fail:
    free(fjson);
    json_decref(rec);
    return -1;
}

static int load_records(struct bench *b, const char *path)
{
    char *buf = NULL, *p, *end, *nl;
    size_t len, line = 0;
    uint64_t t0 = now_ns();

    b->records_path = path;
    if (read_file(b, path, &buf, &len) != 0)
        goto fail;
    for (p = buf, end = buf + len; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        line++;
        /* Blank lines (a trailing one, CRLF leftovers) carry no record. */
        if (nl == p || (nl == p + 1 && *p == '\r'))
            continue;
        if (parse_record(b, line, p, (size_t)(nl - p)) != 0)
            goto fail;
    }
    if (b->rows.nrows == 0) {
        fail(b, "%s: no records", path);
        goto fail;
    }
    free(buf);
    fprintf(stderr, "bench-peers: parsed %zu records from %s in %.1f s (untimed)\n", b->rows.nrows,
            path, seconds_since(t0));
    return 0;
fail:
    free(buf);
    return -1;
}

static int load_ids(struct bench *b, const char *path)
{
    struct ids *ids = &b->ids;
    size_t len, cap = 0, line = 0;
    char *p, *end, *nl;

    if (read_file(b, path, &ids->buf, &len) != 0)
        return -1;
    for (p = ids->buf, end = ids->buf + len; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        *nl = '\0';
        line++;
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*p == '\0')
            return fail(b, "%s:%zu: empty line where a subject identifier was expected", path,
                        line);
        if (grow((void **)&ids->id, &cap, ids->n + 1, sizeof *ids->id) != 0)
            return fail(b, "%s: out of memory", path);
        ids->id[ids->n++] = p;
    }
    if (ids->n == 0)
        return fail(b, "%s: no subject identifiers", path);
    return 0;
}

/* ------------------------------------------------------------ reporting */

static void report_load(const char *peer, size_t n, double secs)
{
    printf("peer=%s load_records=%zu load_seconds=%.3f load_rate=%.0f\n", peer, n, secs,
           (double)n / secs);
    fflush(stdout);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Sorts the per-read latencies (ns) and prints median (mean of the two
 * middle values for an even count) and p99 (nearest rank).
 */
static void report_reads(const char *peer, uint64_t *lat, size_t n, double secs)
{
    double median, p99;
    size_t rank;

    qsort(lat, n, sizeof *lat, cmp_u64);
    median = n % 2 ? (double)lat[n / 2] : ((double)lat[n / 2 - 1] + (double)lat[n / 2]) / 2;
    rank = (99 * n + 99) / 100; /* ceil(0.99 n), in integers */
    p99 = (double)lat[rank > 0 ? rank - 1 : 0];
    printf("peer=%s reads=%zu read_median_us=%.1f read_p99_us=%.1f read_rate=%.0f\n", peer, n,
           median / 1e3, p99 / 1e3, (double)n / secs);
    fflush(stdout);
}

/*
 * Every id should name a subject that has records; a run where none did
 * would time nothing but index misses, so it is an error, not a figure.
 */
static int check_hits(struct bench *b, const char *peer, size_t misses, uint64_t nrows,
                      uint64_t sum)
{
    fprintf(stderr,
            "bench-peers: %s read %" PRIu64 " rows, %zu of %zu ids had none (sum %" PRIu64 ")\n",
            peer, nrows, misses, b->ids.n, sum);
    if (misses == b->ids.n)
        return fail(b,
                    "%s: none of the %zu ids in the ids file matched a subject.id of the records",
                    peer, b->ids.n);
    return 0;
}

/* --------------------------------------------------------------- SQLite */

static int sq_exec(struct bench *b, sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail(b, "sqlite: %s: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* journal_mode answers with the mode it ended in, which must be WAL. */
static int sq_wal(struct bench *b, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    const char *mode;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        fail(b, "sqlite: PRAGMA journal_mode=WAL: %s", sqlite3_errmsg(db));
        goto fail;
    }
    mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        fail(b, "sqlite: journal_mode is %s, not wal", mode ? mode : "(null)");
        goto fail;
    }
    rc = 0;
fail:
    sqlite3_finalize(st);
    return rc;
}

/* Copies the WAL into the database and empties it; busy must be 0 (this
 * connection is the only one), or the reads would go through the WAL. */
static int sq_checkpoint(struct bench *b, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    uint64_t t0 = now_ns();
    int rc = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        fail(b, "sqlite: PRAGMA wal_checkpoint(TRUNCATE): %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (sqlite3_column_int(st, 0) != 0) {
        fail(b, "sqlite: the checkpoint after the load was blocked (busy %d)",
             sqlite3_column_int(st, 0));
        goto fail;
    }
    fprintf(stderr,
            "bench-peers: sqlite: WAL checkpoint after the load: %.3f s (not in the load "
            "time)\n",
            seconds_since(t0));
    rc = 0;
fail:
    sqlite3_finalize(st);
    return rc;
}

/* WAL auto-checkpointing is off for the timed load: with it on, the COMMIT
 * of one large transaction copies the whole WAL into the database before
 * it returns, writing every page twice, which no other side of the
 * comparison does within its load (PostgreSQL's checkpointer writes its
 * pages in the background, LMDB writes each page once). The checkpoint
 * runs after the load, timed apart and printed to stderr, so the reads
 * find the data in the database file as before. */
static int sq_load(struct bench *b, sqlite3 *db)
{
    const struct rows *r = &b->rows;
    sqlite3_stmt *ins = NULL;
    uint64_t t0;
    size_t i;
    int c;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO records (" COLUMN_LIST
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           -1, &ins, NULL) != SQLITE_OK) {
        fail(b, "sqlite: prepare INSERT: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (sq_exec(b, db, "PRAGMA wal_autocheckpoint=0") != 0)
        goto fail;
    fprintf(stderr, "bench-peers: sqlite: loading %zu records in one transaction\n", r->nrows);
    t0 = now_ns();
    if (sq_exec(b, db, "BEGIN") != 0)
        goto fail;
    for (i = 0; i < r->nrows; i++) {
        const struct cell *row = r->cells + i * NCOLS;
        for (c = 0; c < NCOLS; c++) {
            if (row[c].len == NULL_LEN)
                sqlite3_bind_null(ins, c + 1);
            else
                sqlite3_bind_text(ins, c + 1, r->text + row[c].off, (int)row[c].len, SQLITE_STATIC);
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fail(b, "sqlite: record %zu (ref %s): %s", i + 1, r->text + row[C_REF].off,
                 sqlite3_errmsg(db));
            goto fail;
        }
        sqlite3_reset(ins);
    }
    if (sq_exec(b, db, "COMMIT") != 0)
        goto fail;
    report_load("sqlite", r->nrows, seconds_since(t0));
    if (sq_checkpoint(b, db) != 0)
        goto fail;
    sqlite3_finalize(ins);
    return 0;
fail:
    sqlite3_finalize(ins);
    return -1;
}

static int sq_reads(struct bench *b, sqlite3 *db)
{
    sqlite3_stmt *sel = NULL;
    uint64_t *lat = NULL, t0, t, nrows = 0, sum = 0;
    double elapsed;
    size_t i, misses = 0;
    int c, rc = -1, step;

    lat = malloc(b->ids.n * sizeof *lat);
    if (lat == NULL) {
        fail(b, "sqlite: out of memory");
        goto fail;
    }
    if (sqlite3_prepare_v2(db, "SELECT " COLUMN_LIST " FROM records WHERE subject_id = ?1", -1,
                           &sel, NULL) != SQLITE_OK) {
        fail(b, "sqlite: prepare SELECT: %s", sqlite3_errmsg(db));
        goto fail;
    }
    fprintf(stderr, "bench-peers: sqlite: reading %zu subjects\n", b->ids.n);
    t0 = now_ns();
    for (i = 0; i < b->ids.n; i++) {
        uint64_t before = nrows;
        t = now_ns();
        sqlite3_bind_text(sel, 1, b->ids.id[i], -1, SQLITE_STATIC);
        while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
            /* Touch every column, as a client building the file would. */
            for (c = 0; c < NCOLS; c++) {
                const unsigned char *v = sqlite3_column_text(sel, c);
                sum += (uint64_t)sqlite3_column_bytes(sel, c) + (v ? v[0] : 0);
            }
            nrows++;
        }
        if (step != SQLITE_DONE) {
            fail(b, "sqlite: read of %s: %s", b->ids.id[i], sqlite3_errmsg(db));
            goto fail;
        }
        sqlite3_reset(sel);
        lat[i] = now_ns() - t;
        misses += nrows == before;
    }
    elapsed = seconds_since(t0);
    if (check_hits(b, "sqlite", misses, nrows, sum) != 0)
        goto fail;
    report_reads("sqlite", lat, b->ids.n, elapsed);
    rc = 0;
fail:
    sqlite3_finalize(sel);
    free(lat);
    return rc;
}

static int run_sqlite(struct bench *b, const char *path)
{
    sqlite3 *db = NULL;
    struct stat st;
    int rc = -1;

    /* A fresh database every run: a half-loaded old one would skew it. */
    if (stat(path, &st) == 0) {
        fail(b,
             "sqlite: %s exists; the SQLite peer loads into a new database (remove it and its "
             "-wal and -shm files)",
             path);
        goto fail;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fail(b, "sqlite: %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    if (sq_wal(b, db) != 0 || sq_exec(b, db, "PRAGMA synchronous=FULL") != 0 ||
        sq_exec(b, db,
                "CREATE TABLE records (subject_id text, furnisher text, ref text, "
                "subject_kind text, category text, status text, event_date date, "
                "settled_date date, legal_basis text, fields text, "
                "PRIMARY KEY (furnisher, ref));"
                "CREATE INDEX records_subject ON records (subject_id);") != 0)
        goto fail;
    if (sq_load(b, db) != 0 || sq_reads(b, db) != 0)
        goto fail;
    rc = 0;
fail:
    if (db != NULL && sqlite3_close(db) != SQLITE_OK && rc == 0)
        rc = fail(b, "sqlite: close: %s", sqlite3_errmsg(db));
    return rc;
}

/* ----------------------------------------------------------- PostgreSQL */

/* Runs a command that returns no rows; a failure keeps the server's text. */
static int pg_exec(struct bench *b, PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail(b, "pg: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return rc;
}

/*
 * The comparison is only fair if PostgreSQL makes a commit as durable as
 * probity does; a server started with fsync or synchronous_commit off would
 * win by not keeping the promise, so it is refused.
 */
static int pg_check_durable(struct bench *b, PGconn *conn)
{
    static const char *const settings[] = {"fsync", "synchronous_commit"};
    PGresult *res = NULL;
    const char *v;
    size_t i;

    for (i = 0; i < sizeof settings / sizeof *settings; i++) {
        const char *param = settings[i];
        res = PQexecParams(conn, "SELECT current_setting($1)", 1, NULL, &param, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            fail(b, "pg: reading setting %s: %s", param, PQerrorMessage(conn));
            goto fail;
        }
        v = PQgetvalue(res, 0, 0);
        if (strcmp(v, "off") == 0) {
            fail(b, "pg: %s is off; the PostgreSQL peer must commit durably (keep the defaults)",
                 param);
            goto fail;
        }
        fprintf(stderr, "bench-peers: pg: %s=%s\n", param, v);
        PQclear(res);
        res = NULL;
    }
    return 0;
fail:
    PQclear(res);
    return -1;
}

/*
 * The rows as CSV for COPY: every value quoted (so an empty string stays
 * an empty string), NULL as nothing at all, which is COPY's CSV default.
 */
static int pg_csv(struct bench *b, char **out, size_t *outlen)
{
    const struct rows *r = &b->rows;
    /* Worst case every byte is a quote; plus quotes, commas and newline. */
    size_t cap = 2 * r->textlen + r->nrows * (3 * NCOLS + 1) + 1, n = 0, i;
    char *csv = malloc(cap);
    int c;

    if (csv == NULL)
        return fail(b, "pg: out of memory for %zu bytes of CSV", cap);
    for (i = 0; i < r->nrows; i++) {
        const struct cell *row = r->cells + i * NCOLS;
        for (c = 0; c < NCOLS; c++) {
            if (c > 0)
                csv[n++] = ',';
            if (row[c].len == NULL_LEN)
                continue;
            csv[n++] = '"';
            for (const char *s = r->text + row[c].off; *s; s++) {
                if (*s == '"')
                    csv[n++] = '"';
                csv[n++] = *s;
            }
            csv[n++] = '"';
        }
        csv[n++] = '\n';
    }
    *out = csv;
    *outlen = n;
    return 0;
}

static int pg_load(struct bench *b, PGconn *conn)
{
    enum { CHUNK = 1 << 20 };
    PGresult *res = NULL;
    char *csv = NULL;
    size_t len = 0, off;
    uint64_t t0;

    if (pg_csv(b, &csv, &len) != 0)
        goto fail;
    fprintf(stderr, "bench-peers: pg: loading %zu records (%zu bytes of CSV) with one COPY\n",
            b->rows.nrows, len);
    t0 = now_ns();
    if (pg_exec(b, conn, "BEGIN") != 0)
        goto fail;
    res = PQexec(conn, "COPY records (" COLUMN_LIST ") FROM STDIN (FORMAT csv)");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        fail(b, "pg: COPY: %s", PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    res = NULL;
    for (off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        if (PQputCopyData(conn, csv + off, (int)n) != 1) {
            fail(b, "pg: COPY data: %s", PQerrorMessage(conn));
            goto fail;
        }
    }
    if (PQputCopyEnd(conn, NULL) != 1) {
        fail(b, "pg: COPY end: %s", PQerrorMessage(conn));
        goto fail;
    }
    /* The COPY's own result says whether the rows went in (keys, dates). */
    res = PQgetResult(conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(b, "pg: COPY: %s", PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    if (pg_exec(b, conn, "COMMIT") != 0)
        goto fail;
    report_load("pg", b->rows.nrows, seconds_since(t0));
    free(csv);
    return 0;
fail:
    PQclear(res);
    free(csv);
    return -1;
}

static int pg_reads(struct bench *b, PGconn *conn)
{
    PGresult *res = NULL;
    uint64_t *lat = NULL, t0, t, nrows = 0, sum = 0;
    double elapsed;
    size_t i, misses = 0;
    int row, c, n;

    lat = malloc(b->ids.n * sizeof *lat);
    if (lat == NULL) {
        fail(b, "pg: out of memory");
        goto fail;
    }
    res = PQprepare(conn, "subject", "SELECT " COLUMN_LIST " FROM records WHERE subject_id = $1", 1,
                    NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(b, "pg: prepare SELECT: %s", PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    res = NULL;
    fprintf(stderr, "bench-peers: pg: reading %zu subjects\n", b->ids.n);
    t0 = now_ns();
    for (i = 0; i < b->ids.n; i++) {
        const char *param = b->ids.id[i];
        t = now_ns();
        res = PQexecPrepared(conn, "subject", 1, &param, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fail(b, "pg: read of %s: %s", param, PQerrorMessage(conn));
            goto fail;
        }
        n = PQntuples(res);
        /* Touch every column, as a client building the file would. */
        for (row = 0; row < n; row++) {
            for (c = 0; c < NCOLS; c++)
                sum += (uint64_t)PQgetlength(res, row, c) + (uint8_t)PQgetvalue(res, row, c)[0];
        }
        PQclear(res);
        res = NULL;
        lat[i] = now_ns() - t;
        nrows += (uint64_t)n;
        misses += n == 0;
    }
    elapsed = seconds_since(t0);
    if (check_hits(b, "pg", misses, nrows, sum) != 0)
        goto fail;
    report_reads("pg", lat, b->ids.n, elapsed);
    free(lat);
    return 0;
fail:
    PQclear(res);
    free(lat);
    return -1;
}

static int run_pg(struct bench *b, const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo);
    int rc = -1;

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fail(b, "pg: cannot connect with \"%s\": %s", conninfo,
             conn ? PQerrorMessage(conn) : "out of memory");
        goto fail;
    }
    /* No DROP TABLE: an existing records table is the caller's, not ours. */
    if (pg_check_durable(b, conn) != 0 ||
        pg_exec(b, conn,
                "CREATE TABLE records (subject_id text, furnisher text, ref text, "
                "subject_kind text, category text, status text, event_date date, "
                "settled_date date, legal_basis text, fields jsonb, "
                "PRIMARY KEY (furnisher, ref))") != 0 ||
        pg_exec(b, conn, "CREATE INDEX records_subject ON records (subject_id)") != 0)
        goto fail;
    if (pg_load(b, conn) != 0 || pg_reads(b, conn) != 0)
        goto fail;
    rc = 0;
fail:
    PQfinish(conn);
    return rc;
}

/* ------------------------------------------------------------ decisions */

static int usage(void);

/* Session settings of the PostgreSQL decision query: the aggregate keeps
 * one group per subject, so it gets the memory to do that in one hash
 * table instead of spilling to disk (the default work_mem is 4 MB). */
#define PG_SCORE_SETTINGS "SET work_mem = '1GB'"
/* SQLite's largest memory map unless built otherwise (SQLITE_MAX_MMAP_SIZE). */
#define SQ_MMAP_SIZE "2147418112"

/*
 * The credit decision of probity's default policy (policy/default.json,
 * "default-2026.11"), written as SQL: one GROUP BY over all records that
 * computes the person_credit scorecard's features per subject, the
 * scorecard as one CASE expression per characteristic added to the base
 * score, and the outcome by the credit rule's score bands.
 *
 *   bench-peers sqlite-score DBPATH RECORDS.ndjson AS_OF [options]
 *   bench-peers pg-score CONNINFO RECORDS.ndjson AS_OF [options]
 *     --received DAY   the day the records were ingested (default:
 *                      PROBITY_NOW, which is what `probity ingest` used)
 *     --out FILE       write "subject TAB score TAB outcome" for every row
 *                      of the reported pass, for bench/run to compare with
 *                      `probity score`
 *     --passes P       run the query P times (default 2), report the last
 *     --per-subject K  also run the query for K random subjects one at a
 *                      time (WHERE subject_id = ?), each timed
 *     --per-subject-ids FILE
 *                      the same for the subjects listed in FILE (one a
 *                      line), in that order
 *     --show-sql       print the query to stderr
 *
 * The records are loaded, untimed, into a table of their own holding only
 * what the decision reads, with the fields it needs as typed columns
 * (worst_dpd, opened_date, stage) rather than JSON: the peers get the
 * schema a SQL writer would give this query, which flatters them, never
 * probity. SQLite stores dates as ISO text (its convention), PostgreSQL as
 * date. After the load: an index on subject_id, ANALYZE (PostgreSQL:
 * VACUUM ANALYZE), then the timed passes.
 *
 * The semantics are probity's (src/lib/feature.c, retention.c, decide.c),
 * as of AS_OF, for the categories the credit purpose allows:
 *  - A record is usable when it is effective (a neutral category: its
 *    event date; an adverse one: the later of its event date and the day
 *    it was received, plus the category's notice days) and not expired
 *    (unsettled: event + min(days_after_event, max_days); settled: the
 *    earlier of settled + days_after_settlement and event + max_days).
 *    "effective_from <= as_of" and "as_of < expires" become comparisons
 *    with dates computed here from AS_OF, once per query, as a SQL writer
 *    would compute them from a parameter.
 *  - A count feature with nothing to count is missing, not 0; the
 *    scorecard's "missing" bins are therefore "= 0" for counts and
 *    "IS NULL" for max and min.
 *  - "In the last 24 months" is probity's calendar month difference
 *    (prb_months_between) < 24, which is exactly "event_date > a cutoff
 *    day" (month_cutoff below, checked at start against a copy of
 *    prb_months_between for every day of 40 years and every window of
 *    1-120 months). oldest_account_months is a month count of the same
 *    kind, so its bins (< 24, < 60) are read off the oldest opened_date
 *    with the cutoff days of 24 and 60 months: the same bins as a month
 *    count per subject, and cheaper (a month count with date_part cost
 *    PostgreSQL about 2 s more on 1,000,000 subjects).
 *  - The numbers (notice and retention days, points, bands) are the
 *    default policy's, written into the query as a SQL writer would; if
 *    the policy changes and this does not, bench/run's subject-by-subject
 *    comparison with `probity score` fails.
 *  - Each peer gets the settings that made it fastest here: PostgreSQL a
 *    work_mem that holds the aggregate's hash table (and its defaults
 *    otherwise: two parallel workers, JIT on, which made no difference),
 *    SQLite a memory map of the database (PRAGMA mmap_size).
 *  - credit_inquiries_6m is missing for every subject (its bin gives 20
 *    points): the bench register holds no inquiries. The debtor_register
 *    list is not consulted: the bench register has no list entries (no
 *    list refresh and no prb_decide runs on it), which bench/run checks
 *    with `probity lists`.
 */

/* The policy's rules for the categories the credit purpose allows. */
struct catrule {
    const char *name;
    int adverse;
    int notice_days, days_after_event, days_after_settlement, max_days;
};

static const struct catrule CREDIT_CATEGORIES[] = {
    {"credit_account", 0, 0, 3650, 1095, 3650}, {"payment_default", 1, 28, 2190, 1095, 3650},
    {"court_judgment", 1, 30, 1095, 0, 1095},   {"insolvency", 1, 14, 1095, 180, 2190},
    {"tax_arrears", 1, 30, 1825, 365, 1825},
};
#define NCREDIT_CATEGORIES (sizeof CREDIT_CATEGORIES / sizeof CREDIT_CATEGORIES[0])

/* Columns of the decision table, in table order. */
enum scol {
    S_SUBJECT_ID,
    S_CATEGORY,
    S_STATUS,
    S_EVENT_DATE,
    S_SETTLED_DATE,
    S_WORST_DPD,
    S_OPENED_DATE,
    S_STAGE,
    SNCOLS
};
#define SCORE_COLUMNS                                                                              \
    "subject_id, category, status, event_date, settled_date, worst_dpd, opened_date, stage"

/* Days since 1970-01-01 and back (H. Hinnant's algorithms, as probity's date.c). */
static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static int parse_day(const char *s, int32_t *day)
{
    int y;
    unsigned m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || y < 1900 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *day = days_from_civil(y, m, d);
    int y2;
    unsigned m2, d2;
    civil_from_days(*day, &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == d ? 0 : -1; /* 2027-02-30 is not a day */
}

static void format_day(int32_t day, char out[11])
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04d-%02u-%02u", y, m % 100, d % 100);
}

/* A copy of prb_months_between (src/lib/feature.c): whole calendar months
 * from a to b, 0 if b is before a. */
static int months_between(int32_t a, int32_t b)
{
    int ya, yb;
    unsigned ma, mb, da, db;
    civil_from_days(a, &ya, &ma, &da);
    civil_from_days(b, &yb, &mb, &db);
    int m = (yb - ya) * 12 + (int)mb - (int)ma - (db < da);
    return m < 0 ? 0 : m;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : dim[m - 1];
}

/*
 * The last day a with months_between(a, asof) >= w (w >= 1). That holds
 * exactly when (year, month, day) of a is at most (year, month of asof
 * less w months, day of asof) taken as a triple; when that day is past the
 * end of its month, the last real day of the month is the same bound.
 */
static int32_t month_cutoff(int32_t asof, int w)
{
    int y;
    unsigned m, d;
    civil_from_days(asof, &y, &m, &d);
    int mi = y * 12 + (int)m - 1 - w;
    int cy = mi / 12;
    unsigned cm = (unsigned)(mi % 12) + 1;
    unsigned cd = d < days_in_month(cy, cm) ? d : days_in_month(cy, cm);
    return days_from_civil(cy, cm, cd);
}

static int check_month_cutoffs(struct bench *b, int32_t asof)
{
    for (int w = 1; w <= 120; w++) {
        int32_t cut = month_cutoff(asof, w);
        for (int32_t a = asof - 40 * 366; a <= asof + 400; a++)
            if ((months_between(a, asof) >= w) != (a <= cut)) {
                char da[11], dc[11];
                format_day(a, da);
                format_day(cut, dc);
                return fail(b, "month_cutoff is wrong for %s, window %d (cutoff %s)", da, w, dc);
            }
    }
    return 0;
}

/* Growing text for the SQL. */
struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
};

static void sbuf_add(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_add(struct sbuf *s, const char *fmt, ...)
{
    va_list ap;
    int w;
    for (;;) {
        va_start(ap, fmt);
        w = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            s->oom = 1;
            return;
        }
        if (s->p && (size_t)w < s->cap - s->n) {
            s->n += (size_t)w;
            return;
        }
        if (grow((void **)&s->p, &s->cap, s->n + (size_t)w + 1, 1) != 0) {
            s->oom = 1;
            return;
        }
    }
}

/* What differs between the two dialects. */
struct dialect {
    int pg;
};

/* A date literal. */
static const char *dlit(const struct dialect *dl, int32_t day, char buf[24])
{
    char d[11];
    format_day(day, d);
    snprintf(buf, 24, dl->pg ? "DATE '%s'" : "'%s'", d);
    return buf;
}

/*
 * The query. per_subject adds "WHERE subject_id = ?1" ($1 in PostgreSQL)
 * to the scan, for the one-subject-at-a-time variant.
 */
static char *score_sql(const struct dialect *dl, int32_t asof, int32_t received, int per_subject)
{
    struct sbuf s = {NULL, 0, 0, 0};
    const char *greatest = dl->pg ? "greatest" : "max";
    char l1[24], l2[24], l3[24];

    /* oldest_account_months < 24 (< 60) exactly when the oldest account
     * opened after month_cutoff(as_of, 24) (60): the bins are read off the
     * oldest opened_date, which is cheaper for the peers than a month
     * count per subject and gives the same bin. */
    sbuf_add(&s,
             "SELECT subject_id, score,\n"
             "  CASE WHEN score < 520 THEN 'decline' WHEN score < 580 THEN 'refer'\n"
             "       ELSE 'approve' END AS outcome\n"
             "FROM (\n"
             "  SELECT subject_id,\n"
             "    400\n"
             "    + CASE WHEN defaults_open = 0 THEN 60 WHEN defaults_open < 2 THEN -20\n"
             "           ELSE -80 END\n"
             "    + CASE WHEN judgments_unpaid = 0 THEN 40 ELSE -60 END\n"
             "    + CASE WHEN insolvencies = 0 THEN 30 ELSE -120 END\n"
             "    + CASE WHEN worst_dpd_24m IS NULL THEN 0 WHEN worst_dpd_24m < 30 THEN 40\n"
             "           WHEN worst_dpd_24m < 90 THEN -10 ELSE -60 END\n"
             "    + CASE WHEN oldest_opened IS NULL THEN -10     /* oldest_account_months */\n"
             "           WHEN oldest_opened > %s THEN 0     /* < 24 */\n",
             dlit(dl, month_cutoff(asof, 24), l1));
    sbuf_add(&s,
             "           WHEN oldest_opened > %s THEN 20    /* < 60 */\n"
             "           ELSE 40 END\n"
             "    + 20    /* credit_inquiries_6m: missing, no inquiries in the register */\n"
             "    + CASE WHEN tax_arrears_open = 0 THEN 20 ELSE -50 END AS score\n"
             "  FROM (\n"
             "    SELECT subject_id,\n"
             "      count(*) FILTER (WHERE category = 'payment_default' AND status = 'open'\n"
             "                       AND usable) AS defaults_open,\n"
             "      count(*) FILTER (WHERE category = 'court_judgment' AND status = 'open'\n"
             "                       AND usable) AS judgments_unpaid,\n"
             "      count(*) FILTER (WHERE category = 'insolvency'\n"
             "                       AND stage IN ('filed', 'opened', "
             "'rejected_for_lack_of_assets')\n"
             "                       AND usable) AS insolvencies,\n"
             "      max(worst_dpd) FILTER (WHERE category = 'credit_account'\n"
             "                             AND event_date > %s    /* 24 months */\n"
             "                             AND usable) AS worst_dpd_24m,\n"
             "      min(opened_date) FILTER (WHERE category = 'credit_account' AND usable)\n"
             "        AS oldest_opened,\n"
             "      count(*) FILTER (WHERE category = 'tax_arrears' AND status = 'open'\n"
             "                       AND usable) AS tax_arrears_open\n"
             "    FROM (\n"
             "      SELECT subject_id, category, status, event_date, worst_dpd, opened_date,\n"
             "        stage,\n"
             "        CASE category\n",
             dlit(dl, month_cutoff(asof, 60), l1), dlit(dl, month_cutoff(asof, 24), l2));
    for (size_t i = 0; i < NCREDIT_CATEGORIES; i++) {
        const struct catrule *c = &CREDIT_CATEGORIES[i];
        int unsettled = c->days_after_event < c->max_days ? c->days_after_event : c->max_days;
        sbuf_add(&s, "          WHEN '%s' THEN\n", c->name);
        if (c->adverse)
            sbuf_add(&s, "            %s(event_date, %s) <= %s", greatest, dlit(dl, received, l1),
                     dlit(dl, asof - c->notice_days, l2));
        else
            sbuf_add(&s, "            event_date <= %s", dlit(dl, asof, l1));
        sbuf_add(&s,
                 "\n            AND CASE WHEN settled_date IS NULL THEN event_date > %s\n"
                 "                     ELSE settled_date > %s AND event_date > %s END\n",
                 dlit(dl, asof - unsettled, l1), dlit(dl, asof - c->days_after_settlement, l2),
                 dlit(dl, asof - c->max_days, l3));
    }
    sbuf_add(&s,
             "          ELSE false\n"
             "        END AS usable\n"
             "      FROM score_records%s\n"
             "    ) r\n"
             "    GROUP BY subject_id\n"
             "  ) a\n"
             ") s\n",
             per_subject ? (dl->pg ? " WHERE subject_id = $1" : " WHERE subject_id = ?1") : "");
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* The decision table's rows, parsed untimed (stride SNCOLS). */
struct srows {
    struct rows r;
    char **subjects; /* distinct subject ids, in input order */
    size_t nsubjects, subjcap;
};

/* A field of the record's "fields" object as text: strings as they are,
 * integers in decimal; absent or null is SQL NULL. */
static int put_field(struct bench *b, struct rows *r, size_t line, json_t *fields, const char *key,
                     struct cell *c)
{
    json_t *v = fields ? json_object_get(fields, key) : NULL;
    char num[32];
    c->off = 0;
    c->len = NULL_LEN;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        if (put_text(r, c, json_string_value(v), json_string_length(v)) != 0)
            return fail(b, "%s:%zu: out of memory", b->records_path, line);
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (put_text(r, c, num, strlen(num)) != 0)
            return fail(b, "%s:%zu: out of memory", b->records_path, line);
        return 0;
    }
    return fail(b, "%s:%zu: fields.%s: expected a string or an integer", b->records_path, line,
                key);
}

/* put_member for the decision table's rows. */
static int sput_member(struct bench *b, struct rows *r, size_t line, json_t *obj, const char *key,
                       int nullable, struct cell *c)
{
    json_t *v = json_object_get(obj, key);

    if (nullable && (v == NULL || json_is_null(v))) {
        c->off = 0;
        c->len = NULL_LEN;
        return 0;
    }
    if (!json_is_string(v))
        return fail(b, "%s:%zu: %s: expected a string%s", b->records_path, line, key,
                    nullable ? " or null" : "");
    if (put_text(r, c, json_string_value(v), json_string_length(v)) != 0)
        return fail(b, "%s:%zu: out of memory", b->records_path, line);
    return 0;
}

static int parse_score_record(struct bench *b, struct srows *sr, size_t line, const char *s,
                              size_t n)
{
    struct rows *r = &sr->r;
    json_error_t jerr;
    json_t *rec, *subject, *fields;
    struct cell *row;
    int rc = -1;

    if (grow((void **)&r->cells, &r->cellcap, (r->nrows + 1) * SNCOLS, sizeof *r->cells) != 0)
        return fail(b, "%s:%zu: out of memory", b->records_path, line);
    row = r->cells + r->nrows * SNCOLS;
    if ((rec = json_loadb(s, n, 0, &jerr)) == NULL)
        return fail(b, "%s:%zu:%d: %s", b->records_path, line, jerr.column, jerr.text);
    subject = json_object_get(rec, "subject");
    fields = json_object_get(rec, "fields");
    if (!json_is_object(rec) || !json_is_object(subject)) {
        fail(b, "%s:%zu: expected an object with a \"subject\" object", b->records_path, line);
        goto out;
    }
    if (fields != NULL && !json_is_null(fields) && !json_is_object(fields)) {
        fail(b, "%s:%zu: fields: expected an object", b->records_path, line);
        goto out;
    }
    int prc = sput_member(b, r, line, subject, "id", 0, &row[S_SUBJECT_ID]) ||
              sput_member(b, r, line, rec, "category", 0, &row[S_CATEGORY]) ||
              sput_member(b, r, line, rec, "status", 0, &row[S_STATUS]) ||
              sput_member(b, r, line, rec, "event_date", 0, &row[S_EVENT_DATE]) ||
              sput_member(b, r, line, rec, "settled_date", 1, &row[S_SETTLED_DATE]);
    if (prc || put_field(b, r, line, fields, "worst_dpd", &row[S_WORST_DPD]) ||
        put_field(b, r, line, fields, "opened_date", &row[S_OPENED_DATE]) ||
        put_field(b, r, line, fields, "stage", &row[S_STAGE]))
        goto out;
    r->nrows++;
    rc = 0;
out:
    json_decref(rec);
    return rc;
}

static int load_score_records(struct bench *b, struct srows *sr, const char *path)
{
    char *buf = NULL, *p, *end, *nl;
    size_t len, line = 0;
    uint64_t t0 = now_ns();

    b->records_path = path;
    if (read_file(b, path, &buf, &len) != 0)
        goto fail;
    for (p = buf, end = buf + len; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        line++;
        if (nl == p || (nl == p + 1 && *p == '\r'))
            continue;
        if (parse_score_record(b, sr, line, p, (size_t)(nl - p)) != 0)
            goto fail;
    }
    free(buf);
    buf = NULL;
    if (sr->r.nrows == 0) {
        fail(b, "%s: no records", path);
        goto fail;
    }
    /* The distinct subjects, for the per-subject variant and the count;
     * probity gen writes each subject's records together, and a subject
     * whose records were not together would only be listed twice. */
    for (size_t i = 0; i < sr->r.nrows; i++) {
        const char *id = sr->r.text + sr->r.cells[i * SNCOLS + S_SUBJECT_ID].off;
        if (sr->nsubjects && strcmp(sr->subjects[sr->nsubjects - 1], id) == 0)
            continue;
        if (grow((void **)&sr->subjects, &sr->subjcap, sr->nsubjects + 1, sizeof *sr->subjects)) {
            fail(b, "out of memory");
            goto fail;
        }
        sr->subjects[sr->nsubjects++] = (char *)id;
    }
    fprintf(stderr, "bench-peers: parsed %zu records of %zu subjects from %s in %.1f s (untimed)\n",
            sr->r.nrows, sr->nsubjects, path, seconds_since(t0));
    return 0;
fail:
    free(buf);
    return -1;
}

struct score_opts {
    int32_t asof, received;
    const char *out;
    unsigned passes;
    size_t per_subject;
    const char *per_subject_ids;
    int show_sql;
};

/* One row of a result, for the --out file. */
struct outbuf {
    char *p;
    size_t n, cap;
};

static int out_row(struct outbuf *o, const char *subject, const char *score, const char *outcome)
{
    size_t a = strlen(subject), s = strlen(score), c = strlen(outcome);
    if (grow((void **)&o->p, &o->cap, o->n + a + s + c + 3, 1) != 0)
        return -1;
    memcpy(o->p + o->n, subject, a);
    o->p[o->n + a] = '\t';
    memcpy(o->p + o->n + a + 1, score, s);
    o->p[o->n + a + 1 + s] = '\t';
    memcpy(o->p + o->n + a + s + 2, outcome, c);
    o->p[o->n + a + s + c + 2] = '\n';
    o->n += a + s + c + 3;
    return 0;
}

static int write_out(struct bench *b, const char *path, const struct outbuf *o)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return fail(b, "%s: %s", path, strerror(errno));
    if (fwrite(o->p, 1, o->n, f) != o->n || fclose(f) != 0)
        return fail(b, "%s: write error", path);
    return 0;
}

static void report_score(const char *peer, size_t n, double secs, double first_secs)
{
    printf("peer=%s score_subjects=%zu score_seconds=%.3f score_rate=%.0f score_first_rate=%.0f\n",
           peer, n, secs, (double)n / secs, (double)n / first_secs);
    fflush(stdout);
}

/* The per-subject variant's sample: K distinct subjects, the same on every
 * run (splitmix64, seed 42; a partial Fisher-Yates shuffle). */
static char **sample_subjects(const struct srows *sr, size_t k)
{
    char **all = malloc(sr->nsubjects * sizeof *all);
    uint64_t st = 42;
    if (all == NULL)
        return NULL;
    memcpy(all, sr->subjects, sr->nsubjects * sizeof *all);
    for (size_t i = 0; i < k; i++) {
        uint64_t z = (st += 0x9E3779B97F4A7C15u);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        z ^= z >> 31;
        size_t j = i + (size_t)(z % (sr->nsubjects - i));
        char *t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    return all;
}

/* The subjects of the per-subject variant: the --per-subject-ids file's
 * (loaded into b->ids) or a random sample. The array is the caller's to
 * free; its strings are not. */
static char **per_subject_sample(struct bench *b, const struct srows *sr,
                                 const struct score_opts *o, size_t *k)
{
    char **s;
    if (o->per_subject_ids) {
        if ((s = malloc(b->ids.n * sizeof *s)) == NULL) {
            fail(b, "out of memory");
            return NULL;
        }
        memcpy(s, b->ids.id, b->ids.n * sizeof *s);
        *k = b->ids.n;
        return s;
    }
    *k = o->per_subject < sr->nsubjects ? o->per_subject : sr->nsubjects;
    if ((s = sample_subjects(sr, *k)) == NULL)
        fail(b, "out of memory");
    return s;
}

static void report_per_subject(const char *peer, uint64_t *lat, size_t n, double secs)
{
    double median, p99;
    size_t rank;
    qsort(lat, n, sizeof *lat, cmp_u64);
    median = n % 2 ? (double)lat[n / 2] : ((double)lat[n / 2 - 1] + (double)lat[n / 2]) / 2;
    rank = (99 * n + 99) / 100;
    p99 = (double)lat[rank > 0 ? rank - 1 : 0];
    printf("peer=%s per_subject=%zu per_subject_median_us=%.1f per_subject_p99_us=%.1f "
           "per_subject_rate=%.0f\n",
           peer, n, median / 1e3, p99 / 1e3, (double)n / secs);
    fflush(stdout);
}

/* SQLite */

static int sq_score_load(struct bench *b, sqlite3 *db, const struct srows *sr)
{
    const struct rows *r = &sr->r;
    sqlite3_stmt *ins = NULL;
    uint64_t t0 = now_ns();
    int rc = -1;

    if (sq_exec(b, db,
                "CREATE TABLE score_records (subject_id text, category text, status text, "
                "event_date text, settled_date text, worst_dpd integer, opened_date text, "
                "stage text)") != 0)
        goto fail;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO score_records (" SCORE_COLUMNS
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &ins, NULL) != SQLITE_OK) {
        fail(b, "sqlite: prepare INSERT: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (sq_exec(b, db, "BEGIN") != 0)
        goto fail;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cell *row = r->cells + i * SNCOLS;
        for (int c = 0; c < SNCOLS; c++) {
            if (row[c].len == NULL_LEN)
                sqlite3_bind_null(ins, c + 1);
            else
                sqlite3_bind_text(ins, c + 1, r->text + row[c].off, (int)row[c].len, SQLITE_STATIC);
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fail(b, "sqlite: record %zu: %s", i + 1, sqlite3_errmsg(db));
            goto fail;
        }
        sqlite3_reset(ins);
    }
    if (sq_exec(b, db, "COMMIT") != 0 ||
        sq_exec(b, db, "CREATE INDEX score_records_subject ON score_records (subject_id)") != 0 ||
        sq_exec(b, db, "ANALYZE") != 0)
        goto fail;
    fprintf(stderr,
            "bench-peers: sqlite: loaded %zu records, indexed and analysed in %.1f s "
            "(untimed)\n",
            r->nrows, seconds_since(t0));
    rc = 0;
fail:
    sqlite3_finalize(ins);
    return rc;
}

static int sq_score(struct bench *b, sqlite3 *db, const struct srows *sr,
                    const struct score_opts *o)
{
    struct dialect dl = {0};
    char *sql = score_sql(&dl, o->asof, o->received, 0);
    char *one = score_sql(&dl, o->asof, o->received, 1);
    sqlite3_stmt *st = NULL;
    struct outbuf out = {NULL, 0, 0};
    uint64_t *lat = NULL, sum = 0, t0;
    double secs = 0, first = 0;
    size_t n = 0;
    char **sample = NULL;
    int rc = -1, step;

    if (sql == NULL || one == NULL) {
        fail(b, "out of memory");
        goto fail;
    }
    if (o->show_sql)
        fprintf(stderr, "bench-peers: sqlite query:\n%s", sql);
    for (unsigned pass = 1; pass <= o->passes; pass++) {
        int keep = pass == o->passes && o->out;
        out.n = 0;
        n = 0;
        t0 = now_ns();
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            fail(b, "sqlite: prepare the decision query: %s", sqlite3_errmsg(db));
            goto fail;
        }
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *subj = (const char *)sqlite3_column_text(st, 0);
            const char *score = (const char *)sqlite3_column_text(st, 1);
            const char *outcome = (const char *)sqlite3_column_text(st, 2);
            if (subj == NULL || score == NULL || outcome == NULL) {
                fail(b, "sqlite: a row with a NULL column");
                goto fail;
            }
            sum += (uint64_t)(uint8_t)subj[0] + (uint64_t)(uint8_t)score[0] +
                   (uint64_t)(uint8_t)outcome[0];
            if (keep && out_row(&out, subj, score, outcome) != 0) {
                fail(b, "out of memory");
                goto fail;
            }
            n++;
        }
        if (step != SQLITE_DONE) {
            fail(b, "sqlite: the decision query: %s", sqlite3_errmsg(db));
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        secs = seconds_since(t0);
        if (pass == 1)
            first = secs;
        fprintf(stderr,
                "bench-peers: sqlite: decision pass %u: %zu subjects in %.3f s = %.0f/s "
                "(sum %" PRIu64 ")%s\n",
                pass, n, secs, (double)n / secs, sum, pass < o->passes ? ", not reported" : "");
    }
    if (n != sr->nsubjects) {
        fail(b, "sqlite: the decision query gave %zu rows for %zu subjects", n, sr->nsubjects);
        goto fail;
    }
    if (o->out && write_out(b, o->out, &out) != 0)
        goto fail;
    report_score("sqlite", n, secs, first);

    if (o->per_subject || o->per_subject_ids) {
        size_t k;
        if ((sample = per_subject_sample(b, sr, o, &k)) == NULL)
            goto fail;
        if ((lat = malloc(k * sizeof *lat)) == NULL) {
            fail(b, "out of memory");
            goto fail;
        }
        if (sqlite3_prepare_v2(db, one, -1, &st, NULL) != SQLITE_OK) {
            fail(b, "sqlite: prepare the one-subject query: %s", sqlite3_errmsg(db));
            goto fail;
        }
        t0 = now_ns();
        for (size_t i = 0; i < k; i++) {
            uint64_t t = now_ns();
            int rows = 0;
            sqlite3_bind_text(st, 1, sample[i], -1, SQLITE_STATIC);
            while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                sum += (uint64_t)sqlite3_column_int(st, 1);
                rows++;
            }
            if (step != SQLITE_DONE || rows != 1) {
                fail(b, "sqlite: one-subject query for %s: %d rows, %s", sample[i], rows,
                     sqlite3_errmsg(db));
                goto fail;
            }
            sqlite3_reset(st);
            lat[i] = now_ns() - t;
        }
        report_per_subject("sqlite", lat, k, seconds_since(t0));
    }
    rc = 0;
fail:
    sqlite3_finalize(st);
    free(sql);
    free(one);
    free(out.p);
    free(lat);
    free(sample);
    return rc;
}

static int run_sqlite_score(struct bench *b, const char *path, const struct srows *sr,
                            const struct score_opts *o)
{
    sqlite3 *db = NULL;
    struct stat st;
    int rc = -1;

    if (stat(path, &st) == 0) {
        fail(b, "sqlite: %s exists; the SQLite peer loads into a new database", path);
        goto fail;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fail(b, "sqlite: %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    /* Reads through a memory map of the file, as probity reads LMDB's:
     * about 15 % faster here than through SQLite's page cache. */
    if (sq_wal(b, db) != 0 || sq_exec(b, db, "PRAGMA synchronous=FULL") != 0 ||
        sq_exec(b, db, "PRAGMA mmap_size=" SQ_MMAP_SIZE) != 0 || sq_score_load(b, db, sr) != 0 ||
        sq_score(b, db, sr, o) != 0)
        goto fail;
    rc = 0;
fail:
    if (db != NULL && sqlite3_close(db) != SQLITE_OK && rc == 0)
        rc = fail(b, "sqlite: close: %s", sqlite3_errmsg(db));
    return rc;
}

/* PostgreSQL */

static int pg_score_load(struct bench *b, PGconn *conn, const struct srows *sr)
{
    enum { CHUNK = 1 << 20 };
    const struct rows *r = &sr->r;
    size_t cap = 2 * r->textlen + r->nrows * (3 * SNCOLS + 1) + 1, n = 0;
    char *csv = malloc(cap);
    PGresult *res = NULL;
    uint64_t t0 = now_ns();
    int rc = -1;

    if (csv == NULL)
        return fail(b, "pg: out of memory for %zu bytes of CSV", cap);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cell *row = r->cells + i * SNCOLS;
        for (int c = 0; c < SNCOLS; c++) {
            if (c > 0)
                csv[n++] = ',';
            if (row[c].len == NULL_LEN)
                continue;
            csv[n++] = '"';
            for (const char *s = r->text + row[c].off; *s; s++) {
                if (*s == '"')
                    csv[n++] = '"';
                csv[n++] = *s;
            }
            csv[n++] = '"';
        }
        csv[n++] = '\n';
    }
    if (pg_exec(b, conn,
                "CREATE TABLE score_records (subject_id text, category text, status text, "
                "event_date date, settled_date date, worst_dpd integer, opened_date date, "
                "stage text)") != 0 ||
        pg_exec(b, conn, "BEGIN") != 0)
        goto fail;
    res = PQexec(conn, "COPY score_records (" SCORE_COLUMNS ") FROM STDIN (FORMAT csv)");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        fail(b, "pg: COPY: %s", PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    res = NULL;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        if (PQputCopyData(conn, csv + off, (int)k) != 1) {
            fail(b, "pg: COPY data: %s", PQerrorMessage(conn));
            goto fail;
        }
    }
    if (PQputCopyEnd(conn, NULL) != 1) {
        fail(b, "pg: COPY end: %s", PQerrorMessage(conn));
        goto fail;
    }
    res = PQgetResult(conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(b, "pg: COPY: %s", PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    if (pg_exec(b, conn, "COMMIT") != 0 ||
        pg_exec(b, conn, "CREATE INDEX score_records_subject ON score_records (subject_id)") != 0 ||
        pg_exec(b, conn, "VACUUM ANALYZE score_records") != 0)
        goto fail;
    fprintf(stderr,
            "bench-peers: pg: loaded %zu records, indexed and vacuumed in %.1f s (untimed)\n",
            r->nrows, seconds_since(t0));
    rc = 0;
fail:
    PQclear(res);
    free(csv);
    return rc;
}

static int pg_score(struct bench *b, PGconn *conn, const struct srows *sr,
                    const struct score_opts *o)
{
    struct dialect dl = {1};
    char *sql = score_sql(&dl, o->asof, o->received, 0);
    char *one = score_sql(&dl, o->asof, o->received, 1);
    PGresult *res = NULL;
    struct outbuf out = {NULL, 0, 0};
    uint64_t *lat = NULL, sum = 0, t0;
    double secs = 0, first = 0;
    size_t n = 0;
    char **sample = NULL;
    int rc = -1;

    if (sql == NULL || one == NULL) {
        fail(b, "out of memory");
        goto fail;
    }
    if (o->show_sql)
        fprintf(stderr, "bench-peers: pg query:\n%s", sql);
    for (unsigned pass = 1; pass <= o->passes; pass++) {
        int keep = pass == o->passes && o->out;
        t0 = now_ns();
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fail(b, "pg: the decision query: %s", PQerrorMessage(conn));
            goto fail;
        }
        n = (size_t)PQntuples(res);
        out.n = 0;
        for (size_t i = 0; i < n; i++) {
            const char *subj = PQgetvalue(res, (int)i, 0), *score = PQgetvalue(res, (int)i, 1),
                       *outcome = PQgetvalue(res, (int)i, 2);
            sum += (uint64_t)(uint8_t)subj[0] + (uint64_t)(uint8_t)score[0] +
                   (uint64_t)(uint8_t)outcome[0];
            if (keep && out_row(&out, subj, score, outcome) != 0) {
                fail(b, "out of memory");
                goto fail;
            }
        }
        secs = seconds_since(t0);
        if (pass == 1)
            first = secs;
        PQclear(res);
        res = NULL;
        fprintf(stderr,
                "bench-peers: pg: decision pass %u: %zu subjects in %.3f s = %.0f/s "
                "(sum %" PRIu64 ")%s\n",
                pass, n, secs, (double)n / secs, sum, pass < o->passes ? ", not reported" : "");
    }
    if (n != sr->nsubjects) {
        fail(b, "pg: the decision query gave %zu rows for %zu subjects", n, sr->nsubjects);
        goto fail;
    }
    if (o->out && write_out(b, o->out, &out) != 0)
        goto fail;
    report_score("pg", n, secs, first);

    if (o->per_subject || o->per_subject_ids) {
        size_t k;
        if ((sample = per_subject_sample(b, sr, o, &k)) == NULL)
            goto fail;
        if ((lat = malloc(k * sizeof *lat)) == NULL) {
            fail(b, "out of memory");
            goto fail;
        }
        res = PQprepare(conn, "one_subject", one, 1, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fail(b, "pg: prepare the one-subject query: %s", PQerrorMessage(conn));
            goto fail;
        }
        PQclear(res);
        res = NULL;
        t0 = now_ns();
        for (size_t i = 0; i < k; i++) {
            const char *param = sample[i];
            uint64_t t = now_ns();
            res = PQexecPrepared(conn, "one_subject", 1, &param, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
                fail(b, "pg: one-subject query for %s: %s", param, PQerrorMessage(conn));
                goto fail;
            }
            sum += (uint64_t)(uint8_t)PQgetvalue(res, 0, 1)[0];
            PQclear(res);
            res = NULL;
            lat[i] = now_ns() - t;
        }
        report_per_subject("pg", lat, k, seconds_since(t0));
    }
    rc = 0;
fail:
    PQclear(res);
    free(sql);
    free(one);
    free(out.p);
    free(lat);
    free(sample);
    return rc;
}

static int run_pg_score(struct bench *b, const char *conninfo, const struct srows *sr,
                        const struct score_opts *o)
{
    PGconn *conn = PQconnectdb(conninfo);
    int rc = -1;

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fail(b, "pg: cannot connect with \"%s\": %s", conninfo,
             conn ? PQerrorMessage(conn) : "out of memory");
        goto fail;
    }
    if (pg_check_durable(b, conn) != 0 || pg_exec(b, conn, PG_SCORE_SETTINGS) != 0 ||
        pg_score_load(b, conn, sr) != 0 || pg_score(b, conn, sr, o) != 0)
        goto fail;
    rc = 0;
fail:
    PQfinish(conn);
    return rc;
}

static int score_main(struct bench *b, int argc, char **argv)
{
    struct srows sr;
    struct score_opts o = {0, 0, NULL, 2, 0, NULL, 0};
    const char *received = getenv("PROBITY_NOW");
    char *end;
    int rc = -1;

    memset(&sr, 0, sizeof sr);
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--show-sql") == 0) {
            o.show_sql = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--received") == 0)
            received = argv[++i];
        else if (strcmp(argv[i], "--out") == 0)
            o.out = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0) {
            o.passes = (unsigned)strtoul(argv[++i], &end, 10);
            if (*end || o.passes < 1 || o.passes > 100)
                return usage();
        } else if (strcmp(argv[i], "--per-subject-ids") == 0) {
            o.per_subject_ids = argv[++i];
        } else if (strcmp(argv[i], "--per-subject") == 0) {
            o.per_subject = (size_t)strtoul(argv[++i], &end, 10);
            if (*end)
                return usage();
        } else
            return usage();
    }
    if (parse_day(argv[4], &o.asof) != 0) {
        fail(b, "AS_OF must be a day YYYY-MM-DD, got '%s'", argv[4]);
        goto fail;
    }
    if (received == NULL || parse_day(received, &o.received) != 0) {
        fail(b,
             "the day the records were received: give --received YYYY-MM-DD or set "
             "PROBITY_NOW (got '%s')",
             received ? received : "nothing");
        goto fail;
    }
    if (check_month_cutoffs(b, o.asof) != 0 ||
        (o.per_subject_ids && load_ids(b, o.per_subject_ids) != 0) ||
        load_score_records(b, &sr, argv[3]) != 0)
        goto fail;
    rc = strcmp(argv[1], "sqlite-score") == 0 ? run_sqlite_score(b, argv[2], &sr, &o)
                                              : run_pg_score(b, argv[2], &sr, &o);
fail:
    free(sr.r.text);
    free(sr.r.cells);
    free(sr.subjects);
    return rc;
}

/* ----------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: bench-peers sqlite DBPATH RECORDS.ndjson IDS.txt\n"
                    "       bench-peers pg CONNINFO RECORDS.ndjson IDS.txt\n"
                    "       bench-peers sqlite-score DBPATH RECORDS.ndjson AS_OF [options]\n"
                    "       bench-peers pg-score CONNINFO RECORDS.ndjson AS_OF [options]\n"
                    "options: --received DAY --out FILE --passes P --per-subject K "
                    "--per-subject-ids FILE --show-sql\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct bench b;
    int rc = -1, sqlite;

    memset(&b, 0, sizeof b);
    if (argc >= 5 && (strcmp(argv[1], "sqlite-score") == 0 || strcmp(argv[1], "pg-score") == 0)) {
        rc = score_main(&b, argc, argv);
        if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
            rc = fail(&b, "writing results to stdout: %s", strerror(errno));
        if (rc != 0 && b.err[0])
            fprintf(stderr, "bench-peers: %s\n", b.err);
        free(b.ids.buf);
        free(b.ids.id);
        return rc == 0 ? 0 : rc == 2 ? 2 : 1;
    }
    if (argc != 5 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "pg") != 0))
        return usage();
    sqlite = strcmp(argv[1], "sqlite") == 0;
    if (load_records(&b, argv[3]) != 0 || load_ids(&b, argv[4]) != 0)
        goto fail;
    rc = sqlite ? run_sqlite(&b, argv[2]) : run_pg(&b, argv[2]);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = fail(&b, "writing results to stdout: %s", strerror(errno));
fail:
    if (rc != 0)
        fprintf(stderr, "bench-peers: %s\n", b.err);
    free(b.rows.text);
    free(b.rows.cells);
    free(b.ids.buf);
    free(b.ids.id);
    return rc == 0 ? 0 : 1;
}
