/* text.c: bounded string building and number parsing. */
#include "text.h"

void sched_text_init(struct sched_text *text, char *buffer, size_t capacity) {
    text->buffer = buffer;
    text->capacity = capacity;
    text->length = 0;
    text->truncated = 0;
    if (capacity > 0) buffer[0] = '\0';
}

void sched_text_char(struct sched_text *text, char character) {
    if (text->length + 1 >= text->capacity) {
        text->truncated = 1;
        return;
    }
    text->buffer[text->length++] = character;
    text->buffer[text->length] = '\0';
}

void sched_text_bytes(struct sched_text *text, const char *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) sched_text_char(text, bytes[i]);
}

void sched_text_str(struct sched_text *text, const char *string) {
    while (*string) sched_text_char(text, *string++);
}

void sched_text_u64(struct sched_text *text, uint64_t value) {
    char digits[20];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0) sched_text_char(text, digits[--count]);
}

void sched_text_i64(struct sched_text *text, int64_t value) {
    if (value < 0) {
        sched_text_char(text, '-');
        sched_text_u64(text, (uint64_t)0 - (uint64_t)value);
    } else {
        sched_text_u64(text, (uint64_t)value);
    }
}

void sched_text_hex64(struct sched_text *text, uint64_t value) {
    static const char hex[] = "0123456789abcdef";
    sched_text_str(text, "0x");
    for (int shift = 60; shift >= 0; shift -= 4) sched_text_char(text, hex[(value >> shift) & 0xf]);
}

void sched_text_json_string(struct sched_text *text, const char *string) {
    static const char hex[] = "0123456789abcdef";
    sched_text_char(text, '"');
    for (; *string; string++) {
        unsigned char c = (unsigned char)*string;
        if (c == '"' || c == '\\') {
            sched_text_char(text, '\\');
            sched_text_char(text, (char)c);
        } else if (c < 0x20) {
            sched_text_str(text, "\\u00");
            sched_text_char(text, hex[c >> 4]);
            sched_text_char(text, hex[c & 0xf]);
        } else {
            sched_text_char(text, (char)c);
        }
    }
    sched_text_char(text, '"');
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sched_text_parse_u64(const char *string, uint64_t *value) {
    uint64_t result = 0;
    if (string[0] == '0' && (string[1] == 'x' || string[1] == 'X')) {
        string += 2;
        if (*string == '\0') return -1;
        for (int digits = 0; *string; string++, digits++) {
            int digit = hex_digit(*string);
            if (digit < 0 || digits >= 16) return -1;
            result = result << 4 | (uint64_t)digit;
        }
    } else {
        if (*string == '\0') return -1;
        for (; *string; string++) {
            if (*string < '0' || *string > '9') return -1;
            uint64_t digit = (uint64_t)(*string - '0');
            if (result > (UINT64_MAX - digit) / 10) return -1;
            result = result * 10 + digit;
        }
    }
    *value = result;
    return 0;
}
