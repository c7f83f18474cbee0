/* wait_child.c: a blocking waitpid in one thread does not stop the others. The child waits for a
 * byte that a second thread of the parent writes only after 50 ticks of its own, so the parent's
 * waitpid can only return if that thread runs while the main thread waits (a waitpid that
 * blocked the whole simulation would never return). A SIGCHLD handler runs too. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int ends[2];
static volatile int ticks;
static volatile sig_atomic_t sigchld_seen;

static void on_child(int signal_number) {
    (void)signal_number;
    sigchld_seen = 1;
}

static void *ticker(void *unused) {
    (void)unused;
    struct timespec tick = {0, 10000000};
    for (int i = 0; i < 50; i++) {
        nanosleep(&tick, 0);
        ticks++;
    }
    char byte = 42;
    CHECK(write(ends[1], &byte, 1) == 1);
    return 0;
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_child;
    action.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGCHLD, &action, 0) == 0);
    CHECK(pipe(ends) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        char byte = 0;
        CHECK(read(ends[0], &byte, 1) == 1);
        _exit(byte);
    }
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, ticker, 0) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
    CHECK(ticks == 50);
    CHECK(pthread_join(thread, 0) == 0);
    CHECK(sigchld_seen == 1);
    CHECK(waitpid(-1, &status, WNOHANG) == -1); /* no children left */
    printf("child exited %d after the other thread's %d ticks; SIGCHLD handled\n",
           WEXITSTATUS(status), ticks);
    return 0;
}
