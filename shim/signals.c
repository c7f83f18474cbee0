/* signals.c: signals at deterministic points, and the SIGSYS handler.
 *
 * One mechanism for every asynchronous signal the program handles: the kernel never runs the
 * program's handler itself. The shim installs its own catcher for every signal that has a
 * program handler; the catcher only notes the signal as pending (an atomic bit and the siginfo)
 * and rings a doorbell (an eventfd the waits of wait.c watch). The thread holding the run baton
 * runs the program's handler at the end of the next intercepted call it makes (the SIGSYS
 * handler's return, or an interposer's, shim_set_errno_value), with the mask the program asked
 * for. So a handler never interrupts the shim or the core, it runs between two intercepted calls
 * like any other code of the program, and each delivery is an event in the trace.
 *
 * Signals the simulation makes itself are real signals sent at deterministic points: alarm and
 * setitimer(ITIMER_REAL) expire in virtual time (checked at every delivery point; waits end at
 * the expiration), raise/kill/tgkill to the process are performed and their handler runs before
 * the call returns, process.terminate_* sends SIGTERM and, after the grace period, SIGKILL. Being
 * real, they go through the kernel's masks, ignore and default actions, signalfd and
 * sigwaitinfo. pause and sigsuspend wait in the scheduler for the doorbell.
 *
 * Signals that must act at once pass straight to the program: the synchronous faults (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP) and glibc's two internal signals (32, 33: thread cancellation
 * and set*id broadcast, which glibc waits for). SIGSYS is the shim's: a seccomp trap is a forced
 * signal, and if SIGSYS were blocked or had no handler the kernel would kill the process. So the
 * program's own rt_sigaction(SIGSYS) is emulated and SIGSYS is removed from every mask the
 * program asks the kernel to apply. The SIGSYS handler is installed with SA_NODEFER: a trapped
 * call it performs for real may block, and a handler that runs meanwhile must still be able to
 * make intercepted calls. Rules: as in shim.h. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/audit.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "shim.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp trap */
#endif
#define SIGNAL_BIT(signal_number) (1ull << ((signal_number) - 1))
#define SIGSYS_BIT SIGNAL_BIT(SIGSYS)
#define KERNEL_SIGSET_SIZE 8
#define SIGNAL_COUNT 64
#define SA_RESTORER_FLAG 0x04000000 /* the kernel's SA_RESTORER; glibc does not export it */
#define GLIBC_SIGCANCEL 32
#define GLIBC_SIGSETXID 33
#define NS_PER_SECOND 1000000000ll
#define NS_PER_MICROSECOND 1000ll

/* The kernel's struct sigaction on x86_64 (not glibc's, which has a 128-byte mask). */
struct kernel_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

/* What the program believes each action is, for the signals whose handler the shim runs (and
 * SIGSYS). Only written by the emulation of rt_sigaction and by SA_RESETHAND at delivery. */
static struct kernel_sigaction program_action[SIGNAL_COUNT + 1];
static uint8_t action_known[SIGNAL_COUNT + 1];
/* Caught and not yet delivered; the catcher's siginfo for each. */
static uint64_t pending;
static siginfo_t pending_info[SIGNAL_COUNT + 1];
/* Real-time signals queue (each instance is delivered, in order, as the kernel does), up to
 * RT_QUEUE_MAX of each; standard signals coalesce. The lock is taken with every signal blocked
 * on the taking thread, so a catcher never waits for its own thread. */
#define RT_QUEUE_MAX 16
#define RT_SIGNAL_FIRST 34 /* glibc's SIGRTMIN: 32 and 33 are its own */
static siginfo_t rt_queue[SIGNAL_COUNT + 1][RT_QUEUE_MAX];
static uint32_t rt_queued[SIGNAL_COUNT + 1];
static int rt_lock;
/* Sent by one simulated thread to another (tgkill, pthread_kill): kept here, not sent for real,
 * so that when the target takes it is the seed's, not the kernel's. */
static uint64_t thread_pending[SCHED_THREADS_MAX];
static siginfo_t thread_pending_info[SCHED_THREADS_MAX][SIGNAL_COUNT + 1];
/* Pending signals the watchdog re-sent to the running thread (shim_signals_nudge). */
static uint64_t nudged;
/* Rung by the catcher; an eventfd, hidden (SHIM_FD_SHIM). */
static int doorbell = -1;

/* Virtual-time signal timers: alarm/setitimer(ITIMER_REAL); process.terminate_*'s SIGKILL; and
 * process.terminate_at's request, so that a program asleep or idle at that moment is woken
 * then (the core flags the first request at or after it, and a sleeping program makes none). */
struct signal_timer {
    int64_t expiration_ns; /* monotonic; 0 when disarmed */
    int64_t interval_ns;
    int signal_number;
};
enum { TIMER_REAL = 0, TIMER_TERMINATE_KILL = 1, TIMER_TERMINATE_AT = 2, TIMER_COUNT = 3 };
static struct signal_timer timers[TIMER_COUNT] = {{0, 0, SIGALRM}, {0, 0, SIGKILL}, {0, 0, SIGTERM}};
static int terminate_requested;

static void program_handler_for_sigsys(int signal_number, siginfo_t *info, void *context);
void shim_signal_restorer(void);

static int passes_straight(int signal_number) {
    switch (signal_number) {
    case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:
    case SIGKILL: case SIGSTOP:
    case GLIBC_SIGCANCEL: case GLIBC_SIGSETXID:
        return 1;
    default:
        return signal_number < 1 || signal_number > SIGNAL_COUNT;
    }
}

