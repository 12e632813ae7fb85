/*
 * fuzz_http.c - libFuzzer target for what the server parses itself before
 * anything else sees a request (src/server/route.c): the route of a method
 * and path, the bearer token of an Authorization header, a count in a
 * query string and the key of an Idempotency-Key header. The input is
 * split at its first two NUL bytes into method, path and the text the
 * other parsers get. Whatever comes in, each must return, stay within its
 * buffers, and give results that hold: a matched route has that method
 * (a HEAD, a GET route's), a parameter only where its pattern has one
 * (with a '/' only if it is the rest of the path), and no body if it is
 * a GET; a token is made of token characters; a count and a key read
 * back.
 */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *buf = malloc(size + 3), param[SRV_PARAM_MAX], allow[SRV_ALLOW_MAX], tok[80];
    uint64_t v;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = 0;
    const char *method = buf, *path = method + strlen(method) + 1;
    const char *rest = path + strlen(path) + 1;
    if (rest > buf + size)
        rest = buf + size;
    int r = srv_route_match(method, path, param, allow);
    if (r >= 0) {
        /* HEAD is answered as the GET of the same route. */
        int head = !strcmp(method, "HEAD");
        if (r >= R__N || strcmp(srv_route_method(r), head ? "GET" : method))
            abort();
        if (!strchr(srv_route_pattern(r), '{') != !param[0])
            abort();
        /* A '/' only in a parameter that is the rest of the path. */
        size_t pl = strlen(param), l = strlen(path);
        if (pl >= SRV_PARAM_MAX || (strchr(param, '/') && !srv_route_rest(r)) ||
            (srv_route_rest(r) && (pl > l || strcmp(path + l - pl, param))))
            abort();
        /* A GET never takes a body, nor waits for the writer thread; a
         * batch of records only one route takes, and on that thread. */
        enum srv_body b = srv_route_body(r);
        if (((head || !strcmp(method, "GET")) && (b != SRV_BODY_NONE || srv_route_writer(r))) ||
            (b == SRV_BODY_RECORDS && (r != R_RECORDS || !srv_route_writer(r))))
            abort();
    } else if (r == -2) {
        if (!allow[0] || strlen(allow) >= SRV_ALLOW_MAX)
            abort();
    } else if (r != -1) {
        abort();
    }
    if (!srv_bearer(rest, tok, sizeof tok)) {
        if (!tok[0] || strlen(tok) >= sizeof tok || strpbrk(tok, " \t\r\n\","))
            abort();
    }
    if (!srv_parse_u64(rest, &v)) {
        char back[32];
        snprintf(back, sizeof back, "%llu", (unsigned long long)v);
        /* Leading zeros are allowed, so compare without them. */
        const char *digits = rest;
        while (digits[0] == '0' && digits[1])
            digits++;
        if (strcmp(back, digits) || v > INT64_MAX)
            abort();
    }
    /* An idempotency key is printable ASCII, and quoted back (with \" and
     * \\ escaped) it reads the same. */
    char key[257], quoted[520], again[257];
    if (!srv_idem_key(rest, key, sizeof key)) {
        size_t q = 0, n = strlen(key);
        if (!n || n >= sizeof key)
            abort();
        quoted[q++] = '"';
        for (size_t i = 0; i < n; i++) {
            if (key[i] < 0x20 || key[i] > 0x7e)
                abort();
            if (key[i] == '"' || key[i] == '\\')
                quoted[q++] = '\\';
            quoted[q++] = key[i];
        }
        quoted[q++] = '"';
        quoted[q] = 0;
        if (srv_idem_key(quoted, again, sizeof again) || strcmp(again, key))
            abort();
    }
    free(buf);
    return 0;
}
