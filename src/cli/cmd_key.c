/*
 * cmd_key.c - probity key create|list|revoke: the HTTP API's bearer
 * tokens (the logic is in src/lib/keys.c). A new token is printed once,
 * alone on standard output, so `T=$(probity key create ...)` keeps it;
 * what it is for goes to standard error.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char key_usage[] =
    "usage: probity key create DIR --role admin|furnisher|inquirer|reviewer|subject\n"
    "                          [--furnisher NAME] [--purposes P1,P2] [--subject ID] [--name "
    "LABEL]\n"
    "       probity key list DIR\n"
    "       probity key revoke DIR ID\n";

/* Copies an option's value into a key field; 2 if it does not fit. */
static int field(cli_args *a, const char *name, char *out, size_t cap)
{
    const char *v = cli_opt(a, name);
    if (!v)
        return 0;
    if (strlen(v) >= cap)
        return fprintf(stderr, "probity: --%s is longer than %zu bytes\n", name, cap - 1), 2;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int key_create(prb_env *env, const char *dir, const prb_key *spec)
{
    char token[PRB_TOKEN_MAX];
    prb_key made;
    int rc = prb_key_create(env, spec, token, &made);
    if (rc)
        return cli_fail(rc, prb_errmsg(env));
    printf("%s\n", token);
    memset(token, 0, sizeof token);
    /* A token that did not get out whole is held by no one, or in part
     * by whatever read it: the key is revoked rather than left live. */
    if ((rc = cli_flush_stdout())) {
        if (prb_key_revoke(env, made.id))
            fprintf(stderr,
                    "probity: key %s was made but its token was not written, and revoking it "
                    "failed: %s; run `probity key revoke %s %s`\n",
                    made.id, prb_errmsg(env), dir, made.id);
        else
            fprintf(stderr, "probity: key %s revoked: its token was not written\n", made.id);
        return rc;
    }
    fprintf(stderr, "probity: key %s (%s, %s) made; the token above is shown only now\n", made.id,
            prb_role_name(made.role), made.name);
    return 0;
}

int cmd_key(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    prb_key spec;
    char *json = NULL;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    const char *sub = a.npos ? a.pos[0] : "";
    int create = !strcmp(sub, "create"), list = !strcmp(sub, "list");
    int revoke = !strcmp(sub, "revoke");
    if ((!create && !list && !revoke) || a.npos != (revoke ? 3 : 2))
        return fputs(key_usage, stderr), 2;
    memset(&spec, 0, sizeof spec);
    if (create) {
        const char *role = cli_opt(&a, "role");
        if (!role)
            return fputs(key_usage, stderr), 2;
        if (!(spec.role = prb_role_parse(role)))
            return fprintf(stderr, "probity: --role '%s' is not a role\n%s", role, key_usage), 2;
        if ((rc = field(&a, "furnisher", spec.furnisher, sizeof spec.furnisher)) ||
            (rc = field(&a, "purposes", spec.purposes, sizeof spec.purposes)) ||
            (rc = field(&a, "subject", spec.subject, sizeof spec.subject)) ||
            (rc = field(&a, "name", spec.name, sizeof spec.name)))
            return rc;
    }
    if ((rc = cli_open(&a, a.pos[1], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if (create) {
        rc = key_create(env, a.pos[1], &spec);
    } else if (list) {
        if ((rc = prb_keys_json(env, &json)))
            rc = cli_fail(rc, prb_errmsg(env));
        else
            puts(json);
    } else if ((rc = prb_key_revoke(env, a.pos[2]))) {
        rc = cli_fail(rc, prb_errmsg(env));
    } else {
        fprintf(stderr, "probity: key %s revoked\n", a.pos[2]);
    }
out:
    free(json);
    prb_close(env);
    return rc;
}