static int is_handler(uint64_t handler) {
    return handler != (uint64_t)(uintptr_t)SIG_DFL && handler != (uint64_t)(uintptr_t)SIG_IGN;
}

/* Default actions that do nothing. */
static int default_ignores(int signal_number) {
    return signal_number == SIGCHLD || signal_number == SIGURG || signal_number == SIGWINCH ||
           signal_number == SIGCONT;
}

/* Default actions that stop the process (it goes on when continued): not the end of the run. */
static int default_stops(int signal_number) {
    return signal_number == SIGTSTP || signal_number == SIGTTIN || signal_number == SIGTTOU ||
           signal_number == SIGSTOP;
}

static uint64_t current_mask(void) {
    uint64_t mask = 0;
    shim_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, 0, &mask, KERNEL_SIGSET_SIZE);
    return mask;
}

static void set_mask(uint64_t mask) {
    mask &= ~SIGSYS_BIT;
    shim_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, 0, KERNEL_SIGSET_SIZE);
}

/* --- the catcher ------------------------------------------------------------------------- */

/* Code where a signal must never run a program handler at once: the shim, the stub page, and
 * libc, ld.so and the vDSO (the shim calls into them mid-operation). Filled at start-up. */
#define EXCLUDED_MAX 16
static struct {
    uintptr_t start, end;
} excluded[EXCLUDED_MAX];
static int excluded_count;

static void exclude_text_of(const void *inside) {
    Dl_info info;
    if (!inside || !dladdr(inside, &info) || !info.dli_fbase) return;
    const ElfW(Ehdr) *header = info.dli_fbase;
    const ElfW(Phdr) *segments = (const void *)((const char *)header + header->e_phoff);
    for (int i = 0; i < header->e_phnum && excluded_count < EXCLUDED_MAX; i++) {
        if (segments[i].p_type != PT_LOAD || !(segments[i].p_flags & PF_X)) continue;
        uintptr_t start = (uintptr_t)header + segments[i].p_vaddr;
        excluded[excluded_count].start = start;
        excluded[excluded_count++].end = start + segments[i].p_memsz;
    }
}

static void exclude_vdso(void) {
    const ElfW(Ehdr) *header = (const void *)getauxval(AT_SYSINFO_EHDR);
    if (!header || excluded_count >= EXCLUDED_MAX) return;
    const ElfW(Phdr) *segments = (const void *)((const char *)header + header->e_phoff);
    uintptr_t bias = 0;
    for (int i = 0; i < header->e_phnum; i++)
        if (segments[i].p_type == PT_LOAD) {
            bias = (uintptr_t)header - segments[i].p_vaddr;
            break;
        }
    for (int i = 0; i < header->e_phnum && excluded_count < EXCLUDED_MAX; i++) {
        if (segments[i].p_type != PT_LOAD || !(segments[i].p_flags & PF_X)) continue;
        excluded[excluded_count].start = bias + segments[i].p_vaddr;
        excluded[excluded_count++].end = bias + segments[i].p_vaddr + segments[i].p_memsz;
    }
}

extern void *__tls_get_addr(void *); /* in ld.so */

static void find_excluded_code(void) {
    excluded[excluded_count].start = SHIM_STUB_ADDRESS;
    excluded[excluded_count++].end = SHIM_STUB_ADDRESS + SHIM_STUB_SIZE;
    exclude_text_of((const void *)(uintptr_t)find_excluded_code); /* the shim */
    exclude_text_of((const void *)(uintptr_t)getauxval);          /* libc */
    exclude_text_of((const void *)(uintptr_t)__tls_get_addr);     /* ld.so */
    exclude_vdso();
}

/* Whether the catcher interrupted the program's own code (not the shim, nor the libraries the
 * shim calls): then the program's handler may run at once, as the kernel would run it, and a
 * program spinning without intercepted calls (waiting for a flag its handler sets) still
 * sees a signal from outside. */
