/*
 * csv.c - reads records from CSV with a header row (RFC 4180: ',' between
 * cells, '"' quotes, '""' for a quote inside one, LF or CRLF line ends,
 * newlines allowed inside quotes). The header names the nine record
 * columns (furnisher, ref, subject_kind, subject_id, category, status,
 * event_date, settled_date, legal_basis, in any order) and then one column
 * per field; a row fills the fields of its own category and leaves the
 * other field cells empty. Cells arrive untyped (PRB_J_TEXT) and record.c
 * reads them by the field's type. Fuzzed by tests/fuzz/fuzz_csv.c.
 */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum role { FIELD = 0, FURN, REF, KIND, ID, CAT, STATUS, EVENT, SETTLED, BASIS, NROLES };

static const char *const role_names[NROLES] = {
    [FURN] = "furnisher",    [REF] = "ref",
    [KIND] = "subject_kind", [ID] = "subject_id",
    [CAT] = "category",      [STATUS] = "status",
    [EVENT] = "event_date",  [SETTLED] = "settled_date",
    [BASIS] = "legal_basis",
};

#define MAX_COLS (PRB_MAX_FIELDS + 16)

/* The reasons prb_csv_row tells more of: where the quoted cell opened. */
static const char UNTERMINATED[] = "unterminated quoted cell";
static const char TEXT_AFTER[] = "text after a quoted cell";

/* Reads one cell at *p; sets *last when the row ends after it. */
static int cell(const char **p, const char *end, prb_arena *a, prb_slice *out, int *last,
                uint32_t *lines, const char **why)
{
    const char *s = *p;
    *last = 0;
    if (s < end && *s == '"') {
        const char *b = ++s;
        size_t quotes = 0;
        for (;;) {
            if (s >= end)
                return *why = UNTERMINATED, PRB_EINVAL;
            if (*s == '"') {
                if (s + 1 < end && s[1] == '"') {
                    quotes++;
                    s += 2;
                    continue;
                }
                break;
            }
            if (*s == 0)
                return *why = "NUL byte in cell", PRB_EINVAL;
            if (*s == '\n')
                (*lines)++;
            s++;
        }
        const char *e = s++; /* closing quote */
        if (!quotes) {
            out->p = b;
            out->n = (uint32_t)(e - b);
        } else {
            char *buf = prb_arena_alloc(a, (size_t)(e - b)), *w = buf;
            if (!buf)
                return *why = "out of memory", PRB_ENOMEM;
            for (const char *q = b; q < e; q++) {
                *w++ = *q;
                if (*q == '"')
                    q++;
            }
            out->p = buf;
            out->n = (uint32_t)(w - buf);
        }
    } else {
        while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
            if (*s == '"')
                return *why = "quote inside an unquoted cell", PRB_EINVAL;
            if (*s == 0)
                return *why = "NUL byte in cell", PRB_EINVAL;
            s++;
        }
        out->p = *p;
        out->n = (uint32_t)(s - *p);
    }
    if (s < end && *s == ',') {
        *p = s + 1;
        return PRB_OK;
    }
    if (s < end && *s == '\r') {
        /* Old Mac line ends, or a CR inside an unquoted cell: no row
         * ends there, and "text after a quoted cell" named none. */
        if (s + 1 < end && s[1] != '\n')
            return *why = "a carriage return not followed by a line feed", PRB_EINVAL;
        s++;
    }
    if (s < end && *s == '\n')
        s++;
    else if (s < end)
        return *why = TEXT_AFTER, PRB_EINVAL;
    *last = 1;
    *p = s;
    return PRB_OK;
}

/* Skips a bad row from its start *p, so that reading resumes at the next
 * row, and counts the lines it spans. The row ends at the first line end
 * outside quotes, read as cell() reads: a quote opens a quoted cell only
 * where a cell begins, and "" inside one is a quote. A stray quote (where
 * cell() stopped) is taken as text. Resuming at the next line end instead
 * began a row inside the bad row's quoted text: a line of it that looked
 * like a row was stored as a record (with skip_bad). */
static void skip_row(const char **p, const char *end, uint32_t *lines)
{
    const char *s = *p;
    int quoted = 0, cell_start = 1;
    *lines = 1;
    for (; s < end; s++) {
        if (quoted) {
            if (*s == '"' && s + 1 < end && s[1] == '"')
                s++;
            else if (*s == '"')
                quoted = 0;
            else if (*s == '\n')
                (*lines)++;
            continue;
        }
        if (*s == '\n') {
            s++;
            break;
        }
        quoted = *s == '"' && cell_start;
        cell_start = *s == ',';
    }
    /* A quoted cell left open to the end: a line end last in the input
     * starts no line, as it starts none after a row. */
    if (quoted && s > *p && s[-1] == '\n')
        (*lines)--;
    *p = s;
}

