/* test_storage.c: unit suite for faults/storage.c: latency (range, transfer, IOPS queueing,
 * stalls), fault verdicts, storage.swarm, and what a crash leaves behind.
 *
 * Every decision comes from an explicit stream, so each test drives fault_storage_decide() with a
 * stream of a known seed. Random properties are checked both ways: a probability of 1 always
 * gives its verdict and 0 never does, equal seeds agree and different seeds disagree, and
 * distributions sit within wide bounds that a wrong model would still miss by far. The
 * "regressions" case keeps the reproducers of bugs this suite found; a new, unfixed one goes in a
 * test case of its own tagged "known_bug" (see tests/unit/meson.build). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "faults/storage.h"
#include "scheduler/config.h"
#include "scheduler/prng.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
#define MILLISECOND_NS 1000000ll
#define START_NS (100 * SECOND_NS)
#define ONE SCHED_PROBABILITY_ONE
#define DRAWS 10000
#define SWARM_SEEDS 2000
#define SWARM_FAMILIES 9

/* ---- Driving the model ---- */

static struct sched_config defaults(void) {
    struct sched_config config;
    sched_config_defaults(&config);
    return config;
}

/* Defaults without the performance model's randomness: latency exactly `base_ns` for every
 * operation, transfer and queueing negligible unless a test sets them. */
static struct sched_config fixed_latency(int64_t base_ns) {
    struct sched_config config = defaults();
    config.storage_read_latency_min_ns = config.storage_read_latency_max_ns = base_ns;
    config.storage_write_latency_min_ns = config.storage_write_latency_max_ns = base_ns;
    config.storage_sync_latency_min_ns = config.storage_sync_latency_max_ns = base_ns;
    config.storage_iops = 1000000000;
    config.storage_bandwidth = 1ll << 40;
    return config;
}

static struct sched_prng storage_stream(uint64_t seed) {
    struct sched_prng prng;
    sched_prng_stream(&prng, seed, SCHED_STREAM_STORAGE);
    return prng;
}

static struct fault_storage_decision decide(const struct sched_config *config,
                                            struct sched_prng *stream,
                                            struct fault_storage_device *device, int64_t now_ns,
                                            int op, uint64_t length, int site_active) {
    struct fault_storage_decision decision;
    memset(&decision, 0xa5, sizeof(decision));
    fault_storage_decide(config, stream, device, now_ns, op, length, site_active, &decision);
    return decision;
}

/* One operation on an idle device (a fresh one each time, far apart in time). */
static struct fault_storage_decision decide_idle(const struct sched_config *config,
                                                 struct sched_prng *stream, int op,
                                                 uint64_t length, int site_active) {
    struct fault_storage_device device = {0};
    return decide(config, stream, &device, START_NS, op, length, site_active);
}

/* Pearson's statistic of `counts` against expected shares proportional to `weights`. */
static double chi_square_weighted(const uint64_t *counts, const double *weights, size_t buckets) {
    uint64_t total = 0;
    double weight_total = 0;
    for (size_t i = 0; i < buckets; i++) {
        total += counts[i];
        weight_total += weights[i];
    }
    double statistic = 0;
    for (size_t i = 0; i < buckets; i++) {
        double expected = (double)total * weights[i] / weight_total;
        double difference = (double)counts[i] - expected;
        statistic += difference * difference / expected;
    }
    return statistic;
}

/* ---- Latency ---- */

/* Each kind of operation draws from its own range, then adds the transfer time: here 1 ns per
 * byte. Metadata changes cost what writes cost. */
START_TEST(test_latency_within_range_plus_transfer) {
    struct sched_config config = fixed_latency(0);
    config.storage_read_latency_min_ns = 10000;
    config.storage_read_latency_max_ns = 20000;
    config.storage_write_latency_min_ns = 30000;
    config.storage_write_latency_max_ns = 40000;
    config.storage_sync_latency_min_ns = 50000;
    config.storage_sync_latency_max_ns = 60000;
    config.storage_bandwidth = SECOND_NS;
    static const struct {
        int op;
        int64_t min_ns, max_ns;
    } ops[] = {{FAULT_STORAGE_READ, 10000, 20000},
               {FAULT_STORAGE_WRITE, 30000, 40000},
               {FAULT_STORAGE_SYNC, 50000, 60000},
               {FAULT_STORAGE_METADATA, 30000, 40000}};
    struct sched_prng stream = storage_stream(1);
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        int64_t lowest = INT64_MAX, highest = 0;
        for (int i = 0; i < 2000; i++) {
            uint64_t length = (uint64_t)(i % 7) * 1000;
            int64_t latency = decide_idle(&config, &stream, ops[o].op, length, 1).latency_ns;
            int64_t base = latency - (int64_t)length;
            ck_assert_int_ge(base, ops[o].min_ns);
            ck_assert_int_le(base, ops[o].max_ns);
            if (base < lowest) lowest = base;
            if (base > highest) highest = base;
        }
        /* The draws cover the range, not one corner of it. */
        ck_assert_int_lt(lowest, ops[o].min_ns + 100);
        ck_assert_int_gt(highest, ops[o].max_ns - 100);
    }
}
END_TEST

