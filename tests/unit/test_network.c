/* test_network.c: unit suite for faults/network.c: latency per operation (ranges, shapes, peer
 * latency, clogging) and the fault verdicts of fault_network_decide().
 *
 * Every decision comes from an explicit stream, so each test drives fault_network_decide() with a
 * stream of a known seed. Random properties are checked both ways: a probability of 1 always
 * gives its verdict and 0 never does, equal seeds agree and different seeds disagree, and
 * distributions sit within wide bounds that a wrong model would still miss by far. Connects and
 * accepts carry no bytes (as from shim/net.c); reads and writes carry a page unless a test says
 * otherwise. The "regressions" case keeps the reproducers of bugs this suite found; a new,
 * unfixed one goes in a test case of its own tagged "known_bug" (see tests/unit/meson.build). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "faults/network.h"
#include "scheduler/config.h"
#include "scheduler/prng.h"
#include "unit.h"

#define MILLISECOND_NS 1000000ll
#define ONE SCHED_PROBABILITY_ONE
#define PAGE 4096
#define DRAWS 10000
#define CLOG_MIN_NS (100 * MILLISECOND_NS)
#define CLOG_MAX_NS (300 * MILLISECOND_NS)

static const int all_ops[] = {FAULT_NETWORK_CONNECT, FAULT_NETWORK_ACCEPT, FAULT_NETWORK_READ,
                              FAULT_NETWORK_WRITE};
#define OP_COUNT (sizeof(all_ops) / sizeof(all_ops[0]))

/* ---- Driving the model ---- */

static struct sched_config defaults(void) {
    struct sched_config config;
    sched_config_defaults(&config);
    return config;
}

/* Defaults with every operation costing exactly `base_ns` (uniform shape, no peer latency). */
static struct sched_config fixed_latency(int64_t base_ns) {
    struct sched_config config = defaults();
    config.network_connect_latency_min_ns = config.network_connect_latency_max_ns = base_ns;
    config.network_accept_latency_min_ns = config.network_accept_latency_max_ns = base_ns;
    config.network_read_latency_min_ns = config.network_read_latency_max_ns = base_ns;
    config.network_write_latency_min_ns = config.network_write_latency_max_ns = base_ns;
    return config;
}

/* Sets one operation's latency range. */
static void set_range(struct sched_config *config, int op, int64_t min_ns, int64_t max_ns) {
    switch (op) {
    case FAULT_NETWORK_CONNECT:
        config->network_connect_latency_min_ns = min_ns;
        config->network_connect_latency_max_ns = max_ns;
        break;
    case FAULT_NETWORK_ACCEPT:
        config->network_accept_latency_min_ns = min_ns;
        config->network_accept_latency_max_ns = max_ns;
        break;
    case FAULT_NETWORK_READ:
        config->network_read_latency_min_ns = min_ns;
        config->network_read_latency_max_ns = max_ns;
        break;
    default:
        config->network_write_latency_min_ns = min_ns;
        config->network_write_latency_max_ns = max_ns;
        break;
    }
}

static struct sched_prng network_stream(uint64_t seed) {
    struct sched_prng prng;
    sched_prng_stream(&prng, seed, SCHED_STREAM_NETWORK);
    return prng;
}

/* The context the decisions below are made in (enum fault_network_context): a non-blocking,
 * level-triggered stream socket, where every family can strike (EINTR aside, whose tests set
 * it to 0: a blocking call). */
static unsigned test_context = FAULT_NETWORK_NONBLOCKING;

static struct fault_network_decision decide(const struct sched_config *config,
                                            struct sched_prng *stream, int op, uint64_t length,
                                            int site_active) {
    struct fault_network_decision decision;
    memset(&decision, 0xa5, sizeof(decision));
    fault_network_decide(config, stream, op, length, site_active, test_context, &decision);
    return decision;
}

/* The context in which a family can strike: EINTR and a hanging connect need a call that
 * blocks, spurious readiness one that does not; the others strike in either. */
static unsigned context_for(const char *family_name) {
    return strcmp(family_name, "eintr") == 0 || strcmp(family_name, "connect_hang") == 0
               ? 0
               : FAULT_NETWORK_NONBLOCKING;
}

/* What shim/net.c passes: no bytes for connect and accept, a page for reads and writes. */
static uint64_t usual_length(int op) {
    return op == FAULT_NETWORK_READ || op == FAULT_NETWORK_WRITE ? PAGE : 0;
}

static struct fault_network_decision decide_usual(const struct sched_config *config,
                                                  struct sched_prng *stream, int op,
                                                  int site_active) {
    return decide(config, stream, op, usual_length(op), site_active);
}

/* ---- Latency ---- */

/* Each kind of operation draws from its own range, and the draws cover it. */
START_TEST(test_latency_within_range_per_op) {
    struct sched_config config = fixed_latency(0);
    static const struct {
        int op;
        int64_t min_ns, max_ns;
    } ops[] = {{FAULT_NETWORK_CONNECT, 10000, 20000},
               {FAULT_NETWORK_ACCEPT, 30000, 40000},
               {FAULT_NETWORK_READ, 50000, 60000},
               {FAULT_NETWORK_WRITE, 70000, 80000}};
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
        set_range(&config, ops[o].op, ops[o].min_ns, ops[o].max_ns);
    struct sched_prng stream = network_stream(1);
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        int64_t lowest = INT64_MAX, highest = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t latency = decide(&config, &stream, ops[o].op, (uint64_t)i, i % 2).latency_ns;
            ck_assert_int_ge(latency, ops[o].min_ns);
            ck_assert_int_le(latency, ops[o].max_ns);
            if (latency < lowest) lowest = latency;
            if (latency > highest) highest = latency;
        }
        ck_assert_int_lt(lowest, ops[o].min_ns + 100);
        ck_assert_int_gt(highest, ops[o].max_ns - 100);
    }
}
END_TEST