static int interrupted_program_code(const void *context) {
    if (!context || shim_initialized != 2 || shim_thread_self() < 0 || shim_thread_passthrough())
        return 0;
    uintptr_t ip = (uintptr_t)((const ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
    for (int i = 0; i < excluded_count; i++)
        if (ip >= excluded[i].start && ip < excluded[i].end) return 0;
    return excluded_count > 0;
}

static void run_handler(int signal_number, const siginfo_t *pending_siginfo, uint64_t mask,
                        void *context);
static int take_queued(int signal_number, siginfo_t *info);

static void catcher(int signal_number, siginfo_t *info, void *context) {
    int saved_errno = errno;
    if (signal_number < 1 || signal_number > SIGNAL_COUNT) return;
    uint64_t bit = SIGNAL_BIT(signal_number);
    /* A nudge (shim_signals_nudge) carries the original siginfo in pending_info. */
    int nudge = (__atomic_load_n(&nudged, __ATOMIC_SEQ_CST) & bit) && info->si_code == SI_TKILL;
    if (is_handler(program_action[signal_number].handler) && interrupted_program_code(context)) {
        uint64_t mask;
        memcpy(&mask, &((ucontext_t *)context)->uc_sigmask, sizeof(mask));
        siginfo_t original = nudge ? pending_info[signal_number] : *info;
        if (nudge && signal_number >= RT_SIGNAL_FIRST && !take_queued(signal_number, &original)) {
            errno = saved_errno;
            return;
        }
        __atomic_fetch_and(&nudged, ~bit, __ATOMIC_SEQ_CST);
        shim_record_no_switch(SHIM_CALL_SIGNAL, signal_number, 0, 0);
        run_handler(signal_number, &original, mask, context);
        errno = saved_errno;
        return;
    }
    if (signal_number >= RT_SIGNAL_FIRST && !nudge) {
        /* The catcher runs with every signal blocked: the lock's holder is never this thread. */
        while (__atomic_exchange_n(&rt_lock, 1, __ATOMIC_ACQUIRE)) {}
        if (rt_queued[signal_number] < RT_QUEUE_MAX)
            rt_queue[signal_number][rt_queued[signal_number]++] = *info;
        __atomic_store_n(&rt_lock, 0, __ATOMIC_RELEASE);
        __atomic_fetch_or(&pending, SIGNAL_BIT(signal_number), __ATOMIC_SEQ_CST);
        uint64_t one = 1;
        if (doorbell >= 0) shim_syscall3(SYS_write, doorbell, &one, sizeof(one));
        errno = saved_errno;
        return;
    }
    {
        if (!nudge) pending_info[signal_number] = *info;
        __atomic_fetch_or(&pending, SIGNAL_BIT(signal_number), __ATOMIC_SEQ_CST);
        uint64_t one = 1;
        if (doorbell >= 0) shim_syscall3(SYS_write, doorbell, &one, sizeof(one));
    }
    errno = saved_errno;
}

/* Queues a signal for the program's handler without the kernel: for the process (thread < 0)
 * or one simulated thread. */
static void queue_signal(int signal_number, int thread, int code) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = signal_number;
    info.si_code = code;
    /* The kernel's own signals (timers) carry no sender; a thread's carry its process. */
    if (code != SI_KERNEL) {
        info.si_pid = (pid_t)shim_syscall0(SYS_getpid);
        info.si_uid = (uid_t)shim_syscall0(SYS_getuid);
    }
    if (thread < 0) {
        pending_info[signal_number] = info;
        __atomic_fetch_or(&pending, SIGNAL_BIT(signal_number), __ATOMIC_SEQ_CST);
    } else {
        thread_pending_info[thread][signal_number] = info;
        __atomic_fetch_or(&thread_pending[thread], SIGNAL_BIT(signal_number), __ATOMIC_SEQ_CST);
    }
}

/* The action the kernel gets for what the program asked: its own for SIG_DFL, SIG_IGN and the
 * signals that pass straight; the catcher otherwise, every other signal blocked while it runs. */
static struct kernel_sigaction kernel_action_for(int signal_number,
                                                 const struct kernel_sigaction *wanted) {
    struct kernel_sigaction action = *wanted;
    action.mask &= ~SIGSYS_BIT;
    if (passes_straight(signal_number) || !is_handler(wanted->handler)) return action;
    action.handler = (uint64_t)(uintptr_t)catcher;
    action.flags = SA_SIGINFO | SA_RESTORER_FLAG |
                   (wanted->flags & (SA_RESTART | SA_ONSTACK | SA_NOCLDSTOP | SA_NOCLDWAIT));
    action.restorer = (uint64_t)(uintptr_t)shim_signal_restorer;
    action.mask = ~(SIGSYS_BIT | SIGNAL_BIT(SIGSEGV) | SIGNAL_BIT(SIGBUS) | SIGNAL_BIT(SIGFPE) |
                    SIGNAL_BIT(SIGILL) | SIGNAL_BIT(SIGTRAP));
    return action;
}

long shim_emulate_rt_sigaction(const long args[6]) {
    int signal_number = (int)args[0];
    const struct kernel_sigaction *action = (const void *)args[1];
    struct kernel_sigaction *old_action = (void *)args[2];
    if ((size_t)args[3] != KERNEL_SIGSET_SIZE) return -EINVAL;
    if (signal_number == SIGSYS) {
        struct kernel_sigaction previous = program_action[SIGSYS];
        /* A vfork-style child shares our memory: what it sets is not the parent's. */
        if (action && !shim_thread_passthrough()) program_action[SIGSYS] = *action;
        if (old_action) *old_action = previous;
        return 0;
    }
    /* A vfork-style child shares our memory: it may change the kernel's actions (posix_spawn
     * resets handlers in the child) but not our tables. */
    if (passes_straight(signal_number) || shim_thread_passthrough()) {
        struct kernel_sigaction sanitized;
        if (action) {
            sanitized = *action;
            sanitized.mask &= ~SIGSYS_BIT;
            action = &sanitized;
        }
        return shim_syscall4(SYS_rt_sigaction, signal_number, action, old_action, args[3]);
    }
    struct kernel_sigaction previous;
    long result = shim_syscall4(SYS_rt_sigaction, signal_number, 0, &previous, args[3]);
    if (result < 0) return result;
    if (action_known[signal_number]) previous = program_action[signal_number];
    if (action) {
        struct kernel_sigaction wanted = *action;
        struct kernel_sigaction installed = kernel_action_for(signal_number, &wanted);
        result = shim_syscall4(SYS_rt_sigaction, signal_number, &installed, 0, args[3]);
        if (result < 0) return result;
        program_action[signal_number] = wanted;
        action_known[signal_number] = 1;
    }
    if (old_action) *old_action = previous;
    return 0;
}

long shim_emulate_rt_sigprocmask(const long args[6]) {
    uint64_t copy;
    const void *set = (const void *)args[1];
    if (args[0] != SIG_UNBLOCK) set = shim_sigset_without_sigsys(set, (size_t)args[3], &copy);
    return shim_syscall4(SYS_rt_sigprocmask, args[0], set, args[2], args[3]);
}

const void *shim_sigset_without_sigsys(const void *set, size_t size, uint64_t *copy) {
    if (!set || size < KERNEL_SIGSET_SIZE) return set;
    memcpy(copy, set, sizeof(*copy));
    if (!(*copy & SIGSYS_BIT)) return set;
    *copy &= ~SIGSYS_BIT;
    return copy;
}

/* --- virtual-time signal timers ------------------------------------------------------------ */

static int64_t now_ns(void) {
    return shim_core()->clock.monotonic_ns; /* read only: no event */
}

/* now + ns, or SCHED_DEADLINE_NEVER past the end of representable time. */
static int64_t deadline_after(int64_t ns) {
    int64_t deadline;
    if (__builtin_add_overflow(now_ns(), ns, &deadline)) return SCHED_DEADLINE_NEVER;
    return deadline;
}

static void send_to_self(int signal_number) {
    shim_syscall2(SYS_kill, shim_syscall0(SYS_getpid), signal_number);
}

/* A signal the simulation sends the process (a timer, process.terminate_*): to the program's
 * handler through the shim's own queue, deterministically; anything else (default action,
 * ignored, SIGKILL) by the kernel. */
/* A signal the kernel is about to apply with its default action: when that action ends the
 * process, the trace and the report say so first. */
static void before_default_action(int signal_number, const char *message) {
    if (program_action[signal_number].handler == (uint64_t)(uintptr_t)SIG_IGN ||
        default_ignores(signal_number) || default_stops(signal_number))
        return;
    shim_trace_end("signal", 128 + signal_number, 0);
    shim_report_end("signal", 128 + signal_number, 0, message);
}

static void simulation_sends(int signal_number) {
    /* The shim's queue only when this thread takes it now; a blocked signal goes to the kernel,
     * for another thread, sigwaitinfo or a signalfd. */
    int blocked = (current_mask() & SIGNAL_BIT(signal_number)) != 0;
    if (!passes_straight(signal_number) && is_handler(program_action[signal_number].handler) &&
        !blocked) {
        queue_signal(signal_number, -1, SI_KERNEL);
        return;
    }
    if (!blocked && !is_handler(program_action[signal_number].handler))
        before_default_action(signal_number, "killed by a signal the simulation sent");
    send_to_self(signal_number);
}

static void terminate_kill(void) {
    shim_record_no_switch(SHIM_CALL_SIGNAL, SIGKILL, 1, 0);
    shim_trace_end("killed", 128 + SIGKILL, 0);
    shim_report_end("killed", 128 + SIGKILL, 0,
                    "process.terminate_grace passed: the process was sent SIGKILL");
    for (;;) send_to_self(SIGKILL);
}

static void fire_due_timers(void) {
    if (terminate_requested != 1 &&
        !(timers[0].expiration_ns | timers[1].expiration_ns | timers[2].expiration_ns))
        return;
    int64_t now = now_ns();
    if (timers[TIMER_TERMINATE_AT].expiration_ns && timers[TIMER_TERMINATE_AT].expiration_ns <= now) {
        timers[TIMER_TERMINATE_AT].expiration_ns = 0;
        if (!terminate_requested) terminate_requested = 1;
    }
    if (terminate_requested == 1) {
        terminate_requested = 2;
        shim_record_no_switch(SHIM_CALL_SIGNAL, SIGTERM, 1, 0);
        timers[TIMER_TERMINATE_KILL].expiration_ns =
            deadline_after(shim_core()->config.process_terminate_grace_ns);
        simulation_sends(SIGTERM);
    }
    for (int i = 0; i < TIMER_COUNT; i++) {
        struct signal_timer *timer = &timers[i];
        if (timer->expiration_ns == 0 || timer->expiration_ns > now) continue;
        if (i == TIMER_TERMINATE_AT) continue; /* handled above */
        if (i == TIMER_TERMINATE_KILL) terminate_kill();
        if (timer->interval_ns > 0) {
            int64_t missed = (now - timer->expiration_ns) / timer->interval_ns;
            timer->expiration_ns += (missed + 1) * timer->interval_ns;
        } else {
            timer->expiration_ns = 0;
        }
        simulation_sends(timer->signal_number);
    }
}

void shim_signals_fire_due(void) {
    fire_due_timers();
}

int64_t shim_signals_next_timer(void) {
    int64_t next = SCHED_DEADLINE_NEVER;
    if (terminate_requested == 1) return now_ns();
    for (int i = 0; i < TIMER_COUNT; i++)
        if (timers[i].expiration_ns != 0 && timers[i].expiration_ns < next)
            next = timers[i].expiration_ns;
    return next;
}

void shim_signals_request_terminate(void) {
    if (!terminate_requested) terminate_requested = 1;
}

/* Across execve (process.c): the ITIMER_REAL timer, the terminate state and its SIGKILL. */
void shim_signals_exec_state(int64_t values[SHIM_EXEC_STATE_COUNT - 1]) {
    values[0] = timers[TIMER_REAL].expiration_ns;
    values[1] = timers[TIMER_REAL].interval_ns;
    values[2] = terminate_requested;
    values[3] = timers[TIMER_TERMINATE_KILL].expiration_ns;
    values[4] = timers[TIMER_TERMINATE_AT].expiration_ns;
}

void shim_signals_restore_exec_state(const int64_t values[SHIM_EXEC_STATE_COUNT - 1]) {
    timers[TIMER_REAL].expiration_ns = values[0];
    timers[TIMER_REAL].interval_ns = values[1];
    terminate_requested = (int)values[2];
    timers[TIMER_TERMINATE_KILL].expiration_ns = values[3];
    timers[TIMER_TERMINATE_AT].expiration_ns = values[4];
}

void shim_signals_arm_terminate_at(int64_t monotonic_ns) {
    timers[TIMER_TERMINATE_AT].expiration_ns = monotonic_ns;
}

static void timeval_from_ns(struct timeval *value, int64_t ns) {
    value->tv_sec = ns / NS_PER_SECOND;
    value->tv_usec = (ns % NS_PER_SECOND) / NS_PER_MICROSECOND;
}

/* Saturates at a century: a timer further away than that never fires in a run. */
static int64_t ns_from_timeval(const struct timeval *value) {
    const int64_t century_s = 100ll * 365 * 86400;
    if (value->tv_sec >= century_s) return century_s * NS_PER_SECOND;
    return value->tv_sec * NS_PER_SECOND + value->tv_usec * NS_PER_MICROSECOND;
}

static void timer_left(const struct signal_timer *timer, struct itimerval *value) {
    int64_t left = timer->expiration_ns ? timer->expiration_ns - now_ns() : 0;
    if (timer->expiration_ns && left <= 0) left = 1000; /* due: the kernel reports 1 us */
    timeval_from_ns(&value->it_value, left);
    timeval_from_ns(&value->it_interval, timer->interval_ns);
}

/* setitimer/getitimer/alarm. ITIMER_REAL is virtual; the CPU-time timers stay the kernel's. */
long shim_emulate_itimer(long number, const long args[6]) {
    struct signal_timer *timer = &timers[TIMER_REAL];
    if (number == SYS_alarm) {
        int64_t left = timer->expiration_ns ? timer->expiration_ns - now_ns() : 0;
        long seconds = left > 0 ? (long)((left + NS_PER_SECOND / 2) / NS_PER_SECOND) : 0;
        if (timer->expiration_ns && seconds == 0) seconds = 1;
        unsigned long wanted = (unsigned long)args[0];
        timer->expiration_ns = wanted ? deadline_after((int64_t)wanted * NS_PER_SECOND) : 0;
        timer->interval_ns = 0;
        shim_record(SYS_alarm, (int64_t)wanted, 0, seconds);
        return seconds;
    }
    if (args[0] != ITIMER_REAL)
        return shim_syscall3(number, args[0], args[1], args[2]);
    if (number == SYS_getitimer) {
        if (!args[1]) return -EFAULT;
        timer_left(timer, (struct itimerval *)args[1]);
        return 0;
    }
    const struct itimerval *value = (const struct itimerval *)args[1];
    struct itimerval *old = (struct itimerval *)args[2];
    if (value && (value->it_value.tv_usec < 0 || value->it_value.tv_usec >= 1000000 ||
                  value->it_interval.tv_usec < 0 || value->it_interval.tv_usec >= 1000000 ||
                  value->it_value.tv_sec < 0 || value->it_interval.tv_sec < 0))
        return -EINVAL;
    if (old) timer_left(timer, old);
    int64_t start = value ? ns_from_timeval(&value->it_value) : 0;
    timer->expiration_ns = start > 0 ? deadline_after(start) : 0;
    timer->interval_ns = start > 0 ? ns_from_timeval(&value->it_interval) : 0;
    shim_record(SYS_setitimer, start, timer->interval_ns, 0);
    return 0;
}

/* --- delivery ------------------------------------------------------------------------------ */

static int lowest_signal(uint64_t set) {
    return set ? __builtin_ctzll(set) + 1 : 0;
}

static void drain_doorbell(void) {
    uint64_t count;
    if (doorbell >= 0) shim_syscall3(SYS_read, doorbell, &count, sizeof(count));
}

static uint64_t pending_for(int thread) {
    uint64_t set = __atomic_load_n(&pending, __ATOMIC_SEQ_CST);
    if (thread >= 0 && thread < SCHED_THREADS_MAX)
        set |= __atomic_load_n(&thread_pending[thread], __ATOMIC_SEQ_CST);
    return set;
}

int shim_signals_deliverable_for(int thread, uint64_t mask) {
    return (pending_for(thread) & ~mask) != 0;
}

int shim_signals_deliverable(uint64_t mask) {
    return shim_signals_deliverable_for(shim_thread_self(), mask);
}

int shim_signals_deliverable_here(void) {
    if (!pending_for(shim_thread_self())) return 0;
    return shim_signals_deliverable(current_mask());
}

int shim_signals_doorbell(void) {
    return doorbell;
}

void shim_signals_reset_doorbell(void) {
    drain_doorbell();
}

uint64_t shim_signals_thread_mask(void) {
    return current_mask();
}

void shim_signals_set_thread_mask(uint64_t mask) {
    set_mask(mask);
}

/* For a blocking call the shim performs for real in the kernel (a single-threaded wait4): the
 * program's SA_RESTART handlers are installed without SA_RESTART meanwhile, so a signal ends the
 * call (EINTR) and its handler can run; the shim restarts the call afterwards if the handler
 * had SA_RESTART. Returns the signals changed, for shim_signals_restore_restart. */
uint64_t shim_signals_without_restart(void) {
    uint64_t changed = 0;
    for (int signal_number = 1; signal_number <= SIGNAL_COUNT; signal_number++) {
        if (!action_known[signal_number] || passes_straight(signal_number) ||
            signal_number == SIGSYS || !is_handler(program_action[signal_number].handler) ||
            !(program_action[signal_number].flags & SA_RESTART))
            continue;
        struct kernel_sigaction installed = kernel_action_for(signal_number, &program_action[signal_number]);
        installed.flags &= ~(uint64_t)SA_RESTART;
        shim_syscall4(SYS_rt_sigaction, signal_number, &installed, 0, KERNEL_SIGSET_SIZE);
        changed |= SIGNAL_BIT(signal_number);
    }
    return changed;
}

void shim_signals_restore_restart(uint64_t changed) {
    while (changed) {
        int signal_number = lowest_signal(changed);
        changed &= ~SIGNAL_BIT(signal_number);
        struct kernel_sigaction installed = kernel_action_for(signal_number, &program_action[signal_number]);
        shim_syscall4(SYS_rt_sigaction, signal_number, &installed, 0, KERNEL_SIGSET_SIZE);
    }
}

/* rt_sigtimedwait (sigwait, sigwaitinfo, sigtimedwait): the signals waited for are blocked, so
 * they stay in the kernel; look for one without waiting, and otherwise wait in the scheduler on
 * a signalfd for the set (until the timeout, or a signal timer that may send one). A signal
 * with a handler that interrupts the wait runs it and ends the call with EINTR. */
long shim_emulate_sigtimedwait(long number, const long args[6]) {
    if ((size_t)args[3] != KERNEL_SIGSET_SIZE || !args[0]) return -EINVAL;
    uint64_t set;
    memcpy(&set, (const void *)args[0], sizeof(set));
    set &= ~SIGSYS_BIT;
    int64_t deadline = SCHED_DEADLINE_NEVER;
    if (args[2]) {
        const struct timespec *timeout = (const struct timespec *)args[2];
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= NS_PER_SECOND)
            return -EINVAL;
        deadline = deadline_after(timeout->tv_sec > 100ll * 365 * 86400
                                      ? 100ll * 365 * 86400 * NS_PER_SECOND
                                      : timeout->tv_sec * NS_PER_SECOND + timeout->tv_nsec);
    }
    long fd = -1;
    long result;
    for (;;) {
        fire_due_timers();
        struct timespec zero = {0, 0};
        result = shim_syscall4(SYS_rt_sigtimedwait, &set, args[1], &zero, KERNEL_SIGSET_SIZE);
        if (result != -EAGAIN) break;
        if (deadline != SCHED_DEADLINE_NEVER && now_ns() >= deadline) break;
        if (fd < 0) fd = shim_syscall4(SYS_signalfd4, -1, &set, KERNEL_SIGSET_SIZE, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0) {
            result = shim_syscall4(SYS_rt_sigtimedwait, &set, args[1], args[2], KERNEL_SIGSET_SIZE);
            break;
        }
        struct pollfd readable = {.fd = (int)fd, .events = POLLIN};
        int waited = shim_wait_external(&readable, 1, deadline, SCHED_CLOCK_MONOTONIC, "sigwaitinfo");
        if (waited == -EINTR) {
            /* Linux never restarts these after a handler, SA_RESTART or not. */
            shim_signals_deliver(0);
            result = -EINTR;
            break;
        }
    }
    if (fd >= 0) shim_syscall1(SYS_close, fd);
    shim_record((uint32_t)number, 0, 0, result);
    return result;
}

