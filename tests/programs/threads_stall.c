/* threads_stall.c: the main thread blocks in a call the shim does not simulate yet (a read of an
 * empty pipe) while another thread wants to run: moonshim must say so, not hang. */
#include <pthread.h>
#include <unistd.h>

static void *ticker(void *argument) {
    (void)argument;
    for (;;) usleep(1000);
    return 0;
}

int main(void) {
    int ends[2];
    if (pipe(ends) != 0) return 2;
    pthread_t thread;
    pthread_create(&thread, 0, ticker, 0);
    usleep(5000);
    char byte;
    return (int)read(ends[0], &byte, 1); /* nobody ever writes */
}
