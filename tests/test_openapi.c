/*
 * test_openapi.c - docs/openapi.json, the document GET /v1/openapi.json
 * serves (issue 5): an OpenAPI 3.1 document that names every endpoint the
 * issue lists with a stable operationId, says who may call each, and
 * documents the errors every client must handle. The server's own test
 * calls each documented operation; this one keeps the document whole.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

TestSuite(openapi, .timeout = 30);

static json_t *load_doc(void)
{
    char path[512];
    json_error_t e;
    json_t *doc = json_load_file(th_path(path, sizeof path, "docs/openapi.json"), 0, &e);
    cr_assert_not_null(doc, "docs/openapi.json: line %d: %s", e.line, e.text);
    return doc;
}

static const char *const METHODS[] = {"get", "put", "post", "delete", "patch", "head", "options"};

/* Calls fn on every operation of doc. */
static void each_operation(json_t *doc,
                           void (*fn)(const char *path, const char *method, json_t *op, void *ctx),
                           void *ctx)
{
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t m = 0; m < sizeof METHODS / sizeof *METHODS; m++) {
            json_t *op = json_object_get(item, METHODS[m]);
            if (op)
                fn(path, METHODS[m], op, ctx);
        }
    }
}

/* What a local "$ref" ("#/components/schemas/X") points at, or NULL. */
static json_t *resolve(json_t *doc, const char *ref)
{
    char buf[256], *save = NULL;
    json_t *at = doc;
    if (strncmp(ref, "#/", 2))
        return NULL;
    snprintf(buf, sizeof buf, "%s", ref + 2);
    for (char *k = strtok_r(buf, "/", &save); k && at; k = strtok_r(NULL, "/", &save))
        at = json_object_get(at, k);
    return at;
}

static json_t *deref(json_t *doc, json_t *o)
{
    const char *ref = json_string_value(json_object_get(o, "$ref"));
    return ref ? resolve(doc, ref) : o;
}

Test(openapi, is_openapi_3_1)
{
    json_t *doc = load_doc();
    const char *v = json_string_value(json_object_get(doc, "openapi"));
    cr_assert_not_null(v, "no openapi version");
    cr_assert(!strncmp(v, "3.1.", 4), "openapi is \"%s\", not 3.1.x", v);
    cr_assert(json_is_string(json_object_get(json_object_get(doc, "info"), "title")));
    cr_assert(json_is_string(json_object_get(json_object_get(doc, "info"), "version")));
    json_t *bearer = json_object_get(
        json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearerAuth");
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "type")), "http");
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    json_decref(doc);
}

struct seen {
    json_t *doc;
    json_t *ids; /* operationId -> "METHOD PATH" */
};

static int has_response(json_t *op, const char *code)
{
    return json_object_get(json_object_get(op, "responses"), code) != NULL;
}

/* Every operation: a unique operationId, a summary, the roles that may
 * call it, a success response, and the errors every client must handle. */