START_TEST(test_latency_bounds_inclusive_and_uniform) {
    struct sched_config config = fixed_latency(0);
    config.storage_write_latency_min_ns = 100;
    config.storage_write_latency_max_ns = 109;
    struct sched_prng stream = storage_stream(2);
    uint64_t counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        int64_t latency = decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 0, 0).latency_ns;
        ck_assert_int_ge(latency, 100);
        ck_assert_int_le(latency, 109);
        counts[latency - 100]++;
    }
    for (int i = 0; i < 10; i++) ck_assert_uint_gt(counts[i], 0);
    ck_assert_double_lt(unit_chi_square(counts, 10), 30.0);
}
END_TEST

/* Transfer time is exact: bytes over bandwidth, in nanoseconds, rounded down. */
START_TEST(test_transfer_time_exact) {
    struct sched_config config = fixed_latency(0);
    config.storage_bandwidth = 1000; /* 1 ms per byte */
    struct sched_prng stream = storage_stream(3);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 0, 0).latency_ns, 0);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 1, 0).latency_ns,
                     MILLISECOND_NS);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_READ, 1000, 0).latency_ns,
                     SECOND_NS);
    config.storage_bandwidth = 150000000; /* the default: 4096 bytes take 27306.67 ns */
    config.storage_sync_latency_min_ns = config.storage_sync_latency_max_ns = 7;
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 4096, 0).latency_ns,
                     27306);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_SYNC, 4096, 0).latency_ns,
                     7 + 27306);
}
END_TEST

/* moonshim.conf(5): "A minimum above its maximum counts as the minimum." */
START_TEST(test_latency_minimum_above_maximum) {
    struct sched_config config = fixed_latency(0);
    config.storage_read_latency_min_ns = 5000;
    config.storage_read_latency_max_ns = 1000;
    struct sched_prng stream = storage_stream(4);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_READ, 0, 0).latency_ns, 5000);
}
END_TEST

/* storage.latency off: no operation costs anything, however slow the device, even back to back
 * at one instant and with every operation stalling. */
START_TEST(test_latency_off_is_zero) {
    struct sched_config config = defaults();
    config.storage_latency = 0;
    config.storage_iops = 1;
    config.storage_bandwidth = 1;
    config.storage_stall = ONE;
    struct sched_prng stream = storage_stream(5);
    struct fault_storage_device device = {0};
    for (int i = 0; i < 100; i++) {
        for (int op = FAULT_STORAGE_READ; op <= FAULT_STORAGE_METADATA; op++)
            ck_assert_int_eq(
                decide(&config, &stream, &device, START_NS, op, 1 << 20, 1).latency_ns, 0);
    }
    /* With the model on, the same requests cost time (so the zero above is the switch). */
    config.storage_latency = 1;
    ck_assert_int_gt(decide(&config, &stream, &device, START_NS, FAULT_STORAGE_WRITE, 1, 0)
                         .latency_ns,
                     0);
}
END_TEST

/* storage.iops: an operation queues behind the ones before it, 1/iops each. Operations issued
 * at one instant wait 0, 1, 2, ... periods; once the device has caught up, none waits. */
START_TEST(test_iops_back_to_back_wait_one_period_each) {
    struct sched_config config = fixed_latency(0);
    config.storage_iops = 1000; /* 1 ms per operation */
    struct sched_prng stream = storage_stream(6);
    struct fault_storage_device device = {0};
    for (int64_t i = 0; i < 10; i++)
        ck_assert_int_eq(
            decide(&config, &stream, &device, START_NS, FAULT_STORAGE_WRITE, 0, 0).latency_ns,
            i * MILLISECOND_NS);
    ck_assert_int_eq(device.busy_until_ns, START_NS + 10 * MILLISECOND_NS);
    /* Half-way through the queue an operation waits for the rest of it. */
    ck_assert_int_eq(decide(&config, &stream, &device, START_NS + 4 * MILLISECOND_NS,
                            FAULT_STORAGE_READ, 0, 0)
                         .latency_ns,
                     6 * MILLISECOND_NS);
    /* Long after, the device is idle again. */
    ck_assert_int_eq(decide(&config, &stream, &device, START_NS + SECOND_NS, FAULT_STORAGE_SYNC,
                            0, 0)
                         .latency_ns,
                     0);
    ck_assert_int_eq(device.busy_until_ns, START_NS + SECOND_NS + MILLISECOND_NS);
}
END_TEST

