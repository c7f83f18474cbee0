/* test_core_threads.c: unit suite for the threaded half of scheduler/core.c: thread slots, the
 * seeded schedule and chaos mode, futexes and their deadlines, exit, deadlock, livelock, fork and
 * the hash of a threaded run.
 *
 * Requests name their thread explicitly. The core only asserts that the asking thread is runnable,
 * so a test may speak for any runnable thread; where the schedule itself is under test, the driver
 * follows next_thread as the shim does. Random choices are checked both ways: equal seeds agree,
 * different seeds disagree, so no test can pass by doing nothing. The "regressions" case keeps the
 * reproducers of core bugs this suite found. A new, unfixed one goes in a test case of its own
 * tagged "known_bug" (see tests/unit/meson.build). */
#include <stdint.h>
#include <string.h>

#include "scheduler/core.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
#define UPTIME_NS (100 * SECOND_NS)        /* the default time.uptime */
#define EPOCH_NS (1767225600 * SECOND_NS)  /* the default time.epoch, in ns */
#define CALL_BASE 2000                     /* call numbers of the requests: CALL_BASE + kind */
#define KEY_A 0x1000
#define KEY_B 0x2000
#define KEY_C 0x3000
#define BITSET_ANY 0xffffffffll
#define WAKE_ALL INT32_MAX
#define SCHEDULE_LENGTH 1000
#define CHAOS_LENGTH 10000
#define WINDOW 50

/* Cores are large (the timer queue is inline); keep them off the stack. */
static struct sched_core core, other;
static uint32_t sequence[CHAOS_LENGTH], other_sequence[CHAOS_LENGTH];

/* ---- Driving the core ---- */

static struct sched_config default_config(void) {
    struct sched_config config;
    sched_config_defaults(&config);
    return config;
}

static struct sched_decision ask(struct sched_core *target, uint32_t thread, uint32_t kind,
                                 int64_t arg0, int64_t arg1, int64_t arg2, int64_t arg3) {
    struct sched_request request = {kind, thread, CALL_BASE + kind, 0, {arg0, arg1, arg2, arg3},
                                    0};
    struct sched_decision decision;
    memset(&decision, 0xa5, sizeof(decision));
    sched_core_handle(target, &request, &decision);
    return decision;
}

/* Creates a thread on behalf of `caller`; asserts it succeeds without switching. */
static uint32_t create(struct sched_core *target, uint32_t caller) {
    struct sched_decision decision = ask(target, caller, SCHED_REQ_THREAD_CREATE, 0, 0, 0, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.next_thread, caller);
    return (uint32_t)decision.value;
}

/* A run with `count` runnable threads, 0 to count - 1, all created by thread 0. */
static void start_threads_with(struct sched_core *target, uint64_t seed,
                               const struct sched_config *config, uint32_t count) {
    sched_core_init(target, seed, config);
    for (uint32_t t = 1; t < count; t++) ck_assert_uint_eq(create(target, 0), t);
}

static void start_threads(struct sched_core *target, uint64_t seed, uint32_t count) {
    struct sched_config config = default_config();
    start_threads_with(target, seed, &config, count);
}

static struct sched_decision record(struct sched_core *target, uint32_t thread) {
    return ask(target, thread, SCHED_REQ_RECORD, 0, 0, 0, 0);
}

static struct sched_decision sleep_for(struct sched_core *target, uint32_t thread,
                                       int64_t duration_ns) {
    return ask(target, thread, SCHED_REQ_SLEEP, duration_ns, SCHED_SLEEP_RELATIVE, 0, 0);
}

static struct sched_decision wait_until(struct sched_core *target, uint32_t thread, int64_t key,
                                        int64_t deadline, int64_t mode) {
    return ask(target, thread, SCHED_REQ_FUTEX_WAIT, key, BITSET_ANY, deadline, mode);
}

static struct sched_decision wait_bitset(struct sched_core *target, uint32_t thread, int64_t key,
                                         int64_t bitset) {
    return ask(target, thread, SCHED_REQ_FUTEX_WAIT, key, bitset, SCHED_DEADLINE_NEVER,
               SCHED_SLEEP_RELATIVE);
}

static struct sched_decision wait_on(struct sched_core *target, uint32_t thread, int64_t key) {
    return wait_bitset(target, thread, key, BITSET_ANY);
}

static struct sched_decision wake_bitset(struct sched_core *target, uint32_t thread, int64_t key,
                                         int64_t count, int64_t bitset) {
    return ask(target, thread, SCHED_REQ_FUTEX_WAKE, key, count, bitset, 0);
}

static int64_t wake(struct sched_core *target, uint32_t thread, int64_t key, int64_t count) {
    return wake_bitset(target, thread, key, count, BITSET_ANY).result;
}

static struct sched_decision requeue(struct sched_core *target, uint32_t thread, int64_t key,
                                     int64_t wake_count, int64_t key2, int64_t move_count) {
    return ask(target, thread, SCHED_REQ_FUTEX_REQUEUE, key, wake_count, key2, move_count);
}

static struct sched_decision exit_thread(struct sched_core *target, uint32_t caller,
                                         uint32_t leaving, int64_t key) {
    return ask(target, caller, SCHED_REQ_THREAD_EXIT, key, leaving, 0, 0);
}

/* Records `length` calls, each by the thread the previous decision named; keeps the names. */
static void follow_schedule(struct sched_core *target, uint32_t first, size_t length,
                            uint32_t *names) {
    uint32_t current = first;
    for (size_t i = 0; i < length; i++) {
        struct sched_decision decision = record(target, current);
        ck_assert_int_eq(decision.result, 0);
        names[i] = current = decision.next_thread;
    }
}