START_TEST(test_latency_bounds_inclusive_and_uniform) {
    struct sched_config config = fixed_latency(0);
    config.network_read_latency_min_ns = 100;
    config.network_read_latency_max_ns = 109;
    struct sched_prng stream = network_stream(2);
    uint64_t counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        int64_t latency = decide(&config, &stream, FAULT_NETWORK_READ, PAGE, 1).latency_ns;
        ck_assert_int_ge(latency, 100);
        ck_assert_int_le(latency, 109);
        counts[latency - 100]++;
    }
    for (int i = 0; i < 10; i++) ck_assert_uint_gt(counts[i], 0);
    ck_assert_double_lt(unit_chi_square(counts, 10), 30.0);
}
END_TEST

/* The defaults of DESIGN.md: connect 1-11 ms, accept 1-6 ms, read 10-60 us, write 100-600 us. */
START_TEST(test_latency_defaults) {
    struct sched_config config = defaults();
    static const struct {
        int op;
        int64_t min_ns, max_ns;
    } ops[] = {{FAULT_NETWORK_CONNECT, 1000000, 11000000},
               {FAULT_NETWORK_ACCEPT, 1000000, 6000000},
               {FAULT_NETWORK_READ, 10000, 60000},
               {FAULT_NETWORK_WRITE, 100000, 600000}};
    struct sched_prng stream = network_stream(3);
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        int64_t sum = 0;
        for (int i = 0; i < 1000; i++) {
            int64_t latency = decide_usual(&config, &stream, ops[o].op, 1).latency_ns;
            ck_assert_int_ge(latency, ops[o].min_ns);
            ck_assert_int_le(latency, ops[o].max_ns);
            sum += latency;
        }
        /* The mean of a uniform draw is the middle of the range (within 5% of the width). */
        int64_t middle = (ops[o].min_ns + ops[o].max_ns) / 2;
        int64_t slack = (ops[o].max_ns - ops[o].min_ns) / 20;
        ck_assert_int_gt(sum / 1000, middle - slack);
        ck_assert_int_lt(sum / 1000, middle + slack);
    }
}
END_TEST

/* network.peer_latency: a fixed amount on top of every operation, whatever the shape (the slow
 * tail of the bimodal shape multiplies the drawn latency, not the peer's). */
START_TEST(test_peer_latency_added) {
    static const int64_t shapes[] = {FAULT_NETWORK_UNIFORM, FAULT_NETWORK_EXPONENTIAL,
                                     FAULT_NETWORK_BIMODAL};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        struct sched_config config = fixed_latency(1000);
        config.network_latency_shape = shapes[s];
        config.network_peer_latency_ns = 5 * MILLISECOND_NS;
        struct sched_prng stream = network_stream(4);
        int slow = 0;
        for (int i = 0; i < 5000; i++) {
            int64_t latency = decide_usual(&config, &stream, all_ops[i % OP_COUNT], 1).latency_ns;
            if (shapes[s] == FAULT_NETWORK_BIMODAL && latency == 5 * MILLISECOND_NS + 10000) {
                slow++;
                continue;
            }
            ck_assert_int_eq(latency, 5 * MILLISECOND_NS + 1000);
        }
        if (shapes[s] == FAULT_NETWORK_BIMODAL) ck_assert_int_gt(slow, 20);
    }
}
END_TEST

/* network.latency off (no peer latency, no clogs): the configured ranges cost nothing, for
 * every operation and shape. */
START_TEST(test_latency_off_is_zero) {
    static const int64_t shapes[] = {FAULT_NETWORK_UNIFORM, FAULT_NETWORK_EXPONENTIAL,
                                     FAULT_NETWORK_BIMODAL};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        struct sched_config config = defaults();
        config.network_latency = 0;
        config.network_latency_shape = shapes[s];
        set_range(&config, FAULT_NETWORK_CONNECT, 500 * MILLISECOND_NS, 900 * MILLISECOND_NS);
        set_range(&config, FAULT_NETWORK_WRITE, 100 * MILLISECOND_NS, 900 * MILLISECOND_NS);
        struct sched_prng stream = network_stream(5);
        for (int i = 0; i < 1000; i++)
            ck_assert_int_eq(
                decide_usual(&config, &stream, all_ops[i % OP_COUNT], i % 3 != 0).latency_ns, 0);
        /* With the model on, the same operations cost time (so the zero above is the switch). */
        config.network_latency = 1;
        ck_assert_int_gt(decide_usual(&config, &stream, FAULT_NETWORK_CONNECT, 1).latency_ns, 0);
    }
}
END_TEST

/* moonshim.conf(5): with network.latency off, operations "take only network.peer_latency (and a
 * clog's delay)". */
START_TEST(test_latency_off_keeps_peer_and_clog) {
    struct sched_config config = defaults();
    config.network_latency = 0;
    config.network_peer_latency_ns = 3 * MILLISECOND_NS;
    struct sched_prng stream = network_stream(14);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(decide_usual(&config, &stream, all_ops[i % OP_COUNT], i % 2).latency_ns,
                         3 * MILLISECOND_NS);
    config.network_clog = ONE;
    for (int i = 0; i < 1000; i++) {
        int64_t extra =
            decide_usual(&config, &stream, all_ops[i % OP_COUNT], i % 2).latency_ns -
            3 * MILLISECOND_NS;
        ck_assert_int_ge(extra, CLOG_MIN_NS);
        ck_assert_int_le(extra, CLOG_MAX_NS);
    }
}
END_TEST

