/*
 * metrics.c - GET /metrics in the Prometheus text format (version 0.0.4):
 * requests by route and status, a latency histogram per route, the group
 * commit's batches, the sweep, and gauges read from the register when
 * scraped (subjects, records, record versions) or kept from the last
 * delivery run (notices pending). Counters are relaxed atomics bumped when
 * a request completes; nothing here takes a lock on the request path.
 */
#include "srv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned statuses[SRV_NSTATUS - 1] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
                                                   413, 415, 422, 429, 500, 503, 507, 431};
/* Upper bounds of the latency buckets, in µs; the last bucket is +Inf. */
static const uint64_t bounds[SRV_NBUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

void srv_metrics_count(srv_metrics *m, int route, unsigned status, uint64_t micros)
{
    int ri = route >= 0 && route < R__N ? route : R__N, si = SRV_NSTATUS - 1, bi = SRV_NBUCKETS - 1;
    for (int i = 0; i < SRV_NSTATUS - 1; i++)
        if (statuses[i] == status)
            si = i;
    for (int i = SRV_NBUCKETS - 2; i >= 0 && micros <= bounds[i]; i--)
        bi = i;
    atomic_fetch_add_explicit(&m->requests[ri][si], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->buckets[ri][bi], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->micros[ri], micros, memory_order_relaxed);
}

/* A growing text buffer; on failure it frees itself and stays NULL. */
struct out {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    if (!o->buf)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            free(o->buf);
            o->buf = NULL;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        char *b = realloc(o->buf, o->cap * 2 + (size_t)n);
        if (!b) {
            free(o->buf);
            o->buf = NULL;
            return;
        }
        o->buf = b;
        o->cap = o->cap * 2 + (size_t)n;
    }
}

static void route_label(struct out *o, int r)
{
    if (r == R__N)
        put(o, "route=\"none\",method=\"\"");
    else
        put(o, "route=\"%s\",method=\"%s\"", srv_route_pattern(r), srv_route_method(r));
}

static void requests(struct out *o, srv_metrics *m)
{
    put(o, "# HELP probity_http_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE probity_http_requests_total counter\n");
    for (int r = 0; r <= R__N; r++)
        for (int si = 0; si < SRV_NSTATUS; si++) {
            uint64_t n = atomic_load_explicit(&m->requests[r][si], memory_order_relaxed);
            if (!n)
                continue;
            put(o, "probity_http_requests_total{");
            route_label(o, r);
            if (si < SRV_NSTATUS - 1)
                put(o, ",status=\"%u\"} %llu\n", statuses[si], (unsigned long long)n);
            else
                put(o, ",status=\"other\"} %llu\n", (unsigned long long)n);
        }
}

static void latency(struct out *o, srv_metrics *m)
{
    put(o, "# HELP probity_http_request_duration_seconds Time from a request's headers to "
           "its answer.\n"
           "# TYPE probity_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= R__N; r++) {
        uint64_t cum = 0, b[SRV_NBUCKETS];
        for (int i = 0; i < SRV_NBUCKETS; i++)
            cum += b[i] = atomic_load_explicit(&m->buckets[r][i], memory_order_relaxed);
        if (!cum)
            continue;
        cum = 0;
        for (int i = 0; i < SRV_NBUCKETS; i++) {
            cum += b[i];
            put(o, "probity_http_request_duration_seconds_bucket{");
            route_label(o, r);
            if (i < SRV_NBUCKETS - 1)
                put(o, ",le=\"%g\"} %llu\n", (double)bounds[i] / 1e6, (unsigned long long)cum);
            else
                put(o, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        put(o, "probity_http_request_duration_seconds_sum{");
        route_label(o, r);
        put(o, "} %.6f\n", (double)atomic_load(&m->micros[r]) / 1e6);
        put(o, "probity_http_request_duration_seconds_count{");
        route_label(o, r);
        put(o, "} %llu\n", (unsigned long long)cum);
    }
}

static void gauge(struct out *o, const char *name, const char *help, const char *type,
                  unsigned long long v)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

char *srv_metrics_text(srv *s, prb_env *h)
{
    srv_metrics *m = &s->metrics;
    struct out o = {malloc(16384), 0, 16384};
    uint64_t subjects = 0, versions = 0, records = 0;
    requests(&o, m);
    latency(&o, m);
    gauge(&o, "probity_decision_batches_total", "Group commits of decisions.", "counter",
          atomic_load(&m->batches));
    gauge(&o, "probity_decisions_total",
          "Decisions stored by group commits (not replays of an Idempotency-Key, nor failures).",
          "counter", atomic_load(&m->batched));
    gauge(&o, "probity_sweeps_total", "Sweeps run (retention, disputes, lists, notices).",
          "counter", atomic_load(&m->sweeps));
    gauge(&o, "probity_sweep_failures_total", "Sweeps with a step that failed.", "counter",
          atomic_load(&m->sweep_failures));
    gauge(&o, "probity_http_heads_cut_total",
          "Connections closed because a request's head took longer than --header-timeout.",
          "counter", atomic_load(&m->heads_cut));
    gauge(&o, "probity_http_bodies_cut_total",
          "Connections closed because a request's body came slower than --body-rate "
          "past --body-timeout.",
          "counter", atomic_load(&m->bodies_cut));
    gauge(&o, "probity_http_answers_cut_total",
          "Connections closed because an answer was read slower than --body-rate past "
          "--body-timeout.",
          "counter", atomic_load(&m->answers_cut));
    if (!prb_count(h, &subjects, &versions)) {
        gauge(&o, "probity_subjects", "Subjects in the register.", "gauge", subjects);
        gauge(&o, "probity_record_versions",
              "Stored record versions: each record and each of its corrections.", "gauge",
              versions);
    }
    if (!prb_count_records(h, &records))
        gauge(&o, "probity_records",
              "Records stored, one per furnisher and reference, however often corrected (those "
              "past retention until the sweep deletes them).",
              "gauge", records);
    uint64_t iq = 0, nq = 0, keys = 0;
    if (!prb_idem_count(h, &keys))
        gauge(&o, "probity_idempotency_keys",
              "Decisions kept under an Idempotency-Key (24 hours, until the sweep lets them go).",
              "gauge", keys);
    if (!prb_index_lag(h, &iq, &nq)) {
        gauge(&o, "probity_inquiries_unindexed",
              "Inquiries the index by subject does not hold yet (more than a moment: indexing "
              "fails).",
              "gauge", iq);
        gauge(&o, "probity_notices_unindexed",
              "Notices the index by subject does not hold yet (more than a moment: indexing "
              "fails).",
              "gauge", nq);
    }
    if (atomic_load(&m->notices_known))
        gauge(&o, "probity_notices_pending",
              "Notices not yet delivered by every channel, after the last delivery run.", "gauge",
              atomic_load(&m->notices_pending));
    gauge(&o, "probity_http_requests_in_flight", "Requests being answered.", "gauge",
          atomic_load(&s->inflight));
    gauge(&o, "probity_http_body_bytes_held",
          "Bytes of request bodies held, at most --body-memory (past it, 503).", "gauge",
          atomic_load(&s->body_held));
    gauge(&o, "probity_http_answer_bytes_held",
          "Bytes of answers being sent, at most --answer-memory for those over 64 KiB "
          "(past it, 503).",
          "gauge", atomic_load(&s->answer_held));
    gauge(&o, "probity_writer_requests_pending",
          "Requests that write the register (records, disputes, reviews, keys) waiting for "
          "or on the writer thread.",
          "gauge", srv_writer_pending(s->writer));
    return o.buf;
}
