/* main.c: the `moonshim` command: dispatch to its subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
    "usage: moonshim COMMAND ...\n"
    "  exec [--seed N] [--trace FILE] [--verify] [--config FILE] [--faults K=V,...] -- PROG ARGS\n"
    "                       run one program under the shim (exit 0 pass, 1 fail, 2 usage,\n"
    "                       3 simulation could not proceed, 125 cannot test)\n"
    "  trace diff A B       first line at which two traces differ\n"
    "  version              print the version\n"
    "Not yet implemented: run, sweep, bisect (see the project's issues).\n";

/* The core's assertion hook: the tool links the pure core for config validation. */
_Noreturn void moon_panic(const char *file, int line, const char *expression) {
    fprintf(stderr, "moonshim: internal error: assertion failed at %s:%d: %s\n", file, line,
            expression);
    abort();
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_PASS;
    }
    if (strcmp(argv[1], "exec") == 0) return tool_exec_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "trace") == 0) return tool_trace_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("moonshim %s\n", MOONSHIM_VERSION);
        return TOOL_EXIT_PASS;
    }
    fprintf(stderr, "moonshim: unknown command '%s'\n%s", argv[1], usage);
    return TOOL_EXIT_USAGE;
}
