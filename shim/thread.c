/* thread.c: one simulated thread at a time: the run baton, clone, thread exit, and futexes.
 *
 * Every simulated thread owns a futex word (its baton). A thread runs only while it holds its
 * baton; at each intercepted call the core names the thread that runs next, and if that is another
 * one, the caller sets the other's word, wakes it with a real futex wake, and sleeps on its own word
 * with a real futex wait. No thread ever blocks in the kernel on behalf of the program while it holds
 * the baton: the program's futex waits, sleeps and timeouts are decided by the core.
 *
 * Threads are caught at their birth: clone and clone3 are trapped, the core numbers the new thread
 * before the real clone, and the child starts in clone_entry.S, waiting for its baton before it
 * returns to the program. So threads made inside libraries or libc count too. A vfork-style child
 * (CLONE_VM without CLONE_THREAD, as posix_spawn makes) shares our memory and TLS until it execs:
 * it runs unsimulated (every call passes through) so it cannot disturb the parent's run.
 *
 * Rules: everything here is called from the SIGSYS handler or the interposers; only the stub
 * reaches the kernel; no libc. */
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "shim.h"

/* The registers a clone child resumes with; offsets are used by clone_entry.S. */
struct shim_clone_snapshot {
    uint64_t rip, rsp, rbx, rbp, r12, r13, r14, r15, rdi, rsi, rdx, r8, r9, r10;
    int32_t thread; /* simulated thread id, or -1 for a vfork-style child */
    uint32_t reserved;
};
_Static_assert(offsetof(struct shim_clone_snapshot, rsp) == 8, "clone_entry.S offsets");
_Static_assert(offsetof(struct shim_clone_snapshot, rbx) == 16, "clone_entry.S offsets");
_Static_assert(offsetof(struct shim_clone_snapshot, rdi) == 64, "clone_entry.S offsets");
_Static_assert(offsetof(struct shim_clone_snapshot, r10) == 104, "clone_entry.S offsets");

static uint32_t baton[SCHED_THREADS_MAX];
/* CLONE_CHILD_CLEARTID address of each thread. */
static uint64_t clear_tid[SCHED_THREADS_MAX];
/* The tid word of a thread that has just left the simulation, for the next thread to wait on. */
static uint32_t *exited_tid_word;
static const char *waiting_in[SCHED_THREADS_MAX];
/* The thread holding the baton, and each thread's last intercepted call: for the watchdog. */
static volatile uint32_t running_thread;
static volatile uint32_t last_call_of[SCHED_THREADS_MAX];
static __thread int32_t self_plus_one __attribute__((tls_model("initial-exec")));
static __thread int vfork_child __attribute__((tls_model("initial-exec")));

void shim_clone_child_entry(void);
void shim_clone_child_begin(struct shim_clone_snapshot *snapshot);

/* Each simulated thread's kernel tid (a signal sent to a thread names it). */
static volatile long kernel_tid[SCHED_THREADS_MAX];

void shim_thread_note_tid(void) {
    int self = shim_thread_self();
    if (self >= 0) kernel_tid[self] = shim_syscall0(SYS_gettid);
}

long shim_thread_tid(int thread) {
    if (thread < 0 || thread >= SCHED_THREADS_MAX) return -1;
    if (shim_core()->threads[thread].state == SCHED_THREAD_UNUSED) return -1;
    return kernel_tid[thread];
}

int shim_thread_by_tid(long tid) {
    const struct sched_core *core = shim_core();
    for (uint32_t t = 0; t < core->thread_count; t++)
        if (kernel_tid[t] == tid && core->threads[t].state != SCHED_THREAD_UNUSED) return (int)t;
    return -1;
}

void shim_thread_init_main(void) {
    self_plus_one = 1;
    kernel_tid[0] = shim_syscall0(SYS_gettid);
}

int shim_thread_self(void) {
    return self_plus_one - 1;
}

int shim_thread_passthrough(void) {
    return vfork_child;
}

static void real_futex_wait(uint32_t *word, uint32_t value) {
    shim_syscall4(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, 0);
}

