/* signal_spin.c: a program spinning on a flag, with no intercepted call in its loop, still
 * sees a signal from outside: its child process sends SIGUSR1, and the handler (which runs at
 * once, as the kernel would run it, since the loop is the program's own code) sets the flag. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t stop;

static void on_usr1(int signal_number) {
    (void)signal_number;
    stop = 1;
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &action, 0) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        usleep(100000);
        CHECK(kill(getppid(), SIGUSR1) == 0);
        _exit(0);
    }
    volatile unsigned long spins = 0;
    while (!stop) spins++;
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("the spin loop saw SIGUSR1 from outside\n");
    return 0;
}
