/* child_streams.c: a forked child, a second forked child, and a program started with popen each
 * draw from streams of their own, derived deterministically from the parent's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static uint64_t draw(void) {
    uint64_t value;
    CHECK(getrandom(&value, sizeof(value), 0) == sizeof(value));
    return value;
}

/* Forks a child that reports its first draw through a pipe. */
static uint64_t child_draw(void) {
    int ends[2];
    CHECK(pipe(ends) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        uint64_t value = draw();
        CHECK(write(ends[1], &value, sizeof(value)) == sizeof(value));
        _exit(0);
    }
    close(ends[1]);
    /* Reap first: a child process is outside this simulation (until processes are simulated as
     * a tree), so waiting for its pipe would let wall time into virtual time. */
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    uint64_t value = 0;
    CHECK(read(ends[0], &value, sizeof(value)) == sizeof(value));
    close(ends[0]);
    return value;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "print") == 0) {
        printf("%016llx\n", (unsigned long long)draw());
        return 0;
    }
    uint64_t first_child = child_draw(), second_child = child_draw();
    uint64_t parent = draw();
    char command[512];
    snprintf(command, sizeof(command), "%s print", argv[0]);
    FILE *spawned = popen(command, "r");
    CHECK(spawned);
    char line[64] = "";
    CHECK(fgets(line, sizeof(line), spawned) != 0);
    CHECK(pclose(spawned) == 0);
    uint64_t exec_child = strtoull(line, 0, 16);
    printf("parent %016llx children %016llx %016llx exec %016llx\n", (unsigned long long)parent,
           (unsigned long long)first_child, (unsigned long long)second_child,
           (unsigned long long)exec_child);
    CHECK(first_child != second_child);
    CHECK(first_child != parent && second_child != parent);
    CHECK(exec_child != parent && exec_child != first_child && exec_child != second_child);
    return 0;
}
