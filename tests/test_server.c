/*
 * test_server.c - the HTTP API (src/server), served in this process on a
 * free loopback port and driven with libcurl and plain sockets: who may
 * call what (every allowed call succeeds, every forbidden one is refused
 * with 401 or 403 and writes nothing), strict request bodies, problem
 * details, body and rate limits, a half-sent request, decisions made
 * concurrently through the group commit, a server killed under load,
 * and the published views.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "probity.h"
#include "server.h"
#include "srv.h"
#include "internal.h"
#include "audit.h"
#include "ident.h"
#include "sha256.h"

TestSuite(server, .timeout = 60);

#define PERSON "cn-rid:11010519491231002X"
#define COMPANY "lei:5493001KJTIIGC8Y1R12"
#define NEW_RECORD                                                                                 \
    "{\"furnisher\":\"bank-a\",\"ref\":\"L-2000\",\"subject\":{\"kind\":\"person\",\"id\":"        \
    "\"" PERSON                                                                                    \
    "\"},\"category\":\"payment_default\",\"status\":\"open\",\"event_date\":\"2026-09-01\","      \
    "\"settled_date\":null,\"legal_basis\":\"loan contract 2020-1\",\"fields\":{\"amount\":"       \
    "\"99.00\",\"currency\":\"EUR\"}}\n"

enum { NONE, ADMIN, FURN, INQ, REV, SUBJ, FURN_B, INQ_P, SUBJ_B, NTOKENS };

struct fx {
    char *dir;
    prb_env *env;
    srv *s;
    char base[64];
    char tok[NTOKENS][PRB_TOKEN_MAX];
    char spare_id[17]; /* a key the admin may revoke */
};

/* A new key; its token into tok, its id into id (if not NULL). */
static void new_key(struct fx *f, int role, const char *furn, const char *purposes,
                    const char *subject, const char *name, char tok[PRB_TOKEN_MAX], char id[17])
{
    prb_key spec, made;
    memset(&spec, 0, sizeof spec);
    spec.role = role;
    snprintf(spec.furnisher, sizeof spec.furnisher, "%s", furn ? furn : "");
    snprintf(spec.purposes, sizeof spec.purposes, "%s", purposes ? purposes : "");
    snprintf(spec.subject, sizeof spec.subject, "%s", subject ? subject : "");
    snprintf(spec.name, sizeof spec.name, "%s", name ? name : "");
    cr_assert_eq(prb_key_create(f->env, &spec, tok, &made), PRB_OK, "%s", prb_errmsg(f->env));
    if (id)
        memcpy(id, made.id, sizeof made.id);
}

static void make_key(struct fx *f, int slot, int role, const char *furn, const char *purposes,
                     const char *subject, const char *name)
{
    new_key(f, role, furn, purposes, subject, name, f->tok[slot],
            slot == NONE ? f->spare_id : NULL);
}

/* A register with tests/data/good.ndjson and a key per role. */
static void fx_register(struct fx *f)
{
    prb_ingest_stats st;
    memset(f, 0, sizeof *f);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    f->env = th_register(&f->dir);
    char *recs = th_slurp("tests/data/good.ndjson");
    cr_assert_not_null(recs);
    /* PERSON's payment default came two months ago, so its hearing is
     * over and credit is declined: an adverse decision to review. */
    char *first = strndup(recs, (size_t)(strchr(recs, '\n') + 1 - recs));
    th_set_day(f->env, "2026-09-25");
    cr_assert_eq(th_ingest(f->env, "good", first, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f->env));
    th_set_day(f->env, TH_TODAY);
    free(first);
    cr_assert_eq(th_ingest(f->env, "good", recs, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f->env));
    free(recs);
    make_key(f, ADMIN, PRB_ROLE_ADMIN, NULL, NULL, NULL, NULL);
    make_key(f, FURN, PRB_ROLE_FURNISHER, "bank-a", NULL, NULL, NULL);
    make_key(f, INQ, PRB_ROLE_INQUIRER, NULL, "credit,tenancy", NULL, "bank-x");
    make_key(f, REV, PRB_ROLE_REVIEWER, NULL, NULL, NULL, "rita");
    make_key(f, SUBJ, PRB_ROLE_SUBJECT, NULL, NULL, PERSON, NULL);
    make_key(f, FURN_B, PRB_ROLE_FURNISHER, "court-beijing-1", NULL, NULL, NULL);
    make_key(f, INQ_P, PRB_ROLE_INQUIRER, NULL, "procurement", NULL, "city-hall");
    make_key(f, SUBJ_B, PRB_ROLE_SUBJECT, NULL, NULL, COMPANY, NULL);
    /* The NONE slot's token is a spare reviewer key, revoked by a test;
     * the matrix sends no token for NONE. */
    make_key(f, NONE, PRB_ROLE_REVIEWER, NULL, NULL, NULL, "spare");
}

/* The server on f's register with o (listen, clock and a short timeout
 * filled in). */
static void fx_serve(struct fx *f, srv_opts *o)
{
    char err[256];
    int64_t now;
    prb_parse_now(TH_TODAY, &now);
    o->listen = "127.0.0.1:0";
    o->fixed_now = now;
    if (!o->timeout)
        o->timeout = 1;
    cr_assert_eq(srv_start(f->env, o, &f->s, err, sizeof err), 0, "%s", err);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", srv_port(f->s));
}

/* fx_register, and the server on it (fx_serve). */
static void fx_start(struct fx *f, srv_opts *o)
{
    fx_register(f);
    fx_serve(f, o);
}

static void fx_stop(struct fx *f)
{
    srv_stop(f->s, 5);
    prb_close(f->env);
    th_rmrf(f->dir);
}

/* ---------------------------------------------------------------- client */

struct resp {
    long status;
    char *body;
    size_t len;
    char retry_after[32], allow[64], ctype[128], link[256], replayed[16], clen[32], lastmod[64];
    CURLcode cc;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct resp *r = ctx;
    char *b = realloc(r->body, r->len + sz * n + 1);
    cr_assert_not_null(b);
    memcpy(b + r->len, p, sz * n);
    r->len += sz * n;
    b[r->len] = 0;
    r->body = b;
    return sz * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
        return;
    const char *v = line + k + 1;
    while (*v == ' ')
        v++;
    size_t len = (size_t)(line + n - v);
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    snprintf(out, cap, "%.*s", (int)len, v);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct resp *r = ctx;
    header_value(p, sz * n, "Retry-After", r->retry_after, sizeof r->retry_after);
    header_value(p, sz * n, "Allow", r->allow, sizeof r->allow);
    header_value(p, sz * n, "Content-Type", r->ctype, sizeof r->ctype);
    header_value(p, sz * n, "Link", r->link, sizeof r->link);
    header_value(p, sz * n, "Idempotent-Replayed", r->replayed, sizeof r->replayed);
    header_value(p, sz * n, "Content-Length", r->clen, sizeof r->clen);
    header_value(p, sz * n, "Last-Modified", r->lastmod, sizeof r->lastmod);
    return sz * n;
}

/* One request; body NULL for none. ctype defaults to application/json;
 * header (if not NULL) is one more, "Name: value". */
static void http_h(const struct fx *f, const char *method, const char *path, const char *token,
                   const char *ctype, const char *body, const char *header, struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[1024], auth[200], ct[200];
    memset(r, 0, sizeof *r);
    cr_assert_not_null(c);
    snprintf(url, sizeof url, "%s%s", f->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    /* A HEAD's answer has a Content-Length but no body to wait for. */
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, ct);
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    /* header may hold several, one a line. */
    for (const char *p = header, *e; p && *p; p = *e ? e + 1 : e) {
        char one[1024];
        e = strchr(p, '\n');
        e = e ? e : p + strlen(p);
        snprintf(one, sizeof one, "%.*s", (int)(e - p), p);
        h = curl_slist_append(h, one);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r->body)
        r->body = calloc(1, 1);
}

static void http(const struct fx *f, const char *method, const char *path, const char *token,
                 const char *ctype, const char *body, struct resp *r)
{
    http_h(f, method, path, token, ctype, body, NULL, r);
}

static json_t *parse(const struct resp *r)
{
    json_error_t err;
    json_t *o = json_loads(r->body, 0, &err);
    cr_assert_not_null(o, "not JSON (%s): %s", err.text, r->body);
    return o;
}

/* A problem details document with its four members and status. */
static void assert_problem(const struct resp *r, long status)
{
    cr_assert_eq(r->status, status, "expected %ld, got %ld: %s", status, r->status, r->body);
    cr_assert(strstr(r->ctype, "application/problem+json"), "content type %s", r->ctype);
    json_t *o = parse(r);
    cr_assert(json_is_string(json_object_get(o, "type")));
    cr_assert(json_is_string(json_object_get(o, "title")));
    cr_assert_eq(json_integer_value(json_object_get(o, "status")), status);
    cr_assert(json_is_string(json_object_get(o, "detail")), "%s", r->body);
    json_decref(o);
}

/* The audit log's size and the stored record versions: every write
 * appends a leaf, so equal sizes mean nothing was written. */
static void state(const struct fx *f, uint64_t out[2])
{
    char *json;
    uint64_t subjects;
    cr_assert_eq(prb_audit_head(f->env, &json), PRB_OK);
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    out[0] = (uint64_t)json_integer_value(json_object_get(o, "tree_size"));
    json_decref(o);
    cr_assert_eq(prb_count(f->env, &subjects, &out[1]), PRB_OK);
}

/* ------------------------------------------------------------ the matrix */

#define B(role) (1u << (role))

struct call {
    const char *method, *path, *body, *ctype;
    unsigned allowed; /* roles; 0: public */
    long ok;          /* status of the first allowed call */
};

/* The dispute the subject opens on record 1-1: subject 1, dispute 1. */
#define DISPUTE "16777217"

Test(server, role_matrix)
{
    struct fx f;
    srv_opts o = {0};
    fx_start(&f, &o);
    char revoke[64];
    snprintf(revoke, sizeof revoke, "/v1/keys/%s/revoke", f.spare_id);
    const struct call calls[] = {
        {"POST", "/v1/records", NEW_RECORD, "application/x-ndjson", B(FURN), 200},
        {"GET", "/v1/subjects/" PERSON, NULL, NULL, B(REV) | B(ADMIN), 200},
        {"GET", "/v1/me", NULL, NULL, B(SUBJ), 200},
        {"POST", "/v1/decisions", "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", NULL,
         B(INQ), 200},
        {"POST", "/v1/me/disputes", "{\"record\":\"1-1\",\"reason\":\"I paid this.\"}", NULL,
         B(SUBJ), 201},
        {"GET", "/v1/disputes", NULL, NULL, B(REV) | B(ADMIN) | B(FURN), 200},
        {"POST", "/v1/disputes/" DISPUTE "/resolve", "{\"outcome\":\"upheld\",\"note\":\"ok\"}",
         NULL, B(REV) | B(FURN), 200},
        {"POST", "/v1/me/reviews", "{\"decision\":\"1-q1\",\"reason\":\"Please look again.\"}",
         NULL, B(SUBJ), 201},
        {"GET", "/v1/reviews", NULL, NULL, B(REV) | B(ADMIN), 200},
        {"POST", "/v1/reviews/1-r1/decide", "{\"outcome\":\"upheld\",\"note\":\"Right.\"}", NULL,
         B(REV), 200},
        {"GET", "/v1/notices", NULL, NULL, B(INQ) | B(ADMIN), 200},
        {"GET", "/v1/keys", NULL, NULL, B(ADMIN), 200},
        {"POST", "/v1/keys", "{\"role\":\"reviewer\",\"name\":\"new\"}", NULL, B(ADMIN), 201},
        {"POST", revoke, NULL, NULL, B(ADMIN), 200},
        {"GET", "/healthz", NULL, NULL, 0, 200},
        {"GET", "/metrics", NULL, NULL, 0, 200},
        {"GET", "/v1/stats", NULL, NULL, 0, 200},
        {"GET", "/v1/lists", NULL, NULL, 0, 200},
        {"GET", "/v1/lists/procurement_exclusion", NULL, NULL, 0, 200},
        {"GET", "/v1/companies/" COMPANY, NULL, NULL, 0, 200},
        {"GET", "/v1/audit/head", NULL, NULL, 0, 200},
        {"GET", "/v1/audit/proof?leaf=0", NULL, NULL, 0, 200},
        {"GET", "/v1/audit/consistency?from=1&to=2", NULL, NULL, 0, 200},
    };
    static const int roles[] = {NONE, ADMIN, FURN, INQ, REV, SUBJ};
    for (size_t c = 0; c < sizeof calls / sizeof *calls; c++) {
        const struct call *k = &calls[c];
        int first = 1;
        for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
            int role = roles[i];
            int allowed = !k->allowed || (k->allowed >> role & 1);
            uint64_t before[2], after[2];
            struct resp r;
            state(&f, before);
            http(&f, k->method, k->path, role == NONE ? NULL : f.tok[role], k->ctype, k->body, &r);
            state(&f, after);
            if (!allowed) {
                assert_problem(&r, role == NONE ? 401 : 403);
                cr_assert_eq(before[0], after[0], "%s %s as role %d wrote to the log", k->method,
                             k->path, role);
                cr_assert_eq(before[1], after[1]);
            } else if (first) {
                cr_assert_eq(r.status, k->ok, "%s %s as role %d: %ld %s", k->method, k->path, role,
                             r.status, r.body);
                first = 0;
            } else {
                cr_assert(r.status != 401 && r.status != 403 && r.status < 500,
                          "%s %s as role %d: %ld %s", k->method, k->path, role, r.status, r.body);
            }
            free(r.body);
        }
    }
    fx_stop(&f);
}

/* The API's maxLength of 2,000 for a reason or a note counts characters
 * (JSON Schema counts code points), and so does the server: a reason of
 * 700 Chinese characters (2,100 bytes), valid by the schema, was refused
 * 400 as over 2,000 bytes. 2,000 are taken, 2,001 refused by the limit
 * in characters, writing nothing. */
Test(server, a_reason_of_2000_characters_in_chinese_is_taken)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    char body[3 * 2001 + 64];
    fx_start(&f, &o);
    int at = snprintf(body, sizeof body, "{\"record\":\"1-1\",\"reason\":\"");
    for (int i = 0; i < 2001; i++, at += 3)
        memcpy(body + at, "\u6b20", 3);
    snprintf(body + at, sizeof body - (size_t)at, "\"}");
    state(&f, before);
    http(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], NULL, body, &r);
    assert_problem(&r, 400);
    cr_assert(strstr(r.body, "the reason is 2001 characters long; at most 2000 characters"), "%s",
              r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[0], after[0], "a refused dispute wrote to the log");
    snprintf(body + at - 3, sizeof body - (size_t)(at - 3), "\"}");
    http(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], NULL, body, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    json_t *d = parse(&r);
    cr_assert_eq(strlen(json_string_value(json_object_get(d, "reason"))), 3 * 2000);
    json_decref(d);
    free(r.body);
    fx_stop(&f);
}

/* What a call names is checked too: the purpose, the decision's subject,
 * the disputed record's furnisher, the list's purposes. */
