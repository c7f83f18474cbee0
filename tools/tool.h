/* tool.h: what the files of the `moonshim` command share. */
#ifndef MOON_TOOL_H
#define MOON_TOOL_H

#include <stdint.h>

#include "../scheduler/config.h"

/* Exit statuses (DESIGN.md, fixed). */
#define TOOL_EXIT_PASS 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2
#define TOOL_EXIT_SIMULATION 3
#define TOOL_EXIT_CANNOT_TEST 125

/* How one run under the shim ended, from the report the shim writes and wait(). */
struct tool_run {
    int have_report;
    char end[16];         /* "exit" or "error" */
    char error[32];       /* the shim's error kind, when end is "error" */
    char message[256];
    int64_t status;       /* exit status the program (or the shim) asked for */
    uint64_t seed;
    uint64_t events;
    int64_t virtual_ns;   /* virtual time elapsed during the run */
    uint64_t hash;
    int wait_status;      /* as from waitpid */
};

struct tool_exec_options {
    uint64_t seed;
    int seed_given;
    const char *trace_path;
    const char *config_path;
    const char *faults;
    int verify;
    int quiet;
    int restarts;         /* restart after a simulated crash up to this many times */
    const char *check;    /* shell command run (without the shim) after the last run */
    uint64_t incarnation; /* set for each restart: MOONSHIM_INCARNATION */
    char *const *argv;    /* the program and its arguments */
};

int tool_exec_main(int argc, char **argv);
int tool_trace_main(int argc, char **argv);

/* elf_check.c: 0 when `path` can run under the shim, else -1 with a one-line reason. */
int tool_check_binary(const char *path, char *reason, size_t reason_size);
/* Finds `name` on PATH the way execvp would; writes the path. 0, or -1. */
int tool_resolve_program(const char *name, char *path, size_t path_size);

/* trace_diff.c: the first line at which two traces differ. Returns 0 when identical, 1 when they
 * differ (line number and both lines filled), -1 when a file cannot be read. */
int tool_trace_first_difference(const char *a, const char *b, long *line, char *line_a,
                                char *line_b, size_t line_size);

/* The error text the core's config parser produced, as one line on stderr. */
void tool_print_config_error(const char *source, const char *line_word,
                             const struct sched_config_error *error);

#endif
