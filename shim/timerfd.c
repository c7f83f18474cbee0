/* timerfd.c: timerfd in virtual time.
 *
 * A timerfd the program creates is really an eventfd (so it polls, epolls and reads like the
 * real thing: 8-byte expiration counts, reset on read); the shim keeps the timer itself, in
 * virtual time, and adds the expirations to the eventfd when they are due. "Due" is checked
 * before every look at the outside world (wait.c) and every read; a thread that waits on a
 * timerfd (directly, through poll/select, or through an epoll set holding it) waits with the
 * timer's expiration as a deadline, so virtual time jumps to it when nothing else can run.
 * Rules: as in shim.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include "shim.h"

#define TIMERS_MAX 256
#define NS_PER_SECOND 1000000000ll

struct virtual_timer {
    int fd;                 /* -1: free */
    int clock;              /* enum sched_clock_kind of the timer */
    int64_t expiration_ns;  /* monotonic; 0 when disarmed */
    int64_t interval_ns;
    int epoll_fd;           /* the epoll set it was last added to, or -1 */
};

static struct virtual_timer timers[TIMERS_MAX];
static int timer_count;

static struct virtual_timer *find(int fd) {
    for (int i = 0; i < timer_count; i++)
        if (timers[i].fd == fd) return &timers[i];
    return 0;
}

static int64_t now_ns(void) {
    return shim_core()->clock.monotonic_ns; /* read only: no event, no decision */
}

/* Adds the expirations that are due to each timer's eventfd. */
void shim_timerfd_fire_due(void) {
    int64_t now = now_ns();
    for (int i = 0; i < timer_count; i++) {
        struct virtual_timer *timer = &timers[i];
        if (timer->fd < 0 || timer->expiration_ns == 0 || timer->expiration_ns > now) continue;
        uint64_t count = 1;
        if (timer->interval_ns > 0) {
            count += (uint64_t)((now - timer->expiration_ns) / timer->interval_ns);
            timer->expiration_ns += (int64_t)count * timer->interval_ns;
        } else {
            timer->expiration_ns = 0;
        }
        shim_syscall3(SYS_write, timer->fd, &count, sizeof(count));
    }
}

/* The earliest expiration among the timers a wait on `fds` could be woken by (directly, or
 * through an epoll set holding them); SCHED_DEADLINE_NEVER if none. */
int64_t shim_timerfd_deadline(const struct pollfd *fds, uint32_t count) {
    int64_t earliest = SCHED_DEADLINE_NEVER;
    for (int i = 0; i < timer_count; i++) {
        const struct virtual_timer *timer = &timers[i];
        if (timer->fd < 0 || timer->expiration_ns == 0) continue;
        for (uint32_t j = 0; j < count; j++) {
            if (fds[j].fd != timer->fd && fds[j].fd != timer->epoll_fd) continue;
            if (timer->expiration_ns < earliest) earliest = timer->expiration_ns;
        }
    }
    return earliest;
}

int shim_timerfd_is(int fd) {
    return find(fd) != 0;
}

void shim_timerfd_closed(int fd) {
    struct virtual_timer *timer = find(fd);
    if (timer) timer->fd = -1;
}

void shim_timerfd_note_epoll(int epoll_fd, int fd, int added) {
    struct virtual_timer *timer = find(fd);
    if (timer) timer->epoll_fd = added ? epoll_fd : -1;
}

static int clock_of(long clock_id) {
    switch (clock_id) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: return SCHED_CLOCK_REALTIME;
    case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM: return SCHED_CLOCK_MONOTONIC;
    default: return -1;
    }
}

long shim_timerfd_create(long clock_id, long flags) {
    int clock = clock_of(clock_id);
    if (clock < 0) return -EINVAL;
    if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC)) return -EINVAL;
    long fd = shim_syscall2(SYS_eventfd2, 0, ((flags & TFD_NONBLOCK) ? EFD_NONBLOCK : 0) |
                                                 ((flags & TFD_CLOEXEC) ? EFD_CLOEXEC : 0));
    if (fd < 0) return fd;
    struct virtual_timer *slot = 0;
    for (int i = 0; i < timer_count && !slot; i++)
        if (timers[i].fd < 0) slot = &timers[i];
    if (!slot && timer_count < TIMERS_MAX) slot = &timers[timer_count++];
    if (!slot) {
        shim_syscall1(SYS_close, fd);
        return -EMFILE;
    }
    *slot = (struct virtual_timer){.fd = (int)fd, .clock = clock, .epoll_fd = -1};
    shim_record(SYS_timerfd_create, clock_id, flags, fd);
    return fd;
}

static int64_t to_ns(const struct timespec *value) {
    return value->tv_sec * NS_PER_SECOND + value->tv_nsec;
}

static void from_ns(int64_t ns, struct timespec *value) {
    value->tv_sec = ns / NS_PER_SECOND;
    value->tv_nsec = ns % NS_PER_SECOND;
}

static void current(const struct virtual_timer *timer, struct itimerspec *value) {
    int64_t left = timer->expiration_ns ? timer->expiration_ns - now_ns() : 0;
    from_ns(left > 0 ? left : (timer->expiration_ns ? 1 : 0), &value->it_value);
    from_ns(timer->interval_ns, &value->it_interval);
}

long shim_timerfd_settime(int fd, long flags, const struct itimerspec *value, struct itimerspec *old) {
    struct virtual_timer *timer = find(fd);
    if (!timer) return -EINVAL;
    if (!value) return -EFAULT;
    const struct timespec *first = &value->it_value, *every = &value->it_interval;
    if (first->tv_nsec < 0 || first->tv_nsec >= NS_PER_SECOND || first->tv_sec < 0 ||
        every->tv_nsec < 0 || every->tv_nsec >= NS_PER_SECOND || every->tv_sec < 0)
        return -EINVAL;
    if (old) current(timer, old);
    uint64_t drained;
    long flags_now = shim_syscall2(SYS_fcntl, fd, F_GETFL);
    shim_syscall3(SYS_fcntl, fd, F_SETFL, flags_now | O_NONBLOCK);
    shim_syscall3(SYS_read, fd, &drained, sizeof(drained)); /* a new setting forgets old counts */
    shim_syscall3(SYS_fcntl, fd, F_SETFL, flags_now);
    int64_t start = to_ns(first);
    timer->interval_ns = to_ns(every);
    if (start == 0) {
        timer->expiration_ns = 0;
    } else if (flags & TFD_TIMER_ABSTIME) {
        /* An absolute time on the timer's clock: the same distance on the monotonic clock. */
        int64_t offset = timer->clock == SCHED_CLOCK_REALTIME
                             ? shim_clock_read(SYS_timerfd_settime, SCHED_CLOCK_REALTIME, 0) - now_ns()
                             : 0;
        timer->expiration_ns = start - offset;
        if (timer->expiration_ns <= 0) timer->expiration_ns = 1;
    } else {
        timer->expiration_ns = now_ns() + start;
    }
    shim_record(SYS_timerfd_settime, fd, start, 0);
    shim_timerfd_fire_due();
    return 0;
}

long shim_timerfd_gettime(int fd, struct itimerspec *value) {
    struct virtual_timer *timer = find(fd);
    if (!timer) return -EINVAL;
    if (!value) return -EFAULT;
    current(timer, value);
    return 0;
}
