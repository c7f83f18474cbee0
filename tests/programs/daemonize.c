/* daemonize.c: the classic daemon start-up under the shim. The launcher forks; the child calls
 * setsid and forks again; the grandchild (the daemon) changes to "/", closes every descriptor
 * (a loop up to 1024 and close_range), reopens stdio on /dev/null, writes a pid file, and
 * reports through a FIFO what it sees: virtual time, seeded randomness, its own pid file. The
 * shim's own descriptors must survive the close-all (the daemon is still simulated: its clock
 * reads the virtual epoch) and must never be handed to it (open returns the lowest free ones).
 * usage: daemonize DIR    (DIR: a directory for the FIFO and the pid file) */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pid_t launcher_session;

static void daemon_main(const char *fifo, const char *pid_file) {
    CHECK(chdir("/") == 0);
    for (int fd = 0; fd < 1024; fd++) close(fd);
    syscall(SYS_close_range, 3, ~0u, 0);
    CHECK(open("/dev/null", O_RDWR) == 0); /* the lowest free descriptor: 0 */
    CHECK(dup(0) == 1 && dup(0) == 2);
    int pid_fd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(pid_fd == 3);
    dprintf(pid_fd, "%d\n", getpid());
    close(pid_fd);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint32_t draw = 0;
    CHECK(getrandom(&draw, sizeof(draw), 0) == sizeof(draw));
    int out = open(fifo, O_WRONLY);
    CHECK(out >= 0);
    /* The second fork's child is in the new session but does not lead it (no terminal). */
    dprintf(out, "daemon: new session %d, leader %d, cwd /, stdio on /dev/null, time %lld, "
                 "draw %08x\n", getsid(0) != launcher_session, getsid(0) == getpid(),
            (long long)now.tv_sec, draw);
    /* `out` stays open: the launcher's end of file is this process's exit (its trace complete). */
    _exit(0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char fifo[512], pid_file[512];
    snprintf(fifo, sizeof(fifo), "%s/report.fifo", argv[1]);
    snprintf(pid_file, sizeof(pid_file), "%s/daemon.pid", argv[1]);
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    launcher_session = getsid(0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        CHECK(setsid() > 0);
        pid_t daemon = fork();
        CHECK(daemon >= 0);
        if (daemon == 0) daemon_main(fifo, pid_file);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *report = fopen(fifo, "r");
    CHECK(report != 0);
    char line[256];
    CHECK(fgets(line, sizeof(line), report) != 0);
    CHECK(fgetc(report) == EOF); /* the daemon has exited */
    fclose(report);
    if (!strstr(line, "new session 1, leader 0")) fprintf(stderr, "got: %s", line);
    CHECK(strstr(line, "new session 1, leader 0") != 0);
    CHECK(strstr(line, "time 1767225600") != 0); /* the virtual epoch: still simulated */
    FILE *pid = fopen(pid_file, "r");
    CHECK(pid != 0);
    int daemon_pid = 0;
    CHECK(fscanf(pid, "%d", &daemon_pid) == 1 && daemon_pid > 0);
    fclose(pid);
    unlink(fifo);
    unlink(pid_file);
    printf("%s", line);
    return 0;
}
