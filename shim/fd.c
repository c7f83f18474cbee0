/* fd.c: what the shim knows about file descriptors, and hiding its own.
 *
 * A byte per descriptor says what kind it is (shim.h: enum shim_fd_kind). Kinds are learnt at the
 * PLT (open, epoll_create, dup) and forgotten at close; a descriptor the shim never saw is OTHER,
 * which always means "leave it alone", so a stale or missing entry can cost virtualization but
 * never corrupt I/O: RANDOM is re-checked with fstat before every use. The shim's own descriptors
 * (trace, report) sit at the top of the allowed range; close() and close_range() of them report
 * EBADF / skip them, as if they did not exist. */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#define FD_TABLE_SIZE 65536

static uint8_t fd_kinds[FD_TABLE_SIZE];
static uint8_t fd_waitable[FD_TABLE_SIZE]; /* 0 not known, 1 could block, 2 never, 3 a socket */
static int32_t epoll_watched[FD_TABLE_SIZE];

enum shim_fd_kind shim_fd_kind(int fd) {
    if (fd < 0 || fd >= FD_TABLE_SIZE) return SHIM_FD_OTHER;
    return (enum shim_fd_kind)__atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

void shim_fd_set_kind(int fd, enum shim_fd_kind kind) {
    if (fd < 0 || fd >= FD_TABLE_SIZE) return;
    __atomic_store_n(&fd_kinds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
    if (kind == SHIM_FD_EPOLL) __atomic_store_n(&epoll_watched[fd], 0, __ATOMIC_RELAXED);
}

void shim_fd_forget(int fd) {
    shim_fd_set_kind(fd, SHIM_FD_OTHER);
    if (fd >= 0 && fd < FD_TABLE_SIZE) __atomic_store_n(&fd_waitable[fd], 0, __ATOMIC_RELAXED);
}

int shim_fd_is_waitable(int fd) {
    if (fd < 0 || fd >= FD_TABLE_SIZE) return 0;
    uint8_t known = __atomic_load_n(&fd_waitable[fd], __ATOMIC_RELAXED);
    if (known == 0) {
        /* Sockets, pipes, terminals and anonymous inodes can block a read; regular files and
         * directories never do (and are modelled in file.c instead). A stale answer after a
         * close the shim did not see (fclose, a raw close) can misclassify a descriptor number
         * reused later: a needless poll, a real wait as before, or network faults on a pipe. */
        struct stat status;
        if (shim_syscall2(SYS_fstat, fd, &status) != 0) return 0;
        /* eventfd, timerfd, signalfd and other anonymous inodes have no file type. */
        int anonymous = (status.st_mode & S_IFMT) == 0;
        known = S_ISSOCK(status.st_mode) ? 3
                : (S_ISFIFO(status.st_mode) || S_ISCHR(status.st_mode) || anonymous) ? 1 : 2;
        __atomic_store_n(&fd_waitable[fd], known, __ATOMIC_RELAXED);
    }
    return known == 1 || known == 3;
}

int shim_fd_is_socket(int fd) {
    return shim_fd_is_waitable(fd) && __atomic_load_n(&fd_waitable[fd], __ATOMIC_RELAXED) == 3;
}

void shim_fd_copy(int from, int to) {
    enum shim_fd_kind kind = shim_fd_kind(from);
    if (to >= 0 && to < FD_TABLE_SIZE) __atomic_store_n(&fd_waitable[to], 0, __ATOMIC_RELAXED);
    /* An epoll duplicate shares the interest list, which this table cannot follow: the copy is
     * treated as unknown (real waits), which is always safe. */
    shim_fd_set_kind(to, kind == SHIM_FD_RANDOM ? SHIM_FD_RANDOM : SHIM_FD_OTHER);
}

int shim_fd_epoll_watched(int fd) {
    if (shim_fd_kind(fd) != SHIM_FD_EPOLL) return -1; /* unknown: assume it watches something */
    return __atomic_load_n(&epoll_watched[fd], __ATOMIC_RELAXED);
}

void shim_fd_epoll_adjust(int fd, int delta) {
    if (shim_fd_kind(fd) != SHIM_FD_EPOLL) return;
    __atomic_add_fetch(&epoll_watched[fd], delta, __ATOMIC_RELAXED);
}

int shim_fd_is_random_device(int fd) {
    struct stat status;
    if (shim_syscall2(SYS_fstat, fd, &status) != 0) return 0;
    if (!S_ISCHR(status.st_mode) || major(status.st_rdev) != 1) return 0;
    return minor(status.st_rdev) == 8 || minor(status.st_rdev) == 9; /* random, urandom */
}

int shim_fd_try_hide(int fd) {
    struct rlimit limit;
    long top = FD_TABLE_SIZE;
    if (shim_syscall2(SYS_getrlimit, RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t)top)
        top = (long)limit.rlim_cur;
    /* Take the highest free descriptor below the limit: fcntl(F_DUPFD) finds the lowest free one
     * at or above its argument, so probe downwards. */
    for (long candidate = top - 1; candidate >= top - 64 && candidate > 2; candidate--) {
        if (shim_fd_kind((int)candidate) == SHIM_FD_SHIM) continue;
        long moved = shim_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, candidate);
        if (moved < 0) break;
        if (moved != candidate) {
            shim_syscall1(SYS_close, moved);
            continue;
        }
        shim_syscall1(SYS_close, fd);
        shim_fd_set_kind((int)moved, SHIM_FD_SHIM);
        return (int)moved;
    }
    shim_fd_set_kind(fd, SHIM_FD_SHIM);
    return fd;
}

long shim_emulate_close_range(const long args[6]) {
    unsigned long first = (unsigned long)args[0];
    unsigned long last = (unsigned long)args[1];
    unsigned int flags = (unsigned int)args[2];
    if (first > last) return -EINVAL;
    /* Close the stretches between the shim's descriptors, never the descriptors themselves. */
    unsigned long begin = first;
    for (unsigned long fd = first; fd <= last && fd < FD_TABLE_SIZE; fd++) {
        if (shim_fd_kind((int)fd) != SHIM_FD_SHIM) continue;
        if (fd > begin) {
            long result = shim_syscall3(SYS_close_range, begin, fd - 1, flags);
            if (result < 0) return result;
        }
        begin = fd + 1;
    }
    if (begin <= last) {
        long result = shim_syscall3(SYS_close_range, begin, last, flags);
        if (result < 0) return result;
    }
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned long fd = first; fd <= last && fd < FD_TABLE_SIZE; fd++)
            if (shim_fd_kind((int)fd) != SHIM_FD_SHIM) shim_fd_forget((int)fd);
    return 0;
}
