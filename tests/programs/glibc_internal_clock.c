/* glibc_internal_clock.c: clock reads that never pass through the program's PLT — glibc's own
 * internal calls through its cached vDSO pointers, and function pointers taken before main. */
#include <dlfcn.h>
#include <sched.h>
#include <time.h>

#include "check.h"

typedef int (*clock_gettime_function)(clockid_t, struct timespec *);
typedef time_t (*time_function)(time_t *);
static clock_gettime_function cached_clock_gettime;
static time_function cached_time;

__attribute__((constructor)) static void take_pointers_before_main(void) {
    cached_clock_gettime = (clock_gettime_function)dlsym(RTLD_DEFAULT, "clock_gettime");
    cached_time = (time_function)dlsym(RTLD_DEFAULT, "time");
}

int main(void) {
    struct timespec value;
    CHECK(cached_clock_gettime && cached_time);
    CHECK(cached_clock_gettime(CLOCK_REALTIME, &value) == 0 && value.tv_sec == DEFAULT_EPOCH_S);
    CHECK(cached_time(0) == DEFAULT_EPOCH_S);
    /* timespec_get and clock() call glibc's internal __clock_gettime, i.e. the vDSO pointer. */
    CHECK(timespec_get(&value, TIME_UTC) == TIME_UTC && value.tv_sec == DEFAULT_EPOCH_S);
    CHECK(value.tv_nsec == 0);
    clock_t cpu = clock();
    CHECK(cpu >= 0 && cpu < 1000000); /* virtual CPU time: microseconds, not the real count */
    struct timespec resolution;
    CHECK(clock_getres(CLOCK_MONOTONIC, &resolution) == 0);
    CHECK(sched_getcpu() == 0);
    /* localtime/strftime read the clock through time(); TZ is unset so this is UTC. */
    time_t now = time(0);
    char text[64];
    CHECK(strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", gmtime(&now)) > 0);
    printf("%s\n", text);
    CHECK(text[0] == '2' && text[1] == '0' && text[2] == '2' && text[3] == '6');
    return 0;
}
