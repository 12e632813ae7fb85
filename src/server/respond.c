/*
 * respond.c - how the server answers: JSON bodies and RFC 9457 problem
 * details. An engine failure becomes a problem whose type names the
 * engine's code (urn:probity:error:PRB_ENOTFOUND) and whose status comes
 * from the engine's one table of codes (prb_http_status); an HTTP-level
 * one (no route, too large, too many requests) is "about:blank" with the
 * status's reason phrase as title, as RFC 9457 section 4.2.1 says.
 *
 * Messages of server errors may name files and directories of the host;
 * they go to the log with the request's id, and the client gets only the
 * id.
 */
#include "srv.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *reason(unsigned status)
{
    const char *s = MHD_get_reason_phrase_for(status);
    return s && *s ? s : "Error";
}

/* The answer memory is full (srv_answer_hold's rc): a 503 instead, small
 * enough always to go. */
int srv_answer_refused(req *r, int held)
{
    r->xhdr = MHD_HTTP_HEADER_RETRY_AFTER;
    snprintf(r->xval, sizeof r->xval, "1");
    return srv_problem(r, 503, NULL, NULL,
                       held == -2 ? "this address's answers being sent hold as much memory as "
                                    "one address's may; read them, then try again"
                       : held == -3
                           ? "as many addresses as the server keeps a share for have large "
                             "answers being sent; try again shortly"
                           : "the answers being sent hold as much memory as the server allows; "
                             "try again shortly",
                       NULL);
}

/* What a write is answered when its call has run but there is no memory
 * for its answer. Not the 503 "out of memory" of other calls: the API
 * tells clients a 503 did nothing, and a client that sent its write
 * again stored it twice (an inquiry counts against its subject). Static
 * text, so that it needs no memory of its own. */
static const char WRITTEN_UNANSWERED[] =
    "{\n  \"type\": \"about:blank\",\n  \"title\": \"Internal Server Error\",\n"
    "  \"status\": 500,\n  \"detail\": \"the request was carried out and stored, but the "
    "server had no memory for its answer: do not send it again. What was stored can be read "
    "back; a new key's token, which is shown only once, cannot: revoke that key and make "
    "another.\"\n}\n";

/* Queues body (len bytes) as the answer, or keeps it on the writer
 * thread (r->capture). mode says whose body is: MUST_FREE, ours, given
 * to libmicrohttpd (and freed here on failure); MUST_COPY, the caller's,
 * copied by libmicrohttpd; PERSISTENT, a constant. */
static int queue(req *r, unsigned status, const char *ctype, const char *body, size_t len,
                 enum MHD_ResponseMemoryMode mode)
{
    char *own = mode == MHD_RESPMEM_MUST_FREE ? (char *)body : NULL;
    int held;
    if (r->capture) {
        /* libmicrohttpd makes the copies; on the writer thread
         * srv_respond_written_copy makes its own. */
        assert(mode != MHD_RESPMEM_MUST_COPY);
        free(r->kept_body);
        r->kept = 1;
        r->kept_status = r->status = status;
        r->kept_ctype = ctype;
        r->kept_body = own;
        r->kept_static = own ? NULL : body;
        r->kept_len = len;
        return MHD_YES;
    }
    /* Held from here until libmicrohttpd has sent it (on_completed). */
    srv_answer_release(r);
    if ((held = srv_answer_hold(r, len))) {
        free(own);
        return srv_answer_refused(r, held);
    }
    struct MHD_Response *res = MHD_create_response_from_buffer(
        len, body ? (void *)body : (void *)"", body ? mode : MHD_RESPMEM_PERSISTENT);
    if (!res) {
        free(own);
        srv_answer_release(r);
        return MHD_NO;
    }
    if (ctype)
        MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(res, "Cache-Control", "no-store");
    MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
    if (status == 401)
        MHD_add_response_header(res, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"probity\"");
    if (r->xhdr)
        MHD_add_response_header(res, r->xhdr, r->xval);
    int ok = MHD_queue_response(r->conn, status, res);
    MHD_destroy_response(res);
    r->status = status;
    r->responded = 1;
    if (ok == MHD_YES)
        srv_heads_answer(r->conn, len);
    return ok;
}

int srv_respond(req *r, unsigned status, const char *ctype, char *body, size_t len)
{
    return queue(r, status, ctype, body, len, MHD_RESPMEM_MUST_FREE);
}

/* A write's call has run; its answer could not be made. */
static int written_unanswered(req *r)
{
    fprintf(stderr, "probity serve: request %llu: %s %s: done, but out of memory for its answer\n",
            (unsigned long long)r->id, srv_route_method(r->route), srv_route_pattern(r->route));
    return queue(r, 500, "application/problem+json", WRITTEN_UNANSWERED,
                 sizeof WRITTEN_UNANSWERED - 1, MHD_RESPMEM_PERSISTENT);
}

