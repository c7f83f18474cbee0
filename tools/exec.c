/* exec.c: `moonshim exec`: run one program under the shim, report its seed and hash, and with
 * --verify run it twice and compare.
 *
 * The tool validates the configuration itself (with the core's parser) so a bad key is reported
 * before anything runs, refuses programs the shim cannot reach, turns ASLR off for the child, and
 * reads the one-line report the shim writes at exit (MOONSHIM_REPORT) to learn the hash. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../scheduler/text.h"
#include "tool.h"

#ifndef MOONSHIM_INSTALLED_LIBRARY
#define MOONSHIM_INSTALLED_LIBRARY "/usr/local/lib/libmoonshim.so"
#endif

static const char usage[] =
    "usage: moonshim exec [--seed N] [--trace FILE] [--verify] [--config FILE]\n"
    "                     [--faults KEY=VALUE,...] [--restarts K] [--check COMMAND] [--quiet]\n"
    "                     -- PROGRAM [ARGS...]\n";

/* The shim next to this executable in a build tree, else the installed one. */
static int find_library(char *path, size_t size) {
    const char *forced = getenv("MOONSHIM_LIBRARY");
    if (forced && *forced) {
        snprintf(path, size, "%s", forced);
        return access(path, R_OK);
    }
    char self[PATH_MAX - 64];
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (length > 0) {
        self[length] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        snprintf(path, size, "%s/../shim/libmoonshim.so", self);
        if (access(path, R_OK) == 0) return 0;
    }
    snprintf(path, size, "%s", MOONSHIM_INSTALLED_LIBRARY);
    return access(path, R_OK);
}

void tool_print_config_error(const char *source, const char *line_word,
                             const struct sched_config_error *error) {
    fprintf(stderr, "moonshim: %s", source);
    if (error->line > 0) fprintf(stderr, "%s%d", line_word, error->line);
    fprintf(stderr, ": %s", error->message);
    if (error->key[0]) fprintf(stderr, " '%s'", error->key);
    fputc('\n', stderr);
}

/* Parses the config file and the overrides exactly as the shim will. 0, or -1 after saying why. */
static int validate_config(const struct tool_exec_options *options) {
    struct sched_config config;
    struct sched_config_error error;
    sched_config_defaults(&config);
    if (options->config_path) {
        FILE *file = fopen(options->config_path, "r");
        if (!file) {
            fprintf(stderr, "moonshim: %s: %s\n", options->config_path, strerror(errno));
            return -1;
        }
        static char text[1 << 20];
        size_t length = fread(text, 1, sizeof(text), file);
        fclose(file);
        if (sched_config_try_parse_ini(&config, text, length, &error) != 0) {
            tool_print_config_error(options->config_path, ":", &error);
            return -1;
        }
    }
    if (options->faults && sched_config_try_parse_overrides(&config, options->faults, &error) != 0) {
        tool_print_config_error("--faults", " item ", &error);
        return -1;
    }
    return 0;
}

static void read_string_field(const char *json, const char *name, char *out, size_t size) {
    char pattern[40];
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", name);
    const char *at = strstr(json, pattern);
    out[0] = '\0';
    if (!at) return;
    at += strlen(pattern);
    size_t length = 0;
    while (at[length] && at[length] != '"' && length + 1 < size) {
        if (at[length] == '\\' && at[length + 1]) at++;
        out[length] = at[length];
        length++;
    }
    out[length] = '\0';
}

static int64_t read_number_field(const char *json, const char *name) {
    char pattern[40];
    snprintf(pattern, sizeof(pattern), "\"%s\":", name);
    const char *at = strstr(json, pattern);
    return at ? strtoll(at + strlen(pattern), 0, 10) : 0;
}

static void read_report(const char *path, struct tool_run *run) {
    char line[2048] = "";
    FILE *file = fopen(path, "r");
    if (file) {
        if (!fgets(line, sizeof(line), file)) line[0] = '\0';
        fclose(file);
    }
    run->have_report = line[0] == '{';
    if (!run->have_report) return;
    read_string_field(line, "end", run->end, sizeof(run->end));
    read_string_field(line, "error", run->error, sizeof(run->error));
    read_string_field(line, "message", run->message, sizeof(run->message));
    char hash[32];
    read_string_field(line, "hash", hash, sizeof(hash));
    run->hash = strtoull(hash, 0, 16);
    run->status = read_number_field(line, "status");
    run->seed = strtoull(strstr(line, "\"seed\":") ? strstr(line, "\"seed\":") + 7 : "0", 0, 10);
    run->events = (uint64_t)read_number_field(line, "events");
    run->virtual_ns = read_number_field(line, "elapsed");
}

