/*
 * cli.h - what the probity command's files share: option parsing and the
 * one way a command reports a library failure.
 */
#ifndef PRB_CLI_H
#define PRB_CLI_H

#include "probity.h"

#include <stdint.h>

/* Positional arguments a command line may have: more than ingest's
 * largest batch (DIR and 64 files), so that ingest can say its own
 * limit. */
#define CLI_MAX_POS 128

/* Parsed command line: positional arguments and --name[=value] options. */
typedef struct cli_args {
    int npos;
    const char *pos[CLI_MAX_POS];
    int nopt;
    const char *optname[32];
    const char *optval[32]; /* NULL for a flag */
    int used[32];
} cli_args;

/* What cli_parse returns, and a command passes back to main, when
 * --help or -h was given: main prints the usage and exits 0. */
#define CLI_HELP (-1)

/* Splits argv; options listed in flags take no value. Returns 0,
 * CLI_HELP, or 2 after saying what is wrong (an option given twice, a
 * flag given a value, an option missing its value). */
int cli_parse(int argc, char **argv, const char *const *flags, cli_args *a);
const char *cli_opt(cli_args *a, const char *name);
int cli_flag(cli_args *a, const char *name);
/* Complains about options no command asked for; returns 0 or 2. */
int cli_unused(const cli_args *a);

/* Opens the register at dir and applies --as-of; prints why on failure. */
int cli_open(cli_args *a, const char *dir, prb_env **env);
/* A prb_write_fn that writes everything to standard output; PRB_EIO on
 * failure. ctx is unused. */
int cli_write_stdout(void *ctx, const char *buf, size_t len);

/* A whole number written in decimal digits alone (no sign, blank,
 * exponent or 0x) that fits 64 bits: 0 with it in *v, or -1. */
int cli_whole(const char *s, uint64_t *v);
/* A whole number from option name (cli_whole), within [min, max]; *v
 * is left as it is when the option is absent. Returns 0, or 2 after
 * saying it is malformed. */
int cli_count(cli_args *a, const char *name, uint64_t min, uint64_t max, uint64_t *v);
/* A listing's page from --after N and --limit N: *after 0 and *limit 0
 * (everything) when they are absent. Returns 0, or 2 after saying
 * which is malformed. */
int cli_page(cli_args *a, uint64_t *after, size_t *limit);
/* Says on standard error where the page after one ends, if there is
 * one (next, from the engine's _page call; 0: none). */
void cli_page_next(const char *what, uint64_t next);

/* The account running the command, as a notice names the operator who
 * read a subject's file or a list (prb_subject_copy_read): its login
 * name, or "uid N". */
const char *cli_operator(void);

/* Flushes standard output: 0 if everything written to it got there;
 * otherwise PRB_EIO's exit status after saying so on standard error. */
int cli_flush_stdout(void);

/* Prints "probity: MESSAGE" to stderr and returns the exit status of rc. */
int cli_fail(int rc, const char *msg);

int cmd_init(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_subject(int argc, char **argv);
int cmd_expire(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_decide(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_lists(int argc, char **argv);
int cmd_scorecard(int argc, char **argv);
int cmd_notices(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_dispute(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
