/* virtual_pids.c: with process.virtual_pids, the pids a program sees are the run's, not the
 * kernel's: the same every run, and they work: kill, waitpid and signals' si_pid agree with
 * getpid, fork's result and getppid. Prints every pid it sees (the runner compares runs).
 * With "check-real" as argument it only checks that pids are real (the option is off). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PID_MAX_LIMIT 4194304

static volatile pid_t usr1_sender;

static void on_usr1(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)context;
    usr1_sender = info->si_pid;
}

static void *thread_main(void *unused) {
    (void)unused;
    printf("thread tid %ld (process %d)\n", (long)gettid(), getpid());
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "check-real") == 0) {
        CHECK(getpid() <= PID_MAX_LIMIT && getpid() == (pid_t)syscall(SYS_getpid));
        printf("real pids\n");
        return 0;
    }
    pid_t self = getpid();
    CHECK(self > PID_MAX_LIMIT);
    CHECK(gettid() == self);
    printf("pid %d ppid %d tid %ld\n", self, getppid(), (long)gettid());
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, thread_main, 0) == 0);
    CHECK(pthread_join(thread, 0) == 0);

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_usr1;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &action, 0) == 0);
    CHECK(kill(self, SIGUSR1) == 0);
    CHECK(usr1_sender == self); /* si_pid is virtual too */

    /* A child that reports its own view, then waits to be killed by its parent. */
    int ends[2];
    CHECK(pipe(ends) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        pid_t seen[2] = {getpid(), getppid()};
        CHECK(write(ends[1], seen, sizeof(seen)) == (ssize_t)sizeof(seen));
        for (;;) pause();
    }
    pid_t seen[2];
    CHECK(read(ends[0], seen, sizeof(seen)) == (ssize_t)sizeof(seen));
    CHECK(seen[0] == child && seen[1] == self);
    CHECK(child > PID_MAX_LIMIT && child != self);
    CHECK(kill(child, SIGTERM) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    printf("child %d saw itself as %d and its parent as %d; killed and reaped by that pid\n",
           child, seen[0], seen[1]);
    /* A virtual pid this process does not know names no process at all. */
    CHECK(kill(PID_MAX_LIMIT + 12345, 0) == -1);
    printf("unknown virtual pid: no such process\n");
    return 0;
}
