/*
 * cmd_subject.c - probity subject: print a subject's whole file.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_subject(int argc, char **argv)
{
    cli_args a;
    prb_env *env;
    prb_file *f = NULL;
    const char *json;
    int rc = cli_parse(argc, argv, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 2)
        return fprintf(stderr, "usage: probity subject DIR SCHEME:VALUE [--as-of DATE]\n"), 2;
    if ((rc = cli_open(&a, a.pos[0], &env)))
        return rc;
    if ((rc = cli_unused(&a)))
        goto out;
    if ((rc = prb_subject_read(env, a.pos[1], &f))) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    if ((rc = prb_file_json(f, &json))) {
        rc = cli_fail(rc, "out of memory");
        goto out;
    }
    /* The file and every inquiry about the subject, as one document. */
    char *inq = NULL;
    if ((rc = prb_inquiries_json(env, a.pos[1], &inq))) {
        rc = cli_fail(rc, prb_errmsg(env));
        goto out;
    }
    json_t *doc = json_loads(json, 0, NULL), *arr = json_loads(inq, 0, NULL);
    free(inq);
    char *text = NULL;
    if (doc && arr && !json_object_set_new(doc, "inquiries", arr))
        text = json_dumps(doc, JSON_INDENT(2));
    else
        json_decref(arr);
    json_decref(doc);
    if (!text) {
        rc = cli_fail(PRB_ENOMEM, "out of memory");
        goto out;
    }
    puts(text);
    free(text);
out:
    prb_file_free(f);
    prb_close(env);
    return rc;
}