static void real_futex_wake(uint32_t *word) {
    shim_syscall3(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1);
}

/* The kernel clears an exiting thread's CLONE_CHILD_CLEARTID word (and wakes real waiters) only
 * once the thread is truly gone, some real time after it left the simulation. glibc frees or
 * reuses the thread's stack only after seeing that word at 0, so if the simulation went on before
 * the kernel got there, stack addresses would depend on timing. The thread that receives the baton
 * from an exiting one therefore waits for the word first. Not FUTEX_PRIVATE: the kernel's wake is
 * a shared one. */
static void wait_for_exited_thread(void) {
    uint32_t *word = __atomic_exchange_n(&exited_tid_word, 0, __ATOMIC_ACQ_REL);
    if (!word) return;
    for (uint32_t value; (value = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != 0;)
        shim_syscall4(SYS_futex, word, FUTEX_WAIT, value, 0);
}

void shim_thread_wait_turn(uint32_t self) {
    while (__atomic_exchange_n(&baton[self], 0, __ATOMIC_ACQUIRE) == 0)
        real_futex_wait(&baton[self], 0);
    running_thread = self;
    wait_for_exited_thread();
}

void shim_thread_note_call(uint32_t self, uint32_t call) {
    last_call_of[self] = call;
}

void shim_thread_give_turn(uint32_t next) {
    __atomic_store_n(&baton[next], 1, __ATOMIC_RELEASE);
    real_futex_wake(&baton[next]);
}

void shim_clone_child_begin(struct shim_clone_snapshot *snapshot) {
    if (snapshot->thread < 0) {
        /* A vfork-style child: this TLS is the parent's (no CLONE_SETTLS); the parent is
         * suspended until we exec or exit, and clears the flag when it resumes. */
        vfork_child = 1;
        return;
    }
    self_plus_one = snapshot->thread + 1;
    kernel_tid[snapshot->thread] = shim_syscall0(SYS_gettid);
    shim_thread_wait_turn((uint32_t)snapshot->thread);
}

/* Puts the snapshot and the entry address below `top` (the stack the program gave the child);
 * returns the stack pointer to hand to the kernel. */
static uint64_t prepare_child_stack(uint64_t top, const greg_t *registers, int32_t thread) {
    uint64_t snapshot_at = (top - sizeof(struct shim_clone_snapshot)) & ~15ull;
    struct shim_clone_snapshot *snapshot = (struct shim_clone_snapshot *)snapshot_at;
    snapshot->rip = (uint64_t)registers[REG_RIP];
    snapshot->rsp = top;
    snapshot->rbx = (uint64_t)registers[REG_RBX];
    snapshot->rbp = (uint64_t)registers[REG_RBP];
    snapshot->r12 = (uint64_t)registers[REG_R12];
    snapshot->r13 = (uint64_t)registers[REG_R13];
    snapshot->r14 = (uint64_t)registers[REG_R14];
    snapshot->r15 = (uint64_t)registers[REG_R15];
    snapshot->rdi = (uint64_t)registers[REG_RDI];
    snapshot->rsi = (uint64_t)registers[REG_RSI];
    snapshot->rdx = (uint64_t)registers[REG_RDX];
    snapshot->r8 = (uint64_t)registers[REG_R8];
    snapshot->r9 = (uint64_t)registers[REG_R9];
    snapshot->r10 = (uint64_t)registers[REG_R10];
    snapshot->thread = thread;
    *(uint64_t *)(snapshot_at - 8) = (uint64_t)(uintptr_t)shim_clone_child_entry;
    return snapshot_at - 8;
}

/* Asks the core for a new thread; returns its id. */
static int32_t register_thread(void) {
    struct sched_request request = {.kind = SCHED_REQ_THREAD_CREATE, .call = SYS_clone3};
    struct sched_decision decision;
    shim_decide_no_switch(&request, &decision);
    if (decision.result < 0)
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported", "unsupported: more simulated threads than "
                                                        "the core allows (SCHED_THREADS_MAX)");
    return (int32_t)decision.value;
}