/* A signal whose program action became SIG_DFL or SIG_IGN after the catcher took it: the
 * kernel's action now is the program's, so send it again for the kernel to apply. */
static void deliver_by_kernel(int signal_number) {
    if (program_action[signal_number].handler == (uint64_t)(uintptr_t)SIG_IGN ||
        default_ignores(signal_number))
        return;
    before_default_action(signal_number, "killed by a signal (default action)");
    send_to_self(signal_number);
}

static void run_handler(int signal_number, const siginfo_t *pending_siginfo, uint64_t mask,
                        void *context) {
    struct kernel_sigaction action = program_action[signal_number];
    siginfo_t info = *pending_siginfo;
    if (action.flags & SA_RESETHAND) {
        struct kernel_sigaction reset = {.handler = (uint64_t)(uintptr_t)SIG_DFL};
        program_action[signal_number] = reset;
        shim_syscall4(SYS_rt_sigaction, signal_number, &reset, 0, KERNEL_SIGSET_SIZE);
    }
    if (info.si_pid > 0) info.si_pid = (pid_t)shim_process_to_virtual(info.si_pid);
    uint64_t during = mask | action.mask;
    if (!(action.flags & SA_NODEFER)) during |= SIGNAL_BIT(signal_number);
    set_mask(during);
    int saved_errno = errno;
    ucontext_t blank;
    if (!context) {
        memset(&blank, 0, sizeof(blank));
        memcpy(&blank.uc_sigmask, &mask, sizeof(mask));
        context = &blank;
    }
    if (action.flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))(uintptr_t)action.handler)(signal_number, &info, context);
    else
        ((void (*)(int))(uintptr_t)action.handler)(signal_number);
    errno = saved_errno;
    set_mask(mask);
}

