/* time.c: clocks, sleeps and the timeouts of the wait calls, all in virtual time.
 *
 * Every clock is read from the core. A sleep blocks the simulated thread in the scheduler, which
 * jumps virtual time to the next deadline when nothing else can run. A wait call (poll, select,
 * epoll) that watches no real file descriptor is a pure sleep. One that watches real descriptors
 * looks at them without waiting and otherwise waits in the scheduler (wait.c), so the other
 * threads run meanwhile. Async-signal-safe throughout. */
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define NS_PER_SECOND 1000000000ll
#define CLOCKFD 3 /* the low bits of a dynamic (fd-backed) clock id */

/* Maps a clockid_t to a virtual clock. Returns 0, 1 for a real dynamic clock the shim leaves
 * alone (a PTP device), or -EINVAL. */
static int clock_kind(long clock_id, enum sched_clock_kind *kind) {
    if (clock_id < 0) {
        if ((clock_id & 7) == CLOCKFD) return 1;
        *kind = SCHED_CLOCK_CPU; /* another process's or thread's CPU clock */
        return 0;
    }
    switch (clock_id) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM:
        *kind = SCHED_CLOCK_REALTIME;
        return 0;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
        *kind = SCHED_CLOCK_MONOTONIC;
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        *kind = SCHED_CLOCK_CPU;
        return 0;
    case CLOCK_TAI:
        *kind = SCHED_CLOCK_TAI;
        return 0;
    default:
        return -EINVAL;
    }
}

static void split_ns(int64_t ns, struct timespec *out) {
    out->tv_sec = ns / NS_PER_SECOND;
    out->tv_nsec = ns % NS_PER_SECOND;
}

/* A user timespec to nanoseconds; -EINVAL when malformed. Saturates at the deadline "never". */
static int timespec_ns(const struct timespec *in, int64_t *ns) {
    if (in->tv_sec < 0 || in->tv_nsec < 0 || in->tv_nsec >= NS_PER_SECOND) return -EINVAL;
    if (in->tv_sec >= SCHED_DEADLINE_NEVER / NS_PER_SECOND - 1) {
        *ns = SCHED_DEADLINE_NEVER;
        return 0;
    }
    *ns = in->tv_sec * NS_PER_SECOND + in->tv_nsec;
    return 0;
}

static int64_t relative_or_never(int64_t timeout_ns) {
    return timeout_ns < 0 ? SCHED_DEADLINE_NEVER : timeout_ns;
}

static long do_clock_gettime(const long args[6]) {
    enum sched_clock_kind kind;
    int mapped = clock_kind(args[0], &kind);
    if (mapped == 1) return shim_syscall2(SYS_clock_gettime, args[0], args[1]);
    if (mapped < 0) return mapped;
    if (!args[1]) return -EFAULT;
    split_ns(shim_clock_read(SYS_clock_gettime, kind, args[0]), (struct timespec *)args[1]);
    return 0;
}

static long do_gettimeofday(const long args[6]) {
    struct timeval *value = (struct timeval *)args[0];
    struct timezone *zone = (struct timezone *)args[1];
    int64_t ns = shim_clock_read(SYS_gettimeofday, SCHED_CLOCK_REALTIME, 0);
    if (value) {
        value->tv_sec = ns / NS_PER_SECOND;
        value->tv_usec = ns % NS_PER_SECOND / 1000;
    }
    if (zone) {
        zone->tz_minuteswest = 0;
        zone->tz_dsttime = 0;
    }
    return 0;
}

static long do_time(const long args[6]) {
    long seconds = (long)(shim_clock_read(SYS_time, SCHED_CLOCK_REALTIME, 0) / NS_PER_SECOND);
    if (args[0]) *(time_t *)args[0] = seconds;
    return seconds;
}

/* A relative sleep of `duration` that began at `start` ended early (EINTR): what was left. */
static void write_time_left(struct timespec *remaining, int64_t duration, int64_t start) {
    if (!remaining) return;
    int64_t left = duration - (shim_core()->clock.monotonic_ns - start);
    if (left < 0) left = 0;
    remaining->tv_sec = left / 1000000000ll;
    remaining->tv_nsec = left % 1000000000ll;
}

static long do_nanosleep(const long args[6]) {
    int64_t duration;
    if (!args[0]) return -EFAULT;
    int invalid = timespec_ns((const struct timespec *)args[0], &duration);
    if (invalid) return invalid;
    int64_t start = shim_core()->clock.monotonic_ns;
    if (shim_sleep(SYS_nanosleep, duration, SCHED_SLEEP_RELATIVE, "nanosleep") == -EINTR) {
        write_time_left((struct timespec *)args[1], duration, start);
        return -EINTR;
    }
    return 0;
}

