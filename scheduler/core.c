/* core.c: request handling: threads and their schedule, time, sleeping, futexes, randomness,
 * event numbering and hashing.
 *
 * Exactly one simulated thread runs at a time. After every request the core names the thread that
 * runs next: a seeded choice among the runnable ones (or, in chaos mode, among the runnable ones of
 * the highest current priority). When none is runnable, virtual time jumps to the earliest pending
 * deadline; when nothing is pending either, the run is deadlocked. */
#include "core.h"

#include <string.h>

#include "../faults/time_cost.h"
#include "moon_assert.h"

#define CHAOS_PRIORITIES 4
#define CHAOS_PERIOD_MIN 20
#define CHAOS_PERIOD_MAX 2000

static void chaos_draw(struct sched_core *core) {
    struct sched_prng *schedule = &core->streams[SCHED_STREAM_SCHEDULE];
    for (uint32_t t = 0; t < core->thread_count; t++)
        core->threads[t].priority = (uint8_t)sched_prng_below(schedule, CHAOS_PRIORITIES);
    core->chaos_countdown = sched_prng_range(schedule, CHAOS_PERIOD_MIN, CHAOS_PERIOD_MAX);
}

void sched_core_init(struct sched_core *core, uint64_t seed, const struct sched_config *config) {
    memset(core, 0, sizeof(*core));
    core->seed = seed;
    core->stream_seed = seed;
    core->config = *config;
    sched_clock_init(&core->clock, config);
    sched_hash_init(&core->hash);
    sched_hash_u64(&core->hash, seed);
    for (uint32_t stream = 1; stream < SCHED_STREAM_COUNT; stream++)
        sched_prng_stream(&core->streams[stream], seed, stream);
    sched_event_queue_init(&core->timers);
    if (config->storage_fast_local) fault_storage_fast_local(&core->config);
    if (core->config.network_swarm)
        fault_network_swarm(&core->config, &core->streams[SCHED_STREAM_NETWORK]);
    if (core->config.storage_swarm)
        fault_storage_swarm(&core->config, &core->streams[SCHED_STREAM_STORAGE]);
    core->thread_count = 1;
    core->threads_alive = 1;
    core->threads[0].state = SCHED_THREAD_RUNNABLE;
    if (config->threads_chaos) chaos_draw(core);
}

struct sched_prng *sched_core_stream(struct sched_core *core, enum sched_stream stream) {
    MOON_ASSERT(stream > 0);
    MOON_ASSERT(stream < SCHED_STREAM_COUNT);
    return &core->streams[stream];
}

uint64_t sched_core_wake_value(const struct sched_core *core, uint32_t thread) {
    MOON_ASSERT(thread < core->thread_count);
    return core->threads[thread].wake_value;
}

int sched_core_site_active(struct sched_core *core, uint64_t site_key) {
    if (site_key == 0) site_key = 1;
    uint64_t mix = site_key;
    uint32_t index = (uint32_t)(sched_splitmix64(&mix) % SCHED_SITES_MAX);
    for (uint32_t probe = 0; probe < SCHED_SITES_MAX; probe++) {
        struct sched_site *site = &core->sites[(index + probe) % SCHED_SITES_MAX];
        if (site->key == site_key) return site->active;
        if (site->key != 0) continue;
        site->key = site_key;
        site->active = (uint8_t)sched_prng_below(&core->streams[SCHED_STREAM_SITES], 2);
        return site->active;
    }
    return 1;
}

int64_t sched_core_wake_result(const struct sched_core *core, uint32_t thread) {
    MOON_ASSERT(thread < core->thread_count);
    return core->threads[thread].wake_result;
}

/* Makes a blocked thread runnable with `result`, dropping any deadline it had. */
static void wake(struct sched_core *core, uint32_t thread, int64_t result) {
    struct sched_thread *woken = &core->threads[thread];
    MOON_ASSERT(woken->state == SCHED_THREAD_SLEEPING || woken->state == SCHED_THREAD_FUTEX ||
                woken->state == SCHED_THREAD_EXTERNAL);
    if (woken->state == SCHED_THREAD_EXTERNAL) core->external_waiters--;
    woken->state = SCHED_THREAD_RUNNABLE;
    woken->wake_result = result;
    sched_event_queue_cancel(&core->timers, SCHED_EVENT_WAKE, thread);
}