/* The state of every used slot, one letter each: Runnable, Sleeping, Futex, Unused. */
static const char *states(const struct sched_core *target) {
    static char letters[SCHED_THREADS_MAX + 1];
    static const char by_state[] = {'U', 'R', 'S', 'F'};
    for (uint32_t t = 0; t < target->thread_count; t++)
        letters[t] = by_state[target->threads[t].state];
    letters[target->thread_count] = '\0';
    return letters;
}

static size_t count_differences(const uint32_t *a, const uint32_t *b, size_t length) {
    size_t differences = 0;
    for (size_t i = 0; i < length; i++) differences += a[i] != b[i];
    return differences;
}

/* ---- Creating threads ---- */

START_TEST(test_create_gives_consecutive_ids) {
    start_threads(&core, 1, 1);
    for (uint32_t expected = 1; expected <= 5; expected++) {
        ck_assert_uint_eq(create(&core, 0), expected);
        ck_assert_uint_eq(core.thread_count, expected + 1);
        ck_assert_uint_eq(core.threads_alive, expected + 1);
    }
    /* Any runnable thread may create, and it keeps running too. */
    ck_assert_uint_eq(create(&core, 3), 6);
    ck_assert_str_eq(states(&core), "RRRRRRR");
}
END_TEST

/* A create is never a switch point, whatever the seed; a record by the same thread is. */
START_TEST(test_create_never_switches) {
    int switched_on_record = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        start_threads(&core, seed, 3);
        ck_assert_uint_eq(create(&core, 2), 3);
        switched_on_record += record(&core, 2).next_thread != 2;
    }
    ck_assert_int_gt(switched_on_record, 0);
}
END_TEST

START_TEST(test_create_reuses_lowest_free_slot) {
    start_threads(&core, 1, 5);
    ck_assert_uint_eq(exit_thread(&core, 3, 3, 0).next_thread == 3, 0);
    ck_assert_uint_eq(exit_thread(&core, 1, 1, 0).next_thread == 1, 0);
    ck_assert_str_eq(states(&core), "RURUR");
    ck_assert_uint_eq(core.threads_alive, 3);
    ck_assert_uint_eq(core.thread_count, 5);
    ck_assert_uint_eq(create(&core, 0), 1);
    ck_assert_uint_eq(create(&core, 4), 3);
    ck_assert_uint_eq(create(&core, 0), 5);
    ck_assert_uint_eq(core.thread_count, 6);
    ck_assert_uint_eq(core.threads_alive, 6);
}
END_TEST

/* A slot's previous occupant timed out; the new thread in it starts with a clean result. */
START_TEST(test_reused_slot_starts_fresh) {
    start_threads(&core, 1, 2);
    wait_until(&core, 1, KEY_A, SECOND_NS, SCHED_SLEEP_RELATIVE);
    struct sched_decision decision = sleep_for(&core, 0, 10 * SECOND_NS);
    ck_assert_uint_eq(decision.next_thread, 1);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), SCHED_RESULT_TIMED_OUT);
    /* Thread 1 leaves; only the sleeper is left, so time jumps to its deadline. */
    decision = exit_thread(&core, 1, 1, 0);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 10 * SECOND_NS);
    ck_assert_uint_eq(create(&core, 0), 1);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), 0);
    ck_assert_int_eq(core.threads[1].wait_key, 0);
}
END_TEST

START_TEST(test_create_fails_when_full) {
    start_threads(&core, 1, SCHED_THREADS_MAX);
    ck_assert_uint_eq(core.thread_count, SCHED_THREADS_MAX);
    struct sched_decision decision = ask(&core, 0, SCHED_REQ_THREAD_CREATE, 0, 0, 0, 0);
    ck_assert_int_lt(decision.result, 0);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_uint_eq(core.thread_count, SCHED_THREADS_MAX);
    ck_assert_uint_eq(core.threads_alive, SCHED_THREADS_MAX);
    /* Room again after an exit, in the freed slot. */
    exit_thread(&core, 0, 77, 0);
    ck_assert_uint_eq(create(&core, 0), 77);
}
END_TEST

/* ---- The seeded schedule ---- */

START_TEST(test_schedule_equal_for_equal_seeds) {
    start_threads(&core, 7, 3);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    start_threads(&other, 7, 3);
    follow_schedule(&other, 0, SCHEDULE_LENGTH, other_sequence);
    ck_assert_mem_eq(sequence, other_sequence, SCHEDULE_LENGTH * sizeof(sequence[0]));
}
END_TEST

START_TEST(test_schedule_differs_by_seed) {
    start_threads(&core, 7, 3);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    start_threads(&other, 8, 3);
    follow_schedule(&other, 0, SCHEDULE_LENGTH, other_sequence);
    /* Two independent uniform choices among 3 disagree two times in three. */
    ck_assert_uint_gt(count_differences(sequence, other_sequence, SCHEDULE_LENGTH), 500);
}
END_TEST

START_TEST(test_schedule_reaches_every_runnable_thread) {
    start_threads(&core, 11, 3);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    uint64_t counts[3] = {0};
    for (size_t i = 0; i < SCHEDULE_LENGTH; i++) {
        ck_assert_uint_lt(sequence[i], 3);
        counts[sequence[i]]++;
    }
    for (int t = 0; t < 3; t++) ck_assert_uint_gt(counts[t], 250);
    ck_assert_double_lt(unit_chi_square(counts, 3), 20.0);
}
END_TEST

START_TEST(test_schedule_never_picks_blocked_threads) {
    start_threads(&core, 12, 4);
    wait_on(&core, 2, KEY_A);
    sleep_for(&core, 3, SCHED_DEADLINE_NEVER);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    uint64_t counts[4] = {0};
    for (size_t i = 0; i < SCHEDULE_LENGTH; i++) counts[sequence[i]]++;
    ck_assert_uint_eq(counts[2], 0);
    ck_assert_uint_eq(counts[3], 0);
    ck_assert_uint_gt(counts[0], 400);
    ck_assert_uint_gt(counts[1], 400);
}
END_TEST

