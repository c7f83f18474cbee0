/* test_core.c: unit suite for scheduler/core.c (requests, virtual time, sleeping, streams, hash).
 *
 * Determinism is checked both ways: equal inputs give equal decisions and hashes, and changing any
 * one input (a request field, the seed) changes the hash, so no test can pass by doing nothing. */
#include <stdint.h>
#include <string.h>

#include "scheduler/core.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
#define UPTIME_NS (100 * SECOND_NS)        /* the default time.uptime */
#define EPOCH_NS (1767225600 * SECOND_NS)  /* the default time.epoch, in ns */
#define TAI_OFFSET_NS (37 * SECOND_NS)
#define SYSCALL_NANOSLEEP 35
#define SYSCALL_GETPID 39
#define SCRIPT_LENGTH 6

/* Cores are large (the timer queue is inline); keep them off the stack. */
static struct sched_core core, other;

static struct sched_config default_config(void) {
    struct sched_config config;
    sched_config_defaults(&config);
    return config;
}

static void start(struct sched_core *target, uint64_t seed) {
    struct sched_config config = default_config();
    sched_core_init(target, seed, &config);
}

static struct sched_request make_request(uint32_t kind, uint32_t call, int64_t arg0,
                                         int64_t arg1) {
    struct sched_request request = {kind, 0, call, 0, {arg0, arg1}, 0};
    return request;
}

static struct sched_decision handle(struct sched_core *target, struct sched_request request) {
    struct sched_decision decision;
    memset(&decision, 0xa5, sizeof(decision));
    sched_core_handle(target, &request, &decision);
    return decision;
}

static int64_t read_clock(struct sched_core *target, enum sched_clock_kind kind) {
    struct sched_decision decision =
        handle(target, make_request(SCHED_REQ_CLOCK_READ, 228, kind, 0));
    ck_assert_int_eq(decision.result, 0);
    return (int64_t)decision.value;
}

static struct sched_decision sleep_for(struct sched_core *target, int64_t duration_ns) {
    return handle(target, make_request(SCHED_REQ_SLEEP, SYSCALL_NANOSLEEP, duration_ns,
                                       SCHED_SLEEP_RELATIVE));
}

static struct sched_decision sleep_until(struct sched_core *target, enum sched_clock_kind kind,
                                         int64_t deadline) {
    return handle(target, make_request(SCHED_REQ_SLEEP, 230, deadline, kind));
}

static uint64_t random_value(struct sched_core *target) {
    return handle(target, make_request(SCHED_REQ_RANDOM, 318, 16, 0)).value;
}

START_TEST(test_init_state) {
    start(&core, 42);
    ck_assert_uint_eq(core.seed, 42);
    ck_assert_uint_eq(core.events, 0);
    ck_assert_uint_eq(core.thread_count, 1);
    ck_assert_uint_eq(core.threads[0].state, SCHED_THREAD_RUNNABLE);
    ck_assert_uint_eq(core.timers.count, 0);
    struct sched_hash expected;
    sched_hash_init(&expected);
    sched_hash_u64(&expected, 42);
    ck_assert_uint_eq(core.hash.value, expected.value);
    for (uint32_t stream = 1; stream < SCHED_STREAM_COUNT; stream++) {
        struct sched_prng fresh;
        sched_prng_stream(&fresh, 42, stream);
        ck_assert_ptr_eq(sched_core_stream(&core, stream), &core.streams[stream]);
        ck_assert_mem_eq(&core.streams[stream], &fresh, sizeof(fresh));
    }
}
END_TEST

START_TEST(test_clock_read_each_kind) {
    start(&core, 1);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC), UPTIME_NS);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_REALTIME), EPOCH_NS);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_TAI), EPOCH_NS + TAI_OFFSET_NS);
    /* The CPU clock counts intercepted calls, this one included: 4 calls at 1000 ns each. */
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_CPU), 4000);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_CPU), 5000);
}
END_TEST