/* ok, what queueing a done write's answer gave; if nothing was queued
 * (libmicrohttpd had no memory for it), the answer that says so. */
static int written_sent(req *r, int ok)
{
    return ok == MHD_NO && !r->responded ? written_unanswered(r) : ok;
}

int srv_respond_kept(req *r)
{
    char *body = r->kept_body;
    if (!r->kept)
        return MHD_NO; /* the call failed without an answer: close */
    r->kept_body = NULL;
    if (r->kept_static)
        return queue(r, r->kept_status, r->kept_ctype, r->kept_static, r->kept_len,
                     MHD_RESPMEM_PERSISTENT);
    int ok = srv_respond(r, r->kept_status, r->kept_ctype, body, r->kept_len);
    return r->written ? written_sent(r, ok) : ok;
}
int srv_respond_written_as(req *r, unsigned status, const char *ctype, char *body)
{
    r->written = 1;
    if (!body)
        return written_unanswered(r);
    return written_sent(r, srv_respond(r, status, ctype, body, strlen(body)));
}

int srv_respond_written(req *r, unsigned status, char *json)
{
    return srv_respond_written_as(r, status, "application/json", json);
}

int srv_respond_written_copy(req *r, unsigned status, const char *json)
{
    r->written = 1;
    if (!json)
        return written_unanswered(r);
    if (r->capture)
        return srv_respond_written(r, status, strdup(json));
    return written_sent(
        r, queue(r, status, "application/json", json, strlen(json), MHD_RESPMEM_MUST_COPY));
}

int srv_respond_json(req *r, unsigned status, char *json)
{
    if (!json)
        return srv_problem(r, 503, NULL, NULL, "out of memory", NULL);
    return srv_respond(r, status, "application/json", json, strlen(json));
}

json_t *srv_json_message(const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    json_t *s = json_string(msg);
    if (s)
        return s;
    /* Not UTF-8 (or out of memory): the ASCII bytes as they are and every
     * other one escaped, which is UTF-8 whatever msg holds. The engine's
     * messages are UTF-8; this is so that one that is not is still read. */
    size_t n = strlen(msg);
    char *t = malloc(4 * n + 1), *w = t;
    if (!t)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p < 0x80) {
            *w++ = (char)*p;
            continue;
        }
        *w++ = '\\';
        *w++ = 'x';
        *w++ = hex[*p >> 4];
        *w++ = hex[*p & 15];
    }
    *w = 0;
    s = json_string(t);
    free(t);
    return s;
}

char *srv_problem_json(req *r, unsigned status, const char *type, const char *title,
                       const char *detail, json_t *extra)
{
    json_t *o = json_object();
    char *text;
    if (!o) {
        json_decref(extra);
        return NULL;
    }
    json_object_set_new(o, "type", json_string(type ? type : "about:blank"));
    json_object_set_new(o, "title", json_string(title ? title : reason(status)));
    json_object_set_new(o, "status", json_integer(status));
    if (detail)
        json_object_set_new(o, "detail", srv_json_message(detail));
    if (extra) {
        json_object_update_missing(o, extra);
        json_decref(extra);
    }
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    (void)r;
    return text;
}

int srv_problem(req *r, unsigned status, const char *type, const char *title, const char *detail,
                json_t *extra)
{
    char *text = srv_problem_json(r, status, type, title, detail, extra);
    if (!text)
        return srv_respond(r, 503, "text/plain", NULL, 0);
    return srv_respond(r, status, "application/problem+json", text, strlen(text));
}

int srv_revoked(req *r)
{
    return srv_problem(r, 401, NULL, NULL, SRV_TOKEN_INVALID, NULL);
}

int srv_fail(req *r, prb_env *h, int rc)
{
    return srv_fail_as(r, h, rc, (unsigned)prb_http_status(rc));
}

int srv_fail_as(req *r, prb_env *h, int rc, unsigned status)
{
    return srv_fail_msg(r, rc, status, prb_errmsg(h));
}

int srv_fail_msg(req *r, int rc, unsigned status, const char *msg)
{
    char type[64], detail[128];
    if (rc == PRB_EREVOKED)
        return srv_revoked(r);
    snprintf(type, sizeof type, "urn:probity:error:%s", prb_errname(rc));
    if (status < 500)
        return srv_problem(r, status, type, prb_strerror(rc), msg, NULL);
    fprintf(stderr, "probity serve: request %llu: %s %s: %s\n", (unsigned long long)r->id,
            srv_route_method(r->route), srv_route_pattern(r->route), msg);
    snprintf(detail, sizeof detail, "the server failed (request %llu); its log says why",
             (unsigned long long)r->id);
    return srv_problem(r, status, type, prb_strerror(rc), detail, NULL);
}
