/* clock.c: virtual clocks. */
#include "clock.h"

#include "moon_assert.h"

#define TAI_OFFSET_NS (37ll * 1000000000ll)

void sched_clock_init(struct sched_clock *clock, const struct sched_config *config) {
    MOON_ASSERT(config->time_uptime_ns > 0);
    MOON_ASSERT(config->time_epoch_s >= 0);
    MOON_ASSERT(config->time_epoch_s < INT64_MAX / 1000000000ll);
    clock->monotonic_ns = config->time_uptime_ns;
    clock->realtime_offset_ns = config->time_epoch_s * 1000000000ll - config->time_uptime_ns;
    clock->cpu_per_call_ns = config->time_cpu_per_call_ns;
    clock->calls = 0;
    /* TAI, the largest clock, is monotonic + offset + 37 s: keep it within an int64. */
    int64_t headroom = clock->realtime_offset_ns > 0 ? clock->realtime_offset_ns : 0;
    clock->monotonic_limit_ns = INT64_MAX - headroom - TAI_OFFSET_NS - 1000000000ll;
    MOON_ASSERT(clock->monotonic_limit_ns > clock->monotonic_ns);
}

int64_t sched_clock_read(const struct sched_clock *clock, enum sched_clock_kind kind) {
    switch (kind) {
    case SCHED_CLOCK_MONOTONIC: return clock->monotonic_ns;
    case SCHED_CLOCK_REALTIME: return clock->monotonic_ns + clock->realtime_offset_ns;
    case SCHED_CLOCK_TAI: return clock->monotonic_ns + clock->realtime_offset_ns + TAI_OFFSET_NS;
    case SCHED_CLOCK_CPU: return (int64_t)clock->calls * clock->cpu_per_call_ns;
    }
    MOON_ASSERT(!"unknown clock kind");
    return 0;
}

void sched_clock_advance_to(struct sched_clock *clock, int64_t monotonic_ns) {
    MOON_ASSERT(monotonic_ns >= clock->monotonic_ns);
    MOON_ASSERT(monotonic_ns <= clock->monotonic_limit_ns);
    clock->monotonic_ns = monotonic_ns;
}

void sched_clock_advance_by(struct sched_clock *clock, int64_t nanoseconds) {
    MOON_ASSERT(nanoseconds >= 0);
    int64_t room = clock->monotonic_limit_ns - clock->monotonic_ns;
    clock->monotonic_ns += nanoseconds < room ? nanoseconds : room;
}