/* The choice is part of the replay format: one draw below the runnable count from the schedule
 * stream, over the runnable threads in slot order; the application's stream is left alone. */
START_TEST(test_schedule_draws_from_schedule_stream) {
    start_threads(&core, 13, 3);
    struct sched_prng expected;
    sched_prng_stream(&expected, 13, SCHED_STREAM_SCHEDULE);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    for (size_t i = 0; i < SCHEDULE_LENGTH; i++)
        ck_assert_uint_eq(sequence[i], sched_prng_below(&expected, 3));
    struct sched_prng fresh;
    sched_prng_stream(&fresh, 13, SCHED_STREAM_RANDOM);
    ck_assert_mem_eq(&core.streams[SCHED_STREAM_RANDOM], &fresh, sizeof(fresh));
}
END_TEST

/* ---- Futex wait and wake ---- */

START_TEST(test_futex_wait_blocks_caller) {
    for (uint64_t seed = 1; seed <= 40; seed++) {
        start_threads(&core, seed, 3);
        struct sched_decision decision = wait_on(&core, 0, KEY_A);
        ck_assert_uint_ne(decision.next_thread, 0);
        ck_assert_uint_lt(decision.next_thread, 3);
        ck_assert_str_eq(states(&core), "FRR");
        ck_assert_int_eq(core.threads[0].wait_key, KEY_A);
        ck_assert_uint_eq(core.timers.count, 0);
    }
}
END_TEST

/* Waiters wake in the order they started waiting, not in slot order. */
START_TEST(test_futex_wake_oldest_first) {
    start_threads(&core, 1, 5);
    wait_on(&core, 3, KEY_A);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 4, KEY_A);
    wait_on(&core, 2, KEY_A);
    ck_assert_str_eq(states(&core), "RFFFF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    ck_assert_str_eq(states(&core), "RFFRF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    ck_assert_str_eq(states(&core), "RRFRF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    ck_assert_str_eq(states(&core), "RRFRR");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 5), 1);
    ck_assert_str_eq(states(&core), "RRRRR");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 5), 0);
    for (uint32_t t = 1; t < 5; t++) ck_assert_int_eq(sched_core_wake_result(&core, t), 0);
}
END_TEST

/* A thread that waits again goes to the back of the line. */
START_TEST(test_futex_wait_again_goes_last) {
    start_threads(&core, 1, 4);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_A);
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    wait_on(&core, 3, KEY_A);
    wait_on(&core, 1, KEY_A);
    ck_assert_int_eq(wake(&core, 0, KEY_A, 2), 2);
    ck_assert_str_eq(states(&core), "RFRR");
}
END_TEST

START_TEST(test_futex_wake_respects_count) {
    start_threads(&core, 1, 5);
    for (uint32_t t = 1; t < 5; t++) wait_on(&core, t, KEY_A);
    ck_assert_int_eq(wake(&core, 0, KEY_A, 0), 0);
    ck_assert_str_eq(states(&core), "RFFFF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 2), 2);
    ck_assert_str_eq(states(&core), "RRRFF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 10), 2);
    ck_assert_str_eq(states(&core), "RRRRR");
}
END_TEST

START_TEST(test_futex_wake_respects_bitsets) {
    start_threads(&core, 1, 4);
    wait_bitset(&core, 1, KEY_A, 0x1);
    wait_bitset(&core, 2, KEY_A, 0x2);
    wait_bitset(&core, 3, KEY_A, 0x3);
    ck_assert_int_eq(wake_bitset(&core, 0, KEY_A, WAKE_ALL, 0x4).result, 0);
    ck_assert_int_eq(wake_bitset(&core, 0, KEY_A, WAKE_ALL, 0x2).result, 2);
    ck_assert_str_eq(states(&core), "RFRR");
    ck_assert_int_eq(wake_bitset(&core, 0, KEY_A, WAKE_ALL, 0x1).result, 1);
    ck_assert_str_eq(states(&core), "RRRR");
}
END_TEST

/* The oldest waiter whose bitset fails the wake is skipped, not counted. */
START_TEST(test_futex_wake_bitset_skips_oldest) {
    start_threads(&core, 1, 3);
    wait_bitset(&core, 1, KEY_A, 0x1);
    wait_bitset(&core, 2, KEY_A, 0x2);
    ck_assert_int_eq(wake_bitset(&core, 0, KEY_A, 1, 0x2).result, 1);
    ck_assert_str_eq(states(&core), "RFR");
}
END_TEST

START_TEST(test_futex_wake_other_key_wakes_nobody) {
    start_threads(&core, 1, 3);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_B);
    ck_assert_int_eq(wake(&core, 0, KEY_C, WAKE_ALL), 0);
    ck_assert_int_eq(wake(&core, 0, KEY_B, WAKE_ALL), 1);
    ck_assert_str_eq(states(&core), "RFR");
}
END_TEST

/* ---- Futex deadlines ---- */

START_TEST(test_futex_relative_deadline_alone) {
    start_threads(&core, 1, 1);
    struct sched_decision decision = wait_until(&core, 0, KEY_A, 2 * SECOND_NS,
                                                SCHED_SLEEP_RELATIVE);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(decision.result, SCHED_RESULT_TIMED_OUT);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 2 * SECOND_NS);
    ck_assert_uint_eq(core.timers.count, 0);
}
END_TEST