START_TEST(test_decision_fields) {
    start(&core, 1);
    for (uint64_t i = 1; i <= 10; i++) {
        struct sched_decision decision =
            handle(&core, make_request(SCHED_REQ_CLOCK_READ, 228, SCHED_CLOCK_MONOTONIC, 0));
        ck_assert_uint_eq(decision.sequence, i);
        ck_assert_int_eq(decision.now_ns, UPTIME_NS);
        ck_assert_uint_eq(decision.next_thread, 0);
        ck_assert_int_eq(decision.result, 0);
        ck_assert_uint_eq(decision.flags, 0);
    }
    ck_assert_uint_eq(core.events, 10);
}
END_TEST

START_TEST(test_record_echoes_result) {
    start(&core, 1);
    struct sched_request request = make_request(SCHED_REQ_RECORD, SYSCALL_GETPID, 0, 0);
    request.result = 4242;
    struct sched_decision decision = handle(&core, request);
    ck_assert_int_eq(decision.result, 4242);
    ck_assert_uint_eq(decision.value, 0);
    ck_assert_uint_eq(decision.sequence, 1);
}
END_TEST

START_TEST(test_sleep_relative) {
    start(&core, 1);
    struct sched_decision decision = sleep_for(&core, SECOND_NS);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + SECOND_NS);
    ck_assert_uint_eq(decision.next_thread, 0);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC), UPTIME_NS + SECOND_NS);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_REALTIME), EPOCH_NS + SECOND_NS);
    ck_assert_uint_eq(core.timers.count, 0);
    ck_assert_uint_eq(core.threads[0].state, SCHED_THREAD_RUNNABLE);
}
END_TEST

START_TEST(test_sleep_zero_is_a_yield) {
    start(&core, 1);
    struct sched_decision decision = sleep_for(&core, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS);
}
END_TEST

START_TEST(test_sleep_absolute_monotonic) {
    start(&core, 1);
    struct sched_decision decision =
        sleep_until(&core, SCHED_CLOCK_MONOTONIC, UPTIME_NS + 5 * SECOND_NS);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 5 * SECOND_NS);
}
END_TEST

START_TEST(test_sleep_absolute_realtime) {
    start(&core, 1);
    struct sched_decision decision =
        sleep_until(&core, SCHED_CLOCK_REALTIME, EPOCH_NS + 3 * SECOND_NS + 7);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 3 * SECOND_NS + 7);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_REALTIME), EPOCH_NS + 3 * SECOND_NS + 7);
}
END_TEST

START_TEST(test_sleep_absolute_tai) {
    start(&core, 1);
    struct sched_decision decision =
        sleep_until(&core, SCHED_CLOCK_TAI, EPOCH_NS + TAI_OFFSET_NS + 2 * SECOND_NS);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 2 * SECOND_NS);
}
END_TEST

START_TEST(test_sleep_absolute_past) {
    start(&core, 1);
    sleep_for(&core, SECOND_NS);
    struct sched_decision decision = sleep_until(&core, SCHED_CLOCK_REALTIME, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + SECOND_NS);
    decision = sleep_until(&core, SCHED_CLOCK_MONOTONIC, INT64_MIN);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + SECOND_NS);
}
END_TEST

static void assert_deadlock(struct sched_decision decision, int64_t now_ns) {
    ck_assert_int_eq(decision.result, SCHED_RESULT_DEADLOCK);
    ck_assert_int_eq(decision.now_ns, now_ns);
    ck_assert_uint_eq(decision.next_thread, 0);
    /* The caller stays blocked: the run is over, and the diagnostic shows what it waits on. */
    ck_assert_uint_eq(core.threads[0].state, SCHED_THREAD_SLEEPING);
    core.threads[0].state = SCHED_THREAD_RUNNABLE; /* so the test can ask again */
}