static void check_operation(const char *path, const char *method, json_t *op, void *ctx)
{
    struct seen *s = ctx;
    const char *id = json_string_value(json_object_get(op, "operationId"));
    char where[256];
    snprintf(where, sizeof where, "%s %s", method, path);
    cr_assert_not_null(id, "%s has no operationId", where);
    cr_assert_null(json_object_get(s->ids, id), "operationId %s used twice", id);
    json_object_set_new(s->ids, id, json_string(where));
    json_t *resp = json_object_get(op, "responses");
    cr_assert(json_is_object(resp) && json_object_size(resp) > 0, "%s has no responses", where);
    cr_assert(has_response(op, "200") || has_response(op, "201"), "%s has no success response",
              where);
    cr_assert(json_is_string(json_object_get(op, "summary")), "%s has no summary", where);
    cr_assert(json_string_length(json_object_get(op, "description")) > 0 &&
                  strstr(json_string_value(json_object_get(op, "description")), "Roles:"),
              "%s does not say who may call it", where);
    cr_assert(json_array_size(json_object_get(op, "x-roles")) > 0, "%s has no x-roles", where);
    cr_assert(has_response(op, "429"), "%s: no 429 (rate limit)", where);
    cr_assert(has_response(op, "503"), "%s: no 503 (the server stopping)", where);
    /* The token check, the register or, after a write, the answer's
     * memory may fail on any operation. */
    cr_assert(has_response(op, "500"), "%s: no 500 (the server failed)", where);
    /* A write carried out whose answer could not be made is a 500 too,
     * and a client that sent it again stored it twice. */
    const char *failed = json_string_value(
        json_object_get(deref(s->doc, json_object_get(resp, "500")), "description"));
    if (!strcmp(method, "post"))
        cr_assert(failed && strstr(failed, "do not send it again"),
                  "%s: its 500 does not say a write may have been stored", where);
    /* A write the register has no room for: every POST, and the reads
     * that tell their subjects (a staff read of a file, a purpose-bound
     * list's page), which write before they answer. */
    if (!strcmp(method, "post") || !strcmp(id, "getSubject") || !strcmp(id, "listLists") ||
        !strcmp(id, "getList"))
        cr_assert(has_response(op, "507"), "%s: no 507 (the store is full)", where);
    json_t *security = json_object_get(op, "security");
    cr_assert(json_is_array(security), "%s does not say whether it needs a token", where);
    int bearer_required = json_array_size(security) == 1 &&
                          json_object_get(json_array_get(security, 0), "bearerAuth");
    if (bearer_required)
        cr_assert(has_response(op, "401") && has_response(op, "403"),
                  "%s needs a token but documents no 401 or 403", where);
    if (json_object_get(op, "requestBody")) {
        cr_assert(has_response(op, "413") && has_response(op, "415"),
                  "%s takes a body but documents no 413 or 415", where);
        /* A body the server has no room for (--body-memory) is refused
         * with 503 and Retry-After. */
        json_t *busy = deref(s->doc, json_object_get(resp, "503"));
        cr_assert_not_null(json_object_get(json_object_get(busy, "headers"), "Retry-After"),
                           "%s takes a body but its 503 has no Retry-After", where);
    } else {
        cr_assert(has_response(op, "400"), "%s takes no body but documents no 400 for one", where);
    }
    /* Every error is a problem document. */
    const char *code;
    json_t *r;
    json_object_foreach(resp, code, r)
    {
        if (code[0] < '4')
            continue;
        json_t *content = json_object_get(deref(s->doc, r), "content");
        cr_assert_not_null(json_object_get(content, "application/problem+json"),
                           "%s: response %s is not application/problem+json", where, code);
    }
}

Test(openapi, every_operation_is_complete)
{
    struct seen s = {load_doc(), json_object()};
    each_operation(s.doc, check_operation, &s);
    cr_assert_gt(json_object_size(s.ids), 0);
    json_decref(s.ids);
    json_decref(s.doc);
}

/* The endpoints of issue 5, with the operationIds the server's test and
 * clients rely on: keep them stable. */
static const struct {
    const char *method, *path, *id;
} ENDPOINTS[] = {
    {"post", "/v1/records", "postRecords"},
    {"get", "/v1/subjects/{identifier}", "getSubject"},
    {"get", "/v1/me", "getMe"},
    {"post", "/v1/decisions", "postDecision"},
    {"post", "/v1/me/disputes", "postMyDispute"},
    {"get", "/v1/disputes", "listDisputes"},
    {"post", "/v1/disputes/{id}/resolve", "resolveDispute"},
    {"post", "/v1/me/reviews", "postMyReview"},
    {"post", "/v1/reviews/{id}/decide", "decideReview"},
    {"get", "/v1/lists", "listLists"},
    {"get", "/v1/lists/{name}", "getList"},
    {"get", "/v1/companies/{identifier}", "getCompany"},
    {"get", "/v1/audit/head", "getAuditHead"},
    {"get", "/v1/audit/proof", "getAuditProof"},
    {"get", "/v1/audit/consistency", "getAuditConsistency"},
    {"get", "/v1/stats", "getStats"},
    {"get", "/v1/openapi.json", "getOpenapi"},
    {"get", "/metrics", "getMetrics"},
    {"get", "/healthz", "getHealthz"},
};

/* What the server serves beyond issue 5's list: reviews for reviewers,
 * notices for the inquirers told of them, and keys for admins. */
static const struct {
    const char *method, *path, *id;
} ALSO_SERVED[] = {
    {"get", "/v1/reviews", "listReviews"},
    {"get", "/v1/notices", "listNotices"},
    {"get", "/v1/keys", "listKeys"},
    {"post", "/v1/keys", "createKey"},
    {"post", "/v1/keys/{id}/revoke", "revokeKey"},
};

