/* moon_assert.h: always-on assertions for the pure core.
 *
 * The core cannot print or exit (it does no I/O), so a failed assertion calls moon_panic(), which
 * every program that links the core defines: the shim writes one line and kills the process, the
 * tool and the unit tests print and abort. Assertions stay on in release builds: a wrong schedule is
 * worse than a crash. Split compound conditions so the message says which half failed. */
#ifndef MOON_SCHED_ASSERT_H
#define MOON_SCHED_ASSERT_H

_Noreturn void moon_panic(const char *file, int line, const char *expression);

#define MOON_ASSERT(condition)                                                                   \
    do {                                                                                         \
        if (__builtin_expect(!(condition), 0)) moon_panic(__FILE__, __LINE__, #condition);       \
    } while (0)

#endif