/* moonshim.conf(5) for storage: "A minimum above its maximum counts as the minimum." The network
 * ranges follow the same rule: an inverted range decides exactly as a range of its minimum. */
static void assert_inverted_range_counts_as_minimum(int64_t shape) {
    struct sched_config inverted = fixed_latency(0), collapsed = fixed_latency(0);
    inverted.network_latency_shape = collapsed.network_latency_shape = shape;
    for (size_t o = 0; o < OP_COUNT; o++) {
        set_range(&inverted, all_ops[o], 5000, 1000);
        set_range(&collapsed, all_ops[o], 5000, 5000);
    }
    struct sched_prng a = network_stream(6), b = network_stream(6);
    for (int i = 0; i < 2000; i++) {
        int op = all_ops[i % OP_COUNT];
        int64_t latency = decide_usual(&inverted, &a, op, 1).latency_ns;
        ck_assert_msg(latency == decide_usual(&collapsed, &b, op, 1).latency_ns,
                      "shape %lld, op %d: %lld ns with the range 5000..1000",
                      (long long)shape, op, (long long)latency);
        ck_assert_int_ge(latency, 5000);
    }
}

START_TEST(test_latency_minimum_above_maximum) {
    assert_inverted_range_counts_as_minimum(FAULT_NETWORK_UNIFORM);
    assert_inverted_range_counts_as_minimum(FAULT_NETWORK_BIMODAL);
}
END_TEST

/* exponential: never below the minimum, with the uniform shape's mean ((max - min) / 2 above the
 * minimum), more of its mass near the minimum than a uniform draw has, and a tail past the
 * maximum. For a true exponential of mean m, P(X < m / 2) = 0.39 and P(X > 2m) = 0.135; a
 * uniform draw on [0, 2m] gives 0.25 and 0. */
START_TEST(test_shape_exponential) {
    struct sched_config config = fixed_latency(0);
    config.network_latency_shape = FAULT_NETWORK_EXPONENTIAL;
    config.network_write_latency_min_ns = 100000;
    config.network_write_latency_max_ns = 300000;
    const int64_t mean = 100000;
    struct sched_prng stream = network_stream(7);
    int64_t sum = 0, highest = 0;
    int near_minimum = 0, past_maximum = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t latency = decide(&config, &stream, FAULT_NETWORK_WRITE, PAGE, 1).latency_ns;
        ck_assert_int_ge(latency, 100000);
        int64_t extra = latency - 100000;
        sum += extra;
        near_minimum += extra < mean / 2;
        past_maximum += latency > 300000;
        if (extra > highest) highest = extra;
    }
    ck_assert_int_gt(sum / 100000, mean * 9 / 10);
    ck_assert_int_lt(sum / 100000, mean * 11 / 10);
    ck_assert_int_gt(near_minimum, 33000);
    ck_assert_int_gt(past_maximum, 9000);
    ck_assert_int_lt(past_maximum, 18000);
    ck_assert_int_gt(highest, 6 * mean);
}
END_TEST

/* bimodal: uniform, but 1 operation in 100 is 10 times slower. */
START_TEST(test_shape_bimodal) {
    struct sched_config config = fixed_latency(0);
    config.network_latency_shape = FAULT_NETWORK_BIMODAL;
    config.network_read_latency_min_ns = 1000;
    config.network_read_latency_max_ns = 2000;
    struct sched_prng stream = network_stream(8);
    int slow = 0;
    int64_t fast_lowest = INT64_MAX, fast_highest = 0, slow_lowest = INT64_MAX, slow_highest = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t latency = decide(&config, &stream, FAULT_NETWORK_READ, PAGE, 1).latency_ns;
        if (latency >= 10000) {
            ck_assert_int_le(latency, 20000);
            slow++;
            if (latency < slow_lowest) slow_lowest = latency;
            if (latency > slow_highest) slow_highest = latency;
        } else {
            ck_assert_int_ge(latency, 1000);
            ck_assert_int_le(latency, 2000);
            if (latency < fast_lowest) fast_lowest = latency;
            if (latency > fast_highest) fast_highest = latency;
        }
    }
    /* 1000 expected, standard deviation 31. */
    ck_assert_int_gt(slow, 850);
    ck_assert_int_lt(slow, 1150);
    ck_assert_int_lt(fast_lowest, 1010);
    ck_assert_int_gt(fast_highest, 1990);
    ck_assert_int_lt(slow_lowest, 11000);
    ck_assert_int_gt(slow_highest, 19000);
}
END_TEST

/* The shape changes latencies only: with the same seed, every shape gives the same verdicts and
 * parameters, so choosing a shape never moves a fault. */
