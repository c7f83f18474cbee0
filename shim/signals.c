/* signals.c: the SIGSYS handler, and keeping it installed and unblocked whatever the program does.
 *
 * A seccomp trap is a forced signal: if SIGSYS were blocked or had no handler, the kernel would
 * kill the process. So the program's own rt_sigaction(SIGSYS) is emulated (it gets back what it
 * set; the kernel keeps ours), and SIGSYS is removed from every mask the program asks the kernel
 * to apply (sigprocmask, a handler's sa_mask). The handler is installed with SA_NODEFER: a trapped
 * call it performs for real may block, and a signal handler of the program that runs meanwhile
 * must still be able to make intercepted calls. */
#include <errno.h>
#include <linux/audit.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "shim.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp trap */
#endif
#define SIGSYS_BIT (1ull << (SIGSYS - 1))
#define KERNEL_SIGSET_SIZE 8
#define SA_RESTORER_FLAG 0x04000000 /* the kernel's SA_RESTORER; glibc does not export it */

/* The kernel's struct sigaction on x86_64 (not glibc's, which has a 128-byte mask). */
struct kernel_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

/* What the program believes its SIGSYS action is. Only ever written from the emulation below. */
static struct kernel_sigaction program_sigsys_action;

/* A SIGSYS that is not a seccomp trap (kill, raise, a real bad syscall) belongs to the program:
 * act as its own disposition would. */
static void forward_to_program(int signal_number, siginfo_t *info, void *context) {
    uint64_t handler = program_sigsys_action.handler;
    if (handler == (uint64_t)(uintptr_t)SIG_IGN) return;
    if (handler == (uint64_t)(uintptr_t)SIG_DFL) {
        /* Die of SIGSYS, as the program would have: default action, unblocked, sent again. */
        struct kernel_sigaction default_action = {.handler = (uint64_t)(uintptr_t)SIG_DFL};
        uint64_t unblock = SIGSYS_BIT;
        shim_syscall4(SYS_rt_sigaction, SIGSYS, &default_action, 0, KERNEL_SIGSET_SIZE);
        shim_syscall4(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, 0, KERNEL_SIGSET_SIZE);
        shim_syscall3(SYS_tgkill, shim_syscall0(SYS_getpid), shim_syscall0(SYS_gettid), SIGSYS);
        return;
    }
    if (program_sigsys_action.flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))(uintptr_t)handler)(signal_number, info, context);
    else
        ((void (*)(int))(uintptr_t)handler)(signal_number);
}

static void sigsys_handler(int signal_number, siginfo_t *info, void *context_pointer) {
    if (info->si_code != SYS_SECCOMP) {
        forward_to_program(signal_number, info, context_pointer);
        return;
    }
    int saved_errno = errno;
    ucontext_t *context = context_pointer;
    greg_t *registers = context->uc_mcontext.gregs;
    if (info->si_arch != AUDIT_ARCH_X86_64) {
        char message[96];
        struct sched_text text;
        sched_text_init(&text, message, sizeof(message));
        sched_text_str(&text, "unsupported: 32-bit system call ");
        sched_text_i64(&text, info->si_syscall);
        sched_text_str(&text, " from a 64-bit process");
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported", message);
    }
    if (info->si_syscall == SYS_clone || info->si_syscall == SYS_clone3) {
        registers[REG_RAX] = shim_emulate_clone(info->si_syscall, registers);
        errno = saved_errno;
        return;
    }
    const long args[6] = {registers[REG_RDI], registers[REG_RSI], registers[REG_RDX],
                          registers[REG_R10], registers[REG_R8], registers[REG_R9]};
    shim_set_trap_caller((uintptr_t)registers[REG_RIP]);
    registers[REG_RAX] = shim_emulate(info->si_syscall, args);
    errno = saved_errno;
}

void shim_signal_restorer(void);

int shim_signals_try_install(void) {
    /* Through the stub, not libc's sigaction: a process started by execve from a simulated one
     * inherits the filter, and libc's rt_sigaction would be trapped before any handler exists. */
    struct kernel_sigaction action = {
        .handler = (uint64_t)(uintptr_t)sigsys_handler,
        .flags = SA_SIGINFO | SA_NODEFER | SA_RESTART | SA_RESTORER_FLAG,
        .restorer = (uint64_t)(uintptr_t)shim_signal_restorer,
        .mask = 0,
    };
    long result = shim_syscall4(SYS_rt_sigaction, SIGSYS, &action, 0, KERNEL_SIGSET_SIZE);
    if (result < 0) return (int)result;
    uint64_t unblock = SIGSYS_BIT;
    return (int)shim_syscall4(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, 0, KERNEL_SIGSET_SIZE);
}

const void *shim_sigset_without_sigsys(const void *set, size_t size, uint64_t *copy) {
    if (!set || size < KERNEL_SIGSET_SIZE) return set;
    memcpy(copy, set, sizeof(*copy));
    if (!(*copy & SIGSYS_BIT)) return set;
    *copy &= ~SIGSYS_BIT;
    return copy;
}

long shim_emulate_rt_sigaction(const long args[6]) {
    int signal_number = (int)args[0];
    const struct kernel_sigaction *action = (const void *)args[1];
    struct kernel_sigaction *old_action = (void *)args[2];
    if (signal_number == SIGSYS) {
        if ((size_t)args[3] != KERNEL_SIGSET_SIZE) return -EINVAL;
        struct kernel_sigaction previous = program_sigsys_action;
        if (action) program_sigsys_action = *action;
        if (old_action) *old_action = previous;
        return 0;
    }
    struct kernel_sigaction sanitized;
    if (action) {
        sanitized = *action;
        sanitized.mask &= ~SIGSYS_BIT;
        action = &sanitized;
    }
    return shim_syscall4(SYS_rt_sigaction, signal_number, action, old_action, args[3]);
}

long shim_emulate_rt_sigprocmask(const long args[6]) {
    uint64_t copy;
    const void *set = (const void *)args[1];
    if (args[0] != SIG_UNBLOCK) set = shim_sigset_without_sigsys(set, (size_t)args[3], &copy);
    return shim_syscall4(SYS_rt_sigprocmask, args[0], set, args[2], args[3]);
}
