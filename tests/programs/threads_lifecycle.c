/* threads_lifecycle.c: detached threads, pthread_exit, return values, thread-local storage, and
 * exit() called from a thread other than main. */
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static __thread int local_value = 7;
static sem_t detached_done;
static int detached_saw;

static void *detached(void *argument) {
    local_value += (int)(long)argument;
    usleep(2000);
    detached_saw = local_value;
    sem_post(&detached_done);
    return 0;
}

static void *exits_early(void *argument) {
    (void)argument;
    local_value = 100;
    pthread_exit((void *)42);
}

static void *returns(void *argument) {
    return (void *)((long)argument * 2 + local_value); /* a fresh thread sees the initial 7 */
}

static void *calls_exit(void *argument) {
    (void)argument;
    usleep(5000);
    printf("exiting from a thread, main's local %d, detached saw %d\n", local_value, detached_saw);
    fflush(stdout);
    exit(3);
}

int main(int argc, char **argv) {
    CHECK(sem_init(&detached_done, 0, 0) == 0);
    pthread_attr_t attributes;
    CHECK(pthread_attr_init(&attributes) == 0);
    CHECK(pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, &attributes, detached, (void *)5) == 0);
    CHECK(sem_wait(&detached_done) == 0);
    CHECK(detached_saw == 12 && local_value == 7);
    void *result = 0;
    CHECK(pthread_create(&thread, 0, exits_early, 0) == 0 && pthread_join(thread, &result) == 0);
    CHECK(result == (void *)42 && local_value == 7);
    for (long i = 0; i < 20; i++) { /* thread slots are reused */
        CHECK(pthread_create(&thread, 0, returns, (void *)i) == 0);
        CHECK(pthread_join(thread, &result) == 0 && result == (void *)(i * 2 + 7));
    }
    if (argc > 1 && strcmp(argv[1], "exit-from-thread") == 0) {
        CHECK(pthread_create(&thread, 0, calls_exit, 0) == 0);
        for (;;) pause(); /* main blocks; the other thread ends the process */
    }
    printf("lifecycle ok\n");
    return 0;
}
