/* storage.c: storage latency, throughput, faults, and crash fates. */
#include "storage.h"

static int chance(struct sched_prng *stream, int64_t probability_q32);

static int64_t uniform_ns(struct sched_prng *stream, int64_t low, int64_t high) {
    if (high <= low) return low;
    return (int64_t)sched_prng_range(stream, (uint64_t)low, (uint64_t)high);
}

static int chance(struct sched_prng *stream, int64_t probability_q32) {
    if (probability_q32 <= 0) return 0;
    if (probability_q32 >= SCHED_PROBABILITY_ONE) return 1;
    return sched_prng_chance(stream, (uint32_t)probability_q32);
}

/* Latency: a per-operation delay drawn from the configured range, plus transfer time at the
 * configured bandwidth, plus queueing behind earlier operations at the configured IOPS. */
static int64_t latency(const struct sched_config *config, struct sched_prng *stream,
                       struct fault_storage_device *device, int64_t now_ns, int op,
                       uint64_t length) {
    if (!config->storage_latency) return 0;
    int64_t base;
    if (op == FAULT_STORAGE_READ)
        base = uniform_ns(stream, config->storage_read_latency_min_ns,
                          config->storage_read_latency_max_ns);
    else if (op == FAULT_STORAGE_SYNC)
        base = uniform_ns(stream, config->storage_sync_latency_min_ns,
                          config->storage_sync_latency_max_ns);
    else
        base = uniform_ns(stream, config->storage_write_latency_min_ns,
                          config->storage_write_latency_max_ns);
    /* 128-bit: a multi-gigabyte transfer times 1e9 does not fit 64 bits. */
    __uint128_t transfer_wide = (__uint128_t)length * 1000000000u / (uint64_t)config->storage_bandwidth;
    int64_t transfer = transfer_wide > (__uint128_t)INT64_MAX / 4 ? INT64_MAX / 4 : (int64_t)transfer_wide;
    int64_t start = device->busy_until_ns > now_ns ? device->busy_until_ns : now_ns;
    device->busy_until_ns = start + 1000000000ll / config->storage_iops;
    int64_t stall = 0;
    if (chance(stream, config->storage_stall))
        stall = uniform_ns(stream, config->storage_stall_min_ns, config->storage_stall_max_ns);
    return (start - now_ns) + base + transfer + stall;
}

/* Every family draws once per operation whether it is enabled or not (sched_prng_draw_q32), so
 * the operations one family strikes do not depend on which other families are on. */
static void decide_write(const struct sched_config *config, struct sched_prng *stream,
                         uint64_t length, struct fault_storage_decision *decision) {
    int error = sched_prng_draw_q32(stream, config->storage_write_error);
    int short_write = sched_prng_draw_q32(stream, config->storage_short_write);
    int corrupt = sched_prng_draw_q32(stream, config->storage_write_corruption);
    int misdirect = sched_prng_draw_q32(stream, config->storage_misdirected_write);
    int phantom = sched_prng_draw_q32(stream, config->storage_phantom_write);
    uint64_t parameter = sched_prng_next(stream);
    decision->parameter = parameter;
    if (error) {
        decision->verdict = parameter & 1 ? FAULT_STORAGE_ENOSPC : FAULT_STORAGE_EIO;
    } else if (length > 1 && short_write) {
        decision->verdict = FAULT_STORAGE_SHORT;
        decision->parameter = 1 + parameter % (length - 1);
    } else if (corrupt) {
        decision->verdict = FAULT_STORAGE_CORRUPT;
    } else if (misdirect) {
        decision->verdict = FAULT_STORAGE_MISDIRECT;
    } else if (phantom) {
        decision->verdict = FAULT_STORAGE_PHANTOM;
    } else {
        decision->parameter = 0;
    }
}

