/* trace.c: the JSON-lines trace (MOONSHIM_TRACE) and the end-of-run report (MOONSHIM_REPORT).
 *
 * Trace: a header line (version, seed, configuration), one line per event (sequence, virtual
 * time, thread, call, arguments, result, value), and an end line with the event count and the
 * hash. Lines are built with sched_text (no stdio) into a buffer flushed with the stub, so this
 * runs inside the SIGSYS handler. The report is one line with the seed, the hash and how the run
 * ended, for the moonshim tool (or "stderr" for people). Both descriptors are the shim's own:
 * moved to the top of the fd range and hidden from the program. The hash itself is the core's and
 * is computed whether or not a trace is written. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "shim.h"

#define TRACE_BUFFER_SIZE 65536
#define TRACE_LINE_MAX 512
#define MOONSHIM_VERSION_TEXT "0.1.0"

static int trace_fd = -1;
static int report_fd = -1;
static int report_is_stderr;
static char trace_buffer[TRACE_BUFFER_SIZE];
static size_t trace_length;
static int trace_ended;
static int report_ended;

static void trace_flush(void) {
    if (trace_fd >= 0 && trace_length > 0) shim_write_all(trace_fd, trace_buffer, trace_length);
    trace_length = 0;
}

static void trace_append(const char *line, size_t length) {
    if (trace_fd < 0) return;
    if (trace_length + length > sizeof(trace_buffer)) trace_flush();
    memcpy(trace_buffer + trace_length, line, length);
    trace_length += length;
}

static int open_hidden(const char *path, int append) {
    int fd = (int)shim_syscall4(SYS_openat, AT_FDCWD, path,
                                O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                                0644);
    if (fd < 0) return fd;
    return shim_fd_try_hide(fd);
}

int shim_trace_try_open(const char *path, int append) {
    if (!path || !*path) return 0;
    int fd = open_hidden(path, append);
    if (fd < 0) return fd;
    trace_fd = fd;
    return 0;
}

int shim_report_try_open(const char *path) {
    if (!path || !*path) return 0;
    if (strcmp(path, "stderr") == 0) {
        report_is_stderr = 1;
        return 0;
    }
    int fd = open_hidden(path, 0);
    if (fd < 0) return fd;
    report_fd = fd;
    return 0;
}

void shim_trace_start_in_child(const char *process_path) {
    /* The child of a fork shares the descriptors but not the parent's trace: it writes a trace
     * of its own (opened onto the same hidden descriptor number) and no report. What the parent
     * had buffered is the parent's. */
    trace_length = 0;
    trace_ended = 0;
    report_fd = -1;
    report_is_stderr = 0;
    report_ended = 1;
    if (trace_fd < 0) return;
    char buffer[PATH_MAX];
    const char *path = shim_trace_path_for(process_path, buffer, sizeof(buffer));
    long fd = path ? shim_syscall4(SYS_openat, AT_FDCWD, path,
                                   O_WRONLY | O_CREAT | O_CLOEXEC | O_TRUNC, 0644)
                   : -ENOENT;
    if (fd < 0) {
        trace_fd = -1;
        return;
    }
    shim_syscall3(SYS_dup3, fd, trace_fd, O_CLOEXEC);
    shim_syscall1(SYS_close, fd);
    shim_trace_header(0);
}

void shim_trace_relocated(int old, int new_fd) {
    if (trace_fd == old) trace_fd = new_fd;
    if (report_fd == old) report_fd = new_fd;
}

void shim_trace_flush(void) {
    trace_flush();
}

void shim_trace_header(int continuing) {
    if (trace_fd < 0) return;
    char line[TRACE_LINE_MAX + 8192];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    sched_text_str(&text, "{\"moonshim\":\"" MOONSHIM_VERSION_TEXT "\",\"protocol\":");
    sched_text_u64(&text, SCHED_PROTOCOL_VERSION);
    sched_text_str(&text, ",\"seed\":");
    sched_text_u64(&text, shim_core()->seed);
    sched_text_str(&text, ",\"config\":");
    char config[8192];
    size_t length = sched_config_to_json(&shim_core()->config, config, sizeof(config));
    sched_text_str(&text, length ? config : "null");
    if (continuing) sched_text_str(&text, ",\"exec\":true");
    if (shim_process_path()[0]) {
        sched_text_str(&text, ",\"process\":\"");
        sched_text_str(&text, shim_process_path());
        sched_text_char(&text, '"');
    }
    sched_text_str(&text, "}\n");
    trace_append(line, text.length);
}

static const char *kind_name(uint32_t kind) {
    switch (kind) {
    case SCHED_REQ_CLOCK_READ: return "clock";
    case SCHED_REQ_SLEEP: return "sleep";
    case SCHED_REQ_RANDOM: return "random";
    case SCHED_REQ_RECORD: return "call";
    case SCHED_REQ_THREAD_CREATE: return "thread_create";
    case SCHED_REQ_THREAD_EXIT: return "thread_exit";
    case SCHED_REQ_FUTEX_WAIT: return "futex_wait";
    case SCHED_REQ_FUTEX_WAKE: return "futex_wake";
    case SCHED_REQ_FUTEX_REQUEUE: return "futex_requeue";
    case SCHED_REQ_FUTEX_WAKE_OP: return "futex_wake_op";
    case SCHED_REQ_STORAGE: return "storage";
    case SCHED_REQ_WAIT_EXTERNAL: return "wait_external";
    case SCHED_REQ_EXTERNAL_READY: return "external_ready";
    case SCHED_REQ_EXTERNAL_DONE: return "external_done";
    case SCHED_REQ_NETWORK: return "network";
    case SCHED_REQ_INTERRUPT: return "interrupt";
    default: return "unknown";
    }
}