/* Queueing adds to the operation's own latency and transfer time. */
START_TEST(test_iops_wait_adds_to_latency) {
    struct sched_config config = fixed_latency(300000);
    config.storage_iops = 4000;   /* 250 us per operation */
    config.storage_bandwidth = 1000000000; /* 1 ns per byte */
    struct sched_prng stream = storage_stream(7);
    struct fault_storage_device device = {0};
    ck_assert_int_eq(
        decide(&config, &stream, &device, START_NS, FAULT_STORAGE_WRITE, 100, 0).latency_ns,
        300000 + 100);
    ck_assert_int_eq(
        decide(&config, &stream, &device, START_NS, FAULT_STORAGE_WRITE, 100, 0).latency_ns,
        250000 + 300000 + 100);
    ck_assert_int_eq(
        decide(&config, &stream, &device, START_NS, FAULT_STORAGE_READ, 0, 0).latency_ns,
        500000 + 300000);
}
END_TEST

START_TEST(test_stall_always_and_never) {
    struct sched_config config = fixed_latency(1000);
    config.storage_stall_min_ns = 2 * SECOND_NS;
    config.storage_stall_max_ns = 3 * SECOND_NS;
    struct sched_prng stream = storage_stream(8);
    config.storage_stall = ONE;
    for (int i = 0; i < 1000; i++) {
        int64_t latency = decide_idle(&config, &stream, i % 4 + 1, 0, i % 2).latency_ns;
        ck_assert_int_ge(latency, 1000 + 2 * SECOND_NS);
        ck_assert_int_le(latency, 1000 + 3 * SECOND_NS);
    }
    config.storage_stall = 0;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(decide_idle(&config, &stream, i % 4 + 1, 0, i % 2).latency_ns, 1000);
}
END_TEST

START_TEST(test_stall_rate_follows_probability) {
    struct sched_config config = fixed_latency(0);
    config.storage_stall = ONE / 4;
    config.storage_stall_min_ns = config.storage_stall_max_ns = SECOND_NS;
    struct sched_prng stream = storage_stream(9);
    int stalled = 0;
    for (int i = 0; i < 40000; i++) {
        int64_t latency = decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 0, 1).latency_ns;
        ck_assert(latency == 0 || latency == SECOND_NS);
        stalled += latency == SECOND_NS;
    }
    /* 10000 expected, standard deviation 87. */
    ck_assert_int_gt(stalled, 9500);
    ck_assert_int_lt(stalled, 10500);
}
END_TEST

START_TEST(test_latency_deterministic_per_seed) {
    struct sched_config config = defaults();
    struct sched_prng a = storage_stream(10), b = storage_stream(10), c = storage_stream(11);
    struct fault_storage_device device_a = {0}, device_b = {0}, device_c = {0};
    int differences = 0;
    for (int i = 0; i < 200; i++) {
        int64_t now = START_NS + i * 100000;
        int op = i % 4 + 1;
        int64_t latency = decide(&config, &a, &device_a, now, op, 512, 1).latency_ns;
        ck_assert_int_eq(latency, decide(&config, &b, &device_b, now, op, 512, 1).latency_ns);
        differences += latency != decide(&config, &c, &device_c, now, op, 512, 1).latency_ns;
    }
    ck_assert_int_gt(differences, 190);
}
END_TEST

/* ---- Verdicts ---- */

/* Each probabilistic fault: the operation it applies to, its field, and the verdict it gives. */
struct fault_family {
    const char *name;
    int op;
    size_t offset;
    int32_t verdict; /* FAULT_STORAGE_EIO stands for "EIO or ENOSPC" */
};

static const struct fault_family families[] = {
    {"read_corruption", FAULT_STORAGE_READ, offsetof(struct sched_config, storage_read_corruption),
     FAULT_STORAGE_CORRUPT},
    {"misdirected_read", FAULT_STORAGE_READ,
     offsetof(struct sched_config, storage_misdirected_read), FAULT_STORAGE_MISDIRECT},
    {"write_corruption", FAULT_STORAGE_WRITE,
     offsetof(struct sched_config, storage_write_corruption), FAULT_STORAGE_CORRUPT},
    {"misdirected_write", FAULT_STORAGE_WRITE,
     offsetof(struct sched_config, storage_misdirected_write), FAULT_STORAGE_MISDIRECT},
    {"phantom_write", FAULT_STORAGE_WRITE, offsetof(struct sched_config, storage_phantom_write),
     FAULT_STORAGE_PHANTOM},
    {"write_error", FAULT_STORAGE_WRITE, offsetof(struct sched_config, storage_write_error),
     FAULT_STORAGE_EIO},
    {"short_write", FAULT_STORAGE_WRITE, offsetof(struct sched_config, storage_short_write),
     FAULT_STORAGE_SHORT},
    {"sync_failure", FAULT_STORAGE_SYNC, offsetof(struct sched_config, storage_sync_failure),
     FAULT_STORAGE_SYNC_FAIL},
};