static void child_environment(const struct tool_exec_options *options, const char *library,
                              const char *trace, const char *report) {
    char seed[32];
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)options->seed);
    setenv("MOONSHIM_SEED", seed, 1);
    setenv("MOONSHIM_REPORT", report, 1);
    unsetenv("MOONSHIM_OWNER_PID"); /* the child starts a run of its own (nested moonshim) */
    unsetenv("MOONSHIM_STREAM_SEED");
    unsetenv("MOONSHIM_PROCESS");
    unsetenv("MOONSHIM_EXEC_STATE");
    if (trace) setenv("MOONSHIM_TRACE", trace, 1);
    else unsetenv("MOONSHIM_TRACE");
    if (options->config_path) setenv("MOONSHIM_CONFIG", options->config_path, 1);
    if (options->faults) setenv("MOONSHIM_FAULTS", options->faults, 1);
    char incarnation[24];
    snprintf(incarnation, sizeof(incarnation), "%llu", (unsigned long long)options->incarnation);
    if (options->incarnation) setenv("MOONSHIM_INCARNATION", incarnation, 1);
    else unsetenv("MOONSHIM_INCARNATION");
    const char *existing = getenv("LD_PRELOAD");
    char preload[PATH_MAX * 2];
    if (existing && *existing) snprintf(preload, sizeof(preload), "%s:%s", library, existing);
    else snprintf(preload, sizeof(preload), "%s", library);
    setenv("LD_PRELOAD", preload, 1);
}

/* The program being run, for forward_signal(). */
static volatile pid_t running_child;

/* SIGTERM, SIGINT, SIGHUP to the tool are meant for the program it runs. */
static void forward_signal(int signal_number) {
    if (running_child > 0) kill(running_child, signal_number);
}

static void forward_termination_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, 0);
    sigaction(SIGINT, &action, 0);
    sigaction(SIGHUP, &action, 0);
}

/* Runs the program once; fills *run. -1 when it could not even be started. */
static int run_once(const struct tool_exec_options *options, const char *program,
                    const char *library, const char *trace, struct tool_run *run) {
    char report[] = "/tmp/moonshim-report-XXXXXX";
    int report_fd = mkstemp(report);
    if (report_fd < 0) {
        perror("moonshim: mkstemp");
        return -1;
    }
    close(report_fd);
    memset(run, 0, sizeof(*run));
    pid_t child = fork();
    if (child < 0) {
        perror("moonshim: fork");
        unlink(report);
        return -1;
    }
    if (child == 0) {
        /* If the tool dies, so does the program: no daemon left holding its port. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Same seed, same addresses: ASLR would make pointer-derived values differ. */
        personality(ADDR_NO_RANDOMIZE);
        child_environment(options, library, trace, report);
        execv(program, options->argv);
        fprintf(stderr, "moonshim: cannot run %s: %s\n", program, strerror(errno));
        _exit(TOOL_EXIT_CANNOT_TEST);
    }
    running_child = child;
    while (waitpid(child, &run->wait_status, 0) < 0 && errno == EINTR) {}
    running_child = 0;
    read_report(report, run);
    unlink(report);
    return 0;
}

static void print_replay(const struct tool_exec_options *options) {
    fprintf(stderr, "moonshim: replay: moonshim exec --seed %llu", (unsigned long long)options->seed);
    if (options->config_path) fprintf(stderr, " --config %s", options->config_path);
    if (options->faults) fprintf(stderr, " --faults '%s'", options->faults);
    if (options->restarts) fprintf(stderr, " --restarts %d", options->restarts);
    if (options->check) fprintf(stderr, " --check '%s'", options->check);
    fprintf(stderr, " --");
    for (char *const *arg = options->argv; *arg; arg++) fprintf(stderr, " %s", *arg);
    fputc('\n', stderr);
}

