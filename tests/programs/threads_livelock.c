/* threads_livelock.c: two polite threads wait for each other forever with sched_yield; nobody
 * blocks and time does not move, so moonshim must report a livelock, not spin forever. */
#include <pthread.h>
#include <sched.h>

static volatile int ready[2];

static void *polite(void *argument) {
    int me = (int)(long)argument;
    while (!ready[!me]) sched_yield(); /* waits for a flag the other never sets */
    ready[me] = 1;
    return 0;
}

int main(void) {
    pthread_t threads[2];
    for (long t = 0; t < 2; t++) pthread_create(&threads[t], 0, polite, (void *)t);
    for (int t = 0; t < 2; t++) pthread_join(threads[t], 0);
    return 0;
}
