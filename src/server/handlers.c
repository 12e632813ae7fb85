/*
 * handlers.c - the endpoints: each reads what the request carries
 * (strictly: unknown fields and query parameters, a parameter given
 * twice and wrong types are refused, not ignored), asks auth.c about
 * anything the request names, calls the engine and answers with what it
 * returned. The engine's JSON is passed through as it is; nothing here
 * decides anything about the register.
 */
#include "srv.h"
#include "jsonarray.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ----------------------------------------------------------- the request */

struct qcheck {
    const char *const *allowed;
    unsigned seen; /* bit i: allowed[i] was given */
    const char *bad, *why;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct qcheck *q = cls;
    (void)kind;
    q->bad = key ? key : "";
    q->why = NULL; /* unknown */
    /* "%00" is decoded to a NUL byte, which ends the C string early:
     * "limit=5%00x" was read as 5. */
    if (!key || strlen(key) != key_size || (value && strlen(value) != value_size)) {
        q->why = "holds a NUL byte";
        return MHD_NO;
    }
    for (size_t i = 0; q->allowed && q->allowed[i]; i++) {
        assert(i < 32);
        if (strcmp(q->allowed[i], key))
            continue;
        /* libmicrohttpd's lookup answers the first of two, and
         * "?limit=5&limit=20000" was served 5 while an unknown
         * parameter was refused: which one a client meant is not ours
         * to guess. */
        if (q->seen >> i & 1) {
            q->why = "is given more than once";
            return MHD_NO;
        }
        q->seen |= 1u << i;
        q->bad = NULL;
        return MHD_YES;
    }
    return MHD_NO;
}

/* Refuses query parameters other than allowed (NULL-terminated; NULL:
 * none; at most 32), and any given twice. Returns 0, or 1 when it has
 * answered. */
static int query_only(req *r, const char *const *allowed)
{
    struct qcheck q = {allowed, 0, NULL, NULL};
    char detail[160];
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    if (!q.bad)
        return 0;
    if (q.why)
        snprintf(detail, sizeof detail, "query parameter '%.64s' %s", q.bad, q.why);
    else
        snprintf(detail, sizeof detail, "unknown query parameter '%.64s'", q.bad);
    srv_problem(r, 400, NULL, NULL, detail, NULL);
    return 1;
}

/* Whether the query has name (query_only has refused it twice), and its
 * value: NULL when it came without '=' ("?open"). */
static int query(req *r, const char *name, const char **value)
{
    *value = NULL;
    return MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), value,
                                         NULL) == MHD_YES;
}

/* A flag in the query: absent, false; "true" or "1", true; "false" or
 * "0", false. Given with no value, bare ("?open") or empty ("?open="),
 * it is true: "?open=" always was, a client that leaves out the '='
 * means the same, and "?open" had listed every dispute, the opposite
 * of what it asked. -1 when it has answered. */
static int query_bool(req *r, const char *name)
{
    const char *v;
    char detail[128];
    if (!query(r, name, &v))
        return 0;
    if (!v || !*v || !strcmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    snprintf(detail, sizeof detail, "query parameter %s must be true or false", name);
    srv_problem(r, 400, NULL, NULL, detail, NULL);
    return -1;
}

/* A count in the query, from min to max (SRV_U64_MAX: no bound but the
 * parser's); absent: dflt, or an answer when required. Given without a
 * number ("?leaf", "?leaf=") it is refused, not taken as absent: "?leaf"
 * was answered "leaf is required" and "?size" was the log's current
 * size. -1 when it has answered. */
static int query_u64(req *r, const char *name, int required, uint64_t min, uint64_t max,
                     uint64_t dflt, uint64_t *v)
{
    const char *s;
    char detail[128];
    int given = query(r, name, &s), prc = 0;
    *v = dflt;
    if (!given && !required)
        return 0;
    if (!given)
        snprintf(detail, sizeof detail, "query parameter %s is required", name);
    else if (!s || (prc = srv_parse_u64(s, v)) == -1)
        snprintf(detail, sizeof detail, "query parameter %s must be a whole number", name);
    /* A bounded count says its bounds, past the parser's too: "at most
     * 9223372036854775807" sent a client to a number then refused. */
    else if (max < SRV_U64_MAX && (prc || *v < min || *v > max))
        snprintf(detail, sizeof detail, "query parameter %s must be from %llu to %llu", name,
                 (unsigned long long)min, (unsigned long long)max);
    else if (prc)
        snprintf(detail, sizeof detail, "query parameter %s is too large: at most %s", name,
                 SRV_U64_MAX_TEXT);
    else if (*v < min)
        snprintf(detail, sizeof detail, "query parameter %s must be at least %llu", name,
                 (unsigned long long)min);
    else
        return 0;
    srv_problem(r, 400, NULL, NULL, detail, NULL);
    return -1;
}

/* Items a page holds by default, and at most: a public list needs no
 * token, and a national one may have hundreds of thousands of members;
 * a national register's disputes as many. */
#define PAGE 1000
#define PAGE_MAX 10000

/* The after and limit of a page. -1 when it has answered. */
static int page_query(req *r, uint64_t *after, uint64_t *limit)
{
    if (query_u64(r, "after", 0, 0, SRV_U64_MAX, 0, after) ||
        query_u64(r, "limit", 0, 1, PAGE_MAX, PAGE, limit))
        return -1;
    return 0;
}

/* Where the page after this one is, for an answer that is a JSON array:
 * a Link header (RFC 8288) with the same filter and limit. */
static void link_next(req *r, const char *path, const char *filter, uint64_t limit, uint64_t next)
{
    if (!next)
        return;
    r->xhdr = "Link";
    snprintf(r->xval, sizeof r->xval, "<%s?%s%slimit=%llu&after=%llu>; rel=\"next\"", path,
             filter ? filter : "", filter ? "&" : "", (unsigned long long)limit,
             (unsigned long long)next);
}

static int content_type_is(req *r, const char *want)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen(want);
    return ct && !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* One member of a JSON body: a string, or an array of strings joined
 * with commas. */
struct field {
    const char *name;
    int required;
    int array;
    const char *str;
    char *joined;
};

static int join(json_t *a, char **out)
{
    size_t len = 1, i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || strchr(json_string_value(v), ','))
            return -1;
        len += json_string_length(v) + 1;
    }
    if (!(*out = calloc(1, len)))
        return -1;
    json_array_foreach(a, i, v)
    {
        if (i)
            strcat(*out, ",");
        strcat(*out, json_string_value(v));
    }
    return 0;
}