/* The oldest queued instance of real-time signal `signal_number` into *info; the signal stays
 * pending while instances remain. 0 when none was queued (a nudge's re-send already taken). */
static int take_queued(int signal_number, siginfo_t *info) {
    uint64_t all = ~0ull, saved;
    shim_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved, KERNEL_SIGSET_SIZE);
    while (__atomic_exchange_n(&rt_lock, 1, __ATOMIC_ACQUIRE)) {}
    uint32_t queued = rt_queued[signal_number];
    if (queued > 0) {
        *info = rt_queue[signal_number][0];
        memmove(&rt_queue[signal_number][0], &rt_queue[signal_number][1],
                (queued - 1) * sizeof(siginfo_t));
        rt_queued[signal_number] = queued - 1;
        if (queued > 1) __atomic_fetch_or(&pending, SIGNAL_BIT(signal_number), __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&rt_lock, 0, __ATOMIC_RELEASE);
    shim_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &saved, 0, KERNEL_SIGSET_SIZE);
    return queued > 0;
}

int shim_signals_deliver(void *context) {
    if (shim_initialized != 2 || shim_thread_passthrough() || shim_thread_self() < 0) return 0;
    fire_due_timers();
    int self = shim_thread_self();
    if (!pending_for(self)) return 0;
    uint64_t mask = current_mask();
    int interrupted = 0;
    for (;;) {
        int signal_number = lowest_signal(pending_for(self) & ~mask);
        if (!signal_number) break;
        uint64_t bit = SIGNAL_BIT(signal_number);
        /* The thread's own first, as the kernel does. */
        siginfo_t info;
        if (__atomic_fetch_and(&thread_pending[self], ~bit, __ATOMIC_SEQ_CST) & bit)
            info = thread_pending_info[self][signal_number];
        else if (__atomic_fetch_and(&pending, ~bit, __ATOMIC_SEQ_CST) & bit) {
            info = pending_info[signal_number];
            __atomic_fetch_and(&nudged, ~bit, __ATOMIC_SEQ_CST);
            if (signal_number >= RT_SIGNAL_FIRST && !take_queued(signal_number, &info)) continue;
        }
        else
            continue;
        shim_record_no_switch(SHIM_CALL_SIGNAL, signal_number, 0, 0);
        if (!is_handler(program_action[signal_number].handler)) {
            deliver_by_kernel(signal_number);
            continue;
        }
        if (!(program_action[signal_number].flags & SA_RESTART)) interrupted = 1;
        run_handler(signal_number, &info, mask, context);
    }
    return interrupted;
}

