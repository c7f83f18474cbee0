/* exec_state.c: an execve continues the run where the last image stopped: the virtual clock
 * does not go back, and an alarm set before the execve (POSIX keeps it) fires in the new image
 * at the moment it was set for. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t rang;

static void on_alarm(int signal_number) {
    (void)signal_number;
    rang = 1;
}

static long long monotonic_s(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argc == 1) {
        long long start = monotonic_s();
        CHECK(alarm(5) == 0);
        struct timespec two = {2, 0};
        CHECK(nanosleep(&two, 0) == 0);
        printf("image 1: alarm in 5 s set at %lld, exec at %lld\n", start, monotonic_s());
        char start_text[32];
        snprintf(start_text, sizeof(start_text), "%lld", start);
        char *args[] = {argv[0], "second", start_text, 0};
        execv(argv[0], args);
        perror("execv");
        return 1;
    }
    long long start = atoll(argv[2]);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &action, 0) == 0);
    CHECK(monotonic_s() >= start + 2); /* the clock went on */
    while (!rang) pause();
    CHECK(monotonic_s() == start + 5);
    printf("image 2: the alarm set before the exec fired at %lld, 5 s after it was set\n",
           monotonic_s());
    return 0;
}
