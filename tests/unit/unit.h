/* unit.h: what the Check unit suites share: the runner and small assertion helpers. */
#ifndef MOON_TESTS_UNIT_H
#define MOON_TESTS_UNIT_H

#include <check.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Runs a suite with every test in its own forked child (so death tests work whatever CK_FORK
 * says) and returns the process exit status: 0 when every test passed. */
int unit_run(Suite *suite);

/* Pearson's chi-square statistic of `counts` against a uniform spread of their total. */
double unit_chi_square(const uint64_t *counts, size_t buckets);

/* Registers a test that passes only if the code under test calls moon_panic() (which aborts). */
#define unit_add_death_test(tcase, test) tcase_add_test_raise_signal(tcase, test, SIGABRT)

#endif