Test(server, object_checks)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    fx_start(&f, &o);
    state(&f, before);
    http(&f, "POST", "/v1/decisions", f.tok[INQ_P], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    assert_problem(&r, 403);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[0], after[0]);
    /* A decision about the person; the company's subject may not ask a
     * review of it, the person may. */
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    state(&f, before);
    http(&f, "POST", "/v1/me/reviews", f.tok[SUBJ_B], NULL,
         "{\"decision\":\"1-q1\",\"reason\":\"mine?\"}", &r);
    assert_problem(&r, 403);
    free(r.body);
    /* A dispute of bank-a's record: the court may not resolve it. */
    http(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], NULL,
         "{\"record\":\"1-1\",\"reason\":\"wrong\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    free(r.body);
    state(&f, before);
    http(&f, "POST", "/v1/disputes/" DISPUTE "/resolve", f.tok[FURN_B], NULL,
         "{\"outcome\":\"deleted\"}", &r);
    assert_problem(&r, 404);
    char theirs[512];
    snprintf(theirs, sizeof theirs, "%s", r.body);
    free(r.body);
    /* In the same words as a dispute that is not there: the court cannot
     * tell whose records are disputed. */
    http(&f, "POST", "/v1/disputes/999999/resolve", f.tok[FURN_B], NULL,
         "{\"outcome\":\"deleted\"}", &r);
    assert_problem(&r, 404);
    cr_assert_str_eq(r.body, theirs);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[0], after[0]);
    /* The court sees no dispute of its records; bank-a sees this one. */
    http(&f, "GET", "/v1/disputes", f.tok[FURN_B], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    json_t *a = parse(&r);
    cr_assert_eq(json_array_size(a), 0);
    json_decref(a);
    free(r.body);
    http(&f, "GET", "/v1/disputes?open=true", f.tok[FURN], NULL, NULL, &r);
    a = parse(&r);
    cr_assert_eq(json_array_size(a), 1, "%s", r.body);
    json_decref(a);
    free(r.body);
    /* The dispute says who resolved it, not only in which role. */
    http(&f, "POST", "/v1/disputes/" DISPUTE "/resolve", f.tok[REV], NULL,
         "{\"outcome\":\"upheld\",\"note\":\"the ledger agrees\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    a = parse(&r);
    cr_assert_str_eq(json_string_value(json_object_get(a, "resolved_by")), "reviewer");
    cr_assert_str_eq(json_string_value(json_object_get(a, "resolver")), "rita", "%s", r.body);
    json_decref(a);
    free(r.body);
    /* A purpose-bound list: not without a token, not for a subject, yes
     * for an inquirer whose purpose it serves. */
    http(&f, "GET", "/v1/lists/debtor_register", NULL, NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    http(&f, "GET", "/v1/lists/debtor_register", f.tok[SUBJ], NULL, NULL, &r);
    assert_problem(&r, 403);
    free(r.body);
    http(&f, "GET", "/v1/lists/debtor_register", f.tok[INQ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    /* All lists without a token: the public ones only. */
    http(&f, "GET", "/v1/lists", NULL, NULL, NULL, &r);
    a = parse(&r);
    size_t i;
    json_t *l;
    json_array_foreach(a, i, l)
    {
        cr_assert_str_eq(json_string_value(json_object_get(l, "publication")), "public");
    }
    json_decref(a);
    free(r.body);
    /* A person has no public card, and a person's number finds none
     * before any lookup: the answer is the same for one the register
     * does not hold (cn-rid:11010519780101001X, a valid number). */
    http(&f, "GET", "/v1/companies/" PERSON, NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    char *held = strdup(strstr(r.body, "a company's card"));
    free(r.body);
    http(&f, "GET", "/v1/companies/cn-rid:11010519780101001X", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    cr_assert_str_eq(strstr(r.body, "a company's card"), held);
    free(held);
    free(r.body);
    /* A furnisher writes only as itself. */
    state(&f, before);
    http(&f, "POST", "/v1/records", f.tok[FURN_B], "application/x-ndjson", NEW_RECORD, &r);
    assert_problem(&r, 422);
    cr_assert(strstr(r.body, "body:1: furnisher"), "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[0], after[0]);
    fx_stop(&f);
}

Test(server, tokens)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    fx_start(&f, &o);
    http(&f, "GET", "/v1/me", "prb_notatokenatall", NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    http(&f, "GET", "/healthz", "prb_notatokenatall", NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    /* A revoked key is refused from then on. */
    http(&f, "GET", "/v1/reviews", f.tok[NONE], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    cr_assert_eq(prb_key_revoke(f.env, f.spare_id), PRB_OK);
    http(&f, "GET", "/v1/reviews", f.tok[NONE], NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    /* A key made over the API works, and shows its token once. */
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL,
         "{\"role\":\"inquirer\",\"purposes\":[\"tenancy\"],\"name\":\"landlord-y\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    json_t *k = parse(&r);
    char tok[PRB_TOKEN_MAX];
    snprintf(tok, sizeof tok, "%s", json_string_value(json_object_get(k, "token")));
    json_decref(k);
    free(r.body);
    http(&f, "POST", "/v1/decisions", tok, NULL,
         "{\"purpose\":\"tenancy\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    k = parse(&r);
    cr_assert_str_eq(json_string_value(json_object_get(k, "requester")), "landlord-y", "%s",
                     r.body);
    json_decref(k);
    free(r.body);
    http(&f, "GET", "/v1/keys", f.tok[ADMIN], NULL, NULL, &r);
    cr_assert_null(strstr(r.body, tok), "a listing shows a token");
    cr_assert_null(strstr(r.body, "prb_"));
    free(r.body);
    /* Bad key requests are refused by field. */
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, "{\"role\":\"inquirer\"}", &r);
    assert_problem(&r, 400);
    free(r.body);
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, "{\"role\":\"king\"}", &r);
    assert_problem(&r, 400);
    free(r.body);
    fx_stop(&f);
}

/* A furnisher key is made only for a name a record can carry (1-63 of
 * a-z 0-9 - _ ., the first a letter or digit): before, any 1-64
 * printable characters were taken, and every batch of a key made for
 * "Bank_A!" was then refused whole (422). An unnamed key is "key-ID". */
Test(server, furnisher_key_names_a_furnisher_records_can_carry)
{
    static const char *const bad[] = {
        "Bank_A!", "bank a", "-bank",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    char body[256];
    fx_start(&f, &o);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(body, sizeof body, "{\"role\":\"furnisher\",\"furnisher\":\"%s\"}", bad[i]);
        http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, body, &r);
        assert_problem(&r, 400);
        cr_assert(strstr(r.body, "furnisher"), "%s", r.body);
        free(r.body);
    }
    /* The longest name a record carries is taken, and its batch goes in. */
    char name[64];
    memset(name, 'b', 63);
    name[63] = 0;
    snprintf(body, sizeof body, "{\"role\":\"furnisher\",\"furnisher\":\"%s\"}", name);
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, body, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    json_t *k = parse(&r);
    char tok[PRB_TOKEN_MAX], rec[1024];
    snprintf(tok, sizeof tok, "%s", json_string_value(json_object_get(k, "token")));
    json_decref(k);
    free(r.body);
    snprintf(rec, sizeof rec,
             "{\"furnisher\":\"%s\",\"ref\":\"L-1\",\"subject\":{\"kind\":\"person\",\"id\":"
             "\"" PERSON "\"},\"category\":\"payment_default\",\"status\":\"open\","
             "\"event_date\":\"2026-09-01\",\"settled_date\":null,\"legal_basis\":\"loan "
             "contract 2020-1\",\"fields\":{\"amount\":\"99.00\",\"currency\":\"EUR\"}}\n",
             name);
    http(&f, "POST", "/v1/records", tok, "application/x-ndjson", rec, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    /* Unnamed, a reviewer key is named key-ID. */
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, "{\"role\":\"reviewer\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    k = parse(&r);
    char want[32];
    snprintf(want, sizeof want, "key-%s", json_string_value(json_object_get(k, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(k, "name")), want, "%s", r.body);
    json_decref(k);
    free(r.body);
    fx_stop(&f);
}

/* An id from a request's path, quoted in a refusal, was cut at a byte
 * count that could split a character: the message was not UTF-8, which
 * JSON refuses. */
Test(server, quoted_ids_are_cut_where_a_character_ends)
{
    char *dir, id[64] = "";
    prb_env *env = th_register(&dir);
    int owns = 1;
    for (int i = 0; i < 20; i++)
        strcat(id, "\xe2\x82\xac"); /* 60 bytes of euro signs */
    cr_assert_eq(prb_key_revoke(env, id), PRB_ENOTFOUND);
    const char *m = prb_errmsg(env);
    cr_assert(strstr(m, "no key has id '\xe2\x82\xac"), "%s", m);
    cr_assert_eq(prb_utf8_prefix(m, strlen(m)), strlen(m), "not UTF-8: %s", m);
    char object[200] = "";
    for (int i = 0; i < 30; i++)
        strcat(object, "\xe2\x82\xac"); /* 90 bytes */
    cr_assert_eq(prb_subject_owns(env, "cn-rid:11010519491231002X", object, &owns), PRB_EINVAL);
    m = prb_errmsg(env);
    cr_assert(strstr(m, "is not a decision or record id"), "%s", m);
    cr_assert_eq(prb_utf8_prefix(m, strlen(m)), strlen(m), "not UTF-8: %s", m);
    cr_assert_eq(owns, 0);
    prb_close(env);
    th_rmrf(dir);
}

/* A handle keeps the read transaction of its last token check for the
 * next one: the next check must still see every commit since, whichever
 * handle made it. */
Test(server, token_check_sees_later_commits)
{
    char *dir;
    prb_env *env = th_register(&dir), *other = NULL;
    prb_key spec, made, got;
    char tok[PRB_TOKEN_MAX], tok2[PRB_TOKEN_MAX];
    memset(&spec, 0, sizeof spec);
    spec.role = PRB_ROLE_REVIEWER;
    snprintf(spec.name, sizeof spec.name, "rita");
    cr_assert_eq(prb_key_create(env, &spec, tok, &made), PRB_OK, "%s", prb_errmsg(env));
    /* Checked on the original before it is duplicated: each handle keeps
     * a transaction of its own, not a copy of the other's. */
    cr_assert_eq(prb_key_check(env, tok, &got), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_env_dup(env, &other), PRB_OK);
    cr_assert_eq(prb_key_check(other, tok, &got), PRB_OK, "%s", prb_errmsg(other));
    cr_assert_str_eq(got.id, made.id);
    cr_assert_eq(prb_key_check(env, tok, &got), PRB_OK, "%s", prb_errmsg(env));
    /* A key made after the first check is known to the next one. */
    cr_assert_eq(prb_key_create(env, &spec, tok2, NULL), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_key_check(other, tok2, &got), PRB_OK, "%s", prb_errmsg(other));
    /* A revocation by another handle takes effect at once. */
    cr_assert_eq(prb_key_revoke(env, made.id), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(prb_key_check(other, tok, &got), PRB_ENOTFOUND);
    cr_assert_not_null(strstr(prb_errmsg(other), "revoked"), "%s", prb_errmsg(other));
    cr_assert_eq(prb_key_check(other, "prb_notatokenatall", &got), PRB_ENOTFOUND);
    cr_assert_eq(prb_key_check(other, tok2, &got), PRB_OK, "%s", prb_errmsg(other));
    /* Closed with its transaction kept, before the register it shares. */
    prb_close(other);
    prb_close(env);
    th_rmrf(dir);
}

/* Stores value under token's hash as a key, bypassing prb_key_create:
 * a key made before a check existed. */
static void put_raw_key(prb_env *env, const char *token, const void *value, size_t n)
{
    unsigned char hash[PRB_HASH_LEN];
    MDB_txn *txn;
    prb_sha256(token, strlen(token), hash);
    MDB_val k = {PRB_HASH_LEN, hash}, v = {n, (void *)value};
    cr_assert_eq(mdb_txn_begin(env->mdb, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_put(txn, env->keys, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

/* A key's value of layout 1 (as written until 2026-11-28): no subject
 * number; its length. */
static size_t v1_key(unsigned char *b, int role, const char *name, const char *purposes,
                     const char *subject)
{
    size_t nl = strlen(name), sl = strlen(subject), pl = strlen(purposes), w = 24;
    memset(b, 0, 24);
    b[0] = 1;
    b[1] = (unsigned char)role;
    b[2] = (unsigned char)nl;
    b[4] = (unsigned char)sl;
    b[6] = (unsigned char)pl;
    memcpy(b + w, name, nl + 1);
    w += nl + 1;
    b[w++] = 0; /* no furnisher */
    memcpy(b + w, subject, sl + 1);
    w += sl + 1;
    memcpy(b + w, purposes, pl + 1);
    return w + pl + 1;
}

/* A subject key reads the file of whoever its identifier names. Made for
 * an identifier no subject had, it was later named by an alias a
 * furnisher linked to someone else, and read that person's whole file:
 * now it is made only for a subject of the register (never for a
 * furnisher's own ext: key), keeps the subject's number, and is refused
 * at use when the identifier names another subject. An old key (layout
 * 1, no number) still works, resolved at use. */
Test(server, subject_key_is_bound_to_its_subject)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    prb_key spec, made, got;
    char tok[PRB_TOKEN_MAX], unknown[64], d[18], body[256];
    unsigned char hash[PRB_HASH_LEN], buf[512];
    size_t k_size = 0;
    fx_start(&f, &o);
    snprintf(d, sizeof d, "11010519800101001");
    snprintf(unknown, sizeof unknown, "cn-rid:%s%c", d, prb_ident_cn_rid_check(d));
    memset(&spec, 0, sizeof spec);
    spec.role = PRB_ROLE_SUBJECT;
    snprintf(spec.subject, sizeof spec.subject, "%s", unknown);
    cr_assert_eq(prb_key_create(f.env, &spec, tok, &made), PRB_ENOTFOUND, "%s", prb_errmsg(f.env));
    cr_assert(strstr(prb_errmsg(f.env), "no subject has"), "%s", prb_errmsg(f.env));
    cr_assert_eq(tok[0], 0);
    snprintf(spec.subject, sizeof spec.subject, "ext:bank-a:L-1000");
    cr_assert_eq(prb_key_create(f.env, &spec, tok, &made), PRB_EINVAL, "%s", prb_errmsg(f.env));
    cr_assert(strstr(prb_errmsg(f.env), "furnisher's own key"), "%s", prb_errmsg(f.env));
    /* Over the API too, as the engine's codes. */
    snprintf(body, sizeof body, "{\"role\":\"subject\",\"subject\":\"%s\"}", unknown);
    http(&f, "POST", "/v1/keys", f.tok[ADMIN], NULL, body, &r);
    assert_problem(&r, 404);
    free(r.body);
    /* A key for PERSON keeps its number, and is refused once PERSON's
     * identifier names another subject (its stored number changed
     * here, as no call of the engine can). */
    snprintf(spec.subject, sizeof spec.subject, "%s", PERSON);
    cr_assert_eq(prb_key_create(f.env, &spec, tok, &made), PRB_OK, "%s", prb_errmsg(f.env));
    cr_assert_neq(made.subject_no, 0);
    http(&f, "GET", "/v1/me", tok, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    prb_sha256(tok, strlen(tok), hash);
    {
        MDB_txn *txn;
        MDB_val k = {PRB_HASH_LEN, hash}, v;
        cr_assert_eq(mdb_txn_begin(f.env->mdb, NULL, MDB_RDONLY, &txn), 0);
        cr_assert_eq(mdb_get(txn, f.env->keys, &k, &v), 0);
        cr_assert_lt(v.mv_size, sizeof buf);
        memcpy(buf, v.mv_data, v.mv_size);
        k_size = v.mv_size;
        mdb_txn_abort(txn);
        buf[24] ^= 2; /* another subject's number, not 0 */
        put_raw_key(f.env, tok, buf, k_size);
    }
    cr_assert_eq(prb_key_check(f.env, tok, &got), PRB_ENOTFOUND);
    cr_assert(strstr(prb_errmsg(f.env), "no longer names"), "%s", prb_errmsg(f.env));
    http(&f, "GET", "/v1/me", tok, NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    /* Layout 1: read, resolved at use; an ext: one is refused. */
    size_t n = v1_key(buf, PRB_ROLE_SUBJECT, "old", "", PERSON);
    put_raw_key(f.env, "prb_old-subject-key", buf, n);
    cr_assert_eq(prb_key_check(f.env, "prb_old-subject-key", &got), PRB_OK, "%s",
                 prb_errmsg(f.env));
    cr_assert_eq(got.subject_no, 0);
    http(&f, "GET", "/v1/me", "prb_old-subject-key", NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    n = v1_key(buf, PRB_ROLE_SUBJECT, "old-ext", "", "ext:bank-a:L-1000");
    put_raw_key(f.env, "prb_old-ext-key", buf, n);
    cr_assert_eq(prb_key_check(f.env, "prb_old-ext-key", &got), PRB_ENOTFOUND);
    http(&f, "GET", "/v1/me", "prb_old-ext-key", NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    fx_stop(&f);
}

/* An inquirer asks for a decision by its key's name, and a purpose may
 * list the requesters it takes; a key's purposes were checked only
 * against the policy's purposes, so a key for a purpose its name may not
 * ask for was made, and read the purpose's lists. Now it is refused when
 * made, and a key made before reads no list through such a purpose. */
Test(server, inquirer_purposes_follow_requesters)
{
    char path[700], reg[700], err[256], tok[PRB_TOKEN_MAX], base[64];
    unsigned char buf[256];
    json_error_t jerr;
    json_t *root = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &jerr);
    char *dir = th_tmpdir();
    prb_env *env = NULL;
    prb_key spec, made;
    struct resp r;
    struct fx f;
    srv *s = NULL;
    srv_opts o = {0};
    int64_t now;
    cr_assert_not_null(root, "%s", jerr.text);
    json_object_set_new(json_object_get(json_object_get(root, "purposes"), "tenancy"), "requesters",
                        json_pack("[s]", "landlord-y"));
    snprintf(path, sizeof path, "%s/policy.json", dir);
    cr_assert_eq(json_dump_file(root, path, 0), 0);
    json_decref(root);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    cr_assert_eq(prb_init(reg, path, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    memset(&spec, 0, sizeof spec);
    spec.role = PRB_ROLE_INQUIRER;
    snprintf(spec.purposes, sizeof spec.purposes, "credit,tenancy");
    snprintf(spec.name, sizeof spec.name, "bank-x");
    cr_assert_eq(prb_key_create(env, &spec, tok, &made), PRB_EINVAL);
    cr_assert(strstr(prb_errmsg(env), "tenancy") && strstr(prb_errmsg(env), "bank-x"), "%s",
              prb_errmsg(env));
    spec.name[0] = 0; /* key-ID could never be listed */
    cr_assert_eq(prb_key_create(env, &spec, tok, &made), PRB_EINVAL);
    snprintf(spec.name, sizeof spec.name, "landlord-y");
    cr_assert_eq(prb_key_create(env, &spec, tok, &made), PRB_OK, "%s", prb_errmsg(env));
    cr_assert(prb_key_may_ask(env, &made, "tenancy"));
    cr_assert(!prb_key_may_ask(env, &made, "procurement"));
    /* A key made before the check: bank-x for tenancy alone. */
    size_t n = v1_key(buf, PRB_ROLE_INQUIRER, "bank-x", "tenancy", "");
    put_raw_key(env, "prb_old-inquirer-key", buf, n);
    o.listen = "127.0.0.1:0";
    o.fixed_now = now;
    o.timeout = 1;
    cr_assert_eq(srv_start(env, &o, &s, err, sizeof err), 0, "%s", err);
    memset(&f, 0, sizeof f);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", srv_port(s));
    memcpy(f.base, base, sizeof base);
    http(&f, "GET", "/v1/lists/debtor_register", "prb_old-inquirer-key", NULL, NULL, &r);
    assert_problem(&r, 403);
    free(r.body);
    http(&f, "GET", "/v1/lists", "prb_old-inquirer-key", NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(strstr(r.body, "debtor_register"), "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/lists/debtor_register", tok, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    srv_stop(s, 5);
    prb_close(env);
    th_rmrf(dir);
}

/* A court judgment of bank-a's about the person ident (a ground of the
 * debtor register), ingested on 2026-09-01 and its list entry made on
 * 2026-10-02: the entry is in effect at TH_TODAY. */
static void put_on_debtor_register(struct fx *f, const char *ref, const char *ident)
{
    char line[1024];
    prb_ingest_stats st;
    uint64_t changed;
    snprintf(line, sizeof line,
             "{\"furnisher\":\"bank-a\",\"ref\":\"%s\",\"subject\":{\"kind\":\"person\","
             "\"id\":\"%s\"},\"category\":\"court_judgment\",\"status\":\"open\","
             "\"event_date\":\"2026-08-01\",\"settled_date\":null,\"legal_basis\":\"test\","
             "\"fields\":{\"amount\":\"900.00\",\"currency\":\"EUR\",\"court\":\"AG\","
             "\"case_ref\":\"1 C 1\"}}\n",
             ref, ident);
    th_set_day(f->env, "2026-09-01");
    cr_assert_eq(th_ingest(f->env, "t", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f->env));
    th_set_day(f->env, "2026-10-02"); /* the record in effect: the entry noticed */
    cr_assert_eq(prb_lists_refresh_all(f->env, &changed), PRB_OK, "%s", prb_errmsg(f->env));
    th_set_day(f->env, TH_TODAY);
}

/* Invariants 7 and 8: an inquirer's read of a purpose-bound list is
 * logged, and each member on the page is told who read it, for which
 * purpose and when, in the copy GET /v1/me gives. Before, bank-x read
 * the debtor register and the log's size did not change. A HEAD is told
 * as the GET is (until 2026-11-28 it told no one, though its
 * Content-Length grew with the page). Public lists stay plain reads. */
Test(server, inquirer_list_read_is_told_and_logged)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    size_t i, n = 0;
    json_t *x;
    fx_register(&f);
    put_on_debtor_register(&f, "J-1", PERSON);
    put_on_debtor_register(&f, "J-2", "cn-rid:11010519780101001X");
    fx_serve(&f, &o);
    state(&f, before);
    http(&f, "GET", "/v1/lists/reliable_taxpayer", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/lists/reliable_taxpayer", f.tok[INQ_P], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/lists", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0], "a public list's read wrote");
    /* Reads that tell no one wait for no writer: with LMDB's one writer
     * held here, an inquirer's GET and HEAD of a public list are answered
     * (before, each waited for it: the test hung). */
    MDB_txn *held;
    cr_assert_eq(prb_wtxn_begin(f.env, &held), PRB_OK, "%s", prb_errmsg(f.env));
    http(&f, "GET", "/v1/lists/reliable_taxpayer", f.tok[INQ_P], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "HEAD", "/v1/lists/reliable_taxpayer", f.tok[INQ_P], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    prb_wtxn_abort(f.env, held);
    state(&f, after);
    cr_assert_eq(after[0], before[0], "a read that showed no one wrote");
    http(&f, "HEAD", "/v1/lists/debtor_register?limit=1", f.tok[INQ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 1, "a HEAD of a purpose-bound list was not logged");
    http(&f, "GET", "/v1/lists/debtor_register?limit=1", f.tok[INQ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"subject\": \"" PERSON "\"") &&
                  !strstr(r.body, "11010519780101001X"),
              "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 2, "one member shown, one notice logged");
    http(&f, "GET", "/v1/me", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *doc = parse(&r);
    free(r.body);
    json_array_foreach(json_object_get(doc, "notices"), i, x)
    {
        const char *text = json_string_value(json_object_get(x, "text"));
        if (strcmp(json_string_value(json_object_get(x, "kind")), "list_read"))
            continue;
        n++;
        cr_assert_str_eq(json_string_value(json_object_get(x, "about")), "debtor_register");
        cr_assert(strstr(text, "bank-x") && strstr(text, "credit, tenancy") &&
                      strstr(text, TH_TODAY),
                  "%s", text);
    }
    json_decref(doc);
    cr_assert_eq(n, 2);
    /* The second person was on neither page. */
    char *json;
    cr_assert_eq(prb_subject_copy(f.env, "cn-rid:11010519780101001X", PRB_COPY_JSON, &json), PRB_OK,
                 "%s", prb_errmsg(f.env));
    cr_assert_null(strstr(json, "list_read"), "%s", json);
    free(json);
    /* All lists at once read the debtor register too. */
    http(&f, "GET", "/v1/lists?limit=1", f.tok[INQ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 3, "all lists' read was not logged");
    fx_stop(&f);
}

/* The number of PERSON's notices of kind in GET /v1/me, and the text of
 * the last into last (if not NULL). */
static size_t my_notices(struct fx *f, const char *kind, char *last, size_t cap)
{
    struct resp r;
    size_t i, n = 0;
    json_t *x;
    http(f, "GET", "/v1/me", f->tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *doc = parse(&r);
    free(r.body);
    json_array_foreach(json_object_get(doc, "notices"), i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "kind")), kind))
            continue;
        n++;
        if (last)
            snprintf(last, cap, "%s", json_string_value(json_object_get(x, "text")));
    }
    json_decref(doc);
    return n;
}

/* Invariants 7 and 8 for staff: a reviewer's or an admin's read of a
 * file, or of a purpose-bound list a subject is on, is logged and told
 * to the subject, naming the key (every key has a name: key-ID unless
 * given one) and the role. Before, both were plain reads: nothing logged, nothing in the
 * copy. A HEAD is told as the GET is: its status said whether a person
 * was on file and its Content-Length grew with each record, and until
 * 2026-11-28 it told no one. The subject's own copy tells no one. */
Test(server, staff_reads_are_told_and_logged)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    char text[512], want[128];
    fx_register(&f);
    put_on_debtor_register(&f, "J-1", PERSON);
    fx_serve(&f, &o);
    cr_assert_eq(my_notices(&f, "file_read", NULL, 0), 0);
    snprintf(want, sizeof want, "rita, a reviewer of the register, read your whole file on %s.",
             TH_TODAY);
    state(&f, before);
    http(&f, "HEAD", "/v1/me", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    http(&f, "HEAD", "/v1/subjects/cn-rid:11010519780101001X", f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 404);
    free(r.body);
    state(&f, after);
    cr_assert(after[0] == before[0] && after[1] == before[1],
              "the subject's own HEAD, or a HEAD of no one, wrote");

    /* The reviewer's HEAD: told and logged as its GET would be. */
    http(&f, "HEAD", "/v1/subjects/" PERSON, f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 1, "a HEAD of a file was not logged");
    cr_assert_eq(my_notices(&f, "file_read", text, sizeof text), 1);
    cr_assert_str_eq(text, want);
    http(&f, "HEAD", "/v1/lists/debtor_register", f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 2, "a HEAD of a list was not logged");
    cr_assert_eq(my_notices(&f, "list_read", NULL, 0), 1);

    /* The reviewer's read: the copy it is given shows it already. */
    http(&f, "GET", "/v1/subjects/" PERSON, f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, want), "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 3, "one read, one notice logged");
    cr_assert_eq(my_notices(&f, "file_read", text, sizeof text), 2);
    cr_assert_str_eq(text, want);
    /* The admin's key was given no name: it is named after its id. */
    char *keys;
    cr_assert_eq(prb_keys_json(f.env, &keys), PRB_OK);
    json_t *ka = json_loads(keys, 0, NULL), *k;
    free(keys);
    size_t i;
    const char *admin_id = NULL;
    json_array_foreach(ka, i,
                       k) if (!strcmp(json_string_value(json_object_get(k, "role")), "admin"))
        admin_id = json_string_value(json_object_get(k, "id"));
    cr_assert_not_null(admin_id);
    http(&f, "GET", "/v1/subjects/" PERSON "?format=text", f.tok[ADMIN], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    cr_assert_eq(my_notices(&f, "file_read", text, sizeof text), 3);
    snprintf(want, sizeof want, "key-%s, an administrator of the register, read your whole file",
             admin_id);
    json_decref(ka);
    cr_assert(strstr(text, want), "%s", text);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 4, "GET /v1/me wrote");

    /* The reviewer reads the debtor register: PERSON is told. */
    http(&f, "GET", "/v1/lists/debtor_register", f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, PERSON), "%s", r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[0], before[0] + 5);
    cr_assert_eq(my_notices(&f, "list_read", text, sizeof text), 2);
    cr_assert(strstr(text, "rita, a reviewer of the register, read the black list "
                           "debtor_register"),
              "%s", text);
    fx_stop(&f);
}

/* A record of PERSON's from bank-a with ref and legal basis as given. */
static char *array_record(char *buf, size_t n, const char *ref, const char *basis)
{
    snprintf(buf, n,
             "{\n  \"furnisher\": \"bank-a\",\r\n  \"ref\": \"%s\",\n  \"subject\": {\"kind\": "
             "\"person\", \"id\": \"" PERSON "\"},\n  \"category\": \"payment_default\",\n"
             "  \"status\": \"open\", \"event_date\": \"2026-09-01\",\n  \"legal_basis\": "
             "\"%s\",\n  \"fields\": {\"amount\": \"5.00\", \"currency\": \"EUR\"}\n}",
             ref, basis);
    return buf;
}

/* A JSON array of records is split by its frame alone (jsonarray.c):
 * commas and brackets inside strings and line breaks between tokens are
 * no matter, a broken frame is a 400 naming the byte, and a bad element
 * is refused on its own line, as in NDJSON. */
Test(server, record_arrays)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    char a[900], b[900], body[2400];
    fx_start(&f, &o);
    snprintf(body, sizeof body, "\n[ %s ,\n%s\n]\n",
             array_record(a, sizeof a, "A-1", "loan, [clause 3] {annex} \\\"B\\\""),
             array_record(b, sizeof b, "A-2", "x],[{\\\\"));
    state(&f, before);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/json", body, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *p = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(p, "accepted")), 2, "%s", r.body);
    json_decref(p);
    free(r.body);
    state(&f, after);
    cr_assert_eq(after[1], before[1] + 2);
    /* The texts are kept as written. */
    http(&f, "GET", "/v1/subjects/" PERSON, f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"loan, [clause 3] {annex} \\\"B\\\"\""), "%s", r.body);
    cr_assert(strstr(r.body, "\"x],[{\\\\\""), "%s", r.body);
    free(r.body);

    /* The second element is bad: refused on line 2, nothing written. */
    snprintf(body, sizeof body, "[%s, {\"furnisher\": \"bank-a\"}]",
             array_record(a, sizeof a, "A-3", "loan"));
    state(&f, before);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/json", body, &r);
    assert_problem(&r, 422);
    p = parse(&r);
    const char *e = json_string_value(json_array_get(json_object_get(p, "errors"), 0));
    cr_assert(e && !strncmp(e, "body:2:", 7), "%s", r.body);
    json_decref(p);
    free(r.body);

    static const struct {
        const char *body, *where;
    } bad[] = {
        {"[", "byte 2: the array is not closed"},
        {"[{\"a\":1}", "byte 9: the array is not closed"},
        {"[{\"a\":1},]", "byte 10: element 2 is missing"},
        {"[,{\"a\":1}]", "byte 2: element 1 is missing"},
        {"[{\"a\":1}] x", "byte 11: something follows the array"},
        {"[{\"a\":[1}]", "byte 9: } closes nothing opened"},
        {"[{\"a\":\"x\ty\"}]", "byte 9: a control character in a string"},
        {"[{\"a\":\"x", "byte 9: a string is not closed"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
         "byte 66: element 1 nests deeper than 64"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "POST", "/v1/records", f.tok[FURN], "application/json", bad[i].body, &r);
        assert_problem(&r, 400);
        p = parse(&r);
        const char *d = json_string_value(json_object_get(p, "detail"));
        cr_assert(d && strstr(d, bad[i].where), "%s: %s", bad[i].body, r.body);
        json_decref(p);
        free(r.body);
    }
    state(&f, after);
    cr_assert(before[0] == after[0] && before[1] == after[1], "a refused array wrote");
    fx_stop(&f);
}

Test(server, strict_bodies)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    static const char *const bad[] = {
        "{",
        "[]",
        "\"credit\"",
        "{\"purpose\":1,\"subject\":\"" PERSON "\"}",
        "{\"purpose\":\"credit\",\"subject\":[\"" PERSON "\"]}",
        "{\"purpose\":\"credit\"}",
        "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\",\"extra\":true}",
        "{\"purpose\":\"credit\",\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}",
        "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"} trailing",
        "",
    };
    fx_start(&f, &o);
    state(&f, before);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL, bad[i], &r);
        assert_problem(&r, 400);
        free(r.body);
    }
    http(&f, "POST", "/v1/decisions", f.tok[INQ], "text/plain",
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    assert_problem(&r, 415);
    free(r.body);
    /* Engine refusals: a malformed identifier, nobody, no such purpose. */
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"cn-rid:110105194912310021\"}", &r);
    assert_problem(&r, 400);
    cr_assert(strstr(r.body, "PRB_EINVAL"), "%s", r.body);
    free(r.body);
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"cn-rid:11010519491231003X\"}", &r);
    cr_assert(r.status == 400 || r.status == 404, "%ld %s", r.status, r.body);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[0], after[0]);
    /* Unknown query parameters, bad numbers, a body where none goes. */
    http(&f, "GET", "/v1/audit/proof?leaf=1&x=2", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    http(&f, "GET", "/v1/audit/proof?leaf=-1", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    http(&f, "GET", "/v1/audit/proof", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    http(&f, "GET", "/v1/audit/proof?leaf=99999", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    /* No route, and a route that takes another method. */
    http(&f, "GET", "/v1/nothing", NULL, NULL, NULL, &r);
    assert_problem(&r, 404);
    free(r.body);
    http(&f, "GET", "/v1/decisions", f.tok[INQ], NULL, NULL, &r);
    assert_problem(&r, 405);
    cr_assert_str_eq(r.allow, "POST");
    free(r.body);
    /* Errors name no path of the host. */
    http(&f, "GET", "/v1/subjects/cn-rid:11010519491231003X", f.tok[REV], NULL, NULL, &r);
    cr_assert(r.status == 404 || r.status == 400, "%s", r.body);
    cr_assert_null(strstr(r.body, f.dir), "%s", r.body);
    cr_assert_null(strstr(r.body, "/tmp"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* HEAD is answered as the GET without its body: every general-purpose
 * server must support it (RFC 9110 9.1), and a load balancer's health
 * check or curl -I was answered 405. A route that writes takes none. */
Test(server, head_is_a_get_without_its_body)
{
    static const char *const paths[] = {"/healthz", "/v1/openapi.json"};
    struct fx f;
    srv_opts o = {0};
    struct resp g, h;
    uint64_t before[2], after[2];
    fx_start(&f, &o);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        http(&f, "GET", paths[i], NULL, NULL, NULL, &g);
        http(&f, "HEAD", paths[i], NULL, NULL, NULL, &h);
        cr_assert_eq(g.status, 200, "GET %s: %ld", paths[i], g.status);
        cr_assert_eq(h.status, 200, "HEAD %s: %ld %s", paths[i], h.status, h.allow);
        cr_assert_eq(h.len, 0, "HEAD %s had a body", paths[i]);
        cr_assert_str_eq(h.ctype, g.ctype, "HEAD %s", paths[i]);
        cr_assert_str_eq(h.clen, g.clen, "HEAD %s", paths[i]);
        cr_assert_eq(strtoull(h.clen, NULL, 10), g.len, "HEAD %s", paths[i]);
        free(g.body);
        free(h.body);
    }
    /* A route that writes is not called by a HEAD, and a GET route is
     * offered with one. */
    state(&f, before);
    http(&f, "HEAD", "/v1/records", f.tok[FURN], NULL, NULL, &h);
    cr_assert_eq(h.status, 405);
    cr_assert_str_eq(h.allow, "POST");
    free(h.body);
    state(&f, after);
    cr_assert(before[0] == after[0] && before[1] == after[1], "a HEAD wrote");
    http(&f, "DELETE", "/healthz", NULL, NULL, NULL, &h);
    assert_problem(&h, 405);
    cr_assert_str_eq(h.allow, "GET, HEAD");
    free(h.body);
    http(&f, "DELETE", "/v1/keys", f.tok[ADMIN], NULL, NULL, &h);
    assert_problem(&h, 405);
    cr_assert_str_eq(h.allow, "GET, HEAD, POST");
    free(h.body);
    fx_stop(&f);
}

/* A subject known by an ext: key that holds '/' (ident.c allows it) is
 * reached at /v1/subjects/{id}, the '/' sent as it is or as %2F: the
 * last parameter of the subject and company routes takes the rest of
 * the path. Before, the router cut the path at every '/', and such a
 * subject was 404 however it was written. */
Test(server, identifier_with_a_slash_is_reachable)
{
    static const char rec[] =
        "{\"furnisher\":\"bank-a\",\"ref\":\"S-1\",\"subject\":{\"kind\":\"person\",\"id\":"
        "\"ext:bank-a:2024/0001\"},\"category\":\"payment_default\",\"status\":\"open\","
        "\"event_date\":\"2026-09-01\",\"settled_date\":null,\"legal_basis\":\"loan contract "
        "2020-1\",\"fields\":{\"amount\":\"99.00\",\"currency\":\"EUR\"}}\n";
    static const char *const paths[] = {"/v1/subjects/ext:bank-a:2024/0001",
                                        "/v1/subjects/ext:bank-a:2024%2F0001",
                                        "/v1/subjects/ext%3Abank-a%3A2024%2F0001"};
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    prb_ingest_stats st;
    fx_register(&f);
    cr_assert_eq(th_ingest(f.env, "slash", rec, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f.env));
    fx_serve(&f, &o);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        http(&f, "GET", paths[i], f.tok[ADMIN], NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s: %ld %s", paths[i], r.status, r.body);
        cr_assert(strstr(r.body, "ext:bank-a:2024/0001"), "%s", r.body);
        free(r.body);
    }
    /* What follows is the identifier's, for the handler to judge: a
     * trailing '/' is another ext: key, not found; a cn-rid holds none. */
    http(&f, "GET", "/v1/subjects/ext:bank-a:2024/0001/", f.tok[ADMIN], NULL, NULL, &r);
    assert_problem(&r, 404);
    cr_assert(strstr(r.body, "ext:bank-a:2024/0001/: no subject has this identifier"), "%s",
              r.body);
    free(r.body);
    http(&f, "GET", "/v1/subjects/" PERSON "/x", f.tok[ADMIN], NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    http(&f, "GET", "/v1/companies/ext:bank-a:2024/0001", NULL, NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    /* An empty parameter is still no route. */
    http(&f, "GET", "/v1/subjects/", f.tok[ADMIN], NULL, NULL, &r);
    assert_problem(&r, 404);
    free(r.body);
    fx_stop(&f);
}

Test(server, records)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    fx_start(&f, &o);
    /* A JSON array: the second element is bad, so nothing is written and
     * its position is the line the error names. */
    static const char arr[] = "[" NEW_RECORD ", {\"furnisher\":\"bank-a\"}]";
    uint64_t before[2], after[2];
    state(&f, before);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/json", arr, &r);
    assert_problem(&r, 422);
    json_t *p = parse(&r);
    cr_assert_eq(json_array_size(json_object_get(p, "errors")), 1, "%s", r.body);
    cr_assert(
        !strncmp(json_string_value(json_array_get(json_object_get(p, "errors"), 0)), "body:2:", 7),
        "%s", r.body);
    json_decref(p);
    free(r.body);
    state(&f, after);
    cr_assert_eq(before[1], after[1]);
    /* With skip_bad the good one goes in. */
    http(&f, "POST", "/v1/records?skip_bad=true", f.tok[FURN], "application/json", arr, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    p = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(p, "accepted")), 1);
    cr_assert_eq(json_integer_value(json_object_get(p, "rejected")), 1);
    json_decref(p);
    free(r.body);
    /* Past the first thousand, errors are counted, not listed. */
    {
        char many[2600];
        memset(many, 0, sizeof many);
        for (size_t i = 0; i < 1200; i++)
            memcpy(many + 2 * i, "1\n", 2);
        http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", many, &r);
        assert_problem(&r, 422);
        p = parse(&r);
        cr_assert_eq(json_array_size(json_object_get(p, "errors")), 1000, "%s", r.body);
        cr_assert_eq(json_integer_value(json_object_get(p, "errors_not_listed")), 200);
        cr_assert_eq(json_integer_value(json_object_get(p, "rejected")), 1200);
        cr_assert(strstr(json_string_value(json_object_get(p, "detail")), "1200 bad records"), "%s",
                  r.body);
        json_decref(p);
        free(r.body);
    }
    /* A Windows-1252 CSV: its bad header is listed, not dropped (jansson
     * refuses a string that is not UTF-8, and errors was [] with nothing
     * said of the one bad record). */
    http(&f, "POST", "/v1/records", f.tok[FURN], "text/csv",
         "furnisher,ref,subject_kind,subject_id,category,status,event_date,settled_date,"
         "legal_basis,amount,W\xe4hrung\n",
         &r);
    assert_problem(&r, 422);
    p = parse(&r);
    cr_assert_eq(json_array_size(json_object_get(p, "errors")), 1, "%s", r.body);
    cr_assert_null(json_object_get(p, "errors_not_listed"), "%s", r.body);
    cr_assert(strstr(json_string_value(json_array_get(json_object_get(p, "errors"), 0)),
                     "body:1: header: "),
              "%s", r.body);
    json_decref(p);
    free(r.body);
    json_t *m = srv_json_message("column 'W\xe4hrung'");
    cr_assert_str_eq(json_string_value(m), "column 'W\\xE4hrung'");
    json_decref(m);
    /* Re-sent as NDJSON: unchanged. */
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", NEW_RECORD, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"unchanged\": 1"), "%s", r.body);
    free(r.body);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/xml", "<r/>", &r);
    assert_problem(&r, 415);
    free(r.body);
    http(&f, "POST", "/v1/records?skip_bad=maybe", f.tok[FURN], "application/x-ndjson", NEW_RECORD,
         &r);
    assert_problem(&r, 400);
    free(r.body);
    fx_stop(&f);
}

/* A connection to the server; with small set, one that advertises a
 * small receive window and segment size, as a slow client on a real
 * network does (on loopback the kernel would otherwise take megabytes of
 * an answer into its buffers at once). */
static int dial_as(const struct fx *f, int small)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcv = 2048, mss = 536;
    cr_assert(fd >= 0);
    if (small) {
        cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv), 0);
        cr_assert_eq(setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss), 0);
    }
    a.sin_family = AF_INET;
    a.sin_port = htons(srv_port(f->s));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int dial(const struct fx *f)
{
    return dial_as(f, 0);
}

/* A connection from another loopback address (127.0.0.2 and so on: all
 * of 127/8 is the loopback), with a small receive window when small. */
static int dial_from(const struct fx *f, const char *from, int small)
{
    struct sockaddr_in a = {0}, b = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcv = 2048;
    cr_assert(fd >= 0);
    if (small)
        cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv), 0);
    b.sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, from, &b.sin_addr), 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&b, sizeof b), 0, "%s: %s", from, strerror(errno));
    a.sin_family = AF_INET;
    a.sin_port = htons(srv_port(f->s));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Sends text and waits for the server to close; returns the seconds. */
static double until_closed(int fd, const char *text)
{
    char buf[4096];
    struct timeval tv = {15, 0};
    double t0 = now_s();
    cr_assert_eq(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
    return now_s() - t0;
}

static long long gauge_of(const struct fx *f, const char *name, long long want);

Test(server, body_limit)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.max_body = 1024;
    fx_start(&f, &o);
    char *big = malloc(4096);
    memset(big, ' ', 4095);
    big[0] = '{';
    big[4094] = '}';
    big[4095] = 0;
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL, big, &r);
    assert_problem(&r, 413);
    free(r.body);
    /* Unauthenticated, the body is not even looked at. */
    http(&f, "POST", "/v1/decisions", NULL, NULL, big, &r);
    assert_problem(&r, 401);
    free(r.body);
    free(big);
    /* A decision sent in chunks, padded with spaces past the limit: the
     * connection is closed, nothing answered (libmicrohttpd can queue no
     * answer mid-body), a 413 counted and no inquiry stored. A body that
     * was no decision would have been refused all the same (400), so
     * this one could be answered 200 if the limit were not kept. */
    static const char obj[] = "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"";
    size_t asked = th_ninquiries(f.env, PERSON), pad = 4000, blen = strlen(obj) + pad + 1;
    char *chunked = malloc(8192);
    int n = snprintf(chunked, 8192,
                     "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "%zx\r\n%s",
                     f.tok[INQ], blen, obj);
    memset(chunked + n, ' ', pad);
    memcpy(chunked + n + pad, "}\r\n0\r\n\r\n", 9);
    int fd = dial(&f);
    ssize_t sent = send(fd, chunked, (size_t)n + pad + 8, MSG_NOSIGNAL);
    cr_assert_gt(sent, 0);
    char reply[256] = "";
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t got = recv(fd, reply, sizeof reply - 1, 0);
    cr_assert(got <= 0, "a chunked body past the limit was answered: %s", reply);
    close(fd);
    free(chunked);
    cr_assert_eq(gauge_of(&f,
                          "probity_http_requests_total{route=\"/v1/decisions\",method=\"POST\","
                          "status=\"413\"}",
                          2),
                 2, "the chunked body past the limit was not counted 413");
    cr_assert_eq(th_ninquiries(f.env, PERSON), asked);
    /* The server still answers. */
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    fx_stop(&f);
}

Test(server, half_sent_requests)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.threads = 1; /* one thread: a stuck connection would stall everything */
    o.timeout = 1;
    fx_start(&f, &o);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"purpose\"",
             f.tok[INQ]);
    int a = dial(&f), b = dial(&f);
    /* Headers cut off, and a body cut off. */
    cr_assert_eq(send(a, "GET /healthz HTTP/1.1\r\nHo", 25, MSG_NOSIGNAL), 25);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "a half-sent request held up the server");
    free(r.body);
    double t = until_closed(b, head);
    cr_assert(t < 10, "a half-sent body held its connection for %.1f s", t);
    t = until_closed(a, "");
    cr_assert(t < 10);
    close(a);
    close(b);
    fx_stop(&f);
}

/* The lines of g that bank-a reported, into a; how many. */
static size_t lines_of_bank_a(struct th_buf *g, struct th_buf *a)
{
    size_t n = 0;
    for (char *p = g->p, *e; p < g->p + g->n; p = e + 1) {
        e = strchr(p, '\n');
        cr_assert_not_null(e);
        *e = 0;
        if (strstr(p, "\"furnisher\":\"bank-a\"")) {
            th_collect(a, p, (size_t)(e - p));
            th_collect(a, "\n", 1);
            n++;
        }
        *e = '\n';
    }
    return n;
}

/* Opens a connection and sends a request's head announcing a body of
 * length bytes (chunked if length is 0), none of it yet. */
static int send_head(const struct fx *f, const char *method, const char *path, const char *token,
                     size_t length)
{
    char head[512], auth[128] = "", len[64];
    if (token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
    if (length)
        snprintf(len, sizeof len, "Content-Length: %zu\r\n", length);
    else
        snprintf(len, sizeof len, "Transfer-Encoding: chunked\r\n");
    int n =
        snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n", method, path, auth,
                 strcmp(path, "/v1/records") ? "Content-Type: application/json\r\n"
                                             : "Content-Type: application/x-ndjson\r\n",
                 len);
    int fd = dial(f);
    cr_assert_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    cr_assert_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The status of the answer on fd, 0 if the server closed it or sent
 * nothing within 15 s; Retry-After's value into retry (if not NULL). */
static int status_on(int fd, char retry[16])
{
    char buf[2048] = "";
    size_t got = 0;
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (got < sizeof buf - 1 && !strstr(buf, "\r\n\r\n")) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = 0;
    }
    if (retry) {
        const char *ra = strstr(buf, "Retry-After: ");
        snprintf(retry, 16, "%.*s", ra ? (int)strcspn(ra + 13, "\r\n") : 0, ra ? ra + 13 : "");
    }
    return got >= 12 && !strncmp(buf, "HTTP/1.1 ", 9) ? atoi(buf + 9) : 0;
}

/* A Content-Length of 2^63 or more is larger than any body a call
 * takes: 413 at once, before any of it is read. Before, the server's
 * parser refused it as too large a number and left the length at 0, so
 * neither the 413 nor the hold on the body memory came, and the server
 * read up to --max-body and closed the connection, answering nothing. */
Test(server, content_length_past_2_63)
{
    static const char *const lengths[] = {"9223372036854775808", "18446744073709551614"};
    struct fx f;
    srv_opts o = {0};
    char head[512];
    fx_start(&f, &o);
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        int n = snprintf(head, sizeof head,
                         "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %s\r\n\r\n",
                         f.tok[INQ], lengths[i]);
        int fd = dial(&f);
        send_all(fd, head, (size_t)n);
        double t0 = now_s();
        cr_assert_eq(status_on(fd, NULL), 413, "Content-Length: %s", lengths[i]);
        cr_assert_lt(now_s() - t0, 5, "Content-Length: %s answered late", lengths[i]);
        close(fd);
    }
    fx_stop(&f);
}

/* Whether the server has closed fd, waiting at most ms. */
static int closed_within(int fd, int ms)
{
    char c;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* 0 is the server's close; errno means something only on -1 (a
     * timeout's EAGAIN from an earlier call may still be in it). */
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Sends piece on fd every 0.5 s until the server closes fd, for at most
 * 8 s after t0: the seconds from t0 to the close, or -1 if it stayed
 * open. */
static double trickle(int fd, const char *piece, double t0)
{
    size_t n = strlen(piece);
    while (now_s() - t0 < 8)
        if (send(fd, piece, n, MSG_NOSIGNAL) != (ssize_t)n || closed_within(fd, 500))
            return now_s() - t0;
    return -1;
}

/* A head trickled in a byte at a time is never idle: past
 * --header-timeout its connection is closed all the same, and counted.
 * Before, with the idle timeout alone, such a connection lasted as long
 * as its 8 KiB of head could be made to (about 20 hours). A client that
 * is merely slow between quick requests keeps its connection. */
Test(server, trickled_head_is_cut)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.timeout = 3;
    o.header_timeout = 2;
    fx_start(&f, &o);
    int fd = dial(&f);
    cr_assert_eq(send(fd, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL), 23);
    /* A header line every 0.5 s, well inside the idle timeout, for up to
     * 8 s: four times the deadline. */
    double t0 = now_s(), t = trickle(fd, "X-A: b\r\n", t0);
    close(fd);
    cr_assert_geq(t, 0, "a trickled head kept its connection for 8 s");
    /* The deadline: the idle timeout the head might have waited for, and
     * the head's own. */
    cr_assert_geq(t, 4.9, "cut after %.1f s, before the deadline", t);
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_http_heads_cut_total 1\n"), "%s", r.body);
    free(r.body);
    /* Three quick requests 1.5 s apart on one connection: 3 s in all,
     * past the deadline, but each head is on time. */
    fd = dial(&f);
    const char *line = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        if (i)
            cr_assert(!closed_within(fd, 1500), "a connection with quick heads was closed");
        send_all(fd, line, strlen(line));
        cr_assert_eq(status_on(fd, NULL), 200, "request %d", i + 1);
    }
    close(fd);
    fx_stop(&f);
}

/* A connection kept alive between requests waits for the next head, and
 * may wait up to the idle timeout: that wait is not a slow head. With
 * the head's clock started at the last answer, an idle time over
 * --header-timeout cut the connection (and counted a head cut) though
 * --timeout allowed it. */
Test(server, idle_between_requests_is_not_a_slow_head)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.timeout = 6;
    o.header_timeout = 1;
    fx_start(&f, &o);
    int fd = dial(&f);
    const char *line = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, line, strlen(line));
    cr_assert_eq(status_on(fd, NULL), 200);
    cr_assert(!closed_within(fd, 3500), "an idle connection was cut before its idle timeout");
    send_all(fd, line, strlen(line));
    cr_assert_eq(status_on(fd, NULL), 200);
    close(fd);
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_http_heads_cut_total 0\n"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* The deadline's arithmetic: a head begun after the clock was read, on
 * another thread, is new, not 2^64 µs old. */
Test(server, head_begun_after_the_clock_is_not_overdue)
{
    cr_assert(srv_head_overdue(10000000, 1000000, 2000000));
    cr_assert(!srv_head_overdue(10000000, 9000000, 2000000));
    cr_assert(!srv_head_overdue(10000000, 0, 2000000), "no head being read");
    cr_assert(!srv_head_overdue(10000000, 10000001, 2000000), "a head begun after now");
    cr_assert(!srv_head_overdue(10000000, 10000000, 0));
}

/* A body trickled in is never idle either: a subject (whose token any
 * person may have) held a connection for days with a 64-KiB dispute sent
 * a byte every few seconds. Past --body-timeout it must keep up
 * --body-rate bytes a second, or its connection is closed, counted, and
 * nothing written; a body that keeps up is taken however long it takes. */
Test(server, trickled_body_is_cut)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t before[2], after[2];
    const char *dispute = "{\"record\":\"1-1\",\"reason\":\"I paid this.\"}";
    char body[6000];
    o.timeout = 5;
    o.body_timeout = 1;
    o.body_rate = 100;
    fx_start(&f, &o);
    state(&f, before);
    int fd = send_head(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], sizeof body);
    double t0 = now_s();
    send_all(fd, dispute, 20);
    /* A byte every 0.5 s, well inside the idle timeout, for up to 8 s:
     * its deadline is 1.2 s and a little more. */
    double t = trickle(fd, " ", t0);
    close(fd);
    cr_assert_geq(t, 0, "a trickled body kept its connection for 8 s");
    cr_assert_geq(t, 1.2, "cut after %.1f s, before the deadline", t);
    state(&f, after);
    cr_assert_eq(before[0], after[0], "a body cut off wrote something");
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_http_bodies_cut_total 1\n"), "%s", r.body);
    cr_assert(strstr(r.body, "\nprobity_http_heads_cut_total 0\n"), "%s", r.body);
    free(r.body);
    /* 6,000 bytes at 4,000 a second: 1.5 s, past the grace, but always
     * ahead of the rate. */
    memset(body, ' ', sizeof body);
    memcpy(body, dispute, strlen(dispute));
    fd = send_head(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], sizeof body);
    t0 = now_s();
    for (size_t at = 0; at < sizeof body; at += 400) {
        if (at)
            cr_assert(!closed_within(fd, 100), "a body that kept up was cut");
        send_all(fd, body + at, 400);
    }
    cr_assert_eq(status_on(fd, NULL), 201);
    cr_assert_geq(now_s() - t0, 1.3);
    close(fd);
    state(&f, after);
    cr_assert_gt(after[0], before[0], "the dispute was not written");
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_http_bodies_cut_total 1\n"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* The token is checked on a request's head, and its call may run much
 * later: a 16-MiB batch may take an hour to come. A key revoked while a
 * body was coming is checked again at the call when the head was let in
 * over a second before, and the call is refused as a revoked token is;
 * a live key's slow body is stored. */
