/* threads_external_wait.c: threads that wait on real descriptors (a pipe, a socketpair, poll,
 * select, epoll) wait in the scheduler, so the thread that will write can run; timeouts on real
 * descriptors pass in virtual time. Previously a blocked reader held the run baton: a hang. */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int pipe_ends[2], pair[2];

static long long monotonic_ms(void) {
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    return now.tv_sec * 1000ll + now.tv_nsec / 1000000;
}

static void *writer(void *argument) {
    (void)argument;
    for (int round = 0; round < 5; round++) {
        usleep(200000); /* 200 virtual ms between messages */
        char message[32];
        int length = snprintf(message, sizeof(message), "pipe %d\n", round);
        CHECK(write(pipe_ends[1], message, (size_t)length) == length);
        length = snprintf(message, sizeof(message), "pair %d\n", round);
        CHECK(send(pair[1], message, (size_t)length, 0) == length);
    }
    return 0;
}

int main(void) {
    CHECK(pipe(pipe_ends) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    long long start = monotonic_ms();
    /* A timeout on a real descriptor that never becomes ready passes in virtual time. */
    struct pollfd idle = {.fd = pipe_ends[0], .events = POLLIN};
    CHECK(poll(&idle, 1, 3000) == 0);
    CHECK(monotonic_ms() - start >= 3000);
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, writer, 0) == 0);
    int epoll_fd = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLIN, .data.fd = pair[0]};
    CHECK(epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pair[0], &interest) == 0);
    for (int round = 0; round < 5; round++) {
        char buffer[64];
        ssize_t got = read(pipe_ends[0], buffer, sizeof(buffer)); /* blocks: writer must run */
        CHECK(got > 0);
        printf("%.*s", (int)got, buffer);
        struct epoll_event event;
        CHECK(epoll_wait(epoll_fd, &event, 1, -1) == 1 && event.data.fd == pair[0]);
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(pair[0], &readable);
        CHECK(select(pair[0] + 1, &readable, 0, 0, 0) == 1 && FD_ISSET(pair[0], &readable));
        got = recv(pair[0], buffer, sizeof(buffer), 0);
        CHECK(got > 0);
        printf("%.*s", (int)got, buffer);
    }
    CHECK(pthread_join(thread, 0) == 0);
    long long elapsed = monotonic_ms() - start;
    CHECK(elapsed >= 3000 + 5 * 200); /* every wait was a virtual one */
    printf("virtual %lld ms\n", elapsed);
    return 0;
}
