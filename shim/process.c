/* process.c: this process's children, and waiting for them without stopping the simulation.
 *
 * A child process is another simulation (its own scheduler, its own trace): to this one it is
 * part of the outside world. So a blocking wait4/waitid is a wait on the outside world like a
 * blocking read (wait.c): look with WNOHANG; if no child has changed state, wait in the scheduler
 * on a pidfd of each child the wait could be about (readable when that child exits), with other
 * threads running meanwhile and signals interrupting the wait as they would in the kernel; look
 * again. The shim knows the children it forked or spawned itself; a wait that could only be
 * about children it does not know (started by an image before an execve) is performed for real.
 * Stopped and continued children (WUNTRACED, WCONTINUED) are seen when the wait next looks, not
 * the moment they stop. Rules: as in shim.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "shim.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define CHILDREN_MAX 256

static long children[CHILDREN_MAX];
static int child_count;

void shim_process_child_started(long pid) {
    if (child_count < CHILDREN_MAX) children[child_count++] = pid;
}

static void child_gone(long pid) {
    for (int i = 0; i < child_count; i++) {
        if (children[i] != pid) continue;
        children[i] = children[--child_count];
        return;
    }
}

void shim_process_forget_children(void) {
    child_count = 0; /* a forked child has no children yet */
}

/* One look, never blocking: the pid reported (> 0), 0 when no child changed state, or -errno.
 * Notes children that are gone for good. */
static long look(long number, const long args[6], int options) {
    if (number == SYS_wait4) {
        int *status = (int *)args[1];
        long result = shim_syscall4(SYS_wait4, args[0], args[1], options | WNOHANG, args[3]);
        if (result > 0 && (!status || WIFEXITED(*status) || WIFSIGNALED(*status)))
            child_gone(result);
        return result;
    }
    siginfo_t *info = (siginfo_t *)args[2];
    info->si_pid = 0;
    long result = shim_syscall5(SYS_waitid, args[0], args[1], args[2], options | WNOHANG, args[4]);
    if (result < 0) return result;
    if (info->si_pid == 0) return 0;
    if (!(options & WNOWAIT) && (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
                                 info->si_code == CLD_DUMPED))
        child_gone(info->si_pid);
    return info->si_pid;
}

/* pidfds for the children a wait is about; returns how many (0: none known). */
static uint32_t watch(long number, const long args[6], struct pollfd *set, uint32_t capacity,
                      int *owned) {
    long wanted = 0; /* 0: any known child */
    *owned = 1;
    if (number == SYS_wait4 && args[0] > 0) wanted = args[0];
    if (number == SYS_waitid && args[0] == P_PID) wanted = args[1];
    if (number == SYS_waitid && args[0] == P_PIDFD) {
        set[0] = (struct pollfd){.fd = (int)args[1], .events = POLLIN};
        *owned = 0;
        return 1;
    }
    uint32_t count = 0;
    for (int i = 0; i < child_count && count < capacity; i++) {
        if (wanted && children[i] != wanted) continue;
        long fd = shim_syscall2(SYS_pidfd_open, children[i], 0);
        if (fd < 0) continue;
        set[count++] = (struct pollfd){.fd = (int)fd, .events = POLLIN};
    }
    return count;
}

static void unwatch(struct pollfd *set, uint32_t count, int owned) {
    for (uint32_t i = 0; owned && i < count; i++) shim_syscall1(SYS_close, set[i].fd);
}

static long recorded(long number, const long args[6], int options, long result) {
    /* Real pids are not the seed's: the trace keeps only whether a child was reported. */
    int64_t which = number == SYS_wait4 ? (args[0] > 0 ? 1 : args[0]) : args[0];
    shim_record((uint32_t)number, which, options, result > 0 ? 1 : result);
    return result;
}

long shim_emulate_wait(long number, const long args[6]) {
    int options = (int)(number == SYS_wait4 ? args[2] : args[3]);
    int can_look = number == SYS_wait4 || args[2] != 0;
    if ((options & WNOHANG) || !can_look) {
        long result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
        if (can_look && result > 0 && number == SYS_wait4) {
            int *status = (int *)args[1];
            if (!status || WIFEXITED(*status) || WIFSIGNALED(*status)) child_gone(result);
        }
        return recorded(number, args, options, result);
    }
    if (shim_core()->threads_alive == 1) {
        /* Nothing else of this process could run meanwhile: the kernel's wait, for real, is
         * the same and keeps the trace free of the child's timing. A signal ends it (EINTR) or
         * the kernel restarts it (SA_RESTART); its handler runs when the call returns. */
        long result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
        if (result > 0 && number == SYS_wait4) {
            int *status = (int *)args[1];
            if (!status || WIFEXITED(*status) || WIFSIGNALED(*status)) child_gone(result);
        }
        return recorded(number, args, options, number == SYS_waitid && result > 0 ? 0 : result);
    }
    for (;;) {
        long result = look(number, args, options);
        if (result != 0) return recorded(number, args, options, number == SYS_waitid && result > 0 ? 0 : result);
        struct pollfd set[CHILDREN_MAX];
        int owned;
        uint32_t count = watch(number, args, set, CHILDREN_MAX, &owned);
        if (count == 0) {
            /* Only children the shim did not start: the kernel's wait, for real. */
            result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
            return recorded(number, args, options, result);
        }
        int waited = shim_wait_external(set, count, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE,
                                        number == SYS_wait4 ? "wait4" : "waitid");
        unwatch(set, count, owned);
        if (waited == -EINTR && shim_signals_deliver(0))
            return recorded(number, args, options, -EINTR);
    }
}