/* Fires the earliest deadline. Returns 0, or -1 when no deadline is pending. */
static int fire_next_timer(struct sched_core *core) {
    struct sched_event event;
    if (sched_event_queue_pop(&core->timers, &event) != 0) return -1;
    MOON_ASSERT(event.kind == SCHED_EVENT_WAKE);
    MOON_ASSERT(event.thread < core->thread_count);
    if (event.time_ns > core->clock.monotonic_ns)
        sched_clock_advance_to(&core->clock, event.time_ns);
    uint8_t state = core->threads[event.thread].state;
    /* A sleeper's result was set when it went to sleep (0, or a storage verdict). */
    if (state == SCHED_THREAD_SLEEPING) wake(core, event.thread, core->threads[event.thread].wake_result);
    else if (state == SCHED_THREAD_FUTEX || state == SCHED_THREAD_EXTERNAL)
        wake(core, event.thread, SCHED_RESULT_TIMED_OUT);
    core->calls_without_progress = 0;
    return 0;
}

/* Fires every deadline that is already due: a sleeper whose time has come competes with the
 * threads that are running, even when time moved only through call costs. */
static void fire_due_timers(struct sched_core *core) {
    for (;;) {
        const struct sched_event *next = sched_event_queue_peek(&core->timers);
        if (!next || next->time_ns > core->clock.monotonic_ns) return;
        fire_next_timer(core);
    }
}

static uint32_t collect_runnable(const struct sched_core *core, uint32_t *runnable) {
    uint32_t count = 0, best = 0;
    int chaos = core->config.threads_chaos != 0;
    for (uint32_t t = 0; t < core->thread_count; t++) {
        const struct sched_thread *thread = &core->threads[t];
        if (thread->state != SCHED_THREAD_RUNNABLE) continue;
        if (chaos && thread->priority > best) {
            best = thread->priority;
            count = 0; /* only the highest priority present competes */
        }
        if (!chaos || thread->priority == best) runnable[count++] = t;
    }
    return count;
}

#define POLL_EVERY 64 /* decisions between looks at the outside world while threads run */
#define SCHED_NEXT_DEADLOCK (-1)
#define SCHED_NEXT_POLL (-2)

/* Picks the thread that runs next, firing deadlines when nobody can run. Returns the thread,
 * SCHED_NEXT_POLL when the outside world must be looked at first (threads wait on it: before
 * virtual time jumps, and now and then while others run), or SCHED_NEXT_DEADLOCK when every
 * thread waits and nothing can ever wake one. */
static int64_t choose_next_thread(struct sched_core *core) {
    struct sched_prng *schedule = &core->streams[SCHED_STREAM_SCHEDULE];
    if (core->config.threads_chaos && --core->chaos_countdown == 0) chaos_draw(core);
    fire_due_timers(core);
    if (core->external_waiters > 0 && !core->polled && ++core->since_poll >= POLL_EVERY)
        return SCHED_NEXT_POLL;
    for (;;) {
        uint32_t runnable[SCHED_THREADS_MAX];
        uint32_t count = collect_runnable(core, runnable);
        if (count == 1) return runnable[0];
        if (count > 1) return runnable[sched_prng_below(schedule, count)];
        if (core->external_waiters > 0 && !core->polled) return SCHED_NEXT_POLL;
        if (fire_next_timer(core) != 0)
            return core->external_waiters > 0 ? SCHED_NEXT_POLL : SCHED_NEXT_DEADLOCK;
        core->polled = 0; /* time moved: the outside world is worth another look */
    }
}

int64_t sched_core_poll_timeout(const struct sched_core *core) {
    for (uint32_t t = 0; t < core->thread_count; t++)
        if (core->threads[t].state == SCHED_THREAD_RUNNABLE) return 0;
    const struct sched_event *next = sched_event_queue_peek(&core->timers);
    if (!next) return -1;
    /* time.external_wall: wait for the outside world in wall time until the next deadline;
     * otherwise the deadline comes at once (deterministic, but an idle server's timers race). */
    if (!core->config.time_external_wall) return 0;
    int64_t left = next->time_ns - core->clock.monotonic_ns;
    return left > 0 ? left : 0;
}