/* Reports one run and maps it to the tool's exit status. */
static int conclude(const struct tool_exec_options *options, const struct tool_run *run) {
    unsigned long long seed = (unsigned long long)options->seed;
    if (run->have_report && strcmp(run->end, "crash") == 0) {
        if (!options->quiet)
            fprintf(stderr, "moonshim: seed %llu: incarnation %llu: %s after %llu events, %.6f "
                            "virtual s\n", seed, (unsigned long long)options->incarnation,
                    run->message, (unsigned long long)run->events, (double)run->virtual_ns / 1e9);
        return TOOL_EXIT_PASS; /* a crash the configuration asked for is not a failure */
    }
    if (WIFSIGNALED(run->wait_status)) {
        fprintf(stderr, "moonshim: seed %llu: the program was killed by signal %d (%s)\n", seed,
                WTERMSIG(run->wait_status), strsignal(WTERMSIG(run->wait_status)));
        print_replay(options);
        return TOOL_EXIT_FAIL;
    }
    int code = WEXITSTATUS(run->wait_status);
    if (!run->have_report) {
        if (code == TOOL_EXIT_CANNOT_TEST) return TOOL_EXIT_CANNOT_TEST;
        fprintf(stderr, "moonshim: seed %llu: the program exited %d before the shim could report "
                        "(a configuration error, or an exit the shim did not see)\n", seed, code);
        return code == 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_SIMULATION;
    }
    if (strcmp(run->end, "error") == 0) {
        /* The shim has already said why, on the program's stderr. */
        fprintf(stderr, "moonshim: seed %llu: simulation stopped (%s)\n", seed, run->error);
        print_replay(options);
        return TOOL_EXIT_SIMULATION;
    }
    if (!options->quiet || code != 0)
        fprintf(stderr, "moonshim: seed %llu: exit %d, %llu events, %.6f virtual s, hash "
                        "0x%016llx\n", seed, code, (unsigned long long)run->events,
                (double)run->virtual_ns / 1e9, (unsigned long long)run->hash);
    if (code != 0) {
        print_replay(options);
        return TOOL_EXIT_FAIL;
    }
    return TOOL_EXIT_PASS;
}

/* Runs the program; after each simulated crash, runs it again as the next incarnation (up to
 * --restarts times); then runs --check without the shim. The check decides the outcome. */
static int run_with_restarts(struct tool_exec_options *options, const char *program,
                             const char *library) {
    struct tool_run run;
    int status = TOOL_EXIT_PASS;
    for (options->incarnation = 0;; options->incarnation++) {
        if (run_once(options, program, library, options->trace_path, &run) != 0)
            return TOOL_EXIT_CANNOT_TEST;
        status = conclude(options, &run);
        int crashed = run.have_report && strcmp(run.end, "crash") == 0;
        if (!crashed || options->incarnation >= (uint64_t)options->restarts) break;
    }
    if (!options->check || status == TOOL_EXIT_SIMULATION || status == TOOL_EXIT_CANNOT_TEST)
        return status;
    int check = system(options->check);
    int passed = check != -1 && WIFEXITED(check) && WEXITSTATUS(check) == 0;
    if (!passed) {
        fprintf(stderr, "moonshim: seed %llu: check failed (%s) after %llu incarnation(s)\n",
                (unsigned long long)options->seed, options->check,
                (unsigned long long)options->incarnation + 1);
        print_replay(options);
        return TOOL_EXIT_FAIL;
    }
    if (!options->quiet)
        fprintf(stderr, "moonshim: seed %llu: check passed after %llu incarnation(s)\n",
                (unsigned long long)options->seed, (unsigned long long)options->incarnation + 1);
    /* The check decides: a program that stopped on an error it reported (an injected EIO, say)
     * may be right to, as long as what it promised survived. */
    return TOOL_EXIT_PASS;
}

static int verify(struct tool_exec_options *options, const char *program, const char *library) {
    char first[PATH_MAX], second[PATH_MAX];
    char temporary[] = "/tmp/moonshim-verify-XXXXXX";
    if (!mkdtemp(temporary)) {
        perror("moonshim: mkdtemp");
        return TOOL_EXIT_CANNOT_TEST;
    }
    if (options->trace_path) snprintf(first, sizeof(first), "%s", options->trace_path);
    else snprintf(first, sizeof(first), "%s/run1.trace", temporary);
    snprintf(second, sizeof(second), "%s/run2.trace", temporary);
    struct tool_run runs[2];
    if (run_once(options, program, library, first, &runs[0]) != 0 ||
        run_once(options, program, library, second, &runs[1]) != 0)
        return TOOL_EXIT_CANNOT_TEST;
    int status = conclude(options, &runs[0]);
    int same = runs[0].have_report && runs[1].have_report && runs[0].hash == runs[1].hash &&
               runs[0].wait_status == runs[1].wait_status;
    if (same) {
        fprintf(stderr, "moonshim: verify: identical: 2 runs, hash 0x%016llx over %llu events\n",
                (unsigned long long)runs[0].hash, (unsigned long long)runs[0].events);
    } else {
        long line = 0;
        char line_a[1024], line_b[1024];
        int differ = tool_trace_first_difference(first, second, &line, line_a, line_b,
                                                 sizeof(line_a));
        fprintf(stderr, "moonshim: verify: NOT deterministic: hashes 0x%016llx and 0x%016llx\n",
                (unsigned long long)runs[0].hash, (unsigned long long)runs[1].hash);
        if (differ == 1)
            fprintf(stderr, "moonshim: verify: first divergent event, trace line %ld:\n"
                            "  run 1: %s\n  run 2: %s\n", line, line_a, line_b);
        status = TOOL_EXIT_SIMULATION;
    }
    if (!options->trace_path) unlink(first);
    unlink(second);
    /* The children's traces (run1.trace.1, run2.trace.2.1, ...) live there too. */
    DIR *directory = opendir(temporary);
    if (directory) {
        struct dirent *entry;
        char path[PATH_MAX];
        while ((entry = readdir(directory)) != 0) {
            if (entry->d_name[0] == '.') continue;
            snprintf(path, sizeof(path), "%s/%s", temporary, entry->d_name);
            unlink(path);
        }
        closedir(directory);
    }
    rmdir(temporary);
    return status;
}