/* Undoes register_thread after a failed clone. */
static void unregister_thread(int32_t thread) {
    struct sched_request request = {.kind = SCHED_REQ_THREAD_EXIT, .call = SYS_clone3,
                                    .arg = {0, thread}};
    struct sched_decision decision;
    shim_decide_no_switch(&request, &decision);
}

long shim_emulate_clone(long number, long long *registers) {
    const long a0 = registers[REG_RDI], a1 = registers[REG_RSI];
    struct clone_args args3;
    uint64_t flags, stack_top;
    if (number == SYS_clone3) {
        size_t size = (size_t)a1 < sizeof(args3) ? (size_t)a1 : sizeof(args3);
        memset(&args3, 0, sizeof(args3));
        memcpy(&args3, (const void *)a0, size);
        flags = args3.flags;
        stack_top = args3.stack ? args3.stack + args3.stack_size : 0;
    } else {
        flags = (uint64_t)a0;
        stack_top = (uint64_t)a1;
    }
    const long *raw = (const long[]){registers[REG_RDI], registers[REG_RSI], registers[REG_RDX],
                                     registers[REG_R10], registers[REG_R8], registers[REG_R9]};
    if (vfork_child || !(flags & CLONE_VM) || !stack_top) {
        /* fork-like (own memory) or a shared stack: the child returns through this handler. */
        long result = shim_syscall(number, raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]);
        if (!(flags & CLONE_VM) && !vfork_child) {
            if (result == 0) shim_after_fork_child();
            else if (result > 0) result = shim_after_fork_parent(result);
        }
        return result;
    }
    int is_thread = (flags & CLONE_THREAD) != 0;
    if (is_thread && !(flags & CLONE_SETTLS))
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                   "unsupported: clone(CLONE_THREAD) without CLONE_SETTLS: the shim keeps per-thread "
                   "state in thread-local storage (pthread_create always sets it)");
    int32_t thread = is_thread ? register_thread() : -1;
    if (!is_thread) shim_before_spawn();
    uint64_t child_sp = prepare_child_stack(stack_top, registers, thread);
    long result;
    if (number == SYS_clone3) {
        args3.stack_size = child_sp - args3.stack;
        size_t size = sizeof(args3) < (size_t)a1 ? sizeof(args3) : (size_t)a1;
        result = shim_syscall2(SYS_clone3, &args3, size);
    } else {
        result = shim_syscall(SYS_clone, raw[0], (long)child_sp, raw[2], raw[3], raw[4], 0);
    }
    if (!is_thread) {
        vfork_child = 0; /* we are the parent again; the child may have set it in shared TLS */
        result = shim_after_spawn(result);
        return result;
    }
    if (result < 0) {
        unregister_thread(thread);
        return result;
    }
    uint64_t clear = number == SYS_clone3 ? args3.child_tid : (uint64_t)raw[3];
    clear_tid[thread] = (flags & CLONE_CHILD_CLEARTID) ? clear : 0;
    waiting_in[thread] = 0;
    last_call_of[thread] = SYS_clone3;
    shim_record(SYS_clone3, thread, (long)flags, thread); /* a switch point, after the clone */
    return result;
}

long shim_emulate_exit(const long args[6]) {
    if (vfork_child) return shim_syscall1(SYS_exit, args[0]);
    uint32_t self = (uint32_t)shim_thread_self();
    struct sched_request request = {.kind = SCHED_REQ_THREAD_EXIT, .call = SYS_exit,
                                    .arg = {(int64_t)clear_tid[self], self}};
    struct sched_decision decision;
    shim_decide_no_switch(&request, &decision);
    shim_settle(&decision); /* threads waiting outside are looked after before we go */
    __atomic_store_n(&exited_tid_word, (uint32_t *)(uintptr_t)clear_tid[self], __ATOMIC_RELEASE);
    clear_tid[self] = 0;
    if (decision.next_thread == SCHED_THREAD_NONE) {
        /* The last thread leaves without exit_group: the process ends here. */
        shim_trace_end("exit", args[0], 0);
        shim_report_end("exit", args[0], 0, 0);
    } else {
        shim_thread_give_turn(decision.next_thread);
    }
    for (;;) shim_syscall1(SYS_exit, args[0]);
}