/* Converts a deadline to monotonic nanoseconds (saturating at NEVER). */
static int64_t monotonic_deadline(const struct sched_core *core, int64_t value, int64_t mode) {
    if (value == SCHED_DEADLINE_NEVER) return SCHED_DEADLINE_NEVER;
    int64_t now = core->clock.monotonic_ns;
    int64_t limit = core->clock.monotonic_limit_ns;
    if (mode == SCHED_SLEEP_RELATIVE) {
        MOON_ASSERT(value >= 0);
        /* A deadline past the end of representable time is never reached. */
        return value > limit - now ? SCHED_DEADLINE_NEVER : now + value;
    }
    MOON_ASSERT(mode >= SCHED_CLOCK_MONOTONIC);
    MOON_ASSERT(mode < SCHED_CLOCK_CPU);
    /* Every non-CPU clock is monotonic plus a constant, so the distance carries over. */
    int64_t offset = sched_clock_read(&core->clock, (enum sched_clock_kind)mode) - now;
    if (offset > 0 && value < INT64_MIN + offset) return now; /* long past */
    if (offset < 0 && value > INT64_MAX + offset) return SCHED_DEADLINE_NEVER;
    int64_t deadline = value - offset;
    if (deadline > limit) return SCHED_DEADLINE_NEVER;
    return deadline < now ? now : deadline;
}

/* Blocks the caller (already marked SLEEPING or FUTEX) until `deadline`, then picks who runs. A
 * deadline already past still goes through the queue, after every wake-up due earlier: a zero
 * sleep is a yield. */
static void block_caller(struct sched_core *core, uint32_t caller, int64_t deadline,
                         struct sched_decision *decision) {
    if (deadline != SCHED_DEADLINE_NEVER) {
        int pushed = sched_event_queue_try_push(&core->timers, deadline, SCHED_EVENT_WAKE, caller);
        MOON_ASSERT(pushed == 0);
    }
    core->calls_without_progress = 0;
    int64_t next = choose_next_thread(core);
    if (next == SCHED_NEXT_POLL) {
        decision->flags |= SCHED_DECISION_POLL;
        decision->next_thread = caller; /* the baton holder looks at the outside world */
        return;
    }
    if (next < 0) {
        decision->result = SCHED_RESULT_DEADLOCK;
        decision->next_thread = caller;
        return;
    }
    decision->next_thread = (uint32_t)next;
    if (next == caller) {
        decision->result = core->threads[caller].wake_result;
        decision->value = core->threads[caller].wake_value;
    }
}

static void handle_sleep(struct sched_core *core, const struct sched_request *request,
                         struct sched_decision *decision) {
    struct sched_thread *caller = &core->threads[request->thread];
    caller->state = SCHED_THREAD_SLEEPING;
    caller->wake_result = 0;
    caller->wake_value = 0;
    block_caller(core, request->thread,
                 monotonic_deadline(core, request->arg[0], request->arg[1]), decision);
}

/* The caller is busy for `latency_ns` (others may run); `verdict` and `parameter` are its
 * result, known now and kept for when it runs again. */
static void busy_for(struct sched_core *core, const struct sched_request *request,
                     struct sched_decision *decision, int32_t verdict, uint64_t parameter,
                     int64_t latency_ns) {
    struct sched_thread *caller = &core->threads[request->thread];
    caller->state = SCHED_THREAD_SLEEPING;
    caller->wake_result = verdict;
    caller->wake_value = parameter;
    int64_t room = core->clock.monotonic_limit_ns - core->clock.monotonic_ns;
    int64_t latency = latency_ns < room ? latency_ns : room;
    block_caller(core, request->thread, core->clock.monotonic_ns + latency, decision);
    /* Decided now, known now, even if the caller comes back to it later: the trace shows it. */
    decision->result = verdict;
    decision->value = parameter;
}

static void handle_storage(struct sched_core *core, const struct sched_request *request,
                           struct sched_decision *decision) {
    struct fault_storage_decision verdict;
    int active = sched_core_site_active(core, (uint64_t)request->arg[2]);
    fault_storage_decide(&core->config, &core->streams[SCHED_STREAM_STORAGE],
                         &core->storage_device, core->clock.monotonic_ns, (int)request->arg[0],
                         (uint64_t)request->arg[1], active, &verdict);
    busy_for(core, request, decision, verdict.verdict, verdict.parameter, verdict.latency_ns);
}

