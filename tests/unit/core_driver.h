/* core_driver.h: driving the core from unit suites: one request, and the usual shorthands.
 * Requests carry call number CALL_BASE + kind. */
#ifndef MOON_TEST_CORE_DRIVER_H
#define MOON_TEST_CORE_DRIVER_H

#include <stdint.h>

#include "scheduler/core.h"

#define CALL_BASE 3000

struct sched_config defaults(void);
struct sched_decision ask(struct sched_core *target, uint32_t thread, uint32_t kind,
                          int64_t arg0, int64_t arg1, int64_t arg2, int64_t arg3);
struct sched_decision record(struct sched_core *target, uint32_t thread);
struct sched_decision sleep_for(struct sched_core *target, uint32_t thread,
                                int64_t duration_ns);
uint32_t create(struct sched_core *target);
uint64_t site_with(struct sched_core *target, int wanted, uint64_t from);
int is_stream_fresh(const struct sched_core *target, enum sched_stream stream);

#endif