/* Time stands still while anyone runs; once everyone waits, it jumps to the deadline. */
START_TEST(test_futex_relative_deadline_when_all_block) {
    start_threads(&core, 1, 2);
    struct sched_decision decision = wait_until(&core, 1, KEY_A, 5 * SECOND_NS,
                                                SCHED_SLEEP_RELATIVE);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS);
    ck_assert_uint_eq(core.timers.count, 1);
    decision = wait_on(&core, 0, KEY_B);
    ck_assert_uint_eq(decision.next_thread, 1);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 5 * SECOND_NS);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), SCHED_RESULT_TIMED_OUT);
    ck_assert_str_eq(states(&core), "FR");
    ck_assert_uint_eq(core.timers.count, 0);
}
END_TEST

START_TEST(test_futex_absolute_realtime_deadline) {
    start_threads(&core, 1, 2);
    wait_until(&core, 1, KEY_A, EPOCH_NS + 3 * SECOND_NS + 7, SCHED_CLOCK_REALTIME);
    struct sched_decision decision = sleep_for(&core, 0, SCHED_DEADLINE_NEVER);
    ck_assert_uint_eq(decision.next_thread, 1);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 3 * SECOND_NS + 7);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), SCHED_RESULT_TIMED_OUT);
    ck_assert_str_eq(states(&core), "SR");
}
END_TEST

START_TEST(test_futex_absolute_deadline_past) {
    start_threads(&core, 1, 1);
    struct sched_decision decision = wait_until(&core, 0, KEY_A, 0, SCHED_CLOCK_REALTIME);
    ck_assert_int_eq(decision.result, SCHED_RESULT_TIMED_OUT);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS);
}
END_TEST

/* The earliest deadline fires first, whatever the order the waits started in. */
START_TEST(test_futex_deadlines_fire_in_time_order) {
    start_threads(&core, 1, 3);
    wait_until(&core, 1, KEY_A, 9 * SECOND_NS, SCHED_SLEEP_RELATIVE);
    wait_until(&core, 2, KEY_A, 4 * SECOND_NS, SCHED_SLEEP_RELATIVE);
    struct sched_decision decision = wait_on(&core, 0, KEY_B);
    ck_assert_uint_eq(decision.next_thread, 2);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 4 * SECOND_NS);
    decision = wait_on(&core, 2, KEY_B);
    ck_assert_uint_eq(decision.next_thread, 1);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 9 * SECOND_NS);
}
END_TEST

/* Woken early, the waiter's timer is gone: time later jumps past the old deadline untouched. */
START_TEST(test_futex_wake_cancels_deadline) {
    start_threads(&core, 1, 2);
    wait_until(&core, 1, KEY_A, 5 * SECOND_NS, SCHED_SLEEP_RELATIVE);
    ck_assert_uint_eq(core.timers.count, 1);
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    ck_assert_uint_eq(core.timers.count, 0);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), 0);
    wait_on(&core, 1, KEY_B);
    struct sched_decision decision = sleep_for(&core, 0, 10 * SECOND_NS);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 10 * SECOND_NS);
    ck_assert_str_eq(states(&core), "RF");
}
END_TEST

/* ---- Requeue and wake-op ---- */

START_TEST(test_requeue_wakes_then_moves) {
    start_threads(&core, 1, 6);
    static const uint32_t order[] = {3, 1, 5, 2, 4};
    for (size_t i = 0; i < 5; i++) wait_on(&core, order[i], KEY_A);
    struct sched_decision decision = requeue(&core, 0, KEY_A, 1, KEY_B, 2);
    ck_assert_int_eq(decision.result, 1);
    ck_assert_uint_eq(decision.value, 2);
    ck_assert_str_eq(states(&core), "RFFRFF");
    ck_assert_int_eq(core.threads[1].wait_key, KEY_B);
    ck_assert_int_eq(core.threads[5].wait_key, KEY_B);
    ck_assert_int_eq(core.threads[2].wait_key, KEY_A);
    /* The moved ones keep their order on the new key: 1 before 5. */
    ck_assert_int_eq(wake(&core, 0, KEY_B, 1), 1);
    ck_assert_str_eq(states(&core), "RRFRFF");
    ck_assert_int_eq(wake(&core, 0, KEY_B, 1), 1);
    ck_assert_str_eq(states(&core), "RRFRFR");
    ck_assert_int_eq(wake(&core, 0, KEY_B, 1), 0);
    ck_assert_int_eq(wake(&core, 0, KEY_A, WAKE_ALL), 2);
}
END_TEST

START_TEST(test_requeue_limited_by_waiters) {
    start_threads(&core, 1, 3);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_A);
    struct sched_decision decision = requeue(&core, 0, KEY_A, 0, KEY_B, 10);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.value, 2);
    decision = requeue(&core, 0, KEY_A, 10, KEY_B, 10);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.value, 0);
    ck_assert_int_eq(wake(&core, 0, KEY_B, WAKE_ALL), 2);
}
END_TEST

START_TEST(test_wake_op_wakes_both_keys) {
    start_threads(&core, 1, 5);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_A);
    wait_on(&core, 3, KEY_B);
    wait_on(&core, 4, KEY_B);
    struct sched_decision decision =
        ask(&core, 0, SCHED_REQ_FUTEX_WAKE_OP, KEY_A, 1, KEY_B, 2);
    ck_assert_int_eq(decision.result, 3);
    ck_assert_str_eq(states(&core), "RRFRR");
    /* A zero second count (the shim's "condition false") wakes only the first key. */
    wait_on(&core, 3, KEY_B);
    decision = ask(&core, 0, SCHED_REQ_FUTEX_WAKE_OP, KEY_A, 5, KEY_B, 0);
    ck_assert_int_eq(decision.result, 1);
    ck_assert_str_eq(states(&core), "RRRFR");
}
END_TEST

/* ---- Exit ---- */

