/*
 * route.h - the server's routes and the small parsers that face the
 * network directly: the request line's method and path, the
 * Authorization header and numbers in query strings. They are pure (no
 * I/O, no allocation) so tests/fuzz/fuzz_http.c can run them on anything.
 */
#ifndef PRB_SRV_ROUTE_H
#define PRB_SRV_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum srv_route {
    R_HEALTHZ,
    R_METRICS,
    R_OPENAPI,
    R_STATS,
    R_RECORDS,
    R_SUBJECT,
    R_ME,
    R_DECISIONS,
    R_ME_DISPUTES,
    R_DISPUTES,
    R_DISPUTE_RESOLVE,
    R_ME_REVIEWS,
    R_REVIEWS,
    R_REVIEW_DECIDE,
    R_NOTICES,
    R_LISTS,
    R_LIST,
    R_COMPANY,
    R_AUDIT_HEAD,
    R_AUDIT_PROOF,
    R_AUDIT_CONSISTENCY,
    R_KEYS,
    R_KEY_CREATE,
    R_KEY_REVOKE,
    R__N
};

/* The longest path parameter (an identifier, a list name, an id). */
#define SRV_PARAM_MAX 512

/* The method and pattern of a route ("GET", "/v1/subjects/{id}"). */
const char *srv_route_method(int route);
const char *srv_route_pattern(int route);

/* Whether a route's parameter, last in its pattern, is the rest of the
 * path, '/' and all (an identifier: an ext: key may hold '/'). */
int srv_route_rest(int route);

/* What body a route takes: none, a JSON object (small), or a batch of
 * records (up to the server's --max-body). The server refuses a body
 * past its kind's limit before reading any of it. */
enum srv_body { SRV_BODY_NONE, SRV_BODY_OBJECT, SRV_BODY_RECORDS };
enum srv_body srv_route_body(int route);

/* Whether a route's call writes the register itself (a decision is
 * stored by the committer instead): it runs on the writer thread, so
 * that waiting for LMDB's one writer holds up no pool thread. */
int srv_route_writer(int route);

/* Finds the route of method and path (already percent-decoded; no query).
 * Returns its index and copies the one {parameter}, if any, into param
 * (NUL-terminated; the subject and company routes' identifier is the
 * rest of the path, '/' and all); HEAD finds a GET route. Returns -1 if no route has
 * the path (404), -2 if routes have it but not for this method (405;
 * allow gets the methods that are, e.g. "GET, HEAD, POST"). */
#define SRV_ALLOW_MAX 32
int srv_route_match(const char *method, const char *path, char param[SRV_PARAM_MAX],
                    char allow[SRV_ALLOW_MAX]);

/* The token of an "Authorization: Bearer TOKEN" header value, into out
 * (size n). 0 on success; -1 if the value is not a bearer credential or
 * the token is empty or too long (RFC 6750: token68 characters only). */
int srv_bearer(const char *value, char *out, size_t n);

/* The key of an Idempotency-Key header value (draft-ietf-httpapi-
 * idempotency-key-header: a Structured Field string, "..." with \" and
 * \\ escaped, with any parameters ignored; a bare sf-token is taken as
 * the string it spells), into out (size n). 0 on success; -1 if
 * malformed, another kind of item or a list, empty, or n bytes or more. */
int srv_idem_key(const char *value, char *out, size_t n);

/* The largest number srv_parse_u64 takes (2^63 - 1), and the same in
 * digits, for the message that refuses a larger one. */
#define SRV_U64_MAX (UINT64_MAX / 2)
#define SRV_U64_MAX_TEXT "9223372036854775807"

/* A query-string count: decimal digits only, no sign, at most
 * SRV_U64_MAX. 0 on success, -2 for digits only but a larger number, -1
 * otherwise (empty, a sign or anything but a digit). */
int srv_parse_u64(const char *s, uint64_t *v);

#endif
