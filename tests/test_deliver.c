/*
 * test_deliver.c - notice delivery (DESIGN invariant 4, issue 4): the
 * policy's "notices" channels, spool files that match the outbox, webhook
 * retries against a small HTTP server run by the test, channels that have
 * accepted a notice not being sent it again, and a delivering process
 * killed with SIGKILL losing no notice.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h" /* src/lib: to log as a build of before did */
#include "helpers.h"
#include "internal.h"
#include "sha256.h"

/* The receiver is local: a proxy from the environment must not be asked
 * for it (libcurl honours http_proxy, and no_proxy). */
static void local_only(void)
{
    setenv("no_proxy", "127.0.0.1", 1);
}

TestSuite(deliver, .init = local_only, .timeout = 120);

/* ------------------------------------------------------------ registers */

/* A register whose policy is policy/default.json with its "notices"
 * section replaced by notices (JSON text), or removed when NULL. */
static prb_env *reg_with(const char *notices, char **dir, char reg[600])
{
    char src[512], pol[600];
    json_error_t err;
    prb_env *env = NULL;
    int64_t now;
    json_t *root = json_load_file(th_path(src, sizeof src, "policy/default.json"), 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    json_object_del(root, "notices");
    if (notices) {
        json_t *n = json_loads(notices, 0, &err);
        cr_assert_not_null(n, "%s: %s", notices, err.text);
        json_object_set_new(root, "notices", n);
    }
    *dir = th_tmpdir();
    snprintf(pol, sizeof pol, "%s/policy.json", *dir);
    snprintf(reg, 600, "%s/reg", *dir);
    cr_assert_eq(json_dump_file(root, pol, 0), 0);
    json_decref(root);
    cr_assert_eq(prb_init(reg, pol, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    return env;
}

/* A register delivering to one spool, "out" in the register; its path
 * in spool. */
static prb_env *spool_reg(char **dir, char reg[600], char spool[700])
{
    prb_env *env = reg_with("{\"channels\": [{\"type\": \"spool\", \"dir\": \"out\"}]}", dir, reg);
    snprintf(spool, 700, "%s/out", reg);
    return env;
}

/* An adverse record (so a notice) about subject ext:bank-a:S<i>. */
static int adverse_line(char *buf, size_t n, int i)
{
    return snprintf(buf, n,
                    "{\"furnisher\":\"bank-a\",\"ref\":\"L-%d\",\"subject\":{\"kind\":\"person\","
                    "\"id\":\"ext:bank-a:S%d\"},\"category\":\"payment_default\",\"status\":"
                    "\"open\",\"event_date\":\"2026-01-01\",\"settled_date\":null,\"legal_basis\":"
                    "\"loan contract\",\"fields\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}\n",
                    i, i);
}

/* Ingests adverse records first..first+n-1: n new notices. */
static void ingest_adverse(prb_env *env, int first, int n)
{
    size_t cap = (size_t)n * 400 + 1, len = 0;
    char *buf = malloc(cap);
    prb_ingest_stats st;
    cr_assert_not_null(buf);
    for (int i = first; i < first + n; i++)
        len += (size_t)adverse_line(buf + len, cap - len, i);
    cr_assert_eq(th_ingest(env, "adverse.ndjson", buf, PRB_FMT_NDJSON, 0, &st, NULL), PRB_OK, "%s",
                 prb_errmsg(env));
    cr_assert_eq(st.accepted, (uint64_t)n);
    free(buf);
}

/* The outbox (or its pending notices) as a JSON array. */
static json_t *outbox(prb_env *env, int pending)
{
    char *s = NULL;
    cr_assert_eq(prb_notices_json(env, pending, &s), PRB_OK, "%s", prb_errmsg(env));
    json_t *a = json_loads(s, 0, NULL);
    free(s);
    cr_assert(json_is_array(a));
    return a;
}

static json_t *channel(json_t *notice, const char *id)
{
    return json_object_get(json_object_get(notice, "channels"), id);
}

static void deliver(prb_env *env, prb_deliver_stats *st)
{
    cr_assert_eq(prb_notices_deliver(env, st), PRB_OK, "%s", prb_errmsg(env));
}

/* Counts NUMBER-HASH.json files in dir; *other (may be NULL) gets the
 * others. */
static size_t spool_count(const char *dir, size_t *other)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, o = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (l == 34 && strspn(e->d_name, "0123456789") == 12 && e->d_name[12] == '-' &&
            strspn(e->d_name + 13, "0123456789abcdef") == 16 && !strcmp(e->d_name + 29, ".json"))
            n++;
        else
            o++;
    }
    closedir(d);
    if (other)
        *other = o;
    return n;
}

/* The path of notice number's file in spool dir into path; how many
 * files the spool holds of that number. */
static size_t spool_path(const char *dir, json_int_t number, char path[800])
{
    char pattern[800];
    glob_t g;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "%s/%012lld-*.json", dir, (long long)number);
    if (!glob(pattern, 0, NULL, &g)) {
        n = g.gl_pathc;
        snprintf(path, 800, "%s", g.gl_pathv[n - 1]);
        globfree(&g);
    }
    return n;
}

static json_t *spool_file(const char *dir, json_int_t number)
{
    char path[800];
    json_error_t err;
    cr_assert_eq(spool_path(dir, number, path), 1, "notice %lld: not one file in %s",
                 (long long)number, dir);
    json_t *f = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(f, "%s: %s", path, err.text);
    return f;
}

/* ------------------------------------------------------ an HTTP receiver */

#define MAXREQ 64

/* A receiver on 127.0.0.1 (port chosen by the kernel) answering request
 * i with statuses[min(i, nstatus - 1)] and recording what it was sent.
 * Read its records only after server_stop. */
struct server {
    int fd, port;
    pthread_t th;
    int statuses[8], nstatus;
    int delay_ms;   /* set before use: each answer waits this long */
    int hold;       /* set before use: answer nothing, wait for the client to go */
    atomic_int got; /* requests read so far, for the test's thread */
    int nreq;
    char key[MAXREQ][32], ctype[MAXREQ][64], body[MAXREQ][2048];
};

static void header(const char *req, const char *name, char *out, size_t n)
{
    const char *p = strcasestr(req, name);
    out[0] = 0;
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    snprintf(out, n, "%.*s", (int)strcspn(p, "\r\n"), p);
}

