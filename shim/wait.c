/* wait.c: waiting on the outside world without blocking the simulation.
 *
 * A thread that must wait for real descriptors (a socket, a pipe, a terminal; poll/select/epoll
 * on real descriptors; a blocking read or accept) never waits in the kernel while it holds the
 * run baton. It records which descriptors it waits on and blocks in the scheduler
 * (SCHED_REQ_WAIT_EXTERNAL). When the core cannot go on without knowing what the outside world
 * did (nobody can run, or now and then while others run), it asks the baton holder to poll every
 * waiting thread's descriptors for real (SCHED_DECISION_POLL): without waiting when a thread can
 * run or a virtual timer is pending (timers never wait for wall time), and otherwise until
 * something arrives, virtual time then moving by the wall time that took. The threads whose
 * descriptors are ready are woken (SCHED_REQ_EXTERNAL_READY) and the core picks who runs next.
 *
 * What the outside world does, and when, is not under the seed's control: runs that wait on it
 * are as deterministic as the outside world is. Descriptors between threads of the simulated
 * process (a socketpair, a pipe) are deterministic: their data is in the kernel before anyone
 * polls. Rules: as in shim.h. */
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>

#include "shim.h"

#define POLL_SET_MAX 1024

static struct pollfd *waiting_fds[SCHED_THREADS_MAX];
/* Set while the baton holder waits for the outside world in wall time: the stall watchdog must
 * not take that for a thread stuck outside the simulation. */
volatile int shim_waiting_outside;
static uint32_t waiting_count[SCHED_THREADS_MAX];
/* Each waiting thread's signal mask: a pending signal wakes a thread that can take it. */
static uint64_t waiting_mask[SCHED_THREADS_MAX];

static int64_t wall_ns(void) {
    struct timespec now;
    shim_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000ll + now.tv_nsec;
}