#define FAMILY_COUNT (sizeof(families) / sizeof(families[0]))

static int64_t *family_field(struct sched_config *config, const struct fault_family *family) {
    return (int64_t *)(void *)((char *)config + family->offset);
}

static int verdict_matches(const struct fault_family *family, int32_t verdict) {
    if (family->verdict == FAULT_STORAGE_EIO)
        return verdict == FAULT_STORAGE_EIO || verdict == FAULT_STORAGE_ENOSPC;
    return verdict == family->verdict;
}

/* At probability 1 a family gives its verdict on every operation of its kind at an active site,
 * and nothing at an inactive one; other kinds of operation are never touched by it. */
START_TEST(test_each_fault_at_one) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        struct sched_config config = defaults();
        *family_field(&config, &families[f]) = ONE;
        struct sched_prng stream = storage_stream(20 + f);
        for (int i = 0; i < 500; i++) {
            struct fault_storage_decision decision =
                decide_idle(&config, &stream, families[f].op, 4096, 1);
            ck_assert_msg(verdict_matches(&families[f], decision.verdict),
                          "%s at 1: verdict %d at an active site", families[f].name,
                          decision.verdict);
            decision = decide_idle(&config, &stream, families[f].op, 4096, 0);
            ck_assert_msg(decision.verdict == FAULT_STORAGE_OK,
                          "%s at 1: verdict %d at an inactive site", families[f].name,
                          decision.verdict);
            ck_assert_uint_eq(decision.parameter, 0);
            for (int op = FAULT_STORAGE_READ; op <= FAULT_STORAGE_METADATA; op++) {
                if (op == families[f].op) continue;
                decision = decide_idle(&config, &stream, op, 4096, 1);
                ck_assert_msg(decision.verdict == FAULT_STORAGE_OK,
                              "%s at 1: verdict %d for op %d", families[f].name,
                              decision.verdict, op);
            }
        }
    }
}
END_TEST

/* The default profile (every fault at 0) never fails anything, active site or not. */
START_TEST(test_probability_zero_never) {
    struct sched_config config = defaults();
    struct sched_prng stream = storage_stream(30);
    for (int i = 0; i < DRAWS; i++) {
        struct fault_storage_decision decision =
            decide_idle(&config, &stream, i % 4 + 1, (uint64_t)i, i % 3 != 0);
        ck_assert_int_eq(decision.verdict, FAULT_STORAGE_OK);
        ck_assert_uint_eq(decision.parameter, 0);
    }
}
END_TEST

/* Metadata changes have no probabilistic faults, even with every family at 1. */
START_TEST(test_metadata_never_faults) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE;
    struct sched_prng stream = storage_stream(31);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_METADATA, 4096, 1).verdict,
                         FAULT_STORAGE_OK);
}
END_TEST

/* A short write transfers from 1 byte to all but one; a write of 0 or 1 byte cannot be short. */
START_TEST(test_short_write_parameter_in_range) {
    struct sched_config config = defaults();
    config.storage_short_write = ONE;
    struct sched_prng stream = storage_stream(32);
    for (uint64_t length = 2; length < 200; length++) {
        for (int i = 0; i < 20; i++) {
            struct fault_storage_decision decision =
                decide_idle(&config, &stream, FAULT_STORAGE_WRITE, length, 1);
            ck_assert_int_eq(decision.verdict, FAULT_STORAGE_SHORT);
            ck_assert_uint_ge(decision.parameter, 1);
            ck_assert_uint_le(decision.parameter, length - 1);
        }
    }
    int seen[5] = {0};
    for (int i = 0; i < 1000; i++)
        seen[decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 5, 1).parameter] = 1;
    for (int count = 1; count <= 4; count++) ck_assert_msg(seen[count], "never %d of 5", count);
    ck_assert_int_eq(seen[0], 0);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 1, 1).verdict,
                     FAULT_STORAGE_OK);
    ck_assert_int_eq(decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 0, 1).verdict,
                     FAULT_STORAGE_OK);
}
END_TEST

/* moonshim.conf(5): a write error is EIO or ENOSPC, at even odds. */
START_TEST(test_write_error_even_odds) {
    struct sched_config config = defaults();
    config.storage_write_error = ONE;
    struct sched_prng stream = storage_stream(33);
    uint64_t counts[2] = {0};
    for (int i = 0; i < DRAWS; i++) {
        int32_t verdict = decide_idle(&config, &stream, FAULT_STORAGE_WRITE, 10, 1).verdict;
        counts[verdict == FAULT_STORAGE_ENOSPC]++;
    }
    ck_assert_uint_gt(counts[0], 0);
    ck_assert_uint_gt(counts[1], 0);
    ck_assert_double_lt(unit_chi_square(counts, 2), 20.0);
}
END_TEST