Test(server, key_revoked_during_a_slow_body)
{
    struct fx f;
    srv_opts o = {0};
    uint64_t before[2], after[2];
    char tok[PRB_TOKEN_MAX], id[17];
    size_t n = strlen(NEW_RECORD), half = n / 2;
    o.timeout = 10;
    fx_start(&f, &o);
    new_key(&f, PRB_ROLE_FURNISHER, "bank-a", NULL, NULL, "bank-a-2", tok, id);
    int fd = send_head(&f, "POST", "/v1/records", tok, n);
    send_all(fd, NEW_RECORD, half);
    /* Long enough that the head was let in, and is over a second old
     * when the call runs: nothing here depends on more. */
    usleep(1200000);
    cr_assert_eq(prb_key_revoke(f.env, id), PRB_OK, "%s", prb_errmsg(f.env));
    state(&f, before); /* the revocation is a leaf */
    send_all(fd, NEW_RECORD + half, n - half);
    cr_assert_eq(status_on(fd, NULL), 401);
    close(fd);
    state(&f, after);
    cr_assert_eq(before[0], after[0], "a revoked key's batch was written");
    cr_assert_eq(before[1], after[1]);
    /* A live key's body as slow is stored. */
    fd = send_head(&f, "POST", "/v1/records", f.tok[FURN], n);
    send_all(fd, NEW_RECORD, half);
    usleep(1200000);
    send_all(fd, NEW_RECORD + half, n - half);
    cr_assert_eq(status_on(fd, NULL), 200);
    close(fd);
    state(&f, after);
    cr_assert_gt(after[0], before[0], "a live key's slow batch was not written");
    fx_stop(&f);
}

/* ------------------------------------ a key revoked while its call waits */

/* The calls below are let in with a live key and then wait for LMDB's
 * one writer, held here as a long write holds it (a 16-MiB batch, for
 * seconds); the key is revoked while they wait. Each call checks its key
 * again in the write transaction that would store its effect, so a
 * revocation committed before that write refuses it, however soon after
 * its head the call ran. Until 2026-11-28 the key was checked again only
 * when the call started, and only past a second: a decision queued
 * behind a batch was stored, counted against its subject and answered
 * 200, and a list or file read told its subjects of a reader whose key
 * was gone. */

/* Tokens' buckets that hold one request and do not refill in a test's
 * time: a key's bucket is empty once a head with it was let in
 * (head_let_in). */
static void one_request_each(srv_opts *o)
{
    o->rate = 0.001;
    o->burst = 1;
}

/* Waits until the server has let in a head with the key id, and so has
 * checked it: its bucket was taken from right after the check. */
static void head_let_in(const struct fx *f, const char *id)
{
    char bucket[64];
    snprintf(bucket, sizeof bucket, "key:%s", id);
    while (!srv_limiter_peek(f->s->limiter, bucket))
        poll(NULL, 0, 1);
}

