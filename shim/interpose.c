/* interpose.c: the libc entry points the shim replaces at the PLT.
 *
 * These are calls the seccomp filter cannot trap (the dynamic loader makes them before the shim
 * exists; see emulate.c), so they are caught where the program calls them: opens and reads, to
 * recognise random devices; close and dup, to keep fd.c's table right and hide the shim's own
 * descriptors; epoll_create/epoll_ctl, to know when an epoll set is empty. Each one does the real
 * call through the stub and sets errno once. Calls made before start-up finishes pass straight
 * through. */
/* glibc would rename open, pread, fopen... to their 64-bit twins under _FILE_OFFSET_BITS=64 (which
 * meson sets); the shim must define each name itself. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../faults/network.h"
#include "shim.h"

long shim_random_read(int fd, void *buffer, size_t length);

/* The shim starts in its constructor, never lazily from an interposer: an interposed call can
 * come from inside another library's own initialization (jemalloc opens files while holding its
 * init lock), and starting there would re-enter that library. Calls before the start pass
 * through. */
static int is_running(void) {
    return __atomic_load_n(&shim_initialized, __ATOMIC_ACQUIRE) == 2;
}

/* After a successful open: mark it if it is a random device, else clear any stale mark. The
 * fstat is only paid for names that mention "random". */
static void classify_opened(int fd, const char *path) {
    if (fd < 0 || !is_running()) return;
    if (path && strstr(path, "random") && shim_fd_is_random_device(fd)) {
        shim_fd_set_kind(fd, SHIM_FD_RANDOM);
        shim_record(SYS_openat, fd, 0, fd);
    } else {
        shim_fd_forget(fd);
    }
}

static int open_at(int directory, const char *path, int flags, mode_t mode) {
    if (!is_running()) return (int)shim_set_errno(shim_syscall4(SYS_openat, directory, path, flags, mode));
    /* A modelled file: learn whether O_CREAT will create it, and keep O_TRUNC's old contents in
     * the undo log by truncating after the open instead of during it. */
    char absolute[512];
    int modelled = shim_file_path_modelled(directory, path, absolute);
    int existed = 1, truncate = 0;
    if (modelled) {
        struct stat status;
        existed = shim_syscall4(SYS_newfstatat, AT_FDCWD, absolute, &status, 0) == 0;
        truncate = existed && (flags & O_TRUNC) && S_ISREG(status.st_mode) && status.st_size > 0;
        if (truncate) flags &= ~O_TRUNC;
    }
    long fd = shim_syscall4(SYS_openat, directory, path, flags, mode);
    classify_opened((int)fd, path);
    if (fd >= 0 && modelled) {
        shim_file_opened((int)fd, directory, path, flags, existed);
        if (truncate && shim_file_is_modelled((int)fd))
            shim_file_truncate(SYS_openat, (int)fd, 0, (uintptr_t)__builtin_return_address(0));
        else if (truncate)
            shim_syscall2(SYS_ftruncate, fd, 0);
    }
    return (int)shim_set_errno(fd);
}

