/* check.h: the assertion helper of the integration programs: print where, exit 1. */
#ifndef MOON_TEST_CHECK_H
#define MOON_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(condition)                                                                         \
    do {                                                                                         \
        if (!(condition)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);       \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* The defaults of time.epoch and time.uptime (moonshim.conf(5)). */
#define DEFAULT_EPOCH_S 1767225600ll
#define DEFAULT_UPTIME_S 100ll

#endif
