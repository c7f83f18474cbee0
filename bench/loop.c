/* loop.c: a tight loop over one intercepted call, timed from outside by bench/run.sh.
 *
 * Usage: loop write|clock|getrandom|raw_clock|raise|fork N
 *   write      N write() calls of 1 byte to /dev/null (libc entry point, PLT)
 *   clock      N clock_gettime(CLOCK_MONOTONIC) calls (vDSO natively, the shim's replacement
 *              under libmoonshim.so)
 *   getrandom  N getrandom(buffer, 16, 0) calls (a real syscall natively)
 *   raise      N raise(SIGUSR1) with a handler installed: the handler runs before raise returns
 *              (natively the kernel runs it; under the shim the catcher queues it and the shim
 *              runs it at the end of the trapped tgkill)
 *   fork       N times fork, the child _exits at once, the parent waitpid()s it
 *   raw_clock  N syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ...) calls: bypasses the vDSO, so
 *              strace can see it and the shim's seccomp filter traps it
 *
 * The program never times itself: under the shim every clock is virtual, so only a clock outside
 * the process (hyperfine, date) measures real cost. It prints one checksum line so the compiler
 * cannot drop the loop, and fails (exit 1) on the first call that fails. N = 0 is allowed and is
 * how run.sh measures start-up cost, which it subtracts. Usage errors exit 2. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { RANDOM_BYTES = 16 };

/* Fails (returns -1 with a message) if /dev/null cannot be opened or a write is short. */
static int loop_write(uint64_t count, uint64_t *checksum) {
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "loop: open /dev/null: %s\n", strerror(errno));
        return -1;
    }
    for (uint64_t i = 0; i < count; i++) {
        ssize_t written = write(fd, "x", 1);
        if (written != 1) {
            fprintf(stderr, "loop: write returned %zd: %s\n", written, strerror(errno));
            close(fd);
            return -1;
        }
        *checksum += (uint64_t)written;
    }
    close(fd);
    return 0;
}

/* Fails if clock_gettime does; the libc path, which is the vDSO when no shim is loaded. */
static int loop_clock(uint64_t count, uint64_t *checksum) {
    struct timespec now;
    for (uint64_t i = 0; i < count; i++) {
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
            fprintf(stderr, "loop: clock_gettime: %s\n", strerror(errno));
            return -1;
        }
        *checksum += (uint64_t)now.tv_nsec;
    }
    return 0;
}

/* Fails if the raw syscall does. strace's injection (retval=0) leaves the timespec untouched,
 * so it is zeroed first to keep the checksum defined. */
static int loop_raw_clock(uint64_t count, uint64_t *checksum) {
    struct timespec now = {0, 0};
    for (uint64_t i = 0; i < count; i++) {
        if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now) != 0) {
            fprintf(stderr, "loop: SYS_clock_gettime: %s\n", strerror(errno));
            return -1;
        }
        *checksum += (uint64_t)now.tv_nsec;
    }
    return 0;
}

/* Fails if getrandom returns anything but the 16 bytes asked for. */
static int loop_getrandom(uint64_t count, uint64_t *checksum) {
    unsigned char buffer[RANDOM_BYTES] = {0};
    for (uint64_t i = 0; i < count; i++) {
        ssize_t got = getrandom(buffer, sizeof(buffer), 0);
        if (got != (ssize_t)sizeof(buffer)) {
            fprintf(stderr, "loop: getrandom returned %zd: %s\n", got, strerror(errno));
            return -1;
        }
        *checksum += buffer[i % sizeof(buffer)];
    }
    return 0;
}

static volatile sig_atomic_t handled;

static void on_usr1(int signal_number) {
    (void)signal_number;
    handled++;
}

/* Fails if a handler did not run before raise returned. */
static int loop_raise(uint64_t count, uint64_t *checksum) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &action, NULL) != 0) return -1;
    for (uint64_t i = 0; i < count; i++) {
        sig_atomic_t before = handled;
        if (raise(SIGUSR1) != 0 || handled != before + 1) {
            fprintf(stderr, "loop: raise: the handler did not run\n");
            return -1;
        }
    }
    *checksum += (uint64_t)handled;
    return 0;
}

/* Fails if a fork or a wait fails or the child's status is not 7. */
static int loop_fork(uint64_t count, uint64_t *checksum) {
    for (uint64_t i = 0; i < count; i++) {
        pid_t child = fork();
        if (child < 0) {
            fprintf(stderr, "loop: fork: %s\n", strerror(errno));
            return -1;
        }
        if (child == 0) _exit(7);
        int status = 0;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
            fprintf(stderr, "loop: waitpid: %s\n", strerror(errno));
            return -1;
        }
        *checksum += (uint64_t)WEXITSTATUS(status);
    }
    return 0;
}

/* Parses a decimal count; fails (returns -1) on anything else, including a sign. */
static int parse_count(const char *text, uint64_t *count) {
    if (text[0] < '0' || text[0] > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *count = (uint64_t)value;
    return 0;
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(uint64_t, uint64_t *);
    } workloads[] = {
        {"write", loop_write},
        {"clock", loop_clock},
        {"getrandom", loop_getrandom},
        {"raw_clock", loop_raw_clock},
        {"raise", loop_raise},
        {"fork", loop_fork},
    };
    uint64_t count = 0;
    if (argc != 3 || parse_count(argv[2], &count) != 0) {
        fprintf(stderr, "usage: loop write|clock|getrandom|raw_clock|raise|fork N\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        if (strcmp(argv[1], workloads[i].name) != 0) continue;
        uint64_t checksum = 0;
        if (workloads[i].run(count, &checksum) != 0) return 1;
        printf("%s %" PRIu64 " checksum %" PRIu64 "\n", argv[1], count, checksum);
        return 0;
    }
    fprintf(stderr, "loop: unknown workload '%s'\n", argv[1]);
    fprintf(stderr, "usage: loop write|clock|getrandom|raw_clock|raise|fork N\n");
    return 2;
}
