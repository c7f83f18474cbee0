/* test_time_cost.c: unit suite for faults/time_cost.c (the virtual time one call costs). */
#include <stdint.h>
#include <string.h>

#include "faults/time_cost.h"
#include "scheduler/config.h"
#include "scheduler/prng.h"
#include "unit.h"

static struct sched_config config_with(int64_t cost_ns, int64_t jitter_ns) {
    struct sched_config config;
    sched_config_defaults(&config);
    config.time_call_cost_ns = cost_ns;
    config.time_call_jitter_ns = jitter_ns;
    return config;
}

static struct sched_prng time_stream(uint64_t seed) {
    struct sched_prng prng;
    sched_prng_stream(&prng, seed, SCHED_STREAM_TIME);
    return prng;
}

START_TEST(test_default_is_free) {
    struct sched_config config;
    sched_config_defaults(&config);
    struct sched_prng prng = time_stream(1);
    ck_assert_int_eq(fault_time_call_cost(&config, &prng), 0);
}
END_TEST

/* Without jitter the cost is fixed and the stream is not touched at all. */
START_TEST(test_no_jitter_no_draw) {
    struct sched_config config = config_with(1500, 0);
    struct sched_prng prng = time_stream(2);
    struct sched_prng before = prng;
    for (int i = 0; i < 100; i++) ck_assert_int_eq(fault_time_call_cost(&config, &prng), 1500);
    ck_assert_mem_eq(&prng, &before, sizeof(prng));
}
END_TEST

/* With jitter, each call is exactly one range draw from the stream it is given. */
START_TEST(test_jitter_is_one_range_draw) {
    struct sched_config config = config_with(1000, 250);
    struct sched_prng prng = time_stream(3);
    struct sched_prng twin = time_stream(3);
    for (int i = 0; i < 1000; i++) {
        int64_t expected = 1000 + (int64_t)sched_prng_range(&twin, 0, 250);
        ck_assert_int_eq(fault_time_call_cost(&config, &prng), expected);
    }
    ck_assert_mem_eq(&prng, &twin, sizeof(prng));
}
END_TEST

START_TEST(test_jitter_bounds_inclusive) {
    struct sched_config config = config_with(10, 3);
    struct sched_prng prng = time_stream(4);
    int seen[4] = {0};
    for (int i = 0; i < 1000; i++) {
        int64_t cost = fault_time_call_cost(&config, &prng);
        ck_assert_int_ge(cost, 10);
        ck_assert_int_le(cost, 13);
        seen[cost - 10] = 1;
    }
    for (int i = 0; i < 4; i++) ck_assert_msg(seen[i], "cost %d never drawn", 10 + i);
}
END_TEST

START_TEST(test_jitter_roughly_uniform) {
    struct sched_config config = config_with(0, 9);
    struct sched_prng prng = time_stream(5);
    uint64_t counts[10] = {0};
    for (int i = 0; i < 100000; i++) counts[fault_time_call_cost(&config, &prng)]++;
    ck_assert_double_lt(unit_chi_square(counts, 10), 30.0);
}
END_TEST

START_TEST(test_jitter_deterministic_per_seed) {
    struct sched_config config = config_with(0, 1000000);
    struct sched_prng a = time_stream(6), b = time_stream(6), c = time_stream(7);
    int differences = 0;
    for (int i = 0; i < 100; i++) {
        int64_t cost_a = fault_time_call_cost(&config, &a);
        ck_assert_int_eq(cost_a, fault_time_call_cost(&config, &b));
        differences += cost_a != fault_time_call_cost(&config, &c);
    }
    ck_assert_int_gt(differences, 90);
}
END_TEST

static Suite *time_cost_suite(void) {
    Suite *suite = suite_create("time_cost");
    TCase *cost = tcase_create("cost");
    tcase_add_test(cost, test_default_is_free);
    tcase_add_test(cost, test_no_jitter_no_draw);
    tcase_add_test(cost, test_jitter_is_one_range_draw);
    tcase_add_test(cost, test_jitter_bounds_inclusive);
    tcase_add_test(cost, test_jitter_roughly_uniform);
    tcase_add_test(cost, test_jitter_deterministic_per_seed);
    suite_add_tcase(suite, cost);
    return suite;
}

int main(void) {
    return unit_run(time_cost_suite());
}