START_TEST(test_sleep_forever_deadlocks) {
    start(&core, 1);
    assert_deadlock(sleep_for(&core, SCHED_DEADLINE_NEVER), UPTIME_NS);
    assert_deadlock(sleep_until(&core, SCHED_CLOCK_REALTIME, SCHED_DEADLINE_NEVER), UPTIME_NS);
    assert_deadlock(sleep_until(&core, SCHED_CLOCK_MONOTONIC, SCHED_DEADLINE_NEVER), UPTIME_NS);
    /* A relative sleep too long to represent saturates to "never". */
    assert_deadlock(sleep_for(&core, SCHED_DEADLINE_NEVER - 1), UPTIME_NS);
    /* The thread is usable again after a deadlock verdict. */
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC), UPTIME_NS);
    ck_assert_uint_eq(core.events, 5);
}
END_TEST

START_TEST(test_random_per_seed) {
    start(&core, 1000);
    start(&other, 1000);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(random_value(&core), random_value(&other));
    start(&core, 1000);
    start(&other, 1001);
    int differences = 0;
    uint64_t previous = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t value = random_value(&core);
        differences += value != random_value(&other);
        ck_assert_uint_ne(value, previous);
        previous = value;
    }
    ck_assert_int_eq(differences, 100);
}
END_TEST

START_TEST(test_random_uses_random_stream) {
    start(&core, 31337);
    struct sched_prng expected;
    sched_prng_stream(&expected, 31337, SCHED_STREAM_RANDOM);
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(random_value(&core), sched_prng_next(&expected));
}
END_TEST

/* The request script that the hash tests run and mutate. */
static void fill_script(struct sched_request script[SCRIPT_LENGTH]) {
    script[0] = make_request(SCHED_REQ_CLOCK_READ, 228, SCHED_CLOCK_MONOTONIC, 0);
    script[1] = make_request(SCHED_REQ_RECORD, SYSCALL_GETPID, 5, 6);
    script[1].result = 7;
    script[2] = make_request(SCHED_REQ_RANDOM, 318, 16, 0);
    script[3] = make_request(SCHED_REQ_SLEEP, SYSCALL_NANOSLEEP, 1000, SCHED_SLEEP_RELATIVE);
    script[4] = make_request(SCHED_REQ_CLOCK_READ, 228, SCHED_CLOCK_REALTIME, 0);
    script[5] = make_request(SCHED_REQ_RECORD, 1, 3, 0);
}

static uint64_t run_script(uint64_t seed, const struct sched_request *script, int length) {
    start(&core, seed);
    for (int i = 0; i < length; i++) handle(&core, script[i]);
    return core.hash.value;
}

START_TEST(test_hash_equal_for_equal_streams) {
    struct sched_request script[SCRIPT_LENGTH];
    fill_script(script);
    uint64_t first = run_script(5, script, SCRIPT_LENGTH);
    ck_assert_uint_eq(run_script(5, script, SCRIPT_LENGTH), first);
    ck_assert_uint_ne(first, SCHED_HASH_INITIAL);
}
END_TEST

START_TEST(test_hash_differs_by_seed_and_length) {
    struct sched_request script[SCRIPT_LENGTH];
    fill_script(script);
    uint64_t base = run_script(5, script, SCRIPT_LENGTH);
    ck_assert_uint_ne(run_script(6, script, SCRIPT_LENGTH), base);
    ck_assert_uint_ne(run_script(5, script, SCRIPT_LENGTH - 1), base);
    struct sched_request swapped[SCRIPT_LENGTH];
    fill_script(swapped);
    swapped[0] = script[4];
    swapped[4] = script[0];
    ck_assert_uint_ne(run_script(5, swapped, SCRIPT_LENGTH), base);
}
END_TEST

/* One mutation of the script: request `index`, and how to change it. */
struct mutation {
    int index;
    int field; /* 0 kind, 1 call, 2..5 arg[0..3], 6 result */
    int64_t value;
};

static void apply(struct sched_request *request, const struct mutation *mutation) {
    switch (mutation->field) {
    case 0: request->kind = (uint32_t)mutation->value; break;
    case 1: request->call = (uint32_t)mutation->value; break;
    case 6: request->result = mutation->value; break;
    default: request->arg[mutation->field - 2] = mutation->value; break;
    }
}

