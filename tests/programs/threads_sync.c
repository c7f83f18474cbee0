/* threads_sync.c: rwlock, barrier and semaphores (with a timed wait) across five threads. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define THREADS 5

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t barrier;
static sem_t tokens, done;
static int table[8], readers_inside, max_readers_inside, serial_threads;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *argument) {
    long me = (long)argument;
    for (int i = 0; i < 6; i++) {
        if ((i + me) % 3 == 0) {
            CHECK(pthread_rwlock_wrlock(&table_lock) == 0);
            for (int j = 0; j < 8; j++) table[j]++;
            sched_yield();
            for (int j = 1; j < 8; j++) CHECK(table[j] == table[0]); /* no reader or writer inside */
            CHECK(pthread_rwlock_unlock(&table_lock) == 0);
        } else {
            CHECK(pthread_rwlock_rdlock(&table_lock) == 0);
            pthread_mutex_lock(&stats);
            if (++readers_inside > max_readers_inside) max_readers_inside = readers_inside;
            pthread_mutex_unlock(&stats);
            sched_yield();
            for (int j = 1; j < 8; j++) CHECK(table[j] == table[0]);
            pthread_mutex_lock(&stats);
            readers_inside--;
            pthread_mutex_unlock(&stats);
            CHECK(pthread_rwlock_unlock(&table_lock) == 0);
        }
    }
    int result = pthread_barrier_wait(&barrier);
    CHECK(result == 0 || result == PTHREAD_BARRIER_SERIAL_THREAD);
    if (result == PTHREAD_BARRIER_SERIAL_THREAD) __atomic_add_fetch(&serial_threads, 1, __ATOMIC_SEQ_CST);
    CHECK(sem_wait(&tokens) == 0); /* at most two at a time past here */
    usleep(1000);
    CHECK(sem_post(&tokens) == 0);
    CHECK(sem_post(&done) == 0);
    return 0;
}

int main(void) {
    CHECK(pthread_barrier_init(&barrier, 0, THREADS) == 0);
    CHECK(sem_init(&tokens, 0, 2) == 0 && sem_init(&done, 0, 0) == 0);
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], 0, worker, (void *)t) == 0);
    struct timespec deadline;
    CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
    deadline.tv_sec += 3600;
    for (int t = 0; t < THREADS; t++) CHECK(sem_timedwait(&done, &deadline) == 0);
    CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
    deadline.tv_sec += 2;
    errno = 0;
    CHECK(sem_timedwait(&done, &deadline) == -1 && errno == ETIMEDOUT); /* nobody posts again */
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], 0) == 0);
    CHECK(serial_threads == 1);
    printf("table %d, readers together at most %d\n", table[0], max_readers_inside);
    return 0;
}
