/* cancel_unsupported.c: pthread_cancel of a simulated thread is not supported (glibc's SIGCANCEL
 * handler runs on a thread that waits for its turn): the run must end with a one-line
 * diagnostic and exit 3, never hang or die of an internal error. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "check.h"

static void *sleeper(void *unused) {
    (void)unused;
    struct timespec hundred = {100, 0};
    nanosleep(&hundred, 0);
    return 0;
}

int main(void) {
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, sleeper, 0) == 0);
    struct timespec moment = {0, 50000000};
    nanosleep(&moment, 0);
    CHECK(pthread_cancel(thread) == 0);
    CHECK(pthread_join(thread, 0) == 0);
    printf("joined\n");
    return 0;
}
