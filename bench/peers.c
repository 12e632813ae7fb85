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
 *    batch in one durable LMDB transaction. SQLite gets one prepared INSERT
 *    reused for every row; PostgreSQL one COPY (FORMAT csv) streamed from
 *    memory with PQputCopyData, so no file has to be readable by the server.
 *  - Each subject read (every row of one subject_id, every column touched)
 *    is timed on its own, for the median and the 99th percentile, and the
 *    whole read loop for the rate.
 *
 * stdout carries only the result lines bench/run parses:
 *   peer=sqlite load_records=N load_seconds=S load_rate=R
 *   peer=sqlite reads=N read_median_us=M read_p99_us=P read_rate=R
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

/* ----------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: bench-peers sqlite DBPATH RECORDS.ndjson IDS.txt\n"
                    "       bench-peers pg CONNINFO RECORDS.ndjson IDS.txt\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct bench b;
    int rc = -1, sqlite;

    memset(&b, 0, sizeof b);
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