/* Between 0 and 1 a fault strikes at its configured rate: 25% of 40000 is 10000 +- 87. */
START_TEST(test_fault_rate_follows_probability) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        struct sched_config config = defaults();
        *family_field(&config, &families[f]) = ONE / 4;
        struct sched_prng stream = storage_stream(40 + f);
        int struck = 0;
        for (int i = 0; i < 40000; i++)
            struck += decide_idle(&config, &stream, families[f].op, 4096, 1).verdict !=
                      FAULT_STORAGE_OK;
        ck_assert_msg(struck > 9500 && struck < 10500, "%s at 25%%: %d of 40000",
                      families[f].name, struck);
    }
}
END_TEST

/* The seeds of bit flips and misdirections differ from one fault to the next. */
START_TEST(test_fault_parameters_vary) {
    static const size_t seeded[] = {0, 1, 2, 3}; /* the corruption and misdirection families */
    for (size_t s = 0; s < sizeof(seeded) / sizeof(seeded[0]); s++) {
        const struct fault_family *family = &families[seeded[s]];
        struct sched_config config = defaults();
        *family_field(&config, family) = ONE;
        struct sched_prng stream = storage_stream(50);
        uint64_t parameters[100];
        int repeats = 0;
        for (int i = 0; i < 100; i++) {
            parameters[i] = decide_idle(&config, &stream, family->op, 4096, 1).parameter;
            for (int j = 0; j < i; j++) repeats += parameters[j] == parameters[i];
        }
        ck_assert_msg(repeats == 0, "%s: %d repeated parameters", family->name, repeats);
    }
}
END_TEST

/* Every family draws on every operation, on or off, so turning other families on never moves the
 * operations a family strikes: it can only be masked, on those same operations, by a family that
 * takes precedence (an error before a short write, a corruption before a misdirection, ...). */
START_TEST(test_family_strikes_independent_of_others) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        struct sched_config alone = defaults(), crowded = defaults();
        for (size_t g = 0; g < FAMILY_COUNT; g++) *family_field(&crowded, &families[g]) = ONE / 4;
        *family_field(&alone, &families[f]) = ONE / 3;
        *family_field(&crowded, &families[f]) = ONE / 3;
        struct sched_prng a = storage_stream(55), b = storage_stream(55);
        int struck = 0, kept = 0;
        for (int i = 0; i < 3000; i++) {
            int32_t by_itself = decide_idle(&alone, &a, families[f].op, 4096, 1).verdict;
            int32_t among_others = decide_idle(&crowded, &b, families[f].op, 4096, 1).verdict;
            int strikes = by_itself != FAULT_STORAGE_OK;
            ck_assert(!strikes || verdict_matches(&families[f], by_itself));
            if (verdict_matches(&families[f], among_others))
                ck_assert_msg(strikes, "%s struck op %d only with other families on",
                              families[f].name, i);
            if (strikes)
                ck_assert_msg(among_others != FAULT_STORAGE_OK,
                              "%s: op %d struck alone, not with other families on",
                              families[f].name, i);
            struck += strikes;
            kept += strikes && verdict_matches(&families[f], among_others);
        }
        ck_assert_int_gt(struck, 800);
        /* The first family of each operation is never masked. */
        if (f == 0 || families[f].verdict == FAULT_STORAGE_EIO ||
            families[f].verdict == FAULT_STORAGE_SYNC_FAIL)
            ck_assert_int_eq(kept, struck);
    }
}
END_TEST

START_TEST(test_verdicts_deterministic_per_seed) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE / 5;
    struct sched_prng a = storage_stream(60), b = storage_stream(60), c = storage_stream(61);
    int differences = 0;
    for (int i = 0; i < 1000; i++) {
        int op = i % 3 + 1;
        struct fault_storage_decision first = decide_idle(&config, &a, op, 4096, 1);
        struct fault_storage_decision second = decide_idle(&config, &b, op, 4096, 1);
        struct fault_storage_decision third = decide_idle(&config, &c, op, 4096, 1);
        ck_assert_int_eq(first.verdict, second.verdict);
        ck_assert_uint_eq(first.parameter, second.parameter);
        ck_assert_int_eq(first.latency_ns, second.latency_ns);
        differences += first.verdict != third.verdict;
    }
    /* Two independent runs at these rates disagree on roughly a third of the verdicts. */
    ck_assert_int_gt(differences, 200);
}
END_TEST

/* ---- storage.fast_local ---- */

/* The profile: 1 us per operation, no queueing or transfer to speak of, no faults, no swarm;
 * everything else (what a crash loses, torn writes, the paths) stays as configured. */
