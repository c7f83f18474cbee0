/* threads_condvar.c: condvar ping-pong with pthread_cond_timedwait timeouts in virtual time. */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 40

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ball; /* 0: ping's turn, 1: pong's turn */
static int timeouts[2];
static char order[4 * ROUNDS];
static int order_length;

static long long monotonic_ms(void) {
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    return now.tv_sec * 1000ll + now.tv_nsec / 1000000;
}

static void *player(void *argument) {
    int me = (int)(long)argument;
    for (int round = 0; round < ROUNDS; round++) {
        CHECK(pthread_mutex_lock(&lock) == 0);
        while (ball != me) {
            struct timespec deadline;
            CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
            deadline.tv_nsec += 30 * 1000000; /* 30 ms */
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
            long long before = monotonic_ms();
            int result = pthread_cond_timedwait(&changed, &lock, &deadline);
            CHECK(result == 0 || result == ETIMEDOUT);
            if (result == ETIMEDOUT) {
                CHECK(monotonic_ms() - before >= 30); /* a timeout takes its full virtual time */
                timeouts[me]++;
                order[order_length++] = (char)('a' + me);
            }
        }
        order[order_length++] = (char)('A' + me);
        ball = !me;
        CHECK(pthread_cond_signal(&changed) == 0);
        CHECK(pthread_mutex_unlock(&lock) == 0);
        if ((round * 7 + me) % 5 == 0) usleep(45000); /* sometimes slower than the timeout */
    }
    return 0;
}

int main(void) {
    pthread_t threads[2];
    long long start = monotonic_ms();
    for (long t = 0; t < 2; t++) CHECK(pthread_create(&threads[t], 0, player, (void *)t) == 0);
    for (int t = 0; t < 2; t++) CHECK(pthread_join(threads[t], 0) == 0);
    CHECK(timeouts[0] + timeouts[1] > 0); /* the 45 ms naps must have caused timeouts */
    printf("%.*s\ntimeouts %d %d, virtual %lld ms\n", order_length, order, timeouts[0],
           timeouts[1], monotonic_ms() - start);
    return 0;
}