/* The CLONE_CHILD_CLEARTID case: the joiner waits on the leaving thread's tid word. */
START_TEST(test_exit_wakes_joiner) {
    start_threads(&core, 1, 3);
    wait_on(&core, 0, KEY_A);
    wait_on(&core, 2, KEY_B);
    struct sched_decision decision = exit_thread(&core, 1, 1, KEY_A);
    ck_assert_int_eq(decision.result, 1);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(sched_core_wake_result(&core, 0), 0);
    ck_assert_str_eq(states(&core), "RUF");
    ck_assert_uint_eq(core.threads_alive, 2);
}
END_TEST

START_TEST(test_exit_wakes_every_waiter_on_key) {
    start_threads(&core, 1, 4);
    wait_on(&core, 0, KEY_A);
    wait_bitset(&core, 2, KEY_A, 0x4);
    struct sched_decision decision = exit_thread(&core, 3, 3, KEY_A);
    ck_assert_int_eq(decision.result, 2);
    ck_assert_uint_ne(decision.next_thread, 3);
    ck_assert_str_eq(states(&core), "RRRU");
}
END_TEST

START_TEST(test_exit_of_last_thread) {
    start_threads(&core, 1, 2);
    struct sched_decision decision = exit_thread(&core, 1, 1, 0);
    ck_assert_uint_eq(decision.next_thread, 0);
    decision = exit_thread(&core, 0, 0, 0);
    ck_assert_uint_eq(decision.next_thread, SCHED_THREAD_NONE);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(core.threads_alive, 0);
    ck_assert_str_eq(states(&core), "UU");
}
END_TEST

/* Removing another thread (a failed clone) is not a switch point, whatever the seed. */
START_TEST(test_exit_of_other_thread_keeps_caller) {
    for (uint64_t seed = 1; seed <= 40; seed++) {
        start_threads(&core, seed, 3);
        struct sched_decision decision = exit_thread(&core, 0, 2, 0);
        ck_assert_uint_eq(decision.next_thread, 0);
        ck_assert_str_eq(states(&core), "RRU");
        ck_assert_uint_eq(core.threads_alive, 2);
    }
}
END_TEST

START_TEST(test_exit_leaving_only_waiters_deadlocks) {
    start_threads(&core, 1, 2);
    wait_on(&core, 1, KEY_A);
    struct sched_decision decision = exit_thread(&core, 0, 0, KEY_B);
    ck_assert_int_eq(decision.result, SCHED_RESULT_DEADLOCK);
    ck_assert_uint_ne(decision.next_thread, 1);
}
END_TEST

/* ---- Deadlock and livelock ---- */

START_TEST(test_two_waiters_deadlock) {
    start_threads(&core, 1, 2);
    struct sched_decision decision = wait_on(&core, 1, KEY_A);
    ck_assert_uint_eq(decision.next_thread, 0);
    decision = wait_on(&core, 0, KEY_B);
    ck_assert_int_eq(decision.result, SCHED_RESULT_DEADLOCK);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS);
    ck_assert_str_eq(states(&core), "FF");
}
END_TEST

/* With a deadline pending, the same situation is not a deadlock. */
START_TEST(test_pending_deadline_is_not_deadlock) {
    start_threads(&core, 1, 2);
    wait_until(&core, 1, KEY_A, SECOND_NS, SCHED_SLEEP_RELATIVE);
    struct sched_decision decision = wait_on(&core, 0, KEY_B);
    ck_assert_int_ne(decision.result, SCHED_RESULT_DEADLOCK);
    ck_assert_uint_eq(decision.next_thread, 1);
}
END_TEST

static void start_with_livelock(struct sched_core *target, int64_t budget, int64_t cost_ns) {
    struct sched_config config = default_config();
    config.threads_livelock_calls = budget;
    config.time_call_cost_ns = cost_ns;
    sched_core_init(target, 1, &config);
}

/* Asserts that `count` records by thread 0 pass without a livelock verdict. */
static void records_pass(struct sched_core *target, int count) {
    for (int i = 0; i < count; i++)
        ck_assert_msg(record(target, 0).result == 0, "record %d of %d gave a verdict", i + 1,
                      count);
}

static void assert_livelock(struct sched_decision decision, uint32_t caller) {
    ck_assert_int_eq(decision.result, SCHED_RESULT_LIVELOCK);
    ck_assert_uint_eq(decision.next_thread, caller);
}

START_TEST(test_livelock_after_budget) {
    start_with_livelock(&core, 100, 0);
    records_pass(&core, 100);
    assert_livelock(record(&core, 0), 0);
}
END_TEST

START_TEST(test_livelock_reset_by_sleep) {
    start_with_livelock(&core, 100, 0);
    records_pass(&core, 80);
    ck_assert_int_eq(sleep_for(&core, 0, 1000).result, 0);
    records_pass(&core, 100);
    assert_livelock(record(&core, 0), 0);
}
END_TEST

START_TEST(test_livelock_never_with_call_cost) {
    start_with_livelock(&core, 100, 1);
    records_pass(&core, 5000);
}
END_TEST

START_TEST(test_livelock_zero_budget_disables) {
    start_with_livelock(&core, 0, 0);
    records_pass(&core, 5000);
}
END_TEST

/* Several threads spinning are a livelock too; the verdict goes to whoever asked. */
START_TEST(test_livelock_with_threads_names_caller) {
    struct sched_config config = default_config();
    config.threads_livelock_calls = 100;
    start_threads_with(&core, 3, &config, 3);
    uint32_t current = 0;
    for (int i = 0; i < 1000; i++) {
        struct sched_decision decision = record(&core, current);
        if (decision.result == SCHED_RESULT_LIVELOCK) {
            ck_assert_uint_eq(decision.next_thread, current);
            ck_assert_int_ge(i, 90);
            return;
        }
        current = decision.next_thread;
    }
    ck_abort_msg("no livelock verdict in 1000 calls with a budget of 100");
}
END_TEST