/* Reads one request (headers and Content-Length bytes of body) into buf;
 * *body points at the body. Returns 0 if the client went away. */
static int read_request(int c, char *buf, size_t cap, char **body)
{
    size_t n = 0;
    for (;;) {
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            char cl[32];
            header(buf, "\r\nContent-Length:", cl, sizeof cl);
            size_t want = (size_t)(end + 4 - buf) + (size_t)atol(cl);
            if (n >= want || want >= cap) {
                *body = end + 4;
                return 1;
            }
        }
        ssize_t r = n < cap - 1 ? read(c, buf + n, cap - 1 - n) : 0;
        if (r <= 0)
            return 0;
        n += (size_t)r;
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    static char buf[65536];
    for (;;) {
        char *body, resp[128];
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        if (read_request(c, buf, sizeof buf, &body)) {
            int i = s->nreq++;
            int status = s->statuses[i < s->nstatus ? i : s->nstatus - 1];
            if (i < MAXREQ) {
                header(buf, "\r\nIdempotency-Key:", s->key[i], sizeof s->key[i]);
                header(buf, "\r\nContent-Type:", s->ctype[i], sizeof s->ctype[i]);
                snprintf(s->body[i], sizeof s->body[i], "%s", body);
            }
            atomic_fetch_add(&s->got, 1);
            if (s->hold) {
                while (read(c, buf, sizeof buf) > 0)
                    ;
                close(c);
                continue;
            }
            if (s->delay_ms) {
                struct timespec ts = {s->delay_ms / 1000, (s->delay_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
            int rl = snprintf(
                resp, sizeof resp,
                "HTTP/1.1 %d Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
            if (write(c, resp, (size_t)rl) != rl)
                fprintf(stderr, "test server: short write\n");
        }
        close(c);
    }
    return NULL;
}

static struct server *server_start(const int *statuses, int n)
{
    struct server *s = calloc(1, sizeof *s);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    cr_assert_not_null(s);
    memcpy(s->statuses, statuses, (size_t)n * sizeof *statuses);
    s->nstatus = n;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(s->fd, 0);
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->fd, 16), 0);
    cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->th, NULL, serve, s), 0);
    return s;
}

/* Stops accepting (shutdown wakes the blocked accept) and joins. */
static void server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->th, NULL);
    close(s->fd);
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ------------------------------------------------------------ the policy */

