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
#include "../faults/network.h"
#include "../faults/storage.h"

enum sched_thread_state {
    SCHED_THREAD_UNUSED = 0, /* a free slot: never used, or its thread is gone */
    SCHED_THREAD_RUNNABLE,
    SCHED_THREAD_SLEEPING,   /* blocked until a deadline (or forever) */
    SCHED_THREAD_FUTEX,      /* blocked on a futex key, maybe with a deadline */
    SCHED_THREAD_EXTERNAL,   /* blocked on real descriptors (the outside world), maybe a deadline */
};

struct sched_thread {
    uint8_t state;           /* enum sched_thread_state */
    uint8_t priority;        /* chaos mode only */
    uint32_t wait_bitset;
    int64_t wait_key;
    uint64_t wait_order;     /* futex waiters wake oldest first */
    int64_t wake_result;     /* what the last blocking request of this thread returns */
    uint64_t wake_value;
};

struct sched_site {
    uint64_t key;            /* 0: free */
    uint8_t active;
};

struct sched_core {
    uint64_t seed;
    struct sched_config config;
    struct sched_clock clock;
    struct sched_hash hash;
    uint64_t events;
    uint32_t thread_count;   /* slots ever used: [0, thread_count) */
    uint32_t threads_alive;
    uint64_t wait_order_next;
    uint64_t calls_without_progress;
    uint64_t chaos_countdown;
    struct sched_thread threads[SCHED_THREADS_MAX];
    struct sched_prng streams[SCHED_STREAM_COUNT];
    struct sched_event_queue timers;
    struct fault_storage_device storage_device;
    uint32_t crashed;
    uint32_t terminated;      /* process.terminate_* asked once already */
    uint64_t stream_seed;     /* what the streams were derived from (a child's differs) */
    uint64_t forks;           /* children forked so far: numbers the next child's streams */
    uint32_t external_waiters;
    uint32_t polled;          /* the outside world was just polled: timers may fire */
    uint32_t since_poll;      /* decisions since the last poll, while threads wait outside */
    struct sched_site sites[SCHED_SITES_MAX];
};

/* Starts a run with thread 0 runnable. The config must have passed the parser's checks. */
void sched_core_init(struct sched_core *core, uint64_t seed, const struct sched_config *config);
/* Decides one request. Asserts the request is well-formed (a shim bug otherwise). */
void sched_core_handle(struct sched_core *core, const struct sched_request *request,
                       struct sched_decision *decision);
/* The result of `thread`'s last blocking request, once it runs again. */
int64_t sched_core_wake_result(const struct sched_core *core, uint32_t thread);
uint64_t sched_core_wake_value(const struct sched_core *core, uint32_t thread);
/* Two-level activation (FoundationDB's BUGGIFY): the first time a call site is seen it is made
 * active with probability 1/2 for the whole run. Sites beyond SCHED_SITES_MAX count as active. */
int sched_core_site_active(struct sched_core *core, uint64_t site_key);
/* How long the shim's poll of the outside world may wait, in ns: 0 when the simulation could go
 * on without it (a thread is runnable or a timer is pending), -1 for "until something happens". */
int64_t sched_core_poll_timeout(const struct sched_core *core);
/* In the child of a fork: only `survivor` exists there; every other thread is forgotten, and
 * the child's streams are derived from the parent's and the fork's number (its seed returned),
 * so parent and child, and two children, never draw the same values. */
uint64_t sched_core_after_fork(struct sched_core *core, uint32_t survivor);
/* The seed of the streams of the next child (what sched_core_after_fork will derive). */
uint64_t sched_core_child_seed(const struct sched_core *core);
/* In the parent, after a fork: the next child gets the next number. */
void sched_core_forked(struct sched_core *core);
/* The streams of a process started by execve from a simulated one (its seed derived as in
 * sched_core_after_fork): replaces every stream, keeps clocks and threads. */
void sched_core_reseed_streams(struct sched_core *core, uint64_t stream_seed);
/* The stream for a purpose, for the fault models and the shim's own expansions. */
struct sched_prng *sched_core_stream(struct sched_core *core, enum sched_stream stream);

#endif