SHIM_READS_PROGRAM_MEMORY static long futex_wait(uint32_t *address, uint32_t value, uint32_t bitset, int64_t deadline,
                       int64_t mode) {
    if (__atomic_load_n(address, __ATOMIC_ACQUIRE) != value) {
        shim_record(SYS_futex, (int64_t)(uintptr_t)address, FUTEX_WAIT, -EAGAIN);
        return -EAGAIN;
    }
    /* A signal timer (alarm, setitimer, process.terminate_*) that expires first ends the wait
     * with EINTR when this thread can take its signal, as a signal ends a real futex wait. */
    int64_t final = shim_monotonic_deadline(deadline, mode);
    for (;;) {
        int64_t timer = shim_signals_next_timer();
        int capped = timer != SCHED_DEADLINE_NEVER && timer < final;
        struct sched_request request = {.kind = SCHED_REQ_FUTEX_WAIT, .call = SYS_futex,
                                        .arg = {(int64_t)(uintptr_t)address, bitset,
                                                capped ? timer : deadline,
                                                capped ? SCHED_CLOCK_MONOTONIC : mode}};
        struct sched_decision decision;
        shim_thread_note_wait("futex");
        shim_decide(&request, &decision);
        int interrupted = decision.result == SCHED_RESULT_INTERRUPTED;
        if (!interrupted && decision.result != SCHED_RESULT_TIMED_OUT) return 0;
        if (!interrupted && !capped) return -ETIMEDOUT;
        shim_signals_fire_due();
        /* As Linux: the handler runs, and the wait goes on if it had SA_RESTART. */
        if (shim_signals_deliverable_here() && shim_signals_deliver(0)) return -EINTR;
        if (__atomic_load_n(address, __ATOMIC_ACQUIRE) != value) return 0; /* woken meanwhile */
        if (final != SCHED_DEADLINE_NEVER) {
            deadline = final;
            mode = SCHED_CLOCK_MONOTONIC;
        }
    }
}

static int64_t futex_request(enum sched_request_kind kind, int64_t a0, int64_t a1, int64_t a2,
                             int64_t a3) {
    struct sched_request request = {.kind = kind, .call = SYS_futex, .arg = {a0, a1, a2, a3}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    return decision.result;
}

/* FUTEX_WAKE_OP: the atomic operation on the second word, then the two wakes. */
SHIM_READS_PROGRAM_MEMORY static long futex_wake_op(uint32_t *address, int count, uint32_t *address2, int count2,
                          uint32_t encoded) {
    uint32_t op = (encoded >> 28) & 7, compare = (encoded >> 24) & 15;
    /* Both operands are 12-bit signed fields, as the kernel reads them. */
    uint32_t argument = (uint32_t)((int32_t)(encoded << 8) >> 20);
    uint32_t comparand = (uint32_t)((int32_t)(encoded << 20) >> 20);
    if ((encoded >> 28) & 8) argument = 1u << (argument & 31);
    uint32_t old = *address2, updated;
    switch (op) {
    case FUTEX_OP_SET: updated = argument; break;
    case FUTEX_OP_ADD: updated = old + argument; break;
    case FUTEX_OP_OR: updated = old | argument; break;
    case FUTEX_OP_ANDN: updated = old & ~argument; break;
    case FUTEX_OP_XOR: updated = old ^ argument; break;
    default: return -ENOSYS;
    }
    int condition;
    switch (compare) {
    case FUTEX_OP_CMP_EQ: condition = old == comparand; break;
    case FUTEX_OP_CMP_NE: condition = old != comparand; break;
    case FUTEX_OP_CMP_LT: condition = (int32_t)old < (int32_t)comparand; break;
    case FUTEX_OP_CMP_LE: condition = (int32_t)old <= (int32_t)comparand; break;
    case FUTEX_OP_CMP_GT: condition = (int32_t)old > (int32_t)comparand; break;
    case FUTEX_OP_CMP_GE: condition = (int32_t)old >= (int32_t)comparand; break;
    default: return -ENOSYS;
    }
    *address2 = updated;
    return futex_request(SCHED_REQ_FUTEX_WAKE_OP, (int64_t)(uintptr_t)address, count,
                         (int64_t)(uintptr_t)address2, condition ? count2 : 0);
}

static int64_t timeout_ns(const struct timespec *timeout, int64_t *ns) {
    if (!timeout) {
        *ns = SCHED_DEADLINE_NEVER;
        return 0;
    }
    if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000) return -EINVAL;
    *ns = timeout->tv_sec >= SCHED_DEADLINE_NEVER / 1000000000 - 1
              ? SCHED_DEADLINE_NEVER
              : timeout->tv_sec * 1000000000ll + timeout->tv_nsec;
    return 0;
}

