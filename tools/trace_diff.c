/* trace_diff.c: `moonshim trace diff A B`, and the first divergence that --verify reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void copy_line(char *out, size_t size, const char *line) {
    if (!line) {
        snprintf(out, size, "(end of trace)");
        return;
    }
    snprintf(out, size, "%s", line);
    out[strcspn(out, "\n")] = '\0';
}

int tool_trace_first_difference(const char *a, const char *b, long *line, char *line_a,
                                char *line_b, size_t line_size) {
    FILE *first = fopen(a, "r");
    FILE *second = fopen(b, "r");
    int result = -1;
    if (first && second) {
        char *text_a = 0, *text_b = 0;
        size_t size_a = 0, size_b = 0;
        result = 0;
        for (long number = 1;; number++) {
            ssize_t got_a = getline(&text_a, &size_a, first);
            ssize_t got_b = getline(&text_b, &size_b, second);
            if (got_a < 0 && got_b < 0) break;
            if (got_a >= 0 && got_b >= 0 && strcmp(text_a, text_b) == 0) continue;
            *line = number;
            copy_line(line_a, line_size, got_a >= 0 ? text_a : 0);
            copy_line(line_b, line_size, got_b >= 0 ? text_b : 0);
            result = 1;
            break;
        }
        free(text_a);
        free(text_b);
    }
    if (first) fclose(first);
    if (second) fclose(second);
    return result;
}

int tool_trace_main(int argc, char **argv) {
    if (argc != 4 || strcmp(argv[1], "diff") != 0) {
        fprintf(stderr, "usage: moonshim trace diff TRACE_A TRACE_B\n");
        return TOOL_EXIT_USAGE;
    }
    long line = 0;
    char line_a[1024], line_b[1024];
    int result = tool_trace_first_difference(argv[2], argv[3], &line, line_a, line_b,
                                             sizeof(line_a));
    if (result < 0) {
        fprintf(stderr, "moonshim: trace diff: cannot read %s or %s\n", argv[2], argv[3]);
        return TOOL_EXIT_USAGE;
    }
    if (result == 0) {
        printf("identical\n");
        return TOOL_EXIT_PASS;
    }
    printf("first difference at line %ld\n< %s\n> %s\n", line, line_a, line_b);
    return TOOL_EXIT_FAIL;
}