/* ---- Chaos mode ---- */

static void run_chaos(struct sched_core *target, uint64_t seed, uint32_t *names) {
    struct sched_config config = default_config();
    config.threads_chaos = 1;
    start_threads_with(target, seed, &config, 4);
    follow_schedule(target, 0, CHAOS_LENGTH, names);
}

static void run_uniform(struct sched_core *target, uint64_t seed, uint32_t *names) {
    start_threads(target, seed, 4);
    follow_schedule(target, 0, CHAOS_LENGTH, names);
}

struct window_stats {
    uint32_t dominated;         /* windows in which one thread had at least `threshold` turns */
    uint32_t largest;           /* the most turns one thread had in any window */
    uint32_t dominant_threads;  /* bit t: thread t dominated some window */
};

/* Splits `names` into windows of WINDOW consecutive choices among 4 threads. */
static struct window_stats window_stats(const uint32_t *names, size_t length, uint32_t threshold) {
    struct window_stats stats = {0, 0, 0};
    for (size_t start = 0; start + WINDOW <= length; start += WINDOW) {
        uint32_t counts[4] = {0};
        for (size_t i = start; i < start + WINDOW; i++) counts[names[i]]++;
        for (uint32_t t = 0; t < 4; t++) {
            if (counts[t] > stats.largest) stats.largest = counts[t];
            if (counts[t] < threshold) continue;
            stats.dominated++;
            stats.dominant_threads |= 1u << t;
        }
    }
    return stats;
}

static int bits_set(uint32_t bits) {
    return __builtin_popcount(bits);
}

START_TEST(test_chaos_equal_for_equal_seeds) {
    run_chaos(&core, 21, sequence);
    run_chaos(&other, 21, other_sequence);
    ck_assert_mem_eq(sequence, other_sequence, CHAOS_LENGTH * sizeof(sequence[0]));
}
END_TEST

START_TEST(test_chaos_differs_by_seed) {
    run_chaos(&core, 21, sequence);
    run_chaos(&other, 22, other_sequence);
    ck_assert_uint_gt(count_differences(sequence, other_sequence, CHAOS_LENGTH), CHAOS_LENGTH / 5);
}
END_TEST

/* Chaos favours one thread for a while, then another. Uniform choice among 4 gives one thread
 * 40 of 50 turns with odds below 1e-13 per window; chaos does it whenever one thread holds the
 * top priority alone (186 of the 200 windows for this seed; at least 7 for any of seeds 1-300). */
START_TEST(test_chaos_windows_are_lopsided) {
    run_chaos(&core, 21, sequence);
    struct window_stats stats = window_stats(sequence, CHAOS_LENGTH, 40);
    ck_assert_uint_ge(stats.dominated, 5);
    ck_assert_int_ge(bits_set(stats.dominant_threads), 2);
}
END_TEST

/* Uniform mode: 50 choices among 4 average 12.5 per thread (sd 3.1); 35 is over 7 sd out (the
 * most seen in any window for seeds 1-300 is 29). */
START_TEST(test_uniform_windows_are_even) {
    run_uniform(&core, 21, sequence);
    struct window_stats stats = window_stats(sequence, CHAOS_LENGTH, 35);
    ck_assert_uint_eq(stats.dominated, 0);
    ck_assert_uint_lt(stats.largest, 35);
    ck_assert_uint_gt(stats.largest, 12);
}
END_TEST

/* A high-priority thread that blocks gives way to the others, and gets its turn back. */
START_TEST(test_chaos_skips_blocked_threads) {
    struct sched_config config = default_config();
    config.threads_chaos = 1;
    start_threads_with(&core, 23, &config, 4);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_A);
    follow_schedule(&core, 0, SCHEDULE_LENGTH, sequence);
    for (size_t i = 0; i < SCHEDULE_LENGTH; i++) {
        ck_assert_uint_ne(sequence[i], 1);
        ck_assert_uint_ne(sequence[i], 2);
    }
}
END_TEST

/* ---- Fork ---- */

START_TEST(test_after_fork_keeps_only_survivor) {
    start_threads(&core, 1, 5);
    sleep_for(&core, 1, 5 * SECOND_NS);
    wait_until(&core, 2, KEY_A, 3 * SECOND_NS, SCHED_SLEEP_RELATIVE);
    wait_on(&core, 4, KEY_A);
    ck_assert_uint_eq(core.timers.count, 2);
    sched_core_after_fork(&core, 3);
    ck_assert_str_eq(states(&core), "UUURU");
    ck_assert_uint_eq(core.threads_alive, 1);
    ck_assert_uint_eq(core.timers.count, 0);
    follow_schedule(&core, 3, 100, sequence);
    for (size_t i = 0; i < 100; i++) ck_assert_uint_eq(sequence[i], 3);
    /* No stale timer fires for a forgotten thread: the survivor's own sleep ends on time. */
    struct sched_decision decision = sleep_for(&core, 3, 10 * SECOND_NS);
    ck_assert_uint_eq(decision.next_thread, 3);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 10 * SECOND_NS);
    ck_assert_uint_eq(create(&core, 3), 0);
    ck_assert_uint_eq(core.threads_alive, 2);
}
END_TEST

/* The survivor's exit ends the child's run. */
START_TEST(test_after_fork_survivor_exit_ends_run) {
    start_threads(&core, 1, 3);
    sched_core_after_fork(&core, 1);
    struct sched_decision decision = exit_thread(&core, 1, 1, 0);
    ck_assert_uint_eq(decision.next_thread, SCHED_THREAD_NONE);
    ck_assert_uint_eq(core.threads_alive, 0);
}
END_TEST

/* ---- The hash of a threaded run ---- */

