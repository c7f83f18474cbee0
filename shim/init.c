/* init.c: start-up (environment, config, core, filter) and the one path into the core.
 *
 * Start-up runs from the library's constructor (only there: see interpose.c, is_running), before
 * the program's main(), in this order: read
 * the environment and config (a bad one ends the process with status 2 and one line naming the key
 * and line), start the core, install the stub page, open the trace, patch the vDSO, install the
 * SIGSYS handler, load the seccomp filter, rewrite AT_RANDOM. Until the filter is loaded nothing
 * is trapped, so start-up may use libc freely; afterwards the rules in shim.h apply. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "shim.h"

#define CONFIG_FILE_MAX (1 << 20)

int shim_initialized; /* 0 not yet, 1 starting, 2 running */
static struct sched_core core;
static volatile int core_lock;
static __thread int core_depth __attribute__((tls_model("initial-exec")));
static int seed_was_given;
static uint64_t run_seed_mixed, run_incarnation;

uint64_t shim_seed(void) {
    return core.seed;
}

void shim_write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        long written = shim_syscall3(SYS_write, fd, bytes, length);
        if (written == -EINTR) continue;
        if (written <= 0) return;
        bytes += written;
        length -= (size_t)written;
    }
}

long shim_set_errno_value(long result) {
    /* The end of an intercepted call made through the PLT: pending signal handlers run here
     * (signals.c). A blocking call they interrupt has its own EINTR path (wait.c). */
    if (__builtin_expect(shim_initialized == 2, 1)) shim_signals_deliver(0);
    if (result < 0) {
        errno = (int)-result;
        return -1;
    }
    return result;
}

_Noreturn void shim_exit(int status) {
    for (;;) shim_syscall1(SYS_exit_group, status);
}

void shim_say(const char *message) {
    char line[512];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    sched_text_str(&text, "moonshim: seed ");
    sched_text_u64(&text, core.seed);
    sched_text_str(&text, ": ");
    sched_text_str(&text, message);
    sched_text_char(&text, '\n');
    shim_write_all(STDERR_FILENO, line, text.length);
}

_Noreturn void shim_fatal(int status, const char *error, const char *message) {
    shim_say(message);
    shim_trace_end("error", status, error);
    shim_report_end("error", status, error, message);
    shim_exit(status);
}

_Noreturn void moon_panic(const char *file, int line, const char *expression) {
    char message[384];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "internal error: assertion failed at ");
    sched_text_str(&text, file);
    sched_text_char(&text, ':');
    sched_text_i64(&text, line);
    sched_text_str(&text, ": ");
    sched_text_str(&text, expression);
    shim_fatal(SHIM_EXIT_SIMULATION, "internal", message);
}

static void lock_core(void) {
    if (core_depth)
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                   "unsupported: an intercepted call from a signal handler that interrupted the "
                   "shim (a synchronous signal such as SIGSEGV, or one glibc sends itself)");
    while (__atomic_exchange_n(&core_lock, 1, __ATOMIC_ACQUIRE))
        shim_syscall0(SYS_sched_yield);
    core_depth = 1;
}

static void unlock_core(void) {
    core_depth = 0;
    __atomic_store_n(&core_lock, 0, __ATOMIC_RELEASE);
}