static long do_clock_nanosleep(const long args[6]) {
    enum sched_clock_kind kind;
    int mapped = clock_kind(args[0], &kind);
    /* The raw syscall returns -errno; glibc turns it into clock_nanosleep's positive result. */
    if (mapped != 0) return -EINVAL;
    if (kind == SCHED_CLOCK_CPU) return args[0] == CLOCK_THREAD_CPUTIME_ID ? -EINVAL : -EOPNOTSUPP;
    if (!args[2]) return -EFAULT;
    int64_t value;
    int invalid = timespec_ns((const struct timespec *)args[2], &value);
    if (invalid) return invalid;
    int64_t mode = (args[1] & TIMER_ABSTIME) ? (int64_t)kind : SCHED_SLEEP_RELATIVE;
    int64_t start = shim_core()->clock.monotonic_ns;
    if (shim_sleep(SYS_clock_nanosleep, value, mode, "clock_nanosleep") == -EINTR) {
        if (mode == SCHED_SLEEP_RELATIVE) write_time_left((struct timespec *)args[3], value, start);
        return -EINTR;
    }
    return 0;
}

/* A wait on real descriptors (see wait.c): look now, with a zero timeout; if nothing is ready,
 * wait in the scheduler until one of `set` is or the timeout passes, then look again. select's
 * sets are restored before each look, since a look that finds nothing clears them. */
static long real_wait(long number, const long args[6], int64_t timeout_ns, struct pollfd *set,
                      uint32_t count) {
    long look[6] = {args[0], args[1], args[2], args[3], args[4], args[5]};
    struct timespec zero_spec = {0, 0};
    struct timeval zero_val = {0, 0};
    fd_set saved[3];
    fd_set *sets[3] = {0, 0, 0};
    switch (number) {
    case SYS_poll: look[2] = 0; break;
    case SYS_ppoll: look[2] = (long)&zero_spec; break;
    case SYS_select: look[4] = (long)&zero_val; break;
    case SYS_pselect6: look[4] = (long)&zero_spec; break;
    case SYS_epoll_wait: case SYS_epoll_pwait: look[3] = 0; break;
    case SYS_epoll_pwait2: look[3] = (long)&zero_spec; break;
    }
    if (number == SYS_select || number == SYS_pselect6)
        for (int i = 0; i < 3; i++)
            if ((sets[i] = (fd_set *)args[1 + i])) saved[i] = *sets[i];
    int64_t deadline = SCHED_DEADLINE_NEVER;
    if (timeout_ns > 0 && timeout_ns != SCHED_DEADLINE_NEVER)
        deadline = shim_clock_read((uint32_t)number, SCHED_CLOCK_MONOTONIC, 0) + timeout_ns;
    for (int timed_out = 0;; ) {
        for (int i = 0; i < 3; i++)
            if (sets[i]) *sets[i] = saved[i];
        shim_timerfd_fire_due();
        long result = shim_syscall(number, look[0], look[1], look[2], look[3], look[4], look[5]);
        if (result != 0 || timeout_ns == 0 || timed_out) {
            shim_record((uint32_t)number, timeout_ns, 1, result);
            return result;
        }
        int waited = shim_wait_external(set, count, deadline, SCHED_CLOCK_MONOTONIC,
                                        "poll/select/epoll on real descriptors");
        if (waited == -EINTR) {
            /* A signal: these calls are never restarted; its handler runs at the end of it. */
            for (int i = 0; i < 3; i++)
                if (sets[i]) *sets[i] = saved[i];
            shim_record((uint32_t)number, timeout_ns, 1, -EINTR);
            return -EINTR;
        }
        timed_out = waited == -ETIMEDOUT;
    }
}

/* A wait on nothing: a sleep for the timeout; it ends with nothing ready (0). */
static long virtual_wait(long number, int64_t timeout_ns, const char *what) {
    if (timeout_ns == 0) {
        shim_record((uint32_t)number, 0, 0, 0);
        return 0;
    }
    return shim_sleep((uint32_t)number, relative_or_never(timeout_ns), SCHED_SLEEP_RELATIVE, what);
}

static int poll_has_real_fds(const struct pollfd *fds, unsigned long count) {
    for (unsigned long i = 0; i < count; i++)
        if (fds[i].fd >= 0) return 1;
    return 0;
}