static uint32_t runnable_count(const struct sched_core *target) {
    uint32_t count = 0;
    for (uint32_t t = 0; t < target->thread_count; t++)
        count += target->threads[t].state == SCHED_THREAD_RUNNABLE;
    return count;
}

/* One step of a threaded script by `thread`, chosen by the step number and the core's state;
 * returns the thread that runs next. */
static uint32_t script_step(struct sched_core *target, uint32_t thread, int step) {
    if (step % 7 == 3 && runnable_count(target) > 1)
        return wait_on(target, thread, KEY_A + step % 2).next_thread;
    if (step % 5 == 0) return wake_bitset(target, thread, KEY_A, 2, BITSET_ANY).next_thread;
    if (step % 11 == 0) return requeue(target, thread, KEY_A + 1, 1, KEY_A, 1).next_thread;
    return record(target, thread).next_thread;
}

static uint64_t run_threaded_script(uint64_t seed) {
    start_threads(&core, seed, 4);
    uint32_t current = 0;
    for (int step = 0; step < 500; step++) current = script_step(&core, current, step);
    return core.hash.value;
}

START_TEST(test_hash_equal_for_equal_threaded_runs) {
    uint64_t first = run_threaded_script(31);
    ck_assert_uint_eq(run_threaded_script(31), first);
    ck_assert_uint_ne(run_threaded_script(32), first);
}
END_TEST

/* The same requests, in the same order, from the same seed, with only the schedule stream
 * replaced: the hash must tell the two runs apart, because it covers next_thread. */
static uint64_t run_fixed_requests(uint32_t threads, uint64_t schedule_seed) {
    start_threads(&core, 41, threads);
    sched_prng_stream(&core.streams[SCHED_STREAM_SCHEDULE], schedule_seed, SCHED_STREAM_SCHEDULE);
    for (uint32_t i = 0; i < 300; i++) record(&core, i % threads);
    return core.hash.value;
}

START_TEST(test_hash_differs_when_only_schedule_differs) {
    uint64_t base = run_fixed_requests(3, 41);
    ck_assert_uint_eq(run_fixed_requests(3, 41), base);
    ck_assert_uint_ne(run_fixed_requests(3, 42), base);
    /* Control: with one thread there is nothing to choose, so the schedule cannot matter. */
    ck_assert_uint_eq(run_fixed_requests(1, 42), run_fixed_requests(1, 41));
}
END_TEST

/* ---- Misuse ---- */

START_TEST(test_request_from_blocked_thread_panics) {
    start_threads(&core, 1, 2);
    wait_on(&core, 1, KEY_A);
    record(&core, 1);
}
END_TEST

START_TEST(test_futex_wait_zero_bitset_panics) {
    start_threads(&core, 1, 2);
    wait_bitset(&core, 1, KEY_A, 0);
}
END_TEST

START_TEST(test_wake_result_of_unknown_thread_panics) {
    start_threads(&core, 1, 2);
    sched_core_wake_result(&core, 2);
}
END_TEST

/* ---- Regressions: bugs this suite found in the core, fixed since ---- */

/* A deadline that has passed wakes its thread even while others run. With a call cost, time
 * moves while thread 1 runs; the core used to fire timers only when nobody was runnable, so
 * thread 0 slept forever, and no livelock was reported either, since time moved. */
START_TEST(test_due_deadline_wakes_while_others_run) {
    struct sched_config config = default_config();
    config.time_call_cost_ns = 100;
    start_threads_with(&core, 1, &config, 2);
    struct sched_decision decision = sleep_for(&core, 0, 1000);
    ck_assert_uint_eq(decision.next_thread, 1);
    int64_t deadline = decision.now_ns + 1000;
    int turns_of_sleeper = 0;
    for (int i = 0; i < 100; i++) turns_of_sleeper += record(&core, 1).next_thread == 0;
    ck_assert_int_gt(core.clock.monotonic_ns, deadline + 5000);
    ck_assert_msg(core.threads[0].state == SCHED_THREAD_RUNNABLE,
                  "thread 0 still sleeps %lld ns past its deadline",
                  (long long)(core.clock.monotonic_ns - deadline));
    ck_assert_int_gt(turns_of_sleeper, 0);
}
END_TEST

/* Blocking is progress, as time moving is: after a wait that blocks, the budget starts afresh,
 * so 100 more calls pass. The core used to count the blocking call itself (block_caller zeroed
 * the count, then livelocked() incremented it), so the 100th call after a block was a livelock. */
START_TEST(test_livelock_budget_restarts_after_blocking) {
    struct sched_config config = default_config();
    config.threads_livelock_calls = 100;
    start_threads_with(&core, 1, &config, 2);
    ck_assert_uint_eq(wait_on(&core, 0, KEY_A).next_thread, 1);
    for (int i = 0; i < 100; i++)
        ck_assert_msg(record(&core, 1).result == 0, "call %d after the block: livelock", i + 1);
    assert_livelock(record(&core, 1), 1);
}
END_TEST

/* Requeue onto the same key counts each waiter once, as Linux does. The core used to find the
 * same oldest waiter again and again until the count ran out (with INT_MAX, 2^31 rounds). */
START_TEST(test_requeue_to_same_key_counts_waiters_once) {
    start_threads(&core, 1, 3);
    wait_on(&core, 1, KEY_A);
    wait_on(&core, 2, KEY_A);
    struct sched_decision decision = requeue(&core, 0, KEY_A, 0, KEY_A, 5);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.value, 2);
    ck_assert_str_eq(states(&core), "RFF");
    ck_assert_int_eq(wake(&core, 0, KEY_A, 1), 1);
    ck_assert_str_eq(states(&core), "RRF");
}
END_TEST

/* A zero sleep is a yield: the sleeper's deadline is due at once, so it competes again on the
 * same decision instead of waiting until every other thread blocks. */
