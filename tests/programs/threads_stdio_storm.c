/* threads_stdio_storm.c: eight threads printf thousands of lines and churn malloc/free; glibc's
 * internal locks (stdio, malloc arenas) reach futex without the PLT. Must finish, deterministically. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define THREADS 8
#define LINES 600

static void *storm(void *argument) {
    long me = (long)argument;
    void *blocks[16] = {0};
    for (int i = 0; i < LINES; i++) {
        int slot = (int)((i * 7 + me) % 16);
        free(blocks[slot]);
        blocks[slot] = malloc((size_t)(16 + (i * 37 + me * 11) % 4000));
        CHECK(blocks[slot]);
        memset(blocks[slot], (int)me, 16);
        printf("thread %ld line %d\n", me, i);
        if (i % 50 == 0) sched_yield();
    }
    for (int i = 0; i < 16; i++) free(blocks[i]);
    return 0;
}

int main(void) {
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], 0, storm, (void *)t) == 0);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], 0) == 0);
    printf("all %d lines printed\n", THREADS * LINES);
    return 0;
}
