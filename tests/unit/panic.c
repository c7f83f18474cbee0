/* panic.c: moon_panic() for the unit tests: print the failed assertion and abort.
 *
 * The core calls this on a failed MOON_ASSERT. Suites run each test in a forked child, so an abort
 * fails (or, for tests registered with tcase_add_test_raise_signal(..., SIGABRT), passes) that one
 * test without taking the whole suite down. */
#include <stdio.h>
#include <stdlib.h>

#include "scheduler/moon_assert.h"

_Noreturn void moon_panic(const char *file, int line, const char *expression) {
    fprintf(stderr, "moon_panic: %s:%d: assertion failed: %s\n", file, line, expression);
    fflush(stderr);
    abort();
}