void shim_decide_no_switch(struct sched_request *request, struct sched_decision *decision) {
    int self = shim_thread_self();
    if (self < 0)
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                   "unsupported: an intercepted call from a thread that started before the shim "
                   "(created by a library constructor?)");
    request->thread = (uint32_t)self;
    shim_thread_note_call((uint32_t)self, request->call);
    int on_behalf = request->kind == SCHED_REQ_EXTERNAL_READY || request->kind == SCHED_REQ_EXTERNAL_DONE;
    if (!on_behalf && core.threads[self].state != SCHED_THREAD_RUNNABLE) {
        /* Code running on a thread that waits for its turn: a handler the kernel ran there
         * directly, which only glibc's own signals get (pthread_cancel's SIGCANCEL, set*id's
         * SIGSETXID in a multi-threaded process). */
        char message[160];
        struct sched_text text;
        sched_text_init(&text, message, sizeof(message));
        sched_text_str(&text, "unsupported: ");
        sched_text_str(&text, shim_call_name(request->call));
        sched_text_str(&text, " from a thread that is not running (pthread_cancel, or set*id in a "
                              "multi-threaded process)");
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported", message);
    }
    lock_core();
    sched_core_handle(&core, request, decision);
    shim_trace_event(request, decision);
    unlock_core();
    if (decision->flags & SCHED_DECISION_CRASH) shim_crash(request->call);
    if (decision->flags & SCHED_DECISION_TERMINATE) shim_signals_request_terminate();
    if (decision->result == SCHED_RESULT_DEADLOCK) shim_thread_fatal_deadlock(&core);
    if (decision->result == SCHED_RESULT_LIVELOCK) shim_thread_fatal_livelock(&core, request->call);
}

void shim_decide(struct sched_request *request, struct sched_decision *decision) {
    shim_decide_no_switch(request, decision);
    uint32_t self = request->thread;
    shim_settle(decision);
    if (decision->next_thread != self) {
        shim_thread_give_turn(decision->next_thread);
        shim_thread_wait_turn(self);
    }
    /* Running again (or still): the outcome of the request, decided now or while we were away
     * (the core keeps it for every thread, blocking or not). */
    lock_core();
    decision->result = sched_core_wake_result(&core, self);
    decision->value = sched_core_wake_value(&core, self);
    decision->now_ns = core.clock.monotonic_ns;
    unlock_core();
}

_Noreturn void shim_crash(uint32_t call) {
    /* The baton holder applies what a power loss leaves on the modelled files, then dies as a
     * killed process does. The trace and the report say it was the simulation's doing. */
    lock_core();
    shim_file_apply_crash(&core);
    unlock_core();
    char message[96];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "simulated crash (process.crash_*) at ");
    sched_text_str(&text, shim_call_name(call));
    shim_trace_end("crash", 137, 0);
    shim_report_end("crash", 137, 0, message);
    shim_process_kill_children();
    for (;;) shim_syscall2(SYS_kill, shim_syscall0(SYS_getpid), SIGKILL);
}

static __thread uintptr_t trap_caller __attribute__((tls_model("initial-exec")));

uintptr_t shim_trap_caller(void) {
    return trap_caller;
}

void shim_set_trap_caller(uintptr_t caller) {
    trap_caller = caller;
}

/* MOONSHIM_STREAM_SEED, reserved at start-up with room for 16 hex digits: a forked child writes
 * its derived seed there in place (no malloc: glibc holds its allocator locks across fork), so a
 * program it execs draws from the child's streams, not the parent's. */
static char *stream_seed_text;

static void reserve_stream_seed_variable(void) {
    if (!getenv("MOONSHIM_STREAM_SEED")) setenv("MOONSHIM_STREAM_SEED", "0000000000000000", 1);
    stream_seed_text = getenv("MOONSHIM_STREAM_SEED");
    if (stream_seed_text && strlen(stream_seed_text) != 16) stream_seed_text = 0;
}

static void write_stream_seed(uint64_t seed) {
    static const char hex[] = "0123456789abcdef";
    if (!stream_seed_text) return;
    for (int i = 15; i >= 0; i--, seed >>= 4) stream_seed_text[i] = hex[seed & 15];
}

/* The process tree. Each process of a run has a path: "" for the first, "N" for its N-th child
 * (forked or spawned, counting from 1), "N.M" for that child's M-th, and so on: a function of
 * the run, not of real pids. It names the process's trace file (MOONSHIM_TRACE, then "." and the
 * path) and travels to exec'd images in MOONSHIM_PROCESS; MOONSHIM_OWNER_PID says which pid the
 * path belongs to, so an image that pid execs continues the process's trace and one spawned
 * (whose pid the parent cannot know in advance) starts its own. Both variables are reserved at
 * start-up with room to spare and written in place after a fork (no malloc across fork). */
#define PROCESS_PATH_MAX 63
#define OWNER_PID_MAX 20
static char process_path[PROCESS_PATH_MAX + 1];
static char *process_path_text;
static char *owner_pid_text;

