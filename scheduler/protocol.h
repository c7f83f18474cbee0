/* protocol.h: the one boundary between the shim (inside the target process) and the core.
 *
 * The shim turns every intercepted call that needs a decision into a fixed-size request and gets a
 * fixed-size decision back. In standalone mode the shim calls sched_core_handle() directly; in
 * cluster mode the same structs will travel through a shared-memory slot, so they hold only
 * fixed-width values (never pointers) and their sizes are pinned below. Bump the version on any
 * change to a struct or to the meaning of a field. */
#ifndef MOON_SCHED_PROTOCOL_H
#define MOON_SCHED_PROTOCOL_H

#include <stdint.h>

#define SCHED_PROTOCOL_VERSION 8

enum sched_request_kind {
    /* arg[0] = enum sched_clock_kind. decision.value = the clock, in nanoseconds. */
    SCHED_REQ_CLOCK_READ = 1,
    /* arg[1] = SCHED_SLEEP_RELATIVE: arg[0] is a duration in ns from now. Otherwise arg[1] is an
     * enum sched_clock_kind and arg[0] an absolute deadline on that clock (CPU excluded), or
     * SCHED_DEADLINE_NEVER. The thread blocks until then; its result is 0. */
    SCHED_REQ_SLEEP = 2,
    /* arg[0] = number of bytes wanted. decision.value = a seed for sched_prng_seed() from which
     * the shim expands exactly that many bytes. */
    SCHED_REQ_RANDOM = 3,
    /* The shim performed `call` itself; arg[0..1] and `result` describe it, for hash and trace. */
    SCHED_REQ_RECORD = 4,
    /* A new thread, runnable; decision.value = its id, result < 0 when there is no room. Never
     * switches threads. */
    SCHED_REQ_THREAD_CREATE = 5,
    /* Thread arg[1] is gone; threads waiting on futex key arg[0] (its CLONE_CHILD_CLEARTID word,
     * or 0) are woken. When arg[1] is the caller, next_thread is who runs instead, or
     * SCHED_THREAD_NONE when no thread is left. */
    SCHED_REQ_THREAD_EXIT = 6,
    /* Block on futex key arg[0] with bitset arg[1], until woken or until the deadline arg[2] in
     * mode arg[3] (as for SLEEP). Result 0 when woken, SCHED_RESULT_TIMED_OUT on the deadline. */
    SCHED_REQ_FUTEX_WAIT = 7,
    /* Wake up to arg[1] waiters of key arg[0] whose bitset meets arg[2], oldest first. Result:
     * how many. */
    SCHED_REQ_FUTEX_WAKE = 8,
    /* Wake up to arg[1] waiters of key arg[0], move up to arg[3] more to key arg[2]. Result: how
     * many woken; value: how many moved. */
    SCHED_REQ_FUTEX_REQUEUE = 9,
    /* Wake up to arg[1] waiters of key arg[0] and up to arg[3] of key arg[2]. Result: total. */
    SCHED_REQ_FUTEX_WAKE_OP = 10,
    /* A file operation: arg[0] = enum fault_storage_op, arg[1] = bytes, arg[2] = call-site key.
     * The thread is busy for the operation's latency (others may run); then result = enum
     * fault_storage_verdict and value = the verdict's parameter. */
    SCHED_REQ_STORAGE = 11,
    /* Block until the outside world (real descriptors the shim watches for this thread) is
     * ready, or until the deadline arg[0] in mode arg[1] (as for SLEEP). Result 0 when woken by
     * SCHED_REQ_EXTERNAL_READY, SCHED_RESULT_TIMED_OUT on the deadline. */
    SCHED_REQ_WAIT_EXTERNAL = 12,
    /* After a poll (asked for with SCHED_DECISION_POLL): thread arg[0]'s descriptors are ready.
     * Never switches; may come from a blocked baton holder. */
    SCHED_REQ_EXTERNAL_READY = 13,
    /* The poll is over; it took arg[0] ns of wall time (0 when it did not wait), which virtual
     * time follows. next_thread says who runs now (SCHED_DECISION_POLL again if still nobody). */
    SCHED_REQ_EXTERNAL_DONE = 14,
    /* A socket operation: arg[0] = enum fault_network_op, arg[1] = bytes, arg[2] = call-site
     * key, arg[3] = enum fault_network_context bits (what cannot happen to it). As
     * SCHED_REQ_STORAGE: busy for the latency; result = enum fault_network_verdict, value = its
     * parameter. */
    SCHED_REQ_NETWORK = 15,
    /* A signal for thread arg[0]: if it is blocked (sleeping, on a futex, on the outside world)
     * it becomes runnable now and its blocking request returns SCHED_RESULT_INTERRUPTED. Result:
     * 1 when it was blocked, 0 otherwise. A switch point like any non-blocking request. */
    SCHED_REQ_INTERRUPT = 16,
};

/* decision.flags: the process crashes now, before the call is performed (process.crash_*). */
#define SCHED_DECISION_CRASH 1u
/* decision.flags: threads wait on the outside world and the core cannot go on without knowing
 * which are ready: the baton holder polls their descriptors (waiting at most
 * sched_core_poll_timeout()), then sends EXTERNAL_READY for each ready thread and EXTERNAL_DONE. */
#define SCHED_DECISION_POLL 2u
/* decision.flags: process.terminate_*: the process is asked to stop now (SIGTERM, then SIGKILL
 * after process.terminate_grace). The call itself goes ahead. */
#define SCHED_DECISION_TERMINATE 4u

#define SCHED_DEADLINE_NEVER INT64_MAX
#define SCHED_SLEEP_RELATIVE (-1)
#define SCHED_THREAD_NONE UINT32_MAX
/* Results that end the run: nothing can wake any thread; or one thread ran the configured number
 * of calls without anything blocking and without virtual time moving. */
#define SCHED_RESULT_DEADLOCK (-1000)
#define SCHED_RESULT_LIVELOCK (-1001)
#define SCHED_RESULT_TIMED_OUT (-1002)
#define SCHED_RESULT_INTERRUPTED (-1003)

struct sched_request {
    uint32_t kind;   /* enum sched_request_kind */
    uint32_t thread; /* the simulated thread asking */
    uint32_t call;   /* what the program called: a syscall number, or a SHIM_CALL_* above 1024 */
    uint32_t reserved;
    int64_t arg[4];
    int64_t result;  /* for SCHED_REQ_RECORD: what the call returned */
};

struct sched_decision {
    uint64_t sequence;    /* 1-based position of this event in the run's event stream */
    int64_t now_ns;       /* monotonic time when the decision takes effect */
    int64_t result;       /* for a blocking request, valid when next_thread is the caller */
    uint64_t value;
    uint32_t next_thread; /* the thread that runs next */
    uint32_t flags;       /* SCHED_DECISION_* */
};

_Static_assert(sizeof(struct sched_request) == 56, "sched_request is part of the protocol");
_Static_assert(sizeof(struct sched_decision) == 40, "sched_decision is part of the protocol");

#endif
