/* test_prng.c: unit suite for scheduler/prng.c (splitmix64, xoshiro256**, streams, draws).
 *
 * Known answers were computed independently (a Python transcription of the published algorithms);
 * the xoshiro256** vector from state {1, 2, 3, 4} is the one its reference implementation gives.
 * Every generator here is seeded, so the statistical bounds below are checked against one fixed
 * sequence: they cannot flake, but a biased or broken generator still lands far outside them. */
#include <stdint.h>
#include <string.h>

#include "scheduler/prng.h"
#include "unit.h"

#define STREAM_SEEDS 64

static struct sched_prng seeded(uint64_t seed) {
    struct sched_prng prng;
    sched_prng_seed(&prng, seed);
    return prng;
}

static struct sched_prng streamed(uint64_t seed, uint64_t stream) {
    struct sched_prng prng;
    sched_prng_stream(&prng, seed, stream);
    return prng;
}

START_TEST(test_splitmix64_known_answers) {
    uint64_t state = 0;
    ck_assert_uint_eq(sched_splitmix64(&state), 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(state, 0x9e3779b97f4a7c15ull);
    ck_assert_uint_eq(sched_splitmix64(&state), 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(sched_splitmix64(&state), 0x06c45d188009454full);
    ck_assert_uint_eq(sched_splitmix64(&state), 0xf88bb8a8724c81ecull);
}
END_TEST

START_TEST(test_xoshiro_reference_vector) {
    struct sched_prng prng = {{1, 2, 3, 4}};
    ck_assert_uint_eq(sched_prng_next(&prng), 11520);
    ck_assert_uint_eq(sched_prng_next(&prng), 0);
    ck_assert_uint_eq(sched_prng_next(&prng), 1509978240);
    ck_assert_uint_eq(sched_prng_next(&prng), 1215971899390074240ull);
}
END_TEST

START_TEST(test_seed_expands_through_splitmix) {
    struct sched_prng prng = seeded(0);
    ck_assert_uint_eq(prng.state[0], 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(prng.state[1], 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(prng.state[2], 0x06c45d188009454full);
    ck_assert_uint_eq(prng.state[3], 0xf88bb8a8724c81ecull);
    ck_assert_uint_eq(sched_prng_next(&prng), 0x99ec5f36cb75f2b4ull);
    ck_assert_uint_eq(sched_prng_next(&prng), 0xbf6e1f784956452aull);
    ck_assert_uint_eq(sched_prng_next(&prng), 0x1a5f849d4933e6e0ull);
}
END_TEST

/* Stream derivation is part of the replay format: these values must never change. */
START_TEST(test_stream_known_answers) {
    struct sched_prng prng = streamed(42, SCHED_STREAM_RANDOM);
    ck_assert_uint_eq(sched_prng_next(&prng), 0x64b49d0e53f13f96ull);
    ck_assert_uint_eq(sched_prng_next(&prng), 0xe8cdde179b860c54ull);
    prng = streamed(0, SCHED_STREAM_SCHEDULE);
    ck_assert_uint_eq(sched_prng_next(&prng), 0x4e3e2028af2e0e3aull);
}
END_TEST

START_TEST(test_same_seed_and_stream_same_sequence) {
    struct sched_prng a = streamed(0x1234, SCHED_STREAM_NETWORK);
    struct sched_prng b = streamed(0x1234, SCHED_STREAM_NETWORK);
    for (int i = 0; i < 1000; i++) ck_assert_uint_eq(sched_prng_next(&a), sched_prng_next(&b));
    struct sched_prng c = seeded(99);
    struct sched_prng d = seeded(99);
    for (int i = 0; i < 1000; i++) ck_assert_uint_eq(sched_prng_next(&c), sched_prng_next(&d));
}
END_TEST

/* Counts positions where two generators agree over `draws` draws. */
static int agreements(struct sched_prng a, struct sched_prng b, int draws) {
    int equal = 0;
    for (int i = 0; i < draws; i++) equal += sched_prng_next(&a) == sched_prng_next(&b);
    return equal;
}

START_TEST(test_different_seeds_differ) {
    ck_assert_int_eq(agreements(seeded(1), seeded(2), 1000), 0);
    ck_assert_int_eq(agreements(seeded(0), seeded(1ull << 63), 1000), 0);
    ck_assert_int_eq(agreements(streamed(1, 3), streamed(2, 3), 1000), 0);
}
END_TEST

START_TEST(test_different_streams_differ) {
    for (uint64_t a = 1; a < SCHED_STREAM_COUNT; a++)
        for (uint64_t b = a + 1; b < SCHED_STREAM_COUNT; b++)
            ck_assert_int_eq(agreements(streamed(7, a), streamed(7, b), 1000), 0);
    /* A stream is not its seed in disguise. */
    ck_assert_int_eq(agreements(streamed(7, 0), seeded(7), 1000), 0);
}
END_TEST

/* No (seed, stream) pair among many small ones collides: neighbouring seeds and streams must not
 * map onto each other by simple arithmetic. */
START_TEST(test_stream_first_values_distinct) {
    enum { total = STREAM_SEEDS * (SCHED_STREAM_COUNT - 1) };
    static uint64_t first[total];
    int count = 0;
    for (uint64_t seed = 0; seed < STREAM_SEEDS; seed++)
        for (uint64_t stream = 1; stream < SCHED_STREAM_COUNT; stream++) {
            struct sched_prng prng = streamed(seed, stream);
            first[count++] = sched_prng_next(&prng);
        }
    for (int i = 0; i < total; i++)
        for (int j = i + 1; j < total; j++) ck_assert_uint_ne(first[i], first[j]);
}
END_TEST

START_TEST(test_below_stays_in_bounds) {
    static const uint64_t bounds[] = {1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1,
                                      UINT64_MAX};
    struct sched_prng prng = seeded(5);
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++)
        for (int i = 0; i < 2000; i++)
            ck_assert_uint_lt(sched_prng_below(&prng, bounds[b]), bounds[b]);
}
END_TEST

START_TEST(test_below_one_is_zero) {
    struct sched_prng prng = seeded(6);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(sched_prng_below(&prng, 1), 0);
}
END_TEST

START_TEST(test_below_uniform_ten_buckets) {
    uint64_t counts[10] = {0};
    struct sched_prng prng = streamed(2024, SCHED_STREAM_SCHEDULE);
    for (int i = 0; i < 100000; i++) counts[sched_prng_below(&prng, 10)]++;
    /* 9 degrees of freedom: p = 0.001 at 27.9. A generator stuck on a few values, or skewed by a
     * few percent, lands in the hundreds. */
    ck_assert_double_lt(unit_chi_square(counts, 10), 30.0);
    for (int i = 0; i < 10; i++) ck_assert_uint_gt(counts[i], 9000);
}
END_TEST

/* With bound = 3 * 2^62, plain `next % bound` would put half of all draws in the lowest third;
 * rejection sampling keeps the thirds equal. This is the test that catches modulo bias. */
START_TEST(test_below_has_no_modulo_bias) {
    const uint64_t bound = 3ull << 62;
    uint64_t counts[3] = {0};
    struct sched_prng prng = seeded(77);
    for (int i = 0; i < 30000; i++) counts[sched_prng_below(&prng, bound) >> 62]++;
    ck_assert_double_lt(unit_chi_square(counts, 3), 20.0);
}
END_TEST

START_TEST(test_below_zero_panics) {
    struct sched_prng prng = seeded(1);
    sched_prng_below(&prng, 0);
}
END_TEST

START_TEST(test_range_inclusive_bounds) {
    struct sched_prng prng = seeded(8);
    int seen_low = 0, seen_high = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t value = sched_prng_range(&prng, 10, 20);
        ck_assert_uint_ge(value, 10);
        ck_assert_uint_le(value, 20);
        seen_low |= value == 10;
        seen_high |= value == 20;
    }
    ck_assert(seen_low);
    ck_assert(seen_high);
    ck_assert_uint_eq(sched_prng_range(&prng, 5, 5), 5);
}
END_TEST

START_TEST(test_range_at_the_top) {
    struct sched_prng prng = seeded(9);
    int seen[2] = {0, 0};
    for (int i = 0; i < 1000; i++) {
        uint64_t value = sched_prng_range(&prng, UINT64_MAX - 1, UINT64_MAX);
        ck_assert_uint_ge(value, UINT64_MAX - 1);
        seen[value - (UINT64_MAX - 1)] = 1;
    }
    ck_assert(seen[0] && seen[1]);
}
END_TEST

START_TEST(test_range_full_is_next) {
    struct sched_prng a = seeded(10);
    struct sched_prng b = seeded(10);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(sched_prng_range(&a, 0, UINT64_MAX), sched_prng_next(&b));
}
END_TEST

START_TEST(test_range_reversed_panics) {
    struct sched_prng prng = seeded(1);
    sched_prng_range(&prng, 5, 4);
}
END_TEST

START_TEST(test_chance_extremes) {
    struct sched_prng prng = seeded(11);
    for (int i = 0; i < 10000; i++) ck_assert_int_eq(sched_prng_chance(&prng, 0), 0);
    for (int i = 0; i < 10000; i++) ck_assert_int_ne(sched_prng_chance(&prng, UINT32_MAX), 0);
}
END_TEST

START_TEST(test_chance_quarter) {
    struct sched_prng prng = seeded(12);
    int hits = 0;
    for (int i = 0; i < 100000; i++) hits += sched_prng_chance(&prng, 1u << 30) != 0;
    ck_assert_int_gt(hits, 24000);
    ck_assert_int_lt(hits, 26000);
}
END_TEST

START_TEST(test_fill_zero_length_writes_nothing) {
    unsigned char buffer[8];
    memset(buffer, 0xa5, sizeof(buffer));
    struct sched_prng prng = seeded(0);
    struct sched_prng before = prng;
    sched_prng_fill(&prng, buffer, 0);
    for (size_t i = 0; i < sizeof(buffer); i++) ck_assert_uint_eq(buffer[i], 0xa5);
    ck_assert_mem_eq(&prng, &before, sizeof(prng));
}
END_TEST

START_TEST(test_fill_known_bytes_little_endian) {
    static const unsigned char expected[13] = {0xb4, 0xf2, 0x75, 0xcb, 0x36, 0x5f, 0xec,
                                               0x99, 0x2a, 0x45, 0x56, 0x49, 0x78};
    unsigned char buffer[16];
    memset(buffer, 0xa5, sizeof(buffer));
    struct sched_prng prng = seeded(0);
    sched_prng_fill(&prng, buffer, 13);
    ck_assert_mem_eq(buffer, expected, 13);
    for (int i = 13; i < 16; i++) ck_assert_uint_eq(buffer[i], 0xa5);
}
END_TEST

/* Fill consumes whole words: 13 bytes use two draws, whatever is left of the second is dropped. */
START_TEST(test_fill_consumes_whole_words) {
    unsigned char buffer[13];
    struct sched_prng filled = seeded(3);
    struct sched_prng twin = seeded(3);
    sched_prng_fill(&filled, buffer, sizeof(buffer));
    uint64_t word = sched_prng_next(&twin);
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(buffer[i], (word >> (8 * i)) & 0xff);
    word = sched_prng_next(&twin);
    for (int i = 8; i < 13; i++) ck_assert_uint_eq(buffer[i], (word >> (8 * (i - 8))) & 0xff);
    ck_assert_uint_eq(sched_prng_next(&filled), sched_prng_next(&twin));
}
END_TEST

START_TEST(test_fill_lengths) {
    for (size_t length = 1; length <= 40; length++) {
        unsigned char buffer[48];
        memset(buffer, 0xa5, sizeof(buffer));
        struct sched_prng prng = seeded(length);
        sched_prng_fill(&prng, buffer, length);
        for (size_t i = length; i < sizeof(buffer); i++) ck_assert_uint_eq(buffer[i], 0xa5);
        struct sched_prng twin = seeded(length);
        for (size_t words = 0; words < (length + 7) / 8; words++) sched_prng_next(&twin);
        ck_assert_uint_eq(sched_prng_next(&prng), sched_prng_next(&twin));
    }
}
END_TEST

static Suite *prng_suite(void) {
    Suite *suite = suite_create("prng");
    TCase *known = tcase_create("known_answers");
    tcase_add_test(known, test_splitmix64_known_answers);
    tcase_add_test(known, test_xoshiro_reference_vector);
    tcase_add_test(known, test_seed_expands_through_splitmix);
    tcase_add_test(known, test_stream_known_answers);
    suite_add_tcase(suite, known);
    TCase *streams = tcase_create("streams");
    tcase_add_test(streams, test_same_seed_and_stream_same_sequence);
    tcase_add_test(streams, test_different_seeds_differ);
    tcase_add_test(streams, test_different_streams_differ);
    tcase_add_test(streams, test_stream_first_values_distinct);
    suite_add_tcase(suite, streams);
    TCase *draws = tcase_create("draws");
    tcase_add_test(draws, test_below_stays_in_bounds);
    tcase_add_test(draws, test_below_one_is_zero);
    tcase_add_test(draws, test_below_uniform_ten_buckets);
    tcase_add_test(draws, test_below_has_no_modulo_bias);
    unit_add_death_test(draws, test_below_zero_panics);
    tcase_add_test(draws, test_range_inclusive_bounds);
    tcase_add_test(draws, test_range_at_the_top);
    tcase_add_test(draws, test_range_full_is_next);
    unit_add_death_test(draws, test_range_reversed_panics);
    tcase_add_test(draws, test_chance_extremes);
    tcase_add_test(draws, test_chance_quarter);
    suite_add_tcase(suite, draws);
    TCase *fill = tcase_create("fill");
    tcase_add_test(fill, test_fill_zero_length_writes_nothing);
    tcase_add_test(fill, test_fill_known_bytes_little_endian);
    tcase_add_test(fill, test_fill_consumes_whole_words);
    tcase_add_test(fill, test_fill_lengths);
    suite_add_tcase(suite, fill);
    return suite;
}

int main(void) {
    return unit_run(prng_suite());
}
