/* clock.h: the virtual clocks of one run.
 *
 * Monotonic time is the one source of truth: it starts at `time.uptime` and moves only when the
 * scheduler advances it (to the next event's deadline, or by a configured per-call cost). Realtime
 * is monotonic plus a fixed offset chosen so that it starts at `time.epoch`. CPU-time clocks count
 * intercepted calls times `time.cpu_per_call`, so they are deterministic too. */
#ifndef MOON_SCHED_CLOCK_H
#define MOON_SCHED_CLOCK_H

#include <stdint.h>

#include "config.h"

enum sched_clock_kind {
    SCHED_CLOCK_MONOTONIC = 0, /* also BOOTTIME, RAW, COARSE: no suspend, no slewing */
    SCHED_CLOCK_REALTIME = 1,  /* also REALTIME_COARSE */
    SCHED_CLOCK_TAI = 2,       /* realtime + 37 s, the current TAI-UTC offset */
    SCHED_CLOCK_CPU = 3,       /* process and thread CPU-time clocks */
};

struct sched_clock {
    int64_t monotonic_ns;
    int64_t monotonic_limit_ns; /* the last instant at which every clock still fits an int64 */
    int64_t realtime_offset_ns; /* realtime = monotonic + offset */
    int64_t cpu_per_call_ns;
    uint64_t calls;
};

void sched_clock_init(struct sched_clock *clock, const struct sched_config *config);
/* Reads a clock; asserts the kind is known. */
int64_t sched_clock_read(const struct sched_clock *clock, enum sched_clock_kind kind);
/* Moves monotonic time forward to `monotonic_ns`; never backwards (asserts), never past the limit
 * (asserts: deadlines beyond it are treated as never by the core). */
void sched_clock_advance_to(struct sched_clock *clock, int64_t monotonic_ns);
/* Moves monotonic time forward by `nanoseconds` >= 0, stopping at the limit. */
void sched_clock_advance_by(struct sched_clock *clock, int64_t nanoseconds);

#endif
