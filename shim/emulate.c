/* emulate.c: the one table of intercepted syscalls.
 *
 * Each row names a syscall, the function that emulates it, and whether the seccomp filter traps
 * it. The SIGSYS handler, the vDSO replacements and the PLT interposers all end up in
 * shim_emulate(), so a call behaves the same whichever way it arrived. The trapped set is kept to
 * calls the dynamic loader does not make before the shim's constructor runs: a filter is inherited
 * across execve, and a trap that fires before the new image has a handler kills the process. That
 * is why read/openat/close are interposed at the PLT (fd.c, random.c) instead of trapped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../faults/network.h"
#include "shim.h"

typedef long (*emulator)(long number, const long args[6]);

struct intercepted {
    int number;
    int trapped;
    const char *name;
    emulator emulate;
};

static long emulate_getrandom(long number, const long args[6]) {
    (void)number;
    return shim_emulate_getrandom(args);
}

static long emulate_getcpu(long number, const long args[6]) {
    (void)number;
    /* One virtual CPU, one NUMA node. */
    unsigned *cpu = (unsigned *)args[0];
    unsigned *node = (unsigned *)args[1];
    if (cpu) *cpu = 0;
    if (node) *node = 0;
    shim_record(SYS_getcpu, 0, 0, 0);
    return 0;
}

static long emulate_rt_sigaction(long number, const long args[6]) {
    (void)number;
    return shim_emulate_rt_sigaction(args);
}

static long emulate_rt_sigprocmask(long number, const long args[6]) {
    (void)number;
    return shim_emulate_rt_sigprocmask(args);
}

static long emulate_close_range(long number, const long args[6]) {
    (void)number;
    return shim_emulate_close_range(args);
}

static long emulate_exit_group(long number, const long args[6]) {
    (void)number;
    int status = (int)args[0];
    shim_record_no_switch(SYS_exit_group, status, 0, 0);
    shim_trace_end("exit", status, 0);
    shim_report_end("exit", status, 0, 0);
    shim_exit(status);
}

static long emulate_futex(long number, const long args[6]) {
    (void)number;
    return shim_emulate_futex(args);
}

static long emulate_exit(long number, const long args[6]) {
    (void)number;
    return shim_emulate_exit(args);
}

static long emulate_sched_yield(long number, const long args[6]) {
    (void)number;
    (void)args;
    return shim_emulate_sched_yield();
}

/* pause and sigsuspend wait for a signal (signals.c; the SIGSYS handler calls it with the trap's
 * context, which a handler with SA_SIGINFO receives). */
static long emulate_wait_for_signal(long number, const long args[6]) {
    return shim_emulate_wait_for_signal(number, args, 0);
}

/* execve replaces the image: what the trace buffer holds must reach the file first. The new image
 * loads the shim again and continues the trace (init.c, owns_run). */
static long emulate_execve(long number, const long args[6]) {
    return shim_emulate_execve(number, args); /* process.c: the environment, static programs */
}

/* Storage (file.c): writes, syncs and metadata changes of modelled files; everything else is
 * passed through. read is interposed at the PLT only (the loader reads libraries with it). */
/* writev on a socket (glibc's own, nginx's responses): latency and the network model's faults
 * for the whole vector; a short transfer cuts the vector. */
static long socket_writev(int fd, const struct iovec *vector, long count) {
    if (count < 0 || count > IOV_MAX) return -EINVAL;
    size_t total = 0;
    for (long i = 0; i < count; i++) total += vector[i].iov_len;
    size_t length = total;
    uint64_t flip_seed;
    long nonblocking = shim_syscall2(SYS_fcntl, fd, F_GETFL);
    long early = shim_net_before(SYS_writev, fd, FAULT_NETWORK_WRITE, &length,
                                 nonblocking >= 0 && (nonblocking & O_NONBLOCK), shim_trap_caller(),
                                 &flip_seed);
    if (early != 0) return early;
    if (length >= total) return shim_syscall3(SYS_writev, fd, vector, count);
    struct iovec cut[IOV_MAX];
    size_t used = shim_net_cut_vector(vector, (size_t)count, length, cut);
    return shim_syscall3(SYS_writev, fd, cut, used);
}

static long emulate_write(long number, const long args[6]) {
    int fd = (int)args[0];
    if (number == SYS_writev && shim_initialized == 2 && shim_fd_is_socket(fd))
        return socket_writev(fd, (const struct iovec *)args[1], args[2]);
    if (!shim_file_is_modelled(fd))
        return shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    uintptr_t caller = shim_trap_caller();
    if (number == SYS_write || number == SYS_pwrite64)
        return shim_file_write((uint32_t)number, fd, (const void *)args[1], (size_t)args[2],
                               number == SYS_pwrite64 ? args[3] : -1, caller);
    /* writev, pwritev, pwritev2: one modelled write per vector element. */
    const struct iovec *vector = (const struct iovec *)args[1];
    int64_t offset = number == SYS_writev ? -1 : args[3];
    long total = 0;
    for (long i = 0; i < args[2]; i++) {
        long done = shim_file_write((uint32_t)number, fd, vector[i].iov_base, vector[i].iov_len,
                                    offset < 0 ? -1 : offset + total, caller);
        if (done < 0) return total > 0 ? total : done;
        total += done;
        if ((size_t)done < vector[i].iov_len) break;
    }
    return total;
}

