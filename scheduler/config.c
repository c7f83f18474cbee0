/* config.c: the key table and the INI and override parsers. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "text.h"

enum config_type {
    CONFIG_DURATION, /* int64 nanoseconds, written with a unit */
    CONFIG_INTEGER,  /* int64, plain decimal (may be negative) */
    CONFIG_BOOLEAN,  /* 0 or 1, written on/off, true/false, yes/no, 1/0 */
    CONFIG_PROBABILITY, /* a fraction of SCHED_PROBABILITY_ONE */
    CONFIG_STRING,   /* a char array of SCHED_CONFIG_VALUE_MAX */
    CONFIG_SHAPE,    /* uniform, exponential or bimodal: 0, 1, 2 */
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
    {"time.external_wall", CONFIG_BOOLEAN, offsetof(struct sched_config, time_external_wall), 0,
     0, 1},
    {"threads.chaos", CONFIG_BOOLEAN, offsetof(struct sched_config, threads_chaos), 0, 0, 1},
    {"threads.livelock_calls", CONFIG_INTEGER,
     offsetof(struct sched_config, threads_livelock_calls), 10000000, 0, 1ll << 62},
    {"threads.pin", CONFIG_BOOLEAN, offsetof(struct sched_config, threads_pin), 1, 0, 1},
    {"threads.stall_timeout", CONFIG_DURATION,
     offsetof(struct sched_config, threads_stall_timeout_ns), 10 * SECOND_NS, 0,
     86400 * SECOND_NS},
#define STORAGE_PROBABILITY(name, field)                                                          \
    {name, CONFIG_PROBABILITY, offsetof(struct sched_config, field), 0, 0, SCHED_PROBABILITY_ONE}
