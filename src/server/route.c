/*
 * route.c - the route table and the parsers that read what a client
 * sends before anything else looks at it (see route.h). A path matches a
 * pattern segment by segment; "{}" stands for one non-empty segment, the
 * route's only parameter, or, in a route marked rest, for the rest of
 * the path, '/' and all: an identifier may hold '/' (an ext: key), and
 * libmicrohttpd has decoded %2F before the router sees the path, so a
 * subject filed under "ext:bank-a:2024/0001" had no path that reached
 * it. Nothing is normalised: "//", "/./", a trailing slash or a path
 * past its pattern is no route at all (in a rest route, it is part of
 * the parameter, which the handler reads as an identifier or refuses).
 * A path that held %00 never comes here (server.c, unescape): its C
 * string would end at the NUL, and the part before it match.
 */
#include "route.h"

#include <string.h>

static const struct {
    const char *method;
    const char *pattern;
    enum srv_body body;
    int writer; /* runs on the writer thread (srv_route_writer) */
    int rest;   /* the {} parameter, last, takes the rest of the path */
} routes[R__N] = {
    [R_HEALTHZ] = {"GET", "/healthz", SRV_BODY_NONE, 0, 0},
    [R_METRICS] = {"GET", "/metrics", SRV_BODY_NONE, 0, 0},
    [R_OPENAPI] = {"GET", "/v1/openapi.json", SRV_BODY_NONE, 0, 0},
    [R_STATS] = {"GET", "/v1/stats", SRV_BODY_NONE, 0, 0},
    [R_RECORDS] = {"POST", "/v1/records", SRV_BODY_RECORDS, 1, 0},
    [R_SUBJECT] = {"GET", "/v1/subjects/{id}", SRV_BODY_NONE, 0, 1},
    [R_ME] = {"GET", "/v1/me", SRV_BODY_NONE, 0, 0},
    [R_DECISIONS] = {"POST", "/v1/decisions", SRV_BODY_OBJECT, 0, 0},
    [R_ME_DISPUTES] = {"POST", "/v1/me/disputes", SRV_BODY_OBJECT, 1, 0},
    [R_DISPUTES] = {"GET", "/v1/disputes", SRV_BODY_NONE, 0, 0},
    [R_DISPUTE_RESOLVE] = {"POST", "/v1/disputes/{id}/resolve", SRV_BODY_OBJECT, 1, 0},
    [R_ME_REVIEWS] = {"POST", "/v1/me/reviews", SRV_BODY_OBJECT, 1, 0},
    [R_REVIEWS] = {"GET", "/v1/reviews", SRV_BODY_NONE, 0, 0},
    [R_REVIEW_DECIDE] = {"POST", "/v1/reviews/{id}/decide", SRV_BODY_OBJECT, 1, 0},
    [R_NOTICES] = {"GET", "/v1/notices", SRV_BODY_NONE, 0, 0},
    [R_LISTS] = {"GET", "/v1/lists", SRV_BODY_NONE, 0, 0},
    [R_LIST] = {"GET", "/v1/lists/{name}", SRV_BODY_NONE, 0, 0},
    [R_COMPANY] = {"GET", "/v1/companies/{id}", SRV_BODY_NONE, 0, 1},
    [R_AUDIT_HEAD] = {"GET", "/v1/audit/head", SRV_BODY_NONE, 0, 0},
    [R_AUDIT_PROOF] = {"GET", "/v1/audit/proof", SRV_BODY_NONE, 0, 0},
    [R_AUDIT_CONSISTENCY] = {"GET", "/v1/audit/consistency", SRV_BODY_NONE, 0, 0},
    [R_KEYS] = {"GET", "/v1/keys", SRV_BODY_NONE, 0, 0},
    [R_KEY_CREATE] = {"POST", "/v1/keys", SRV_BODY_OBJECT, 1, 0},
    [R_KEY_REVOKE] = {"POST", "/v1/keys/{id}/revoke", SRV_BODY_NONE, 1, 0},
};

const char *srv_route_method(int route)
{
    return route >= 0 && route < R__N ? routes[route].method : "?";
}

const char *srv_route_pattern(int route)
{
    return route >= 0 && route < R__N ? routes[route].pattern : "?";
}

int srv_route_rest(int route)
{
    return route >= 0 && route < R__N && routes[route].rest;
}

enum srv_body srv_route_body(int route)
{
    return route >= 0 && route < R__N ? routes[route].body : SRV_BODY_NONE;
}

int srv_route_writer(int route)
{
    return route >= 0 && route < R__N && routes[route].writer;
}

/* Whether path matches pattern; the {} segment's text goes to param,
 * and with rest, all that follows it too. */
static int match(const char *pattern, const char *path, int rest, char param[SRV_PARAM_MAX])
{
    const char *p = pattern, *s = path;
    param[0] = 0;
    while (*p) {
        if (*p != '{') {
            if (*p++ != *s++)
                return 0;
            continue;
        }
        size_t n = rest ? strlen(s) : strcspn(s, "/");
        if (n == 0 || n >= SRV_PARAM_MAX)
            return 0;
        memcpy(param, s, n);
        param[n] = 0;
        s += n;
        p = strchr(p, '}') + 1;
    }
    return *s == 0;
}