/* The injected fault an event carries, or 0. */
static const char *fault_name(const struct sched_request *request,
                              const struct sched_decision *decision) {
    static const char *const verdicts[] = {0, "corrupt", "misdirect", "phantom", "sync_failure",
                                           "eio", "enospc", "short"};
    static const char *const network[] = {0, "refused", "hang", "fin", "rst", "half_open",
                                          "short", "bit_flip", "eintr", "spurious", "aborted",
                                          "emfile"};
    if (decision->flags & SCHED_DECISION_CRASH) return "crash";
    if (decision->flags & SCHED_DECISION_TERMINATE) return "terminate";
    /* process.terminate_grace ran out: the shim sends SIGKILL (arg1 = 1: the simulation's). */
    if (request->kind == SCHED_REQ_RECORD && request->call == SHIM_CALL_SIGNAL &&
        request->arg[0] == 9 && request->arg[1] == 1)
        return "kill";
    if (request->kind == SCHED_REQ_NETWORK) {
        if (decision->result <= 0 ||
            decision->result >= (int64_t)(sizeof(network) / sizeof(*network)))
            return 0;
        return network[decision->result];
    }
    if (request->kind != SCHED_REQ_STORAGE) return 0;
    if (decision->result <= 0 || decision->result >= (int64_t)(sizeof(verdicts) / sizeof(*verdicts)))
        return 0;
    return verdicts[decision->result];
}

void shim_trace_event(const struct sched_request *request, const struct sched_decision *decision) {
    if (trace_fd < 0) return;
    char line[TRACE_LINE_MAX];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    sched_text_str(&text, "{\"seq\":");
    sched_text_u64(&text, decision->sequence);
    sched_text_str(&text, ",\"t\":");
    sched_text_i64(&text, decision->now_ns);
    sched_text_str(&text, ",\"tid\":");
    sched_text_u64(&text, request->thread);
    sched_text_str(&text, ",\"kind\":\"");
    sched_text_str(&text, kind_name(request->kind));
    sched_text_str(&text, "\",\"call\":\"");
    sched_text_str(&text, shim_call_name(request->call));
    sched_text_str(&text, "\",\"args\":[");
    sched_text_i64(&text, request->arg[0]);
    sched_text_char(&text, ',');
    sched_text_i64(&text, request->arg[1]);
    sched_text_char(&text, ',');
    sched_text_i64(&text, request->arg[2]);
    sched_text_char(&text, ',');
    sched_text_i64(&text, request->arg[3]);
    sched_text_str(&text, "],\"result\":");
    sched_text_i64(&text, decision->result);
    sched_text_str(&text, ",\"value\":");
    sched_text_u64(&text, decision->value);
    if (decision->next_thread != request->thread) {
        sched_text_str(&text, ",\"next\":");
        sched_text_u64(&text, decision->next_thread);
    }
    const char *fault = fault_name(request, decision);
    if (fault) {
        sched_text_str(&text, ",\"fault\":\"");
        sched_text_str(&text, fault);
        sched_text_char(&text, '"');
    }
    sched_text_str(&text, "}\n");
    trace_append(line, text.length);
}

static void append_end(struct sched_text *text, const char *reason, int64_t status,
                       const char *error) {
    const struct sched_core *core = shim_core();
    sched_text_str(text, "{\"end\":\"");
    sched_text_str(text, reason);
    sched_text_str(text, "\",\"status\":");
    sched_text_i64(text, status);
    if (error) {
        sched_text_str(text, ",\"error\":");
        sched_text_json_string(text, error);
    }
    sched_text_str(text, ",\"seed\":");
    sched_text_u64(text, core->seed);
    sched_text_str(text, ",\"events\":");
    sched_text_u64(text, core->events);
    sched_text_str(text, ",\"t\":");
    sched_text_i64(text, core->clock.monotonic_ns);
    sched_text_str(text, ",\"elapsed\":");
    sched_text_i64(text, core->clock.monotonic_ns - core->config.time_uptime_ns);
    sched_text_str(text, ",\"hash\":\"");
    sched_text_hex64(text, core->hash.value);
    sched_text_char(text, '"');
}

void shim_trace_end(const char *reason, int64_t status, const char *error) {
    if (trace_fd < 0 || trace_ended) return;
    trace_ended = 1;
    char line[TRACE_LINE_MAX];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    append_end(&text, reason, status, error);
    sched_text_str(&text, "}\n");
    trace_append(line, text.length);
    trace_flush();
}

void shim_report_end(const char *reason, int64_t status, const char *error, const char *message) {
    if (report_ended) return;
    report_ended = 1;
    char line[TRACE_LINE_MAX + 256];
    struct sched_text text;
    sched_text_init(&text, line, sizeof(line));
    if (report_is_stderr) {
        const struct sched_core *core = shim_core();
        sched_text_str(&text, "moonshim: seed ");
        sched_text_u64(&text, core->seed);
        sched_text_str(&text, ": ");
        sched_text_u64(&text, core->events);
        sched_text_str(&text, " events, hash ");
        sched_text_hex64(&text, core->hash.value);
        sched_text_str(&text, ", ");
        sched_text_str(&text, reason);
        sched_text_char(&text, ' ');
        sched_text_i64(&text, status);
        sched_text_char(&text, '\n');
        shim_write_all(STDERR_FILENO, line, text.length);
        return;
    }
    if (report_fd < 0) return;
    append_end(&text, reason, status, error);
    if (message) {
        sched_text_str(&text, ",\"message\":");
        sched_text_json_string(&text, message);
    }
    sched_text_str(&text, "}\n");
    shim_write_all(report_fd, line, text.length);
}