/* Parses the body as a JSON object with exactly the members of fs (the
 * required ones present, no others, each of its type). Returns the
 * object (json_decref it; the strings point into it) or NULL after
 * answering. */
static json_t *body_object(req *r, struct field *fs, size_t nf)
{
    json_error_t jerr;
    char detail[300];
    const char *key;
    json_t *v, *o;
    if (!content_type_is(r, "application/json")) {
        srv_problem(r, 415, NULL, NULL, "the body must be application/json", NULL);
        return NULL;
    }
    o = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o || !json_is_object(o)) {
        snprintf(detail, sizeof detail, "the body is not a JSON object%s%.200s", o ? "" : ": ",
                 o ? "" : jerr.text);
        json_decref(o);
        srv_problem(r, 400, NULL, NULL, detail, NULL);
        return NULL;
    }
    json_object_foreach(o, key, v)
    {
        size_t i;
        for (i = 0; i < nf && strcmp(fs[i].name, key); i++)
            ;
        if (i == nf) {
            snprintf(detail, sizeof detail, "unknown field '%.64s'", key);
            goto bad;
        }
        if (fs[i].array ? join(v, &fs[i].joined) == 0 : json_is_string(v)) {
            fs[i].str = fs[i].array ? fs[i].joined : json_string_value(v);
            continue;
        }
        snprintf(detail, sizeof detail, "field '%s' must be %s", key,
                 fs[i].array ? "an array of strings without commas" : "a string");
        goto bad;
    }
    for (size_t i = 0; i < nf; i++)
        if (fs[i].required && !fs[i].str) {
            snprintf(detail, sizeof detail, "field '%s' is required", fs[i].name);
            goto bad;
        }
    return o;
bad:
    for (size_t i = 0; i < nf; i++)
        free(fs[i].joined);
    json_decref(o);
    srv_problem(r, 400, NULL, NULL, detail, NULL);
    return NULL;
}

static void fields_free(struct field *fs, size_t nf)
{
    for (size_t i = 0; i < nf; i++)
        free(fs[i].joined);
}

/* Answers an engine call's outcome: its JSON (owned; read only after the
 * call, whose result rc is) or its failure. */
static int answer(req *r, prb_env *h, int rc, unsigned status, char **json)
{
    if (rc) {
        free(*json);
        return srv_fail(r, h, rc);
    }
    /* A call of the writer thread that returned 0 has written. */
    if (srv_route_writer(r->route))
        return srv_respond_written(r, status, *json);
    return srv_respond_json(r, status, *json);
}

/* Answers a read that told its subjects (srv_answer_reserve) as answer
 * does: its call has written, so its answer is never refused. */
static int told(req *r, prb_env *h, int rc, const char *ctype, char **body)
{
    if (rc) {
        free(*body);
        return srv_fail(r, h, rc);
    }
    return srv_respond_written_as(r, 200, ctype, *body);
}

/* Answers a write that has been done with o as JSON; o is stolen. */
static int answer_written(req *r, unsigned status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return srv_respond_written(r, status, text);
}

/* --------------------------------------------------------- service */