START_TEST(test_shape_changes_latency_only) {
    struct sched_config configs[3];
    struct sched_prng streams[3];
    for (int s = 0; s < 3; s++) {
        configs[s] = defaults();
        configs[s].network_latency_shape = s;
        configs[s].network_close = configs[s].network_short = ONE / 5;
        configs[s].network_eintr = configs[s].network_bit_flip = ONE / 5;
        configs[s].network_connect_refused = configs[s].network_accept_error = ONE / 5;
        streams[s] = network_stream(9);
    }
    int latency_differences = 0, faults = 0;
    for (int i = 0; i < 2000; i++) {
        int op = all_ops[i % OP_COUNT];
        struct fault_network_decision first = decide_usual(&configs[0], &streams[0], op, 1);
        for (int s = 1; s < 3; s++) {
            struct fault_network_decision other = decide_usual(&configs[s], &streams[s], op, 1);
            ck_assert_int_eq(other.verdict, first.verdict);
            ck_assert_uint_eq(other.parameter, first.parameter);
            latency_differences += other.latency_ns != first.latency_ns;
        }
        faults += first.verdict != FAULT_NETWORK_OK;
    }
    ck_assert_int_gt(faults, 400);
    ck_assert_int_gt(latency_differences, 1000);
}
END_TEST

/* network.clog: a clogged operation waits 100-300 ms more, at any site (it is a delay, not a
 * verdict), and it never changes the verdict. */
START_TEST(test_clog_always_and_never) {
    struct sched_config config = fixed_latency(1000);
    config.network_clog = ONE;
    struct sched_prng stream = network_stream(10);
    int64_t lowest = INT64_MAX, highest = 0;
    for (int i = 0; i < 4000; i++) {
        struct fault_network_decision decision =
            decide_usual(&config, &stream, all_ops[i % OP_COUNT], i % 2);
        ck_assert_int_eq(decision.verdict, FAULT_NETWORK_OK);
        int64_t extra = decision.latency_ns - 1000;
        ck_assert_int_ge(extra, CLOG_MIN_NS);
        ck_assert_int_le(extra, CLOG_MAX_NS);
        if (extra < lowest) lowest = extra;
        if (extra > highest) highest = extra;
    }
    ck_assert_int_lt(lowest, CLOG_MIN_NS + MILLISECOND_NS);
    ck_assert_int_gt(highest, CLOG_MAX_NS - MILLISECOND_NS);
    config.network_clog = 0;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(
            decide_usual(&config, &stream, all_ops[i % OP_COUNT], i % 2).latency_ns, 1000);
}
END_TEST

START_TEST(test_clog_rate_follows_probability) {
    struct sched_config config = fixed_latency(0);
    config.network_clog = ONE / 4;
    struct sched_prng stream = network_stream(11);
    int clogged = 0;
    for (int i = 0; i < 40000; i++) {
        int64_t latency = decide_usual(&config, &stream, all_ops[i % OP_COUNT], 1).latency_ns;
        ck_assert(latency == 0 || (latency >= CLOG_MIN_NS && latency <= CLOG_MAX_NS));
        clogged += latency != 0;
    }
    /* 10000 expected, standard deviation 87. */
    ck_assert_int_gt(clogged, 9500);
    ck_assert_int_lt(clogged, 10500);
}
END_TEST

START_TEST(test_latency_deterministic_per_seed) {
    struct sched_config config = defaults();
    config.network_clog = ONE / 10;
    struct sched_prng a = network_stream(12), b = network_stream(12), c = network_stream(13);
    int differences = 0;
    for (int i = 0; i < 400; i++) {
        int op = all_ops[i % OP_COUNT];
        int64_t latency = decide_usual(&config, &a, op, 1).latency_ns;
        ck_assert_int_eq(latency, decide_usual(&config, &b, op, 1).latency_ns);
        differences += latency != decide_usual(&config, &c, op, 1).latency_ns;
    }
    ck_assert_int_gt(differences, 380);
}
END_TEST

/* ---- Verdicts ---- */

#define OP_BIT(op) (1u << (op))
#define TRANSFERS (OP_BIT(FAULT_NETWORK_READ) | OP_BIT(FAULT_NETWORK_WRITE))
#define EVERY_OP (OP_BIT(FAULT_NETWORK_CONNECT) | OP_BIT(FAULT_NETWORK_ACCEPT) | TRANSFERS)

/* Each probabilistic fault: its field, the operations it strikes, and the verdict it gives. */
struct fault_family {
    const char *name;
    size_t offset;
    unsigned ops;    /* OP_BIT() of each operation it applies to */
    int32_t verdict; /* FIN stands for "FIN or RST", ABORTED for "ABORTED or EMFILE" */
};

static const struct fault_family families[] = {
    {"eintr", offsetof(struct sched_config, network_eintr), EVERY_OP, FAULT_NETWORK_EINTR},
    {"connect_refused", offsetof(struct sched_config, network_connect_refused),
     OP_BIT(FAULT_NETWORK_CONNECT), FAULT_NETWORK_REFUSED},
    {"connect_hang", offsetof(struct sched_config, network_connect_hang),
     OP_BIT(FAULT_NETWORK_CONNECT), FAULT_NETWORK_HANG},
    {"accept_error", offsetof(struct sched_config, network_accept_error),
     OP_BIT(FAULT_NETWORK_ACCEPT), FAULT_NETWORK_ABORTED},
    {"close", offsetof(struct sched_config, network_close), TRANSFERS, FAULT_NETWORK_FIN},
    {"half_open", offsetof(struct sched_config, network_half_open), OP_BIT(FAULT_NETWORK_WRITE),
     FAULT_NETWORK_HALF_OPEN},
    {"spurious_ready", offsetof(struct sched_config, network_spurious_ready),
     OP_BIT(FAULT_NETWORK_READ), FAULT_NETWORK_SPURIOUS},
    {"short", offsetof(struct sched_config, network_short), TRANSFERS, FAULT_NETWORK_SHORT},
    {"bit_flip", offsetof(struct sched_config, network_bit_flip), OP_BIT(FAULT_NETWORK_READ),
     FAULT_NETWORK_BIT_FLIP},
};