int shim_wait_external(struct pollfd *fds, uint32_t count, int64_t deadline, int64_t mode,
                       const char *what) {
    /* A virtual timerfd among the descriptors wakes the wait at its expiration (timerfd.c);
     * that wake is not the caller's own timeout. */
    int64_t timer = shim_timerfd_deadline(fds, count);
    int timer_first = 0;
    if (timer != SCHED_DEADLINE_NEVER) {
        if (deadline == SCHED_DEADLINE_NEVER) {
            deadline = timer;
            mode = SCHED_CLOCK_MONOTONIC;
            timer_first = 1;
        } else if (mode == SCHED_CLOCK_MONOTONIC && timer < deadline) {
            deadline = timer;
            timer_first = 1;
        }
    }
    /* So does a signal timer (alarm, setitimer), and a signal this thread can take. */
    int64_t signal_timer = shim_signals_next_timer();
    if (signal_timer != SCHED_DEADLINE_NEVER &&
        (deadline == SCHED_DEADLINE_NEVER ||
         (mode == SCHED_CLOCK_MONOTONIC && signal_timer < deadline))) {
        deadline = signal_timer;
        mode = SCHED_CLOCK_MONOTONIC;
        timer_first = 1;
    }
    int self = shim_thread_self();
    uint64_t mask = shim_signals_thread_mask();
    shim_signals_fire_due();
    if (shim_signals_deliverable(mask)) return -EINTR;
    waiting_fds[self] = fds;
    waiting_count[self] = count;
    waiting_mask[self] = mask;
    shim_thread_note_wait(what);
    struct sched_request request = {.kind = SCHED_REQ_WAIT_EXTERNAL, .call = SYS_poll,
                                    .arg = {deadline, mode}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    waiting_count[self] = 0;
    shim_signals_fire_due();
    if (shim_signals_deliverable(mask)) return -EINTR;
    if (decision.result != SCHED_RESULT_TIMED_OUT) return 0;
    return timer_first ? 0 : -ETIMEDOUT; /* a timer expired: look again */
}

/* The waiting thread a pending signal wakes: the first that does not block it. */
static uint32_t signal_taker(const struct sched_core *core) {
    for (uint32_t t = 0; t < core->thread_count; t++)
        if (core->threads[t].state == SCHED_THREAD_EXTERNAL &&
            shim_signals_deliverable_for((int)t, waiting_mask[t]))
            return t;
    return SCHED_THREAD_NONE;
}

static void report(enum sched_request_kind kind, int64_t argument,
                   struct sched_decision *decision) {
    struct sched_request request = {.kind = kind, .call = SYS_poll, .arg = {argument}};
    shim_decide_no_switch(&request, decision);
}

/* One look at the outside world on behalf of every waiting thread; `decision` becomes the
 * decision of EXTERNAL_DONE. */
static void poll_once(struct sched_decision *decision) {
    struct pollfd set[POLL_SET_MAX + 1]; /* + the doorbell */
    uint32_t owner[POLL_SET_MAX + 1];
    uint32_t count = 0;
    const struct sched_core *core = shim_core();
    shim_timerfd_fire_due();
    int64_t timeout = sched_core_poll_timeout(core);
    for (uint32_t t = 0; t < core->thread_count; t++) {
        if (core->threads[t].state != SCHED_THREAD_EXTERNAL) continue;
        for (uint32_t i = 0; i < waiting_count[t]; i++) {
            if (count == POLL_SET_MAX)
                shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                           "unsupported: more than 1024 descriptors waited on at once");
            set[count] = waiting_fds[t][i];
            set[count].revents = 0;
            owner[count++] = t;
        }
    }
    /* The doorbell last: a signal that arrives (or arrived) wakes a thread that can take it. */
    shim_signals_reset_doorbell();
    uint32_t taker = signal_taker(core);
    if (taker != SCHED_THREAD_NONE) timeout = 0;
    int bell = shim_signals_doorbell();
    if (bell >= 0) {
        set[count] = (struct pollfd){.fd = bell, .events = POLLIN};
        owner[count++] = SCHED_THREAD_NONE;
    }
    /* Look without waiting first: what another simulated thread already sent is there, and
     * finding it must not depend on wall time. Only a wait that really waited moves virtual
     * time by the wall time it took. */
    long ready = shim_syscall3(SYS_poll, set, count, 0);
    int64_t waited = 0;
    if (ready == 0 && timeout != 0) {
        /* Milliseconds, rounded up, so a wait never ends before its deadline. */
        long milliseconds = timeout < 0 ? -1 : (long)((timeout + 999999) / 1000000);
        int64_t started = wall_ns();
        shim_waiting_outside = 1;
        ready = shim_syscall3(SYS_poll, set, count, milliseconds);
        shim_waiting_outside = 0;
        waited = wall_ns() - started;
        if (ready < 0) ready = 0; /* EINTR: a signal, seen below */
    }
    if (taker == SCHED_THREAD_NONE) taker = signal_taker(core);
    if (taker != SCHED_THREAD_NONE) report(SCHED_REQ_EXTERNAL_READY, taker, decision);
    uint32_t last_woken = taker;
    for (uint32_t i = 0; ready > 0 && i < count; i++) {
        if (!set[i].revents || owner[i] == last_woken || owner[i] == SCHED_THREAD_NONE) continue;
        if (owner[i] == taker) continue;
        report(SCHED_REQ_EXTERNAL_READY, owner[i], decision);
        last_woken = owner[i];
    }
    /* With time.external_wall, virtual time follows the wall time the wait took. Without, the
     * outside world takes no virtual time: a run whose outside world answers the same (a child
     * process, a scripted client) keeps the same clock and the same trace. */
    report(SCHED_REQ_EXTERNAL_DONE, core->config.time_external_wall ? waited : 0, decision);
}

void shim_settle(struct sched_decision *decision) {
    while (decision->flags & SCHED_DECISION_POLL) poll_once(decision);
}