MOON_API int creat(const char *path, mode_t mode) {
    return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

MOON_API int creat64(const char *path, mode_t mode) {
    return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

static mode_t variadic_mode(int flags, va_list arguments) {
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) return va_arg(arguments, mode_t);
    return 0;
}

MOON_API int open(const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = variadic_mode(flags, arguments);
    va_end(arguments);
    return open_at(AT_FDCWD, path, flags, mode);
}

MOON_API int open64(const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = variadic_mode(flags, arguments);
    va_end(arguments);
    return open_at(AT_FDCWD, path, flags, mode);
}

MOON_API int openat(int directory, const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = variadic_mode(flags, arguments);
    va_end(arguments);
    return open_at(directory, path, flags, mode);
}

MOON_API int openat64(int directory, const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = variadic_mode(flags, arguments);
    va_end(arguments);
    return open_at(directory, path, flags, mode);
}

/* _FORTIFY_SOURCE variants: called when the flags are not a compile-time constant. */
MOON_API int __open_2(const char *path, int flags) {
    return open_at(AT_FDCWD, path, flags, 0);
}
MOON_API int __open64_2(const char *path, int flags) {
    return open_at(AT_FDCWD, path, flags, 0);
}
MOON_API int __openat_2(int directory, const char *path, int flags) {
    return open_at(directory, path, flags, 0);
}
MOON_API int __openat64_2(int directory, const char *path, int flags) {
    return open_at(directory, path, flags, 0);
}

/* True when reads of fd must come from the seed; drops a stale mark. */
static int reads_random(int fd) {
    if (shim_fd_kind(fd) != SHIM_FD_RANDOM || !is_running()) return 0;
    if (shim_fd_is_random_device(fd)) return 1;
    shim_fd_forget(fd);
    return 0;
}

#define CALLER ((uintptr_t)__builtin_return_address(0))

static long socket_receive(long number, int fd, void *buffer, size_t length, int flags,
                           long from, long from_length, uintptr_t caller);
static long socket_send(long number, int fd, const void *buffer, size_t length, int flags,
                        long to, long to_length, uintptr_t caller);

/* Before a call that would block until fd is ready (a read, a recv, an accept on a blocking
 * descriptor): wait for it in the scheduler instead of in the kernel (wait.c). */
static long wait_ready(int fd, short events, int nonblocking, const char *what) {
    if (nonblocking || !is_running() || !shim_fd_is_waitable(fd)) return 0;
    struct pollfd one = {.fd = fd, .events = events};
    for (;;) {
        one.revents = 0;
        shim_timerfd_fire_due();
        if (shim_syscall3(SYS_poll, &one, 1, 0) != 0) return 0; /* ready, or the call will say */
        long flags = shim_syscall2(SYS_fcntl, fd, F_GETFL);
        if (flags < 0 || (flags & O_NONBLOCK)) return 0;
        if (shim_wait_external(&one, 1, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE, what) == -EINTR &&
            shim_signals_deliver(0))
            return -EINTR; /* a handler without SA_RESTART ran: the call is interrupted */
    }
}

MOON_API ssize_t read(int fd, void *buffer, size_t length) {
    if (reads_random(fd)) return shim_random_read(fd, buffer, length);
    if (shim_file_is_modelled(fd)) return shim_set_errno(shim_file_read(SYS_read, fd, buffer, length, -1, CALLER));
    if (is_running() && shim_fd_is_socket(fd))
        return shim_set_errno(socket_receive(SYS_read, fd, buffer, length, 0, 0, 0, CALLER));
    long interrupted = wait_ready(fd, POLLIN, 0, "read");
    if (interrupted) return shim_set_errno(interrupted);
    return shim_set_errno(shim_syscall3(SYS_read, fd, buffer, length));
}

MOON_API ssize_t __read_chk(int fd, void *buffer, size_t length, size_t buffer_size) {
    (void)buffer_size; /* the fortify check itself is libc's business; the sizes were checked */
    return read(fd, buffer, length);
}

MOON_API ssize_t pread(int fd, void *buffer, size_t length, off_t offset) {
    if (reads_random(fd)) return shim_random_read(fd, buffer, length);
    if (shim_file_is_modelled(fd)) {
        if (offset < 0) return shim_set_errno(-EINVAL);
        return shim_set_errno(shim_file_read(SYS_pread64, fd, buffer, length, offset, CALLER));
    }
    return shim_set_errno(shim_syscall4(SYS_pread64, fd, buffer, length, offset));
}

MOON_API ssize_t pread64(int fd, void *buffer, size_t length, off_t offset) {
    return pread(fd, buffer, length, offset);
}

MOON_API ssize_t readv(int fd, const struct iovec *vector, int count) {
    if (shim_file_is_modelled(fd)) {
        ssize_t total = 0;
        for (int i = 0; i < count; i++) {
            long got = shim_file_read(SYS_readv, fd, vector[i].iov_base, vector[i].iov_len, -1, CALLER);
            if (got < 0) return total > 0 ? total : shim_set_errno(got);
            total += got;
            if ((size_t)got < vector[i].iov_len) break;
        }
        return total;
    }
    if (!reads_random(fd)) {
        long interrupted = wait_ready(fd, POLLIN, 0, "readv");
        if (interrupted) return shim_set_errno(interrupted);
        return shim_set_errno(shim_syscall3(SYS_readv, fd, vector, count));
    }
    if (count < 0 || count > IOV_MAX) return shim_set_errno(-EINVAL);
    ssize_t total = 0;
    for (int i = 0; i < count; i++)
        total += shim_random_read(fd, vector[i].iov_base, vector[i].iov_len);
    return total;
}

static int is_nonblocking(int fd, int flags) {
    if (flags & MSG_DONTWAIT) return 1;
    long status = shim_syscall2(SYS_fcntl, fd, F_GETFL);
    return status >= 0 && (status & O_NONBLOCK);
}

/* A read-side socket call: wait for data in the scheduler, then the network model's verdict,
 * then the real call (with a shortened length, or bits flipped in what it returns). */
static long socket_receive(long number, int fd, void *buffer, size_t length, int flags,
                           long from, long from_length, uintptr_t caller) {
    int nonblocking = is_nonblocking(fd, flags);
    long interrupted = wait_ready(fd, POLLIN, nonblocking, "recv");
    if (interrupted) return interrupted;
    if (!is_running() || !shim_fd_is_socket(fd))
        return shim_syscall(number, fd, (long)buffer, (long)length, flags, from, from_length);
    uint64_t flip_seed;
    long early = shim_net_before((uint32_t)number, fd, FAULT_NETWORK_READ, &length, nonblocking,
                                 caller, &flip_seed);
    if (early != 0) return early;
    long got = number == SYS_read ? shim_syscall3(SYS_read, fd, buffer, length)
                                  : shim_syscall(number, fd, (long)buffer, (long)length, flags,
                                                 from, from_length);
    shim_net_after_read(buffer, got, flip_seed);
    return got;
}

/* A write-side socket call: the network model's verdict, then the real call. */
static long socket_send(long number, int fd, const void *buffer, size_t length, int flags,
                        long to, long to_length, uintptr_t caller) {
    if (is_running() && shim_fd_is_socket(fd)) {
        uint64_t flip_seed;
        long early = shim_net_before((uint32_t)number, fd, FAULT_NETWORK_WRITE, &length,
                                     is_nonblocking(fd, flags), caller, &flip_seed);
        if (early != 0) return early;
    }
    if (number == SYS_write) return shim_syscall3(SYS_write, fd, buffer, length);
    return shim_syscall(number, fd, (long)buffer, (long)length, flags, to, to_length);
}

MOON_API ssize_t recv(int fd, void *buffer, size_t length, int flags) {
    return shim_set_errno(socket_receive(SYS_recvfrom, fd, buffer, length, flags, 0, 0, CALLER));
}

MOON_API ssize_t recvfrom(int fd, void *buffer, size_t length, int flags, struct sockaddr *from,
                          socklen_t *from_length) {
    return shim_set_errno(socket_receive(SYS_recvfrom, fd, buffer, length, flags, (long)from,
                                    (long)from_length, CALLER));
}

/* recvmsg and sendmsg: the whole scatter/gather list is the transfer. A short one reads or
 * writes a cut copy of the list; flips land in the first buffer that received bytes. */
static long message_transfer(long number, int fd, struct msghdr *message, int flags,
                             uintptr_t caller) {
    int read_side = number == SYS_recvmsg;
    int nonblocking = is_nonblocking(fd, flags);
    if (read_side) {
        long interrupted = wait_ready(fd, POLLIN, nonblocking, "recvmsg");
        if (interrupted) return interrupted;
    }
    if (!is_running() || !shim_fd_is_socket(fd) || message->msg_iovlen > IOV_MAX)
        return shim_syscall3(number, fd, message, flags);
    size_t total = 0;
    for (size_t i = 0; i < message->msg_iovlen; i++) total += message->msg_iov[i].iov_len;
    size_t length = total;
    uint64_t flip_seed;
    long early = shim_net_before((uint32_t)number, fd, read_side ? FAULT_NETWORK_READ : FAULT_NETWORK_WRITE,
                                 &length, nonblocking, caller, &flip_seed);
    if (early != 0) return early;
    long got;
    if (length < total) {
        struct iovec cut[IOV_MAX];
        struct msghdr shortened = *message;
        shortened.msg_iov = cut;
        shortened.msg_iovlen = shim_net_cut_vector(message->msg_iov, message->msg_iovlen, length, cut);
        got = shim_syscall3(number, fd, &shortened, flags);
        if (read_side) { /* what the kernel wrote back goes to the program's header */
            message->msg_namelen = shortened.msg_namelen;
            message->msg_controllen = shortened.msg_controllen;
            message->msg_flags = shortened.msg_flags;
        }
    } else {
        got = shim_syscall3(number, fd, message, flags);
    }
    if (read_side) shim_net_after_read_vector(message->msg_iov, message->msg_iovlen, got, flip_seed);
    return got;
}

MOON_API ssize_t recvmsg(int fd, struct msghdr *message, int flags) {
    return shim_set_errno(message_transfer(SYS_recvmsg, fd, message, flags, CALLER));
}

MOON_API ssize_t send(int fd, const void *buffer, size_t length, int flags) {
    return shim_set_errno(socket_send(SYS_sendto, fd, buffer, length, flags, 0, 0, CALLER));
}

MOON_API ssize_t sendto(int fd, const void *buffer, size_t length, int flags,
                        const struct sockaddr *to, socklen_t to_length) {
    return shim_set_errno(socket_send(SYS_sendto, fd, buffer, length, flags, (long)to, to_length, CALLER));
}

MOON_API ssize_t sendmsg(int fd, const struct msghdr *message, int flags) {
    return shim_set_errno(message_transfer(SYS_sendmsg, fd, (struct msghdr *)message, flags, CALLER));
}

MOON_API int connect(int fd, const struct sockaddr *address, socklen_t length) {
    if (!is_running()) return (int)shim_set_errno(shim_syscall3(SYS_connect, fd, address, length));
    shim_net_forget(fd); /* a new connection starts healthy */
    return (int)shim_set_errno(shim_net_connect(fd, address, length, is_nonblocking(fd, 0), CALLER));
}

/* A descriptor number the kernel just handed out (or is about to free): whatever the shim knew
 * about an earlier descriptor with that number no longer holds. */
static void fresh_descriptor(int fd) {
    shim_fd_forget(fd);
    shim_timerfd_closed(fd);
    shim_file_closed(fd);
    shim_net_forget(fd);
}

MOON_API int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    long interrupted = wait_ready(fd, POLLIN, 0, "accept");
    if (interrupted) return (int)shim_set_errno(interrupted);
    if (is_running()) {
        long refused = shim_net_accept_fault(fd, is_nonblocking(fd, 0), CALLER);
        if (refused != 0) return (int)shim_set_errno(refused);
    }
    long result = shim_syscall4(SYS_accept4, fd, address, length, flags);
    if (result >= 0) {
        fresh_descriptor((int)result);
        if (is_running()) shim_net_no_delay((int)result);
    }
    return (int)shim_set_errno(result);
}