static int h_healthz(req *r, prb_env *h)
{
    uint64_t n;
    int rc;
    if (query_only(r, NULL))
        return MHD_YES;
    /* Unavailable, not failed: a load balancer takes the server out. */
    if ((rc = prb_count(h, &n, NULL)))
        return srv_fail_as(r, h, rc, 503);
    return srv_respond_json(r, 200, strdup("{\"status\": \"ok\"}"));
}

static int h_metrics(req *r, prb_env *h)
{
    if (query_only(r, NULL))
        return MHD_YES;
    char *text = srv_metrics_text(r->s, h);
    if (!text)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL);
    return srv_respond(r, 200, "text/plain; version=0.0.4", text, strlen(text));
}

static int h_openapi(req *r, prb_env *h)
{
    if (query_only(r, NULL))
        return MHD_YES;
    char *doc = malloc(prb_openapi_json_len);
    if (!doc)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL);
    memcpy(doc, prb_openapi_json, prb_openapi_json_len);
    return srv_respond(r, 200, "application/json", doc, prb_openapi_json_len);
}

/* t as an HTTP-date (RFC 9110 IMF-fixdate), "Sun, 06 Nov 1994 08:49:37
 * GMT": names by hand, as strftime's %a and %b follow the locale. */
static void http_date(int64_t t, char *out, size_t n)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The latest copy, however old: a request never waits for a walk (but
 * the first), and asks for a newer copy if this one is old. Its made_at,
 * and Last-Modified, tell a client how old it is. */
static int h_stats(req *r, prb_env *h)
{
    (void)h; /* made on the statistics thread, with its own handle */
    int64_t made_at = 0;
    if (query_only(r, NULL))
        return MHD_YES;
    char *json = srv_stats_copy(r->s, &made_at);
    if (!json)
        return srv_problem(r, 500, NULL, NULL, "the statistics could not be made", NULL);
    r->xhdr = MHD_HTTP_HEADER_LAST_MODIFIED;
    http_date(made_at, r->xval, sizeof r->xval);
    return srv_respond_json(r, 200, json);
}

/* --------------------------------------------------------------- records */

/* A JSON array of records as NDJSON, one element a line, so that an
 * error's line number is the element's position (jsonarray.c). */
static int array_to_ndjson(req *r, char **out, size_t *len)
{
    char err[160], detail[240];
    int rc = srv_json_array_lines(r->body, r->len, out, len, err, sizeof err);
    if (rc == SRV_JA_NOMEM)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL), -1;
    if (rc) {
        snprintf(detail, sizeof detail, "the body is not a JSON array of records: %s", err);
        return srv_problem(r, 400, NULL, NULL, detail, NULL), -1;
    }
    return 0;
}

#define MAX_LISTED_ERRORS 1000

static json_t *ingest_json(const prb_ingest *b, const prb_ingest_stats *st)
{
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "accepted", (json_int_t)st->accepted, "unchanged",
                  (json_int_t)st->unchanged, "corrected", (json_int_t)st->corrected, "superseded",
                  (json_int_t)st->superseded, "rejected", (json_int_t)st->rejected);
    json_t *errs = json_array();
    size_t n = prb_ingest_nerrors(b); /* at most MAX_LISTED_ERRORS are kept */
    for (size_t i = 0; i < n; i++)
        json_array_append_new(errs, srv_json_message(prb_ingest_error(b, i)));
    json_object_set_new(o, "errors", errs);
    if (st->rejected > n)
        json_object_set_new(o, "errors_not_listed", json_integer((json_int_t)(st->rejected - n)));
    return o;
}

static int h_records(req *r, prb_env *h)
{
    static const char *const q[] = {"skip_bad", NULL};
    prb_ingest_opts opts = {r->key.furnisher, 0, r->len > (1u << 20) ? 0 : 1, MAX_LISTED_ERRORS};
    prb_ingest_stats st = {0, 0, 0, 0, 0};
    prb_ingest *b = NULL;
    char *conv = NULL;
    const char *buf = r->body;
    size_t len = r->len;
    int format = PRB_FMT_NDJSON, rc;
    if (query_only(r, q) || (opts.skip_bad = query_bool(r, "skip_bad")) < 0)
        return MHD_YES;
    if (!r->len)
        return srv_problem(r, 400, NULL, NULL, "the body has no records", NULL);
    if (content_type_is(r, "application/json") && r->body[strspn(r->body, " \t\r\n")] == '[') {
        if (array_to_ndjson(r, &conv, &len))
            return MHD_YES;
        buf = conv;
    } else if (content_type_is(r, "text/csv")) {
        format = PRB_FMT_CSV;
    } else if (!content_type_is(r, "application/x-ndjson") &&
               !content_type_is(r, "application/jsonl") &&
               !content_type_is(r, "application/json")) {
        return srv_problem(r, 415, NULL, NULL,
                           "records come as application/x-ndjson, a JSON array "
                           "(application/json) or text/csv",
                           NULL);
    }
    if (!(rc = prb_ingest_begin(h, &opts, &b)) &&
        !(rc = prb_ingest_add(b, "body", buf, len, format)))
        rc = prb_ingest_commit(b, &st);
    if (rc == PRB_EFULL && r->grow == SRV_GROW_NO) {
        /* Nothing was written; srv_dispatch runs it again alone. */
        r->grow = SRV_GROW_ASKED;
    } else if (rc == PRB_EREJECTED || (rc == PRB_EREFUSED && b && prb_ingest_nerrors(b))) {
        char type[64];
        snprintf(type, sizeof type, "urn:probity:error:%s", prb_errname(rc));
        srv_problem(r, (unsigned)prb_http_status(rc), type, prb_strerror(rc), prb_errmsg(h),
                    ingest_json(b, &st));
    } else if (rc) {
        srv_fail(r, h, rc);
    } else {
        answer_written(r, 200, ingest_json(b, &st));
    }
    prb_ingest_free(b);
    free(conv);
    return MHD_YES;
}