static int load_notices(const char *notices, prb_policy **p)
{
    char src[512];
    json_error_t err;
    json_t *root = json_load_file(th_path(src, sizeof src, "policy/default.json"), 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    if (notices)
        json_object_set_new(root, "notices", json_loads(notices, 0, &err));
    else
        json_object_del(root, "notices");
    char *text = json_dumps(root, 0);
    json_decref(root);
    int rc = prb_policy_load_buf("edited.json", text, strlen(text), p);
    free(text);
    return rc;
}

static void refused(const char *notices, const char *msg)
{
    prb_policy *p = NULL;
    cr_assert_eq(load_notices(notices, &p), PRB_EPOLICY, "%s: accepted", notices);
    cr_assert(strstr(prb_policy_errmsg(p), msg), "%s: message '%s', expected '%s'", notices,
              prb_policy_errmsg(p), msg);
    prb_policy_free(p);
}

Test(deliver, policy_channels_are_checked_strictly)
{
    refused("{\"channel\": []}", "edited.json: $.notices.channel: unknown key");
    refused("{\"channels\": []}", "$.notices.channels: required: an array of 1-8 channels");
    refused("[]", "$.notices: must be an object");
    refused("{\"channels\": [{\"type\": \"mail\", \"to\": \"x\"}]}",
            "$.notices.channels[0].type: must be one of spool, webhook");
    refused("{\"channels\": [{\"type\": \"spool\", \"dir\": \"s\", \"retries\": 3}]}",
            "$.notices.channels[0].retries: unknown key");
    refused("{\"channels\": [{\"type\": \"spool\", \"dir\": \"s\", \"url\": \"http://a/\"}]}",
            "$.notices.channels[0].url: unknown key");
    refused("{\"channels\": [{\"type\": \"spool\"}]}", "$.notices.channels[0].dir: required");
    refused("{\"channels\": [{\"type\": \"spool\", \"dir\": \"\"}]}",
            "$.notices.channels[0].dir: must be a directory name");
    refused("{\"channels\": [{\"type\": \"spool\", \"dir\": \"s\"}, {\"type\": \"webhook\", "
            "\"url\": \"ftp://127.0.0.1/n\"}]}",
            "$.notices.channels[1].url: must be an http:// or https:// URL with a host");
    refused("{\"channels\": [{\"type\": \"webhook\", \"url\": \"127.0.0.1/notices\"}]}",
            "$.notices.channels[0].url: must be an http");
    refused("{\"channels\": [{\"type\": \"webhook\", \"url\": \"http://a/n\", \"max_attempts\": "
            "0}]}",
            "$.notices.channels[0].max_attempts: must be between 1 and 20");
    refused("{\"channels\": [{\"type\": \"webhook\", \"url\": \"http://a/n\", \"timeout_ms\": "
            "\"2s\"}]}",
            "$.notices.channels[0].timeout_ms: must be an integer");
    refused("{\"channels\": [{\"type\": \"webhook\", \"url\": \"http://a/n?k=1\"}, {\"type\": "
            "\"webhook\", \"url\": \"http://a/n?k=2\"}]}",
            "$.notices.channels[1]: is the same channel as [0] (webhook:http://a/n)");

    /* A secret in the URL stays out of the id that notices carry. */
    prb_policy *p = NULL;
    cr_assert_eq(load_notices("{\"channels\": [{\"type\": \"webhook\", \"url\": "
                              "\"https://user:secret@hooks.example:8443/n?token=t#f\", "
                              "\"max_attempts\": 3}, {\"type\": \"spool\", \"dir\": \"/var/s\"}]}",
                              &p),
                 PRB_OK, "%s", prb_policy_errmsg(p));
    cr_assert_eq(p->nchannels, 2);
    cr_assert_str_eq(p->channels[0].id, "webhook:https://hooks.example:8443/n");
    cr_assert_str_eq(p->channels[0].target, "https://user:secret@hooks.example:8443/n?token=t#f");
    cr_assert_eq(p->channels[0].max_attempts, 3);
    cr_assert_eq(p->channels[0].timeout_ms, 2000);
    cr_assert_eq(p->channels[0].backoff_ms, 200);
    cr_assert_str_eq(p->channels[1].id, "spool:/var/s");
    prb_policy_free(p);

    /* Without the section: one spool directory, "spool". */
    cr_assert_eq(load_notices(NULL, &p), PRB_OK, "%s", prb_policy_errmsg(p));
    cr_assert_eq(p->nchannels, 1);
    cr_assert_eq(p->channels[0].type, PRB_CH_SPOOL);
    cr_assert_str_eq(p->channels[0].id, "spool:spool");
    prb_policy_free(p);
}

/* --------------------------------------------------------------- spool */

Test(deliver, spool_writes_exactly_the_pending_notices)
{
    char *dir, reg[600], spool[700], *good = th_slurp("tests/data/good.ndjson");
    prb_ingest_stats is;
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    cr_assert_eq(th_ingest(env, "good", good, PRB_FMT_NDJSON, 0, &is, NULL), PRB_OK);
    free(good);
    /* Three adverse records and two list entries. */
    json_t *before = outbox(env, 1);
    size_t total = json_array_size(before);
    cr_assert_eq(total, 5);

    deliver(env, &st);
    cr_assert_eq(st.delivered, total);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.attempts, total);
    size_t other = 0;
    cr_assert_eq(spool_count(spool, &other), total);
    cr_assert_eq(other, 0, "no temporary file is left behind");

    /* Each file is the notice as the outbox holds it, with its number and
     * subject, and without the delivery bookkeeping. */
    size_t i;
    json_t *n;
    json_array_foreach(before, i, n)
    {
        json_int_t num = json_integer_value(json_object_get(n, "notice"));
        json_t *f = spool_file(spool, num);
        cr_assert_eq(json_integer_value(json_object_get(f, "number")), num);
        cr_assert(json_equal(json_object_get(f, "subject"), json_object_get(n, "subject")));
        const char *keys[] = {"identifier", "kind", "about", "text", "created"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            cr_assert(json_equal(json_object_get(f, keys[k]), json_object_get(n, keys[k])),
                      "notice %lld: %s differs", (long long)num, keys[k]);
        cr_assert_null(json_object_get(f, "delivered"));
        cr_assert_null(json_object_get(f, "channels"));
        json_decref(f);
    }
    json_decref(before);

    /* The outbox says so, per channel and as a whole. */
    json_t *all = outbox(env, 0);
    json_array_foreach(all, i, n)
    {
        cr_assert(json_is_true(json_object_get(n, "delivered")));
        cr_assert_str_eq(json_string_value(json_object_get(n, "delivered_at")),
                         "2026-11-25T00:00:00Z");
        json_t *c = channel(n, "spool:out");
        cr_assert_eq(json_integer_value(json_object_get(c, "attempts")), 1);
        cr_assert_str_eq(json_string_value(json_object_get(c, "delivered_at")),
                         "2026-11-25T00:00:00Z");
        cr_assert_null(json_object_get(c, "last_error"));
    }
    json_decref(all);
    json_t *pending = outbox(env, 1);
    cr_assert_eq(json_array_size(pending), 0);
    json_decref(pending);

    /* A second run has nothing to do. */
    deliver(env, &st);
    cr_assert_eq(st.delivered + st.pending + st.attempts, 0);
    cr_assert_eq(spool_count(spool, NULL), total);

    /* A new notice is the only one the next run writes. */
    ingest_adverse(env, 1, 1);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(st.attempts, 1);
    cr_assert_eq(spool_count(spool, NULL), total + 1);
    json_decref(spool_file(spool, (json_int_t)total + 1));
    prb_close(env);
    th_rmrf(dir);
}

/* More notices than a chunk: their files are flushed several at a time
 * (deliver.c's FLUSHERS) and every one lands whole, under its number,
 * once. */
Test(deliver, spool_chunks_flushed_together_land_whole)
{
    char *dir, reg[600], spool[700];
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 300);
    json_t *before = outbox(env, 1);
    cr_assert_eq(json_array_size(before), 300);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 300);
    cr_assert_eq(st.attempts, 300);
    cr_assert_eq(st.pending, 0);
    size_t other = 0, i;
    cr_assert_eq(spool_count(spool, &other), 300);
    cr_assert_eq(other, 0, "a temporary file is left behind");
    json_t *n;
    json_array_foreach(before, i, n)
    {
        json_int_t num = json_integer_value(json_object_get(n, "notice"));
        json_t *f = spool_file(spool, num);
        cr_assert_eq(json_integer_value(json_object_get(f, "number")), num);
        cr_assert(json_equal(json_object_get(f, "text"), json_object_get(n, "text")),
                  "notice %lld: the text differs", (long long)num);
        json_decref(f);
    }
    json_decref(before);
    json_t *pending = outbox(env, 1);
    cr_assert_eq(json_array_size(pending), 0);
    json_decref(pending);
    prb_close(env);
    th_rmrf(dir);
}

/* Asked to stop (a server shutting down), a run marks what it handed over
 * and leaves the rest pending; the next run delivers the rest, each once.
 * A chunk's files are written first and put in place together, so the
 * files being written count as handed over. */
static int three_written(void *spool)
{
    size_t staged = 0, done = spool_count(spool, &staged);
    return done + staged >= 3;
}

/* Where the next run starts reading the outbox (deliver.c's floor), read
 * from the store as a second process would; 0 if not set. *env is closed
 * meanwhile (LMDB allows one open environment per file and process) and
 * opened again. */