#define LATENCY(name, field, default_ns)                                                          \
    {name, CONFIG_DURATION, offsetof(struct sched_config, field), default_ns, 0, SECOND_NS}
    {"storage.paths", CONFIG_STRING, offsetof(struct sched_config, storage_paths), 0, 0, 0},
    {"storage.latency", CONFIG_BOOLEAN, offsetof(struct sched_config, storage_latency), 1, 0, 1},
    LATENCY("storage.read_latency_min", storage_read_latency_min_ns, 50000),
    LATENCY("storage.read_latency_max", storage_read_latency_max_ns, 200000),
    LATENCY("storage.write_latency_min", storage_write_latency_min_ns, 100000),
    LATENCY("storage.write_latency_max", storage_write_latency_max_ns, 500000),
    LATENCY("storage.sync_latency_min", storage_sync_latency_min_ns, 1000000),
    LATENCY("storage.sync_latency_max", storage_sync_latency_max_ns, 5000000),
    {"storage.iops", CONFIG_INTEGER, offsetof(struct sched_config, storage_iops), 25000, 1,
     1000000000},
    {"storage.bandwidth", CONFIG_INTEGER, offsetof(struct sched_config, storage_bandwidth),
     150000000, 1, 1ll << 40},
    STORAGE_PROBABILITY("storage.read_corruption", storage_read_corruption),
    STORAGE_PROBABILITY("storage.write_corruption", storage_write_corruption),
    STORAGE_PROBABILITY("storage.misdirected_read", storage_misdirected_read),
    STORAGE_PROBABILITY("storage.misdirected_write", storage_misdirected_write),
    STORAGE_PROBABILITY("storage.phantom_write", storage_phantom_write),
    STORAGE_PROBABILITY("storage.sync_failure", storage_sync_failure),
    STORAGE_PROBABILITY("storage.write_error", storage_write_error),
    STORAGE_PROBABILITY("storage.short_write", storage_short_write),
    STORAGE_PROBABILITY("storage.stall", storage_stall),
    {"storage.stall_min", CONFIG_DURATION, offsetof(struct sched_config, storage_stall_min_ns),
     100000000, 0, 3600 * SECOND_NS},
    {"storage.stall_max", CONFIG_DURATION, offsetof(struct sched_config, storage_stall_max_ns),
     1000000000, 0, 3600 * SECOND_NS},
    {"storage.swarm", CONFIG_BOOLEAN, offsetof(struct sched_config, storage_swarm), 0, 0, 1},
    {"storage.fast_local", CONFIG_BOOLEAN, offsetof(struct sched_config, storage_fast_local), 0,
     0, 1},
    {"storage.fsyncgate", CONFIG_BOOLEAN, offsetof(struct sched_config, storage_fsyncgate), 0, 0,
     1},
    {"storage.torn_writes", CONFIG_BOOLEAN, offsetof(struct sched_config, storage_torn_writes), 1,
     0, 1},
    {"storage.lost_unsynced", CONFIG_PROBABILITY,
     offsetof(struct sched_config, storage_lost_unsynced), SCHED_PROBABILITY_ONE / 2, 0,
     SCHED_PROBABILITY_ONE},
    {"network.latency", CONFIG_BOOLEAN, offsetof(struct sched_config, network_latency), 1, 0, 1},
    {"network.latency_shape", CONFIG_SHAPE, offsetof(struct sched_config, network_latency_shape),
     0, 0, 2},
    LATENCY("network.connect_latency_min", network_connect_latency_min_ns, 1000000),
    LATENCY("network.connect_latency_max", network_connect_latency_max_ns, 11000000),
    LATENCY("network.accept_latency_min", network_accept_latency_min_ns, 1000000),
    LATENCY("network.accept_latency_max", network_accept_latency_max_ns, 6000000),
    LATENCY("network.read_latency_min", network_read_latency_min_ns, 10000),
    LATENCY("network.read_latency_max", network_read_latency_max_ns, 60000),
    LATENCY("network.write_latency_min", network_write_latency_min_ns, 100000),
    LATENCY("network.write_latency_max", network_write_latency_max_ns, 600000),
    LATENCY("network.peer_latency", network_peer_latency_ns, 0),
    STORAGE_PROBABILITY("network.connect_refused", network_connect_refused),
    STORAGE_PROBABILITY("network.connect_hang", network_connect_hang),
    STORAGE_PROBABILITY("network.close", network_close),
    {"network.close_rst", CONFIG_PROBABILITY, offsetof(struct sched_config, network_close_rst),
     SCHED_PROBABILITY_ONE / 2, 0, SCHED_PROBABILITY_ONE},
    STORAGE_PROBABILITY("network.half_open", network_half_open),
    STORAGE_PROBABILITY("network.short", network_short),
    STORAGE_PROBABILITY("network.clog", network_clog),
    STORAGE_PROBABILITY("network.bit_flip", network_bit_flip),
    STORAGE_PROBABILITY("network.eintr", network_eintr),
    STORAGE_PROBABILITY("network.spurious_ready", network_spurious_ready),
    STORAGE_PROBABILITY("network.accept_error", network_accept_error),
    {"network.swarm", CONFIG_BOOLEAN, offsetof(struct sched_config, network_swarm), 0, 0, 1},
    {"process.crash_at_call", CONFIG_INTEGER, offsetof(struct sched_config, process_crash_at_call),
     0, 0, 1ll << 62},
    {"process.crash_at", CONFIG_DURATION, offsetof(struct sched_config, process_crash_at_ns), 0, 0,
     100ll * 365 * 86400 * SECOND_NS},
    {"process.crash_probability", CONFIG_PROBABILITY,
     offsetof(struct sched_config, process_crash_probability), 0, 0, SCHED_PROBABILITY_ONE},
    {"process.terminate_at", CONFIG_DURATION,
     offsetof(struct sched_config, process_terminate_at_ns), 0, 0, 100ll * 365 * 86400 * SECOND_NS},
    {"process.terminate_probability", CONFIG_PROBABILITY,
     offsetof(struct sched_config, process_terminate_probability), 0, 0, SCHED_PROBABILITY_ONE},
    {"process.terminate_grace", CONFIG_DURATION,
     offsetof(struct sched_config, process_terminate_grace_ns), 10 * SECOND_NS, 0,
     100ll * 365 * 86400 * SECOND_NS},
    {"process.virtual_pids", CONFIG_BOOLEAN, offsetof(struct sched_config, process_virtual_pids),
     0, 0, 1},
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
        if (config_keys[i].type != CONFIG_STRING)
            *config_field(config, &config_keys[i]) = config_keys[i].default_value;
    /* The default modelled storage: the working directory the run starts in. */
    config->storage_paths[0] = '.';
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