/* ---------------------------------------------------------------- files */

/* The copy of identifier's file. Read by staff (any key but the
 * subject's own), the subject is told first (prb_subject_copy_read): a
 * write, on this pool thread as a list read is, waiting for LMDB's one
 * writer, and refused for want of answer memory before it, never after
 * (told). A HEAD is told too: its status says whether the person is on
 * file and its Content-Length grows with every record and inquiry, so it
 * reads the file as much as the GET does. */
static int copy(req *r, prb_env *h, const char *identifier)
{
    static const char *const q[] = {"format", NULL};
    const char *f;
    char *out = NULL;
    int held;
    if (query_only(r, q))
        return MHD_YES;
    int given = query(r, "format", &f), text = f && !strcmp(f, "text");
    if (given && !text && (!f || strcmp(f, "json")))
        return srv_problem(r, 400, NULL, NULL, "query parameter format must be json or text", NULL);
    const char *ctype = text ? "text/plain; charset=utf-8" : "application/json";
    int fmt = text ? PRB_COPY_TEXT_HTTP : PRB_COPY_JSON;
    if (r->key.role == PRB_ROLE_SUBJECT) {
        int rc = prb_subject_copy(h, identifier, fmt, &out);
        if (rc)
            return srv_fail(r, h, rc);
        if (text)
            return srv_respond(r, 200, ctype, out, strlen(out));
        return srv_respond_json(r, 200, out);
    }
    if ((held = srv_answer_reserve(r)))
        return srv_answer_refused(r, held);
    return told(r, h, prb_subject_copy_read(h, identifier, fmt, r->key.name, r->key.role, &out),
                ctype, &out);
}

static int h_subject(req *r, prb_env *h)
{
    return copy(r, h, r->param);
}

static int h_me(req *r, prb_env *h)
{
    return copy(r, h, r->key.subject);
}

/* ------------------------------------------------------------- decisions */

static enum MHD_Result count_idem(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    if (!strcasecmp(key, "Idempotency-Key"))
        ++*(int *)cls;
    return MHD_YES;
}

static int h_decisions(req *r, prb_env *h)
{
    struct field fs[] = {{"purpose", 1, 0, NULL, NULL}, {"subject", 1, 0, NULL, NULL}};
    const char *why,
        *idem = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (query_only(r, NULL))
        return MHD_YES;
    int nidem = 0;
    /* Header lines of one name make one list (RFC 9110 5.3): two keys. */
    if (idem)
        MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_idem, &nidem);
    if (idem &&
        (nidem > 1 || srv_idem_key(idem, r->idem, sizeof r->idem) || prb_idem_check(r->idem)))
        return srv_problem(r, 400, NULL, NULL,
                           "the Idempotency-Key header must be a quoted string of 1 to 255 "
                           "printable ASCII characters",
                           NULL);
    json_t *o = body_object(r, fs, 2);
    if (!o)
        return MHD_YES;
    if (srv_auth_purpose(r, fs[0].str, &why)) {
        json_decref(o);
        return srv_problem(r, 403, NULL, NULL, why, NULL);
    }
    r->purpose = strdup(fs[0].str);
    r->subject = strdup(fs[1].str);
    json_decref(o);
    if (!r->purpose || !r->subject)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL);
    /* A key kept by an earlier commit is answered here, on the pool
     * thread; one the committer has not stored yet is found in its
     * transaction. */
    if (idem) {
        int rc = prb_idem_get(h, r->key.name, r->idem, r->purpose, r->subject, &r->replay);
        if (rc != PRB_ENOTFOUND) {
            r->gc_rc = rc;
            snprintf(r->gc_err, sizeof r->gc_err, "%s", prb_errmsg(h));
            return srv_answer_decision(r);
        }
    }
    /* The decision is computed here, on this pool thread; the committer
     * only stores it (or makes it again if what it read has changed). A
     * refusal is answered at once: nothing would be stored. */
    r->dec = srv_decision_take(r->s);
    if ((r->gc_rc = prb_decide_prepare(h, r->purpose, r->subject, r->key.name, &r->dec))) {
        snprintf(r->gc_err, sizeof r->gc_err, "%s", prb_errmsg(h));
        return srv_answer_decision(r);
    }
    if (srv_commit_submit(r->s->commit, r))
        return srv_problem(r, 503, NULL, NULL,
                           "the server is stopping; no decision was made or stored", NULL);
    return MHD_YES;
}