static uint64_t floor_of(prb_env **env, const char *reg)
{
    prb_close(*env);
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi meta;
    MDB_val k = {12, "notice_floor"}, v;
    uint64_t f = 0;
    cr_assert_eq(mdb_env_create(&e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(e, 32), 0);
    cr_assert_eq(mdb_env_set_mapsize(e, (size_t)4 << 30), 0);
    cr_assert_eq(mdb_env_open(e, reg, MDB_RDONLY, 0644), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_dbi_open(t, "meta", 0, &meta), 0);
    if (!mdb_get(t, meta, &k, &v)) {
        cr_assert_eq(v.mv_size, 8);
        for (int i = 0; i < 8; i++)
            f = f << 8 | ((const unsigned char *)v.mv_data)[i];
    }
    mdb_txn_abort(t);
    mdb_env_close(e);
    cr_assert_eq(prb_open(reg, env), PRB_OK, "%s", prb_errmsg(*env));
    th_set_day(*env, TH_TODAY);
    return f;
}

Test(deliver, a_run_asked_to_stop_keeps_what_it_did)
{
    char *dir, reg[600], spool[700];
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 10);
    json_t *pending = outbox(env, 1);
    cr_assert_eq(json_array_size(pending), 10);
    json_decref(pending);

    prb_set_cancel(env, three_written, spool);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 3);
    cr_assert_eq(st.attempts, 3);
    cr_assert_eq(spool_count(spool, NULL), 3);
    pending = outbox(env, 1);
    cr_assert_eq(json_array_size(pending), 7, "the handed-over notices were not marked");
    json_decref(pending);
    /* The next run starts at the first notice still pending. */
    cr_assert_eq(floor_of(&env, reg), 4);

    prb_set_cancel(env, NULL, NULL);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 7);
    cr_assert_eq(st.attempts, 7, "a notice was handed over twice");
    cr_assert_eq(spool_count(spool, NULL), 10);
    pending = outbox(env, 1);
    cr_assert_eq(json_array_size(pending), 0);
    json_decref(pending);
    cr_assert_eq(floor_of(&env, reg), 11);
    /* A notice made after it is the next run's only one. */
    ingest_adverse(env, 11, 1);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(spool_count(spool, NULL), 11);
    cr_assert_eq(floor_of(&env, reg), 12);
    prb_close(env);
    th_rmrf(dir);
}

/* A policy without the section delivers to "spool" in the register, and
 * an absolute directory is used as it is. */
Test(deliver, spool_directory_default_and_absolute)
{
    char *dir, reg[600], path[700], notices[1024];
    prb_deliver_stats st;
    prb_env *env = reg_with(NULL, &dir, reg);
    ingest_adverse(env, 1, 2);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 2);
    snprintf(path, sizeof path, "%s/spool", reg);
    cr_assert_eq(spool_count(path, NULL), 2);
    prb_close(env);
    th_rmrf(dir);

    char *abs = th_tmpdir();
    snprintf(path, sizeof path, "%s/deep/er", abs);
    snprintf(notices, sizeof notices, "{\"channels\": [{\"type\": \"spool\", \"dir\": \"%s\"}]}",
             path);
    env = reg_with(notices, &dir, reg);
    ingest_adverse(env, 1, 2);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 2);
    cr_assert_eq(spool_count(path, NULL), 2);
    prb_close(env);
    th_rmrf(dir);
    th_rmrf(abs);
}

/* A spool directory that cannot be made leaves the notices pending with
 * the reason, and is not an error of the call. */
Test(deliver, unusable_spool_leaves_notices_pending)
{
    char *dir, reg[600], notices[1024], blocker[700];
    prb_deliver_stats st;
    char *tmp = th_tmpdir();
    snprintf(blocker, sizeof blocker, "%s/file", tmp);
    FILE *f = fopen(blocker, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(notices, sizeof notices,
             "{\"channels\": [{\"type\": \"spool\", \"dir\": \"%s/sub\"}]}", blocker);
    prb_env *env = reg_with(notices, &dir, reg);
    ingest_adverse(env, 1, 1);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 0);
    cr_assert_eq(st.pending, 1);
    json_t *p = outbox(env, 1);
    cr_assert_eq(json_array_size(p), 1);
    char id[800];
    snprintf(id, sizeof id, "spool:%s/sub", blocker);
    json_t *c = channel(json_array_get(p, 0), id);
    cr_assert_eq(json_integer_value(json_object_get(c, "attempts")), 1);
    cr_assert(strstr(json_string_value(json_object_get(c, "last_error")), "Not a directory"), "%s",
              json_string_value(json_object_get(c, "last_error")));
    json_decref(p);
    prb_close(env);
    th_rmrf(dir);
    th_rmrf(tmp);
}

/* In a chunk flushed together, a file that cannot be put in place (here
 * a directory already has its name) fails only its own notice: it stays
 * pending with the reason and no temporary file; the others are
 * delivered, and it is once the name is free. */
Test(deliver, a_file_that_cannot_be_placed_fails_only_its_notice)
{
    char *dir, reg[600], spool[700], blocked[800], *tdir, treg[600], tspool[700], name[800];
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 40);
    json_t *all = outbox(env, 1);
    cr_assert_eq(json_array_size(all), 40);
    json_int_t victim = json_integer_value(json_object_get(json_array_get(all, 17), "notice"));
    json_decref(all);
    /* A file is named by its notice's number and content: a twin
     * register, made the same way, gives the victim's name. */
    prb_env *twin = spool_reg(&tdir, treg, tspool);
    ingest_adverse(twin, 1, 40);
    deliver(twin, &st);
    cr_assert_eq(spool_path(tspool, victim, name), 1);
    prb_close(twin);
    cr_assert_eq(mkdir(spool, 0755), 0);
    snprintf(blocked, sizeof blocked, "%s%s", spool, strrchr(name, '/'));
    th_rmrf(tdir);
    cr_assert_eq(mkdir(blocked, 0755), 0);
    snprintf(blocked + strlen(blocked), sizeof blocked - strlen(blocked), "/x");
    FILE *f = fopen(blocked, "w"); /* not empty: a rename cannot replace it */
    cr_assert_not_null(f);
    fclose(f);

    deliver(env, &st);
    cr_assert_eq(st.delivered, 39);
    cr_assert_eq(st.pending, 1);
    size_t other = 0;
    /* 39 files and the directory in the way, which has a notice's name. */
    cr_assert_eq(spool_count(spool, &other), 40);
    cr_assert_eq(other, 0, "a temporary file is left behind");
    json_t *p = outbox(env, 1);
    cr_assert_eq(json_array_size(p), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(p, 0), "notice")), victim);
    json_t *c = channel(json_array_get(p, 0), "spool:out");
    cr_assert(strstr(json_string_value(json_object_get(c, "last_error")), "cannot store"), "%s",
              json_string_value(json_object_get(c, "last_error")));
    json_decref(p);

    cr_assert_eq(unlink(blocked), 0);
    *strrchr(blocked, '/') = 0;
    cr_assert_eq(rmdir(blocked), 0);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(spool_count(spool, &other), 40);
    cr_assert_eq(other, 0);
    json_decref(spool_file(spool, victim));
    prb_close(env);
    th_rmrf(dir);
}