/* Called by the stall watchdog (another thread, no TLS) when the run has made no event for a
 * while: a signal from outside that arrived while the running thread was inside the shim, after
 * its last delivery point, would wait for the next intercepted call, and a program looping
 * without calls would never see it. Each such signal is sent once more, to the running thread
 * (`tid`): if that thread is in the program's own code its handler runs at once. */
int shim_signals_stuck(void) {
    return (__atomic_load_n(&pending, __ATOMIC_SEQ_CST) &
            ~__atomic_load_n(&nudged, __ATOMIC_SEQ_CST)) != 0;
}

void shim_signals_nudge(long tid, uint64_t blocked_by_running) {
    uint64_t stuck = __atomic_load_n(&pending, __ATOMIC_SEQ_CST) &
                     ~__atomic_load_n(&nudged, __ATOMIC_SEQ_CST);
    long self = shim_syscall0(SYS_getpid);
    while (stuck) {
        int signal_number = lowest_signal(stuck);
        uint64_t bit = SIGNAL_BIT(signal_number);
        stuck &= ~bit;
        __atomic_fetch_or(&nudged, bit, __ATOMIC_SEQ_CST);
        if (!(__atomic_fetch_and(&pending, ~bit, __ATOMIC_SEQ_CST) & bit)) continue;
        /* To the running thread when it can take it; to the process (a thread that does not
         * block it, the kernel's choice) when it cannot. */
        if (blocked_by_running & bit) shim_syscall2(SYS_kill, self, signal_number);
        else shim_syscall3(SYS_tgkill, self, tid, signal_number);
    }
}