START_TEST(test_zero_sleep_yields_but_stays_eligible) {
    int chosen_self = 0, chosen_other = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        start_threads(&core, seed, 2);
        struct sched_decision decision = sleep_for(&core, 0, 0);
        ck_assert_str_eq(states(&core), "RR");
        ck_assert_uint_eq(core.timers.count, 0);
        chosen_self += decision.next_thread == 0;
        chosen_other += decision.next_thread == 1;
    }
    ck_assert_int_gt(chosen_self, 0);
    ck_assert_int_gt(chosen_other, 0);
}
END_TEST

/* ---- The suite ---- */

static TCase *threads_case(void) {
    TCase *threads = tcase_create("create_exit");
    tcase_add_test(threads, test_create_gives_consecutive_ids);
    tcase_add_test(threads, test_create_never_switches);
    tcase_add_test(threads, test_create_reuses_lowest_free_slot);
    tcase_add_test(threads, test_reused_slot_starts_fresh);
    tcase_add_test(threads, test_create_fails_when_full);
    tcase_add_test(threads, test_exit_wakes_joiner);
    tcase_add_test(threads, test_exit_wakes_every_waiter_on_key);
    tcase_add_test(threads, test_exit_of_last_thread);
    tcase_add_test(threads, test_exit_of_other_thread_keeps_caller);
    tcase_add_test(threads, test_exit_leaving_only_waiters_deadlocks);
    return threads;
}

static TCase *schedule_case(void) {
    TCase *schedule = tcase_create("schedule");
    tcase_add_test(schedule, test_schedule_equal_for_equal_seeds);
    tcase_add_test(schedule, test_schedule_differs_by_seed);
    tcase_add_test(schedule, test_schedule_reaches_every_runnable_thread);
    tcase_add_test(schedule, test_schedule_never_picks_blocked_threads);
    tcase_add_test(schedule, test_schedule_draws_from_schedule_stream);
    tcase_add_test(schedule, test_chaos_equal_for_equal_seeds);
    tcase_add_test(schedule, test_chaos_differs_by_seed);
    tcase_add_test(schedule, test_chaos_windows_are_lopsided);
    tcase_add_test(schedule, test_uniform_windows_are_even);
    tcase_add_test(schedule, test_chaos_skips_blocked_threads);
    return schedule;
}

static TCase *futex_case(void) {
    TCase *futex = tcase_create("futex");
    tcase_add_test(futex, test_futex_wait_blocks_caller);
    tcase_add_test(futex, test_futex_wake_oldest_first);
    tcase_add_test(futex, test_futex_wait_again_goes_last);
    tcase_add_test(futex, test_futex_wake_respects_count);
    tcase_add_test(futex, test_futex_wake_respects_bitsets);
    tcase_add_test(futex, test_futex_wake_bitset_skips_oldest);
    tcase_add_test(futex, test_futex_wake_other_key_wakes_nobody);
    tcase_add_test(futex, test_futex_relative_deadline_alone);
    tcase_add_test(futex, test_futex_relative_deadline_when_all_block);
    tcase_add_test(futex, test_futex_absolute_realtime_deadline);
    tcase_add_test(futex, test_futex_absolute_deadline_past);
    tcase_add_test(futex, test_futex_deadlines_fire_in_time_order);
    tcase_add_test(futex, test_futex_wake_cancels_deadline);
    tcase_add_test(futex, test_requeue_wakes_then_moves);
    tcase_add_test(futex, test_requeue_limited_by_waiters);
    tcase_add_test(futex, test_wake_op_wakes_both_keys);
    return futex;
}

static TCase *verdicts_case(void) {
    TCase *verdicts = tcase_create("deadlock_livelock");
    tcase_add_test(verdicts, test_two_waiters_deadlock);
    tcase_add_test(verdicts, test_pending_deadline_is_not_deadlock);
    tcase_add_test(verdicts, test_livelock_after_budget);
    tcase_add_test(verdicts, test_livelock_reset_by_sleep);
    tcase_add_test(verdicts, test_livelock_never_with_call_cost);
    tcase_add_test(verdicts, test_livelock_zero_budget_disables);
    tcase_add_test(verdicts, test_livelock_with_threads_names_caller);
    return verdicts;
}

static TCase *fork_hash_misuse_case(void) {
    TCase *rest = tcase_create("fork_hash_misuse");
    tcase_add_test(rest, test_after_fork_keeps_only_survivor);
    tcase_add_test(rest, test_after_fork_survivor_exit_ends_run);
    tcase_add_test(rest, test_hash_equal_for_equal_threaded_runs);
    tcase_add_test(rest, test_hash_differs_when_only_schedule_differs);
    unit_add_death_test(rest, test_request_from_blocked_thread_panics);
    unit_add_death_test(rest, test_futex_wait_zero_bitset_panics);
    unit_add_death_test(rest, test_wake_result_of_unknown_thread_panics);
    return rest;
}

static TCase *regressions_case(void) {
    TCase *regressions = tcase_create("regressions");
    tcase_add_test(regressions, test_due_deadline_wakes_while_others_run);
    tcase_add_test(regressions, test_livelock_budget_restarts_after_blocking);
    tcase_add_test(regressions, test_requeue_to_same_key_counts_waiters_once);
    tcase_add_test(regressions, test_zero_sleep_yields_but_stays_eligible);
    return regressions;
}

static Suite *core_threads_suite(void) {
    Suite *suite = suite_create("core_threads");
    suite_add_tcase(suite, threads_case());
    suite_add_tcase(suite, schedule_case());
    suite_add_tcase(suite, futex_case());
    suite_add_tcase(suite, verdicts_case());
    suite_add_tcase(suite, fork_hash_misuse_case());
    suite_add_tcase(suite, regressions_case());
    return suite;
}

int main(void) {
    return unit_run(core_threads_suite());
}