int srv_answer_decision(req *r)
{
    const char *json = NULL;
    if (!r->gc_rc && r->replay) {
        char *replay = r->replay;
        r->replay = NULL;
        r->xhdr = "Idempotent-Replayed";
        snprintf(r->xval, sizeof r->xval, "true");
        return srv_respond_json(r, 200, replay);
    }
    if (!r->gc_rc) {
        /* Stored: answered with a copy of the stored form, and, without
         * it, never a 503 (srv_respond_written). */
        if (prb_decision_json_compact(r->dec, &json))
            json = NULL;
        return srv_respond_written_copy(r, 200, json);
    }
    /* The committer's message, kept with the request: the handle that
     * made it is the committer's. */
    return srv_fail_msg(r, r->gc_rc, (unsigned)prb_http_status(r->gc_rc), r->gc_err);
}

/* ------------------------------------------------------ disputes, reviews */

static int h_me_disputes(req *r, prb_env *h)
{
    struct field fs[] = {{"record", 1, 0, NULL, NULL}, {"reason", 1, 0, NULL, NULL}};
    char *json = NULL;
    if (query_only(r, NULL))
        return MHD_YES;
    json_t *o = body_object(r, fs, 2);
    if (!o)
        return MHD_YES;
    int rc = prb_dispute_open(h, r->key.subject, fs[0].str, fs[1].str, &json);
    json_decref(o);
    return answer(r, h, rc, 201, &json);
}

static int h_disputes(req *r, prb_env *h)
{
    static const char *const q[] = {"open", "after", "limit", NULL};
    uint64_t after, limit, next = 0;
    char *json = NULL;
    int open, rc;
    if (query_only(r, q) || (open = query_bool(r, "open")) < 0 || page_query(r, &after, &limit))
        return MHD_YES;
    if (r->key.role == PRB_ROLE_FURNISHER)
        rc = prb_disputes_furnisher_page(h, r->key.furnisher, open, after, limit, &json, &next);
    else
        rc = prb_disputes_page(h, open, after, limit, &json, &next);
    if (!rc)
        link_next(r, "/v1/disputes", open ? "open=true" : NULL, limit, next);
    return answer(r, h, rc, 200, &json);
}

static int h_dispute_resolve(req *r, prb_env *h)
{
    struct field fs[] = {{"outcome", 1, 0, NULL, NULL}, {"note", 0, 0, NULL, NULL}};
    uint64_t id;
    const char *why;
    char *json = NULL;
    int rc;
    if (query_only(r, NULL))
        return MHD_YES;
    if (srv_parse_u64(r->param, &id) || !id)
        return srv_problem(r, 404, NULL, NULL,
                           "a dispute id is a positive whole number of at most " SRV_U64_MAX_TEXT,
                           NULL);
    unsigned st = srv_auth_dispute(r, h, id, &rc, &why);
    if (rc)
        return srv_fail(r, h, rc);
    if (st)
        return srv_problem(r, st, NULL, NULL, why, NULL);
    json_t *o = body_object(r, fs, 2);
    if (!o)
        return MHD_YES;
    rc = prb_dispute_resolve(h, id, fs[0].str, fs[1].str,
                             r->key.role == PRB_ROLE_FURNISHER ? "furnisher" : "reviewer",
                             r->key.name, &json);
    json_decref(o);
    return answer(r, h, rc, 200, &json);
}

static int h_me_reviews(req *r, prb_env *h)
{
    struct field fs[] = {{"decision", 1, 0, NULL, NULL}, {"reason", 1, 0, NULL, NULL}};
    const char *why;
    char *json = NULL;
    int rc;
    if (query_only(r, NULL))
        return MHD_YES;
    json_t *o = body_object(r, fs, 2);
    if (!o)
        return MHD_YES;
    unsigned st = srv_auth_decision(r, h, fs[0].str, &rc, &why);
    if (rc || st) {
        json_decref(o);
        return rc ? srv_fail(r, h, rc) : srv_problem(r, st, NULL, NULL, why, NULL);
    }
    rc = prb_review_request(h, fs[0].str, fs[1].str, &json);
    json_decref(o);
    return answer(r, h, rc, 201, &json);
}

