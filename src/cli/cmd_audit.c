/*
 * cmd_audit.c - probity audit (signed tree heads, proofs and their offline
 * check) and probity verify.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: probity audit head DIR\n"
    "       probity audit key DIR\n"
    "       probity audit prove DIR --leaf N [--size S]\n"
    "         --size: the tree the proof is in (default: the log as it is now)\n"
    "       probity audit consistency DIR --from A --to B\n"
    "       probity audit check-proof --key PUBLIC_KEY|@FILE [--head HEAD.json] PROOF.json|-\n"
    "         --head: a signed head saved before (audit head); the proof must agree with it\n"
    "         exit status: 0 the proof holds; 10 it does not (the message says why: a\n"
    "         signature, a path, a head that differs, a field no signature covers (event,\n"
    "         time, public_key, a size) that disagrees with what is signed, or a proof,\n"
    "         head or key that is not one); 74 a file cannot be read; 2 a usage error\n";

/* check-proof's exit status for a proof that does not hold: not one of
 * prb_exit_status's, so that an auditor's job tells a rewritten history
 * from a typo (2) or a file it cannot read (74). */
#define EXIT_UNVERIFIED 10

/* A whole file (or standard input for "-"), NUL-terminated; NULL with a
 * message and the exit status in *status on failure. */
static char *slurp(const char *path, int *status)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        fprintf(stderr, "probity: %s: %s\n", path, strerror(errno));
        *status = prb_exit_status(PRB_EIO);
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *n = realloc(buf, cap = cap * 2 + 8192);
            if (!n) {
                free(buf);
                buf = NULL;
                fprintf(stderr, "probity: out of memory\n");
                *status = prb_exit_status(PRB_ENOMEM);
                break;
            }
            buf = n;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                fprintf(stderr, "probity: %s: read error\n", path);
                *status = prb_exit_status(PRB_EIO);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (buf)
        buf[len] = 0;
    if (f != stdin)
        fclose(f);
    return buf;
}

static int check_proof(cli_args *a)
{
    const char *key = cli_opt(a, "key"), *head = cli_opt(a, "head");
    char *keybuf = NULL, *proof = NULL, *held = NULL, msg[512];
    int rc;
    if (a->npos != 1 || !key)
        return fputs(usage, stderr), 2;
    if ((rc = cli_unused(a)))
        return rc;
    if (key[0] == '@' && !(key = keybuf = slurp(key + 1, &rc)))
        return rc;
    if ((head && !(held = slurp(head, &rc))) || !(proof = slurp(a->pos[0], &rc)))
        goto out;
    if (prb_audit_check_held(key, proof, held, msg, sizeof msg)) {
        fprintf(stderr, "probity: %s\n", msg);
        rc = EXIT_UNVERIFIED;
    } else {
        puts(msg);
    }
out:
    free(proof);
    free(held);
    free(keybuf);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    char *json = NULL, key[64];
    uint64_t leaf = 0, size = 0, from = 0, to = 0;
    int rc;
    if (argc < 1)
        return fputs(usage, stderr), 2;
    const char *sub = argv[0];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
        return CLI_HELP;
    if ((rc = cli_parse(argc - 1, argv + 1, NULL, &a)))
        return rc;
    if (!strcmp(sub, "check-proof"))
        return check_proof(&a);
    if (strcmp(sub, "head") && strcmp(sub, "key") && strcmp(sub, "prove") &&
        strcmp(sub, "consistency"))
        return fprintf(stderr, "probity: audit: unknown subcommand '%s'\n%s", sub, usage), 2;
    if (a.npos != 1)
        return fputs(usage, stderr), 2;
    int prove = !strcmp(sub, "prove"), consistency = !strcmp(sub, "consistency");
    /* Each reads its own options alone, so that cli_unused reports any
     * other (prove --to was read, ignored and never reported). A size
     * of 0 is the library's "current", which a size given is not. */
    if (prove && ((rc = cli_count(&a, "leaf", 0, UINT64_MAX, &leaf)) ||
                  (rc = cli_count(&a, "size", 1, UINT64_MAX, &size))))
        return rc;
    if (consistency && ((rc = cli_count(&a, "from", 0, UINT64_MAX, &from)) ||
                        (rc = cli_count(&a, "to", 1, UINT64_MAX, &to))))
        return rc;
    if (prove && !cli_opt(&a, "leaf"))
        return fprintf(stderr, "probity: audit prove needs --leaf N\n"), 2;
    if (consistency && (!cli_opt(&a, "from") || !cli_opt(&a, "to")))
        return fprintf(stderr, "probity: audit consistency needs --from A --to B\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a))) {
        prb_close(env);
        return rc;
    }
    if (!strcmp(sub, "head"))
        rc = prb_audit_head(env, &json);
    else if (!strcmp(sub, "key"))
        rc = prb_audit_public_key(env, key);
    else if (prove)
        rc = prb_audit_prove(env, leaf, size, &json);
    else
        rc = prb_audit_consistency(env, from, to, &json);
    if (rc)
        rc = cli_fail(rc, prb_errmsg(env));
    else
        puts(json ? json : key);
    free(json);
    prb_close(env);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    prb_verify_stats st;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return fprintf(stderr, "usage: probity verify DIR\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a))) {
        prb_close(env);
        return rc;
    }
    rc = prb_verify(env, cli_write_stdout, NULL, &st);
    if (rc)
        rc = cli_fail(rc, prb_errmsg(env));
    else
        printf("ok: %llu leaves, %llu record versions match the audit log\n",
               (unsigned long long)st.leaves, (unsigned long long)st.records);
    prb_close(env);
    return rc;
}
