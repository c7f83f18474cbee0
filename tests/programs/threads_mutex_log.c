/* threads_mutex_log.c: four threads append to a mutex-protected log; the order is the schedule.
 * Checks that nothing is lost or torn; prints the order, so seeds can be compared. */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define THREADS 4
#define ENTRIES 25

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[THREADS * ENTRIES + 1];
static int log_length;

static void *writer(void *argument) {
    char tag = (char)('A' + (long)argument);
    for (int i = 0; i < ENTRIES; i++) {
        CHECK(pthread_mutex_lock(&lock) == 0);
        log_text[log_length] = tag;
        sched_yield(); /* a switch point inside the critical section: others must wait */
        log_length++;
        CHECK(pthread_mutex_unlock(&lock) == 0);
        if (i % 3 == 0) usleep(0);
    }
    return 0;
}

int main(void) {
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], 0, writer, (void *)t) == 0);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], 0) == 0);
    CHECK(log_length == THREADS * ENTRIES);
    for (int t = 0; t < THREADS; t++) {
        int count = 0;
        for (int i = 0; i < log_length; i++) count += log_text[i] == 'A' + t;
        CHECK(count == ENTRIES);
    }
    printf("%s\n", log_text);
    return 0;
}