static long emulate_sync(long number, const long args[6]) {
    int fd = number == SYS_sync ? -1 : (int)args[0];
    if (number == SYS_sync || number == SYS_syncfs) {
        /* Modelled files become durable in the model; the others are the kernel's business. */
        long result = shim_file_sync((uint32_t)number, -1, shim_trap_caller());
        if (result != 0) return result;
        return shim_syscall(number, args[0], 0, 0, 0, 0, 0);
    }
    if (!shim_file_is_modelled(fd) && !shim_file_is_modelled_directory(fd))
        return shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    /* sync_file_range only promises anything with SYNC_FILE_RANGE_WAIT_AFTER. */
    if (number == SYS_sync_file_range && !(args[3] & 4)) return 0;
    return shim_file_sync((uint32_t)number, fd, shim_trap_caller());
}

static long emulate_metadata(long number, const long args[6]) {
    uintptr_t caller = shim_trap_caller();
    switch (number) {
    case SYS_rename: case SYS_renameat: case SYS_renameat2:
        return shim_file_rename((uint32_t)number, args, caller);
    case SYS_unlink: case SYS_unlinkat: case SYS_rmdir:
        return shim_file_unlink((uint32_t)number, args, caller);
    case SYS_link: case SYS_linkat: return shim_file_link((uint32_t)number, args, caller);
    case SYS_mkdir: case SYS_mkdirat: return shim_file_mkdir((uint32_t)number, args, caller);
    case SYS_ftruncate:
        if (!shim_file_is_modelled((int)args[0])) return shim_syscall2(number, args[0], args[1]);
        return shim_file_truncate((uint32_t)number, (int)args[0], args[1], caller);
    default: return -ENOSYS;
    }
}

static long emulate_vfork(long number, const long args[6]) {
    (void)number;
    (void)args;
    return shim_emulate_vfork();
}

