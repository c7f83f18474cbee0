/* time_hour.c: one virtual hour of sleeping, in one-second steps through every sleep API
 * (nanosleep, poll, select, absolute clock_nanosleep on two clocks, sleep, usleep, ppoll, pselect,
 * epoll_wait on an empty set). */
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long now_ns(clockid_t clock) {
    struct timespec value;
    CHECK(clock_gettime(clock, &value) == 0);
    return value.tv_sec * 1000000000ll + value.tv_nsec;
}

static void sleep_one_second(int step) {
    struct timespec one = {1, 0};
    struct timeval tv = {1, 0};
    struct timespec deadline;
    static int epoll_fd = -1;
    if (epoll_fd < 0) CHECK((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) >= 0);
    struct epoll_event event;
    sigset_t mask;
    sigemptyset(&mask);
    switch (step % 10) {
    case 0: CHECK(nanosleep(&one, 0) == 0); break;
    case 1: CHECK(poll(0, 0, 1000) == 0); break;
    case 2: CHECK(select(0, 0, 0, 0, &tv) == 0); CHECK(tv.tv_sec == 0 && tv.tv_usec == 0); break;
    case 3:
        CHECK(clock_gettime(CLOCK_MONOTONIC, &deadline) == 0);
        deadline.tv_sec += 1;
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, 0) == 0);
        break;
    case 4:
        CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
        deadline.tv_sec += 1;
        CHECK(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &deadline, 0) == 0);
        break;
    case 5: CHECK(sleep(1) == 0); break;
    case 6: CHECK(usleep(999999) == 0); CHECK(usleep(1) == 0); break;
    case 7: CHECK(ppoll(0, 0, &one, &mask) == 0); break;
    case 8: CHECK(pselect(0, 0, 0, 0, &one, &mask) == 0); break;
    case 9: CHECK(epoll_wait(epoll_fd, &event, 1, 1000) == 0); break;
    }
}

int main(void) {
    long long mono_start = now_ns(CLOCK_MONOTONIC);
    long long real_start = now_ns(CLOCK_REALTIME);
    CHECK(real_start / 1000000000ll == DEFAULT_EPOCH_S);
    CHECK(mono_start / 1000000000ll == DEFAULT_UPTIME_S);
    for (int step = 0; step < 3600; step++) {
        long long before = now_ns(CLOCK_MONOTONIC);
        sleep_one_second(step);
        long long slept = now_ns(CLOCK_MONOTONIC) - before;
        CHECK(slept == 1000000000ll); /* exactly: no call cost by default */
    }
    long long mono_elapsed = now_ns(CLOCK_MONOTONIC) - mono_start;
    long long real_elapsed = now_ns(CLOCK_REALTIME) - real_start;
    CHECK(mono_elapsed >= 3600ll * 1000000000ll);
    CHECK(real_elapsed >= 3600ll * 1000000000ll);
    CHECK(time(0) == DEFAULT_EPOCH_S + 3600);
    printf("monotonic elapsed %lld ns, realtime elapsed %lld ns\n", mono_elapsed, real_elapsed);
    return 0;
}