Test(openapi, every_issue_5_endpoint_is_documented)
{
    json_t *doc = load_doc(), *paths = json_object_get(doc, "paths");
    size_t nops = 0;
    for (size_t i = 0; i < sizeof ENDPOINTS / sizeof *ENDPOINTS; i++) {
        json_t *op =
            json_object_get(json_object_get(paths, ENDPOINTS[i].path), ENDPOINTS[i].method);
        cr_assert_not_null(op, "%s %s is not documented", ENDPOINTS[i].method, ENDPOINTS[i].path);
        cr_assert_str_eq(json_string_value(json_object_get(op, "operationId")), ENDPOINTS[i].id,
                         "%s %s", ENDPOINTS[i].method, ENDPOINTS[i].path);
    }
    for (size_t i = 0; i < sizeof ALSO_SERVED / sizeof *ALSO_SERVED; i++) {
        json_t *op =
            json_object_get(json_object_get(paths, ALSO_SERVED[i].path), ALSO_SERVED[i].method);
        cr_assert_not_null(op, "%s %s is not documented", ALSO_SERVED[i].method,
                           ALSO_SERVED[i].path);
        cr_assert_str_eq(json_string_value(json_object_get(op, "operationId")), ALSO_SERVED[i].id);
    }
    /* And nothing else: an operation the server does not have would fail
     * its test of each documented one, and a new one belongs in a table
     * above, where its operationId is held stable. */
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        for (size_t m = 0; m < sizeof METHODS / sizeof *METHODS; m++)
            nops += json_object_get(item, METHODS[m]) != NULL;
    }
    cr_assert_eq(nops,
                 sizeof ENDPOINTS / sizeof *ENDPOINTS + sizeof ALSO_SERVED / sizeof *ALSO_SERVED);
    json_decref(doc);
}

/* Path templates and their parameters agree: each {name} is a required
 * path parameter of the operation, and each path parameter is in the path. */
static void check_path_params(const char *path, const char *method, json_t *op, void *ctx)
{
    json_t *doc = ctx, *params = json_object_get(op, "parameters"), *p;
    size_t i, templated = 0, declared = 0;
    for (const char *c = strchr(path, '{'); c; c = strchr(c + 1, '{'))
        templated++;
    json_array_foreach(params, i, p)
    {
        p = deref(doc, p);
        cr_assert_not_null(p, "%s %s: a parameter $ref does not resolve", method, path);
        if (strcmp(json_string_value(json_object_get(p, "in")), "path"))
            continue;
        char want[80];
        snprintf(want, sizeof want, "{%s}", json_string_value(json_object_get(p, "name")));
        cr_assert(strstr(path, want), "%s %s: parameter %s is not in the path", method, path, want);
        cr_assert(json_is_true(json_object_get(p, "required")), "%s %s: %s must be required",
                  method, path, want);
        declared++;
    }
    cr_assert_eq(declared, templated, "%s %s: %zu path parameters declared, %zu in the path",
                 method, path, declared, templated);
}

Test(openapi, path_parameters_match_templates)
{
    json_t *doc = load_doc();
    each_operation(doc, check_path_params, doc);
    json_decref(doc);
}

/* Every local $ref in the document resolves. */
static void check_refs(json_t *doc, json_t *node)
{
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) check_refs(doc, v);
        return;
    }
    json_object_foreach(node, key, v)
    {
        if (!strcmp(key, "$ref") && json_is_string(v))
            cr_assert_not_null(resolve(doc, json_string_value(v)), "$ref %s does not resolve",
                               json_string_value(v));
        else
            check_refs(doc, v);
    }
}

Test(openapi, every_ref_resolves)
{
    json_t *doc = load_doc();
    check_refs(doc, doc);
    json_decref(doc);
}

/* The server refuses unknown fields in every JSON object it is sent: the
 * request schemas say so, and say which fields are required. */
static void check_bodies(const char *path, const char *method, json_t *op, void *ctx)
{
    json_t *doc = ctx;
    json_t *json = json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"),
                                   "application/json");
    if (!json)
        return;
    json_t *schema = deref(doc, json_object_get(json, "schema"));
    cr_assert_not_null(schema, "%s %s: body schema does not resolve", method, path);
    if (!strcmp(json_string_value(json_object_get(schema, "type")), "array"))
        schema = deref(doc, json_object_get(schema, "items"));
    cr_assert(json_is_false(json_object_get(schema, "additionalProperties")),
              "%s %s: the body schema allows unknown fields", method, path);
    cr_assert(json_array_size(json_object_get(schema, "required")) > 0,
              "%s %s: the body schema requires nothing", method, path);
}

