/* exec_env.c: a program that execs with an environment of its own keeps running under the shim.
 *   exec_env clean          execve /bin/sh with only PATH set: the shell (and the date and od it
 *                           runs) still see virtual time and seeded bytes
 *   exec_env preload        execve with LD_PRELOAD replaced by something else: the shim is put
 *                           back in front of it
 *   exec_env static PATH    execv a statically linked program: refused with a diagnostic (it
 *                           could not load the shim, and the inherited filter would kill it) */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Runs the shell in a child with `env`; checks that what it prints comes from the simulation:
 * the virtual epoch's date. (The shell's own children are other processes, so when their exits
 * arrive is the kernel's business: only the output is compared, not the traces.) */
static void run_shell(char **env) {
    char *shell[] = {"/bin/sh", "-c", "date -u +%Y-%m-%dT%H; head -c 4 /dev/urandom | od -An -tx1", 0};
    int ends[2];
    CHECK(pipe(ends) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        dup2(ends[1], 1);
        execve("/bin/sh", shell, env);
        _exit(127);
    }
    close(ends[1]);
    char output[256] = {0};
    size_t length = 0;
    ssize_t got;
    while ((got = read(ends[0], output + length, sizeof(output) - 1 - length)) > 0) length += (size_t)got;
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strncmp(output, "2026-01-01T00\n", 14) == 0);
    printf("%s", output);
}

int main(int argc, char **argv) {
    CHECK(argc >= 2);
    if (strcmp(argv[1], "clean") == 0) {
        char *env[] = {"PATH=/usr/bin:/bin", 0};
        run_shell(env);
        return 0;
    } else if (strcmp(argv[1], "preload") == 0) {
        char *env[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=", 0};
        run_shell(env);
        return 0;
    } else if (strcmp(argv[1], "static") == 0 && argc == 3) {
        char *args[] = {argv[2], 0};
        execv(argv[2], args);
    }
    perror("exec");
    return 1;
}
