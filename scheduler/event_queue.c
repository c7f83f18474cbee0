/* event_queue.c: binary min-heap keyed on (time_ns, sequence). */
#include "event_queue.h"

#include "moon_assert.h"

static int event_before(const struct sched_event *a, const struct sched_event *b) {
    if (a->time_ns != b->time_ns) return a->time_ns < b->time_ns;
    return a->sequence < b->sequence;
}

static void swap_events(struct sched_event *a, struct sched_event *b) {
    struct sched_event held = *a;
    *a = *b;
    *b = held;
}

static void sift_up(struct sched_event_queue *queue, uint32_t index) {
    while (index > 0) {
        uint32_t parent = (index - 1) / 2;
        if (!event_before(&queue->heap[index], &queue->heap[parent])) break;
        swap_events(&queue->heap[index], &queue->heap[parent]);
        index = parent;
    }
}

static void sift_down(struct sched_event_queue *queue, uint32_t index) {
    for (;;) {
        uint32_t left = 2 * index + 1;
        uint32_t right = left + 1;
        uint32_t smallest = index;
        if (left < queue->count && event_before(&queue->heap[left], &queue->heap[smallest]))
            smallest = left;
        if (right < queue->count && event_before(&queue->heap[right], &queue->heap[smallest]))
            smallest = right;
        if (smallest == index) return;
        swap_events(&queue->heap[index], &queue->heap[smallest]);
        index = smallest;
    }
}

void sched_event_queue_init(struct sched_event_queue *queue) {
    queue->count = 0;
    queue->sequence_next = 1;
}

int sched_event_queue_try_push(struct sched_event_queue *queue, int64_t time_ns, uint32_t kind,
                               uint32_t thread) {
    if (queue->count == SCHED_EVENTS_MAX) return -1;
    struct sched_event *slot = &queue->heap[queue->count];
    slot->time_ns = time_ns;
    slot->sequence = queue->sequence_next++;
    slot->kind = kind;
    slot->thread = thread;
    queue->count++;
    sift_up(queue, queue->count - 1);
    return 0;
}

const struct sched_event *sched_event_queue_peek(const struct sched_event_queue *queue) {
    return queue->count == 0 ? 0 : &queue->heap[0];
}

static void remove_at(struct sched_event_queue *queue, uint32_t index) {
    MOON_ASSERT(index < queue->count);
    queue->count--;
    if (index == queue->count) return;
    queue->heap[index] = queue->heap[queue->count];
    /* The moved element may belong above or below its new position. */
    sift_up(queue, index);
    sift_down(queue, index);
}

int sched_event_queue_pop(struct sched_event_queue *queue, struct sched_event *event) {
    if (queue->count == 0) return -1;
    *event = queue->heap[0];
    remove_at(queue, 0);
    return 0;
}

uint32_t sched_event_queue_cancel(struct sched_event_queue *queue, uint32_t kind, uint32_t thread) {
    uint32_t removed = 0;
    uint32_t index = 0;
    while (index < queue->count) {
        const struct sched_event *event = &queue->heap[index];
        if (event->kind == kind && event->thread == thread) {
            remove_at(queue, index);
            removed++;
            index = 0; /* the heap was reordered; rescan (queues are small) */
        } else {
            index++;
        }
    }
    return removed;
}
