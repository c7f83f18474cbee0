/* config.c: the key table and the INI and override parsers. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "text.h"

enum config_type {
    CONFIG_DURATION, /* int64 nanoseconds, written with a unit */
    CONFIG_INTEGER,  /* int64, plain decimal (may be negative) */
    CONFIG_BOOLEAN,  /* 0 or 1, written on/off, true/false, yes/no, 1/0 */
};

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;
    int64_t default_value;
    int64_t minimum;
    int64_t maximum;
};

/* 2026-01-01T00:00:00Z: a fixed, recent instant, so certificates and date arithmetic look sane. */
#define DEFAULT_EPOCH_S 1767225600
#define SECOND_NS 1000000000ll

static const struct config_key config_keys[] = {
    /* Up to 2255: epoch seconds in nanoseconds must fit an int64 with room for the run. */
    {"time.epoch", CONFIG_INTEGER, offsetof(struct sched_config, time_epoch_s), DEFAULT_EPOCH_S,
     0, 9000000000ll},
    {"time.uptime", CONFIG_DURATION, offsetof(struct sched_config, time_uptime_ns),
     100 * SECOND_NS, 1, 100ll * 365 * 86400 * SECOND_NS},
    {"time.call_cost", CONFIG_DURATION, offsetof(struct sched_config, time_call_cost_ns), 0, 0,
     SECOND_NS},
    {"time.call_jitter", CONFIG_DURATION, offsetof(struct sched_config, time_call_jitter_ns), 0,
     0, SECOND_NS},
    {"time.cpu_per_call", CONFIG_DURATION, offsetof(struct sched_config, time_cpu_per_call_ns),
     1000, 0, SECOND_NS},
    {"threads.chaos", CONFIG_BOOLEAN, offsetof(struct sched_config, threads_chaos), 0, 0, 1},
    {"threads.livelock_calls", CONFIG_INTEGER,
     offsetof(struct sched_config, threads_livelock_calls), 10000000, 0, 1ll << 62},
    {"threads.pin", CONFIG_BOOLEAN, offsetof(struct sched_config, threads_pin), 1, 0, 1},
    {"threads.stall_timeout", CONFIG_DURATION,
     offsetof(struct sched_config, threads_stall_timeout_ns), 10 * SECOND_NS, 0,
     86400 * SECOND_NS},
};

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

/* The INI sections DESIGN.md fixes; a known section with no keys yet still parses, so a config
 * written for a later version fails on its key, with a precise message, not on its header. */
static const char *const config_sections[] = {
    "time", "threads", "network", "storage", "process", "cluster",
    "workload", "check", "chaos", "attrition",
};

static int64_t *config_field(struct sched_config *config, const struct config_key *key) {
    return (int64_t *)(void *)((char *)config + key->offset);
}

void sched_config_defaults(struct sched_config *config) {
    memset(config, 0, sizeof(*config));
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        *config_field(config, &config_keys[i]) = config_keys[i].default_value;
}

static void set_error(struct sched_config_error *error, int line, const char *key,
                      const char *message, const char *detail) {
    error->line = line;
    struct sched_text text;
    sched_text_init(&text, error->key, sizeof(error->key));
    sched_text_str(&text, key);
    sched_text_init(&text, error->message, sizeof(error->message));
    sched_text_str(&text, message);
    if (detail) sched_text_str(&text, detail);
}

int sched_config_parse_duration(const char *text, int64_t *nanoseconds) {
    static const struct {
        const char *suffix;
        int64_t scale;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", SECOND_NS},
                 {"m", 60 * SECOND_NS}, {"h", 3600 * SECOND_NS}};
    size_t digits = 0;
    uint64_t value = 0;
    while (text[digits] >= '0' && text[digits] <= '9') {
        uint64_t digit = (uint64_t)(text[digits] - '0');
        if (value > (uint64_t)(INT64_MAX - 9) / 10) return -1;
        value = value * 10 + digit;
        digits++;
    }
    if (digits == 0) return -1;
    const char *suffix = text + digits;
    if (*suffix == '\0') {
        if (value != 0) return -1; /* a bare number is ambiguous, except zero */
        *nanoseconds = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(suffix, units[i].suffix) != 0) continue;
        if (value > (uint64_t)(INT64_MAX / units[i].scale)) return -1;
        *nanoseconds = (int64_t)value * units[i].scale;
        return 0;
    }
    return -1;
}

static int parse_integer(const char *text, int64_t *result) {
    int negative = text[0] == '-';
    uint64_t magnitude;
    if (sched_text_parse_u64(text + negative, &magnitude) != 0) return -1;
    if (magnitude > (uint64_t)INT64_MAX) return -1;
    *result = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return 0;
}

static int parse_boolean(const char *text, int64_t *result) {
    static const char *const truths[] = {"1", "on", "true", "yes"};
    static const char *const lies[] = {"0", "off", "false", "no"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, truths[i]) == 0) {
            *result = 1;
            return 0;
        }
        if (strcmp(text, lies[i]) == 0) {
            *result = 0;
            return 0;
        }
    }
    return -1;
}

static const struct config_key *find_key(const char *name) {
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
    return 0;
}

