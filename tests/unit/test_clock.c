/* test_clock.c: unit suite for scheduler/clock.c (monotonic, realtime, TAI and CPU-time clocks). */
#include <stdint.h>

#include "scheduler/clock.h"
#include "scheduler/config.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
#define TAI_OFFSET_NS (37 * SECOND_NS)

static struct sched_clock clock_with(int64_t epoch_s, int64_t uptime_ns, int64_t cpu_per_call_ns) {
    struct sched_config config;
    sched_config_defaults(&config);
    config.time_epoch_s = epoch_s;
    config.time_uptime_ns = uptime_ns;
    config.time_cpu_per_call_ns = cpu_per_call_ns;
    struct sched_clock clock;
    sched_clock_init(&clock, &config);
    return clock;
}

START_TEST(test_defaults_start_values) {
    struct sched_config config;
    sched_config_defaults(&config);
    struct sched_clock clock;
    sched_clock_init(&clock, &config);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_MONOTONIC), 100 * SECOND_NS);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_REALTIME), 1767225600 * SECOND_NS);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_TAI),
                     1767225600 * SECOND_NS + TAI_OFFSET_NS);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_CPU), 0);
    ck_assert_uint_eq(clock.calls, 0);
}
END_TEST

START_TEST(test_realtime_starts_at_epoch) {
    struct sched_clock clock = clock_with(1000000000, 5, 1000);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_MONOTONIC), 5);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_REALTIME), 1000000000 * SECOND_NS);
    clock = clock_with(0, 1, 1000);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_REALTIME), 0);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_TAI), TAI_OFFSET_NS);
}
END_TEST

START_TEST(test_advance_moves_wall_clocks_together) {
    struct sched_clock clock = clock_with(1767225600, 100 * SECOND_NS, 1000);
    sched_clock_advance_to(&clock, 100 * SECOND_NS + 2500);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_MONOTONIC), 100 * SECOND_NS + 2500);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_REALTIME),
                     1767225600 * SECOND_NS + 2500);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_TAI),
                     1767225600 * SECOND_NS + TAI_OFFSET_NS + 2500);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_CPU), 0);
}
END_TEST

START_TEST(test_advance_to_now_is_allowed) {
    struct sched_clock clock = clock_with(0, 42, 1000);
    sched_clock_advance_to(&clock, 42);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_MONOTONIC), 42);
}
END_TEST

START_TEST(test_advance_backwards_panics) {
    struct sched_clock clock = clock_with(0, 42, 1000);
    sched_clock_advance_to(&clock, 41);
}
END_TEST

START_TEST(test_cpu_counts_calls) {
    struct sched_clock clock = clock_with(0, 1, 250);
    clock.calls = 4;
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_CPU), 1000);
    sched_clock_advance_to(&clock, 1 + SECOND_NS);
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_CPU), 1000);
    clock = clock_with(0, 1, 0);
    clock.calls = 1000;
    ck_assert_int_eq(sched_clock_read(&clock, SCHED_CLOCK_CPU), 0);
}
END_TEST

START_TEST(test_unknown_kind_panics) {
    struct sched_clock clock = clock_with(0, 1, 1000);
    sched_clock_read(&clock, (enum sched_clock_kind)4);
}
END_TEST

START_TEST(test_zero_uptime_panics) {
    clock_with(0, 0, 1000);
}
END_TEST

static Suite *clock_suite(void) {
    Suite *suite = suite_create("clock");
    TCase *read = tcase_create("read");
    tcase_add_test(read, test_defaults_start_values);
    tcase_add_test(read, test_realtime_starts_at_epoch);
    tcase_add_test(read, test_cpu_counts_calls);
    unit_add_death_test(read, test_unknown_kind_panics);
    unit_add_death_test(read, test_zero_uptime_panics);
    suite_add_tcase(suite, read);
    TCase *advance = tcase_create("advance");
    tcase_add_test(advance, test_advance_moves_wall_clocks_together);
    tcase_add_test(advance, test_advance_to_now_is_allowed);
    unit_add_death_test(advance, test_advance_backwards_panics);
    suite_add_tcase(suite, advance);
    return suite;
}

int main(void) {
    return unit_run(clock_suite());
}