/* Two registers whose policies name one spool directory (or a register
 * restored from a backup, delivering beside the one it was copied from)
 * number different notices the same. Each is a file of its own, named by
 * its number and the hash of its content that a webhook's
 * Idempotency-Key carries: named by the number alone, the second
 * register's file replaced the first's before a receiver read it, and
 * both were marked delivered, so one subject was never told. */
Test(deliver, two_registers_sharing_a_spool_keep_both_notices)
{
    char *d1, *d2, *base = th_tmpdir(), r1[600], r2[600], spool[700], notices[1024];
    char names[4][256], texts[4][4096];
    size_t files = 0;
    prb_deliver_stats st;
    snprintf(spool, sizeof spool, "%s/shared", base);
    snprintf(notices, sizeof notices, "{\"channels\": [{\"type\": \"spool\", \"dir\": \"%s\"}]}",
             spool);
    prb_env *a = reg_with(notices, &d1, r1), *b = reg_with(notices, &d2, r2);
    ingest_adverse(a, 1, 1);
    ingest_adverse(b, 2, 1);
    deliver(a, &st);
    cr_assert_eq(st.delivered, 1);
    deliver(b, &st);
    cr_assert_eq(st.delivered, 1);
    DIR *d = opendir(spool);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        char path[1000];
        if (e->d_name[0] == '.')
            continue;
        cr_assert_lt(files, 4);
        snprintf(names[files], sizeof names[files], "%s", e->d_name);
        snprintf(path, sizeof path, "%s/%s", spool, e->d_name);
        th_slurp_into(path, texts[files++], sizeof texts[0]);
    }
    closedir(d);
    cr_assert_eq(files, 2, "one notice replaced the other in the spool");
    int about[3] = {0};
    for (size_t i = 0; i < files; i++) {
        json_t *f = json_loads(texts[i], 0, NULL);
        cr_assert_not_null(f, "%s: %s", names[i], texts[i]);
        cr_assert_eq(json_integer_value(json_object_get(f, "number")), 1);
        const char *who = json_string_value(json_object_get(f, "identifier"));
        cr_assert(who && !strncmp(who, "ext:bank-a:S", 12), "%s", texts[i]);
        about[atoi(who + 12) % 3]++;
        json_decref(f);
        /* NUMBER-HASH.json, the hash of what was sent as a webhook's
         * Idempotency-Key has it: a receiver drops repeats by either. */
        unsigned char h[PRB_HASH_LEN];
        char want[64];
        size_t len = strlen(texts[i]);
        cr_assert(len && texts[i][len - 1] == '\n');
        prb_sha256(texts[i], len - 1, h);
        snprintf(want, sizeof want, "000000000001-%02x%02x%02x%02x%02x%02x%02x%02x.json", h[0],
                 h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
        cr_assert_str_eq(names[i], want);
    }
    cr_assert(about[1] == 1 && about[2] == 1, "the two notices are not one of each register's");
    prb_close(a);
    prb_close(b);
    th_rmrf(d1);
    th_rmrf(d2);
    th_rmrf(base);
}

/* -------------------------------------------------------------- webhook */

static prb_env *reg_webhook(const struct server *s, int max_attempts, int backoff_ms,
                            const char *extra, char **dir, char reg[600], char id[128])
{
    char notices[1024];
    snprintf(notices, sizeof notices,
             "{\"channels\": [%s{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:%d/notices\", "
             "\"timeout_ms\": 5000, \"max_attempts\": %d, \"backoff_ms\": %d}]}",
             extra ? extra : "", s->port, max_attempts, backoff_ms);
    snprintf(id, 128, "webhook:http://127.0.0.1:%d/notices", s->port);
    return reg_with(notices, dir, reg);
}

Test(deliver, webhook_retries_with_backoff_until_2xx)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct timespec t0;
    struct server *s = server_start((const int[]){503, 503, 200}, 3);
    prb_env *env = reg_webhook(s, 5, 40, NULL, &dir, reg, id);
    ingest_adverse(env, 1, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    deliver(env, &st);
    double ms = since(&t0);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.attempts, 3);
    /* Waits of 40 and then 80 ms came between the three attempts. */
    cr_assert_geq(ms, 120.0, "the backoff was not waited: %.1f ms", ms);
    server_stop(s);
    cr_assert_eq(s->nreq, 3);
    for (int i = 0; i < 3; i++) {
        /* The number and a hash of what is sent: the same for each try. */
        cr_assert(!strncmp(s->key[i], "\"1-", 3) && strlen(s->key[i]) == 20 &&
                      strspn(s->key[i] + 3, "0123456789abcdef") == 16,
                  "request %d: Idempotency-Key '%s'", i, s->key[i]);
        cr_assert_str_eq(s->key[i], s->key[0]);
        cr_assert_str_eq(s->ctype[i], "application/json");
        json_t *b = json_loads(s->body[i], 0, NULL);
        cr_assert_not_null(b, "request %d: body is not JSON: %s", i, s->body[i]);
        cr_assert_eq(json_integer_value(json_object_get(b, "number")), 1);
        cr_assert_str_eq(json_string_value(json_object_get(b, "kind")), "adverse_record");
        cr_assert_str_eq(json_string_value(json_object_get(b, "identifier")), "ext:bank-a:S1");
        json_decref(b);
    }
    json_t *all = outbox(env, 0);
    json_t *n = json_array_get(all, 0), *c = channel(n, id);
    cr_assert(json_is_true(json_object_get(n, "delivered")));
    cr_assert_eq(json_integer_value(json_object_get(c, "attempts")), 3);
    cr_assert_null(json_object_get(c, "last_error"));
    json_decref(all);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

