/* supervisor.c: the supervisor pattern. A parent waits for its child in waitpid; its SIGTERM
 * handler (installed with signal(), so SA_RESTART) forwards the signal to the child. The child
 * sends the parent SIGTERM and then waits in pause(); it can only end if the parent's handler
 * runs while the parent is blocked in waitpid, and the wait then goes on to report the child's
 * death by SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile pid_t child;
static volatile sig_atomic_t forwarded;

static void forward(int signal_number) {
    kill(child, signal_number);
    forwarded = 1;
}

int main(void) {
    CHECK(signal(SIGTERM, forward) != SIG_ERR);
    /* Blocked until `child` is set: a handler running before would forward to pid 0, the whole
     * process group. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    CHECK(sigprocmask(SIG_BLOCK, &term, &old) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
        CHECK(kill(getppid(), SIGTERM) == 0);
        for (;;) pause();
    }
    child = pid;
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(forwarded == 1);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    printf("the supervisor forwarded SIGTERM from inside waitpid; the child died of it\n");
    return 0;
}