static int h_reviews(req *r, prb_env *h)
{
    static const char *const q[] = {"pending", "after", "limit", NULL};
    uint64_t after, limit, next = 0;
    char *json = NULL;
    int pending, rc;
    if (query_only(r, q) || (pending = query_bool(r, "pending")) < 0 ||
        page_query(r, &after, &limit))
        return MHD_YES;
    rc = prb_reviews_page(h, pending, after, limit, &json, &next);
    if (!rc)
        link_next(r, "/v1/reviews", pending ? "pending=true" : NULL, limit, next);
    return answer(r, h, rc, 200, &json);
}

static int h_review_decide(req *r, prb_env *h)
{
    struct field fs[] = {{"outcome", 1, 0, NULL, NULL}, {"note", 1, 0, NULL, NULL}};
    char *json = NULL;
    if (query_only(r, NULL))
        return MHD_YES;
    json_t *o = body_object(r, fs, 2);
    if (!o)
        return MHD_YES;
    int rc = prb_review_decide(h, r->param, fs[0].str, r->key.name, fs[1].str, &json);
    json_decref(o);
    return answer(r, h, rc, 200, &json);
}

/* s percent-encoded but for RFC 3986's unreserved characters, into out
 * (room for 3 bytes of each of s's and a NUL). */
static void percent_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            *out++ = (char)c;
            continue;
        }
        *out++ = '%';
        *out++ = hex[c >> 4];
        *out++ = hex[c & 15];
    }
    *out = 0;
}

/* The notices to inquirers (told.c): an inquirer's own, or, for an
 * admin, every inquirer's or the one ?recipient= names. */
static int h_notices(req *r, prb_env *h)
{
    static const char *const q[] = {"recipient", "pending", "after", "limit", NULL};
    uint64_t after, limit, next = 0;
    char *json = NULL, filter[32 + 3 * PRB_KEY_NAME_MAX], enc[3 * PRB_KEY_NAME_MAX + 1];
    char detail[128];
    const char *asked = NULL, *recipient, *why;
    int pending, rc;
    if (query_only(r, q) || (pending = query_bool(r, "pending")) < 0 ||
        page_query(r, &after, &limit))
        return MHD_YES;
    /* A recipient is a key's name, the requester of its decisions; the
     * Link to the next page keeps it, which bounds its length. */
    if (query(r, "recipient", &asked) && (!asked || !*asked || strlen(asked) > PRB_KEY_NAME_MAX)) {
        snprintf(detail, sizeof detail,
                 "query parameter recipient must be an inquirer's name of 1 to %d bytes",
                 PRB_KEY_NAME_MAX);
        return srv_problem(r, 400, NULL, NULL, detail, NULL);
    }
    unsigned st = srv_auth_notices(r, asked, &recipient, &why);
    if (st)
        return srv_problem(r, st, NULL, NULL, why, NULL);
    rc = prb_notices_to_page(h, recipient, pending, after, limit, &json, &next);
    if (!rc) {
        percent_encode(asked ? asked : "", enc);
        snprintf(filter, sizeof filter, "%s%s%s%s", asked ? "recipient=" : "", enc,
                 asked && pending ? "&" : "", pending ? "pending=true" : "");
        link_next(r, "/v1/notices", filter[0] ? filter : NULL, limit, next);
    }
    return answer(r, h, rc, 200, &json);
}

/* ------------------------------------------------------ what is published */

/* Answers a page of the lists name (NULL: all) as r's token may see
 * them, for purposes (srv_auth_list_purposes). An inquirer's or staff's
 * read of a purpose-bound list is a write: every member shown is told of
 * it (prb_lists_read_page, prb_lists_staff_page), so it is refused for
 * want of answer memory before it runs, never after (told). It runs
 * here, on the pool thread, not on the writer thread: the writer is
 * chosen by route, and this route is the public's too, whose reads must
 * not queue behind a furnisher's batches; an inquirer reads a list
 * rarely (its decisions consult the lists themselves), and the write is
 * a notice per member shown (at most 10,000 a page). While an ingest
 * holds LMDB's one writer lock it waits, and with it this thread's other
 * connections. */
static int lists_page(req *r, prb_env *h, const char *name, const char *purposes, uint64_t after,
                      uint64_t limit)
{
    char *json = NULL;
    int held, rc;
    /* A HEAD is told as its GET is: its Content-Length grows with the
     * members on the page, so it is the same read. */
    int inquirer = purposes && r->has_key && r->key.role == PRB_ROLE_INQUIRER;
    int staff = !inquirer && purposes && r->has_key && !strcmp(purposes, "*");
    if (!inquirer && !staff)
        return answer(r, h, prb_lists_visible_page(h, name, purposes, after, limit, &json), 200,
                      &json);
    if ((held = srv_answer_reserve(r)))
        return srv_answer_refused(r, held);
    if (inquirer)
        rc = prb_lists_read_page(h, name, r->key.name, purposes, after, limit, &json);
    else
        rc = prb_lists_staff_page(h, name, r->key.name, r->key.role, after, limit, &json);
    return told(r, h, rc, "application/json", &json);
}