START_TEST(test_fast_local_profile) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE;
    config.storage_stall = ONE;
    config.storage_swarm = 1;
    config.storage_read_latency_max_ns = 7 * MILLISECOND_NS;
    config.storage_iops = 3;
    config.storage_bandwidth = 10;
    config.storage_lost_unsynced = ONE / 3;
    config.storage_torn_writes = 0;
    config.storage_fsyncgate = 1;
    struct sched_config expected = config;
    expected.storage_read_latency_min_ns = expected.storage_read_latency_max_ns = 1000;
    expected.storage_write_latency_min_ns = expected.storage_write_latency_max_ns = 1000;
    expected.storage_sync_latency_min_ns = expected.storage_sync_latency_max_ns = 1000;
    expected.storage_iops = 1000000000;
    expected.storage_bandwidth = 1ll << 40;
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&expected, &families[f]) = 0;
    expected.storage_stall = 0;
    expected.storage_swarm = 0;
    fault_storage_fast_local(&config);
    ck_assert_mem_eq(&config, &expected, sizeof(config));
    /* Back to back at one instant, every operation of a page costs 1 us and some nanoseconds. */
    struct sched_prng stream = storage_stream(90);
    struct fault_storage_device device = {0};
    for (int i = 0; i < 1000; i++) {
        struct fault_storage_decision decision =
            decide(&config, &stream, &device, START_NS, i % 4 + 1, 4096, 1);
        ck_assert_int_eq(decision.verdict, FAULT_STORAGE_OK);
        ck_assert_int_ge(decision.latency_ns, 1000);
        ck_assert_int_le(decision.latency_ns, 1000 + 3 + i);
    }
}
END_TEST

/* ---- storage.swarm ---- */

static int64_t *swarm_field(struct sched_config *config, size_t family) {
    int64_t *fields[SWARM_FAMILIES] = {
        &config->storage_read_corruption,  &config->storage_write_corruption,
        &config->storage_misdirected_read, &config->storage_misdirected_write,
        &config->storage_phantom_write,    &config->storage_sync_failure,
        &config->storage_write_error,      &config->storage_short_write,
        &config->storage_stall};
    return fields[family];
}

/* 1e-1, 1e-2, 1e-3, 1e-4 of SCHED_PROBABILITY_ONE, rounded down; -1 for anything else. */
static int swarm_level(int64_t rate) {
    static const int64_t levels[] = {429496729, 42949672, 4294967, 429496};
    for (int i = 0; i < 4; i++)
        if (rate == levels[i]) return i;
    return -1;
}

static struct sched_config swarmed(uint64_t seed) {
    struct sched_config config = defaults();
    struct sched_prng stream = storage_stream(seed);
    fault_storage_swarm(&config, &stream);
    return config;
}

START_TEST(test_swarm_deterministic_per_seed) {
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct sched_config first = swarmed(seed), second = swarmed(seed);
        ck_assert_mem_eq(&first, &second, sizeof(first));
    }
}
END_TEST

START_TEST(test_swarm_differs_across_seeds) {
    struct sched_config base = swarmed(1);
    int differing = 0;
    for (uint64_t seed = 2; seed <= 51; seed++) {
        struct sched_config other = swarmed(seed);
        differing += memcmp(&base, &other, sizeof(base)) != 0;
    }
    /* Two seeds agree on one family with probability 1/4 (both off) + 1/16 (both on, at the
     * same level) = 5/16, on all nine about once in 35000 pairs. */
    ck_assert_int_ge(differing, 48);
}
END_TEST

/* Every family is either off or at one of the four levels, and the swarm overwrites exactly the
 * nine families, whatever they held before; the rest of the configuration stays. */
START_TEST(test_swarm_sets_only_the_families) {
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct sched_config before = defaults();
        for (size_t f = 0; f < SWARM_FAMILIES; f++) *swarm_field(&before, f) = ONE;
        before.storage_lost_unsynced = ONE / 3;
        before.storage_torn_writes = 0;
        before.storage_fsyncgate = 1;
        struct sched_config after = before;
        struct sched_prng stream = storage_stream(seed);
        fault_storage_swarm(&after, &stream);
        struct sched_config expected = before;
        for (size_t f = 0; f < SWARM_FAMILIES; f++) {
            int64_t rate = *swarm_field(&after, f);
            ck_assert_msg(rate == 0 || swarm_level(rate) >= 0, "seed %llu family %zu: rate %lld",
                          (unsigned long long)seed, f, (long long)rate);
            *swarm_field(&expected, f) = rate;
        }
        ck_assert_mem_eq(&after, &expected, sizeof(after));
    }
}
END_TEST