static void handle_network(struct sched_core *core, const struct sched_request *request,
                           struct sched_decision *decision) {
    struct fault_network_decision verdict;
    int active = sched_core_site_active(core, (uint64_t)request->arg[2]);
    fault_network_decide(&core->config, &core->streams[SCHED_STREAM_NETWORK], (int)request->arg[0],
                         (uint64_t)request->arg[1], active, (unsigned)request->arg[3], &verdict);
    busy_for(core, request, decision, verdict.verdict, verdict.parameter, verdict.latency_ns);
}

static void handle_wait_external(struct sched_core *core, const struct sched_request *request,
                                 struct sched_decision *decision) {
    struct sched_thread *caller = &core->threads[request->thread];
    caller->state = SCHED_THREAD_EXTERNAL;
    caller->wake_result = 0;
    caller->wake_value = 0;
    core->external_waiters++;
    core->polled = 0;
    block_caller(core, request->thread,
                 monotonic_deadline(core, request->arg[0], request->arg[1]), decision);
}

static void handle_external_ready(struct sched_core *core, const struct sched_request *request) {
    uint32_t thread = (uint32_t)request->arg[0];
    MOON_ASSERT(thread < core->thread_count);
    if (core->threads[thread].state != SCHED_THREAD_EXTERNAL) return;
    wake(core, thread, 0);
    core->calls_without_progress = 0;
}

static void handle_external_done(struct sched_core *core, const struct sched_request *request,
                                 struct sched_decision *decision) {
    MOON_ASSERT(request->arg[0] >= 0);
    /* Waiting on the outside world took real time; virtual time follows it, but never past a
     * pending deadline (the poll would have stopped there). */
    int64_t room = core->clock.monotonic_limit_ns - core->clock.monotonic_ns;
    int64_t target = core->clock.monotonic_ns + (request->arg[0] < room ? request->arg[0] : room);
    const struct sched_event *next_timer = sched_event_queue_peek(&core->timers);
    if (next_timer && next_timer->time_ns < target) target = next_timer->time_ns;
    if (target > core->clock.monotonic_limit_ns) target = core->clock.monotonic_limit_ns;
    if (target > core->clock.monotonic_ns) sched_clock_advance_to(&core->clock, target);
    core->polled = 1;
    core->since_poll = 0;
    int64_t next = choose_next_thread(core);
    core->polled = 0;
    if (next == SCHED_NEXT_POLL) {
        decision->flags |= SCHED_DECISION_POLL;
        decision->next_thread = request->thread;
        return;
    }
    MOON_ASSERT(next >= 0); /* external waiters exist, so never a deadlock here */
    decision->next_thread = (uint32_t)next;
}

static void handle_futex_wait(struct sched_core *core, const struct sched_request *request,
                              struct sched_decision *decision) {
    struct sched_thread *caller = &core->threads[request->thread];
    MOON_ASSERT(request->arg[1] != 0);
    caller->state = SCHED_THREAD_FUTEX;
    caller->wait_key = request->arg[0];
    caller->wait_bitset = (uint32_t)request->arg[1];
    caller->wait_order = core->wait_order_next++;
    caller->wake_result = 0;
    caller->wake_value = 0;
    block_caller(core, request->thread,
                 monotonic_deadline(core, request->arg[2], request->arg[3]), decision);
}

/* The oldest waiter on `key` whose bitset meets `bitset`, or -1. */
static int64_t oldest_waiter(const struct sched_core *core, int64_t key, uint32_t bitset) {
    int64_t found = -1;
    for (uint32_t t = 0; t < core->thread_count; t++) {
        const struct sched_thread *thread = &core->threads[t];
        if (thread->state != SCHED_THREAD_FUTEX || thread->wait_key != key) continue;
        if (!(thread->wait_bitset & bitset)) continue;
        if (found < 0 || thread->wait_order < core->threads[found].wait_order) found = t;
    }
    return found;
}

static int64_t futex_wake(struct sched_core *core, int64_t key, int64_t count, uint32_t bitset) {
    int64_t woken = 0;
    while (woken < count) {
        int64_t thread = oldest_waiter(core, key, bitset);
        if (thread < 0) break;
        wake(core, (uint32_t)thread, 0);
        woken++;
    }
    return woken;
}

/* Moves up to `count` waiters of `key` to `key2`, oldest first, each waiter at most once (also
 * when key2 is key itself). */
