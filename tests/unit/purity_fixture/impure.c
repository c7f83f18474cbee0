/* impure.c: a deliberately impure object; the purity check must reject it (its self-test).
 *
 * It includes OS headers and calls the clock, a syscall wrapper and stdio: everything the pure
 * core must never do. It is built only to be checked, never linked into anything. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

long fixture_impure(void) {
    printf("pid %ld\n", (long)getpid());
    return (long)time(0);
}
