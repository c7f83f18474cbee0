/* terminate.c: process.terminate_* asks the program to stop (SIGTERM at a virtual moment the
 * seed or the config picks, SIGKILL after process.terminate_grace).
 *   terminate clean      a SIGTERM handler: the main loop sees it and exits 0, printing when
 *   terminate stubborn   the handler ignores it: the process is killed at the end of the grace
 *   terminate default    no handler: SIGTERM's default action ends the process
 *   terminate sleepy     as clean, but asleep for an hour when the request comes (the sleep
 *                        ends with EINTR at the request)
 *   terminate idle       as clean, but in pause() when the request comes
 * The main loop ticks once per virtual second, for at most an hour. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t asked;

static void on_term(int signal_number) {
    (void)signal_number;
    asked = 1;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    setvbuf(stdout, 0, _IOLBF, 0);
    if (strcmp(argv[1], "default") != 0) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = on_term;
        CHECK(sigaction(SIGTERM, &action, 0) == 0);
    }
    struct timespec start, now, tick = {1, 0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (strcmp(argv[1], "sleepy") == 0 || strcmp(argv[1], "idle") == 0) {
        struct timespec hour = {3600, 0}, left = {0, 0};
        if (argv[1][0] == 's') CHECK(nanosleep(&hour, &left) == -1 && left.tv_sec > 3000);
        else CHECK(pause() == -1);
        CHECK(asked == 1);
        clock_gettime(CLOCK_MONOTONIC, &now);
        printf("SIGTERM after %lld virtual seconds (%s): clean exit\n",
               (long long)(now.tv_sec - start.tv_sec), argv[1]);
        return 0;
    }
    for (int i = 0; i < 3600; i++) {
        nanosleep(&tick, 0);
        if (asked && strcmp(argv[1], "clean") == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            printf("SIGTERM after %lld virtual seconds: clean exit\n",
                   (long long)(now.tv_sec - start.tv_sec));
            return 0;
        }
        if (asked == 1) {
            printf("SIGTERM ignored\n");
            asked = 2;
        }
    }
    printf("never asked to stop\n");
    return 1;
}