Test(deliver, webhook_that_always_fails_leaves_the_notice_pending)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){500}, 1);
    prb_env *env = reg_webhook(s, 3, 5, NULL, &dir, reg, id);
    ingest_adverse(env, 1, 1);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 0);
    cr_assert_eq(st.pending, 1);
    cr_assert_eq(st.attempts, 3);
    json_t *p = outbox(env, 1);
    cr_assert_eq(json_array_size(p), 1);
    json_t *n = json_array_get(p, 0), *c = channel(n, id);
    cr_assert(json_is_false(json_object_get(n, "delivered")));
    cr_assert_null(json_object_get(n, "delivered_at"));
    cr_assert_eq(json_integer_value(json_object_get(c, "attempts")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(c, "last_error")), "HTTP status 500");
    cr_assert_null(json_object_get(c, "delivered_at"));
    json_decref(p);

    /* The next run tries again; the attempts add up. */
    deliver(env, &st);
    cr_assert_eq(st.pending, 1);
    cr_assert_eq(st.attempts, 3);
    p = outbox(env, 1);
    c = channel(json_array_get(p, 0), id);
    cr_assert_eq(json_integer_value(json_object_get(c, "attempts")), 6);
    json_decref(p);
    server_stop(s);
    cr_assert_eq(s->nreq, 6);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

/* What the log's last leaf logs, as the operator's proof decodes it. */
static json_t *last_event(prb_env *env)
{
    char *json;
    cr_assert_eq(prb_audit_prove(env, 0, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    json_t *p = json_loads(json, 0, NULL);
    free(json);
    json_int_t n = json_integer_value(json_object_get(p, "tree_size"));
    json_decref(p);
    cr_assert_eq(prb_audit_prove(env, (uint64_t)n - 1, 0, &json), PRB_OK, "%s", prb_errmsg(env));
    p = json_loads(json, 0, NULL);
    free(json);
    json_t *ev = json_incref(json_object_get(p, "event"));
    json_decref(p);
    cr_assert_not_null(ev);
    return ev;
}

static void verifies(prb_env *env)
{
    prb_verify_stats vs;
    struct th_buf rep = {0};
    cr_assert_eq(prb_verify(env, th_collect, &rep, &vs), PRB_OK, "%s\n%.2000s", prb_errmsg(env),
                 rep.p ? rep.p : "");
    free(rep.p);
}

/* A notice is logged "delivered" only once every channel has it: a failed
 * attempt (here one channel accepts, the webhook answers 500) was logged
 * as a delivery too, and an auditor reading the leaf believed the subject
 * was told. The log and the outbox still agree (verify). */
Test(deliver, a_failed_attempt_is_not_logged_as_delivered)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){500, 200}, 2);
    prb_env *env =
        reg_webhook(s, 1, 1, "{\"type\": \"spool\", \"dir\": \"spool\"}, ", &dir, reg, id);
    ingest_adverse(env, 1, 1);
    deliver(env, &st);
    cr_assert_eq(st.pending, 1);
    json_t *ev = last_event(env);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "kind")), "delivery_attempt");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "object")), "1");
    json_decref(ev);
    verifies(env);
    /* A log of before, which logged the attempt as delivered, verifies. */
    MDB_txn *txn;
    MDB_val k = {8, (unsigned char[8]){0, 0, 0, 0, 0, 0, 0, 1}}, v;
    cr_assert_eq(prb_wtxn_begin(env, &txn), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_eq(mdb_get(txn, env->outbox, &k, &v), 0);
    cr_assert_eq(prb_audit_log(env, PRB_LEAF_DELIVERED, 0, 1, v.mv_data, v.mv_size), PRB_OK);
    cr_assert_eq(prb_wtxn_commit(env, txn), PRB_OK, "%s", prb_errmsg(env));
    verifies(env);

    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    ev = last_event(env);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "kind")), "delivered");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "object")), "1");
    json_decref(ev);
    verifies(env);
    server_stop(s);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

/* Once a notice has used up its attempts, later notices of the run get
 * one each: a dead receiver costs one try per notice. A receiver that is
 * back takes the rest. */
Test(deliver, dead_receiver_costs_one_try_per_notice)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){500, 500, 500, 500, 500, 200}, 6);
    prb_env *env = reg_webhook(s, 3, 1, NULL, &dir, reg, id);
    ingest_adverse(env, 1, 3);
    deliver(env, &st);
    cr_assert_eq(st.pending, 3);
    cr_assert_eq(st.attempts, 5, "3 for the first notice, 1 each for the others");
    deliver(env, &st);
    cr_assert_eq(st.delivered, 3);
    cr_assert_eq(st.attempts, 3);
    server_stop(s);
    cr_assert_eq(s->nreq, 8);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

/* A channel that has accepted a notice is not sent it again while another
 * channel is still failing. */
Test(deliver, accepted_channels_are_not_sent_again)
{
    char *dir, reg[600], id[128], path[800], spool[700];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){500, 500, 200}, 3);
    prb_env *env =
        reg_webhook(s, 2, 1, "{\"type\": \"spool\", \"dir\": \"spool\"}, ", &dir, reg, id);
    ingest_adverse(env, 1, 1);
    deliver(env, &st);
    cr_assert_eq(st.pending, 1);
    cr_assert_eq(st.attempts, 3, "one spool write, two POSTs");
    json_t *p = outbox(env, 1);
    json_t *n = json_array_get(p, 0);
    cr_assert_str_eq(json_string_value(json_object_get(channel(n, "spool:spool"), "delivered_at")),
                     "2026-11-25T00:00:00Z");
    cr_assert_null(json_object_get(channel(n, id), "delivered_at"));
    json_decref(p);

    /* Were the spool written again, the file would come back. */
    snprintf(spool, sizeof spool, "%s/spool", reg);
    cr_assert_eq(spool_path(spool, 1, path), 1);
    cr_assert_eq(unlink(path), 0);
    int64_t later;
    prb_parse_now("2026-11-26T08:30:00Z", &later);
    prb_set_now(env, later);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(st.attempts, 1);
    struct stat sb;
    cr_assert_neq(stat(path, &sb), 0, "the spool was sent the notice twice");
    json_t *all = outbox(env, 0);
    n = json_array_get(all, 0);
    cr_assert_str_eq(json_string_value(json_object_get(n, "delivered_at")), "2026-11-26T08:30:00Z");
    cr_assert_str_eq(json_string_value(json_object_get(channel(n, "spool:spool"), "delivered_at")),
                     "2026-11-25T00:00:00Z");
    cr_assert_eq(json_integer_value(json_object_get(channel(n, id), "attempts")), 3);
    json_decref(all);
    server_stop(s);
    cr_assert_eq(s->nreq, 3);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------------------------ CLI */

