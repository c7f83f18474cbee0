/* time_cost.h: the time model's decisions: what an intercepted call costs in virtual time.
 *
 * Off by default (cost 0): time then moves only when every thread waits. A program that spins on
 * the clock without ever sleeping needs a cost to make progress (see libmoonshim(7)). */
#ifndef MOON_FAULTS_TIME_COST_H
#define MOON_FAULTS_TIME_COST_H

#include <stdint.h>

#include "../scheduler/config.h"
#include "../scheduler/prng.h"

/* Virtual nanoseconds one call costs: time.call_cost plus a uniform draw in [0, time.call_jitter]
 * from the time stream (no draw at all when the jitter is 0, so the stream is untouched). */
int64_t fault_time_call_cost(const struct sched_config *config, struct sched_prng *time_stream);

#endif