void fault_storage_fast_local(struct sched_config *config) {
    int64_t *latencies[] = {&config->storage_read_latency_min_ns, &config->storage_read_latency_max_ns,
                            &config->storage_write_latency_min_ns, &config->storage_write_latency_max_ns,
                            &config->storage_sync_latency_min_ns, &config->storage_sync_latency_max_ns};
    for (size_t i = 0; i < sizeof(latencies) / sizeof(latencies[0]); i++) *latencies[i] = 1000;
    config->storage_iops = 1000000000;
    config->storage_bandwidth = 1ll << 40;
    int64_t *families[] = {&config->storage_read_corruption, &config->storage_write_corruption,
                           &config->storage_misdirected_read, &config->storage_misdirected_write,
                           &config->storage_phantom_write, &config->storage_sync_failure,
                           &config->storage_write_error, &config->storage_short_write,
                           &config->storage_stall};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) *families[i] = 0;
    config->storage_swarm = 0;
}

void fault_storage_swarm(struct sched_config *config, struct sched_prng *stream) {
    /* The seed picks which fault families are on and how strong: each family is on with
     * probability 1/2, at a rate drawn log-uniformly between 1e-4 and 1e-1 per operation. */
    int64_t *families[] = {&config->storage_read_corruption, &config->storage_write_corruption,
                           &config->storage_misdirected_read, &config->storage_misdirected_write,
                           &config->storage_phantom_write, &config->storage_sync_failure,
                           &config->storage_write_error, &config->storage_short_write,
                           &config->storage_stall};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (sched_prng_below(stream, 2) == 0) {
            *families[i] = 0;
            continue;
        }
        int64_t rate = SCHED_PROBABILITY_ONE / 10; /* 1e-1, divided by 10^k for k in 0..3 */
        for (uint64_t k = sched_prng_below(stream, 4); k > 0; k--) rate /= 10;
        *families[i] = rate;
    }
}

void fault_storage_decide(const struct sched_config *config, struct sched_prng *stream,
                          struct fault_storage_device *device, int64_t now_ns, int op,
                          uint64_t length, int site_active, struct fault_storage_decision *decision) {
    decision->verdict = FAULT_STORAGE_OK;
    decision->parameter = 0;
    decision->latency_ns = latency(config, stream, device, now_ns, op, length);
    if (!site_active) return;
    if (op == FAULT_STORAGE_WRITE) {
        decide_write(config, stream, length, decision);
    } else if (op == FAULT_STORAGE_READ) {
        int corrupt = sched_prng_draw_q32(stream, config->storage_read_corruption);
        int misdirect = sched_prng_draw_q32(stream, config->storage_misdirected_read);
        uint64_t parameter = sched_prng_next(stream);
        if (corrupt || misdirect) {
            decision->verdict = corrupt ? FAULT_STORAGE_CORRUPT : FAULT_STORAGE_MISDIRECT;
            decision->parameter = parameter;
        }
    } else if (op == FAULT_STORAGE_SYNC) {
        if (sched_prng_draw_q32(stream, config->storage_sync_failure)) decision->verdict = FAULT_STORAGE_SYNC_FAIL;
    }
}

int fault_storage_crash_loses(const struct sched_config *config, struct sched_prng *stream) {
    return chance(stream, config->storage_lost_unsynced);
}

int fault_storage_crash_keeps_size(const struct sched_config *config, struct sched_prng *stream) {
    /* A lost append: the file system may have recorded the new size but not the data (the tail
     * reads as zeros, garbage, or partly the new bytes), or neither. */
    return config->storage_torn_writes && sched_prng_below(stream, 2) == 0;
}

enum fault_storage_fate fault_storage_sector_fate(const struct sched_config *config,
                                                  struct sched_prng *stream) {
    if (!config->storage_torn_writes) return FAULT_FATE_OLD;
    /* A torn write: each sector independently old (1/2), new (3/8) or garbage (1/8). */
    uint64_t draw = sched_prng_below(stream, 8);
    if (draw < 4) return FAULT_FATE_OLD;
    if (draw < 7) return FAULT_FATE_NEW;
    return FAULT_FATE_GARBAGE;
}
