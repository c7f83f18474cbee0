/* event_queue.h: pending timed events ordered by (virtual time, sequence number).
 *
 * A binary min-heap in caller-owned fixed storage (no allocation). The sequence number is assigned
 * at insertion and breaks ties, so two events due at the same virtual time always fire in the order
 * they were scheduled: the order never depends on heap layout. */
#ifndef MOON_SCHED_EVENT_QUEUE_H
#define MOON_SCHED_EVENT_QUEUE_H

#include <stdint.h>

#include "sched_limits.h"

enum sched_event_kind {
    SCHED_EVENT_WAKE = 1, /* a thread's sleep or wait deadline */
};

struct sched_event {
    int64_t time_ns;
    uint64_t sequence;
    uint32_t kind;
    uint32_t thread;
};

struct sched_event_queue {
    uint32_t count;
    uint64_t sequence_next;
    struct sched_event heap[SCHED_EVENTS_MAX];
};

void sched_event_queue_init(struct sched_event_queue *queue);
/* Fails with -1 (and changes nothing) when the queue is full. */
int sched_event_queue_try_push(struct sched_event_queue *queue, int64_t time_ns, uint32_t kind,
                               uint32_t thread);
/* The earliest event, or NULL when empty. */
const struct sched_event *sched_event_queue_peek(const struct sched_event_queue *queue);
/* Removes the earliest event into *event; returns 0, or -1 when empty. */
int sched_event_queue_pop(struct sched_event_queue *queue, struct sched_event *event);
/* Removes every event of (kind, thread); returns how many were removed. */
uint32_t sched_event_queue_cancel(struct sched_event_queue *queue, uint32_t kind, uint32_t thread);

#endif