/* Whether method calls route r. HEAD is a GET without the body (RFC
 * 9110 9.3.2), which every general-purpose server must support (9.1):
 * a load balancer's health check and curl -I sent it and were answered
 * 405. libmicrohttpd sends the GET's headers, Content-Length included,
 * and leaves the body out. A route that writes (route.h) takes no HEAD;
 * a GET that tells of a read (a staff read of a file, a read of a
 * purpose-bound list) tells of its HEAD too, which answers as much. */
static int method_calls(const char *method, int r)
{
    if (!strcmp(method, routes[r].method))
        return 1;
    return !strcmp(method, "HEAD") && !strcmp(routes[r].method, "GET") && !routes[r].writer;
}

/* Appends a method to the Allow list being made in allow (w bytes so far). */
static size_t allow_add(char allow[SRV_ALLOW_MAX], size_t w, const char *method)
{
    size_t ml = strlen(method);
    if (w + ml + 3 >= SRV_ALLOW_MAX)
        return w;
    if (w) {
        memcpy(allow + w, ", ", 2);
        w += 2;
    }
    memcpy(allow + w, method, ml + 1);
    return w + ml;
}

int srv_route_match(const char *method, const char *path, char param[SRV_PARAM_MAX],
                    char allow[SRV_ALLOW_MAX])
{
    char scratch[SRV_PARAM_MAX];
    size_t w = 0;
    param[0] = 0;
    allow[0] = 0;
    if (!method || !path)
        return -1;
    for (int r = 0; r < R__N; r++) {
        if (!match(routes[r].pattern, path, routes[r].rest, scratch))
            continue;
        if (method_calls(method, r)) {
            memcpy(param, scratch, strlen(scratch) + 1);
            return r;
        }
        w = allow_add(allow, w, routes[r].method);
        if (!strcmp(routes[r].method, "GET"))
            w = allow_add(allow, w, "HEAD");
    }
    return w ? -2 : -1;
}

/* RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/",
 * then "=" padding. */
static int b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int srv_bearer(const char *value, char *out, size_t n)
{
    static const char scheme[] = "bearer";
    size_t i = 0;
    if (!value || n == 0)
        return -1;
    /* The scheme is case-insensitive; one or more spaces follow it. */
    for (; i < sizeof scheme - 1; i++)
        if ((value[i] | 0x20) != scheme[i])
            return -1;
    if (value[i] != ' ')
        return -1;
    while (value[i] == ' ')
        i++;
    size_t start = i;
    while (b64token_char(value[i]))
        i++;
    while (value[i] == '=')
        i++;
    size_t len = i - start;
    while (value[i] == ' ')
        i++;
    if (value[i] || len == 0 || len >= n)
        return -1;
    memcpy(out, value + start, len);
    out[len] = 0;
    return 0;
}

static int tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Past an sf-string's opening quote: its characters into out, p past the
 * closing quote. */
static const char *sf_string(const char *p, char *out, size_t n, size_t *len)
{
    for (*len = 0; *p != '"'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++;
        else if (*p < 0x20 || *p > 0x7e || *p == '\\')
            return NULL; /* also the end of the value: no closing quote */
        if (out) {
            if (*len + 1 >= n)
                return NULL;
            out[*len] = *p;
        }
        ++*len;
    }
    return p + 1;
}

/* An Item's parameters (RFC 8941 3.1.2), read past and ignored: the
 * draft defines none. The value of one is a string or a run of the
 * characters of the other bare items. */
static const char *sf_params(const char *p)
{
    size_t len;
    while (*p == ';') {
        for (p++; *p == ' '; p++)
            ;
        if (!((*p >= 'a' && *p <= 'z') || *p == '*'))
            return NULL;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p && strchr("_-.*", *p)))
            p++;
        if (*p != '=')
            continue;
        if (*++p == '"') {
            if (!(p = sf_string(p + 1, NULL, 0, &len)))
                return NULL;
            continue;
        }
        const char *v = p;
        while (tchar(*p) || (*p && strchr(":/?=", *p)))
            p++;
        if (p == v)
            return NULL;
    }
    return p;
}

int srv_idem_key(const char *value, char *out, size_t n)
{
    size_t len = 0;
    const char *p = value;
    if (!p || n == 0)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '"') {
        if (!(p = sf_string(p + 1, out, n, &len)))
            return -1;
    } else {
        /* Not a string, but an sf-token is taken as one: a client that
         * forgot the quotes means the same key. A number, a list or a
         * byte sequence is not a token. */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '*'))
            return -1;
        for (; tchar(*p) || *p == ':' || *p == '/'; p++) {
            if (len + 1 >= n)
                return -1;
            out[len++] = *p;
        }
    }
    if (!(p = sf_params(p)))
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || len == 0)
        return -1;
    out[len] = 0;
    return 0;
}

int srv_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    int big = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        /* Read on past the limit: a number too large is told apart from
         * one that is not a number. */
        if (big || x > (SRV_U64_MAX - (uint64_t)(*s - '0')) / 10)
            big = 1;
        else
            x = x * 10 + (uint64_t)(*s - '0');
    }
    if (big)
        return -2;
    *v = x;
    return 0;
}
