/* clocks.c: every clock reads virtual time; with "cost N" each intercepted call costs N ns. */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

static long long read_ns(clockid_t clock) {
    struct timespec value;
    CHECK(clock_gettime(clock, &value) == 0);
    CHECK(value.tv_nsec >= 0 && value.tv_nsec < 1000000000);
    return value.tv_sec * 1000000000ll + value.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "print") == 0) {
        /* For seed comparisons under time.call_jitter: no expectations, just the readings. */
        for (int i = 0; i < 8; i++) printf("%lld\n", read_ns(CLOCK_MONOTONIC));
        return 0;
    }
    long long cost = argc == 3 && strcmp(argv[1], "cost") == 0 ? atoll(argv[2]) : 0;
    const clockid_t monotonic_like[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                        CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};
    const clockid_t realtime_like[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE};
    long long previous = read_ns(CLOCK_MONOTONIC);
    if (cost == 0) CHECK(previous == DEFAULT_UPTIME_S * 1000000000ll);
    for (size_t i = 0; i < sizeof(monotonic_like) / sizeof(*monotonic_like); i++) {
        long long value = read_ns(monotonic_like[i]);
        CHECK(value - previous == cost); /* time moves only by the configured cost */
        previous = value;
    }
    for (size_t i = 0; i < sizeof(realtime_like) / sizeof(*realtime_like); i++) {
        long long value = read_ns(realtime_like[i]);
        long long offset = (DEFAULT_EPOCH_S - DEFAULT_UPTIME_S) * 1000000000ll;
        CHECK(value - offset - previous == cost);
        previous = value - offset;
    }
    long long tai = read_ns(CLOCK_TAI), real = read_ns(CLOCK_REALTIME);
    CHECK(real - tai == cost - 37ll * 1000000000ll);
    /* CPU clocks: a fixed amount per intercepted call (time.cpu_per_call, 1 us by default). */
    long long cpu_a = read_ns(CLOCK_PROCESS_CPUTIME_ID), cpu_b = read_ns(CLOCK_THREAD_CPUTIME_ID);
    CHECK(cpu_b - cpu_a == 1000);
    CHECK(clock() == (clock_t)((cpu_b + 1000) / 1000)); /* clock() is one more call, in us */
    struct timeval tv;
    CHECK(gettimeofday(&tv, 0) == 0);
    CHECK(tv.tv_sec == DEFAULT_EPOCH_S);
    CHECK(time(0) == DEFAULT_EPOCH_S);
    struct timespec ignored;
    errno = 0;
    CHECK(clock_gettime((clockid_t)12345, &ignored) == -1 && errno == EINVAL);
    printf("monotonic %lld realtime %lld cpu %lld\n", read_ns(CLOCK_MONOTONIC),
           read_ns(CLOCK_REALTIME), read_ns(CLOCK_PROCESS_CPUTIME_ID));
    return 0;
}
