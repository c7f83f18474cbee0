/* test_text.c: unit suite for scheduler/text.c: bounded appends, numbers, JSON strings, parsing. */
#include <stdint.h>
#include <string.h>

#include "scheduler/text.h"
#include "unit.h"

#define CANARY 0x5a

/* A buffer with canary bytes past the capacity, to catch writes beyond it. */
static char storage[64];

static struct sched_text text_of(size_t capacity) {
    memset(storage, CANARY, sizeof(storage));
    struct sched_text text;
    sched_text_init(&text, storage, capacity);
    return text;
}

static void assert_canaries_from(size_t offset) {
    for (size_t i = offset; i < sizeof(storage); i++) ck_assert_int_eq(storage[i], CANARY);
}

START_TEST(test_init_is_empty) {
    struct sched_text text = text_of(16);
    ck_assert_str_eq(storage, "");
    ck_assert_uint_eq(text.length, 0);
    ck_assert_int_eq(text.truncated, 0);
    assert_canaries_from(1);
}
END_TEST

START_TEST(test_appends) {
    struct sched_text text = text_of(32);
    sched_text_char(&text, '[');
    sched_text_str(&text, "abc");
    sched_text_str(&text, "");
    sched_text_bytes(&text, "xyz!", 3);
    sched_text_char(&text, ']');
    ck_assert_str_eq(storage, "[abcxyz]");
    ck_assert_uint_eq(text.length, 8);
    ck_assert_int_eq(text.truncated, 0);
}
END_TEST

START_TEST(test_bytes_keep_embedded_nul) {
    struct sched_text text = text_of(8);
    sched_text_bytes(&text, "a\0b", 3);
    ck_assert_uint_eq(text.length, 3);
    ck_assert_mem_eq(storage, "a\0b\0", 4);
}
END_TEST

START_TEST(test_truncation_never_overflows) {
    struct sched_text text = text_of(4);
    sched_text_str(&text, "abcdef");
    ck_assert_str_eq(storage, "abc");
    ck_assert_uint_eq(text.length, 3);
    ck_assert_int_ne(text.truncated, 0);
    sched_text_char(&text, 'g');
    ck_assert_str_eq(storage, "abc");
    assert_canaries_from(4);
}
END_TEST

START_TEST(test_exact_fit_is_not_truncated) {
    struct sched_text text = text_of(4);
    sched_text_str(&text, "abc");
    ck_assert_str_eq(storage, "abc");
    ck_assert_int_eq(text.truncated, 0);
}
END_TEST

START_TEST(test_capacity_one_holds_only_nul) {
    struct sched_text text = text_of(1);
    sched_text_char(&text, 'x');
    ck_assert_str_eq(storage, "");
    ck_assert_uint_eq(text.length, 0);
    ck_assert_int_ne(text.truncated, 0);
    assert_canaries_from(1);
}
END_TEST

START_TEST(test_u64) {
    struct sched_text text = text_of(64);
    sched_text_u64(&text, 0);
    sched_text_char(&text, ' ');
    sched_text_u64(&text, 7);
    sched_text_char(&text, ' ');
    sched_text_u64(&text, 1234567890);
    sched_text_char(&text, ' ');
    sched_text_u64(&text, UINT64_MAX);
    ck_assert_str_eq(storage, "0 7 1234567890 18446744073709551615");
}
END_TEST

START_TEST(test_i64) {
    struct sched_text text = text_of(64);
    sched_text_i64(&text, -1);
    sched_text_char(&text, ' ');
    sched_text_i64(&text, INT64_MIN);
    sched_text_char(&text, ' ');
    sched_text_i64(&text, INT64_MAX);
    sched_text_char(&text, ' ');
    sched_text_i64(&text, 0);
    ck_assert_str_eq(storage, "-1 -9223372036854775808 9223372036854775807 0");
}
END_TEST

START_TEST(test_number_truncated) {
    struct sched_text text = text_of(4);
    sched_text_u64(&text, 123456);
    ck_assert_str_eq(storage, "123");
    ck_assert_int_ne(text.truncated, 0);
}
END_TEST

START_TEST(test_hex64) {
    struct sched_text text = text_of(64);
    sched_text_hex64(&text, 0);
    sched_text_char(&text, ' ');
    sched_text_hex64(&text, 0xdeadbeef);
    sched_text_char(&text, ' ');
    sched_text_hex64(&text, UINT64_MAX);
    ck_assert_str_eq(storage,
                     "0x0000000000000000 0x00000000deadbeef 0xffffffffffffffff");
}
END_TEST

