/* process.c: this process's children, and waiting for them without stopping the simulation.
 *
 * A child process is another simulation (its own scheduler, its own trace): to this one it is
 * part of the outside world. So a blocking wait4/waitid is a wait on the outside world like a
 * blocking read (wait.c): look with WNOHANG; if no child has changed state, wait in the scheduler
 * on a pidfd of each child the wait could be about (readable when that child exits), with other
 * threads running meanwhile and signals interrupting the wait as they would in the kernel; look
 * again. The shim knows the children it forked or spawned itself; a wait that could only be
 * about children it does not know (started by an image before an execve), and one that reports
 * stopped or continued children (WUNTRACED, WCONTINUED), is performed for real. A
 * single-threaded process waits in the kernel too (see shim_emulate_wait). Rules: as in shim.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../scheduler/text.h"
#include "shim.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define CHILDREN_MAX 256

static long children[CHILDREN_MAX];
static long child_virtual[CHILDREN_MAX]; /* what the program knows each child as */
static int child_count;
static long reaped_real, reaped_virtual;

void shim_process_child_started(long pid) {
    if (child_count < CHILDREN_MAX) {
        child_virtual[child_count] = pid;
        children[child_count++] = pid;
    }
}

static void child_gone(long pid) {
    for (int i = 0; i < child_count; i++) {
        if (children[i] != pid) continue;
        reaped_real = pid; /* the wait reporting it still translates it */
        reaped_virtual = child_virtual[i];
        child_count--;
        children[i] = children[child_count];
        child_virtual[i] = child_virtual[child_count];
        return;
    }
}

/* A simulated crash is the node's power loss: the children this process started die with it.
 * (Their own children, and descendants that daemonized away, are not reached.) */
void shim_process_kill_children(void) {
    for (int i = 0; i < child_count; i++) shim_syscall2(SYS_kill, children[i], SIGKILL);
}

void shim_process_forget_children(void) {
    child_count = 0; /* a forked child has no children yet */
}