static void write_in_place(char *text, size_t capacity, const char *value) {
    if (!text) return;
    size_t length = strlen(value);
    if (length > capacity) length = capacity;
    memcpy(text, value, length);
    text[length] = 0;
}

static char *reserve_variable(const char *name, size_t capacity, const char *value) {
    char filler[PROCESS_PATH_MAX + 1];
    memset(filler, 'x', capacity);
    filler[capacity] = 0;
    if (setenv(name, filler, 1) != 0) return 0;
    char *text = getenv(name);
    if (text && strlen(text) != capacity) text = 0;
    write_in_place(text, capacity, value);
    return text;
}

/* "path.N" (or "N" for the first process) into `out`. */
static void child_path(uint64_t number, char *out) {
    struct sched_text text;
    sched_text_init(&text, out, PROCESS_PATH_MAX + 1);
    if (process_path[0]) {
        sched_text_str(&text, process_path);
        sched_text_char(&text, '.');
    }
    sched_text_u64(&text, number);
}

const char *shim_process_path(void) {
    return process_path;
}

/* A crash is the node's (the first process's): children do not crash or get terminated on
 * their own; they go down with it (shim_crash kills them) or as their parent decides. */
static void shim_config_for_child(struct sched_config *config) {
    config->process_crash_at_call = 0;
    config->process_crash_at_ns = 0;
    config->process_crash_probability = 0;
    config->process_terminate_at_ns = 0;
    config->process_terminate_probability = 0;
}

void shim_after_fork_child(void) {
    /* Only the forking thread exists in the child; the core must forget the others, and the
     * child writes its own trace, not the parent's (nor the report, which is the run's). The lock
     * may have been held by another thread of the parent at the fork: the child starts it free. */
    core_lock = 0;
    char path[PROCESS_PATH_MAX + 1];
    child_path(core.forks + 1, path);
    write_stream_seed(sched_core_after_fork(&core, (uint32_t)shim_thread_self()));
    memcpy(process_path, path, sizeof(path));
    write_in_place(process_path_text, PROCESS_PATH_MAX, path);
    char pid[24];
    struct sched_text text;
    sched_text_init(&text, pid, sizeof(pid));
    sched_text_i64(&text, shim_syscall0(SYS_getpid));
    write_in_place(owner_pid_text, OWNER_PID_MAX, pid);
    shim_thread_note_tid();
    shim_process_forget_children();
    shim_process_identity((int)core.config.process_virtual_pids, process_path);
    shim_file_after_fork_child();
    shim_config_for_child(&core.config);
    shim_trace_start_in_child(process_path);
    shim_signals_after_fork_child();
    /* The watchdog thread did not survive the fork. */
    shim_thread_try_start_watchdog(core.config.threads_stall_timeout_ns);
}

/* A vfork-style child (posix_spawn, system) shares our memory until it execs: the program it
 * execs finds its own seed in the variable, which the parent puts back afterwards. */
static char spawn_saved[17];
static char spawn_saved_owner[OWNER_PID_MAX + 1];

void shim_before_spawn(void) {
    lock_core();
    uint64_t child_seed = sched_core_child_seed(&core);
    char path[PROCESS_PATH_MAX + 1];
    child_path(core.forks + 1, path);
    unlock_core();
    if (stream_seed_text) memcpy(spawn_saved, stream_seed_text, 17);
    write_stream_seed(child_seed);
    write_in_place(process_path_text, PROCESS_PATH_MAX, path);
    if (owner_pid_text) memcpy(spawn_saved_owner, owner_pid_text, sizeof(spawn_saved_owner));
    write_in_place(owner_pid_text, OWNER_PID_MAX, "0");
}

long shim_after_spawn(long child) {
    if (stream_seed_text) memcpy(stream_seed_text, spawn_saved, 17);
    write_in_place(process_path_text, PROCESS_PATH_MAX, process_path);
    if (owner_pid_text) memcpy(owner_pid_text, spawn_saved_owner, sizeof(spawn_saved_owner));
    return child > 0 ? shim_after_fork_parent(child) : child;
}