#define FAMILY_COUNT (sizeof(families) / sizeof(families[0]))

static int64_t *family_field(struct sched_config *config, const struct fault_family *family) {
    return (int64_t *)(void *)((char *)config + family->offset);
}

static int verdict_matches(const struct fault_family *family, int32_t verdict) {
    if (family->verdict == FAULT_NETWORK_FIN)
        return verdict == FAULT_NETWORK_FIN || verdict == FAULT_NETWORK_RST;
    if (family->verdict == FAULT_NETWORK_ABORTED)
        return verdict == FAULT_NETWORK_ABORTED || verdict == FAULT_NETWORK_EMFILE;
    return verdict == family->verdict;
}

/* The first operation a family applies to. */
static int first_op(const struct fault_family *family) {
    for (size_t o = 0; o < OP_COUNT; o++)
        if (family->ops & OP_BIT(all_ops[o])) return all_ops[o];
    ck_abort_msg("%s applies to no operation", family->name);
    return 0;
}

/* At probability 1 a family gives its verdict on every operation it applies to at an active
 * site, and nothing at an inactive one; other operations are never touched by it. */
START_TEST(test_each_fault_at_one) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        test_context = context_for(families[f].name);
        struct sched_config config = defaults();
        *family_field(&config, &families[f]) = ONE;
        struct sched_prng stream = network_stream(20 + f);
        for (int i = 0; i < 200; i++) {
            for (size_t o = 0; o < OP_COUNT; o++) {
                int op = all_ops[o];
                struct fault_network_decision decision = decide_usual(&config, &stream, op, 1);
                if (families[f].ops & OP_BIT(op))
                    ck_assert_msg(verdict_matches(&families[f], decision.verdict),
                                  "%s at 1: verdict %d for op %d at an active site",
                                  families[f].name, decision.verdict, op);
                else
                    ck_assert_msg(decision.verdict == FAULT_NETWORK_OK,
                                  "%s at 1: verdict %d for op %d", families[f].name,
                                  decision.verdict, op);
                decision = decide_usual(&config, &stream, op, 0);
                ck_assert_msg(decision.verdict == FAULT_NETWORK_OK,
                              "%s at 1: verdict %d at an inactive site", families[f].name,
                              decision.verdict);
                ck_assert_uint_eq(decision.parameter, 0);
            }
        }
    }
}
END_TEST

/* The default profile (every fault at 0) never fails anything, active site or not. */
START_TEST(test_probability_zero_never) {
    struct sched_config config = defaults();
    struct sched_prng stream = network_stream(30);
    for (int i = 0; i < DRAWS; i++) {
        struct fault_network_decision decision =
            decide(&config, &stream, all_ops[i % OP_COUNT], (uint64_t)i, i % 3 != 0);
        ck_assert_int_eq(decision.verdict, FAULT_NETWORK_OK);
        ck_assert_uint_eq(decision.parameter, 0);
    }
}
END_TEST

/* With every family at 1, each operation gets the verdict that comes first for it: EINTR, then
 * REFUSED and HANG for connects, ABORTED/EMFILE for accepts, FIN/RST for reads and writes,
 * HALF_OPEN for writes, SPURIOUS for reads, SHORT, BIT_FLIP for reads. Turning the winner off
 * gives the next one, down to OK. */
START_TEST(test_precedence) {
    static const struct {
        int op;
        unsigned context;
        const char *order[7]; /* family names, winner first; 0 ends */
    } chains[] = {
        {FAULT_NETWORK_CONNECT, 0, {"eintr", "connect_refused", "connect_hang", 0}},
        {FAULT_NETWORK_ACCEPT, 0, {"eintr", "accept_error", 0}},
        {FAULT_NETWORK_READ, 0, {"eintr", "close", "short", "bit_flip", 0}},
        {FAULT_NETWORK_WRITE, 0, {"eintr", "close", "half_open", "short", 0}},
        /* Where nothing blocks: no EINTR, no hang; a read may be spuriously not ready. */
        {FAULT_NETWORK_CONNECT, FAULT_NETWORK_NONBLOCKING, {"connect_refused", 0}},
        {FAULT_NETWORK_READ, FAULT_NETWORK_NONBLOCKING,
         {"close", "spurious_ready", "short", "bit_flip", 0}},
    };
    for (size_t c = 0; c < sizeof(chains) / sizeof(chains[0]); c++) {
        test_context = chains[c].context;
        struct sched_config config = defaults();
        for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE;
        struct sched_prng stream = network_stream(31);
        for (int step = 0; step < 7; step++) {
            const char *winner = chains[c].order[step];
            const struct fault_family *family = 0;
            for (size_t f = 0; winner && f < FAMILY_COUNT; f++)
                if (strcmp(families[f].name, winner) == 0) family = &families[f];
            for (int i = 0; i < 100; i++) {
                int32_t verdict = decide_usual(&config, &stream, chains[c].op, 1).verdict;
                if (family)
                    ck_assert_msg(verdict_matches(family, verdict),
                                  "op %d: verdict %d where %s comes first", chains[c].op,
                                  verdict, winner);
                else
                    ck_assert_msg(verdict == FAULT_NETWORK_OK, "op %d: verdict %d, none left",
                                  chains[c].op, verdict);
            }
            if (!family) break;
            *family_field(&config, family) = 0;
        }
    }
}
END_TEST