START_TEST(test_hash_differs_when_any_request_differs) {
    static const struct mutation mutations[] = {
        {0, 0, SCHED_REQ_RANDOM},       {0, 1, 229},
        {0, 2, SCHED_CLOCK_TAI},        {1, 1, SYSCALL_GETPID + 1},
        {1, 2, 50},                     {1, 3, 60},
        {1, 6, -7},                     {2, 2, 17},
        {2, 1, 319},                    {3, 2, 1001},
        {3, 3, SCHED_CLOCK_MONOTONIC},  {4, 2, SCHED_CLOCK_MONOTONIC},
        {5, 0, SCHED_REQ_CLOCK_READ},   {5, 6, 1},
        {1, 4, 8},                      {1, 5, 9},
        /* Only the kind differs: a wake of nobody decides exactly what the record did. */
        {5, 0, SCHED_REQ_FUTEX_WAKE},
    };
    struct sched_request script[SCRIPT_LENGTH];
    fill_script(script);
    uint64_t base = run_script(5, script, SCRIPT_LENGTH);
    for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        struct sched_request mutated[SCRIPT_LENGTH];
        fill_script(mutated);
        apply(&mutated[mutations[i].index], &mutations[i]);
        ck_assert_msg(run_script(5, mutated, SCRIPT_LENGTH) != base,
                      "mutation %zu (request %d field %d) left the hash unchanged", i,
                      mutations[i].index, mutations[i].field);
    }
}
END_TEST

static void start_with_time(struct sched_core *target, uint64_t seed, int64_t cost_ns,
                            int64_t jitter_ns) {
    struct sched_config config = default_config();
    config.time_call_cost_ns = cost_ns;
    config.time_call_jitter_ns = jitter_ns;
    sched_core_init(target, seed, &config);
}

START_TEST(test_call_cost_advances_time) {
    start_with_time(&core, 1, 1000, 0);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC), UPTIME_NS + 1000);
    for (int i = 0; i < 8; i++) random_value(&core);
    ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC), UPTIME_NS + 10000);
    /* The cost is paid before the request: a sleep's deadline counts from after it. */
    struct sched_decision decision = sleep_for(&core, SECOND_NS);
    ck_assert_int_eq(decision.now_ns, UPTIME_NS + 11000 + SECOND_NS);
}
END_TEST

/* Each request costs 500 ns plus one draw in [0, 100] from the TIME stream of the seed. */
START_TEST(test_jitter_draws_from_time_stream) {
    start_with_time(&core, 77, 500, 100);
    struct sched_prng time_stream;
    sched_prng_stream(&time_stream, 77, SCHED_STREAM_TIME);
    int64_t expected = UPTIME_NS;
    for (int i = 0; i < 200; i++) {
        expected += 500 + (int64_t)sched_prng_range(&time_stream, 0, 100);
        ck_assert_int_eq(handle(&core, make_request(SCHED_REQ_RECORD, 1, 0, 0)).now_ns, expected);
    }
}
END_TEST

START_TEST(test_jitter_per_seed) {
    start_with_time(&core, 8, 0, 1000000);
    start_with_time(&other, 8, 0, 1000000);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(read_clock(&core, SCHED_CLOCK_MONOTONIC),
                         read_clock(&other, SCHED_CLOCK_MONOTONIC));
    start_with_time(&core, 8, 0, 1000000);
    start_with_time(&other, 9, 0, 1000000);
    int differences = 0;
    for (int i = 0; i < 50; i++)
        differences += read_clock(&core, SCHED_CLOCK_MONOTONIC) !=
                       read_clock(&other, SCHED_CLOCK_MONOTONIC);
    ck_assert_int_ge(differences, 45);
}
END_TEST

/* Stream separation: turning jitter on draws from the TIME stream only, so the values the
 * application sees from the RANDOM stream are exactly the same, request for request. */
