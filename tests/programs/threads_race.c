/* threads_race.c: an unsynchronized read-modify-write that only some schedules break. Exits 1
 * when this run lost an update: some seeds must, and a seed that does must do so every time. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int counter;

static void *increment(void *argument) {
    int reads = (int)(long)argument;
    struct timespec ignored;
    for (int i = 0; i < reads; i++) clock_gettime(CLOCK_MONOTONIC, &ignored); /* jitter the start */
    int seen = counter;
    clock_gettime(CLOCK_MONOTONIC, &ignored); /* the window: another thread may run here */
    counter = seen + 1;
    return 0;
}

int main(void) {
    pthread_t threads[3];
    for (long t = 0; t < 3; t++) CHECK(pthread_create(&threads[t], 0, increment, (void *)(t * 2)) == 0);
    for (int t = 0; t < 3; t++) CHECK(pthread_join(threads[t], 0) == 0);
    printf("counter %d\n", counter);
    if (counter != 3) {
        fprintf(stderr, "race: lost %d update(s)\n", 3 - counter);
        return 1;
    }
    return 0;
}
