/* timerfd_virtual.c: timerfds run in virtual time: a periodic timer read directly, a one-shot
 * timer through poll, an absolute REALTIME timer through epoll, next to a thread that sleeps.
 * An hour of ticks must take no wall time, and expiration counts must add up exactly. */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long monotonic_ms(void) {
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    return now.tv_sec * 1000ll + now.tv_nsec / 1000000;
}

static void *sleeper(void *argument) {
    (void)argument;
    for (int i = 0; i < 10; i++) usleep(250000);
    return 0;
}

int main(void) {
    long long start = monotonic_ms();
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, sleeper, 0) == 0);
    /* Periodic, 1 s: 3600 reads of one expiration each = one virtual hour. */
    int ticker = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(ticker >= 0);
    struct itimerspec every_second = {{1, 0}, {1, 0}};
    CHECK(timerfd_settime(ticker, 0, &every_second, 0) == 0);
    uint64_t total = 0;
    for (int i = 0; i < 3600; i++) {
        uint64_t expirations = 0;
        CHECK(read(ticker, &expirations, sizeof(expirations)) == sizeof(expirations));
        total += expirations;
    }
    CHECK(total == 3600);
    CHECK(monotonic_ms() - start == 3600 * 1000);
    /* Missed expirations accumulate: sleep 5.5 s, then one read returns 5. */
    usleep(5500000);
    uint64_t missed = 0;
    CHECK(read(ticker, &missed, sizeof(missed)) == sizeof(missed) && missed == 5);
    struct itimerspec left;
    CHECK(timerfd_gettime(ticker, &left) == 0 && left.it_interval.tv_sec == 1);
    CHECK(left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 500000000);
    /* One-shot, 300 ms, through poll. */
    int once = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec in_300ms = {{0, 0}, {0, 300000000}};
    CHECK(timerfd_settime(once, 0, &in_300ms, 0) == 0);
    uint64_t count;
    CHECK(read(once, &count, sizeof(count)) == -1); /* not yet: EAGAIN */
    long long before = monotonic_ms();
    struct pollfd ready = {.fd = once, .events = POLLIN};
    CHECK(poll(&ready, 1, 10000) == 1);
    CHECK(monotonic_ms() - before == 300);
    CHECK(read(once, &count, sizeof(count)) == sizeof(count) && count == 1);
    /* Absolute REALTIME, 2 s ahead, through epoll. */
    int absolute = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec wall;
    CHECK(clock_gettime(CLOCK_REALTIME, &wall) == 0);
    struct itimerspec at = {{0, 0}, {wall.tv_sec + 2, wall.tv_nsec}};
    CHECK(timerfd_settime(absolute, TFD_TIMER_ABSTIME, &at, 0) == 0);
    int epoll_fd = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLIN, .data.fd = absolute};
    CHECK(epoll_ctl(epoll_fd, EPOLL_CTL_ADD, absolute, &interest) == 0);
    before = monotonic_ms();
    struct epoll_event event;
    CHECK(epoll_wait(epoll_fd, &event, 1, -1) == 1 && event.data.fd == absolute);
    CHECK(monotonic_ms() - before == 2000);
    CHECK(pthread_join(thread, 0) == 0);
    printf("virtual %lld ms, %llu ticks\n", monotonic_ms() - start, (unsigned long long)total);
    return 0;
}