static int64_t wake_count(uint32_t value) {
    return (int)value <= 0 ? 1 : (int)value;
}

static _Noreturn void unsupported_futex(int command) {
    char message[128];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "unsupported: futex operation ");
    sched_text_i64(&text, command);
    sched_text_str(&text, " (priority-inheritance futexes are not simulated)");
    shim_fatal(SHIM_EXIT_SIMULATION, "unsupported", message);
}

SHIM_READS_PROGRAM_MEMORY long shim_emulate_futex(const long args[6]) {
    if (vfork_child) return shim_syscall(SYS_futex, args[0], args[1], args[2], args[3], args[4], args[5]);
    uint32_t *address = (uint32_t *)args[0];
    int command = (int)args[1] & FUTEX_CMD_MASK;
    int64_t clock = ((int)args[1] & FUTEX_CLOCK_REALTIME) ? SCHED_CLOCK_REALTIME : SCHED_CLOCK_MONOTONIC;
    uint32_t value = (uint32_t)args[2];
    int64_t deadline;
    switch (command) {
    case FUTEX_WAIT:
        if (timeout_ns((const struct timespec *)args[3], &deadline) < 0) return -EINVAL;
        /* FUTEX_WAIT's timeout is relative, whatever the clock flag says. */
        return futex_wait(address, value, FUTEX_BITSET_MATCH_ANY, deadline, SCHED_SLEEP_RELATIVE);
    case FUTEX_WAIT_BITSET:
        if ((uint32_t)args[5] == 0) return -EINVAL;
        if (timeout_ns((const struct timespec *)args[3], &deadline) < 0) return -EINVAL;
        return futex_wait(address, value, (uint32_t)args[5], deadline, clock);
    /* Linux wakes at least one waiter even when asked for zero (or a negative count). */
    case FUTEX_WAKE:
        return futex_request(SCHED_REQ_FUTEX_WAKE, args[0], wake_count(value),
                             FUTEX_BITSET_MATCH_ANY, 0);
    case FUTEX_WAKE_BITSET:
        if ((uint32_t)args[5] == 0) return -EINVAL;
        return futex_request(SCHED_REQ_FUTEX_WAKE, args[0], wake_count(value), (uint32_t)args[5], 0);
    case FUTEX_CMP_REQUEUE:
        if (*address != (uint32_t)args[5]) {
            shim_record(SYS_futex, args[0], command, -EAGAIN);
            return -EAGAIN;
        }
        /* fall through */
    case FUTEX_REQUEUE: {
        /* The requeue count travels in the timeout argument's register. */
        struct sched_request request = {.kind = SCHED_REQ_FUTEX_REQUEUE, .call = SYS_futex,
                                        .arg = {args[0], wake_count(value), args[4], (int)args[3]}};
        struct sched_decision decision;
        shim_decide(&request, &decision);
        return command == FUTEX_REQUEUE ? decision.result
                                        : decision.result + (int64_t)decision.value;
    }
    case FUTEX_WAKE_OP:
        return futex_wake_op(address, (int)value, (uint32_t *)args[4], (int)args[3],
                             (uint32_t)args[5]);
    default:
        unsupported_futex(command);
    }
}

/* vfork: the child would run on our stack inside the SIGSYS handler and could overwrite the
 * signal frame the parent returns through. POSIX allows vfork to be fork, so it is one here. */