Test(openapi, request_bodies_refuse_unknown_fields)
{
    json_t *doc = load_doc();
    each_operation(doc, check_bodies, doc);
    /* The shapes the library takes. */
    json_t *s = json_object_get(json_object_get(doc, "components"), "schemas");
    const struct {
        const char *schema, *required;
    } shapes[] = {
        {"DecisionRequest", "purpose"},   {"DecisionRequest", "subject"},
        {"DisputeRequest", "record"},     {"DisputeRequest", "reason"},
        {"DisputeResolution", "outcome"}, {"ReviewRequest", "decision"},
        {"ReviewRequest", "reason"},      {"ReviewDecision", "outcome"},
        {"ReviewDecision", "note"},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        json_t *req = json_object_get(json_object_get(s, shapes[i].schema), "required"), *v;
        size_t k;
        int found = 0;
        json_array_foreach(req, k, v) found |= !strcmp(json_string_value(v), shapes[i].required);
        cr_assert(found, "%s does not require %s", shapes[i].schema, shapes[i].required);
    }
    json_t *outcomes = json_object_get(
        json_object_get(json_object_get(json_object_get(s, "DisputeResolution"), "properties"),
                        "outcome"),
        "enum");
    /* Upheld or deleted: nobody resolves a dispute as corrected by hand
     * (the server answers 400), so a client made from the document must
     * not offer it. */
    cr_assert_eq(json_array_size(outcomes), 2);
    size_t oi;
    json_t *ov;
    json_array_foreach(outcomes, oi, ov) cr_assert_str_neq(json_string_value(ov), "corrected");
    outcomes = json_object_get(
        json_object_get(json_object_get(json_object_get(s, "ReviewDecision"), "properties"),
                        "outcome"),
        "enum");
    cr_assert_eq(json_array_size(outcomes), 2);
    json_decref(doc);
}

/* A record naming another furnisher is a bad record of its batch (422,
 * or left out under skip_bad): the engine checks it with the record's
 * other fields, and test_server's roles test holds the server to the
 * 422. The document said 403, which is for a token of another role. */
Test(openapi, another_furnishers_record_is_a_bad_record)
{
    json_t *doc = load_doc();
    json_t *op =
        json_object_get(json_object_get(json_object_get(doc, "paths"), "/v1/records"), "post");
    const char *d = json_string_value(json_object_get(op, "description"));
    cr_assert_not_null(d, "postRecords has no description");
    const char *at = strstr(d, "naming another furnisher"), *end = at ? strchr(at, '.') : NULL;
    cr_assert(at && end, "postRecords does not say how another furnisher's record is answered");
    cr_assert(!memmem(at, (size_t)(end - at), "403", 3), "%s", d);
    cr_assert(memmem(at, (size_t)(end - at), "bad record", 10), "%s", d);
    json_decref(doc);
}

/* The schema of one property of a component schema. */
static json_t *property(json_t *doc, const char *schema, const char *name)
{
    json_t *s = json_object_get(json_object_get(doc, "components"), "schemas");
    return json_object_get(json_object_get(json_object_get(s, schema), "properties"), name);
}

/* A furnisher key's furnisher is held to the rule of a record's
 * furnisher (the server refuses any other with 400, test_server's
 * furnisher_key_names_a_furnisher_records_can_carry), and both schemas
 * say it: before, both said up to 64 characters of anything, and a key
 * made for "Bank_A!" had every batch refused. An unnamed key is named
 * key-ID, not its bare id. */
Test(openapi, a_key_furnisher_is_a_record_furnisher)
{
    json_t *doc = load_doc();
    json_t *rec = property(doc, "RecordInput", "furnisher");
    json_t *key = property(doc, "KeyRequest", "furnisher");
    cr_assert(rec && key);
    for (int i = 0; i < 2; i++) {
        json_t *p = i ? key : rec;
        cr_assert_eq(json_integer_value(json_object_get(p, "maxLength")), 63);
        cr_assert_str_eq(json_string_value(json_object_get(p, "pattern")),
                         "^[a-z0-9][a-z0-9._-]*$");
    }
    const char *d =
        json_string_value(json_object_get(property(doc, "KeyRequest", "name"), "description"));
    cr_assert(d && strstr(d, "key-ID"), "%s", d ? d : "(no description)");
    json_decref(doc);
}

/* A public list shows a company with no public company number (filed
 * only under a furnisher's own ext: key) as "subject": null (lists.c,
 * DESIGN.md; test_decide's public_views_name_no_furnisher_key): the
 * schema must let it be null and say when. It said a required
 * Identifier string, and a client made from it failed on the entry. */
Test(openapi, a_public_list_member_may_be_null)
{
    json_t *doc = load_doc();
    json_t *subject = property(doc, "ListEntry", "subject"), *t, *v;
    cr_assert_not_null(subject);
    t = json_object_get(subject, "type");
    size_t i;
    int string = 0, null = 0;
    json_array_foreach(t, i, v)
    {
        string |= !strcmp(json_string_value(v), "string");
        null |= !strcmp(json_string_value(v), "null");
    }
    cr_assert(string && null, "ListEntry.subject is not [\"string\", \"null\"]");
    const char *d = json_string_value(json_object_get(subject, "description"));
    cr_assert(d && strstr(d, "null") && strstr(d, "ext:"), "%s", d ? d : "(no description)");
    json_decref(doc);
}