/* Over many seeds each family is on about half the time, and the four levels are even. */
START_TEST(test_swarm_rates_over_many_seeds) {
    uint64_t on[SWARM_FAMILIES] = {0}, levels[4] = {0};
    for (uint64_t seed = 1; seed <= SWARM_SEEDS; seed++) {
        struct sched_config config = swarmed(seed);
        for (size_t f = 0; f < SWARM_FAMILIES; f++) {
            int64_t rate = *swarm_field(&config, f);
            if (rate == 0) continue;
            on[f]++;
            levels[swarm_level(rate)]++;
        }
    }
    uint64_t total = 0;
    for (size_t f = 0; f < SWARM_FAMILIES; f++) {
        /* 1000 expected, standard deviation 22. */
        ck_assert_msg(on[f] > 880 && on[f] < 1120, "family %zu on for %llu of %d seeds", f,
                      (unsigned long long)on[f], SWARM_SEEDS);
        total += on[f];
    }
    ck_assert_uint_gt(total, 8700);
    ck_assert_uint_lt(total, 9300);
    for (int i = 0; i < 4; i++) ck_assert_uint_gt(levels[i], 0);
    ck_assert_double_lt(unit_chi_square(levels, 4), 30.0);
}
END_TEST

/* ---- Crash fates ---- */

START_TEST(test_crash_loses_at_zero_and_one) {
    struct sched_config config = defaults();
    struct sched_prng stream = storage_stream(70);
    config.storage_lost_unsynced = 0;
    for (int i = 0; i < DRAWS; i++)
        ck_assert_int_eq(fault_storage_crash_loses(&config, &stream), 0);
    config.storage_lost_unsynced = ONE;
    for (int i = 0; i < DRAWS; i++)
        ck_assert_int_eq(fault_storage_crash_loses(&config, &stream), 1);
}
END_TEST

/* The default, 0.5: about half the unsynced changes are lost (5000 +- 50). */
START_TEST(test_crash_loses_default_half) {
    struct sched_config config = defaults();
    ck_assert_int_eq(config.storage_lost_unsynced, ONE / 2);
    struct sched_prng stream = storage_stream(71);
    int lost = 0;
    for (int i = 0; i < DRAWS; i++) lost += fault_storage_crash_loses(&config, &stream);
    ck_assert_int_gt(lost, 4750);
    ck_assert_int_lt(lost, 5250);
}
END_TEST

/* A lost write that extended a file keeps its new size about half the time with torn writes on,
 * and never with them off (the file shrinks back). */
START_TEST(test_crash_keeps_size) {
    struct sched_config config = defaults();
    struct sched_prng stream = storage_stream(76);
    int kept = 0;
    for (int i = 0; i < DRAWS; i++) kept += fault_storage_crash_keeps_size(&config, &stream) != 0;
    ck_assert_int_gt(kept, 4750);
    ck_assert_int_lt(kept, 5250);
    config.storage_torn_writes = 0;
    for (int i = 0; i < DRAWS; i++)
        ck_assert_int_eq(fault_storage_crash_keeps_size(&config, &stream), 0);
}
END_TEST

START_TEST(test_sector_fate_torn_off_is_old) {
    struct sched_config config = defaults();
    config.storage_torn_writes = 0;
    struct sched_prng stream = storage_stream(72);
    for (int i = 0; i < DRAWS; i++)
        ck_assert_int_eq(fault_storage_sector_fate(&config, &stream), FAULT_FATE_OLD);
}
END_TEST

/* The weighted statistic must reject a spread that is not the expected one, or the test below
 * could pass with any fates at all. */
START_TEST(test_chi_square_weighted_rejects) {
    static const double weights[3] = {4, 3, 1};
    uint64_t right[3] = {40000, 30000, 10000}, even[3] = {26667, 26667, 26666};
    ck_assert_double_lt(chi_square_weighted(right, weights, 3), 0.001);
    ck_assert_double_gt(chi_square_weighted(even, weights, 3), 1000.0);
}
END_TEST

/* Torn writes on: each sector old 1/2, new 3/8, garbage 1/8. The 0.1% point of chi-square with
 * two degrees of freedom is 13.8; 30 leaves room and still rejects any other split by far. */
START_TEST(test_sector_fate_distribution) {
    static const double weights[3] = {4, 3, 1};
    struct sched_config config = defaults();
    ck_assert_int_eq(config.storage_torn_writes, 1);
    struct sched_prng stream = storage_stream(73);
    uint64_t counts[3] = {0}; /* old, new, garbage */
    for (int i = 0; i < 80000; i++) {
        enum fault_storage_fate fate = fault_storage_sector_fate(&config, &stream);
        ck_assert(fate == FAULT_FATE_OLD || fate == FAULT_FATE_NEW || fate == FAULT_FATE_GARBAGE);
        counts[fate == FAULT_FATE_OLD ? 0 : fate == FAULT_FATE_NEW ? 1 : 2]++;
    }
    ck_assert_double_lt(chi_square_weighted(counts, weights, 3), 30.0);
}
END_TEST