static int row(const char **p, const char *end, prb_arena *a, prb_slice *cells, int *ncells,
               uint32_t *lines, const char **why)
{
    int last = 0, rc;
    *ncells = 0;
    *lines = 1;
    while (!last) {
        if (*ncells == MAX_COLS)
            return *why = "too many cells", PRB_EINVAL;
        if ((rc = cell(p, end, a, &cells[(*ncells)++], &last, lines, why)))
            return rc;
        if (!last && *p >= end) {
            /* A trailing ',' at the end of input: one more empty cell,
             * if there is room for it. */
            if (*ncells == MAX_COLS)
                return *why = "too many cells", PRB_EINVAL;
            cells[(*ncells)++] = (prb_slice){*p, 0};
            last = 1;
        }
    }
    return PRB_OK;
}

static int fail(prb_arena *a, prb_recerr *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(prb_arena *a, prb_recerr *err, const char *field, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    prb_vfmt(buf, sizeof buf, fmt, ap);
    va_end(ap);
    err->field = field;
    err->reason = prb_arena_strndup(a, buf, strlen(buf));
    if (!err->reason)
        err->reason = "bad CSV";
    return PRB_EINVAL;
}

static int field_known(const prb_policy *pol, prb_slice s)
{
    for (size_t i = 0; i < pol->ncategories; i++)
        if (prb_catdef_field(&pol->categories[i], s.p, s.n) >= 0)
            return 1;
    return 0;
}

int prb_csv_header(prb_csv *h, const prb_policy *pol, const char **p, const char *end, prb_arena *a,
                   prb_recerr *err, uint32_t *lines)
{
    prb_slice cells[MAX_COLS];
    const char *why;
    int n, seen[NROLES] = {0};
    /* A byte order mark (spreadsheets write one) would otherwise make
     * the first column's name unknown, with the cause invisible. */
    if (end - *p >= 3 && !memcmp(*p, "\xef\xbb\xbf", 3))
        *p += 3;
    if (*p >= end)
        return fail(a, err, "header", "empty file: a CSV file starts with a header row");
    if (row(p, end, a, cells, &n, lines, &why))
        return fail(a, err, "header", "%s", why);
    h->ncols = n;
    for (int i = 0; i < n; i++) {
        char name[80], term[64];
        const char *cls;
        /* Checked before the name is echoed in a message, as a row's
         * cells are: a Windows-1252 header's message was not UTF-8. */
        size_t ok = prb_utf8_prefix(cells[i].p, cells[i].n);
        if (ok < cells[i].n)
            return fail(a, err, "header", "column %d is not UTF-8 text at byte %zu", i + 1, ok + 1);
        /* "fields.NAME" is always the field NAME, as under "fields" in
         * NDJSON: a policy field named like one of the record's own
         * columns (a category's "status") is loaded so. */
        prb_slice c = cells[i];
        int qualified = c.n > 7 && !memcmp(c.p, "fields.", 7);
        if (qualified)
            c = (prb_slice){c.p + 7, c.n - 7};
        snprintf(name, sizeof name, "%.*s", prb_utf8_cut(c.p, c.n, 64), c.p);
        h->name[i] = (prb_slice){prb_arena_strndup(a, name, strlen(name)), (uint32_t)strlen(name)};
        if (!h->name[i].p)
            return fail(a, err, "header", "out of memory");
        h->role[i] = FIELD;
        for (int r = 1; r < NROLES && !qualified; r++)
            if (!strcmp(name, role_names[r]))
                h->role[i] = r;
        if (h->role[i] != FIELD) {
            if (seen[h->role[i]]++)
                return fail(a, err, "header", "column '%s' appears twice", name);
            continue;
        }
        if (PRB_NAME_LONG(c.n))
            return fail(a, err, "header", "column '%s': " PRB_NAME_LONG_REASON, name, (size_t)c.n);
        /* Invariant 1 for the whole name, not the start the messages quote. */
        const char *whole = prb_arena_strndup(a, cells[i].p, cells[i].n);
        if (!whole)
            return fail(a, err, "header", "out of memory");
        if ((cls = prb_refused_class(whole, term, sizeof term)))
            return fail(a, err, "header",
                        "column '%s' is refused: '%s' is %s data, which probity never holds "
                        "(DESIGN invariant 1)",
                        name, term, cls);
        if (!field_known(pol, h->name[i]))
            return fail(a, err, "header", "column '%s' is not a field of any category", name);
        for (int j = 0; j < i; j++)
            if (h->role[j] == FIELD && !strcmp(h->name[j].p, name))
                return fail(a, err, "header", "column '%s' appears twice", name);
    }
    for (int r = 1; r < NROLES; r++)
        if (!seen[r] && r != FURN && r != SETTLED)
            return fail(a, err, "header", "column '%s' is missing", role_names[r]);
    return PRB_OK;
}

/* Whether a row of n cells, whose text begins with first, holds nothing:
 * an empty line (one empty cell, unquoted: its line end comes first), or
 * the header's number of cells, all empty. */
static int blank(const prb_slice *cells, int n, int ncols, char first)
{
    if (n == 1 && (first == '\n' || first == '\r'))
        return 1;
    if (n != ncols)
        return 0;
    for (int i = 0; i < n; i++)
        if (cells[i].n)
            return 0;
    return 1;
}

/* The message of a bad row that began at start, on line first: row()
 * stopped in the cell at, having read upto lines, and skip_row() found
 * the row spans span lines. A stray quote makes one row of many lines,
 * each of which looked like a row, and the message named only the first
 * line: it says where the quote opened and which lines went with it. */
static int bad_row(prb_arena *a, prb_recerr *err, const char *start, const char *at, uint32_t first,
                   uint32_t upto, uint32_t span, const char *why)
{
    char more[64] = "";
    const char *ls = start;
    uint32_t line = first, close = first + upto - 1;
    for (const char *q = start; q < at; q++)
        if (*q == '\n')
            line++, ls = q + 1;
    /* In characters, as an editor shows the column. */
    size_t col = prb_utf8_chars(ls, (size_t)(at - ls)) + 1;
    if (span > 1)
        snprintf(more, sizeof more, "; the row spans lines %u-%u", first, first + span - 1);
    if (why == UNTERMINATED)
        return fail(a, err, "record",
                    "CSV: a quoted cell opened at line %u, column %zu is never closed%s", line, col,
                    more);
    if (why == TEXT_AFTER && close > line)
        return fail(a, err, "record",
                    "CSV: a quoted cell opened at line %u, column %zu runs to line %u, where text "
                    "follows its closing quote%s",
                    line, col, close, more);
    if (why == TEXT_AFTER)
        return fail(a, err, "record",
                    "CSV: text after the closing quote of a cell quoted at line %u, column %zu%s",
                    line, col, more);
    return fail(a, err, "record", "CSV: %s%s", why, more);
}

int prb_csv_row(const prb_csv *h, const char **p, const char *end, uint32_t first, prb_arena *a,
                prb_raw *raw, prb_recerr *err, uint32_t *lines)
{
    prb_slice cells[MAX_COLS];
    const char *why;
    int n;
    memset(raw, 0, offsetof(prb_raw, fname));
    *lines = 0;
    if (*p >= end)
        return PRB_ENOTFOUND;
    const char *start = *p;
    if (row(p, end, a, cells, &n, lines, &why)) {
        const char *at = *p; /* row() stops at the start of the bad cell */
        uint32_t upto = *lines;
        *p = start;
        skip_row(p, end, lines);
        return bad_row(a, err, start, at, first, upto, *lines, why);
    }
    /* Only a row that holds nothing is skipped, as NDJSON skips a blank
     * line (a file ending "\n\n" is common). Any other is a record and is
     * checked, however few of its cells are filled: skipped, it would be
     * lost without a word while its furnisher thinks it loaded. */
    if (blank(cells, n, h->ncols, *start))
        return PRB_OK; /* with no value in raw (internal.h) */
    if (n != h->ncols)
        return fail(a, err, "record", "CSV: %d cells, the header has %d", n, h->ncols);
    /* Stored text must be UTF-8: a byte that is not made a subject's
     * file unreadable as JSON for good (NDJSON's parser checks it). */
    for (int i = 0; i < n; i++) {
        size_t ok = prb_utf8_prefix(cells[i].p, cells[i].n);
        if (ok < cells[i].n)
            return fail(a, err, "record", "CSV: column %d (%s) is not UTF-8 text at byte %zu",
                        i + 1, h->name[i].p, ok + 1);
    }
    for (int i = 0; i < n; i++) {
        prb_rawval v = {cells[i], PRB_J_TEXT};
        switch (h->role[i]) {
        case FURN:
            raw->furnisher = v;
            break;
        case REF:
            raw->ref = v;
            break;
        case KIND:
            raw->kind = v;
            break;
        case ID:
            raw->id = v;
            break;
        case CAT:
            raw->category = v;
            break;
        case STATUS:
            raw->status = v;
            break;
        case EVENT:
            raw->event_date = v;
            break;
        case SETTLED:
            raw->settled_date = v;
            break;
        case BASIS:
            raw->legal_basis = v;
            break;
        default:
            /* The header may name more field columns than one record
             * holds: the policy bounds each category's fields, not all. */
            if (cells[i].n && raw->nfields == PRB_MAX_FIELDS)
                return fail(a, err, "record", "CSV: more than %d field cells filled",
                            PRB_MAX_FIELDS);
            if (cells[i].n) {
                raw->fname[raw->nfields] = h->name[i];
                raw->fval[raw->nfields++] = v;
            }
        }
    }
    return PRB_OK;
}
