/* threads_deadlock.c: two threads take two mutexes in opposite orders; moonshim must report the
 * deadlock (every thread blocked, no timer) instead of hanging. */
#include <pthread.h>
#include <sched.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

static void *reversed(void *argument) {
    (void)argument;
    pthread_mutex_lock(&second);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(&first);
    return 0;
}

int main(void) {
    pthread_barrier_init(&both_hold_one, 0, 2);
    pthread_t thread;
    pthread_create(&thread, 0, reversed, 0);
    pthread_mutex_lock(&first);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(&second);
    pthread_join(thread, 0);
    return 0;
}