static int64_t futex_requeue(struct sched_core *core, int64_t key, int64_t count, int64_t key2) {
    int64_t moved = 0;
    uint64_t after = 0; /* only waiters that went to sleep after the last one moved */
    while (moved < count) {
        int64_t found = -1;
        for (uint32_t t = 0; t < core->thread_count; t++) {
            const struct sched_thread *thread = &core->threads[t];
            if (thread->state != SCHED_THREAD_FUTEX || thread->wait_key != key) continue;
            if (moved > 0 && thread->wait_order <= after) continue;
            if (found < 0 || thread->wait_order < core->threads[found].wait_order) found = t;
        }
        if (found < 0) break;
        after = core->threads[found].wait_order;
        core->threads[found].wait_key = key2; /* keeps its place in the wake order */
        moved++;
    }
    return moved;
}

static void handle_thread_create(struct sched_core *core, struct sched_decision *decision) {
    uint32_t slot = 0;
    while (slot < core->thread_count && core->threads[slot].state != SCHED_THREAD_UNUSED) slot++;
    if (slot == SCHED_THREADS_MAX) {
        decision->result = -1;
        return;
    }
    if (slot == core->thread_count) core->thread_count++;
    memset(&core->threads[slot], 0, sizeof(core->threads[slot]));
    core->threads[slot].state = SCHED_THREAD_RUNNABLE;
    if (core->config.threads_chaos)
        core->threads[slot].priority =
            (uint8_t)sched_prng_below(&core->streams[SCHED_STREAM_SCHEDULE], CHAOS_PRIORITIES);
    core->threads_alive++;
    decision->value = slot;
}

static void handle_thread_exit(struct sched_core *core, const struct sched_request *request,
                               struct sched_decision *decision) {
    uint32_t leaving = (uint32_t)request->arg[1];
    MOON_ASSERT(leaving < core->thread_count);
    MOON_ASSERT(core->threads[leaving].state == SCHED_THREAD_RUNNABLE);
    core->threads[leaving].state = SCHED_THREAD_UNUSED;
    core->threads_alive--;
    if (request->arg[0] != 0) decision->result = futex_wake(core, request->arg[0], INT64_MAX, UINT32_MAX);
    if (leaving != request->thread) return;
    if (core->threads_alive == 0) {
        decision->next_thread = SCHED_THREAD_NONE;
        return;
    }
    int64_t next = choose_next_thread(core);
    if (next == SCHED_NEXT_POLL) {
        /* The leaving thread looks at the outside world on the others' behalf first. */
        decision->flags |= SCHED_DECISION_POLL;
        decision->next_thread = request->thread;
        return;
    }
    decision->next_thread = next < 0 ? SCHED_THREAD_NONE : (uint32_t)next;
    if (next < 0) decision->result = SCHED_RESULT_DEADLOCK;
}

void sched_core_reseed_streams(struct sched_core *core, uint64_t stream_seed) {
    core->stream_seed = stream_seed;
    for (uint32_t stream = 1; stream < SCHED_STREAM_COUNT; stream++)
        sched_prng_stream(&core->streams[stream], stream_seed, stream);
    sched_hash_u64(&core->hash, stream_seed);
    if (core->config.threads_chaos) chaos_draw(core);
}

void sched_core_forked(struct sched_core *core) {
    core->forks++;
}

uint64_t sched_core_child_seed(const struct sched_core *core) {
    /* The n-th child (n = forks + 1, the parent counts after the fork) of streams S draws from
     * splitmix64(S ^ n * golden ratio): deterministic, and distinct from parent and siblings. */
    uint64_t mix = core->stream_seed ^ ((core->forks + 1) * 0x9e3779b97f4a7c15ull);
    return sched_splitmix64(&mix);
}

uint64_t sched_core_after_fork(struct sched_core *core, uint32_t survivor) {
    MOON_ASSERT(survivor < core->thread_count);
    for (uint32_t t = 0; t < core->thread_count; t++) {
        if (t == survivor || core->threads[t].state == SCHED_THREAD_UNUSED) continue;
        sched_event_queue_cancel(&core->timers, SCHED_EVENT_WAKE, t);
        core->threads[t].state = SCHED_THREAD_UNUSED;
    }
    core->threads_alive = 1;
    core->external_waiters = 0;
    if (core->threads[survivor].state == SCHED_THREAD_EXTERNAL) core->external_waiters = 1;
    uint64_t child_seed = sched_core_child_seed(core);
    core->forks = 0;
    sched_core_reseed_streams(core, child_seed);
    return child_seed;
}