int sched_config_parse_probability(const char *text, int64_t *q32) {
    /* Parsed by hand into an exact decimal (digits and a power of ten), so that the result never
     * depends on the C library's locale or floating point. */
    uint64_t digits = 0;
    int64_t exponent = 0;
    int seen_digit = 0, seen_point = 0;
    const char *cursor = text;
    for (; (*cursor >= '0' && *cursor <= '9') || *cursor == '.'; cursor++) {
        if (*cursor == '.') {
            if (seen_point) return -1;
            seen_point = 1;
            continue;
        }
        seen_digit = 1;
        if (digits > 100000000000000000ull) {
            /* Below resolution: drop the digit, but an integer digit still scales the value. */
            if (!seen_point) exponent++;
            continue;
        }
        digits = digits * 10 + (uint64_t)(*cursor - '0');
        if (seen_point) exponent--;
    }
    if (!seen_digit) return -1;
    if (*cursor == '%') {
        exponent -= 2;
        cursor++;
    } else if (*cursor == 'e' || *cursor == 'E') {
        int negative = cursor[1] == '-';
        cursor += 1 + (cursor[1] == '-' || cursor[1] == '+');
        if (*cursor < '0' || *cursor > '9') return -1;
        int64_t power = 0;
        for (; *cursor >= '0' && *cursor <= '9'; cursor++)
            if (power <= 40) power = power * 10 + (*cursor - '0'); /* bounded: no overflow */
        if (power > 40) return -1;
        exponent += negative ? -power : power;
    }
    if (*cursor != '\0') return -1;
    /* value = digits * 10^exponent; q32 = value * 2^32, rounded down. */
    __uint128_t scaled = (__uint128_t)digits << 32;
    for (; exponent > 0; exponent--) {
        scaled *= 10;
        if (scaled > ((__uint128_t)1 << 33)) return -1;
    }
    for (; exponent < 0; exponent++) scaled /= 10;
    if (scaled > ((__uint128_t)1 << 32)) return -1;
    *q32 = (int64_t)scaled;
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
    if (key->type == CONFIG_STRING) {
        char *field = (char *)config + key->offset;
        size_t length = strlen(value);
        if (length >= SCHED_CONFIG_VALUE_MAX) {
            set_error(error, 0, name, "value too long: ", value);
            return -1;
        }
        memcpy(field, value, length + 1);
        return 0;
    }
    switch (key->type) {
    case CONFIG_SHAPE:
        failed = strcmp(value, "uniform") == 0       ? (parsed = 0, 0)
                 : strcmp(value, "exponential") == 0 ? (parsed = 1, 0)
                 : strcmp(value, "bimodal") == 0     ? (parsed = 2, 0)
                                                     : -1;
        expected = "not a latency shape (uniform, exponential or bimodal): ";
        break;
    case CONFIG_PROBABILITY:
        failed = sched_config_parse_probability(value, &parsed);
        expected = "not a probability (a decimal from 0 to 1, or a percentage): ";
        break;
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
    if (!equals || copy_trimmed(begin, equals, key, sizeof(key)) != 0 || key[0] == '\0') {
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
    if (copy_trimmed(equals + 1, end, value, sizeof(value)) != 0) {
        set_error(error, line, full, "value too long (at most 255 characters)", 0);
        return -1;
    }
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
        if (key->type == CONFIG_STRING)
            sched_text_json_string(&text, (const char *)config + key->offset);
        else
            sched_text_i64(&text, *(const int64_t *)(const void *)((const char *)config + key->offset));
    }
    sched_text_char(&text, '}');
    return text.truncated ? 0 : text.length;
}
