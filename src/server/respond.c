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
static int answer_refused(req *r, int held)
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

int srv_respond(req *r, unsigned status, const char *ctype, char *body, size_t len)
{
    int held;
    if (r->capture) {
        free(r->kept_body);
        r->kept = 1;
        r->kept_status = r->status = status;
        r->kept_ctype = ctype;
        r->kept_body = body;
        r->kept_len = len;
        return MHD_YES;
    }
    /* Held from here until libmicrohttpd has sent it (on_completed). */
    srv_answer_release(r);
    if ((held = srv_answer_hold(r, len))) {
        free(body);
        return answer_refused(r, held);
    }
    struct MHD_Response *res = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!res) {
        free(body);
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

int srv_respond_kept(req *r)
{
    char *body = r->kept_body;
    if (!r->kept)
        return MHD_NO; /* the call failed without an answer: close */
    r->kept_body = NULL;
    return srv_respond(r, r->kept_status, r->kept_ctype, body, r->kept_len);
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

int srv_fail(req *r, prb_env *h, int rc)
{
    unsigned status = (unsigned)prb_http_status(rc);
    char type[64], detail[128];
    snprintf(type, sizeof type, "urn:probity:error:%s", prb_errname(rc));
    if (status < 500)
        return srv_problem(r, status, type, prb_strerror(rc), prb_errmsg(h), NULL);
    fprintf(stderr, "probity serve: request %llu: %s %s: %s\n", (unsigned long long)r->id,
            srv_route_method(r->route), srv_route_pattern(r->route), prb_errmsg(h));
    snprintf(detail, sizeof detail, "the server failed (request %llu); its log says why",
             (unsigned long long)r->id);
    return srv_problem(r, status, type, prb_strerror(rc), detail, NULL);
}
