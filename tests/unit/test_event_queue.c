/* test_event_queue.c: unit suite for scheduler/event_queue.c (timed events by (time, sequence)).
 *
 * Besides hand-written cases, a long seeded run of random pushes, pops and cancels is checked
 * step by step against a plain unsorted array searched for its minimum. */
#include <stdint.h>
#include <string.h>

#include "scheduler/event_queue.h"
#include "scheduler/prng.h"
#include "unit.h"

#define KIND_OTHER 7u /* a second kind, so cancel is seen to match on kind too */

/* The queue is large (SCHED_EVENTS_MAX entries); keep it off the test's stack. */
static struct sched_event_queue queue;

static void setup(void) {
    memset(&queue, 0xa5, sizeof(queue));
    sched_event_queue_init(&queue);
}

static void push(int64_t time_ns, uint32_t kind, uint32_t thread) {
    ck_assert_int_eq(sched_event_queue_try_push(&queue, time_ns, kind, thread), 0);
}

static struct sched_event pop(void) {
    struct sched_event event;
    ck_assert_int_eq(sched_event_queue_pop(&queue, &event), 0);
    return event;
}

START_TEST(test_empty_queue) {
    struct sched_event event = {0};
    ck_assert_uint_eq(queue.count, 0);
    ck_assert_ptr_null(sched_event_queue_peek(&queue));
    ck_assert_int_eq(sched_event_queue_pop(&queue, &event), -1);
    ck_assert_uint_eq(sched_event_queue_cancel(&queue, SCHED_EVENT_WAKE, 0), 0);
}
END_TEST

START_TEST(test_pops_in_time_order) {
    static const int64_t times[] = {50, 10, 40, -5, 30, 20, 0, INT64_MAX, INT64_MIN};
    static const int64_t sorted[] = {INT64_MIN, -5, 0, 10, 20, 30, 40, 50, INT64_MAX};
    for (uint32_t i = 0; i < 9; i++) push(times[i], SCHED_EVENT_WAKE, i);
    for (int i = 0; i < 9; i++) {
        struct sched_event event = pop();
        ck_assert_int_eq(event.time_ns, sorted[i]);
        ck_assert_int_eq(event.time_ns, times[event.thread]);
    }
    ck_assert_ptr_null(sched_event_queue_peek(&queue));
}
END_TEST

START_TEST(test_sequence_numbers_start_at_one) {
    push(5, SCHED_EVENT_WAKE, 0);
    push(5, SCHED_EVENT_WAKE, 1);
    push(1, SCHED_EVENT_WAKE, 2);
    ck_assert_uint_eq(pop().sequence, 3);
    ck_assert_uint_eq(pop().sequence, 1);
    ck_assert_uint_eq(pop().sequence, 2);
    push(0, SCHED_EVENT_WAKE, 3);
    ck_assert_uint_eq(pop().sequence, 4);
}
END_TEST

/* Events due at the same time fire in the order they were pushed, however the heap is shaped. */
START_TEST(test_ties_fire_in_push_order) {
    for (uint32_t i = 0; i < 100; i++) push(i % 3 == 0 ? 7 : 3, SCHED_EVENT_WAKE, i);
    uint32_t previous_thread = 0;
    for (int i = 0; i < 100; i++) {
        struct sched_event event = pop();
        int64_t expected_time = i < 66 ? 3 : 7;
        ck_assert_int_eq(event.time_ns, expected_time);
        if (i != 0 && i != 66) ck_assert_uint_gt(event.thread, previous_thread);
        previous_thread = event.thread;
    }
}
END_TEST

START_TEST(test_peek_matches_pop) {
    push(30, SCHED_EVENT_WAKE, 1);
    push(10, KIND_OTHER, 2);
    push(20, SCHED_EVENT_WAKE, 3);
    const struct sched_event *head = sched_event_queue_peek(&queue);
    ck_assert_ptr_nonnull(head);
    struct sched_event peeked = *head;
    ck_assert_uint_eq(queue.count, 3);
    struct sched_event popped = pop();
    ck_assert_mem_eq(&peeked, &popped, sizeof(peeked));
    ck_assert_int_eq(popped.time_ns, 10);
    ck_assert_uint_eq(popped.kind, KIND_OTHER);
    ck_assert_uint_eq(popped.thread, 2);
    ck_assert_uint_eq(queue.count, 2);
}
END_TEST

START_TEST(test_cancel_removes_matching_only) {
    push(10, SCHED_EVENT_WAKE, 1);
    push(20, SCHED_EVENT_WAKE, 2);
    push(30, SCHED_EVENT_WAKE, 1);
    push(40, KIND_OTHER, 1);
    push(5, SCHED_EVENT_WAKE, 1);
    push(25, SCHED_EVENT_WAKE, 3);
    ck_assert_uint_eq(sched_event_queue_cancel(&queue, SCHED_EVENT_WAKE, 1), 3);
    ck_assert_uint_eq(queue.count, 3);
    ck_assert_uint_eq(sched_event_queue_cancel(&queue, SCHED_EVENT_WAKE, 1), 0);
    ck_assert_uint_eq(sched_event_queue_cancel(&queue, SCHED_EVENT_WAKE, 9), 0);
    struct sched_event first = pop(), second = pop(), third = pop();
    ck_assert_int_eq(first.time_ns, 20);
    ck_assert_int_eq(second.time_ns, 25);
    ck_assert_int_eq(third.time_ns, 40);
    ck_assert_uint_eq(third.kind, KIND_OTHER);
}
END_TEST