/* network.close_rst: the share of closes that are resets; 0.5 by default. */
START_TEST(test_close_rst_choice) {
    struct sched_config config = defaults();
    config.network_close = ONE;
    ck_assert_int_eq(config.network_close_rst, ONE / 2);
    struct sched_prng stream = network_stream(32);
    uint64_t counts[2] = {0}; /* FIN, RST */
    for (int i = 0; i < DRAWS; i++) {
        int32_t verdict = decide_usual(&config, &stream, all_ops[2 + i % 2], 1).verdict;
        ck_assert(verdict == FAULT_NETWORK_FIN || verdict == FAULT_NETWORK_RST);
        counts[verdict == FAULT_NETWORK_RST]++;
    }
    ck_assert_uint_gt(counts[0], 0);
    ck_assert_uint_gt(counts[1], 0);
    ck_assert_double_lt(unit_chi_square(counts, 2), 20.0);
    config.network_close_rst = 0;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(decide_usual(&config, &stream, all_ops[2 + i % 2], 1).verdict,
                         FAULT_NETWORK_FIN);
    config.network_close_rst = ONE;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(decide_usual(&config, &stream, all_ops[2 + i % 2], 1).verdict,
                         FAULT_NETWORK_RST);
    /* 25% resets: 2500 of 10000 expected, standard deviation 43. */
    config.network_close_rst = ONE / 4;
    int resets = 0;
    for (int i = 0; i < DRAWS; i++)
        resets += decide_usual(&config, &stream, FAULT_NETWORK_READ, 1).verdict ==
                  FAULT_NETWORK_RST;
    ck_assert_int_gt(resets, 2250);
    ck_assert_int_lt(resets, 2750);
}
END_TEST

/* An accept error is ECONNABORTED or EMFILE, at even odds. */
START_TEST(test_accept_error_even_odds) {
    struct sched_config config = defaults();
    config.network_accept_error = ONE;
    struct sched_prng stream = network_stream(33);
    uint64_t counts[2] = {0}; /* ABORTED, EMFILE */
    for (int i = 0; i < DRAWS; i++) {
        int32_t verdict = decide_usual(&config, &stream, FAULT_NETWORK_ACCEPT, 1).verdict;
        ck_assert(verdict == FAULT_NETWORK_ABORTED || verdict == FAULT_NETWORK_EMFILE);
        counts[verdict == FAULT_NETWORK_EMFILE]++;
    }
    ck_assert_uint_gt(counts[0], 0);
    ck_assert_uint_gt(counts[1], 0);
    ck_assert_double_lt(unit_chi_square(counts, 2), 20.0);
}
END_TEST

/* A short transfer moves from 1 byte to all but one; a transfer of 0 or 1 byte cannot be short. */
START_TEST(test_short_parameter_in_range) {
    struct sched_config config = defaults();
    config.network_short = ONE;
    struct sched_prng stream = network_stream(34);
    for (int op = FAULT_NETWORK_READ; op <= FAULT_NETWORK_WRITE; op++) {
        for (uint64_t length = 2; length < 200; length++) {
            for (int i = 0; i < 20; i++) {
                struct fault_network_decision decision = decide(&config, &stream, op, length, 1);
                ck_assert_int_eq(decision.verdict, FAULT_NETWORK_SHORT);
                ck_assert_uint_ge(decision.parameter, 1);
                ck_assert_uint_le(decision.parameter, length - 1);
            }
        }
        int seen[5] = {0};
        for (int i = 0; i < 1000; i++) seen[decide(&config, &stream, op, 5, 1).parameter] = 1;
        for (int count = 1; count <= 4; count++)
            ck_assert_msg(seen[count], "op %d: never %d of 5", op, count);
        ck_assert_int_eq(seen[0], 0);
        ck_assert_int_eq(decide(&config, &stream, op, 1, 1).verdict, FAULT_NETWORK_OK);
        ck_assert_int_eq(decide(&config, &stream, op, 0, 1).verdict, FAULT_NETWORK_OK);
        /* The largest transfers too: no overflow in the arithmetic. */
        struct fault_network_decision decision = decide(&config, &stream, op, UINT64_MAX, 1);
        ck_assert_int_eq(decision.verdict, FAULT_NETWORK_SHORT);
        ck_assert_uint_ge(decision.parameter, 1);
        ck_assert_uint_lt(decision.parameter, UINT64_MAX);
    }
}
END_TEST

/* The seeds of bit flips differ from one fault to the next. */
START_TEST(test_bit_flip_seeds_vary) {
    struct sched_config config = defaults();
    config.network_bit_flip = ONE;
    struct sched_prng stream = network_stream(35);
    uint64_t parameters[200];
    int repeats = 0;
    for (int i = 0; i < 200; i++) {
        struct fault_network_decision decision =
            decide(&config, &stream, FAULT_NETWORK_READ, PAGE, 1);
        ck_assert_int_eq(decision.verdict, FAULT_NETWORK_BIT_FLIP);
        parameters[i] = decision.parameter;
        for (int j = 0; j < i; j++) repeats += parameters[j] == parameters[i];
    }
    ck_assert_int_eq(repeats, 0);
}
END_TEST