static int h_lists(req *r, prb_env *h)
{
    static const char *const q[] = {"after", "limit", NULL};
    char mine[PRB_KEY_PURPOSES_MAX];
    uint64_t after, limit;
    if (query_only(r, q) || page_query(r, &after, &limit))
        return MHD_YES;
    return lists_page(r, h, NULL, srv_auth_list_purposes(r, h, mine), after, limit);
}

static int h_list(req *r, prb_env *h)
{
    static const char *const q[] = {"after", "limit", NULL};
    char mine[PRB_KEY_PURPOSES_MAX];
    const char *purposes = srv_auth_list_purposes(r, h, mine);
    uint64_t after, limit;
    int vis, rc;
    if (query_only(r, q) || page_query(r, &after, &limit))
        return MHD_YES;
    if ((rc = prb_list_visibility(h, r->param, purposes, &vis)))
        return srv_fail(r, h, rc);
    if (!vis)
        return srv_problem(r, r->has_key ? 403 : 401, NULL, NULL,
                           "this list is purpose-bound: only an inquirer for a purpose it serves "
                           "may read it",
                           NULL);
    return lists_page(r, h, r->param, purposes, after, limit);
}

static int h_company(req *r, prb_env *h)
{
    char *json = NULL;
    if (query_only(r, NULL))
        return MHD_YES;
    return answer(r, h, prb_company_card(h, r->param, &json), 200, &json);
}

static int h_audit_head(req *r, prb_env *h)
{
    char *json = NULL;
    if (query_only(r, NULL))
        return MHD_YES;
    return answer(r, h, prb_audit_head(h, &json), 200, &json);
}

static int h_audit_proof(req *r, prb_env *h)
{
    static const char *const q[] = {"leaf", "size", NULL};
    uint64_t leaf, size;
    char *json = NULL;
    /* A size of 0 is the engine's "current size"; here that is a size
     * left out, and 0 is refused as the document says (minimum 1). */
    if (query_only(r, q) || query_u64(r, "leaf", 1, 0, SRV_U64_MAX, 0, &leaf) ||
        query_u64(r, "size", 0, 1, SRV_U64_MAX, 0, &size))
        return MHD_YES;
    return answer(r, h,
                  srv_auth_audit_leaves(r) ? prb_audit_prove(h, leaf, size, &json)
                                           : prb_audit_prove_hash(h, leaf, size, &json),
                  200, &json);
}

static int h_audit_consistency(req *r, prb_env *h)
{
    static const char *const q[] = {"from", "to", NULL};
    uint64_t from, to;
    char *json = NULL;
    /* As size above: "to" left out is the current size, 0 is refused. */
    if (query_only(r, q) || query_u64(r, "from", 1, 1, SRV_U64_MAX, 0, &from) ||
        query_u64(r, "to", 0, 1, SRV_U64_MAX, 0, &to))
        return MHD_YES;
    return answer(r, h, prb_audit_consistency(h, from, to, &json), 200, &json);
}

/* ------------------------------------------------------------------ keys */

static int h_keys(req *r, prb_env *h)
{
    char *json = NULL;
    if (query_only(r, NULL))
        return MHD_YES;
    return answer(r, h, prb_keys_json(h, &json), 200, &json);
}

/* Copies a body field into a key field; 1 (after answering) if too long. */
static int key_field(req *r, const char *name, const char *v, char *out, size_t cap)
{
    char detail[128];
    if (!v)
        return 0;
    if (strlen(v) < cap) {
        memcpy(out, v, strlen(v) + 1);
        return 0;
    }
    snprintf(detail, sizeof detail, "field '%s' is longer than %zu bytes", name, cap - 1);
    srv_problem(r, 400, NULL, NULL, detail, NULL);
    return 1;
}

static int h_key_create(req *r, prb_env *h)
{
    struct field fs[] = {{"role", 1, 0, NULL, NULL},
                         {"name", 0, 0, NULL, NULL},
                         {"furnisher", 0, 0, NULL, NULL},
                         {"purposes", 0, 1, NULL, NULL},
                         {"subject", 0, 0, NULL, NULL}};
    char token[PRB_TOKEN_MAX];
    prb_key spec, made;
    if (query_only(r, NULL))
        return MHD_YES;
    json_t *o = body_object(r, fs, 5);
    if (!o)
        return MHD_YES;
    memset(&spec, 0, sizeof spec);
    int rc = PRB_OK;
    if (!(spec.role = prb_role_parse(fs[0].str))) {
        srv_problem(r, 400, NULL, NULL,
                    "role must be admin, furnisher, inquirer, reviewer or subject", NULL);
    } else if (!key_field(r, "name", fs[1].str, spec.name, sizeof spec.name) &&
               !key_field(r, "furnisher", fs[2].str, spec.furnisher, sizeof spec.furnisher) &&
               !key_field(r, "purposes", fs[3].str, spec.purposes, sizeof spec.purposes) &&
               !key_field(r, "subject", fs[4].str, spec.subject, sizeof spec.subject)) {
        if ((rc = prb_key_create(h, &spec, token, &made)))
            srv_fail(r, h, rc);
        else
            answer_written(r, 201,
                           json_pack("{s:s, s:s, s:s, s:s}", "id", made.id, "role",
                                     prb_role_name(made.role), "name", made.name, "token", token));
        memset(token, 0, sizeof token);
    }
    fields_free(fs, 5);
    json_decref(o);
    return MHD_YES;
}