START_TEST(test_full_queue_fails_and_changes_nothing) {
    for (uint32_t i = 0; i < SCHED_EVENTS_MAX; i++) push((int64_t)(i * 7919 % 1000), 1, i);
    ck_assert_uint_eq(queue.count, SCHED_EVENTS_MAX);
    struct sched_event head = *sched_event_queue_peek(&queue);
    uint64_t sequence_next = queue.sequence_next;
    ck_assert_int_eq(sched_event_queue_try_push(&queue, -1, 1, 99999), -1);
    ck_assert_uint_eq(queue.count, SCHED_EVENTS_MAX);
    ck_assert_uint_eq(queue.sequence_next, sequence_next);
    ck_assert_mem_eq(sched_event_queue_peek(&queue), &head, sizeof(head));
    pop();
    push(-1, 1, 99999);
    struct sched_event event = pop();
    ck_assert_uint_eq(event.thread, 99999);
    ck_assert_uint_eq(event.sequence, sequence_next);
}
END_TEST

START_TEST(test_full_queue_drains_sorted) {
    for (uint32_t i = 0; i < SCHED_EVENTS_MAX; i++) push((int64_t)(i * 7919 % 100), 1, i);
    struct sched_event previous = pop();
    for (uint32_t i = 1; i < SCHED_EVENTS_MAX; i++) {
        struct sched_event event = pop();
        ck_assert(event.time_ns > previous.time_ns ||
                  (event.time_ns == previous.time_ns && event.sequence > previous.sequence));
        previous = event;
    }
    ck_assert_uint_eq(queue.count, 0);
}
END_TEST

/* The reference model: an unsorted array; the earliest event is found by linear search. */
struct reference {
    uint32_t count;
    uint64_t sequence_next;
    struct sched_event events[SCHED_EVENTS_MAX];
};

static struct reference model;

static uint32_t reference_earliest(void) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < model.count; i++) {
        const struct sched_event *a = &model.events[i], *b = &model.events[best];
        if (a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->sequence < b->sequence))
            best = i;
    }
    return best;
}

static void reference_remove(uint32_t index) {
    model.events[index] = model.events[--model.count];
}

static void random_push(struct sched_prng *prng) {
    /* Separate statements: the order of draws inside an initializer list is unspecified. */
    struct sched_event event = {0};
    event.time_ns = (int64_t)sched_prng_below(prng, 50) - 10;
    event.kind = 1 + (uint32_t)sched_prng_below(prng, 2);
    event.thread = (uint32_t)sched_prng_below(prng, 8);
    int result = sched_event_queue_try_push(&queue, event.time_ns, event.kind, event.thread);
    if (model.count == SCHED_EVENTS_MAX) {
        ck_assert_int_eq(result, -1);
        return;
    }
    ck_assert_int_eq(result, 0);
    event.sequence = model.sequence_next++;
    model.events[model.count++] = event;
}

static void random_pop(void) {
    struct sched_event event;
    int result = sched_event_queue_pop(&queue, &event);
    if (model.count == 0) {
        ck_assert_int_eq(result, -1);
        return;
    }
    ck_assert_int_eq(result, 0);
    uint32_t index = reference_earliest();
    ck_assert_mem_eq(&event, &model.events[index], sizeof(event));
    reference_remove(index);
}

static void random_cancel(struct sched_prng *prng) {
    uint32_t kind = 1 + (uint32_t)sched_prng_below(prng, 2);
    uint32_t thread = (uint32_t)sched_prng_below(prng, 8);
    uint32_t expected = 0;
    for (uint32_t i = 0; i < model.count;) {
        if (model.events[i].kind == kind && model.events[i].thread == thread) {
            reference_remove(i);
            expected++;
        } else {
            i++;
        }
    }
    ck_assert_uint_eq(sched_event_queue_cancel(&queue, kind, thread), expected);
}

/* Pushes outnumber pops in the first half (so the queue fills up and hits its limit) and pops
 * outnumber pushes in the second (so it drains). */
START_TEST(test_random_against_reference) {
    struct sched_prng prng;
    sched_prng_seed(&prng, 0xe7e7);
    model.count = 0;
    model.sequence_next = 1;
    int saw_full = 0;
    for (int step = 0; step < 40000; step++) {
        uint64_t roll = sched_prng_below(&prng, 1000);
        uint64_t push_permille = step < 20000 ? 750 : 300;
        if (roll < push_permille) random_push(&prng);
        else if (roll < 995) random_pop();
        else random_cancel(&prng);
        ck_assert_uint_eq(queue.count, model.count);
        saw_full |= model.count == SCHED_EVENTS_MAX;
    }
    ck_assert(saw_full);
    while (model.count > 0) random_pop();
    random_pop();
}
END_TEST

static Suite *event_queue_suite(void) {
    Suite *suite = suite_create("event_queue");
    TCase *order = tcase_create("order");
    tcase_add_checked_fixture(order, setup, 0);
    tcase_add_test(order, test_empty_queue);
    tcase_add_test(order, test_pops_in_time_order);
    tcase_add_test(order, test_sequence_numbers_start_at_one);
    tcase_add_test(order, test_ties_fire_in_push_order);
    tcase_add_test(order, test_peek_matches_pop);
    suite_add_tcase(suite, order);
    TCase *limits = tcase_create("cancel_and_limits");
    tcase_add_checked_fixture(limits, setup, 0);
    tcase_add_test(limits, test_cancel_removes_matching_only);
    tcase_add_test(limits, test_full_queue_fails_and_changes_nothing);
    tcase_add_test(limits, test_full_queue_drains_sorted);
    suite_add_tcase(suite, limits);
    TCase *random = tcase_create("random");
    tcase_add_checked_fixture(random, setup, 0);
    tcase_add_test(random, test_random_against_reference);
    suite_add_tcase(suite, random);
    return suite;
}

int main(void) {
    return unit_run(event_queue_suite());
}
