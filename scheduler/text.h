/* text.h: bounded string building with no libc formatting (usable from a signal handler).
 *
 * Appends never overflow: output past the capacity is dropped and `truncated` is set, and the
 * buffer is always NUL-terminated. */
#ifndef MOON_SCHED_TEXT_H
#define MOON_SCHED_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct sched_text {
    char *buffer;
    size_t capacity; /* including the terminating NUL; must be >= 1 */
    size_t length;
    int truncated;
};

void sched_text_init(struct sched_text *text, char *buffer, size_t capacity);
void sched_text_char(struct sched_text *text, char character);
void sched_text_str(struct sched_text *text, const char *string);
void sched_text_bytes(struct sched_text *text, const char *bytes, size_t length);
void sched_text_u64(struct sched_text *text, uint64_t value);
void sched_text_i64(struct sched_text *text, int64_t value);
/* "0x" followed by exactly 16 lower-case hex digits. */
void sched_text_hex64(struct sched_text *text, uint64_t value);
/* A JSON string literal, quotes included; control characters escaped. */
void sched_text_json_string(struct sched_text *text, const char *string);

/* Parses an unsigned 64-bit number, decimal or 0x-hex, whole string. 0 on success, -1 otherwise. */
int sched_text_parse_u64(const char *string, uint64_t *value);

#endif
