/* test_hash.c: unit suite for scheduler/hash.c (64-bit FNV-1a over bytes and LE words).
 *
 * The string vectors are the published FNV-1a 64 test values, re-checked in Python. */
#include <stdint.h>
#include <string.h>

#include "scheduler/hash.h"
#include "unit.h"

static uint64_t hash_of_string(const char *string) {
    struct sched_hash hash;
    sched_hash_init(&hash);
    sched_hash_bytes(&hash, string, strlen(string));
    return hash.value;
}

START_TEST(test_initial_value_is_offset_basis) {
    struct sched_hash hash = {0};
    sched_hash_init(&hash);
    ck_assert_uint_eq(hash.value, 0xcbf29ce484222325ull);
    ck_assert_uint_eq(SCHED_HASH_INITIAL, 0xcbf29ce484222325ull);
}
END_TEST

START_TEST(test_known_strings) {
    ck_assert_uint_eq(hash_of_string(""), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(hash_of_string("a"), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(hash_of_string("foobar"), 0x85944171f73967e8ull);
}
END_TEST

START_TEST(test_bytes_are_incremental) {
    struct sched_hash hash;
    sched_hash_init(&hash);
    sched_hash_bytes(&hash, "foo", 3);
    sched_hash_bytes(&hash, "", 0);
    sched_hash_bytes(&hash, "bar", 3);
    ck_assert_uint_eq(hash.value, 0x85944171f73967e8ull);
}
END_TEST

START_TEST(test_zero_length_changes_nothing) {
    struct sched_hash hash = {0x123456789abcdef0ull};
    sched_hash_bytes(&hash, "ignored", 0);
    ck_assert_uint_eq(hash.value, 0x123456789abcdef0ull);
}
END_TEST

/* A word is hashed as its eight little-endian bytes, so the value is the same on every host. */
START_TEST(test_u64_is_little_endian_bytes) {
    static const unsigned char bytes[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    struct sched_hash word, raw;
    sched_hash_init(&word);
    sched_hash_init(&raw);
    sched_hash_u64(&word, 0x0102030405060708ull);
    sched_hash_bytes(&raw, bytes, sizeof(bytes));
    ck_assert_uint_eq(word.value, raw.value);
    ck_assert_uint_eq(word.value, 0x0c6d4496e17859d5ull);
}
END_TEST

START_TEST(test_u64_zero_is_eight_zero_bytes) {
    static const unsigned char zeros[8] = {0};
    struct sched_hash word, raw;
    sched_hash_init(&word);
    sched_hash_init(&raw);
    sched_hash_u64(&word, 0);
    sched_hash_bytes(&raw, zeros, sizeof(zeros));
    ck_assert_uint_eq(word.value, raw.value);
    ck_assert_uint_ne(word.value, SCHED_HASH_INITIAL);
}
END_TEST

START_TEST(test_order_matters) {
    struct sched_hash forward, backward;
    sched_hash_init(&forward);
    sched_hash_init(&backward);
    sched_hash_u64(&forward, 1);
    sched_hash_u64(&forward, 2);
    sched_hash_u64(&backward, 2);
    sched_hash_u64(&backward, 1);
    ck_assert_uint_ne(forward.value, backward.value);
}
END_TEST

/* Every single-bit word, and the empty stream, hash to distinct values. */
START_TEST(test_single_bits_distinct) {
    uint64_t values[65];
    for (int bit = 0; bit < 64; bit++) {
        struct sched_hash hash;
        sched_hash_init(&hash);
        sched_hash_u64(&hash, 1ull << bit);
        values[bit] = hash.value;
    }
    values[64] = SCHED_HASH_INITIAL;
    for (int i = 0; i < 65; i++)
        for (int j = i + 1; j < 65; j++) ck_assert_uint_ne(values[i], values[j]);
}
END_TEST

START_TEST(test_deterministic) {
    struct sched_hash a, b;
    sched_hash_init(&a);
    sched_hash_init(&b);
    for (uint64_t i = 0; i < 1000; i++) {
        sched_hash_u64(&a, i * 0x9e3779b97f4a7c15ull);
        sched_hash_u64(&b, i * 0x9e3779b97f4a7c15ull);
    }
    ck_assert_uint_eq(a.value, b.value);
}
END_TEST

static Suite *hash_suite(void) {
    Suite *suite = suite_create("hash");
    TCase *known = tcase_create("known_answers");
    tcase_add_test(known, test_initial_value_is_offset_basis);
    tcase_add_test(known, test_known_strings);
    tcase_add_test(known, test_u64_is_little_endian_bytes);
    suite_add_tcase(suite, known);
    TCase *properties = tcase_create("properties");
    tcase_add_test(properties, test_bytes_are_incremental);
    tcase_add_test(properties, test_zero_length_changes_nothing);
    tcase_add_test(properties, test_u64_zero_is_eight_zero_bytes);
    tcase_add_test(properties, test_order_matters);
    tcase_add_test(properties, test_single_bits_distinct);
    tcase_add_test(properties, test_deterministic);
    suite_add_tcase(suite, properties);
    return suite;
}

int main(void) {
    return unit_run(hash_suite());
}