/* pause and rt_sigsuspend: wait in the scheduler (on the doorbell, and until the next signal
 * timer) until a signal the given mask lets through is pending, run its handler, EINTR. */
long shim_emulate_wait_for_signal(long number, const long args[6], void *context) {
    uint64_t old_mask = current_mask(), mask = old_mask;
    if (number == SYS_rt_sigsuspend) {
        if ((size_t)args[1] != KERNEL_SIGSET_SIZE) return -EINVAL;
        if (!args[0]) return -EFAULT;
        memcpy(&mask, (const void *)args[0], sizeof(mask));
        set_mask(mask); /* what the kernel held back for this mask reaches the catcher now */
        mask &= ~SIGSYS_BIT;
    }
    const char *what = number == SYS_pause ? "pause" : "sigsuspend";
    for (;;) {
        drain_doorbell();
        fire_due_timers();
        if (shim_signals_deliverable(mask)) break;
        struct pollfd bell = {.fd = doorbell, .events = POLLIN};
        shim_wait_external(&bell, 1, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE, what);
    }
    /* The handler runs in this call, under its mask, before anything can switch threads. */
    shim_signals_deliver(context);
    if (number == SYS_rt_sigsuspend) set_mask(old_mask);
    shim_record_no_switch((uint32_t)number, 0, 0, -EINTR);
    return -EINTR;
}

/* kill, tgkill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo: performed; a signal the process
 * sent itself has reached the catcher by the time the call returns, and its handler runs at the
 * end of this call, as the kernel would run it before the call returned. */