/* Revokes the key of token in held, the write transaction the test holds,
 * and commits it: the revocation lands while the calls let in wait for
 * the writer. Stored as prb_key_revoke stores it, without its leaf:
 * prb_key_revoke itself would wait for the writer beside the calls, in
 * an order LMDB does not promise. */
static void revoke_and_release(struct fx *f, MDB_txn *held, const char *token)
{
    unsigned char hash[PRB_HASH_LEN], buf[4096];
    MDB_val k = {PRB_HASH_LEN, hash}, v;
    prb_sha256(token, strlen(token), hash);
    cr_assert_eq(mdb_get(held, f->env->keys, &k, &v), 0);
    cr_assert(v.mv_size >= 24 && v.mv_size <= sizeof buf);
    memcpy(buf, v.mv_data, v.mv_size);
    memset(buf + 16, 0, 8);
    buf[16] = 1; /* revoked: 1970-01-01T00:00:01Z */
    v.mv_data = buf;
    cr_assert_eq(mdb_put(held, f->env->keys, &k, &v, 0), 0);
    cr_assert_eq(prb_wtxn_commit(f->env, held), PRB_OK, "%s", prb_errmsg(f->env));
}

/* Sends a request without a body on a connection of its own. */
static int send_get(const struct fx *f, const char *path, const char *token)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", path, token);
    int fd = dial(f);
    send_all(fd, head, (size_t)n);
    return fd;
}

static int send_decision(const struct fx *f, const char *token)
{
    static const char body[] = "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}";
    int fd = send_head(f, "POST", "/v1/decisions", token, strlen(body));
    send_all(fd, body, strlen(body));
    return fd;
}

/* How many of PERSON's inquiries requester made. */
static size_t asked_by(const struct fx *f, const char *requester)
{
    json_t *a = th_inquiries(f->env, PERSON), *x;
    size_t i, n = 0;
    json_array_foreach(a, i, x) n +=
        !strcmp(json_string_value(json_object_get(x, "requester")), requester);
    json_decref(a);
    return n;
}

/* Two inquirers' decisions wait for the writer; one's key is revoked
 * meanwhile. It is answered 401 and nothing of it is stored (no inquiry
 * counts against the subject); the other's is stored. */
Test(server, key_revoked_while_a_decision_waits_for_the_writer)
{
    struct fx f;
    char tok[PRB_TOKEN_MAX], id[17], tok2[PRB_TOKEN_MAX], id2[17];
    srv_opts o = {0};
    MDB_txn *held;
    int st;
    one_request_each(&o);
    fx_start(&f, &o);
    new_key(&f, PRB_ROLE_INQUIRER, NULL, "credit", NULL, "bank-y", tok, id);
    new_key(&f, PRB_ROLE_INQUIRER, NULL, "credit", NULL, "bank-z", tok2, id2);
    size_t all = th_ninquiries(f.env, PERSON);
    cr_assert_eq(prb_wtxn_begin(f.env, &held), PRB_OK, "%s", prb_errmsg(f.env));
    int fd = send_decision(&f, tok), fd2 = send_decision(&f, tok2);
    head_let_in(&f, id);
    head_let_in(&f, id2);
    revoke_and_release(&f, held, tok);
    st = status_on(fd, NULL);
    cr_assert_eq(st, 401, "answered %d", st);
    st = status_on(fd2, NULL);
    cr_assert_eq(st, 200, "answered %d", st);
    close(fd);
    close(fd2);
    cr_assert_eq(asked_by(&f, "bank-y"), 0, "a revoked key's decision was stored");
    cr_assert_eq(asked_by(&f, "bank-z"), 1);
    cr_assert_eq(th_ninquiries(f.env, PERSON), all + 1);
    fx_stop(&f);
}

/* A GET of path with token (key id) waits for the writer, held here; the
 * key is revoked meanwhile. It is answered 401 and tells PERSON nothing
 * (no notice of kind). */
static void revoked_read_tells_no_one(struct fx *f, const char *path, const char *token,
                                      const char *id, const char *kind)
{
    MDB_txn *held;
    size_t n;
    cr_assert_eq(prb_wtxn_begin(f->env, &held), PRB_OK, "%s", prb_errmsg(f->env));
    int fd = send_get(f, path, token);
    head_let_in(f, id);
    revoke_and_release(f, held, token);
    int st = status_on(fd, NULL);
    cr_assert_eq(st, 401, "%s answered %d", path, st);
    close(fd);
    json_decref(th_copy_notices(f->env, PERSON, kind, &n, NULL));
    cr_assert_eq(n, 0, "a revoked key's %s was told", kind);
}

/* An inquirer's read of a purpose-bound list and a reviewer's read of a
 * file wait for the writer to tell the subject; their keys are revoked
 * meanwhile. Each is answered 401 and tells no one. */
Test(server, key_revoked_while_a_read_waits_to_tell)
{
    struct fx f;
    char inq[PRB_TOKEN_MAX], inq_id[17], rev[PRB_TOKEN_MAX], rev_id[17];
    uint64_t before[2], after[2];
    fx_register(&f);
    put_on_debtor_register(&f, "J-1", PERSON);
    srv_opts o = {0};
    one_request_each(&o);
    fx_serve(&f, &o);
    new_key(&f, PRB_ROLE_INQUIRER, NULL, "credit", NULL, "bank-y", inq, inq_id);
    new_key(&f, PRB_ROLE_REVIEWER, NULL, NULL, NULL, "rina", rev, rev_id);
    state(&f, before);

    revoked_read_tells_no_one(&f, "/v1/lists/debtor_register", inq, inq_id, "list_read");
    revoked_read_tells_no_one(&f, "/v1/subjects/" PERSON, rev, rev_id, "file_read");
    state(&f, after);
    cr_assert_eq(after[0], before[0], "a revoked key's read wrote");
    fx_stop(&f);
}

/* Files PERSON n accounts more in f's register and reads the file as a
 * reviewer, at once and whole (its Content-Length): its size. */
static size_t big_file(struct fx *f, int n)
{
    struct th_buf recs = {0};
    struct resp r;
    prb_ingest_stats st;
    char line[1024];
    for (int i = 0; i < n; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "S-%d", i);
        th_account(line, sizeof line, PERSON, ref);
        th_collect(&recs, line, strlen(line));
    }
    cr_assert_eq(th_ingest(f->env, "many", recs.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f->env));
    free(recs.p);
    http(f, "GET", "/v1/subjects/" PERSON, f->tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(r.cc, CURLE_OK, "%s", curl_easy_strerror(r.cc));
    cr_assert_eq(r.len, strtoull(r.clen, NULL, 10), "%zu bytes of %s", r.len, r.clen);
    free(r.body);
    return r.len;
}

/* The value of metric name (a counter or gauge without labels) in
 * /metrics now. */
static uint64_t metric(const struct fx *f, const char *name)
{
    struct resp r;
    char line[128];
    snprintf(line, sizeof line, "\n%s ", name);
    http(f, "GET", "/metrics", NULL, NULL, NULL, &r);
    const char *m = strstr(r.body, line);
    cr_assert_not_null(m, "no %s: %s", name, r.body);
    uint64_t n = strtoull(m + strlen(line), NULL, 10);
    free(r.body);
    return n;
}

/* An answer read slowly holds its memory as long as it is being read,
 * and a client that takes a few bytes every few seconds is never idle:
 * past --body-timeout an answer must be taken at --body-rate, or its
 * connection is closed and counted. A client that reads at once gets all
 * of it. */