/* Between 0 and 1 a fault strikes at its configured rate: 25% of 40000 is 10000 +- 87. */
START_TEST(test_fault_rate_follows_probability) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        test_context = context_for(families[f].name);
        struct sched_config config = defaults();
        *family_field(&config, &families[f]) = ONE / 4;
        struct sched_prng stream = network_stream(40 + f);
        int op = first_op(&families[f]);
        int struck = 0;
        for (int i = 0; i < 40000; i++)
            struck += decide_usual(&config, &stream, op, 1).verdict != FAULT_NETWORK_OK;
        ck_assert_msg(struck > 9500 && struck < 10500, "%s at 25%%: %d of 40000",
                      families[f].name, struck);
    }
}
END_TEST

/* Every family draws on every operation, on or off, so turning other families on never moves the
 * operations a family strikes: it can only be masked, on those same operations, by a family that
 * comes first. EINTR comes first everywhere and is never masked. */
START_TEST(test_family_strikes_independent_of_others) {
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        test_context = context_for(families[f].name);
        struct sched_config alone = defaults(), crowded = defaults();
        for (size_t g = 0; g < FAMILY_COUNT; g++) *family_field(&crowded, &families[g]) = ONE / 4;
        *family_field(&alone, &families[f]) = ONE / 3;
        *family_field(&crowded, &families[f]) = ONE / 3;
        struct sched_prng a = network_stream(55), b = network_stream(55);
        int struck = 0, kept = 0;
        for (int i = 0; i < 4000; i++) {
            int op = all_ops[i % OP_COUNT];
            int32_t by_itself = decide_usual(&alone, &a, op, 1).verdict;
            int32_t among_others = decide_usual(&crowded, &b, op, 1).verdict;
            int strikes = by_itself != FAULT_NETWORK_OK;
            ck_assert(!strikes || verdict_matches(&families[f], by_itself));
            if (verdict_matches(&families[f], among_others))
                ck_assert_msg(strikes, "%s struck op %d only with other families on",
                              families[f].name, i);
            if (strikes)
                ck_assert_msg(among_others != FAULT_NETWORK_OK,
                              "%s: op %d struck alone, not with other families on",
                              families[f].name, i);
            struck += strikes;
            kept += strikes && verdict_matches(&families[f], among_others);
        }
        ck_assert_int_gt(struck, 200);
        if (families[f].verdict == FAULT_NETWORK_EINTR) ck_assert_int_eq(kept, struck);
    }
}
END_TEST

/* Inactive sites draw as active ones do: which sites are active never moves the faults of the
 * others, and latency does not depend on activation at all. */
START_TEST(test_inactive_sites_draw_too) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE / 5;
    config.network_clog = ONE / 5;
    struct sched_prng a = network_stream(56), b = network_stream(56);
    int compared = 0;
    for (int i = 0; i < 3000; i++) {
        int op = all_ops[i % OP_COUNT];
        int active = i % 3 != 0;
        struct fault_network_decision everywhere = decide_usual(&config, &a, op, 1);
        struct fault_network_decision mixed = decide_usual(&config, &b, op, active);
        ck_assert_int_eq(mixed.latency_ns, everywhere.latency_ns);
        if (!active) continue;
        ck_assert_int_eq(mixed.verdict, everywhere.verdict);
        ck_assert_uint_eq(mixed.parameter, everywhere.parameter);
        compared += everywhere.verdict != FAULT_NETWORK_OK;
    }
    ck_assert_int_gt(compared, 500);
}
END_TEST

START_TEST(test_verdicts_deterministic_per_seed) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE / 5;
    struct sched_prng a = network_stream(60), b = network_stream(60), c = network_stream(61);
    int differences = 0;
    for (int i = 0; i < 1000; i++) {
        int op = all_ops[i % OP_COUNT];
        struct fault_network_decision first = decide_usual(&config, &a, op, 1);
        struct fault_network_decision second = decide_usual(&config, &b, op, 1);
        struct fault_network_decision third = decide_usual(&config, &c, op, 1);
        ck_assert_int_eq(first.verdict, second.verdict);
        ck_assert_uint_eq(first.parameter, second.parameter);
        ck_assert_int_eq(first.latency_ns, second.latency_ns);
        differences += first.verdict != third.verdict;
    }
    /* Two independent runs at these rates disagree on roughly a third of the verdicts. */
    ck_assert_int_gt(differences, 200);
}
END_TEST

/* ---- Regressions ---- */

/* Regression (found by this suite): a clogged operation drew its extra delay from the stream
 * after the family draws, and only when it was clogged, so every clog shifted the draws of all
 * later operations. Turning network.clog on then moved the operations every other family
 * strikes, against network.h's "one family's hits do not depend on the others". Clogging only
 * delays, so with it on the verdicts must be exactly those without it. */
START_TEST(test_clog_does_not_move_other_faults) {
    struct sched_config plain = defaults(), clogged = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        *family_field(&plain, &families[f]) = ONE / 5;
        *family_field(&clogged, &families[f]) = ONE / 5;
    }
    clogged.network_clog = ONE / 4;
    struct sched_prng a = network_stream(70), b = network_stream(70);
    for (int i = 0; i < 1000; i++) {
        int op = all_ops[i % OP_COUNT];
        struct fault_network_decision without = decide_usual(&plain, &a, op, 1);
        struct fault_network_decision with = decide_usual(&clogged, &b, op, 1);
        ck_assert_msg(with.verdict == without.verdict && with.parameter == without.parameter,
                      "op %d: verdict %d with clogging on, %d without", i, with.verdict,
                      without.verdict);
    }
}
END_TEST