static int h_key_revoke(req *r, prb_env *h)
{
    if (query_only(r, NULL))
        return MHD_YES;
    int rc = prb_key_revoke(h, r->param);
    if (rc)
        return srv_fail(r, h, rc);
    return answer_written(r, 200, json_pack("{s:s, s:b}", "id", r->param, "revoked", 1));
}

/* ---------------------------------------------------------------- dispatch */

typedef int (*handler)(req *r, prb_env *h);

static const handler handlers[R__N] = {
    [R_HEALTHZ] = h_healthz,
    [R_METRICS] = h_metrics,
    [R_OPENAPI] = h_openapi,
    [R_STATS] = h_stats,
    [R_RECORDS] = h_records,
    [R_SUBJECT] = h_subject,
    [R_ME] = h_me,
    [R_DECISIONS] = h_decisions,
    [R_ME_DISPUTES] = h_me_disputes,
    [R_DISPUTES] = h_disputes,
    [R_DISPUTE_RESOLVE] = h_dispute_resolve,
    [R_ME_REVIEWS] = h_me_reviews,
    [R_REVIEWS] = h_reviews,
    [R_REVIEW_DECIDE] = h_review_decide,
    [R_NOTICES] = h_notices,
    [R_LISTS] = h_lists,
    [R_LIST] = h_list,
    [R_COMPANY] = h_company,
    [R_AUDIT_HEAD] = h_audit_head,
    [R_AUDIT_PROOF] = h_audit_proof,
    [R_AUDIT_CONSISTENCY] = h_audit_consistency,
    [R_KEYS] = h_keys,
    [R_KEY_CREATE] = h_key_create,
    [R_KEY_REVOKE] = h_key_revoke,
};

/* Whether r's key is still live, checked again if it was checked on the
 * head more than SRV_KEY_RECHECK_US ago: a 16-MiB batch may take an
 * hour to come, and a call may wait its turn on the writer thread, and
 * its work is spared. Only a start: what the call writes is checked
 * again in the write itself (run, prb_set_caller), since a call may still
 * wait there for LMDB's one writer. A fast request is not looked up
 * twice here. 0, or the call is answered (401, as a revoked token on its
 * head is, or 500). */
static int key_still_live(req *r, prb_env *h, int *ok)
{
    if (!r->has_key || srv_mono_us() - r->key_us <= SRV_KEY_RECHECK_US)
        return 1;
    pthread_rwlock_rdlock(&r->s->engine);
    int rc = prb_key_recheck(h, &r->key);
    pthread_rwlock_unlock(&r->s->engine);
    if (!rc) {
        r->key_us = srv_mono_us();
        return 1;
    }
    if (rc == PRB_ENOTFOUND)
        *ok = srv_revoked(r);
    else
        *ok = srv_fail(r, h, rc);
    return 0;
}

static int run(req *r)
{
    srv *s = r->s;
    prb_env *h = srv_env(s);
    int live_ok = 0;
    if (!h)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL);
    if (!key_still_live(r, h, &live_ok))
        return live_ok;
    /* The statistics are a copy made on their own thread, which takes the
     * lock itself: waiting for the first copy while holding the lock
     * could wait behind an ingest that waits for this request. */
    if (r->route == R_STATS)
        return handlers[r->route](r, h);
    /* Every write of the call checks its key again inside its own
     * transaction: a revocation committed while it waited for LMDB's
     * one writer (behind a furnisher's batch, for seconds) refuses it. */
    prb_set_caller(h, r->has_key ? &r->key : NULL);
    pthread_rwlock_rdlock(&s->engine);
    int ok = handlers[r->route](r, h);
    pthread_rwlock_unlock(&s->engine);
    /* An ingest that found the map full, which no handle of the server
     * may grow while others read (srv_env), runs again alone, allowed to
     * grow it. */
    if (r->grow == SRV_GROW_ASKED) {
        r->grow = SRV_GROW_ALONE;
        pthread_rwlock_wrlock(&s->engine);
        prb_set_fixed_map(h, 0);
        ok = handlers[r->route](r, h);
        prb_set_fixed_map(h, 1);
        pthread_rwlock_unlock(&s->engine);
    }
    prb_set_caller(h, NULL);
    return ok;
}

int srv_dispatch(req *r)
{
    int ok = run(r);
    srv_body_release(r);
    return ok;
}