MOON_API int socket(int domain, int type, int protocol) {
    long result = shim_syscall3(SYS_socket, domain, type, protocol);
    if (result >= 0) fresh_descriptor((int)result);
    return (int)shim_set_errno(result);
}

/* A socketpair is a channel inside the node (between threads, or a parent and the children it
 * forks): the network model leaves it alone. */
MOON_API int socketpair(int domain, int type, int protocol, int ends[2]) {
    long result = shim_syscall4(SYS_socketpair, domain, type, protocol, ends);
    if (result == 0) {
        for (int i = 0; i < 2; i++) {
            fresh_descriptor(ends[i]);
            shim_net_note_local_pair(ends[i]);
        }
    }
    return (int)shim_set_errno(result);
}

/* fclose closes its descriptor inside libc, where the shim does not see it: forget what the
 * shim knew about that number first (a modelled file, a socket), or the next descriptor given
 * that number would be taken for it. */
MOON_API int fclose(FILE *stream) {
    static int (*real_fclose)(FILE *);
    if (!real_fclose) real_fclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
    int fd = stream ? fileno(stream) : -1;
    if (fd >= 0 && shim_fd_kind(fd) != SHIM_FD_SHIM) fresh_descriptor(fd);
    return real_fclose(stream);
}

MOON_API int accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, 0);
}