/* One look, never blocking: the pid reported (> 0), 0 when no child changed state, or -errno. */
static long look(long number, const long args[6], int options) {
    if (number == SYS_wait4)
        return shim_syscall4(SYS_wait4, args[0], args[1], options | WNOHANG, args[3]);
    siginfo_t *info = (siginfo_t *)args[2];
    info->si_pid = 0;
    long result = shim_syscall5(SYS_waitid, args[0], args[1], args[2], options | WNOHANG, args[4]);
    if (result < 0) return result;
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

/* After a wait that returned `result` (wait4: a pid; waitid: 0 with the child in *infop): a
 * child reported dead, and reaped (not WNOWAIT), is no longer this process's. */
static void note_reaped(long number, const long args[6], int options, long result) {
    if (number == SYS_wait4 && result > 0) {
        const int *status = (const int *)args[1];
        if (!status || WIFEXITED(*status) || WIFSIGNALED(*status)) child_gone(result);
    }
    if (number == SYS_waitid && result == 0 && args[2] && !(options & WNOWAIT)) {
        const siginfo_t *info = (const siginfo_t *)args[2];
        if (info->si_pid > 0 && (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
                                 info->si_code == CLD_DUMPED))
            child_gone(info->si_pid);
    }
}

static long recorded(long number, const long args[6], int options, long result) {
    note_reaped(number, args, options, result);
    /* Real pids are not the seed's: the trace keeps only whether a child was reported. */
    int64_t which = number == SYS_wait4 ? (args[0] > 0 ? 1 : args[0]) : args[0];
    shim_record((uint32_t)number, which, options, result > 0 ? 1 : result);
    return result;
}

static long wait_translated(long number, const long args[6]);

long shim_emulate_wait(long number, const long program_args[6]) {
    long args[6] = {program_args[0], program_args[1], program_args[2],
                    program_args[3], program_args[4], program_args[5]};
    shim_process_translate_arguments(number, args);
    long result = wait_translated(number, args);
    if (number == SYS_wait4 && result > 0) result = shim_process_to_virtual(result);
    if (number == SYS_waitid && result == 0 && args[2]) {
        siginfo_t *info = (siginfo_t *)args[2];
        if (info->si_pid > 0) info->si_pid = (pid_t)shim_process_to_virtual(info->si_pid);
    }
    return result;
}

static long wait_translated(long number, const long args[6]) {
    int options = (int)(number == SYS_wait4 ? args[2] : args[3]);
    /* A pidfd only says when a child exits: waits that report stops or continues (WUNTRACED,
     * WSTOPPED, WCONTINUED), and a waitid without a siginfo to look at, are the kernel's. */
    int can_look = (number == SYS_wait4 || args[2] != 0) && !(options & (WUNTRACED | WCONTINUED));
    if ((options & WNOHANG) || !can_look) {
        long result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
        return recorded(number, args, options, result);
    }
    if (shim_core()->threads_alive == 1) {
        /* Nothing else of this process could run meanwhile: the kernel's wait, for real, is
         * the same and keeps the trace free of the child's timing. A signal ends it, its handler
         * runs, and the wait goes on if the handler has SA_RESTART (signals.c). */
        long result;
        for (;;) {
            uint64_t changed = shim_signals_without_restart();
            result = shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
            shim_signals_restore_restart(changed);
            if (result != -EINTR || shim_signals_deliver(0)) break;
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

/* --- virtual pids (process.virtual_pids) --------------------------------------------------
 *
 * Real pids are the kernel's, different every run. With process.virtual_pids, getpid, getppid
 * and gettid return numbers that are a function of the run: a process's comes from its path in
 * the tree (init.c), a thread's is its process's plus its simulated thread number. Every virtual
 * pid is above PID_MAX_LIMIT (4194304), so it can never name a real process: the pid-taking
 * calls the shim intercepts (kill, tgkill, tkill, rt_[tg]sigqueueinfo, wait4, waitid) translate
 * the virtual pids this process knows (itself, its threads, its parent, the children it started)
 * and pass anything else through, where a virtual pid the process does not know fails with
 * ESRCH instead of reaching a stranger. Results that carry pids (fork, wait4, waitid, the si_pid
 * a handler receives) are translated back. */
#define PID_MAX_LIMIT 4194304
#define VIRTUAL_PID_FIRST 4200000l          /* the first process of the run */
#define VIRTUAL_PID_OUTSIDE 4199000l        /* its parent (the tool, a shell) */
#define VIRTUAL_PID_SPACING 1000l           /* room for each process's threads */
#define VIRTUAL_PID_SLOTS 2000000ul

static int virtual_pids;
static long self_real, self_virtual, parent_real, parent_virtual;

long shim_process_virtual_pid_of(const char *path) {
    if (!path[0]) return VIRTUAL_PID_FIRST;
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const char *c = path; *c; c++) hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
    return VIRTUAL_PID_FIRST + VIRTUAL_PID_SPACING * (1 + (long)(hash % VIRTUAL_PID_SLOTS));
}

void shim_process_identity(int enabled, const char *path) {
    virtual_pids = enabled;
    self_real = shim_syscall0(SYS_getpid);
    parent_real = shim_syscall0(SYS_getppid);
    self_virtual = shim_process_virtual_pid_of(path);
    /* The parent's path is ours without the last ".N". */
    char parent[72];
    size_t length = 0, cut = 0;
    for (; path[length] && length < sizeof(parent) - 1; length++) {
        parent[length] = path[length];
        if (path[length] == '.') cut = length;
    }
    parent[cut] = 0;
    parent_virtual = path[0] ? shim_process_virtual_pid_of(parent) : VIRTUAL_PID_OUTSIDE;
}

int shim_process_virtual_pids(void) {
    return virtual_pids;
}

long shim_process_to_real(long pid) {
    if (!virtual_pids) return pid;
    if (pid < -1) return -shim_process_to_real(-pid);
    if (pid <= PID_MAX_LIMIT) return pid;
    if (pid == self_virtual) return self_real;
    if (pid == parent_virtual) return parent_real;
    if (pid > self_virtual && pid < self_virtual + SCHED_THREADS_MAX) {
        long tid = shim_thread_tid((int)(pid - self_virtual));
        if (tid > 0) return tid;
    }
    for (int i = 0; i < child_count; i++)
        if (child_virtual[i] == pid) return children[i];
    return pid; /* unknown: no real process has this number (ESRCH) */
}

long shim_process_to_virtual(long pid) {
    if (!virtual_pids || pid <= 0) return pid;
    if (pid == self_real) return self_virtual;
    if (pid == parent_real) return parent_virtual;
    for (int i = 0; i < child_count; i++)
        if (children[i] == pid) return child_virtual[i];
    if (pid == reaped_real) return reaped_virtual;
    int thread = shim_thread_by_tid(pid);
    if (thread > 0) return self_virtual + thread;
    return pid;
}

long shim_process_child_virtual(long pid, const char *path) {
    if (child_count > 0 && children[child_count - 1] == pid)
        child_virtual[child_count - 1] = shim_process_virtual_pid_of(path);
    return virtual_pids ? shim_process_virtual_pid_of(path) : pid;
}

long shim_emulate_identity(long number, const long args[6]) {
    (void)args;
    switch (number) {
    case SYS_getpid: return self_virtual;
    case SYS_gettid: {
        int thread = shim_thread_self();
        return thread > 0 ? self_virtual + thread : self_virtual;
    }
    case SYS_getppid: {
        long parent = shim_syscall0(SYS_getppid);
        return parent == parent_real ? parent_virtual : parent; /* reparented: the real one */
    }
    default: return -ENOSYS;
    }
}

/* The pid arguments of the intercepted calls that take them, made real in place. */
void shim_process_translate_arguments(long number, long args[6]) {
    if (!virtual_pids) return;
    switch (number) {
    case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: case SYS_wait4:
        args[0] = shim_process_to_real(args[0]);
        break;
    case SYS_tgkill: case SYS_rt_tgsigqueueinfo:
        args[0] = shim_process_to_real(args[0]);
        args[1] = shim_process_to_real(args[1]);
        break;
    case SYS_waitid:
        if (args[0] == P_PID || args[0] == P_PGID) args[1] = shim_process_to_real(args[1]);
        break;
    default: break;
    }
}

/* --- execve --------------------------------------------------------------------------------
 *
 * The seccomp filter outlives execve, so the new image must load the shim (or the first trapped
 * call kills it): the variables the shim needs are put back into an environment the program
 * cleaned (env -i, execve with its own envp), the shim is put first into an LD_PRELOAD the
 * program replaced, and a statically linked program (which cannot load it) is refused with a
 * diagnostic instead of dying of SIGSYS. */
static const char *const kept_names[] = {
    "MOONSHIM_SEED", "MOONSHIM_CONFIG", "MOONSHIM_FAULTS", "MOONSHIM_TRACE", "MOONSHIM_REPORT",
    "MOONSHIM_INCARNATION", "MOONSHIM_STREAM_SEED", "MOONSHIM_PROCESS", "MOONSHIM_OWNER_PID",
    "MOONSHIM_LIBRARY",
};
#define KEPT_COUNT (sizeof(kept_names) / sizeof(kept_names[0]))
static const char *kept_entries[KEPT_COUNT]; /* "NAME=value" as this image found them */
static char shim_path[PATH_MAX];

void shim_process_remember_environment(const char *library_path) {
    for (size_t i = 0; i < KEPT_COUNT; i++) {
        const char *value = getenv(kept_names[i]);
        kept_entries[i] = value ? value - strlen(kept_names[i]) - 1 : 0;
    }
    if (library_path && strlen(library_path) < sizeof(shim_path)) strcpy(shim_path, library_path);
}

static int has_entry(char *const *envp, const char *name, size_t length) {
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, length) == 0 && envp[i][length] == '=') return 1;
    return 0;
}

/* 1 when `path` is an ELF executable without an interpreter (statically linked). */
static int is_static_elf(const char *path) {
    long fd = shim_syscall4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;
    Elf64_Ehdr header;
    int is_static = 0;
    if (shim_syscall4(SYS_pread64, fd, &header, sizeof(header), 0) == (long)sizeof(header) &&
        memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == ELFCLASS64 &&
        (header.e_type == ET_EXEC || header.e_type == ET_DYN) && header.e_phentsize == sizeof(Elf64_Phdr)) {
        is_static = 1;
        for (int i = 0; i < header.e_phnum; i++) {
            Elf64_Phdr segment;
            if (shim_syscall4(SYS_pread64, fd, &segment, sizeof(segment),
                              header.e_phoff + (uint64_t)i * sizeof(segment)) != (long)sizeof(segment))
                break;
            if (segment.p_type == PT_INTERP) {
                is_static = 0;
                break;
            }
        }
    }
    shim_syscall1(SYS_close, fd);
    return is_static;
}

/* What the image an execve starts must carry on with (same process, same run): the virtual
 * clock, which must not go back, and the signal timers POSIX keeps across execve (alarm,
 * setitimer) with process.terminate's state. "MOONSHIM_EXEC_STATE=clock,timers...". */
#define EXEC_STATE_MAX 256

static void write_exec_state(char *out) {
    int64_t values[SHIM_EXEC_STATE_COUNT];
    values[0] = shim_core()->clock.monotonic_ns;
    shim_signals_exec_state(values + 1);
    struct sched_text text;
    sched_text_init(&text, out, EXEC_STATE_MAX);
    sched_text_str(&text, "MOONSHIM_EXEC_STATE=");
    for (int i = 0; i < SHIM_EXEC_STATE_COUNT; i++) {
        if (i) sched_text_char(&text, ',');
        sched_text_i64(&text, values[i]);
    }
}

int shim_process_read_exec_state(int64_t values[SHIM_EXEC_STATE_COUNT]) {
    const char *text = getenv("MOONSHIM_EXEC_STATE");
    if (!text) return -1;
    for (int i = 0; i < SHIM_EXEC_STATE_COUNT; i++) {
        char digits[24];
        size_t length = 0;
        int negative = *text == '-';
        if (negative) text++;
        while (*text >= '0' && *text <= '9' && length < sizeof(digits) - 1) digits[length++] = *text++;
        digits[length] = 0;
        uint64_t value;
        if (length == 0 || sched_text_parse_u64(digits, &value) != 0) return -1;
        values[i] = negative ? -(int64_t)value : (int64_t)value;
        if (i + 1 < SHIM_EXEC_STATE_COUNT && *text++ != ',') return -1;
    }
    return 0;
}

/* The environment the new image gets: a copy of `envp` with what the shim needs added. */
static char *const *environment_for_exec(char *const *envp) {
    size_t count = 0;
    while (envp && envp[count]) count++;
    int preload_index = -1;
    int preload_has_shim = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0) continue;
        preload_index = (int)i;
        preload_has_shim = shim_path[0] && strstr(envp[i], shim_path) != 0;
    }
    size_t missing = 0;
    for (size_t i = 0; i < KEPT_COUNT; i++)
        if (kept_entries[i] && !has_entry(envp, kept_names[i], strlen(kept_names[i]))) missing++;
    (void)missing; /* a copy is always made: it carries MOONSHIM_EXEC_STATE */
    size_t bytes = (count + KEPT_COUNT + 3) * sizeof(char *) + PATH_MAX * 2 + EXEC_STATE_MAX;
    long memory = shim_syscall(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory < 0) return envp;
    char **copy = (char **)memory;
    char *preload = (char *)(copy + count + KEPT_COUNT + 3);
    char *state = preload + PATH_MAX * 2;
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp(envp[i], "MOONSHIM_EXEC_STATE=", 20) != 0) copy[used++] = envp[i];
    if (preload_index >= 0) { /* its place in the copy moved if an old state entry went away */
        for (size_t i = 0; i < used; i++)
            if (copy[i] == envp[preload_index]) preload_index = (int)i;
    }
    write_exec_state(state);
    copy[used++] = state;
    for (size_t i = 0; i < KEPT_COUNT; i++)
        if (kept_entries[i] && !has_entry(envp, kept_names[i], strlen(kept_names[i])))
            copy[used++] = (char *)kept_entries[i];
    if (shim_path[0] && !preload_has_shim) {
        struct sched_text text;
        sched_text_init(&text, preload, PATH_MAX * 2);
        sched_text_str(&text, "LD_PRELOAD=");
        sched_text_str(&text, shim_path);
        if (preload_index >= 0 && envp[preload_index][11]) {
            sched_text_char(&text, ':');
            sched_text_str(&text, envp[preload_index] + 11);
        }
        if (preload_index >= 0) copy[preload_index] = preload;
        else copy[used++] = preload;
    }
    copy[used] = 0;
    return copy;
}

long shim_emulate_execve(long number, const long args[6]) {
    if (shim_thread_passthrough())
        return shim_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    const char *path = (const char *)(number == SYS_execve ? args[0] : args[1]);
    int plain_path = number == SYS_execve || (path && path[0] == '/') ||
                     (args[0] == AT_FDCWD && path && path[0]);
    if (plain_path && path && is_static_elf(path)) {
        char message[PATH_MAX + 160];
        struct sched_text text;
        sched_text_init(&text, message, sizeof(message));
        sched_text_str(&text, "unsupported: execve of a statically linked program (");
        sched_text_str(&text, path);
        sched_text_str(&text, "): the shim cannot load into it, and the inherited filter would "
                              "kill it at its first intercepted call");
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported", message);
    }
    char *const *envp = environment_for_exec((char *const *)(number == SYS_execve ? args[2] : args[3]));
    shim_record_no_switch((uint32_t)number, 0, 0, 0);
    shim_trace_flush();
    if (number == SYS_execve) return shim_syscall3(SYS_execve, args[0], args[1], envp);
    return shim_syscall5(SYS_execveat, args[0], args[1], args[2], envp, args[4]);
}
