/* shim.h: what the files of libmoonshim.so share.
 *
 * Rules for all of shim/ (code that runs inside someone else's process):
 *  - The kernel is reached only through shim_syscall() (the stub page), never through libc's
 *    syscall wrappers for an intercepted call: those would trap back into the shim.
 *  - Everything reachable from the SIGSYS handler is async-signal-safe: no stdio, no malloc, no
 *    locks that a signal could find held; errno is saved and restored by the handler.
 *  - Internal functions return 0 / a value or -errno; only exported interposers set errno, once.
 *  - The shim's own file descriptors live at the top of the fd range and are hidden from the app. */
#ifndef MOON_SHIM_H
#define MOON_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "../scheduler/core.h"

#define MOON_API __attribute__((visibility("default")))

/* The one place an interposer turns a -errno result into errno and -1. */
#define shim_set_errno(result) shim_set_errno_value((long)(result))
long shim_set_errno_value(long result);
/* For functions that read memory the program owns (futex words): in a sanitized build the shim
 * would otherwise report the program's (or the sanitizer runtime's own) memory as bad. */
#define SHIM_READS_PROGRAM_MEMORY __attribute__((no_sanitize("address")))

/* The fixed page the syscall stub is copied to: the same in every process and every image (so a
 * filter inherited across execve still points at it). "moon" in ASCII. */
#define SHIM_STUB_ADDRESS 0x6d6f6f6e0000ul
#define SHIM_STUB_SIZE 4096ul

/* Exit statuses the shim uses when it ends the process itself (DESIGN.md's tool codes). */
#define SHIM_EXIT_CONFIG 2
#define SHIM_EXIT_SIMULATION 3

/* Calls the shim records that are not syscalls (above every syscall number). */
enum shim_call {
    SHIM_CALL_START = 1025,    /* the run begins */
    SHIM_CALL_AT_RANDOM = 1026,/* AT_RANDOM was rewritten */
    SHIM_CALL_READ_RANDOM = 1027, /* a read of /dev/urandom or /dev/random */
    SHIM_CALL_SIGNAL = 1028,   /* a signal handler runs (arg0 = signal; arg1 = 1 when sent by
                                * process.terminate_*) */
};