START_TEST(test_jitter_leaves_random_stream_alone) {
    start_with_time(&core, 2024, 0, 0);
    start_with_time(&other, 2024, 1000, 999);
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_eq(random_value(&core), random_value(&other));
        read_clock(&core, SCHED_CLOCK_REALTIME);
        read_clock(&other, SCHED_CLOCK_REALTIME);
    }
    ck_assert_int_lt(core.clock.monotonic_ns, other.clock.monotonic_ns);
    ck_assert_mem_eq(&core.streams[SCHED_STREAM_RANDOM], &other.streams[SCHED_STREAM_RANDOM],
                     sizeof(struct sched_prng));
}
END_TEST

/* Without jitter the TIME stream is never drawn from. */
START_TEST(test_no_jitter_leaves_time_stream_alone) {
    start_with_time(&core, 3, 1000, 0);
    for (int i = 0; i < 50; i++) random_value(&core);
    struct sched_prng fresh;
    sched_prng_stream(&fresh, 3, SCHED_STREAM_TIME);
    ck_assert_mem_eq(&core.streams[SCHED_STREAM_TIME], &fresh, sizeof(fresh));
}
END_TEST

START_TEST(test_unknown_request_panics) {
    start(&core, 1);
    handle(&core, make_request(99, 0, 0, 0));
}
END_TEST

START_TEST(test_unknown_thread_panics) {
    start(&core, 1);
    struct sched_request request = make_request(SCHED_REQ_RECORD, 1, 0, 0);
    request.thread = 1;
    handle(&core, request);
}
END_TEST

START_TEST(test_unknown_clock_panics) {
    start(&core, 1);
    handle(&core, make_request(SCHED_REQ_CLOCK_READ, 228, SCHED_CLOCK_CPU + 1, 0));
}
END_TEST

START_TEST(test_sleep_on_cpu_clock_panics) {
    start(&core, 1);
    sleep_until(&core, SCHED_CLOCK_CPU, 5);
}
END_TEST

START_TEST(test_negative_relative_sleep_panics) {
    start(&core, 1);
    sleep_for(&core, -1);
}
END_TEST

START_TEST(test_stream_zero_panics) {
    start(&core, 1);
    sched_core_stream(&core, (enum sched_stream)0);
}
END_TEST

/* Regression (found by these suites): FUTEX_REQUEUE onto the same key moved the same oldest
 * waiter over and over until the count ran out, so it reported `count` moves and, with the usual
 * INT_MAX, spun 2^31 times. Each waiter counts once, as on Linux. */
START_TEST(test_requeue_same_key_counts_each_waiter_once) {
    start(&core, 1);
    struct sched_request create = make_request(SCHED_REQ_THREAD_CREATE, 56, 0, 0);
    ck_assert_uint_eq(handle(&core, create).value, 1);
    struct sched_request wait = make_request(SCHED_REQ_FUTEX_WAIT, 202, 0x1000, UINT32_MAX);
    wait.arg[2] = SCHED_DEADLINE_NEVER;
    wait.arg[3] = SCHED_SLEEP_RELATIVE;
    ck_assert_uint_eq(handle(&core, wait).next_thread, 1);
    struct sched_request requeue = make_request(SCHED_REQ_FUTEX_REQUEUE, 202, 0x1000, 0);
    requeue.thread = 1;
    requeue.arg[2] = 0x1000;
    requeue.arg[3] = INT32_MAX;
    struct sched_decision decision = handle(&core, requeue);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.value, 1);
    ck_assert_uint_eq(core.threads[0].state, SCHED_THREAD_FUTEX);
}
END_TEST

/* Regression (found by these suites): a long enough sleep moved monotonic time to where
 * realtime and TAI overflowed an int64 when read. Whatever the core does with such a deadline,
 * every clock must stay representable and realtime must not go backwards. */
START_TEST(test_huge_sleep_keeps_clocks_representable) {
    start(&core, 1);
    int64_t before = sched_clock_read(&core.clock, SCHED_CLOCK_REALTIME);
    sleep_for(&core, 8000000000ll * SECOND_NS);
    int64_t realtime = sched_clock_read(&core.clock, SCHED_CLOCK_REALTIME);
    ck_assert_int_ge(realtime, before);
    ck_assert_int_eq(sched_clock_read(&core.clock, SCHED_CLOCK_TAI), realtime + TAI_OFFSET_NS);
}
END_TEST