/* The fast path of the trapped write family (emulate.c does the same for glibc's own calls). */
MOON_API ssize_t write(int fd, const void *buffer, size_t length) {
    if (shim_file_is_modelled(fd) && is_running())
        return shim_set_errno(shim_file_write(SYS_write, fd, buffer, length, -1, CALLER));
    if (is_running() && shim_fd_is_socket(fd))
        return shim_set_errno(socket_send(SYS_write, fd, buffer, length, 0, 0, 0, CALLER));
    return shim_set_errno(shim_syscall3(SYS_write, fd, buffer, length));
}

MOON_API ssize_t pwrite(int fd, const void *buffer, size_t length, off_t offset) {
    if (shim_file_is_modelled(fd) && is_running()) {
        if (offset < 0) return shim_set_errno(-EINVAL);
        return shim_set_errno(shim_file_write(SYS_pwrite64, fd, buffer, length, offset, CALLER));
    }
    return shim_set_errno(shim_syscall4(SYS_pwrite64, fd, buffer, length, offset));
}

MOON_API ssize_t pwrite64(int fd, const void *buffer, size_t length, off_t offset) {
    return pwrite(fd, buffer, length, offset);
}

MOON_API int close(int fd) {
    if (shim_fd_kind(fd) == SHIM_FD_SHIM) return (int)shim_set_errno(-EBADF);
    long result = shim_syscall1(SYS_close, fd);
    shim_fd_forget(fd);
    shim_timerfd_closed(fd);
    shim_file_closed(fd);
    shim_net_forget(fd);
    return (int)shim_set_errno(result);
}