static long do_poll(long number, const long args[6], int64_t timeout_ns) {
    struct pollfd *fds = (struct pollfd *)args[0];
    unsigned long count = (unsigned long)args[1];
    if (count > 0 && !fds) return -EFAULT;
    if (poll_has_real_fds(fds, count)) {
        if (count > 1024) return -EINVAL;
        return real_wait(number, args, timeout_ns, fds, (uint32_t)count);
    }
    for (unsigned long i = 0; i < count; i++) fds[i].revents = 0;
    return virtual_wait(number, timeout_ns, number == SYS_poll ? "poll with no descriptors"
                                                               : "ppoll with no descriptors");
}

static int select_has_real_fds(int count, const fd_set *const sets[3]) {
    if (count < 0 || count > FD_SETSIZE) return -1;
    for (int set = 0; set < 3; set++) {
        if (!sets[set]) continue;
        for (int fd = 0; fd < count; fd++)
            if (FD_ISSET(fd, sets[set])) return 1;
    }
    return 0;
}

/* Linux writes the time left back into the timeout (glibc's select() reads it back from
 * pselect6's timespec); after a full timeout that is 0. */
static void zero_timeout_left(long number, const long args[6]) {
    if (number == SYS_select && args[4]) {
        struct timeval *left = (struct timeval *)args[4];
        left->tv_sec = 0;
        left->tv_usec = 0;
    }
    if (number == SYS_pselect6 && args[4]) {
        struct timespec *left = (struct timespec *)args[4];
        left->tv_sec = 0;
        left->tv_nsec = 0;
    }
}

static long do_select(long number, const long args[6], int64_t timeout_ns) {
    const fd_set *const sets[3] = {(fd_set *)args[1], (fd_set *)args[2], (fd_set *)args[3]};
    int real = select_has_real_fds((int)args[0], sets);
    if (real < 0) return -EINVAL;
    if (real) {
        struct pollfd set[FD_SETSIZE];
        uint32_t count = 0;
        for (int fd = 0; fd < (int)args[0]; fd++) {
            short events = (short)((sets[0] && FD_ISSET(fd, sets[0]) ? POLLIN : 0) |
                                   (sets[1] && FD_ISSET(fd, sets[1]) ? POLLOUT : 0) |
                                   (sets[2] && FD_ISSET(fd, sets[2]) ? POLLPRI : 0));
            if (events) set[count++] = (struct pollfd){.fd = fd, .events = events};
        }
        long result = real_wait(number, args, timeout_ns, set, count);
        if (result == 0) zero_timeout_left(number, args);
        return result;
    }
    long result = virtual_wait(number, timeout_ns, "select with no descriptors");
    zero_timeout_left(number, args);
    return result;
}

static long do_epoll(long number, const long args[6], int64_t timeout_ns) {
    if (shim_fd_epoll_watched((int)args[0]) != 0) {
        /* An epoll descriptor is itself readable when any of its events is pending. */
        struct pollfd set = {.fd = (int)args[0], .events = POLLIN};
        return real_wait(number, args, timeout_ns, &set, 1);
    }
    return virtual_wait(number, timeout_ns, "epoll_wait on an empty epoll set");
}

/* timeval / timespec / milliseconds timeouts, negative meaning "forever". */
static int timeout_from_timespec(const long pointer, int64_t *timeout_ns) {
    if (!pointer) {
        *timeout_ns = -1;
        return 0;
    }
    return timespec_ns((const struct timespec *)pointer, timeout_ns);
}

static int timeout_from_timeval(const long pointer, int64_t *timeout_ns) {
    if (!pointer) {
        *timeout_ns = -1;
        return 0;
    }
    const struct timeval *value = (const struct timeval *)pointer;
    if (value->tv_sec < 0 || value->tv_usec < 0 || value->tv_usec >= 1000000) return -EINVAL;
    *timeout_ns = value->tv_sec * NS_PER_SECOND + value->tv_usec * 1000;
    return 0;
}

static int64_t timeout_from_ms(long milliseconds) {
    return (int)milliseconds < 0 ? -1 : (int64_t)(int)milliseconds * 1000000;
}

static long emulate_time(long number, const long args[6]);

/* ppoll, pselect6, epoll_pwait, epoll_pwait2 with a signal mask: the mask holds for the whole
 * wait, in the scheduler too, and a handler that interrupts it runs under it (as the kernel
 * runs it) before the program's own mask comes back. */