long shim_emulate_vfork(void) {
    long result = shim_syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
    if (!vfork_child) {
        if (result == 0) shim_after_fork_child();
        else if (result > 0) result = shim_after_fork_parent(result);
    }
    return result;
}

long shim_emulate_sched_yield(void) {
    if (vfork_child) return shim_syscall0(SYS_sched_yield);
    shim_record(SYS_sched_yield, 0, 0, 0);
    return 0;
}

void shim_thread_note_wait(const char *what) {
    int self = shim_thread_self();
    if (self >= 0) waiting_in[self] = what;
}

int shim_thread_try_pin(void) {
    /* One simulated thread runs at a time, so one CPU loses nothing, and a handoff between
     * threads on the same CPU costs ~1.7 us instead of ~38 us (DESIGN.md). Stay where we are. */
    unsigned cpu = 0;
    if (shim_syscall3(SYS_getcpu, &cpu, 0, 0) < 0) cpu = 0;
    uint64_t mask[16] = {0};
    if (cpu >= 16 * 64) return 0;
    mask[cpu / 64] = 1ull << (cpu % 64);
    return (int)shim_syscall3(SYS_sched_setaffinity, 0, sizeof(mask), mask);
}

static void describe_threads(struct sched_text *text, const struct sched_core *core) {
    int listed = 0;
    for (uint32_t t = 0; t < core->thread_count; t++) {
        const struct sched_thread *thread = &core->threads[t];
        if (thread->state == SCHED_THREAD_UNUSED) continue;
        sched_text_str(text, listed++ ? ", thread " : "thread ");
        sched_text_u64(text, t);
        if (thread->state == SCHED_THREAD_FUTEX) {
            sched_text_str(text, " in futex wait on ");
            sched_text_hex64(text, (uint64_t)thread->wait_key);
        } else if (thread->state == SCHED_THREAD_EXTERNAL) {
            sched_text_str(text, " waiting on real descriptors in ");
            sched_text_str(text, waiting_in[t] ? waiting_in[t] : "a wait");
        } else if (thread->state == SCHED_THREAD_SLEEPING) {
            sched_text_str(text, " sleeping in ");
            sched_text_str(text, waiting_in[t] ? waiting_in[t] : "a sleep");
        } else {
            sched_text_str(text, " runnable");
        }
    }
}

_Noreturn void shim_thread_fatal_deadlock(const struct sched_core *core) {
    char message[1024];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "deadlock: every thread waits and no timer is pending: ");
    describe_threads(&text, core);
    shim_fatal(SHIM_EXIT_SIMULATION, "deadlock", message);
}

_Noreturn void shim_thread_fatal_livelock(const struct sched_core *core, uint32_t call) {
    char message[1024];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "livelock: ");
    sched_text_u64(&text, core->calls_without_progress);
    sched_text_str(&text, " intercepted calls in a row with no thread blocking and no virtual "
                          "time passing (threads.livelock_calls); the last was ");
    sched_text_str(&text, shim_call_name(call));
    sched_text_str(&text, ": ");
    describe_threads(&text, core);
    shim_fatal(SHIM_EXIT_SIMULATION, "livelock", message);
}

/* The stall watchdog: a thread outside the simulation (it never makes an intercepted call, uses
 * no TLS and no libc) that wakes once a second. If no event has happened for threads.stall_timeout
 * of wall time while some other simulated thread could run, the thread holding the baton is stuck
 * outside the simulation: a blocking call the shim does not simulate, or a loop with no calls at
 * all. That ends the run with a diagnostic instead of a silent hang. */
#define WATCHDOG_STACK_SIZE (64 * 1024)

static int64_t watchdog_timeout_s;

static int others_could_run(const struct sched_core *core, uint32_t holder) {
    for (uint32_t t = 0; t < core->thread_count; t++) {
        if (t == holder) continue;
        uint8_t state = core->threads[t].state;
        if (state == SCHED_THREAD_RUNNABLE) return 1;
        if (state != SCHED_THREAD_UNUSED && core->timers.count > 0) return 1;
    }
    return 0;
}