static int parse_options(int argc, char **argv, struct tool_exec_options *options) {
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : 0;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-') break;
        if (strcmp(arg, "--verify") == 0) options->verify = 1;
        else if (strcmp(arg, "--quiet") == 0) options->quiet = 1;
        else if (!value) {
            fprintf(stderr, "moonshim exec: %s needs a value\n%s", arg, usage);
            return -1;
        } else if (strcmp(arg, "--seed") == 0) {
            if (sched_text_parse_u64(value, &options->seed) != 0) {
                fprintf(stderr, "moonshim exec: --seed '%s' is not an unsigned 64-bit number\n",
                        value);
                return -1;
            }
            options->seed_given = 1;
            i++;
        } else if (strcmp(arg, "--trace") == 0) options->trace_path = argv[++i];
        else if (strcmp(arg, "--config") == 0) options->config_path = argv[++i];
        else if (strcmp(arg, "--faults") == 0) options->faults = argv[++i];
        else if (strcmp(arg, "--check") == 0) options->check = argv[++i];
        else if (strcmp(arg, "--restarts") == 0) {
            char *end;
            long count = strtol(value, &end, 10);
            if (*end || count < 0 || count > 100000) {
                fprintf(stderr, "moonshim exec: --restarts '%s' is not a count\n", value);
                return -1;
            }
            options->restarts = (int)count;
            i++;
        }
        else {
            fprintf(stderr, "moonshim exec: unknown option '%s'\n%s", arg, usage);
            return -1;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "moonshim exec: no program given\n%s", usage);
        return -1;
    }
    options->argv = argv + i;
    return 0;
}

int tool_exec_main(int argc, char **argv) {
    struct tool_exec_options options = {0};
    if (parse_options(argc, argv, &options) != 0) return TOOL_EXIT_USAGE;
    if (!options.seed_given) {
        if (getrandom(&options.seed, sizeof(options.seed), 0) != sizeof(options.seed))
            options.seed = (uint64_t)getpid();
        fprintf(stderr, "moonshim: no --seed given; using seed %llu\n",
                (unsigned long long)options.seed);
    }
    if (validate_config(&options) != 0) return TOOL_EXIT_USAGE;
    char program[PATH_MAX], library[PATH_MAX + 64], reason[PATH_MAX + 200];
    if (tool_resolve_program(options.argv[0], program, sizeof(program)) != 0) {
        fprintf(stderr, "moonshim: %s: program not found\n", options.argv[0]);
        return TOOL_EXIT_CANNOT_TEST;
    }
    if (tool_check_binary(program, reason, sizeof(reason)) != 0) {
        fprintf(stderr, "moonshim: seed %llu: unsupported: %s\n", (unsigned long long)options.seed,
                reason);
        return TOOL_EXIT_SIMULATION;
    }
    if (find_library(library, sizeof(library)) != 0) {
        fprintf(stderr, "moonshim: cannot find libmoonshim.so (set MOONSHIM_LIBRARY)\n");
        return TOOL_EXIT_CANNOT_TEST;
    }
    forward_termination_signals();
    /* Every process of the run opens its trace by this name, each in its own working directory
     * (daemons chdir("/")): make it absolute once, here. */
    static char absolute_trace[PATH_MAX];
    if (options.trace_path && options.trace_path[0] != '/') {
        char here[PATH_MAX];
        if (getcwd(here, sizeof(here)) &&
            snprintf(absolute_trace, sizeof(absolute_trace), "%s/%s", here, options.trace_path) <
                (int)sizeof(absolute_trace))
            options.trace_path = absolute_trace;
    }
    if (options.verify) return verify(&options, program, library);
    return run_with_restarts(&options, program, library);
}