/* If the program asks for one of the shim's own descriptor numbers as a dup target, move the
 * shim's descriptor out of the way first; the program gets the number it asked for. */
static void make_room(int fd) {
    if (shim_fd_kind(fd) != SHIM_FD_SHIM) return;
    shim_fd_forget(fd);
    int moved = (int)shim_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
    if (moved >= 0) moved = shim_fd_try_hide(moved);
    shim_trace_relocated(fd, moved);
}

/* `to` is now a copy of `from`: it inherits what the shim knows about it. */
static void duplicated(int from, int to) {
    shim_fd_copy(from, to);
    shim_file_duplicated(from, to);
    shim_net_forget(to);
    shim_net_duplicated(from, to);
}

MOON_API int dup(int fd) {
    long result = shim_syscall1(SYS_dup, fd);
    if (result >= 0) duplicated(fd, (int)result);
    return (int)shim_set_errno(result);
}

MOON_API int dup2(int fd, int target) {
    if (fd == target) return (int)shim_set_errno(shim_syscall2(SYS_fcntl, fd, F_GETFD) < 0 ? -EBADF : fd);
    make_room(target);
    long result = shim_syscall3(SYS_dup3, fd, target, 0);
    if (result >= 0) duplicated(fd, target);
    return (int)shim_set_errno(result);
}

MOON_API int dup3(int fd, int target, int flags) {
    make_room(target);
    long result = shim_syscall3(SYS_dup3, fd, target, flags);
    if (result >= 0) duplicated(fd, target);
    return (int)shim_set_errno(result);
}

MOON_API int epoll_create1(int flags) {
    long result = shim_syscall1(SYS_epoll_create1, flags);
    if (result >= 0 && is_running()) shim_fd_set_kind((int)result, SHIM_FD_EPOLL);
    return (int)shim_set_errno(result);
}

MOON_API int epoll_create(int size) {
    if (size <= 0) return (int)shim_set_errno(-EINVAL);
    return epoll_create1(0);
}

MOON_API int epoll_ctl(int epoll_fd, int operation, int fd, struct epoll_event *event) {
    long result = shim_syscall4(SYS_epoll_ctl, epoll_fd, operation, fd, event);
    if (result == 0 && event && (operation == EPOLL_CTL_ADD || operation == EPOLL_CTL_MOD))
        shim_net_note_epoll(fd, event->events & EPOLLET);
    if (result == 0) shim_timerfd_note_epoll(epoll_fd, fd, operation != EPOLL_CTL_DEL);
    if (result == 0 && operation == EPOLL_CTL_ADD) shim_fd_epoll_adjust(epoll_fd, 1);
    if (result == 0 && operation == EPOLL_CTL_DEL) shim_fd_epoll_adjust(epoll_fd, -1);
    return (int)shim_set_errno(result);
}

/* timerfd: virtual timers behind an eventfd (timerfd.c). */
MOON_API int timerfd_create(int clock_id, int flags) {
    if (!is_running()) return (int)shim_set_errno(shim_syscall2(SYS_timerfd_create, clock_id, flags));
    return (int)shim_set_errno(shim_timerfd_create(clock_id, flags));
}

MOON_API int timerfd_settime(int fd, int flags, const struct itimerspec *value,
                             struct itimerspec *old) {
    if (!is_running() || !shim_timerfd_is(fd))
        return (int)shim_set_errno(shim_syscall4(SYS_timerfd_settime, fd, flags, value, old));
    return (int)shim_set_errno(shim_timerfd_settime(fd, flags, value, old));
}

MOON_API int timerfd_gettime(int fd, struct itimerspec *value) {
    if (!is_running() || !shim_timerfd_is(fd))
        return (int)shim_set_errno(shim_syscall2(SYS_timerfd_gettime, fd, value));
    return (int)shim_set_errno(shim_timerfd_gettime(fd, value));
}