long shim_after_fork_parent(long child) {
    char path[PROCESS_PATH_MAX + 1];
    lock_core();
    child_path(core.forks + 1, path);
    sched_core_forked(&core);
    unlock_core();
    shim_process_child_started(child);
    return shim_process_child_virtual(child, path);
}

int64_t shim_clock_read(uint32_t call, enum sched_clock_kind kind, int64_t detail) {
    struct sched_request request = {.kind = SCHED_REQ_CLOCK_READ, .call = call,
                                    .arg = {kind, detail}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    return (int64_t)decision.value;
}

/* A sleep's end as a monotonic instant (SCHED_DEADLINE_NEVER for never). */
int64_t shim_monotonic_deadline(int64_t value, int64_t mode) {
    if (value == SCHED_DEADLINE_NEVER) return SCHED_DEADLINE_NEVER;
    int64_t now = core.clock.monotonic_ns, base = 0;
    switch (mode) {
    case SCHED_SLEEP_RELATIVE: base = now; break;
    case SCHED_CLOCK_MONOTONIC: base = 0; break;
    case SCHED_CLOCK_REALTIME: base = -core.clock.realtime_offset_ns; break;
    case SCHED_CLOCK_TAI: base = -core.clock.realtime_offset_ns - 37 * 1000000000ll; break;
    default: return SCHED_DEADLINE_NEVER;
    }
    int64_t deadline;
    if (__builtin_add_overflow(base, value, &deadline)) return SCHED_DEADLINE_NEVER;
    return deadline;
}

int shim_sleep(uint32_t call, int64_t value, int64_t mode, const char *what) {
    shim_thread_note_wait(what);
    /* A signal timer (alarm, setitimer) that expires first, or a signal another thread sends
     * this one (SCHED_RESULT_INTERRUPTED), ends the sleep with EINTR when the thread can take
     * the signal; otherwise the sleep goes on to its deadline. */
    int64_t deadline = shim_monotonic_deadline(value, mode);
    for (;;) {
        int64_t timer = shim_signals_next_timer();
        int capped = timer != SCHED_DEADLINE_NEVER && timer < deadline;
        struct sched_request request = {.kind = SCHED_REQ_SLEEP, .call = call,
                                        .arg = {capped ? timer : value,
                                                capped ? SCHED_CLOCK_MONOTONIC : mode}};
        struct sched_decision decision;
        shim_decide(&request, &decision);
        int interrupted = decision.result == SCHED_RESULT_INTERRUPTED;
        if (!interrupted && !capped) return 0;
        shim_signals_fire_due();
        if (shim_signals_deliverable_here()) return -EINTR;
        if (core.clock.monotonic_ns >= deadline) return 0;
        value = deadline;
        mode = SCHED_CLOCK_MONOTONIC;
    }
}

void shim_random_fill(uint32_t call, void *buffer, size_t length) {
    struct sched_request request = {.kind = SCHED_REQ_RANDOM, .call = call,
                                    .arg = {(int64_t)length, 0}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    struct sched_prng expansion;
    sched_prng_seed(&expansion, decision.value);
    sched_prng_fill(&expansion, buffer, length);
}

void shim_record_no_switch(uint32_t call, int64_t arg0, int64_t arg1, int64_t result) {
    struct sched_request request = {.kind = SCHED_REQ_RECORD, .call = call, .arg = {arg0, arg1},
                                    .result = result};
    struct sched_decision decision;
    shim_decide_no_switch(&request, &decision);
}

void shim_record(uint32_t call, int64_t arg0, int64_t arg1, int64_t result) {
    struct sched_request request = {.kind = SCHED_REQ_RECORD, .call = call, .arg = {arg0, arg1},
                                    .result = result};
    struct sched_decision decision;
    shim_decide(&request, &decision);
}

/* Start-up errors happen before there is a run: one line, status 2, nothing else. */
_Noreturn static void startup_error(const char *source, const char *line_word,
                                    const struct sched_config_error *error, const char *detail) {
    char line[512];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    sched_text_str(&text, "moonshim: ");
    sched_text_str(&text, source);
    if (error && error->line > 0) {
        sched_text_str(&text, line_word);
        sched_text_i64(&text, error->line);
    }
    sched_text_str(&text, ": ");
    if (error) {
        sched_text_str(&text, error->message);
        if (error->key[0]) {
            sched_text_str(&text, " '");
            sched_text_str(&text, error->key);
            sched_text_char(&text, '\'');
        }
    }
    if (detail) sched_text_str(&text, detail);
    sched_text_char(&text, '\n');
    shim_write_all(STDERR_FILENO, line, text.length);
    shim_exit(SHIM_EXIT_CONFIG);
}

static void load_config_file(struct sched_config *config, const char *path) {
    static char contents[CONFIG_FILE_MAX];
    char source[300];
    struct sched_text text;
    sched_text_init(&text, source, sizeof(source));
    sched_text_str(&text, path);
    int fd = (int)shim_syscall4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) startup_error(source, ":", 0, "cannot open the config file (MOONSHIM_CONFIG)");
    size_t length = 0;
    for (;;) {
        long got = shim_syscall3(SYS_read, fd, contents + length, sizeof(contents) - length);
        if (got == -EINTR) continue;
        if (got < 0) startup_error(source, ":", 0, "cannot read the config file (MOONSHIM_CONFIG)");
        if (got == 0) break;
        length += (size_t)got;
        if (length == sizeof(contents)) startup_error(source, ":", 0, "config file larger than 1 MiB");
    }
    shim_syscall1(SYS_close, fd);
    struct sched_config_error error;
    if (sched_config_try_parse_ini(config, contents, length, &error) != 0)
        startup_error(source, ":", &error, 0);
}

static uint64_t choose_seed(void) {
    const char *text = getenv("MOONSHIM_SEED");
    uint64_t seed = 0;
    if (text && *text) {
        if (sched_text_parse_u64(text, &seed) != 0)
            startup_error("MOONSHIM_SEED", "", 0,
                          "not a seed (an unsigned 64-bit number, decimal or 0x-hex)");
        seed_was_given = 1;
        /* A process restarted after a simulated crash draws from streams of its own, or it would
         * crash at the same moment forever: the incarnation number is mixed into the seed. */
        const char *incarnation_text = getenv("MOONSHIM_INCARNATION");
        uint64_t incarnation = 0;
        if (incarnation_text && sched_text_parse_u64(incarnation_text, &incarnation) == 0 &&
            incarnation > 0) {
            uint64_t mix = seed ^ (incarnation * 0x9e3779b97f4a7c15ull);
            run_seed_mixed = sched_splitmix64(&mix);
            run_incarnation = incarnation;
        }
        return seed;
    }
    /* No seed given: draw one from the real kernel (the filter is not loaded yet) and say which,
     * so the run can still be replayed. */
    if (shim_syscall3(SYS_getrandom, &seed, sizeof(seed), 0) != (long)sizeof(seed)) seed = 0;
    return seed;
}

static void start_failed(const char *what, int error) {
    char message[160];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "cannot start: ");
    sched_text_str(&text, what);
    sched_text_str(&text, " failed with errno ");
    sched_text_i64(&text, -error);
    shim_fatal(SHIM_EXIT_SIMULATION, "startup", message);
}