int sched_config_try_set(struct sched_config *config, const char *name, const char *value,
                         struct sched_config_error *error) {
    const struct config_key *key = find_key(name);
    if (!key) {
        set_error(error, 0, name, "unknown key", 0);
        return -1;
    }
    int64_t parsed = 0;
    int failed;
    const char *expected;
    switch (key->type) {
    case CONFIG_DURATION:
        failed = sched_config_parse_duration(value, &parsed);
        expected = "not a duration (a whole number with ns, us, ms, s, m or h): ";
        break;
    case CONFIG_BOOLEAN:
        failed = parse_boolean(value, &parsed);
        expected = "not a boolean (on/off, true/false, yes/no, 1/0): ";
        break;
    default:
        failed = parse_integer(value, &parsed);
        expected = "not an integer: ";
        break;
    }
    if (failed) {
        set_error(error, 0, name, expected, value);
        return -1;
    }
    if (parsed < key->minimum) {
        set_error(error, 0, name, "value below the minimum: ", value);
        return -1;
    }
    if (parsed > key->maximum) {
        set_error(error, 0, name, "value above the maximum: ", value);
        return -1;
    }
    *config_field(config, key) = parsed;
    return 0;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies [begin, end) into out with surrounding white space removed; -1 if it does not fit. */
static int copy_trimmed(const char *begin, const char *end, char *out, size_t capacity) {
    while (begin < end && is_space(*begin)) begin++;
    while (end > begin && is_space(end[-1])) end--;
    size_t length = (size_t)(end - begin);
    if (length + 1 > capacity) return -1;
    memcpy(out, begin, length);
    out[length] = '\0';
    return 0;
}

static int known_section(const char *name) {
    for (size_t i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]); i++)
        if (strcmp(config_sections[i], name) == 0) return 1;
    return 0;
}

/* Handles one INI line that is not blank or a comment. */
static int parse_ini_line(struct sched_config *config, const char *begin, const char *end,
                          char *section, int line, struct sched_config_error *error) {
    if (*begin == '[') {
        const char *close = memchr(begin, ']', (size_t)(end - begin));
        if (!close || copy_trimmed(begin + 1, close, section, SCHED_CONFIG_KEY_MAX) != 0) {
            set_error(error, line, "", "malformed section header", 0);
            return -1;
        }
        if (!known_section(section)) {
            set_error(error, line, section, "unknown section", 0);
            return -1;
        }
        return 0;
    }
    const char *equals = memchr(begin, '=', (size_t)(end - begin));
    char key[SCHED_CONFIG_KEY_MAX], value[SCHED_CONFIG_VALUE_MAX], full[SCHED_CONFIG_KEY_MAX];
    if (!equals || copy_trimmed(begin, equals, key, sizeof(key)) != 0 ||
        copy_trimmed(equals + 1, end, value, sizeof(value)) != 0 || key[0] == '\0') {
        set_error(error, line, "", "expected 'key = value'", 0);
        return -1;
    }
    if (section[0] == '\0') {
        set_error(error, line, key, "key outside any [section]", 0);
        return -1;
    }
    struct sched_text text;
    sched_text_init(&text, full, sizeof(full));
    sched_text_str(&text, section);
    sched_text_char(&text, '.');
    sched_text_str(&text, key);
    if (sched_config_try_set(config, full, value, error) != 0) {
        error->line = line;
        return -1;
    }
    return 0;
}

int sched_config_try_parse_ini(struct sched_config *config, const char *text, size_t length,
                               struct sched_config_error *error) {
    char section[SCHED_CONFIG_KEY_MAX] = "";
    const char *cursor = text;
    const char *limit = text + length;
    for (int line = 1; cursor < limit; line++) {
        const char *newline = memchr(cursor, '\n', (size_t)(limit - cursor));
        const char *end = newline ? newline : limit;
        if (end - cursor > SCHED_CONFIG_LINE_MAX) {
            set_error(error, line, "", "line too long", 0);
            return -1;
        }
        const char *begin = cursor;
        while (begin < end && is_space(*begin)) begin++;
        if (begin < end && *begin != '#' && *begin != ';') {
            if (parse_ini_line(config, begin, end, section, line, error) != 0) return -1;
        }
        cursor = newline ? newline + 1 : limit;
    }
    return 0;
}

int sched_config_try_parse_overrides(struct sched_config *config, const char *text,
                                     struct sched_config_error *error) {
    const char *cursor = text;
    for (int item = 1; *cursor; item++) {
        const char *comma = strchr(cursor, ',');
        const char *end = comma ? comma : cursor + strlen(cursor);
        const char *equals = memchr(cursor, '=', (size_t)(end - cursor));
        char key[SCHED_CONFIG_KEY_MAX], value[SCHED_CONFIG_VALUE_MAX];
        if (!equals || copy_trimmed(cursor, equals, key, sizeof(key)) != 0 ||
            copy_trimmed(equals + 1, end, value, sizeof(value)) != 0 || key[0] == '\0') {
            char item_text[SCHED_CONFIG_KEY_MAX];
            copy_trimmed(cursor, end < cursor + sizeof(item_text) - 1 ? end
                                                                      : cursor + sizeof(item_text) - 1,
                         item_text, sizeof(item_text));
            set_error(error, item, item_text, "expected 'key=value'", 0);
            return -1;
        }
        if (sched_config_try_set(config, key, value, error) != 0) {
            error->line = item;
            return -1;
        }
        cursor = comma ? comma + 1 : end;
    }
    return 0;
}

size_t sched_config_to_json(const struct sched_config *config, char *buffer, size_t capacity) {
    struct sched_text text;
    sched_text_init(&text, buffer, capacity);
    sched_text_char(&text, '{');
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        if (i > 0) sched_text_char(&text, ',');
        sched_text_json_string(&text, key->name);
        sched_text_char(&text, ':');
        sched_text_i64(&text, *(const int64_t *)(const void *)((const char *)config + key->offset));
    }
    sched_text_char(&text, '}');
    return text.truncated ? 0 : text.length;
}