static const struct intercepted table[] = {
    {SYS_vfork, 1, "vfork", emulate_vfork},
    {SYS_write, 1, "write", emulate_write},
    {SYS_pwrite64, 1, "pwrite64", emulate_write},
    {SYS_writev, 1, "writev", emulate_write},
    {SYS_pwritev, 1, "pwritev", emulate_write},
    {SYS_pwritev2, 1, "pwritev2", emulate_write},
    {SYS_fsync, 1, "fsync", emulate_sync},
    {SYS_fdatasync, 1, "fdatasync", emulate_sync},
    {SYS_sync_file_range, 1, "sync_file_range", emulate_sync},
    {SYS_syncfs, 1, "syncfs", emulate_sync},
    {SYS_sync, 1, "sync", emulate_sync},
    {SYS_rename, 1, "rename", emulate_metadata},
    {SYS_renameat, 1, "renameat", emulate_metadata},
    {SYS_renameat2, 1, "renameat2", emulate_metadata},
    {SYS_unlink, 1, "unlink", emulate_metadata},
    {SYS_unlinkat, 1, "unlinkat", emulate_metadata},
    {SYS_rmdir, 1, "rmdir", emulate_metadata},
    {SYS_link, 1, "link", emulate_metadata},
    {SYS_linkat, 1, "linkat", emulate_metadata},
    {SYS_mkdir, 1, "mkdir", emulate_metadata},
    {SYS_mkdirat, 1, "mkdirat", emulate_metadata},
    {SYS_ftruncate, 1, "ftruncate", emulate_metadata},
    {SYS_execve, 1, "execve", emulate_execve},
    {SYS_execveat, 1, "execveat", emulate_execve},
    {SYS_pause, 1, "pause", emulate_wait_for_signal},
    {SYS_rt_sigsuspend, 1, "rt_sigsuspend", emulate_wait_for_signal},
    /* Trapped only with process.virtual_pids (trapped = 2). */
    {SYS_getpid, 2, "getpid", shim_emulate_identity},
    {SYS_getppid, 2, "getppid", shim_emulate_identity},
    {SYS_gettid, 2, "gettid", shim_emulate_identity},
    {SYS_wait4, 1, "wait4", shim_emulate_wait},
    {SYS_waitid, 1, "waitid", shim_emulate_wait},
    {SYS_rt_sigtimedwait, 1, "rt_sigtimedwait", shim_emulate_sigtimedwait},
    {SYS_kill, 1, "kill", shim_emulate_kill},
    {SYS_tgkill, 1, "tgkill", shim_emulate_kill},
    {SYS_tkill, 1, "tkill", shim_emulate_kill},
    {SYS_rt_sigqueueinfo, 1, "rt_sigqueueinfo", shim_emulate_kill},
    {SYS_rt_tgsigqueueinfo, 1, "rt_tgsigqueueinfo", shim_emulate_kill},
    {SYS_alarm, 1, "alarm", shim_emulate_itimer},
    {SYS_setitimer, 1, "setitimer", shim_emulate_itimer},
    {SYS_getitimer, 1, "getitimer", shim_emulate_itimer},
    {SYS_futex, 1, "futex", emulate_futex},
    {SYS_sched_yield, 1, "sched_yield", emulate_sched_yield},
    {SYS_exit, 1, "exit", emulate_exit},
    /* Emulated by the SIGSYS handler itself, which has the registers (thread.c). */
    {SYS_clone, 1, "clone", 0},
    {SYS_clone3, 1, "clone3", 0},
    {SYS_clock_gettime, 1, "clock_gettime", shim_emulate_time},
    {SYS_gettimeofday, 1, "gettimeofday", shim_emulate_time},
    {SYS_time, 1, "time", shim_emulate_time},
    {SYS_nanosleep, 1, "nanosleep", shim_emulate_time},
    {SYS_clock_nanosleep, 1, "clock_nanosleep", shim_emulate_time},
    {SYS_poll, 1, "poll", shim_emulate_time},
    {SYS_ppoll, 1, "ppoll", shim_emulate_time},
    {SYS_select, 1, "select", shim_emulate_time},
    {SYS_pselect6, 1, "pselect6", shim_emulate_time},
    {SYS_epoll_wait, 1, "epoll_wait", shim_emulate_time},
    {SYS_epoll_pwait, 1, "epoll_pwait", shim_emulate_time},
    {SYS_epoll_pwait2, 1, "epoll_pwait2", shim_emulate_time},
    {SYS_getrandom, 1, "getrandom", emulate_getrandom},
    {SYS_getcpu, 1, "getcpu", emulate_getcpu},
    {SYS_rt_sigaction, 1, "rt_sigaction", emulate_rt_sigaction},
    {SYS_rt_sigprocmask, 1, "rt_sigprocmask", emulate_rt_sigprocmask},
    {SYS_close_range, 1, "close_range", emulate_close_range},
    {SYS_exit_group, 1, "exit_group", emulate_exit_group},
    /* Interposed at the PLT only (see the comment at the top); listed for their trace names. */
    {SYS_openat, 0, "openat", 0},
    {SYS_read, 0, "read", 0},
    {SYS_pread64, 0, "pread64", 0},
    {SYS_readv, 0, "readv", 0},
    {SYS_recvfrom, 0, "recvfrom", 0},
    {SYS_recvmsg, 0, "recvmsg", 0},
    {SYS_sendto, 0, "sendto", 0},
    {SYS_sendmsg, 0, "sendmsg", 0},
    {SYS_connect, 0, "connect", 0},
    {SYS_accept4, 0, "accept4", 0},
    {SYS_timerfd_create, 0, "timerfd_create", 0},
    {SYS_timerfd_settime, 0, "timerfd_settime", 0},
    {SYS_close, 0, "close", 0},
};

#define TABLE_LENGTH (sizeof(table) / sizeof(table[0]))

long shim_emulate(long number, const long args[6]) {
    /* A vfork-style child shares our memory until it execs: it must not touch the run. Only
     * SIGSYS must stay protected. */
    if (shim_thread_passthrough() && number != SYS_rt_sigaction && number != SYS_rt_sigprocmask)
        return shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    for (size_t i = 0; i < TABLE_LENGTH; i++)
        if (table[i].number == number && table[i].emulate) return table[i].emulate(number, args);
    /* The filter traps only what the table lists, so this is a shim bug; do the call for real
     * rather than fail the program. */
    return shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
}

size_t shim_trapped_syscalls(int *numbers, size_t capacity) {
    size_t count = 0;
    for (size_t i = 0; i < TABLE_LENGTH && count < capacity; i++)
        if (table[i].trapped == 1 || (table[i].trapped == 2 && shim_process_virtual_pids()))
            numbers[count++] = table[i].number;
    return count;
}

const char *shim_call_name(uint32_t call) {
    switch (call) {
    case SHIM_CALL_START: return "start";
    case SHIM_CALL_AT_RANDOM: return "at_random";
    case SHIM_CALL_READ_RANDOM: return "read_random";
    case SHIM_CALL_SIGNAL: return "signal";
    default: break;
    }
    for (size_t i = 0; i < TABLE_LENGTH; i++)
        if ((uint32_t)table[i].number == call) return table[i].name;
    return "unknown";
}
