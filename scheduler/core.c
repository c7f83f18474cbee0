/* core.c: request handling: time, sleeping, randomness, event numbering and hashing. */
#include "core.h"

#include <string.h>

#include "../faults/time_cost.h"
#include "moon_assert.h"

void sched_core_init(struct sched_core *core, uint64_t seed, const struct sched_config *config) {
    memset(core, 0, sizeof(*core));
    core->seed = seed;
    core->config = *config;
    sched_clock_init(&core->clock, config);
    sched_hash_init(&core->hash);
    sched_hash_u64(&core->hash, seed);
    for (uint32_t stream = 1; stream < SCHED_STREAM_COUNT; stream++)
        sched_prng_stream(&core->streams[stream], seed, stream);
    sched_event_queue_init(&core->timers);
    core->thread_count = 1;
    core->thread_state[0] = SCHED_THREAD_RUNNABLE;
}

struct sched_prng *sched_core_stream(struct sched_core *core, enum sched_stream stream) {
    MOON_ASSERT(stream > 0);
    MOON_ASSERT(stream < SCHED_STREAM_COUNT);
    return &core->streams[stream];
}

/* Picks the thread to run after `current` asked: a seeded choice among the runnable threads; when
 * none is runnable, virtual time jumps to the earliest pending wake-up. Returns the thread, or -1
 * when every thread waits and nothing is pending (deadlock). */
static int64_t choose_next_thread(struct sched_core *core) {
    for (;;) {
        uint32_t runnable[SCHED_THREADS_MAX];
        uint32_t count = 0;
        for (uint32_t t = 0; t < core->thread_count; t++)
            if (core->thread_state[t] == SCHED_THREAD_RUNNABLE) runnable[count++] = t;
        if (count == 1) return runnable[0];
        if (count > 1)
            return runnable[sched_prng_below(&core->streams[SCHED_STREAM_SCHEDULE], count)];
        struct sched_event event;
        if (sched_event_queue_pop(&core->timers, &event) != 0) return -1;
        MOON_ASSERT(event.kind == SCHED_EVENT_WAKE);
        MOON_ASSERT(event.thread < core->thread_count);
        if (event.time_ns > core->clock.monotonic_ns)
            sched_clock_advance_to(&core->clock, event.time_ns);
        core->thread_state[event.thread] = SCHED_THREAD_RUNNABLE;
    }
}

/* Converts a sleep request's deadline to monotonic nanoseconds (saturating at NEVER). */
static int64_t monotonic_deadline(const struct sched_core *core, int64_t value, int64_t mode) {
    if (value == SCHED_DEADLINE_NEVER) return SCHED_DEADLINE_NEVER;
    int64_t now = core->clock.monotonic_ns;
    if (mode == SCHED_SLEEP_RELATIVE) {
        MOON_ASSERT(value >= 0);
        return value > SCHED_DEADLINE_NEVER - now ? SCHED_DEADLINE_NEVER : now + value;
    }
    MOON_ASSERT(mode >= SCHED_CLOCK_MONOTONIC);
    MOON_ASSERT(mode < SCHED_CLOCK_CPU);
    /* Every non-CPU clock is monotonic plus a constant, so the distance carries over. */
    int64_t offset = sched_clock_read(&core->clock, (enum sched_clock_kind)mode) - now;
    if (offset > 0 && value < INT64_MIN + offset) return now; /* long past */
    if (offset < 0 && value > INT64_MAX + offset) return SCHED_DEADLINE_NEVER;
    int64_t deadline = value - offset;
    return deadline < now ? now : deadline;
}

static void handle_sleep(struct sched_core *core, const struct sched_request *request,
                         struct sched_decision *decision) {
    int64_t deadline = monotonic_deadline(core, request->arg[0], request->arg[1]);
    core->thread_state[request->thread] = SCHED_THREAD_SLEEPING;
    if (deadline != SCHED_DEADLINE_NEVER) {
        /* A deadline already past still goes through the queue, so it is ordered after every
         * wake-up that was due earlier: a zero sleep is a yield. */
        int pushed = sched_event_queue_try_push(&core->timers, deadline, SCHED_EVENT_WAKE,
                                                request->thread);
        MOON_ASSERT(pushed == 0);
    }
    int64_t next = choose_next_thread(core);
    if (next < 0) {
        core->thread_state[request->thread] = SCHED_THREAD_RUNNABLE;
        decision->result = SCHED_RESULT_DEADLOCK;
        decision->next_thread = request->thread;
        return;
    }
    decision->result = 0;
    decision->next_thread = (uint32_t)next;
}

static void record(struct sched_core *core, const struct sched_request *request,
                   const struct sched_decision *decision) {
    struct sched_hash *hash = &core->hash;
    sched_hash_u64(hash, decision->sequence);
    sched_hash_u64(hash, (uint64_t)decision->now_ns);
    sched_hash_u64(hash, request->thread);
    sched_hash_u64(hash, (uint64_t)request->kind << 32 | request->call);
    sched_hash_u64(hash, (uint64_t)request->arg[0]);
    sched_hash_u64(hash, (uint64_t)request->arg[1]);
    sched_hash_u64(hash, (uint64_t)decision->result);
    sched_hash_u64(hash, decision->value);
}

void sched_core_handle(struct sched_core *core, const struct sched_request *request,
                       struct sched_decision *decision) {
    MOON_ASSERT(request->thread < core->thread_count);
    MOON_ASSERT(core->thread_state[request->thread] == SCHED_THREAD_RUNNABLE);
    memset(decision, 0, sizeof(*decision));
    core->clock.calls++;
    int64_t cost = fault_time_call_cost(&core->config, &core->streams[SCHED_STREAM_TIME]);
    sched_clock_advance_to(&core->clock, core->clock.monotonic_ns + cost);
    decision->next_thread = request->thread;
    switch (request->kind) {
    case SCHED_REQ_CLOCK_READ:
        MOON_ASSERT(request->arg[0] >= SCHED_CLOCK_MONOTONIC);
        MOON_ASSERT(request->arg[0] <= SCHED_CLOCK_CPU);
        decision->value =
            (uint64_t)sched_clock_read(&core->clock, (enum sched_clock_kind)request->arg[0]);
        break;
    case SCHED_REQ_SLEEP:
        handle_sleep(core, request, decision);
        break;
    case SCHED_REQ_RANDOM:
        MOON_ASSERT(request->arg[0] >= 0);
        decision->value = sched_prng_next(&core->streams[SCHED_STREAM_RANDOM]);
        break;
    case SCHED_REQ_RECORD:
        decision->result = request->result;
        break;
    default:
        MOON_ASSERT(!"unknown request kind");
    }
    decision->sequence = ++core->events;
    decision->now_ns = core->clock.monotonic_ns;
    record(core, request, decision);
}
