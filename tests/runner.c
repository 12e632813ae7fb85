/*
 * runner.c - the test runner and LeakSanitizer. Criterion's runner, the
 * process that starts a worker for each test and gathers their results,
 * leaks a small allocation of its own at exit (inside libcriterion, which
 * has no symbols to suppress it by: a suppression by its module would
 * also hide every leak whose stack passes through it, that is every leak
 * of a test). So leak checking is off in that one process only; every
 * test runs in a worker of its own, checked at the worker's exit, and
 * `make test` fails on any sanitizer report.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <unistd.h>

static pid_t runner;

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    runner = getpid();
}

/* LeakSanitizer's hook, asked once at exit. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return runner != 0 && runner == getpid();
}
