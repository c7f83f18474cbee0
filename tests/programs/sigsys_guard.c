/* sigsys_guard.c: a program that ignores, replaces and blocks SIGSYS must not disable the shim. */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile int raised;

static void handler(int signal_number) {
    (void)signal_number;
    raised++;
}

int main(void) {
    struct sigaction action, previous;
    memset(&action, 0, sizeof(action));
    action.sa_handler = handler;
    sigfillset(&action.sa_mask);
    CHECK(sigaction(SIGSYS, &action, 0) == 0);
    CHECK(sigaction(SIGSYS, 0, &previous) == 0 && previous.sa_handler == handler);
    CHECK(raise(SIGSYS) == 0 && raised == 1); /* a real SIGSYS reaches the program's handler */
    CHECK(signal(SIGSYS, SIG_IGN) == handler);
    CHECK(raise(SIGSYS) == 0 && raised == 1); /* and an ignored one is ignored */
    sigset_t all;
    sigfillset(&all);
    CHECK(sigprocmask(SIG_BLOCK, &all, 0) == 0);
    /* Every raw clock call is trapped; with SIGSYS truly blocked or ignored the kernel would
     * kill the process here. */
    struct timespec value;
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_EPOCH_S);
    CHECK(sigaction(SIGTERM, &action, 0) == 0); /* an sa_mask with SIGSYS in it */
    CHECK(sigprocmask(SIG_SETMASK, &all, 0) == 0);
    struct timespec second = {1, 0};
    CHECK(syscall(SYS_nanosleep, &second, 0) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_UPTIME_S + 1);
    printf("still simulated at %lld\n", (long long)value.tv_sec);
    return 0;
}
