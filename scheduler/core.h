/* core.h: the deterministic core of one simulation: clocks, timers, threads, streams, the hash.
 *
 * Everything that decides anything lives here and is a function of (seed, config, the sequence of
 * requests). It does no I/O and reads no clock; the shim asks, the core decides. Every request is
 * one event: it is numbered, folded into the run's hash, and may cost virtual time. */
#ifndef MOON_SCHED_CORE_H
#define MOON_SCHED_CORE_H

#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "event_queue.h"
#include "hash.h"
#include "sched_limits.h"
#include "prng.h"
#include "protocol.h"

enum sched_thread_state {
    SCHED_THREAD_UNUSED = 0,
    SCHED_THREAD_RUNNABLE,
    SCHED_THREAD_SLEEPING, /* blocked until a deadline (or forever) */
};

struct sched_core {
    uint64_t seed;
    struct sched_config config;
    struct sched_clock clock;
    struct sched_hash hash;
    uint64_t events;
    uint32_t thread_count; /* slots in use, [0, thread_count) */
    uint8_t thread_state[SCHED_THREADS_MAX];
    struct sched_prng streams[SCHED_STREAM_COUNT];
    struct sched_event_queue timers;
};

/* Starts a run with thread 0 runnable. The config must have passed the parser's checks. */
void sched_core_init(struct sched_core *core, uint64_t seed, const struct sched_config *config);
/* Decides one request. Asserts the request is well-formed (a shim bug otherwise). */
void sched_core_handle(struct sched_core *core, const struct sched_request *request,
                       struct sched_decision *decision);
/* The stream for a purpose, for the fault models and the shim's own expansions. */
struct sched_prng *sched_core_stream(struct sched_core *core, enum sched_stream stream);

#endif