/* Regression (found by these suites): after a sleep to just before SCHED_DEADLINE_NEVER, adding
 * the next call's cost overflowed monotonic time and tripped the backwards-time assertion. */
START_TEST(test_call_cost_at_the_end_of_time) {
    start_with_time(&core, 1, SECOND_NS, 0);
    sleep_until(&core, SCHED_CLOCK_MONOTONIC, SCHED_DEADLINE_NEVER - 1);
    core.threads[0].state = SCHED_THREAD_RUNNABLE; /* in case the sleep was a deadlock verdict */
    int64_t before = core.clock.monotonic_ns;
    struct sched_decision decision = handle(&core, make_request(SCHED_REQ_RECORD, 1, 0, 0));
    ck_assert_int_ge(decision.now_ns, before);
    ck_assert_int_ge(sched_clock_read(&core.clock, SCHED_CLOCK_TAI), decision.now_ns);
}
END_TEST

static Suite *core_suite(void) {
    Suite *suite = suite_create("core");
    TCase *requests = tcase_create("requests");
    tcase_add_test(requests, test_init_state);
    tcase_add_test(requests, test_clock_read_each_kind);
    tcase_add_test(requests, test_decision_fields);
    tcase_add_test(requests, test_record_echoes_result);
    tcase_add_test(requests, test_random_per_seed);
    tcase_add_test(requests, test_random_uses_random_stream);
    suite_add_tcase(suite, requests);
    TCase *sleeping = tcase_create("sleep");
    tcase_add_test(sleeping, test_sleep_relative);
    tcase_add_test(sleeping, test_sleep_zero_is_a_yield);
    tcase_add_test(sleeping, test_sleep_absolute_monotonic);
    tcase_add_test(sleeping, test_sleep_absolute_realtime);
    tcase_add_test(sleeping, test_sleep_absolute_tai);
    tcase_add_test(sleeping, test_sleep_absolute_past);
    tcase_add_test(sleeping, test_sleep_forever_deadlocks);
    suite_add_tcase(suite, sleeping);
    TCase *hash = tcase_create("hash");
    tcase_add_test(hash, test_hash_equal_for_equal_streams);
    tcase_add_test(hash, test_hash_differs_by_seed_and_length);
    tcase_add_test(hash, test_hash_differs_when_any_request_differs);
    suite_add_tcase(suite, hash);
    TCase *cost = tcase_create("call_cost");
    tcase_add_test(cost, test_call_cost_advances_time);
    tcase_add_test(cost, test_jitter_draws_from_time_stream);
    tcase_add_test(cost, test_jitter_per_seed);
    tcase_add_test(cost, test_jitter_leaves_random_stream_alone);
    tcase_add_test(cost, test_no_jitter_leaves_time_stream_alone);
    suite_add_tcase(suite, cost);
    TCase *regressions = tcase_create("regressions");
    tcase_add_test(regressions, test_requeue_same_key_counts_each_waiter_once);
    tcase_add_test(regressions, test_huge_sleep_keeps_clocks_representable);
    tcase_add_test(regressions, test_call_cost_at_the_end_of_time);
    suite_add_tcase(suite, regressions);
    TCase *misuse = tcase_create("misuse");
    unit_add_death_test(misuse, test_unknown_request_panics);
    unit_add_death_test(misuse, test_unknown_thread_panics);
    unit_add_death_test(misuse, test_unknown_clock_panics);
    unit_add_death_test(misuse, test_sleep_on_cpu_clock_panics);
    unit_add_death_test(misuse, test_negative_relative_sleep_panics);
    unit_add_death_test(misuse, test_stream_zero_panics);
    suite_add_tcase(suite, misuse);
    return suite;
}

int main(void) {
    return unit_run(core_suite());
}
