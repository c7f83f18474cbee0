/* test_core_interrupt.c: SCHED_REQ_INTERRUPT, a signal for a blocked thread. The target wakes
 * at once with SCHED_RESULT_INTERRUPTED whatever it was blocked on (a sleep, a futex, the outside
 * world), its deadline is gone, and an interrupt for a runnable or unknown-state thread changes
 * nothing but its result. */
#include <stdint.h>
#include <string.h>

#include "scheduler/config.h"
#include "scheduler/core.h"
#include "core_driver.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
#define FUTEX_KEY 0x7000
#define BITSET_ANY 0xffffffffll

static struct sched_core core;

/* Thread 1 blocks (as `block` says) while thread 0 runs; thread 0 interrupts it. */
static struct sched_decision block_then_interrupt_seeded(int block, uint64_t seed) {
    struct sched_config config = defaults();
    sched_core_init(&core, seed, &config);
    uint32_t target = create(&core);
    ck_assert_uint_eq(target, 1);
    /* Let thread 1 run until it blocks: ask on its behalf once it is the one chosen. */
    struct sched_decision decision;
    switch (block) {
    case 0: decision = ask(&core, 1, SCHED_REQ_SLEEP, 3600 * SECOND_NS, SCHED_SLEEP_RELATIVE, 0, 0); break;
    case 1: decision = ask(&core, 1, SCHED_REQ_FUTEX_WAIT, FUTEX_KEY, BITSET_ANY, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE); break;
    default: decision = ask(&core, 1, SCHED_REQ_WAIT_EXTERNAL, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE, 0, 0); break;
    }
    ck_assert_uint_ne(core.threads[1].state, SCHED_THREAD_RUNNABLE);
    int64_t before = core.clock.monotonic_ns;
    decision = ask(&core, 0, SCHED_REQ_INTERRUPT, 1, 10, 0, 0);
    ck_assert_int_eq(decision.result, 1);
    ck_assert_uint_eq(core.threads[1].state, SCHED_THREAD_RUNNABLE);
    ck_assert_int_eq(sched_core_wake_result(&core, 1), SCHED_RESULT_INTERRUPTED);
    ck_assert_int_eq(core.clock.monotonic_ns, before); /* no time passes for it */
    return decision;
}

static struct sched_decision block_then_interrupt(int block) {
    return block_then_interrupt_seeded(block, 11);
}

START_TEST(test_interrupts_a_sleep) {
    block_then_interrupt(0);
    /* The sleep's deadline is gone: nothing is left in the timer queue. */
    ck_assert_uint_eq(core.timers.count, 0);
}
END_TEST

START_TEST(test_interrupts_a_futex_wait) {
    block_then_interrupt(1);
    /* It no longer waits on the key: a wake finds nobody. */
    struct sched_decision woke = ask(&core, 0, SCHED_REQ_FUTEX_WAKE, FUTEX_KEY, 1, BITSET_ANY, 0);
    ck_assert_int_eq(woke.result, 0);
}
END_TEST

START_TEST(test_interrupts_an_external_wait) {
    block_then_interrupt(2);
    ck_assert_uint_eq(core.external_waiters, 0);
}
END_TEST

START_TEST(test_runnable_target_is_left_alone) {
    struct sched_config config = defaults();
    sched_core_init(&core, 12, &config);
    create(&core);
    struct sched_decision decision = ask(&core, 0, SCHED_REQ_INTERRUPT, 1, 10, 0, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(core.threads[1].state, SCHED_THREAD_RUNNABLE);
    ck_assert_int_ne(sched_core_wake_result(&core, 1), SCHED_RESULT_INTERRUPTED);
}
END_TEST

/* An interrupt is an event like any other: the same seed gives the same run after it, other
 * seeds schedule the two runnable threads differently. */
static uint64_t schedule_after_interrupt(uint64_t seed) {
    block_then_interrupt_seeded(0, seed);
    uint64_t order = 0;
    uint32_t running = 0;
    for (int i = 0; i < 24; i++) {
        struct sched_decision decision = record(&core, running);
        running = decision.next_thread;
        order = (order << 1) | running;
    }
    return order ^ core.hash.value;
}

START_TEST(test_interrupt_is_deterministic) {
    ck_assert_uint_eq(schedule_after_interrupt(11), schedule_after_interrupt(11));
    int distinct = 0;
    uint64_t first = schedule_after_interrupt(1);
    for (uint64_t seed = 2; seed <= 8; seed++)
        if (schedule_after_interrupt(seed) != first) distinct++;
    ck_assert_int_gt(distinct, 0);
}
END_TEST

static Suite *core_interrupt_suite(void) {
    Suite *suite = suite_create("core_interrupt");
    TCase *interrupt = tcase_create("interrupt");
    tcase_add_test(interrupt, test_interrupts_a_sleep);
    tcase_add_test(interrupt, test_interrupts_a_futex_wait);
    tcase_add_test(interrupt, test_interrupts_an_external_wait);
    tcase_add_test(interrupt, test_runnable_target_is_left_alone);
    tcase_add_test(interrupt, test_interrupt_is_deterministic);
    suite_add_tcase(suite, interrupt);
    return suite;
}

int main(void) {
    return unit_run(core_interrupt_suite());
}