Test(server, slowly_read_answer_is_cut)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    char ask[512], buf[4096];
    o.timeout = 10;
    o.body_timeout = 2;
    o.body_rate = 1 << 17;
    fx_start(&f, &o);
    /* A file of over half a MiB, some times what the kernel's buffers
     * hold: 1,000 records of one subject. Its deadline is 2 s from when
     * it is queued, and 1 s for every 128 KiB, some 7 s: a client that
     * reads at once (big_file) takes it in a fraction of that even on a
     * loaded machine, and one that reads 5 KiB a second never keeps up.
     * (Megabytes at 512 KiB a second were cut under big_file's reader
     * with the machine loaded, ASan slowing it.) */
    size_t whole = big_file(&f, 1000);
    cr_assert_gt(whole, (size_t)512 << 10, "the file is only %zu bytes", whole);
    uint64_t deadline = 2000000u + (uint64_t)whole * 1000000u / (1 << 17);
    /* Read 1 KiB every 0.2 s, far behind but never idle (each read opens
     * the window a little, so the server sends a little), asking each
     * time whether the answer has been cut, until it has: on the server's
     * clock, from before the request was sent, so that an answer queued
     * later still and cut no sooner than its deadline is seen cut only
     * past it, however slowly this runs (a server that never cuts it
     * fails the test by its timeout). Then read what is left as fast as
     * it comes: the server's buffers still hold what they held when it
     * was cut, and nothing more. */
    int fd = dial_as(&f, 1);
    int n = snprintf(ask, sizeof ask,
                     "GET /v1/subjects/" PERSON " HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     f.tok[REV]);
    uint64_t t0 = srv_mono_us(), cut;
    send_all(fd, ask, (size_t)n);
    size_t got = 0;
    ssize_t k;
    while (!(cut = metric(&f, "probity_http_answers_cut_total"))) {
        cr_assert_lt(got, whole, "the whole answer came, read slowly");
        if ((k = recv(fd, buf, 1024, MSG_DONTWAIT)) > 0)
            got += (size_t)k;
        usleep(200000);
    }
    uint64_t seen = srv_mono_us() - t0;
    cr_assert_eq(cut, 1);
    cr_assert_gt(seen, deadline, "cut %.2f s after it was asked for, before its deadline of %.2f s",
                 seen / 1e6, deadline / 1e6);
    struct timeval tv = {8, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while ((k = recv(fd, buf, sizeof buf, 0)) > 0)
        got += (size_t)k;
    close(fd);
    cr_assert_lt(got, whole, "the whole answer (%zu bytes of %zu) came", got, whole);
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_http_answers_cut_total 1\n"), "%s", r.body);
    cr_assert(strstr(r.body, "\nprobity_http_bodies_cut_total 0\n"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* A public inclusion proof is of a leaf's hash: it does not say what the
 * leaf logs (a subject's number, what was done about it and when, an
 * identifier's unsalted hash), which anyone could otherwise read for
 * every leaf. It still checks offline; reviewers and admins get the leaf
 * and its event, whose hash is the public one. */
Test(server, public_proofs_name_no_one)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r, rv;
    char key[64], msg[256], path[96];
    fx_start(&f, &o);
    cr_assert_eq(prb_audit_public_key(f.env, key), PRB_OK);
    http(&f, "GET", "/v1/audit/head", NULL, NULL, NULL, &r);
    json_t *h = parse(&r);
    long long size = json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    free(r.body);
    cr_assert_gt(size, 4);
    for (long long i = 0; i < size; i++) {
        snprintf(path, sizeof path, "/v1/audit/proof?leaf=%lld", i);
        http(&f, "GET", path, NULL, NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        json_t *p = parse(&r);
        cr_assert_not_null(json_object_get(p, "leaf_hash"), "%s", r.body);
        cr_assert_null(json_object_get(p, "leaf"), "leaf %lld: %s", i, r.body);
        cr_assert_null(json_object_get(p, "event"), "leaf %lld: %s", i, r.body);
        cr_assert_eq(prb_audit_check(key, r.body, msg, sizeof msg), PRB_OK, "%s", msg);
        http(&f, "GET", path, f.tok[REV], NULL, NULL, &rv);
        cr_assert_eq(rv.status, 200, "%s", rv.body);
        json_t *q = parse(&rv);
        cr_assert_not_null(json_object_get(q, "event"), "%s", rv.body);
        cr_assert_not_null(json_object_get(q, "leaf"), "%s", rv.body);
        cr_assert_str_eq(json_string_value(json_object_get(q, "leaf_hash")),
                         json_string_value(json_object_get(p, "leaf_hash")));
        cr_assert_eq(prb_audit_check(key, rv.body, msg, sizeof msg), PRB_OK, "%s", msg);
        json_decref(p);
        json_decref(q);
        free(r.body);
        free(rv.body);
    }
    /* Another token's caller is the public. */
    http(&f, "GET", "/v1/audit/proof?leaf=1", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(strstr(r.body, "\"event\""), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* The gauge of answer bytes held, from /metrics. */
static size_t answer_bytes(const struct fx *f)
{
    return (size_t)metric(f, "probity_http_answer_bytes_held");
}

/* Waits (at most 10 s) for the gauge to come to at least (above) or at
 * most (!above) want; the gauge. An answer is given back just after its
 * last byte is sent, so a client may be quicker to ask again. */
static size_t answer_bytes_until(const struct fx *f, size_t want, int above)
{
    double t0 = now_s();
    size_t n;
    while (!((n = answer_bytes(f)) >= want ? above || n == want : !above) && now_s() - t0 < 10)
        usleep(20000);
    return n;
}

/* Asks for path from address from, with the token; the status, the
 * whole answer's length and its body's first bytes into body. */
static int ask_from(const struct fx *f, const char *from, const char *path, const char *token,
                    size_t *len, char *body, size_t n)
{
    char ask[512], buf[65536];
    int fd = dial_from(f, from, 0), status;
    size_t got = 0;
    ssize_t k;
    int m = snprintf(ask, sizeof ask,
                     "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     path, token);
    send_all(fd, ask, (size_t)m);
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    body[0] = 0;
    while ((k = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
        if (!got) {
            buf[k] = 0;
            const char *b = strstr(buf, "\r\n\r\n");
            snprintf(body, n, "%s", b ? b + 4 : "");
            status = strncmp(buf, "HTTP/1.1 ", 9) ? 0 : atoi(buf + 9);
        }
        got += (size_t)k;
    }
    close(fd);
    *len = got;
    return got ? status : 0;
}

/* What a told read writes, as it stands: the audit log's size, and
 * PERSON's notices of kind. */
static void told_now(const struct fx *f, const char *kind, uint64_t *leaves, size_t *notices)
{
    uint64_t st[2];
    state(f, st);
    *leaves = st[0];
    json_decref(th_copy_notices(f->env, PERSON, kind, notices, NULL));
}

/* Since told_now found leaves and notices, reads of kind were told
 * times: as many audit leaves and notices more. */
static void told_since(const struct fx *f, const char *kind, uint64_t leaves, size_t notices,
                       unsigned times)
{
    uint64_t l;
    size_t n;
    told_now(f, kind, &l, &n);
    cr_assert_eq(l, leaves + times, "%u reads of kind %s logged %llu audit leaves", times, kind,
                 (unsigned long long)(l - leaves));
    cr_assert_eq(n, notices + times, "%u reads of kind %s told the subject %zu times", times, kind,
                 n - notices);
}

/* Answers read slowly hold their memory until they are sent: 256
 * connections from one address could hold a 2.5-MB list page each for
 * ten minutes, and ask again. Large answers being sent are bounded
 * (--answer-memory), one address's to a quarter of it though its first
 * always goes; past either, 503 with Retry-After, saying which; small
 * answers always go; and what a connection held is given back when it
 * ends. A read that tells its subject (a reviewer's of a file, an
 * inquirer's of a purpose-bound list) is refused before it writes or
 * not at all: until 2026-11-28 the file was read, its subject told and
 * the read logged, then the answer refused 503, "nothing was done", and
 * each retry told the subject again. */
Test(server, answer_memory)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    char line[1024], ask[512], body[512];
    uint64_t leaves;
    size_t len, reads, lists;
    o.timeout = 30;
    o.per_address = 256;
    /* The file's size first, on a server with the default bound. */
    fx_start(&f, &o);
    size_t whole = big_file(&f, 1500);
    cr_assert_gt(whole, (size_t)700 << 10, "the file is only %zu bytes", whole);
    cr_assert_eq(answer_bytes_until(&f, 0, 0), 0, "an answer sent is still held");
    srv_stop(f.s, 5);
    put_on_debtor_register(&f, "J-1", PERSON);
    /* Room for two and a half such answers: one address's share is
     * less than one. */
    o.answer_memory = whole * 5 / 2;
    char err[256];
    cr_assert_eq(srv_start(f.env, &o, &f.s, err, sizeof err), 0, "%s", err);
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%u", srv_port(f.s));

    int n = snprintf(ask, sizeof ask,
                     "GET /v1/subjects/" PERSON " HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     f.tok[REV]);
    /* Two readers that read nothing, from two addresses. */
    int a = dial_from(&f, "127.0.0.1", 1);
    send_all(a, ask, (size_t)n);
    cr_assert_geq(answer_bytes_until(&f, whole, 1), whole);
    told_now(&f, "file_read", &leaves, &reads);
    cr_assert_eq(
        ask_from(&f, "127.0.0.1", "/v1/subjects/" PERSON, f.tok[REV], &len, body, sizeof body), 503,
        "%s", body);
    cr_assert(strstr(body, "this address's answers being sent hold as much memory"), "%s", body);
    told_since(&f, "file_read", leaves, reads, 0);
    int b = dial_from(&f, "127.0.0.2", 1);
    send_all(b, ask, (size_t)n);
    cr_assert_geq(answer_bytes_until(&f, 2 * whole, 1), 2 * whole);
    /* Room is left for a large answer, if not for a whole file: a
     * third reader's file is told, and once told it goes, past the
     * bound. */
    int c = dial_from(&f, "127.0.0.3", 1);
    send_all(c, ask, (size_t)n);
    cr_assert_geq(answer_bytes_until(&f, 3 * whole, 1), 3 * whole);
    told_now(&f, "file_read", &leaves, &reads);
    cr_assert_eq(
        ask_from(&f, "127.0.0.4", "/v1/subjects/" PERSON, f.tok[REV], &len, body, sizeof body), 503,
        "%s", body);
    cr_assert(strstr(body, "the answers being sent hold as much memory as the server allows"), "%s",
              body);
    told_since(&f, "file_read", leaves, reads, 0);
    /* An inquirer's read of a purpose-bound list tells its members
     * before its answer is made, whatever its size: refused too. */
    told_now(&f, "list_read", &leaves, &lists);
    cr_assert_eq(
        ask_from(&f, "127.0.0.4", "/v1/lists/debtor_register", f.tok[INQ], &len, body, sizeof body),
        503, "%s", body);
    told_since(&f, "list_read", leaves, lists, 0);
    /* Small answers go all the same, and so does a write's large one:
     * a batch's 2,000 per-line errors (its call has run). */
    cr_assert_eq(ask_from(&f, "127.0.0.4", "/healthz", f.tok[REV], &len, body, sizeof body), 200);
    struct th_buf bad = {0};
    snprintf(line, sizeof line, "{\"furnisher\":\"bank-a\",\"%0100d\":1}\n", 0);
    for (int i = 0; i < 2000; i++)
        th_collect(&bad, line, strlen(line));
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", bad.p, &r);
    free(bad.p);
    assert_problem(&r, 422);
    cr_assert_gt(r.len, (size_t)64 << 10, "the errors are only %zu bytes", r.len);
    free(r.body);
    http(&f, "GET", "/v1/companies/" COMPANY, NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    /* A reader gone gives its answer's memory back, and the next is
     * answered whole, and told once. */
    close(a);
    size_t left = answer_bytes_until(&f, 2 * whole + (64 << 10), 0);
    cr_assert_leq(left, 2 * whole + (64 << 10), "a closed connection's answer is still held: %zu",
                  left);
    told_now(&f, "file_read", &leaves, &reads);
    cr_assert_eq(
        ask_from(&f, "127.0.0.4", "/v1/subjects/" PERSON, f.tok[REV], &len, body, sizeof body), 200,
        "%s", body);
    cr_assert_gt(len, whole);
    told_since(&f, "file_read", leaves, reads, 1);
    cr_assert_eq(status_on(c, NULL), 200);
    close(b);
    close(c);
    cr_assert_eq(answer_bytes_until(&f, 0, 0), 0);
    fx_stop(&f);
}

/* libmicrohttpd decodes %00 in a path to a NUL byte, which ends the C
 * string the router reads: GET /healthz%00junk was answered as
 * /healthz, and a reviewer's read of PERSON%00junk read PERSON's file
 * and told PERSON so. A path holding a NUL byte is refused 400 before
 * anything is read or written; one in a query parameter still is
 * refused by its name. */
Test(server, path_with_a_nul_byte_is_refused)
{
    static const struct {
        const char *path;
        int tok;
    } bad[] = {
        {"/healthz%00junk", NONE},
        {"/v1/subjects/" PERSON "%00junk", REV},
        {"/v1/subjects/" PERSON "%00", REV},
        {"/v1/lists/debtor_register%00x", INQ},
        {"/v1/audit/head%00?x=1", NONE},
        /* A NUL in the query too, decoded before or after the path. */
        {"/v1/subjects/" PERSON "%00junk?format=%00", REV},
    };
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    uint64_t leaves;
    size_t reads, lists;
    fx_register(&f);
    put_on_debtor_register(&f, "J-1", PERSON);
    fx_serve(&f, &o);
    told_now(&f, "file_read", &leaves, &reads);
    told_now(&f, "list_read", &leaves, &lists);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "GET", bad[i].path, bad[i].tok == NONE ? NULL : f.tok[bad[i].tok], NULL, NULL, &r);
        assert_problem(&r, 400);
        cr_assert(strstr(r.body, "NUL byte"), "%s: %s", bad[i].path, r.body);
        free(r.body);
    }
    told_since(&f, "file_read", leaves, reads, 0);
    told_since(&f, "list_read", leaves, lists, 0);
    /* The query's own check names the parameter. */
    http(&f, "GET", "/v1/disputes?limit=5%00x", f.tok[REV], NULL, NULL, &r);
    assert_problem(&r, 400);
    cr_assert(strstr(r.body, "query parameter 'limit' holds a NUL byte"), "%s", r.body);
    free(r.body);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* An Idempotency-Key is a Structured Field string (RFC 8941), whose
 * parameters are ignored; a bare token is taken as the string it spells;
 * other items and lists are refused. */
Test(server, idempotency_key_syntax)
{
    static const char *good[][2] = {
        {"\"order-17\"", "order-17"},
        {"  \"a b\"\t", "a b"},
        {"\"q\\\"x\\\\y\"", "q\"x\\y"},
        {"\"k\";v=1", "k"},
        {"\"k\"; v=\"a;b\";w;x=?1;y=:AQ==:;z=-1.5", "k"},
        {"order-17", "order-17"},
        {"*tok:en/1", "*tok:en/1"},
        {"tok;p=1", "tok"},
    };
    static const char *bad[] = {
        "",         "\"\"",        "\"open",       "17",           "-1",     "?1",
        ":AQ==:",   "a b",         "\"a\", \"b\"", "a,b",          "\"k\";", "\"k\";P=1",
        "\"k\";v=", "\"k\";v=\"x", "\"\\n\"",      "\"tab\there\""};
    char out[32];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_assert_eq(srv_idem_key(good[i][0], out, sizeof out), 0, "refused: %s", good[i][0]);
        cr_assert_str_eq(out, good[i][1], "%s", good[i][0]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_neq(srv_idem_key(bad[i], out, sizeof out), 0, "taken: %s", bad[i]);
    cr_assert_neq(srv_idem_key("\"01234567890123456789012345678901\"", out, sizeof out), 0,
                  "longer than the room");
    cr_assert_eq(srv_idem_key("\"0123456789012345678901234567890\"", out, sizeof out), 0);
}

/* The body's deadline: the grace, then a second for every rate bytes. */
Test(server, body_deadline_arithmetic)
{
    cr_assert(!srv_body_overdue(10000000, 0, 0, 1000000, 100), "no body being read");
    cr_assert(!srv_body_overdue(10000000, 10000001, 0, 1000000, 100), "a body begun after now");
    cr_assert(!srv_body_overdue(10000000, 9000000, 0, 1000000, 100));
    cr_assert(srv_body_overdue(10000001, 9000000, 0, 1000000, 100));
    cr_assert(!srv_body_overdue(10000001, 9000000, 1, 1000000, 100));
    cr_assert(srv_body_overdue(20000000, 9000000, 999, 1000000, 100));
    cr_assert(!srv_body_overdue(20000000, 9000000, 1000, 1000000, 100));
    /* A body's largest count at a byte a second: 34 years, no overflow. */
    uint64_t years = ((uint64_t)1 << 30) * 1000000u;
    cr_assert(!srv_body_overdue(years + 1, 1, (uint64_t)1 << 30, 0, 1));
    cr_assert(srv_body_overdue(years + 2, 1, (uint64_t)1 << 30, 0, 1));
}

/* Bodies are refused by what the route takes, before any of it is read:
 * none on a GET, at most 64 KiB for a JSON object, only a batch of
 * records up to --max-body. Before, a GET to /v1/stats (no token needed)
 * had its body buffered up to 16 MiB before it was refused. */
Test(server, body_limits_by_route)
{
    struct fx f;
    srv_opts o = {0};
    struct th_buf g = {0}, a = {0};
    struct resp r;
    int64_t today;
    o.timeout = 30; /* so that an answer within seconds was not the timeout */
    fx_start(&f, &o);
    int fd = send_head(&f, "GET", "/v1/stats", NULL, 100000000);
    cr_assert_eq(status_on(fd, NULL), 400, "a body on a GET was not refused unread");
    close(fd);
    fd = send_head(&f, "GET", "/healthz", NULL, 0);
    cr_assert_eq(status_on(fd, NULL), 400, "a chunked body on a GET was not refused unread");
    close(fd);
    fd = send_head(&f, "POST", "/v1/decisions", f.tok[INQ], (64 << 10) + 1);
    cr_assert_eq(status_on(fd, NULL), 413, "a decision's body over 64 KiB was not refused");
    close(fd);
    /* An empty body where none goes is no body. */
    http(&f, "GET", "/v1/stats", NULL, NULL, "", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    /* A batch of records may be far larger. */
    prb_parse_now(TH_TODAY, &today);
    prb_gen_opts go = {400, 0, 11, (int32_t)(today / 86400)};
    cr_assert_eq(prb_gen(&go, th_collect, &g), 0);
    size_t n = lines_of_bank_a(&g, &a);
    cr_assert(a.n > (64 << 10) && a.n < (16 << 20), "%zu bytes", a.n);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", a.p, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *st = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(st, "accepted")), (json_int_t)n, "%s", r.body);
    json_decref(st);
    free(r.body);
    free(g.p);
    free(a.p);
    fx_stop(&f);
}

/* A gauge of /metrics (name), once it reads want or 10 s have passed:
 * the server sees connections open and close in its own time. */
static long long gauge_of(const struct fx *f, const char *name, long long want)
{
    struct resp r;
    char line[128];
    long long v = -1;
    snprintf(line, sizeof line, "\n%s ", name);
    for (double t0 = now_s(); v != want && now_s() - t0 < 10;) {
        http(f, "GET", "/metrics", NULL, NULL, NULL, &r);
        cr_assert_eq(r.status, 200);
        const char *p = strstr(r.body, line);
        cr_assert_not_null(p, "no gauge %s", name);
        v = atoll(p + strlen(line));
        free(r.body);
    }
    return v;
}

static long long body_bytes_held(const struct fx *f, long long want)
{
    return gauge_of(f, "probity_http_body_bytes_held", want);
}

/* The bodies all requests hold at once are bounded (--body-memory): past
 * the bound a body is refused with 503 and Retry-After before it is read,
 * or, sent in chunks, its connection is closed; what a finished or
 * abandoned request held is given back. */
Test(server, body_memory)
{
    struct fx f;
    srv_opts o = {0};
    char retry[16], chunk[32], *pad = malloc(40000), bank_c[PRB_TOKEN_MAX];
    struct resp r;
    o.max_body = 40000;
    o.body_memory = 100000;
    o.timeout = 30;
    fx_start(&f, &o);
    new_key(&f, PRB_ROLE_FURNISHER, "bank-c", NULL, NULL, NULL, bank_c, NULL);
    memset(pad, '\n', 40000); /* blank lines: no records */
    /* Two furnishers: one token's batches hold at most a share. */
    int a = send_head(&f, "POST", "/v1/records", f.tok[FURN], 40000);
    int b = send_head(&f, "POST", "/v1/records", f.tok[FURN_B], 40000);
    send_all(a, pad, 1000);
    send_all(b, pad, 1000);
    cr_assert_eq(body_bytes_held(&f, 80000), 80000);
    /* The two hold 80,000 of 100,000 bytes: a third batch does not fit. */
    int c = send_head(&f, "POST", "/v1/records", bank_c, 40000);
    cr_assert_eq(status_on(c, retry), 503);
    cr_assert_str_eq(retry, "1");
    close(c);
    /* A decision's small body still does. */
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    /* A chunked body is held as it comes: past the bound, closed. */
    int d = send_head(&f, "POST", "/v1/records", bank_c, 0);
    for (int i = 0; i < 3; i++) {
        int k = snprintf(chunk, sizeof chunk, "%x\r\n", 9000);
        if (send(d, chunk, (size_t)k, MSG_NOSIGNAL) != k ||
            send(d, pad, 9000, MSG_NOSIGNAL) != 9000 || send(d, "\r\n", 2, MSG_NOSIGNAL) != 2)
            break;
    }
    /* Its end is sent too: a batch still being read would be answered
     * now, but this one's connection was closed at the bound. */
    (void)send(d, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    cr_assert(closed_within(d, 5000), "a chunked body past the bound was answered or waited for");
    close(d);
    /* One of the two finishes (a batch of one record, padded), the other
     * is abandoned: both give back what they held. */
    memcpy(pad + 1000, NEW_RECORD, strlen(NEW_RECORD));
    send_all(a, pad + 1000, 39000);
    cr_assert_eq(status_on(a, NULL), 200);
    close(a);
    close(b);
    cr_assert_eq(body_bytes_held(&f, 0), 0, "what the bodies held was not given back");
    a = send_head(&f, "POST", "/v1/records", f.tok[FURN], 40000);
    b = send_head(&f, "POST", "/v1/records", f.tok[FURN_B], 40000);
    cr_assert_eq(body_bytes_held(&f, 80000), 80000);
    c = send_head(&f, "POST", "/v1/records", bank_c, 40000);
    cr_assert_eq(status_on(c, NULL), 503);
    close(a);
    close(b);
    close(c);
    free(pad);
    /* A bound below the largest batch would refuse every such batch; by
     * default the bound is at least the largest batch. */
    srv_opts o2 = {.listen = "127.0.0.1:0", .max_body = 2000, .body_memory = 1000};
    srv *s2;
    char err[256];
    cr_assert_eq(srv_start(f.env, &o2, &s2, err, sizeof err), -1);
    cr_assert(strstr(err, "less than the largest body"), "%s", err);
    o2.max_body = (size_t)1 << 30;
    o2.body_memory = 0;
    cr_assert_eq(srv_start(f.env, &o2, &s2, err, sizeof err), 0, "%s", err);
    srv_stop(s2, 0);
    fx_stop(&f);
}

/* The table of shares: an id is held to its cap, and an id new to a
 * full table is refused as such (-2), not as over its share; a slot
 * given back takes a new id again. With any_first (the answers' table),
 * an id holding nothing may take more than the cap, and nothing more
 * then. */
Test(server, share_table)
{
    srv_holders t;
    char id[16];
    srv_holders_init(&t, 100, 0);
    cr_assert_eq(srv_holders_add(&t, "a", 60), 0);
    cr_assert_eq(srv_holders_add(&t, "a", 41), -1, "past the cap");
    cr_assert_eq(srv_holders_add(&t, "a", 40), 0, "up to the cap");
    cr_assert_eq(srv_holders_add(&t, "b", 101), -1, "a first holding past the cap");
    for (int i = 1; i < SRV_HOLDERS; i++) {
        snprintf(id, sizeof id, "t%d", i);
        cr_assert_eq(srv_holders_add(&t, id, 1), 0, "id %d", i);
    }
    cr_assert_eq(srv_holders_add(&t, "late", 1), -2, "an id new to a full table");
    cr_assert_eq(srv_holders_add(&t, "t7", 1), 0, "an id in the table still adds");
    srv_holders_sub(&t, "t7", 2);
    cr_assert_eq(srv_holders_add(&t, "late", 100), 0, "a slot given back");
    srv_holders_sub(&t, "a", 100);
    cr_assert_eq(srv_holders_add(&t, "a", 100), 0, "a's share given back");
    srv_holders_destroy(&t);

    srv_holders_init(&t, 100, 1);
    cr_assert_eq(srv_holders_add(&t, "ip:127.0.0.1", 250), 0, "a first answer of any size");
    cr_assert_eq(srv_holders_add(&t, "ip:127.0.0.1", 1), -1, "and nothing more then");
    srv_holders_sub(&t, "ip:127.0.0.1", 250);
    cr_assert_eq(srv_holders_add(&t, "ip:127.0.0.1", 60), 0);
    cr_assert_eq(srv_holders_add(&t, "ip:127.0.0.1", 41), -1, "past the cap");
    srv_holders_destroy(&t);
}

/* One token's batches hold at most a share of the body memory (a
 * quarter, or one largest batch): a furnisher that leaves its batches
 * unfinished takes no room another furnisher's batch needs. */
Test(server, a_token_holds_a_share_of_body_memory)
{
    struct fx f;
    srv_opts o = {0};
    char retry[16], *pad = malloc(40000);
    o.max_body = 40000;
    o.body_memory = 160000; /* a share: 40,000, one batch */
    o.timeout = 30;
    fx_start(&f, &o);
    memset(pad, '\n', 40000);
    int a = send_head(&f, "POST", "/v1/records", f.tok[FURN], 40000);
    send_all(a, pad, 1000);
    cr_assert_eq(body_bytes_held(&f, 40000), 40000);
    /* bank-a's second batch, whole or in chunks, is over its share. */
    int c = send_head(&f, "POST", "/v1/records", f.tok[FURN], 40000);
    cr_assert_eq(status_on(c, retry), 503);
    cr_assert_str_eq(retry, "1");
    close(c);
    c = send_head(&f, "POST", "/v1/records", f.tok[FURN], 0);
    cr_assert_eq(status_on(c, NULL), 503);
    close(c);
    /* The court's batch is held beside it. */
    int b = send_head(&f, "POST", "/v1/records", f.tok[FURN_B], 40000);
    send_all(b, pad, 1000);
    cr_assert_eq(body_bytes_held(&f, 80000), 80000);
    /* Once bank-a's batch is answered, its next one is held: the body
     * is given back before the answer is sent, so at once, on another
     * connection, before the first is closed. */
    memcpy(pad + 1000, NEW_RECORD, strlen(NEW_RECORD));
    send_all(a, pad + 1000, 39000);
    cr_assert_eq(status_on(a, NULL), 200);
    int e = send_head(&f, "POST", "/v1/records", f.tok[FURN], 40000);
    cr_assert_eq(body_bytes_held(&f, 80000), 80000);
    close(a);
    close(e); /* abandoned: given back when it closes */
    cr_assert_eq(body_bytes_held(&f, 40000), 40000);
    close(b);
    cr_assert_eq(body_bytes_held(&f, 0), 0, "what the bodies held was not given back");
    free(pad);
    fx_stop(&f);
}

/* A call that writes waits for LMDB's one writer (here a write
 * transaction the test holds) on the writer thread, not on the pool: the
 * server's one pool thread goes on answering reads meanwhile, and the
 * calls queued are answered in turn once the writer is free. On the pool
 * thread, a batch held every connection of its thread for as long as it
 * took (1.7 s for a health check behind a 16-MiB batch). */
Test(server, writes_wait_off_the_pool)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    MDB_txn *txn;
    const char *key = "{\"role\":\"reviewer\",\"name\":\"late\"}";
    o.threads = 1;
    o.timeout = 30;
    fx_start(&f, &o);
    cr_assert_eq(mdb_txn_begin(f.env->mdb, NULL, 0, &txn), 0);
    int a = send_head(&f, "POST", "/v1/records", f.tok[FURN], strlen(NEW_RECORD));
    send_all(a, NEW_RECORD, strlen(NEW_RECORD));
    int b = send_head(&f, "POST", "/v1/keys", f.tok[ADMIN], strlen(key));
    send_all(b, key, strlen(key));
    /* Both wait for the writer, and /metrics, read meanwhile, says so. */
    cr_assert_eq(gauge_of(&f, "probity_writer_requests_pending", 2), 2);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/me", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(strstr(r.body, "L-2000"), "a record shown before its batch was written");
    free(r.body);
    http(&f, "GET", "/v1/lists", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    mdb_txn_abort(txn);
    cr_assert_eq(status_on(a, NULL), 200);
    cr_assert_eq(status_on(b, NULL), 201);
    close(a);
    close(b);
    cr_assert_eq(gauge_of(&f, "probity_writer_requests_pending", 0), 0);
    http(&f, "GET", "/v1/me", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_not_null(strstr(r.body, "L-2000"), "the batch was not written");
    free(r.body);
    http(&f, "GET", "/v1/keys", f.tok[ADMIN], NULL, NULL, &r);
    cr_assert_not_null(strstr(r.body, "\"late\""), "the key was not made");
    free(r.body);
    fx_stop(&f);
}

static void *stop_now(void *s)
{
    srv_stop(s, 0);
    return NULL;
}

/* A stop whose grace has run out answers the writes still queued 503,
 * unmade, rather than running a backlog of batches for minutes; the one
 * being written (here waiting for a write transaction the test holds)
 * finishes and is kept. */
Test(server, stop_refuses_writes_still_queued)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    MDB_txn *txn;
    pthread_t th;
    char *json = NULL;
    const char *key = "{\"role\":\"reviewer\",\"name\":\"late\"}";
    o.threads = 1;
    o.timeout = 30;
    fx_start(&f, &o);
    /* The statistics' first copy, whose walk holds the engine lock, is
     * made: from now on only the writer holds it for long. */
    http(&f, "GET", "/v1/stats", NULL, NULL, NULL, &r);
    free(r.body);
    cr_assert_eq(mdb_txn_begin(f.env->mdb, NULL, 0, &txn), 0);
    int a = send_head(&f, "POST", "/v1/records", f.tok[FURN], strlen(NEW_RECORD));
    send_all(a, NEW_RECORD, strlen(NEW_RECORD));
    /* The batch is being run: the writer holds the engine lock shared
     * while it waits for the write transaction. */
    int running = 0;
    for (double t0 = now_s(); !running && now_s() - t0 < 10;)
        if (!(running = pthread_rwlock_trywrlock(&f.s->engine) != 0))
            pthread_rwlock_unlock(&f.s->engine);
    cr_assert(running, "the batch never reached the writer");
    int b = send_head(&f, "POST", "/v1/keys", f.tok[ADMIN], strlen(key));
    send_all(b, key, strlen(key));
    cr_assert_eq(gauge_of(&f, "probity_writer_requests_pending", 2), 2);
    cr_assert_eq(pthread_create(&th, NULL, stop_now, f.s), 0);
    cr_assert_eq(status_on(b, NULL), 503, "a write still queued was not refused");
    mdb_txn_abort(txn);
    cr_assert_eq(status_on(a, NULL), 200, "the batch being written was not finished");
    pthread_join(th, NULL);
    close(a);
    close(b);
    cr_assert_eq(prb_subject_copy(f.env, PERSON, PRB_COPY_JSON, &json), PRB_OK);
    cr_assert_not_null(strstr(json, "L-2000"), "the batch was not kept");
    free(json);
    cr_assert_eq(prb_keys_json(f.env, &json), PRB_OK);
    cr_assert_null(strstr(json, "\"late\""), "a refused write was made");
    free(json);
    prb_close(f.env);
    th_rmrf(f.dir);
}

/* The writer's queue, ids of single letters, taken to the end: the order. */
static void take_all(srv_turns *t, const char *queue, char *order)
{
    char q[64][2];
    const char *ids[64];
    size_t n = strlen(queue);
    for (size_t i = 0; i < n; i++)
        q[i][0] = queue[i], q[i][1] = 0;
    while (n) {
        for (size_t i = 0; i < n; i++)
            ids[i] = q[i];
        size_t k = srv_turns_pick(t, ids, n);
        cr_assert_lt(k, n);
        *order++ = q[k][0];
        memmove(q + k, q + k + 1, (n - k - 1) * sizeof *q);
        n--;
    }
    *order = 0;
}

/* The writer takes its queue in turns by token: a furnisher's backlog of
 * batches (A) holds up another furnisher (B) and a subject's dispute (S)
 * by one call, not by the backlog; a token served longest ago, or never,
 * goes first, the oldest among equals. */
Test(server, writer_takes_tokens_in_turn)
{
    srv_turns t;
    char order[64], many[16];
    memset(&t, 0, sizeof t);
    take_all(&t, "AAAABS", order);
    cr_assert_str_eq(order, "ABSAAA");
    /* Now B was served longest ago, then S, then A. */
    take_all(&t, "AABS", order);
    cr_assert_str_eq(order, "BSAA", "the token served longest ago did not go first");
    take_all(&t, "SSC", order);
    cr_assert_str_eq(order, "CSS", "a new token did not go first");
    /* Past SRV_TURNS tokens the one served longest ago is forgotten, and
     * counts as never served. */
    const char *ids[1];
    for (int i = 0; i < SRV_TURNS; i++) {
        snprintf(many, sizeof many, "t%d", i);
        ids[0] = many;
        cr_assert_eq(srv_turns_pick(&t, ids, 1), 0);
    }
    const char *two[] = {"t0", "A"};
    cr_assert_eq(srv_turns_pick(&t, two, 2), 1, "A remembered past %d other tokens", SRV_TURNS);
    const char *again[] = {"t5", "A"};
    cr_assert_eq(srv_turns_pick(&t, again, 2), 0);
}

/* GET /healthz on fd (a connection of its own, or one kept open), closing
 * after the answer; the status line's code, 0 if none came. */
static int healthz_on(int fd)
{
    const char *text = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (send(fd, text, strlen(text), MSG_NOSIGNAL) != (ssize_t)strlen(text))
        return 0;
    return status_on(fd, NULL);
}

/* One client address holding idle connections up to the per-address
 * limit gets any further one closed at once, while another address is
 * served: without the limit, 5,000 idle connections from one address kept
 * every other client waiting for the idle timeout. */
Test(server, per_address_limit)
{
    struct fx f;
    srv_opts o = {0};
    int fds[5], held[4], closed = -1;
    o.per_address = 4;
    o.timeout = 30; /* so that a close within seconds is the limit's */
    fx_start(&f, &o);
    for (int i = 0; i < 5; i++)
        fds[i] = dial(&f);
    /* The pool's threads accept in parallel, so the fifth dialled need not
     * be the fifth counted: one of the five is closed, at once. */
    double t0 = now_s();
    while (closed < 0 && now_s() - t0 < 5) {
        struct pollfd p[5];
        for (int i = 0; i < 5; i++)
            p[i] = (struct pollfd){fds[i], POLLIN, 0};
        if (poll(p, 5, 100) > 0)
            for (int i = 0; i < 5 && closed < 0; i++) {
                char c;
                if (p[i].revents && recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0)
                    closed = i;
            }
    }
    cr_assert_geq(closed, 0, "no connection over the limit was closed within 5 s");
    for (int i = 0, k = 0; i < 5; i++)
        if (i != closed)
            held[k++] = fds[i];
    close(fds[closed]);
    /* Another address (all of 127/8 is this machine). */
    struct sockaddr_in from = {0}, to = {0};
    int other = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(other >= 0);
    from.sin_family = to.sin_family = AF_INET;
    from.sin_addr.s_addr = inet_addr("127.0.0.2");
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(srv_port(f.s));
    cr_assert_eq(bind(other, (struct sockaddr *)&from, sizeof from), 0);
    cr_assert_eq(connect(other, (struct sockaddr *)&to, sizeof to), 0);
    cr_assert_eq(healthz_on(other), 200, "another address was not served");
    close(other);
    /* The connections within the limit were kept, and are served. */
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(healthz_on(held[i]), 200, "connection %d within the limit", i);
        close(held[i]);
    }
    fx_stop(&f);
}

/* Standard error into a file at path, until stderr_back: what the server
 * says there. Returns the descriptor standard error had. */
static int stderr_to(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    fflush(stderr);
    int saved = dup(2);
    cr_assert(saved >= 0);
    cr_assert_eq(dup2(fd, 2), 2);
    close(fd);
    return saved;
}

/* Standard error back where it was, and what was written meanwhile. */
static void stderr_back(int saved, const char *path, char *buf, size_t n)
{
    fflush(stderr);
    cr_assert_eq(dup2(saved, 2), 2);
    close(saved);
    th_slurp_into(path, buf, n);
    unlink(path);
}

/* /healthz answers 503, with problem details, when the register cannot
 * be read (here: its subject counter is gone), as the document says, so
 * a load balancer takes the server out; the engine's message goes to the
 * log, not to the public. Before, it was the 500 of a failed call. */
Test(server, healthz_is_503_when_the_register_cannot_be_read)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    MDB_txn *txn;
    MDB_val k = {12, "next_subject"};
    fx_start(&f, &o);
    cr_assert_eq(mdb_txn_begin(f.env->mdb, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_del(txn, f.env->meta, &k, NULL), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    char log[4096], path[600];
    snprintf(path, sizeof path, "%s/stderr", f.dir);
    int saved = stderr_to(path);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    stderr_back(saved, path, log, sizeof log);
    assert_problem(&r, 503);
    cr_assert(strstr(r.body, "log"), "%s", r.body);
    cr_assert_null(strstr(r.body, "counting"), "%s", r.body);
    cr_assert(strstr(log, "/healthz") && strstr(log, "counting"), "%s", log);
    free(r.body);
    fx_stop(&f);
}

/* A connection is a descriptor. The server raises its soft limit on open
 * files to the hard one, and below 4,096 connections and what it keeps
 * for the rest takes fewer connections, saying so: under 1,024 files,
 * four addresses of 256 idle connections each used them all up, accept()
 * failed and libmicrohttpd stopped taking connections from anyone. With
 * no room for any connection it does not start. (The limits are this
 * test's process's own: each test runs in one.) */
Test(server, descriptors_bound_the_connections)
{
    struct fx f;
    srv_opts o = {0};
    struct rlimit rl, low = {64, 256};
    struct resp r;
    char path[600], log[4096], err[512];
    unsigned limit = 0;
    fx_register(&f);
    o.threads = 2;
    snprintf(path, sizeof path, "%s/stderr", f.dir);
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_assert_geq(rl.rlim_max, 256, "this test needs a hard limit of 256 files");
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0, "%s", strerror(errno));
    int saved = stderr_to(path);
    fx_serve(&f, &o);
    stderr_back(saved, path, log, sizeof log);
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_assert_eq(rl.rlim_cur, 256, "the soft limit (%llu) was not raised to the hard one",
                 (unsigned long long)rl.rlim_cur);
    const char *said = strstr(log, "connections are limited to ");
    cr_assert_not_null(said, "nothing said of the connections: %s", log);
    limit = (unsigned)strtoul(said + strlen("connections are limited to "), NULL, 10);
    cr_assert(limit > 0 && limit <= 256 - 64 - 2 * 4, "limited to %u: %s", limit, log);
    cr_assert(strstr(log, "RLIMIT_NOFILE"), "%s", log);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    srv_stop(f.s, 5);
    f.s = NULL;
    /* 64 files: fewer than the server keeps for the rest. */
    low.rlim_max = 64;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0, "%s", strerror(errno));
    o.listen = "127.0.0.1:0";
    cr_assert_eq(srv_start(f.env, &o, &f.s, err, sizeof err), -1, "started with 64 files");
    cr_assert_null(f.s);
    cr_assert(strstr(err, "RLIMIT_NOFILE") && strstr(err, "no room"), "%s", err);
    prb_close(f.env);
    th_rmrf(f.dir);
}

/* libmicrohttpd's own messages go to standard error (they were dropped,
 * and a server that stopped taking connections said nothing of why),
 * but at most one a second: any client can make it speak, here with
 * connections past its address's limit. */
Test(server, libmicrohttpd_speaks_at_most_once_a_second)
{
    static const char said[] =
        "probity serve: libmicrohttpd: Server reached connection limit. Closing inbound "
        "connection.";
    const char *text = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    struct fx f;
    srv_opts o = {0};
    char path[600], log[16384], c;
    unsigned lines = 0;
    o.per_address = 1;
    o.timeout = 30; /* the one connection allowed stays */
    fx_start(&f, &o);
    snprintf(path, sizeof path, "%s/stderr", f.dir);
    /* The connection allowed, counted once it has been answered. */
    int held = dial(&f);
    send_all(held, text, strlen(text));
    cr_assert_eq(status_on(held, NULL), 200);
    double t0 = now_s();
    int saved = stderr_to(path);
    for (int i = 0; i < 20; i++) {
        int fd = dial(&f);
        struct timeval tv = {15, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        cr_assert_leq(recv(fd, &c, 1, 0), 0, "connection %d past the limit was not closed", i);
        close(fd);
    }
    stderr_back(saved, path, log, sizeof log);
    double took = now_s() - t0;
    close(held);
    for (const char *p = log; (p = strstr(p, said)); p += sizeof said - 1)
        lines++;
    /* One, and one more for each second that has passed since. */
    cr_assert_geq(lines, 1, "libmicrohttpd's message was not written: %s", log);
    cr_assert_leq(lines, 1 + (unsigned)took, "%u lines in %.2f s: %s", lines, took, log);
    fx_stop(&f);
}

/* The status of the answer to a decision request whose headers carry pad
 * bytes more, sent on a connection of its own. */
static long padded_decision(const struct fx *f, size_t pad)
{
    const char *body = "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}";
    size_t cap = pad + 1024;
    char *text = malloc(cap), reply[64] = "";
    cr_assert_not_null(text);
    int n = snprintf(text, 1024,
                     "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\nX-Pad: ",
                     f->tok[INQ], strlen(body));
    memset(text + n, 'a', pad);
    size_t len = (size_t)n + pad;
    len += (size_t)snprintf(text + len, cap - len, "\r\n\r\n%s", body);
    cr_assert_lt(len, cap);
    int fd = dial(f);
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* The server may answer and close before the rest is sent. */
    send(fd, text, len, MSG_NOSIGNAL);
    ssize_t got = recv(fd, reply, sizeof reply - 1, 0);
    close(fd);
    free(text);
    cr_assert_gt(got, 12, "no answer to a request with %zu bytes of padding", pad);
    cr_assert_eq(strncmp(reply, "HTTP/1.1 ", 9), 0, "%s", reply);
    return strtol(reply + 9, NULL, 10);
}

Test(server, header_limit)
{
    struct fx f;
    srv_opts o = {0};
    uint64_t before[2], after[2];
    fx_start(&f, &o);
    /* Headers of a few KiB are served... */
    state(&f, before);
    cr_assert_eq(padded_decision(&f, 4000), 200);
    state(&f, after);
    cr_assert_gt(after[0], before[0], "the decision was not stored");
    /* ...headers past the connection's memory are refused whole, and
     * nothing is stored. */
    state(&f, before);
    cr_assert_eq(padded_decision(&f, 12000), 431);
    state(&f, after);
    cr_assert_eq(after[0], before[0]);
    cr_assert_eq(after[1], before[1]);
    fx_stop(&f);
}

Test(server, rate_limit)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.rate = 1;
    o.burst = 2;
    fx_start(&f, &o);
    for (int i = 0; i < 2; i++) {
        http(&f, "GET", "/v1/reviews", f.tok[REV], NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        free(r.body);
    }
    http(&f, "GET", "/v1/reviews", f.tok[REV], NULL, NULL, &r);
    assert_problem(&r, 429);
    cr_assert(atoi(r.retry_after) >= 1, "Retry-After: '%s'", r.retry_after);
    free(r.body);
    /* Another token has its own bucket. */
    http(&f, "GET", "/v1/reviews", f.tok[ADMIN], NULL, NULL, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    fx_stop(&f);
}

/* Without a valid token a caller is limited per address, and lower than
 * a token: the public calls need none, and guessing tokens is held to
 * the same pace. A token has its own bucket all the same. */
/* A rate so small that the next request is days off is told to wait a
 * day: the wait in seconds was cast to unsigned unbounded, and a rate of
 * 1e-12 asked for 10^12 s, past what the cast may take. */
Test(server, retry_after_is_capped)
{
    srv_limiter *l = srv_limiter_new(1e-12, 1);
    cr_assert_not_null(l);
    cr_assert_eq(srv_limiter_take(l, "ip:127.0.0.1"), 0);
    unsigned wait = srv_limiter_take(l, "ip:127.0.0.1");
    cr_assert_eq(wait, 86400, "Retry-After %u", wait);
    srv_limiter_free(l);
}

/* Addresses "ip:10.x.y.z" after from whose buckets share the set of
 * want's, n of them into keys. */
static void same_set(const srv_limiter *l, const char *want, unsigned from, char keys[][32], int n)
{
    unsigned set = srv_limiter_set_of(l, want);
    for (unsigned i = from; n > 0; i++) {
        cr_assert_lt(i, 1u << 24, "no address shares set %u", set);
        char k[32];
        snprintf(k, sizeof k, "ip:10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        if (srv_limiter_set_of(l, k) != set || !strcmp(k, want))
            continue;
        memcpy(*keys++, k, sizeof k);
        n--;
    }
}

/* Callers whose buckets share a set get no more between them than the
 * set's four buckets hold: a newcomer takes the place of a bucket that
 * has refilled whole, or starts empty. Before, it took the place of the
 * bucket seen longest ago, and with a full bucket, and a peek at a
 * caller without one was let through: five addresses in one set, taken
 * in turn, each had a fresh burst every time, and neither --public-rate
 * nor the limit on bad tokens held them. */
Test(server, callers_sharing_a_set_share_its_buckets)
{
    enum { N = 8, ROUNDS = 10, BURST = 2 };
    char keys[N + 1][32];
    srv_limiter *l = srv_limiter_new(1e-9, BURST);
    cr_assert_not_null(l);
    snprintf(keys[0], sizeof keys[0], "ip:198.51.0.205");
    same_set(l, keys[0], 0, keys + 1, N);
    int granted = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < N; i++)
            granted += srv_limiter_take(l, keys[i]) == 0;
    cr_assert_leq(granted, 4 * BURST, "%d callers in one set were let through %d times", N,
                  granted);
    /* One more caller in the set is not let through on a peek either. */
    cr_assert_gt(srv_limiter_peek(l, keys[N]), 0);
    srv_limiter_free(l);
    /* A set that has refilled whole takes a newcomer at once. */
    l = srv_limiter_new(1e9, BURST);
    cr_assert_not_null(l);
    for (int i = 0; i <= N; i++)
        cr_assert_eq(srv_limiter_take(l, keys[i]), 0, "%s", keys[i]);
    srv_limiter_free(l);
}

/* Which callers share a set is drawn anew by each limiter (a keyed
 * hash): before, it was a fixed function of the address, and anyone
 * could work out, once, which addresses to send from. */
Test(server, limiter_sets_are_keyed)
{
    srv_limiter *a = srv_limiter_new(1, 1), *b = srv_limiter_new(1, 1);
    cr_assert(a && b);
    int differ = 0;
    for (int i = 0; i < 64; i++) {
        char k[32];
        snprintf(k, sizeof k, "ip:192.0.2.%d", i);
        differ += srv_limiter_set_of(a, k) != srv_limiter_set_of(b, k);
    }
    cr_assert_gt(differ, 0, "two limiters put 64 addresses in the same sets");
    srv_limiter_free(a);
    srv_limiter_free(b);
}

Test(server, public_rate_limit)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.public_rate = 2;
    fx_start(&f, &o);
    for (int i = 0; i < 2; i++) {
        http(&f, "GET", "/v1/lists", NULL, NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        free(r.body);
    }
    http(&f, "GET", "/v1/audit/head", NULL, NULL, NULL, &r);
    assert_problem(&r, 429);
    cr_assert(atoi(r.retry_after) >= 1, "Retry-After: '%s'", r.retry_after);
    free(r.body);
    /* A wrong token counts as none. */
    http(&f, "GET", "/v1/reviews", "prb_not_a_token_at_all_0000000000000000000000", NULL, NULL, &r);
    assert_problem(&r, 429);
    free(r.body);
    /* A token is not limited here (o.rate 0). */
    for (int i = 0; i < 5; i++) {
        http(&f, "GET", "/v1/lists", f.tok[INQ], NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        free(r.body);
    }
    fx_stop(&f);
}

/* Tokens that are not valid are counted per address, at the public rate,
 * before any lookup: an address out of them is refused (429) without its
 * token being looked up, a valid one too. Before, a valid token went by
 * its key's bucket whatever its address had guessed: every wrong guess
 * was refused after its hash and lookup and the right one let in, so
 * guessing went as fast as the server could look tokens up. Another
 * address is not held up. (A rate of one in 10 s, so that no bucket
 * refills while the test runs.) */
Test(server, token_guessing_is_limited_per_address)
{
    static const char *const bad = "prb_not_a_token_at_all_0000000000000000000000";
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    char body[4096];
    size_t len;
    int guesses = 0;
    o.public_rate = 0.1;
    fx_start(&f, &o);
    do {
        http(&f, "GET", "/v1/reviews", bad, NULL, NULL, &r);
        cr_assert(r.status == 401 || r.status == 429, "%ld %s", r.status, r.body);
        free(r.body);
        cr_assert_lt(++guesses, 10, "guesses are not limited");
    } while (r.status != 429);
    http(&f, "GET", "/v1/lists", f.tok[INQ], NULL, NULL, &r);
    assert_problem(&r, 429);
    cr_assert(atoi(r.retry_after) >= 1, "Retry-After: '%s'", r.retry_after);
    free(r.body);
    /* From another address the token, and no token, are served. */
    cr_assert_eq(ask_from(&f, "127.0.0.2", "/v1/lists", f.tok[INQ], &len, body, sizeof body), 200,
                 "%s", body);
    int fd = dial_from(&f, "127.0.0.2", 0);
    cr_assert_eq(healthz_on(fd), 200);
    close(fd);
    fx_stop(&f);
}

/* A write that has been done is never answered with the 503 "out of
 * memory" that the API says stored nothing (a client would send it
 * again: an inquiry stored twice, counted against its subject): without
 * its answer's JSON it is a 500 that says it was stored, from static
 * text that needs no memory. The answer is kept as the writer thread
 * keeps one, so no connection is needed. */
Test(server, a_write_done_is_never_answered_as_not_done)
{
    req r;
    memset(&r, 0, sizeof r);
    r.capture = 1;
    r.route = R_RECORDS;
    srv_respond_written(&r, 200, NULL);
    cr_assert(r.kept);
    cr_assert_eq(r.kept_status, 500);
    cr_assert_null(r.kept_body);
    cr_assert_str_eq(r.kept_ctype, "application/problem+json");
    json_t *o = json_loadb(r.kept_static, r.kept_len, 0, NULL);
    cr_assert_not_null(o, "%.*s", (int)r.kept_len, r.kept_static);
    cr_assert_eq(json_integer_value(json_object_get(o, "status")), 500);
    const char *detail = json_string_value(json_object_get(o, "detail"));
    cr_assert(detail && strstr(detail, "carried out and stored") &&
                  strstr(detail, "do not send it again"),
              "%s", detail);
    json_decref(o);
    /* With its JSON it is answered that JSON, owned or copied. */
    char *json = strdup("{\"accepted\": 1}");
    srv_respond_written(&r, 200, json);
    cr_assert_eq(r.kept_status, 200);
    cr_assert_eq(r.kept_body, json);
    cr_assert_null(r.kept_static);
    static const char decision[] = "{\"decision\":\"approve\"}";
    srv_respond_written_copy(&r, 200, decision);
    cr_assert_eq(r.kept_status, 200);
    cr_assert_str_eq(r.kept_body, decision);
    cr_assert_neq(r.kept_body, decision);
    free(r.kept_body);
    r.kept_body = NULL;
    srv_respond_written_copy(&r, 200, NULL);
    cr_assert_eq(r.kept_status, 500);
}

/* ---------------------------------------------------- group commit */

/* How many of the subject's inquiries (inq, as prb_inquiries_json gives
 * them) are the decision id. */
static int times_stored(json_t *inq, const char *id)
{
    int found = 0;
    size_t j;
    json_t *d;
    json_array_foreach(inq, j, d)
    {
        found += !strcmp(json_string_value(json_object_get(d, "decision")), id);
    }
    return found;
}

struct asker {
    const struct fx *f;
    int n, ok;
    char ids[25][32];
};

static void *ask(void *arg)
{
    struct asker *a = arg;
    for (int i = 0; i < a->n; i++) {
        struct resp r;
        http(a->f, "POST", "/v1/decisions", a->f->tok[INQ], NULL,
             "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
        if (r.status == 200) {
            json_t *o = json_loads(r.body, 0, NULL);
            snprintf(a->ids[a->ok++], 32, "%s", json_string_value(json_object_get(o, "decision")));
            json_decref(o);
        }
        free(r.body);
    }
    return NULL;
}

/* probity_records is the records the register holds, as GET /v1/stats
 * counts them, and a correction adds none: it counted record versions,
 * so /metrics said 5 where /v1/stats said 4. The versions have their
 * own gauge. */
Test(server, metrics_count_records_not_versions)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    fx_start(&f, &o);
    uint64_t records = metric(&f, "probity_records");
    uint64_t versions = metric(&f, "probity_record_versions");
    http(&f, "GET", "/v1/stats", NULL, NULL, NULL, &r);
    json_t *st = parse(&r), *rec = json_object_get(st, "records");
    cr_assert_eq(records,
                 (uint64_t)(json_integer_value(json_object_get(rec, "total")) +
                            json_integer_value(json_object_get(rec, "expired_not_yet_deleted"))),
                 "%s", r.body);
    json_decref(st);
    free(r.body);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", NEW_RECORD, &r);
    cr_assert(strstr(r.body, "\"accepted\": 1"), "%s", r.body);
    free(r.body);
    char *changed = strdup(NEW_RECORD);
    char *amount = strstr(changed, "99.00");
    cr_assert_not_null(amount);
    memcpy(amount, "88.00", 5);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", changed, &r);
    cr_assert(strstr(r.body, "\"corrected\": 1"), "%s", r.body);
    free(r.body);
    free(changed);
    cr_assert_eq(metric(&f, "probity_records"), records + 1);
    cr_assert_eq(metric(&f, "probity_record_versions"), versions + 2);
    fx_stop(&f);
}

Test(server, concurrent_decisions)
{
    struct fx f;
    srv_opts o = {0};
    struct asker as[8];
    pthread_t th[8];
    fx_start(&f, &o);
    for (int i = 0; i < 8; i++) {
        memset(&as[i], 0, sizeof as[i]);
        as[i].f = &f;
        as[i].n = 25;
        cr_assert_eq(pthread_create(&th[i], NULL, ask, &as[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    /* Every answered decision is stored, once, with its own number. */
    json_t *inq = th_inquiries(f.env, PERSON);
    cr_assert_eq(json_array_size(inq), 200);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(as[i].ok, 25);
        for (int k = 0; k < 25; k++)
            cr_assert_eq(times_stored(inq, as[i].ids[k]), 1, "%s", as[i].ids[k]);
    }
    json_decref(inq);
    struct resp r;
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "probity_http_requests_total{route=\"/v1/decisions\",method=\"POST\","
                             "status=\"200\"} 200"),
              "%s", r.body);
    cr_assert(strstr(r.body, "probity_decisions_total 200"), "%s", r.body);
    cr_assert(strstr(r.body, "probity_subjects 3"), "%s", r.body);
    /* Every answered decision was indexed before it was answered. */
    cr_assert(strstr(r.body, "probity_inquiries_unindexed 0\n"), "%s", r.body);
    cr_assert(strstr(r.body, "probity_notices_unindexed 0\n"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* A client asking for decisions over one kept-alive connection, as a
 * load generator does, until the server stops answering them. */
enum { LOAD_CLIENTS = 8, LOAD_MAX = 4000 };
struct loader {
    const struct fx *f;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *answered; /* by all clients, under mu */
    int ok, stopping, gone;
    long other; /* a status other than 200 and the stop's 503, or 0 */
    char other_body[256];
    char (*ids)[32]; /* LOAD_MAX */
};

static void *load(void *arg)
{
    struct loader *l = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[128], auth[200];
    cr_assert_not_null(c);
    snprintf(url, sizeof url, "%s/v1/decisions", l->f->base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", l->f->tok[INQ]);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    while (l->ok < LOAD_MAX) {
        struct resp r;
        memset(&r, 0, sizeof r);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        r.cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        if (r.cc != CURLE_OK) {
            l->gone = 1; /* the server no longer takes connections */
        } else if (r.status == 200) {
            json_t *o = json_loads(r.body, 0, NULL);
            const char *id = json_string_value(json_object_get(o, "decision"));
            snprintf(l->ids[l->ok++], 32, "%s", id ? id : "?");
            json_decref(o);
            pthread_mutex_lock(l->mu);
            ++*l->answered;
            pthread_cond_signal(l->cv);
            pthread_mutex_unlock(l->mu);
        } else if (r.status == 503 && r.body && strstr(r.body, "the server is stopping")) {
            l->stopping = 1;
        } else {
            l->other = r.status;
            snprintf(l->other_body, sizeof l->other_body, "%s", r.body ? r.body : "");
        }
        free(r.body);
        if (l->gone || l->stopping || l->other)
            break;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* Starts LOAD_CLIENTS loaders on f's server, counting the decisions
 * answered to all of them in *answered under mu (signalled on cv). */
static void load_start(struct loader *l, pthread_t *th, const struct fx *f, pthread_mutex_t *mu,
                       pthread_cond_t *cv, int *answered)
{
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        memset(&l[i], 0, sizeof l[i]);
        l[i].f = f;
        l[i].mu = mu;
        l[i].cv = cv;
        l[i].answered = answered;
        l[i].ids = calloc(LOAD_MAX, sizeof *l[i].ids);
        cr_assert_not_null(l[i].ids);
        cr_assert_eq(pthread_create(&th[i], NULL, load, &l[i]), 0);
    }
}

/* Waits until the loaders have had n decisions answered. */
static void load_until(pthread_mutex_t *mu, pthread_cond_t *cv, const int *answered, int n)
{
    pthread_mutex_lock(mu);
    while (*answered < n)
        pthread_cond_wait(cv, mu);
    pthread_mutex_unlock(mu);
}

/* A server stopped with grace seconds to finish while LOAD_CLIENTS
 * clients ask for decisions. Every answered decision must be stored,
 * once; a client must end refused with 503 ("the server is stopping",
 * nothing stored) or finding the port closed, never with another status;
 * and the stop itself must complete (libmicrohttpd aborts the process if
 * it is stopped with a connection still suspended, which a decision
 * queued after the committer stopped would be). Returns how many were
 * answered and how many stored. */
static void stop_under_load(unsigned grace, int *answered_out, int *stored_out)
{
    struct fx f;
    srv_opts o = {0};
    struct loader l[LOAD_CLIENTS];
    pthread_t th[LOAD_CLIENTS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int answered = 0, ok = 0, refused = 0;
    fx_start(&f, &o);
    load_start(l, th, &f, &mu, &cv, &answered);
    /* Stopped while every client is still asking. */
    load_until(&mu, &cv, &answered, 4 * LOAD_CLIENTS);
    srv_stop(f.s, grace);
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(l[i].other, 0, "client %d got %ld: %s", i, l[i].other, l[i].other_body);
        cr_assert(l[i].gone || l[i].stopping, "client %d was answered %d times and not stopped", i,
                  l[i].ok);
        ok += l[i].ok;
        refused += l[i].stopping;
    }
    cr_log_info("grace %u s: %d of %d clients ended with the stop's 503, the others found the "
                "port closed",
                grace, refused, LOAD_CLIENTS);
    json_t *inq = th_inquiries(f.env, PERSON);
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        for (int k = 0; k < l[i].ok; k++)
            cr_assert_eq(times_stored(inq, l[i].ids[k]), 1, "%s", l[i].ids[k]);
        free(l[i].ids);
    }
    *answered_out = ok;
    *stored_out = (int)json_array_size(inq);
    json_decref(inq);
    prb_close(f.env);
    th_rmrf(f.dir);
}

/* With time to finish, every decision let in is answered, so what is
 * stored is exactly what was answered. */
Test(server, stop_under_load)
{
    int answered, stored;
    stop_under_load(5, &answered, &stored);
    cr_assert_eq(stored, answered, "stored %d decisions, answered %d", stored, answered);
    cr_log_info("stop under load: %d decisions answered and stored", answered);
}

/* With none, decisions let in but not yet queued are refused (and not
 * made), and the committer's last batch may be stored without its
 * answers reaching the clients: stored may exceed answered, never the
 * reverse (checked one by one above). */
Test(server, stop_under_load_without_grace)
{
    int answered, stored;
    stop_under_load(0, &answered, &stored);
    cr_assert_geq(stored, answered);
    cr_log_info("stop under load, no grace: %d answered, %d stored", answered, stored);
}

/* The lines of g (NDJSON) whose furnisher is bank-a, into a, counted. */

/* An ingest over HTTP that needs the map to grow. The server's handles
 * may not grow it while others read (LMDB allows it only with no other
 * transaction open in the process), so the ingest fails on the full map,
 * writes nothing, and runs again alone, allowed to grow it. The register
 * is made with a 1-MiB map, which the fixture's records leave as it is, and
 * the batch is over 3 MiB of text, so the first attempt cannot fit: with
 * the second attempt left out the server answers 507. */
Test(server, ingest_grows_the_map)
{
    struct fx f;
    srv_opts o = {0};
    struct th_buf g = {0}, a = {0};
    struct resp r;
    int64_t today;
    setenv("PROBITY_MAPSIZE_MB", "1", 1);
    fx_start(&f, &o);
    unsetenv("PROBITY_MAPSIZE_MB");
    prb_parse_now(TH_TODAY, &today);
    prb_gen_opts go = {6000, 0, 11, (int32_t)(today / 86400)};
    cr_assert_eq(prb_gen(&go, th_collect, &g), 0);
    size_t n = lines_of_bank_a(&g, &a);
    cr_assert_gt(a.n, (size_t)3 << 20, "the batch (%zu bytes) would fit the map", a.n);
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", a.p, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *st = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(st, "accepted")), (json_int_t)n, "%s", r.body);
    json_decref(st);
    free(r.body);
    /* Written once, and the server goes on writing in the grown map. */
    http(&f, "POST", "/v1/records", f.tok[FURN], "application/x-ndjson", a.p, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    st = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(st, "unchanged")), (json_int_t)n, "%s", r.body);
    json_decref(st);
    free(r.body);
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    free(g.p);
    free(a.p);
    fx_stop(&f);
}

/* The members of list, from a GET of path; *next gets "next" or "". */
static json_t *list_page_of(const struct fx *f, const char *path, const char *list, char *next,
                            size_t n)
{
    struct resp r;
    http(f, "GET", path, NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
    json_t *doc = parse(&r), *l, *found = NULL;
    size_t i;
    free(r.body);
    json_array_foreach(doc, i, l) if (!strcmp(json_string_value(json_object_get(l, "list")), list))
        found = l;
    cr_assert_not_null(found, "%s: no list %s", path, list);
    const char *nx = json_string_value(json_object_get(found, "next"));
    snprintf(next, n, "%s", nx ? nx : "");
    json_t *m = json_incref(json_object_get(found, "members"));
    json_decref(doc);
    return m;
}

/* A public list a page at a time: following "next" gives every member
 * once, in the order of the whole list, and no page is over its limit. */
Test(server, list_pages)
{
    struct fx f;
    srv_opts o = {0};
    struct th_buf g = {0};
    struct resp r;
    prb_ingest_stats st;
    int64_t today;
    uint64_t changed;
    char next[32], path[160];
    o.rate = 0;
    fx_start(&f, &o);
    prb_parse_now(TH_TODAY, &today);
    prb_gen_opts go = {0, 40, 5, (int32_t)(today / 86400)};
    cr_assert_eq(prb_gen(&go, th_collect, &g), 0);
    cr_assert_eq(th_ingest(f.env, "gen", g.p, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(f.env));
    cr_assert_eq(prb_lists_refresh_all(f.env, &changed), PRB_OK, "%s", prb_errmsg(f.env));
    json_t *all = list_page_of(&f, "/v1/lists/reliable_taxpayer?limit=10000", "reliable_taxpayer",
                               next, sizeof next);
    size_t total = json_array_size(all), seen = 0, pages = 0;
    cr_assert_geq(total, 7, "only %zu members to page through", total);
    cr_assert_str_empty(next);
    snprintf(path, sizeof path, "/v1/lists/reliable_taxpayer?limit=3");
    for (;;) {
        json_t *m = list_page_of(&f, path, "reliable_taxpayer", next, sizeof next);
        cr_assert_leq(json_array_size(m), 3);
        for (size_t i = 0; i < json_array_size(m); i++, seen++)
            cr_assert(seen < total && json_equal(json_array_get(m, i), json_array_get(all, seen)),
                      "member %zu differs from the whole list's", seen);
        pages++;
        cr_assert(next[0] || json_array_size(m) == total - (seen - json_array_size(m)));
        json_decref(m);
        if (!next[0])
            break;
        snprintf(path, sizeof path, "/v1/lists/reliable_taxpayer?limit=3&after=%s", next);
    }
    cr_assert_eq(seen, total);
    cr_assert_eq(pages, (total + 2) / 3);
    /* All lists at once take the same limit, each. */
    json_t *m = list_page_of(&f, "/v1/lists?limit=2", "reliable_taxpayer", next, sizeof next);
    cr_assert_eq(json_array_size(m), 2);
    cr_assert(next[0]);
    json_decref(m);
    /* By default a page is at most 1,000 members. */
    m = list_page_of(&f, "/v1/lists/reliable_taxpayer", "reliable_taxpayer", next, sizeof next);
    cr_assert_eq(json_array_size(m), total);
    json_decref(m);
    m = list_page_of(&f, "/v1/lists/reliable_taxpayer?after=9223372036854775807",
                     "reliable_taxpayer", next, sizeof next);
    cr_assert_eq(json_array_size(m), 0);
    json_decref(m);
    static const char *const bad[] = {"?limit=0", "?limit=10001", "?after=x", "?after=-1",
                                      "?page=2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(path, sizeof path, "/v1/lists/reliable_taxpayer%s", bad[i]);
        http(&f, "GET", path, NULL, NULL, NULL, &r);
        assert_problem(&r, 400);
        free(r.body);
    }
    json_decref(all);
    free(g.p);
    fx_stop(&f);
}

/* Follows a listing's Link rel="next" from first, as tok: each page's
 * items must be the next ones of whole, each Link must carry must (the
 * filter and limit), and the last page has none. Returns the pages. */
static size_t follow_links(struct fx *f, const char *first, int tok, const char *must,
                           json_t *whole)
{
    char path[256];
    size_t seen = 0, pages = 0;
    struct resp r;
    snprintf(path, sizeof path, "%s", first);
    for (;;) {
        http(f, "GET", path, f->tok[tok], NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
        json_t *a = parse(&r);
        cr_assert(json_is_array(a) && json_array_size(a) > 0, "%s: an empty page", path);
        for (size_t i = 0; i < json_array_size(a); i++, seen++)
            cr_assert(seen < json_array_size(whole) &&
                          json_equal(json_array_get(a, i), json_array_get(whole, seen)),
                      "%s: item %zu differs from the whole listing's", path, seen);
        json_decref(a);
        free(r.body);
        pages++;
        if (!r.link[0])
            break;
        const char *end = strstr(r.link, ">; rel=\"next\"");
        cr_assert(r.link[0] == '<' && end && !end[13], "%s: Link: %s", path, r.link);
        cr_assert(strstr(r.link, must), "%s: Link %s lost %s", path, r.link, must);
        snprintf(path, sizeof path, "%.*s", (int)(end - r.link - 1), r.link + 1);
        cr_assert_lt(pages, 50);
    }
    cr_assert_eq(seen, json_array_size(whole), "%s: %zu of %zu items", first, seen,
                 json_array_size(whole));
    return pages;
}

/* The whole of a listing in one page, which then has no Link. */
static json_t *whole_listing(struct fx *f, const char *path, int tok, size_t want)
{
    struct resp r;
    http(f, "GET", path, f->tok[tok], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
    cr_assert_str_empty(r.link, "%s: all in one page, yet Link: %s", path, r.link);
    json_t *a = parse(&r);
    free(r.body);
    cr_assert_eq(json_array_size(a), want, "%s: %zu items", path, json_array_size(a));
    return a;
}

/* Disputes and reviews a page at a time, as the lists are, but with the
 * answer still an array: where the next page starts is a Link header. */
Test(server, disputes_and_reviews_come_in_pages)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    prb_ingest_stats st;
    prb_file *file = NULL;
    prb_decision *d = NULL;
    char line[600], rid[48];
    size_t n = 0;
    o.rate = 0;
    fx_start(&f, &o);
    /* Three decisions reviewed, made while PERSON's payment default
     * counts (before the disputes below suspend it): declined. */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(prb_decide(f.env, "credit", PERSON, "bank-x", &d), PRB_OK, "%s",
                     prb_errmsg(f.env));
        snprintf(rid, sizeof rid, "1-q%d", i + 1);
        cr_assert_eq(prb_review_request(f.env, rid, "Look again.", NULL), PRB_OK, "%s",
                     prb_errmsg(f.env));
    }
    prb_decision_free(d);
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line,
                 "{\"furnisher\":\"bank-a\",\"ref\":\"P-%d\",\"subject\":{\"kind\":\"person\","
                 "\"id\":\"" PERSON "\"},\"category\":\"payment_default\",\"status\":\"open\","
                 "\"event_date\":\"2026-09-01\",\"legal_basis\":\"loan\",\"fields\":{\"amount\":"
                 "\"9.00\",\"currency\":\"EUR\"}}\n",
                 i);
        cr_assert_eq(th_ingest(f.env, "p", line, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                     prb_errmsg(f.env));
    }
    cr_assert_eq(prb_subject_read(f.env, PERSON, &file), PRB_OK, "%s", prb_errmsg(f.env));
    for (size_t i = 0; i < prb_file_nrecords(file); i++) {
        const prb_record_view *v = prb_file_record(file, i);
        if (strcmp(v->furnisher, "bank-a"))
            continue;
        prb_record_name(rid, sizeof rid, v->id);
        cr_assert_eq(prb_dispute_open(f.env, PERSON, rid, "Not mine.", NULL), PRB_OK, "%s",
                     prb_errmsg(f.env));
        n++;
    }
    prb_file_free(file);
    cr_assert_geq(n, 6, "only %zu disputes to page through", n);
    cr_assert_eq(prb_dispute_resolve(f.env, 16777218, "upheld", "checked", NULL, NULL, NULL),
                 PRB_OK, "%s", prb_errmsg(f.env));

    json_t *all = whole_listing(&f, "/v1/disputes?limit=10000", REV, n);
    cr_assert_eq(follow_links(&f, "/v1/disputes?limit=2", REV, "limit=2", all), (n + 1) / 2);
    json_decref(whole_listing(&f, "/v1/disputes", REV, n));
    json_t *open = whole_listing(&f, "/v1/disputes?open=true&limit=10000", REV, n - 1);
    cr_assert_eq(follow_links(&f, "/v1/disputes?open=true&limit=4", REV, "open=true&limit=4", open),
                 (n - 1 + 3) / 4);
    /* bank-a's token pages through its own, which here are all. */
    cr_assert_eq(follow_links(&f, "/v1/disputes?limit=3", FURN, "limit=3", all), (n + 2) / 3);
    json_decref(open);
    json_decref(all);

    /* Three reviews (below), the second decided. */
    cr_assert_eq(prb_review_decide(f.env, "1-r2", "upheld", "rita", "It stands.", NULL), PRB_OK,
                 "%s", prb_errmsg(f.env));
    all = whole_listing(&f, "/v1/reviews?limit=10000", REV, 3);
    cr_assert_eq(follow_links(&f, "/v1/reviews?limit=1", REV, "limit=1", all), 3);
    json_t *pending = whole_listing(&f, "/v1/reviews?pending=true&limit=10000", ADMIN, 2);
    cr_assert_eq(follow_links(&f, "/v1/reviews?pending=true&limit=1", ADMIN, "pending=true&limit=1",
                              pending),
                 2);
    json_decref(pending);
    json_decref(all);

    static const char *const bad[] = {"/v1/disputes?limit=0", "/v1/disputes?limit=10001",
                                      "/v1/disputes?after=x", "/v1/reviews?limit=0",
                                      "/v1/reviews?after=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "GET", bad[i], f.tok[REV], NULL, NULL, &r);
        assert_problem(&r, 400);
        cr_assert_str_empty(r.link);
        free(r.body);
    }
    fx_stop(&f);
}

/* GET /v1/notices as tok (a token), which must answer 200: the array,
 * and its Link into link (may be NULL). */
static json_t *notices_as(const struct fx *f, const char *path, const char *tok, char *link,
                          size_t n)
{
    struct resp r;
    http(f, "GET", path, tok, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
    json_t *a = parse(&r);
    cr_assert(json_is_array(a), "%s: %s", path, r.body);
    if (link)
        snprintf(link, n, "%s", r.link);
    free(r.body);
    return a;
}

/* The recipients and abouts of a page of notices, "bank-x:1-q1 ...";
 * every item must be a notice to an inquirer, with nothing of the
 * subject's but the identifier the decision was asked about. */
static void told_whom(json_t *a, char *out, size_t n)
{
    size_t i, used = 0;
    json_t *x;
    *out = 0;
    json_array_foreach(a, i, x)
    {
        const char *kind = json_string_value(json_object_get(x, "kind"));
        cr_assert(kind && !strncmp(kind, "inquirer_", 9), "a notice to a subject: %s", kind);
        cr_assert_null(json_object_get(x, "subject"));
        cr_assert_null(json_object_get(x, "channels"));
        cr_assert_str_eq(json_string_value(json_object_get(x, "identifier")), PERSON);
        cr_assert(json_integer_value(json_object_get(x, "notice")) > 0);
        used += (size_t)snprintf(out + used, n - used, "%s%s:%s", i ? " " : "",
                                 json_string_value(json_object_get(x, "recipient")),
                                 json_string_value(json_object_get(x, "about")));
    }
}

/* An inquirer reads the notices telling it that a decision it was given
 * no longer stands (told.c), and only its own: the requester its
 * decisions name is its key's name. An admin reads every inquirer's, or
 * one's with ?recipient=. Paged like the other listings, with the Link
 * keeping the recipient, percent-encoded, and bounded by the notices it
 * reads. Before, the notices reached inquirers only through the
 * operator's channels. */
Test(server, inquirers_read_their_notices)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    prb_decision *d = NULL;
    char co[PRB_TOKEN_MAX], got[256], link[256], path[300];
    o.rate = 0;
    fx_start(&f, &o);
    new_key(&f, PRB_ROLE_INQUIRER, NULL, "credit", NULL, "bank&co", co, NULL);
    /* 1-q1 to bank-x and 1-q2 to bank&co asked over HTTP, 1-q3 to
     * bank&co by a library caller; each declined, reviewed, overturned. */
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "POST", "/v1/decisions", co, NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    cr_assert_eq(prb_decide(f.env, "credit", PERSON, "bank&co", &d), PRB_OK, "%s",
                 prb_errmsg(f.env));
    prb_decision_free(d);
    for (int i = 1; i <= 3; i++) {
        char q[16], rv[16];
        snprintf(q, sizeof q, "1-q%d", i);
        snprintf(rv, sizeof rv, "1-r%d", i);
        cr_assert_eq(prb_review_request(f.env, q, "Paid.", NULL), PRB_OK, "%s", prb_errmsg(f.env));
        cr_assert_eq(prb_review_decide(f.env, rv, "overturned", "rita", "Paid in March.", NULL),
                     PRB_OK, "%s", prb_errmsg(f.env));
    }

    /* Each inquirer its own, and asking for another's is refused. */
    json_t *a = notices_as(&f, "/v1/notices", f.tok[INQ], link, sizeof link);
    told_whom(a, got, sizeof got);
    cr_assert_str_eq(got, "bank-x:1-q1");
    cr_assert_str_empty(link);
    json_t *x = json_array_get(a, 0);
    cr_assert_str_eq(json_string_value(json_object_get(x, "kind")), "inquirer_overturned");
    const char *text = json_string_value(json_object_get(x, "text"));
    cr_assert(!strstr(text, "Paid") && !strstr(text, "rita"), "%s", text);
    cr_assert(json_is_false(json_object_get(x, "delivered")));
    json_decref(a);
    a = notices_as(&f, "/v1/notices?recipient=bank-x&pending=true", f.tok[INQ], NULL, 0);
    told_whom(a, got, sizeof got);
    cr_assert_str_eq(got, "bank-x:1-q1");
    json_decref(a);
    a = notices_as(&f, "/v1/notices", co, NULL, 0);
    told_whom(a, got, sizeof got);
    cr_assert_str_eq(got, "bank&co:1-q2 bank&co:1-q3");
    json_decref(a);
    http(&f, "GET", "/v1/notices?recipient=bank%26co", f.tok[INQ], NULL, NULL, &r);
    assert_problem(&r, 403);
    cr_assert(strstr(r.body, "only the notices to itself"), "%s", r.body);
    free(r.body);
    a = notices_as(&f, "/v1/notices", f.tok[INQ_P], NULL, 0);
    cr_assert_eq(json_array_size(a), 0);
    json_decref(a);

    /* The admin: every inquirer's, or one's. */
    json_t *all = notices_as(&f, "/v1/notices", f.tok[ADMIN], NULL, 0);
    told_whom(all, got, sizeof got);
    cr_assert_str_eq(got, "bank-x:1-q1 bank&co:1-q2 bank&co:1-q3");
    cr_assert_eq(follow_links(&f, "/v1/notices?limit=2", ADMIN, "limit=2", all), 2);
    json_t *co_all = notices_as(&f, "/v1/notices?recipient=bank%26co", f.tok[ADMIN], NULL, 0);
    told_whom(co_all, got, sizeof got);
    cr_assert_str_eq(got, "bank&co:1-q2 bank&co:1-q3");
    cr_assert_eq(follow_links(&f, "/v1/notices?recipient=bank%26co&pending=true&limit=1", ADMIN,
                              "recipient=bank%26co&pending=true&limit=1", co_all),
                 2);
    json_decref(co_all);
    json_decref(all);
    a = notices_as(&f, "/v1/notices?recipient=nobody", f.tok[ADMIN], NULL, 0);
    cr_assert_eq(json_array_size(a), 0);
    json_decref(a);

    /* A page reads at most prb_scan_max notices: bank-x's, behind more
     * notices to the subject than that, is found by following the Link
     * past pages that end short, even empty. */
    size_t saved = prb_scan_max, pages = 0;
    prb_scan_max = 2;
    snprintf(path, sizeof path, "/v1/notices?limit=5");
    got[0] = 0;
    for (;;) {
        char some[128];
        a = notices_as(&f, path, f.tok[INQ], link, sizeof link);
        told_whom(a, some, sizeof some);
        if (*some)
            strncat(strcat(got, *got ? " " : ""), some, sizeof got - strlen(got) - 2);
        cr_assert(pages || json_array_size(a) == 0, "the first page read past the bound");
        json_decref(a);
        pages++;
        if (!link[0])
            break;
        const char *end = strstr(link, ">; rel=\"next\"");
        cr_assert(link[0] == '<' && end, "Link: %s", link);
        snprintf(path, sizeof path, "%.*s", (int)(end - link - 1), link + 1);
        cr_assert_lt(pages, 50);
    }
    prb_scan_max = saved;
    cr_assert_str_eq(got, "bank-x:1-q1");
    cr_assert_gt(pages, 2);

    /* Bad queries, as the other listings refuse them. */
    static const char *const bad[] = {"/v1/notices?limit=0",       "/v1/notices?limit=10001",
                                      "/v1/notices?after=x",       "/v1/notices?after=-1",
                                      "/v1/notices?pending=maybe", "/v1/notices?recipient=",
                                      "/v1/notices?recipient",     "/v1/notices?page=2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "GET", bad[i], f.tok[ADMIN], NULL, NULL, &r);
        assert_problem(&r, 400);
        cr_assert_str_empty(r.link);
        free(r.body);
    }
    static const int refused[] = {FURN, REV, SUBJ};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        http(&f, "GET", "/v1/notices", f.tok[refused[i]], NULL, NULL, &r);
        assert_problem(&r, 403);
        free(r.body);
    }
    http(&f, "GET", "/v1/notices", NULL, NULL, NULL, &r);
    assert_problem(&r, 401);
    free(r.body);
    fx_stop(&f);
}

/* Query parameters are as strict as bodies: a name given twice, a number
 * given without one, a NUL byte, a size of 0 are refused, and a flag
 * given bare means what it means given empty (true). Before, "?open"
 * listed every dispute, "?skip_bad" refused a batch with a bad record,
 * "?limit=5&limit=20000" was served 5, "?leaf" was told leaf is
 * required, and "?size=0" was the current size. */
Test(server, query_parameters_are_strict)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    prb_file *file = NULL;
    char body[200], rid[48];
    size_t n = 0;
    fx_start(&f, &o);
    /* PERSON's records from bank-a disputed, the first (1-1) resolved. */
    cr_assert_eq(prb_subject_read(f.env, PERSON, &file), PRB_OK, "%s", prb_errmsg(f.env));
    for (size_t i = 0; i < prb_file_nrecords(file); i++) {
        const prb_record_view *v = prb_file_record(file, i);
        if (strcmp(v->furnisher, "bank-a"))
            continue;
        prb_record_name(rid, sizeof rid, v->id);
        snprintf(body, sizeof body, "{\"record\":\"%s\",\"reason\":\"Not mine.\"}", rid);
        http(&f, "POST", "/v1/me/disputes", f.tok[SUBJ], NULL, body, &r);
        cr_assert_eq(r.status, 201, "%s: %s", rid, r.body);
        free(r.body);
        n++;
    }
    prb_file_free(file);
    cr_assert_geq(n, 2, "only %zu disputes", n);
    http(&f, "POST", "/v1/disputes/" DISPUTE "/resolve", f.tok[REV], NULL,
         "{\"outcome\":\"upheld\",\"note\":\"ok\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    static const char *const open[] = {
        "/v1/disputes?open", "/v1/disputes?open=", "/v1/disputes?open=true", "/v1/disputes?open=1"};
    for (size_t i = 0; i < sizeof open / sizeof *open; i++)
        json_decref(whole_listing(&f, open[i], REV, n - 1));
    json_decref(whole_listing(&f, "/v1/disputes?open=false", REV, n));
    json_decref(whole_listing(&f, "/v1/disputes", REV, n));

    /* A bare skip_bad skips the bad record and writes the good one. */
    http(&f, "POST", "/v1/records?skip_bad", f.tok[FURN], "application/x-ndjson",
         NEW_RECORD "{\"furnisher\":\"bank-a\"}\n", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *st = parse(&r);
    cr_assert_eq(json_integer_value(json_object_get(st, "accepted")), 1, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(st, "rejected")), 1, "%s", r.body);
    json_decref(st);
    free(r.body);

    /* The ones that are refused, with what the detail says. */
    static const struct {
        const char *path, *why;
        int tok;
    } bad[] = {
        {"/v1/disputes?limit=5&limit=20000", "'limit' is given more than once", REV},
        {"/v1/disputes?open=true&open=false", "'open' is given more than once", REV},
        {"/v1/audit/proof?leaf=0&size=1&leaf=0", "'leaf' is given more than once", NONE},
        {"/v1/disputes?limit", "limit must be a whole number", REV},
        {"/v1/disputes?limit=5%00x", "'limit' holds a NUL byte", REV},
        {"/v1/disputes?open=yes", "open must be true or false", REV},
        {"/v1/audit/proof?leaf", "leaf must be a whole number", NONE},
        {"/v1/audit/proof?leaf=", "leaf must be a whole number", NONE},
        /* A whole number, but larger than a count may be: it said "must
         * be a whole number". */
        {"/v1/audit/proof?leaf=9999999999999999999",
         "leaf is too large: at most 9223372036854775807", NONE},
        {"/v1/audit/proof?leaf=9223372036854775808",
         "leaf is too large: at most 9223372036854775807", NONE},
        {"/v1/disputes?after=123456789012345678901234567890", "after is too large", REV},
        /* A page's limit past any number says the page's bounds: "at most
         * 9223372036854775807" sent the client to a number also refused. */
        {"/v1/disputes?limit=99999999999999999999", "limit must be from 1 to 10000", REV},
        {"/v1/lists?limit=99999999999999999999", "limit must be from 1 to 10000", NONE},
        {"/v1/audit/consistency?from=1&to=99999999999999999999",
         "to is too large: at most 9223372036854775807", NONE},
        {"/v1/audit/proof?leaf=99999999999999999999x", "leaf must be a whole number", NONE},
        {"/v1/audit/proof?size=1", "leaf is required", NONE},
        {"/v1/audit/proof?leaf=0&size", "size must be a whole number", NONE},
        {"/v1/audit/proof?leaf=0&size=0", "size must be at least 1", NONE},
        {"/v1/audit/consistency?from=1&to", "to must be a whole number", NONE},
        {"/v1/audit/consistency?from=1&to=0", "to must be at least 1", NONE},
        {"/v1/audit/consistency?from=0&to=1", "from must be at least 1", NONE},
        {"/v1/me?format", "format must be json or text", SUBJ},
        {"/v1/me?format=json&format=text", "'format' is given more than once", SUBJ},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http(&f, "GET", bad[i].path, bad[i].tok == NONE ? NULL : f.tok[bad[i].tok], NULL, NULL, &r);
        assert_problem(&r, 400);
        cr_assert(strstr(r.body, bad[i].why), "%s: %s", bad[i].path, r.body);
        free(r.body);
    }
    /* What is right is still served. */
    static const char *const good[] = {"/v1/audit/proof?leaf=0&size=1",
                                       "/v1/audit/consistency?from=1&to=2",
                                       "/v1/audit/consistency?from=1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        http(&f, "GET", good[i], NULL, NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s: %s", good[i], r.body);
        free(r.body);
    }
    fx_stop(&f);
}

/* Ages the copy of the statistics the server keeps past its lifetime. */
static void age_stats(struct fx *f)
{
    pthread_mutex_lock(&f->s->stats.mu);
    f->s->stats.at -= 3600;
    pthread_mutex_unlock(&f->s->stats.mu);
}

/* That a statistics answer says it was made at t by the register's
 * clock: in its made_at and its Last-Modified (written here with the C
 * library, not the server's own formatter). */
static void assert_made_at(const struct resp *r, int64_t t)
{
    char want[21], lm[64];
    time_t tt = (time_t)t;
    struct tm tm;
    json_t *st = parse(r);
    prb_time_format(t, want);
    cr_assert_str_eq(json_string_value(json_object_get(st, "made_at")), want, "%s", r->body);
    json_decref(st);
    cr_assert_not_null(gmtime_r(&tt, &tm));
    strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cr_assert_str_eq(r->lastmod, lm);
}

static long long decisions_total(const char *body)
{
    json_error_t e;
    json_t *st = json_loads(body, 0, &e);
    cr_assert_not_null(st, "%s", body);
    long long n = json_integer_value(json_object_get(json_object_get(st, "decisions"), "total"));
    json_decref(st);
    return n;
}

/* GET /v1/stats answers the copy it has at once, even when it is old and
 * the register cannot be read just then (its lock held alone here, as
 * an ingest growing the map holds it), and has a newer one made on the
 * statistics thread. Made in the request, as before, the statistics of a
 * large register held up that thread's every connection for a second.
 * A copy says when it was made, by the register's clock: answered an
 * hour after it was made, it shows an hour's age. */
Test(server, stats_answered_while_being_made)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    fx_start(&f, &o);
    int64_t t0 = f.s->o.fixed_now;
    http(&f, "GET", "/v1/stats", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    assert_made_at(&r, t0);
    char *first = r.body;
    age_stats(&f);
    /* An hour on by the register's clock too. No request is in flight
     * and the statistics thread is idle, so no thread reads it now. */
    f.s->o.fixed_now = t0 + 3600;
    pthread_rwlock_wrlock(&f.s->engine);
    http(&f, "GET", "/v1/stats", NULL, NULL, NULL, &r);
    pthread_rwlock_unlock(&f.s->engine);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, first, "not the copy the server had");
    assert_made_at(&r, t0);
    free(r.body);
    /* A decision changes the statistics; an old copy is made again. */
    http(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    int changed = 0;
    for (double t = now_s(); !changed && now_s() - t < 10;) {
        age_stats(&f);
        http(&f, "GET", "/v1/stats", NULL, NULL, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        changed = decisions_total(r.body) != decisions_total(first);
        if (changed) {
            cr_assert_eq(decisions_total(r.body), decisions_total(first) + 1, "%s", r.body);
            assert_made_at(&r, t0 + 3600);
        }
        free(r.body);
    }
    cr_assert(changed, "the statistics were not made again");
    free(first);
    fx_stop(&f);
}

/* The subject's own file and its text letter; the reviewer's view. */
Test(server, files)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    fx_start(&f, &o);
    http(&f, "GET", "/v1/me?format=text", f.tok[SUBJ], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.ctype, "text/plain"));
    /* Its steps are the API's, not command lines naming the register. */
    cr_assert(strstr(r.body, "GET /v1/me?format=text"), "%s", r.body);
    cr_assert_null(strstr(r.body, f.dir), "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/me", f.tok[SUBJ], NULL, NULL, &r);
    json_t *me = parse(&r);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(me, "identifiers"), 0)),
                     PERSON);
    json_decref(me);
    free(r.body);
    http(&f, "GET", "/v1/subjects/" COMPANY, f.tok[REV], NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    http(&f, "GET", "/v1/subjects/" COMPANY "?format=xml", f.tok[REV], NULL, NULL, &r);
    assert_problem(&r, 400);
    free(r.body);
    fx_stop(&f);
}

/* The sweep runs at start and is counted. */
Test(server, sweep)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    o.sweep = 3600;
    fx_start(&f, &o);
    for (int i = 0; i < 100; i++) {
        http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
        int done = strstr(r.body, "probity_sweeps_total 1") != NULL;
        free(r.body);
        if (done)
            break;
        usleep(50000);
    }
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "probity_sweeps_total 1"), "%s", r.body);
    cr_assert(strstr(r.body, "probity_sweep_failures_total 0"), "%s", r.body);
    cr_assert(strstr(r.body, "probity_notices_pending 0"), "%s", r.body);
    free(r.body);
    fx_stop(&f);
}

/* Sweeps follow each other at --sweep seconds, timed on the monotonic
 * clock: neither stalled (a deadline read from another clock is decades
 * away) nor back to back (or decades past). */
Test(server, sweeps_every_interval)
{
    struct fx f;
    srv_opts o = {0};
    uint64_t n = 0;
    o.sweep = 1;
    fx_start(&f, &o);
    double t0 = now_s();
    while (n < 3 && now_s() - t0 < 15) {
        n = metric(&f, "probity_sweeps_total");
        usleep(20000);
    }
    double t = now_s() - t0;
    cr_assert_geq(n, 3, "%llu sweeps in 15 s at one a second", (unsigned long long)n);
    cr_assert_geq(t, 1.9, "three sweeps in %.2f s at one a second", t);
    fx_stop(&f);
}

/* ------------------------------------------- the document, operation by operation */

/* Each operation docs/openapi.json documents, called as its first role
 * would, with a valid request, in an order that makes what each needs
 * (a decision before its review, a dispute before its resolution). */
struct op_call {
    const char *id, *method, *pattern, *path, *body, *ctype;
    int role;
    long status;
};

static json_t *documented(json_t *doc, const char *id, const char **method, const char **path)
{
    const char *p, *m;
    json_t *item, *op;
    json_object_foreach(json_object_get(doc, "paths"), p, item)
    {
        json_object_foreach(item, m, op)
        {
            const char *oid = json_string_value(json_object_get(op, "operationId"));
            if (oid && !strcmp(oid, id)) {
                *method = m;
                *path = p;
                return op;
            }
        }
    }
    return NULL;
}

Test(server, documented_operations)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r;
    char revoke[64];
    fx_start(&f, &o);
    snprintf(revoke, sizeof revoke, "/v1/keys/%s/revoke", f.spare_id);
    const struct op_call calls[] = {
        {"getHealthz", "get", "/healthz", "/healthz", NULL, NULL, NONE, 200},
        {"getOpenapi", "get", "/v1/openapi.json", "/v1/openapi.json", NULL, NULL, NONE, 200},
        {"postRecords", "post", "/v1/records", "/v1/records", NEW_RECORD, "application/x-ndjson",
         FURN, 200},
        {"getSubject", "get", "/v1/subjects/{identifier}", "/v1/subjects/" PERSON, NULL, NULL, REV,
         200},
        {"getMe", "get", "/v1/me", "/v1/me", NULL, NULL, SUBJ, 200},
        {"postDecision", "post", "/v1/decisions", "/v1/decisions",
         "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", NULL, INQ, 200},
        {"postMyDispute", "post", "/v1/me/disputes", "/v1/me/disputes",
         "{\"record\":\"1-1\",\"reason\":\"I paid this.\"}", NULL, SUBJ, 201},
        {"listDisputes", "get", "/v1/disputes", "/v1/disputes?open=true", NULL, NULL, REV, 200},
        {"resolveDispute", "post", "/v1/disputes/{id}/resolve", "/v1/disputes/" DISPUTE "/resolve",
         "{\"outcome\":\"upheld\",\"note\":\"Checked.\"}", NULL, REV, 200},
        {"postMyReview", "post", "/v1/me/reviews", "/v1/me/reviews",
         "{\"decision\":\"1-q1\",\"reason\":\"Please look again.\"}", NULL, SUBJ, 201},
        {"listReviews", "get", "/v1/reviews", "/v1/reviews?pending=true", NULL, NULL, REV, 200},
        {"decideReview", "post", "/v1/reviews/{id}/decide", "/v1/reviews/1-r1/decide",
         "{\"outcome\":\"overturned\",\"note\":\"The default was paid.\"}", NULL, REV, 200},
        {"listNotices", "get", "/v1/notices", "/v1/notices?pending=true", NULL, NULL, INQ, 200},
        {"listLists", "get", "/v1/lists", "/v1/lists", NULL, NULL, NONE, 200},
        {"getList", "get", "/v1/lists/{name}", "/v1/lists/debtor_register", NULL, NULL, INQ, 200},
        {"getCompany", "get", "/v1/companies/{identifier}", "/v1/companies/" COMPANY, NULL, NULL,
         NONE, 200},
        {"getAuditHead", "get", "/v1/audit/head", "/v1/audit/head", NULL, NULL, NONE, 200},
        {"getAuditProof", "get", "/v1/audit/proof", "/v1/audit/proof?leaf=1&size=2", NULL, NULL,
         NONE, 200},
        {"getAuditConsistency", "get", "/v1/audit/consistency", "/v1/audit/consistency?from=1&to=3",
         NULL, NULL, NONE, 200},
        {"listKeys", "get", "/v1/keys", "/v1/keys", NULL, NULL, ADMIN, 200},
        {"createKey", "post", "/v1/keys", "/v1/keys",
         "{\"role\":\"furnisher\",\"furnisher\":\"bank-b\"}", NULL, ADMIN, 201},
        {"revokeKey", "post", "/v1/keys/{id}/revoke", revoke, NULL, NULL, ADMIN, 200},
        {"getStats", "get", "/v1/stats", "/v1/stats", NULL, NULL, NONE, 200},
        {"getMetrics", "get", "/metrics", "/metrics", NULL, NULL, NONE, 200},
    };
    size_t ncalls = sizeof calls / sizeof *calls;
    http(&f, "GET", "/v1/openapi.json", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "the server serves no OpenAPI document: %s", r.body);
    /* The document is built into the server: the tree's, byte for byte. */
    char *tree = th_slurp("docs/openapi.json");
    cr_assert_not_null(tree);
    cr_assert(r.len == strlen(tree) && !memcmp(r.body, tree, r.len),
              "GET /v1/openapi.json is not docs/openapi.json");
    free(tree);
    json_t *doc = parse(&r);
    free(r.body);
    for (size_t i = 0; i < ncalls; i++) {
        const struct op_call *c = &calls[i];
        const char *method = NULL, *path = NULL;
        char code[8], upper[8];
        json_t *op = documented(doc, c->id, &method, &path);
        cr_assert_not_null(op, "%s is not documented", c->id);
        cr_assert_str_eq(method, c->method, "%s", c->id);
        cr_assert_str_eq(path, c->pattern, "%s", c->id);
        snprintf(upper, sizeof upper, "%s", c->method);
        for (char *u = upper; *u; u++)
            *u = (char)(*u - 'a' + 'A');
        http(&f, upper, c->path, c->role == NONE ? NULL : f.tok[c->role], c->ctype, c->body, &r);
        cr_assert_eq(r.status, c->status, "%s: %ld %s", c->id, r.status, r.body);
        snprintf(code, sizeof code, "%ld", r.status);
        json_t *doc_resp = json_object_get(json_object_get(op, "responses"), code);
        cr_assert_not_null(doc_resp, "%s answered %s, which it does not document", c->id, code);
        char media[128];
        snprintf(media, sizeof media, "%.*s", (int)strcspn(r.ctype, ";"), r.ctype);
        cr_assert_not_null(json_object_get(json_object_get(doc_resp, "content"), media),
                           "%s answered %s, which it does not document", c->id, media);
        free(r.body);
    }
    /* And the document has no operation the server lacks. */
    const char *p, *m;
    json_t *item, *op;
    size_t nops = 0;
    json_object_foreach(json_object_get(doc, "paths"), p, item)
    {
        json_object_foreach(item, m, op)
        {
            if (json_is_object(op) && json_object_get(op, "operationId"))
                nops++;
        }
    }
    cr_assert_eq(nops, ncalls, "the document has %zu operations, the server %zu", nops, ncalls);
    json_decref(doc);
    fx_stop(&f);
}

/* ------------------------------------------------------------ the commands */

/* probity key: the token alone on standard output, never shown again. */
Test(server, key_command)
{
    struct th_run *r = malloc(sizeof *r);
    char *dir = th_tmpdir(), args[600], tok[PRB_TOKEN_MAX];
    th_cli(r, dir, TH_TODAY, NULL, "init reg");
    cr_assert_eq(r->status, 0, "%s", r->err);
    th_cli(r, dir, TH_TODAY, NULL,
           "key create reg --role inquirer --purposes credit,tenancy --name bank-x");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(strlen(r->out), 48, "'%s'", r->out); /* prb_ + 43 + newline */
    cr_assert(!strncmp(r->out, "prb_", 4));
    snprintf(tok, sizeof tok, "%.47s", r->out);
    th_cli(r, dir, TH_TODAY, NULL, "key list reg");
    cr_assert_eq(r->status, 0);
    cr_assert_null(strstr(r->out, tok));
    json_t *keys = json_loads(r->out, 0, NULL);
    cr_assert_eq(json_array_size(keys), 1);
    const char *id = json_string_value(json_object_get(json_array_get(keys, 0), "id"));
    snprintf(args, sizeof args, "key revoke reg %s", id);
    json_decref(keys);
    th_cli(r, dir, TH_TODAY, NULL, args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    th_cli(r, dir, TH_TODAY, NULL, args);
    cr_assert_eq(r->status, prb_exit_status(PRB_EEXIST), "%s", r->err);
    /* Fields a role does not take, and a role without what it needs. */
    th_cli(r, dir, TH_TODAY, NULL, "key create reg --role admin --purposes credit");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert(strstr(r->err, "purposes"), "%s", r->err);
    th_cli(r, dir, TH_TODAY, NULL, "key create reg --role furnisher");
    cr_assert_eq(r->status, 2, "%s", r->err);
    th_cli(r, dir, TH_TODAY, NULL, "key create reg --role inquirer --purposes astrology");
    cr_assert_eq(r->status, 2, "%s", r->err);
    th_cli(r, dir, TH_TODAY, NULL, "key create reg --role subject --subject cn-rid:123");
    cr_assert_eq(r->status, 2, "%s", r->err);
    cr_assert_eq(r->out[0], 0, "a refused key printed '%s'", r->out);
    th_rmrf(dir);
    free(r);
}

/* Starts `probity serve reg` (PROBITY_BIN) on a free port, with no
 * sweep, PROBITY_NOW=now and the extra arguments (NULL-terminated), its
 * standard error in log, and waits until it says where it listens: its
 * base URL into base. The server goes with the test, whatever happens. */
static pid_t spawn_serve_at(const char *reg, const char *log, const char *now,
                            const char *const *extra, char base[64])
{
    const char *bin = getenv("PROBITY_BIN"), *argv[32];
    char text[4096] = "";
    int n = 0;
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary");
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = reg;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--sweep";
    argv[n++] = "0";
    while (extra && *extra && n < 31)
        argv[n++] = *extra++;
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("PROBITY_NOW", now, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    const char *at = NULL;
    for (int i = 0; i < 400 && !at; i++) {
        usleep(25000);
        th_slurp_into(log, text, sizeof text);
        at = strstr(text, "http://127.0.0.1:");
    }
    cr_assert_not_null(at, "the server did not say where it listens: %s", text);
    snprintf(base, 64, "http://127.0.0.1:%d", atoi(at + 17));
    return pid;
}

static pid_t spawn_serve(const char *reg, const char *log, const char *const *extra, char base[64])
{
    return spawn_serve_at(reg, log, TH_TODAY, extra, base);
}

/* Stops the server spawned as pid with SIGTERM and waits for it, at most
 * 10 s: one still running then is killed and fails the test, as one that
 * exits with an error does. */
static void stop_serve(pid_t pid)
{
    int st = 0;
    pid_t w = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 400 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++)
        usleep(25000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    cr_assert_eq(w, pid, "serve did not exit within 10 s of SIGTERM");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "serve did not exit 0 on SIGTERM (status %#x)",
              (unsigned)st);
}

/* probity serve stops on SIGTERM, cleanly. */
Test(server, serve_command_stops_on_sigterm)
{
    char *dir = th_tmpdir(), reg[600], log[600], text[4096] = "";
    struct th_run *run = malloc(sizeof *run);
    th_cli(run, dir, TH_TODAY, NULL, "init reg");
    cr_assert_eq(run->status, 0, "%s", run->err);
    free(run);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(log, sizeof log, "%s/serve.log", dir);
    struct fx f;
    memset(&f, 0, sizeof f);
    pid_t pid = spawn_serve(reg, log, NULL, f.base);
    struct resp r;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    http(&f, "GET", "/healthz", NULL, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    stop_serve(pid);
    th_slurp_into(log, text, sizeof text);
    cr_assert(strstr(text, "probity: stopped"), "%s", text);
    th_rmrf(dir);
}

/* An empty PROBITY_NOW is unset, as for every other command: serve took
 * it for a clock standing still at the moment it started, and then no
 * retention, hearing period or dispute deadline ever passed. The server
 * says at start when its clock stands still. */
Test(server, serve_takes_an_empty_probity_now_as_unset)
{
    char *dir = th_tmpdir(), reg[600], log[600], base[64], text[4096] = "";
    struct th_run *run = malloc(sizeof *run);
    th_cli(run, dir, TH_TODAY, NULL, "init reg");
    cr_assert_eq(run->status, 0, "%s", run->err);
    free(run);
    snprintf(reg, sizeof reg, "%s/reg", dir);
    snprintf(log, sizeof log, "%s/serve.log", dir);
    stop_serve(spawn_serve_at(reg, log, "", NULL, base));
    th_slurp_into(log, text, sizeof text);
    cr_assert(strstr(text, "probity: stopped") && !strstr(text, "stands still"), "%s", text);
    stop_serve(spawn_serve_at(reg, log, TH_TODAY, NULL, base));
    th_slurp_into(log, text, sizeof text);
    cr_assert(strstr(text, "the clock stands still at " TH_TODAY "T00:00:00Z"), "%s", text);
    th_rmrf(dir);
}

/* probity serve killed with SIGKILL while clients ask for decisions,
 * three times on one register, each kill later than the last and each
 * start after a kill: every decision it answered is in the register,
 * once, and the register verifies. A decision is answered only after the
 * commit that stores it (the group commit), and the index of inquiries
 * beside the register is made good from the log when it is opened
 * again. */
Test(server, sigkill_loses_no_answered_decision)
{
    struct fx f;
    struct loader l[LOAD_CLIENTS];
    pthread_t th[LOAD_CLIENTS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    const char *const extra[] = {"--rate-limit", "0", NULL};
    char reg[600], log[600];
    int ok = 0, st;
    fx_register(&f);
    prb_close(f.env);
    snprintf(reg, sizeof reg, "%s/reg", f.dir);
    snprintf(log, sizeof log, "%s/serve.log", f.dir);
    for (int round = 0, after = 8; round < 3; round++, after *= 4) {
        int answered = 0, now = 0;
        pid_t pid = spawn_serve(reg, log, extra, f.base);
        load_start(l, th, &f, &mu, &cv, &answered);
        /* Killed while every client is still asking. */
        load_until(&mu, &cv, &answered, after * LOAD_CLIENTS);
        kill(pid, SIGKILL);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the server ended otherwise: %d", st);
        for (int i = 0; i < LOAD_CLIENTS; i++) {
            pthread_join(th[i], NULL);
            cr_assert_eq(l[i].other, 0, "client %d got %ld: %s", i, l[i].other, l[i].other_body);
            cr_assert(l[i].gone, "client %d was answered %d times and never lost the server", i,
                      l[i].ok);
            now += l[i].ok;
        }
        ok += now;
        cr_assert_eq(prb_open(reg, &f.env), PRB_OK, "%s", prb_errmsg(f.env));
        json_t *inq = th_inquiries(f.env, PERSON);
        cr_assert_geq(json_array_size(inq), (size_t)ok);
        for (int i = 0; i < LOAD_CLIENTS; i++) {
            for (int k = 0; k < l[i].ok; k++)
                cr_assert_eq(times_stored(inq, l[i].ids[k]), 1, "answered %s: stored %d times",
                             l[i].ids[k], times_stored(inq, l[i].ids[k]));
            free(l[i].ids);
        }
        cr_log_info("round %d: %d decisions answered before the kill (%d in all), %zu stored",
                    round + 1, now, ok, json_array_size(inq));
        json_decref(inq);
        prb_verify_stats vs;
        cr_assert_eq(prb_verify(f.env, NULL, NULL, &vs), PRB_OK, "%s", prb_errmsg(f.env));
        prb_close(f.env);
    }
    th_rmrf(f.dir);
}

/* An inquirer that lost an answer sends its request again under the same
 * Idempotency-Key: it gets the same decision, marked replayed, and the
 * subject has one inquiry, whether the two were sent one after the other
 * or at once; the key on another subject is 409, a malformed key 400,
 * and neither writes anything. probity_decisions_total counts the
 * decisions stored, not the replays or the refusals (it counted every
 * request queued to the committer: 60 keys sent 4 times at once, 60
 * decisions stored, and the counter went up by 87). */
struct idem_asker {
    const struct fx *f;
    struct resp r;
};

static void *ask_idem(void *arg)
{
    struct idem_asker *a = arg;
    http_h(a->f, "POST", "/v1/decisions", a->f->tok[INQ], NULL,
           "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}", "Idempotency-Key: \"at-once\"",
           &a->r);
    return NULL;
}

Test(server, idempotency_key)
{
    struct fx f;
    srv_opts o = {0};
    struct resp r1, r2, r;
    uint64_t before[2], after[2];
    const char *body = "{\"purpose\":\"credit\",\"subject\":\"" PERSON "\"}";
    fx_start(&f, &o);
    uint64_t decisions0 = metric(&f, "probity_decisions_total");
    http_h(&f, "POST", "/v1/decisions", f.tok[INQ], NULL, body, "Idempotency-Key: \"order 17\"",
           &r1);
    cr_assert_eq(r1.status, 200, "%s", r1.body);
    cr_assert_str_eq(r1.replayed, "");
    http_h(&f, "POST", "/v1/decisions", f.tok[INQ], NULL, body, "Idempotency-Key: \"order 17\"",
           &r2);
    cr_assert_eq(r2.status, 200, "%s", r2.body);
    cr_assert_str_eq(r2.replayed, "true");
    cr_assert_str_eq(r2.body, r1.body);
    json_t *inq = th_inquiries(f.env, PERSON);
    cr_assert_eq(json_array_size(inq), 1, "a request sent again was stored again");
    json_decref(inq);
    state(&f, before);
    http_h(&f, "POST", "/v1/decisions", f.tok[INQ], NULL,
           "{\"purpose\":\"credit\",\"subject\":\"" COMPANY "\"}", "Idempotency-Key: \"order 17\"",
           &r);
    assert_problem(&r, 409);
    cr_assert(strstr(r.body, "given to an inquiry of another purpose or subject"), "%s", r.body);
    cr_assert(!strstr(r.body, PERSON), "the refusal names the other subject: %s", r.body);
    free(r.body);
    const char *bad[] = {"Idempotency-Key: \"\"",
                         "Idempotency-Key: \"open",
                         "Idempotency-Key: two words",
                         "Idempotency-Key: \"caf\xc3\xa9\"",
                         "Idempotency-Key: 17",
                         "Idempotency-Key: \"a\", \"b\"",
                         "Idempotency-Key: \"a\"\nIdempotency-Key: \"b\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http_h(&f, "POST", "/v1/decisions", f.tok[INQ], NULL, body, bad[i], &r);
        assert_problem(&r, 400);
        cr_assert(strstr(r.body, "Idempotency-Key"), "%s: %s", bad[i], r.body);
        free(r.body);
    }
    state(&f, after);
    cr_assert_eq(before[0], after[0], "a refused request wrote something");
    /* Eight at once under one new key: one stored, all the same answer. */
    struct idem_asker as[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        as[i].f = &f;
        cr_assert_eq(pthread_create(&th[i], NULL, ask_idem, &as[i]), 0);
    }
    int fresh = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(as[i].r.status, 200, "%s", as[i].r.body);
        cr_assert_str_eq(as[i].r.body, as[0].r.body);
        fresh += !as[i].r.replayed[0];
    }
    cr_assert_eq(fresh, 1, "%d answers were not replays", fresh);
    for (int i = 0; i < 8; i++)
        free(as[i].r.body);
    inq = th_inquiries(f.env, PERSON);
    cr_assert_eq(json_array_size(inq), 2);
    json_decref(inq);
    http(&f, "GET", "/metrics", NULL, NULL, NULL, &r);
    cr_assert(strstr(r.body, "\nprobity_idempotency_keys 2\n"), "%s", r.body);
    free(r.body);
    cr_assert_eq(metric(&f, "probity_decisions_total") - decisions0, 2,
                 "replays or refusals counted as decisions");
    free(r1.body);
    free(r2.body);
    fx_stop(&f);
}

/* A client is limited (its rate, its share of the answer memory) by its
 * IPv4 address, or by the /64 of its IPv6 one: a host holds a whole /64
 * and, limited per address, sent from a new one each time. */
Test(server, an_ipv6_client_is_limited_by_its_64)
{
    struct sockaddr_in6 a6, b6;
    struct sockaddr_in a4;
    char x[64], y[64];
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    b6 = a6;
    cr_assert_eq(inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &a6.sin6_addr), 1);
    cr_assert_eq(inet_pton(AF_INET6, "2001:db8:1:2::7", &b6.sin6_addr), 1);
    srv_address_key((struct sockaddr *)&a6, x, sizeof x);
    srv_address_key((struct sockaddr *)&b6, y, sizeof y);
    cr_assert_str_eq(x, "ip:2001:db8:1:2::/64");
    cr_assert_str_eq(x, y);
    cr_assert_eq(inet_pton(AF_INET6, "2001:db8:1:3::7", &b6.sin6_addr), 1);
    srv_address_key((struct sockaddr *)&b6, y, sizeof y);
    cr_assert_str_neq(x, y);
    cr_assert_eq(inet_pton(AF_INET6, "::ffff:192.0.2.7", &b6.sin6_addr), 1);
    srv_address_key((struct sockaddr *)&b6, y, sizeof y);
    cr_assert_str_eq(y, "ip:192.0.2.7");
    memset(&a4, 0, sizeof a4);
    a4.sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, "192.0.2.8", &a4.sin_addr), 1);
    srv_address_key((struct sockaddr *)&a4, y, sizeof y);
    cr_assert_str_eq(y, "ip:192.0.2.8");
    srv_address_key(NULL, y, sizeof y);
    cr_assert_str_eq(y, "ip:?");
}

/* The sweep comes just after a day begins, when records expire, not up
 * to an interval later (the public lists and cards showed entries resting
 * on expired records in force until then); a fixed clock has no next day. */
Test(server, the_sweep_comes_when_a_day_begins)
{
    int64_t day = 1800921600; /* 2027-01-26T00:00:00Z */
    cr_assert_eq(srv_sweep_wait(3600, day + 86400 - 600, 0), 601);
    cr_assert_eq(srv_sweep_wait(3600, day + 86400 - 3600, 0), 3600);
    cr_assert_eq(srv_sweep_wait(3600, day + 1, 0), 3600);
    cr_assert_eq(srv_sweep_wait(3600, day + 86400 - 600, 1), 3600);
    cr_assert_eq(srv_sweep_wait(10, day + 86400 - 600, 0), 10);
    cr_assert_eq(srv_sweep_wait(7 * 86400, day, 0), 86401);
}
