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

#define SCHED_PROTOCOL_VERSION 1

enum sched_request_kind {
    /* arg[0] = enum sched_clock_kind. decision.value = the clock, in nanoseconds. */
    SCHED_REQ_CLOCK_READ = 1,
    /* arg[1] = SCHED_SLEEP_RELATIVE: arg[0] is a duration in ns from now. Otherwise arg[1] is an
     * enum sched_clock_kind and arg[0] an absolute deadline on that clock (CPU excluded), or
     * SCHED_DEADLINE_NEVER. The thread blocks until then. decision.result = 0 when it is woken,
     * SCHED_RESULT_DEADLOCK when nothing could ever wake it. */
    SCHED_REQ_SLEEP = 2,
    /* arg[0] = number of bytes wanted. decision.value = a seed for sched_prng_seed() from which
     * the shim expands exactly that many bytes. */
    SCHED_REQ_RANDOM = 3,
    /* The shim performed `call` itself; arg[0..1] and `result` describe it, for hash and trace. */
    SCHED_REQ_RECORD = 4,
};

#define SCHED_DEADLINE_NEVER INT64_MAX
#define SCHED_SLEEP_RELATIVE (-1)
#define SCHED_RESULT_DEADLOCK (-1000)

struct sched_request {
    uint32_t kind;   /* enum sched_request_kind */
    uint32_t thread; /* the simulated thread asking */
    uint32_t call;   /* what the program called: a syscall number, or a SHIM_CALL_* above 1024 */
    uint32_t reserved;
    int64_t arg[2];
    int64_t result;  /* for SCHED_REQ_RECORD: what the call returned */
};

struct sched_decision {
    uint64_t sequence;    /* 1-based position of this event in the run's event stream */
    int64_t now_ns;       /* monotonic time when the decision takes effect */
    int64_t result;
    uint64_t value;
    uint32_t next_thread; /* the thread that runs next */
    uint32_t reserved;
};

_Static_assert(sizeof(struct sched_request) == 40, "sched_request is part of the protocol");
_Static_assert(sizeof(struct sched_decision) == 40, "sched_decision is part of the protocol");

#endif