/* storage.swarm: say which fault families the seed turned on, and how strong (per million). */
static void say_swarm(const struct sched_config *config) {
    static const struct {
        const char *name;
        size_t offset;
    } families[] = {
        {"read_corruption", offsetof(struct sched_config, storage_read_corruption)},
        {"write_corruption", offsetof(struct sched_config, storage_write_corruption)},
        {"misdirected_read", offsetof(struct sched_config, storage_misdirected_read)},
        {"misdirected_write", offsetof(struct sched_config, storage_misdirected_write)},
        {"phantom_write", offsetof(struct sched_config, storage_phantom_write)},
        {"sync_failure", offsetof(struct sched_config, storage_sync_failure)},
        {"write_error", offsetof(struct sched_config, storage_write_error)},
        {"short_write", offsetof(struct sched_config, storage_short_write)},
        {"stall", offsetof(struct sched_config, storage_stall)},
    };
    char message[512];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "storage.swarm chose (per million operations):");
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        int64_t q32 = *(const int64_t *)(const void *)((const char *)config + families[i].offset);
        sched_text_char(&text, ' ');
        sched_text_str(&text, families[i].name);
        sched_text_char(&text, '=');
        sched_text_i64(&text, (int64_t)(((__int128)q32 * 1000000) >> 32));
    }
    shim_say(message);
}