START_TEST(test_json_plain_and_empty) {
    struct sched_text text = text_of(64);
    sched_text_json_string(&text, "time.epoch");
    sched_text_json_string(&text, "");
    ck_assert_str_eq(storage, "\"time.epoch\"\"\"");
}
END_TEST

START_TEST(test_json_escapes) {
    struct sched_text text = text_of(64);
    sched_text_json_string(&text, "a\"b\\c\nd\x01\x1f\t");
    ck_assert_str_eq(storage, "\"a\\\"b\\\\c\\u000ad\\u0001\\u001f\\u0009\"");
    ck_assert_int_eq(text.truncated, 0);
}
END_TEST

/* DEL and bytes above 0x7f (UTF-8) are legal inside a JSON string and pass through unchanged. */
START_TEST(test_json_passes_high_bytes) {
    struct sched_text text = text_of(64);
    sched_text_json_string(&text, "\x7f\xc3\xa9/");
    ck_assert_str_eq(storage, "\"\x7f\xc3\xa9/\"");
}
END_TEST

START_TEST(test_json_truncated) {
    struct sched_text text = text_of(6);
    sched_text_json_string(&text, "abcdef");
    ck_assert_str_eq(storage, "\"abcd");
    ck_assert_int_ne(text.truncated, 0);
    assert_canaries_from(6);
}
END_TEST

static void assert_parses(const char *string, uint64_t expected) {
    uint64_t value = 0xfeedull;
    ck_assert_msg(sched_text_parse_u64(string, &value) == 0, "\"%s\" should parse", string);
    ck_assert_uint_eq(value, expected);
}

static void assert_rejects(const char *string) {
    uint64_t value = 0xfeedull;
    ck_assert_msg(sched_text_parse_u64(string, &value) == -1, "\"%s\" should fail", string);
    ck_assert_uint_eq(value, 0xfeedull);
}

START_TEST(test_parse_decimal) {
    assert_parses("0", 0);
    assert_parses("42", 42);
    assert_parses("007", 7);
    assert_parses("18446744073709551615", UINT64_MAX);
    assert_parses("18446744073709551610", UINT64_MAX - 5);
}
END_TEST

START_TEST(test_parse_hex) {
    assert_parses("0x0", 0);
    assert_parses("0xff", 255);
    assert_parses("0XFF", 255);
    assert_parses("0xDeadBeef", 0xdeadbeef);
    assert_parses("0xffffffffffffffff", UINT64_MAX);
    assert_parses("0x0123456789abcdef", 0x0123456789abcdefull);
}
END_TEST

START_TEST(test_parse_overflow) {
    assert_rejects("18446744073709551616");
    assert_rejects("18446744073709551620");
    assert_rejects("99999999999999999999");
    assert_rejects("0x10000000000000000");
}
END_TEST

START_TEST(test_parse_junk) {
    assert_rejects("");
    assert_rejects("0x");
    assert_rejects("0xg");
    assert_rejects("0x1g");
    assert_rejects("12a");
    assert_rejects("a12");
    assert_rejects(" 1");
    assert_rejects("1 ");
    assert_rejects("-1");
    assert_rejects("+1");
    assert_rejects("1.5");
    assert_rejects("0x1 ");
    assert_rejects("x1");
}
END_TEST

static Suite *text_suite(void) {
    Suite *suite = suite_create("text");
    TCase *append = tcase_create("append");
    tcase_add_test(append, test_init_is_empty);
    tcase_add_test(append, test_appends);
    tcase_add_test(append, test_bytes_keep_embedded_nul);
    tcase_add_test(append, test_truncation_never_overflows);
    tcase_add_test(append, test_exact_fit_is_not_truncated);
    tcase_add_test(append, test_capacity_one_holds_only_nul);
    suite_add_tcase(suite, append);
    TCase *numbers = tcase_create("numbers");
    tcase_add_test(numbers, test_u64);
    tcase_add_test(numbers, test_i64);
    tcase_add_test(numbers, test_number_truncated);
    tcase_add_test(numbers, test_hex64);
    suite_add_tcase(suite, numbers);
    TCase *json = tcase_create("json");
    tcase_add_test(json, test_json_plain_and_empty);
    tcase_add_test(json, test_json_escapes);
    tcase_add_test(json, test_json_passes_high_bytes);
    tcase_add_test(json, test_json_truncated);
    suite_add_tcase(suite, json);
    TCase *parse = tcase_create("parse_u64");
    tcase_add_test(parse, test_parse_decimal);
    tcase_add_test(parse, test_parse_hex);
    tcase_add_test(parse, test_parse_overflow);
    tcase_add_test(parse, test_parse_junk);
    suite_add_tcase(suite, parse);
    return suite;
}

int main(void) {
    return unit_run(text_suite());
}
