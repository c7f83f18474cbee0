/* threads_stall.c: the main thread spins without any intercepted call while another thread
 * wants to run: nothing in the simulation can move, and moonshim must say so, not hang. */
#include <pthread.h>
#include <unistd.h>

static volatile int never;

static void *ticker(void *argument) {
    (void)argument;
    for (;;) usleep(1000);
    return 0;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, 0, ticker, 0);
    usleep(5000);
    while (!never) {} /* no call: the baton is never passed */
    return 0;
}