long shim_emulate_time(long number, const long args[6]) {
    const void *set = 0;
    size_t size = 0;
    if (number == SYS_ppoll) set = (const void *)args[3], size = (size_t)args[4];
    if ((number == SYS_epoll_pwait || number == SYS_epoll_pwait2))
        set = (const void *)args[4], size = (size_t)args[5];
    if (number == SYS_pselect6 && args[5]) {
        const struct { const void *set; size_t size; } *given = (const void *)args[5];
        set = given->set;
        size = given->size;
    }
    if (!set || size != 8 || shim_thread_passthrough()) return emulate_time(number, args);
    uint64_t wanted, old = shim_signals_thread_mask();
    memcpy(&wanted, set, sizeof(wanted));
    shim_signals_set_thread_mask(wanted);
    long result = emulate_time(number, args);
    if (result == -EINTR) shim_signals_deliver(0);
    shim_signals_set_thread_mask(old);
    return result;
}

static long emulate_time(long number, const long args[6]) {
    int64_t timeout_ns = -1;
    int invalid = 0;
    long sanitized[6] = {args[0], args[1], args[2], args[3], args[4], args[5]};
    uint64_t mask_copy;
    struct {
        const void *set;
        size_t size;
    } pselect_mask;
    switch (number) {
    case SYS_clock_gettime: return do_clock_gettime(args);
    case SYS_gettimeofday: return do_gettimeofday(args);
    case SYS_time: return do_time(args);
    case SYS_nanosleep: return do_nanosleep(args);
    case SYS_clock_nanosleep: return do_clock_nanosleep(args);
    case SYS_poll: return do_poll(number, args, timeout_from_ms(args[2]));
    case SYS_ppoll:
        invalid = timeout_from_timespec(args[2], &timeout_ns);
        sanitized[3] = (long)shim_sigset_without_sigsys((void *)args[3], (size_t)args[4], &mask_copy);
        return invalid ? invalid : do_poll(number, sanitized, timeout_ns);
    case SYS_select:
        invalid = timeout_from_timeval(args[4], &timeout_ns);
        return invalid ? invalid : do_select(number, args, timeout_ns);
    case SYS_pselect6:
        invalid = timeout_from_timespec(args[4], &timeout_ns);
        if (args[5]) {
            const struct { const void *set; size_t size; } *given = (const void *)args[5];
            pselect_mask.set = shim_sigset_without_sigsys(given->set, given->size, &mask_copy);
            pselect_mask.size = given->size;
            sanitized[5] = (long)&pselect_mask;
        }
        return invalid ? invalid : do_select(number, sanitized, timeout_ns);
    case SYS_epoll_wait: return do_epoll(number, args, timeout_from_ms(args[3]));
    case SYS_epoll_pwait:
        sanitized[4] = (long)shim_sigset_without_sigsys((void *)args[4], (size_t)args[5], &mask_copy);
        return do_epoll(number, sanitized, timeout_from_ms(args[3]));
    case SYS_epoll_pwait2:
        invalid = timeout_from_timespec(args[3], &timeout_ns);
        sanitized[4] = (long)shim_sigset_without_sigsys((void *)args[4], (size_t)args[5], &mask_copy);
        return invalid ? invalid : do_epoll(number, sanitized, timeout_ns);
    default:
        return -ENOSYS;
    }
}

/* PLT interposers. time() and gettimeofday() are IFUNCs resolved to the vDSO itself (vdso.c);
 * clock_gettime is here too so the common call skips glibc's indirection. sched_getcpu reads the
 * CPU number from the rseq area without any call, so it is replaced outright. */
MOON_API int clock_gettime(clockid_t clock_id, struct timespec *value) {
    const long args[6] = {clock_id, (long)value};
    if (shim_initialized != 2) return (int)shim_set_errno(shim_syscall2(SYS_clock_gettime, clock_id, value));
    return (int)shim_set_errno(do_clock_gettime(args));
}

MOON_API int gettimeofday(struct timeval *value, void *zone) {
    const long args[6] = {(long)value, (long)zone};
    if (shim_initialized != 2) return (int)shim_set_errno(shim_syscall2(SYS_gettimeofday, value, zone));
    return (int)shim_set_errno(do_gettimeofday(args));
}

MOON_API time_t time(time_t *pointer) {
    const long args[6] = {(long)pointer};
    if (shim_initialized != 2) return shim_syscall1(SYS_time, pointer);
    return do_time(args);
}

MOON_API int sched_getcpu(void) {
    if (shim_initialized == 2) shim_record(SYS_getcpu, 0, 0, 0);
    return 0;
}