START_TEST(test_sector_fate_deterministic_per_seed) {
    struct sched_config config = defaults();
    struct sched_prng a = storage_stream(74), b = storage_stream(74), c = storage_stream(75);
    int differences = 0;
    for (int i = 0; i < 1000; i++) {
        enum fault_storage_fate fate = fault_storage_sector_fate(&config, &a);
        ck_assert_int_eq(fate, fault_storage_sector_fate(&config, &b));
        differences += fate != fault_storage_sector_fate(&config, &c);
    }
    /* Independent fates differ with probability 1 - (16 + 9 + 1) / 64 = 0.59. */
    ck_assert_int_gt(differences, 500);
}
END_TEST

/* ---- Regressions ---- */

/* Regression (found by this suite): the transfer time was computed as length * 10^9 / bandwidth
 * in 64 bits, which wraps for lengths above 2^64 / 10^9 bytes (about 18.4 GB, a legal read() or
 * write() count on a 64-bit system), so a 32 GiB read cost less than a 16 GiB one. */
START_TEST(test_transfer_time_for_huge_lengths) {
    struct sched_config config = fixed_latency(0);
    config.storage_bandwidth = 150000000;
    struct sched_prng stream = storage_stream(80);
    for (uint64_t length = 1ull << 30; length <= 1ull << 40; length <<= 1) {
        int64_t expected = (int64_t)((unsigned __int128)length * 1000000000u / 150000000u);
        int64_t latency = decide_idle(&config, &stream, FAULT_STORAGE_READ, length, 0).latency_ns;
        ck_assert_msg(latency == expected, "%llu bytes: latency %lld ns, expected %lld ns",
                      (unsigned long long)length, (long long)latency, (long long)expected);
    }
}
END_TEST

static Suite *storage_suite(void) {
    Suite *suite = suite_create("storage");
    TCase *latency = tcase_create("latency");
    tcase_add_test(latency, test_latency_within_range_plus_transfer);
    tcase_add_test(latency, test_latency_bounds_inclusive_and_uniform);
    tcase_add_test(latency, test_transfer_time_exact);
    tcase_add_test(latency, test_latency_minimum_above_maximum);
    tcase_add_test(latency, test_latency_off_is_zero);
    tcase_add_test(latency, test_iops_back_to_back_wait_one_period_each);
    tcase_add_test(latency, test_iops_wait_adds_to_latency);
    tcase_add_test(latency, test_stall_always_and_never);
    tcase_add_test(latency, test_stall_rate_follows_probability);
    tcase_add_test(latency, test_latency_deterministic_per_seed);
    suite_add_tcase(suite, latency);
    TCase *verdicts = tcase_create("verdicts");
    tcase_add_test(verdicts, test_each_fault_at_one);
    tcase_add_test(verdicts, test_probability_zero_never);
    tcase_add_test(verdicts, test_metadata_never_faults);
    tcase_add_test(verdicts, test_short_write_parameter_in_range);
    tcase_add_test(verdicts, test_write_error_even_odds);
    tcase_add_test(verdicts, test_fault_rate_follows_probability);
    tcase_add_test(verdicts, test_fault_parameters_vary);
    tcase_add_test(verdicts, test_family_strikes_independent_of_others);
    tcase_add_test(verdicts, test_verdicts_deterministic_per_seed);
    suite_add_tcase(suite, verdicts);
    TCase *fast_local = tcase_create("fast_local");
    tcase_add_test(fast_local, test_fast_local_profile);
    suite_add_tcase(suite, fast_local);
    TCase *swarm = tcase_create("swarm");
    tcase_add_test(swarm, test_swarm_deterministic_per_seed);
    tcase_add_test(swarm, test_swarm_differs_across_seeds);
    tcase_add_test(swarm, test_swarm_sets_only_the_families);
    tcase_add_test(swarm, test_swarm_rates_over_many_seeds);
    suite_add_tcase(suite, swarm);
    TCase *crash = tcase_create("crash");
    tcase_add_test(crash, test_crash_loses_at_zero_and_one);
    tcase_add_test(crash, test_crash_loses_default_half);
    tcase_add_test(crash, test_crash_keeps_size);
    tcase_add_test(crash, test_sector_fate_torn_off_is_old);
    tcase_add_test(crash, test_chi_square_weighted_rejects);
    tcase_add_test(crash, test_sector_fate_distribution);
    tcase_add_test(crash, test_sector_fate_deterministic_per_seed);
    suite_add_tcase(suite, crash);
    TCase *regressions = tcase_create("regressions");
    tcase_add_test(regressions, test_transfer_time_for_huge_lengths);
    suite_add_tcase(suite, regressions);
    return suite;
}

int main(void) {
    return unit_run(storage_suite());
}