long shim_emulate_kill(long number, const long program_args[6]) {
    long args[6] = {program_args[0], program_args[1], program_args[2],
                    program_args[3], program_args[4], program_args[5]};
    shim_process_translate_arguments(number, args);
    long self = shim_syscall0(SYS_getpid);
    if (number == SYS_tgkill || number == SYS_tkill) {
        long tid = number == SYS_tgkill ? args[1] : args[0];
        int signal_number = (int)(number == SYS_tgkill ? args[2] : args[1]);
        int thread = shim_thread_by_tid(tid);
        /* glibc's own signals to another simulated thread: its handler would run on a thread
         * that waits for its turn, outside the simulation. Said here, where it is sent, so the
         * run ends the same way every time. */
        if (thread >= 0 && thread != shim_thread_self() &&
            (signal_number == GLIBC_SIGCANCEL || signal_number == GLIBC_SIGSETXID))
            shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                       signal_number == GLIBC_SIGCANCEL
                           ? "unsupported: pthread_cancel of a simulated thread"
                           : "unsupported: setuid/setgid (set*id) in a process with more than one "
                             "thread (glibc signals every thread)");
        if (thread >= 0 && thread != shim_thread_self() &&
            (number == SYS_tkill || args[0] == self) && signal_number >= 1 &&
            signal_number <= SIGNAL_COUNT && !passes_straight(signal_number) &&
            is_handler(program_action[signal_number].handler)) {
            queue_signal(signal_number, thread, SI_TKILL);
            /* A blocked target wakes now to take it (or, if it blocks the signal, waits on). */
            struct sched_request request = {.kind = SCHED_REQ_INTERRUPT, .call = (uint32_t)number,
                                            .arg = {thread, signal_number}};
            struct sched_decision decision;
            shim_decide(&request, &decision);
            return 0;
        }
    }
    long result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    /* Real pids are not the seed's: the trace says only whether the target was this process. */
    int to_self = number == SYS_kill || number == SYS_rt_sigqueueinfo ? args[0] == self || args[0] == 0
                  : number == SYS_tkill ? 1 : args[0] == self;
    shim_record((uint32_t)number, to_self ? 0 : 1,
                number == SYS_kill || number == SYS_tkill || number == SYS_rt_sigqueueinfo ? args[1] : args[2],
                result);
    return result;
}

/* --- SIGSYS --------------------------------------------------------------------------------- */

/* A SIGSYS that is not a seccomp trap (kill, raise, a real bad syscall) belongs to the program:
 * act as its own disposition would. */
static void program_handler_for_sigsys(int signal_number, siginfo_t *info, void *context) {
    uint64_t handler = program_action[SIGSYS].handler;
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
    if (program_action[SIGSYS].flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))(uintptr_t)handler)(signal_number, info, context);
    else
        ((void (*)(int))(uintptr_t)handler)(signal_number);
}

static void sigsys_handler(int signal_number, siginfo_t *info, void *context_pointer) {
    if (info->si_code != SYS_SECCOMP) {
        program_handler_for_sigsys(signal_number, info, context_pointer);
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
        shim_signals_deliver(context);
        errno = saved_errno;
        return;
    }
    const long args[6] = {registers[REG_RDI], registers[REG_RSI], registers[REG_RDX],
                          registers[REG_R10], registers[REG_R8], registers[REG_R9]};
    shim_set_trap_caller((uintptr_t)registers[REG_RIP]);
    long result;
    if (info->si_syscall == SYS_pause || info->si_syscall == SYS_rt_sigsuspend)
        result = shim_thread_passthrough()
                     ? shim_syscall(info->si_syscall, args[0], args[1], 0, 0, 0, 0)
                     : shim_emulate_wait_for_signal(info->si_syscall, args, context);
    else
        result = shim_emulate(info->si_syscall, args);
    registers[REG_RAX] = result;
    /* The kernel restores the trapped context's mask when this handler returns: a mask the
     * program just set must be written there, or it would be undone. */
    if (info->si_syscall == SYS_rt_sigprocmask && result == 0 && args[1]) {
        uint64_t mask = current_mask();
        memcpy(&context->uc_sigmask, &mask, sizeof(mask));
    }
    /* The end of an intercepted call: the program's pending signal handlers run here. The
     * handler's context is this trap's, so the program's mask is restored on return. */
    shim_signals_deliver(context);
    errno = saved_errno;
}

/* Dispositions the program inherited (SIG_IGN from nohup or a shell's trap '' TERM) or set
 * before the shim started are the program's: adopt them, catching those with a handler. */
static void adopt_inherited_actions(void) {
    for (int signal_number = 1; signal_number <= SIGNAL_COUNT; signal_number++) {
        if (signal_number == SIGSYS || passes_straight(signal_number)) continue;
        struct kernel_sigaction current;
        if (shim_syscall4(SYS_rt_sigaction, signal_number, 0, &current, KERNEL_SIGSET_SIZE) != 0)
            continue;
        program_action[signal_number] = current;
        action_known[signal_number] = 1;
        if (is_handler(current.handler)) {
            struct kernel_sigaction installed = kernel_action_for(signal_number, &current);
            shim_syscall4(SYS_rt_sigaction, signal_number, &installed, 0, KERNEL_SIGSET_SIZE);
        }
    }
}

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
    result = shim_syscall4(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, 0, KERNEL_SIGSET_SIZE);
    if (result < 0) return (int)result;
    find_excluded_code();
    adopt_inherited_actions();
    return shim_signals_try_open_doorbell();
}

int shim_signals_try_open_doorbell(void) {
    long fd = shim_syscall2(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return (int)fd;
    doorbell = shim_fd_try_hide((int)fd);
    return 0;
}

void shim_signals_after_fork_child(void) {
    /* A child starts with no pending signals and no timers (POSIX), and a doorbell of its own:
     * the inherited one is shared with the parent. */
    __atomic_store_n(&pending, 0, __ATOMIC_SEQ_CST);
    memset(thread_pending, 0, sizeof(thread_pending));
    memset(rt_queued, 0, sizeof(rt_queued));
    rt_lock = 0;
    timers[TIMER_REAL].expiration_ns = 0;
    timers[TIMER_TERMINATE_KILL].expiration_ns = 0;
    timers[TIMER_TERMINATE_AT].expiration_ns = 0;
    terminate_requested = 0;
    int old = doorbell;
    long fd = shim_syscall2(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return;
    if (old >= 0 && shim_syscall3(SYS_dup3, fd, old, O_CLOEXEC) >= 0) {
        shim_syscall1(SYS_close, fd);
    } else {
        doorbell = shim_fd_try_hide((int)fd); /* RLIMIT_NOFILE lowered below the old number */
    }
}