static void say_network_swarm(struct sched_config *config) {
    char message[512];
    struct sched_text text;
    sched_text_init(&text, message, sizeof(message));
    sched_text_str(&text, "network.swarm chose (per million operations):");
    const char *name;
    int64_t *rate;
    for (int i = 0; (rate = fault_network_family(config, i, &name)) != 0; i++) {
        sched_text_char(&text, ' ');
        sched_text_str(&text, name);
        sched_text_char(&text, '=');
        sched_text_i64(&text, (int64_t)(((__int128)*rate * 1000000) >> 32));
    }
    shim_say(message);
}

/* Which process of the run this image is (see shim_after_fork_child): its path, and whether it
 * continues a trace (an image the process's own pid execs, or a restarted incarnation). The
 * first process of the run also writes the report. Returns 1 for the first process. */
static int find_process(int *continuing) {
    const char *owner = getenv("MOONSHIM_OWNER_PID");
    const char *path = getenv("MOONSHIM_PROCESS");
    const char *incarnation = getenv("MOONSHIM_INCARNATION");
    uint64_t owner_pid = 0;
    process_path[0] = 0;
    if (path && strlen(path) <= PROCESS_PATH_MAX) memcpy(process_path, path, strlen(path) + 1);
    /* A restarted incarnation adds to the trace of the ones before it. */
    *continuing = incarnation && *incarnation && strcmp(incarnation, "0") != 0;
    if (owner && sched_text_parse_u64(owner, &owner_pid) == 0 &&
        (long)owner_pid == shim_syscall0(SYS_getpid))
        *continuing = 1;
    return process_path[0] == 0;
}

static void reserve_process_variables(void) {
    char pid[24];
    struct sched_text text;
    sched_text_init(&text, pid, sizeof(pid));
    sched_text_i64(&text, shim_syscall0(SYS_getpid));
    owner_pid_text = reserve_variable("MOONSHIM_OWNER_PID", OWNER_PID_MAX, pid);
    process_path_text = reserve_variable("MOONSHIM_PROCESS", PROCESS_PATH_MAX, process_path);
}

/* MOONSHIM_TRACE, then "." and the process path for every process but the first. */
const char *shim_trace_path_for(const char *path, char *buffer, size_t size) {
    const char *base = getenv("MOONSHIM_TRACE");
    if (!base || !*base) return 0;
    if (!path[0]) return base;
    struct sched_text text;
    sched_text_init(&text, buffer, size);
    sched_text_str(&text, base);
    sched_text_char(&text, '.');
    sched_text_str(&text, path);
    return buffer;
}