long shim_syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);
#define shim_syscall0(n) shim_syscall((n), 0, 0, 0, 0, 0, 0)
#define shim_syscall1(n, a) shim_syscall((n), (long)(a), 0, 0, 0, 0, 0)
#define shim_syscall2(n, a, b) shim_syscall((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define shim_syscall3(n, a, b, c) shim_syscall((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define shim_syscall4(n, a, b, c, d)                                                              \
    shim_syscall((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define shim_syscall5(n, a, b, c, d, e)                                                           \
    shim_syscall((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* stub.c: copies the stub to SHIM_STUB_ADDRESS. 0, or -errno. */
int shim_stub_try_install(void);

/* init.c */
extern int shim_initialized;
void shim_ensure_init(void);
uint64_t shim_seed(void);
/* The core, read-only, for the trace header and end line. */
const struct sched_core *shim_core(void);
/* Ends the run from inside the process: one line on stderr naming the seed, the trace and report
 * closed with `error`, then exit_group(status). Async-signal-safe. */
_Noreturn void shim_fatal(int status, const char *error, const char *message);
/* exit_group through the stub; never returns. */
_Noreturn void shim_exit(int status);
/* Writes one line "moonshim: seed N: message" to stderr. Async-signal-safe. */
void shim_say(const char *message);

/* core access: one request, one decision, one trace line. shim_decide also passes the baton when
 * the core names another thread, and returns once this thread runs again, with the outcome of its
 * request. shim_decide_no_switch leaves the baton alone (the caller handles next_thread). Both end
 * the run on a deadlock or livelock. */
void shim_decide(struct sched_request *request, struct sched_decision *decision);
void shim_decide_no_switch(struct sched_request *request, struct sched_decision *decision);
/* wait.c: block the calling thread in the scheduler until one of `fds` is ready (0), the
 * deadline passes (-ETIMEDOUT), or a signal is pending that this thread can take (-EINTR);
 * `what` names the call for diagnostics. */
struct pollfd;
int shim_wait_external(struct pollfd *fds, uint32_t count, int64_t deadline, int64_t mode,
                       const char *what);
/* Answers SCHED_DECISION_POLL (by polling for real) until the core can go on. */
void shim_settle(struct sched_decision *decision);
/* In the child of a fork (clone without CLONE_VM). */
void shim_after_fork_child(void);
/* Returns what fork returns to the program (the child's virtual pid with process.virtual_pids). */
long shim_after_fork_parent(long child);
void shim_before_spawn(void);
long shim_after_spawn(long child);
/* process.c: the children this process started (for waits), and wait4/waitid in the scheduler. */
void shim_process_child_started(long pid);
void shim_process_forget_children(void);
void shim_process_kill_children(void);
/* process.virtual_pids: this process's identity (path in the tree), the virtual pid of a path,
 * a child's virtual pid (registers it; returns what fork returns to the program), translations,
 * and the emulation of getpid/getppid/gettid. */
void shim_process_identity(int enabled, const char *path);
int shim_process_virtual_pids(void);
long shim_process_virtual_pid_of(const char *path);
long shim_process_child_virtual(long pid, const char *path);
long shim_process_to_virtual(long pid);
long shim_process_to_real(long pid);
void shim_process_translate_arguments(long number, long args[6]);
long shim_emulate_identity(long number, const long args[6]);
/* execve/execveat: the shim's variables and LD_PRELOAD kept in the new environment; static
 * programs refused. Remembers this image's variables and the shim's path at start-up. */
void shim_process_remember_environment(const char *library_path);
/* MOONSHIM_EXEC_STATE: [0] the virtual monotonic clock, then shim_signals_exec_state's. */
#define SHIM_EXEC_STATE_COUNT 6
int shim_process_read_exec_state(int64_t values[SHIM_EXEC_STATE_COUNT]);
void shim_signals_exec_state(int64_t values[SHIM_EXEC_STATE_COUNT - 1]);
void shim_signals_restore_exec_state(const int64_t values[SHIM_EXEC_STATE_COUNT - 1]);
long shim_emulate_execve(long number, const long args[6]);
long shim_emulate_wait(long number, const long args[6]);
/* Shorthands for the common requests; they return decision.value / decision.result. */
int64_t shim_clock_read(uint32_t call, enum sched_clock_kind kind, int64_t detail);
/* Blocks the calling simulated thread: `mode` is SCHED_SLEEP_RELATIVE (value = duration) or the
 * clock an absolute deadline is on (see protocol.h). Ends the run with a deadlock diagnostic
 * naming `what` if nothing can ever wake it. */
/* A deadline (value, mode as for SCHED_REQ_SLEEP) as a monotonic instant, or NEVER. */
int64_t shim_monotonic_deadline(int64_t value, int64_t mode);
/* Returns 0, or -EINTR when a signal timer expired first and its signal is deliverable here. */
int shim_sleep(uint32_t call, int64_t value, int64_t mode, const char *what);
void shim_random_fill(uint32_t call, void *buffer, size_t length);
void shim_record(uint32_t call, int64_t arg0, int64_t arg1, int64_t result);
/* A record that must not pass the baton (the exit path). */
void shim_record_no_switch(uint32_t call, int64_t arg0, int64_t arg1, int64_t result);

/* emulate.c: the table of trapped syscalls; one function serves SIGSYS and the interposers. */
long shim_emulate(long number, const long args[6]);
/* Fills `numbers` with the syscalls the seccomp filter must trap; returns the count. */
size_t shim_trapped_syscalls(int *numbers, size_t capacity);
const char *shim_call_name(uint32_t call);

/* seccomp.c */
int shim_seccomp_try_install(void);
/* signals.c: the SIGSYS handler, and emulation of the calls that could remove or block it. */
int shim_signals_try_install(void);
long shim_emulate_rt_sigaction(const long args[6]);
long shim_emulate_rt_sigprocmask(const long args[6]);
/* Copies a user sigset with SIGSYS removed; returns the pointer to pass on (may be `set`). */
const void *shim_sigset_without_sigsys(const void *set, size_t size, uint64_t *copy);
int shim_signals_try_open_doorbell(void);
/* Runs the program's handlers of the pending signals its mask lets through (the end of an
 * intercepted call; `context` is the trap's ucontext, or 0). Returns 1 when one of them was
 * installed without SA_RESTART (a blocking call it interrupted returns EINTR). */
int shim_signals_deliver(void *context);
/* Whether a signal is pending that the calling thread's mask (or `mask`) lets through. */
int shim_signals_deliverable_here(void);
int shim_signals_deliverable(uint64_t mask);
int shim_signals_deliverable_for(int thread, uint64_t mask);
uint64_t shim_signals_thread_mask(void);
void shim_signals_set_thread_mask(uint64_t mask);
uint64_t shim_signals_without_restart(void);
void shim_signals_restore_restart(uint64_t changed);
long shim_emulate_sigtimedwait(long number, const long args[6]);
/* The eventfd the catcher rings (-1 before start-up); draining it before looking at `pending`. */
int shim_signals_doorbell(void);
void shim_signals_reset_doorbell(void);
/* Signal timers in virtual time: the next expiration (monotonic ns, or SCHED_DEADLINE_NEVER),
 * and sending the signals of the timers that are due. */
int64_t shim_signals_next_timer(void);
void shim_signals_fire_due(void);
void shim_signals_request_terminate(void);
/* The watchdog's: re-send signals stuck pending to the running thread (tid). */
int shim_signals_stuck(void);
void shim_signals_nudge(long tid, uint64_t blocked_by_running);
void shim_signals_arm_terminate_at(int64_t monotonic_ns);
void shim_signals_after_fork_child(void);
long shim_emulate_wait_for_signal(long number, const long args[6], void *context);
long shim_emulate_kill(long number, const long args[6]);
long shim_emulate_itimer(long number, const long args[6]);

/* thread.c */
void shim_thread_init_main(void);
int shim_thread_try_pin(void);
/* The simulated thread calling, or -1 for a thread the shim never saw start. */
int shim_thread_self(void);
/* The kernel tid of each simulated thread: note the caller's (after a fork); find by tid (-1). */
void shim_thread_note_tid(void);
int shim_thread_by_tid(long tid);
long shim_thread_tid(int thread);
/* True in a vfork-style child, where every call passes through unsimulated. */
int shim_thread_passthrough(void);
void shim_thread_give_turn(uint32_t next);
void shim_thread_wait_turn(uint32_t self);
/* Remembers what the calling thread is about to wait in, for a deadlock diagnostic. */
void shim_thread_note_wait(const char *what);
void shim_thread_note_call(uint32_t self, uint32_t call);
int shim_thread_try_start_watchdog(int64_t timeout_ns);
_Noreturn void shim_thread_fatal_deadlock(const struct sched_core *core);
_Noreturn void shim_thread_fatal_livelock(const struct sched_core *core, uint32_t call);
long shim_emulate_clone(long number, long long *registers);
long shim_emulate_exit(const long args[6]);
long shim_emulate_futex(const long args[6]);
long shim_emulate_sched_yield(void);
long shim_emulate_vfork(void);

/* time.c */
long shim_emulate_time(long number, const long args[6]);
/* vdso.c */
int shim_vdso_try_patch(void);
/* random.c */
long shim_emulate_getrandom(const long args[6]);
void shim_random_rewrite_at_random(void);
/* Flips 1 to 32 bits of bytes[0..length), chosen by seed; nothing when length is 0. */
void shim_flip_bits(unsigned char *bytes, uint64_t length, uint64_t seed);
/* fd.c */
enum shim_fd_kind {
    SHIM_FD_OTHER = 0,
    SHIM_FD_RANDOM,  /* may be /dev/urandom or /dev/random: checked with fstat on use */
    SHIM_FD_EPOLL,   /* an epoll instance created after start-up; count of watched fds kept */
    SHIM_FD_SHIM,    /* the shim's own (trace, report): invisible to the application */
};
enum shim_fd_kind shim_fd_kind(int fd);
void shim_fd_set_kind(int fd, enum shim_fd_kind kind);
void shim_fd_forget(int fd);
void shim_fd_copy(int from, int to);
int shim_fd_epoll_watched(int fd);
void shim_fd_epoll_adjust(int fd, int delta);
/* Moves `fd` to a free descriptor at the top of the range, marks it SHIM; returns it or -errno. */
int shim_fd_try_hide(int fd);
/* close_range that skips the shim's own descriptors. */
long shim_emulate_close_range(const long args[6]);
int shim_fd_is_random_device(int fd);
/* Whether a read of fd could block (socket, pipe, terminal); learnt once per descriptor. */
int shim_fd_is_waitable(int fd);

/* trace.c */
/* Opens the trace; `append` when this image continues a run its process began (after execve). */
int shim_trace_try_open(const char *path, int append);
void shim_trace_header(int continuing);
void shim_trace_flush(void);
void shim_trace_event(const struct sched_request *request, const struct sched_decision *decision);
/* The program took descriptor `old` (dup2 onto it); the shim's file now lives at `new_fd`. */
void shim_trace_relocated(int old, int new_fd);
/* In the child of a fork: the child's own trace from now on (MOONSHIM_TRACE.<path>), no report. */
void shim_trace_start_in_child(const char *process_path);
/* init.c: this process's path in the run's tree ("" for the first, "2", "2.1", ...), and the
 * trace file of a process with path `path` (0 without MOONSHIM_TRACE). */
const char *shim_process_path(void);
const char *shim_trace_path_for(const char *path, char *buffer, size_t size);
void shim_trace_end(const char *reason, int64_t status, const char *error);
/* report.c-like summary, written at the end of the run to MOONSHIM_REPORT. */
int shim_report_try_open(const char *path);
void shim_report_end(const char *reason, int64_t status, const char *error, const char *message);

/* file.c: modelled storage (durability, faults, crash). `caller` is the call site. */
int shim_file_try_init(const char *paths);
void shim_file_opened(int fd, int directory, const char *path, int flags, int existed);
void shim_file_closed(int fd);
void shim_file_duplicated(int from, int to);
int shim_file_is_modelled(int fd);
/* An absolute form of the path when it lies under storage.paths (out: PATH 512 bytes). */
int shim_file_path_modelled(int directory, const char *path, char *absolute);
long shim_file_write(uint32_t call, int fd, const void *buffer, size_t length, int64_t offset,
                     uintptr_t caller);
long shim_file_read(uint32_t call, int fd, void *buffer, size_t length, int64_t offset,
                    uintptr_t caller);
long shim_file_sync(uint32_t call, int fd, uintptr_t caller);
long shim_file_rename(uint32_t call, const long args[6], uintptr_t caller);
long shim_file_unlink(uint32_t call, const long args[6], uintptr_t caller);
long shim_file_link(uint32_t call, const long args[6], uintptr_t caller);
long shim_file_mkdir(uint32_t call, const long args[6], uintptr_t caller);
long shim_file_truncate(uint32_t call, int fd, int64_t length, uintptr_t caller);
void shim_file_apply_crash(struct sched_core *core);
void shim_file_after_fork_child(void);
/* Whether fd is a modelled directory (its fsync commits metadata). */
int shim_file_is_modelled_directory(int fd);
/* The call site of the intercepted call being handled (set by the SIGSYS handler). */
uintptr_t shim_trap_caller(void);
void shim_set_trap_caller(uintptr_t caller);
/* The process dies now (process.crash_*): storage crash semantics, then SIGKILL. */
_Noreturn void shim_crash(uint32_t call);

/* net.c: network faults on real sockets. shim_net_before decides one read or write: negative
 * errno or a final result to return, or 0 to go ahead with *length (maybe shortened); after a
 * read, shim_net_after_read flips bits when *flip_seed says so. */
long shim_net_before(uint32_t call, int fd, int op, size_t *length, int nonblocking,
                     uintptr_t caller, uint64_t *flip_seed);
void shim_net_after_read(void *buffer, long got, uint64_t flip_seed);
/* A scatter/gather list cut to `length` bytes (into `cut`, as long as `vector`); its count. */
struct iovec;
size_t shim_net_cut_vector(const struct iovec *vector, size_t count, size_t length,
                           struct iovec *cut);
void shim_net_after_read_vector(const struct iovec *vector, size_t count, long got,
                                uint64_t flip_seed);
long shim_net_connect(int fd, const void *address, unsigned length, int nonblocking,
                      uintptr_t caller);
long shim_net_accept_fault(int fd, int nonblocking, uintptr_t caller);
void shim_net_note_local_pair(int fd);
void shim_net_duplicated(int from, int to);
int shim_net_is_local_pair(int fd);
void shim_net_forget(int fd);
void shim_net_no_delay(int fd);
void shim_net_note_epoll(int fd, int edge);
/* fd.c: whether fd is a socket (learnt with the waitable check). */
int shim_fd_is_socket(int fd);

/* timerfd.c: timerfd in virtual time (an eventfd the shim feeds). */
struct itimerspec;
void shim_timerfd_fire_due(void);
int64_t shim_timerfd_deadline(const struct pollfd *fds, uint32_t count);
int shim_timerfd_is(int fd);
void shim_timerfd_closed(int fd);
void shim_timerfd_note_epoll(int epoll_fd, int fd, int added);
long shim_timerfd_create(long clock_id, long flags);
long shim_timerfd_settime(int fd, long flags, const struct itimerspec *value, struct itimerspec *old);
long shim_timerfd_gettime(int fd, struct itimerspec *value);

/* format helpers over sched_text, writing to a descriptor with shim_syscall */
void shim_write_all(int fd, const char *bytes, size_t length);

#endif