static _Noreturn void watchdog_stalled(const struct sched_core *core, uint32_t holder) {
    char message[1024];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "stall: thread ");
    sched_text_u64(&text, holder);
    sched_text_str(&text, " has made no intercepted call for ");
    sched_text_i64(&text, watchdog_timeout_s);
    sched_text_str(&text, " s of wall time while other threads wait to run; it is blocked in a "
                          "call the shim does not simulate, or looping without calls (last "
                          "intercepted call: ");
    sched_text_str(&text, shim_call_name(last_call_of[holder]));
    sched_text_str(&text, "): ");
    describe_threads(&text, core);
    shim_fatal(SHIM_EXIT_SIMULATION, "stall", message);
}

#define WATCHDOG_TICKS_PER_SECOND 10

/* The signal mask of thread `tid` of this process, from /proc (SigBlk); 0 if unreadable. */
static uint64_t thread_mask_of(long tid) {
    char path[64], text[2048];
    struct sched_text name;
    sched_text_init(&name, path, sizeof(path));
    sched_text_str(&name, "/proc/self/task/");
    sched_text_i64(&name, tid);
    sched_text_str(&name, "/status");
    long fd = shim_syscall4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;
    long length = shim_syscall3(SYS_read, fd, text, sizeof(text) - 1);
    shim_syscall1(SYS_close, fd);
    if (length <= 0) return 0;
    text[length] = 0;
    const char *field = strstr(text, "SigBlk:");
    if (!field) return 0;
    uint64_t mask = 0;
    for (field += 7; *field == ' ' || *field == '\t'; field++) {}
    for (; *field; field++) {
        char c = *field;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) break;
        mask = (mask << 4) | (uint64_t)digit;
    }
    return mask;
}

static _Noreturn void watchdog_main(void) {
    const struct sched_core *core = shim_core();
    uint64_t last_events = ~0ull;
    int64_t quiet_ticks = 0;
    for (;;) {
        struct timespec tick = {0, 1000000000 / WATCHDOG_TICKS_PER_SECOND};
        shim_syscall2(SYS_nanosleep, &tick, 0);
        uint64_t events = __atomic_load_n(&core->events, __ATOMIC_RELAXED);
        uint32_t holder = running_thread;
        extern volatile int shim_waiting_outside;
        /* A tick without events: a signal from outside may be waiting for a call that the
         * running thread is not making. */
        if (events == last_events && !shim_waiting_outside && holder < SCHED_THREADS_MAX)
            if (shim_signals_stuck()) shim_signals_nudge(kernel_tid[holder], thread_mask_of(kernel_tid[holder]));
        if (events != last_events || shim_waiting_outside || !others_could_run(core, holder)) {
            last_events = events;
            quiet_ticks = 0;
            continue;
        }
        if (++quiet_ticks >= watchdog_timeout_s * WATCHDOG_TICKS_PER_SECOND)
            watchdog_stalled(core, holder);
    }
}

int shim_thread_try_start_watchdog(int64_t timeout_ns) {
    if (timeout_ns <= 0) return 0;
    watchdog_timeout_s = timeout_ns / 1000000000 > 0 ? timeout_ns / 1000000000 : 1;
    long stack = shim_syscall(SYS_mmap, 0, WATCHDOG_STACK_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack < 0) return (int)stack;
    /* The stub's `ret` in the child pops this address; the child then enters watchdog_main as if
     * called, with a correctly aligned stack. */
    uint64_t child_sp = (uint64_t)stack + WATCHDOG_STACK_SIZE - 16;
    *(uint64_t *)child_sp = (uint64_t)(uintptr_t)watchdog_main;
    /* Born with every signal blocked: the program's handlers must never run on this thread. */
    uint64_t all = ~0ull, previous = 0;
    shim_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &previous, 8);
    long result = shim_syscall(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                               CLONE_THREAD | CLONE_SYSVSEM, (long)child_sp, 0, 0, 0, 0);
    shim_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &previous, 0, 8);
    return result < 0 ? (int)result : 0;
}