/* Regression (found by this suite): the exponential shape computed its mean as (max - min) / 2
 * without the rule the uniform shape follows (a minimum above its maximum counts as the
 * minimum), so an inverted range gave a negative mean and latencies below the minimum, negative
 * ones among them: with 5000..1000, min - 2000 * k ns for k = 0, 1, 2, ... (and with
 * connect_latency_min = 500ms left above the default maximum of 11ms, down to -48 s). */
START_TEST(test_exponential_minimum_above_maximum) {
    assert_inverted_range_counts_as_minimum(FAULT_NETWORK_EXPONENTIAL);
}
END_TEST

/* enum fault_network_context: with every family at full strength, a verdict that cannot happen
 * to such an operation on Linux is never chosen; the others still are. */
START_TEST(test_context_rules_out_verdicts) {
    static const struct {
        unsigned context;
        int32_t never[4];
    } cases[] = {
        {FAULT_NETWORK_NONBLOCKING, {FAULT_NETWORK_EINTR, FAULT_NETWORK_HANG, -1, -1}},
        {0, {FAULT_NETWORK_SPURIOUS, -1, -1, -1}},
        {FAULT_NETWORK_NONBLOCKING | FAULT_NETWORK_EDGE_TRIGGERED,
         {FAULT_NETWORK_SHORT, FAULT_NETWORK_SPURIOUS, FAULT_NETWORK_EINTR, -1}},
        {FAULT_NETWORK_DATAGRAM,
         {FAULT_NETWORK_FIN, FAULT_NETWORK_RST, FAULT_NETWORK_HALF_OPEN, FAULT_NETWORK_SHORT}},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        test_context = cases[c].context;
        struct sched_config config = defaults();
        for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE / 2;
        struct sched_prng stream = network_stream(70 + c);
        int struck = 0;
        for (int i = 0; i < 4000; i++) {
            int32_t verdict = decide_usual(&config, &stream, all_ops[i % OP_COUNT], 1).verdict;
            for (int n = 0; n < 4; n++)
                ck_assert_msg(verdict != cases[c].never[n], "context %u: verdict %d",
                              cases[c].context, verdict);
            struck += verdict != FAULT_NETWORK_OK;
        }
        ck_assert_int_gt(struck, 1000); /* the other families still strike */
    }
}
END_TEST

/* The context changes which verdict is chosen, never what is drawn: streams stay in step. */
START_TEST(test_context_draws_the_same) {
    struct sched_config config = defaults();
    for (size_t f = 0; f < FAMILY_COUNT; f++) *family_field(&config, &families[f]) = ONE / 3;
    config.network_clog = ONE / 3;
    struct sched_prng a = network_stream(80), b = network_stream(80);
    for (int i = 0; i < 2000; i++) {
        int op = all_ops[i % OP_COUNT];
        test_context = 0;
        struct fault_network_decision plain = decide_usual(&config, &a, op, 1);
        test_context = FAULT_NETWORK_NONBLOCKING | FAULT_NETWORK_EDGE_TRIGGERED | FAULT_NETWORK_DATAGRAM;
        struct fault_network_decision constrained = decide_usual(&config, &b, op, 1);
        ck_assert_int_eq(plain.latency_ns, constrained.latency_ns);
    }
    ck_assert_mem_eq(&a, &b, sizeof(a));
    test_context = FAULT_NETWORK_NONBLOCKING;
}
END_TEST

static Suite *network_suite(void) {
    Suite *suite = suite_create("network");
    TCase *latency = tcase_create("latency");
    tcase_add_test(latency, test_latency_within_range_per_op);
    tcase_add_test(latency, test_latency_bounds_inclusive_and_uniform);
    tcase_add_test(latency, test_latency_defaults);
    tcase_add_test(latency, test_peer_latency_added);
    tcase_add_test(latency, test_latency_off_is_zero);
    tcase_add_test(latency, test_latency_off_keeps_peer_and_clog);
    tcase_add_test(latency, test_latency_minimum_above_maximum);
    tcase_add_test(latency, test_shape_exponential);
    tcase_add_test(latency, test_shape_bimodal);
    tcase_add_test(latency, test_shape_changes_latency_only);
    tcase_add_test(latency, test_clog_always_and_never);
    tcase_add_test(latency, test_clog_rate_follows_probability);
    tcase_add_test(latency, test_latency_deterministic_per_seed);
    suite_add_tcase(suite, latency);
    TCase *verdicts = tcase_create("verdicts");
    tcase_add_test(verdicts, test_each_fault_at_one);
    tcase_add_test(verdicts, test_probability_zero_never);
    tcase_add_test(verdicts, test_precedence);
    tcase_add_test(verdicts, test_close_rst_choice);
    tcase_add_test(verdicts, test_accept_error_even_odds);
    tcase_add_test(verdicts, test_short_parameter_in_range);
    tcase_add_test(verdicts, test_bit_flip_seeds_vary);
    tcase_add_test(verdicts, test_fault_rate_follows_probability);
    tcase_add_test(verdicts, test_family_strikes_independent_of_others);
    tcase_add_test(verdicts, test_inactive_sites_draw_too);
    tcase_add_test(verdicts, test_verdicts_deterministic_per_seed);
    tcase_add_test(verdicts, test_context_rules_out_verdicts);
    tcase_add_test(verdicts, test_context_draws_the_same);
    suite_add_tcase(suite, verdicts);
    TCase *regressions = tcase_create("regressions");
    tcase_add_test(regressions, test_clog_does_not_move_other_faults);
    tcase_add_test(regressions, test_exponential_minimum_above_maximum);
    suite_add_tcase(suite, regressions);
    return suite;
}

int main(void) {
    return unit_run(network_suite());
}