static int run_cli(const char *dir, const char *args, char *out, size_t n)
{
    char cmd[2048], o[700];
    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    snprintf(o, sizeof o, "%s/.out", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && env PROBITY_NOW=%s %s %s >'%s' 2>&1", dir, TH_TODAY, bin,
             args, o);
    int st = system(cmd);
    FILE *f = fopen(o, "r");
    size_t k = f ? fread(out, 1, n - 1, f) : 0;
    out[k] = 0;
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(deliver, cli_deliver_reports_counts_and_fails_while_pending)
{
    char *dir, reg[600], id[128], out[65536];
    struct server *s = server_start((const int[]){500, 500, 500, 200}, 4);
    prb_env *env =
        reg_webhook(s, 1, 0, "{\"type\": \"spool\", \"dir\": \"spool\"}, ", &dir, reg, id);
    ingest_adverse(env, 1, 3);
    prb_close(env);

    int rc = run_cli(dir, "notices reg --deliver", out, sizeof out);
    cr_assert_eq(rc, 74, "%d: %s", rc, out);
    cr_assert(strstr(out, "delivered 0, pending 3, attempts 6"), "%s", out);
    cr_assert(strstr(out, "3 notices still pending"), "%s", out);
    rc = run_cli(dir, "notices reg --pending", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"last_error\": \"HTTP status 500\""), "%s", out);
    cr_assert(strstr(out, "\"spool:spool\": {"), "%s", out);
    cr_assert_eq(run_cli(dir, "notices reg --pending --deliver", out, sizeof out), 2);

    rc = run_cli(dir, "notices reg --deliver", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "delivered 3, pending 0, attempts 3"), "%s", out);
    rc = run_cli(dir, "notices reg --pending", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "[]"), "%s", out);
    server_stop(s);
    cr_assert_eq(s->nreq, 6);
    free(s);
    th_rmrf(dir);
}

/* ---------------------------------------------------------------- crash */

/* Invariant 4 across a crash: a `probity notices --deliver` killed with
 * SIGKILL while it is writing the spool, then a run to completion,
 * leaves every notice in the spool and marked delivered. The kill is
 * sent once the spool holds a quarter of the notices (polled), so it
 * lands mid-delivery; should the child finish first, the assertions
 * still hold and the log says so. The spool is on tmpfs when there is
 * one: a killed process is not a power loss, so what is tested does not
 * depend on the disk, and 3000 fsyncs on a slow disk take a minute. */
Test(deliver, sigkill_while_delivering_loses_no_notice, .timeout = 600)
{
    enum { N = 3000 };
    char *dir, reg[600], spool[700], notices[1024];
    prb_deliver_stats st;
    char *base = th_shmdir();
    cr_assert_not_null(base, "no temporary directory");
    snprintf(spool, sizeof spool, "%s/spool", base);
    snprintf(notices, sizeof notices, "{\"channels\": [{\"type\": \"spool\", \"dir\": \"%s\"}]}",
             spool);
    prb_env *env = reg_with(notices, &dir, reg);
    ingest_adverse(env, 1, N);
    prb_close(env);

    const char *bin = getenv("PROBITY_BIN");
    cr_assert_not_null(bin, "PROBITY_BIN must name the probity binary (make test sets it)");
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(126);
        setenv("PROBITY_NOW", TH_TODAY, 1);
        execl(bin, "probity", "notices", reg, "--deliver", (char *)NULL);
        _exit(127);
    }
    int status, killed = 0;
    size_t seen;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        cr_assert_neq(w, -1);
        if (w == pid)
            break;
        if ((seen = spool_count(spool, NULL)) >= N / 4) {
            kill(pid, SIGKILL);
            cr_assert_eq(waitpid(pid, &status, 0), pid);
            killed = 1;
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (!killed)
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: %d", status);

    int64_t now;
    cr_assert_eq(prb_open(reg, &env), PRB_OK, "%s", prb_errmsg(env));
    prb_parse_now(TH_TODAY, &now);
    prb_set_now(env, now);
    json_t *pending = outbox(env, 1);
    size_t left = json_array_size(pending);
    json_decref(pending);
    deliver(env, &st);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.delivered, left);
    cr_log_info("killed: %d; the child marked %zu of %d, the re-run delivered %llu", killed,
                (size_t)N - left, N, (unsigned long long)st.delivered);

    /* Every notice is in the spool, whole, and marked delivered. */
    cr_assert_eq(spool_count(spool, NULL), N);
    for (json_int_t i = 1; i <= N; i++) {
        json_t *f = spool_file(spool, i);
        cr_assert_eq(json_integer_value(json_object_get(f, "number")), i);
        json_decref(f);
    }
    json_t *all = outbox(env, 0);
    cr_assert_eq(json_array_size(all), N);
    size_t i;
    json_t *n;
    json_array_foreach(all, i, n)
        cr_assert(json_is_true(json_object_get(n, "delivered")), "notice %zu was lost", i + 1);
    json_decref(all);
    deliver(env, &st);
    cr_assert_eq(st.delivered + st.pending + st.attempts, 0);
    prb_close(env);
    th_rmrf(dir);
    th_rmrf(base);
}

/* A callback that, the first time delivery asks whether to stop, makes a
 * new notice (as an ingest in the server would while a run goes on). */
static int new_notice_once(void *env)
{
    static int done;
    if (!done++)
        ingest_adverse(env, 100, 1);
    return 0;
}

/* A run used to read on until no pending notice was left: with notices
 * made as fast as it delivered them it never returned, and the sweep it
 * runs in never reached retention or the lists again. It ends at the last
 * notice made before it began; the later one is counted and is the next
 * run's. */
