/* time_cost.c: per-call virtual time cost. */
#include "time_cost.h"

int64_t fault_time_call_cost(const struct sched_config *config, struct sched_prng *time_stream) {
    int64_t cost = config->time_call_cost_ns;
    if (config->time_call_jitter_ns > 0)
        cost += (int64_t)sched_prng_range(time_stream, 0, (uint64_t)config->time_call_jitter_ns);
    return cost;
}