static void record(struct sched_core *core, const struct sched_request *request,
                   const struct sched_decision *decision) {
    struct sched_hash *hash = &core->hash;
    sched_hash_u64(hash, decision->sequence);
    sched_hash_u64(hash, (uint64_t)decision->now_ns);
    sched_hash_u64(hash, request->thread);
    sched_hash_u64(hash, (uint64_t)request->kind << 32 | request->call);
    for (int i = 0; i < 4; i++) sched_hash_u64(hash, (uint64_t)request->arg[i]);
    sched_hash_u64(hash, (uint64_t)decision->result);
    sched_hash_u64(hash, decision->value);
    sched_hash_u64(hash, decision->next_thread);
    sched_hash_u64(hash, decision->flags);
}

/* Counts calls in which neither time moved nor anyone blocked; past the budget, a livelock. */
static int livelocked(struct sched_core *core, int64_t time_before, int blocked) {
    if (blocked || core->clock.monotonic_ns != time_before) core->calls_without_progress = 0;
    else core->calls_without_progress++;
    uint64_t budget = (uint64_t)core->config.threads_livelock_calls;
    return budget != 0 && core->calls_without_progress > budget;
}

static void handle_kind(struct sched_core *core, const struct sched_request *request,
                        struct sched_decision *decision) {
    switch (request->kind) {
    case SCHED_REQ_CLOCK_READ:
        MOON_ASSERT(request->arg[0] >= SCHED_CLOCK_MONOTONIC);
        MOON_ASSERT(request->arg[0] <= SCHED_CLOCK_CPU);
        decision->value =
            (uint64_t)sched_clock_read(&core->clock, (enum sched_clock_kind)request->arg[0]);
        break;
    case SCHED_REQ_SLEEP: handle_sleep(core, request, decision); return;
    case SCHED_REQ_FUTEX_WAIT: handle_futex_wait(core, request, decision); return;
    case SCHED_REQ_STORAGE: handle_storage(core, request, decision); return;
    case SCHED_REQ_NETWORK: handle_network(core, request, decision); return;
    case SCHED_REQ_WAIT_EXTERNAL: handle_wait_external(core, request, decision); return;
    case SCHED_REQ_EXTERNAL_READY: handle_external_ready(core, request); return;
    case SCHED_REQ_EXTERNAL_DONE: handle_external_done(core, request, decision); return;
    case SCHED_REQ_THREAD_CREATE: handle_thread_create(core, decision); return;
    case SCHED_REQ_THREAD_EXIT: handle_thread_exit(core, request, decision); return;
    case SCHED_REQ_RANDOM:
        MOON_ASSERT(request->arg[0] >= 0);
        decision->value = sched_prng_next(&core->streams[SCHED_STREAM_RANDOM]);
        break;
    case SCHED_REQ_RECORD: decision->result = request->result; break;
    case SCHED_REQ_INTERRUPT: {
        MOON_ASSERT(request->arg[0] >= 0 && (uint64_t)request->arg[0] < core->thread_count);
        uint32_t target = (uint32_t)request->arg[0];
        uint8_t state = core->threads[target].state;
        decision->result = state == SCHED_THREAD_SLEEPING || state == SCHED_THREAD_FUTEX ||
                           state == SCHED_THREAD_EXTERNAL;
        if (decision->result) wake(core, target, SCHED_RESULT_INTERRUPTED);
        break;
    }
    case SCHED_REQ_FUTEX_WAKE:
        decision->result = futex_wake(core, request->arg[0], request->arg[1],
                                      (uint32_t)request->arg[2]);
        break;
    case SCHED_REQ_FUTEX_REQUEUE:
        decision->result = futex_wake(core, request->arg[0], request->arg[1], UINT32_MAX);
        decision->value = (uint64_t)futex_requeue(core, request->arg[0], request->arg[3],
                                                  request->arg[2]);
        break;
    case SCHED_REQ_FUTEX_WAKE_OP:
        decision->result = futex_wake(core, request->arg[0], request->arg[1], UINT32_MAX) +
                           futex_wake(core, request->arg[2], request->arg[3], UINT32_MAX);
        break;
    default: MOON_ASSERT(!"unknown request kind");
    }
    /* A non-blocking request is a switch point too: the caller stays runnable and competes. */
    int64_t next = choose_next_thread(core);
    if (next == SCHED_NEXT_POLL) {
        decision->flags |= SCHED_DECISION_POLL;
        next = request->thread;
    }
    MOON_ASSERT(next >= 0);
    decision->next_thread = (uint32_t)next;
}