Test(deliver, a_run_ends_where_the_outbox_ended)
{
    char *dir, reg[600], spool[700];
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 5);
    prb_set_cancel(env, new_notice_once, env);
    deliver(env, &st);
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(st.delivered, 5);
    cr_assert_eq(st.later, 1);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(spool_count(spool, NULL), 5);
    json_t *p = outbox(env, 1);
    cr_assert_eq(json_array_size(p), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(p, 0), "notice")), 6);
    json_decref(p);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(st.later, 0);
    cr_assert_eq(spool_count(spool, NULL), 6);
    prb_close(env);
    th_rmrf(dir);
}

/* With a time budget a run starts no new hand-over once it is spent: six
 * notices to a receiver taking 400 ms each do not fit in one second. What
 * is left is counted and goes at the next run. */
Test(deliver, a_run_keeps_to_its_time_budget)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){200}, 1);
    s->delay_ms = 400;
    prb_env *env = reg_webhook(s, 1, 1, NULL, &dir, reg, id);
    ingest_adverse(env, 1, 6);
    cr_assert_eq(prb_notices_deliver_within(env, 1000, &st), PRB_OK, "%s", prb_errmsg(env));
    cr_assert_geq(st.delivered, 1);
    cr_assert_lt(st.delivered, 6);
    cr_assert_eq(st.delivered + st.later, 6);
    cr_assert_eq(st.pending, 0);
    uint64_t first = st.delivered;
    s->delay_ms = 0;
    deliver(env, &st);
    cr_assert_eq(st.delivered, 6 - first);
    server_stop(s);
    cr_assert_eq(s->nreq, 6, "a notice was sent twice");
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

static int once_the_receiver_has_it(void *server)
{
    return atomic_load(&((struct server *)server)->got) > 0;
}

/* A stop does not wait for a receiver that does not answer (a channel's
 * timeout may be minutes): the request is cut, and the notice stays
 * pending with the reason. */
Test(deliver, a_stop_cuts_a_request_in_flight)
{
    char *dir, reg[600], id[128];
    prb_deliver_stats st;
    struct server *s = server_start((const int[]){200}, 1);
    s->hold = 1;
    prb_env *env = reg_webhook(s, 3, 1, NULL, &dir, reg, id);
    ingest_adverse(env, 1, 2);
    prb_set_cancel(env, once_the_receiver_has_it, s);
    deliver(env, &st);
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(st.delivered, 0);
    cr_assert_eq(st.attempts, 1);
    cr_assert_eq(st.pending + st.later, 2);
    json_t *p = outbox(env, 1);
    json_t *c = channel(json_array_get(p, 0), id);
    cr_assert_str_eq(json_string_value(json_object_get(c, "last_error")),
                     "the delivery run was stopped before the receiver answered");
    json_decref(p);
    server_stop(s);
    free(s);
    prb_close(env);
    th_rmrf(dir);
}

struct locked {
    const char *spool;
    int fd, calls, files_when_freed;
};

/* Holds the spool's lock for delivery's first few questions, then lets
 * go, noting what the spool held by then. */
static int let_go_later(void *arg)
{
    struct locked *l = arg;
    if (++l->calls == 3) {
        size_t other = 0, n = spool_count(l->spool, &other);
        l->files_when_freed = (int)(n + other);
        flock(l->fd, LOCK_UN);
    }
    return 0;
}

/* Two deliverers at once (the server's sweep and a cron job) wrote the
 * same temporary file names in a spool, and one could rename the other's
 * half-written file into place. A run takes the spool's lock first and
 * waits, asking whether to stop, while another holds it. */
Test(deliver, one_deliverer_at_a_time_writes_a_spool)
{
    char *dir, reg[600], spool[700];
    prb_deliver_stats st;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 4);
    cr_assert_eq(mkdir(spool, 0755), 0);
    struct locked l = {spool, open(spool, O_RDONLY | O_DIRECTORY), 0, -1};
    cr_assert_geq(l.fd, 0);
    cr_assert_eq(flock(l.fd, LOCK_EX), 0);
    prb_set_cancel(env, let_go_later, &l);
    deliver(env, &st);
    prb_set_cancel(env, NULL, NULL);
    cr_assert_eq(l.files_when_freed, 0, "the run wrote while another held the spool");
    cr_assert_eq(st.delivered, 4);
    cr_assert_eq(spool_count(spool, NULL), 4);
    close(l.fd);
    prb_close(env);
    th_rmrf(dir);
}

/* ------------------------------------------------ the server's guard */

/* Every transaction begun in this binary passes through here (the test
 * executable's definition is found before liblmdb's). On a thread that
 * watches, one begun outside the guard is counted. */
static __thread int watching, guarded, unguarded, entered;

int mdb_txn_begin(MDB_env *e, MDB_txn *parent, unsigned int flags, MDB_txn **txn)
{
    static int (*real)(MDB_env *, MDB_txn *, unsigned int, MDB_txn **);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "mdb_txn_begin");
    if (watching && !guarded)
        unguarded++;
    return real(e, parent, flags, txn);
}

static void count_guard(void *ctx, int enter)
{
    cr_assert_eq(guarded, !enter, "the guard was %s twice", enter ? "entered" : "left");
    guarded = enter;
    entered += enter;
    (*(int *)ctx)++;
}

/* A server keeps delivery's transactions apart from the growth of the map
 * (server.c's delivery_guard): each begins and ends inside the guard, and
 * none is open while a notice is handed over. */
Test(deliver, every_transaction_of_a_run_is_inside_the_guard)
{
    char *dir, reg[600], spool[700];
    prb_deliver_stats st;
    int calls = 0;
    prb_env *env = spool_reg(&dir, reg, spool);
    ingest_adverse(env, 1, 300);
    prb_set_guard(env, count_guard, &calls);
    watching = 1;
    deliver(env, &st);
    watching = 0;
    cr_assert_eq(st.delivered, 300);
    cr_assert_eq(unguarded, 0, "%d transactions began outside the guard", unguarded);
    cr_assert_eq(guarded, 0, "the guard was not left");
    /* The bounds, each chunk read and each chunk marked, the floor. */
    cr_assert_geq(entered, 4, "entered %d times", entered);
    cr_assert_eq(calls, 2 * entered);
    /* Without a guard nothing is called. */
    prb_set_guard(env, NULL, NULL);
    ingest_adverse(env, 301, 1);
    deliver(env, &st);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(calls, 2 * entered);
    prb_close(env);
    th_rmrf(dir);
}