static void initialize(void) {
    /* A filter inherited across execve already traps every intercepted call that does not come
     * from the stub page, this start-up's own included. So: the stub page first, then the core
     * (environment and config need no libc call that could trap), the trace, and the SIGSYS
     * handler, before any libc call that might make a trapped syscall (glibc's first malloc calls
     * getrandom). */
    int stub = shim_stub_try_install();
    shim_thread_init_main();
    struct sched_config config;
    sched_config_defaults(&config);
    const char *config_path = getenv("MOONSHIM_CONFIG");
    if (config_path && *config_path) load_config_file(&config, config_path);
    const char *faults = getenv("MOONSHIM_FAULTS");
    struct sched_config_error error;
    if (faults && sched_config_try_parse_overrides(&config, faults, &error) != 0)
        startup_error("MOONSHIM_FAULTS", " item ", &error, 0);
    uint64_t seed = choose_seed();
    sched_core_init(&core, run_incarnation ? run_seed_mixed : seed, &config);
    core.seed = seed; /* reported as given; the streams use the mixed value */
    int continuing = 0, result = 0;
    int first = find_process(&continuing);
    if (!first) shim_config_for_child(&core.config);
    if (first) {
        result = shim_report_try_open(getenv("MOONSHIM_REPORT"));
        if (result < 0) startup_error("MOONSHIM_REPORT", "", 0, "cannot open the report file");
    }
    char trace_path[PATH_MAX];
    result = shim_trace_try_open(shim_trace_path_for(process_path, trace_path, sizeof(trace_path)),
                                 continuing);
    if (result < 0) startup_error("MOONSHIM_TRACE", "", 0, "cannot open the trace file");
    if (stub < 0) start_failed("mapping the syscall stub page", stub);
    shim_trace_header(continuing);
    if ((result = shim_signals_try_install()) < 0) start_failed("installing the SIGSYS handler", result);
    reserve_process_variables();
    shim_process_identity((int)config.process_virtual_pids, process_path);

    if (core.config.process_terminate_at_ns > 0)
        shim_signals_arm_terminate_at(core.clock.monotonic_ns + core.config.process_terminate_at_ns);
    /* An image this process execs goes on where the last one stopped: its clock, its timers. */
    int64_t carried[SHIM_EXEC_STATE_COUNT];
    if (continuing && shim_process_read_exec_state(carried) == 0) {
        if (carried[0] > core.clock.monotonic_ns && carried[0] <= core.clock.monotonic_limit_ns)
            sched_clock_advance_to(&core.clock, carried[0]);
        shim_signals_restore_exec_state(carried + 1);
        if (carried[3] != 0) core.terminated = 1; /* asked to stop already: not twice */
    }
    /* A process started by execve from a simulated child draws from that child's streams. */
    const char *inherited = getenv("MOONSHIM_STREAM_SEED");
    uint64_t stream_seed = 0;
    /* A child's image (spawned, or exec'd by a forked child) draws from the child's streams;
     * the first process's exec'd images go on from the seed's. */
    if ((!continuing || process_path[0]) && inherited && strlen(inherited) == 16) {
        char prefixed[19] = "0x";
        memcpy(prefixed + 2, inherited, 17);
        if (sched_text_parse_u64(prefixed, &stream_seed) == 0 && stream_seed != 0)
            sched_core_reseed_streams(&core, stream_seed);
    }
    reserve_stream_seed_variable();
    /* What an execve must keep (process.c), once every variable has its final place. */
    Dl_info self_info;
    shim_process_remember_environment(
        dladdr((void *)(uintptr_t)shim_ensure_init, &self_info) ? self_info.dli_fname : 0);
    shim_thread_init_main();
    if (config.threads_pin && (result = shim_thread_try_pin()) < 0) start_failed("pinning to one CPU", result);
    if (!seed_was_given) shim_say("MOONSHIM_SEED is not set; this run uses the seed shown");
    if ((result = shim_file_try_init(config.storage_paths)) < 0) start_failed("setting up storage", result);
    if (core.config.storage_swarm) say_swarm(&core.config);
    if (core.config.network_swarm) say_network_swarm(&core.config);
    if ((result = shim_vdso_try_patch()) < 0) start_failed("patching the vDSO", result);
    if ((result = shim_seccomp_try_install()) < 0) start_failed("loading the seccomp filter", result);
    if ((result = shim_thread_try_start_watchdog(config.threads_stall_timeout_ns)) < 0)
        start_failed("starting the stall watchdog", result);
    shim_record(SHIM_CALL_START, SCHED_PROTOCOL_VERSION, 0, 0);
    shim_random_rewrite_at_random();
}

void shim_ensure_init(void) {
    if (__builtin_expect(shim_initialized == 2, 1)) return;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&shim_initialized, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return; /* running already (a call made by start-up itself), or done */
    initialize();
    __atomic_store_n(&shim_initialized, 2, __ATOMIC_RELEASE);
}

__attribute__((constructor(101))) static void shim_constructor(void) {
    shim_ensure_init();
}

const struct sched_core *shim_core(void) {
    return &core;
}