/* process.crash_*: is this the call at which the process dies? At most once per run. */
static int crash_now(struct sched_core *core) {
    const struct sched_config *config = &core->config;
    if (core->crashed) return 0;
    int64_t elapsed = core->clock.monotonic_ns - config->time_uptime_ns;
    /* "At call N": the first request that may crash at or after event N (a thread's exit may
     * not: the thread is already gone from the program's point of view). */
    int crash = (config->process_crash_at_call > 0 &&
                 core->events + 1 >= (uint64_t)config->process_crash_at_call) ||
                (config->process_crash_at_ns > 0 && elapsed >= config->process_crash_at_ns);
    if (!crash && config->process_crash_probability >= SCHED_PROBABILITY_ONE) crash = 1;
    else if (!crash && config->process_crash_probability > 0)
        crash = sched_prng_chance(&core->streams[SCHED_STREAM_PROCESS],
                                  (uint32_t)config->process_crash_probability);
    core->crashed = (uint32_t)crash;
    return crash;
}

/* process.terminate_*: is this the call after which the process is asked to stop? Once per run;
 * drawn from its own stream so that turning it on changes nothing else. */
static int terminate_now(struct sched_core *core) {
    const struct sched_config *config = &core->config;
    if (core->terminated) return 0;
    int64_t elapsed = core->clock.monotonic_ns - config->time_uptime_ns;
    int terminate = config->process_terminate_at_ns > 0 && elapsed >= config->process_terminate_at_ns;
    /* draw_q32, not chance: a probability of one is 2^32, which does not fit a 32-bit chance. */
    if (!terminate && config->process_terminate_probability > 0)
        terminate = sched_prng_draw_q32(&core->streams[SCHED_STREAM_TERMINATE],
                                        config->process_terminate_probability);
    core->terminated = (uint32_t)terminate;
    return terminate;
}

void sched_core_handle(struct sched_core *core, const struct sched_request *request,
                       struct sched_decision *decision) {
    MOON_ASSERT(request->thread < core->thread_count);
    int on_behalf = request->kind == SCHED_REQ_EXTERNAL_READY ||
                    request->kind == SCHED_REQ_EXTERNAL_DONE;
    /* A poll is done by the baton holder, which may itself be blocked (or leaving). */
    MOON_ASSERT(on_behalf || core->threads[request->thread].state == SCHED_THREAD_RUNNABLE);
    memset(decision, 0, sizeof(*decision));
    core->clock.calls++;
    int64_t time_before = core->clock.monotonic_ns;
    int64_t cost = fault_time_call_cost(&core->config, &core->streams[SCHED_STREAM_TIME]);
    sched_clock_advance_by(&core->clock, cost);
    decision->next_thread = request->thread;
    if (request->kind != SCHED_REQ_THREAD_EXIT && !on_behalf && crash_now(core)) {
        /* The process dies before this call happens: nothing else to decide. */
        decision->flags = SCHED_DECISION_CRASH;
        decision->sequence = ++core->events;
        decision->now_ns = core->clock.monotonic_ns;
        record(core, request, decision);
        return;
    }
    handle_kind(core, request, decision);
    if (!on_behalf && terminate_now(core)) decision->flags |= SCHED_DECISION_TERMINATE;
    struct sched_thread *caller = &core->threads[request->thread];
    /* A look at the outside world is not progress by itself (a thread it woke, or time it moved,
     * is): livelocks are still found while threads wait outside. */
    int blocked = caller->state != SCHED_THREAD_RUNNABLE && !on_behalf;
    /* What the caller gets back when it runs again, whether or not it blocked (the shim reads it
     * after a switch). */
    if (!blocked && !on_behalf) {
        caller->wake_result = decision->result;
        caller->wake_value = decision->value;
    }
    if (livelocked(core, time_before, blocked)) {
        decision->result = SCHED_RESULT_LIVELOCK;
        decision->next_thread = request->thread;
    }
    decision->sequence = ++core->events;
    decision->now_ns = core->clock.monotonic_ns;
    record(core, request, decision);
}