/* stdio on a random device: a cookie stream whose reads come from the seed. */
static ssize_t cookie_read(void *cookie, char *buffer, size_t size) {
    return shim_random_read((int)(intptr_t)cookie, buffer, size);
}

static int cookie_close(void *cookie) {
    return close((int)(intptr_t)cookie);
}

static FILE *random_stream(int fd, const char *mode) {
    cookie_io_functions_t functions = {.read = cookie_read, .close = cookie_close};
    return fopencookie((void *)(intptr_t)fd, mode, functions);
}

typedef FILE *(*fopen_function)(const char *, const char *);
typedef FILE *(*fdopen_function)(int, const char *);

static FILE *open_stream(const char *name, const char *path, const char *mode) {
    fopen_function real = (fopen_function)dlsym(RTLD_NEXT, name);
    if (!real) return shim_set_errno(-ENOSYS), (FILE *)0;
    char absolute[512];
    int modelled = is_running() && shim_file_path_modelled(AT_FDCWD, path, absolute);
    struct stat status;
    int existed = !modelled || shim_syscall4(SYS_newfstatat, AT_FDCWD, absolute, &status, 0) == 0;
    FILE *stream = real(path, mode);
    /* stdio writes with glibc's internal write (trapped); the descriptor must be known. A "w"
     * stream truncates inside fopen: that truncation is not in the undo log (a known hole). */
    if (stream && modelled)
        shim_file_opened(fileno(stream), AT_FDCWD, path, strchr(mode, 'w') || strchr(mode, 'a') ? O_CREAT : 0, existed);
    int read_only = mode[0] == 'r' && !strchr(mode, '+');
    if (!stream || !read_only || !is_running() || !strstr(path, "random")) return stream;
    int fd = fileno(stream);
    if (!shim_fd_is_random_device(fd)) return stream;
    int own = (int)shim_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return stream;
    fclose(stream);
    shim_fd_set_kind(own, SHIM_FD_RANDOM);
    shim_record(SYS_openat, own, 1, own);
    return random_stream(own, mode);
}

MOON_API FILE *fopen(const char *path, const char *mode) {
    return open_stream("fopen", path, mode);
}

MOON_API FILE *fopen64(const char *path, const char *mode) {
    return open_stream("fopen64", path, mode);
}

MOON_API FILE *fdopen(int fd, const char *mode) {
    if (reads_random(fd)) return random_stream(fd, mode);
    fdopen_function real = (fdopen_function)dlsym(RTLD_NEXT, "fdopen");
    if (!real) return shim_set_errno(-ENOSYS), (FILE *)0;
    return real(fd, mode);
}

/* fcntl: F_SETOWN/F_GETOWN (and the _EX forms) name processes, so with process.virtual_pids
 * their pids are translated (process.c); every other command goes to the kernel unchanged. */
static long fcntl_owner(int fd, int command, long argument) {
    if (!is_running() || !shim_process_virtual_pids())
        return shim_syscall3(SYS_fcntl, fd, command, argument);
    if (command == F_SETOWN) {
        long target = argument < 0 ? -shim_process_to_real(-argument) : shim_process_to_real(argument);
        return shim_syscall3(SYS_fcntl, fd, command, target);
    }
    if (command == F_SETOWN_EX && argument) {
        struct f_owner_ex owner = *(const struct f_owner_ex *)argument;
        owner.pid = (pid_t)shim_process_to_real(owner.pid);
        return shim_syscall3(SYS_fcntl, fd, command, &owner);
    }
    long result = shim_syscall3(SYS_fcntl, fd, command, argument);
    if (command == F_GETOWN && result != 0)
        result = result < 0 && result > -4096 ? result : shim_process_to_virtual(result);
    if (command == F_GETOWN_EX && result == 0 && argument) {
        struct f_owner_ex *owner = (struct f_owner_ex *)argument;
        owner->pid = (pid_t)shim_process_to_virtual(owner->pid);
    }
    return result;
}

MOON_API int fcntl(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    long argument = va_arg(arguments, long);
    va_end(arguments);
    return (int)shim_set_errno(fcntl_owner(fd, command, argument));
}

MOON_API int fcntl64(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    long argument = va_arg(arguments, long);
    va_end(arguments);
    return (int)shim_set_errno(fcntl_owner(fd, command, argument));
}
